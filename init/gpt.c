// SPDX-License-Identifier: MIT
// GUID partition table checks and the growth of the last partition (the data partition).
#include <string.h>

#include "gpt.h"
#include "util.h"


static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

// The CRC-32 of the spec (ISO 3309, reflected, as zlib's).
uint32_t gpt_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

enum { H_SIZE = 12, H_CRC = 16, H_MY = 24, H_ALT = 32, H_FIRST = 40, H_LAST = 48,
       H_ENTRIES = 72, H_NENT = 80, H_ENTSZ = 84, H_ENTCRC = 88 };

static uint32_t header_crc(const uint8_t *hdr, uint32_t size)
{
	uint8_t tmp[GPT_SECTOR];
	memcpy(tmp, hdr, size);
	memset(tmp + H_CRC, 0, 4);
	return gpt_crc32(tmp, size);
}

enum gpt_err gpt_parse(const uint8_t *hdr, const uint8_t *entries, struct gpt *g)
{
	memset(g, 0, sizeof(*g));
	if (memcmp(hdr, "EFI PART", 8) != 0)
		return GPT_E_SIGNATURE;
	uint32_t size = util_le32(hdr + H_SIZE);
	if (size < 92 || size > GPT_SECTOR || header_crc(hdr, size) != util_le32(hdr + H_CRC))
		return GPT_E_HEADER;
	g->my_lba = util_le64(hdr + H_MY);
	g->alt_lba = util_le64(hdr + H_ALT);
	g->first_usable = util_le64(hdr + H_FIRST);
	g->last_usable = util_le64(hdr + H_LAST);
	g->entries_lba = util_le64(hdr + H_ENTRIES);
	g->nentries = util_le32(hdr + H_NENT);
	g->entry_size = util_le32(hdr + H_ENTSZ);
	if (g->my_lba != 1 || g->entries_lba != 2 || g->first_usable > g->last_usable ||
	    g->last_usable >= g->alt_lba)
		return GPT_E_HEADER;
	// Only the usual layout (128 entries of 128 bytes) is handled; it is what sfdisk writes.
	if (g->entry_size != GPT_ENTRY_SIZE || g->nentries == 0 || g->nentries > GPT_MAX_ENTRIES)
		return GPT_E_ENTRIES;
	if (gpt_crc32(entries, (size_t)g->nentries * g->entry_size) != util_le32(hdr + H_ENTCRC))
		return GPT_E_ENTRIES;
	return GPT_OK;
}

static int entry_used(const uint8_t *e)
{
	static const uint8_t zero[16];
	return memcmp(e, zero, 16) != 0;
}

enum gpt_err gpt_partition(const uint8_t *entries, const struct gpt *g, unsigned partno,
			   uint64_t *first, uint64_t *last)
{
	if (partno == 0 || partno > g->nentries)
		return GPT_E_PARTITION;
	const uint8_t *e = entries + (size_t)(partno - 1) * g->entry_size;
	if (!entry_used(e))
		return GPT_E_PARTITION;
	*first = util_le64(e + 32);
	*last = util_le64(e + 40);
	if (*first > *last || *first < g->first_usable || *last > g->last_usable)
		return GPT_E_PARTITION;
	return GPT_OK;
}

enum gpt_err gpt_grow_last(uint8_t *hdr, uint8_t *entries, uint8_t *backup_hdr,
			   uint64_t disk_sectors, unsigned partno, uint64_t *new_last)
{
	struct gpt g;
	enum gpt_err e = gpt_parse(hdr, entries, &g);
	if (e != GPT_OK)
		return e;
	uint64_t first, last;
	if ((e = gpt_partition(entries, &g, partno, &first, &last)) != GPT_OK)
		return e;
	for (unsigned i = 1; i <= g.nentries; i++) {
		uint64_t f, l;
		if (i != partno && gpt_partition(entries, &g, i, &f, &l) == GPT_OK && l >= first)
			return GPT_E_PARTITION;
	}
	// The backup array takes 32 sectors and the backup header one at the end of the disk.
	if (disk_sectors < 2 * (GPT_ENTRIES_BYTES / GPT_SECTOR) + 4)
		return GPT_E_NO_ROOM;
	uint64_t last_usable = disk_sectors - 1 - GPT_ENTRIES_BYTES / GPT_SECTOR - 1;
	uint64_t end = (last_usable + 1) / GPT_ALIGN * GPT_ALIGN - 1;
	if (end < last + GPT_ALIGN || end <= first)
		return GPT_E_NO_ROOM;

	uint8_t *ent = entries + (size_t)(partno - 1) * g.entry_size;
	put_le64(ent + 40, end);
	uint32_t size = util_le32(hdr + H_SIZE);
	put_le64(hdr + H_ALT, disk_sectors - 1);
	put_le64(hdr + H_LAST, last_usable);
	put_le32(hdr + H_ENTCRC, gpt_crc32(entries, (size_t)g.nentries * g.entry_size));
	put_le32(hdr + H_CRC, header_crc(hdr, size));

	memcpy(backup_hdr, hdr, GPT_SECTOR);
	put_le64(backup_hdr + H_MY, disk_sectors - 1);
	put_le64(backup_hdr + H_ALT, 1);
	put_le64(backup_hdr + H_ENTRIES, disk_sectors - 1 - GPT_ENTRIES_BYTES / GPT_SECTOR);
	put_le32(backup_hdr + H_CRC, header_crc(backup_hdr, size));
	*new_last = end;
	return GPT_OK;
}

const char *gpt_strerror(enum gpt_err e)
{
	switch (e) {
	case GPT_OK: return "ok";
	case GPT_E_SIGNATURE: return "no GPT signature";
	case GPT_E_HEADER: return "bad GPT header";
	case GPT_E_ENTRIES: return "bad GPT partition entries";
	case GPT_E_PARTITION: return "the data partition is not the last one";
	case GPT_E_NO_ROOM: return "no room to grow";
	}
	return "unknown error";
}

enum gpt_err gpt_fix_pmbr(uint8_t *mbr, uint64_t disk_sectors)
{
	if (mbr[510] != 0x55 || mbr[511] != 0xaa || mbr[446 + 4] != 0xee)
		return GPT_E_HEADER;
	uint64_t n = disk_sectors - 1;
	put_le32(mbr + 446 + 12, n > 0xffffffffu ? 0xffffffffu : (uint32_t)n);
	return GPT_OK;
}

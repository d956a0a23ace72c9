// SPDX-License-Identifier: MIT
// silo-init's GPT growth: a table as sfdisk writes it, grown to a larger disk, and tables
// that must be refused.
#include <stdint.h>
#include <string.h>

#include "gpt.h"
#include "test.h"

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint8_t hdr[GPT_SECTOR], ent[GPT_ENTRIES_BYTES], backup[GPT_SECTOR], mbr[GPT_SECTOR];

static void add_part(int i, uint64_t first, uint64_t last)
{
	uint8_t *e = ent + (size_t)i * GPT_ENTRY_SIZE;
	memset(e, 0x11 * (i + 1), 32);   // type and unique GUIDs: anything non-zero
	le64(e + 32, first);
	le64(e + 40, last);
}

static void seal(void)
{
	le32(hdr + 88, gpt_crc32(ent, sizeof(ent)));
	le32(hdr + 16, 0);
	le32(hdr + 16, gpt_crc32(hdr, 92));
}

// A 512 MiB disk: four partitions, the data partition (5) last.
static void make_table(uint64_t disk)
{
	memset(hdr, 0, sizeof(hdr));
	memset(ent, 0, sizeof(ent));
	memcpy(hdr, "EFI PART", 8);
	le32(hdr + 8, 0x10000);
	le32(hdr + 12, 92);
	le64(hdr + 24, 1);
	le64(hdr + 32, disk - 1);
	le64(hdr + 40, 34);
	le64(hdr + 48, disk - 34);
	le64(hdr + 72, 2);
	le32(hdr + 80, 128);
	le32(hdr + 84, 128);
	add_part(0, 2048, 4095);
	add_part(1, 4096, 36863);
	add_part(2, 36864, 135167);
	add_part(4, 135168, 397311);
	seal();
}

int main(void)
{
	CHECK(gpt_crc32((const uint8_t *)"123456789", 9) == 0xcbf43926, "gpt: CRC-32 check value");
	const uint64_t small = 399360, big = 2097152;   // 195 MiB image, 1 GiB disk
	make_table(small);
	struct gpt g;
	CHECK(gpt_parse(hdr, ent, &g) == GPT_OK && g.alt_lba == small - 1, "gpt: a fresh table parses");
	uint64_t f, l, last;
	CHECK(gpt_partition(ent, &g, 5, &f, &l) == GPT_OK && f == 135168 && l == 397311,
	      "gpt: partition 5's extent");
	CHECK(gpt_partition(ent, &g, 4, &f, &l) == GPT_E_PARTITION, "gpt: an unused entry");
	CHECK(gpt_grow_last(hdr, ent, backup, small, 5, &last) == GPT_E_NO_ROOM,
	      "gpt: nothing to do on a disk of the image's size");

	enum gpt_err e = gpt_grow_last(hdr, ent, backup, big, 5, &last);
	CHECK(e == GPT_OK, "gpt: grows on a larger disk (%s)", gpt_strerror(e));
	CHECK(last == big - 2048 - 1, "gpt: the new end is the last 1 MiB boundary before the backup");
	CHECK(gpt_parse(hdr, ent, &g) == GPT_OK, "gpt: the rewritten primary header checks");
	CHECK(g.alt_lba == big - 1 && g.last_usable == big - 34, "gpt: header points at the new end");
	CHECK(gpt_partition(ent, &g, 5, &f, &l) == GPT_OK && f == 135168 && l == last,
	      "gpt: partition 5 keeps its start and reaches the new end");
	CHECK(gpt_partition(ent, &g, 3, &f, &l) == GPT_OK && l == 135167, "gpt: other partitions untouched");
	CHECK(get64(backup + 24) == big - 1 && get64(backup + 32) == 1 &&
	      get64(backup + 72) == big - 33, "gpt: the backup header's own, other and entries LBAs");
	uint8_t tmp[GPT_SECTOR];
	memcpy(tmp, backup, GPT_SECTOR);
	memset(tmp + 16, 0, 4);
	uint32_t crc = gpt_crc32(tmp, 92);
	CHECK(memcmp(&crc, backup + 16, 4) == 0, "gpt: the backup header's CRC");
	CHECK(gpt_grow_last(hdr, ent, backup, big, 5, &last) == GPT_E_NO_ROOM,
	      "gpt: growing twice does nothing the second time");

	make_table(small);
	CHECK(gpt_grow_last(hdr, ent, backup, big, 3, &last) == GPT_E_PARTITION,
	      "gpt: a partition that is not last is refused");
	make_table(small);
	ent[40] ^= 1;
	CHECK(gpt_parse(hdr, ent, &g) == GPT_E_ENTRIES, "gpt: entries with a bad CRC");
	make_table(small);
	hdr[30] = 1;
	CHECK(gpt_parse(hdr, ent, &g) == GPT_E_HEADER, "gpt: header with a bad CRC");
	make_table(small);
	le32(hdr + 12, 4096);
	seal();
	CHECK(gpt_parse(hdr, ent, &g) == GPT_E_HEADER, "gpt: header size beyond a sector");
	make_table(small);
	le32(hdr + 80, 100000);
	seal();
	CHECK(gpt_parse(hdr, ent, &g) == GPT_E_ENTRIES, "gpt: too many entries");
	make_table(small);
	hdr[0] = 'X';
	CHECK(gpt_parse(hdr, ent, &g) == GPT_E_SIGNATURE, "gpt: no signature");
	make_table(small);
	add_part(6, 500, 600);   // before first_usable
	seal();
	CHECK(gpt_grow_last(hdr, ent, backup, big, 5, &last) == GPT_OK,
	      "gpt: an odd entry elsewhere does not block growth");

	memset(mbr, 0, sizeof(mbr));
	CHECK(gpt_fix_pmbr(mbr, big) == GPT_E_HEADER, "gpt: sector 0 without a protective MBR");
	mbr[510] = 0x55, mbr[511] = 0xaa, mbr[446 + 4] = 0xee;
	CHECK(gpt_fix_pmbr(mbr, big) == GPT_OK && mbr[446 + 12] == 0xff && mbr[446 + 13] == 0xff &&
	      mbr[446 + 14] == 0x1f, "gpt: the protective MBR covers the grown disk");
	return test_done();
}

// SPDX-License-Identifier: MIT
// GUID partition tables (UEFI spec 2.10 section 5.3): checking a table read from disk and
// growing its last partition to the end of a larger disk. No I/O: callers read and write.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define GPT_SECTOR 512
#define GPT_MAX_ENTRIES 128
#define GPT_ENTRY_SIZE 128
#define GPT_ENTRIES_BYTES (GPT_MAX_ENTRIES * GPT_ENTRY_SIZE)   // 32 sectors
#define GPT_ALIGN 2048   // sectors: partitions end on a 1 MiB boundary

struct gpt {
	uint64_t my_lba, alt_lba, first_usable, last_usable, entries_lba;
	uint32_t nentries, entry_size;
};

enum gpt_err {
	GPT_OK = 0,
	GPT_E_SIGNATURE,   // no "EFI PART"
	GPT_E_HEADER,      // a header size, CRC or field out of range
	GPT_E_ENTRIES,     // the entry array's size or CRC is wrong
	GPT_E_PARTITION,   // the partition asked for is missing, not last, or odd
	GPT_E_NO_ROOM,     // the disk is not larger than the table says
};

// Checks the primary header (hdr: LBA 1, one sector) and its entry array (entries:
// GPT_ENTRIES_BYTES read at the header's entries LBA, which must be 2).
enum gpt_err gpt_parse(const uint8_t *hdr, const uint8_t *entries, struct gpt *out);

// Start and end LBA (inclusive) of partition number partno (1-based); GPT_E_PARTITION if unused.
enum gpt_err gpt_partition(const uint8_t *entries, const struct gpt *g, unsigned partno,
			   uint64_t *first, uint64_t *last);

// Grows partition partno, which must end after every other partition, to the last aligned
// sector of a disk of disk_sectors, and rewrites the primary header in hdr, the entries,
// and a backup header in backup_hdr (to be written at disk_sectors - 1, after the entries at
// disk_sectors - 33). new_last gets the partition's new end. GPT_E_NO_ROOM if it would
// grow by less than one alignment unit.
enum gpt_err gpt_grow_last(uint8_t *hdr, uint8_t *entries, uint8_t *backup_hdr,
			   uint64_t disk_sectors, unsigned partno, uint64_t *new_last);

uint32_t gpt_crc32(const uint8_t *p, size_t n);
const char *gpt_strerror(enum gpt_err e);

// Sets the protective MBR's 0xEE partition (sector 0) to cover a disk of disk_sectors.
// GPT_E_HEADER if sector 0 is not a protective MBR.
enum gpt_err gpt_fix_pmbr(uint8_t *mbr, uint64_t disk_sectors);

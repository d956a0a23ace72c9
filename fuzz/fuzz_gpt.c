// SPDX-License-Identifier: MIT
// libFuzzer target: silo-init's GPT check and growth over a header + entries read from disk.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t hdr[GPT_SECTOR], ent[GPT_ENTRIES_BYTES], backup[GPT_SECTOR];
	if (size < GPT_SECTOR + 9)
		return 0;
	memcpy(hdr, data, GPT_SECTOR);
	memset(ent, 0, sizeof(ent));
	size_t n = size - GPT_SECTOR - 9;
	memcpy(ent, data + GPT_SECTOR + 9, n < sizeof(ent) ? n : sizeof(ent));
	uint64_t disk;
	memcpy(&disk, data + GPT_SECTOR, 8);
	unsigned partno = data[GPT_SECTOR + 8];
	struct gpt g;
	uint64_t last;
	if (gpt_parse(hdr, ent, &g) == GPT_OK &&
	    gpt_grow_last(hdr, ent, backup, disk, partno, &last) == GPT_OK &&
	    (gpt_parse(hdr, ent, &g) != GPT_OK || last >= disk))
		__builtin_trap();   // a grown table must check, and end inside the disk
	return 0;
}

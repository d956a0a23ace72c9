// SPDX-License-Identifier: MIT
// File-tree helpers for the parent: removing and measuring trees it does not trust (a
// grain's /var is written by the app), and finding the uids grains already use.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// Removes dir and everything below it without following symlinks. 0, or -1 when something
// could not be removed (logged). A missing dir is 0.
int parent_remove_tree(const char *dir);
// Bytes of disk the tree uses (st_blocks), without following symlinks. 0 / -1.
int parent_tree_size(const char *dir, uint64_t *bytes);
// Marks in bitmap (nbits bits, bit i = uid base+i) the owners of grains_dir/*/var.
int parent_scan_uids(const char *grains_dir, uid_t base, uint64_t *bitmap, size_t nbits);

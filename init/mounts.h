// SPDX-License-Identifier: MIT
// The file systems PID 1 mounts, and unmounting them all at shutdown.
#pragma once

// Moves the root off the initramfs (rootfs cannot be pivot_root'ed, which every grain
// sandbox does) onto a bind mount of itself. -1 on failure, after logging.
int mounts_move_root(void);

// proc, sys, devtmpfs, run, tmp, cgroup2 and friends. -1 if a required one failed.
int mounts_basic(void);

// Makes / read-only: the OS never changes while it runs.
void mounts_root_readonly(void);

// Unmounts everything under / in reverse order; what stays busy is remounted read-only.
void mounts_unmount_all(void);

// SPDX-License-Identifier: MIT
// The data partition: found by its ext4 label, grown to fill the disk, mounted.
#pragma once

// Finds the partition labelled label (waiting a few seconds for disks to appear), grows it
// and its file system to the end of the disk when the disk is larger than the image, and
// mounts it on dir. -1 after logging why.
int disk_mount_data(const char *label, const char *dir);

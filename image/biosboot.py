#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Installs GRUB's BIOS boot code into a disk image file, as grub-bios-setup does for a
GPT disk (it only works on devices it can probe, not on image files).

Usage: biosboot.py IMAGE BOOT_IMG CORE_IMG CORE_LBA

boot.img goes into the first 440 bytes of the MBR (the protective partition table after it
stays), told where core.img starts; core.img goes into the BIOS boot partition at CORE_LBA,
its first sector (diskboot) told where the rest of itself lies. Offsets are GRUB 2.06's
(include/grub/i386/pc/boot.h, grub-core/boot/i386/pc/diskboot.S, util/setup.c).
"""
import struct
import sys

KERNEL_SECTOR = 0x5C    # boot.img: LBA of core.img's first sector (8 bytes)
DRIVE_CHECK = 0x66      # boot.img: a jump that trusts only floppies' drive numbers
MBR_CODE_END = 0x1B8    # the disk signature and partition table follow
BLOCKLIST = 0x200 - 12  # diskboot: start (8), sector count (2), load segment (2)
CORE_SEGMENT = 0x820


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    image, boot_path, core_path, lba = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    boot = bytearray(open(boot_path, "rb").read())
    core = bytearray(open(core_path, "rb").read())
    if len(boot) != 512:
        sys.exit("biosboot: boot.img is not one sector")
    core += b"\0" * (-len(core) % 512)
    nsec = len(core) // 512
    if nsec > 2047:
        sys.exit("biosboot: core.img does not fit the 1 MiB BIOS boot partition")
    struct.pack_into("<Q", boot, KERNEL_SECTOR, lba)
    boot[DRIVE_CHECK:DRIVE_CHECK + 2] = b"\x90\x90"   # a hard disk: keep the BIOS drive
    struct.pack_into("<QHH", core, BLOCKLIST, lba + 1, nsec - 1, CORE_SEGMENT)
    with open(image, "r+b") as f:
        mbr = bytearray(f.read(512))
        if mbr[510:512] != b"\x55\xaa":
            sys.exit("biosboot: the image has no partition table")
        mbr[:MBR_CODE_END] = boot[:MBR_CODE_END]
        f.seek(0)
        f.write(mbr)
        f.seek(lba * 512)
        f.write(core)


if __name__ == "__main__":
    main()

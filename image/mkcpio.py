#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a zstd-compressed newc cpio archive (the initramfs) of a staging tree.

Usage: mkcpio.py STAGING OUT

Every entry is owned by root with mtime 0, so the same tree gives the same bytes. The
archive also holds /dev/console, which the kernel opens for PID 1 before any devtmpfs
exists; making it here needs no root and no mknod on the build machine.

zstd (the `zstd` program, level 19), not gzip: GRUB reads a quarter fewer bytes and the
kernel unpacks it faster (docs/BENCHMARKS.md); both kernel series have CONFIG_RD_ZSTD.
"""
import os
import stat
import subprocess
import sys


def header(name, mode, size, nlink=1, rdev=(0, 0), ino=0):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    h = b"070701" + b"".join(b"%08X" % f for f in fields)
    data = h + name.encode() + b"\0"
    return data + b"\0" * (-len(data) % 4)


def pad(data):
    return data + b"\0" * (-len(data) % 4)


def entries(root):
    """(archive name, mode, payload) for every file under root, parents first."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        if rel != ".":
            yield rel, stat.S_IFDIR | 0o755, b""
        for f in sorted(filenames):
            path = os.path.join(dirpath, f)
            name = os.path.normpath(os.path.join(rel, f))
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                yield name, stat.S_IFLNK | 0o777, os.readlink(path).encode()
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as fh:
                    yield name, stat.S_IFREG | (st.st_mode & 0o755), fh.read()
            else:
                sys.exit(f"mkcpio: {path}: not a file, link or directory")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkcpio.py STAGING OUT")
    root, out = sys.argv[1:]
    parts = []
    ino = 1
    for name, mode, payload in entries(root):
        parts.append(header(name, mode, len(payload), ino=ino) + pad(payload))
        ino += 1
    parts.append(header("dev/console", stat.S_IFCHR | 0o600, 0, rdev=(5, 1), ino=ino))
    parts.append(header("TRAILER!!!", 0, 0))
    with open(out + ".tmp", "wb") as raw:
        subprocess.run(["zstd", "-q", "-19", "-c"], input=b"".join(parts), stdout=raw,
                       check=True)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()

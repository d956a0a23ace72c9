#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The spk tool from the shell: keygen, pack, verify and unpack of a small app tree, what
# they print, byte-identical packing, how the bridge is found, and the errors they give
# (exit 1, "spk: FILE: reason") for damaged packages, bad trees and wrong usage. The package
# is also read back with Python's own lzma against docs/SPK.md. Uses build/spk next to the
# server under test (or $SPK_BIN); a copy of /bin/true stands in for silo-bridge.
import hashlib
import lzma
import os
import shutil
import stat
import struct
import subprocess
from pathlib import Path

import silotest

MANIFEST = """{"title": "Notes", "version": 3, "marketing_version": "1.2", "http_port": 8000,
 "actions": [{"title": "New notebook", "command": ["/bin/notes", "--port", "8000"],
              "env": {"HOME": "/var"}}],
 "continue_command": ["/bin/notes", "--port", "8000"],
 "permissions": [{"name": "edit", "title": "Edit notes"}],
 "roles": [{"name": "editor", "title": "Editor", "permissions": ["edit"]},
           {"name": "viewer", "title": "Viewer", "permissions": [], "default": true}]}
"""


def spk_bin():
    b = os.environ.get("SPK_BIN") or str(Path(silotest.silo_bin()).parent / "spk")
    return str(Path(b).resolve())


class Spk:
    def __init__(self, t, binary):
        self.t = t
        self.bin = binary

    def __call__(self, *args, env=None, binary=None):
        e = dict(os.environ)
        e.pop("SILO_BRIDGE", None)
        e.update(env or {})
        p = subprocess.run([binary or self.bin, *map(str, args)], capture_output=True,
                           text=True, env=e, timeout=60)
        if silotest.SANITIZER_RE.search(p.stderr):
            self.t.ok(False, f"spk {args[0] if args else ''}: no sanitizer report",
                      p.stderr[-2000:])
        return p


def info_lines(out):
    """ "key:   value" lines into a dict."""
    d = {}
    for line in out.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            d[k.strip()] = v.strip()
    return d


def make_tree(root):
    root.mkdir()
    (root / "silo-manifest.json").write_text(MANIFEST)
    (root / "bin").mkdir()
    (root / "bin" / "notes").write_text("#!/bin/sh\necho notes\n")
    (root / "bin" / "notes").chmod(0o755)
    (root / "share").mkdir()
    (root / "share" / "empty").write_bytes(b"")
    (root / "share" / "secret").write_text("only me")
    (root / "share" / "secret").chmod(0o600)
    (root / "share" / "notes").symlink_to("../bin/notes")
    (root / "var").mkdir(mode=0o700)
    (root / "var").chmod(0o700)


def tree_listing(root):
    """{relative path: (kind, mode, content or target)} for comparing trees."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", None, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), None)
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), p.read_bytes())
    return out


def read_archive(raw):
    """Entries of a silo archive (docs/SPK.md), written here independently of the C code."""
    assert raw[:8] == b"SILOARC\x01", raw[:8]
    o, entries = 8, []
    while True:
        kind = raw[o]
        o += 1
        if kind == 0:
            break
        mode, plen = struct.unpack(">HH", raw[o:o + 4])
        o += 4
        path = raw[o:o + plen].decode()
        o += plen
        if kind == 2:
            size, = struct.unpack(">Q", raw[o:o + 8])
            o += 8
            entries.append((path, "file", mode, raw[o:o + size]))
            o += size
        elif kind == 3:
            tlen, = struct.unpack(">H", raw[o:o + 2])
            entries.append((path, "link", mode, raw[o + 2:o + 2 + tlen].decode()))
            o += 2 + tlen
        else:
            entries.append((path, "dir", mode, None))
    assert o == len(raw), "bytes after the end marker"
    return entries


def scenario(t):
    binary = spk_bin()
    if not t.ok(os.access(binary, os.X_OK), f"spk: {binary} is built"):
        return
    spk = Spk(t, binary)
    d = Path(silotest.tmpdir("silo-test-spk-"))
    bridge = d / "bridge"
    shutil.copy("/bin/true", bridge)
    tree, key, pkg = d / "tree", d / "app.key", d / "app.spk"
    make_tree(tree)

    # --- usage ---
    p = spk("help")
    t.ok(p.returncode == 0 and "keygen KEYFILE" in p.stdout and "verify FILE" in p.stdout,
         "spk help: prints the commands")
    p = spk()
    t.ok(p.returncode == 2 and "usage:" in p.stderr, "spk: no command is a usage error (2)")
    p = spk("frobnicate")
    t.ok(p.returncode == 2 and "unknown command" in p.stderr, "spk: an unknown command is 2")
    p = spk("pack", tree, key)
    t.ok(p.returncode == 2 and "pack takes DIR KEYFILE OUT.spk" in p.stderr,
         "spk pack: missing arguments are a usage error")

    # --- keygen ---
    p = spk("keygen", key)
    app_id = info_lines(p.stdout).get("app id", "")
    t.ok(p.returncode == 0 and len(app_id) == 52 and
         all(c in "0123456789acdefghjkmnpqrstuvwxyz" for c in app_id),
         "spk keygen: prints a 52-character app id", p.stdout + p.stderr)
    t.eq(stat.S_IMODE(os.stat(key).st_mode), 0o600, "spk keygen: the key file is mode 0600")
    t.ok(f"app-id: {app_id}" in key.read_text(), "spk keygen: the key file names its app id")
    before = key.read_bytes()
    p = spk("keygen", key)
    t.ok(p.returncode == 1 and p.stderr.startswith(f"spk: {key}: already exists") and
         key.read_bytes() == before, "spk keygen: refuses to overwrite a key", p.stderr)

    # --- pack and verify ---
    p = spk("pack", "--bridge", bridge, tree, key, pkg)
    info = info_lines(p.stdout)
    t.ok(p.returncode == 0 and f"wrote {pkg}" in p.stdout and info.get("app id") == app_id,
         "spk pack: writes the package and prints its app id", p.stdout + p.stderr)
    data = pkg.read_bytes() if pkg.exists() else b""
    pkg_id = hashlib.sha256(data).hexdigest()[:32]
    p = spk("verify", pkg)
    info = info_lines(p.stdout)
    t.ok(p.returncode == 0, "spk verify: a fresh package verifies", p.stderr)
    t.eq(info.get("app id"), app_id, "spk verify: prints the app id")
    t.eq(info.get("package id"), pkg_id, "spk verify: package id = hex of SHA-256(file)[:16]")
    t.eq((info.get("title"), info.get("version"), info.get("marketing version")),
         ("Notes", "3", "1.2"), "spk verify: prints title, version and marketing version")
    t.eq(info.get("entries"), "9", "spk verify: prints the entry count (bridge included)")
    size = sum(len(v[2]) for v in tree_listing(tree).values() if v[0] == "file")
    size += os.path.getsize(bridge)
    t.eq(info.get("unpacked size"), f"{size} bytes", "spk verify: prints the unpacked size")

    # The file as docs/SPK.md describes it, read with Python's own lzma.
    raw = lzma.decompress(data[105:], format=lzma.FORMAT_XZ)
    entries = read_archive(raw)
    t.ok(data[:9] == b"\x8fSILOSPK\x01", "format: magic and version 1 open the file")
    t.ok([e[0] for e in entries] == ["bin", "bin/notes", "share", "share/empty",
                                     "share/notes", "share/secret", "silo-bridge",
                                     "silo-manifest.json", "var"],
         "format: entries sorted, each directory before its contents",
         [e[0] for e in entries])
    t.ok(("silo-bridge", "file", 0o755, bridge.read_bytes()) in entries and
         ("share/notes", "link", 0o777, "../bin/notes") in entries and
         ("var", "dir", 0o700, None) in entries,
         "format: bridge (0755), symlink and directory mode as documented")

    pkg2 = d / "again.spk"
    p = spk("pack", "--bridge", bridge, tree, key, pkg2)
    t.ok(p.returncode == 0 and pkg2.read_bytes() == data,
         "spk pack: the same tree and key give identical bytes")
    p = spk("pack", tree, key, d / "env.spk", env={"SILO_BRIDGE": str(bridge)})
    t.ok(p.returncode == 0 and (d / "env.spk").read_bytes() == data,
         "spk pack: takes the bridge from $SILO_BRIDGE", p.stderr)
    p = spk("pack", tree, key, d / "x.spk", env={"SILO_BRIDGE": "/nonexistent/bridge"})
    t.ok(p.returncode == 1 and "/nonexistent/bridge" in p.stderr and
         not (d / "x.spk").exists(), "spk pack: a missing $SILO_BRIDGE is named", p.stderr)
    lonely = d / "lonely"
    lonely.mkdir()
    shutil.copy(binary, lonely / "spk")
    p = spk("pack", tree, key, d / "x.spk", binary=lonely / "spk")
    t.ok(p.returncode == 1 and f"{lonely}/silo-bridge" in p.stderr and "--bridge" in p.stderr,
         "spk pack: without a bridge next to spk, says where it looked", p.stderr)

    # --- unpack ---
    out = d / "out"
    p = spk("unpack", pkg, out)
    t.ok(p.returncode == 0 and f"unpacked to {out}" in p.stdout, "spk unpack: unpacks", p.stderr)
    got = tree_listing(out) if out.exists() else {}
    want = tree_listing(tree)
    want["silo-bridge"] = ("file", 0o755, bridge.read_bytes())
    t.ok(got == want, "spk unpack: the tree comes back with modes, symlinks, empty things",
         f"{sorted(set(got.items()) ^ set(want.items()))[:4]}")
    p = spk("unpack", pkg, out)
    t.ok(p.returncode == 1 and p.stderr.strip() == f"spk: {pkg}: '{out}' already exists",
         "spk unpack: refuses an existing destination", p.stderr)

    # --- damaged packages: exit 1, "spk: FILE: reason", nothing unpacked ---
    bad = d / "bad.spk"
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x20
    bad.write_bytes(bytes(flipped))
    p = spk("verify", bad)
    t.ok(p.returncode == 1 and p.stderr.startswith(f"spk: {bad}: bad signature"),
         "spk verify: a flipped byte is a bad signature, naming the file", p.stderr)
    bad.write_bytes(data[:len(data) - 7])
    p = spk("verify", bad)
    t.ok(p.returncode == 1 and p.stderr.startswith(f"spk: {bad}: bad signature"),
         "spk verify: a truncated package is refused", p.stderr)
    bad.write_bytes(data[:60])
    p = spk("unpack", bad, d / "never")
    t.ok(p.returncode == 1 and "truncated" in p.stderr and not (d / "never").exists() and
         not any(n.startswith(".silo-unpack") for n in os.listdir(d)),
         "spk unpack: a package cut in its header is refused, nothing written", p.stderr)
    bad.write_bytes(b"PK\x03\x04 not a package at all" * 10)
    p = spk("verify", bad)
    t.ok(p.returncode == 1 and p.stderr.strip() == f"spk: {bad}: not a silo package (bad magic)",
         "spk verify: another file type is not a silo package", p.stderr)
    p = spk("verify", d / "missing.spk")
    t.ok(p.returncode == 1 and
         p.stderr.strip() == f"spk: {d}/missing.spk: No such file or directory",
         "spk verify: a missing file", p.stderr)

    # --- trees pack refuses ---
    (tree / "silo-bridge").write_text("mine")
    p = spk("pack", "--bridge", bridge, tree, key, d / "x.spk")
    t.ok(p.returncode == 1 and "already holds 'silo-bridge'" in p.stderr,
         "spk pack: refuses a tree with its own silo-bridge", p.stderr)
    (tree / "silo-bridge").unlink()
    (tree / "silo-manifest.json").write_text(MANIFEST.replace('"http_port": 8000,', ""))
    p = spk("pack", "--bridge", bridge, tree, key, d / "x.spk")
    t.ok(p.returncode == 1 and
         f"{tree}/silo-manifest.json: http_port is required" in p.stderr,
         "spk pack: a manifest error names the file and the field", p.stderr)
    (tree / "silo-manifest.json").write_text(MANIFEST)
    (tree / "share" / "abs").symlink_to("/etc/passwd")
    p = spk("pack", "--bridge", bridge, tree, key, d / "x.spk")
    t.ok(p.returncode == 1 and f"{tree}/share/abs: symlink target is absolute" in p.stderr,
         "spk pack: an absolute symlink is refused, naming it", p.stderr)
    (tree / "share" / "abs").unlink()
    os.mkfifo(tree / "var" / "fifo")
    p = spk("pack", "--bridge", bridge, tree, key, d / "x.spk")
    t.ok(p.returncode == 1 and f"{tree}/var/fifo: is a fifo" in p.stderr,
         "spk pack: a fifo is refused, naming it", p.stderr)
    os.unlink(tree / "var" / "fifo")
    (d / "bad.key").write_text("public-key: 00\n")
    p = spk("pack", "--bridge", bridge, tree, d / "bad.key", d / "x.spk")
    t.ok(p.returncode == 1 and p.stderr.startswith(f"spk: {d}/bad.key: "),
         "spk pack: a bad key file is named", p.stderr)
    t.ok(not (d / "x.spk").exists() and
         not any(n.startswith(".spk-") for n in os.listdir(d)),
         "spk pack: failures leave no output and no temporary file")


if __name__ == "__main__":
    silotest.run(scenario, time_limit=120)

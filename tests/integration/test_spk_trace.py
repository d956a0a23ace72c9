#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks `spk trace` on small programs: a static binary, a dynamic one (/bin/ls: its ELF
# interpreter and libraries land in the root), a shell script (its #! interpreter), a
# program that forks, spawns and execs, files reached through a dirfd, a thread, chdir and
# symlinks, a Python one-liner (the .py next to each .pyc, made unchecked), the include and
# exclude lists, and that /proc, /dev and /tmp are never copied. Then the trace's edges:
# SIGINT and --timeout kill the traced tree, exit statuses, a non-empty root, --help.
# Needs build/spk ($SPK_BIN overrides) and cc; the chroot runs only as root.
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import silotest

ROOT = silotest.ROOT
SPK = os.environ.get("SPK_BIN") or str(ROOT / "build" / "spk")
IS_ROOT = os.geteuid() == 0

# The fixture program: each mode exercises one way of reaching files.
PROG_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
static void touch(int fd) { if (fd >= 0) close(fd); }
static void *in_thread(void *path) { touch(open(path, O_RDONLY)); return NULL; }
int main(int argc, char **argv)
{
	if (argc < 2) return 2;
	if (!strcmp(argv[1], "hello")) { puts("hello from static"); return 0; }
	if (!strcmp(argv[1], "exit")) return atoi(argv[2]);
	if (!strcmp(argv[1], "sleep")) {
		FILE *f = fopen(argv[2], "w"); fprintf(f, "%d\n", (int)getpid()); fclose(f);
		sleep(60); return 0;
	}
	if (strcmp(argv[1], "files")) return 2;
	const char *dir = argv[2];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct stat st; struct statx sx; char buf[256], path[4096];
	touch(openat(dfd, "rel/a.txt", O_RDONLY));
	fstatat(dfd, "b.txt", &st, 0);
	faccessat(dfd, "c.txt", R_OK, 0);
	if (readlinkat(dfd, "lnk", buf, sizeof(buf)) < 0) return 3;
	statx(dfd, "e.txt", 0, STATX_SIZE, &sx);
	touch(openat(dfd, "abs", O_RDONLY));
	touch(openat(dfd, "rel/../up.txt", O_RDONLY));
	touch(openat(dfd, "__pycache__/m.cpython-311.pyc", O_RDONLY));
	touch(openat(dfd, "missing/nothing.txt", O_RDONLY));
	touch(open("/proc/self/status", O_RDONLY));
	touch(open("/dev/null", O_RDONLY));
	touch(open(argv[3], O_RDONLY));
	snprintf(path, sizeof(path), "%s/thread.txt", dir);
	pthread_t t;
	pthread_create(&t, NULL, in_thread, path);
	pthread_join(t, NULL);
	if (chdir(dir) == 0) touch(open("d.txt", O_RDONLY));
	pid_t pid = fork();
	if (pid == 0) { execl("/bin/true", "true", (char *)NULL); _exit(127); }
	waitpid(pid, NULL, 0);
	snprintf(path, sizeof(path), "%s/hello.sh", dir);
	char *sargv[] = {path, NULL};
	if (posix_spawn(&pid, path, NULL, NULL, sargv, environ) == 0) waitpid(pid, NULL, 0);
	return 0;
}
"""


def spk(args, timeout=60, **kw):
    return subprocess.run([SPK, "trace", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, **kw)


def in_root(root, path, follow=True):
    """Looks path up inside root as if root were /, following symlinks the way the
    kernel would (bounded); returns the host path found, or None."""
    parts = [p for p in path.split("/") if p]
    cur = []
    links = 0
    while parts:
        name = parts.pop(0)
        if name == ".":
            continue
        if name == "..":
            cur = cur[:-1]
            continue
        host = os.path.join(root, *cur, name)
        if not os.path.lexists(host):
            return None
        if os.path.islink(host) and (parts or follow):
            links += 1
            if links > 40:
                return None
            target = os.readlink(host)
            if target.startswith("/"):
                cur = []
            parts = [p for p in target.split("/") if p] + parts
            continue
        cur.append(name)
    return os.path.join(root, *cur)


def elf_interp(path):
    """PT_INTERP of an ELF file, parsed here independently of spk."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data,
                                                                 phoff + i * phentsize)
        if p_type == 3:
            return data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode()
    return None


def ldd_libs(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=10).stdout
    libs = []
    for line in out.splitlines():
        if "=>" in line and "/" in line.split("=>")[1]:
            libs.append(line.split("=>")[1].split()[0])
    return libs


def entries(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.append("/" + os.path.relpath(os.path.join(dirpath, n), root))
    return out


# spk trace never copies what lies under these (see docs/TRACE.md).
SKIPPED = ("/proc", "/sys", "/dev", "/tmp", "/var", "/run", "/home", "/root")


def fixture_base():
    """build/, unless the checkout itself lies under a never-copied prefix (a clone in /tmp):
    then /opt, which the trace copies like any system directory."""
    base = (ROOT / "build").resolve()
    if any(str(base) == p or str(base).startswith(p + "/") for p in SKIPPED):
        base = Path("/opt")
    return base


def make_fixtures(t):
    """Files outside every never-copied prefix, and the fixture program."""
    fix = Path(tempfile.mkdtemp(prefix="spk-trace-test-", dir=fixture_base()))
    silotest._tmpdirs.append(str(fix))
    (fix / "rel").mkdir()
    (fix / "__pycache__").mkdir()
    for name in ("rel/a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "target.txt", "target2.txt",
                 "up.txt", "thread.txt", "untouched.txt", "m.py", "excluded.dat"):
        (fix / name).write_text(f"{name}\n")
    (fix / "__pycache__/m.cpython-311.pyc").write_bytes(b"\xa7\r\r\n" + bytes(12))
    os.symlink("target.txt", fix / "lnk")
    os.symlink(str(fix / "target2.txt"), fix / "abs")
    (fix / "hello.sh").write_text("#!/bin/sh\necho script ran\n")
    (fix / "hello.sh").chmod(0o755)
    inc = fix / "incdir"
    (inc / "sub").mkdir(parents=True)
    (inc / "sub" / "deep.txt").write_text("deep\n")
    (inc / "one.cfg").write_text("1\n")
    (inc / "two.cfg").write_text("2\n")
    (fix / "prog.c").write_text(PROG_C)
    cc = subprocess.run(["cc", "-static", "-O1", "-pthread", "-o", str(fix / "prog"),
                         str(fix / "prog.c")], capture_output=True, text=True, timeout=120)
    t.ok(cc.returncode == 0, "fixture: a static test program compiles", cc.stderr[-300:])
    return fix


def scenario(t):
    t.ok(os.access(SPK, os.X_OK), f"spk is built ({SPK})")
    fix = make_fixtures(t)
    prog = str(fix / "prog")
    tmpfile = os.path.join(silotest.tmpdir(), "in-tmp.txt")
    Path(tmpfile).write_text("tmp\n")

    # --help documents the flags; `spk help` mentions trace.
    r = spk(["--help"])
    t.ok(r.returncode == 0 and all(f in r.stdout for f in
                                   ("--root", "--include", "--exclude", "--timeout")),
         "spk trace --help documents --root, --include, --exclude, --timeout", r.stderr)
    r = subprocess.run([SPK, "help"], capture_output=True, text=True, timeout=10)
    t.ok("trace" in r.stdout + r.stderr, "spk help mentions the trace command")

    # A static binary: only itself is needed.
    root = os.path.join(silotest.tmpdir(), "static")
    r = spk(["--root", root, "--", prog, "hello"])
    t.ok(r.returncode == 0 and "hello from static" in r.stdout, "static: traced, exit 0",
         r.stdout + r.stderr)
    t.ok(in_root(root, prog) and elf_interp(prog) is None,
         "static: the binary is in the root, and has no ELF interpreter")
    t.ok(re.search(r"\d+ files, \d+ symlinks, \d+ directories, \d+ bytes", r.stdout),
         "static: a summary with files and bytes", r.stdout)
    if IS_ROOT:
        c = subprocess.run(["chroot", root, prog, "hello"], capture_output=True, text=True,
                           timeout=20)
        t.ok(c.returncode == 0 and "hello" in c.stdout, "static: runs chrooted in its root",
             c.stderr)

    # A dynamic binary: its interpreter and every library.
    root = os.path.join(silotest.tmpdir(), "ls")
    r = spk(["--root", root, "--", "/bin/ls", "/"])
    t.ok(r.returncode == 0, "ls: traced, exit 0", r.stderr)
    interp = elf_interp(os.path.realpath("/bin/ls"))
    t.ok(interp and in_root(root, interp), f"ls: its ELF interpreter {interp} is in the root")
    libs = ldd_libs("/bin/ls")
    missing = [lib for lib in libs if not in_root(root, lib)]
    t.ok(libs and not missing, f"ls: its {len(libs)} libraries are in the root", missing)
    t.ok(os.path.islink(os.path.join(root, "bin")) == os.path.islink("/bin"),
         "ls: /bin is kept as a symlink where the host has one")
    absolute = [e for e in entries(root) if os.path.islink(root + e) and
                os.readlink(root + e).startswith("/")]
    t.ok(not absolute, "ls: every symlink in the root is relative", absolute[:3])
    if IS_ROOT:
        c = subprocess.run(["chroot", root, "/bin/ls", "/"], capture_output=True, text=True,
                           timeout=20)
        t.ok(c.returncode == 0 and "usr" in c.stdout.split(), "ls: runs chrooted in its root",
             c.stderr)

    # A shell script run directly: the #! interpreter comes along.
    root = os.path.join(silotest.tmpdir(), "script")
    r = spk(["--root", root, "--", str(fix / "hello.sh")])
    t.ok(r.returncode == 0 and in_root(root, str(fix / "hello.sh")),
         "script: traced, the script is in the root", r.stderr)
    sh = in_root(root, "/bin/sh")
    t.ok(sh and os.path.isfile(sh), "script: its #! interpreter /bin/sh resolves in the root")
    t.ok(in_root(root, elf_interp(os.path.realpath("/bin/sh")) or "/nonexistent"),
         "script: and the interpreter's own ELF interpreter")
    if IS_ROOT:
        c = subprocess.run(["chroot", root, str(fix / "hello.sh")], capture_output=True,
                           timeout=20)
        t.ok(c.returncode == 0, "script: runs chrooted in its root", c.stderr)

    # Files every which way, plus fork/exec, posix_spawn, a thread, an include and an
    # exclude list.
    incfile = fix / "include.txt"
    incfile.write_text(f"# comment\n\n{fix}/incdir/*.cfg\n{fix}/incdir/sub\n"
                       f"{fix}/no-such-file\n/etc/debian_version\n")
    excfile = fix / "exclude.txt"
    excfile.write_text(f"# never\n{fix}/*.dat\n{fix}/incdir/two.cfg\n")
    lst = os.path.join(silotest.tmpdir(), "files.list")
    root = os.path.join(silotest.tmpdir(), "files")
    r = spk(["--root", root, "--include", str(incfile), "--exclude", str(excfile),
             "--list", lst, "--", prog, "files", str(fix), tmpfile])
    t.ok(r.returncode == 0, "files: traced, exit 0", r.stdout + r.stderr)
    f = str(fix)
    for name, why in (("rel/a.txt", "openat on a dirfd"), ("b.txt", "fstatat on a dirfd"),
                      ("c.txt", "faccessat"), ("e.txt", "statx"), ("d.txt", "open after chdir"),
                      ("up.txt", "a path through .."), ("thread.txt", "a thread's open"),
                      ("lnk", "readlinkat"), ("target.txt", "the readlinkat link's target"),
                      ("target2.txt", "an absolute symlink's target"),
                      ("m.py", "the .py next to an opened __pycache__ .pyc"),
                      ("hello.sh", "a script run with posix_spawn")):
        t.ok(os.path.lexists(os.path.join(root, f[1:], name)), f"files: {name} ({why})")
    t.ok(os.path.islink(os.path.join(root, f[1:], "abs")) and
         not os.readlink(os.path.join(root, f[1:], "abs")).startswith("/") and
         in_root(root, f + "/abs"),
         "files: an absolute symlink is kept as a symlink, made relative, and resolves")
    t.ok(in_root(root, "/bin/true"), "files: a forked child's exec (/bin/true)")
    t.ok(not os.path.lexists(os.path.join(root, f[1:], "untouched.txt")),
         "files: a file nobody touched is left out")
    t.ok(not os.path.lexists(os.path.join(root, f[1:], "missing")),
         "files: a failed open leaves no directory behind")
    t.ok(os.path.isfile(os.path.join(root, f[1:], "incdir/one.cfg")) and
         os.path.isfile(os.path.join(root, f[1:], "incdir/sub/deep.txt")) and
         os.path.isfile(os.path.join(root, "etc/debian_version")),
         "include: globs, directories recursively, literal paths")
    t.ok("no-such-file" in r.stderr, "include: a missing entry is a warning", r.stderr)
    t.ok(not os.path.lexists(os.path.join(root, f[1:], "incdir/two.cfg")) and
         not os.path.lexists(os.path.join(root, f[1:], "excluded.dat")),
         "exclude: its globs win over the trace and the include list")
    top = sorted(os.listdir(root))
    t.ok(not {"proc", "dev", "tmp", "sys", "var", "run", "home", "root"} & set(top),
         "files: /proc, /dev, /tmp (and /sys, /var, /run, /home, /root) are never copied",
         top)
    listed = Path(lst).read_text().split("\n")[:-1]
    t.ok(listed == sorted(listed) and prog in listed and f + "/lnk" in listed,
         "list: --list writes the files and symlinks placed, sorted")
    setuid = [e for e in entries(root) if os.lstat(root + e).st_mode & 0o6000]
    t.ok(not setuid, "files: no setuid or setgid bits in the root", setuid[:3])

    # Python: the .py next to every opened .pyc, the .pyc made unchecked (PEP 552).
    root = os.path.join(silotest.tmpdir(), "python")
    r = spk(["--root", root, "--", "/usr/bin/python3", "-I", "-S", "-c",
             "import json; print(json.dumps([1]))"])
    t.ok(r.returncode == 0 and "[1]" in r.stdout, "python: traced, exit 0", r.stderr)
    pycs = [e for e in entries(root) if e.endswith(".pyc") and "/__pycache__/" in e]
    nosrc = [p for p in pycs if not os.path.exists(
        root + p.split("/__pycache__/")[0] + "/" + p.rsplit("/", 1)[1].split(".")[0] + ".py")]
    t.ok(pycs and not nosrc, f"python: all {len(pycs)} .pyc files have their .py", nosrc[:3])
    flags = {struct.unpack("<I", open(root + p, "rb").read(8)[4:])[0] for p in pycs}
    t.eq(flags, {1}, "python: the .pyc files are unchecked hash-based ones")
    if IS_ROOT:
        c = subprocess.run(["chroot", root, "/usr/bin/python3", "-I", "-S", "-v", "-c",
                            "import json; print(json.dumps([2]))"],
                           capture_output=True, text=True, timeout=30)
        t.ok(c.returncode == 0 and "[2]" in c.stdout and "bytecode is stale" not in c.stderr,
             "python: runs chrooted from its cached bytecode", c.stderr[-300:])
    root = os.path.join(silotest.tmpdir(), "python-keep")
    r = spk(["--keep-pyc", "--root", root, "--", "/usr/bin/python3", "-I", "-S", "-c",
             "import json"])
    pycs = [e for e in entries(root) if e.endswith(".pyc")]
    flags = {struct.unpack("<I", open(root + p, "rb").read(8)[4:])[0] for p in pycs}
    t.ok(r.returncode == 0 and flags == {0}, "python: --keep-pyc copies them unchanged",
         flags)

    # Ending a trace: SIGINT and --timeout kill the traced tree; statuses.
    root = os.path.join(silotest.tmpdir(), "sigint")
    pidfile = os.path.join(silotest.tmpdir(), "pid")
    p = subprocess.Popen([SPK, "trace", "--root", root, "--", prog, "sleep", pidfile],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=silotest._die_with_parent)
    child = None
    for _ in range(100):
        if os.path.exists(pidfile) and Path(pidfile).read_text().strip():
            child = int(Path(pidfile).read_text())
            break
        time.sleep(0.05)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    gone = False
    if child:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            gone = True
    t.ok(p.returncode == 0 and time.monotonic() - t0 < 10 and in_root(root, prog),
         "sigint: spk stops, exits 0 and writes the root", out + err)
    t.ok(gone, "sigint: the traced program was killed", f"pid {child}")
    root = os.path.join(silotest.tmpdir(), "timeout")
    t0 = time.monotonic()
    r = spk(["--timeout", "1", "--root", root, "--", prog, "sleep", pidfile])
    t.ok(r.returncode == 0 and time.monotonic() - t0 < 10 and "timeout" in r.stdout,
         "timeout: --timeout 1 stops the trace within seconds", r.stdout + r.stderr)
    r = spk(["--root", os.path.join(silotest.tmpdir(), "exit3"), "--", prog, "exit", "3"])
    t.eq(r.returncode, 3, "status: a failing command makes spk trace exit 3")
    r = spk(["--root", os.path.join(silotest.tmpdir(), "nocmd"), "--",
             "/nonexistent/program"])
    t.ok(r.returncode == 3 and "cannot run" in r.stderr, "status: a missing command is named",
         r.stderr)
    r = spk(["--root", root, "--", prog, "hello"])
    t.ok(r.returncode == 1 and "not empty" in r.stderr, "root: a non-empty root is refused",
         r.stderr)
    r = spk(["--add", "--root", root, "--", prog, "hello"])
    t.eq(r.returncode, 0, "root: --add adds to it")
    r = spk(["--bogus"])
    t.eq(r.returncode, 2, "usage: an unknown option exits 2")
    r = spk(["--root", root])
    t.eq(r.returncode, 2, "usage: no command exits 2")


if __name__ == "__main__":
    silotest.run(scenario, time_limit=150)

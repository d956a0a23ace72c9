#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks Radicale's traced package root (build/apps/radicale/root, made by `make apps`)
# without silo's sandbox: the tree alone is mounted as / (its top-level entries bound
# read-only on a read-only tmpfs, as the grain sandbox does), with /var a fresh directory,
# /tmp a tmpfs, /dev only null/zero/random/urandom, no /proc, no /sys, as uid 1000. From
# the host, Debian's python3-caldav drives it over 127.0.0.1 (apps/radicale/exercise.py):
# discovery, a calendar, an event searched back, CardDAV, the web UI, read-only visitors;
# then the data survives a restart and Python runs from the cached bytecode. The first
# start is the manifest's action (--new), the restart its continue command.
# Builds nothing. Needs root (mount namespace, chroot); skips when the root is absent.
import os
import sys

# tests/run.sh may run this with a python3 (pyenv's, say) that lacks Debian's caldav
# module: go on under Debian's own interpreter, once.
try:
    import caldav  # noqa: F401
except ImportError:
    if os.path.exists("/usr/bin/python3") and not os.environ.get("SILO_TEST_REEXEC"):
        os.environ["SILO_TEST_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    caldav = None

import datetime  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import silotest  # noqa: E402

PKG = os.environ.get("SILO_RADICALE_ROOT") or str(silotest.ROOT / "build/apps/radicale/root")
APP_UID = 1000
NEVER = ("proc", "sys", "dev", "tmp", "var", "run", "home", "root")

# Inside a private mount namespace: a read-only tmpfs root holding the package's top-level
# entries (bound read-only), /var, a /tmp tmpfs and four device nodes; then chroot as 1000.
SANDBOX_SH = r"""
set -eu
new=$1 pkg=$2 var=$3
shift 3
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$new"
for entry in $(cd "$pkg" && find . -mindepth 1 -maxdepth 1 -printf '%P\n'); do
	if [ -L "$pkg/$entry" ]; then
		cp -P "$pkg/$entry" "$new/$entry"
		continue
	fi
	if [ -d "$pkg/$entry" ]; then mkdir "$new/$entry"; else : >"$new/$entry"; fi
	mount --bind "$pkg/$entry" "$new/$entry"
	mount -o remount,bind,ro,nosuid,nodev "$new/$entry"
done
mkdir "$new/var" "$new/tmp" "$new/dev"
mount --bind "$var" "$new/var"
mount -t tmpfs -o size=16m,mode=1777,nosuid,nodev tmpfs "$new/tmp"
for node in null zero random urandom; do
	: >"$new/dev/$node"
	mount --bind "/dev/$node" "$new/dev/$node"
done
mount -o remount,ro "$new"
exec chroot --userspec=1000:1000 "$new" "$@"
"""


def grain_cmd(mnt, var, port, argv):
    env = ["env", "-i", "HOME=/var", f"SILO_RADICALE_PORT={port}",
           "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
    return [*env, "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
            SANDBOX_SH, "sandbox", mnt, PKG, var, *argv]


class Grain:
    """Radicale from the tree, in the sandbox-like root, on a kernel-chosen port."""

    def __init__(self, var):
        self.var = var
        self.proc = None
        self.log = os.path.join(silotest.tmpdir("radicale-log-"), "stderr")

    def start(self, command):
        self.port = silotest.free_port()
        mnt = silotest.tmpdir("radicale-mnt-")
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                grain_cmd(mnt, self.var, self.port, command),
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection((silotest.HOST, self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self):
        """SIGTERM; returns (exit status, seconds), killing it after 10 s."""
        if not self.proc or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None), 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            rc = self.proc.wait(timeout=10)
        return rc, time.monotonic() - t0

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    @property
    def base(self):
        return f"http://{silotest.HOST}:{self.port}"

    def stderr(self):
        return Path(self.log).read_text(errors="replace") if os.path.exists(self.log) else ""


def resolve(root, path):
    """path looked up in root as if root were / (symlinks followed); None if absent or
    leaving the tree."""
    parts, cur, links = [p for p in path.split("/") if p], [], 0
    while parts:
        name = parts.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            cur = cur[:-1]
            continue
        host = os.path.join(root, *cur, name)
        if not os.path.lexists(host):
            return None
        if os.path.islink(host):
            links += 1
            target = os.readlink(host)
            if links > 40:
                return None
            if target.startswith("/"):
                cur = []
            parts = [p for p in target.split("/") if p] + parts
            continue
        cur.append(name)
    return os.path.join(root, *cur)


def check_tree(t):
    files, links, size, setuid, absolute, nosrc = 0, 0, 0, [], [], []
    for dirpath, dirnames, filenames in os.walk(PKG):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if os.path.islink(p):
                links += 1
                if os.readlink(p).startswith("/"):
                    absolute.append(p)
            elif os.path.isfile(p):
                files += 1
                size += st.st_size
            if st.st_mode & 0o6000:
                setuid.append(p)
            if name.endswith(".pyc") and dirpath.endswith("/__pycache__"):
                src = os.path.join(os.path.dirname(dirpath), name.split(".")[0] + ".py")
                if not os.path.exists(src):
                    nosrc.append(p)
    t.note(f"root: {files} files, {links} symlinks, {size} bytes ({size / 2**20:.1f} MiB)")
    manifest = json.loads(Path(PKG, "silo-manifest.json").read_text())
    t.ok(manifest.get("title") == "Radicale" and manifest.get("http_port") == 8000,
         "tree: silo-manifest.json names Radicale on port 8000")
    cmd = manifest["continue_command"]
    t.ok(all(resolve(PKG, a) for a in cmd if a.startswith("/")),
         f"tree: the continue command's files are in the tree ({' '.join(cmd)})")
    t.ok(os.access(os.path.join(PKG, "silo-radicale.py"), os.X_OK), "tree: the launcher")
    top = set(os.listdir(PKG))
    t.ok(not top & set(NEVER), "tree: nothing of /proc /sys /dev /tmp /var /run /home /root",
         sorted(top & set(NEVER)))
    t.ok(not absolute, "tree: every symlink is relative", absolute[:3])
    t.ok(not setuid, "tree: no setuid or setgid file", setuid[:3])
    t.ok(not nosrc, "tree: every __pycache__ .pyc has its .py", nosrc[:3])
    t.ok(500 <= files <= 5000 and size < 100 * 2**20,
         "tree: a plausible size (500 to 5000 files, under 100 MiB)", f"{files}, {size}")


def scenario(t):
    if not os.path.isdir(PKG):
        t.ok(True, f"radicale tree # SKIP {PKG} is absent (`make apps` builds it)")
        return
    if os.geteuid() != 0:
        t.ok(True, "radicale tree # SKIP needs root for the mount namespace and chroot")
        return
    t.ok(caldav is not None, "python3-caldav is importable (Debian's /usr/bin/python3)")
    if caldav is None:
        return
    sys.path.insert(0, str(silotest.ROOT / "apps/radicale"))
    import exercise

    check_tree(t)
    manifest = json.loads(Path(PKG, "silo-manifest.json").read_text())
    action, resume = manifest["actions"][0]["command"], manifest["continue_command"]
    var = silotest.tmpdir("radicale-var-")
    os.chown(var, APP_UID, APP_UID)
    os.chmod(var, 0o700)
    grain = Grain(var)
    try:
        if not t.ok(grain.start(action), "grain: the action starts Radicale from the tree "
                    "alone, as uid 1000", grain.stderr()[-600:]):
            return
        for step in exercise.STEPS:
            try:
                t.ok(True, step(grain.base))
            except Exception as e:  # the step's own message names what failed
                t.ok(False, f"exercise: {step.__name__}", f"{type(e).__name__}: {e}")
        log = grain.stderr()
        t.ok("Ada Lovelace (01234567) PUT /grain/trace/" in log and
             "Charles (fedcba98) PUT /grain/trace/x.ics: refused, read-only" in log,
             "identity: the grain's log names who changed what, and who was refused",
             log[-600:])
        store = Path(var, "radicale/collections/collection-root/grain/trace")
        items = list(store.glob("*.ics")) if store.is_dir() else []
        t.ok(len(items) == 2 and all(i.stat().st_uid == APP_UID for i in items),
             "storage: the event and the to-do are files in /var, owned by uid 1000",
             [str(i) for i in items])
        rc, secs = grain.stop()
        t.ok(rc == 0 and secs < 10, "grain: SIGTERM stops it cleanly", f"rc {rc}, {secs:.1f}s")

        if not t.ok(grain.start(resume), "restart: the continue command starts it again "
                    "on the same /var",
                    grain.stderr()[-600:]):
            return
        principal = exercise.dav_client(grain.base, exercise.OWNER).principal()
        names = sorted(c.name for c in principal.calendars())
        t.eq(names, ["Calendar", "Renamed calendar"],
             "restart: the same calendars, no new ones")
        found = principal.calendar(cal_id="trace").date_search(
            start=datetime.datetime(2024, 6, 1), end=datetime.datetime(2024, 7, 2))
        t.ok(any("Weekly sync" in e.data for e in found),
             "restart: the saved event is found again")
        rc, _ = grain.stop()
        t.eq(rc, 0, "restart: and stops cleanly again")

        log = grain.stderr()
        t.ok("Traceback" not in log and "ERROR" not in log and "Fatal" not in log,
             "grain: no error in its log",
             log[-600:])
        probe = ("import os, sys; sys.path.append('/usr/lib/python3/dist-packages'); "
                 "import radicale.app, radicale.server, vobject, pytz, dateutil.rrule; "
                 "print('proc' if os.path.exists('/proc/self') else 'no-proc')")
        r = subprocess.run(grain_cmd(silotest.tmpdir("radicale-mnt-"), var, 0,
                                     ["/usr/bin/python3", "-I", "-S", "-v", "-c", probe]),
                           capture_output=True, text=True, timeout=60)
        t.ok(r.returncode == 0 and r.stdout.strip() == "no-proc",
             "grain: Python runs there without /proc", r.stderr[-400:])
        stale = [line for line in r.stderr.splitlines() if "bytecode is stale" in line]
        t.ok(r.returncode == 0 and not stale,
             "grain: every module loads from its cached bytecode, none is compiled again",
             stale[:3])
    finally:
        grain.kill()


if __name__ == "__main__":
    silotest.run(scenario, time_limit=150)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# grainbench: the Python half of bench/bench_grains.sh. bench_grains.sh starts and stops every
# server itself (by pid); this program talks HTTP to them and times the grain starts:
#
#   grainbench.py cold  PORT LOG DATA STATE RUNS PATH   set up a fresh silo, install notes,
#       make a grain; time PATH to it stopped (idle stop) and running, RUNS times; then the
#       same with a fresh grain each run (the first-start path). Writes STATE (JSON).
#   grainbench.py bwrap STATE WORK RUNS PATH            time bwrap starting the same notes
#       binary until it answers PATH (--share-net), and until it listens (--unshare-net).
#   grainbench.py cgattach RUNS                         time moving a process into a fresh
#       cgroup (a write to cgroup.procs), the kernel's part of a sandbox start.
#   grainbench.py session PORT LOG STATE PATH EXTRA     log in again (a restarted silo), open
#       a session host on the grain, start it, and EXTRA more grains; prints
#       "HOST COOKIE BRIDGE_PID EXTRA_BRIDGE_PIDS" (the last comma-separated, or "-").
#
# Results are printed as `name=value` lines (numbers, milliseconds) for bench_grains.sh.
# Python 3 standard library plus tests/integration's helpers; every socket has a timeout;
# traffic goes to 127.0.0.1 only.
import json
import os
import re
import select
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
import graintest as gt  # noqa: E402
import silotest as st  # noqa: E402

PASSWORD = "benchmark password"
BASE_HOST = gt.BASE_HOST   # silo.localhost: the shell host; ui-<id>.silo.localhost:PORT
# Names the grain gets from silo, never from the package (server/sandbox_mount.c).
RESERVED = {"dev", "proc", "sys", "tmp", "var", "silo-bridge"}
STARTED_RE = r"parent: grain {} started \(pid (\d+), uid \d+, ([0-9.]+) ms\)"
PROBE_RE = re.compile(r"bridge: the app accepts connections on 127\.0\.0\.1:\d+ \(after (\d+) ms\)")


def die(msg):
    print(f"grainbench: {msg}", file=sys.stderr)
    sys.exit(1)


class Silo:
    """Just enough of silotest.Server for its helpers: a port and a log file, no process
    (bench_grains.sh owns the process)."""

    def __init__(self, port, log):
        self.port = int(port)
        self.log = log
        self.shell_host = f"{BASE_HOST}:{self.port}"

    def stderr(self):
        return Path(self.log).read_text(errors="replace")

    def setup_links(self):
        return st.SETUP_RE.findall(self.stderr())

    def client(self):
        return st.Client(self.port, host=self.shell_host)


def ttfb(port, host, path, cookie=None, timeout=15):
    """One GET on a fresh connection: (ms from the request's send to its first response
    byte, status). The connect is outside the timing."""
    s = socket.create_connection((st.HOST, port), timeout=timeout)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        req = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
        if cookie:
            req += f"Cookie: silo_grain={cookie}\r\n"
        req = (req + "Connection: close\r\n\r\n").encode()
        t0 = time.perf_counter()
        s.sendall(req)
        data = s.recv(65536)
        t1 = time.perf_counter()
        while True:   # the rest, so the server is done with it before the next one
            more = s.recv(65536)
            if not more:
                break
            data += more
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return (t1 - t0) * 1000.0, int(m.group(1)) if m else 0


def grain_ttfb(srv, sess, path):
    ms, status = ttfb(srv.port, sess.host, path, sess.cookie)
    if status != 200:
        die(f"GET {path} on the grain's session host answered {status}")
    return ms


def exits(srv, gid):
    return srv.stderr().count(f"grain {gid}: exited")


def wait_exits(srv, gid, n, timeout=30):
    """Waits until the front has logged the grain's n-th exit (its state is then STOPPED:
    GET /api/v1/grains says running false already while it is stopping)."""
    if not gt.wait_for(lambda: exits(srv, gid) >= n, timeout, 0.02):
        die(f"grain {gid} did not stop within {timeout} s (grain_idle_timeout = 1)")
    time.sleep(0.05)  # let the parent finish removing the cgroup


def started(srv, gid):
    """(pid, sandbox_start ms) from the latest "parent: grain G started" line."""
    found = re.findall(STARTED_RE.format(gid), srv.stderr())
    return (int(found[-1][0]), float(found[-1][1])) if found else (0, float("nan"))


def probe_ms(data, gid):
    """The bridge's latest "the app accepts connections (after N ms)" from the console log."""
    try:
        text = Path(data, "grains", gid, "log").read_text(errors="replace")
    except OSError:
        return float("nan")
    found = PROBE_RE.findall(text)
    return float(found[-1]) if found else float("nan")


def med(xs):
    xs = [x for x in xs if x == x]  # without NaN
    return statistics.median(xs) if xs else float("nan")


def emit(prefix, runs):
    """name=value lines: the medians of each column, and min/max of the difference."""
    cold = [r[0] for r in runs]
    warm = [r[1] for r in runs]
    diff = [c - w for c, w in runs]
    print(f"{prefix}_n={len(runs)}")
    print(f"{prefix}_cold={med(cold):.3f}")
    print(f"{prefix}_warm={med(warm):.3f}")
    print(f"{prefix}_diff={med(diff):.3f}")
    print(f"{prefix}_diff_min={min(diff):.3f}")
    print(f"{prefix}_diff_max={max(diff):.3f}")


def new_grain(admin, app_id):
    r = admin.post("/api/v1/grains", {"app_id": app_id, "title": "bench"})
    if r.status != 201:
        die(f"POST /api/v1/grains answered {r.status}: {r.text()[:200]}")
    return r.json()["grain_id"]


def open_session(srv, admin, gid):
    sess = gt.GrainSession(srv, admin, gid)
    if not sess.ok:
        die(f"could not open a session host on grain {gid}: {sess.create!r} {sess.opened!r}")
    return sess


def cmd_cold(port, log, data, state, runs, path):
    runs = int(runs)
    srv = Silo(port, log)
    admin = st.setup_admin(srv, name="bench", password=PASSWORD, server_name="bench")
    r = gt.install(admin, "notes")
    if r.status != 201:
        die(f"installing build/apps/notes.spk answered {r.status}: {r.text()[:200]}")
    app_id, package_id = r.json()["app_id"], r.json()["package_id"]

    # A stopped grain, RUNS times: the grain stops after grain_idle_timeout = 1 s without a
    # request; the front logs "grain G: exited" once the parent has reaped it.
    gid = new_grain(admin, app_id)
    sess = open_session(srv, admin, gid)
    grain_ttfb(srv, sess, path)            # its first start (the action's command)
    for _ in range(3):
        grain_ttfb(srv, sess, path)
    restart = []
    details = []
    for i in range(runs):
        wait_exits(srv, gid, i + 1)
        c = grain_ttfb(srv, sess, path)
        w = grain_ttfb(srv, sess, path)
        pid, sbx = started(srv, gid)
        restart.append((c, w))
        details.append((sbx, probe_ms(data, gid)))
    emit("restart", restart)
    print(f"restart_sandbox={med([d[0] for d in details]):.3f}")
    print(f"restart_probe={med([d[1] for d in details]):.3f}")
    print("restart_samples=" + ",".join(f"{c - w:.1f}" for c, w in restart))
    print("restart_sandbox_samples=" + ",".join(f"{d[0]:.1f}" for d in details))
    print("restart_probe_samples=" + ",".join(f"{d[1]:.0f}" for d in details))
    wait_exits(srv, gid, runs + 1)

    # A fresh grain each run: POST /api/v1/grains, a session, then the first request starts
    # it with the action's command (the "New notebook" click).
    fresh = []
    fdetails = []
    for _ in range(runs):
        g = new_grain(admin, app_id)
        s = open_session(srv, admin, g)
        c = grain_ttfb(srv, s, path)
        w = grain_ttfb(srv, s, path)
        fresh.append((c, w))
        fdetails.append((started(srv, g)[1], probe_ms(data, g)))
        wait_exits(srv, g, 1)   # no stop in the background of the next run
    emit("fresh", fresh)
    print(f"fresh_sandbox={med([d[0] for d in fdetails]):.3f}")
    print(f"fresh_probe={med([d[1] for d in fdetails]):.3f}")

    Path(state).write_text(json.dumps({"grain_id": gid, "app_id": app_id,
                                       "package_id": package_id, "data": data}))


def bwrap_cmd(root, var, share_net):
    bwrap = os.environ.get("BWRAP", "bwrap")
    cmd = [bwrap, "--unshare-all"] + (["--share-net"] if share_net else []) + [
        "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--uid", "1000",
        "--gid", "1000"]
    for e in sorted(os.listdir(root)):
        if e not in RESERVED:
            cmd += ["--ro-bind", os.path.join(root, e), "/" + e]
    return cmd + ["--dev", "/dev", "--tmpfs", "/tmp", "--bind", var, "/var", "--chdir", "/",
                  "/notes", "--port", "0", "--data", "/var"]


def bwrap_once(cmd, path):
    """One start: (ms to the "listening" line, ms to the first byte of the answer to PATH
    or None without a shared network, ms of a second request or None)."""
    listen_re = re.compile(rb"notes: listening on 127\.0\.0\.1:(\d+)")
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        buf = b""
        m = None
        while not m:
            left = t0 + 10 - time.perf_counter()
            if left <= 0 or not select.select([p.stderr], [], [], left)[0]:
                die("bwrap: notes did not say it listens within 10 s")
            chunk = os.read(p.stderr.fileno(), 4096)
            if not chunk:
                die(f"bwrap exited: {buf.decode(errors='replace')[-300:]}")
            buf += chunk
            m = listen_re.search(buf)
        t_listen = time.perf_counter()
        if "--share-net" not in cmd:
            return (t_listen - t0) * 1000.0, None, None
        port = int(m.group(1))
        s = socket.create_connection((st.HOST, port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  .encode())
        first = s.recv(65536)
        t1 = time.perf_counter()
        while s.recv(65536):
            pass
        s.close()
        if not first.startswith(b"HTTP/1.1 200"):
            die(f"bwrap: notes answered {first[:40]!r}")
        w, status = ttfb(port, "127.0.0.1", path)
        if status != 200:
            die(f"bwrap: notes answered {status}")
        return (t_listen - t0) * 1000.0, (t1 - t0) * 1000.0, w
    finally:
        p.kill()   # bwrap, by its pid; --die-with-parent takes its children along
        p.wait(timeout=10)
        p.stderr.close()


def cmd_bwrap(state, work, runs, path):
    """bwrap starting /notes from the same installed package root, isolated like a grain as
    far as bwrap goes: new user/mount/pid/ipc/uts/cgroup namespaces, the package's top-level
    entries bound read-only on bwrap's own tmpfs root (as silo does; a read-only bind of the
    package root itself as / leaves bwrap no place to create /dev, /tmp and /var), --dev
    /dev, --tmpfs /tmp, a writable /var, uid 1000, no capabilities, setsid, die with parent.
    No seccomp filter and no cgroup (silo does both). Two ways:
    --share-net: the app listens on the host's loopback; timed from just before the spawn
      to the first byte of the answer to PATH, sent as soon as the app prints that it
      listens (no polling); minus a second request, like silo's figure;
    --unshare-net (a new network namespace, as a grain has): nothing can reach the app, so
      timed to its "listening" line."""
    runs = int(runs)
    st_ = json.loads(Path(state).read_text())
    root = os.path.join(st_["data"], "apps", st_["package_id"])
    var = os.path.join(work, "bwrap-var")
    os.makedirs(var, exist_ok=True)
    shared, own = bwrap_cmd(root, var, True), bwrap_cmd(root, var, False)
    print("bwrap_cmd=" + " ".join(c.replace(root, "ROOT").replace(var, "VAR") for c in shared))
    bwrap_once(shared, path)   # page cache and the like; not counted
    a, b = [], []
    for _ in range(runs):      # alternated, so both see the same machine
        a.append(bwrap_once(shared, path))
        b.append(bwrap_once(own, path))
    emit("bwrap", [(r[1], r[2]) for r in a])
    print(f"bwrap_listen={med([r[0] for r in a]):.3f}")
    print(f"bwrapnet_listen={med([r[0] for r in b]):.3f}")
    print(f"bwrapnet_min={min(r[0] for r in b):.3f}")
    print(f"bwrapnet_max={max(r[0] for r in b):.3f}")


def cmd_cgattach(runs):
    """Moves a fresh sleeping child into a fresh cgroup, as the sandbox moves the grain's
    init: the write to cgroup.procs takes cgroup_threadgroup_rwsem for writing, which waits
    for an RCU grace period unless one just passed. One cgroup2 directory, removed after."""
    runs = int(runs)
    mnt = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                mnt = left.split()[4]
                break
    if not mnt:
        print("cgattach=nan")
        return
    d = os.path.join(mnt, f"silo-bench-{os.getpid()}")
    os.mkdir(d)
    ts = []
    try:
        for _ in range(runs):
            time.sleep(0.3)   # a quiet gap, as between two grain starts
            p = subprocess.Popen(["sleep", "10"])
            try:
                t0 = time.perf_counter()
                with open(os.path.join(d, "cgroup.procs"), "w") as f:
                    f.write(str(p.pid))
                ts.append((time.perf_counter() - t0) * 1000.0)
            finally:
                p.kill()
                p.wait()
    finally:
        time.sleep(0.05)
        os.rmdir(d)
    print(f"cgattach={med(ts):.3f}")
    print("cgattach_samples=" + ",".join(f"{t:.1f}" for t in ts))


def cmd_session(port, log, state, path, extra):
    """After a restart on the same data: log in, open a session host, start the grain, and
    start EXTRA more grains (for the memory figures: bridges share their text pages)."""
    srv = Silo(port, log)
    st_ = json.loads(Path(state).read_text())
    admin = srv.client()
    r = admin.login("bench", PASSWORD)
    if r.status != 200:
        die(f"login answered {r.status}")
    sess = open_session(srv, admin, st_["grain_id"])
    grain_ttfb(srv, sess, path)
    pid = started(srv, st_["grain_id"])[0]
    more = []
    for _ in range(int(extra)):
        g = new_grain(admin, st_["app_id"])
        grain_ttfb(srv, open_session(srv, admin, g), path)
        more.append(str(started(srv, g)[0]))
    print(sess.host, sess.cookie, pid, ",".join(more) or "-")


def main():
    if len(sys.argv) < 2:
        die("usage: see the comment at the top of bench/grainbench.py")
    cmds = {"cold": (cmd_cold, 6), "bwrap": (cmd_bwrap, 4), "cgattach": (cmd_cgattach, 1),
            "session": (cmd_session, 5)}
    fn, nargs = cmds.get(sys.argv[1], (None, 0))
    if not fn or len(sys.argv) != nargs + 2:
        die("usage: see the comment at the top of bench/grainbench.py")
    fn(*sys.argv[2:])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The probe app (apps/probe) in real grains, reached through session hosts: its report of
# what it sees inside the sandbox is checked answer by answer (uid 1000, no capabilities,
# no_new_privs, seccomp filter, no /proc or /sys, a minimal /dev, / read-only, /var and
# /tmp writable, /tmp empty at every start, /var kept, hostname grain, only lo), then every
# hostile action it knows is tried on its own (GET /attack/<name>): ptrace, mount, unshare,
# keyctl, bpf, raw and netlink sockets, writes outside /var, a 127.0.0.1 port this test
# opens on the host, another grain's /var; then a fork bomb and a memory hog, which must
# hit the grain's limits while the server and the other grain go on serving.
# Needs root and `make apps`; skips otherwise.
import os
import socket
import time
import urllib.parse

import graintest as gt
import silotest

PIDS_MAX = 64
MEMORY_MB = 64

# What each quick attack must get inside a grain ("A|B": either). Same table as
# tests/unit/test_sandbox.c, which runs the probe in a bare sandbox.
EXPECT = {
    "write_root": "EROFS", "write_dev": "EROFS", "write_bridge": "EACCES|EROFS",
    "chmod_root": "EROFS", "mount_tmpfs": "EPERM", "umount_var": "EPERM", "fsopen": "EPERM",
    "pivot_root": "EPERM", "chroot": "EPERM", "unshare_user": "EPERM", "unshare_net": "EPERM",
    "unshare_mount": "EPERM", "setns": "EPERM", "clone_newuser": "EPERM",
    "clone_newns": "EPERM", "clone_plain": "ok", "clone3": "ENOSYS",
    "ptrace_traceme": "EPERM", "ptrace_attach_1": "EPERM", "process_vm_readv": "EPERM",
    "keyctl": "ENOSYS", "add_key": "ENOSYS", "request_key": "ENOSYS", "bpf": "ENOSYS",
    "perf_event_open": "ENOSYS", "userfaultfd": "ENOSYS", "io_uring_setup": "ENOSYS",
    "socket_packet": "EAFNOSUPPORT", "socket_packet_high_bits": "EAFNOSUPPORT",
    "socket_netlink": "EAFNOSUPPORT", "socket_raw": "EPERM", "socket_unix": "ok",
    "socketpair_inet": "EAFNOSUPPORT", "tiocsti": "EPERM", "tiocsti_high_bits": "EPERM",
    "ioctl_fionread": "ok", "personality_bsd": "EPERM", "personality_query": "ok",
    "reboot": "EPERM", "kexec_load": "EPERM", "init_module": "EPERM", "swapon": "EPERM",
    "acct": "EPERM", "quotactl": "EPERM", "syslog": "EPERM", "open_by_handle_at": "EPERM",
    "clock_settime": "EPERM", "unlisted_syscall": "ENOSYS", "mknod_char": "EPERM",
    "setuid_0": "EINVAL|EPERM", "setgid_0": "EINVAL|EPERM", "setgroups": "EPERM",
    "sethostname": "EPERM", "open_proc_1": "ENOENT", "open_sys": "ENOENT",
    "dev_mem": "ENOENT", "dotdot": "ENOENT", "write_dev_null": "ok",
    "read_dev_urandom": "ok", "host_port": "ECONNREFUSED|ENETUNREACH", "other_var": "ENOENT",
}


def q(**kw):
    return "?" + urllib.parse.urlencode(kw) if kw else ""


def one_of(got, want):
    return got in want.split("|")


def check_report(t, rep, label):
    """Every observation of the report; label names the run."""
    t.ok(rep.get("probe") == "silo probe 1" and rep.get("confined") is True,
         f"{label}: the probe finds itself confined", repr(rep)[:300])
    ident = rep.get("identity", {})
    t.eq({k: ident.get(k) for k in ("uid", "euid", "suid", "gid", "egid", "sgid")},
         {k: 1000 for k in ("uid", "euid", "suid", "gid", "egid", "sgid")},
         f"{label}: uid and gid are 1000 (real, effective, saved)")
    t.eq(ident.get("groups"), [], f"{label}: no supplementary groups")
    t.ok(ident.get("pid") == 2 and ident.get("ppid") == 1,
         f"{label}: the app is PID 2 of its own PID namespace, under the bridge (PID 1)",
         repr(ident))
    caps = rep.get("caps", {})
    t.eq({k: caps.get(k) for k in ("effective", "permitted", "inheritable", "bounding",
                                   "ambient")},
         {k: "0000000000000000" for k in ("effective", "permitted", "inheritable", "bounding",
                                          "ambient")},
         f"{label}: no capabilities in any set, the bounding set included")
    t.ok(caps.get("securebits", 0) > 0, f"{label}: securebits are set", repr(caps))
    t.eq(rep.get("no_new_privs"), 1, f"{label}: no_new_privs is set")
    t.eq(rep.get("seccomp"), 2, f"{label}: a seccomp filter is on (mode 2)")
    lim = rep.get("rlimits", {})
    t.ok(lim.get("nofile") == [1024, 4096] and lim.get("core") == [0, 0]
         and lim.get("rtprio") == [0, 0], f"{label}: rlimits nofile 1024/4096, no core, no "
         "rtprio", repr(lim))
    t.eq(rep.get("umask"), "0007", f"{label}: umask 0007")
    t.eq(rep.get("open_fds"), [0, 1, 2, 3, 4],
         f"{label}: the app holds stdio, its listening socket and the connection only")
    ex = rep.get("exists", {})
    absent = ["/proc", "/sys", "/etc", "/home", "/root", "/boot", "/run", "/usr",
              "/sys/fs/cgroup", "/proc/self/mountinfo", "/proc/cpuinfo"]
    t.eq([p for p in absent if ex.get(p) is not False], [],
         f"{label}: no /proc, no /sys, nothing of the host's tree")
    t.eq([p for p in ("/dev", "/var", "/tmp", "/dev/shm", "/silo-bridge") if ex.get(p) is not True],
         [], f"{label}: /dev, /var, /tmp, /dev/shm and /silo-bridge are there")
    t.eq(rep.get("root_entries"), ["dev", "probe", "silo-bridge", "silo-manifest.json", "tmp",
                                   "var"], f"{label}: / holds the package and silo's mounts only")
    t.eq(rep.get("dev_entries"), ["null", "random", "shm", "urandom", "zero"],
         f"{label}: /dev holds only null, random, shm, urandom, zero")
    t.eq(rep.get("writable"), {"/": "EROFS", "/var": "ok", "/tmp": "ok", "/dev": "EROFS",
                               "/dev/shm": "ok"},
         f"{label}: / and /dev read-only; /var, /tmp, /dev/shm writable")
    t.eq(rep.get("interfaces"), [{"name": "lo", "up": True}],
         f"{label}: the only network interface is lo, up")
    t.eq(rep.get("hostname"), "grain", f"{label}: the hostname is grain")
    t.ok(rep.get("tmp_marker_written") is True, f"{label}: the probe could write to /tmp")
    att = rep.get("attacks", {})
    bad = {k: att.get(k) for k in EXPECT if k in att and not one_of(att.get(k), EXPECT[k])}
    t.ok("refused" not in att and len(att) == len(EXPECT) and not bad,
         f"{label}: all {len(EXPECT)} quick attacks of the report fail as they must",
         f"unexpected: {bad}, missing: {sorted(set(EXPECT) - set(att))}")


def scenario(t):
    if not gt.skip_unless_ready(t, "probe"):
        return
    s = gt.new_server(config={"grain_idle_timeout": 2, "grain_pids": PIDS_MAX,
                              "grain_memory_mb": MEMORY_MB}).start()
    admin = silotest.setup_admin(s)
    app = gt.install(admin, "probe").json().get("app_id", "")
    ga = admin.post("/api/v1/grains", {"app_id": app, "title": "A"}).json().get("grain_id", "")
    gb = admin.post("/api/v1/grains", {"app_id": app, "title": "B"}).json().get("grain_id", "")
    a = gt.GrainSession(s, admin, ga)
    b = gt.GrainSession(s, admin, gb)
    t.ok(a.ok and b.ok, "setup: two probe grains, each with a session host")
    t.eq(a.get("/health").text(), "ok\n", "probe: GET /health through the session host")

    # --- Headers and cookies both ways (the probe echoes what it received) ---
    r = a.get("/echo", headers={"Cookie": f"silo_grain={a.cookie}; silo_session=s3cret; "
                                          "silo_csrf=c; theme=dark",
                                "X-Sandstorm-Username": "evil", "Authorization": "Bearer x"})
    seen = r.text().lower()
    t.ok(r.status == 200 and "cookie: theme=dark" in seen and "silo_" not in seen,
         "headers: the app sees its own cookies, none of silo's", seen[:300])
    t.ok("x-sandstorm-username: evil" not in seen and "authorization" not in seen,
         "headers: a forged identity header and Authorization never reach the app")
    cookies = r.header_all("Set-Cookie")
    t.eq(cookies, ["own=1; Path=/"],
         "headers: only the app's host-only cookie passes; silo_* names and Domain= are dropped")

    # A port on the host's 127.0.0.1 that the grain must not reach, and another grain's /var.
    host_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    host_sock.bind((silotest.HOST, 0))
    host_sock.listen(8)
    host_sock.setblocking(False)
    host_port = host_sock.getsockname()[1]
    r = b.get("/report")
    t.ok(r.status == 200 and r.json().get("var_count") == 1,
         "grain B: its report writes a counter into its /var", repr(r)[:200])
    other = os.path.join(s.data, "grains", gb, "var")
    t.ok(os.path.exists(os.path.join(other, "probe-count")),
         "grain B: the counter is in DATA/grains/<B>/var on the host")

    # --- The report ---
    r = a.get("/report" + q(host_port=host_port, other_var=other + "/probe-count"))
    rep = r.json()
    t.ok(r.status == 200 and r.header("Content-Type") == "application/json",
         "report: GET /report through the session host is JSON", repr(r)[:200])
    check_report(t, rep, "report")
    t.eq(rep.get("tmp_entries"), [], "report: /tmp is empty at the grain's first start")
    t.eq(rep.get("var_entries"), [], "report: /var starts empty")
    t.eq(rep.get("var_count"), 1, "report: the grain's own counter in /var starts at 1")
    r = a.get("/report")
    t.ok(r.json().get("tmp_entries") == ["probe-marker"] and r.json().get("var_count") == 2,
         "report: a second run sees its /tmp marker and counter 2", repr(r)[:300])

    # --- Every attack on its own ---
    for name, want in EXPECT.items():
        args = {}
        if name == "host_port":
            args = {"host_port": host_port}
        elif name == "other_var":
            args = {"other_var": other + "/probe-count"}
        r = a.get(f"/attack/{name}" + q(**args))
        got = r.json().get("result") if r.status == 200 else f"HTTP {r.status}"
        t.ok(one_of(got, want), f"attack: {name} -> {want}", f"got {got}")
    r = a.get("/attack/host_port" + q(host_port=s.port))
    t.ok(one_of(r.json().get("result"), EXPECT["host_port"]),
         "attack: connecting to silo's own port on 127.0.0.1 fails too", repr(r))
    r = a.get("/attack/other_var" + q(other_var=f"/var/../grains/{gb}/var"))
    t.eq(r.json().get("result"), "ENOENT", "attack: /var/.. does not lead to other grains")
    t.eq(a.get("/attack/no-such-attack").status, 404, "attack: an unknown name is 404")

    # --- Hostile loads ---
    t0 = time.monotonic()
    r = a.get("/attack/forkbomb" + q(arg=20000), timeout=30)
    fb = r.json()
    t.ok(r.status == 200 and 0 < fb.get("forks", 0) < PIDS_MAX
         and fb.get("stopped_by") == "EAGAIN",
         f"load: a fork bomb stops at the grain's pids.max ({PIDS_MAX}) with EAGAIN", repr(fb))
    t.eq(admin.get("/api/v1/status").status, 200,
         "load: the server answers after the fork bomb")
    r = a.get("/attack/memhog" + q(arg=1024), timeout=40)
    mh = r.json()
    t.ok(r.status == 200 and mh.get("end") == "killed" and mh.get("signal") == 9
         and 0 < mh.get("mib", 0) <= MEMORY_MB,
         f"load: a memory hog is killed at the grain's memory.max ({MEMORY_MB} MiB)", repr(mh))
    t.eq(admin.get("/api/v1/status").status, 200, "load: the server answers after the memory hog")
    t.eq(a.get("/health").status, 200, "load: the probe itself survives both (its child died)")
    t.eq(b.get("/health").status, 200, "load: the other grain was not disturbed")
    r = a.get("/attack/cpuspin" + q(arg=300), timeout=20)
    t.ok(r.status == 200 and r.json().get("ms", 0) >= 300, "load: a CPU spin of 300 ms runs",
         repr(r))
    t.ok(time.monotonic() - t0 < 60, "load: every load ended in bounded time")

    # --- /tmp wiped and /var kept across a restart ---
    t.ok(gt.wait_stopped(admin, ga), "restart: the grain stops when idle")
    r = a.get("/report" + q(host_port=host_port, other_var=other + "/probe-count"))
    rep = r.json()
    t.eq(rep.get("tmp_entries"), [], "restart: /tmp is empty again after the restart")
    t.ok(rep.get("var_count") == 3 and "probe-count" in rep.get("var_entries", []),
         "restart: /var kept the counter (3)", repr(rep.get("var_count")))
    check_report(t, rep, "after restart")
    try:
        conn, _ = host_sock.accept()
        conn.close()
        reached = True
    except BlockingIOError:
        reached = False
    host_sock.close()
    t.ok(not reached, "attack: no connection ever reached the host's listening socket")


silotest.run(scenario)

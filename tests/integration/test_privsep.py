#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks the privilege separation a person would look for with ps and /proc: silo runs as
# two processes, the parent (root: it starts grains) and the front that meets the network,
# which has its own uid, no capabilities, no_new_privs and a seccomp filter; the store
# belongs to the front's uid; and the front dies with its parent.
import os
import time

import silotest
from silotest import Server

FRONT_UID = 2999000   # config/silo.conf's front_uid


def status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    kids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return kids


def cgroups(pid):
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            return f.read()
    except OSError:
        return ""


def is_spare(pid, parent):
    try:
        own_ns = os.readlink(f"/proc/{pid}/ns/pid") != os.readlink(f"/proc/{parent}/ns/pid")
    except OSError:
        return False
    return own_ns and "/silo-spare-" in cgroups(pid)


def scenario(t):
    if os.geteuid() != 0:
        t.ok(True, "# SKIP privilege separation needs root")
        return
    s = Server().start()
    parent = s.proc.pid
    ps = status(parent)
    t.eq(ps.get("Uid", "").split()[:1], ["0"], "parent: runs as root (it starts sandboxes)")
    kids = children(parent)
    # Beside the front, a cgroup v1 host keeps one spare grain init (server/sandbox_spare.c):
    # root, in a pid namespace of its own, in a cgroup named silo-spare-*, waiting.
    fronts = [k for k in kids if status(k).get("Uid", "").split()[:1] != ["0"]]
    others = [k for k in kids if k not in fronts]
    # A spare moves into its cgroups just after it is cloned (5-20 ms on v1): give it time.
    deadline = time.time() + 3
    while others and not all(is_spare(k, parent) for k in others) and time.time() < deadline:
        time.sleep(0.05)
    t.ok(len(fronts) == 1, "parent: has exactly one unprivileged child, the front", repr(kids))
    t.ok(len(others) <= 1 and all(is_spare(k, parent) for k in others),
         "parent: its only other child is a spare grain init, in its own pid namespace and "
         "silo-spare cgroup", repr([(k, cgroups(k)) for k in others]))
    front = fronts[0] if fronts else 0
    fs = status(front)
    t.eq(fs.get("Uid", "").split(), [str(FRONT_UID)] * 4,
         "front: real, effective, saved and filesystem uid are the front's own")
    t.eq(fs.get("Gid", "").split(), [str(FRONT_UID)] * 4, "front: all four gids are its own")
    t.eq(fs.get("Groups", ""), "", "front: no supplementary groups")
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        t.eq(fs.get(cap), "0000000000000000", f"front: {cap} is empty")
    t.eq(fs.get("NoNewPrivs"), "1", "front: no_new_privs is set")
    if "debug" in silotest.silo_bin():
        t.ok(True, "front: # SKIP seccomp is off in the sanitizer build (LeakSanitizer needs ptrace)")
    else:
        t.eq(fs.get("Seccomp"), "2", "front: a seccomp filter is installed")
    st = os.stat(os.path.join(s.data, "silo.db"))
    t.ok(st.st_uid == FRONT_UID and (st.st_mode & 0o077) == 0,
         "store: silo.db belongs to the front's uid and no one else may read it",
         f"uid {st.st_uid} mode {oct(st.st_mode)}")
    r = s.client().get("/api/v1/status")
    t.eq(r.status, 200, "front: serves through its confinement")
    s.kill()
    deadline = time.time() + 5
    while time.time() < deadline and os.path.exists(f"/proc/{front}") and \
            status(front).get("State", "").split()[:1] != ["Z"]:
        time.sleep(0.05)
    gone = not os.path.exists(f"/proc/{front}") or status(front).get("State", "")[:1] == "Z"
    t.ok(gone, "front: dies when its parent is killed with SIGKILL")


silotest.run(scenario)

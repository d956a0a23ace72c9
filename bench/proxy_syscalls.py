#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Syscalls per proxied request (docs/BENCHMARKS.md): a fresh silo with a notes grain, wrk on
# GET /api/whoami through its session host, and `strace -c` on the front or the grain's
# bridge for 3 s of it; prints strace's table and wrk's count. strace slows what it traces:
# read the calls per request, not the rates. Needs root, `make apps`, wrk and strace.
# Usage: proxy_syscalls.py front|bridge
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import graintest as gt  # noqa: E402
import silotest  # noqa: E402


def front_pid(server_pid):
    """The front: the child of the server that runs under front_uid (not root)."""
    out = subprocess.run(["ps", "-o", "pid=,uid=", "--ppid", str(server_pid)],
                         capture_output=True, text=True).stdout.split("\n")
    for line in out:
        f = line.split()
        if len(f) == 2 and f[1] != "0":
            return int(f[0])
    return None


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "front"
    if which not in ("front", "bridge"):
        sys.exit("usage: proxy_syscalls.py front|bridge")
    s = gt.new_server(config={"max_conns_per_addr": 1024}).start()
    try:
        admin = silotest.setup_admin(s)
        app = gt.install(admin, "notes").json()["app_id"]
        gid = admin.post("/api/v1/grains", {"app_id": app}).json()["grain_id"]
        sess = gt.GrainSession(s, admin, gid)
        if sess.get("/api/whoami").status != 200:
            sys.exit("the grain did not answer")
        pid = front_pid(s.proc.pid) if which == "front" else gt.grain_pid(s, gid)
        wrk = subprocess.Popen(["wrk", "-t1", "-c8", "-d6s", "-H", f"Host: {sess.host}",
                                "-H", f"Cookie: silo_grain={sess.cookie}",
                                f"http://127.0.0.1:{s.port}/api/whoami"],
                               stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        st = subprocess.run(["timeout", "-s", "INT", "3", "strace", "-c", "-p", str(pid)],
                            capture_output=True, text=True)
        print(f"{which} (pid {pid}), 3 s of strace -c:")
        print(st.stderr.strip())
        print(wrk.communicate()[0].strip())
    finally:
        s.stop()


main()

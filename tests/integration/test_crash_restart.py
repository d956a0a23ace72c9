#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks that what the server acknowledged survives a kill -9: after setup, an invitation
# and a new user, SIGKILL right after the last 201, then a restart on the same data
# directory: both accounts log in, the unused invitation still works, sessions survive,
# and no setup link is printed the second time.
import re

import silotest
from silotest import PASSWORD, Server


def scenario(t):
    s = Server().start()
    admin = silotest.setup_admin(s, name="admin", server_name="Crash silo")
    r = admin.post("/api/v1/invites", {})
    inv1 = re.search(r"/invite/([0-9a-f]{64})$", r.json().get("url", ""))
    r = admin.post("/api/v1/invites", {})
    inv2 = re.search(r"/invite/([0-9a-f]{64})$", r.json().get("url", ""))
    t.ok(inv1 and inv2, "before the crash: two invitations made")
    dave = s.client()
    r = dave.post(f"/api/v1/invites/{inv1.group(1) if inv1 else 'x'}/accept",
                  {"name": "dave", "password": PASSWORD})
    t.eq(r.status, 201, "before the crash: dave joins with the first invitation (201)")
    s.kill()   # right after the acknowledged write
    t.ok(s.proc.returncode == -9, "crash: the server was killed with SIGKILL",
         repr(s.proc.returncode))

    s.restart()
    t.ok(s.running(), "restart: the server starts again on the same data directory")
    t.eq(s.setup_links(), [], "restart: no setup link is printed the second time")
    st = s.client().get("/api/v1/status").json()
    t.ok(st.get("setup_needed") is False and st.get("name") == "Crash silo",
         "restart: status shows the server set up, with its name", repr(st))
    t.eq(s.client().login("admin").status, 200, "restart: the administrator still logs in")
    t.eq(s.client().login("dave").status, 200, "restart: the user created just before the kill "
         "still logs in")
    old = s.client()
    old.cookies = dict(dave.cookies)
    t.eq(old.get("/api/v1/me").json().get("name"), "dave",
         "restart: a session from before the crash still works")
    r = s.client().get(f"/invite/{inv2.group(1) if inv2 else 'x'}")
    t.eq(r.status, 200, "restart: the unused invitation still opens")
    r = s.client().post(f"/api/v1/invites/{inv1.group(1) if inv1 else 'x'}/accept",
                        {"name": "eve", "password": PASSWORD})
    t.ok(400 <= r.status < 500, "restart: the used invitation stays used (4xx)", repr(r))

    # A second kill -9 without any request in between, and a third start.
    s.kill()
    s.restart()
    t.eq(s.client().login("dave").status, 200, "restart: a second kill -9 loses nothing either")
    rc, secs = s.stop()
    t.eq(rc, 0, "server: exits 0 on SIGTERM")


silotest.run(scenario)

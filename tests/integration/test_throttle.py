#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks login throttling: after a handful of wrong passwords for one name, further tries
# are refused with 429 and a Retry-After header, even with the right password, and the HTML
# login form is throttled the same way.
import re
import time

import silotest
from silotest import PASSWORD, Server


def scenario(t):
    s = Server().start()
    silotest.setup_admin(s, name="alice")

    statuses = []
    throttled = None
    for _ in range(12):
        r = s.client().login("alice", "not the password")
        statuses.append(r.status)
        if r.status == 429:
            throttled = r
            break
    t.ok(statuses[:5] == [401] * 5, "throttle: the first five wrong passwords get 401",
         repr(statuses))
    t.ok(throttled is not None, "throttle: more wrong passwords for one name get 429",
         repr(statuses))
    ra = throttled.header("Retry-After", "") if throttled else ""
    t.ok(re.fullmatch(r"[1-9][0-9]*", ra), "throttle: the 429 carries a Retry-After in seconds",
         repr(ra))
    r = s.client().login("alice", PASSWORD)
    t.eq(r.status, 429, "throttle: while throttled, even the right password is refused (429)")

    # The HTML form shows the same refusal.
    c = s.client()
    page = c.get("/login").text()
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    r = c.request("POST", "/login", form={"csrf": m.group(1) if m else "", "name": "alice",
                                           "password": PASSWORD})
    t.ok(r.status == 429 and r.header("Retry-After"),
         "throttle: the login form is throttled too (429 with Retry-After)", repr(r))

    # The backoff ends: after Retry-After seconds the right password works again.
    wait = int(ra) if ra.isdigit() else 2
    if wait <= 8:
        time.sleep(wait + 0.2)
        r = s.client().login("alice", PASSWORD)
        t.eq(r.status, 200, f"throttle: after Retry-After ({wait} s) the right password works")
    else:
        t.ok(False, "throttle: Retry-After after the first refusals is short", f"{wait} s")

    rc, _ = s.stop()
    t.eq(rc, 0, "server: exits 0 on SIGTERM")


silotest.run(scenario)

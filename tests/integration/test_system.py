#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The admin page's "This machine" calls on a server that does not run as the appliance:
# power off, reboot and OS updates are for administrators only, need the CSRF header, and
# natively answer 409 "not running as the appliance" (the server keeps serving: nothing is
# signalled); the admin page says the host system does these. The appliance side (PID 1
# reboots, an update boots, a bad one rolls back) is booted in qemu-tests/scenarios/.
import os
import re

import graintest as gt
import silotest as st



def scenario(t):
    s = st.Server().start()
    admin = st.setup_admin(s)
    bob = gt.invite_user(s, admin, "bob")

    page = admin.get("/admin").text()
    t.ok("This machine" in page and "own system" in page,
         "admin page: a native server says its own system powers and updates it")
    t.ok("data-system=" not in page, "admin page: no power buttons on a native server")
    sysinfo = admin.get("/api/v1/admin/system").json()
    t.eq(sysinfo.get("appliance"), False, "GET /api/v1/admin/system: not the appliance")
    vfs = os.statvfs(s.data)
    t.ok(sysinfo.get("data_bytes") == vfs.f_blocks * vfs.f_frsize and
         0 <= sysinfo.get("data_free_bytes", -1) <= sysinfo.get("data_bytes"),
         "GET /api/v1/admin/system: the data file system's size, as statvfs says", repr(sysinfo))

    for what in ("poweroff", "reboot"):
        path = f"/api/v1/admin/{what}"
        t.eq(s.client().post(path, {}).status, 401, f"{what}: refused without a session")
        t.eq(bob.post(path, {}).status, 403, f"{what}: refused to a user who is not an admin")
        t.eq(admin.post(path, {}, csrf=False).status, 403, f"{what}: refused without CSRF header")
        r = admin.post(path, {})
        t.eq(r.status, 409, f"{what}: 409 natively")
        t.ok("not running as the appliance" in r.json().get("error", ""),
             f"{what}: the error says why: {r.json().get('error')!r}")
    r = admin.request("POST", "/api/v1/admin/os-update", body=b"SILOOSU\n" + b"\0" * 5000,
                      headers={"Content-Type": "application/octet-stream"})
    t.eq(r.status, 409, "os-update: 409 natively")
    t.eq(bob.request("POST", "/api/v1/admin/os-update", body=b"x",
                     headers={"Content-Type": "application/octet-stream"}).status, 403,
         "os-update: refused to a user who is not an admin")
    t.ok(s.running() and st.get_status(s.port) == 200,
         "the server still serves after every refused call")


if __name__ == "__main__":
    st.run(scenario)

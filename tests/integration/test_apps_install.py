#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Installing and upgrading apps over POST /api/v1/apps, as a user (or a script) would:
# the three example packages (notes, probe, radicale) install; the same package again is
# "unchanged" and stored once; a higher version of notes is refused with 409 until
# ?upgrade=1, then a grain keeps its notebook and runs version 2 from its next start (its
# mounted manifest says so, seen from the host through /proc/PID/root); a lower version is
# refused; hostile uploads (truncated, a flipped byte, garbage, nothing) are refused with
# a reason and leave nothing in DATA/apps. Needs root and `make apps`; skips otherwise.
import json
import os
import random
import re

import graintest as gt
import silotest

IDLE = 3   # seconds; the grain must keep running across the upgrade steps below
BASE32_ID = re.compile(r"^[0123456789acdefghjkmnpqrstuvwxyz]{52}$")


def apps_dir(s):
    d = os.path.join(s.data, "apps")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def manifest_version(pid):
    """The version in the manifest mounted at / of the grain whose sandbox is pid."""
    try:
        with open(f"/proc/{pid}/root/silo-manifest.json") as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


def scenario(t):
    if not gt.skip_unless_ready(t, "notes", "notes-v2", "probe"):
        return
    s = gt.new_server(config={"grain_idle_timeout": IDLE}).start()
    admin = silotest.setup_admin(s)

    # --- Who may upload ---
    data = gt.spk_bytes("notes")
    anon = s.client()
    t.eq(gt.upload(anon, data).status, 401, "install: logged out, an upload is 401")
    r = admin.request("POST", "/api/v1/apps", body=data, csrf=False,
                      headers={"Content-Type": "application/octet-stream"})
    t.eq(r.status, 403, "install: with the session cookie but no X-CSRF-Token: 403")
    r = admin.request("POST", "/api/v1/apps", body=data,
                      headers={"Content-Type": "application/octet-stream",
                               "Origin": "http://evil.example"})
    t.eq(r.status, 403, "install: from a foreign Origin: 403")
    t.eq(apps_dir(s), [], "install: the refused uploads left nothing in DATA/apps")
    r = admin.post("/api/v1/apps", None)
    t.eq(r.status, 400, "install: an empty body is refused (400)")

    # --- The three packages ---
    r = gt.install(admin, "notes")
    notes = r.json()
    t.eq(r.status, 201, "install: notes.spk is installed (201)")
    t.ok(notes.get("status") == "installed" and notes.get("title") == "Notes"
         and notes.get("version") == 1 and notes.get("marketing_version") == "1.0"
         and notes.get("grains") == 0, "install: the answer names the app, its version, "
         "status installed, no grains", repr(notes))
    t.ok(BASE32_ID.match(notes.get("app_id", "")),
         "install: the app id is 52 characters of Sandstorm's base32", notes.get("app_id"))
    t.ok(re.fullmatch(r"[0-9a-f]{32}", notes.get("package_id", "")),
         "install: the package id is 32 hex digits", notes.get("package_id"))
    pkg_dir = os.path.join(s.data, "apps", notes.get("package_id", "-"))
    t.ok(all(os.path.exists(os.path.join(pkg_dir, f))
             for f in ("silo-manifest.json", "notes", "silo-bridge")),
         "install: unpacked under DATA/apps/<package id>/ with the bridge added",
         repr(os.listdir(pkg_dir) if os.path.isdir(pkg_dir) else None))
    writable = [os.path.join(d, f) for d, _, fs in os.walk(pkg_dir) for f in fs + ["."]
                if os.stat(os.path.join(d, f), follow_symlinks=False).st_mode & 0o022]
    t.eq(writable, [], "install: nothing in the unpacked package is group- or world-writable")

    r = gt.install(admin, "probe")
    probe = r.json()
    t.ok(r.status == 201 and probe.get("status") == "installed" and probe.get("title") == "Probe",
         "install: probe.spk is installed (201)", repr(r))
    have_radicale = gt.SPK["radicale"].is_file()
    if have_radicale:
        r = gt.install(admin, "radicale")
        rad = r.json()
        t.ok(r.status == 201 and rad.get("status") == "installed"
             and rad.get("title") == "Radicale" and rad.get("marketing_version") == "3.1.8-2",
             "install: radicale.spk (8 MiB, 1500 entries) is installed (201)", repr(r))
    else:
        t.ok(True, "# SKIP build/apps/radicale.spk not built (run `make apps`)")

    lst = admin.get("/api/v1/apps")
    apps = {a.get("title"): a for a in lst.json().get("apps", [])}
    want = {"Notes", "Probe"} | ({"Radicale"} if have_radicale else set())
    t.ok(lst.status == 200 and set(apps) == want,
         "apps: GET /api/v1/apps lists the installed apps", repr(lst))
    t.ok(apps.get("Notes", {}).get("package_id") == notes.get("package_id")
         and apps.get("Notes", {}).get("version") == 1,
         "apps: the list names notes' package and version")
    t.eq(anon.get("/api/v1/apps").status, 401, "apps: logged out, the list is 401")

    # --- The same package again ---
    before = apps_dir(s)
    r = gt.install(admin, "notes")
    t.ok(r.status == 200 and r.json().get("status") == "unchanged"
         and r.json().get("package_id") == notes.get("package_id"),
         "install: notes.spk again is 200 with status unchanged", repr(r))
    tok = admin.post("/api/v1/tokens", {"label": "installer"}).json().get("token")
    script = s.client()
    script.bearer = tok
    r = gt.install(script, "notes")
    t.ok(r.status == 200 and r.json().get("status") == "unchanged",
         "install: a script with a Bearer token (no CSRF token) gets the same answer", repr(r))
    t.eq(apps_dir(s), before, "install: the same package twice is stored once")

    # --- A grain on version 1 ---
    r = admin.post("/api/v1/grains", {"app_id": notes.get("app_id"), "title": "Before upgrade"})
    gid = r.json().get("grain_id", "")
    t.eq(r.status, 201, "grain: a notes grain is created (201)")
    sess = gt.GrainSession(s, admin, gid)
    r = sess.post("/api/notes", {"title": "Written on v1", "body": "keep me"})
    t.eq(r.status, 201, "grain: a note is written through the session host on version 1")
    pid1 = gt.grain_pid(s, gid)
    t.eq(manifest_version(pid1), 1, "grain: the running grain has version 1's manifest at /")

    # --- Version 2: refused without confirmation ---
    r = gt.install(admin, "notes-v2")
    j = r.json()
    t.eq(r.status, 409, "upgrade: notes-v2.spk without ?upgrade=1 is 409")
    t.ok(j.get("installed_version") == 1 and j.get("version") == 2 and "upgrade=1" in
         j.get("error", ""), "upgrade: the 409 names both versions and how to confirm", repr(j))
    listed = {a["title"]: a for a in admin.get("/api/v1/apps").json()["apps"]}
    t.eq(listed["Notes"].get("version"), 1,
         "upgrade: after the 409 the installed version is still 1")
    t.ok(gt.wait_for(lambda: apps_dir(s) == before, 5),
         "upgrade: the unconfirmed package is not left in DATA/apps", repr(apps_dir(s)))

    # --- Confirmed ---
    sess.get("/api/notes")   # keeps the grain running (idle timeout) through the upgrade
    r = gt.install(admin, "notes-v2", "?upgrade=1")
    v2 = r.json()
    t.eq(r.status, 201, "upgrade: with ?upgrade=1 it is 201")
    t.ok(v2.get("status") == "upgraded" and v2.get("version") == 2
         and v2.get("marketing_version") == "2.0" and v2.get("app_id") == notes.get("app_id")
         and v2.get("package_id") not in ("", None, notes.get("package_id"))
         and v2.get("grains") == 1,
         "upgrade: status upgraded, version 2, same app id, a new package id, 1 grain", repr(v2))
    listed = {a["title"]: a for a in admin.get("/api/v1/apps").json()["apps"]}
    t.ok(listed["Notes"].get("version") == 2 and listed["Notes"].get("package_id")
         == v2.get("package_id") and len(listed) == len(want),
         "upgrade: the apps list shows notes version 2, still one entry per app", repr(listed))
    t.eq(gt.install(admin, "notes-v2").json().get("status"), "unchanged",
         "upgrade: notes-v2.spk once more is unchanged")

    # The grain that is still running keeps version 1 until its next start.
    r = sess.get("/api/notes")
    t.ok(r.status == 200 and gt.grain_pid(s, gid) == pid1 and manifest_version(pid1) == 1,
         "upgrade: a grain running during the upgrade goes on with version 1",
         f"{r!r}, pid {gt.grain_pid(s, gid)} vs {pid1}")

    # --- Lower version: refused, and the running grain's files are left alone ---
    sess.get("/api/notes")
    r = gt.install(admin, "notes")
    j = r.json()
    t.ok(r.status == 409 and j.get("installed_version") == 2 and j.get("version") == 1,
         "downgrade: notes.spk (version 1) after version 2 is refused with 409", repr(r))
    listed = {a["title"]: a for a in admin.get("/api/v1/apps").json()["apps"]}
    t.eq(listed["Notes"].get("version"), 2, "downgrade: version 2 stays installed")
    gt.wait_for(lambda: False, 0.3)   # give an asynchronous removal time to happen
    try:
        links = os.stat(f"/proc/{pid1}/root/notes").st_nlink
    except OSError as e:
        links = f"stat failed: {e}"
    t.ok(gt.proc_alive(pid1) and isinstance(links, int) and links > 0,
         "downgrade: the refused upload does not delete the package files of a grain that "
         "is running them (/notes of the running v1 grain still linked)",
         f"grain pid {pid1} alive {gt.proc_alive(pid1)}, st_nlink {links}")

    # --- The grain's next start runs version 2 with its data ---
    t.ok(gt.wait_stopped(admin, gid), f"upgrade: the grain stops when idle ({IDLE} s)")
    t.ok(gt.wait_for(lambda: not gt.proc_alive(pid1), 5), "upgrade: its sandbox is gone")
    r = sess.get("/api/notes")
    notes_now = r.json().get("notes", [])
    t.ok(r.status == 200 and [n.get("title") for n in notes_now] == ["Written on v1"]
         and notes_now[0].get("body") == "keep me",
         "upgrade: at its next start the grain still has the note written on version 1",
         repr(r))
    pid2 = gt.grain_pid(s, gid)
    t.ok(pid2 and pid2 != pid1 and manifest_version(pid2) == 2,
         "upgrade: the restarted grain runs version 2 (its / holds v2's manifest)",
         f"pid {pid2}, version {manifest_version(pid2) if pid2 else None}")
    g = gt.grain_entry(admin, gid)
    t.ok(g and g.get("app_id") == notes.get("app_id") and g.get("app_title") == "Notes",
         "upgrade: the grain list still names the app", repr(g))
    # A new grain starts on version 2 too.
    r = admin.post("/api/v1/grains", {"app_id": notes.get("app_id")})
    s2 = gt.GrainSession(s, admin, r.json().get("grain_id", ""))
    t.ok(s2.get("/api/notes").status == 200
         and manifest_version(gt.grain_pid(s, s2.gid)) == 2,
         "upgrade: a grain created after the upgrade runs version 2")

    # --- Hostile uploads ---
    before = apps_dir(s)
    apps_before = admin.get("/api/v1/apps").json()
    good = gt.spk_bytes("probe")
    rnd = random.Random(1234)
    flips = {"in the magic": 0, "in the signature": 40,
             "in the middle of the archive": len(good) // 2, "in the last byte": len(good) - 1}
    hostile = [("a truncated package (first half)", good[:len(good) // 2]),
               ("a package missing its last byte", good[:-1]),
               ("4 KiB of garbage", bytes(rnd.randrange(256) for _ in range(4096))),
               ("a package with 1 KiB of garbage appended", good + b"\0" * 1024),
               ("a 1-byte body", b"x")]
    for where, off in flips.items():
        b = bytearray(good)
        b[off] ^= 0x01
        hostile.append((f"a package with a byte flipped {where}", bytes(b)))
    for what, body in hostile:
        r = gt.upload(admin, body)
        err = r.json().get("error", "")
        t.ok(r.status == 400 and err.startswith("the package was refused: ")
             and len(err) > len("the package was refused: ") + 3,
             f"hostile: {what} is refused (400) with a reason", f"{r.status} {err!r}")
        t.note(f"{what}: {err}")
    t.eq(apps_dir(s), before, "hostile: nothing was left in DATA/apps")
    up = os.path.join(s.data, "uploads")
    t.eq(os.listdir(up) if os.path.isdir(up) else [], [], "hostile: nothing left in DATA/uploads")
    t.eq(admin.get("/api/v1/apps").json(), apps_before, "hostile: the apps list is unchanged")
    t.eq(gt.install(admin, "probe").json().get("status"), "unchanged",
         "hostile: the intact package still uploads fine afterwards (unchanged)")


silotest.run(scenario)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Grains of the notes app through their whole life, as their owner and as another user see
# them: creating (and the refusals), the grain list, session hosts (the one-time open link,
# the host-only cookie, 403 without it, with a spent link, from a foreign Origin), the
# identity headers the app receives (and that a browser cannot forge them), a note written
# and read back, idle stop and transparent restart, kill -9 of the server and a start on
# the same data, rename, the console log, trash, restore and purge; a second user can
# neither list, open, rename, delete nor use the first user's grain, and a disabled user
# loses their session hosts at once. Needs root and `make apps`; skips otherwise.
import http.client
import os
import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import graintest as gt
import silotest


def rehost(s, *clients):
    """After a restart the server has a new port, so a new shell host."""
    for c in clients:
        c.port = s.port
        c.host = s.shell_host


def scenario(t):
    if not gt.skip_unless_ready(t, "notes"):
        return
    s = gt.new_server(config={"grain_idle_timeout": 2}).start()
    admin = silotest.setup_admin(s)
    app = gt.install(admin, "notes").json().get("app_id", "")

    # --- Creating grains ---
    t.eq(s.client().post("/api/v1/grains", {"app_id": app}).status, 401,
         "create: logged out is 401")
    t.eq(admin.post("/api/v1/grains", {"app_id": app}, csrf=False).status, 403,
         "create: without X-CSRF-Token is 403")
    t.eq(admin.post("/api/v1/grains", {}).status, 400, "create: without app_id is 400")
    t.eq(admin.post("/api/v1/grains", {"app_id": "0" * 52}).status, 404,
         "create: an app that is not installed is 404")
    t.eq(admin.post("/api/v1/grains", {"app_id": app, "action": 1}).status, 400,
         "create: an action the app does not have is 400")
    t.eq(admin.post("/api/v1/grains", {"app_id": app, "action": "0"}).status, 400,
         "create: a mistyped action is 400")
    t.eq(admin.post("/api/v1/grains", {"app_id": app, "title": "bad\ntitle"}).status, 400,
         "create: a title with a control character is 400")
    t.eq(gt.grain_list(admin), [], "create: none of the refused calls made a grain")

    r = admin.post("/api/v1/grains", {"app_id": app, "title": "Groceries"})
    j = r.json()
    g1 = j.get("grain_id", "")
    t.ok(r.status == 201 and gt.HEX32.match(g1) and j.get("title") == "Groceries"
         and j.get("app_id") == app, "create: a notes grain with a title (201)", repr(r))
    r = admin.post("/api/v1/grains", {"app_id": app, "action": 0})
    g2 = r.json().get("grain_id", "")
    t.ok(r.status == 201 and r.json().get("title") == "New notebook",
         "create: without a title the grain is named after the action", repr(r))
    t.ok(os.path.isdir(os.path.join(s.data, "grains", g1, "var")),
         "create: the grain has its directory DATA/grains/<id>/var")

    lst = gt.grain_list(admin)
    e1 = gt.grain_entry(admin, g1) or {}
    t.ok(len(lst) == 2 and e1.get("title") == "Groceries" and e1.get("app_title") == "Notes"
         and e1.get("app_id") == app and e1.get("owner") == "admin" and e1.get("trashed") == 0
         and e1.get("running") is False and isinstance(e1.get("created"), int)
         and isinstance(e1.get("last_used"), int) and isinstance(e1.get("size_bytes"), int),
         "list: both grains, with title, app, owner, times, not running", repr(lst))

    # --- A session host ---
    t.eq(s.client().post(f"/api/v1/grains/{g1}/session", {}).status, 401,
         "session: logged out is 401")
    s1 = gt.GrainSession(s, admin, g1)
    t.ok(s1.create.status == 201 and s1.host, "session: POST .../session gives the URL "
         "http://ui-<32 hex>.silo.localhost:PORT/.silo/open?t=<token>", repr(s1.create))
    t.eq(s1.host and s1.host.split(".", 1)[1], s.shell_host,
         "session: the session host is under the shell's host")
    r = s1.opened
    t.ok(r is not None and r.status == 303 and r.header("Location") == "/" and s1.cookie
         and re.fullmatch(r"[0-9a-f]{64}", s1.cookie),
         "session: the open link sets silo_grain and redirects to / (303)", repr(r))
    attrs = getattr(s1, "cookie_attrs", {})
    t.ok("httponly" in attrs and "domain" not in attrs and attrs.get("path") == "/"
         and attrs.get("samesite", "").lower() == "lax",
         "session: the cookie is HttpOnly, SameSite=Lax, Path=/, host-only (no Domain)",
         repr(attrs))
    t.eq(s1.raw("GET", s1.open_path, cookie=False).status, 403,
         "session: the open link works once; used again it is 403")

    r = s1.get("/")
    t.ok(r.status == 200 and "Notes" in r.text() and "admin" in r.text(),
         "proxy: GET / on the session host is the notes page, naming its user", repr(r))
    csp = r.header("Content-Security-Policy", "")
    t.ok("default-src 'self'" in csp and f"frame-ancestors {s.base_url}" in csp,
         "proxy: grain pages get silo's CSP (own origin, framed by the shell only)", csp)
    t.ok(r.header("Transfer-Encoding") is None and
         r.header("Content-Length") == str(len(r.body)),
         "proxy: the app's Content-Length is passed on (no chunk framing)", repr(r.headers))

    # The shell's grain page frames the same kind of one-time link.
    r = admin.get(f"/grain/{g1}")
    m = re.search(r"http://ui-[0-9a-f]{32}\.[^\"'\s<>/]+/\.silo/open\?t=[0-9a-f]{64}", r.text())
    t.ok(r.status == 200 and m and "<iframe" in r.text(),
         "shell: /grain/<id> is a page with an iframe on a fresh session host", repr(r)[:200])
    if m:
        framed = gt.GrainSession(s, admin, g1, url=m.group(0))
        t.ok(framed.cookie and framed.get("/api/whoami").json().get("name") == "admin",
             "shell: the framed link opens the grain as its owner")
        csp = r.header("Content-Security-Policy", "")
        frame_src = next((d.split()[1:] for d in csp.split(";")
                          if d.split()[:1] == ["frame-src"]), [])
        t.ok(f"http://{framed.host}" in frame_src and not any("*" in x for x in frame_src),
             "shell: the page's CSP lets it frame that session host, no wildcard", csp)

    # --- Identity headers ---
    who = s1.get("/api/whoami").json()
    uid1 = who.get("user_id") or ""
    t.ok(who.get("name") == "admin" and who.get("permissions") == ["edit"]
         and who.get("anonymous") is False and who.get("can_edit") is True,
         "identity: the app sees the owner's name and the edit permission", repr(who))
    t.ok(gt.HEX32.match(uid1), "identity: X-Sandstorm-User-Id is 32 hex digits", uid1)
    t.ok(gt.HEX32.match(who.get("session_id") or ""), "identity: a session id is passed",
         repr(who.get("session_id")))
    forged = s1.get("/api/whoami", headers={
        "X-Sandstorm-Username": "evil", "X-Sandstorm-User-Id": "0" * 32,
        "X-Sandstorm-Permissions": "edit,admin", "X-Sandstorm-Session-Id": "forged"}).json()
    t.ok(forged.get("name") == "admin" and forged.get("user_id") == uid1
         and forged.get("permissions") == ["edit"] and forged.get("session_id") != "forged",
         "identity: X-Sandstorm-* headers sent by the browser do not reach the app",
         repr(forged))
    s1b = gt.GrainSession(s, admin, g1)
    who_b = s1b.get("/api/whoami").json()
    t.ok(who_b.get("user_id") == uid1 and who_b.get("session_id") != who.get("session_id")
         and s1b.host != s1.host,
         "identity: a second session on the grain: a new host and session id, the same user id",
         repr(who_b))
    s2 = gt.GrainSession(s, admin, g2)
    uid2 = s2.get("/api/whoami").json().get("user_id")
    t.ok(gt.HEX32.match(uid2 or "") and uid2 != uid1,
         "identity: the user id is a per-grain pseudonym (another grain, another id)")
    t.ok(True, "# SKIP the shell's cookies reaching the app: neither notes nor probe echoes "
         "request cookies, so it cannot be observed from here")

    # --- Who may use the session host ---
    t.eq(s1.get("/api/whoami", cookie=False).status, 403, "host: without the cookie: 403")
    t.eq(s1.get("/api/whoami", cookie="silo_grain=" + secrets.token_hex(32)).status, 403,
         "host: with a made-up cookie: 403")
    t.eq(s1.get("/api/whoami", cookie="silo_session=" + admin.cookies.get("silo_session", ""))
         .status, 403, "host: the shell's session cookie does not open a grain: 403")
    t.eq(s1.get("/api/whoami", cookie=f"silo_grain={s2.cookie}").status, 403,
         "host: another session's cookie: 403")
    t.eq(s1.get("/api/whoami", headers={"Origin": "http://evil.example"}).status, 403,
         "host: a request with a foreign Origin: 403")
    t.eq(s1.post("/api/notes", {"title": "x"}, headers={"Origin": s.base_url}).status, 403,
         "host: a write with the shell's Origin: 403 (the grain is its own origin)")
    t.eq(s1.get("/api/whoami", headers={"Origin": f"http://{s1.host}"}).status, 200,
         "host: a request with the session host's own Origin: 200")
    t.eq(s1.get("/", host=f"ui-{secrets.token_hex(16)}.{s.shell_host}").status, 404,
         "host: a session host that does not exist: 404")
    t.eq(s1.get("/", host=f"evil.example:{s.port}").status, 404, "host: any other host: 404")
    t.eq(admin.get("/api/v1/me", headers={"Host": s1.host}).status, 403,
         "host: the shell's API is not served on a session host")

    # --- A note, written and read back ---
    r = s1.post("/api/notes", {"title": "Milk", "body": "2 litres"})
    nid = r.json().get("id")
    t.ok(r.status == 201 and r.json().get("created_by", {}).get("name") == "admin"
         and r.json().get("created_by", {}).get("id") == uid1,
         "notes: a note is created through the session host (201), authored by the owner",
         repr(r))
    r = s1.get(f"/api/notes/{nid}")
    t.ok(r.status == 200 and r.json().get("title") == "Milk" and r.json().get("body") == "2 litres",
         "notes: the note reads back", repr(r))
    r = s2.post("/api/notes", {"title": "In grain two"})
    t.eq(r.status, 201, "notes: the second grain gets its own note")
    t.eq([n["title"] for n in s1.get("/api/notes").json().get("notes", [])], ["Milk"],
         "notes: each grain has its own notebook")
    # A large answer (about 1.2 MB of notes) comes through whole.
    g3 = admin.post("/api/v1/grains", {"app_id": app, "title": "Bulk"}).json().get("grain_id", "")
    s3 = gt.GrainSession(s, admin, g3)
    bodies = [(f"n{i}", (chr(ord("a") + i) * 61440)) for i in range(20)]
    codes = [s3.post("/api/notes", {"title": ti, "body": b}).status for ti, b in bodies]
    r = s3.get("/api/notes")
    got = [(n.get("title"), n.get("body")) for n in r.json().get("notes", [])]
    t.ok(codes == [201] * 20 and r.status == 200 and got == bodies and len(r.body) > 1200000,
         "proxy: 20 notes of 60 KiB go in, and the 1.2 MB list comes back whole",
         f"{codes}, {r.status}, {len(r.body)} bytes")
    t.eq(admin.request("DELETE", f"/api/v1/grains/{g3}?purge=1").status, 200,
         "purge: the bulk grain is purged straight away (no trash first)")
    e1 = gt.grain_entry(admin, g1) or {}
    t.ok(e1.get("running") is True and e1.get("size_bytes", 0) > 0,
         "list: the grain in use is running and its size counts the notebook", repr(e1))
    log = admin.get(f"/api/v1/grains/{g1}/log")
    t.ok(log.status == 200 and "notes: listening on 127.0.0.1:8000" in log.json().get("log", ""),
         "log: GET .../log gives the grain's console output", repr(log))

    # --- Rename ---
    r = admin.request("PATCH", f"/api/v1/grains/{g1}", json={"title": "Shopping"})
    t.ok(r.status == 200 and r.json().get("title") == "Shopping", "rename: PATCH (200)", repr(r))
    t.eq((gt.grain_entry(admin, g1) or {}).get("title"), "Shopping", "rename: the list shows it")
    t.eq(admin.request("PATCH", f"/api/v1/grains/{g1}", json={"title": ""}).status, 400,
         "rename: an empty title is 400")
    t.eq(admin.request("PATCH", f"/api/v1/grains/{g1}", json={"title": "a\x07b"}).status, 400,
         "rename: a control character is 400")
    t.eq(admin.request("PATCH", f"/api/v1/grains/{g1}", json={"title": "x"}, csrf=False).status,
         403, "rename: without X-CSRF-Token is 403")

    # --- Idle stop and transparent restart ---
    pid = gt.grain_pid(s, g1)
    t.ok(gt.wait_stopped(admin, g1), "idle: with grain_idle_timeout 2 the grain stops by itself")
    t.ok(gt.wait_for(lambda: not gt.proc_alive(pid), 5), "idle: its sandbox process is gone")
    r = s1.get(f"/api/notes/{nid}")
    t.ok(r.status == 200 and r.json().get("body") == "2 litres",
         "idle: the next request starts it again and the note is there", repr(r))
    pid_b = gt.grain_pid(s, g1)
    t.ok(pid_b and pid_b != pid and (gt.grain_entry(admin, g1) or {}).get("running") is True,
         "idle: a new sandbox, and the list says running again")
    t.eq(s1.get("/api/whoami").json().get("user_id"), uid1,
         "idle: the user id is the same after the restart")
    # Several requests at once reach a stopped grain: one start serves them all.
    t.ok(gt.wait_stopped(admin, g1), "idle: stopped again")
    starts = len(re.findall(rf"grain {g1} started", s.stderr()))
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: s1.get(f"/api/notes/{nid}").status, range(8)))
    t.eq(got, [200] * 8, "idle: 8 requests at once to the stopped grain all get 200")
    t.eq(len(re.findall(rf"grain {g1} started", s.stderr())) - starts, 1,
         "idle: ... from a single start")
    # Keep-alive on the session host: several exchanges on one connection.
    c = http.client.HTTPConnection(silotest.HOST, s.port, timeout=10)
    statuses = []
    for path in ("/api/whoami", "/api/notes", "/static/notes.css"):
        c.request("GET", path, headers={"Host": s1.host, "Cookie": f"silo_grain={s1.cookie}"})
        resp = c.getresponse()
        resp.read()
        statuses.append(resp.status)
    c.request("HEAD", "/", headers={"Host": s1.host, "Cookie": f"silo_grain={s1.cookie}"})
    resp = c.getresponse()
    statuses.append((resp.status, resp.read()))
    c.close()
    t.eq(statuses, [200, 200, 200, (200, b"")],
         "proxy: keep-alive: three GETs and a HEAD on one connection")

    # --- kill -9 of the server, a start on the same data ---
    s.kill()
    t.ok(gt.wait_for(lambda: not gt.proc_alive(pid_b), 5),
         "crash: the grain's sandbox dies with the server")
    s.restart()
    rehost(s, admin)
    lst = gt.grain_list(admin)
    t.ok(lst is not None and {g["grain_id"] for g in lst} == {g1, g2}
         and all(g["running"] is False for g in lst),
         "crash: after the restart both grains are listed, not running", repr(lst))
    t.ok(s1.get("/api/whoami", host=s1.host.rsplit(":", 1)[0] + f":{s.port}").status in (403, 404),
         "crash: session hosts do not outlive the server process (403/404)")
    s1 = gt.GrainSession(s, admin, g1)
    r = s1.get(f"/api/notes/{nid}")
    t.ok(s1.ok and r.status == 200 and r.json().get("title") == "Milk",
         "crash: a new session on the grain finds the note written before the kill -9", repr(r))
    t.eq(s1.get("/api/whoami").json().get("user_id"), uid1,
         "crash: the user id survives the restart")

    # --- A second user ---
    zoe = gt.invite_user(s, admin, "zoë")
    t.eq(gt.grain_list(zoe), [], "others: a second user's grain list is empty")
    t.eq(gt.grain_list(zoe, trash=True), [], "others: and so is their trash")
    t.eq(zoe.get(f"/api/v1/grains/{g1}/log").status, 403, "others: the owner's log is 403")
    t.eq(zoe.post(f"/api/v1/grains/{g1}/session", {}).status, 403,
         "others: opening the owner's grain is 403")
    t.eq(zoe.request("PATCH", f"/api/v1/grains/{g1}", json={"title": "mine"}).status, 403,
         "others: renaming it is 403")
    t.eq(zoe.request("DELETE", f"/api/v1/grains/{g1}").status, 403, "others: deleting it is 403")
    t.eq(zoe.request("DELETE", f"/api/v1/grains/{g1}?purge=1").status, 403,
         "others: purging it is 403")
    t.eq(zoe.post(f"/api/v1/grains/{g1}/restore", {}).status, 403, "others: restoring it is 403")
    r = zoe.get(f"/grain/{g1}")
    t.ok(r.status == 403 and ".silo/open" not in r.text(),
         "others: the shell's page for the owner's grain refuses her (403), no link in it",
         repr(r)[:200])
    e1 = gt.grain_entry(admin, g1) or {}
    t.ok(e1.get("title") == "Shopping" and e1.get("trashed") == 0,
         "others: the owner's grain is untouched", repr(e1))
    # Zoë's own grain and session host.
    r = zoe.post("/api/v1/grains", {"app_id": app})
    gz = r.json().get("grain_id", "")
    sz = gt.GrainSession(s, zoe, gz)
    wz = sz.get("/api/whoami").json()
    t.ok(wz.get("name") == "zoë" and wz.get("permissions") == ["edit"]
         and gt.HEX32.match(wz.get("user_id") or ""),
         "others: on her own grain the app sees her name (percent-decoded)", repr(wz))
    t.ok({g["grain_id"] for g in gt.grain_list(admin)} == {g1, g2},
         "others: the owner does not see her grain either")
    # Zoë on the owner's session host: she has no cookie for it; hers is refused there; and
    # the open link, even if she got hold of it, is spent.
    t.eq(sz.get("/api/notes", host=s1.host, cookie=False).status, 403,
         "others: the owner's session host without its cookie: 403")
    t.eq(sz.get("/api/notes", host=s1.host).status, 403,
         "others: the owner's session host with her own grain cookie: 403")
    t.eq(sz.get(s1.open_path, host=s1.host, cookie=False).status, 403,
         "others: the owner's open link, reused: 403")
    t.eq(sz.post("/api/notes", {"title": "pwned"}, host=s1.host).status, 403,
         "others: a write to the owner's session host: 403")
    # A fresh, unused open link is a capability: it is the owner's to hand out, so Zoë with
    # it would get in; but the shell never gives her one (404 above).
    t.eq([n["title"] for n in s1.get("/api/notes").json().get("notes", [])], ["Milk"],
         "others: the owner's notebook is unchanged")
    # Disabling her ends her access at once, on a host she already holds.
    users = admin.get("/api/v1/users").json().get("users", [])
    zid = next((u["id"] for u in users if u.get("name") == "zoë"), 0)
    t.eq(admin.post(f"/api/v1/users/{zid}/disable", {}).status, 200, "others: Zoë is disabled")
    t.eq(sz.get("/api/whoami").status, 403,
         "others: a disabled user's session host is 403 at once")

    # --- Trash, restore, purge ---
    t.eq(admin.request("DELETE", f"/api/v1/grains/{g2}", csrf=False).status, 403,
         "trash: without X-CSRF-Token is 403")
    r = admin.request("DELETE", f"/api/v1/grains/{g2}")
    j = r.json()
    t.ok(r.status == 200 and j.get("trashed") is True and isinstance(j.get("purge_after"), int)
         and j.get("purge_after", 0) > e1.get("created", 0),
         "trash: DELETE moves the grain to the trash (200, purge_after)", repr(r))
    t.eq({g["grain_id"] for g in gt.grain_list(admin)}, {g1}, "trash: it leaves the grain list")
    tr = gt.grain_entry(admin, g2, trash=True) or {}
    t.ok(tr.get("trashed", 0) > 0 and tr.get("title") == "New notebook",
         "trash: ?trash=1 lists it", repr(tr))
    t.ok(os.path.isdir(os.path.join(s.data, "grains", g2)), "trash: its files are kept")
    t.ok(s2.get("/api/notes").status in (403, 404), "trash: its session host no longer answers")
    t.eq(admin.post(f"/api/v1/grains/{g2}/session", {}).status, 409,
         "trash: a trashed grain cannot be opened (409)")
    t.eq(admin.request("DELETE", f"/api/v1/grains/{g2}").status, 409,
         "trash: trashing it again is 409")
    t.ok(gt.wait_stopped(admin, g2, 1) or (gt.grain_entry(admin, g2, True) or {}).get("running")
         is False, "trash: it does not run")
    r = admin.post(f"/api/v1/grains/{g2}/restore", {})
    t.ok(r.status == 200 and r.json().get("trashed") in (0, False), "restore: 200", repr(r))
    t.eq({g["grain_id"] for g in gt.grain_list(admin)}, {g1, g2}, "restore: back in the list")
    t.eq(admin.post(f"/api/v1/grains/{g2}/restore", {}).status, 409,
         "restore: restoring a grain that is not in the trash is 409")
    s2 = gt.GrainSession(s, admin, g2)
    t.eq([n["title"] for n in s2.get("/api/notes").json().get("notes", [])], ["In grain two"],
         "restore: it opens again with its notebook")
    r = admin.request("DELETE", f"/api/v1/grains/{g2}?purge=1")
    t.ok(r.status == 200 and r.json().get("purged") is True,
         "purge: DELETE ?purge=1 of a running grain (200)", repr(r))
    t.ok(not os.path.exists(os.path.join(s.data, "grains", g2)),
         "purge: its directory is gone from DATA/grains")
    t.ok(g2 not in {g["grain_id"] for g in gt.grain_list(admin) + gt.grain_list(admin, True)},
         "purge: it is in neither the list nor the trash")
    t.eq(admin.get(f"/api/v1/grains/{g2}/log").status, 404, "purge: its log is 404")
    t.eq(admin.post(f"/api/v1/grains/{g2}/restore", {}).status, 404, "purge: restore is 404")
    t.ok(s2.get("/api/notes").status in (403, 404), "purge: its session host is gone")
    t.eq(s1.get(f"/api/notes/{nid}").json().get("title"), "Milk",
         "purge: the other grain is unaffected")
    rc, _ = s.stop()
    t.eq(rc, 0, "server: exits 0 on SIGTERM with grains running")


silotest.run(scenario)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks the first walk through a new server over the JSON API: the setup link printed once,
# `silo admin-token` minting another that works too, the setup wizard and its single-use
# token, logging in (cookie attributes), who-am-I, CSRF and Origin checks, invitations,
# disabling a user, and API tokens.
import re

import silotest
from silotest import PASSWORD, Server


def scenario(t):
    s = Server().start()

    # --- The setup link ---
    links = s.setup_links()
    t.eq(len(links), 1, "setup: the setup link is printed exactly once on stderr")
    t.ok(links and links[0][0] == s.base_url,
         "setup: the link starts with the server's URL", f"links {links}")
    first_token = links[0][1] if links else ""
    with open(s.stderr_path + ".stdout", errors="replace") as f:
        t.ok("setup" not in f.read(), "setup: the link goes to stderr, not stdout")
    st = s.client().get("/api/v1/status")
    t.ok(st.status == 200 and st.json().get("setup_needed") is True,
         "setup: /api/v1/status says setup is needed", repr(st))

    rc, out, err = s.admin_token()
    m = re.search(r"^silo: setup: (\S+)/setup/([0-9a-f]{64})$", err, re.M)
    t.ok(rc == 0 and m, "admin-token: prints a setup line of the same form while the server runs",
         f"rc {rc}, stderr {err!r}")
    second_token = m.group(2) if m else ""
    t.ok(second_token and second_token != first_token, "admin-token: the token is a fresh one")
    t.eq(len(s.setup_links()), 1, "admin-token: the server printed no further setup line")

    c = s.client()
    t.eq(c.get(f"/setup/{first_token}").status, 200, "setup: the printed link opens the wizard")
    t.eq(c.get(f"/setup/{second_token}").status, 200, "admin-token: its link opens the wizard too")
    t.eq(c.get("/setup/" + "0" * 64).status, 410, "setup: an unknown token's page is gone (410)")

    r = c.post("/api/v1/setup", {"token": second_token, "name": "admin", "password": "short",
                                 "server_name": "Test silo"})
    t.eq(r.status, 400, "setup: a password under 10 characters is refused (400)")
    r = c.post("/api/v1/setup", {"token": second_token, "name": "admin"})
    t.eq(r.status, 400, "setup: a request without a password is refused (400)")
    r = c.request("POST", "/api/v1/setup", body=b'{"token": ',
                  headers={"Content-Type": "application/json"})
    t.eq(r.status, 400, "setup: a body that is not JSON is refused (400)")
    r = c.request("POST", "/api/v1/setup", body=b'{}', headers={"Content-Type": "text/plain"})
    t.eq(r.status, 415, "setup: a body that is not declared JSON is refused (415)")

    r = c.post("/api/v1/setup", {"token": second_token, "name": "admin", "password": PASSWORD,
                                 "server_name": "Test silo"})
    t.eq(r.status, 201, "setup: the wizard with the admin-token token creates the admin (201)")
    body = r.json()
    t.ok(body.get("name") == "admin" and body.get("is_admin") is True,
         "setup: the answer names the new administrator", repr(body))
    t.ok(any(v.startswith("silo_session=") for v in r.header_all("Set-Cookie")),
         "setup: the wizard logs the administrator in")

    r = s.client().post("/api/v1/setup", {"token": second_token, "name": "admin2",
                                          "password": PASSWORD})
    t.ok(400 <= r.status < 500, "setup: the token cannot be used twice (4xx)", repr(r))
    r = s.client().post("/api/v1/setup", {"token": first_token, "name": "admin3",
                                          "password": PASSWORD})
    t.ok(400 <= r.status < 500, "setup: the first link stops working once setup is done (4xx)",
         repr(r))
    t.eq(s.client().get(f"/setup/{first_token}").status, 410,
         "setup: the setup page of a spent link is gone (410)")
    st = s.client().get("/api/v1/status").json()
    t.ok(st.get("setup_needed") is False and st.get("name") == "Test silo",
         "setup: status shows the server's new name and no setup needed", repr(st))

    # --- Logging in ---
    admin = s.client()
    r = admin.login("admin")
    t.eq(r.status, 200, "login: the administrator logs in with the right password (200)")
    cookies = [silotest.parse_cookie(v) for v in r.header_all("Set-Cookie")]
    sess = [a for n, v, a in cookies if n == "silo_session"]
    attrs = sess[0] if sess else {}
    t.ok(sess, "login: sets a silo_session cookie", repr(r.headers))
    t.ok("httponly" in attrs, "login: the session cookie is HttpOnly", repr(attrs))
    t.eq(attrs.get("samesite", "").lower(), "lax", "login: the session cookie is SameSite=Lax")
    t.ok("domain" not in attrs, "login: the session cookie has no Domain (host-only)", repr(attrs))
    t.ok(re.fullmatch(r"[0-9a-f]{64}", admin.cookies.get("silo_session", "")),
         "login: the session cookie is 64 hex digits")

    me = admin.get("/api/v1/me")
    j = me.json()
    t.ok(me.status == 200 and j.get("name") == "admin" and j.get("is_admin") is True
         and re.fullmatch(r"[0-9a-f]{64}", j.get("csrf", "")),
         "me: tells the name, admin flag and CSRF token", repr(me))
    t.eq(j.get("csrf"), admin.csrf, "me: the CSRF token is the one login returned")
    t.eq(s.client().get("/api/v1/me").status, 401, "me: without a cookie is 401")
    bad = s.client()
    bad.cookies["silo_session"] = "f" * 64
    t.eq(bad.get("/api/v1/me").status, 401, "me: an unknown session cookie is 401")
    t.eq(s.client().login("admin", "wrong password!").status, 401,
         "login: a wrong password is refused (401)")
    t.eq(s.client().login("nobody", PASSWORD).status, 401,
         "login: an unknown name is refused the same way (401)")

    # --- CSRF and Origin ---
    r = admin.post("/api/v1/invites", {}, csrf=False)
    t.eq(r.status, 403, "csrf: a state-changing call without X-CSRF-Token is refused (403)")
    r = admin.post("/api/v1/invites", {}, csrf=False, headers={"X-CSRF-Token": "0" * 64})
    t.eq(r.status, 403, "csrf: a wrong X-CSRF-Token is refused (403)")
    r = admin.post("/api/v1/invites", {}, headers={"Origin": "http://evil.example"})
    t.eq(r.status, 403, "csrf: a call with a foreign Origin is refused (403)")
    r = admin.post("/api/v1/invites", {}, headers={"Referer": "http://evil.example/page"})
    t.eq(r.status, 403, "csrf: a call with a foreign Referer is refused (403)")

    # --- Invitations ---
    r = admin.post("/api/v1/invites", {}, headers={"Origin": s.base_url})
    url = r.json().get("url", "")
    m = re.fullmatch(re.escape(s.base_url) + r"/invite/([0-9a-f]{64})", url)
    t.ok(r.status == 201 and m, "invites: the administrator makes an invitation link", repr(r))
    inv = m.group(1) if m else ""
    t.eq(s.client().post("/api/v1/invites", {}).status, 401,
         "invites: logged out, making one is 401")
    t.eq(s.client().get(f"/invite/{inv}").status, 200, "invites: the link opens its page")

    bob = s.client()
    r = bob.post(f"/api/v1/invites/{inv}/accept", {"name": "bob", "password": "short"})
    t.eq(r.status, 400, "invites: accepting with a short password is refused (400)")
    r = bob.post(f"/api/v1/invites/{inv}/accept", {"name": "admin", "password": PASSWORD})
    t.eq(r.status, 409, "invites: accepting with a name already taken is refused (409)")
    r = bob.post(f"/api/v1/invites/{inv}/accept", {"name": "bob", "password": PASSWORD})
    t.ok(r.status == 201 and r.json().get("name") == "bob" and r.json().get("is_admin") is False,
         "invites: accepting creates a user who is not an administrator (201)", repr(r))
    bob.csrf = r.json().get("csrf")
    t.eq(bob.get("/api/v1/me").json().get("name"), "bob", "invites: the new user is logged in")
    r = s.client().post(f"/api/v1/invites/{inv}/accept", {"name": "carol", "password": PASSWORD})
    t.ok(400 <= r.status < 500, "invites: the link cannot be used twice (4xx)", repr(r))
    t.eq(s.client().get(f"/invite/{inv}").status, 410, "invites: a spent link's page is gone (410)")
    t.eq(bob.post("/api/v1/invites", {}).status, 403,
         "invites: a user who is not an administrator cannot make one (403)")
    t.eq(bob.get("/api/v1/users").status, 403, "users: only administrators may list users (403)")

    # --- Disabling a user ---
    users = admin.get("/api/v1/users").json().get("users", [])
    names = sorted(u.get("name") for u in users)
    t.eq(names, ["admin", "bob"], "users: the administrator sees both accounts")
    bob_id = next((u["id"] for u in users if u.get("name") == "bob"), 0)
    admin_id = next((u["id"] for u in users if u.get("name") == "admin"), 0)
    t.eq(admin.post(f"/api/v1/users/{admin_id}/disable", {}).status, 409,
         "users: the administrator cannot disable their own account (409)")
    t.eq(admin.post("/api/v1/users/99999/disable", {}).status, 404,
         "users: disabling an unknown user is 404")
    r = bob.post("/api/v1/tokens", {"label": "bob's script"})
    bob_script = s.client()
    bob_script.bearer = r.json().get("token", "")
    t.eq(bob_script.get("/api/v1/me").status, 200, "tokens: a user who is not an admin makes one")
    r = admin.post(f"/api/v1/users/{bob_id}/disable", {})
    t.ok(r.status == 200 and r.json().get("disabled") is True,
         "users: the administrator disables bob", repr(r))
    t.eq(bob.get("/api/v1/me").status, 401, "users: a disabled user's session stops working")
    t.eq(s.client().login("bob").status, 403, "users: a disabled user cannot log in (403)")
    t.eq(bob_script.get("/api/v1/me").status, 401, "users: a disabled user's API token stops "
         "working")
    r = admin.post(f"/api/v1/users/{bob_id}/enable", {})
    t.eq(r.status, 200, "users: the administrator enables bob again")
    t.eq(s.client().login("bob").status, 200, "users: bob logs in again once enabled")

    # --- API tokens ---
    r = admin.post("/api/v1/tokens", {"label": "backup script"})
    tok = r.json().get("token", "")
    t.ok(r.status == 201 and re.fullmatch(r"[0-9a-f]{64}", tok),
         "tokens: making an API token answers the token (201)", repr(r))
    script = s.client()
    script.bearer = tok
    me = script.get("/api/v1/me")
    t.ok(me.status == 200 and me.json().get("name") == "admin",
         "tokens: GET /api/v1/me with Authorization: Bearer works", repr(me))
    r = script.post("/api/v1/invites", {})
    t.eq(r.status, 201, "tokens: a bearer call needs no CSRF token")
    liar = s.client()
    liar.bearer = "0" * 64
    t.eq(liar.get("/api/v1/me").status, 401, "tokens: an unknown bearer token is 401")
    lst = admin.get("/api/v1/tokens").json().get("tokens", [])
    t.ok(len(lst) == 1 and lst[0].get("label") == "backup script",
         "tokens: the list shows the token by its label", repr(lst))
    tid = lst[0]["id"] if lst else 0
    t.eq(admin.request("DELETE", f"/api/v1/tokens/{tid}").status, 200, "tokens: revoking one works")
    t.eq(script.get("/api/v1/me").status, 401, "tokens: a revoked token no longer works")

    # --- Logging out ---
    old = dict(admin.cookies)
    t.eq(admin.post("/api/v1/logout", {}).status, 200, "logout: answers 200")
    t.ok("silo_session" not in admin.cookies, "logout: clears the session cookie")
    admin.cookies = old
    t.eq(admin.get("/api/v1/me").status, 401, "logout: the old session cookie no longer works")

    rc, secs = s.stop()
    t.eq(rc, 0, "server: exits 0 on SIGTERM")


silotest.run(scenario)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Sharing as capabilities, as the people involved see it: the owner makes view and edit
# links; an anonymous visitor with a link gets the role's permissions and no user id; a
# logged-in user who opens a link keeps the grant ("Shared with me") and can re-share only
# what they hold; "Who has access" and the access log; revoking a link ends the sessions and
# WebSockets that depended on it, and everything derived from it; revoking a user; device
# tokens on the API host (Bearer and Basic), and their revocation. Needs root and
# `make apps`; skips otherwise.
import base64
import re
import socket

import graintest as gt
import silotest
from silotest import HOST

LINK_RE = re.compile(r"^http://silo\.localhost:\d+/shared/([0-9a-f]{64})$")
SHARE_ID_RE = re.compile(r"^[0-9a-f]{16}$")


def make_share(t, c, gid, role, label="", kind=None, what=""):
    body = {"role": role, "label": label}
    if kind:
        body["kind"] = kind
    r = c.post(f"/api/v1/grains/{gid}/shares", body)
    j = r.json() if r.status == 201 else {}
    if what:
        t.ok(r.status == 201 and SHARE_ID_RE.match(j.get("share_id", "")), what, repr(r))
    return j


def link_token(j):
    m = LINK_RE.match(j.get("url", ""))
    return m.group(1) if m else "0" * 64


def open_link(s, client, token):
    """POST /api/v1/shared/<token>/session as client; the GrainSession or the response."""
    r = client.post(f"/api/v1/shared/{token}/session", {})
    if r.status != 201:
        return r
    return gt.GrainSession(s, client, None, url=r.json().get("url", ""))


def whoami(sess):
    r = sess.get("/api/whoami")
    return r.json() if r.status == 200 else {"status": r.status}


def titles(sess):
    r = sess.get("/api/notes")
    return [n["title"] for n in r.json().get("notes", [])] if r.status == 200 else r.status


def api_host_get(s, host, path, auth=None, headers=None):
    h = {"Host": host}
    if auth:
        h["Authorization"] = auth
    h.update(headers or {})
    c = silotest.Client(s.port)
    return c.request("GET", path, headers=h, cookies=False)


def basic(token, user="phone"):
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


def ws_open(s, sess, path="/ws"):
    """A raw WebSocket-style upgrade on the session host; the socket after a 101, or None."""
    sock = socket.create_connection((HOST, s.port), timeout=15)
    req = (f"GET {path} HTTP/1.1\r\nHost: {sess.host}\r\nCookie: silo_grain={sess.cookie}\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    sock.sendall(req.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = sock.recv(4096)
        if not b:
            break
        head += b
    if not head.startswith(b"HTTP/1.1 101"):
        sock.close()
        return None
    return sock


def ws_echo(sock, data=b"ping"):
    try:
        sock.sendall(data)
        return sock.recv(4096)
    except OSError:
        return b""


def ws_closed(sock):
    try:
        sock.settimeout(15)
        while True:
            b = sock.recv(4096)
            if not b:
                return True
    except OSError as e:
        return isinstance(e, ConnectionResetError)


def scenario(t):
    if not gt.skip_unless_ready(t, "notes", "probe"):
        return
    s = gt.new_server().start()
    ada = silotest.setup_admin(s, name="ada")
    app = gt.install(ada, "notes").json().get("app_id", "")
    gid = ada.post("/api/v1/grains", {"app_id": app}).json().get("grain_id", "")
    own = gt.GrainSession(s, ada, gid)
    t.eq(own.post("/api/notes", {"title": "Plan", "body": "Ship it"}).status, 201,
         "owner: writes a note")
    ada_uid = whoami(own).get("user_id")
    bob = gt.invite_user(s, ada, "bob")
    carol = gt.invite_user(s, ada, "carol")

    # --- Making links ---
    view = make_share(t, ada, gid, "viewer", "for the team", what="owner: a view link (201)")
    t.ok(LINK_RE.match(view.get("url", "")), "link: <base url>/shared/<64 hex>", repr(view))
    edit = make_share(t, ada, gid, "editor", "co-author", what="owner: an edit link (201)")
    t.eq(ada.post(f"/api/v1/grains/{gid}/shares", {"role": "admin"}).status, 400,
         "an unknown role is 400")
    t.eq(ada.post(f"/api/v1/grains/{gid}/shares", {"role": "viewer", "label": "a\nb"}).status,
         400, "a label with a control character is 400")
    t.eq(ada.post(f"/api/v1/grains/{gid}/shares", {"role": "viewer", "kind": "x"}).status, 400,
         "an unknown kind is 400")
    t.eq(ada.post(f"/api/v1/grains/{gid}/shares", {"role": "viewer"}, csrf=False).status, 403,
         "without X-CSRF-Token is 403")
    t.eq(s.client().post(f"/api/v1/grains/{gid}/shares", {"role": "viewer"}).status, 401,
         "logged out is 401")
    t.eq(bob.post(f"/api/v1/grains/{gid}/shares", {"role": "viewer"}).status, 403,
         "someone without access cannot share (403)")

    # --- An anonymous visitor with the view link ---
    anon = open_link(s, s.client(), link_token(view))
    t.ok(isinstance(anon, gt.GrainSession) and anon.ok, "anonymous: the link opens a session",
         repr(anon))
    w = whoami(anon)
    t.ok(w.get("anonymous") is True and w.get("user_id") is None and w.get("permissions") == [],
         "anonymous: no user id, the viewer role's (empty) permissions", repr(w))
    t.eq(titles(anon), ["Plan"], "anonymous: sees the note")
    t.eq(anon.post("/api/notes", {"title": "vandal"}).status, 403,
         "anonymous viewer: writing is refused by the app")
    forged = anon.get("/api/whoami", headers={"X-Sandstorm-Permissions": "edit",
                                              "X-Sandstorm-User-Id": "f" * 32}).json()
    t.ok(forged.get("permissions") == [] and forged.get("user_id") is None,
         "identity headers a browser sends never reach the app", repr(forged))
    page = s.client().get(f"/shared/{link_token(view)}")
    t.ok(page.status == 200 and 'id="grain-frame"' in page.text() and
         'id="share"' not in page.text(),
         "anonymous: /shared/<token> shows the grain in its frame, without a Share dialog",
         repr(page))
    t.eq(s.client().get("/shared/" + "0" * 64).status, 404, "an unknown link is 404")
    t.eq(s.client().post("/api/v1/shared/" + "0" * 64 + "/session", {}).status, 404,
         "API: an unknown link is 404")

    # --- The edit link gives the edit permission ---
    anon_edit = open_link(s, s.client(), link_token(edit))
    t.eq(whoami(anon_edit).get("permissions"), ["edit"], "edit link: the app sees 'edit'")
    t.eq(anon_edit.post("/api/notes", {"title": "Draft"}).status, 201,
         "edit link: an anonymous editor can write")

    # --- A logged-in user keeps the grant ---
    r = bob.get(f"/shared/{link_token(view)}")
    t.ok(r.status == 303 and r.header("Location") == f"/grain/{gid}",
         "bob: opening the link while logged in leads to the grain's page", repr(r))
    shared = bob.get("/api/v1/shared-with-me").json().get("grains", [])
    t.ok([g.get("grain_id") for g in shared] == [gid] and shared[0].get("owner") == "ada",
         "bob: the grain is under Shared with me", repr(shared))
    home = bob.get("/")
    t.ok('id="shared-with-me"' in home.text() and f'href="/grain/{gid}"' in home.text(),
         "bob: the home page lists it under Shared with me")
    gp = bob.get(f"/grain/{gid}")
    t.ok(gp.status == 200 and "shared by ada" in gp.text() and "grain-trash" not in gp.text()
         and '<option value="viewer"' in gp.text() and '<option value="editor"' not in gp.text(),
         "bob: the grain's page without the owner's tools; he can share as viewer only",
         repr(gp))
    bs = gt.GrainSession(s, bob, gid)
    w = whoami(bs)
    t.ok(bs.ok and w.get("name") == "bob" and gt.HEX32.match(w.get("user_id") or "")
         and w.get("user_id") != ada_uid and w.get("permissions") == [],
         "bob: opens it again without the link, as himself, with the viewer's permissions",
         repr(w))
    t.eq(bob.post(f"/api/v1/grains/{gid}/shares", {"role": "editor"}).status, 403,
         "bob: cannot make an edit link from a view grant (403)")
    bob_link = make_share(t, bob, gid, "viewer", "for carol",
                          what="bob: can make a view link from his view grant")
    r = carol.post(f"/api/v1/shared/{link_token(bob_link)}/session", {})
    cs = gt.GrainSession(s, carol, None, url=r.json().get("url", "")) if r.status == 201 else None
    t.ok(cs is not None and titles(cs) == ["Plan", "Draft"],
         "carol: opens bob's link and sees the notes", repr(r))

    # --- Who has access, and the access log ---
    j = ada.get(f"/api/v1/grains/{gid}/shares").json()
    links = {x["share_id"]: x for x in j.get("shares", [])}
    t.ok(set(links) == {view["share_id"], edit["share_id"], bob_link["share_id"]} and
         links[bob_link["share_id"]].get("derived_from") == view["share_id"] and
         links[view["share_id"]].get("uses", 0) >= 2 and
         links[view["share_id"]].get("label") == "for the team",
         "owner: sees every link, with its label, uses and what it came from", repr(j))
    t.ok({u["name"] for u in j.get("users", [])} == {"bob", "carol"},
         "owner: sees every user holding a grant", repr(j.get("users")))
    j = bob.get(f"/api/v1/grains/{gid}/shares").json()
    t.ok([x["share_id"] for x in j.get("shares", [])] == [bob_link["share_id"]] and
         j.get("users") == [], "bob: sees only the link he made", repr(j))
    log = ada.get(f"/api/v1/grains/{gid}/access-log").json().get("entries", [])
    vias = {(e.get("name"), e.get("via")) for e in log}
    t.ok(("ada", "owner") in vias and ("bob", "grant") in vias and (None, "link") in vias,
         "the access log names the owner, bob through his grant, and anonymous link visits",
         repr(log[:6]))
    t.eq(bob.get(f"/api/v1/grains/{gid}/access-log").status, 403,
         "only the owner reads the access log")
    page = ada.get(f"/grain/{gid}/access").text()
    t.ok('id="share-links"' in page and f'data-share-id="{view["share_id"]}"' in page and
         'id="share-users"' in page and 'id="access-log"' in page and 'class="btn btn-small '
         'btn-danger revoke"' in page, "owner: the Who has access page lists all of it")

    # --- A WebSocket held through a link ---
    papp = gt.install(ada, "probe").json().get("app_id", "")
    pg = ada.post("/api/v1/grains", {"app_id": papp}).json().get("grain_id", "")
    plink = make_share(t, ada, pg, "viewer", "ws", what="probe: a view link")
    psess = open_link(s, s.client(), link_token(plink))
    sock = ws_open(s, psess) if isinstance(psess, gt.GrainSession) else None
    t.ok(sock is not None and ws_echo(sock) == b"ping",
         "a WebSocket through a view link is open and echoes")

    # --- Revoking a link ---
    r = ada.request("DELETE", f"/api/v1/shares/{plink['share_id']}")
    t.eq(r.status, 200, "owner: revokes the probe link")
    t.ok(sock is not None and ws_closed(sock), "revocation closes the open WebSocket")
    r = ada.request("DELETE", f"/api/v1/shares/{view['share_id']}")
    t.eq(r.status, 200, "owner: revokes the view link")
    t.eq(anon.get("/api/notes").status, 403, "revoked: the anonymous session is refused now")
    t.eq(s.client().get(f"/shared/{link_token(view)}").status, 404,
         "revoked: the link page says it is not valid (404)")
    t.eq(s.client().post(f"/api/v1/shared/{link_token(view)}/session", {}).status, 404,
         "revoked: the API refuses the link (404)")
    t.eq(bs.get("/api/notes").status, 403, "revoked: bob's open session is refused")
    t.eq(bob.post(f"/api/v1/grains/{gid}/session", {}).status, 403,
         "revoked: bob cannot open the grain again (403)")
    t.eq(bob.get("/api/v1/shared-with-me").json().get("grains"), [],
         "revoked: no longer under bob's Shared with me")
    t.eq(s.client().post(f"/api/v1/shared/{link_token(bob_link)}/session", {}).status, 404,
         "revoked: bob's link, derived from it, is gone too")
    t.eq(cs.get("/api/notes").status if cs else 0, 403,
         "revoked: carol, who came through bob's link, is refused")
    t.eq(anon_edit.get("/api/notes").status, 200, "the edit link is untouched")
    t.eq(bob.request("DELETE", f"/api/v1/shares/{edit['share_id']}").status, 404,
         "bob cannot revoke the owner's link")

    # --- Revoking a user ---
    r = carol.post(f"/api/v1/shared/{link_token(edit)}/session", {})
    cs2 = gt.GrainSession(s, carol, None, url=r.json().get("url", "")) if r.status == 201 else None
    t.ok(cs2 is not None and whoami(cs2).get("permissions") == ["edit"],
         "carol: keeps an edit grant through the edit link")
    cid = next((u["user_id"] for u in ada.get(f"/api/v1/grains/{gid}/shares").json()
                .get("users", []) if u["name"] == "carol"), 0)
    t.eq(ada.request("DELETE", f"/api/v1/grains/{gid}/users/{cid}").status, 200,
         "owner: takes carol's access away")
    t.eq(cs2.get("/api/notes").status if cs2 else 0, 403, "carol's open session is refused")
    t.eq(anon_edit.get("/api/notes").status, 200, "the link she used still works for others")

    # --- Device tokens on the API host ---
    dev = make_share(t, ada, gid, "viewer", "phone", kind="device",
                     what="owner: a device token (201)")
    m = re.match(r"^http://(api-([0-9a-f]{16})\.silo\.localhost:\d+)/$", dev.get("url", ""))
    t.ok(m and m.group(2) == dev.get("share_id") and len(dev.get("token", "")) == 64,
         "device: its own host api-<id>.<host> and a 64-hex token", repr(dev))
    dhost = m.group(1) if m else "x"
    tok = dev.get("token", "")
    r = api_host_get(s, dhost, "/api/whoami")
    t.ok(r.status == 401 and "Basic" in (r.header("WWW-Authenticate") or ""),
         "device host: no token is 401 asking for Basic auth", repr(r))
    r = api_host_get(s, dhost, "/api/whoami", f"Bearer {tok}")
    w = r.json() if r.status == 200 else {}
    t.ok(w.get("user_id") == ada_uid and w.get("permissions") == [],
         "device host: a Bearer token reaches the grain as its maker, with the role's permissions",
         repr(r))
    r = api_host_get(s, dhost, "/api/notes", basic(tok))
    t.ok(r.status == 200 and "Plan" in r.text(), "device host: Basic auth with the token works",
         repr(r))
    r = api_host_get(s, f"api.silo.localhost:{s.port}", "/api/notes", basic(tok))
    t.eq(r.status, 200, "api.<host> takes the token too")
    r = api_host_get(s, f"api-{'0' * 16}.silo.localhost:{s.port}", "/api/notes", basic(tok))
    t.eq(r.status, 401, "another device's host refuses the token")
    r = api_host_get(s, dhost, "/api/notes", basic(tok),
                     {"Origin": "http://evil.example"})
    t.eq(r.status, 403, "device host: browser requests (Origin) are refused")
    r = api_host_get(s, dhost, "/api/notes", basic(link_token(edit)))
    t.eq(r.status, 401, "device host: a link's token is not a device token")
    t.eq(s.client().get(f"/shared/{tok}").status, 404, "a device token is not a link")
    t.eq(ada.request("DELETE", f"/api/v1/shares/{dev['share_id']}").status, 200,
         "owner: revokes the device")
    t.eq(api_host_get(s, dhost, "/api/notes", basic(tok)).status, 401,
         "device host: a revoked token is 401")

    # --- Trashing the grain ends every share's access ---
    t.eq(ada.request("DELETE", f"/api/v1/grains/{gid}").status, 200, "owner: trashes the grain")
    t.eq(anon_edit.get("/api/notes").status, 404, "trashed: the edit link's session has ended")
    t.eq(s.client().get(f"/shared/{link_token(edit)}").status, 404,
         "trashed: the edit link is not valid")
    s.stop()


if __name__ == "__main__":
    silotest.run(scenario, time_limit=150)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The notes example app, run directly (no sandbox, no silo): build/apps/notes/notes on a
# kernel-chosen 127.0.0.1 port with a temporary --data directory, exercised as a user and as
# a hostile client would: identity headers, permissions, presence, persistence across a
# restart and a kill -9, escaping, caps, static files, HEAD, keep-alive.
# Under the sanitizer run (SILO_BIN in build/debug/) it uses build/debug/apps/notes/notes
# when that was built. NOTES_BIN overrides both.
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import silotest as st  # noqa: E402

HOST = "127.0.0.1"
ADA = {"X-Sandstorm-User-Id": "a1b2c3d4ada", "X-Sandstorm-Username": "Ada%20Lovelace",
       "X-Sandstorm-Permissions": "edit"}
GRACE = {"X-Sandstorm-User-Id": "f00dgrace", "X-Sandstorm-Username": "Grace%20Hopper",
         "X-Sandstorm-Permissions": ""}
ALAN = {"X-Sandstorm-User-Id": "alan42", "X-Sandstorm-Username": "Alan%20Turing",
        "X-Sandstorm-Permissions": "edit"}
ANON = {"X-Sandstorm-Username": "Anonymous%20User", "X-Sandstorm-Permissions": ""}
LISTEN_RE = re.compile(r"notes: listening on 127\.0\.0\.1:(\d+)")


def notes_bin():
    if os.environ.get("NOTES_BIN"):
        return os.environ["NOTES_BIN"]
    debug = st.ROOT / "build" / "debug" / "apps" / "notes" / "notes"
    if "/debug/" in os.environ.get("SILO_BIN", "") and debug.exists():
        return str(debug)
    return str(st.ROOT / "build" / "apps" / "notes" / "notes")


class Notes:
    """One notes process at a time on one data directory."""
    all = []

    def __init__(self, data=None):
        self.data = data or os.path.join(st.tmpdir("notes-test-"), "var")
        self.proc = None
        self.port = None
        self.logs = []
        Notes.all.append(self)

    def start(self):
        log = os.path.join(st.tmpdir("notes-log-"), f"notes.{len(self.logs) + 1}.stderr")
        self.logs.append(log)
        with open(log, "wb") as err:
            self.proc = subprocess.Popen([notes_bin(), "--port", "0", "--data", self.data],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, start_new_session=True,
                                         preexec_fn=st._die_with_parent)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = LISTEN_RE.search(Path(log).read_text(errors="replace"))
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"notes did not start: {Path(log).read_text(errors='replace')[-500:]!r}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr(self):
        return "".join(Path(p).read_text(errors="replace") for p in self.logs if os.path.exists(p))

    def req(self, method, path, who=None, body=None, json_body=None, form=None, headers=None,
            timeout=15):
        h = dict(who or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        c = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return st.Response(r.status, r.reason, r.getheaders(), r.read())
        finally:
            c.close()

    def notes(self, who=ADA):
        r = self.req("GET", "/api/notes", who)
        return r.json().get("notes", []) if r.status == 200 else None


def has_edit_controls(html):
    return any(s in html for s in ("<form", 'id="note-body"', 'id="note-title"', 'id="note-save"',
                                   "data-note-edit", "data-note-delete", "<textarea"))


def scenario_pages_and_forms(t, n):
    r = n.req("GET", "/", ADA)
    page = r.text()
    t.eq(r.status, 200, "GET / answers 200")
    t.ok(r.header("Content-Type", "").startswith("text/html"), "GET / is HTML")
    t.ok("No notes yet" in page and 'id="empty-state"' in page, "an empty notebook says No notes yet")
    t.ok(all(f'id="{i}"' in page for i in ("note-title", "note-body", "note-save")),
         "an editor gets the form: #note-title, #note-body, #note-save")
    csp = r.header("Content-Security-Policy", "")
    t.ok("default-src 'self'" in csp and "unsafe-inline" not in csp, "the page sets a strict CSP",
         csp)
    t.ok(not re.search(r"<script(?![^>]*\bsrc=)", page) and " style=" not in page
         and "<style" not in page and not re.search(r"\son[a-z]+=", page),
         "no inline scripts, styles or event handlers")
    t.ok("Ada Lovelace" in page, "the caller's decoded name is shown")

    h = n.req("HEAD", "/", ADA)
    t.ok(h.status == 200 and h.body == b"" and int(h.header("Content-Length", "0")) > 1000,
         "HEAD / gives the headers and no body", repr(h))

    r = n.req("POST", "/notes", ADA, form={"title": "Groceries", "body": "Milk\r\nEggs\r\n"})
    t.ok(r.status == 303 and r.header("Location") == "/#note-1",
         "a note made with the form answers 303 back to the page", repr(r))
    page = n.req("GET", "/", ADA).text()
    m = re.search(r'<article class="note" id="note-1" data-note-id="1">(.*?)</article>', page, re.S)
    t.ok(m and "Groceries" in m.group(1) and "Milk\nEggs</div>" in m.group(1),
         "the note is on the page in an <article data-note-id>")
    t.ok(m and re.search(r"Last edited by <strong[^>]*>Ada Lovelace</strong>, <time[^>]*>just now",
                         m.group(1)), "the note says who edited it last, and when")
    t.ok("No notes yet" not in page and "1 note<" in page, "the empty state is gone; 1 note")

    r = n.req("POST", "/api/notes", ADA, json_body={"title": "Plan", "body": "Ship notes"})
    j = r.json()
    t.ok(r.status == 201 and j.get("id") == 2 and r.header("Location") == "/api/notes/2",
         "POST /api/notes answers 201 with the note and its Location", repr(r))
    t.ok(j.get("created_by", {}).get("name") == "Ada Lovelace"
         and j.get("updated_by", {}).get("id") == ADA["X-Sandstorm-User-Id"],
         "the API note carries its author")
    r = n.req("PUT", "/api/notes/2", ALAN, json_body={"body": "Ship notes on Friday"})
    j = r.json()
    t.ok(r.status == 200 and j.get("title") == "Plan" and j.get("body") == "Ship notes on Friday"
         and j.get("updated_by", {}).get("name") == "Alan Turing"
         and j.get("created_by", {}).get("name") == "Ada Lovelace",
         "PUT changes the given fields, keeps the others, records the editor", repr(r))
    r = n.req("GET", "/?edit=1", ADA)
    t.ok('id="edit-body"' in r.text() and 'id="edit-save"' in r.text()
         and 'action="/notes/1"' in r.text(), "GET /?edit=1 shows that note as a form")
    r = n.req("POST", "/notes/1", ALAN, form={"title": "Groceries", "body": "Milk\nEggs\nBread"})
    t.ok(r.status == 303 and r.header("Location") == "/#note-1", "editing with the form: 303")
    one = n.req("GET", "/api/notes/1", ADA).json()
    t.ok(one.get("body") == "Milk\nEggs\nBread" and one["updated_by"]["name"] == "Alan Turing",
         "the edit is stored")
    t.eq([x["id"] for x in n.notes()], [1, 2], "GET /api/notes lists both notes")
    r = n.req("POST", "/notes", ADA, form={"title": "  ", "body": "\r\n"})
    t.ok(r.status == 400 and "needs a title or some text" in r.text() and 'id="note-body"' in r.text(),
         "an empty note is refused with the page and a message", repr(r))
    r = n.req("POST", "/notes/1/delete", ADA, form={})
    t.ok(r.status == 303 and r.header("Location") == "/", "deleting with the form: 303")
    r = n.req("DELETE", "/api/notes/2", ADA)
    t.eq(r.status, 204, "DELETE /api/notes/2 answers 204")
    t.eq(n.req("GET", "/api/notes/2", ADA).status, 404, "a deleted note is gone")
    t.ok("No notes yet" in n.req("GET", "/", ADA).text(), "the notebook is empty again")


def scenario_identity(t, n):
    who = {"X-Sandstorm-User-Id": "u-999", "X-Sandstorm-Username": "Ada%20Lovel%C3%A5ce%20%26%20co",
           "X-Sandstorm-Permissions": "edit, admin"}
    j = n.req("GET", "/api/whoami", who).json()
    t.ok(j.get("user_id") == "u-999" and j.get("name") == "Ada Lovelåce & co"
         and j.get("permissions") == ["edit", "admin"] and j.get("can_edit") is True
         and j.get("anonymous") is False, "whoami echoes the identity, the name decoded", repr(j))
    page = n.req("GET", "/", who).text()
    t.ok("Ada Lovelåce &amp; co" in page, "the decoded name is on the page, escaped")
    j = n.req("GET", "/api/whoami", ANON).json()
    t.ok(j.get("user_id") is None and j.get("anonymous") is True and j.get("can_edit") is False
         and j.get("name") == "Anonymous User", "no user id: anonymous", repr(j))
    j = n.req("GET", "/api/whoami", {}).json()
    t.ok(j.get("anonymous") is True and j.get("name") == "Anonymous" and j.get("permissions") == [],
         "no identity headers at all: anonymous without permissions", repr(j))
    bad = {"X-Sandstorm-User-Id": "has space", "X-Sandstorm-Username": "%G1%",
           "X-Sandstorm-Permissions": "edit"}
    j = n.req("GET", "/api/whoami", bad).json()
    t.ok(j.get("anonymous") is True and j.get("name") == "Anonymous",
         "a malformed user id and name are not trusted", repr(j))
    evil = {"X-Sandstorm-User-Id": "x1", "X-Sandstorm-Username": "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            "X-Sandstorm-Permissions": "edit"}
    page = n.req("GET", "/", evil).text()
    t.ok("&lt;script&gt;alert(1)" in page and "<script>alert" not in page,
         "a name holding HTML is escaped")
    t.eq(n.req("GET", "/api/whoami", {**ADA, "X-Sandstorm-Permissions": "editor,view"}).json()
         .get("can_edit"), False, "only the exact permission \"edit\" allows changes")


def scenario_read_only(t, n):
    n.req("POST", "/api/notes", ADA, json_body={"title": "Shared", "body": "Read me"})
    for who, label in ((GRACE, "a viewer"), (ANON, "an anonymous visitor"),
                       ({**GRACE, "X-Sandstorm-Permissions": "view,comment"}, "other permissions")):
        r = n.req("GET", "/", who)
        page = r.text()
        t.ok(r.status == 200 and "Read me" in page and 'data-note-id="1"' in page,
             f"{label} sees the notes")
        t.ok(not has_edit_controls(page) and 'id="read-only"' in page and "View only" in page,
             f"{label} gets no edit controls, and a read-only notice")
        t.ok(not has_edit_controls(n.req("GET", "/?edit=1", who).text()),
             f"{label} gets no edit form from /?edit=1")
        writes = [
            n.req("POST", "/notes", who, form={"title": "x", "body": "y"}),
            n.req("POST", "/notes/1", who, form={"title": "x", "body": "y"}),
            n.req("POST", "/notes/1/delete", who, form={}),
            n.req("POST", "/api/notes", who, json_body={"title": "x"}),
            n.req("PUT", "/api/notes/1", who, json_body={"title": "x"}),
            n.req("DELETE", "/api/notes/1", who),
        ]
        t.eq([w.status for w in writes], [403] * 6, f"every write by {label} is 403")
        t.ok("edit" in writes[0].text() and "edit" in writes[3].json().get("error", ""),
             f"the 403s say why ({label})")
    notes = n.notes()
    t.ok(len(notes) == 1 and notes[0]["title"] == "Shared" and notes[0]["body"] == "Read me",
         "nothing was changed by the refused writes")
    anon_editor = {"X-Sandstorm-Permissions": "edit", "X-Sandstorm-Session-Id": "sess1"}
    r = n.req("POST", "/api/notes", anon_editor, json_body={"body": "from a link"})
    t.ok(r.status == 201 and r.json()["created_by"] == {"id": None, "name": "Anonymous"},
         "an anonymous visitor holding \"edit\" (an editor link) may write", repr(r))


def scenario_presence(t):
    n = Notes().start()
    n.req("GET", "/", ADA)
    n.req("GET", "/api/presence", GRACE)
    j = n.req("GET", "/api/presence", ALAN).json()
    names = [p["name"] for p in j.get("here", [])]
    t.ok(set(names) == {"Ada Lovelace", "Grace Hopper", "Alan Turing"},
         "presence lists everyone who made a request lately", repr(j))
    t.eq(j.get("text"), "You, Grace Hopper and Ada Lovelace are here", "presence says who is here")
    me = [p for p in j["here"] if p["you"]]
    t.ok(len(me) == 1 and me[0]["name"] == "Alan Turing" and me[0]["can_edit"] is True,
         "the caller is marked as you")
    grace = [p for p in j["here"] if p["name"] == "Grace Hopper"]
    t.ok(grace and grace[0]["can_edit"] is False, "viewers are marked as such")
    page = n.req("GET", "/", GRACE).text()
    t.ok("You, Alan Turing and Ada Lovelace are here" in page and 'id="presence-text"' in page,
         "the page shows who is here")
    n.req("GET", "/api/notes/1", ANON)
    j = n.req("GET", "/api/presence", ADA).json()
    t.ok("Anonymous User" in [p["name"] for p in j["here"]] and "and" in j["text"],
         "anonymous visitors count too", repr(j))
    n.stop()


def scenario_persistence(t):
    n = Notes().start()
    n.req("POST", "/api/notes", ADA, json_body={"title": "Keep", "body": "me"})
    rc = n.stop()
    t.eq(rc, 0, "SIGTERM stops notes with status 0")
    n.start()
    notes = n.notes()
    t.ok(notes and notes[0]["title"] == "Keep" and notes[0]["created_by"]["name"] == "Ada Lovelace",
         "a note survives a restart")
    r = n.req("POST", "/notes", ADA, form={"title": "Right before", "body": "the crash"})
    t.eq(r.status, 303, "a form post answers 303 ...")
    n.kill9()
    n.start()
    t.ok(any(x["title"] == "Right before" for x in n.notes()), "... and the note survives kill -9")
    ok = True
    for i in range(5):
        r = n.req("POST", "/api/notes", ALAN, json_body={"title": f"crash {i}", "body": "x" * 5000})
        nid = r.json().get("id")
        n.req("PUT", f"/api/notes/{nid}", ALAN, json_body={"body": f"edited {i}"})
        n.kill9()
        n.start()
        got = {x["title"]: x["body"] for x in n.notes()}
        ok = ok and got.get(f"crash {i}") == f"edited {i}"
    t.ok(ok, "five rounds of create + edit + kill -9: every acknowledged change is there")
    r = n.req("DELETE", "/api/notes/1", ADA)
    n.kill9()
    n.start()
    t.ok(r.status == 204 and all(x["id"] != 1 for x in n.notes()), "a delete survives kill -9")
    files = sorted(os.listdir(n.data))
    t.eq(files, ["notebook.json"], "only notebook.json in the data directory (no temp files)")
    stored = json.loads(Path(n.data, "notebook.json").read_text())
    t.ok(stored.get("format") == 1 and len(stored.get("notes", [])) == 6,
         "the file is a JSON notebook holding every note")
    n.stop()

    # A damaged file is kept aside, and the grain still starts.
    Path(n.data, "notebook.json").write_text('{"notes": [ truncated')
    n.start()
    aside = [f for f in os.listdir(n.data) if f.startswith("notebook.json.corrupt-")]
    t.ok(n.notes() == [] and len(aside) == 1, "a corrupt notebook is moved aside; notes starts empty")
    n.stop()


def scenario_full(t):
    data = os.path.join(st.tmpdir("notes-full-"), "var")
    os.makedirs(data)
    who = {"id": "u", "name": "Bulk"}
    notes = [{"id": i, "title": f"n{i}", "body": "", "created": 1, "updated": 1,
              "created_by": who, "updated_by": who} for i in range(1, 1001)]
    Path(data, "notebook.json").write_text(json.dumps(
        {"format": 1, "next_id": 1001, "revision": 1000, "notes": notes}))
    n = Notes(data).start()
    t.eq(len(n.notes()), 1000, "a notebook of 1000 notes loads")
    r = n.req("POST", "/api/notes", ADA, json_body={"title": "one more"})
    t.ok(r.status == 409 and "full" in r.json().get("error", ""), "note 1001 is refused (409)", repr(r))
    r = n.req("POST", "/notes", ADA, form={"title": "one more"})
    t.ok(r.status == 409 and "full" in r.text() and 'value="one more"' in r.text(),
         "the form says so, keeping what was typed")
    t.eq(n.req("DELETE", "/api/notes/1000", ADA).status, 204, "deleting one makes room ...")
    t.eq(n.req("POST", "/api/notes", ADA, json_body={"title": "one more"}).status, 201, "... for another")
    n.stop()


def raw(n, data, timeout=10):
    return st.raw_exchange(n.port, data, timeout)


def scenario_hostile(t, n):
    big = b'{"title": "big", "body": "' + b"x" * (1 << 20) + b'"}'
    r = n.req("POST", "/api/notes", ADA, body=big, headers={"Content-Type": "application/json"})
    t.eq(r.status, 413, "a 1 MiB body is refused with 413")
    resp, closed = raw(n, "POST /api/notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          "Content-Length: 100000000\r\n\r\n")
    t.ok(resp and resp.status == 413 and closed, "a huge Content-Length is refused before the body")
    r = n.req("POST", "/api/notes", ADA, json_body={"title": "t", "body": "y" * 70000})
    t.ok(r.status == 413 and "longer than 65536" in r.json().get("error", ""),
         "a note over 64 KiB is refused with 413", repr(r))
    r = n.req("POST", "/notes", ADA, form={"title": "t", "body": "z" * 70000})
    t.ok(r.status == 413 and "64 KiB" in r.text(), "the form refuses it too, with a message")
    r = n.req("POST", "/api/notes", ADA, json_body={"title": "t" * 201})
    t.eq(r.status, 413, "a title over 200 bytes is refused")
    r = n.req("POST", "/api/notes", ADA, body=b'{"title": "x", ', headers={"Content-Type": "application/json"})
    t.ok(r.status == 400 and "not valid JSON" in r.json().get("error", ""), "bad JSON is 400")
    r = n.req("POST", "/api/notes", ADA, body=b'["x"]', headers={"Content-Type": "application/json"})
    t.eq(r.status, 400, "JSON that is not an object is 400")
    r = n.req("POST", "/api/notes", ADA, json_body={"title": 5})
    t.ok(r.status == 400 and "'title' must be a string" in r.json().get("error", ""),
         "a mistyped field is 400, named")
    r = n.req("POST", "/api/notes", ADA, body=b'{"title": "a", "title": "b"}',
              headers={"Content-Type": "application/json"})
    t.eq(r.status, 400, "duplicate JSON keys are 400")
    r = n.req("POST", "/api/notes", ADA, body=b'{"title": "\xff\xfe"}',
              headers={"Content-Type": "application/json"})
    t.eq(r.status, 400, "invalid UTF-8 in JSON is 400")
    r = n.req("POST", "/notes", ADA, body=b"title=%FF%FE&body=x",
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    t.ok(r.status == 400 and "UTF-8" in r.text(), "invalid UTF-8 in a form is 400, with a message")
    r = n.req("POST", "/notes", ADA, body=b"title=%ZZ&body=x",
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    t.eq(r.status, 400, "a bad percent escape is 400")
    r = n.req("POST", "/notes", ADA, body=b"title=a%00b",
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    t.eq(r.status, 400, "an encoded NUL is 400")
    r = n.req("POST", "/notes", ADA, body=b"title=a", headers={"Content-Type": "text/plain"})
    t.eq(r.status, 415, "a form post that is not form-encoded is 415")
    r = n.req("POST", "/notes", ADA, body=b"title=a", headers={"Content-Type": "multipart/form-data; boundary=x"})
    t.eq(r.status, 415, "multipart is 415")
    r = n.req("POST", "/api/notes", ADA, form={"title": "a"})
    t.eq(r.status, 415, "an API write that is not JSON is 415 (no cross-site form can make one)")
    r = n.req("POST", "/notes", ADA, form={"title": "a"}, headers={"Sec-Fetch-Site": "cross-site"})
    t.eq(r.status, 403, "a cross-site form post is 403")
    t.eq(n.notes(), [], "none of the hostile writes stored anything")

    r = n.req("POST", "/api/notes", ADA, json_body={
        "title": "<script>alert(1)</script>",
        "body": "\"><img src=x onerror=alert(1)> & 'quotes' \u0007bell\u202e"})
    t.eq(r.status, 201, "a note holding HTML is stored")
    page = n.req("GET", "/", ADA).text()
    t.ok("&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
         and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#39;quotes&#39;" in page
         and "<img src=x" not in page, "HTML in notes is rendered escaped")
    t.ok("\u0007" not in page and "\u0007" not in json.dumps(n.notes()),
         "control characters are dropped from notes")
    edit = n.req("GET", "/?edit=1", ADA).text()
    t.ok("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\"" in edit, "and escaped in the edit form")

    for path, want in (("/api/notes/abc", 404), ("/api/notes/0", 404), ("/api/notes/01", 404),
                       ("/api/notes/99999999999999999999", 404), ("/api/notes/1/x", 404),
                       ("/notes/1/delete/", 404), ("/nope", 404), ("/api/nope", 404),
                       ("/static/../notes.c", 404), ("/static/", 404)):
        r = n.req("GET", path, ADA)
        t.eq(r.status, want, f"GET {path} is {want}")
    t.ok("json" in n.req("GET", "/api/nope", ADA).header("Content-Type", ""), "API 404s are JSON")
    r = n.req("GET", "/notes/1/delete", ADA)
    t.ok(r.status == 405 and r.header("Allow") == "POST", "GET on a form target is 405 with Allow")
    r = n.req("PATCH", "/api/notes/1", ADA, json_body={})
    t.ok(r.status == 405 and "PUT" in r.header("Allow", ""), "PATCH is 405 with Allow")

    resp, closed = raw(n, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    t.ok(resp and resp.status == 400 and closed, "a malformed head is 400 and the connection closes")
    resp, closed = raw(n, "BREW / HTTP/1.1\r\nHost: x\r\n\r\n")
    t.ok(resp and resp.status == 501, "an unknown method is 501")
    resp, closed = raw(n, "GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + "a" * 40000 + "\r\n\r\n")
    t.ok(resp and resp.status == 431, "an oversized head is 431")
    resp, closed = raw(n, "POST /api/notes HTTP/1.1\r\nHost: x\r\nX-Sandstorm-Permissions: edit\r\n"
                          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "d\r\n{\"title\":\"ch\"\r\n1\r\n}\r\n0\r\n\r\n")
    t.ok(resp and resp.status == 201 and resp.json().get("title") == "ch", "a chunked body works")
    resp, closed = raw(n, "POST /api/notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          "Transfer-Encoding: chunked\r\n\r\nzz\r\n")
    t.ok(resp and resp.status == 400 and closed, "a bad chunk size is 400")
    # A client that goes quiet in the middle of a request does not block anyone else.
    s = socket.create_connection((HOST, n.port), timeout=5)
    s.sendall(b"POST /api/notes HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"ti")
    t.eq(n.req("GET", "/api/whoami", ADA).status, 200, "a stalled client does not block others")
    s.close()
    t.ok(n.proc.poll() is None and n.req("GET", "/", ADA).status == 200, "notes is still serving")


def scenario_http(t, n):
    for path, ctype in (("/static/notes.css", "text/css"), ("/static/notes.js", "text/javascript"),
                        ("/static/icon.svg", "image/svg+xml")):
        r = n.req("GET", path)
        t.ok(r.status == 200 and r.header("Content-Type", "").startswith(ctype) and len(r.body) > 200,
             f"{path} is served as {ctype}")
        etag = r.header("ETag")
        r2 = n.req("GET", path, headers={"If-None-Match": etag or "x"})
        t.ok(etag and r2.status == 304 and r2.body == b"", f"{path} revalidates with its ETag (304)")
    h = n.req("HEAD", "/static/notes.css")
    t.ok(h.status == 200 and h.body == b"" and int(h.header("Content-Length", "0")) > 200,
         "HEAD on a static file: headers only")
    h = n.req("HEAD", "/api/notes", ADA)
    t.ok(h.status == 200 and h.body == b"" and h.header("Content-Type") == "application/json",
         "HEAD on the API: headers only")
    js = n.req("GET", "/static/notes.js").text()
    t.ok("/api/presence" in js and "eval(" not in js and "innerHTML" not in js,
         "the script polls /api/presence and builds no HTML from strings")

    # Keep-alive and pipelining: three requests in one write, three answers in order.
    c = st.Raw(n.port)
    c.send("GET /api/whoami HTTP/1.1\r\nHost: x\r\nX-Sandstorm-Username: One\r\n\r\n"
           "GET /api/whoami HTTP/1.1\r\nHost: x\r\nX-Sandstorm-Username: Two\r\n\r\n"
           "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    a = c.read_response()
    b = c.read_response()
    h = c.read_response(head_only=True)
    t.ok(a and b and h and a.json().get("name") == "One" and b.json().get("name") == "Two"
         and h.status == 200, "pipelined requests are answered in order on one connection")
    c.send("GET /api/whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    r = c.read_response()
    t.ok(r and r.status == 200 and c.closed_by_peer(5), "Connection: close is honoured")
    c.close()
    resp, _ = raw(n, "GET /api/whoami HTTP/1.0\r\n\r\n")
    t.ok(resp and resp.status == 200, "HTTP/1.0 without Host works")


def scenario(t):
    t.note(f"notes binary: {notes_bin()}")
    if not os.access(notes_bin(), os.X_OK):
        t.ok(False, "the notes binary is built", f"{notes_bin()} is missing (make build/apps/notes/notes)")
        return
    try:
        n = Notes().start()
        scenario_pages_and_forms(t, n)
        scenario_identity(t, n)
        n.stop()
        n = Notes().start()
        scenario_read_only(t, n)
        n.stop()
        scenario_presence(t)
        scenario_persistence(t)
        scenario_full(t)
        n = Notes().start()
        scenario_hostile(t, n)
        scenario_http(t, n)
        t.eq(n.stop(), 0, "notes exits cleanly on SIGTERM after all that")
    finally:
        for x in Notes.all:
            x.kill9()
    logs = "".join(x.stderr() for x in Notes.all)
    t.ok(not st.SANITIZER_RE.search(logs), "no sanitizer report in any notes log",
         st.SANITIZER_RE.search(logs) and logs[-2000:])


if __name__ == "__main__":
    st.run(scenario, time_limit=150)

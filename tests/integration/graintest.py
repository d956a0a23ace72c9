# SPDX-License-Identifier: MIT
# graintest: what the apps-and-grains integration tests (test_apps_install.py,
# test_grains_lifecycle.py, test_probe_sandbox.py, test_radicale_caldav.py) share on top of
# silotest: the packages `make apps` builds, skipping when they or root are missing, uploading
# a package, and a browser-like client for a grain's session host (ui-<id>.<shell host>).
# Connections go to 127.0.0.1 only; the Host header names the session host (no DNS).
# Not a test program itself (run.sh runs tests/integration/test_*.py only).
import http.client
import json as jsonlib
import os
import re
import time

import silotest as st
from silotest import HOST

BASE_HOST = "silo.localhost"
APPS_DIR = st.ROOT / "build" / "apps"
SPK = {name: APPS_DIR / f"{name}.spk" for name in ("notes", "notes-v2", "probe", "radicale")}
SESSION_URL_RE = re.compile(
    r"^http://(ui-([0-9a-f]{32})\.([^/]+))(/\.silo/open\?t=([0-9a-f]{64}))$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def skip_unless_ready(t, *packages):
    """True when this program can run: root (real sandboxes) and every named package built.
    Otherwise prints one "ok 1 - # SKIP <why>" line and returns False."""
    why = None
    if os.geteuid() != 0:
        why = "not root: grains need real sandboxes (namespaces, cgroups, uid ranges)"
    else:
        missing = [str(SPK[p].relative_to(st.ROOT)) for p in packages if not SPK[p].is_file()]
        if missing:
            why = f"{', '.join(missing)} not built (run `make apps`)"
    if why:
        t.ok(True, f"# SKIP {why}")
        return False
    return True


def spk_bytes(name):
    return SPK[name].read_bytes()


def upload(client, data, query=""):
    """POST /api/v1/apps with the raw package as the body."""
    return client.request("POST", "/api/v1/apps" + query, body=data,
                          headers={"Content-Type": "application/octet-stream"})


def install(client, name, query=""):
    return upload(client, spk_bytes(name), query)


def new_server(config=None, **kw):
    """A server whose shell is http://silo.localhost:PORT, so its session hosts are
    ui-<id>.silo.localhost:PORT."""
    return st.Server(base_host=BASE_HOST, config=config, **kw)


def invite_user(s, admin, name):
    """An invitation accepted as in test_setup_login.py: the new user's logged-in client."""
    url = admin.post("/api/v1/invites", {}).json().get("url", "")
    m = re.search(r"/invite/([0-9a-f]{64})$", url)
    c = s.client()
    r = c.post(f"/api/v1/invites/{m.group(1) if m else 'x'}/accept",
               {"name": name, "password": st.PASSWORD})
    if r.status != 201:
        raise RuntimeError(f"accepting the invitation failed: {r}")
    c.csrf = r.json().get("csrf")
    return c


def wait_for(fn, timeout=10, interval=0.05):
    """Calls fn until it returns something true or timeout seconds pass; returns the last
    value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def grain_list(client, trash=False):
    r = client.get("/api/v1/grains" + ("?trash=1" if trash else ""))
    return r.json().get("grains", []) if r.status == 200 else None


def grain_entry(client, gid, trash=False):
    for g in grain_list(client, trash) or []:
        if g.get("grain_id") == gid:
            return g
    return None


def wait_stopped(client, gid, timeout=15):
    """Waits until the grain list says the grain is not running; True when it did."""
    return bool(wait_for(lambda: (grain_entry(client, gid) or {}).get("running") is False,
                         timeout, 0.1))


def grain_pid(server, gid):
    """The host pid of the grain's sandbox, from the parent's "grain G started (pid N" log
    line (the latest one of the current server process), or None."""
    found = re.findall(rf"grain {gid} started \(pid (\d+)", server.stderr())
    return int(found[-1]) if found else None


def proc_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class GrainSession:
    """One browser tab on a grain: POST /api/v1/grains/<id>/session, then the one-time open
    link (which sets the host-only silo_grain cookie and redirects to /), then requests to the
    session host with that cookie, as the iframe would make them."""

    def __init__(self, server, client, gid, open_now=True, url=None):
        """With url (a link found elsewhere, e.g. in the shell's page), no session is made."""
        self.server = server
        self.gid = gid
        self.cookie = None
        self.create = None
        if url is None:
            r = client.post(f"/api/v1/grains/{gid}/session", {})
            self.create = r
            url = r.json().get("url", "") if r.status == 201 else ""
        self.url = url
        m = SESSION_URL_RE.match(self.url)
        self.host = m.group(1) if m else None        # ui-<32 hex>.silo.localhost:PORT
        self.host_id = m.group(2) if m else None
        self.open_path = m.group(4) if m else None   # /.silo/open?t=<64 hex>
        self.opened = None
        if m and open_now:
            self.open()

    @property
    def ok(self):
        return bool(self.host and self.cookie)

    def open(self):
        """Uses the open link; keeps the cookie it sets. Returns the response."""
        r = self.raw("GET", self.open_path, cookie=False)
        self.opened = r
        for sc in r.header_all("Set-Cookie"):
            name, value, attrs = st.parse_cookie(sc)
            if name == "silo_grain" and value:
                self.cookie = value
                self.cookie_attrs = attrs
        return r

    def raw(self, method, path, body=None, headers=None, cookie=True, host=None, timeout=30,
            json=None):
        """One request to the session host (or host=...) on a fresh connection."""
        h = {"Host": host or self.host}
        if json is not None:
            body = jsonlib.dumps(json).encode()
            h["Content-Type"] = "application/json"
        if cookie is True and self.cookie:
            h["Cookie"] = f"silo_grain={self.cookie}"
        elif isinstance(cookie, str):
            h["Cookie"] = cookie
        h.update(headers or {})
        c = http.client.HTTPConnection(HOST, self.server.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return st.Response(r.status, r.reason, r.getheaders(), r.read())
        finally:
            c.close()

    def get(self, path, **kw):
        return self.raw("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.raw("POST", path, json=json, **kw)

#!/usr/bin/python3 -IS
# SPDX-License-Identifier: MIT
"""silo launcher for Radicale (Debian's python3-radicale), shipped as /silo-radicale.py.

Runs Radicale's own HTTP server on 127.0.0.1:PORT with filesystem storage under
/var/radicale/collections, behind a small WSGI wrapper that turns silo's identity headers
into Radicale's user and rights.

A grain is one shared set of calendars and address books (Sandstorm's model: the app keeps
no accounts, the grain is what is shared). So every caller is the same Radicale user,
"grain", whose principal /grain/ every client discovers, and the identity headers decide
what the caller may do and who did it:

  X-Sandstorm-Permissions  comma list; with "write" everything passes; without it only
                           GET, HEAD, OPTIONS, PROPFIND and REPORT (403 otherwise), and
                           Radicale's rights say read-only too, so clients show it so
  X-Sandstorm-User-Id      absent: an anonymous visitor, always read-only
  X-Sandstorm-Username     percent-encoded display name, written with the user id to the
                           grain's log for every change ("Ada Lovelace (01234567) PUT ...")

Identity headers a browser sends never arrive (the bridge drops them); anything else that
could name a Radicale user (X-Remote-User, Authorization) is dropped here.

`--new` (the "New calendar & address book" action) creates the calendar "Calendar" and
the address book "Contacts" at the grain's first start.

Runs as `/usr/bin/python3 -I -S /silo-radicale.py [--new]`: -I -S keep the host's
site-packages hooks (.pth files, sitecustomize) out of both the trace and the package.
Environment, for tests and the trace: SILO_RADICALE_VAR (default /var),
SILO_RADICALE_PORT (default 8000), SILO_RADICALE_LOG (Radicale's level, default warning).
"""
import io
import os
import re
import signal
import socket
import sys
import threading
import urllib.parse
import wsgiref.util

sys.path.append("/usr/lib/python3/dist-packages")

import radicale  # noqa: E402  (Debian's copy, found through the path just added)
import radicale.config  # noqa: E402
import radicale.log  # noqa: E402
import radicale.rights  # noqa: E402
import radicale.server  # noqa: E402
from radicale import pathutils  # noqa: E402

VAR = os.environ.get("SILO_RADICALE_VAR", "/var")
PORT = int(os.environ.get("SILO_RADICALE_PORT", "8000"))
LOG_LEVEL = os.environ.get("SILO_RADICALE_LOG", "warning")
COLLECTIONS = os.path.join(VAR, "radicale", "collections")

PRINCIPAL = "grain"   # the one Radicale user: every caller shares the grain's collections
# Everything else (PUT, DELETE, MKCOL, MKCALENDAR, PROPPATCH, MOVE, POST, ...) writes.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"})
USER_ID_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")

# Whether the request this thread serves may write, for the rights backend below.
_request = threading.local()


def log(msg):
    print(f"silo-radicale: {msg}", file=sys.stderr, flush=True)


class Identity:
    def __init__(self, environ):
        uid = environ.get("HTTP_X_SANDSTORM_USER_ID", "")
        perms = environ.get("HTTP_X_SANDSTORM_PERMISSIONS", "")
        name = urllib.parse.unquote(environ.get("HTTP_X_SANDSTORM_USERNAME", ""))
        name = "".join(c for c in name if c.isprintable())[:100]
        if USER_ID_RE.match(uid):
            self.uid = uid
            self.who = f"{name or 'someone'} ({uid[:8]})"
            self.writable = "write" in {p.strip() for p in perms.split(",")}
        else:
            self.uid = None
            self.who = "an anonymous visitor"
            self.writable = False


class SiloRights(radicale.rights.BaseRights):
    """The root and /grain/ are readable by all; the collections in /grain/ are writable
    for a caller holding "write" and readable for everyone else. Nothing else exists."""

    def authorization(self, user, path):
        writable = getattr(_request, "writable", False)
        sane = pathutils.strip_path(path)
        if user != PRINCIPAL:
            return ""
        if sane == "":
            return "R"
        if sane == PRINCIPAL:
            return "RW" if writable else "R"
        if sane.count("/") == 1 and sane.startswith(PRINCIPAL + "/"):
            return "rw" if writable else "r"
        return ""


MKCALENDAR = b"""<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
<D:displayname>Calendar</D:displayname>
<C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/>
</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"""

MKADDRESSBOOK = b"""<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>
<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>
<D:displayname>Contacts</D:displayname></D:prop></D:set></D:mkcol>"""

PRINCIPAL_NAME = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>
<D:displayname>Calendars and contacts</D:displayname></D:prop></D:set></D:propertyupdate>"""


class SiloApp:
    """The WSGI wrapper: identity in, permission check, Radicale, a log line per change."""

    def __init__(self, app):
        self.app = app

    def internal(self, method, path, body):
        """A request of the launcher's own, with write rights; returns the status line."""
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                   "HTTP_X_REMOTE_USER": PRINCIPAL, "CONTENT_TYPE": "application/xml"}
        wsgiref.util.setup_testing_defaults(environ)
        status = []
        _request.writable = True
        try:
            self.app(environ, lambda s, h, e=None: status.append(s))
        finally:
            _request.writable = False
        if not status or status[0][:1] != "2":
            log(f"{method} {path}: {status[0] if status else 'no answer'}")
        return status[0] if status else ""

    def set_up(self, new):
        # The principal first (Radicale makes it on a writer's first request), so that
        # read-only callers find it even before anyone wrote; then a new grain's defaults.
        self.internal("PROPPATCH", f"/{PRINCIPAL}/", PRINCIPAL_NAME)
        if new and not os.path.exists(os.path.join(COLLECTIONS, "collection-root",
                                                   PRINCIPAL, "calendar")):
            self.internal("MKCALENDAR", f"/{PRINCIPAL}/calendar/", MKCALENDAR)
            self.internal("MKCOL", f"/{PRINCIPAL}/contacts/", MKADDRESSBOOK)

    def __call__(self, environ, start_response):
        ident = Identity(environ)
        # Only silo says who the caller is: nothing from the request may choose the user
        # (X-Remote-User, Basic auth) or the URL prefix (X-Script-Name).
        for key in ("HTTP_X_REMOTE_USER", "HTTP_AUTHORIZATION", "HTTP_X_SCRIPT_NAME"):
            environ.pop(key, None)
        environ["HTTP_X_REMOTE_USER"] = PRINCIPAL
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method in READ_METHODS:
            return self.serve(environ, start_response, ident)
        path = environ.get("PATH_INFO", "")
        if not ident.writable:
            log(f"{ident.who} {method} {path}: refused, read-only")
            body = b"This grain is shared with you read-only.\n"
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8"),
                                             ("Content-Length", str(len(body)))])
            return [body]
        status = []

        def record(s, headers, exc_info=None):
            status.append(s)
            return start_response(s, headers, exc_info)

        answer = self.serve(environ, record, ident)
        log(f"{ident.who} {method} {path}: {status[0] if status else '?'}")
        return answer

    def serve(self, environ, start_response, ident):
        _request.writable = ident.writable
        try:
            # Radicale answers with a finished list: its rights checks are all done here.
            return self.app(environ, start_response)
        finally:
            _request.writable = False


def configuration():
    conf = radicale.config.load([])   # no config files: everything is set here
    conf.update({
        "server": {"hosts": f"127.0.0.1:{PORT}", "max_connections": "20",
                   "timeout": "30"},
        "auth": {"type": "http_x_remote_user", "delay": "0"},
        "rights": {"type": SiloRights},
        "storage": {"type": "multifilesystem", "filesystem_folder": COLLECTIONS},
        "web": {"type": "internal"},
        "logging": {"level": LOG_LEVEL, "mask_passwords": "True"},
    }, "silo launcher")
    return conf


def main():
    new = "--new" in sys.argv[1:]
    os.umask(0o007)
    os.makedirs(COLLECTIONS, exist_ok=True)
    radicale.log.setup()
    radicale.log.set_level(LOG_LEVEL)
    conf = configuration()
    # radicale.server.serve() builds its own Application: hand it ours, wrapped and set up.
    def make_app(c):
        app = SiloApp(radicale.Application(c))
        app.set_up(new)
        return app

    radicale.server.Application = make_app
    stop_r, stop_w = socket.socketpair()

    def stop(signum, frame):
        stop_w.close()   # serve() returns once the other end sees EOF

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if new:
        log("a new grain: making its calendar and address book")
    radicale.server.serve(conf, stop_r)
    return 0


if __name__ == "__main__":
    sys.exit(main())

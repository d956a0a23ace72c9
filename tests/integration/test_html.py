#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks the HTML side as a browser meets it: the login page and its security headers, the
# redirect to log in, the setup page of a spent link, form posts guarded by the CSRF cookie
# and hidden field, static assets with ETag / If-None-Match / HEAD, and that a Host the
# server does not serve gets 404.
import re

import silotest
from silotest import PASSWORD, Server


def hidden_csrf(html):
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    return m.group(1) if m else ""


def offsite(location):
    """Whether a browser would leave this site following a Location header: it strips C0
    controls and spaces around the URL and tabs and newlines inside it (WHATWG URL)."""
    loc = re.sub(r"[\t\n\r]", "", location).strip("".join(map(chr, range(33))))
    return not loc.startswith("/") or loc[1:2] in ("/", "\\")


def scenario(t):
    s = Server().start()
    c = s.client()

    r = c.get("/")
    t.eq(r.status, 503, "home: before setup, the home page says the server is not set up (503)")
    links = s.setup_links()
    token = links[0][1] if links else ""

    # The setup wizard as a form: the pre-session csrf cookie and the hidden field.
    page = c.get(f"/setup/{token}")
    t.eq(page.status, 200, "setup page: opens with the printed token")
    field = hidden_csrf(page.text())
    t.ok(field and c.cookies.get("silo_csrf") == field,
         "setup page: the form's hidden csrf field matches the silo_csrf cookie")
    form = {"csrf": field, "server_name": "Form silo", "name": "admin", "password": PASSWORD,
            "password2": PASSWORD + "x"}
    r = c.request("POST", f"/setup/{token}", form=form)
    t.eq(r.status, 400, "setup page: two different passwords are refused (400)")
    form["password2"] = PASSWORD
    r = c.request("POST", f"/setup/{token}", form=form)
    t.ok(r.status == 303 and r.header("Location") == "/" and "silo_session" in c.cookies,
         "setup page: the form creates the admin and logs in (303 to /)", repr(r.headers))
    r = c.get(f"/setup/{token}")
    t.eq(r.status, 410, "setup page: a spent link's page is gone (410)")
    t.ok("admin-token" in r.text(), "setup page: the spent page tells how to get a new link")

    # --- The login page ---
    anon = s.client()
    r = anon.get("/login")
    csp = r.header("Content-Security-Policy", "")
    t.eq(r.status, 200, "login page: GET /login is 200")
    t.ok(r.header("Content-Type", "").startswith("text/html"), "login page: is text/html",
         r.header("Content-Type"))
    t.ok("frame-ancestors 'none'" in csp, "login page: CSP forbids framing", csp)
    t.eq(r.header("X-Content-Type-Options"), "nosniff", "login page: X-Content-Type-Options nosniff")
    t.ok("Form silo" in r.text(), "login page: shows the server's name")

    r = anon.get("/")
    t.ok(r.status == 303 and r.header("Location", "").startswith("/login"),
         "home: without a cookie, GET / redirects to /login (303)", repr(r.headers))
    r = anon.get('/login?next=/%22%3E%3Cscript%3Ealert(1)%3C/script%3E')
    t.ok(r.status == 200 and "<script>alert(1)" not in r.text(),
         "login page: the next parameter is escaped in the page")
    r = anon.get("/admin")
    t.ok(r.status == 303 and r.header("Location") == "/login?next=/admin",
         "admin page: logged out, redirects to log in and back", r.header("Location"))
    t.eq(anon.get("/no/such/page").status, 404, "pages: an unknown path is 404")
    t.eq(anon.request("DELETE", "/login").status, 405, "pages: a wrong method is 405")

    # --- Form login ---
    login = anon.get("/login?next=/account")
    field = hidden_csrf(login.text())
    t.ok(field and anon.cookies.get("silo_csrf") == field,
         "login form: carries a csrf field that matches the silo_csrf cookie")
    r = anon.request("POST", "/login", form={"name": "admin", "password": PASSWORD,
                                              "next": "/account"})
    t.eq(r.status, 403, "login form: a post without the csrf field is refused (403)")
    other = s.client()
    other.cookies["silo_csrf"] = "a" * 64
    r = other.request("POST", "/login", form={"csrf": field, "name": "admin",
                                               "password": PASSWORD})
    t.eq(r.status, 403, "login form: a csrf field that does not match the cookie is refused (403)")
    r = anon.request("POST", "/login", form={"csrf": field, "name": "admin",
                                              "password": PASSWORD, "next": "/account"},
                     headers={"Origin": "http://evil.example"})
    t.eq(r.status, 403, "login form: a post from a foreign Origin is refused (403)")
    r = anon.request("POST", "/login", form={"csrf": field, "name": "admin",
                                              "password": PASSWORD, "next": "//evil.example/"})
    t.ok(r.status == 303 and r.header("Location") == "/",
         "login form: a next that leaves the site is replaced by /", r.header("Location"))
    anon.cookies.pop("silo_session", None)
    # Browsers drop tabs and newlines from a URL (WHATWG URL parsing), so "/<TAB>/host" is
    # "//host": a redirect to another site.
    r = anon.request("POST", "/login", form={"csrf": field, "name": "admin",
                                              "password": PASSWORD, "next": "/\t/evil.example/"})
    loc = r.header("Location", "")
    t.ok(r.status == 303 and not offsite(loc),
         "login form: a next with a tab in it cannot leave the site", repr(loc))
    r = anon.get("/login?next=/%09/evil.example/")
    loc = r.header("Location", "")
    t.ok(r.status == 303 and not offsite(loc),
         "login page: logged in, a next with a tab in it cannot leave the site", repr(loc))
    anon.cookies.pop("silo_session", None)
    r = anon.request("POST", "/login", form={"csrf": field, "name": "admin",
                                              "password": PASSWORD, "next": "/account"})
    t.ok(r.status == 303 and r.header("Location") == "/account" and "silo_session" in anon.cookies,
         "login form: with the csrf cookie and field, logs in and goes to next (303)",
         repr(r.headers))
    r = anon.get("/account")
    t.ok(r.status == 200 and "admin" in r.text(), "account page: opens once logged in")
    home = anon.get("/")
    t.eq(home.status, 200, "home: opens once logged in")
    t.eq(home.header("Cache-Control"), "no-store", "home: pages are not cached")

    # --- Static assets ---
    r = anon.get("/static/style.css")
    etag = r.header("ETag", "")
    t.ok(r.status == 200 and r.header("Content-Type", "").startswith("text/css") and r.body,
         "static: /static/style.css is served as CSS", repr(r.headers))
    t.ok(re.fullmatch(r'"[^"]+"', etag), "static: has a quoted ETag", etag)
    r = anon.get("/static/style.css", headers={"If-None-Match": etag})
    t.ok(r.status == 304 and not r.body, "static: If-None-Match with the ETag answers 304, no body",
         repr(r))
    r = anon.get("/static/style.css", headers={"If-None-Match": '"other"'})
    t.eq(r.status, 200, "static: If-None-Match with another tag answers 200")
    t.eq(anon.get("/static/nope.css").status, 404, "static: an unknown file is 404")

    raw = s.raw()
    raw.send(f"HEAD /static/style.css HTTP/1.1\r\nHost: {silotest.HOST}:{s.port}\r\n\r\n"
             f"GET /api/v1/status HTTP/1.1\r\nHost: {silotest.HOST}:{s.port}\r\n"
             "Connection: close\r\n\r\n")
    head = raw.read_response(head_only=True)
    nxt = raw.read_response()
    raw.close()
    t.ok(head and head.status == 200 and head.header("ETag") == etag
         and int(head.header("Content-Length", "0")) > 0,
         "static: HEAD answers the headers with the full Content-Length", repr(head))
    t.ok(nxt and nxt.status == 200 and nxt.json().get("name") == "Form silo",
         "static: HEAD sends no body (the next response follows right after the head)",
         repr(nxt))

    # --- Hosts ---
    r = anon.get("/login", headers={"Host": "evil.example"})
    t.eq(r.status, 404, "hosts: another Host header is 404")
    r = anon.get("/api/v1/status", headers={"Host": f"127.0.0.1:{s.port + 1}"})
    t.eq(r.status, 404, "hosts: the same address with another port is 404")
    r = anon.get("/api/v1/status", headers={"Host": f"127.0.0.1:{s.port}".upper()})
    t.eq(r.status, 200, "hosts: the Host header is compared case-insensitively")

    # --- Logging out by form ---
    csrf = hidden_csrf(anon.get("/").text())
    r = anon.request("POST", "/logout", form={"csrf": csrf})
    t.ok(r.status == 303 and "silo_session" not in anon.cookies,
         "logout form: logs out and clears the cookie", repr(r.headers))

    rc, _ = s.stop()
    t.eq(rc, 0, "server: exits 0 on SIGTERM")


silotest.run(scenario)

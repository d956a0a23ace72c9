#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A grain over HTTPS: with TLS on, a grain's session link is https://ui-<id>.<host>, the
# session host's certificate (the wildcard) verifies, the grain cookie is Secure, and the
# app's pages and a larger streamed response come through TLS intact; the same host over
# plain HTTP is redirected.
import json
import os
import re
import socket

import graintest as gt
import silotest
from silotest import HOST, Client, SNIConnection, Server, tls_context

URL_RE = re.compile(r"^https://(ui-[0-9a-f]{32}\.silo\.localhost:(\d+))(/\.silo/open\?t=[0-9a-f]{64})$")


def https(s, host, method, path, cookie=None, body=None, ctype=None):
    ctx = tls_context(f"{s.data}/tls/self.crt")
    c = SNIConnection(s.tls_port, host.rsplit(":", 1)[0], ctx, 30)
    h = {"Host": host}
    if cookie:
        h["Cookie"] = f"silo_grain={cookie}"
    if ctype:
        h["Content-Type"] = ctype
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return silotest.Response(r.status, r.reason, r.getheaders(), r.read())
    finally:
        c.close()


def scenario(t):
    if not gt.skip_unless_ready(t, "probe"):
        return
    s = Server(tls=True, base_host=gt.BASE_HOST).start()
    admin = silotest.setup_admin(s)
    app = gt.install(admin, "probe").json().get("app_id", "")
    r = admin.post("/api/v1/grains", {"app_id": app})
    gid = r.json().get("grain_id", "") if r.status == 201 else ""
    t.ok(gid, "tls grain: a grain is created over HTTPS", r)
    r = admin.post(f"/api/v1/grains/{gid}/session", {})
    url = r.json().get("url", "") if r.status == 201 else ""
    m = URL_RE.match(url)
    t.ok(m and int(m.group(2)) == s.tls_port, "tls grain: the session link is https on the TLS port", url)
    if not m:
        return
    host, open_path = m.group(1), m.group(3)
    r = https(s, host, "GET", open_path)
    cookie, attrs = None, {}
    for sc in r.header_all("Set-Cookie"):
        name, value, attrs = silotest.parse_cookie(sc)
        if name == "silo_grain":
            cookie = value
            break
    t.ok(cookie and "secure" in attrs, "tls grain: the open link sets a Secure grain cookie "
                                        "(the session host's wildcard certificate verified)", attrs)
    r = https(s, host, "GET", "/health", cookie=cookie)
    t.eq((r.status, r.body), (200, b"ok\n"), "tls grain: the app answers through TLS")
    r = https(s, host, "GET", "/report", cookie=cookie)
    try:
        report = json.loads(r.body)
    except ValueError:
        report = None
    t.ok(r.status == 200 and isinstance(report, dict) and len(r.body) > 1000,
         "tls grain: a larger JSON report arrives whole over a new TLS connection", len(r.body))

    # An upgraded connection (WebSocket-style) through TLS: 256 KiB echoed back intact.
    ctx = tls_context(f"{s.data}/tls/self.crt")
    sock = ctx.wrap_socket(socket.create_connection((HOST, s.tls_port), timeout=30),
                           server_hostname=host.rsplit(":", 1)[0])
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}\r\nCookie: silo_grain={cookie}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = sock.recv(4096)
        if not b:
            break
        head += b
    data = os.urandom(256 * 1024)
    back = head.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in head else b""
    if head.startswith(b"HTTP/1.1 101"):
        # One SSL object must not be read and written from two threads: send a piece,
        # read its echo, repeat.
        for off in range(0, len(data), 16384):
            sock.sendall(data[off:off + 16384])
            while len(back) < off + 16384:
                b = sock.recv(65536)
                if not b:
                    break
                back += b
            if len(back) < off + 16384:
                break
    sock.close()
    t.ok(head.startswith(b"HTTP/1.1 101") and back == data,
         "tls grain: an upgraded connection echoes 256 KiB through TLS intact",
         f"head {head[:60]!r}, {len(back)} bytes back")
    plain = Client(s.port, host=host.rsplit(":", 1)[0] + f":{s.port}")
    r = plain.get("/")
    t.eq((r.status, r.header("Location")), (301, f"https://{host}/"),
         "tls grain: the session host over plain HTTP is redirected to HTTPS")
    s.stop()


if __name__ == "__main__":
    silotest.run(scenario, time_limit=120)

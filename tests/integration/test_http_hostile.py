#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks what the server does with malformed, oversized and smuggling-shaped requests sent
# over raw sockets (each gets its status and the connection closed), that pipelined
# requests are answered in order, that keep-alive works, and that the server still serves
# normally after all of it.
import socket
import time

import silotest
from silotest import Server, raw_exchange


def scenario(t):
    s = Server().start()
    host = f"Host: {silotest.HOST}:{s.port}\r\n"

    def refused(data, want, name):
        resp, closed = raw_exchange(s.port, data)
        got = resp.status if resp else None
        t.ok(got == want and closed, name,
             f"status {got}, closed {closed}, want {want} and closed")

    refused(b"HELLO\r\n\r\n", 400, "http: a garbage request line gets 400 and the connection closed")
    refused(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n", 400,
            "http: TLS bytes on the plain port get 400 and the connection closed")
    refused(b"GET / HTTP/1.1\r\n" + b"X-Big: " + b"a" * 9000 + b"\r\n" + host.encode() + b"\r\n",
            431, "http: a header line over 8 KiB gets 431")
    refused("GET / HTTP/1.1\r\n" + host + "".join(f"X-H{i}: v\r\n" for i in range(70)) + "\r\n",
            431, "http: more than 64 headers get 431")
    refused("GET / HTTP/1.1\r\n" + host + "".join(f"X-H{i}: {'v' * 4000}\r\n" for i in range(10))
            + "\r\n", 431, "http: a head over 32 KiB in total gets 431")
    refused("GET /" + "a" * 9000 + " HTTP/1.1\r\n" + host + "\r\n", 414,
            "http: a request line over 8 KiB gets 414")
    refused(b"GET /" + b"a" * 9000, 414,
            "http: a request line over 8 KiB gets 414 before its end arrives")
    refused("POST /api/v1/login HTTP/1.1\r\n" + host + "Content-Type: application/json\r\n"
            "Content-Length: 2000000\r\n\r\n", 413,
            "http: a body over max_body_bytes (1 MiB) gets 413 before it is sent")
    refused("POST /api/v1/login HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n"
            "zz\r\nhello\r\n0\r\n\r\n", 400, "http: a bad chunk size gets 400")
    refused("POST /api/v1/login HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n"
            "5\r\nhelloXX0\r\n\r\n", 400, "http: chunk data without its CRLF gets 400")
    big = "POST /api/v1/login HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n" \
          "200000\r\n"
    refused(big, 413, "http: a chunk larger than max_body_bytes gets 413 before it is sent")
    refused("POST /api/v1/login HTTP/1.1\r\n" + host + "Content-Length: 5\r\n"
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
            "http: Content-Length with Transfer-Encoding (smuggling) gets 400")
    refused("POST /api/v1/login HTTP/1.1\r\n" + host + "Content-Length: 5\r\n"
            "Content-Length: 5\r\n\r\nhello", 400, "http: a repeated Content-Length gets 400")
    refused("POST /api/v1/login HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", 400,
            "http: a negative Content-Length gets 400")
    refused("POST /api/v1/login HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", 501,
            "http: an unknown transfer coding gets 501")
    refused("GET / HTTP/1.1\r\n" + host + "X-A: 1\r\n  folded\r\n\r\n", 400,
            "http: obs-fold header continuation gets 400")
    refused("GET / HTTP/1.1\r\n" + host + "X-A : 1\r\n\r\n", 400,
            "http: whitespace before a header colon gets 400")
    refused("GET / HTTP/1.1\r\n" + host + host + "\r\n", 400, "http: two Host headers get 400")
    refused("GET / HTTP/1.1\r\n\r\n", 400, "http: HTTP/1.1 without Host gets 400")
    refused("GET / HTTP/1.1\n" + host + "\r\n", 400, "http: a bare LF line end gets 400")
    refused(b"GET / HTTP/1.1\r\nX-A: a\x00b\r\n" + host.encode() + b"\r\n", 400,
            "http: a NUL byte in a header gets 400")
    refused("GET / HTTP/2.0\r\n" + host + "\r\n", 505, "http: HTTP/2.0 in the request line gets 505")
    refused("BREW / HTTP/1.1\r\n" + host + "\r\n", 501, "http: an unknown method gets 501")
    refused("GET http://evil.example/ HTTP/1.1\r\n" + host + "\r\n", 400,
            "http: an absolute-form target gets 400")
    refused("GET / HTTP/1.1\r\n" + host + "Expect: something\r\n\r\n", 417,
            "http: an unknown Expect gets 417")

    r = s.raw()
    r.send("POST /api/v1/login HTTP/1.1\r\n" + host + "Content-Length: 2000000\r\n"
           "Expect: 100-continue\r\n\r\n")
    resp = r.read_response()
    t.ok(resp and resp.status == 413 and r.closed_by_peer(3),
         "http: an oversized body announced with Expect: 100-continue gets 413, not 100",
         repr(resp))
    r.close()
    r = s.raw()
    r.send(f"GET /api/v1/status HTTP/1.1\r\n{host}\r\nNONSENSE\r\n\r\n"
           f"GET /api/v1/status HTTP/1.1\r\n{host}\r\n")
    got = [r.read_response(), r.read_response()]
    t.ok(got[0] and got[0].status == 200 and got[1] and got[1].status == 400
         and r.closed_by_peer(3),
         "http: a bad request after a good pipelined one gets 400 and ends the connection",
         repr(got))
    r.close()

    # A client that sends a huge body anyway after its 413 must not get a reset instead.
    r = silotest.Raw(s.port)
    try:
        r.send("POST /api/v1/login HTTP/1.1\r\n" + host + "Content-Length: 2000000\r\n\r\n")
        try:
            r.send(b"x" * 300000)
        except OSError:
            pass
        resp = r.read_response()
    except OSError as e:
        resp = e
    r.close()
    t.ok(getattr(resp, "status", None) == 413,
         "http: a 413 reaches a client that keeps sending its body", repr(resp))

    # --- Pipelining and keep-alive ---
    r = s.raw()
    r.send(f"GET /api/v1/status HTTP/1.1\r\n{host}\r\n"
           f"GET /static/style.css HTTP/1.1\r\n{host}\r\n"
           f"GET /no-such-page HTTP/1.1\r\n{host}\r\n")
    got = [r.read_response() for _ in range(3)]
    statuses = [g.status if g else None for g in got]
    t.eq(statuses, [200, 200, 404], "http: three pipelined GETs in one write get three answers")
    t.ok(got[0] and got[0].header("Content-Type") == "application/json"
         and got[1] and got[1].header("Content-Type", "").startswith("text/css"),
         "http: pipelined answers come in request order")
    many = "".join(f"GET /api/v1/status?n={i} HTTP/1.1\r\n{host}\r\n" for i in range(200))
    r.send(many)
    answers = [r.read_response() for _ in range(200)]
    t.ok(all(a and a.status == 200 for a in answers),
         "http: 200 pipelined requests in one write are all answered")
    r.send(f"GET /api/v1/status HTTP/1.1\r\n{host}\r\n")
    again = r.read_response()
    t.ok(again and again.status == 200 and again.header("Connection") != "close",
         "http: keep-alive: the same connection serves another request")
    r.send(f"GET /api/v1/status HTTP/1.1\r\n{host}Connection: close\r\n\r\n")
    last = r.read_response()
    t.ok(last and last.status == 200 and last.header("Connection") == "close"
         and r.closed_by_peer(3), "http: Connection: close is honoured")
    r.close()

    r = s.raw()
    r.send("GET /api/v1/status HTTP/1.0\r\n\r\n")
    resp = r.read_response()
    t.ok(resp and resp.status == 200 and r.closed_by_peer(3),
         "http: HTTP/1.0 without Host is served and closed")
    r.close()

    # A request split into one-byte writes is still one request.
    r = s.raw()
    for b in f"GET /api/v1/status HTTP/1.1\r\n{host}\r\n".encode():
        r.send(bytes([b]))
    resp = r.read_response()
    t.ok(resp and resp.status == 200, "http: a request sent a byte at a time is answered")
    r.close()

    # A chunked body that is well formed is decoded.
    body = b'{"name": "x", "password": "y"}'
    r = s.raw()
    r.send(f"POST /api/v1/login HTTP/1.1\r\n{host}Content-Type: application/json\r\n"
           f"Transfer-Encoding: chunked\r\n\r\n".encode()
           + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    resp = r.read_response()
    t.ok(resp and resp.status == 401, "http: a chunked JSON body reaches the handler",
         repr(resp))
    r.close()

    # Many connections that send nothing and go away leave nothing behind.
    socks = []
    for _ in range(50):
        try:
            socks.append(socket.create_connection((silotest.HOST, s.port), timeout=2))
        except OSError:
            break
    for so in socks:
        so.close()
    time.sleep(0.2)

    t.eq(silotest.get_status(s.port), 200, "http: the server still serves after all of that")
    t.ok(s.running(), "http: the server process is still running")
    rc, _ = s.stop()
    t.eq(rc, 0, "server: exits 0 on SIGTERM")


silotest.run(scenario)

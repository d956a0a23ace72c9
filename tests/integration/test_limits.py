#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks the server's limits with short settings from a --config file: slow clients (half a
# head, also after a pipelined request; a stalled body, also after 100 Continue; a head
# dripped a byte at a time; idle connections) are cut off after the timeout for what they
# were doing; max_body_bytes from the file is enforced; one address cannot hold more than
# max_conns_per_addr connections, nor everyone more than max_conns, and the server serves
# again once they are gone.
import json
import select
import socket
import time

import silotest
from silotest import Server

CONFIG = {
    "header_timeout": 2,
    "body_timeout": 2,
    "idle_timeout": 4,   # longer than the others, to tell which timer fired
    "max_conns_per_addr": 8,
    "max_body_bytes": 4096,
}


def in_window(secs, lo=1.0, hi=5.0):
    return secs is not None and lo <= secs <= hi


def scenario(t):
    s = Server(config=CONFIG).start()
    host = f"Host: {silotest.HOST}:{s.port}\r\n"

    # --- Slow clients, all at once so the waits overlap ---
    half = s.raw(timeout=8)
    half.send("GET /api/v1/status HTTP/1.1\r\n" + host)          # no blank line: half a head
    body = s.raw(timeout=8)
    body.send("POST /api/v1/setup HTTP/1.1\r\n" + host + "Content-Type: application/json\r\n"
              "Content-Length: 100\r\n\r\n{\"token\":")              # 10 of 100 bytes
    cont = s.raw(timeout=8)
    cont.send("POST /api/v1/setup HTTP/1.1\r\n" + host + "Content-Type: application/json\r\n"
              "Content-Length: 100\r\nExpect: 100-continue\r\n\r\n")
    hundred = cont.read_response()
    cont.send("{")
    piped = s.raw(timeout=8)                                         # one request, half another
    piped.send("GET /api/v1/status HTTP/1.1\r\n" + host + "\r\nGET /api/v1/status HTTP/1.1\r\n")
    piped_first = piped.read_response()
    idle = s.raw(timeout=8)                                          # says nothing at all
    kept = s.raw(timeout=8)
    kept.send("GET /api/v1/status HTTP/1.1\r\n" + host + "\r\n")
    first = kept.read_response()
    t0 = time.monotonic()

    def closed_after(conn):
        if not conn.closed_by_peer(8):
            return None
        return time.monotonic() - t0

    secs = closed_after(half)
    resp = half.read_response() if half.buf else None
    t.ok(in_window(secs, 1.0, 3.5), "slow client: half a head is cut off after header_timeout (2 s)",
         f"closed after {secs}")
    t.ok(resp is not None and resp.status == 408, "slow client: and is told 408", repr(resp))
    secs = closed_after(body)
    resp = body.read_response() if body.buf else None
    t.ok(in_window(secs, 1.0, 3.5), "slow client: a stalled body is cut off after body_timeout (2 s)",
         f"closed after {secs}")
    t.ok(resp is not None and resp.status == 408, "slow client: and is told 408", repr(resp))
    secs = closed_after(cont)
    resp = cont.read_response() if cont.buf else None
    t.ok(hundred and hundred.status == 100 and in_window(secs, 1.0, 3.5),
         "slow client: a body stalled after 100 Continue is cut off after body_timeout (2 s)",
         f"closed after {secs}")
    t.ok(resp is not None and resp.status == 408, "slow client: and is told 408", repr(resp))
    secs = closed_after(piped)
    resp = piped.read_response() if piped.buf else None
    t.ok(piped_first and piped_first.status == 200 and in_window(secs, 1.0, 3.5),
         "slow client: half a head after a pipelined request is cut off after header_timeout "
         "(2 s)", f"closed after {secs}")
    t.ok(resp is not None and resp.status == 408, "slow client: and is told 408", repr(resp))
    secs = closed_after(idle)
    t.ok(in_window(secs, 3.0, 6.0), "slow client: a connection that sends nothing is closed "
         "after idle_timeout (4 s)", f"closed after {secs}")
    t.ok(not idle.buf, "slow client: and gets no response bytes", repr(idle.buf[:80]))
    secs = closed_after(kept)
    t.ok(first and first.status == 200 and in_window(secs, 3.0, 6.0),
         "slow client: an idle keep-alive connection is closed after idle_timeout (4 s)",
         f"closed after {secs}")
    for c in (half, body, cont, piped, idle, kept):
        c.close()

    # Slowloris: bytes keep coming, but the whole head must arrive within header_timeout.
    drip = s.raw(timeout=8)
    head = ("GET /api/v1/status HTTP/1.1\r\n" + host + "X-Pad: " + "a" * 200 + "\r\n\r\n").encode()
    t0 = time.monotonic()
    cut = None
    for b in head:
        try:
            drip.send(bytes([b]))
        except OSError:
            cut = time.monotonic() - t0
            break
        readable, _, _ = select.select([drip.sock], [], [], 0.1)
        if readable:
            cut = time.monotonic() - t0
            break
        if time.monotonic() - t0 > 8:
            break
    t.ok(in_window(cut, 1.0, 3.5), "slow client: a head dripped a byte at a time is cut off after "
         "header_timeout", f"cut after {cut}")
    drip.close()

    # --- max_body_bytes from the config file ---
    pad = "a" * (4000 - 60)
    ok_body = json.dumps({"token": "0" * 64, "name": "x", "password": "y", "pad": pad}).encode()
    r = s.client().request("POST", "/api/v1/setup", body=ok_body,
                           headers={"Content-Type": "application/json"})
    t.eq(r.status, 403, f"limits: a {len(ok_body)}-byte body under max_body_bytes (4096) reaches "
         "the handler")
    big = json.dumps({"token": "0" * 64, "name": "x", "password": "y", "pad": pad * 2}).encode()
    resp, closed = silotest.raw_exchange(
        s.port, b"POST /api/v1/setup HTTP/1.1\r\n" + host.encode()
        + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
    t.ok(resp is not None and resp.status == 413 and closed,
         "limits: a body over max_body_bytes (4096) from the config file gets 413", repr(resp))

    # --- Connections per address ---
    time.sleep(0.3)   # let the server see the closes above
    conns = []
    for _ in range(20):
        try:
            conns.append(socket.create_connection((silotest.HOST, s.port), timeout=3))
        except OSError:
            conns.append(None)
    time.sleep(0.3)
    served = refused = 0
    for so in conns:
        if so is None:
            refused += 1
            continue
        try:
            so.sendall(("GET /api/v1/status HTTP/1.1\r\n" + host + "\r\n").encode())
            data = so.recv(4096)
        except OSError:
            data = b""
        if data.startswith(b"HTTP/1.1 200"):
            served += 1
        else:
            refused += 1
    t.ok(served <= 8 and served >= 1, "conn cap: one address holds at most max_conns_per_addr (8)",
         f"{served} of 20 served")
    t.ok(refused >= 12, "conn cap: the connections past the cap are refused or closed",
         f"{refused} of 20 refused")
    for so in conns:
        if so:
            so.close()
    time.sleep(0.5)
    t.eq(silotest.get_status(s.port), 200, "conn cap: after they close, the server serves again")
    again = []
    for _ in range(8):
        again.append(s.raw(timeout=3))
    ok = 0
    for c in again:
        try:
            c.send("GET /api/v1/status HTTP/1.1\r\n" + host + "\r\n")
            r = c.read_response()
            ok += bool(r and r.status == 200)
        except OSError:
            pass
    for c in again:
        c.close()
    t.eq(ok, 8, "conn cap: the freed slots are all usable again (8 at once)")

    rc, _ = s.stop()
    t.eq(rc, 0, "server: exits 0 on SIGTERM")

    # --- Connections in all ---
    s2 = Server(config={"max_conns": 3, "idle_timeout": 10}, name="max_conns").start()
    host2 = f"Host: {silotest.HOST}:{s2.port}\r\n"
    time.sleep(0.3)
    held = [s2.raw(timeout=3) for _ in range(6)]
    served = 0
    for c in held:
        try:
            c.send("GET /api/v1/status HTTP/1.1\r\n" + host2 + "\r\n")
            r = c.read_response()
            served += bool(r and r.status == 200)
        except OSError:
            pass
    t.ok(1 <= served <= 3, "conn cap: the server holds at most max_conns (3) in all",
         f"{served} of 6 served")
    for c in held:
        c.close()
    time.sleep(0.5)
    t.eq(silotest.get_status(s2.port), 200, "conn cap: once they close, it serves again")
    rc, _ = s2.stop()
    t.eq(rc, 0, "server: exits 0 on SIGTERM")


silotest.run(scenario)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks the graceful stop: on SIGTERM the server stops accepting, closes idle connections,
# still answers a request whose body was in flight (the setup POST, which must then be
# saved), and exits 0 within seconds; a client that stalls mid-upload cannot hold the stop
# past shutdown_timeout; SIGINT stops it the same way.
import json
import signal
import socket
import time

import silotest
from silotest import PASSWORD, Server


def scenario(t):
    s = Server(config={"shutdown_timeout": 3}).start()
    rc, secs = s.stop(timeout=10)
    t.ok(rc == 0 and secs < 3, "sigterm: an idle server exits 0 within a few seconds",
         f"rc {rc} after {secs:.1f} s")

    s.restart()
    host = f"Host: {silotest.HOST}:{s.port}\r\n"
    token = s.setup_links()[0][1] if s.setup_links() else ""
    idle = s.raw()
    idle.send(f"GET /api/v1/status HTTP/1.1\r\n{host}\r\n")
    idle.read_response()

    body = json.dumps({"token": token, "name": "admin", "password": PASSWORD,
                       "server_name": "Stop silo"}).encode()
    post = s.raw(timeout=10)
    post.send(f"POST /api/v1/setup HTTP/1.1\r\n{host}Content-Type: application/json\r\n"
              f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n")
    cont = post.read_response()
    t.ok(cont and cont.status == 100, "in flight: the server asks for the body (100 Continue)",
         repr(cont))
    post.send(body[:20])
    time.sleep(0.1)

    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    t.ok(s.wait_for_log(r"stopping", timeout=5), "sigterm: the server logs that it is stopping")
    t.ok(idle.closed_by_peer(3), "sigterm: an idle keep-alive connection is closed")
    try:
        socket.create_connection((silotest.HOST, s.port), timeout=2).close()
        refused = False
    except OSError:
        refused = True
    t.ok(refused, "sigterm: new connections are refused while stopping")
    time.sleep(0.2)
    post.send(body[20:])
    resp = post.read_response()
    t.ok(resp and resp.status == 201, "in flight: the POST whose body was still coming is "
         "answered (201)", repr(resp))
    t.ok(resp and resp.header("Connection") == "close", "in flight: the answer says "
         "Connection: close")
    post.close()
    idle.close()
    rc, _ = s.wait_exit(10)
    secs = time.monotonic() - t0
    t.ok(rc == 0 and secs < 5, "sigterm: the server exits 0 within a few seconds",
         f"rc {rc} after {secs:.1f} s")

    s.restart()
    t.eq(s.setup_links(), [], "in flight: after a restart no setup link: the setup was saved")
    t.eq(s.client().login("admin").status, 200, "in flight: the admin made during the stop "
         "logs in")

    # A stalled upload is cut off at shutdown_timeout (3 s).
    stall = s.raw(timeout=10)
    stall.send(f"POST /api/v1/login HTTP/1.1\r\n{host}Content-Type: application/json\r\n"
               "Content-Length: 1000\r\n\r\n{")
    time.sleep(0.2)
    t0 = time.monotonic()
    rc, secs = s.stop(timeout=10)
    t.ok(rc == 0 and 2.0 <= secs <= 6.0, "sigterm: a stalled upload holds the stop only for "
         "shutdown_timeout (3 s), then it exits 0", f"rc {rc} after {secs:.1f} s")
    stall.close()

    s.restart()
    s.signal(signal.SIGINT)
    rc, secs = s.wait_exit(10)
    t.ok(rc == 0 and secs < 3, "sigint: stops the server the same way (exit 0)",
         f"rc {rc} after {secs:.1f} s")


silotest.run(scenario)

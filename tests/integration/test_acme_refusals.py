#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The ACME client against a scripted CA on loopback (HTTPS, its certificate passed as
# --acme-ca): a badNonce reply is retried with the nonce that reply carried, a refusal
# shows the CA's own words as the last error on the admin API, the worker tries again
# after backing off, and hostile replies (a huge body, a directory with plain-http URLs)
# give clear errors instead of a crash.
import base64
import http.server
import json
import os
import ssl
import subprocess
import threading

import silotest
from tlstest import acme_of, wait_for
from silotest import HOST, Server, free_port, setup_admin


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class CA:
    """A scripted ACME server: answers the directory and nonces, and newAccount as told."""

    def __init__(self, mode):
        self.mode = mode            # "refuse", "huge" or "plain-dir"
        self.port = free_port()
        self.dir = silotest.tmpdir("silo-fakeca-")
        self.cert = os.path.join(self.dir, "ca.crt")
        self.key = os.path.join(self.dir, "ca.key")
        self.accounts = []          # protected headers of newAccount requests, in order
        self.lock = threading.Lock()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.key, "-out",
                        self.cert, "-days", "2", "-subj", "/CN=test ca",
                        # mbedtls 2.28 matches host names against dNSName entries only.
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1"],
                       check=True, capture_output=True, timeout=30)

    @property
    def url(self):
        return f"https://{HOST}:{self.port}/dir"

    def start(self):
        ca = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, body, nonce=None, ctype="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                if nonce:
                    self.send_header("Replay-Nonce", nonce)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def do_GET(self):
                base = f"https://{HOST}:{ca.port}"
                if ca.mode == "plain-dir":
                    base = f"http://{HOST}:{ca.port}"
                self.reply(200, {"newNonce": base + "/nonce", "newAccount": base + "/acct",
                                 "newOrder": base + "/order"})

            def do_HEAD(self):
                self.reply(200, b"", nonce="first-nonce")

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                jws = json.loads(self.rfile.read(n))
                prot = json.loads(b64d(jws["protected"]))
                with ca.lock:
                    ca.accounts.append(prot)
                    count = len(ca.accounts)
                if ca.mode == "huge":
                    self.reply(400, b"{" + b" " * (2 << 20) + b"}")
                elif prot.get("nonce") == "first-nonce" and count % 2 == 1:
                    self.reply(400, {"type": "urn:ietf:params:acme:error:badNonce",
                                     "detail": "JWS has an invalid anti-replay nonce"},
                               nonce=f"fresh-nonce-{count}")
                else:
                    self.reply(403, {"type": "urn:ietf:params:acme:error:unauthorized",
                                     "detail": "account creation is closed at this test CA"},
                               nonce="later")

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)

        class TLSServer(http.server.ThreadingHTTPServer):
            daemon_threads = True

            # The handshake runs in the request's thread with a timeout: a client that
            # stops half-way (a killed test server) must not stall the service.
            def finish_request(self, request, client_address):
                request.settimeout(10)
                Handler(ctx.wrap_socket(request, server_side=True), client_address, self)

            def handle_error(self, request, client_address):
                pass

        self.httpd = TLSServer((HOST, self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()


def scenario(t):
    ca = CA("refuse").start()
    s = Server(tls=True, base_host="silo.localhost",
               extra_args=["--acme-directory", ca.url, "--acme-ca", ca.cert,
                           "--acme-domain", "box.test"]).start()
    admin = setup_admin(s)
    a = wait_for(lambda: acme_of(admin).get("state") == "error" and acme_of(admin), 30)
    t.ok(a and "account creation is closed at this test CA" in a.get("error", ""),
         "acme: a CA's refusal is the last error, in the CA's words", a)
    first, second = (ca.accounts + [{}, {}])[:2]
    t.eq((first.get("nonce"), second.get("nonce")), ("first-nonce", "fresh-nonce-1"),
         "acme: a badNonce reply is retried with the nonce it carried")
    t.ok(first.get("alg") == "ES256" and first.get("jwk", {}).get("crv") == "P-256" and
         "kid" not in first and first.get("url") == f"https://{HOST}:{ca.port}/acct",
         "acme: newAccount is an ES256 JWS with the jwk and the request's url", first)
    t.ok(a and a.get("next", 0) > a.get("not_after", 0) == 0,
         "acme: the next attempt is scheduled, with no certificate yet", a)
    t.ok(wait_for(lambda: len(ca.accounts) >= 4, 40),
         "acme: after backing off the worker tries again", len(ca.accounts))
    t.ok(s.running() and silotest.get_status(s.port) is not None,
         "acme: the server keeps serving while ACME fails")
    s.stop()
    ca.stop()

    for mode, want, name in (
            ("huge", "larger than 256 KiB",
             "acme: a reply larger than the cap is cut off with a clear error"),
            ("plain-dir", "newNonce", "acme: a directory with plain-http URLs is refused")):
        ca = CA(mode).start()
        s = Server(tls=True, base_host="silo.localhost",
                   extra_args=["--acme-directory", ca.url, "--acme-ca", ca.cert,
                               "--acme-domain", "box.test"]).start()
        admin = setup_admin(s)
        a = wait_for(lambda: acme_of(admin).get("state") == "error" and acme_of(admin), 30)
        t.ok(a and want in a.get("error", ""), name, a)
        s.stop()
        ca.stop()


if __name__ == "__main__":
    silotest.run(scenario, time_limit=150)

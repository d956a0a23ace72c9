#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# HTTPS built in: the self-signed certificate made at first start (its fingerprint on
# stderr and the admin page, its names covering the shell host and grain session hosts),
# TLS 1.2 with ECDHE + AEAD only, session resumption, HTTP redirected to HTTPS (except the
# status API and ACME challenges), Secure cookies and HSTS, hostile TLS input and stalled
# handshakes that do not hold up other clients, and a certificate replaced on disk served
# without a restart.
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

import silotest
from silotest import HOST, Client, Server, SNIConnection, setup_admin, tls_context

BASE = "silo.localhost"


def peer_der(port, sni, ctx=None):
    """The DER certificate the server presents for sni."""
    ctx = ctx or tls_context()
    with socket.create_connection((HOST, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            return s.getpeercert(binary_form=True)


def handshake_error(port, ctx):
    """None when the handshake succeeds, else the error text."""
    try:
        with socket.create_connection((HOST, port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=BASE):
                return None
    except (ssl.SSLError, OSError) as e:
        return str(e)


def get(port, sni, path, ctx, host=None):
    c = SNIConnection(port, sni, ctx, 10)
    try:
        c.request("GET", path, headers={"Host": host or sni})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def closed_within(sock, seconds):
    """True when the server closes sock (EOF or reset) before seconds pass."""
    sock.settimeout(seconds)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def scenario(t):
    s = Server(tls=True, base_host=BASE,
               config={"tls_check_interval": 1, "tls_handshake_timeout": 3}).start()
    crt = os.path.join(s.data, "tls", "self.crt")
    key = os.path.join(s.data, "tls", "self.key")
    fp = s.tls_fingerprint()
    t.ok(fp is not None, "tls: the first start prints `silo: tls: sha256 <hex>`")
    t.eq(oct(os.stat(key).st_mode & 0o777), "0o600", "tls: the key file is readable by its owner only")
    der = peer_der(s.tls_port, BASE)
    t.eq(hashlib.sha256(der).hexdigest(), fp,
         "tls: the printed fingerprint is the SHA-256 of the served certificate")

    # The printed certificate, trusted as a CA, verifies the shell host and a session host.
    ctx = tls_context(crt)
    st, h, body = get(s.tls_port, BASE, "/api/v1/status", ctx, f"{BASE}:{s.tls_port}")
    t.eq(st, 200, "tls: the status API answers over HTTPS, the certificate verified for the shell host")
    t.ok(h.get("strict-transport-security", "").startswith("max-age="),
         "tls: responses over HTTPS carry HSTS", h.get("strict-transport-security"))
    sess = f"ui-{'0' * 32}.{BASE}"
    t.eq(handshake_error(s.tls_port, ctx) is None and peer_der(s.tls_port, sess, ctx) == der, True,
         "tls: SNI for a ui-... session host gets the wildcard certificate, and it verifies")

    # Protocol versions and ciphers.
    old = tls_context(crt)
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    e = handshake_error(s.tls_port, old)
    t.ok(e is not None and ("PROTOCOL_VERSION" in e.upper() or "ALERT" in e.upper()),
         "tls: TLS 1.0/1.1 are refused by the server (a protocol alert)", e)
    cbc = tls_context(crt)
    cbc.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:AES128-SHA:AES128-GCM-SHA256")
    e = handshake_error(s.tls_port, cbc)
    t.ok(e is not None and "HANDSHAKE_FAILURE" in e.upper(),
         "tls: non-AEAD and non-ECDHE cipher suites are refused (handshake failure)", e)
    with socket.create_connection((HOST, s.tls_port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=BASE) as c:
            t.eq((c.version(), "GCM" in c.cipher()[0] or "CHACHA" in c.cipher()[0]),
                 ("TLSv1.2", True), "tls: a modern client gets TLS 1.2 with an AEAD cipher")

    # Resumption: the second connection resumes the first one's session.
    r12 = tls_context(crt)
    r12.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection((HOST, s.tls_port), timeout=10) as raw:
        with r12.wrap_socket(raw, server_hostname=BASE) as c1:
            session = c1.session
    with socket.create_connection((HOST, s.tls_port), timeout=10) as raw:
        with r12.wrap_socket(raw, server_hostname=BASE, session=session) as c2:
            t.ok(c2.session_reused, "tls: a second connection resumes the session")

    # Pipelining and a large body through TLS: requests that arrive in one burst are all
    # answered in order, and a body bigger than any one record arrives whole.
    with socket.create_connection((HOST, s.tls_port), timeout=20) as raw:
        with ctx.wrap_socket(raw, server_hostname=BASE) as c:
            req = f"GET /api/v1/status HTTP/1.1\r\nHost: {BASE}:{s.tls_port}\r\n\r\n".encode()
            c.sendall(req * 40)
            got = b""
            while got.count(b"HTTP/1.1 200") < 40:
                b = c.recv(65536)
                if not b:
                    break
                got += b
    t.eq(got.count(b"HTTP/1.1 200"), 40, "tls: 40 pipelined requests in one burst get 40 answers")
    body = b'{"name":"x","password":"' + b"p" * 600000 + b'"}'
    with socket.create_connection((HOST, s.tls_port), timeout=20) as raw:
        with ctx.wrap_socket(raw, server_hostname=BASE) as c:
            c.sendall(f"POST /api/v1/login HTTP/1.1\r\nHost: {BASE}:{s.tls_port}\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                      .encode() + body)
            got = b""
            while b"\r\n\r\n" not in got:
                b = c.recv(65536)
                if not b:
                    break
                got += b
    status = got.split(b" ", 2)[1] if got.startswith(b"HTTP/1.1 ") else b""
    t.ok(status in (b"400", b"401"), "tls: a 600 KB body over TLS is read whole and answered "
                                     "(the login is refused, not the transfer)", got[:80])

    # Plain HTTP: redirects, except the status API and ACME challenges.
    plain = Client(s.port, host=f"{BASE}:{s.port}")
    r = plain.get("/admin?x=1")
    t.eq((r.status, r.header("Location")), (301, f"https://{BASE}:{s.tls_port}/admin?x=1"),
         "tls: plain HTTP GET redirects to the same path over HTTPS")
    r = plain.post("/api/v1/login", {"name": "a", "password": "b"})
    t.eq(r.status, 308, "tls: plain HTTP POST redirects with 308 (method kept)")
    t.eq(plain.get("/api/v1/status").status, 200, "tls: the status API still answers on plain HTTP")
    t.eq(plain.get("/.well-known/acme-challenge/abcDEF-_123").status, 404,
         "tls: ACME challenge paths are answered on plain HTTP, not redirected")

    # Secure cookies and the fingerprint on the admin page.
    admin = setup_admin(s)
    r = admin.get("/admin")
    t.ok(r.status == 200 and fp in r.text(), "tls: the admin page shows the certificate's fingerprint")
    r = admin.get("/api/v1/https")
    t.eq((r.status, r.json().get("tls"), r.json().get("fingerprint"), r.json().get("acme")),
         (200, True, fp, None), "tls: GET /api/v1/https gives the fingerprint (no ACME configured)")
    login = s.client()
    r = login.post("/api/v1/login", {"name": "admin", "password": silotest.PASSWORD})
    cookie = r.header("Set-Cookie") or ""
    t.ok(r.status == 200 and "; Secure" in cookie, "tls: the session cookie is Secure", cookie)

    # Hostile input: garbage, a truncated record and a stalled handshake, all at once.
    garbage = socket.create_connection((HOST, s.tls_port), timeout=10)
    garbage.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(2000))
    trunc = socket.create_connection((HOST, s.tls_port), timeout=10)
    trunc.sendall(b"\x16\x03\x01\x40\x00\x01\x00\x3f\xfc\x03\x03" + b"\x00" * 20)
    stalled = socket.create_connection((HOST, s.tls_port), timeout=10)
    st, _, _ = get(s.tls_port, BASE, "/api/v1/status", ctx, f"{BASE}:{s.tls_port}")
    t.eq(st, 200, "tls: another client is served while a truncated record and a silent "
                  "handshake are pending")
    t.ok(closed_within(garbage, 10), "tls: garbage instead of a ClientHello gets the connection closed")
    t.ok(closed_within(stalled, 30), "tls: a handshake that never starts is closed by the timeout")
    t.ok(closed_within(trunc, 30), "tls: a truncated handshake record is closed by the timeout")
    for so in (garbage, trunc, stalled):
        so.close()
    flood = [socket.create_connection((HOST, s.tls_port), timeout=10) for _ in range(30)]
    for so in flood:
        so.sendall(os.urandom(300))
    st, _, _ = get(s.tls_port, BASE, "/api/v1/status", ctx, f"{BASE}:{s.tls_port}")
    t.eq(st, 200, "tls: a flood of garbage handshakes leaves the server answering")
    for so in flood:
        so.close()

    # A certificate replaced on disk is served without a restart.
    work = silotest.tmpdir("silo-tls-new-")
    nk, nc = os.path.join(work, "k.pem"), os.path.join(work, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", nk, "-out", nc, "-days", "2",
                    "-subj", f"/CN={BASE}", "-addext", f"subjectAltName=DNS:{BASE},DNS:*.{BASE}"],
                   check=True, capture_output=True, timeout=30)
    new_der = ssl.PEM_cert_to_DER_cert(open(nc).read())
    # Key first, then certificate: between the two the pair does not match, and the server
    # must keep serving the old one rather than fail.
    shutil.copy(nk, key + ".new")
    os.replace(key + ".new", key)
    time.sleep(1.5)
    still = peer_der(s.tls_port, BASE)
    shutil.copy(nc, crt + ".new")
    os.replace(crt + ".new", crt)
    deadline = time.monotonic() + 30
    got = None
    while time.monotonic() < deadline:
        got = peer_der(s.tls_port, BASE)
        if got == new_der:
            break
        time.sleep(0.3)
    t.ok(still == der, "tls: a key that does not match its certificate (mid-replacement) "
                       "leaves the old certificate served")
    t.ok(got == new_der, "tls: a certificate replaced on disk is served without a restart")
    st, _, _ = get(s.tls_port, BASE, "/api/v1/status", tls_context(nc), f"{BASE}:{s.tls_port}")
    t.eq(st, 200, "tls: the new certificate verifies as its own CA")
    s.stop()
    t.ok(not s.running(), "tls: the server stops cleanly")


if __name__ == "__main__":
    silotest.run(scenario, time_limit=150)

# SPDX-License-Identifier: MIT
# A small dynamic-DNS test service speaking silo's sandcats-style protocol (docs/DYNDNS.md)
# on loopback: HTTPS with client certificates, names held by the SHA-256 fingerprint of the
# certificate that registered them, records published through pebble-challtestsrv's
# management API (A for NAME.ZONE, TXT for _acme-challenge.NAME.ZONE). Test use only.
import ctypes
import ctypes.util
import hashlib
import http.server
import secrets
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import urllib.parse
import urllib.request

import silotest
from silotest import HOST, free_port

NAME_RE = re.compile(r"^[0-9a-z](?:[0-9a-z-]{0,18}[0-9a-z])?$")

# Client certificates here are self-signed by the box: there is no CA to check them
# against, and Python's ssl module has no verify callback. The service asks for a
# certificate and accepts any (the fingerprint is the identity, as with sandcats) by
# installing an always-yes callback on the context's SSL_CTX through libssl.
_VERIFY_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
_accept_any = _VERIFY_CB(lambda ok, store: 1)


def _accept_any_client_cert(ctx):
    ctx.verify_mode = ssl.CERT_OPTIONAL
    libssl = ctypes.CDLL(ctypes.util.find_library("ssl"))
    libssl.SSL_CTX_get_verify_mode.argtypes = [ctypes.c_void_p]
    libssl.SSL_CTX_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VERIFY_CB]
    # CPython's SSLContext object: the object header, then the SSL_CTX pointer.
    ptr = ctypes.c_void_p.from_address(id(ctx) + 2 * ctypes.sizeof(ctypes.c_void_p)).value
    if libssl.SSL_CTX_get_verify_mode(ptr) != 1:  # SSL_VERIFY_PEER, as just set
        raise RuntimeError("cannot find the SSL_CTX inside this Python's SSLContext")
    libssl.SSL_CTX_set_verify(ptr, 1, _accept_any)


class DynDNS:
    """names: more addresses its certificate covers (a qemu guest forward's)."""

    def __init__(self, challtestsrv_mgmt, zone, names=()):
        self.mgmt = challtestsrv_mgmt
        self.zone = zone
        self.port = free_port()
        self.dir = silotest.tmpdir("silo-dyndns-")
        self.cert = os.path.join(self.dir, "service.crt")
        self.key = os.path.join(self.dir, "service.key")
        self.names = {}        # name -> fingerprint of the certificate that holds it
        self.updates = []      # (name, address)
        self.txt = {}          # name -> [values] currently published
        self.txt_seen = []     # every value ever published
        self.refused = []      # (path, status, text)
        self.address = {}      # name -> the address its A record holds
        self.pings = []        # (name, source address, answered)
        self.emails = {}       # name -> the e-mail address it was registered with
        self.outbox = []       # (email, name, token): the recovery "e-mails" sent
        self.recovery = {}     # name -> the token sent last, until used
        self.lock = threading.RLock()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.key, "-out",
                        self.cert, "-days", "2", "-subj", "/CN=dyndns test service",
                        # mbedtls 2.28 (libcurl's TLS) matches dNSName entries only.
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1" +
                        "".join(f",DNS:{n}" for n in names)],
                       check=True, capture_output=True, timeout=30)
        os.chmod(self.cert, 0o644)

    @property
    def url(self):
        return f"https://{HOST}:{self.port}"

    def _dns(self, path, body):
        req = urllib.request.Request(f"http://{HOST}:{self.mgmt}/{path}",
                                     data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status

    def start(self):
        svc = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def answer(self, status, text):
                data = (text + "\n").encode()
                if status >= 300:
                    with svc.lock:
                        svc.refused.append((self.path, status, text))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(min(n, 4096)).decode()))
                der = self.connection.getpeercert(binary_form=True)
                if self.headers.get("X-Sand") != "cats":
                    return self.answer(403, "missing X-Sand: cats")
                if not der:
                    return self.answer(403, "a client certificate is required")
                fp = hashlib.sha256(der).hexdigest()
                name = form.get("rawHostname", "")
                if not NAME_RE.match(name):
                    return self.answer(400, "invalid name")
                fqdn = f"{name}.{svc.zone}"
                with svc.lock:
                    owner = svc.names.get(name)
                    # Recovery (sandcats): a token e-mailed to the address the name was
                    # registered with moves the name to the key that presents it.
                    if self.path == "/sendrecoverytoken":
                        if not owner or not svc.emails.get(name):
                            return self.answer(404, f"no e-mail address is known for {name}")
                        tok = secrets.token_hex(16)
                        svc.recovery[name] = tok
                        svc.outbox.append((svc.emails[name], name, tok))
                        return self.answer(200, "a recovery token was sent to the e-mail "
                                           f"address {name} was registered with")
                    if self.path == "/recover":
                        tok = svc.recovery.get(name)
                        if not tok or form.get("recoveryToken") != tok:
                            return self.answer(403, "that recovery token is not valid")
                        del svc.recovery[name]
                        svc.names[name] = fp
                        return self.answer(200, f"{fqdn} now belongs to this key")
                    if self.path == "/available":
                        if owner and owner != fp:
                            return self.answer(409, f"the name {name} is taken")
                        return self.answer(200, "yours" if owner else "free")
                    if self.path == "/register":
                        if owner and owner != fp:
                            return self.answer(409, f"the name {name} is taken")
                        svc.names[name] = fp
                        svc.emails[name] = form.get("email", "")
                    elif owner != fp:
                        return self.answer(403, f"this key does not hold {name}")
                if self.path == "/register":
                    return self.answer(200, f"registered {fqdn}")
                if self.path == "/update":
                    addr = self.client_address[0]
                    svc._dns("add-a", {"host": fqdn, "addresses": [addr]})
                    with svc.lock:
                        svc.updates.append((name, addr))
                        svc.address[name] = addr
                    return self.answer(200, f"updated {fqdn} {addr}")
                if self.path == "/acme-challenge":
                    host = f"_acme-challenge.{fqdn}."
                    if form.get("clear") == "1":
                        svc._dns("clear-txt", {"host": host})
                        with svc.lock:
                            svc.txt.pop(name, None)
                        return self.answer(200, "cleared")
                    value = form.get("value", "")
                    if not re.match(r"^[A-Za-z0-9_-]{43}$", value):
                        return self.answer(400, "invalid value")
                    svc._dns("set-txt", {"host": host, "value": value})
                    with svc.lock:
                        svc.txt.setdefault(name, []).append(value)
                        svc.txt_seen.append(value)
                    return self.answer(200, "published")
                return self.answer(404, "no such endpoint")

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        _accept_any_client_cert(ctx)

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
        # The ping (docs/DYNDNS.md): "ping NAME" on UDP; "changed" back when the sender's
        # address is not the one the name's A record holds.
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((HOST, 0))
        self.ping_port = self.udp.getsockname()[1]
        threading.Thread(target=self._pings, daemon=True).start()
        return self

    def _pings(self):
        while True:
            try:
                data, peer = self.udp.recvfrom(512)
            except OSError:
                return
            words = data.decode(errors="replace").split()
            if len(words) != 2 or words[0] != "ping" or not NAME_RE.match(words[1]):
                continue
            with self.lock:
                held = self.address.get(words[1])
                changed = held is not None and held != peer[0]
                self.pings.append((words[1], peer[0], changed))
            if changed:
                self.udp.sendto(b"changed\n", peer)

    def move(self, name, address):
        """As if the box's address had changed: the A record now holds another one."""
        fqdn = f"{name}.{self.zone}"
        self._dns("add-a", {"host": fqdn, "addresses": [address]})
        with self.lock:
            self.address[name] = address

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        try:
            self.udp.shutdown(socket.SHUT_RDWR)  # wakes the ping thread
        except OSError:
            pass
        self.udp.close()

# SPDX-License-Identifier: MIT
# pebble: Let's Encrypt's ACME test server (Debian package `pebble`), with
# pebble-challtestsrv as its DNS, on loopback ports from bind(0). Debian's pebble ships no
# certificate for its own HTTPS listener: one is made here with openssl and handed to silo
# as --acme-ca. Used by the ACME tests; Python 3 standard library only.
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.request

import silotest
from silotest import HOST, free_port


def available():
    return bool(shutil.which("pebble") and shutil.which("pebble-challtestsrv") and
                shutil.which("openssl"))


class Pebble:
    """pebble + pebble-challtestsrv; http_port is where pebble's HTTP-01 checks connect;
    names: more addresses its listener's certificate covers (a qemu guest forward's)."""

    def __init__(self, http_port, names=()):
        self.dir = silotest.tmpdir("silo-pebble-")
        self.http_port = http_port
        self.names = names
        self.port = free_port()
        self.mgmt = free_port()
        self.dns = free_port()
        self.dns_mgmt = free_port()
        self.cert = os.path.join(self.dir, "pebble.crt")
        self.key = os.path.join(self.dir, "pebble.key")
        self.procs = []

    @property
    def directory(self):
        return f"https://{HOST}:{self.port}/dir"

    def _spawn(self, args, name, env=None):
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             env={**os.environ, **(env or {})}, start_new_session=True,
                             preexec_fn=silotest._die_with_parent)
        self.procs.append(p)
        return p

    def start(self):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.key, "-out",
                        self.cert, "-days", "2", "-subj", "/CN=pebble test listener",
                        # mbedtls 2.28 (libcurl's TLS here) matches host names only against
                        # dNSName entries, so the address is one too.
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost" +
                        "".join(f",DNS:{n}" for n in self.names)],
                       check=True, capture_output=True, timeout=30)
        os.chmod(self.cert, 0o644)
        conf = os.path.join(self.dir, "pebble.json")
        with open(conf, "w") as f:
            json.dump({"pebble": {
                "listenAddress": f"{HOST}:{self.port}",
                "managementListenAddress": f"{HOST}:{self.mgmt}",
                "certificate": self.cert, "privateKey": self.key,
                "httpPort": self.http_port, "tlsPort": free_port(),
                "ocspResponderURL": "", "externalAccountBindingRequired": False}}, f)
        self._spawn(["pebble-challtestsrv", "-dns01", f"{HOST}:{self.dns}",
                     "-management", f"{HOST}:{self.dns_mgmt}", "-http01", "", "-https01", "",
                     "-tlsalpn01", "", "-defaultIPv6", ""], "challtestsrv")
        self._spawn(["pebble", "-config", conf, "-dnsserver", f"{HOST}:{self.dns}"], "pebble",
                    {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self._dns_api("set-default-ipv4", {"ip": HOST})
                self.get(self.directory)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("pebble did not start; see " + self.dir)

    def _dns_api(self, path, body):
        req = urllib.request.Request(f"http://{HOST}:{self.dns_mgmt}/{path}",
                                     data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status

    def add_a(self, host, address):
        """challtestsrv answers A queries for host with address."""
        return self._dns_api("add-a", {"host": host, "addresses": [address]})

    def get(self, url):
        ctx = ssl.create_default_context(cafile=self.cert)
        ctx.check_hostname = False
        with urllib.request.urlopen(url, timeout=10, context=ctx) as r:
            return r.read()

    def root(self):
        """The root that signs this run's certificates (PEM), from the management port."""
        return self.get(f"https://{HOST}:{self.mgmt}/roots/0").decode()

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.procs = []

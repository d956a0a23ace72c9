# SPDX-License-Identifier: MIT
# The services a box on the Internet would reach, on the host for a VM: pebble (the ACME
# CA) with pebble-challtestsrv as its DNS, and the test dynamic DNS service, each from
# tests/integration/ on loopback ports from bind(0). The guest reaches them at fixed
# addresses of qemu's user network through guest forwards, and learns their URLs and CA
# certificates as silo.conf lines and files through fw_cfg (init/fwcfg.c): the image is
# the same one people get. Python 3 standard library only.
import shutil
import socket
import ssl
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
import pebble  # noqa: E402
from dyndns_service import DynDNS  # noqa: E402

# Addresses inside qemu's 10.0.2.0/24 that nothing else uses (the host is .2, DNS .3, the
# guest .15). Their certificates carry them as DNS names: mbedtls 2.28, libcurl's TLS in
# silo, matches a URL's host against dNSName entries only.
ACME_ADDR, ACME_PORT = "10.0.2.100", 14000
DYNDNS_ADDR, DYNDNS_PORT = "10.0.2.101", 443
RUN_FILES = "/run/silo/file"   # where silo-init puts opt/silo/file/NAME


class Services:
    def __init__(self, zone):
        self.zone = zone
        self.pebble = None
        self.dyndns = None
        self.root = None

    def start(self):
        missing = [p for p in ("pebble", "pebble-challtestsrv", "openssl") if not shutil.which(p)]
        if missing:
            raise RuntimeError(f"not installed: {', '.join(missing)} (Debian package pebble)")
        # HTTP-01 is not used (the name is proved over DNS-01): pebble gets a port anyway.
        self.pebble = pebble.Pebble(pebble.free_port(), names=(ACME_ADDR,)).start()
        self.root = Path(self.pebble.dir) / "root.pem"
        self.root.write_text(self.pebble.root())
        self.dyndns = DynDNS(self.pebble.dns_mgmt, self.zone, names=(DYNDNS_ADDR,)).start()
        return self

    def attach(self, vm):
        """Guest forwards to the services and the silo.conf lines naming them."""
        vm.guest_forwards += [(ACME_ADDR, ACME_PORT, self.pebble.port),
                              (DYNDNS_ADDR, DYNDNS_PORT, self.dyndns.port)]
        conf = Path(self.pebble.dir) / "silo.conf"
        conf.write_text(
            f"acme_directory = https://{ACME_ADDR}:{ACME_PORT}/dir\n"
            f"acme_ca = {RUN_FILES}/acme-ca.pem\n"
            f"dyndns_url = https://{DYNDNS_ADDR}:{DYNDNS_PORT}\n"
            f"dyndns_ca = {RUN_FILES}/dyndns-ca.pem\n"
            f"dyndns_zone = {self.zone}\n"
            "dyndns_email = owner@example.test\n"
            # A new certificate is served within 2 s of being written.
            "tls_check_interval = 2\n")
        vm.fw_cfg += [("opt/silo/silo.conf", "file", str(conf)),
                      ("opt/silo/file/acme-ca.pem", "file", self.pebble.cert),
                      ("opt/silo/file/dyndns-ca.pem", "file", self.dyndns.cert)]

    def verified(self, port, name):
        """(True, what was served) when 127.0.0.1:port, asked for name, serves a chain that
        verifies for name against pebble's root; else (False, why)."""
        ctx = ssl.create_default_context(cafile=str(self.root))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
                with ctx.wrap_socket(raw, server_hostname=name) as s:
                    cert = s.getpeercert()
            names = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
            return True, f"served for {', '.join(names)}"
        except (OSError, ssl.SSLError) as e:
            return False, f"{type(e).__name__}: {e}"

    def stop(self):
        if self.dyndns:
            self.dyndns.stop()
            shutil.rmtree(self.dyndns.dir, ignore_errors=True)
        if self.pebble:
            self.pebble.stop()
            shutil.rmtree(self.pebble.dir, ignore_errors=True)

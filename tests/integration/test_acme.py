#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# ACME against pebble on loopback: silo gets a certificate for a name over HTTP-01 with
# --acme-domain, serves it live (the chain verifies against pebble's root), shows the state
# on the admin page; then the failure paths: a name the CA cannot validate and a CA that is
# down give clear errors on the admin page, and the previous certificate is still served.
import hashlib
import os
import re
import time

import pebble
import silotest
from tlstest import served, verified, wait_for
from silotest import HOST, Server, free_port, setup_admin, tls_context

NAME = "example.test"


def admin_page(admin):
    r = admin.get("/admin")
    return r.text() if r.status == 200 else ""


def acme_state(admin):
    m = re.search(r'id="acme-state">([a-z]+)<', admin_page(admin))
    return m.group(1) if m else None


def scenario(t):
    if not pebble.available():
        t.ok(False, "acme: pebble, pebble-challtestsrv and openssl are installed (scripts/deps.sh)")
        return
    http_port = free_port()
    p = pebble.Pebble(http_port).start()
    t.eq(p.add_a(NAME, HOST), 200, "acme: challtestsrv points the test name at 127.0.0.1")
    root_file = os.path.join(p.dir, "root.pem")
    with open(root_file, "w") as f:
        f.write(p.root())

    data = os.path.join(silotest.tmpdir(), "data")
    acme_args = ["--acme-directory", p.directory, "--acme-ca", p.cert]
    s = Server(data=data, port=http_port, tls=True, base_host="silo.localhost",
               config={"tls_check_interval": 1},
               extra_args=acme_args + ["--acme-domain", NAME]).start()
    admin = setup_admin(s)
    ok = wait_for(lambda: verified(s.tls_port, NAME, root_file), 90)
    t.ok(ok, "acme: silo obtains a certificate for the name over HTTP-01 and serves it; the "
             "chain verifies against pebble's root", f"see {s.stderr_path} and {p.dir}")
    first = served(s.tls_port, NAME)
    t.ok(verified(s.tls_port, "silo.localhost", os.path.join(data, "tls", "self.crt")),
         "acme: the shell host keeps its self-signed certificate (SNI picks per name)")
    t.eq(wait_for(lambda: acme_state(admin) == "valid", 10), True,
         "acme: the admin page shows the state as valid")
    a = admin.get("/api/v1/https").json().get("acme") or {}
    now = time.time()
    t.ok(a.get("state") == "valid" and a.get("names") == NAME and a.get("not_after", 0) > now
         and now < a.get("next", 0) < a.get("not_after", 0),
         "acme: GET /api/v1/https shows the certificate's expiry and a renewal before it", a)
    acct = os.path.join(data, "tls", "acme", "account.key")
    cert = os.path.join(data, "tls", "acme", "cert.pem")
    t.eq((oct(os.stat(acct).st_mode & 0o777), oct(os.stat(cert).st_mode & 0o777)),
         ("0o600", "0o600"), "acme: the account key and the certificate's key are owner-only")
    t.ok(not os.listdir(os.path.join(data, "tls", "acme", "challenges")),
         "acme: no challenge file is left behind")
    s.stop()

    # A second name the CA cannot validate (its address is not this server): a clear
    # error, and the first certificate stays in place.
    t.eq(p.add_a("unreachable.test", "127.0.0.2"), 200, "acme: a name that points elsewhere")
    s2 = Server(data=data, port=http_port, tls=True, base_host="silo.localhost",
                config={"tls_check_interval": 1},
                extra_args=acme_args + ["--acme-domain", NAME,
                                        "--acme-domain", "unreachable.test"]).start()
    admin = silotest.login_admin(s2)
    st = wait_for(lambda: acme_state(admin) == "error", 90)
    page = admin_page(admin)
    t.ok(st and "could not validate unreachable.test" in page,
         "acme: a failed HTTP-01 validation shows a clear error on the admin page",
         re.findall(r'id="acme-error">[^<]*', page))
    t.eq(served(s2.tls_port, NAME), first,
         "acme: after the failure the previous certificate is still served")
    s2.stop()

    # The CA is down: the error names it; the previous certificate is still served.
    p.stop()
    s3 = Server(data=data, port=http_port, tls=True, base_host="silo.localhost",
                config={"tls_check_interval": 1},
                extra_args=acme_args + ["--acme-domain", NAME,
                                        "--acme-domain", "other.test"]).start()
    admin = silotest.login_admin(s3)
    wait_for(lambda: acme_state(admin) == "error", 60)
    page = admin_page(admin)
    t.ok("cannot reach the certificate authority" in page,
         "acme: a CA that is down shows a clear error on the admin page",
         re.findall(r'id="acme-error">[^<]*', page))
    t.eq(served(s3.tls_port, NAME), first,
         "acme: with the CA down the previous certificate is still served")
    t.eq(hashlib.sha256(served(s3.tls_port, "silo.localhost") or b"").hexdigest(),
         s3.tls_fingerprint(), "acme: the self-signed certificate still serves the shell host")
    s3.stop()



if __name__ == "__main__":
    silotest.run(scenario, time_limit=170)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A free name and a wildcard certificate, sandcats-style: silo registers NAME under the test
# dynamic-DNS service's zone with a client certificate made on the box, keeps the address
# current, and gets a certificate for NAME.ZONE and *.NAME.ZONE from pebble through DNS-01
# (the service publishes the TXT record through pebble-challtestsrv). curl --cacert with
# pebble's root verifies the shell host and a ui-... session host. Then: the name taken by
# another box, a reinstall with the same key getting its name back, one that lost its key
# recovering the name by e-mail token, and the service down, each with a clear error and the
# previous certificate kept.
import hashlib
import os
import re
import shutil
import ssl

import pebble
import silotest
from tlstest import acme_of, curl_ok, served, wait_for
from dyndns_service import DynDNS
from silotest import HOST, login_admin, Server, free_port, setup_admin, tls_context

ZONE = "dyn.test"



def box(p, svc, name, data, port, setup, root):
    s = Server(data=data, port=port, tls=True, base_host=f"{name}.{ZONE}",
               config={"tls_check_interval": 1, "dyndns_ping_port": svc.ping_port,
                       "dyndns_ping_interval": 1},
               extra_args=["--acme-directory", p.directory, "--acme-ca", p.cert,
                           "--dyndns-url", svc.url, "--dyndns-ca", svc.cert,
                           "--dyndns-name", name, "--dyndns-zone", ZONE,
                           "--dyndns-email", "owner@example.test"]).start()

    # The shell host is served the self-signed certificate until the ACME one arrives:
    # this client trusts both.
    def client():
        ctx = tls_context(os.path.join(data, "tls", "self.crt"))
        ctx.load_verify_locations(root)
        return silotest.Client(s.tls_port, host=s.shell_host, tls=ctx)
    s.client = client
    return s, (setup_admin(s) if setup else login_admin(s))


def scenario(t):
    if not pebble.available() or not shutil.which("curl"):
        t.ok(False, "dyndns: pebble, pebble-challtestsrv, openssl and curl are installed")
        return
    port = free_port()
    p = pebble.Pebble(port).start()
    root = os.path.join(p.dir, "root.pem")
    with open(root, "w") as f:
        f.write(p.root())
    svc = DynDNS(p.dns_mgmt, ZONE).start()

    data = os.path.join(silotest.tmpdir(), "data")
    s, admin = box(p, svc, "box", data, port, True, root)
    host = f"box.{ZONE}"
    ok = wait_for(lambda: curl_ok(s.tls_port, host, root)[0], 90)
    t.ok(ok, "dyndns: curl --cacert <pebble root> verifies https://box.dyn.test (the shell host)",
         curl_ok(s.tls_port, host, root)[1])
    sess = f"ui-{'ab' * 16}.{host}"
    ok, why = curl_ok(s.tls_port, sess, root)
    t.ok(ok, "dyndns: and a ui-... session host: the certificate is the wildcard", why)
    crt = os.path.join(data, "tls", "acme", "dyndns.crt")
    key = os.path.join(data, "tls", "acme", "dyndns.key")
    der = ssl.PEM_cert_to_DER_cert(open(crt).read())
    t.eq(svc.names.get("box"), hashlib.sha256(der).hexdigest(),
         "dyndns: the service holds the name by the fingerprint of the box's client certificate")
    t.eq(oct(os.stat(key).st_mode & 0o777), "0o600",
         "dyndns: the client key stays on the box, readable by its owner only")
    t.ok(("box", HOST) in svc.updates, "dyndns: the box sent its address (the service saw 127.0.0.1)")
    t.ok(len(svc.txt_seen) >= 2 and not svc.txt.get("box"),
         "dyndns: DNS-01 values were published for the name and its wildcard, then cleared",
         (svc.txt_seen, svc.txt))
    a = acme_of(admin)
    t.ok(a.get("state") == "valid" and a.get("names") == f"{host} *.{host}",
         "dyndns: the admin API shows a valid certificate for the name and its wildcard", a)
    # The address changes: the service's answer to the box's UDP ping brings an update at
    # once, long before dyndns_update_interval (600 s).
    wait_for(lambda: any(n == "box" for n, _, _ in svc.pings), 10)
    t.ok(svc.pings and not any(c for _, _, c in svc.pings),
         "dyndns: the box pings the service, which stays silent while the address holds",
         svc.pings[:3])
    before = len(svc.updates)
    svc.move("box", "192.0.2.7")
    ok = wait_for(lambda: svc.address.get("box") == HOST and len(svc.updates) > before, 15)
    t.ok(ok, "dyndns: a changed address is answered on the ping and the box updates it at once",
         (svc.address, svc.updates[before:], svc.pings[-3:]))
    first = served(s.tls_port, host)
    s.stop()

    # Another box asking for the same name: refused, and it says so.
    other = os.path.join(silotest.tmpdir(), "data")
    s2, admin2 = box(p, svc, "box", other, port, True, root)
    a = wait_for(lambda: acme_of(admin2).get("state") == "error" and acme_of(admin2), 30)
    t.ok(a and "the name box is taken" in a.get("error", ""),
         "dyndns: a name held by another key is refused with a clear error", a)
    s2.stop()

    # A reinstall that kept the key (an empty data directory but the same dyndns.key/crt)
    # gets its name back.
    again = os.path.join(silotest.tmpdir(), "data")
    os.makedirs(os.path.join(again, "tls", "acme"))
    shutil.copy2(key, os.path.join(again, "tls", "acme", "dyndns.key"))
    shutil.copy2(crt, os.path.join(again, "tls", "acme", "dyndns.crt"))
    for d in (again, os.path.join(again, "tls"), os.path.join(again, "tls", "acme")):
        os.chmod(d, 0o711)
    before = len(svc.updates)
    s3, admin3 = box(p, svc, "box", again, port, True, root)
    ok = wait_for(lambda: curl_ok(s3.tls_port, host, root)[0], 90)
    t.ok(ok and len(svc.updates) > before,
         "dyndns: a reinstall with the same key gets the name back and a new certificate")
    s3.stop()

    # A reinstall that lost the key (the second box's data, a key of its own): recovery by
    # the token the service e-mails to the address the name was registered with.
    s2, admin2 = box(p, svc, "box", other, port, False, root)
    r = admin2.post("/api/v1/https/available", {"name": "box"})
    t.ok(r.status == 409, "recovery: the name is taken for the new key", (r.status, r.text()))
    page = admin2.get("/admin/https").text()
    t.ok('value="recovery"' in page and 'name="token"' in page,
         "recovery: the HTTPS page offers it (asking for a token, entering it), without scripts")
    r = admin2.post("/admin/https", form={"csrf": admin2.csrf, "op": "recovery", "name": "box"},
                    headers={"Origin": s2.base_url})
    page = admin2.get("/admin/https").text()
    t.ok(r.status == 303 and "was sent to the e-mail address it was registered with" in page,
         "recovery: without scripts, the form asks for a token and the page says where it went",
         r.status)
    r = admin2.post("/api/v1/https/recovery", {"name": "box"})
    t.ok(r.status == 200 and "sent to the e-mail address" in r.json().get("message", ""),
         "recovery: the API asks for a token too", r.text())
    t.ok(len(svc.outbox) == 2 and all(m[:2] == ("owner@example.test", "box") for m in svc.outbox),
         "recovery: the tokens went to the address the name was registered with", svc.outbox)
    token = svc.outbox[-1][2] if svc.outbox else ""
    r = admin2.post("/api/v1/https/recover", {"name": "box", "token": "0" * 32})
    t.ok(r.status == 422 and "not valid" in r.text(),
         "recovery: a wrong token is refused with the service's reason", (r.status, r.text()))
    r = admin2.post("/api/v1/https/recover", {"name": "box", "token": "bad token!"})
    t.ok(r.status == 400, "recovery: a token that cannot be one is refused before it is sent",
         (r.status, r.text()))
    r = admin2.post("/api/v1/https/recover", {"name": "box", "token": token})
    t.ok(r.status == 200 and "belongs to this server again" in r.json().get("message", ""),
         "recovery: the right token moves the name", r.text())
    der2 = ssl.PEM_cert_to_DER_cert(
        open(os.path.join(other, "tls", "acme", "dyndns.crt")).read())
    t.eq(svc.names.get("box"), hashlib.sha256(der2).hexdigest(),
         "recovery: the service now holds the name by the new box's key")
    r = admin2.post("/api/v1/https", {"mode": "dyndns", "name": "box"})
    t.ok(r.status == 200, "recovery: the name can be chosen again", (r.status, r.text()))
    ok = wait_for(lambda: curl_ok(s2.tls_port, host, root)[0], 90)
    t.ok(ok, "recovery: the recovered box gets a certificate for the name",
         curl_ok(s2.tls_port, host, root)[1])
    s2.stop()

    # The service is down: the first box starts with its certificate, says what is wrong,
    # and keeps serving the certificate it has.
    svc.stop()
    s4, admin4 = box(p, svc, "box", data, port, False, root)
    a = wait_for(lambda: acme_of(admin4).get("state") == "error" and acme_of(admin4), 30)
    t.ok(a and "cannot reach the dynamic DNS service" in a.get("error", ""),
         "dyndns: the service being down is a clear error", a)
    t.eq(served(s4.tls_port, host), first,
         "dyndns: with the service down the previous certificate is still served")
    s4.stop()
    p.stop()


if __name__ == "__main__":
    silotest.run(scenario, time_limit=170)

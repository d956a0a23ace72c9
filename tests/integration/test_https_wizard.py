#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The setup wizard's "How will people reach this server?" against pebble, challtestsrv and
# the loopback dynamic-DNS service: no name is configured, the administrator picks one.
# Only my network shows the fingerprint printed on the console; a taken free name is
# refused; an own domain whose address has nothing on port 80 is refused, one that reaches
# the box gets its certificate; a free name is checked, registered and served with a
# wildcard certificate (shell host and ui- host); a restart continues the choice; the page
# without scripts says what went wrong.
import os
import re
import shutil

import pebble
import silotest
from tlstest import curl_ok, wait_for
from dyndns_service import DynDNS
from silotest import HOST, login_admin, Server, free_port, setup_admin, tls_context

ZONE = "dyn.test"


def https(admin):
    r = admin.get("/api/v1/https")
    return r.json() or {} if r.status == 200 else {}


def start(p, svc, data, port, root):
    s = Server(data=data, port=port, tls=True, base_host="silo.localhost",
               config={"tls_check_interval": 1, "acme_http_port": port,
                       "resolver": f"{HOST}:{p.dns}"},
               extra_args=["--acme-directory", p.directory, "--acme-ca", p.cert,
                           "--dyndns-url", svc.url, "--dyndns-ca", svc.cert,
                           "--dyndns-zone", ZONE, "--dyndns-email", "owner@example.test"])
    return s.start()



def shell_at_name(t, s, admin, host, root, when):
    """The shell lives at the chosen name now (its links too); the address it started at
    (the admin's client) keeps working."""
    name = f"{host}:{s.tls_port}"
    at_name = silotest.Client(s.tls_port, host=name, tls=tls_context(root))
    r = at_name.post("/api/v1/login", {"name": "admin", "password": silotest.PASSWORD})
    t.ok(r.status == 200, f"wizard: {when}the shell answers at https://{host} (checked "
         "against pebble's root) and a user signs in there", r)
    r = admin.post("/api/v1/invites", {})
    url = (r.json() or {}).get("url", "") if r.status == 201 else ""
    t.ok(url.startswith(f"https://{name}/invite/"),
         f"wizard: {when}links it makes (an invitation) name https://{host}, even asked "
         "from the old address", url or r)
    t.eq(admin.get("/api/v1/https").status, 200,
         f"wizard: {when}the address it started at is still served")


def scenario(t):
    if not pebble.available() or not shutil.which("curl"):
        t.ok(False, "wizard: pebble, pebble-challtestsrv, openssl and curl are installed")
        return
    port = free_port()
    p = pebble.Pebble(port).start()
    root = os.path.join(p.dir, "root.pem")
    with open(root, "w") as f:
        f.write(p.root())
    svc = DynDNS(p.dns_mgmt, ZONE).start()
    svc.names["taken"] = "0" * 64   # held by another box's key

    data = os.path.join(silotest.tmpdir(), "data")
    s = start(p, svc, data, port, root)
    admin = setup_admin(s)

    # Only my network: the fingerprint the console printed, in the API and on the page.
    r = admin.post("/api/v1/https", {"mode": "lan"})
    st = https(admin)
    t.ok(r.status == 200 and st.get("choice", {}).get("mode") == "lan" and st.get("acme") is None,
         "wizard: 'only on my network' is stored and fetches no certificate", (r, st))
    t.eq(st.get("fingerprint"), s.tls_fingerprint(),
         "wizard: the API shows the fingerprint `silo: tls: sha256` printed")
    page = admin.get("/admin/https").text()
    t.ok(s.tls_fingerprint() in page and "How will people reach this server?" in page,
         "wizard: the HTTPS page shows the same fingerprint")

    # A free name another box holds: refused by the check and by the choice.
    r = admin.post("/api/v1/https/available", {"name": "taken"})
    t.ok(r.status == 409 and "taken.dyn.test is taken" in (r.json() or {}).get("error", ""),
         "wizard: a taken name is reported as taken", r)
    r = admin.post("/api/v1/https", {"mode": "dyndns", "name": "taken"})
    t.ok(r.status == 409 and "pick another name" in (r.json() or {}).get("error", "") and
         https(admin).get("choice", {}).get("mode") == "lan",
         "wizard: choosing a taken name is refused and the previous choice stays", r)
    r = admin.post("/api/v1/https/available", {"name": "-bad-"})
    t.eq(r.status, 400, "wizard: a malformed name is refused before asking the service")

    # The page without scripts: the form posts, then the page says what went wrong.
    r = admin.post("/admin/https", form={"csrf": admin.csrf, "mode": "dyndns", "op": "check",
                                         "name": "taken"},
                   headers={"Origin": s.base_url})
    page = admin.get("/admin/https").text()
    t.ok(r.status == 303 and "taken.dyn.test is taken" in page,
         "wizard: without scripts, the check answers on the page after a redirect", r)

    # Own domain, port 80 not reaching the box: the name points where nothing listens.
    t.eq(p.add_a("elsewhere.test", "127.0.0.2"), 200, "wizard: a name pointing elsewhere")
    r = admin.post("/api/v1/https", {"mode": "domain", "name": "elsewhere.test"})
    err = (r.json() or {}).get("error", "")
    t.ok(r.status == 422 and "resolves to 127.0.0.2" in err and "connection refused" in err,
         "wizard: own domain whose port 80 does not reach the box says so before asking the CA",
         r)

    # Own domain reaching the box: checked, chosen, certificate served.
    t.eq(p.add_a("mine.test", HOST), 200, "wizard: a name pointing at the box")
    r = admin.post("/api/v1/https", {"mode": "domain", "name": "mine.test"})
    t.ok(r.status == 200 and (r.json() or {}).get("host") == "mine.test",
         "wizard: own domain with port 80 reaching the box is accepted", r)
    ok = wait_for(lambda: curl_ok(s.tls_port, "mine.test", root)[0], 90)
    t.ok(ok, "wizard: the own domain's certificate is fetched and served",
         curl_ok(s.tls_port, "mine.test", root)[1])

    # A free name: free, registered, wildcard certificate served.
    r = admin.post("/api/v1/https/available", {"name": "Box"})
    t.ok(r.status == 200 and "box.dyn.test is free" in (r.json() or {}).get("message", ""),
         "wizard: a free name is reported free (names are lowercased)", r)
    r = admin.post("/api/v1/https", {"mode": "dyndns", "name": "box"})
    t.ok(r.status == 200 and (r.json() or {}).get("host") == "box.dyn.test",
         "wizard: the free name is chosen", r)
    host = "box.dyn.test"
    ok = wait_for(lambda: curl_ok(s.tls_port, host, root)[0], 90)
    t.ok(ok, "wizard: curl --cacert <pebble root> verifies https://box.dyn.test",
         curl_ok(s.tls_port, host, root)[1])
    ok, why = curl_ok(s.tls_port, f"ui-{'cd' * 16}.{host}", root)
    t.ok(ok, "wizard: and a ui-... host under it (the wildcard)", why)
    a = wait_for(lambda: (https(admin).get("acme") or {}).get("state") == "valid" and
                 https(admin)["acme"], 10)
    t.ok(a and a.get("names") == f"{host} *.{host}",
         "wizard: GET /api/v1/https shows the certificate valid for the name and wildcard", a)
    t.ok(svc.names.get("box") not in (None, "0" * 64), "wizard: the service holds box for us")
    shell_at_name(t, s, admin, host, root, "")
    s.stop()

    # A restart continues the choice.
    s = start(p, svc, data, port, root)
    admin = login_admin(s)
    st = https(admin)
    t.ok(st.get("choice") == {"mode": "dyndns", "name": "box", "host": host},
         "wizard: after a restart the choice is still there", st)
    a = wait_for(lambda: (https(admin).get("acme") or {}).get("state") == "valid" and
                 https(admin)["acme"], 30)
    t.ok(a and a.get("names") == f"{host} *.{host}" and curl_ok(s.tls_port, host, root)[0],
         "wizard: and its certificate is kept and served", a)
    shell_at_name(t, s, admin, host, root, "after a restart: ")
    # Back to "only on my network": the shell is at the configured address alone again.
    r = admin.post("/api/v1/https", {"mode": "lan"})
    inv = admin.post("/api/v1/invites", {})
    url = (inv.json() or {}).get("url", "") if inv.status == 201 else ""
    gone = silotest.Client(s.tls_port, host=f"{host}:{s.tls_port}", tls=tls_context(None))
    t.ok(r.status == 200 and url.startswith(f"https://silo.localhost:{s.tls_port}/invite/") and
         gone.get("/login").status == 404,
         "wizard: choosing 'only on my network' moves the shell back to the configured address",
         (r, url))
    s.stop()
    svc.stop()
    p.stop()


if __name__ == "__main__":
    silotest.run(scenario, time_limit=240)

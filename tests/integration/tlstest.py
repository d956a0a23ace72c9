# SPDX-License-Identifier: MIT
# tlstest: what the HTTPS integration tests (test_acme.py, test_acme_refusals.py,
# test_dyndns.py, test_https_wizard.py) share: polling a condition, the certificate served
# for a name, verifying it against a CA file (Python's ssl and curl --cacert, as a person
# would check), and the ACME state the API reports. Connections go to 127.0.0.1 only; names
# are sent as SNI or pinned with curl --resolve, never looked up.
# Not a test program itself (run.sh runs tests/integration/test_*.py only).
import socket
import ssl
import subprocess
import time

from silotest import HOST, tls_context


def wait_for(cond, seconds, interval=0.5):
    """Calls cond until it returns something true or seconds pass; returns the last value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(interval)
    return cond()


def served(port, sni):
    """The DER certificate served for sni (no verification), or None."""
    try:
        with socket.create_connection((HOST, port), timeout=10) as raw:
            with tls_context().wrap_socket(raw, server_hostname=sni) as s:
                return s.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return None


def verified(port, sni, root_file):
    """True when the chain served for sni verifies against root_file for that name."""
    ctx = ssl.create_default_context(cafile=root_file)
    try:
        with socket.create_connection((HOST, port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=sni):
                return True
    except (OSError, ssl.SSLError):
        return False


def curl_ok(port, host, root):
    """curl --cacert ROOT https://HOST:PORT/api/v1/status, resolving HOST to 127.0.0.1:
    (ok, what curl printed)."""
    p = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", root, "--resolve",
                        f"{host}:{port}:{HOST}", "-o", "/dev/null", "-w", "%{http_code}",
                        f"https://{host}:{port}/api/v1/status"],
                       capture_output=True, timeout=30, text=True)
    return p.returncode == 0, p.stdout + p.stderr


def acme_of(admin):
    """The "acme" object of GET /api/v1/https as the admin sees it ({} when unavailable)."""
    r = admin.get("/api/v1/https")
    return (r.json() or {}).get("acme") or {} if r.status == 200 else {}

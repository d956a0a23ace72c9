# SPDX-License-Identifier: MIT
# silotest: what silo's integration tests share. Starts and stops the server binary on a
# kernel-chosen loopback port, talks HTTP to it (http.client, and raw sockets for the bytes
# a normal client would never send), keeps cookies, and prints TAP-like lines.
# Python 3 standard library only; every socket has a timeout; traffic goes to 127.0.0.1 only.
import http.client
import json as jsonlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PASSWORD = "correct horse battery"   # long enough for AUTH_PASSWORD_MIN (10)
SETUP_RE = re.compile(r"^silo: setup: (\S+)/setup/([0-9a-f]{64})$", re.M)
SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error: "
                          r"|SUMMARY: UndefinedBehaviorSanitizer|ThreadSanitizer")


def silo_bin():
    """The binary under test: $SILO_BIN, else build/silo."""
    b = os.environ.get("SILO_BIN") or str(ROOT / "build" / "silo")
    return str(Path(b).resolve())


def _die_with_parent():
    """In the child before exec: be killed when the test program dies, so a test that is
    itself killed (a timeout) leaves no server behind. PR_SET_PDEATHSIG is 1."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def free_port():
    """A port the kernel chose for us; it is free again once this returns (small race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- TAP output ---

class Tap:
    """Numbered "ok N - name" / "not ok N - name" lines and the closing counts."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=None):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {name}", flush=True)
        else:
            self.failed += 1
            extra = f"  ({detail})" if detail else ""
            print(f"not ok {self.n} - {name}{extra}", flush=True)
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name, f"got {got!r}, want {want!r}")

    def note(self, text):
        for line in str(text).splitlines():
            print(f"# {line}", flush=True)

    def summary(self):
        print(f"{self.n - self.failed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


_servers = []
_tmpdirs = []


def tmpdir(prefix="silo-test-"):
    d = tempfile.mkdtemp(prefix=prefix)
    # silo's front runs as its own uid and must be able to pass through to its data dir.
    os.chmod(d, 0o711)
    _tmpdirs.append(d)
    return d


class Deadline(Exception):
    pass


def _alarm(signum, frame):
    raise Deadline("the scenario ran past its time limit")


def run(scenario, time_limit=90):
    """Runs scenario(tap) with a time limit; whatever happens, stops every server it started,
    checks their logs for sanitizer reports, prints the counts and exits with them."""
    tap = Tap()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(os.environ.get("SILO_TEST_TIME_LIMIT", time_limit)))
    try:
        scenario(tap)
    except BaseException as e:  # includes Deadline and KeyboardInterrupt
        tap.ok(False, "scenario ran to its end", f"{type(e).__name__}: {e}")
        tap.note(traceback.format_exc())
    signal.alarm(0)
    for s in _servers:
        if s.running():
            s.kill()
    reports = []
    for s in _servers:
        for path in s.logs:
            text = Path(path).read_text(errors="replace") if os.path.exists(path) else ""
            if SANITIZER_RE.search(text):
                reports.append(path)
    tap.ok(not reports, "server: no sanitizer report in any server log",
           "see " + ", ".join(reports))
    keep = set()
    for s in _servers:
        for path in s.logs:
            out = path + ".stdout"
            if os.path.exists(out) and os.path.getsize(out) == 0:
                os.unlink(out)
            if tap.failed:
                tap.note(f"server log: {path}")
                keep.add(os.path.dirname(path))
    if not os.environ.get("SILO_KEEP"):
        for d in _tmpdirs:
            if d not in keep:
                shutil.rmtree(d, ignore_errors=True)
    sys.exit(tap.summary())


# --- The server process ---

class Server:
    """One silo data directory, served by one process at a time (restart() starts another)."""

    def __init__(self, data=None, config=None, name="silo", base_host=None, tls=False,
                 extra_args=(), port=None):
        self.data = data or os.path.join(tmpdir(), "data")
        # tls: also --listen-tls on a port of its own (tls_port); the base URL is https then.
        self.tls = tls
        self.tls_port = None
        self.extra_args = list(extra_args)
        self.fixed_port = port    # serve plain HTTP on this port (say, where pebble validates)
        self.config = config      # dict of silo.conf settings, written to a file for --config
        self.name = name
        # With base_host (say "silo.localhost"), the server runs with --base-url
        # http://BASE_HOST:PORT, so its shell answers only that Host and ui-<id>.BASE_HOST:PORT
        # are its grain session hosts. Connections still go to 127.0.0.1; the clients send
        # the Host header themselves (no DNS needed).
        self.base_host = base_host
        self.proc = None
        self.port = None
        self.logs = []            # stderr of every process started, in order
        self.stderr_path = None
        self.log_dir = os.environ.get("SILO_TEST_LOGDIR") or tmpdir("silo-log-")
        os.makedirs(self.log_dir, exist_ok=True)
        _servers.append(self)

    @property
    def base_url(self):
        if self.tls:
            return f"https://{self.shell_host or HOST + ':' + str(self.tls_port)}"
        return f"http://{self.shell_host or HOST + ':' + str(self.port)}"

    @property
    def shell_host(self):
        """The Host header the shell answers (None: the server's own address will do)."""
        if not self.base_host:
            return None
        return f"{self.base_host}:{self.tls_port if self.tls else self.port}"

    def _config_file(self):
        path = os.path.join(tmpdir("silo-conf-"), "silo.conf")
        with open(path, "w") as f:
            for k, v in self.config.items():
                f.write(f"{k} = {v}\n")
        return path

    def _log_path(self):
        test = Path(sys.argv[0]).stem
        flavour = "debug" if "/debug/" in silo_bin() else "release"
        n = sum(len(s.logs) for s in _servers) + 1
        return os.path.join(self.log_dir, f"{test}.{flavour}.{self.name}.{n}.stderr")

    def start(self, wait=True):
        """Starts `silo serve` and waits until GET /api/v1/status answers."""
        last = ""
        for _ in range(5):
            self.port = self.fixed_port or free_port()
            self.stderr_path = self._log_path()
            self.logs.append(self.stderr_path)
            args = [silo_bin(), "serve", "--data", self.data, "--listen", f"{HOST}:{self.port}"]
            if self.tls:
                self.tls_port = free_port()
                args += ["--listen-tls", f"{HOST}:{self.tls_port}"]
            if self.base_host:
                scheme, port = ("https", self.tls_port) if self.tls else ("http", self.port)
                args += ["--base-url", f"{scheme}://{self.base_host}:{port}"]
            args += self.extra_args
            if self.config:
                args += ["--config", self._config_file()]
            with open(self.stderr_path, "wb") as err, open(self.stderr_path + ".stdout", "wb") as out:
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=err, start_new_session=True,
                                             preexec_fn=_die_with_parent)
            self.started_at = time.monotonic()
            if not wait or self.wait_ready():
                return self
            last = self.stderr()
            if self.proc.poll() is not None and "Address already in use" in last:
                continue  # someone took the port between our probe and the server's bind
            break
        self.kill()
        raise RuntimeError(f"silo did not start serving; its log ends: {last[-800:]!r}")

    def restart(self):
        """A new process on the same data directory (and a new port)."""
        if self.running():
            raise RuntimeError("restart: the server is still running")
        return self.start()

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                c = http.client.HTTPConnection(HOST, self.port, timeout=2)
                c.request("GET", "/api/v1/status",
                          headers={"Host": self.shell_host} if self.shell_host else {})
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        """SIGTERM, then waits. Returns (exit status or None when it did not exit, seconds)."""
        t0 = time.monotonic()
        if not self.running():
            return self.proc.returncode, 0.0
        self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout, t0)

    def wait_exit(self, timeout=10, t0=None):
        t0 = t0 or time.monotonic()
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, time.monotonic() - t0
        return rc, time.monotonic() - t0

    def kill(self):
        """SIGKILL: the process gets no chance to clean up."""
        if self.running():
            self.proc.kill()
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def stderr(self):
        """What the current (latest) process wrote on stderr so far."""
        try:
            return Path(self.stderr_path).read_text(errors="replace")
        except OSError:
            return ""

    def setup_links(self):
        """(base URL, token) of every `silo: setup:` line on the current process's stderr."""
        return SETUP_RE.findall(self.stderr())

    def wait_for_log(self, pattern, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.stderr()):
                return True
            time.sleep(0.05)
        return False

    def admin_token(self, *extra):
        """Runs `silo admin-token --data DIR`; returns (exit status, stdout, stderr)."""
        p = subprocess.run([silo_bin(), "admin-token", "--data", self.data, *extra],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def client(self):
        if self.tls:
            return Client(self.tls_port, host=self.shell_host,
                          tls=tls_context(os.path.join(self.data, "tls", "self.crt")))
        return Client(self.port, host=self.shell_host)

    def tls_fingerprint(self):
        """The fingerprint the server printed as `silo: tls: sha256 HEX`, or None."""
        m = re.findall(r"^silo: tls: sha256 ([0-9a-f]{64})$", self.stderr(), re.M)
        return m[-1] if m else None

    def raw(self, timeout=5):
        return Raw(self.port, timeout)


# --- HTTP ---

class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers   # [(name, value)] in order
        self.body = body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        try:
            return jsonlib.loads(self.body)
        except ValueError:
            return {}

    def text(self):
        return self.body.decode(errors="replace")

    def __repr__(self):
        return f"<Response {self.status} {self.body[:120]!r}>"


def parse_cookie(set_cookie):
    """'name=value; Attr; Attr=x' -> (name, value, {attr_lower: value})."""
    parts = [p.strip() for p in set_cookie.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip()
    return name.strip(), value.strip(), attrs


class SNIConnection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 with the TLS server name (SNI, and what check_hostname checks)
    set to a host name that needs no DNS."""

    def __init__(self, port, sni, context, timeout):
        super().__init__(HOST, port, context=context, timeout=timeout)
        self._sni = sni

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._sni)


def tls_context(cafile=None):
    """A client context that trusts cafile (checking the host name), or anything (None)."""
    import ssl
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    if not cafile:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Client:
    """An HTTP client with a cookie jar and the session's CSRF token; one connection per
    request (keep-alive is tested separately over raw sockets)."""

    def __init__(self, port, timeout=15, host=None, tls=None):
        self.port = port
        self.tls = tls            # an ssl.SSLContext: talk HTTPS (SNI = host without port)
        self.timeout = timeout
        self.host = host          # the Host header to send (None: http.client's default)
        self.cookies = {}
        self.csrf = None
        self.bearer = None

    def request(self, method, path, body=None, headers=None, json=None, form=None,
                csrf=True, cookies=True):
        h = {}
        if json is not None:
            body = jsonlib.dumps(json).encode()
            h["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        if cookies and self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        if self.bearer:
            h["Authorization"] = f"Bearer {self.bearer}"
        if self.host:
            h["Host"] = self.host
        h.update(headers or {})
        if self.tls:
            sni = (self.host or HOST).rsplit(":", 1)[0]
            c = SNIConnection(self.port, sni, self.tls, self.timeout)
        else:
            c = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            resp = Response(r.status, r.reason, r.getheaders(), data)
        finally:
            c.close()
        for sc in resp.header_all("Set-Cookie"):
            name, value, attrs = parse_cookie(sc)
            if attrs.get("max-age") == "0" or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def login(self, name, password=PASSWORD):
        """POST /api/v1/login; on success keeps the session cookie and CSRF token."""
        r = self.post("/api/v1/login", {"name": name, "password": password})
        if r.status == 200:
            self.csrf = r.json().get("csrf")
        return r


def setup_admin(server, name="admin", password=PASSWORD, server_name="Test silo"):
    """Completes the setup wizard through the API with the printed token; returns the admin's
    logged-in client, or raises."""
    links = server.setup_links()
    if not links:
        raise RuntimeError("no setup line on stderr")
    c = server.client()
    r = c.post("/api/v1/setup", {"token": links[-1][1], "name": name, "password": password,
                                 "server_name": server_name})
    if r.status != 201:
        raise RuntimeError(f"setup failed: {r}")
    c.csrf = r.json().get("csrf")
    return c


def login_admin(server, name="admin", password=PASSWORD):
    """The admin's logged-in client on a server set up earlier (a restart), or raises."""
    c = server.client()
    r = c.login(name, password)
    if r.status != 200:
        raise RuntimeError(f"login failed: {r}")
    return c


class Raw:
    """A raw TCP connection for hand-made requests, with a response reader."""

    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.eof = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        if self.eof:
            return False
        try:
            d = self.sock.recv(65536)
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def read_response(self, head_only=False):
        """The next response, or None when the connection ended before one arrived.
        Raises socket.timeout when nothing complete arrives in time."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 1 << 20 or not self._fill():
                return None
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)", lines[0])
        if not m:
            raise ValueError(f"not a status line: {lines[0]!r}")
        status = int(m.group(1))
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        resp = Response(status, m.group(2), headers, b"")
        if head_only or status in (100, 204, 304) or status < 200:
            return resp
        cl = resp.header("Content-Length")
        if cl is None:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
            return resp
        n = int(cl)
        while len(self.buf) < n and self._fill():
            pass
        resp.body, self.buf = self.buf[:n], self.buf[n:]
        return resp

    def closed_by_peer(self, timeout=5):
        """True when the server closes the connection (EOF or reset) within timeout; bytes
        that arrive first are kept in self.buf."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                self._fill()
            except socket.timeout:
                return False
            except OSError:
                self.eof = True
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def raw_exchange(port, data, timeout=5):
    """Sends data on a fresh connection and returns (first response or None, closed after)."""
    r = Raw(port, timeout)
    try:
        try:
            r.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before all of a huge request is sent
        try:
            resp = r.read_response()
        except socket.timeout:
            resp = None
        return resp, r.closed_by_peer(timeout)
    finally:
        r.close()


def get_status(port, timeout=5):
    """GET /api/v1/status on a fresh connection: the status code, or None when it failed."""
    try:
        c = http.client.HTTPConnection(HOST, port, timeout=timeout)
        c.request("GET", "/api/v1/status")
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except OSError:
        return None

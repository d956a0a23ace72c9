# SPDX-License-Identifier: MIT
# webdriver: a minimal W3C WebDriver client for the real-browser test and the share benchmark.
# Starts Debian's chromedriver on a kernel-chosen 127.0.0.1 port and drives headless Chromium
# through it: sessions (each a fresh profile), navigation, elements by CSS selector, clicks,
# typing (a file path into <input type=file>), frames, scripts (sync and async), alerts and
# PNG screenshots. Driver.quit() ends every process it started, by pid, even after a failure.
# Python 3 standard library only; every socket has a timeout.
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
HOST = "127.0.0.1"
# The W3C name of the key that marks an element reference in JSON.
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"
# Headless, quiet (no calls home, no updates, no sync) and runnable as root in a container.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1000",
                 "--no-proxy-server"]


class WebDriverError(Exception):
    """An error answer of the WebDriver protocol: .error is its code ("no such element")."""

    def __init__(self, error, message):
        super().__init__(f"{error}: {message.splitlines()[0] if message else ''}")
        self.error = error


def missing():
    """Why a browser test cannot run here (a sentence), or None when it can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} is not installed (scripts/deps.sh installs chromium and " \
                   "chromium-driver)"
    return None


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _die_with_parent():
    """In chromedriver before exec: killed when the test program dies (PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _pids_using(marker):
    """Pids of processes whose command line contains marker (a unique profile directory)."""
    found = []
    needle = marker.encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if needle in f.read():
                    found.append(int(name))
        except OSError:
            pass
    return found


class Driver:
    """One chromedriver process; sessions() are Chromium instances with their own profiles."""

    def __init__(self, timeout=30):
        self.timeout = timeout
        self.proc = None
        self.port = None
        self.sessions = []
        self.workdir = tempfile.mkdtemp(prefix="silo-webdriver-")
        self.log_path = os.path.join(self.workdir, "chromedriver.log")

    def start(self):
        self.port = _free_port()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [CHROMEDRIVER, f"--port={self.port}", "--allowed-ips=127.0.0.1",
                 f"--log-path={self.log_path}"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if self.call("GET", "/status").get("ready"):
                    return self
            except (OSError, WebDriverError, ValueError):
                pass
            time.sleep(0.05)
        self.quit()
        raise RuntimeError(f"chromedriver did not become ready (see {self.log_path})")

    def call(self, method, path, body=None, timeout=None):
        """One WebDriver command; returns its "value" or raises WebDriverError."""
        c = http.client.HTTPConnection(HOST, self.port, timeout=timeout or self.timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if data is not None else {}
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            answer = json.loads(r.read() or b"{}")
        finally:
            c.close()
        value = answer.get("value")
        if r.status != 200:
            v = value if isinstance(value, dict) else {}
            raise WebDriverError(v.get("error", f"HTTP {r.status}"), v.get("message", ""))
        return value

    def session(self, extra_args=()):
        """A new headless Chromium with a fresh, empty profile."""
        profile = tempfile.mkdtemp(prefix="profile-", dir=self.workdir)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            # Alerts stay open until the test answers them (confirm() before a revoke).
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": CHROMIUM_ARGS + [f"--user-data-dir={profile}", *extra_args],
            }}}}
        value = self.call("POST", "/session", caps, timeout=60)
        s = Session(self, value["sessionId"], profile)
        self.sessions.append(s)
        return s

    def quit(self):
        """Ends every session, chromedriver and any Chromium process left; never raises."""
        for s in list(self.sessions):
            s.quit()
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        # Chromium may put itself in another process group: its profile path names it.
        for pid in _pids_using(self.workdir):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)


class Element:
    def __init__(self, session, ref):
        self.s = session
        self.ref = ref

    def _path(self, tail):
        return f"/element/{self.ref}{tail}"

    def click(self):
        self.s.cmd("POST", self._path("/click"), {})

    def send_keys(self, text):
        """Types text; for <input type=file>, text is the path of the file to choose."""
        self.s.cmd("POST", self._path("/value"), {"text": text})

    def clear(self):
        self.s.cmd("POST", self._path("/clear"), {})

    @property
    def text(self):
        return self.s.cmd("GET", self._path("/text"))

    def attr(self, name):
        return self.s.cmd("GET", self._path(f"/attribute/{name}"))

    def prop(self, name):
        return self.s.cmd("GET", self._path(f"/property/{name}"))

    def find_all(self, css):
        """Elements matching css inside this one."""
        v = self.s.cmd("POST", self._path("/elements"), {"using": "css selector", "value": css})
        return [Element(self.s, e[ELEMENT_KEY]) for e in v]

    def displayed(self):
        return bool(self.s.cmd("GET", self._path("/displayed")))

    def json(self):
        return {ELEMENT_KEY: self.ref}


class Session:
    """One browser (one profile) with one window."""

    def __init__(self, driver, sid, profile):
        self.d = driver
        self.sid = sid
        self.profile = profile
        self.closed = False

    def cmd(self, method, tail, body=None, timeout=None):
        return self.d.call(method, f"/session/{self.sid}{tail}", body, timeout)

    def go(self, url):
        self.cmd("POST", "/url", {"url": url}, timeout=60)

    @property
    def url(self):
        return self.cmd("GET", "/url")

    @property
    def title(self):
        return self.cmd("GET", "/title")

    def source(self):
        return self.cmd("GET", "/source")

    def find(self, css):
        """The first element matching css in the current frame; WebDriverError when none."""
        v = self.cmd("POST", "/element", {"using": "css selector", "value": css})
        return Element(self, v[ELEMENT_KEY])

    def find_all(self, css):
        v = self.cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [Element(self, e[ELEMENT_KEY]) for e in v]

    def wait(self, fn, timeout=15, interval=0.05):
        """Calls fn until it returns something true; returns it, or the last value after
        timeout seconds. WebDriver errors inside fn (a page still loading) count as false."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                v = fn()
            except WebDriverError:
                v = None
            if v or time.monotonic() >= deadline:
                return v
            time.sleep(interval)

    def wait_find(self, css, timeout=15):
        """The first element matching css once there is one, or None after timeout."""
        return self.wait(lambda: (self.find_all(css) or [None])[0], timeout)

    def execute(self, script, *args):
        """Runs script (a function body; `arguments` holds args) and returns its value."""
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def execute_async(self, script, *args, timeout=30):
        """Like execute; the script calls arguments[arguments.length - 1](value) to answer."""
        self.cmd("POST", "/timeouts", {"script": int(timeout * 1000)})
        return self.cmd("POST", "/execute/async", {"script": script, "args": list(args)},
                        timeout=timeout + 10)

    def frame(self, element=None):
        """Switches into the frame element (an Element), or back to the top with None."""
        self.cmd("POST", "/frame", {"id": element.json() if element else None})

    def parent_frame(self):
        self.cmd("POST", "/frame/parent", {})

    def alert_text(self):
        """The text of an open alert/confirm, or None when there is none."""
        try:
            return self.cmd("GET", "/alert/text")
        except WebDriverError as e:
            if e.error == "no such alert":
                return None
            raise

    def accept_alert(self):
        self.cmd("POST", "/alert/accept", {})

    def screenshot(self, path):
        """Saves the viewport as a PNG at path (directories made as needed)."""
        png = base64.b64decode(self.cmd("GET", "/screenshot"))
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(png)
        return png

    def quit(self):
        if self.closed:
            return
        self.closed = True
        try:
            self.cmd("DELETE", "", timeout=20)
        except (OSError, WebDriverError, ValueError):
            pass
        if self in self.d.sessions:
            self.d.sessions.remove(self)

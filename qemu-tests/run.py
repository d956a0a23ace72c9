#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs qemu boot scenarios: transcript files of console lines and HTTP exchanges expected
in order, against a silo image booted under qemu. Each step prints "ok N - ..." or
"not ok N - ..."; the run ends with "N passed, N failed". A failed step ends its scenario
(what follows depends on it).

Usage: run.py [--image IMG] [--firmware bios|uefi] [--keep] SCENARIO...

The shell and grains are reached over HTTPS (the guest's 443 on {tls_port}), with SNI and
Host naming silo.localhost or the grain's ui-... host; port 80 is {port}. Until a `tls pin`
the certificate is not checked; after it every HTTPS connection must present the pinned one.

Transcript steps, one a line ('#' starts a comment; {name} is replaced by a saved value):
  boot                          start the VM (the same disk as earlier boots)
  console REGEX [within=S]      wait for a console line matching REGEX; named groups saved
  seen REGEX [within=S]         the same, for a line in any order (the whole log so far
                                counts; the position for `console` stays)
  absent REGEX                  no console line so far matches REGEX
  tls pin FINGERPRINT           HTTPS connections from now on must present the certificate
                                with this SHA-256 (hex; colons and case ignored); saves
                                {fp_1} and {fp_2}, its halves as the console's summary shows
                                them (AB:CD:...); pinning another value fails
  tls verify NAME [within=S]    the HTTPS port, asked for NAME (SNI), serves a chain that
                                verifies for NAME against the ACME test CA's root (retried
                                until it does)
  http METHOD PATH STATUS [JSON|@FILE]   a request to the shell (Host silo.localhost:TLSPORT)
  plain METHOD PATH STATUS      a plain HTTP request to port 80 (Host silo.localhost:PORT)
  header NAME VALUE             the last answer had header NAME with exactly VALUE
  grain METHOD PATH STATUS [JSON]        a request to the grain session opened last
  save NAME KEY                 saves KEY of the last JSON answer
  expect TEXT                   the last answer's body contains TEXT
  login NAME PASSWORD           POST /api/v1/login, keeping the cookie and CSRF token
  session GRAIN_ID              opens a grain session host, as the shell's iframe does
  monitor COMMAND               a QEMU monitor command (system_powerdown: the power button)
  exit [within=S]               qemu exits (the guest powered off)
  kill                          pulls the plug
  disk SIZE                     (before the first boot) the VM's disk is SIZE (qemu-img: 4G)
  json KEY OP VALUE             the last JSON answer's KEY (a.b: b inside a) compared
                                (OP: = < <= > >=) to VALUE
  range NAME MIN MAX            a saved number lies in [MIN, MAX]
  writer start PATH JSON        writes to the grain in a loop (JSON with {n}: 0, 1, ...),
                                noting each write the grain acknowledged
  writer wait N                 until N writes were acknowledged
  writer check PATH             after a kill: GET PATH holds every acknowledged write
  probe-host                    the open probe grain's GET /report equals the one a native
                                server (build/silo, config/appliance.conf's grain limits) gives
  acme-services ZONE            (before the first boot) pebble, pebble-challtestsrv and the
                                test dynamic DNS service for ZONE on host loopback ports; the
                                VM reaches them by guest forwards (acme_services.py) and gets
                                their URLs and CAs as silo.conf lines through fw_cfg
"""
import argparse
import http.client
import json
import operator
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import vm as vmlib

ROOT = vmlib.ROOT
DEFAULT_WAIT = 600   # seconds for a console line: TCG on a loaded 2-core box is slow


class PinMismatch(Exception):
    """The server presented another certificate than the one pinned (not an OSError: the
    writer loop takes those for a VM that is gone)."""


class TLSConnection(http.client.HTTPConnection):
    """HTTPS to 127.0.0.1:port with SNI sni (the host the request names, never looked up);
    check(der) sees the server's certificate before any request is sent."""

    def __init__(self, port, sni, check, timeout):
        super().__init__("127.0.0.1", port, timeout=timeout)
        self.sni = sni
        self.check = check

    def connect(self):
        super().connect()
        self.sock = vmlib.unverified_context().wrap_socket(self.sock, server_hostname=self.sni)
        self.check(self.sock.getpeercert(binary_form=True))


def json_get(obj, key):
    """obj's KEY, where a.b is b inside a; None when any part is missing."""
    for part in key.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


class Scenario:
    def __init__(self, path, args, tap):
        self.path = Path(path)
        self.args = args
        self.tap = tap
        self.vars = {}
        self.cookies = {}
        self.csrf = None
        self.last = None      # (status, body bytes)
        self.headers = []     # the last answer's headers
        self.grain = None     # (host, cookie)
        self.pin = None       # the SHA-256 (hex) HTTPS connections must present
        self.services = None  # acme_services.Services once started
        work = Path(tempfile.mkdtemp(prefix="silo-qemu-", dir=ROOT / "build"))
        self.work = work
        name = self.path.stem
        log = ROOT / "build" / "test-logs" / f"qemu.{name}.{args.firmware}.console.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_bytes(b"")
        self.vm = vmlib.VM(args.image, work, firmware=args.firmware, log=log)
        self.acked = []       # writer: the {n} of every acknowledged write
        self.writer = None
        self.writer_stop = False
        self.label = f"{name} ({Path(args.image).name}, {args.firmware})"
        self.vars["port"] = self.vm.port
        self.vars["tls_port"] = self.vm.tls_port
        # {series}: the image's kernel series (silo-6.1.img: 6.1; silo.img: the default).
        m = re.match(r"silo-(.+)\.img$", Path(args.image).name)
        self.vars["series"] = m.group(1) if m else "6.12"

    def sub(self, text):
        return re.sub(r"\{(\w+)\}", lambda m: str(self.vars.get(m.group(1), m.group(0))), text)

    def check_pin(self, der):
        got = vmlib.fingerprint(der)
        if self.pin and got != self.pin:
            raise PinMismatch(f"the server's certificate has SHA-256 {got}, not the pinned "
                              f"{self.pin} from the console")

    def request(self, method, path, body, host, cookie_header, csrf, timeout=120, plain=False):
        h = {"Host": host}
        if body is not None:
            if body.startswith("@"):
                data = (ROOT / body[1:]).read_bytes()
                h["Content-Type"] = "application/octet-stream"
            else:
                data = body.encode()
                h["Content-Type"] = "application/json"
        else:
            data = None
        if cookie_header:
            h["Cookie"] = cookie_header
        if csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = csrf
        if plain:
            c = http.client.HTTPConnection("127.0.0.1", self.vm.port, timeout=timeout)
        else:
            sni = re.sub(r":\d+$", "", host)
            c = TLSConnection(self.vm.tls_port, sni, self.check_pin, timeout)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            out = (r.status, r.read(), r.getheaders())
        finally:
            c.close()
        return out

    def shell(self, method, path, body=None):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        status, data, headers = self.request(method, path, body,
                                             f"silo.localhost:{self.vm.tls_port}", cookie,
                                             self.csrf)
        self.headers = headers
        for k, v in headers:
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name.strip()] = rest.split(";")[0]
        self.last = (status, data)
        # Setup and login answer with the session's CSRF token.
        self.csrf = self.last_json().get("csrf") or self.csrf
        return status

    def last_json(self):
        try:
            j = json.loads(self.last[1])
            return j if isinstance(j, dict) else {}
        except (TypeError, ValueError):
            return {}

    def step(self, line):
        """Runs one step; returns (ok, description, detail)."""
        word, _, rest = line.partition(" ")
        rest = self.sub(rest.strip())
        if word == "boot":
            self.vm.boot()
            return True, "boot the VM", None
        if word in ("console", "exit"):
            within = DEFAULT_WAIT
            m = re.search(r"\s+within=(\d+)$", rest)
            if m:
                within = int(m.group(1))
                rest = rest[:m.start()]
            if word == "exit":
                return self.vm.wait_exit(within), "qemu exits (the guest powered off)", None
            found = self.vm.wait_line(rest, within)
            if found:
                self.vars.update({k: v for k, v in found.groupdict().items() if v is not None})
            tail = "\n".join(self.vm.lines[-15:])
            return bool(found), f"console: /{rest}/", None if found else f"last lines:\n{tail}"
        if word == "seen":
            within = DEFAULT_WAIT
            m = re.search(r"\s+within=(\d+)$", rest)
            if m:
                within = int(m.group(1))
                rest = rest[:m.start()]
            rx = re.compile(rest)
            end = time.monotonic() + within
            while True:
                found = next((m for m in map(rx.search, list(self.vm.lines)) if m), None)
                if found or time.monotonic() > end or self.vm.proc.poll() is not None:
                    break
                time.sleep(0.2)
            if found:
                self.vars.update({k: v for k, v in found.groupdict().items() if v is not None})
            tail = "\n".join(self.vm.lines[-15:])
            return bool(found), f"console shows /{rest}/", None if found else f"last lines:\n{tail}"
        if word == "tls":
            return self.tls_step(rest)
        if word == "plain":
            method, path, want = rest.split(" ", 2)
            got, data, self.headers = self.request(method, path, None,
                                                   f"silo.localhost:{self.vm.port}", None, None,
                                                   plain=True)
            self.last = (got, data)
            return got == int(want), f"plain http: {method} {path} -> {want}", \
                f"got {got}: {data[:300]!r}"
        if word == "header":
            name, want = rest.split(" ", 1)
            got = [v for k, v in self.headers if k.lower() == name.lower()]
            return got == [want], f"the answer's {name} is {want}", f"got {got}"
        if word == "acme-services":
            return self.start_services(rest)
        if word == "absent":
            hits = self.vm.seen(rest)
            return not hits, f"console never shows /{rest}/", "\n".join(hits[:5])
        if word in ("http", "grain"):
            parts = rest.split(" ", 3)
            method, path, want = parts[0], parts[1], int(parts[2])
            body = parts[3] if len(parts) > 3 else None
            if word == "http":
                got = self.shell(method, path, body)
            else:
                host, cookie = self.grain
                got, data, _ = self.request(method, path, body, host, f"silo_grain={cookie}", None)
                self.last = (got, data)
            return got == want, f"{word}: {method} {path} -> {want}", \
                f"got {got}: {self.last[1][:300]!r}"
        if word == "save":
            name, key = rest.split()
            val = self.last_json().get(key)
            self.vars[name] = val
            return val is not None, f"save {name} = .{key} of the answer", repr(self.last)
        if word == "expect":
            return rest.encode() in (self.last[1] or b""), f"the answer contains '{rest}'", \
                repr(self.last[1][:300])
        if word == "login":
            name, password = rest.split(" ", 1)
            self.cookies.clear()
            self.csrf = None
            status = self.shell("POST", "/api/v1/login",
                                json.dumps({"name": name, "password": password}))
            return status == 200, f"log in as {name}", repr(self.last)
        if word == "session":
            status = self.shell("POST", f"/api/v1/grains/{rest}/session", "{}")
            url = self.last_json().get("url", "")
            m = re.match(r"^https://(ui-[0-9a-f]{32}\.[^/]+)(/\.silo/open\?t=[0-9a-f]{64})$", url)
            if status != 201 or not m:
                return False, f"open a session on grain {rest}", repr(self.last)
            st, data, headers = self.request("GET", m.group(2), None, m.group(1), None, None)
            cookie = next((v.split(";")[0].split("=", 1)[1] for k, v in headers
                           if k.lower() == "set-cookie" and v.startswith("silo_grain=")), None)
            self.grain = (m.group(1), cookie)
            return bool(cookie), f"open a session on grain {rest}", f"{st} {data[:200]!r}"
        if word == "monitor":
            self.vm.monitor(rest)
            return True, f"monitor: {rest}", None
        if word == "kill":
            self.vm.kill()
            return True, "pull the plug", None
        if word == "disk":
            self.vm.resize(rest)
            return True, f"the VM's disk is {rest}", None
        if word == "json":
            key, op, want = rest.split(" ", 2)
            got = json_get(self.last_json(), key)
            ops = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt,
                   ">=": operator.ge}
            try:
                ok = got is not None and ops[op](got, json.loads(want))
            except TypeError:
                ok = False
            return ok, f"answer .{key} {op} {want}", f"got {got!r}"
        if word == "range":
            name, lo, hi = rest.split()
            val = float(self.vars.get(name, "nan"))
            return float(lo) <= val <= float(hi), f"{name} in [{lo}, {hi}]", f"got {val}"
        if word == "writer":
            return self.writer_step(rest)
        if word == "probe-host":
            return self.probe_host()
        return False, f"unknown step '{word}'", None

    def tls_step(self, rest):
        what, _, arg = rest.partition(" ")
        if what == "pin":
            fp = arg.replace(":", "").lower()
            if not re.fullmatch(r"[0-9a-f]{64}", fp):
                return False, "tls: pin a SHA-256 fingerprint", f"not 64 hex digits: {arg!r}"
            if self.pin and fp != self.pin:
                return False, "tls: pin the console's fingerprint", \
                    f"{fp} differs from the one pinned before, {self.pin}"
            self.pin = fp
            pairs = [fp[i:i + 2].upper() for i in range(0, 64, 2)]
            self.vars["fp_1"] = ":".join(pairs[:16])
            self.vars["fp_2"] = ":".join(pairs[16:])
            return True, f"tls: pin the certificate {fp[:16]}...", None
        if what == "verify":
            within = 0
            m = re.search(r"\s+within=(\d+)$", arg)
            if m:
                within = int(m.group(1))
                arg = arg[:m.start()]
            if not self.services:
                return False, f"tls: verify {arg}", "no acme-services step came before"
            end = time.monotonic() + within
            while True:
                ok, why = self.services.verified(self.vm.tls_port, arg)
                if ok or time.monotonic() > end:
                    break
                time.sleep(2)
            return ok, f"tls: the chain served for {arg} verifies against the ACME CA's root", why
        return False, f"tls: unknown '{what}'", None

    def start_services(self, zone):
        import acme_services   # beside run.py; needs the pebble package only here
        self.services = acme_services.Services(zone).start()
        self.services.attach(self.vm)
        return True, f"pebble, challtestsrv and the dynamic DNS service for {zone} run", None

    def grain_request(self, method, path, body=None, timeout=120):
        host, cookie = self.grain
        status, data, _ = self.request(method, path, body, host, f"silo_grain={cookie}", None,
                                       timeout=timeout)
        return status, data

    def writer_step(self, rest):
        what, _, arg = rest.partition(" ")
        if what == "start":
            path, template = arg.split(" ", 1)

            def loop():
                n = 0
                while not self.writer_stop:
                    try:
                        status, _ = self.grain_request("POST", path,
                                                       template.replace("{n}", str(n)), 10)
                    except OSError:
                        return   # the VM is gone
                    if status == 201:
                        self.acked.append(n)
                    n += 1

            self.writer_stop = False
            self.writer = threading.Thread(target=loop, daemon=True)
            self.writer.start()
            return True, f"writer: POST {path} in a loop", None
        if what == "wait":
            end = time.monotonic() + DEFAULT_WAIT
            while len(self.acked) < int(arg) and time.monotonic() < end and self.writer.is_alive():
                time.sleep(0.05)
            return len(self.acked) >= int(arg), f"writer: {arg} writes acknowledged", \
                f"{len(self.acked)} acknowledged"
        if what == "check":
            self.writer_stop = True
            self.writer.join(30)
            status, data = self.grain_request("GET", arg)
            text = data.decode("utf-8", "replace")
            lost = [n for n in self.acked if f"cut-{n}-end" not in text]
            return status == 200 and not lost, \
                f"writer: all {len(self.acked)} acknowledged writes are there after the cut", \
                f"status {status}; lost: {lost[:20]}"
        return False, f"writer: unknown '{what}'", None

    def probe_host(self):
        """The VM's probe report against a native server's, key by key."""
        status, data = self.grain_request("GET", "/report")
        vm_rep = json.loads(data) if status == 200 else {}
        sys.path.insert(0, str(ROOT / "tests" / "integration"))
        import graintest as gt
        import silotest as st
        conf = {}
        for line in (ROOT / "config" / "appliance.conf").read_text().splitlines():
            k, _, v = line.partition("=")
            if k.strip().startswith("grain_") and v.strip():
                conf[k.strip()] = v.strip()
        s = gt.new_server(config=conf).start()
        try:
            admin = st.setup_admin(s)
            app = gt.install(admin, "probe").json().get("app_id", "")
            gid = admin.post("/api/v1/grains", {"app_id": app, "title": "P"}).json()["grain_id"]
            host_rep = gt.GrainSession(s, admin, gid).get("/report").json()
        finally:
            s.stop()
        # RLIMIT_NPROC is the kernel's default, sized from the machine's RAM; the sandbox
        # leaves it and limits processes with the cgroup's pids.max (the scenario's fork bomb).
        for rep in (vm_rep, host_rep):
            rep.get("rlimits", {}).pop("nproc", None)
        diff = {k: (vm_rep.get(k), host_rep.get(k)) for k in set(vm_rep) | set(host_rep)
                if vm_rep.get(k) != host_rep.get(k)}
        return bool(vm_rep) and not diff, \
            f"probe: the sandbox's {len(vm_rep)} answers in the VM equal the host's", \
            f"VM status {status}; differing (VM, host): {diff}"

    def run(self):
        self.tap.note(f"scenario {self.label}; console log: {self.vm.log_path}")
        ok = True
        try:
            for raw in self.path.read_text().splitlines():
                line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
                if not line:
                    continue
                t0 = time.monotonic()
                try:
                    ok, desc, detail = self.step(line)
                except Exception as e:   # a step that breaks is a failed step, named
                    ok, desc, detail = False, line, f"{type(e).__name__}: {e}"
                self.tap.result(ok, f"{self.path.stem}: {desc} ({time.monotonic() - t0:.0f}s)",
                                detail)
                if not ok:
                    break
        finally:
            self.writer_stop = True
            self.vm.kill()
            if self.services:
                self.services.stop()
            if ok and not self.args.keep:
                shutil.rmtree(self.work, ignore_errors=True)
        return ok


class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def note(self, text):
        print(f"# {text}", flush=True)

    def result(self, ok, name, detail=None):
        self.n += 1
        if not ok:
            self.failed += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}", flush=True)
        if not ok and detail:
            for line in str(detail).splitlines():
                print(f"#   {line}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", default=str(ROOT / "build" / "silo.img"))
    ap.add_argument("--firmware", choices=("bios", "uefi"), default="bios")
    ap.add_argument("--keep", action="store_true", help="keep the VM's disk after a pass")
    ap.add_argument("scenarios", nargs="+")
    args = ap.parse_args()
    tap = Tap()
    if not Path(args.image).is_file():
        tap.result(False, f"image {args.image} exists (make image)")
    else:
        for s in args.scenarios:
            Scenario(s, args, tap).run()
    print(f"{tap.n - tap.failed} passed, {tap.failed} failed", flush=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())

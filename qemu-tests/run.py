#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs qemu boot scenarios: transcript files of console lines and HTTP exchanges expected
in order, against a silo image booted under qemu. Each step prints "ok N - ..." or
"not ok N - ..."; the run ends with "N passed, N failed". A failed step ends its scenario
(what follows depends on it).

Usage: run.py [--image IMG] [--firmware bios|uefi] [--keep] SCENARIO...

Transcript steps, one a line ('#' starts a comment; {name} is replaced by a saved value):
  boot                          start the VM (the same disk as earlier boots)
  console REGEX [within=S]      wait for a console line matching REGEX; named groups saved
  absent REGEX                  no console line so far matches REGEX
  http METHOD PATH STATUS [JSON|@FILE]   a request to the shell (Host silo.localhost:PORT)
  grain METHOD PATH STATUS [JSON]        a request to the grain session opened last
  save NAME KEY                 saves KEY of the last JSON answer
  expect TEXT                   the last answer's body contains TEXT
  login NAME PASSWORD           POST /api/v1/login, keeping the cookie and CSRF token
  session GRAIN_ID              opens a grain session host, as the shell's iframe does
  monitor COMMAND               a QEMU monitor command (system_powerdown: the power button)
  exit [within=S]               qemu exits (the guest powered off)
  kill                          pulls the plug
"""
import argparse
import http.client
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import vm as vmlib

ROOT = vmlib.ROOT
DEFAULT_WAIT = 600   # seconds for a console line: TCG on a loaded 2-core box is slow


class Scenario:
    def __init__(self, path, args, tap):
        self.path = Path(path)
        self.args = args
        self.tap = tap
        self.vars = {}
        self.cookies = {}
        self.csrf = None
        self.last = None      # (status, body bytes)
        self.grain = None     # (host, cookie)
        work = Path(tempfile.mkdtemp(prefix="silo-qemu-", dir=ROOT / "build"))
        self.work = work
        name = self.path.stem
        log = ROOT / "build" / "test-logs" / f"qemu.{name}.{args.firmware}.console.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_bytes(b"")
        self.vm = vmlib.VM(args.image, work, firmware=args.firmware, log=log)
        self.label = f"{name} ({Path(args.image).name}, {args.firmware})"

    def sub(self, text):
        return re.sub(r"\{(\w+)\}", lambda m: str(self.vars.get(m.group(1), m.group(0))), text)

    def request(self, method, path, body, host, cookie_header, csrf):
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
        c = http.client.HTTPConnection("127.0.0.1", self.vm.port, timeout=120)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            out = (r.status, r.read(), r.getheaders())
        finally:
            c.close()
        return out

    def shell(self, method, path, body=None):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        status, data, headers = self.request(method, path, body, f"silo.localhost:{self.vm.port}",
                                             cookie, self.csrf)
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
            m = re.match(r"^http://(ui-[0-9a-f]{32}\.[^/]+)(/\.silo/open\?t=[0-9a-f]{64})$", url)
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
        return False, f"unknown step '{word}'", None

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
            self.vm.kill()
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

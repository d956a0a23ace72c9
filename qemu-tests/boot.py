#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make run`: boots the appliance image in qemu with its ports 443 and 80 forwarded to free
ports on 127.0.0.1, shows the console, and prints the HTTPS address, the certificate's
fingerprint and the setup link at the forwarded addresses. The VM's disk (an overlay over
the image) is kept in build/run/ between runs; --fresh starts over. Ctrl-C presses the
power button and waits for a clean power-off."""
import argparse
import re
import shutil
import sys
import time

import vm as vmlib

TLS_LINE = re.compile(r"^silo: tls: sha256 ([0-9a-f]{64})$")
SETUP_LINE = re.compile(r"^silo: setup: \S+(/setup/[0-9a-f]{64})$")
SERVING_LINE = re.compile(r"^silo-init: silo is serving$")


def colons(fp):
    """AB:CD:... as browsers show a fingerprint."""
    return ":".join(fp[i:i + 2] for i in range(0, len(fp), 2)).upper()


def watch(vm):
    """Says where to go each time silo serves, and the setup link when silo prints one."""
    fp = None
    while vm.proc.poll() is None or vm.cursor < len(vm.lines):
        if vm.cursor >= len(vm.lines):
            time.sleep(0.2)
            continue
        line = vm.lines[vm.cursor]
        vm.cursor += 1
        if m := TLS_LINE.match(line):
            fp = m.group(1)
        elif SERVING_LINE.match(line):
            print(f"\nrun: silo serves at {vm.base_url} (http://silo.localhost:{vm.port} "
                  "redirects there)", flush=True)
            if fp:
                print("run: its certificate is self-signed, so the browser warns once; "
                      f"compare the SHA-256 fingerprint it shows with\nrun:   {colons(fp)}\n",
                      flush=True)
        elif m := SETUP_LINE.match(line):
            print(f"\nrun: open {vm.base_url}{m.group(1)}\n", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--image", default=str(vmlib.ROOT / "build" / "silo.img"))
    ap.add_argument("--firmware", choices=("bios", "uefi"), default="bios")
    ap.add_argument("--port", type=int, default=0,
                    help="host port for the guest's port 80 (default: a free one)")
    ap.add_argument("--tls-port", type=int, default=0,
                    help="host port for the guest's HTTPS port 443 (default: a free one)")
    ap.add_argument("--fresh", action="store_true", help="start from the image's first boot")
    args = ap.parse_args()
    work = vmlib.ROOT / "build" / "run"
    if args.fresh:
        shutil.rmtree(work, ignore_errors=True)
    vm = vmlib.VM(args.image, work, firmware=args.firmware, port=args.port or None,
                  tls_port=args.tls_port or None, keep_disk=True)
    vm.echo = True
    print(f"run: booting {args.image} ({args.firmware}); {vm.base_url} reaches its port 443, "
          f"http://silo.localhost:{vm.port} its port 80. Ctrl-C powers it off.", flush=True)
    vm.boot()
    try:
        watch(vm)
    except KeyboardInterrupt:
        print("\nrun: pressing the power button", flush=True)
        vm.monitor("system_powerdown")
        if not vm.wait_exit(60):
            vm.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())

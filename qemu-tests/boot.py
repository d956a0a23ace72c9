#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make run`: boots the appliance image in qemu with its port 80 forwarded to a free port
on 127.0.0.1, shows the console, and prints the setup link at the forwarded address. The
VM's disk (an overlay over the image) is kept in build/run/ between runs; --fresh starts
over. Ctrl-C presses the power button and waits for a clean power-off."""
import argparse
import shutil
import sys
import time

import vm as vmlib


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--image", default=str(vmlib.ROOT / "build" / "silo.img"))
    ap.add_argument("--firmware", choices=("bios", "uefi"), default="bios")
    ap.add_argument("--port", type=int, default=0, help="host port (default: a free one)")
    ap.add_argument("--fresh", action="store_true", help="start from the image's first boot")
    args = ap.parse_args()
    work = vmlib.ROOT / "build" / "run"
    if args.fresh:
        shutil.rmtree(work, ignore_errors=True)
    vm = vmlib.VM(args.image, work, firmware=args.firmware, port=args.port or None,
                  keep_disk=True)
    vm.echo = True
    print(f"run: booting {args.image} ({args.firmware}); http://silo.localhost:{vm.port} "
          "reaches its port 80. Ctrl-C powers it off.", flush=True)
    vm.boot()
    try:
        m = vm.wait_line(r"^silo: setup: \S+/setup/([0-9a-f]{64})$", 900)
        if m:
            print(f"\nrun: open http://silo.localhost:{vm.port}/setup/{m.group(1)}\n", flush=True)
        while vm.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nrun: pressing the power button", flush=True)
        vm.monitor("system_powerdown")
        if not vm.wait_exit(60):
            vm.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())

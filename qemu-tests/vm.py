# SPDX-License-Identifier: MIT
# vm: boots a silo image under qemu for the tests and `make run`. The serial console is read
# line by line into a log; the QEMU monitor is a unix socket; the guest's ports 80 and 443
# are forwarded to free ports on 127.0.0.1 only; guest forwards let the guest reach chosen
# services on the host's loopback. Python 3 standard library only.
import hashlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fingerprint(der):
    """The SHA-256 of a DER certificate in lowercase hex, as `silo: tls: sha256` prints it."""
    return hashlib.sha256(der).hexdigest()


def unverified_context():
    """TLS without checking the chain: the caller pins the certificate's fingerprint."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def kvm_wanted():
    """KVM only when asked for (SILO_QEMU_KVM=1) and /dev/kvm opens: nested KVM on some
    hosts fails on the kernel's own code, while TCG always works."""
    if os.environ.get("SILO_QEMU_KVM") != "1":
        return False
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


class VM:
    def __init__(self, image, workdir, firmware="bios", memory="256M", disk_size="1G",
                 port=None, tls_port=None, log=None, keep_disk=False):
        self.image = Path(image).resolve()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.firmware = firmware
        self.memory = memory
        self.port = port or free_port()            # the guest's port 80 (plain HTTP)
        self.tls_port = tls_port or free_port()    # the guest's port 443 (HTTPS)
        # The URL silo is told it is reached at (fw_cfg): its shell host and HTTPS port, where
        # plain HTTP redirects to.
        self.base_url = f"https://silo.localhost:{self.tls_port}"
        self.guest_forwards = []   # (guest address, guest port, host loopback port)
        self.fw_cfg = []           # (name, "string" or "file", value)
        self.disk = self.workdir / "disk.qcow2"
        self.vars = self.workdir / "OVMF_VARS.fd"
        self.monitor_path = self.workdir / "monitor.sock"
        self.log_path = Path(log) if log else self.workdir / "console.log"
        self.lines = []
        self.times = []       # seconds since boot() when each line arrived
        self.booted_at = None
        self.cursor = 0
        self.proc = None
        self.echo = False
        # A copy-on-write overlay: the image stays untouched, the guest sees a disk of
        # disk_size (larger than the image, so first boot grows the data partition).
        if not (keep_disk and self.disk.exists()):
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                            str(self.image), str(self.disk), disk_size], check=True)
        if firmware == "uefi" and not (keep_disk and self.vars.exists()):
            shutil.copyfile(OVMF_VARS, self.vars)

    def resize(self, size):
        """A fresh overlay of size (before the first boot): a bigger disk to grow into."""
        self.disk.unlink()
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                        str(self.image), str(self.disk), size], check=True)

    def command(self):
        # No -no-reboot: a reboot (the admin page, an OS update's fallback) goes on in the
        # same qemu and the same console log; only a power-off ends qemu.
        cmd = ["qemu-system-x86_64", "-m", self.memory, "-smp", "1", "-display", "none",
               "-serial", "stdio",
               "-monitor", f"unix:{self.monitor_path},server,nowait",
               "-drive", f"file={self.disk},if=virtio,format=qcow2",
               "-netdev", self.netdev(),
               "-device", "virtio-net-pci,netdev=n0", "-device", "virtio-rng-pci",
               "-fw_cfg", f"name=opt/silo/base_url,string={self.base_url}"]
        for name, kind, value in self.fw_cfg:
            cmd += ["-fw_cfg", f"name={name},{kind}={value}"]
        cmd += ["-accel", "kvm", "-cpu", "host"] if kvm_wanted() else ["-accel", "tcg"]
        if self.firmware == "uefi":
            cmd += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,file={self.vars}"]
        return cmd

    def netdev(self):
        """User networking: host forwards on 127.0.0.1 only, and each guest forward runs
        relay.py per connection (a chardev forward would carry one connection only)."""
        opts = ["user", "id=n0", f"hostfwd=tcp:127.0.0.1:{self.port}-:80",
                f"hostfwd=tcp:127.0.0.1:{self.tls_port}-:443"]
        relay = Path(__file__).resolve().parent / "relay.py"
        for addr, gport, hport in self.guest_forwards:
            # qemu splits options at commas: none may be in the command.
            cmd = f"{sys.executable} {relay} {hport}"
            if "," in cmd:
                raise ValueError(f"a comma in the guest forward's command: {cmd}")
            opts.append(f"guestfwd=tcp:{addr}:{gport}-cmd:{cmd}")
        return ",".join(opts)

    def boot(self):
        if self.monitor_path.exists():
            self.monitor_path.unlink()
        self.booted_at = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc):
        with open(self.log_path, "ab") as log:
            for raw in proc.stdout:
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                # Drop terminal escapes GRUB and SeaBIOS write, and the carriage returns
                # GRUB's serial terminal leaves in front of the first line after it.
                line = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1bc", "", line).lstrip("\r")
                self.times.append(time.monotonic() - self.booted_at)
                self.lines.append(line)
                if self.echo:
                    print(line, flush=True)

    def wait_line(self, pattern, timeout):
        """The first console line at or after the cursor matching pattern (re.search); moves
        the cursor past it. None on timeout or when qemu exits first."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            while self.cursor < len(self.lines):
                line = self.lines[self.cursor]
                self.cursor += 1
                m = rx.search(line)
                if m:
                    return m
            if time.monotonic() > end or (self.proc and self.proc.poll() is not None
                                          and self.cursor >= len(self.lines)):
                return None
            time.sleep(0.1)

    def seen(self, pattern):
        """Console lines so far (whole boot history) that match pattern."""
        rx = re.compile(pattern)
        return [line for line in self.lines if rx.search(line)]

    def monitor(self, cmd, timeout=10):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(str(self.monitor_path))
            s.recv(4096)   # the banner
            s.sendall(cmd.encode() + b"\n")
            time.sleep(0.5)

    def wait_exit(self, timeout):
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

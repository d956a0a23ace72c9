#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""relay.py PORT: one guest connection (qemu's guestfwd runs this per connection, the
connection on stdin/stdout) copied both ways to 127.0.0.1:PORT. Nothing may be printed:
stderr is the connection too."""
import os
import select
import socket
import sys


def main():
    guest = socket.socket(fileno=0)
    try:
        host = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    except OSError:
        return 1
    host.settimeout(None)
    open_ends = {guest: host, host: guest}
    while open_ends:
        ready, _, _ = select.select(list(open_ends), [], [], 300)
        if not ready:
            return 0   # both sides silent for 5 minutes
        for src in ready:
            data = src.recv(65536)
            dst = open_ends[src]
            if data:
                dst.sendall(data)
                continue
            # EOF one way: pass it on, keep reading the other way.
            del open_ends[src]
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError:
        os._exit(1)

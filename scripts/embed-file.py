#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes a C file defining `const char SYMBOL[]` with a text file's contents.
import sys

out, symbol, path = sys.argv[1:4]
data = open(path, "rb").read()
if b"\0" in data:
    sys.exit(f"embed-file: {path}: contains a NUL byte")
body = ",".join(str(b) for b in data)
with open(out, "w") as f:
    f.write(f"// Generated from {path} by scripts/embed-file.py; do not edit.\n")
    f.write(f"const char {symbol}[] = {{{body}{',' if data else ''}0}};\n")

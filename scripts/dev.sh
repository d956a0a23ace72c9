#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Starts the native `silo serve` for development, with its data in build/dev-data.
# SILO_LISTEN and SILO_DATA override the address and the data directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
listen=${SILO_LISTEN:-127.0.0.1:8080}
data=${SILO_DATA:-$top/build/dev-data}
mkdir -p "$data"
echo "silo: data in $data; stop with Ctrl-C"
# silo.localhost and its subdomains (the grains' session hosts) reach loopback in browsers.
port=${listen##*:}
exec "$top/build/silo" serve --data "$data" --listen "$listen" \
  --base-url "${SILO_BASE_URL:-http://silo.localhost:$port}" "$@"

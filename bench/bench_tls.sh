#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`, the TLS part: silo's HTTPS against nginx with the same ECDSA P-256 key and
# certificate (silo's self-signed one), both on loopback ports the kernel chose, in the
# same run: full handshakes per second (a new connection each, `openssl s_time -new`),
# resumed handshakes per second (`s_time -reuse`), and requests per second over keep-alive
# HTTPS for silo's login page against a static file of the same size (wrk). TLS 1.2 with
# ECDHE-ECDSA-AES128-GCM-SHA256 on both (silo offers TLS 1.2 only). Targets (issue #6):
# full >= 0.8x nginx, resumed >= 1.0x, keep-alive requests >= 1.0x.
#
# Environment: SILO_BIN (default build/silo), BENCH_SECONDS (per measurement, default 10),
# BENCH_THREADS / BENCH_CONNS (wrk, default 2 / 64), NGINX, WRK, OPENSSL.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
silo=${SILO_BIN:-$top/build/silo}
secs=${BENCH_SECONDS:-10}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNS:-64}
nginx_bin=${NGINX:-nginx}
wrk_bin=${WRK:-wrk}
openssl_bin=${OPENSSL:-openssl}
py=${PYTHON:-python3}
cipher=ECDHE-ECDSA-AES128-GCM-SHA256

die() { echo "bench_tls: $*" >&2; exit 1; }
[ -x "$silo" ] || die "$silo is not built (run make)"
for b in "$wrk_bin" "$nginx_bin" "$openssl_bin"; do
  command -v "$b" >/dev/null || die "$b is not installed (scripts/deps.sh installs it)"
done
for v in "$secs" "$threads" "$conns"; do
  [[ "$v" =~ ^[0-9]+$ ]] || die "BENCH_* values must be whole numbers"
done

work=$(mktemp -d /tmp/silo-bench-tls.XXXXXX)
chmod 711 "$work"
silo_pid=""
nginx_pid=""
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
cleanup() {
  stop_pid "$silo_pid" TERM
  stop_pid "$nginx_pid" QUIT
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# https_get PORT PATH [OUTFILE]: the status of a GET over TLS (no verification; the
# certificate is the one under test), "000" when it failed.
https_get() {
  "$py" - "$1" "$2" "${3:-/dev/null}" <<'PYEOF'
import http.client, ssl, sys
ctx = ssl._create_unverified_context()
try:
    c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), timeout=5, context=ctx)
    c.request("GET", sys.argv[2])
    r = c.getresponse()
    body, code = r.read(), r.status
except OSError:
    body, code = b"", 0
open(sys.argv[3], "wb").write(body)
print("%03d" % code)
PYEOF
}

wait_ready() {  # PORT PATH PID
  for _ in $(seq 200); do
    kill -0 "$3" 2>/dev/null || return 1
    [ "$(https_get "$1" "$2")" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}

# conns/sec from s_time's "N connections in X real seconds" line.
s_rate() {
  timeout $((secs + 30)) "$openssl_bin" s_time -connect "127.0.0.1:$2" "$1" -tls1_2 \
    -cipher "$cipher" -time "$secs" 2>/dev/null |
    awk '/connections in [0-9.]+ real seconds/ { n = $1; t = $4; if (t > 0) { printf "%.0f\n", n / t; exit } }'
}

run_wrk() {  # URL: req/s
  timeout $((secs + 60)) "$wrk_bin" -t"$threads" -c"$conns" -d"${secs}s" "$1" |
    awk '/^Requests\/sec:/ { print $2 }'
}

echo "bench_tls: silo $("$silo" version 2>/dev/null | awk '{print $2}') vs $("$nginx_bin" -v 2>&1 | sed 's/.*: //'), TLS 1.2 $cipher, ECDSA P-256, ${secs}s each, $(nproc) cores"

silo_port=$(free_port)
silo_tls=$(free_port)
mkdir -p "$work/data"
"$silo" serve --data "$work/data" --listen "127.0.0.1:$silo_port" \
  --listen-tls "127.0.0.1:$silo_tls" 2>"$work/silo.log" &
silo_pid=$!
wait_ready "$silo_tls" /api/v1/status "$silo_pid" ||
  die "silo did not start; its log: $(tail -n 5 "$work/silo.log")"
code=$(https_get "$silo_tls" /login "$work/login.html")
[ "$code" = 200 ] || die "GET /login over TLS answered $code"
size=$(stat -c %s "$work/login.html")

# nginx with silo's own key and certificate.
mkdir -p "$work/nginx/tmp" "$work/www"
cp "$work/data/tls/self.key" "$work/nginx/key.pem"
cp "$work/data/tls/self.crt" "$work/nginx/cert.pem"
head -c "$size" /dev/zero | tr '\0' 'x' >"$work/www/login.html"
chmod 755 "$work/www" && chmod 644 "$work/www/login.html"
nginx_port=$(free_port)
sed -e "s|@PREFIX@|$work/nginx|g" -e "s|@ROOT@|$work/www|g" -e "s|@PORT@|$nginx_port|g" \
  -e "s|@CERT@|$work/nginx/cert.pem|g" -e "s|@KEY@|$work/nginx/key.pem|g" \
  "$top/bench/nginx-tls.conf.in" >"$work/nginx/nginx.conf"
"$nginx_bin" -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" \
  2>>"$work/nginx/error.log" &
nginx_pid=$!
wait_ready "$nginx_port" /login.html "$nginx_pid" ||
  die "nginx did not start; its log: $(tail -n 5 "$work/nginx/error.log")"

s_full=$(s_rate -new "$silo_tls")
n_full=$(s_rate -new "$nginx_port")
s_res=$(s_rate -reuse "$silo_tls")
n_res=$(s_rate -reuse "$nginx_port")
s_rps=$(run_wrk "https://127.0.0.1:$silo_tls/login")
n_rps=$(run_wrk "https://127.0.0.1:$nginx_port/login.html")

echo
printf '%-40s %10s %10s %8s %8s\n' "" "silo" "nginx" "ratio" "target"
row() {
  awk -v n="$1" -v a="$2" -v b="$3" -v t="$4" 'BEGIN {
    r = (b > 0 ? a / b : 0)
    printf "%-40s %10.0f %10.0f %8.2f %7.1fx %s\n", n, a, b, r, t, (r >= t ? "met" : "NOT met") }'
}
row "full handshakes/s (s_time -new)" "${s_full:-0}" "${n_full:-0}" 0.8
row "resumed handshakes/s (s_time -reuse)" "${s_res:-0}" "${n_res:-0}" 1.0
row "keep-alive HTTPS req/s ($size B page)" "${s_rps:-0}" "${n_rps:-0}" 1.0

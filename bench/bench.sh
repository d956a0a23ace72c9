#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: silo's login page against nginx serving a static file of the same size, both
# on loopback ports the kernel chose, measured with wrk; also silo's idle memory and the
# stripped size of its binary. Results go to stdout (docs/BENCHMARKS.md records a run).
#
# Environment: SILO_BIN (default build/silo), BENCH_SECONDS (per measurement, default 10),
# BENCH_WARMUP (seconds of warm-up before each, default 2), BENCH_THREADS (wrk threads,
# default 2), BENCH_CONNS (connections, default 64), BENCH_VERBOSE=1 (show wrk's own output),
# NGINX (default nginx), WRK (default wrk).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
silo=${SILO_BIN:-$top/build/silo}
secs=${BENCH_SECONDS:-10}
warm=${BENCH_WARMUP:-2}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNS:-64}
nginx_bin=${NGINX:-nginx}
wrk_bin=${WRK:-wrk}
py=${PYTHON:-python3}

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$silo" ] || die "$silo is not built (run make)"
command -v "$wrk_bin" >/dev/null || die "wrk is not installed (scripts/deps.sh installs it)"
command -v "$nginx_bin" >/dev/null || die "nginx is not installed (scripts/deps.sh installs it)"
for v in "$secs" "$warm" "$threads" "$conns"; do
  [[ "$v" =~ ^[0-9]+$ ]] || die "BENCH_* values must be whole numbers"
done

work=$(mktemp -d /tmp/silo-bench.XXXXXX)
chmod 755 "$work"   # nginx's worker may run as another user and must read the file
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

# http_get URL [OUTFILE]: status code of a GET (body to OUTFILE), "000" when it failed.
http_get() {
  "$py" - "$1" "${2:-/dev/null}" <<'EOF'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        body, code = r.read(), r.status
except urllib.error.HTTPError as e:
    body, code = e.read(), e.code
except OSError:
    body, code = b"", 0
open(sys.argv[2], "wb").write(body)
print("%03d" % code)
EOF
}

wait_ready() {  # URL PID
  for _ in $(seq 200); do
    kill -0 "$2" 2>/dev/null || return 1
    [ "$(http_get "$1")" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}

# silo is two processes: the privileged parent and its child, the front. RSS is their sum.
rss_one() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
pss_one() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
sum_tree() {
  local total kid
  total=$("$1" "$2")
  for kid in $(pgrep -P "$2"); do total=$((total + $("$1" "$kid"))); done
  echo "$total"
}
# "RSS / PSS": pages the two share after the fork count twice in RSS, once in PSS.
rss_kib() { echo "$(sum_tree rss_one "$1") / $(sum_tree pss_one "$1")"; }

# run_wrk NAME URL: a bounded warm-up, then the measurement; prints "req/s p99_ms non2xx".
run_wrk() {
  local name=$1 url=$2 out=$work/wrk.$1.txt
  if [ "$warm" -gt 0 ]; then
    timeout $((warm + 30)) "$wrk_bin" -t"$threads" -c"$conns" -d"${warm}s" "$url" >/dev/null
  fi
  timeout $((secs + 60)) "$wrk_bin" -t"$threads" -c"$conns" -d"${secs}s" --latency "$url" >"$out"
  [ -z "${BENCH_VERBOSE:-}" ] || sed "s/^/wrk $name: /" "$out" >&2
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /Socket errors:/ { errs = $0 }
    END { printf "%s %s %s\n", rps, p99, bad + 0 }
  ' "$out"
}

echo "bench: silo $("$silo" version 2>/dev/null | awk '{print $2}') vs $("$nginx_bin" -v 2>&1 | sed 's/.*: //'), wrk -t$threads -c$conns -d${secs}s (warm-up ${warm}s), $(nproc) cores"

# --- silo, set up so that /login is the real page ---
silo_port=$(free_port)
mkdir -p "$work/data"
"$silo" serve --data "$work/data" --listen "127.0.0.1:$silo_port" 2>"$work/silo.log" &
silo_pid=$!
wait_ready "http://127.0.0.1:$silo_port/api/v1/status" "$silo_pid" ||
  die "silo did not start; its log: $(tail -n 5 "$work/silo.log")"
rss_start=$(rss_kib "$silo_pid")
token=$(sed -n 's|^silo: setup: .*/setup/\([0-9a-f]\{64\}\)$|\1|p' "$work/silo.log" | head -n 1)
[ -n "$token" ] || die "silo printed no setup line"
"$py" - "$silo_port" "$token" <<'EOF' || die "setup through the API failed"
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
c.request("POST", "/api/v1/setup", json.dumps({"token": sys.argv[2], "name": "bench",
          "password": "benchmark password", "server_name": "bench"}),
          {"Content-Type": "application/json"})
r = c.getresponse()
r.read()
sys.exit(0 if r.status == 201 else 1)
EOF
rss_setup=$(rss_kib "$silo_pid")
code=$(http_get "http://127.0.0.1:$silo_port/login" "$work/login.html")
[ "$code" = 200 ] || die "GET /login answered $code"
size=$(stat -c %s "$work/login.html")

# --- nginx, one worker, a static file of the same size ---
mkdir -p "$work/nginx/tmp" "$work/www"
head -c "$size" /dev/zero | tr '\0' 'x' >"$work/www/login.html"
chmod -R a+rX "$work/www"
nginx_port=$(free_port)
sed -e "s|@PREFIX@|$work/nginx|g" -e "s|@ROOT@|$work/www|g" -e "s|@PORT@|$nginx_port|g" \
  "$top/bench/nginx.conf.in" >"$work/nginx/nginx.conf"
"$nginx_bin" -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" \
  2>>"$work/nginx/error.log" &
nginx_pid=$!
wait_ready "http://127.0.0.1:$nginx_port/login.html" "$nginx_pid" ||
  die "nginx did not start; its log: $(tail -n 5 "$work/nginx/error.log")"

echo "bench: silo GET /login is $size bytes; nginx serves a $size-byte static file;" \
  "nginx runs worker_processes 1 to match silo's single event-loop thread;" \
  "both log each request to a file"

read -r s_rps s_p99 s_bad < <(run_wrk silo "http://127.0.0.1:$silo_port/login")
sleep 0.5
rss_after=$(rss_kib "$silo_pid")
read -r n_rps n_p99 n_bad < <(run_wrk nginx "http://127.0.0.1:$nginx_port/login.html")

cp "$silo" "$work/silo.stripped"
strip "$work/silo.stripped"
stripped=$(stat -c %s "$work/silo.stripped")

echo
printf '%-26s %12s %10s\n' "" "req/s" "p99 (ms)"
printf '%-26s %12.0f %10.2f\n' "silo GET /login" "$s_rps" "$s_p99"
printf '%-26s %12.0f %10.2f\n' "nginx static, same size" "$n_rps" "$n_p99"
awk -v a="$s_rps" -v b="$n_rps" -v c="$s_p99" -v d="$n_p99" 'BEGIN {
  printf "%-26s %12.2f %10.2f\n", "ratio silo/nginx", (b > 0 ? a / b : 0), (d > 0 ? c / d : 0) }'
echo
[ "$s_bad" = 0 ] || echo "warning: silo answered $s_bad non-2xx/3xx responses"
[ "$n_bad" = 0 ] || echo "warning: nginx answered $n_bad non-2xx/3xx responses"
echo "silo memory, parent + front, RSS / PSS in KiB: ${rss_start} after startup, ${rss_setup} after setup, ${rss_after} after the load"
echo "silo binary: $(stat -c %s "$silo") bytes, $stripped bytes stripped"

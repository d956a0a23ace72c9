#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`, second part: grains. On one fresh silo with the notes package installed, and
# in the same run:
#   1. cold start: time to first byte of GET PATH to a stopped notes grain minus the same
#      request to the running grain (median of BENCH_COLD_RUNS; stopped by the idle stop,
#      grain_idle_timeout = 1), then the same with a fresh grain each run (the first-start
#      path); next to bwrap starting the same notes binary with comparable isolation;
#   2. proxy throughput: wrk on GET PATH through silo to the running grain (its session host)
#      vs straight to a notes process on the host vs nginx as a reverse proxy to that process
#      (as is, and adding the identity headers silo sends, so notes does the same work behind
#      both), in BENCH_ROUNDS alternating rounds (the machine's load moves between them: each ratio
#      is taken within a round, and the medians are reported), with each process's CPU time
#      per request split into user and system (kernel) time;
#   3. memory of the grain's silo-bridge (the sandbox's PID 1), beside other idle grains
#      (bridges share their text pages: PSS is what one more grain costs).
# Needs root (real sandboxes) and `make apps`. Results go to stdout (docs/BENCHMARKS.md
# records a run). Only 127.0.0.1, ports from the kernel, everything it starts is stopped by
# pid at the end.
#
# Environment: as bench/bench.sh (SILO_BIN, BENCH_SECONDS, BENCH_WARMUP, BENCH_THREADS,
# BENCH_CONNS, BENCH_VERBOSE, NGINX, WRK, PYTHON), plus BENCH_PERF (a file for a perf profile
# of the front during the first silo round), BENCH_COLD_RUNS (default 20), BENCH_ROUNDS
# (default 3),
# BENCH_GRAIN_PATH (the request, default /api/whoami), BENCH_MEM_GRAINS (idle grains started
# beside the measured one for the memory figures, default 3), BWRAP (default bwrap).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
silo=${SILO_BIN:-$top/build/silo}
secs=${BENCH_SECONDS:-10}
warm=${BENCH_WARMUP:-2}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNS:-64}
runs=${BENCH_COLD_RUNS:-20}
rounds=${BENCH_ROUNDS:-3}
mem_grains=${BENCH_MEM_GRAINS:-3}
path=${BENCH_GRAIN_PATH:-/api/whoami}
nginx_bin=${NGINX:-nginx}
wrk_bin=${WRK:-wrk}
bwrap_bin=${BWRAP:-bwrap}
py=${PYTHON:-python3}
gb=$top/bench/grainbench.py

die() { echo "bench_grains: $*" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
  echo "bench_grains: skipped: grains need real sandboxes (namespaces, cgroups, uids): run as root"
  exit 0
fi
[ -x "$silo" ] || die "$silo is not built (run make)"
[ -x "$(dirname "$silo")/silo-bridge" ] || die "silo-bridge is not built next to $silo (run make)"
[ -f "$top/build/apps/notes.spk" ] || die "build/apps/notes.spk is not built (run make apps)"
for b in "$wrk_bin" "$nginx_bin" "$bwrap_bin"; do
  command -v "$b" >/dev/null || die "$b is not installed (scripts/deps.sh installs it)"
done
for v in "$secs" "$warm" "$threads" "$conns" "$runs" "$mem_grains" "$rounds"; do
  [[ "$v" =~ ^[0-9]+$ ]] || die "BENCH_* values must be whole numbers"
done
[ "$runs" -ge 1 ] || die "BENCH_COLD_RUNS must be at least 1"
[ "$rounds" -ge 1 ] || die "BENCH_ROUNDS must be at least 1"
[[ "$path" =~ ^/[A-Za-z0-9/._-]*$ ]] || die "BENCH_GRAIN_PATH must be a plain path"

work=$(mktemp -d /tmp/silo-bench-grains.XXXXXX)
chmod 755 "$work"   # silo's front (its own uid) must pass through to the data directory
data=$work/data
silo_pid=""
nginx_pid=""
notes_pid=""
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
cleanup() {
  stop_pid "$silo_pid" TERM      # silo stops its grains (and removes their cgroups) itself
  stop_pid "$nginx_pid" QUIT
  stop_pid "$notes_pid" TERM
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# http_get URL: "STATUS BODY_BYTES" of a GET ("000 0" when it failed).
http_get() {
  "$py" - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        body, code = r.read(), r.status
except urllib.error.HTTPError as e:
    body, code = e.read(), e.code
except OSError:
    body, code = b"", 0
print("%03d %d" % (code, len(body)))
EOF
}

# start_silo IDLE_TIMEOUT NAME: silo on a fresh port, its shell at silo.localhost:PORT.
start_silo() {
  local conf=$work/silo.$2.conf
  printf 'grain_idle_timeout = %s\nmax_conns_per_addr = 1024\n' "$1" >"$conf"
  silo_port=$(free_port)
  silo_log=$work/silo.$2.log
  "$silo" serve --data "$data" --listen "127.0.0.1:$silo_port" \
    --base-url "http://silo.localhost:$silo_port" --config "$conf" 2>"$silo_log" &
  silo_pid=$!
  for _ in $(seq 200); do
    kill -0 "$silo_pid" 2>/dev/null || break
    if "$py" - "$silo_port" <<'EOF'
import http.client, sys
try:
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=2)
    c.request("GET", "/api/v1/status", headers={"Host": f"silo.localhost:{sys.argv[1]}"})
    sys.exit(0 if c.getresponse().status == 200 else 1)
except OSError:
    sys.exit(1)
EOF
    then return 0; fi
    sleep 0.05
  done
  die "silo did not start; its log: $(tail -n 5 "$silo_log")"
}

# Memory of one process: "VmRSS Rss Pss Private" in KiB (smaps_rollup; Private = clean + dirty).
mem_of() {
  awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
  awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {v += $2}
       END {print r, p, v}' "/proc/$1/smaps_rollup"
}

# CPU time of each pid, in clock ticks, one line: "user system" per pid.
hz=$(getconf CLK_TCK)
ticks() { local p; for p in "$@"; do awk '{printf "%d %d ", $14, $15}' "/proc/$p/stat"; done; echo; }

# run_wrk NAME URL "PIDS" WARM [wrk args...]: WARM seconds of warm-up (0: none), then the
# measurement; prints "req/s p99_ms non2xx errors", and writes to $work/cpu.NAME the CPU
# microseconds per request each of PIDS spent during the measurement, as "user system" pairs.
run_wrk() {
  local name=$1 url=$2 pids=$3 w=$4 out=$work/wrk.$1.txt before after
  shift 4
  if [ "$w" -gt 0 ]; then
    timeout $((w + 30)) "$wrk_bin" -t"$threads" -c"$conns" -d"${w}s" "$@" "$url" >/dev/null
  fi
  # shellcheck disable=SC2086
  before=$(ticks $pids)
  timeout $((secs + 60)) "$wrk_bin" -t"$threads" -c"$conns" -d"${secs}s" --latency "$@" "$url" >"$out"
  # shellcheck disable=SC2086
  after=$(ticks $pids)
  [ -z "${BENCH_VERBOSE:-}" ] || sed "s/^/wrk $name: /" "$out" >&2
  awk -v b="$before" -v a="$after" -v hz="$hz" '
    / requests in / { n = $1 }
    END {
      k = split(b, x, " "); split(a, y, " ")
      for (i = 1; i <= k; i++) printf "%.1f ", (n > 0 ? (y[i] - x[i]) * 1e6 / hz / n : 0)
      print ""
    }' "$out" >"$work/cpu.$name"
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
    /Socket errors:/ { for (i = 4; i <= NF; i += 2) { v = $i; sub(/,/, "", v); errs += v } }
    END { printf "%s %s %s %s\n", rps, p99, bad + 0, errs + 0 }
  ' "$out"
}

echo "bench_grains: silo $("$silo" version 2>/dev/null | awk '{print $2}'), $("$bwrap_bin" --version)," \
  "$("$nginx_bin" -v 2>&1 | sed 's/.*: //'), wrk -t$threads -c$conns -d${secs}s (warm-up ${warm}s)," \
  "$(nproc) cores; GET $path; $runs cold-start runs"

# --- 1. Cold start: silo (idle stop after 1 s) and bwrap ---
start_silo 1 cold
"$py" "$gb" cold "$silo_port" "$silo_log" "$data" "$work/state.json" "$runs" "$path" \
  >"$work/cold.txt" || die "the cold-start runs failed; silo's log: $(tail -n 5 "$silo_log")"
"$py" "$gb" bwrap "$work/state.json" "$work" "$runs" "$path" >>"$work/cold.txt" ||
  die "the bwrap runs failed"
stop_pid "$silo_pid" TERM
silo_pid=""
"$py" "$gb" cgattach 10 >>"$work/cold.txt" || die "the cgroup attach runs failed"
val() { sed -n "s/^$1=//p" "$work/cold.txt"; }

# --- 2. Throughput: silo (same data, default idle stop) vs the app direct vs nginx ---
start_silo 300 load
read -r grain_host grain_cookie bridge_pid extra_pids < <("$py" "$gb" session "$silo_port" \
  "$silo_log" "$work/state.json" "$path" "$mem_grains") ||
  die "opening the grain failed; silo's log: $(tail -n 5 "$silo_log")"
if [ -z "$bridge_pid" ] || [ "$bridge_pid" = 0 ]; then die "no 'grain started' line in silo's log"; fi
package_id=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["package_id"])' \
  "$work/state.json")
notes_bin=$data/apps/$package_id/notes   # the very binary the grain runs

mkdir -p "$work/direct"
"$notes_bin" --port 0 --data "$work/direct" 2>"$work/direct.log" &
notes_pid=$!
notes_port=""
for _ in $(seq 200); do
  notes_port=$(sed -n 's/^notes: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/direct.log")
  [ -n "$notes_port" ] && break
  kill -0 "$notes_pid" 2>/dev/null || break
  sleep 0.05
done
[ -n "$notes_port" ] || die "notes did not start: $(tail -n 3 "$work/direct.log")"

mkdir -p "$work/nginx/tmp"
nginx_port=$(free_port)
nginx_id_port=$(free_port)
sed -e "s|@PREFIX@|$work/nginx|g" -e "s|@PORT@|$nginx_port|g" -e "s|@UPSTREAM@|$notes_port|g" \
  -e "s|@PORT_ID@|$nginx_id_port|g" -e "s|@GRAIN_HOST@|$grain_host|g" \
  "$top/bench/nginx-proxy.conf.in" >"$work/nginx/nginx.conf"
"$nginx_bin" -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" \
  2>>"$work/nginx/error.log" &
nginx_pid=$!
for _ in $(seq 200); do
  kill -0 "$nginx_pid" 2>/dev/null || die "nginx did not start: $(tail -n 3 "$work/nginx/error.log")"
  [ "$(http_get "http://127.0.0.1:$nginx_port$path" | awk '{print $1}')" = 200 ] && break
  sleep 0.05
done
nginx_worker=$(pgrep -P "$nginx_pid" | head -n 1)

# The bridge: the grain's init, a child of silo's privileged parent, running /silo-bridge.
is_bridge() {
  [ "$(awk '{print $4}' "/proc/$1/stat")" = "$silo_pid" ] &&
    [ "$(tr '\0' ' ' <"/proc/$1/cmdline" | awk '{print $1}')" = /silo-bridge ]
}
is_bridge "$bridge_pid" || die "pid $bridge_pid is not /silo-bridge, a child of silo's parent $silo_pid"
app_pid=$(pgrep -P "$bridge_pid" | head -n 1)
# The front: the parent's child under its own uid (the spare grain init a v1 host keeps runs as
# root until it becomes a grain).
front_pid=$(ps -o pid=,uid= --ppid "$silo_pid" | awk '$2 != 0 {print $1; exit}')
mem_idle=$(mem_of "$bridge_pid" | tr '\n' ' ')

# BENCH_PERF=FILE: a perf profile of the front during the first silo round.
perf_pid=""
if [ -n "${BENCH_PERF:-}" ]; then
  perf record -F 1999 -g -p "$front_pid" -o "$BENCH_PERF" -- sleep $((warm + secs)) \
    >/dev/null 2>&1 &
  perf_pid=$!
fi
# Rounds of silo, direct, nginx in turn; the warm-up only before each one's first round.
: >"$work/rounds.txt"
for r in $(seq "$rounds"); do
  w=$warm
  [ "$r" = 1 ] || w=0
  read -r rps p99 bad err < <(run_wrk "silo.$r" "http://127.0.0.1:$silo_port$path" \
    "$front_pid $bridge_pid $app_pid $silo_pid" "$w" \
    -H "Host: $grain_host" -H "Cookie: silo_grain=$grain_cookie")
  echo "$r silo $rps $p99 $bad $err" >>"$work/rounds.txt"
  [ -z "$perf_pid" ] || { wait "$perf_pid" || true; perf_pid=""; }
  kill -0 "$bridge_pid" 2>/dev/null || die "the grain's bridge is gone after the load"
  [ "$r" != 1 ] || mem_load=$(mem_of "$bridge_pid" | tr '\n' ' ')
  read -r rps p99 bad err < <(run_wrk "direct.$r" "http://127.0.0.1:$notes_port$path" "$notes_pid" "$w")
  echo "$r direct $rps $p99 $bad $err" >>"$work/rounds.txt"
  read -r rps p99 bad err < <(run_wrk "nginx.$r" "http://127.0.0.1:$nginx_port$path" \
    "$nginx_worker $notes_pid" "$w")
  echo "$r nginx $rps $p99 $bad $err" >>"$work/rounds.txt"
  read -r rps p99 bad err < <(run_wrk "nginxid.$r" "http://127.0.0.1:$nginx_id_port$path" \
    "$nginx_worker $notes_pid" "$w")
  echo "$r nginxid $rps $p99 $bad $err" >>"$work/rounds.txt"
done
app_mem=$(mem_of "$app_pid" | tr '\n' ' ')
# Every bridge running now: the loaded one and the idle extra grains'.
mem_all=$(for p in $bridge_pid ${extra_pids//,/ }; do
  [ "$p" = - ] || { is_bridge "$p" && mem_of "$p" | tr '\n' ' ' && echo; }; done)
# median FIELD NAME: the median over the rounds of a column of rounds.txt for one setup.
median() {
  awk -v f="$1" -v n="$2" '$2 == n { print $f }' "$work/rounds.txt" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
# Sums of the non-2xx answers and socket errors over the rounds, per setup.
total() { awk -v f="$1" -v n="$2" '$2 == n { t += $f } END { print t + 0 }' "$work/rounds.txt"; }
read -r s_rps s_p99 s_bad s_err <<<"$(median 3 silo) $(median 4 silo) $(total 5 silo) $(total 6 silo)"
read -r d_rps d_p99 d_bad d_err <<<"$(median 3 direct) $(median 4 direct) $(total 5 direct) $(total 6 direct)"
read -r n_rps n_p99 n_bad n_err <<<"$(median 3 nginx) $(median 4 nginx) $(total 5 nginx) $(total 6 nginx)"
read -r i_rps i_p99 i_bad i_err <<<"$(median 3 nginxid) $(median 4 nginxid) $(total 5 nginxid) $(total 6 nginxid)"
# The ratios within each round, and their medians.
ratios=$(awk '{ v[$1, $2] = $3; r[$1] = 1 } END {
  for (i in r) printf "%s %.2f %.2f %.2f %.2f\n", i, v[i, "silo"] / v[i, "direct"],
    v[i, "silo"] / v[i, "nginx"], v[i, "nginx"] / v[i, "direct"], v[i, "silo"] / v[i, "nginxid"]
}' "$work/rounds.txt" | sort -n)
rmed() {
  echo "$ratios" | awk -v f="$1" '{ print $f }' | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
# cpu_med NAME: the medians over the rounds of each "user system" figure in cpu.NAME.R.
cpu_med() {
  local i k
  k=$(awk '{ print NF; exit }' "$work/cpu.$1.1")
  for i in $(seq "$k"); do
    cat "$work"/cpu."$1".* | awk -v f="$i" '{ print $f }' | sort -g |
      awk '{ v[NR] = $1 } END { printf "%.1f ", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
  done
  echo
}
size=$(http_get "http://127.0.0.1:$notes_port$path" | awk '{print $2}')

# --- Report ---
echo
echo "1. Cold start, GET $path, ms (median of $(val restart_n) runs; cold = to a stopped grain," \
  "warm = the same request right after, both on fresh connections; start = cold - warm, per run)"
printf '%-46s %8s %8s %8s %15s\n' "" "cold" "warm" "start" "start min-max"
row() {
  printf '%-46s %8.2f %8.2f %8.2f %7.2f-%-7.2f\n' "$1" "$(val "$2_cold")" "$(val "$2_warm")" \
    "$(val "$2_diff")" "$(val "$2_diff_min")" "$(val "$2_diff_max")"
}
row "silo, stopped grain (idle stop), restart" restart
row "silo, fresh grain each run (first start)" fresh
row "bwrap --share-net, exec to first byte" bwrap
printf '%-46s %8s %8s %8.2f %7.2f-%-7.2f\n' "bwrap --unshare-net, exec to 'listening'" "" "" \
  "$(val bwrapnet_listen)" "$(val bwrapnet_min)" "$(val bwrapnet_max)"
awk -v s="$(val restart_diff)" -v f="$(val fresh_diff)" -v b="$(val bwrap_diff)" \
  -v n="$(val bwrapnet_listen)" 'BEGIN {
  printf "%-46s %8s %8s %8.2f\n", "ratio silo restart / bwrap --share-net", "", "", (b > 0 ? s / b : 0)
  printf "%-46s %8s %8s %8.2f\n", "ratio silo restart / bwrap --unshare-net", "", "", (n > 0 ? s / n : 0)
  printf "%-46s %8s %8s %8.2f\n", "ratio silo fresh / bwrap --share-net", "", "", (b > 0 ? f / b : 0) }'
echo "   restart, per run: start $(val restart_samples) ms"
echo "     sandbox_start (parent's 'grain ... started (N ms)' line): $(val restart_sandbox_samples) ms"
echo "     bridge's wait for the app's port ('accepts connections (after N ms)', 10 ms probes): $(val restart_probe_samples) ms"
echo "   fresh: median sandbox_start $(val fresh_sandbox) ms, port wait $(val fresh_probe) ms"
echo "   this kernel's cgroup attach (fork, write the pid to a fresh cgroup2 cgroup.procs after" \
  "0.3 s idle, as the sandbox does): median $(val cgattach) ms ($(val cgattach_samples))"
echo "   bwrap: $(val bwrap_cmd)"
echo "   bwrap --share-net: the app on the host's loopback, the request sent when notes prints that" \
  "it listens (no polling; 'listening' at $(val bwrap_listen) ms); --unshare-net (a new network" \
  "namespace, as a grain has) cannot be reached, so it is timed to that line. No seccomp, no cgroup."

echo
echo "2. Proxy throughput, GET $path ($size-byte body from notes), wrk -t$threads -c$conns" \
  "-d${secs}s, $rounds rounds of silo, direct, nginx, nginx with identity in turn (medians over the rounds)"
echo "   CPU us/request: user+system (kernel) time of each process"
printf '%-44s %10s %9s   %s\n' "" "req/s" "p99 (ms)" "CPU us/request"
# us U S: "U+S" (user+system) of one process.
us() { printf '%.1f+%.1f' "$1" "$2"; }
read -r c1 c2 c3 c4 c5 c6 c7 c8 <<<"$(cpu_med silo)"
printf '%-44s %10.0f %9.2f   %s\n' "silo -> grain (session host, bridge)" "$s_rps" "$s_p99" \
  "front $(us "$c1" "$c2") + bridge $(us "$c3" "$c4") + notes $(us "$c5" "$c6") + parent $(us "$c7" "$c8")"
silo_cpu=$(awk -v a="$c1" -v b="$c2" -v c="$c3" -v d="$c4" -v e="$c5" -v f="$c6" 'BEGIN {
  printf "%.1f us, of which the front and the bridge in the kernel %.1f", a + b + c + d + e + f, b + d }')
read -r c1 c2 <<<"$(cpu_med direct)"
printf '%-44s %10.0f %9.2f   %s\n' "notes direct (same binary, host loopback)" "$d_rps" "$d_p99" \
  "notes $(us "$c1" "$c2")"
read -r c1 c2 c3 c4 <<<"$(cpu_med nginx)"
printf '%-44s %10.0f %9.2f   %s\n' "nginx proxy -> notes direct (keepalive)" "$n_rps" "$n_p99" \
  "nginx $(us "$c1" "$c2") + notes $(us "$c3" "$c4")"
nginx_cpu=$(awk -v a="$c1" -v b="$c2" -v c="$c3" -v d="$c4" 'BEGIN { printf "%.1f us", a + b + c + d }')
read -r c1 c2 c3 c4 <<<"$(cpu_med nginxid)"
printf '%-44s %10.0f %9.2f   %s\n' "nginx proxy, adding silo's identity headers" "$i_rps" "$i_p99" \
  "nginx $(us "$c1" "$c2") + notes $(us "$c3" "$c4")"
nginxid_cpu=$(awk -v a="$c1" -v b="$c2" -v c="$c3" -v d="$c4" 'BEGIN { printf "%.1f us", a + b + c + d }')
printf '%-44s %10.2f   (rounds: %s)\n' "ratio silo/direct" "$(rmed 2)" "$(echo "$ratios" | awk '{ printf "%s ", $2 }')"
printf '%-44s %10.2f   (rounds: %s)\n' "ratio silo/nginx-proxy" "$(rmed 3)" "$(echo "$ratios" | awk '{ printf "%s ", $3 }')"
printf '%-44s %10.2f   (rounds: %s)\n' "ratio nginx-proxy/direct" "$(rmed 4)" "$(echo "$ratios" | awk '{ printf "%s ", $4 }')"
printf '%-44s %10.2f   (rounds: %s)\n' "ratio silo/nginx-proxy with identity headers" "$(rmed 5)" \
  "$(echo "$ratios" | awk '{ printf "%s ", $5 }')"
echo "   CPU per request through silo (front, bridge, notes): $silo_cpu;" \
  "through nginx (nginx, notes): $nginx_cpu; with the identity headers: $nginxid_cpu"
for r in "silo $s_bad $s_err" "direct $d_bad $d_err" "nginx $n_bad $n_err" "nginx-identity $i_bad $i_err"; do
  # shellcheck disable=SC2086
  set -- $r
  [ "$2" = 0 ] || echo "warning: $1 answered $2 non-2xx/3xx responses"
  [ "$3" = 0 ] || echo "warning: $1 had $3 socket errors"
done

echo
echo "3. Memory, KiB: VmRSS / Rss / Pss / Private (clean + dirty), from /proc/PID/status and smaps_rollup"
# shellcheck disable=SC2086
set -- $mem_idle
echo "   silo-bridge of the grain (pid $bridge_pid), before the load: $1 / $2 / $3 / $4"
# shellcheck disable=SC2086
set -- $mem_load
echo "   the same bridge after the load:              $1 / $2 / $3 / $4"
echo "$mem_all" | awk 'NF == 4 { n++; r += $1; p += $3; v += $4 } END {
  if (n) printf "   mean over the %d bridges running (%d idle):     %d / - / %d / %d\n", n, n - 1, r / n, p / n, v / n }'
# shellcheck disable=SC2086
set -- $app_mem
echo "   notes in the grain (pid $app_pid) after the load:   $1 / $2 / $3 / $4"

echo
# shellcheck disable=SC2086
set -- $mem_load
pss_mean=$(echo "$mem_all" | awk 'NF == 4 { n++; p += $3 } END { printf "%d", n ? p / n : 0 }')
awk -v c="$(val restart_diff)" -v f="$(val fresh_diff)" -v sd="$(rmed 2)" -v sn="$(rmed 3)" \
  -v r="$1" -v p="$pss_mean" -v k="$((mem_grains + 1))" 'BEGIN {
  printf "targets: cold start <= 20 ms: %.2f ms restart %s, %.2f ms fresh %s\n", c,
    (c <= 20 ? "met" : "MISSED"), f, (f <= 20 ? "met" : "MISSED")
  printf "targets: silo/direct >= 0.7: %.2f %s; silo/nginx-proxy >= 1.0: %.2f %s\n",
    sd, (sd >= 0.7 ? "met" : "MISSED"), sn, (sn >= 1.0 ? "met" : "MISSED")
  printf "targets: silo-bridge RSS <= 512 KiB: VmRSS %d KiB %s; PSS %d KiB with %d grains %s\n",
    r, (r <= 512 ? "met" : "MISSED"), p, k, (p <= 512 ? "met" : "MISSED") }'

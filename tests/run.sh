#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The `make check` test runner: runs every unit test binary (build/tests/, then the
# ASan+UBSan build in build/debug/tests/), then every integration test
# tests/integration/test_*.py against build/silo and again against build/debug/silo, and
# sums their TAP-like lines into one closing line `N passed, N failed`.
#
# Each program prints "ok N - ..." / "not ok N - ..." lines and its own counts. A program
# that exits non-zero without a "not ok" line of its own, or never prints its counts
# (a crash, a timeout, a sanitizer report at exit), counts as one more failure, named.
# Full logs go to build/test-logs/; this output shows a header per program and its failures.
#
# Environment: SILO_BINS (space-separated servers to test; default build/silo and
# build/debug/silo), PYTHON (default python3), TEST_FILTER (run only programs whose path
# contains it), UNIT_TIMEOUT / INTEGRATION_TIMEOUT / QEMU_TIMEOUT (seconds per program),
# SILO_QEMU=0 (skip booting the image in qemu).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logs=build/test-logs
rm -rf "$logs"
mkdir -p "$logs"
py=${PYTHON:-python3}
filter=${TEST_FILTER:-}
unit_timeout=${UNIT_TIMEOUT:-300}
integration_timeout=${INTEGRATION_TIMEOUT:-180}
# Sanitizers: stop at the first error with a stack, and make leaks fail the program.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
extra=()     # names of programs counted as an extra failure
t_start=$SECONDS

# run_program LABEL LOG TIMEOUT CMD...: runs one test program and adds up its lines.
run_program() {
  local label=$1 log=$2 limit=$3
  shift 3
  local t0=$SECONDS
  printf '== %s\n' "$label"
  # The braces keep bash's own "Segmentation fault" notice out of the output: the log and
  # the line below tell it.
  { timeout -k 5 "$limit" "$@" >"$log" 2>&1 </dev/null; } 2>/dev/null
  local rc=$?
  local p f summary
  p=$(grep -cE '^ok [0-9]+' "$log")
  f=$(grep -cE '^not ok [0-9]+' "$log")
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  grep -E '^not ok [0-9]+' "$log" | sed 's/^/   /'
  passed=$((passed + p))
  failed=$((failed + f))
  local why="" own=$f
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    why="timed out after ${limit}s"
  elif [ -z "$summary" ]; then
    why="ended (status $rc) without printing its counts"
  elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    why="exited with status $rc after all its checks passed"
  fi
  if [ -n "$why" ]; then
    own=$((own + 1))
    failed=$((failed + 1))
    extra+=("$label")
    printf '   not ok - %s %s (see %s)\n' "$label" "$why" "$log"
    grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|Segmentation|Aborted' "$log" |
      head -n 3 | sed 's/^/   # /'
  fi
  printf '   %d passed, %d failed (%ds)\n' "$p" "$own" "$((SECONDS - t0))"
}

# missing LABEL WHY: a program or binary that should be there and is not.
missing() {
  printf '== %s\n   not ok - %s\n' "$1" "$2"
  failed=$((failed + 1))
  extra+=("$1")
}

selected() {
  [ -z "$filter" ] || [[ "$1" == *"$filter"* ]]
}

# --- Unit tests, release then sanitizer builds (those built from tests/unit/*.c) ---
for dir in build/tests build/debug/tests; do
  for src in tests/unit/test_*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    bin=$dir/$name
    selected "$bin" || continue
    if [ ! -x "$bin" ]; then
      missing "unit: $bin" "$bin was not built"
      continue
    fi
    run_program "unit: $bin" "$logs/unit.${dir//\//_}.$name.log" "$unit_timeout" "$bin"
  done
done

# --- Integration tests, against each server binary ---
bins=${SILO_BINS:-build/silo build/debug/silo}
itests=()
for t in tests/integration/test_*.py; do
  [ -e "$t" ] && selected "$t" && itests+=("$t")
done
for bin in $bins; do
  ((${#itests[@]})) || break
  flavour=release
  [[ "$bin" == *debug* ]] && flavour=debug
  if [ ! -x "$bin" ]; then
    missing "integration ($bin)" "$bin was not built"
    continue
  fi
  abs=$bin
  [[ "$bin" == /* ]] || abs=$top/$bin
  for t in "${itests[@]}"; do
    name=$(basename "$t" .py)
    SILO_BIN=$abs SILO_TEST_LOGDIR=$top/$logs/servers \
      run_program "integration: $name ($bin)" "$logs/integration.$flavour.$name.log" \
      "$integration_timeout" "$py" "$t"
  done
done

# --- qemu: the appliance image booted (the fast subset; `make qemu-check` runs the matrix) ---
# first_boot: the wizard to a note over HTTPS with the console's fingerprint pinned, through
# a power-off; free_name: the wizard's free name, its wildcard certificate from pebble.
for name in first_boot free_name; do
  scenario=qemu-tests/scenarios/$name.txt
  [ "${SILO_QEMU:-1}" != 0 ] && selected "$scenario" || continue
  if [ ! -f build/silo.img ]; then
    missing "qemu: $name" "build/silo.img was not built (make image)"
  else
    run_program "qemu: $name (silo.img, bios)" "$logs/qemu.$name.log" \
      "${QEMU_TIMEOUT:-1200}" "$py" qemu-tests/run.py --image build/silo.img "$scenario"
  fi
done

echo
if [ "$failed" -gt 0 ]; then
  echo "Failures are listed above; full logs in $logs/ (server stderr in $logs/servers/)."
fi
if ((${#extra[@]})); then
  echo "Programs that did not finish cleanly:"
  printf '   %s\n' "${extra[@]}"
fi
echo "Test time: $((SECONDS - t_start))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

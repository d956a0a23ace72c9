#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make qemu-check`: builds the image of each kernel series and boots every scenario under
# each firmware; ends with the summed `N passed, N failed`.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
passed=0 failed=0
mkdir -p build/test-logs
for series in ${SERIES:-6.1 6.12}; do
  if ! image/build.sh "$series" >"build/test-logs/image-$series.log" 2>&1; then
    echo "not ok - image $series does not build (build/test-logs/image-$series.log)"
    failed=$((failed + 1))
    continue
  fi
  for fw in ${FIRMWARE:-bios uefi}; do
    log=build/test-logs/qemu-matrix.$series.$fw.log
    echo "== qemu: kernel $series, $fw"
    python3 qemu-tests/run.py --image "build/silo-$series.img" --firmware "$fw" \
      qemu-tests/scenarios/*.txt >"$log" 2>&1
    grep -E '^not ok' "$log" | sed 's/^/   /'
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ -z "$line" ]; then
      echo "   not ok - the run printed no counts (see $log)"
      failed=$((failed + 1))
      continue
    fi
    echo "   $line"
    passed=$((passed + ${line%% passed*}))
    f=${line#*passed, }
    failed=$((failed + ${f%% failed}))
  done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The OS updates the update scenarios upload, for one kernel series, signed with the key of
# this tree's images (build/keys/os-update.key):
#   build/test-updates/silo-SERIES-good.update      a working OS, version <silo>-update-test
#   build/test-updates/silo-SERIES-broken.update    an OS without silo: silo-init cannot start it
#   build/test-updates/silo-SERIES-tampered.update  the good one with one payload byte changed
# Usage: qemu-tests/updates.sh SERIES
set -euo pipefail
series=${1:?usage: updates.sh SERIES}
cd "$(dirname "$0")/.."
out=build/test-updates
mkdir -p $out
SILO_UPDATE_ONLY=$out/silo-$series-good.update SILO_OS_LABEL=update-test image/build.sh "$series"
SILO_UPDATE_ONLY=$out/silo-$series-broken.update SILO_OS_LABEL=broken SILO_OS_BROKEN=1 \
  image/build.sh "$series"
python3 - "$out/silo-$series-good.update" "$out/silo-$series-tampered.update" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[4096] ^= 0x01
open(sys.argv[2], "wb").write(data)
PY

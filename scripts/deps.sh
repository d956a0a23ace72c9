#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The dependency step: installs the Debian packages the build and tests need when missing,
# then builds the static libraries Debian does not ship (libcurl, libkmod) into build/deps/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/build/deps"
mkdir -p "$deps"

# Build and test packages. Keep this list the only place that names them.
pkgs=(
  build-essential clang lld llvm libclang-rt-dev pkg-config file dpkg-dev ca-certificates
  libsodium-dev libmbedtls-dev libsqlite3-dev libjansson-dev libseccomp-dev libcap-dev
  liblzma-dev zlib1g-dev musl-tools
  python3 valgrind wrk nginx procps iproute2 xz-utils bubblewrap
  pebble openssl curl
  python3-radicale python3-tz python3-caldav
  chromium chromium-driver
  qemu-system-x86 qemu-utils ovmf grub-pc-bin grub-efi-amd64-bin mtools dosfstools fdisk
  e2fsprogs kmod zstd
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # nginx starts itself on install; the bench runs its own instance.
  if command -v systemctl >/dev/null && systemctl is-active -q nginx 2>/dev/null; then
    systemctl stop nginx || true
  fi
  pkill -x nginx 2>/dev/null || true
fi

"$top/scripts/deps-curl.sh" "$deps"
"$top/scripts/deps-kmod.sh" "$deps"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches Debian's cloud kernel of a series with `apt-get download` and unpacks it (never
# installs it) into DIR/<series>/: vmlinuz, config, lib/modules/<release>/, release.
# Usage: kernel.sh SERIES DIR   (SERIES: 6.1 or 6.12)
set -euo pipefail
series=${1:?usage: kernel.sh SERIES DIR}
out=${2:?usage: kernel.sh SERIES DIR}

# The meta package that follows each series on Debian 12: 6.1 is the release's own kernel,
# 6.12 comes through bookworm-security.
case $series in
6.1) meta=linux-image-cloud-amd64 ;;
6.12) meta=linux-image-6.12-cloud-amd64 ;;
*) echo "kernel: unknown series '$series' (6.1 or 6.12)" >&2; exit 2 ;;
esac

dir=$out/$series
resolve() { apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1; }
pkg=$(resolve)
if [[ -z $pkg ]]; then
  apt-get update -qq
  pkg=$(resolve)
fi
if [[ -z $pkg ]]; then
  # No apt lists: keep an earlier download rather than fail.
  [[ -f $dir/release ]] && exit 0
  echo "kernel: apt knows no $meta; check /etc/apt/sources" >&2
  exit 1
fi
case $pkg in
linux-image-"$series".*) ;;
*) echo "kernel: $meta points at $pkg, not series $series" >&2; exit 1 ;;
esac
[[ -f $dir/package && $(cat "$dir/package") == "$pkg" ]] && exit 0

echo "kernel: fetching $pkg"
rm -rf "$dir"
mkdir -p "$dir/deb"
(cd "$dir/deb" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
deb=$(ls "$dir"/deb/*.deb)
dpkg-deb -x "$deb" "$dir/root"
release=$(ls "$dir/root/lib/modules")
# The package leaves modules.dep to depmod at install time.
depmod -b "$dir/root" "$release"
cp "$dir/root/boot/vmlinuz-$release" "$dir/vmlinuz"
cp "$dir/root/boot/config-$release" "$dir/config"
echo "$release" >"$dir/release"
rm -rf "$dir/deb" "$dir/root/boot" "$dir/root/usr"
echo "$pkg" >"$dir/package"

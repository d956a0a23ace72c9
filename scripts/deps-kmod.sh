#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds a static libkmod (xz support only) from Debian's kmod source package into DEPSDIR.
set -euo pipefail

mkdir -p "${1:?usage: deps-kmod.sh DEPSDIR}"
deps=$(cd "$1" && pwd)
pkg=kmod

# The newest source version in the local apt lists: no network, ~0.1s, empty without deb-src.
srcver() {
  local v best=
  for v in $(apt-cache showsrc --only-source "$pkg" 2>/dev/null | sed -n 's/^Version: //p'); do
    if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
  done
  echo "$best"
}

ver=$(srcver)
if [[ -f $deps/lib/libkmod.a ]]; then
  [[ -n $ver && -e $deps/.kmod-$ver ]] && exit 0
  # Source lists gone (deb-src turned off): keep the earlier build rather than go online.
  [[ -z $ver ]] && compgen -G "$deps/.kmod-*" >/dev/null && exit 0
fi

src=$deps/src
log=$src/kmod-build.log
mkdir -p "$src"
: >"$log"
run() {
  "$@" >>"$log" 2>&1 && return
  echo "deps-kmod: failed: $*" >&2
  tail -n 40 "$log" >&2
  exit 1
}

as_root() { if ((EUID)); then sudo "$@"; else "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
updated=
apt_update() { [[ -n $updated ]] || run as_root apt-get -o DPkg::Lock::Timeout=300 update -q; updated=1; }

# apt-get source needs deb-src entries; add them next to the Debian deb entries.
enable_deb_src() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    if [[ -f $f ]] && grep -qiE '^URIs:.*debian' "$f"; then
      as_root sed -i -E '/^Types:/{/deb-src/!s/\<deb\>/deb deb-src/}' "$f"
    fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    if [[ -f $f ]] && ! grep -qE '^[[:space:]]*deb-src[[:space:]]' "$f"; then
      as_root sed -i -E '/^[[:space:]]*deb[[:space:]].*debian/{p;s/^([[:space:]]*)deb/\1deb-src/}' "$f"
    fi
  done
}
if [[ -z $ver ]]; then
  echo "deps: enabling deb-src in the apt sources"
  enable_deb_src
  apt_update
  ver=$(srcver)
  [[ -n $ver ]] || { echo "deps-kmod: no source package '$pkg'; check deb-src in /etc/apt/sources*" >&2; exit 1; }
fi

# Debian's kmod source is a git snapshot without configure, hence the autotools.
missing=()
for p in dpkg-dev xz-utils gcc make libc6-dev binutils autoconf automake libtool pkg-config liblzma-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  apt_update
  run as_root apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
fi

echo "deps: building static libkmod $ver (xz) into $deps; log: $log"
start=$SECONDS
# A new Debian revision unpacks to the same directory name, so clear the old one first.
rm -rf "$src"/kmod-[0-9]* "$src"/kmod_*
cd "$src"
run apt-get source -q "$pkg=$ver"
dir=$(find "$src" -maxdepth 1 -type d -name 'kmod-[0-9]*' | head -n 1)
cd "$dir"

# As autogen.sh does; without gtk-doc an empty gtk-doc.make keeps automake happy.
if command -v gtkdocize >/dev/null; then
  run gtkdocize --docdir libkmod/docs
else
  touch libkmod/docs/gtk-doc.make
fi
run autoreconf --force --install
# configure is run only for config.h: libtool here refuses --enable-static.
run ./configure --prefix=/usr --sysconfdir=/etc --with-xz --without-zstd --without-openssl \
  --without-zlib --disable-tools --disable-manpages --disable-test-modules --disable-python

# The flags kmod's Makefile.am uses, plus the usual hardening.
cflags=(-O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fvisibility=hidden -fno-common
  -ffunction-sections -fdata-sections -include config.h -I. '-DSYSCONFDIR="/etc"')
read -ra lzma_cflags <<<"$(pkg-config --cflags liblzma)"
mkdir -p obj
objs=()
for c in libkmod/*.c shared/*.c; do
  o=obj/$(basename "${c%.c}").o
  run gcc "${cflags[@]}" "${lzma_cflags[@]}" -c "$c" -o "$o"
  objs+=("$o")
done

# Static linking ignores visibility, so shared/'s generic names (hash_new, array_append,
# strbuf_*...) would clash with the program's: merge into one object and keep only the
# public kmod_* symbols from libkmod.sym global.
sed -nE 's/^[[:space:]]*(kmod_[A-Za-z0-9_]+);.*/\1/p' libkmod/libkmod.sym >obj/public.syms
run ld -r -o obj/libkmod-all.o "${objs[@]}"
run objcopy --keep-global-symbols=obj/public.syms obj/libkmod-all.o
mkdir -p "$deps/lib" "$deps/include"
rm -f "$deps/lib/libkmod.a"
run ar rcs "$deps/lib/libkmod.a" obj/libkmod-all.o
install -m 644 libkmod/libkmod.h "$deps/include/libkmod.h"

rm -f "$deps"/.kmod-*
touch "$deps/.kmod-$ver"
echo "deps: libkmod $ver done in $((SECONDS - start))s"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds a static libcurl (HTTP/HTTPS only, mbedTLS) from Debian's curl source package into DEPSDIR.
set -euo pipefail

mkdir -p "${1:?usage: deps-curl.sh DEPSDIR}"
deps=$(cd "$1" && pwd)
pkg=curl

# The newest source version in the local apt lists: no network, ~0.1s, empty without deb-src.
srcver() {
  local v best=
  for v in $(apt-cache showsrc --only-source "$pkg" 2>/dev/null | sed -n 's/^Version: //p'); do
    if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
  done
  echo "$best"
}

ver=$(srcver)
if [[ -f $deps/lib/libcurl.a ]]; then
  [[ -n $ver && -e $deps/.curl-$ver ]] && exit 0
  # Source lists gone (deb-src turned off): keep the earlier build rather than go online.
  [[ -z $ver ]] && compgen -G "$deps/.curl-*" >/dev/null && exit 0
fi

src=$deps/src
log=$src/curl-build.log
mkdir -p "$src"
: >"$log"
run() {
  "$@" >>"$log" 2>&1 && return
  echo "deps-curl: failed: $*" >&2
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
  [[ -n $ver ]] || { echo "deps-curl: no source package '$pkg'; check deb-src in /etc/apt/sources*" >&2; exit 1; }
fi

# Only what this build uses; build-dep would pull in every TLS backend and test tool.
missing=()
for p in dpkg-dev xz-utils gcc make libc6-dev libmbedtls-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  apt_update
  run as_root apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
fi

echo "deps: building static libcurl $ver (HTTP/HTTPS, mbedTLS) into $deps; log: $log"
start=$SECONDS
# A new Debian revision unpacks to the same directory name, so clear the old one first.
rm -rf "$src"/curl-[0-9]* "$src"/curl_*
cd "$src"
run apt-get source -q "$pkg=$ver"
dir=$(find "$src" -maxdepth 1 -type d -name 'curl-[0-9]*' | head -n 1)
cd "$dir"

# Debian's patches touch configure.ac and Makefile.am only for features we turn off
# (gssapi, ldap, the gnutls/nss flavours); maintainer mode is off, so the shipped
# configure and Makefile.in are used as they are and no autoreconf is needed.
# netrc is off too: silo never reads ~/.netrc, and it drags getpwuid_r (NSS) into a static link.
run ./configure --prefix="$deps" --disable-shared --enable-static \
  --disable-dependency-tracking --disable-manual --disable-libcurl-option \
  --with-mbedtls --without-openssl --without-gnutls --without-wolfssl \
  --enable-http --disable-ftp --disable-file --disable-ldap --disable-ldaps \
  --disable-rtsp --disable-dict --disable-telnet --disable-tftp --disable-pop3 \
  --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
  --disable-ntlm-wb --disable-netrc --without-zlib --without-brotli --without-zstd \
  --without-libidn2 --without-libpsl --without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-quiche \
  --without-msh3 --without-libssh2 --without-libssh --without-wolfssh --without-librtmp \
  --without-gssapi --without-libgsasl --without-hyper \
  --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path \
  CFLAGS="-O2 -fstack-protector-strong" CPPFLAGS="-D_FORTIFY_SOURCE=2"
# Library only: the curl tool is not needed.
run make -j2 -C lib
run make -C lib install
run make -C include install
run make install-binSCRIPTS install-pkgconfigDATA
rm -f "$deps"/lib/libcurl.la

rm -f "$deps"/.curl-*
touch "$deps/.curl-$ver"
echo "deps: libcurl $ver done in $((SECONDS - start))s"

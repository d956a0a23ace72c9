#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds Radicale's package root by tracing it: starts the launcher under `spk trace` on a
# kernel-chosen 127.0.0.1 port, drives it with exercise.py (python3-caldav, CardDAV, the
# web UI, a read-only visitor), stops the launcher with SIGTERM (its shutdown is traced
# too), then adds the launcher, the manifest and a grain's /etc/hosts and nsswitch.conf.
# Every step has a time limit; all traffic stays on 127.0.0.1.
#
# usage: apps/radicale/trace.sh SPK ROOT     e.g. build/spk build/apps/radicale/root
# Writes ROOT and ROOT.list (the files and symlinks the trace placed, for review).
# Needs Debian's python3-radicale and python3-caldav (scripts/deps.sh installs them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 2 ] || { echo "usage: $0 SPK ROOT" >&2; exit 2; }
spk=$(realpath "$1")
root=$(realpath -m "$2")   # absolute: spk runs from /
py=/usr/bin/python3   # Debian's, the one the package ships; never a PATH lookup

# The manifest names a Debian version: the trace must record that one.
want=$($py -c 'import json, sys; print(json.load(open(sys.argv[1]))["marketing_version"])' \
	"$here/silo-manifest.json")
# python3-radicale is the server itself; Debian's `radicale` package only adds a system
# service around it, which the build host does not need running.
have=$(dpkg-query -W -f='${Version}' python3-radicale 2>/dev/null || true)
if [ "$have" != "$want" ]; then
	echo "radicale: Debian's python3-radicale is '${have:-not installed}', the manifest says" \
		"'$want'; install it (scripts/deps.sh) or update apps/radicale/silo-manifest.json" >&2
	exit 1
fi

# The launcher runs from a directory under /tmp, which the trace never copies; its data
# (the grain's /var) lives there too.
work=$(mktemp -d /tmp/silo-radicale-trace.XXXXXX)
tracer=""
cleanup() {
	if [ -n "$tracer" ] && kill -0 "$tracer" 2>/dev/null; then
		kill -INT "$tracer" 2>/dev/null || true
		wait "$tracer" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/var"
install -m 0755 "$here/silo-radicale.py" "$work/silo-radicale.py"
# A port the kernel chose (free again once this returns; a small race, as in the tests).
port=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')

rm -rf "$root" "$root.list"
# A clean environment like the grain's (HOME=/var, nothing else that matters), from /, so
# the program's cwd is nothing of ours.
(cd / && exec env -i HOME="$work/var" SILO_RADICALE_VAR="$work/var" SILO_RADICALE_PORT="$port" \
	"$spk" trace --root "$root" --include "$here/include.txt" --exclude "$here/exclude.txt" \
	--list "$root.list" --timeout 600 -- $py -I -S "$work/silo-radicale.py" --new) \
	>"$work/trace.log" 2>&1 &
tracer=$!

up=""
for _ in $(seq 300); do   # 30 s
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		up=1
		break
	fi
	kill -0 "$tracer" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$up" ]; then
	echo "radicale: the traced launcher did not listen on 127.0.0.1:$port; its log:" >&2
	cat "$work/trace.log" >&2
	exit 1
fi

if ! timeout 300 $py "$here/exercise.py" "http://127.0.0.1:$port"; then
	echo "radicale: the exercise failed; the traced launcher's log:" >&2
	cat "$work/trace.log" >&2
	exit 1
fi

# SIGTERM to the launcher (spk's only child), so its clean shutdown is traced too; spk
# then writes the root. Should it hang, SIGINT makes spk kill it and write the root anyway.
launcher=$(cat "/proc/$tracer/task/$tracer/children" 2>/dev/null || true)
[ -n "$launcher" ] && kill -TERM $launcher 2>/dev/null || kill -INT "$tracer"
for _ in $(seq 100); do   # 10 s
	kill -0 "$tracer" 2>/dev/null || break
	sleep 0.1
done
kill -INT "$tracer" 2>/dev/null || true
rc=0
wait "$tracer" || rc=$?
tracer=""
if [ "$rc" -ne 0 ]; then
	echo "radicale: spk trace failed (status $rc); its log:" >&2
	cat "$work/trace.log" >&2
	exit 1
fi
grep -E '^trace: ' "$work/trace.log" >&2 || true

install -m 0755 "$here/silo-radicale.py" "$root/silo-radicale.py"
install -m 0644 "$here/silo-manifest.json" "$root/silo-manifest.json"
# The grain's name service: loopback only, from files (exclude.txt keeps the host's out).
mkdir -p "$root/etc"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$root/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
chmod 0644 "$root/etc/hosts" "$root/etc/nsswitch.conf"
files=$(find "$root" -type f | wc -l)
links=$(find "$root" -type l | wc -l)
bytes=$(find "$root" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
echo "radicale: $root: $files files, $links symlinks, $bytes bytes" \
	"($(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB)"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets in fuzz/ with clang into build/fuzz/ and runs each for
# FUZZ_SECONDS (default 60) on a scratch copy of its seed corpus; exits 1 on any crash.
# Usage: scripts/fuzz.sh [TARGET...]   (default: every fuzz/fuzz_*.c)
# Extra libFuzzer flags can be passed in FUZZ_ARGS, e.g. FUZZ_ARGS=-max_len=40000.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

secs=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
out=build/fuzz
# shellcheck disable=SC2054 # the commas are in -fsanitize=..., not between elements
cflags=(-std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -I server -I init -g -O1
	-fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)

mkdir -p "$out/bin" "$out/gen"
python3 scripts/embed-file.py "$out/gen/default_conf.c" config_default_text config/silo.conf

# What each target links: only the server files it exercises, libraries dynamically.
sources() {
	case $1 in
	fuzz_http) echo server/http.c server/buf.c ;;
	fuzz_json) echo server/jsonbody.c -ljansson ;;
	fuzz_form) echo server/http.c server/buf.c server/config.c "$out/gen/default_conf.c" ;;
	fuzz_archive) echo server/archive.c server/xz.c server/buf.c server/util.c -llzma ;;
	fuzz_manifest) echo server/manifest.c server/archive.c server/xz.c server/buf.c server/util.c \
		-ljansson -llzma ;;
	fuzz_spk) echo server/spk.c server/archive.c server/xz.c server/manifest.c \
		server/base32.c server/buf.c server/util.c -ljansson -llzma -lsodium ;;
	fuzz_wire) echo server/wire.c server/buf.c ;;
	fuzz_backup) echo server/backup.c server/archive.c server/xz.c server/buf.c server/util.c \
		-ljansson -llzma ;;
	fuzz_http_resp) echo server/http_resp.c server/buf.c ;;
	fuzz_grain_client) echo server/grain_client.c server/wire.c server/ev.c server/buf.c server/util.c ;;
	fuzz_token_header) echo server/token.c server/log.c server/buf.c -lsodium ;;
	fuzz_dhcp) echo init/dhcp.c ;;
	fuzz_gpt) echo init/gpt.c server/util.c ;;
	fuzz_osupdate) echo server/osupdate.c server/util.c -lsodium ;;
	fuzz_grubenv) echo server/grubenv.c ;;
	fuzz_acme_json) echo server/acme_json.c server/challenge.c server/response.c server/http.c \
		server/buf.c server/util.c server/log.c -ljansson ;;
	fuzz_dyndns) echo server/dyndns_reply.c ;;
	fuzz_dnsq) echo server/dnsq.c server/config.c "$out/gen/default_conf.c" ;;
	fuzz_tls) echo server/tls.c server/tlscert.c server/parent_client.c server/privsep.c \
		server/ev.c server/log.c server/buf.c server/util.c -lmbedtls -lmbedx509 -lmbedcrypto -lsodium ;;
	*) return 1 ;;
	esac
}

if (($#)); then
	targets=("$@")
else
	targets=()
	for f in fuzz/fuzz_*.c; do
		targets+=("$(basename "$f" .c)")
	done
fi

passed=0
failed=0
n=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	if ! srcs=$(sources "$t"); then
		echo "not ok $n - fuzz: $t: no such target"
		failed=$((failed + 1))
		continue
	fi
	work="$out/work/$t" # scratch corpus, crash files and the log; kept between runs
	mkdir -p "$work/corpus" "$work/crashes"
	# shellcheck disable=SC2086 # srcs is a word list
	if ! "$cc" "${cflags[@]}" "fuzz/$t.c" $srcs -o "$out/bin/$t" >"$work/build.log" 2>&1; then
		echo "not ok $n - fuzz: $t: build failed, see $work/build.log"
		sed 's/^/# /' "$work/build.log" | head -20
		failed=$((failed + 1))
		continue
	fi
	if [ -d "fuzz/corpus/$t" ]; then
		cp -f "fuzz/corpus/$t"/* "$work/corpus/" 2>/dev/null || true
	fi
	rc=0
	# shellcheck disable=SC2086 # FUZZ_ARGS is a word list
	"$out/bin/$t" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 \
		-artifact_prefix="$work/crashes/" -print_final_stats=1 ${FUZZ_ARGS:-} \
		"$work/corpus" >"$work/log" 2>&1 || rc=$?
	if ((rc != 0)); then
		crash=$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$work/log" | tail -1)
		why=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$work/log" || true)
		echo "not ok $n - fuzz: $t: exit $rc, crash file ${crash:-none}, log $work/log"
		[ -n "$why" ] && echo "# $why"
		failed=$((failed + 1))
		continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/log" | tail -1)
	files=$(find "$work/corpus" -type f | wc -l)
	echo "ok $n - fuzz: $t: ${runs:-?} execs in ${took:-?} s, corpus $files files"
	passed=$((passed + 1))
done

echo "$passed passed, $failed failed"
((failed == 0))

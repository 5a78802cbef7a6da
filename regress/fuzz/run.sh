#!/bin/sh
#
# Copyright (c) 2026 The remotedapid authors
#
# Permission to use, copy, modify, and distribute this software for any
# purpose with or without fee is hereby granted, provided that the above
# copyright notice and this permission notice appear in all copies.
#
# THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
# WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
# MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
# ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
# WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
# ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
# OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.

# run.sh DIR SECONDS TARGET...: run libFuzzer targets, two at a time.
#
# Each target in DIR runs for SECONDS from a working copy of its seeds
# (corpus/TARGET) and old crashers (crashers/TARGET), so the tree is
# never written.  Logs, working corpora and crash artifacts go to one
# temporary directory, kept when a target fails and removed otherwise.
# Exits non-zero if any target crashed, leaked, hung or ran out of
# memory, and prints the paths of what it found.

set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 DIR SECONDS TARGET..." >&2
	exit 2
fi
dir=$1
secs=$2
shift 2

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-fuzz.XXXXXX") || exit 2

# The largest input worth trying: a little over what each parser takes.
fuzz_max_len()
{
	case $1 in
	fuzz_http)	echo 17000 ;;	# HTTP_HEAD_MAX and the prefix
	fuzz_websocket)	echo 8192 ;;
	fuzz_url)	echo 8192 ;;	# a key, a host and a path
	fuzz_msg)	echo 17000 ;;	# a record of MSG_MAXPAYLOAD, and more
	fuzz_webroute)	echo 2048 ;;	# WR_NOTIFY_MAX, a key
	*)		echo 4096 ;;
	esac
}

# fuzz_start TARGET: start it in the background; its PID in $!.
fuzz_start()
{
	_t=$1
	mkdir -p "$tmp/$_t/corpus" "$tmp/$_t/artifacts"
	for _d in "$here/corpus/$_t" "$here/crashers/$_t"; do
		[ -d "$_d" ] && cp "$_d"/* "$tmp/$_t/corpus/" 2>/dev/null
	done
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	    "$dir/$_t" -max_total_time="$secs" -timeout=10 \
	    -max_len="$(fuzz_max_len "$_t")" -print_final_stats=1 \
	    -artifact_prefix="$tmp/$_t/artifacts/" "$tmp/$_t/corpus" \
	    >"$tmp/$_t/log" 2>&1 &
}

# fuzz_report TARGET STATUS: one line, and the artifacts if any.
fuzz_report()
{
	_t=$1
	_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$tmp/$_t/log" | tail -n 1)
	_secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' \
	    "$tmp/$_t/log" | tail -n 1)
	_cov=$(grep -o 'cov: [0-9]*' "$tmp/$_t/log" | tail -n 1)
	_n=$(ls "$tmp/$_t/corpus" | wc -l)
	_found=$(ls "$tmp/$_t/artifacts" | wc -l)
	if [ "$2" -eq 0 ] && [ "$_found" -eq 0 ]; then
		echo "$_t: ok, ${_runs:-?} runs in ${_secs:-?} s," \
		    "${_cov:-cov: ?}, corpus $_n"
		return 0
	fi
	echo "$_t: FAILED (exit $2), ${_runs:-?} runs; log $tmp/$_t/log"
	for _a in "$tmp/$_t/artifacts"/*; do
		[ -e "$_a" ] && echo "$_t: found $_a"
	done
	grep -m 1 -E '^(==[0-9]+==ERROR|SUMMARY|.*check failed)' \
	    "$tmp/$_t/log" | sed "s/^/$_t: /"
	return 1
}

for t in "$@"; do
	if [ ! -x "$dir/$t" ]; then
		echo "$t: no such fuzz target in $dir" >&2
		rm -rf "$tmp"
		exit 2
	fi
done

echo "fuzzing $# targets for $secs s each, two at a time, in $tmp"
failed=0
while [ $# -gt 0 ]; do
	t1=$1
	fuzz_start "$t1"
	p1=$!
	shift
	t2=
	if [ $# -gt 0 ]; then
		t2=$1
		fuzz_start "$t2"
		p2=$!
		shift
	fi
	wait "$p1"
	fuzz_report "$t1" $? || failed=1
	if [ -n "$t2" ]; then
		wait "$p2"
		fuzz_report "$t2" $? || failed=1
	fi
done

if [ $failed -ne 0 ]; then
	echo "fuzz: failures; logs and inputs kept in $tmp"
	exit 1
fi
rm -rf "$tmp"
exit 0

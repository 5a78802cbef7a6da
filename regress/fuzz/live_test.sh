#! /usr/bin/env atf-sh
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

# live_test.sh: each libFuzzer target (clang, ASan, UBSan, built by
# `make fuzz-check' into build-fuzz/fuzz) fuzzes for fuzz_seconds (a
# Kyua variable, 20 by default) from a working copy of its seeds and
# old crashers, through run.sh.  Anything found fails the case, which
# names the input kept under /tmp.  Kyua runs two cases at a time.

# fuzz_live TARGET: run one target; fail with what it found.
fuzz_live()
{
	_t=$1
	_dir=$(atf_get_srcdir)
	_bin=$(atf_config_get fuzzdir "@PREFIX@/fuzz")
	_secs=$(atf_config_get fuzz_seconds 20)
	[ -x "$_bin/$_t" ] || atf_fail "no fuzz target $_bin/$_t"
	[ -d "$_dir/corpus/$_t" ] || atf_fail "no corpus $_dir/corpus/$_t"
	[ "$_secs" -ge 1 ] && [ "$_secs" -le 240 ] ||
	    atf_fail "fuzz_seconds must be 1 to 240 (the case's timeout)," \
	    "not '$_secs'; use make fuzz for long runs"
	# failures are kept where Kyua does not clean up
	TMPDIR=/tmp sh "$_dir/run.sh" "$_bin" "$_secs" "$_t" >run.out 2>&1
	_rc=$?
	cat run.out
	[ $_rc -eq 0 ] ||
	    atf_fail "$(grep -E "^$_t: (found|FAILED|==)" run.out | tr '\n' ' ')"
}

atf_test_case fuzz_http_finds_nothing
fuzz_http_finds_nothing_head()
{
	atf_set descr "fuzz_http: HTTP heads, whole and split, and the rules"
	atf_set timeout 300
}
fuzz_http_finds_nothing_body()
{
	fuzz_live fuzz_http
}

atf_test_case fuzz_websocket_finds_nothing
fuzz_websocket_finds_nothing_head()
{
	atf_set descr "fuzz_websocket: frames in both roles, any split"
	atf_set timeout 300
}
fuzz_websocket_finds_nothing_body()
{
	fuzz_live fuzz_websocket
}

atf_test_case fuzz_url_finds_nothing
fuzz_url_finds_nothing_head()
{
	atf_set descr "fuzz_url: URLs of every scheme, and chains"
	atf_set timeout 300
}
fuzz_url_finds_nothing_body()
{
	fuzz_live fuzz_url
}

atf_test_case fuzz_msg_finds_nothing
fuzz_msg_finds_nothing_head()
{
	atf_set descr "fuzz_msg: records and framed transfers"
	atf_set timeout 300
}
fuzz_msg_finds_nothing_body()
{
	fuzz_live fuzz_msg
}

atf_test_case fuzz_webroute_finds_nothing
fuzz_webroute_finds_nothing_head()
{
	atf_set descr "fuzz_webroute: notifications, IDs and keys"
	atf_set timeout 300
}
fuzz_webroute_finds_nothing_body()
{
	fuzz_live fuzz_webroute
}

atf_init_test_cases()
{
	atf_add_test_case fuzz_http_finds_nothing
	atf_add_test_case fuzz_websocket_finds_nothing
	atf_add_test_case fuzz_url_finds_nothing
	atf_add_test_case fuzz_msg_finds_nothing
	atf_add_test_case fuzz_webroute_finds_nothing
}

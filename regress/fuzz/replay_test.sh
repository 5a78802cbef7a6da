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

# replay_test.sh: every fuzz target, built without libFuzzer, over its
# seed corpus and the crashers it once found (regression inputs).

# fuzz_replay TARGET: run the replay program over corpus/TARGET and, if
# there is one, crashers/TARGET; every input must pass its checks.
fuzz_replay()
{
	_t=$1
	_dir=$(atf_get_srcdir)
	[ -x "$_dir/$_t" ] || atf_fail "no replay program $_dir/$_t"
	[ -d "$_dir/corpus/$_t" ] || atf_fail "no corpus $_dir/corpus/$_t"
	set -- "$_dir/corpus/$_t"
	if [ -d "$_dir/crashers/$_t" ]; then
		set -- "$@" "$_dir/crashers/$_t"
	fi
	atf_check -s exit:0 -o match:'^[1-9][0-9]* inputs replayed$' \
	    -e empty "$_dir/$_t" "$@"
}

atf_test_case http_heads_replay_clean
http_heads_replay_clean_head()
{
	atf_set descr "fuzz_http: HTTP heads, whole and split, and the rules"
}
http_heads_replay_clean_body()
{
	fuzz_replay fuzz_http
}

atf_test_case websocket_frames_replay_clean
websocket_frames_replay_clean_head()
{
	atf_set descr "fuzz_websocket: frames in both roles, any split"
}
websocket_frames_replay_clean_body()
{
	fuzz_replay fuzz_websocket
}

atf_test_case urls_replay_clean
urls_replay_clean_head()
{
	atf_set descr "fuzz_url: URLs of every scheme, and chains"
}
urls_replay_clean_body()
{
	fuzz_replay fuzz_url
}

atf_test_case msgs_replay_clean
msgs_replay_clean_head()
{
	atf_set descr "fuzz_msg: records and framed transfers"
}
msgs_replay_clean_body()
{
	fuzz_replay fuzz_msg
}

atf_test_case webroute_notifications_replay_clean
webroute_notifications_replay_clean_head()
{
	atf_set descr "fuzz_webroute: notifications, IDs and keys"
}
webroute_notifications_replay_clean_body()
{
	fuzz_replay fuzz_webroute
}

atf_init_test_cases()
{
	atf_add_test_case http_heads_replay_clean
	atf_add_test_case websocket_frames_replay_clean
	atf_add_test_case urls_replay_clean
	atf_add_test_case msgs_replay_clean
	atf_add_test_case webroute_notifications_replay_clean
}

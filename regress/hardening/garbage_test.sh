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

# garbage_test.sh: row 28, a compromised relay child floods or garbles
# its parent (the test build's hook in relay.c: a request for
# /regress/garbage/N/KIND).  The parent logs it, kills that child and
# starts another, and stays up; a tunnel in another child keeps every
# byte.  Needs the test build: not installed.

. "$(atf_get_srcdir)/../lib/lib.sh"

RD_DAEMON="$(atf_get_srcdir)/../hooks/remotedapid"

# gb_start: a test-build daemon with 3 children that obey the hook, a
# tunnel slowed to 400 kB/s each way through a fault proxy (its child in
# $GB_HOLDER, the other two in $GB_VICTIMS), and the parent's
# descriptor count in $GB_FDS.
gb_start()
{
	rd_setup 3
	RD_REGRESS_GARBAGE=1
	export RD_REGRESS_GARBAGE
	rd_daemon_start
	GB_FDS=$(rd_fdcount "$(rd_pid rd)")
	rd_start proxy /usr/bin/python3 "$(rd_libdir)/faultproxy.py" \
	    -u "127.0.0.1:$RD_PORT" -t bandwidth,rate=400000
	rd_wait 10 grep -q "listening on" proxy.log ||
	    atf_fail "faultproxy did not start: $(rd_flat proxy.log)"
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' \
	    proxy.log)
	rd_random up.bin 3145728
	rd_agent agent -c 1 -e
	rd_start client "$(rd_libdir)/rdpeer" connect -s up.bin -r back \
	    "rwr://$(cat client.secret)@127.0.0.1:$port/test/path/"
	rd_wait_tunnel
	GB_HOLDER=$("$(rd_sbin rapictl)" -s rd.sock show tunnels |
	    awk '/test\/path/ { print $NF }')
	GB_VICTIMS=$(echo 0 1 2 | tr ' ' '\n' | grep -vx "$GB_HOLDER")
	echo "the tunnel is in relay $GB_HOLDER; victims $(echo $GB_VICTIMS)"
}

# gb_garble KIND VICTIM WHY: ask until relay VICTIM gets a request for
# /regress/garbage/VICTIM/KIND; the parent must kill it for WHY and
# have a new one ready within 5 s.
gb_garble()
{
	_sent="relay $2: regress: sending the parent $1 messages"
	_killed="relay $2 (pid [0-9]*): $3; killing it"
	_n=$(grep -c "$_sent" rd.log)
	_k=$(grep -c "relay $2 (pid [0-9]*): .*; killing it" rd.log)
	_r=$(grep -c "relay $2 ready" rd.log)
	_i=0
	while [ "$(grep -c "$_sent" rd.log)" -le "$_n" ] && [ $_i -lt 40 ]; do
		curl -s -o /dev/null --max-time 2 \
		    "http://127.0.0.1:$RD_PORT/regress/garbage/$2/$1"
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(grep -c "$_sent" rd.log)" -gt "$_n" ] ||
	    atf_fail "relay $2 never got a request for $1 messages"
	rd_wait 20 sh -c "[ \$(grep -c 'relay $2 (pid [0-9]*): .*; killing it' \
	    rd.log) -gt $_k ]" ||
	    atf_fail "$1 messages: relay $2 was not killed: $(tail -5 rd.log | rd_flat)"
	_line=$(grep "relay $2 (pid [0-9]*): .*; killing it" rd.log | tail -1)
	echo "$1: $_line"
	echo "$_line" | grep -q "$_killed" ||
	    atf_fail "$1 messages: expected '$3', saw '$_line'"
	rd_wait 5 sh -c "[ \$(grep -c 'relay $2 ready' rd.log) -gt $_r ]" ||
	    atf_fail "$1 messages: relay $2 was not replaced within 5 s"
	rd_alive rd || atf_fail "the parent died: $(tail -5 rd.log | rd_flat)"
}

# gb_each WHY KIND ...: each KIND to the victims in turn.
GB_NEXT=1
gb_each()
{
	_why=$1
	shift
	for _kind in "$@"; do
		gb_garble "$_kind" "$(echo $GB_VICTIMS | cut -d' ' -f$GB_NEXT)" \
		    "$_why"
		GB_NEXT=$((3 - GB_NEXT))
	done
}

# gb_end: the tunnel kept every byte, its child lived, a new tunnel
# works, the parent holds the descriptors it held at start.
gb_end()
{
	rd_wait_exit client 60 || atf_fail "client failed: $(rd_flat client.log)"
	rd_same_sha256 up.bin back
	grep -E "relay $GB_HOLDER \(pid [0-9]+\)" rd.log &&
	    atf_fail "relay $GB_HOLDER, the tunnel's, was hurt"
	rd_wait_exit agent 10 || atf_fail "agent failed: $(rd_flat agent.log)"
	rd_random small.bin 65536
	rd_agent agent2 -c 1 -e
	atf_check "$(rd_libdir)/rdpeer" connect -s small.bin -r small.back \
	    "$RD_CURL"
	rd_same_sha256 small.bin small.back
	rd_wait_exit agent2 10
	rd_wait 5 sh -c "[ \$(ls /proc/$(rd_pid rd)/fd | wc -l) = $GB_FDS ]" ||
	    atf_fail "the parent holds $(rd_fdcount "$(rd_pid rd)") descriptors, $GB_FDS at start"
	rd_alive rd || atf_fail "the parent died: $(tail -5 rd.log | rd_flat)"
	rd_sanitized
	rd_daemon_stop
}

atf_test_case malformed_records_kill_only_that_child cleanup
malformed_records_kill_only_that_child_head()
{
	atf_set descr "a child that sends records shorter or longer than" \
	    "their header says is killed and replaced; the parent and the" \
	    "tunnel in another child go on"
	atf_set timeout 120
}
malformed_records_kill_only_that_child_body()
{
	gb_start
	gb_each "malformed message" malformed oversized malformed oversized
	gb_end
}
malformed_records_kill_only_that_child_cleanup()
{
	rd_stop_all
}

atf_test_case invalid_messages_kill_only_that_child cleanup
invalid_messages_kill_only_that_child_head()
{
	atf_set descr "a child that sends an unknown type, a descriptor with" \
	    "a log line, a message of the wrong size, strings without NUL" \
	    "or an answer out of range is killed and replaced; the parent" \
	    "and the tunnel in another child go on"
	atf_set timeout 120
}
invalid_messages_kill_only_that_child_body()
{
	gb_start
	gb_each "invalid message" unknown descriptor short unterminated range
	gb_end
}
invalid_messages_kill_only_that_child_cleanup()
{
	rd_stop_all
}

atf_test_case flood_of_bad_ids_kills_only_that_child cleanup
flood_of_bad_ids_kills_only_that_child_head()
{
	atf_set descr "a child that floods its parent with 100000 closes of" \
	    "ids never given out, then waits for them, is killed and" \
	    "replaced; meanwhile the control socket answers and the tunnel" \
	    "in another child goes on"
	atf_set timeout 120
}
flood_of_bad_ids_kills_only_that_child_body()
{
	gb_start
	gb_each "invalid message" flood
	atf_check -o match:"^now: .* 1 tunnels" "$(rd_sbin rapictl)" \
	    -s rd.sock show status
	gb_each "invalid message" flood
	gb_end
}
flood_of_bad_ids_kills_only_that_child_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case malformed_records_kill_only_that_child
	atf_add_test_case invalid_messages_kill_only_that_child
	atf_add_test_case flood_of_bad_ids_kills_only_that_child
}

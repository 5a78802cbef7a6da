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

# idle_test.sh: row 32 at small scale, many idle connections: 500
# tunnels and 500 connections that never finish their head, from
# 127.0.0.2-9, opened by peers split across processes (idle_peers.py).
# All tunnels are held, the others reaped at the handshake timeout, and
# a probe tunnel meanwhile stays fast.

. "$(atf_get_srcdir)/../lib/lib.sh"

id_flat()
{
	cat "$@" 2>/dev/null | tr '\n' ' ' | head -c 1500
}

# id_peers NAME ARG ...: idle_peers.py in the background.
id_peers()
{
	_name=$1
	shift
	rd_start "$_name" /usr/bin/python3 "$(atf_get_srcdir)/idle_peers.py" \
	    --stop stop --max 120 "$@"
}

# id_children WHAT: the relay children's VmRSS (kB) or sockets, summed
# (not all descriptors: each child keeps some idle pipes for splice).
id_children()
{
	_sum=0
	for _p in $(rd_children); do
		case $1 in
		rss)	_n=$(awk '/^VmRSS:/ { print $2 }' "/proc/$_p/status") ;;
		sockets) _n=$(ls -l "/proc/$_p/fd" | grep -c 'socket:') ;;
		esac
		_sum=$((_sum + _n))
	done
	echo $_sum
}

# id_sockets_back N: the children hold N sockets or fewer.
id_sockets_back()
{
	[ "$(id_children sockets)" -le "$1" ]
}

atf_test_case idle_tunnels_held_preauth_reaped cleanup
idle_tunnels_held_preauth_reaped_head()
{
	atf_set descr "500 idle tunnels and 500 connections without a whole" \
	    "head: every tunnel is held, every other connection closed at" \
	    "the handshake timeout (3 s, +- 0.5 s, +1 s), a probe tunnel" \
	    "keeps an RTT p99 < 100 ms, and the children give back their" \
	    "sockets"
	atf_set timeout 180
}
idle_tunnels_held_preauth_reaped_body()
{
	echo "timeout idle 120" >rd.conf.extra	# the tunnels stay idle
	rd_setup 2
	rd_daemon_start
	rd_start probeagent "$(rd_libdir)/rdpeer" agent -e \
	    "rws://$(cat server.secret)@127.0.0.1:$RD_PORT/probe/path/"
	rd_wait 10 grep -q "^ready" probeagent.log ||
	    atf_fail "the probe's agent did not register: $(id_flat probeagent.log)"
	fds0=$(id_children sockets)
	rss0=$(id_children rss)

	id_peers agent agent "$RD_PORT" /test/path/ server.secret
	rd_wait 10 grep -q "^ready" agent.log ||
	    atf_fail "the agent did not register: $(id_flat agent.log)"
	id_peers clients1 --sources 127.0.0.2-5 clients "$RD_PORT" \
	    /test/path/ client.secret 250
	id_peers clients2 --sources 127.0.0.6-9 clients "$RD_PORT" \
	    /test/path/ client.secret 250
	for c in clients1 clients2; do
		rd_wait 60 grep -q "^linked 250$" $c.log ||
		    atf_fail "$c: not 250 tunnels within 60 s: $(tail -3 $c.log | id_flat)"
	done
	rd_wait 10 grep -q "^linked 500$" agent.log ||
	    atf_fail "the agent did not hold 500 tunnels: $(tail -3 agent.log | id_flat)"
	fds1=$(id_children sockets)
	rss1=$(id_children rss)
	echo "relay children for 500 tunnels: $fds0 -> $fds1 sockets," \
	    "$rss0 -> $rss1 kB"

	t0=$(date +%s)
	id_peers preauth preauth "$RD_PORT" 500
	rd_wait 10 grep -q "^open 500$" preauth.log ||
	    atf_fail "not 500 connections without a head: $(id_flat preauth.log)"
	/usr/bin/python3 "$(atf_get_srcdir)/idle_peers.py" probe "$RD_PORT" \
	    /probe/path/ client.secret 200 >probe.out 2>&1 ||
	    atf_fail "probe: $(id_flat probe.out)"
	echo "probe tunnel while all are held: $(cat probe.out)"
	p99=$(sed -n 's/^rtt .* p99 \([0-9.]*\) .*/\1/p' probe.out)
	awk -v p="$p99" 'BEGIN { exit !(p < 100) }' ||
	    atf_fail "expected the probe's RTT p99 < 100 ms, saw $p99 ms"

	rd_wait_exit preauth 15 ||
	    atf_fail "connections without a head were not all closed: $(id_flat preauth.log)"
	line=$(grep "^closed " preauth.log)
	echo "connections without a head: $line"
	set -- $(echo "$line" | sed 's/.* after \([0-9.]*\) to \([0-9.]*\) s$/\1 \2/')
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= 2.5 && b <= 4.0) }' ||
	    atf_fail "expected every connection without a head closed 2.5 to 4 s after its connect, saw $1 to $2 s"

	"$(rd_sbin rapictl)" -s rd.sock show status >status.out
	grep -q "^now: .*(0 in handshake), 2 routes, 0 clients waiting, 500 tunnels" \
	    status.out ||
	    atf_fail "expected 500 tunnels, 0 in handshake: $(grep '^now:' status.out)"
	touch stop
	for c in clients1 clients2; do
		rd_wait_exit $c 10 || atf_fail "$c: $(tail -2 $c.log | id_flat)"
		grep -q "^held 250 lost 0 refused 0$" $c.log ||
		    atf_fail "$c: $(tail -1 $c.log)"
	done
	rd_wait_exit agent 10 || atf_fail "agent: $(tail -2 agent.log | id_flat)"
	grep -q "^held 500 lost 0 refused 0 websocket up$" agent.log ||
	    atf_fail "agent: $(tail -1 agent.log)"
	if ! rd_asan; then
		kb=$(((rss1 - rss0) / 1000))
		echo "relay RSS per connection: $kb kB"
		[ $kb -lt 16 ] ||
		    atf_fail "expected < 16 kB of RSS per connection, saw $kb kB"
	fi
	rd_wait 10 id_sockets_back "$fds0" ||
	    atf_fail "the children hold $(id_children sockets) sockets, $fds0 before"
	rd_post
	rd_daemon_stop
}
idle_tunnels_held_preauth_reaped_cleanup()
{
	touch stop
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case idle_tunnels_held_preauth_reaped
}

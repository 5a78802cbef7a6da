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

# soak_test.sh: what only `make soak' runs.  Row 39: after 100000
# handshakes the daemon's descriptors and resident memory are where they
# were.  Row 34 with a load generator instead of a shell loop.  Row 29: a whole session under strace(1), TLS, keys, reloads and
# errors included, in which a sandboxed relay child makes no system call
# outside sandbox.c's list; again with glibc's allocator perturbed.

. "$(atf_get_srcdir)/../deploy/common.sh"

# sk_procs: the daemon's processes, the parent first.
sk_procs()
{
	echo "$(rd_pid rd)"
	rd_children
}

# sk_fds, sk_rss: descriptors and resident kB of each of the daemon's
# processes, "PID:N" on one line.
sk_fds()
{
	for _p in $(sk_procs); do printf '%s:%s ' "$_p" "$(rd_fdcount "$_p")"; done
}
sk_rss()
{
	for _p in $(sk_procs); do
		printf '%s:%s ' "$_p" \
		    "$(awk '/^VmRSS:/ { print $2 }' "/proc/$_p/status")"
	done
}

# sk_quiet: no tunnel and no connection left in the relay.
sk_quiet()
{
	"$(rd_sbin rapictl)" -s rd.sock show status >quiet.out 2>&1 &&
	    grep -q "^now: .*(0 in handshake), 1 routes, 0 clients waiting, 0 tunnels" \
	    quiet.out
}

atf_test_case handshakes_100k_fds_rss_flat cleanup
handshakes_100k_fds_rss_flat_head()
{
	atf_set descr "Row 39: 100000 tunnels opened and closed (4 openers," \
	    "each with a 64-byte echo): no error, and afterwards every" \
	    "process of the daemon holds the descriptors it held after the" \
	    "first 10000, and its resident memory grew by < 512 kB"
	atf_set timeout 900
}
handshakes_100k_fds_rss_flat_body()
{
	rd_setup 2
	rd_daemon_start
	rd_start agent "$(rd_prefix)/bench/rdbench" agent "$RD_SURL"
	rd_wait 10 grep -q "^ready" agent.log ||
	    atf_fail "the agent did not register: $(rd_flat agent.log)"
	total=0
	for round in $(seq 1 10); do
		# 4 openers x 2500: 10000 a round
		"$(rd_prefix)/bench/rdbench" setup "$RD_CURL" 2500 4 \
		    >"round.$round" 2>"round.$round.err" ||
		    atf_fail "round $round: $(rd_flat "round.$round.err")"
		set -- $(cat "round.$round")
		[ "$6" = 0 ] ||
		    atf_fail "round $round: $6 tunnels failed: $(rd_flat "round.$round.err")"
		total=$((total + 10000))
		rd_wait 30 sk_quiet ||
		    atf_fail "round $round: the relay did not settle: $(rd_flat quiet.out)"
		fds=$(sk_fds)
		rss=$(sk_rss)
		echo "$total tunnels, $1/s, setup p99 $3 ms: fds $fds; RSS kB $rss"
		if [ "$round" = 1 ]; then
			fds1=$fds
			rss1=$rss
		fi
	done
	[ "$fds" = "$fds1" ] ||
	    atf_fail "descriptors after 10000 tunnels: $fds1; after $total: $fds"
	for p in $rss; do
		pid=${p%:*}
		now=${p#*:}
		was=$(echo "$rss1" | tr ' ' '\n' | sed -n "s/^$pid://p")
		[ -n "$was" ] || atf_fail "process $pid was not there after 10000"
		[ $((now - was)) -lt 512 ] ||
		    atf_fail "process $pid grew from $was kB to $now kB between 10000 and $total tunnels"
	done
	grep -c "tunnel /test/path/: .*closed" rd.log | grep -qx "$total" ||
	    atf_fail "expected $total closed tunnels in the log, saw $(grep -c 'tunnel /test/path/: .*closed' rd.log)"
	rd_post
	rd_daemon_stop
}
handshakes_100k_fds_rss_flat_cleanup()
{
	rd_stop_all
}

atf_test_case reload_ten_hups_under_handshake_load cleanup
reload_ten_hups_under_handshake_load_head()
{
	atf_set descr "Row 34 at full size: 10 SIGHUPs while 4 openers set" \
	    "up tunnels as fast as they go (thousands a second) and 4 bulk" \
	    "tunnels move 256 MiB each way: no failed connect, every byte" \
	    "intact"
	atf_set timeout 600
}
reload_ten_hups_under_handshake_load_body()
{
	rd_setup 2
	rd_daemon_start
	rd_agent agent -e
	rd_start benchagent "$(rd_prefix)/bench/rdbench" agent \
	    "rws://$(cat server.secret)@127.0.0.1:$RD_PORT/bench/"
	rd_wait 10 grep -q "^ready" benchagent.log ||
	    atf_fail "the bench agent did not register: $(rd_flat benchagent.log)"
	for i in 1 2 3 4; do
		rd_stream_out "bulk.$i" 268435456
		rd_stream_in "back.$i"
		rd_start "client.$i" "$(rd_libdir)/rdpeer" connect \
		    -s "bulk.$i" -r "back.$i" "$RD_CURL"
	done
	rd_start load "$(rd_prefix)/bench/rdbench" setup \
	    "rwr://$(cat client.secret)@127.0.0.1:$RD_PORT/bench/" 10000 4
	sleep 0.5
	for i in $(seq 10); do
		rd_alive load ||
		    atf_fail "the openers ended before reload $i: make them open more"
		kill -HUP "$(rd_pid rd)"
		sleep 0.3
	done
	rd_wait 10 sh -c '[ "$(grep -c "configuration reloaded" rd.log)" -ge 10 ]' ||
	    atf_fail "expected 10 reloads, saw $(grep -c 'configuration reloaded' rd.log)"
	rd_wait_exit load 120 || atf_fail "the openers failed: $(rd_flat load.log)"
	set -- $(cat load.log)
	echo "40000 tunnel setups across 10 reloads: $1/s, setup p99 $3 ms," \
	    "$6 failed"
	[ "$6" = 0 ] || atf_fail "$6 tunnel setups failed during the reloads"
	for i in 1 2 3 4; do
		rd_wait_exit "client.$i" 300 ||
		    atf_fail "bulk tunnel $i failed: $(rd_flat "client.$i.log")"
		[ "$(rd_stream_sha "bulk.$i")" = "$(rd_stream_sha "back.$i")" ] ||
		    atf_fail "bulk tunnel $i: what came back is not what was sent"
	done
	rd_post
	rd_daemon_stop
}
reload_ten_hups_under_handshake_load_cleanup()
{
	rd_stop_all
}

# sk_strace_session NAME=VALUE ...: the session of row 29 with the
# daemon under `strace -f', in the environment given, then the check:
# in each relay child, every call after its filter loaded is one that
# sandbox.c allows, and no process was killed by SIGSYS.
sk_strace_session()
{
	dp_cert server
	DP_TLS=$(rd_freeport)
	cat >rd.conf.extra <<-CONF
	listen on 127.0.0.1 port $DP_TLS tls {
		certificate "$PWD/server.pem"
		key "$PWD/server.key"
	}
	CONF
	rd_setup 2
	cat >straced <<-EOF
	#!/bin/sh
	exec env $* strace -f -ff -qq -o "$PWD/tr" "$(rd_sbin remotedapid)" "\$@"
	EOF
	chmod +x straced
	RD_DAEMON=$PWD/straced rd_daemon_start
	daemon=$(pgrep -P "$(rd_pid rd)")
	[ -n "$daemon" ] || atf_fail "no remotedapid under strace"
	# (by name: glibc cuts GLIBC_TUNABLES short where it parses it)
	for v in "$@"; do
		for p in $(pgrep -P "$daemon"); do
			tr '\0' '\n' <"/proc/$p/environ" |
			    grep -q "^${v%%=*}=" ||
			    atf_fail "relay child $p runs without ${v%%=*}"
		done
	done

	# a session that reaches the rare paths: tunnels in clear and in
	# TLS, refused keys, a head timeout, a key added and rotated, two
	# reloads
	rd_agent agent -e -R
	rd_random up.bin 1048576
	atf_check "$(rd_libdir)/rdpeer" connect -s up.bin -r back.1 "$RD_CURL"
	rd_same_sha256 up.bin back.1
	atf_check -o file:up.bin "$(rd_bin rapi)" connect -C ca.pem \
	    -k client.secret "rwrs://127.0.0.1:$DP_TLS/test/path/" <up.bin
	curl -s -o /dev/null -w '%{http_code}\n' \
	    -H 'X-Remoted-APIKey: wrong' "http://127.0.0.1:$RD_PORT/test/path/" \
	    >bad.out
	grep -qx 403 bad.out || atf_fail "a wrong key: $(cat bad.out)"
	/usr/bin/python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /test/path/ HTTP/1.1\r\n")
s.settimeout(10)
print(s.recv(100).split(b"\r\n")[0].decode())' "$RD_PORT" >slow.out 2>&1
	grep -q " 408 " slow.out || atf_fail "a late head: $(rd_flat slow.out)"
	atf_check -o ignore -e ignore "$(rd_sbin rapictl)" -s rd.sock \
	    key add client extra
	atf_check -o ignore -e ignore "$(rd_sbin rapictl)" -s rd.sock \
	    key rotate extra grace 60s
	atf_check -o ignore "$(rd_sbin rapictl)" -s rd.sock show tunnels
	atf_check -o ignore "$(rd_sbin rapictl)" -s rd.sock reload
	kill -HUP "$daemon"
	rd_wait 10 sh -c '[ "$(grep -c reloading rd.log)" -ge 2 ]' ||
	    atf_fail "no second reload: $(grep reload rd.log | rd_flat)"
	atf_check "$(rd_libdir)/rdpeer" connect -s up.bin -r back.2 "$RD_CURL"
	rd_same_sha256 up.bin back.2
	atf_check -o file:up.bin "$(rd_bin rapi)" connect -C ca.pem \
	    -k client.secret "rwrs://127.0.0.1:$DP_TLS/test/path/" <up.bin
	rd_post
	rd_stop agent
	kill -TERM "$daemon"
	rd_wait_exit rd 30 || atf_fail "remotedapid under strace failed"

	# the calls of each sandboxed process after its filter loaded
	grep -o 'SCMP_SYS([a-z0-9_]*)' "$(atf_get_srcdir)/sandbox.c" |
	    sed 's/SCMP_SYS(\(.*\))/\1/' | sort -u >allowed
	[ -s allowed ] || atf_fail "no allowlist in sandbox.c"
	# the call that loads the filter (libseccomp probes the kernel with
	# failing ones first)
	loaded='^(seccomp\(SECCOMP_SET_MODE_FILTER, .*\{len=[0-9]+, filter=.*\) = 0|prctl\(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, .*\) = 0)$'
	n=0
	for f in tr.*; do
		grep -q -E "$loaded" "$f" || continue
		n=$((n + 1))
		sed -n -E "/$loaded/,\$p" "$f" | sed 1d | sed -n -E \
		    -e 's/^([a-z0-9_]+)\(.*/\1/p' \
		    -e 's/^<\.\.\. ([a-z0-9_]+) resumed>.*/\1/p' >>used.all
		if grep -q 'killed by SIGSYS' "$f"; then
			atf_fail "$f: killed by SIGSYS: $(tail -3 "$f" | rd_flat)"
		fi
	done
	[ "$n" -ge 2 ] ||
	    atf_fail "expected the filter loaded in the 2 relay children, saw $n"
	sort -u used.all >used
	echo "$n sandboxed processes used: $(tr '\n' ' ' <used)"
	extra=$(comm -23 used allowed)
	[ -z "$extra" ] ||
	    atf_fail "calls outside sandbox.c's list: $(echo $extra)"
}

atf_test_case strace_session_only_allowlisted cleanup
strace_session_only_allowlisted_head()
{
	atf_set descr "Row 29: a whole session (TLS, bad keys, a late head," \
	    "key add and rotate, SIGHUP and rapictl reload) under strace -f:" \
	    "a relay child makes no call outside sandbox.c's list after its" \
	    "filter loads"
	atf_set timeout 300
}
strace_session_only_allowlisted_body()
{
	sk_strace_session
}
strace_session_only_allowlisted_cleanup()
{
	rd_stop_all
}

atf_test_case strace_session_malloc_perturb cleanup
strace_session_malloc_perturb_head()
{
	atf_set descr "Row 29 again with MALLOC_PERTURB_=165 (glibc fills" \
	    "what it allocates and frees)"
	atf_set timeout 300
}
strace_session_malloc_perturb_body()
{
	sk_strace_session MALLOC_PERTURB_=165
}
strace_session_malloc_perturb_cleanup()
{
	rd_stop_all
}

atf_test_case strace_session_glibc_tunables cleanup
strace_session_glibc_tunables_head()
{
	atf_set descr "Row 29 again with GLIBC_TUNABLES making glibc map and" \
	    "unmap small blocks and trim at once (other memory calls)"
	atf_set timeout 300
}
strace_session_glibc_tunables_body()
{
	sk_strace_session \
	    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4096:glibc.malloc.trim_threshold=0:glibc.malloc.tcache_count=0
}
strace_session_glibc_tunables_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case handshakes_100k_fds_rss_flat
	atf_add_test_case reload_ten_hups_under_handshake_load
	atf_add_test_case strace_session_only_allowlisted
	atf_add_test_case strace_session_malloc_perturb
	atf_add_test_case strace_session_glibc_tunables
}

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

# brute_force_test.sh: row 6, a key brute force from one address.  With
# `penalty authfail 5 within 10s block 2s' the attacker (127.0.0.3,
# a new bad key on every connection, as fast as it goes) is shut out at
# accept again and again, which the log says; meanwhile good-key
# handshakes from 127.0.0.2 stay fast (p99 < 200 ms) and the agent
# (127.0.0.1) serves them.

. "$(atf_get_srcdir)/../lib/lib.sh"

# bf_attack SECONDS: from 127.0.0.3, a WebRoute request with a new bad
# key on every connection for SECONDS; then the good client key, which
# must find the address still blocked.  Prints "answered N closed N".
bf_attack()
{
	/usr/bin/python3 - "$(rd_libdir)" "$RD_PORT" "$1" \
	    "$(cat client.secret)" <<-'PY'
	import socket, sys, time
	sys.path.insert(0, sys.argv[1])
	import rawpeer
	port, secs, good = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
	def attempt(key, n):
	    s = socket.socket()
	    s.settimeout(3)
	    s.bind(("127.0.0.3", 0))
	    try:
	        s.connect(("127.0.0.1", port))
	        s.sendall(rawpeer.wr_head("/test/path/", key, "bf-%d" % n))
	        data, how = rawpeer.read_until_close(s, 3.0)
	    except OSError:
	        data = b""
	    finally:
	        s.close()
	    return rawpeer.status_line(data) if data else None
	answered = closed = n = 0
	end = time.monotonic() + secs
	while time.monotonic() < end:
	    n += 1
	    st = attempt("%064x" % n, n)
	    if st is None:
	        closed += 1
	    elif st.startswith("HTTP/1.1 403 "):
	        answered += 1
	    else:
	        sys.exit("a bad key got %r" % st)
	print("answered %d closed %d" % (answered, closed))
	# the block bites the good key too (a few more bad ones first, in
	# case the attack ended just as a block did)
	for i in range(2):
	    st = attempt(good, n + 1)
	    if st is None:
	        print("good key: closed")
	        sys.exit(0)
	    for j in range(6):
	        attempt("%064x" % (n + 2 + j), n + 2 + j)
	sys.exit("a good key from the blocked address got %r" % st)
	PY
}

# bf_probe COUNT: COUNT good-key handshakes from 127.0.0.2, one every
# 20 ms; each must get its 101.  Prints "p50 MS p99 MS max MS".
bf_probe()
{
	/usr/bin/python3 - "$(rd_libdir)" "$RD_PORT" "$1" \
	    "$(cat client.secret)" <<-'PY'
	import socket, sys, time
	sys.path.insert(0, sys.argv[1])
	import rawpeer
	port, count, key = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
	times = []
	for i in range(count):
	    wrid = "probe-%d" % i
	    t0 = time.monotonic()
	    s = socket.socket()
	    s.settimeout(5)
	    s.bind(("127.0.0.2", 0))
	    s.connect(("127.0.0.1", port))
	    s.sendall(rawpeer.wr_head("/test/path/", key, wrid))
	    head, rest, how = rawpeer.read_head(s, 5.0)
	    times.append((time.monotonic() - t0) * 1000)
	    s.close()
	    if head != rawpeer.wr101(wrid):
	        sys.exit("handshake %d: expected 101, saw %r (%s)"
	                 % (i, head, how))
	    time.sleep(0.02)
	times.sort()
	print("p50 %.1f p99 %.1f max %.1f" % (times[len(times) // 2],
	      times[max(0, -(-len(times) * 99 // 100) - 1)], times[-1]))
	PY
}

atf_test_case brute_force_blocked_others_fast cleanup
brute_force_blocked_others_fast_head()
{
	atf_set descr "a brute force from one address is blocked at accept" \
	    "over and over, which is logged; good-key handshakes from another" \
	    "address meanwhile get their 101 with p99 < 200 ms (5 s of attack" \
	    "and 100 handshakes; 30 s and 1000 in make soak)"
	atf_set timeout "$(rd_size 90 240)"
}
brute_force_blocked_others_fast_body()
{
	secs=$(rd_size 5 30)
	echo "penalty authfail 5 within 10s block 2s" >rd.conf.extra
	rd_setup 2
	rd_daemon_start
	rd_agent agent -e
	bf_probe 20 >probe.idle || atf_fail "probe: $(rd_flat probe.idle)"
	echo "handshakes without attack (ms): $(cat probe.idle)"
	bf_attack "$secs" >attack.out 2>&1 &
	apid=$!
	sleep 0.5
	bf_probe "$(rd_size 100 1000)" >probe.out 2>&1 || atf_fail "probe: $(rd_flat probe.out)"
	wait $apid || atf_fail "attack: $(rd_flat attack.out)"
	echo "handshakes under attack (ms): $(cat probe.out)"
	echo "attack: $(rd_flat attack.out)"
	p99=$(sed -n 's/.* p99 \([0-9.]*\) .*/\1/p' probe.out)
	awk -v p="$p99" 'BEGIN { exit !(p < 200) }' ||
	    atf_fail "expected good-key handshakes p99 < 200 ms, saw $p99 ms"
	answered=$(sed -n 's/^answered \([0-9]*\) .*/\1/p' attack.out)
	closed=$(sed -n 's/.* closed \([0-9]*\)$/\1/p' attack.out)
	blocks=$(grep -c "penalty: 127.0.0.3 blocked for 2 s" rd.log)
	[ "$blocks" -ge 2 ] ||
	    atf_fail "expected the attacker blocked at least twice in $secs s, saw $blocks 'blocked' lines"
	# 5 failures per block of 2 s, and some slack for a block's start
	[ "$answered" -le $(((blocks + 1) * 10)) ] ||
	    atf_fail "expected at most $(((blocks + 1) * 10)) bad keys answered for $blocks blocks, saw $answered"
	[ "$closed" -ge $((answered * 10)) ] ||
	    atf_fail "expected most attempts closed at accept, saw $closed closed and $answered answered"
	grep -q "penalty: 127.0.0.2" rd.log &&
	    atf_fail "the probe's address was penalized"
	"$(rd_sbin rapictl)" -s rd.sock show status >status.out
	grep "penalty:\|authentication failures:" status.out
	rd_post
	rd_daemon_stop
}
brute_force_blocked_others_fast_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case brute_force_blocked_others_fast
}

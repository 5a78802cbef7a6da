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

# session_test.sh: the daemon's test build under valgrind's memcheck,
# its relay children too (--trace-children), chrooted and unprivileged
# but without the sandbox's filter (RD_REGRESS_SANDBOX=none: valgrind
# 3.19 cannot run seccomp(2), not even in the filter's logging mode,
# and makes calls of its own).  A small
# session goes through it: tunnels whose bytes are checked, an agent
# and its pings, error answers, TLS, rapictl, a reload; then it stops,
# and no process may have a valgrind error, nor definitely lost memory.

. "$(atf_get_srcdir)/../lib/lib.sh"

RD_DAEMON="$(atf_get_srcdir)/../hooks/remotedapid"
VG_EXIT=42

# vg_start: the daemon under memcheck, a plain listener and a TLS one
# (its port in $VG_TLSPORT), ready.
vg_start()
{
	rd_setup 2
	VG_TLSPORT=$(rd_freeport)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 2 -subj "/CN=127.0.0.1" -keyout tls.key \
	    -out tls.crt >openssl.log 2>&1 ||
	    atf_fail "openssl: $(rd_flat openssl.log)"
	cat >>rd.conf <<-CONF
	listen on 127.0.0.1 port $VG_TLSPORT tls {
		certificate "$PWD/tls.crt"
		key "$PWD/tls.key"
	}
	CONF
	rd_start rd env RD_REGRESS_SANDBOX=none valgrind --tool=memcheck \
	    --trace-children=yes --error-exitcode=$VG_EXIT --vgdb=no \
	    --leak-check=full --errors-for-leak-kinds=definite \
	    --show-leak-kinds=definite --num-callers=30 \
	    --suppressions="$(atf_get_srcdir)/valgrind.supp" \
	    "$RD_DAEMON" -d -v -f rd.conf
	rd_wait 60 grep -q "listening on 127.0.0.1:$VG_TLSPORT" rd.log ||
	    atf_fail "remotedapid did not start: $(tail -20 rd.log | rd_flat)"
	rd_wait 60 rd_children_ready 2 ||
	    atf_fail "relay children not ready: $(tail -20 rd.log | rd_flat)"
}

# vg_session: what goes through the daemon.
vg_session()
{
	rd_agent agent -e
	rd_random up.bin 1048576
	atf_check -o ignore "$(rd_libdir)/rdpeer" connect -P 2 -s up.bin \
	    -r back "$RD_CURL"
	rd_same_sha256 up.bin back.0
	rd_same_sha256 up.bin back.1
	/usr/bin/python3 - "$(rd_libdir)" "$RD_PORT" "$VG_TLSPORT" \
	    >session.out 2>&1 <<-'PY' || atf_fail "session: $(rd_flat session.out)"
	import hashlib, os, socket, ssl, sys
	sys.path.insert(0, sys.argv[1])
	import rawpeer
	port, tlsport = int(sys.argv[2]), int(sys.argv[3])
	ckey = open("client.secret").read().strip()
	def answer(head, want, tls=False):
	    s = rawpeer.connect(tlsport if tls else port, 30.0)
	    if tls:
	        ctx = ssl.create_default_context()
	        ctx.check_hostname = False
	        ctx.verify_mode = ssl.CERT_NONE
	        s = ctx.wrap_socket(s)
	    s.sendall(head)
	    data, how = rawpeer.read_until_close(s, 30.0)
	    s.close()
	    rawpeer.check_bytes(head.split(b"\r\n")[0].decode(),
	                        rawpeer.answer_bytes(want), data)
	    print(want, "ok")
	answer(rawpeer.wr_head("/test/path/", "0" * 64, "vg-1"),
	       "invalid_missing_apikey")
	answer(rawpeer.wr_head("/nowhere/", ckey, "vg-2"), "missing_destination")
	answer(("GET /test/path/ HTTP/1.1\r\nHost: x\r\nX-Remoted-APIKey: %s"
	        "\r\n\r\n" % ckey).encode(), "invalid_request")
	answer(rawpeer.ws_head("/test/path/", ckey, extra=["X-Pad: " +
	       "a" * 9000]), "headers_too_large")
	answer(rawpeer.wr_head("/test/path/", "1" * 64, "vg-3"),
	       "invalid_missing_apikey", tls=True)
	# a tunnel from a TLS client to the plain agent: bridged
	ctx = ssl.create_default_context()
	ctx.check_hostname = False
	ctx.verify_mode = ssl.CERT_NONE
	s = ctx.wrap_socket(rawpeer.connect(tlsport, 30.0))
	s.sendall(rawpeer.wr_head("/test/path/", ckey, "vg-tls"))
	head, rest, how = rawpeer.read_head(s, 30.0)
	rawpeer.check_bytes("TLS tunnel", rawpeer.wr101("vg-tls"), head)
	data = os.urandom(262144)
	s.sendall(data)
	got = rest
	while len(got) < len(data):
	    chunk = s.recv(65536)
	    if not chunk:
	        break
	    got += chunk
	s.close()
	rawpeer.check_bytes("TLS tunnel sha256", hashlib.sha256(data).hexdigest(),
	                    hashlib.sha256(got).hexdigest())
	print("tls tunnel ok")
	PY
	cat session.out
	atf_check -o match:"^now: " "$(rd_sbin rapictl)" -s rd.sock show status
	atf_check -o match:"/test/path/" "$(rd_sbin rapictl)" -s rd.sock \
	    show routes
	atf_check -o ignore "$(rd_sbin rapictl)" -s rd.sock reload
	rd_wait 30 grep -q "configuration reloaded" rd.log ||
	    atf_fail "no reload: $(tail -5 rd.log | rd_flat)"
	grep -q "ping\|pong" agent.log || true
	atf_check -o ignore "$(rd_libdir)/rdpeer" connect -s up.bin -r back.2 \
	    "$RD_CURL"
	rd_same_sha256 up.bin back.2
}

# vg_stop: SIGTERM; every process exits cleanly and says it had no error.
vg_stop()
{
	rd_stop agent
	kill -TERM "$(rd_pid rd)"
	rd_wait_exit rd 60
	rc=$?
	grep -E "^==[0-9]+== " rd.log >valgrind.out
	[ "$rc" = 0 ] ||
	    atf_fail "remotedapid exited with status $rc ($VG_EXIT: a valgrind error): $(grep -v 'ERROR SUMMARY: 0 ' valgrind.out | grep -A12 -E '== [A-Z][a-z]+ |definitely lost in' | rd_flat)"
	n=$(grep -c "ERROR SUMMARY: 0 errors" valgrind.out)
	bad=$(grep "ERROR SUMMARY: " valgrind.out | grep -vc "ERROR SUMMARY: 0 errors")
	echo "valgrind: $n processes without error, $bad with"
	[ "$bad" = 0 ] ||
	    atf_fail "valgrind errors: $(grep -B2 -A12 -E '== (Invalid|Conditional|Use of|Syscall param|Mismatched|Source and destination)|definitely lost in' valgrind.out | rd_flat)"
	# the parent and its two children, at least
	[ "$n" -ge 3 ] ||
	    atf_fail "expected valgrind's summary of 3 processes, saw $n: $(tail -20 rd.log | rd_flat)"
	if grep -E "relay [0-9]+ \(pid [0-9]+\) (killed|exited)" rd.log; then
		atf_fail "a relay child died"
	fi
}

atf_test_case session_memcheck_clean cleanup
session_memcheck_clean_head()
{
	atf_set descr "memcheck on the parent and every relay child: tunnels," \
	    "an agent, error answers, TLS, rapictl, a reload and a stop make" \
	    "no error and lose no memory"
	atf_set require.progs valgrind openssl
	atf_set timeout 300
}
session_memcheck_clean_body()
{
	vg_start
	vg_session
	vg_stop
}
session_memcheck_clean_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case session_memcheck_clean
}

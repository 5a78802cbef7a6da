#! /usr/bin/env atf-sh
#
# penalty_test.sh: a source that keeps failing authentication is shut
# out at accept for a while, and nothing else is.

. "$(atf_get_srcdir)/../lib/lib.sh"

# pt_status BADKEY [SOURCE]: the first status line of an answer, or
# "closed" when the connection gives no byte.
pt_status()
{
	/usr/bin/python3 - "$RD_PORT" "$1" "${2:-127.0.0.1}" <<-'PY'
	import socket, sys
	port, key, src = int(sys.argv[1]), sys.argv[2], sys.argv[3]
	s = socket.socket()
	s.settimeout(3)
	s.bind((src, 0))
	s.connect(("127.0.0.1", port))
	try:
	    s.sendall(("GET /test/path/ HTTP/1.1\r\nHost: x\r\n"
	        "X-Remoted-APIKey: %s\r\n\r\n" % key).encode())
	    data = s.recv(100)
	except (ConnectionResetError, BrokenPipeError):
	    data = b""
	line = data.split(b"\r\n")[0].decode()
	print(line if line else "closed")
	PY
}

atf_test_case penalty_blocks_failing_source cleanup
penalty_blocks_failing_source_head()
{
	atf_set descr "3 bad keys within 10 s block the source for 3 s at" \
	    "accept (good keys included); another source and a trusted" \
	    "proxy are not blocked; the block ends on time"
	atf_set timeout 60
}
penalty_blocks_failing_source_body()
{
	echo "penalty authfail 3 within 10s block 3s" >rd.conf.extra
	echo "trusted proxy 127.0.0.3" >>rd.conf.extra
	rd_setup
	rd_daemon_start
	good=$(cat client.secret)
	for i in 1 2 3; do
		s=$(pt_status nope)
		[ "$s" = "HTTP/1.1 403 Forbidden" ] ||
		    atf_fail "bad key $i: expected 403, saw '$s'"
	done
	rd_wait_log rd.log "penalty: 127.0.0.1 blocked for 3 s"
	s=$(pt_status "$good")
	[ "$s" = closed ] ||
	    atf_fail "a blocked source: expected a close at accept, saw '$s'"
	s=$(pt_status "$good" 127.0.0.2)
	[ "$s" = "HTTP/1.1 502 Bad Gateway" ] ||
	    atf_fail "another source: expected 502 (no server), saw '$s'"
	for i in 1 2 3 4; do
		pt_status nope 127.0.0.3 >/dev/null
	done
	s=$(pt_status "$good" 127.0.0.3)
	[ "$s" = "HTTP/1.1 502 Bad Gateway" ] ||
	    atf_fail "a trusted proxy: expected 502, saw '$s'"
	grep -q "penalty: 127.0.0.3" rd.log &&
	    atf_fail "a trusted proxy was penalized"
	"$(rd_sbin rapictl)" -s rd.sock show status >status.out
	grep -q "1 sources blocked now" status.out ||
	    atf_fail "show status: $(grep penalty status.out)"
	sleep 3.5
	s=$(pt_status "$good")
	[ "$s" = "HTTP/1.1 502 Bad Gateway" ] ||
	    atf_fail "after the block: expected 502, saw '$s'"
	rd_post
	rd_daemon_stop
}
penalty_blocks_failing_source_cleanup()
{
	rd_stop_all
}

atf_test_case penalty_off_by_default cleanup
penalty_off_by_default_head()
{
	atf_set descr "without a penalty statement bad keys block nothing"
	atf_set timeout 60
}
penalty_off_by_default_body()
{
	rd_setup
	rd_daemon_start
	for i in 1 2 3 4 5 6; do
		pt_status nope >/dev/null
	done
	s=$(pt_status "$(cat client.secret)")
	[ "$s" = "HTTP/1.1 502 Bad Gateway" ] ||
	    atf_fail "expected 502, saw '$s'"
	rd_post
	rd_daemon_stop
}
penalty_off_by_default_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case penalty_blocks_failing_source
	atf_add_test_case penalty_off_by_default
}

#! /usr/bin/env atf-sh
#
# tls_test.sh: rapi over TLS (rwss://, rwrs://) to a relay behind a real
# TLS front end started by the test: nginx passing upgrades, as the
# original was deployed, or HAProxy in TCP mode, which passes a
# half-close on.  Certificates come from a test CA given with -C.

. "$(atf_get_srcdir)/common.sh"

# rt_tls_setup [READTIMEOUT]: relay, certificates, nginx in front.
rt_tls_setup()
{
	rd_setup
	rd_daemon_start
	rt_certs
	rt_nginx "${1:-3600s}"
}

# rt_front PORT PATH SCHEME: a URL through the TLS front end on PORT.
rt_front()
{
	rt_url "$3" "127.0.0.1:$1" "$2"
}

# rt_exchange NAME UP OUT CMD ...: peer.py pipe through CMD; it must
# end within 60 s with CMD's exit 0.
rt_exchange()
{
	_name=$1
	shift
	timeout 60 /usr/bin/python3 peer.py pipe "$@" >"$_name.log" 2>&1 ||
	    atf_fail "$_name: the exchange failed: $(rd_flat "$_name.log")"
	grep -q " exit 0$" "$_name.log" ||
	    atf_fail "$_name: rapi connect did not exit 0: $(rd_flat "$_name.log")"
}

atf_test_case stdio_through_nginx cleanup
stdio_through_nginx_head()
{
	atf_set descr "rwss:// and rwrs:// through nginx (TLS, upgrade" \
	    "proxy): 16 MiB each way on rapi connect's stdin/stdout, intact"
	atf_set timeout 90
}
stdio_through_nginx_body()
{
	rt_tls_setup
	rd_random up.bin 16777216
	rd_random down.bin 16777216
	# nginx ends a tunnel at the first EOF either way: no half-close
	rt_backend backend xfer down.bin 16777216
	rt_expose expose -C ca.pem -k server.secret \
	    "$(rt_front "$RT_NGINX" /tls/ rwss)" "127.0.0.1:$RT_PORT"
	rt_exchange client up.bin back.bin "$(rd_bin rapi)" connect -v \
	    -C ca.pem -k client.secret "$(rt_front "$RT_NGINX" /tls/ rwrs)"
	rd_same_sha256 down.bin back.bin
	rd_wait 10 grep -q "^got" backend.log
	rt_got_line backend.log up.bin
	grep -q "tunnel /tls/: .* 16777216 bytes up, 16777216 down" rd.log ||
	    atf_fail "no tunnel of 16777216 bytes each way in the relay's log"
	[ "$(grep -c '"GET /tls/ HTTP/1.1" 101' nginx/access.log)" -ge 2 ] ||
	    atf_fail "expected the client and the dial-back through nginx (101): $(rd_flat nginx/access.log)"
	rd_post
	rd_daemon_stop
}
stdio_through_nginx_cleanup()
{
	rd_stop_all
}

atf_test_case local_port_through_nginx cleanup
local_port_through_nginx_head()
{
	atf_set descr "rapi connect -L over rwrs:// through nginx to rapi" \
	    "expose over rwss://: 16 MiB each way, intact"
	atf_set timeout 90
}
local_port_through_nginx_body()
{
	rt_tls_setup
	rd_random up.bin 16777216
	rd_random down.bin 16777216
	rt_backend backend xfer down.bin 16777216
	rt_expose expose -C ca.pem -k server.secret \
	    "$(rt_front "$RT_NGINX" /tls/ rwss)" "127.0.0.1:$RT_PORT"
	lport=$(rd_freeport)
	rd_start local "$(rd_bin rapi)" connect -v -C ca.pem -k client.secret \
	    -L "$lport" "$(rt_front "$RT_NGINX" /tls/ rwrs)"
	rd_wait 10 grep -q "listening on" local.log ||
	    atf_fail "rapi connect -L does not listen: $(rd_flat local.log)"
	timeout 60 /usr/bin/python3 peer.py tcp "$lport" up.bin back.bin \
	    keep-open >client.log 2>&1 ||
	    atf_fail "the client failed: $(rd_flat client.log local.log)"
	rd_same_sha256 down.bin back.bin
	rd_wait 10 grep -q "^got" backend.log
	rt_got_line backend.log up.bin
	rd_alive local || atf_fail "rapi connect -L died: $(rd_flat local.log)"
	rd_post
	rd_daemon_stop
}
local_port_through_nginx_cleanup()
{
	rd_stop_all
}

atf_test_case wrong_ca_fails_clearly cleanup
wrong_ca_fails_clearly_head()
{
	atf_set descr "A CA that did not sign nginx's certificate: rapi" \
	    "connect fails in one line naming the verification, exit" \
	    "non-zero; rapi expose says the same and does not register"
	atf_set timeout 60
}
wrong_ca_fails_clearly_body()
{
	rt_tls_setup
	rt_backend backend echo
	want="^rapi: TLS with 127.0.0.1: certificate verification failed: "
	timeout 10 "$(rd_bin rapi)" connect -C other-ca.pem -k client.secret \
	    "$(rt_front "$RT_NGINX" /tls/ rwrs)" </dev/null >out 2>err
	rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 124 ] ||
	    atf_fail "rapi connect with the wrong CA: expected a failure, exit $rc"
	[ ! -s out ] && [ "$(wc -l <err)" -eq 1 ] && grep -q "$want" err ||
	    atf_fail "expected one line matching '$want', saw: $(rd_flat err out)"
	rd_start expose "$(rd_bin rapi)" expose -v -C other-ca.pem \
	    -k server.secret "$(rt_front "$RT_NGINX" /tls/ rwss)" \
	    "127.0.0.1:$RT_PORT"
	rd_wait_log expose.log \
	    "rapi: TLS with 127.0.0.1: certificate verification failed: .*; retrying in"
	grep -q registered expose.log &&
	    atf_fail "rapi expose registered through a certificate it cannot verify"
	grep -q "route /tls/ registered" rd.log &&
	    atf_fail "the relay saw a registration"
	rd_post
	rd_daemon_stop
}
wrong_ca_fails_clearly_cleanup()
{
	rd_stop_all
}

atf_test_case idle_control_channel_behind_nginx cleanup
idle_control_channel_behind_nginx_head()
{
	atf_set descr "TESTPLAN row 10: behind nginx with proxy_read_timeout" \
	    "3s, the WebSocket of rapi expose -i 1 (relay ping interval 1)" \
	    "stays up while idle for 8 s (30 s in make soak), and the next" \
	    "client is served; with pings every 30 s instead, nginx cuts it"
	atf_set timeout "$(rd_size 90 150)"
}
idle_control_channel_behind_nginx_body()
{
	rt_tls_setup 3s			# rd.conf: ping interval 1
	rd_random up.bin 65536
	rd_random down.bin 65536
	rt_backend backend xfer down.bin 65536
	rt_expose expose -i 1 -C ca.pem -k server.secret \
	    "$(rt_front "$RT_NGINX" /tls/ rwss)" "127.0.0.1:$RT_PORT"
	# the control, at the same time: the same without frequent pings
	mkdir control
	cp ca.pem server.pem server.key control/
	(cd control && echo "ping interval 30" >rd.conf.extra && rd_setup &&
	    rd_daemon_start && rt_nginx 3s && rt_backend backend echo &&
	    rt_expose expose -i 30 -C ca.pem -k server.secret \
	    "$(rt_front "$RT_NGINX" /tls/ rwss)" "127.0.0.1:$RT_PORT") ||
	    atf_fail "the control did not start: $(rd_flat control/*.log)"
	sleep "$(rd_size 8 30)"
	[ "$(grep -c registered expose.log)" -eq 1 ] &&
	    ! grep -q "retrying" expose.log ||
	    atf_fail "the WebSocket did not stay up: $(rd_flat expose.log)"
	grep -q "retrying" control/expose.log ||
	    atf_fail "control: nginx did not cut a WebSocket with pings every 30 s, so this test proves nothing: $(rd_flat control/expose.log)"
	grep -q "timed out" nginx/error.log &&
	    atf_fail "nginx timed something out: $(grep 'timed out' nginx/error.log | rd_flat)"
	rt_exchange client up.bin back.bin "$(rd_bin rapi)" connect \
	    -C ca.pem -k client.secret "$(rt_front "$RT_NGINX" /tls/ rwrs)"
	rd_same_sha256 down.bin back.bin
	rd_wait 10 grep -q "^got" backend.log
	rt_got_line backend.log up.bin
	[ "$(grep -c "route /tls/ registered" rd.log)" -eq 1 ] ||
	    atf_fail "the relay saw the path registered more than once"
	rd_post
	rd_daemon_stop
}
idle_control_channel_behind_nginx_cleanup()
{
	rd_stop_all
	[ -d control ] && (cd control && rd_stop_all)
	return 0
}

atf_test_case half_close_over_tls cleanup
half_close_over_tls_head()
{
	atf_set descr "Request, then EOF, then response over rwrs:// and" \
	    "rwss:// (TLS 1.3 and 1.2, through HAProxy): the EOF goes as a" \
	    "close_notify and 8 MiB of response still arrive whole"
	atf_set timeout 90
}
half_close_over_tls_body()
{
	rd_setup
	rd_daemon_start
	rt_certs
	rt_haproxy
	rd_random req.bin 8388608
	rd_random resp.bin 8388608
	rt_backend backend reply resp.bin	# reads to EOF, then answers
	n=0
	for port in "$RT_HAPROXY" "$RT_HAPROXY12"; do
		n=$((n + 1))
		rt_expose "expose.$port" -C ca.pem -k server.secret \
		    "$(rt_front "$port" "/hc$port/" rwss)" "127.0.0.1:$RT_PORT"
		timeout 60 "$(rd_bin rapi)" connect -v -C ca.pem \
		    -k client.secret "$(rt_front "$port" "/hc$port/" rwrs)" \
		    <req.bin >"out.$port" 2>"connect.$port.log" ||
		    atf_fail "rapi connect via port $port exited $?: $(rd_flat "connect.$port.log")"
		rd_same_sha256 resp.bin "out.$port"
		rd_wait 10 sh -c "[ \$(grep -c '^replied' backend.log) -eq $n ]" ||
		    atf_fail "the backend did not answer: $(rd_flat backend.log)"
		[ "$(grep -c "^got 8388608 $(rd_sha256 req.bin)$" backend.log)" -eq $n ] ||
		    atf_fail "via port $port the backend expected the 8388608 bytes of the request, then EOF; saw: $(grep '^got\|^error' backend.log | rd_flat)"
	done
	grep -q "tunnel /hc$RT_HAPROXY12/: .* 8388608 bytes up, 8388608 down, .*closed" \
	    rd.log || atf_fail "no closed tunnel of 8388608 bytes each way"
	rd_post
	rd_daemon_stop
}
half_close_over_tls_cleanup()
{
	rd_stop_all
}

atf_test_case half_close_through_nginx_not_silent cleanup
half_close_through_nginx_not_silent_head()
{
	atf_set descr "nginx's upgrade proxy ends a tunnel at the first EOF," \
	    "so a request then EOF over rwrs:// loses the answer: rapi" \
	    "connect must then fail in one line, never exit 0 with less"
	atf_set timeout 60
}
half_close_through_nginx_not_silent_body()
{
	rt_tls_setup
	rt_backend backend echo
	rt_expose expose -C ca.pem -k server.secret \
	    "$(rt_front "$RT_NGINX" /tls/ rwss)" "127.0.0.1:$RT_PORT"
	echo "a request, then EOF" >in
	timeout 20 "$(rd_bin rapi)" connect -C ca.pem -k client.secret \
	    "$(rt_front "$RT_NGINX" /tls/ rwrs)" <in >out 2>err
	rc=$?
	[ $rc -ne 124 ] || atf_fail "rapi connect did not end within 20 s"
	if cmp -s in out; then
		[ $rc -eq 0 ] ||
		    atf_fail "the echo came back whole, yet exit $rc: $(rd_flat err)"
	else
		[ $rc -ne 0 ] ||
		    atf_fail "exit 0 with $(wc -c <out) of $(wc -c <in) bytes echoed"
		[ "$(wc -l <err)" -eq 1 ] && grep -q "^rapi: tunnel " err ||
		    atf_fail "expected one line saying why, saw: $(rd_flat err)"
	fi
	rd_post
	rd_daemon_stop
}
half_close_through_nginx_not_silent_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case stdio_through_nginx
	atf_add_test_case local_port_through_nginx
	atf_add_test_case wrong_ca_fails_clearly
	atf_add_test_case idle_control_channel_behind_nginx
	atf_add_test_case half_close_over_tls
	atf_add_test_case half_close_through_nginx_not_silent
}

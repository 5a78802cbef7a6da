#! /usr/bin/env atf-sh
#
# tls_test.sh: the relay's own TLS listeners (TESTPLAN row 37): bad and
# slow handshakes are closed within the handshake timeout (3 s in
# rd_conf), rapi reaches the relay over rwss:// and rwrs:// straight,
# TLS and plain sides mix in one tunnel with half-close passed on, and
# a renewed certificate is served after SIGHUP while live tunnels go on.

. "$(atf_get_srcdir)/common.sh"

# tt_probe NAME MODE: peer.py probe on the TLS port; its words in
# $TT_HOW $TT_SECS $TT_BYTES $TT_FIRST.
tt_probe()
{
	dp_py probe "$DP_TLS" "$2" 15 >"$1.log" 2>&1 ||
	    atf_fail "probe $2 failed: $(rd_flat "$1.log")"
	read -r TT_HOW TT_SECS TT_BYTES TT_FIRST <"$1.log"
}

# tt_within LOW HIGH: $TT_SECS is in [LOW, HIGH].
tt_within()
{
	awk -v s="$TT_SECS" -v lo="$1" -v hi="$2" \
	    'BEGIN { exit !(s >= lo && s <= hi) }'
}

# tt_still_serves: after abuse, a good handshake still works and the
# relay's children are all there.
tt_still_serves()
{
	echo | openssl s_client -connect "127.0.0.1:$DP_TLS" \
	    -CAfile ca.pem -verify_return_error >s_client.log 2>&1 ||
	    atf_fail "no good handshake after that: $(rd_flat s_client.log)"
	rd_post
}

atf_test_case s_client_verifies_certificate cleanup
s_client_verifies_certificate_head()
{
	atf_set descr "openssl s_client verifies the listener's certificate" \
	    "with the test CA, and a request inside gets the 403 JSON"
	atf_set timeout 60
}
s_client_verifies_certificate_body()
{
	dp_tls_setup
	printf 'GET /test/path/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' |
	    timeout 10 openssl s_client -connect "127.0.0.1:$DP_TLS" \
	    -CAfile ca.pem -verify_return_error -verify_ip 127.0.0.1 \
	    -ign_eof >s_client.log 2>&1 ||
	    atf_fail "s_client failed: $(rd_flat s_client.log)"
	grep -q "Verify return code: 0 (ok)" s_client.log ||
	    atf_fail "expected 'Verify return code: 0 (ok)', saw: $(rd_flat s_client.log)"
	grep -q '^HTTP/1.1 403 ' s_client.log &&
	    grep -q '"errorcode":"invalid_missing_apikey"' s_client.log ||
	    atf_fail "expected a 403 invalid_missing_apikey inside TLS, saw: $(rd_flat s_client.log)"
	[ "$(dp_served "$DP_TLS")" = "$(dp_fingerprint server.pem)" ] ||
	    atf_fail "the served certificate is not server.pem"
	rd_post
	rd_daemon_stop
}
s_client_verifies_certificate_cleanup()
{
	rd_stop_all
}

atf_test_case garbage_bytes_closed_within_handshake_timeout cleanup
garbage_bytes_closed_within_handshake_timeout_head()
{
	atf_set descr "4 KiB of random bytes on the TLS port: closed within" \
	    "the handshake timeout (3 s), and the relay serves on"
	atf_set timeout 60
}
garbage_bytes_closed_within_handshake_timeout_body()
{
	dp_tls_setup
	tt_probe probe garbage
	[ "$TT_HOW" != open ] && tt_within 0 3 ||
	    atf_fail "expected a close within 3 s, saw: $(rd_flat probe.log)"
	tt_still_serves
	rd_daemon_stop
}
garbage_bytes_closed_within_handshake_timeout_cleanup()
{
	rd_stop_all
}

atf_test_case plain_http_on_tls_port_closed_cleanly cleanup
plain_http_on_tls_port_closed_cleanly_head()
{
	atf_set descr "A plain HTTP request on the TLS port: an orderly" \
	    "close (EOF, not a reset) within the handshake timeout, no" \
	    "answer in clear, and curl says so"
	atf_set timeout 60
}
plain_http_on_tls_port_closed_cleanly_body()
{
	dp_tls_setup
	tt_probe probe http
	tt_within 0 3 ||
	    atf_fail "expected a close within 3 s, saw: $(rd_flat probe.log)"
	case "$TT_FIRST" in
	HTTP/*)	atf_fail "an HTTP answer in clear: $(rd_flat probe.log)" ;;
	esac
	curl -sS -m 10 "http://127.0.0.1:$DP_TLS/test/path/" >curl.out \
	    2>curl.err
	rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 28 ] ||
	    atf_fail "curl in clear on the TLS port: exit $rc, $(rd_flat curl.err)"
	tt_still_serves
	[ "$TT_HOW" = eof ] ||
	    atf_fail "expected an orderly close (eof), saw: $(rd_flat probe.log) (curl: $(rd_flat curl.err))"
	rd_daemon_stop
}
plain_http_on_tls_port_closed_cleanly_cleanup()
{
	rd_stop_all
}

atf_test_case silent_handshake_closed_at_timeout cleanup
silent_handshake_closed_at_timeout_head()
{
	atf_set descr "A client that connects to the TLS port and sends" \
	    "nothing is closed at the handshake timeout, 3 s +- 1"
	atf_set timeout 60
}
silent_handshake_closed_at_timeout_body()
{
	dp_tls_setup
	tt_probe probe silent
	[ "$TT_HOW" != open ] && tt_within 2 4 ||
	    atf_fail "expected a close at 3 +- 1 s, saw: $(rd_flat probe.log)"
	tt_still_serves
	rd_daemon_stop
}
silent_handshake_closed_at_timeout_cleanup()
{
	rd_stop_all
}

atf_test_case partial_client_hello_closed_at_timeout cleanup
partial_client_hello_closed_at_timeout_head()
{
	atf_set descr "Half a ClientHello, then nothing: closed at the" \
	    "handshake timeout, 3 s +- 1"
	atf_set timeout 60
}
partial_client_hello_closed_at_timeout_body()
{
	dp_tls_setup
	tt_probe probe partial
	[ "$TT_HOW" != open ] && tt_within 2 4 ||
	    atf_fail "expected a close at 3 +- 1 s, saw: $(rd_flat probe.log)"
	tt_still_serves
	rd_daemon_stop
}
partial_client_hello_closed_at_timeout_cleanup()
{
	rd_stop_all
}

atf_test_case trickled_client_hello_closed_at_timeout cleanup
trickled_client_hello_closed_at_timeout_head()
{
	atf_set descr "Slowloris on the handshake: a ClientHello one byte" \
	    "every 0.5 s is closed at the handshake timeout (3 s +- 1)," \
	    "however the bytes keep coming"
	atf_set timeout 60
}
trickled_client_hello_closed_at_timeout_body()
{
	dp_tls_setup
	tt_probe probe trickle
	[ "$TT_HOW" != open ] && tt_within 2 4 ||
	    atf_fail "expected a close at 3 +- 1 s, saw: $(rd_flat probe.log)"
	tt_still_serves
	rd_daemon_stop
}
trickled_client_hello_closed_at_timeout_cleanup()
{
	rd_stop_all
}

atf_test_case handshake_without_head_gets_408 cleanup
handshake_without_head_gets_408_head()
{
	atf_set descr "A finished handshake and no request head: 408 inside" \
	    "TLS at the handshake timeout (counted from the accept), 3 s +- 1"
	atf_set timeout 60
}
handshake_without_head_gets_408_body()
{
	dp_tls_setup
	tt_probe probe nohead
	case "$TT_FIRST" in
	HTTP/1.1_408_*)	;;
	*)	atf_fail "expected a 408 through TLS, saw: $(rd_flat probe.log)" ;;
	esac
	tt_within 2 4 ||
	    atf_fail "expected the 408 at 3 +- 1 s, saw: $(rd_flat probe.log)"
	tt_still_serves
	rd_daemon_stop
}
handshake_without_head_gets_408_cleanup()
{
	rd_stop_all
}

atf_test_case rwss_rwrs_16mib_each_way cleanup
rwss_rwrs_16mib_each_way_head()
{
	atf_set descr "rapi expose over rwss:// and rapi connect over" \
	    "rwrs:// straight to the relay: 16 MiB each way, sha256 equal;" \
	    "then four more tunnels of 1 MiB up, 16 MiB down"
	atf_set timeout 120
}
rwss_rwrs_16mib_each_way_body()
{
	dp_tls_setup 2
	rd_random up.bin 16777216
	rd_random down.bin 16777216
	dp_backend backend xfer down.bin
	dp_expose expose -C ca.pem -k server.secret \
	    "$(dp_url rwss "$DP_TLS" /tls/)" "127.0.0.1:$DP_BACKEND"
	dp_connect client up.bin back.bin -C ca.pem -k client.secret \
	    "$(dp_url rwrs "$DP_TLS" /tls/)"
	rd_same_sha256 down.bin back.bin
	dp_got backend.log up.bin
	grep -q "tunnel /tls/: .* 16777216 bytes up, 16777216 down" rd.log ||
	    atf_fail "no tunnel of 16 MiB each way in the relay's log"
	# more tunnels: whether a dial-back meets its client's child or is
	# bridged from the other one is the parent's choice (prefork 2)
	rd_random small.bin 1048576
	for i in 1 2 3 4; do
		dp_connect "small$i" small.bin "back$i.bin" -C ca.pem \
		    -k client.secret "$(dp_url rwrs "$DP_TLS" /tls/)"
		rd_same_sha256 down.bin "back$i.bin"
	done
	rd_wait 10 sh -c "[ \$(grep -c '^got 1048576 $(rd_sha256 small.bin)\$' backend.log) -eq 4 ]" ||
	    atf_fail "the backend did not get 4 x 1 MiB intact: $(rd_flat backend.log)"
	rd_post
	rd_daemon_stop
}
rwss_rwrs_16mib_each_way_cleanup()
{
	rd_stop_all
}

# tt_mixed CLIENTSCHEME CLIENTPORT SERVERSCHEME SERVERPORT: 16 MiB each
# way between a client and a server on the given sides.
tt_mixed()
{
	rd_random up.bin 16777216
	rd_random down.bin 16777216
	dp_backend backend xfer down.bin
	dp_expose expose -C ca.pem -k server.secret \
	    "$(dp_url "$3" "$4" /mixed/)" "127.0.0.1:$DP_BACKEND"
	dp_connect client up.bin back.bin -C ca.pem -k client.secret \
	    "$(dp_url "$1" "$2" /mixed/)"
	rd_same_sha256 down.bin back.bin
	dp_got backend.log up.bin
}

atf_test_case tls_client_plain_server cleanup
tls_client_plain_server_head()
{
	atf_set descr "A TLS and a plain listener in one relay: a client" \
	    "over rwrs:// reaches a server registered over rws://, 16 MiB" \
	    "each way intact"
	atf_set timeout 120
}
tls_client_plain_server_body()
{
	dp_tls_setup
	tt_mixed rwrs "$DP_TLS" rws "$RD_PORT"
	rd_post
	rd_daemon_stop
}
tls_client_plain_server_cleanup()
{
	rd_stop_all
}

atf_test_case plain_client_tls_server cleanup
plain_client_tls_server_head()
{
	atf_set descr "A client over rwr:// reaches a server registered" \
	    "over rwss://, 16 MiB each way intact"
	atf_set timeout 120
}
plain_client_tls_server_body()
{
	dp_tls_setup
	tt_mixed rwr "$RD_PORT" rwss "$DP_TLS"
	rd_post
	rd_daemon_stop
}
plain_client_tls_server_cleanup()
{
	rd_stop_all
}

# tt_half_close CLIENTSCHEME CLIENTPORT SERVERSCHEME SERVERPORT: the
# client sends 1 MiB and ends its input (a close_notify on TLS, a FIN in
# clear); a server that answers only after EOF sends 4 MiB back, which
# must all arrive.  Three times, so dial-backs land in both children.
tt_half_close()
{
	rd_random question.bin 1048576
	rd_random answer.bin 4194304
	dp_backend backend reply answer.bin
	dp_expose expose -C ca.pem -k server.secret \
	    "$(dp_url "$3" "$4" /half/)" "127.0.0.1:$DP_BACKEND"
	for i in 1 2 3; do
		dp_connect "client$i" question.bin "got$i.bin" -C ca.pem \
		    -k client.secret "$(dp_url "$1" "$2" /half/)"
		[ -s "got$i.bin" ] ||
		    atf_fail "nothing came back after the half-close (try $i): $(rd_flat "client$i.log")"
		rd_same_sha256 answer.bin "got$i.bin"
	done
	[ "$(grep -c "^got 1048576 $(rd_sha256 question.bin)$" \
	    backend.log)" -eq 3 ] ||
	    atf_fail "the server did not see the whole question and its EOF 3 times: $(rd_flat backend.log)"
}

atf_test_case half_close_tls_client_side cleanup
half_close_tls_client_side_head()
{
	atf_set descr "Half-close from a TLS client (rwrs://) to a plain" \
	    "server: the server sees EOF, its whole answer comes back"
	atf_set timeout 90
}
half_close_tls_client_side_body()
{
	dp_tls_setup
	tt_half_close rwrs "$DP_TLS" rws "$RD_PORT"
	rd_post
	rd_daemon_stop
}
half_close_tls_client_side_cleanup()
{
	rd_stop_all
}

atf_test_case half_close_tls_server_side cleanup
half_close_tls_server_side_head()
{
	atf_set descr "Half-close from a plain client to a server on a TLS" \
	    "side (rwss://): the relay sends close_notify and keeps reading;" \
	    "the whole answer comes back"
	atf_set timeout 90
}
half_close_tls_server_side_body()
{
	dp_tls_setup
	tt_half_close rwr "$RD_PORT" rwss "$DP_TLS"
	rd_post
	rd_daemon_stop
}
half_close_tls_server_side_cleanup()
{
	rd_stop_all
}

atf_test_case half_close_tls_both_sides cleanup
half_close_tls_both_sides_head()
{
	atf_set descr "Half-close with both sides on TLS: the whole answer" \
	    "comes back"
	atf_set timeout 90
}
half_close_tls_both_sides_body()
{
	dp_tls_setup
	tt_half_close rwrs "$DP_TLS" rwss "$DP_TLS"
	rd_post
	rd_daemon_stop
}
half_close_tls_both_sides_cleanup()
{
	rd_stop_all
}

atf_test_case curl_https_gets_json_errors cleanup
curl_https_gets_json_errors_head()
{
	atf_set descr "curl over https: 403 JSON without a key, 502 JSON" \
	    "with the client key on a path nobody registered"
	atf_set timeout 60
}
curl_https_gets_json_errors_body()
{
	dp_tls_setup
	url="https://127.0.0.1:$DP_TLS/test/path/"
	code=$(curl -sS -m 10 --cacert ca.pem -o body403 -D head403 \
	    -w '%{http_code}' "$url" 2>curl.err) ||
	    atf_fail "curl failed: $(rd_flat curl.err)"
	[ "$code" = 403 ] &&
	    grep -qi '^Content-Type: application/json' head403 &&
	    [ "$(cat body403)" = '{"success":false,"error":"Invalid or missing '"'"'X-Remoted-APIKey'"'"' header.","errorcode":"invalid_missing_apikey"}' ] ||
	    atf_fail "expected 403 invalid_missing_apikey in JSON, saw $code: $(rd_flat head403 body403)"
	code=$(curl -sS -m 10 --cacert ca.pem -o body502 -D head502 \
	    -w '%{http_code}' -H "X-Remoted-APIKey: $(cat client.secret)" \
	    "$url" 2>curl.err) ||
	    atf_fail "curl failed: $(rd_flat curl.err)"
	[ "$code" = 502 ] &&
	    grep -qi '^Content-Type: application/json' head502 &&
	    [ "$(cat body502)" = '{"success":false,"error":"Requested destination does not exist at this time.","errorcode":"missing_destination"}' ] ||
	    atf_fail "expected 502 missing_destination in JSON, saw $code: $(rd_flat head502 body502)"
	rd_post
	rd_daemon_stop
}
curl_https_gets_json_errors_cleanup()
{
	rd_stop_all
}

# tt_renew NAME: put certificate NAME in place of server.pem/server.key
# as a renewal does (new files renamed over the old), then SIGHUP.
tt_renew()
{
	cp "$1.pem" server.pem.new
	cp "$1.key" server.key.new
	mv server.key.new server.key
	mv server.pem.new server.pem
	kill -HUP "$(rd_pid rd)"
}

atf_test_case hup_serves_renewed_certificate cleanup
hup_serves_renewed_certificate_head()
{
	atf_set descr "Certificate renewal: new files and SIGHUP; the next" \
	    "handshake shows the new certificate, and rapi verifies it"
	atf_set timeout 60
}
hup_serves_renewed_certificate_body()
{
	dp_tls_setup
	dp_cert renewed
	old=$(dp_fingerprint server.pem)
	new=$(dp_fingerprint renewed.pem)
	[ "$(dp_served "$DP_TLS")" = "$old" ] ||
	    atf_fail "before the HUP: not the first certificate"
	tt_renew renewed
	rd_wait_log rd.log "configuration reloaded"
	got=$(dp_served "$DP_TLS")
	[ "$got" = "$new" ] ||
	    atf_fail "after the HUP: expected the renewed certificate $new, saw $got"
	rd_random down.bin 65536
	dp_backend backend xfer down.bin
	dp_expose expose -C ca.pem -k server.secret \
	    "$(dp_url rwss "$DP_TLS" /renewed/)" "127.0.0.1:$DP_BACKEND"
	dp_connect client down.bin back.bin -C ca.pem -k client.secret \
	    "$(dp_url rwrs "$DP_TLS" /renewed/)"
	rd_same_sha256 down.bin back.bin
	rd_post
	rd_daemon_stop
}
hup_serves_renewed_certificate_cleanup()
{
	rd_stop_all
}

atf_test_case hup_keeps_tls_tunnels_and_agents cleanup
hup_keeps_tls_tunnels_and_agents_head()
{
	atf_set descr "A tunnel opened over TLS before a certificate" \
	    "renewal and SIGHUP keeps moving bytes after it, intact, and" \
	    "the agent's TLS WebSocket stays registered"
	atf_set timeout 90
}
hup_keeps_tls_tunnels_and_agents_body()
{
	dp_tls_setup
	dp_cert renewed
	rd_random first.bin 1048576
	rd_random second.bin 4194304
	cat first.bin second.bin >all.bin
	dp_backend backend echo
	dp_expose expose -C ca.pem -k server.secret \
	    "$(dp_url rwss "$DP_TLS" /keep/)" "127.0.0.1:$DP_BACKEND"
	lport=$(rd_freeport)
	rd_start local "$(rd_bin rapi)" connect -v -C ca.pem \
	    -k client.secret -L "$lport" "$(dp_url rwrs "$DP_TLS" /keep/)"
	rd_wait 10 dp_listening "$lport" ||
	    atf_fail "rapi connect -L does not listen: $(rd_flat local.log)"
	dp_peerpy
	rd_start twostep /usr/bin/python3 peer.py twostep "$lport" first.bin \
	    second.bin back.bin go
	rd_wait_log twostep.log "^first 1048576" 20
	tt_renew renewed
	rd_wait_log rd.log "configuration reloaded"
	[ "$(dp_served "$DP_TLS")" = "$(dp_fingerprint renewed.pem)" ] ||
	    atf_fail "the renewed certificate is not served"
	touch go
	rd_wait_exit twostep 60 ||
	    atf_fail "the tunnel failed after the HUP: $(rd_flat twostep.log local.log)"
	rd_same_sha256 all.bin back.bin
	[ "$(grep -c registered expose.log)" -eq 1 ] &&
	    ! grep -qi "lost\|retrying" expose.log ||
	    atf_fail "the agent lost its registration: $(rd_flat expose.log)"
	rd_post
	rd_daemon_stop
}
hup_keeps_tls_tunnels_and_agents_cleanup()
{
	rd_stop_all
}

atf_test_case hup_with_bad_key_keeps_old_certificate cleanup
hup_with_bad_key_keeps_old_certificate_head()
{
	atf_set descr "A renewal gone wrong (the key does not match the" \
	    "certificate): SIGHUP keeps the old configuration, and the old" \
	    "certificate is still served"
	atf_set timeout 60
}
hup_with_bad_key_keeps_old_certificate_body()
{
	dp_tls_setup
	dp_cert renewed
	dp_cert other
	old=$(dp_fingerprint server.pem)
	cp other.key renewed.key
	tt_renew renewed
	rd_wait_log rd.log "kept the old"
	got=$(dp_served "$DP_TLS")
	[ "$got" = "$old" ] ||
	    atf_fail "expected the old certificate $old still served, saw ${got:-none}"
	rd_post
	rd_daemon_stop
}
hup_with_bad_key_keeps_old_certificate_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case s_client_verifies_certificate
	atf_add_test_case garbage_bytes_closed_within_handshake_timeout
	atf_add_test_case plain_http_on_tls_port_closed_cleanly
	atf_add_test_case silent_handshake_closed_at_timeout
	atf_add_test_case partial_client_hello_closed_at_timeout
	atf_add_test_case trickled_client_hello_closed_at_timeout
	atf_add_test_case handshake_without_head_gets_408
	atf_add_test_case rwss_rwrs_16mib_each_way
	atf_add_test_case tls_client_plain_server
	atf_add_test_case plain_client_tls_server
	atf_add_test_case half_close_tls_client_side
	atf_add_test_case half_close_tls_server_side
	atf_add_test_case half_close_tls_both_sides
	atf_add_test_case curl_https_gets_json_errors
	atf_add_test_case hup_serves_renewed_certificate
	atf_add_test_case hup_keeps_tls_tunnels_and_agents
	atf_add_test_case hup_with_bad_key_keeps_old_certificate
}

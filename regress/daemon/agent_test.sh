#! /usr/bin/env atf-sh
#
# agent_test.sh: a server agent's WebSocket: the framing the relay
# enforces, how it parses frames however they are cut, one agent per
# path, pings both ways, and what the agent's end does to its clients.

. "$(atf_get_srcdir)/../lib/lib.sh"

# --- helpers of this file ----------------------------------------------

# ws_req PATH: a server's WebSocket registration (rawpeer fills {skey}).
ws_req()
{
	printf '%s' "GET $1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	printf '%s' "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	printf '%s' "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	printf '%s' "Sec-WebSocket-Version: 13\r\n"
	printf '%s' "X-Remoted-APIKey: {skey}\r\n\r\n"
}

# within LOW VALUE HIGH: is LOW <= VALUE <= HIGH (decimals)?
within()
{
	awk -v l="$1" -v v="$2" -v h="$3" \
	    'BEGIN { exit !(v != "" && l + 0 <= v + 0 && v + 0 <= h + 0) }'
}

# --- row 8: bad frames --------------------------------------------------

atf_test_case bad_frames_get_close_codes cleanup
bad_frames_get_close_codes_head()
{
	atf_set descr "each bad agent frame gets its close code (1002, 1007," \
	    "1009), then TCP close; a tunnel on another path, in the same" \
	    "relay child meanwhile, keeps its sha256"
	atf_set timeout 60
}
bad_frames_get_close_codes_body()
{
	echo "max message 1024" >rd.conf.extra
	rd_setup 1
	rd_daemon_start
	rd_random up.bin 2097152
	# The tunnel: 2 MiB at 1 MiB/s, echoed by the agent.
	rd_agent echo -c 1 -e -r got
	rp_client tunnel -i tunnel-1 --send up.bin --rate 1048576 -r back \
	    -t 20 /test/path/
	rd_wait 5 grep -q "^linked" tunnel.log ||
	    atf_fail "the tunnel did not link: $(cat tunnel.log)"
	rawpeer badframes -m 1024 /bad/ \
	    unmasked:1002 unmasked-ping:1002 rsv1:1002 rsv2:1002 rsv3:1002 \
	    opcode-3:1002 opcode-4:1002 opcode-5:1002 opcode-6:1002 \
	    opcode-7:1002 opcode-B:1002 opcode-C:1002 opcode-D:1002 \
	    opcode-E:1002 opcode-F:1002 \
	    fragmented-ping:1002 fragmented-pong:1002 fragmented-close:1002 \
	    ping-126:1002 close-126:1002 len64-msb:1002 len64-msb-text:1002 \
	    continuation-alone:1002 text-inside-fragmented:1002 \
	    binary-inside-fragmented:1002 close-1-byte:1002 \
	    close-code-0:1002 close-code-999:1002 close-code-1004:1002 \
	    close-code-1005:1002 close-code-1006:1002 close-code-1015:1002 \
	    close-code-1016:1002 close-code-2000:1002 close-code-2999:1002 \
	    close-code-5000:1002 close-code-65535:1002 \
	    text-bad-utf8:1007 text-overlong:1007 text-surrogate:1007 \
	    text-above-10ffff:1007 text-truncated:1007 \
	    text-fragments-bad:1007 text-fragments-truncated:1007 \
	    close-reason-bad-utf8:1007 \
	    too-big:1009 too-big-text:1009 too-big-64:1009 \
	    too-big-fragmented:1009 >frames.out 2>&1 ||
	    atf_fail "bad frames: $(grep expected frames.out | tr '\n' ' ')" \
	    "$(grep -v ': close' frames.out | tr '\n' ' ')"
	rd_alive tunnel ||
	    atf_fail "the tunnel ended before the bad frames did (no overlap)"
	rd_wait_exit tunnel 20 || atf_fail "tunnel client: $(cat tunnel.log)"
	rd_wait_exit echo 10 || atf_fail "echo agent: $(cat echo.log)"
	rd_same_sha256 up.bin got.0
	rd_same_sha256 up.bin back
	rd_post
	rd_daemon_stop
}
bad_frames_get_close_codes_cleanup()
{
	rd_stop_all
}

# --- row 9: frames cut anyhow ---------------------------------------------

atf_test_case sliced_frames_same_behaviour cleanup
sliced_frames_same_behaviour_head()
{
	atf_set descr "the same dialogue of agent frames (pings, fragments," \
	    "a 64-bit length, close) sent whole, coalesced, or in 1-7 and" \
	    "1-2 byte pieces: the relay sends back exactly the same frames"
	atf_set timeout 60
}
sliced_frames_same_behaviour_body()
{
	echo "max message 100000" >rd.conf.extra
	rd_setup 1
	rd_daemon_start
	rp_ok "whole frames" sequence -m 100000 /seq/whole/
	mv rp.out whole.txt
	rp_ok "1-7 byte pieces" sequence -m 100000 -p 1-7 /seq/seven/
	mv rp.out seven.txt
	rp_ok "1-2 byte pieces" sequence -m 100000 -p 1-2 /seq/two/
	mv rp.out two.txt
	# The dialogue itself: 3 notifications, the pongs, the close.
	t_n='^text {"ipaddr":"127.0.0.1:PORT","id":"seq-client-[123]"'
	t_n=$(grep -c "$t_n,\"timeout\":5}\$" whole.txt)
	[ "$t_n" -eq 3 ] ||
	    atf_fail "expected 3 notifications: $(tr '\n' ' ' <whole.txt)"
	grep -q "^op 10 $(printf p1 | od -An -tx1 | tr -d ' \n')$" whole.txt ||
	    atf_fail "no pong p1: $(tr '\n' ' ' <whole.txt)"
	[ "$(tail -2 whole.txt | tr '\n' ' ')" = "close 1000 b'' end eof " ] ||
	    atf_fail "expected the relay's close 1000 then EOF at the end:" \
	    "$(tail -2 whole.txt | tr '\n' ' ')"
	for t_f in seven two; do
		cmp -s whole.txt $t_f.txt ||
		    atf_fail "$t_f: the relay answered differently:" \
		    "$(diff whole.txt $t_f.txt | tr '\n' ' ')"
	done
	rd_post
	rd_daemon_stop
}
sliced_frames_same_behaviour_cleanup()
{
	rd_stop_all
}

# --- row 12: one agent per path ---------------------------------------------

atf_test_case second_server_gets_409 cleanup
second_server_gets_409_head()
{
	atf_set descr "a second server on a registered path gets the exact" \
	    "409 path_in_use; the first gets the next notification"
	atf_set timeout 30
}
second_server_gets_409_body()
{
	rd_setup
	rd_daemon_start
	rp_agent first /test/path/
	for t_i in 1 2 3; do
		rp_ok "second server $t_i" send -x path_in_use \
		    "$(ws_req /test/path/)"
	done
	# The SDK's agent is refused the same way.
	timeout 5 "$(rd_libdir)/rdpeer" agent -c 1 "$RD_SURL" >sdk.log 2>&1 &&
	    atf_fail "the SDK agent registered a taken path: $(cat sdk.log)"
	rp_client c1 -i after-409 -t 3 /test/path/
	t_json=$(rp_notified first.log after-409)
	t_want="{\"ipaddr\":\"$(sed -n 's/^local //p' c1.log)\","
	t_want="$t_want\"id\":\"after-409\",\"timeout\":5}"
	[ "$t_json" = "$t_want" ] ||
	    atf_fail "expected the notification $t_want, seen $t_json"
	rd_stop c1
	rd_post
	rd_daemon_stop
}
second_server_gets_409_cleanup()
{
	rd_stop_all
}

# --- pings ------------------------------------------------------------------

atf_test_case relay_pings_agent_that_keeps_path cleanup
relay_pings_agent_that_keeps_path_head()
{
	atf_set descr "the relay pings an agent every interval (1 s); one that" \
	    "answers keeps its path for 5 s and more, and is notified"
	atf_set timeout 30
}
relay_pings_agent_that_keeps_path_body()
{
	rd_setup
	rd_daemon_start
	rp_agent agent /test/path/ -t 20
	sleep 5.5
	t_n=$(grep -c '^ping ' agent.log)
	[ "$t_n" -ge 4 ] && [ "$t_n" -le 7 ] ||
	    atf_fail "expected about 5 pings in 5.5 s, seen $t_n: $(cat agent.log)"
	rp_ok "a second server after 5 s" send -x path_in_use \
	    "$(ws_req /test/path/)"
	rp_client c1 -i after-5s -t 3 /test/path/
	rp_notified agent.log after-5s >/dev/null
	rd_stop c1
	grep -q '^eof\|^close' agent.log &&
	    atf_fail "the relay dropped an agent that answers: $(cat agent.log)"
	rd_stop agent
	rd_post
	rd_daemon_stop
}
relay_pings_agent_that_keeps_path_cleanup()
{
	rd_stop_all
}

atf_test_case silent_agent_loses_path cleanup
silent_agent_loses_path_head()
{
	atf_set descr "an agent that never answers pings is dropped after two" \
	    "missed pings (at 3 s with interval 1 s), and the path is free"
	atf_set timeout 30
}
silent_agent_loses_path_body()
{
	rd_setup
	rd_daemon_start
	rp_agent silent /test/path/ --no-pong -t 10
	rd_wait 6 grep -q '^eof\|^reset\|^close' silent.log ||
	    atf_fail "the silent agent was not dropped in 6 s: $(cat silent.log)"
	t_t=$(sed -n 's/^\(eof\|reset\|close [0-9]*\) \([0-9.]*\)$/\2/p' \
	    silent.log | head -1)
	within 1.5 "$t_t" 3.6 ||
	    atf_fail "expected the drop 2 to 3.5 s after registering, seen" \
	    "'$t_t': $(tr '\n' ' ' <silent.log)"
	[ "$(grep -c '^ping ' silent.log)" -ge 2 ] ||
	    atf_fail "expected two pings before the drop: $(cat silent.log)"
	rp_ok "registration after the drop" send -x ws101 --max-time 1 \
	    "$(ws_req /test/path/)"
	rd_post
	rd_daemon_stop
}
silent_agent_loses_path_cleanup()
{
	rd_stop_all
}

# --- the agent's end ---------------------------------------------------------

atf_test_case agent_close_frame_closes cleanup
agent_close_frame_closes_head()
{
	atf_set descr "an agent's close frame is answered with a close frame" \
	    "(its code, or 1000 for none), then TCP close; the path is free"
	atf_set timeout 30
}
agent_close_frame_closes_body()
{
	rd_setup
	rd_daemon_start
	for t_c in 1000 1001 3000 4999; do
		rp_agent a$t_c /close/$t_c/ --close-after 0.2 --close-code $t_c -t 5
		rd_wait_exit a$t_c 5 || atf_fail "agent $t_c: $(cat a$t_c.log)"
		grep -q "^close $t_c " a$t_c.log ||
		    atf_fail "expected the relay's close $t_c: $(cat a$t_c.log)"
		grep -q "^eof " a$t_c.log ||
		    atf_fail "expected TCP close after close $t_c: $(cat a$t_c.log)"
		rp_ok "registration after close $t_c" send -x ws101 \
		    "$(ws_req /close/$t_c/)"
	done
	# A close frame without a payload.
	rp_agent empty /close/empty/ --close-after 0.2 --close-code -1 -t 5
	rd_wait_exit empty 5 || atf_fail "agent: $(cat empty.log)"
	grep -q "^close 1000 " empty.log ||
	    atf_fail "expected the relay's close 1000: $(cat empty.log)"
	grep -q "^eof " empty.log ||
	    atf_fail "expected TCP close: $(cat empty.log)"
	rd_post
	rd_daemon_stop
}
agent_close_frame_closes_cleanup()
{
	rd_stop_all
}

atf_test_case agent_end_drops_waiting_clients cleanup
agent_end_drops_waiting_clients_head()
{
	atf_set descr "when the agent's WebSocket ends (close frame or TCP)," \
	    "its waiting clients get the exact 502 at once and the path is" \
	    "free again"
	atf_set timeout 30
}
agent_end_drops_waiting_clients_body()
{
	rd_setup
	rd_daemon_start
	for t_how in frame tcp; do
		t_opt=""
		[ $t_how = tcp ] && t_opt=--abrupt
		rp_agent agent /test/path/ --close-after 1 $t_opt -t 5
		rp_client w1 -i waits-$t_how-1 -x missing_destination \
		    --max-time 1.6 -t 6 /test/path/
		rp_client w2 -i waits-$t_how-2 -x missing_destination \
		    --max-time 1.6 -t 6 /test/path/
		rp_notified agent.log waits-$t_how-2 >/dev/null
		for t_w in w1 w2; do
			rd_wait_exit $t_w 5 ||
			    atf_fail "client ($t_how): $(tr '\n' ' ' <$t_w.log)"
		done
		rd_wait_exit agent 5 || atf_fail "agent: $(cat agent.log)"
		rp_ok "registration after the agent's end ($t_how)" send \
		    -x ws101 --max-time 1 "$(ws_req /test/path/)"
		rm -f agent.log
	done
	rd_post
	rd_daemon_stop
}
agent_end_drops_waiting_clients_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case bad_frames_get_close_codes
	atf_add_test_case sliced_frames_same_behaviour
	atf_add_test_case second_server_gets_409
	atf_add_test_case relay_pings_agent_that_keeps_path
	atf_add_test_case silent_agent_loses_path
	atf_add_test_case agent_close_frame_closes
	atf_add_test_case agent_end_drops_waiting_clients
}

#! /usr/bin/env atf-sh
#
# protocol_test.sh: the answers of PROTOCOL.md ("Answers, and the order
# in which they are decided", "Paths and IDs", "The client's address"),
# byte for byte, from raw requests to the real daemon.

. "$(atf_get_srcdir)/../lib/lib.sh"

# --- helpers of this file ----------------------------------------------

# rp_expect ANSWER HEAD [WHAT]: send HEAD, expect exactly ANSWER.
rp_expect()
{
	rp_ok "${3:-$2}" send -x "$1" "$2"
}

# rd_rss_each: "PID KB" of the daemon and each child, sorted by PID.
rd_rss_each()
{
	for h_p in $(rd_pid rd) $(rd_children); do
		awk -v p="$h_p" '/^VmRSS:/ { print p, $2 }' \
		    "/proc/$h_p/status" 2>/dev/null
	done | sort
}

# Request heads.  rawpeer replaces {skey}, {ckey} and {port} and reads
# \r \n \0 \xNN.
WSKEY="dGhlIHNhbXBsZSBub25jZQ=="
CRLF='\r\n'

# ws_req PATH [HEADER ...]: a server's WebSocket registration.
ws_req()
{
	ws_req_key {skey} "$@"
}

# ws_req_key KEY PATH [HEADER ...]: a WebSocket registration presenting
# KEY ("-": no key header).
ws_req_key()
{
	h_k=$1
	h_p=$2
	shift 2
	printf '%s' "GET $h_p HTTP/1.1${CRLF}Host: 127.0.0.1${CRLF}"
	printf '%s' "Connection: Upgrade${CRLF}Upgrade: websocket${CRLF}"
	printf '%s' "Sec-WebSocket-Key: $WSKEY${CRLF}"
	printf '%s' "Sec-WebSocket-Version: 13${CRLF}"
	[ "$h_k" = "-" ] || printf '%s' "X-Remoted-APIKey: $h_k${CRLF}"
	for h_h in "$@"; do
		printf '%s' "$h_h${CRLF}"
	done
	printf '%s' "${CRLF}"
}

# wr_req PATH KEY ID [HEADER ...]: a WebRoute upgrade (KEY: {ckey},
# {skey}, or "-" for no key header; ID "-" for none).
wr_req()
{
	h_p=$1
	h_k=$2
	h_i=$3
	shift 3
	printf '%s' "GET $h_p HTTP/1.1${CRLF}Host: 127.0.0.1${CRLF}"
	printf '%s' "Connection: keep-alive, Upgrade${CRLF}"
	printf '%s' "Pragma: no-cache${CRLF}WebRoute-Version: 1${CRLF}"
	[ "$h_i" = "-" ] || printf '%s' "WebRoute-ID: $h_i${CRLF}"
	printf '%s' "Upgrade: webroute${CRLF}"
	[ "$h_k" = "-" ] || printf '%s' "X-Remoted-APIKey: $h_k${CRLF}"
	for h_h in "$@"; do
		printf '%s' "$h_h${CRLF}"
	done
	printf '%s' "${CRLF}"
}

# hsub TEXT OLD NEW: TEXT with its first OLD replaced by NEW, literally.
hsub()
{
	printf '%s' "$1" | OLD=$2 NEW=$3 awk '{
		i = index($0, ENVIRON["OLD"])
		if (i > 0)
			$0 = substr($0, 1, i - 1) ENVIRON["NEW"] \
			    substr($0, i + length(ENVIRON["OLD"]))
		printf "%s", $0
	}'
}

# --- 1. the request head ------------------------------------------------

atf_test_case head_limits_at_boundaries cleanup
head_limits_at_boundaries_head()
{
	atf_set descr "request line, header line, head and header count at" \
	    "limit-1 and limit get 101, at limit+1 the exact 414/431;" \
	    "RSS grows < 1 MB"
	atf_set timeout 60
}
head_limits_at_boundaries_body()
{
	rd_setup
	rd_daemon_start
	rd_rss_each >rss.start
	for t_round in 1 2 3 4 5; do
		for t_kind in line header head count; do
			case $t_kind in
			line)	t_lim=8192 t_over=uri_too_long ;;
			header)	t_lim=8192 t_over=headers_too_large ;;
			head)	t_lim=16384 t_over=headers_too_large ;;
			count)	t_lim=64 t_over=headers_too_large ;;
			esac
			t_p=/limit/$t_round/$t_kind
			rp_ok "$t_kind of $((t_lim - 1))" limit -x ws101 \
			    $t_kind $((t_lim - 1)) $t_p/below
			rp_ok "$t_kind of $t_lim" limit -x ws101 \
			    $t_kind $t_lim $t_p/at
			rp_ok "$t_kind of $((t_lim + 1))" limit -x $t_over \
			    $t_kind $((t_lim + 1)) $t_p/above
		done
		if [ $t_round -eq 3 ]; then
			rd_rss_each >rss.warm
		fi
	done
	rd_rss_each >rss.end
	# Each process grew by less than 1 MB from its start, and by no
	# more than noise in the last two rounds (buffers are reused).
	join rss.start rss.end | while read -r t_p t_a t_b; do
		[ $((t_b - t_a)) -lt 1024 ] || echo "pid $t_p: $t_a kB -> $t_b kB"
	done >rss.grew
	join rss.warm rss.end | while read -r t_p t_a t_b; do
		[ $((t_b - t_a)) -lt 128 ] ||
		    echo "pid $t_p in rounds 4 and 5: $t_a kB -> $t_b kB"
	done >>rss.grew
	if rd_asan; then
		# ASan's quarantine keeps what is freed: no bound to check
		echo "RSS under ASan: $(tr '\n' ' ' <rss.grew)"
	elif [ -s rss.grew ]; then
		atf_fail "RSS grew (expected < 1024 kB per process from start," \
		    "< 128 kB in the last two rounds): $(tr '\n' ' ' <rss.grew)"
	fi
	rd_post
	rd_daemon_stop
}
head_limits_at_boundaries_cleanup()
{
	rd_stop_all
}

atf_test_case malformed_heads_get_400 cleanup
malformed_heads_get_400_head()
{
	atf_set descr "bare CR, NUL, space before colon, obs-fold, a second" \
	    "Host or key, a body, not HTTP/1.1: 400 bad_request, even" \
	    "with a valid server key (never 101) and without a key (never" \
	    "403: the head comes first)"
	atf_set timeout 60
}
malformed_heads_get_400_body()
{
	rd_setup
	rd_daemon_start
	t_ws="Connection: Upgrade${CRLF}Upgrade: websocket${CRLF}"
	t_ws="${t_ws}Sec-WebSocket-Key: $WSKEY${CRLF}"
	t_ws="${t_ws}Sec-WebSocket-Version: 13${CRLF}"
	t_ok="GET /m/ HTTP/1.1${CRLF}Host: 127.0.0.1${CRLF}$t_ws"
	# One per line: a name, then the head with its flaw.  {ok} is a
	# good start, {ws} its WebSocket lines, {K} the key's header name;
	# {key} is the server key in one round, absent in the other.
	while IFS='|' read -r t_name t_head; do
		[ -n "$t_name" ] || continue
		for t_key in 'X-Remoted-APIKey: {skey}\r\n' ''; do
			rp_ok "$t_name (key: ${t_key:-none})" send -x bad_request \
			    -D "ok=$t_ok" -D "ws=$t_ws" -D "key=$t_key" \
			    -D "K=X-Remoted-APIKey: " "$t_head"
		done
	done <<-'EOF'
	bare CR in a header|{ok}{key}X-A: a\rb\r\n\r\n
	bare CR ending a header|{ok}{key}X-A: a\rX-B: b\r\n\r\n
	bare CR in the request line|GET /m/\r HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}\r\n
	NUL in a header value|{ok}{key}X-A: a\0b\r\n\r\n
	NUL in a header name|{ok}{key}X-\0A: b\r\n\r\n
	NUL in the request line|GET /m/\0 HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}\r\n
	space before colon|{ok}{key}X-A : b\r\n\r\n
	tab before colon|{ok}{key}X-A\t: b\r\n\r\n
	space before colon of Host|GET /m/ HTTP/1.1\r\nHost : x\r\n{ws}{key}\r\n
	obs-fold with a space|{ok}{key}X-A: a\r\n b\r\n\r\n
	obs-fold with a tab|{ok}{key}X-A: a\r\n\tb\r\n\r\n
	obs-fold of the key|{ok}X-Remoted-APIKey:\r\n {skey}\r\n\r\n
	second Host|{ok}{key}Host: 127.0.0.1\r\n\r\n
	second Host, other case|{ok}{key}HOST: other\r\n\r\n
	missing Host|GET /m/ HTTP/1.1\r\n{ws}{key}\r\n
	second key, the same|{ok}{K}{skey}\r\n{K}{skey}\r\n\r\n
	second key, another|{ok}{K}{skey}\r\nx-remoted-apikey: {ckey}\r\n\r\n
	second key, empty|{ok}{K}{skey}\r\nX-Remoted-APIKey:\r\n\r\n
	Content-Length|{ok}{key}Content-Length: 0\r\n\r\n
	Content-Length with a body|{ok}{key}Content-Length: 4\r\n\r\nbody
	Transfer-Encoding|{ok}{key}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n
	CL and TE|{ok}{key}Content-Length: 5\r\nTransfer-Encoding: x\r\n\r\n
	HTTP/1.0|GET /m/ HTTP/1.0\r\nHost: 127.0.0.1\r\n{ws}{key}\r\n
	HTTP/2.0|GET /m/ HTTP/2.0\r\nHost: 127.0.0.1\r\n{key}\r\n
	lower-case version|GET /m/ http/1.1\r\nHost: 127.0.0.1\r\n{key}\r\n
	no version|GET /m/\r\nHost: 127.0.0.1\r\n{key}\r\n
	two spaces in the request line|GET  /m/ HTTP/1.1\r\nHost: x\r\n{ws}{key}\r\n
	empty request line|\r\nGET /m/ HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}\r\n
	header without colon|{ok}{key}X-A\r\n\r\n
	header with empty name|{ok}{key}: b\r\n\r\n
	control byte in a header value|{ok}{key}X-A: a\x01b\r\n\r\n
	DEL in a header value|{ok}{key}X-A: a\x7fb\r\n\r\n
	asterisk-form target|GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}\r\n
	authority-form target|GET 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}\r\n
	EOF
	# A method that is not GET is decided after the key (step 3).
	for t_m in POST PUT HEAD OPTIONS DELETE get; do
		rp_expect method_not_allowed \
		    "$(ws_req /m/ | sed "s|^GET|$t_m|")" "method $t_m"
	done
	rd_post
	rd_daemon_stop
}
malformed_heads_get_400_cleanup()
{
	rd_stop_all
}

atf_test_case bare_lf_and_absolute_form_accepted cleanup
bare_lf_and_absolute_form_accepted_head()
{
	atf_set descr "a head with bare LF line ends and an absolute-form" \
	    "target (whose path is the route) both register"
	atf_set timeout 30
}
bare_lf_and_absolute_form_accepted_body()
{
	rd_setup
	rd_daemon_start
	rp_expect ws101 "$(ws_req /lf/ | sed 's|\\r\\n|\\n|g')" "bare LF head"
	rp_expect ws101 "$(ws_req /mixed/ | sed 's|\\r\\n|\\n|3')" \
	    "one bare LF among CRLFs"
	# The path of an absolute-form target is the route: a second
	# registration in origin-form finds it taken.
	rp_agent abs "http://127.0.0.1:$RD_PORT/abs/path/?q=1"
	rp_expect path_in_use "$(ws_req /abs/path/)" \
	    "origin-form after absolute-form"
	rp_agent abs2 "HTTP://example.org"
	rp_expect path_in_use "$(ws_req /)" "absolute-form without a path is /"
	rd_stop abs
	rd_stop abs2
	rd_post
	rd_daemon_stop
}
bare_lf_and_absolute_form_accepted_cleanup()
{
	rd_stop_all
}

atf_test_case head_timeout_gets_408 cleanup
head_timeout_gets_408_head()
{
	atf_set descr "a head not complete within timeout handshake (3 s)," \
	    "stalled or trickling, gets the exact 408 at 3 s +- 1"
	atf_set timeout 30
}
head_timeout_gets_408_body()
{
	rd_setup
	rd_daemon_start
	rawpeer send -x request_timeout --min-time 2 --max-time 4 -t 8 \
	    "GET /t/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" >stalled.out 2>&1 &
	t_stalled=$!
	# 40 pieces 0.2 s apart: the head would be complete after 8 s.
	rp_ok "trickling head" send -x request_timeout --min-time 2 \
	    --max-time 4 -t 8 -n 40 -d 0.2 "$(ws_req /t/)"
	wait $t_stalled ||
	    atf_fail "stalled head: $(tr '\n' ' ' <stalled.out)"
	# A head that trickles in but is complete after 2.2 s is served.
	rp_ok "head complete in time" send -x ws101 -t 8 -n 12 -d 0.2 \
	    "$(ws_req /t/)"
	rd_post
	rd_daemon_stop
}
head_timeout_gets_408_cleanup()
{
	rd_stop_all
}

# --- 2. the key ---------------------------------------------------------

atf_test_case bad_keys_get_identical_403 cleanup
bad_keys_get_identical_403_head()
{
	atf_set descr "missing, empty, wrong, case-variant, expired keys and" \
	    "keys outside their paths get the same 403; no key byte logged"
	atf_set timeout 60
}
bad_keys_get_identical_403_body()
{
	rd_setup
	rd_keygen other
	rd_keygen old
	rd_keygen confined
	cat >>keys <<-EOF
	server other sha256:$(rd_hash other.secret) paths /other/*
	client confined sha256:$(rd_hash confined.secret) paths /other/*
	client old sha256:$(rd_hash old.secret) expires 2000-01-01T00:00:00Z
	EOF
	rd_daemon_start
	rd_agent agent
	t_wrong=wrongkey$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	t_upper=$(tr a-f A-F <client.secret)
	t_supper=$(tr a-f A-F <server.secret)
	t_short=$(cut -c1-63 <client.secret)
	t_long="$(cat client.secret)0"
	for t_k in "$t_wrong" "$t_upper" "$t_short" "$t_long" \
	    "$(cat old.secret)" "$(cat confined.secret)" \
	    "$(cat other.secret)" "$t_supper" "x" " " "''" ""; do
		rp_expect invalid_missing_apikey \
		    "$(wr_req /test/path/ "$t_k" id-403)" \
		    "client WebRoute with key '$t_k'"
		rp_expect invalid_missing_apikey \
		    "$(ws_req_key "$t_k" /test/path/)" \
		    "WebSocket with key '$t_k'"
	done
	rp_expect invalid_missing_apikey "$(ws_req_key - /test/path/)" \
	    "WebSocket without a key"
	rp_expect invalid_missing_apikey "$(wr_req /test/path/ - id-403)" \
	    "WebRoute without a key"
	rp_expect invalid_missing_apikey \
	    "$(wr_req /test/path/ - id-403 "X-Remoted-APIKey2: {ckey}")" \
	    "the key under another header name"
	# Inside their paths, the confined keys work.
	rp_expect missing_destination \
	    "$(wr_req /other/x "$(cat confined.secret)" id-in)" \
	    "confined client key inside its paths"
	rp_expect ws101 "$(ws_req_key "$(cat other.secret)" /other/y)" \
	    "confined server key inside its paths"
	# The header's name is case-insensitive.
	rp_expect missing_destination \
	    "$(wr_req /nothing/ - id-lc "x-REMOTED-apikey: {ckey}")" \
	    "key header in other letter case"
	# No presented key, right or wrong, is in the log.
	for t_f in client.secret server.secret other.secret old.secret \
	    confined.secret; do
		! grep -qiF "$(cat $t_f)" rd.log ||
		    atf_fail "the key of $t_f is in rd.log"
	done
	for t_k in "$t_wrong" "$t_short"; do
		! grep -qiF "$t_k" rd.log ||
		    atf_fail "the presented key $t_k is in rd.log"
	done
	rd_post
	rd_daemon_stop
}
bad_keys_get_identical_403_cleanup()
{
	rd_stop_all
}

atf_test_case key_white_space_and_size cleanup
key_white_space_and_size_head()
{
	atf_set descr "a key with trailing or leading white space works; a" \
	    "64 KB key is 431 by the header line limit"
	atf_set timeout 30
}
key_white_space_and_size_body()
{
	rd_setup
	rd_daemon_start
	rp_expect ws101 "$(ws_req_key "{skey} " /ws1/)" \
	    "server key with a trailing space"
	rp_expect ws101 "$(ws_req_key '\t{skey}\t ' /ws2/)" \
	    "server key with tabs around"
	rp_expect missing_destination \
	    "$(wr_req /ws3/ '{ckey}  ' id-space)" \
	    "client key with trailing spaces"
	rp_expect headers_too_large \
	    "$(ws_req_key {fill:65536} /big/)" "a 64 KB key"
	rp_expect invalid_missing_apikey \
	    "$(ws_req_key {fill:8000} /big/)" "an 8000-byte key"
	rd_post
	rd_daemon_stop
}
key_white_space_and_size_cleanup()
{
	rd_stop_all
}

atf_test_case key_of_the_other_role cleanup
key_of_the_other_role_head()
{
	atf_set descr "a client key on a WebSocket follows step 4 (502, then" \
	    "400 with a server); a server key as a client gets 400 and" \
	    "links nothing"
	atf_set timeout 30
}
key_of_the_other_role_body()
{
	rd_setup
	rd_daemon_start
	rp_expect missing_destination \
	    "$(ws_req_key {ckey} /test/path/)" \
	    "client key registering a free path"
	rp_agent agent /test/path/
	rp_expect invalid_request \
	    "$(ws_req_key {ckey} /test/path/)" \
	    "client key registering a taken path"
	rp_expect invalid_request "$(wr_req /test/path/ {skey} srv-as-client)" \
	    "server key as a WebRoute client"
	! grep -q "srv-as-client" agent.log ||
	    atf_fail "a server key's WebRoute was notified: $(cat agent.log)"
	# The agent still serves its path.
	rp_expect invalid_request "$(wr_req /test/path/ {ckey} -)" \
	    "client without an ID"
	rp_client c1 -i still-there -x wr101:still-there -t 3 /test/path/
	rp_notified agent.log still-there >/dev/null
	rd_stop c1
	rd_post
	rd_daemon_stop
}
key_of_the_other_role_cleanup()
{
	rd_stop_all
}

# --- 3. the method --------------------------------------------------------

atf_test_case method_decided_after_key cleanup
method_decided_after_key_head()
{
	atf_set descr "a method other than GET: 403 without a key, 405 with" \
	    "either key, before the 502 of a path without a server"
	atf_set timeout 30
}
method_decided_after_key_body()
{
	rd_setup
	rd_daemon_start
	for t_m in POST PUT; do
		rp_expect invalid_missing_apikey \
		    "$(wr_req /test/path/ - id-m | sed "s|^GET|$t_m|")" \
		    "$t_m without a key"
		rp_expect method_not_allowed \
		    "$(wr_req /no/server/ {ckey} id-m | sed "s|^GET|$t_m|")" \
		    "$t_m with the client key, no server"
		rp_expect method_not_allowed \
		    "$(ws_req /test/path/ | sed "s|^GET|$t_m|")" \
		    "$t_m with the server key"
	done
	rd_post
	rd_daemon_stop
}
method_decided_after_key_cleanup()
{
	rd_stop_all
}

# --- 4. client key ----------------------------------------------------------

atf_test_case client_without_server_gets_502_fast cleanup
client_without_server_gets_502_fast_head()
{
	atf_set descr "a client on a path without a server gets the exact" \
	    "502 within 100 ms, whatever else is wrong, and leaves no state"
	atf_set timeout 30
}
client_without_server_gets_502_fast_body()
{
	rd_setup
	rd_daemon_start
	for t_i in 1 2 3 4 5; do
		rp_ok "client $t_i" send -x missing_destination --max-time 0.1 \
		    "$(wr_req /test/path/ {ckey} id-502)"
	done
	# Step 4: the 502 comes before the checks of the upgrade itself.
	rp_expect missing_destination "$(wr_req /test/path/ {ckey} -)" \
	    "no WebRoute-ID, no server"
	rp_expect missing_destination \
	    "$(hsub "$(wr_req /test/path/ {ckey} id-502)" \
	    'WebRoute-Version: 1' 'WebRoute-Version: 2')" \
	    "WebRoute-Version 2, no server"
	rp_expect missing_destination \
	    "$(hsub "$(wr_req /test/path/ {ckey} id-502)" \
	    'Upgrade: webroute' 'Upgrade: h2c')" \
	    "not a WebRoute upgrade, no server"
	# No state left: the same ID waits and links once a server is there.
	rd_agent agent -c 1
	rp_ok "after the 502s" client -i id-502 -t 5 /test/path/
	rd_wait_exit agent 5 || atf_fail "agent failed: $(cat agent.log)"
	rd_post
	rd_daemon_stop
}
client_without_server_gets_502_fast_cleanup()
{
	rd_stop_all
}

atf_test_case client_bad_upgrade_gets_400 cleanup
client_bad_upgrade_gets_400_head()
{
	atf_set descr "with a server on the path: Connection without upgrade," \
	    "Upgrade without webroute, no WebRoute-ID, a WebSocket: 400" \
	    "invalid_request, and the agent is not notified"
	atf_set timeout 30
}
client_bad_upgrade_gets_400_body()
{
	rd_setup
	rd_daemon_start
	rp_agent agent /test/path/
	t_wr=$(wr_req /test/path/ {ckey} bad-up)
	# One per line: what is replaced, and by what.
	while IFS='|' read -r t_old t_new; do
		[ -n "$t_old" ] || continue
		rp_expect invalid_request "$(hsub "$t_wr" "$t_old" "$t_new")" \
		    "client head with '$t_old' as '$t_new'"
	done <<-'EOF'
	Connection: keep-alive, Upgrade|Connection: keep-alive
	Connection: keep-alive, Upgrade\r\n|
	Connection: keep-alive, Upgrade|Connection: keep-alive, Upgrade2
	Upgrade: webroute|Upgrade: websocket
	Upgrade: webroute|Upgrade: webroute2
	Upgrade: webroute\r\n|
	WebRoute-ID: bad-up\r\n|
	WebRoute-ID: bad-up|WebRoute-ID:
	WebRoute-ID: bad-up|WebRoute-Id2: bad-up
	EOF
	rp_expect invalid_request "$(ws_req_key {ckey} /test/path/)" \
	    "client key on a WebSocket"
	# A good client is still notified.
	rp_client ok -i bad-up-ok -t 3 -H "X-Ignored: 1" /test/path/
	rp_notified agent.log bad-up-ok >/dev/null
	rd_stop ok
	! grep -q '"id":"bad-up"' agent.log ||
	    atf_fail "a refused client was notified: $(cat agent.log)"
	rd_post
	rd_daemon_stop
}
client_bad_upgrade_gets_400_cleanup()
{
	rd_stop_all
}

atf_test_case webroute_version_gets_426 cleanup
webroute_version_gets_426_head()
{
	atf_set descr "WebRoute-Version 2, 0, 1.0 or missing: the exact 426" \
	    "with WebRoute-Version: 1 (a server on the path)"
	atf_set timeout 30
}
webroute_version_gets_426_body()
{
	rd_setup
	rd_daemon_start
	rp_agent agent /test/path/
	t_wr=$(wr_req /test/path/ {ckey} ver-id)
	for t_v in 2 0 1.0 11 "1, 2" ""; do
		rp_expect wr_version \
		    "$(hsub "$t_wr" 'WebRoute-Version: 1' \
		    "WebRoute-Version: $t_v")" \
		    "WebRoute-Version '$t_v'"
	done
	rp_expect wr_version \
	    "$(hsub "$t_wr" 'WebRoute-Version: 1\r\n' '')" \
	    "no WebRoute-Version"
	rp_expect invalid_request "$(wr_req /test/path/ {ckey} -)" \
	    "no WebRoute-ID"
	# A bad upgrade (400) is decided before the version (426).
	rp_expect invalid_request \
	    "$(hsub "$(wr_req /test/path/ {ckey} -)" \
	    'WebRoute-Version: 1' 'WebRoute-Version: 2')" \
	    "no WebRoute-ID and WebRoute-Version 2"
	! grep -q '"id":"ver-id"' agent.log ||
	    atf_fail "a refused client was notified: $(cat agent.log)"
	rd_post
	rd_daemon_stop
}
webroute_version_gets_426_cleanup()
{
	rd_stop_all
}

atf_test_case webroute_link_accept_matches_formula cleanup
webroute_link_accept_matches_formula_head()
{
	atf_set descr "both sides of a linked tunnel get the exact 101 with" \
	    "Sec-WebRoute-Accept = base64(sha1(ID + GUID)), then bytes flow"
	atf_set timeout 30
}
webroute_link_accept_matches_formula_body()
{
	rd_setup
	rd_daemon_start
	rd_random up.bin 100000
	rd_random down.bin 100000
	rp_agent agent /test/path/ --dial -n 2 -r got --send down.bin
	# rawpeer checks the 101 against the formula on both sides (the
	# agent prints accept-ok); one ID is the known vector.
	rp_ok "client" client -i 6fa1a1490ee0fe617b36530054e984786897e022 \
	    --send up.bin -r back1 /test/path/
	rp_ok "client, long ID" client \
	    -i "$(head -c 96 /dev/urandom | base64 -w0 | cut -c1-128)" \
	    --send up.bin -r back2 /test/path/
	rd_wait_exit agent 10 || atf_fail "agent failed: $(cat agent.log)"
	[ "$(grep -c 'accept-ok' agent.log)" -eq 2 ] ||
	    atf_fail "expected 2 dial-backs with the right accept: $(cat agent.log)"
	# The vector, computed independently of rawpeer.
	t_want=$(printf %s%s 6fa1a1490ee0fe617b36530054e984786897e022 \
	    BE7204BD-47E6-49EE-9B0D-016E370644B2 |
	    openssl dgst -sha1 -binary | base64)
	[ "$(rawpeer answer wr101:6fa1a1490ee0fe617b36530054e984786897e022 |
	    sed -n 's/^Sec-WebRoute-Accept: \(.*\)\r$/\1/p')" = "$t_want" ] ||
	    atf_fail "rawpeer's formula differs from openssl's $t_want"
	rd_same_sha256 up.bin got.0
	rd_same_sha256 up.bin got.1
	rd_same_sha256 down.bin back1
	rd_same_sha256 down.bin back2
	rd_post
	rd_daemon_stop
}
webroute_link_accept_matches_formula_cleanup()
{
	rd_stop_all
}

atf_test_case pending_id_of_another_client_gets_400 cleanup
pending_id_of_another_client_gets_400_head()
{
	atf_set descr "a client key presenting another client's pending ID" \
	    "gets 400; no client-client link: the first client still links" \
	    "to its server and its bytes arrive"
	atf_set timeout 30
}
pending_id_of_another_client_gets_400_body()
{
	rd_setup
	rd_daemon_start
	rd_random up.bin 50000
	rd_random down.bin 50000
	rp_agent agent /test/path/ --dial --dial-delay 1.5 -n 1 -r got \
	    --send down.bin
	rp_client first -i shared-id -e 'FIRST-EARLY' --send up.bin \
	    -r back /test/path/
	rp_notified agent.log shared-id >/dev/null
	rp_expect invalid_request "$(wr_req /test/path/ {ckey} shared-id)" \
	    "second client with the pending ID"
	rp_expect invalid_request \
	    "$(wr_req /test/path/ {ckey} shared-id "X-Other: 1")" \
	    "third client with the pending ID"
	# The same ID may wait on another path: IDs are per path.
	rp_agent other /other/path/
	rp_client elsewhere -i shared-id -t 3 /other/path/
	rp_notified other.log shared-id >/dev/null
	rd_stop elsewhere
	rd_wait_exit first 10 || atf_fail "first client: $(cat first.log)"
	rd_wait_exit agent 10 || atf_fail "agent: $(cat agent.log)"
	[ "$(grep -c '^notify' agent.log)" -eq 1 ] ||
	    atf_fail "expected one notification: $(cat agent.log)"
	grep -q "^linked 0 shared-id .* accept-ok" agent.log ||
	    atf_fail "the server did not link: $(cat agent.log)"
	{ printf 'FIRST-EARLY'; cat up.bin; } >want.bin
	rd_same_sha256 want.bin got.0
	rd_same_sha256 down.bin back
	rd_post
	rd_daemon_stop
}
pending_id_of_another_client_gets_400_cleanup()
{
	rd_stop_all
}

atf_test_case early_bytes_reach_server_first cleanup
early_bytes_reach_server_first_head()
{
	atf_set descr "bytes in the head's packet and bytes sent while" \
	    "waiting reach the server first, exactly, before later ones"
	atf_set timeout 30
}
early_bytes_reach_server_first_body()
{
	rd_setup
	rd_daemon_start
	rd_random late.bin 200000
	rd_random early.bin 300000
	rp_agent agent /test/path/ --dial --dial-delay 1 -n 3 -r got
	# The early bytes look like a second request head and hold NUL,
	# CR LF and high bytes: none of it may be parsed or lost.
	t_early='GET /x HTTP/1.1\r\nHost: y\r\n\r\n\0\xff\r\nEND1'
	t_later='\r\n\r\nwhile waiting\0\xfe'
	rp_ok "client" client -i early-1 -e "$t_early" -l "$t_later" -w 0.4 \
	    --send late.bin /test/path/
	rp_ok "client without later bytes" client -i early-2 \
	    -e "$t_early" --shut /test/path/
	# More than the relay keeps aside for a waiting client (64 KiB).
	rp_ok "client with 300 kB of early bytes" client -i early-3 \
	    -E early.bin --shut /test/path/
	rd_wait_exit agent 10 || atf_fail "agent: $(cat agent.log)"
	{
		printf 'GET /x HTTP/1.1\r\nHost: y\r\n\r\n\000\377\r\nEND1'
		printf '\r\n\r\nwhile waiting\000\376'
		cat late.bin
	} >want1.bin
	printf 'GET /x HTTP/1.1\r\nHost: y\r\n\r\n\000\377\r\nEND1' >want2.bin
	for t_n in 0 1 2; do
		t_id=$(sed -n "s/^linked $t_n \([^ ]*\) .*/\1/p" agent.log)
		case $t_id in
		early-1) rd_same_sha256 want1.bin got.$t_n ;;
		early-2) rd_same_sha256 want2.bin got.$t_n ;;
		early-3) rd_same_sha256 early.bin got.$t_n ;;
		*) atf_fail "tunnel $t_n has no known id: $(cat agent.log)" ;;
		esac
	done
	# A client that shuts its write half while waiting (a request,
	# then FIN) still gets the server's answer.
	printf 'the answer' >answer.txt
	rp_agent half /half/ --dial --dial-delay 0.5 -n 1 -r req \
	    --send answer.txt
	rp_ok "client that half-closes while waiting" client -i early-half \
	    -e 'REQUEST' --shut-early -r answer.got /half/
	rd_wait_exit half 5 || atf_fail "agent: $(cat half.log)"
	printf 'REQUEST' >request.txt
	rd_same_sha256 request.txt req.0
	rd_same_sha256 answer.txt answer.got
	# The same for the server: bytes behind its dial-back head reach
	# the client right after the client's 101.  Four times, so that
	# dial-backs land in both relay children.
	rp_agent quiet /quiet/
	printf 'SERVER\000EARLY\r\n\r\n' >want3.bin
	for t_i in 1 2 3 4; do
		rp_client waiter -i early-s$t_i -r back$t_i /quiet/
		rp_notified quiet.log early-s$t_i >/dev/null
		rp_ok "dial-back with bytes" send -x wr101:early-s$t_i \
		    -b 'SERVER\0EARLY\r\n\r\n' \
		    "$(wr_req /quiet/ {skey} early-s$t_i)"
		rd_wait_exit waiter 5 || atf_fail "client: $(cat waiter.log)"
		rd_same_sha256 want3.bin back$t_i
	done
	rd_post
	rd_daemon_stop
}
early_bytes_reach_server_first_cleanup()
{
	rd_stop_all
}

# --- 5. server key ----------------------------------------------------------

atf_test_case server_webroute_unknown_id_gets_400 cleanup
server_webroute_unknown_id_gets_400_head()
{
	atf_set descr "a server's WebRoute with an ID nobody waits for, on" \
	    "another path, in other letter case, or reused after its link," \
	    "gets 400 and is never left waiting"
	atf_set timeout 30
}
server_webroute_unknown_id_gets_400_body()
{
	rd_setup
	rd_daemon_start
	rp_agent agent /test/path/
	rp_agent other /other/path/
	rp_ok "unknown id" send -x invalid_request --max-time 1 \
	    "$(wr_req /test/path/ {skey} nobody-waits)"
	rp_ok "no server on the path" send -x invalid_request --max-time 1 \
	    "$(wr_req /nowhere/ {skey} nobody-waits)"
	rp_expect invalid_request "$(wr_req /test/path/ {skey} -)" \
	    "a server's WebRoute without an ID"
	rp_expect invalid_request \
	    "$(hsub "$(wr_req /test/path/ {skey} x)" \
	    'WebRoute-Version: 1' 'WebRoute-Version: 2')" \
	    "a server's WebRoute of version 2"
	rp_expect invalid_request \
	    "$(hsub "$(wr_req /test/path/ {skey} x)" 'Upgrade: webroute\r\n' '')" \
	    "a server's plain GET"
	rp_client waiter -i Waiting-ID -r back -t 10 /test/path/
	rp_notified agent.log Waiting-ID >/dev/null
	rp_expect invalid_request "$(wr_req /test/path/ {skey} waiting-id)" \
	    "the ID in other letter case"
	rp_expect invalid_request "$(wr_req /other/path/ {skey} Waiting-ID)" \
	    "the ID on another path"
	rp_expect invalid_request "$(wr_req /test/path/ {skey} Waiting-I)" \
	    "a prefix of the ID"
	# The right one links (send stops after the 101 and closes)...
	rp_expect wr101:Waiting-ID "$(wr_req /test/path/ {skey} Waiting-ID)" \
	    "the dial-back"
	rd_wait_exit waiter 5 || atf_fail "the waiting client: $(cat waiter.log)"
	# ...and the ID is spent.
	rp_expect invalid_request "$(wr_req /test/path/ {skey} Waiting-ID)" \
	    "the ID reused after its link"
	rd_post
	rd_daemon_stop
}
server_webroute_unknown_id_gets_400_cleanup()
{
	rd_stop_all
}

atf_test_case websocket_handshake_errors cleanup
websocket_handshake_errors_head()
{
	atf_set descr "Sec-WebSocket-Version not 13: 426 with" \
	    "Sec-WebSocket-Version: 13; no or bad key: 400; the accept of" \
	    "the RFC 6455 vector; Origin optional; non-upgrades: 400"
	atf_set timeout 30
}
websocket_handshake_errors_body()
{
	rd_setup
	rd_daemon_start
	t_ws=$(ws_req /test/path/)
	for t_v in 8 12 14 "13, 8" 013 ""; do
		rp_expect ws_version \
		    "$(hsub "$t_ws" 'Sec-WebSocket-Version: 13' \
		    "Sec-WebSocket-Version: $t_v")" \
		    "Sec-WebSocket-Version '$t_v'"
	done
	rp_expect ws_version \
	    "$(hsub "$t_ws" 'Sec-WebSocket-Version: 13\r\n' '')" \
	    "no Sec-WebSocket-Version"
	# Empty, 15, 18 and 21 bytes, a short or long string, bad letters.
	for t_k in "" AAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAAAA \
	    AAAAAAAAAAAAAAAAAAAAAAAAAAAA "dGhlIHNhbXBsZSBub25jZQ=" \
	    "dGhlIHNhbXBsZSBub25jZQ==A" "dGhlIHNhbXBsZSBub25jZ!==" \
	    "dGhlIHNhbXBsZSBub25jZ===" "dGhlIHNhbXBsZSBub25j ZQ=="; do
		rp_expect invalid_request \
		    "$(hsub "$t_ws" "$WSKEY" "$t_k")" \
		    "Sec-WebSocket-Key '$t_k'"
	done
	rp_expect invalid_request \
	    "$(hsub "$t_ws" "Sec-WebSocket-Key: $WSKEY\r\n" '')" \
	    "no Sec-WebSocket-Key"
	rp_expect invalid_request \
	    "$(hsub "$t_ws" 'Connection: Upgrade' 'Connection: keep-alive')" \
	    "Connection without upgrade"
	rp_expect invalid_request \
	    "$(hsub "$t_ws" 'Upgrade: websocket\r\n' '')" \
	    "no Upgrade"
	# The RFC's example: the 101 carries s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
	rawpeer answer ws101 >ws101.txt
	grep -q '^Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=' \
	    ws101.txt || atf_fail "rawpeer's ws101 is wrong: $(cat ws101.txt)"
	rp_expect ws101 "$t_ws" "the RFC 6455 vector"
	rp_expect ws101 "$(ws_req /origin/ "Origin: http://127.0.0.1")" \
	    "with an Origin"
	rp_expect ws101 \
	    "$(hsub "$(hsub "$(ws_req /case/)" 'Upgrade: websocket' \
	    'Upgrade: WebSocket')" 'Connection: Upgrade' \
	    'Connection: keep-alive, UPGRADE')" \
	    "tokens in other letter case"
	rp_expect ws101:AAAAAAAAAAAAAAAAAAAAAA== \
	    "$(hsub "$(ws_req /zero/)" "$WSKEY" AAAAAAAAAAAAAAAAAAAAAA==)" \
	    "a key of 16 zero bytes"
	rd_post
	rd_daemon_stop
}
websocket_handshake_errors_cleanup()
{
	rd_stop_all
}

# --- 6. limits and the waiting client's deadline ----------------------

atf_test_case waiting_client_gets_504 cleanup
waiting_client_gets_504_head()
{
	atf_set descr "a client whose server never dials back gets the exact" \
	    "504 with WebRoute-Version: 1 at its effective timeout (2 s)"
	atf_set timeout 30
}
waiting_client_gets_504_body()
{
	echo "timeout idle 2" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rp_agent agent /test/path/
	rp_ok "waiting client" client -i never-answered -x gateway_timeout \
	    --min-time 1 --max-time 3 -t 6 /test/path/
	rp_ok "waiting client, WebRoute-Timeout 1" client -i never-2 \
	    --wr-timeout 1 -x gateway_timeout --min-time 1 --max-time 3 \
	    -t 6 /test/path/
	# Its slot is free: the ID may wait again.
	rp_client again -i never-answered -t 3 /test/path/
	rd_wait 5 sh -c \
	    "[ \$(grep -c '\"id\":\"never-answered\"' agent.log) -eq 2 ]" ||
	    atf_fail "the ID could not wait again: $(cat agent.log)"
	rd_stop again
	rd_post
	rd_daemon_stop
}
waiting_client_gets_504_cleanup()
{
	rd_stop_all
}

atf_test_case max_connections_closes_at_accept cleanup
max_connections_closes_at_accept_head()
{
	atf_set descr "at max connections a new connection is closed at" \
	    "accept without a byte; below it, answers resume"
	atf_set timeout 30
}
max_connections_closes_at_accept_body()
{
	echo "max connections 3" >rd.conf.extra
	rd_setup
	rd_daemon_start
	for t_i in 1 2 3; do
		rd_start hold$t_i /usr/bin/python3 "$(rp_script)" send \
		    -x request_timeout -t 6 'GET /hold/ HTTP/1.1\r\n'
	done
	sleep 0.5
	rp_ok "the fourth connection" send -E --max-time 1 \
	    "$(ws_req /test/path/)"
	# (accepting pauses for a second when full)
	rp_ok "the fifth connection" send -E --max-time 2 ""
	for t_i in 1 2 3; do
		rd_wait_exit hold$t_i 6 ||
		    atf_fail "held connection $t_i: $(cat hold$t_i.log)"
	done
	rd_wait 3 rawpeer send -x ws101 "$(ws_req /test/path/)" ||
	    atf_fail "no answer after the held connections went"
	rd_post
	rd_daemon_stop
}
max_connections_closes_at_accept_cleanup()
{
	rd_stop_all
}

# --- paths and IDs ----------------------------------------------------

atf_test_case route_path_matched_byte_for_byte cleanup
route_path_matched_byte_for_byte_head()
{
	atf_set descr "the route path is the target's path byte for byte:" \
	    "no decoding or normalisation, the query cut off"
	atf_set timeout 30
}
route_path_matched_byte_for_byte_body()
{
	rd_setup
	rd_daemon_start
	rp_agent agent /a/
	rp_agent pct /p%41/
	for t_p in /a /A/ /a// //a/ /a/b /p%61/ /pA/ /P%41/ /p%41; do
		rp_expect missing_destination "$(wr_req "$t_p" {ckey} id-bfb)" \
		    "client on $t_p"
	done
	rp_client q -i query-id -t 3 "/a/?x=1&y=/../"
	rp_notified agent.log query-id >/dev/null
	rp_client p -i pct-id -t 3 "/p%41/?"
	rp_notified pct.log pct-id >/dev/null
	rd_stop q
	rd_stop p
	rd_post
	rd_daemon_stop
}
route_path_matched_byte_for_byte_cleanup()
{
	rd_stop_all
}

atf_test_case bad_paths_get_400 cleanup
bad_paths_get_400_head()
{
	atf_set descr "dot-segments, %2e %2f %00 in any case, control bytes," \
	    "fragments and targets without a leading / get 400 bad_request"
	atf_set timeout 60
}
bad_paths_get_400_body()
{
	rd_setup
	rd_daemon_start
	for t_p in /x/../y /x/./y /.. /. /x/.. /x/. /../x ./x /x/%2e/ \
	    /x/%2E%2E/ /x/.%2e/ /x%2fy /x%2Fy /x%00y /%2e /x/%2E \
	    '/x\x01y' '/x\x7fy' '/x\x1b[0m' /x#y x/y \
	    http://127.0.0.1/x/../y http://127.0.0.1/%2e/ \
	    'ht@tp://127.0.0.1/x'; do
		rp_expect bad_request "$(ws_req "$t_p")" "WebSocket on $t_p"
		rp_expect bad_request "$(wr_req "$t_p" {ckey} id-bp)" \
		    "client on $t_p"
		rp_expect bad_request "$(wr_req "$t_p" - id-bp)" \
		    "no key on $t_p"
	done
	# Look-alikes that are fine.
	for t_p in /x/.../ /x/.hidden/ /x/..y/ /x/%2g/ /x/%252e/ "/x/?a=../b" \
	    "/x/?%2e%2f%00" /x/%C3%A9/ '/x/\xc3\xa9/'; do
		rp_expect ws101 "$(ws_req "$t_p")" "WebSocket on $t_p"
	done
	rd_post
	rd_daemon_stop
}
bad_paths_get_400_cleanup()
{
	rd_stop_all
}

atf_test_case webroute_id_rules cleanup
webroute_id_rules_head()
{
	atf_set descr "a WebRoute-ID is 1 to 128 bytes of visible ASCII but" \
	    "quote and backslash; anything else gets 400"
	atf_set timeout 30
}
webroute_id_rules_body()
{
	rd_setup
	rd_daemon_start
	rp_agent agent /test/path/
	t_id128=$(head -c 200 /dev/urandom | base64 -w0 | tr -d '+/=' |
	    cut -c1-128)
	[ ${#t_id128} -eq 128 ] || atf_fail "could not make a 128-byte ID"
	t_odd='!#$%&()*+,-./:;<=>?@[]^_`{|}~'"'"
	for t_id in "$t_id128" "$t_odd" x "trimmed  "; do
		rp_client ok -i "$t_id" -t 3 /test/path/
		t_want=$(printf '%s' "$t_id" | sed 's/ *$//')
		rd_wait 5 grep -qF "\"id\":\"$t_want\"," agent.log ||
		    atf_fail "ID '$t_id' was not notified: $(cat agent.log)"
		rd_stop ok
	done
	for t_id in "${t_id128}x" 'a b' 'a\tb' 'a"b' 'a\\b' '\xc3\xa9' \
	    '\x80' 'a\xffb'; do
		rp_expect invalid_request "$(wr_req /test/path/ {ckey} "$t_id")" \
		    "ID '$t_id'"
	done
	rp_expect invalid_request "$(wr_req /test/path/ {ckey} '')" \
	    "empty ID"
	# A control byte in any header value is a malformed head.
	rp_expect bad_request "$(wr_req /test/path/ {ckey} 'a\x7fb')" \
	    "ID with DEL"
	rp_expect bad_request "$(wr_req /test/path/ {ckey} 'a\x01b')" \
	    "ID with a control byte"
	rd_post
	rd_daemon_stop
}
webroute_id_rules_cleanup()
{
	rd_stop_all
}

atf_test_case logs_print_client_bytes_through_vis cleanup
logs_print_client_bytes_through_vis_head()
{
	atf_set descr "paths with high bytes, waiting, linking, timing out:" \
	    "rd.log holds only printable ASCII"
	atf_set timeout 30
}
logs_print_client_bytes_through_vis_body()
{
	echo "timeout idle 1" >rd.conf.extra
	rd_setup
	rd_daemon_start
	t_p='/v\xff\xfe/\xc3\xa9\x80/'
	t_q='/w\xff/\x9b[31m/'
	rp_agent agent "$t_p" --dial -n 1
	rp_agent silent "$t_q"
	rp_ok "client on $t_p" client -i vis-1 --shut "$t_p"
	rp_ok "client on $t_q" client -i vis-2 -x gateway_timeout -t 4 "$t_q"
	rp_expect missing_destination "$(wr_req "$t_p/" {ckey} vis-3)" \
	    "client on a path without a server"
	rp_expect invalid_missing_apikey "$(wr_req "$t_p" nokey vis-4)" \
	    "bad key"
	rp_expect path_in_use "$(ws_req "$t_q")" "second registration"
	rp_expect bad_request "$(wr_req "$t_p\x01" {ckey} vis-5)" "bad path"
	rd_wait_exit agent 5 || atf_fail "agent: $(cat agent.log)"
	rd_stop silent
	rd_wait_log rd.log "route /w.* unregistered" 5
	t_bad=$(tr -d '\n\t\040-\176' <rd.log | wc -c)
	[ "$t_bad" -eq 0 ] ||
	    atf_fail "rd.log holds $t_bad bytes that are not printable" \
	    "ASCII: $(LC_ALL=C grep -n \
	    "$(printf '[\001-\010\016-\037\177-\377]')" rd.log |
	    od -c | head -8 | tr '\n' ' ')"
	rd_post
	rd_daemon_stop
}
logs_print_client_bytes_through_vis_cleanup()
{
	rd_stop_all
}

# --- the client's address ---------------------------------------------

# xff_case ID WANT [HEADER ...]: a client with those headers; the ipaddr
# of its notification must be WANT ("self": its own address and port).
xff_case()
{
	h_id=$1
	h_want=$2
	shift 2
	h_hdrs=$(printf '%s; ' "$@")
	for h_h in "$@"; do
		set -- "$@" -H "$h_h"
		shift
	done
	rp_client xff -i "$h_id" -t 3 "$@" /test/path/
	h_json=$(rp_notified agent.log "$h_id")
	if [ "$h_want" = self ]; then
		h_want=$(sed -n 's/^local //p' xff.log)
	fi
	h_seen=$(printf '%s' "$h_json" | sed -n 's/.*"ipaddr":"\([^"]*\)".*/\1/p')
	[ "$h_seen" = "$h_want" ] ||
	    atf_fail "client $h_id with headers '$h_hdrs': expected ipaddr $h_want," \
	    "seen $h_seen ($h_json)"
	rd_stop xff
}

atf_test_case forwarded_for_from_trusted_proxy cleanup
forwarded_for_from_trusted_proxy_head()
{
	atf_set descr "behind a trusted proxy ipaddr is the rightmost" \
	    "X-Forwarded-For entry that is not a proxy (else X-Real-IP)," \
	    "port 0; a malformed value gives the peer's own address"
	atf_set timeout 60
}
forwarded_for_from_trusted_proxy_body()
{
	echo "trusted proxy 127.0.0.1" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rp_agent agent /test/path/
	xff_case x1 203.0.113.7:0 "X-Forwarded-For: 203.0.113.7"
	xff_case x2 203.0.113.7:0 \
	    "X-Forwarded-For: 198.51.100.1, 203.0.113.7, 127.0.0.1"
	xff_case x3 203.0.113.7:0 \
	    "X-Forwarded-For: 198.51.100.1,203.0.113.7,127.0.0.1,127.0.0.1"
	xff_case x4 '[2001:db8::7]:0' "X-Forwarded-For: 2001:db8::7"
	xff_case x5 192.0.2.9:0 "X-Real-IP: 192.0.2.9"
	xff_case x6 203.0.113.7:0 "X-Real-IP: 192.0.2.9" \
	    "X-Forwarded-For: 203.0.113.7"
	xff_case x7 self "X-Forwarded-For: not-an-address"
	xff_case x8 self "X-Forwarded-For: 198.51.100.1, 203.0.113.999"
	xff_case x9 self "X-Forwarded-For: 203.0.113.7, garbage, 127.0.0.1"
	xff_case x10 self "X-Real-IP: 192.0.2.300"
	xff_case x11 self "X-Forwarded-For:"
	xff_case x12 self
	rd_post
	rd_daemon_stop
}
forwarded_for_from_trusted_proxy_cleanup()
{
	rd_stop_all
}

atf_test_case forwarded_for_over_several_lines cleanup
forwarded_for_over_several_lines_head()
{
	atf_set descr "X-Forwarded-For over several header lines is one list" \
	    "(RFC 9110 5.3): the rightmost entry is in the last line, the" \
	    "one a proxy such as HAProxy adds, not the client's own"
	atf_set timeout 30
}
forwarded_for_over_several_lines_body()
{
	echo "trusted proxy 127.0.0.1" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rp_agent agent /test/path/
	xff_case m1 203.0.113.7:0 "X-Forwarded-For: 198.51.100.66" \
	    "X-Forwarded-For: 203.0.113.7"
	xff_case m2 203.0.113.7:0 "X-Forwarded-For: 198.51.100.66" \
	    "X-Forwarded-For: 203.0.113.7, 127.0.0.1"
	rd_post
	rd_daemon_stop
}
forwarded_for_over_several_lines_cleanup()
{
	rd_stop_all
}

atf_test_case forwarded_for_ignored_without_trusted_proxy cleanup
forwarded_for_ignored_without_trusted_proxy_head()
{
	atf_set descr "from a peer that is not a trusted proxy, X-Forwarded-For" \
	    "and X-Real-IP are ignored: ipaddr is the peer's address and port"
	atf_set timeout 30
}
forwarded_for_ignored_without_trusted_proxy_body()
{
	echo "trusted proxy 192.0.2.1" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rp_agent agent /test/path/
	xff_case n1 self "X-Forwarded-For: 203.0.113.7"
	xff_case n2 self "X-Real-IP: 192.0.2.9"
	xff_case n3 self "X-Forwarded-For: 203.0.113.7, 192.0.2.1"
	rd_post
	rd_daemon_stop
}
forwarded_for_ignored_without_trusted_proxy_cleanup()
{
	rd_stop_all
}

# pc_conns SLOT: the connections that relay child SLOT holds, as the
# parent counts them.
pc_conns()
{
	"$(rd_sbin rapictl)" -s rd.sock -j show status | sed -n \
	    "s/.*\"child\":$1,\"pid\":[0-9]*,\"connections\":\([0-9]*\).*/\1/p"
}

# pc_holder: the child whose count of connections grew since pc_mark.
pc_mark()
{
	pc_before="$(pc_conns 0) $(pc_conns 1)"
}
pc_holder()
{
	set -- $pc_before $(pc_conns 0) $(pc_conns 1)
	if [ "$3" -gt "$1" ]; then echo 0; elif [ "$4" -gt "$2" ]; then echo 1
	else echo none; fi
}

atf_test_case dial_backs_link_where_their_clients_wait cleanup
dial_backs_link_where_their_clients_wait_head()
{
	atf_set descr "a dial-back that lands in its client's child is linked" \
	    "there at once; one that lands in the other child is moved to" \
	    "its client; both tunnels carry their bytes and are listed"
	atf_set timeout 60
}
dial_backs_link_where_their_clients_wait_body()
{
	rd_setup 2
	rd_daemon_start
	for f in a b c d; do rd_random $f.bin 100000; done
	rp_agent agent /test/path/
	pc_mark
	# the clients come from other addresses than the agent's: what
	# comes from the agent's host is steered to its newest client
	rp_client one --source 127.0.0.2 -i id-one --send a.bin -r one.got \
	    -t 20 /test/path/
	rp_notified agent.log id-one >/dev/null
	one=$(pc_holder)
	# a second client in the other child: the parent gives a new
	# connection to the child with fewer, ties in turn, so the second
	# or the third client goes there (one that does not stays waiting)
	i=0
	while :; do
		pc_mark
		rp_client two$i --source 127.0.0.3 -i id-two-$i --send b.bin \
		    -r two.got -t 20 /test/path/
		rp_notified agent.log id-two-$i >/dev/null
		two=$(pc_holder)
		[ "$two" != "$one" ] && break
		i=$((i + 1))
		[ $i -lt 3 ] || atf_fail "three clients went to relay $one"
	done
	# Dial-backs from the agent's host go to the child of its newest
	# waiting client: the first (for client one) lands in relay $two
	# and moves, the second lands where its client waits.
	rp_client back1 --server-key -i id-one --send c.bin -r back1.got \
	    -t 20 /test/path/
	rd_wait_exit one 20 || atf_fail "client one: $(cat one.log)"
	rd_wait_exit back1 20 || atf_fail "dial-back one: $(cat back1.log)"
	rp_client back2 --server-key -i id-two-$i --send d.bin \
	    -r back2.got -t 20 /test/path/
	rd_wait_exit two$i 20 || atf_fail "client two: $(cat two$i.log)"
	rd_wait_exit back2 20 || atf_fail "dial-back two: $(cat back2.log)"
	rd_same_sha256 a.bin back1.got
	rd_same_sha256 c.bin one.got
	rd_same_sha256 b.bin back2.got
	rd_same_sha256 d.bin two.got
	# the parent counts both once their children have told it (asking
	# them for their tunnels brings what they had to tell first)
	rd_wait 5 sh -c "'$(rd_sbin rapictl)' -s rd.sock -j show status |
	    grep -q '\"tunnels_opened\":2,\"tunnels_closed\":2'" ||
	    atf_fail "the parent did not count both:" \
	    "$("$(rd_sbin rapictl)" -s rd.sock -j show status)"
	grep -q "dial-back .* moves from relay $two to relay $one" rd.log ||
	    atf_fail "the first dial-back did not move: $(grep -E \
	    'moves|linked in' rd.log)"
	grep -q "tunnel .* linked in relay $two, in place" rd.log ||
	    atf_fail "the second was not linked in place: $(grep -E \
	    'moves|linked in' rd.log)"
	[ "$(grep -c 'tunnel /test/path/: client .* bytes up' rd.log)" -eq 2 ] ||
	    atf_fail "expected two tunnel end lines: $(cat rd.log)"
	rd_post
	rd_daemon_stop
}
dial_backs_link_where_their_clients_wait_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case head_limits_at_boundaries
	atf_add_test_case malformed_heads_get_400
	atf_add_test_case bare_lf_and_absolute_form_accepted
	atf_add_test_case head_timeout_gets_408
	atf_add_test_case bad_keys_get_identical_403
	atf_add_test_case key_white_space_and_size
	atf_add_test_case key_of_the_other_role
	atf_add_test_case method_decided_after_key
	atf_add_test_case client_without_server_gets_502_fast
	atf_add_test_case client_bad_upgrade_gets_400
	atf_add_test_case webroute_version_gets_426
	atf_add_test_case webroute_link_accept_matches_formula
	atf_add_test_case pending_id_of_another_client_gets_400
	atf_add_test_case dial_backs_link_where_their_clients_wait
	atf_add_test_case early_bytes_reach_server_first
	atf_add_test_case server_webroute_unknown_id_gets_400
	atf_add_test_case websocket_handshake_errors
	atf_add_test_case waiting_client_gets_504
	atf_add_test_case max_connections_closes_at_accept
	atf_add_test_case route_path_matched_byte_for_byte
	atf_add_test_case bad_paths_get_400
	atf_add_test_case webroute_id_rules
	atf_add_test_case logs_print_client_bytes_through_vis
	atf_add_test_case forwarded_for_from_trusted_proxy
	atf_add_test_case forwarded_for_over_several_lines
	atf_add_test_case forwarded_for_ignored_without_trusted_proxy
}

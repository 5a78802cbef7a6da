#! /usr/bin/env atf-sh
#
# show_test.sh: every show command, as text and as JSON, against the
# live state it reports.

. "$(atf_get_srcdir)/ctllib.sh"

atf_test_case status_reports_live_state cleanup
status_reports_live_state_head()
{
	atf_set descr "show status: version, pid, children and the totals" \
	    "since start match what the test did"
	atf_set timeout 60
}
status_reports_live_state_body()
{
	rd_setup
	rd_daemon_start
	rc_show st0.json show status
	rc_eq st0.json 'one("status")["pid"]' "$(rd_pid rd)"
	version=$(rc_py st0.json 'one("status")["version"]')
	echo "$version" | grep -Eqx '[0-9]+\.[0-9]+(\.[0-9]+)?' ||
	    atf_fail "show status: version '$version'"
	rc_eq st0.json 'sorted(c["pid"] for c in items("child"))' \
	    "$(rd_children | sort -n | tr '\n' ' ' | /usr/bin/python3 -c \
	    'import sys; print(sorted(int(x) for x in sys.stdin.read().split()))')"
	rc_eq st0.json '[c["child"] for c in items("child")]' "[0, 1]"
	rc_true st0.json 'all(c["restarts"] == 0 and c["tunnels"] == 0 and
	    c["connections"] == 0 for c in items("child"))'
	rc_true st0.json '0 <= one("status")["uptime"] < 30'
	rc_eq st0.json 'one("status")["tunnels_opened"] +
	    one("status")["accepted"] + one("status")["bytes_up"]' 0

	# One tunnel of known size, one bad key, one path nobody serves.
	rd_random up.bin 300000
	rd_random down.bin 200000
	rd_agent agent -c 1 -s down.bin -r got
	atf_check -o ignore -e ignore "$(rd_libdir)/rdpeer" connect \
	    -s up.bin -r back "$RD_CURL"
	rd_wait_exit agent 10 || atf_fail "agent: $(cat agent.log)"
	rd_same_sha256 up.bin got.0
	rd_same_sha256 down.bin back
	atf_check -o ignore /usr/bin/python3 "$(rd_libdir)/rawpeer.py" \
	    -c "$(printf %064d 0)" client -x invalid_missing_apikey /test/path/
	atf_check -o ignore /usr/bin/python3 "$(rd_libdir)/rawpeer.py" \
	    client -x missing_destination /nowhere/
	rc_until 5 'one("status")["routes"] == 0 and
	    one("status")["connections"] == 0' show status

	rc_show st1.json show status
	rc_eq st1.json 'one("status")["tunnels_opened"]' 1
	rc_eq st1.json 'one("status")["tunnels_closed"]' 1
	rc_eq st1.json 'one("status")["tunnels"]' 0
	rc_eq st1.json 'one("status")["bytes_up"]' 300000
	rc_eq st1.json 'one("status")["bytes_down"]' 200000
	rc_eq st1.json 'one("status")["auth_failures"]' 1
	# the agent's WebSocket and dial-back, and three clients
	rc_eq st1.json 'one("status")["accepted"]' 5
	rc_eq st1.json 'one("status")["refused_full"] +
	    one("status")["refused_caps"] + one("status")["refused_penalty"] +
	    one("status")["penalty_blocked"]' 0
	rc_eq st1.json 'one("status")["answers"]["invalid_missing_apikey_403"]' 1
	rc_eq st1.json 'one("status")["answers"]["missing_destination_502"]' 1
	rc_eq st1.json 'sum(one("status")["answers"].values())' 2

	rc_ctl show status >st1.txt || atf_fail "show status failed"
	for want in "^remotedapid $version, pid $(rd_pid rd), up [0-9]*s (since 20" \
	    "logging: verbose" \
	    "now: 0 connections (0 in handshake), 0 routes, 0 clients waiting, 0 tunnels" \
	    "since start: 5 connections accepted, 0 refused at accept" \
	    "tunnels: 1 opened, 1 closed; bytes: 300000 up, 200000 down" \
	    "authentication failures: 1" \
	    "penalty: off" \
	    "requests refused: 403 invalid_missing_apikey 1; 502 missing_destination 1;" \
	    "^CHILD *PID *CONNECTIONS *TUNNELS *RESTARTS"; do
		grep -q -- "$want" st1.txt ||
		    atf_fail "show status: no line like '$want' in: $(cat st1.txt)"
	done
	for pid in $(rd_children); do
		grep -Eq "^[01] +$pid +0 +0 +0$" st1.txt ||
		    atf_fail "show status: no line for child $pid: $(cat st1.txt)"
	done
	rc_post
	rd_daemon_stop
}
status_reports_live_state_cleanup()
{
	rd_stop_all
}

atf_test_case status_counts_child_restarts cleanup
status_counts_child_restarts_head()
{
	atf_set descr "show status: a relay child killed shows up with its" \
	    "new pid and one restart"
	atf_set timeout 60
}
status_counts_child_restarts_body()
{
	rd_setup
	rd_daemon_start
	rc_show st0.json show status
	old=$(rc_py st0.json '[c["pid"] for c in items("child") if c["child"] == 1][0]')
	kill -KILL "$old"
	rc_until 10 '[(c["restarts"], c["pid"] not in (0, '"$old"')) for c in
	    items("child") if c["child"] == 1] == [(1, True)]' show status
	new=$(rc_py until.json '[c["pid"] for c in items("child") if c["child"] == 1][0]')
	rd_children | grep -qx "$new" ||
	    atf_fail "child 1's pid $new is not a child of the daemon: $(rd_children)"
	rc_eq until.json '[c["restarts"] for c in items("child") if c["child"] == 0]' \
	    "[0]"
	rc_ctl show status | grep -Eq "^1 +$new +[0-9]+ +0 +1$" ||
	    atf_fail "show status text: no line '1 $new ... 1': $(rc_ctl show status)"
	rd_alive rd || atf_fail "remotedapid died: $(tail -20 rd.log)"
	rd_daemon_stop
}
status_counts_child_restarts_cleanup()
{
	rd_stop_all
}

atf_test_case routes_follow_agents cleanup
routes_follow_agents_head()
{
	atf_set descr "show routes: a route appears when an agent registers" \
	    "and goes when the agent dies"
	atf_set timeout 60
}
routes_follow_agents_body()
{
	rd_setup
	rd_daemon_start
	rc_show r0.json show routes
	rc_eq r0.json 'len(j)' 0
	rc_ctl show routes >r0.txt
	[ "$(wc -l <r0.txt)" -eq 1 ] && grep -Eq \
	    "^PATH +SERVER +KEY +SINCE +TUNNELS +WAITING$" r0.txt ||
	    atf_fail "show routes with no route: $(cat r0.txt)"

	t0=$(rc_now)
	rd_agent agent -e
	rd_start other "$(rd_libdir)/rdpeer" agent -e \
	    "rws://$(cat server.secret)@127.0.0.1:$RD_PORT/other/place"
	rd_wait 10 grep -q "^ready" other.log ||
	    atf_fail "second agent: $(cat other.log)"
	t1=$(rc_now)
	rc_show r1.json show routes
	rc_eq r1.json 'sorted(r["path"] for r in items("route"))' \
	    "['/other/place', '/test/path/']"
	rc_true r1.json 'all(r["key"] == "srv" and r["tunnels"] == 0 and
	    r["waiting"] == 0 and r["child"] in (0, 1) and
	    '"$t0"' <= r["since"] <= '"$t1"' and
	    re.fullmatch(r"127\.0\.0\.1:[0-9]+", r["server"]) is not None
	    for r in items("route"))'
	rc_ctl show routes >r1.txt
	since=$(date -u -d "@$(rc_py r1.json \
	    '[r["since"] for r in items("route") if r["path"] == "/test/path/"][0]')" \
	    +%Y-%m-%dT%H:%M:%SZ)
	server=$(rc_py r1.json \
	    '[r["server"] for r in items("route") if r["path"] == "/test/path/"][0]')
	grep -Eq "^/test/path/ +$server +srv +$since +0 +0$" r1.txt ||
	    atf_fail "show routes: no line for /test/path/ ($server, $since): $(cat r1.txt)"
	grep -Eq "^/other/place +127\.0\.0\.1:[0-9]+ +srv " r1.txt ||
	    atf_fail "show routes: no line for /other/place: $(cat r1.txt)"

	rd_stop agent KILL
	rc_until 5 '[r["path"] for r in items("route")] == ["/other/place"]' \
	    show routes
	rc_ctl show routes | grep -q "^/test/path/" &&
	    atf_fail "show routes still lists the dead agent's path"
	rd_stop other KILL
	rc_until 5 'len(j) == 0' show routes
	rc_post
	rd_daemon_stop
}
routes_follow_agents_cleanup()
{
	rd_stop_all
}

atf_test_case routes_waiting_back_to_zero_after_504 cleanup
routes_waiting_back_to_zero_after_504_head()
{
	atf_set descr "Row 14: a waiting client shows in show routes and" \
	    "show status; after its 504, 0 waiting"
	atf_set timeout 60
}
routes_waiting_back_to_zero_after_504_body()
{
	echo "timeout idle 2" >rd.conf.extra
	rd_setup
	rd_daemon_start
	# an agent that never dials back
	rd_start agent /usr/bin/python3 "$(rd_libdir)/rawpeer.py" agent \
	    -t 60 /test/path/
	rd_wait 10 grep -q "^ready" agent.log || atf_fail "agent: $(cat agent.log)"
	rd_start client /usr/bin/python3 "$(rd_libdir)/rawpeer.py" client \
	    -x gateway_timeout --min-time 1.5 --max-time 4 /test/path/
	rd_wait 5 grep -q "^notify" agent.log ||
	    atf_fail "the agent was not notified: $(cat agent.log)"
	rc_show r1.json show routes
	rc_eq r1.json '[(r["path"], r["waiting"]) for r in items("route")]' \
	    "[('/test/path/', 1)]"
	rc_ctl show routes | grep -Eq "^/test/path/ .* 0 +1$" ||
	    atf_fail "show routes text: not 1 waiting: $(rc_ctl show routes)"
	rc_show s1.json show status
	rc_eq s1.json 'one("status")["waiting"]' 1
	rd_wait_exit client 10 || atf_fail "no exact 504 in time: $(cat client.log)"
	rc_show r2.json show routes
	rc_eq r2.json '[(r["path"], r["waiting"]) for r in items("route")]' \
	    "[('/test/path/', 0)]"
	rc_ctl show routes | grep -Eq "^/test/path/ .* 0 +0$" ||
	    atf_fail "show routes text: not 0 waiting: $(rc_ctl show routes)"
	rc_show s2.json show status
	rc_eq s2.json 'one("status")["waiting"]' 0
	rc_eq s2.json 'one("status")["answers"]["gateway_timeout_504"]' 1
	rc_post
	rd_daemon_stop
}
routes_waiting_back_to_zero_after_504_cleanup()
{
	rd_stop_all
}

atf_test_case tunnels_report_live_bytes cleanup
tunnels_report_live_bytes_head()
{
	atf_set descr "show tunnels: a live tunnel's addresses, child and byte" \
	    "counters match what the test sent; it goes when it ends"
	atf_set timeout 60
}
tunnels_report_live_bytes_body()
{
	echo "timeout idle 30" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rc_show t0.json show tunnels
	rc_eq t0.json 'len(j)' 0
	rd_random up.bin 300000
	rd_random down.bin 200000
	rd_agent agent -c 1 -s down.bin -r got
	t0=$(rc_now)
	rc_client client --send up.bin --recv back --expect-bytes 200000 \
	    --hold release /test/path/
	rd_wait 10 grep -q "^received 200000" client.log ||
	    atf_fail "client: $(cat client.log)"
	rd_wait 10 sh -c '[ "$(wc -c <got.0)" -eq 300000 ]' ||
	    atf_fail "the agent got $(wc -c <got.0) bytes, not 300000"
	t1=$(rc_now)
	local=$(rc_local client)

	rc_show t1.json show tunnels
	rc_eq t1.json 'len(items("tunnel"))' 1
	rc_eq t1.json 'one("tunnel")["path"]' /test/path/
	rc_eq t1.json 'one("tunnel")["client"]' "$local"
	rc_eq t1.json 'one("tunnel")["bytes_up"]' 300000
	rc_eq t1.json 'one("tunnel")["bytes_down"]' 200000
	rc_eq t1.json 'one("tunnel")["client_key"]' cli
	rc_eq t1.json 'one("tunnel")["server_key"]' srv
	rc_true t1.json 'one("tunnel")["child"] in (0, 1)'
	rc_true t1.json 'one("tunnel")["id"] > 0'
	rc_true t1.json '0 <= one("tunnel")["idle"] <= '"$((t1 - t0 + 1))"
	rc_true t1.json "$t0"' <= one("tunnel")["started"] <= '"$t1"
	rc_true t1.json 're.fullmatch(r"127\.0\.0\.1:[0-9]+",
	    one("tunnel")["server"]) is not None and
	    one("tunnel")["server"] != one("tunnel")["client"]'
	id=$(rc_py t1.json 'one("tunnel")["id"]')
	child=$(rc_py t1.json 'one("tunnel")["child"]')
	server=$(rc_py t1.json 'one("tunnel")["server"]')

	rc_ctl show tunnels >t1.txt
	grep -Eq "^ID +PATH +CLIENT +SERVER +AGE +IDLE +BYTES-UP +BYTES-DOWN +CHILD$" \
	    t1.txt || atf_fail "show tunnels: header: $(cat t1.txt)"
	grep -Eq "^$id +/test/path/ +$local +$server +[0-9]+s +[0-9]+s +300000 +200000 +$child$" \
	    t1.txt || atf_fail "show tunnels: no line for tunnel $id: $(cat t1.txt)"

	# The same tunnel in the other views.
	rc_show s1.json show status
	rc_eq s1.json 'one("status")["tunnels"]' 1
	rc_eq s1.json '[c["tunnels"] for c in items("child") if c["child"] == '"$child"']' \
	    "[1]"
	rc_eq s1.json 'one("status")["bytes_up"]' 300000
	rc_eq s1.json 'one("status")["bytes_down"]' 200000
	rc_show r1.json show routes
	rc_eq r1.json 'one("route")["tunnels"]' 1

	touch release
	rd_wait_exit client 10 || atf_fail "client: $(cat client.log)"
	rd_wait_exit agent 10 || atf_fail "agent: $(cat agent.log)"
	rd_same_sha256 up.bin got.0
	rd_same_sha256 down.bin back
	rc_until 5 'len(j) == 0' show tunnels
	rc_show s2.json show status
	rc_eq s2.json 'one("status")["tunnels_closed"]' 1
	rc_eq s2.json 'one("status")["bytes_up"]' 300000
	rc_eq s2.json 'one("status")["bytes_down"]' 200000
	rc_post
	rd_daemon_stop
}
tunnels_report_live_bytes_cleanup()
{
	rd_stop_all
}

atf_test_case client_strings_through_vis cleanup
client_strings_through_vis_head()
{
	atf_set descr "A path with bytes a terminal must not see is shown" \
	    "through vis(3) in show routes and show tunnels, text and JSON"
	atf_set timeout 60
}
client_strings_through_vis_body()
{
	echo "timeout idle 30" >rd.conf.extra
	rd_setup
	rd_daemon_start
	# 0xff, 0x1b (ESC is refused in a path, so: 0x9b, the 8-bit CSI),
	# a quote and a backslash
	path='/v/\xff\x9b[2J"q\\/'
	rd_start agent /usr/bin/python3 "$(rd_libdir)/rawpeer.py" agent \
	    --dial -t 60 "$path"
	rd_wait 10 grep -q "^ready" agent.log || atf_fail "agent: $(cat agent.log)"
	rc_client client --hold release "$path"
	want='/v/\377\233[2J"q\134/'
	for view in routes tunnels; do
		rc_show "$view.json" show "$view"
		rc_eq "$view.json" 'j[0]["path"]' "$want"
		rc_ctl show "$view" >"$view.txt"
		LC_ALL=C grep -q "$(printf '[\377\233]')" "$view.txt" &&
		    atf_fail "show $view printed a raw byte: $(od -c "$view.txt")"
		grep -qF -- "$want" "$view.txt" ||
		    atf_fail "show $view: no vis'd path: $(cat "$view.txt")"
	done
	touch release
	rd_wait_exit client 10 || atf_fail "client: $(cat client.log)"
	rc_post
	rd_daemon_stop
}
client_strings_through_vis_cleanup()
{
	rd_stop_all
}

atf_test_case keys_listed_never_their_secrets cleanup
keys_listed_never_their_secrets_head()
{
	atf_set descr "show keys: name, role, paths, state and last use of" \
	    "every key, never a secret nor a hash"
	atf_set timeout 60
}
keys_listed_never_their_secrets_body()
{
	rd_setup
	rd_keygen old
	cat >>keys <<-KEYS
	client scoped sha256:$(rd_hash old.secret) paths /a/* /b/
	server old sha256:$(rd_hash old.secret) expires 2099-01-02T03:04:05Z
	KEYS
	rd_daemon_start
	rc_show k0.json show keys
	rc_eq k0.json '[(k["name"], k["role"], [p["pattern"] for p in k["paths"]],
	    k["state"], k["expires"], k["last_used"]) for k in items("key")]' \
	    "[('srv', 'server', [], 'live', 0, 0), ('cli', 'client', [], 'live', 0, 0), ('scoped', 'client', ['/a/*', '/b/'], 'live', 0, 0), ('old', 'server', [], 'expiring', $(date -u -d 2099-01-02T03:04:05Z +%s), 0)]"
	rc_ctl show keys >k0.txt
	grep -Eq "^NAME +ROLE +PATHS +STATE +LAST-USED$" k0.txt &&
	    grep -Eq "^srv +server +\* +live +-$" k0.txt &&
	    grep -Eq "^scoped +client +/a/\*,/b/ +live +-$" k0.txt &&
	    grep -Eq "^old +server +\* +expiring at 2099-01-02T03:04:05Z -$" \
	    k0.txt || atf_fail "show keys: $(cat k0.txt)"

	t0=$(rc_now)
	rd_agent agent -e
	rc_works "$(cat client.secret)"
	t1=$(rc_now)
	rc_show k1.json show keys
	rc_true k1.json 'all('"$t0"' <= k["last_used"] <= '"$t1"' for k in
	    items("key") if k["name"] in ("srv", "cli"))'
	rc_true k1.json 'all(k["last_used"] == 0 for k in items("key")
	    if k["name"] in ("scoped", "old"))'
	rc_ctl show keys >k1.txt
	grep -Eq "^cli +client +\* +live +20[0-9-]{8}T[0-9:]{8}Z$" k1.txt ||
	    atf_fail "show keys: cli's last use: $(cat k1.txt)"

	for s in server client old; do
		for v in "$(cat $s.secret)" "$(rd_hash $s.secret)"; do
			grep -F -- "$v" k0.json k0.txt k1.json k1.txt &&
			    atf_fail "show keys printed a secret or a hash"
			# nor in any other view
			for view in status routes tunnels; do
				rc_ctl show $view | grep -qF -- "$v" &&
				    atf_fail "show $view printed a secret or a hash"
			done
		done
	done
	rc_post
	rd_daemon_stop
}
keys_listed_never_their_secrets_cleanup()
{
	rd_stop_all
}

atf_test_case metrics_prometheus_text_format cleanup
metrics_prometheus_text_format_head()
{
	atf_set descr "show metrics: valid Prometheus text format, one series" \
	    "per label set, values equal to show status"
	atf_set timeout 60
}
metrics_prometheus_text_format_body()
{
	rd_setup
	rd_daemon_start
	rd_random up.bin 123456
	rd_agent agent -e
	atf_check -o ignore -e ignore "$(rd_libdir)/rdpeer" connect \
	    -s up.bin -r back "$RD_CURL"
	rd_same_sha256 up.bin back
	atf_check -o ignore /usr/bin/python3 "$(rd_libdir)/rawpeer.py" \
	    -c "$(printf %064d 0)" client -x invalid_missing_apikey /test/path/
	# a 426 from either upgrade is one series
	atf_check -o ignore /usr/bin/python3 "$(rd_libdir)/rawpeer.py" \
	    send -x ws_version \
	    'GET /test/path/ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\nX-Remoted-APIKey: {skey}\r\n\r\n'
	rc_until 5 'one("status")["tunnels_closed"] == 1' show status
	rc_ctl show metrics >metrics.txt || atf_fail "show metrics failed"
	/usr/bin/python3 - metrics.txt <<-'PY' >m.json ||
	import json, re, sys
	name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
	sample = re.compile(r"(%s)(\{(.*)\})? (\S+)$" % name)
	label = re.compile(r'(%s)="((?:[^"\\\n]|\\.)*)"(,|$)' % name)
	types, helps, seen, values = {}, set(), set(), {}
	done, current = set(), None
	for n, line in enumerate(open(sys.argv[1]).read().split("\n"), 1):
	    where = "line %d %r" % (n, line)
	    if line == "":
	        continue
	    if line.startswith("# HELP "):
	        fam = line.split()[2]
	        assert fam not in helps, "second HELP: " + where
	        helps.add(fam)
	        continue
	    if line.startswith("# TYPE "):
	        _, _, fam, typ = line.split(" ", 3)
	        assert typ in ("counter", "gauge"), where
	        assert fam not in types, "second TYPE: " + where
	        assert fam not in done, "family split: " + where
	        types[fam] = typ
	        if current is not None:
	            done.add(current)
	        current = fam
	        continue
	    assert not line.startswith("#"), where
	    m = sample.match(line)
	    assert m, "not a sample: " + where
	    assert m.group(1) == current, "sample outside its family: " + where
	    labels, rest = [], m.group(3) or ""
	    while rest:
	        lm = label.match(rest)
	        assert lm, "bad labels: " + where
	        labels.append((lm.group(1), lm.group(2)))
	        rest = rest[lm.end():]
	    key = (m.group(1), tuple(sorted(labels)))
	    assert key not in seen, "duplicate series: " + where
	    seen.add(key)
	    v = float(m.group(4))
	    assert v >= 0 and v == int(v), where
	    values[m.group(1) + ",".join("%s=%s" % l for l in sorted(labels))] = int(v)
	assert set(types) == helps, "HELP and TYPE differ"
	print(json.dumps(values))
	PY
	    atf_fail "not Prometheus text format: $(cat metrics.txt)"
	rc_show st.json show status
	for pair in \
	    "remotedapid_tunnels_opened_total:tunnels_opened" \
	    "remotedapid_tunnels_closed_total:tunnels_closed" \
	    "remotedapid_connections_accepted_total:accepted" \
	    "remotedapid_auth_failures_total:auth_failures" \
	    "remotedapid_routes:routes" \
	    "remotedapid_tunnels:tunnels" \
	    "remotedapid_penalized_sources:penalty_blocked" \
	    "remotedapid_start_time_seconds:started" \
	    "remotedapid_bytes_totaldirection=up:bytes_up" \
	    "remotedapid_bytes_totaldirection=down:bytes_down"; do
		m=$(rc_py m.json "j['${pair%%:*}']")
		rc_eq st.json "one('status')['${pair#*:}']" "$m"
	done
	rc_eq m.json 'j["remotedapid_bytes_totaldirection=up"]' 123456
	rc_eq m.json 'j["remotedapid_tunnels_opened_total"]' 1
	rc_eq m.json 'j["remotedapid_requests_refused_totalerrorcode=invalid_missing_apikey,status=403"]' 1
	rc_eq m.json 'j["remotedapid_requests_refused_totalerrorcode=unsupported_version,status=426"]' 1
	rc_eq m.json 'sorted(k for k in j if k.startswith("remotedapid_child_restarts_total"))' \
	    "['remotedapid_child_restarts_totalchild=0', 'remotedapid_child_restarts_totalchild=1']"
	rc_post
	rd_daemon_stop
}
metrics_prometheus_text_format_cleanup()
{
	rd_stop_all
}

atf_test_case json_for_every_show_command cleanup
json_for_every_show_command_head()
{
	atf_set descr "-j: every show command prints one JSON list of typed" \
	    "items"
	atf_set timeout 60
}
json_for_every_show_command_body()
{
	echo "timeout idle 30" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rd_agent agent -e
	rc_client client --hold release /test/path/
	for view in status:status,child routes:route tunnels:tunnel \
	    keys:key metrics:status,child; do
		rc_show "${view%%:*}.json" show "${view%%:*}"
		rc_eq "${view%%:*}.json" \
		    'sorted(set(x["type"] for x in j))' \
		    "$(echo "${view#*:}" | /usr/bin/python3 -c \
		    'import sys; print(sorted(sys.stdin.read().strip().split(",")))')"
		rc_true "${view%%:*}.json" 'len(j) > 0'
	done
	touch release
	rd_wait_exit client 10 || atf_fail "client: $(cat client.log)"
	rc_post
	rd_daemon_stop
}
json_for_every_show_command_cleanup()
{
	rd_stop_all
}

atf_test_case command_words_checked
command_words_checked_head()
{
	atf_set descr "rapictl: options only before the command words;" \
	    "a wrong or missing word is named, with what would do"
	atf_set timeout 30
}
command_words_checked_body()
{
	r=$(rd_sbin rapictl)
	atf_check -s exit:1 -e match:"^usage: rapictl" "$r"
	atf_check -s exit:1 -e match:"^usage: rapictl" "$r" -x show status
	atf_check -s exit:1 \
	    -e inline:"rapictl: incomplete command: expected status, routes, tunnels, keys, metrics\n" \
	    "$r" -s "$PWD/none.sock" show
	atf_check -s exit:1 \
	    -e inline:"rapictl: unknown word \"bogus\": expected status, routes, tunnels, keys, metrics\n" \
	    "$r" -s "$PWD/none.sock" show bogus
	# an option after the command words is a word, and a wrong one
	atf_check -s exit:1 -e match:'unknown word "-j"' \
	    "$r" -s "$PWD/none.sock" show routes -j
	atf_check -s exit:1 -e match:'unknown word "extra"' \
	    "$r" -s "$PWD/none.sock" reload extra
	atf_check -s exit:1 -e match:"expected a key name" \
	    "$r" -s "$PWD/none.sock" key rotate
	atf_check -s exit:1 -e match:"duration is a number with s, m, h or d" \
	    "$r" -s "$PWD/none.sock" key rotate k grace 5x
	atf_check -s exit:1 -e match:"not a tunnel number" \
	    "$r" -s "$PWD/none.sock" kill tunnel abc
	atf_check -s exit:1 -e match:"a route path starts with /" \
	    "$r" -s "$PWD/none.sock" kill route nope
	atf_check -s exit:1 -e match:"expected a path pattern" \
	    "$r" -s "$PWD/none.sock" key add client k paths
	atf_check -s exit:1 -e match:"expected server, client" \
	    "$r" -s "$PWD/none.sock" key add admin k
	# no daemon: said so
	atf_check -s exit:1 -e match:"none.sock.*is remotedapid running" \
	    "$r" -s "$PWD/none.sock" show status
	# a key whose name starts with a dash is a name, not an option
	atf_check -o match:'^[0-9a-f]{64}$' -e ignore \
	    "$r" -f "$PWD/keys" key add client -dash
	atf_check -o match:'^-dash +client ' "$r" -f "$PWD/keys" key list
}

atf_init_test_cases()
{
	atf_add_test_case status_reports_live_state
	atf_add_test_case status_counts_child_restarts
	atf_add_test_case routes_follow_agents
	atf_add_test_case routes_waiting_back_to_zero_after_504
	atf_add_test_case tunnels_report_live_bytes
	atf_add_test_case client_strings_through_vis
	atf_add_test_case keys_listed_never_their_secrets
	atf_add_test_case metrics_prometheus_text_format
	atf_add_test_case json_for_every_show_command
	atf_add_test_case command_words_checked
}

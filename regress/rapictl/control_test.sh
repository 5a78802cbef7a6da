#! /usr/bin/env atf-sh
#
# control_test.sh: kill, reload, log, monitor, and the control socket
# itself: who may connect, and what a hostile or foreign peer gets.

. "$(atf_get_srcdir)/ctllib.sh"

# ct_nobody COMMAND [ARG ...]: run as nobody:nogroup, no other group.
ct_nobody()
{
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# ct_reachable: the socket's directory must be open to nobody, so that
# only the socket's own mode decides.
ct_reachable()
{
	[ "$(id -u)" = 0 ] || atf_skip "needs root"
	command -v setpriv >/dev/null || atf_skip "needs setpriv"
	chmod 755 .
	ct_nobody test -S "$PWD/rd.sock" ||
	    atf_skip "the work directory is closed to nobody"
}

atf_test_case kill_tunnel_closes_only_that_one cleanup
kill_tunnel_closes_only_that_one_head()
{
	atf_set descr "kill tunnel ID closes that tunnel at once; another" \
	    "goes on (sha256); an unknown ID is an error"
	atf_set timeout 60
}
kill_tunnel_closes_only_that_one_body()
{
	echo "timeout idle 30" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rd_random up.bin 1048576
	rd_agent agent -e
	rc_client a --hold release /test/path/
	rc_client b --send up.bin --rate 500000 --recv back --hold release \
	    /test/path/
	rc_until 5 'len(items("tunnel")) == 2' show tunnels
	id=$(rc_py until.json '[t["id"] for t in items("tunnel")
	    if t["client"] == "'"$(rc_local a)"'"][0]')
	rc_show kill.json kill tunnel "$id"
	rc_eq kill.json 'one("result")["message"]' "tunnel $id closed"
	rd_wait 3 grep -q "^input-ended" a.log ||
	    atf_fail "tunnel $id still open: $(cat a.log)"
	rc_until 3 '[t["client"] for t in items("tunnel")] ==
	    ["'"$(rc_local b)"'"]' show tunnels
	grep -q "^input-ended" b.log && atf_fail "b was cut: $(cat b.log)"
	atf_check -s exit:1 -e inline:"rapictl: no tunnel $id\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" kill tunnel "$id"
	atf_check -s exit:1 -e inline:"rapictl: no tunnel 4000000000\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" kill tunnel 4000000000
	grep -q "killed by rapictl" rd.log ||
	    atf_fail "no log line for the killed tunnel: $(cat rd.log)"
	touch release
	rd_wait_exit b 20 || atf_fail "b: $(cat b.log)"
	rd_same_sha256 up.bin back
	rc_post
	rd_daemon_stop
}
kill_tunnel_closes_only_that_one_cleanup()
{
	rd_stop_all
}

atf_test_case kill_route_closes_the_agent cleanup
kill_route_closes_the_agent_head()
{
	atf_set descr "kill route PATH closes that agent's WebSocket; the path" \
	    "is free again, its live tunnel and other routes go on"
	atf_set timeout 60
}
kill_route_closes_the_agent_body()
{
	echo "timeout idle 30" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rd_random up.bin 524288
	rd_agent agent -e
	rd_start other "$(rd_libdir)/rdpeer" agent -e \
	    "rws://$(cat server.secret)@127.0.0.1:$RD_PORT/other/"
	rd_wait 10 grep -q "^ready" other.log || atf_fail "$(cat other.log)"
	rc_client live --send up.bin --rate 200000 --recv back --hold release \
	    /test/path/
	atf_check -o inline:"route /test/path/ closed\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" kill route /test/path/
	rd_wait_exit agent 3 || :
	rc_until 3 '[r["path"] for r in items("route")] == ["/other/"]' \
	    show routes
	# a client waiting on a killed route gets its 502 at once
	rd_start deaf /usr/bin/python3 "$(rd_libdir)/rawpeer.py" agent \
	    -t 60 /deaf/
	rd_wait 10 grep -q "^ready" deaf.log || atf_fail "deaf: $(cat deaf.log)"
	rd_start waiter /usr/bin/python3 "$(rd_libdir)/rawpeer.py" client \
	    -x missing_destination --max-time 3 /deaf/
	rd_wait 5 grep -q "^notify" deaf.log || atf_fail "$(cat deaf.log)"
	rc_until 3 '[r["waiting"] for r in items("route")
	    if r["path"] == "/deaf/"] == [1]' show routes
	atf_check -o inline:"route /deaf/ closed\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" kill route /deaf/
	rd_wait_exit waiter 5 || atf_fail "waiter: $(cat waiter.log)"
	grep -q "killed by rapictl" rd.log ||
	    atf_fail "no log line for the killed agent: $(cat rd.log)"
	atf_check -s exit:1 -e inline:"rapictl: no route /test/path/\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" kill route /test/path/
	# the path is free for a new agent at once
	rd_agent agent2 -e
	rc_works "$(cat client.secret)"
	# and the tunnel linked before the kill is whole
	grep -q "^input-ended" live.log && atf_fail "cut: $(cat live.log)"
	touch release
	rd_wait_exit live 20 || atf_fail "live: $(cat live.log)"
	rd_same_sha256 up.bin back
	rc_post
	rd_daemon_stop
}
kill_route_closes_the_agent_cleanup()
{
	rd_stop_all
}

atf_test_case reload_reports_error_keeps_config cleanup
reload_reports_error_keeps_config_head()
{
	atf_set descr "reload: a broken config is reported with its line and" \
	    "the old one kept; a good one is applied and reported"
	atf_set timeout 60
}
reload_reports_error_keeps_config_body()
{
	rd_setup
	rd_daemon_start
	rd_agent agent -e
	port2=$(rd_freeport)
	cp rd.conf rd.conf.good
	echo "listen on 127.0.0.1 port $port2" >>rd.conf
	echo "timeout idle bogus words" >>rd.conf
	line=$(wc -l <rd.conf)
	rc_ctl reload >bad.out 2>bad.err && atf_fail "reload of a broken config succeeded"
	grep -q "^rapictl: .*rd.conf:$line: bad duration: bogus" bad.err ||
	    atf_fail "reload: expected the error at rd.conf:$line, seen: $(cat bad.err)"
	rd_wait_log rd.log "configuration has errors; kept the old one"
	# the old configuration is whole: no new listener, tunnels work
	/usr/bin/python3 -c 'import socket, sys
s = socket.socket()
sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0)' "$port2" ||
	    atf_fail "the broken config's listener was opened"
	rc_works "$(cat client.secret)"

	# a broken key file: the same
	cp rd.conf.good rd.conf
	cp keys keys.good
	echo "client broken sha256:nothex" >>keys
	rc_ctl reload >bad.out 2>bad.err && atf_fail "reload of broken keys succeeded"
	grep -q "^rapictl: .*keys:$(wc -l <keys): hash must be sha256" bad.err ||
	    atf_fail "reload: expected the error at keys:$(wc -l <keys), seen: $(cat bad.err)"
	rc_works "$(cat client.secret)"
	cp keys.good keys

	cp rd.conf.good rd.conf
	echo "listen on 127.0.0.1 port $port2" >>rd.conf
	rc_show good.json reload
	rc_eq good.json 'one("result")["message"]' "configuration reloaded"
	rd_random works.bin 65536
	"$(rd_libdir)/rdpeer" connect -s works.bin -r works.back \
	    "rwr://$(cat client.secret)@127.0.0.1:$port2/test/path/" ||
	    atf_fail "no tunnel through the reloaded listener"
	rd_same_sha256 works.bin works.back
	rc_works "$(cat client.secret)"
	rc_post
	rd_daemon_stop
}
reload_reports_error_keeps_config_cleanup()
{
	rd_stop_all
}

atf_test_case log_verbose_and_brief cleanup
log_verbose_and_brief_head()
{
	atf_set descr "log brief drops debug lines in the parent and the" \
	    "children, log verbose brings them back; show status says which"
	atf_set timeout 60
}
log_verbose_and_brief_body()
{
	rd_setup
	rd_daemon_start
	rd_random small.bin 1000
	rd_agent agent -e
	atf_check -o inline:"logging brief\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" log brief
	rc_show s1.json show status
	rc_true s1.json 'one("status")["verbose"] is False'
	rc_ctl show status | grep -qx "logging: brief" ||
	    atf_fail "show status does not say brief"
	rd_start b /usr/bin/python3 "$(atf_get_srcdir)/ctlpeer.py" client \
	    --send small.bin /test/path/
	rd_wait_exit b 10 || atf_fail "b: $(cat b.log)"
	b=$(rc_local b)
	rd_wait_log rd.log "client $b, server .*: 1000 bytes up, 1000 down"
	grep -q "client $b linked" rd.log &&
	    atf_fail "a debug line was logged in brief mode"

	rc_show v.json log verbose
	rc_eq v.json 'one("result")["message"]' "logging verbose"
	rc_show s2.json show status
	rc_true s2.json 'one("status")["verbose"] is True'
	rd_start v /usr/bin/python3 "$(atf_get_srcdir)/ctlpeer.py" client \
	    --send small.bin /test/path/
	rd_wait_exit v 10 || atf_fail "v: $(cat v.log)"
	rd_wait_log rd.log "client $(rc_local v) linked"
	rc_post
	rd_daemon_stop
}
log_verbose_and_brief_cleanup()
{
	rd_stop_all
}

atf_test_case monitor_streams_events cleanup
monitor_streams_events_head()
{
	atf_set descr "monitor streams route up/down, tunnel open/close with" \
	    "bytes, and auth failures until interrupted"
	atf_set timeout 60
}
monitor_streams_events_body()
{
	rd_setup
	rd_daemon_start
	rd_random small.bin 1000
	base=$(rd_fdcount "$(rd_pid rd)")
	rd_start mon "$(rd_sbin rapictl)" -s "$PWD/rd.sock" monitor
	rd_wait_log mon.log "^rapictl: monitoring"
	rd_agent agent -e
	rd_wait_log mon.log " route-up     /test/path/ 127\.0\.0\.1:[0-9]* key srv$" 3
	rd_start c /usr/bin/python3 "$(atf_get_srcdir)/ctlpeer.py" client \
	    --send small.bin /test/path/
	rd_wait_exit c 10 || atf_fail "c: $(cat c.log)"
	c=$(rc_local c)
	rd_wait_log mon.log " tunnel-open  /test/path/ $c -> 127\.0\.0\.1:[0-9]* id [0-9]* key cli$" 3
	rd_wait_log mon.log " tunnel-close /test/path/ $c -> 127\.0\.0\.1:[0-9]* id [0-9]*, 1000 bytes up, 1000 down key cli$" 3
	/usr/bin/python3 "$(rd_libdir)/rawpeer.py" -c "$(printf %064d 0)" \
	    client -x invalid_missing_apikey /test/path/ >bad.log ||
	    atf_fail "bad key: $(cat bad.log)"
	rd_wait_log mon.log " auth-failure /test/path/ $(sed -n 's/^local //p' bad.log)$" 3
	rd_stop agent KILL
	rd_wait_log mon.log " route-down   /test/path/ 127\.0\.0\.1:[0-9]* key srv$" 3
	grep -Eq '^20[0-9-]{8}T[0-9:]{8}Z route-up' mon.log ||
	    atf_fail "events without their time: $(cat mon.log)"
	rd_alive mon || atf_fail "monitor ended on its own: $(cat mon.log)"
	rd_stop mon TERM
	rd_wait 5 sh -c "[ \$(ls /proc/$(rd_pid rd)/fd | wc -l) -eq $base ]" ||
	    atf_fail "the parent holds $(rd_fdcount "$(rd_pid rd)") descriptors, not $base"
	rc_post
	rd_daemon_stop
}
monitor_streams_events_cleanup()
{
	rd_stop_all
}

atf_test_case monitor_json_one_object_a_line cleanup
monitor_json_one_object_a_line_head()
{
	atf_set descr "monitor -j: every line is one JSON event"
	atf_set timeout 60
}
monitor_json_one_object_a_line_body()
{
	rd_setup
	rd_daemon_start
	rd_random small.bin 777
	"$(rd_sbin rapictl)" -s "$PWD/rd.sock" -j monitor >mon.json 2>mon.err &
	echo $! >mon.pid
	rd_wait_log mon.err "^rapictl: monitoring"
	rd_agent agent -e
	rd_start c /usr/bin/python3 "$(atf_get_srcdir)/ctlpeer.py" client \
	    --send small.bin /test/path/
	rd_wait_exit c 10 || atf_fail "c: $(cat c.log)"
	rd_stop agent KILL
	rd_wait 5 grep -q route-down mon.json ||
	    atf_fail "no route-down event: $(cat mon.json)"
	rd_stop mon TERM
	/usr/bin/python3 - mon.json "$(rc_local c)" <<-'PY' ||
	import json, sys
	ev = [json.loads(line) for line in open(sys.argv[1])]
	kinds = [e["event"] for e in ev]
	assert kinds == ["route-up", "tunnel-open", "tunnel-close",
	                 "route-down"], kinds
	assert all(e["type"] == "event" and e["path"] == "/test/path/"
	           and e["time"] > 0 for e in ev), ev
	assert ev[1]["address"] == ev[2]["address"] == sys.argv[2], ev
	assert ev[1]["id"] == ev[2]["id"] > 0, ev
	assert (ev[2]["bytes_up"], ev[2]["bytes_down"]) == (777, 777), ev
	assert ev[0]["key"] == "srv" and ev[1]["key"] == "cli", ev
	PY
	    atf_fail "monitor -j: $(cat mon.json)"
	rc_post
	rd_daemon_stop
}
monitor_json_one_object_a_line_cleanup()
{
	rd_stop_all
}

atf_test_case socket_root_only cleanup
socket_root_only_head()
{
	atf_set descr "The control socket is 0600 root: nobody gets EACCES;" \
	    "and, the mode opened by hand, the daemon refuses nobody itself"
	atf_set timeout 60
}
socket_root_only_body()
{
	rd_setup
	rd_daemon_start
	ct_reachable
	[ "$(stat -c '%a %U %G' rd.sock)" = "600 root root" ] ||
	    atf_fail "control socket: $(stat -c '%a %U %G' rd.sock)"
	r=$(rd_sbin rapictl)
	atf_check -s exit:1 -e match:"rd.sock: Permission denied" \
	    setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$r" -s "$PWD/rd.sock" show status
	# the daemon checks the peer itself, whatever the file's mode
	before=$(rd_sha256 keys)
	chmod 666 rd.sock
	for w in "key add client sneaky" "show keys" "reload"; do
		# shellcheck disable=SC2086
		ct_nobody "$r" -s "$PWD/rd.sock" $w >nobody.out 2>nobody.err &&
		    atf_fail "nobody's rapictl $w succeeded: $(cat nobody.out)"
		grep -Eq "closed the control connection|Broken pipe|Connection reset" \
		    nobody.err || atf_fail "nobody's rapictl $w: $(cat nobody.err)"
		grep -q . nobody.out &&
		    atf_fail "nobody's rapictl $w printed: $(cat nobody.out)"
	done
	rd_wait_log rd.log "control: refused a peer that is neither root nor in the control group"
	[ "$(rd_sha256 keys)" = "$before" ] ||
	    atf_fail "nobody changed the key file: $(cat keys)"
	rc_post
	rd_daemon_stop
}
socket_root_only_cleanup()
{
	rd_stop_all
}

atf_test_case socket_group_admits_members cleanup
socket_group_admits_members_head()
{
	atf_set descr "control socket PATH group G: mode 0660 group G; a" \
	    "member may connect, others get EACCES"
	atf_set timeout 60
}
socket_group_admits_members_body()
{
	[ "$(id -u)" = 0 ] || atf_skip "needs root"
	command -v groupadd >/dev/null || atf_skip "needs groupadd"
	command -v gpasswd >/dev/null || atf_skip "needs gpasswd"
	g="rdctl$$"
	groupadd "$g" || atf_skip "groupadd $g failed"
	echo "$g" >group.made
	rd_setup
	echo "control socket \"$PWD/rd.sock\" group \"$g\"" >rd.conf.extra
	rd_conf
	rd_daemon_start
	ct_reachable
	[ "$(stat -c '%a %U %G' rd.sock)" = "660 root $g" ] ||
	    atf_fail "control socket: $(stat -c '%a %U %G' rd.sock)"
	r=$(rd_sbin rapictl)
	# the group as the primary group
	atf_check -o match:"^remotedapid " \
	    setpriv --reuid=nobody --regid="$g" --clear-groups \
	    "$r" -s "$PWD/rd.sock" show status
	# as a supplementary group the group file lists
	gpasswd -a nobody "$g" >/dev/null || atf_fail "gpasswd -a nobody $g"
	atf_check -o match:"^/test/path/ |^PATH" \
	    setpriv --reuid=nobody --regid=nogroup --groups="$g" \
	    "$r" -s "$PWD/rd.sock" show routes
	# not a member
	atf_check -s exit:1 -e match:"Permission denied" \
	    setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$r" -s "$PWD/rd.sock" show status
	rc_post
	rd_daemon_stop
}
socket_group_admits_members_cleanup()
{
	rd_stop_all
	[ -f group.made ] && groupdel "$(cat group.made)"
	return 0
}

atf_test_case socket_group_not_the_childrens
socket_group_not_the_childrens_head()
{
	atf_set descr "control socket ... group of the relay children's user:" \
	    "the daemon refuses to start, and says why"
	atf_set timeout 30
}
socket_group_not_the_childrens_body()
{
	[ "$(id -u)" = 0 ] || atf_skip "needs root"
	rd_setup
	echo "control socket \"$PWD/rd.sock\" group \"$(id -gn nobody)\"" \
	    >rd.conf.extra
	rd_conf
	atf_check -s not-exit:0 \
	    -e match:"group \"$(id -gn nobody)\" is the relay children's" \
	    timeout 10 "$(rd_sbin remotedapid)" -d -f rd.conf
	[ -e rd.sock ] && atf_fail "the control socket was created"
	return 0
}

atf_test_case socket_of_running_daemon_kept cleanup
socket_of_running_daemon_kept_head()
{
	atf_set descr "A second daemon on the same control socket refuses to" \
	    "start and leaves the running one its socket; stop removes it"
	atf_set timeout 60
}
socket_of_running_daemon_kept_body()
{
	rd_setup
	rd_daemon_start
	atf_check -s not-exit:0 -e match:"rd.sock is in use" \
	    timeout 10 "$(rd_sbin remotedapid)" -d -f rd.conf
	rc_show st.json show status
	rc_eq st.json 'one("status")["pid"]' "$(rd_pid rd)"
	rc_post
	rd_daemon_stop
	[ -e rd.sock ] && atf_fail "the control socket outlived the daemon"
	return 0
}
socket_of_running_daemon_kept_cleanup()
{
	rd_stop_all
}

atf_test_case socket_stale_replaced cleanup
socket_stale_replaced_head()
{
	atf_set descr "A control socket left by a daemon that died is replaced" \
	    "at start"
	atf_set timeout 60
}
socket_stale_replaced_body()
{
	rd_setup
	/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])' "$PWD/rd.sock"
	[ -S rd.sock ] || atf_fail "no stale socket made"
	rd_daemon_start
	rc_show st.json show status
	rc_eq st.json 'one("status")["pid"]' "$(rd_pid rd)"
	rc_post
	rd_daemon_stop
}
socket_stale_replaced_cleanup()
{
	rd_stop_all
}

atf_test_case socket_path_not_a_socket
socket_path_not_a_socket_head()
{
	atf_set descr "A file that is not a socket at the control socket's" \
	    "path is left alone and the daemon does not start"
	atf_set timeout 30
}
socket_path_not_a_socket_body()
{
	rd_setup
	echo precious >rd.sock
	atf_check -s not-exit:0 -e match:"rd.sock exists and is not a socket" \
	    timeout 10 "$(rd_sbin remotedapid)" -d -f rd.conf
	[ "$(cat rd.sock)" = precious ] || atf_fail "the file was replaced"
}

atf_test_case other_version_refused cleanup
other_version_refused_head()
{
	atf_set descr "A request of another control version gets CTL_ERROR" \
	    "naming both versions; the daemon goes on"
	atf_set timeout 60
}
other_version_refused_body()
{
	rd_setup
	rd_daemon_start
	for c in version version-zero version-short; do
		rc_peer ctl "$PWD/rd.sock" "$c" >"$c.out" ||
		    atf_fail "$c: no answer: $(cat "$c.out")"
	done
	v=$(rc_peer version "$PWD/rd.sock") || atf_fail "no control version"
	grep -qx "error: rapictl speaks control version $((v + 1)), this remotedapid $v: use the rapictl that came with it" \
	    version.out || atf_fail "version $((v + 1)): $(cat version.out)"
	grep -q "^error: rapictl speaks control version 0, this remotedapid $v" \
	    version-zero.out || atf_fail "version 0: $(cat version-zero.out)"
	grep -q "^error: rapictl speaks control version 3735928559, this remotedapid $v" \
	    version-short.out || atf_fail "short: $(cat version-short.out)"
	for c in version version-zero version-short; do
		[ "$(tail -1 "$c.out")" = closed ] ||
		    atf_fail "$c: not closed after the error: $(cat "$c.out")"
	done
	rc_post
	rd_daemon_stop
}
other_version_refused_cleanup()
{
	rd_stop_all
}

atf_test_case garbage_and_oversized_records cleanup
garbage_and_oversized_records_head()
{
	atf_set descr "Garbage, truncated, malformed and oversized (> 16 KiB)" \
	    "records: an error or a close; daemon, key file and a running" \
	    "tunnel untouched"
	atf_set timeout 90
}
garbage_and_oversized_records_body()
{
	echo "timeout idle 30" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rd_random up.bin 2097152
	rd_random down.bin 1048576
	rd_agent agent -c 1 -s down.bin -r got
	rc_client client --send up.bin --rate 700000 --recv back --hold release \
	    /test/path/
	keys=$(rd_sha256 keys)
	base=$(rd_fdcount "$(rd_pid rd)")

	# each: what its answer must hold
	for c in \
	    "ok:^answer: route" \
	    "empty-request:^error: not a control request$" \
	    "short-request:^error: malformed control request$" \
	    "garbage-1:^closed$" \
	    "garbage-15:^closed$" \
	    "garbage-16:^closed$" \
	    "garbage-4k:^closed$" \
	    "zero-4k:^closed$" \
	    "length-longer:^closed$" \
	    "length-shorter:^closed$" \
	    "truncated:^closed$" \
	    "oversized:^closed$" \
	    "oversized-64k:^closed$" \
	    "oversized-valid-head:^closed$" \
	    "wrong-type:^error: not a control request$" \
	    "type-zero:^error: not a control request$" \
	    "flags:^closed$" \
	    "fd-flagged:^error: not a control request$" \
	    "fd-unflagged:^closed$" \
	    "cmd-zero:^error: malformed control request$" \
	    "cmd-huge:^error: malformed control request$" \
	    "role-bad:^error: malformed control request$" \
	    "patterns-too-many:^error: malformed control request$" \
	    "patterns-huge:^error: malformed control request$" \
	    "name-unterminated:^error: malformed control request$" \
	    "path-unterminated:^error: malformed control request$" \
	    "pattern-unterminated:^error: a path pattern starts with /" \
	    "pattern-no-slash:^error: a path pattern starts with /" \
	    "pattern-space:^error: a path pattern starts with /" \
	    "name-bad:^error: .*bad key name" \
	    "grace-huge:^error: malformed control request$" \
	    "grace-negative:^error: malformed control request$" \
	    "two-requests:^answer: end$|^closed$"; do
		name=${c%%:*}
		rc_peer ctl "$PWD/rd.sock" "$name" >"$name.out" ||
		    atf_fail "$name: no answer in 5 s: $(cat "$name.out")"
		grep -Eq -- "${c#*:}" "$name.out" ||
		    atf_fail "$name: expected '${c#*:}', seen: $(cat "$name.out")"
		[ "$(tail -1 "$name.out")" = closed ] ||
		    atf_fail "$name: the connection stayed open: $(cat "$name.out")"
		rd_alive rd || atf_fail "$name killed the daemon: $(tail rd.log)"
	done
	[ "$(rd_sha256 keys)" = "$keys" ] ||
	    atf_fail "a bad request changed the key file: $(cat keys)"
	rd_wait 5 sh -c "[ \$(ls /proc/$(rd_pid rd)/fd | wc -l) -eq $base ]" ||
	    atf_fail "the parent holds $(rd_fdcount "$(rd_pid rd)") descriptors, not $base"
	rd_wait 20 grep -q "^sent 2097152" client.log ||
	    atf_fail "client: $(cat client.log)"
	touch release
	rd_wait_exit client 20 || atf_fail "client: $(cat client.log)"
	rd_wait_exit agent 20 || atf_fail "agent: $(cat agent.log)"
	rd_same_sha256 up.bin got.0
	rd_same_sha256 down.bin back
	rc_post
	rd_daemon_stop
}
garbage_and_oversized_records_cleanup()
{
	rd_stop_all
}

atf_test_case passed_descriptors_not_kept cleanup
passed_descriptors_not_kept_head()
{
	atf_set descr "Descriptors passed with control records are closed:" \
	    "the parent's count stays at its baseline"
	atf_set timeout 60
}
passed_descriptors_not_kept_body()
{
	rd_setup
	rd_daemon_start
	base=$(rd_fdcount "$(rd_pid rd)")
	for i in $(seq 1 40); do
		rc_peer ctl "$PWD/rd.sock" fd-flagged >/dev/null ||
		    atf_fail "fd-flagged: no answer"
		rc_peer ctl "$PWD/rd.sock" fd-unflagged >/dev/null ||
		    atf_fail "fd-unflagged: no answer"
	done
	rd_wait 5 sh -c "[ \$(ls /proc/$(rd_pid rd)/fd | wc -l) -eq $base ]" ||
	    atf_fail "the parent holds $(rd_fdcount "$(rd_pid rd)") descriptors after 80 passed, not $base"
	rc_post
	rd_daemon_stop
}
passed_descriptors_not_kept_cleanup()
{
	rd_stop_all
}

atf_test_case idle_control_clients_bounded cleanup
idle_control_clients_bounded_head()
{
	atf_set descr "Control clients that never ask: rapictl and tunnels" \
	    "go on beside them, the extra ones are closed, all within 10 s"
	atf_set timeout 90
}
idle_control_clients_bounded_body()
{
	rd_setup
	rd_daemon_start
	rd_agent agent -e
	rd_start hold /usr/bin/python3 "$(atf_get_srcdir)/ctlpeer.py" hold \
	    "$PWD/rd.sock" 80 done
	rd_wait 15 grep -qx "open 80" hold.log || atf_fail "hold: $(cat hold.log)"
	t0=$(rc_now)
	# 64 at most: the rest are closed, and so is a rapictl, at once
	atf_check -s exit:1 \
	    -e match:"closed the control connection|Broken pipe|Connection reset" \
	    timeout 5 "$(rd_sbin rapictl)" -s "$PWD/rd.sock" show status
	rc_works "$(cat client.secret)"
	# those that never ask go within 10 s; then rapictl works again
	rd_wait 15 "$(rd_sbin rapictl)" -s "$PWD/rd.sock" show status ||
	    atf_fail "rapictl still refused after 15 s"
	[ $(($(rc_now) - t0)) -ge 8 ] ||
	    atf_fail "rapictl worked again after $(($(rc_now) - t0)) s: too soon"
	touch done
	rd_wait_exit hold 10 || atf_fail "hold: $(cat hold.log)"
	grep -qx "closed-by-daemon 80 of 80" hold.log ||
	    atf_fail "expected all 80 closed by the daemon: $(cat hold.log)"
	rc_post
	rd_daemon_stop
}
idle_control_clients_bounded_cleanup()
{
	rd_stop_all
}

atf_test_case hundred_calls_while_tunnel_moves cleanup
hundred_calls_while_tunnel_moves_head()
{
	atf_set descr "Row 30: 100 rapictl calls while a tunnel moves bytes:" \
	    "every call answers, the bytes keep moving, sha256 equal"
	atf_set timeout 120
}
hundred_calls_while_tunnel_moves_body()
{
	echo "timeout idle 30" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rd_random up.bin 12582912
	rd_random down.bin 8388608
	rd_agent agent -c 1 -s down.bin -r got
	# about 4 s of bytes up; down as fast as it goes
	rc_client client --send up.bin --rate 3145728 --recv back /test/path/
	r=$(rd_sbin rapictl)
	pids=
	# 4 x 5 x 5 = 100 calls, 4 at a time
	for n in 1 2 3 4; do
		(
			for i in 1 2 3 4 5; do
				for w in "show status" "show routes" "-j show keys" \
				    "show metrics"; do
					# shellcheck disable=SC2086
					"$r" -s "$PWD/rd.sock" $w >>"calls.$n" \
					    2>>"fail.$n" || echo "$w" >>"fail.$n"
				done
				"$r" -s "$PWD/rd.sock" -j show tunnels \
				    >"tunnels.$n.$i.json" 2>>"fail.$n" ||
				    echo "show tunnels" >>"fail.$n"
			done
		) &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p"
	done
	for n in 1 2 3 4; do
		[ -s "fail.$n" ] && atf_fail "rapictl calls failed: $(cat "fail.$n")"
	done
	grep -q "^sent" client.log &&
	    atf_fail "the tunnel ended before the calls did: too slow to tell"
	# the tunnel's counter grew while the calls ran
	/usr/bin/python3 - tunnels.*.json <<-'PY' ||
	import json, sys
	seen = set()
	for f in sys.argv[1:]:
	    for t in json.load(open(f)):
	        seen.add(t["bytes_up"])
	assert len(seen) >= 3, seen
	PY
	    atf_fail "the tunnel's bytes did not move during the calls"
	rd_wait_exit client 60 || atf_fail "client: $(cat client.log)"
	rd_wait_exit agent 20 || atf_fail "agent: $(cat agent.log)"
	rd_same_sha256 up.bin got.0
	rd_same_sha256 down.bin back
	rc_post
	rd_daemon_stop
}
hundred_calls_while_tunnel_moves_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case kill_tunnel_closes_only_that_one
	atf_add_test_case kill_route_closes_the_agent
	atf_add_test_case reload_reports_error_keeps_config
	atf_add_test_case log_verbose_and_brief
	atf_add_test_case monitor_streams_events
	atf_add_test_case monitor_json_one_object_a_line
	atf_add_test_case socket_root_only
	atf_add_test_case socket_group_admits_members
	atf_add_test_case socket_group_not_the_childrens
	atf_add_test_case socket_of_running_daemon_kept
	atf_add_test_case socket_stale_replaced
	atf_add_test_case socket_path_not_a_socket
	atf_add_test_case other_version_refused
	atf_add_test_case garbage_and_oversized_records
	atf_add_test_case passed_descriptors_not_kept
	atf_add_test_case idle_control_clients_bounded
	atf_add_test_case hundred_calls_while_tunnel_moves
}

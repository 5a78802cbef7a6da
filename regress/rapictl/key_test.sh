#! /usr/bin/env atf-sh
#
# key_test.sh: rapictl key add, rotate and revoke through the daemon, and
# on a key file with no daemon (-f).

. "$(atf_get_srcdir)/ctllib.sh"

atf_test_case key_add_works_at_once cleanup
key_add_works_at_once_head()
{
	atf_set descr "key add: a fresh 256-bit secret, printed once, stored" \
	    "only as its hash, that works at once within its paths"
	atf_set timeout 60
}
key_add_works_at_once_body()
{
	rd_setup
	rd_daemon_start
	rd_agent agent -e
	rc_ctl key add client fresh paths '/test/*' >add.out 2>add.err ||
	    atf_fail "key add: $(cat add.err)"
	secret=$(rc_secret add.out)
	grep -qx "key fresh added" add.out ||
	    atf_fail "key add: no 'key fresh added' in: $(cat add.out)"
	grep -q "secret of key fresh (shown once, stored nowhere)" add.err ||
	    atf_fail "key add: stderr: $(cat add.err)"
	grep -qx "client fresh sha256:$(rc_sha "$secret") paths /test/\*" keys ||
	    atf_fail "the key file lacks the new key's hash: $(cat keys)"
	grep -qF "$secret" keys rd.log && atf_fail "the secret was stored"
	[ "$(stat -c %a keys)" = 600 ] ||
	    atf_fail "key file mode $(stat -c %a keys), not 600"
	ls keys.tmp.* 2>/dev/null && atf_fail "a temporary key file was left"

	rc_works "$secret"
	rc_refused "$secret" /elsewhere/

	# a server key, as JSON, that an agent registers with at once
	rc_show add.json key add server fresh-srv
	rc_eq add.json '[(x["type"], x["name"]) for x in j[:1]]' \
	    "[('secret', 'fresh-srv')]"
	rc_eq add.json 'one("result")["message"]' "key fresh-srv added"
	rc_eq add.json 'one("secret")["old_expires"]' 0
	s2=$(rc_py add.json 'one("secret")["secret"]')
	echo "$s2" | grep -Eqx '[0-9a-f]{64}' || atf_fail "JSON secret '$s2'"
	[ "$s2" != "$secret" ] || atf_fail "two keys got the same secret"
	rd_start agent2 "$(rd_libdir)/rdpeer" agent -e \
	    "rws://$s2@127.0.0.1:$RD_PORT/fresh/"
	rd_wait 10 grep -q "^ready" agent2.log ||
	    atf_fail "agent with the new server key: $(cat agent2.log)"
	rc_show r.json show routes
	rc_eq r.json '[r["key"] for r in items("route") if r["path"] == "/fresh/"]' \
	    "['fresh-srv']"
	rc_show k.json show keys
	rc_eq k.json '[(k["role"], [p["pattern"] for p in k["paths"]], k["state"])
	    for k in items("key") if k["name"] == "fresh"]' \
	    "[('client', ['/test/*'], 'live')]"
	rc_post
	rd_daemon_stop
}
key_add_works_at_once_cleanup()
{
	rd_stop_all
}

atf_test_case key_edits_refused_leave_file cleanup
key_edits_refused_leave_file_head()
{
	atf_set descr "key add of an existing or malformed name, rotate or" \
	    "revoke of an unknown one: an error, and the key file unchanged"
	atf_set timeout 60
}
key_edits_refused_leave_file_body()
{
	rd_setup
	rd_daemon_start
	before=$(rd_sha256 keys)
	atf_check -s exit:1 -e match:"cli: a key of that name exists" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" key add client cli
	atf_check -s exit:1 -e match:"bad key name" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" key add client 'a/b'
	atf_check -s exit:1 -e match:"nobody: no key of that name" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" key rotate nobody
	atf_check -s exit:1 -e match:"nobody: no key of that name" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" key revoke nobody kill
	[ "$(rd_sha256 keys)" = "$before" ] ||
	    atf_fail "a refused edit changed the key file: $(cat keys)"
	rd_agent agent -e
	rc_works "$(cat client.secret)"
	rc_post
	rd_daemon_stop
}
key_edits_refused_leave_file_cleanup()
{
	rd_stop_all
}

atf_test_case key_rotate_grace_then_403 cleanup
key_rotate_grace_then_403_head()
{
	atf_set descr "key rotate with a grace: the new secret works at once," \
	    "the old one until the grace ends, then 403"
	atf_set timeout 60
}
key_rotate_grace_then_403_body()
{
	rd_setup
	rd_daemon_start
	rd_agent agent -e
	old=$(cat client.secret)
	t0=$(rc_now)
	rc_show rot.json key rotate cli grace 3s
	t1=$(rc_now)
	new=$(rc_py rot.json 'one("secret")["secret"]')
	expires=$(rc_py rot.json 'one("secret")["old_expires"]')
	rc_eq rot.json 'one("result")["message"]' "key cli rotated"
	[ "$expires" -ge $((t0 + 3)) ] && [ "$expires" -le $((t1 + 3)) ] ||
	    atf_fail "old secret expires at $expires, not 3 s after $t0"
	grep -qx "client cli sha256:$(rd_hash client.secret) expires $(date -u -d "@$expires" +%Y-%m-%dT%H:%M:%SZ)" keys ||
	    atf_fail "the key file lacks the old hash with its end: $(cat keys)"
	grep -qx "client cli sha256:$(rc_sha "$new")" keys ||
	    atf_fail "the key file lacks the new hash: $(cat keys)"

	rc_works "$new"
	[ "$(rc_now)" -lt "$expires" ] ||
	    atf_fail "too slow: the grace ended before the old secret was tried"
	rc_works "$old"
	rc_show k.json show keys
	rc_eq k.json '[(k["state"], k["expires"]) for k in items("key")
	    if k["name"] == "cli"]' "[('expiring', $expires), ('live', 0)]"

	rd_wait 10 sh -c "[ \$(date +%s) -ge $expires ]"
	rc_refused "$old"
	rc_works "$new"
	rc_show k2.json show keys
	rc_eq k2.json '[k["state"] for k in items("key") if k["name"] == "cli"]' \
	    "['live']"
	rc_post
	rd_daemon_stop
}
key_rotate_grace_then_403_cleanup()
{
	rd_stop_all
}

atf_test_case key_rotate_default_grace_one_hour cleanup
key_rotate_default_grace_one_hour_head()
{
	atf_set descr "key rotate without a grace: the old secret works for" \
	    "an hour, and rapictl says until when"
	atf_set timeout 60
}
key_rotate_default_grace_one_hour_body()
{
	rd_setup
	rd_daemon_start
	rd_agent agent -e
	old=$(cat server.secret)
	t0=$(rc_now)
	rc_ctl key rotate srv >rot.out 2>rot.err || atf_fail "$(cat rot.err)"
	t1=$(rc_now)
	new=$(rc_secret rot.out)
	expires=$(sed -n 's/.*the old secret works until \(.*\)$/\1/p' rot.err)
	[ -n "$expires" ] || atf_fail "rapictl did not say until when: $(cat rot.err)"
	e=$(date -u -d "$expires" +%s)
	[ "$e" -ge $((t0 + 3600)) ] && [ "$e" -le $((t1 + 3600)) ] ||
	    atf_fail "the old secret ends at $expires, not an hour from now"
	# the agent registered with the old secret still serves tunnels
	rc_works "$(cat client.secret)"
	rd_start agent2 "$(rd_libdir)/rdpeer" agent -e \
	    "rws://$new@127.0.0.1:$RD_PORT/new/"
	rd_wait 10 grep -q "^ready" agent2.log ||
	    atf_fail "agent with the new secret: $(cat agent2.log)"
	rc_works "$(cat client.secret)" /new/
	rc_post
	rd_daemon_stop
}
key_rotate_default_grace_one_hour_cleanup()
{
	rd_stop_all
}

atf_test_case key_rotate_keeps_tunnels_and_routes cleanup
key_rotate_keeps_tunnels_and_routes_head()
{
	atf_set descr "Row 35: rotating both keys of a live tunnel, past the" \
	    "grace, cuts neither the tunnel (sha256) nor the agent's route"
	atf_set timeout 90
}
key_rotate_keeps_tunnels_and_routes_body()
{
	echo "timeout idle 30" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rd_random up.bin 4194304
	rd_random down.bin 4194304
	rd_agent agent -c 1 -s down.bin -r got
	rc_show r0.json show routes
	since=$(rc_py r0.json 'one("route")["since"]')
	# about 6 s of bytes, then held open until the test says
	rc_client client --send up.bin --rate 700000 --recv back --hold release \
	    /test/path/
	rc_show rc.json key rotate cli grace 2s
	rc_show rs.json key rotate srv grace 2s
	expires=$(rc_py rs.json 'one("secret")["old_expires"]')
	rd_wait 10 sh -c "[ \$(date +%s) -ge $expires ]"
	rc_refused "$(cat client.secret)"
	grep -q "^sent" client.log &&
	    atf_fail "the tunnel finished before the grace ended: too fast"
	rc_show r1.json show routes
	rc_eq r1.json '[(r["path"], r["key"], r["since"]) for r in items("route")]' \
	    "[('/test/path/', 'srv', $since)]"
	rc_show t1.json show tunnels
	rc_eq t1.json '[(t["client_key"], t["server_key"]) for t in items("tunnel")]' \
	    "[('cli', 'srv')]"
	rd_wait 20 grep -q "^sent 4194304" client.log ||
	    atf_fail "client: $(cat client.log)"
	touch release
	rd_wait_exit client 20 || atf_fail "client: $(cat client.log)"
	rd_wait_exit agent 20 || atf_fail "agent: $(cat agent.log)"
	rd_same_sha256 up.bin got.0
	rd_same_sha256 down.bin back
	grep -q "closing" rd.log && grep "closing" rd.log | grep -qv "closed by agent" &&
	    atf_fail "the relay closed the agent: $(grep closing rd.log)"
	rc_post
	rd_daemon_stop
}
key_rotate_keeps_tunnels_and_routes_cleanup()
{
	rd_stop_all
}

atf_test_case key_revoke_refuses_new_keeps_live cleanup
key_revoke_refuses_new_keeps_live_head()
{
	atf_set descr "key revoke: the secret gets 403 at once; what it" \
	    "opened goes on (sha256)"
	atf_set timeout 60
}
key_revoke_refuses_new_keeps_live_body()
{
	echo "timeout idle 30" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rd_random up.bin 1048576
	rd_agent agent -e
	rc_client client --send up.bin --rate 1048576 --recv back \
	    --hold release /test/path/
	atf_check -o inline:"key cli revoked\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" key revoke cli
	grep -q " cli " keys && atf_fail "cli still in the key file: $(cat keys)"
	rc_refused "$(cat client.secret)"
	rc_show k.json show keys
	rc_eq k.json '[k["name"] for k in items("key")]' "['srv']"
	rc_show t.json show tunnels
	rc_eq t.json '[t["client_key"] for t in items("tunnel")]' "['cli']"
	touch release
	rd_wait_exit client 20 || atf_fail "client: $(cat client.log)"
	rd_same_sha256 up.bin back
	rc_show r.json show routes
	rc_eq r.json '[r["path"] for r in items("route")]' "['/test/path/']"
	rc_post
	rd_daemon_stop
}
key_revoke_refuses_new_keeps_live_cleanup()
{
	rd_stop_all
}

atf_test_case key_revoke_kill_closes_what_it_opened cleanup
key_revoke_kill_closes_what_it_opened_head()
{
	atf_set descr "key revoke ... kill: the tunnels a client key opened," \
	    "the routes and tunnels a server key holds, close; others go on"
	atf_set timeout 90
}
key_revoke_kill_closes_what_it_opened_body()
{
	echo "timeout idle 30" >rd.conf.extra
	rd_setup
	rd_daemon_start
	rc_ctl key add client c2 >c2.out 2>/dev/null || atf_fail "key add c2"
	rc_secret c2.out >c2.secret
	rc_ctl key add server s2 >s2.out 2>/dev/null || atf_fail "key add s2"
	s2=$(rc_secret s2.out)
	rd_random up.bin 1048576
	rd_agent agent -e
	rd_start agent2 "$(rd_libdir)/rdpeer" agent -e \
	    "rws://$s2@127.0.0.1:$RD_PORT/k2/"
	rd_wait 10 grep -q "^ready" agent2.log || atf_fail "$(cat agent2.log)"
	# t1: opened by c2; t2: served by s2; t3: neither
	rc_client t1 -k c2.secret --hold release /test/path/
	rc_client t2 --hold release /k2/
	rc_client t3 --send up.bin --rate 200000 --recv back3 --hold release \
	    /test/path/
	rc_until 5 'len(items("tunnel")) == 3' show tunnels

	atf_check -o inline:"key c2 revoked, what it opened is closed\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" key revoke c2 kill
	rd_wait 3 grep -q "^input-ended" t1.log ||
	    atf_fail "the tunnel c2 opened did not close: $(cat t1.log)"
	rc_until 3 'sorted(t["client"] for t in items("tunnel")) ==
	    sorted(["'"$(rc_local t2)"'", "'"$(rc_local t3)"'"])' show tunnels

	atf_check -o inline:"key s2 revoked, what it opened is closed\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" key revoke s2 kill
	rd_wait 3 grep -q "^input-ended" t2.log ||
	    atf_fail "the tunnel s2 served did not close: $(cat t2.log)"
	rd_wait_exit agent2 3 || :
	rc_until 3 '[r["path"] for r in items("route")] == ["/test/path/"]' \
	    show routes
	rc_until 3 '[t["client"] for t in items("tunnel")] ==
	    ["'"$(rc_local t3)"'"]' show tunnels
	grep -q "^input-ended" t3.log && atf_fail "t3 was cut: $(cat t3.log)"

	rc_ctl key add client unused >/dev/null 2>&1 || atf_fail "key add"
	atf_check -o inline:"key unused revoked, it had nothing open\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" key revoke unused kill
	touch release
	rd_wait_exit t3 20 || atf_fail "t3: $(cat t3.log)"
	rd_same_sha256 up.bin back3
	rc_post
	rd_daemon_stop
}
key_revoke_kill_closes_what_it_opened_cleanup()
{
	rd_stop_all
}

atf_test_case key_edit_never_blocks_relay cleanup
key_edit_never_blocks_relay_head()
{
	atf_set descr "A key edit through the daemon while another holds the" \
	    "key file's lock (rapictl -f) does not stall the relay: new" \
	    "tunnels and other requests go on"
	atf_set timeout 60
}
key_edit_never_blocks_relay_body()
{
	command -v flock >/dev/null || atf_skip "needs flock(1)"
	rd_setup
	rd_daemon_start
	rd_agent agent -e
	rc_works "$(cat client.secret)"
	# the lock rapictl -f takes, held as a slow rapictl -f would
	# one process holds the lock, so that stopping it frees the lock
	rd_start holder sh -c 'exec 9>>keys.lock; flock -x 9; exec sleep 60'
	rd_wait 5 sh -c '! flock -n -x keys.lock true' ||
	    atf_fail "flock(1) did not take keys.lock"
	# the parent does not wait for the lock: it says the file is busy
	if timeout 10 "$(rd_sbin rapictl)" -s "$PWD/rd.sock" key add client \
	    patient >adder.log 2>&1; then
		atf_fail "key add went through while the lock was held"
	fi
	grep -q "busy" adder.log ||
	    atf_fail "key add refused without saying why: $(cat adder.log)"
	# and it went on relaying and answering meanwhile
	rc_works "$(cat client.secret)"
	timeout 5 "$(rd_sbin rapictl)" -s "$PWD/rd.sock" show routes >/dev/null ||
	    atf_fail "show routes did not answer while the key file was locked"
	rd_stop holder
	# once the lock is free, the same edit goes through
	"$(rd_sbin rapictl)" -s "$PWD/rd.sock" key add client patient \
	    >adder.log 2>&1 || atf_fail "key add after the lock: $(cat adder.log)"
	rc_works "$(grep -Ex '[0-9a-f]{64}' adder.log)"
	rc_post
	rd_daemon_stop
}
key_edit_never_blocks_relay_cleanup()
{
	rd_stop_all
}

atf_test_case keyfile_mode_needs_no_daemon cleanup
keyfile_mode_needs_no_daemon_head()
{
	atf_set descr "rapictl -f KEYFILE key add, list, rotate, revoke with" \
	    "no daemon; list shows no secret nor hash"
	atf_set timeout 60
}
keyfile_mode_needs_no_daemon_body()
{
	r=$(rd_sbin rapictl)
	# a key file that does not exist yet
	"$r" -f "$PWD/k" key add server s1 paths /a/ '/b/*' >s1.out 2>s1.err ||
	    atf_fail "key add: $(cat s1.err)"
	s1=$(rc_secret s1.out)
	grep -qx "key s1 added in $PWD/k; a running daemon needs a reload" \
	    s1.out || atf_fail "key add: $(cat s1.out)"
	grep -qx "server s1 sha256:$(rc_sha "$s1") paths /a/ /b/\*" k ||
	    atf_fail "key file: $(cat k)"
	[ "$(stat -c %a k)" = 600 ] || atf_fail "mode $(stat -c %a k)"
	"$r" -j -f "$PWD/k" key add client c1 >c1.json || atf_fail "key add c1"
	c1=$(rc_py c1.json 'one("secret")["secret"]')
	grep -qx "client c1 sha256:$(rc_sha "$c1")" k ||
	    atf_fail "key file: $(cat k)"

	"$r" -f "$PWD/k" key rotate c1 grace 2h >rot.out 2>rot.err ||
	    atf_fail "rotate: $(cat rot.err)"
	c1new=$(rc_secret rot.out)
	until=$(sed -n 's/.*the old secret works until \(.*\)$/\1/p' rot.err)
	[ "$(grep -c "^client c1 " k)" = 2 ] &&
	    grep -qx "client c1 sha256:$(rc_sha "$c1") expires $until" k &&
	    grep -qx "client c1 sha256:$(rc_sha "$c1new")" k ||
	    atf_fail "after rotate: $(cat k)"

	"$r" -f "$PWD/k" key list >list.txt || atf_fail "key list"
	grep -Eq "^NAME +ROLE +PATHS +STATE +LAST-USED$" list.txt &&
	    grep -Eq "^s1 +server +/a/,/b/\* +live +-$" list.txt &&
	    grep -Eq "^c1 +client +\* +expiring at $until -$" list.txt &&
	    grep -Eq "^c1 +client +\* +live +-$" list.txt ||
	    atf_fail "key list: $(cat list.txt)"
	"$r" -j -f "$PWD/k" key list >list.json || atf_fail "key list -j"
	rc_eq list.json '[(k["name"], k["role"], k["state"]) for k in items("key")]' \
	    "[('s1', 'server', 'live'), ('c1', 'client', 'expiring'), ('c1', 'client', 'live')]"
	for v in "$s1" "$c1" "$c1new" "$(rc_sha "$s1")" "$(rc_sha "$c1")"; do
		grep -qF -- "$v" list.txt list.json &&
		    atf_fail "key list printed a secret or a hash"
	done

	atf_check -o inline:"key s1 revoked in $PWD/k; a running daemon needs a reload\n" \
	    "$r" -f "$PWD/k" key revoke s1
	grep -q "^server s1 " k && atf_fail "s1 still in the key file: $(cat k)"
	ls k.tmp.* 2>/dev/null && atf_fail "a temporary key file was left"
	atf_check -s exit:1 -e match:"-f works on key commands only" \
	    "$r" -f "$PWD/k" show status
	atf_check -s exit:1 -e match:"revoke ... kill needs the daemon" \
	    "$r" -f "$PWD/k" key revoke c1 kill
	atf_check -s exit:1 -e match:"no key of that name" \
	    "$r" -f "$PWD/k" key rotate s1
	# as root, a key file others could write is refused, as the daemon
	# would refuse it
	chmod 620 k
	atf_check -s exit:1 -e match:"must be owned by root and not writable" \
	    "$r" -f "$PWD/k" key add client c3
}
keyfile_mode_needs_no_daemon_cleanup()
{
	rd_stop_all
}

atf_test_case keyfile_lock_shared_with_daemon cleanup
keyfile_lock_shared_with_daemon_head()
{
	atf_set descr "rapictl -f and the daemon edit one key file at once" \
	    "under one lock: no edit is lost"
	atf_set timeout 90
}
keyfile_lock_shared_with_daemon_body()
{
	rd_setup
	rd_daemon_start
	r=$(rd_sbin rapictl)
	pids=
	for i in $(seq 1 12); do
		"$r" -f "$PWD/keys" key add client "f$i" >"f$i.out" 2>"f$i.err" &
		pids="$pids $!"
		"$r" -s "$PWD/rd.sock" key add server "d$i" >"d$i.out" 2>"d$i.err" &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || atf_fail "a key add failed: $(cat ./*.err)"
	done
	for i in $(seq 1 12); do
		for k in "client f$i" "server d$i"; do
			s=$(rc_secret "${k#* }.out")
			[ "$(grep -c "^$k sha256:$(rc_sha "$s")\$" keys)" = 1 ] ||
			    atf_fail "$k lost: $(cat keys)"
		done
	done
	[ "$(grep -c '^[cs]' keys)" = 26 ] || atf_fail "key file: $(cat keys)"
	atf_check -o inline:"configuration reloaded\n" \
	    "$r" -s "$PWD/rd.sock" reload
	rc_show k.json show keys
	rc_eq k.json 'len(items("key"))' 26
	rd_agent agent -e
	rc_works "$(rc_secret f7.out)"
	rc_post
	rd_daemon_stop
}
keyfile_lock_shared_with_daemon_cleanup()
{
	rd_stop_all
}

atf_test_case keyfile_edit_applies_on_reload cleanup
keyfile_edit_applies_on_reload_head()
{
	atf_set descr "A key added with -f beside a running daemon works" \
	    "after rapictl reload, not before"
	atf_set timeout 60
}
keyfile_edit_applies_on_reload_body()
{
	rd_setup
	rd_daemon_start
	rd_agent agent -e
	"$(rd_sbin rapictl)" -f "$PWD/keys" key add client late >late.out \
	    2>/dev/null || atf_fail "key add -f"
	late=$(rc_secret late.out)
	rc_refused "$late"
	atf_check -o inline:"configuration reloaded\n" \
	    "$(rd_sbin rapictl)" -s "$PWD/rd.sock" reload
	rc_works "$late"
	rc_post
	rd_daemon_stop
}
keyfile_edit_applies_on_reload_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case key_add_works_at_once
	atf_add_test_case key_edits_refused_leave_file
	atf_add_test_case key_rotate_grace_then_403
	atf_add_test_case key_rotate_default_grace_one_hour
	atf_add_test_case key_rotate_keeps_tunnels_and_routes
	atf_add_test_case key_revoke_refuses_new_keeps_live
	atf_add_test_case key_revoke_kill_closes_what_it_opened
	atf_add_test_case key_edit_never_blocks_relay
	atf_add_test_case keyfile_mode_needs_no_daemon
	atf_add_test_case keyfile_lock_shared_with_daemon
	atf_add_test_case keyfile_edit_applies_on_reload
}

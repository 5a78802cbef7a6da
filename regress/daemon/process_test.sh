#! /usr/bin/env atf-sh
#
# process_test.sh: the daemon's processes: privileges, a relay child or
# an agent killed, reload with live tunnels, graceful stop, no root.

. "$(atf_get_srcdir)/../lib/lib.sh"

# --- helpers ---------------------------------------------------------

# fp_path: faultproxy.py, installed beside lib.sh or in the source tree.
fp_path()
{
	for _f in "$(rd_libdir)/faultproxy.py" \
	    "$(rd_prefix)/../regress/lib/faultproxy.py"; do
		if [ -f "$_f" ]; then
			echo "$_f"
			return 0
		fi
	done
	atf_fail "faultproxy.py not found beside lib.sh nor in the source tree"
}

# fp_start NAME [-t TOXIC ...]: a faultproxy in front of the relay; its
# port in $FP_PORT, its log (wall-clock time in the second field) in
# NAME.log.  A bandwidth toxic makes a tunnel last long enough to be
# live while something happens to the daemon.
fp_start()
{
	_name=$1
	shift
	rd_start "$_name" /usr/bin/python3 "$(fp_path)" \
	    -u "127.0.0.1:$RD_PORT" "$@"
	rd_wait 10 grep -q "listening on" "$_name.log" ||
	    atf_fail "faultproxy $_name did not start: $(rd_flat "$_name.log")"
	FP_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' \
	    "$_name.log")
}

# fp_url SCHEME SECRETFILE: the relay's URL through the last proxy.
fp_url()
{
	echo "$1://$(cat "$2")@127.0.0.1:$FP_PORT/test/path/"
}

# fp_upstream LOG CONN: the local port of a proxy connection's socket
# to the relay (the relay sees it as the peer's port).
fp_upstream()
{
	sed -n "s/.* conn $2 from .*: open, upstream port \([0-9]*\)$/\1/p" "$1"
}

# pt_holder PORT: the daemon process that holds the relay's end of the
# connection from 127.0.0.1:PORT.
pt_holder()
{
	ss -Htnp state established "( sport = :$RD_PORT and dport = :$1 )" |
	    sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -1
}

# pt_since T0 T1: T1 - T0 in seconds, two decimals.
pt_since()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# pt_within WHAT T0 T1 MAX: T1 - T0 <= MAX seconds.
pt_within()
{
	[ -n "$3" ] || atf_fail "$1: never happened"
	_d=$(pt_since "$2" "$3")
	awk -v d="$_d" -v m="$4" 'BEGIN { exit !(d <= m) }' ||
	    atf_fail "$1: expected within $4 s, saw $_d s"
	echo "$1: $_d s"
}

# pt_post [PID]: rd_post, but a relay child killed by the test (PID)
# is no surprise.
pt_post()
{
	rd_alive rd || atf_fail "remotedapid died: $(tail -20 rd.log | rd_flat)"
	_bad=$(grep -E "relay [0-9]+ \(pid [0-9]+\) (killed|exited)" rd.log |
	    grep -v "(pid ${1:-none})")
	[ -z "$_bad" ] ||
	    atf_fail "a relay child died unexpectedly: $(echo "$_bad" | rd_flat)"
}

# pt_connect NAME FILE [URL]: an rdpeer client in the background that
# sends FILE to an echoing agent; NAME.back is what came back.
pt_connect()
{
	rd_start "$1" "$(rd_libdir)/rdpeer" connect -s "$2" -r "$1.back" \
	    "${3:-$RD_CURL}"
}

# --- privileges ------------------------------------------------------

atf_test_case children_unprivileged_in_chroot cleanup
children_unprivileged_in_chroot_head()
{
	atf_set descr "As root, every relay child runs as nobody, without" \
	    "other groups, with the test's empty directory as its root"
	atf_set timeout 30
}
children_unprivileged_in_chroot_body()
{
	[ "$(id -u)" = 0 ] || atf_skip "needs root"
	rd_setup 3
	rd_daemon_start
	uid=$(id -u nobody)
	gid=$(id -g nobody)
	n=0
	for pid in $(rd_children); do
		n=$((n + 1))
		u=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
		[ "$u" = "$uid $uid $uid $uid" ] ||
		    atf_fail "relay child $pid: expected Uid $uid (nobody) real, effective, saved and fs, saw '$u'"
		g=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
		[ "$g" = "$gid $gid $gid $gid" ] ||
		    atf_fail "relay child $pid: expected Gid $gid, saw '$g'"
		gs=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$pid/status" |
		    tr -s ' ' | sed 's/^ //; s/ $//')
		[ -z "$gs" ] || [ "$gs" = "$gid" ] ||
		    atf_fail "relay child $pid: expected no supplementary group but $gid, saw '$gs'"
		root=$(readlink "/proc/$pid/root")
		[ "$root" = "$PWD/empty" ] ||
		    atf_fail "relay child $pid: expected root $PWD/empty, saw '$root'"
	done
	[ "$n" = 3 ] || atf_fail "expected 3 relay children (prefork 3), saw $n"
	[ "$(awk '/^Uid:/ { print $2 }' "/proc/$(rd_pid rd)/status")" = 0 ] ||
	    atf_fail "expected the parent to stay root"
	rd_post
	rd_daemon_stop
}
children_unprivileged_in_chroot_cleanup()
{
	rd_stop_all
}

# --- row 24: a relay child killed ----------------------------------------

atf_test_case killed_child_replaced_others_unharmed cleanup
killed_child_replaced_others_unharmed_head()
{
	atf_set descr "kill -KILL the relay child holding the agent's" \
	    "WebSocket and some tunnels: it is replaced within 1 s, its" \
	    "tunnels end within 1 s, the other child's tunnels keep every" \
	    "byte, the agent registers again at once, new tunnels work"
	atf_set timeout 90
}
killed_child_replaced_others_unharmed_body()
{
	rd_setup 2
	rd_daemon_start
	fp_start fpagent
	rd_start agent "$(rd_libdir)/rdpeer" agent -e \
	    "$(fp_url rws server.secret)"
	rd_wait 10 grep -q "^ready" agent.log ||
	    atf_fail "agent did not register: $(rd_flat agent.log)"
	victim=$(pt_holder "$(fp_upstream fpagent.log 1)")
	[ -n "$victim" ] || atf_fail "cannot find the child of the agent's WebSocket"
	# tunnels, 400 kB/s each way: each of them lives about 5 s
	fp_start fpclient -t bandwidth,rate=400000
	curl=$(fp_url rwr client.secret)
	mine=0
	theirs=0
	i=0
	while [ $i -lt 8 ] && { [ $mine = 0 ] || [ $theirs = 0 ] ||
	    [ $i -lt 4 ]; }; do
		i=$((i + 1))
		rd_random "data.$i" 2097152
		pt_connect "t.$i" "data.$i" "$curl"
		rd_wait 10 grep -q "^tunnel $((i - 1)) " agent.log ||
		    atf_fail "tunnel $i did not link: $(rd_flat agent.log)"
		holder=$(pt_holder "$(fp_upstream fpclient.log $i)")
		if [ "$holder" = "$victim" ]; then
			mine=$((mine + 1))
			echo "$i" >>victims
		else
			theirs=$((theirs + 1))
			echo "$i" >>survivors
		fi
	done
	[ $mine -gt 0 ] && [ $theirs -gt 0 ] ||
	    atf_fail "expected tunnels in both children after $i, saw $mine in the agent's child and $theirs in the other"
	echo "tunnels in the killed child: $(rd_flat victims), in the other: $(rd_flat survivors)"
	t0=$(date +%s.%N)
	kill -KILL "$victim"
	# the agent lost its WebSocket: it registers again at once
	rd_wait_exit agent 2 && atf_fail "the agent did not lose its WebSocket"
	rd_agent agent2 -e
	pt_within "a new registration after the kill" "$t0" "$(date +%s.%N)" 1
	# the killed child's tunnels ended (the proxy saw it) within 1 s
	for i in $(cat victims); do
		seen=$(grep -E "conn $i: (FIN from the upstream|upstream side:|send up:)" \
		    fpclient.log | head -1 | cut -d' ' -f2)
		pt_within "the end of tunnel $i, held by the killed child" \
		    "$t0" "$seen" 1
	done
	# replaced (the time is checked last, after everything else)
	rd_wait 1 grep -q "relay [0-9]* (pid $victim) killed by signal 9" rd.log ||
	    atf_fail "no 'killed by signal 9' line for pid $victim within 1 s"
	slot=$(sed -n "s/.*relay \([0-9]*\) (pid $victim) killed.*/\1/p" rd.log)
	newpid=
	for n in $(seq 50); do
		newpid=$(sed -n "s/.*relay $slot started, pid \([0-9]*\)$/\1/p" \
		    rd.log | grep -v "^$victim$" | tail -1)
		[ -n "$newpid" ] && rd_children | grep -qx "$newpid" && break
		newpid=
		sleep 0.1
	done
	replaced=$(date +%s.%N)
	[ -n "$newpid" ] ||
	    atf_fail "relay $slot was not replaced within 5 s: children $(rd_children | rd_flat)"
	echo "relay $slot: pid $victim replaced by $newpid after $(pt_since "$t0" "$replaced") s"
	# the other child's tunnels carry every byte
	for i in $(cat survivors); do
		rd_wait_exit "t.$i" 30 ||
		    atf_fail "tunnel $i of the other child failed: $(rd_flat "t.$i.log")"
		rd_same_sha256 "data.$i" "t.$i.back"
	done
	rd_random small.bin 65536
	atf_check "$(rd_libdir)/rdpeer" connect -s small.bin -r small.back \
	    "$RD_CURL"
	rd_same_sha256 small.bin small.back
	pt_post "$victim"
	rd_daemon_stop
	pt_within "relay $slot replaced by a new child (pid $newpid)" "$t0" \
	    "$replaced" 1
}
killed_child_replaced_others_unharmed_cleanup()
{
	rd_stop_all
}

# --- row 26: an agent killed -------------------------------------------

atf_test_case killed_agent_drops_waiting_keeps_linked cleanup
killed_agent_drops_waiting_keeps_linked_head()
{
	atf_set descr "kill -9 an agent: the clients waiting on its path are" \
	    "closed within 1 s, its linked tunnels go on intact, a new agent" \
	    "serves new clients"
	atf_set timeout 60
}
killed_agent_drops_waiting_keeps_linked_body()
{
	rd_setup
	rd_daemon_start
	rd_agent agent -e	# each tunnel end is a process of its own
	fp_start fpclient -t bandwidth,rate=400000
	for i in 1 2; do
		rd_random "data.$i" 1048576
		pt_connect "linked.$i" "data.$i" "$(fp_url rwr client.secret)"
		rd_wait 10 grep -q "^tunnel $((i - 1)) " agent.log ||
		    atf_fail "tunnel $i did not link: $(rd_flat agent.log)"
	done
	# stopped, the agent leaves the next clients waiting
	kill -STOP "$(rd_pid agent)"
	rd_random small.bin 4096
	for i in 1 2 3; do
		rd_start "wait.$i" sh -c "'$(rd_libdir)/rdpeer' connect \
		    -s small.bin '$RD_CURL'; echo \"exit \$? \$(date +%s.%N)\""
	done
	sleep 0.5
	for i in 1 2 3; do
		rd_alive "wait.$i" ||
		    atf_fail "client $i did not wait: $(rd_flat "wait.$i.log")"
	done
	t0=$(date +%s.%N)
	kill -KILL "$(rd_pid agent)"
	for i in 1 2 3; do
		rd_wait_exit "wait.$i" 5
		end=$(sed -n 's/^exit [0-9]* //p' "wait.$i.log")
		pt_within "waiting client $i closed after the agent died" \
		    "$t0" "$end" 1
		grep -q "^exit 0 " "wait.$i.log" &&
		    atf_fail "waiting client $i was served by a dead agent"
		grep -q "502" "wait.$i.log" ||
		    echo "waiting client $i: $(rd_flat "wait.$i.log")"
	done
	for i in 1 2; do
		rd_wait_exit "linked.$i" 30 ||
		    atf_fail "linked tunnel $i failed: $(rd_flat "linked.$i.log")"
		rd_same_sha256 "data.$i" "linked.$i.back"
	done
	rd_agent agent2 -e
	atf_check "$(rd_libdir)/rdpeer" connect -s small.bin -r new.back \
	    "$RD_CURL"
	rd_same_sha256 small.bin new.back
	rd_post
	rd_daemon_stop
}
killed_agent_drops_waiting_keeps_linked_cleanup()
{
	[ -f agent.pid ] && kill -CONT "$(cat agent.pid)" 2>/dev/null
	rd_stop_all
}

# --- row 34: reload --------------------------------------------------------

atf_test_case reload_ten_hups_no_failed_connect cleanup
reload_ten_hups_no_failed_connect_head()
{
	atf_set descr "10 SIGHUPs during a loop of tunnel setups and 4 bulk" \
	    "tunnels: no failed connect, every byte intact"
	atf_set timeout 60
}
reload_ten_hups_no_failed_connect_body()
{
	rd_setup
	rd_daemon_start
	rd_agent agent -e
	fp_start fpclient -t bandwidth,rate=400000
	for i in 1 2 3 4; do
		rd_random "bulk.$i" 1572864
		pt_connect "bulk.$i" "bulk.$i" "$(fp_url rwr client.secret)"
	done
	rd_random small.bin 16384
	cat >loop.sh <<-'EOF'
	i=0
	while [ ! -f loop.stop ] && [ $i -lt 500 ]; do
		i=$((i + 1))
		if "$1" connect -s small.bin -r loop.back "$2" 2>loop.err &&
		    cmp -s small.bin loop.back; then
			echo ok
		else
			echo "failed $i: $(cat loop.err)"
		fi
		rm -f loop.back
	done
	EOF
	rd_start loop sh loop.sh "$(rd_libdir)/rdpeer" "$RD_CURL"
	sleep 0.3
	for i in $(seq 10); do
		kill -HUP "$(rd_pid rd)"
		sleep 0.3
	done
	rd_wait 5 sh -c '[ "$(grep -c "configuration reloaded" rd.log)" -ge 10 ]' ||
	    atf_fail "expected 10 reloads, saw $(grep -c 'configuration reloaded' rd.log)"
	sleep 0.3
	touch loop.stop
	rd_wait_exit loop 10
	n=$(grep -c "^ok$" loop.log)
	bad=$(grep -v "^ok$" loop.log | head -3)
	echo "tunnel setups during the reloads: $n"
	[ -z "$bad" ] || atf_fail "expected no failed connect, saw: $(echo "$bad" | rd_flat)"
	[ "$n" -ge 20 ] || atf_fail "expected at least 20 tunnel setups, saw $n"
	for i in 1 2 3 4; do
		rd_wait_exit "bulk.$i" 30 ||
		    atf_fail "bulk tunnel $i failed: $(rd_flat "bulk.$i.log")"
		rd_same_sha256 "bulk.$i" "bulk.$i.back"
	done
	grep -q "^tunnel " agent.log || atf_fail "the agent served nothing"
	rd_post
	rd_daemon_stop
}
reload_ten_hups_no_failed_connect_cleanup()
{
	touch loop.stop
	rd_stop_all
}

atf_test_case reload_bad_config_keeps_old cleanup
reload_bad_config_keeps_old_head()
{
	atf_set descr "A reload with a broken config logs file:line and keeps" \
	    "the old config working; a good reload then applies"
	atf_set timeout 30
}
reload_bad_config_keeps_old_body()
{
	rd_setup		# timeout idle 5
	rd_daemon_start
	rd_agent agent -e
	rd_random small.bin 4096
	cp rd.conf rd.conf.good
	lines=$(wc -l <rd.conf)
	printf 'timeout idle 7\nfrobnicate the relay\n' >>rd.conf
	bad=$((lines + 2))
	kill -HUP "$(rd_pid rd)"
	rd_wait 5 grep -q "kept the old" rd.log ||
	    atf_fail "no 'kept the old' line after a bad reload: $(tail -5 rd.log | rd_flat)"
	grep -q "rd\.conf:$bad: syntax error" rd.log ||
	    atf_fail "expected 'rd.conf:$bad: syntax error' in the log, saw: $(grep 'rd\.conf:' rd.log | rd_flat)"
	# the old config: a client's timeout is still the old idle one
	atf_check -o ignore "$(rd_libdir)/rdpeer" connect -s small.bin \
	    -r back.1 "$RD_CURL"
	rd_same_sha256 small.bin back.1
	grep -q "^tunnel 0 .* timeout 5$" agent.log ||
	    atf_fail "expected the old 'timeout idle 5' to hold, saw: $(grep '^tunnel 0' agent.log | rd_flat)"
	# a good reload applies
	cp rd.conf.good rd.conf
	echo "timeout idle 7" >>rd.conf
	kill -HUP "$(rd_pid rd)"
	rd_wait 5 grep -q "configuration reloaded" rd.log ||
	    atf_fail "the good config was not reloaded: $(tail -5 rd.log | rd_flat)"
	atf_check -o ignore "$(rd_libdir)/rdpeer" connect -s small.bin \
	    -r back.2 "$RD_CURL"
	rd_same_sha256 small.bin back.2
	grep -q "^tunnel 1 .* timeout 7$" agent.log ||
	    atf_fail "expected 'timeout idle 7' after the good reload, saw: $(grep '^tunnel 1' agent.log | rd_flat)"
	rd_post
	rd_daemon_stop
}
reload_bad_config_keeps_old_cleanup()
{
	rd_stop_all
}

atf_test_case reload_removed_key_refused_tunnel_kept cleanup
reload_removed_key_refused_tunnel_kept_head()
{
	atf_set descr "A client key removed from the key file by a reload:" \
	    "new requests with it get 403, a tunnel it opened goes on"
	atf_set timeout 30
}
reload_removed_key_refused_tunnel_kept_body()
{
	rd_setup
	rd_daemon_start
	rd_agent agent -e
	fp_start fpclient -t bandwidth,rate=400000
	rd_random data.bin 1048576
	pt_connect live data.bin "$(fp_url rwr client.secret)"
	rd_wait 10 grep -q "^tunnel 0 " agent.log ||
	    atf_fail "the tunnel did not link: $(rd_flat agent.log)"
	grep -v "^client " keys >keys.new
	chmod 600 keys.new
	mv keys.new keys
	kill -HUP "$(rd_pid rd)"
	rd_wait 5 grep -q "configuration reloaded" rd.log ||
	    atf_fail "no reload: $(tail -5 rd.log | rd_flat)"
	rd_random small.bin 4096
	if "$(rd_libdir)/rdpeer" connect -s small.bin "$RD_CURL" \
	    >refused.log 2>&1; then
		atf_fail "a removed key still opened a tunnel"
	fi
	grep -q "403" refused.log ||
	    atf_fail "expected 403 for a removed key, saw: $(rd_flat refused.log)"
	rd_alive live || rd_wait_exit live 1 ||
	    atf_fail "the tunnel opened with the removed key was cut: $(rd_flat live.log)"
	rd_wait_exit live 30 ||
	    atf_fail "the tunnel opened with the removed key failed: $(rd_flat live.log)"
	rd_same_sha256 data.bin live.back
	rd_alive agent || atf_fail "the agent lost its WebSocket: $(rd_flat agent.log)"
	rd_post
	rd_daemon_stop
}
reload_removed_key_refused_tunnel_kept_cleanup()
{
	rd_stop_all
}

# --- row 36: graceful stop --------------------------------------------------

atf_test_case sigterm_drains_then_exits cleanup
sigterm_drains_then_exits_head()
{
	atf_set descr "SIGTERM: the listener closes at once, a live tunnel" \
	    "finishes, one that would not is cut at 'timeout shutdown' (3 s)," \
	    "the daemon exits 0 and leaves no child"
	atf_set timeout 30
}
sigterm_drains_then_exits_body()
{
	rd_setup		# timeout shutdown 3
	rd_daemon_start
	rd_agent agent -e
	fp_start fpclient -t bandwidth,rate=400000
	rd_random data.bin 614400
	pt_connect live data.bin "$(fp_url rwr client.secret)"
	rd_wait 10 grep -q "^tunnel 0 " agent.log ||
	    atf_fail "the tunnel did not link: $(rd_flat agent.log)"
	# an echo client that waits for the server's FIN: it never ends
	rd_start stuck "$(rd_libdir)/rdpeer" connect -e "$RD_CURL"
	rd_wait 10 grep -q "^tunnel 1 " agent.log ||
	    atf_fail "the second tunnel did not link: $(rd_flat agent.log)"
	children=$(rd_children)
	rd_post
	t0=$(date +%s.%N)
	kill -TERM "$(rd_pid rd)"
	# the listener is closed at once
	rd_wait 1 /usr/bin/python3 -c "
import socket, sys
try:
    socket.create_connection(('127.0.0.1', $RD_PORT), timeout=1)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)" || atf_fail "a new connection was accepted 1 s after SIGTERM"
	pt_within "refusing new connections after SIGTERM" "$t0" \
	    "$(date +%s.%N)" 1
	rd_wait_exit live 10 ||
	    atf_fail "the live tunnel did not finish: $(rd_flat live.log)"
	pt_within "the live tunnel finished" "$t0" "$(date +%s.%N)" 3
	rd_same_sha256 data.bin live.back
	rd_wait_exit stuck 10
	stuck=$(date +%s.%N)
	d=$(pt_since "$t0" "$stuck")
	awk -v d="$d" 'BEGIN { exit !(d >= 2.5 && d <= 4.5) }' ||
	    atf_fail "expected the endless tunnel cut at 'timeout shutdown' 3 s, saw $d s"
	rd_wait_exit rd 10
	rc=$?
	[ "$rc" = 0 ] || atf_fail "expected exit status 0, saw $rc"
	pt_within "the daemon's exit" "$t0" "$(date +%s.%N)" 5
	for pid in $children; do
		kill -0 "$pid" 2>/dev/null &&
		    atf_fail "relay child $pid outlived the daemon"
	done
	grep -q "agent .* on /test/path/: closing (1001, shutdown)" rd.log ||
	    atf_fail "expected the agent's WebSocket closed with 1001: $(grep 'agent ' rd.log | rd_flat)"
	rd_wait_exit agent 2 && atf_fail "the agent kept its WebSocket"
	grep -q "tunnel /test/path/: .*, shutdown" rd.log ||
	    atf_fail "no tunnel line ending with 'shutdown'"
}
sigterm_drains_then_exits_cleanup()
{
	rd_stop_all
}

# --- without root ---------------------------------------------------------

atf_test_case runs_without_root cleanup
runs_without_root_head()
{
	atf_set descr "Started as nobody, the daemon warns that it cannot" \
	    "chroot nor change user, runs, and carries a tunnel"
	atf_set timeout 30
}
runs_without_root_body()
{
	[ "$(id -u)" = 0 ] || atf_skip "needs root to become nobody"
	rd_setup
	# a directory of its own: the test's work directory is root's
	dir=$(mktemp -d /tmp/rd-nobody.XXXXXX)
	echo "$dir" >nobody.dir
	chmod 755 "$dir"
	chown nobody "$dir"	# its control socket goes there
	cp keys "$dir/keys"
	sed -e "s|^keys .*|keys \"$dir/keys\"|" \
	    -e "s|^control socket .*|control socket \"$dir/rd.sock\"|" \
	    rd.conf >"$dir/rd.conf"
	chown nobody "$dir/keys" "$dir/rd.conf"
	chmod 600 "$dir/keys"
	rd_start rd setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$(rd_sbin remotedapid)" -d -v -f "$dir/rd.conf"
	rd_wait 10 grep -q "listening on" rd.log ||
	    atf_fail "remotedapid did not start as nobody: $(rd_flat rd.log)"
	rd_wait 10 rd_children_ready 2 ||
	    atf_fail "relay children not ready: $(rd_flat rd.log)"
	grep -q "not running as root" rd.log ||
	    atf_fail "expected a warning about not running as root: $(rd_flat rd.log)"
	uid=$(id -u nobody)
	for pid in $(rd_pid rd) $(rd_children); do
		u=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
		[ "$u" = "$uid" ] ||
		    atf_fail "process $pid: expected uid $uid, saw $u"
	done
	rd_tunnel_both_ways 1048576
	rd_post
	rd_daemon_stop
}
runs_without_root_cleanup()
{
	rd_stop_all
	if [ -f nobody.dir ]; then
		case $(cat nobody.dir) in
		/tmp/rd-nobody.*) rm -rf "$(cat nobody.dir)" ;;
		esac
	fi
}

atf_test_case children_sandboxed cleanup
children_sandboxed_head()
{
	atf_set descr "every relay child runs under seccomp with no new" \
	    "privileges and no capability; the parent keeps only the five" \
	    "it uses"
	atf_set timeout 60
}
children_sandboxed_body()
{
	[ "$(id -u)" = 0 ] || atf_skip "needs root"
	rd_setup 2
	rd_daemon_start
	for pid in $(rd_children); do
		for f in "Seccomp:	2" "NoNewPrivs:	1" \
		    "CapEff:	0000000000000000" \
		    "CapPrm:	0000000000000000"; do
			grep -q "^$f$" "/proc/$pid/status" ||
			    atf_fail "relay child $pid: expected '$f', saw '$(grep "^${f%%:*}:" "/proc/$pid/status")'"
		done
	done
	# net_bind_service, setuid, setgid, sys_chroot, kill
	grep -q "^CapEff:	00000000000404e0$" "/proc/$(rd_pid rd)/status" ||
	    atf_fail "parent: expected CapEff 00000000000404e0, saw '$(grep CapEff "/proc/$(rd_pid rd)/status")'"
	grep -q "^CapBnd:	00000000000404e0$" "/proc/$(rd_pid rd)/status" ||
	    atf_fail "parent: expected CapBnd 00000000000404e0, saw '$(grep CapBnd "/proc/$(rd_pid rd)/status")'"
	# and a session runs through the filter with no child lost
	rd_random up.bin 4194304
	rd_agent agent -c 4 -e
	atf_check "$(rd_libdir)/rdpeer" connect -P 4 -s up.bin -r back \
	    "$RD_CURL"
	for i in 0 1 2 3; do
		rd_same_sha256 up.bin "back.$i"
	done
	kill -HUP "$(rd_pid rd)"
	rd_wait_log rd.log "configuration reloaded"
	rd_post
	rd_daemon_stop
}
children_sandboxed_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case children_sandboxed
	atf_add_test_case children_unprivileged_in_chroot
	atf_add_test_case killed_child_replaced_others_unharmed
	atf_add_test_case killed_agent_drops_waiting_keeps_linked
	atf_add_test_case reload_ten_hups_no_failed_connect
	atf_add_test_case reload_bad_config_keeps_old
	atf_add_test_case reload_removed_key_refused_tunnel_kept
	atf_add_test_case sigterm_drains_then_exits
	atf_add_test_case runs_without_root
}

#! /usr/bin/env atf-sh
#
# hooks_test.sh: faults that need the test build's hooks (-DREGRESS).
# These run only from the build tree; they are not installed.

. "$(atf_get_srcdir)/../lib/lib.sh"

RD_DAEMON="$(atf_get_srcdir)/../hooks/remotedapid"

atf_test_case crash_loop_backs_off cleanup
crash_loop_backs_off_head()
{
	atf_set descr "a child that dies at every start is restarted with" \
	    "doubling back-off, while the other child serves tunnels"
	atf_set timeout 60
}
crash_loop_backs_off_body()
{
	rd_setup 2
	rd_start rd env RD_REGRESS_CRASH=1 "$RD_DAEMON" -d -v -f rd.conf
	rd_wait 10 grep -q "listening on" rd.log ||
	    atf_fail "remotedapid did not start: $(cat rd.log)"
	rd_wait 10 grep -q "relay 0 ready" rd.log ||
	    atf_fail "relay 0 not ready: $(cat rd.log)"
	sleep 8
	deaths=$(grep -c "relay 1 (pid [0-9]*) killed by signal 6" rd.log)
	# restarts at once, then after 1, 2, 4 s: at most 6 deaths in 8 s,
	# where a tight loop would make hundreds
	[ "$deaths" -ge 3 ] && [ "$deaths" -le 6 ] ||
	    atf_fail "expected 3 to 6 deaths of relay 1 in 8 s, saw $deaths"
	grep -q "relay 1 keeps dying" rd.log ||
	    atf_fail "no back-off logged"
	rd_alive rd || atf_fail "the parent died"
	grep "relay 0 (pid" rd.log && atf_fail "relay 0 died"
	rd_random up.bin 1048576
	rd_agent agent -c 1 -e
	atf_check "$(rd_libdir)/rdpeer" connect -s up.bin -r back "$RD_CURL"
	rd_same_sha256 up.bin back
	rd_daemon_stop
}
crash_loop_backs_off_cleanup()
{
	rd_stop_all
}

atf_test_case forbidden_syscall_kills_child cleanup
forbidden_syscall_kills_child_head()
{
	atf_set descr "a relay child that calls open(2) dies with SIGSYS and" \
	    "is replaced, while a tunnel in the other child keeps its bytes"
	atf_set timeout 120
}
forbidden_syscall_kills_child_body()
{
	rd_setup 2
	rd_random up.bin 33554432
	# the sanitizer build logs instead of killing; this case never
	rd_start rd env RD_REGRESS_SANDBOX=kill RD_REGRESS_SYSCALL=1 \
	    "$RD_DAEMON" -d -v -f rd.conf
	rd_wait 10 rd_children_ready 2 ||
	    atf_fail "relay children not ready: $(cat rd.log)"
	# a slow tunnel: the client reads its echo at 2 MB/s through a proxy
	port=$(rd_freeport)
	rd_start proxy /usr/bin/python3 "$(rd_libdir)/faultproxy.py" \
	    -p "$port" -u "127.0.0.1:$RD_PORT" -t "bandwidth,rate=2000000,dir=down"
	rd_wait 10 grep -q "$port" proxy.log
	rd_agent agent -c 1 -e
	rd_start client "$(rd_libdir)/rdpeer" connect -s up.bin -r back \
	    "rwr://$(cat client.secret)@127.0.0.1:$port/test/path/"
	rd_wait_tunnel
	holder=$("$(rd_sbin rapictl)" -s rd.sock show tunnels |
	    awk '/test\/path/ { print $NF }')
	victim=$((1 - holder))
	# only child $victim obeys; ask until a request lands there
	i=0
	while ! grep -q "relay $victim (pid [0-9]*) killed by signal 31" \
	    rd.log && [ $i -lt 30 ]; do
		curl -s -o /dev/null --max-time 2 \
		    "http://127.0.0.1:$RD_PORT/regress/forbidden/$victim"
		sleep 0.2
		i=$((i + 1))
	done
	grep -q "relay $victim (pid [0-9]*) killed by signal 31" rd.log ||
	    atf_fail "relay $victim did not die of SIGSYS: $(tail -5 rd.log)"
	rd_wait 5 sh -c "[ \$(grep -c 'relay $victim started' rd.log) -ge 2 ]" ||
	    atf_fail "relay $victim was not replaced"
	rd_wait_exit client 60 || atf_fail "client failed: $(cat client.log)"
	rd_same_sha256 up.bin back
	grep -q "relay $holder (pid" rd.log && atf_fail "relay $holder died"
	rd_daemon_stop
}
forbidden_syscall_kills_child_cleanup()
{
	rd_stop_all
}

atf_test_case tunnel_without_child_numbers cleanup
tunnel_without_child_numbers_head()
{
	atf_set descr "a tunnel the parent knows but no child has listed yet" \
	    "is shown with its numbers unknown, and the parent stays up"
	atf_set timeout 60
}
tunnel_without_child_numbers_body()
{
	rd_setup 2
	rd_start rd env RD_REGRESS_NOSTATS=1 "$RD_DAEMON" -d -v -f rd.conf
	rd_wait 10 rd_children_ready 2 ||
	    atf_fail "relay children not ready: $(cat rd.log)"
	rd_agent agent -c 1 -e
	mkfifo hold
	rd_start client "$(rd_libdir)/rdpeer" connect -s hold -r back "$RD_CURL"
	exec 3>hold
	rd_wait_tunnel
	# no child listed it: idle unknown (-1), no bytes counted
	"$(rd_sbin rapictl)" -s rd.sock -j show tunnels >t.json
	grep -q '"idle":-1,"bytes_up":0,"bytes_down":0' t.json ||
	    atf_fail "expected unknown numbers: $(cat t.json)"
	echo through >&3
	exec 3>&-
	rd_wait_exit client 10 || atf_fail "client failed: $(cat client.log)"
	[ "$(cat back)" = through ] || atf_fail "echo: $(cat back)"
	rd_post
	rd_daemon_stop
}
tunnel_without_child_numbers_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case crash_loop_backs_off
	atf_add_test_case tunnel_without_child_numbers
	atf_add_test_case forbidden_syscall_kills_child
}

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

atf_init_test_cases()
{
	atf_add_test_case crash_loop_backs_off
}

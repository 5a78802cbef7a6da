#! /usr/bin/env atf-sh
#
# example_test.sh: the two programs of libremoted(3)'s EXAMPLES work as
# the page says, against the real daemon: the server registers with
# rapi_listen(), each client reaches it with rapi_connect() and gets
# the server's greeting and its own message back.

. "$(atf_get_srcdir)/../lib/lib.sh"

# et_server: the example server on the relay's path, its key in RAPI_KEY
# and not in the URL; ready once it says it registered.
et_server()
{
	RAPI_KEY=$(cat server.secret) rd_start server \
	    "$(atf_get_srcdir)/example_server" \
	    "rws://127.0.0.1:$RD_PORT/test/path/"
	rd_wait_log server.log "registered /test/path/"
}

# et_client N: one client (the key in its URL); N.out must be the
# greeting with the client's address, then its message.
et_client()
{
	"$(atf_get_srcdir)/example_client" "$RD_CURL" "message $1" \
	    >"$1.out" 2>"$1.err" || return 1
	grep -qx "hello, 127\.0\.0\.1:[0-9]*" "$1.out" &&
	    grep -qx "message $1" "$1.out" &&
	    [ "$(wc -l <"$1.out")" -eq 2 ]
}

atf_test_case hello_echo cleanup
hello_echo_head()
{
	atf_set descr "the example client gets the example server's greeting and its message back"
	atf_set timeout 60
}
hello_echo_body()
{
	rd_setup
	rd_daemon_start
	et_server
	et_client 1 || atf_fail "client: $(cat 1.out 1.err server.log)"
	rd_alive server || atf_fail "the server died: $(cat server.log)"
	rd_post
	rd_daemon_stop
}
hello_echo_cleanup()
{
	rd_stop_all
}

atf_test_case clients_at_once cleanup
clients_at_once_head()
{
	atf_set descr "ten clients at once, each served by a child of the example server"
	atf_set timeout 60
}
clients_at_once_body()
{
	rd_setup
	rd_daemon_start
	et_server
	for i in 1 2 3 4 5 6 7 8 9 10; do
		et_client "$i" &
		echo $! >"client$i.pid"
	done
	for i in 1 2 3 4 5 6 7 8 9 10; do
		rd_wait_exit "client$i" ||
		    atf_fail "client $i: $(cat "$i.out" "$i.err")"
	done
	rd_alive server || atf_fail "the server died: $(cat server.log)"
	rd_post
	rd_daemon_stop
}
clients_at_once_cleanup()
{
	rd_stop_all
}

atf_test_case no_server cleanup
no_server_head()
{
	atf_set descr "without the example server the client fails with the relay's answer"
	atf_set timeout 30
}
no_server_body()
{
	rd_setup
	rd_daemon_start
	atf_check -s exit:1 -o empty \
	    -e match:"502 .*Requested destination does not exist" \
	    "$(atf_get_srcdir)/example_client" "$RD_CURL" hello
	rd_post
	rd_daemon_stop
}
no_server_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case hello_echo
	atf_add_test_case clients_at_once
	atf_add_test_case no_server
}

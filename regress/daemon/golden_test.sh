#! /usr/bin/env atf-sh
#
# golden_test.sh: the bytes that the original's PHP SDK sends, recorded
# once (../data/golden/README), replayed against the real daemon; its
# answers must be the ones the PHP SDK accepts.

. "$(atf_get_srcdir)/../lib/lib.sh"

# golden SCENARIO: run golden_replay.py against the daemon of rd_setup.
golden()
{
	atf_check -o match:"golden_replay $1: ok" /usr/bin/python3 \
	    "$(atf_get_srcdir)/golden_replay.py" \
	    -g "$(atf_get_srcdir)/../data/golden" -p "$RD_PORT" \
	    -s server.secret -c client.secret \
	    -t "$(sed -n 's/^timeout idle //p' rd.conf)" "$1"
}

atf_test_case php_server_websocket cleanup
php_server_websocket_head()
{
	atf_set descr "the PHP server's WebSocket upgrade gets the exact 101" \
	    "with the right Sec-WebSocket-Accept; a second one is refused"
	atf_set timeout 60
}
php_server_websocket_body()
{
	rd_setup
	rd_daemon_start
	golden websocket
	rd_post
	rd_daemon_stop
}
php_server_websocket_cleanup()
{
	rd_stop_all
}

atf_test_case php_server_keepalive_close cleanup
php_server_keepalive_close_head()
{
	atf_set descr "the PHP server's pongs keep it registered, its ping" \
	    "gets a pong, its close a close, and the path is freed"
	atf_set timeout 60
}
php_server_keepalive_close_body()
{
	rd_setup
	rd_daemon_start
	golden keepalive
	rd_post
	rd_daemon_stop
}
php_server_keepalive_close_cleanup()
{
	rd_stop_all
}

atf_test_case php_tunnel cleanup
php_tunnel_head()
{
	atf_set descr "a PHP client's WebRoute: exact notification; the PHP" \
	    "server's dial-back: exact 101 on both sides, bytes intact"
	atf_set timeout 60
}
php_tunnel_body()
{
	rd_setup
	rd_daemon_start
	golden tunnel
	rd_post
	rd_daemon_stop
}
php_tunnel_cleanup()
{
	rd_stop_all
}

atf_test_case php_refusals cleanup
php_refusals_head()
{
	atf_set descr "403 and 502 to the PHP SDK's requests: the original's" \
	    "status, reason and JSON body, byte for byte"
	atf_set timeout 60
}
php_refusals_body()
{
	rd_setup
	rd_daemon_start
	golden refusals
	rd_post
	rd_daemon_stop
}
php_refusals_cleanup()
{
	rd_stop_all
}

atf_test_case php_dialback_unknown_id cleanup
php_dialback_unknown_id_head()
{
	atf_set descr "a PHP dial-back with an ID no client waits for: 400"
	atf_set timeout 60
}
php_dialback_unknown_id_body()
{
	rd_setup
	rd_daemon_start
	golden dialback_unknown
	rd_post
	rd_daemon_stop
}
php_dialback_unknown_id_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case php_server_websocket
	atf_add_test_case php_server_keepalive_close
	atf_add_test_case php_tunnel
	atf_add_test_case php_refusals
	atf_add_test_case php_dialback_unknown_id
}

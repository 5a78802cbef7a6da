#! /usr/bin/env atf-sh
#
# nginx_test.sh: the relay behind nginx as etc/nginx.conf.example says
# (TLS at nginx, upgrades passed to the relay on loopback, X-Forwarded-For
# believed with "trusted proxy 127.0.0.1").  The example is used as it
# is; only its ports, paths and certificate names are rewritten.

. "$(atf_get_srcdir)/common.sh"

# nt_setup: certificates, the relay (trusted proxy 127.0.0.1) on
# $RD_PORT, and nginx with the example's server block on $NT_PORT (and
# on [::1]:$NT_PORT where this machine has IPv6 loopback).
nt_setup()
{
	dp_cert relay
	echo "trusted proxy 127.0.0.1" >rd.conf.extra
	rd_setup
	rd_daemon_start
	NT_PORT=$(rd_freeport)
	if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
		NT_V6="[::1]:$NT_PORT"
	else
		NT_V6=""
	fi
	mkdir -p nginx/logs nginx/tmp
	# the example, with this test's ports, paths and certificate
	sed -e "s|listen 443 ssl;|listen 127.0.0.1:$NT_PORT ssl;|" \
	    -e "s|listen \[::\]:443 ssl;|${NT_V6:+listen $NT_V6 ssl;}|" \
	    -e "s|/etc/ssl/relay.example.com.crt|$PWD/relay.pem|" \
	    -e "s|/etc/ssl/private/relay.example.com.key|$PWD/relay.key|" \
	    -e "s|http://127.0.0.1:37791|http://127.0.0.1:$RD_PORT|" \
	    "$(dp_example nginx.conf.example)" >nginx/remotedapid.conf
	grep -q "listen 127.0.0.1:$NT_PORT ssl;" nginx/remotedapid.conf &&
	    grep -q "proxy_pass http://127.0.0.1:$RD_PORT;" \
	    nginx/remotedapid.conf && grep -q "$PWD/relay.key" \
	    nginx/remotedapid.conf ||
	    atf_fail "the example changed: cannot rewrite its listen, proxy_pass or certificate lines"
	# what Debian's /etc/nginx/nginx.conf would give around it
	cat >nginx/nginx.conf <<-CONF
	worker_processes 1;
	events {
		worker_connections 512;
	}
	http {
		access_log $PWD/nginx/logs/access.log;
		client_body_temp_path $PWD/nginx/tmp/body;
		proxy_temp_path $PWD/nginx/tmp/proxy;
		fastcgi_temp_path $PWD/nginx/tmp/fastcgi;
		uwsgi_temp_path $PWD/nginx/tmp/uwsgi;
		scgi_temp_path $PWD/nginx/tmp/scgi;
		include $PWD/nginx/remotedapid.conf;
	}
	CONF
	# one process: cleanup's SIGKILL leaves no worker behind
	rd_start nginx /usr/sbin/nginx -p "$PWD/nginx" \
	    -c "$PWD/nginx/nginx.conf" -e "$PWD/nginx/logs/error.log" \
	    -g "daemon off; master_process off; pid $PWD/nginx/nginx.pid; error_log $PWD/nginx/logs/error.log info;"
	rd_wait 10 dp_listening "$NT_PORT" ||
	    atf_fail "nginx did not start: $(rd_flat nginx.log nginx/logs/error.log)"
}

atf_test_case tunnels_through_nginx cleanup
tunnels_through_nginx_head()
{
	atf_set descr "rapi expose over rwss:// and rapi connect -L over" \
	    "rwrs:// through the example's nginx: 16 MiB each way, intact," \
	    "both legs passed as upgrades (101)"
	atf_set timeout 120
}
tunnels_through_nginx_body()
{
	nt_setup
	rd_random up.bin 16777216
	rd_random down.bin 16777216
	# nginx ends a tunnel at the first EOF: nobody half-closes here
	dp_backend backend xfer down.bin 16777216
	dp_expose expose -C ca.pem -k server.secret \
	    "$(dp_url rwss "$NT_PORT" /nginx/)" "127.0.0.1:$DP_BACKEND"
	rd_wait_log rd.log "route /nginx/ registered"
	lport=$(rd_freeport)
	rd_start local "$(rd_bin rapi)" connect -v -C ca.pem -k client.secret \
	    -L "$lport" "$(dp_url rwrs "$NT_PORT" /nginx/)"
	rd_wait 10 dp_listening "$lport" ||
	    atf_fail "rapi connect -L does not listen: $(rd_flat local.log)"
	for i in 1 2; do
		timeout 60 /usr/bin/python3 peer.py tcp "$lport" up.bin \
		    "back$i.bin" 16777216 >"client$i.log" 2>&1 ||
		    atf_fail "client $i failed: $(rd_flat "client$i.log" local.log)"
		rd_same_sha256 down.bin "back$i.bin"
	done
	rd_wait 10 sh -c "[ \$(grep -c '^got' backend.log) -ge 2 ]"
	[ "$(grep -c "^got 16777216 $(rd_sha256 up.bin)$" backend.log)" \
	    -eq 2 ] ||
	    atf_fail "the backend did not get 16 MiB intact twice: $(rd_flat backend.log)"
	rd_wait 10 sh -c "[ \$(grep -c 'tunnel /nginx/: client' rd.log) -ge 2 ]" ||
	    atf_fail "the relay logged no 2 tunnels: $(tail -20 rd.log)"
	# the agent's WebSocket, and each tunnel's client and dial-back
	[ "$(grep -c '"GET /nginx/ HTTP/1.1" 101' nginx/logs/access.log)" \
	    -ge 4 ] ||
	    atf_fail "expected the tunnels' two legs through nginx (101): $(rd_flat nginx/logs/access.log)"
	rd_post
	rd_daemon_stop
}
tunnels_through_nginx_cleanup()
{
	rd_stop_all
}

atf_test_case client_address_from_x_forwarded_for cleanup
client_address_from_x_forwarded_for_head()
{
	atf_set descr "Behind the example's nginx with trusted proxy" \
	    "127.0.0.1, the agent's notification and the relay's tunnel line" \
	    "carry the real client address (from 127.0.0.9, and from ::1)" \
	    "with port 0, not nginx's, nor an X-Forwarded-For the client forged"
	atf_set timeout 90
}
client_address_from_x_forwarded_for_body()
{
	nt_setup
	dp_backend backend echo
	dp_expose expose -C ca.pem -k server.secret \
	    "$(dp_url rwss "$NT_PORT" /xff/)" "127.0.0.1:$DP_BACKEND"
	dp_py wrtls "$NT_PORT" /xff/ client.secret ca.pem 127.0.0.9 \
	    198.51.100.7 >wr4.log 2>&1 ||
	    atf_fail "the WebRoute client failed: $(rd_flat wr4.log)"
	grep -q "^status 101" wr4.log && grep -q "^echo ok" wr4.log ||
	    atf_fail "expected a tunnel through nginx: $(rd_flat wr4.log)"
	rd_wait_log expose.log "tunnel [0-9]*: client 127.0.0.9:0$"
	rd_wait_log rd.log "tunnel /xff/: client 127.0.0.9:0, server "
	grep -q "198.51.100.7" rd.log expose.log &&
	    atf_fail "a forged X-Forwarded-For entry was believed"
	if [ -n "$NT_V6" ]; then
		# nginx hands the client's IPv6 address on: "[::1]:0"
		dp_py wrtls "$NT_PORT" /xff/ client.secret ca.pem ::1 \
		    >wr6.log 2>&1 ||
		    atf_fail "the WebRoute client over IPv6 failed: $(rd_flat wr6.log)"
		grep -q "^echo ok" wr6.log ||
		    atf_fail "expected a tunnel through nginx over IPv6: $(rd_flat wr6.log)"
		rd_wait_log rd.log "tunnel /xff/: client \[::1\]:0, server "
	fi
	rd_post
	rd_daemon_stop
}
client_address_from_x_forwarded_for_cleanup()
{
	rd_stop_all
}

atf_test_case half_close_ends_tunnel_behind_nginx cleanup
half_close_ends_tunnel_behind_nginx_head()
{
	atf_set descr "What the example says of nginx: a client's" \
	    "half-close ends the whole tunnel there (so an answer sent after" \
	    "it is lost), while the relay's own TLS listener passes it on"
	atf_set timeout 90
}
half_close_ends_tunnel_behind_nginx_body()
{
	nt_setup
	rd_random question.bin 65536
	rd_random answer.bin 65536
	dp_backend backend reply answer.bin
	dp_expose expose -C ca.pem -k server.secret \
	    "$(dp_url rwss "$NT_PORT" /half/)" "127.0.0.1:$DP_BACKEND"
	timeout 60 "$(rd_bin rapi)" connect -C ca.pem -k client.secret \
	    "$(dp_url rwrs "$NT_PORT" /half/)" <question.bin >got.bin \
	    2>client.log
	rc=$?
	[ $rc -ne 124 ] ||
	    atf_fail "the tunnel did not end after the half-close: $(rd_flat client.log)"
	[ "$(rd_sha256 got.bin)" != "$(rd_sha256 answer.bin)" ] ||
	    atf_fail "the answer arrived after a half-close through nginx: the example's warning is wrong"
	rd_post
	rd_daemon_stop
}
half_close_ends_tunnel_behind_nginx_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case tunnels_through_nginx
	atf_add_test_case client_address_from_x_forwarded_for
	atf_add_test_case half_close_ends_tunnel_behind_nginx
}

#! /usr/bin/env atf-sh
#
# haproxy_test.sh: three relays behind one HAProxy configured as
# etc/haproxy.cfg.example says (TLS at HAProxy, requests balanced on
# their path): each path's agent and all its tunnels land on one relay,
# and when that relay dies its agent moves and its tunnels follow.  The
# example is used as it is; only its addresses and ports (onto
# loopback), paths and certificate are rewritten.

. "$(atf_get_srcdir)/common.sh"

HX_PATHS="/p1/ /p2/ /p3/ /p4/ /p5/ /p6/"

# hx_setup: the keys and certificates, relays rd1 rd2 rd3 (each with its
# config rdN.conf, log rdN.log, port $HX_RDN) and HAProxy on $HX_PORT.
hx_setup()
{
	dp_cert relay
	echo "trusted proxy 127.0.0.1" >rd.conf.extra
	rd_setup
	for i in 1 2 3; do
		_port=$(rd_freeport)
		eval "HX_RD$i=$_port"
		sed -e "s|^listen on 127.0.0.1 port $RD_PORT\$|listen on 127.0.0.1 port $_port|" \
		    -e "s|$PWD/rd.sock|$PWD/rd$i.sock|" rd.conf >"rd$i.conf"
		rd_start "rd$i" "$(rd_sbin remotedapid)" -d -v -f "rd$i.conf"
	done
	for i in 1 2 3; do
		rd_wait 10 grep -q "listening on" "rd$i.log" &&
		    rd_wait 10 sh -c "[ \$(grep -c 'relay [0-9]* ready' rd$i.log) -ge 2 ]" ||
		    atf_fail "relay rd$i did not start: $(rd_flat "rd$i.log")"
	done
	HX_PORT=$(rd_freeport)
	mkdir -p haproxy/chroot
	cat relay.pem relay.key >haproxy/relay.pem
	sed -e "s|bind :443 ssl crt /etc/haproxy/relay.example.com.pem|bind 127.0.0.1:$HX_PORT ssl crt $PWD/haproxy/relay.pem|" \
	    -e "s|chroot /var/lib/haproxy|chroot $PWD/haproxy/chroot|" \
	    -e "s|stats socket /run/haproxy/admin.sock|stats socket $PWD/haproxy/admin.sock|" \
	    -e "s|192.0.2.11:37791|127.0.0.1:$HX_RD1|" \
	    -e "s|192.0.2.12:37791|127.0.0.1:$HX_RD2|" \
	    -e "s|192.0.2.13:37791|127.0.0.1:$HX_RD3|" \
	    "$(dp_example haproxy.cfg.example)" >haproxy/haproxy.cfg
	grep -q "bind 127.0.0.1:$HX_PORT ssl" haproxy/haproxy.cfg &&
	    [ "$(grep -c "server relay[123] 127.0.0.1:" haproxy/haproxy.cfg)" \
	    -eq 3 ] ||
	    atf_fail "the example changed: cannot rewrite its bind or server lines"
	/usr/sbin/haproxy -c -f haproxy/haproxy.cfg >haproxy-check.log 2>&1 ||
	    atf_fail "haproxy -c: $(rd_flat haproxy-check.log)"
	# -db: in the foreground, whatever the example's "daemon" says
	rd_start haproxy /usr/sbin/haproxy -db -f haproxy/haproxy.cfg
	rd_wait 10 dp_listening "$HX_PORT" ||
	    atf_fail "haproxy did not start: $(rd_flat haproxy.log)"
	dp_backend backend echo
}

# hx_name PATH: a name for files of PATH ("/p1/" -> "p1").
hx_name()
{
	echo "$1" | tr -d /
}

# hx_expose PATH: rapi expose over rwss:// through HAProxy, registered.
hx_expose()
{
	dp_expose "x$(hx_name "$1")" -C ca.pem -k server.secret \
	    "$(dp_url rwss "$HX_PORT" "$1")" "127.0.0.1:$DP_BACKEND"
}

# hx_owner PATH: the relays (1 2 3) whose log says PATH was registered
# there, once per registration.
hx_owner()
{
	for _i in 1 2 3; do
		_n=$(grep -c "route $1 registered" "rd$_i.log")
		while [ "$_n" -gt 0 ]; do
			printf '%s ' "$_i"
			_n=$((_n - 1))
		done
	done
}

# hx_tunnels PATH RELAY COUNT: COUNT tunnels through HAProxy to PATH
# (rapi connect -L), 1 MiB each echoed intact; the relay's log must
# show them all there.  Nobody half-closes: HAProxy's HTTP mode ends an
# upgraded connection at the first end of input.
hx_tunnels()
{
	_n=$(hx_name "$1")
	_before=$(grep -c "tunnel $1: client" "rd$2.log")
	_lport=$(rd_freeport)
	rd_start "l$_n" "$(rd_bin rapi)" connect -v -C ca.pem \
	    -k client.secret -L "$_lport" "$(dp_url rwrs "$HX_PORT" "$1")"
	rd_wait 10 dp_listening "$_lport" ||
	    atf_fail "rapi connect -L does not listen: $(rd_flat "l$_n.log")"
	_i=0
	while [ $_i -lt "$3" ]; do
		_i=$((_i + 1))
		timeout 60 /usr/bin/python3 peer.py tcp "$_lport" up.bin \
		    "back$_n.$_i" 1048576 >"c$_n.$_i.log" 2>&1 ||
		    atf_fail "tunnel $_i to $1 failed: $(rd_flat "c$_n.$_i.log" "l$_n.log")"
		rd_same_sha256 up.bin "back$_n.$_i"
	done
	rd_stop "l$_n"
	rd_wait 10 sh -c "[ \$(grep -c 'tunnel $1: client' rd$2.log) -ge $((_before + $3)) ]" ||
	    atf_fail "$3 tunnels of $1 went through HAProxy but relay $2, where its agent is, logged $(($(grep -c "tunnel $1: client" "rd$2.log") - _before))"
}

# hx_state N: HAProxy's word for relay N (UP, DOWN, ...), from its
# stats socket.
hx_state()
{
	/usr/bin/python3 - "$PWD/haproxy/admin.sock" "relay$1" <<-'PY'
	import socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.connect(sys.argv[1])
	s.sendall(b"show stat\n")
	out = b""
	while True:
	    d = s.recv(65536)
	    if not d:
	        break
	    out += d
	for line in out.decode().splitlines():
	    f = line.split(",")
	    if len(f) > 17 and f[0] == "relays" and f[1] == sys.argv[2]:
	        print(f[17])
	PY
}

hx_is_up()
{
	[ "$(hx_state "$1")" = UP ]
}

# hx_register_all: an agent per path; each registered on exactly one
# relay, and the paths spread over more than one relay.  The relay of
# PATH in $HX_AT_pN.
hx_register_all()
{
	for p in $HX_PATHS; do
		hx_expose "$p"
		rd_wait 10 sh -c "grep -q 'route $p registered' rd1.log rd2.log rd3.log"
		owner=$(hx_owner "$p")
		[ "$(echo $owner | wc -w)" -eq 1 ] ||
		    atf_fail "$p registered on relays '$owner', expected exactly one"
		eval "HX_AT_$(hx_name "$p")=$owner"
	done
	used=$(for p in $HX_PATHS; do eval "echo \$HX_AT_$(hx_name "$p")"; done |
	    sort -u | wc -l)
	[ "$used" -ge 2 ] ||
	    atf_fail "all ${HX_PATHS} went to one relay: HAProxy does not spread paths"
}

hx_at()
{
	eval "echo \$HX_AT_$(hx_name "$1")"
}

atf_test_case paths_land_consistently cleanup
paths_land_consistently_head()
{
	atf_set descr "Six paths' agents and two tunnels each through HAProxy" \
	    "and three relays: each path's agent, clients and dial-backs" \
	    "reach one relay; the paths spread; every tunnel intact"
	atf_set require.user root
	atf_set timeout 180
}
paths_land_consistently_body()
{
	hx_setup
	rd_random up.bin 1048576
	hx_register_all
	for p in $HX_PATHS; do
		hx_tunnels "$p" "$(hx_at "$p")" 2
	done
	for i in 1 2 3; do
		grep -q "missing_destination" "rd$i.log" &&
		    atf_fail "relay $i answered 502: a request missed its path's relay"
		rd_alive "rd$i" || atf_fail "relay rd$i died: $(tail -5 "rd$i.log")"
	done
	return 0
}
paths_land_consistently_cleanup()
{
	rd_stop_all
}

# hx_gone PID ...: none of these processes is left.
hx_gone()
{
	for _p in "$@"; do
		kill -0 "$_p" 2>/dev/null && return 1
	done
	return 0
}

# hx_kill N: SIGKILL relay N's parent and children, by PID.
hx_kill()
{
	_parent=$(rd_pid "rd$1")
	_kids=$(pgrep -P "$_parent")
	[ -n "$_kids" ] || atf_fail "relay rd$1 has no children to kill"
	kill -KILL "$_parent" $_kids
	rd_wait 10 hx_gone "$_parent" $_kids ||
	    atf_fail "relay rd$1 (pid $_parent, children $_kids) did not die"
	wait "$_parent" 2>/dev/null
	rm -f "rd$1.pid"
}

atf_test_case agent_moves_when_its_relay_dies cleanup
agent_moves_when_its_relay_dies_head()
{
	atf_set descr "SIGKILL the relay of /p1/ (parent and children):" \
	    "its agents reconnect through HAProxy onto another relay, new" \
	    "tunnels to their paths work there; paths on other relays keep" \
	    "their agents and relays"
	atf_set require.user root
	atf_set timeout 240
}
agent_moves_when_its_relay_dies_body()
{
	hx_setup
	rd_random up.bin 1048576
	hx_register_all
	victim=$(hx_at /p1/)
	hx_kill "$victim"
	for p in $HX_PATHS; do
		x=x$(hx_name "$p")
		if [ "$(hx_at "$p")" = "$victim" ]; then
			rd_wait 60 sh -c "[ \$(grep -c 'rapi: registered' $x.log) -ge 2 ]" ||
			    atf_fail "the agent of $p did not register again within 60 s: $(rd_flat "$x.log")"
			owner=$(hx_owner "$p" | tr ' ' '\n' | grep -v "^$victim\$" |
			    tr '\n' ' ')
			[ "$(echo $owner | wc -w)" -eq 1 ] ||
			    atf_fail "$p registered again on relays '$owner', expected exactly one"
			eval "HX_AT_$(hx_name "$p")=$owner"
		else
			[ "$(grep -c 'rapi: registered' "$x.log")" -eq 1 ] ||
			    atf_fail "the agent of $p, on a live relay, registered again: $(rd_flat "$x.log")"
		fi
	done
	for p in $HX_PATHS; do
		hx_tunnels "$p" "$(hx_at "$p")" 2
	done
	for i in 1 2 3; do
		[ "$i" = "$victim" ] && continue
		rd_alive "rd$i" || atf_fail "relay rd$i died: $(tail -5 "rd$i.log")"
	done
	return 0
}
agent_moves_when_its_relay_dies_cleanup()
{
	rd_stop_all
}

atf_test_case paths_stay_when_dead_relay_returns cleanup
paths_stay_when_dead_relay_returns_head()
{
	atf_set descr "The dead relay of /p1/ is started again and HAProxy" \
	    "sees it up: the paths that moved keep reaching the relay where" \
	    "their agents now are (tunnels work), none lands on it empty"
	atf_set require.user root
	atf_set timeout 240
}
paths_stay_when_dead_relay_returns_body()
{
	hx_setup
	rd_random up.bin 1048576
	hx_register_all
	victim=$(hx_at /p1/)
	hx_kill "$victim"
	x=xp1
	rd_wait 60 sh -c "[ \$(grep -c 'rapi: registered' $x.log) -ge 2 ]" ||
	    atf_fail "the agent of /p1/ did not register again: $(rd_flat "$x.log")"
	mv "rd$victim.log" "rd$victim.old.log"
	rd_start "rd$victim" "$(rd_sbin remotedapid)" -d -v -f "rd$victim.conf"
	rd_wait 10 grep -q "listening on" "rd$victim.log" ||
	    atf_fail "relay rd$victim did not start again: $(rd_flat "rd$victim.log")"
	# HAProxy's checks (rise 2, inter 2s) see it up within 10 s
	rd_wait 15 hx_is_up "$victim" ||
	    atf_fail "HAProxy did not see relay$victim up again: $(hx_state "$victim")"
	for p in $HX_PATHS; do
		owner=$(hx_owner "$p" | tr ' ' '\n' | tail -1)
		[ -n "$owner" ] || owner=$(hx_at "$p")
		hx_tunnels "$p" "$owner" 1
	done
	grep -q "missing_destination" "rd$victim.log" &&
	    atf_fail "the returned relay answered 502: a moved path was sent to it"
	return 0
}
paths_stay_when_dead_relay_returns_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case paths_land_consistently
	atf_add_test_case agent_moves_when_its_relay_dies
	atf_add_test_case paths_stay_when_dead_relay_returns
}

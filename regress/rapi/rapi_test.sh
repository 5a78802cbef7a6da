#! /usr/bin/env atf-sh
#
# rapi_test.sh: rapi(1) with real processes: the daemon, rapi expose in
# front of a real server, rapi connect on stdin and stdout (as an ssh
# ProxyCommand) or on a local port, through one relay or a chain.

. "$(atf_get_srcdir)/common.sh"

# rt_surl / rt_curl [PATH]: the relay's URLs (keys go with -k).
rt_surl()
{
	rt_url rws "127.0.0.1:$RD_PORT" "${1:-/test/path/}"
}

rt_curl()
{
	rt_url rwr "127.0.0.1:$RD_PORT" "${1:-/test/path/}"
}

atf_test_case stdio_64mib_both_ways cleanup
stdio_64mib_both_ways_head()
{
	atf_set descr "rapi connect on stdin/stdout: 64 MiB each way at once" \
	    "to a real server exposed by rapi expose, sha256 equal, exit 0"
	atf_set timeout 120
}
stdio_64mib_both_ways_body()
{
	rd_setup
	rd_daemon_start
	rd_random up.bin 67108864
	rd_random down.bin 67108864
	rt_backend backend xfer down.bin
	rt_expose expose -k server.secret "$(rt_surl)" "127.0.0.1:$RT_PORT"
	timeout 60 "$(rd_bin rapi)" connect -v -k client.secret "$(rt_curl)" \
	    <up.bin >back.bin 2>connect.log ||
	    atf_fail "rapi connect exited $?: $(rd_flat connect.log)"
	rd_same_sha256 down.bin back.bin
	rd_wait 10 grep -q "^got" backend.log
	rt_got_line backend.log up.bin
	grep -q "tunnel /test/path/: .* 67108864 bytes up, 67108864 down, .*closed" \
	    rd.log || atf_fail "no closed tunnel line with 67108864 bytes each way"
	rd_wait_log expose.log "tunnel 0: closed, .* 67108864 bytes in, 67108864 out"
	rd_alive expose || atf_fail "rapi expose died: $(rd_flat expose.log)"
	rd_post
	rd_daemon_stop
}
stdio_64mib_both_ways_cleanup()
{
	rd_stop_all
}

atf_test_case local_port_64mib_both_ways cleanup
local_port_64mib_both_ways_head()
{
	atf_set descr "rapi connect -L: two connections to the local port at" \
	    "once, each its own tunnel with 64 MiB each way, sha256 equal"
	atf_set timeout 120
}
local_port_64mib_both_ways_body()
{
	rd_setup
	rd_daemon_start
	rd_random up.bin 67108864
	rd_random down.bin 67108864
	rt_backend backend xfer down.bin
	rt_expose expose -k server.secret "$(rt_surl)" "127.0.0.1:$RT_PORT"
	lport=$(rd_freeport)
	rd_start local "$(rd_bin rapi)" connect -v -k client.secret \
	    -L "127.0.0.1:$lport" "$(rt_curl)"
	rd_wait 10 grep -q "listening on" local.log ||
	    atf_fail "rapi connect -L does not listen: $(rd_flat local.log)"
	for i in 1 2; do
		rd_start "client.$i" /usr/bin/python3 peer.py tcp "$lport" \
		    up.bin "back.$i"
	done
	for i in 1 2; do
		rd_wait_exit "client.$i" 60 ||
		    atf_fail "client $i failed: $(rd_flat "client.$i.log")"
		rd_same_sha256 down.bin "back.$i"
	done
	rd_wait 10 sh -c "[ \$(grep -c '^got' backend.log) -eq 2 ]" ||
	    atf_fail "the backend did not finish twice: $(rd_flat backend.log)"
	[ "$(grep -c "^got 67108864 $(rd_sha256 up.bin)$" backend.log)" -eq 2 ] ||
	    atf_fail "the backend expected 67108864 bytes twice, saw: $(grep '^got' backend.log | rd_flat)"
	[ "$(grep -c 'tunnel /test/path/: .* 67108864 bytes up, 67108864 down, .*closed' rd.log)" -eq 2 ] ||
	    atf_fail "expected two tunnels of 67108864 bytes each way in the log"
	rd_alive local || atf_fail "rapi connect -L died: $(rd_flat local.log)"
	rd_post
	rd_daemon_stop
}
local_port_64mib_both_ways_cleanup()
{
	rd_stop_all
}

atf_test_case ssh_proxycommand cleanup
ssh_proxycommand_head()
{
	atf_set descr "ssh with ProxyCommand 'rapi connect' (key in RAPI_KEY)" \
	    "reaches a real sshd exposed by rapi expose: runs a command," \
	    "and 4 MiB of its standard input arrive whole"
	atf_set timeout 90
}
ssh_proxycommand_body()
{
	[ "$(id -u)" -eq 0 ] || atf_skip "sshd with root login needs root"
	[ -x /usr/sbin/sshd ] || atf_skip "no /usr/sbin/sshd (openssh-server)"
	[ -d /run/sshd ] || mkdir -p -m 755 /run/sshd ||
	    atf_fail "cannot create /run/sshd, which sshd needs"
	mkdir ssh
	ssh-keygen -q -t ed25519 -N '' -f ssh/host_key ||
	    atf_fail "ssh-keygen of the host key failed"
	ssh-keygen -q -t ed25519 -N '' -f ssh/user_key ||
	    atf_fail "ssh-keygen of the user key failed"
	cp ssh/user_key.pub ssh/authorized_keys
	sshport=$(rd_freeport)
	cat >ssh/sshd_config <<-CONF
	ListenAddress 127.0.0.1
	HostKey $PWD/ssh/host_key
	PidFile $PWD/ssh/sshd.pid
	UsePAM no
	AuthorizedKeysFile $PWD/ssh/authorized_keys
	PermitRootLogin prohibit-password
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	StrictModes no
	PrintMotd no
	LogLevel VERBOSE
	CONF
	rd_start sshd /usr/sbin/sshd -D -e -f "$PWD/ssh/sshd_config" \
	    -p "$sshport"
	rd_wait 10 grep -q "Server listening" sshd.log ||
	    atf_fail "sshd did not start: $(rd_flat sshd.log)"
	rd_setup
	rd_daemon_start
	rt_expose expose -k server.secret "$(rt_surl /ssh/)" \
	    "127.0.0.1:$sshport"
	rd_random in.bin 4194304
	RAPI_KEY=$(cat client.secret) timeout 60 ssh -F /dev/null \
	    -o BatchMode=yes -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    -i ssh/user_key \
	    -o ProxyCommand="$(rd_bin rapi) connect $(rt_curl /ssh/)" \
	    root@behind-the-relay 'echo ok; sha256sum' <in.bin >out 2>ssh.err ||
	    atf_fail "ssh exited $?: $(rd_flat ssh.err sshd.log)"
	printf 'ok\n%s  -\n' "$(rd_sha256 in.bin)" >want
	cmp -s want out ||
	    atf_fail "expected 'ok' and the sha256 of the input, saw: $(rd_flat out ssh.err)"
	grep -q "Accepted publickey for root from 127.0.0.1" sshd.log ||
	    atf_fail "sshd did not log the login: $(rd_flat sshd.log)"
	grep -q "tunnel /ssh/: client 127.0.0.1:[0-9]* linked" rd.log ||
	    atf_fail "no tunnel on /ssh/ in the relay's log"
	rd_post
	rd_daemon_stop
}
ssh_proxycommand_cleanup()
{
	rd_stop_all
}

# rt_proxy_case VERSION: rapi expose -p VERSION in front of a server that
# reads the header; it must carry the client's address as the relay saw
# it, and the target's.
rt_proxy_case()
{
	rd_setup
	rd_daemon_start
	rt_backend backend proxy
	rt_expose expose -p "$1" -k server.secret "$(rt_surl)" \
	    "127.0.0.1:$RT_PORT"
	echo "hello through a PROXY header" >in
	timeout 20 "$(rd_bin rapi)" connect -k client.secret "$(rt_curl)" \
	    <in >out 2>connect.log ||
	    atf_fail "rapi connect exited $?: $(rd_flat connect.log)"
	cmp -s in out || atf_fail "expected the echo, saw: $(rd_flat out)"
	# the relay's log lines come through its parent, a little later
	rd_wait 5 grep -q "tunnel /test/path/: client .* linked" rd.log ||
	    atf_fail "no linked tunnel in the relay's log"
	client=$(sed -n 's,.*tunnel /test/path/: client \([0-9.]*:[0-9]*\) linked.*,\1,p' \
	    rd.log)
	grep -q "tunnel 0: client $client$" expose.log ||
	    atf_fail "rapi expose was not told client $client: $(rd_flat expose.log)"
	case $1 in
	1)	want="proxy v1 TCP4 ${client%:*} 127.0.0.1 ${client##*:} $RT_PORT" ;;
	2)	want="proxy v2 PROXY TCP4 ${client%:*} ${client##*:} 127.0.0.1 $RT_PORT" ;;
	esac
	seen=$(grep "^proxy" backend.log)
	[ "$seen" = "$want" ] ||
	    atf_fail "expected the header '$want', the backend saw '$seen'"
	rd_post
	rd_daemon_stop
}

atf_test_case proxy_v1_client_address cleanup
proxy_v1_client_address_head()
{
	atf_set descr "rapi expose -p 1: the backend reads a PROXY v1 header" \
	    "with the real client's address and port, then the client's bytes"
	atf_set timeout 60
}
proxy_v1_client_address_body()
{
	rt_proxy_case 1
}
proxy_v1_client_address_cleanup()
{
	rd_stop_all
}

atf_test_case proxy_v2_client_address cleanup
proxy_v2_client_address_head()
{
	atf_set descr "rapi expose -p 2: the backend reads a PROXY v2 header" \
	    "with the real client's address and port, then the client's bytes"
	atf_set timeout 60
}
proxy_v2_client_address_body()
{
	rt_proxy_case 2
}
proxy_v2_client_address_cleanup()
{
	rd_stop_all
}

atf_test_case chain_through_two_relays cleanup
chain_through_two_relays_head()
{
	atf_set descr "A chain 'rwr://edge rwr://inner': the second hop opened" \
	    "through the first tunnel (relay 2 exposed through relay 1)," \
	    "16 MiB each way intact"
	atf_set timeout 90
}
chain_through_two_relays_body()
{
	rd_setup
	rd_daemon_start
	mkdir inner
	(cd inner && rd_setup && rd_daemon_start) ||
	    atf_fail "the inner relay did not start: $(rd_flat inner/rd.log)"
	port2=$(sed -n 's/^listen on 127.0.0.1 port //p' inner/rd.conf)
	rd_random up.bin 16777216
	rd_random down.bin 16777216
	rt_backend backend xfer down.bin
	rt_expose expose.inner -k inner/server.secret \
	    "rws://127.0.0.1:$port2/inner/" "127.0.0.1:$RT_PORT"
	rt_expose expose.edge -k server.secret "$(rt_surl /edge/)" \
	    "127.0.0.1:$port2"
	chain="$(rt_curl /edge/) rwr://$(cat inner/client.secret)@127.0.0.1:$port2/inner/"
	timeout 60 "$(rd_bin rapi)" connect -k client.secret "$chain" \
	    <up.bin >back.bin 2>connect.log ||
	    atf_fail "rapi connect exited $?: $(rd_flat connect.log)"
	rd_same_sha256 down.bin back.bin
	rd_wait 10 grep -q "^got" backend.log
	rt_got_line backend.log up.bin
	grep -q "tunnel /edge/: client 127.0.0.1:[0-9]*, server .*closed" rd.log ||
	    atf_fail "no tunnel on /edge/ in the first relay's log"
	grep -q "tunnel /inner/: .* 16777216 bytes up, 16777216 down, .*closed" \
	    inner/rd.log ||
	    atf_fail "no tunnel of 16777216 bytes each way on /inner/ in the second relay's log"
	rd_post
	(cd inner && rd_post) || atf_fail "the inner relay: $(rd_flat inner/rd.log)"
	rd_daemon_stop
}
chain_through_two_relays_cleanup()
{
	rd_stop_all
	[ -d inner ] && (cd inner && rd_stop_all)
	return 0
}

atf_test_case expose_survives_relay_restart cleanup
expose_survives_relay_restart_head()
{
	atf_set descr "The relay is killed and started again: the same rapi" \
	    "expose registers again within its announced back-off, and a new" \
	    "tunnel works"
	atf_set timeout 90
}
expose_survives_relay_restart_body()
{
	rd_setup
	rd_daemon_start
	rd_random up.bin 1048576
	rd_random down.bin 1048576
	rt_backend backend xfer down.bin
	rt_expose expose -k server.secret "$(rt_surl)" "127.0.0.1:$RT_PORT"
	pid=$(rd_pid expose)
	timeout 20 "$(rd_bin rapi)" connect -k client.secret "$(rt_curl)" \
	    <up.bin >back.0 2>connect.log ||
	    atf_fail "first tunnel: rapi connect exited $?: $(rd_flat connect.log)"
	rd_same_sha256 down.bin back.0
	rd_stop rd KILL
	rd_wait_log expose.log "retrying in" 10
	sleep 2			# down for a while: the back-off grows
	rd_daemon_start
	up=$(date +%s.%N)
	rd_wait 30 sh -c "[ \$(grep -c registered expose.log) -ge 2 ]" ||
	    atf_fail "rapi expose did not register again within 30 s: $(rd_flat expose.log)"
	back=$(date +%s.%N)
	[ "$(rd_pid expose)" = "$pid" ] && rd_alive expose ||
	    atf_fail "rapi expose is not the same process any more"
	# the last retry announced before it came back bounds the wait
	delay=$(sed -n 's/.*retrying in \([0-9.]*\) s$/\1/p' expose.log | tail -1)
	[ -n "$delay" ] || atf_fail "no back-off announced: $(rd_flat expose.log)"
	awk -v a="$up" -v b="$back" -v d="$delay" \
	    'BEGIN { exit !(b - a <= d + 1.5) }' ||
	    atf_fail "registered $(awk -v a="$up" -v b="$back" 'BEGIN { print b - a }') s after the relay came back; the back-off announced was $delay s"
	timeout 20 "$(rd_bin rapi)" connect -k client.secret "$(rt_curl)" \
	    <up.bin >back.1 2>connect.log ||
	    atf_fail "after the restart: rapi connect exited $?: $(rd_flat connect.log)"
	rd_same_sha256 down.bin back.1
	rd_post
	rd_daemon_stop
}
expose_survives_relay_restart_cleanup()
{
	rd_stop_all
}

# rt_one_line_error PATTERN CMD ...: CMD exits non-zero within 10 s with
# nothing on standard output and one line matching PATTERN on standard
# error.
rt_one_line_error()
{
	_pat=$1
	shift
	timeout 10 "$@" </dev/null >err.out 2>err.log
	_rc=$?
	[ $_rc -ne 0 ] || atf_fail "$* exited 0; expected a failure"
	[ $_rc -ne 124 ] || atf_fail "$* did not end within 10 s"
	[ ! -s err.out ] || atf_fail "$* wrote to stdout: $(rd_flat err.out)"
	[ "$(wc -l <err.log)" -eq 1 ] ||
	    atf_fail "expected one line on stderr, saw: $(rd_flat err.log)"
	grep -q -- "$_pat" err.log ||
	    atf_fail "expected a line matching '$_pat', saw: $(rd_flat err.log)"
}

atf_test_case bad_key_one_line_error cleanup
bad_key_one_line_error_head()
{
	atf_set descr "rapi connect with a wrong key (-k file, RAPI_KEY): the" \
	    "relay's 403 in one line, exit non-zero"
	atf_set timeout 60
}
bad_key_one_line_error_body()
{
	rd_setup
	rd_daemon_start
	rt_backend backend echo
	rt_expose expose -k server.secret "$(rt_surl)" "127.0.0.1:$RT_PORT"
	rd_keygen wrong
	want="^rapi: 127.0.0.1 answered 403 Forbidden: Invalid or missing 'X-Remoted-APIKey' header.$"
	rt_one_line_error "$want" "$(rd_bin rapi)" connect -k wrong.secret \
	    "$(rt_curl)"
	export RAPI_KEY="$(cat wrong.secret)"
	rt_one_line_error "$want" "$(rd_bin rapi)" connect "$(rt_curl)"
	rd_post
	rd_daemon_stop
}
bad_key_one_line_error_cleanup()
{
	rd_stop_all
}

atf_test_case unknown_path_one_line_error cleanup
unknown_path_one_line_error_head()
{
	atf_set descr "rapi connect to a path no server registered: the" \
	    "relay's 502 in one line, exit non-zero"
	atf_set timeout 60
}
unknown_path_one_line_error_body()
{
	rd_setup
	rd_daemon_start
	rt_backend backend echo
	rt_expose expose -k server.secret "$(rt_surl)" "127.0.0.1:$RT_PORT"
	rt_one_line_error \
	    "^rapi: 127.0.0.1 answered 502 Bad Gateway: Requested destination does not exist at this time.$" \
	    "$(rd_bin rapi)" connect -k client.secret "$(rt_curl /no/such/path/)"
	rd_post
	rd_daemon_stop
}
unknown_path_one_line_error_cleanup()
{
	rd_stop_all
}

atf_test_case unreachable_relay_one_line_error cleanup
unreachable_relay_one_line_error_head()
{
	atf_set descr "rapi connect to a port where no relay listens: one" \
	    "line naming host, port and reason, exit non-zero"
	atf_set timeout 30
}
unreachable_relay_one_line_error_body()
{
	rd_keygen client
	port=$(rd_freeport)
	rt_one_line_error \
	    "^rapi: cannot connect to 127.0.0.1 port $port: Connection refused$" \
	    "$(rd_bin rapi)" connect -k client.secret \
	    "rwr://127.0.0.1:$port/test/path/"
}
unreachable_relay_one_line_error_cleanup()
{
	rd_stop_all
}

atf_test_case local_port_gives_up_in_10s cleanup
local_port_gives_up_in_10s_head()
{
	atf_set descr "rapi connect -L to a relay that never answers: the" \
	    "local connection is closed after 10 s with one line, and rapi" \
	    "goes on listening"
	atf_set timeout 60
}
local_port_gives_up_in_10s_body()
{
	rd_keygen client
	silent=$(rd_freeport)
	# a "relay" that takes the request and never answers
	rd_start silent /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print("ready", flush=True)
held = []
end = time.time() + 50
s.settimeout(1)
while time.time() < end:
    try:
        c, _ = s.accept()
        held.append(c)
    except socket.timeout:
        pass
' "$silent"
	rd_wait 10 grep -q "^ready" silent.log ||
	    atf_fail "the silent relay did not start: $(rd_flat silent.log)"
	lport=$(rd_freeport)
	rd_start local "$(rd_bin rapi)" connect -v -k client.secret \
	    -L "127.0.0.1:$lport" "rwr://127.0.0.1:$silent/test/path/"
	rd_wait 10 grep -q "listening on" local.log ||
	    atf_fail "rapi connect -L does not listen: $(rd_flat local.log)"
	# how long the local connection stays open, at most 20 s
	secs=$(/usr/bin/python3 -c '
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
c.settimeout(20)
try:
    while c.recv(100):
        pass
except socket.timeout:
    pass
print("%.1f" % (time.time() - t0))
' "$lport")
	awk -v s="$secs" 'BEGIN { exit !(s >= 9 && s <= 13) }' ||
	    atf_fail "the local connection ended after $secs s, not in 9 to 13 s"
	rd_wait 5 grep -q "^rapi: tunnel 0: no answer in 10 seconds$" \
	    local.log ||
	    atf_fail "no one-line reason: $(rd_flat local.log)"
	rd_alive local || atf_fail "rapi connect -L died: $(rd_flat local.log)"
}
local_port_gives_up_in_10s_cleanup()
{
	rd_stop_all
}

atf_test_case stdio_socket_half_close cleanup
stdio_socket_half_close_head()
{
	atf_set descr "Standard input and output one socket (inetd, socat):" \
	    "the server's end reaches the client as EOF while the client" \
	    "still sends, then the client's bytes and EOF reach the server"
	atf_set timeout 60
}
stdio_socket_half_close_body()
{
	rd_setup
	rd_daemon_start
	rd_random up.bin 1048576
	rd_random down.bin 1048576
	rt_backend backend xfer down.bin	# sends, half-closes, reads
	rt_expose expose -k server.secret "$(rt_surl)" "127.0.0.1:$RT_PORT"
	timeout 40 /usr/bin/python3 peer.py sockpair up.bin back.bin \
	    "$(rd_bin rapi)" connect -k client.secret "$(rt_curl)" \
	    >pair.log 2>&1 ||
	    atf_fail "the client failed: $(rd_flat pair.log)"
	rd_same_sha256 down.bin back.bin
	grep -q "^exit 0$" pair.log ||
	    atf_fail "rapi connect did not exit 0: $(rd_flat pair.log)"
	rd_wait 10 grep -q "^got" backend.log
	rt_got_line backend.log up.bin
	rd_post
	rd_daemon_stop
}
stdio_socket_half_close_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case stdio_64mib_both_ways
	atf_add_test_case local_port_64mib_both_ways
	atf_add_test_case ssh_proxycommand
	atf_add_test_case proxy_v1_client_address
	atf_add_test_case proxy_v2_client_address
	atf_add_test_case chain_through_two_relays
	atf_add_test_case expose_survives_relay_restart
	atf_add_test_case bad_key_one_line_error
	atf_add_test_case unknown_path_one_line_error
	atf_add_test_case unreachable_relay_one_line_error
	atf_add_test_case stdio_socket_half_close
	atf_add_test_case local_port_gives_up_in_10s
}

#! /usr/bin/env atf-sh
#
# config_test.sh: remotedapid.conf and the key file: what is accepted,
# what takes effect, and how each error is reported (file:line: message,
# exit status 1).

. "$(atf_get_srcdir)/../lib/lib.sh"

# --- helpers ---------------------------------------------------------

# ct_base: keys and an empty chroot directory (rd_setup's), and the
# statements every config of these tests starts with, in base.conf.
ct_base()
{
	rd_setup
	cat >base.conf <<-EOF
	user "nobody"
	chroot "$PWD/empty"
	keys "$PWD/keys"
	control socket "$PWD/rd.sock"
	EOF
}

# ct_check CONF: remotedapid -n on CONF; its status in $CT_RC, what it
# printed in ct.err.
ct_check()
{
	"$(rd_sbin remotedapid)" -n -f "$1" >ct.out 2>ct.err
	CT_RC=$?
	cat ct.out >>ct.err
}

# ct_refused WHAT CONF PATTERN: -n refuses CONF with status 1 and one
# line that matches PATTERN (grep -E).
ct_refused()
{
	ct_check "$2"
	[ "$CT_RC" = 1 ] ||
	    atf_fail "$1: expected exit status 1, saw $CT_RC ($(rd_flat ct.err))"
	grep -Eq -- "$3" ct.err ||
	    atf_fail "$1: expected a line matching '$3', saw: $(rd_flat ct.err)"
	if grep -q "configuration OK" ct.err; then
		atf_fail "$1: refused, yet 'configuration OK' was printed"
	fi
}

# ct_quote STRING: STRING for grep -E.
ct_quote()
{
	printf '%s\n' "$1" | sed 's/[][\.*^$()+?{}|/]/\\&/g'
}

# --- -n ------------------------------------------------------------------

atf_test_case check_prints_configuration_ok cleanup
check_prints_configuration_ok_head()
{
	atf_set descr "remotedapid -n checks the config, prints" \
	    "'configuration OK' and exits 0, without starting"
	atf_set timeout 30
}
check_prints_configuration_ok_body()
{
	rd_setup
	atf_check -s exit:0 -o empty -e inline:"configuration OK\n" \
	    "$(rd_sbin remotedapid)" -n -f rd.conf
	# it did not start: nothing listens on the port
	/usr/bin/python3 -c "
import socket, sys
try:
    socket.create_connection(('127.0.0.1', $RD_PORT), timeout=1)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)" || atf_fail "remotedapid -n left something listening on $RD_PORT"
}
check_prints_configuration_ok_cleanup()
{
	rd_stop_all
}

atf_test_case every_statement_accepted cleanup
every_statement_accepted_head()
{
	atf_set descr "Every statement of the grammar, in each of its forms," \
	    "with macros, comments, quotes and a continued line, is accepted"
	atf_set timeout 30
}
every_statement_accepted_body()
{
	ct_base
	port=$(rd_freeport)
	cat base.conf - >all.conf <<-EOF
	# a comment line, then an empty one

	relayport = "$port"	# a macro, and a comment after it
	proxies = 10.0.0.0/8
	   listen on 127.0.0.1 port \$relayport
	listen on ::1 port 37792
	listen on localhost
	listen on 127.0.0.1 \\
	    port 37793
	listen on '127.0.0.2' port 37794
	prefork 3
	user nobody
	user 'nobody'
	chroot "$PWD/empty"
	keys "$PWD/keys"
	timeout handshake 5
	timeout handshake 5s
	timeout idle 2m
	timeout max 1h
	timeout max 2d
	timeout shutdown 30s
	ping interval 30
	max connections 100
	max handshakes 50
	max handshakes per address 10
	max message 125
	max message 16777216
	trusted proxy 127.0.0.1
	trusted proxy 192.0.2.0/24
	trusted proxy \$proxies
	trusted proxy ::1
	trusted proxy 2001:db8::/32
	EOF
	# the last line without a newline
	printf 'ping interval 1m' >>all.conf
	ct_check all.conf
	[ "$CT_RC" = 0 ] && grep -qx "configuration OK" ct.err ||
	    atf_fail "expected 'configuration OK' and status 0, saw $CT_RC: $(rd_flat ct.err)"
}
every_statement_accepted_cleanup()
{
	rd_stop_all
}

atf_test_case statements_take_effect cleanup
statements_take_effect_head()
{
	atf_set descr "Macros, -D macro=value (which wins over the file)," \
	    "prefork, a duration with a unit: the daemon does what they say"
	atf_set timeout 30
}
statements_take_effect_body()
{
	ct_base
	fileport=$(rd_freeport)
	cmdport=$(rd_freeport)
	[ "$fileport" != "$cmdport" ] || cmdport=$(rd_freeport)
	cat base.conf - >rd.conf <<-EOF
	relayport = "$fileport"
	hs = "2s"
	listen on 127.0.0.1 port \$relayport
	prefork 3
	timeout handshake \$hs
	EOF
	rd_daemon_start -D "relayport=$cmdport"
	grep -q "listening on 127\.0\.0\.1:$cmdport$" rd.log ||
	    atf_fail "expected -D relayport=$cmdport to win, saw: $(grep listening rd.log | rd_flat)"
	if grep -q "listening on 127\.0\.0\.1:$fileport$" rd.log; then
		atf_fail "the file's macro (port $fileport) was used despite -D"
	fi
	n=$(rd_children | wc -l)
	[ "$n" = 3 ] || atf_fail "expected 3 relay children (prefork 3), saw $n"
	# 'timeout handshake 2s': a connection that sends nothing gets 408
	/usr/bin/python3 - "$cmdport" >hs.log <<-'PY'
	import socket, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	t0 = time.monotonic()
	s.settimeout(15)
	got = s.recv(100)
	print("%.2f" % (time.monotonic() - t0), got.split(b"\r\n")[0].decode())
	PY
	set -- $(cat hs.log)
	[ "$2 $3" = "HTTP/1.1 408" ] ||
	    atf_fail "expected 408 to a silent connection, saw: $(rd_flat hs.log)"
	awk -v t="$1" 'BEGIN { exit !(t >= 1 && t <= 3) }' ||
	    atf_fail "expected the 408 after 'timeout handshake 2s' (1 to 3 s), saw $1 s"
	rd_post
	rd_daemon_stop
}
statements_take_effect_cleanup()
{
	rd_stop_all
}

# --- errors ----------------------------------------------------------------

atf_test_case errors_name_file_and_line cleanup
errors_name_file_and_line_head()
{
	atf_set descr "Each kind of config error is reported as" \
	    "file:line: message, with the right line, and exit status 1"
	atf_set timeout 60
}
errors_name_file_and_line_body()
{
	ct_base
	# 8 lines before the bad one: comments, an empty line, a macro, a
	# continued line; the bad one is line 9, a good one follows it
	cat >prefix.conf <<-EOF
	# errors

	where = "127.0.0.1"
	listen on \$where \\
	    port $RD_PORT
	user "nobody"	# trailing comment
	chroot "$PWD/empty"
	keys "$PWD/keys"
	EOF
	long=$(printf 'u%.0s' $(seq 70))
	i=0
	while IFS='	' read -r want line; do
		i=$((i + 1))
		{ cat prefix.conf; printf '%s\nprefork 1\n' "$line"; } >"bad$i.conf"
		ct_refused "'$line'" "bad$i.conf" \
		    "/bad$i\.conf:9: (.* )?$(ct_quote "$want")"
	done <<-EOF
	syntax error	frobnicate 3
	syntax error	listen 127.0.0.1
	syntax error	port = "80"
	prefork must be 1 to 64	prefork 0
	prefork must be 1 to 64	prefork 65
	number 99999999999 is too large	prefork 99999999999
	port 70000 out of range	listen on 127.0.0.1 port 70000
	0 out of range	timeout idle 0
	bad duration: 5x	timeout handshake 5x
	bad duration: 400d	timeout max 400d
	0 out of range	ping interval 0
	chroot must be an absolute path	chroot "relative/empty"
	user name too long	user "$long"
	max connections out of range	max connections 0
	max handshakes out of range	max handshakes 0
	max handshakes per address out of range	max handshakes per address 0
	max message must be 125 to 16777216	max message 124
	max message must be 125 to 16777216	max message 16777217
	bad address: 10.0.0.0/33	trusted proxy 10.0.0.0/33
	bad address: nonsense	trusted proxy nonsense
	macro name may only hold letters, digits and _	bad-name = "x"
	macro 'nowhere' not defined	listen on \$nowhere
	unterminated quote	user "nobody
	EOF
	echo "$i error kinds checked"
	# every error of a file is reported, each with its line
	{ cat prefix.conf; printf 'prefork 0\nprefork 1\nmax message 1\n'; } \
	    >two.conf
	ct_refused "two errors" two.conf "two\.conf:9: prefork must be 1 to 64"
	grep -q "two\.conf:11: max message must be" ct.err ||
	    atf_fail "expected the second error at line 11 too, saw: $(rd_flat ct.err)"
	# an error of the file as a whole
	{ cat prefix.conf; printf 'timeout idle 100\ntimeout max 50\n'; } \
	    >idle.conf
	ct_refused "idle above max" idle.conf \
	    "idle\.conf: timeout idle \(100\) is above timeout max \(50\)"
	# a file that cannot be read
	ct_refused "a missing file" "$PWD/nowhere.conf" "nowhere\.conf: "
}
errors_name_file_and_line_cleanup()
{
	rd_stop_all
}

atf_test_case missing_user_or_chroot cleanup
missing_user_or_chroot_head()
{
	atf_set descr "As root, a user or a chroot directory that does not" \
	    "exist is one line and exit status 1"
	atf_set timeout 30
}
missing_user_or_chroot_body()
{
	[ "$(id -u)" = 0 ] || atf_skip "needs root"
	ct_base
	user=rdtest_nouser$$
	getent passwd "$user" >/dev/null && atf_skip "user $user exists"
	sed "s/^user .*/user \"$user\"/" base.conf >nouser.conf
	ct_refused "missing user" nouser.conf "user \"$user\" does not exist"
	[ "$(wc -l <ct.err)" = 1 ] ||
	    atf_fail "expected one line for a missing user, saw: $(rd_flat ct.err)"
	sed "s|^chroot .*|chroot \"$PWD/missing\"|" base.conf >nochroot.conf
	ct_refused "missing chroot" nochroot.conf \
	    "chroot directory $(ct_quote "$PWD/missing") does not exist"
	[ "$(wc -l <ct.err)" = 1 ] ||
	    atf_fail "expected one line for a missing chroot, saw: $(rd_flat ct.err)"
	# a file is not a directory
	touch notadir
	sed "s|^chroot .*|chroot \"$PWD/notadir\"|" base.conf >filechroot.conf
	ct_refused "a file as chroot" filechroot.conf "notadir"
}
missing_user_or_chroot_cleanup()
{
	rd_stop_all
}

# --- the key file ------------------------------------------------------------

atf_test_case key_file_errors_name_line cleanup
key_file_errors_name_line_head()
{
	atf_set descr "Each kind of malformed key file line is reported as" \
	    "file:line: message and the daemon refuses to start"
	atf_set timeout 60
}
key_file_errors_name_line_body()
{
	ct_base
	h=$(rd_hash server.secret)
	h2=$(rd_hash client.secret)
	upper=$(echo "$h" | tr a-f A-F)
	i=0
	while IFS='	' read -r want line; do
		i=$((i + 1))
		# the bad line is line 3, after a comment and a good line
		printf '# keys\nserver srv sha256:%s\n%s\n' "$h" "$line" \
		    >"keys$i"
		chmod 600 "keys$i"
		sed "s|^keys .*|keys \"$PWD/keys$i\"|" base.conf >"k$i.conf"
		ct_refused "key line '$line'" "k$i.conf" \
		    "/keys$i:3: $(ct_quote "$want")"
	done <<-EOF
	expected: ROLE NAME sha256:HEX	server lonely
	role must be server or client	admin adm sha256:$h2
	bad key name (letters, digits, _ . -)	client bad/name sha256:$h2
	hash must be sha256: and 64 lowercase hex digits	client cli sha256:abc
	hash must be sha256: and 64 lowercase hex digits	client cli sha256:$upper
	hash must be sha256: and 64 lowercase hex digits	client cli md5:$h2
	expires needs a time YYYY-MM-DDTHH:MM:SSZ	client cli sha256:$h2 expires tomorrow
	paths needs at least one pattern	client cli sha256:$h2 paths
	a path pattern starts with / and is short	client cli sha256:$h2 paths test/*
	unexpected word (expires before paths)	client cli sha256:$h2 always
	the same name with two roles	client srv sha256:$h2
	a second live line for the same name	server srv sha256:$h2
	EOF
	echo "$i key file error kinds checked"
	# the same errors stop a daemon that starts
	sed "s|^keys .*|keys \"$PWD/keys1\"|" base.conf >start.conf
	echo "listen on 127.0.0.1 port $RD_PORT" >>start.conf
	"$(rd_sbin remotedapid)" -d -f start.conf >start.log 2>&1 &
	pid=$!
	rd_wait 10 sh -c "! kill -0 $pid" ||
	    { kill -KILL $pid; atf_fail "the daemon started with a bad key file"; }
	wait $pid
	rc=$?
	[ "$rc" = 1 ] || atf_fail "expected exit status 1, saw $rc"
	grep -q "keys1:3: expected: ROLE NAME sha256:HEX" start.log ||
	    atf_fail "expected the key file error on start, saw: $(rd_flat start.log)"
}
key_file_errors_name_line_cleanup()
{
	rd_stop_all
}

atf_test_case key_file_owner_and_mode cleanup
key_file_owner_and_mode_head()
{
	atf_set descr "As root, a key file writable by group or others, or not" \
	    "owned by root, is refused"
	atf_set timeout 30
}
key_file_owner_and_mode_body()
{
	[ "$(id -u)" = 0 ] || atf_skip "needs root"
	ct_base
	want="must be owned by root and not writable by group or others"
	for mode in 620 602 660 666; do
		chmod "$mode" keys
		ct_refused "key file mode $mode" base.conf "keys: $want"
	done
	chmod 600 keys
	chown nobody keys
	ct_refused "key file owned by nobody" base.conf "keys: $want"
	chown root keys
	for mode in 600 400 644; do
		chmod "$mode" keys
		ct_check base.conf
		[ "$CT_RC" = 0 ] ||
		    atf_fail "key file mode $mode owned by root: expected it accepted, saw $CT_RC: $(rd_flat ct.err)"
	done
	# a symbolic link is not followed
	chmod 600 keys
	ln -s "$PWD/keys" keys.link
	sed "s|^keys .*|keys \"$PWD/keys.link\"|" base.conf >link.conf
	ct_refused "a key file behind a symbolic link" link.conf "keys\.link: "
}
key_file_owner_and_mode_cleanup()
{
	rd_stop_all
}

# --- defaults --------------------------------------------------------------

atf_test_case default_listen_loopback_37791 cleanup
default_listen_loopback_37791_head()
{
	atf_set descr "Without a listen statement the daemon listens on" \
	    "127.0.0.1 and ::1, port 37791 (skipped if that port is taken)"
	atf_set timeout 30
}
default_listen_loopback_37791_body()
{
	ct_base
	/usr/bin/python3 - <<-'PY' || atf_skip "port 37791 is in use or ::1 is missing"
	import socket
	for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
	    s = socket.socket(fam)
	    s.bind((addr, 37791))
	    s.close()
	PY
	cat base.conf - >rd.conf <<-EOF
	prefork 1
	timeout handshake 3
	EOF
	rd_daemon_start
	for l in "127.0.0.1:37791" "\[::1\]:37791"; do
		grep -q "listening on $l$" rd.log ||
		    atf_fail "expected 'listening on $l', saw: $(grep listening rd.log | rd_flat)"
	done
	n=$(grep -c "listening on" rd.log)
	[ "$n" = 2 ] || atf_fail "expected 2 listeners, saw $n"
	/usr/bin/python3 - >answers.log <<-'PY'
	import socket
	for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
	    s = socket.socket(fam)
	    s.settimeout(5)
	    s.connect((addr, 37791))
	    s.sendall(b"GET /test/path/ HTTP/1.1\r\nHost: x\r\n\r\n")
	    print(addr, s.recv(100).split(b"\r\n")[0].decode())
	PY
	for a in 127.0.0.1 ::1; do
		grep -q "^$a HTTP/1.1 403" answers.log ||
		    atf_fail "expected 403 from $a port 37791, saw: $(rd_flat answers.log)"
	done
	rd_post
	rd_daemon_stop
}
default_listen_loopback_37791_cleanup()
{
	rd_stop_all
}

atf_test_case original_config_dat_keys cleanup
original_config_dat_keys_head()
{
	atf_set descr "The keys of the original's config.dat, moved into a" \
	    "key file as README (d) says, open a tunnel that moves bytes"
	atf_set timeout 60
}
original_config_dat_keys_body()
{
	rd_setup
	# as the original's install.php writes it: JSON_PRETTY_PRINT,
	# keys of 64 letters and digits
	for k in server client; do
		head -c 4096 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9' |
		    head -c 64 >"$k.secret"
		[ "$(wc -c <"$k.secret")" -eq 64 ] ||
		    atf_fail "could not make a 64-letter key"
	done
	cat >config.dat <<-EOF
	{
	    "server_apikey": "$(cat server.secret)",
	    "client_apikey": "$(cat client.secret)",
	    "host": "127.0.0.1",
	    "port": $RD_PORT,
	    "serviceuser": "remoted-api-server",
	    "servicename": "remoted-api-server"
	}
	EOF
	# README (d), word for word but for the key file's path
	sk=$(sed -n 's/.*"server_apikey": *"\([^"]*\)".*/\1/p' config.dat)
	ck=$(sed -n 's/.*"client_apikey": *"\([^"]*\)".*/\1/p' config.dat)
	{
	  echo "server original-server sha256:$(printf %s "$sk" | sha256sum | cut -d' ' -f1)"
	  echo "client original-client sha256:$(printf %s "$ck" | sha256sum | cut -d' ' -f1)"
	} > keys
	chmod 600 keys
	[ "$(grep -c sha256: keys)" -eq 2 ] ||
	    atf_fail "the recipe made no key file: $(rd_flat keys)"
	RD_SURL="rws://$(cat server.secret)@127.0.0.1:$RD_PORT/test/path/"
	RD_CURL="rwr://$(cat client.secret)@127.0.0.1:$RD_PORT/test/path/"
	export RD_SURL RD_CURL
	rd_daemon_start
	rd_tunnel_both_ways 1048576
	rd_wait_log rd.log "registered by .* with key original-server" 5
	rd_post
	rd_daemon_stop
}
original_config_dat_keys_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case check_prints_configuration_ok
	atf_add_test_case every_statement_accepted
	atf_add_test_case statements_take_effect
	atf_add_test_case errors_name_file_and_line
	atf_add_test_case missing_user_or_chroot
	atf_add_test_case key_file_errors_name_line
	atf_add_test_case key_file_owner_and_mode
	atf_add_test_case default_listen_loopback_37791
	atf_add_test_case original_config_dat_keys
}

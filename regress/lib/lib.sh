#
# lib.sh: helpers shared by the end-to-end tests (atf-sh).
#
# Every test runs in its own temporary work directory (Kyua makes one),
# talks only to loopback, and stops only the processes it started, by
# the PIDs it recorded.  Every wait is bounded.

# Where the programs are: the Kyua variable `prefix', whose default is
# the build tree (or PREFIX once installed).
rd_prefix()
{
	atf_config_get prefix "@PREFIX@"
}

rd_sbin()
{
	echo "$(rd_prefix)/sbin/$1"
}

rd_bin()
{
	echo "$(rd_prefix)/bin/$1"
}

# The directory of this suite's helpers (lib.sh's own directory).
rd_libdir()
{
	echo "$(atf_get_srcdir)/../lib"
}

# A free TCP port on 127.0.0.1, below the ephemeral range so that no
# client's source port can take it between this check and its use.
rd_freeport()
{
	/usr/bin/python3 - <<-'PY'
	import random, socket
	for _ in range(200):
	    port = random.randint(20000, 32000)
	    s = socket.socket()
	    try:
	        s.bind(("127.0.0.1", port))
	    except OSError:
	        continue
	    finally:
	        s.close()
	    print(port)
	    break
	else:
	    raise SystemExit("no free port")
	PY
}

# rd_start NAME COMMAND [ARG ...]: run in the background; output to
# NAME.log, PID to NAME.pid.  The daemon (NAME rd) writes through a pipe:
# a relay child may write no regular file (RLIMIT_FSIZE 0), and a
# sanitizer's report must still reach rd.log.
rd_start()
{
	_name=$1
	shift
	if [ "$_name" = rd ]; then
		rm -f rd.fifo
		mkfifo rd.fifo
		cat rd.fifo >rd.log &
		echo $! >rd.cat
		ASAN_OPTIONS=$RD_DAEMON_ASAN UBSAN_OPTIONS=$RD_DAEMON_UBSAN \
		    "$@" >rd.fifo 2>&1 &
	else
		"$@" >"$_name.log" 2>&1 &
	fi
	echo $! >"$_name.pid"
}

# A sanitizer build of the daemon (make check SANITIZE=1): in a relay
# child, chrooted and sandboxed, LeakSanitizer cannot work and no
# symbolizer can run.  So the daemon checks no leak (the tools and the
# unit tests do) and reports bare addresses, which rd_sanitized
# resolves outside (addr2line(1) on the module and offset of each
# frame).
RD_DAEMON_ASAN="detect_leaks=0:symbolize=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
RD_DAEMON_UBSAN="symbolize=0${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# rd_asan: true when the daemon is a sanitizer build, whose allocator
# holds freed memory back (RSS says little there).
rd_asan()
{
	grep -q __asan_init "${RD_DAEMON:-$(rd_sbin remotedapid)}"
}

# rd_sanitized: fail the test if any log of its processes holds an
# ASan, LSan or UBSan report; the reports go to standard error, their
# frames resolved.
rd_sanitized()
{
	_re='==[0-9]+==ERROR: [A-Za-z]+Sanitizer|: runtime error: '
	_files=$(grep -l -E "$_re" ./*.log 2>/dev/null)
	[ -n "$_files" ] || return 0
	for _f in $_files; do
		echo "=== $_f" >&2
		sed -n -E "/$_re/,/^SUMMARY: /p" "$_f" |
		    while IFS= read -r _l; do
			rd_symbolize_line "$_l"
		done >&2
	done
	atf_fail "sanitizer report in $(echo $_files):" \
	    "$(grep -h -m 1 -E "$_re" $_files | head -1)"
}

# rd_symbolize_line LINE: a frame "#N 0x... (MODULE+0xOFF)" with its
# function, file and line appended; any other line as it is.
rd_symbolize_line()
{
	_m=$(echo "$1" | sed -n 's/.*(\(\/[^+()]*\)+\(0x[0-9a-f]*\)).*/\1 \2/p')
	if [ -z "$_m" ]; then
		printf '%s\n' "$1"
		return
	fi
	printf '%s  %s\n' "$1" "$(addr2line -f -i -C -p -e ${_m% *} \
	    ${_m#* } 2>/dev/null)"
}

rd_pid()
{
	cat "$1.pid" 2>/dev/null
}

# rd_log_done NAME: once the daemon is gone, wait up to 5 s for the
# last of its output to reach rd.log (its children may outlive it a
# moment).
rd_log_done()
{
	[ "$1" = rd ] && [ -f rd.cat ] || return 0
	_cat=$(cat rd.cat)
	rd_wait 5 sh -c "! kill -0 $_cat"
	rm -f rd.cat
}

rd_alive()
{
	_pid=$(rd_pid "$1")
	[ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null
}

# rd_stop NAME [SIGNAL]: signal the process we started and wait up to
# 10 s for it to go, then kill it.  Returns its exit status when known.
rd_stop()
{
	_pid=$(rd_pid "$1")
	[ -n "$_pid" ] || return 0
	# a stream is a pipeline in a process group of its own: all of it
	[ -f "$1.pgrp" ] && kill -"${2:-TERM}" -- "-$_pid" 2>/dev/null
	kill -"${2:-TERM}" "$_pid" 2>/dev/null
	_i=0
	while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	_rc=$?
	rm -f "$1.pid"
	rd_log_done "$1"
	return $_rc
}

# rd_stop_all: stop every process this test recorded (cleanup).
rd_stop_all()
{
	for _f in *.pid; do
		[ -f "$_f" ] || continue
		rd_stop "${_f%.pid}" KILL
	done
	return 0
}

# rd_wait_exit NAME [SECONDS]: wait for a process we started to end on
# its own; returns its exit status (fails the test if it does not end).
rd_wait_exit()
{
	_pid=$(rd_pid "$1")
	[ -n "$_pid" ] || return 0
	rd_wait "${2:-30}" sh -c "! kill -0 $_pid" ||
	    atf_fail "$1 did not finish within ${2:-30} s"
	wait "$_pid" 2>/dev/null
	_rc=$?
	rm -f "$1.pid"
	rd_log_done "$1"
	return $_rc
}

# rd_wait SECONDS COMMAND [ARG ...]: retry COMMAND every 0.1 s until it
# succeeds or SECONDS pass.
rd_wait()
{
	_limit=$(($1 * 10))
	shift
	_i=0
	while [ $_i -lt $_limit ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# rd_wait_log FILE PATTERN [SECONDS]: wait for a line matching PATTERN.
rd_wait_log()
{
	rd_wait "${3:-10}" grep -q -- "$2" "$1" ||
	    atf_fail "no line matching '$2' in $1 within ${3:-10} s"
}

# rd_flat [FILE ...]: the files (or standard input) on one line, cut
# short, for atf_fail, whose reason is one line.
rd_flat()
{
	cat "$@" 2>/dev/null | tr '\n' ' ' | head -c 1500
}

# rd_sha256 [FILE]: the SHA-256 of a file or of standard input, in hex.
rd_sha256()
{
	sha256sum "$@" | cut -d' ' -f1
}

# rd_random FILE BYTES: a file of random bytes.
rd_random()
{
	head -c "$2" /dev/urandom >"$1"
}

# rd_same_sha256 A B: fail the test unless both files hash the same.
rd_same_sha256()
{
	_a=$(rd_sha256 "$1")
	_b=$(rd_sha256 "$2")
	[ "$_a" = "$_b" ] ||
	    atf_fail "sha256 differs: $1 $_a, $2 $_b ($(wc -c <"$1") and $(wc -c <"$2") bytes)"
}

# --- sizes: `make check' and `make soak' ---------------------------
#
# Every row of the test plan runs at a small scale in `make check'; with
# RD_SOAK=yes in the environment (`make soak') the same cases run at the
# full sizes the plan names.  Kyua passes the environment to the heads
# as well as to the bodies, so a head can scale its timeout the same way.

# rd_soak: true in a soak run.
rd_soak()
{
	[ "${RD_SOAK:-no}" = yes ]
}

# rd_size SMALL FULL: SMALL in `make check', FULL in `make soak'.
rd_size()
{
	if rd_soak; then echo "$2"; else echo "$1"; fi
}

# rd_stream_out NAME BYTES: a FIFO NAME that yields BYTES pseudo-random
# bytes to the first program that opens it; their sha256 lands in
# NAME.sha.  AES-CTR makes the bytes and openssl's SHA-256 (the CPU's SHA
# instructions) hashes them, so a GiB costs a second and no disk.
rd_stream_out()
{
	mkfifo "$1"
	: >"$1.gen.pgrp"
	rd_start "$1.gen" setsid sh -c 'openssl enc -aes-128-ctr -nosalt \
	    -pass "pass:$1$$" -pbkdf2 </dev/zero 2>/dev/null | head -c "$2" |
	    tee "$1" | openssl dgst -sha256 -r | cut -d" " -f1 >"$1.sha"' \
	    sh "$1" "$2"
}

# rd_stream_in NAME: a FIFO NAME whose bytes are hashed, not stored: the
# sha256 lands in NAME.sha.
rd_stream_in()
{
	mkfifo "$1"
	: >"$1.sum.pgrp"
	rd_start "$1.sum" setsid sh -c \
	    'openssl dgst -sha256 -r <"$1" | cut -d" " -f1 >"$1.sha"' sh "$1"
}

# rd_stream_sha NAME [SECONDS]: the sha256 of stream NAME, once its
# generator or hasher is done (it may run in a command substitution,
# where wait(1) does not reap it: its PID gone or a zombie is done).
rd_stream_sha()
{
	for _s in gen sum; do
		[ -f "$1.$_s.pid" ] || continue
		rd_wait "${2:-60}" sh -c "! ps -o stat= -p $(cat "$1.$_s.pid") |
		    grep -qv Z" ||
		    atf_fail "stream $1 not done within ${2:-60} s"
	done
	grep -E '^[0-9a-f]{64}$' "$1.sha" ||
	    atf_fail "stream $1 has no sha256: $(cat "$1".*.log)"
}

# rd_fdcount PID: how many descriptors a process holds.
rd_fdcount()
{
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# --- the raw peer (rawpeer.py) --------------------------------------

# rp_script: regress/lib/rawpeer.py, installed beside lib.sh, or in the
# source tree when the build has not copied it.
rp_script()
{
	h_rp="$(rd_libdir)/rawpeer.py"
	[ -f "$h_rp" ] || h_rp="$(rd_prefix)/../regress/lib/rawpeer.py"
	echo "$h_rp"
}

# rawpeer ARG ...: run it.
rawpeer()
{
	/usr/bin/python3 "$(rp_script)" "$@"
}

# rp_ok WHAT ARG ...: run rawpeer; fail the test with its output (which
# says what was expected and what was seen) unless it succeeds.
rp_ok()
{
	h_what=$1
	shift
	rawpeer "$@" >rp.out 2>&1 ||
	    atf_fail "$h_what: $(tr '\n' ' ' <rp.out)"
}

# rp_agent NAME PATH [ARG ...]: a raw agent on PATH, ready when this
# returns; its lines (ready, ping, notify ...) go to NAME.log.
rp_agent()
{
	h_name=$1
	h_path=$2
	shift 2
	rd_start "$h_name" /usr/bin/python3 -u "$(rp_script)" agent "$@" \
	    "$h_path"
	rd_wait 10 grep -q "^ready" "$h_name.log" ||
	    atf_fail "raw agent did not register on $h_path: $(cat "$h_name.log")"
}

# rp_client NAME [ARG ...] PATH: a raw WebRoute client in the background;
# its lines (local ADDR, status, linked, got N) go to NAME.log.
rp_client()
{
	h_name=$1
	shift
	rd_start "$h_name" /usr/bin/python3 -u "$(rp_script)" client "$@"
	rd_wait 5 grep -q "^local " "$h_name.log" ||
	    atf_fail "raw client did not connect: $(cat "$h_name.log")"
}

# rp_notified AGENTLOG ID: wait for the notification of ID; prints it.
rp_notified()
{
	rd_wait 5 grep -q "^notify .*\"id\":\"$2\"" "$1" ||
	    atf_fail "no notification for id $2 in $1: $(cat "$1")"
	grep "^notify .*\"id\":\"$2\"" "$1" | head -1 | sed 's/^notify //'
}

# --- the daemon ------------------------------------------------------

# rd_keygen NAME: a fresh secret (64 hex digits) in NAME.secret.
rd_keygen()
{
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1.secret"
}

# rd_hash FILE: the sha256 of the secret in FILE, as the key file has it.
rd_hash()
{
	printf %s "$(cat "$1")" | sha256sum | cut -d' ' -f1
}

# rd_setup [PREFORK]: secrets server.secret and client.secret, a key file
# "keys", an empty chroot directory, a free port in $RD_PORT, and a
# config "rd.conf" with short timeouts; rd.conf.extra, if it exists, is
# appended.  The relay's URLs are in $RD_SURL and $RD_CURL (path
# /test/path/).
rd_setup()
{
	rd_keygen server
	rd_keygen client
	cat >keys <<-KEYS
	# test keys
	server srv sha256:$(rd_hash server.secret)
	client cli sha256:$(rd_hash client.secret)
	KEYS
	chmod 600 keys
	mkdir -p empty
	chmod 755 empty
	RD_PORT=$(rd_freeport)
	rd_conf "${1:-2}"
	RD_SURL="rws://$(cat server.secret)@127.0.0.1:$RD_PORT/test/path/"
	RD_CURL="rwr://$(cat client.secret)@127.0.0.1:$RD_PORT/test/path/"
	export RD_PORT RD_SURL RD_CURL
}

# rd_conf PREFORK: (re)write rd.conf from the current settings.
rd_conf()
{
	cat >rd.conf <<-CONF
	listen on 127.0.0.1 port $RD_PORT
	prefork ${1:-2}
	user "nobody"
	chroot "$PWD/empty"
	keys "$PWD/keys"
	control socket "$PWD/rd.sock"
	timeout handshake 3
	timeout idle 5
	timeout shutdown 3
	ping interval 1
	CONF
	if [ -f rd.conf.extra ]; then
		cat rd.conf.extra >>rd.conf
	fi
}

# rd_daemon_start [ARG ...]: start remotedapid in the foreground (log in
# rd.log) and wait until it listens and its children are ready.  The
# binary is $RD_DAEMON if set (the test build, for hooks).
rd_daemon_start()
{
	rd_start rd "${RD_DAEMON:-$(rd_sbin remotedapid)}" -d -v -f rd.conf "$@"
	rd_wait 10 grep -q "listening on" rd.log ||
	    atf_fail "remotedapid did not start: $(cat rd.log)"
	_want=$(sed -n 's/^prefork //p' rd.conf)
	rd_wait 10 rd_children_ready "${_want:-2}" ||
	    atf_fail "relay children not ready: $(cat rd.log)"
}

rd_children_ready()
{
	[ "$(grep -c 'relay [0-9]* ready' rd.log)" -ge "$1" ]
}

# rd_children: the PIDs of the daemon's relay children.
rd_children()
{
	pgrep -P "$(rd_pid rd)" 2>/dev/null
}

# rd_daemon_stop: SIGTERM, and the daemon must exit 0.
rd_daemon_stop()
{
	rd_stop rd TERM ||
	    atf_fail "remotedapid exited with status $?: $(tail -20 rd.log)"
	rd_sanitized
}

# rd_agent NAME [ARG ...]: an rdpeer agent on $RD_SURL, ready when this
# returns; output in NAME.log.
rd_agent()
{
	_name=$1
	shift
	rd_start "$_name" "$(rd_libdir)/rdpeer" agent "$@" "$RD_SURL"
	rd_wait 10 grep -q "^ready" "$_name.log" ||
	    atf_fail "agent did not register: $(cat "$_name.log")"
}

# rd_tunnel_both_ways BYTES: an rdpeer agent for one tunnel and an
# rdpeer client, BYTES of random data each way at once; both ends'
# bytes must hash the same as what was sent.
rd_tunnel_both_ways()
{
	rd_random up.bin "$1"
	rd_random down.bin "$1"
	rd_agent agent -c 1 -s down.bin -r got
	atf_check "$(rd_libdir)/rdpeer" connect -s up.bin -r back "$RD_CURL"
	rd_wait_exit agent || atf_fail "agent failed: $(rd_flat agent.log)"
	rd_same_sha256 up.bin got.0
	rd_same_sha256 down.bin back
}

# rd_wait_tunnel: wait up to 10 s for `rapictl show tunnels' to list a
# tunnel of /test/path/; else fail with a sanitizer's report, if one
# spoke, or what each side (client, agent, proxy, relay) logged last.
rd_wait_tunnel()
{
	rd_wait 10 sh -c "'$(rd_sbin rapictl)' -s rd.sock show tunnels |
	    grep -q test/path" && return
	rd_sanitized
	atf_fail "the tunnel did not open: client: $(rd_flat client.log)" \
	    "agent: $(rd_flat agent.log) proxy: $(rd_flat proxy.log)" \
	    "relay: $(tail -8 rd.log | rd_flat)"
}

# rd_post: the checks after every test of the daemon: the parent is
# alive, no relay child died unexpectedly, no sanitizer spoke.
rd_post()
{
	rd_alive rd || atf_fail "remotedapid died: $(tail -20 rd.log)"
	if grep -E "relay [0-9]+ \(pid [0-9]+\) (killed|exited)" rd.log; then
		atf_fail "a relay child died unexpectedly"
	fi
	rd_sanitized
}

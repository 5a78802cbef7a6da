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
# NAME.log, PID to NAME.pid.
rd_start()
{
	_name=$1
	shift
	"$@" >"$_name.log" 2>&1 &
	echo $! >"$_name.pid"
}

rd_pid()
{
	cat "$1.pid" 2>/dev/null
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
	return $_rc
}

# rd_stop_all: stop every process this test recorded (cleanup).
rd_stop_all()
{
	for _f in *.pid; do
		[ -f "$_f" ] || continue
		rd_stop "${_f%.pid}" KILL
	done
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

# rd_fdcount PID: how many descriptors a process holds.
rd_fdcount()
{
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

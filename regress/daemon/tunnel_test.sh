#! /usr/bin/env atf-sh
#
# tunnel_test.sh: linked pairs move bytes both ways, untouched.

. "$(atf_get_srcdir)/../lib/lib.sh"

atf_test_case bulk_64mib_both_ways cleanup
bulk_64mib_both_ways_head()
{
	atf_set descr "64 MiB each way at once through one tunnel, sha256 equal"
	atf_set timeout 120
}
bulk_64mib_both_ways_body()
{
	rd_setup
	rd_daemon_start
	rd_tunnel_both_ways 67108864
	rd_post
	rd_daemon_stop
}
bulk_64mib_both_ways_cleanup()
{
	rd_stop_all
}

atf_test_case hundred_tunnels_in_parallel cleanup
hundred_tunnels_in_parallel_head()
{
	atf_set descr "100 tunnels at once, each one's bytes intact"
	atf_set timeout 120
}
hundred_tunnels_in_parallel_body()
{
	rd_setup
	rd_daemon_start
	rd_random up.bin 1048576
	rd_agent agent -c 100 -e
	atf_check "$(rd_libdir)/rdpeer" connect -P 100 -s up.bin -r back \
	    "$RD_CURL"
	for i in $(seq 0 99); do
		rd_same_sha256 up.bin "back.$i"
	done
	rd_post
	rd_daemon_stop
}
hundred_tunnels_in_parallel_cleanup()
{
	rd_stop_all
}

# --- python peers --------------------------------------------------------
#
# tt_wrpy: write wr.py, small WebRoute peers on the standard library, for
# what rdpeer cannot show: when and how a tunnel ends, a server that asks
# its own WebRoute-Timeout, ignores a notification, answers only after
# EOF, or stops reading.  Run as /usr/bin/python3 wr.py CMD PORT KEYFILE
# PATH ARG...; every line it prints starts with the wall-clock time:
#	agent echo|reply FILE|slow SECS [RCVBUF]
#		register; each tunnel end, in a process of its own, echoes,
#		or reads to EOF then sends FILE, or reads nothing for SECS;
#		IDs ign-* are never dialed back, s<N>-* dial back asking N s
#	idle ID [TIMEOUT]	a client that sends nothing: when it ends
#	hold [ID]		a client that says hello once, then sleeps
tt_wrpy()
{
	cat >wr.py <<'PY'
import base64, hashlib, json, os, signal, socket, struct, sys, time

def log(*a):
    print("%.3f" % time.time(), *a, flush=True)

def dial(port, rcvbuf=0):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def head(s, limit=30):
    """Read a response head: (status, headers, body or bytes after it)."""
    buf = b""
    s.settimeout(limit)
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise EOFError("closed after %r" % buf)
        buf += d
    h, rest = buf.split(b"\r\n\r\n", 1)
    lines = h.decode("latin-1").split("\r\n")
    hdrs = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), hdrs, rest

def webroute(port, key, path, wrid=None, timeout=None, rcvbuf=0, wait=30):
    """A WebRoute upgrade: (socket, status, headers, rest)."""
    s = dial(port, rcvbuf)
    h = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port,
         "Connection: keep-alive, Upgrade", "Pragma: no-cache",
         "WebRoute-Version: 1", "WebRoute-ID: %s" % (wrid or
         os.urandom(20).hex())]
    if timeout is not None:
        h.append("WebRoute-Timeout: %s" % timeout)
    h += ["Upgrade: webroute", "X-Remoted-APIKey: %s" % key]
    s.sendall(("\r\n".join(h) + "\r\n\r\n").encode())
    st, hdrs, rest = head(s, wait)
    if st != 101 and "content-length" in hdrs:
        while len(rest) < int(hdrs["content-length"]):
            d = s.recv(4096)
            if not d:
                break
            rest += d
    s.settimeout(None)
    return s, st, hdrs, rest

class Agent:
    """A registered path: answers pings, hands out notifications."""
    def __init__(self, port, key, path):
        self.s = dial(port)
        k = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Connection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            "Origin: http://127.0.0.1\r\nX-Remoted-APIKey: %s\r\n\r\n" %
            (path, port, k, key)).encode())
        self.status, _, rest = head(self.s)
        self.buf = bytearray(rest)
        self.s.settimeout(None)

    def send(self, op, data):
        m = os.urandom(4)
        n = len(data)
        hdr = bytes([0x80 | op]) + (bytes([0x80 | n]) if n < 126 else
            bytes([0xfe]) + struct.pack("!H", n))
        self.s.sendall(hdr + m + bytes(b ^ m[i % 4] for i, b in
            enumerate(data)))

    def read(self):
        """Wait for frames: the notifications that came (EOFError: gone)."""
        d = self.s.recv(65536)
        if not d:
            raise EOFError("the relay closed the WebSocket")
        self.buf += d
        out = []
        while len(self.buf) >= 2:
            op, n, off = self.buf[0] & 0x0f, self.buf[1] & 0x7f, 2
            if n == 126:
                if len(self.buf) < 4:
                    break
                n, off = struct.unpack("!H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    break
                n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
            if len(self.buf) < off + n:
                break
            data = bytes(self.buf[off:off + n])
            del self.buf[:off + n]
            if op == 9:
                self.send(10, data)
            elif op == 8:
                raise EOFError("close frame %r" % data)
            elif op == 1:
                out.append(data.decode())
        return out

def sha(b):
    return hashlib.sha256(b).hexdigest()

def readall(s):
    got = bytearray()
    while True:
        d = s.recv(65536)
        if not d:
            return bytes(got)
        got += d

# --- an agent: each tunnel in a process of its own, as rdpeer does ---

def serve(s, rest, mode, arg, wrid):
    """One tunnel end, by mode: echo, reply FILE, slow SECS."""
    last = time.monotonic()
    n = 0
    try:
        if mode == "echo":
            s.sendall(rest)
            while True:
                d = s.recv(65536)
                if not d:
                    log("eof", wrid, n, "idle %.2f" %
                        (time.monotonic() - last))
                    s.shutdown(socket.SHUT_WR)
                    break
                s.sendall(d)
                n += len(d)
                last = time.monotonic()
        elif mode == "reply":
            got = rest + readall(s)
            log("got", wrid, len(got), sha(got))
            s.sendall(open(arg, "rb").read())
            s.shutdown(socket.SHUT_WR)
            log("replied", wrid)
            log("done", wrid, len(readall(s)))
        elif mode == "slow":
            log("pausing", wrid)
            time.sleep(float(arg))
            log("reading", wrid)
            got = rest + readall(s)
            log("got", wrid, len(got), sha(got))
    except OSError as e:
        log("error", wrid, "after %d bytes:" % n, e)
        return 1
    s.close()
    return 0

def agent(port, key, path, mode="echo", arg=None, rcvbuf=0):
    """Register; IDs ign-* are never answered, s<N>-* ask N seconds."""
    rcvbuf = int(rcvbuf)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    a = Agent(port, key, path)
    log("registered", a.status)
    if a.status != 101:
        sys.exit(1)
    print("ready", flush=True)
    while True:
        try:
            notes = a.read()
        except (EOFError, OSError) as e:
            log("websocket lost:", e)
            sys.exit(1)
        for n in notes:
            j = json.loads(n)
            wrid = j["id"]
            log("notify", wrid, j["ipaddr"], j["timeout"])
            if wrid.startswith("ign-"):
                continue
            t = j["timeout"]
            ask = wrid.split("-")[0]
            if ask[:1] == "s" and ask[1:].isdigit():
                t = int(ask[1:])
            if os.fork() == 0:
                a.s.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                s, st, _, rest = webroute(port, key, path, wrid, t, rcvbuf)
                if st != 101:
                    log("dial-back refused", wrid, st)
                    os._exit(1)
                os._exit(serve(s, rest, mode, arg, wrid))

# --- clients ----------------------------------------------------------------

def idle(port, key, path, wrid, timeout=None):
    """Open a tunnel, send nothing; say when and how it ends."""
    t0 = time.monotonic()
    s, st, h, rest = webroute(port, key, path, wrid, timeout, wait=60)
    t1 = time.monotonic()
    if st != 101:
        log("status", st, wrid, "after %.2f" % (t1 - t0), json.dumps(h),
            rest.decode("latin-1"))
        return
    log("linked", wrid)
    try:
        d = s.recv(1)
        how = "eof" if not d else "data"
    except OSError as e:
        how = str(e)
    log("closed", wrid, "after %.2f" % (time.monotonic() - t1), how)

def hold(port, key, path, wrid=None):
    """A tunnel that says hello once, then does nothing."""
    s, st, _, rest = webroute(port, key, path, wrid)
    if st != 101:
        log("refused", st)
        sys.exit(1)
    s.sendall(b"hello")
    got = rest
    while len(got) < 5:
        d = s.recv(5 - len(got))
        if not d:
            log("closed before the echo")
            sys.exit(1)
        got += d
    log("linked", s.getsockname()[1], got.decode())
    time.sleep(120)

if __name__ == "__main__":
    cmd, port, key, path = sys.argv[1:5]
    globals()[cmd](int(port), open(key).read().strip(), path, *sys.argv[5:])
PY
}

tt_wr()
{
	/usr/bin/python3 wr.py "$@"
}

# tt_pyagent NAME MODE [ARG [RCVBUF]]: a wr.py agent on /test/path/.
tt_pyagent()
{
	_name=$1
	shift
	rd_start "$_name" /usr/bin/python3 wr.py agent "$RD_PORT" \
	    server.secret /test/path/ "$@"
	rd_wait 10 grep -q "^ready" "$_name.log" ||
	    atf_fail "python agent did not register: $(rd_flat "$_name.log")"
}

# tt_between WHAT VALUE LO HI: LO <= VALUE <= HI, in seconds.
tt_between()
{
	[ -n "$2" ] || atf_fail "$1: expected $3 to $4 s, saw nothing"
	awk -v v="$2" -v lo="$3" -v hi="$4" \
	    'BEGIN { exit !(v + 0 >= lo + 0 && v + 0 <= hi + 0) }' ||
	    atf_fail "$1: expected $3 to $4 s, saw $2 s"
}

# tt_rss: the resident memory of the daemon's processes, in kB.
tt_rss()
{
	for _p in $(rd_pid rd) $(rd_children); do
		sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' \
		    "/proc/$_p/status" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}

# tt_closed_after FILE ID: the seconds after which wr.py idle saw ID end.
tt_closed_after()
{
	sed -n "s/^[0-9.]* closed $2 after \([0-9.]*\) .*/\1/p" "$1"
}

atf_test_case webroute_timeout_negotiated cleanup
webroute_timeout_negotiated_head()
{
	atf_set descr "WebRoute-Timeout: an idle pair ends at the smaller" \
	    "effective timeout of its sides (a value below the default" \
	    "means the default), not before"
	atf_set timeout 60
}
webroute_timeout_negotiated_body()
{
	rd_setup		# timeout idle 5
	rd_daemon_start
	tt_wrpy
	tt_pyagent agent echo
	# client asks, server asks (s<N>- IDs), the pair's timeout
	for c in "c8 8 - 8" "c2 2 - 5" "c8s3 8 s3 5" "c8s7 8 s7 7" \
	    "c6s9 6 s9 6"; do
		set -- $c
		id=$1-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
		[ "$3" = - ] || id=$3-$id
		echo "$id $4 $2" >>cases
		rd_start "idle.$1" /usr/bin/python3 wr.py idle "$RD_PORT" \
		    client.secret /test/path/ "$id" "$2"
	done
	for c in c8 c2 c8s3 c8s7 c6s9; do
		rd_wait_exit "idle.$c" 15 ||
		    atf_fail "client $c failed: $(rd_flat "idle.$c.log")"
	done
	while read -r id want ask; do
		name=${id#s[0-9]-}
		got=$(tt_closed_after "idle.${name%%-*}.log" "$id")
		tt_between "idle tunnel $id (client asked $ask)" "$got" \
		    $((want - 1)) $((want + 1))
		# the notification carries the client's effective timeout
		note=$(sed -n "s/^[0-9.]* notify $id [^ ]* //p" agent.log)
		[ "$ask" -lt 5 ] && ask=5
		[ "$note" = "$ask" ] ||
		    atf_fail "notification of $id: expected timeout $ask, saw '$note'"
	done <cases
	grep -q "idle timeout" rd.log ||
	    atf_fail "no 'idle timeout' tunnel line in the log"
	rd_post
	rd_daemon_stop
}
webroute_timeout_negotiated_cleanup()
{
	rd_stop_all
}

atf_test_case webroute_timeout_capped_at_max cleanup
webroute_timeout_capped_at_max_head()
{
	atf_set descr "A WebRoute-Timeout above 'timeout max' means the max"
	atf_set timeout 60
}
webroute_timeout_capped_at_max_body()
{
	echo "timeout max 6" >rd.conf.extra
	rd_setup
	rd_daemon_start
	tt_wrpy
	tt_pyagent agent echo
	rd_start idle.8 /usr/bin/python3 wr.py idle "$RD_PORT" client.secret \
	    /test/path/ c8-max 8
	rd_start idle.100 /usr/bin/python3 wr.py idle "$RD_PORT" \
	    client.secret /test/path/ c100-max 100
	rd_wait_exit idle.8 15
	rd_wait_exit idle.100 15
	tt_between "client asking 8 with timeout max 6" \
	    "$(tt_closed_after idle.8.log c8-max)" 5 7
	tt_between "client asking 100 with timeout max 6" \
	    "$(tt_closed_after idle.100.log c100-max)" 5 7
	for id in c8-max c100-max; do
		note=$(sed -n "s/^[0-9.]* notify $id [^ ]* //p" agent.log)
		[ "$note" = 6 ] ||
		    atf_fail "notification of $id: expected timeout 6, saw '$note'"
	done
	rd_post
	rd_daemon_stop
}
webroute_timeout_capped_at_max_cleanup()
{
	rd_stop_all
}

atf_test_case waiting_client_gets_504 cleanup
waiting_client_gets_504_head()
{
	atf_set descr "A client whose server never dials back gets 504 with" \
	    "the JSON body and WebRoute-Version: 1 at its effective timeout;" \
	    "the path serves the next client"
	atf_set timeout 60
}
waiting_client_gets_504_body()
{
	rd_setup
	rd_daemon_start
	tt_wrpy
	tt_pyagent agent echo		# ign-* IDs are never answered
	tt_wr idle "$RD_PORT" client.secret /test/path/ ign-504 6 >idle.log ||
	    atf_fail "waiting client failed: $(rd_flat idle.log)"
	line=$(grep " status " idle.log) ||
	    atf_fail "expected a 504, the client saw: $(rd_flat idle.log)"
	set -- $line
	[ "$3" = 504 ] || atf_fail "expected status 504, saw: $line"
	tt_between "504 to a client asking 6 s" "$6" 5 7
	body='{"success":false,"error":"The server did not answer in time.","errorcode":"gateway_timeout"}'
	case $line in
	*"\"webroute-version\": \"1\""*) ;;
	*) atf_fail "expected WebRoute-Version: 1 in the 504, saw: $line" ;;
	esac
	case $line in
	*"\"content-type\": \"application/json\""*"\"content-length\": \"${#body}\""*) ;;
	*) atf_fail "expected a JSON body of ${#body} bytes, saw: $line" ;;
	esac
	[ "${line##*\} }" = "$body" ] ||
	    atf_fail "expected body $body, saw: ${line##*\} }"
	grep -q " notify ign-504 127.0.0.1:[0-9]* 6$" agent.log ||
	    atf_fail "the agent was not notified with timeout 6: $(rd_flat agent.log)"
	# the slot is free: the next client on the path is served
	rd_random up.bin 1048576
	atf_check "$(rd_libdir)/rdpeer" connect -s up.bin -r back "$RD_CURL"
	rd_same_sha256 up.bin back
	rd_post
	rd_daemon_stop
}
waiting_client_gets_504_cleanup()
{
	rd_stop_all
}

atf_test_case sixteen_tunnels_4mib_both_ways cleanup
sixteen_tunnels_4mib_both_ways_head()
{
	atf_set descr "16 tunnels x 4 MiB (1 GiB in make soak), each echoed" \
	    "back at once, every one's bytes intact both ways (no loss, no" \
	    "reorder, no mixing)"
	atf_set timeout "$(rd_size 120 1800)"
}
sixteen_tunnels_4mib_both_ways_body()
{
	size=$(rd_size 4194304 1073741824)
	limit=$(rd_size 60 1500)
	rd_setup
	rd_daemon_start
	# streams, hashed as they go: 16 GiB three times over is no file
	for i in $(seq 0 15); do
		rd_stream_in "got.$i"
	done
	rd_agent agent -c 16 -e -r got
	for i in $(seq 0 15); do
		rd_stream_out "up.$i" "$size"
		rd_stream_in "back.$i"
		rd_start "client.$i" "$(rd_libdir)/rdpeer" connect \
		    -s "up.$i" -r "back.$i" "$RD_CURL"
	done
	for i in $(seq 0 15); do
		rd_wait_exit "client.$i" "$limit" ||
		    atf_fail "client $i failed: $(rd_flat "client.$i.log")"
	done
	rd_wait_exit agent 30 || atf_fail "agent failed: $(rd_flat agent.log)"
	for i in $(seq 0 15); do
		[ "$(rd_stream_sha "up.$i")" = "$(rd_stream_sha "back.$i")" ] ||
		    atf_fail "tunnel $i: what came back is not what was sent"
	done
	# what the agent's ends received: the same 16 streams, in some order
	sent=$(for i in $(seq 0 15); do rd_stream_sha "up.$i"; done | sort)
	recv=$(for i in $(seq 0 15); do rd_stream_sha "got.$i"; done | sort)
	[ "$sent" = "$recv" ] ||
	    atf_fail "the server ends did not receive the 16 streams sent"
	grep -c "tunnel /test/path/: .* $size bytes up, $size down" rd.log |
	    grep -qx 16 || atf_fail "not 16 tunnel lines of $size bytes each way"
	rd_post
	rd_daemon_stop
}
sixteen_tunnels_4mib_both_ways_cleanup()
{
	rd_stop_all
}

atf_test_case half_close_passes_fin cleanup
half_close_passes_fin_head()
{
	atf_set descr "Client sends 8 MiB (100 MB in make soak) then SHUT_WR:" \
	    "the server sees EOF, then its reply of as much arrives intact," \
	    "then EOF"
	atf_set timeout "$(rd_size 60 300)"
}
half_close_passes_fin_body()
{
	size=$(rd_size 8388608 104857600)
	rd_setup
	rd_daemon_start
	tt_wrpy
	rd_random up.bin "$size"
	rd_random down.bin "$size"
	tt_pyagent agent reply down.bin	# reads to EOF, then replies
	atf_check "$(rd_libdir)/rdpeer" connect -s up.bin -r back "$RD_CURL"
	rd_wait 10 grep -q " done " agent.log ||
	    atf_fail "the server end did not finish: $(rd_flat agent.log)"
	grep -q " got [^ ]* $size $(rd_sha256 up.bin)$" agent.log ||
	    atf_fail "the server expected $size bytes then EOF, saw: $(grep ' got ' agent.log | rd_flat)"
	# the reply went out only after the EOF, and arrived whole
	rd_same_sha256 down.bin back
	grep -q "tunnel /test/path/: .* $size bytes up, $size down, .*closed" \
	    rd.log || atf_fail "no closed tunnel line with $size bytes each way"
	rd_post
	rd_daemon_stop
}
half_close_passes_fin_cleanup()
{
	rd_stop_all
}

atf_test_case slow_consumer_back_pressure cleanup
slow_consumer_back_pressure_head()
{
	atf_set descr "A server end that stops reading while the client pushes" \
	    "64 MiB (1 GiB in make soak): the relay holds back (its RSS" \
	    "stays flat), the bytes arrive intact once it reads again"
	atf_set timeout "$(rd_size 120 900)"
}
slow_consumer_back_pressure_body()
{
	size=$(rd_size 67108864 1073741824)
	rd_setup
	rd_daemon_start
	tt_wrpy
	rd_random big.bin "$size"
	tt_pyagent agent slow 4 4096	# 4 s without reading, SO_RCVBUF 4096
	before=$(tt_rss)
	rd_start client "$(rd_libdir)/rdpeer" connect -s big.bin "$RD_CURL"
	rd_wait 10 grep -q " pausing " agent.log ||
	    atf_fail "the server end did not start: $(rd_flat agent.log)"
	peak=0
	for i in 1 2 3; do
		sleep 1
		now=$(tt_rss)
		[ "$now" -gt "$peak" ] && peak=$now
	done
	grep -q " reading " agent.log &&
	    atf_fail "the server end read again before the samples were taken"
	echo "relay RSS: $before kB before, $peak kB at most while stalled"
	[ $((peak - before)) -lt 4096 ] ||
	    atf_fail "relay RSS grew by $((peak - before)) kB (from $before to $peak) while the reader stalled; expected < 4096 kB"
	rd_wait_exit client "$(rd_size 60 600)" ||
	    atf_fail "client failed: $(rd_flat client.log)"
	rd_wait 10 grep -q " got " agent.log ||
	    atf_fail "the server end did not finish: $(rd_flat agent.log)"
	grep -q " got [^ ]* $size $(rd_sha256 big.bin)$" agent.log ||
	    atf_fail "expected $size bytes with the sender's sha256, saw: $(grep ' got ' agent.log | rd_flat)"
	rd_post
	rd_daemon_stop
}
slow_consumer_back_pressure_cleanup()
{
	rd_stop_all
}

atf_test_case stopped_peer_idle_timeout cleanup
stopped_peer_idle_timeout_head()
{
	atf_set descr "A peer stopped with SIGSTOP (no FIN, no RST): the tunnel" \
	    "is closed at the idle timeout +- 1 s"
	atf_set timeout 60
}
stopped_peer_idle_timeout_body()
{
	rd_setup		# timeout idle 5
	rd_daemon_start
	tt_wrpy
	tt_pyagent agent echo
	rd_start client /usr/bin/python3 wr.py hold "$RD_PORT" client.secret \
	    /test/path/ stopped-peer
	rd_wait 10 grep -q " linked " client.log ||
	    atf_fail "the client did not link: $(rd_flat client.log)"
	kill -STOP "$(rd_pid client)"
	stopped=$(date +%s.%N)
	rd_wait 10 grep -q " eof stopped-peer " agent.log ||
	    atf_fail "the tunnel was not closed within 10 s: $(rd_flat agent.log)"
	set -- $(grep " eof stopped-peer " agent.log)
	tt_between "end of the tunnel after the last byte" "$6" 4 6
	tt_between "end of the tunnel after SIGSTOP" \
	    "$(awk -v a="$1" -v b="$stopped" 'BEGIN { printf "%.2f", a - b }')" \
	    4 6
	grep -q "tunnel /test/path/: .*, idle timeout" rd.log ||
	    atf_fail "no 'idle timeout' tunnel line in the log"
	rd_post
	rd_daemon_stop
}
stopped_peer_idle_timeout_cleanup()
{
	[ -f client.pid ] && kill -CONT "$(cat client.pid)" 2>/dev/null
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case bulk_64mib_both_ways
	atf_add_test_case hundred_tunnels_in_parallel
	atf_add_test_case webroute_timeout_negotiated
	atf_add_test_case webroute_timeout_capped_at_max
	atf_add_test_case waiting_client_gets_504
	atf_add_test_case sixteen_tunnels_4mib_both_ways
	atf_add_test_case half_close_passes_fin
	atf_add_test_case slow_consumer_back_pressure
	atf_add_test_case stopped_peer_idle_timeout
}

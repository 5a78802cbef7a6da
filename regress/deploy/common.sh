#
# common.sh: helpers of the deployment tests (atf-sh), over lib.sh.
#
# Each test case writes what it needs (peer.py, certificates, the
# configurations of nginx and HAProxy made from the examples in etc/)
# into its own work directory, so that two cases can run at once;
# processes go through rd_start and end with rd_stop_all.

. "$(atf_get_srcdir)/../lib/lib.sh"

# dp_example NAME: the example configuration etc/NAME, as the build
# copied it next to the tests.
dp_example()
{
	_f="$(atf_get_srcdir)/$1"
	[ -f "$_f" ] || atf_fail "the example $1 is not next to the tests"
	echo "$_f"
}

# --- peer.py --------------------------------------------------------------
#
# Backends, clients and probes on the standard library; every line it
# prints is flushed at once.
#	serve MODE PORT [ARG ...]	listen on 127.0.0.1:PORT, say "ready";
#		each connection in a thread of its own, by MODE:
#		echo		echo until EOF, then close
#		xfer FILE [N]	send FILE while reading; without N, read to
#				EOF and half-close after FILE; with N, read
#				N bytes, then close (for proxies that end
#				a tunnel at the first EOF); "got LEN SHA256"
#		reply FILE	read to EOF, "got LEN SHA256", send FILE, close
#	tcp PORT UP OUT [N]	connect, send UP, then half-close, and save
#				what comes back to OUT until EOF; with N,
#				no half-close: read N bytes, then close
#	twostep PORT UP1 UP2 OUT GO	send UP1 and read as many bytes back
#				("first"), wait for the file GO (30 s at
#				most), send UP2, half-close, save all that
#				came back to OUT, to EOF
#	probe PORT MODE [LIMIT]	how a TLS port treats a bad client: send
#				nothing (silent), random bytes (garbage),
#				a plain HTTP request (http), half a
#				ClientHello (partial), a ClientHello one
#				byte every 0.5 s (trickle), or finish the
#				handshake and send no head (nohead); then
#				"HOW SECONDS BYTES FIRST": eof, reset or
#				open (nothing by LIMIT s), the seconds from
#				the connect, what arrived and its start
#	wrtls PORT PATH KEYFILE CAFILE SRC [XFF]	from source address SRC
#				(to ::1 if SRC is IPv6, else 127.0.0.1),
#				a WebRoute client over TLS with a fresh ID,
#				and X-Forwarded-For: XFF if given; sends
#				"hello" after the 101 and expects it back
#				(an echo server): "status N", "echo ok"
peer_py_text='
import hashlib, os, select, socket, ssl, sys, threading, time

def log(*a):
    print(*a, flush=True)

def sha(b):
    return hashlib.sha256(b).hexdigest()

def readall(s, limit=None):
    got = bytearray()
    while limit is None or len(got) < limit:
        d = s.recv(65536 if limit is None else min(65536, limit - len(got)))
        if not d:
            break
        got += d
    return bytes(got)

def serve_one(c, mode, args):
    try:
        if mode == "echo":
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        elif mode == "xfer":
            data = open(args[0], "rb").read()
            want = int(args[1]) if len(args) > 1 else None
            def send():
                c.sendall(data)
                if want is None:
                    c.shutdown(socket.SHUT_WR)
            t = threading.Thread(target=send)
            t.start()
            got = readall(c, want)
            t.join()
            log("got", len(got), sha(got))
        elif mode == "reply":
            got = readall(c)
            log("got", len(got), sha(got))
            c.sendall(open(args[0], "rb").read())
            log("replied")
    except OSError as e:
        log("error", e)
    c.close()

def serve(mode, port, *args):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(port)))
    ls.listen(64)
    log("ready")
    while True:
        c, peer = ls.accept()
        log("connection from %s:%d" % peer)
        threading.Thread(target=serve_one, args=(c, mode, args),
            daemon=True).start()

def tcp(port, up, out, n=None):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
    data = open(up, "rb").read()
    def send():
        s.sendall(data)
        if n is None:
            s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = readall(s, None if n is None else int(n))
    t.join()
    s.close()
    open(out, "wb").write(got)
    log("done", len(got))

def twostep(port, up1, up2, out, go):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
    a, b = open(up1, "rb").read(), open(up2, "rb").read()
    s.sendall(a)
    got = readall(s, len(a))
    log("first", len(got))
    for _ in range(300):
        if os.path.exists(go):
            break
        time.sleep(0.1)
    else:
        log("no", go)
        sys.exit(1)
    t = threading.Thread(target=lambda: (s.sendall(b), s.shutdown(socket.SHUT_WR)))
    t.start()
    got += readall(s)
    t.join()
    open(out, "wb").write(got)
    log("done", len(got))

def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inc, out, server_hostname="127.0.0.1")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()

def probe(port, mode, limit="15"):
    limit = float(limit)
    s = socket.create_connection(("127.0.0.1", int(port)))
    t0 = time.monotonic()
    if mode == "garbage":
        s.sendall(os.urandom(4096))
    elif mode == "http":
        s.sendall(b"GET /test/path/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    elif mode == "partial":
        h = client_hello()
        s.sendall(h[:len(h) // 2])
    elif mode == "trickle":
        for b in client_hello()[:-1]:
            try:
                s.sendall(bytes([b]))
            except OSError:
                break
            # a close or an answer ends the trickle at once
            if select.select([s], [], [], 0.5)[0]:
                break
            if time.monotonic() - t0 > limit:
                break
    elif mode == "nohead":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    got, how = b"", "eof"
    while True:
        s.settimeout(max(0.1, limit - (time.monotonic() - t0)))
        try:
            d = s.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            how = "reset"
            break
        except socket.timeout:
            how = "open"
            break
        if not d:
            break
        got += d
    first = got[:40].decode("latin-1").replace("\r", "\\r").replace("\n", "\\n").replace(" ", "_")
    log("%s %.3f %d %s" % (how, time.monotonic() - t0, len(got), first or "-"))

def wrtls(port, path, keyfile, cafile, src, xff=None):
    key = open(keyfile).read().strip()
    wrid = os.urandom(20).hex()
    ctx = ssl.create_default_context(cafile=cafile)
    host = "::1" if ":" in src else "127.0.0.1"
    raw = socket.create_connection((host, int(port)), timeout=20,
        source_address=(src, 0))
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    head = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Connection: keep-alive, Upgrade\r\nUpgrade: webroute\r\n"
        "WebRoute-Version: 1\r\nWebRoute-ID: %s\r\nWebRoute-Timeout: 60\r\n"
        "X-Remoted-APIKey: %s\r\n" % (path, wrid, key))
    if xff is not None:
        head += "X-Forwarded-For: %s\r\n" % xff
    s.sendall((head + "\r\n").encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        d = s.recv(1)
        if not d:
            break
        resp += d
    log("status", resp.split(b" ")[1].decode() if b" " in resp else "none")
    s.sendall(b"hello")
    log("echo", "ok" if readall(s, 5) == b"hello" else "bad")
    s.close()

if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
'

dp_peerpy()
{
	[ -f peer.py ] || printf '%s' "$peer_py_text" >peer.py
}

dp_py()
{
	dp_peerpy
	/usr/bin/python3 peer.py "$@"
}

# dp_backend NAME MODE [ARG ...]: a peer.py server on a free port, in
# $DP_BACKEND once it is ready.
dp_backend()
{
	_name=$1
	shift
	dp_peerpy
	DP_BACKEND=$(rd_freeport)
	_mode=$1
	shift
	rd_start "$_name" /usr/bin/python3 peer.py serve "$_mode" \
	    "$DP_BACKEND" "$@"
	rd_wait 10 grep -q "^ready" "$_name.log" ||
	    atf_fail "backend $_name did not start: $(rd_flat "$_name.log")"
}

# dp_expose NAME [OPTION ...] URL TARGET: rapi expose -v, registered when
# this returns.
dp_expose()
{
	_name=$1
	shift
	rd_start "$_name" "$(rd_bin rapi)" expose -v "$@"
	rd_wait 15 grep -q "registered" "$_name.log" ||
	    atf_fail "rapi expose did not register: $(rd_flat "$_name.log")"
}

# dp_connect NAME UP OUT [OPTION ...] URL: rapi connect on standard
# input and output, which must end within 60 s with exit 0.
dp_connect()
{
	_name=$1
	_up=$2
	_out=$3
	shift 3
	timeout 60 "$(rd_bin rapi)" connect -v "$@" <"$_up" >"$_out" \
	    2>"$_name.log" ||
	    atf_fail "$_name: rapi connect exited $?: $(rd_flat "$_name.log")"
}

# dp_got LOG FILE: a backend's log says it got FILE, whole.
dp_got()
{
	rd_wait 10 grep -q "^got $(wc -c <"$2") $(rd_sha256 "$2")$" "$1" ||
	    atf_fail "the backend expected $(wc -c <"$2") bytes with the sender's sha256, saw: $(grep '^got\|^error' "$1" | rd_flat)"
}

# dp_listening PORT: something accepts connections on 127.0.0.1:PORT.
dp_listening()
{
	/usr/bin/python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1"
}

# --- TLS ------------------------------------------------------------------

# dp_ca: a test CA (ca.pem, ca.key).
dp_ca()
{
	[ -f ca.pem ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -subj "/CN=remotedapid test CA" -keyout ca.key -out ca.pem \
	    2>>openssl.log || atf_fail "openssl: $(rd_flat openssl.log)"
}

# dp_cert NAME: a certificate for 127.0.0.1 and localhost signed by the
# test CA: NAME.pem and NAME.key.
dp_cert()
{
	dp_ca
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	    -keyout "$1.key" -out "$1.csr" 2>>openssl.log ||
	    atf_fail "openssl: $(rd_flat openssl.log)"
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$1.ext"
	openssl x509 -req -days 2 -in "$1.csr" -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -extfile "$1.ext" -out "$1.pem" 2>>openssl.log ||
	    atf_fail "openssl: $(rd_flat openssl.log)"
}

# dp_fingerprint FILE: the SHA-256 fingerprint of a PEM certificate.
dp_fingerprint()
{
	openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'
}

# dp_served PORT: the fingerprint of the certificate served on PORT.
dp_served()
{
	openssl s_client -connect "127.0.0.1:$1" -servername localhost \
	    </dev/null 2>/dev/null | openssl x509 -noout -fingerprint \
	    -sha256 2>/dev/null | sed 's/.*=//'
}

# dp_tls_setup [PREFORK]: the relay of rd_setup with a second, TLS
# listener on $DP_TLS (server.pem and server.key, signed by ca.pem);
# the plain one stays on $RD_PORT.
dp_tls_setup()
{
	dp_cert server
	DP_TLS=$(rd_freeport)
	cat >>rd.conf.extra <<-CONF
	listen on 127.0.0.1 port $DP_TLS tls {
		certificate "$PWD/server.pem"
		key "$PWD/server.key"
	}
	CONF
	rd_setup "${1:-2}"
	rd_daemon_start
}

# dp_url SCHEME PORT PATH: a URL without its key (rapi -k gives it).
dp_url()
{
	echo "$1://127.0.0.1:$2$3"
}

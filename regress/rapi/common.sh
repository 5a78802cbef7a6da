#
# common.sh: helpers of the rapi tests (atf-sh), over regress/lib/lib.sh.
#
# Each test case writes what it needs (peer.py, certificates, proxy
# configurations) into its own work directory, so that two cases can run
# at once; processes go through rd_start and end with rd_stop_all.

. "$(atf_get_srcdir)/../lib/lib.sh"

rt_rapi()
{
	"$(rd_bin rapi)" "$@"
}

# rt_peerpy: write peer.py, the test's backends and clients on the
# standard library.  Every line it prints is flushed at once.
#	serve MODE PORT [ARG ...]	listen on 127.0.0.1:PORT, say "ready";
#		each connection in a thread of its own, by MODE:
#		echo			echo until EOF, then close
#		xfer FILE [N]		send FILE while reading; without N, read
#					to EOF and half-close after FILE; with
#					N, read N bytes, then close (no half-
#					close, for proxies that end a tunnel at
#					the first EOF); "got LEN SHA256"
#		reply FILE		read to EOF, "got LEN SHA256", then send
#					FILE and close
#		proxy			read a PROXY v1 or v2 header, print it
#					("proxy v1 ..." / "proxy v2 ..."), then
#					echo
#	tcp PORT UP OUT [keep-open]	connect, send UP and half-close (or
#					not) while writing what comes back to
#					OUT, to EOF
#	pipe UP OUT CMD ...		the same through CMD's standard input
#					and output, but standard input is
#					closed only after CMD's output ended
#	sockpair UP OUT CMD ...		CMD's standard input and output are
#					one socket (as inetd or socat give):
#					read to EOF, then send UP, half-close
peer_py_text='
import hashlib, os, socket, struct, subprocess, sys, threading, time

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

def recvn(s, n):
    b = readall(s, n)
    if len(b) != n:
        raise EOFError("short read: %d of %d" % (len(b), n))
    return b

def proxy_header(c):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    first = recvn(c, 12)
    if first == sig:
        ver, fam, n = struct.unpack("!BBH", recvn(c, 4))
        body = recvn(c, n)
        cmd = "PROXY" if ver & 0x0f == 1 else "LOCAL"
        if fam == 0x11:
            src, dst = socket.inet_ntop(socket.AF_INET, body[0:4]), \
                socket.inet_ntop(socket.AF_INET, body[4:8])
            sp, dp = struct.unpack("!HH", body[8:12])
            return "v2 %s TCP4 %s %d %s %d" % (cmd, src, sp, dst, dp)
        if fam == 0x21:
            src, dst = socket.inet_ntop(socket.AF_INET6, body[0:16]), \
                socket.inet_ntop(socket.AF_INET6, body[16:32])
            sp, dp = struct.unpack("!HH", body[32:36])
            return "v2 %s TCP6 %s %d %s %d" % (cmd, src, sp, dst, dp)
        return "v2 %s family 0x%02x, %d bytes" % (cmd, fam, n)
    line = first
    while not line.endswith(b"\r\n"):
        if len(line) > 107:
            return "bad v1 header %r" % line
        line += recvn(c, 1)
    if not line.startswith(b"PROXY "):
        return "no header: %r" % line
    return "v1 " + line[6:-2].decode()

def serve_one(c, mode, args):
    try:
        if mode == "echo":
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        elif mode == "proxy":
            log("proxy", proxy_header(c))
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

def tcp(port, up, out, half="half-close"):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
    data = open(up, "rb").read()
    def send():
        s.sendall(data)
        if half == "half-close":
            s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = readall(s)
    t.join()
    open(out, "wb").write(got)
    log("done", len(got))

def pipe(up, out, *cmd):
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    data = open(up, "rb").read()
    t = threading.Thread(target=p.stdin.write, args=(data,))
    t.start()
    got = p.stdout.read()
    t.join()
    p.stdin.close()
    rc = p.wait(timeout=30)
    open(out, "wb").write(got)
    log("done", len(got), "exit", rc)

def sockpair(up, out, *cmd):
    a, b = socket.socketpair()
    p = subprocess.Popen(cmd, stdin=b, stdout=b)
    b.close()
    a.settimeout(20)
    try:
        got = readall(a)
    except OSError as e:
        log("no EOF from the command:", e)
        p.kill()
        sys.exit(1)
    open(out, "wb").write(got)
    log("read", len(got))
    a.sendall(open(up, "rb").read())
    a.shutdown(socket.SHUT_WR)
    log("exit", p.wait(timeout=30))

if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
'

rt_peerpy()
{
	printf '%s' "$peer_py_text" >peer.py
}

# rt_backend NAME MODE [ARG ...]: a peer.py server on a free port, in
# $RT_PORT once it is ready.
rt_backend()
{
	_name=$1
	shift
	[ -f peer.py ] || rt_peerpy
	RT_PORT=$(rd_freeport)
	_mode=$1
	shift
	rd_start "$_name" /usr/bin/python3 peer.py serve "$_mode" "$RT_PORT" \
	    "$@"
	rd_wait 10 grep -q "^ready" "$_name.log" ||
	    atf_fail "backend $_name did not start: $(rd_flat "$_name.log")"
}

# rt_got_line LOG FILE: the backend got FILE, whole.
rt_got_line()
{
	grep -q "^got $(wc -c <"$2") $(rd_sha256 "$2")$" "$1" ||
	    atf_fail "the backend expected $(wc -c <"$2") bytes with the sender's sha256, saw: $(grep '^got\|^error' "$1" | rd_flat)"
}

# rt_expose NAME [OPTION ...] URL TARGET: rapi expose -v, registered when
# this returns.
rt_expose()
{
	_name=$1
	shift
	rd_start "$_name" "$(rd_bin rapi)" expose -v "$@"
	rd_wait 15 grep -q "registered" "$_name.log" ||
	    atf_fail "rapi expose did not register: $(rd_flat "$_name.log")"
}

# rt_url SCHEME HOSTPORT PATH: a URL without its key (rapi -k gives it).
rt_url()
{
	echo "$1://$2$3"
}

# --- TLS ------------------------------------------------------------------

# rt_certs: a test CA (ca.pem) and a certificate for 127.0.0.1 and
# localhost signed by it (server.pem, server.key); another CA that
# signed nothing here (other-ca.pem).
rt_certs()
{
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rapi test CA" \
	    -keyout ca.key -out ca.pem 2>openssl.log ||
	    atf_fail "openssl: $(rd_flat openssl.log)"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	    -keyout server.key -out server.csr 2>>openssl.log ||
	    atf_fail "openssl: $(rd_flat openssl.log)"
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
	openssl x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -extfile server.ext -out server.pem \
	    2>>openssl.log || atf_fail "openssl: $(rd_flat openssl.log)"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -subj "/CN=another CA" -keyout other-ca.key -out other-ca.pem \
	    2>>openssl.log || atf_fail "openssl: $(rd_flat openssl.log)"
}

# rt_nginx READTIMEOUT: nginx with TLS on a free port ($RT_NGINX) in
# front of the relay ($RD_PORT), passing upgrades as a deployment does;
# its own prefix, pid, logs and temporary files under ./nginx.
rt_nginx()
{
	RT_NGINX=$(rd_freeport)
	mkdir -p nginx/tmp
	cat >nginx/nginx.conf <<-CONF
	daemon off;
	master_process off;
	worker_processes 1;
	pid $PWD/nginx/nginx.pid;
	error_log $PWD/nginx/error.log info;
	events {
		worker_connections 512;
	}
	http {
		access_log $PWD/nginx/access.log;
		client_body_temp_path $PWD/nginx/tmp/body;
		proxy_temp_path $PWD/nginx/tmp/proxy;
		fastcgi_temp_path $PWD/nginx/tmp/fastcgi;
		uwsgi_temp_path $PWD/nginx/tmp/uwsgi;
		scgi_temp_path $PWD/nginx/tmp/scgi;
		server {
			listen 127.0.0.1:$RT_NGINX ssl;
			ssl_certificate $PWD/server.pem;
			ssl_certificate_key $PWD/server.key;
			location / {
				proxy_pass http://127.0.0.1:$RD_PORT;
				proxy_http_version 1.1;
				proxy_set_header Upgrade \$http_upgrade;
				proxy_set_header Connection "upgrade";
				proxy_set_header Host \$host;
				proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
				proxy_read_timeout $1;
				proxy_send_timeout $1;
			}
		}
	}
	CONF
	rd_start nginx /usr/sbin/nginx -p "$PWD/nginx" -c "$PWD/nginx/nginx.conf" \
	    -e "$PWD/nginx/error.log"
	rd_wait 10 rt_listening "$RT_NGINX" ||
	    atf_fail "nginx did not start: $(rd_flat nginx.log nginx/error.log)"
}

# rt_haproxy: HAProxy terminating TLS on free ports in TCP mode in
# front of the relay ($RT_HAPROXY, and $RT_HAPROXY12 with TLS 1.2 at
# most): unlike nginx's upgrade proxy, it passes a half-close on
# (a close_notify one way, a FIN the other).
rt_haproxy()
{
	RT_HAPROXY=$(rd_freeport)
	RT_HAPROXY12=$(rd_freeport)
	cat server.pem server.key >server-full.pem
	cat >haproxy.cfg <<-CONF
	global
		maxconn 200
	defaults
		mode tcp
		timeout connect 5s
		timeout client 30s
		timeout server 30s
		timeout client-fin 30s
		timeout server-fin 30s
	frontend tls
		bind 127.0.0.1:$RT_HAPROXY ssl crt $PWD/server-full.pem
		default_backend relay
	frontend tls12
		bind 127.0.0.1:$RT_HAPROXY12 ssl crt $PWD/server-full.pem ssl-max-ver TLSv1.2
		default_backend relay
	backend relay
		server relay 127.0.0.1:$RD_PORT
	CONF
	rd_start haproxy /usr/sbin/haproxy -db -f haproxy.cfg
	rd_wait 10 rt_listening "$RT_HAPROXY12" ||
	    atf_fail "haproxy did not start: $(rd_flat haproxy.log)"
}

# rt_listening PORT: something accepts connections on 127.0.0.1:PORT.
rt_listening()
{
	/usr/bin/python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1"
}

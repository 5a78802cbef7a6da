#!/usr/bin/python3
#
# golden_replay.py: replay the bytes that the original Remoted API Server's
# PHP SDK sends (recorded once, regress/data/golden/README) against a
# running remotedapid, over raw sockets, and check every answer the SDK
# has to accept.  Standard library only.
#
# usage: golden_replay.py [options] SCENARIO
#
#	-g DIR		the golden files (regress/data/golden)
#	-p PORT		the relay, on 127.0.0.1
#	-s FILE		the server key (a file holding the secret)
#	-c FILE		the client key
#	-t SECONDS	the relay's idle timeout (`timeout idle'), which a
#			client that sends no WebRoute-Timeout is notified
#
# Scenarios: websocket, keepalive, tunnel, refusals, dialback_unknown.
# Exit 0 when every check passes; otherwise a message on stderr and 1.

import argparse
import base64
import hashlib
import json
import os
import random
import re
import socket
import string
import sys
import threading
import time

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WR_GUID = b"BE7204BD-47E6-49EE-9B0D-016E370644B2"
IO_TIMEOUT = 10.0


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def step(what):
    print("--", what, flush=True)


# --- the golden files ---------------------------------------------------

class Golden:
    def __init__(self, gdir, port, skey, ckey):
        self.gdir = gdir
        self.port = port
        self.skey = skey
        self.ckey = ckey

    def raw(self, name):
        with open(os.path.join(self.gdir, name), "rb") as f:
            return f.read()

    def fill(self, name, **subs):
        """A template with @NAME@ placeholders; every one must be filled."""
        data = self.raw(name)
        subs.setdefault("HOST", "127.0.0.1:%d" % self.port)
        subs.setdefault("SERVERKEY", self.skey)
        subs.setdefault("CLIENTKEY", self.ckey)
        for k, v in subs.items():
            data = data.replace(b"@" + k.encode() + b"@", str(v).encode())
        left = re.findall(rb"@[A-Z]+@", data)
        check(not left, "%s: placeholders left unfilled: %r" % (name, left))
        return data


def php_wskey():
    # WebSocket::Connect(): base64_encode($this->PRNGBytes(16))
    return base64.b64encode(os.urandom(16)).decode()


def php_id():
    # WebRoute::Connect(): CSPRNG::GenerateString(64), alphanumerics
    r = random.SystemRandom()
    return "".join(r.choice(string.ascii_letters + string.digits)
                   for _ in range(64))


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


def wr_accept(wrid):
    return base64.b64encode(hashlib.sha1(wrid.encode() + WR_GUID).digest()).decode()


# --- a connection -------------------------------------------------------

class Conn:
    def __init__(self, port, name):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port), IO_TIMEOUT)
        self.sock.settimeout(IO_TIMEOUT)
        self.buf = b""
        self.wlock = threading.Lock()

    def send(self, data):
        with self.wlock:
            self.sock.sendall(data)

    def _more(self):
        try:
            b = self.sock.recv(65536)
        except socket.timeout:
            raise Fail("%s: nothing received within %.0f s (have %r)" %
                       (self.name, IO_TIMEOUT, self.buf[:200]))
        except ConnectionResetError:
            b = b""
        if not b:
            return False
        self.buf += b
        return True

    def head(self):
        """Everything up to and including the blank line after the head."""
        while b"\r\n\r\n" not in self.buf:
            if not self._more():
                raise Fail("%s: EOF before the end of a response head: %r" %
                           (self.name, self.buf[:300]))
        i = self.buf.index(b"\r\n\r\n") + 4
        h, self.buf = self.buf[:i], self.buf[i:]
        return h

    def exact(self, n):
        while len(self.buf) < n:
            if not self._more():
                raise Fail("%s: EOF after %d of %d bytes" %
                           (self.name, len(self.buf), n))
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def until_eof(self):
        while self._more():
            pass
        d, self.buf = self.buf, b""
        return d

    def frame(self):
        """One WebSocket frame from the relay: (fin, opcode, payload)."""
        h = self.exact(2)
        fin, op, masked, n = h[0] >> 7, h[0] & 0x0F, h[1] >> 7, h[1] & 0x7F
        check(h[0] & 0x70 == 0, "%s: reserved bits set in %r" % (self.name, h))
        check(not masked, "%s: the relay masked a frame" % self.name)
        if n == 126:
            n = int.from_bytes(self.exact(2), "big")
        elif n == 127:
            n = int.from_bytes(self.exact(8), "big")
        return fin, op, self.exact(n)

    def response(self):
        """An HTTP response read the way the PHP SDK's HTTP class reads a
        non-101 one: status line, headers, a Content-Length body."""
        h = self.head()
        lines = h[:-4].split(b"\r\n")
        m = re.fullmatch(rb"HTTP/1\.1 (\d{3}) ([^\r\n]*)", lines[0])
        check(m, "%s: bad status line %r" % (self.name, lines[0]))
        hdrs = {}
        for line in lines[1:]:
            k, sep, v = line.partition(b":")
            check(sep and k and k == k.strip(),
                  "%s: bad header line %r" % (self.name, line))
            hdrs.setdefault(k.decode().lower(), []).append(v.strip().decode())
        body = b""
        if "content-length" in hdrs:
            check(len(hdrs["content-length"]) == 1,
                  "%s: two Content-Length" % self.name)
            body = self.exact(int(hdrs["content-length"][0]))
        return int(m.group(1)), m.group(2).decode(), hdrs, body

    def shut(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.sock.close()


# --- the PHP server's WebSocket -----------------------------------------

class PHPAgent:
    """The PHP SDK's RemotedAPIWebServer, as far as the relay can see it:
    its recorded upgrade, and pongs built like its recorded pong (masked,
    with its mask key) to every ping, from a thread."""

    def __init__(self, g, name="agent"):
        self.g = g
        pong = g.raw("php_server_pong.frame")
        check(pong[0] == 0x8A and pong[1] & 0x80 and
              len(pong) == 6 + (pong[1] & 0x7F),
              "php_server_pong.frame: not a masked pong")
        self.mask = pong[2:6]
        # The recorded pong is what this builder makes of its payload.
        check(self.pong(self.unmask(pong[6:])) == pong,
              "php_server_pong.frame: not rebuilt from its payload")
        self.c = Conn(g.port, name)
        self.key = php_wskey()
        self.c.send(g.fill("php_server_websocket.req", WSKEY=self.key))
        want = g.fill("relay_websocket.resp", WSACCEPT=ws_accept(self.key))
        got = self.c.head()
        check(got == want, "WebSocket 101: want %r, got %r" % (want, got))
        self.texts = []
        self.pongs = []
        self.pings = 0
        self.closed = None
        self.eof = False
        self.error = None
        self.cv = threading.Condition()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def unmask(self, data):
        return bytes(b ^ self.mask[i % 4] for i, b in enumerate(data))

    def pong(self, payload):
        check(len(payload) < 126, "ping payload too long for this test")
        return bytes([0x8A, 0x80 | len(payload)]) + self.mask + \
            self.unmask(payload)

    def _run(self):
        try:
            while True:
                try:
                    fin, op, payload = self.c.frame()
                except Fail:
                    if self.c.buf == b"":
                        with self.cv:
                            self.eof = True
                            self.cv.notify_all()
                        return
                    raise
                with self.cv:
                    check(fin, "a fragmented frame from the relay")
                    if op == 0x9:
                        self.pings += 1
                        self.c.send(self.pong(payload))
                    elif op == 0xA:
                        self.pongs.append(payload)
                    elif op == 0x1:
                        self.texts.append(payload)
                    elif op == 0x8:
                        self.closed = payload
                    else:
                        raise Fail("unexpected opcode %#x from the relay" % op)
                    self.cv.notify_all()
        except Exception as e:
            with self.cv:
                self.error = e
                self.eof = True
                self.cv.notify_all()

    def wait(self, what, cond, timeout=IO_TIMEOUT):
        end = time.time() + timeout
        with self.cv:
            while not cond():
                if self.error:
                    raise Fail("agent: %s" % self.error)
                left = end - time.time()
                if left <= 0:
                    raise Fail("agent: %s not seen within %.0f s" %
                               (what, timeout))
                self.cv.wait(left)

    def text(self):
        self.wait("a text frame", lambda: self.texts or self.eof)
        check(self.texts, "agent: connection ended before the notification")
        return self.texts.pop(0)


# --- scenarios ----------------------------------------------------------

def php_client(g, wrid, name="client"):
    c = Conn(g.port, name)
    c.send(g.fill("php_client_webroute.req", ID=wrid))
    return c


def refusal(c, code, errorcode):
    st, reason, hdrs, body = c.response()
    check(st == code, "%s: want %d, got %d %s %r" %
          (c.name, code, st, reason, body))
    check(hdrs.get("content-type") == ["application/json"],
          "%s: Content-Type %r" % (c.name, hdrs.get("content-type")))
    check("content-length" in hdrs, "%s: no Content-Length" % c.name)
    j = json.loads(body)
    check(j.get("success") is False and j.get("errorcode") == errorcode,
          "%s: body %r" % (c.name, body))
    return reason, body


def orig_answer(g, name):
    """The original relay's recorded answer: (code, reason, body)."""
    data = g.raw(name)
    h, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.1 (\d{3}) ([^\r\n]*)", h)
    return int(m.group(1)), m.group(2).decode(), body


def same_as_original(g, c, orig, errorcode):
    code, oreason, obody = orig_answer(g, orig)
    reason, body = refusal(c, code, errorcode)
    # The PHP SDK reports "Server returned:  CODE REASON" and the body is
    # what its callers see: both as the original sent them.
    check(reason == oreason, "%s: reason %r, the original's %r" %
          (c.name, reason, oreason))
    check(body == obody, "%s: body %r, the original's %r" %
          (c.name, body, obody))


def unregistered(g, timeout=5.0):
    """A PHP client gets 502 on the path (retried: children learn of an
    unregistration from the parent)."""
    end = time.time() + timeout
    while True:
        c = php_client(g, php_id(), "client(502)")
        st, reason, hdrs, body = c.response()
        c.close()
        if st == 502:
            return
        check(time.time() < end, "path still registered: %d %r" % (st, body))
        time.sleep(0.1)


def sc_websocket(g, a):
    step("the PHP server's WebSocket upgrade gets the exact 101")
    agent = PHPAgent(g)
    step("a second PHP server on the same path is refused (409), the first kept")
    c = Conn(g.port, "second")
    c.send(g.fill("php_server_websocket.req", WSKEY=php_wskey()))
    refusal(c, 409, "path_in_use")
    c.close()
    check(not agent.eof and agent.closed is None, "the first one was closed")
    agent.c.close()


def sc_keepalive(g, a):
    agent = PHPAgent(g)
    step("the relay's pings get the PHP SDK's pongs; it stays registered")
    agent.wait("3 pings", lambda: agent.pings >= 3 or agent.eof)
    check(not agent.eof and agent.closed is None,
          "the relay closed a WebSocket that answered its pings (%r)" %
          agent.closed)
    cl = php_client(g, php_id())
    json.loads(agent.text())
    cl.close()
    step("the PHP SDK's own keepalive ping gets a pong with its payload")
    ping = g.raw("php_server_ping.frame")
    check(ping[0] == 0x89 and ping[1] & 0x80, "not a masked ping")
    n = ping[1] & 0x7F
    payload = bytes(b ^ ping[2 + i % 4] for i, b in enumerate(ping[6:6 + n]))
    check(payload.isdigit(), "the recorded ping's payload %r" % payload)
    agent.c.send(ping)
    agent.wait("a pong", lambda: agent.pongs or agent.eof)
    check(agent.pongs == [payload], "pongs %r, want [%r]" %
          (agent.pongs, payload))
    step("the PHP SDK's close (Stop()) gets a close, then EOF; path freed")
    agent.c.send(g.raw("php_server_close.frame"))
    agent.wait("EOF", lambda: agent.eof)
    check(agent.error is None, "agent: %s" % agent.error)
    check(agent.closed is not None, "EOF without a close frame")
    check(agent.closed in (b"", b"\x03\xe8"),
          "close payload %r (want none or 1000)" % agent.closed)
    agent.c.close()
    unregistered(g)


def sc_tunnel(g, a):
    agent = PHPAgent(g)
    wrid = php_id()
    step("a PHP client's WebRoute makes the relay notify the agent")
    cl = php_client(g, wrid)
    cport = cl.sock.getsockname()[1]
    want = g.fill("relay_notify.json", CPORT=cport, ID=wrid, TIMEOUT=a.t)
    got = agent.text()
    check(got == want, "notification: want %r, got %r" % (want, got))
    step("the PHP server's dial-back links: both get the exact 101")
    note = json.loads(got)
    sv = Conn(g.port, "dialback")
    sv.send(g.fill("php_server_dialback.req", ID=note["id"],
                   TIMEOUT=note["timeout"]))
    ok = g.fill("relay_webroute.resp", WRACCEPT=wr_accept(wrid))
    got = sv.head()
    check(got == ok, "server side 101: want %r, got %r" % (ok, got))
    got = cl.head()
    check(got == ok, "client side 101: want %r, got %r" % (ok, got))
    check(cl.buf == b"" and sv.buf == b"", "bytes after a 101: %r %r" %
          (cl.buf, sv.buf))
    step("the PHP client's request and the PHP server's answer, then 1 MiB "
         "each way at once, arrive intact")
    req = g.raw("php_client_tunnel.data")
    ans = g.raw("php_server_tunnel.data")
    cl.send(req)
    got = sv.exact(len(req))
    check(got == req, "request through the tunnel: %r" % got)
    up, down = os.urandom(1 << 20), os.urandom(1 << 20)
    res = {}

    def side(c, data, key):
        try:
            c.send(data)
            c.shut()
            res[key] = c.until_eof()
        except Exception as e:
            res[key] = e

    ts = [threading.Thread(target=side, args=(cl, up, "client")),
          threading.Thread(target=side, args=(sv, ans + down, "server"))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    for k in ("client", "server"):
        check(not isinstance(res.get(k), Exception), "%s: %s" % (k, res.get(k)))
    check(res.get("client") == ans + down,
          "client got %d bytes, want %d intact" %
          (len(res.get("client") or b""), len(ans + down)))
    check(res.get("server") == up, "server got %d bytes, want %d intact" %
          (len(res.get("server") or b""), len(up)))
    cl.close()
    sv.close()
    check(not agent.eof, "the agent's WebSocket ended")
    agent.c.close()


def sc_refusals(g, a):
    bad = os.urandom(32).hex()
    step("no server on the path: 502 as the original answered the PHP client")
    unregistered(g)
    c = php_client(g, php_id())
    same_as_original(g, c, "orig_relay_502.resp", "missing_destination")
    c.close()
    step("a wrong client key: 403 as the original answered")
    c = Conn(g.port, "client(bad key)")
    c.send(g.fill("php_client_webroute.req", ID=php_id(), CLIENTKEY=bad))
    same_as_original(g, c, "orig_relay_403.resp", "invalid_missing_apikey")
    c.close()
    step("a wrong server key on the WebSocket: the same 403")
    c = Conn(g.port, "server(bad key)")
    c.send(g.fill("php_server_websocket.req", WSKEY=php_wskey(),
                  SERVERKEY=bad))
    same_as_original(g, c, "orig_relay_403.resp", "invalid_missing_apikey")
    c.close()
    step("a wrong server key on a dial-back: the same 403")
    c = Conn(g.port, "dialback(bad key)")
    c.send(g.fill("php_server_dialback.req", ID=php_id(), TIMEOUT=a.t,
                  SERVERKEY=bad))
    same_as_original(g, c, "orig_relay_403.resp", "invalid_missing_apikey")
    c.close()


def sc_dialback_unknown(g, a):
    agent = PHPAgent(g)
    step("a PHP dial-back whose ID no client waits for: 400 at once")
    c = Conn(g.port, "dialback(unknown)")
    c.send(g.fill("php_server_dialback.req", ID=php_id(), TIMEOUT=a.t))
    refusal(c, 400, "invalid_request")
    c.close()
    check(not agent.eof, "the agent's WebSocket ended")
    agent.c.close()


SCENARIOS = {
    "websocket": sc_websocket,
    "keepalive": sc_keepalive,
    "tunnel": sc_tunnel,
    "refusals": sc_refusals,
    "dialback_unknown": sc_dialback_unknown,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-g", required=True)
    p.add_argument("-p", type=int, required=True)
    p.add_argument("-s", required=True)
    p.add_argument("-c", required=True)
    p.add_argument("-t", type=int, default=60)
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    a = p.parse_args()
    with open(a.s) as f:
        skey = f.read().strip()
    with open(a.c) as f:
        ckey = f.read().strip()
    g = Golden(a.g, a.p, skey, ckey)
    try:
        SCENARIOS[a.scenario](g, a)
    except Fail as e:
        print("golden_replay %s: FAIL: %s" % (a.scenario, e), file=sys.stderr)
        return 1
    print("golden_replay %s: ok" % a.scenario)
    return 0


if __name__ == "__main__":
    sys.exit(main())

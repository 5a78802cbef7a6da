#!/usr/bin/python3
#
# Copyright (c) 2026 The remotedapid authors
#
# Permission to use, copy, modify, and distribute this software for any
# purpose with or without fee is hereby granted, provided that the above
# copyright notice and this permission notice appear in all copies.
#
# THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
# WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
# MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
# ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
# WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
# ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
# OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
#
"""rawpeer.py: raw protocol work against remotedapid on 127.0.0.1.

Standard library only; run with /usr/bin/python3.  As a module it builds
requests and WebSocket frames byte by byte, sends them whole or in
pieces, and reads answers and frames.  As a program:

  rawpeer.py [-P PORT] [-s KEY | -S FILE] [-c KEY | -C FILE] COMMAND ...

  answer NAME            print the exact answer NAME (see ANSWERS)
  send [-x NAME] [-D NAME=VALUE] HEAD
                         send HEAD (escapes: \\r \\n \\t \\0 \\\\ \\xNN;
                         {NAME} {skey} {ckey} {port} {fill:N} replaced), read
                         the answer until close, check it byte for byte
  limit -x NAME KIND SIZE PATH
                         a WebSocket registration whose request line,
                         one header line, whole head or header count
                         (KIND line, header, head, count) is SIZE
  agent PATH             register PATH, print pings and notifications,
                         optionally dial back each client (--dial)
  client PATH            a raw WebRoute client that waits, may send
                         bytes early, and saves what the server sends
  badframes PATH NAME:CODE ...
                         for each bad frame NAME (see bad_frames()), a
                         fresh agent sends it; the relay must close
                         with CODE and then close TCP
  sequence PATH          a fixed dialogue of frames and clients, sent
                         whole or sliced (-p 1-7); prints what the
                         relay sent back, for comparing runs

A PATH takes the escapes of HEAD, so any byte can be in one.  The port
defaults to $RD_PORT, the keys to ./server.secret and
./client.secret (as lib.sh's rd_setup writes them).  Every wait is
bounded; a failed check prints what was expected and what was seen, and
the program exits 1.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time

HOST = "127.0.0.1"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WR_GUID = "BE7204BD-47E6-49EE-9B0D-016E370644B2"
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="      # RFC 6455's example key

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

ERR_TEXT_400 = "Invalid request.  Expected WebSocket or WebRoute upgrade."

# The relay's answers, as libremoted/http.c writes them: status, reason,
# errorcode, error text, further header lines.
ANSWERS = {
    "bad_request": (400, "Bad Request", "bad_request", ERR_TEXT_400, ""),
    "invalid_request": (400, "Bad Request", "invalid_request",
                        ERR_TEXT_400, ""),
    "invalid_missing_apikey": (403, "Forbidden", "invalid_missing_apikey",
                               "Invalid or missing 'X-Remoted-APIKey' "
                               "header.", ""),
    "method_not_allowed": (405, "Method Not Allowed", "method_not_allowed",
                           "Method not allowed.", "Allow: GET\r\n"),
    "request_timeout": (408, "Request Timeout", "request_timeout",
                        "Request head not received in time.", ""),
    "path_in_use": (409, "Conflict", "path_in_use",
                    "Another server is registered on this path.", ""),
    "uri_too_long": (414, "URI Too Long", "uri_too_long",
                     "Request line too long.", ""),
    "ws_version": (426, "Upgrade Required", "unsupported_version",
                   "Unsupported protocol version.",
                   "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"),
    "wr_version": (426, "Upgrade Required", "unsupported_version",
                   "Unsupported protocol version.",
                   "Upgrade: webroute\r\nWebRoute-Version: 1\r\n"),
    "headers_too_large": (431, "Request Header Fields Too Large",
                          "headers_too_large",
                          "Request header fields too large.", ""),
    "missing_destination": (502, "Bad Gateway", "missing_destination",
                            "Requested destination does not exist at "
                            "this time.", ""),
    "gateway_timeout": (504, "Gateway Timeout", "gateway_timeout",
                        "The server did not answer in time.",
                        "WebRoute-Version: 1\r\n"),
}


class Failed(Exception):
    """A check that did not hold; its text says expected and seen."""


# --- expected bytes ---------------------------------------------------

def answer_bytes(name):
    """The complete error answer NAME, byte for byte."""
    status, reason, code, text, extra = ANSWERS[name]
    body = ('{"success":false,"error":"%s","errorcode":"%s"}'
            % (text, code)).encode()
    head = ("HTTP/1.1 %d %s\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: %d\r\n"
            "Cache-Control: no-cache, no-store\r\n"
            "Connection: close\r\n"
            "%s\r\n" % (status, reason, len(body), extra)).encode()
    return head + body


def sha1_b64(text):
    """base64(sha1(text)), the accept formula of both upgrades."""
    return base64.b64encode(hashlib.sha1(text.encode()).digest()).decode()


def ws_accept(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455)."""
    return sha1_b64(key + WS_GUID)


def wr_accept(wrid):
    """Sec-WebRoute-Accept for a WebRoute-ID."""
    return sha1_b64(wrid + WR_GUID)


def ws101(key):
    """The relay's exact 101 to a WebSocket registration."""
    return ("HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: %s\r\n\r\n" % ws_accept(key)).encode()


def wr101(wrid):
    """The relay's exact 101 to both sides of a linked WebRoute."""
    return ("HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: webroute\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebRoute-Accept: %s\r\n\r\n" % wr_accept(wrid)).encode()


def expected(name):
    """Expected bytes for -x NAME: an answer, ws101[:KEY] or wr101:ID."""
    if name == "ws101":
        return ws101(WS_KEY)
    if name.startswith("ws101:"):
        return ws101(name[6:])
    if name.startswith("wr101:"):
        return wr101(name[6:])
    if name not in ANSWERS:
        raise SystemExit("rawpeer: unknown answer %r" % name)
    return answer_bytes(name)


# --- requests -----------------------------------------------------------

def unescape(text):
    """Bytes from a command-line string with \\r \\n \\t \\0 \\\\ \\xNN."""
    out = bytearray()
    i = 0
    simple = {"r": 13, "n": 10, "t": 9, "0": 0, "\\": 92}
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
                continue
            if nxt == "x" and i + 4 <= len(text):
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
        out.extend(ch.encode("utf-8"))
        i += 1
    return bytes(out)


def fill_template(text, keys, port, defs=()):
    """Replace -D NAME=VALUE's {NAME} first, then {skey}, {ckey}, {port}
    and {fill:N} (N times 'a')."""
    for d in defs:
        name, _, value = d.partition("=")
        text = text.replace("{%s}" % name, value)
    text = text.replace("{skey}", keys.get("server", ""))
    text = text.replace("{ckey}", keys.get("client", ""))
    text = text.replace("{port}", str(port))
    return re.sub(r"\{fill:(\d+)\}", lambda m: "a" * int(m.group(1)), text)


def ws_head(path, key, wskey=WS_KEY, extra=()):
    """A WebSocket registration head (no Origin: it is optional)."""
    lines = ["GET %s HTTP/1.1" % path, "Host: %s" % HOST,
             "Connection: Upgrade", "Upgrade: websocket",
             "Sec-WebSocket-Key: %s" % wskey, "Sec-WebSocket-Version: 13"]
    if key is not None:
        lines.append("X-Remoted-APIKey: %s" % key)
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def wr_head(path, key, wrid, extra=(), timeout=None):
    """A WebRoute upgrade head, as the original's clients write it."""
    lines = ["GET %s HTTP/1.1" % path, "Host: %s" % HOST,
             "Connection: keep-alive, Upgrade", "Pragma: no-cache",
             "WebRoute-Version: 1"]
    if wrid is not None:
        lines.append("WebRoute-ID: %s" % wrid)
    if timeout is not None:
        lines.append("WebRoute-Timeout: %d" % timeout)
    lines.append("Upgrade: webroute")
    if key is not None:
        lines.append("X-Remoted-APIKey: %s" % key)
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def sized_head(kind, size, path, key):
    """A WebSocket head whose KIND (line/header/head/count) is SIZE."""
    if kind == "line":
        # GET PATH HTTP/1.1: the path itself is padded
        pad = size - len("GET  HTTP/1.1") - len(path) - 1
        if pad < 0:
            raise SystemExit("rawpeer: line size too small")
        head = ws_head(path + "/" + "a" * pad, key)
    elif kind == "header":
        name = "X-Pad: "
        head = ws_head(path, key, extra=[name + "a" * (size - len(name))])
    elif kind == "head":
        # lines "X-Pad-N: aaa" of at most 4000 bytes with their CRLF,
        # the last one taking what is left
        left = size - len(ws_head(path, key))
        extra = []
        while left > 0:
            take = left if left <= 4000 else min(4000, left - 100)
            name = "X-Pad-%d: " % len(extra)
            extra.append(name + "a" * (take - len(name) - 2))
            left -= take
        head = ws_head(path, key, extra=extra)
    elif kind == "count":
        base = ws_head(path, key).count(b"\r\n") - 2   # header lines
        head = ws_head(path, key, extra=["X-Pad-%d: x" % i
                                         for i in range(size - base)])
    else:
        raise SystemExit("rawpeer: unknown kind %r" % kind)
    measured = head_measure(head)[kind]
    if measured != size:
        raise SystemExit("rawpeer: built %s of %d, wanted %d"
                         % (kind, measured, size))
    return head


def head_measure(head):
    """The sizes the relay limits: line, longest header, head, count."""
    lines = head.split(b"\r\n")[:-2]
    return {"line": len(lines[0]),
            "header": max([len(x) for x in lines[1:]] or [0]),
            "head": len(head), "count": len(lines) - 1}


# --- sockets --------------------------------------------------------------

def connect(port, timeout=5.0, source=None):
    """A TCP connection to the relay on 127.0.0.1:port, no Nagle, from
    the source address given (another loopback address) if any."""
    sock = socket.create_connection((HOST, port), timeout=timeout,
                                    source_address=(source, 0) if source
                                    else None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_pieces(sock, data, pieces=1, delay=0.0, minlen=None, maxlen=None,
                spaced=None):
    """Send data whole, in N pieces, or in random minlen-maxlen pieces;
    delay between pieces (only before the first `spaced' ones if set)."""
    if minlen is not None:
        cuts, pos = [], 0
        while pos < len(data):
            step = random.randint(minlen, maxlen)
            cuts.append(data[pos:pos + step])
            pos += step
    else:
        size = max(1, -(-len(data) // max(1, pieces)))
        cuts = [data[i:i + size] for i in range(0, len(data), size)]
    for i, piece in enumerate(cuts):
        if i > 0 and delay > 0 and (spaced is None or i < spaced):
            time.sleep(delay)
        sock.sendall(piece)


def read_until_close(sock, timeout=5.0):
    """All bytes until the peer closes: (data, 'eof'|'reset'|'timeout')."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), "timeout"
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return bytes(data), "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return bytes(data), "reset"
        if not chunk:
            return bytes(data), "eof"
        data.extend(chunk)


def read_head(sock, timeout=5.0, buf=b""):
    """A response head up to its blank line: (head, rest, how)."""
    data = bytearray(buf)
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), b"", "timeout"
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return bytes(data), b"", "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return bytes(data), b"", "reset"
        if not chunk:
            return bytes(data), b"", "eof"
        data.extend(chunk)
    end = data.index(b"\r\n\r\n") + 4
    return bytes(data[:end]), bytes(data[end:]), "head"


def parse_response(data):
    """(status, reason, [(name, value)], body) of an HTTP response."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name, value.strip()))
    return status, reason, headers, body


def status_line(data):
    """The first line of a response, printable."""
    return data.split(b"\r\n", 1)[0].decode("latin-1", "replace")


def check_bytes(what, want, seen):
    """Raise Failed unless seen == want, showing both."""
    if seen != want:
        raise Failed("%s: expected %r, seen %r" % (what, want, seen))


# --- WebSocket frames -------------------------------------------------------

def frame(opcode, payload=b"", fin=True, mask=True, rsv=0, length=None,
          key=None):
    """One raw frame; length overrides the announced length."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    first = (0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 0x0F)
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr = struct.pack("!BB", first, mbit | n)
    elif n <= 0xFFFF:
        hdr = struct.pack("!BBH", first, mbit | 126, n)
    else:
        hdr = struct.pack("!BBQ", first, mbit | 127, n)
    if not mask:
        return hdr + payload
    key = key or os.urandom(4)
    body = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
    return hdr + key + body


def close_payload(code, reason=b""):
    """The payload of a close frame: code (network order) and reason."""
    return struct.pack("!H", code) + reason


class FrameReader:
    """Frames the relay sends (unmasked), from a socket and a buffer."""

    def __init__(self, sock, buf=b""):
        """Read from sock, starting with the bytes already in buf."""
        self.sock = sock
        self.buf = bytearray(buf)
        self.how = None         # 'eof', 'reset' once the socket ended

    def _fill(self, deadline):
        """Read more bytes; False once the deadline or the end came."""
        if self.how is not None:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.how = "reset"
            return False
        if not chunk:
            self.how = "eof"
            return False
        self.buf.extend(chunk)
        return True

    def _parse(self):
        """One whole frame from the buffer: (opcode, fin, payload)."""
        b = self.buf
        if len(b) < 2:
            return None
        n, pos = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, pos = struct.unpack("!H", bytes(b[2:4]))[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, pos = struct.unpack("!Q", bytes(b[2:10]))[0], 10
        if b[1] & 0x80:
            raise Failed("the relay sent a masked frame")
        if len(b) < pos + n:
            return None
        fr = (b[0] & 0x0F, bool(b[0] & 0x80), bytes(b[pos:pos + n]))
        del b[:pos + n]
        return fr

    def next(self, timeout=5.0):
        """The next frame, or None at the deadline or the end."""
        deadline = time.monotonic() + timeout
        while True:
            fr = self._parse()
            if fr is not None:
                return fr
            if not self._fill(deadline):
                return None

    def wait_end(self, timeout=3.0):
        """Wait for the TCP end: 'eof', 'reset' or 'timeout'."""
        deadline = time.monotonic() + timeout
        while self.how is None:
            if not self._fill(deadline) and self.how is None:
                return "timeout"
        return self.how


def close_code(payload):
    """The code of a close frame's payload, or None if it has none."""
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


# --- roles ----------------------------------------------------------------

def register(port, path, key, wskey=WS_KEY, timeout=5.0, first=b"",
             pieces=None, delay=0.001):
    """Register PATH as an agent: (sock, FrameReader); Failed unless 101.
    The bytes `first' go right behind the head, both cut in random
    pieces of pieces=(min, max) bytes if given."""
    sock = connect(port, timeout)
    if pieces is None:
        sock.sendall(ws_head(path, key, wskey) + first)
    else:
        send_pieces(sock, ws_head(path, key, wskey) + first,
                    minlen=pieces[0], maxlen=pieces[1], delay=delay)
    head, rest, how = read_head(sock, timeout)
    if head != ws101(wskey):
        more, _ = read_until_close(sock, 1.0) if how == "head" else (b"", 0)
        sock.close()
        raise Failed("register %s: expected %r, seen %r (%s)"
                     % (path, ws101(wskey), head + rest + more, how))
    return sock, FrameReader(sock, rest)


def dial_back(port, path, key, wrid, timeout=5.0):
    """A server's WebRoute dial-back: (sock, head, rest, how)."""
    sock = connect(port, timeout)
    sock.sendall(wr_head(path, key, wrid))
    head, rest, how = read_head(sock, timeout)
    return sock, head, rest, how


def load_keys(args):
    """The server and client keys from the options or the secret files."""
    keys = {}
    for role, val, path in (("server", args.skey, args.skeyfile),
                            ("client", args.ckey, args.ckeyfile)):
        if val is not None:
            keys[role] = val
        elif os.path.exists(path):
            with open(path) as f:
                keys[role] = f.read().strip()
    return keys


class Out:
    """Line output shared by threads, flushed at once, with timestamps."""

    def __init__(self):
        """Start the clock now."""
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def say(self, *words):
        """Print one line."""
        with self.lock:
            print(" ".join(str(w) for w in words), flush=True)

    def now(self):
        """Seconds since start, two decimals."""
        return "%.2f" % (time.monotonic() - self.t0)


# --- commands ---------------------------------------------------------------

def cmd_answer(args, keys):
    """Print the exact bytes of an answer."""
    sys.stdout.buffer.write(expected(args.name))
    return 0


def send_quietly(sock, data, pieces, delay):
    """send_pieces, ignoring a peer that stopped listening."""
    try:
        send_pieces(sock, data, pieces, delay)
    except OSError:
        pass


def exchange(port, data, want, args):
    """Send data (pieces go from a thread), read the answer meanwhile;
    returns (answer, how, seconds from connect to the answer's end)."""
    t0 = time.monotonic()
    sock = connect(port, args.timeout)
    sender = threading.Thread(target=send_quietly,
                              args=(sock, data, args.pieces, args.delay),
                              daemon=True)
    sender.start()
    if args.pieces <= 1:
        sender.join()
    if want is not None and want.startswith(b"HTTP/1.1 101 "):
        seen, rest, how = read_head(sock, args.timeout)
        seen += rest
    else:
        seen, how = read_until_close(sock, args.timeout)
    elapsed = time.monotonic() - t0
    sock.close()
    return seen, how, elapsed


def report_exchange(args, seen, how, elapsed):
    """Print and check one exchange; 0 when it went as expected."""
    print("status:", status_line(seen) if seen else "(nothing)")
    print("end:", how)
    print("elapsed: %.3f" % elapsed)
    if args.verbose:
        print("answer:", repr(seen))
    try:
        if args.expect is not None:
            want = expected(args.expect)
            check_bytes("answer", want, seen)
            if not want.startswith(b"HTTP/1.1 101 ") and how != "eof":
                raise Failed("expected the relay to close after the "
                             "answer, seen %s" % how)
        if args.empty:
            check_bytes("answer", b"", seen)
            if how not in ("eof", "reset"):
                raise Failed("expected a close without bytes, seen %s"
                             % how)
        if args.min_time is not None and elapsed < args.min_time:
            raise Failed("expected the answer after %.2f s or later, seen "
                         "%.3f s" % (args.min_time, elapsed))
        if args.max_time is not None and elapsed > args.max_time:
            raise Failed("expected the answer within %.2f s, seen %.3f s"
                         % (args.max_time, elapsed))
    except Failed as e:
        print("rawpeer: %s" % e, file=sys.stderr)
        return 1
    return 0


def cmd_send(args, keys):
    """Send a raw head (a template) and check the answer."""
    data = unescape(fill_template(args.head, keys, args.port, args.define))
    if args.body is not None:
        data += unescape(args.body)
    want = expected(args.expect) if args.expect else None
    seen, how, elapsed = exchange(args.port, data, want, args)
    return report_exchange(args, seen, how, elapsed)


def cmd_limit(args, keys):
    """A registration sized at a limit, and its check."""
    key = keys.get("server") if args.key is None else args.key
    data = sized_head(args.kind, args.size, args.path, key)
    sizes = head_measure(data)
    print("sent: line %(line)d, longest header %(header)d, head %(head)d, "
          "%(count)d header lines" % sizes)
    want = expected(args.expect) if args.expect else None
    seen, how, elapsed = exchange(args.port, data, want, args)
    return report_exchange(args, seen, how, elapsed)


def agent_tunnel(out, args, keys, n, wrid):
    """Dial back for one notification; save what arrives; send a file."""
    if args.dial_delay > 0:
        time.sleep(args.dial_delay)
    sock, head, rest, how = dial_back(args.port, args.path,
                                      keys.get("server"), wrid)
    ok = "accept-ok" if head == wr101(wrid) else "accept-bad"
    out.say("linked", n, wrid, status_line(head) if head else how, ok)
    if ok != "accept-ok":
        out.say("dial-back answer", repr(head + rest))
        sock.close()
        return
    if args.send is not None:
        with open(args.send, "rb") as f:
            sock.sendall(f.read())
        sock.shutdown(socket.SHUT_WR)
    data, how = read_until_close(sock, args.timeout)
    data = rest + data
    if args.recv is not None:
        with open("%s.%d" % (args.recv, n), "wb") as f:
            f.write(data)
    out.say("tunnel", n, "got", len(data), "end", how)
    sock.close()


def cmd_agent(args, keys):
    """Register a path; print pings, notifications and the end."""
    out = Out()
    try:
        sock, rd = register(args.port, args.path, keys.get("server"))
    except Failed as e:
        out.say("refused", e)
        return 1
    out.say("ready")
    threads, n = [], 0
    lifetime = time.monotonic() + args.timeout
    close_at = None if args.close_after is None else \
        time.monotonic() + args.close_after
    while time.monotonic() < lifetime:
        if close_at is not None and time.monotonic() >= close_at:
            if args.abrupt:
                out.say("abort", out.now())
                sock.close()
                return 0
            sock.sendall(frame(OP_CLOSE, b"" if args.close_code < 0 else
                               close_payload(args.close_code)))
            out.say("sent-close", args.close_code, out.now())
            close_at = None
        wait = 0.2 if close_at is None else min(0.2, close_at -
                                                 time.monotonic())
        fr = rd.next(max(0.01, wait))
        if fr is None:
            if rd.how is not None:
                out.say(rd.how, out.now())
                break
            continue
        op, fin, payload = fr
        if op == OP_PING:
            out.say("ping", out.now(), payload.decode("latin-1"))
            if not args.no_pong:
                sock.sendall(frame(OP_PONG, payload))
        elif op == OP_TEXT:
            out.say("notify", payload.decode("utf-8", "replace"))
            if args.dial:
                wrid = json.loads(payload)["id"]
                t = threading.Thread(target=agent_tunnel,
                                     args=(out, args, keys, n, wrid))
                t.start()
                threads.append(t)
            n += 1
            if args.count and n >= args.count:
                break
        elif op == OP_CLOSE:
            out.say("close", close_code(payload), out.now())
            out.say(rd.wait_end(3.0), out.now())
            break
        else:
            out.say("frame", op, repr(payload))
    for t in threads:
        t.join(args.timeout)
    sock.close()
    return 0


def client_send_file(sock, path, rate):
    """Send a file, paced at rate bytes per second when rate is set."""
    with open(path, "rb") as f:
        data = f.read()
    step = 16384
    t0 = time.monotonic()
    for i in range(0, len(data), step):
        sock.sendall(data[i:i + step])
        if rate:
            ahead = (i + step) / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)


def cmd_client(args, keys):
    """A raw WebRoute client: wait, send early bytes, link, save bytes."""
    key = keys.get("server" if args.server_key else "client")
    if args.key is not None:
        key = args.key
    wrid = args.id
    head = wr_head(args.path, key, wrid, args.header, args.wr_timeout)
    t0 = time.monotonic()
    sock = connect(args.port, 5.0, args.source)
    print("local %s:%d" % sock.getsockname()[:2], flush=True)
    early = unescape(args.early or "")
    if args.early_file is not None:
        with open(args.early_file, "rb") as f:
            early += f.read()
    sock.sendall(head + early)
    if args.later is not None:
        time.sleep(args.wait)
        sock.sendall(unescape(args.later))
        print("sent-later", flush=True)
    if args.shut_early:
        sock.shutdown(socket.SHUT_WR)
    got, rest, how = read_head(sock, args.timeout)
    elapsed = time.monotonic() - t0
    want = expected(args.expect or "wr101:%s" % wrid)
    if not want.startswith(b"HTTP/1.1 101 "):
        more, how = read_until_close(sock, 3.0) if how == "head" else \
            (b"", how)
        got, rest = got + rest + more, b""
    print("status:", status_line(got) if got else "(nothing) " + how)
    print("elapsed: %.3f" % elapsed, flush=True)
    try:
        check_bytes("answer", want, got)
        if not want.startswith(b"HTTP/1.1 101 ") and how != "eof":
            raise Failed("expected a close after the answer, seen %s"
                         % how)
        if args.min_time is not None and elapsed < args.min_time:
            raise Failed("expected the answer after %.2f s or later, seen "
                         "%.3f s" % (args.min_time, elapsed))
        if args.max_time is not None and elapsed > args.max_time:
            raise Failed("expected the answer within %.2f s, seen %.3f s"
                         % (args.max_time, elapsed))
    except Failed as e:
        print("rawpeer: %s" % e, file=sys.stderr, flush=True)
        sock.close()
        return 1
    if not want.startswith(b"HTTP/1.1 101 "):
        sock.close()
        return 0
    print("linked", flush=True)
    if args.send is not None:
        client_send_file(sock, args.send, args.rate)
        sock.shutdown(socket.SHUT_WR)
    elif args.shut:
        sock.shutdown(socket.SHUT_WR)
    data, how = read_until_close(sock, args.timeout)
    if args.recv is not None:
        with open(args.recv, "wb") as f:
            f.write(rest + data)
    print("got", len(rest + data), "end", how, flush=True)
    sock.close()
    return 0 if how == "eof" else 1


def bad_frames(maxmsg):
    """The bad frames of row 8 by name: the bytes an agent sends."""
    big, half = maxmsg + 1, maxmsg // 2 + 1
    t = {
        "unmasked": frame(OP_TEXT, "hi", mask=False),
        "unmasked-ping": frame(OP_PING, "hi", mask=False),
        "rsv1": frame(OP_TEXT, "hi", rsv=4),
        "rsv2": frame(OP_BINARY, "hi", rsv=2),
        "rsv3": frame(OP_PING, "hi", rsv=1),
        "fragmented-ping": frame(OP_PING, "x", fin=False),
        "fragmented-close": frame(OP_CLOSE, close_payload(1000), fin=False),
        "fragmented-pong": frame(OP_PONG, "x", fin=False),
        "ping-126": frame(OP_PING, b"p" * 126),
        "close-126": frame(OP_CLOSE, close_payload(1000, b"r" * 124)),
        "len64-msb": struct.pack("!BBQ", 0x82, 0xFF, 1 << 63) +
        b"\x01\x02\x03\x04",
        "len64-msb-text": struct.pack("!BBQ", 0x81, 0xFF,
                                      0x8000000000000005) + b"\0\0\0\0",
        "close-1-byte": frame(OP_CLOSE, b"\x03"),
        "continuation-alone": frame(OP_CONT, "x"),
        "text-inside-fragmented": frame(OP_TEXT, "a", fin=False) +
        frame(OP_TEXT, "b"),
        "binary-inside-fragmented": frame(OP_BINARY, "a", fin=False) +
        frame(OP_TEXT, "b"),
        "text-bad-utf8": frame(OP_TEXT, b"ok\xff"),
        "text-overlong": frame(OP_TEXT, b"\xc0\xaf"),
        "text-surrogate": frame(OP_TEXT, b"\xed\xa0\x80"),
        "text-above-10ffff": frame(OP_TEXT, b"\xf4\x90\x80\x80"),
        "text-truncated": frame(OP_TEXT, b"a\xe2\x82"),
        "text-fragments-bad": frame(OP_TEXT, b"a\xe2", fin=False) +
        frame(OP_CONT, b"\x82", fin=False) + frame(OP_CONT, b"(b"),
        "text-fragments-truncated": frame(OP_TEXT, b"a", fin=False) +
        frame(OP_CONT, b"\xe2\x82"),
        "close-reason-bad-utf8": frame(OP_CLOSE, close_payload(1000,
                                                               b"\xff")),
        "too-big": frame(OP_BINARY, b"", length=big)[:2 + 2 + 4],
        "too-big-text": frame(OP_TEXT, b"", length=big)[:2 + 2 + 4],
        "too-big-64": frame(OP_BINARY, b"", length=1 << 40)[:2 + 8 + 4],
        "too-big-fragmented": frame(OP_BINARY, b"b" * half, fin=False) +
        frame(OP_CONT, b"", length=half)[:2 + 2 + 4],
    }
    for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF):
        t["opcode-%X" % op] = frame(op, "x")
    for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000,
                 65535):
        t["close-code-%d" % code] = frame(OP_CLOSE, close_payload(code))
    return t


def relay_close(rd, timeout=3.0):
    """The relay's close code (skipping its pings) and how TCP ended."""
    deadline = time.monotonic() + timeout
    while True:
        fr = rd.next(max(0.01, deadline - time.monotonic()))
        if fr is None:
            return None, rd.how or "timeout"
        op, fin, payload = fr
        if op == OP_CLOSE:
            return close_code(payload), rd.wait_end(3.0)
        if op not in (OP_PING, OP_PONG):
            return "frame %d %r" % (op, payload), rd.how or "open"


def cmd_badframes(args, keys):
    """Each named bad frame on a fresh agent: close code, then TCP end."""
    table = bad_frames(args.max_message)
    failed = 0
    for case in args.cases:
        name, _, code = case.partition(":")
        if name not in table:
            raise SystemExit("rawpeer: no bad frame %r" % name)
        path = "%s%s" % (args.path, name)
        try:
            sock, rd = register(args.port, path, keys.get("server"))
        except Failed as e:
            print("%s: %s" % (name, e), flush=True)
            failed += 1
            continue
        try:
            sock.sendall(table[name])
        except (ConnectionResetError, BrokenPipeError):
            pass
        seen, end = relay_close(rd)
        good = str(seen) == code and end == "eof"
        print("%s: close %s then %s%s" % (name, seen, end, "" if good else
              " (expected close %s then eof)" % code), flush=True)
        failed += not good
        sock.close()
    return 1 if failed else 0


def sequence_steps(maxmsg):
    """The dialogue of row 9: frames (coalesced per step) and clients."""
    frag = (frame(OP_TEXT, "frag", fin=False) + frame(OP_PING, "p2") +
            frame(OP_CONT, "men", fin=False) + frame(OP_CONT, "t\u00e9"))
    many = b"".join(frame(OP_PING, "m%d" % i) for i in range(10))
    return [
        ("frames", frame(OP_PING, "p1")),
        ("frames", frame(OP_TEXT, "hello") + frame(OP_BINARY, b"\0\1\2")),
        ("client", "seq-client-1"),
        ("frames", frag),
        ("frames", frame(OP_BINARY, os.urandom(300)) +
         frame(OP_PONG, "unasked")),
        ("frames", many),
        ("client", "seq-client-2"),
        ("frames", frame(OP_PING, b"x" * 125) +
         frame(OP_BINARY, b"y" * 70000 if maxmsg >= 70000 else b"y" * 200)),
        ("frames", frame(OP_TEXT, "\u2603 snow", fin=False) +
         frame(OP_CONT, b"", fin=True)),
        ("client", "seq-client-3"),
        ("frames", frame(OP_CLOSE, close_payload(1000, b"bye"))),
    ]


def seq_record(op, payload, ports):
    """One received frame as a line, the clients' ports made constant."""
    if op == OP_TEXT:
        text = payload.decode("utf-8", "replace")
        for port in ports:
            text = text.replace("127.0.0.1:%d\"" % port,
                                "127.0.0.1:PORT\"")
        return "text %s" % text
    if op == OP_CLOSE:
        return "close %s %r" % (close_code(payload), payload[2:])
    return "op %d %s" % (op, payload.hex())


def cmd_sequence(args, keys):
    """Run the dialogue; print every frame the relay sent but pings.
    The first frames travel with the registration's head."""
    lo, hi = (int(x) for x in args.pieces.split("-")) if args.pieces \
        else (None, None)
    steps = sequence_steps(args.max_message)
    try:
        sock, rd = register(args.port, args.path, keys.get("server"),
                            first=steps[0][1],
                            pieces=None if lo is None else (lo, hi),
                            delay=args.delay)
    except Failed as e:
        print("rawpeer: %s" % e, file=sys.stderr)
        return 1
    clients, ports, log = [], [], []

    def collect(until, timeout=5.0):
        """Record frames until one satisfies until(op, payload)."""
        deadline = time.monotonic() + timeout
        while True:
            fr = rd.next(max(0.01, deadline - time.monotonic()))
            if fr is None:
                raise Failed("sequence: waited in vain (%s) after %r"
                             % (rd.how or "timeout", log[-3:]))
            op, _, payload = fr
            if op == OP_PING:
                continue        # the relay's keepalive: time-dependent
            log.append(seq_record(op, payload, ports))
            if until(op, payload):
                return

    try:
        for i, (kind, what) in enumerate(steps):
            if i == 0:
                # sent with the head: its answer comes first
                collect(lambda op, p: op == OP_PONG)
                continue
            if kind == "client":
                c = connect(args.port)
                ports.append(c.getsockname()[1])
                c.sendall(wr_head(args.path, keys.get("client"), what))
                clients.append(c)
                collect(lambda op, p: op == OP_TEXT)
                continue
            if lo is None:
                sock.sendall(what)
            else:
                # a long payload goes back to back after the first
                # pieces: its header and first bytes are split anyway
                send_pieces(sock, what, minlen=lo, maxlen=hi,
                            delay=args.delay, spaced=400)
            if what[0] & 0x0F == OP_CLOSE:
                collect(lambda op, p: op == OP_CLOSE)
                log.append("end %s" % rd.wait_end(3.0))
            else:
                sync = ("sync%d" % i).encode()
                sock.sendall(frame(OP_PING, sync))
                collect(lambda op, p, s=sync: op == OP_PONG and p == s)
    except Failed as e:
        print("rawpeer: %s" % e, file=sys.stderr)
        return 1
    finally:
        for c in clients:
            c.close()
        sock.close()
    for line in log:
        print(line)
    return 0


def build_parser():
    """The command line."""
    p = argparse.ArgumentParser(prog="rawpeer.py",
                                description="raw protocol peer")
    p.add_argument("-P", "--port", type=int,
                   default=int(os.environ.get("RD_PORT", "0") or 0))
    p.add_argument("-s", dest="skey", help="server key")
    p.add_argument("-S", dest="skeyfile", default="server.secret")
    p.add_argument("-c", dest="ckey", help="client key")
    p.add_argument("-C", dest="ckeyfile", default="client.secret")
    sub = p.add_subparsers(dest="cmd", required=True)

    a = sub.add_parser("answer", help="print an expected answer")
    a.add_argument("name")
    a.set_defaults(fn=cmd_answer)

    def exchange_opts(q):
        """Options of commands that send one head and check its answer."""
        q.add_argument("-x", "--expect", help="answer name, ws101[:KEY], "
                       "wr101:ID")
        q.add_argument("-E", "--empty", action="store_true",
                       help="expect a close (FIN or RST) without a byte")
        q.add_argument("-n", "--pieces", type=int, default=1)
        q.add_argument("-d", "--delay", type=float, default=0.0)
        q.add_argument("-t", "--timeout", type=float, default=5.0)
        q.add_argument("--min-time", type=float)
        q.add_argument("--max-time", type=float)
        q.add_argument("-v", "--verbose", action="store_true")

    s = sub.add_parser("send", help="send a raw head, check the answer")
    exchange_opts(s)
    s.add_argument("-b", "--body", help="bytes after the head")
    s.add_argument("-D", "--define", action="append", default=[],
                   metavar="NAME=VALUE", help="replace {NAME} in HEAD")
    s.add_argument("head")
    s.set_defaults(fn=cmd_send)

    m = sub.add_parser("limit", help="a registration sized at a limit")
    exchange_opts(m)
    m.add_argument("-k", "--key", help="key to present (default server)")
    m.add_argument("kind", choices=["line", "header", "head", "count"])
    m.add_argument("size", type=int)
    m.add_argument("path")
    m.set_defaults(fn=cmd_limit)

    g = sub.add_parser("agent", help="register, print notifications")
    g.add_argument("--no-pong", action="store_true")
    g.add_argument("--dial", action="store_true")
    g.add_argument("--dial-delay", type=float, default=0.0)
    g.add_argument("-r", "--recv", help="save tunnel N to RECV.N")
    g.add_argument("--send", help="send this file into each tunnel")
    g.add_argument("-n", "--count", type=int, default=0)
    g.add_argument("-t", "--timeout", type=float, default=30.0)
    g.add_argument("--close-after", type=float)
    g.add_argument("--close-code", type=int, default=1000,
                   help="the code of --close-after; -1: no payload")
    g.add_argument("--abrupt", action="store_true",
                   help="at --close-after, close TCP without a frame")
    g.add_argument("path")
    g.set_defaults(fn=cmd_agent)

    c = sub.add_parser("client", help="a raw WebRoute client")
    c.add_argument("-i", "--id", default="rawpeer-" + os.urandom(8).hex())
    c.add_argument("-k", "--key", help="key to present (default client)")
    c.add_argument("--server-key", action="store_true")
    c.add_argument("--source", help="connect from this loopback address")
    c.add_argument("-H", "--header", action="append", default=[])
    c.add_argument("-e", "--early", help="bytes in the head's packet")
    c.add_argument("-E", "--early-file", help="then this file's bytes")
    c.add_argument("-l", "--later", help="bytes sent while waiting")
    c.add_argument("-w", "--wait", type=float, default=0.3)
    c.add_argument("-x", "--expect")
    c.add_argument("--wr-timeout", type=int)
    c.add_argument("--send", help="file to send once linked")
    c.add_argument("--rate", type=int, default=0)
    c.add_argument("--shut", action="store_true",
                   help="shut the write half once linked")
    c.add_argument("--shut-early", action="store_true",
                   help="shut the write half while still waiting")
    c.add_argument("-r", "--recv", help="save what comes after the 101")
    c.add_argument("-t", "--timeout", type=float, default=10.0)
    c.add_argument("--min-time", type=float)
    c.add_argument("--max-time", type=float)
    c.add_argument("path")
    c.set_defaults(fn=cmd_client)

    b = sub.add_parser("badframes", help="bad agent frames, close codes")
    b.add_argument("-m", "--max-message", type=int, default=65536)
    b.add_argument("path")
    b.add_argument("cases", nargs="+", metavar="NAME:CODE")
    b.set_defaults(fn=cmd_badframes)

    q = sub.add_parser("sequence", help="the row 9 dialogue")
    q.add_argument("-p", "--pieces", help="MIN-MAX bytes per piece")
    q.add_argument("-d", "--delay", type=float, default=0.001)
    q.add_argument("-m", "--max-message", type=int, default=65536)
    q.add_argument("path")
    q.set_defaults(fn=cmd_sequence)
    return p


def main():
    """Parse the command line and run one command."""
    args = build_parser().parse_args()
    if getattr(args, "path", None) is not None:
        # paths take the escapes of HEAD too, so any byte can be in one
        args.path = unescape(args.path).decode("latin-1")
    keys = load_keys(args)
    try:
        return args.fn(args, keys)
    except Failed as e:
        print("rawpeer: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("rawpeer: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

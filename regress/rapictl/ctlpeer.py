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
"""ctlpeer.py: the peers of the rapictl tests.  Standard library only;
run with /usr/bin/python3.

  ctlpeer.py client [options] PATH
        a WebRoute client that stays linked as long as the test wants:
        it sends a file (paced with --rate), saves what comes back, and
        after sending waits for the file --hold to appear before it
        shuts its write half.  It prints "local ADDR", "linked",
        "sent N", "received N" (with --expect-bytes), "input-ended HOW
        N" when the peer's bytes end, and at the end "got N end
        eof|reset|timeout"; exit 0 only if all was sent and the tunnel
        ended with an EOF.
  ctlpeer.py ctl SOCKET CASE
        one record of CASE (see CASES) on a fresh control connection;
        prints "error: TEXT", "closed" or "answer: TYPE ..."; exit 0 for
        an error or a close, 1 when the daemon said nothing in 5 s.
  ctlpeer.py hold SOCKET N DONEFILE
        N idle control connections until DONEFILE appears; prints
        "open N" then "closed-by-daemon K of N".

A control record is the msg layer's: a 16-byte header {u32 type, u16
len, u16 flags, u32 peerid, u32 pid}, little-endian, then the payload;
a request (type 256) is struct ctl_request, whose first field is the
control version.  ctlpeer.py learns the daemon's version from the error
that a request of version 0xffffffff gets, so that it follows the
daemon's CTL_VERSION; `ctlpeer.py version SOCKET' prints it.
"""

import argparse
import array
import os
import re
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
    __file__)), "..", "lib"))
import rawpeer  # noqa: E402

VERSION = None          # the daemon's, learned by daemon_version()
CTL_REQUEST, CTL_OK, CTL_ERROR, CTL_END = 256, 264, 265, 266
CTL_SHOW_STATUS, CTL_SHOW_ROUTES, CTL_KEY_ROTATE = 1, 2, 6
NAME_MAX, PATH_MAX, PATTERNS_MAX, PATTERN_MAX = 64, 8192, 16, 256
HDR = struct.Struct("<IHHII")
TYPES = {256: "request", 257: "status", 258: "child", 259: "route",
         260: "tunnel", 261: "key", 262: "secret", 263: "event",
         264: "ok", 265: "error", 266: "end"}


def request(version=None, cmd=CTL_SHOW_ROUTES, role=0, kill=0,
            grace=-1, tid=0, npatterns=0, name=b"", path=b"",
            patterns=()):
    """struct ctl_request, every field settable (version: the daemon's
    unless given)."""
    p = struct.pack("<IIIIqII", VERSION if version is None else version,
                    cmd, role, kill, grace, tid, npatterns)
    p += name.ljust(NAME_MAX, b"\0") + path.ljust(PATH_MAX, b"\0")
    pats = b"".join(x.ljust(PATTERN_MAX, b"\0") for x in patterns)
    p += pats.ljust(PATTERNS_MAX * PATTERN_MAX, b"\0")
    return p


def record(payload, typ=CTL_REQUEST, flags=0, length=None):
    """A header and its payload; length overrides the header's len."""
    n = len(payload) if length is None else length
    return HDR.pack(typ, n & 0xFFFF, flags, 0, os.getpid()) + payload


def unterminated(which):
    """A request whose string `which' fills its field without a NUL."""
    r = bytearray(request())
    off = {"name": 32, "path": 32 + NAME_MAX,
           "pattern": 32 + NAME_MAX + PATH_MAX}[which]
    size = {"name": NAME_MAX, "path": PATH_MAX,
            "pattern": PATTERN_MAX}[which]
    r[off:off + size] = b"/" + b"a" * (size - 1)
    if which == "pattern":
        r[4:8] = struct.pack("<I", 5)            # key add
        r[28:32] = struct.pack("<I", 1)          # npatterns
        r[32:32 + 4] = b"pat\0"
    return bytes(r)


def send_fd(sock, flags):
    """A request carrying a descriptor (/dev/null)."""
    fd = os.open("/dev/null", os.O_RDONLY)
    try:
        sock.sendmsg([record(request(), flags=flags)],
                     [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                       array.array("i", [fd]))])
    finally:
        os.close(fd)


# Each case: a list of records to send (bytes), or a callable that
# sends on the socket itself.
def cases():
    """Every case, for the daemon's version."""
    return {
        "ok": [record(request())],
        "version": [record(request(version=VERSION + 1))],
        "version-zero": [record(request(version=0))],
        "version-short": [record(struct.pack("<I", 0xdeadbeef))],
        "short-request": [record(struct.pack("<I", VERSION))],
        "empty-request": [record(b"")],
        "garbage-1": [b"\xff"],
        "garbage-15": [os.urandom(15)],
        "garbage-16": [b"\xa5" * 16],
        "garbage-4k": [os.urandom(4096)],
        "zero-4k": [bytes(4096)],
        "length-longer": [record(request()[:100], length=len(request()))],
        "length-shorter": [record(request(), length=100)],
        "truncated": [record(request())[:1000]],
        "oversized": [record(os.urandom(20000 - HDR.size))],
        "oversized-64k": [record(os.urandom(65000), length=65000)],
        "oversized-valid-head": [record(request() + bytes(8000))],
        "wrong-type": [record(request(), typ=257)],
        "type-zero": [record(request(), typ=0)],
        "flags": [record(request(), flags=2)],
        "cmd-zero": [record(request(cmd=0))],
        "cmd-huge": [record(request(cmd=0xffffffff))],
        "role-bad": [record(request(cmd=5, role=7, name=b"x"))],
        "patterns-too-many": [record(request(cmd=5, name=b"x",
                                             npatterns=PATTERNS_MAX + 1))],
        "patterns-huge": [record(request(cmd=5, name=b"x",
                                         npatterns=0xffffffff))],
        "pattern-no-slash": [record(request(cmd=5, name=b"x", npatterns=1,
                                            patterns=[b"nope"]))],
        "pattern-space": [record(request(cmd=5, name=b"x", npatterns=1,
                                         patterns=[b"/a b"]))],
        "name-unterminated": [record(unterminated("name"))],
        "path-unterminated": [record(unterminated("path"))],
        "pattern-unterminated": [record(unterminated("pattern"))],
        "name-bad": [record(request(cmd=5, name=b"../../etc/passwd"))],
        "grace-huge": [record(request(cmd=CTL_KEY_ROTATE, name=b"cli",
                                      grace=1 << 62))],
        "grace-negative": [record(request(cmd=CTL_KEY_ROTATE, name=b"cli",
                                          grace=-5))],
        "two-requests": [record(request()), record(request())],
        "fd-flagged": lambda s: send_fd(s, 1),
        "fd-unflagged": lambda s: send_fd(s, 0),
    }


CASE_NAMES = ("ok version version-zero version-short short-request "
              "empty-request garbage-1 garbage-15 garbage-16 garbage-4k "
              "zero-4k length-longer length-shorter truncated oversized "
              "oversized-64k oversized-valid-head wrong-type type-zero "
              "flags cmd-zero cmd-huge role-bad patterns-too-many "
              "patterns-huge pattern-no-slash pattern-space "
              "name-unterminated path-unterminated pattern-unterminated "
              "name-bad grace-huge grace-negative two-requests fd-flagged "
              "fd-unflagged").split()


def daemon_version(path):
    """The daemon's control version, from its answer to version ~0."""
    s = ctl_connect(path)
    s.send(record(struct.pack("<I", 0xffffffff)))
    for line in ctl_answers(s):
        m = re.search(r"this remotedapid (\d+)", line)
        if m:
            s.close()
            return int(m.group(1))
    s.close()
    raise SystemExit("ctlpeer: the daemon did not say its version")


def ctl_connect(path):
    """A control connection, as rapictl makes it."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    return s


def ctl_answers(s):
    """What the daemon answers until it closes: a list of words."""
    out = []
    while True:
        try:
            d = s.recv(70000)
        except socket.timeout:
            out.append("timeout")
            return out
        except ConnectionResetError:
            out.append("closed")
            return out
        if not d:
            out.append("closed")
            return out
        if len(d) < HDR.size:
            out.append("short-record")
            continue
        typ, n = HDR.unpack(d[:HDR.size])[:2]
        body = d[HDR.size:]
        if typ in (CTL_OK, CTL_ERROR):
            text = body.split(b"\0", 1)[0].decode("utf-8", "replace")
            out.append("%s: %s" % (TYPES[typ], text))
        else:
            out.append("answer: %s %d" % (TYPES.get(typ, typ), n))


def cmd_version(args):
    """Print the daemon's control version."""
    print(daemon_version(args.socket))
    return 0


def cmd_ctl(args):
    """One abuse case; 0 when answered with an error or a close."""
    global VERSION
    VERSION = daemon_version(args.socket)
    case = cases()[args.case]
    s = ctl_connect(args.socket)
    try:
        if callable(case):
            case(s)
        else:
            for rec in case:
                s.send(rec)
    except OSError as e:
        # the daemon may close before everything is sent
        print("send: %s" % e.strerror)
    out = ctl_answers(s)
    s.close()
    for line in out:
        print(line)
    return 1 if "timeout" in out else 0


def cmd_hold(args):
    """N idle control connections until the done file appears."""
    socks = []
    deadline = time.monotonic() + 10
    while len(socks) < args.count and time.monotonic() < deadline:
        try:
            socks.append(ctl_connect(args.socket))
        except (BlockingIOError, socket.timeout):
            time.sleep(0.01)    # the backlog is full: the daemon is busy
    print("open %d" % len(socks), flush=True)
    deadline = time.monotonic() + 120
    while not os.path.exists(args.done) and time.monotonic() < deadline:
        time.sleep(0.1)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(100) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print("closed-by-daemon %d of %d" % (closed, len(socks)), flush=True)
    return 0


def client_reader(sock, rest, state):
    """Save what the tunnel brings until it ends."""
    data = bytearray(rest)
    how = "timeout"
    sock.settimeout(None)
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            how = "reset"
            break
        except OSError:
            how = "error"
            break
        if not chunk:
            how = "eof"
            break
        data.extend(chunk)
        state["n"] = len(data)
    state["data"] = bytes(data)
    state["how"] = how
    print("input-ended %s %d" % (how, len(data)), flush=True)


def cmd_client(args):
    """A WebRoute client held open as long as the test wants."""
    with open(args.key_file) as f:
        key = f.read().strip()
    wrid = "ctlpeer-" + os.urandom(8).hex()
    sock = rawpeer.connect(args.port, 10.0)
    print("local %s:%d" % sock.getsockname()[:2], flush=True)
    path = rawpeer.unescape(args.path).decode("latin-1")
    sock.sendall(rawpeer.wr_head(path, key, wrid,
                                 timeout=args.wr_timeout))
    head, rest, how = rawpeer.read_head(sock, 30.0)
    status = rawpeer.status_line(head) if head else "(nothing) " + how
    print("status:", status, flush=True)
    if head != rawpeer.wr101(wrid):
        sock.close()
        return 3
    print("linked", flush=True)
    state = {"n": len(rest)}
    reader = threading.Thread(target=client_reader,
                              args=(sock, rest, state), daemon=True)
    reader.start()
    sent, ok = 0, True
    t0 = time.monotonic()
    if args.send is not None:
        with open(args.send, "rb") as f:
            data = f.read()
        try:
            for i in range(0, len(data), 16384):
                sock.sendall(data[i:i + 16384])
                sent = min(len(data), i + 16384)
                if args.rate:
                    ahead = sent / args.rate - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
        except OSError as e:
            print("send: %s after %d bytes" % (e.strerror, sent),
                  flush=True)
            ok = False
    print("sent %d" % sent, flush=True)
    if ok and args.expect_bytes is not None:
        deadline = time.monotonic() + 60
        while state["n"] < args.expect_bytes and reader.is_alive() and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        print("received %d" % state["n"], flush=True)
    if ok and args.hold is not None:
        # a server's FIN ends the input, not the tunnel: wait anyway
        deadline = time.monotonic() + 120
        while not os.path.exists(args.hold) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
    if ok:
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            ok = False
    reader.join(120)
    data = state.get("data", b"")
    if args.recv is not None:
        with open(args.recv, "wb") as f:
            f.write(data)
    end = state.get("how", "timeout")
    print("got %d end %s" % (len(data), end), flush=True)
    sock.close()
    return 0 if ok and end == "eof" else 4


def main():
    """Parse the command line and run one command."""
    p = argparse.ArgumentParser(prog="ctlpeer.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("client")
    c.add_argument("-P", "--port", type=int,
                   default=int(os.environ.get("RD_PORT", "0") or 0))
    c.add_argument("-k", "--key-file", default="client.secret")
    c.add_argument("--send")
    c.add_argument("--rate", type=int, default=0, help="bytes a second")
    c.add_argument("--recv")
    c.add_argument("--hold", help="shut the write half once this exists")
    c.add_argument("--expect-bytes", type=int)
    c.add_argument("--wr-timeout", type=int)
    c.add_argument("path")
    c.set_defaults(fn=cmd_client)
    k = sub.add_parser("ctl")
    k.add_argument("socket")
    k.add_argument("case", choices=CASE_NAMES)
    k.set_defaults(fn=cmd_ctl)
    v = sub.add_parser("version")
    v.add_argument("socket")
    v.set_defaults(fn=cmd_version)
    h = sub.add_parser("hold")
    h.add_argument("socket")
    h.add_argument("count", type=int)
    h.add_argument("done")
    h.set_defaults(fn=cmd_hold)
    args = p.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())

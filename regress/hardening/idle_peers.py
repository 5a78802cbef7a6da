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

"""idle_peers.py: many idle connections to remotedapid, for row 32.

Standard library only; run with /usr/bin/python3.  Each mode holds its
connections in one process with one select loop, until the file given
by --stop exists or --max seconds pass, and prints what it saw:

  idle_peers.py agent PORT PATH KEYFILE
        register PATH, answer pings, dial back for every client (at
        most 64 dial-backs in flight) and hold the tunnels: "linked N"
        as they come, "held N lost N refused N websocket up" at the end
  idle_peers.py clients PORT PATH KEYFILE COUNT
        COUNT WebRoute clients from the --sources, each held once its
        101 came: "linked N" as they come, "held N lost N refused N"
  idle_peers.py preauth PORT COUNT
        COUNT connections from the --sources that send part of a head
        and wait for the relay to close them: "open N", then "closed N
        of M after MIN to MAX s" (from each one's connect)
  idle_peers.py probe PORT PATH KEYFILE COUNT
        one tunnel to an echo agent, COUNT round trips of 64 bytes:
        "rtt p50 MS p99 MS max MS"

The exit status is 0 when every connection did what it should.
"""

import argparse
import json
import os
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import rawpeer  # noqa: E402

HOST = "127.0.0.1"
INFLIGHT_MAX = 64


def say(*words):
    print(*words, flush=True)


def read_key(path):
    with open(path) as f:
        return f.read().strip()


def sources(spec):
    """'127.0.0.2-9' -> ['127.0.0.2', ..., '127.0.0.9']; or 'a,b'."""
    out = []
    for part in spec.split(","):
        base, _, last = part.rpartition(".")
        first, _, end = last.partition("-")
        out.extend("%s.%d" % (base, i)
                   for i in range(int(first), int(end or first) + 1))
    return out


def open_nb(src, port):
    """A non-blocking connect from src to the relay."""
    s = socket.socket()
    s.bind((src, 0))
    s.setblocking(False)
    s.connect_ex((HOST, port))
    return s


def recv_nb(s):
    """Bytes, b'' at the end (a reset too), None when none yet."""
    try:
        return s.recv(65536)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


class Loop:
    """A select loop that ends at --max seconds or once --stop exists."""

    def __init__(self, args):
        self.sel = selectors.DefaultSelector()
        self.end = time.monotonic() + args.max
        self.stopfile = args.stop

    def running(self):
        if time.monotonic() >= self.end:
            return False
        return self.stopfile is None or not os.path.exists(self.stopfile)

    def events(self):
        return self.sel.select(0.2)


class Upgrade:
    """One WebRoute connection: send its head, read the 101, hold it."""

    def __init__(self, loop, sock, head, want):
        self.loop, self.sock, self.out, self.want = loop, sock, head, want
        self.buf = b""
        self.state = "send"             # send, head, held, done
        loop.sel.register(sock, selectors.EVENT_WRITE, self)

    def step(self):
        """Go on; returns 'linked', 'refused', 'lost' or None."""
        r = self._step()
        if self.state == "done":
            self.loop.sel.unregister(self.sock)
            self.sock.close()
        elif self.state != "send":
            self.loop.sel.modify(self.sock, selectors.EVENT_READ, self)
        return r

    def _step(self):
        if self.state == "send":
            try:
                n = self.sock.send(self.out)
            except (BlockingIOError, InterruptedError):
                return None
            except OSError:
                self.state = "done"
                return "refused"
            self.out = self.out[n:]
            if not self.out:
                self.state = "head"
            return None
        data = recv_nb(self.sock)
        if data is None:
            return None
        if not data:
            was, self.state = self.state, "done"
            if was != "held":
                return "refused"
            # once told to stop, the other ends go first: no loss
            return "lost" if self.loop.running() else None
        if self.state == "held":
            return None                 # nobody sends on these tunnels
        self.buf += data
        if b"\r\n\r\n" not in self.buf:
            return None
        head = self.buf[:self.buf.index(b"\r\n\r\n") + 4]
        if head != self.want:
            say("refused:", rawpeer.status_line(head))
            self.state = "done"
            return "refused"
        self.state = "held"
        return "linked"


def report(counts, last):
    """'linked N' whenever N changed; returns N."""
    if counts["linked"] != last:
        say("linked", counts["linked"])
    return counts["linked"]


def cmd_clients(args):
    key = read_key(args.keyfile)
    srcs = sources(args.sources)
    loop = Loop(args)
    for i in range(args.count):
        wrid = "idle-%d-%d" % (os.getpid(), i)
        Upgrade(loop, open_nb(srcs[i % len(srcs)], args.port),
                rawpeer.wr_head(args.path, key, wrid), rawpeer.wr101(wrid))
    counts = {"linked": 0, "refused": 0, "lost": 0}
    last = -1
    while loop.running():
        for sk, _ in loop.events():
            r = sk.data.step()
            if r is not None:
                counts[r] += 1
        last = report(counts, last)
    say("held", counts["linked"] - counts["lost"], "lost", counts["lost"],
        "refused", counts["refused"])
    return 0 if counts["lost"] == 0 and counts["refused"] == 0 else 1


def agent_frames(ws, frames, waiting):
    """What the relay sent: pong its pings, queue its clients' ids."""
    fr = frames.next(0.001)
    while fr is not None:
        op, fin, payload = fr
        if op == rawpeer.OP_PING:
            ws.sendall(rawpeer.frame(rawpeer.OP_PONG, payload))
        elif op == rawpeer.OP_TEXT:
            waiting.append(json.loads(payload)["id"])
        elif op == rawpeer.OP_CLOSE:
            say("the relay closed the WebSocket")
            return False
        fr = frames.next(0.001)
    if frames.how is not None:
        say("the WebSocket ended:", frames.how)
        return False
    return True


def cmd_agent(args):
    key = read_key(args.keyfile)
    ws, frames = rawpeer.register(args.port, args.path, key)
    say("ready")
    loop = Loop(args)
    loop.sel.register(ws, selectors.EVENT_READ, None)
    waiting, dials = [], []
    counts = {"linked": 0, "refused": 0, "lost": 0}
    last, ws_up = -1, True
    while loop.running() and ws_up:
        dials = [c for c in dials if c.state in ("send", "head")]
        while waiting and len(dials) < INFLIGHT_MAX:
            wrid = waiting.pop(0)
            dials.append(Upgrade(loop, open_nb(args.source, args.port),
                                 rawpeer.wr_head(args.path, key, wrid),
                                 rawpeer.wr101(wrid)))
        for sk, _ in loop.events():
            if sk.data is None:
                ws_up = agent_frames(ws, frames, waiting)
                continue
            r = sk.data.step()
            if r is not None:
                counts[r] += 1
        last = report(counts, last)
    say("held", counts["linked"] - counts["lost"], "lost", counts["lost"],
        "refused", counts["refused"], "websocket", "up" if ws_up else "lost")
    ws.close()
    return 0 if ws_up and counts["lost"] == 0 and counts["refused"] == 0 \
        else 1


def cmd_preauth(args):
    srcs = sources(args.sources)
    loop = Loop(args)
    head = ("GET /test/path/ HTTP/1.1\r\nHost: %s\r\n" % HOST).encode()
    started, ended = {}, []
    for i in range(args.count):
        s = open_nb(srcs[i % len(srcs)], args.port)
        started[s] = time.monotonic()
        loop.sel.register(s, selectors.EVENT_WRITE, "send")
    sent = 0
    while loop.running() and len(ended) < args.count:
        for sk, ev in loop.events():
            s = sk.fileobj
            if sk.data == "send":
                try:
                    s.send(head)
                except OSError:
                    pass        # its end is seen by the read
                loop.sel.modify(s, selectors.EVENT_READ, "wait")
                sent += 1
                if sent == args.count:
                    say("open", sent)
                continue
            data = recv_nb(s)
            if data is None or data:
                continue        # the 408; its close follows
            ended.append(time.monotonic() - started[s])
            loop.sel.unregister(s)
            s.close()
    if ended:
        say("closed %d of %d after %.2f to %.2f s"
            % (len(ended), args.count, min(ended), max(ended)))
    else:
        say("closed 0 of %d" % args.count)
    return 0 if len(ended) == args.count else 1


def cmd_probe(args):
    key = read_key(args.keyfile)
    wrid = "probe-%d" % os.getpid()
    s = rawpeer.connect(args.port)
    s.sendall(rawpeer.wr_head(args.path, key, wrid))
    head, rest, how = rawpeer.read_head(s, 5.0)
    if head != rawpeer.wr101(wrid):
        say("probe: expected a 101, saw", repr(head), how)
        return 1
    times = []
    msg = b"p" * 64
    for i in range(args.count):
        t0 = time.monotonic()
        s.sendall(msg)
        got = rest
        rest = b""
        s.settimeout(5.0)
        while len(got) < len(msg):
            chunk = s.recv(len(msg) - len(got))
            if not chunk:
                say("probe: the tunnel ended after", i, "round trips")
                return 1
            got += chunk
        times.append((time.monotonic() - t0) * 1000)
    s.close()
    times.sort()
    say("rtt p50 %.2f p99 %.2f max %.2f" % (
        times[len(times) // 2], times[-(-len(times) * 99 // 100) - 1],
        times[-1]))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.
                                 RawDescriptionHelpFormatter)
    ap.add_argument("--max", type=float, default=60.0,
                    help="seconds before giving up (60)")
    ap.add_argument("--stop", help="end once this file exists")
    ap.add_argument("--sources", default="127.0.0.2-9",
                    help="source addresses, as 127.0.0.2-9 or a,b")
    ap.add_argument("--source", default=HOST,
                    help="the agent's source address")
    sub = ap.add_subparsers(dest="mode", required=True)
    for mode, extra in (("agent", ("path", "keyfile")),
                        ("clients", ("path", "keyfile", "count")),
                        ("preauth", ("count",)),
                        ("probe", ("path", "keyfile", "count"))):
        p = sub.add_parser(mode)
        p.add_argument("port", type=int)
        for name in extra:
            p.add_argument(name, type=int if name == "count" else str)
    args = ap.parse_args()
    return {"agent": cmd_agent, "clients": cmd_clients,
            "preauth": cmd_preauth, "probe": cmd_probe}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())

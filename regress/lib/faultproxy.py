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

"""faultproxy.py: a TCP proxy for tests, with toxiproxy's toxics.

    faultproxy.py [-l ADDR] [-p PORT] [-S SEED] -u HOST:PORT [-t TOXIC] ...

It listens on ADDR:PORT (127.0.0.1, port 0: any free port), prints the
port on stdout once it listens, and forwards every connection to
HOST:PORT through the toxics given with -t, in one event loop (stdlib
only).  It logs each connection and each toxic that fires to stderr,
with the wall-clock time, so that a test can line the events up.

A toxic is NAME[,key=value...]; `dir' is up (client to upstream), down
(upstream to client) or both (the default), and byte counts are of the
bytes forwarded in the toxic's direction(s), per connection:

    latency,ms=N[,jitter=N]     hold each chunk N ms (+- jitter)
    bandwidth,rate=N            at most N bytes per second
    slicer[,min=1,max=7,delay_us=500,limit=0]
                                forward in pieces of min..max bytes, a
                                pause between pieces; only the first
                                `limit' bytes (0: all of them); a pause
                                is at least 1 ms but for delay_us=0
    reset_peer[,after=N][,ms=N] after N bytes (or N ms after the accept)
                                reset both sockets (SO_LINGER 0: RST)
    timeout[,after=N][,ms=N]    (also `stall') after N bytes forward
                                nothing more (it is read and dropped, no
                                FIN either); close N ms later (0: never)
    slow_close,ms=N             pass a FIN on N ms late
    limit_data,bytes=N          close the connection after N bytes

A reset or error on one side is passed on as a reset of the other.
"""

import argparse
import errno
import random
import selectors
import signal
import socket
import struct
import sys
import time
from collections import deque

HIGH_WATER = 256 * 1024         # bytes buffered per direction at most
READ_SIZE = 65536
UP, DOWN = 0, 1
DIRNAMES = ("up", "down")

TOXIC_KEYS = {
    "latency": {"ms": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "slicer": {"min": 1, "max": 7, "delay_us": 500, "limit": 0},
    "reset_peer": {"after": -1, "ms": -1},
    "timeout": {"after": 0, "ms": 0},
    "slow_close": {"ms": 0},
    "limit_data": {"bytes": 0},
}


def log(msg):
    sys.stderr.write("faultproxy: %.3f %s\n" % (time.time(), msg))
    sys.stderr.flush()


class Toxic:
    def __init__(self, spec):
        parts = spec.split(",")
        name = parts[0]
        if name == "stall":
            name = "timeout"
        if name not in TOXIC_KEYS:
            raise ValueError("unknown toxic %r" % parts[0])
        self.name = name
        self.dirs = (UP, DOWN)
        self.args = dict(TOXIC_KEYS[name])
        for kv in parts[1:]:
            if "=" not in kv:
                raise ValueError("%s: expected key=value, got %r" %
                                 (name, kv))
            k, v = kv.split("=", 1)
            if k == "dir":
                if v not in ("up", "down", "both"):
                    raise ValueError("%s: dir is up, down or both" % name)
                self.dirs = {"up": (UP,), "down": (DOWN,),
                             "both": (UP, DOWN)}[v]
            elif k in self.args:
                self.args[k] = int(v)
            else:
                raise ValueError("%s: unknown key %r" % (name, k))
        a = self.args
        if name == "slicer" and not 1 <= a["min"] <= a["max"]:
            raise ValueError("slicer: need 1 <= min <= max")
        if name == "bandwidth" and a["rate"] < 1:
            raise ValueError("bandwidth: rate must be positive")
        if name == "reset_peer" and a["after"] < 0 and a["ms"] < 0:
            a["after"] = 0

    def __getitem__(self, k):
        return self.args[k]


class Direction:
    """One direction of a connection: from src to dst."""

    def __init__(self, link, index, src, dst):
        self.link = link
        self.index = index
        self.src = src
        self.dst = dst
        self.segs = deque()     # [ready_at, bytes, offset]
        self.buffered = 0
        self.last_ready = 0.0
        self.eof_in = False
        self.fin_at = None
        self.fin_sent = False
        self.next_at = 0.0
        self.blocked = False
        self.count = 0
        self.stalled = False

    def toxics(self, name):
        return [t for t in self.link.proxy.toxics
                if t.name == name and self.index in t.dirs]

    def take(self, data, now):
        """Bytes read from src: queue them, with their latency."""
        ready = now
        for t in self.toxics("latency"):
            ready += (t["ms"] + random.uniform(-t["jitter"],
                                               t["jitter"])) / 1000.0
        ready = max(ready, self.last_ready)
        self.last_ready = ready
        self.segs.append([ready, data, 0])
        self.buffered += len(data)

    def piece(self, avail):
        """How many bytes to send now, after slicer and thresholds."""
        n = avail
        for t in self.toxics("slicer"):
            if t["limit"] == 0 or self.count < t["limit"]:
                n = min(n, random.randint(t["min"], t["max"]))
                if t["limit"]:
                    n = min(n, t["limit"] - self.count)
        for t in self.toxics("bandwidth"):
            n = min(n, max(1, t["rate"] // 20))
        link = self.link
        for name, key in (("limit_data", "bytes"), ("reset_peer", "after"),
                          ("timeout", "after")):
            for t in self.toxics(name):
                left = t[key] - link.counted(t)
                if t[key] >= 0 and left > 0:
                    n = min(n, left)
        return n

    def thresholds(self, now):
        """After a send: did a toxic's byte count fire?"""
        link = self.link
        for t in self.toxics("limit_data"):
            if link.counted(t) >= t["bytes"]:
                log("conn %d: limit_data after %d bytes, closing" %
                    (link.num, link.counted(t)))
                link.close("limit_data")
                return True
        for t in self.toxics("reset_peer"):
            if t["after"] >= 0 and link.counted(t) >= t["after"]:
                log("conn %d: reset_peer after %d bytes" %
                    (link.num, link.counted(t)))
                link.reset("reset_peer")
                return True
        for t in self.toxics("timeout"):
            if not self.stalled and link.counted(t) >= t["after"]:
                self.stalled = True
                log("conn %d: %s stalled after %d bytes" %
                    (link.num, DIRNAMES[self.index], link.counted(t)))
                if t["ms"] > 0:
                    link.timers.append((now + t["ms"] / 1000.0, "timeout"))
        return False

    def progress(self, now):
        """Send what may go now; returns the next time to look, or None."""
        if self.link.dead:
            return None
        if not self.stalled:
            self.thresholds(now)
            if self.link.dead:
                return None
        while self.segs and not self.blocked:
            seg = self.segs[0]
            if self.stalled:
                self.buffered -= len(seg[1]) - seg[2]
                self.segs.popleft()
                continue
            if now < seg[0]:
                return seg[0]
            if now < self.next_at:
                return self.next_at
            n = self.piece(len(seg[1]) - seg[2])
            if n <= 0:
                return None
            try:
                sent = self.dst.send(seg[1][seg[2]:seg[2] + n])
            except (BlockingIOError, InterruptedError):
                self.blocked = True
                break
            except OSError as e:
                log("conn %d: send %s: %s" % (self.link.num,
                                               DIRNAMES[self.index], e))
                self.link.reset("send failed")
                return None
            seg[2] += sent
            self.buffered -= sent
            self.count += sent
            self.link.sent[self.index] += sent
            if seg[2] == len(seg[1]):
                self.segs.popleft()
            for t in self.toxics("slicer"):
                if t["limit"] == 0 or self.count <= t["limit"]:
                    self.next_at = max(self.next_at,
                                       now + t["delay_us"] / 1e6)
            for t in self.toxics("bandwidth"):
                self.next_at = max(self.next_at, now) + sent / t["rate"]
            if self.thresholds(now):
                return None
            if self.stalled:
                continue
            if self.next_at > now:
                return self.next_at
        if self.blocked or self.segs:
            return None
        if self.eof_in and not self.fin_sent and not self.stalled:
            if self.fin_at is None:
                delay = max([t["ms"] for t in self.toxics("slow_close")] +
                            [0])
                self.fin_at = now + delay / 1000.0
                if delay:
                    log("conn %d: %s FIN held %d ms" %
                        (self.link.num, DIRNAMES[self.index], delay))
            if now < self.fin_at:
                return self.fin_at
            try:
                self.dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self.fin_sent = True
            log("conn %d: %s FIN passed on" % (self.link.num,
                                               DIRNAMES[self.index]))
        return None


class Link:
    """A client connection and its upstream connection."""

    def __init__(self, proxy, num, client, upstream, peer):
        self.proxy = proxy
        self.num = num
        self.socks = (client, upstream)
        self.peer = peer
        self.dead = False
        self.sent = [0, 0]
        self.timers = []        # (when, what)
        self.dirs = (Direction(self, UP, client, upstream),
                     Direction(self, DOWN, upstream, client))
        now = time.monotonic()
        for t in proxy.toxics:
            if t.name == "reset_peer" and t["ms"] >= 0:
                self.timers.append((now + t["ms"] / 1000.0, "reset_peer"))

    def counted(self, toxic):
        return sum(self.sent[d] for d in toxic.dirs)

    def close(self, why, linger0=False):
        if self.dead:
            return
        self.dead = True
        for s in self.socks:
            try:
                self.proxy.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            if linger0:
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
                except OSError:
                    pass
            s.close()
        self.proxy.links.discard(self)
        log("conn %d: closed (%s): %d bytes up, %d down" %
            (self.num, why, self.sent[UP], self.sent[DOWN]))

    def reset(self, why):
        self.close(why + ", reset", linger0=True)

    def on_readable(self, sock, now):
        d = self.dirs[UP] if sock is self.socks[0] else self.dirs[DOWN]
        try:
            data = sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            log("conn %d: %s side: %s" % (self.num,
                ("client", "upstream")[d.index], e))
            self.reset("peer reset")
            return
        if not data:
            d.eof_in = True
            log("conn %d: FIN from the %s" % (self.num,
                ("client", "upstream")[d.index]))
            return
        d.take(data, now)

    def step(self, now):
        """Timers and both directions; the next time to look, or None."""
        wake = []
        for when, what in list(self.timers):
            if now >= when:
                self.timers.remove((when, what))
                log("conn %d: %s timer fired" % (self.num, what))
                self.reset(what) if what == "reset_peer" else \
                    self.close(what)
                return None
            wake.append(when)
        for d in self.dirs:
            w = d.progress(now)
            if self.dead:
                return None
            if w is not None:
                wake.append(w)
        if all(d.fin_sent for d in self.dirs):
            self.close("both sides done")
            return None
        return min(wake) if wake else None

    def interest(self):
        """What each socket waits for."""
        masks = [0, 0]
        for d in self.dirs:
            i = d.index                 # src is socks[i], dst socks[1 - i]
            if not d.eof_in and d.buffered < HIGH_WATER:
                masks[i] |= selectors.EVENT_READ
            if d.blocked:
                masks[1 - i] |= selectors.EVENT_WRITE
        for s, m in zip(self.socks, masks):
            try:
                key = self.proxy.sel.get_key(s)
                if key.events != m:
                    if m:
                        self.proxy.sel.modify(s, m, self)
                    else:
                        self.proxy.sel.unregister(s)
            except KeyError:
                if m:
                    self.proxy.sel.register(s, m, self)


class Proxy:
    def __init__(self, listen, upstream, toxics):
        self.upstream = upstream
        self.toxics = toxics
        self.links = set()
        self.nconn = 0
        self.sel = selectors.DefaultSelector()
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(listen)
        self.lsock.listen(1024)
        self.lsock.setblocking(False)
        self.sel.register(self.lsock, selectors.EVENT_READ, None)

    def accept(self):
        for _ in range(64):
            try:
                c, peer = self.lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log("accept: %s" % e)
                if e.errno in (errno.EMFILE, errno.ENFILE):
                    time.sleep(0.1)
                return
            self.nconn += 1
            try:
                u = socket.create_connection(self.upstream, timeout=5)
            except OSError as e:
                log("conn %d from %s:%d: upstream %s:%d: %s" %
                    (self.nconn, peer[0], peer[1], self.upstream[0],
                     self.upstream[1], e))
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
                c.close()
                continue
            for s in (c, u):
                s.setblocking(False)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = Link(self, self.nconn, c, u, peer)
            self.links.add(link)
            log("conn %d from %s:%d: open, upstream port %d" %
                (link.num, peer[0], peer[1], u.getsockname()[1]))

    def run(self):
        while True:
            now = time.monotonic()
            wake = None
            for link in list(self.links):
                w = link.step(now)
                if link.dead:
                    continue
                link.interest()
                if w is not None:
                    wake = w if wake is None else min(wake, w)
            timeout = None if wake is None else max(0.0, wake - now)
            for key, mask in self.sel.select(timeout):
                if key.data is None:
                    self.accept()
                    continue
                link = key.data
                if link.dead:
                    continue
                now = time.monotonic()
                if mask & selectors.EVENT_WRITE:
                    for d in link.dirs:
                        if d.dst is key.fileobj:
                            d.blocked = False
                if mask & selectors.EVENT_READ:
                    link.on_readable(key.fileobj, now)


def hostport(s):
    host, _, port = s.rpartition(":")
    return (host or "127.0.0.1", int(port))


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-l", default="127.0.0.1", help="listen address")
    ap.add_argument("-p", type=int, default=0, help="listen port (0: any)")
    ap.add_argument("-u", required=True, help="upstream HOST:PORT")
    ap.add_argument("-t", action="append", default=[],
                    help="toxic NAME[,key=value...]")
    ap.add_argument("-S", type=int, default=None, help="random seed")
    a = ap.parse_args()
    try:
        toxics = [Toxic(t) for t in a.t]
    except ValueError as e:
        ap.error(str(e))
    random.seed(a.S)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    proxy = Proxy((a.l, a.p), hostport(a.u), toxics)
    log("listening on %s:%d, upstream %s, toxics: %s" %
        (a.l, proxy.lsock.getsockname()[1], a.u,
         " ".join(a.t) if a.t else "none"))
    print(proxy.lsock.getsockname()[1], flush=True)
    try:
        proxy.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

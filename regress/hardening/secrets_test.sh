#! /usr/bin/env atf-sh
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

# secrets_test.sh: row 27, a relay child holds no secret.  Every
# configured key, and bad ones, are presented on a plain listener, by
# agents (WebSocket), clients and dial-backs (WebRoute), of the right
# role and of the wrong one; then the memory of every daemon process is
# searched for each secret as text, as the bytes of its hex, and in
# base64: there must be none.  And no child can open the key file: its
# root is the empty directory.  (TLS record buffers are a documented
# gap: only plain listeners are covered.)

. "$(atf_get_srcdir)/../lib/lib.sh"

# sc_setup: the daemon with two more keys (srv2, and cli2 limited to
# /second/*), an echo agent on each of two paths, and the names of the
# secrets (NAME.secret) in $SC_SECRETS.
sc_setup()
{
	rd_setup 2
	rd_keygen server2
	rd_keygen client2
	rd_keygen bad1
	rd_keygen bad2
	cat >>keys <<-KEYS
	server srv2 sha256:$(rd_hash server2.secret)
	client cli2 sha256:$(rd_hash client2.secret) paths /second/*
	KEYS
	SC_SECRETS="server client server2 client2 bad1 bad2"
	# rd_setup exports URLs that hold keys: no environment of the
	# daemon's may have them
	_s=$RD_SURL _c=$RD_CURL
	unset RD_SURL RD_CURL
	RD_SURL=$_s RD_CURL=$_c
	rd_daemon_start
	rd_agent agent -e
	rd_start agent2 "$(rd_libdir)/rdpeer" agent -e \
	    "rws://$(cat server2.secret)@127.0.0.1:$RD_PORT/second/path/"
	rd_wait 10 grep -q "^ready" agent2.log ||
	    atf_fail "agent2 did not register: $(rd_flat agent2.log)"
}

# sc_traffic: tunnels with both client keys, then every secret in a
# WebSocket registration and a WebRoute request on both paths.
sc_traffic()
{
	rd_random up.bin 262144
	atf_check -o ignore "$(rd_libdir)/rdpeer" connect -s up.bin -r back.1 \
	    "$RD_CURL"
	rd_same_sha256 up.bin back.1
	atf_check -o ignore "$(rd_libdir)/rdpeer" connect -s up.bin -r back.2 \
	    "rwr://$(cat client2.secret)@127.0.0.1:$RD_PORT/second/path/"
	rd_same_sha256 up.bin back.2
	/usr/bin/python3 - "$(rd_libdir)" "$RD_PORT" $SC_SECRETS \
	    >traffic.out 2>&1 <<-'PY' || atf_fail "traffic: $(rd_flat traffic.out)"
	import sys
	sys.path.insert(0, sys.argv[1])
	import rawpeer
	port = int(sys.argv[2])
	for name in sys.argv[3:]:
	    key = open(name + ".secret").read().strip()
	    for path in ("/test/path/", "/second/path/", "/third/"):
	        for head in (rawpeer.ws_head(path, key),
	                     rawpeer.wr_head(path, key, "sc-" + name),
	                     rawpeer.wr_head(path, key, None)):
	            s = rawpeer.connect(port)
	            s.sendall(head)
	            data, how = rawpeer.read_until_close(s, 1.0)
	            s.close()
	            print(name, path, head.split(b"\r\n")[4].decode()[:20],
	                  rawpeer.status_line(data) or how)
	PY
	cat traffic.out
	grep -q " 403 " traffic.out ||
	    atf_fail "no key was refused: $(rd_flat traffic.out)"
}

# sc_scan PID ...: search each process's memory for every secret.
sc_scan()
{
	/usr/bin/python3 - "$SC_SECRETS" "$@" >scan.out 2>&1 <<-'PY'
	import base64, re, sys
	names = sys.argv[1].split()
	forms = []
	for name in names:
	    text = open(name + ".secret").read().strip()
	    raw = bytes.fromhex(text)
	    for form, b in (("text", text.encode()),
	                    ("text, first half", text[:32].encode()),
	                    ("text, second half", text[32:].encode()),
	                    ("hex bytes", raw),
	                    ("hex bytes, first half", raw[:16]),
	                    ("hex bytes, second half", raw[16:]),
	                    ("base64 of the bytes", base64.b64encode(raw)),
	                    ("base64 of the text",
	                     base64.b64encode(text.encode()))):
	        forms.append((name, form, b))
	hits = 0
	for pid in sys.argv[2:]:
	    scanned = 0
	    with open("/proc/%s/maps" % pid) as f:
	        maps = f.read().splitlines()
	    with open("/proc/%s/mem" % pid, "rb", 0) as mem:
	        for line in maps:
	            f = line.split()
	            lo, hi = (int(x, 16) for x in f[0].split("-"))
	            what = f[5] if len(f) > 5 else "anonymous"
	            # unreadable, the kernel's, or an ASan shadow
	            if f[1][0] != "r" or what == "[vvar]" or hi - lo > 1 << 30:
	                continue
	            try:
	                mem.seek(lo)
	                data = mem.read(hi - lo)
	            except (OSError, ValueError):
	                continue
	            scanned += len(data)
	            for name, form, b in forms:
	                for m in re.finditer(re.escape(b), data):
	                    hits += 1
	                    print("pid %s: %s.secret as %s at %#x (%s)"
	                          % (pid, name, form, lo + m.start(), what))
	    print("pid %s: %d kB scanned" % (pid, scanned // 1024))
	sys.exit(1 if hits else 0)
	PY
}

atf_test_case children_hold_no_secret cleanup
children_hold_no_secret_head()
{
	atf_set descr "after traffic with every key, good and bad, of both" \
	    "roles on both upgrades, no daemon process holds a secret as" \
	    "text, hex bytes or base64"
	atf_set require.user root
	atf_set timeout 120
}
children_hold_no_secret_body()
{
	sc_setup
	sc_traffic
	children=$(rd_children)
	[ "$(echo $children | wc -w)" = 2 ] ||
	    atf_fail "expected 2 relay children, saw '$(echo $children)'"
	# the agents' WebSockets are still open meanwhile
	rd_alive agent && rd_alive agent2 ||
	    atf_fail "an agent went: $(rd_flat agent.log agent2.log)"
	sc_scan $children "$(rd_pid rd)" ||
	    atf_fail "secrets found: $(grep -v scanned scan.out | rd_flat)"
	cat scan.out
	rd_post
	rd_daemon_stop
}
children_hold_no_secret_cleanup()
{
	rd_stop_all
}

atf_test_case children_cannot_open_key_file cleanup
children_cannot_open_key_file_head()
{
	atf_set descr "every relay child's root is the empty directory: the" \
	    "key file's path does not exist there"
	atf_set require.user root
	atf_set timeout 60
}
children_cannot_open_key_file_body()
{
	sc_setup
	keys=$(sed -n 's/^keys "\(.*\)"$/\1/p' rd.conf)
	[ -f "$keys" ] || atf_fail "no key file in rd.conf"
	for pid in $(rd_children); do
		root=$(readlink "/proc/$pid/root")
		[ "$root" = "$PWD/empty" ] ||
		    atf_fail "relay child $pid: expected root $PWD/empty, saw '$root'"
		[ -z "$(ls -A "/proc/$pid/root/")" ] ||
		    atf_fail "relay child $pid: its root is not empty: $(ls -A "/proc/$pid/root/" | rd_flat)"
		if cat "/proc/$pid/root$keys" >/dev/null 2>&1; then
			atf_fail "relay child $pid can reach $keys"
		fi
	done
	rd_post
	rd_daemon_stop
}
children_cannot_open_key_file_cleanup()
{
	rd_stop_all
}

atf_init_test_cases()
{
	atf_add_test_case children_hold_no_secret
	atf_add_test_case children_cannot_open_key_file
}

#
# ctllib.sh: helpers of the rapictl tests, over lib.sh.  Every daemon a
# test starts has its own control socket, $PWD/rd.sock (lib.sh's rd_conf
# writes it), so two tests never share one.

. "$(atf_get_srcdir)/../lib/lib.sh"

# rc_ctl [ARG ...]: rapictl on this test's daemon.
rc_ctl()
{
	"$(rd_sbin rapictl)" -s "$PWD/rd.sock" "$@"
}

# rc_peer [ARG ...]: the test peers of ctlpeer.py.
rc_peer()
{
	/usr/bin/python3 "$(atf_get_srcdir)/ctlpeer.py" "$@"
}

# rc_py FILE EXPR: evaluate the Python expression EXPR over the JSON in
# FILE and print it (true/false as yes/no).  In EXPR, j is the parsed
# document, items(T) its items of type T, one(T) the only such item.
rc_py()
{
	/usr/bin/python3 -c '
import json, re, sys
with open(sys.argv[1]) as f:
    j = json.load(f)
def items(t):
    return [x for x in j if x["type"] == t]
def one(t):
    a = items(t)
    if len(a) != 1:
        raise SystemExit("expected one %s, seen %d: %r" % (t, len(a), j))
    return a[0]
r = eval("(" + sys.argv[2] + "\n)")
print(("yes" if r else "no") if isinstance(r, bool) else r)
' "$1" "$2"
}

# rc_eq FILE EXPR WANT: fail unless EXPR over the JSON in FILE is WANT.
rc_eq()
{
	_seen=$(rc_py "$1" "$2" 2>&1)
	[ "$_seen" = "$3" ] ||
	    atf_fail "$(echo "$2" | tr -s '\n\t' '  ') in $1: expected '$3'," \
	    "seen '$_seen' ($(tr '\n' ' ' <"$1"))"
}

# rc_true FILE EXPR: fail unless EXPR holds.
rc_true()
{
	rc_eq "$1" "$2" yes
}

# rc_show OUT WORDS...: rapictl -j WORDS into OUT, which must be JSON.
rc_show()
{
	_out=$1
	shift
	rc_ctl -j "$@" >"$_out" 2>"$_out.err" ||
	    atf_fail "rapictl -j $*: $(cat "$_out.err")"
	rc_py "$_out" 'len(j)' >/dev/null 2>&1 ||
	    atf_fail "rapictl -j $*: not JSON: $(cat "$_out")"
}

# rc_until SECONDS EXPR WORDS...: rerun rapictl -j WORDS (into
# until.json) until EXPR holds; fail at the deadline.
rc_until()
{
	_limit=$(($1 * 10))
	_expr=$2
	shift 2
	_i=0
	while [ $_i -lt $_limit ]; do
		if rc_ctl -j "$@" >until.json 2>/dev/null &&
		    [ "$(rc_py until.json "$_expr" 2>/dev/null)" = yes ]; then
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	atf_fail "rapictl $*: '$(echo "$_expr" | tr -s '\n\t' '  ')' not" \
	    "true within $(($_limit / 10)) s: $(tr '\n' ' ' <until.json)"
}

# rc_client NAME [ARG ...]: a ctlpeer client in the background (log in
# NAME.log), linked when this returns.
rc_client()
{
	_name=$1
	shift
	rd_start "$_name" /usr/bin/python3 "$(atf_get_srcdir)/ctlpeer.py" \
	    client "$@"
	rd_wait 10 grep -q "^linked" "$_name.log" ||
	    atf_fail "client $_name not linked: $(cat "$_name.log")"
}

# rc_local NAME: the local address a ctlpeer client printed.
rc_local()
{
	sed -n 's/^local //p' "$1.log"
}

# rc_works SECRET [PATH]: a tunnel with this client secret moves 64 KiB
# both ways through an echo agent, or the test fails.
rc_works()
{
	rd_random works.bin 65536
	"$(rd_libdir)/rdpeer" connect -s works.bin -r works.back \
	    "rwr://$1@127.0.0.1:$RD_PORT${2:-/test/path/}" >works.log 2>&1 ||
	    atf_fail "a tunnel with secret $(echo "$1" | cut -c1-8)... failed: $(cat works.log)"
	rd_same_sha256 works.bin works.back
}

# rc_refused SECRET [PATH]: this client secret gets the 403.
rc_refused()
{
	rawpeer -c "$1" client -x invalid_missing_apikey \
	    "${2:-/test/path/}" >refused.log 2>&1 ||
	    atf_fail "expected a 403: $(cat refused.log)"
}

# rc_secret FILE: the secret rapictl printed (its first line), checked.
rc_secret()
{
	_s=$(head -1 "$1")
	echo "$_s" | grep -Eqx '[0-9a-f]{64}' ||
	    atf_fail "not a secret of 64 lowercase hex digits: '$_s'"
	echo "$_s"
}

# rc_sha SECRET: the hash of a secret, as the key file has it.
rc_sha()
{
	printf %s "$1" | sha256sum | cut -d' ' -f1
}

# rc_now: Unix time.
rc_now()
{
	date +%s
}

# rc_post: lib.sh's post-conditions, and the control socket answers.
rc_post()
{
	rd_post
	rc_ctl show status >post.out 2>&1 ||
	    atf_fail "the control socket does not answer: $(cat post.out)"
}

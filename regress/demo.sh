#!/bin/sh
#
# demo.sh BUILDDIR: a relay on loopback, a small web server behind it,
# and a client reaching that server through it, each step said aloud.
# Everything lives in a temporary directory and is stopped at the end.

set -u
b=$(cd "${1:-build}" && pwd)
remotedapid=$b/sbin/remotedapid
rapi=$b/bin/rapi
tmp=$(mktemp -d /tmp/remotedapid-demo.XXXXXX)
pids=""

say()
{
	printf '\n==> %s\n' "$*"
}

cleanup()
{
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	sleep 0.5
	for p in $pids; do
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

freeport()
{
	/usr/bin/python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

waitfor()
{
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "demo: no '$2' in $1 after 10 s:" >&2
			cat "$1" >&2
			exit 1
		fi
		sleep 0.1
	done
}

cd "$tmp" || exit 1

say "Two secrets, 64 random hex digits each: one for servers, one for clients"
openssl rand -hex 32 >server.key
openssl rand -hex 32 >client.key
cat >keys <<KEYS
server demo-server sha256:$(printf %s "$(cat server.key)" | sha256sum | cut -d' ' -f1)
client demo-client sha256:$(printf %s "$(cat client.key)" | sha256sum | cut -d' ' -f1)
KEYS
chmod 600 keys
echo "The relay keeps only their hashes (keys):"
sed 's/^/    /' keys

relay=$(freeport)
say "remotedapid on 127.0.0.1:$relay, its children chrooted to an empty directory as nobody"
mkdir -m 755 empty
cat >remotedapid.conf <<CONF
listen on 127.0.0.1 port $relay
prefork 2
user "nobody"
chroot "$tmp/empty"
keys "$tmp/keys"
CONF
sed 's/^/    /' remotedapid.conf
"$remotedapid" -d -f remotedapid.conf >relay.log 2>&1 &
pids="$pids $!"
waitfor relay.log "started"
sed 's/^/    /' relay.log

web=$(freeport)
say "A web server that only listens on 127.0.0.1:$web (think: behind a firewall)"
mkdir www
echo "Hello from behind the firewall." >www/index.html
(cd www && exec /usr/bin/python3 -m http.server "$web" --bind 127.0.0.1) \
    >web.log 2>&1 &
pids="$pids $!"
sleep 0.5

say "rapi expose: the server side registers /demo on the relay"
echo "    rapi expose -v -k server.key rws://127.0.0.1:$relay/demo 127.0.0.1:$web"
"$rapi" expose -v -k server.key "rws://127.0.0.1:$relay/demo" \
    "127.0.0.1:$web" >expose.log 2>&1 &
pids="$pids $!"
waitfor expose.log "registered"
sed 's/^/    /' expose.log

local=$(freeport)
say "rapi connect -L: the client side listens on 127.0.0.1:$local, a tunnel per connection"
echo "    rapi connect -v -k client.key -L $local rwr://127.0.0.1:$relay/demo"
"$rapi" connect -v -k client.key -L "$local" \
    "rwr://127.0.0.1:$relay/demo" >connect.log 2>&1 &
pids="$pids $!"
waitfor connect.log "listening"

say "curl http://127.0.0.1:$local/ goes through the relay to the web server"
page=$(curl -s --max-time 10 "http://127.0.0.1:$local/")
echo "    $page"
sleep 0.5

say "What each side saw"
sed 's/^/    expose: /' expose.log | tail -4
sed 's/^/    connect: /' connect.log | tail -3
grep tunnel relay.log | sed 's/^/    relay: /'

if [ "$page" = "Hello from behind the firewall." ]; then
	say "It works. Stopping everything the demo started."
	exit 0
fi
say "The page did not come through."
exit 1

#!/bin/sh
#
# bench.sh BUILDDIR: what `make bench' runs.  The relay, HAProxy (mode
# tcp, splicing) and direct TCP, driven by the same generator (rdbench)
# through the same loopback in one run: bulk throughput, tunnel setup
# (one after another, and 32 at once), echo latency, 10000 tunnels held
# at once with the relay's memory per tunnel, and the relay's CPU per
# GiB and per 1000 tunnels.  Prints a table and writes bench.json.
#
# Every figure but the held tunnels is taken in BENCH_ROUNDS rounds (5),
# the three targets in turn within a round, and the table shows each
# figure's median over the rounds (errors: their sum); bench.json has
# every round too.  Sizes can be lowered for a quick look: BENCH_BULK
# (bytes, 2 GiB), BENCH_SEQ (3000), BENCH_PAR (200 per opener, 32
# openers), BENCH_ECHO (20000), BENCH_HOLD (10000).

set -u
b=$(cd "${1:-build}" && pwd)
remotedapid=$b/sbin/remotedapid
rdbench=$b/bench/rdbench
BULK=${BENCH_BULK:-2147483648}
SEQ=${BENCH_SEQ:-3000}
PAR=${BENCH_PAR:-200}
ECHO=${BENCH_ECHO:-20000}
HOLD=${BENCH_HOLD:-10000}
ROUNDS=${BENCH_ROUNDS:-5}
HOLDERS=4
out=$(pwd)/bench.json
tmp=$(mktemp -d /tmp/remotedapid-bench.XXXXXX)
pids=""

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

say()
{
	printf '%s\n' "$*" >&2
}

freeport()
{
	/usr/bin/python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

waitfor()
{
	_w=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		_w=$((_w + 1))
		if [ $_w -gt 600 ]; then
			say "bench: no '$2' in $1:"
			cat "$1" >&2
			exit 1
		fi
		sleep 0.1
	done
}

# The relay's processes: the parent and its children.
rd_pids()
{
	echo "$rdpid $(pgrep -P "$rdpid" | tr '\n' ' ')"
}

# user+sys seconds of all of them
rd_cpu()
{
	for p in $(rd_pids); do
		cut -d' ' -f14,15 "/proc/$p/stat"
	done | awk -v hz="$(getconf CLK_TCK)" \
	    '{ t += $1 + $2 } END { printf "%.3f\n", t / hz }'
}

# resident memory of all of them, in kB
rd_rss()
{
	for p in $(rd_pids); do
		awk '/^VmRSS/ { print $2 }' "/proc/$p/status"
	done | awk '{ t += $1 } END { print t }'
}

cd "$tmp" || exit 1
openssl rand -hex 32 >server.key
openssl rand -hex 32 >client.key
sk=$(cat server.key)
ck=$(cat client.key)
{
	echo "server bench-server sha256:$(printf %s "$sk" | sha256sum | cut -d' ' -f1)"
	echo "client bench-client sha256:$(printf %s "$ck" | sha256sum | cut -d' ' -f1)"
} >keys
chmod 600 keys
mkdir -m 755 empty
rp=$(freeport)
sp=$(freeport)
hp=$(freeport)
hp2=$(freeport)
ncpu=$(nproc)
user=""
if [ "$(id -u)" = 0 ]; then
	user="user \"nobody\""
fi
cat >rd.conf <<CONF
listen on 127.0.0.1 port $rp
prefork $ncpu
$user
chroot "$tmp/empty"
keys "$tmp/keys"
control socket "$tmp/rd.sock"
timeout idle 600
timeout handshake 60
# raised for the benchmark: $HOLD tunnels are $((HOLD * 2)) connections
max connections 30000
max handshakes 30000
max handshakes per address 30000
CONF
say "bench: the relay's configuration raises max connections and the"
say "       handshake caps to 30000 to hold $HOLD tunnels at once"
"$remotedapid" -d -f rd.conf >rd.log 2>&1 &
rdpid=$!
pids="$pids $rdpid"
waitfor rd.log "started"

"$rdbench" serve "$sp" >serve.log 2>&1 &
pids="$pids $!"
waitfor serve.log ready

cat >haproxy.cfg <<CFG
global
	maxconn 7000
defaults
	mode tcp
	timeout connect 10s
	timeout client 10m
	timeout server 10m
frontend bench
	bind 127.0.0.1:$hp
	option splice-request
	option splice-response
	default_backend sink
backend sink
	server s1 127.0.0.1:$sp
# the same, through HAProxy twice: one more TCP connection on the way
frontend twice
	bind 127.0.0.1:$hp2
	option splice-request
	option splice-response
	default_backend bench
backend bench
	server h1 127.0.0.1:$hp
CFG
haproxy -f haproxy.cfg -db >haproxy.log 2>&1 &
pids="$pids $!"
sleep 1

"$rdbench" agent "rws://$sk@127.0.0.1:$rp/bench" >agent.log 2>&1 &
pids="$pids $!"
waitfor agent.log ready

relay="rwr://$ck@127.0.0.1:$rp/bench"
direct="tcp:127.0.0.1:$sp"
haproxy="tcp:127.0.0.1:$hp"
haproxy2="tcp:127.0.0.1:$hp2"

# measure NAME COMMAND...: run, keep its output in NAME.out
measure()
{
	_n=$1
	shift
	"$@" >"$_n.out" 2>"$_n.err" || {
		say "bench: $_n failed: $(cat "$_n.err")"
		echo "0 0 0 0 0 -1" >"$_n.out"
	}
}

# rounds KIND CMD ARGS...: `rdbench CMD TARGET ARGS...' for the
# targets in turn (TARGETS), ROUNDS times, into TARGET.KIND.ROUND.out;
# the relay's CPU over its own runs is added up in cpu.KIND.  Taken in
# turn, the targets see the same machine: its load moves over minutes.
TARGETS="direct haproxy relay"
rounds()
{
	_k=$1
	_cmd=$2
	shift 2
	_r=1
	while [ "$_r" -le "$ROUNDS" ]; do
		for t in $TARGETS; do
			eval target=\$$t
			say "bench: $t: $_k, round $_r of $ROUNDS"
			[ $t = relay ] && _c0=$(rd_cpu)
			measure "$t.$_k.$_r" "$rdbench" "$_cmd" "$target" "$@"
			[ $t = relay ] && echo "$_c0 $(rd_cpu)" >>"cpu.$_k"
		done
		_r=$((_r + 1))
	done
}

rounds bulk_up bulk "$BULK" up
rounds bulk_both bulk "$BULK" both
# sequential setup through HAProxy twice too: what one more connection
# on the way costs a production relay
TARGETS="direct haproxy haproxy2 relay"
rounds setup_seq setup "$SEQ" 1
TARGETS="direct haproxy relay"
rounds setup_par setup "$PAR" 32
rounds echo echo "$ECHO"
cpu_sum()
{
	awk '{ t += $2 - $1 } END { printf "%.3f\n", t }' "cpu.$1"
}
cpu_bulk=$(echo "$(cpu_sum bulk_up) $(cpu_sum bulk_both)" | awk '{ print $1 + $2 }')
cpu_setup=$(echo "$(cpu_sum setup_seq) $(cpu_sum setup_par)" | awk '{ print $1 + $2 }')

say "bench: relay: $HOLD tunnels held at once"
rss0=$(rd_rss)
each=$((HOLD / HOLDERS))
i=0
while [ $i -lt $HOLDERS ]; do
	"$rdbench" agent "rws://$sk@127.0.0.1:$rp/hold$i" >"agent$i.log" 2>&1 &
	pids="$pids $!"
	waitfor "agent$i.log" ready
	"$rdbench" hold "rwr://$ck@127.0.0.1:$rp/hold$i" "$each" \
	    >"hold$i.out" 2>"hold$i.err" &
	holders="${holders:-} $!"
	pids="$pids $!"
	i=$((i + 1))
done
held=0
i=0
while [ $i -lt $HOLDERS ]; do
	waitfor "hold$i.out" held
	held=$((held + $(awk '/^held/ { print $2 }' "hold$i.out")))
	i=$((i + 1))
done
sleep 1
rss1=$(rd_rss)
kill $holders 2>/dev/null

/usr/bin/python3 - "$out" "$BULK" "$SEQ" "$PAR" "$HOLD" "$held" \
    "$rss0" "$rss1" "$cpu_bulk" "$cpu_setup" "$ncpu" "$ROUNDS" <<'PY'
import json, os, sys, platform, statistics

out, bulk, seq, par, hold, held, rss0, rss1, cpu_bulk, cpu_setup, ncpu, \
    rounds = sys.argv[1:]
bulk, seq, par, hold, held = int(bulk), int(seq), int(par), int(hold), \
    int(held)
rss0, rss1, rounds = int(rss0), int(rss1), int(rounds)
cpu_bulk, cpu_setup = float(cpu_bulk), float(cpu_setup)
kinds = ("bulk_up", "bulk_both", "setup_seq", "setup_par", "echo")

def runs(t, k):
    v = []
    for i in range(1, rounds + 1):
        with open("%s.%s.%d.out" % (t, k, i)) as f:
            v.append([float(x) for x in f.read().split()])
    return v

def nums(t, k):
    """Each column's median over the rounds; errors (the last column
    of a setup) added up, a run that failed (-1) as all its tunnels."""
    v = runs(t, k)
    m = [statistics.median(c) for c in zip(*v)]
    if k.startswith("setup"):
        n = seq if k == "setup_seq" else par * 32
        m[5] = sum(x[5] if x[5] >= 0 else n for x in v)
    return m

r = {}
raw = {}
for t in ("direct", "haproxy", "relay"):
    raw[t] = {k: runs(t, k) for k in kinds}
    s, p, e = nums(t, "setup_seq"), nums(t, "setup_par"), nums(t, "echo")
    r[t] = {
        "bulk_up_MBps": nums(t, "bulk_up")[0],
        "bulk_both_MBps": nums(t, "bulk_both")[0],
        "setup_seq_per_s": s[0], "setup_seq_p50_ms": s[1],
        "setup_seq_p99_ms": s[2], "setup_seq_echo_p50_ms": s[3],
        "setup_seq_echo_p99_ms": s[4], "setup_seq_errors": s[5],
        "setup_par32_per_s": p[0], "setup_par32_p50_ms": p[1],
        "setup_par32_p99_ms": p[2], "setup_par32_errors": p[5],
        "echo_p50_ms": e[0], "echo_p99_ms": e[1],
    }
twice = nums("haproxy2", "setup_seq")
raw["haproxy2"] = {"setup_seq": runs("haproxy2", "setup_seq")}
r["haproxy2"] = {"setup_seq_per_s": twice[0], "setup_seq_p50_ms": twice[1],
    "setup_seq_p99_ms": twice[2], "setup_seq_errors": twice[5]}
gib = (bulk * 3) * rounds / 2**30	# one way, then both ways
tunnels = (seq + par * 32) * rounds
r["relay"]["cpu_s_per_GiB"] = cpu_bulk / gib if gib else 0
r["relay"]["cpu_s_per_1000_tunnels"] = cpu_setup / tunnels * 1000
r["relay"]["held_tunnels"] = held
r["relay"]["rss_kB_per_tunnel"] = (rss1 - rss0) / held if held else 0
doc = {"machine": {"cpus": int(ncpu), "kernel": platform.release()},
    "sizes": {"bulk_bytes": bulk, "setup_seq": seq,
    "setup_par32_each": par, "echo": int(os.environ.get("BENCH_ECHO",
    20000)), "held": hold, "rounds": rounds}, "results": r,
    "rounds": raw}
with open(out, "w") as f:
    json.dump(doc, f, indent=1)

rows = [
    ("bulk, one way (MB/s)", "bulk_up_MBps", 1),
    ("bulk, both ways (MB/s each)", "bulk_both_MBps", 1),
    ("setup, sequential (per s)", "setup_seq_per_s", 1),
    ("  setup p50 (ms)", "setup_seq_p50_ms", -1),
    ("  setup p99 (ms)", "setup_seq_p99_ms", -1),
    ("  echo after setup p50 (ms)", "setup_seq_echo_p50_ms", -1),
    ("  echo after setup p99 (ms)", "setup_seq_echo_p99_ms", -1),
    ("setup, 32 at once (per s)", "setup_par32_per_s", 1),
    ("  setup p99 (ms)", "setup_par32_p99_ms", -1),
    ("  errors", "setup_par32_errors", 0),
    ("echo latency p50 (ms)", "echo_p50_ms", -1),
    ("echo latency p99 (ms)", "echo_p99_ms", -1),
]
print("%-30s %10s %10s %10s %9s %9s" % ("", "relay", "haproxy", "direct",
    "/haproxy", "/direct"))
for label, k, _ in rows:
    rv, hv, dv = r["relay"][k], r["haproxy"][k], r["direct"][k]
    print("%-30s %10.3f %10.3f %10.3f %9s %9s" % (label, rv, hv, dv,
        "%.2fx" % (rv / hv) if hv else "-",
        "%.2fx" % (rv / dv) if dv else "-"))
hv, h1 = r["haproxy2"]["setup_seq_per_s"], r["haproxy"]["setup_seq_per_s"]
print("%-30s %10.0f per s: %s HAProxy once; the relay %s of it" %
    ("setup through HAProxy twice", hv, "%.2fx" % (hv / h1) if h1 else "-",
    "%.2fx" % (r["relay"]["setup_seq_per_s"] / hv) if hv else "-"))
print("%-30s %10d of %d" % ("tunnels held at once", held, hold))
print("%-30s %10.0f bytes" % ("  relay memory per tunnel",
    r["relay"]["rss_kB_per_tunnel"] * 1024))
print("%-30s %10.3f s" % ("relay CPU per GiB", r["relay"]["cpu_s_per_GiB"]))
print("%-30s %10.3f s" % ("relay CPU per 1000 tunnels",
    r["relay"]["cpu_s_per_1000_tunnels"]))
print("(written to %s)" % out)
PY

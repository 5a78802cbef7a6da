#!/bin/sh
#
# install.sh install|uninstall BUILDDIR: what `make install' and
# `make uninstall' do.  PREFIX (/usr/local), SYSCONFDIR (/etc) and
# DESTDIR come from the environment.  Without DESTDIR (a real install)
# it also creates the user of the relay children and the empty chroot
# directory when they are missing, and, when there is no key file yet,
# one server and one client key, whose secrets it prints once.  Config
# and keys are never overwritten, nor removed by uninstall.

set -eu
what=$1
b=$(cd "$2" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
: "${PREFIX:=/usr/local}" "${SYSCONFDIR:=/etc}" "${DESTDIR:=}"
d=$DESTDIR
sbindir=$PREFIX/sbin
bindir=$PREFIX/bin
mandir=$PREFIX/share/man
testdir=$PREFIX/tests/remotedapid
os=$(uname -s)

# Every file install lays, relative to DESTDIR.
files()
{
	echo "$sbindir/remotedapid $sbindir/rapictl $bindir/rapi"
	echo "$mandir/man8/remotedapid.8 $mandir/man8/rapictl.8"
	echo "$mandir/man5/remotedapid.conf.5 $mandir/man1/rapi.1"
	echo "$mandir/man3/libremoted.3"
	echo "$PREFIX/lib/libremoted.a $PREFIX/include/remoted.h"
	if [ "$os" = Linux ]; then
		echo "/lib/systemd/system/remotedapid.service"
		echo "/usr/lib/sysusers.d/remotedapid.conf"
		echo "/usr/lib/tmpfiles.d/remotedapid.conf"
	else
		echo "$SYSCONFDIR/rc.d/remotedapid"
	fi
}

subst()
{
	sed -e "s|@SBINDIR@|$sbindir|g" "$1" >"$2"
}

if [ "$what" = uninstall ]; then
	for f in $(files); do
		rm -f "$d$f"
	done
	rm -rf "$d$testdir"
	echo "install: removed remotedapid; $SYSCONFDIR/remotedapid.conf" \
	    "and $SYSCONFDIR/remotedapid/keys are kept"
	exit 0
fi

install -d -m 755 "$d$sbindir" "$d$bindir" "$d$mandir/man1" \
    "$d$mandir/man3" "$d$mandir/man5" "$d$mandir/man8" "$d$PREFIX/lib" \
    "$d$PREFIX/include" "$d$SYSCONFDIR"
install -d -m 700 "$d$SYSCONFDIR/remotedapid"
install -m 755 "$b/sbin/remotedapid" "$b/sbin/rapictl" "$d$sbindir/"
install -m 755 "$b/bin/rapi" "$d$bindir/"
install -m 644 "$src/remotedapid/remotedapid.8" "$src/rapictl/rapictl.8" \
    "$d$mandir/man8/"
install -m 644 "$src/remotedapid/remotedapid.conf.5" "$d$mandir/man5/"
install -m 644 "$src/rapi/rapi.1" "$d$mandir/man1/"
install -m 644 "$src/libremoted/libremoted.3" "$d$mandir/man3/"
install -m 644 "$b/lib/libremoted.a" "$d$PREFIX/lib/"
install -m 644 "$src/libremoted/remoted.h" "$d$PREFIX/include/"
if [ ! -e "$d$SYSCONFDIR/remotedapid.conf" ]; then
	install -m 644 "$src/etc/remotedapid.conf" "$d$SYSCONFDIR/"
fi
tmp=$(mktemp)
if [ "$os" = Linux ]; then
	install -d -m 755 "$d/lib/systemd/system" "$d/usr/lib/sysusers.d" \
	    "$d/usr/lib/tmpfiles.d"
	subst "$src/etc/remotedapid.service" "$tmp"
	install -m 644 "$tmp" "$d/lib/systemd/system/remotedapid.service"
	install -m 644 "$src/etc/remotedapid.sysusers" \
	    "$d/usr/lib/sysusers.d/remotedapid.conf"
	install -m 644 "$src/etc/remotedapid.tmpfiles" \
	    "$d/usr/lib/tmpfiles.d/remotedapid.conf"
else
	install -d -m 755 "$d$SYSCONFDIR/rc.d"
	subst "$src/etc/rc.d/remotedapid" "$tmp"
	install -m 555 "$tmp" "$d$SYSCONFDIR/rc.d/remotedapid"
fi
rm -f "$tmp"

# The test suite, to run where it is installed: kyua test -k
# $testdir/Kyuafile.  Tests of the test build's hooks, the test of
# `make install' itself and `make soak' (they need the build tree) stay
# behind.
rm -rf "$d$testdir"
install -d -m 755 "$d$testdir"
(cd "$b/tests" && tar cf - --exclude=hooks --exclude=hooks_test.sh \
    --exclude=garbage_test.sh --exclude=install_test.sh --exclude=./soak .) |
    (cd "$d$testdir" && tar xf -)
sed -i.orig -e "s|$b|$PREFIX|g" "$d$testdir/lib/lib.sh"
sed -i.orig -e '/hooks_test.sh/d' "$d$testdir/daemon/Kyuafile"
sed -i.orig -e '/install_test.sh/d' "$d$testdir/deploy/Kyuafile"
sed -i.orig -e '/garbage_test.sh/d' "$d$testdir/hardening/Kyuafile"
rm -f "$d$testdir/lib/lib.sh.orig" "$d$testdir/daemon/Kyuafile.orig" \
    "$d$testdir/deploy/Kyuafile.orig" "$d$testdir/hardening/Kyuafile.orig" \
    "$d$testdir/kyua-results.db"

[ -z "$DESTDIR" ] || exit 0

# A real install: the relay children's user and chroot, the first keys.
if ! id _remotedapi >/dev/null 2>&1; then
	if command -v useradd >/dev/null 2>&1; then
		useradd --system --user-group --home-dir /var/empty \
		    --no-create-home --shell /usr/sbin/nologin _remotedapi
	else
		useradd -d /var/empty -s /sbin/nologin -c "remotedapid" \
		    _remotedapi
	fi
	echo "install: created user _remotedapi"
fi
install -d -m 755 /var/empty
keys=$SYSCONFDIR/remotedapid/keys
if [ ! -e "$keys" ]; then
	echo "install: the first keys (shown once, stored nowhere):"
	printf '  server key "server": '
	"$sbindir/rapictl" -f "$keys" key add server server 2>/dev/null |
	    head -1
	printf '  client key "client": '
	"$sbindir/rapictl" -f "$keys" key add client client 2>/dev/null |
	    head -1
	chmod 600 "$keys"
fi

#! /usr/bin/env atf-sh
#
# install_test.sh: `make install DESTDIR=... PREFIX=/usr/local' and
# `make uninstall' from the build tree this suite was built in.  Never
# installed itself (etc/install.sh leaves it out): it needs the tree.

. "$(atf_get_srcdir)/common.sh"

# it_tree: the source tree ($IT_SRC) and build directory ($IT_O) of
# this suite, or skip.
it_tree()
{
	IT_B=$(rd_prefix)
	IT_SRC=$(dirname "$IT_B")
	IT_O=$(basename "$IT_B")
	[ -f "$IT_SRC/Makefile" ] && [ -f "$IT_SRC/etc/install.sh" ] &&
	    [ -x "$IT_B/sbin/remotedapid" ] ||
	    atf_skip "not run from a build tree ($IT_B)"
}

# it_make TARGET: make TARGET into ./root (DESTDIR), PREFIX=/usr/local,
# with the build directory and flags this suite was built with.
it_make()
{
	it_tree
	_san=
	grep -q fsanitize "$IT_B/flags" 2>/dev/null && _san=SANITIZE=1
	# the outer make's jobserver is not ours
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$IT_SRC" "$1" \
	    O="$IT_O" $_san DESTDIR="$PWD/root" PREFIX=/usr/local \
	    >"make-$1.log" 2>&1 ||
	    atf_fail "make $1 failed: $(tail -5 "make-$1.log" | rd_flat)"
}

# it_listing [EXCLUDE]: every file, link and directory under ./root with
# its type and mode, and each file's sha256; paths under EXCLUDE left
# out.
it_listing()
{
	(cd root && find . ${1:+-path "./$1" -prune -o} -printf '%y %m %p\n' |
	    sort | while read -r _t _m _p; do
		if [ "$_t" = f ]; then
			echo "$_t $_m $_p $(rd_sha256 "$_p")"
		else
			echo "$_t $_m $_p"
		fi
	done)
}

IT_FILES="
./etc/remotedapid.conf
./lib/systemd/system/remotedapid.service
./usr/lib/sysusers.d/remotedapid.conf
./usr/lib/tmpfiles.d/remotedapid.conf
./usr/local/bin/rapi
./usr/local/include/remoted.h
./usr/local/lib/libremoted.a
./usr/local/sbin/rapictl
./usr/local/sbin/remotedapid
./usr/local/share/man/man1/rapi.1
./usr/local/share/man/man3/libremoted.3
./usr/local/share/man/man5/remotedapid.conf.5
./usr/local/share/man/man8/rapictl.8
./usr/local/share/man/man8/remotedapid.8"

IT_TESTS=usr/local/tests/remotedapid

atf_test_case install_lays_expected_tree cleanup
install_lays_expected_tree_head()
{
	atf_set descr "make install DESTDIR PREFIX=/usr/local: binaries," \
	    "pages, library and header, config, unit (ExecStart in" \
	    "/usr/local/sbin), sysusers and tmpfiles; the test suite in" \
	    "usr/local/tests/remotedapid, runnable, without hooks nor this test"
	atf_set timeout 300
}
install_lays_expected_tree_body()
{
	it_make install
	got=$(cd root && find . -path "./$IT_TESTS" -prune -o -type f -print |
	    sort)
	want=$(echo "$IT_FILES" | sed '/^$/d' | sort)
	[ "$got" = "$want" ] ||
	    atf_fail "installed files differ from the expected: $(printf '%s\n' "$want" >want; printf '%s\n' "$got" >got; diff want got | grep '^[<>]' | rd_flat)"
	for f in usr/local/sbin/remotedapid usr/local/sbin/rapictl \
	    usr/local/bin/rapi; do
		[ "$(stat -c %a "root/$f")" = 755 ] ||
		    atf_fail "$f: mode $(stat -c %a "root/$f"), expected 755"
		cmp -s "root/$f" "$IT_B/${f#usr/local/}" ||
		    atf_fail "$f is not the one built in $IT_B"
	done
	[ "$(stat -c %a root/etc/remotedapid)" = 700 ] ||
	    atf_fail "etc/remotedapid: mode $(stat -c %a root/etc/remotedapid), expected 700"
	unit=root/lib/systemd/system/remotedapid.service
	grep -q '^ExecStart=/usr/local/sbin/remotedapid -d$' "$unit" &&
	    grep -q '^ExecReload=/usr/local/sbin/rapictl reload$' "$unit" &&
	    ! grep -q '@' "$unit" ||
	    atf_fail "the unit's commands are not in /usr/local/sbin: $(grep '^Exec' "$unit" | rd_flat)"
	grep -q '^u _remotedapi ' root/usr/lib/sysusers.d/remotedapid.conf ||
	    atf_fail "sysusers: no user _remotedapi"
	# the installed suite
	t=root/$IT_TESTS
	[ -f "$t/Kyuafile" ] && [ -f "$t/deploy/Kyuafile" ] &&
	    [ -x "$t/deploy/tls_test.sh" ] && [ -x "$t/lib/rdpeer" ] ||
	    atf_fail "the test suite is not in $IT_TESTS"
	[ ! -e "$t/hooks" ] && [ ! -e "$t/daemon/hooks_test.sh" ] &&
	    [ ! -e "$t/deploy/install_test.sh" ] ||
	    atf_fail "the suite has the test build's hooks or install_test.sh"
	grep -q 'hooks_test\|install_test' "$t/daemon/Kyuafile" \
	    "$t/deploy/Kyuafile" &&
	    atf_fail "a Kyuafile still names a test left behind"
	grep -q 'atf_config_get prefix "/usr/local"' "$t/lib/lib.sh" ||
	    atf_fail "the installed lib.sh does not default to /usr/local"
	grep -rl "$IT_B" "$t" >builddir.log &&
	    atf_fail "the installed suite names the build tree: $(rd_flat builddir.log)"
	kyua list -k "$PWD/$t/Kyuafile" >kyua-list.log 2>&1 ||
	    atf_fail "kyua list on the installed suite: $(tail -5 kyua-list.log | rd_flat)"
	grep -q '^deploy/tls_test.sh:' kyua-list.log ||
	    atf_fail "kyua list shows no deploy tests: $(tail -5 kyua-list.log | rd_flat)"
}
install_lays_expected_tree_cleanup()
{
	rm -rf root
}

atf_test_case reinstall_changes_nothing cleanup
reinstall_changes_nothing_head()
{
	atf_set descr "A second make install (an upgrade) changes nothing:" \
	    "every path, type, mode and checksum the same (the test suite" \
	    "aside)"
	atf_set timeout 300
}
reinstall_changes_nothing_body()
{
	it_make install
	it_listing "$IT_TESTS" >first
	it_make install
	it_listing "$IT_TESTS" >second
	cmp -s first second ||
	    atf_fail "the second install changed: $(diff first second | grep '^[<>]' | rd_flat)"
}
reinstall_changes_nothing_cleanup()
{
	rm -rf root
}

atf_test_case reinstall_keeps_config_and_keys cleanup
reinstall_keeps_config_and_keys_head()
{
	atf_set descr "make install over an edited remotedapid.conf and a" \
	    "key file leaves both as they are"
	atf_set timeout 300
}
reinstall_keeps_config_and_keys_body()
{
	it_make install
	printf 'listen on 127.0.0.1 port 443 tls\n' >root/etc/remotedapid.conf
	printf 'server api1 sha256:%064d\n' 0 >root/etc/remotedapid/keys
	chmod 600 root/etc/remotedapid/keys
	cp root/etc/remotedapid.conf conf.before
	cp root/etc/remotedapid/keys keys.before
	it_make install
	cmp -s conf.before root/etc/remotedapid.conf ||
	    atf_fail "install overwrote remotedapid.conf: $(rd_flat root/etc/remotedapid.conf)"
	cmp -s keys.before root/etc/remotedapid/keys &&
	    [ "$(stat -c %a root/etc/remotedapid/keys)" = 600 ] ||
	    atf_fail "install changed the key file"
}
reinstall_keeps_config_and_keys_cleanup()
{
	rm -rf root
}

atf_test_case uninstall_keeps_only_config_and_keys cleanup
uninstall_keeps_only_config_and_keys_head()
{
	atf_set descr "make uninstall removes every file install laid," \
	    "the test suite included, and keeps remotedapid.conf and the keys"
	atf_set timeout 300
}
uninstall_keeps_only_config_and_keys_body()
{
	it_make install
	printf 'server api1 sha256:%064d\n' 0 >root/etc/remotedapid/keys
	it_make uninstall
	left=$(cd root && find . ! -type d | sort | tr '\n' ' ')
	[ "$left" = "./etc/remotedapid.conf ./etc/remotedapid/keys " ] ||
	    atf_fail "after uninstall, expected only the config and the keys, saw: $left"
	[ ! -e "root/$IT_TESTS" ] ||
	    atf_fail "uninstall left $IT_TESTS"
}
uninstall_keeps_only_config_and_keys_cleanup()
{
	rm -rf root
}

atf_test_case installed_unit_verifies cleanup
installed_unit_verifies_head()
{
	atf_set descr "systemd-analyze verify on the installed unit (a copy" \
	    "whose paths point into DESTDIR, the installed pages on" \
	    "MANPATH) says nothing and exits 0"
	atf_set require.progs systemd-analyze
	atf_set timeout 300
}
installed_unit_verifies_body()
{
	it_make install
	mkdir unit
	sed -e "s|/usr/local/|$PWD/root/usr/local/|g" \
	    root/lib/systemd/system/remotedapid.service \
	    >unit/remotedapid.service
	MANPATH=$PWD/root/usr/local/share/man systemd-analyze verify \
	    unit/remotedapid.service >verify.log 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ ! -s verify.log ] ||
	    atf_fail "systemd-analyze verify: exit $rc: $(rd_flat verify.log)"
}
installed_unit_verifies_cleanup()
{
	rm -rf root unit
}

atf_test_case installed_pages_lint_clean cleanup
installed_pages_lint_clean_head()
{
	atf_set descr "mandoc -Tlint -Wwarning on every installed manual" \
	    "page (one per program, the library and the config file)" \
	    "says nothing and exits 0"
	atf_set require.progs mandoc
	atf_set timeout 300
}
installed_pages_lint_clean_body()
{
	it_make install
	pages=$(find root/usr/local/share/man -type f | sort)
	for p in man1/rapi.1 man3/libremoted.3 man5/remotedapid.conf.5 \
	    man8/remotedapid.8 man8/rapictl.8; do
		echo "$pages" | grep -q "/$p$" ||
		    atf_fail "no $p installed: $(echo $pages)"
	done
	mandoc -Tlint -Wwarning $pages >lint.log 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ ! -s lint.log ] ||
	    atf_fail "mandoc -Tlint: exit $rc: $(rd_flat lint.log)"
}
installed_pages_lint_clean_cleanup()
{
	rm -rf root
}

atf_init_test_cases()
{
	atf_add_test_case install_lays_expected_tree
	atf_add_test_case reinstall_changes_nothing
	atf_add_test_case reinstall_keeps_config_and_keys
	atf_add_test_case uninstall_keeps_only_config_and_keys
	atf_add_test_case installed_unit_verifies
	atf_add_test_case installed_pages_lint_clean
}

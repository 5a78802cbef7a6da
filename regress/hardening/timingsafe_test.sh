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

# timingsafe_test.sh: row 5, the key compare takes the same path
# whatever the key: callgrind counts its instructions, memcheck looks
# for a branch on the secret (ctgrind).  ct_equal (ct_equal.c) does the
# compares; a compare that stops at the first difference must fail both.

# ct_setup: $CT, the program; skipped where valgrind cannot run it.
ct_setup()
{
	CT="$(atf_get_srcdir)/ct_equal"
	[ -x "$CT" ] || atf_fail "no program $CT"
	if "$CT" sanitized; then
		atf_skip "built with ASan, which valgrind cannot run"
	fi
}

# ct_cost FUNCTION ARG ...: the instructions callgrind counts in
# FUNCTION (and what it calls) when ct_equal runs with ARGs; on failure
# nothing, and cg.err says why.
ct_cost()
{
	_fn=$1
	shift
	rm -f cg.out
	valgrind -q --tool=callgrind --toggle-collect="$_fn" \
	    --callgrind-out-file=cg.out "$CT" "$@" >/dev/null 2>cg.err ||
	    return 1
	_n=$(sed -n 's/^totals: *//p' cg.out)
	[ -n "$_n" ] && [ "$_n" -gt 0 ] || return 1
	echo "$_n"
}

# ct_jumps ARG ...: how many errors memcheck reports when ct_equal runs
# with ARGs (the secret digest marked undefined); mc.err has them.
ct_jumps()
{
	valgrind -q --error-exitcode=99 "$CT" "$@" >/dev/null 2>mc.err
	_rc=$?
	[ $_rc = 0 ] || [ $_rc = 99 ] || return 1
	grep -c "depends on uninitialised value" mc.err
	return 0
}

atf_test_case compare_cost_same_wherever_keys_differ
compare_cost_same_wherever_keys_differ_head()
{
	atf_set descr "callgrind: digest_equal costs the same instructions" \
	    "for digests that differ at byte 0, 16, 31, everywhere or nowhere"
	atf_set require.progs valgrind
	atf_set timeout 120
}
compare_cost_same_wherever_keys_differ_body()
{
	ct_setup
	equal=$(ct_cost digest_equal cost none) ||
	    atf_fail "callgrind counted nothing: $(cat cg.err)"
	echo "equal digests: $equal instructions"
	for how in first middle last all; do
		n=$(ct_cost digest_equal cost "$how") ||
		    atf_fail "callgrind counted nothing: $(cat cg.err)"
		echo "digests differing ($how): $n instructions"
		[ "$n" = "$equal" ] ||
		    atf_fail "expected $equal instructions (as for equal digests), saw $n for digests differing ($how)"
	done
}

atf_test_case compare_never_branches_on_secret
compare_never_branches_on_secret_head()
{
	atf_set descr "memcheck with the configured digest undefined:" \
	    "digest_equal makes no jump and no index that depend on it"
	atf_set require.progs valgrind
	atf_set timeout 120
}
compare_never_branches_on_secret_body()
{
	ct_setup
	for how in none first; do
		n=$(ct_jumps secret "$how") ||
		    atf_fail "memcheck failed: $(cat mc.err)"
		[ "$n" = 0 ] ||
		    atf_fail "expected no secret-dependent jump ($how), saw $n: $(grep -A3 'depends on' mc.err | tr '\n' ' ')"
	done
}

atf_test_case naive_compare_is_caught
naive_compare_is_caught_head()
{
	atf_set descr "both methods see a compare that returns at the" \
	    "first difference: its cost varies and it branches on the secret"
	atf_set require.progs valgrind
	atf_set timeout 120
}
naive_compare_is_caught_body()
{
	ct_setup
	first=$(ct_cost naive_equal -n cost first) &&
	    last=$(ct_cost naive_equal -n cost last) ||
	    atf_fail "callgrind counted nothing: $(cat cg.err)"
	echo "naive compare: $first instructions (byte 0), $last (byte 31)"
	[ "$first" != "$last" ] ||
	    atf_fail "callgrind saw the same cost ($first) for the naive compare"
	n=$(ct_jumps -n secret first) ||
	    atf_fail "memcheck failed: $(cat mc.err)"
	[ "$n" -gt 0 ] ||
	    atf_fail "memcheck saw no secret-dependent jump in the naive compare"
}

atf_init_test_cases()
{
	atf_add_test_case compare_cost_same_wherever_keys_differ
	atf_add_test_case compare_never_branches_on_secret
	atf_add_test_case naive_compare_is_caught
}

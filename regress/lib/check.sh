#!/bin/sh
#
# check.sh BUILDDIR [SUITE [NAME=VALUE ...]]: run the Kyua suite of a
# build directory (tests/Kyuafile, results in kyua-results.db) or one
# SUITE of it (tests/SUITE/Kyuafile, results in kyua-SUITE.db), two
# cases at a time, with the test-suite variables given; show the output
# of every failed or broken case, print one summary line "N passed,
# N failed, N skipped" (not with RD_SUMMARY=no: .ci/run sums several
# runs), and exit non-zero on any failure.

o=$1
if [ $# -ge 2 ]; then
	kyuafile=$o/tests/$2/Kyuafile
	db=$o/kyua-$2.db
	shift 2
else
	kyuafile=$o/tests/Kyuafile
	db=$o/kyua-results.db
	shift
fi
vars=
for v in "$@"; do
	vars="$vars --variable=test_suites.remotedapid.$v"
done

# Only a sanitizer build reads these.
supp=$(cd "$o/tests/lib" 2>/dev/null && pwd)/lsan.supp
if [ -f "$supp" ]; then
	export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
fi
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

rm -f "$db"
kyua --variable=parallelism=2 $vars test -k "$kyuafile" \
    --results-file="$db"
rc=$?
if [ $rc -ne 0 ] && [ -f "$db" ]; then
	# Everything but the environment dump of the execution context.
	kyua report --results-file="$db" --verbose \
	    --results-filter=broken,failed |
	    sed '/^===> Execution context/,/^===> /{/^===> [^E]/!d;}'
fi
[ "${RD_SUMMARY:-yes}" = no ] || sh "$(dirname "$0")/kyua-summary" "$db"
exit $rc

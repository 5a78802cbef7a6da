#!/bin/sh
#
# check.sh BUILDDIR: run the Kyua suite of a build directory, show the
# output of every failed or broken case, print one summary line
# "N passed, N failed, N skipped", and exit non-zero on any failure.

o=$1
db=$o/kyua-results.db

# Only a SANITIZE=1 build reads these.
supp=$(cd "$o/tests/lib" && pwd)/lsan.supp
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

rm -f "$db"
kyua --variable=parallelism=2 test -k "$o/tests/Kyuafile" \
    --results-file="$db"
rc=$?
if [ $rc -ne 0 ] && [ -f "$db" ]; then
	# Everything but the environment dump of the execution context.
	kyua report --results-file="$db" --verbose \
	    --results-filter=broken,failed |
	    sed '/^===> Execution context/,/^===> /{/^===> [^E]/!d;}'
fi
sh "$o/tests/lib/kyua-summary" "$db"
exit $rc

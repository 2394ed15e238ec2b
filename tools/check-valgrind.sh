#!/bin/sh
# `make check-valgrind`: the unit tests, then integration tests against the
# normal build with `postern serve` (and every child) under valgrind memcheck.
#   tools/check-valgrind.sh LOGDIR UNIT_BIN... -- INTEGRATION_TEST...
# No integration test named: the whole suite. Each process writes
# LOGDIR/*.PID.log; tools/sanitizer-logs.sh fails the run on any error in them.
logs=$1; shift
rm -rf "$logs" && mkdir -p "$logs" && chmod 1777 "$logs"
VG="valgrind -q --error-exitcode=99 --trace-children=yes
--trace-children-skip=/bin/*,/usr/bin/*,/usr/sbin/*"
st=0; pass=0; fail=0
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	t=$1; shift
	# Unit tests: leaks count (definite ones), the process ends cleanly.
	# shellcheck disable=SC2086
	if $VG --leak-check=full --errors-for-leak-kinds=definite \
		--log-file="$logs/unit-$(basename "$t").%p.log" "$t" >"$logs/out-$(basename "$t")" 2>&1; then
		pass=$((pass+1))
	else
		fail=$((fail+1)); st=1
		echo "FAILED under valgrind: $t"; tail -n 20 "$logs/out-$(basename "$t")"
	fi
done
echo "unit (valgrind): $pass passed, $fail failed"
[ "$1" = -- ] && shift
POSTERN_VALGRIND=1 POSTERN_VALGRIND_LOGS=$logs ${PYTHON:-python3} tests/integration/run.py -q "$@" || st=1
sh tools/sanitizer-logs.sh "$logs" || st=1
exit $st

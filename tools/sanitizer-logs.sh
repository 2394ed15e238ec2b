#!/bin/sh
# Reports sanitizer and valgrind findings left in a log directory by
# `make check-asan` (ASAN_OPTIONS=log_path=DIR/asan: DIR/asan.PID) and
# `make check-valgrind` (DIR/vg.PID.log). Exits 1 if any log holds an error.
#   tools/sanitizer-logs.sh DIR
dir=$1
[ -d "$dir" ] || { echo "sanitizer-logs: no directory $dir" >&2; exit 1; }
# memcheck error kinds, sanitizer reports, and a non-zero summary.
pat='ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|runtime error: |==[0-9]+== (Invalid (read|write|free)|Mismatched free|Conditional jump|Use of uninitialised|Syscall param|Source and destination overlap|Argument .* fishy|Jump to the invalid|Process terminating with default action of signal (4|6|7|8|11) )|ERROR SUMMARY: [1-9]'
bad=0; n=0
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	n=$((n+1))
	if grep -qE "$pat" "$f"; then
		bad=$((bad+1))
		echo "---- $f"
		head -n 60 "$f"
	fi
done
echo "sanitizer-logs: $n logs in $dir, $bad with errors"
[ "$bad" -eq 0 ]

#!/bin/sh
# Runs libFuzzer targets for a set time; used by `make fuzz-smoke` and
# `make fuzz FUZZ_TIME=...`.
#   tools/fuzz-smoke.sh smoke SECONDS build-fuzz/fuzz_x ...
#       each target on a fresh copy of fuzz/corpus/x (build-fuzz/smoke/x)
#   tools/fuzz-smoke.sh long SECONDS build-fuzz/fuzz_x ...
#       each target (only $FUZZ_ONLY if set) reading fuzz/corpus/x and keeping
#       what it finds in build-fuzz/corpus/x across runs
# The committed corpus is only read. Crashes, leaks, timeouts and OOMs go to
# build-fuzz/crashes/x-*; logs to build-fuzz/logs/x.log. Prints the final
# coverage of each target ("cov:" edges, "ft:" features) and one summary
# line "fuzz-smoke: N passed, M failed"; exits 1 if any target failed.
# Extra libFuzzer options: $FUZZ_FLAGS (e.g. FUZZ_FLAGS=-jobs=2).
mode=$1; secs=$2; shift 2
case $mode in smoke|long) ;; *) echo "usage: $0 smoke|long SECONDS BIN..." >&2; exit 64 ;; esac
out=build-fuzz
mkdir -p "$out/crashes" "$out/logs"
pass=0; fail=0; ran=0
for bin in "$@"; do
	t=$(basename "$bin")
	name=${t#fuzz_}
	if [ -n "$FUZZ_ONLY" ] && [ "$FUZZ_ONLY" != "$t" ] && [ "$FUZZ_ONLY" != "$name" ]; then
		continue
	fi
	ran=$((ran+1))
	seed=fuzz/corpus/$name
	if [ "$mode" = smoke ]; then
		work=$out/smoke/$name
		rm -rf "$work"
		mkdir -p "$work"
		[ -d "$seed" ] && cp -R "$seed/." "$work/"
		dirs=$work
	else
		work=$out/corpus/$name
		mkdir -p "$work"
		dirs=$work
		[ -d "$seed" ] && dirs="$work $seed"
	fi
	[ -d "$seed" ] || echo "$t: no seed corpus $seed (starting empty)"
	dict=
	[ -f "fuzz/$t.dict" ] && dict=-dict=fuzz/$t.dict
	log=$out/logs/$name.log
	# detect_leaks stays on: a leak in a parser is a failure.
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/crashes/$name-" \
		$dict $FUZZ_FLAGS $dirs >"$log" 2>&1
	rc=$?
	cov=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 |
		sed -E 's/^#([0-9]+)[[:space:]]+[A-Z_]+[[:space:]]+/runs: \1 /; s/ lim: [0-9]+//')
	if [ "$rc" -eq 0 ]; then
		pass=$((pass+1))
		echo "$t: ok ${secs}s $cov"
	else
		fail=$((fail+1))
		echo "$t: FAILED (exit $rc) $cov"
		grep -E 'ERROR: |runtime error|SUMMARY: |Test unit written' "$log" | head -n 8 | sed 's/^/    /'
		echo "    log: $log"
	fi
done
[ "$ran" -gt 0 ] || { echo "fuzz-smoke: no target matches '$FUZZ_ONLY'"; exit 1; }
label=fuzz-smoke; [ "$mode" = long ] && label=fuzz
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# Runs the libFuzzer harnesses built by `make fuzz-build` (build/fuzz/fuzz_NAME), each for
# FUZZ_SECONDS seconds (60), starting from its seed corpus fuzz/corpus/NAME and the inputs of
# earlier runs (build/fuzz/corpus/NAME, where new ones go), with its dictionary
# fuzz/dict/NAME.dict when there is one. Prints one line per harness: executions, coverage
# (libFuzzer's cov: edges, ft: features) and the corpus size. A crash stops that harness and
# leaves its input as build/fuzz/crash-NAME-*: copy it into fuzz/corpus/NAME once fixed.
#   scripts/fuzz.sh [NAME...]      (default: every harness)
set -u
cd "$(dirname "$0")/.."
secs="${FUZZ_SECONDS:-60}"
jobs_arg="${FUZZ_JOBS:-}"
names="$*"
[ -n "$names" ] || names=$(ls fuzz/fuzz_*.c | sed 's,fuzz/fuzz_\(.*\)\.c,\1,')
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=""
for n in $names; do
	bin="build/fuzz/fuzz_$n"
	[ -x "$bin" ] || { echo "fuzz: $bin is not built (make fuzz-build)" >&2; exit 2; }
	mkdir -p "build/fuzz/corpus/$n" build/fuzz/logs
	dict=""
	[ -f "fuzz/dict/$n.dict" ] && dict="-dict=fuzz/dict/$n.dict"
	log="build/fuzz/logs/$n.log"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="build/fuzz/crash-$n-" $dict $jobs_arg \
		"build/fuzz/corpus/$n" "fuzz/corpus/$n" > "$log" 2>&1
	rc=$?
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	if [ "$rc" -eq 0 ]; then
		printf 'fuzz %-14s %5ss  %10s execs  cov %5s  ft %6s  corpus %5s  ok\n' "$n" "$secs" "$execs" "$cov" "$ft" "$corp"
	else
		printf 'fuzz %-14s FAILED (exit %s): see %s and build/fuzz/crash-%s-*\n' "$n" "$rc" "$log" "$n"
		grep -E 'ERROR|invariant|SUMMARY' "$log" | head -n 5 | sed 's/^/    /'
		failed="$failed $n"
	fi
done
[ -z "$failed" ] || { echo "fuzz: failed:$failed"; exit 1; }

#!/bin/sh
# Runs the test suites under the sanitizer build: lint (the project's rules, the module graph
# among them), unit (and the scoring library against scikit-learn, when python3-sklearn is
# installed: else a SKIP line says so; the drift statistics against SciPy and live quality
# against scikit-learn likewise),
# integration, browser (when the dashboard tests exist), then the benchmark at smoke size.
# Each test binary runs in its own process with a timeout. The unit suite includes the fuzz
# corpora, replayed (fuzz/). `tests/run.sh lint`, `tests/run.sh unit` or `tests/run.sh
# integration` runs one suite.
set -u
cd "$(dirname "$0")/.."

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export ATRIUM_BIN="${ATRIUM_BIN:-$PWD/build/asan/atrium}"
export CMOCKA_MESSAGE_OUTPUT=stdout
# Test aid: fewer PBKDF2 rounds, so sanitizer builds do not spend a second per password.
export ATRIUM_TEST_PBKDF2_ITERATIONS="${ATRIUM_TEST_PBKDF2_ITERATIONS:-1000}"

suite="${1:-all}"
failed=""
passed=0

run_one() {
	name="$1"; shift
	limit="$1"; shift
	start=$(date +%s)
	if timeout -k 10 "$limit" "$@" > "build/test-logs/$name.log" 2>&1; then
		passed=$((passed + 1))
		printf '  PASS  %-40s %3ss\n' "$name" "$(( $(date +%s) - start ))"
	else
		rc=$?
		failed="$failed $name"
		printf '  FAIL  %-40s (exit %s) log: build/test-logs/%s.log\n' "$name" "$rc" "$name"
		tail -n 40 "build/test-logs/$name.log" | sed 's/^/        /'
	fi
}

mkdir -p build/test-logs/lint build/test-logs/fuzz build/test-logs/unit build/test-logs/integration build/test-logs/web

if [ "$suite" = all ] || [ "$suite" = lint ]; then
	echo "lint"
	run_one "lint/modgraph-checker" 120 tests/lint/test_modgraph.sh
	run_one "lint/lint" 300 env ASAN_OPTIONS= scripts/lint.sh
fi

if [ "$suite" = all ] || [ "$suite" = unit ]; then
	echo "unit tests"
	for t in build/asan/tests/unit/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" 120 "$t"
	done
	# the fuzzers' corpora (fuzz/corpus/NAME: seeds and every input that once found a fault),
	# replayed through the harnesses built with gcc (fuzz/replay.c): `make fuzz` runs them
	for t in build/asan/tests/fuzz/replay_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t" | sed 's/^replay_//')
		run_one "fuzz/replay_$name" 300 "$t" "fuzz/corpus/$name"
	done
	# allocation failures: each allocation of the chosen scenarios failed in turn (tests/alloc)
	if [ -x build/asan/tests/alloc/test_alloc ]; then
		run_one "unit/alloc-failures" 300 build/asan/tests/alloc/test_alloc
	fi
	# the scoring library against scikit-learn, when Debian's python3-sklearn is installed
	if [ -x tests/scoring/run.sh ]; then
		if why=$(tests/scoring/run.sh --available); then
			run_one "unit/scoring-vs-sklearn" 600 tests/scoring/run.sh
		else
			printf '  SKIP  %-40s %s\n' "unit/scoring-vs-sklearn" "($why)"
		fi
	fi
	# live quality by task against scikit-learn, when Debian's python3-sklearn is installed
	if [ -x tests/quality/run.sh ]; then
		if why=$(tests/quality/run.sh --available); then
			run_one "unit/quality-vs-sklearn" 300 tests/quality/run.sh
		else
			printf '  SKIP  %-40s %s\n' "unit/quality-vs-sklearn" "($why)"
		fi
	fi
	# the monitoring statistics against SciPy, when Debian's python3-scipy is installed
	if [ -x tests/drift/run.sh ]; then
		if why=$(tests/drift/run.sh --available); then
			run_one "unit/drift-vs-scipy" 300 tests/drift/run.sh
		else
			printf '  SKIP  %-40s %s\n' "unit/drift-vs-scipy" "($why)"
		fi
	fi
fi

if [ "$suite" = all ] || [ "$suite" = integration ]; then
	echo "integration tests"
	for t in build/asan/tests/integration/test_*; do
		[ -x "$t" ] || continue
		run_one "integration/$(basename "$t")" 900 "$t"
	done
	if [ -x tests/readme/run.sh ]; then
		run_one "integration/readme-walkthrough" 300 tests/readme/run.sh
		run_one "integration/readme-competition" 300 tests/readme/run.sh walkthrough-competition
		run_one "integration/readme-monitoring" 300 tests/readme/run.sh walkthrough-monitoring
		run_one "integration/readme-sweeps" 300 tests/readme/run.sh walkthrough-sweeps
	fi
	# the real MLflow 2.9.2 client (scripts/mlflow-client.sh lays it out), when it is installed
	if [ -x tests/mlflow/run.sh ]; then
		for t in tests/mlflow/*.py; do
			t=$(basename "$t" .py)
			if why=$(tests/mlflow/run.sh --available "$t"); then
				run_one "integration/mlflow-$t" 600 tests/mlflow/run.sh "$t"
			else
				printf '  SKIP  %-40s %s\n' "integration/mlflow-$t" "($why)"
			fi
		done
	fi
fi

if { [ "$suite" = all ] || [ "$suite" = web ]; } && [ -f tests/web/run.sh ]; then
	echo "browser tests"
	run_one "web/dashboard" 900 sh tests/web/run.sh
fi

if [ "$suite" = all ] && [ -x bench/run.sh ]; then
	echo "benchmark (smoke size)"
	run_one "bench-smoke" 600 env BENCH_SMOKE=1 bench/run.sh
fi

echo
if [ -n "$failed" ]; then
	echo "FAILED:$failed ($passed passed)"
	exit 1
fi
echo "all $passed test programs passed"

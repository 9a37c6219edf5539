#!/bin/sh
# bench/run.sh: the benchmark driver (`make bench`; `make bench-smoke` sets BENCH_SMOKE=1).
# Builds nothing: the Makefile built build/atrium and build/bench/*. Runs every scenario in
# bench/scenarios/ (one file each, in file-name order; each adds itself to SCENARIOS and
# writes rows through bench/lib.sh), prints the machine and ONE table, and writes the same to
# bench/results/latest.json (smoke runs: build/bench/smoke.json, so they never overwrite the
# committed results). Everything it starts runs on 127.0.0.1 and is stopped by the trap, also
# on failure.
#
# It fails only when something does not work (a scenario's server crashed or answered
# errors); a missed target is reported as MISS and fails only with BENCH_STRICT=1.
#
# Environment:
#   BENCH_SMOKE=1     tiny sizes (about a second per scenario), same code paths
#   BENCH_ONLY="a b"  run only these scenarios (results go to build/bench/partial.json)
#   BENCH_ATRIUM=...  the atrium binary (default build/atrium, the release build)
#   BENCH_PIN=0       do not pin the server to CPU 0 and the load generator to CPU 1
#                     (smoke runs default to 0)
#   BENCH_STRICT=1    exit 1 when a target is missed
set -u
cd "$(dirname "$0")/.." || exit 1

BENCH_SMOKE=${BENCH_SMOKE:-0}
BENCH_BIN=build/bench
ATRIUM=${BENCH_ATRIUM:-build/atrium}
SCENARIOS=""

for p in "$ATRIUM" "$BENCH_BIN/loadgen" "$BENCH_BIN/refserver" "$BENCH_BIN/startup" "$BENCH_BIN/sqlite_naive" \
	"$BENCH_BIN/upload_ref" "$BENCH_BIN/upload_put" "$BENCH_BIN/seed_runs" "$BENCH_BIN/seed_evals" "$BENCH_BIN/dispatch_sim" \
	"$BENCH_BIN/scoring" "$BENCH_BIN/profile_build" "$BENCH_BIN/sweep_sim"; do
	if [ ! -x "$p" ]; then
		echo "bench: '$p' is not built; run 'make bench' (or 'make bench-smoke')" >&2
		exit 1
	fi
done

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/atrium-bench.XXXXXX") || exit 1
: > "$BENCH_TMP/pids"
: > "$BENCH_TMP/rows.tsv"

# shellcheck disable=SC2317 # runs from the trap
cleanup() {
	trap - EXIT INT TERM HUP
	while read -r pid; do
		kill -KILL "$pid" 2>/dev/null
	done < "$BENCH_TMP/pids"
	wait 2>/dev/null
	rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# shellcheck source=bench/lib.sh
. bench/lib.sh

# ---- sizes ----
# shellcheck disable=SC2034 # read by the scenario files
if [ "$BENCH_SMOKE" = 1 ]; then
	LOAD_CONNS=32 LOAD_WARMUP=0.2 LOAD_SECONDS=0.4 LOAD_REPS=1
	SIZE=smoke
else
	LOAD_CONNS=32 LOAD_WARMUP=0.5 LOAD_SECONDS=2 LOAD_REPS=5
	SIZE=full
fi

# ---- pinning: on a small machine the server and the load generator share the cores ----
CORES=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
PIN_SERVER="" PIN_LOAD="" PIN_NOTE="not pinned"
# (not at smoke size: its figures are not judged, and a pinned server on a loaded machine
# could starve on its core while the other one idles)
[ "$BENCH_SMOKE" = 1 ] && BENCH_PIN=${BENCH_PIN:-0}
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$CORES" -ge 2 ] && command -v taskset > /dev/null 2>&1; then
	PIN_SERVER="taskset -c 0" PIN_LOAD="taskset -c 1"
	PIN_NOTE="server (Atrium or reference) pinned to CPU 0, load generator to CPU 1"
fi

CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
KERNEL="$(uname -s) $(uname -r)"
MEM_GIB=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
VERSION=$("$ATRIUM" --version 2>/dev/null | head -n 1)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain 2>/dev/null | head -n 1)" ] && COMMIT="$COMMIT+dirty"
LIBS="libmicrohttpd $(pkg-config --modversion libmicrohttpd 2>/dev/null || echo '?'), sqlite $(pkg-config --modversion sqlite3 2>/dev/null || echo '?'), libuv $(pkg-config --modversion libuv 2>/dev/null || echo '?')"
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# Other work on the machine moves the figures: the load average is part of the result.
LOAD_START=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo '?')

for f in bench/scenarios/*.sh; do
	# shellcheck source=/dev/null
	. "$f"
done

echo "Atrium benchmark ($SIZE size), $DATE"
echo "machine: ${CPU_MODEL:-unknown CPU}, $CORES cores, $KERNEL, ${MEM_GIB:-?} GiB RAM"
echo "         $PIN_NOTE; $LIBS"
echo "atrium:  $ATRIUM ($VERSION, commit $COMMIT)"
echo

broken=""
for s in $SCENARIOS; do
	if [ -n "${BENCH_ONLY:-}" ] && ! printf ' %s ' "$BENCH_ONLY" | grep -q " $s "; then
		continue
	fi
	echo "scenario $s" >&2
	if ! "scenario_$s"; then
		broken="$broken $s"
	fi
done

LOAD_END=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo '?')

# ---- the table ----
echo
echo "load average (1 min): $LOAD_START at the start, $LOAD_END at the end, on $CORES cores"
awk -F '\t' '
	BEGIN { printf "%-14s %-26s %12s %12s %7s %-12s %s\n", "scenario", "figure", "atrium", "reference", "ratio", "target", "result"
		printf "%-14s %-26s %12s %12s %7s %-12s %s\n", "--------", "------", "------", "---------", "-----", "------", "------" }
	{ res = $7; if (res == "pending" || res == "info") res = res ($8 != "" ? ": " $8 : "")
	  else if ($8 != "") res = res " (" $8 ")"
	  printf "%-14s %-26s %12s %12s %7s %-12s %s\n", $1, $2, ($3 == "-" && $7 == "pending" ? "pending" : $3), $4, $5, $6, res }
' "$BENCH_TMP/rows.tsv"

# ---- the same as JSON ----
if [ "$BENCH_SMOKE" = 1 ]; then
	out=build/bench/smoke.json
elif [ -n "${BENCH_ONLY:-}" ]; then
	out=build/bench/partial.json
else
	out=bench/results/latest.json
fi
mkdir -p "$(dirname "$out")"
awk -F '\t' -v size="$SIZE" -v date="$DATE" -v cpu="${CPU_MODEL:-unknown}" -v cores="$CORES" -v kernel="$KERNEL" \
	-v mem="${MEM_GIB:-0}" -v pin="$PIN_NOTE" -v libs="$LIBS" -v version="$VERSION" -v commit="$COMMIT" \
	-v load0="$LOAD_START" -v load1="$LOAD_END" '
	function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
	function v(s) { return s ~ /^[0-9]+([.][0-9]+)?$/ ? s : (s == "-" || s == "" ? "null" : q(s)) }
	BEGIN { printf "{\n  \"size\": %s,\n  \"date\": %s,\n", q(size), q(date)
		printf "  \"machine\": {\"cpu\": %s, \"cores\": %s, \"kernel\": %s, \"memory_gib\": %s, \"pinning\": %s, \"libraries\": %s,\n",
			q(cpu), cores, q(kernel), mem, q(pin), q(libs)
		printf "              \"load_average_start\": %s, \"load_average_end\": %s},\n", v(load0), v(load1)
		printf "  \"atrium\": {\"version\": %s, \"commit\": %s},\n  \"rows\": [", q(version), q(commit) }
	{ r = $5; sub(/x$/, "", r)
	  printf "%s\n    {\"scenario\": %s, \"figure\": %s, \"atrium\": %s, \"reference\": %s, \"ratio\": %s, \"target\": %s, \"result\": %s, \"note\": %s}",
		(NR > 1 ? "," : ""), q($1), q($2), v($3), v($4), v(r), v($6), q($7), q($8) }
	END { printf "\n  ]\n}\n" }
' "$BENCH_TMP/rows.tsv" > "$out"
echo
echo "results: $out"

if [ -n "$broken" ]; then
	echo "bench: FAILED:$broken (see the messages above)" >&2
	exit 1
fi
if [ "${BENCH_STRICT:-0}" = 1 ] && grep -q '	MISS	' "$BENCH_TMP/rows.tsv"; then
	echo "bench: a target was missed (BENCH_STRICT=1)" >&2
	exit 1
fi
exit 0

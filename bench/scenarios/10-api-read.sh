# API read: an authenticated GET over 32 keep-alive connections, Atrium against the reference
# server (bench/refserver.c) answering the very bytes Atrium answered, in the same MHD mode.
# Figures: req/s (target >= 0.7x the reference), p50 and p99 latency, the server's CPU time
# per answer, Atrium's RSS after the load, and the load generator's own CPU use.
# Repetitions alternate Atrium and reference runs, so drift on a shared machine hits both
# sides; the medians are reported.
#
# The read is the issue's `GET /api/v1/projects/{name}`: a project of a team, read by a member
# with a non-admin token (bench/lib.sh seed_project).
API_READ_PATH=/api/v1/projects/bench

SCENARIOS="$SCENARIOS api_read"

scenario_api_read() {
	atrium_start api_read || return 1
	seed_project || return 1
	"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$A_DIR/member.token" -1 -u "$API_READ_PATH" \
		-o "$BENCH_TMP/api_read.body" -t "$BENCH_TMP/api_read.ctype" ||
		{ fail "GET $API_READ_PATH did not answer 2xx"; return 1; }
	refserver_start "$BENCH_TMP/api_read.body" "$(cat "$BENCH_TMP/api_read.ctype")" || return 1
	say "GET $API_READ_PATH ($(wc -c < "$BENCH_TMP/api_read.body") bytes), $LOAD_CONNS connections, ${LOAD_REPS}x ${LOAD_SECONDS}s after ${LOAD_WARMUP}s warm-up"
	ab_load -a "$A_DIR/member.token" -u "$API_READ_PATH" || return 1
	ab_rows "API read" ">= 0.70x" 'x >= 0.7' "GET $API_READ_PATH"
	proc_stop "$R_PID" > /dev/null 2>&1
	atrium_stop
}

# API write: one metric point per request, `POST /api/v1/runs/{id}/metrics`, over 32
# keep-alive connections, each point at a new step ('{n}', unique across repetitions), by a
# project member (not an admin: the access check runs). Each answer comes after its point is
# committed. The reference server answers the same POSTs with the bytes Atrium answered
# ({"stored":1}), reading and dropping each body. Target: >= 0.3x the reference's req/s.
# Repetitions alternate Atrium and reference runs; medians.
SCENARIOS="$SCENARIOS api_write"

API_WRITE_BODY='{"metrics": [{"key": "train/loss", "value": 0.25, "step": {n}}]}'

scenario_api_write() {
	atrium_start api_write || return 1
	seed_project || return 1
	_run=$(api POST /api/v1/projects/bench/runs '{"name": "api-write"}' "$A_DIR/member.token" | json_num id)
	[ -n "$_run" ] || { fail "could not create the run"; return 1; }
	_path=/api/v1/runs/$_run/metrics
	"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$A_DIR/member.token" -1 -m POST -u "$_path" -b "$API_WRITE_BODY" \
		-n 999999999 -H 'Content-Type: application/json' -o "$BENCH_TMP/api_write.body" -t "$BENCH_TMP/api_write.ctype" ||
		{ fail "POST $_path did not answer 2xx"; return 1; }
	refserver_start "$BENCH_TMP/api_write.body" "$(cat "$BENCH_TMP/api_write.ctype")" || return 1
	say "POST $_path, one point per request, $LOAD_CONNS connections, ${LOAD_REPS}x ${LOAD_SECONDS}s after ${LOAD_WARMUP}s warm-up"
	AB_COUNTER_STEP=100000000 ab_load -a "$A_DIR/member.token" -m POST -u "$_path" -b "$API_WRITE_BODY" \
		-H 'Content-Type: application/json' || return 1
	ab_rows "API write" ">= 0.30x" 'x >= 0.3' "POST /api/v1/runs/{id}/metrics, 1 point"
	proc_stop "$R_PID" > /dev/null 2>&1
	atrium_stop
}

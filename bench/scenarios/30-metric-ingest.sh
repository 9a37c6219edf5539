# Metric ingest: 1,000-point batches into `POST /api/v1/runs/{id}/metrics` (8 keys x 125
# steps per batch, the steps of each batch after those of the last: '{n}'), over 4 keep-alive
# connections, as a project member; points/s. Reference: naive raw SQLite in C
# (bench/sqlite_naive.c: one row per point, index on (run, key, step), one prepared INSERT,
# one transaction per 1,000 points, Atrium's pragmas), the same 8 keys. Target: >= 2x.
SCENARIOS="$SCENARIOS metric_ingest"

INGEST_KEYS="loss accuracy learning_rate grad_norm val_loss val_accuracy samples_per_s gpu_util"
INGEST_CONNS=4

# The batch template: step 1{n}SSS for SSS = 000..124 (valid JSON numbers that grow with {n}).
ingest_body() {
	awk -v keys="$INGEST_KEYS" 'BEGIN {
		n = split(keys, k, " "); printf "{\"metrics\":["
		for (s = 0; s < 125; s++)
			for (i = 1; i <= n; i++)
				printf "%s{\"key\":\"%s\",\"value\":%.4f,\"step\":1{n}%03d}", (s || i > 1) ? "," : "", k[i], (s * 7 + i) % 1000 / 1000, s
		printf "]}" }'
}

scenario_metric_ingest() {
	if [ "$BENCH_SMOKE" = 1 ]; then _n=20000 _reps=1; else _n=1000000 _reps=3; fi
	_l=$($PIN_SERVER "$BENCH_BIN/sqlite_naive" "$BENCH_TMP" "$_n" "$_reps") || { fail "sqlite_naive failed"; return 1; }
	say "naive SQLite: $_l"
	_ref=$(kv points_per_s "$_l")
	rm -f "$BENCH_TMP"/naive.db*
	atrium_start metric_ingest || return 1
	seed_project || return 1
	_run=$(api POST /api/v1/projects/bench/runs '{"name": "ingest"}' "$A_DIR/member.token" | json_num id)
	[ -n "$_run" ] || { fail "could not create the run"; return 1; }
	ingest_body > "$BENCH_TMP/ingest.json"
	say "POST /api/v1/runs/$_run/metrics, 1,000 points per request, $INGEST_CONNS connections, ${_reps}x ${LOAD_SECONDS}s"
	_pps=""
	_i=0
	while [ $_i -lt "$_reps" ]; do
		_i=$((_i + 1))
		_l=$(LOAD_LABEL=atrium load "$A_ADDR" -P "$A_PID" -c "$INGEST_CONNS" -n $((_i * 1000000)) \
			-a "$A_DIR/member.token" -m POST -u "/api/v1/runs/$_run/metrics" -b "$(cat "$BENCH_TMP/ingest.json")" \
			-H 'Content-Type: application/json') || return 1
		_pps="$_pps $(kv rps "$_l" | awk '{ printf "%.0f", $1 * 1000 }')"
		_cpu=$(kv server_us_per_req "$_l")
	done
	# shellcheck disable=SC2086
	row "metric ingest" "points/s" "$(median $_pps | awk '{ printf "%.0f", $1 }')" "$_ref" ">= 2.00x" 'x >= 2' \
		"1,000-point batches, $INGEST_CONNS connections"
	row "metric ingest" "server CPU per batch (us)" "$_cpu" "-" "-" "" "last repetition"
	atrium_stop
}

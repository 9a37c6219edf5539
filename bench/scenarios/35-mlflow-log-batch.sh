# MLflow log-batch: 1,000-point batches into `POST /api/2.0/mlflow/runs/log-batch` in the shape
# MLflow 2.9.2's client sends (run_id, then metrics with key, value, timestamp and step, the
# separators of Python's json; 8 keys x 125 steps, the steps of each batch after the last),
# against the native `POST /api/v1/runs/{id}/metrics` with the same points (timestamps too),
# same daemon, same run, as a project member over 4 connections; repetitions alternate the
# two so that drift on a shared machine hits both. Target: >= 0.8x the native points/s.
SCENARIOS="$SCENARIOS mlflow_log_batch"

# batch_body native|mlflow RUN_UUID: the 1,000-point template ('{n}' makes the steps grow).
batch_body() {
	awk -v keys="$INGEST_KEYS" -v shape="$1" -v run="$2" 'BEGIN {
		n = split(keys, k, " ")
		if (shape == "mlflow") printf "{\"run_id\": \"%s\", \"metrics\": [", run; else printf "{\"metrics\":["
		for (s = 0; s < 125; s++)
			for (i = 1; i <= n; i++) {
				v = (s * 7 + i) % 1000 / 1000
				if (shape == "mlflow")
					printf "%s{\"key\": \"%s\", \"value\": %.4f, \"timestamp\": 1700000000000, \"step\": 1{n}%03d}", (s || i > 1) ? ", " : "", k[i], v, s
				else
					printf "%s{\"key\":\"%s\",\"value\":%.4f,\"timestamp\":1700000000000,\"step\":1{n}%03d}", (s || i > 1) ? "," : "", k[i], v, s
			}
		printf shape == "mlflow" ? "], \"params\": [], \"tags\": []}" : "]}" }'
}

scenario_mlflow_log_batch() {
	if [ "$BENCH_SMOKE" = 1 ]; then _reps=1; else _reps=3; fi
	atrium_start mlflow_log_batch || return 1
	seed_project || return 1
	_r=$(api POST /api/v1/projects/bench/runs '{"name": "mlflow-ingest"}' "$A_DIR/member.token")
	_run=$(printf '%s' "$_r" | json_num id)
	_uuid=$(printf '%s' "$_r" | json_str uuid)
	[ -n "$_run" ] && [ -n "$_uuid" ] || { fail "could not create the run"; return 1; }
	batch_body native "$_uuid" > "$BENCH_TMP/native.json"
	batch_body mlflow "$_uuid" > "$BENCH_TMP/mlflow.json"
	say "1,000 points per request, $INGEST_CONNS connections, ${_reps}x ${LOAD_SECONDS}s each, alternating"
	_n_pps="" _m_pps="" _i=0
	while [ $_i -lt "$_reps" ]; do
		_i=$((_i + 1))
		_l=$(LOAD_LABEL=native load "$A_ADDR" -P "$A_PID" -c "$INGEST_CONNS" -n $((_i * 2000000)) \
			-a "$A_DIR/member.token" -m POST -u "/api/v1/runs/$_run/metrics" -b "$(cat "$BENCH_TMP/native.json")" \
			-H 'Content-Type: application/json') || return 1
		_n_pps="$_n_pps $(kv rps "$_l" | awk '{ printf "%.0f", $1 * 1000 }')"
		_n_cpu=$(kv server_us_per_req "$_l")
		_l=$(LOAD_LABEL=mlflow load "$A_ADDR" -P "$A_PID" -c "$INGEST_CONNS" -n $((_i * 2000000 + 1000000)) \
			-a "$A_DIR/member.token" -m POST -u /api/2.0/mlflow/runs/log-batch -b "$(cat "$BENCH_TMP/mlflow.json")" \
			-H 'Content-Type: application/json') || return 1
		_m_pps="$_m_pps $(kv rps "$_l" | awk '{ printf "%.0f", $1 * 1000 }')"
		_m_cpu=$(kv server_us_per_req "$_l")
	done
	# shellcheck disable=SC2086
	row "mlflow log-batch" "points/s" "$(median $_m_pps | awk '{ printf "%.0f", $1 }')" \
		"$(median $_n_pps | awk '{ printf "%.0f", $1 }')" ">= 0.80x" 'x >= 0.8' \
		"vs POST /api/v1/runs/{id}/metrics, same points; $INGEST_CONNS connections"
	row "mlflow log-batch" "server CPU per batch (us)" "$_m_cpu" "$_n_cpu" "-" "" "last repetition; native as reference"
	atrium_stop
}

# Run search: a project holding 100,000 runs with 20 params and 10 metrics each (seeded
# through the store API into the stopped daemon's data dir by bench/seed_runs.c, then the
# daemon restarted on it), queried by a project member: filter on a param matching 10% of the
# runs, ordered by a metric, the first page (50 runs with their params and metrics). p50/p99
# over 1 connection (target p99 <= 50 ms), and the same with 4 connections (queueing on the
# one loop). For scale: a popular Python tracking server answers the same query over 10,000
# runs in about 5 s. Then the same query through MLflow's runs/search (its grammar, the same
# run search underneath) for a page of 50 and for 1,000 runs (MLflow's client's default page),
# with their params and metrics: p99 over 1 connection (target <= 50 ms). The daemon's RSS
# afterwards goes to the footprint rows.
SCENARIOS="$SCENARIOS run_search"

RUN_SEARCH_QUERY='/api/v1/projects/bench/runs?filter=params.p00%3Dv3&order_by=metrics.m0%3Adesc'

scenario_run_search() {
	if [ "$BENCH_SMOKE" = 1 ]; then _runs=2000 _secs=$LOAD_SECONDS; else _runs=100000 _secs=5; fi
	atrium_start run_search || return 1
	seed_project || return 1
	atrium_stop || return 1
	_seeded=$("$BENCH_BIN/seed_runs" "$A_DIR" bench "$_runs") || { fail "seed_runs failed"; return 1; }
	say "seeded: $_seeded"
	atrium_restart || return 1
	"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$A_DIR/member.token" -1 -u "$RUN_SEARCH_QUERY" -o "$BENCH_TMP/search.body" ||
		{ fail "the run search did not answer 2xx"; return 1; }
	_items=$(grep -o '"p00":"v3"' "$BENCH_TMP/search.body" | wc -l)
	[ "$_items" -eq 50 ] || { fail "the first page holds $_items matching runs, not 50"; return 1; }
	say "GET $RUN_SEARCH_QUERY ($(wc -c < "$BENCH_TMP/search.body") bytes, 50 runs), ${_secs}s after ${LOAD_WARMUP}s warm-up"
	_l=$(LOAD_LABEL=1-conn load "$A_ADDR" -P "$A_PID" -c 1 -d "$_secs" -a "$A_DIR/member.token" -u "$RUN_SEARCH_QUERY") ||
		return 1
	_l4=$(LOAD_LABEL=4-conn load "$A_ADDR" -P "$A_PID" -c 4 -a "$A_DIR/member.token" -u "$RUN_SEARCH_QUERY") || return 1
	row "run search" "p50 latency (ms)" "$(kv p50_us "$_l" | awk '{ printf "%.1f", $1 / 1000 }')" "-" "-" "" \
		"$_runs runs; params.p00=v3 (10%), order_by metrics.m0:desc; 1 connection"
	row "run search" "p99 latency (ms)" "$(kv p99_us "$_l" | awk '{ printf "%.1f", $1 / 1000 }')" "-" "<= 50 ms" 'a <= 50' \
		"1 connection"
	row "run search" "req/s" "$(kv rps "$_l" | awk '{ printf "%.0f", $1 }')" "-" "-" "" \
		"1 connection; server CPU $(kv server_us_per_req "$_l" | awk '{ printf "%.1f", $1 / 1000 }') ms per query"
	row "run search" "p99 latency, 4 conns (ms)" "$(kv p99_us "$_l4" | awk '{ printf "%.1f", $1 / 1000 }')" "-" "-" "" \
		"$(kv rps "$_l4" | awk '{ printf "%.0f", $1 }') req/s: queries queue on the one loop"
	row "run search" "seeding (s)" "$(kv seconds "$_seeded")" "-" "-" "" \
		"$(kv runs_per_s "$_seeded") runs/s through the store API (bench/seed_runs.c), daemon stopped"
	mlflow_run_search "$_runs" "$_secs" || return 1
	note_value rss_run_search "$(rss_mib "$A_PID")"
	atrium_stop
}

# mlflow_run_search RUNS SECONDS: the same search through MLflow's runs/search.
mlflow_run_search() {
	_exp=$(api GET /api/v1/projects/bench | json_num id)
	[ -n "$_exp" ] || { fail "could not read the project's id"; return 1; }
	for _max in 50 1000; do
		_body="{\"experiment_ids\": [\"$_exp\"], \"filter\": \"params.p00 = 'v3'\", \"run_view_type\": \"ACTIVE_ONLY\", \"max_results\": $_max, \"order_by\": [\"metrics.m0 DESC\"]}"
		"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$A_DIR/member.token" -1 -m POST -u /api/2.0/mlflow/runs/search \
			-b "$_body" -H 'Content-Type: application/json' -o "$BENCH_TMP/mlsearch.body" ||
			{ fail "MLflow's runs/search did not answer 2xx"; return 1; }
		_want=$(($1 / 10)) # (p00 = v3 matches a tenth of the runs)
		[ "$_max" -lt "$_want" ] && _want=$_max
		_items=$(grep -o '"key":"p00","value":"v3"' "$BENCH_TMP/mlsearch.body" | wc -l)
		[ "$_items" -eq "$_want" ] || { fail "MLflow's page holds $_items matching runs, not $_want"; return 1; }
		_l=$(LOAD_LABEL=mlflow-$_max load "$A_ADDR" -P "$A_PID" -c 1 -d "$2" -a "$A_DIR/member.token" -m POST \
			-u /api/2.0/mlflow/runs/search -b "$_body" -H 'Content-Type: application/json') || return 1
		row "run search" "MLflow runs/search p99, $_max runs (ms)" \
			"$(kv p99_us "$_l" | awk '{ printf "%.1f", $1 / 1000 }')" "-" "<= 50 ms" 'a <= 50' \
			"$1 runs; the same filter and order in MLflow's grammar; $(wc -c < "$BENCH_TMP/mlsearch.body") bytes; server CPU $(kv server_us_per_req "$_l" | awk '{ printf "%.1f", $1 / 1000 }') ms"
	done
}

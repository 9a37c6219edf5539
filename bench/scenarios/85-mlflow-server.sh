# Atrium against the real MLflow 2.9.2 tracking server (`mlflow server`, SQLite backend, the
# artifact proxy, 2 gunicorn workers: its defaults for a small team), when it is installed
# (scripts/mlflow-client.sh lays it out; else one row says the scenario was skipped). The same
# client-level workload against both: the REST requests MLflow's Python client sends, as a
# user of the experiment, alternated so drift on a shared machine hits both:
#   - single `runs/log-metric` requests/s (4 connections, a new step each request);
#   - `runs/log-batch` points/s (1,000 points a request, the shape of 35-mlflow-log-batch.sh);
#   - `runs/search` latency over 10,000 runs (20 params, 10 metrics each, shaped as
#     bench/seed_runs.c; MLflow's seeded straight into its SQLite tables by
#     bench/mlflow_seed.py): filter params.p00 = 'v3' (10%), order by metrics.m0 DESC, 100 a
#     page, 1 connection, a fixed number of queries;
#   - idle memory: RSS after start (MLflow: its CLI process, gunicorn and its workers).
# Ratios are Atrium/MLflow; the goal is at least 20x MLflow's requests/s and points/s.
SCENARIOS="$SCENARIOS mlflow_server"

# mlflow_available: sources the client's env.sh (PY) when the server can run.
mlflow_available() {
	_env=$(scripts/mlflow-client.sh --env 2>/dev/null) || return 1
	# shellcheck source=/dev/null
	. "$_env"
	"$PY" -c 'import mlflow.server, gunicorn, sqlalchemy, alembic' 2>/dev/null
}

# mlf_tree PID: PID and its descendants (the CLI, gunicorn's master, its workers), from /proc.
mlf_tree() {
	_all=$1 _lvl=" $1 "
	for _depth in 1 2 3; do
		_next=""
		for _f in /proc/[0-9]*/stat; do
			{ read -r _s < "$_f"; } 2>/dev/null || continue
			_s=${_s##*) }
			_pp=${_s#* }
			_pp=${_pp%% *}
			case "$_lvl" in *" $_pp "*) _p=${_f#/proc/}; _next="$_next ${_p%/stat}" ;; esac
		done
		[ -z "$_next" ] && break
		_all="$_all$_next" _lvl="$_next "
	done
	echo "$_all"
}

# mlf_rss_mib: the resident memory of the whole MLflow server, in MiB.
mlf_rss_mib() {
	for _p in $(mlf_tree "$M_PID"); do vm_kib "$_p" VmRSS; done | awk '{ s += $1 } END { printf "%.1f", s / 1024 }'
}

# mlflow_start: the server on a free loopback port; sets M_DIR, M_PID, M_ADDR (an addr file).
mlflow_start() {
	M_DIR=$BENCH_TMP/mlflow
	M_ADDR=$M_DIR/addr
	mkdir -p "$M_DIR/artifacts"
	_port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# shellcheck disable=SC2086
	(cd "$M_DIR" && exec $PIN_SERVER "$PY" -m mlflow server --host 127.0.0.1 --port "$_port" --workers 2 \
		--backend-store-uri "sqlite:///$M_DIR/db.sqlite" --serve-artifacts \
		--artifacts-destination "$M_DIR/artifacts") > "$M_DIR/server.log" 2>&1 &
	M_PID=$!
	track "$M_PID"
	echo "127.0.0.1:$_port" > "$M_ADDR"
	_i=0
	until "$BENCH_BIN/loadgen" -f "$M_ADDR" -1 -u /health > /dev/null 2>&1; do
		_i=$((_i + 1))
		if ! kill -0 "$M_PID" 2>/dev/null || [ $_i -ge 240 ]; then
			fail "mlflow server did not start ($M_DIR/server.log)"
			return 1
		fi
		sleep 0.5
	done
	for _p in $(mlf_tree "$M_PID"); do track "$_p"; done
}

mlflow_stop() {
	_tree=$(mlf_tree "$M_PID")
	for _p in $_tree; do kill -TERM "$_p" 2>/dev/null; done
	for _p in $_tree; do proc_stop "$_p" > /dev/null 2>&1; done
	return 0
}

# mlf_api METHOD PATH BODY: one JSON request to the MLflow server; the answer on stdout.
mlf_api() { "$BENCH_BIN/loadgen" -f "$M_ADDR" -1 -m "$1" -u "$2" -b "$3" -H 'Content-Type: application/json'; }

# mlf_field KEY: the first "KEY": "string" in the (possibly indented) JSON on stdin.
mlf_field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }

# mlf_ab REPS PATH ATRIUM_BODY MLFLOW_BODY [loadgen options]: alternating runs against both
# (MLFLOW_OPTS: more options for MLflow's side, e.g. a request count where its answers are too
# slow for a timed window); sets the medians AB_A_RPS AB_M_RPS AB_A_P50 AB_M_P50 AB_A_P99 AB_M_P99.
mlf_ab() {
	_reps=$1 _path=$2 _ab=$3 _mb=$4
	shift 4
	_ar="" _mr="" _a5="" _m5="" _a9="" _m9="" _i=0
	while [ $_i -lt "$_reps" ]; do
		_i=$((_i + 1))
		_l=$(LOAD_LABEL=atrium load "$A_ADDR" -P "$A_PID" -n $((_i * 2000000)) -a "$A_DIR/member.token" -m POST \
			-u "$_path" -b "$_ab" -H 'Content-Type: application/json' "$@") || return 1
		_ar="$_ar $(kv rps "$_l")" _a5="$_a5 $(kv p50_us "$_l")" _a9="$_a9 $(kv p99_us "$_l")"
		# shellcheck disable=SC2086 # MLFLOW_OPTS is a list of options
		_l=$(LOAD_LABEL=mlflow load "$M_ADDR" -n $((_i * 2000000 + 1000000)) -m POST -u "$_path" -b "$_mb" \
			-H 'Content-Type: application/json' "$@" ${MLFLOW_OPTS:-}) || return 1
		_mr="$_mr $(kv rps "$_l")" _m5="$_m5 $(kv p50_us "$_l")" _m9="$_m9 $(kv p99_us "$_l")"
	done
	# shellcheck disable=SC2086
	{
		AB_A_RPS=$(median $_ar) AB_M_RPS=$(median $_mr) AB_A_P50=$(median $_a5) AB_M_P50=$(median $_m5)
		AB_A_P99=$(median $_a9) AB_M_P99=$(median $_m9)
	}
}

# mlf_setup RUNS: both servers started, the experiments seeded with RUNS runs, one run each to
# log into; sets A_EXP A_RUN M_EXP M_RUN A_IDLE M_IDLE.
mlf_setup() {
	atrium_start mlflow_server || return 1
	sleep 0.5
	A_IDLE=$(rss_mib "$A_PID")
	seed_project && atrium_stop || return 1
	_seeded=$("$BENCH_BIN/seed_runs" "$A_DIR" bench "$1") || { fail "seed_runs failed"; return 1; }
	atrium_restart || return 1
	A_EXP=$(api GET /api/v1/projects/bench | json_num id)
	A_RUN=$(api POST /api/2.0/mlflow/runs/create "{\"experiment_id\": \"$A_EXP\"}" "$A_DIR/member.token" |
		mlf_field run_id)
	mlflow_start || return 1
	sleep 0.5
	M_IDLE=$(mlf_rss_mib)
	M_EXP=$(mlf_api POST /api/2.0/mlflow/experiments/create '{"name": "bench"}' | mlf_field experiment_id)
	[ -n "$A_RUN" ] && [ -n "$M_EXP" ] || { fail "could not make the experiments"; return 1; }
	_mseed=$("$PY" bench/mlflow_seed.py "$M_DIR/db.sqlite" "$M_EXP" "$1") || { fail "mlflow_seed.py failed"; return 1; }
	say "seeded $1 runs: atrium $(kv seconds "$_seeded") s, mlflow $(kv seconds "$_mseed") s"
	M_RUN=$(mlf_api POST /api/2.0/mlflow/runs/create "{\"experiment_id\": \"$M_EXP\"}" | mlf_field run_id)
	[ -n "$M_RUN" ] || { fail "could not make the MLflow run"; return 1; }
}

scenario_mlflow_server() {
	if ! mlflow_available; then
		say "skipped: the real MLflow 2.9.2 server is not installed (scripts/mlflow-client.sh)"
		row "vs MLflow" "all figures" "-" "-" "-" "" "skipped: MLflow 2.9.2 not installed (scripts/mlflow-client.sh)"
		return 0
	fi
	if [ "$BENCH_SMOKE" = 1 ]; then _runs=200 _reps=1 _q=4 _sq=2; else _runs=10000 _reps=2 _q=12 _sq=5; fi
	mlf_setup "$_runs" || { mlflow_stop; return 1; }
	_one='{"run_id": "%s", "key": "loss", "value": 0.5, "timestamp": 1700000000000, "step": {n}}'
	# shellcheck disable=SC2059
	mlf_ab "$_reps" /api/2.0/mlflow/runs/log-metric "$(printf "$_one" "$A_RUN")" "$(printf "$_one" "$M_RUN")" \
		-c 4 || { mlflow_stop; return 1; }
	row "vs MLflow" "log-metric req/s" "$(printf '%.0f' "$AB_A_RPS")" "$(printf '%.0f' "$AB_M_RPS")" ">= 20x" \
		'x >= 20' "single runs/log-metric, 4 connections"
	MLFLOW_OPTS="-N $_q" mlf_ab "$_reps" /api/2.0/mlflow/runs/log-batch "$(batch_body mlflow "$A_RUN")" \
		"$(batch_body mlflow "$M_RUN")" -c 4 || { mlflow_stop; return 1; }
	row "vs MLflow" "log-batch points/s" "$(awk -v r="$AB_A_RPS" 'BEGIN { printf "%.0f", r * 1000 }')" \
		"$(awk -v r="$AB_M_RPS" 'BEGIN { printf "%.0f", r * 1000 }')" ">= 20x" 'x >= 20' \
		"1,000 points a request, 4 connections; MLflow: $_q requests"
	_s='{"experiment_ids": ["%s"], "filter": "params.p00 = '"'v3'"'", "max_results": 100, "order_by": ["metrics.m0 DESC"]}'
	# shellcheck disable=SC2059
	mlf_ab 1 /api/2.0/mlflow/runs/search "$(printf "$_s" "$A_EXP")" "$(printf "$_s" "$M_EXP")" -c 1 -N "$_sq" ||
		{ mlflow_stop; return 1; }
	row "vs MLflow" "runs/search p50 (ms)" "$(awk -v v="$AB_A_P50" 'BEGIN { printf "%.1f", v / 1000 }')" \
		"$(awk -v v="$AB_M_P50" 'BEGIN { printf "%.1f", v / 1000 }')" "-" "" \
		"$_runs runs, params.p00 = 'v3' order by metrics.m0 DESC, 100 a page; $_sq queries, 1 connection"
	row "vs MLflow" "runs/search p99 (ms)" "$(awk -v v="$AB_A_P99" 'BEGIN { printf "%.1f", v / 1000 }')" \
		"$(awk -v v="$AB_M_P99" 'BEGIN { printf "%.1f", v / 1000 }')" "-" "" "ratio < 1: Atrium is faster"
	row "vs MLflow" "idle RSS (MiB)" "$A_IDLE" "$M_IDLE" "-" "" "after start; MLflow: CLI + gunicorn + 2 workers"
	mlflow_stop
	atrium_stop
}

# API read: an authenticated GET over 32 keep-alive connections, Atrium against the reference
# server (bench/refserver.c) answering the very bytes Atrium answered, in the same MHD mode.
# Figures: req/s (target >= 0.7x the reference), p50 and p99 latency, the server's CPU time
# per answer, Atrium's RSS after the load, and the load generator's own CPU use.
# Repetitions alternate Atrium and reference runs, so drift on a shared machine hits both
# sides; the medians are reported.
#
# The read is the issue's `GET /api/v1/projects/{name}` (a project of a team, read by a
# member with a non-admin token). On a daemon without the projects API the scenario reads
# `GET /api/v1/users/me` instead; the table's note says which path was measured.
API_READ_PATH=/api/v1/projects/bench
API_READ_FALLBACK=/api/v1/users/me

SCENARIOS="$SCENARIOS api_read"

# Seeds a team, a member of it (token in $A_DIR/reader.token) and, where projects exist, the
# team's project "bench"; sets _path to what the scenario reads.
api_read_seed() {
	api POST /api/v1/teams '{"name": "bench", "description": "benchmark team"}' > /dev/null &&
		api POST /api/v1/users '{"username": "bench-reader", "display_name": "Bench Reader"}' |
		json_str token > "$A_DIR/reader.token" &&
		api PUT /api/v1/teams/bench/members/bench-reader '{"role": "member"}' > /dev/null &&
		[ -s "$A_DIR/reader.token" ] || return 1
	_path=$API_READ_PATH
	if ! api POST /api/v1/projects '{"name": "bench", "team": "bench", "description": "benchmark project"}' \
		"$A_DIR/reader.token" > /dev/null 2> "$A_DIR.seed.err"; then
		grep -q 'no route for' "$A_DIR.seed.err" || { cat "$A_DIR.seed.err" >&2; return 1; }
		_path=$API_READ_FALLBACK # no projects API in this build
	fi
}

scenario_api_read() {
	atrium_start api_read || return 1
	api_read_seed || { fail "could not seed the API-read data"; return 1; }
	"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$A_DIR/reader.token" -1 -u "$_path" \
		-o "$BENCH_TMP/api_read.body" -t "$BENCH_TMP/api_read.ctype" ||
		{ fail "GET $_path did not answer 2xx"; return 1; }
	refserver_start "$BENCH_TMP/api_read.body" "$(cat "$BENCH_TMP/api_read.ctype")" || return 1
	say "GET $_path ($(wc -c < "$BENCH_TMP/api_read.body") bytes), $LOAD_CONNS connections, ${LOAD_REPS}x ${LOAD_SECONDS}s after ${LOAD_WARMUP}s warm-up"
	_a_rps="" _a_p50="" _a_p99="" _a_cpu="" _r_rps="" _r_p50="" _r_p99="" _r_cpu="" _lg=""
	_i=0
	while [ $_i -lt "$LOAD_REPS" ]; do
		_i=$((_i + 1))
		_l=$(LOAD_LABEL=atrium load "$A_ADDR" -P "$A_PID" -a "$A_DIR/reader.token" -u "$_path") || return 1
		_a_rps="$_a_rps $(kv rps "$_l")" _a_p50="$_a_p50 $(kv p50_us "$_l")" _a_p99="$_a_p99 $(kv p99_us "$_l")"
		_a_cpu="$_a_cpu $(kv server_us_per_req "$_l")"
		_l=$(LOAD_LABEL=reference load "$R_ADDR" -P "$R_PID" -a "$A_DIR/reader.token" -u "$_path") || return 1
		_r_rps="$_r_rps $(kv rps "$_l")" _r_p50="$_r_p50 $(kv p50_us "$_l")" _r_p99="$_r_p99 $(kv p99_us "$_l")"
		_r_cpu="$_r_cpu $(kv server_us_per_req "$_l")" _lg="$_lg $(kv cpu_pct "$_l")"
	done
	_rss=$(rss_mib "$A_PID")
	# shellcheck disable=SC2086
	{
		row "API read" "req/s" "$(median $_a_rps | awk '{ printf "%.0f", $1 }')" \
			"$(median $_r_rps | awk '{ printf "%.0f", $1 }')" ">= 0.70x" 'x >= 0.7' "GET $_path"
		row "API read" "p50 latency (us)" "$(median $_a_p50)" "$(median $_r_p50)" "-" ""
		row "API read" "p99 latency (us)" "$(median $_a_p99)" "$(median $_r_p99)" "-" ""
		row "API read" "server CPU per req (us)" "$(median $_a_cpu)" "$(median $_r_cpu)" "-" "" \
			"steadier than req/s on a shared machine"
		row "API read" "RSS after load (MiB)" "$_rss" "-" "-" "" "$LOAD_CONNS connections"
		row "API read" "loadgen CPU (% of a core)" "-" "$(median $_lg)" "-" "" \
			"while driving the reference; 100 = generator-bound"
	}
	proc_stop "$R_PID" > /dev/null 2>&1
	atrium_stop
}

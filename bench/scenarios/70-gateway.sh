# Gateway: `POST /v2/models/{name}/infer` through Atrium's gateway against the same request
# sent straight to the replica. A real deployment: `atrium serve --local-worker`, a model
# version holding model.json, one replica of the example model server
# (build/tests/tools/modelserver, a C server of a linear model, Open Inference Protocol) that
# the worker starts, health-checks and reports ready. Then the same load on both paths:
#   - one connection, one request at a time: the latency the gateway adds (target: added p50
#     <= 0.3 ms), i.e. what an application calling the model sees;
#   - 32 connections: req/s through the gateway vs the replica alone (informational: on two
#     cores the gateway, the replica and the generator compete for the CPUs);
#   - then monitoring on (issue 16): capture at 100 % sampling and a reference profile of the
#     four inputs (a CSV dataset version), so every call is captured and folded into drift
#     counts at the capture flush; one connection again: the added latency with monitoring
#     (target: p50 <= 0.3 ms, as without it).
# The caller is a project member with a token (the access check runs on every call).
# Repetitions alternate gateway and direct runs; medians.
SCENARIOS="$SCENARIOS gateway"

GATEWAY_BODY='{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, {n}]}]}'

scenario_gateway() {
	_ms=$PWD/build/tests/tools/modelserver
	[ -x "$_ms" ] || { fail "$_ms is not built"; return 1; }
	atrium_start gateway --local-worker || return 1
	seed_project || return 1
	_t=$A_DIR/member.token
	_m=/api/v1/projects/bench/models/scorer/versions/1
	api POST /api/v1/projects/bench/models '{"name": "scorer"}' "$_t" > /dev/null &&
		api POST /api/v1/projects/bench/models/scorer/versions '{}' "$_t" > /dev/null &&
		api PUT "$_m/files/model.json" '{"weights": [0.5, 0.25, 0.125, 1], "bias": 1}' "$_t" > /dev/null &&
		api POST "$_m/commit" '{}' "$_t" > /dev/null &&
		api POST /api/v1/projects/bench/deployments \
			"{\"name\": \"bench-gw\", \"model\": \"scorer\", \"version\": 1, \"replicas\": 1, \"command\": [\"$_ms\"]}" \
			"$_t" > /dev/null || { fail "could not create the model version and the deployment"; return 1; }
	_i=0
	until api GET /api/v1/deployments/bench-gw 2> /dev/null | grep -q '"state":"ready"'; do
		_i=$((_i + 1))
		[ $_i -gt 300 ] && { fail "the deployment did not become ready in 30 s (log: $A_DIR.log)"; return 1; }
		sleep 0.1
	done
	_port=$(api GET /api/v1/deployments/bench-gw | sed -n 's/.*"port":\([0-9][0-9]*\).*/\1/p' | head -n 1)
	[ -n "$_port" ] || { fail "no replica port in the deployment"; return 1; }
	R_ADDR=$BENCH_TMP/replica.addr
	echo "127.0.0.1:$_port" > "$R_ADDR"
	_path=/v2/models/bench-gw/infer
	# the replica's pid (its answers carry it), for its CPU time per answer
	R_PID=$("$BENCH_BIN/loadgen" -f "$R_ADDR" -1 -m POST -u "$_path" -b "$GATEWAY_BODY" \
		-H 'Content-Type: application/json' | json_num pid)
	[ -n "$R_PID" ] || { fail "the replica did not answer $_path"; return 1; }
	say "deployment bench-gw ready: replica pid $R_PID on port $_port"

	say "POST $_path, 1 connection (gateway, then the replica directly), ${LOAD_REPS}x ${LOAD_SECONDS}s"
	_conns=$LOAD_CONNS
	LOAD_CONNS=1
	ab_load -a "$_t" -m POST -u "$_path" -b "$GATEWAY_BODY" -H 'Content-Type: application/json' ||
		{ LOAD_CONNS=$_conns; return 1; }
	LOAD_CONNS=$_conns
	_added=$(awk -v a="$AB_A_P50" -v r="$AB_R_P50" 'BEGIN { printf "%.3f", (a - r) / 1000 }')
	_added99=$(awk -v a="$AB_A_P99" -v r="$AB_R_P99" 'BEGIN { printf "%.3f", (a - r) / 1000 }')
	row "gateway" "added p50 (ms)" "$_added" "-" "<= 0.3 ms" 'a <= 0.3' \
		"1 connection: p50 $AB_A_P50 us via the gateway, $AB_R_P50 us direct"
	row "gateway" "added p99 (ms)" "$_added99" "-" "-" "" "1 connection"
	row "gateway" "gateway CPU per request (us)" "$AB_A_CPU" "$AB_R_CPU" "-" "" \
		"Atrium's CPU per forwarded request; reference: the replica's per answer"

	say "POST $_path, $LOAD_CONNS connections, ${LOAD_REPS}x ${LOAD_SECONDS}s"
	ab_load -a "$_t" -m POST -u "$_path" -b "$GATEWAY_BODY" -H 'Content-Type: application/json' || return 1
	row "gateway" "req/s, $LOAD_CONNS conns" "$AB_A_RPS" "$AB_R_RPS" "-" "" \
		"the replica shares the server CPU with the gateway"
	row "gateway" "p50, $LOAD_CONNS conns (us)" "$AB_A_P50" "$AB_R_P50" "-" ""
	gateway_monitored "$_t" "$_path" || return 1
	atrium_stop
}

# gateway_monitored TOKEN PATH: capture at 100 % and a reference profile, then the one-connection
# comparison again.
gateway_monitored() {
	_d=/api/v1/projects/bench/datasets/gwref/versions/1
	_csv=$(awk 'BEGIN { print "x0,x1,x2,x3"; for (i = 0; i < 500; i++) printf "%d,%d,%d,%d\n", i % 3, i % 5, i % 7, i }')
	api POST /api/v1/projects/bench/datasets '{"name": "gwref"}' "$1" > /dev/null &&
		api POST /api/v1/projects/bench/datasets/gwref/versions '{}' "$1" > /dev/null &&
		api PUT "$_d/files/ref.csv" "$_csv" "$1" > /dev/null &&
		api POST "$_d/commit" '{}' "$1" > /dev/null &&
		api PATCH /api/v1/deployments/bench-gw '{"capture": {"sample_rate": 1}}' "$1" > /dev/null &&
		api PUT /api/v1/deployments/bench-gw/monitoring '{"reference": {"dataset": "gwref"}}' "$1" |
		grep -q '"enabled":true' || { fail "could not turn monitoring on"; return 1; }
	say "POST $2 with monitoring (capture 100 %, drift counts), 1 connection, ${LOAD_REPS}x ${LOAD_SECONDS}s"
	_conns=$LOAD_CONNS
	LOAD_CONNS=1
	ab_load -a "$1" -m POST -u "$2" -b "$GATEWAY_BODY" -H 'Content-Type: application/json' ||
		{ LOAD_CONNS=$_conns; return 1; }
	LOAD_CONNS=$_conns
	row "gateway" "added p50, monitoring 100 % (ms)" \
		"$(awk -v a="$AB_A_P50" -v r="$AB_R_P50" 'BEGIN { printf "%.3f", (a - r) / 1000 }')" "-" "<= 0.3 ms" \
		'a <= 0.3' "1 connection: p50 $AB_A_P50 us via the gateway, $AB_R_P50 us direct; every call captured"
	row "gateway" "added p99, monitoring 100 % (ms)" \
		"$(awk -v a="$AB_A_P99" -v r="$AB_R_P99" 'BEGIN { printf "%.3f", (a - r) / 1000 }')" "-" "-" "" "1 connection"
	row "gateway" "gateway CPU per request, monitoring (us)" "$AB_A_CPU" "$AB_R_CPU" "-" "" \
		"with the capture and its folding (at the flush, off the request path)"
	_w=$(api GET "/api/v1/deployments/bench-gw/drift?window=1d" "" "$1" | sed -n 's/.*"total":{"requests":\([0-9]*\).*/\1/p')
	say "drift counts after the load: ${_w:-?} requests folded"
}

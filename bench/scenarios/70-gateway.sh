# Gateway: `POST /v2/models/{name}/infer` through Atrium's gateway against the same request
# sent straight to the replica. A real deployment: `atrium serve --local-worker`, a model
# version holding model.json, one replica of the example model server
# (build/tests/tools/modelserver, a C server of a linear model, Open Inference Protocol) that
# the worker starts, health-checks and reports ready. Then the same load on both paths:
#   - one connection, one request at a time: the latency the gateway adds (target: added p50
#     <= 0.3 ms), i.e. what an application calling the model sees;
#   - 32 connections: req/s through the gateway vs the replica alone (informational: on two
#     cores the gateway, the replica and the generator compete for the CPUs).
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
	atrium_stop
}

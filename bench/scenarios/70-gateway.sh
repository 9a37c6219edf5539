# Gateway: `POST /v2/models/{name}/infer` through Atrium against the same requests sent
# straight to the replica, same load; target: added p50 <= 0.3 ms. Pending: deployments and
# the inference gateway are being built. When they land, this file becomes the scenario:
# deploy a model version whose replica is a stub server on 127.0.0.1 (a refserver-like
# answer, registered through a simulated worker as in 50-dispatch.sh), then ab_load
# (bench/lib.sh) the infer path through Atrium ($A_ADDR) and the replica directly ($R_ADDR),
# and report the p50 difference.
SCENARIOS="$SCENARIOS gateway"

scenario_gateway() {
	pending "gateway" "added p50 (ms)" "deployments and the inference gateway (in progress)" "-" "<= 0.3 ms"
}

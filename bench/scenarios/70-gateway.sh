# Gateway: inference requests/s through the serving gateway against the model server called
# directly. Pending until deployments and the gateway exist.
SCENARIOS="$SCENARIOS gateway"

scenario_gateway() {
	pending "gateway" "req/s" "deployments and the inference gateway"
}

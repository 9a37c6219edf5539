# API write: authenticated POSTs that create objects (each committed before its 2xx).
# Pending until the projects API exists: then POST /api/v1/projects with a body template
# ('{"name": "p{n}", ...}', loadgen -b) against the reference server answering 201.
SCENARIOS="$SCENARIOS api_write"

scenario_api_write() {
	pending "API write" "req/s" "the projects API (POST /api/v1/projects)"
}

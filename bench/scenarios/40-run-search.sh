# Run search: filtered, paginated run listing over a seeded project. Pending until runs exist.
SCENARIOS="$SCENARIOS run_search"

scenario_run_search() {
	pending "run search" "req/s" "runs and their search API"
}

# Dispatch: jobs/s from submission to a worker's accept. Pending until job dispatch exists.
SCENARIOS="$SCENARIOS dispatch"

scenario_dispatch() {
	pending "dispatch" "jobs/s" "jobs, workers and dispatch"
}

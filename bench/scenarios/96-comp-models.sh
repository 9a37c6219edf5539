# Competitions (issue 15): model-version submissions through a local worker. N participants
# (20; 5 at smoke size), each with a committed model version whose `predict` is right on every
# id, submit it once to a model_version competition (`atrium serve --local-worker`); each runs
# as a batch_inference job over the hidden inputs and is scored. bench/comp_models.py sets it
# up, submits one after the other and polls the organiser's list: the time from submission to
# scored (the daemon's submitted_at -> scored_at) p50/p99, and every submission listed once,
# scored (none lost), with exactly N batch jobs (none run or scored twice).
SCENARIOS="$SCENARIOS comp_models"

scenario_comp_models() {
	if [ "$BENCH_SMOKE" = 1 ]; then _n=5; else _n=20; fi
	atrium_start comp_models --local-worker || return 1
	_r=$(python3 bench/comp_models.py --addr "$(cat "$A_ADDR")" --admin "$A_ADMIN" --n "$_n")
	_rc=$?
	say "model submissions: $_r"
	atrium_stop || _rc=1
	[ $_rc -eq 0 ] || { fail "a model submission was lost, run twice or not scored (log: $A_DIR.log)"; return 1; }
	row "comp_models" "submission to scored p50 (ms)" "$(kv p50_ms "$_r")" "-" "-" "" \
		"$_n model versions, one batch job each on a local worker"
	row "comp_models" "submission to scored p99 (ms)" "$(kv p99_ms "$_r")" "-" "-" ""
	row "comp_models" "lost or twice" "$(( $(kv lost "$_r") + $(kv twice "$_r") ))" "-" "0" 'a == 0' \
		"$(kv scored "$_r") scored, $(kv jobs "$_r") jobs, all in $(kv wall_ms "$_r") ms"
}

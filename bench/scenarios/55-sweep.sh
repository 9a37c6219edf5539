# Sweep: 1,000 trials over 100 simulated one-GPU workers with ASHA (issue 20). bench/sweep_sim.c
# registers the workers and trains each trial dispatched to it: one loss point every 20 ms
# through the trial's run's metrics (the job's token), 27 steps, loss = q/100 + 1/step; a
# cancel (ASHA stopped the trial) is reported at once. The sweep: random q in [0, 100],
# parallelism 100, ASHA r = 1, eta = 3, 4 rungs (steps 1, 3, 9, 27). Figures: the daemon's
# decision time per reported point (atr_sweeps_metrics: the ASHA decision, its write, the
# cancel it sends; from /metrics, exact quantiles of the last 65,536) p50/p99 (target p99
# <= 1 ms), the time from a cancel reaching a worker to the next trial's dispatch reaching
# that freed worker p50/p99 (target p99 <= one heartbeat interval, as the server gives it to
# workers), and the metric requests' latency seen by the trainers.
SCENARIOS="$SCENARIOS sweep"

SWEEP_LAUNCHER='{"name": "sim", "spec": {"command": ["sim", "{{q}}"], "resources": {"gpus": 1}},
 "parameters": [{"name": "q", "type": "float", "min": 0, "max": 100, "default": 1}]}'

scenario_sweep() {
	if [ "$BENCH_SMOKE" = 1 ]; then _trials=40 _workers=10; else _trials=1000 _workers=100; fi
	say "$_trials trials, $_workers simulated one-GPU workers, ASHA r=1 eta=3 4 rungs, 27 steps of 20 ms"
	atrium_start sweep || return 1
	seed_project || return 1
	api POST /api/v1/workers/join-tokens '{"name": "bench-sweep"}' | json_str token > "$A_DIR/join.token"
	[ -s "$A_DIR/join.token" ] || { fail "no join token"; return 1; }
	# shellcheck disable=SC2086
	$PIN_LOAD "$BENCH_BIN/sweep_sim" -f "$A_ADDR" -j "$A_DIR/join.token" -w "$_workers" -n 27 -i 20 \
		-o "$A_DIR/events" -r "$A_DIR/sim.ready" > "$A_DIR.sim.log" 2>&1 &
	_sim=$!
	track "$_sim"
	wait_file "$A_DIR/sim.ready" || { fail "the simulated workers did not register (log: $A_DIR.sim.log)"; return 1; }
	api POST /api/v1/projects/bench/launchers "$SWEEP_LAUNCHER" "$A_DIR/member.token" > /dev/null
	_id=$(api POST /api/v1/projects/bench/sweeps "{\"name\": \"bench\", \"launcher\": \"sim\", \"method\": \"random\",
		\"search_space\": {\"q\": {\"type\": \"uniform\", \"min\": 0, \"max\": 100}}, \"max_trials\": $_trials,
		\"parallelism\": $_workers, \"metric\": \"loss\", \"direction\": \"minimize\",
		\"asha\": {\"min_resource\": 1, \"eta\": 3, \"rungs\": 4}, \"seed\": 1}" "$A_DIR/member.token" | json_num id)
	[ -n "$_id" ] || { fail "the sweep was not created (log: $A_DIR.log)"; return 1; }
	_w=0
	until api GET "/api/v1/projects/bench/sweeps/$_id" | grep -q '"state":"completed"'; do
		_w=$((_w + 1))
		[ $_w -gt 3000 ] && { fail "the sweep did not complete within 300 s (log: $A_DIR.log)"; return 1; }
		sleep 0.1
	done
	_m=$(api GET /metrics)
	_p50=$(printf '%s\n' "$_m" | awk '/^atrium_sweep_decision_quantile_seconds\{quantile="0.5"\}/ { printf "%.3f", $2 * 1000 }')
	_p99=$(printf '%s\n' "$_m" | awk '/^atrium_sweep_decision_quantile_seconds\{quantile="0.99"\}/ { printf "%.3f", $2 * 1000 }')
	_n=$(printf '%s\n' "$_m" | awk '/^atrium_sweep_decisions_total/ { print $2 }')
	proc_stop "$_sim" > /dev/null 2>&1
	_r=$("$BENCH_BIN/sweep_sim" -s "$A_DIR/events") || { fail "sweep: $_r"; return 1; }
	say "$(printf '%-10s %s decisions=%s' "sweep" "$_r" "$_n")"
	atrium_stop || return 1
	_hb=$(kv heartbeat_s "$_r")
	{
		row "sweep" "decision per metric p50 (ms)" "$_p50" "-" "-" ""
		row "sweep" "decision per metric p99 (ms)" "$_p99" "-" "<= 1 ms" 'a <= 1' \
			"$_trials trials, $_workers workers; $_n decisions, $(kv stopped "$_r") trials stopped"
		row "sweep" "stopped trial to next dispatch p50 (ms)" "$(kv free_p50_ms "$_r")" "-" "-" ""
		row "sweep" "stopped trial to next dispatch p99 (ms)" "$(kv free_p99_ms "$_r")" "-" "<= $((_hb * 1000)) ms" \
			"a <= $((_hb * 1000))" "cancel at the worker -> the freed GPU's next trial; heartbeat ${_hb} s"
		row "sweep" "metric request p99 (ms)" "$(kv metric_p99_ms "$_r")" "-" "-" "" "a trainer's POST, end to end"
	}
}

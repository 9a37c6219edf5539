# Dispatch: 10,000 jobs submitted to 100 simulated workers. bench/dispatch_sim.c registers
# the workers with a join token (one listener serves all of them by path: /w<i>/v1/jobs),
# heartbeats for them with the jobs they hold, and accepts every dispatch with 201 at once,
# noting when it arrived. The jobs (CPU-only: 1 CPU, 64 MB; each worker offers 1,024 CPUs, so
# capacity never limits) are submitted by a project member as fast as 8 connections allow
# (loadgen -N, recording when each was sent and the id its 201 names). Figures: the time from
# the first submission to the last dispatch arriving (target <= 5 s), and submit-to-worker
# latency per job (request sent -> dispatch received) p50/p99 (target p99 <= 20 ms). Each
# repetition is a fresh daemon (3 at full size; medians). The daemon's RSS after the last
# goes to the footprint rows.
SCENARIOS="$SCENARIOS dispatch"

DISPATCH_BODY='{"name": "bench-{n}", "command": ["true"], "resources": {"cpus": 1, "memory_mb": 64}}'
DISPATCH_CONNS=8

# dispatch_once REP: one daemon, its workers, JOBS submissions; prints the report line.
dispatch_once() {
	atrium_start "dispatch$1" || return 1
	seed_project || return 1
	api POST /api/v1/workers/join-tokens '{"name": "bench-sim"}' | json_str token > "$A_DIR/join.token"
	[ -s "$A_DIR/join.token" ] || { fail "no join token"; return 1; }
	# shellcheck disable=SC2086
	$PIN_LOAD "$BENCH_BIN/dispatch_sim" -f "$A_ADDR" -j "$A_DIR/join.token" -w "$_workers" -n "$_jobs" \
		-o "$A_DIR/arrived" -r "$A_DIR/sim.ready" > "$A_DIR.sim.log" 2>&1 &
	_sim=$!
	track "$_sim"
	_w=0
	until [ -s "$A_DIR/sim.ready" ]; do
		_w=$((_w + 1))
		{ [ $_w -gt 600 ] || ! kill -0 "$_sim" 2>/dev/null; } && { fail "the simulated workers did not register (log: $A_DIR.sim.log)"; return 1; }
		sleep 0.05
	done
	# shellcheck disable=SC2086
	_l=$($PIN_LOAD "$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$A_DIR/member.token" -c "$DISPATCH_CONNS" -N "$_jobs" \
		-R "$A_DIR/submitted" -P "$A_PID" -m POST -u /api/v1/projects/bench/jobs -b "$DISPATCH_BODY" \
		-H 'Content-Type: application/json') || { fail "loadgen failed"; return 1; }
	say "$(printf '%-10s %s' "submit $1" "$_l")"
	if [ "$(kv errors "$_l")" != 0 ] || [ "$(kv non2xx "$_l")" != 0 ]; then
		fail "submissions failed (first bad status $(kv bad_status "$_l"))"
		return 1
	fi
	_w=0
	until [ -s "$A_DIR/arrived" ]; do
		_w=$((_w + 1))
		[ $_w -gt 1200 ] && { fail "not every job reached a worker within 60 s (log: $A_DIR.log)"; break; }
		sleep 0.05
	done
	proc_stop "$_sim" > /dev/null 2>&1
	_r=$("$BENCH_BIN/dispatch_sim" -s "$A_DIR/submitted" -o "$A_DIR/arrived") || { fail "dispatch: $_r"; return 1; }
	say "$(printf '%-10s %s' "dispatch $1" "$_r")"
	_submit_cpu="$(kv server_us_per_req "$_l")"
	note_value rss_dispatch "$(rss_mib "$A_PID")"
	atrium_stop || return 1
	printf '%s submit_us=%s\n' "$_r" "$_submit_cpu"
}

scenario_dispatch() {
	if [ "$BENCH_SMOKE" = 1 ]; then _jobs=200 _workers=10 _reps=1; else _jobs=10000 _workers=100 _reps=3; fi
	say "$_jobs jobs, $_workers simulated workers, $DISPATCH_CONNS submitting connections, ${_reps} fresh daemons"
	_all="" _p50="" _p99="" _cpu=""
	_i=0
	while [ $_i -lt "$_reps" ]; do
		_i=$((_i + 1))
		_r=$(dispatch_once $_i) || return 1
		_all="$_all $(kv all_dispatched_s "$_r")" _p50="$_p50 $(kv p50_ms "$_r")" _p99="$_p99 $(kv p99_ms "$_r")"
		_cpu="$_cpu $(kv submit_us "$_r")"
	done
	# shellcheck disable=SC2086
	{
		row "dispatch" "all dispatched (s)" "$(median $_all)" "-" "<= 5 s" 'a <= 5' \
			"$_jobs jobs, $_workers workers; first submission to last arrival"
		row "dispatch" "submit-to-worker p50 (ms)" "$(median $_p50)" "-" "-" ""
		row "dispatch" "submit-to-worker p99 (ms)" "$(median $_p99)" "-" "<= 20 ms" 'a <= 20'
		row "dispatch" "server CPU per job (us)" "$(median $_cpu)" "-" "-" "" \
			"submission, pass, dispatch and its answer, heartbeats"
	}
}

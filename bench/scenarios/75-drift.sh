# Drift report (issue 16): a deployment monitored against a reference of 20 features (15
# numeric, 5 categorical), with 30 days of 5-minute windows holding 1,000,000 captured
# predictions in all (seeded through the store API into the stopped daemon's data dir by
# bench/seed_monitor.c, then the daemon restarted on it), queried by a project member: the
# 30-day report with hourly windows (720 windows of 20 features: PSI, JS, KS / chi-square,
# data quality) and with daily windows. p50/p99 over 1 connection; target <= 1 s. The report
# reads the 8,640 window rows, never the captures, so its time and memory do not grow with
# the number of predictions.
SCENARIOS="$SCENARIOS drift"

scenario_drift() {
	if [ "$BENCH_SMOKE" = 1 ]; then _preds=20000 _secs=$LOAD_SECONDS; else _preds=1000000 _secs=5; fi
	atrium_start drift || return 1
	seed_project || return 1
	atrium_stop || return 1
	_seeded=$("$BENCH_BIN/seed_monitor" "$A_DIR" bench "$_preds") || { fail "seed_monitor failed"; return 1; }
	say "seeded: $_seeded"
	atrium_restart || return 1
	_from=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)
	_to=$(date -u -d '10 minutes' +%Y-%m-%dT%H:%M:%SZ)
	for _w in 1h 1d; do
		_q="/api/v1/deployments/mondep/drift?from=$_from&to=$_to&window=$_w"
		"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$A_DIR/member.token" -1 -u "$_q" -o "$BENCH_TMP/drift.body" ||
			{ fail "the drift report did not answer 2xx"; return 1; }
		grep -q "\"requests\":$_preds," "$BENCH_TMP/drift.body" ||
			{ fail "the 30-day report does not count $_preds predictions"; return 1; }
		_l=$(LOAD_LABEL=drift-$_w load "$A_ADDR" -P "$A_PID" -c 1 -d "$_secs" -a "$A_DIR/member.token" -u "$_q") ||
			return 1
		row "drift" "30-day report, $_w windows p50 (ms)" "$(kv p50_us "$_l" | awk '{ printf "%.1f", $1 / 1000 }')" \
			"-" "-" "" "$_preds predictions, 20 features; $(wc -c < "$BENCH_TMP/drift.body") bytes"
		row "drift" "30-day report, $_w windows p99 (ms)" "$(kv p99_us "$_l" | awk '{ printf "%.1f", $1 / 1000 }')" \
			"-" "<= 1000 ms" 'a <= 1000' \
			"1 connection; server CPU $(kv server_us_per_req "$_l" | awk '{ printf "%.1f", $1 / 1000 }') ms per report"
	done
	row "drift" "seeding (s)" "$(kv seconds "$_seeded")" "-" "-" "" \
		"$(kv windows "$_seeded") windows through the store API (bench/seed_monitor.c), daemon stopped"
	atrium_stop
}

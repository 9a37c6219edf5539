# Footprint: the daemon's idle RSS after start and the time from exec to the first 200 from
# /healthz (bench/startup.c: a first start on an empty data dir, then restarts; medians of
# the restarts), with the part of that time the daemon spent on a CPU (the rest is waiting
# for one, i.e. other work on the machine). Targets: idle <= 20 MiB, start <= 100 ms.
# Not pinned: a start may use both cores, as it does in real life. Also the RSS the
# run-search and dispatch scenarios left (measured there, reported here).
SCENARIOS="$SCENARIOS footprint"

scenario_footprint() {
	if [ "$BENCH_SMOKE" = 1 ]; then _runs=2 _settle=50; else _runs=8 _settle=500; fi
	_l=$("$BENCH_BIN/startup" "$ATRIUM" "$BENCH_TMP/footprint" "$_runs" "$_settle" \
		"$BENCH_TMP/footprint.log") || { fail "the start-up probe failed"; return 1; }
	say "start-up: $_l"
	_rss=$(kv rss_kib "$_l" | awk '{ printf "%.1f", $1 / 1024 }')
	row "footprint" "idle RSS (MiB)" "$_rss" "-" "<= 20 MiB" 'a <= 20' "${_settle} ms after start"
	row "footprint" "start to /healthz (ms)" "$(kv start_ms "$_l")" "-" "<= 100 ms" 'a <= 100' \
		"restart, median of $((_runs - 1))"
	row "footprint" "start, on a CPU (ms)" "$(kv start_cpu_ms "$_l")" "-" "-" "" \
		"waiting for a CPU: $(kv start_wait_ms "$_l") ms"
	row "footprint" "first start (ms)" "$(kv first_start_ms "$_l")" "-" "<= 100 ms" 'a <= 100' \
		"empty data dir: migrations, first admin"
	row "footprint" "first start, on a CPU (ms)" "$(kv first_cpu_ms "$_l")" "-" "-" ""
	row "footprint" "RSS after run search (MiB)" "$(noted rss_run_search)" "-" "-" "" "after the run-search queries"
	row "footprint" "RSS after dispatch (MiB)" "$(noted rss_dispatch)" "-" "-" "" \
		"the dispatch scenario's jobs all running"
}

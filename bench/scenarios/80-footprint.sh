# Footprint: the daemon's idle RSS after start and the time from exec to the first 200 from
# /healthz (bench/startup.c: a first start on an empty data dir, then restarts; medians of
# the restarts). Targets: idle <= 20 MiB, start <= 100 ms.
SCENARIOS="$SCENARIOS footprint"

scenario_footprint() {
	if [ "$BENCH_SMOKE" = 1 ]; then _runs=2 _settle=50; else _runs=8 _settle=500; fi
	_l=$($PIN_SERVER "$BENCH_BIN/startup" "$ATRIUM" "$BENCH_TMP/footprint" "$_runs" "$_settle" \
		"$BENCH_TMP/footprint.log") || { fail "the start-up probe failed"; return 1; }
	say "start-up: $_l"
	_rss=$(kv rss_kib "$_l" | awk '{ printf "%.1f", $1 / 1024 }')
	row "footprint" "idle RSS (MiB)" "$_rss" "-" "<= 20 MiB" 'a <= 20' "${_settle} ms after start"
	row "footprint" "start to /healthz (ms)" "$(kv start_ms "$_l")" "-" "<= 100 ms" 'a <= 100' \
		"restart, median of $((_runs - 1))"
	row "footprint" "first start (ms)" "$(kv first_start_ms "$_l")" "-" "<= 100 ms" 'a <= 100' \
		"empty data dir: migrations, first admin"
}

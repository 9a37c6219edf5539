# Metric ingest: points/s into Atrium's metrics endpoint against naive raw SQLite in C
# (bench/sqlite_naive.c: one row per point, index on (run, key, step), one prepared INSERT,
# one transaction per 1,000 points, Atrium's pragmas). Only the reference runs until the
# metrics API exists.
SCENARIOS="$SCENARIOS metric_ingest"

scenario_metric_ingest() {
	if [ "$BENCH_SMOKE" = 1 ]; then _n=20000 _reps=1; else _n=1000000 _reps=3; fi
	_l=$($PIN_SERVER "$BENCH_BIN/sqlite_naive" "$BENCH_TMP" "$_n" "$_reps") || { fail "sqlite_naive failed"; return 1; }
	say "naive SQLite: $_l"
	pending "metric ingest" "points/s" "the metrics API (runs)" "$(kv points_per_s "$_l")"
	rm -f "$BENCH_TMP"/naive.db*
}

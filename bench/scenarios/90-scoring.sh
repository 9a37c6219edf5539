# Scoring: a predictions file of 1,000,000 rows scored against its ground truth of 1,000,000
# ids by the scoring library alone, on one core (bench/scoring.c: CSV made in memory, the
# predictions' ids shuffled, fed in 64 KiB chunks; a binary classification with accuracy,
# balanced accuracy, precision, recall, f1, f1_macro, roc_auc, log_loss and top-k accuracy).
# Target (issue 15): <= 1 s, streaming. The figure is the scoring (read, matched, metrics);
# loading the ground truth is its own row (a benchmark's truth may be loaded once and serve
# every evaluation). Also, informational: the scoring's CPU time (the rest of its wall time
# is waiting for a CPU), the heap it holds (it grows with the ids, not with the file), and a
# 10-class file (roc_auc_ovr: a sort per class).
SCENARIOS="$SCENARIOS scoring"

scenario_scoring() {
	if [ "$BENCH_SMOKE" = 1 ]; then _rows=20000 _reps=1; else _rows=1000000 _reps=5; fi
	# shellcheck disable=SC2086
	_l=$($PIN_SERVER "$BENCH_BIN/scoring" "$_rows" "$_reps" 2) || { fail "the scoring probe failed"; return 1; }
	say "binary:     $_l"
	# shellcheck disable=SC2086
	_m=$($PIN_SERVER "$BENCH_BIN/scoring" "$_rows" "$_reps" 10) || { fail "the scoring probe failed"; return 1; }
	say "10 classes: $_m"
	row "scoring" "1M-row predictions (s)" "$(kv score_s "$_l")" "-" "<= 1 s" 'a <= 1' \
		"$(kv rows "$_l") rows, $(kv pred_mib "$_l") MiB, 9 metrics; median of $_reps"
	row "scoring" "1M-row, on a CPU (s)" "$(kv score_cpu_s "$_l")" "-" "-" "" "metrics: $(kv compute_s "$_l") s"
	row "scoring" "ground truth, 1M ids (s)" "$(kv truth_s "$_l")" "-" "-" "" \
		"on a CPU: $(kv truth_cpu_s "$_l") s; loaded once per benchmark"
	row "scoring" "scoring heap (MiB)" "$(kv heap_mib "$_l")" "-" "-" "" "held by one scoring: grows with the ids"
	row "scoring" "1M rows, 10 classes (s)" "$(kv score_s "$_m")" "-" "-" "" \
		"$(kv pred_mib "$_m") MiB; on a CPU: $(kv score_cpu_s "$_m") s"
}

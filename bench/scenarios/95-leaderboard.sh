# Leaderboard: a benchmark holding 10,000 evaluations of 500 model versions (seeded through
# the store API into the stopped daemon's data dir by bench/seed_evals.c, after the benchmark
# was created over HTTP; then the daemon restarted on it, and one more evaluation scored over
# HTTP to check the whole path), read by a project member: the first page of the leaderboard
# (50 model versions, each its best evaluation, ranked by the primary metric, the other
# metrics alongside), and a page deep in the board (through its cursor). p99 over 1
# connection; target (issue 15) <= 5 ms. The board is kept as evaluations arrive
# (benchmark_leaders, indexed by score), so a read walks an index instead of ranking the
# 10,000 evaluations.
SCENARIOS="$SCENARIOS leaderboard"

LB_PATH=/api/v1/projects/bench/benchmarks/holdout

scenario_leaderboard() {
	if [ "$BENCH_SMOKE" = 1 ]; then _evals=1000 _vers=60 _secs=$LOAD_SECONDS; else _evals=10000 _vers=500 _secs=5; fi
	atrium_start leaderboard || return 1
	seed_project || return 1
	_tok="$A_DIR/member.token"
	if ! { api POST /api/v1/projects/bench/datasets '{"name": "labels"}' "$_tok" > /dev/null &&
		api POST /api/v1/projects/bench/datasets/labels/versions '{}' "$_tok" > /dev/null &&
		"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$_tok" -1 -m PUT \
			-u /api/v1/projects/bench/datasets/labels/versions/1/files/truth.csv \
			-b "$(printf 'id,label\n1,a\n2,b\n3,a\n4,b\n')" > /dev/null &&
		api POST /api/v1/projects/bench/datasets/labels/versions/1/commit '{}' "$_tok" > /dev/null &&
		api POST /api/v1/projects/bench/benchmarks '{"name": "holdout", "dataset": "labels", "version": 1,
			"file": "truth.csv", "metrics": [{"name": "accuracy"}, {"name": "f1", "average": "macro"},
			{"name": "balanced_accuracy"}]}' "$_tok" > /dev/null; }; then
		fail "could not create the benchmark"
		return 1
	fi
	atrium_stop || return 1
	_seeded=$("$BENCH_BIN/seed_evals" "$A_DIR" bench holdout "$_evals" "$_vers") ||
		{ fail "seed_evals failed"; return 1; }
	say "seeded: $_seeded"
	atrium_restart || return 1
	"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$_tok" -1 -m POST -u "$LB_PATH/evaluations?model=board&version=1" \
		-b "$(printf 'id,prediction\n1,a\n2,b\n3,a\n4,b\n')" -o "$BENCH_TMP/eval.body" ||
		{ fail "an evaluation over HTTP did not answer 2xx: $(cat "$BENCH_TMP/eval.body")"; return 1; }
	"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$_tok" -1 -u "$LB_PATH/leaderboard" -o "$BENCH_TMP/lb.body" ||
		{ fail "the leaderboard did not answer 2xx"; return 1; }
	_items=$(grep -o '"rank":' "$BENCH_TMP/lb.body" | wc -l)
	[ "$_items" -eq 50 ] || { fail "the first page holds $_items ranks, not 50"; return 1; }
	grep -q '"rank":1[,}]' "$BENCH_TMP/lb.body" || { fail "the first page has no rank 1"; return 1; }
	_cur=$(json_str next_cursor < "$BENCH_TMP/lb.body")
	[ -n "$_cur" ] || { fail "the first page has no next cursor"; return 1; }
	_l=$(LOAD_LABEL=first-page load "$A_ADDR" -P "$A_PID" -c 1 -d "$_secs" -a "$_tok" -u "$LB_PATH/leaderboard") ||
		return 1
	_c=$(LOAD_LABEL=csv load "$A_ADDR" -P "$A_PID" -c 1 -d "$_secs" -a "$_tok" \
		-u "$LB_PATH/leaderboard?format=csv&cursor=$_cur") || return 1
	row "leaderboard" "p99 latency, first page (ms)" "$(kv p99_us "$_l" | awk '{ printf "%.2f", $1 / 1000 }')" "-" \
		"<= 5 ms" 'a <= 5' "$_evals evaluations of $_vers model versions; 50 per page; 1 connection; p50 $(kv p50_us "$_l" | awk '{ printf "%.2f", $1 / 1000 }') ms; server CPU $(kv server_us_per_req "$_l" | awk '{ printf "%.2f", $1 / 1000 }') ms"
	row "leaderboard" "p99 latency, CSV, 2nd page (ms)" "$(kv p99_us "$_c" | awk '{ printf "%.2f", $1 / 1000 }')" "-" \
		"<= 5 ms" 'a <= 5' "?format=csv&cursor=: ranks 51-100 (the rank of a page's first row is counted through the index)"
	row "leaderboard" "seeding (s)" "$(kv seconds "$_seeded")" "-" "-" "" \
		"$(kv evals_per_s "$_seeded") evaluations/s through the store API (bench/seed_evals.c), daemon stopped"
	atrium_stop
}

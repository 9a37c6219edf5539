# Competitions (issue 15). Two figures:
#  - the leaderboard read: a competition holding 10,000 scored submissions from 500 teams
#    (seeded through the store API into the stopped daemon's data dir by bench/competition.c),
#    its public leaderboard read by the organiser: p99 over 1 connection (target <= 5 ms);
#  - the deadline rush: 200 correct submissions from 40 teams (daily limit 4: 40 are over it) sent at even
#    steps over the last second before the end, each on its own connection (curl multi).
#    The deadline is the daemon's clock at the arrival of each request head. Each answer must
#    be 201 (scored), 409 naming the end, or 429 naming the next allowed time; the organiser's
#    list must then hold every 201 once, scored, and nothing else: none lost, none twice.
SCENARIOS="$SCENARIOS competition"

scenario_competition() {
	if [ "$BENCH_SMOKE" = 1 ]; then _teams=50 _subs=1000 _secs=$LOAD_SECONDS; else _teams=500 _subs=10000 _secs=5; fi
	atrium_start competition || return 1
	"$BENCH_BIN/competition" setup "$A_ADDR" "$A_ADMIN" board "$A_DIR/org.token" || { fail "set-up failed"; return 1; }
	atrium_stop || return 1
	_seeded=$("$BENCH_BIN/competition" seed "$A_DIR" board "$_teams" "$_subs") || { fail "seeding failed"; return 1; }
	say "seeded: $_seeded"
	atrium_restart || return 1
	_path=/api/v1/competitions/board/leaderboard
	"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$A_DIR/org.token" -1 -u "$_path" -o "$BENCH_TMP/board.body" ||
		{ fail "the leaderboard did not answer 2xx"; return 1; }
	_n=$(grep -o '"rank":' "$BENCH_TMP/board.body" | wc -l)
	[ "$_n" -eq "$_teams" ] || { fail "the leaderboard ranks $_n teams, not $_teams"; return 1; }
	_l=$(LOAD_LABEL=board load "$A_ADDR" -P "$A_PID" -c 1 -d "$_secs" -a "$A_DIR/org.token" -u "$_path") || return 1
	row "competition" "leaderboard p99 (ms)" "$(kv p99_us "$_l" | awk '{ printf "%.2f", $1 / 1000 }')" "-" "<= 5 ms" \
		'a <= 5' "$_subs submissions, $_teams teams; $(wc -c < "$BENCH_TMP/board.body") bytes; 1 connection"
	row "competition" "leaderboard p50 (ms)" "$(kv p50_us "$_l" | awk '{ printf "%.2f", $1 / 1000 }')" "-" "-" ""
	_d=$("$BENCH_BIN/competition" deadline "$A_ADDR" "$A_ADMIN" 40 200)
	_rc=$?
	say "deadline rush: $_d"
	[ $_rc -eq 0 ] || { fail "the deadline rush lost, doubled or misanswered a submission"; return 1; }
	row "competition" "deadline rush: lost or twice" "$(( $(kv lost "$_d") + $(kv twice "$_d") ))" "-" "0" 'a == 0' \
		"200 in the last second: $(kv accepted "$_d") scored, $(kv late "$_d") late, $(kv limited "$_d") over the limit"
	atrium_stop
}

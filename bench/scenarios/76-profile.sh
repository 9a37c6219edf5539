# Reference profile build (issue 16): bench/profile_build writes a CSV of 20 columns (15
# numeric, 5 categorical; 1 GiB, 16 MiB in smoke runs) and profiles it with the library call
# the daemon makes on its thread pool (two streaming passes, types inferred), on one core
# (pinned like the server when pinning is on). Targets: >= 200 MB/s of file per second, RSS
# growth <= 64 MiB whatever the file's size. The file is read from the page cache: the
# figure is the profiler's, not the disk's. MB/s per CPU second beside it, steadier on a
# shared machine.
SCENARIOS="$SCENARIOS profile"

scenario_profile() {
	if [ "$BENCH_SMOKE" = 1 ]; then _mib=16; else _mib=1024; fi
	[ -x "$BENCH_BIN/profile_build" ] || { fail "$BENCH_BIN/profile_build is not built"; return 1; }
	# shellcheck disable=SC2086 # PIN_SERVER is a command prefix or empty
	_p=$($PIN_SERVER "$BENCH_BIN/profile_build" "$BENCH_TMP/profile.csv" "$_mib") ||
		{ fail "profile_build failed"; rm -f "$BENCH_TMP/profile.csv"; return 1; }
	rm -f "$BENCH_TMP/profile.csv"
	say "profile: $_p"
	row "profile" "build, $_mib MiB CSV (MB/s)" "$(kv mb_per_s "$_p")" "-" ">= 200 MB/s" 'a >= 200' \
		"$(kv rows "$_p") rows x 20 columns in $(kv seconds "$_p") s, types inferred, two passes"
	row "profile" "build per CPU second (MB/s)" \
		"$(awk -v b="$(kv bytes "$_p")" -v c="$(kv cpu_seconds "$_p")" 'BEGIN { printf "%.1f", b / 1e6 / c }')" \
		"-" "-" "" "the file's bytes over the process's CPU time (user + system)"
	row "profile" "RSS growth (MiB)" "$(kv rss_growth_mib "$_p")" "-" "<= 64 MiB" 'a <= 64' \
		"peak resident set during the build less before it"
}

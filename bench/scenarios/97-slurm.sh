# Slurm (issue 19): N short jobs (default 1,000; BENCH_SLURM_JOBS; 20 at smoke size) through a
# real single-node Slurm (tests/slurm/slurm-up.sh: slurmctld, slurmd, a JWT slurmrestd on
# loopback), first straight to slurmrestd by the benchmark, then through Atrium (a registered
# cluster, the jobs naming it). bench/slurm_jobs.py measures each side's submission (request
# sent -> Slurm job id: answered by slurmrestd, or held by Atrium) and how far Atrium's view of
# a job's end lags Slurm's (ended_at - Slurm's end_time, whole seconds, so up to 1 s high:
# target p99 <= 2 s), and lags the command's own end; see its header.
#
# Opt-in: it runs only when BENCH_ONLY names it (BENCH_ONLY=slurm make bench), since it needs
# root and the Slurm packages and takes minutes; without them it says why and adds no row.
# Slurm is started under `flock /tmp/atrium-slurm.lock` (test_slurm uses the same cluster),
# and stopped afterwards unless it was already up.
SCENARIOS="$SCENARIOS slurm"

SLURM_UP=tests/slurm/slurm-up.sh
SLURM_LOCK=/tmp/atrium-slurm.lock

slurm_skip() {
	say "slurm: skipped: $*"
	return 0
}

# slurm_measure: under the lock, with Slurm up; prints slurm_jobs.py's figures line.
slurm_measure() {
	_was_up=0
	if bash "$SLURM_UP" status > /dev/null 2>&1; then
		_was_up=1
	# (9>&-: the daemons it starts must not inherit the lock, or it stays held while they run)
	elif ! bash "$SLURM_UP" up > "$BENCH_TMP/slurm-up.log" 2>&1 9>&-; then
		fail "Slurm did not start (log: $BENCH_TMP/slurm-up.log)"
		return 1
	fi
	# shellcheck disable=SC1091
	. /var/spool/slurm-up/env
	# (the jobs run as the cluster's user: the shared folder must be reachable by it)
	_shared=$(mktemp -d /tmp/atrium-bench-slurm.XXXXXX) && chmod 0755 "$_shared" || return 1
	printf '%s\n' "$SLURM_JWT" > "$BENCH_TMP/slurm.jwt"
	_rc=0
	if atrium_start slurm && seed_project &&
		api POST /api/v1/clusters "{\"name\": \"bench\", \"kind\": \"slurm\", \"url\": \"$SLURM_REST_URL\",
			\"auth\": \"token_file\", \"secret_path\": \"$BENCH_TMP/slurm.jwt\", \"user\": \"$SLURM_USER_NAME\",
			\"partitions\": [\"$SLURM_PARTITION\"], \"shared_dir\": \"$_shared\", \"max_jobs\": 100000}" > /dev/null; then
		python3 bench/slurm_jobs.py --atrium "http://$(cat "$A_ADDR")" --token "$A_DIR/member.token" \
			--project bench --cluster bench --rest "$SLURM_REST_URL" --user "$SLURM_USER_NAME" \
			--jwt "$BENCH_TMP/slurm.jwt" --shared "$_shared" --db "$A_DIR/atrium.db" --jobs "$_jobs" || _rc=1
		atrium_stop || _rc=1
	else
		fail "could not start Atrium with the cluster (log: $A_DIR.log)"
		_rc=1
	fi
	[ "$_was_up" = 1 ] || bash "$SLURM_UP" down > /dev/null 2>&1 9>&-
	rm -rf "$_shared"
	return $_rc
}

scenario_slurm() {
	if [ -z "${BENCH_ONLY:-}" ]; then
		slurm_skip "opt-in (it takes minutes and needs root): BENCH_ONLY=slurm make bench"
		return 0
	fi
	[ "$(id -u)" = 0 ] || { slurm_skip "needs root (it starts slurmctld, slurmd and slurmrestd)"; return 0; }
	for _c in slurmctld slurmd slurmrestd munged scontrol flock python3; do
		command -v "$_c" > /dev/null 2>&1 || PATH="$PATH:/usr/sbin" command -v "$_c" > /dev/null 2>&1 ||
			{ slurm_skip "'$_c' is not installed (tests/slurm/slurm-up.sh install)"; return 0; }
	done
	if [ "$BENCH_SMOKE" = 1 ]; then _jobs=${BENCH_SLURM_JOBS:-20}; else _jobs=${BENCH_SLURM_JOBS:-1000}; fi
	say "$_jobs short jobs straight to slurmrestd, then the same through Atrium (waits for $SLURM_LOCK)"
	_r=$( (flock 9 && slurm_measure) 9> "$SLURM_LOCK") || { fail "the Slurm benchmark failed"; return 1; }
	say "$_r"
	_lag=$(kv lag_slurm_p99_ms "$_r")
	if awk -v a="$_lag" 'BEGIN { exit !(a + 0 <= 2000 && a != "nan") }'; then
		say "slurm: state lag p99 $_lag ms: PASS (target <= 2000 ms)"
	else
		say "slurm: state lag p99 $_lag ms: MISS (target <= 2000 ms)"
	fi
	{
		row "slurm" "submit p50 (ms)" "$(kv atrium_p50_ms "$_r")" "$(kv direct_p50_ms "$_r")" "-" "" \
			"request -> Slurm job id; reference: straight to slurmrestd, one by one"
		row "slurm" "submit p99 (ms)" "$(kv atrium_p99_ms "$_r")" "$(kv direct_p99_ms "$_r")" "-" ""
		row "slurm" "all $_jobs in Slurm (s)" "$(kv atrium_total_s "$_r")" "$(kv direct_total_s "$_r")" "-" ""
		row "slurm" "overhead per job (ms)" "$(kv overhead_ms_per_job "$_r")" "-" "-" "" \
			"(Atrium's time for all - the straight time) / jobs"
		row "slurm" "state lag p50 (ms)" "$(kv lag_slurm_p50_ms "$_r")" "-" "-" "" \
			"Atrium's ended_at - Slurm's end_time (whole seconds: reads up to 1 s high)"
		row "slurm" "state lag p99 (ms)" "$(kv lag_slurm_p99_ms "$_r")" "-" "<= 2000 ms" 'a <= 2000'
		row "slurm" "lag after the job's end p50" "$(kv lag_p50_ms "$_r")" "-" "-" "" \
			"Atrium's ended_at - the command's own end (ms; Slurm's own recording included)"
		row "slurm" "lag after the job's end p99" "$(kv lag_p99_ms "$_r")" "-" "-" ""
		row "slurm" "slurmrestd poll p50 (ms)" "$(kv rest_poll_p50_ms "$_r")" "-" "-" "" \
			"GET /jobs?update_time= as Atrium polls, timed by the bench every 2 s"
		row "slurm" "slurmrestd poll p99 (ms)" "$(kv rest_poll_p99_ms "$_r")" "-" "-" ""
	}
}

# bench/lib.sh: helpers for bench/run.sh and the scenarios in bench/scenarios/ (sourced, POSIX
# sh). Processes (start, track, stop; every one started here is killed by the driver's trap),
# REST calls through the load generator's one-shot mode (no curl or jq needed), running the
# load generator, medians, and the result rows the driver prints as one table.
# Not here: what any scenario measures.

# ---- messages ----

say() { printf '  %s\n' "$*" >&2; }

# fail MESSAGE: report a broken scenario (the scenario then returns 1).
fail() { printf '  FAILED: %s\n' "$*" >&2; return 1; }

# kv KEY LINE: the value of KEY in a "k=v k=v" line from a bench program.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# median NUMBER...: the median (mean of the middle two for an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---- processes ----

# track PID: the driver's trap kills it if it is still running at exit.
track() { echo "$1" >> "$BENCH_TMP/pids"; }

# proc_stop PID: SIGTERM, wait up to 10 s (then SIGKILL); returns the process's exit status.
proc_stop() {
	_p=$1
	kill -TERM "$_p" 2>/dev/null || true
	_i=0
	while kill -0 "$_p" 2>/dev/null && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	kill -KILL "$_p" 2>/dev/null || true
	wait "$_p"
}

# wait_file PATH: until PATH holds a complete line (a host:port file), at most 10 s.
wait_file() {
	_i=0
	until grep -q ':.*[0-9]$' "$1" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt 1000 ] && return 1
		sleep 0.01
	done
}

# rss_mib PID: resident memory in MiB from /proc/PID/status.
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }

# note_value NAME VALUE / noted NAME: figures one scenario leaves for another (the footprint
# scenario reports the RSS the run-search and dispatch scenarios left).
note_value() { printf '%s\n' "$2" > "$BENCH_TMP/noted.$1"; }
noted() { cat "$BENCH_TMP/noted.$1" 2>/dev/null || echo -; }

# atrium_start NAME [OPTION...]: `atrium serve` on 127.0.0.1:0 with a fresh data dir (and
# the options), pinned to the server CPU. Sets A_PID, A_DIR (data dir), A_ADDR (its
# listen.addr), A_ADMIN (admin.token).
atrium_start() {
	A_DIR=$BENCH_TMP/$1
	shift
	A_ADDR=$A_DIR/listen.addr
	A_ADMIN=$A_DIR/admin.token
	mkdir -p "$A_DIR"
	atrium_restart "$@"
}

# atrium_restart [OPTION...]: starts `atrium serve` again on the data dir of the last
# atrium_start (stopped with atrium_stop first).
atrium_restart() {
	rm -f "$A_ADDR"
	# shellcheck disable=SC2086
	$PIN_SERVER "$ATRIUM" serve --listen 127.0.0.1:0 --data-dir "$A_DIR" "$@" >> "$A_DIR.log" 2>&1 &
	A_PID=$!
	track "$A_PID"
	wait_file "$A_ADDR" || { fail "atrium did not start (log: $A_DIR.log)"; return 1; }
	api GET /healthz > /dev/null || { fail "atrium does not answer /healthz"; return 1; }
}

# seed_project: a team "bench", a member of it (token in $A_DIR/member.token) and, as that
# member (so not an admin: the access checks run), the team's project "bench".
seed_project() {
	if ! { api POST /api/v1/teams '{"name": "bench", "description": "benchmark team"}' > /dev/null &&
		api POST /api/v1/users '{"username": "bench-member", "display_name": "Bench Member"}' |
		json_str token > "$A_DIR/member.token" &&
		api PUT /api/v1/teams/bench/members/bench-member '{"role": "member"}' > /dev/null &&
		[ -s "$A_DIR/member.token" ] &&
		api POST /api/v1/projects '{"name": "bench", "team": "bench", "description": "benchmark project"}' \
			"$A_DIR/member.token" > /dev/null; }; then
		fail "could not seed the team, member and project"
		return 1
	fi
}

# json_num KEY: the first "KEY":number in the JSON on stdin (ids).
json_num() { sed -n "s/.*\"$1\":\([0-9][0-9]*\).*/\1/p" | head -n 1; }

# vm_kib PID FIELD: a /proc/PID/status field in KiB (VmRSS, VmHWM).
vm_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }

# atrium_stop: SIGTERM; fails unless the daemon ends with status 0 (no crash, no leak report).
atrium_stop() {
	proc_stop "$A_PID" || { fail "atrium exited with status $? (log: $A_DIR.log)"; return 1; }
}

# refserver_start BODY_FILE CONTENT_TYPE: the reference server, pinned like Atrium. Sets R_PID, R_ADDR.
refserver_start() {
	R_ADDR=$BENCH_TMP/ref.$$.addr
	rm -f "$R_ADDR"
	# shellcheck disable=SC2086
	$PIN_SERVER "$BENCH_BIN/refserver" "$1" "$2" "$R_ADDR" > "$BENCH_TMP/refserver.log" 2>&1 &
	R_PID=$!
	track "$R_PID"
	wait_file "$R_ADDR" || { fail "refserver did not start (log: $BENCH_TMP/refserver.log)"; return 1; }
}

# ---- HTTP ----

# api METHOD PATH [BODY [TOKEN_FILE]]: one request to Atrium (admin token by default); the
# body goes to stdout; fails (with the answer on stderr) unless the status is 2xx.
api() {
	if [ $# -ge 3 ]; then
		"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "${4:-$A_ADMIN}" -1 -m "$1" -u "$2" -b "$3" \
			-H 'Content-Type: application/json'
	else
		"$BENCH_BIN/loadgen" -f "$A_ADDR" -a "$A_ADMIN" -1 -m "$1" -u "$2"
	fi
}

# json_str KEY: the first "KEY":"value" string in the JSON on stdin (tokens, names).
json_str() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -n 1; }

# load ADDR_FILE [loadgen options...]: one measured loadgen run at this size, pinned to the
# load CPU; prints its result line. Fails on transport errors, any non-2xx answer, or (full
# size only) no answer at all.
load() {
	_f=$1
	shift
	# shellcheck disable=SC2086
	_line=$($PIN_LOAD "$BENCH_BIN/loadgen" -f "$_f" -c "$LOAD_CONNS" -w "$LOAD_WARMUP" -d "$LOAD_SECONDS" "$@") ||
		{ fail "loadgen failed"; return 1; }
	say "$(printf '%-10s %s' "${LOAD_LABEL:-}" "$_line")"
	if [ "$(kv errors "$_line")" != 0 ] || [ "$(kv non2xx "$_line")" != 0 ]; then
		fail "transport errors or non-2xx answers (first bad status $(kv bad_status "$_line"))"
		return 1
	fi
	# A smoke run on a loaded machine may get no answer into its short window; the one-shot
	# requests before it already showed that the server answers.
	if [ "$(kv requests "$_line")" = 0 ] && [ "$BENCH_SMOKE" != 1 ]; then
		fail "no answers in ${LOAD_SECONDS}s"
		return 1
	fi
	printf '%s\n' "$_line"
}

# ab_load [loadgen options...]: LOAD_REPS pairs of runs, Atrium ($A_ADDR, $A_PID) then the
# reference ($R_ADDR, $R_PID), with the same options, so that drift on a shared machine hits
# both sides. With AB_COUNTER_STEP set, repetition i starts the '{n}' counter at i times it
# (unique steps across repetitions). Sets the medians AB_A_RPS AB_A_P50 AB_A_P99 AB_A_CPU,
# AB_R_RPS AB_R_P50 AB_R_P99 AB_R_CPU and AB_LG (the generator's CPU while driving the reference).
ab_load() {
	_a_rps="" _a_p50="" _a_p99="" _a_cpu="" _r_rps="" _r_p50="" _r_p99="" _r_cpu="" _lg=""
	_i=0
	while [ $_i -lt "$LOAD_REPS" ]; do
		_i=$((_i + 1))
		_n=$((_i * ${AB_COUNTER_STEP:-0}))
		_l=$(LOAD_LABEL=atrium load "$A_ADDR" -P "$A_PID" -n "$_n" "$@") || return 1
		_a_rps="$_a_rps $(kv rps "$_l")" _a_p50="$_a_p50 $(kv p50_us "$_l")" _a_p99="$_a_p99 $(kv p99_us "$_l")"
		_a_cpu="$_a_cpu $(kv server_us_per_req "$_l")"
		_l=$(LOAD_LABEL=reference load "$R_ADDR" -P "$R_PID" -n "$_n" "$@") || return 1
		_r_rps="$_r_rps $(kv rps "$_l")" _r_p50="$_r_p50 $(kv p50_us "$_l")" _r_p99="$_r_p99 $(kv p99_us "$_l")"
		_r_cpu="$_r_cpu $(kv server_us_per_req "$_l")" _lg="$_lg $(kv cpu_pct "$_l")"
	done
	# shellcheck disable=SC2086
	{
		AB_A_RPS=$(median $_a_rps | awk '{ printf "%.0f", $1 }') AB_R_RPS=$(median $_r_rps | awk '{ printf "%.0f", $1 }')
		AB_A_P50=$(median $_a_p50) AB_A_P99=$(median $_a_p99) AB_A_CPU=$(median $_a_cpu)
		AB_R_P50=$(median $_r_p50) AB_R_P99=$(median $_r_p99) AB_R_CPU=$(median $_r_cpu) AB_LG=$(median $_lg)
	}
}

# ab_rows SCENARIO TARGET_TEXT RULE NOTE: the rows of an ab_load comparison.
ab_rows() {
	row "$1" "req/s" "$AB_A_RPS" "$AB_R_RPS" "$2" "$3" "$4"
	row "$1" "p50 latency (us)" "$AB_A_P50" "$AB_R_P50" "-" ""
	row "$1" "p99 latency (us)" "$AB_A_P99" "$AB_R_P99" "-" ""
	row "$1" "server CPU per req (us)" "$AB_A_CPU" "$AB_R_CPU" "-" "" "steadier than req/s on a shared machine"
	row "$1" "RSS after load (MiB)" "$(rss_mib "$A_PID")" "-" "-" "" "$LOAD_CONNS connections"
	row "$1" "loadgen CPU (% of a core)" "-" "$AB_LG" "-" "" "while driving the reference; 100 = generator-bound"
}

# ---- result rows ----

# row SCENARIO FIGURE ATRIUM REFERENCE TARGET_TEXT RULE [NOTE]
# RULE is an awk condition over a (Atrium), r (reference) and x (ratio a/r), e.g. 'x >= 0.7'
# or 'a <= 20'; empty for an informational row. The ratio is printed when both are numbers.
row() {
	_rv=$(awk -v a="$3" -v r="$4" -v info="${6:+no}" 'BEGIN {
		num = "^[0-9]+([.][0-9]+)?$"
		x = (a ~ num && r ~ num && r + 0 > 0) ? a / r : -1
		ok = (a ~ num) && ('"${6:-1}"')
		printf "%s\t%s\n", (x < 0 ? "-" : sprintf("%.2fx", x)), (info == "" ? "info" : ok ? "PASS" : "MISS") }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$_rv" "${5:--}" "${7:-}" | awk -F '\t' -v OFS='\t' \
		'{ print $1, $2, $3, $4, $5, $7, $6, $8 }' >> "$BENCH_TMP/rows.tsv"
}

# pending SCENARIO FIGURE FEATURE [REFERENCE [TARGET_TEXT]]: a row whose Atrium side is not built yet.
pending() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "-" "${4:--}" "-" "${5:--}" "pending" "needs $3" \
		>> "$BENCH_TMP/rows.tsv"
}

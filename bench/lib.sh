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

# atrium_start NAME: `atrium serve` on 127.0.0.1:0 with a fresh data dir, pinned to the
# server CPU. Sets A_PID, A_DIR (data dir), A_ADDR (its listen.addr), A_ADMIN (admin.token).
atrium_start() {
	A_DIR=$BENCH_TMP/$1
	A_ADDR=$A_DIR/listen.addr
	A_ADMIN=$A_DIR/admin.token
	mkdir -p "$A_DIR"
	# shellcheck disable=SC2086
	$PIN_SERVER "$ATRIUM" serve --listen 127.0.0.1:0 --data-dir "$A_DIR" > "$A_DIR.log" 2>&1 &
	A_PID=$!
	track "$A_PID"
	wait_file "$A_ADDR" || { fail "atrium did not start (log: $A_DIR.log)"; return 1; }
	api GET /healthz > /dev/null || { fail "atrium does not answer /healthz"; return 1; }
}

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

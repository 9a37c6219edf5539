# Upload: one 1 GiB file through `PUT /api/v1/projects/{p}/datasets/{d}/versions/{v}/files/{path}`
# (bench/upload_put.c: the bytes generated as they are sent, with their X-Content-SHA256,
# checked against the 201), by a project member; MB/s and the growth of the daemon's peak RSS
# (VmHWM, reset through /proc/PID/clear_refs before each upload). References on the same disk
# (bench/upload_ref.c): `cp` of a file of the same bytes followed by an fsync of the copy, and
# sha256 of it in-process. Target: >= 0.5x min(cp+fsync, sha256), RSS growth <= 64 MiB.
# Atrium's default `--sync normal` does not fsync an upload (a crash of the machine may lose
# it; a crash of the daemon does not); `--sync full` does, and is measured too.
SCENARIOS="$SCENARIOS upload"

UPLOAD_PATH=/api/v1/projects/bench/datasets/data/versions/1/files

# upload_runs N SYNC: N uploads into a fresh daemon started with --sync SYNC; sets _mbs (their
# MB/s) and _grow (the largest peak RSS growth, MiB).
upload_runs() {
	atrium_start "upload-$2" --sync "$2" || return 1
	seed_project || return 1
	if ! { api POST /api/v1/projects/bench/datasets '{"name": "data"}' "$A_DIR/member.token" > /dev/null &&
		api POST /api/v1/projects/bench/datasets/data/versions '{}' "$A_DIR/member.token" > /dev/null; }; then
		fail "could not create the dataset version"
		return 1
	fi
	_mbs="" _grow=0
	_i=0
	while [ $_i -lt "$1" ]; do
		_i=$((_i + 1))
		echo 5 > "/proc/$A_PID/clear_refs" 2>/dev/null # VmHWM := VmRSS (Linux >= 4.0)
		_rss0=$(vm_kib "$A_PID" VmRSS)
		_l=$($PIN_LOAD "$BENCH_BIN/upload_put" "$A_ADDR" "$A_DIR/member.token" "$UPLOAD_PATH/big-$_i.bin" "$_bytes") ||
			{ fail "upload_put failed"; return 1; }
		_g=$(awk -v a="$_rss0" -v b="$(vm_kib "$A_PID" VmHWM)" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
		say "$(printf '%-10s %s rss_growth_mib=%s' "sync=$2" "$_l" "$_g")"
		_mbs="$_mbs $(kv mb_s "$_l")"
		_grow=$(awk -v a="$_grow" -v b="$_g" 'BEGIN { print (b > a ? b : a) }')
	done
	atrium_stop
}

scenario_upload() {
	if [ "$BENCH_SMOKE" = 1 ]; then _bytes=4194304 _reps=1 _size="4 MiB"; else _bytes=1073741824 _reps=3 _size="1 GiB"; fi
	_l=$($PIN_SERVER "$BENCH_BIN/upload_ref" "$BENCH_TMP" "$_bytes" "$_reps") || { fail "upload_ref failed"; return 1; }
	say "upload references ($_size): $_l"
	_cp=$(kv cp_mb_s "$_l") _sha=$(kv sha256_mb_s "$_l")
	_ref=$(awk -v a="$_cp" -v b="$_sha" 'BEGIN { print (a < b ? a : b) }')
	upload_runs "$_reps" normal || return 1
	# shellcheck disable=SC2086
	_normal=$(median $_mbs | awk '{ printf "%.0f", $1 }') _grow_normal=$_grow
	upload_runs "$_reps" full || return 1
	# shellcheck disable=SC2086
	_full=$(median $_mbs | awk '{ printf "%.0f", $1 }')
	row "upload" "MB/s" "$_normal" "$_ref" ">= 0.50x" 'x >= 0.5' \
		"$_size, --sync normal (default: no fsync); reference min(cp+fsync $_cp, sha256 $_sha)"
	row "upload" "MB/s, --sync full" "$_full" "$_ref" "-" "" "fsync of the file and its folder before the 201"
	row "upload" "peak RSS growth (MiB)" "$_grow_normal" "-" "<= 64 MiB" 'a <= 64' "VmHWM during the upload"
	row "upload" "peak RSS growth, full (MiB)" "$_grow" "-" "<= 64 MiB" 'a <= 64'
}

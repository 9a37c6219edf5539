# Upload: MB/s of a large artifact upload (streamed, hashed, stored, fsynced) against `cp` of
# the same file on the same disk followed by an fsync, and an in-process sha256 (OpenSSL EVP)
# of it (bench/upload_ref.c). Only the references run until uploads exist.
SCENARIOS="$SCENARIOS upload"

scenario_upload() {
	if [ "$BENCH_SMOKE" = 1 ]; then _bytes=4194304 _reps=1 _size="4 MiB"; else _bytes=1073741824 _reps=3 _size="1 GiB"; fi
	_l=$($PIN_SERVER "$BENCH_BIN/upload_ref" "$BENCH_TMP" "$_bytes" "$_reps") || { fail "upload_ref failed"; return 1; }
	say "upload references ($_size): $_l"
	pending "upload" "MB/s vs cp+fsync" "dataset/model uploads" "$(kv cp_mb_s "$_l")"
	pending "upload" "MB/s vs sha256" "dataset/model uploads" "$(kv sha256_mb_s "$_l")"
}

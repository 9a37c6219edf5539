/*
 * gc.c: POST /api/v1/admin/gc — runs a garbage collection pass now (on the loop, in small
 * steps, see atrium/gc.h), then one of the Slurm clusters' staging GC (what their shared
 * directories hold, atrium/slurm.h), and answers what both freed once they end. The
 * connection waits suspended meanwhile; a client that goes away just stops waiting.
 */
#include "api.h"
#include "atrium/gc.h"
#include "atrium/slurm.h"

const struct atr_field api_gc_schema[] = {
	{ "grace_seconds", ATR_F_INT, 0, 0, 86400 * 366, NULL, NULL },
	{ 0 },
};

static void staging_done(void *arg, const struct atr_slurm_gc_stats *sg)
{
	struct atr_req *r = arg;
	const struct atr_gc_stats *st = atr_req_ctx(r);

	atr_req_on_close(r, NULL);
	atr_reply_json(r, 200,
		       json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I}}", "blobs",
				 (json_int_t)st->blobs, "bytes", (json_int_t)st->bytes, "orphan_files",
				 (json_int_t)st->orphan_files, "orphan_bytes", (json_int_t)st->orphan_bytes,
				 "tmp_files", (json_int_t)st->tmp_files, "tmp_bytes", (json_int_t)st->tmp_bytes,
				 "errors", (json_int_t)st->errors, "duration_ms", (json_int_t)st->duration_ms,
				 "staging", "blobs", (json_int_t)sg->blobs, "bytes", (json_int_t)sg->bytes, "job_dirs",
				 (json_int_t)sg->job_dirs, "errors", (json_int_t)sg->errors));
}

static void gc_done(void *arg, const struct atr_gc_stats *st)
{
	struct atr_req *r = arg;
	struct atr_gc_stats *kept = atr_req_ctx(r);
	struct atr_slurm_gc_stats none = { 0 };

	*kept = *st;
	if (!APP(r)->slurm || atr_slurm_gc(APP(r)->slurm, staging_done, r) < 0)
		staging_done(r, &none); /* (no clusters' backend, or out of memory: nothing staged was looked at) */
}

static void gc_closed(struct atr_req *r)
{
	if (APP(r)->gc)
		atr_gc_forget_waiter(APP(r)->gc, r);
	atr_slurm_gc_forget_waiter(APP(r)->slurm, r);
}

void api_admin_gc(struct atr_req *r)
{
	int64_t grace_s = atr_json_int(atr_req_body(r), "grace_seconds", ATR_GC_GRACE_MS / 1000);
	struct atr_gc_stats *kept = atr_req_alloc(r, sizeof(*kept));

	atr_req_audit_object(r, "gc");
	if (!APP(r)->gc) {
		atr_reply_unavailable(r, NULL, "the garbage collector is not running");
		return;
	}
	if (kept)
		atr_req_set_ctx(r, kept, NULL);
	if (!kept || atr_gc_request(APP(r)->gc, grace_s * 1000, gc_done, r) < 0) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	atr_req_on_close(r, gc_closed);
	atr_req_suspend(r);
}

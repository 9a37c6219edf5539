/*
 * gc.c: POST /api/v1/admin/gc — runs a garbage collection pass now (on the loop, in small
 * steps, see atrium/gc.h) and answers what it freed once it ends. The connection waits
 * suspended meanwhile; a client that goes away just stops waiting.
 */
#include "api.h"
#include "atrium/gc.h"

const struct atr_field api_gc_schema[] = {
	{ "grace_seconds", ATR_F_INT, 0, 0, 86400 * 366, NULL, NULL },
	{ 0 },
};

static void gc_done(void *arg, const struct atr_gc_stats *st)
{
	struct atr_req *r = arg;

	atr_req_on_close(r, NULL);
	atr_reply_json(r, 200,
		       json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "blobs", (json_int_t)st->blobs, "bytes",
				 (json_int_t)st->bytes, "orphan_files", (json_int_t)st->orphan_files, "orphan_bytes",
				 (json_int_t)st->orphan_bytes, "tmp_files", (json_int_t)st->tmp_files, "tmp_bytes",
				 (json_int_t)st->tmp_bytes, "errors", (json_int_t)st->errors, "duration_ms",
				 (json_int_t)st->duration_ms));
}

static void gc_closed(struct atr_req *r)
{
	if (APP(r)->gc)
		atr_gc_forget_waiter(APP(r)->gc, r);
}

void api_admin_gc(struct atr_req *r)
{
	int64_t grace_s = atr_json_int(atr_req_body(r), "grace_seconds", ATR_GC_GRACE_MS / 1000);

	atr_req_audit_object(r, "gc");
	if (!APP(r)->gc) {
		atr_reply_unavailable(r, NULL, "the garbage collector is not running");
		return;
	}
	if (atr_gc_request(APP(r)->gc, grace_s * 1000, gc_done, r) < 0) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	atr_req_on_close(r, gc_closed);
	atr_req_suspend(r);
}

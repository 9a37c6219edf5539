#ifndef ATRIUM_GC_H
#define ATRIUM_GC_H
/*
 * gc.h: the garbage collector of the artifact store (src/artifacts/gc.c). A pass runs on
 * the loop in small steps (a uv_idle handle, at most ATR_GC_BATCH items a step), so requests
 * are served between steps. It has three phases:
 *
 *   1. blob rows no file points at (created before now - grace): the rows are deleted first,
 *      in one transaction per step that re-checks each row is still unreferenced, and only
 *      after the commit are the bytes unlinked. A crash between the two leaves an orphan
 *      file, never a row without bytes.
 *   2. orphan files in DATA_DIR/blobs (named by a sha256 that has no row), and
 *   3. stale uploads (DATA_DIR/tmp/upload-*):
 *      both only when older than max(grace, ATR_GC_FILE_MIN_AGE_MS) by mtime. An upload in
 *      flight writes its temp file at least every connection timeout (120 s), and its bytes
 *      reach blobs/ in the same loop callback that writes their row, so neither is touched.
 *
 * Everything runs on the loop thread, which is what makes the checks above race-free: an
 * upload's commit (rename into blobs/, then the row) never interleaves with a step.
 */
#include <stdbool.h>
#include <stdint.h>

struct atr_store;
struct uv_loop_s;
struct atr_gc;

#define ATR_GC_BATCH 128
#define ATR_GC_GRACE_MS (3600 * 1000LL)	      /* default grace of background passes */
#define ATR_GC_FILE_MIN_AGE_MS (600 * 1000LL) /* files without a row are never younger */

struct atr_gc_stats {
	int64_t blobs, bytes;		    /* unreferenced blobs removed (rows and bytes) */
	int64_t orphan_files, orphan_bytes; /* files in blobs/ that had no row */
	int64_t tmp_files, tmp_bytes;	    /* stale uploads removed from tmp/ */
	int64_t errors;			    /* files that could not be removed (logged) */
	int64_t duration_ms;
};

/* Called once a pass ends, with what it did. */
typedef void (*atr_gc_done_fn)(void *arg, const struct atr_gc_stats *st);

int atr_gc_new(struct uv_loop_s *loop, struct atr_store *s, struct atr_gc **out);
/* Closes the handles (the memory goes in their close callbacks); waiters are not called. */
void atr_gc_free(struct atr_gc *gc);

/*
 * Starts a pass every interval_ms (0: never) with the given grace. The timer does not keep
 * the loop alive by itself (a pass in progress does).
 */
void atr_gc_schedule(struct atr_gc *gc, int64_t interval_ms, int64_t grace_ms);
/*
 * Asks for a pass with the given grace; done(arg, stats) is called when it ends (done may
 * be NULL). If a pass is running, another one follows it (with the smallest grace asked).
 */
int atr_gc_request(struct atr_gc *gc, int64_t grace_ms, atr_gc_done_fn done, void *arg);
/* Drops the waiters registered with arg (a request that went away). */
void atr_gc_forget_waiter(struct atr_gc *gc, void *arg);
bool atr_gc_running(const struct atr_gc *gc);
/* Runs one step of the current pass now; 1 while more remains, 0 when idle (tests). */
int atr_gc_step(struct atr_gc *gc);

#endif

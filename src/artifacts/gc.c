/*
 * gc.c: the artifact garbage collector (see gc.h for the rules that keep it safe). A pass
 * is a small state machine advanced by a uv_idle handle, one bounded step per loop turn;
 * the SQL lives in src/store/gc.c, this file owns the files and the scheduling.
 */
#include "atrium/gc.h"
#include "atrium/artifacts.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/store.h"
#include "atrium/store_gc.h"
#include "atrium/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

enum phase { GC_IDLE, GC_ROWS, GC_BLOBS, GC_TMP };

struct waiter {
	atr_gc_done_fn done;
	void *arg;
	struct waiter *next;
};

struct atr_gc {
	uv_loop_t *loop;
	struct atr_store *s;
	uv_idle_t idle;
	uv_timer_t timer;
	int open_handles;
	enum phase phase;
	int64_t row_cutoff, file_cutoff, started_ms;
	char after[65]; /* GC_ROWS: last sha256 examined */
	DIR *top, *sub; /* GC_BLOBS: blobs/ and the current blobs/xx/ */
	char subname[3];
	DIR *tmp; /* GC_TMP */
	struct atr_gc_stats st;
	struct waiter *waiters; /* of the running pass */
	struct waiter *queued;	/* of the pass that follows it */
	bool queued_pass;
	int64_t queued_grace;
	int64_t bg_grace;
};

static void on_idle(uv_idle_t *h);

int atr_gc_new(uv_loop_t *loop, struct atr_store *s, struct atr_gc **out)
{
	struct atr_gc *gc = calloc(1, sizeof(*gc));
	if (!gc)
		return ATR_ENOMEM;
	gc->loop = loop;
	gc->s = s;
	uv_idle_init(loop, &gc->idle);
	uv_timer_init(loop, &gc->timer);
	uv_unref((uv_handle_t *)&gc->timer); /* the schedule alone never keeps the loop running */
	gc->idle.data = gc->timer.data = gc;
	gc->open_handles = 2;
	*out = gc;
	return 0;
}

static void free_waiters(struct waiter *w)
{
	while (w) {
		struct waiter *next = w->next;
		free(w);
		w = next;
	}
}

static void close_dirs(struct atr_gc *gc)
{
	if (gc->sub)
		closedir(gc->sub);
	if (gc->top)
		closedir(gc->top);
	if (gc->tmp)
		closedir(gc->tmp);
	gc->sub = gc->top = gc->tmp = NULL;
}

static void on_closed(uv_handle_t *h)
{
	struct atr_gc *gc = h->data;
	if (--gc->open_handles > 0)
		return;
	free_waiters(gc->waiters);
	free_waiters(gc->queued);
	free(gc);
}

void atr_gc_free(struct atr_gc *gc)
{
	if (!gc)
		return;
	close_dirs(gc);
	gc->phase = GC_IDLE;
	uv_close((uv_handle_t *)&gc->idle, on_closed);
	uv_close((uv_handle_t *)&gc->timer, on_closed);
}

bool atr_gc_running(const struct atr_gc *gc)
{
	return gc->phase != GC_IDLE;
}

static void begin_pass(struct atr_gc *gc, int64_t grace_ms)
{
	int64_t now = atr_now_ms();
	int64_t file_age = grace_ms > ATR_GC_FILE_MIN_AGE_MS ? grace_ms : ATR_GC_FILE_MIN_AGE_MS;

	memset(&gc->st, 0, sizeof(gc->st));
	gc->started_ms = now;
	gc->row_cutoff = now - grace_ms;
	gc->file_cutoff = now - file_age;
	gc->after[0] = 0;
	gc->phase = GC_ROWS;
	uv_idle_start(&gc->idle, on_idle);
}

static int add_waiter(struct waiter **list, atr_gc_done_fn done, void *arg)
{
	struct waiter *w;
	if (!done)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return ATR_ENOMEM;
	w->done = done;
	w->arg = arg;
	w->next = *list;
	*list = w;
	return 0;
}

int atr_gc_request(struct atr_gc *gc, int64_t grace_ms, atr_gc_done_fn done, void *arg)
{
	int rc;

	if (grace_ms < 0)
		grace_ms = 0;
	if (gc->phase == GC_IDLE) {
		if ((rc = add_waiter(&gc->waiters, done, arg)) < 0)
			return rc;
		begin_pass(gc, grace_ms);
		return 0;
	}
	if ((rc = add_waiter(&gc->queued, done, arg)) < 0)
		return rc;
	if (!gc->queued_pass || grace_ms < gc->queued_grace)
		gc->queued_grace = grace_ms;
	gc->queued_pass = true;
	return 0;
}

static void drop_arg(struct waiter **list, void *arg)
{
	while (*list) {
		if ((*list)->arg == arg) {
			struct waiter *w = *list;
			*list = w->next;
			free(w);
		} else {
			list = &(*list)->next;
		}
	}
}

void atr_gc_forget_waiter(struct atr_gc *gc, void *arg)
{
	drop_arg(&gc->waiters, arg);
	drop_arg(&gc->queued, arg);
}

static void on_timer(uv_timer_t *t)
{
	struct atr_gc *gc = t->data;
	if (gc->phase == GC_IDLE)
		atr_gc_request(gc, gc->bg_grace, NULL, NULL);
}

void atr_gc_schedule(struct atr_gc *gc, int64_t interval_ms, int64_t grace_ms)
{
	gc->bg_grace = grace_ms;
	if (interval_ms > 0)
		uv_timer_start(&gc->timer, on_timer, (uint64_t)interval_ms, (uint64_t)interval_ms);
	else
		uv_timer_stop(&gc->timer);
}

/* ---- the steps ---- */

static void finish_pass(struct atr_gc *gc)
{
	struct waiter *w = gc->waiters;

	close_dirs(gc);
	gc->phase = GC_IDLE;
	uv_idle_stop(&gc->idle);
	gc->st.duration_ms = atr_now_ms() - gc->started_ms;
	if (gc->st.blobs || gc->st.orphan_files || gc->st.tmp_files || gc->st.errors)
		atr_info("gc: removed %lld blobs (%lld bytes), %lld orphan files (%lld bytes), %lld stale uploads"
			 " (%lld bytes) in %lld ms; %lld errors",
			 (long long)gc->st.blobs, (long long)gc->st.bytes, (long long)gc->st.orphan_files,
			 (long long)gc->st.orphan_bytes, (long long)gc->st.tmp_files, (long long)gc->st.tmp_bytes,
			 (long long)gc->st.duration_ms, (long long)gc->st.errors);
	gc->waiters = NULL;
	while (w) {
		struct waiter *next = w->next;
		w->done(w->arg, &gc->st);
		free(w);
		w = next;
	}
	if (gc->queued_pass && gc->phase == GC_IDLE) {
		gc->queued_pass = false;
		gc->waiters = gc->queued;
		gc->queued = NULL;
		begin_pass(gc, gc->queued_grace);
	}
}

/* Phase 1: rows first (committed), then their bytes. */
static void step_rows(struct atr_gc *gc)
{
	char shas[ATR_GC_BATCH][65], last[65] = "";
	int64_t sizes[ATR_GC_BATCH];
	int n = 0, examined = 0;
	int rc = atr_store_gc_scan(gc->s, gc->after, gc->row_cutoff, ATR_GC_BATCH, shas, &n, last, &examined);

	if (rc == 0 && n > 0)
		rc = atr_store_gc_forget(gc->s, shas, n, sizes);
	if (rc == 0 && n > 0)
		rc = atr_store_flush(gc->s); /* the rows are gone for good before their bytes go */
	if (rc < 0) {
		atr_warn("gc: the blob rows could not be collected: %s", atr_strerror(rc));
		gc->st.errors++;
		gc->phase = GC_BLOBS;
		return;
	}
	for (int i = 0; i < n; i++) {
		if (sizes[i] < 0)
			continue;
		if (atr_blob_unlink(gc->s, shas[i]) < 0) {
			atr_warn("gc: could not remove blob %s: %s", shas[i], strerror(errno));
			gc->st.errors++; /* its row is gone: the orphan sweep retries it */
			continue;
		}
		gc->st.blobs++;
		gc->st.bytes += sizes[i];
	}
	memcpy(gc->after, last, sizeof(gc->after));
	if (examined < ATR_GC_BATCH)
		gc->phase = GC_BLOBS;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == 0;
}

/* An old enough regular file: its size in *size. */
static bool old_file(struct atr_gc *gc, DIR *d, const char *name, int64_t *size)
{
	struct stat st;
	int64_t mtime_ms;

	if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return false;
	mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	*size = (int64_t)st.st_size;
	return mtime_ms < gc->file_cutoff;
}

static void remove_file(struct atr_gc *gc, DIR *d, const char *name, int64_t size, int64_t *count, int64_t *bytes)
{
	if (unlinkat(dirfd(d), name, 0) < 0 && errno != ENOENT) {
		atr_warn("gc: could not remove '%s': %s", name, strerror(errno));
		gc->st.errors++;
		return;
	}
	(*count)++;
	*bytes += size;
}

/* Opens the next blobs/xx/ directory; false when there is none left. */
static bool next_subdir(struct atr_gc *gc)
{
	struct dirent *e;
	while ((e = readdir(gc->top))) {
		int fd;
		if (strlen(e->d_name) != 2 || !is_hex(e->d_name, 2))
			continue;
		fd = openat(dirfd(gc->top), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		gc->sub = fdopendir(fd);
		if (!gc->sub) {
			close(fd);
			continue;
		}
		memcpy(gc->subname, e->d_name, 3);
		return true;
	}
	return false;
}

/* Phase 2: files in blobs/ named by a sha256 that has no row. */
static void step_blobs(struct atr_gc *gc)
{
	int budget = ATR_GC_BATCH;

	if (!gc->top && !(gc->top = opendir(gc->s->blob_dir))) {
		gc->phase = GC_TMP;
		return;
	}
	while (budget-- > 0) {
		struct dirent *e;
		int64_t size;

		if (!gc->sub && !next_subdir(gc)) {
			gc->phase = GC_TMP;
			return;
		}
		e = readdir(gc->sub);
		if (!e) {
			closedir(gc->sub);
			gc->sub = NULL;
			continue;
		}
		if (strlen(e->d_name) != 64 || !is_hex(e->d_name, 64) || memcmp(e->d_name, gc->subname, 2) != 0)
			continue; /* not ours: never touched */
		if (!old_file(gc, gc->sub, e->d_name, &size) || atr_store_gc_known(gc->s, e->d_name) != 0)
			continue; /* referenced, or the database could not say: kept */
		remove_file(gc, gc->sub, e->d_name, size, &gc->st.orphan_files, &gc->st.orphan_bytes);
	}
}

/* Phase 3: uploads that were never finished. */
static void step_tmp(struct atr_gc *gc)
{
	int budget = ATR_GC_BATCH;

	if (!gc->tmp && !(gc->tmp = opendir(gc->s->tmp_dir))) {
		finish_pass(gc);
		return;
	}
	while (budget-- > 0) {
		struct dirent *e = readdir(gc->tmp);
		int64_t size;

		if (!e) {
			finish_pass(gc);
			return;
		}
		if (strncmp(e->d_name, "upload-", 7) != 0 || !old_file(gc, gc->tmp, e->d_name, &size))
			continue;
		remove_file(gc, gc->tmp, e->d_name, size, &gc->st.tmp_files, &gc->st.tmp_bytes);
	}
}

int atr_gc_step(struct atr_gc *gc)
{
	switch (gc->phase) {
	case GC_ROWS:
		step_rows(gc);
		break;
	case GC_BLOBS:
		step_blobs(gc);
		break;
	case GC_TMP:
		step_tmp(gc);
		break;
	case GC_IDLE:
		break;
	}
	return gc->phase != GC_IDLE;
}

static void on_idle(uv_idle_t *h)
{
	atr_gc_step(h->data);
}

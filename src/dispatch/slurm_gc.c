/*
 * slurm_gc.c: the staging GC of the Slurm backend (slurm.h). Staged blobs and the attempts'
 * folders stay in a cluster's shared directory after the jobs end; a pass (every
 * gc_interval_ms, or when asked: POST /api/v1/admin/gc) removes the blobs nobody used for the
 * cluster's keep_s and no attempt not yet done reads, and the folders of attempts whose job
 * finished. What goes is chosen on the loop from the store (src/store/cluster_staging.c); the
 * unlinks run in libuv's thread pool; the rows and counters change back on the loop. While
 * removals are in flight no staging starts (slurm_stage.c waits), so a blob chosen here is
 * never reused under it; a blob removed and needed later is copied again.
 */
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/store_clusters.h"
#include "atrium/util.h"
#include "slurm_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TREE_DEPTH_MAX 64

struct sgc_waiter {
	atr_slurm_gc_fn done;
	void *arg;
	struct sgc_waiter *next;
};

struct sgc_item {
	char path[1300];
	char sha256[65];
	int64_t job_id, attempt; /* a folder's attempt (0: a blob) */
	int64_t bytes;		 /* a blob removed: its size; -1 gone already */
	int err;		 /* errno of a removal that failed (0: removed or gone) */
};

struct sgc_work {
	uv_work_t w;
	struct atr_slurm *s; /* NULL: the backend was freed meanwhile */
	struct sgc_work *next;
	int64_t cluster_id;
	char cluster[64];
	struct sgc_item *items;
	int n;
};

/* ---- in the thread pool ---- */

/* Removes dfd/name and what is under it, never following a link; 0 or an errno. */
static int remove_tree(int dfd, const char *name, int depth)
{
	struct stat sb;
	struct dirent *e;
	DIR *d;
	int fd, err = 0;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : errno;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? errno : 0;
	if (depth > TREE_DEPTH_MAX)
		return ELOOP;
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno;
	if (!(d = fdopendir(fd))) {
		err = errno;
		close(fd);
		return err;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			int rc = remove_tree(dirfd(d), e->d_name, depth + 1);
			if (rc && !err)
				err = rc;
		}
	closedir(d);
	if (!err && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		err = errno;
	return err;
}

static void gc_work(uv_work_t *w)
{
	struct sgc_work *g = w->data;
	struct stat sb;

	for (int i = 0; i < g->n; i++) {
		struct sgc_item *it = &g->items[i];
		if (it->job_id) {
			it->err = remove_tree(AT_FDCWD, it->path, 0);
			continue;
		}
		it->bytes = -1;
		if (lstat(it->path, &sb) < 0)
			it->err = errno == ENOENT ? 0 : errno;
		else if (unlink(it->path) == 0)
			it->bytes = (int64_t)sb.st_size;
		else
			it->err = errno == ENOENT ? 0 : errno;
	}
}

/* ---- on the loop ---- */

static void free_waiters(struct sgc_waiter *w)
{
	while (w) {
		struct sgc_waiter *next = w->next;
		free(w);
		w = next;
	}
}

static int add_waiter(struct sgc_waiter **list, atr_slurm_gc_fn done, void *arg)
{
	struct sgc_waiter *w;

	if (!done)
		return 0;
	if (!(w = calloc(1, sizeof(*w))))
		return ATR_ENOMEM;
	w->done = done;
	w->arg = arg;
	w->next = *list;
	*list = w;
	return 0;
}

static void start_pass(struct atr_slurm *s);

static struct sjob *deferred_job(struct atr_slurm *s, int64_t job_id)
{
	for (struct scl *cl = s->clusters; cl; cl = cl->next)
		for (struct sjob *j = cl->jobs; j; j = j->next)
			if (j->job_id == job_id && j->stage_deferred)
				return j;
	return NULL;
}

/* The stagings that waited for the pass start now (found by id again: a failed one frees its
 * job, and the engine may free others). */
static void resume_stagings(struct atr_slurm *s)
{
	int64_t ids[256];
	int n = 0;
	struct sjob *j;

	do {
		n = 0;
		for (struct scl *cl = s->clusters; cl; cl = cl->next)
			for (j = cl->jobs; j && n < 256; j = j->next)
				if (j->stage_deferred)
					ids[n++] = j->job_id;
		for (int i = 0; i < n; i++)
			if ((j = deferred_job(s, ids[i]))) {
				j->stage_deferred = false;
				if (slurm_stage(j) < 0)
					slurm_reject(j, "could not stage its inputs into the shared directory");
			}
	} while (n == 256);
}

static void finish_pass(struct atr_slurm *s)
{
	struct sgc_waiter *w = s->gc_waiters;
	struct atr_slurm_gc_stats st = s->gc_st;

	s->gc_waiters = NULL;
	if (st.blobs || st.job_dirs || st.errors)
		atr_info("slurm gc: removed %lld staged blobs (%lld bytes) and %lld job folders; %lld errors",
			 (long long)st.blobs, (long long)st.bytes, (long long)st.job_dirs, (long long)st.errors);
	resume_stagings(s);
	while (w) {
		struct sgc_waiter *next = w->next;
		w->done(w->arg, &st);
		free(w);
		w = next;
	}
	if (s->gc_queued_pass && !s->gc_works) {
		s->gc_queued_pass = false;
		s->gc_waiters = s->gc_queued;
		s->gc_queued = NULL;
		start_pass(s);
	}
}

static void unlink_work(struct atr_slurm *s, struct sgc_work *g)
{
	struct sgc_work **pp = &s->gc_works;

	while (*pp && *pp != g)
		pp = &(*pp)->next;
	if (*pp)
		*pp = g->next;
}

/* One removal's result into the store and the pass's figures. */
static void record(struct atr_slurm *s, const struct sgc_work *g, const struct sgc_item *it)
{
	int rc = 0;

	if (it->err) {
		atr_warn("slurm gc: cluster '%s': could not remove '%s': %s", g->cluster, it->path, strerror(it->err));
		s->gc_st.errors++;
		return;
	}
	if (it->job_id) {
		rc = atr_store_staging_dir_gone(s->o.store, g->cluster_id, it->job_id, it->attempt);
		s->gc_st.job_dirs++;
	} else {
		rc = atr_store_staging_blob_gone(s->o.store, g->cluster_id, it->sha256, it->bytes);
		if (it->bytes >= 0) {
			s->gc_st.blobs++;
			s->gc_st.bytes += it->bytes;
		}
	}
	if (rc < 0)
		atr_warn("slurm gc: cluster '%s': could not record the removal of '%s': %s", g->cluster, it->path,
			 atr_strerror(rc));
}

static void gc_done(uv_work_t *w, int status)
{
	struct sgc_work *g = w->data;
	struct atr_slurm *s = g->s;

	if (s) {
		unlink_work(s, g);
		for (int i = 0; i < g->n; i++) {
			if (status != 0 && !g->items[i].err)
				g->items[i].err = ECANCELED;
			record(s, g, &g->items[i]);
		}
	}
	free(g->items);
	free(g);
	if (s && !s->gc_works)
		finish_pass(s);
}

/* The cluster's choice into g's items (none: g->n 0); 0 or <0. */
static int choose(struct atr_slurm *s, const struct scl *cl, struct sgc_work *g)
{
	struct atr_staged_blob *b = calloc(ATR_SLURM_GC_BATCH, sizeof(*b));
	struct atr_ended_attempt *a = calloc(ATR_SLURM_GC_BATCH, sizeof(*a));
	int nb = ATR_ENOMEM, na = ATR_ENOMEM, rc;

	if (b && a)
		nb = atr_store_staging_collectable(s->o.store, cl->c.id, atr_now_ms() - cl->c.staging_keep_s * 1000, b,
						   ATR_SLURM_GC_BATCH);
	if (nb >= 0)
		na = atr_store_staging_ended(s->o.store, cl->c.id, a, ATR_SLURM_GC_BATCH);
	rc = nb < 0 ? nb : na < 0 ? na : 0;
	if (rc == 0 && nb + na > 0 && !(g->items = calloc((size_t)(nb + na), sizeof(*g->items))))
		rc = ATR_ENOMEM;
	for (int i = 0; rc == 0 && i < nb; i++, g->n++) {
		atr_copy(g->items[g->n].sha256, sizeof(g->items[g->n].sha256), b[i].sha256);
		snprintf(g->items[g->n].path, sizeof(g->items[g->n].path), "%s/atrium/blobs/%s", cl->c.shared_dir,
			 b[i].sha256);
	}
	for (int i = 0; rc == 0 && i < na; i++, g->n++) {
		g->items[g->n].job_id = a[i].job_id;
		g->items[g->n].attempt = a[i].attempt;
		snprintf(g->items[g->n].path, sizeof(g->items[g->n].path), "%s/atrium/jobs/%lld-%lld", cl->c.shared_dir,
			 (long long)a[i].job_id, (long long)a[i].attempt);
	}
	free(b);
	free(a);
	return rc;
}

/* Queues the cluster's removals, if it has any. */
static void start_cluster(struct atr_slurm *s, struct scl *cl)
{
	struct sgc_work *g = calloc(1, sizeof(*g));
	int rc = g ? choose(s, cl, g) : ATR_ENOMEM;

	if (rc == 0 && g->n > 0) {
		g->s = s;
		g->cluster_id = cl->c.id;
		atr_copy(g->cluster, sizeof(g->cluster), cl->c.name);
		g->w.data = g;
		if (uv_queue_work(s->o.loop, &g->w, gc_work, gc_done) == 0) {
			g->next = s->gc_works;
			s->gc_works = g;
			return;
		}
		rc = ATR_EIO;
	}
	if (rc < 0) {
		atr_warn("slurm gc: cluster '%s': %s", cl->c.name, atr_strerror(rc));
		s->gc_st.errors++;
	}
	if (g)
		free(g->items);
	free(g);
}

static void start_pass(struct atr_slurm *s)
{
	memset(&s->gc_st, 0, sizeof(s->gc_st));
	for (struct scl *cl = s->clusters; cl; cl = cl->next)
		start_cluster(s, cl);
	if (!s->gc_works)
		finish_pass(s);
}

int atr_slurm_gc(struct atr_slurm *s, atr_slurm_gc_fn done, void *arg)
{
	int rc;

	if (s->gc_works) { /* (a pass runs: one more follows it) */
		if ((rc = add_waiter(&s->gc_queued, done, arg)) < 0)
			return rc;
		s->gc_queued_pass = true;
		return 0;
	}
	if ((rc = add_waiter(&s->gc_waiters, done, arg)) < 0)
		return rc;
	start_pass(s);
	return 0;
}

static void drop_arg(struct sgc_waiter **list, void *arg)
{
	while (*list) {
		if ((*list)->arg == arg) {
			struct sgc_waiter *w = *list;
			*list = w->next;
			free(w);
		} else {
			list = &(*list)->next;
		}
	}
}

void atr_slurm_gc_forget_waiter(struct atr_slurm *s, void *arg)
{
	if (!s)
		return;
	drop_arg(&s->gc_waiters, arg);
	drop_arg(&s->gc_queued, arg);
}

bool slurm_gc_busy(const struct atr_slurm *s)
{
	return s->gc_works != NULL;
}

static void on_gc_timer(uv_timer_t *t)
{
	struct atr_slurm *s = t->data;

	if (!s->gc_works)
		atr_slurm_gc(s, NULL, NULL);
}

void slurm_gc_start(struct atr_slurm *s)
{
	if (s->o.gc_interval_ms <= 0 || s->gc_timer || !(s->gc_timer = malloc(sizeof(*s->gc_timer))))
		return;
	uv_timer_init(s->o.loop, s->gc_timer);
	uv_unref((uv_handle_t *)s->gc_timer); /* (the schedule alone never keeps the loop running) */
	s->gc_timer->data = s;
	uv_timer_start(s->gc_timer, on_gc_timer, (uint64_t)s->o.gc_interval_ms, (uint64_t)s->o.gc_interval_ms);
}

static void timer_closed(uv_handle_t *h)
{
	free(h);
}

void slurm_gc_free(struct atr_slurm *s)
{
	for (struct sgc_work *g = s->gc_works; g; g = g->next)
		g->s = NULL;
	s->gc_works = NULL;
	free_waiters(s->gc_waiters);
	free_waiters(s->gc_queued);
	s->gc_waiters = s->gc_queued = NULL;
	if (s->gc_timer) {
		uv_timer_stop(s->gc_timer);
		uv_close((uv_handle_t *)s->gc_timer, timer_closed);
		s->gc_timer = NULL;
	}
}

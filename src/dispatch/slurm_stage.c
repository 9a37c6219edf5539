/*
 * slurm_stage.c: an attempt's inputs (its dataset versions' files, a batch job's model files)
 * staged into the cluster's shared directory before it is submitted, in libuv's thread pool.
 * Each blob is copied once, content-addressed, to <shared_dir>/atrium/blobs/<sha256> (read
 * only), and reused by every later job that reads the same bytes; the attempt's folder gets
 * a symbolic link per file (<job dir>/input/<as>/<path> -> the blob). The store records, before
 * the copies start, which blobs the attempt reads and when each was last used (what the
 * staging GC, slurm_gc.c, decides from), and counts the blobs copied and reused (the cluster
 * JSON's "staging"). While the GC removes files, a staging waits. Submitting is in slurm_submit.c.
 */
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/store_jobs.h"
#include "atrium/util.h"
#include "slurm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sfile {
	char sha256[65];
	char src[1200];	 /* the blob in Atrium's store */
	char blob[1200]; /* its copy in the shared directory */
	char link[1400]; /* where the job finds it */
	int64_t size;
};

struct sstage {
	uv_work_t w;
	struct sjob *j; /* NULL: the job was freed meanwhile */
	struct sfile *files;
	size_t n;
	int64_t copied, reused;
	char blobs[1300]; /* <shared_dir>/atrium/blobs */
	char why[300];	  /* set when it failed */
};

/* A relative path without "..", empty or absolute parts. */
static bool path_ok(const char *p)
{
	if (!p || !*p || *p == '/')
		return false;
	for (const char *s = p; *s;) {
		size_t len = strcspn(s, "/");
		if (len == 0 || (len == 2 && !strncmp(s, "..", 2)) || (len == 1 && *s == '.'))
			return false;
		s += len;
		if (*s == '/')
			s++;
	}
	return true;
}

static int copy_blob(const struct sfile *f, char *why, size_t whylen)
{
	char tmp[1300], buf[1 << 16];
	int in = open(f->src, O_RDONLY | O_CLOEXEC), out = -1, rc = ATR_EIO;
	ssize_t n = 0;

	/* (unique among concurrent copies: its plan entry; atr_fast_rand is not for threads) */
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d-%lx", f->blob, (int)getpid(), (unsigned long)(uintptr_t)f);
	if (in < 0 || (out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (close(out) == 0 && n == 0 && rename(tmp, f->blob) == 0)
		rc = 0;
	out = -1;
out:
	if (rc < 0) {
		snprintf(why, whylen, "could not copy blob '%s' into the shared directory (%s)", f->src,
			 strerror(errno));
		unlink(tmp);
	}
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	return rc;
}

/* The link's folders, then the link (an earlier try's replaced). */
static int link_file(const struct sfile *f, char *why, size_t whylen)
{
	char dir[1400];
	char *slash;

	atr_copy(dir, sizeof(dir), f->link);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	unlink(f->link);
	if (atr_mkdirs(dir, 0755) < 0 || symlink(f->blob, f->link) < 0) {
		snprintf(why, whylen, "could not link input '%s' (%s)", f->link, strerror(errno));
		return ATR_EIO;
	}
	return 0;
}

static void stage_work(uv_work_t *w)
{
	struct sstage *st = w->data;
	struct stat sb;

	if (atr_mkdirs(st->blobs, 0755) < 0) {
		snprintf(st->why, sizeof(st->why), "could not make '%s' (%s)", st->blobs, strerror(errno));
		return;
	}
	for (size_t i = 0; i < st->n; i++) {
		struct sfile *f = &st->files[i];
		if (stat(f->blob, &sb) == 0 && sb.st_size == f->size)
			st->reused++;
		else if (copy_blob(f, st->why, sizeof(st->why)) < 0)
			return;
		else
			st->copied++;
		if (link_file(f, st->why, sizeof(st->why)) < 0)
			return;
	}
}

static void stage_done(uv_work_t *w, int status)
{
	struct sstage *st = w->data;
	struct sjob *j = st->j;

	if (j) {
		j->stage = NULL;
		if (st->copied + st->reused > 0 &&
		    atr_store_staging_count(j->cl->s->o.store, j->cl->c.id, st->copied, st->reused) < 0)
			atr_warn("job %lld: the staging counters of cluster '%s' could not be updated",
				 (long long)j->job_id, j->cl->c.name);
		if (status != 0 && !st->why[0])
			atr_copy(st->why, sizeof(st->why), "could not stage its inputs");
		if (st->why[0])
			slurm_reject(j, st->why);
		else
			slurm_submit(j);
	}
	free(st->files);
	free(st);
}

/* One file of a download entry into the plan; <0 when its fields are not usable. */
static int plan_file(const struct sjob *j, const char *dir, const json_t *f, struct sfile *out)
{
	struct atr_slurm *s = j->cl->s;
	const char *sha = atr_json_str(f, "sha256", ""), *path = atr_json_str(f, "path", "");

	if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64 || !path_ok(path) || !path_ok(dir))
		return ATR_EINVAL;
	atr_copy(out->sha256, sizeof(out->sha256), sha);
	s->o.blob_path(s->o.store, sha, out->src, sizeof(out->src));
	snprintf(out->blob, sizeof(out->blob), "%s/atrium/blobs/%s", j->cl->c.shared_dir, sha);
	snprintf(out->link, sizeof(out->link), "%s/%s/%s", j->dir, dir, path);
	out->size = atr_json_int(f, "size", -1);
	return 0;
}

static int plan(const struct sjob *j, const json_t *downloads, struct sstage *st)
{
	size_t i, k, total = 0;
	json_t *d, *f;

	json_array_foreach(downloads, i, d) total += json_array_size(json_object_get(d, "files"));
	if (total == 0)
		return 0;
	if (!(st->files = calloc(total, sizeof(*st->files))))
		return ATR_ENOMEM;
	json_array_foreach(downloads, i, d)
	{
		json_array_foreach(json_object_get(d, "files"), k, f)
		{
			if (plan_file(j, atr_json_str(d, "dir", ""), f, &st->files[st->n]) < 0)
				return ATR_EINVAL;
			st->n++;
		}
	}
	return 0;
}

/* The blobs the attempt reads, recorded as used now (before any copy: the GC keeps them). */
static int record_use(const struct sjob *j, const struct sstage *st)
{
	struct atr_staged_blob *b = calloc(st->n, sizeof(*b));
	int rc;

	if (!b)
		return ATR_ENOMEM;
	for (size_t i = 0; i < st->n; i++) {
		atr_copy(b[i].sha256, sizeof(b[i].sha256), st->files[i].sha256);
		b[i].size = st->files[i].size;
	}
	rc = atr_store_staging_use(j->cl->s->o.store, j->cl->c.id, j->job_id, j->attempt, b, st->n, atr_now_ms());
	free(b);
	return rc;
}

int slurm_stage(struct sjob *j)
{
	int err = 0;
	json_t *dj;
	struct sstage *st;

	if (slurm_gc_busy(j->cl->s)) { /* (started again when the GC's removals are done) */
		j->stage_deferred = true;
		return 0;
	}
	dj = atr_store_job_dispatch_json(j->cl->s->o.store, j->job_id, &err);
	st = calloc(1, sizeof(*st));
	if (!dj || !st || (err = plan(j, json_object_get(dj, "downloads"), st)) < 0)
		goto fail;
	json_decref(dj);
	dj = NULL;
	if (st->n == 0 || !j->cl->s->o.blob_path) {
		free(st->files);
		free(st);
		slurm_submit(j);
		return 0;
	}
	if ((err = record_use(j, st)) < 0)
		goto fail;
	snprintf(st->blobs, sizeof(st->blobs), "%s/atrium/blobs", j->cl->c.shared_dir);
	st->j = j;
	st->w.data = st;
	if (uv_queue_work(j->cl->s->o.loop, &st->w, stage_work, stage_done) != 0) {
		err = ATR_EIO;
		goto fail;
	}
	j->stage = st;
	return 0;
fail:
	json_decref(dj);
	if (st)
		free(st->files);
	free(st);
	return err < 0 ? err : ATR_ENOMEM;
}

void slurm_stage_detach(struct sjob *j)
{
	j->stage_deferred = false;
	if (j->stage)
		j->stage->j = NULL;
	j->stage = NULL;
}

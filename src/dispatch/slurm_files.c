/*
 * slurm_files.c: the Slurm backend's file reads, off the loop (libuv's thread pool): the new
 * bytes of a job's output file (slurm.out, on a shared filesystem that may be slow), stored
 * as the attempt's log back on the loop, and the cluster's secret file (the HS256 key or the
 * token), read when the cluster is loaded or changed and again every minute (a cron job may
 * replace a token), so that a request never opens a file. A read outlives nothing: when its
 * job or cluster is freed first, its result is dropped.
 */
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/store_jobs.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"
#include "slurm_internal.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_CHUNK (256u << 10) /* read per job per turn */
#define SECRET_TTL_MS 60000

struct slog_read {
	uv_work_t w;
	struct sjob *j; /* NULL: the job was freed meanwhile */
	char path[1300];
	int64_t off;
	char *buf;
	ssize_t n;
};

static void log_work(uv_work_t *w)
{
	struct slog_read *r = w->data;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);

	r->n = -1;
	if (fd < 0)
		return;
	r->n = pread(fd, r->buf, LOG_CHUNK, r->off);
	close(fd);
}

static void log_done(uv_work_t *w, int status)
{
	struct slog_read *r = w->data;
	struct sjob *j = r->j;
	bool more = false;

	if (j) {
		j->log_read = NULL;
		if (status == 0 && r->n > 0 && r->off == j->log_off &&
		    atr_store_job_log_add(j->cl->s->o.store, j->job_id, j->attempt, j->log_off, r->buf, (size_t)r->n,
					  j->cl->c.worker_id) == 0) {
			j->log_off += r->n;
			atr_engine_log_appended(j->cl->s->e, j->job_id);
			more = r->n == (ssize_t)LOG_CHUNK;
		}
	}
	free(r->buf);
	free(r);
	if (j && j->ended)
		more ? slurm_log_read(j) : slurm_job_concluded(j);
}

void slurm_log_read(struct sjob *j)
{
	struct slog_read *r;

	if (j->log_read)
		return; /* (its end reads on from there) */
	if (!(r = calloc(1, sizeof(*r))) || !(r->buf = malloc(LOG_CHUNK))) {
		free(r);
		goto failed;
	}
	atr_store_job_log_end(j->cl->s->o.store, j->job_id, j->attempt, &j->log_off);
	snprintf(r->path, sizeof(r->path), "%s/slurm.out", j->dir);
	r->off = j->log_off;
	r->j = j;
	r->w.data = r;
	if (uv_queue_work(j->cl->s->o.loop, &r->w, log_work, log_done) != 0) {
		free(r->buf);
		free(r);
		goto failed;
	}
	j->log_read = r;
	return;
failed:
	if (j->ended)
		slurm_job_concluded(j); /* (without the tail of its log) */
}

void slurm_log_read_detach(struct sjob *j)
{
	if (j->log_read)
		j->log_read->j = NULL;
	j->log_read = NULL;
}

/* ---- the secret ---- */

struct ssecret_read {
	uv_work_t w;
	struct scl *cl; /* NULL: the cluster was freed meanwhile */
	char path[512];
	unsigned char buf[SLURM_SECRET_MAX];
	long n;
};

static void secret_work(uv_work_t *w)
{
	struct ssecret_read *r = w->data;
	FILE *f = fopen(r->path, "rb");
	size_t n;

	r->n = ATR_ENOTFOUND;
	if (!f)
		return;
	n = fread(r->buf, 1, sizeof(r->buf), f);
	fclose(f);
	r->n = n == sizeof(r->buf) ? ATR_ETOOBIG : n == 0 ? ATR_EINVAL : (long)n;
}

static void secret_done(uv_work_t *w, int status)
{
	struct ssecret_read *r = w->data;
	struct scl *cl = r->cl;
	bool first;

	if (cl) {
		cl->secret_read = NULL;
		first = cl->secret_at_ms == 0;
		cl->secret_at_ms = atr_now_ms();
		if (status == 0 && r->n > 0) {
			memcpy(cl->secret, r->buf, (size_t)r->n);
			cl->secret_len = (size_t)r->n;
			cl->secret_err = 0;
		} else {
			cl->secret_err = status == 0 ? (int)r->n : ATR_EIO;
			if (cl->secret_len == 0 || first)
				atr_warn("cluster '%s': no credentials from '%s' (%s)", cl->c.name, r->path,
					 atr_strerror(cl->secret_err));
		}
		if (first)
			slurm_cluster_ready(cl);
	}
	OPENSSL_cleanse(r->buf, sizeof(r->buf));
	free(r);
}

void slurm_secret_refresh(struct scl *cl, bool now)
{
	struct ssecret_read *r;

	if (cl->secret_read ||
	    (!now && cl->secret_len > 0 && atr_now_ms() - cl->secret_at_ms < SECRET_TTL_MS && cl->secret_at_ms))
		return;
	if (!(r = calloc(1, sizeof(*r))))
		return;
	atr_copy(r->path, sizeof(r->path), cl->c.secret_path);
	r->cl = cl;
	r->w.data = r;
	if (uv_queue_work(cl->s->o.loop, &r->w, secret_work, secret_done) != 0) {
		free(r);
		return;
	}
	cl->secret_read = r;
}

void slurm_secret_detach(struct scl *cl)
{
	OPENSSL_cleanse(cl->secret, sizeof(cl->secret));
	cl->secret_len = 0;
	if (cl->secret_read)
		cl->secret_read->cl = NULL;
	cl->secret_read = NULL;
}

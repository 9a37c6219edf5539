#ifndef ATRIUM_SLURM_INTERNAL_H
#define ATRIUM_SLURM_INTERNAL_H
/* Shared by src/dispatch/slurm*.c only: the backend's in-memory view of its clusters. */
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "atrium/slurm.h"
#include "atrium/store_clusters.h"

#include <jansson.h>

#define SLURM_SECRET_MAX 4096

struct atr_xfer;
struct scl;
struct slog_read;
struct sstage;
struct ssecret_read;

/* One attempt of an Atrium job, as one Slurm batch job. */
struct sjob {
	struct sjob *next;
	struct scl *cl;
	int64_t job_id, attempt, slurm_id; /* slurm_id 0: not known yet */
	int64_t log_off;		   /* bytes of its output file already stored as its log */
	char name[64];			   /* unique: a retry looks it up before submitting again */
	char dir[1200];			   /* its folder in the shared directory */
	bool sending;			   /* the engine waits for the dispatch result */
	bool cancel, cancel_sent, ended;
	bool ran;	     /* seen running: back to pending means Slurm requeued it */
	bool lookup;	     /* an earlier try may have reached Slurm: look the name up first */
	bool stage_deferred; /* its staging waits for the staging GC's pass to end (slurm_gc.c) */
	char *body;	     /* the submission */
	struct atr_xfer *xfer;
	struct slog_read *log_read; /* a read of its output file in the thread pool */
	struct sstage *stage;	    /* its inputs being staged (slurm_stage.c) */
	json_t *end;		    /* ended: Slurm's view of its end, reported once its log is read */
	char lost_why[200];	    /* ended so: Slurm lost it (requeued, node failure) */
};

struct scl {
	struct scl *next;
	struct atr_slurm *s;
	struct atr_cluster c;
	struct sjob *jobs;
	uv_timer_t *timer;
	struct atr_xfer *poll;
	int64_t poll_sent_ms; /* when the poll in flight (or the last one) was sent */
	int64_t interval_ms;
	int64_t since_s; /* update_time of the next poll (0: every job) */
	bool up;	 /* slurmrestd answered the last poll */
	/* the secret file's bytes, read in the thread pool (slurm_files.c) */
	unsigned char secret[SLURM_SECRET_MAX];
	size_t secret_len;
	int secret_err;
	int64_t secret_at_ms; /* of the last read (0: none yet) */
	struct ssecret_read *secret_read;
};

struct sgc_work;
struct sgc_waiter;

struct atr_slurm {
	struct atr_slurm_opts o;
	struct atr_engine *e;
	struct scl *clusters;
	bool closing; /* the daemon stops: aborts forget, they cancel nothing */
	/* the staging GC (slurm_gc.c) */
	uv_timer_t *gc_timer;
	struct sgc_work *gc_works; /* in the thread pool: while any, stagings wait */
	struct sgc_waiter *gc_waiters, *gc_queued;
	bool gc_queued_pass;
	struct atr_slurm_gc_stats gc_st;
};

/* slurm_submit.c */
/* The X-SLURM-USER-* headers of the cluster (a minted or a read JWT): 0 or <0. */
int slurm_auth_headers(const struct scl *cl, char name_hdr[128], char token_hdr[2048]);
void slurm_submit(struct sjob *j);
/* The attempt cannot run there: forgotten, and the engine told why (the job is freed). */
void slurm_reject(struct sjob *j, const char *why);
void slurm_send_cancel(struct sjob *j);
struct atr_client_resp;
int slurm_rest_get(struct scl *cl, const char *path, void (*cb)(void *cls, const struct atr_client_resp *resp),
		   void *cls, struct atr_xfer **xfer);
char *slurm_submit_body(struct atr_slurm *s, const struct scl *cl, const struct sjob *j,
			const struct atr_job_dispatch *jd);

void slurm_rest_delete(struct scl *cl, const char *path, void (*cb)(void *cls, const struct atr_client_resp *resp),
		       void *cls);

/* slurm.c */
void slurm_poll_soon(struct scl *cl);
void slurm_job_free(struct sjob *j);
/* The ended job's log is read: its end goes to the engine (the job is freed). */
void slurm_job_concluded(struct sjob *j);
/* The cluster's first secret read is back: its polls start. */
void slurm_cluster_ready(struct scl *cl);

/* slurm_files.c */
/* Reads the new bytes of the job's output file in the thread pool, stored as its log on the
 * loop; once the job has ended, reads to the end and then calls slurm_job_concluded. */
void slurm_log_read(struct sjob *j);
/* The job is freed: a read in flight is dropped. */
void slurm_log_read_detach(struct sjob *j);
/* Reads the cluster's secret file again in the thread pool (now, or when a minute old). */
void slurm_secret_refresh(struct scl *cl, bool now);
void slurm_secret_detach(struct scl *cl);

/* slurm_stage.c */
/* Stages the attempt's inputs into the shared directory in the thread pool, then submits it
 * (or rejects it, saying why). 0, or <0 when nothing could start (the caller fails it). */
int slurm_stage(struct sjob *j);
void slurm_stage_detach(struct sjob *j);

/* slurm_gc.c */
/* Whether removals are in flight (stagings wait: they start again when the pass ends). */
bool slurm_gc_busy(const struct atr_slurm *s);
/* Starts the periodic pass (opts gc_interval_ms). */
void slurm_gc_start(struct atr_slurm *s);
/* The backend is freed: files being removed finish, their results are dropped, waiters are
 * not called. */
void slurm_gc_free(struct atr_slurm *s);

#endif

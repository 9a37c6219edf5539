#ifndef ATRIUM_SLURM_H
#define ATRIUM_SLURM_H
/*
 * slurm.h: Slurm clusters as a dispatch backend through slurmrestd (src/dispatch/slurm.c).
 * A cluster is a worker row with the label atrium.cluster=<name> (store_clusters.h); the
 * dispatcher hands the jobs placed there to this backend, which submits each attempt as one
 * Slurm batch job, polls the cluster (with backoff) for states, reads the job's output file
 * as its log, reports the end to the engine like a worker's report, and heartbeats the
 * cluster's worker row while it can reach slurmrestd or remembers its jobs.
 */
#include <stddef.h>
#include <stdint.h>

struct uv_loop_s;
struct atr_store;
struct atr_client;
struct atr_engine;
struct atr_job_dispatch;
struct atr_slurm;

struct atr_slurm_opts {
	struct uv_loop_s *loop;
	struct atr_store *store;
	struct atr_client *client;
	const char *public_url; /* borrowed, read at each submission: how jobs reach the server */
	int64_t heartbeat_s;	/* the longest gap between two polls */
	/* where a blob of Atrium's store lies (artifacts.h atr_blob_path): inputs are staged from it */
	void (*blob_path)(const struct atr_store *s, const char *sha256, char *out, size_t outlen);
	int64_t gc_interval_ms; /* between two passes of the staging GC (0: only when asked) */
};

int atr_slurm_new(const struct atr_slurm_opts *o, struct atr_slurm **out);
/* The engine its results go to (set once the engine exists); loads every cluster. */
void atr_slurm_start(struct atr_slurm *s, struct atr_engine *e);
/* A cluster was created, changed or deleted: reload it. */
void atr_slurm_cluster_changed(struct atr_slurm *s, int64_t cluster_id);
/* Whether a worker URL is a cluster's ("slurm:<name>"). */
int atr_slurm_is_cluster_url(const char *url);
/* The backend's entry points (the dispatcher routes a cluster's jobs here). */
void atr_slurm_send(struct atr_slurm *s, struct atr_engine *e, const struct atr_job_dispatch *jd);
void atr_slurm_cancel(struct atr_slurm *s, struct atr_engine *e, const struct atr_job_dispatch *jd);
void atr_slurm_abort(struct atr_slurm *s, int64_t job_id);
/*
 * The staging GC (src/dispatch/slurm_gc.c). A pass looks at every cluster: the blobs it
 * staged into <shared_dir>/atrium/blobs that nobody used for the cluster's staging keep_s
 * and that no attempt not yet done reads, and the folders of attempts whose job has finished
 * (its end reported, its log read, its outputs uploaded), at most ATR_SLURM_GC_BATCH of each
 * per cluster and pass. The choice is made on the loop, the files are removed in the thread
 * pool; while they are, new stagings wait (a blob never goes under a job being staged).
 */
#define ATR_SLURM_GC_BATCH 256
struct atr_slurm_gc_stats {
	int64_t blobs, bytes; /* blobs removed, and their bytes */
	int64_t job_dirs;     /* attempts' folders removed */
	int64_t errors;	      /* files or folders that could not be removed (logged; tried again) */
};
typedef void (*atr_slurm_gc_fn)(void *arg, const struct atr_slurm_gc_stats *st);
/* Asks for a pass now; done(arg, st) when it ends (done may be NULL; it may be called before
 * this returns when there is nothing to remove). A pass running: another follows it. 0 or
 * ATR_ENOMEM. */
int atr_slurm_gc(struct atr_slurm *s, atr_slurm_gc_fn done, void *arg);
/* Drops the waiters registered with arg (a request that went away). */
void atr_slurm_gc_forget_waiter(struct atr_slurm *s, void *arg);
/* A JWT (HS256) for user, valid lifetime_s, signed with key: 0, or ATR_ETOOBIG when out is short. */
int atr_slurm_jwt(const unsigned char *key, size_t keylen, const char *user, int64_t now_s, int64_t lifetime_s,
		  char *out, size_t outlen);
/* The daemon stops (call before freeing the engine): its jobs keep running in Slurm. */
void atr_slurm_stop(struct atr_slurm *s);
void atr_slurm_free(struct atr_slurm *s);

#endif

#ifndef ATRIUM_STORE_CLUSTERS_H
#define ATRIUM_STORE_CLUSTERS_H
/*
 * store_clusters.h: Slurm clusters (src/store/clusters.c) and the Slurm batch job of each
 * attempt of an Atrium job sent there. A cluster is also a worker row (its worker_id): the
 * engine places, reconciles and requeues its jobs as it does a worker's.
 */
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct atr_store;
struct atr_page;

#define ATR_CLUSTER_LABEL "atrium.cluster" /* the worker label of a cluster's worker row */

struct atr_cluster {
	int64_t id, worker_id, max_jobs;
	char name[64];
	char url[512];		/* slurmrestd, with its version path: http://host:6820/slurm/v0.0.38 */
	char auth[16];		/* token_file | jwt_key */
	char secret_path[1024]; /* the token file, or the HS256 key file */
	char user[64];		/* the user jobs run as (X-SLURM-USER-NAME, the JWT's sun) */
	char partition[64];	/* the first of its partitions ("" : the cluster's default) */
	char account[64], qos[64], gres[32];
	char shared_dir[1024];
	int64_t staging_keep_s; /* how long a staged blob nobody uses stays in shared_dir */
};

#define ATR_CLUSTER_KEEP_S_DEFAULT (7 * 86400)

/* Creates the cluster and its worker row (one transaction). ATR_ECONFLICT: the name is taken. */
int atr_store_cluster_create(struct atr_store *s, const struct atr_cluster *c, const json_t *partitions,
			     int64_t *id_out);
/* Replaces its settings (name and worker kept); partitions NULL: kept. */
int atr_store_cluster_update(struct atr_store *s, const struct atr_cluster *c, const json_t *partitions);
/* By name, or by id when ref is all digits. ATR_ENOTFOUND. */
int atr_store_cluster_get(struct atr_store *s, const char *ref, struct atr_cluster *out);
int atr_store_cluster_get_id(struct atr_store *s, int64_t id, struct atr_cluster *out);
/* By its worker row. ATR_ENOTFOUND. */
int atr_store_cluster_by_worker(struct atr_store *s, int64_t worker_id, struct atr_cluster *out);
/* The API object (no secret: the secret file's path only), new reference, or NULL with *err. */
json_t *atr_store_cluster_json(struct atr_store *s, int64_t id, int *err);
int atr_store_cluster_list(struct atr_store *s, const struct atr_page *p, json_t *arr, bool *more);
/* Deletes the cluster; its worker row is deregistered. ATR_ECONFLICT while jobs are active there. */
int atr_store_cluster_delete(struct atr_store *s, int64_t id);
/* Every cluster's id (for the backend at start), into ids (at most max); the count or <0. */
int atr_store_cluster_ids(struct atr_store *s, int64_t *ids, int max);

/* ---- default clusters: a project's, else its team's (NULL: Atrium's workers) ---- */
enum atr_cluster_scope { ATR_CLUSTER_PROJECT, ATR_CLUSTER_TEAM };
/* Sets (cluster_id > 0) or clears (0) the default cluster of a project or team. */
int atr_store_cluster_set_default(struct atr_store *s, enum atr_cluster_scope scope, int64_t id, int64_t cluster_id);
/* The default cluster's name of a project or team into name ("" : none); 0 or <0. */
int atr_store_cluster_default_of(struct atr_store *s, enum atr_cluster_scope scope, int64_t id, char *name, size_t len);
/* Where a job of this project (team_id 0: none) goes when it names no cluster: the project's
 * default, else the team's; name "" : Atrium's workers. */
int atr_store_cluster_default_for(struct atr_store *s, int64_t project_id, int64_t team_id, char *name, size_t len);

/* ---- the Slurm job of each attempt ---- */
struct atr_cluster_job {
	int64_t job_id, attempt, cluster_id, slurm_job_id; /* 0: not known yet */
	int64_t log_offset;
	char slurm_name[64];
};
/* Records a submission about to be made (kept when already there: a retry). */
int atr_store_cluster_job_put(struct atr_store *s, const struct atr_cluster_job *cj);
int atr_store_cluster_job_set_slurm_id(struct atr_store *s, int64_t job_id, int64_t attempt, int64_t slurm_id);
int atr_store_cluster_job_set_log_offset(struct atr_store *s, int64_t job_id, int64_t attempt, int64_t off);
int atr_store_cluster_job_done(struct atr_store *s, int64_t job_id, int64_t attempt);
/* fn for each not-done job of the cluster. */
int atr_store_cluster_jobs_active(struct atr_store *s, int64_t cluster_id,
				  int (*fn)(const struct atr_cluster_job *cj, void *cls), void *cls);

/* ---- the dashboard's view ---- */
/* Atrium's jobs of the cluster by state into out ({"queued": n, "running": n, ...}): those
 * placed on its worker row, and those queued naming it; 0 or <0. */
int atr_store_cluster_job_counts(struct atr_store *s, const struct atr_cluster *c, json_t *out);

/* ---- staged inputs and their garbage collection (src/store/cluster_staging.c) ---- */
struct atr_staged_blob {
	char sha256[65];
	int64_t size;
};
struct atr_ended_attempt {
	int64_t job_id, attempt;
};
/* The attempt reads these blobs, staged into its cluster's shared directory now: each is
 * recorded as the cluster's (size, last used now_ms) and as referenced by the attempt. */
int atr_store_staging_use(struct atr_store *s, int64_t cluster_id, int64_t job_id, int64_t attempt,
			  const struct atr_staged_blob *b, size_t n, int64_t now_ms);
/* Adds to the cluster's counters of blobs copied and reused (kept across restarts). */
int atr_store_staging_count(struct atr_store *s, int64_t cluster_id, int64_t copied, int64_t reused);
/* The GC's choice: the cluster's blobs last used before cutoff_ms that no attempt not yet
 * done reads (of any cluster with the same shared directory), oldest use first, at most max
 * into out; the count or <0. */
int atr_store_staging_collectable(struct atr_store *s, int64_t cluster_id, int64_t cutoff_ms,
				  struct atr_staged_blob *out, int max);
/* Attempts of the cluster whose folder may go: done (their end reported, their log read)
 * and their job finished (succeeded, failed, cancelled: its outputs collected), folder not
 * removed yet; at most max into out; the count or <0. */
int atr_store_staging_ended(struct atr_store *s, int64_t cluster_id, struct atr_ended_attempt *out, int max);
/* The blob is no longer in the shared directory: its row goes; bytes >= 0 counts it collected. */
int atr_store_staging_blob_gone(struct atr_store *s, int64_t cluster_id, const char *sha256, int64_t bytes);
/* The attempt's folder was removed (counted), and what it referenced is forgotten. */
int atr_store_staging_dir_gone(struct atr_store *s, int64_t cluster_id, int64_t job_id, int64_t attempt);
/* The cluster's "staging" object into o: keep_s, blobs {count, bytes}, blobs_copied,
 * blobs_reused, blobs_collected, bytes_collected, job_dirs_collected. 0 or <0. */
int atr_store_staging_json(struct atr_store *s, int64_t cluster_id, json_t *o);

#endif

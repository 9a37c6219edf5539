/*
 * test_cluster_staging.c: the staging GC's choice (src/store/cluster_staging.c) on a real
 * store, without Slurm: which staged blobs go (old and read by no attempt still in flight)
 * and which stay (read by an attempt not done, on this cluster or another staging into the
 * same directory; used recently), which attempts' folders go (done, and their job finished),
 * and the counters, kept across a reopen of the store (a daemon restart).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/store.h"
#include "atrium/store_clusters.h"
#include "atrium/store_identity.h"
#include "atrium/store_jobs.h"
#include "atrium/store_projects.h"
#include "atrium/util.h"

#define HOUR_MS (3600 * 1000LL)

struct fx {
	char dir[64];
	struct atr_store *s;
	int64_t user, project;
	int64_t hpc, twin, far; /* twin shares hpc's shared directory, far does not */
};

static int64_t cluster(struct fx *f, const char *name, const char *dir)
{
	struct atr_cluster c = { .max_jobs = 10, .staging_keep_s = 3600 };
	int64_t id;

	atr_copy(c.name, sizeof(c.name), name);
	atr_copy(c.url, sizeof(c.url), "http://127.0.0.1:9/slurm/v0.0.38");
	atr_copy(c.auth, sizeof(c.auth), "jwt_key");
	atr_copy(c.secret_path, sizeof(c.secret_path), "/etc/key");
	atr_copy(c.user, sizeof(c.user), "mlops");
	atr_copy(c.shared_dir, sizeof(c.shared_dir), dir);
	assert_int_equal(atr_store_cluster_create(f->s, &c, NULL, &id), 0);
	return id;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-cstage-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(atr_store_open(f->dir, 0, &f->s), 0);
	assert_int_equal(atr_store_user_create(f->s, "ann", "Ann", false, NULL, &f->user), 0);
	assert_int_equal(atr_store_project_create(f->s, "lab", "", 0, false, NULL, f->user, &f->project), 0);
	f->hpc = cluster(f, "hpc", "/shared/a");
	f->twin = cluster(f, "twin", "/shared/a");
	f->far = cluster(f, "far", "/shared/b");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	atr_store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A queued job with attempt 1 sent to the cluster (done: its end reported). */
static int64_t job(struct fx *f, int64_t cluster_id, bool done)
{
	json_t *cmd = json_pack("[s]", "true");
	struct atr_job_spec spec = {
		.project_id = f->project, .created_by = f->user, .kind = "training", .command = cmd, .max_attempts = 3
	};
	struct atr_cluster_job cj = { .attempt = 1, .cluster_id = cluster_id };
	int64_t id;

	assert_int_equal(atr_store_job_create(f->s, &spec, &id), 0);
	json_decref(cmd);
	cj.job_id = id;
	snprintf(cj.slurm_name, sizeof(cj.slurm_name), "atrium-%lld-1", (long long)id);
	assert_int_equal(atr_store_cluster_job_put(f->s, &cj), 0);
	if (done)
		assert_int_equal(atr_store_cluster_job_done(f->s, id, 1), 0);
	return id;
}

static void finish(struct fx *f, int64_t id)
{
	struct atr_job_change c = { .from = ATR_JOB_QUEUED, .to = ATR_JOB_CANCELLED, .attempts = -1, .message = "x" };
	assert_int_equal(atr_store_job_transition(f->s, id, &c), 0);
}

static void use(struct fx *f, int64_t cluster_id, int64_t job_id, char ch, int64_t size, int64_t at_ms)
{
	struct atr_staged_blob b = { .size = size };

	memset(b.sha256, ch, 64);
	assert_int_equal(atr_store_staging_use(f->s, cluster_id, job_id, 1, &b, 1, at_ms), 0);
}

static int64_t staging(struct fx *f, int64_t cluster_id, const char *key, const char *sub)
{
	json_t *o = json_object(), *st;
	int64_t v;

	assert_int_equal(atr_store_staging_json(f->s, cluster_id, o), 0);
	st = json_object_get(o, "staging");
	v = json_integer_value(json_object_get(sub ? json_object_get(st, sub) : st, key));
	json_decref(o);
	return v;
}

static void test_which_blobs_go(void **state)
{
	struct fx *f = *state;
	int64_t now = atr_now_ms(), old = now - 2 * HOUR_MS, cutoff = now - HOUR_MS;
	int64_t running = job(f, f->hpc, false), ended = job(f, f->hpc, true);
	int64_t twin_running = job(f, f->twin, false), far_running = job(f, f->far, false);
	struct atr_staged_blob out[8];
	int n;

	use(f, f->hpc, running, 'a', 10, old); /* old, read by an attempt in flight: stays */
	use(f, f->hpc, ended, 'b', 20, old);   /* old, read only by an ended attempt: goes */
	use(f, f->hpc, ended, 'c', 30, now);   /* used recently: stays */
	use(f, f->hpc, ended, 'd', 40, old);   /* old here, but read in flight through the twin: stays */
	use(f, f->twin, twin_running, 'd', 40, old);
	use(f, f->hpc, ended, 'e', 50, old - 1); /* read in flight on a cluster with another directory: goes */
	use(f, f->far, far_running, 'e', 50, now);
	n = atr_store_staging_collectable(f->s, f->hpc, cutoff, out, 8);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].sha256[0], 'e'); /* (oldest use first) */
	assert_int_equal(out[0].size, 50);
	assert_int_equal(out[1].sha256[0], 'b');
	assert_int_equal(atr_store_staging_collectable(f->s, f->hpc, cutoff, out, 1), 1);
	/* keep_s 0: anything read by no attempt in flight goes */
	assert_int_equal(atr_store_staging_collectable(f->s, f->hpc, now + 1, out, 8), 3);
	/* the running attempt ends: its blob is free too */
	assert_int_equal(atr_store_cluster_job_done(f->s, running, 1), 0);
	assert_int_equal(atr_store_staging_collectable(f->s, f->hpc, cutoff, out, 8), 3);

	assert_int_equal(staging(f, f->hpc, "count", "blobs"), 5);
	assert_int_equal(staging(f, f->hpc, "bytes", "blobs"), 150);
	memset(out[0].sha256, 'e', 64);
	memset(out[1].sha256, 'b', 64);
	assert_int_equal(atr_store_staging_blob_gone(f->s, f->hpc, out[0].sha256, 50), 0);
	assert_int_equal(atr_store_staging_blob_gone(f->s, f->hpc, out[1].sha256, -1), 0); /* (gone already) */
	assert_int_equal(staging(f, f->hpc, "count", "blobs"), 3);
	assert_int_equal(staging(f, f->hpc, "bytes", "blobs"), 80);
	assert_int_equal(staging(f, f->hpc, "blobs_collected", NULL), 1);
	assert_int_equal(staging(f, f->hpc, "bytes_collected", NULL), 50);
	assert_int_equal(staging(f, f->twin, "blobs_collected", NULL), 0);
	/* used again after collection: held again */
	use(f, f->hpc, ended, 'e', 50, now);
	assert_int_equal(staging(f, f->hpc, "count", "blobs"), 4);
}

static void test_which_folders_go(void **state)
{
	struct fx *f = *state;
	int64_t in_flight = job(f, f->hpc, false), cancelled = job(f, f->hpc, true), requeued = job(f, f->hpc, true);
	int64_t elsewhere = job(f, f->far, true);
	struct atr_ended_attempt out[8];

	finish(f, cancelled);
	finish(f, elsewhere);
	/* in flight: not done; requeued: attempt 1 done but the job goes on (queued again) */
	assert_int_equal(atr_store_staging_ended(f->s, f->hpc, out, 8), 1);
	assert_int_equal(out[0].job_id, cancelled);
	assert_int_equal(out[0].attempt, 1);
	assert_int_equal(atr_store_staging_dir_gone(f->s, f->hpc, cancelled, 1), 0);
	assert_int_equal(atr_store_staging_ended(f->s, f->hpc, out, 8), 0);
	assert_int_equal(staging(f, f->hpc, "job_dirs_collected", NULL), 1);
	/* the job ends after its lost attempt: that folder goes too */
	finish(f, requeued);
	assert_int_equal(atr_store_staging_ended(f->s, f->hpc, out, 8), 1);
	assert_int_equal(out[0].job_id, requeued);
	(void)in_flight;
}

static void test_counters_survive_reopen(void **state)
{
	struct fx *f = *state;
	struct atr_cluster c;
	json_t *o = json_object();

	assert_int_equal(atr_store_staging_count(f->s, f->hpc, 1, 0), 0);
	assert_int_equal(atr_store_staging_count(f->s, f->hpc, 0, 1), 0);
	assert_int_equal(atr_store_staging_blob_gone(
				 f->s, f->hpc, "0000000000000000000000000000000000000000000000000000000000000000", 7),
			 0);
	atr_store_close(f->s);
	assert_int_equal(atr_store_open(f->dir, 0, &f->s), 0);
	assert_int_equal(staging(f, f->hpc, "blobs_copied", NULL), 1);
	assert_int_equal(staging(f, f->hpc, "blobs_reused", NULL), 1);
	assert_int_equal(staging(f, f->hpc, "blobs_collected", NULL), 1);
	assert_int_equal(staging(f, f->hpc, "bytes_collected", NULL), 7);
	assert_int_equal(staging(f, f->hpc, "keep_s", NULL), 3600);
	assert_int_equal(atr_store_cluster_get_id(f->s, f->hpc, &c), 0);
	assert_int_equal(c.staging_keep_s, 3600);
	c.staging_keep_s = 60;
	assert_int_equal(atr_store_cluster_update(f->s, &c, NULL), 0);
	assert_int_equal(staging(f, f->hpc, "keep_s", NULL), 60);
	assert_int_equal(atr_store_staging_json(f->s, 9999, o), ATR_ENOTFOUND);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_which_blobs_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_which_folders_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_survive_reopen, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

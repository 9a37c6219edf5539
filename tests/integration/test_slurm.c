/*
 * test_slurm.c: Slurm clusters as a dispatch backend, against a real single-node Slurm
 * (slurmctld, slurmd, slurmrestd with JWT, two fake GPUs) that tests/slurm/slurm-up.sh
 * starts on loopback. Jobs go through Atrium end to end: success with its output registered
 * as a model version and its log read from the job's output file, failure with its exit
 * code, cancel, a GPU request (GRES), slurmrestd stopped and started mid-run, `atrium serve`
 * restarted mid-run, the time limit from timeout_s, inputs staged once and collected by the
 * staging GC; and the cluster routes' happy path, bad input and no-permission cases. Prints SKIP and passes where Slurm cannot be set up (not
 * root, no packages).
 */
#include "fixtures.h"
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define UP "tests/slurm/slurm-up.sh"
#define KEY "/var/spool/slurm-up/ctld/jwt_hs256.key"

static struct h_server S;
static char editor[128], viewer[128];
static char shared[128];
static bool started_slurm;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static long long submit(const char *body)
{
	json_t *j = h_call(&S, "POST", "/api/v1/projects/hpc/jobs", editor, body, 201);
	long long id = f_int(j, "id");
	json_decref(j);
	return id;
}

static json_t *job(long long id)
{
	return h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", id), S.admin_token, NULL, 200);
}

static bool ended(const char *st)
{
	return !strcmp(st, "succeeded") || !strcmp(st, "failed") || !strcmp(st, "cancelled");
}

static json_t *wait_job(long long id, int timeout_s)
{
	for (int waited = 0; waited < timeout_s; waited += 20) {
		json_t *j =
			h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld/wait?timeout_s=20", id), S.admin_token, NULL, 200);
		if (ended(f_str(j, "state")))
			return j;
		json_decref(j);
	}
	fprintf(stderr, "job %lld did not end in %d s\n", id, timeout_s);
	fail();
	return NULL;
}

static void wait_state(long long id, const char *state, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 200) {
		json_t *j = job(id);
		bool ok = !strcmp(f_str(j, "state"), state);
		json_decref(j);
		if (ok)
			return;
		sleep_ms(200);
	}
	fprintf(stderr, "job %lld never reached %s\n", id, state);
	fail();
}

static char *logs(long long id)
{
	struct h_resp r;
	char *out;

	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", id), S.admin_token, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	out = strdup(r.body ? r.body : "");
	h_resp_free(&r);
	return out;
}

static void expect_log(long long id, const char *needle)
{
	char *l = logs(id);
	if (!strstr(l, needle))
		fprintf(stderr, "job %lld log lacks '%s':\n%s\n", id, needle, l);
	assert_non_null(strstr(l, needle));
	free(l);
}

static const char *cluster_body2(const char *name, const char *auth, int max_jobs)
{
	return h_fmt("{\"name\":\"%s\",\"kind\":\"slurm\",\"url\":\"http://127.0.0.1:6820/slurm/v0.0.38\","
		     "\"auth\":\"%s\",\"secret_path\":\"" KEY "\",\"user\":\"mlops\",\"partitions\":[\"debug\"],"
		     "\"gres\":\"gpu\",\"shared_dir\":\"%s\",\"max_jobs\":%d}",
		     name, auth, shared, max_jobs);
}

static const char *cluster_body(const char *name, const char *unused)
{
	(void)unused;
	return cluster_body2(name, "jwt_key", 50);
}

static void test_cluster_routes(void **state)
{
	json_t *j;
	(void)state;

	/* made in setup: read back, no secret in it */
	j = h_call(&S, "GET", "/api/v1/clusters/lab", viewer, NULL, 200);
	assert_string_equal(f_str(j, "kind"), "slurm");
	assert_string_equal(f_str(j, "auth"), "jwt_key");
	assert_null(json_object_get(j, "secret_path"));
	assert_string_equal(f_str(j, "link"), "online");
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/clusters", viewer, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	j = h_call(&S, "PATCH", "/api/v1/clusters/lab", S.admin_token, "{\"max_jobs\":40}", 200);
	assert_int_equal(f_int(j, "max_jobs"), 40);
	json_decref(j);
	/* bad input, each naming its field */
	h_expect_error(&S, "POST", "/api/v1/clusters", S.admin_token, cluster_body("lab", ""), 409, "name");
	h_expect_error(&S, "POST", "/api/v1/clusters", S.admin_token, "{\"name\":\"x\"}", 400, "url");
	h_expect_error(&S, "POST", "/api/v1/clusters", S.admin_token, cluster_body2("x", "password", 5), 400, "auth");
	h_expect_error(&S, "POST", "/api/v1/clusters", S.admin_token, cluster_body2("x", "jwt_key", 0), 400,
		       "max_jobs");
	h_expect_error(&S, "POST", "/api/v1/clusters", S.admin_token, cluster_body("Bad Name", ""), 400, "name");
	h_expect_error(&S, "PATCH", "/api/v1/clusters/lab", S.admin_token, "{\"shared_dir\":\"rel/dir\"}", 400,
		       "shared_dir");
	h_expect_error(&S, "PATCH", "/api/v1/clusters/lab", S.admin_token, "{\"bogus\":1}", 400, "bogus");
	h_expect_error(&S, "GET", "/api/v1/clusters/nope", viewer, NULL, 404, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/hpc/jobs", editor, "{\"command\":[\"true\"],\"cluster\":\"nope\"}",
		       400, "cluster");
	/* no permission: only admins write */
	h_expect_error(&S, "POST", "/api/v1/clusters", editor, cluster_body("x", ""), 403, NULL);
	h_expect_error(&S, "PATCH", "/api/v1/clusters/lab", editor, "{\"max_jobs\":1}", 403, NULL);
	h_expect_error(&S, "DELETE", "/api/v1/clusters/lab", viewer, NULL, 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/clusters", NULL, NULL, 401, NULL);
	/* a second cluster, deleted */
	json_decref(h_call(&S, "POST", "/api/v1/clusters", S.admin_token, cluster_body("spare", ""), 201));
	json_decref(h_call(&S, "DELETE", "/api/v1/clusters/spare", S.admin_token, NULL, 204));
	h_expect_error(&S, "GET", "/api/v1/clusters/spare", viewer, NULL, 404, NULL);
}

static void test_success_with_outputs(void **state)
{
	long long id;
	json_t *j;
	(void)state;

	id = submit(
		"{\"name\":\"train\",\"cluster\":\"lab\",\"outputs\":{\"model\":\"net\"},\"resources\":{\"cpus\":1},"
		"\"command\":\"echo hello from slurm job $ATRIUM_JOB_ID as $(id -un); "
		"echo weights > $ATRIUM_OUTPUT_DIR/model.bin\"}");
	j = wait_job(id, 120);
	if (strcmp(f_str(j, "state"), "succeeded")) {
		char *l = logs(id);
		fprintf(stderr, "job %lld: %s\nlog:\n%s\n", id, f_str(j, "message"), l);
		free(l);
	}
	assert_string_equal(f_str(j, "state"), "succeeded");
	assert_int_equal(f_int(j, "exit_code"), 0);
	json_decref(j);
	expect_log(id, h_fmt("hello from slurm job %lld as mlops", id));
	/* the output became a model version, as from a worker */
	j = h_call(&S, "GET", "/api/v1/projects/hpc/models/net/versions/1/files", editor, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "items"), 0), "path"), "model.bin");
	json_decref(j);
	j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld/events", id), editor, NULL, 200);
	json_decref(j);
}

static void test_failure_exit_code(void **state)
{
	long long id;
	json_t *j;
	(void)state;

	id = submit("{\"cluster\":\"lab\",\"max_attempts\":1,\"command\":[\"/bin/sh\",\"-c\",\"echo about to fail; "
		    "exit 3\"]}");
	j = wait_job(id, 120);
	assert_string_equal(f_str(j, "state"), "failed");
	assert_int_equal(f_int(j, "exit_code"), 3);
	json_decref(j);
	expect_log(id, "about to fail");
}

static int squeue_count(long long slurm_job_hint)
{
	(void)slurm_job_hint;
	return h_sh("test -z \"$(squeue -h -o %%i 2>/dev/null)\"") == 0 ? 0 : 1;
}

static void test_cancel(void **state)
{
	long long id;
	json_t *j;
	(void)state;

	id = submit("{\"cluster\":\"lab\",\"command\":[\"/bin/sh\",\"-c\",\"echo sleeping; exec sleep 300\"]}");
	wait_state(id, "running", 60000);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", id), editor, "{}", 202));
	j = wait_job(id, 60);
	assert_string_equal(f_str(j, "state"), "cancelled");
	json_decref(j);
	for (int t = 0; t < 100 && squeue_count(0); t++)
		sleep_ms(200);
	assert_int_equal(squeue_count(0), 0); /* gone from Slurm too */
}

static void test_gpu_request(void **state)
{
	long long id;
	json_t *j;
	(void)state;

	id = submit("{\"cluster\":\"lab\",\"resources\":{\"gpus\":2},\"command\":\"echo gpus=$CUDA_VISIBLE_DEVICES\"}");
	j = wait_job(id, 120);
	assert_string_equal(f_str(j, "state"), "succeeded");
	json_decref(j);
	expect_log(id, "gpus=0,1");
	/* more than the cluster has: Slurm refuses it, the job fails with Slurm's reason */
	id = submit("{\"cluster\":\"lab\",\"resources\":{\"gpus\":3},\"command\":\"true\"}");
	j = wait_job(id, 60);
	assert_string_equal(f_str(j, "state"), "failed");
	assert_non_null(strstr(f_str(j, "message"), "slurm"));
	json_decref(j);
}

/* slurmrestd goes away while a job runs and ends; once it is back, Atrium catches up. */
static void test_slurmrestd_down_mid_run(void **state)
{
	long long id;
	json_t *j;
	(void)state;

	id = submit("{\"cluster\":\"lab\",\"command\":\"echo before; sleep 4; echo after\"}");
	wait_state(id, "running", 60000);
	assert_int_equal(h_sh("bash " UP " rest-stop >/dev/null 2>&1"), 0);
	sleep_ms(7000); /* the job ends meanwhile */
	j = job(id);
	assert_string_equal(f_str(j, "state"), "running"); /* its last known state */
	json_decref(j);
	assert_int_equal(h_sh("bash " UP " rest-start >/dev/null 2>&1"), 0);
	j = wait_job(id, 90);
	assert_string_equal(f_str(j, "state"), "succeeded");
	json_decref(j);
	expect_log(id, "after");
}

/* `atrium serve` restarts while the job runs: it finds the job in Slurm by its id. */
static void test_server_restart_mid_run(void **state)
{
	long long id;
	json_t *j;
	(void)state;

	id = submit("{\"cluster\":\"lab\",\"max_attempts\":1,\"command\":\"sleep 4; echo survived\"}");
	wait_state(id, "running", 60000);
	assert_int_equal(h_server_stop(&S, SIGTERM), 0); /* (a clean stop leaves the Slurm job running) */
	h_server_restart(&S, NULL);
	j = wait_job(id, 90);
	assert_string_equal(f_str(j, "state"), "succeeded");
	assert_int_equal(f_int(j, "attempts"), 1); /* never submitted twice */
	json_decref(j);
	expect_log(id, "survived");
}

/* timeout_s becomes Slurm's time limit (whole minutes): Slurm ends the job, Atrium fails it. */
static void test_timeout(void **state)
{
	long long id;
	json_t *j;
	(void)state;

	id = submit("{\"cluster\":\"lab\",\"max_attempts\":1,\"timeout_s\":30,\"command\":\"exec sleep 600\"}");
	j = wait_job(id, 240);
	assert_string_equal(f_str(j, "state"), "failed");
	assert_non_null(strstr(f_str(j, "message"), "timed out"));
	json_decref(j);
}

static long long attempts_of(long long id)
{
	json_t *j = job(id);
	long long n = f_int(j, "attempts");
	json_decref(j);
	return n;
}

static void wait_attempts(long long id, long long n, int timeout_ms)
{
	for (int t = 0; t < timeout_ms && attempts_of(id) < n; t += 200)
		sleep_ms(200);
	assert_int_equal(attempts_of(id), n);
}

/* The single node goes down (its running job with it), then back up. */
static void node_down(void)
{
	assert_int_equal(h_sh("scontrol update nodename=$(hostname -s) state=down reason=atrium-test"), 0);
}

static void node_up(void)
{
	for (int t = 0; t < 150; t++) {
		h_sh("scontrol update nodename=$(hostname -s) state=resume >/dev/null 2>&1");
		if (h_sh("sinfo -h -n $(hostname -s) -o %%t | grep -qv 'down\\|drain\\|fail'") == 0)
			return;
		sleep_ms(200);
	}
	fprintf(stderr, "the node did not come back\n");
	fail();
}

/* The node fails mid-job: Slurm 22.05 requeues the job by itself (whatever the submission
 * said); Atrium counts it as a lost attempt, cancels Slurm's copy and submits the next attempt. */
static void test_node_down_requeues(void **state)
{
	long long id;
	json_t *j;
	char *txt;
	(void)state;

	id = submit("{\"cluster\":\"lab\",\"max_attempts\":2,\"command\":\"echo attempt $ATRIUM_ATTEMPT; "
		    "if [ $ATRIUM_ATTEMPT = 1 ]; then exec sleep 300; fi; echo done on attempt $ATRIUM_ATTEMPT\"}");
	wait_state(id, "running", 60000);
	node_down();
	wait_attempts(id, 2, 60000); /* lost, requeued, submitted again (pending: the node is down) */
	node_up();
	j = wait_job(id, 120);
	assert_string_equal(f_str(j, "state"), "succeeded");
	assert_int_equal(f_int(j, "attempts"), 2);
	json_decref(j);
	expect_log(id, "done on attempt 2");
	j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld/events", id), editor, NULL, 200);
	txt = json_dumps(j, 0);
	assert_non_null(strstr(txt, "requeued: slurm requeued its job"));
	free(txt);
	json_decref(j);
}

/* No attempt left: the job fails, saying why; Slurm keeps nothing of it. */
static void test_node_down_no_attempts_left(void **state)
{
	long long id;
	json_t *j;
	(void)state;

	id = submit("{\"cluster\":\"lab\",\"max_attempts\":1,\"command\":\"exec sleep 300\"}");
	wait_state(id, "running", 60000);
	node_down();
	j = wait_job(id, 60);
	node_up();
	assert_string_equal(f_str(j, "state"), "failed");
	assert_int_equal(f_int(j, "attempts"), 1);
	assert_non_null(strstr(f_str(j, "message"), "slurm requeued"));
	assert_non_null(strstr(f_str(j, "message"), "no attempts remain"));
	json_decref(j);
	for (int t = 0; t < 100 && squeue_count(0); t++)
		sleep_ms(200);
	assert_int_equal(squeue_count(0), 0);
}

/* scancel behind Atrium's back: the job fails, and its message says so. */
static void test_scancel_outside(void **state)
{
	long long id;
	json_t *j;
	(void)state;

	id = submit("{\"cluster\":\"lab\",\"max_attempts\":3,\"command\":\"exec sleep 300\"}");
	wait_state(id, "running", 60000);
	assert_int_equal(h_sh("squeue -h -o '%%i %%j' | awk '$2 ~ /^atrium-%lld-/ {print $1}' | xargs -r scancel", id),
			 0);
	j = wait_job(id, 60);
	assert_string_equal(f_str(j, "state"), "failed");
	assert_non_null(strstr(f_str(j, "message"), "cancelled in Slurm outside Atrium"));
	assert_int_equal(f_int(j, "attempts"), 1); /* not requeued: someone meant it */
	json_decref(j);
}

/* The output file is read in the thread pool: logs?follow=1 streams it as it grows and ends
 * with the job; a tail longer than one read (256 KiB) arrives whole. */
static void test_logs_follow(void **state)
{
	long long id;
	struct h_resp r;
	char *l;
	json_t *j;
	(void)state;

	id = submit("{\"cluster\":\"lab\",\"command\":\"echo tick 1; sleep 3; echo tick 2; seq 1 100000\"}");
	wait_state(id, "running", 60000);
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?follow=1", id), viewer, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "tick 1\n"));
	assert_non_null(strstr(r.body, "tick 2\n"));
	assert_non_null(strstr(r.body, "\n100000\n"));
	h_resp_free(&r);
	j = wait_job(id, 60);
	assert_string_equal(f_str(j, "state"), "succeeded");
	json_decref(j);
	l = logs(id);
	assert_int_equal(strlen(l), 14 + 588895);
	free(l);
}

static void put_file(const char *path, const char *data)
{
	struct h_resp r;

	h_req(&S, "PUT", h_fmt("/api/v1/projects/hpc/datasets/cifar/versions/1/files/%s", path), editor, data, NULL,
	      &r);
	assert_int_equal(r.status, 201);
	h_resp_free(&r);
}

/* Inputs are staged into the shared directory once, content-addressed (one read-only copy per
 * blob): a second job reading the same dataset version copies nothing. */
static void test_inputs_staged_once(void **state)
{
	long long id;
	json_t *j, *st;
	(void)state;

	json_decref(h_call(&S, "POST", "/api/v1/projects/hpc/datasets", editor, "{\"name\":\"cifar\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/hpc/datasets/cifar/versions", editor, "{}", 201));
	put_file("a.csv", "1,2\n");
	put_file("sub/b.txt", "weights!\n");
	json_decref(h_call(&S, "POST", "/api/v1/projects/hpc/datasets/cifar/versions/1/commit", editor, "{}", 200));
	for (int k = 0; k < 2; k++) {
		id = submit("{\"cluster\":\"lab\",\"inputs\":[{\"dataset\":\"cifar\",\"version\":1,\"as\":\"train\"}],"
			    "\"command\":\"cat $ATRIUM_INPUT_DIR/train/a.csv $ATRIUM_INPUT_DIR/train/sub/b.txt\"}");
		j = wait_job(id, 120);
		assert_string_equal(f_str(j, "state"), "succeeded");
		json_decref(j);
		expect_log(id, "1,2\nweights!\n");
		j = h_call(&S, "GET", "/api/v1/clusters/lab", viewer, NULL, 200);
		st = json_object_get(j, "staging");
		assert_int_equal(f_int(st, "blobs_copied"), 2);
		assert_int_equal(f_int(st, "blobs_reused"), 2 * k);
		json_decref(j);
	}
	assert_int_equal(h_sh("test $(ls %s/atrium/blobs | wc -l) -eq 2", shared), 0);
}

/* The cluster's "staging" figure key (sub: of its "blobs" object). */
static long long staged(const char *key, const char *sub)
{
	json_t *j = h_call(&S, "GET", "/api/v1/clusters/lab", viewer, NULL, 200);
	json_t *st = json_object_get(j, "staging");
	long long v = f_int(sub ? json_object_get(st, sub) : st, key);

	json_decref(j);
	return v;
}

static bool exists(const char *path)
{
	struct stat sb;
	return lstat(path, &sb) == 0;
}

/* The admin GC pass (artifacts, then the clusters' staging): its "staging" figures. */
static void admin_gc(long long *blobs, long long *dirs)
{
	json_t *j = h_call(&S, "POST", "/api/v1/admin/gc", S.admin_token, "{}", 200);
	json_t *st = json_object_get(j, "staging");

	assert_int_equal(f_int(st, "errors"), 0);
	*blobs = f_int(st, "blobs");
	*dirs = f_int(st, "job_dirs");
	json_decref(j);
}

/* A job on the cluster reading the dataset gcset (x.txt), then running cmd. */
static long long submit_gcset(const char *cmd)
{
	return submit(h_fmt("{\"cluster\":\"lab\",\"inputs\":[{\"dataset\":\"gcset\",\"version\":1,\"as\":\"d\"}],"
			    "\"command\":\"cat $ATRIUM_INPUT_DIR/d/x.txt; %s\"}",
			    cmd));
}

/* Staged blobs and job folders are collected: a blob read by a job in flight stays, one no
 * job reads goes once unused for keep_s (0 here), an ended job's folder goes; the counters
 * say so and survive a restart; a blob needed again after its collection is copied again. */
static void test_staging_gc(void **state)
{
	long long first, second, copied, reused, collected, bytes, dirs, b, d;
	char blob[300], dir1[300], dir2[300];
	json_t *j;
	(void)state;

	json_decref(h_call(&S, "POST", "/api/v1/projects/hpc/datasets", editor, "{\"name\":\"gcset\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/hpc/datasets/gcset/versions", editor, "{}", 201));
	j = f_put(&S, "/api/v1/projects/hpc/datasets/gcset/versions/1/files/x.txt", editor, "collect me\n", 11, NULL,
		  201);
	snprintf(blob, sizeof(blob), "%s/atrium/blobs/%s", shared, f_str(j, "sha256"));
	json_decref(j);
	json_decref(h_call(&S, "POST", "/api/v1/projects/hpc/datasets/gcset/versions/1/commit", editor, "{}", 200));
	copied = staged("blobs_copied", NULL);
	reused = staged("blobs_reused", NULL);
	collected = staged("blobs_collected", NULL);
	bytes = staged("bytes_collected", NULL);
	dirs = staged("job_dirs_collected", NULL);

	/* two jobs read the same input: copied once, reused once */
	first = submit_gcset("true");
	j = wait_job(first, 120);
	assert_string_equal(f_str(j, "state"), "succeeded");
	json_decref(j);
	second = submit_gcset("exec sleep 300");
	wait_state(second, "running", 60000);
	assert_int_equal(staged("blobs_copied", NULL), copied + 1);
	assert_int_equal(staged("blobs_reused", NULL), reused + 1);
	snprintf(dir1, sizeof(dir1), "%s/atrium/jobs/%lld-1", shared, first);
	snprintf(dir2, sizeof(dir2), "%s/atrium/jobs/%lld-1", shared, second);
	assert_true(exists(blob) && exists(dir1) && exists(dir2));

	/* keep_s 0: the blob is unused at once, but the running job reads it; the ended job's folder goes */
	h_expect_error(&S, "PATCH", "/api/v1/clusters/lab", S.admin_token, "{\"staging\":{\"keep_s\":-1}}", 400,
		       "staging.keep_s");
	h_expect_error(&S, "PATCH", "/api/v1/clusters/lab", S.admin_token, "{\"staging\":{\"keep\":1}}", 400,
		       "staging.keep");
	h_expect_error(&S, "PATCH", "/api/v1/clusters/lab", editor, "{\"staging\":{\"keep_s\":0}}", 403, NULL);
	j = h_call(&S, "PATCH", "/api/v1/clusters/lab", S.admin_token, "{\"staging\":{\"keep_s\":0}}", 200);
	assert_int_equal(f_int(json_object_get(j, "staging"), "keep_s"), 0);
	json_decref(j);
	admin_gc(&b, &d);
	assert_true(exists(blob) && exists(dir2));
	assert_false(exists(dir1));
	assert_true(d >= 1);

	/* the second job ends: its blob and folder go (its end is reported a moment after the cancel) */
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", second), editor, "{}", 202));
	json_decref(wait_job(second, 60));
	for (int t = 0; t < 150 && (exists(blob) || exists(dir2)); t++) {
		admin_gc(&b, &d);
		sleep_ms(200);
	}
	assert_false(exists(blob));
	assert_false(exists(dir2));
	assert_int_equal(staged("count", "blobs"), 0);
	assert_int_equal(staged("bytes", "blobs"), 0);
	assert_true(staged("blobs_collected", NULL) >= collected + 1);
	assert_true(staged("bytes_collected", NULL) >= bytes + 11);
	assert_true(staged("job_dirs_collected", NULL) >= dirs + 2);

	/* the counters survive a restart */
	copied = staged("blobs_copied", NULL);
	reused = staged("blobs_reused", NULL);
	collected = staged("blobs_collected", NULL);
	bytes = staged("bytes_collected", NULL);
	dirs = staged("job_dirs_collected", NULL);
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	h_server_restart(&S, NULL);
	assert_int_equal(staged("blobs_copied", NULL), copied);
	assert_int_equal(staged("blobs_reused", NULL), reused);
	assert_int_equal(staged("blobs_collected", NULL), collected);
	assert_int_equal(staged("bytes_collected", NULL), bytes);
	assert_int_equal(staged("job_dirs_collected", NULL), dirs);
	assert_int_equal(staged("keep_s", NULL), 0);

	/* read again after its collection: copied again */
	first = submit_gcset("true");
	j = wait_job(first, 120);
	assert_string_equal(f_str(j, "state"), "succeeded");
	json_decref(j);
	expect_log(first, "collect me");
	assert_int_equal(staged("blobs_copied", NULL), copied + 1);
	assert_int_equal(staged("blobs_reused", NULL), reused);
	assert_true(exists(blob));
}

static const char *cluster_label(json_t *j)
{
	const char *v = json_string_value(json_object_get(json_object_get(j, "labels"), "atrium.cluster"));
	return v ? v : "";
}

/* A job naming no cluster goes to its project's default cluster, else its team's. */
static void test_default_cluster(void **state)
{
	long long id;
	json_t *j;
	(void)state;

	/* bad input names its field; no permission: project owners / admins only */
	h_expect_error(&S, "PATCH", "/api/v1/projects/hpc", S.admin_token, "{\"default_cluster\":\"nope\"}", 400,
		       "default_cluster");
	h_expect_error(&S, "PATCH", "/api/v1/projects/hpc", S.admin_token, "{\"default_cluster\":7}", 400,
		       "default_cluster");
	h_expect_error(&S, "PATCH", "/api/v1/projects/hpc", editor, "{\"default_cluster\":\"lab\"}", 403, NULL);
	json_decref(h_call(&S, "POST", "/api/v1/teams", S.admin_token, "{\"name\":\"hpcteam\"}", 201));
	h_expect_error(&S, "PATCH", "/api/v1/teams/hpcteam", S.admin_token, "{\"default_cluster\":\"nope\"}", 400,
		       "default_cluster");
	h_expect_error(&S, "PATCH", "/api/v1/teams/hpcteam", editor, "{\"default_cluster\":\"lab\"}", 403, NULL);
	/* the team's default */
	j = h_call(&S, "PATCH", "/api/v1/teams/hpcteam", S.admin_token, "{\"default_cluster\":\"lab\"}", 200);
	assert_string_equal(f_str(j, "default_cluster"), "lab");
	json_decref(j);
	json_decref(h_call(&S, "PATCH", "/api/v1/projects/hpc", S.admin_token, "{\"team\":\"hpcteam\"}", 200));
	id = submit("{\"command\":\"echo default cluster as $(id -un)\"}");
	j = wait_job(id, 120);
	assert_string_equal(f_str(j, "state"), "succeeded");
	assert_string_equal(cluster_label(j), "lab");
	json_decref(j);
	expect_log(id, "default cluster as mlops");
	/* the project's default, the team's cleared */
	j = h_call(&S, "PATCH", "/api/v1/teams/hpcteam", S.admin_token, "{\"default_cluster\":null}", 200);
	assert_true(json_is_null(json_object_get(j, "default_cluster")));
	json_decref(j);
	j = h_call(&S, "PATCH", "/api/v1/projects/hpc", S.admin_token, "{\"default_cluster\":\"lab\"}", 200);
	assert_string_equal(f_str(j, "default_cluster"), "lab");
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/projects/hpc", viewer, NULL, 200);
	assert_string_equal(f_str(j, "default_cluster"), "lab");
	json_decref(j);
	id = submit("{\"command\":\"echo project default\"}");
	j = wait_job(id, 120);
	assert_string_equal(f_str(j, "state"), "succeeded");
	assert_string_equal(cluster_label(j), "lab");
	json_decref(j);
	expect_log(id, "project default");
	/* cleared: jobs go to Atrium's workers again */
	j = h_call(&S, "PATCH", "/api/v1/projects/hpc", S.admin_token, "{\"default_cluster\":null,\"team\":null}", 200);
	assert_true(json_is_null(json_object_get(j, "default_cluster")));
	json_decref(j);
}

static int setup(void **state)
{
	(void)state;
	if (h_sh("bash " UP " status >/dev/null 2>&1") != 0) {
		if (h_sh("SLURM_UP_FAKE_GPUS=2 bash " UP " up >/tmp/atrium-slurm-up.log 2>&1") != 0)
			return 1; /* (main prints SKIP) */
		started_slurm = true;
	}
	snprintf(shared, sizeof(shared), "/tmp/atrium-slurm-%d", (int)getpid());
	mkdir(shared, 0755);
	h_server_start(&S, (const char *const[]){ "--heartbeat-timeout", "6", NULL });
	snprintf(editor, sizeof(editor), "%s", h_user(&S, "ed", false));
	snprintf(viewer, sizeof(viewer), "%s", h_user(&S, "vi", false));
	json_decref(h_call(&S, "POST", "/api/v1/projects", S.admin_token, "{\"name\":\"hpc\"}", 201));
	json_decref(h_call(&S, "PUT", "/api/v1/projects/hpc/members/ed", S.admin_token, "{\"role\":\"editor\"}", 200));
	json_decref(h_call(&S, "PUT", "/api/v1/projects/hpc/members/vi", S.admin_token, "{\"role\":\"viewer\"}", 200));
	json_decref(h_call(&S, "POST", "/api/v1/clusters", S.admin_token, cluster_body("lab", ""), 201));
	return 0;
}

static int teardown(void **state)
{
	int rc = h_server_stop(&S, SIGTERM); /* (exit 0: no leak, no sanitizer report) */
	(void)state;

	h_server_cleanup(&S);
	h_sh("rm -rf %s", shared);
	/* (before any assertion: the daemons hold the caller's flock on the Slurm lock) */
	if (started_slurm && !getenv("ATRIUM_SLURM_KEEP"))
		h_sh("bash " UP " down >/dev/null 2>&1");
	assert_int_equal(rc, 0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_routes),
		cmocka_unit_test(test_success_with_outputs),
		cmocka_unit_test(test_failure_exit_code),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_gpu_request),
		cmocka_unit_test(test_slurmrestd_down_mid_run),
		cmocka_unit_test(test_server_restart_mid_run),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_default_cluster),
		cmocka_unit_test(test_node_down_requeues),
		cmocka_unit_test(test_node_down_no_attempts_left),
		cmocka_unit_test(test_scancel_outside),
		cmocka_unit_test(test_logs_follow),
		cmocka_unit_test(test_inputs_staged_once),
		cmocka_unit_test(test_staging_gc),
	};
	if (geteuid() != 0 || access(UP, R_OK) != 0) {
		printf("SKIP: test_slurm needs root (it starts a Slurm cluster on loopback)\n");
		return 0;
	}
	if (setup(NULL) != 0) {
		printf("SKIP: no Slurm (the packages could not be installed: see /tmp/atrium-slurm-up.log)\n");
		return 0;
	}
	return h_finish(cmocka_run_group_tests(tests, NULL, teardown));
}

/*
 * test_deployments_store.c: the deployments store on a real database with the real
 * migrations: rows (insert, load, save, unique names, delete with everything that hangs off
 * them), rollouts, history paging, replica generations joined with their jobs, captured
 * predictions (cut bodies, encodings, retention by rows and by age) and invoke keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/auth.h"
#include "atrium/err.h"
#include "atrium/store.h"
#include "atrium/store_datasets.h"
#include "atrium/store_deployments.h"
#include "atrium/store_identity.h"
#include "atrium/store_jobs.h"
#include "atrium/store_lineage.h"
#include "atrium/store_models.h"
#include "atrium/store_projects.h"
#include "atrium/util.h"

struct fx {
	char dir[64];
	struct atr_store *s;
	int64_t user, project, model, v1;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct atr_model_version_spec spec = { .commit = true, .actor = "ann" };
	struct atr_model_version v;

	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-dep-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(atr_store_open(f->dir, 0, &f->s), 0);
	assert_int_equal(atr_store_user_create(f->s, "ann", "Ann", false, NULL, &f->user), 0);
	assert_int_equal(atr_store_project_create(f->s, "lab", "", 0, false, NULL, f->user, &f->project), 0);
	assert_int_equal(atr_store_model_create(f->s, f->project, "lin", "", NULL, f->user, "ann", &f->model), 0);
	spec.model_id = f->model;
	assert_int_equal(atr_store_model_version_create(f->s, &spec, &v), 0);
	f->v1 = v.id;
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

/* A row as the controller makes one. */
static void new_row(struct fx *f, const char *name, struct atr_deployment_row *r)
{
	memset(r, 0, sizeof(*r));
	r->project_id = f->project;
	r->model_id = f->model;
	r->created_by = f->user;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->replicas = 2;
	r->command = json_pack("[s]", "serve");
	r->env = json_pack("{s:s}", "A", "b");
	r->resources = json_pack("{s:i}", "gpus", 1);
	r->labels = json_object();
	r->traffic = json_pack("[{s:I, s:i, s:i, s:i}]", "version_id", (json_int_t)f->v1, "version", 1, "generation", 1,
			       "weight", 100);
	snprintf(r->health_path, sizeof(r->health_path), "/v2/health/ready");
	snprintf(r->predict_path, sizeof(r->predict_path), "/predict");
	r->timeout_ms = 60000;
	r->rollout_timeout_s = 600;
	r->capture_max_bytes = 100;
	r->capture_max_rows = 10;
	r->capture_max_age_s = 3600;
	r->version_id = f->v1;
	r->version = 1;
	snprintf(r->state, sizeof(r->state), "deploying");
}

static void test_rows(void **state)
{
	struct fx *f = *state;
	struct atr_deployment_row r, again, loaded;
	int64_t *ids;
	size_t n;

	new_row(f, "web", &r);
	assert_int_equal(atr_store_deployment_insert(f->s, &r), 0);
	assert_true(r.id > 0);
	new_row(f, "web", &again);
	assert_int_equal(atr_store_deployment_insert(f->s, &again), ATR_ECONFLICT);
	atr_deployment_row_release(&again);

	assert_int_equal(atr_store_deployment_load(f->s, r.id, &loaded), 0);
	assert_string_equal(loaded.name, "web");
	assert_int_equal(loaded.replicas, 2);
	assert_true(json_equal(loaded.env, r.env));
	assert_true(json_equal(loaded.traffic, r.traffic));
	assert_string_equal(loaded.follow_alias, "");
	assert_int_equal(loaded.previous_version_id, 0);
	atr_deployment_row_release(&loaded);

	snprintf(r.state, sizeof(r.state), "ready");
	snprintf(r.follow_alias, sizeof(r.follow_alias), "production");
	r.sample_rate = 0.25;
	r.generation = 7;
	assert_int_equal(atr_store_deployment_save(f->s, &r), 0);
	assert_int_equal(atr_store_deployment_load(f->s, r.id, &loaded), 0);
	assert_string_equal(loaded.state, "ready");
	assert_string_equal(loaded.follow_alias, "production");
	assert_true(loaded.sample_rate == 0.25);
	assert_int_equal(loaded.generation, 7);
	atr_deployment_row_release(&loaded);

	assert_int_equal(atr_store_deployment_ids(f->s, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], r.id);
	free(ids);
	assert_int_equal(atr_store_deployment_load(f->s, r.id + 100, &loaded), ATR_ENOTFOUND);
	atr_deployment_row_release(&r);
}

static void test_rollouts_and_history(void **state)
{
	struct fx *f = *state;
	struct atr_deployment_row r;
	struct atr_rollout ro = { 0 }, back;
	struct atr_page p = { .limit = 2 };
	json_t *arr = json_array(), *j;
	bool more;
	int err;

	new_row(f, "hist", &r);
	assert_int_equal(atr_store_deployment_insert(f->s, &r), 0);
	ro.deployment_id = r.id;
	snprintf(ro.kind, sizeof(ro.kind), "rolling");
	snprintf(ro.trigger, sizeof(ro.trigger), "alias");
	snprintf(ro.state, sizeof(ro.state), "in_progress");
	ro.to_version_id = f->v1;
	ro.to_version = 1;
	ro.generation = 2;
	ro.started_at = atr_now_ms();
	ro.deadline_at = ro.started_at + 1000;
	assert_int_equal(atr_store_rollout_insert(f->s, &ro), 0);
	snprintf(ro.state, sizeof(ro.state), "failed");
	snprintf(ro.reason, sizeof(ro.reason), "version 1: replica 0 crashed 3 times");
	ro.ended_at = atr_now_ms();
	assert_int_equal(atr_store_rollout_save(f->s, &ro), 0);
	assert_int_equal(atr_store_rollout_load(f->s, ro.id, &back), 0);
	assert_string_equal(back.state, "failed");
	assert_string_equal(back.trigger, "alias");
	assert_int_equal(back.generation, 2);
	assert_string_equal(back.actor, "");
	j = atr_store_rollout_json(f->s, ro.id, &err);
	assert_string_equal(json_string_value(json_object_get(j, "reason")), "version 1: replica 0 crashed 3 times");
	assert_true(json_is_null(json_object_get(j, "actor")));
	json_decref(j);

	for (int i = 0; i < 5; i++) {
		struct atr_deployment_event e = { .deployment_id = r.id,
						  .kind = i == 4 ? "rollout_failed" : "scaled",
						  .to_version = i,
						  .message = "m" };
		assert_int_equal(atr_store_deployment_event_add(f->s, &e), 0);
	}
	assert_int_equal(atr_store_deployment_history(f->s, r.id, &p, arr, &more), 0);
	assert_int_equal(json_array_size(arr), 2);
	assert_true(more);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "kind")), "rollout_failed");
	p.after_id = json_integer_value(json_object_get(json_array_get(arr, 1), "id"));
	json_array_clear(arr);
	p.limit = 10;
	assert_int_equal(atr_store_deployment_history(f->s, r.id, &p, arr, &more), 0);
	assert_int_equal(json_array_size(arr), 3);
	assert_false(more);
	json_decref(arr);
	atr_deployment_row_release(&r);
}

static int count_rows(const struct atr_replica_row *row, void *cls)
{
	int *n = cls;
	assert_int_equal(row->generation, 3);
	assert_int_equal(row->version, 1);
	assert_int_equal(row->replica, 1);
	assert_string_equal(row->state, "queued");
	(*n)++;
	return 0;
}

static void test_replicas(void **state)
{
	struct fx *f = *state;
	struct atr_deployment_row r;
	struct atr_job_spec spec = { 0 };
	struct atr_job_change c = { .from = ATR_JOB_QUEUED, .to = ATR_JOB_CANCELLED, .attempts = -1, .message = "x" };
	struct atr_replica_job info;
	json_t *cmd = json_pack("[s]", "serve");
	int64_t job;
	int n = 0;

	new_row(f, "reps", &r);
	assert_int_equal(atr_store_deployment_insert(f->s, &r), 0);
	spec.project_id = f->project;
	spec.created_by = f->user;
	spec.kind = "service";
	spec.command = cmd;
	spec.max_attempts = 1000;
	spec.model_version_id = f->v1;
	spec.deployment_id = r.id;
	spec.replica = 1;
	assert_int_equal(atr_store_job_create(f->s, &spec, &job), 0);
	assert_int_equal(atr_store_deployment_replica_add(f->s, job, r.id, 3), 0);
	assert_int_equal(atr_store_deployment_replicas_active(f->s, r.id, count_rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(atr_store_deployment_replica_job(f->s, job, &info), 0);
	assert_string_equal(info.state, "queued");
	assert_int_equal(info.worker_id, 0);
	/* the dispatch body tells the worker how to check it is ready */
	{
		int err;
		json_t *d = atr_store_job_dispatch_json(f->s, job, &err);
		assert_string_equal(json_string_value(json_object_get(json_object_get(d, "service"), "health_path")),
				    "/v2/health/ready");
		assert_string_equal(json_string_value(json_object_get(d, "kind")), "service");
		json_decref(d);
	}
	assert_int_equal(atr_store_job_transition(f->s, job, &c), 0);
	n = 0;
	assert_int_equal(atr_store_deployment_replicas_active(f->s, r.id, count_rows, &n), 0);
	assert_int_equal(n, 0);
	json_decref(cmd);
	atr_deployment_row_release(&r);
}

static void capture(struct fx *f, int64_t dep, int i, const char *req, size_t req_len, size_t req_size,
		    int64_t created_at)
{
	struct atr_prediction p = { .deployment_id = dep,
				    .version_id = f->v1,
				    .version = 1,
				    .created_at = created_at,
				    .latency_us = 1500,
				    .status = 200,
				    .content_type = (char *)"application/json",
				    .request = (char *)req,
				    .request_len = req_len,
				    .request_size = req_size,
				    .response = (char *)"{\"y\":1}",
				    .response_len = 7,
				    .response_size = 7 };
	(void)i;
	assert_int_equal(atr_store_predictions_insert(f->s, &p, 1), 0);
}

static void test_predictions(void **state)
{
	struct fx *f = *state;
	struct atr_deployment_row r;
	struct atr_page p = { .limit = 50 };
	json_t *arr = json_array(), *it;
	int64_t now = atr_now_ms(), deleted;
	bool more;

	new_row(f, "cap", &r);
	assert_int_equal(atr_store_deployment_insert(f->s, &r), 0);
	for (int i = 0; i < 6; i++)
		capture(f, r.id, i, "{\"x\":[1,2]}", 11, 11, now - (6 - i) * 1000);
	capture(f, r.id, 6, "{\"x\":[1,", 8, 30, now);	/* cut: a string */
	capture(f, r.id, 7, "\xff\xfe\x01", 3, 3, now); /* not UTF-8: base64url */
	assert_int_equal(atr_store_predictions_list(f->s, r.id, 0, &p, arr, &more), 0);
	assert_int_equal(json_array_size(arr), 8);
	it = json_array_get(arr, 0); /* newest first */
	assert_string_equal(json_string_value(json_object_get(it, "request_encoding")), "base64url");
	it = json_array_get(arr, 1);
	assert_true(json_is_true(json_object_get(it, "request_truncated")));
	assert_string_equal(json_string_value(json_object_get(it, "request")), "{\"x\":[1,");
	assert_int_equal(json_integer_value(json_object_get(it, "request_size")), 30);
	it = json_array_get(arr, 2);
	assert_true(json_is_object(json_object_get(it, "request")));
	assert_true(json_is_object(json_object_get(it, "response")));
	assert_true(json_real_value(json_object_get(it, "latency_ms")) == 1.5);
	json_array_clear(arr);
	assert_int_equal(atr_store_predictions_list(f->s, r.id, 2, &p, arr, &more), 0);
	assert_int_equal(json_array_size(arr), 0);

	/* retention: the newest 5, then nothing older than 2.5 s */
	assert_int_equal(atr_store_predictions_prune(f->s, r.id, 5, 0, &deleted), 0);
	assert_int_equal(deleted, 3);
	assert_int_equal(atr_store_predictions_prune(f->s, r.id, 5, now - 2500, &deleted), 0);
	assert_int_equal(deleted, 1);
	json_array_clear(arr);
	assert_int_equal(atr_store_predictions_list(f->s, r.id, 1, &p, arr, &more), 0);
	assert_int_equal(json_array_size(arr), 4);
	json_decref(arr);

	/* deleting the deployment removes them */
	assert_int_equal(atr_store_deployment_delete(f->s, r.id), 0);
	arr = json_array();
	assert_int_equal(atr_store_predictions_list(f->s, r.id, 0, &p, arr, &more), 0);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	assert_int_equal(atr_store_deployment_delete(f->s, r.id), ATR_ENOTFOUND);
	atr_deployment_row_release(&r);
}

static void test_invoke_keys(void **state)
{
	struct fx *f = *state;
	struct atr_deployment_row a, b;
	struct atr_token_spec spec = { .kind = "invoke", .name = "shop" };
	struct atr_principal who;
	struct atr_page p = { .limit = 10 };
	char token[ATR_TOKEN_MAX], hash[65];
	json_t *arr = json_array();
	int64_t key;
	bool more;

	new_row(f, "ka", &a);
	new_row(f, "kb", &b);
	assert_int_equal(atr_store_deployment_insert(f->s, &a), 0);
	assert_int_equal(atr_store_deployment_insert(f->s, &b), 0);
	spec.user_id = f->user;
	spec.project_id = f->project;
	spec.scope_id = a.id;
	assert_int_equal(atr_store_token_create(f->s, &spec, token, &key), 0);
	atr_token_hash(token, hash);
	assert_int_equal(atr_store_token_lookup(f->s, hash, &who), 0);
	assert_int_equal(who.kind, ATR_P_INVOKE);
	assert_int_equal(who.scope_id, a.id);
	assert_false(who.admin);
	assert_int_equal(atr_store_invoke_key_list(f->s, a.id, &p, arr, &more), 0);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "created_by")), "ann");
	json_array_clear(arr);
	assert_int_equal(atr_store_invoke_key_list(f->s, b.id, &p, arr, &more), 0);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* one deployment cannot revoke another's key */
	assert_int_equal(atr_store_invoke_key_revoke(f->s, b.id, key), ATR_ENOTFOUND);
	assert_int_equal(atr_store_token_lookup(f->s, hash, &who), 0);
	/* deleting the deployment revokes its keys */
	assert_int_equal(atr_store_deployment_delete(f->s, a.id), 0);
	assert_int_equal(atr_store_token_lookup(f->s, hash, &who), ATR_EUNAUTH);
	atr_deployment_row_release(&a);
	atr_deployment_row_release(&b);
}

static void test_dsv_lineage_by_hand(void **state)
{
	struct fx *f = *state;
	struct atr_dataset_version v;
	int64_t ds;
	int err;
	json_t *l;

	assert_int_equal(atr_store_dataset_create(f->s, f->project, "photos", "", NULL, f->user, &ds), 0);
	assert_int_equal(atr_store_dsv_create(f->s, ds, "", 0, 0, f->user, &v), 0);
	l = atr_store_dsv_lineage(f->s, v.id, &err);
	assert_non_null(l);
	assert_string_equal(json_string_value(json_object_get(json_object_get(l, "dataset_version"), "dataset")),
			    "photos");
	assert_true(json_is_null(json_object_get(l, "job")));
	assert_true(json_is_null(json_object_get(l, "model_version")));
	assert_int_equal(json_array_size(json_object_get(l, "inputs")), 0);
	json_decref(l);
	assert_null(atr_store_dsv_lineage(f->s, 424242, &err));
	assert_int_equal(err, ATR_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollouts_and_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replicas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_predictions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invoke_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dsv_lineage_by_hand, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

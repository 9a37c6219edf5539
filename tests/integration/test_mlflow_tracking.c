/*
 * test_mlflow_tracking.c: MLflow's tracking API (experiments, runs, metrics, search) against
 * the real daemon, with the JSON MLflow 2.9.2's client sends (message_to_json: snake_case,
 * int64 fields as numbers, unset fields left out, doubles NaN/Infinity as strings; GET
 * requests carry their fields in the query). Each endpoint's happy path, bad input (400
 * INVALID_PARAMETER_VALUE naming the field, never a 500), no permission (RESOURCE_DOES_NOT_EXIST
 * for what the caller cannot see, PERMISSION_DENIED for a viewer writing), runs made through
 * MLflow read through Atrium's own API and the reverse, search (MLflow's grammar on Atrium's
 * run search, several experiments, deleted runs), and Basic credentials.
 */
#include "fixtures.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ML "/api/2.0/mlflow"

static struct h_server S;
/* alice owns "vision" (bob views it, carl edits it); eve is an outsider; dora is in one team */
static char alice[128], bob[128], carl[128], eve[128], dora[128];

static int setup(void **state)
{
	(void)state;
	h_server_start(&S, NULL);
	snprintf(alice, sizeof(alice), "%s", h_user(&S, "alice", false));
	snprintf(bob, sizeof(bob), "%s", h_user(&S, "bob", false));
	snprintf(carl, sizeof(carl), "%s", h_user(&S, "carl", false));
	snprintf(eve, sizeof(eve), "%s", h_user(&S, "eve", false));
	snprintf(dora, sizeof(dora), "%s", h_user(&S, "dora", false));
	f_project(&S, alice, "vision", "private");
	f_member(&S, "vision", "bob", "viewer");
	f_member(&S, "vision", "carl", "editor");
	json_decref(h_call(&S, "POST", "/api/v1/teams", S.admin_token, "{\"name\":\"ml\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/teams", S.admin_token, "{\"name\":\"ops\"}", 201));
	json_decref(h_call(&S, "PUT", "/api/v1/teams/ml/members/alice", S.admin_token, "{}", 200));
	json_decref(h_call(&S, "PUT", "/api/v1/teams/ops/members/alice", S.admin_token, "{}", 200));
	json_decref(h_call(&S, "PUT", "/api/v1/teams/ops/members/dora", S.admin_token, "{}", 200));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_server_cleanup(&S);
	return 0;
}

/* ---- helpers ---- */

/* An MLflow call answered with expect; returns its JSON (new reference). */
static json_t *ml(const char *method, const char *path, const char *token, const char *body, long expect)
{
	return h_call(&S, method, h_fmt(ML "%s", path), token, body, expect);
}

/* An MLflow error: the status, MLflow's error_code and a piece of the message (NULL: any). */
static void ml_err(const char *method, const char *path, const char *token, const char *body, long status,
		   const char *code, const char *needle)
{
	struct h_resp r;
	const char *got, *msg;

	h_req(&S, method, h_fmt(ML "%s", path), token, body, NULL, &r);
	got = json_string_value(json_object_get(r.json, "error_code"));
	msg = json_string_value(json_object_get(r.json, "message"));
	if (r.status != status || !got || strcmp(got, code) != 0 || !msg || (needle && !strstr(msg, needle))) {
		fprintf(stderr, "%s %s: want %ld %s '%s', got %ld %s\n", method, path, status, code,
			needle ? needle : "", r.status, r.body);
		h_resp_free(&r);
		fail();
	}
	h_resp_free(&r);
}

static void ok_empty(const char *path, const char *token, const char *body)
{
	json_t *j = ml("POST", path, token, body, 200);
	assert_true(json_is_object(j));
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
}

/* What the client sends for mlflow.create_experiment(name). */
static const char *new_experiment(const char *token, const char *name)
{
	static char id[8][32];
	static int k;
	char *out = id[k++ % 8];
	json_t *j = ml("POST", "/experiments/create", token, h_fmt("{\n  \"name\": \"%s\"\n}", name), 200);

	snprintf(out, 32, "%s", f_str(j, "experiment_id"));
	assert_true(*out);
	json_decref(j);
	return out;
}

/* What the client sends for a fluent start_run(run_name=name) (start_time, tags). */
static const char *new_run(const char *token, const char *exp, const char *name)
{
	static char id[16][40];
	static int k;
	char *out = id[k++ % 16];
	json_t *j = ml("POST", "/runs/create", token,
		       h_fmt("{\"experiment_id\": \"%s\", \"user_id\": \"root\", \"start_time\": 1700000000000, "
			     "\"tags\": [{\"key\": \"mlflow.user\", \"value\": \"root\"}, {\"key\": "
			     "\"mlflow.source.name\", \"value\": \"train.py\"}, {\"key\": \"mlflow.source.type\", "
			     "\"value\": \"LOCAL\"}, {\"key\": \"mlflow.runName\", \"value\": \"%s\"}], \"run_name\": "
			     "\"%s\"}",
			     exp, name, name),
		       200);

	snprintf(out, 40, "%s",
		 json_string_value(json_object_get(json_object_get(json_object_get(j, "run"), "info"), "run_id")));
	assert_int_equal(strlen(out), 32);
	json_decref(j);
	return out;
}

static json_t *get_run(const char *token, const char *run)
{
	json_t *j = ml("GET", h_fmt("/runs/get?run_uuid=%s&run_id=%s", run, run), token, NULL, 200);
	json_t *r = json_incref(json_object_get(j, "run"));
	json_decref(j);
	return r;
}

/* The value of key in a [{key, value}] list (NULL: absent). */
static json_t *kv(json_t *list, const char *key)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		if (strcmp(f_str(e, "key"), key) == 0)
			return json_object_get(e, "value");
	}
	return NULL;
}

static json_t *run_data(json_t *run, const char *what)
{
	return json_object_get(json_object_get(run, "data"), what);
}

static const char *run_info(json_t *run, const char *what)
{
	return json_string_value(json_object_get(json_object_get(run, "info"), what));
}

static void log_metric(const char *token, const char *run, const char *key, const char *value, long long ts, int step)
{
	ok_empty(
		"/runs/log-metric", token,
		h_fmt("{\"run_uuid\": \"%s\", \"run_id\": \"%s\", \"key\": \"%s\", \"value\": %s, \"timestamp\": %lld, "
		      "\"step\": %d}",
		      run, run, key, value, ts, step));
}

/* ---- experiments ---- */

static void test_experiments_create_get(void **state)
{
	const char *id, *mine;
	json_t *j, *e, *p;
	(void)state;

	id = new_experiment(alice, "Smoke Test");
	j = ml("GET", h_fmt("/experiments/get?experiment_id=%s", id), alice, NULL, 200);
	e = json_object_get(j, "experiment");
	assert_string_equal(f_str(e, "experiment_id"), id);
	assert_string_equal(f_str(e, "name"), "Smoke Test");
	assert_string_equal(f_str(e, "artifact_location"), h_fmt("mlflow-artifacts:/%s", id));
	assert_string_equal(f_str(e, "lifecycle_stage"), "active");
	assert_true(json_integer_value(json_object_get(e, "creation_time")) > 0);
	assert_true(json_is_array(json_object_get(e, "tags")));
	json_decref(j);
	/* it is a project: named by a slug of the name, alice its owner; alice is in two teams */
	p = h_call(&S, "GET", "/api/v1/projects/smoke-test", alice, NULL, 200);
	assert_string_equal(f_str(p, "role"), "owner");
	assert_true(json_is_null(json_object_get(p, "team")));
	json_decref(p);
	/* a name alice can see is taken; eve cannot see it: she gets a project of her own */
	ml_err("POST", "/experiments/create", alice, "{\"name\": \"Smoke Test\"}", 409, "RESOURCE_ALREADY_EXISTS",
	       "already exists");
	mine = new_experiment(eve, "Smoke Test");
	assert_string_not_equal(mine, id);
	p = h_call(&S, "GET", "/api/v1/projects/smoke-test-2", eve, NULL, 200);
	json_decref(p);
	j = ml("GET", "/experiments/get-by-name?experiment_name=Smoke+Test", eve, NULL, 200);
	assert_string_equal(f_str(json_object_get(j, "experiment"), "experiment_id"), mine);
	json_decref(j);
	j = ml("GET", "/experiments/get-by-name?experiment_name=Smoke%20Test", alice, NULL, 200);
	assert_string_equal(f_str(json_object_get(j, "experiment"), "experiment_id"), id);
	json_decref(j);
	ml_err("GET", "/experiments/get-by-name?experiment_name=nope", alice, NULL, 404, "RESOURCE_DOES_NOT_EXIST",
	       "nope");
	ml_err("GET", h_fmt("/experiments/get?experiment_id=%s", id), eve, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_err("GET", "/experiments/get?experiment_id=99999", alice, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	/* a native project is an experiment named by its project name */
	j = ml("GET", "/experiments/get-by-name?experiment_name=vision", bob, NULL, 200);
	assert_string_equal(f_str(json_object_get(j, "experiment"), "name"), "vision");
	json_decref(j);
	/* "0" is the caller's own Default experiment, made on first use */
	j = ml("GET", "/experiments/get?experiment_id=0", alice, NULL, 200);
	assert_string_equal(f_str(json_object_get(j, "experiment"), "name"), "Default");
	json_decref(j);
	ml_err("POST", "/experiments/create", alice, "{\"name\": \"Default\"}", 409, "RESOURCE_ALREADY_EXISTS", NULL);
}

static void test_experiments_teams(void **state)
{
	json_t *p, *j;
	(void)state;

	new_experiment(dora, "Dora One"); /* her only team */
	p = h_call(&S, "GET", "/api/v1/projects/dora-one", dora, NULL, 200);
	assert_string_equal(f_str(p, "team"), "ops");
	json_decref(p);
	j = ml("POST", "/experiments/create", alice,
	       "{\"name\": \"In ML\", \"tags\": [{\"key\": \"atrium.team\", \"value\": \"ml\"}]}", 200);
	json_decref(j);
	p = h_call(&S, "GET", "/api/v1/projects/in-ml", alice, NULL, 200);
	assert_string_equal(f_str(p, "team"), "ml");
	json_decref(p);
	j = ml("GET", "/experiments/get-by-name?experiment_name=In+ML", alice, NULL, 200);
	assert_string_equal(
		json_string_value(kv(json_object_get(json_object_get(j, "experiment"), "tags"), "atrium.team")), "ml");
	json_decref(j);
	ml_err("POST", "/experiments/create", dora,
	       "{\"name\": \"Sneak\", \"tags\": [{\"key\": \"atrium.team\", \"value\": \"ml\"}]}", 403,
	       "PERMISSION_DENIED", "not a member of team 'ml'");
	ml_err("POST", "/experiments/create", dora,
	       "{\"name\": \"Sneak\", \"tags\": [{\"key\": \"atrium.team\", \"value\": \"nope\"}]}", 400,
	       "INVALID_PARAMETER_VALUE", "team 'nope'");
	/* an admin may place it in any team */
	json_decref(ml("POST", "/experiments/create", S.admin_token,
		       "{\"name\": \"Admin ML\", \"tags\": [{\"key\": \"atrium.team\", \"value\": \"ml\"}]}", 200));
}

static void test_experiments_update_delete(void **state)
{
	const char *id = new_experiment(alice, "To Rename"), *other = new_experiment(alice, "Other One");
	json_t *j, *e;
	(void)state;

	ok_empty("/experiments/update", alice, h_fmt("{\"experiment_id\": \"%s\", \"new_name\": \"Renamed\"}", id));
	j = ml("GET", h_fmt("/experiments/get?experiment_id=%s", id), alice, NULL, 200);
	assert_string_equal(f_str(json_object_get(j, "experiment"), "name"), "Renamed");
	json_decref(j);
	json_decref(h_call(&S, "GET", "/api/v1/projects/to-rename", alice, NULL, 200)); /* the slug stays */
	ml_err("POST", "/experiments/update", alice,
	       h_fmt("{\"experiment_id\": \"%s\", \"new_name\": \"Renamed\"}", other), 409, "RESOURCE_ALREADY_EXISTS",
	       NULL);
	ml_err("POST", "/experiments/update", alice, h_fmt("{\"experiment_id\": \"%s\"}", id), 400,
	       "INVALID_PARAMETER_VALUE", "new_name");
	ok_empty("/experiments/set-experiment-tag", alice,
		 h_fmt("{\"experiment_id\": \"%s\", \"key\": \"owner\", \"value\": \"cv team\"}", id));
	j = ml("GET", h_fmt("/experiments/get?experiment_id=%s", id), alice, NULL, 200);
	e = json_object_get(j, "experiment");
	assert_string_equal(json_string_value(kv(json_object_get(e, "tags"), "owner")), "cv team");
	json_decref(j);
	/* delete archives; the experiment reads as deleted; runs cannot start in it; restore */
	ok_empty("/experiments/delete", alice, h_fmt("{\"experiment_id\": \"%s\"}", id));
	j = ml("GET", h_fmt("/experiments/get?experiment_id=%s", id), alice, NULL, 200);
	assert_string_equal(f_str(json_object_get(j, "experiment"), "lifecycle_stage"), "deleted");
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/projects/to-rename", alice, NULL, 200);
	assert_false(json_is_null(json_object_get(j, "archived_at")));
	json_decref(j);
	ml_err("POST", "/runs/create", alice, h_fmt("{\"experiment_id\": \"%s\", \"start_time\": 1}", id), 409,
	       "RESOURCE_ALREADY_EXISTS", "archived");
	ok_empty("/experiments/restore", alice, h_fmt("{\"experiment_id\": \"%s\"}", id));
	j = ml("GET", h_fmt("/experiments/get?experiment_id=%s", id), alice, NULL, 200);
	assert_string_equal(f_str(json_object_get(j, "experiment"), "lifecycle_stage"), "active");
	json_decref(j);
	ml_err("POST", "/experiments/delete", alice, "{\"experiment_id\": \"0\"}", 400, "INVALID_PARAMETER_VALUE",
	       "default experiment");
}

static void test_experiments_permissions(void **state)
{
	json_t *vision = ml("GET", "/experiments/get-by-name?experiment_name=vision", alice, NULL, 200);
	char id[32];
	(void)state;

	snprintf(id, sizeof(id), "%s", f_str(json_object_get(vision, "experiment"), "experiment_id"));
	json_decref(vision);
	/* a viewer reads, and may not write; an editor tags, not renames; outsiders see nothing */
	json_decref(ml("GET", h_fmt("/experiments/get?experiment_id=%s", id), bob, NULL, 200));
	ml_err("POST", "/experiments/set-experiment-tag", bob,
	       h_fmt("{\"experiment_id\": \"%s\", \"key\": \"k\", \"value\": \"v\"}", id), 403, "PERMISSION_DENIED",
	       "editor");
	ml_err("POST", "/experiments/update", carl, h_fmt("{\"experiment_id\": \"%s\", \"new_name\": \"x\"}", id), 403,
	       "PERMISSION_DENIED", "owner");
	ml_err("POST", "/experiments/delete", bob, h_fmt("{\"experiment_id\": \"%s\"}", id), 403, "PERMISSION_DENIED",
	       NULL);
	ok_empty("/experiments/set-experiment-tag", carl,
		 h_fmt("{\"experiment_id\": \"%s\", \"key\": \"k\", \"value\": \"v\"}", id));
	ml_err("POST", "/experiments/set-experiment-tag", eve,
	       h_fmt("{\"experiment_id\": \"%s\", \"key\": \"k\", \"value\": \"v\"}", id), 404,
	       "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_err("POST", "/experiments/restore", eve, h_fmt("{\"experiment_id\": \"%s\"}", id), 404,
	       "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_err("GET", "/experiments/get-by-name?experiment_name=vision", eve, NULL, 404, "RESOURCE_DOES_NOT_EXIST",
	       NULL);
	ml_err("POST", "/experiments/create", NULL, "{\"name\": \"x\"}", 401, "UNAUTHENTICATED", NULL);
}

static void test_experiments_bad_input(void **state)
{
	(void)state;
	ml_err("POST", "/experiments/create", alice, "{}", 400, "INVALID_PARAMETER_VALUE", "name");
	ml_err("POST", "/experiments/create", alice, "{\"name\": 7}", 400, "INVALID_PARAMETER_VALUE", "name");
	ml_err("POST", "/experiments/create", alice, "{\"name\": \"\"}", 400, "INVALID_PARAMETER_VALUE", "name");
	ml_err("POST", "/experiments/create", alice, "{\"name\": \"x\", \"color\": 1}", 400, "INVALID_PARAMETER_VALUE",
	       "color");
	ml_err("POST", "/experiments/create", alice, "{\"name\": \"x\", \"tags\": [{\"value\": \"v\"}]}", 400,
	       "INVALID_PARAMETER_VALUE", "tags[0].key");
	ml_err("POST", "/experiments/create", alice, "{\"name\": ", 400, "MALFORMED_REQUEST", NULL);
	ml_err("GET", "/experiments/get", alice, NULL, 400, "INVALID_PARAMETER_VALUE", "experiment_id");
	ml_err("GET", "/experiments/get?experiment_id=abc", alice, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_err("GET", "/experiments/get?experiment_id=1&x=2", alice, NULL, 400, "INVALID_PARAMETER_VALUE", "x");
	ml_err("POST", "/experiments/search", alice, "{\"filter\": \"name = 'a' or name = 'b'\"}", 400,
	       "INVALID_PARAMETER_VALUE", "filter");
	ml_err("POST", "/experiments/search", alice, "{\"filter\": \"metrics.acc > 1\"}", 400,
	       "INVALID_PARAMETER_VALUE", "filter");
	ml_err("POST", "/experiments/search", alice, "{\"order_by\": [\"color DESC\"]}", 400, "INVALID_PARAMETER_VALUE",
	       "order_by");
	ml_err("POST", "/experiments/search", alice, "{\"view_type\": \"SOME\"}", 400, "INVALID_PARAMETER_VALUE",
	       "view_type");
	ml_err("POST", "/experiments/search", alice, "{\"max_results\": 50001}", 400, "INVALID_PARAMETER_VALUE",
	       "max_results");
	ml_err("POST", "/experiments/search", alice, "{\"page_token\": \"!!\"}", 400, "INVALID_PARAMETER_VALUE",
	       "page_token");
}

/* Names of the experiments a search answers, in order, comma-separated. */
static const char *names_of(json_t *j)
{
	static char out[1024];
	size_t i;
	json_t *e;

	out[0] = 0;
	json_array_foreach(json_object_get(j, "experiments"), i, e)
	{
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "", f_str(e, "name"));
	}
	return out;
}

static void test_experiments_search(void **state)
{
	json_t *j;
	char token[256];
	(void)state;

	new_experiment(carl, "S-b");
	new_experiment(carl, "S-a");
	new_experiment(carl, "S-c");
	j = ml("POST", "/experiments/search", carl,
	       "{\"max_results\": 1000, \"filter\": \"name LIKE 'S-%'\", \"order_by\": [\"name ASC\"], "
	       "\"view_type\": \"ACTIVE_ONLY\"}",
	       200);
	assert_string_equal(names_of(j), "S-a,S-b,S-c");
	json_decref(j);
	/* pages */
	j = ml("POST", "/experiments/search", carl,
	       "{\"max_results\": 2, \"filter\": \"name ILIKE 's-%'\", \"order_by\": [\"name DESC\"]}", 200);
	assert_string_equal(names_of(j), "S-c,S-b");
	snprintf(token, sizeof(token), "%s", f_str(j, "next_page_token"));
	json_decref(j);
	j = ml("POST", "/experiments/search", carl,
	       h_fmt("{\"max_results\": 2, \"filter\": \"name ILIKE 's-%%'\", \"order_by\": [\"name DESC\"], "
		     "\"page_token\": \"%s\"}",
		     token),
	       200);
	assert_string_equal(names_of(j), "S-a");
	assert_null(json_object_get(j, "next_page_token"));
	json_decref(j);
	/* the GET form, tags, deleted experiments */
	j = ml("GET", "/experiments/search?filter=name%20%3D%20%27vision%27&view_type=ACTIVE_ONLY", carl, NULL, 200);
	assert_string_equal(names_of(j), "vision");
	json_decref(j);
	j = ml("POST", "/experiments/search", carl, "{\"filter\": \"tags.k = 'v'\"}", 200);
	assert_string_equal(names_of(j), "vision");
	json_decref(j);
	j = ml("POST", "/experiments/search", alice, "{\"filter\": \"name = 'Smoke Test'\", \"view_type\": \"ALL\"}",
	       200);
	assert_string_equal(names_of(j), "Smoke Test"); /* (eve's is not alice's to see) */
	json_decref(j);
	j = ml("POST", "/experiments/search", eve, "{\"filter\": \"name = 'vision'\"}", 200);
	assert_string_equal(names_of(j), "");
	json_decref(j);
}

/* ---- runs ---- */

static const char *vision_id(void)
{
	static char id[32];
	json_t *j = ml("GET", "/experiments/get-by-name?experiment_name=vision", alice, NULL, 200);
	snprintf(id, sizeof(id), "%s", f_str(json_object_get(j, "experiment"), "experiment_id"));
	json_decref(j);
	return id;
}

static void test_runs_create_get_update(void **state)
{
	const char *exp = vision_id(), *run = new_run(carl, exp, "first");
	json_t *r, *info, *j;
	(void)state;

	r = get_run(bob, run);
	info = json_object_get(r, "info");
	assert_string_equal(f_str(info, "run_uuid"), run);
	assert_string_equal(f_str(info, "experiment_id"), exp);
	assert_string_equal(f_str(info, "run_name"), "first");
	assert_string_equal(f_str(info, "user_id"), "carl");
	assert_string_equal(f_str(info, "status"), "RUNNING");
	assert_string_equal(f_str(info, "lifecycle_stage"), "active");
	assert_int_equal(json_integer_value(json_object_get(info, "start_time")), 1700000000000LL);
	assert_null(json_object_get(info, "end_time"));
	assert_string_equal(f_str(info, "artifact_uri"), h_fmt("mlflow-artifacts:/%s/%s/artifacts", exp, run));
	assert_string_equal(json_string_value(kv(run_data(r, "tags"), "mlflow.source.name")), "train.py");
	assert_string_equal(json_string_value(kv(run_data(r, "tags"), "mlflow.user")), "root");
	assert_true(json_is_array(json_object_get(json_object_get(r, "inputs"), "dataset_inputs")));
	json_decref(r);
	j = ml("GET", h_fmt("/runs/get?run_id=%s", run), bob, NULL, 200);
	json_decref(j);
	/* no name: one is made, and kept as the tag mlflow.runName, as MLflow's server does */
	j = ml("POST", "/runs/create", carl, h_fmt("{\"experiment_id\": \"%s\", \"start_time\": 1700000000000}", exp),
	       200);
	r = json_object_get(j, "run");
	assert_true(strlen(run_info(r, "run_name")) > 3);
	assert_string_equal(json_string_value(kv(run_data(r, "tags"), "mlflow.runName")), run_info(r, "run_name"));
	json_decref(j);
	/* what mlflow.end_run() sends */
	j = ml("POST", "/runs/update", carl,
	       h_fmt("{\"run_uuid\": \"%s\", \"run_id\": \"%s\", \"status\": \"FINISHED\", \"end_time\": "
		     "1700000009999}",
		     run, run),
	       200);
	info = json_object_get(j, "run_info");
	assert_string_equal(f_str(info, "status"), "FINISHED");
	assert_int_equal(json_integer_value(json_object_get(info, "end_time")), 1700000009999LL);
	json_decref(j);
	j = ml("POST", "/runs/update", carl, h_fmt("{\"run_id\": \"%s\", \"run_name\": \"renamed\"}", run), 200);
	assert_string_equal(f_str(json_object_get(j, "run_info"), "run_name"), "renamed");
	json_decref(j);
	r = get_run(alice, run);
	assert_string_equal(json_string_value(kv(run_data(r, "tags"), "mlflow.runName")), "renamed");
	json_decref(r);
	/* the default experiment "0" */
	j = ml("POST", "/runs/create", alice, "{\"experiment_id\": \"0\", \"start_time\": 1700000000000}", 200);
	assert_string_not_equal(run_info(json_object_get(j, "run"), "experiment_id"), "0");
	json_decref(j);
}

static void test_runs_params_tags(void **state)
{
	const char *run = new_run(carl, vision_id(), "pt");
	json_t *r;
	(void)state;

	ok_empty("/runs/log-parameter", carl,
		 h_fmt("{\"run_uuid\": \"%s\", \"run_id\": \"%s\", \"key\": \"lr\", \"value\": \"0.01\"}", run, run));
	ok_empty("/runs/log-parameter", carl, /* the same value again: fine */
		 h_fmt("{\"run_uuid\": \"%s\", \"run_id\": \"%s\", \"key\": \"lr\", \"value\": \"0.01\"}", run, run));
	ml_err("POST", "/runs/log-parameter", carl,
	       h_fmt("{\"run_uuid\": \"%s\", \"run_id\": \"%s\", \"key\": \"lr\", \"value\": \"0.1\"}", run, run), 400,
	       "INVALID_PARAMETER_VALUE", "Changing param values is not allowed");
	ok_empty("/runs/set-tag", carl,
		 h_fmt("{\"run_uuid\": \"%s\", \"run_id\": \"%s\", \"key\": \"team\", \"value\": \"vision\"}", run,
		       run));
	ok_empty("/runs/set-tag", carl,
		 h_fmt("{\"run_uuid\": \"%s\", \"run_id\": \"%s\", \"key\": \"mlflow.runName\", \"value\": \"nicer\"}",
		       run, run));
	ok_empty("/runs/set-tag", carl,
		 h_fmt("{\"run_uuid\": \"%s\", \"run_id\": \"%s\", \"key\": \"gone\", \"value\": \"x\"}", run, run));
	ok_empty("/runs/delete-tag", carl, h_fmt("{\"run_id\": \"%s\", \"key\": \"gone\"}", run));
	ml_err("POST", "/runs/delete-tag", carl, h_fmt("{\"run_id\": \"%s\", \"key\": \"gone\"}", run), 404,
	       "RESOURCE_DOES_NOT_EXIST", "No tag with name: gone");
	r = get_run(bob, run);
	assert_string_equal(run_info(r, "run_name"), "nicer");
	assert_string_equal(json_string_value(kv(run_data(r, "params"), "lr")), "0.01");
	assert_string_equal(json_string_value(kv(run_data(r, "tags"), "team")), "vision");
	assert_null(kv(run_data(r, "tags"), "gone"));
	json_decref(r);
	/* inputs and models */
	ok_empty("/runs/log-inputs", carl,
		 h_fmt("{\"run_id\": \"%s\", \"datasets\": [{\"tags\": [{\"key\": \"mlflow.data.context\", \"value\": "
		       "\"train\"}], \"dataset\": {\"name\": \"digits\", \"digest\": \"abc123\", \"source_type\": "
		       "\"local\", \"source\": \"{\\\"uri\\\": \\\"/data\\\"}\", \"schema\": \"{}\"}}]}",
		       run));
	ok_empty("/runs/log-model", carl,
		 h_fmt("{\"run_id\": \"%s\", \"model_json\": \"{\\\"artifact_path\\\": \\\"model\\\", \\\"flavors\\\": "
		       "{\\\"python_function\\\": {}}, \\\"utc_time_created\\\": \\\"2023-11-14 22:13:20.000000\\\", "
		       "\\\"run_id\\\": \\\"%s\\\"}\"}",
		       run, run));
	r = get_run(bob, run);
	assert_string_equal(
		f_str(json_object_get(json_array_get(json_object_get(json_object_get(r, "inputs"), "dataset_inputs"), 0),
				      "dataset"),
		      "name"),
		"digits");
	assert_non_null(strstr(json_string_value(kv(run_data(r, "tags"), "mlflow.log-model.history")),
			       "\"artifact_path\":\"model\""));
	json_decref(r);
	ml_err("POST", "/runs/log-model", carl, h_fmt("{\"run_id\": \"%s\", \"model_json\": \"{}\"}", run), 400,
	       "INVALID_PARAMETER_VALUE", "artifact_path");
	ml_err("POST", "/runs/log-model", carl, h_fmt("{\"run_id\": \"%s\", \"model_json\": \"[1\"}", run), 400,
	       "INVALID_PARAMETER_VALUE", "model_json");
}

static void test_runs_metrics_and_history(void **state)
{
	const char *run = new_run(carl, vision_id(), "metrics");
	json_t *r, *j, *m;
	char token[256];
	(void)state;

	log_metric(carl, run, "acc", "0.5", 1700000000001LL, 0);
	log_metric(carl, run, "acc", "0.75", 1700000000002LL, 1);
	log_metric(carl, run, "acc", "0.7", 1700000000003LL, 2);
	log_metric(carl, run, "loss", "\"NaN\"", 1700000000004LL, 0);
	log_metric(carl, run, "big", "\"Infinity\"", 1700000000005LL, 0);
	log_metric(carl, run, "small", "\"-Infinity\"", 1700000000006LL, 0);
	r = get_run(bob, run);
	m = run_data(r, "metrics");
	assert_true(json_real_value(kv(m, "acc")) == 0.7);
	assert_string_equal(json_string_value(kv(m, "loss")), "NaN");
	assert_true(json_number_value(kv(m, "big")) > 1.7e308);
	assert_true(json_number_value(kv(m, "small")) < -1.7e308);
	json_decref(r);
	/* the history in arrival order, paged as the client pages it */
	j = ml("GET", h_fmt("/metrics/get-history?run_uuid=%s&run_id=%s&metric_key=acc&max_results=2", run, run), bob,
	       NULL, 200);
	m = json_object_get(j, "metrics");
	assert_int_equal(json_array_size(m), 2);
	assert_string_equal(f_str(json_array_get(m, 0), "key"), "acc");
	assert_true(json_real_value(json_object_get(json_array_get(m, 1), "value")) == 0.75);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(m, 1), "step")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(m, 1), "timestamp")), 1700000000002LL);
	snprintf(token, sizeof(token), "%s", f_str(j, "next_page_token"));
	json_decref(j);
	j = ml("GET", h_fmt("/metrics/get-history?run_id=%s&metric_key=acc&max_results=2&page_token=%s", run, token),
	       bob, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "metrics")), 1);
	assert_null(json_object_get(j, "next_page_token"));
	json_decref(j);
	j = ml("GET", h_fmt("/metrics/get-history?run_id=%s&metric_key=loss", run), bob, NULL, 200);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(json_object_get(j, "metrics"), 0), "value")), "NaN");
	json_decref(j);
	j = ml("GET", h_fmt("/metrics/get-history?run_id=%s&metric_key=never", run), bob, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "metrics")), 0);
	json_decref(j);
	/* bad input names the field */
	ml_err("POST", "/runs/log-metric", carl,
	       h_fmt("{\"run_id\": \"%s\", \"key\": \"acc\", \"value\": \"high\", \"timestamp\": 1, \"step\": 0}", run),
	       400, "INVALID_PARAMETER_VALUE", "value");
	ml_err("POST", "/runs/log-metric", carl, h_fmt("{\"run_id\": \"%s\", \"key\": \"acc\", \"value\": 1}", run),
	       400, "INVALID_PARAMETER_VALUE", "timestamp");
	ml_err("POST", "/runs/log-metric", carl,
	       h_fmt("{\"run_id\": \"%s\", \"key\": \"a:b\", \"value\": 1, \"timestamp\": 1}", run), 400,
	       "INVALID_PARAMETER_VALUE", "key");
	ml_err("POST", "/runs/log-metric", carl,
	       h_fmt("{\"run_id\": \"%s\", \"key\": \"a\", \"value\": 1, \"timestamp\": 1, \"step\": -1}", run), 400,
	       "INVALID_PARAMETER_VALUE", "step");
	ml_err("GET", h_fmt("/metrics/get-history?run_id=%s", run), bob, NULL, 400, "INVALID_PARAMETER_VALUE",
	       "metric_key");
	ml_err("GET", h_fmt("/metrics/get-history?run_id=%s&metric_key=acc&page_token=xyz", run), bob, NULL, 400,
	       "INVALID_PARAMETER_VALUE", "page_token");
}

/* A log-batch body: n metrics of key "m" at steps 0..n-1, then params and tags. */
static char *batch(const char *run, int n, const char *params, const char *tags)
{
	size_t cap = (size_t)n * 96 + 4096;
	char *b = malloc(cap);
	size_t len;

	assert_non_null(b);
	len = (size_t)snprintf(b, cap, "{\"run_id\": \"%s\", \"metrics\": [", run);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(
			b + len, cap - len,
			"%s{\"key\": \"m\", \"value\": %d.5, \"timestamp\": 1700000000000, \"step\": %d}",
			i ? ", " : "", i, i);
	snprintf(b + len, cap - len, "], \"params\": [%s], \"tags\": [%s]}", params, tags);
	return b;
}

static long long count_points(const char *run)
{
	return f_sql_int(&S, h_fmt("SELECT coalesce(sum(m.count), 0) FROM run_metrics m JOIN runs r ON r.id = m.run_id"
				   " WHERE r.uuid = '%s'",
				   run));
}

static void test_runs_log_batch(void **state)
{
	const char *run = new_run(carl, vision_id(), "batch");
	char *b;
	json_t *r;
	(void)state;

	b = batch(run, 996, "{\"key\": \"lr\", \"value\": \"0.01\"}, {\"key\": \"bs\", \"value\": \"32\"}",
		  "{\"key\": \"mlflow.runName\", \"value\": \"batched\"}, {\"key\": \"stage\", \"value\": \"dev\"}");
	ok_empty("/runs/log-batch", carl, b);
	free(b);
	assert_int_equal(count_points(run), 996); /* (with 4 params and tags: MLflow's 1000 entities) */
	r = get_run(bob, run);
	assert_string_equal(run_info(r, "run_name"), "batched");
	assert_string_equal(json_string_value(kv(run_data(r, "params"), "bs")), "32");
	assert_string_equal(json_string_value(kv(run_data(r, "tags"), "stage")), "dev");
	assert_true(json_real_value(kv(run_data(r, "metrics"), "m")) == 995.5);
	json_decref(r);
	/* one transaction: a changed param refuses the whole batch, its points too */
	b = batch(run, 10, "{\"key\": \"lr\", \"value\": \"0.5\"}", "");
	ml_err("POST", "/runs/log-batch", carl, b, 400, "INVALID_PARAMETER_VALUE", "Changing param values");
	free(b);
	assert_int_equal(count_points(run), 996);
	/* MLflow's limits and the fields named */
	b = batch(run, 1001, "", "");
	ml_err("POST", "/runs/log-batch", carl, b, 400, "INVALID_PARAMETER_VALUE", "metrics");
	free(b);
	b = batch(run, 1, "{\"key\": \"a\", \"value\": \"1\"}, {\"key\": \"a\", \"value\": \"2\"}", "");
	ml_err("POST", "/runs/log-batch", carl, b, 400, "INVALID_PARAMETER_VALUE", "params[1].key");
	free(b);
	b = batch(run, 1, "{\"value\": \"1\"}", "");
	ml_err("POST", "/runs/log-batch", carl, b, 400, "INVALID_PARAMETER_VALUE", "params[0].key");
	free(b);
	ml_err("POST", "/runs/log-batch", carl,
	       h_fmt("{\"run_id\": \"%s\", \"metrics\": [{\"key\": \"m\", \"value\": \"x\", \"timestamp\": 1}]}", run),
	       400, "INVALID_PARAMETER_VALUE", "metrics[0].value");
	ml_err("POST", "/runs/log-batch", carl,
	       h_fmt("{\"run_id\": \"%s\", \"metrics\": [{\"key\": \"m\", \"value\": 1, \"timestamp\": 1}], \"x\": 1}",
		     run),
	       400, "INVALID_PARAMETER_VALUE", "x");
	ml_err("POST", "/runs/log-batch", carl, h_fmt("{\"run_id\": \"%s\", \"metrics\": [{", run), 400,
	       "MALFORMED_REQUEST", NULL);
	ml_err("POST", "/runs/log-batch", carl, "{\"metrics\": []}", 400, "INVALID_PARAMETER_VALUE", "run_id");
	ml_err("POST", "/runs/log-batch", carl, "{\"run_id\": \"0123456789abcdef0123456789abcdef\"}", 404,
	       "RESOURCE_DOES_NOT_EXIST", NULL);
	/* NaN and the infinities in a batch, as strings */
	ok_empty("/runs/log-batch", carl,
		 h_fmt("{\"run_id\": \"%s\", \"metrics\": [{\"key\": \"n\", \"value\": \"NaN\", \"timestamp\": 1}, "
		       "{\"key\": \"i\", \"value\": \"-Infinity\", \"timestamp\": 1, \"step\": 2}]}",
		       run));
	assert_int_equal(count_points(run), 998);
	b = batch(run, 1000, "{\"key\": \"z\", \"value\": \"1\"}", "");
	ml_err("POST", "/runs/log-batch", carl, b, 400, "INVALID_PARAMETER_VALUE", "1000 metrics, params and tags");
	free(b);
}

static void test_runs_permissions(void **state)
{
	const char *exp = vision_id(), *run = new_run(carl, exp, "perm");
	(void)state;

	/* a viewer reads and may not write; an outsider sees nothing */
	json_decref(get_run(bob, run));
	ml_err("POST", "/runs/log-metric", bob,
	       h_fmt("{\"run_id\": \"%s\", \"key\": \"a\", \"value\": 1, \"timestamp\": 1}", run), 403,
	       "PERMISSION_DENIED", "editor");
	ml_err("POST", "/runs/log-batch", bob, h_fmt("{\"run_id\": \"%s\"}", run), 403, "PERMISSION_DENIED", NULL);
	ml_err("POST", "/runs/create", bob, h_fmt("{\"experiment_id\": \"%s\"}", exp), 403, "PERMISSION_DENIED", NULL);
	ml_err("POST", "/runs/delete", bob, h_fmt("{\"run_id\": \"%s\"}", run), 403, "PERMISSION_DENIED", NULL);
	ml_err("GET", h_fmt("/runs/get?run_id=%s", run), eve, NULL, 404, "RESOURCE_DOES_NOT_EXIST", run);
	ml_err("POST", "/runs/log-batch", eve, h_fmt("{\"run_id\": \"%s\"}", run), 404, "RESOURCE_DOES_NOT_EXIST",
	       NULL);
	ml_err("POST", "/runs/set-tag", eve, h_fmt("{\"run_id\": \"%s\", \"key\": \"k\", \"value\": \"v\"}", run), 404,
	       "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_err("GET", h_fmt("/metrics/get-history?run_id=%s&metric_key=a", run), eve, NULL, 404,
	       "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_err("POST", "/runs/create", eve, h_fmt("{\"experiment_id\": \"%s\"}", exp), 404, "RESOURCE_DOES_NOT_EXIST",
	       NULL);
	ml_err("POST", "/runs/search", eve, h_fmt("{\"experiment_ids\": [\"%s\"]}", exp), 404,
	       "RESOURCE_DOES_NOT_EXIST", NULL);
	/* bad input */
	ml_err("GET", "/runs/get", bob, NULL, 400, "INVALID_PARAMETER_VALUE", "run_id");
	ml_err("POST", "/runs/update", carl, h_fmt("{\"run_id\": \"%s\", \"status\": \"DONE\"}", run), 400,
	       "INVALID_PARAMETER_VALUE", "status");
	ml_err("POST", "/runs/update", carl, h_fmt("{\"run_id\": \"%s\", \"end_time\": \"soon\"}", run), 400,
	       "INVALID_PARAMETER_VALUE", "end_time");
	ml_err("POST", "/runs/create", carl,
	       h_fmt("{\"experiment_id\": \"%s\", \"run_name\": \"a\", \"tags\": [{\"key\": \"mlflow.runName\", "
		     "\"value\": \"b\"}]}",
		     exp),
	       400, "INVALID_PARAMETER_VALUE", "run_name");
	ml_err("POST", "/runs/create", carl, h_fmt("{\"experiment_id\": \"%s\", \"start_time\": -5}", exp), 400,
	       "INVALID_PARAMETER_VALUE", "start_time");
	ml_err("POST", "/runs/set-tag", carl, h_fmt("{\"run_id\": \"%s\", \"key\": \"k\"}", run), 400,
	       "INVALID_PARAMETER_VALUE", "value");
	ml_err("POST", "/runs/log-inputs", carl,
	       h_fmt("{\"run_id\": \"%s\", \"datasets\": [{\"dataset\": {\"name\": \"d\"}}]}", run), 400,
	       "INVALID_PARAMETER_VALUE", "datasets[0].dataset.digest");
}

/* ---- MLflow and Atrium's own API on the same runs ---- */

static void test_native_interop(void **state)
{
	const char *exp = vision_id(), *run = new_run(carl, exp, "both ways");
	json_t *j, *r, *items;
	long long id;
	char uuid[40];
	(void)state;

	ok_empty("/runs/log-parameter", carl,
		 h_fmt("{\"run_id\": \"%s\", \"key\": \"optimizer\", \"value\": \"adamw\"}", run));
	log_metric(carl, run, "val acc", "0.91", 1700000000001LL, 3);
	log_metric(carl, run, "nanny", "\"NaN\"", 1700000000001LL, 0);
	/* an MLflow run read through Atrium's own API, by its MLflow id (and its own id) */
	j = h_call(&S, "GET", h_fmt("/api/v1/runs/%s", run), bob, NULL, 200);
	id = f_int(j, "id");
	assert_string_equal(f_str(j, "uuid"), run);
	assert_string_equal(f_str(j, "name"), "both ways");
	assert_string_equal(f_str(json_object_get(j, "params"), "optimizer"), "adamw");
	assert_string_equal(f_str(json_object_get(j, "tags"), "mlflow.source.name"), "train.py");
	assert_true(json_real_value(json_object_get(json_object_get(j, "metrics"), "val acc")) == 0.91);
	assert_true(json_is_null(json_object_get(json_object_get(j, "metrics"), "nanny"))); /* NaN: null */
	json_decref(j);
	j = h_call(&S, "GET", h_fmt("/api/v1/runs/%lld/metrics/val%%20acc", id), bob, NULL, 200);
	assert_int_equal(f_int(j, "count"), 1);
	json_decref(j);
	j = h_call(&S, "GET", h_fmt("/api/v1/runs/%lld/metrics/nanny", id), bob, NULL, 200);
	assert_true(json_is_null(json_array_get(json_object_get(j, "values"), 0)));
	json_decref(j);
	/* found by Atrium's run search */
	j = h_call(&S, "GET", "/api/v1/projects/vision/runs?filter=params.optimizer%3Dadamw", bob, NULL, 200);
	items = json_object_get(j, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_int_equal(f_int(json_array_get(items, 0), "id"), id);
	json_decref(j);
	/* a native run read through MLflow: runs/get by its uuid, found by runs/search, its history */
	j = h_call(&S, "POST", "/api/v1/projects/vision/runs", carl,
		   "{\"name\": \"native\", \"params\": {\"optimizer\": \"sgd\"}, \"tags\": {\"origin\": \"atrium\"}}",
		   201);
	snprintf(uuid, sizeof(uuid), "%s", f_str(j, "uuid"));
	id = f_int(j, "id");
	json_decref(j);
	json_decref(h_call(
		&S, "POST", h_fmt("/api/v1/runs/%lld/metrics", id), carl,
		"{\"metrics\": [{\"key\": \"acc\", \"value\": 0.25, \"step\": 4, \"timestamp\": 1700000000000}]}",
		200));
	r = get_run(bob, uuid);
	assert_string_equal(run_info(r, "run_name"), "native");
	assert_string_equal(run_info(r, "experiment_id"), exp);
	assert_string_equal(json_string_value(kv(run_data(r, "params"), "optimizer")), "sgd");
	assert_string_equal(json_string_value(kv(run_data(r, "tags"), "origin")), "atrium");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(run_data(r, "metrics"), 0), "step")), 4);
	json_decref(r);
	j = ml("POST", "/runs/search", bob,
	       h_fmt("{\"experiment_ids\": [\"%s\"], \"filter\": \"params.optimizer = 'sgd'\", \"run_view_type\": "
		     "\"ACTIVE_ONLY\", \"max_results\": 1000}",
		     exp),
	       200);
	assert_int_equal(json_array_size(json_object_get(j, "runs")), 1);
	assert_string_equal(run_info(json_array_get(json_object_get(j, "runs"), 0), "run_id"), uuid);
	json_decref(j);
	j = ml("GET", h_fmt("/metrics/get-history?run_id=%s&metric_key=acc", uuid), bob, NULL, 200);
	assert_true(json_real_value(json_object_get(json_array_get(json_object_get(j, "metrics"), 0), "value")) ==
		    0.25);
	json_decref(j);
}

/* ---- runs/search ---- */

/* The run names of a runs/search answer, in order, comma-separated. */
static const char *run_names(json_t *j)
{
	static char out[4096];
	size_t i;
	json_t *r;

	out[0] = 0;
	json_array_foreach(json_object_get(j, "runs"), i, r)
	{
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "", run_info(r, "run_name"));
	}
	return out;
}

static const char *search(const char *token, const char *exps, const char *filter, const char *order)
{
	json_t *j = ml("POST", "/runs/search", token,
		       h_fmt("{\"experiment_ids\": [%s], \"filter\": \"%s\", \"run_view_type\": \"ACTIVE_ONLY\", "
			     "\"max_results\": 1000, \"order_by\": [%s]}",
			     exps, filter, order),
		       200);
	const char *names = run_names(j);
	json_decref(j);
	return names;
}

static void test_search(void **state)
{
	const char *e1 = new_experiment(alice, "Search One"), *e2 = new_experiment(alice, "Search Two");
	static const struct {
		const char *name, *lr, *team, *status;
		double acc, val;
	} runs[] = {
		{ "s1", "0.01", "vision", "FINISHED", 0.95, 0.5 }, { "s2", "0.01", "voice", "FINISHED", 0.91, 0.7 },
		{ "s3", "0.1", "vision", "FINISHED", 0.99, 0.6 },  { "s4", "0.01", "vision", "FAILED", 0.97, 0.9 },
		{ "s5", "0.01", "vision", "RUNNING", 0.5, 0.8 },
	};
	char e1q[40], e2q[40], both[80], ids[5][40], token[512];
	json_t *j;
	(void)state;

	snprintf(e1q, sizeof(e1q), "\"%s\"", e1);
	snprintf(e2q, sizeof(e2q), "\"%s\"", e2);
	snprintf(both, sizeof(both), "\"%s\", \"%s\"", e1, e2);
	for (int i = 0; i < 5; i++) {
		const char *run = new_run(alice, i < 4 ? e1 : e2, runs[i].name);
		snprintf(ids[i], sizeof(ids[i]), "%s", run);
		ok_empty(
			"/runs/log-batch", alice,
			h_fmt("{\"run_id\": \"%s\", \"metrics\": [{\"key\": \"acc\", \"value\": %g, \"timestamp\": 1}, "
			      "{\"key\": \"val acc\", \"value\": %g, \"timestamp\": 1}], \"params\": [{\"key\": "
			      "\"lr\", "
			      "\"value\": \"%s\"}], \"tags\": [{\"key\": \"team\", \"value\": \"%s\"}]}",
			      run, runs[i].acc, runs[i].val, runs[i].lr, runs[i].team));
		json_decref(ml("POST", "/runs/update", alice,
			       h_fmt("{\"run_id\": \"%s\", \"status\": \"%s\", \"end_time\": %lld}", run,
				     runs[i].status, 1700000001000LL + i),
			       200));
	}
	/* the example, and MLflow's grammar around it */
	assert_string_equal(search(alice, e1q,
				   "metrics.acc > 0.9 and params.lr = '0.01' and tags.team LIKE 'v%' and "
				   "attributes.status = 'FINISHED'",
				   "\"metrics.acc DESC\""),
			    "s1,s2");
	assert_string_equal(search(alice, both, "metrics.`val acc` >= 0.6", "\"metrics.`val acc` ASC\""),
			    "s3,s2,s5,s4");
	assert_string_equal(search(alice, e1q, "tags.team ILIKE 'VI%'", "\"params.lr DESC\", \"metrics.acc ASC\""),
			    "s3,s1,s4");
	assert_string_equal(search(alice, e1q, "attributes.status != 'FINISHED'", ""), "s4");
	assert_string_equal(search(alice, e1q, "status = 'Finished'", ""), ""); /* (MLflow's names are exact) */
	assert_string_equal(search(alice, both, h_fmt("attributes.run_id IN ('%s', '%s')", ids[0], ids[4]),
				   "\"attributes.run_name DESC\""),
			    "s5,s1");
	assert_string_equal(
		search(alice, e1q, "params.lr = '0.01' and run_name LIKE 's_'", "\"attributes.end_time DESC\""),
		"s4,s2,s1");
	assert_string_equal(search(alice, both, "attributes.user_id = 'alice' and metrics.acc < 0.96",
				   "\"tags.team ASC\", \"metrics.acc DESC\""),
			    "s1,s5,s2");
	/* pages */
	j = ml("POST", "/runs/search", alice,
	       h_fmt("{\"experiment_ids\": [%s], \"max_results\": 2, \"order_by\": [\"metrics.acc DESC\"]}", both),
	       200);
	assert_string_equal(run_names(j), "s3,s4");
	snprintf(token, sizeof(token), "%s", f_str(j, "next_page_token"));
	json_decref(j);
	j = ml("POST", "/runs/search", alice,
	       h_fmt("{\"experiment_ids\": [%s], \"max_results\": 2, \"order_by\": [\"metrics.acc DESC\"], "
		     "\"page_token\": \"%s\"}",
		     both, token),
	       200);
	assert_string_equal(run_names(j), "s1,s2");
	json_decref(j);
	/* deleted runs leave searches (native ones too) until restored */
	ok_empty("/runs/delete", alice, h_fmt("{\"run_id\": \"%s\"}", ids[0]));
	assert_string_equal(search(alice, e1q, "", "\"attributes.run_name ASC\""), "s2,s3,s4");
	j = ml("POST", "/runs/search", alice,
	       h_fmt("{\"experiment_ids\": [%s], \"run_view_type\": \"DELETED_ONLY\"}", e1q), 200);
	assert_string_equal(run_names(j), "s1");
	json_decref(j);
	j = ml("POST", "/runs/search", alice,
	       h_fmt("{\"experiment_ids\": [%s], \"run_view_type\": \"ALL\", \"order_by\": [\"run_name\"]}", e1q), 200);
	assert_string_equal(run_names(j), "s1,s2,s3,s4");
	json_decref(j);
	j = get_run(alice, ids[0]);
	assert_string_equal(run_info(j, "lifecycle_stage"), "deleted");
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/projects/search-one/runs?filter=name%3Ds1", alice, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	ok_empty("/runs/restore", alice, h_fmt("{\"run_id\": \"%s\"}", ids[0]));
	assert_string_equal(search(alice, e1q, "", "\"attributes.run_name ASC\""), "s1,s2,s3,s4");
	/* bad input names the field */
	ml_err("POST", "/runs/search", alice,
	       h_fmt("{\"experiment_ids\": [%s], \"filter\": \"metrics.acc > 'high'\"}", e1q), 400,
	       "INVALID_PARAMETER_VALUE", "filter");
	ml_err("POST", "/runs/search", alice, h_fmt("{\"experiment_ids\": [%s], \"filter\": \"params.lr > '1'\"}", e1q),
	       400, "INVALID_PARAMETER_VALUE", "filter");
	ml_err("POST", "/runs/search", alice, h_fmt("{\"experiment_ids\": [%s], \"filter\": \"colour = 'x'\"}", e1q),
	       400, "INVALID_PARAMETER_VALUE", "filter");
	ml_err("POST", "/runs/search", alice,
	       h_fmt("{\"experiment_ids\": [%s], \"order_by\": [\"metrics.acc UP\"]}", e1q), 400,
	       "INVALID_PARAMETER_VALUE", "order_by");
	ml_err("POST", "/runs/search", alice,
	       h_fmt("{\"experiment_ids\": [%s], \"order_by\": [\"metrics.acc\", \"metrics.acc DESC\"]}", e1q), 400,
	       "INVALID_PARAMETER_VALUE", "twice");
	ml_err("POST", "/runs/search", alice, h_fmt("{\"experiment_ids\": [%s], \"max_results\": 50001}", e1q), 400,
	       "INVALID_PARAMETER_VALUE", "max_results");
	ml_err("POST", "/runs/search", alice, h_fmt("{\"experiment_ids\": [%s], \"page_token\": \"%s\"}", e1q, token),
	       400, "INVALID_PARAMETER_VALUE", "page_token"); /* (a token of another order) */
	ml_err("POST", "/runs/search", alice, "{\"experiment_ids\": [\"424242\"]}", 404, "RESOURCE_DOES_NOT_EXIST",
	       NULL);
	ml_err("POST", "/runs/search", alice, "{\"experiment_ids\": \"1\"}", 400, "INVALID_PARAMETER_VALUE",
	       "experiment_ids");
}

/* ---- credentials ---- */

static const char *basic(const char *user, const char *password)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static char out[512];
	char in[256];
	size_t n = (size_t)snprintf(in, sizeof(in), "%s:%s", user, password), o = 0;

	o = (size_t)snprintf(out, sizeof(out), "Authorization: Basic ");
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16 | (i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? (unsigned char)in[i + 2] : 0);
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = 0;
	return out;
}

static long basic_status(const char *user, const char *password)
{
	const char *hdr[] = { basic(user, password), NULL };
	struct h_resp r;
	long status;

	h_req(&S, "POST", ML "/experiments/search", NULL, "{\"max_results\": 10}", hdr, &r);
	status = r.status;
	if (status == 200)
		assert_true(json_is_array(json_object_get(r.json, "experiments")));
	h_resp_free(&r);
	return status;
}

static void test_basic_credentials(void **state)
{
	(void)state;
	json_decref(h_call(&S, "POST", "/api/v1/users", S.admin_token,
			   "{\"username\": \"pat\", \"role\": \"member\", \"password\": \"correct horse\"}", 201));
	assert_int_equal(basic_status("pat", "correct horse"), 200);
	assert_int_equal(basic_status("alice", alice), 200); /* a token as the password */
	assert_int_equal(basic_status("pat", "wrong horse"), 401);
}

/* Last: the daemon stops cleanly after all of the above (under ASan: no leak, no error). */
static void test_clean_shutdown(void **state)
{
	(void)state;
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	assert_int_not_equal(h_sh("grep -q 'Sanitizer' %s/server.log", S.dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_experiments_create_get),
		cmocka_unit_test(test_experiments_teams),
		cmocka_unit_test(test_experiments_update_delete),
		cmocka_unit_test(test_experiments_permissions),
		cmocka_unit_test(test_experiments_bad_input),
		cmocka_unit_test(test_experiments_search),
		cmocka_unit_test(test_runs_create_get_update),
		cmocka_unit_test(test_runs_params_tags),
		cmocka_unit_test(test_runs_metrics_and_history),
		cmocka_unit_test(test_runs_log_batch),
		cmocka_unit_test(test_runs_permissions),
		cmocka_unit_test(test_native_interop),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_basic_credentials),
		cmocka_unit_test(test_clean_shutdown),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}

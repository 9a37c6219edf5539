/*
 * test_mlflow_registry.c: MLflow's model registry (/api/2.0/mlflow/registered-models/... and
 * model-versions/...) against the real daemon, with the JSON MLflow 2.9.2's client sends
 * (mlflow/store/model_registry/rest_store.py: POST/PATCH/DELETE bodies, GET query strings).
 * Every endpoint's happy path; bad input (INVALID_PARAMETER_VALUE naming the field); access
 * (RESOURCE_DOES_NOT_EXIST for what the caller cannot see, PERMISSION_DENIED for a viewer
 * writing and for an editor moving `production`, whose message names the promotion request);
 * models and versions made through MLflow read through Atrium's API (versions, files, lineage
 * by source_run) and native ones read through MLflow; where a plain name creates a model; names
 * that more than one project has; stages as aliases; the delete rules; searches and pages.
 */
#include "fixtures.h"

#include "atrium/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;
static char people[4][128];
/* alice owns the private project "vision" (and "other"), bob is an editor of vision, vera a
 * viewer, eve a stranger */
static const char *const alice = people[0], *const bob = people[1], *const vera = people[2], *const eve = people[3];
static char run_uuid[33], other_uuid[33]; /* runs of vision (with artifacts) and of other */
static long long run_id;

#define RM "/api/2.0/mlflow/registered-models"
#define MV "/api/2.0/mlflow/model-versions"
#define NATIVE "/api/v1/projects/vision/models"

/* An MLflow error answer: its status, error_code and a part of its message (NULL: any). */
static void mlf_err(const char *method, const char *path, const char *token, const char *body, long status,
		    const char *code, const char *needle)
{
	json_t *j = h_call(&S, method, path, token, body, status);
	const char *c = f_str(j, "error_code"), *m = f_str(j, "message");

	if (strcmp(c, code) != 0 || (needle && !strstr(m, needle))) {
		fprintf(stderr, "%s %s: expected %s with '%s', got %s: %s\n", method, path, code, needle ? needle : "",
			c, m);
		json_decref(j);
		fail();
	}
	assert_null(json_object_get(j, "error"));
	json_decref(j);
}

#define BAD(method, path, token, body, needle) \
	mlf_err(method, path, token, body, 400, "INVALID_PARAMETER_VALUE", needle)
#define ABSENT(method, path, token, body) mlf_err(method, path, token, body, 404, "RESOURCE_DOES_NOT_EXIST", NULL)
#define DENIED(method, path, token, body, needle) mlf_err(method, path, token, body, 403, "PERMISSION_DENIED", needle)
#define STATE(method, path, token, body, needle) mlf_err(method, path, token, body, 422, "INVALID_STATE", needle)

/* {"model_version": ...} of a call, as a new reference to the inner object. */
static json_t *inner(json_t *j, const char *key)
{
	json_t *o = json_incref(json_object_get(j, key));
	assert_non_null(o);
	json_decref(j);
	return o;
}

/* A run of project with files under model/ and one beside; its MLflow id into uuid. */
static long long make_run(const char *project, const char *token, char uuid[33])
{
	json_t *j = h_call(&S, "POST", h_fmt("/api/v1/projects/%s/runs", project), token, "{\"name\":\"train\"}", 201);
	long long id = f_int(j, "id");

	snprintf(uuid, 33, "%s", f_str(j, "uuid"));
	assert_int_equal(strlen(uuid), 32);
	json_decref(j);
	json_decref(f_put(&S, h_fmt("/api/v1/runs/%lld/artifacts/model/MLmodel", id), token, "flavors: {}\n", 12, NULL,
			  201));
	json_decref(f_put(&S, h_fmt("/api/v1/runs/%lld/artifacts/model/data/model.pkl", id), token, "weights", 7, NULL,
			  201));
	json_decref(f_put(&S, h_fmt("/api/v1/runs/%lld/artifacts/metrics.txt", id), token, "acc 0.9", 7, NULL, 201));
	return id;
}

/* Tags [{key, value}] as "k=v,k=v" in their order, for comparisons. */
static const char *tags_text(const json_t *tags)
{
	static char out[512];
	size_t i, o = 0;
	json_t *t;

	out[0] = 0;
	json_array_foreach(tags, i, t)
	{
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s=%s", i ? "," : "", f_str(t, "key"),
				      f_str(t, "value"));
	}
	return out;
}

static long long audit_count(const char *action, const char *object_part)
{
	json_t *j = h_call(&S, "GET", h_fmt("/api/v1/audit?action=%s&limit=100", action), S.admin_token, NULL, 200);
	json_t *items = json_object_get(j, "items"), *e;
	long long n = 0;
	size_t i;

	json_array_foreach(items, i, e)
	{
		if (strstr(f_str(e, "object"), object_part))
			n++;
	}
	json_decref(j);
	return n;
}

static void test_create_where(void **state)
{
	json_t *j;
	(void)state;

	/* a plain name goes to the project of the caller's latest run (bob's: vision) */
	j = inner(h_call(&S, "POST", RM "/create", bob,
			 "{\"name\": \"resnet\", \"tags\": [{\"key\": \"team\", \"value\": \"cv\"}], \"description\": "
			 "\"image model\"}",
			 200),
		  "registered_model");
	assert_string_equal(f_str(j, "name"), "resnet");
	assert_string_equal(f_str(j, "description"), "image model");
	assert_string_equal(f_str(j, "user_id"), "bob");
	assert_string_equal(tags_text(json_object_get(j, "tags")), "team=cv");
	assert_int_equal(json_array_size(json_object_get(j, "latest_versions")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "aliases")), 0);
	assert_true(f_int(j, "creation_timestamp") > 1600000000000LL);
	json_decref(j);
	j = h_call(&S, "GET", NATIVE "/resnet", vera, NULL, 200); /* an Atrium model of vision */
	assert_string_equal(f_str(j, "project"), "vision");
	json_decref(j);
	/* "project/model" names the project; the tag atrium.project too */
	json_decref(h_call(&S, "POST", RM "/create", alice, "{\"name\": \"other/ranker\"}", 200));
	json_decref(h_call(&S, "GET", "/api/v1/projects/other/models/ranker", alice, NULL, 200));
	json_decref(h_call(&S, "POST", RM "/create", alice,
			   "{\"name\": \"tagged\", \"tags\": [{\"key\": \"atrium.project\", \"value\": \"other\"}]}",
			   200));
	json_decref(h_call(&S, "GET", "/api/v1/projects/other/models/tagged", alice, NULL, 200));
	/* a caller without runs: their Default experiment (a private project of their own) */
	j = inner(h_call(&S, "POST", RM "/create", eve, "{\"name\": \"solo\"}", 200), "registered_model");
	assert_string_equal(f_str(j, "name"), "solo");
	json_decref(j);
	ABSENT("GET", RM "/get?name=solo", alice, NULL); /* (private: not alice's to see) */
	/* where the caller sees the name already: RESOURCE_ALREADY_EXISTS (the client goes on with it) */
	mlf_err("POST", RM "/create", bob, "{\"name\": \"resnet\"}", 409, "RESOURCE_ALREADY_EXISTS", "resnet");
	mlf_err("POST", RM "/create", alice, "{\"name\": \"vision/resnet\"}", 409, "RESOURCE_ALREADY_EXISTS", NULL);
	mlf_err("POST", RM "/create", alice,
		"{\"name\": \"ranker\", \"tags\": [{\"key\": \"atrium.project\", \"value\": \"vision\"}]}", 409,
		"RESOURCE_ALREADY_EXISTS", "vision/ranker");
	/* access: a viewer may not create, a project the caller cannot see does not exist */
	DENIED("POST", RM "/create", vera, "{\"name\": \"vision/nope\"}", "editor");
	BAD("POST", RM "/create", eve, "{\"name\": \"vision/nope\"}", "'vision' does not exist");
	BAD("POST", RM "/create", eve,
	    "{\"name\": \"x\", \"tags\": [{\"key\": \"atrium.project\", \"value\": \"vision\"}]}",
	    "'vision' does not exist");
}

static void test_create_bad_input(void **state)
{
	(void)state;
	BAD("POST", RM "/create", bob, "{}", "'name'");
	BAD("POST", RM "/create", bob, "{\"name\": \"\"}", "'name'");
	BAD("POST", RM "/create", bob, "{\"name\": null}", "'name'");
	BAD("POST", RM "/create", bob, "{\"name\": 7}", "'name'");
	BAD("POST", RM "/create", bob, "{\"name\": \"two words\"}", "'name'");
	BAD("POST", RM "/create", bob, "{\"name\": \"vision/\"}", "'name'");
	BAD("POST", RM "/create", bob, "{\"name\": \"/x\"}", "'name'");
	BAD("POST", RM "/create", bob, "{\"name\": \"vision/a/b\"}", "'name'");
	BAD("POST", RM "/create", bob,
	    "{\"name\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", "'name'");
	BAD("POST", RM "/create", bob, "{\"name\": \"x\", \"tags\": {\"a\": \"b\"}}", "'tags'");
	BAD("POST", RM "/create", bob, "{\"name\": \"x\", \"tags\": [{\"value\": \"b\"}]}", "'tags[0].key'");
	BAD("POST", RM "/create", bob, "{\"name\": \"x\", \"tags\": [{\"key\": \"a\", \"value\": 1}]}",
	    "'tags[0].value'");
	BAD("POST", RM "/create", bob, "{\"name\": \"x\", \"description\": 7}", "'description'");
	BAD("POST", RM "/create", bob, "{\"name\": \"x\", \"owner\": \"me\"}", "'owner'");
	mlf_err("POST", RM "/create", bob, "{\"name\": ", 400, "MALFORMED_REQUEST", NULL);
	mlf_err("POST", RM "/create", NULL, "{\"name\": \"x\"}", 401, "UNAUTHENTICATED", NULL);
}

static void test_models_read_write(void **state)
{
	json_t *j, *items;
	(void)state;

	j = inner(h_call(&S, "GET", RM "/get?name=resnet", vera, NULL, 200), "registered_model");
	assert_string_equal(f_str(j, "name"), "resnet");
	json_decref(j);
	json_decref(h_call(&S, "GET", "/ajax-api/2.0/mlflow/registered-models/get?name=vision%2Fresnet", vera, NULL,
			   200)); /* MLflow's UI path; the qualified name */
	ABSENT("GET", RM "/get?name=resnet", eve, NULL);
	ABSENT("GET", RM "/get?name=nope", bob, NULL);
	BAD("GET", RM "/get", bob, NULL, "'name'");
	BAD("GET", RM "/get?name=resnet&extra=1", bob, NULL, "'extra'");
	/* update (PATCH), tags */
	j = inner(h_call(&S, "PATCH", RM "/update", bob, "{\"name\": \"resnet\", \"description\": \"v2\"}", 200),
		  "registered_model");
	assert_string_equal(f_str(j, "description"), "v2");
	json_decref(j);
	json_decref(h_call(&S, "POST", RM "/set-tag", bob,
			   "{\"name\": \"resnet\", \"key\": \"stage\", \"value\": \"beta\"}", 200));
	json_decref(h_call(&S, "DELETE", RM "/delete-tag", bob, "{\"name\": \"resnet\", \"key\": \"team\"}", 200));
	json_decref(h_call(&S, "DELETE", RM "/delete-tag", bob, "{\"name\": \"resnet\", \"key\": \"never\"}", 200));
	j = inner(h_call(&S, "GET", RM "/get?name=resnet", bob, NULL, 200), "registered_model");
	assert_string_equal(tags_text(json_object_get(j, "tags")), "stage=beta");
	json_decref(j);
	BAD("POST", RM "/set-tag", bob, "{\"name\": \"resnet\", \"key\": \"k\"}", "'value'");
	BAD("POST", RM "/set-tag", bob, "{\"name\": \"resnet\", \"key\": \"\", \"value\": \"v\"}", "'key'");
	BAD("PATCH", RM "/update", bob, "{\"name\": \"resnet\", \"description\": false}", "'description'");
	DENIED("PATCH", RM "/update", vera, "{\"name\": \"resnet\", \"description\": \"x\"}", "viewer");
	DENIED("POST", RM "/set-tag", vera, "{\"name\": \"resnet\", \"key\": \"k\", \"value\": \"v\"}", "viewer");
	ABSENT("POST", RM "/set-tag", eve, "{\"name\": \"resnet\", \"key\": \"k\", \"value\": \"v\"}");
	ABSENT("DELETE", RM "/delete-tag", eve, "{\"name\": \"resnet\", \"key\": \"stage\"}");
	/* the native PATCH is seen through MLflow, and the reverse */
	json_decref(h_call(&S, "PATCH", NATIVE "/resnet", bob, "{\"description\": \"native\"}", 200));
	j = inner(h_call(&S, "GET", RM "/get?name=resnet", bob, NULL, 200), "registered_model");
	assert_string_equal(f_str(j, "description"), "native");
	json_decref(j);
	/* search: what the caller may read */
	j = h_call(&S, "GET", RM "/search?max_results=100", bob, NULL, 200);
	items = json_object_get(j, "registered_models");
	assert_int_equal(json_array_size(items), 1); /* resnet: bob reads vision only */
	assert_null(json_object_get(j, "next_page_token"));
	json_decref(j);
	j = h_call(&S, "GET", RM "/search?filter=name+LIKE+%27r%25%27&max_results=100", eve, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "registered_models")), 0);
	json_decref(j);
}

static void test_rename(void **state)
{
	json_t *j;
	(void)state;

	json_decref(h_call(&S, "POST", RM "/create", bob, "{\"name\": \"vision/old-name\"}", 200));
	j = inner(h_call(&S, "POST", RM "/rename", bob, "{\"name\": \"old-name\", \"new_name\": \"New_Name.v2\"}", 200),
		  "registered_model");
	assert_string_equal(f_str(j, "name"), "New_Name.v2");
	json_decref(j);
	json_decref(h_call(&S, "GET", NATIVE "/New_Name.v2", bob, NULL, 200));
	j = h_call(&S, "GET", NATIVE "/New_Name.v2/history", bob, NULL, 200);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "items"), 0), "kind"), "model_renamed");
	assert_non_null(strstr(f_str(json_array_get(json_object_get(j, "items"), 0), "comment"), "old-name"));
	json_decref(j);
	ABSENT("GET", RM "/get?name=old-name", bob, NULL);
	mlf_err("POST", RM "/rename", bob, "{\"name\": \"New_Name.v2\", \"new_name\": \"resnet\"}", 409,
		"RESOURCE_ALREADY_EXISTS", NULL);
	BAD("POST", RM "/rename", bob, "{\"name\": \"New_Name.v2\", \"new_name\": \"other/x\"}", "'new_name'");
	BAD("POST", RM "/rename", bob, "{\"name\": \"New_Name.v2\", \"new_name\": \"bad name\"}", "'new_name'");
	BAD("POST", RM "/rename", bob, "{\"name\": \"New_Name.v2\"}", "'new_name'");
	DENIED("POST", RM "/rename", vera, "{\"name\": \"New_Name.v2\", \"new_name\": \"y\"}", "viewer");
	ABSENT("POST", RM "/rename", eve, "{\"name\": \"New_Name.v2\", \"new_name\": \"y\"}");
	j = inner(h_call(&S, "POST", RM "/rename", bob, "{\"name\": \"New_Name.v2\", \"new_name\": \"vision/renamed\"}",
			 200),
		  "registered_model");
	assert_string_equal(f_str(j, "name"), "renamed");
	json_decref(j);
}

/* A version of model made through MLflow from source; its JSON (model_version). */
static json_t *create_version(const char *token, const char *model, const char *source, const char *run)
{
	return inner(h_call(&S, "POST", MV "/create", token,
			    h_fmt("{\"name\": \"%s\", \"source\": \"%s\", \"run_id\": \"%s\", \"tags\": [{\"key\": "
				  "\"k\", \"value\": \"v\"}], \"description\": \"from mlflow\"}",
				  model, source, run),
			    200),
		     "model_version");
}

static void test_version_create(void **state)
{
	json_t *j, *files;
	(void)state;

	j = create_version(bob, "resnet", h_fmt("runs:/%s/model", run_uuid), run_uuid);
	assert_string_equal(f_str(j, "name"), "resnet");
	assert_string_equal(f_str(j, "version"), "1"); /* a string, as MLflow's */
	assert_string_equal(f_str(j, "status"), "READY");
	assert_string_equal(f_str(j, "current_stage"), "None");
	assert_string_equal(f_str(j, "run_id"), run_uuid);
	assert_string_equal(f_str(j, "source"), h_fmt("runs:/%s/model", run_uuid));
	assert_string_equal(f_str(j, "user_id"), "bob");
	assert_string_equal(f_str(j, "description"), "from mlflow");
	assert_string_equal(tags_text(json_object_get(j, "tags")), "k=v");
	assert_int_equal(json_array_size(json_object_get(j, "aliases")), 0);
	json_decref(j);
	/* an Atrium version: committed, its source run, the run's files under model/ */
	j = h_call(&S, "GET", NATIVE "/resnet/versions/1", vera, NULL, 200);
	assert_string_equal(f_str(j, "state"), "committed");
	assert_int_equal(f_int(j, "source_run"), run_id);
	assert_int_equal(f_int(j, "file_count"), 2);
	json_decref(j);
	j = h_call(&S, "GET", NATIVE "/resnet/versions/1/files", vera, NULL, 200);
	files = json_object_get(j, "items");
	assert_int_equal(json_array_size(files), 2);
	assert_string_equal(f_str(json_array_get(files, 0), "path"), "MLmodel");
	assert_string_equal(f_str(json_array_get(files, 1), "path"), "data/model.pkl");
	json_decref(j);
	j = h_call(&S, "GET", NATIVE "/resnet/versions/1/files/data/model.pkl", vera, NULL, 200);
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/model-versions/1/lineage", vera, NULL, 200);
	assert_int_equal(f_int(json_object_get(j, "run"), "id"), run_id);
	json_decref(j);
	/* the run's artifact URI as mlflow.register_model sends it: runs:/ resolved to the proxy's */
	j = create_version(bob, "resnet", h_fmt("mlflow-artifacts:/1/%s/artifacts/model", run_uuid), run_uuid);
	assert_string_equal(f_str(j, "version"), "2");
	json_decref(j);
	/* no run_id: the one in runs:/ is taken; the whole artifact tree */
	j = inner(h_call(&S, "POST", MV "/create", bob,
			 h_fmt("{\"name\": \"resnet\", \"source\": \"runs:/%s\"}", run_uuid), 200),
		  "model_version");
	assert_string_equal(f_str(j, "run_id"), run_uuid);
	json_decref(j);
	j = h_call(&S, "GET", NATIVE "/resnet/versions/3", vera, NULL, 200);
	assert_int_equal(f_int(j, "file_count"), 3);
	json_decref(j);
	/* a source elsewhere: kept, no files, READY; its download URI is that source */
	j = inner(
		h_call(&S, "POST", MV "/create", bob, "{\"name\": \"resnet\", \"source\": \"s3://bucket/model\"}", 200),
		"model_version");
	assert_string_equal(f_str(j, "version"), "4");
	assert_null(json_object_get(j, "run_id"));
	json_decref(j);
	j = h_call(&S, "GET", MV "/get-download-uri?name=resnet&version=4", vera, NULL, 200);
	assert_string_equal(f_str(j, "artifact_uri"), "s3://bucket/model");
	json_decref(j);
	j = h_call(&S, "GET", MV "/get-download-uri?name=resnet&version=1", vera, NULL, 200);
	assert_string_equal(f_str(j, "artifact_uri"), "mlflow-artifacts:/registry/1"); /* the version's row id */
	json_decref(j);
}

static void test_version_create_refused(void **state)
{
	(void)state;
	/* the run must be in the model's project: both named */
	BAD("POST", MV "/create", alice,
	    h_fmt("{\"name\": \"resnet\", \"source\": \"runs:/%s/model\", \"run_id\": \"%s\"}", other_uuid, other_uuid),
	    "run_id");
	BAD("POST", MV "/create", alice, h_fmt("{\"name\": \"resnet\", \"source\": \"runs:/%s/model\"}", other_uuid),
	    "project 'other', but registered model 'resnet' is in project 'vision'");
	/* a run the caller cannot see does not exist; a source and a run_id that disagree */
	BAD("POST", MV "/create", bob, h_fmt("{\"name\": \"resnet\", \"source\": \"runs:/%s/model\"}", other_uuid),
	    "not found");
	BAD("POST", MV "/create", bob,
	    "{\"name\": \"resnet\", \"source\": \"x\", \"run_id\": \"00000000000000000000000000000000\"}", "'run_id'");
	BAD("POST", MV "/create", bob,
	    h_fmt("{\"name\": \"resnet\", \"source\": \"runs:/%s/model\", \"run_id\": \"%s\"}", run_uuid, other_uuid),
	    "'source'");
	BAD("POST", MV "/create", bob, h_fmt("{\"name\": \"resnet\", \"source\": \"runs:/%s/nothing\"}", run_uuid),
	    "no artifacts under 'nothing'");
	BAD("POST", MV "/create", bob, h_fmt("{\"name\": \"resnet\", \"source\": \"runs:/%s/../x\"}", run_uuid),
	    "'source'");
	BAD("POST", MV "/create", bob,
	    h_fmt("{\"name\": \"resnet\", \"source\": \"mlflow-artifacts:/999/%s/artifacts/model\"}", run_uuid),
	    "'source'");
	BAD("POST", MV "/create", bob, "{\"name\": \"resnet\"}", "'source'");
	BAD("POST", MV "/create", bob, "{\"name\": \"resnet\", \"source\": \"\"}", "'source'");
	BAD("POST", MV "/create", bob, "{\"name\": \"resnet\", \"source\": \"s3://b\", \"tags\": [{\"key\": 1}]}",
	    "'tags[0].key'");
	BAD("POST", MV "/create", bob, "{\"name\": \"resnet\", \"source\": \"s3://b\", \"run_link\": 5}", "'run_link'");
	BAD("POST", MV "/create", bob, "{\"source\": \"s3://b\"}", "'name'");
	/* access */
	DENIED("POST", MV "/create", vera, "{\"name\": \"resnet\", \"source\": \"s3://b\"}", "viewer");
	ABSENT("POST", MV "/create", eve, "{\"name\": \"resnet\", \"source\": \"s3://b\"}");
	ABSENT("POST", MV "/create", bob, "{\"name\": \"nope\", \"source\": \"s3://b\"}");
}

static void test_version_read_write(void **state)
{
	json_t *j;
	(void)state;

	j = inner(h_call(&S, "GET", MV "/get?name=resnet&version=1", vera, NULL, 200), "model_version");
	assert_string_equal(f_str(j, "version"), "1");
	json_decref(j);
	ABSENT("GET", MV "/get?name=resnet&version=99", vera, NULL);
	ABSENT("GET", MV "/get?name=resnet&version=1", eve, NULL);
	BAD("GET", MV "/get?name=resnet&version=abc", vera, NULL, "'version'");
	BAD("GET", MV "/get?name=resnet", vera, NULL, "'version'");
	j = inner(h_call(&S, "PATCH", MV "/update", bob,
			 "{\"name\": \"resnet\", \"version\": \"1\", \"description\": \"d1\"}", 200),
		  "model_version");
	assert_string_equal(f_str(j, "description"), "d1");
	json_decref(j);
	BAD("PATCH", MV "/update", bob, "{\"name\": \"resnet\", \"version\": \"one\", \"description\": \"d\"}",
	    "'version'");
	BAD("PATCH", MV "/update", bob, "{\"name\": \"resnet\", \"version\": \"1\", \"description\": []}",
	    "'description'");
	DENIED("PATCH", MV "/update", vera, "{\"name\": \"resnet\", \"version\": \"1\", \"description\": \"x\"}",
	       "viewer");
	ABSENT("PATCH", MV "/update", eve, "{\"name\": \"resnet\", \"version\": \"1\", \"description\": \"x\"}");
	json_decref(h_call(&S, "POST", MV "/set-tag", bob,
			   "{\"name\": \"resnet\", \"version\": \"1\", \"key\": \"acc\", \"value\": \"0.91\"}", 200));
	json_decref(h_call(&S, "DELETE", MV "/delete-tag", bob,
			   "{\"name\": \"resnet\", \"version\": \"1\", \"key\": \"k\"}", 200));
	j = inner(h_call(&S, "GET", MV "/get?name=resnet&version=1", vera, NULL, 200), "model_version");
	assert_string_equal(tags_text(json_object_get(j, "tags")), "acc=0.91");
	json_decref(j);
	BAD("POST", MV "/set-tag", bob, "{\"name\": \"resnet\", \"version\": \"1\", \"key\": \"acc\"}", "'value'");
	BAD("DELETE", MV "/delete-tag", bob, "{\"name\": \"resnet\", \"version\": \"1\"}", "'key'");
	DENIED("POST", MV "/set-tag", vera,
	       "{\"name\": \"resnet\", \"version\": \"1\", \"key\": \"a\", \"value\": \"b\"}", "viewer");
	DENIED("DELETE", MV "/delete-tag", vera, "{\"name\": \"resnet\", \"version\": \"1\", \"key\": \"acc\"}",
	       "viewer");
	ABSENT("DELETE", MV "/delete-tag", eve, "{\"name\": \"resnet\", \"version\": \"1\", \"key\": \"acc\"}");
	ABSENT("GET", MV "/get-download-uri?name=resnet&version=1", eve, NULL);
	BAD("GET", MV "/get-download-uri?name=resnet", vera, NULL, "'version'");
}

/* The aliases of a version read through MLflow, as "a,b". */
static const char *aliases_of(const char *version)
{
	static char out[256];
	json_t *j = inner(h_call(&S, "GET", h_fmt(MV "/get?name=resnet&version=%s", version), vera, NULL, 200),
			  "model_version");
	size_t i, o = 0;
	json_t *a;

	out[0] = 0;
	json_array_foreach(json_object_get(j, "aliases"), i, a)
	{
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? "," : "", json_string_value(a));
	}
	json_decref(j);
	return out;
}

static void test_aliases(void **state)
{
	json_t *j;
	(void)state;

	json_decref(h_call(&S, "POST", RM "/alias", bob,
			   "{\"name\": \"resnet\", \"alias\": \"champion\", \"version\": \"1\"}", 200));
	j = inner(h_call(&S, "GET", RM "/alias?name=resnet&alias=champion", vera, NULL, 200), "model_version");
	assert_string_equal(f_str(j, "version"), "1");
	json_decref(j);
	assert_string_equal(aliases_of("1"), "champion");
	/* Atrium's aliases: the native API sees it, and moves it */
	j = h_call(&S, "PUT", NATIVE "/resnet/aliases/champion", bob, "{\"version\": 2}", 200);
	json_decref(j);
	assert_string_equal(aliases_of("2"), "champion");
	j = inner(h_call(&S, "GET", RM "/get?name=resnet", vera, NULL, 200), "registered_model");
	assert_string_equal(f_str(json_array_get(json_object_get(j, "aliases"), 0), "alias"), "champion");
	assert_string_equal(f_str(json_array_get(json_object_get(j, "aliases"), 0), "version"), "2");
	json_decref(j);
	/* production: an editor is told to ask for a promotion; an owner moves it, audited */
	DENIED("POST", RM "/alias", bob, "{\"name\": \"resnet\", \"alias\": \"production\", \"version\": \"1\"}",
	       "POST /api/v1/projects/vision/models/resnet/versions/1/promotions");
	json_decref(h_call(&S, "POST", RM "/alias", alice,
			   "{\"name\": \"resnet\", \"alias\": \"production\", \"version\": \"1\"}", 200));
	assert_int_equal(audit_count("mlflow.registered_models.alias.set",
				     "project:vision/model:resnet/version:1/alias:production"),
			 1);
	DENIED("DELETE", RM "/alias", bob, "{\"name\": \"resnet\", \"alias\": \"production\"}", "promotions");
	/* bad input, access */
	BAD("POST", RM "/alias", bob, "{\"name\": \"resnet\", \"alias\": \"Champion\", \"version\": \"1\"}", "'alias'");
	BAD("POST", RM "/alias", bob, "{\"name\": \"resnet\", \"alias\": \"latest\", \"version\": \"1\"}", "'alias'");
	BAD("POST", RM "/alias", bob, "{\"name\": \"resnet\", \"alias\": \"v3\", \"version\": \"1\"}", "'alias'");
	BAD("POST", RM "/alias", bob, "{\"name\": \"resnet\", \"alias\": \"a\", \"version\": \"x\"}", "'version'");
	BAD("POST", RM "/alias", bob, "{\"name\": \"resnet\", \"alias\": \"a\"}", "'version'");
	ABSENT("POST", RM "/alias", bob, "{\"name\": \"resnet\", \"alias\": \"a\", \"version\": \"99\"}");
	ABSENT("GET", RM "/alias?name=resnet&alias=nope", vera, NULL);
	BAD("GET", RM "/alias?name=resnet", vera, NULL, "'alias'");
	DENIED("POST", RM "/alias", vera, "{\"name\": \"resnet\", \"alias\": \"a\", \"version\": \"1\"}", "viewer");
	ABSENT("POST", RM "/alias", eve, "{\"name\": \"resnet\", \"alias\": \"a\", \"version\": \"1\"}");
	ABSENT("GET", RM "/alias?name=resnet&alias=champion", eve, NULL);
	/* delete: an unset alias is nothing to do (as MLflow) */
	json_decref(h_call(&S, "DELETE", RM "/alias", bob, "{\"name\": \"resnet\", \"alias\": \"champion\"}", 200));
	json_decref(h_call(&S, "DELETE", RM "/alias", bob, "{\"name\": \"resnet\", \"alias\": \"champion\"}", 200));
	ABSENT("GET", RM "/alias?name=resnet&alias=champion", vera, NULL);
	DENIED("DELETE", RM "/alias", vera, "{\"name\": \"resnet\", \"alias\": \"x\"}", "viewer");
	ABSENT("DELETE", RM "/alias", eve, "{\"name\": \"resnet\", \"alias\": \"x\"}");
	json_decref(h_call(&S, "DELETE", RM "/alias", alice, "{\"name\": \"resnet\", \"alias\": \"production\"}", 200));
}

static const char *stage_of(const char *version)
{
	static char out[32];
	json_t *j = inner(h_call(&S, "GET", h_fmt(MV "/get?name=resnet&version=%s", version), vera, NULL, 200),
			  "model_version");
	snprintf(out, sizeof(out), "%s", f_str(j, "current_stage"));
	json_decref(j);
	return out;
}

#define TRANSITION(token, version, stage, archive)                                                 \
	json_decref(h_call(&S, "POST", MV "/transition-stage", token,                              \
			   h_fmt("{\"name\": \"resnet\", \"version\": \"%s\", \"stage\": \"%s\", " \
				 "\"archive_existing_versions\": %s}",                             \
				 version, stage, archive),                                         \
			   200))

static void test_stages(void **state)
{
	json_t *j;
	(void)state;

	TRANSITION(bob, "1", "Staging", "false");
	assert_string_equal(stage_of("1"), "Staging");
	assert_string_equal(aliases_of("1"), "staging"); /* the stage is the alias */
	TRANSITION(bob, "2", "staging", "false");	 /* (any case) the alias moves: 1 leaves the stage */
	assert_string_equal(stage_of("1"), "None");
	assert_string_equal(stage_of("2"), "Staging");
	TRANSITION(bob, "1", "Staging", "true"); /* archive_existing_versions: 2 is archived */
	assert_string_equal(stage_of("2"), "Archived");
	/* Production: editors are told to ask; owners move it (staging leaves the version) */
	DENIED("POST", MV "/transition-stage", bob,
	       "{\"name\": \"resnet\", \"version\": \"1\", \"stage\": \"Production\", \"archive_existing_versions\": "
	       "false}",
	       "POST /api/v1/projects/vision/models/resnet/versions/1/promotions");
	TRANSITION(alice, "1", "Production", "false");
	assert_string_equal(stage_of("1"), "Production");
	assert_string_equal(aliases_of("1"), "production");
	DENIED("POST", MV "/transition-stage", bob,
	       "{\"name\": \"resnet\", \"version\": \"1\", \"stage\": \"Archived\", \"archive_existing_versions\": "
	       "false}",
	       "an owner");
	/* the newest version of each stage */
	j = h_call(&S, "POST", RM "/get-latest-versions", vera, "{\"name\": \"resnet\", \"stages\": [\"Production\"]}",
		   200);
	assert_int_equal(json_array_size(json_object_get(j, "model_versions")), 1);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "model_versions"), 0), "version"), "1");
	json_decref(j);
	j = h_call(&S, "GET", RM "/get-latest-versions?name=resnet&stages=None&stages=Archived", vera, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "model_versions")), 2); /* 4 (None), 2 (Archived) */
	assert_string_equal(f_str(json_array_get(json_object_get(j, "model_versions"), 0), "version"), "4");
	assert_string_equal(f_str(json_array_get(json_object_get(j, "model_versions"), 1), "current_stage"),
			    "Archived");
	json_decref(j);
	j = inner(h_call(&S, "GET", RM "/get?name=resnet", vera, NULL, 200), "registered_model");
	assert_int_equal(json_array_size(json_object_get(j, "latest_versions")), 3); /* None, Production, Archived */
	json_decref(j);
	BAD("POST", RM "/get-latest-versions", vera, "{\"name\": \"resnet\", \"stages\": [\"Prod\"]}", "'stages'");
	BAD("GET", RM "/get-latest-versions?name=resnet&stages=Prod", vera, NULL, "'stages'");
	ABSENT("POST", RM "/get-latest-versions", eve, "{\"name\": \"resnet\"}");
	/* bad input, access */
	BAD("POST", MV "/transition-stage", bob, "{\"name\": \"resnet\", \"version\": \"2\", \"stage\": \"Gone\"}",
	    "'stage'");
	BAD("POST", MV "/transition-stage", bob,
	    "{\"name\": \"resnet\", \"version\": \"2\", \"stage\": \"None\", \"archive_existing_versions\": true}",
	    "'archive_existing_versions'");
	BAD("POST", MV "/transition-stage", bob, "{\"name\": \"resnet\", \"version\": \"2\"}", "'stage'");
	DENIED("POST", MV "/transition-stage", vera, "{\"name\": \"resnet\", \"version\": \"2\", \"stage\": \"None\"}",
	       "viewer");
	ABSENT("POST", MV "/transition-stage", eve, "{\"name\": \"resnet\", \"version\": \"2\", \"stage\": \"None\"}");
	TRANSITION(bob, "2", "None", "false");
	assert_string_equal(stage_of("2"), "None");
	assert_int_equal(audit_count("mlflow.model_versions.transition_stage", "version:1/stage:Production"), 1);
}

/* The versions a search answers, as "name:version,..." */
static const char *search_versions(const char *token, const char *query, const char **next)
{
	static char out[1024], token_buf[256];
	json_t *j = h_call(&S, "GET", h_fmt(MV "/search?%s", query), token, NULL, 200), *v;
	size_t i, o = 0;

	out[0] = 0;
	json_array_foreach(json_object_get(j, "model_versions"), i, v)
	{
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s:%s", i ? "," : "", f_str(v, "name"),
				      f_str(v, "version"));
	}
	snprintf(token_buf, sizeof(token_buf), "%s", f_str(j, "next_page_token"));
	if (next)
		*next = token_buf;
	json_decref(j);
	return out;
}

static void test_search(void **state)
{
	const char *next;
	(void)state;

	assert_string_equal(
		search_versions(vera, "filter=name%3D%27resnet%27&order_by=version_number+ASC&max_results=10000", NULL),
		"resnet:1,resnet:2,resnet:3,resnet:4");
	assert_string_equal(search_versions(vera,
					    h_fmt("filter=run_id+%%3D+%%27%s%%27+AND+version_number+%%3E%%3D+2"
						  "&order_by=version_number+DESC",
						  run_uuid),
					    NULL),
			    "resnet:3,resnet:2");
	assert_string_equal(
		search_versions(
			vera, h_fmt("filter=run_id+IN+(%%27%s%%27,%%27x%%27)+AND+tags.acc+%%3D+%%270.91%%27", run_uuid),
			NULL),
		"resnet:1");
	assert_string_equal(search_versions(vera, "filter=source_path+LIKE+%27s3%3A%25%27", NULL), "resnet:4");
	assert_string_equal(search_versions(vera, "filter=name+ILIKE+%27RES%25%27+AND+version_number+%3C+2", NULL),
			    "resnet:1");
	assert_string_equal(search_versions(vera, "filter=name+LIKE+%27RES%25%27", NULL), ""); /* LIKE: case counts */
	assert_string_equal(search_versions(eve, "filter=name%3D%27resnet%27", NULL), ""); /* nothing eve may read */
	/* pages: max_results and the token */
	assert_string_equal(
		search_versions(vera, "filter=name%3D%27resnet%27&order_by=version_number+ASC&max_results=3", &next),
		"resnet:1,resnet:2,resnet:3");
	assert_true(*next);
	assert_string_equal(search_versions(vera,
					    h_fmt("filter=name%%3D%%27resnet%%27&order_by=version_number+ASC"
						  "&max_results=3&page_token=%s",
						  next),
					    &next),
			    "resnet:4");
	assert_false(*next);
	/* bad input names the parameter */
	BAD("GET", MV "/search?filter=name+%3D", vera, NULL, "'filter'");
	BAD("GET", MV "/search?filter=color+%3D+%27red%27", vera, NULL, "Invalid attribute key 'color'");
	BAD("GET", MV "/search?filter=name+%3D+%27a%27+OR+name+%3D+%27b%27", vera, NULL, "'filter'");
	BAD("GET", MV "/search?filter=version_number+%3D+%27x%27", vera, NULL, "'filter'");
	BAD("GET", MV "/search?filter=name+%3D+%27unclosed", vera, NULL, "'filter'");
	BAD("GET", MV "/search?order_by=color", vera, NULL, "'order_by'");
	BAD("GET", MV "/search?order_by=name&order_by=name+DESC", vera, NULL, "duplicate");
	BAD("GET", MV "/search?page_token=garbage", vera, NULL, "'page_token'");
	BAD("GET", MV "/search?max_results=0", vera, NULL, "'max_results'");
	BAD("GET", RM "/search?max_results=1001", vera, NULL, "'max_results'");
	BAD("GET", RM "/search?filter=run_id+%3D+%27x%27", vera, NULL, "Invalid attribute key 'run_id'");
	BAD("GET", RM "/search?order_by=version_number", vera, NULL, "'order_by'");
	mlf_err("GET", MV "/search", NULL, NULL, 401, "UNAUTHENTICATED", NULL);
}

static void test_model_search(void **state)
{
	json_t *j, *items;
	(void)state;

	/* alice reads vision and other: tags, LIKE, order_by name DESC, pages of 2 */
	json_decref(h_call(&S, "POST", RM "/set-tag", alice,
			   "{\"name\": \"other/ranker\", \"key\": \"team\", \"value\": \"search\"}", 200));
	j = h_call(&S, "GET", RM "/search?filter=tags.team+%3D+%27search%27", alice, NULL, 200);
	items = json_object_get(j, "registered_models");
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(f_str(json_array_get(items, 0), "name"), "ranker");
	json_decref(j);
	j = h_call(&S, "GET", RM "/search?filter=tags.%60team%60+LIKE+%27sea%25%27+AND+name+%3D+%27other%2Franker%27",
		   alice, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "registered_models")), 1);
	json_decref(j);
	j = h_call(&S, "GET", RM "/search?order_by=name+DESC&max_results=2", alice, NULL, 200);
	items = json_object_get(j, "registered_models");
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(f_str(json_array_get(items, 0), "name"), "tagged");
	assert_string_equal(f_str(json_array_get(items, 1), "name"), "resnet");
	assert_non_null(json_object_get(j, "next_page_token"));
	json_decref(j);
	j = h_call(&S, "GET", RM "/search?order_by=last_updated_timestamp+DESC&order_by=name+ASC", alice, NULL, 200);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "registered_models"), 0), "name"), "ranker");
	json_decref(j);
}

static void test_ambiguous_names(void **state)
{
	json_t *j, *items, *m;
	size_t i;
	(void)state;

	/* "shared" in vision and in other: alice reads both, so she names them "project/model" and
	 * sees them so; bob reads vision only, for whom "shared" is one model */
	json_decref(h_call(&S, "POST", RM "/create", alice, "{\"name\": \"vision/shared\"}", 200));
	json_decref(h_call(&S, "POST", RM "/create", alice, "{\"name\": \"other/shared\"}", 200));
	mlf_err("POST", RM "/create", alice, "{\"name\": \"shared\"}", 409, "RESOURCE_ALREADY_EXISTS", NULL);
	BAD("GET", RM "/get?name=shared", alice, NULL, "'<project>/shared'");
	j = inner(h_call(&S, "GET", RM "/get?name=other%2Fshared", alice, NULL, 200), "registered_model");
	assert_string_equal(f_str(j, "name"), "other/shared");
	json_decref(j);
	j = inner(h_call(&S, "GET", RM "/get?name=shared", bob, NULL, 200), "registered_model");
	assert_string_equal(f_str(j, "name"), "shared");
	json_decref(j);
	j = h_call(&S, "GET", RM "/search?filter=name+%3D+%27shared%27", alice, NULL, 200);
	items = json_object_get(j, "registered_models");
	assert_int_equal(json_array_size(items), 2);
	json_array_foreach(items, i, m)
	{
		assert_non_null(strchr(f_str(m, "name"), '/'));
	}
	json_decref(j);
	j = h_call(&S, "GET", RM "/search?filter=name+%3D+%27vision%2Fshared%27", alice, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "registered_models")), 1);
	json_decref(j);
}

static void test_native_through_mlflow(void **state)
{
	json_t *j;
	(void)state;

	/* a model and versions made with Atrium's API: a committed one is READY, a draft is not */
	json_decref(h_call(&S, "POST", NATIVE, bob, "{\"name\": \"native\"}", 201));
	json_decref(h_call(&S, "POST", NATIVE "/native/versions", bob, h_fmt("{\"source_run\": %lld}", run_id), 201));
	json_decref(f_put(&S, NATIVE "/native/versions/1/files/model.bin", bob, "abc", 3, NULL, 201));
	json_decref(h_call(&S, "POST", NATIVE "/native/versions/1/commit", bob, "{}", 200));
	json_decref(h_call(&S, "POST", NATIVE "/native/versions", bob, "{}", 201));
	j = inner(h_call(&S, "GET", MV "/get?name=native&version=1", vera, NULL, 200), "model_version");
	assert_string_equal(f_str(j, "status"), "READY");
	assert_string_equal(f_str(j, "run_id"), run_uuid);
	assert_string_equal(f_str(j, "current_stage"), "None");
	json_decref(j);
	j = inner(h_call(&S, "GET", MV "/get?name=native&version=2", vera, NULL, 200), "model_version");
	assert_string_equal(f_str(j, "status"), "PENDING_REGISTRATION");
	json_decref(j);
	/* a draft has no stage to go to, nor an alias */
	STATE("POST", MV "/transition-stage", bob, "{\"name\": \"native\", \"version\": \"2\", \"stage\": \"Staging\"}",
	      "draft");
	STATE("POST", RM "/alias", bob, "{\"name\": \"native\", \"alias\": \"a\", \"version\": \"2\"}", "draft");
	/* a native promotion to production shows as the stage */
	j = h_call(&S, "POST", NATIVE "/native/versions/1/promotions", bob, "{\"alias\": \"production\"}", 201);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", f_int(j, "id")), alice, "{}", 200));
	json_decref(j);
	j = inner(h_call(&S, "GET", MV "/get?name=native&version=1", vera, NULL, 200), "model_version");
	assert_string_equal(f_str(j, "current_stage"), "Production");
	json_decref(j);
}

static void test_job_token(void **state)
{
	char job[128], hash[65];
	json_t *j;
	(void)state;

	/* a job's token (made as the jobs layer does) is an editor of its project, and sees nothing else */
	assert_int_equal(atr_token_new(job, hash), 0);
	f_sql_exec(&S, h_fmt("INSERT INTO api_tokens(kind, user_id, name, token_hash, prefix, project_id, scope_id,"
			     " created_at) SELECT 'job', 2, 'job', '%s', 'atr_', id, 99, 0 FROM projects"
			     " WHERE name = 'vision'",
			     hash));
	json_decref(h_call(&S, "POST", RM "/create", job, "{\"name\": \"from-job\"}", 200));
	json_decref(h_call(&S, "GET", NATIVE "/from-job", vera, NULL, 200));
	/* it registers versions of its declared output model only, from a run it reaches (its own) */
	ABSENT("POST", MV "/create", job,
	       h_fmt("{\"name\": \"from-job\", \"source\": \"runs:/%s/model\", \"run_id\": \"%s\"}", run_uuid,
		     run_uuid));
	f_sql_exec(&S,
		   "INSERT INTO jobs(id, project_id, kind, state, command, outputs, created_at, queued_at,"
		   " updated_at) SELECT 99, id, 'training', 'succeeded', '[\"true\"]', '{\"model\":\"from-job\"}', 0,"
		   " 0, 0 FROM projects WHERE name = 'vision'");
	BAD("POST", MV "/create", job,
	    h_fmt("{\"name\": \"from-job\", \"source\": \"runs:/%s/model\", \"run_id\": \"%s\"}", run_uuid, run_uuid),
	    "not found");
	f_sql_exec(&S, h_fmt("UPDATE runs SET job_id = 99 WHERE uuid = '%s'", run_uuid));
	j = create_version(job, "from-job", h_fmt("runs:/%s/model", run_uuid), run_uuid);
	assert_string_equal(f_str(j, "status"), "READY");
	json_decref(j);
	j = h_call(&S, "GET", NATIVE "/from-job/versions/1", vera, NULL, 200);
	assert_int_equal(f_int(j, "source_job_id"), 99);
	json_decref(j);
	ABSENT("GET", RM "/get?name=ranker", job, NULL);
	BAD("POST", RM "/create", job, "{\"name\": \"other/x\"}", "'other' does not exist");
	/* the project-wide searches are not for job tokens */
	mlf_err("GET", RM "/search?filter=name+%3D+%27ranker%27", job, NULL, 403, "PERMISSION_DENIED", NULL);
	json_decref(h_call(&S, "DELETE", RM "/delete", job, "{\"name\": \"from-job\"}", 200));
}

static void test_delete_rules(void **state)
{
	(void)state;
	/* an alias keeps its version and its model */
	json_decref(h_call(&S, "POST", RM "/alias", bob,
			   "{\"name\": \"resnet\", \"alias\": \"keep\", \"version\": \"3\"}", 200));
	STATE("DELETE", MV "/delete", bob, "{\"name\": \"resnet\", \"version\": \"3\"}", "alias 'keep'");
	STATE("DELETE", RM "/delete", bob, "{\"name\": \"resnet\"}", "alias");
	DENIED("DELETE", MV "/delete", vera, "{\"name\": \"resnet\", \"version\": \"4\"}", "viewer");
	ABSENT("DELETE", MV "/delete", eve, "{\"name\": \"resnet\", \"version\": \"4\"}");
	ABSENT("DELETE", MV "/delete", bob, "{\"name\": \"resnet\", \"version\": \"99\"}");
	BAD("DELETE", MV "/delete", bob, "{\"name\": \"resnet\"}", "'version'");
	json_decref(h_call(&S, "DELETE", MV "/delete", bob, "{\"name\": \"resnet\", \"version\": \"4\"}", 200));
	ABSENT("GET", MV "/get?name=resnet&version=4", vera, NULL);
	/* a deployment made of a model keeps it */
	f_sql_exec(&S,
		   "INSERT INTO deployments(project_id, name, model_id, replicas, command, health_path, predict_path,"
		   " timeout_ms, rollout_timeout_s, capture_max_bytes, capture_max_rows, capture_max_age_s, state,"
		   " created_at, updated_at) SELECT project_id, 'web', id, 1, '[\"true\"]', '/h', '/p', 1000, 60,"
		   " 0, 0, 0, 'deploying', 0, 0 FROM models WHERE name = 'renamed'");
	STATE("DELETE", RM "/delete", bob, "{\"name\": \"renamed\"}", "deployment 'web'");
	f_sql_exec(&S, "DELETE FROM deployments WHERE name = 'web'");
	/* a model without either goes, with its versions and their files rows */
	json_decref(h_call(&S, "POST", RM "/create", bob, "{\"name\": \"vision/gone\"}", 200));
	json_decref(create_version(bob, "gone", h_fmt("runs:/%s/model", run_uuid), run_uuid));
	DENIED("DELETE", RM "/delete", vera, "{\"name\": \"gone\"}", "viewer");
	ABSENT("DELETE", RM "/delete", eve, "{\"name\": \"gone\"}");
	json_decref(h_call(&S, "DELETE", RM "/delete", bob, "{\"name\": \"gone\"}", 200));
	ABSENT("GET", RM "/get?name=gone", bob, NULL);
	h_expect_error(&S, "GET", NATIVE "/gone", bob, NULL, 404, NULL);
	assert_int_equal(f_sql_int(&S, "SELECT count(*) FROM model_versions v LEFT JOIN models m ON m.id = v.model_id"
				       " WHERE m.id IS NULL"),
			 0);
	assert_int_equal(f_sql_int(&S, "SELECT count(*) FROM files WHERE owner_kind = 'model_version' AND owner_id NOT"
				       " IN (SELECT id FROM model_versions)"),
			 0);
	json_decref(h_call(&S, "DELETE", RM "/delete", bob, "{\"name\": \"renamed\"}", 200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_where),
		cmocka_unit_test(test_create_bad_input),
		cmocka_unit_test(test_models_read_write),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_version_create),
		cmocka_unit_test(test_version_create_refused),
		cmocka_unit_test(test_version_read_write),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_stages),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_model_search),
		cmocka_unit_test(test_ambiguous_names),
		cmocka_unit_test(test_native_through_mlflow),
		cmocka_unit_test(test_job_token),
		cmocka_unit_test(test_delete_rules),
	};
	static const char *const names[4] = { "alice", "bob", "vera", "eve" };
	int rc;

	memset(&S, 0, sizeof(S));
	h_server_start(&S, NULL);
	f_people(&S, "vision", names, people);
	f_project(&S, alice, "other", "private");
	run_id = make_run("vision", bob, run_uuid);
	make_run("other", alice, other_uuid);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	return f_finish(&S, rc);
}

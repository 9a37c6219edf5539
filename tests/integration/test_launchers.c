/*
 * test_launchers.c: launchers against the real daemon and a real worker (issue 20): creating
 * one (every bad parameter definition a 400 naming it), versions, running one with values
 * (every bad value a 400 naming the parameter; defaults; dataset and model versions resolved
 * and recorded), substitution that no value can turn into shell code (the job's log shows
 * what its argv received), the launcher role (runs launchers, reads, edits nothing),
 * archiving, and the job recording its launcher, version and values.
 */
#include "fixtures.h"
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L "/api/v1/projects/lab/launchers"

static struct h_server S;
static struct h_worker W;
static char owner[128], editor[128], launcher[128], viewer[128], outsider[128];

static int setup(void **state)
{
	const char *wargs[] = { "--heartbeat", "1", NULL };
	const char *names[4] = { "ed", "la", "vi", "out" };
	(void)state;
	h_server_start(&S, NULL);
	snprintf(owner, sizeof(owner), "%s", h_user(&S, "own", false));
	snprintf(editor, sizeof(editor), "%s", h_user(&S, names[0], false));
	snprintf(launcher, sizeof(launcher), "%s", h_user(&S, names[1], false));
	snprintf(viewer, sizeof(viewer), "%s", h_user(&S, names[2], false));
	snprintf(outsider, sizeof(outsider), "%s", h_user(&S, names[3], false));
	json_decref(h_call(&S, "POST", "/api/v1/projects", owner, "{\"name\":\"lab\"}", 201));
	json_decref(h_call(&S, "PUT", "/api/v1/projects/lab/members/ed", owner, "{\"role\":\"editor\"}", 200));
	json_decref(h_call(&S, "PUT", "/api/v1/projects/lab/members/la", owner, "{\"role\":\"launcher\"}", 200));
	json_decref(h_call(&S, "PUT", "/api/v1/projects/lab/members/vi", owner, "{\"role\":\"viewer\"}", 200));
	/* a dataset with a committed version, a model with one */
	json_decref(h_call(&S, "POST", "/api/v1/projects/lab/datasets", editor, "{\"name\":\"digits\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/lab/datasets/digits/versions", editor, "{}", 201));
	json_decref(f_put(&S, "/api/v1/projects/lab/datasets/digits/versions/1/files/a.csv", editor, "x\n1\n", 4, NULL,
			  201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/lab/datasets/digits/versions/1/commit", editor, "{}", 200));
	json_decref(h_call(&S, "POST", "/api/v1/projects/lab/datasets", editor, "{\"name\":\"secret\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/lab/models", editor, "{\"name\":\"net\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/lab/models/net/versions", editor, "{}", 201));
	json_decref(f_put(&S, "/api/v1/projects/lab/models/net/versions/1/files/m.bin", editor, "m", 1, NULL, 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/lab/models/net/versions/1/commit", editor, "{}", 200));
	h_worker_start(&W, &S, h_join_token(&S, "w1"), "w1", 1, wargs);
	assert_true(h_worker_wait_registered(&W, 0, 20000));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_worker_stop(&W, SIGTERM);
	h_server_cleanup(&S);
	return 0;
}

static json_t *wait_job(long long id)
{
	for (int i = 0; i < 8; i++) {
		json_t *j =
			h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld/wait?timeout_s=30", id), S.admin_token, NULL, 200);
		const char *st = f_str(j, "state");
		if (!strcmp(st, "succeeded") || !strcmp(st, "failed") || !strcmp(st, "cancelled"))
			return j;
		json_decref(j);
	}
	fail();
	return NULL;
}

static char *logs(long long id)
{
	struct h_resp r;
	char *s;
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", id), S.admin_token, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	s = r.body;
	r.body = NULL;
	h_resp_free(&r);
	return s;
}

static const char *TRAIN =
	"{\"name\":\"train\",\"description\":\"train a digit classifier\",\"spec\":{"
	"\"command\":[\"sh\",\"-c\",\"printf '<%s>' \\\"$@\\\"; echo; echo env=$OPT\",\"x\","
	"\"--lr={{lr}}\",\"{{epochs}}\",\"{{note}}\",\"{{opt}}\",\"{{fast}}\",\"{{data}}\",\"{{base}}\"],"
	"\"env\":{\"OPT\":\"{{opt}}-{{note}}\"}},"
	"\"parameters\":["
	"{\"name\":\"lr\",\"type\":\"float\",\"label\":\"Learning rate\",\"help\":\"step size\",\"default\":0.01,"
	"\"min\":0,\"max\":1},"
	"{\"name\":\"epochs\",\"type\":\"integer\",\"default\":3,\"min\":1,\"max\":100},"
	"{\"name\":\"note\",\"type\":\"string\",\"default\":\"hi\",\"max_length\":64},"
	"{\"name\":\"opt\",\"type\":\"choice\",\"choices\":[\"sgd\",\"adam\"],\"default\":\"sgd\"},"
	"{\"name\":\"fast\",\"type\":\"boolean\",\"default\":false},"
	"{\"name\":\"data\",\"type\":\"dataset_version\",\"dataset\":\"digits\",\"default\":\"latest\"},"
	"{\"name\":\"base\",\"type\":\"model_version\",\"default\":\"net:1\"}]}";

static void test_create_and_read(void **state)
{
	json_t *j;
	(void)state;
	j = h_call(&S, "POST", L, editor, TRAIN, 201);
	assert_string_equal(f_str(j, "name"), "train");
	assert_int_equal(f_int(j, "version"), 1);
	assert_int_equal(json_array_size(json_object_get(j, "parameters")), 7);
	json_decref(j);
	h_expect_error(&S, "POST", L, editor, TRAIN, 409, "name");
	/* who may create: editors; launchers, viewers 403; outsiders 404 */
	h_expect_error(&S, "POST", L, launcher, TRAIN, 403, NULL);
	h_expect_error(&S, "POST", L, viewer, TRAIN, 403, NULL);
	h_expect_error(&S, "POST", L, outsider, TRAIN, 404, NULL);
	/* who may read: every member */
	j = h_call(&S, "GET", L, viewer, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	json_decref(h_call(&S, "GET", L "/train", launcher, NULL, 200));
	h_expect_error(&S, "GET", L "/train", outsider, NULL, 404, NULL);
	h_expect_error(&S, "GET", L "/nope", viewer, NULL, 404, NULL);
}

static void test_bad_definitions(void **state)
{
	const char *spec = "\"spec\":{\"command\":[\"echo\",\"{{a}}\"]}";
	(void)state;
	h_expect_error(&S, "POST", L, editor, "{\"name\":\"b\"}", 400, "spec");
	h_expect_error(&S, "POST", L, editor, "{\"name\":\"B!\",\"spec\":{\"command\":\"true\"}}", 400, "name");
	h_expect_error(&S, "POST", L, editor, "{\"name\":\"b\",\"spec\":{\"command\":7}}", 400, "spec.command");
	h_expect_error(&S, "POST", L, editor, "{\"name\":\"b\",\"spec\":{\"command\":\"echo {{zz}}\"}}", 400,
		       "spec.command");
	h_expect_error(&S, "POST", L, editor,
		       h_fmt("{\"name\":\"b\",%s,\"parameters\":[{\"name\":\"a\",\"type\":\"nope\"}]}", spec), 400,
		       "parameters[0].type");
	h_expect_error(&S, "POST", L, editor,
		       h_fmt("{\"name\":\"b\",%s,\"parameters\":[{\"name\":\"A b\",\"type\":\"string\"}]}", spec), 400,
		       "parameters[0].name");
	h_expect_error(&S, "POST", L, editor,
		       h_fmt("{\"name\":\"b\",%s,\"parameters\":[{\"name\":\"a\",\"type\":\"integer\",\"default\":5,"
			     "\"max\":3}]}",
			     spec),
		       400, "parameters[0].default");
	h_expect_error(&S, "POST", L, editor,
		       h_fmt("{\"name\":\"b\",%s,\"parameters\":[{\"name\":\"a\",\"type\":\"integer\",\"min\":5,"
			     "\"max\":3}]}",
			     spec),
		       400, "parameters[0].max");
	h_expect_error(&S, "POST", L, editor,
		       h_fmt("{\"name\":\"b\",%s,\"parameters\":[{\"name\":\"a\",\"type\":\"choice\"}]}", spec), 400,
		       "parameters[0].choices");
	h_expect_error(&S, "POST", L, editor,
		       h_fmt("{\"name\":\"b\",%s,\"parameters\":[{\"name\":\"a\",\"type\":\"string\"},"
			     "{\"name\":\"a\",\"type\":\"string\"}]}",
			     spec),
		       400, "parameters[1].name");
	h_expect_error(
		&S, "POST", L, editor,
		h_fmt("{\"name\":\"b\",%s,\"parameters\":[{\"name\":\"a\",\"type\":\"string\",\"min\":1}]}", spec), 400,
		"parameters[0].min");
	h_expect_error(
		&S, "POST", L, editor,
		h_fmt("{\"name\":\"b\",%s,\"parameters\":[{\"name\":\"a\",\"type\":\"boolean\",\"x\":1}]}", spec), 400,
		"parameters[0].x");
	h_expect_error(&S, "POST", L, editor, "not json", 400, NULL);
}

static void test_run_values(void **state)
{
	const char *R = L "/train/runs";
	(void)state;
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"lr\":2}}", 400, "values.lr");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"lr\":\"0.1\"}}", 400, "values.lr");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"epochs\":1.5}}", 400, "values.epochs");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"epochs\":0}}", 400, "values.epochs");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"opt\":\"rmsprop\"}}", 400, "values.opt");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"fast\":\"yes\"}}", 400, "values.fast");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"note\":\"a\\nb\"}}", 400, "values.note");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"data\":\"9\"}}", 400, "values.data");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"data\":\"other:1\"}}", 400, "values.data");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"base\":\"net:7\"}}", 400, "values.base");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"base\":\"nope:1\"}}", 400, "values.base");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":{\"zz\":1}}", 400, "values.zz");
	h_expect_error(&S, "POST", R, launcher, "{\"values\":[]}", 400, "values");
	h_expect_error(&S, "POST", R, launcher, "{\"version\":9}", 400, "version");
	h_expect_error(&S, "POST", R, launcher, "{\"other\":1}", 400, "other");
	/* who may run: launchers, editors, owners; viewers 403, outsiders 404 */
	h_expect_error(&S, "POST", R, viewer, "{}", 403, NULL);
	h_expect_error(&S, "POST", R, outsider, "{}", 404, NULL);
}

static void test_run(void **state)
{
	json_t *j, *job, *run;
	long long id, run_id;
	char *log;
	(void)state;
	/* a value that would be shell code anywhere else reaches argv as one word */
	j = h_call(
		&S, "POST", L "/train/runs", launcher,
		"{\"values\":{\"lr\":0.5,\"note\":\"x; touch /tmp/pwned $(id) 'q'\",\"opt\":\"adam\",\"fast\":true}}",
		201);
	id = f_int(j, "job_id");
	run_id = f_int(j, "run_id");
	assert_true(id > 0 && run_id > 0);
	assert_int_equal(f_int(j, "version"), 1);
	assert_string_equal(f_str(json_object_get(j, "values"), "data"), "digits:1");
	assert_string_equal(f_str(json_object_get(j, "values"), "base"), "net:1");
	assert_int_equal(f_int(json_object_get(j, "values"), "epochs"), 3);
	json_decref(j);
	job = wait_job(id);
	assert_string_equal(f_str(job, "state"), "succeeded");
	json_decref(job);
	job = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", id), launcher, NULL, 200);
	assert_string_equal(f_str(json_object_get(job, "launcher"), "name"), "train");
	assert_int_equal(f_int(json_object_get(job, "launcher"), "version"), 1);
	json_decref(job);
	log = logs(id);
	assert_non_null(strstr(log, "<--lr=0.5><3><x; touch /tmp/pwned $(id) 'q'><adam><true><digits:1><net:1>"));
	assert_non_null(strstr(log, "env=adam-x; touch /tmp/pwned $(id) 'q'"));
	free(log);
	/* the run records the values and the launcher */
	run = h_call(&S, "GET", h_fmt("/api/v1/runs/%lld", run_id), launcher, NULL, 200);
	assert_string_equal(f_str(json_object_get(run, "params"), "lr"), "0.5");
	assert_string_equal(f_str(json_object_get(run, "params"), "opt"), "adam");
	assert_string_equal(f_str(json_object_get(run, "tags"), "launcher"), "train");
	json_decref(run);
	/* the launcher role reads the job and its logs; the launcher's jobs list it */
	json_decref(h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", id), launcher, NULL, 200));
	j = h_call(&S, "GET", L "/train/runs", viewer, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	assert_string_equal(f_str(json_object_get(json_array_get(json_object_get(j, "items"), 0), "values"), "opt"),
			    "adam");
	json_decref(j);
}

/* A string command: each value goes in as one single-quoted shell word. */
static void test_shell_quoting(void **state)
{
	json_t *j, *job;
	long long id;
	char *log;
	(void)state;
	json_decref(h_call(&S, "POST", L, editor,
			   "{\"name\":\"echo\",\"spec\":{\"command\":\"printf '[%s]' {{msg}}; echo\"},"
			   "\"parameters\":[{\"name\":\"msg\",\"type\":\"string\"}]}",
			   201));
	h_expect_error(&S, "POST", L "/echo/runs", launcher, "{}", 400, "values.msg");
	j = h_call(&S, "POST", L "/echo/runs", editor, "{\"values\":{\"msg\":\"it's $(echo owned) `x` ; a\"}}", 201);
	id = f_int(j, "job_id");
	json_decref(j);
	job = wait_job(id);
	assert_string_equal(f_str(job, "state"), "succeeded");
	json_decref(job);
	log = logs(id);
	assert_non_null(strstr(log, "[it's $(echo owned) `x` ; a]"));
	free(log);
}

static void test_versions_and_archive(void **state)
{
	json_t *j;
	(void)state;
	h_expect_error(&S, "PUT", L "/echo", launcher, "{\"spec\":{\"command\":\"true\"}}", 403, NULL);
	h_expect_error(&S, "PUT", L "/echo", editor, "{\"spec\":{\"command\":\"echo {{nope}}\"}}", 400, "spec.command");
	j = h_call(&S, "PUT", L "/echo", editor,
		   "{\"description\":\"v2\",\"spec\":{\"command\":\"echo {{msg}}\"},"
		   "\"parameters\":[{\"name\":\"msg\",\"type\":\"string\",\"default\":\"two\"}]}",
		   200);
	assert_int_equal(f_int(j, "version"), 2);
	json_decref(j);
	j = h_call(&S, "GET", L "/echo/versions", viewer, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	assert_int_equal(f_int(json_array_get(json_object_get(j, "items"), 0), "version"), 2);
	json_decref(j);
	/* version 1 still runs when asked for (it has no default: 400) */
	h_expect_error(&S, "POST", L "/echo/runs", launcher, "{\"version\":1}", 400, "values.msg");
	j = h_call(&S, "POST", L "/echo/runs", launcher, "{}", 201);
	assert_int_equal(f_int(j, "version"), 2);
	json_decref(wait_job(f_int(j, "job_id")));
	json_decref(j);
	/* archive: editors; then it runs no more and leaves the list */
	h_expect_error(&S, "DELETE", L "/echo", launcher, NULL, 403, NULL);
	json_decref(h_call(&S, "DELETE", L "/echo", editor, NULL, 204));
	h_expect_error(&S, "POST", L "/echo/runs", launcher, "{}", 409, NULL);
	h_expect_error(&S, "PUT", L "/echo", editor, "{\"spec\":{\"command\":\"true\"}}", 409, NULL);
	j = h_call(&S, "GET", L, viewer, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	j = h_call(&S, "GET", L "?archived=true", viewer, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	json_decref(j);
	/* restore: editors; it runs again, at its latest version; 409 once it is live */
	h_expect_error(&S, "POST", L "/echo/restore", launcher, "{}", 403, NULL);
	h_expect_error(&S, "POST", L "/echo/restore", outsider, "{}", 404, NULL);
	h_expect_error(&S, "POST", L "/echo/restore", editor, "{\"x\":1}", 400, "x");
	j = h_call(&S, "POST", L "/echo/restore", editor, "{}", 200);
	assert_false(json_is_true(json_object_get(j, "archived")));
	assert_int_equal(f_int(j, "version"), 2);
	json_decref(j);
	h_expect_error(&S, "POST", L "/echo/restore", editor, "{}", 409, NULL);
	j = h_call(&S, "POST", L "/echo/runs", launcher, "{}", 201);
	json_decref(wait_job(f_int(j, "job_id")));
	json_decref(j);
	json_decref(
		h_call(&S, "DELETE", L "/echo", editor, NULL, 204)); /* (archived again, as the tests below expect) */
}

/* The launcher role edits nothing else: no jobs of its own, no datasets, no members. */
static void test_launcher_role(void **state)
{
	(void)state;
	h_expect_error(&S, "POST", "/api/v1/projects/lab/jobs", launcher, "{\"command\":\"true\"}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/lab/datasets", launcher, "{\"name\":\"x\"}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/lab/models", launcher, "{\"name\":\"x\"}", 403, NULL);
	h_expect_error(&S, "PUT", "/api/v1/projects/lab/members/vi", launcher, "{\"role\":\"editor\"}", 403, NULL);
	json_decref(h_call(&S, "GET", "/api/v1/projects/lab/jobs", launcher, NULL, 200));
	json_decref(h_call(&S, "GET", "/api/v1/projects/lab/datasets", launcher, NULL, 200));
	h_expect_error(&S, "PUT", "/api/v1/projects/lab/members/vi", owner, "{\"role\":\"runner\"}", 400, "role");
}

/* Templates (issue 20): an owner publishes lab (README, launchers, references); anyone signed
 * in finds it in the catalogue and makes a project from it: the structure, never the data. */
static bool has_item(json_t *list, const char *name)
{
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(list, "items"), i, it)
	{
		if (!strcmp(f_str(it, "name"), name))
			return true;
	}
	return false;
}

/*
 * What a template references, a project made from it may read (template_grants): its members
 * read the dataset's and model's versions and files, write nothing (403), and see nothing else
 * of the template's project (404); a job of the new project takes the dataset version as an
 * input (its token downloads the files). Others still get 404.
 */
#define DV "/api/v1/projects/lab/datasets/digits/versions/1"
#define MV "/api/v1/projects/lab/models/net/versions/1"
static void expect_body(const char *path, const char *token, const char *want)
{
	char *body = NULL;
	assert_int_equal(f_send(&S, "GET", path, token, NULL, 0, NULL, &body), 200);
	assert_string_equal(body, want);
	free(body);
}

static void shared_data(bool again)
{
	char nobody[128];
	json_t *j;
	char *log;
	long long id;

	snprintf(nobody, sizeof(nobody), "%s", h_user(&S, again ? "nob2" : "nob", false));
	json_decref(h_call(&S, "GET", "/api/v1/projects/lab/datasets/digits", outsider, NULL, 200));
	json_decref(h_call(&S, "GET", DV "/files", outsider, NULL, 200));
	expect_body(DV "/files/a.csv", outsider, "x\n1\n");
	j = h_call(&S, "GET", MV, outsider, NULL, 200);
	json_decref(h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld", f_int(j, "id")), outsider, NULL, 200));
	json_decref(j);
	expect_body(MV "/files/m.bin", outsider, "m");
	h_expect_error(&S, "POST", "/api/v1/projects/lab/datasets/digits/versions", outsider, "{}", 403, NULL);
	assert_int_equal(f_send(&S, "PUT", DV "/files/b.csv", outsider, "y", 1, NULL, NULL), 403);
	h_expect_error(&S, "PATCH", "/api/v1/projects/lab/models/net", outsider, "{\"description\":\"x\"}", 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/lab/datasets/secret", outsider, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/lab/datasets/nope", outsider, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/lab/launchers/train", outsider, NULL, 404, NULL);
	h_expect_error(&S, "GET", DV "/files", nobody, NULL, 404, NULL);
	h_expect_error(&S, "GET", MV, nobody, NULL, 404, NULL);
	/* a job of lab2 reads the shared version as an input; an unshared one is a 400 */
	h_expect_error(&S, "POST", "/api/v1/projects/lab2/jobs", outsider,
		       "{\"command\":\"true\",\"inputs\":[{\"project\":\"lab\",\"dataset\":\"secret\","
		       "\"version\":1}]}",
		       400, "inputs[0].dataset");
	h_expect_error(&S, "POST", "/api/v1/projects/lab2/jobs", nobody,
		       "{\"command\":\"true\",\"inputs\":[{\"project\":\"lab\",\"dataset\":\"digits\","
		       "\"version\":1}]}",
		       404, NULL);
	j = h_call(&S, "POST", "/api/v1/projects/lab2/jobs", outsider,
		   "{\"command\":\"cat input/digits/a.csv\",\"inputs\":[{\"project\":\"lab\",\"dataset\":\"digits\","
		   "\"version\":1}]}",
		   201);
	id = f_int(j, "id");
	json_decref(j);
	j = wait_job(id);
	assert_string_equal(f_str(j, "state"), "succeeded");
	json_decref(j);
	log = logs(id);
	assert_non_null(strstr(log, "x\n1"));
	free(log);
}

static void test_templates(void **state)
{
	const char *T = "/api/v1/projects/lab/template";
	json_t *j;
	(void)state;
	h_expect_error(&S, "PUT", T, editor, "{}", 403, NULL);
	h_expect_error(&S, "PUT", T, outsider, "{}", 404, NULL);
	h_expect_error(&S, "PUT", T, owner, "{\"datasets\":[\"nope\"]}", 400, "datasets[0]");
	h_expect_error(&S, "PUT", T, owner, "{\"models\":[\"net\",\"zz\"]}", 400, "models[1]");
	h_expect_error(&S, "PUT", T, owner, "{\"readme\":7}", 400, "readme");
	j = h_call(&S, "PUT", T, owner,
		   "{\"readme\":\"# Lab\\nTrain digits. <script>x</script>\",\"datasets\":[\"digits\"],"
		   "\"models\":[\"net\"]}",
		   200);
	assert_true(json_is_true(json_object_get(j, "template")));
	assert_int_equal(json_array_size(json_object_get(j, "launchers")), 1); /* echo is archived */
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "datasets"), 0)), "digits");
	json_decref(j);
	/* the catalogue: every signed-in user sees templates; searchable */
	j = h_call(&S, "GET", "/api/v1/templates", outsider, NULL, 200);
	assert_true(has_item(j, "lab"));
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/templates?q=DIGITS", outsider, NULL, 200);
	assert_true(has_item(j, "lab"));
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/templates?q=zebra", outsider, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	/* the existing search finds it too (its README), for anyone signed in */
	j = h_call(&S, "GET", "/api/v1/search?q=digi&kind=template", outsider, NULL, 200);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "items"), 0), "name"), "lab");
	json_decref(j);
	h_expect_error(&S, "GET", "/api/v1/templates?q=%20", outsider, NULL, 400, "q");
	/* a project from it: README and launchers copied, no data, the origin recorded */
	h_expect_error(&S, "POST", "/api/v1/projects", outsider, "{\"name\":\"x\",\"from_template\":\"nope\"}", 400,
		       "from_template");
	j = h_call(&S, "POST", "/api/v1/projects", outsider, "{\"name\":\"lab2\",\"from_template\":\"lab\"}", 201);
	assert_string_equal(f_str(j, "from_template"), "lab");
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/projects/lab2/launchers/train", outsider, NULL, 200);
	assert_int_equal(f_int(j, "version"), 1);
	assert_int_equal(json_array_size(json_object_get(j, "parameters")), 7);
	assert_int_equal(f_int(j, "job_count"), 0);
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/projects/lab2/datasets", outsider, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/projects/lab2/template", outsider, NULL, 200);
	assert_non_null(strstr(f_str(j, "readme"), "Train digits"));
	assert_false(json_is_true(json_object_get(j, "template")));
	json_decref(j);
	shared_data(false);
	/* featuring: admins only; a featured private project shows to those who may read it */
	h_expect_error(&S, "PUT", "/api/v1/projects/lab2/featured", outsider, "{\"featured\":true}", 403, NULL);
	h_expect_error(&S, "PUT", "/api/v1/projects/lab2/featured", S.admin_token, "{}", 400, "featured");
	json_decref(h_call(&S, "PUT", "/api/v1/projects/lab2/featured", S.admin_token, "{\"featured\":true}", 200));
	j = h_call(&S, "GET", "/api/v1/templates", outsider, NULL, 200);
	assert_true(has_item(j, "lab2"));
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/templates", editor, NULL, 200);
	assert_false(has_item(j, "lab2"));
	json_decref(j);
	/* unpublished: out of the catalogue, no more copies */
	h_expect_error(&S, "DELETE", T, editor, NULL, 403, NULL);
	json_decref(h_call(&S, "DELETE", T, owner, NULL, 204));
	j = h_call(&S, "GET", "/api/v1/templates", outsider, NULL, 200);
	assert_false(has_item(j, "lab"));
	json_decref(j);
	h_expect_error(&S, "POST", "/api/v1/projects", outsider, "{\"name\":\"lab3\",\"from_template\":\"lab\"}", 400,
		       "from_template");
	shared_data(true); /* what lab2 was given when it was made stays */
}

static void test_clean_shutdown(void **state)
{
	(void)state;
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	assert_int_not_equal(h_sh("grep -q 'Sanitizer' %s/server.log", S.dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_read), cmocka_unit_test(test_bad_definitions),
		cmocka_unit_test(test_run_values),	cmocka_unit_test(test_run),
		cmocka_unit_test(test_shell_quoting),	cmocka_unit_test(test_versions_and_archive),
		cmocka_unit_test(test_launcher_role),	cmocka_unit_test(test_templates),
		cmocka_unit_test(test_clean_shutdown),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}

/*
 * test_comphidden.c: a competition's hidden set is ABSENT from every listing a project member
 * who is no organiser can reach (issue 15, "the hidden set stays hidden"): the dataset's
 * version list, its counts and "latest", the project's dataset list, a run's inputs, a model
 * version's lineage, a dataset version's lineage, the jobs that read it (get, logs, lists,
 * search), and a benchmark on it (refused; the organiser's own one absent for the others). Tried by vic (a viewer of the organisers' project AND a
 * participant) and ed (an editor AND a participant); olga (the organiser) sees it all, as the
 * control. The ground truth's labels carry a planted string that no answer to them may hold.
 */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;
static char people[4][128];
static const char *const olga = people[0], *const ed = people[1], *const vic = people[2], *const out = people[3];
static long long job_id, model_version;

#define DS "/api/v1/projects/org/datasets"
#define SD DS "/sealed"
#define LABEL "LBL-q7z9"

/* GET path as token: 200, and never the planted label; the answer (new reference). */
static json_t *seen(const char *token, const char *path)
{
	struct h_resp r;
	json_t *j;

	h_req(&S, "GET", path, token, NULL, NULL, &r);
	if (r.status != 200 || (r.body && strstr(r.body, LABEL)))
		fail_msg("GET %s: %ld %.*s", path, r.status, (int)r.len, r.body);
	j = json_loadb(r.body, r.len, 0, NULL);
	h_resp_free(&r);
	assert_non_null(j);
	return j;
}

static size_t count_items(const char *token, const char *path)
{
	json_t *j = seen(token, path);
	size_t n = json_array_size(json_object_get(j, "items"));

	json_decref(j);
	return n;
}

/* The item of a list whose member key equals v (NULL: none). Borrowed from list. */
static json_t *item_with(json_t *list, const char *key, long long v)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, it) if (f_int(it, key) == v) return it;
	return NULL;
}

static long long int_of(const char *token, const char *path, const char *key)
{
	json_t *j = seen(token, path);
	long long v = json_is_null(json_object_get(j, key)) ? -1 : f_int(j, key);

	json_decref(j);
	return v;
}

/* sealed: version 1 public (the training data), version 2 the hidden set (the newest). */
static void test_setup(void **state)
{
	char truth[2048];
	size_t n = (size_t)snprintf(truth, sizeof(truth), "id,label\n");
	json_t *j;
	(void)state;

	for (int i = 1; i <= 20; i++)
		n += (size_t)snprintf(truth + n, sizeof(truth) - n, "%d,%s-%c\n", i, LABEL, i % 2 ? 'a' : 'b');
	json_decref(h_call(&S, "POST", DS, olga, "{\"name\":\"sealed\"}", 201));
	json_decref(h_call(&S, "POST", SD "/versions", olga, "{}", 201));
	json_decref(f_put(&S, SD "/versions/1/files/train.csv", olga, "id,x\n1,0.5\n", 11, NULL, 201));
	json_decref(h_call(&S, "POST", SD "/versions/1/commit", olga, "{}", 200));
	json_decref(h_call(&S, "POST", SD "/versions", olga, "{}", 201));
	json_decref(f_put(&S, SD "/versions/2/files/truth.csv", olga, truth, n, NULL, 201));
	json_decref(h_call(&S, "POST", SD "/versions/2/commit", olga, "{}", 200));
	json_decref(h_call(
		&S, "POST", "/api/v1/projects/org/competitions", olga,
		"{\"name\":\"sealed\",\"title\":\"Sealed\",\"starts_at\":\"2020-01-01T00:00:00Z\","
		"\"ends_at\":\"2099-01-01T00:00:00Z\",\"training\":{\"dataset\":\"sealed\",\"version\":1},"
		"\"test\":{\"dataset\":\"sealed\",\"version\":2,\"path\":\"truth.csv\"},\"metric\":\"accuracy\"}",
		201));
	json_decref(h_call(&S, "POST", "/api/v1/competitions/sealed/join", vic, "{\"name\":\"vics\"}", 200));
	json_decref(h_call(&S, "POST", "/api/v1/competitions/sealed/join", ed, "{\"name\":\"eds\"}", 200));
	/* an organiser's run read both versions; a model version came from it */
	j = h_call(&S, "POST", "/api/v1/projects/org/runs", olga,
		   "{\"inputs\":[{\"dataset\":\"sealed\",\"version\":1},{\"dataset\":\"sealed\",\"version\":2}]}", 201);
	long long run = f_int(j, "id");
	json_decref(j);
	json_decref(h_call(&S, "POST", "/api/v1/projects/org/models", olga, "{\"name\":\"m\"}", 201));
	j = h_call(&S, "POST", "/api/v1/projects/org/models/m/versions", olga, h_fmt("{\"source_run\":%lld}", run),
		   201);
	model_version = f_int(j, "id");
	json_decref(j);
	/* an organiser's job that read the hidden set (planted: no worker runs here), which wrote a
	 * draft of dataset "out" */
	f_sql_exec(&S, "INSERT INTO jobs(project_id, name, kind, state, command, inputs, created_at, queued_at,"
		       " updated_at) SELECT d.project_id, 'peek-sealed', 'training', 'succeeded', '\"true\"',"
		       " json_array(json_object('dataset', 'sealed', 'version', 2, 'as', 't', 'dataset_version_id',"
		       " v.id)), 1, 1, 1 FROM datasets d JOIN dataset_versions v ON v.dataset_id = d.id"
		       " WHERE d.name = 'sealed' AND v.version = 2");
	job_id = f_sql_int(&S, "SELECT max(id) FROM jobs WHERE name = 'peek-sealed'");
	json_decref(h_call(&S, "POST", DS, olga, "{\"name\":\"written\"}", 201));
	json_decref(h_call(&S, "POST", DS "/written/versions", olga, "{}", 201));
	f_sql_exec(&S, h_fmt("UPDATE dataset_versions SET source_job_id = %lld WHERE dataset_id ="
			     " (SELECT id FROM datasets WHERE name = 'written')",
			     job_id));
}

static void test_dataset_and_versions(void **state)
{
	json_t *j;
	(void)state;

	for (int i = 1; i < 3; i++) { /* ed, vic: the hidden version is not there; a gap in the numbers */
		assert_int_equal(int_of(people[i], SD, "version_count"), 1);
		assert_int_equal(int_of(people[i], SD, "latest_version"), 1);
		assert_int_equal(count_items(people[i], SD "/versions"), 1);
		assert_int_equal(int_of(people[i], SD "/versions/latest", "version"), 1);
		h_expect_error(&S, "GET", SD "/versions/2", people[i], NULL, 404, NULL);
		j = seen(people[i], DS);
		json_t *it = item_with(j, "id", f_sql_int(&S, "SELECT id FROM datasets WHERE name = 'sealed'"));
		assert_non_null(it);
		assert_int_equal(f_int(it, "version_count"), 1);
		assert_int_equal(f_int(it, "latest_version"), 1);
		json_decref(j);
	}
	/* the organiser (the control) */
	assert_int_equal(int_of(olga, SD, "version_count"), 2);
	assert_int_equal(int_of(olga, SD, "latest_version"), 2);
	assert_int_equal(count_items(olga, SD "/versions"), 2);
	assert_int_equal(int_of(olga, SD "/versions/latest", "version"), 2);
	/* bad input stays a 400, an outsider a 404 */
	h_expect_error(&S, "GET", SD "/versions?limit=0", vic, NULL, 400, "limit");
	h_expect_error(&S, "GET", SD "/versions", out, NULL, 404, NULL);
	h_expect_error(&S, "GET", SD "/versions/nope", vic, NULL, 400, "version");
}

static void test_runs_and_lineage(void **state)
{
	long long run = f_sql_int(&S, "SELECT max(id) FROM runs");
	json_t *j;
	(void)state;

	for (int i = 1; i < 3; i++) {
		j = seen(people[i], h_fmt("/api/v1/runs/%lld", run));
		assert_int_equal(json_array_size(json_object_get(j, "inputs")), 1);
		assert_int_equal(f_int(json_array_get(json_object_get(j, "inputs"), 0), "version"), 1);
		json_decref(j);
		j = seen(people[i], h_fmt("/api/v1/model-versions/%lld/lineage", model_version));
		assert_int_equal(json_array_size(json_object_get(j, "datasets")), 1);
		json_decref(j);
		j = seen(people[i], DS "/written/versions/1/lineage");
		assert_int_equal(json_array_size(json_object_get(j, "inputs")), 0);
		assert_true(json_is_null(json_object_get(j, "job"))); /* the job that read it is absent too */
		json_decref(j);
	}
	j = seen(olga, h_fmt("/api/v1/runs/%lld", run));
	assert_int_equal(json_array_size(json_object_get(j, "inputs")), 2);
	json_decref(j);
	j = seen(olga, h_fmt("/api/v1/model-versions/%lld/lineage", model_version));
	assert_int_equal(json_array_size(json_object_get(j, "datasets")), 2);
	json_decref(j);
	j = seen(olga, DS "/written/versions/1/lineage");
	assert_int_equal(json_array_size(json_object_get(j, "inputs")), 1);
	assert_int_equal(f_int(json_object_get(j, "job"), "id"), job_id);
	json_decref(j);
}

static void test_jobs_and_search(void **state)
{
	json_t *j;
	(void)state;

	for (int i = 1; i < 3; i++) {
		h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld", job_id), people[i], NULL, 404, NULL);
		h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", job_id), people[i], NULL, 404, NULL);
		h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/outputs", job_id), people[i], NULL, 404, NULL);
		j = seen(people[i], "/api/v1/projects/org/jobs");
		assert_null(item_with(j, "id", job_id));
		json_decref(j);
		j = seen(people[i], "/api/v1/jobs?project=org");
		assert_null(item_with(j, "id", job_id));
		json_decref(j);
		assert_int_equal(count_items(people[i], "/api/v1/search?q=peek"), 0);
		assert_int_equal(count_items(people[i], "/api/v1/search?q=sealed"), 1); /* the dataset's name only */
	}
	json_decref(seen(olga, h_fmt("/api/v1/jobs/%lld", job_id)));
	j = seen(olga, "/api/v1/projects/org/jobs");
	assert_non_null(item_with(j, "id", job_id));
	json_decref(j);
	assert_int_equal(count_items(olga, "/api/v1/search?q=peek"), 1);
}

static void test_benchmark_refused(void **state)
{
	static const char body[] = "{\"name\":\"b\",\"dataset\":\"sealed\",\"version\":2,\"file\":\"truth.csv\","
				   "\"metrics\":[{\"name\":\"accuracy\"}]}";
	json_t *j;
	(void)state;

	/* a benchmark on the hidden set would score against it without limit: as if it did not exist */
	h_expect_error(&S, "POST", "/api/v1/projects/org/benchmarks", ed, body, 400, "version");
	f_expect_message(&S, "POST", "/api/v1/projects/org/benchmarks", ed, body, 400, "has no version 2");
	/* the organiser's own one on it: absent for the others (its evaluations would show the labels) */
	json_decref(h_call(&S, "POST", "/api/v1/projects/org/benchmarks", olga, body, 201));
	for (int i = 1; i < 3; i++) {
		assert_int_equal(count_items(people[i], "/api/v1/projects/org/benchmarks"), 0);
		h_expect_error(&S, "GET", "/api/v1/projects/org/benchmarks/b", people[i], NULL, 404, NULL);
		h_expect_error(&S, "GET", "/api/v1/projects/org/benchmarks/b/evaluations", people[i], NULL, 404, NULL);
		h_expect_error(&S, "GET", "/api/v1/projects/org/benchmarks/b/leaderboard", people[i], NULL, 404, NULL);
	}
	j = h_call(&S, "GET", "/api/v1/projects/org/benchmarks", olga, NULL, 200); /* (the control) */
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	json_decref(h_call(&S, "GET", "/api/v1/projects/org/benchmarks/b/evaluations", olga, NULL, 200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup),
		cmocka_unit_test(test_dataset_and_versions),
		cmocka_unit_test(test_runs_and_lineage),
		cmocka_unit_test(test_jobs_and_search),
		cmocka_unit_test(test_benchmark_refused),
	};
	static const char *const names[4] = { "olga", "ed", "vic", "out" };

	h_server_start(&S, NULL);
	f_people(&S, "org", names, people);
	return f_finish(&S, cmocka_run_group_tests(tests, NULL, NULL));
}

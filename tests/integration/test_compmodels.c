/*
 * test_compmodels.c: competitions whose submission is a model version, against a real daemon
 * and a real worker. The model runs as a batch job in the competition's project over the
 * hidden inputs (labels stripped) and its predictions are scored on the boards; a failing
 * model fails with a reason that quotes nothing of the inputs; bad bodies name the field; the
 * participant (even an editor of the organisers' project) never reaches the job, its logs, its
 * outputs or the inputs copy; after a daemon restart the submission is followed again.
 */
#include "fixtures.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct h_server S;
static struct h_worker W;
static char people[4][128];
static const char *const olga = people[0], *const ed = people[1], *const vic = people[2], *const out = people[3];
static char pam[128], quinn[128];

#define DS "/api/v1/projects/org/datasets"
#define C "/api/v1/competitions/models"
#define MARK "INPUTMARK-91c2"
#define N_IDS 20

/* The ground truth: x = i/20, label 1 from x >= 0.5; a note column the job sees (an input). */
static char *truth_csv(void)
{
	char *b = malloc(4096);
	size_t n = (size_t)snprintf(b, 4096, "id,x,note,label\n");
	for (int i = 1; i <= N_IDS; i++)
		n += (size_t)snprintf(b + n, 4096 - n, "%d,%.2f,%s,%d\n", i, i / 20.0, MARK, i >= 10);
	return b;
}

/* The right model: 1 from x >= 0.5. It also records what its job could see: its input's
 * header and the status of an attempt to read the ground truth with its own token. */
#define PREDICT                                                                              \
	"head -n 1 \"$1\" > \"$ATRIUM_OUTPUT_DIR/header.txt\"\n"                             \
	"curl -s -o /dev/null -w '%{http_code}' -H \"Authorization: Bearer $ATRIUM_TOKEN\" " \
	"\"$ATRIUM_URL/api/v1/projects/org/datasets/test/versions/1/files/truth.csv\" "      \
	"> \"$ATRIUM_OUTPUT_DIR/truth_status.txt\"\n"                                        \
	"awk -F, 'NR==1{print \"id,prediction\"; next} {print $1\",\"($2>=0.5?1:0)}' \"$1\" > \"$2\"\n"
/* A model that prints its inputs everywhere and fails. */
#define LEAKY_FAIL "cat \"$1\"; cat \"$1\" >&2; exit 3\n"
/* A model whose predictions quote the inputs where the scoring reads ids. */
#define LEAKY_BAD "awk -F, '{print $3\",\"$3}' \"$1\" > \"$2\"\n"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A version of model project/name holding predict (NULL: no file), committed or not. */
static void model_version(const char *token, const char *project, const char *name, const char *predict, bool commit)
{
	const char *md = h_fmt("/api/v1/projects/%s/models/%s", project, name);
	json_t *v = h_call(&S, "POST", h_fmt("%s/versions", md), token, "{}", 201);
	long long n = f_int(v, "version");

	json_decref(v);
	md = h_fmt("/api/v1/projects/%s/models/%s", project, name);
	if (predict)
		json_decref(f_put(&S, h_fmt("%s/versions/%lld/files/predict", md, n), token, predict, strlen(predict),
				  NULL, 201));
	if (commit)
		json_decref(h_call(&S, "POST", h_fmt("%s/versions/%lld/commit", md, n), token, "{}", 200));
}

static void dataset_version(const char *name, const char *path, const char *data)
{
	json_decref(h_call(&S, "POST", DS, olga, h_fmt("{\"name\":\"%s\"}", name), 201));
	json_decref(h_call(&S, "POST", h_fmt(DS "/%s/versions", name), olga, "{}", 201));
	json_decref(f_put(&S, h_fmt(DS "/%s/versions/1/files/%s", name, path), olga, data, strlen(data), NULL, 201));
	json_decref(h_call(&S, "POST", h_fmt(DS "/%s/versions/1/commit", name), olga, "{}", 200));
}

static const char *comp_body(const char *name, const char *kind)
{
	return h_fmt("{\"name\":\"%s\",\"title\":\"Models\",\"starts_at\":\"2020-01-01T00:00:00Z\","
		     "\"ends_at\":\"2099-01-01T00:00:00Z\",\"training\":{\"dataset\":\"train\",\"version\":1},"
		     "\"test\":{\"dataset\":\"test\",\"version\":1,\"path\":\"truth.csv\"},\"metric\":\"accuracy\","
		     "\"daily_limit\":4,\"public_fraction\":0.5,\"precision\":3%s}",
		     name, kind);
}

static int setup(void **state)
{
	const char *wargs[] = { "--heartbeat", "1", NULL };
	char *t = truth_csv();
	(void)state;

	dataset_version("train", "train.csv", "id,x,note,label\n1,0.1,a,0\n2,0.9,b,1\n");
	dataset_version("test", "truth.csv", t);
	free(t);
	f_project(&S, pam, "pamlab", "private");
	json_decref(h_call(&S, "POST", "/api/v1/projects/pamlab/models", pam, "{\"name\":\"clf\"}", 201));
	model_version(pam, "pamlab", "clf", PREDICT, true);    /* 1: right */
	model_version(pam, "pamlab", "clf", LEAKY_FAIL, true); /* 2: fails */
	model_version(pam, "pamlab", "clf", LEAKY_BAD, true);  /* 3: unscorable */
	model_version(pam, "pamlab", "clf", NULL, true);       /* 4: no predict */
	model_version(pam, "pamlab", "clf", PREDICT, false);   /* 5: a draft */
	json_decref(h_call(&S, "POST", "/api/v1/projects/org/models", ed, "{\"name\":\"edm\"}", 201));
	model_version(ed, "org", "edm", PREDICT, true);		    /* 1 */
	model_version(ed, "org", "edm", "sleep 3\n" PREDICT, true); /* 2: slow */
	h_worker_start(&W, &S, h_join_token(&S, "w1"), "w1", 0, wargs);
	assert_true(h_worker_wait_registered(&W, 0, 20000));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(h_worker_stop(&W, SIGTERM), 0);
	return 0;
}

/* The caller's submission id as its team's list shows it. */
static json_t *find_sub(const char *token, long long id)
{
	json_t *j = h_call(&S, "GET", C "/submissions", token, NULL, 200), *it, *found = NULL;
	size_t i;

	json_array_foreach(json_object_get(j, "items"), i, it) if (f_int(it, "id") == id) found = json_incref(it);
	json_decref(j);
	assert_non_null(found);
	return found;
}

/* Polls the submission until it leaves pending/running/scoring (60 s at most). */
static json_t *wait_sub(const char *token, long long id)
{
	for (int i = 0; i < 600; i++) {
		json_t *s = find_sub(token, id);
		const char *st = f_str(s, "state");
		if (strcmp(st, "pending") && strcmp(st, "running") && strcmp(st, "scoring"))
			return s;
		json_decref(s);
		sleep_ms(100);
	}
	fail_msg("submission %lld did not end", id);
	return NULL;
}

static long long submit(const char *token, const char *body)
{
	json_t *s = h_call(&S, "POST", C "/submissions", token, body, 202);
	long long id = f_int(s, "id");

	assert_string_equal(f_str(s, "state"), "pending");
	assert_null(json_object_get(s, "job_id")); /* the job is never shown */
	assert_non_null(json_object_get(s, "model"));
	json_decref(s);
	return id;
}

static long long job_of(long long sub)
{
	return f_sql_int(&S, h_fmt("SELECT job_id FROM competition_submissions WHERE id = %lld", sub));
}

static void test_create(void **state)
{
	json_t *j;
	(void)state;

	h_expect_error(&S, "POST", "/api/v1/projects/org/competitions", olga,
		       comp_body("x", ",\"submission\":\"docker\""), 400, "submission");
	j = h_call(&S, "POST", "/api/v1/projects/org/competitions", olga,
		   comp_body("models", ",\"submission\":\"model_version\""), 201);
	assert_string_equal(f_str(j, "submission"), "model_version");
	json_decref(j);
	j = h_call(&S, "POST", "/api/v1/projects/org/competitions", olga, comp_body("plain", ""), 201);
	assert_string_equal(f_str(j, "submission"), "predictions");
	json_decref(j);
	j = h_call(&S, "GET", C, pam, NULL, 200);
	assert_string_equal(f_str(j, "submission"), "model_version");
	json_decref(j);
	json_decref(h_call(&S, "POST", C "/join", pam, "{\"name\":\"pamteam\"}", 200));
	json_decref(h_call(&S, "POST", C "/join", ed, "{\"name\":\"edteam\"}", 200));
}

static void test_bad_input(void **state)
{
	(void)state;
	h_expect_error(&S, "POST", C "/submissions", pam, "id,prediction\n1,0\n", 400, "body");
	h_expect_error(&S, "POST", C "/submissions", pam, "{}", 400, "model");
	h_expect_error(&S, "POST", C "/submissions", pam, "{\"model\":7}", 400, "model");
	h_expect_error(&S, "POST", C "/submissions", pam, "{\"model\":\"clf\"}", 400, "model");
	h_expect_error(&S, "POST", C "/submissions", pam, "{\"model\":\"pamlab/clf\",\"command\":\"id\"}", 400,
		       "command");
	h_expect_error(&S, "POST", C "/submissions", pam, "{\"model\":\"pamlab/nope\"}", 404, "model");
	h_expect_error(&S, "POST", C "/submissions", pam, "{\"model\":\"org/edm\",\"version\":1}", 404, "model");
	h_expect_error(&S, "POST", C "/submissions", pam, "{\"model\":\"pamlab/clf\",\"version\":9}", 404, "version");
	h_expect_error(&S, "POST", C "/submissions", pam, "{\"model\":\"pamlab/clf\",\"version\":5}", 404, "version");
	h_expect_error(&S, "POST", C "/submissions", pam, "{\"model\":\"pamlab/clf\",\"version\":4}", 422, "version");
	/* not a participant; not signed in */
	h_expect_error(&S, "POST", C "/submissions", quinn, "{\"model\":\"pamlab/clf\",\"version\":1}", 403, NULL);
	h_expect_error(&S, "POST", C "/submissions", NULL, "{\"model\":\"pamlab/clf\",\"version\":1}", 401, NULL);
	/* none was recorded, none counts */
	assert_int_equal(f_sql_int(&S, "SELECT count(*) FROM competition_submissions"), 0);
	(void)vic;
	(void)out;
}

/* Whether the job list at path shows job to token. */
static int listed(const char *token, const char *path, long long job)
{
	json_t *j = h_call(&S, "GET", path, token, NULL, 200), *it;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(j, "items"), i, it) n += f_int(it, "id") == job;
	json_decref(j);
	return n;
}

/* Nothing of the job for a participant: the job, its logs, its outputs, the inputs copy. */
static void expect_unreachable(const char *token, long long job)
{
	long long comp = f_sql_int(&S, "SELECT id FROM competitions WHERE name = 'models'");
	const char *inputs = h_fmt(DS "/competition-%lld-inputs/versions/1", comp);

	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld", job), token, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", job), token, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/outputs/predictions.csv", job), token, NULL, 404, NULL);
	h_expect_error(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", job), token, "{}", 404, NULL);
	h_expect_error(&S, "GET", inputs, token, NULL, 404, NULL);
	assert_int_equal(listed(token, "/api/v1/jobs", job), 0);
	if (token != pam)
		assert_int_equal(listed(token, "/api/v1/projects/org/jobs", job), 0);
	h_expect_error(&S, "GET", h_fmt("%s/files", inputs), token, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("%s/files/inputs.csv", inputs), token, NULL, 404, NULL);
}

static void test_scored(void **state)
{
	json_t *s, *j;
	long long id, job, comp;
	struct h_resp r;
	(void)state;

	/* pam's model lives in her own project: the job's token reads exactly that version */
	id = submit(pam, "{\"model\":\"pamlab/clf\",\"version\":1}");
	s = wait_sub(pam, id);
	assert_string_equal(f_str(s, "state"), "scored");
	assert_true(json_real_value(json_object_get(s, "public_score")) == 1.0);
	assert_true(json_is_null(json_object_get(s, "private_score")));
	assert_string_equal(f_str(json_object_get(s, "model"), "model"), "pamlab/clf");
	json_decref(s);
	j = h_call(&S, "GET", C "/leaderboard", quinn, NULL, 200);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "items"), 0), "team"), "pamteam");
	json_decref(j);
	/* the organiser sees the job: it read the inputs without the label, not the truth */
	job = job_of(id);
	assert_true(job > 0);
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/outputs/header.txt", job), olga, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "id,x,note\n");
	h_resp_free(&r);
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/outputs/truth_status.txt", job), olga, NULL, NULL, &r);
	assert_string_equal(r.body, "404");
	h_resp_free(&r);
	expect_unreachable(pam, job);
	/* an editor of the organisers' project who plays: the same */
	id = submit(ed, "{\"model\":\"org/edm\",\"version\":1}");
	s = wait_sub(ed, id);
	assert_string_equal(f_str(s, "state"), "scored");
	json_decref(s);
	expect_unreachable(ed, job_of(id));
	expect_unreachable(vic, job_of(id));
	comp = f_sql_int(&S, "SELECT id FROM competitions WHERE name = 'models'");
	json_decref(h_call(&S, "GET", h_fmt(DS "/competition-%lld-inputs/versions/1", comp), olga, NULL, 200));
	json_decref(h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", job_of(id)), olga, NULL, 200));
	assert_int_equal(listed(olga, "/api/v1/projects/org/jobs", job_of(id)), 1);
	assert_int_equal(listed(olga, "/api/v1/jobs", job_of(id)), 1);
	/* the job's token was granted pam's version, nothing else of her project */
	assert_int_equal(f_sql_int(&S, "SELECT count(*) FROM datasets WHERE name LIKE 'competition-%'"), 1);
}

static void expect_failed(long long id, const char *needle)
{
	json_t *s = wait_sub(pam, id);
	char *dump = json_dumps(s, 0);

	assert_string_equal(f_str(s, "state"), "failed");
	if (!strstr(f_str(s, "error"), needle))
		fail_msg("expected '%s' in '%s'", needle, f_str(s, "error"));
	assert_null(strstr(dump, MARK));
	assert_null(strstr(dump, "exit"));
	assert_true(json_is_null(json_object_get(s, "public_score")));
	free(dump);
	json_decref(s);
}

static void test_failed_and_limit(void **state)
{
	json_t *j;
	struct h_resp r;
	(void)state;

	expect_failed(submit(pam, "{\"model\":\"pamlab/clf\",\"version\":2}"), "batch job failed");
	expect_failed(submit(pam, "{\"model\":\"pamlab/clf\",\"version\":3}"), "cannot be scored");
	/* the model's failures count: 1 scored + 2 failed, one left of 4 */
	submit(pam, "{\"model\":\"pamlab/clf\",\"version\":1}");
	h_req(&S, "POST", C "/submissions", pam, "{\"model\":\"pamlab/clf\",\"version\":1}", NULL, &r);
	assert_int_equal(r.status, 429);
	assert_non_null(strstr(r.body, "the next is allowed at"));
	h_resp_free(&r);
	/* the boards rank only the scored ones */
	j = h_call(&S, "GET", C "/leaderboard", pam, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	json_decref(j);
}

/* The daemon killed while the job runs: after its restart the submission is followed again
 * and scored once the job ends. */
static void test_restart(void **state)
{
	int port = 0;
	const char *extra[4] = { "--listen", NULL, NULL };
	long long id;
	json_t *s;
	(void)state;

	sscanf(S.base, "http://127.0.0.1:%d", &port);
	extra[1] = h_fmt("127.0.0.1:%d", port);
	id = submit(ed, "{\"model\":\"org/edm\",\"version\":2}");
	for (int i = 0; i < 600; i++) {
		s = find_sub(ed, id);
		bool running = !strcmp(f_str(s, "state"), "running");
		json_decref(s);
		if (running)
			break;
		sleep_ms(50);
	}
	assert_int_equal(h_server_stop(&S, SIGKILL), 128 + SIGKILL);
	h_server_restart(&S, extra);
	s = wait_sub(ed, id);
	assert_string_equal(f_str(s, "state"), "scored");
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),	cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_scored),	cmocka_unit_test(test_failed_and_limit),
		cmocka_unit_test(test_restart),
	};
	const char *const names[4] = { "olga", "ed", "vic", "out" };
	int rc;

	h_server_start(&S, NULL);
	f_people(&S, "org", names, people);
	snprintf(pam, sizeof(pam), "%s", h_user(&S, "pam", false));
	snprintf(quinn, sizeof(quinn), "%s", h_user(&S, "quinn", false));
	rc = cmocka_run_group_tests(tests, setup, teardown);
	return f_finish(&S, rc);
}

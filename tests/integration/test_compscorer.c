/*
 * test_compscorer.c: competitions ranked by a custom metric (the organisers' scorer), against a
 * real daemon and a real worker. The scorer (awk: a mean absolute error) runs once on the
 * public and once on the private part of the ground truth and the predictions; the scores
 * equal the values computed here from the subsets the scorer was given (which partition the
 * ids) and the built-in MAE of a competition with the same split. Bad create input names the
 * field; a failing scorer fails the submission with a generic reason while the organiser sees
 * the real one; THE MATRIX: the scorer's jobs (every job route), the scoring dataset and its
 * versions (every dataset and dataset-version route), job lists and search, tried by a
 * participant who edits the organisers' project and by one outside it: never reached, and no
 * answer holds a ground-truth label (each carries a marker) or the truth's marker column; a
 * model-version competition's predictions are scored by the scorer too; a daemon killed while
 * the scorer runs scores the submission after its restart.
 */
#include "fixtures.h"
#include "atrium/http.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const struct atr_route atr_routes[];
extern const size_t atr_routes_count;

static struct h_server S;
static struct h_worker W;
static char people[4][128];
static const char *const olga = people[0], *const ed = people[1], *const vic = people[2], *const out = people[3];
static char pam[128];

#define DS "/api/v1/projects/org/datasets"
#define COMPS "/api/v1/projects/org/competitions"
#define C "/api/v1/competitions/custom"
#define MARK "GTSECRET-5d1e"
#define LABEL_MARK "918273" /* in every label's digits: 1.5 * id + 0.000918273 */
#define N_IDS 40

/* The ground truth: label 1.5 * id + 0.000918273 (printed with its marker digits), a column
 * holding MARK. */
static char *truth_csv(void)
{
	char *b = malloc(8192);
	size_t n = (size_t)snprintf(b, 8192, "id,label,note\n");
	for (int i = 1; i <= N_IDS; i++)
		n += (size_t)snprintf(b + n, 8192 - n, "%d,%.9f,%s\n", i, 1.5 * i + 0.000918273, MARK);
	return b;
}

/* Predictions: the id itself (an absolute error of 0.5 * id + 0.000918273). */
static char *preds_csv(void)
{
	char *b = malloc(8192);
	size_t n = (size_t)snprintf(b, 8192, "id,prediction\n");
	for (int i = 1; i <= N_IDS; i++)
		n += (size_t)snprintf(b + n, 8192 - n, "%d,%d\n", i, i);
	return b;
}

/* The mean absolute error; it also prints the ground truth (its logs must stay hidden). */
#define MAE_CMD                                                                                         \
	"cat \"$TRUTH_FILE\"; awk -F, 'NR==FNR{if(FNR>1)l[$1]=$2;next} FNR>1{d=$2-l[$1]; if(d<0)d=-d; " \
	"s+=d; n++} END{printf \"{\\\"abs_err\\\": %.12f}\\n\", s/n}' \"$TRUTH_FILE\" "                 \
	"\"$PREDICTIONS_FILE\" > \"$ATRIUM_OUTPUT_DIR/metrics.json\""
#define FAIL_CMD "cat \"$TRUTH_FILE\"; cat \"$TRUTH_FILE\" >&2; exit 3"

/* A scorer running cmd (JSON, in a rotating buffer). */
static const char *scorer(const char *cmd)
{
	static char buf[4][2048];
	static int n;
	json_t *o = json_pack("{s:s, s:[{s:s, s:s}], s:i}", "command", cmd, "metrics", "name", "abs_err", "direction",
			      "lower", "timeout_s", 120);
	char *s = json_dumps(o, JSON_COMPACT);
	char *b = buf[n++ % 4];

	snprintf(b, sizeof(buf[0]), "%s", s);
	free(s);
	json_decref(o);
	return b;
}

static const char *comp_body(const char *name, const char *metric, const char *extra)
{
	return h_fmt("{\"name\":\"%s\",\"title\":\"Custom\",\"starts_at\":\"2020-01-01T00:00:00Z\","
		     "\"ends_at\":\"2099-01-01T00:00:00Z\",\"test\":{\"dataset\":\"test\",\"version\":1,"
		     "\"path\":\"truth.csv\"},\"metric\":\"%s\",\"daily_limit\":5,\"public_fraction\":0.5,"
		     "\"precision\":6%s}",
		     name, metric, extra);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int setup(void **state)
{
	const char *wargs[] = { "--heartbeat", "1", NULL };
	char *t = truth_csv();
	(void)state;

	json_decref(h_call(&S, "POST", DS, olga, "{\"name\":\"test\"}", 201));
	json_decref(h_call(&S, "POST", DS "/test/versions", olga, "{}", 201));
	json_decref(f_put(&S, DS "/test/versions/1/files/truth.csv", olga, t, strlen(t), NULL, 201));
	json_decref(h_call(&S, "POST", DS "/test/versions/1/commit", olga, "{}", 200));
	free(t);
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

/* ---- helpers ---- */

/* An answer to a participant: never the ground truth (its marker column, its labels). */
static void no_truth(const struct h_resp *r, const char *what)
{
	if (r->body && (strstr(r->body, MARK) || strstr(r->body, LABEL_MARK)))
		fail_msg("%s: a participant's answer holds the ground truth: %.*s", what, (int)r->len, r->body);
}

/* A call: its answer (status in *status); a participant's is checked by no_truth. */
static json_t *as_player(const char *token, const char *method, const char *path, const char *body, long *status)
{
	struct h_resp r;
	json_t *j;

	h_req(&S, method, path, token, body, NULL, &r);
	if (token != olga) /* (the organiser may see it) */
		no_truth(&r, path);
	*status = r.status;
	j = r.body ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	h_resp_free(&r);
	return j;
}

static json_t *find_sub(const char *token, const char *comp, long long id)
{
	long st;
	json_t *j = as_player(token, "GET",
			      h_fmt("/api/v1/competitions/%s/submissions%s", comp, token == olga ? "?all=true" : ""),
			      NULL, &st),
	       *it, *found = NULL;
	size_t i;

	assert_int_equal(st, 200);
	json_array_foreach(json_object_get(j, "items"), i, it) if (f_int(it, "id") == id) found = json_incref(it);
	json_decref(j);
	assert_non_null(found);
	return found;
}

/* Polls the submission until it leaves 'scoring' (60 s at most). */
static json_t *wait_sub(const char *token, const char *comp, long long id)
{
	for (int i = 0; i < 600; i++) {
		json_t *s = find_sub(token, comp, id);
		if (strcmp(f_str(s, "state"), "scoring"))
			return s;
		json_decref(s);
		sleep_ms(100);
	}
	fail_msg("submission %lld did not end", id);
	return NULL;
}

/* pam's (or token's) predictions: 202, 'scoring'; the submission's id. */
static long long submit(const char *token, const char *comp)
{
	char *p = preds_csv();
	long st;
	json_t *j = as_player(token, "POST", h_fmt("/api/v1/competitions/%s/submissions", comp), p, &st);
	long long id;

	free(p);
	assert_int_equal(st, 202);
	assert_string_equal(f_str(j, "state"), "scoring");
	assert_null(json_object_get(j, "scorer_jobs"));
	id = f_int(j, "id");
	json_decref(j);
	return id;
}

/* The mean absolute error of the predictions over the ids of a subset's truth file (CSV
 * text): what the scorer must have computed; the ids into seen. */
static double mae_of(const char *truth, bool seen[N_IDS + 1], int *rows)
{
	const char *p = strchr(truth, '\n');
	double sum = 0;

	*rows = 0;
	while (p && p[1]) {
		int id = 0;
		double label = 0;
		assert_int_equal(sscanf(p + 1, "%d,%lf,", &id, &label), 2);
		assert_true(id >= 1 && id <= N_IDS && !seen[id]);
		seen[id] = true;
		sum += fabs(label - id);
		(*rows)++;
		p = strchr(p + 1, '\n');
	}
	return *rows ? sum / *rows : NAN;
}

static const char *file_of(long long version, const char *path)
{
	long long comp = f_sql_int(&S, "SELECT id FROM competitions WHERE name = 'custom'");
	struct h_resp r;
	static char buf[8192];

	h_req(&S, "GET", h_fmt(DS "/competition-%lld-scoring/versions/%lld/files/%s", comp, version, path), olga, NULL,
	      NULL, &r);
	assert_int_equal(r.status, 200);
	snprintf(buf, sizeof(buf), "%.*s", (int)r.len, r.body);
	h_resp_free(&r);
	return buf;
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* ---- the tests ---- */

static void test_create(void **state)
{
	json_t *j;
	(void)state;

	/* bad input, each named */
	h_expect_error(&S, "POST", COMPS, olga, comp_body("x", "abs_err", ",\"scorer\":7"), 400, "scorer");
	h_expect_error(&S, "POST", COMPS, olga, comp_body("x", "abs_err", ",\"scorer\":{\"metrics\":[]}"), 400,
		       "scorer.command");
	h_expect_error(&S, "POST", COMPS, olga, comp_body("x", "abs_err", ",\"scorer\":{\"command\":\"true\"}"), 400,
		       "scorer.metrics");
	h_expect_error(&S, "POST", COMPS, olga,
		       comp_body("x", "abs_err",
				 ",\"scorer\":{\"command\":\"true\",\"metrics\":[{\"name\":\"abs_err\","
				 "\"direction\":\"up\"}]}"),
		       400, "scorer.metrics[0].direction");
	h_expect_error(&S, "POST", COMPS, olga,
		       comp_body("x", "abs_err",
				 ",\"scorer\":{\"command\":\"true\",\"metrics\":[{\"name\":\"abs_err\",\"direction\":"
				 "\"lower\"},{\"name\":\"abs_err\",\"direction\":\"lower\"}]}"),
		       400, "scorer.metrics[1].name");
	h_expect_error(&S, "POST", COMPS, olga,
		       comp_body("x", "abs_err",
				 h_fmt(",\"scorer\":{\"command\":\"true\",\"metrics\":[{\"name\":\"x\","
				       "\"direction\":\"lower\"}],\"timeout_s\":-1}")),
		       400, "scorer.timeout_s");
	h_expect_error(&S, "POST", COMPS, olga, comp_body("x", "other", h_fmt(",\"scorer\":%s", scorer("true"))), 400,
		       "metric");
	h_expect_error(&S, "POST", COMPS, olga, comp_body("x", "abs_err", ""), 400, "metric"); /* no scorer */
	h_expect_error(&S, "POST", COMPS, olga,
		       comp_body("x", "mae",
				 ",\"scorer\":{\"command\":\"true\",\"metrics\":[{\"name\":\"mae\",\"direction\":"
				 "\"lower\"}]}"),
		       400, "metric");
	/* not an organiser */
	h_expect_error(&S, "POST", COMPS, ed, comp_body("custom", "abs_err", h_fmt(",\"scorer\":%s", scorer(MAE_CMD))),
		       403, NULL);
	h_expect_error(&S, "POST", COMPS, out, comp_body("custom", "abs_err", h_fmt(",\"scorer\":%s", scorer(MAE_CMD))),
		       404, NULL);
	assert_int_equal(f_sql_int(&S, "SELECT count(*) FROM competitions"), 0);
	j = h_call(&S, "POST", COMPS, olga, comp_body("custom", "abs_err", h_fmt(",\"scorer\":%s", scorer(MAE_CMD))),
		   201);
	assert_string_equal(f_str(json_object_get(j, "scorer"), "command"), MAE_CMD);
	json_decref(j);
	json_decref(h_call(&S, "POST", COMPS, olga,
			   comp_body("failing", "abs_err", h_fmt(",\"scorer\":%s", scorer(FAIL_CMD))), 201));
	json_decref(h_call(&S, "POST", COMPS, olga,
			   comp_body("slow", "abs_err", h_fmt(",\"scorer\":%s", scorer("sleep 3; " MAE_CMD))), 201));
	/* the reference: the built-in MAE over the same split */
	json_decref(h_call(&S, "POST", COMPS, olga, comp_body("builtin", "mae", ""), 201));
	f_sql_exec(&S, "UPDATE competitions SET seed = (SELECT seed FROM competitions WHERE name = 'custom')"
		       " WHERE name = 'builtin'");
	/* participants see the scorer's metrics, not its command */
	j = h_call(&S, "GET", C, pam, NULL, 200);
	assert_null(json_object_get(json_object_get(j, "scorer"), "command"));
	assert_string_equal(f_str(json_array_get(json_object_get(json_object_get(j, "scorer"), "metrics"), 0), "name"),
			    "abs_err");
	json_decref(j);
	j = h_call(&S, "GET", C "/leaderboard", pam, NULL, 200);
	assert_string_equal(f_str(j, "direction"), "lower");
	json_decref(j);
	for (int i = 0; i < 4; i++) {
		const char *comp = i == 0 ? "custom" : i == 1 ? "failing" : i == 2 ? "slow" : "builtin";
		json_decref(h_call(&S, "POST", h_fmt("/api/v1/competitions/%s/join", comp), pam, "{\"name\":\"pams\"}",
				   200));
		json_decref(
			h_call(&S, "POST", h_fmt("/api/v1/competitions/%s/join", comp), ed, "{\"name\":\"eds\"}", 200));
	}
}

static void test_scored(void **state)
{
	bool seen[N_IDS + 1] = { false };
	long long id, v_pub, v_priv, ref;
	double pub, priv;
	int n_pub, n_priv;
	json_t *s, *b;
	struct h_resp r;
	char *pred;
	long st;
	(void)state;

	/* a file the scoring library refuses: 422 naming the line, no scorer runs, nothing counted */
	json_decref(as_player(pam, "POST", C "/submissions", "id,prediction\n1,1\n1,1\n", &st));
	assert_int_equal(st, 422);
	assert_int_equal(f_sql_int(&S, "SELECT count(*) FROM competition_scorer_runs"), 0);
	id = submit(pam, "custom");
	s = wait_sub(pam, "custom", id);
	assert_string_equal(f_str(s, "state"), "scored");
	assert_true(json_is_null(json_object_get(s, "private_score"))); /* participants: after the end only */
	assert_null(json_object_get(s, "scorer_jobs"));
	json_decref(s);
	/* the subsets the scorer was given: they partition the ids */
	v_pub = f_sql_int(&S, h_fmt("SELECT v.version FROM competition_scorer_runs y JOIN dataset_versions v ON"
				    " v.id = y.dataset_version_id WHERE y.submission_id = %lld AND y.subset = 'public'",
				    id));
	v_priv = f_sql_int(&S, h_fmt("SELECT v.version FROM competition_scorer_runs y JOIN dataset_versions v ON"
				     " v.id = y.dataset_version_id WHERE y.submission_id = %lld AND y.subset ="
				     " 'private'",
				     id));
	pub = mae_of(file_of(v_pub, "truth.csv"), seen, &n_pub);
	priv = mae_of(file_of(v_priv, "truth.csv"), seen, &n_priv);
	assert_int_equal(n_pub + n_priv, N_IDS);
	assert_true(n_pub > 0 && n_priv > 0);
	assert_int_equal(strlen(file_of(v_pub, "predictions.csv")) > 0, 1);
	/* the organiser sees both scores, and each scorer job */
	s = find_sub(olga, "custom", id);
	assert_true(fabs(num(s, "public_score") - round(pub * 1e6) / 1e6) < 1e-9);
	assert_true(fabs(num(s, "private_score") - round(priv * 1e6) / 1e6) < 1e-9);
	assert_true(fabs(pub - priv) > 1e-3); /* the subsets differ, so do the scores */
	assert_int_equal(json_array_size(json_object_get(s, "scorer_jobs")), 2);
	json_decref(s);
	/* the same as the built-in MAE over the same split */
	pred = preds_csv();
	b = h_call(&S, "POST", "/api/v1/competitions/builtin/submissions", pam, pred, 201);
	free(pred);
	ref = f_int(b, "id");
	json_decref(b);
	b = find_sub(olga, "builtin", ref);
	s = find_sub(olga, "custom", id);
	assert_true(fabs(num(s, "public_score") - num(b, "public_score")) < 1e-9);
	assert_true(fabs(num(s, "private_score") - num(b, "private_score")) < 1e-9);
	json_decref(s);
	json_decref(b);
	/* the board ranks it */
	h_req(&S, "GET", C "/leaderboard", pam, NULL, NULL, &r);
	no_truth(&r, "leaderboard");
	assert_non_null(strstr(r.body, "pams"));
	h_resp_free(&r);
}

static void test_failing(void **state)
{
	json_t *s, *jobs;
	char *dump;
	long long id;
	(void)state;

	id = submit(pam, "failing");
	s = wait_sub(pam, "failing", id);
	dump = json_dumps(s, 0);
	assert_string_equal(f_str(s, "state"), "failed");
	assert_non_null(strstr(f_str(s, "error"), "scorer could not score"));
	assert_null(strstr(dump, "exit"));
	assert_null(strstr(dump, "job"));
	assert_true(json_is_null(json_object_get(s, "public_score")));
	free(dump);
	json_decref(s);
	/* the organiser sees the jobs and the real reason */
	s = find_sub(olga, "failing", id);
	jobs = json_object_get(s, "scorer_jobs");
	assert_int_equal(json_array_size(jobs), 2);
	assert_string_equal(f_str(json_array_get(jobs, 0), "state"), "failed");
	assert_non_null(strstr(f_str(json_array_get(jobs, 0), "error"), "failed"));
	assert_true(f_int(json_array_get(jobs, 0), "job_id") > 0);
	json_decref(s);
	/* it counts against the daily limit: the team's day holds it */
	assert_int_equal(f_sql_int(&S, h_fmt("SELECT count(*) FROM competition_submissions WHERE id = %lld AND"
					     " state = 'failed'",
					     id)),
			 1);
}

/* A route's pattern with the values of the matrix put in. */
static const char *fill(const char *pattern, const char *dataset, const char *version, long long job)
{
	static char buf[512];
	size_t n = 0;

	for (const char *p = pattern; *p && n < sizeof(buf) - 64;) {
		if (*p != '{') {
			buf[n++] = *p++;
			continue;
		}
		const char *end = strchr(p, '}');
		size_t k = (size_t)(end - p);
		const char *v = !strncmp(p, "{project}", k + 1)	  ? "org"
				: !strncmp(p, "{dataset}", k + 1) ? dataset
				: !strncmp(p, "{version}", k + 1) ? version
				: !strncmp(p, "{job}", k + 1)	  ? h_fmt("%lld", job)
				: !strncmp(p, "{path...}", k + 1) ? "truth.csv"
								  : "1";
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", v);
		p = end + 1;
	}
	buf[n] = 0;
	return buf;
}

/* Never reached: not 2xx, not 5xx, no ground truth. */
static void expect_unreachable(const char *token, const char *method, const char *path)
{
	long st;
	json_t *j = as_player(token, method, path, strcmp(method, "GET") ? "{}" : NULL, &st);

	if (st < 400 || st >= 500)
		fail_msg("%s %s as a participant: %ld", method, path, st);
	json_decref(j);
}

/* A POST naming the subsets: refused (4xx), with nothing of them. */
static void refused(const char *token, const char *path, const char *body)
{
	long st;
	json_t *j = as_player(token, "POST", path, body, &st);

	if (st < 400 || st >= 500)
		fail_msg("POST %s %s as a participant: %ld", path, body, st);
	json_decref(j);
}

static bool listed(const char *token, const char *path, long long id)
{
	long st;
	json_t *j = as_player(token, "GET", path, NULL, &st), *it;
	bool found = false;
	size_t i;

	assert_int_equal(st, 200);
	json_array_foreach(json_object_get(j, "items"), i, it) found = found || f_int(it, "id") == id;
	json_decref(j);
	return found;
}

/* Everything of the scorer's jobs and subsets, for one participant. */
static void matrix_for(const char *token, const char *ds, long long job, long long dataset_id)
{
	size_t tried = 0;
	const char *q[] = { "score", "competition", "custom", "scoring" };

	for (size_t i = 0; i < atr_routes_count; i++) {
		const struct atr_route *rt = &atr_routes[i];
		if (rt->resource == ATR_RES_JOB) {
			expect_unreachable(token, rt->method, fill(rt->pattern, ds, "1", job));
			tried++;
		} else if (rt->resource == ATR_RES_DATASET || rt->resource == ATR_RES_DATASET_VERSION) {
			expect_unreachable(token, rt->method, fill(rt->pattern, ds, "1", job));
			expect_unreachable(token, rt->method, fill(rt->pattern, ds, "2", job));
			expect_unreachable(token, rt->method, fill(rt->pattern, ds, "latest", job));
			tried++;
		}
	}
	assert_true(tried >= 15);
	expect_unreachable(token, "GET", h_fmt("/api/v1/jobs/%lld/outputs/metrics.json", job));
	expect_unreachable(token, "GET", h_fmt("/api/v1/jobs/%lld/logs?follow=false", job));
	assert_false(listed(token, "/api/v1/jobs?limit=200", job));
	if (token == ed)
		assert_false(listed(token, "/api/v1/projects/org/jobs?limit=200", job));
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		assert_false(listed(token, h_fmt("/api/v1/search?q=%s&kind=job", q[i]), job));
		assert_false(listed(token, h_fmt("/api/v1/search?q=%s&kind=dataset", q[i]), dataset_id));
	}
	/* what names a version elsewhere: a run's or a job's inputs */
	refused(token, "/api/v1/projects/org/runs", h_fmt("{\"inputs\":[{\"dataset\":\"%s\",\"version\":1}]}", ds));
	refused(token, "/api/v1/projects/org/jobs",
		h_fmt("{\"command\":\"cat x\",\"inputs\":[{\"dataset\":\"%s\",\"version\":1,\"as\":\"t\"}]}", ds));
}

static void test_matrix(void **state)
{
	long long comp = f_sql_int(&S, "SELECT id FROM competitions WHERE name = 'custom'");
	long long dataset_id = f_sql_int(&S, "SELECT scorer_dataset_id FROM competitions WHERE name = 'custom'");
	const char *ds = h_fmt("competition-%lld-scoring", comp);
	char dsname[64];
	long long jobs[2];
	struct h_resp r;
	(void)state;

	snprintf(dsname, sizeof(dsname), "%s", ds);
	/* ed (an editor of the organisers' project) plays too: his own submission's jobs as well */
	json_decref(wait_sub(ed, "custom", submit(ed, "custom")));
	jobs[0] = f_sql_int(&S, "SELECT min(job_id) FROM competition_scorer_runs");
	jobs[1] = f_sql_int(&S, "SELECT max(job_id) FROM competition_scorer_runs");
	assert_true(dataset_id > 0 && jobs[0] > 0);
	/* the control: the organiser reaches them (so the refusals below are the rule) */
	json_decref(h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", jobs[0]), olga, NULL, 200));
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/outputs/metrics.json", jobs[0]), olga, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	json_decref(h_call(&S, "GET", h_fmt(DS "/%s/versions/1/files", dsname), olga, NULL, 200));
	assert_true(listed(olga, "/api/v1/projects/org/jobs?limit=200", jobs[0]));
	/* the scoring dataset: in the organisers' list of the project's datasets, in no one else's */
	assert_true(listed(olga, DS "?limit=200", dataset_id));
	assert_false(listed(ed, DS "?limit=200", dataset_id));
	assert_false(listed(vic, DS "?limit=200", dataset_id));
	for (int i = 0; i < 2; i++) {
		matrix_for(ed, dsname, jobs[i], dataset_id);
		matrix_for(pam, dsname, jobs[i], dataset_id);
		matrix_for(vic, dsname, jobs[i], dataset_id);
	}
	/* the participants' own lists hold no truth */
	json_decref(find_sub(ed, "custom", f_sql_int(&S, "SELECT max(id) FROM competition_submissions")));
	(void)out;
}

/* A model-version competition with a scorer: the predictions the model's job wrote are split
 * and scored as a file's (the same split as 'custom': the same scores). */
static void test_model(void **state)
{
	const char *predict = "awk -F, 'NR==1{print \"id,prediction\"; next} {print $1\",\"$1}' \"$1\" > \"$2\"\n";
	json_t *s = NULL, *ref;
	long long id;
	long st;
	(void)state;

	f_project(&S, pam, "pamlab", "private");
	json_decref(h_call(&S, "POST", "/api/v1/projects/pamlab/models", pam, "{\"name\":\"clf\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/pamlab/models/clf/versions", pam, "{}", 201));
	json_decref(f_put(&S, "/api/v1/projects/pamlab/models/clf/versions/1/files/predict", pam, predict,
			  strlen(predict), NULL, 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/pamlab/models/clf/versions/1/commit", pam, "{}", 200));
	json_decref(h_call(&S, "POST", COMPS, olga,
			   comp_body("mcustom", "abs_err",
				     h_fmt(",\"submission\":\"model_version\",\"scorer\":%s", scorer(MAE_CMD))),
			   201));
	f_sql_exec(&S, "UPDATE competitions SET seed = (SELECT seed FROM competitions WHERE name = 'custom')"
		       " WHERE name = 'mcustom'");
	json_decref(h_call(&S, "POST", "/api/v1/competitions/mcustom/join", pam, "{\"name\":\"pams\"}", 200));
	s = as_player(pam, "POST", "/api/v1/competitions/mcustom/submissions",
		      "{\"model\":\"pamlab/clf\",\"version\":1}", &st);
	assert_int_equal(st, 202);
	id = f_int(s, "id");
	json_decref(s);
	for (int i = 0; i < 600; i++) {
		s = find_sub(pam, "mcustom", id);
		if (strcmp(f_str(s, "state"), "pending") && strcmp(f_str(s, "state"), "running") &&
		    strcmp(f_str(s, "state"), "scoring"))
			break;
		json_decref(s);
		s = NULL;
		sleep_ms(100);
	}
	assert_non_null(s);
	assert_string_equal(f_str(s, "state"), "scored");
	json_decref(s);
	s = find_sub(olga, "mcustom", id);
	ref = find_sub(
		olga, "custom",
		f_sql_int(
			&S,
			"SELECT min(id) FROM competition_submissions WHERE"
			" state = 'scored' AND competition_id = (SELECT id FROM competitions WHERE name = 'custom')"));
	assert_int_equal(json_array_size(json_object_get(s, "scorer_jobs")), 2);
	assert_true(fabs(num(s, "public_score") - num(ref, "public_score")) < 1e-9);
	assert_true(fabs(num(s, "private_score") - num(ref, "private_score")) < 1e-9);
	json_decref(s);
	json_decref(ref);
}

/* The daemon killed while the scorer runs: after its restart the scores land. */
static void test_restart(void **state)
{
	int port = 0;
	const char *extra[4] = { "--listen", NULL, NULL };
	long long id;
	json_t *s;
	(void)state;

	sscanf(S.base, "http://127.0.0.1:%d", &port);
	extra[1] = h_fmt("127.0.0.1:%d", port);
	id = submit(pam, "slow");
	for (int i = 0; i < 600; i++) {
		if (f_sql_int(&S, h_fmt("SELECT count(*) FROM competition_scorer_runs WHERE submission_id = %lld AND"
					" state = 'running'",
					id)) > 0)
			break;
		sleep_ms(50);
	}
	assert_int_equal(h_server_stop(&S, SIGKILL), 128 + SIGKILL);
	h_server_restart(&S, extra);
	s = wait_sub(pam, "slow", id);
	assert_string_equal(f_str(s, "state"), "scored");
	assert_true(num(s, "public_score") > 0);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create), cmocka_unit_test(test_scored), cmocka_unit_test(test_failing),
		cmocka_unit_test(test_matrix), cmocka_unit_test(test_model),  cmocka_unit_test(test_restart),
	};
	const char *const names[4] = { "olga", "ed", "vic", "out" };
	int rc;

	h_server_start(&S, NULL);
	f_people(&S, "org", names, people);
	snprintf(pam, sizeof(pam), "%s", h_user(&S, "pam", false));
	rc = cmocka_run_group_tests(tests, setup, teardown);
	return f_finish(&S, rc);
}

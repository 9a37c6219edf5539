/*
 * test_competitions.c: competitions against a real daemon: creation (owners and admins
 * only, bad input named), joining (Atrium and ad-hoc teams, size, one team per user),
 * submissions (scored, 422 naming the line and counting against no limit, the daily limit
 * naming the next time, late ones naming the end, too big), public and private boards
 * (ties to the earlier submission, final selections), the audit log, and THE HIDDEN SET
 * MATRIX: every route whose resource is a dataset version (walked from atr_routes), a diff,
 * a parent, run and job inputs and search, tried by an editor of the organisers' project who
 * plays in the competition: never the data (the truth file carries a marker column that no
 * answer may hold).
 */
#include "fixtures.h"
#include "atrium/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct atr_route atr_routes[];
extern const size_t atr_routes_count;

static struct h_server S;
static char people[4][128];
static const char *const olga = people[0], *const ed = people[1], *const vic = people[2], *const out = people[3];
static char pam[128], quinn[128], root[128];

#define DS "/api/v1/projects/org/datasets"
#define C "/api/v1/competitions/churn"
#define MARK "TOPSECRET-7f3a"
#define N_IDS 40

/* The ground truth: ids 1..40, label id % 2, and a column no participant may ever see. */
static char *truth_csv(void)
{
	char *b = malloc(8192);
	size_t n = (size_t)snprintf(b, 8192, "id,label,secret\n");
	for (int i = 1; i <= N_IDS; i++)
		n += (size_t)snprintf(b + n, 8192 - n, "%d,%d,%s-%d\n", i, i % 2, MARK, i);
	return b;
}

/* Predictions: right for ids <= right, wrong after. */
static char *preds_csv(int right)
{
	char *b = malloc(8192);
	size_t n = (size_t)snprintf(b, 8192, "id,prediction\n");
	for (int i = 1; i <= N_IDS; i++)
		n += (size_t)snprintf(b + n, 8192 - n, "%d,%d\n", i, i <= right ? i % 2 : 1 - i % 2);
	return b;
}

static void dataset_version(const char *name, const char *path, const char *data, bool commit)
{
	json_decref(h_call(&S, "POST", DS, olga, h_fmt("{\"name\":\"%s\"}", name), 201));
	json_decref(h_call(&S, "POST", h_fmt(DS "/%s/versions", name), olga, "{}", 201));
	json_decref(f_put(&S, h_fmt(DS "/%s/versions/1/files/%s", name, path), olga, data, strlen(data), NULL, 201));
	if (commit)
		json_decref(h_call(&S, "POST", h_fmt(DS "/%s/versions/1/commit", name), olga, "{}", 200));
}

static const char *comp_body(const char *name, const char *extra)
{
	return h_fmt("{\"name\":\"%s\",\"title\":\"Churn\",\"description\":\"# Churn\\n<script>x</script>\","
		     "\"starts_at\":\"2020-01-01T00:00:00Z\",\"ends_at\":\"2099-01-01T00:00:00Z\","
		     "\"training\":{\"dataset\":\"train\",\"version\":1},"
		     "\"test\":{\"dataset\":\"test\",\"version\":1,\"path\":\"truth.csv\"},"
		     "\"metric\":\"accuracy\",\"daily_limit\":3,\"max_team_size\":2,\"public_fraction\":0.5,\"max_"
		     "bytes\":400,"
		     "\"precision\":3%s}",
		     name, extra);
}

/* A JSON Lines submission by pam expecting status; a 422 names line 2. */
static void h_req_jsonl(long expect, const char *body)
{
	struct h_resp r;

	h_req(&S, "POST", C "/submissions?format=jsonl", pam, body, NULL, &r);
	assert_int_equal(r.status, expect);
	assert_non_null(strstr(r.body, "line 2"));
	h_resp_free(&r);
}

/* POST a predictions file; returns the answer (status in *status). */
static json_t *submit(const char *token, const char *body, long *status)
{
	struct h_resp r;
	json_t *j;

	h_req(&S, "POST", C "/submissions", token, body, NULL, &r);
	*status = r.status;
	j = json_loadb(r.body, r.len, 0, NULL);
	h_resp_free(&r);
	return j;
}

static long long submit_ok(const char *token, int right)
{
	char *p = preds_csv(right);
	long st;
	json_t *j = submit(token, p, &st);
	long long id;

	free(p);
	assert_int_equal(st, 201);
	assert_string_equal(f_str(j, "state"), "scored");
	assert_true(json_is_null(json_object_get(j, "private_score"))); /* participants: never before the end */
	id = f_int(j, "id");
	json_decref(j);
	return id;
}

static const char *err_message(const json_t *j)
{
	return json_string_value(json_object_get(json_object_get(j, "error"), "message"));
}

static void test_create(void **state)
{
	json_t *j;
	char *t = truth_csv();
	(void)state;

	dataset_version("train", "train.csv", "id,x\n1,0.5\n", true);
	dataset_version("test", "truth.csv", t, true);
	dataset_version("draft", "truth.csv", t, false);
	dataset_version("broken", "truth.csv", "id,label\n1,0\n1,1\n", true);
	free(t);
	/* bad input, each named */
	h_expect_error(&S, "POST", "/api/v1/projects/org/competitions", olga, comp_body("x", ",\"metric\":\"nope\""),
		       400, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/org/competitions", olga, "{\"name\":\"x\"}", 400, "title");
	h_expect_error(&S, "POST", "/api/v1/projects/org/competitions", olga, comp_body("x", ",\"public_fraction\":1"),
		       400, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/org/competitions", olga,
		       h_fmt("{\"name\":\"x\",\"title\":\"t\",\"starts_at\":\"2030-01-01T00:00:00Z\","
			     "\"ends_at\":\"2029-01-01T00:00:00Z\",\"test\":{\"dataset\":\"test\",\"version\":1,"
			     "\"path\":\"truth.csv\"},\"metric\":\"accuracy\"}"),
		       400, "ends_at");
	h_expect_error(&S, "POST", "/api/v1/projects/org/competitions", olga,
		       h_fmt("{\"name\":\"x\",\"title\":\"t\",\"starts_at\":\"2020-01-01T00:00:00Z\","
			     "\"ends_at\":\"2029-01-01T00:00:00Z\",\"test\":{\"dataset\":\"test\",\"version\":1,"
			     "\"path\":\"nope.csv\"},\"metric\":\"accuracy\"}"),
		       400, "test.path");
	h_expect_error(&S, "POST", "/api/v1/projects/org/competitions", olga,
		       h_fmt("{\"name\":\"x\",\"title\":\"t\",\"starts_at\":\"2020-01-01T00:00:00Z\","
			     "\"ends_at\":\"2029-01-01T00:00:00Z\",\"test\":{\"dataset\":\"draft\",\"version\":1,"
			     "\"path\":\"truth.csv\"},\"metric\":\"accuracy\"}"),
		       400, "test");
	/* a ground truth the scoring refuses: the organiser learns where */
	f_expect_message(&S, "POST", "/api/v1/projects/org/competitions", olga,
			 h_fmt("{\"name\":\"x\",\"title\":\"t\",\"starts_at\":\"2020-01-01T00:00:00Z\","
			       "\"ends_at\":\"2029-01-01T00:00:00Z\",\"test\":{\"dataset\":\"broken\",\"version\":1,"
			       "\"path\":\"truth.csv\"},\"metric\":\"accuracy\"}"),
			 400, "line 3");
	/* an editor of the project may not organise; an outsider does not see the project */
	h_expect_error(&S, "POST", "/api/v1/projects/org/competitions", ed, comp_body("churn", ""), 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/org/competitions", out, comp_body("churn", ""), 404, NULL);
	j = h_call(&S, "POST", "/api/v1/projects/org/competitions", olga, comp_body("churn", ""), 201);
	assert_string_equal(f_str(j, "name"), "churn");
	assert_true(json_is_true(json_object_get(j, "organiser")));
	assert_null(json_object_get(j, "seed"));
	assert_int_equal(f_int(j, "precision"), 3);
	json_decref(j);
	h_expect_error(&S, "POST", "/api/v1/projects/org/competitions", olga, comp_body("churn", ""), 409, "name");
}

static void test_read_patch(void **state)
{
	json_t *j;
	(void)state;

	/* everyone signed in sees it; patch is the organisers' */
	j = h_call(&S, "GET", C, out, NULL, 200);
	assert_false(json_is_true(json_object_get(j, "organiser")));
	assert_string_equal(f_str(json_object_get(j, "test"), "dataset"), "test");
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/competitions", out, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	h_expect_error(&S, "GET", "/api/v1/competitions/nope", out, NULL, 404, NULL);
	h_expect_error(&S, "PATCH", C, ed, "{\"title\":\"mine\"}", 403, NULL);
	h_expect_error(&S, "PATCH", C, olga, "{\"ends_at\":\"2000-01-01T00:00:00Z\"}", 400, "ends_at");
	h_expect_error(&S, "PATCH", C, olga, "{\"daily_limit\":0}", 400, "daily_limit");
	j = h_call(&S, "PATCH", C, olga, "{\"rules\":\"be nice\"}", 200);
	assert_string_equal(f_str(j, "rules"), "be nice");
	json_decref(j);
	/* the training data: the organisers (and admins) read it; nobody else before joining, not even
	 * the project's members, and the 403 says to join */
	j = h_call(&S, "GET", C "/data", olga, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	assert_int_equal(f_status_raw(&S, "GET", C "/data/train.csv", root), 200);
	for (int i = 1; i < 4; i++) { /* ed (editor), vic (viewer), out (outsider) */
		f_expect_message(&S, "GET", C "/data", people[i], NULL, 403, "join");
		f_expect_message(&S, "GET", C "/data/train.csv", people[i], NULL, 403, "join");
	}
	h_expect_error(&S, "GET", C "/data?limit=0", olga, NULL, 400, "limit");
	h_expect_error(&S, "GET", C "/data/nope.csv", olga, NULL, 404, NULL);
}

static void test_join(void **state)
{
	json_t *j;
	(void)state;

	json_decref(h_call(&S, "POST", "/api/v1/teams", root, "{\"name\":\"blue\"}", 201));
	json_decref(h_call(&S, "PUT", "/api/v1/teams/blue/members/vic", root, "{\"role\":\"member\"}", 200));
	h_expect_error(&S, "POST", C "/join", out, "{}", 400, "team");
	h_expect_error(&S, "POST", C "/join", out, "{\"team\":\"blue\",\"name\":\"x\"}", 400, NULL);
	h_expect_error(&S, "POST", C "/join", out, "{\"team\":\"blue\"}", 400, "team"); /* not a member */
	h_expect_error(&S, "POST", C "/join", out, "{\"name\":\"bad name\"}", 400, "name");
	j = h_call(&S, "POST", C "/join", vic, "{\"team\":\"blue\"}", 200);
	assert_string_equal(f_str(j, "team"), "blue");
	json_decref(j);
	json_decref(h_call(&S, "POST", C "/join", out, "{\"name\":\"solo\"}", 200));
	json_decref(h_call(&S, "POST", C "/join", pam, "{\"name\":\"solo\"}", 200));
	f_expect_message(&S, "POST", C "/join", quinn, "{\"name\":\"solo\"}", 409, "full");
	f_expect_message(&S, "POST", C "/join", pam, "{\"name\":\"other\"}", 409, "another team");
	h_expect_error(&S, "POST", C "/join", quinn, "{\"name\":\"blue\"}", 409, "name"); /* an Atrium team's */
	json_decref(h_call(&S, "POST", C "/join", ed, "{\"name\":\"insider\"}", 200));
	/* leave and come back */
	json_decref(h_call(&S, "POST", C "/join", quinn, "{\"name\":\"q\"}", 200));
	h_call(&S, "POST", C "/leave", quinn, "{}", 204);
	h_expect_error(&S, "POST", C "/leave", quinn, "{}", 409, NULL);
	j = h_call(&S, "GET", C "/teams", quinn, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 4); /* blue, solo, insider, q */
	json_decref(j);
	/* participants read the training data; one who left does not any more */
	j = h_call(&S, "GET", C "/data", out, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	assert_int_equal(f_status_raw(&S, "GET", C "/data/train.csv", vic), 200);
	assert_int_equal(f_status_raw(&S, "GET", C "/data/train.csv", ed), 200);
	f_expect_message(&S, "GET", C "/data", quinn, NULL, 403, "join");
}

/* An answer of the matrix: never the marker; never 2xx unless ok_allowed (a dataset's own
 * routes: its listing names the version, without its data); never a 5xx. */
static void expect_hidden_or(const char *method, const char *path, const char *body, bool ok_allowed)
{
	struct h_resp r;

	h_req(&S, method, path, ed, body, NULL, &r);
	if ((r.status < 400 && !ok_allowed) || r.status >= 500 || (r.body && strstr(r.body, MARK)))
		fail_msg("%s %s as a participant: %ld %.*s", method, path, r.status, (int)r.len, r.body);
	h_resp_free(&r);
}

static void expect_hidden(const char *method, const char *path, const char *body)
{
	expect_hidden_or(method, path, body, false);
}

/* A route's pattern with the hidden version's coordinates put in. */
static const char *fill(const char *pattern, const char *version)
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
				: !strncmp(p, "{dataset}", k + 1) ? "test"
				: !strncmp(p, "{version}", k + 1) ? version
				: !strncmp(p, "{path...}", k + 1) ? "truth.csv"
								  : "1";
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", v);
		p = end + 1;
	}
	buf[n] = 0;
	return buf;
}

static void test_hidden_matrix(void **state)
{
	size_t tried = 0;
	json_t *j;
	(void)state;

	/* the control: the organiser reads it (so the 404s below are the rule, not a typo) */
	assert_int_equal(f_status_raw(&S, "GET", DS "/test/versions/1/files/truth.csv", olga), 200);
	assert_int_equal(f_status_raw(&S, "GET", DS "/test/versions/1/files/truth.csv", root), 200);
	for (size_t i = 0; i < atr_routes_count; i++) {
		const struct atr_route *rt = &atr_routes[i];
		if (rt->resource == ATR_RES_DATASET && !strcmp(rt->method, "GET"))
			expect_hidden_or(rt->method, fill(rt->pattern, "1"), NULL, true);
		if (rt->resource != ATR_RES_DATASET_VERSION)
			continue;
		expect_hidden(rt->method, fill(rt->pattern, "1"), "{}");
		expect_hidden(rt->method, fill(rt->pattern, "latest"), "{}");
		tried++;
	}
	assert_true(tried >= 9); /* get, delete, commit, lineage, diff, files: list, put, get, delete */
	/* what names a version elsewhere: a diff's other side, a parent, run and job inputs */
	json_decref(h_call(&S, "POST", DS "/train/versions", olga, "{}", 201));
	expect_hidden("GET", DS "/test/versions/1/diff?against=1", NULL);
	h_expect_error(&S, "POST", DS "/test/versions", ed, "{\"parent\":1}", 400, "parent");
	h_expect_error(&S, "POST", "/api/v1/projects/org/runs", ed,
		       "{\"inputs\":[{\"dataset\":\"test\",\"version\":1}]}", 400, "inputs[0].version");
	h_expect_error(&S, "POST", "/api/v1/projects/org/runs", ed,
		       "{\"inputs\":[{\"dataset\":\"test\",\"version\":\"latest\"}]}", 400, "inputs[0].version");
	h_expect_error(&S, "POST", "/api/v1/projects/org/jobs", ed,
		       "{\"command\":\"cat /data/t/truth.csv\",\"inputs\":[{\"dataset\":\"test\",\"version\":1,"
		       "\"as\":\"t\"}]}",
		       400, "inputs[0].version");
	/* the organiser's job gets past its inputs (to the next check: no worker here), so the 400 above is the rule */
	h_expect_error(&S, "POST", "/api/v1/projects/org/jobs", olga,
		       "{\"command\":\"true\",\"inputs\":[{\"dataset\":\"test\",\"version\":1,\"as\":\"t\"}]}", 422,
		       "resources");
	/* search and listings hold names, never the data */
	j = h_call(&S, "GET", "/api/v1/search?q=test", ed, NULL, 200);
	char *dump = json_dumps(j, 0);
	assert_null(strstr(dump, MARK));
	free(dump);
	json_decref(j);
	j = h_call(&S, "GET", DS "/test/versions", ed, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0); /* its one version is the hidden set */
	json_decref(j);
	/* the organiser still may */
	json_decref(h_call(&S, "GET", DS "/test/versions/1/files", olga, NULL, 200));
}

static void test_hidden_lineage(void **state)
{
	json_t *j;
	(void)state;

	/* an organiser's run read it: the model's lineage names the version, not its files */
	j = h_call(&S, "POST", "/api/v1/projects/org/runs", olga, "{\"inputs\":[{\"dataset\":\"test\",\"version\":1}]}",
		   201);
	long long run = f_int(j, "id");
	json_decref(j);
	json_decref(h_call(&S, "POST", "/api/v1/projects/org/models", olga, "{\"name\":\"m\"}", 201));
	j = h_call(&S, "POST", "/api/v1/projects/org/models/m/versions", olga, h_fmt("{\"source_run\":%lld}", run),
		   201);
	long long mv = f_int(j, "id");
	json_decref(j);
	expect_hidden_or("GET", h_fmt("/api/v1/model-versions/%lld/lineage", mv), NULL, true);
	j = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage", mv), ed, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "datasets")), 0); /* absent, as everywhere */
	json_decref(j);
	j = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage", mv), olga, NULL, 200);
	json_t *dv = json_array_get(json_object_get(j, "datasets"), 0);
	assert_int_equal(json_array_size(json_object_get(dv, "files")), 1);
	json_decref(j);
}

static void test_refusals(void **state)
{
	long st;
	json_t *j;
	(void)state;

	/* not a participant */
	j = submit(quinn, "id,prediction\n1,1\n", &st);
	assert_int_equal(st, 403);
	json_decref(j);
	/* a malformed file: 422 naming the first bad line, never a truth value, counts against no limit */
	for (int i = 0; i < 4; i++) {
		j = submit(out, "id,prediction\n1,1\n2,0\n2,1\n", &st);
		assert_int_equal(st, 422);
		assert_non_null(strstr(err_message(j), "line 4"));
		assert_null(strstr(err_message(j), MARK));
		json_decref(j);
	}
	j = submit(out, "id,prediction\n1,1\n", &st); /* missing ids */
	assert_int_equal(st, 422);
	json_decref(j);
	j = submit(out, "nope,prediction\n1,1\n", &st); /* bad header */
	assert_int_equal(st, 422);
	json_decref(j);
	h_expect_error(&S, "POST", C "/submissions?format=xml", out, "x", 400, "format");
	/* too big: max_bytes is 400 here (the head's Content-Length decides before any byte) */
	char big[1001];
	memset(big, 'x', 1000);
	big[1000] = 0;
	j = submit(pam, big, &st);
	assert_int_equal(st, 413);
	json_decref(j);
	/* not started yet: the head's time names the start */
	json_t *later =
		h_call(&S, "POST", "/api/v1/projects/org/competitions", olga,
		       h_fmt("{\"name\":\"later\",\"title\":\"t\",\"starts_at\":\"2098-01-01T00:00:00Z\","
			     "\"ends_at\":\"2099-01-01T00:00:00Z\",\"test\":{\"dataset\":\"test\",\"version\":1,"
			     "\"path\":\"truth.csv\"},\"metric\":\"accuracy\"}"),
		       201);
	json_decref(later);
	f_expect_message(&S, "POST", "/api/v1/competitions/later/submissions", out, "id,prediction\n", 409,
			 "starts at 2098-01-01T00:00:00");
	/* JSON Lines, with a bad line named */
	h_req_jsonl(422, "{\"id\": 1, \"prediction\": 1}\n{\"id\": 2,\n");
}

static void test_submissions(void **state)
{
	long st;
	json_t *j;
	(void)state;

	/* three a day */
	submit_ok(out, N_IDS);
	submit_ok(out, 10);
	submit_ok(pam, 20);
	j = submit(out, "id,prediction\n", &st);
	assert_int_equal(st, 429);
	assert_non_null(strstr(err_message(j), "the next is allowed at"));
	json_decref(j);
	/* ties: the same score, the earlier submission ranks first */
	submit_ok(vic, 30);
	submit_ok(ed, 30);
	j = h_call(&S, "GET", C "/submissions", out, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 3 + 7); /* the team's 7 invalid ones listed */
	json_decref(j);
	h_expect_error(&S, "GET", C "/submissions?all=true", out, NULL, 403, NULL);
	j = h_call(&S, "GET", C "/submissions?all=true", olga, NULL, 200);
	assert_false(json_is_null(json_object_get(json_array_get(json_object_get(j, "items"), 0), "private_score")));
	json_decref(j);
}

static double score_of(const json_t *board, const char *team, long long *rank)
{
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(board, "items"), i, it) if (!strcmp(f_str(it, "team"), team))
	{
		*rank = f_int(it, "rank");
		return json_real_value(json_object_get(it, "score"));
	}
	fail_msg("team %s not on the board", team);
	return 0;
}

static void test_boards(void **state)
{
	json_t *j, *sub;
	long long rank_blue, rank_ins, rank_solo, best = 0;
	long st;
	(void)state;

	j = h_call(&S, "GET", C "/leaderboard", quinn, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
	assert_true(score_of(j, "solo", &rank_solo) == 1.0);
	assert_int_equal(rank_solo, 1);
	assert_true(score_of(j, "blue", &rank_blue) == score_of(j, "insider", &rank_ins));
	assert_true(rank_blue < rank_ins); /* blue submitted first */
	json_decref(j);
	h_expect_error(&S, "GET", C "/leaderboard/private", out, NULL, 403, NULL);
	json_decref(h_call(&S, "GET", C "/leaderboard/private", olga, NULL, 200));
	/* selections: solo picks its worst as its only final */
	j = h_call(&S, "GET", C "/submissions", out, NULL, 200);
	json_t *it;
	size_t i;
	json_array_foreach(json_object_get(j, "items"), i,
			   it) if (!strcmp(f_str(it, "state"), "scored") &&
				   json_real_value(json_object_get(it, "public_score")) < 1.0) best = f_int(it, "id");
	json_decref(j);
	h_expect_error(&S, "POST", h_fmt(C "/submissions/%lld/select", best), out, "{\"selected\":\"yes\"}", 400,
		       "selected");
	h_expect_error(&S, "POST", h_fmt(C "/submissions/%lld/select", best), vic, "{\"selected\":true}", 404, NULL);
	sub = h_call(&S, "POST", h_fmt(C "/submissions/%lld/select", best), out, "{\"selected\":true}", 200);
	assert_true(json_is_true(json_object_get(sub, "selected")));
	json_decref(sub);
	/* the end: late submissions name it; the private board opens */
	json_decref(h_call(&S, "PATCH", C, olga, "{\"ends_at\":\"2021-01-01T00:00:00Z\"}", 200));
	j = submit(out, "id,prediction\n", &st);
	assert_int_equal(st, 409);
	assert_non_null(strstr(err_message(j), "ended at 2021-01-01T00:00:00"));
	json_decref(j);
	j = h_call(&S, "GET", C "/leaderboard/private", out, NULL, 200);
	assert_true(json_is_true(json_object_get(j, "final")));
	assert_true(score_of(j, "solo", &rank_solo) < 1.0); /* its selection, not its best */
	json_decref(j);
	h_expect_error(&S, "POST", h_fmt(C "/submissions/%lld/select", best), out, "{\"selected\":false}", 409, NULL);
	/* everything audited */
	assert_true(f_sql_int(&S, "SELECT count(*) FROM audit_log WHERE action LIKE 'competitions.%'") >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),	       cmocka_unit_test(test_read_patch),
		cmocka_unit_test(test_join),	       cmocka_unit_test(test_hidden_matrix),
		cmocka_unit_test(test_hidden_lineage), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_submissions),    cmocka_unit_test(test_boards),
	};
	static const char *const names[4] = { "olga", "ed", "vic", "out" };

	h_server_start(&S, NULL);
	f_people(&S, "org", names, people);
	snprintf(pam, sizeof(pam), "%s", h_user(&S, "pam", false));
	snprintf(quinn, sizeof(quinn), "%s", h_user(&S, "quinn", false));
	snprintf(root, sizeof(root), "%s", h_user(&S, "root", true));
	return f_finish(&S, cmocka_run_group_tests(tests, NULL, NULL));
}

/*
 * test_authz_matrix.c: the authorization matrix, generated from the route table (atr_routes,
 * linked in). Every route is called by every kind of caller: an admin, the project's owner,
 * editor, launcher (issue 20: runs launchers, reads, writes nothing else) and viewer, an outsider (a user with a project of their own), the tokens of three jobs
 * (one of another project, one of the project that reaches the fixture's run, job and inputs,
 * one of the project that reaches none of them), a deployment's invoke key, a worker's secret,
 * a metrics scrape token, and no token at all. Path parameters, MLflow's body and query
 * fields and required query parameters are filled from one fixture world (a private project
 * with a dataset version, a run with a metric and an artifact, a job with an output file, a
 * model version with an alias, a promotion, a deployment with keys, a team, a worker). The
 * answer is checked against what the row declares (.access, .resource, .role, .flags) and the
 * job-token rules of src/api/access.c:
 *   - no token: 401 (public routes excepted);
 *   - a kind of token the row does not take: 403; a user who is not an admin on an admin route: 403;
 *   - a private resource the caller cannot see: 404, with an error body (never data);
 *   - too low a role: 403;
 *   - allowed: anything but 401, 403, 500 (and 404 where the route's own object is found: reads
 *     of fixture objects, writes before anything was deleted).
 * Bodies are empty ("{}") for the REST routes, so an answer of the access decision must come
 * before body validation; MLflow routes get the fields their loader reads plus their required
 * fields, made from the row's body schema. Writes that pass the access decision run after all
 * reads and refusals, the destructive ones last (deepest paths first, the project's own last).
 * A route whose path parameter or resource kind the test cannot place fails the test, so a new
 * route is covered without anyone writing its case.
 */
#include "fixtures.h"

#include "atrium/credentials.h"
#include "atrium/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;

enum caller {
	C_ADMIN,
	C_OWNER,
	C_EDITOR,
	C_LAUNCHER, /* the launcher role: between viewer and editor */
	C_VIEWER,
	C_OUTSIDER,
	C_JOB_OTHER, /* a job of another project */
	C_JOB_SELF,  /* job J of the project: its run, its inputs, its job */
	C_JOB_PEER,  /* job J2 of the project: reaches none of the fixture's objects */
	C_INVOKE,
	C_WORKER,
	C_SCRAPE,
	C_NONE,
	C_COUNT
};
static const char *const caller_names[C_COUNT] = { "admin",    "owner",	    "editor",	"launcher", "viewer",
						   "outsider", "job-other", "job-self", "job-peer", "invoke-key",
						   "worker",   "scrape",    "no-token" };
static char tok[C_COUNT][160];

/* The fixture world. */
static long long pid, qid, run_id, run2_id, job_id, job2_id, dsv_id, dsv2_id, mv_id, promo_id, worker_id;
static long long spare_token_id, spare_scrape_id, spare_join_id, spare_key_id;
static long long monitor_id, channel_id; /* issue 16: a monitor of dep, a webhook channel */
static char run_uuid[40], run2_uuid[40];
static long long eval_id, sub_id; /* benchmark b's evaluation; competition c's submission (by vi) */
static long long sweep_id;	  /* a paused sweep of project p (issue 20), written as a row: no trial runs */

/* What a case expects. */
enum want { W_ALLOW, W_401, W_403, W_404 };

static long long pairs_checked, leaks;
static bool consumed; /* a destructive write succeeded: later destructive writes may find their object gone */

/* ---- the fixture ---- */

static long long int_of(json_t *j, const char *key)
{
	long long v = f_int(j, key);
	json_decref(j);
	return v;
}

static void job_token(char *out, long long project, long long job)
{
	char hash[65];
	assert_int_equal(atr_token_new(out, hash), 0);
	f_sql_exec(&S, h_fmt("INSERT INTO api_tokens(kind, user_id, name, token_hash, prefix, project_id, scope_id,"
			     " created_at) VALUES ('job', (SELECT id FROM users WHERE username = 'own'), 'job', '%s',"
			     " 'atr_', %lld, %lld, 0)",
			     hash, project, job));
}

/* A finished job of the project (made as the jobs layer stores one), with its run and inputs. */
static long long sql_job(long long run, const char *inputs, long long model_version)
{
	f_sql_exec(&S, h_fmt("INSERT INTO jobs(project_id, kind, state, command, inputs, run_id, model_version_id,"
			     " created_by, created_at, queued_at, updated_at) VALUES (%lld, 'training', 'succeeded',"
			     " '[\"true\"]', '%s', %lld, %s, (SELECT id FROM users WHERE username = 'own'), 0, 0, 0)",
			     pid, inputs, run, model_version ? h_fmt("%lld", model_version) : "NULL"));
	return f_sql_int(&S, "SELECT max(id) FROM jobs");
}

static void fixture_data(void)
{
	const char *own = tok[C_OWNER];
	json_t *j;

	json_decref(h_call(&S, "POST", "/api/v1/projects/p/datasets", own, "{\"name\":\"d\"}", 201));
	for (int v = 1; v <= 2; v++) {
		json_decref(h_call(&S, "POST", "/api/v1/projects/p/datasets/d/versions", own, "{}", 201));
		json_decref(f_put(&S, h_fmt("/api/v1/projects/p/datasets/d/versions/%d/files/a.txt", v), own, "hello",
				  5, NULL, 201));
		json_decref(h_call(&S, "POST", h_fmt("/api/v1/projects/p/datasets/d/versions/%d/commit", v), own, "{}",
				   200));
	}
	dsv_id = f_sql_int(&S, "SELECT v.id FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id"
			       " WHERE d.name = 'd' AND v.version = 1");
	dsv2_id = dsv_id + 1;
	j = h_call(&S, "POST", "/api/v1/projects/p/runs", own, "{\"name\":\"r\"}", 201);
	run_id = f_int(j, "id");
	snprintf(run_uuid, sizeof(run_uuid), "%s", f_str(j, "uuid"));
	json_decref(j);
	j = h_call(&S, "POST", "/api/v1/projects/p/runs", own, "{\"name\":\"r2\"}", 201);
	run2_id = f_int(j, "id");
	snprintf(run2_uuid, sizeof(run2_uuid), "%s", f_str(j, "uuid"));
	json_decref(j);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/runs/%lld/metrics", run_id), own,
			   "{\"metrics\":[{\"key\":\"loss\",\"value\":1,\"step\":1}]}", 200));
	json_decref(f_put(&S, h_fmt("/api/v1/runs/%lld/artifacts/a.txt", run_id), own, "hello", 5, NULL, 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/p/models", own, "{\"name\":\"m\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/p/models/m/versions", own, "{}", 201));
	json_decref(f_put(&S, "/api/v1/projects/p/models/m/versions/1/files/a.txt", own, "hello", 5, NULL, 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/p/models/m/versions/1/commit", own, "{}", 200));
	mv_id = f_sql_int(&S,
			  "SELECT v.id FROM model_versions v JOIN models m ON m.id = v.model_id WHERE m.name = 'm'");
	json_decref(h_call(&S, "PUT", "/api/v1/projects/p/models/m/aliases/champion", own, "{\"version\":1}", 200));
	promo_id = int_of(h_call(&S, "POST", "/api/v1/projects/p/models/m/versions/1/promotions", tok[C_EDITOR],
				 "{\"alias\":\"production\"}", 201),
			  "id");
	/* job J: the run r, dataset d version 1 as its input, model version 1 (as batch inference
	 * reads one), an output file; job J2: the run r2, no inputs */
	job_id = sql_job(
		run_id,
		h_fmt("[{\"dataset\":\"d\",\"version\":1,\"as\":\"train\",\"dataset_version_id\":%lld}]", dsv_id),
		mv_id);
	job2_id = sql_job(run2_id, "[]", 0);
	f_sql_exec(&S, h_fmt("INSERT INTO files(owner_kind, owner_id, path, sha256, size, created_at) SELECT"
			     " 'job_output', %lld, 'a.txt', sha256, size, 0 FROM files WHERE owner_kind = 'run'"
			     " AND owner_id = %lld AND path = 'a.txt'",
			     job_id, run_id));
}

static void fixture_service(void)
{
	const char *adm = S.admin_token;
	json_t *j;

	json_decref(h_call(&S, "POST", "/api/v1/teams", adm, "{\"name\":\"t\"}", 201));
	j = h_call(&S, "POST", "/api/v1/workers/register", NULL,
		   h_fmt("{\"join_token\":\"%s\",\"name\":\"w1\",\"url\":\"http://127.0.0.1:9/\",\"cpus\":8,"
			 "\"memory_mb\":8192}",
			 h_join_token(&S, "w")),
		   201);
	worker_id = f_int(j, "worker_id");
	snprintf(tok[C_WORKER], sizeof(tok[C_WORKER]), "%s", f_str(j, "secret"));
	json_decref(j);
	json_decref(h_call(&S, "POST", "/api/v1/projects/p/deployments", tok[C_EDITOR],
			   "{\"name\":\"dep\",\"model\":\"m\",\"version\":1,\"command\":[\"true\"]}", 201));
	j = h_call(&S, "POST", "/api/v1/deployments/dep/keys", tok[C_EDITOR], "{\"name\":\"k1\"}", 201);
	snprintf(tok[C_INVOKE], sizeof(tok[C_INVOKE]), "%s", f_str(j, "token"));
	json_decref(j);
	spare_key_id = int_of(
		h_call(&S, "POST", "/api/v1/deployments/dep/keys", tok[C_EDITOR], "{\"name\":\"k2\"}", 201), "id");
	j = h_call(&S, "POST", "/api/v1/metrics/tokens", adm, "{\"name\":\"s1\"}", 201);
	snprintf(tok[C_SCRAPE], sizeof(tok[C_SCRAPE]), "%s", f_str(j, "token"));
	json_decref(j);
	spare_scrape_id = int_of(h_call(&S, "POST", "/api/v1/metrics/tokens", adm, "{\"name\":\"s2\"}", 201), "id");
	spare_join_id = int_of(h_call(&S, "POST", "/api/v1/workers/join-tokens", adm, "{\"name\":\"j2\"}", 201), "id");
	monitor_id = int_of(h_call(&S, "POST", "/api/v1/deployments/dep/monitors", tok[C_EDITOR],
				   "{\"name\":\"mon\",\"watch\":\"error_rate\",\"alerting\":0.5}", 201),
			    "id");
	channel_id = int_of(h_call(&S, "POST", "/api/v1/notification-channels", adm,
				   "{\"name\":\"hook\",\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:9/\","
				   "\"secret\":\"sixteen-bytes-secret\"}",
				   201),
			    "id");
	spare_token_id = int_of(h_call(&S, "POST", "/api/v1/tokens", adm, "{\"name\":\"spare\"}", 201), "id");
	/* a Slurm cluster (issue 19): nothing behind its URL, only its routes are placed */
	json_decref(h_call(&S, "POST", "/api/v1/clusters", adm,
			   "{\"name\":\"hpc\",\"url\":\"http://127.0.0.1:9/slurm/v0.0.38\",\"auth\":\"jwt_key\","
			   "\"secret_path\":\"/nonexistent/key\",\"user\":\"u\",\"shared_dir\":\"/nonexistent\"}",
			   201));
}

/* Issue 15's objects: benchmark b (ground truth in dataset "lab") with an evaluation of model
 * version m/1 and m's gate on it (met: threshold 0); competition c of project p, hidden test set
 * in dataset "hid" (not d: the hidden rule would change d's answers), which the viewer plays in
 * an ad-hoc team with one submission (its training data: d/1). Selecting a submission checks the
 * body before who plays (a 400 to all). */
static void fixture_evaluate(void)
{
	const char *own = tok[C_OWNER], *truth = "id,label\n1,cat\n2,dog\n";
	const char *const sets[2] = { "lab", "hid" };
	json_t *j;

	for (int i = 0; i < 2; i++) {
		json_decref(h_call(&S, "POST", "/api/v1/projects/p/datasets", own, h_fmt("{\"name\":\"%s\"}", sets[i]),
				   201));
		json_decref(
			h_call(&S, "POST", h_fmt("/api/v1/projects/p/datasets/%s/versions", sets[i]), own, "{}", 201));
		json_decref(f_put(&S, h_fmt("/api/v1/projects/p/datasets/%s/versions/1/files/truth.csv", sets[i]), own,
				  truth, strlen(truth), NULL, 201));
		json_decref(h_call(&S, "POST", h_fmt("/api/v1/projects/p/datasets/%s/versions/1/commit", sets[i]), own,
				   "{}", 200));
	}
	json_decref(h_call(&S, "POST", "/api/v1/projects/p/benchmarks", own,
			   "{\"name\":\"b\",\"dataset\":\"lab\",\"version\":1,\"file\":\"truth.csv\","
			   "\"metrics\":[{\"name\":\"accuracy\"}]}",
			   201));
	j = h_call(&S, "POST", "/api/v1/projects/p/benchmarks/b/evaluations?model=m&version=1", own,
		   "id,prediction\n1,cat\n2,cat\n", 201);
	eval_id = f_int(j, "id");
	json_decref(j);
	json_decref(h_call(&S, "PUT", "/api/v1/projects/p/models/m/gate", own,
			   "{\"benchmark\":\"b\",\"metric\":\"accuracy\",\"threshold\":0}", 200));
	json_decref(h_call(&S, "POST", "/api/v1/projects/p/competitions", own,
			   "{\"name\":\"c\",\"title\":\"C\",\"starts_at\":\"2020-01-01T00:00:00Z\","
			   "\"ends_at\":\"2099-01-01T00:00:00Z\",\"training\":{\"dataset\":\"d\",\"version\":1},"
			   "\"test\":{\"dataset\":\"hid\",\"version\":1,\"path\":\"truth.csv\"},"
			   "\"metric\":\"accuracy\",\"daily_limit\":100}",
			   201));
	json_decref(h_call(&S, "POST", "/api/v1/competitions/c/join", tok[C_VIEWER], "{\"name\":\"vis\"}", 200));
	j = h_call(&S, "POST", "/api/v1/competitions/c/submissions?format=csv", tok[C_VIEWER],
		   "id,prediction\n1,cat\n2,dog\n", 201);
	sub_id = f_int(j, "id");
	json_decref(j);
}

/* Issue 20's objects: launcher ln of p (runnable with its defaults). */
static void fixture_launcher(void)
{
	json_decref(h_call(&S, "POST", "/api/v1/projects/p/launchers", tok[C_OWNER],
			   "{\"name\":\"ln\",\"spec\":{\"command\":[\"echo\",\"{{msg}}\"]},"
			   "\"parameters\":[{\"name\":\"msg\",\"type\":\"string\",\"default\":\"hi\"}]}",
			   201));
}

static int setup(void **state)
{
	const char *const names[4] = { "own", "ed", "vi", "out" };
	char people[4][128];
	(void)state;

	h_server_start(&S, NULL);
	f_people(&S, "p", names, people);
	snprintf(tok[C_OWNER], sizeof(tok[0]), "%s", people[0]);
	snprintf(tok[C_EDITOR], sizeof(tok[0]), "%s", people[1]);
	snprintf(tok[C_VIEWER], sizeof(tok[0]), "%s", people[2]);
	snprintf(tok[C_OUTSIDER], sizeof(tok[0]), "%s", people[3]);
	snprintf(tok[C_LAUNCHER], sizeof(tok[0]), "%s", h_user(&S, "lau", false));
	f_member(&S, "p", "lau", "launcher");
	snprintf(tok[C_ADMIN], sizeof(tok[0]), "%s", S.admin_token);
	h_user(&S, "spare", false);
	f_member(&S, "p", "spare", "viewer");
	f_project(&S, tok[C_OUTSIDER], "q", "private");
	pid = f_sql_int(&S, "SELECT id FROM projects WHERE name = 'p'");
	qid = f_sql_int(&S, "SELECT id FROM projects WHERE name = 'q'");
	fixture_data();
	fixture_service();
	fixture_evaluate();
	fixture_launcher();
	f_sql_exec(&S, h_fmt("INSERT INTO sweeps(project_id, launcher_id, launcher_version, name, method, search_space,"
			     " max_trials, parallelism, metric, direction, seed, state, created_at, updated_at)"
			     " VALUES (%lld, 0, 1, 'sw', 'random', '{\"q\":{\"type\":\"int\",\"min\":1,\"max\":2}}',"
			     " 1, 1, 'loss', 'minimize', 1, 'paused', 0, 0)",
			     pid));
	sweep_id = f_sql_int(&S, "SELECT max(id) FROM sweeps");
	job_token(tok[C_JOB_OTHER], qid, 999999);
	job_token(tok[C_JOB_SELF], pid, job_id);
	job_token(tok[C_JOB_PEER], pid, job2_id);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_server_cleanup(&S);
	return 0;
}

/* ---- placing a route: its path, query and body ---- */

/* The value of path parameter name in pattern, or NULL: the test cannot place it. */
static const char *param_value(const char *pattern, const char *name)
{
	static const struct {
		const char *prefix; /* of the pattern, for {id} */
		long long *id;
	} ids[] = {
		{ "/api/v1/metrics/tokens/", &spare_scrape_id },
		{ "/api/v1/tokens/", &spare_token_id },
		{ "/api/v1/workers/join-tokens/", &spare_join_id },
		{ "/api/v1/workers/jobs/", &job_id },
		{ "/api/v1/workers/", &worker_id },
		{ "/api/v1/deployments/{name}/keys/", &spare_key_id },
		{ "/api/v1/deployments/{name}/monitors/", &monitor_id },
		{ "/api/v1/notification-channels/", &channel_id },
		{ "/api/v1/promotions/", &promo_id },
		{ "/api/v1/competitions/{competition}/submissions/", &sub_id },
		{ "/api/v1/model-versions/", &mv_id },
		{ "/api/2.0/mlflow-artifacts/artifacts/registry/", &mv_id },
	};
	bool mlflow_artifacts = strncmp(pattern, "/api/2.0/mlflow-artifacts/", 26) == 0;

	if (!strcmp(name, "project"))
		return "p";
	if (!strcmp(name, "dataset"))
		return "d";
	if (!strcmp(name, "model"))
		return "m";
	if (!strcmp(name, "version"))
		return "1";
	if (!strcmp(name, "key"))
		return "loss";
	if (!strcmp(name, "alias"))
		return "champion";
	if (!strcmp(name, "name"))
		return "dep";
	if (!strcmp(name, "user"))
		return "spare";
	if (!strcmp(name, "team"))
		return "t";
	if (!strcmp(name, "op"))
		return "create";
	if (!strcmp(name, "path..."))
		return "a.txt";
	if (!strcmp(name, "benchmark"))
		return "b";
	if (!strcmp(name, "evaluation"))
		return h_fmt("%lld", eval_id);
	if (!strcmp(name, "competition"))
		return "c";
	if (!strcmp(name, "launcher"))
		return "ln";
	if (!strcmp(name, "cluster"))
		return "hpc";
	if (!strcmp(name, "sweep"))
		return h_fmt("%lld", sweep_id);
	if (!strcmp(name, "experiment"))
		return h_fmt("%lld", pid);
	if (!strcmp(name, "run"))
		return mlflow_artifacts ? run_uuid : h_fmt("%lld", run_id);
	if (!strcmp(name, "job"))
		return h_fmt("%lld", job_id);
	if (!strcmp(name, "id"))
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
			if (!strncmp(pattern, ids[i].prefix, strlen(ids[i].prefix)))
				return h_fmt("%lld", *ids[i].id);
	return NULL;
}

/* The route's path with its parameters filled (false: a parameter the test cannot place). */
static bool fill_path(const struct atr_route *rt, char *out, size_t len)
{
	const char *p = rt->pattern;
	size_t n = 0;

	while (*p && n + 1 < len) {
		const char *end;
		char name[32];
		const char *v;

		if (*p != '{') {
			out[n++] = *p++;
			continue;
		}
		end = strchr(p, '}');
		if (!end || (size_t)(end - p - 1) >= sizeof(name))
			return false;
		memcpy(name, p + 1, (size_t)(end - p - 1));
		name[end - p - 1] = 0;
		if (!(v = param_value(rt->pattern, name)))
			return false;
		n += (size_t)snprintf(out + n, len - n, "%s", v);
		p = end + 1;
	}
	out[n < len ? n : len - 1] = 0;
	return n + 1 < len;
}

/* What an MLflow loader reads, by field name (NULL: not one of them). */
static const char *loader_value(const char *name)
{
	if (!strcmp(name, "run_id"))
		return run_uuid;
	if (!strcmp(name, "experiment_id"))
		return h_fmt("%lld", pid);
	if (!strcmp(name, "name"))
		return "p/m";
	if (!strcmp(name, "version"))
		return "1";
	if (!strcmp(name, "path"))
		return h_fmt("%lld/%s/artifacts", pid, run_uuid);
	if (!strcmp(name, "metric_key") || !strcmp(name, "key"))
		return "loss";
	if (!strcmp(name, "alias"))
		return "champion";
	return NULL;
}

/* A string of the field's shape: its first enum value, else "x" (min bytes long). */
static json_t *some_string(const char *enums, int64_t min)
{
	char buf[80] = "x";

	if (enums && *enums) {
		const char *bar = strchr(enums, '|');
		size_t n = bar ? (size_t)(bar - enums) : strlen(enums);
		snprintf(buf, sizeof(buf), "%.*s", (int)n, enums);
	} else if (min > 1) {
		memset(buf, 'x', (size_t)(min < 79 ? min : 79));
		buf[min < 79 ? min : 79] = 0;
	}
	return json_string(buf);
}

static json_t *some_body(const struct atr_field *schema);

/* A value that passes the field's checks. */
static json_t *some_value(const struct atr_field *f)
{
	switch (f->type) {
	case ATR_F_INT:
		return json_integer(f->min > 0 ? f->min : (f->max > 0 ? 1 : 0));
	case ATR_F_NUMBER:
		return json_real((double)f->min);
	case ATR_F_BOOL:
		return json_false();
	case ATR_F_OBJECT:
		return f->sub ? some_body(f->sub) : json_object();
	case ATR_F_ARRAY:
		return f->min > 0 ? json_pack("[o]", f->sub ? some_body(f->sub) : json_object()) : json_array();
	case ATR_F_STRLIST:
		return f->min > 0 ? json_pack("[s]", "x") : json_array();
	case ATR_F_IDLIST:
		return f->min > 0 ? json_pack("[i]", 1) : json_array();
	case ATR_F_TIME:
		return json_string("2026-01-01T00:00:00Z");
	case ATR_F_URL:
		return json_string("http://127.0.0.1:9/");
	case ATR_F_URL_PATH:
		return json_string("/x");
	case ATR_F_COMMAND:
		return json_pack("[s]", "true");
	case ATR_F_INT_OR_STRING:
		return f->enums ? some_string(f->enums, 1) : json_integer(1);
	case ATR_F_STRMAP:
	case ATR_F_ENV:
	case ATR_F_LABELS:
	case ATR_F_STRMAP_PATCH:
	case ATR_F_ANY:
		return json_object();
	default:
		return some_string(f->enums, f->min);
	}
}

/* The fields an MLflow loader reads, and the required ones. */
static json_t *some_body(const struct atr_field *schema)
{
	json_t *o = json_object();

	for (const struct atr_field *f = schema; f && f->name; f++) {
		const char *v = loader_value(f->name);
		if (v && (f->type == ATR_F_INT || f->type == ATR_F_INT_OR_STRING) && strcmp(f->name, "version") != 0)
			json_object_set_new(o, f->name, json_integer(strtoll(v, NULL, 10)));
		else if (v)
			json_object_set_new(o, f->name, json_string(v));
		else if (f->flags & ATR_FF_REQUIRED)
			json_object_set_new(o, f->name, some_value(f));
	}
	return o;
}

/* "?a=1&b=x": MLflow's loader fields and the required parameters. */
static void fill_query(const struct atr_route *rt, char *out, size_t len)
{
	size_t n = 0;

	out[0] = 0;
	for (const struct atr_qparam *q = rt->query; q && q->name && n < len; q++) {
		const char *v = loader_value(q->name);
		char num[32];

		if (!v && !(q->flags & ATR_QF_REQUIRED))
			continue;
		if (!v && (q->type == ATR_Q_INT)) {
			snprintf(num, sizeof(num), "%lld", (long long)(q->min > 0 ? q->min : 1));
			v = num;
		} else if (!v && (q->type == ATR_Q_ENUM || q->type == ATR_Q_ENUM_LIST)) {
			const char *bar = strchr(q->enums, '|');
			snprintf(num, sizeof(num), "%.*s", (int)(bar ? (size_t)(bar - q->enums) : strlen(q->enums)),
				 q->enums);
			v = num;
		} else if (!v) {
			v = q->type == ATR_Q_BOOL ? "false" : q->type == ATR_Q_TIME ? "2026-01-01T00:00:00Z" : "x";
		}
		n += (size_t)snprintf(out + n, len - n, "%c%s=%s", n ? '&' : '?', q->name, v);
	}
}

/* ---- what the row declares ---- */

static bool is_read(const struct atr_route *rt)
{
	return !strcmp(rt->method, "GET") || !strcmp(rt->method, "HEAD");
}

/* The caller's role in project p, before the job rules. */
static enum atr_prole role_of(enum caller c)
{
	switch (c) {
	case C_ADMIN:
	case C_OWNER:
		return ATR_PROLE_OWNER;
	case C_EDITOR:
	case C_JOB_SELF:
	case C_JOB_PEER:
		return ATR_PROLE_EDITOR;
	case C_LAUNCHER:
		return ATR_PROLE_LAUNCHER;
	case C_VIEWER:
		return ATR_PROLE_VIEWER;
	default:
		return ATR_PROLE_NONE;
	}
}

/* Whether the token's kind passes the row's .access and flags (else 401 or 403). */
static enum want kind_check(const struct atr_route *rt, enum caller c)
{
	bool user = c <= C_OUTSIDER, job = c >= C_JOB_OTHER && c <= C_JOB_PEER;

	if (rt->access == ATR_ACCESS_PUBLIC)
		return W_ALLOW;
	if (c == C_NONE)
		return W_401;
	switch (rt->access) {
	case ATR_ACCESS_ADMIN:
		return c == C_ADMIN || (c == C_SCRAPE && (rt->flags & ATR_RF_SCRAPE_OK)) ? W_ALLOW : W_403;
	case ATR_ACCESS_WORKER:
		return c == C_WORKER ? W_ALLOW : W_403;
	default:
		return user || (job && (rt->flags & ATR_RF_JOB_OK)) || (c == C_INVOKE && (rt->flags & ATR_RF_INVOKE_OK))
			       ? W_ALLOW
			       : W_403;
	}
}

/* What job J's token reaches of the fixture (src/api/access.c): 0 none, 1 read, 2 write. */
static int job_self_reach(const struct atr_route *rt)
{
	switch (rt->resource) {
	case ATR_RES_PROJECT: /* its project: a read, or starting a run */
		return !(rt->flags & ATR_RF_JOB_PROJECT) ? 0 : is_read(rt) ? 1 : 2;
	case ATR_RES_RUN: /* its run (the artifact listing names it too) */
	case ATR_RES_JOB: /* its job */
		return 2;
	case ATR_RES_DATASET_VERSION: /* its input */
	case ATR_RES_MODEL_VERSION:
	case ATR_RES_MODEL_VERSION_ID:
		return 1;
	case ATR_RES_DEPLOYMENT:
		return (rt->flags & ATR_RF_INVOKE_OK) ? 2 : 0;
	default:
		return 0;
	}
}

/*
 * Rules that depend on the request's content, decided by the handler with
 * api_need_role_or_reply or a rule of its own (the fixture meets them this way): a team's
 * members are managed by admins and the team's maintainers (the fixture's team has none);
 * deciding a promotion of the `production` alias needs an owner.
 */
static const struct {
	const char *name;
	enum caller lowest; /* callers below it (in role) get 403 */
} content_rules[] = {
	{ "teams.members.set", C_ADMIN },
	{ "teams.members.remove", C_ADMIN },
	{ "promotions.approve", C_OWNER },
	{ "promotions.reject", C_OWNER },
};

/* Competition c's rules that depend on who plays (the fixture's viewer plays, nobody else):
 * the callers each refuses with 403. */
#define BIT(c) (1u << (c))
static const struct {
	const char *name;
	unsigned refused;
} player_rules[] = {
	{ "competitions.submissions.create",
	  BIT(C_ADMIN) | BIT(C_OWNER) | BIT(C_EDITOR) | BIT(C_LAUNCHER) | BIT(C_OUTSIDER) },
	{ "competitions.submissions.list",
	  BIT(C_ADMIN) | BIT(C_OWNER) | BIT(C_EDITOR) | BIT(C_LAUNCHER) | BIT(C_OUTSIDER) },
	{ "competitions.leaderboard.private",
	  BIT(C_EDITOR) | BIT(C_LAUNCHER) | BIT(C_VIEWER) | BIT(C_OUTSIDER) }, /* before the end */
	/* the training data: participants and organisers (issue 15) */
	{ "competitions.data.list", BIT(C_EDITOR) | BIT(C_LAUNCHER) | BIT(C_OUTSIDER) },
	{ "competitions.data.get", BIT(C_EDITOR) | BIT(C_LAUNCHER) | BIT(C_OUTSIDER) },
};

static enum want content_rule(const struct atr_route *rt, enum caller c, enum want w)
{
	for (size_t i = 0; w == W_ALLOW && i < sizeof(player_rules) / sizeof(player_rules[0]); i++)
		if (!strcmp(rt->name, player_rules[i].name) && (player_rules[i].refused & BIT(c)))
			return W_403;
	for (size_t i = 0; w == W_ALLOW && i < sizeof(content_rules) / sizeof(content_rules[0]); i++)
		if (!strcmp(rt->name, content_rules[i].name) && c > content_rules[i].lowest)
			return W_403;
	return w;
}

/* The answer the row declares for the caller; fails the test on a resource kind it cannot place. */
static enum want expected(const struct atr_route *rt, enum caller c)
{
	enum want w = kind_check(rt, c);
	enum atr_prole role = role_of(c);
	int reach;

	if (w != W_ALLOW || rt->resource == ATR_RES_NONE || rt->access != ATR_ACCESS_USER)
		return content_rule(rt, c, w);
	if (rt->resource >= ATR_RES_COUNT || rt->resource < ATR_RES_PROJECT) {
		fprintf(stderr, "authz matrix: %s %s: resource kind %d is not placed by the test\n", rt->method,
			rt->pattern, (int)rt->resource);
		fail();
	}
	if (rt->resource == ATR_RES_COMPETITION) /* any user sees it; its project's owners organise it */
		role = c > C_OUTSIDER ? ATR_PROLE_NONE : c <= C_OWNER ? ATR_PROLE_OWNER : ATR_PROLE_VIEWER;
	if (c == C_INVOKE) /* invoke keys: only INVOKE_OK routes, all on their deployment */
		role = rt->resource == ATR_RES_DEPLOYMENT ? ATR_PROLE_VIEWER : ATR_PROLE_NONE;
	if (role == ATR_PROLE_NONE)
		return W_404;
	if (c == C_JOB_PEER || c == C_JOB_SELF) {
		reach = job_self_reach(rt);
		if (c == C_JOB_PEER && rt->resource != ATR_RES_PROJECT && rt->resource != ATR_RES_DEPLOYMENT)
			reach = 0; /* J2 reaches none of the fixture's objects */
		if (!reach)
			return W_404;
		if (reach == 1 && !is_read(rt))
			return W_403;
	}
	if (role < rt->role)
		return W_403;
	if (rt->flags & ATR_RF_SELF) /* the job's own token only */
		return c == C_JOB_SELF ? W_ALLOW : W_403;
	return content_rule(rt, c, W_ALLOW);
}

/* ---- sending ---- */

static bool destructive(const struct atr_route *rt)
{
	static const char *const words[] = { "delete", "archive", "revoke", "remove", "deregister", "rename", "leave" };

	if (!strcmp(rt->method, "DELETE"))
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(rt->name, words[i]))
			return true;
	return false;
}

static bool error_body(const struct h_resp *r)
{
	return r->json && (json_object_get(r->json, "error") || json_object_get(r->json, "error_code"));
}

/* Sends the case and checks it; a leak or a wrong refusal is printed and counted. */
static void check_case(const struct atr_route *rt, enum caller c, const char *path, const char *body)
{
	enum want w = expected(rt, c);
	static const long status_of[] = { [W_401] = 401, [W_403] = 403, [W_404] = 404 };
	const char *const hdrs[] = { "Content-Type: application/json", NULL };
	bool ok;
	struct h_resp r;

	h_req(&S, rt->method, path, c == C_NONE ? NULL : tok[c], body, body ? hdrs : NULL, &r);
	pairs_checked++;
	if (w != W_ALLOW) {
		ok = r.status == status_of[w] && error_body(&r);
	} else {
		bool may_404 = rt->resource == ATR_RES_NONE || (!is_read(rt) && destructive(rt) && consumed);
		ok = r.status != 401 && r.status != 403 && r.status != 500 && (r.status != 404 || may_404);
		if (ok && destructive(rt) && r.status >= 200 && r.status < 300)
			consumed = true;
	}
	if (!ok) {
		leaks++;
		fprintf(stderr, "authz matrix: %s %s (%s) as %s: expected %s, got %ld: %.300s\n", rt->method, path,
			rt->name, caller_names[c],
			w == W_ALLOW ? "an answer past the access decision" : h_fmt("%ld", status_of[w]), r.status,
			r.body ? r.body : "");
	}
	h_resp_free(&r);
}

/* The request of a route: its path (with query) and body; false when it cannot be placed. */
static bool place(const struct atr_route *rt, char *path, size_t len, char **body)
{
	char query[512];
	size_t n;

	*body = NULL;
	if (!fill_path(rt, path, len))
		return false;
	n = strlen(path);
	fill_query(rt, query, sizeof(query));
	snprintf(path + n, len - n, "%s", query);
	if (is_read(rt))
		return true;
	if ((rt->flags & ATR_RF_MLFLOW) && rt->body) {
		json_t *b = some_body(rt->body);
		*body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
	} else if ((rt->flags & ATR_RF_MLFLOW) && (rt->flags & ATR_RF_RAW_BODY)) {
		*body = strdup(h_fmt("{\"run_id\":\"%s\"}", run_uuid));
	} else {
		*body = strdup(rt->flags & ATR_RF_STREAM ? "x" : "{}");
	}
	return *body != NULL;
}

enum phase { P_READS_AND_REFUSALS, P_WRITES, P_DESTRUCTIVE };

/* Runs the route's cases of one phase: refusals and reads first, allowed writes after. */
static void route_cases(const struct atr_route *rt, enum phase phase)
{
	char path[1024], *body;

	if (!place(rt, path, sizeof(path), &body)) {
		fprintf(stderr, "authz matrix: %s %s: a path parameter is not placed by the test\n", rt->method,
			rt->pattern);
		fail();
	}
	/* allowed callers from the lowest role up: a destructive write by the first leaves nothing for the next */
	for (int c = C_COUNT - 1; c >= 0; c--) {
		bool allowed = expected(rt, (enum caller)c) == W_ALLOW;
		enum phase mine = !allowed || is_read(rt) ? P_READS_AND_REFUSALS
				  : destructive(rt)	  ? P_DESTRUCTIVE
							  : P_WRITES;
		if (mine == phase)
			check_case(rt, (enum caller)c, path, body);
	}
	free(body);
}

/* Destructive routes: deepest paths first, the project's own (and MLflow's experiments) last. */
static int depth_order(const void *a, const void *b)
{
	const struct atr_route *x = *(const struct atr_route *const *)a, *y = *(const struct atr_route *const *)b;
	bool xp = x->resource == ATR_RES_PROJECT, yp = y->resource == ATR_RES_PROJECT;

	if (xp != yp)
		return xp ? 1 : -1;
	return (int)strlen(y->pattern) - (int)strlen(x->pattern);
}

static void test_matrix(void **state)
{
	const struct atr_route **order = calloc(atr_routes_count, sizeof(*order));
	(void)state;

	assert_non_null(order);
	for (size_t i = 0; i < atr_routes_count; i++)
		route_cases(&atr_routes[i], P_READS_AND_REFUSALS);
	for (size_t i = 0; i < atr_routes_count; i++)
		route_cases(&atr_routes[i], P_WRITES);
	for (size_t i = 0; i < atr_routes_count; i++)
		order[i] = &atr_routes[i];
	qsort(order, atr_routes_count, sizeof(*order), depth_order);
	for (size_t i = 0; i < atr_routes_count; i++)
		route_cases(order[i], P_DESTRUCTIVE);
	free(order);
	fprintf(stderr, "authz matrix: %zu routes x %d callers: %lld (route, caller) pairs checked, %lld wrong\n",
		atr_routes_count, (int)C_COUNT, pairs_checked, leaks);
	assert_int_equal(leaks, 0);
}

/* Issue 17, item 9: a job's token reaches its own job and run, its declared inputs (read only)
 * and what it writes; anything else of its project answers 404, as to an outsider. */
static void test_job_token_reach(void **state)
{
	const char *self = tok[C_JOB_SELF];
	char writer[160];
	long long writer_job, own_run;
	json_t *j;
	(void)state;

	/* its own run and job; another run and job of the project: absent */
	json_decref(h_call(&S, "GET", h_fmt("/api/v1/runs/%lld", run_id), self, NULL, 200));
	json_decref(h_call(&S, "GET", h_fmt("/api/2.0/mlflow/runs/get?run_id=%s", run_uuid), self, NULL, 200));
	json_decref(h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", job_id), self, NULL, 200));
	h_expect_error(&S, "GET", h_fmt("/api/v1/runs/%lld", run2_id), self, NULL, 404, NULL);
	h_expect_error(&S, "POST", h_fmt("/api/v1/runs/%lld/metrics", run2_id), self,
		       "{\"metrics\":[{\"key\":\"x\",\"value\":1}]}", 404, NULL);
	j = h_call(&S, "GET", h_fmt("/api/2.0/mlflow/runs/get?run_id=%s", run2_uuid), self, NULL, 404);
	assert_string_equal(f_str(j, "error_code"), "RESOURCE_DOES_NOT_EXIST");
	json_decref(j);
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld", job2_id), self, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", job2_id), self, NULL, 404, NULL);
	/* its declared input, read only; another version of the same dataset: absent */
	json_decref(h_call(&S, "GET", "/api/v1/projects/p/datasets/d/versions/1", self, NULL, 200));
	json_decref(h_call(&S, "GET", "/api/v1/projects/p/datasets/d/versions/1/files/a.txt", self, NULL, 200));
	h_expect_error(&S, "POST", "/api/v1/projects/p/datasets/d/versions/1/commit", self, "{}", 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/p/datasets/d/versions/2", self, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/p/datasets/d/versions/2/files/a.txt", self, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/p/datasets/d", self, NULL, 404, NULL);
	/* its model (batch inference) read only; listings and searches of the project: absent / refused */
	json_decref(h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld", mv_id), self, NULL, 200));
	h_expect_error(&S, "DELETE", "/api/v1/projects/p/models/m/versions/1", self, NULL, 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/p/runs", self, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/p/jobs", self, NULL, 404, NULL);
	j = h_call(&S, "POST", "/api/2.0/mlflow/runs/search", self, "{\"experiment_ids\":[\"1\"]}", 403);
	assert_string_equal(f_str(j, "error_code"), "PERMISSION_DENIED");
	json_decref(j);
	/* a run it starts is its own */
	j = h_call(&S, "POST", "/api/v1/projects/p/runs", self, "{\"name\":\"nested\"}", 201);
	own_run = f_int(j, "id");
	json_decref(j);
	json_decref(h_call(&S, "PATCH", h_fmt("/api/v1/runs/%lld", own_run), self, "{\"status\":\"finished\"}", 200));
	h_expect_error(&S, "GET", h_fmt("/api/v1/runs/%lld", own_run), tok[C_JOB_PEER], NULL, 404, NULL);
	/* a job that declared model m as its output writes versions of it, not the versions of others */
	writer_job = sql_job(0, "[]", 0);
	f_sql_exec(&S,
		   h_fmt("UPDATE jobs SET outputs = '{\"model\":\"m\"}', run_id = NULL WHERE id = %lld", writer_job));
	job_token(writer, pid, writer_job);
	j = h_call(&S, "POST", "/api/v1/projects/p/models/m/versions", writer, "{}", 201);
	json_decref(f_put(&S, h_fmt("/api/v1/projects/p/models/m/versions/%lld/files/w.bin", f_int(j, "version")),
			  writer, "w", 1, NULL, 201));
	json_decref(j);
	h_expect_error(&S, "GET", "/api/v1/projects/p/models/m/versions/1", writer, NULL, 404, NULL);
	/* registering a version from a run it does not reach: that run is as absent as elsewhere */
	h_expect_error(&S, "POST", "/api/v1/projects/p/models/m/versions", writer,
		       h_fmt("{\"source_run\":%lld}", run_id), 400, "source_run");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_token_reach),
		cmocka_unit_test(test_matrix),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}

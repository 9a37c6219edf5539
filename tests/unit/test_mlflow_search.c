/*
 * test_mlflow_search.c: MLflow's search grammar (src/core/mlflow_query.c) against the examples
 * of MLflow's own tests (tests/utils/test_search_utils.py: what parses into what, what is
 * refused), the experiment filter, then MLflow queries on Atrium's run search in a real
 * database against a brute-force model: MLflow's fields (run id, user, start and end times,
 * artifact URI, datasets) and operators (LIKE, ILIKE, IN, NOT IN), NaN metrics, several order
 * terms, several projects, the deleted view, every plan, paginated to the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/metric_batch.h"
#include "atrium/mlflow_query.h"
#include "atrium/store_identity.h"
#include "atrium/store_metrics.h"
#include "atrium/store_mlflow_tracking.h"
#include "atrium/store_projects.h"
#include "atrium/store_runs.h"

static struct atr_runquery Q;
static char text[8192], msg[300];

static int filter(const char *s)
{
	atr_rq_init(&Q);
	snprintf(text, sizeof(text), "%s", s);
	return atr_mlq_parse_filter(text, &Q, msg, sizeof(msg));
}

static void clause_is(int i, enum atr_rq_field f, const char *key, enum atr_rq_op op, const char *str)
{
	assert_true(i < Q.n);
	assert_int_equal(Q.c[i].field, f);
	if (key)
		assert_string_equal(Q.c[i].key, key);
	assert_int_equal(Q.c[i].op, op);
	if (str)
		assert_string_equal(Q.c[i].str, str);
}

/* MLflow's test_filter examples (what its parse_search_filter returns), as Atrium reads them. */
static void test_mlflow_examples(void **state)
{
	(void)state;
	assert_int_equal(filter("metric.acc >= 0.94"), 0);
	clause_is(0, ATR_RQ_METRIC, "acc", ATR_RQ_GE, "0.94");
	assert_true(Q.c[0].num == 0.94);
	assert_int_equal(filter("metric.acc>=100"), 0);
	assert_true(Q.c[0].num == 100);
	assert_int_equal(filter("params.m!='tf'"), 0);
	clause_is(0, ATR_RQ_PARAM, "m", ATR_RQ_NE, "tf");
	assert_int_equal(filter("params.\"m\"!=\"tf\""), 0);
	clause_is(0, ATR_RQ_PARAM, "m", ATR_RQ_NE, "tf");
	assert_int_equal(filter("metric.\"legit name\" >= 0.243"), 0);
	clause_is(0, ATR_RQ_METRIC, "legit name", ATR_RQ_GE, NULL);
	assert_int_equal(filter("metrics.XYZ = 3"), 0);
	clause_is(0, ATR_RQ_METRIC, "XYZ", ATR_RQ_EQ, NULL);
	assert_int_equal(filter("params.\"cat dog\" = \"pets\""), 0);
	clause_is(0, ATR_RQ_PARAM, "cat dog", ATR_RQ_EQ, "pets");
	assert_int_equal(filter("metrics.\"X-Y-Z\" = 3"), 0);
	clause_is(0, ATR_RQ_METRIC, "X-Y-Z", ATR_RQ_EQ, NULL);
	assert_int_equal(filter("metrics.\"X//Y#$$@&Z\" = 3"), 0);
	clause_is(0, ATR_RQ_METRIC, "X//Y#$$@&Z", ATR_RQ_EQ, NULL);
	assert_int_equal(filter("params.model = 'LinearRegression'"), 0);
	clause_is(0, ATR_RQ_PARAM, "model", ATR_RQ_EQ, "LinearRegression");
	assert_int_equal(filter("metrics.rmse < 1 and params.model_class = 'LogisticRegression'"), 0);
	assert_int_equal(Q.n, 2);
	clause_is(1, ATR_RQ_PARAM, "model_class", ATR_RQ_EQ, "LogisticRegression");
	assert_int_equal(filter(""), 0);
	assert_int_equal(Q.n, 0);
	assert_int_equal(filter("`metric`.a >= 0.1"), 0);
	clause_is(0, ATR_RQ_METRIC, "a", ATR_RQ_GE, NULL);
	assert_int_equal(filter("tags.version = 'commit-hash'"), 0);
	clause_is(0, ATR_RQ_TAG, "version", ATR_RQ_EQ, "commit-hash");
	assert_int_equal(filter("`tags`.source_name = 'a notebook'"), 0);
	clause_is(0, ATR_RQ_TAG, "source_name", ATR_RQ_EQ, "a notebook");
	assert_int_equal(filter("metrics.\"accuracy.2.0\" > 5"), 0);
	clause_is(0, ATR_RQ_METRIC, "accuracy.2.0", ATR_RQ_GT, NULL);
	assert_int_equal(filter("metrics.`spacey name` > 5"), 0);
	clause_is(0, ATR_RQ_METRIC, "spacey name", ATR_RQ_GT, NULL);
	assert_int_equal(filter("params.\"p.a.r.a.m\" != \"a\""), 0);
	clause_is(0, ATR_RQ_PARAM, "p.a.r.a.m", ATR_RQ_NE, "a");
	assert_int_equal(filter("tags.\"t.a.g\" = \"a\""), 0);
	clause_is(0, ATR_RQ_TAG, "t.a.g", ATR_RQ_EQ, "a");
	assert_int_equal(filter("attribute.artifact_uri = '1/23/4'"), 0);
	clause_is(0, ATR_RQ_ARTIFACT_URI, NULL, ATR_RQ_EQ, "1/23/4");
	assert_int_equal(filter("run.status = 'RUNNING'"), 0);
	clause_is(0, ATR_RQ_STATUS, NULL, ATR_RQ_EQ, "running"); /* (MLflow's names are Atrium's, case swapped) */
	assert_int_equal(filter("metrics.acc > 0.9 and params.lr = '0.01' and tags.team LIKE 'v%' and "
				"attributes.status = 'FINISHED'"),
			 0);
	assert_int_equal(Q.n, 4);
	clause_is(2, ATR_RQ_TAG, "team", ATR_RQ_LIKE, "v%");
	clause_is(3, ATR_RQ_STATUS, NULL, ATR_RQ_EQ, "finished");
	assert_int_equal(filter("params.x ILIKE '%A_b%' AND tags.`mlflow.source.type` = 'LOCAL'"), 0);
	clause_is(0, ATR_RQ_PARAM, "x", ATR_RQ_ILIKE, "%A_b%");
	clause_is(1, ATR_RQ_TAG, "mlflow.source.type", ATR_RQ_EQ, "LOCAL");
	/* attributes, aliases, numbers, lists, datasets */
	assert_int_equal(filter("attributes.run_id IN ('a1', \"b2\") and run_name = 'x' and `Run Name` != 'y'"), 0);
	clause_is(0, ATR_RQ_RUN_ID, NULL, ATR_RQ_IN, NULL);
	assert_int_equal(Q.c[0].nlist, 2);
	assert_string_equal(Q.c[0].list[1], "b2");
	clause_is(1, ATR_RQ_NAME, NULL, ATR_RQ_EQ, "x");
	clause_is(2, ATR_RQ_NAME, NULL, ATR_RQ_NE, "y");
	assert_int_equal(filter("attributes.run_id NOT IN ('a') and created > -5 and end_time <= 1.5e12"), 0);
	clause_is(0, ATR_RQ_RUN_ID, NULL, ATR_RQ_NOT_IN, NULL);
	clause_is(1, ATR_RQ_STARTED, NULL, ATR_RQ_GT, NULL);
	assert_true(Q.c[1].num == -5);
	clause_is(2, ATR_RQ_ENDED, NULL, ATR_RQ_LE, NULL);
	assert_int_equal(filter("datasets.name IN ('a') and dataset.digest = 'd' and datasets.context LIKE 'tr%'"), 0);
	clause_is(0, ATR_RQ_DATASET_NAME, NULL, ATR_RQ_IN, NULL);
	clause_is(1, ATR_RQ_DATASET_DIGEST, NULL, ATR_RQ_EQ, "d");
	clause_is(2, ATR_RQ_DATASET_CONTEXT, NULL, ATR_RQ_LIKE, "tr%");
	assert_int_equal(filter("user_id = 'alice' AND status like 'FIN%'"), 0);
	clause_is(0, ATR_RQ_USER, NULL, ATR_RQ_EQ, "alice");
	clause_is(1, ATR_RQ_STATUS, NULL, ATR_RQ_LIKE, "fin%");
	/* quoted text is taken as written, as MLflow does: '' and \' stay in it */
	assert_int_equal(filter("params.x = 'it''s' and params.y = 'a\\'b'"), 0);
	assert_string_equal(Q.c[0].str, "it''s");
	assert_string_equal(Q.c[1].str, "a\\'b");
	/* SQL in a value is a value */
	assert_int_equal(filter("params.x = \"1' OR '1'='1\""), 0);
	assert_string_equal(Q.c[0].str, "1' OR '1'='1");
}

static void bad(const char *s, const char *why)
{
	if (filter(s) != ATR_EINVAL || !strstr(msg, why) || !strstr(msg, "'filter'")) {
		fprintf(stderr, "filter %s: message '%s' lacks '%s'\n", s, msg, why);
		fail();
	}
}

/* MLflow's test_error_filter and test_bad_comparison examples: all refused. */
static void test_mlflow_refusals(void **state)
{
	char many[2048] = "";
	(void)state;
	bad("metric.acc >= 0.94; metrics.rmse < 1", "expected AND");
	bad("m.acc >= 0.94", "attributes are");
	bad("acc >= 0.94", "attributes are");
	bad("p.model >= 'LR'", "attributes are");
	bad("attri.x != 1", "attributes are");
	bad("model >= 'LR'", "attributes are");
	bad("metrics.A > 0.1 OR params.B = 'LR'", "MLflow has no OR");
	bad("metrics.A > 0.1 AND (params.B = 'LR')", "expected an identifier");
	bad("metrics.A > 0.1 AND (metrics.B = 2.0 AND metrics.C = 3.0)", "expected an identifier");
	bad("param`.A > 0.1", "expected a comparison");
	bad("`dummy.A > 0.1", "not closed");
	bad("attribute.start != 1", "attributes are");
	bad("attribute.experiment_id != 1", "attributes are");
	bad("attribute.lifecycle_stage = 'ACTIVE'", "attributes are");
	bad("attribute.name != 1", "attributes are");
	bad("attribute._status != 'RUNNING'", "attributes are");
	bad("attribute.status = true", "quoted string");
	bad("metrics.acc >= 'hello'", "expected a number");
	bad("params.m = 0.3", "quoted string");
	bad("tags.m = 0.3", "quoted string");
	bad("attribute.status = 1", "quoted string");
	bad("attribute.start_time = 'now'", "expected a number");
	bad("params.m > 'a'", "params and tags are compared with");
	bad("params.m IN ('a')", "params and tags are compared with");
	bad("metrics.acc LIKE 1", "a number is compared with");
	bad("attributes.run_name IN ('a')", "only run_id and datasets take a list");
	bad("attributes.run_id IN ()", "quoted strings");
	bad("attributes.run_id IN ('a' 'b')", "expected ',' or ')'");
	bad("attributes.run_id IN 'a'", "IN takes a list");
	bad("metrics.acc <> 1", "use !=");
	bad("params.x = 'open", "not closed");
	bad("metrics.acc > 1e999", "expected a number");
	bad("metrics.acc > 0x10", "expected a number");
	bad("datasets.size = '1'", "dataset keys");
	bad("params.x NOT LIKE 'a'", "expected IN after NOT");
	bad("metrics. > 1", "expected a key");
	bad("params.x = 'a' AND", "expected an identifier");
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sparams.k%d = '%d'", i ? " and " : "", i,
			 i);
	bad(many, "at most 16");
}

static int order(const char *s, bool first)
{
	static char texts[8][256]; /* (the query keeps pointing into each) */
	static int k;
	char *t = texts[k++ % 8];

	snprintf(t, 256, "%s", s);
	return atr_mlq_parse_order(t, &Q, first, msg, sizeof(msg));
}

static void test_mlflow_orders(void **state)
{
	(void)state;
	atr_rq_init(&Q);
	assert_int_equal(order("metrics.acc DESC", true), 0);
	assert_int_equal(Q.order, ATR_RQ_BY_METRIC);
	assert_string_equal(Q.order_key, "acc");
	assert_true(Q.desc);
	assert_int_equal(order("attributes.start_time ASC", false), 0);
	assert_int_equal(order("params.`batch size`", false), 0);
	assert_int_equal(order("tags.team desc", false), 0);
	assert_int_equal(Q.nthen, 3);
	assert_int_equal(Q.then[0].by, ATR_RQ_BY_STARTED);
	assert_false(Q.then[0].desc);
	assert_string_equal(Q.then[1].key, "batch size");
	assert_int_equal(Q.then[2].by, ATR_RQ_BY_TAG);
	assert_true(Q.then[2].desc);
	assert_int_equal(order("run_name", false), ATR_EINVAL);	  /* a fifth key */
	assert_int_equal(order("metric.acc", false), ATR_EINVAL); /* twice */
	assert_non_null(strstr(msg, "twice"));
	atr_rq_init(&Q);
	assert_int_equal(order("created", true), 0);
	assert_int_equal(Q.order, ATR_RQ_BY_STARTED);
	static const struct {
		const char *s;
		enum atr_rq_order by;
	} ok[] = { { "end_time", ATR_RQ_BY_ENDED },
		   { "attribute.status", ATR_RQ_BY_STATUS },
		   { "run_id DESC", ATR_RQ_BY_RUN_ID },
		   { "attr.user_id", ATR_RQ_BY_USER },
		   { "artifact_uri", ATR_RQ_BY_ARTIFACT_URI },
		   { "`Run name` asc", ATR_RQ_BY_NAME } };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(order(ok[i].s, true), 0);
		assert_int_equal(Q.order, ok[i].by);
	}
	static const char *const refused[] = {
		"", "metrics.acc UP", "datasets.name", "color", "metrics.acc ASC DESC", "params.", "metrics.`x DESC"
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (order(refused[i], true) != ATR_EINVAL || !strstr(msg, "'order_by'")) {
			fprintf(stderr, "order_by '%s' was accepted\n", refused[i]);
			fail();
		}
}

static void test_experiment_queries(void **state)
{
	struct atr_mlq_exp q;
	json_t *tags = json_pack("{s:s}", "team", "vision");
	struct atr_mlq_exp_row a = { 1, "Churn model", 100, 200, tags }, b = { 2, "churn baseline", 300, 300, NULL };
	char f[256], o[64];
	(void)state;

	atr_mlq_exp_init(&q);
	snprintf(f, sizeof(f), "name ILIKE 'churn%%' and creation_time < 200 and tags.team = 'vision'");
	assert_int_equal(atr_mlq_parse_exp_filter(f, &q, msg, sizeof(msg)), 0);
	assert_true(atr_mlq_exp_match(&q, &a));
	assert_false(atr_mlq_exp_match(&q, &b)); /* no such tag: false */
	atr_mlq_exp_init(&q);
	snprintf(f, sizeof(f), "attribute.name LIKE 'churn%%'");
	assert_int_equal(atr_mlq_parse_exp_filter(f, &q, msg, sizeof(msg)), 0);
	assert_false(atr_mlq_exp_match(&q, &a)); /* LIKE is case-sensitive */
	assert_true(atr_mlq_exp_match(&q, &b));
	/* the default order: newest first, then id */
	atr_mlq_exp_init(&q);
	atr_mlq_exp_order_done(&q);
	assert_true(atr_mlq_exp_compare(&q, &b, &a) < 0);
	atr_mlq_exp_init(&q);
	snprintf(o, sizeof(o), "name DESC");
	assert_int_equal(atr_mlq_parse_exp_order(o, &q, msg, sizeof(msg)), 0);
	atr_mlq_exp_order_done(&q);
	assert_true(atr_mlq_exp_compare(&q, &b, &a) < 0); /* 'c' > 'C' */
	snprintf(f, sizeof(f), "metrics.acc > 1");
	assert_int_equal(atr_mlq_parse_exp_filter(f, &q, msg, sizeof(msg)), ATR_EINVAL);
	snprintf(f, sizeof(f), "name > 'a'");
	assert_int_equal(atr_mlq_parse_exp_filter(f, &q, msg, sizeof(msg)), ATR_EINVAL);
	snprintf(f, sizeof(f), "creation_time = 'x'");
	assert_int_equal(atr_mlq_parse_exp_filter(f, &q, msg, sizeof(msg)), ATR_EINVAL);
	snprintf(o, sizeof(o), "tags.x");
	assert_int_equal(atr_mlq_parse_exp_order(o, &q, msg, sizeof(msg)), ATR_EINVAL);
	assert_true(atr_mlq_like("abc", "a%", false));
	assert_true(atr_mlq_like("abc", "_b_", false));
	assert_true(atr_mlq_like("a%c", "a%%c", false));
	assert_false(atr_mlq_like("ABC", "a%", false));
	assert_true(atr_mlq_like("ABC", "a%", true));
	assert_false(atr_mlq_like("abc", "ab", false));
	assert_true(atr_mlq_like("", "%", false));
	json_decref(tags);
}

/* ---- MLflow queries on the run search, against a model ---- */

#define NRUNS 240

struct mrun {
	int64_t id, project;
	char uuid[33], name[16];
	const char *status, *user, *p1, *lr, *t1, *ds;
	int64_t started, ended; /* ended 0: none */
	bool has_m1, has_m2, deleted;
	double m1, m2; /* m2 may be NaN */
};

static char dir[64];
static struct atr_store *S;
static int64_t PA, PB, USERS[2];
static struct mrun M[NRUNS];

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static void log_point(int64_t run, int64_t project, const char *key, double v)
{
	struct atr_metric_batch b;
	struct atr_metric_in pt = { 0, -1, v, 1 };

	atr_metric_batch_init(&b);
	assert_int_equal(atr_metric_batch_add(&b, key, &pt), 0);
	assert_int_equal(atr_store_metrics_append(S, run, project, &b, 1, NULL), 0);
	atr_metric_batch_release(&b);
}

static void fill_model(struct mrun *m)
{
	static const char *const statuses[] = { "running", "finished", "failed", "killed" };
	static const char *const p1s[] = { "Adam", "adam", "sgd", NULL };
	static const char *const t1s[] = { "vision", "voice", "Vi_x", NULL };
	static const char *const dss[] = { "mnist", "cifar", NULL };

	snprintf(m->name, sizeof(m->name), "r%02d", (int)rnd(30));
	m->status = statuses[rnd(4)];
	m->user = rnd(2) ? "ann" : "ben";
	m->started = 1000 + (int64_t)rnd(20) * 1000;
	m->ended = strcmp(m->status, "running") ? m->started + 500 + (int64_t)rnd(5) * 100 : 0;
	m->p1 = p1s[rnd(4)];
	m->lr = rnd(2) ? "0.01" : "0.1";
	m->t1 = t1s[rnd(4)];
	m->ds = dss[rnd(3)];
	m->has_m1 = rnd(5) != 0;
	m->m1 = (double)rnd(6) / 4;
	m->has_m2 = rnd(4) != 0;
	m->m2 = rnd(5) == 0 ? NAN : (double)rnd(100) / 7;
	m->deleted = rnd(8) == 0;
}

static void add_run(int64_t project, struct mrun *m)
{
	struct atr_run_spec spec = { 0 };
	json_t *params = json_object(), *tags = json_object(), *inputs;
	struct atr_project p;
	enum atr_prole member;
	struct atr_run run;

	fill_model(m);
	if (m->p1)
		json_object_set_new(params, "p1", json_string(m->p1));
	json_object_set_new(params, "lr", json_string(m->lr));
	if (m->t1)
		json_object_set_new(tags, "t1", json_string(m->t1));
	spec.project_id = m->project = project;
	spec.name = m->name;
	spec.status = m->status;
	spec.started_at = m->started;
	spec.ended_at = m->ended;
	spec.params = params;
	spec.tags = tags;
	spec.user_id = strcmp(m->user, "ann") == 0 ? USERS[0] : USERS[1];
	assert_int_equal(atr_store_run_create(S, &spec, &m->id), 0);
	json_decref(params);
	json_decref(tags);
	assert_int_equal(atr_store_run_access(S, m->id, 0, &run, &p, &member), 0);
	memcpy(m->uuid, run.uuid, sizeof(m->uuid));
	if (m->ds) {
		inputs = json_pack("[{s:{s:s,s:s},s:[{s:s,s:s}]}]", "dataset", "name", m->ds, "digest", "d1", "tags",
				   "key", "mlflow.data.context", "value", strcmp(m->ds, "mnist") ? "eval" : "train");
		assert_int_equal(atr_store_run_add_dataset_inputs(S, m->id, inputs), 0);
		json_decref(inputs);
	}
	if (m->has_m1) {
		log_point(m->id, project, "m1", m->m1 + 7);
		log_point(m->id, project, "m1", m->m1);
	}
	if (m->has_m2)
		log_point(m->id, project, "m2", m->m2);
	if (m->deleted)
		assert_int_equal(atr_store_run_set_deleted(S, m->id, true), 0);
}

static int search_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/atrium-unit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(atr_store_open(dir, 0, &S), 0);
	assert_int_equal(atr_store_user_create(S, "ann", "", false, NULL, &USERS[0]), 0);
	assert_int_equal(atr_store_user_create(S, "ben", "", false, NULL, &USERS[1]), 0);
	assert_int_equal(atr_store_project_create(S, "a", "", 0, false, NULL, 0, &PA), 0);
	assert_int_equal(atr_store_project_create(S, "b", "", 0, false, NULL, 0, &PB), 0);
	for (int i = 0; i < NRUNS; i++)
		add_run(i % 3 == 2 ? PB : PA, &M[i]);
	return 0;
}

static int search_teardown(void **state)
{
	char cmd[128];
	(void)state;
	atr_store_close(S);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* ---- the model: MLflow's semantics, written plainly ---- */

/* A value of a run for a field or order: a string, a number, or missing. */
struct val {
	bool has, num;
	const char *s;
	double d;
	char buf[96];
};

static void field_val(const struct mrun *m, enum atr_rq_field f, const char *key, struct val *v)
{
	memset(v, 0, sizeof(*v));
	v->has = true;
	switch (f) {
	case ATR_RQ_PARAM:
		v->s = !strcmp(key, "p1") ? m->p1 : !strcmp(key, "lr") ? m->lr : NULL;
		break;
	case ATR_RQ_TAG:
		v->s = !strcmp(key, "t1") ? m->t1 : NULL;
		break;
	case ATR_RQ_METRIC:
		v->num = true;
		v->has = (!strcmp(key, "m1") && m->has_m1) || (!strcmp(key, "m2") && m->has_m2 && !isnan(m->m2));
		v->d = !strcmp(key, "m1") ? m->m1 : m->m2;
		return;
	case ATR_RQ_STATUS:
		v->s = m->status;
		break;
	case ATR_RQ_NAME:
		v->s = m->name;
		break;
	case ATR_RQ_RUN_ID:
		v->s = m->uuid;
		break;
	case ATR_RQ_USER:
		v->s = m->user;
		break;
	case ATR_RQ_STARTED:
	case ATR_RQ_ENDED:
		v->num = true;
		v->d = (double)(f == ATR_RQ_STARTED ? m->started : m->ended);
		v->has = f == ATR_RQ_STARTED || m->ended;
		return;
	case ATR_RQ_ARTIFACT_URI:
		snprintf(v->buf, sizeof(v->buf), "mlflow-artifacts:/%lld/%s/artifacts", (long long)m->project, m->uuid);
		v->s = v->buf;
		break;
	case ATR_RQ_DATASET_NAME:
		v->s = m->ds;
		break;
	case ATR_RQ_DATASET_DIGEST:
		v->s = m->ds ? "d1" : NULL;
		break;
	case ATR_RQ_DATASET_CONTEXT:
		v->s = m->ds ? (strcmp(m->ds, "mnist") ? "eval" : "train") : NULL;
		break;
	}
	v->has = v->s != NULL;
}

static bool holds(const struct atr_rq_clause *c, const struct val *v)
{
	int cmp;

	if (!v->has)
		return false;
	if (c->op == ATR_RQ_LIKE || c->op == ATR_RQ_ILIKE)
		return atr_mlq_like(v->s, c->str, c->op == ATR_RQ_ILIKE);
	if (c->op == ATR_RQ_IN || c->op == ATR_RQ_NOT_IN) {
		bool in = false;
		for (int i = 0; i < c->nlist; i++)
			in = in || strcmp(v->s, c->list[i]) == 0;
		return in == (c->op == ATR_RQ_IN);
	}
	cmp = v->num ? (v->d < c->num ? -1 : v->d > c->num) : strcmp(v->s, c->str);
	switch (c->op) {
	case ATR_RQ_EQ:
		return cmp == 0;
	case ATR_RQ_NE:
		return cmp != 0;
	case ATR_RQ_LT:
		return cmp < 0;
	case ATR_RQ_LE:
		return cmp <= 0;
	case ATR_RQ_GT:
		return cmp > 0;
	default:
		return cmp >= 0;
	}
}

static bool matches(const struct mrun *m, const struct atr_runquery *q, const struct atr_run_scope *sc)
{
	bool in_scope = false;

	for (size_t i = 0; i < sc->nprojects; i++)
		in_scope = in_scope || sc->projects[i] == m->project;
	if (!in_scope || (sc->view == ATR_RUN_VIEW_ACTIVE && m->deleted) ||
	    (sc->view == ATR_RUN_VIEW_DELETED && !m->deleted))
		return false;
	for (int i = 0; i < q->n; i++) {
		struct val v;
		field_val(m, q->c[i].field, q->c[i].key, &v);
		if (!holds(&q->c[i], &v))
			return false;
	}
	return true;
}

static void order_val(const struct mrun *m, enum atr_rq_order by, const char *key, struct val *v)
{
	static const enum atr_rq_field of[] = {
		[ATR_RQ_BY_STARTED] = ATR_RQ_STARTED, [ATR_RQ_BY_NAME] = ATR_RQ_NAME,
		[ATR_RQ_BY_PARAM] = ATR_RQ_PARAM,     [ATR_RQ_BY_METRIC] = ATR_RQ_METRIC,
		[ATR_RQ_BY_TAG] = ATR_RQ_TAG,	      [ATR_RQ_BY_ENDED] = ATR_RQ_ENDED,
		[ATR_RQ_BY_STATUS] = ATR_RQ_STATUS,   [ATR_RQ_BY_RUN_ID] = ATR_RQ_RUN_ID,
		[ATR_RQ_BY_USER] = ATR_RQ_USER,	      [ATR_RQ_BY_ARTIFACT_URI] = ATR_RQ_ARTIFACT_URI,
	};
	field_val(m, of[by], key, v);
}

static const struct atr_runquery *SORTQ;

static int cmp_model(const void *pa, const void *pb)
{
	const struct mrun *a = *(const struct mrun *const *)pa, *b = *(const struct mrun *const *)pb;
	const struct atr_runquery *q = SORTQ;
	int terms = q->order == ATR_RQ_BY_ID ? 0 : 1 + q->nthen;
	bool first_desc = terms == 0 || q->desc;

	for (int t = 0; t < terms; t++) {
		enum atr_rq_order by = t ? q->then[t - 1].by : q->order;
		const char *key = t ? q->then[t - 1].key : q->order_key;
		bool desc = t ? q->then[t - 1].desc : q->desc;
		struct val x, y;
		int c;
		order_val(a, by, key, &x);
		order_val(b, by, key, &y);
		if (x.has != y.has)
			return x.has ? -1 : 1; /* missing values last, either direction */
		if (!x.has)
			continue;
		c = x.num ? (x.d < y.d ? -1 : x.d > y.d) : strcmp(x.s, y.s);
		if (c)
			return desc ? -c : c;
	}
	return (a->id < b->id ? -1 : 1) * (first_desc ? -1 : 1);
}

/* Pages through a search to the end; returns the ids in answer order. */
static size_t paginate(const struct atr_run_scope *sc, const struct atr_runquery *q, int limit, int64_t *out)
{
	json_t *after = NULL, *next = NULL;
	int64_t *ids = malloc((size_t)limit * sizeof(*ids));
	size_t total = 0, n;

	assert_non_null(ids);
	for (int pages = 0;; pages++) {
		assert_true(pages <= NRUNS + 1);
		assert_int_equal(atr_store_run_search_ids(S, sc, q, limit, after, ids, &n, &next), 0);
		assert_true(n <= (size_t)limit);
		for (size_t i = 0; i < n; i++) {
			assert_true(total < NRUNS);
			out[total++] = ids[i];
		}
		json_decref(after);
		after = next;
		if (!next)
			break;
	}
	free(ids);
	return total;
}

static char FTEXT[1024], OTEXT[4][128];

/* Parses an MLflow filter and order_by items ("|"-separated) into q. */
static void parse(struct atr_runquery *q, const char *f, const char *o)
{
	char copy[512], *save = NULL, *item;
	int k = 0;

	atr_rq_init(q);
	q->order = ATR_RQ_BY_STARTED; /* (MLflow's default) */
	q->desc = true;
	snprintf(FTEXT, sizeof(FTEXT), "%s", f);
	if (atr_mlq_parse_filter(FTEXT, q, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "filter %s: %s\n", f, msg);
		fail();
	}
	snprintf(copy, sizeof(copy), "%s", o);
	for (item = strtok_r(copy, "|", &save); item; item = strtok_r(NULL, "|", &save), k++) {
		snprintf(OTEXT[k], sizeof(OTEXT[k]), "%s", item);
		assert_int_equal(atr_mlq_parse_order(OTEXT[k], q, k == 0, msg, sizeof(msg)), 0);
	}
}

static void check(const struct atr_run_scope *sc, const char *f, const char *o, int limit)
{
	static struct mrun *want[NRUNS];
	static int64_t got[NRUNS];
	struct atr_runquery *q = malloc(sizeof(*q));
	size_t nw = 0, ng;

	assert_non_null(q);
	parse(q, f, o);
	for (int i = 0; i < NRUNS; i++)
		if (matches(&M[i], q, sc))
			want[nw++] = &M[i];
	SORTQ = q;
	qsort(want, nw, sizeof(want[0]), cmp_model);
	ng = paginate(sc, q, limit, got);
	for (size_t i = 0; i < nw || i < ng; i++)
		if (i >= nw || i >= ng || want[i]->id != got[i]) {
			fprintf(stderr,
				"filter '%s' order '%s' limit %d view %d projects %zu: at %zu want %lld got %lld "
				"(%zu vs %zu rows)\n",
				f, o, limit, sc->view, sc->nprojects, i, i < nw ? (long long)want[i]->id : -1LL,
				i < ng ? (long long)got[i] : -1LL, nw, ng);
			fail();
		}
	free(q);
}

static const char *const filters[] = {
	"",
	"params.p1 = 'adam'",
	"params.p1 != 'adam'",
	"params.p1 LIKE 'a%'",
	"params.p1 ILIKE 'a%'",
	"params.p1 ILIKE '_D_m'",
	"tags.t1 LIKE 'Vi_%'",
	"tags.t1 ILIKE '%I%'",
	"tags.t1 != 'voice'",
	"metrics.m1 >= 0.5",
	"metrics.m2 > 3",
	"metrics.m2 != 1",
	"attributes.status = 'FINISHED'",
	"status != 'RUNNING'",
	"status LIKE 'F%'",
	"status ILIKE 'f%'",
	"run_name LIKE 'r1_'",
	"attributes.run_name ILIKE 'R2%'",
	"attributes.user_id = 'ann'",
	"attributes.start_time >= 10000",
	"created < 5000",
	"end_time > 12000",
	"attributes.artifact_uri LIKE 'mlflow-artifacts:/1/%'",
	"datasets.name = 'mnist'",
	"datasets.name IN ('cifar', 'x')",
	"datasets.context = 'train'",
	"dataset.digest != 'd1'",
	"params.lr = '0.01' and metrics.m1 > 0.2 and tags.t1 LIKE 'v%'",
	"metrics.nokey > 0",
};

static const char *const orders[] = {
	"",
	"attributes.start_time DESC",
	"start_time ASC",
	"run_name",
	"metrics.m1 DESC",
	"metrics.m2 ASC",
	"params.p1 DESC",
	"tags.t1",
	"end_time DESC",
	"status",
	"user_id DESC",
	"run_id",
	"artifact_uri DESC",
	"params.lr|metrics.m1 DESC",
	"tags.t1 DESC|start_time ASC|run_name",
	"metrics.m2 DESC|params.p1",
	"metrics.nokey|run_name DESC",
};

static void run_all(const struct atr_run_scope *sc)
{
	for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++)
		for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
			check(sc, filters[f], orders[o], 1000);
			check(sc, filters[f], orders[o], 7);
		}
}

static void with_caps(const struct atr_run_scope *sc, int64_t drive, int64_t set)
{
	atr_run_search_drive_cap = drive;
	atr_run_search_set_cap = set;
	run_all(sc);
	atr_run_search_drive_cap = 500;
	atr_run_search_set_cap = 10000;
}

static void test_one_project(void **state)
{
	const struct atr_run_scope sc = { &PA, 1, ATR_RUN_VIEW_ACTIVE };
	(void)state;
	with_caps(&sc, 0, 0);	      /* walk the order's index, clauses run by run */
	with_caps(&sc, 0, INT64_MAX); /* walk the order's index, clauses as sets */
	with_caps(&sc, INT64_MAX, 0); /* the smallest indexable clause drives */
}

static void test_several_projects_and_views(void **state)
{
	const int64_t both[] = { PA, PB };
	const struct atr_run_scope all = { both, 2, ATR_RUN_VIEW_ALL }, deleted = { &PB, 1, ATR_RUN_VIEW_DELETED },
				   two = { both, 2, ATR_RUN_VIEW_ACTIVE };
	(void)state;
	run_all(&two);
	run_all(&all);
	run_all(&deleted);
	check(&two, "attributes.run_id IN ('x')", "", 5);
}

static void test_run_id_lists(void **state)
{
	const int64_t both[] = { PA, PB };
	const struct atr_run_scope sc = { both, 2, ATR_RUN_VIEW_ALL };
	char f[300];
	(void)state;
	snprintf(f, sizeof(f), "attributes.run_id IN ('%s', '%s', '%s')", M[3].uuid, M[5].uuid, M[200].uuid);
	check(&sc, f, "run_name DESC", 2);
	snprintf(f, sizeof(f), "attributes.run_id = '%s'", M[7].uuid);
	check(&sc, f, "", 1);
	snprintf(f, sizeof(f), "attributes.run_id NOT IN ('%s')", M[7].uuid);
	check(&sc, f, "metrics.m1", 50);
}

static void test_bad_cursors(void **state)
{
	const struct atr_run_scope one = { &PA, 1, ATR_RUN_VIEW_ACTIVE };
	const int64_t both[] = { PA, PB };
	const struct atr_run_scope two = { both, 2, ATR_RUN_VIEW_ACTIVE };
	struct atr_runquery *q = malloc(sizeof(*q));
	json_t *next = NULL, *c;
	int64_t ids[4];
	size_t n;
	(void)state;

	parse(q, "", "metrics.m1|run_name");
	c = json_pack("[f,I]", 0.5, (json_int_t)3); /* one value for two terms */
	assert_int_equal(atr_store_run_search_ids(S, &two, q, 4, c, ids, &n, &next), ATR_EINVAL);
	json_decref(c);
	parse(q, "", "run_name");
	c = json_pack("[f,I]", 0.5, (json_int_t)3); /* a number for a name order */
	assert_int_equal(atr_store_run_search_ids(S, &one, q, 4, c, ids, &n, &next), ATR_EINVAL);
	json_decref(c);
	c = json_pack("[s,s]", "a", "b"); /* no id */
	assert_int_equal(atr_store_run_search_ids(S, &one, q, 4, c, ids, &n, &next), ATR_EINVAL);
	json_decref(c);
	assert_null(next);
	free(q);
}

int main(void)
{
	const struct CMUnitTest grammar[] = {
		cmocka_unit_test(test_mlflow_examples),
		cmocka_unit_test(test_mlflow_refusals),
		cmocka_unit_test(test_mlflow_orders),
		cmocka_unit_test(test_experiment_queries),
	};
	const struct CMUnitTest search[] = {
		cmocka_unit_test(test_one_project),
		cmocka_unit_test(test_several_projects_and_views),
		cmocka_unit_test(test_run_id_lists),
		cmocka_unit_test(test_bad_cursors),
	};
	int rc = cmocka_run_group_tests(grammar, NULL, NULL);
	return rc | cmocka_run_group_tests(search, search_setup, search_teardown);
}

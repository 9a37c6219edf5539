/*
 * test_runfilter.c: the run-search language (filters and orders: what parses, what is refused
 * and how it is reported), then run search in a real database against a brute-force model:
 * every filter x order x page size, paginated to the end, under both plans (driven by a
 * filter's index, driven by the order's index), with ties, missing keys and a second project.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/metric_batch.h"
#include "atrium/runquery.h"
#include "atrium/store_metrics.h"
#include "atrium/store_projects.h"
#include "atrium/store_runs.h"

/* ---- the language ---- */

static struct atr_runquery Q;
static char text[8192], msg[256];

static int filter(const char *s)
{
	atr_rq_init(&Q);
	snprintf(text, sizeof(text), "%s", s);
	return atr_rq_parse_filter(text, &Q, msg, sizeof(msg));
}

static int order(const char *s)
{
	atr_rq_init(&Q);
	snprintf(text, sizeof(text), "%s", s);
	return atr_rq_parse_order(text, &Q, msg, sizeof(msg));
}

static void test_filters(void **state)
{
	(void)state;
	assert_int_equal(filter("params.lr=0.01"), 0);
	assert_int_equal(Q.n, 1);
	assert_int_equal(Q.c[0].field, ATR_RQ_PARAM);
	assert_int_equal(Q.c[0].op, ATR_RQ_EQ);
	assert_string_equal(Q.c[0].key, "lr");
	assert_string_equal(Q.c[0].str, "0.01");

	assert_int_equal(
		filter("  params.optimizer.name != 'adam w' AND metrics.train/loss<=-1.5e-3 and status=finished "
		       "aNd tags.`team name` >= \"a \\\"b\\\"\" and name < r7 and metrics.acc>1 "),
		0);
	assert_int_equal(Q.n, 6);
	assert_string_equal(Q.c[0].key, "optimizer.name");
	assert_int_equal(Q.c[0].op, ATR_RQ_NE);
	assert_string_equal(Q.c[0].str, "adam w");
	assert_int_equal(Q.c[1].field, ATR_RQ_METRIC);
	assert_string_equal(Q.c[1].key, "train/loss");
	assert_int_equal(Q.c[1].op, ATR_RQ_LE);
	assert_true(Q.c[1].num == -1.5e-3);
	assert_int_equal(Q.c[2].field, ATR_RQ_STATUS);
	assert_string_equal(Q.c[2].str, "finished");
	assert_int_equal(Q.c[3].field, ATR_RQ_TAG);
	assert_string_equal(Q.c[3].key, "team name");
	assert_int_equal(Q.c[3].op, ATR_RQ_GE);
	assert_string_equal(Q.c[3].str, "a \"b\"");
	assert_int_equal(Q.c[4].field, ATR_RQ_NAME);
	assert_int_equal(Q.c[4].op, ATR_RQ_LT);
	assert_string_equal(Q.c[4].str, "r7");
	assert_int_equal(Q.c[5].op, ATR_RQ_GT);
	assert_true(Q.c[5].num == 1);

	assert_int_equal(filter(""), 0);
	assert_int_equal(Q.n, 0);
	assert_int_equal(filter("   "), 0);
	assert_int_equal(filter("params.x = 'it\\'s'"), 0);
	assert_string_equal(Q.c[0].str, "it's");
	assert_int_equal(filter("params.x=''"), 0);
	assert_string_equal(Q.c[0].str, "");
	/* SQL in a value is just a value */
	assert_int_equal(filter("params.x = \"1' OR '1'='1\""), 0);
	assert_string_equal(Q.c[0].str, "1' OR '1'='1");
	assert_int_equal(filter("status != killed"), 0);
	assert_int_equal(Q.c[0].op, ATR_RQ_NE);
}

static void bad_filter(const char *s, const char *why)
{
	if (filter(s) != ATR_EINVAL || !strstr(msg, why) || !strstr(msg, "'filter'")) {
		fprintf(stderr, "filter %s: message '%s' lacks '%s'\n", s, msg, why);
		fail();
	}
}

static void test_bad_filters(void **state)
{
	char many[2048] = "";
	(void)state;
	bad_filter("lr = 1", "expected status, name");
	bad_filter("params.lr", "expected an operator");
	bad_filter("params.lr 0.1", "expected an operator");
	bad_filter("params.lr =", "expected a value");
	bad_filter("params.lr = 1 params.x = 2", "expected 'and'");
	bad_filter("params.lr = 1 and", "expected status");
	bad_filter("params.lr = 1 or params.x = 2", "expected 'and'");
	bad_filter("params.lr == 1", "at character 12");
	bad_filter("params. = 1", "expected a key");
	bad_filter("params.`lr = 1", "not closed");
	bad_filter("params.lr = 'abc", "not closed");
	bad_filter("params.lr = 'a\\nb'", "escapes");
	bad_filter("metrics.acc > high", "compared with a number");
	bad_filter("metrics.acc > 1e999", "compared with a number");
	bad_filter("metrics.`a:b` > 1", "metric key");
	bad_filter("status < running", "status takes");
	bad_filter("status = done", "one of queued, running");
	bad_filter("names = x", "expected status");
	bad_filter("params.x = 1; DROP TABLE runs", "expected 'and'");
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sparams.k%d = %d", i ? " and " : "", i, i);
	bad_filter(many, "at most 16");
	memset(text, 'a', 5000);
	text[5000] = 0;
	assert_int_equal(atr_rq_parse_filter(text, &Q, msg, sizeof(msg)), ATR_EINVAL);
}

static void test_orders(void **state)
{
	(void)state;
	assert_int_equal(order("started_at"), 0);
	assert_int_equal(Q.order, ATR_RQ_BY_STARTED);
	assert_false(Q.desc);
	assert_int_equal(order("started_at:desc"), 0);
	assert_true(Q.desc);
	assert_int_equal(order("name:asc"), 0);
	assert_int_equal(Q.order, ATR_RQ_BY_NAME);
	assert_false(Q.desc);
	assert_int_equal(order("metrics.val/acc:desc"), 0);
	assert_int_equal(Q.order, ATR_RQ_BY_METRIC);
	assert_string_equal(Q.order_key, "val/acc");
	assert_true(Q.desc);
	assert_int_equal(order("params.`batch size`"), 0);
	assert_int_equal(Q.order, ATR_RQ_BY_PARAM);
	assert_string_equal(Q.order_key, "batch size");
	assert_int_equal(order("params.a:b"), 0); /* not a direction: part of the key */
	assert_string_equal(Q.order_key, "a:b");
	assert_int_equal(order("metrics.`train loss`:desc"), 0);
	assert_string_equal(Q.order_key, "train loss");

	static const char *const bad[] = {
		"",	   "id",	  "started",	      "started_at:up", "metrics.", "metrics.a:b",
		"params.", "params.`x`y", "metrics.acc:DESC", "name desc",     "tags.x"
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (order(bad[i]) != ATR_EINVAL || !strstr(msg, "'order_by'")) {
			fprintf(stderr, "order_by '%s' was accepted\n", bad[i]);
			fail();
		}
	}
}

/* ---- search against a model ---- */

#define NRUNS 300
#define NOTHER 60

struct mrun {
	int64_t id;
	char name[16];
	const char *status;
	int64_t started;
	const char *p1, *p2, *lr, *t1;
	bool has_m1, has_m2;
	double m1, m2;
};

static char dir[64];
static struct atr_store *S;
static int64_t PA, PB;
static struct mrun M[NRUNS];

static uint64_t rng = 0x853c49e6748fea9bULL;
static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static void log_metric(int64_t run, int64_t project, const char *key, double v)
{
	struct atr_metric_batch b;
	char json[160];
	snprintf(json, sizeof(json), "{\"metrics\":[{\"key\":\"%s\",\"value\":%.17g}]}", key, v);
	atr_metric_batch_init(&b);
	assert_int_equal(atr_metric_batch_parse(&b, json, strlen(json), 10), 0);
	assert_int_equal(atr_store_metrics_append(S, run, project, &b, 1, NULL), 0);
	atr_metric_batch_release(&b);
}

static int64_t add_run(int64_t project, struct mrun *m)
{
	static const char *const statuses[] = { "running", "finished", "failed", "killed" };
	static const char *const p1s[] = { "a", "b", "c", NULL };
	static const char *const p2s[] = { "1", "10", "2", "x y", NULL };
	static const char *const t1s[] = { "x", "y", NULL };
	static const double m1s[] = { 0.1, 0.2, 0.3, -1 };
	struct atr_run_spec spec = { 0 };
	json_t *params = json_object(), *tags = json_object();
	int64_t id;

	snprintf(m->name, sizeof(m->name), "r%02d", (int)rnd(40));
	m->status = statuses[rnd(4)];
	m->started = 1000 + (int64_t)rnd(17) * 1000;
	m->p1 = p1s[rnd(4)];
	m->p2 = p2s[rnd(5)];
	m->lr = rnd(3) ? "0.01" : "0.1";
	m->t1 = t1s[rnd(3)];
	if (m->p1)
		json_object_set_new(params, "p1", json_string(m->p1));
	if (m->p2)
		json_object_set_new(params, "p2", json_string(m->p2));
	json_object_set_new(params, "lr", json_string(m->lr));
	if (m->t1)
		json_object_set_new(tags, "t1", json_string(m->t1));
	spec.project_id = project;
	spec.name = m->name;
	spec.status = m->status;
	spec.started_at = m->started;
	spec.params = params;
	spec.tags = tags;
	assert_int_equal(atr_store_run_create(S, &spec, &id), 0);
	json_decref(params);
	json_decref(tags);
	m->id = id;
	m->has_m1 = rnd(5) != 0;
	m->m1 = m1s[rnd(4)];
	m->has_m2 = rnd(4) != 0;
	m->m2 = (double)rnd(1000) / 997.0;
	if (m->has_m1) {
		log_metric(id, project, "m1", m->m1 + 5); /* an earlier value, then the last one */
		log_metric(id, project, "m1", m->m1);
	}
	if (m->has_m2)
		log_metric(id, project, "m2", m->m2);
	return id;
}

static int search_setup(void **state)
{
	struct mrun other;
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/atrium-unit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(atr_store_open(dir, 0, &S), 0);
	assert_int_equal(atr_store_project_create(S, "a", "", 0, false, NULL, 0, &PA), 0);
	assert_int_equal(atr_store_project_create(S, "b", "", 0, false, NULL, 0, &PB), 0);
	for (int i = 0, j = 0; i < NRUNS; i++) {
		add_run(PA, &M[i]);
		if (i % 5 == 0 && j++ < NOTHER)
			add_run(PB, &other); /* same keys and values in another project */
	}
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

static bool op_holds(int cmp, enum atr_rq_op op)
{
	switch (op) {
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
	case ATR_RQ_GE:
		return cmp >= 0;
	default:
		return false; /* (the native language has no LIKE or IN) */
	}
}

static const char *param_of(const struct mrun *m, const char *k)
{
	return !strcmp(k, "p1") ? m->p1 : !strcmp(k, "p2") ? m->p2 : !strcmp(k, "lr") ? m->lr : NULL;
}

static bool metric_of(const struct mrun *m, const char *k, double *v)
{
	if (!strcmp(k, "m1") && m->has_m1)
		return *v = m->m1, true;
	if (!strcmp(k, "m2") && m->has_m2)
		return *v = m->m2, true;
	return false;
}

static bool matches(const struct mrun *m, const struct atr_runquery *q)
{
	for (int i = 0; i < q->n; i++) {
		const struct atr_rq_clause *c = &q->c[i];
		const char *s = NULL;
		double v;
		switch (c->field) {
		case ATR_RQ_PARAM:
			s = param_of(m, c->key);
			break;
		case ATR_RQ_TAG:
			s = !strcmp(c->key, "t1") ? m->t1 : NULL;
			break;
		case ATR_RQ_STATUS:
			s = m->status;
			break;
		case ATR_RQ_NAME:
			s = m->name;
			break;
		case ATR_RQ_METRIC:
			if (!metric_of(m, c->key, &v) || !op_holds(v < c->num ? -1 : v > c->num, c->op))
				return false;
			continue;
		default:
			return false; /* (MLflow's fields: test_mlflow_search.c) */
		}
		if (!s || !op_holds(strcmp(s, c->str), c->op))
			return false;
	}
	return true;
}

static const struct atr_runquery *SORTQ;

static int cmp_model(const void *pa, const void *pb)
{
	const struct mrun *a = *(const struct mrun *const *)pa, *b = *(const struct mrun *const *)pb;
	const struct atr_runquery *q = SORTQ;
	int c = 0, sign = q->desc ? -1 : 1;
	double x = 0, y = 0;
	bool ha = true, hb = true;

	switch (q->order) {
	case ATR_RQ_BY_ID:
		return a->id < b->id ? 1 : -1;
	case ATR_RQ_BY_STARTED:
		c = a->started < b->started ? -1 : a->started > b->started;
		break;
	case ATR_RQ_BY_NAME:
		c = strcmp(a->name, b->name);
		break;
	case ATR_RQ_BY_PARAM: {
		const char *sa = param_of(a, q->order_key), *sb = param_of(b, q->order_key);
		ha = sa != NULL;
		hb = sb != NULL;
		if (ha && hb)
			c = strcmp(sa, sb);
		break;
	}
	case ATR_RQ_BY_METRIC:
		ha = metric_of(a, q->order_key, &x);
		hb = metric_of(b, q->order_key, &y);
		if (ha && hb)
			c = x < y ? -1 : x > y;
		break;
	default:
		break; /* (MLflow's orders: test_mlflow_search.c) */
	}
	if (ha != hb)
		return ha ? -1 : 1; /* runs lacking the key come last, either direction */
	if (c)
		return c * sign;
	return (a->id < b->id ? -1 : 1) * sign;
}

/* Pages through a search; returns the ids in answer order. */
static size_t paginate(const struct atr_runquery *q, int limit, int64_t *out)
{
	struct atr_page p = { 0 };
	json_t *next = NULL;
	size_t n = 0;

	p.limit = limit;
	for (int pages = 0;; pages++) {
		json_t *items = json_array();
		json_t *prev = next;
		size_t i;
		json_t *it;
		assert_true(pages <= NRUNS + 1);
		assert_int_equal(atr_store_run_search(S, PA, q, &p, items, &next), 0);
		assert_true(json_array_size(items) <= (size_t)limit);
		json_array_foreach(items, i, it)
		{
			assert_true(n < NRUNS);
			out[n++] = json_integer_value(json_object_get(it, "id"));
		}
		json_decref(items);
		json_decref(prev);
		if (!next)
			break;
		memset(&p, 0, sizeof(p));
		p.limit = limit;
		p.after_id = json_integer_value(json_array_get(next, json_array_size(next) - 1));
		if (json_array_size(next) == 2) {
			json_t *v = json_array_get(next, 0);
			p.after_kind = json_is_null(v)	   ? ATR_PAGE_NULL
				       : json_is_string(v) ? ATR_PAGE_STR
							   : ATR_PAGE_NUM;
			p.after_num = json_number_value(v);
			p.after_str = json_string_value(v);
		}
	}
	return n;
}

static void check_query(const char *f, const char *o, int limit)
{
	static struct mrun *want[NRUNS];
	static int64_t got[NRUNS];
	static char ftext[512], otext[128];
	struct atr_runquery q;
	size_t nw = 0, ng;

	atr_rq_init(&q);
	snprintf(ftext, sizeof(ftext), "%s", f);
	snprintf(otext, sizeof(otext), "%s", o);
	assert_int_equal(atr_rq_parse_filter(ftext, &q, msg, sizeof(msg)), 0);
	if (*o)
		assert_int_equal(atr_rq_parse_order(otext, &q, msg, sizeof(msg)), 0);
	for (int i = 0; i < NRUNS; i++)
		if (matches(&M[i], &q))
			want[nw++] = &M[i];
	SORTQ = &q;
	qsort(want, nw, sizeof(want[0]), cmp_model);
	ng = paginate(&q, limit, got);
	for (size_t i = 0; i < nw || i < ng; i++) {
		if (i >= nw || i >= ng || want[i]->id != got[i]) {
			fprintf(stderr,
				"filter '%s' order '%s' limit %d: at %zu want %lld got %lld (%zu vs %zu rows)\n", f, o,
				limit, i, i < nw ? (long long)want[i]->id : -1LL, i < ng ? (long long)got[i] : -1LL, nw,
				ng);
			fail();
		}
	}
}

static const char *const filters[] = {
	"",
	"params.p1 = a",
	"params.p1 != a",
	"params.p1 < b",
	"params.p2 >= 10",
	"params.`p2` = 'x y'",
	"tags.t1 = x",
	"tags.t1 != y",
	"metrics.m1 = 0.2",
	"metrics.m1 > 0.1",
	"metrics.m2 <= 0.5",
	"status = finished",
	"status != running",
	"name = r07",
	"name < r10",
	"params.p1 = a and metrics.m1 >= 0.2",
	"params.lr = 0.01 and status = finished and tags.t1 = y",
	"params.nokey = a",
	"metrics.nokey > 0",
};
static const char *const orders[] = { "",
				      "started_at",
				      "started_at:desc",
				      "name",
				      "name:desc",
				      "params.p1",
				      "params.p1:desc",
				      "params.p2",
				      "metrics.m1",
				      "metrics.m1:desc",
				      "metrics.m2:desc",
				      "metrics.nokey",
				      "params.nokey:desc" };

static void run_all(int64_t drive_cap, int64_t set_cap)
{
	atr_run_search_drive_cap = drive_cap;
	atr_run_search_set_cap = set_cap;
	for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++)
		for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
			check_query(filters[f], orders[o], 50);
			check_query(filters[f], orders[o], 7);
		}
	check_query("", "metrics.m1:desc", 1);
	check_query("params.p1 = b", "params.p2", 1);
	check_query("", "", 1000);
	atr_run_search_drive_cap = 500;
	atr_run_search_set_cap = 10000;
}

static void test_search_order_driven(void **state)
{
	(void)state;
	run_all(0, 0); /* walk the order's index, testing each clause run by run */
}

static void test_search_order_driven_sets(void **state)
{
	(void)state;
	run_all(0, INT64_MAX); /* walk the order's index, testing clauses against sets */
}

static void test_search_filter_driven(void **state)
{
	(void)state;
	run_all(INT64_MAX, 0); /* the smallest indexable clause drives */
}

static void test_search_bad_cursor(void **state)
{
	struct atr_runquery q;
	struct atr_page p = { 0 };
	json_t *items = json_array(), *next = NULL;
	(void)state;

	atr_rq_init(&q);
	snprintf(text, sizeof(text), "metrics.m1");
	assert_int_equal(atr_rq_parse_order(text, &q, msg, sizeof(msg)), 0);
	p.limit = 5;
	p.after_id = 3;
	p.after_kind = ATR_PAGE_STR; /* a name cursor for a metric order */
	p.after_str = "r01";
	assert_int_equal(atr_store_run_search(S, PA, &q, &p, items, &next), ATR_EINVAL);
	atr_rq_init(&q);
	p.after_kind = ATR_PAGE_NUM; /* a [value, id] cursor for the default order */
	assert_int_equal(atr_store_run_search(S, PA, &q, &p, items, &next), ATR_EINVAL);
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);
}

static void test_items_carry_params_tags_metrics(void **state)
{
	struct atr_runquery q;
	struct atr_page p = { 0 };
	json_t *items = json_array(), *next = NULL, *it;
	size_t i;
	(void)state;

	atr_rq_init(&q);
	p.limit = NRUNS;
	assert_int_equal(atr_store_run_search(S, PA, &q, &p, items, &next), 0);
	assert_null(next);
	assert_int_equal(json_array_size(items), NRUNS);
	json_array_foreach(items, i, it)
	{
		const struct mrun *m = &M[NRUNS - 1 - i]; /* newest first */
		json_t *metrics = json_object_get(it, "metrics");
		assert_int_equal(json_integer_value(json_object_get(it, "id")), m->id);
		assert_string_equal(json_string_value(json_object_get(json_object_get(it, "params"), "lr")), m->lr);
		assert_int_equal(json_object_get(json_object_get(it, "tags"), "t1") != NULL, m->t1 != NULL);
		assert_int_equal(json_object_get(metrics, "m1") != NULL, m->has_m1);
		if (m->has_m1)
			assert_true(json_number_value(json_object_get(metrics, "m1")) == m->m1);
	}
	json_decref(items);
}

int main(void)
{
	const struct CMUnitTest lang[] = {
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_bad_filters),
		cmocka_unit_test(test_orders),
	};
	const struct CMUnitTest search[] = {
		cmocka_unit_test(test_search_order_driven),
		cmocka_unit_test(test_search_order_driven_sets),
		cmocka_unit_test(test_search_filter_driven),
		cmocka_unit_test(test_search_bad_cursor),
		cmocka_unit_test(test_items_carry_params_tags_metrics),
	};
	int failed = cmocka_run_group_tests_name("language", lang, NULL, NULL);
	return failed + cmocka_run_group_tests_name("search", search, search_setup, search_teardown);
}

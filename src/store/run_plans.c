/*
 * run_plans.c: the plans of run search (see run_search.c for how one is chosen): read the
 * runs a small clause names and sort them (driven), walk the runs of a project by id, start
 * time or name (runs), walk a metric's, param's or tag's value index then the runs lacking it
 * (keyed), or sort the matching runs by any order terms over any projects (sorted). Each
 * writes one SELECT of r.id and the order values, made of the fixed fragments here.
 */
#include "run_search_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

bool rs_order_indexed(const struct atr_runquery *q)
{
	return q->nthen == 0 && q->order <= ATR_RQ_BY_TAG;
}

static bool keyed(enum atr_rq_order by)
{
	return by == ATR_RQ_BY_PARAM || by == ATR_RQ_BY_METRIC || by == ATR_RQ_BY_TAG;
}

/* ---- the index plans: one project, one order term ---- */

struct order {
	const char *v; /* the order value expression ("NULL" for the default order) */
	bool nullable; /* runs may lack it (params, metrics, tags): they come last */
	bool desc;
};

static void order_of(const struct atr_runquery *rq, struct order *o)
{
	static const char *const v[] = { "NULL", "r.started_at", "r.name", "o.value", "o.last", "o.value" };
	o->v = v[rq->order];
	o->nullable = keyed(rq->order);
	o->desc = rq->order == ATR_RQ_BY_ID ? true : rq->desc;
}

/* Binds the cursor's value for the order. */
static void q_cursor_value(struct rs_search *x)
{
	if (x->rq->order == ATR_RQ_BY_STARTED)
		rs_int(&x->q, (int64_t)llround(x->p->after_num));
	else if (x->p->after_kind == ATR_PAGE_NUM)
		rs_num(&x->q, x->p->after_num);
	else
		rs_str(&x->q, x->p->after_str);
}

static bool has_cursor(const struct atr_page *p)
{
	return p->after_id > 0 || p->after_kind != ATR_PAGE_NONE;
}

/* " AND <rows after the cursor>" for the one-query shapes, NULLs last. */
static void q_keyset(struct rs_search *x, const struct order *o)
{
	struct rs_qb *q = &x->q;
	const char *gt = o->desc ? " < " : " > ";

	if (!has_cursor(x->p))
		return;
	if (x->rq->order == ATR_RQ_BY_ID) {
		rs_sql(q, " AND r.id < ");
		rs_int(q, x->p->after_id);
		return;
	}
	if (x->p->after_kind == ATR_PAGE_NULL) {
		rs_sql(q, " AND ");
		rs_sql(q, o->v);
		rs_sql(q, " IS NULL AND r.id");
		rs_sql(q, gt);
		rs_int(q, x->p->after_id);
		return;
	}
	rs_sql(q, " AND (");
	if (o->nullable) {
		rs_sql(q, o->v);
		rs_sql(q, " IS NULL OR ");
	}
	rs_sql(q, "(");
	rs_sql(q, o->v);
	rs_sql(q, ", r.id)");
	rs_sql(q, gt);
	rs_sql(q, "(");
	q_cursor_value(x);
	rs_sql(q, ", ");
	rs_int(q, x->p->after_id);
	rs_sql(q, "))");
}

static void q_order_by(struct rs_qb *q, const struct order *o, const char *v, const char *id)
{
	const char *dir = o->desc ? " DESC" : " ASC";

	rs_sql(q, " ORDER BY ");
	if (strcmp(v, "NULL") != 0) {
		if (o->nullable) {
			rs_sql(q, v);
			rs_sql(q, " IS NULL, ");
		}
		rs_sql(q, v);
		rs_sql(q, dir);
		rs_sql(q, ", ");
	}
	rs_sql(q, id);
	rs_sql(q, dir);
}

/* The table of a keyed order's values and its value column. */
static const char *const keyed_join[] = {
	[ATR_RQ_BY_PARAM] = " LEFT JOIN run_params o ON o.run_id = r.id AND o.key = ",
	[ATR_RQ_BY_METRIC] = " LEFT JOIN run_metrics o ON o.run_id = r.id AND o.key = ",
	[ATR_RQ_BY_TAG] = " LEFT JOIN run_tags o ON o.run_id = r.id AND o.key = ",
};

/* Reads the runs matching the driving clause from its index, then sorts them. */
int rs_plan_driven(struct rs_search *x)
{
	const struct atr_runquery *rq = x->rq;
	struct rs_qb *q = &x->q;
	struct order o;

	order_of(rq, &o);
	rs_reset(q);
	rs_sql(q, "SELECT r.id, ");
	rs_sql(q, o.v);
	rs_sql(q, " FROM (");
	rs_set(x, x->driver);
	rs_sql(q, ") d CROSS JOIN runs r INDEXED BY runs_project ON r.project_id = ");
	rs_int(q, x->project_id);
	rs_sql(q, " AND r.id = d.run_id");
	if (keyed(rq->order)) {
		rs_sql(q, keyed_join[rq->order]);
		rs_str(q, rq->order_key);
	}
	rs_sql(q, " WHERE 1");
	rs_view(x);
	rs_clauses(x);
	q_keyset(x, &o);
	q_order_by(q, &o, o.v, "r.id");
	return rs_run_query(x);
}

/* Walks the runs of the project in id, start-time or name order, testing the clauses. */
int rs_plan_runs(struct rs_search *x)
{
	static const char *const from[] = { " FROM runs r INDEXED BY runs_project",
					    " FROM runs r INDEXED BY runs_project_started",
					    " FROM runs r INDEXED BY runs_project_name" };
	struct order o;

	order_of(x->rq, &o);
	rs_reset(&x->q);
	rs_sql(&x->q, "SELECT r.id, ");
	rs_sql(&x->q, o.v);
	rs_sql(&x->q, from[x->rq->order]);
	rs_sql(&x->q, " WHERE r.project_id = ");
	rs_int(&x->q, x->project_id);
	rs_view(x);
	q_keyset(x, &o);
	rs_clauses(x);
	q_order_by(&x->q, &o, o.v, "r.id");
	return rs_run_query(x);
}

/* The first walk of a keyed order: the runs having the value, in value order. */
static void keyed_walk(struct rs_search *x)
{
	static const char *const walk[] = {
		[ATR_RQ_BY_PARAM] = "SELECT r.id, o.value FROM run_params o INDEXED BY run_params_kv CROSS JOIN runs r"
				    " ON r.id = o.run_id WHERE o.key = ",
		[ATR_RQ_BY_METRIC] = "SELECT r.id, o.last FROM run_metrics o INDEXED BY run_metrics_order CROSS JOIN"
				     " runs r ON r.id = o.run_id WHERE o.project_id = ",
		[ATR_RQ_BY_TAG] = "SELECT r.id, o.value FROM run_tags o INDEXED BY run_tags_kv CROSS JOIN runs r"
				  " ON r.id = o.run_id WHERE o.key = ",
	};
	const struct atr_runquery *rq = x->rq;
	bool metric = rq->order == ATR_RQ_BY_METRIC;
	struct rs_qb *q = &x->q;

	rs_reset(q);
	rs_sql(q, walk[rq->order]);
	if (metric) {
		rs_int(q, x->project_id);
		rs_sql(q, " AND o.key = ");
	}
	rs_str(q, rq->order_key);
	rs_sql(q, metric ? " AND o.last IS NOT NULL AND r.project_id = " : " AND r.project_id = ");
	rs_int(q, x->project_id);
	rs_view(x);
	if (x->p->after_kind != ATR_PAGE_NONE) {
		rs_sql(q, metric ? " AND (o.last, o.run_id)" : " AND (o.value, o.run_id)");
		rs_sql(q, rq->desc ? " < " : " > ");
		rs_sql(q, "(");
		q_cursor_value(x);
		rs_sql(q, ", ");
		rs_int(q, x->p->after_id);
		rs_sql(q, ")");
	}
}

/*
 * Walks the order index of a param, metric or tag (the runs having it, in value order,
 * testing the clauses), then the project's runs lacking it (or whose metric is NaN), by id.
 */
int rs_plan_keyed(struct rs_search *x)
{
	static const char *const lacking[] = {
		[ATR_RQ_BY_PARAM] = " AND NOT EXISTS (SELECT 1 FROM run_params x WHERE x.run_id = r.id AND x.key = ",
		[ATR_RQ_BY_METRIC] = " AND NOT EXISTS (SELECT 1 FROM run_metrics x WHERE x.run_id = r.id AND"
				     " x.last IS NOT NULL AND x.key = ",
		[ATR_RQ_BY_TAG] = " AND NOT EXISTS (SELECT 1 FROM run_tags x WHERE x.run_id = r.id AND x.key = ",
	};
	const struct atr_runquery *rq = x->rq;
	const char *gt = rq->desc ? " < " : " > ";
	struct rs_qb *q = &x->q;
	struct order o;
	int rc;

	order_of(rq, &o);
	o.nullable = false; /* the walk over the index sees only runs that have the value */
	if (x->p->after_kind != ATR_PAGE_NULL) {
		keyed_walk(x);
		x->set_id = "+o.run_id"; /* tested on the index entry, before the run is looked up */
		rs_clauses(x);
		x->set_id = "+r.id";
		q_order_by(q, &o, rq->order == ATR_RQ_BY_METRIC ? "o.last" : "o.value", "o.run_id");
		if ((rc = rs_run_query(x)) < 0 || x->n == x->want)
			return rc;
	}
	rs_reset(q);
	rs_sql(q, "SELECT r.id, NULL FROM runs r INDEXED BY runs_project WHERE r.project_id = ");
	rs_int(q, x->project_id);
	rs_view(x);
	if (x->p->after_kind == ATR_PAGE_NULL) {
		rs_sql(q, " AND r.id");
		rs_sql(q, gt);
		rs_int(q, x->p->after_id);
	}
	rs_clauses(x); /* before the lookup below: a set test is cheaper */
	rs_sql(q, lacking[rq->order]);
	rs_str(q, rq->order_key);
	rs_sql(q, ")");
	rs_sql(q, rq->desc ? " ORDER BY r.id DESC" : " ORDER BY r.id ASC");
	return rs_run_query(x);
}

/* ---- the sorting plan: any projects, any order terms ---- */

/* Order term t (0: the query's first). */
static void term(const struct atr_runquery *rq, int t, enum atr_rq_order *by, const char **key, bool *desc)
{
	*by = t == 0 ? rq->order : rq->then[t - 1].by;
	*key = t == 0 ? rq->order_key : rq->then[t - 1].key;
	*desc = t == 0 ? rq->desc : rq->then[t - 1].desc;
}

/* Term t's value as an expression of the run r (keyed terms: their join's alias o<t>). */
static void term_expr(enum atr_rq_order by, int t, char *out, size_t len)
{
	static const char *const exprs[] = {
		[ATR_RQ_BY_STARTED] = "r.started_at",
		[ATR_RQ_BY_NAME] = "r.name",
		[ATR_RQ_BY_ENDED] = "r.ended_at",
		[ATR_RQ_BY_STATUS] = "r.status",
		[ATR_RQ_BY_RUN_ID] = "r.uuid",
		[ATR_RQ_BY_USER] = "(SELECT username FROM users WHERE id = r.created_by)",
		[ATR_RQ_BY_ARTIFACT_URI] = "('mlflow-artifacts:/' || r.project_id || '/' || r.uuid || '/artifacts')",
	};

	if (keyed(by))
		snprintf(out, len, "o%d.%s", t, by == ATR_RQ_BY_METRIC ? "last" : "value");
	else
		snprintf(out, len, "%s", exprs[by] ? exprs[by] : "NULL");
}

static int nterms(const struct atr_runquery *rq)
{
	return rq->order == ATR_RQ_BY_ID ? 0 : 1 + rq->nthen;
}

/* The joins of the keyed terms: LEFT JOIN run_params o<t> ON ... */
static void sorted_joins(struct rs_search *x)
{
	static const char *const table[] = {
		[ATR_RQ_BY_PARAM] = " LEFT JOIN run_params ",
		[ATR_RQ_BY_METRIC] = " LEFT JOIN run_metrics ",
		[ATR_RQ_BY_TAG] = " LEFT JOIN run_tags ",
	};

	for (int t = 0; t < nterms(x->rq); t++) {
		enum atr_rq_order by;
		const char *key;
		char on[64];
		bool desc;
		term(x->rq, t, &by, &key, &desc);
		if (!keyed(by))
			continue;
		rs_sql(&x->q, table[by]);
		snprintf(on, sizeof(on), "o%d ON o%d.run_id = r.id AND o%d.key = ", t, t, t);
		rs_sql(&x->q, on);
		rs_str(&x->q, key);
	}
}

/* Binds a cursor value (a number, a string or null). */
static void q_json(struct rs_qb *q, const json_t *v)
{
	if (json_is_integer(v))
		rs_int(q, json_integer_value(v));
	else if (json_is_number(v))
		rs_num(q, json_number_value(v));
	else if (json_is_string(v))
		rs_str(q, json_string_value(v));
	else
		rs_null(q);
}

/*
 * " AND <rows after the cursor>": after term 1, or equal in term 1 and after in term 2, ...,
 * or equal in every term and after in id. A missing value (NULL) comes after every value in
 * either direction; nothing comes after a missing value but other missing ones.
 */
static void sorted_keyset(struct rs_search *x)
{
	int k = nterms(x->rq);
	struct rs_qb *q = &x->q;
	char e[128];

	if (!x->after)
		return;
	rs_sql(q, " AND (0");
	for (int i = 0; i <= k; i++) {
		enum atr_rq_order by = ATR_RQ_BY_ID;
		const char *key;
		bool desc = k == 0 || x->rq->desc;
		const json_t *a = json_array_get(x->after, (size_t)i);
		if (i < k)
			term(x->rq, i, &by, &key, &desc);
		if (i < k && json_is_null(a))
			continue; /* nothing is after a missing value in this term */
		rs_sql(q, " OR (1");
		for (int j = 0; j < i; j++) {
			enum atr_rq_order bj;
			const char *kj;
			bool dj;
			term(x->rq, j, &bj, &kj, &dj);
			term_expr(bj, j, e, sizeof(e));
			rs_sql(q, " AND ");
			rs_sql(q, e);
			rs_sql(q, " IS ");
			q_json(q, json_array_get(x->after, (size_t)j));
		}
		if (i == k) {
			rs_sql(q, desc ? " AND r.id < " : " AND r.id > ");
			rs_int(q, json_integer_value(a));
		} else {
			term_expr(by, i, e, sizeof(e));
			rs_sql(q, " AND (");
			rs_sql(q, e);
			rs_sql(q, desc ? " < " : " > ");
			q_json(q, a);
			rs_sql(q, " OR ");
			rs_sql(q, e);
			rs_sql(q, " IS NULL)");
		}
		rs_sql(q, ")");
	}
	rs_sql(q, ")");
}

/* SELECT r.id, <term values> FROM runs r <joins> WHERE <scope, view, clauses, cursor>
 * ORDER BY <each term: missing last, then its value>, r.id */
int rs_plan_sorted(struct rs_search *x)
{
	int k = nterms(x->rq);
	struct rs_qb *q = &x->q;
	char e[128];

	rs_reset(q);
	rs_sql(q, "SELECT r.id");
	for (int t = 0; t < k; t++) {
		enum atr_rq_order by;
		const char *key;
		bool desc;
		term(x->rq, t, &by, &key, &desc);
		term_expr(by, t, e, sizeof(e));
		rs_sql(q, ", ");
		rs_sql(q, e);
	}
	rs_sql(q, " FROM runs r");
	sorted_joins(x);
	rs_sql(q, " WHERE ");
	rs_scope(x, "r.project_id");
	rs_view(x);
	rs_clauses(x);
	sorted_keyset(x);
	rs_sql(q, " ORDER BY ");
	for (int t = 0; t < k; t++) {
		enum atr_rq_order by;
		const char *key;
		bool desc;
		term(x->rq, t, &by, &key, &desc);
		term_expr(by, t, e, sizeof(e));
		rs_sql(q, e);
		rs_sql(q, " IS NULL, ");
		rs_sql(q, e);
		rs_sql(q, desc ? " DESC, " : " ASC, ");
	}
	rs_sql(q, k == 0 || x->rq->desc ? "r.id DESC" : "r.id ASC");
	return rs_run_query(x);
}

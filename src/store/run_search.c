/*
 * run_search.c: filtered, ordered, keyset-paginated run lists. The SQL is assembled only from
 * the fixed fragments in this file; every key and value of the query is a bound parameter.
 *
 * Plans (chosen here, then pinned with INDEXED BY / CROSS JOIN so SQLite cannot drift):
 *  - driven by a filter: when a clause on params, tags, a metric or the name matches fewer
 *    than atr_run_search_drive_cap rows (a capped index probe counts), read just those runs from that
 *    clause's index and sort them;
 *  - driven by the order: otherwise walk the index of the order (runs by id, start time or
 *    name; run_metrics by (project, key, last); run_params by (key, value)) and test the
 *    clauses on each run until the page is full. Runs lacking the ordering metric/param come
 *    after the others (a second walk over the project's runs by id).
 * Either way the cursor is [value, id] (or [id] for the default order), ties are broken by
 * id in the direction of the order, and NULLs (runs without the key) always come last.
 */
#include "atrium/store_runs.h"
#include "atrium/buf.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * A filter matching fewer rows than this drives the plan: reading and sorting 2,000 runs
 * costs about as much as walking an order index past 2,000 runs that fail the filter.
 */
int64_t atr_run_search_drive_cap = 2000;
#define MAX_BINDS 64

struct qbind {
	char type; /* 'i', 'd', 's' */
	int64_t i;
	double d;
	const char *s;
};

struct qb {
	struct atr_buf sql;
	struct qbind b[MAX_BINDS];
	int nb;
	bool fail;
};

static void q_sql(struct qb *q, const char *frag)
{
	if (atr_buf_puts(&q->sql, frag) < 0)
		q->fail = true;
}

static struct qbind *q_bind(struct qb *q)
{
	q_sql(q, "?");
	if (q->nb == MAX_BINDS) {
		q->fail = true;
		return &q->b[MAX_BINDS - 1];
	}
	return &q->b[q->nb++];
}

static void q_int(struct qb *q, int64_t v)
{
	struct qbind *b = q_bind(q);
	b->type = 'i';
	b->i = v;
}

static void q_num(struct qb *q, double v)
{
	struct qbind *b = q_bind(q);
	b->type = 'd';
	b->d = v;
}

static void q_str(struct qb *q, const char *v)
{
	struct qbind *b = q_bind(q);
	b->type = 's';
	b->s = v;
}

static void q_reset(struct qb *q)
{
	atr_buf_reset(&q->sql);
	q->nb = 0;
}

static const char *const op_sql[] = {" = ", " <> ", " < ", " <= ", " > ", " >= "};

/* The clause's value, bound with its type. */
static void q_value(struct qb *q, const struct atr_rq_clause *c)
{
	if (c->field == ATR_RQ_METRIC)
		q_num(q, c->num);
	else
		q_str(q, c->str);
}

/* " AND <clause about run r>" */
static void q_clause(struct qb *q, const struct atr_rq_clause *c)
{
	switch (c->field) {
	case ATR_RQ_PARAM:
	case ATR_RQ_TAG:
		q_sql(q, c->field == ATR_RQ_PARAM ? " AND EXISTS (SELECT 1 FROM run_params x WHERE x.run_id = r.id AND x.key = "
						  : " AND EXISTS (SELECT 1 FROM run_tags x WHERE x.run_id = r.id AND x.key = ");
		q_str(q, c->key);
		q_sql(q, " AND x.value");
		break;
	case ATR_RQ_METRIC:
		q_sql(q, " AND EXISTS (SELECT 1 FROM run_metrics x WHERE x.run_id = r.id AND x.key = ");
		q_str(q, c->key);
		q_sql(q, " AND x.last");
		break;
	case ATR_RQ_STATUS:
		q_sql(q, " AND (r.status");
		break;
	case ATR_RQ_NAME:
		q_sql(q, " AND (r.name");
		break;
	}
	q_sql(q, op_sql[c->op]);
	q_value(q, c);
	q_sql(q, ")");
}

static void q_clauses(struct qb *q, const struct atr_runquery *rq, int skip)
{
	for (int i = 0; i < rq->n; i++)
		if (i != skip)
			q_clause(q, &rq->c[i]);
}

/* ---- running a query ---- */

struct hits {
	int64_t *ids;
	size_t n, want; /* want = limit + 1: one more says another page follows */
	size_t limit;
	json_t *last_value; /* the order value of row limit-1 (the page's last), for the cursor */
};

static json_t *column_json(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(st, i));
	case SQLITE_TEXT:
		return json_stringn((const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
	default:
		return json_null();
	}
}

/* Runs q (SELECT r.id, value ... LIMIT ?) and appends its rows to h. */
static int run_query(struct atr_store *s, struct qb *q, struct hits *h)
{
	sqlite3 *db = atr_db_handle(s->db);
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE;

	q_sql(q, " LIMIT ");
	q_int(q, (int64_t)(h->want - h->n));
	if (q->fail)
		return ATR_ENOMEM;
	if (sqlite3_prepare_v2(db, q->sql.data, (int)q->sql.len, &st, NULL) != SQLITE_OK) {
		atr_error("run search: %s: %.200s", sqlite3_errmsg(db), q->sql.data);
		return ATR_EDB;
	}
	for (int i = 0; i < q->nb; i++) {
		const struct qbind *b = &q->b[i];
		if (b->type == 'i')
			sqlite3_bind_int64(st, i + 1, b->i);
		else if (b->type == 'd')
			sqlite3_bind_double(st, i + 1, b->d);
		else
			sqlite3_bind_text(st, i + 1, b->s, -1, SQLITE_STATIC);
	}
	while (h->n < h->want && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (h->n + 1 == h->limit) {
			json_decref(h->last_value);
			h->last_value = column_json(st, 1);
		}
		h->ids[h->n++] = sqlite3_column_int64(st, 0);
	}
	if (h->n < h->want && rc != SQLITE_DONE) {
		atr_error("run search: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return ATR_EDB;
	}
	sqlite3_finalize(st);
	return 0;
}

/* How many rows clause c matches, counting at most cap; -1 when c cannot drive a plan. */
static int64_t probe(struct atr_store *s, struct qb *q, int64_t project_id, const struct atr_rq_clause *c, int64_t cap)
{
	sqlite3 *db = atr_db_handle(s->db);
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (c->op == ATR_RQ_NE || c->field == ATR_RQ_STATUS)
		return -1;
	q_reset(q);
	switch (c->field) {
	case ATR_RQ_PARAM:
	case ATR_RQ_TAG:
		q_sql(q, c->field == ATR_RQ_PARAM
				 ? "SELECT count(*) FROM (SELECT 1 FROM run_params INDEXED BY run_params_kv WHERE key = "
				 : "SELECT count(*) FROM (SELECT 1 FROM run_tags INDEXED BY run_tags_kv WHERE key = ");
		q_str(q, c->key);
		q_sql(q, " AND value");
		break;
	case ATR_RQ_METRIC:
		q_sql(q, "SELECT count(*) FROM (SELECT 1 FROM run_metrics INDEXED BY run_metrics_order WHERE project_id = ");
		q_int(q, project_id);
		q_sql(q, " AND key = ");
		q_str(q, c->key);
		q_sql(q, " AND last");
		break;
	default: /* name */
		q_sql(q, "SELECT count(*) FROM (SELECT 1 FROM runs INDEXED BY runs_project_name WHERE project_id = ");
		q_int(q, project_id);
		q_sql(q, " AND name");
		break;
	}
	q_sql(q, op_sql[c->op]);
	q_value(q, c);
	q_sql(q, " LIMIT ");
	q_int(q, cap);
	q_sql(q, ")");
	if (q->fail || sqlite3_prepare_v2(db, q->sql.data, (int)q->sql.len, &st, NULL) != SQLITE_OK)
		return -1;
	for (int i = 0; i < q->nb; i++) {
		const struct qbind *b = &q->b[i];
		if (b->type == 'i')
			sqlite3_bind_int64(st, i + 1, b->i);
		else if (b->type == 'd')
			sqlite3_bind_double(st, i + 1, b->d);
		else
			sqlite3_bind_text(st, i + 1, b->s, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* ---- the order ---- */

struct order {
	const char *v;   /* the order value expression ("NULL" for the default order) */
	bool nullable;   /* runs may lack it (params, metrics): they come last */
	const char *src; /* BY_PARAM / BY_METRIC: the table of the value */
	bool desc;
};

static void order_of(const struct atr_runquery *rq, struct order *o)
{
	memset(o, 0, sizeof(*o));
	o->desc = rq->desc;
	switch (rq->order) {
	case ATR_RQ_BY_ID:
		o->v = "NULL";
		o->desc = true;
		break;
	case ATR_RQ_BY_STARTED:
		o->v = "r.started_at";
		break;
	case ATR_RQ_BY_NAME:
		o->v = "r.name";
		break;
	case ATR_RQ_BY_PARAM:
		o->v = "o.value";
		o->nullable = true;
		o->src = "run_params";
		break;
	case ATR_RQ_BY_METRIC:
		o->v = "o.last";
		o->nullable = true;
		o->src = "run_metrics";
		break;
	}
}

/* Binds the cursor's value for the order. */
static void q_cursor_value(struct qb *q, const struct atr_runquery *rq, const struct atr_page *p)
{
	if (rq->order == ATR_RQ_BY_STARTED)
		q_int(q, (int64_t)llround(p->after_num));
	else if (p->after_kind == ATR_PAGE_NUM)
		q_num(q, p->after_num);
	else
		q_str(q, p->after_str);
}

/* " AND <rows after the cursor>" for the generic (one-query) shape, NULLs last. */
static void q_keyset(struct qb *q, const struct atr_runquery *rq, const struct order *o, const struct atr_page *p)
{
	const char *gt = o->desc ? " < " : " > ";

	if (p->after_id <= 0 && p->after_kind == ATR_PAGE_NONE)
		return;
	if (rq->order == ATR_RQ_BY_ID) {
		q_sql(q, " AND r.id < ");
		q_int(q, p->after_id);
		return;
	}
	if (p->after_kind == ATR_PAGE_NULL) {
		q_sql(q, " AND ");
		q_sql(q, o->v);
		q_sql(q, " IS NULL AND r.id");
		q_sql(q, gt);
		q_int(q, p->after_id);
		return;
	}
	q_sql(q, " AND (");
	if (o->nullable) {
		q_sql(q, o->v);
		q_sql(q, " IS NULL OR ");
	}
	q_sql(q, "(");
	q_sql(q, o->v);
	q_sql(q, ", r.id)");
	q_sql(q, gt);
	q_sql(q, "(");
	q_cursor_value(q, rq, p);
	q_sql(q, ", ");
	q_int(q, p->after_id);
	q_sql(q, "))");
}

static void q_order_by(struct qb *q, const struct order *o, const char *v, const char *id)
{
	const char *dir = o->desc ? " DESC" : " ASC";

	q_sql(q, " ORDER BY ");
	if (strcmp(v, "NULL") != 0) {
		if (o->nullable) {
			q_sql(q, v);
			q_sql(q, " IS NULL, ");
		}
		q_sql(q, v);
		q_sql(q, dir);
		q_sql(q, ", ");
	}
	q_sql(q, id);
	q_sql(q, dir);
}

/* " LEFT JOIN <order table> o ON o.run_id = r.id AND o.key = ?" for params/metrics orders. */
static void q_order_join(struct qb *q, const struct atr_runquery *rq, const struct order *o)
{
	if (!o->src)
		return;
	q_sql(q, rq->order == ATR_RQ_BY_PARAM ? " LEFT JOIN run_params o ON o.run_id = r.id AND o.key = "
					      : " LEFT JOIN run_metrics o ON o.run_id = r.id AND o.key = ");
	q_str(q, rq->order_key);
}

/* ---- plans ---- */

/* Reads the runs matching clause d from its index, then sorts them. */
static int plan_driven(struct atr_store *s, struct qb *q, int64_t project_id, const struct atr_runquery *rq,
		       int d, const struct atr_page *p, struct hits *h)
{
	const struct atr_rq_clause *c = &rq->c[d];
	struct order o;

	order_of(rq, &o);
	q_reset(q);
	q_sql(q, "SELECT r.id, ");
	q_sql(q, o.v);
	switch (c->field) {
	case ATR_RQ_PARAM:
	case ATR_RQ_TAG:
		q_sql(q, c->field == ATR_RQ_PARAM ? " FROM run_params d INDEXED BY run_params_kv"
						  : " FROM run_tags d INDEXED BY run_tags_kv");
		q_sql(q, " CROSS JOIN runs r ON r.id = d.run_id");
		q_order_join(q, rq, &o);
		q_sql(q, " WHERE d.key = ");
		q_str(q, c->key);
		q_sql(q, " AND d.value");
		break;
	case ATR_RQ_METRIC:
		q_sql(q, " FROM run_metrics d INDEXED BY run_metrics_order CROSS JOIN runs r ON r.id = d.run_id");
		q_order_join(q, rq, &o);
		q_sql(q, " WHERE d.project_id = ");
		q_int(q, project_id);
		q_sql(q, " AND d.key = ");
		q_str(q, c->key);
		q_sql(q, " AND d.last");
		break;
	default: /* name */
		q_sql(q, " FROM runs r INDEXED BY runs_project_name");
		q_order_join(q, rq, &o);
		q_sql(q, " WHERE r.name");
		break;
	}
	q_sql(q, op_sql[c->op]);
	q_value(q, c);
	q_sql(q, " AND r.project_id = ");
	q_int(q, project_id);
	q_clauses(q, rq, d);
	q_keyset(q, rq, &o, p);
	q_order_by(q, &o, o.v, "r.id");
	return run_query(s, q, h);
}

/* Walks the runs of the project in id, start-time or name order. */
static int plan_runs(struct atr_store *s, struct qb *q, int64_t project_id, const struct atr_runquery *rq,
		     const struct atr_page *p, struct hits *h)
{
	struct order o;

	order_of(rq, &o);
	q_reset(q);
	q_sql(q, "SELECT r.id, ");
	q_sql(q, o.v);
	q_sql(q, rq->order == ATR_RQ_BY_STARTED ? " FROM runs r INDEXED BY runs_project_started"
		 : rq->order == ATR_RQ_BY_NAME	 ? " FROM runs r INDEXED BY runs_project_name"
						 : " FROM runs r INDEXED BY runs_project");
	q_sql(q, " WHERE r.project_id = ");
	q_int(q, project_id);
	q_keyset(q, rq, &o, p);
	q_clauses(q, rq, -1);
	q_order_by(q, &o, o.v, "r.id");
	return run_query(s, q, h);
}

/*
 * Walks the order index of a param or metric (runs having it, in value order), then the
 * project's runs lacking it (by id).
 */
static int plan_keyed(struct atr_store *s, struct qb *q, int64_t project_id, const struct atr_runquery *rq,
		      const struct atr_page *p, struct hits *h)
{
	bool metric = rq->order == ATR_RQ_BY_METRIC;
	const char *gt = rq->desc ? " < " : " > ";
	struct order o;
	int rc;

	order_of(rq, &o);
	o.nullable = false; /* the walk over the index sees only runs that have the value */
	if (p->after_kind != ATR_PAGE_NULL) {
		q_reset(q);
		if (metric) {
			q_sql(q, "SELECT r.id, o.last FROM run_metrics o INDEXED BY run_metrics_order CROSS JOIN runs r"
				 " ON r.id = o.run_id WHERE o.project_id = ");
			q_int(q, project_id);
			q_sql(q, " AND o.key = ");
		} else {
			q_sql(q, "SELECT r.id, o.value FROM run_params o INDEXED BY run_params_kv CROSS JOIN runs r"
				 " ON r.id = o.run_id WHERE o.key = ");
		}
		q_str(q, rq->order_key);
		q_sql(q, " AND r.project_id = ");
		q_int(q, project_id);
		if (p->after_kind != ATR_PAGE_NONE) {
			q_sql(q, metric ? " AND (o.last, o.run_id)" : " AND (o.value, o.run_id)");
			q_sql(q, gt);
			q_sql(q, "(");
			q_cursor_value(q, rq, p);
			q_sql(q, ", ");
			q_int(q, p->after_id);
			q_sql(q, ")");
		}
		q_clauses(q, rq, -1);
		q_order_by(q, &o, metric ? "o.last" : "o.value", "o.run_id");
		if ((rc = run_query(s, q, h)) < 0 || h->n == h->want)
			return rc;
	}
	q_reset(q);
	q_sql(q, "SELECT r.id, NULL FROM runs r INDEXED BY runs_project WHERE r.project_id = ");
	q_int(q, project_id);
	q_sql(q, metric ? " AND NOT EXISTS (SELECT 1 FROM run_metrics x WHERE x.run_id = r.id AND x.key = "
			: " AND NOT EXISTS (SELECT 1 FROM run_params x WHERE x.run_id = r.id AND x.key = ");
	q_str(q, rq->order_key);
	q_sql(q, ")");
	if (p->after_kind == ATR_PAGE_NULL) {
		q_sql(q, " AND r.id");
		q_sql(q, gt);
		q_int(q, p->after_id);
	}
	q_clauses(q, rq, -1);
	q_sql(q, rq->desc ? " ORDER BY r.id DESC" : " ORDER BY r.id ASC");
	return run_query(s, q, h);
}

/* Whether a cursor's value fits the order (a cursor from another order_by is refused). */
static bool cursor_fits(const struct atr_runquery *rq, const struct atr_page *p)
{
	if (p->after_id <= 0 && p->after_kind == ATR_PAGE_NONE)
		return true;
	switch (rq->order) {
	case ATR_RQ_BY_ID:
		return p->after_kind == ATR_PAGE_NONE;
	case ATR_RQ_BY_STARTED:
		return p->after_kind == ATR_PAGE_NUM;
	case ATR_RQ_BY_NAME:
		return p->after_kind == ATR_PAGE_STR;
	case ATR_RQ_BY_PARAM:
		return p->after_kind == ATR_PAGE_STR || p->after_kind == ATR_PAGE_NULL;
	case ATR_RQ_BY_METRIC:
		return p->after_kind == ATR_PAGE_NUM || p->after_kind == ATR_PAGE_NULL;
	}
	return false;
}

int atr_store_run_search(struct atr_store *s, int64_t project_id, const struct atr_runquery *rq,
			 const struct atr_page *p, json_t *arr, json_t **next)
{
	struct hits h = {0};
	struct qb q;
	int64_t best = atr_run_search_drive_cap;
	int driver = -1, rc;

	*next = NULL;
	if (!cursor_fits(rq, p))
		return ATR_EINVAL;
	h.limit = (size_t)p->limit;
	h.want = h.limit + 1;
	if (!(h.ids = malloc(h.want * sizeof(*h.ids))))
		return ATR_ENOMEM;
	memset(&q, 0, sizeof(q));
	atr_buf_init(&q.sql, 64 * 1024);
	for (int i = 0; i < rq->n; i++) {
		int64_t n = probe(s, &q, project_id, &rq->c[i], best);
		if (n >= 0 && n < best) {
			best = n;
			driver = i;
		}
	}
	if (driver >= 0)
		rc = plan_driven(s, &q, project_id, rq, driver, p, &h);
	else if (rq->order == ATR_RQ_BY_PARAM || rq->order == ATR_RQ_BY_METRIC)
		rc = plan_keyed(s, &q, project_id, rq, p, &h);
	else
		rc = plan_runs(s, &q, project_id, rq, p, &h);
	for (size_t i = 0; rc == 0 && i < h.n && i < h.limit; i++) {
		json_t *run = atr_store_run_item(s, h.ids[i], &rc);
		if (run && json_array_append_new(arr, run) < 0)
			rc = ATR_ENOMEM;
	}
	if (rc == 0 && h.n > h.limit) {
		int64_t last = h.ids[h.limit - 1];
		*next = rq->order == ATR_RQ_BY_ID ? json_pack("[I]", (json_int_t)last)
						  : json_pack("[O,I]", h.last_value ? h.last_value : json_null(),
							      (json_int_t)last);
		if (!*next)
			rc = ATR_ENOMEM;
	}
	json_decref(h.last_value);
	atr_buf_release(&q.sql);
	free(h.ids);
	return rc;
}

/*
 * run_search.c: filtered, ordered, keyset-paginated run lists. The SQL is assembled only from
 * the fixed fragments in this file; every key and value of the query is a bound parameter.
 *
 * Each clause that an index can answer (params, tags, metrics, name; not != or status) is
 * first counted with a capped index probe. Then (the plan is pinned with INDEXED BY and
 * CROSS JOIN so SQLite cannot drift):
 *  - driven by a filter: when the smallest clause matches fewer than atr_run_search_drive_cap
 *    runs (alone, or together with the other set clauses below), read just those runs and
 *    sort them;
 *  - driven by the order: otherwise walk the order's index (runs by id, start time or name;
 *    run_metrics by (project, key, last); run_params by (key, value)) until the page is full.
 *    A clause matching fewer than atr_run_search_set_cap runs is tested against a set SQLite
 *    builds once from its index (r.id IN (SELECT ...)), a broader one run by run. Runs
 *    lacking the ordering metric or param come after the others (a walk by id).
 * The walk touches about limit * runs / matches index entries, in order; reading the matches
 * costs one scattered lookup each: which is cheaper flips near sqrt(limit * runs), hence the
 * caps. The cursor is [value, id] (or [id] for the default order), ties are broken by id in
 * the direction of the order, and runs without the key always come last.
 */
#include "atrium/store_runs.h"
#include "atrium/buf.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t atr_run_search_drive_cap = 500;
int64_t atr_run_search_set_cap = 10000;

#define MAX_BINDS 128 /* 16 clauses bind at most 3 values each, an order and a cursor a few more */

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

/* Prepares the built text with its bindings (finalize it), or NULL. */
static sqlite3_stmt *q_prepare(struct atr_store *s, struct qb *q)
{
	sqlite3 *db = atr_db_handle(s->db);
	sqlite3_stmt *st = NULL;

	if (q->fail)
		return NULL;
	if (sqlite3_prepare_v2(db, q->sql.data, (int)q->sql.len, &st, NULL) != SQLITE_OK) {
		atr_error("run search: %s: %.200s", sqlite3_errmsg(db), q->sql.data);
		return NULL;
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
	return st;
}

/* One search: the query, its builder, what the probes found, the rows so far. */
struct search {
	struct atr_store *s;
	int64_t project_id;
	const struct atr_runquery *rq;
	const struct atr_page *p;
	struct qb q;
	int64_t count[ATR_RQ_MAX_CLAUSES]; /* rows clause i matches (capped); -1: no index for it */
	int driver;			   /* the clause whose runs are read and sorted, or -1 */
	const char *set_id;		   /* what a set clause tests: "+r.id", or "+o.run_id" */
	int64_t *ids;
	size_t n, want, limit; /* want = limit + 1: one more says another page follows */
	json_t *last_value;    /* the order value of the page's last row, for the cursor */
};

static const char *const op_sql[] = { " = ", " <> ", " < ", " <= ", " > ", " >= " };

/* Whether clause i is tested against a set built once (it matches few enough runs). */
static bool is_set(const struct search *x, int i)
{
	return x->count[i] >= 0 && x->count[i] < atr_run_search_set_cap;
}

/* The clause's value, bound with its type. */
static void q_value(struct qb *q, const struct atr_rq_clause *c)
{
	if (c->field == ATR_RQ_METRIC)
		q_num(q, c->num);
	else
		q_str(q, c->str);
}

/* Whether a clause can be answered from an index as a set of run ids. */
static bool indexable(const struct atr_rq_clause *c)
{
	return c->op != ATR_RQ_NE && c->field != ATR_RQ_STATUS;
}

/*
 * Where each kind of clause is answered: its table, the same table pinned to the index that
 * finds runs by value (project-scoped where the index is), and the compared column. Status is
 * only ever tested on the run row.
 */
static const struct field_sql {
	const char *table, *indexed, *scope, *value;
} fields[] = {
	[ATR_RQ_PARAM] = { "run_params", "SELECT run_id FROM run_params INDEXED BY run_params_kv WHERE ", NULL,
			   "value" },
	[ATR_RQ_TAG] = { "run_tags", "SELECT run_id FROM run_tags INDEXED BY run_tags_kv WHERE ", NULL, "value" },
	[ATR_RQ_METRIC] = { "run_metrics", "SELECT run_id FROM run_metrics INDEXED BY run_metrics_order WHERE ",
			    "project_id = ", "last" },
	[ATR_RQ_STATUS] = { NULL, NULL, NULL, "status" },
	[ATR_RQ_NAME] = { NULL, "SELECT id AS run_id FROM runs INDEXED BY runs_project_name WHERE ",
			  "project_id = ", "name" },
};

/* "SELECT run_id FROM <the clause's index> WHERE <the clause>" (indexable clauses). */
static void q_set(struct search *x, const struct atr_rq_clause *c)
{
	const struct field_sql *f = &fields[c->field];
	struct qb *q = &x->q;

	q_sql(q, f->indexed);
	if (f->scope) {
		q_sql(q, f->scope);
		q_int(q, x->project_id);
		q_sql(q, " AND ");
	}
	if (c->key) {
		q_sql(q, "key = ");
		q_str(q, c->key);
		q_sql(q, " AND ");
	}
	q_sql(q, f->value);
	q_sql(q, op_sql[c->op]);
	q_value(q, c);
}

/*
 * " AND <clause i about run r>". A clause matching a modest number of runs becomes a set SQLite
 * builds once (IN (SELECT ...)); a broad one is tested run by run through the (run, key)
 * primary key, since only the runs the walk reaches are ever tested.
 */
static void q_clause(struct search *x, int i)
{
	const struct atr_rq_clause *c = &x->rq->c[i];
	const struct field_sql *f = &fields[c->field];
	struct qb *q = &x->q;

	if (is_set(x, i)) {
		/* the unary + keeps SQLite from looking the list up in an index per row */
		q_sql(q, " AND ");
		q_sql(q, x->set_id);
		q_sql(q, " IN (");
		q_set(x, c);
		q_sql(q, ")");
		return;
	}
	if (f->table) {
		q_sql(q, " AND EXISTS (SELECT 1 FROM ");
		q_sql(q, f->table);
		q_sql(q, " x WHERE x.run_id = r.id AND x.key = ");
		q_str(q, c->key);
		q_sql(q, " AND x.");
	} else {
		q_sql(q, " AND (r.");
	}
	q_sql(q, f->value);
	q_sql(q, op_sql[c->op]);
	q_value(q, c);
	q_sql(q, ")");
}

static void q_clauses(struct search *x)
{
	for (int i = 0; i < x->rq->n; i++)
		if (i != x->driver)
			q_clause(x, i);
}

/* ---- running a query ---- */

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

/* Runs the built query (SELECT r.id, value ...) for the rows still wanted, appending them. */
static int run_query(struct search *x)
{
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	q_sql(&x->q, " LIMIT ");
	q_int(&x->q, (int64_t)(x->want - x->n));
	if (!(st = q_prepare(x->s, &x->q)))
		return x->q.fail ? ATR_ENOMEM : ATR_EDB;
	while (x->n < x->want && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (x->n + 1 == x->limit) {
			json_decref(x->last_value);
			x->last_value = column_json(st, 1);
		}
		x->ids[x->n++] = sqlite3_column_int64(st, 0);
	}
	if (x->n < x->want && rc != SQLITE_DONE) {
		atr_error("run search: %s", sqlite3_errmsg(atr_db_handle(x->s->db)));
		sqlite3_finalize(st);
		return ATR_EDB;
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * How many runs clause d matches, counting at most cap (an index range scan); with others,
 * how many match it and every other set clause too. -1: unknown.
 */
static int64_t probe(struct search *x, int d, bool others, int64_t cap)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	q_reset(&x->q);
	q_sql(&x->q, "SELECT count(*) FROM (SELECT run_id FROM (");
	q_set(x, &x->rq->c[d]);
	q_sql(&x->q, ") WHERE 1");
	for (int i = 0; others && i < x->rq->n; i++)
		if (i != d && is_set(x, i)) {
			q_sql(&x->q, " AND +run_id IN (");
			q_set(x, &x->rq->c[i]);
			q_sql(&x->q, ")");
		}
	q_sql(&x->q, " LIMIT ");
	q_int(&x->q, cap);
	q_sql(&x->q, ")");
	if (!(st = q_prepare(x->s, &x->q)))
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* ---- the order ---- */

struct order {
	const char *v; /* the order value expression ("NULL" for the default order) */
	bool nullable; /* runs may lack it (params, metrics): they come last */
	bool desc;
};

static void order_of(const struct atr_runquery *rq, struct order *o)
{
	static const char *const v[] = { "NULL", "r.started_at", "r.name", "o.value", "o.last" };
	o->v = v[rq->order];
	o->nullable = rq->order == ATR_RQ_BY_PARAM || rq->order == ATR_RQ_BY_METRIC;
	o->desc = rq->order == ATR_RQ_BY_ID ? true : rq->desc;
}

/* Binds the cursor's value for the order. */
static void q_cursor_value(struct search *x)
{
	if (x->rq->order == ATR_RQ_BY_STARTED)
		q_int(&x->q, (int64_t)llround(x->p->after_num));
	else if (x->p->after_kind == ATR_PAGE_NUM)
		q_num(&x->q, x->p->after_num);
	else
		q_str(&x->q, x->p->after_str);
}

static bool has_cursor(const struct atr_page *p)
{
	return p->after_id > 0 || p->after_kind != ATR_PAGE_NONE;
}

/* " AND <rows after the cursor>" for the one-query shapes, NULLs last. */
static void q_keyset(struct search *x, const struct order *o)
{
	struct qb *q = &x->q;
	const char *gt = o->desc ? " < " : " > ";

	if (!has_cursor(x->p))
		return;
	if (x->rq->order == ATR_RQ_BY_ID) {
		q_sql(q, " AND r.id < ");
		q_int(q, x->p->after_id);
		return;
	}
	if (x->p->after_kind == ATR_PAGE_NULL) {
		q_sql(q, " AND ");
		q_sql(q, o->v);
		q_sql(q, " IS NULL AND r.id");
		q_sql(q, gt);
		q_int(q, x->p->after_id);
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
	q_cursor_value(x);
	q_sql(q, ", ");
	q_int(q, x->p->after_id);
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

/* ---- plans ---- */

/* Reads the runs matching the driving clause from its index, then sorts them. */
static int plan_driven(struct search *x)
{
	const struct atr_runquery *rq = x->rq;
	struct qb *q = &x->q;
	struct order o;

	order_of(rq, &o);
	q_reset(q);
	q_sql(q, "SELECT r.id, ");
	q_sql(q, o.v);
	q_sql(q, " FROM (");
	q_set(x, &rq->c[x->driver]);
	q_sql(q, ") d CROSS JOIN runs r INDEXED BY runs_project ON r.project_id = ");
	q_int(q, x->project_id);
	q_sql(q, " AND r.id = d.run_id");
	if (rq->order == ATR_RQ_BY_PARAM || rq->order == ATR_RQ_BY_METRIC) {
		q_sql(q, rq->order == ATR_RQ_BY_PARAM ? " LEFT JOIN run_params o ON o.run_id = r.id AND o.key = "
						      : " LEFT JOIN run_metrics o ON o.run_id = r.id AND o.key = ");
		q_str(q, rq->order_key);
	}
	q_sql(q, " WHERE 1");
	q_clauses(x);
	q_keyset(x, &o);
	q_order_by(q, &o, o.v, "r.id");
	return run_query(x);
}

/* Walks the runs of the project in id, start-time or name order, testing the clauses. */
static int plan_runs(struct search *x)
{
	static const char *const from[] = { " FROM runs r INDEXED BY runs_project",
					    " FROM runs r INDEXED BY runs_project_started",
					    " FROM runs r INDEXED BY runs_project_name" };
	struct order o;

	order_of(x->rq, &o);
	q_reset(&x->q);
	q_sql(&x->q, "SELECT r.id, ");
	q_sql(&x->q, o.v);
	q_sql(&x->q, from[x->rq->order]);
	q_sql(&x->q, " WHERE r.project_id = ");
	q_int(&x->q, x->project_id);
	q_keyset(x, &o);
	q_clauses(x);
	q_order_by(&x->q, &o, o.v, "r.id");
	return run_query(x);
}

/*
 * Walks the order index of a param or metric (the runs having it, in value order, testing
 * the clauses), then the project's runs lacking it, by id.
 */
static int plan_keyed(struct search *x)
{
	const struct atr_runquery *rq = x->rq;
	bool metric = rq->order == ATR_RQ_BY_METRIC;
	const char *gt = rq->desc ? " < " : " > ";
	struct qb *q = &x->q;
	struct order o;
	int rc;

	order_of(rq, &o);
	o.nullable = false; /* the walk over the index sees only runs that have the value */
	if (x->p->after_kind != ATR_PAGE_NULL) {
		q_reset(q);
		if (metric) {
			q_sql(q, "SELECT r.id, o.last FROM run_metrics o INDEXED BY run_metrics_order CROSS JOIN runs r"
				 " ON r.id = o.run_id WHERE o.project_id = ");
			q_int(q, x->project_id);
			q_sql(q, " AND o.key = ");
		} else {
			q_sql(q, "SELECT r.id, o.value FROM run_params o INDEXED BY run_params_kv CROSS JOIN runs r"
				 " ON r.id = o.run_id WHERE o.key = ");
		}
		q_str(q, rq->order_key);
		q_sql(q, " AND r.project_id = ");
		q_int(q, x->project_id);
		if (x->p->after_kind != ATR_PAGE_NONE) {
			q_sql(q, metric ? " AND (o.last, o.run_id)" : " AND (o.value, o.run_id)");
			q_sql(q, gt);
			q_sql(q, "(");
			q_cursor_value(x);
			q_sql(q, ", ");
			q_int(q, x->p->after_id);
			q_sql(q, ")");
		}
		x->set_id = "+o.run_id"; /* tested on the index entry, before the run is looked up */
		q_clauses(x);
		x->set_id = "+r.id";
		q_order_by(q, &o, metric ? "o.last" : "o.value", "o.run_id");
		if ((rc = run_query(x)) < 0 || x->n == x->want)
			return rc;
	}
	q_reset(q);
	q_sql(q, "SELECT r.id, NULL FROM runs r INDEXED BY runs_project WHERE r.project_id = ");
	q_int(q, x->project_id);
	if (x->p->after_kind == ATR_PAGE_NULL) {
		q_sql(q, " AND r.id");
		q_sql(q, gt);
		q_int(q, x->p->after_id);
	}
	q_clauses(x); /* before the lookup below: a set test is cheaper */
	q_sql(q, metric ? " AND NOT EXISTS (SELECT 1 FROM run_metrics x WHERE x.run_id = r.id AND x.key = "
			: " AND NOT EXISTS (SELECT 1 FROM run_params x WHERE x.run_id = r.id AND x.key = ");
	q_str(q, rq->order_key);
	q_sql(q, ")");
	q_sql(q, rq->desc ? " ORDER BY r.id DESC" : " ORDER BY r.id ASC");
	return run_query(x);
}

/* Whether a cursor's value fits the order (a cursor from another order_by is refused). */
static bool cursor_fits(const struct atr_runquery *rq, const struct atr_page *p)
{
	if (!has_cursor(p))
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

/*
 * Counts what each indexable clause matches and picks the plan's driver: the smallest clause,
 * when it (or its intersection with the other set clauses) matches fewer than drive_cap runs.
 */
static void choose(struct search *x)
{
	int64_t cap =
		atr_run_search_set_cap > atr_run_search_drive_cap ? atr_run_search_set_cap : atr_run_search_drive_cap;
	int64_t m;
	int d = -1, sets = 0;

	x->driver = -1;
	for (int i = 0; i < x->rq->n; i++) {
		x->count[i] = indexable(&x->rq->c[i]) ? probe(x, i, false, cap) : -1;
		if (x->count[i] >= 0 && (d < 0 || x->count[i] < x->count[d]))
			d = i;
		sets += is_set(x, i);
	}
	if (d < 0)
		return;
	m = x->count[d];
	if (m >= atr_run_search_drive_cap && is_set(x, d) && sets > 1)
		m = probe(x, d, true, atr_run_search_drive_cap);
	if (m >= 0 && m < atr_run_search_drive_cap)
		x->driver = d;
}

int atr_store_run_search(struct atr_store *s, int64_t project_id, const struct atr_runquery *rq,
			 const struct atr_page *p, json_t *arr, json_t **next)
{
	struct search x;
	int rc;

	*next = NULL;
	if (!cursor_fits(rq, p))
		return ATR_EINVAL;
	memset(&x, 0, sizeof(x));
	x.s = s;
	x.project_id = project_id;
	x.rq = rq;
	x.p = p;
	x.limit = (size_t)p->limit;
	x.want = x.limit + 1;
	x.set_id = "+r.id";
	if (!(x.ids = malloc(x.want * sizeof(*x.ids))))
		return ATR_ENOMEM;
	atr_buf_init(&x.q.sql, 64 * 1024);
	choose(&x);
	if (x.driver >= 0)
		rc = plan_driven(&x);
	else if (rq->order == ATR_RQ_BY_PARAM || rq->order == ATR_RQ_BY_METRIC)
		rc = plan_keyed(&x);
	else
		rc = plan_runs(&x);
	for (size_t i = 0; rc == 0 && i < x.n && i < x.limit; i++) {
		json_t *run = atr_store_run_item(s, x.ids[i], &rc);
		if (run && json_array_append_new(arr, run) < 0)
			rc = ATR_ENOMEM;
	}
	if (rc == 0 && x.n > x.limit) {
		int64_t last = x.ids[x.limit - 1];
		*next = rq->order == ATR_RQ_BY_ID
				? json_pack("[I]", (json_int_t)last)
				: json_pack("[O,I]", x.last_value ? x.last_value : json_null(), (json_int_t)last);
		if (!*next)
			rc = ATR_ENOMEM;
	}
	json_decref(x.last_value);
	atr_buf_release(&x.q.sql);
	free(x.ids);
	return rc;
}

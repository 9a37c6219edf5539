/*
 * run_search.c: filtered, ordered, keyset-paginated run lists. The SQL is assembled only from
 * the fixed fragments of this file and run_plans.c; every key and value of the query is a
 * bound parameter (a LIKE pattern is bound as the GLOB pattern it means, an IN list as a JSON
 * array read with json_each).
 *
 * Each clause that an index can answer (params, tags, metrics, name, start time, run id; not
 * !=, NOT IN or status) is first counted with a capped index probe. Then, for one project and
 * one order term (the plan is pinned with INDEXED BY and CROSS JOIN so SQLite cannot drift):
 *  - driven by a filter: when the smallest clause matches fewer than atr_run_search_drive_cap
 *    runs (alone, or together with the other set clauses below), read just those runs and
 *    sort them;
 *  - driven by the order: otherwise walk the order's index (runs by id, start time or name;
 *    run_metrics by (project, key, last); run_params or run_tags by (key, value)) until the
 *    page is full. A clause matching fewer than atr_run_search_set_cap runs is tested against
 *    a set SQLite builds once from its index (r.id IN (SELECT ...)), a broader one run by run.
 *    Runs lacking the ordering metric, param or tag come after the others (a walk by id).
 * The walk touches about limit * runs / matches index entries, in order; reading the matches
 * costs one scattered lookup each: which is cheaper flips near sqrt(limit * runs), hence the
 * caps (for pages of up to 50 runs; larger pages scale them by sqrt(limit / 50)). The cursor is [value, id] (or [id] for the default order), ties are broken by id in
 * the direction of the order, and runs without the key always come last.
 * Several projects, several order terms, or an order no index serves (MLflow's end time,
 * status, run id, user, artifact URI) take the sorting plan: the matching runs sorted by the
 * terms, then id; its cursor is [values..., id].
 * A metric whose last value is NaN has a NULL summary: it matches no comparison and orders
 * as missing. Runs deleted through MLflow are seen only by the views that ask for them.
 */
#include "run_search_internal.h"
#include "atrium/err.h"
#include "atrium/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t atr_run_search_drive_cap = 500;
int64_t atr_run_search_set_cap = 10000;

/* ---- the builder ---- */

void rs_sql(struct rs_qb *q, const char *frag)
{
	if (atr_buf_puts(&q->sql, frag) < 0)
		q->fail = true;
}

static struct rs_qbind *q_bind(struct rs_qb *q)
{
	rs_sql(q, "?");
	if (q->nb == MAX_BINDS) {
		q->fail = true;
		return &q->b[MAX_BINDS - 1];
	}
	return &q->b[q->nb++];
}

void rs_int(struct rs_qb *q, int64_t v)
{
	struct rs_qbind *b = q_bind(q);
	b->type = 'i';
	b->i = v;
}

void rs_num(struct rs_qb *q, double v)
{
	struct rs_qbind *b = q_bind(q);
	b->type = 'd';
	b->d = v;
}

void rs_str(struct rs_qb *q, const char *v)
{
	struct rs_qbind *b = q_bind(q);
	b->type = 's';
	b->s = v;
}

void rs_null(struct rs_qb *q)
{
	q_bind(q)->type = 'n';
}

void rs_reset(struct rs_qb *q)
{
	atr_buf_reset(&q->sql);
	q->nb = 0;
}

/* Prepares the built text with its bindings (finalize it), or NULL. */
static sqlite3_stmt *q_prepare(struct atr_store *s, struct rs_qb *q)
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
		const struct rs_qbind *b = &q->b[i];
		if (b->type == 'i')
			sqlite3_bind_int64(st, i + 1, b->i);
		else if (b->type == 'd')
			sqlite3_bind_double(st, i + 1, b->d);
		else if (b->type == 's')
			sqlite3_bind_text(st, i + 1, b->s, -1, SQLITE_STATIC);
	}
	return st;
}

void rs_scope(struct rs_search *x, const char *col)
{
	rs_sql(&x->q, col);
	if (x->scope->nprojects == 1) {
		rs_sql(&x->q, " = ");
		rs_int(&x->q, x->project_id);
		return;
	}
	rs_sql(&x->q, " IN (SELECT value FROM json_each(");
	rs_str(&x->q, x->projects_json);
	rs_sql(&x->q, "))");
}

void rs_view(struct rs_search *x)
{
	if (x->scope->view == ATR_RUN_VIEW_ACTIVE)
		rs_sql(&x->q, " AND r.deleted_at IS NULL");
	else if (x->scope->view == ATR_RUN_VIEW_DELETED)
		rs_sql(&x->q, " AND r.deleted_at IS NOT NULL");
}

/* ---- clauses ---- */

/* The comparison, then its closing: LIKE is GLOB on the pattern it means (case-sensitive),
 * ILIKE is SQLite's LIKE (ASCII case folded), IN reads a JSON list. */
static const char *const op_sql[] = { " = ",
				      " <> ",
				      " < ",
				      " <= ",
				      " > ",
				      " >= ",
				      " GLOB ",
				      " LIKE ",
				      " IN (SELECT value FROM json_each(",
				      " NOT IN (SELECT value FROM json_each(" };

static bool is_list(enum atr_rq_op op)
{
	return op == ATR_RQ_IN || op == ATR_RQ_NOT_IN;
}

/*
 * Where each kind of clause is answered. Clauses on a table of (run, key, value) rows:
 * table, the index that finds runs by value (indexed, scope: project-scoped where the index
 * is) and its value column. Clauses on the run itself: the index (if any) with its column,
 * and expr, the value as an expression of the run r (close ends what expr opened).
 */
static const struct field_sql {
	const char *table, *indexed, *scope, *value, *expr, *close;
} fields[] = {
	[ATR_RQ_PARAM] = { "run_params", "SELECT run_id FROM run_params INDEXED BY run_params_kv WHERE ", NULL, "value",
			   NULL, NULL },
	[ATR_RQ_TAG] = { "run_tags", "SELECT run_id FROM run_tags INDEXED BY run_tags_kv WHERE ", NULL, "value", NULL,
			 NULL },
	[ATR_RQ_METRIC] = { "run_metrics", "SELECT run_id FROM run_metrics INDEXED BY run_metrics_order WHERE ",
			    "project_id", "last", NULL, NULL },
	[ATR_RQ_STATUS] = { NULL, NULL, NULL, NULL, "r.status", "" },
	[ATR_RQ_NAME] = { NULL, "SELECT id AS run_id FROM runs INDEXED BY runs_project_name WHERE ", "project_id",
			  "name", "r.name", "" },
	[ATR_RQ_RUN_ID] = { NULL, "SELECT id AS run_id FROM runs INDEXED BY runs_uuid WHERE ", NULL, "uuid", "r.uuid",
			    "" },
	[ATR_RQ_USER] = { NULL, NULL, NULL, NULL, "(SELECT username FROM users WHERE id = r.created_by)", "" },
	[ATR_RQ_STARTED] = { NULL, "SELECT id AS run_id FROM runs INDEXED BY runs_project_started WHERE ", "project_id",
			     "started_at", "r.started_at", "" },
	[ATR_RQ_ENDED] = { NULL, NULL, NULL, NULL, "r.ended_at", "" },
	[ATR_RQ_ARTIFACT_URI] = { NULL, NULL, NULL, NULL,
				  "('mlflow-artifacts:/' || r.project_id || '/' || r.uuid || '/artifacts')", "" },
	[ATR_RQ_DATASET_NAME] = { NULL, NULL, NULL, NULL,
				  "EXISTS (SELECT 1 FROM json_each(r.dataset_inputs) d WHERE"
				  " json_extract(d.value, '$.dataset.name')",
				  ")" },
	[ATR_RQ_DATASET_DIGEST] = { NULL, NULL, NULL, NULL,
				    "EXISTS (SELECT 1 FROM json_each(r.dataset_inputs) d WHERE"
				    " json_extract(d.value, '$.dataset.digest')",
				    ")" },
	[ATR_RQ_DATASET_CONTEXT] = { NULL, NULL, NULL, NULL,
				     "EXISTS (SELECT 1 FROM json_each(r.dataset_inputs) d,"
				     " json_each(d.value, '$.tags') t WHERE json_extract(t.value, '$.key') ="
				     " 'mlflow.data.context' AND json_extract(t.value, '$.value')",
				     ")" },
};

/* Whether clause i is tested against a set built once (it matches few enough runs). */
static bool is_set(const struct rs_search *x, int i)
{
	return x->count[i] >= 0 && x->count[i] < x->set_cap;
}

/*
 * A cap for this page size: the crossover between walking an order and reading the matches
 * moves with sqrt(limit * runs), so the caps (set for pages of up to 50 runs) grow with the
 * square root of larger pages (MLflow's client asks for 1000 runs at a time).
 */
static int64_t scaled(int64_t cap, size_t limit)
{
	double f = limit > 50 ? sqrt((double)limit / 50.0) : 1.0;
	return cap >= INT64_MAX / 8 ? cap : (int64_t)((double)cap * f);
}

/* The comparison of clause i and its value, bound with its type. */
static void q_cmp(struct rs_search *x, int i)
{
	const struct atr_rq_clause *c = &x->rq->c[i];
	struct rs_qb *q = &x->q;

	rs_sql(q, op_sql[c->op]);
	if (c->field == ATR_RQ_METRIC || c->field == ATR_RQ_STARTED || c->field == ATR_RQ_ENDED)
		rs_num(q, c->num);
	else
		rs_str(q, x->bind[i] ? x->bind[i] : c->str);
	if (is_list(c->op))
		rs_sql(q, "))");
}

/* Whether a clause can be answered from an index as a set of run ids. */
static bool indexable(const struct atr_rq_clause *c)
{
	bool range = c->op <= ATR_RQ_GE && c->op != ATR_RQ_NE;

	switch (c->field) {
	case ATR_RQ_PARAM:
	case ATR_RQ_TAG:
		return range || c->op == ATR_RQ_LIKE || c->op == ATR_RQ_ILIKE || c->op == ATR_RQ_IN;
	case ATR_RQ_METRIC:
	case ATR_RQ_STARTED:
		return range;
	case ATR_RQ_NAME:
		return range || c->op == ATR_RQ_LIKE || c->op == ATR_RQ_ILIKE;
	case ATR_RQ_RUN_ID:
		return c->op == ATR_RQ_EQ || c->op == ATR_RQ_IN;
	default:
		return false;
	}
}

void rs_set(struct rs_search *x, int i)
{
	const struct atr_rq_clause *c = &x->rq->c[i];
	const struct field_sql *f = &fields[c->field];
	struct rs_qb *q = &x->q;

	rs_sql(q, f->indexed);
	if (f->scope) {
		rs_scope(x, f->scope);
		rs_sql(q, " AND ");
	}
	if (c->key) {
		rs_sql(q, "key = ");
		rs_str(q, c->key);
		rs_sql(q, " AND ");
	}
	rs_sql(q, f->value);
	q_cmp(x, i);
}

/*
 * " AND <clause i about run r>". A clause matching a modest number of runs becomes a set SQLite
 * builds once (IN (SELECT ...)); a broad one is tested run by run through the (run, key)
 * primary key, since only the runs the walk reaches are ever tested.
 */
static void q_clause(struct rs_search *x, int i)
{
	const struct atr_rq_clause *c = &x->rq->c[i];
	const struct field_sql *f = &fields[c->field];
	struct rs_qb *q = &x->q;

	if (is_set(x, i)) {
		/* the unary + keeps SQLite from looking the list up in an index per row */
		rs_sql(q, " AND ");
		rs_sql(q, x->set_id);
		rs_sql(q, " IN (");
		rs_set(x, i);
		rs_sql(q, ")");
		return;
	}
	if (f->table) {
		rs_sql(q, " AND EXISTS (SELECT 1 FROM ");
		rs_sql(q, f->table);
		rs_sql(q, " x WHERE x.run_id = r.id AND x.key = ");
		rs_str(q, c->key);
		rs_sql(q, " AND x.");
		rs_sql(q, f->value);
		q_cmp(x, i);
		rs_sql(q, ")");
		return;
	}
	rs_sql(q, " AND (");
	rs_sql(q, f->expr);
	q_cmp(x, i);
	rs_sql(q, f->close);
	rs_sql(q, ")");
}

void rs_clauses(struct rs_search *x)
{
	for (int i = 0; i < x->rq->n; i++)
		if (i != x->driver)
			q_clause(x, i);
}

/* LIKE's pattern as GLOB's: % is *, _ is ?, and GLOB's own *, ? and [ are bracketed. */
static char *glob_of(const char *like)
{
	char *g = malloc(strlen(like) * 3 + 1), *o = g;

	for (; g && *like; like++) {
		if (*like == '%') {
			*o++ = '*';
		} else if (*like == '_') {
			*o++ = '?';
		} else if (*like == '*' || *like == '?' || *like == '[') {
			*o++ = '[';
			*o++ = *like;
			*o++ = ']';
		} else {
			*o++ = *like;
		}
	}
	if (g)
		*o = 0;
	return g;
}

/* An IN list as the JSON array json_each reads. */
static char *json_list(const struct atr_rq_clause *c)
{
	json_t *a = json_array();
	char *s = NULL;

	for (int i = 0; a && i < c->nlist; i++)
		if (json_array_append_new(a, json_string(c->list[i])) < 0)
			goto out;
	s = a ? json_dumps(a, JSON_COMPACT) : NULL;
out:
	json_decref(a);
	return s;
}

/* The values bound for LIKE and IN clauses, made once. */
static int make_binds(struct rs_search *x)
{
	for (int i = 0; i < x->rq->n; i++) {
		const struct atr_rq_clause *c = &x->rq->c[i];
		if (c->op == ATR_RQ_LIKE)
			x->bind[i] = glob_of(c->str ? c->str : "");
		else if (is_list(c->op))
			x->bind[i] = json_list(c);
		else
			continue;
		if (!x->bind[i])
			return ATR_ENOMEM;
	}
	return 0;
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

/* The values of the current row after its id, as an array (the page's last row). */
static int keep_values(struct rs_search *x, sqlite3_stmt *st)
{
	json_decref(x->last_values);
	if (!(x->last_values = json_array()))
		return ATR_ENOMEM;
	for (int c = 1; c < sqlite3_column_count(st); c++) {
		json_t *v = column_json(st, c);
		if (!v || json_array_append_new(x->last_values, v) < 0)
			return ATR_ENOMEM;
	}
	return 0;
}

int rs_run_query(struct rs_search *x)
{
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	rs_sql(&x->q, " LIMIT ");
	rs_int(&x->q, (int64_t)(x->want - x->n));
	if (!(st = q_prepare(x->s, &x->q)))
		return x->q.fail ? ATR_ENOMEM : ATR_EDB;
	while (x->n < x->want && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (x->n + 1 == x->limit && keep_values(x, st) < 0) {
			sqlite3_finalize(st);
			return ATR_ENOMEM;
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
static int64_t probe(struct rs_search *x, int d, bool others, int64_t cap)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	rs_reset(&x->q);
	rs_sql(&x->q, "SELECT count(*) FROM (SELECT run_id FROM (");
	rs_set(x, d);
	rs_sql(&x->q, ") WHERE 1");
	for (int i = 0; others && i < x->rq->n; i++)
		if (i != d && is_set(x, i)) {
			rs_sql(&x->q, " AND +run_id IN (");
			rs_set(x, i);
			rs_sql(&x->q, ")");
		}
	rs_sql(&x->q, " LIMIT ");
	rs_int(&x->q, cap);
	rs_sql(&x->q, ")");
	if (!(st = q_prepare(x->s, &x->q)))
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * Counts what each indexable clause matches and picks the plan's driver: the smallest clause,
 * when it (or its intersection with the other set clauses) matches fewer than drive_cap runs.
 */
static void choose(struct rs_search *x)
{
	int64_t cap, m;
	int d = -1, sets = 0;

	x->set_cap = scaled(atr_run_search_set_cap, x->limit);
	x->drive_cap = scaled(atr_run_search_drive_cap, x->limit);
	cap = x->set_cap > x->drive_cap ? x->set_cap : x->drive_cap;
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
	if (m >= x->drive_cap && is_set(x, d) && sets > 1)
		m = probe(x, d, true, x->drive_cap);
	if (m >= 0 && m < x->drive_cap)
		x->driver = d;
}

/* ---- entry points ---- */

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
	case ATR_RQ_BY_TAG:
		return p->after_kind == ATR_PAGE_STR || p->after_kind == ATR_PAGE_NULL;
	case ATR_RQ_BY_METRIC:
		return p->after_kind == ATR_PAGE_NUM || p->after_kind == ATR_PAGE_NULL;
	default:
		return false;
	}
}

static int plan(struct rs_search *x, bool indexed)
{
	int rc = make_binds(x);

	if (rc < 0)
		return rc;
	choose(x);
	if (!indexed) {
		x->driver = -1;
		x->set_id = "r.id"; /* (SQLite may read a small set first) */
		return rs_plan_sorted(x);
	}
	if (x->driver >= 0)
		return rs_plan_driven(x);
	if (x->rq->order == ATR_RQ_BY_PARAM || x->rq->order == ATR_RQ_BY_METRIC || x->rq->order == ATR_RQ_BY_TAG)
		return rs_plan_keyed(x);
	return rs_plan_runs(x);
}

/* The page of ids and the next cursor: [id] or [values..., id] of the page's last row. */
static int search(struct rs_search *x, bool indexed, int64_t *ids, size_t *n, json_t **next)
{
	int rc;

	*next = NULL;
	*n = 0;
	x->want = x->limit + 1;
	x->set_id = "+r.id";
	if (!(x->ids = malloc(x->want * sizeof(*x->ids))))
		return ATR_ENOMEM;
	atr_buf_init(&x->q.sql, 64 * 1024);
	rc = plan(x, indexed);
	for (size_t i = 0; rc == 0 && i < x->n && i < x->limit; i++)
		ids[(*n)++] = x->ids[i];
	if (rc == 0 && x->n > x->limit) {
		/* (the default order's cursor is the id alone) */
		*next = x->last_values && x->rq->order != ATR_RQ_BY_ID ? json_copy(x->last_values) : json_array();
		if (!*next || json_array_append_new(*next, json_integer(x->ids[x->limit - 1])) < 0)
			rc = ATR_ENOMEM;
	}
	for (int i = 0; i < ATR_RQ_MAX_CLAUSES; i++)
		free(x->bind[i]);
	json_decref(x->last_values);
	atr_buf_release(&x->q.sql);
	free(x->ids);
	free(x->projects_json);
	return rc;
}

int atr_store_run_search(struct atr_store *s, int64_t project_id, const struct atr_runquery *rq,
			 const struct atr_page *p, json_t *arr, json_t **next)
{
	const struct atr_run_scope scope = { &project_id, 1, ATR_RUN_VIEW_ACTIVE };
	struct rs_search x;
	int64_t *ids;
	size_t n = 0;
	int rc;

	*next = NULL;
	if (!cursor_fits(rq, p) || !rs_order_indexed(rq))
		return ATR_EINVAL;
	if (!(ids = malloc((size_t)p->limit * sizeof(*ids))))
		return ATR_ENOMEM;
	memset(&x, 0, sizeof(x));
	x.s = s;
	x.scope = &scope;
	x.project_id = project_id;
	x.rq = rq;
	x.p = p;
	x.limit = (size_t)p->limit;
	rc = search(&x, true, ids, &n, next);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_t *run = atr_store_run_item(s, ids[i], &rc);
		if (run && json_array_append_new(arr, run) < 0)
			rc = ATR_ENOMEM;
	}
	if (rc < 0) {
		json_decref(*next);
		*next = NULL;
	}
	free(ids);
	return rc;
}

/* A cursor array of an index plan ([id] or [value, id]) as the page it continues. */
static int page_of(const json_t *after, int limit, struct atr_page *p)
{
	size_t n = json_array_size(after);
	const json_t *v, *id;

	memset(p, 0, sizeof(*p));
	p->limit = limit;
	if (!after)
		return 0;
	id = json_array_get(after, n - 1);
	if (n < 1 || n > 2 || !json_is_integer(id) || json_integer_value(id) < 0)
		return ATR_EINVAL;
	p->after_id = json_integer_value(id);
	if (n == 1)
		return 0;
	v = json_array_get(after, 0);
	p->after_kind = json_is_number(v) ? ATR_PAGE_NUM : json_is_string(v) ? ATR_PAGE_STR : ATR_PAGE_NULL;
	p->after_num = json_number_value(v);
	p->after_str = json_string_value(v);
	return json_is_number(v) || json_is_string(v) || json_is_null(v) ? 0 : ATR_EINVAL;
}

/* A cursor of the sorting plan: one value per order term (none for the id order), then the id. */
static bool sorted_cursor_fits(const struct atr_runquery *rq, const json_t *after)
{
	size_t terms = rq->order == ATR_RQ_BY_ID ? 0 : 1 + (size_t)rq->nthen, i;
	const json_t *v;

	if (!after)
		return true;
	if (!json_is_array(after) || json_array_size(after) != terms + 1)
		return false;
	json_array_foreach(after, i, v)
	{
		if (i == terms)
			return json_is_integer(v) && json_integer_value(v) >= 0;
		if (!json_is_number(v) && !json_is_string(v) && !json_is_null(v))
			return false;
	}
	return false;
}

static char *projects_json(const struct atr_run_scope *sc)
{
	json_t *a = json_array();
	char *s = NULL;

	for (size_t i = 0; a && i < sc->nprojects; i++)
		if (json_array_append_new(a, json_integer(sc->projects[i])) < 0)
			goto out;
	s = a ? json_dumps(a, JSON_COMPACT) : NULL;
out:
	json_decref(a);
	return s;
}

int atr_store_run_search_ids(struct atr_store *s, const struct atr_run_scope *scope, const struct atr_runquery *rq,
			     int limit, const json_t *after, int64_t *ids, size_t *n, json_t **next)
{
	bool indexed = scope->nprojects == 1 && rs_order_indexed(rq);
	struct atr_page p;
	struct rs_search x;

	*next = NULL;
	*n = 0;
	if (scope->nprojects < 1 || limit < 1)
		return ATR_EINVAL;
	if (indexed ? page_of(after, limit, &p) < 0 || !cursor_fits(rq, &p) : !sorted_cursor_fits(rq, after))
		return ATR_EINVAL;
	memset(&x, 0, sizeof(x));
	x.s = s;
	x.scope = scope;
	x.project_id = scope->projects[0];
	x.rq = rq;
	x.p = &p;
	x.after = after;
	x.limit = (size_t)limit;
	if (!indexed) {
		memset(&p, 0, sizeof(p));
		if (scope->nprojects > 1 && !(x.projects_json = projects_json(scope)))
			return ATR_ENOMEM;
	}
	return search(&x, indexed, ids, n, next);
}

/*
 * model_search.c: MLflow's registry searches (registered-models/search, model-versions/search).
 * A filter parsed by the API (struct atr_mlq) becomes SQL made of fixed fragments with bound
 * values (its text never reaches SQL), over the models or versions the viewer may read, in
 * the asked order; an offset pages the results (MLflow's page tokens carry it). The parsing
 * and the answers' shapes are the API's (src/api/mlflow_registry_search.c).
 */
#include "atrium/store_models.h"
#include "atrium/buf.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "models_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BINDS (ATR_MLQ_MAX_CLAUSES * (ATR_MLQ_MAX_LIST + 1) + 4)
#define FIRST_BIND 4 /* ?1..?3 are the viewer's (MODEL_VISIBLE) */

struct qb {
	struct atr_buf sql;
	struct {
		bool text;
		int64_t i;
		const char *s;
	} b[MAX_BINDS];
	int nb;
	char *owned[ATR_MLQ_MAX_CLAUSES]; /* patterns made here (LIKE as GLOB) */
	int nowned;
	bool fail;
	bool versions; /* a search of versions (else of models) */
};

static void q_sql(struct qb *q, const char *frag)
{
	if (atr_buf_puts(&q->sql, frag) < 0)
		q->fail = true;
}

static void q_bind(struct qb *q, bool text, int64_t i, const char *s)
{
	q_sql(q, "?");
	if (q->nb == MAX_BINDS) {
		q->fail = true;
		return;
	}
	q->b[q->nb].text = text;
	q->b[q->nb].i = i;
	q->b[q->nb].s = s;
	q->nb++;
}

/* MLflow's LIKE is case-sensitive (SQLite's is not): the same pattern as a GLOB, whose '*', '?'
 * and '[' are taken literally in brackets. Owned by q. */
static const char *like_as_glob(struct qb *q, const char *like)
{
	size_t n = strlen(like);
	char *g = q->nowned < ATR_MLQ_MAX_CLAUSES ? malloc(3 * n + 1) : NULL;
	char *o = g;

	if (!g) {
		q->fail = true;
		return "";
	}
	q->owned[q->nowned++] = g;
	for (const char *p = like; *p; p++) {
		if (*p == '%')
			*o++ = '*';
		else if (*p == '_')
			*o++ = '?';
		else if (*p == '*' || *p == '?' || *p == '[') {
			*o++ = '[';
			*o++ = *p;
			*o++ = ']';
		} else
			*o++ = *p;
	}
	*o = 0;
	return g;
}

static const char *const ops[] = {
	[ATR_MLQ_EQ] = " = ",	   [ATR_MLQ_NE] = " != ",      [ATR_MLQ_LT] = " < ",
	[ATR_MLQ_LE] = " <= ",	   [ATR_MLQ_GT] = " > ",       [ATR_MLQ_GE] = " >= ",
	[ATR_MLQ_LIKE] = " GLOB ", [ATR_MLQ_ILIKE] = " LIKE ", [ATR_MLQ_IN] = " IN (",
};

/* "<op> ?" (or "IN (?, ?, ...)") of a text clause. */
static void q_text_op(struct qb *q, const struct atr_mlq_clause *c)
{
	q_sql(q, ops[c->op]);
	if (c->op == ATR_MLQ_IN) {
		for (int i = 0; i < c->nlist; i++) {
			q_sql(q, i ? ", " : "");
			q_bind(q, true, 0, c->list[i]);
		}
		q_sql(q, ")");
	} else {
		q_bind(q, true, 0, c->op == ATR_MLQ_LIKE ? like_as_glob(q, c->str) : c->str);
	}
}

static void q_clause(struct qb *q, const struct atr_mlq_clause *c)
{
	q_sql(q, " AND ");
	switch (c->field) {
	case ATR_MLQ_NAME:
		/* "project/model" names a model exactly: compared with = and != as such */
		q_sql(q, (c->op == ATR_MLQ_EQ || c->op == ATR_MLQ_NE) && c->str && strchr(c->str, '/')
				 ? "p.name || '/' || m.name"
				 : "m.name");
		break;
	case ATR_MLQ_RUN_ID: /* (runs are reached by their keys only, whatever the planner's statistics say) */
		if (c->op == ATR_MLQ_NE) {
			q_sql(q, "(SELECT uuid FROM runs WHERE id = v.source_run_id)");
			break;
		}
		q_sql(q, "v.source_run_id IN (SELECT id FROM runs WHERE uuid");
		q_text_op(q, c);
		q_sql(q, ")");
		return;
	case ATR_MLQ_SOURCE:
		q_sql(q, "v.source_uri");
		break;
	case ATR_MLQ_VERSION:
		q_sql(q, "v.version");
		q_sql(q, ops[c->op]);
		q_bind(q, false, c->num, NULL);
		return;
	case ATR_MLQ_TAG:
		q_sql(q, q->versions ? "EXISTS (SELECT 1 FROM json_each(v.kv_tags) t WHERE t.key = "
				     : "EXISTS (SELECT 1 FROM json_each(m.kv_tags) t WHERE t.key = ");
		q_bind(q, true, 0, c->key);
		q_sql(q, " AND t.value");
		q_text_op(q, c);
		q_sql(q, ")");
		return;
	}
	q_text_op(q, c);
}

static void q_order(struct qb *q, const struct atr_mlq *mq)
{
	static const char *const models[] = {
		[ATR_MLQ_BY_NAME] = "m.name",
		[ATR_MLQ_BY_VERSION] = "m.id",
		[ATR_MLQ_BY_CREATED] = "m.created_at",
		[ATR_MLQ_BY_UPDATED] = "m.updated_at",
	};
	static const char *const versions[] = {
		[ATR_MLQ_BY_NAME] = "m.name",
		[ATR_MLQ_BY_VERSION] = "v.version",
		[ATR_MLQ_BY_CREATED] = "v.created_at",
		[ATR_MLQ_BY_UPDATED] = "coalesce(v.updated_at, v.committed_at, v.created_at)",
	};

	q_sql(q, " ORDER BY ");
	for (int i = 0; i < mq->norder; i++) {
		const char *dir = mq->order[i].desc ? " DESC, " : ", ";
		q_sql(q, (q->versions ? versions : models)[mq->order[i].by]);
		q_sql(q, dir);
		if (mq->order[i].by == ATR_MLQ_BY_NAME) { /* (one name in several projects) */
			q_sql(q, "p.name");
			q_sql(q, dir);
		}
	}
	/* then MLflow's natural order: by name, versions newest first (and a total order) */
	q_sql(q, q->versions ? "m.name, p.name, v.version DESC, v.id" : "m.name, p.name, m.id");
}

static int q_run(struct atr_store *s, struct qb *q, const struct atr_model_viewer *v, int limit, int64_t *ids, int *n,
		 bool *more)
{
	sqlite3 *db = atr_db_handle(s->db);
	sqlite3_stmt *st = NULL;
	int rc;

	*n = 0;
	*more = false;
	if (q->fail)
		return ATR_ENOMEM;
	if (sqlite3_prepare_v2(db, q->sql.data, (int)q->sql.len, &st, NULL) != SQLITE_OK) {
		atr_error("registry search: %s: %.200s", sqlite3_errmsg(db), q->sql.data);
		return ATR_EDB;
	}
	atr_store_model_bind_viewer(st, v);
	for (int i = 0; i < q->nb; i++) {
		if (q->b[i].text)
			sqlite3_bind_text(st, FIRST_BIND + i, q->b[i].s, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, FIRST_BIND + i, q->b[i].i);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == limit) {
			*more = true;
			break;
		}
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ATR_EDB;
}

static int search(struct atr_store *s, struct qb *q, const struct atr_mlq *mq, const struct atr_model_viewer *v,
		  int64_t offset, int limit, int64_t *ids, int *n, bool *more)
{
	int rc;

	q_sql(q, q->versions ? "SELECT v.id FROM model_versions v JOIN models m ON m.id = v.model_id"
			       " JOIN projects p ON p.id = m.project_id"
			     : "SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id");
	q_sql(q, " WHERE " MODEL_VISIBLE_P);
	for (int i = 0; i < mq->n; i++)
		q_clause(q, &mq->c[i]);
	q_order(q, mq);
	q_sql(q, " LIMIT ");
	q_bind(q, false, limit + 1, NULL);
	q_sql(q, " OFFSET ");
	q_bind(q, false, offset, NULL);
	rc = q_run(s, q, v, limit, ids, n, more);
	for (int i = 0; i < q->nowned; i++)
		free(q->owned[i]);
	atr_buf_release(&q->sql);
	return rc;
}

/* A builder of its own for each search (about 40 KiB: not on the stack). */
static int search_new(struct atr_store *s, bool versions, const struct atr_mlq *mq, const struct atr_model_viewer *v,
		      int64_t offset, int limit, int64_t *ids, int *n, bool *more)
{
	struct qb *q = calloc(1, sizeof(*q));
	int rc;

	if (!q)
		return ATR_ENOMEM;
	q->versions = versions;
	atr_buf_init(&q->sql, 64 * 1024);
	rc = search(s, q, mq, v, offset, limit, ids, n, more);
	free(q);
	return rc;
}

int atr_store_model_mlflow_search(struct atr_store *s, const struct atr_mlq *q, const struct atr_model_viewer *v,
				  int64_t offset, int limit, int64_t *ids, int *n, bool *more)
{
	return search_new(s, false, q, v, offset, limit, ids, n, more);
}

int atr_store_model_version_mlflow_search(struct atr_store *s, const struct atr_mlq *q,
					  const struct atr_model_viewer *v, int64_t offset, int limit, int64_t *ids,
					  int *n, bool *more)
{
	return search_new(s, true, q, v, offset, limit, ids, n, more);
}

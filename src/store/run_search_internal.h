#ifndef ATRIUM_STORE_RUN_SEARCH_INTERNAL_H
#define ATRIUM_STORE_RUN_SEARCH_INTERNAL_H
/*
 * run_search_internal.h: private to src/store/run_search.c (the query builder, the clauses,
 * the probes, the entry points) and src/store/run_plans.c (the plans that walk an index or
 * sort). See run_search.c's header comment for how a plan is chosen.
 */
#include "atrium/buf.h"
#include "atrium/db.h"
#include "atrium/store_runs.h"

#define MAX_BINDS 160 /* 16 clauses bind at most 3 values each, orders and a cursor a few more */

struct rs_qbind {
	char type; /* 'i', 'd', 's', 'n' (NULL) */
	int64_t i;
	double d;
	const char *s;
};

/* SQL text made of this folder's fixed fragments, and the values bound to its '?'s. */
struct rs_qb {
	struct atr_buf sql;
	struct rs_qbind b[MAX_BINDS];
	int nb;
	bool fail;
};

void rs_sql(struct rs_qb *q, const char *frag);
void rs_int(struct rs_qb *q, int64_t v);
void rs_num(struct rs_qb *q, double v);
void rs_str(struct rs_qb *q, const char *v);
void rs_null(struct rs_qb *q);
void rs_reset(struct rs_qb *q);

/* One search: the query, its scope, its builder, what the probes found, the rows so far. */
struct rs_search {
	struct atr_store *s;
	const struct atr_run_scope *scope;
	int64_t project_id;  /* the one project of the index plans */
	char *projects_json; /* the scope's projects as a JSON array (several projects) */
	const struct atr_runquery *rq;
	const struct atr_page *p; /* the index plans' cursor */
	const json_t *after;	  /* the sorting plan's cursor: [values..., id] (NULL: none) */
	struct rs_qb q;
	int64_t count[ATR_RQ_MAX_CLAUSES]; /* rows clause i matches (capped); -1: no index for it */
	char *bind[ATR_RQ_MAX_CLAUSES];	   /* clause i's value as bound, when it is not its own
					    * text: a GLOB pattern (LIKE), a JSON list (IN) */
	int64_t set_cap, drive_cap;	   /* the caps for this page size (run_search.c: scaled) */
	int driver;			   /* the clause whose runs are read and sorted, or -1 */
	const char *set_id;		   /* what a set clause tests: "+r.id", or "+o.run_id" */
	int64_t *ids;
	size_t n, want, limit; /* want = limit + 1: one more says another page follows */
	json_t *last_values;   /* the order values of the page's last row, for the cursor */
};

/* " AND <clause i about run r>" for every clause but the driver. */
void rs_clauses(struct rs_search *x);
/* "SELECT run_id FROM <the clause's index> WHERE <the clause>" (indexable clauses). */
void rs_set(struct rs_search *x, int i);
/* "<col> = <project>" or "<col> IN (<the scope's projects>)". */
void rs_scope(struct rs_search *x, const char *col);
/* " AND r.deleted_at IS NULL" and the like, for the scope's view. */
void rs_view(struct rs_search *x);
/* Runs the built query (SELECT r.id, values... LIMIT) for the rows still wanted, appending
 * them; the values of the page's last row go to x->last_values. */
int rs_run_query(struct rs_search *x);

/* The plans (run_plans.c). */
int rs_plan_driven(struct rs_search *x);
int rs_plan_runs(struct rs_search *x);
int rs_plan_keyed(struct rs_search *x);
int rs_plan_sorted(struct rs_search *x);
/* Whether the index plans serve q's order (one term, by id, start time, name, a param, a
 * metric or a tag). */
bool rs_order_indexed(const struct atr_runquery *q);

#endif

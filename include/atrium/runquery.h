#ifndef ATRIUM_RUNQUERY_H
#define ATRIUM_RUNQUERY_H
/*
 * runquery.h: the run-search language of GET /api/v1/projects/{project}/runs, parsed into a
 * small struct the store turns into SQL made only of fixed fragments and bound values (the
 * text never reaches SQL). Pure: no SQL, no HTTP.
 *
 *   filter   := clause { "and" clause }                 ("and" in any case)
 *   clause   := field op value
 *   field    := "status" | "name" | ("params" | "tags" | "metrics") "." key
 *   key      := [A-Za-z0-9_./-]+  |  `any text but a backtick`
 *   op       := "=" | "!=" | "<" | "<=" | ">" | ">="
 *   value    := 'text' | "text" (backslash escapes \' \" \\) | bare text up to a space
 *   order_by := ("started_at" | "name" | "params." key | "metrics." key) [":asc" | ":desc"]
 *
 * metrics.<k> compares the series' last value as a number (the value must be a number);
 * params, tags and name compare as strings (bytewise); status takes = and != with one of
 * running, finished, failed, killed. A clause on a key the run lacks is false, "!=" included,
 * and so is a clause on a metric whose last value is NaN (MLflow's runs may log NaN).
 *
 * MLflow's search grammar (src/core/mlflow_query.c, include/atrium/mlflow_query.h) fills the
 * same struct, with the fields, operators and orders marked as MLflow's below.
 */
#include <stdbool.h>
#include <stddef.h>

#define ATR_RQ_MAX_CLAUSES 16
#define ATR_RQ_MAX_TEXT 4096 /* bytes of filter text */
#define ATR_RQ_MAX_ORDER 4   /* order terms (MLflow's order_by takes several) */
#define ATR_RQ_MAX_LIST 1000 /* values of every IN list of a query together */

/*
 * What a clause tests. The first five are the native language's; the others come from
 * MLflow's (src/core/mlflow_query.c): a run's MLflow id, its creator's user name, its start
 * and end times (ms, compared as numbers), its artifact URI, and the name, digest or context
 * tag of one of its MLflow dataset inputs (true when any input matches).
 */
enum atr_rq_field {
	ATR_RQ_PARAM,
	ATR_RQ_TAG,
	ATR_RQ_METRIC,
	ATR_RQ_STATUS,
	ATR_RQ_NAME,
	ATR_RQ_RUN_ID,
	ATR_RQ_USER,
	ATR_RQ_STARTED,
	ATR_RQ_ENDED,
	ATR_RQ_ARTIFACT_URI,
	ATR_RQ_DATASET_NAME,
	ATR_RQ_DATASET_DIGEST,
	ATR_RQ_DATASET_CONTEXT,
};
/* LIKE is case-sensitive and ILIKE is not (ASCII), with SQL's % and _ wildcards; IN and
 * NOT IN take a list (list, nlist). */
enum atr_rq_op {
	ATR_RQ_EQ,
	ATR_RQ_NE,
	ATR_RQ_LT,
	ATR_RQ_LE,
	ATR_RQ_GT,
	ATR_RQ_GE,
	ATR_RQ_LIKE,
	ATR_RQ_ILIKE,
	ATR_RQ_IN,
	ATR_RQ_NOT_IN,
};
enum atr_rq_order {
	ATR_RQ_BY_ID, /* no order_by: newest first */
	ATR_RQ_BY_STARTED,
	ATR_RQ_BY_NAME,
	ATR_RQ_BY_PARAM,
	ATR_RQ_BY_METRIC,
	/* MLflow's orders */
	ATR_RQ_BY_TAG,
	ATR_RQ_BY_ENDED,
	ATR_RQ_BY_STATUS,
	ATR_RQ_BY_RUN_ID,
	ATR_RQ_BY_USER,
	ATR_RQ_BY_ARTIFACT_URI,
};

struct atr_rq_clause {
	enum atr_rq_field field;
	enum atr_rq_op op;
	const char *key;	 /* params, tags, metrics: the key (borrowed from the parsed text) */
	const char *str;	 /* the value as text (borrowed) */
	double num;		 /* metrics, start and end times: the value */
	const char *const *list; /* IN, NOT IN: nlist values (in atr_runquery.list) */
	int nlist;
};

/* An order term after the first (ties of the first are ordered by it, and so on). */
struct atr_rq_term {
	enum atr_rq_order by;
	const char *key; /* BY_PARAM, BY_METRIC, BY_TAG (borrowed) */
	bool desc;
};

struct atr_runquery {
	struct atr_rq_clause c[ATR_RQ_MAX_CLAUSES];
	int n;
	/* the first order term */
	enum atr_rq_order order;
	const char *order_key; /* BY_PARAM, BY_METRIC, BY_TAG (borrowed) */
	bool desc;
	struct atr_rq_term then[ATR_RQ_MAX_ORDER - 1];
	int nthen;
	const char *list[ATR_RQ_MAX_LIST]; /* the values of the IN lists (borrowed) */
	int nlist;
};

/* An empty query: no clauses, newest first. */
void atr_rq_init(struct atr_runquery *q);
/*
 * Parses filter text, decoding in place: s is modified and the clauses point into it, so it
 * must outlive q. 0, or ATR_EINVAL with a message (for a 400 naming 'filter') in msg.
 */
int atr_rq_parse_filter(char *s, struct atr_runquery *q, char *msg, size_t msglen);
/* Parses order_by the same way (s modified, borrowed). 0 or ATR_EINVAL with msg. */
int atr_rq_parse_order(char *s, struct atr_runquery *q, char *msg, size_t msglen);

#endif

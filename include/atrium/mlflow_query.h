#ifndef ATRIUM_MLFLOW_QUERY_H
#define ATRIUM_MLFLOW_QUERY_H
/*
 * mlflow_query.h: MLflow's search grammar (2.9.2's mlflow/utils/search_utils.py), parsed into
 * the structs Atrium searches with: a run filter and its order_by items into struct
 * atr_runquery (run search in the store: the same plans as the native language), an
 * experiment filter and order into struct atr_mlq_exp (matched here, in C: experiments are
 * projects, a few per user). Pure: no SQL, no HTTP. Text is decoded in place, as
 * atr_rq_parse_filter does: the query points into it.
 *
 *   filter     := comparison { "AND" comparison }            (keywords in any case)
 *   comparison := identifier op value
 *   identifier := [entity "."] key
 *   entity     := metric | metrics | parameter | parameters | param | params | tag | tags
 *               | attribute | attributes | attr | run | dataset | datasets
 *                  (none: an attribute; experiments: attribute, tag, tags)
 *   key        := [A-Za-z0-9_./-]+ | `text` | "text"
 *   op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | LIKE | ILIKE | IN | NOT IN
 *   value      := 'text' | "text" | number | "(" 'text' { "," 'text' } ")"
 *
 * As in MLflow: metrics and the numeric attributes (start_time, end_time, created) take
 * numbers and the comparisons; params and tags take quoted strings with =, !=, LIKE, ILIKE;
 * the string attributes (run_id, run_name, user_id, status, artifact_uri, "run name") take
 * quoted strings with those and IN / NOT IN (lists: run_id only); datasets (name, digest,
 * context) take strings and lists. Quoted text is taken as written (MLflow does not unescape
 * it either). Status names are MLflow's (FINISHED), compared with Atrium's (finished).
 *
 *   order_by item := identifier [ASC | DESC]                 (ASC when absent)
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atrium/runquery.h"

/* Parses an MLflow run filter into q (its clauses; q's order is left alone). 0, or ATR_EINVAL
 * with a message naming 'filter' in msg. */
int atr_mlq_parse_filter(char *s, struct atr_runquery *q, char *msg, size_t msglen);
/* Adds one order_by item to q: the first item is q's first term, later ones follow it (at
 * most ATR_RQ_MAX_ORDER; one key twice is refused, as MLflow does). first: this is the first
 * item (q's order is replaced). 0 or ATR_EINVAL with msg. */
int atr_mlq_parse_order(char *s, struct atr_runquery *q, bool first, char *msg, size_t msglen);

/* ---- experiments ---- */

enum atr_mlq_exp_field {
	ATR_MLQ_EXP_NAME,
	ATR_MLQ_EXP_CREATED, /* creation_time */
	ATR_MLQ_EXP_UPDATED, /* last_update_time */
	ATR_MLQ_EXP_TAG,
	ATR_MLQ_EXP_ID, /* orders only: experiment_id */
};

struct atr_mlq_exp_clause {
	enum atr_mlq_exp_field field;
	enum atr_rq_op op;
	const char *key; /* tags (borrowed) */
	const char *str; /* name, tags (borrowed) */
	double num;	 /* times */
};

struct atr_mlq_exp {
	struct atr_mlq_exp_clause c[ATR_RQ_MAX_CLAUSES];
	int n;
	struct {
		enum atr_mlq_exp_field field;
		bool desc;
	} order[ATR_RQ_MAX_ORDER + 1]; /* (room for the experiment_id tie-breaker) */
	int norder;
};

/* One experiment as a filter sees it. */
struct atr_mlq_exp_row {
	int64_t id;
	const char *name;
	int64_t created, updated; /* ms */
	const json_t *tags;	  /* object of strings (borrowed; NULL: none) */
};

void atr_mlq_exp_init(struct atr_mlq_exp *q);
int atr_mlq_parse_exp_filter(char *s, struct atr_mlq_exp *q, char *msg, size_t msglen);
int atr_mlq_parse_exp_order(char *s, struct atr_mlq_exp *q, char *msg, size_t msglen);
/* Completes the order as MLflow does: none given is creation_time DESC, experiment_id ASC;
 * otherwise experiment_id DESC breaks ties unless the order names it. */
void atr_mlq_exp_order_done(struct atr_mlq_exp *q);
bool atr_mlq_exp_match(const struct atr_mlq_exp *q, const struct atr_mlq_exp_row *e);
/* <0, 0, >0: a before, with, after b in q's order. */
int atr_mlq_exp_compare(const struct atr_mlq_exp *q, const struct atr_mlq_exp_row *a, const struct atr_mlq_exp_row *b);

/* SQL's LIKE: % any run of characters, _ one byte; icase folds ASCII letters. */
bool atr_mlq_like(const char *s, const char *pattern, bool icase);

#endif

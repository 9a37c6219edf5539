#ifndef ATRIUM_STORE_SEARCH_H
#define ATRIUM_STORE_SEARCH_H
/*
 * Full-text search over projects, datasets and models (src/store/search.c), backed by the
 * FTS5 table of migrations/0009_search.sql that triggers keep in step.
 */
#include "atrium/store.h"

#define ATR_SEARCH_MAX_TERMS 16

/*
 * Turns what a user typed into an FTS5 expression that cannot be a syntax error: every
 * whitespace-separated word becomes a quoted prefix term ("word"*, quotes doubled), all of
 * them required. ATR_EINVAL when q has no word, more than ATR_SEARCH_MAX_TERMS, or does not
 * fit in out.
 */
int atr_search_expr(const char *q, char *out, size_t outlen);

struct atr_search_query {
	const char *expr; /* from atr_search_expr */
	const char *kind; /* "project", "dataset", "model", "template" or NULL for all */
	int64_t user_id;  /* results only from projects this user may read ... */
	bool admin;	  /* ... unless an admin */
};

/*
 * Best matches first: {kind, id, project, name, snippet} with the matched words between
 * "**". Archived projects and what is in them are left out. The page cursor is
 * [score, rowid] (after_num, after_id); *last_score and *last_rowid give the last item's.
 * ATR_EINVAL when FTS5 refuses the expression.
 */
int atr_store_search(struct atr_store *s, const struct atr_search_query *q, const struct atr_page *p, json_t *arr,
		     bool *more, double *last_score, int64_t *last_rowid);

#endif

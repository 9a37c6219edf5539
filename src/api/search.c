/*
 * search.c: GET /api/v1/search?q= — projects, datasets and models whose names,
 * descriptions or tags match, among what the caller may read, and published templates (whose
 * READMEs are searched too: any signed-in user finds them), best first. Runs (by name and tag
 * values) and jobs (by name) are indexed too (migration 0033), under their project's visibility.
 */
#include "api.h"
#include "atrium/store_search.h"

#include <string.h>

const struct atr_qparam api_search_query[] = {
	ATR_Q_PAGE,
	{ "q", ATR_Q_STRING, ATR_QF_REQUIRED, 1, 256, 0, NULL, "the words to look for" },
	{ "kind", ATR_Q_ENUM, 0, 0, 0, 0, "project|dataset|model|template|run|job", NULL },
	{ 0 },
};

void api_search(struct atr_req *r)
{
	struct atr_search_query q = { 0 };
	struct atr_page pg;
	const char *text = atr_req_query(r, "q");
	char expr[1024];
	double score = 0;
	int64_t rowid = 0;
	json_t *items;
	bool more;
	int rc;

	if (atr_search_expr(text, expr, sizeof(expr)) < 0) {
		atr_reply_invalid(r, "q", "'q' must hold 1 to %d words, at most 256 bytes in all",
				  ATR_SEARCH_MAX_TERMS);
		return;
	}
	q.kind = atr_req_query(r, "kind");
	if (atr_page_from_req(r, &pg) < 0 || !(items = api_new_items(r)))
		return;
	q.expr = expr;
	q.user_id = atr_req_who(r)->user_id;
	q.admin = atr_req_who(r)->admin;
	rc = atr_store_search(STORE(r), &q, &pg, items, &more, &score, &rowid);
	if (rc < 0) {
		json_decref(items);
		if (rc == ATR_EINVAL)
			atr_reply_invalid(r, "q", "'q' is not a search this server understands");
		else
			atr_reply_err(r, rc, NULL, "could not search");
		return;
	}
	atr_reply_page_cursor(r, items, more ? json_pack("[f,I]", score, (json_int_t)rowid) : NULL);
}

/*
 * search.c: GET /api/v1/search?q= — projects, datasets and models whose names,
 * descriptions or tags match, among what the caller may read, and published templates (whose
 * READMEs are searched too: any signed-in user finds them), best first. Runs (by name and tag
 * values) and jobs (by name) are indexed too (migration 0033), under their project's visibility;
 * a job that read a competition's hidden set only for its organisers.
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

/* A job that read a competition's hidden set is absent for all but its organisers
 * (api_job_reads_hidden): out of the hits too (the cursor is the store's, so pages still follow). */
static void drop_hidden_jobs(struct atr_req *r, json_t *items)
{
	struct atr_project p;

	for (size_t i = json_array_size(items); i-- > 0;) {
		const json_t *it = json_array_get(items, i);
		const char *kind = json_string_value(json_object_get(it, "kind"));
		const char *project = json_string_value(json_object_get(it, "project"));
		if (!kind || strcmp(kind, "job") != 0)
			continue;
		if (atr_store_project_find(STORE(r), project ? project : "", &p) < 0 ||
		    api_job_reads_hidden(r, json_integer_value(json_object_get(it, "id")), api_project_role(r, &p)))
			json_array_remove(items, i);
	}
}

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
	drop_hidden_jobs(r, items);
	atr_reply_page_cursor(r, items, more ? json_pack("[f,I]", score, (json_int_t)rowid) : NULL);
}

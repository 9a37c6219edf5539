/*
 * list.c: the common shape of a list answer: read the page from the query, let a list
 * function fill the items, answer {"items", "next_cursor"} (cursor: the last item's id).
 */
#include "api.h"

const struct atr_qparam api_page_query[] = { ATR_Q_PAGE, { 0 } };

void api_reply_list_cb(struct atr_req *r, api_list_cb cb, const void *arg, const char *what)
{
	struct atr_page pg;
	json_t *items;
	bool more;
	int rc;

	if (atr_page_from_req(r, &pg) < 0 || !(items = api_new_items(r)))
		return;
	rc = cb(r, arg, &pg, items, &more);
	if (rc < 0) {
		json_decref(items);
		atr_reply_err(r, rc, NULL, "could not list %s", what);
		return;
	}
	atr_reply_page(r, items, more);
}

struct owner_list {
	api_list_fn fn;
	int64_t owner_id;
};

static int by_owner(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	const struct owner_list *o = arg;
	return o->fn(STORE(r), o->owner_id, p, arr, more);
}

void api_reply_list(struct atr_req *r, api_list_fn fn, int64_t owner_id, const char *what)
{
	struct owner_list o = { fn, owner_id };
	api_reply_list_cb(r, by_owner, &o, what);
}

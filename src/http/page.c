/* page.c: opaque cursors and the list answer shape. */
#include "atrium/page.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

char *atr_cursor_encode(const json_t *arr)
{
	char *s = json_dumps(arr, JSON_COMPACT);
	char *out;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		atr_b64url_encode(s, n, out);
	free(s);
	return out;
}

int atr_cursor_decode(struct atr_req *r, const char *cursor, struct atr_page *p)
{
	size_t n = strlen(cursor);
	char *raw;
	long len;
	json_t *a = NULL, *id, *v;
	int rc = ATR_EINVAL;

	if (n == 0 || n > 2048)
		return ATR_EINVAL;
	raw = atr_req_alloc(r, n + 4);
	if (!raw)
		return ATR_ENOMEM;
	len = atr_b64url_decode(cursor, raw, n + 3);
	if (len <= 0)
		return ATR_EINVAL;
	a = json_loadb(raw, (size_t)len, 0, NULL);
	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > 2)
		goto out;
	id = json_array_get(a, json_array_size(a) - 1);
	if (!json_is_integer(id) || json_integer_value(id) < 0)
		goto out;
	p->after_id = json_integer_value(id);
	p->after_kind = ATR_PAGE_NONE;
	if (json_array_size(a) == 2) {
		v = json_array_get(a, 0);
		if (json_is_number(v)) {
			p->after_kind = ATR_PAGE_NUM;
			p->after_num = json_number_value(v);
		} else if (json_is_string(v)) {
			p->after_kind = ATR_PAGE_STR;
			p->after_str = atr_req_strdup(r, json_string_value(v));
			if (!p->after_str)
				goto out;
		} else if (json_is_null(v)) {
			p->after_kind = ATR_PAGE_NULL;
		} else {
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(a);
	return rc;
}

int atr_page_from_req(struct atr_req *r, struct atr_page *p)
{
	int64_t limit;
	const char *c;

	memset(p, 0, sizeof(*p));
	limit = atr_req_qint(r, "limit"); /* (checked by the route's ATR_Q_PAGE) */
	if (limit <= 0)
		limit = 50;
	p->limit = (int)limit;
	c = atr_req_query(r, "cursor");
	if (c && *c && atr_cursor_decode(r, c, p) < 0) {
		atr_reply_invalid(r, "cursor", "'cursor' is not a cursor this server gave out");
		return -1;
	}
	return 0;
}

void atr_reply_page_cursor(struct atr_req *r, json_t *items, json_t *next)
{
	json_t *o = json_object();
	char *c = next ? atr_cursor_encode(next) : NULL;

	json_decref(next);
	if (!o) {
		free(c);
		json_decref(items);
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	json_object_set_new(o, "items", items);
	json_object_set_new(o, "next_cursor", c ? json_string(c) : json_null());
	free(c);
	atr_reply_json(r, 200, o);
}

void atr_reply_page(struct atr_req *r, json_t *items, bool more)
{
	json_t *next = NULL;
	size_t n = json_array_size(items);

	if (more && n > 0) {
		json_t *id = json_object_get(json_array_get(items, n - 1), "id");
		next = json_pack("[O]", id ? id : json_null());
	}
	atr_reply_page_cursor(r, items, next);
}

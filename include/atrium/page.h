#ifndef ATRIUM_PAGE_H
#define ATRIUM_PAGE_H
/*
 * page.h: cursor pagination, used by every list. ?limit=N (1..1000, default 50) and
 * ?cursor=C, where C is an opaque base64url token of [id] or [value, id]. Answers are
 * {"items": [...], "next_cursor": "..." | null}.
 */
#include <stdbool.h>
#include <jansson.h>

#include "atrium/http.h"
#include "atrium/store.h"

/* Fills p from the query; replies 400 naming limit/cursor and returns -1 when invalid. */
int atr_page_from_req(struct atr_req *r, struct atr_page *p);
/* Encodes a cursor from a JSON array (borrowed) into a new string (free it); NULL on failure. */
char *atr_cursor_encode(const json_t *arr);
/* Decodes a cursor into p; 0 or ATR_EINVAL. Strings are allocated in the request. */
int atr_cursor_decode(struct atr_req *r, const char *cursor, struct atr_page *p);

/* {"items": items, "next_cursor": [last item's "id"] when more}. Steals items. */
void atr_reply_page(struct atr_req *r, json_t *items, bool more);
/* Same with an explicit next cursor array (stolen; NULL when there is no next page). */
void atr_reply_page_cursor(struct atr_req *r, json_t *items, json_t *next);

#endif

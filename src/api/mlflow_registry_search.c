/*
 * mlflow_registry_search.c: MLflow's registered-models/search and model-versions/search. The
 * filter grammar of MLflow 2.9.2's registry (SearchModelUtils, SearchModelVersionUtils):
 *
 *   filter  := clause { "AND" clause }                      (keywords in any case)
 *   clause  := key op value
 *   key     := ["attributes." | "attribute." | "attr."] ("name" | "run_id" | "source_path" |
 *              "version_number") | ("tags." | "tag.") tagkey
 *   tagkey  := [A-Za-z0-9_.-]+ | `any text` | "any text"
 *   op      := "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE" | "IN"
 *   value   := 'text' | "text" (a doubled quote or a backslash escapes) | a number
 *              | "(" value { "," value } ")"                (IN)
 *
 * Models take name and tags (=, !=, LIKE, ILIKE); versions also run_id (=, !=, IN),
 * source_path (=, !=, LIKE, ILIKE) and version_number (=, !=, <, <=, >, >=). order_by takes
 * "<key> [ASC|DESC]" of name, creation_timestamp, last_updated_timestamp (and for versions
 * version_number). The parsed query goes to the store (src/store/model_search.c), which only
 * ever binds its values. Pages: max_results (at most 1000 per answer) and a page token that
 * holds the offset.
 */
#include "mlflow.h"
#include "atrium/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PAGE_MAX 1000 /* items in one answer, whatever max_results asks */

const struct atr_qparam api_mlflow_rm_search_query[] = {
	{ "filter", ATR_Q_STRING, 0, 0, 4096, 0, NULL, "e.g. name LIKE 'fraud%' AND tags.team = 'risk'" },
	{ "max_results", ATR_Q_INT, 0, 1, 1000, 100, NULL, "models per page" },
	{ "order_by", ATR_Q_STRING, ATR_QF_MULTI, 1, 128, 0, NULL, "name, creation_timestamp, last_updated_timestamp" },
	{ "page_token", ATR_Q_STRING, 0, 0, 256, 0, NULL, "the next_page_token of the previous page" },
	{ 0 },
};
const struct atr_qparam api_mlflow_mv_search_query[] = {
	{ "filter", ATR_Q_STRING, 0, 0, 4096, 0, NULL, "e.g. name = 'fraud' AND run_id = '...'" },
	{ "max_results", ATR_Q_INT, 0, 1, 200000, PAGE_MAX, NULL, "versions wanted (an answer holds at most 1000)" },
	{ "order_by", ATR_Q_STRING, ATR_QF_MULTI, 1, 128, 0, NULL,
	  "name, version_number, creation_timestamp, last_updated_timestamp" },
	{ "page_token", ATR_Q_STRING, 0, 0, 256, 0, NULL, "the next_page_token of the previous page" },
	{ 0 },
};

/* ---- the filter ---- */

struct lex {
	struct atr_req *r; /* (its memory holds the values) */
	char *p;	   /* where it is (quoted texts are decoded in place) */
	char msg[256];	   /* why it failed */
	bool versions;	   /* a version search (more keys) */
};

static void skip_space(struct lex *l)
{
	while (isspace((unsigned char)*l->p))
		l->p++;
}

/* A quoted text (l->p at the quote), decoded and ended in place: its start, NULL when it is
 * not closed. */
static char *quoted(struct lex *l)
{
	char q = *l->p++, *start = l->p, *o = l->p;

	for (; *l->p; l->p++) {
		if (*l->p == '\\' && l->p[1]) {
			*o++ = *++l->p;
		} else if (*l->p == q && l->p[1] == q) {
			*o++ = q;
			l->p++;
		} else if (*l->p == q) {
			l->p++;
			*o = 0;
			return start;
		} else {
			*o++ = *l->p;
		}
	}
	snprintf(l->msg, sizeof(l->msg), "a quoted value is not closed");
	return NULL;
}

/* A bare word (letters, digits, '_', '.', '-'), copied into the request's memory: NULL when
 * there is none (msg says what was expected) or out of memory. */
static char *word(struct lex *l, const char *what)
{
	char *start = l->p, *w;

	while (isalnum((unsigned char)*l->p) || *l->p == '_' || *l->p == '.' || *l->p == '-')
		l->p++;
	if (l->p == start) {
		snprintf(l->msg, sizeof(l->msg), "expected %s at '%.32s'", what, start);
		return NULL;
	}
	if (!(w = atr_req_alloc(l->r, (size_t)(l->p - start) + 1))) {
		snprintf(l->msg, sizeof(l->msg), "out of memory");
		return NULL;
	}
	memcpy(w, start, (size_t)(l->p - start));
	w[l->p - start] = 0;
	return w;
}

/* A value: quoted text, or a bare word (a number). */
static char *value(struct lex *l)
{
	skip_space(l);
	return *l->p == '\'' || *l->p == '"' ? quoted(l) : word(l, "a value");
}

static bool take_prefix(const char **key, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncasecmp(*key, prefix, n) != 0)
		return false;
	*key += n;
	return true;
}

/* tags.<key> (the prefix taken): a bare key, or a quoted one right after the dot. */
static int tag_key(struct lex *l, const char *rest, struct atr_mlq_clause *c)
{
	c->field = ATR_MLQ_TAG;
	if (*rest) {
		c->key = rest;
		return 0;
	}
	if (*l->p == '`' || *l->p == '"') {
		c->key = quoted(l);
		return c->key ? 0 : -1;
	}
	snprintf(l->msg, sizeof(l->msg), "a tag key follows 'tags.'");
	return -1;
}

/* The key of a clause into c (its field, and a tag's key). */
static int parse_key(struct lex *l, struct atr_mlq_clause *c)
{
	static const struct {
		const char *name;
		enum atr_mlq_field field;
		bool versions_only;
	} attrs[] = {
		{ "name", ATR_MLQ_NAME, false },
		{ "run_id", ATR_MLQ_RUN_ID, true },
		{ "source_path", ATR_MLQ_SOURCE, true },
		{ "version_number", ATR_MLQ_VERSION, true },
	};
	const char *key = word(l, "a key");

	if (!key)
		return -1;
	if (take_prefix(&key, "tags.") || take_prefix(&key, "tag."))
		return tag_key(l, key, c);
	if (!take_prefix(&key, "attributes.") && !take_prefix(&key, "attribute."))
		take_prefix(&key, "attr.");
	for (size_t i = 0; i < ATR_ARRAY_LEN(attrs); i++)
		if (strcmp(key, attrs[i].name) == 0 && (l->versions || !attrs[i].versions_only)) {
			c->field = attrs[i].field;
			return 0;
		}
	snprintf(l->msg, sizeof(l->msg), "Invalid attribute key '%.64s' specified. Valid keys are %s", key,
		 l->versions ? "name, run_id, source_path, version_number, tags.<key>" : "name, tags.<key>");
	return -1;
}

static int parse_op(struct lex *l, struct atr_mlq_clause *c)
{
	static const struct {
		const char *text;
		enum atr_mlq_op op;
	} ops[] = {
		{ "!=", ATR_MLQ_NE },	    { "<=", ATR_MLQ_LE },     { ">=", ATR_MLQ_GE },
		{ "=", ATR_MLQ_EQ },	    { "<", ATR_MLQ_LT },      { ">", ATR_MLQ_GT },
		{ "ILIKE", ATR_MLQ_ILIKE }, { "LIKE", ATR_MLQ_LIKE }, { "IN", ATR_MLQ_IN },
	};

	skip_space(l);
	for (size_t i = 0; i < ATR_ARRAY_LEN(ops); i++) {
		size_t n = strlen(ops[i].text);
		if (strncasecmp(l->p, ops[i].text, n) == 0 &&
		    (!isalpha((unsigned char)ops[i].text[0]) || !isalnum((unsigned char)l->p[n]))) {
			c->op = ops[i].op;
			l->p += n;
			return 0;
		}
	}
	snprintf(l->msg, sizeof(l->msg), "expected a comparison (=, !=, <, <=, >, >=, LIKE, ILIKE, IN) at '%.32s'",
		 l->p);
	return -1;
}

/* Which comparisons each key takes (MLflow's). */
static bool op_allowed(const struct atr_mlq_clause *c)
{
	switch (c->field) {
	case ATR_MLQ_VERSION:
		return c->op <= ATR_MLQ_GE;
	case ATR_MLQ_RUN_ID:
		return c->op == ATR_MLQ_EQ || c->op == ATR_MLQ_NE || c->op == ATR_MLQ_IN;
	default:
		return c->op == ATR_MLQ_EQ || c->op == ATR_MLQ_NE || c->op == ATR_MLQ_LIKE || c->op == ATR_MLQ_ILIKE;
	}
}

static int parse_list(struct lex *l, struct atr_mlq_clause *c)
{
	skip_space(l);
	if (*l->p != '(') {
		snprintf(l->msg, sizeof(l->msg), "IN takes a list: ('a', 'b')");
		return -1;
	}
	l->p++;
	for (;;) {
		const char *v = value(l);
		if (!v)
			return -1;
		if (c->nlist == ATR_MLQ_MAX_LIST) {
			snprintf(l->msg, sizeof(l->msg), "an IN list holds at most %d values", ATR_MLQ_MAX_LIST);
			return -1;
		}
		c->list[c->nlist++] = v;
		skip_space(l);
		if (*l->p == ')') {
			l->p++;
			return 0;
		}
		if (*l->p++ != ',') {
			snprintf(l->msg, sizeof(l->msg), "expected ',' or ')' in the IN list");
			return -1;
		}
	}
}

static int parse_clause(struct lex *l, struct atr_mlq_clause *c)
{
	skip_space(l);
	if (parse_key(l, c) < 0 || parse_op(l, c) < 0)
		return -1;
	if (!op_allowed(c)) {
		snprintf(l->msg, sizeof(l->msg), "this comparison does not apply to %s",
			 c->field == ATR_MLQ_TAG ? "tags" : "that key");
		return -1;
	}
	if (c->op == ATR_MLQ_IN)
		return parse_list(l, c);
	if (!(c->str = value(l)))
		return -1;
	if (c->field == ATR_MLQ_VERSION && atr_parse_i64(c->str, INT64_MIN, INT64_MAX, &c->num) < 0) {
		snprintf(l->msg, sizeof(l->msg), "version_number takes a whole number, got '%.32s'", c->str);
		return -1;
	}
	return 0;
}

/* Parses the filter into q; -1 with l->msg. */
static int parse_filter(struct lex *l, struct atr_mlq *q)
{
	skip_space(l);
	if (!*l->p)
		return 0;
	for (;;) {
		if (q->n == ATR_MLQ_MAX_CLAUSES) {
			snprintf(l->msg, sizeof(l->msg), "at most %d clauses", ATR_MLQ_MAX_CLAUSES);
			return -1;
		}
		if (parse_clause(l, &q->c[q->n++]) < 0)
			return -1;
		skip_space(l);
		if (!*l->p)
			return 0;
		if (strncasecmp(l->p, "and", 3) != 0 || !isspace((unsigned char)l->p[3])) {
			snprintf(l->msg, sizeof(l->msg), "expected AND at '%.32s' (OR is not supported)", l->p);
			return -1;
		}
		l->p += 3;
	}
}

/* ---- order_by, page tokens ---- */

static int parse_order(const char *text, bool versions, struct atr_mlq *q, char *msg, size_t msglen)
{
	static const struct {
		const char *key;
		enum atr_mlq_order by;
	} keys[] = {
		{ "name", ATR_MLQ_BY_NAME },
		{ "version_number", ATR_MLQ_BY_VERSION },
		{ "creation_timestamp", ATR_MLQ_BY_CREATED },
		{ "last_updated_timestamp", ATR_MLQ_BY_UPDATED },
	};
	char key[64], dir[8] = "ASC", extra[2];
	int n = sscanf(text, " %63s %7s %1s", key, dir, extra);

	if (n < 1 || n > 2 || (strcasecmp(dir, "ASC") != 0 && strcasecmp(dir, "DESC") != 0)) {
		snprintf(msg, msglen, "Invalid order_by clause '%.64s': '<key> [ASC|DESC]'", text);
		return -1;
	}
	for (size_t i = 0; i < ATR_ARRAY_LEN(keys); i++) {
		if (strcmp(key, keys[i].key) != 0 || (!versions && keys[i].by == ATR_MLQ_BY_VERSION))
			continue;
		for (int j = 0; j < q->norder; j++)
			if (q->order[j].by == keys[i].by) {
				snprintf(msg, msglen, "`order_by` contains duplicate fields: %s", key);
				return -1;
			}
		q->order[q->norder].by = keys[i].by;
		q->order[q->norder++].desc = strcasecmp(dir, "DESC") == 0;
		return 0;
	}
	snprintf(msg, msglen, "Invalid order by key '%.64s' specified. Valid keys are %s", key,
		 versions ? "name, version_number, creation_timestamp, last_updated_timestamp"
			  : "name, creation_timestamp, last_updated_timestamp");
	return -1;
}

/* The offset a page token holds (base64url of {"offset": N}); 0 without one. */
static int page_offset(const char *token, int64_t *offset)
{
	char raw[192];
	long n;
	json_t *j;

	*offset = 0;
	if (!token || !*token)
		return 0;
	if ((n = atr_b64url_decode(token, raw, sizeof(raw) - 1)) < 0)
		return -1;
	raw[n] = 0;
	j = json_loads(raw, 0, NULL);
	*offset = json_is_integer(json_object_get(j, "offset")) ? json_integer_value(json_object_get(j, "offset")) : -1;
	json_decref(j);
	return *offset < 0 ? -1 : 0;
}

static json_t *page_token(int64_t offset)
{
	char raw[48], out[80];
	int n = snprintf(raw, sizeof(raw), "{\"offset\": %lld}", (long long)offset);

	atr_b64url_encode(raw, (size_t)n, out);
	return json_string(out);
}

/* ---- the searches ---- */

/* The request's filter, order and page as a query (request memory); NULL after a 400. */
static struct atr_mlq *query_or_reply(struct atr_req *r, bool versions, int64_t *offset)
{
	struct atr_mlq *q = atr_req_alloc(r, sizeof(*q));
	struct lex l = { .r = r, .versions = versions };
	const char *order[ATR_MLQ_MAX_ORDER + 1];
	const char *filter = atr_req_query(r, "filter");
	int n = atr_req_query_all(r, "order_by", order, ATR_MLQ_MAX_ORDER + 1);

	if (!q || !(l.p = atr_req_strdup(r, filter ? filter : ""))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return NULL;
	}
	memset(q, 0, sizeof(*q));
	if (parse_filter(&l, q) < 0) {
		atr_reply_invalid(r, "filter", "'filter' is not valid: %s (in '%.200s')", l.msg, filter);
		return NULL;
	}
	if (n > ATR_MLQ_MAX_ORDER) {
		atr_reply_invalid(r, "order_by", "'order_by' takes at most %d keys", ATR_MLQ_MAX_ORDER);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		if (parse_order(order[i], versions, q, l.msg, sizeof(l.msg)) < 0) {
			atr_reply_invalid(r, "order_by", "'order_by': %s", l.msg);
			return NULL;
		}
	if (!versions && n == 0) { /* MLflow's default orders: models by name, versions by last change */
		q->order[q->norder++].by = ATR_MLQ_BY_NAME;
	} else if (n == 0) {
		q->order[q->norder].by = ATR_MLQ_BY_UPDATED;
		q->order[q->norder++].desc = true;
	}
	if (page_offset(atr_req_query(r, "page_token"), offset) < 0) {
		atr_reply_invalid(r, "page_token", "'page_token' is not one this server gave");
		return NULL;
	}
	return q;
}

typedef int (*search_fn)(struct atr_store *s, const struct atr_mlq *q, const struct atr_model_viewer *v, int64_t offset,
			 int limit, int64_t *ids, int *n, bool *more);
typedef json_t *(*object_fn)(struct atr_req *r, int64_t id);

static void search(struct atr_req *r, bool versions, search_fn fn, object_fn obj, const char *key)
{
	int64_t offset, max = atr_req_qint(r, "max_results");
	int limit = max < PAGE_MAX ? (int)max : PAGE_MAX, n = 0, rc;
	struct atr_mlq *q = query_or_reply(r, versions, &offset);
	int64_t *ids = atr_req_alloc(r, sizeof(int64_t) * (size_t)limit);
	struct atr_model_viewer v;
	json_t *items, *out, *o;
	bool more;

	if (!q)
		return;
	api_mlflow_viewer(r, &v);
	if (!ids || (rc = fn(STORE(r), q, &v, offset, limit, ids, &n, &more)) < 0) {
		atr_reply_err(r, ids ? rc : ATR_ENOMEM, NULL, "could not search");
		return;
	}
	items = json_array();
	out = json_pack("{s:o}", key, items);
	for (int i = 0; out && i < n; i++) {
		if (!(o = obj(r, ids[i]))) {
			json_decref(out);
			return;
		}
		json_array_append_new(items, o);
	}
	if (out && more)
		json_object_set_new(out, "next_page_token", page_token(offset + n));
	if (!out)
		atr_reply_nomem(r, NULL, "out of memory");
	else
		atr_reply_json(r, 200, out);
}

void api_mlflow_rm_search(struct atr_req *r)
{
	search(r, false, atr_store_model_mlflow_search, api_mlflow_model_json, "registered_models");
}

void api_mlflow_mv_search(struct atr_req *r)
{
	search(r, true, atr_store_model_version_mlflow_search, api_mlflow_version_json, "model_versions");
}

/*
 * query.c: the one validator of query parameters. A route's table (struct atr_qparam) says
 * which parameters it takes and of what type; before the handler runs, every parameter of
 * the request is checked against it and a bad one is a 400 naming it. Handlers then read
 * the checked values (atr_req_qint, atr_req_qbool, atr_req_query) and never parse them
 * again. Grammars with structure of their own (a run filter) are parsed by their module.
 */
#include "atrium/util.h"
#include "http_internal.h"

#include <string.h>

static int qindex(const struct atr_route *rt, const char *name)
{
	for (int i = 0; rt && rt->query && rt->query[i].name; i++)
		if (strcmp(rt->query[i].name, name) == 0)
			return i;
	return -1;
}

/* Is v one of the '|'-separated words of enums? */
static bool in_enum(const char *enums, const char *v, size_t n)
{
	for (const char *p = enums; *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && memcmp(p, v, n) == 0)
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

/* "a|b|c" as "a, b or c" for messages. */
static void enum_words(const char *enums, char *out, size_t len)
{
	size_t o = 0;
	const char *last = strrchr(enums, '|');

	for (const char *p = enums; *p && o + 4 < len; p++) {
		if (*p != '|') {
			out[o++] = *p;
			continue;
		}
		const char *sep = p == last ? " or " : ", ";
		size_t n = strlen(sep);
		if (o + n >= len)
			break;
		memcpy(out + o, sep, n);
		o += n;
	}
	out[o] = 0;
}

static int check_one(struct atr_req *r, const struct atr_qparam *q, const char *v, int64_t *val)
{
	char words[400];
	size_t n = strlen(v);

	switch (q->type) {
	case ATR_Q_INT:
		if (atr_parse_i64(v, q->min, q->max, val) < 0) {
			atr_reply_invalid(r, q->name, "'%s' must be a whole number from %lld to %lld", q->name,
					  (long long)q->min, (long long)q->max);
			return -1;
		}
		return 0;
	case ATR_Q_STRING:
		if (n < (size_t)q->min || n > (q->max > 0 ? (size_t)q->max : 1024)) {
			atr_reply_invalid(r, q->name, "'%s' must be %lld to %lld bytes", q->name, (long long)q->min,
					  (long long)(q->max > 0 ? q->max : 1024));
			return -1;
		}
		return 0;
	case ATR_Q_ENUM:
		if (in_enum(q->enums, v, n))
			return 0;
		enum_words(q->enums, words, sizeof(words));
		atr_reply_invalid(r, q->name, "'%s' must be one of %s", q->name, words);
		return -1;
	case ATR_Q_ENUM_LIST:
		for (const char *p = v;;) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			if (len == 0 || !in_enum(q->enums, p, len)) {
				enum_words(q->enums, words, sizeof(words));
				atr_reply_invalid(r, q->name, "'%s' must be one or more (comma-separated) of %s",
						  q->name, words);
				return -1;
			}
			if (!comma)
				return 0;
			p = comma + 1;
		}
	case ATR_Q_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "false") || !strcmp(v, "0")) {
			*val = !strcmp(v, "true") || !strcmp(v, "1");
			return 0;
		}
		atr_reply_invalid(r, q->name, "'%s' must be true or false", q->name);
		return -1;
	case ATR_Q_TIME:
		if (atr_time_parse(v, val) == 0)
			return 0;
		atr_reply_invalid(r, q->name, "'%s' must be an RFC 3339 time (2026-01-31T12:00:00Z)", q->name);
		return -1;
	}
	return 0;
}

struct walk {
	struct atr_req *r;
	int failed;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct walk *w = cls;
	struct atr_req *r = w->r;
	const struct atr_route *rt = r->route;
	char name[64];
	int i;
	const char *v;

	(void)kind;
	atr_copy(name, sizeof(name), key);
	for (char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	i = qindex(rt, key);
	if (i < 0) {
		atr_reply_invalid(r, name, "'%s' is not a query parameter of %s %s", name, rt->method, rt->pattern);
		w->failed = 1;
		return MHD_NO;
	}
	if ((r->qset & (1u << i)) && !(rt->query[i].flags & ATR_QF_MULTI)) {
		atr_reply_invalid(r, name, "'%s' is given more than once", name);
		w->failed = 1;
		return MHD_NO;
	}
	if (!value && rt->query[i].type == ATR_Q_BOOL) { /* "?follow" alone means true */
		r->qval[i] = 1;
		r->qset |= 1u << i;
		return MHD_YES;
	}
	v = value ? atr_req_query_decode(r, value) : NULL;
	if (!v) {
		atr_reply_invalid(r, name, value ? "'%s' has a bad percent-encoding" : "'%s' needs a value", name);
		w->failed = 1;
		return MHD_NO;
	}
	if (check_one(r, &rt->query[i], v, &r->qval[i]) < 0) {
		w->failed = 1;
		return MHD_NO;
	}
	r->qset |= 1u << i;
	return MHD_YES;
}

int atr_req_check_query(struct atr_req *r)
{
	const struct atr_qparam *q = r->route->query;
	struct walk w = { r, 0 };

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &w);
	if (w.failed)
		return -1;
	for (int i = 0; q && q[i].name; i++)
		if ((q[i].flags & ATR_QF_REQUIRED) && !(r->qset & (1u << i))) {
			atr_reply_invalid(r, q[i].name, "'%s' is required", q[i].name);
			return -1;
		}
	return 0;
}

int64_t atr_req_qint(struct atr_req *r, const char *name)
{
	int i = qindex(r->route, name);
	if (i < 0)
		return 0;
	return (r->qset & (1u << i)) ? r->qval[i] : r->route->query[i].dflt;
}

bool atr_req_qbool(struct atr_req *r, const char *name)
{
	return atr_req_qint(r, name) != 0;
}

struct all {
	struct atr_req *r;
	const char *name;
	const char **out;
	int max, n;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct all *a = cls;

	(void)kind;
	if (strcmp(key, a->name) != 0 || !value)
		return MHD_YES;
	if (a->n < a->max && !(a->out[a->n] = atr_req_query_decode(a->r, value)))
		return MHD_YES;
	a->n++;
	return MHD_YES;
}

int atr_req_query_all(struct atr_req *r, const char *name, const char **out, int max)
{
	struct all a = { r, name, out, max, 0 };

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
	return a.n;
}

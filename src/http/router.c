/*
 * router.c: one route table, matched segment by segment. Unknown path: 404; known path with
 * another method: 405 and the Allow list. Nothing here knows about handlers or auth.
 */
#include "atrium/router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATR_ARRAY_LEN_(a) (sizeof(a) / sizeof((a)[0]))

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long atr_percent_decode(const char *in, size_t len, char *out, int plus_space, int allow_ctl)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = hexv(in[i + 1]);
			lo = hexv(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == 0 || ((c < 0x20 || c == 0x7f) && !allow_ctl))
			return -1;
		out[o++] = (char)c;
	}
	out[o] = 0;
	return (long)o;
}

/* Next segment of a '/'-separated string: sets *seg, *len and returns the rest (NULL at end). */
static const char *next_seg(const char *p, const char **seg, size_t *len)
{
	const char *slash = strchr(p, '/');
	*seg = p;
	*len = slash ? (size_t)(slash - p) : strlen(p);
	return slash ? slash + 1 : NULL;
}

/* Records one path parameter: its name (from the pattern, without the braces) and its text
 * percent-decoded into storage at *used. -1 when the text does not decode (the parameter is
 * recorded all the same, so that the caller can name it). */
static int take_param(const char *name, size_t name_len, const char *text, size_t len, char *storage, size_t *used,
		      struct atr_req_param *p)
{
	long d = atr_percent_decode(text, len, storage + *used, 0, 0);

	p->name = name;
	p->name_len = name_len;
	p->value = storage + *used;
	if (d < 0)
		return -1;
	*used += (size_t)d + 1;
	return 0;
}

/* Matches one pattern; on success fills params (decoded into storage). 1: a match, 0: none,
 * -1: a match whose parameter *bad does not decode. */
static int match_one(const char *pattern, const char *path, char *storage, struct atr_req_param *params, int *nparams,
		     const char **bad)
{
	const char *pp = pattern + 1, *up = path + 1;
	size_t used = 0;
	int np = 0;

	if (path[0] != '/')
		return 0;
	for (;;) {
		const char *ps, *us;
		size_t pl, ul;
		const char *pn = next_seg(pp, &ps, &pl);
		int is_param = pl >= 2 && ps[0] == '{' && ps[pl - 1] == '}';
		int is_rest = is_param && pl > 5 && memcmp(ps + pl - 4, "...}", 4) == 0;

		if (!up)
			return 0; /* path ended before the pattern */
		/* {name...}: the rest of the path, slashes included */
		if (is_rest) {
			if (!*up || np >= ATR_MAX_PARAMS)
				return 0;
			*nparams = ++np;
			if (take_param(ps + 1, pl - 5, up, strlen(up), storage, &used, &params[np - 1]) < 0) {
				*bad = params[np - 1].name;
				return -1;
			}
			return 1;
		}
		const char *un = next_seg(up, &us, &ul);
		if (is_param) {
			if (ul == 0 || np >= ATR_MAX_PARAMS)
				return 0;
			if (take_param(ps + 1, pl - 2, us, ul, storage, &used, &params[np++]) < 0) {
				*bad = params[np - 1].name;
				*nparams = np;
				return -1;
			}
		} else if (pl != ul || memcmp(ps, us, pl) != 0) {
			return 0;
		}
		if (!pn && !un) {
			*nparams = np;
			return 1;
		}
		if (!pn || !un)
			return 0;
		pp = pn;
		up = un;
	}
}

/*
 * A quick filter before the segment-by-segment match: each pattern's segment count (or the
 * minimum, for a {rest...} pattern) and a hash of its third segment (the resource:
 * "/api/v1/<projects>"), computed once per table. A request skips every route that cannot
 * match with two integer compares. Tables are few (the daemon's, the worker's, tests').
 */
struct route_meta {
	uint32_t seg3; /* 0: a parameter, or fewer than 3 segments */
	uint16_t nseg;
	bool rest;
};

struct table_meta {
	const struct atr_route *routes;
	size_t n;
	struct route_meta *m;
};

static uint32_t hash_seg(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h | 1u; /* never 0 */
}

/* Segment count and the third segment of a path or pattern. */
static void shape(const char *p, uint16_t *nseg, const char **seg3, size_t *seg3_len)
{
	uint16_t n = 0;
	*seg3 = NULL;
	*seg3_len = 0;
	if (*p == '/')
		p++;
	while (p) {
		const char *s;
		size_t l;
		const char *next = next_seg(p, &s, &l);
		n++;
		if (n == 3) {
			*seg3 = s;
			*seg3_len = l;
		}
		p = next;
	}
	*nseg = n;
}

static const struct route_meta *meta_of(const struct atr_route *routes, size_t n)
{
	static struct table_meta tables[8];
	struct table_meta *t = NULL;

	for (size_t i = 0; i < ATR_ARRAY_LEN_(tables); i++) {
		if (tables[i].routes == routes && tables[i].n == n)
			return tables[i].m;
		if (!tables[i].routes && !t)
			t = &tables[i];
	}
	if (!t)
		return NULL; /* more tables than slots: match without the filter */
	t->m = calloc(n ? n : 1, sizeof(*t->m));
	if (!t->m)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s3;
		size_t l3;
		const char *pat = routes[i].pattern;
		shape(pat, &t->m[i].nseg, &s3, &l3);
		t->m[i].rest = strstr(pat, "...}") != NULL;
		t->m[i].seg3 = s3 && !(l3 && s3[0] == '{') ? hash_seg(s3, l3) : 0;
	}
	t->routes = routes;
	t->n = n;
	return t->m;
}

enum atr_match atr_router_match(const struct atr_route *routes, size_t n, const char *method, const char *path,
				char *storage, struct atr_req_param *params, int *nparams, const struct atr_route **out,
				char *allow, size_t allowlen, const char **bad_param)
{
	size_t alen = 0;
	bool other_method = false; /* the path exists for another method */
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	const struct route_meta *meta = meta_of(routes, n);
	uint16_t req_nseg;
	const char *s3;
	size_t l3;
	uint32_t req_seg3;

	shape(path, &req_nseg, &s3, &l3);
	req_seg3 = s3 ? hash_seg(s3, l3) : 0;
	allow[0] = 0;
	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *bad = NULL;
		int np = 0;
		int r;

		if (meta) {
			if (meta[i].rest ? req_nseg < meta[i].nseg : req_nseg != meta[i].nseg)
				continue;
			if (meta[i].seg3 && meta[i].seg3 != req_seg3)
				continue;
		}
		r = match_one(routes[i].pattern, path, storage, params, &np, &bad);
		if (r == 0)
			continue;
		if (strcmp(routes[i].method, m) == 0) {
			if (r < 0) {
				*bad_param = bad;
				return ATR_MATCH_BAD_PARAM;
			}
			*out = &routes[i];
			*nparams = np;
			return ATR_MATCH_OK;
		}
		other_method = true;
	}
	if (!other_method)
		return ATR_MATCH_NOT_FOUND;
	/* a 405: its Allow list, from every route on this path (rare, so made only now) */
	for (size_t i = 0; i < n; i++) {
		const char *bad = NULL;
		int np = 0;

		if (!match_one(routes[i].pattern, path, storage, params, &np, &bad))
			continue;
		if (!strstr(allow, routes[i].method)) {
			int w = snprintf(allow + alen, allowlen - alen, "%s%s", alen ? ", " : "", routes[i].method);
			if (w > 0 && (size_t)w < allowlen - alen)
				alen += (size_t)w;
			if (!strcmp(routes[i].method, "GET") && !strstr(allow, "HEAD")) {
				w = snprintf(allow + alen, allowlen - alen, ", HEAD");
				if (w > 0 && (size_t)w < allowlen - alen)
					alen += (size_t)w;
			}
		}
	}
	return alen ? ATR_MATCH_BAD_METHOD : ATR_MATCH_NOT_FOUND;
}

#ifndef ATRIUM_ROUTER_H
#define ATRIUM_ROUTER_H
/*
 * router.h: matching a method and a raw (still percent-encoded) path against the route
 * table. Patterns are '/'-separated; "{name}" takes one segment, "{name...}" the rest of the
 * path (it must come last). Parameter values are percent-decoded into a buffer the caller
 * gives (at least strlen(path)+ATR_MAX_PARAMS bytes); a decoded NUL or control character,
 * or a bad escape, is refused.
 */
#include <stddef.h>
#include "atrium/http.h"

/* A path parameter of a matched route. */
struct atr_req_param {
	const char *name; /* points into the route pattern */
	size_t name_len;
	char *value; /* percent-decoded, into the caller's storage */
};

enum atr_match {
	ATR_MATCH_OK,
	ATR_MATCH_NOT_FOUND,
	ATR_MATCH_BAD_METHOD, /* allow holds "GET, POST" */
	ATR_MATCH_BAD_PARAM,  /* bad_param names the parameter */
};

enum atr_match atr_router_match(const struct atr_route *routes, size_t n, const char *method, const char *path,
				char *storage, struct atr_req_param *params, int *nparams, const struct atr_route **out,
				char *allow, size_t allowlen, const char **bad_param);

/* Percent-decodes in into out (may be the same buffer); plus_space turns '+' into ' '.
 * Returns the decoded length or -1 on a bad escape, a NUL or a control character. */
long atr_percent_decode(const char *in, size_t len, char *out, int plus_space, int allow_ctl);

#endif

#ifndef ATRIUM_JSON_H
#define ATRIUM_JSON_H
/*
 * json.h: request-body schemas (descriptor tables checked by one validator that names the
 * first bad field) and small jansson helpers.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum atr_ftype {
	ATR_F_STRING, /* min/max: length in bytes; enums: "a|b|c" limits the values */
	ATR_F_SLUG,   /* [a-z0-9][a-z0-9-]{0,62} */
	ATR_F_INT,    /* min/max: value range */
	ATR_F_NUMBER, /* a finite number; min/max: value range, ends included (0,0: any) */
	ATR_F_BOOL,
	ATR_F_OBJECT,	     /* sub: schema of the nested object; NULL accepts any object */
	ATR_F_ARRAY,	     /* min/max: items; sub: schema each item (an object) must match; NULL: any */
	ATR_F_STRMAP,	     /* object whose values are strings; max: entries */
	ATR_F_STRLIST,	     /* array of strings; min/max: items */
	ATR_F_TIME,	     /* RFC 3339 string */
	ATR_F_ANY,	     /* any JSON value (free-form metadata); max: bytes when encoded (0: no cap) */
	ATR_F_INT_OR_STRING, /* a version number or an alias; min/max: the string's length; enums: its values */
	/* Strings of a shape (min/max: length in bytes, as ATR_F_STRING): */
	ATR_F_NAME,	/* letters, digits, '-', '_' and '.', starting with a letter or digit */
	ATR_F_URL,	/* an http:// or https:// URL */
	ATR_F_URL_PATH, /* a path on a server: '/' then printable ASCII without spaces, '?' or '#' */
	ATR_F_SEGMENT,	/* one path segment: no '/', '\' or control characters, not "." or ".." */
	/* A command: a non-empty string (run by /bin/sh -c) or an array of 1-4096 strings without
	 * NUL (the program and its arguments), the first not empty; max: bytes when encoded. */
	ATR_F_COMMAND,
	/* Maps, each an ATR_F_STRMAP with more rules (max: entries): */
	ATR_F_ENV,    /* names [A-Za-z_][A-Za-z0-9_]*, not ATRIUM_*, CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER, PORT */
	ATR_F_LABELS, /* names of 1-63 letters, digits, '-', '_', '.', '/'; values of at most 255 bytes */
	ATR_F_STRMAP_PATCH, /* a change to a map: a string value sets the entry, null removes it */
	ATR_F_IDLIST,	    /* array of ids (integers from 1); min/max: items */
};

#define ATR_FF_REQUIRED 0x1
#define ATR_FF_NULLABLE 0x2

struct atr_field {
	const char *name; /* NULL ends the table */
	enum atr_ftype type;
	unsigned flags;
	int64_t min, max; /* 0,0: no bounds (strings still get 1..4096 when max is 0) */
	const char *enums;
	const struct atr_field *sub;
};

/* A table that accepts only {} (or an empty body). */
extern const struct atr_field atr_schema_empty[];

/*
 * Checks obj against schema: unknown fields, types, required, bounds. On failure fills
 * field ("resources.gpus", "metrics[3].value") and msg and returns ATR_EINVAL.
 */
int atr_json_validate(const json_t *obj, const struct atr_field *schema, char *field, size_t fieldlen, char *msg,
		      size_t msglen);

/*
 * jansson reports a failed allocation while parsing as a syntax error ("invalid token"), so a
 * fine body would be refused with a 400 when memory runs out. atr_json_setup (once, before any
 * JSON is made: main) routes jansson's allocations through malloc with a per-thread flag;
 * atr_json_oom_take returns whether an allocation failed since its last call, and clears it.
 */
void atr_json_setup(void);
bool atr_json_oom_take(void);

/* Typed getters with defaults (borrowed strings). */
const char *atr_json_str(const json_t *o, const char *key, const char *dflt);
int64_t atr_json_int(const json_t *o, const char *key, int64_t dflt);
double atr_json_num(const json_t *o, const char *key, double dflt);
bool atr_json_bool(const json_t *o, const char *key, bool dflt);
/* true when the key is present (null included). */
bool atr_json_has(const json_t *o, const char *key);

/* Writing JSON text straight into a buffer (answers too large for a tree per item): a string,
 * quoted and escaped as atr_json_write does, and a real (finite only: ATR_EINVAL otherwise) as
 * the shortest decimal of up to 15 places that reads back as the same double, else as
 * atr_json_write writes it (17 digits). 0 or the buffer's error. */
struct atr_buf;
int atr_json_buf_str(struct atr_buf *b, const char *s);
int atr_json_buf_real(struct atr_buf *b, double d);

/* Compact encoding (caller frees), NULL on failure. */
char *atr_json_dump(const json_t *v);
/* The same text as json_dumps(JSON_COMPACT), faster (no loop detection: trees only). The
 * caller frees it; *len (may be NULL) gets its length. NULL on failure. */
char *atr_json_write(const json_t *v, size_t *len);

#endif

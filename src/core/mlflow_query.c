/*
 * mlflow_query.c: MLflow's search grammar (include/atrium/mlflow_query.h) into Atrium's run
 * query (struct atr_runquery, searched by src/store/run_search.c) and into the experiment
 * query matched here. Keys and values are cut out of the caller's text in place. Not here:
 * SQL (the store builds it from fixed fragments), HTTP.
 */
#include "atrium/mlflow_query.h"
#include "atrium/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY_MAX 250 /* MLflow's MAX_ENTITY_KEY_LENGTH */

enum kind { K_METRIC, K_PARAM, K_TAG, K_ATTR, K_DATASET };

struct lex {
	char *s, *p;
	char *msg;
	size_t msglen;
	const char *what; /* "filter" or "order_by" */
};

static int fail(struct lex *x, const char *why)
{
	snprintf(x->msg, x->msglen, "'%s' is not valid at character %zu: %s", x->what, (size_t)(x->p - x->s) + 1, why);
	return ATR_EINVAL;
}

static void ws(struct lex *x)
{
	while (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r')
		x->p++;
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool key_char(char c)
{
	return word_char(c) || c == '.' || c == '/' || c == '-';
}

/* A keyword at x->p (any case, not followed by a word character): consumed when there. */
static bool keyword(struct lex *x, const char *w)
{
	size_t n = strlen(w);
	if (strncasecmp(x->p, w, n) != 0 || word_char(x->p[n]))
		return false;
	x->p += n;
	return true;
}

/* `text` or "text" at x->p: the span inside, NUL-terminated (the closing quote is replaced). */
static int quoted_key(struct lex *x, char **k)
{
	char q = *x->p, *end = strchr(x->p + 1, q);

	if (!end)
		return fail(x, q == '`' ? "a key opened with ` is not closed" : "a key opened with \" is not closed");
	*k = x->p + 1;
	*end = 0;
	x->p = end + 1;
	return 0;
}

/* The entity word before the '.', or none (then the identifier is an attribute's key). */
static int entity(struct lex *x, enum kind *kind, bool experiments)
{
	static const struct {
		const char *w;
		enum kind k;
		bool exp; /* valid for experiments too */
	} words[] = { { "metrics", K_METRIC, false },	{ "metric", K_METRIC, false },
		      { "parameters", K_PARAM, false }, { "parameter", K_PARAM, false },
		      { "params", K_PARAM, false },	{ "param", K_PARAM, false },
		      { "tags", K_TAG, true },		{ "tag", K_TAG, true },
		      { "attributes", K_ATTR, false },	{ "attribute", K_ATTR, true },
		      { "attr", K_ATTR, false },	{ "run", K_ATTR, false },
		      { "datasets", K_DATASET, false }, { "dataset", K_DATASET, false } };

	/* the word before the '.', maybe in backticks (`metrics`.acc, as MLflow allows) */
	bool ticked = *x->p == '`';
	const char *w = x->p + ticked;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i].w);
		if (strncmp(w, words[i].w, n) != 0 || (ticked && w[n] != '`') || w[n + ticked] != '.')
			continue;
		if (experiments && !words[i].exp)
			return fail(x, "an experiment filter names attribute.<key>, tag.<key> or tags.<key>");
		*kind = words[i].k;
		x->p = (char *)w + n + ticked + 1;
		return 1;
	}
	*kind = K_ATTR;
	return 0;
}

/* identifier: the entity and the key (NUL-terminated once the operator is read: *key_end). */
static int identifier(struct lex *x, bool experiments, enum kind *kind, char **key, char **key_end)
{
	int rc = entity(x, kind, experiments);

	if (rc < 0)
		return rc;
	*key_end = NULL;
	if (*x->p == '`' || *x->p == '"')
		return quoted_key(x, key);
	*key = x->p;
	while (key_char(*x->p))
		x->p++;
	if (x->p == *key)
		return fail(x, rc ? "expected a key after the '.'"
				  : "expected an identifier: metrics.<key>, params.<key>, tags.<key>, "
				    "attributes.<key> or datasets.<key>");
	*key_end = x->p;
	return 0;
}

static int op(struct lex *x, enum atr_rq_op *o)
{
	char a = x->p[0], b = a ? x->p[1] : 0;

	if ((a == '!' && b == '=') || (a == '<' && b == '=') || (a == '>' && b == '=')) {
		*o = a == '!' ? ATR_RQ_NE : a == '<' ? ATR_RQ_LE : ATR_RQ_GE;
		x->p += 2;
	} else if (a == '<' && b == '>') {
		return fail(x, "use != (MLflow has no <>)");
	} else if (a == '=' || a == '<' || a == '>') {
		*o = a == '=' ? ATR_RQ_EQ : a == '<' ? ATR_RQ_LT : ATR_RQ_GT;
		x->p++;
	} else if (keyword(x, "LIKE")) {
		*o = ATR_RQ_LIKE;
	} else if (keyword(x, "ILIKE")) {
		*o = ATR_RQ_ILIKE;
	} else if (keyword(x, "IN")) {
		*o = ATR_RQ_IN;
	} else if (keyword(x, "NOT")) {
		ws(x);
		if (!keyword(x, "IN"))
			return fail(x, "expected IN after NOT");
		*o = ATR_RQ_NOT_IN;
	} else {
		return fail(x, "expected a comparison (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)");
	}
	return 0;
}

/* 'text' or "text": the text as written (NUL-terminated over the closing quote). '' and a
 * backslash keep the next character inside, as SQL's lexer does. */
static int quoted(struct lex *x, char **out)
{
	char q = *x->p, *r = x->p + 1;

	for (;; r++) {
		if (!*r)
			return fail(x, "a quoted value is not closed");
		if (*r == '\\' && r[1]) {
			r++;
			continue;
		}
		if (*r == q && r[1] == q) {
			r++;
			continue;
		}
		if (*r == q)
			break;
	}
	*out = x->p + 1;
	*r = 0;
	x->p = r + 1;
	return 0;
}

/* A number (an integer, a decimal, an exponent; a leading '-'). */
static int number(struct lex *x, char **text, double *v)
{
	char *end, save;

	*text = x->p;
	*v = strtod(x->p, &end);
	/* (a decimal number as SQL writes one: strtod alone takes hex, "inf", "nan") */
	if (end == x->p || !isfinite(*v) || (*x->p != '-' && *x->p != '.' && (*x->p < '0' || *x->p > '9')) ||
	    strspn(x->p, "0123456789+-.eE") < (size_t)(end - x->p))
		return fail(x, "expected a number");
	x->p = end;
	save = *x->p;
	if (word_char(save) || save == '.')
		return fail(x, "expected a number");
	return 0;
}

/* ( 'a', 'b' ): the strings into q's list pool. */
static int list(struct lex *x, struct atr_runquery *q, struct atr_rq_clause *c)
{
	x->p++;
	ws(x);
	c->list = &q->list[q->nlist];
	c->nlist = 0;
	for (;;) {
		char *v;
		int rc;
		if (*x->p != '\'' && *x->p != '"')
			return fail(x, "a list holds quoted strings: ('a', 'b')");
		if (q->nlist == ATR_RQ_MAX_LIST)
			return fail(x, "at most 1000 values in lists");
		if ((rc = quoted(x, &v)) < 0)
			return rc;
		q->list[q->nlist++] = v;
		c->nlist++;
		ws(x);
		if (*x->p == ')') {
			x->p++;
			return 0;
		}
		if (*x->p != ',')
			return fail(x, "expected ',' or ')' in a list");
		x->p++;
		ws(x);
	}
}

/* ---- runs ---- */

static const struct {
	const char *name;
	enum atr_rq_field field;
	enum atr_rq_order order;
} attrs[] = {
	{ "run_id", ATR_RQ_RUN_ID, ATR_RQ_BY_RUN_ID },
	{ "run_name", ATR_RQ_NAME, ATR_RQ_BY_NAME },
	{ "run name", ATR_RQ_NAME, ATR_RQ_BY_NAME },
	{ "Run name", ATR_RQ_NAME, ATR_RQ_BY_NAME },
	{ "Run Name", ATR_RQ_NAME, ATR_RQ_BY_NAME },
	{ "user_id", ATR_RQ_USER, ATR_RQ_BY_USER },
	{ "status", ATR_RQ_STATUS, ATR_RQ_BY_STATUS },
	{ "start_time", ATR_RQ_STARTED, ATR_RQ_BY_STARTED },
	{ "created", ATR_RQ_STARTED, ATR_RQ_BY_STARTED },
	{ "Created", ATR_RQ_STARTED, ATR_RQ_BY_STARTED },
	{ "end_time", ATR_RQ_ENDED, ATR_RQ_BY_ENDED },
	{ "artifact_uri", ATR_RQ_ARTIFACT_URI, ATR_RQ_BY_ARTIFACT_URI },
};

static int attribute(struct lex *x, const char *key)
{
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (strcmp(attrs[i].name, key) == 0)
			return (int)i;
	return fail(x, "attributes are run_id, run_name, user_id, status, start_time, end_time, artifact_uri");
}

static bool key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n < 1 || n > KEY_MAX)
		return false;
	for (; *k; k++)
		if ((unsigned char)*k < 0x20 || *k == 0x7f)
			return false;
	return true;
}

/* The field a run clause tests, from its kind and key. */
static int run_field(struct lex *x, enum kind kind, const char *key, struct atr_rq_clause *c)
{
	int i;

	c->key = NULL;
	switch (kind) {
	case K_METRIC:
	case K_PARAM:
	case K_TAG:
		if (!key_ok(key))
			return fail(x, "a key is 1-250 bytes without control characters");
		c->field = kind == K_METRIC ? ATR_RQ_METRIC : kind == K_PARAM ? ATR_RQ_PARAM : ATR_RQ_TAG;
		c->key = key;
		return 0;
	case K_DATASET:
		if (strcmp(key, "name") && strcmp(key, "digest") && strcmp(key, "context"))
			return fail(x, "dataset keys are name, digest, context");
		c->field = key[0] == 'n'   ? ATR_RQ_DATASET_NAME
			   : key[0] == 'd' ? ATR_RQ_DATASET_DIGEST
					   : ATR_RQ_DATASET_CONTEXT;
		return 0;
	case K_ATTR:
		if ((i = attribute(x, key)) < 0)
			return i;
		c->field = attrs[i].field;
		return 0;
	}
	return fail(x, "unknown identifier");
}

static bool numeric(enum atr_rq_field f)
{
	return f == ATR_RQ_METRIC || f == ATR_RQ_STARTED || f == ATR_RQ_ENDED;
}

/* Which comparisons each kind of field takes, as MLflow's VALID_*_COMPARATORS say. */
static int check_op(struct lex *x, const struct atr_rq_clause *c)
{
	bool strings = c->field == ATR_RQ_PARAM || c->field == ATR_RQ_TAG;
	bool lists = !strings && !numeric(c->field);

	if (numeric(c->field) && c->op <= ATR_RQ_GE)
		return 0;
	if (numeric(c->field))
		return fail(x, "a number is compared with =, !=, <, <=, > or >=");
	if (c->op == ATR_RQ_EQ || c->op == ATR_RQ_NE || c->op == ATR_RQ_LIKE || c->op == ATR_RQ_ILIKE)
		return 0;
	if (lists && (c->op == ATR_RQ_IN || c->op == ATR_RQ_NOT_IN))
		return 0;
	return fail(x, lists ? "a string attribute is compared with =, !=, LIKE, ILIKE, IN or NOT IN"
			     : "params and tags are compared with =, !=, LIKE or ILIKE");
}

/* MLflow's status names are upper case, Atrium's lower case: swapping the case of the value
 * compares them exactly ('FINISHED' is 'finished'; 'Finished' matches nothing, as in MLflow). */
static void swapcase(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
		else if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int run_value(struct lex *x, struct atr_runquery *q, struct atr_rq_clause *c)
{
	char *v;
	int rc;

	if (c->op == ATR_RQ_IN || c->op == ATR_RQ_NOT_IN) {
		if (*x->p != '(')
			return fail(x, "IN takes a list: ('a', 'b')");
		if (c->field != ATR_RQ_RUN_ID && c->field < ATR_RQ_DATASET_NAME)
			return fail(x, "only run_id and datasets take a list");
		return list(x, q, c);
	}
	if (numeric(c->field))
		return number(x, (char **)&c->str, &c->num);
	if (*x->p != '\'' && *x->p != '"')
		return fail(x, "expected a quoted string ('value')");
	if ((rc = quoted(x, &v)) < 0)
		return rc;
	if (c->field == ATR_RQ_STATUS)
		swapcase(v);
	c->str = v;
	return 0;
}

static int run_clause(struct lex *x, struct atr_runquery *q, struct atr_rq_clause *c)
{
	enum kind kind;
	char *key, *key_end;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = identifier(x, false, &kind, &key, &key_end)) < 0)
		return rc;
	ws(x);
	if ((rc = op(x, &c->op)) < 0)
		return rc;
	if (key_end)
		*key_end = 0; /* the key ends where the comparison began */
	if ((rc = run_field(x, kind, key, c)) < 0 || (rc = check_op(x, c)) < 0)
		return rc;
	ws(x);
	return run_value(x, q, c);
}

/* clause { AND clause }, with one function per kind of clause. */
static int clauses(struct lex *x, int max, int *n, int (*one)(struct lex *x, void *q, int i), void *q)
{
	int rc;

	if (strlen(x->s) > ATR_RQ_MAX_TEXT)
		return fail(x, "longer than 4096 bytes");
	*n = 0;
	ws(x);
	if (!*x->p)
		return 0;
	for (;;) {
		if (*n == max)
			return fail(x, "at most 16 comparisons");
		if ((rc = one(x, q, *n)) < 0)
			return rc;
		(*n)++;
		ws(x);
		if (!*x->p)
			return 0;
		if (!keyword(x, "AND"))
			return fail(x, "expected AND between comparisons (MLflow has no OR)");
		ws(x);
	}
}

static int one_run_clause(struct lex *x, void *q, int i)
{
	struct atr_runquery *rq = q;
	return run_clause(x, rq, &rq->c[i]);
}

int atr_mlq_parse_filter(char *s, struct atr_runquery *q, char *msg, size_t msglen)
{
	struct lex x = { s, s, msg, msglen, "filter" };

	q->nlist = 0;
	return clauses(&x, ATR_RQ_MAX_CLAUSES, &q->n, one_run_clause, q);
}

/* identifier [ASC|DESC]: the identifier's kind and key, and the direction. */
static int order_item(struct lex *x, bool experiments, enum kind *kind, char **key, bool *desc)
{
	char *key_end;
	int rc;

	ws(x);
	if ((rc = identifier(x, experiments, kind, key, &key_end)) < 0)
		return rc;
	ws(x);
	*desc = false;
	if (keyword(x, "DESC"))
		*desc = true;
	else
		(void)keyword(x, "ASC");
	ws(x);
	if (*x->p)
		return fail(x, "expected ASC or DESC after the key, and nothing more");
	if (key_end)
		*key_end = 0;
	return 0;
}

static int run_order_of(struct lex *x, enum kind kind, const char *key, enum atr_rq_order *by)
{
	int i;

	if (kind == K_METRIC || kind == K_PARAM || kind == K_TAG) {
		if (!key_ok(key))
			return fail(x, "a key is 1-250 bytes without control characters");
		*by = kind == K_METRIC ? ATR_RQ_BY_METRIC : kind == K_PARAM ? ATR_RQ_BY_PARAM : ATR_RQ_BY_TAG;
		return 0;
	}
	if (kind == K_DATASET)
		return fail(x, "runs are not ordered by datasets");
	if ((i = attribute(x, key)) < 0)
		return i;
	*by = attrs[i].order;
	return 0;
}

static bool keyed(enum atr_rq_order by)
{
	return by == ATR_RQ_BY_PARAM || by == ATR_RQ_BY_METRIC || by == ATR_RQ_BY_TAG;
}

static bool same_term(enum atr_rq_order a, const char *ka, enum atr_rq_order b, const char *kb)
{
	return a == b && (!keyed(a) || strcmp(ka, kb) == 0);
}

int atr_mlq_parse_order(char *s, struct atr_runquery *q, bool first, char *msg, size_t msglen)
{
	struct lex x = { s, s, msg, msglen, "order_by" };
	enum atr_rq_order by;
	enum kind kind;
	char *key;
	bool desc;
	int rc;

	if ((rc = order_item(&x, false, &kind, &key, &desc)) < 0 || (rc = run_order_of(&x, kind, key, &by)) < 0)
		return rc;
	if (!keyed(by))
		key = NULL;
	if (first) {
		q->order = by;
		q->order_key = key;
		q->desc = desc;
		q->nthen = 0;
		return 0;
	}
	if (same_term(by, key, q->order, q->order_key))
		return fail(&x, "order_by names this key twice");
	for (int i = 0; i < q->nthen; i++)
		if (same_term(by, key, q->then[i].by, q->then[i].key))
			return fail(&x, "order_by names this key twice");
	if (q->nthen == ATR_RQ_MAX_ORDER - 1)
		return fail(&x, "at most 4 order_by keys");
	q->then[q->nthen].by = by;
	q->then[q->nthen].key = key;
	q->then[q->nthen++].desc = desc;
	return 0;
}

/* ---- experiments ---- */

void atr_mlq_exp_init(struct atr_mlq_exp *q)
{
	memset(q, 0, sizeof(*q));
}

static int exp_attribute(struct lex *x, const char *key, bool order, enum atr_mlq_exp_field *f)
{
	if (strcmp(key, "name") == 0)
		*f = ATR_MLQ_EXP_NAME;
	else if (strcmp(key, "creation_time") == 0)
		*f = ATR_MLQ_EXP_CREATED;
	else if (strcmp(key, "last_update_time") == 0)
		*f = ATR_MLQ_EXP_UPDATED;
	else if (order && strcmp(key, "experiment_id") == 0)
		*f = ATR_MLQ_EXP_ID;
	else
		return fail(x, order ? "experiments are ordered by name, experiment_id, creation_time or "
				       "last_update_time"
				     : "experiment attributes are name, creation_time, last_update_time");
	return 0;
}

static int exp_clause(struct lex *x, struct atr_mlq_exp_clause *c)
{
	enum kind kind;
	char *key, *key_end, *v;
	bool num;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = identifier(x, true, &kind, &key, &key_end)) < 0)
		return rc;
	ws(x);
	if ((rc = op(x, &c->op)) < 0)
		return rc;
	if (key_end)
		*key_end = 0;
	c->field = ATR_MLQ_EXP_TAG;
	c->key = key;
	if (kind != K_TAG && (rc = exp_attribute(x, key, false, &c->field)) < 0)
		return rc;
	if (kind == K_TAG && !key_ok(key))
		return fail(x, "a key is 1-250 bytes without control characters");
	num = c->field == ATR_MLQ_EXP_CREATED || c->field == ATR_MLQ_EXP_UPDATED;
	if (num ? c->op > ATR_RQ_GE : c->op > ATR_RQ_ILIKE || (c->op > ATR_RQ_NE && c->op < ATR_RQ_LIKE))
		return fail(x, num ? "a time is compared with =, !=, <, <=, > or >="
				   : "names and tags are compared with =, !=, LIKE or ILIKE");
	ws(x);
	if (num)
		return number(x, (char **)&c->str, &c->num);
	if (*x->p != '\'' && *x->p != '"')
		return fail(x, "expected a quoted string ('value')");
	if ((rc = quoted(x, &v)) < 0)
		return rc;
	c->str = v;
	return 0;
}

static int one_exp_clause(struct lex *x, void *q, int i)
{
	return exp_clause(x, &((struct atr_mlq_exp *)q)->c[i]);
}

int atr_mlq_parse_exp_filter(char *s, struct atr_mlq_exp *q, char *msg, size_t msglen)
{
	struct lex x = { s, s, msg, msglen, "filter" };
	return clauses(&x, ATR_RQ_MAX_CLAUSES, &q->n, one_exp_clause, q);
}

int atr_mlq_parse_exp_order(char *s, struct atr_mlq_exp *q, char *msg, size_t msglen)
{
	struct lex x = { s, s, msg, msglen, "order_by" };
	enum atr_mlq_exp_field f;
	enum kind kind;
	char *key;
	bool desc;
	int rc;

	if ((rc = order_item(&x, true, &kind, &key, &desc)) < 0)
		return rc;
	if (kind != K_ATTR)
		return fail(&x, "experiments are ordered by their attributes only");
	if ((rc = exp_attribute(&x, key, true, &f)) < 0)
		return rc;
	if (q->norder == ATR_RQ_MAX_ORDER)
		return fail(&x, "at most 4 order_by keys");
	q->order[q->norder].field = f;
	q->order[q->norder++].desc = desc;
	return 0;
}

void atr_mlq_exp_order_done(struct atr_mlq_exp *q)
{
	if (q->norder == 0) { /* MLflow's default: newest first, then by id */
		q->order[0].field = ATR_MLQ_EXP_CREATED;
		q->order[0].desc = true;
		q->order[1].field = ATR_MLQ_EXP_ID;
		q->order[1].desc = false;
		q->norder = 2;
		return;
	}
	for (int i = 0; i < q->norder; i++)
		if (q->order[i].field == ATR_MLQ_EXP_ID)
			return;
	q->order[q->norder].field = ATR_MLQ_EXP_ID;
	q->order[q->norder++].desc = true;
}

/* ---- matching ---- */

static char fold(char c, bool icase)
{
	return icase && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool atr_mlq_like(const char *s, const char *p, bool icase)
{
	const char *star_p = NULL, *star_s = NULL;

	/* the classic wildcard walk: backtrack to the last % on a mismatch */
	while (*s) {
		if (*p == '%') {
			star_p = ++p;
			star_s = s;
		} else if (*p && (*p == '_' || fold(*p, icase) == fold(*s, icase))) {
			p++;
			s++;
		} else if (star_p) {
			p = star_p;
			s = ++star_s;
		} else {
			return false;
		}
	}
	while (*p == '%')
		p++;
	return !*p;
}

static bool compare_str(enum atr_rq_op op, const char *a, const char *b)
{
	switch (op) {
	case ATR_RQ_EQ:
		return strcmp(a, b) == 0;
	case ATR_RQ_NE:
		return strcmp(a, b) != 0;
	case ATR_RQ_LIKE:
		return atr_mlq_like(a, b, false);
	case ATR_RQ_ILIKE:
		return atr_mlq_like(a, b, true);
	default:
		return false;
	}
}

static bool compare_num(enum atr_rq_op op, double a, double b)
{
	switch (op) {
	case ATR_RQ_EQ:
		return a == b;
	case ATR_RQ_NE:
		return a != b;
	case ATR_RQ_LT:
		return a < b;
	case ATR_RQ_LE:
		return a <= b;
	case ATR_RQ_GT:
		return a > b;
	case ATR_RQ_GE:
		return a >= b;
	default:
		return false;
	}
}

bool atr_mlq_exp_match(const struct atr_mlq_exp *q, const struct atr_mlq_exp_row *e)
{
	for (int i = 0; i < q->n; i++) {
		const struct atr_mlq_exp_clause *c = &q->c[i];
		const char *tag;
		bool ok;
		switch (c->field) {
		case ATR_MLQ_EXP_NAME:
			ok = compare_str(c->op, e->name, c->str);
			break;
		case ATR_MLQ_EXP_CREATED:
			ok = compare_num(c->op, (double)e->created, c->num);
			break;
		case ATR_MLQ_EXP_UPDATED:
			ok = compare_num(c->op, (double)e->updated, c->num);
			break;
		default:
			tag = json_string_value(json_object_get(e->tags, c->key));
			ok = tag && compare_str(c->op, tag, c->str); /* no such tag: false */
		}
		if (!ok)
			return false;
	}
	return true;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

int atr_mlq_exp_compare(const struct atr_mlq_exp *q, const struct atr_mlq_exp_row *a, const struct atr_mlq_exp_row *b)
{
	for (int i = 0; i < q->norder; i++) {
		int c;
		switch (q->order[i].field) {
		case ATR_MLQ_EXP_NAME:
			c = strcmp(a->name, b->name);
			break;
		case ATR_MLQ_EXP_CREATED:
			c = cmp_i64(a->created, b->created);
			break;
		case ATR_MLQ_EXP_UPDATED:
			c = cmp_i64(a->updated, b->updated);
			break;
		default:
			c = cmp_i64(a->id, b->id);
		}
		if (c)
			return q->order[i].desc ? -c : c;
	}
	return 0;
}

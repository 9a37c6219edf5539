/*
 * profile.c: building a reference profile from CSV or JSON Lines, streaming. Pass one reads
 * every value once: per feature the count, mean and variance (Welford), min, max, nulls, a
 * reservoir sample of numbers (its quantiles cut the bins) and the counts of up to
 * CAT_DISTINCT_MAX distinct texts (the top ones become the categories); types not given are
 * inferred (numeric when every non-null value is a number). Pass two counts the numbers into
 * the bins: from a scratch file (tmpfile) of the numbers pass one parsed, one double per
 * feature per row, so the files are split and parsed once; where that cannot be (no scratch
 * file, a write error, a column named twice) pass two parses the files again. Memory is bounded by the features, never by the rows. The record reader, the CSV
 * splitter and the JSON line parser are the scoring library's (scoring_internal.h).
 * Not here: the JSON form and folding live data (profile_fold.c), the statistics (drift.c).
 */
#include "atrium/profile.h"
#include "atrium/err.h"
#include "scoring_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESERVOIR 16384
#define CAT_DISTINCT_MAX 10000
#define CHUNK (1 << 20)
#define SPOOL_BUF 8192 /* doubles: the rows written to the scratch file at once */

struct col {
	uint64_t nulls, bad, nnum, ntext;
	double mean, m2, min, max;
	double *res;
	size_t nres;
	struct sc_intern cats;
	uint64_t *cat_n;
	uint64_t overflow;
};

/* A field of a CSV record: its text and, when fast, the number fast_number would give. */
struct cell {
	const char *p;
	size_t len;
	double d;
	bool fast;
};

struct builder {
	const struct atr_profile_spec *spec;
	enum atr_profile_format fmt;
	int pass;
	size_t nfeat;
	char **names;
	enum atr_feature_type *types;
	bool infer_all;
	struct col *c;
	int *colmap;	    /* CSV: column -> feature (-1) */
	struct cell *cells; /* CSV pass one: the fields of a record split and parsed at once */
	size_t ncols;
	bool header; /* the current file's header was read */
	bool *seen;  /* JSONL: feature seen in some row */
	uint8_t *hit;
	struct sc_fields fs;
	struct sc_jline jl;
	struct atr_profile *prof;
	uint64_t rows, rng;
	struct atr_scoring_error err;
	/* pass one's parsed numbers, one double per feature per row (NAN: null or not a number),
	 * replayed by pass two instead of parsing the files again; spool_ok false: reparse */
	FILE *spool;
	bool spool_ok;
	double *slot;
	size_t slot_n, spool_nfeat;
	uint16_t spool_col[ATR_PROFILE_MAX_FEATURES]; /* the features spooled, in order */
	size_t nspool;
	double *sbuf; /* rows not yet written to the spool (SPOOL_BUF doubles): one write per many */
	size_t sbuf_n;
};

/* The texts read as null (by length first: this runs for every value). */
static bool is_null_text(const char *p, size_t len)
{
	switch (len) {
	case 0:
		return true;
	case 2:
		return memcmp(p, "NA", 2) == 0;
	case 3:
		return memcmp(p, "N/A", 3) == 0 || memcmp(p, "NaN", 3) == 0 || memcmp(p, "nan", 3) == 0;
	case 4:
		return memcmp(p, "null", 4) == 0 || memcmp(p, "NULL", 4) == 0 || memcmp(p, "None", 4) == 0;
	default:
		return false;
	}
}

static uint64_t next_rand(struct builder *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

static void add_number(struct builder *b, struct col *c, double d)
{
	double delta = d - c->mean;

	c->nnum++;
	c->mean += delta / (double)c->nnum;
	c->m2 += delta * (d - c->mean);
	if (c->nnum == 1 || d < c->min)
		c->min = d;
	if (c->nnum == 1 || d > c->max)
		c->max = d;
	if (c->nres < RESERVOIR) {
		c->res[c->nres++] = d;
	} else {
		/* an index in [0, nnum) by multiply-shift (no division per value) */
		uint64_t n = c->nnum < UINT32_MAX ? c->nnum : UINT32_MAX, j = ((next_rand(b) >> 32) * n) >> 32;
		if (j < RESERVOIR)
			c->res[j] = d;
	}
}

static int add_text(struct col *c, const char *p, size_t len)
{
	uint32_t h = sc_hash(p, len), idx;
	int rc;

	c->ntext++;
	if (sc_intern_find(&c->cats, p, len, h, &idx, NULL)) {
		c->cat_n[idx]++;
		return 0;
	}
	if (c->cats.n >= CAT_DISTINCT_MAX) {
		c->overflow++;
		return 0;
	}
	if (c->cats.n % 64 == 0) {
		uint64_t *n = realloc(c->cat_n, (c->cats.n + 64) * sizeof(*n));
		if (!n)
			return ATR_ENOMEM;
		c->cat_n = n;
	}
	if ((rc = sc_intern_add(&c->cats, p, len, h, 0, &idx)) < 0)
		return rc;
	c->cat_n[idx] = 1;
	return 0;
}

/* Bin of d (not NaN) among edges: the first edge >= d (bins are (e[i-1], e[i]]), i.e. the
 * number of edges below d, as the edges increase strictly. Counted without a branch: a binary
 * search's branches on random data were mispredicted half the time. */
static size_t bin_of(const double *e, size_t n, double d)
{
	size_t k = 0, i = 0;

	for (; i + 4 <= n; i += 4)
		k += (size_t)(e[i] < d) + (e[i + 1] < d) + (e[i + 2] < d) + (e[i + 3] < d);
	for (; i < n; i++)
		k += e[i] < d;
	return k;
}

/* A value of pass two (read again from the files): a number of a numeric feature into its bin. */
static int value2(struct builder *b, size_t fi, const char *p, size_t len, bool null)
{
	struct atr_profile_feature *f = &b->prof->f[fi];
	double d;

	if (!null && f->type == ATR_FEAT_NUMERIC && sc_number(p, len, &d) == SC_NUM_OK && isfinite(d))
		f->counts[bin_of(f->edges, f->nedges, d)]++;
	return 0;
}

/*
 * A number of a feature inferred categorical already (a text was not a number): only the draw
 * add_number would make once the reservoir is full, so that the features after it get the
 * same random numbers as when their statistics were kept (they are never used).
 */
static void skip_number(struct builder *b, struct col *c)
{
	c->nnum++;
	if (c->nres < RESERVOIR)
		c->nres++;
	else
		next_rand(b);
}

/* false when p cannot be a finite number for sc_number (its first byte says so): no parse. */
static bool maybe_number(const char *p, size_t len)
{
	unsigned char c = len ? (unsigned char)p[0] : 0;
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == ' ' || c == '\t';
}

/* Pass one's value of feature fi: text (number or not) or null (null: nulls counted already). */
static inline int value1n(struct builder *b, size_t fi, const char *p, size_t len, bool num, double d)
{
	struct col *c = &b->c[fi];
	enum atr_feature_type t = b->types[fi];

	b->slot[fi] = num ? d : NAN;
	b->slot_n++;
	if (num && t == ATR_FEAT_INFER && c->bad)
		skip_number(b, c);
	else if (num)
		add_number(b, c, d);
	else if (t != ATR_FEAT_CATEGORICAL)
		c->bad++;
	if (t == ATR_FEAT_INFER && !c->bad && c->cats.n >= CAT_DISTINCT_MAX) {
		/* numbers only so far, and too many distinct ones to be categories: counted as
		 * "other" without a look-up (a miss in a full table per value was most of the time) */
		c->ntext++;
		c->overflow++;
		return 0;
	}
	return t != ATR_FEAT_NUMERIC ? add_text(c, p, len) : 0;
}

static inline int value1(struct builder *b, size_t fi, const char *p, size_t len)
{
	double d = 0;
	bool num = b->types[fi] != ATR_FEAT_CATEGORICAL && maybe_number(p, len) && sc_number(p, len, &d) == SC_NUM_OK &&
		   isfinite(d);

	return value1n(b, fi, p, len, num, d);
}

/* One value of feature fi: text (number or not) or null. */
static inline int value(struct builder *b, size_t fi, const char *p, size_t len, bool null)
{
	if (!null && len <= 4 && is_null_text(p, len))
		null = true;
	if (b->pass == 2)
		return value2(b, fi, p, len, null);
	if (null) {
		b->slot[fi] = NAN;
		b->slot_n++;
		b->c[fi].nulls++;
		return 0;
	}
	return value1(b, fi, p, len);
}

static int find_feature(const struct builder *b, const char *p, size_t len)
{
	for (size_t i = 0; i < b->nfeat; i++)
		if (strlen(b->names[i]) == len && memcmp(b->names[i], p, len) == 0)
			return (int)i;
	return -1;
}

static int add_feature(struct builder *b, const char *p, size_t len)
{
	char *name;

	if (b->nfeat >= ATR_PROFILE_MAX_FEATURES)
		return 0;
	if (!(name = strndup(p, len)))
		return ATR_ENOMEM;
	b->names[b->nfeat] = name;
	b->types[b->nfeat] = ATR_FEAT_INFER;
	b->c[b->nfeat].res = malloc(RESERVOIR * sizeof(double));
	if (!b->c[b->nfeat].res)
		return ATR_ENOMEM;
	b->nfeat++;
	return 0;
}

static int csv_header(struct builder *b, uint64_t line)
{
	int *map = realloc(b->colmap, (b->fs.n ? b->fs.n : 1) * sizeof(int));
	struct cell *cells;
	int rc;

	if (!map)
		return ATR_ENOMEM;
	b->colmap = map;
	if (!(cells = realloc(b->cells, (b->fs.n ? b->fs.n : 1) * sizeof(*cells))))
		return ATR_ENOMEM;
	b->cells = cells;
	b->ncols = b->fs.n;
	b->header = true;
	for (size_t i = 0; i < b->fs.n; i++) {
		const struct sc_str *s = &b->fs.f[i];
		if (b->infer_all && b->pass == 1 && find_feature(b, s->p, s->len) < 0 &&
		    (rc = add_feature(b, s->p, s->len)) < 0)
			return rc;
		map[i] = find_feature(b, s->p, s->len);
	}
	for (size_t fi = 0; fi < b->nfeat; fi++) {
		bool found = false;
		for (size_t i = 0; i < b->ncols && !found; i++)
			found = map[i] == (int)fi;
		if (!found)
			return sc_fail(&b->err, ATR_SCORING_E_HEADER, line,
				       "feature '%s' is not a column of the reference", b->names[fi]);
	}
	return 0;
}

static const double pow10_[] = { 1e0,  1e1,  1e2,  1e3,	 1e4,  1e5,  1e6,  1e7,	 1e8,  1e9,  1e10, 1e11,
				 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/*
 * One field of a CSV record from p[*i]: split and parsed in one walk. A field of the form
 * [+-]digits[.digits] (at most 19 digits, m <= 2^53) ending at a comma or the record's end is
 * parsed here as sc_number's fast path would (the same m, the same division or product); any
 * other is only delimited (value1 parses it). false: a quote or a CR (sc_csv_split's byte loop
 * takes the record).
 */
static bool fused_field(const char *p, size_t len, size_t *i, struct cell *c)
{
	size_t k = *i, s, nd, nf = 0;
	uint64_t m = 0;
	bool neg = k < len && p[k] == '-';

	c->p = p + k;
	k += k < len && (p[k] == '-' || p[k] == '+');
	for (s = k; k < len && (unsigned char)(p[k] - '0') < 10; k++)
		m = m * 10 + (unsigned)(p[k] - '0');
	nd = k - s;
	if (k < len && p[k] == '.') {
		for (s = ++k; k < len && (unsigned char)(p[k] - '0') < 10; k++)
			m = m * 10 + (unsigned)(p[k] - '0');
		nf = k - s;
		nd += nf;
	}
	c->fast = (k == len || p[k] == ',') && nd > 0 && nd <= 19 && m <= (1ULL << 53) && nf <= 22;
	if (c->fast)
		c->d = (nf ? (double)m / pow10_[nf] : (double)m * pow10_[0]) * (neg ? -1.0 : 1.0);
	for (; k < len && p[k] != ','; k++)
		if (p[k] == '"' || p[k] == '\r')
			return false;
	c->len = (size_t)(p + k - c->p);
	*i = k;
	return true;
}

/* Pass one of a record with the header's number of fields, split and parsed at once: 0, an
 * error, or 1 (nothing done: the record goes the other way). */
static int csv_fused(struct builder *b, const char *p, size_t len)
{
	size_t n = 0, i = 0;
	int rc;

	for (;;) {
		if (n == b->ncols || !fused_field(p, len, &i, &b->cells[n++]))
			return 1;
		if (i >= len)
			break;
		i++; /* the ',' */
	}
	if (n != b->ncols)
		return 1;
	b->rows++;
	for (i = 0; i < n; i++) {
		const struct cell *c = &b->cells[i];
		size_t fi = (size_t)b->colmap[i];
		if (b->colmap[i] < 0)
			continue;
		if (c->fast)
			rc = value1n(b, fi, c->p, c->len, b->types[fi] != ATR_FEAT_CATEGORICAL, c->d);
		else
			rc = value(b, fi, c->p, c->len, false);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int csv_record(struct builder *b, const char *p, size_t len, uint64_t line)
{
	int rc = b->header && b->pass == 1 ? csv_fused(b, p, len) : 1;

	if (rc <= 0)
		return rc;
	if ((rc = sc_csv_split(&b->fs, p, len, line, &b->err)) < 0)
		return rc;
	if (!b->header)
		return csv_header(b, line);
	if (b->fs.n != b->ncols)
		return sc_fail(&b->err, ATR_SCORING_E_COLUMNS, line, "%zu fields where the header has %zu", b->fs.n,
			       b->ncols);
	b->rows++;
	for (size_t i = 0; i < b->ncols; i++)
		if (b->colmap[i] >= 0 && (rc = value(b, (size_t)b->colmap[i], b->fs.f[i].p, b->fs.f[i].len, false)) < 0)
			return rc;
	return 0;
}

static int json_record(struct builder *b, const char *p, size_t len, uint64_t line)
{
	int rc = sc_json_line(&b->jl, p, len, line, NULL, &b->err);

	if (rc < 0)
		return rc;
	if (b->infer_all && b->pass == 1 && b->rows == 0)
		for (size_t i = 0; i < b->jl.n; i++)
			if (!b->jl.m[i].nested && find_feature(b, b->jl.m[i].key.p, b->jl.m[i].key.len) < 0 &&
			    (rc = add_feature(b, b->jl.m[i].key.p, b->jl.m[i].key.len)) < 0)
				return rc;
	b->rows++;
	memset(b->hit, 0, b->nfeat);
	for (size_t i = 0; i < b->jl.n; i++) {
		const struct sc_member *m = &b->jl.m[i];
		int fi = m->nested ? -1 : find_feature(b, m->key.p, m->key.len);
		bool null = m->val.kind == SC_JNULL || m->val.kind == SC_JNAN || m->val.kind == SC_JOBJ;
		if (fi < 0 || b->hit[fi])
			continue;
		b->hit[fi] = b->seen[fi] = 1;
		if ((rc = value(b, (size_t)fi, m->val.s.p, m->val.s.len, null)) < 0)
			return rc;
	}
	for (size_t fi = 0; fi < b->nfeat; fi++)
		if (!b->hit[fi] && (rc = value(b, fi, "", 0, true)) < 0)
			return rc;
	return 0;
}

/* The spool's columns, from the first row: the features that may be numeric (a categorical
 * one, given or inferred, is never binned: its values are not spooled). */
static void spool_plan(struct builder *b)
{
	b->spool_nfeat = b->nfeat;
	b->nspool = 0;
	for (size_t fi = 0; fi < b->nfeat; fi++)
		if (b->types[fi] == ATR_FEAT_NUMERIC || (b->types[fi] == ATR_FEAT_INFER && !b->c[fi].bad))
			b->spool_col[b->nspool++] = (uint16_t)fi;
}

/* The buffered rows to the spool; false (and the spool given up) when they cannot be written. */
static bool spool_flush(struct builder *b)
{
	if (b->spool_ok && b->sbuf_n && fwrite(b->sbuf, sizeof(double), b->sbuf_n, b->spool) != b->sbuf_n)
		b->spool_ok = false;
	b->sbuf_n = 0;
	return b->spool_ok;
}

/* Pass one: the row's numbers to the spool, when every feature had exactly one value (a
 * column named twice, or features added by a later file, give up the spool). */
static void spool_row(struct builder *b)
{
	if (!b->spool_ok)
		return;
	if (!b->spool_nfeat)
		spool_plan(b);
	if (b->slot_n != b->nfeat || b->nfeat != b->spool_nfeat) {
		b->spool_ok = false;
		return;
	}
	if (b->sbuf_n + b->nspool > SPOOL_BUF && !spool_flush(b))
		return;
	for (size_t k = 0; k < b->nspool; k++)
		b->sbuf[b->sbuf_n++] = b->slot[b->spool_col[k]];
}

static int on_record(void *arg, const char *p, size_t len, uint64_t line)
{
	struct builder *b = arg;
	uint64_t rows = b->rows;
	int rc;

	b->slot_n = 0;
	rc = b->fmt == ATR_PROFILE_CSV ? csv_record(b, p, len, line) : json_record(b, p, len, line);
	if (rc == 0 && b->pass == 1 && b->rows != rows)
		spool_row(b);
	return rc;
}

/* ---- the end of pass one: types, bins, categories ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int numeric_feature(struct builder *b, size_t fi, struct atr_profile_feature *f)
{
	struct col *c = &b->c[fi];
	int bins = b->spec->bins > 0 ? b->spec->bins : 10;

	f->type = ATR_FEAT_NUMERIC;
	f->nulls = c->nulls + c->bad;
	f->mean = c->nnum ? c->mean : NAN;
	f->std = c->nnum ? sqrt(c->m2 / (double)c->nnum) : NAN;
	f->min = c->nnum ? c->min : NAN;
	f->max = c->nnum ? c->max : NAN;
	if (!(f->edges = calloc((size_t)bins, sizeof(double))))
		return ATR_ENOMEM;
	qsort(c->res, c->nres, sizeof(double), cmp_double);
	for (int i = 1; i < bins && c->nres > 0; i++) {
		double pos = (double)i / bins * (double)(c->nres - 1), lo = floor(pos);
		size_t k = (size_t)lo;
		double e = k + 1 < c->nres ? c->res[k] + (pos - lo) * (c->res[k + 1] - c->res[k]) : c->res[k];
		if (f->nedges == 0 || e > f->edges[f->nedges - 1])
			f->edges[f->nedges++] = e;
	}
	f->nbins = f->nedges + 1;
	f->counts = calloc(f->nbins, sizeof(uint64_t));
	return f->counts ? 0 : ATR_ENOMEM;
}

static const struct col *sort_col; /* qsort has no argument: set for the one sort below */

static int cmp_cat(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint64_t nx = sort_col->cat_n[x], ny = sort_col->cat_n[y];
	if (nx != ny)
		return nx < ny ? 1 : -1;
	return (x > y) - (x < y);
}

static int categorical_feature(struct builder *b, size_t fi, struct atr_profile_feature *f)
{
	struct col *c = &b->c[fi];
	size_t max = (size_t)(b->spec->max_categories > 0 ? b->spec->max_categories : 20);
	uint32_t *order = malloc((c->cats.n ? c->cats.n : 1) * sizeof(uint32_t));
	uint64_t listed = 0;

	if (!order)
		return ATR_ENOMEM;
	for (uint32_t i = 0; i < c->cats.n; i++)
		order[i] = i;
	sort_col = c;
	qsort(order, c->cats.n, sizeof(uint32_t), cmp_cat);
	f->type = ATR_FEAT_CATEGORICAL;
	f->nulls = c->nulls;
	f->mean = f->std = f->min = f->max = NAN;
	f->ncats = c->cats.n < max ? c->cats.n : max;
	f->nbins = f->ncats + 1;
	f->cats = calloc(f->ncats ? f->ncats : 1, sizeof(char *));
	f->counts = calloc(f->nbins, sizeof(uint64_t));
	for (size_t i = 0; f->cats && f->counts && i < f->ncats; i++) {
		if (!(f->cats[i] = strdup(sc_intern_get(&c->cats, order[i], NULL))))
			break;
		f->counts[i] = c->cat_n[order[i]];
		listed += f->counts[i];
	}
	free(order);
	if (!f->cats || !f->counts || (f->ncats && !f->cats[f->ncats - 1]))
		return ATR_ENOMEM;
	f->counts[f->ncats] = c->ntext - listed;
	return 0;
}

static int finish_pass1(struct builder *b)
{
	struct atr_profile *p = calloc(1, sizeof(*p));
	int rc = 0;

	if (!p || !(p->f = calloc(b->nfeat ? b->nfeat : 1, sizeof(*p->f)))) {
		free(p);
		return ATR_ENOMEM;
	}
	b->prof = p;
	p->rows = b->rows;
	for (size_t i = 0; i < b->nfeat && rc == 0; i++) {
		struct col *c = &b->c[i];
		enum atr_feature_type t = b->types[i];
		if (b->fmt == ATR_PROFILE_JSONL && !b->infer_all && !b->seen[i])
			return sc_fail(&b->err, ATR_SCORING_E_HEADER, 0,
				       "feature '%s' is in no record of the reference", b->names[i]);
		if (t == ATR_FEAT_INFER)
			t = c->bad == 0 && c->nnum > 0 ? ATR_FEAT_NUMERIC : ATR_FEAT_CATEGORICAL;
		if (!(p->f[i].name = strdup(b->names[i])))
			return ATR_ENOMEM;
		p->nfeat = i + 1;
		rc = t == ATR_FEAT_NUMERIC ? numeric_feature(b, i, &p->f[i]) : categorical_feature(b, i, &p->f[i]);
	}
	return rc;
}

/* ---- the passes over the sources ---- */

struct source {
	const char *const *paths;
	const char *const *data;
	const size_t *lens;
	size_t n;
};

static int feed_one(struct builder *b, const struct source *src, size_t i, char *chunk)
{
	struct sc_reader rd;
	int rc = 0;

	sc_reader_init(&rd, b->fmt == ATR_PROFILE_CSV ? ATR_SCORING_CSV : ATR_SCORING_JSONL, on_record, b, &b->err);
	b->header = false;
	if (src->data) {
		rc = sc_reader_feed(&rd, src->data[i], src->lens[i]);
	} else {
		FILE *f = fopen(src->paths[i], "rb");
		size_t got;
		if (!f) {
			sc_reader_release(&rd);
			return sc_fail(&b->err, ATR_SCORING_E_SPEC, 0, "a file of the reference cannot be read");
		}
		while (rc == 0 && (got = fread(chunk, 1, CHUNK, f)) > 0)
			rc = sc_reader_feed(&rd, chunk, got);
		if (rc == 0 && ferror(f))
			rc = sc_fail(&b->err, ATR_SCORING_E_SPEC, 0, "a file of the reference cannot be read");
		fclose(f);
	}
	if (rc == 0)
		rc = sc_reader_end(&rd);
	sc_reader_release(&rd);
	if (rc == 0 && b->fmt == ATR_PROFILE_CSV && !b->header)
		rc = sc_fail(&b->err, ATR_SCORING_E_HEADER, 0, "a file of the reference has no header");
	return rc;
}

/* Pass two from the spool: the numbers of the numeric features into their bins. */
static int replay(struct builder *b)
{
	enum { BUF = 8192 };
	double *buf = malloc(BUF * sizeof(double));
	size_t n = b->nspool, per = n ? BUF / n * n : 0, got;
	int rc = 0;

	if (!buf)
		return ATR_ENOMEM;
	rewind(b->spool);
	while (per && (got = fread(buf, sizeof(double), per, b->spool)) > 0)
		for (size_t r = 0; r + n <= got; r += n)
			for (size_t k = 0; k < n; k++) {
				struct atr_profile_feature *f = &b->prof->f[b->spool_col[k]];
				double d = buf[r + k];
				if (f->type == ATR_FEAT_NUMERIC && !isnan(d))
					f->counts[bin_of(f->edges, f->nedges, d)]++;
			}
	if (ferror(b->spool))
		rc = sc_fail(&b->err, ATR_SCORING_E_SPEC, 0, "the profile's scratch file cannot be read");
	free(buf);
	return rc;
}

static int run_passes(struct builder *b, const struct source *src)
{
	char *chunk = src->data ? NULL : malloc(CHUNK);
	int rc = 0;

	if (!src->data && !chunk)
		return ATR_ENOMEM;
	b->spool = tmpfile();
	b->sbuf = malloc(SPOOL_BUF * sizeof(double)); /* a row holds at most 256 < SPOOL_BUF */
	/* unbuffered: the writes and replay's reads are large already */
	b->spool_ok = b->spool != NULL && b->sbuf != NULL && setvbuf(b->spool, NULL, _IONBF, 0) == 0;
	for (b->pass = 1; b->pass <= 2 && rc == 0; b->pass++) {
		if (b->pass == 2 && spool_flush(b) && fflush(b->spool) == 0) {
			rc = replay(b);
			break;
		}
		b->rows = 0;
		for (size_t i = 0; i < src->n && rc == 0; i++)
			rc = feed_one(b, src, i, chunk);
		if (rc == 0 && b->pass == 1)
			rc = finish_pass1(b);
	}
	free(chunk);
	return rc;
}

static void builder_release(struct builder *b)
{
	for (size_t i = 0; i < ATR_PROFILE_MAX_FEATURES; i++) {
		if (b->names)
			free(b->names[i]);
		if (b->c) {
			free(b->c[i].res);
			free(b->c[i].cat_n);
			sc_intern_release(&b->c[i].cats);
		}
	}
	free(b->names);
	free(b->types);
	free(b->c);
	free(b->colmap);
	free(b->cells);
	free(b->seen);
	free(b->hit);
	free(b->slot);
	free(b->sbuf);
	if (b->spool)
		fclose(b->spool);
	sc_fields_release(&b->fs);
	sc_jline_release(&b->jl);
	atr_profile_free(b->prof);
}

static int builder_init(struct builder *b, enum atr_profile_format fmt, const struct atr_profile_spec *spec)
{
	const size_t m = ATR_PROFILE_MAX_FEATURES;
	int rc;

	memset(b, 0, sizeof(*b));
	b->spec = spec;
	b->fmt = fmt;
	b->rng = 0x9E3779B97F4A7C15ull;
	b->names = calloc(m, sizeof(char *));
	b->types = calloc(m, sizeof(*b->types));
	b->c = calloc(m, sizeof(*b->c));
	b->seen = calloc(m, 1);
	b->hit = calloc(m, 1);
	b->slot = calloc(m, sizeof(double));
	if (!b->names || !b->types || !b->c || !b->seen || !b->hit || !b->slot)
		return ATR_ENOMEM;
	b->infer_all = spec->nfeat == 0;
	for (size_t i = 0; i < spec->nfeat && i < m; i++) {
		if ((rc = add_feature(b, spec->names[i], strlen(spec->names[i]))) < 0)
			return rc;
		b->types[i] = spec->types ? spec->types[i] : ATR_FEAT_INFER;
	}
	return 0;
}

static int build(const struct source *src, enum atr_profile_format fmt, const struct atr_profile_spec *spec,
		 struct atr_profile **out, char *why, size_t whylen)
{
	struct builder b;
	int rc = builder_init(&b, fmt, spec);

	*out = NULL;
	if (rc == 0)
		rc = run_passes(&b, src);
	if (rc == 0 && b.nfeat == 0)
		rc = sc_fail(&b.err, ATR_SCORING_E_HEADER, 0, "the reference has no columns");
	if (rc == 0) {
		*out = b.prof;
		b.prof = NULL;
	} else if (rc == ATR_ENOMEM) {
		snprintf(why, whylen, "out of memory");
	} else {
		snprintf(why, whylen, "%s", b.err.message);
	}
	builder_release(&b);
	return rc == ATR_EINVAL ? ATR_EUNPROCESSABLE : rc;
}

int atr_profile_build_files(const char *const *paths, size_t npaths, enum atr_profile_format fmt,
			    const struct atr_profile_spec *spec, struct atr_profile **out, char *why, size_t whylen)
{
	struct source src = { .paths = paths, .n = npaths };
	return build(&src, fmt, spec, out, why, whylen);
}

int atr_profile_build_mem(const char *const *data, const size_t *lens, size_t n, enum atr_profile_format fmt,
			  const struct atr_profile_spec *spec, struct atr_profile **out, char *why, size_t whylen)
{
	struct source src = { .data = data, .lens = lens, .n = n };
	return build(&src, fmt, spec, out, why, whylen);
}

void atr_profile_free(struct atr_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfeat; i++) {
		struct atr_profile_feature *f = &p->f[i];
		free(f->name);
		free(f->counts);
		free(f->edges);
		for (size_t k = 0; f->cats && k < f->ncats; k++)
			free(f->cats[k]);
		free(f->cats);
	}
	free(p->f);
	free(p);
}

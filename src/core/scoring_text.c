/*
 * scoring_text.c: the text layer of the scoring library: its error messages, the record
 * reader (chunks of any size in, whole records out, with their line numbers, checked as
 * UTF-8) and the CSV record splitter (RFC 4180). Not here: JSON (scoring_json.c), what the
 * fields mean (scoring.c).
 */
#include "scoring_internal.h"
#include "atrium/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sc_fail(struct atr_scoring_error *e, enum atr_scoring_errkind kind, uint64_t line, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	e->kind = kind;
	e->line = line;
	if (line > 0)
		n = snprintf(e->message, sizeof(e->message), "line %llu: ", (unsigned long long)line);
	va_start(ap, fmt);
	vsnprintf(e->message + n, sizeof(e->message) - (size_t)n, fmt, ap);
	va_end(ap);
	return kind == ATR_SCORING_E_SPEC ? ATR_EINVAL : ATR_EUNPROCESSABLE;
}

/* The length of the UTF-8 sequence that starts with byte c (1 for a stray byte). */
static size_t seq_len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

void sc_quote(char *out, size_t cap, const char *p, size_t len)
{
	const size_t most = 48;
	size_t o = 0, i = 0;

	out[o++] = '\'';
	while (i < len && o + 8 < cap) {
		unsigned char c = (unsigned char)p[i];
		size_t n = seq_len(c);
		if (i + n > most || i + n > len)
			break;
		if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		} else {
			memcpy(out + o, p + i, n);
			o += n;
		}
		i += n;
	}
	if (i < len && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '\'';
	out[o] = 0;
}

uint64_t sc_line_at(const char *rec, size_t i, uint64_t line)
{
	for (size_t j = 0; j < i; j++)
		line += rec[j] == '\n';
	return line;
}

/* ---- UTF-8 ---- */

#define ONES 0x0101010101010101ULL

/* Eight bytes of ASCII, none of them NUL. */
static bool ascii8(const unsigned char *p)
{
	uint64_t w, low = ONES * 0x7f, high = ONES * 0x80;

	memcpy(&w, p, 8);
	return ((w & high) | (~((w & low) + low) & high)) == 0;
}

/* The offset of the first byte of p that is not well-formed UTF-8 (or a NUL), or len. */
static size_t utf8_bad(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		if (len - i >= 8 && ascii8(p + i)) { /* most text: eight bytes at once */
			i += 8;
			continue;
		}
		if (c >= 0x20 && c < 0x80) {
			i++;
			continue;
		}
		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n = seq_len(c);
		uint32_t cp = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
		if (c < 0xc2 || c > 0xf4 || i + n > len)
			return i;
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return i;
		i += n;
	}
	return len;
}

/* ---- the record reader ---- */

void sc_reader_init(struct sc_reader *r, enum atr_scoring_format fmt, sc_record_fn fn, void *arg,
		    struct atr_scoring_error *err)
{
	memset(r, 0, sizeof(*r));
	r->fmt = fmt;
	atr_buf_init(&r->carry, ATR_SCORING_RECORD_MAX + 2);
	r->line = 1;
	r->fn = fn;
	r->arg = arg;
	r->err = err;
}

void sc_reader_release(struct sc_reader *r)
{
	atr_buf_release(&r->carry);
}

/* The offset of the line feed that ends the current record in p[0..n), or n; follows the
 * quotes (CSV) and counts the line feeds inside them. */
static size_t record_end(struct sc_reader *r, const char *p, size_t n)
{
	bool quoted = r->quoted;
	size_t i;

	if (r->fmt == ATR_SCORING_JSONL || !quoted) {
		const char *q = memchr(p, '\n', n);
		i = q ? (size_t)(q - p) : n;
		/* most records hold no quote: two vector scans instead of a byte loop */
		if (r->fmt == ATR_SCORING_JSONL || !memchr(p, '"', i))
			return i;
	}
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (c == '"') {
			quoted = !quoted;
		} else if (c == '\n') {
			if (!quoted)
				break;
			r->nl++;
		}
	}
	r->quoted = quoted;
	return i;
}

static bool blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* One whole record: its CR and a byte-order mark off, checked, handed on (blank: skipped). */
static int emit(struct sc_reader *r, const char *p, size_t len)
{
	uint64_t line = r->line;
	size_t bad;

	r->line += 1 + r->nl;
	r->nl = 0;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (!r->started) {
		r->started = true;
		if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
			p += 3;
			len -= 3;
		}
	}
	if (len > ATR_SCORING_RECORD_MAX)
		return sc_fail(r->err, ATR_SCORING_E_LIMIT, line, "a record longer than %u bytes",
			       (unsigned)ATR_SCORING_RECORD_MAX);
	bad = utf8_bad((const unsigned char *)p, len);
	if (bad < len)
		return sc_fail(r->err, ATR_SCORING_E_ENCODING, sc_line_at(p, bad, line),
			       p[bad] ? "byte 0x%02x is not UTF-8" : "a NUL byte (0x%02x)", (unsigned char)p[bad]);
	if (len == 0 || (r->fmt == ATR_SCORING_JSONL && blank(p, len)))
		return 0;
	return r->fn(r->arg, p, len, line);
}

static int keep(struct sc_reader *r, const char *p, size_t n)
{
	if (r->carry.len + n > ATR_SCORING_RECORD_MAX + 1)
		return sc_fail(r->err, ATR_SCORING_E_LIMIT, r->line, "a record longer than %u bytes",
			       (unsigned)ATR_SCORING_RECORD_MAX);
	return atr_buf_append(&r->carry, p, n);
}

int sc_reader_feed(struct sc_reader *r, const char *p, size_t len)
{
	const char *end = p + len;
	int rc;

	while (p < end) {
		size_t n = (size_t)(end - p), e = record_end(r, p, n);
		if (e == n)
			return keep(r, p, n);
		if (r->carry.len > 0) {
			rc = keep(r, p, e);
			if (rc == 0)
				rc = emit(r, r->carry.data, r->carry.len);
			atr_buf_reset(&r->carry);
		} else {
			rc = emit(r, p, e);
		}
		if (rc)
			return rc;
		p += e + 1;
	}
	return 0;
}

int sc_reader_end(struct sc_reader *r)
{
	int rc = 0;

	if (r->quoted)
		return sc_fail(r->err, ATR_SCORING_E_SYNTAX, r->line, "a quoted field is not closed");
	if (r->carry.len > 0) {
		rc = emit(r, r->carry.data, r->carry.len);
		atr_buf_reset(&r->carry);
	}
	return rc;
}

/* ---- CSV ---- */

void sc_fields_release(struct sc_fields *fs)
{
	free(fs->f);
	free(fs->scratch);
	memset(fs, 0, sizeof(*fs));
}

/* Room for at least want fields. */
static int grow_fields(struct sc_fields *fs, size_t want)
{
	size_t cap = fs->cap ? fs->cap : 16;
	struct sc_str *f;

	while (cap < want)
		cap *= 2;
	if (!(f = realloc(fs->f, cap * sizeof(*f))))
		return ATR_ENOMEM;
	fs->f = f;
	fs->cap = cap;
	return 0;
}

static int push_field(struct sc_fields *fs, const char *p, size_t len)
{
	int rc;

	if (fs->n == fs->cap && (rc = grow_fields(fs, fs->n + 1)) < 0)
		return rc;
	fs->f[fs->n].p = p;
	fs->f[fs->n].len = len;
	fs->n++;
	return 0;
}

/* An unquoted field at *pos: up to the next ',' or the end. */
static int plain_field(struct sc_fields *fs, const char *rec, size_t len, size_t *pos, uint64_t line,
		       struct atr_scoring_error *err)
{
	size_t i = *pos, start = i;

	for (; i < len && rec[i] != ','; i++) {
		if (rec[i] == '"')
			return sc_fail(err, ATR_SCORING_E_SYNTAX, sc_line_at(rec, i, line),
				       "a quote inside an unquoted field (field %zu)", fs->n + 1);
		if (rec[i] == '\r')
			return sc_fail(err, ATR_SCORING_E_SYNTAX, sc_line_at(rec, i, line),
				       "a carriage return outside quotes (field %zu)", fs->n + 1);
	}
	*pos = i;
	return push_field(fs, rec + start, i - start);
}

/* A quoted field at *pos: its text without the quotes, "" as one quote (copied to the
 * scratch only when it holds one). */
static int quoted_field(struct sc_fields *fs, const char *rec, size_t len, size_t *pos, uint64_t line,
			struct atr_scoring_error *err)
{
	size_t i = *pos + 1, start = i, o = 0;
	char *out = NULL;

	for (;;) {
		const char *q = memchr(rec + i, '"', len - i);
		size_t k;
		if (!q)
			return sc_fail(err, ATR_SCORING_E_SYNTAX, line, "a quoted field is not closed");
		k = (size_t)(q - rec);
		if (k + 1 < len && rec[k + 1] == '"') {
			if (!out)
				out = fs->scratch + fs->used;
			memcpy(out + o, rec + i, k + 1 - i);
			o += k + 1 - i;
			i = k + 2;
			continue;
		}
		if (out) {
			memcpy(out + o, rec + i, k - i);
			o += k - i;
			fs->used += o;
		}
		*pos = k + 1;
		if (k + 1 < len && rec[k + 1] != ',')
			return sc_fail(err, ATR_SCORING_E_SYNTAX, sc_line_at(rec, k + 1, line),
				       "a character after the closing quote of field %zu", fs->n + 1);
		return out ? push_field(fs, out, o) : push_field(fs, rec + start, k - start);
	}
}

/* The bytes of w equal to c, as 0x80 in their place (exact: no borrow between bytes). */
static uint64_t bytes_eq(uint64_t w, unsigned char c)
{
	uint64_t x = w ^ (ONES * c), low = ONES * 0x7f;
	return ~(((x & low) + low) | x | low);
}

/*
 * The fast path for a record with neither quotes nor carriage returns (most records): split at
 * every ',' eight bytes at a time. Returns 1 when the record has a quote or a CR (nothing
 * done: the byte by byte path takes it, with its messages), 0, or ATR_ENOMEM.
 */
static int split_plain(struct sc_fields *fs, const char *rec, size_t len)
{
	size_t i = 0, start = 0;
	int rc;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; i + 8 <= len; i += 8) {
		uint64_t w, comma;
		memcpy(&w, rec + i, 8);
		if (bytes_eq(w, '"') | bytes_eq(w, '\r'))
			return 1;
		if (fs->n + 8 > fs->cap && (rc = grow_fields(fs, fs->n + 8)) < 0)
			return rc;
		for (comma = bytes_eq(w, ','); comma; comma &= comma - 1) { /* room made for eight */
			size_t at = i + (size_t)__builtin_ctzll(comma) / 8;
			fs->f[fs->n].p = rec + start;
			fs->f[fs->n++].len = at - start;
			start = at + 1;
		}
	}
#endif
	for (; i < len; i++) {
		if (rec[i] == '"' || rec[i] == '\r')
			return 1;
		if (rec[i] == ',') {
			if ((rc = push_field(fs, rec + start, i - start)) < 0)
				return rc;
			start = i + 1;
		}
	}
	return push_field(fs, rec + start, len - start);
}

int sc_csv_split(struct sc_fields *fs, const char *rec, size_t len, uint64_t line, struct atr_scoring_error *err)
{
	size_t i = 0;
	int rc;

	fs->n = 0;
	fs->used = 0;
	if ((rc = split_plain(fs, rec, len)) <= 0)
		return rc;
	fs->n = 0;
	if (fs->scratch_cap < len) {
		char *s = realloc(fs->scratch, len);
		if (!s)
			return ATR_ENOMEM;
		fs->scratch = s;
		fs->scratch_cap = len;
	}
	for (;;) {
		if (i < len && rec[i] == '"')
			rc = quoted_field(fs, rec, len, &i, line, err);
		else
			rc = plain_field(fs, rec, len, &i, line, err);
		if (rc)
			return rc;
		if (i >= len)
			return 0;
		i++; /* the ',' */
	}
}

/*
 * scoring_strip.c: the inputs-only copy of a ground-truth file, which a model evaluated by a
 * batch-inference job is given (it must never see the labels): every record as it was read,
 * checked as the scoring reads it, with the label column (CSV) or key (JSON Lines) removed.
 * Streaming: chunks in, records out through a write callback; memory holds one record.
 * Not here: scoring (scoring.c), where the copy is stored (src/api/evaluation_jobs.c).
 */
#include "scoring_internal.h"
#include "atrium/err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct atr_scoring_strip {
	enum atr_scoring_format fmt;
	char *label;
	atr_scoring_write_fn write;
	void *cls;
	struct sc_reader rd;
	struct sc_fields csv;
	struct atr_buf out;
	struct atr_scoring_error err;
	bool header;
	size_t ncols, drop; /* CSV: the header's column count, the label's index */
};

static bool needs_quotes(const struct sc_str *f)
{
	for (size_t i = 0; i < f->len; i++)
		if (f->p[i] == ',' || f->p[i] == '"' || f->p[i] == '\r' || f->p[i] == '\n')
			return true;
	return false;
}

static int put_field(struct atr_buf *b, const struct sc_str *f)
{
	int rc = 0;

	if (!needs_quotes(f))
		return atr_buf_append(b, f->p, f->len);
	rc |= atr_buf_append(b, "\"", 1);
	for (size_t i = 0; i < f->len && rc == 0; i++)
		rc |= f->p[i] == '"' ? atr_buf_append(b, "\"\"", 2) : atr_buf_append(b, &f->p[i], 1);
	rc |= atr_buf_append(b, "\"", 1);
	return rc ? ATR_ENOMEM : 0;
}

/* The header names the label once; later records have as many fields as the header. */
static int csv_check(struct atr_scoring_strip *s, uint64_t line)
{
	bool found = false;

	if (s->header) {
		if (s->csv.n != s->ncols)
			return sc_fail(&s->err, ATR_SCORING_E_COLUMNS, line, "%zu fields where the header has %zu",
				       s->csv.n, s->ncols);
		return 0;
	}
	for (size_t i = 0; i < s->csv.n; i++)
		if (s->csv.f[i].len == strlen(s->label) && !memcmp(s->csv.f[i].p, s->label, s->csv.f[i].len)) {
			if (found)
				return sc_fail(&s->err, ATR_SCORING_E_HEADER, line, "the column '%s' is twice",
					       s->label);
			found = true;
			s->drop = i;
		}
	if (!found)
		return sc_fail(&s->err, ATR_SCORING_E_HEADER, line, "no column '%s'", s->label);
	s->header = true;
	s->ncols = s->csv.n;
	return 0;
}

static int csv_record(struct atr_scoring_strip *s, const char *p, size_t len, uint64_t line)
{
	bool first = true;
	int rc = sc_csv_split(&s->csv, p, len, line, &s->err);

	if (rc == 0)
		rc = csv_check(s, line);
	for (size_t i = 0; rc == 0 && i < s->csv.n; i++) {
		if (i == s->drop)
			continue;
		if (!first)
			rc = atr_buf_append(&s->out, ",", 1);
		if (rc == 0)
			rc = put_field(&s->out, &s->csv.f[i]);
		first = false;
	}
	return rc;
}

static int json_record(struct atr_scoring_strip *s, const char *p, size_t len, uint64_t line)
{
	json_error_t je;
	json_t *o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je);
	char *text;
	int rc = 0;

	if (!json_is_object(o)) {
		json_decref(o);
		return sc_fail(&s->err, ATR_SCORING_E_SYNTAX, line, "a line must hold one JSON object");
	}
	json_object_del(o, s->label);
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(o);
	if (!text)
		return ATR_ENOMEM;
	rc = atr_buf_puts(&s->out, text);
	free(text);
	return rc;
}

static int on_record(void *arg, const char *p, size_t len, uint64_t line)
{
	struct atr_scoring_strip *s = arg;
	int rc;

	atr_buf_reset(&s->out);
	rc = s->fmt == ATR_SCORING_CSV ? csv_record(s, p, len, line) : json_record(s, p, len, line);
	if (rc == 0)
		rc = atr_buf_append(&s->out, "\n", 1);
	if (rc == 0 && s->write(s->cls, s->out.data, s->out.len) < 0)
		rc = ATR_EIO;
	return rc;
}

int atr_scoring_strip_new(enum atr_scoring_format fmt, const char *label_column, atr_scoring_write_fn write, void *cls,
			  struct atr_scoring_strip **out)
{
	struct atr_scoring_strip *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s || !(s->label = strdup(label_column))) {
		free(s);
		return ATR_ENOMEM;
	}
	s->fmt = fmt;
	s->write = write;
	s->cls = cls;
	atr_buf_init(&s->out, (size_t)ATR_SCORING_RECORD_MAX * 2 + 16);
	sc_reader_init(&s->rd, fmt, on_record, s, &s->err);
	*out = s;
	return 0;
}

int atr_scoring_strip_feed(struct atr_scoring_strip *s, const void *data, size_t len)
{
	return sc_reader_feed(&s->rd, data, len);
}

int atr_scoring_strip_end(struct atr_scoring_strip *s)
{
	int rc = sc_reader_end(&s->rd);

	if (rc == 0 && s->fmt == ATR_SCORING_CSV && !s->header)
		rc = sc_fail(&s->err, ATR_SCORING_E_HEADER, 0, "the file is empty");
	return rc;
}

const struct atr_scoring_error *atr_scoring_strip_error(const struct atr_scoring_strip *s)
{
	return &s->err;
}

void atr_scoring_strip_free(struct atr_scoring_strip *s)
{
	if (!s)
		return;
	sc_reader_release(&s->rd);
	sc_fields_release(&s->csv);
	atr_buf_release(&s->out);
	free(s->label);
	free(s);
}

/*
 * scoring_split.c: a ground truth or a predictions file split in two by its ids, for a
 * competition's custom scorer, which is given the public and the private part of both files
 * (src/api/competition_scorer.c). Each record goes, whole and as it was written, to the side
 * the caller's route function picks for its id; a CSV header goes to both sides. Records are
 * read as the scoring reads them (syntax, field counts, the id column); nothing else of a
 * record is looked at. Streaming: memory holds one record.
 */
#include "scoring_internal.h"
#include "atrium/err.h"

#include <stdlib.h>
#include <string.h>

struct atr_scoring_split {
	struct sc_source src;
	char *id_col;
	size_t col;
	atr_scoring_route_fn route;
	atr_scoring_write2_fn write;
	void *cls;
	size_t rows[2];
};

static int put(struct atr_scoring_split *s, int side, const char *p, size_t len)
{
	if (s->write(s->cls, side, p, len) < 0 || s->write(s->cls, side, "\n", 1) < 0)
		return ATR_EIO;
	return 0;
}

static int on_record(void *arg, const char *p, size_t len, uint64_t line)
{
	struct atr_scoring_split *s = arg;
	struct sc_source *src = &s->src;
	const struct sc_val *v;
	struct sc_val vid;
	struct sc_str id;
	int rc, side;

	if (src->fmt == ATR_SCORING_CSV) {
		if ((rc = sc_csv_split(&src->csv, p, len, line, &src->err)) != 0)
			return rc;
		if (!src->header) {
			if ((rc = sc_header_column(src, s->id_col, line, &s->col)) != 0)
				return rc;
			src->header = true;
			src->ncols = src->csv.n;
			return put(s, 0, p, len) ? ATR_EIO : put(s, 1, p, len);
		}
		if ((rc = sc_csv_count(src, line)) != 0)
			return rc;
		vid = (struct sc_val){ src->csv.f[s->col], SC_TEXT };
		v = &vid;
	} else if ((rc = sc_json_line(&src->json, p, len, line, NULL, &src->err)) != 0 ||
		   (rc = sc_json_find(&src->json, s->id_col, line, &src->err, &v)) != 0) {
		return rc;
	}
	if ((rc = sc_val_text(v, line, "the id", &src->err, &id)) != 0)
		return rc;
	side = s->route(s->cls, id.p, id.len) ? 1 : 0;
	s->rows[side]++;
	return put(s, side, p, len);
}

int atr_scoring_split_new(enum atr_scoring_format fmt, const char *id_column, atr_scoring_route_fn route,
			  atr_scoring_write2_fn write, void *cls, struct atr_scoring_split **out)
{
	struct atr_scoring_split *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s || !(s->id_col = strdup(id_column))) {
		free(s);
		return ATR_ENOMEM;
	}
	s->route = route;
	s->write = write;
	s->cls = cls;
	sc_source_init(&s->src, fmt, on_record, s);
	*out = s;
	return 0;
}

int atr_scoring_split_feed(struct atr_scoring_split *s, const void *data, size_t len)
{
	return sc_source_feed(&s->src, data, len);
}

int atr_scoring_split_end(struct atr_scoring_split *s)
{
	int rc = sc_source_end(&s->src);

	if (rc == 0 && s->src.fmt == ATR_SCORING_CSV && !s->src.header)
		rc = sc_fail(&s->src.err, ATR_SCORING_E_HEADER, 0, "the file is empty");
	return rc;
}

size_t atr_scoring_split_rows(const struct atr_scoring_split *s, int side)
{
	return s->rows[side ? 1 : 0];
}

const struct atr_scoring_error *atr_scoring_split_error(const struct atr_scoring_split *s)
{
	return &s->src.err;
}

void atr_scoring_split_free(struct atr_scoring_split *s)
{
	if (!s)
		return;
	sc_source_release(&s->src);
	free(s->id_col);
	free(s);
}

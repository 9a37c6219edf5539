/*
 * test_scoring.c: the scoring library (include/atrium/scoring.h): parsing CSV and JSON Lines
 * fed in chunks split at every byte, quotes, CRLF, each error kind with its line; each metric
 * on small cases checked by hand; ties, a single class, all predictions wrong, probabilities
 * not summing to one, NaN, empty input, subsets, the confusion matrix.
 *
 * With "--score" as its first argument it is instead the reference tool of
 * tests/scoring/check_sklearn.py: it scores two files and prints the result as JSON
 * (test_scoring --score --metrics a,b [options] TRUTH PREDICTIONS; see score_usage()).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/scoring.h"

#define CSV ATR_SCORING_CSV
#define JSONL ATR_SCORING_JSONL

/* ---- helpers ---- */

struct run {
	struct atr_scoring_truth *t;
	struct atr_scoring *s;
	int rc;
	int stage; /* where it failed: 1 truth, 2 predictions */
	struct atr_scoring_error err;
};

/* Feeds text: the bytes before split at once, then the rest in chunks of chunk (0: at once). */
static int feed(void *obj, bool truth, const char *text, size_t split, size_t chunk)
{
	size_t len = strlen(text), i = 0;
	int rc = 0;

	if (split > len)
		split = len;
	if (split > 0)
		rc = truth ? atr_scoring_truth_feed(obj, text, split) : atr_scoring_feed(obj, text, split);
	for (i = split; rc == 0 && i < len;) {
		size_t n = chunk && chunk < len - i ? chunk : len - i;
		rc = truth ? atr_scoring_truth_feed(obj, text + i, n) : atr_scoring_feed(obj, text + i, n);
		i += n;
	}
	if (rc == 0)
		rc = truth ? atr_scoring_truth_end(obj) : atr_scoring_end(obj);
	return rc;
}

static void run_release(struct run *r)
{
	atr_scoring_free(r->s);
	atr_scoring_truth_free(r->t);
	memset(r, 0, sizeof(*r));
}

/* Loads a truth and scores predictions; split and chunk apply to both files. */
static int run(struct run *r, const struct atr_scoring_spec *sp, enum atr_scoring_format tf, const char *truth,
	       enum atr_scoring_format pf, const char *pred, size_t split, size_t chunk)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(atr_scoring_truth_new(sp, tf, &r->t), 0);
	r->rc = feed(r->t, true, truth, split, chunk);
	if (r->rc) {
		r->stage = 1;
		r->err = *atr_scoring_truth_error(r->t);
		return r->rc;
	}
	assert_int_equal(atr_scoring_new(r->t, pf, &r->s), 0);
	r->rc = feed(r->s, false, pred, split, chunk);
	if (r->rc) {
		r->stage = 2;
		r->err = *atr_scoring_error(r->s);
	}
	return r->rc;
}

/* a spec of the metrics in the array m */
#define SPEC(m)                                                         \
	{                                                               \
		.metrics = (m), .n_metrics = sizeof(m) / sizeof((m)[0]) \
	}

static double value_of(const struct atr_scoring_result *res, const char *metric)
{
	for (size_t i = 0; i < res->n; i++)
		if (strcmp(res->values[i].metric, metric) == 0)
			return res->values[i].defined ? res->values[i].value : NAN;
	fail_msg("no metric %s", metric);
	return NAN;
}

static void assert_close(double a, double b)
{
	if (!(fabs(a - b) <= 1e-12 * fmax(1, fmax(fabs(a), fabs(b)))))
		fail_msg("%.17g != %.17g", a, b);
}

/* Scores and computes over all rows; fails the test on any error. */
static void score_ok(const struct atr_scoring_spec *sp, enum atr_scoring_format tf, const char *truth,
		     enum atr_scoring_format pf, const char *pred, struct atr_scoring_result *res)
{
	struct run r;
	if (run(&r, sp, tf, truth, pf, pred, 0, 0) != 0)
		fail_msg("stage %d: %s", r.stage, r.err.message);
	assert_int_equal(atr_scoring_compute(r.s, NULL, res), 0);
	run_release(&r);
}

/* ---- parsing: chunks split at every byte ---- */

/* Scores truth and pred whole, then split at every byte, then a byte at a time: the same
 * result each time, to the bit. */
static void check_chunks(const struct atr_scoring_spec *sp, enum atr_scoring_format fmt, const char *truth,
			 const char *pred, struct atr_scoring_result *whole)
{
	size_t most = strlen(truth) > strlen(pred) ? strlen(truth) : strlen(pred);
	struct atr_scoring_result res;
	struct run r;

	if (run(&r, sp, fmt, truth, fmt, pred, 0, 0) != 0)
		fail_msg("stage %d: %s", r.stage, r.err.message);
	assert_int_equal(atr_scoring_compute(r.s, NULL, whole), 0);
	run_release(&r);
	for (size_t split = 0; split <= most + 1; split++) {
		for (int one = 0; one < 2; one++) {
			if (run(&r, sp, fmt, truth, fmt, pred, split, one ? 1 : 0) != 0)
				fail_msg("split %zu: stage %d: %s", split, r.stage, r.err.message);
			assert_int_equal(atr_scoring_compute(r.s, NULL, &res), 0);
			assert_int_equal(res.rows, whole->rows);
			for (size_t i = 0; i < res.n; i++) {
				assert_int_equal(res.values[i].defined, whole->values[i].defined);
				if (res.values[i].defined)
					assert_memory_equal(&res.values[i].value, &whole->values[i].value,
							    sizeof(double));
			}
			run_release(&r);
		}
	}
}

static void test_csv_chunks(void **state)
{
	static const char *const m[] = { "accuracy", "balanced_accuracy", "f1_macro",
					 "log_loss", "roc_auc_ovr",	  "top_k_accuracy" };
	struct atr_scoring_spec sp = SPEC(m);
	/* a byte-order mark, CRLF, quotes with a doubled quote, a comma and a line feed inside,
	 * an empty field, a blank line, no line feed at the end */
	const char *truth = "\xef\xbb\xbfid,label,extra\r\n"
			    "a1,cat,\"x, y\"\r\n"
			    "\"a2\",dog,\r\n"
			    "\"a\"\"3\",cat,\"multi\nline\"\r\n"
			    "\r\n"
			    "a4,\"bird, small\",z\r\n"
			    "a5,dog,q";
	const char *pred = "id,prediction,proba_cat,proba_dog,\"proba_bird, small\"\n"
			   "a1,cat,0.7,0.2,0.1\n"
			   "\"a\"\"3\",dog,0.3,0.6,0.1\n"
			   "a2,dog,0.1,0.8,0.1\n"
			   "a4,\"bird, small\",0.2,0.2,0.6\n"
			   "a5,cat,0.5,0.4,0.1\n";
	struct atr_scoring_result res;
	(void)state;

	check_chunks(&sp, CSV, truth, pred, &res);
	assert_int_equal(res.rows, 5);
	assert_close(value_of(&res, "accuracy"), 0.6);
	/* recalls: bird 1, cat 1/2, dog 1/2 */
	assert_close(value_of(&res, "balanced_accuracy"), (1 + 0.5 + 0.5) / 3);
	assert_close(value_of(&res, "log_loss"),
		     -(log(0.6) + log(0.7) + log(0.3) + log(0.8) + log(0.4)) / 5); /* each row sums to one */
	assert_close(value_of(&res, "top_k_accuracy"), 1.0);
}

static void test_jsonl_chunks(void **state)
{
	static const char *const m[] = { "accuracy", "log_loss", "roc_auc_ovr_weighted" };
	struct atr_scoring_spec sp = SPEC(m);
	/* escapes (a quote, \u00e9, a surrogate pair), a number id, nested values skipped, CRLF,
	 * a blank line, keys in any order; probabilities flat or under "proba" */
	const char *truth = "{\"id\": \"a1\", \"label\": \"cat\", \"x\": [1, {\"y\": null}, \"}\"]}\n"
			    "{\"id\": 2, \"label\": \"dog\"}\r\n"
			    "   \n"
			    "{\"label\": \"caf\\u00e9\", \"id\": \"a\\\"3\"}\n"
			    "{\"id\":\"a4\",\"label\":\"\\ud83d\\ude00\"}";
	const char *pred =
		"{\"id\":\"a1\",\"prediction\":\"cat\",\"proba\":{\"cat\":0.5,\"dog\":0.25,\"café\":0.125,\"😀\":0.125}}"
		"\n"
		"{\"id\":\"2\",\"prediction\":\"dog\",\"proba_cat\":0.1,\"proba_dog\":0.7,\"proba_caf\\u00e9\":0.1,"
		"\"proba_\\ud83d\\ude00\":0.1}\n"
		"{\"id\":\"a\\\"3\",\"prediction\":\"café\",\"proba\":{\"cat\":0.1,\"dog\":0.1,\"café\":0.7,\"😀\":0.1}}"
		"\n"
		"{\"id\":\"a4\",\"prediction\":\"cat\",\"proba\":{\"cat\":0.4,\"dog\":0.2,\"café\":0.2,\"😀\":0.2}}\n";
	struct atr_scoring_result res;
	(void)state;

	check_chunks(&sp, JSONL, truth, pred, &res);
	assert_int_equal(res.rows, 4);
	assert_close(value_of(&res, "accuracy"), 0.75);
	assert_close(value_of(&res, "log_loss"), -(log(0.5) + log(0.7) + log(0.7) + log(0.2)) / 4);
	/* each class against the rest is separated perfectly */
	assert_close(value_of(&res, "roc_auc_ovr_weighted"), 1.0);
}

/* ---- errors ---- */

struct bad {
	enum atr_scoring_format tf;
	const char *truth;
	enum atr_scoring_format pf;
	const char *pred;
	int reg; /* a regression spec */
	int stage;
	enum atr_scoring_errkind kind;
	uint64_t line;
	const char *says;
};

#define T_OK "id,label\na,x\nb,y\n"
#define P_HEAD "id,prediction,proba_x,proba_y\n"
#define P_OK P_HEAD "a,x,0.9,0.1\nb,y,0.2,0.8\n"
#define J_OK "{\"id\":\"a\",\"label\":\"x\"}\n{\"id\":\"b\",\"label\":\"y\"}\n"

static const struct bad bads[] = {
	/* the ground truth */
	{ CSV, "id,lab\na,x\n", CSV, P_OK, 0, 1, ATR_SCORING_E_HEADER, 1, "no column 'label'" },
	{ CSV, "id,label,label\na,x,y\n", CSV, P_OK, 0, 1, ATR_SCORING_E_HEADER, 1, "column 'label' appears twice" },
	{ CSV, "id,label\na,x\nb\n", CSV, P_OK, 0, 1, ATR_SCORING_E_COLUMNS, 3, "1 fields where the header has 2" },
	{ CSV, "id,label\na,x\n\nb,y\na,y\n", CSV, P_OK, 0, 1, ATR_SCORING_E_DUPLICATE, 5,
	  "id 'a' appears twice (first on line 2)" },
	{ CSV, "id,label\n,x\n", CSV, P_OK, 0, 1, ATR_SCORING_E_EMPTY, 2, "the id is empty" },
	{ CSV, "id,label\na,\n", CSV, P_OK, 0, 1, ATR_SCORING_E_EMPTY, 2, "the label is empty" },
	{ CSV, "id,label\na,x\nb,\xff\n", CSV, P_OK, 0, 1, ATR_SCORING_E_ENCODING, 3, "byte 0xff is not UTF-8" },
	{ CSV, "id,label\na,\"x\ny\xc3\x28\"\n", CSV, P_OK, 0, 1, ATR_SCORING_E_ENCODING, 3, "0xc3" },
	{ CSV, "id,label\na,\xed\xa0\x80\n", CSV, P_OK, 0, 1, ATR_SCORING_E_ENCODING, 2, "not UTF-8" },
	{ CSV, "id,label\n", CSV, P_OK, 0, 1, ATR_SCORING_E_EMPTY, 0, "the ground truth has no rows" },
	{ CSV, "", CSV, P_OK, 0, 1, ATR_SCORING_E_HEADER, 1, "an empty file: no header" },
	{ CSV, "\n\n", CSV, P_OK, 0, 1, ATR_SCORING_E_HEADER, 1, "no header" },
	{ CSV, "id,label\na,x\"y\"\nb,z\n", CSV, P_OK, 0, 1, ATR_SCORING_E_SYNTAX, 2,
	  "a quote inside an unquoted field" },
	{ CSV, "id,label\na,\"x\"y\n", CSV, P_OK, 0, 1, ATR_SCORING_E_SYNTAX, 2, "after the closing quote" },
	{ CSV, "id,label\ra,x\n", CSV, P_OK, 0, 1, ATR_SCORING_E_SYNTAX, 1, "a carriage return outside quotes" },
	{ CSV, "id,label\na,\"x\nb,y\n", CSV, P_OK, 0, 1, ATR_SCORING_E_SYNTAX, 2, "a quoted field is not closed" },
	{ JSONL, "{\"id\":\"a\",\"label\":\"x\\u0000\"}\n", CSV, P_OK, 0, 1, ATR_SCORING_E_ENCODING, 1, "NUL" },
	{ JSONL, "{\"id\":\"a\",\"label\":\"\\udc00\"}\n", CSV, P_OK, 0, 1, ATR_SCORING_E_ENCODING, 1, "surrogate" },
	{ JSONL, J_OK "{\"id\":\"c\",\"label\":null}\n", CSV, P_OK, 0, 1, ATR_SCORING_E_EMPTY, 3, "the label is null" },
	{ JSONL, J_OK "{\"id\":\"c\",\"label\":\"x\",}\n", CSV, P_OK, 0, 1, ATR_SCORING_E_SYNTAX, 3, "not JSON" },
	{ JSONL, J_OK "[1]\n", CSV, P_OK, 0, 1, ATR_SCORING_E_SYNTAX, 3, "a line must hold an object" },
	{ JSONL, J_OK "{\"id\":\"c\"}\n", CSV, P_OK, 0, 1, ATR_SCORING_E_COLUMNS, 3, "no key 'label'" },
	{ JSONL, "{\"id\":\"a\",\"id\":\"b\",\"label\":\"x\"}\n", CSV, P_OK, 0, 1, ATR_SCORING_E_SYNTAX, 1,
	  "key 'id' appears twice" },
	{ JSONL, "{\"id\":\"a\",\"label\":\"x\"} x\n", CSV, P_OK, 0, 1, ATR_SCORING_E_SYNTAX, 1,
	  "text after the object" },
	{ CSV, "id,label\na,1\nb,abc\n", CSV, P_OK, 1, 1, ATR_SCORING_E_NUMBER, 3, "the label 'abc' is not a number" },
	{ CSV, "id,label\na,-Infinity\n", CSV, P_OK, 1, 1, ATR_SCORING_E_NAN, 2, "NaN and infinities are not allowed" },
	{ CSV, "id,label\na,1e999\n", CSV, P_OK, 1, 1, ATR_SCORING_E_NUMBER, 2, "out of range" },
	{ CSV, "id,label\na,0x10\n", CSV, P_OK, 1, 1, ATR_SCORING_E_NUMBER, 2, "not a number" },
	{ JSONL, "{\"id\":\"a\",\"label\":\"1.5\"}\n", CSV, P_OK, 1, 1, ATR_SCORING_E_NUMBER, 1, "not a number" },
	{ JSONL, "{\"id\":\"a\",\"label\":NaN}\n", CSV, P_OK, 1, 1, ATR_SCORING_E_NAN, 1, "NaN" },
	{ CSV, "id,label\na,x\nb,y\nc,z\n", CSV, P_OK, 2, 1, ATR_SCORING_E_LIMIT, 4, "more than 2 distinct labels" },
	{ CSV, "id,label\na,x\na,y\nb,\n", CSV, P_OK, 0, 1, ATR_SCORING_E_DUPLICATE, 3, "id 'a' appears twice" },
	/* the predictions: an id's error comes before a later line's error of any kind */
	{ CSV, T_OK, CSV, P_HEAD "a,x,0.9,0.1\nc,x,0.5,0.5\nb,y,abc,0.1\n", 0, 2, ATR_SCORING_E_EXTRA, 3, "id 'c'" },
	{ CSV, T_OK, CSV, P_HEAD "a,x,0.9,0.1\na,x,0.9,0.1\nb,y,0.2,0.8\n\"x\n", 0, 2, ATR_SCORING_E_DUPLICATE, 3,
	  "id 'a'" },
	{ CSV, T_OK, CSV, P_HEAD "c,x,0.9,0.1\n\xff\n", 0, 2, ATR_SCORING_E_EXTRA, 2, "id 'c'" },
	{ CSV, T_OK, CSV, P_HEAD "c,x,0.9,0.1\nb,y\n", 0, 2, ATR_SCORING_E_EXTRA, 2, "id 'c'" },
	{ CSV, T_OK, CSV, P_HEAD "a,x,0.9,0.1\nb,y,0.1,0.9\nc,x,0.5,0.5\n", 0, 2, ATR_SCORING_E_EXTRA, 4, "id 'c'" },
	{ CSV, T_OK, CSV, P_HEAD "a,x,0.9,0.1\n", 0, 2, ATR_SCORING_E_MISSING, 0,
	  "id 'b' of the ground truth has no prediction: 1 of 2 ids have none" },
	{ CSV, T_OK, CSV, P_OK "c,x,0.5,0.5\n", 0, 2, ATR_SCORING_E_EXTRA, 4, "id 'c' is not in the ground truth" },
	{ CSV, T_OK, CSV, P_OK "c\x01,x,0.5,0.5\n", 0, 2, ATR_SCORING_E_EXTRA, 4, "id 'c\\x01'" },
	{ CSV, T_OK, CSV, P_HEAD "a,x,0.9,0.1\n\n\"a\",x,0.9,0.1\n", 0, 2, ATR_SCORING_E_DUPLICATE, 4,
	  "id 'a' appears twice (first on line 2)" },
	{ CSV, T_OK, CSV, P_HEAD "a,x,abc,0.1\n", 0, 2, ATR_SCORING_E_NUMBER, 2,
	  "the probability of class 'x' 'abc' is not a number" },
	{ CSV, T_OK, CSV, P_HEAD "a,x,0.9,0.1\nb,y, NaN ,0.1\n", 0, 2, ATR_SCORING_E_NAN, 3, "class 'x'" },
	{ CSV, T_OK, CSV, P_HEAD "a,x,,0.1\n", 0, 2, ATR_SCORING_E_NUMBER, 2, "'' is not a number" },
	{ CSV, T_OK, CSV, P_HEAD "a,,0.9,0.1\n", 0, 2, ATR_SCORING_E_EMPTY, 2, "the prediction is empty" },
	{ CSV, T_OK, CSV, "id,prediction,proba_x\na,x,1\n", 0, 2, ATR_SCORING_E_HEADER, 1,
	  "no probability column (proba_<class>) for class 'y'" },
	{ CSV, T_OK, CSV, "id,prediction\na,x\n", 0, 2, ATR_SCORING_E_HEADER, 1, "no probability columns" },
	{ CSV, T_OK, CSV, "id,proba_x,proba_y\na,1,0\n", 0, 2, ATR_SCORING_E_HEADER, 1, "no column 'prediction'" },
	{ CSV, T_OK, CSV, "id,prediction,proba_x,proba_y,proba_x\na,x,1,0,1\n", 0, 2, ATR_SCORING_E_HEADER, 1,
	  "two probability columns for class 'x'" },
	{ CSV, T_OK, CSV, P_HEAD "a,x,0.9\n", 0, 2, ATR_SCORING_E_COLUMNS, 2, "3 fields where the header has 4" },
	{ CSV, T_OK, CSV, "", 0, 2, ATR_SCORING_E_HEADER, 1, "no header" },
	{ CSV, T_OK, JSONL, "", 0, 2, ATR_SCORING_E_MISSING, 0, "id 'a'" },
	{ CSV, T_OK, JSONL, "{\"id\":\"a\",\"prediction\":\"x\",\"proba_x\":NaN,\"proba_y\":0.1}\n", 0, 2,
	  ATR_SCORING_E_NAN, 1, "the probability of class 'x' is NaN or infinite" },
	{ CSV, T_OK, JSONL, "{\"id\":\"a\",\"prediction\":\"x\",\"proba\":{\"x\":null,\"y\":0.1}}\n", 0, 2,
	  ATR_SCORING_E_NAN, 1, "is null" },
	{ CSV, T_OK, JSONL, "{\"id\":\"a\",\"prediction\":\"x\",\"proba\":{\"x\":\"0.5\",\"y\":0.1}}\n", 0, 2,
	  ATR_SCORING_E_NUMBER, 1, "is not a number" },
	{ CSV, T_OK, JSONL, "{\"id\":\"a\",\"proba_x\":1,\"proba_y\":0}\n", 0, 2, ATR_SCORING_E_COLUMNS, 1,
	  "no key 'prediction'" },
	{ CSV, T_OK, JSONL,
	  "{\"id\":\"a\",\"prediction\":\"x\",\"proba_x\":1,\"proba_y\":0}\n"
	  "{\"id\":\"b\",\"prediction\":\"x\",\"proba_x\":1,\"proba_y\":0,\"proba_z\":0}\n",
	  0, 2, ATR_SCORING_E_COLUMNS, 2, "a probability for class 'z', which the first line does not have" },
	{ CSV, T_OK, JSONL,
	  "{\"id\":\"a\",\"prediction\":\"x\",\"proba_x\":1,\"proba_y\":0}\n"
	  "{\"id\":\"b\",\"prediction\":\"x\",\"proba\":{\"y\":0}}\n",
	  0, 2, ATR_SCORING_E_COLUMNS, 2, "no probability for class 'x'" },
	{ CSV, T_OK, JSONL,
	  "{\"id\":\"a\",\"prediction\":\"x\",\"proba_x\":1,\"proba_y\":0}\n"
	  "{\"id\":\"b\",\"prediction\":\"x\",\"proba_x\":1,\"proba\":{\"x\":1,\"y\":0}}\n",
	  0, 2, ATR_SCORING_E_COLUMNS, 2, "two probabilities for class 'x'" },
	{ CSV, T_OK, JSONL, "{\"id\":\"a\",\"prediction\":\"x\",\"proba_x\":1,\"proba\":{\"x\":1,\"y\":0}}\n", 0, 2,
	  ATR_SCORING_E_HEADER, 1, "two probability columns for class 'x'" },
	{ CSV, T_OK, JSONL, "{\"id\":\"a\",\"prediction\":\"x\",\"proba\":[0.5,0.5]}\n", 0, 2, ATR_SCORING_E_SYNTAX, 1,
	  "key 'proba' must hold an object" },
	{ CSV, T_OK, JSONL, "{\"id\":\"a\",\"prediction\":\"x\",\"proba\":{\"x\":1,\"y\":0}\n", 0, 2,
	  ATR_SCORING_E_SYNTAX, 1, "not JSON: expected ',' or '}' at the end of the line" },
	{ CSV, "id,label\na,1\n", JSONL, "{\"id\":\"a\",\"prediction\":null}\n", 1, 2, ATR_SCORING_E_NAN, 1,
	  "the prediction is null" },
	{ CSV, "id,label\na,1\n", CSV, "id,prediction\na,inf\n", 1, 2, ATR_SCORING_E_NAN, 2,
	  "the prediction is 'inf'" },
};

static void test_errors(void **state)
{
	static const char *const cls[] = { "accuracy", "log_loss" };
	static const char *const reg[] = { "rmse" };
	(void)state;

	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct atr_scoring_spec sp = SPEC(cls);
		struct run r;
		if (b->reg == 1)
			sp = (struct atr_scoring_spec)SPEC(reg);
		if (b->reg == 2)
			sp.max_classes = 2;
		assert_int_equal(run(&r, &sp, b->tf, b->truth, b->pf, b->pred, 0, 0), ATR_EUNPROCESSABLE);
		if (r.stage != b->stage || r.err.kind != b->kind || r.err.line != b->line ||
		    !strstr(r.err.message, b->says))
			fail_msg("case %zu: stage %d kind %s line %llu: %s", i, r.stage,
				 atr_scoring_errkind_name(r.err.kind), (unsigned long long)r.err.line, r.err.message);
		/* the first error sticks */
		if (r.stage == 1)
			assert_int_equal(atr_scoring_truth_feed(r.t, "x", 1), ATR_EUNPROCESSABLE);
		else
			assert_int_equal(atr_scoring_feed(r.s, "x", 1), ATR_EUNPROCESSABLE);
		run_release(&r);
	}
}

/* Rows are matched to their ids in batches: errors keep the order of the lines across
 * batches, chunk boundaries and kinds (an id's error, found late, against a later line's
 * syntax error, found at once). */
static void test_batches(void **state)
{
	static const char *const m[] = { "accuracy" };
	struct atr_scoring_spec sp = SPEC(m);
	char truth[8192], pred[8192];
	size_t tn, pn;
	struct run r;
	(void)state;

	tn = (size_t)snprintf(truth, sizeof(truth), "id,label\n");
	for (int i = 0; i < 100; i++)
		tn += (size_t)snprintf(truth + tn, sizeof(truth) - tn, "i%d,%c\n", i, 'a' + i % 3);
	for (int bad = 0; bad < 3; bad++) {
		pn = (size_t)snprintf(pred, sizeof(pred), "id,prediction\n");
		for (int i = 0; i < 100; i++) {
			int id = i;
			if (i == 69 && bad == 0)
				id = 10; /* line 71 repeats line 12 */
			if (i == 32 && bad == 1)
				id = 1000; /* line 34: an extra id, then a syntax error on line 35 */
			pn += (size_t)snprintf(pred + pn, sizeof(pred) - pn, "i%d,%s\n", id,
					       bad == 1 && i == 33 ? "\"a\"b" : "a");
		}
		if (bad == 2) /* all fine: a missing id is the only error (i7 twice would not be) */
			pn = (size_t)snprintf(pred, sizeof(pred), "id,prediction\ni7,a\n");
		for (size_t chunk = 1; chunk < 40; chunk += 13) {
			assert_int_equal(run(&r, &sp, CSV, truth, CSV, pred, 0, chunk), ATR_EUNPROCESSABLE);
			if (bad == 0) {
				assert_int_equal(r.err.kind, ATR_SCORING_E_DUPLICATE);
				assert_int_equal(r.err.line, 71);
				assert_non_null(strstr(r.err.message, "id 'i10' appears twice (first on line 12)"));
			} else if (bad == 1) {
				assert_int_equal(r.err.kind, ATR_SCORING_E_EXTRA);
				assert_int_equal(r.err.line, 34);
			} else {
				assert_int_equal(r.err.kind, ATR_SCORING_E_MISSING);
				assert_non_null(strstr(r.err.message, "id 'i0'"));
				assert_non_null(strstr(r.err.message, "99 of 100"));
			}
			run_release(&r);
		}
	}
}

/* A NUL byte, and a record over the size cap. */
static void test_bytes_and_limits(void **state)
{
	static const char *const m[] = { "accuracy" };
	struct atr_scoring_spec sp = SPEC(m);
	struct atr_scoring_truth *t;
	size_t big = ATR_SCORING_RECORD_MAX + 100;
	char *s = malloc(big);
	(void)state;

	assert_int_equal(atr_scoring_truth_new(&sp, CSV, &t), 0);
	assert_int_equal(atr_scoring_truth_feed(t, "id,label\na,x\0y\n", 15), ATR_EUNPROCESSABLE);
	assert_int_equal(atr_scoring_truth_error(t)->kind, ATR_SCORING_E_ENCODING);
	assert_int_equal(atr_scoring_truth_error(t)->line, 2);
	assert_non_null(strstr(atr_scoring_truth_error(t)->message, "NUL"));
	atr_scoring_truth_free(t);

	assert_non_null(s);
	memset(s, 'x', big);
	memcpy(s, "id,label\na,", 11);
	for (int whole = 0; whole < 2; whole++) {
		int rc = 0;
		assert_int_equal(atr_scoring_truth_new(&sp, CSV, &t), 0);
		for (size_t i = 0; rc == 0 && i < big; i += whole ? big : 4096)
			rc = atr_scoring_truth_feed(t, s + i, big - i < 4096 || whole ? big - i : 4096);
		if (rc == 0)
			rc = atr_scoring_truth_end(t);
		assert_int_equal(rc, ATR_EUNPROCESSABLE);
		assert_int_equal(atr_scoring_truth_error(t)->kind, ATR_SCORING_E_LIMIT);
		assert_int_equal(atr_scoring_truth_error(t)->line, 2);
		atr_scoring_truth_free(t);
	}
	free(s);
}

/* ---- metrics on small cases checked by hand ---- */

/* y = 1 0 1 1 0, predicted 1 0 0 1 1, P(1) = .8 .4 .4 .4 .1 (a tie across the classes at .4) */
#define BIN_TRUTH "id,label\nr1,1\nr2,0\nr3,1\nr4,1\nr5,0\n"
#define BIN_PRED "id,prediction,proba_0,proba_1\nr1,1,0.2,0.8\nr2,0,0.6,0.4\nr3,0,0.6,0.4\nr4,1,0.6,0.4\nr5,1,0.9,0.1\n"

static void test_binary(void **state)
{
	static const char *const m[] = { "accuracy",	 "balanced_accuracy", "precision",	    "recall",
					 "f1",		 "precision_macro",   "recall_weighted",    "f1_micro",
					 "roc_auc",	 "log_loss",	      "top_k_accuracy",	    "roc_auc_ovr",
					 "recall_macro", "f1_weighted",	      "precision_weighted", "precision_micro" };
	struct atr_scoring_spec sp = SPEC(m);
	struct atr_scoring_result res;
	(void)state;

	sp.top_k = 1;
	score_ok(&sp, CSV, BIN_TRUTH, CSV, BIN_PRED, &res);
	assert_close(value_of(&res, "accuracy"), 0.6);
	assert_close(value_of(&res, "balanced_accuracy"), (0.5 + 2.0 / 3) / 2);
	assert_close(value_of(&res, "precision"), 2.0 / 3); /* tp 2 of 3 predicted 1 */
	assert_close(value_of(&res, "recall"), 2.0 / 3);
	assert_close(value_of(&res, "f1"), 2.0 / 3);
	assert_close(value_of(&res, "precision_macro"), (0.5 + 2.0 / 3) / 2);
	assert_close(value_of(&res, "recall_macro"), (0.5 + 2.0 / 3) / 2);
	assert_close(value_of(&res, "recall_weighted"), 0.6);
	assert_close(value_of(&res, "precision_weighted"), (0.5 * 2 + 2.0 / 3 * 3) / 5);
	assert_close(value_of(&res, "f1_weighted"), (0.5 * 2 + 2.0 / 3 * 3) / 5);
	assert_close(value_of(&res, "f1_micro"), 0.6);
	assert_close(value_of(&res, "precision_micro"), 0.6);
	/* positives .8 .4 .4 against .4 .1: 2 + 1.5 + 1.5 of 6 pairs */
	assert_close(value_of(&res, "roc_auc"), 5.0 / 6);
	assert_close(value_of(&res, "roc_auc_ovr"), 5.0 / 6);
	assert_close(value_of(&res, "log_loss"), -(log(0.8) + log(0.6) + 2 * log(0.4) + log(0.9)) / 5);
	/* two classes: P(1) over 0.5 is the prediction: right for r1 r2 r5 */
	assert_close(value_of(&res, "top_k_accuracy"), 0.6);

	sp.pos_label = "0";
	score_ok(&sp, CSV, BIN_TRUTH, CSV, BIN_PRED, &res);
	assert_close(value_of(&res, "precision"), 0.5);
	assert_close(value_of(&res, "recall"), 0.5);
	assert_close(value_of(&res, "roc_auc"), 5.0 / 6);
}

/* The edges: a single class, all wrong, a label only predicted, a positive label absent. */
static void test_edges(void **state)
{
	static const char *const m[] = { "accuracy",	 "precision",	    "f1_macro",
					 "roc_auc",	 "log_loss",	    "balanced_accuracy",
					 "recall_macro", "precision_macro", "roc_auc_ovr" };
	struct atr_scoring_spec sp = SPEC(m);
	struct atr_scoring_result res;
	(void)state;

	/* one class in the ground truth: ROC AUC undefined, the rest fine */
	score_ok(&sp, CSV, "id,label\na,1\nb,1\n", CSV, "id,prediction,proba_0,proba_1\na,1,0.1,0.9\nb,1,0.4,0.6\n",
		 &res);
	assert_close(value_of(&res, "accuracy"), 1);
	assert_close(value_of(&res, "precision"), 1);
	assert_true(isnan(value_of(&res, "roc_auc")));
	assert_non_null(strstr(res.values[3].why, "only one class"));
	assert_true(isnan(value_of(&res, "roc_auc_ovr")));
	assert_close(value_of(&res, "log_loss"), -(log(0.9) + log(0.6)) / 2);
	/* the positive label absent from a one-label set: 0, as sklearn */
	sp.pos_label = "z";
	score_ok(&sp, CSV, "id,label\na,1\nb,1\n", CSV, "id,prediction,proba_1,proba_z\na,1,1,0\nb,1,1,0\n", &res);
	assert_close(value_of(&res, "precision"), 0);
	/* ...and undefined from a two-label set */
	score_ok(&sp, CSV, "id,label\na,1\nb,0\n", CSV, "id,prediction,proba_0,proba_1,proba_z\na,1,0,1,0\nb,1,1,0,0\n",
		 &res);
	assert_true(isnan(value_of(&res, "precision")));
	sp.pos_label = NULL;

	/* all wrong */
	score_ok(&sp, CSV, "id,label\na,1\nb,0\n", CSV, "id,prediction,proba_0,proba_1\na,0,1,0\nb,1,0,1\n", &res);
	assert_close(value_of(&res, "accuracy"), 0);
	assert_close(value_of(&res, "f1_macro"), 0);
	assert_close(value_of(&res, "balanced_accuracy"), 0);
	assert_close(value_of(&res, "roc_auc"), 0);
	/* probabilities of 0 and 1 clipped to eps: -log(eps) per row */
	assert_close(value_of(&res, "log_loss"), -log(DBL_EPSILON));

	/* a label only predicted counts in the macro averages, not in balanced accuracy */
	score_ok(&sp, CSV, "id,label\na,1\nb,1\n", CSV, "id,prediction,proba_1,proba_z\na,1,1,0\nb,z,1,0\n", &res);
	assert_close(value_of(&res, "precision_macro"), 0.5); /* 1: 1 of 1, z: 0 of 1 */
	assert_close(value_of(&res, "recall_macro"), 0.25);   /* 1: 1 of 2, z: no true rows: 0 */
	assert_close(value_of(&res, "balanced_accuracy"), 0.5);
	assert_close(value_of(&res, "precision"), 1); /* labels 1 and z: binary, "1" is one of them */
}

/* Top-k with ties (the greater class first, as np.argsort(kind="mergesort")[::-1]) and
 * probabilities that do not sum to one. */
static void test_multiclass(void **state)
{
	static const char *const m[] = { "top_k_accuracy", "log_loss", "roc_auc_ovr", "accuracy" };
	struct atr_scoring_spec sp = SPEC(m);
	struct atr_scoring_result res;
	const char *truth = "id,label\nu,a\nv,b\nw,c\n";
	const char *pred = "id,prediction,proba_c,proba_b,proba_a\nu,c,0.4,0.3,0.3\nv,c,0.4,0.3,0.3\nw,c,0.4,0.3,0.3\n";
	(void)state;

	/* u (a): b ties and ranks above, c above: third; v (b): second; w (c): first */
	sp.top_k = 1;
	score_ok(&sp, CSV, truth, CSV, pred, &res);
	assert_close(value_of(&res, "top_k_accuracy"), 1.0 / 3);
	sp.top_k = 2;
	score_ok(&sp, CSV, truth, CSV, pred, &res);
	assert_close(value_of(&res, "top_k_accuracy"), 2.0 / 3);
	sp.top_k = 3;
	score_ok(&sp, CSV, truth, CSV, pred, &res);
	assert_close(value_of(&res, "top_k_accuracy"), 1);

	/* rows summing to 0.8: log loss renormalises; multiclass ROC AUC refuses (sklearn raises) */
	pred = "id,prediction,proba_c,proba_b,proba_a\nu,a,0.1,0.1,0.6\nv,b,0.2,0.4,0.2\nw,c,0.4,0.2,0.2\n";
	score_ok(&sp, CSV, truth, CSV, pred, &res);
	assert_close(value_of(&res, "log_loss"), -(log(0.6 / 0.8) + log(0.4 / 0.8) + log(0.4 / 0.8)) / 3);
	assert_true(isnan(value_of(&res, "roc_auc_ovr")));
	assert_non_null(strstr(res.values[2].why, "sum to one"));
	assert_close(value_of(&res, "accuracy"), 1);
}

static void test_regression(void **state)
{
	static const char *const m[] = { "rmse", "mae", "r2", "mape" };
	struct atr_scoring_spec sp = SPEC(m);
	struct atr_scoring_result res;
	(void)state;

	/* scikit-learn's documentation examples */
	score_ok(&sp, CSV, "id,label\na,3\nb,-0.5\nc,2\nd,7\n", JSONL,
		 "{\"id\":\"a\",\"prediction\":2.5}\n{\"id\":\"b\",\"prediction\":0.0}\n{\"id\":\"c\",\"prediction\":2}"
		 "\n"
		 "{\"id\":\"d\",\"prediction\":8}\n",
		 &res);
	assert_close(value_of(&res, "rmse"), sqrt(0.375));
	assert_close(value_of(&res, "mae"), 0.5);
	assert_close(value_of(&res, "r2"), 0.9486081370449679);
	assert_close(value_of(&res, "mape"), (0.5 / 3 + 1 + 0 + 1.0 / 7) / 4);
	/* constant y_true: 1 when exact, else 0 (force_finite) */
	score_ok(&sp, CSV, "id,label\na,1\nb,1\nc,1\n", CSV, "id,prediction\na,1\nb,1\nc,1.0\n", &res);
	assert_close(value_of(&res, "r2"), 1);
	score_ok(&sp, CSV, "id,label\na,1\nb,1\nc,1\n", CSV, "id,prediction\na,1\nb,2\nc,1\n", &res);
	assert_close(value_of(&res, "r2"), 0);
	/* one row: no r2 */
	score_ok(&sp, CSV, "id,label\na,1\n", CSV, "id,prediction\na,2\n", &res);
	assert_true(isnan(value_of(&res, "r2")));
	assert_close(value_of(&res, "rmse"), 1);
	/* y_true 0: MAPE divides by eps */
	score_ok(&sp, CSV, "id,label\na,0\nb,1\n", CSV, "id,prediction\na,1\nb,1\n", &res);
	assert_close(value_of(&res, "mape"), 1 / DBL_EPSILON / 2);
	/* numbers: spaces, signs, exponents, long mantissas, correctly rounded */
	score_ok(&sp, CSV, "id,label\na, +1.5e1 \nb,.5\nc,5.\nd,0.1000000000000000055511151231257827\n", CSV,
		 "id,prediction\na,15\nb,0.5\nc,5\nd,0.1\n", &res);
	assert_close(value_of(&res, "mae"), 0);
}

/* Subsets (a competition's public part) and the confusion matrix, labels in byte order. */
static void test_subset_confusion(void **state)
{
	static const char *const m[] = { "accuracy", "roc_auc" };
	struct atr_scoring_spec sp = SPEC(m);
	struct atr_scoring_confusion cm;
	struct atr_scoring_result res;
	static const unsigned char sel[] = { 1, 1, 0, 0, 0 }, none[5] = { 0 };
	struct run r;
	(void)state;

	assert_int_equal(run(&r, &sp, CSV, BIN_TRUTH, CSV, BIN_PRED, 0, 0), 0);
	assert_int_equal(atr_scoring_compute(r.s, sel, &res), 0);
	assert_int_equal(res.rows, 2);
	assert_close(value_of(&res, "accuracy"), 1);
	assert_close(value_of(&res, "roc_auc"), 1);
	assert_int_equal(atr_scoring_compute(r.s, none, &res), 0);
	assert_int_equal(res.rows, 0);
	assert_false(res.values[0].defined);
	assert_string_equal(res.values[0].why, "no rows selected");
	assert_int_equal(atr_scoring_truth_rows(r.t), 5);
	assert_string_equal(atr_scoring_truth_id(r.t, 4, NULL), "r5");
	assert_null(atr_scoring_truth_id(r.t, 5, NULL));
	run_release(&r);

	static const char *const acc[] = { "accuracy" };
	struct atr_scoring_spec sa = SPEC(acc);
	assert_int_equal(
		run(&r, &sa, CSV, "id,label\n1,a\n2,b\n3,B\n4,a\n", CSV, "id,prediction\n1,a\n2,B\n3,B\n4,b\n", 0, 0),
		0);
	assert_int_equal(atr_scoring_confusion(r.s, NULL, &cm), 0);
	assert_int_equal(cm.k, 3);
	assert_string_equal(cm.labels[0], "B");
	assert_string_equal(cm.labels[1], "a");
	assert_string_equal(cm.labels[2], "b");
	static const uint64_t want[] = { 1, 0, 0, 0, 1, 1, 1, 0, 0 };
	assert_memory_equal(cm.counts, want, sizeof(want));
	atr_scoring_confusion_release(&cm);
	run_release(&r);

	/* over ATR_SCORING_MAX_CONFUSION labels: no matrix (the metrics are fine) */
	size_t cap = 64 * (ATR_SCORING_MAX_CONFUSION + 2);
	char *truth = malloc(cap), *pred = malloc(cap);
	size_t tn = (size_t)snprintf(truth, cap, "id,label\n"), pn = (size_t)snprintf(pred, cap, "id,prediction\n");
	for (int i = 0; i <= ATR_SCORING_MAX_CONFUSION; i++) {
		tn += (size_t)snprintf(truth + tn, cap - tn, "%d,l%d\n", i, i);
		pn += (size_t)snprintf(pred + pn, cap - pn, "%d,l%d\n", i, i);
	}
	assert_int_equal(run(&r, &sa, CSV, truth, CSV, pred, 0, 0), 0);
	assert_int_equal(atr_scoring_confusion(r.s, NULL, &cm), ATR_ETOOBIG);
	assert_int_equal(atr_scoring_compute(r.s, NULL, &res), 0);
	assert_close(value_of(&res, "accuracy"), 1);
	run_release(&r);
	free(truth);
	free(pred);

	/* a regression has none */
	static const char *const reg[] = { "mae" };
	struct atr_scoring_spec sr = SPEC(reg);
	assert_int_equal(run(&r, &sr, CSV, "id,label\na,1\n", CSV, "id,prediction\na,1\n", 0, 0), 0);
	assert_int_equal(atr_scoring_confusion(r.s, NULL, &cm), ATR_EINVAL);
	run_release(&r);
}

static void test_spec(void **state)
{
	static const char *const unknown[] = { "accuracy", "bogus\x01" };
	static const char *const mixed[] = { "accuracy", "rmse" };
	static const char *const twice[] = { "mae", "mae" };
	static const char *const fine[] = { "f1_macro", "log_loss" };
	struct atr_scoring_spec sp = SPEC(unknown);
	struct atr_scoring_error err;
	struct atr_scoring_truth *t;
	const struct atr_scoring_metric *m;
	size_t n;
	(void)state;

	assert_int_equal(atr_scoring_spec_check(&sp, &err), ATR_EINVAL);
	assert_int_equal(err.kind, ATR_SCORING_E_SPEC);
	assert_string_equal(err.message, "unknown metric 'bogus\\x01'");
	assert_int_equal(atr_scoring_truth_new(&sp, CSV, &t), ATR_EINVAL);
	sp = (struct atr_scoring_spec)SPEC(mixed);
	assert_int_equal(atr_scoring_spec_check(&sp, &err), ATR_EINVAL);
	assert_non_null(strstr(err.message, "one task"));
	sp = (struct atr_scoring_spec)SPEC(twice);
	assert_int_equal(atr_scoring_spec_check(&sp, &err), ATR_EINVAL);
	sp = (struct atr_scoring_spec)SPEC(fine);
	assert_int_equal(atr_scoring_spec_check(&sp, NULL), 0);
	sp.n_metrics = 0;
	assert_int_equal(atr_scoring_spec_check(&sp, &err), ATR_EINVAL);
	sp = (struct atr_scoring_spec)SPEC(fine);
	sp.prediction_column = "id";
	assert_int_equal(atr_scoring_spec_check(&sp, &err), ATR_EINVAL);
	sp.prediction_column = "";
	assert_int_equal(atr_scoring_spec_check(&sp, &err), ATR_EINVAL);

	m = atr_scoring_metrics(&n);
	assert_int_equal(n, 23);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(atr_scoring_metric_find(m[i].name), &m[i]);
	assert_int_equal(atr_scoring_metric_find("log_loss")->direction, ATR_SCORING_LOWER);
	assert_int_equal(atr_scoring_metric_find("log_loss")->needs, ATR_SCORING_NEEDS_PROBA);
	assert_int_equal(atr_scoring_metric_find("rmse")->direction, ATR_SCORING_LOWER);
	assert_int_equal(atr_scoring_metric_find("r2")->direction, ATR_SCORING_HIGHER);
	assert_int_equal(atr_scoring_metric_find("f1_weighted")->task, ATR_SCORING_CLASSIFICATION);
	assert_null(atr_scoring_metric_find("neg_log_loss"));
	enum atr_scoring_format f;
	assert_int_equal(atr_scoring_format_parse("jsonl", &f), 0);
	assert_int_equal(f, JSONL);
	assert_int_equal(atr_scoring_format_parse("tsv", &f), ATR_EINVAL);
	assert_string_equal(atr_scoring_errkind_name(ATR_SCORING_E_MISSING), "missing_id");
}

/* Misuse: scoring against a truth that failed or did not end; computing before the end. */
static void test_misuse(void **state)
{
	static const char *const m[] = { "accuracy" };
	struct atr_scoring_spec sp = SPEC(m);
	struct atr_scoring_result res;
	struct atr_scoring_truth *t;
	struct atr_scoring *s;
	(void)state;

	assert_int_equal(atr_scoring_truth_new(&sp, CSV, &t), 0);
	assert_int_equal(atr_scoring_truth_feed(t, T_OK, strlen(T_OK)), 0);
	assert_int_equal(atr_scoring_new(t, CSV, &s), ATR_EINVAL);
	assert_int_equal(atr_scoring_truth_end(t), 0);
	assert_int_equal(atr_scoring_truth_end(t), ATR_EINVAL);
	assert_int_equal(atr_scoring_truth_feed(t, "x", 1), ATR_EINVAL);
	assert_int_equal(atr_scoring_new(t, CSV, &s), 0);
	assert_int_equal(atr_scoring_feed(s, "id,prediction\na,x\nb,x\n", 22), 0);
	assert_int_equal(atr_scoring_compute(s, NULL, &res), ATR_EINVAL);
	assert_int_equal(atr_scoring_end(s), 0);
	assert_int_equal(atr_scoring_compute(s, NULL, &res), 0);
	assert_close(value_of(&res, "accuracy"), 0.5);
	atr_scoring_free(s);
	atr_scoring_truth_free(t);
}

/* ---- the reference tool: --score ---- */

static void score_usage(void)
{
	fprintf(stderr, "usage: test_scoring --score --metrics M[,M...] [--pos-label L] [--top-k K]\n"
			"         [--id-column C] [--label-column C] [--prediction-column C]\n"
			"         [--truth-format csv|jsonl] [--pred-format csv|jsonl] [--chunk BYTES]\n"
			"         [--select FILE (a '0' or '1' per truth row)] [--confusion] TRUTH PREDICTIONS\n");
}

struct score_opts {
	const char *metrics[ATR_SCORING_MAX_METRICS];
	struct atr_scoring_spec spec;
	enum atr_scoring_format tf, pf;
	size_t chunk;
	const char *select, *truth, *pred;
	bool confusion;
	char *list;
};

static int score_args(int argc, char **argv, struct score_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->tf = o->pf = CSV;
	o->chunk = 65536;
	for (i = 2; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (strcmp(k, "--confusion") == 0) {
			o->confusion = true;
			i--;
		} else if (strcmp(k, "--metrics") == 0) {
			o->list = strdup(v);
			for (char *p = o->list, *save = NULL; o->spec.n_metrics < ATR_SCORING_MAX_METRICS; p = NULL) {
				char *tok = strtok_r(p, ",", &save);
				if (!tok)
					break;
				o->metrics[o->spec.n_metrics++] = tok;
			}
		} else if (strcmp(k, "--pos-label") == 0) {
			o->spec.pos_label = v;
		} else if (strcmp(k, "--top-k") == 0) {
			o->spec.top_k = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--id-column") == 0) {
			o->spec.id_column = v;
		} else if (strcmp(k, "--label-column") == 0) {
			o->spec.label_column = v;
		} else if (strcmp(k, "--prediction-column") == 0) {
			o->spec.prediction_column = v;
		} else if (strcmp(k, "--truth-format") == 0 || strcmp(k, "--pred-format") == 0) {
			if (atr_scoring_format_parse(v, k[2] == 't' ? &o->tf : &o->pf) != 0)
				return -1;
		} else if (strcmp(k, "--chunk") == 0) {
			o->chunk = strtoul(v, NULL, 10);
		} else if (strcmp(k, "--select") == 0) {
			o->select = v;
		} else {
			return -1;
		}
	}
	o->spec.metrics = o->metrics;
	if (i + 2 != argc || o->chunk == 0)
		return -1;
	o->truth = argv[i];
	o->pred = argv[i + 1];
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Feeds a file in chunks; 0, an error code, or 1 when the file cannot be read. */
static int score_feed(void *obj, bool truth, const char *path, size_t chunk)
{
	size_t len = 0;
	char *buf = slurp(path, &len);
	int rc = 0;

	if (!buf)
		return 1;
	for (size_t i = 0; rc == 0 && i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;
		rc = truth ? atr_scoring_truth_feed(obj, buf + i, n) : atr_scoring_feed(obj, buf + i, n);
	}
	if (rc == 0)
		rc = truth ? atr_scoring_truth_end(obj) : atr_scoring_end(obj);
	free(buf);
	return rc;
}

static json_t *error_json(const char *stage, const struct atr_scoring_error *e)
{
	return json_pack("{s:{s:s,s:s,s:I,s:s}}", "error", "stage", stage, "kind", atr_scoring_errkind_name(e->kind),
			 "line", (json_int_t)e->line, "message", e->message);
}

static json_t *confusion_json(const struct atr_scoring *s, const unsigned char *sel)
{
	struct atr_scoring_confusion cm;
	json_t *labels = json_array(), *rows = json_array();

	if (atr_scoring_confusion(s, sel, &cm) != 0)
		return json_null();
	for (size_t i = 0; i < cm.k; i++) {
		json_t *row = json_array();
		json_array_append_new(labels, json_string(cm.labels[i]));
		for (size_t j = 0; j < cm.k; j++)
			json_array_append_new(row, json_integer((json_int_t)cm.counts[i * cm.k + j]));
		json_array_append_new(rows, row);
	}
	atr_scoring_confusion_release(&cm);
	return json_pack("{s:o,s:o}", "labels", labels, "counts", rows);
}

static json_t *result_json(const struct atr_scoring *s, const struct score_opts *o, const unsigned char *sel)
{
	struct atr_scoring_result res;
	json_t *vals = json_object(), *out;

	if (atr_scoring_compute(s, sel, &res) != 0)
		return NULL;
	for (size_t i = 0; i < res.n; i++) {
		const struct atr_scoring_value *v = &res.values[i];
		json_t *j;
		if (!v->defined)
			j = json_pack("{s:s}", "undefined", v->why);
		else if (isfinite(v->value))
			j = json_pack("{s:f}", "value", v->value);
		else /* JSON has no infinities */
			j = json_pack("{s:s}", "value", v->value > 0 ? "inf" : "-inf");
		json_object_set_new(vals, v->metric, j);
	}
	out = json_pack("{s:I,s:o}", "rows", (json_int_t)res.rows, "metrics", vals);
	if (o->confusion)
		json_object_set_new(out, "confusion", confusion_json(s, sel));
	return out;
}

static unsigned char *read_select(const char *path, size_t rows)
{
	size_t len = 0;
	unsigned char *sel = (unsigned char *)slurp(path, &len);

	if (!sel || len < rows) {
		free(sel);
		return NULL;
	}
	for (size_t i = 0; i < rows; i++)
		sel[i] = sel[i] == '1';
	return sel;
}

static int score_main(int argc, char **argv)
{
	struct atr_scoring_truth *t = NULL;
	struct atr_scoring *s = NULL;
	unsigned char *sel = NULL;
	struct score_opts o;
	json_t *out = NULL;
	int rc, status = 2;

	if (score_args(argc, argv, &o) != 0) {
		score_usage();
		goto done;
	}
	if (atr_scoring_truth_new(&o.spec, o.tf, &t) != 0) {
		struct atr_scoring_error e;
		atr_scoring_spec_check(&o.spec, &e);
		out = error_json("spec", &e);
	} else if ((rc = score_feed(t, true, o.truth, o.chunk)) != 0) {
		out = rc == 1 ? NULL : error_json("truth", atr_scoring_truth_error(t));
	} else if (atr_scoring_new(t, o.pf, &s) != 0 || (rc = score_feed(s, false, o.pred, o.chunk)) == 1) {
		out = NULL;
	} else if (rc != 0) {
		out = error_json("predictions", atr_scoring_error(s));
	} else if (o.select && !(sel = read_select(o.select, atr_scoring_truth_rows(t)))) {
		out = NULL;
	} else {
		out = result_json(s, &o, sel);
	}
	if (out) {
		char *text = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(17));
		if (text)
			puts(text);
		free(text);
		status = text ? 0 : 1;
	} else {
		fprintf(stderr, "test_scoring: cannot read the files or out of memory\n");
		status = 1;
	}
done:
	json_decref(out);
	free(sel);
	free(o.list);
	atr_scoring_free(s);
	atr_scoring_truth_free(t);
	return status;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_chunks),
		cmocka_unit_test(test_jsonl_chunks),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_bytes_and_limits),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_multiclass),
		cmocka_unit_test(test_regression),
		cmocka_unit_test(test_subset_confusion),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_misuse),
	};

	if (argc > 1 && strcmp(argv[1], "--score") == 0)
		return score_main(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

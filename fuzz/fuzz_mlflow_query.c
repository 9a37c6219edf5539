/*
 * fuzz_mlflow_query.c: MLflow's search grammar (src/core/mlflow_query.c). The first byte
 * picks: 0 a run filter, 1 run order_by items (one per line), 2 an experiment filter, then
 * matched against two experiments and compared, 3 an experiment order_by, 4 LIKE (pattern
 * and text split at the first newline). Checks: a refusal has a message; accepted queries
 * stay within their limits; matching and comparing never crash.
 */
#include "fuzz.h"

#include <jansson.h>

#include "atrium/mlflow_query.h"

static void run_order(char *s)
{
	struct atr_runquery q;
	char msg[400];
	bool first = true;

	atr_rq_init(&q);
	for (char *line = s, *next; line; line = next, first = false) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		msg[0] = 0;
		if (atr_mlq_parse_order(line, &q, first, msg, sizeof(msg)) < 0) {
			FUZZ_CHECK(msg[0] != 0);
			return;
		}
		FUZZ_CHECK(q.nthen >= 0 && q.nthen < ATR_RQ_MAX_ORDER);
	}
}

static void exp_filter(char *s)
{
	struct atr_mlq_exp q;
	struct atr_mlq_exp_row a = { 1, "exp-a", 1000, 2000, NULL }, b = { 2, "Exp_B%", 3000, 3000, NULL };
	json_t *tags = json_pack("{s:s, s:s}", "team", "vision", "note", "a_b%c");
	char msg[400];

	a.tags = tags;
	atr_mlq_exp_init(&q);
	msg[0] = 0;
	if (atr_mlq_parse_exp_filter(s, &q, msg, sizeof(msg)) < 0) {
		FUZZ_CHECK(msg[0] != 0);
	} else {
		FUZZ_CHECK(q.n >= 0 && q.n <= ATR_RQ_MAX_CLAUSES);
		(void)atr_mlq_exp_match(&q, &a);
		(void)atr_mlq_exp_match(&q, &b);
		atr_mlq_exp_order_done(&q);
		(void)atr_mlq_exp_compare(&q, &a, &b);
	}
	json_decref(tags);
}

static void exp_order(char *s)
{
	struct atr_mlq_exp q;
	struct atr_mlq_exp_row a = { 1, "a", 1, 2, NULL }, b = { 2, "b", 2, 1, NULL };
	char msg[400];

	atr_mlq_exp_init(&q);
	msg[0] = 0;
	if (atr_mlq_parse_exp_order(s, &q, msg, sizeof(msg)) < 0) {
		FUZZ_CHECK(msg[0] != 0);
		return;
	}
	atr_mlq_exp_order_done(&q);
	FUZZ_CHECK(q.norder >= 0 && q.norder <= ATR_RQ_MAX_ORDER + 1);
	int ab = atr_mlq_exp_compare(&q, &a, &b), ba = atr_mlq_exp_compare(&q, &b, &a);
	FUZZ_CHECK((ab > 0) - (ab < 0) == (ba < 0) - (ba > 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct atr_runquery q;
	char msg[400], *s, *text;

	if (size < 1)
		return 0;
	s = fuzz_cstr(data + 1, size - 1);
	if (!s)
		return 0;
	switch (data[0] % 5) {
	case 0:
		atr_rq_init(&q);
		msg[0] = 0;
		if (atr_mlq_parse_filter(s, &q, msg, sizeof(msg)) < 0)
			FUZZ_CHECK(msg[0] != 0);
		else
			FUZZ_CHECK(q.n >= 0 && q.n <= ATR_RQ_MAX_CLAUSES);
		break;
	case 1:
		run_order(s);
		break;
	case 2:
		exp_filter(s);
		break;
	case 3:
		exp_order(s);
		break;
	default:
		text = strchr(s, '\n');
		if (text)
			*text++ = 0;
		(void)atr_mlq_like(text ? text : "", s, false);
		(void)atr_mlq_like(text ? text : "", s, true);
		break;
	}
	free(s);
	return 0;
}

/*
 * fuzz_runfilter.c: Atrium's run search language (src/core/runquery.c): the input up to the
 * first newline is a filter, the rest an order_by, each parsed into one query as GET
 * /api/v1/projects/{p}/runs?filter=...&order_by=... does. Checks: a refusal has a message,
 * an accepted query stays within its limits.
 */
#include "fuzz.h"

#include "atrium/runquery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct atr_runquery q;
	char msg[400], *s = fuzz_cstr(data, size), *order;

	if (!s)
		return 0;
	order = strchr(s, '\n');
	if (order)
		*order++ = 0;
	atr_rq_init(&q);
	msg[0] = 0;
	if (atr_rq_parse_filter(s, &q, msg, sizeof(msg)) < 0) {
		FUZZ_CHECK(msg[0] != 0);
	} else {
		FUZZ_CHECK(q.n >= 0 && q.n <= ATR_RQ_MAX_CLAUSES);
		FUZZ_CHECK(q.nlist >= 0 && q.nlist <= ATR_RQ_MAX_LIST);
		if (order) {
			msg[0] = 0;
			if (atr_rq_parse_order(order, &q, msg, sizeof(msg)) < 0)
				FUZZ_CHECK(msg[0] != 0);
			else
				FUZZ_CHECK(q.nthen >= 0 && q.nthen < ATR_RQ_MAX_ORDER);
		}
	}
	free(s);
	return 0;
}

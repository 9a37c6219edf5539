/*
 * test_request.c: the request's phases (src/http/request.c): every move the table allows is
 * taken, every other one is refused and leaves the phase as it was, nothing leaves CLOSED,
 * and the questions the rest of src/http asks (may it still answer? is it done?) follow the
 * phase alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "atrium/log.h"
#include "http/http_internal.h"

#define NPHASES (ATR_REQ_CLOSED + 1)

/* The moves the design allows (http_internal.h's drawing), written out independently. */
static bool allowed(enum atr_req_phase from, enum atr_req_phase to)
{
	static const struct {
		enum atr_req_phase from, to;
	} moves[] = {
		{ ATR_REQ_READ, ATR_REQ_HANDLE },     { ATR_REQ_READ, ATR_REQ_ANSWERED },
		{ ATR_REQ_READ, ATR_REQ_WAIT },	      { ATR_REQ_HANDLE, ATR_REQ_WAIT },
		{ ATR_REQ_HANDLE, ATR_REQ_ANSWERED }, { ATR_REQ_WAIT, ATR_REQ_ANSWERED },
		{ ATR_REQ_ANSWERED, ATR_REQ_HELD },   { ATR_REQ_ANSWERED, ATR_REQ_SENT },
		{ ATR_REQ_HELD, ATR_REQ_ANSWERED },   { ATR_REQ_HELD, ATR_REQ_HANDLE },
		{ ATR_REQ_SENT, ATR_REQ_IDLE },	      { ATR_REQ_IDLE, ATR_REQ_SENT },
	};
	if (from == to)
		return true;
	if (from == ATR_REQ_CLOSED)
		return false;
	if (to == ATR_REQ_CLOSED)
		return true;
	for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++)
		if (moves[i].from == from && moves[i].to == to)
			return true;
	return false;
}

static void test_every_move(void **state)
{
	struct atr_req *r = calloc(1, sizeof(*r));
	(void)state;
	assert_non_null(r);
	for (int from = 0; from < NPHASES; from++)
		for (int to = 0; to < NPHASES; to++) {
			r->phase = (enum atr_req_phase)from;
			bool ok = atr_req_enter(r, (enum atr_req_phase)to);
			assert_int_equal(ok, allowed((enum atr_req_phase)from, (enum atr_req_phase)to));
			assert_int_equal(r->phase, ok ? to : from);
		}
	free(r);
}

static void test_questions_follow_the_phase(void **state)
{
	struct atr_req *r = calloc(1, sizeof(*r));
	(void)state;
	assert_non_null(r);
	for (int p = 0; p < NPHASES; p++) {
		bool open = p == ATR_REQ_READ || p == ATR_REQ_HANDLE || p == ATR_REQ_WAIT;
		r->phase = (enum atr_req_phase)p;
		assert_int_equal(atr_req_may_answer(r), open);
		assert_int_equal(atr_req_done(r), !open);
	}
	free(r);
}

/* A request's usual lives, move by move. */
static void test_lives(void **state)
{
	static const enum atr_req_phase lives[][6] = {
		/* a plain answer */
		{ ATR_REQ_HANDLE, ATR_REQ_ANSWERED, ATR_REQ_SENT, ATR_REQ_CLOSED },
		/* a write: held for the commit */
		{ ATR_REQ_HANDLE, ATR_REQ_ANSWERED, ATR_REQ_HELD, ATR_REQ_ANSWERED, ATR_REQ_SENT, ATR_REQ_CLOSED },
		/* a long poll, then a stream that waits for data */
		{ ATR_REQ_HANDLE, ATR_REQ_WAIT, ATR_REQ_ANSWERED, ATR_REQ_SENT, ATR_REQ_IDLE, ATR_REQ_SENT },
		/* refused from the headers */
		{ ATR_REQ_ANSWERED, ATR_REQ_SENT, ATR_REQ_CLOSED },
		/* a failed commit: the answer is made again */
		{ ATR_REQ_HANDLE, ATR_REQ_ANSWERED, ATR_REQ_HELD, ATR_REQ_HANDLE, ATR_REQ_ANSWERED, ATR_REQ_SENT },
	};
	struct atr_req *r = calloc(1, sizeof(*r));
	(void)state;
	assert_non_null(r);
	for (size_t l = 0; l < sizeof(lives) / sizeof(lives[0]); l++) {
		r->phase = ATR_REQ_READ;
		for (size_t i = 0; i < 6 && (i == 0 || lives[l][i] != ATR_REQ_READ); i++)
			assert_true(atr_req_enter(r, lives[l][i]));
	}
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_move),
		cmocka_unit_test(test_questions_follow_the_phase),
		cmocka_unit_test(test_lives),
	};
	atr_log_setup((enum atr_log_level)(ATR_LOG_ERROR + 1), 0); /* (the refused moves are logged as errors) */
	return cmocka_run_group_tests(tests, NULL, NULL);
}

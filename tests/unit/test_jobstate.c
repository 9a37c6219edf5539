/* test_jobstate.c: the job state machine: legal moves allowed, illegal ones refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "atrium/jobstate.h"

static void test_names(void **state)
{
	(void)state;
	for (int s = 0; s < ATR_JOB_NSTATES; s++)
		assert_int_equal(atr_job_state_parse(atr_job_state_name((enum atr_job_state)s)), s);
	assert_int_equal(atr_job_state_parse("sleeping"), -1);
	assert_int_equal(atr_job_state_parse(NULL), -1);
}

static void test_transitions(void **state)
{
	static const struct {
		enum atr_job_state from, to;
		bool ok;
	} cases[] = {
		{ ATR_JOB_QUEUED, ATR_JOB_DISPATCHED, true },	 { ATR_JOB_QUEUED, ATR_JOB_CANCELLED, true },
		{ ATR_JOB_QUEUED, ATR_JOB_RUNNING, false },	 { ATR_JOB_QUEUED, ATR_JOB_SUCCEEDED, false },
		{ ATR_JOB_DISPATCHED, ATR_JOB_RUNNING, true },	 { ATR_JOB_DISPATCHED, ATR_JOB_QUEUED, true },
		{ ATR_JOB_DISPATCHED, ATR_JOB_LOST, true },	 { ATR_JOB_DISPATCHED, ATR_JOB_SUCCEEDED, false },
		{ ATR_JOB_RUNNING, ATR_JOB_SUCCEEDED, true },	 { ATR_JOB_RUNNING, ATR_JOB_FAILED, true },
		{ ATR_JOB_RUNNING, ATR_JOB_CANCELLED, true },	 { ATR_JOB_RUNNING, ATR_JOB_LOST, true },
		{ ATR_JOB_RUNNING, ATR_JOB_QUEUED, false },	 { ATR_JOB_RUNNING, ATR_JOB_DISPATCHED, false },
		{ ATR_JOB_LOST, ATR_JOB_QUEUED, true },		 { ATR_JOB_LOST, ATR_JOB_FAILED, true },
		{ ATR_JOB_LOST, ATR_JOB_RUNNING, false },	 { ATR_JOB_SUCCEEDED, ATR_JOB_FAILED, false },
		{ ATR_JOB_FAILED, ATR_JOB_QUEUED, false },	 { ATR_JOB_CANCELLED, ATR_JOB_RUNNING, false },
		{ ATR_JOB_SUCCEEDED, ATR_JOB_SUCCEEDED, false }, { (enum atr_job_state)99, ATR_JOB_QUEUED, false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(atr_job_transition_ok(cases[i].from, cases[i].to), cases[i].ok);
}

static void test_terminal(void **state)
{
	(void)state;
	assert_true(atr_job_state_terminal(ATR_JOB_SUCCEEDED));
	assert_true(atr_job_state_terminal(ATR_JOB_FAILED));
	assert_true(atr_job_state_terminal(ATR_JOB_CANCELLED));
	assert_false(atr_job_state_terminal(ATR_JOB_LOST));
	assert_true(atr_job_state_active(ATR_JOB_LOST));
	assert_true(atr_job_state_active(ATR_JOB_QUEUED));
	assert_false(atr_job_state_active(ATR_JOB_FAILED));
	/* no way out of a terminal state */
	for (int to = 0; to < ATR_JOB_NSTATES; to++) {
		assert_false(atr_job_transition_ok(ATR_JOB_SUCCEEDED, (enum atr_job_state)to));
		assert_false(atr_job_transition_ok(ATR_JOB_FAILED, (enum atr_job_state)to));
		assert_false(atr_job_transition_ok(ATR_JOB_CANCELLED, (enum atr_job_state)to));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_terminal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

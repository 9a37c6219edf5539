/*
 * test_slurm.c: the pure parts of the Slurm backend: the HS256 JWT Atrium mints for
 * slurmrestd (checked against a token made with Python's hmac), and the scheduler's rule
 * that a cluster's worker row takes only the jobs that name it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/sched.h"
#include "atrium/slurm.h"

static void test_jwt(void **state)
{
	const unsigned char key[] = "0123456789abcdef0123456789abcdef";
	char out[512], small[40];
	(void)state;

	assert_int_equal(atr_slurm_jwt(key, 32, "mlops", 1000, 600, out, sizeof(out)), 0);
	assert_string_equal(out, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
				 "eyJleHAiOjE2MDAsImlhdCI6MTAwMCwic3VuIjoibWxvcHMifQ."
				 "9dZDF5Yh2k6PkPAGN4B8b1oj67Si6ZQloaX1EzkRAxs");
	assert_int_equal(atr_slurm_jwt(key, 32, "mlops", 1000, 600, small, sizeof(small)), ATR_ETOOBIG);
	assert_true(atr_slurm_is_cluster_url("slurm:hpc"));
	assert_false(atr_slurm_is_cluster_url("http://127.0.0.1:9/"));
}

static void test_cluster_takes_only_its_jobs(void **state)
{
	struct atr_sched_label cl_label = { ATR_SCHED_EXCLUSIVE_LABEL, "hpc" }, sel = cl_label;
	struct atr_sched_worker w[2] = {
		{ .id = 1,
		  .name = "cluster:hpc",
		  .online = true,
		  .schedulable = true,
		  .labels = &cl_label,
		  .nlabels = 1,
		  .cpus = 1000,
		  .memory_mb = 1 << 20 },
		{ .id = 2, .name = "w", .online = true, .schedulable = true, .cpus = 1, .memory_mb = 1024 },
	};
	struct atr_sched_job j[2] = {
		{ .id = 10, .submitted_at = 1, .cpus = 1, .selector = &sel, .nselector = 1 },
		{ .id = 11, .submitted_at = 2, .cpus = 1 },
	};
	struct atr_sched_input in = { .jobs = j, .njobs = 2, .workers = w, .nworkers = 2 };
	struct atr_sched_plan plan;
	(void)state;

	assert_int_equal(atr_sched_plan(&in, &plan), 0);
	assert_int_equal(plan.nplacements, 2);
	for (int i = 0; i < plan.nplacements; i++)
		assert_int_equal(plan.placements[i].worker_id, plan.placements[i].job_id == 10 ? 1 : 2);
	atr_sched_plan_release(&plan);
	/* with the plain worker full, the unnamed job waits rather than go to the cluster */
	w[1].cpus_allocated = 1;
	assert_int_equal(atr_sched_plan(&in, &plan), 0);
	assert_int_equal(plan.nplacements, 1);
	assert_int_equal(plan.placements[0].job_id, 10);
	atr_sched_plan_release(&plan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_cluster_takes_only_its_jobs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

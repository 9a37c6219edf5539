/*
 * test_sched.c: the placement rules of sched.h with hand-made cases (packing, priorities,
 * FIFO, fair share, quotas, GPU types, labels, busy and unschedulable workers, CPU and
 * memory, the reasons a job waits, feasibility) and a property loop over random scenarios
 * with a fixed seed: no GPU given twice, no quota exceeded, every placement legal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "atrium/sched.h"

/* ---- building inputs ---- */

static struct atr_sched_gpu gpu_pool[64][ATR_SCHED_MAX_GPUS];

static struct atr_sched_worker worker(int slot, int64_t id, int ngpus, const char *type)
{
	struct atr_sched_worker w = {
		.id = id, .name = "w", .online = true, .schedulable = true, .cpus = 64, .memory_mb = 512000
	};
	for (int i = 0; i < ngpus; i++)
		gpu_pool[slot][i] = (struct atr_sched_gpu){ .index = i, .name = type };
	w.gpus = gpu_pool[slot];
	w.ngpus = ngpus;
	return w;
}

static struct atr_sched_job job(int64_t id, int64_t team, int prio, int64_t at, int gpus)
{
	return (struct atr_sched_job){ .id = id, .team_id = team, .priority = prio, .submitted_at = at, .gpus = gpus };
}

static const struct atr_sched_placement *placed(const struct atr_sched_plan *p, int64_t job_id)
{
	for (int i = 0; i < p->nplacements; i++)
		if (p->placements[i].job_id == job_id)
			return &p->placements[i];
	return NULL;
}

static const char *reason(const struct atr_sched_plan *p, int64_t job_id)
{
	for (int i = 0; i < p->npending; i++)
		if (p->pending[i].job_id == job_id)
			return p->pending[i].reason;
	return NULL;
}

static void plan(const struct atr_sched_job *jobs, int nj, const struct atr_sched_worker *ws, int nw,
		 const struct atr_sched_team *ts, int nt, struct atr_sched_plan *out)
{
	struct atr_sched_input in = { jobs, nj, ws, nw, ts, nt, 24 };
	assert_int_equal(atr_sched_plan(&in, out), 0);
	assert_int_equal(out->nplacements + out->npending, nj);
	assert_int_equal(out->norder, nj);
}

static void expect_reason(const struct atr_sched_plan *p, int64_t job_id, const char *want)
{
	const char *got = reason(p, job_id);
	if (!got || strcmp(got, want) != 0)
		fprintf(stderr, "job %lld: reason '%s', want '%s'\n", (long long)job_id, got ? got : "(placed)", want);
	assert_non_null(got);
	assert_string_equal(got, want);
}

/* ---- cases ---- */

static void test_best_fit_packing(void **state)
{
	struct atr_sched_worker ws[] = { worker(0, 1, 8, "NVIDIA A100-SXM4-80GB"),
					 worker(1, 2, 4, "NVIDIA A100-SXM4-80GB") };
	struct atr_sched_job js[] = { job(10, 0, 0, 1, 1), job(11, 0, 0, 2, 3), job(12, 0, 0, 3, 8) };
	struct atr_sched_plan p;
	(void)state;

	plan(js, 3, ws, 2, NULL, 0, &p);
	/* the 1-GPU and the 3-GPU job share the 4-GPU host; the 8-GPU host stays whole */
	assert_int_equal(placed(&p, 10)->worker_id, 2);
	assert_int_equal(placed(&p, 11)->worker_id, 2);
	assert_int_equal(placed(&p, 12)->worker_id, 1);
	assert_int_equal(placed(&p, 10)->ngpus, 1);
	assert_int_equal(placed(&p, 10)->gpus[0], 0);
	assert_int_equal(placed(&p, 11)->ngpus, 3);
	assert_int_equal(placed(&p, 11)->gpus[0], 1);
	assert_int_equal(placed(&p, 11)->gpus[2], 3);
	assert_int_equal(placed(&p, 12)->ngpus, 8);
	atr_sched_plan_release(&p);

	/* GPUs already allocated or busy are not offered; the lowest free indices are taken */
	gpu_pool[1][0].allocated = true;
	gpu_pool[1][2].busy = true;
	struct atr_sched_job two = job(20, 0, 0, 1, 2);
	plan(&two, 1, ws, 2, NULL, 0, &p);
	assert_int_equal(placed(&p, 20)->worker_id, 2); /* exactly 2 free there: the best fit */
	assert_int_equal(placed(&p, 20)->gpus[0], 1);
	assert_int_equal(placed(&p, 20)->gpus[1], 3);
	atr_sched_plan_release(&p);
	gpu_pool[1][0].allocated = gpu_pool[1][2].busy = false;

	/* CPU-only jobs go where they leave the most GPUs free */
	struct atr_sched_worker cpu_box = worker(2, 3, 0, NULL);
	struct atr_sched_worker mix[] = { ws[0], cpu_box };
	struct atr_sched_job cpu = job(30, 0, 0, 1, 0);
	cpu.cpus = 8;
	plan(&cpu, 1, mix, 2, NULL, 0, &p);
	assert_int_equal(placed(&p, 30)->worker_id, 3);
	assert_int_equal(placed(&p, 30)->ngpus, 0);
	atr_sched_plan_release(&p);
}

static void test_priority_and_fifo(void **state)
{
	struct atr_sched_worker ws[] = { worker(0, 1, 2, "Tesla V100-SXM2-16GB") };
	struct atr_sched_job js[] = { job(1, 0, 0, 100, 1), job(2, 0, 5, 300, 1), job(3, 0, 0, 200, 1),
				      job(4, 0, 0, 50, 1) };
	struct atr_sched_plan p;
	(void)state;

	plan(js, 4, ws, 1, NULL, 0, &p);
	/* priority 5 first, then FIFO by submission: 4 (t=50), 1 (t=100), 3 (t=200) */
	assert_int_equal(p.order[0], 2);
	assert_int_equal(p.order[1], 4);
	assert_int_equal(p.order[2], 1);
	assert_int_equal(p.order[3], 3);
	assert_non_null(placed(&p, 2));
	assert_non_null(placed(&p, 4));
	expect_reason(&p, 1, "waiting for 1 GPU: 0 free");
	expect_reason(&p, 3, "waiting for 1 GPU: 0 free");
	atr_sched_plan_release(&p);
}

static void test_fair_share(void **state)
{
	struct atr_sched_worker ws[] = { worker(0, 1, 8, "NVIDIA H100 80GB HBM3") };
	struct atr_sched_team ts[] = { { .id = 1, .name = "vision", .max_gpus = -1, .max_jobs = -1, .gpus_used = 0 },
				       { .id = 2, .name = "nlp", .max_gpus = -1, .max_jobs = -1, .gpus_used = 0 } };
	struct atr_sched_job js[] = { job(1, 1, 0, 1, 1),  job(2, 1, 0, 2, 1),	job(3, 1, 0, 3, 1),
				      job(4, 2, 0, 10, 1), job(5, 2, 0, 11, 1), job(6, 2, 0, 12, 1) };
	struct atr_sched_plan p;
	(void)state;

	/* equal teams alternate, though all of vision's jobs are older */
	plan(js, 6, ws, 1, ts, 2, &p);
	int64_t want[] = { 1, 4, 2, 5, 3, 6 };
	for (int i = 0; i < 6; i++)
		assert_int_equal(p.order[i], want[i]);
	atr_sched_plan_release(&p);

	/* vision already runs 4 GPUs: nlp goes first until it catches up */
	ts[0].gpus_used = 4;
	ts[0].jobs_running = 4;
	plan(js, 6, ws, 1, ts, 2, &p);
	assert_int_equal(p.order[0], 4);
	assert_int_equal(p.order[1], 5);
	assert_int_equal(p.order[2], 6);
	atr_sched_plan_release(&p);

	/* weights: vision has twice nlp's share, so 4 GPUs weigh as nlp's 2 */
	ts[0].weight = 2;
	ts[1].gpus_used = 2;
	plan(js, 6, ws, 1, ts, 2, &p);
	assert_int_equal(p.order[0], 1); /* a tie (2 = 2): the older head job */
	assert_int_equal(p.order[1], 4);
	atr_sched_plan_release(&p);

	/* recent usage counts: 48 GPU-hours in a 24 h window weigh as 2 GPUs held now */
	ts[0] = (struct atr_sched_team){
		.id = 1, .name = "vision", .max_gpus = -1, .max_jobs = -1, .recent_gpu_hours = 48
	};
	ts[1] = (struct atr_sched_team){ .id = 2, .name = "nlp", .max_gpus = -1, .max_jobs = -1, .recent_gpu_hours = 0 };
	plan(js, 6, ws, 1, ts, 2, &p);
	assert_int_equal(p.order[0], 4);
	assert_int_equal(p.order[1], 5);
	assert_int_equal(p.order[2], 1); /* 2 vs 2: the older head */
	atr_sched_plan_release(&p);

	/* priority beats fair share */
	js[2].priority = 9;
	plan(js, 6, ws, 1, ts, 2, &p);
	assert_int_equal(p.order[0], 3);
	atr_sched_plan_release(&p);
}

static void test_quotas(void **state)
{
	struct atr_sched_worker ws[] = { worker(0, 1, 8, "NVIDIA A100-SXM4-80GB") };
	struct atr_sched_team ts[] = {
		{ .id = 1, .name = "vision", .max_gpus = 4, .max_jobs = -1, .gpus_used = 3, .jobs_running = 1 },
		{ .id = 2, .name = "nlp", .max_gpus = -1, .max_jobs = 2, .jobs_running = 1 }
	};
	struct atr_sched_job js[] = { job(1, 1, 0, 1, 2), job(2, 1, 0, 2, 1), job(3, 1, 0, 3, 1), job(4, 2, 0, 4, 0),
				      job(5, 2, 0, 5, 0) };
	struct atr_sched_plan p;
	(void)state;

	plan(js, 5, ws, 1, ts, 2, &p);
	expect_reason(&p, 1, "team 'vision' uses 3 of its 4 GPUs; this job needs 2");
	assert_non_null(placed(&p, 2)); /* 3 + 1 = 4: fits exactly */
	expect_reason(&p, 3, "team 'vision' is at its quota of 4 GPUs");
	assert_non_null(placed(&p, 4));
	expect_reason(&p, 5, "team 'nlp' is at its limit of 2 concurrent jobs");
	atr_sched_plan_release(&p);
}

static void test_types_labels_and_states(void **state)
{
	struct atr_sched_label big[] = { { "pool", "large" }, { "zone", "a" } }, small[] = { { "pool", "small" } };
	struct atr_sched_label want_big[] = { { "pool", "large" } }, want_gpu_box[] = { { "pool", "gpu-box" } };
	struct atr_sched_worker ws[] = { worker(0, 1, 4, "NVIDIA A100-SXM4-80GB"),
					 worker(1, 2, 4, "Tesla V100-SXM2-16GB"),
					 worker(2, 3, 8, "NVIDIA A100-SXM4-80GB") };
	struct atr_sched_job js[4];
	struct atr_sched_plan p;
	(void)state;

	ws[0].labels = small;
	ws[0].nlabels = 1;
	ws[2].labels = big;
	ws[2].nlabels = 2;
	ws[2].schedulable = false; /* cordoned */
	gpu_pool[0][1].busy = true;
	gpu_pool[0][2].allocated = true;
	gpu_pool[0][3].allocated = true;

	js[0] = job(1, 0, 0, 1, 2);
	js[0].gpu_type = "a100"; /* case does not matter */
	js[1] = job(2, 0, 0, 2, 1);
	js[1].gpu_type = "V100";
	js[2] = job(3, 0, 0, 3, 1);
	js[2].selector = want_big;
	js[2].nselector = 1;
	js[3] = job(4, 0, 0, 4, 1);
	js[3].selector = want_gpu_box;
	js[3].nselector = 1;
	plan(js, 4, ws, 3, NULL, 0, &p);
	/* only GPU 0 of worker 1 is free among the schedulable A100s */
	expect_reason(&p, 1, "waiting for 2 GPUs of type a100: 1 free");
	assert_int_equal(placed(&p, 2)->worker_id, 2);
	expect_reason(&p, 3, "no schedulable worker has label pool=large (1 cordoned, draining or offline)");
	expect_reason(&p, 4, "no schedulable worker has label pool=gpu-box");
	atr_sched_plan_release(&p);

	/* no worker of that type at all */
	js[1].gpu_type = "H100";
	plan(&js[1], 1, ws, 3, NULL, 0, &p);
	expect_reason(&p, 2, "no schedulable worker has GPUs of type H100");
	atr_sched_plan_release(&p);

	/* free GPUs spread over workers: at most N on one */
	gpu_pool[0][1].busy = false;
	js[1] = job(5, 0, 0, 1, 3);
	struct atr_sched_worker two[] = { worker(3, 7, 2, "T4"), worker(4, 8, 2, "T4") };
	plan(&js[1], 1, two, 2, NULL, 0, &p);
	expect_reason(&p, 5, "waiting for 3 GPUs on one worker: at most 2 free on one (4 in total)");
	atr_sched_plan_release(&p);

	/* offline workers are skipped; none left */
	two[0].online = two[1].online = false;
	plan(&js[1], 1, two, 2, NULL, 0, &p);
	expect_reason(&p, 5, "no schedulable worker is online");
	atr_sched_plan_release(&p);
	memset(gpu_pool, 0, sizeof(gpu_pool));
}

static void test_cpus_and_memory(void **state)
{
	struct atr_sched_worker ws[] = { worker(0, 1, 2, "T4"), worker(1, 2, 2, "T4") };
	struct atr_sched_job js[] = { job(1, 0, 0, 1, 1), job(2, 0, 0, 2, 1), job(3, 0, 0, 3, 1) };
	struct atr_sched_plan p;
	(void)state;

	ws[0].cpus = 8;
	ws[0].cpus_allocated = 6;
	ws[0].memory_mb = 1000;
	ws[1].cpus = 16;
	ws[1].memory_mb = 64000;
	ws[1].memory_allocated_mb = 32000;
	js[0].cpus = 4;	 /* only worker 2 has 4 free CPUs */
	js[1].cpus = 13; /* 16 - 4 = 12 left there */
	js[2].memory_mb = 40000;
	js[2].cpus = 1;
	plan(js, 3, ws, 2, NULL, 0, &p);
	assert_int_equal(placed(&p, 1)->worker_id, 2);
	expect_reason(&p, 2, "waiting for 13 CPUs: at most 12 free on a worker with 1 GPU free");
	expect_reason(&p, 3,
		      "waiting for 40000 MB of memory: at most 32000 MB free on a worker with the CPUs and 1 GPU");
	atr_sched_plan_release(&p);
	js[1].cpus = 12;
	plan(js, 2, ws, 2, NULL, 0, &p);
	assert_int_equal(placed(&p, 2)->worker_id, 2); /* exactly what is left */
	atr_sched_plan_release(&p);
}

static void test_feasible(void **state)
{
	struct atr_sched_label lab[] = { { "pool", "large" } };
	struct atr_sched_worker ws[] = { worker(0, 1, 8, "NVIDIA A100-SXM4-80GB"),
					 worker(1, 2, 4, "Tesla V100-SXM2-16GB") };
	struct atr_sched_team team = { .id = 1, .name = "vision", .max_gpus = 4, .max_jobs = -1 };
	struct atr_sched_job j = job(1, 1, 0, 1, 16);
	char why[200];
	(void)state;

	ws[0].name = "big";
	ws[1].name = "small";
	ws[0].online = false; /* offline workers still count: they may come back */
	assert_false(atr_sched_feasible(&j, NULL, ws, 2, why, sizeof(why)));
	assert_string_equal(why, "no registered worker has 16 GPUs (the most is 8, on 'big')");
	assert_false(atr_sched_feasible(&j, &team, ws, 2, why, sizeof(why)));
	assert_string_equal(why, "team 'vision' may use at most 4 GPUs; the job asks for 16");
	j.gpus = 8;
	assert_true(atr_sched_feasible(&j, NULL, ws, 2, why, sizeof(why)));
	j.gpu_type = "V100";
	assert_false(atr_sched_feasible(&j, NULL, ws, 2, why, sizeof(why)));
	assert_string_equal(why, "no registered worker has 8 GPUs of type V100 (the most is 4, on 'small')");
	j.gpus = 2;
	j.cpus = 128;
	assert_false(atr_sched_feasible(&j, NULL, ws, 2, why, sizeof(why)));
	assert_string_equal(why, "no registered worker with 2 GPUs of type V100 has 128 CPUs (the most is 64)");
	j.cpus = 8;
	j.memory_mb = 1 << 30;
	assert_false(atr_sched_feasible(&j, NULL, ws, 2, why, sizeof(why)));
	assert_non_null(strstr(why, "MB of memory"));
	j.memory_mb = 1000;
	j.selector = lab;
	j.nselector = 1;
	assert_false(atr_sched_feasible(&j, NULL, ws, 2, why, sizeof(why)));
	assert_string_equal(why, "no registered worker has label pool=large");
	ws[1].labels = lab;
	ws[1].nlabels = 1;
	assert_true(atr_sched_feasible(&j, NULL, ws, 2, why, sizeof(why)));
	assert_false(atr_sched_feasible(&j, NULL, ws, 0, why, sizeof(why)));
	assert_string_equal(why, "no worker is registered");
	team.max_jobs = 0;
	assert_false(atr_sched_feasible(&j, &team, ws, 2, why, sizeof(why)));
	assert_non_null(strstr(why, "may run no jobs"));
	memset(gpu_pool, 0, sizeof(gpu_pool));
}

/* ---- properties over random scenarios ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *types[] = { "NVIDIA A100-SXM4-80GB", "Tesla V100-SXM2-16GB", "Tesla T4" };
static const char *want_types[] = { NULL, "A100", "V100", "t4", "H100" };
static struct atr_sched_label pools[] = { { "pool", "a" }, { "pool", "b" } };

static bool label_ok(const struct atr_sched_job *j, const struct atr_sched_worker *w)
{
	for (int i = 0; i < j->nselector; i++) {
		bool f = false;
		for (int k = 0; k < w->nlabels; k++)
			f |= !strcmp(w->labels[k].key, j->selector[i].key) &&
			     !strcmp(w->labels[k].value, j->selector[i].value);
		if (!f)
			return false;
	}
	return true;
}

static void check_scenario(void)
{
	struct atr_sched_worker ws[8];
	struct atr_sched_team ts[4];
	struct atr_sched_job js[40];
	struct atr_sched_plan p, again;
	int nw = (int)rnd(7), nt = (int)rnd(4), nj = (int)rnd(40);
	bool used[8][ATR_SCHED_MAX_GPUS];
	int cpus[8] = { 0 };
	int64_t mem[8] = { 0 }, tg[5] = { 0 }, tj[5] = { 0 };

	memset(used, 0, sizeof(used));
	for (int i = 0; i < nw; i++) {
		const char *t = types[rnd(3)];
		ws[i] = worker(i, 100 + i, (int)rnd(9), t);
		for (int g = 0; g < ws[i].ngpus; g++) {
			if (rnd(4) == 0)
				gpu_pool[i][g].name = types[rnd(3)]; /* mixed boxes */
			gpu_pool[i][g].busy = rnd(8) == 0;
			gpu_pool[i][g].allocated = rnd(5) == 0;
			gpu_pool[i][g].index = ws[i].ngpus - 1 - g; /* inventory order need not be index order */
		}
		ws[i].online = rnd(6) != 0;
		ws[i].schedulable = rnd(5) != 0;
		ws[i].cpus = (int)rnd(64);
		ws[i].cpus_allocated = (int)rnd(8);
		ws[i].memory_mb = rnd(100000);
		ws[i].memory_allocated_mb = rnd(20000);
		if (rnd(2)) {
			ws[i].labels = &pools[rnd(2)];
			ws[i].nlabels = 1;
		}
	}
	for (int i = 0; i < nt; i++)
		ts[i] = (struct atr_sched_team){ .id = i + 1,
						 .name = "t",
						 .max_gpus = rnd(3) ? (int64_t)rnd(10) : -1,
						 .max_jobs = rnd(3) ? (int64_t)rnd(6) : -1,
						 .gpus_used = rnd(6),
						 .jobs_running = rnd(4),
						 .recent_gpu_hours = rnd(100),
						 .weight = rnd(3) };
	for (int i = 0; i < nj; i++) {
		js[i] = job(i + 1, rnd(nt + 1), (int)rnd(3), rnd(1000), (int)rnd(5));
		js[i].gpu_type = want_types[rnd(5)];
		js[i].cpus = (int)rnd(16);
		js[i].memory_mb = rnd(30000);
		if (rnd(3) == 0) {
			js[i].selector = &pools[rnd(2)];
			js[i].nselector = 1;
		}
	}
	plan(js, nj, ws, nw, ts, nt, &p);
	for (int i = 0; i < p.nplacements; i++) {
		const struct atr_sched_placement *pl = &p.placements[i];
		const struct atr_sched_job *j = &js[pl->job_id - 1];
		int w = (int)(pl->worker_id - 100), team = -1;
		assert_true(w >= 0 && w < nw);
		assert_true(ws[w].online && ws[w].schedulable);
		assert_true(label_ok(j, &ws[w]));
		assert_int_equal(pl->ngpus, j->gpus);
		for (int g = 0; g < pl->ngpus; g++) {
			int slot = -1;
			for (int k = 0; k < ws[w].ngpus; k++)
				if (gpu_pool[w][k].index == pl->gpus[g])
					slot = k;
			assert_true(slot >= 0);
			assert_false(gpu_pool[w][slot].busy);
			assert_false(gpu_pool[w][slot].allocated);
			assert_false(used[w][slot]); /* never two jobs on one GPU */
			used[w][slot] = true;
			if (j->gpu_type) {
				bool m = false;
				for (const char *s = gpu_pool[w][slot].name; *s && !m; s++)
					m = strncasecmp(s, j->gpu_type, strlen(j->gpu_type)) == 0;
				assert_true(m);
			}
		}
		cpus[w] += j->cpus;
		mem[w] += j->memory_mb;
		for (int t = 0; t < nt; t++)
			if (ts[t].id == j->team_id)
				team = t;
		if (team >= 0) {
			tg[team] += j->gpus;
			tj[team]++;
		}
	}
	for (int w = 0; w < nw; w++) {
		assert_true(cpus[w] == 0 || cpus[w] <= ws[w].cpus - ws[w].cpus_allocated);
		assert_true(mem[w] == 0 || mem[w] <= ws[w].memory_mb - ws[w].memory_allocated_mb);
	}
	for (int t = 0; t < nt; t++) {
		if (ts[t].max_gpus >= 0 && tg[t] > 0)
			assert_true(ts[t].gpus_used + tg[t] <= ts[t].max_gpus);
		if (ts[t].max_jobs >= 0 && tj[t] > 0)
			assert_true(ts[t].jobs_running + tj[t] <= ts[t].max_jobs);
	}
	for (int i = 0; i < p.npending; i++)
		assert_true(strlen(p.pending[i].reason) > 10);
	for (int i = 0; i < nj; i++)
		assert_true((placed(&p, js[i].id) != NULL) != (reason(&p, js[i].id) != NULL));
	/* pure: the same input gives the same plan */
	plan(js, nj, ws, nw, ts, nt, &again);
	assert_int_equal(again.nplacements, p.nplacements);
	assert_memory_equal(again.placements, p.placements, (size_t)p.nplacements * sizeof(*p.placements));
	assert_memory_equal(again.order, p.order, (size_t)p.norder * sizeof(*p.order));
	atr_sched_plan_release(&again);
	atr_sched_plan_release(&p);
	memset(gpu_pool, 0, sizeof(gpu_pool));
}

static void test_random_scenarios(void **state)
{
	(void)state;
	for (int i = 0; i < 3000; i++)
		check_scenario();
}

static void test_empty(void **state)
{
	struct atr_sched_plan p;
	(void)state;
	plan(NULL, 0, NULL, 0, NULL, 0, &p);
	assert_int_equal(p.nplacements, 0);
	atr_sched_plan_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_best_fit_packing),
		cmocka_unit_test(test_priority_and_fifo),
		cmocka_unit_test(test_fair_share),
		cmocka_unit_test(test_quotas),
		cmocka_unit_test(test_types_labels_and_states),
		cmocka_unit_test(test_cpus_and_memory),
		cmocka_unit_test(test_feasible),
		cmocka_unit_test(test_random_scenarios),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

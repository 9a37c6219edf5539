/*
 * seed_runs.c: fills a project with runs for the run-search scenario, through the store API
 * (the same functions the REST handlers call: atr_store_run_create, atr_store_metrics_append),
 * straight into a stopped daemon's data dir. Seeding 100,000 runs one HTTP request at a time
 * would take longer than the whole benchmark; this takes seconds and writes exactly what the
 * API would.
 *
 * Each run has 20 params and 10 metrics (one point each). The params are shaped for search:
 *   p00 one of 10 values  ("v0" .. "v9": each matches 10% of the runs; the scenario filters on it)
 *   p01 one of 100 values ("v0" .. "v99": 1%)
 *   p02 unique per run    ("r<i>")
 *   p03 .. p19            one of 1,000 values each (pseudo-random)
 * The metrics m0 .. m9 hold a pseudo-random last value in [0, 1). Runs are written 10,000 per
 * transaction, with started_at one second apart.
 *
 * Usage: seed_runs DATA_DIR PROJECT RUNS
 * Prints: runs= seconds= runs_per_s=
 */
#include "common.h"

#include "atrium/db.h"
#include "atrium/metric_batch.h"
#include "atrium/store.h"
#include "atrium/store_metrics.h"
#include "atrium/store_projects.h"
#include "atrium/store_runs.h"

#define PROG "seed_runs"
#define PARAMS 20
#define METRICS 10
#define PER_TXN 10000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static json_t *run_params(long i)
{
	json_t *p = json_object();
	char key[8], val[32];

	for (int k = 0; p && k < PARAMS; k++) {
		snprintf(key, sizeof(key), "p%02d", k);
		if (k == 0)
			snprintf(val, sizeof(val), "v%ld", i % 10);
		else if (k == 1)
			snprintf(val, sizeof(val), "v%ld", i % 100);
		else if (k == 2)
			snprintf(val, sizeof(val), "r%ld", i);
		else
			snprintf(val, sizeof(val), "%llu", (unsigned long long)(next_rand() % 1000));
		if (json_object_set_new(p, key, json_string(val)) < 0)
			bench_die(PROG, "out of memory");
	}
	if (!p)
		bench_die(PROG, "out of memory");
	return p;
}

/* {"metrics": [{"key": "m0", "value": ..., "step": 0, "timestamp": ...}, ...]} */
static void run_metrics(struct atr_metric_batch *b, int64_t ts)
{
	char body[METRICS * 96 + 32];
	size_t n = 0;

	n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"metrics\":[");
	for (int k = 0; k < METRICS; k++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
				      "%s{\"key\":\"m%d\",\"value\":%.6f,\"step\":0,\"timestamp\":%lld}", k ? "," : "",
				      k, (double)(next_rand() % 1000000) / 1e6, (long long)ts);
	n += (size_t)snprintf(body + n, sizeof(body) - n, "]}");
	atr_metric_batch_init(b);
	if (atr_metric_batch_parse(b, body, n, METRICS) < 0)
		bench_die(PROG, "bad metric batch: %s", b->msg);
}

int main(int argc, char **argv)
{
	struct atr_store *s = NULL;
	struct atr_project proj;
	int64_t t0_ms = 1767225600000LL, id;
	uint64_t t0;
	long runs;
	double secs;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DATA_DIR PROJECT RUNS\n", PROG);
		return 2;
	}
	runs = (long)bench_num(PROG, "RUNS", argv[3]);
	if (atr_store_open(argv[1], 0, &s) < 0)
		bench_die(PROG, "cannot open the store in '%s'", argv[1]);
	if (atr_store_project_find(s, argv[2], &proj) < 0)
		bench_die(PROG, "no project '%s'", argv[2]);
	/* A bulk load, not the daemon's traffic: a cache that holds the indexes, no syncs (the
	 * data dir is thrown away after the run), and the WAL checkpointed at the end. */
	if (atr_db_exec(s->db, "PRAGMA cache_size=-524288") < 0 || atr_db_exec(s->db, "PRAGMA synchronous=OFF") < 0 ||
	    atr_db_exec(s->db, "PRAGMA wal_autocheckpoint=100000") < 0)
		bench_die(PROG, "cannot set the bulk-load pragmas");
	t0 = bench_now_ns();
	for (long i = 0; i < runs; i++) {
		struct atr_run_spec spec = { 0 };
		struct atr_metric_batch b;
		char name[32];
		json_t *params;

		if (i % PER_TXN == 0 && atr_store_begin(s) < 0)
			bench_die(PROG, "cannot begin a transaction");
		snprintf(name, sizeof(name), "run-%ld", i);
		params = run_params(i);
		spec.project_id = proj.id;
		spec.name = name;
		spec.params = params;
		spec.status = "finished";
		spec.started_at = t0_ms + i * 1000;
		if (atr_store_run_create(s, &spec, &id) < 0)
			bench_die(PROG, "cannot create run %ld", i);
		json_decref(params);
		run_metrics(&b, spec.started_at + 500);
		if (atr_store_metrics_append(s, id, proj.id, &b, spec.started_at + 500, NULL) < 0)
			bench_die(PROG, "cannot log the metrics of run %ld", i);
		atr_metric_batch_release(&b);
		if ((i + 1) % PER_TXN == 0 || i + 1 == runs) {
			if (atr_store_commit(s) < 0)
				bench_die(PROG, "cannot commit");
		}
	}
	secs = (double)(bench_now_ns() - t0) / 1e9;
	atr_store_close(s);
	printf("runs=%ld seconds=%.1f runs_per_s=%.0f\n", runs, secs, (double)runs / secs);
	return 0;
}

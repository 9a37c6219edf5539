/*
 * seed_evals.c: fills a benchmark with evaluations for the leaderboard scenario, through the
 * store API (atr_store_evaluation_create: what POST .../evaluations writes once a file is
 * scored, leaderboard place included), straight into a stopped daemon's data dir. Scoring
 * 10,000 uploads one HTTP request at a time would measure the scoring, not the board.
 *
 * It registers model "board" with VERSIONS committed versions and spreads EVALS evaluations
 * over them round-robin, each with pseudo-random values of the benchmark's metrics in [0, 1)
 * (about 1 in 50 repeats a value, so the board has ties). Each points at the benchmark's
 * ground truth file as its predictions file (the bytes exist; nothing reads them here).
 *
 * Usage: seed_evals DATA_DIR PROJECT BENCHMARK EVALS VERSIONS
 * Prints: evaluations= versions= seconds= evals_per_s=
 */
#include "common.h"

#include "atrium/db.h"
#include "atrium/store.h"
#include "atrium/store_benchmarks.h"
#include "atrium/store_files.h"
#include "atrium/store_models.h"
#include "atrium/store_projects.h"

#define PROG "seed_evals"
#define PER_TXN 5000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t *make_versions(struct atr_store *s, int64_t project_id, long n)
{
	int64_t *ids = calloc((size_t)n, sizeof(*ids)), model_id;
	struct atr_model_version v;

	if (!ids || atr_store_model_create(s, project_id, "board", "", NULL, 0, "seed", &model_id) < 0)
		bench_die(PROG, "cannot create model 'board'");
	for (long i = 0; i < n; i++) {
		struct atr_model_version_spec spec = { .model_id = model_id, .actor = "seed", .commit = true };
		if (atr_store_model_version_create(s, &spec, &v) < 0)
			bench_die(PROG, "cannot create version %ld", i + 1);
		ids[i] = v.id;
	}
	return ids;
}

static void one(struct atr_store *s, const struct atr_benchmark *b, const struct atr_file *f, int64_t version_id)
{
	json_t *metrics = json_object(), *undef = json_object();
	struct atr_evaluation_new e = { .benchmark_id = b->id,
					.model_version_id = version_id,
					.dataset_version_id = b->dataset_version_id,
					.actor = "seed",
					.format = b->format,
					.rows = 1000,
					.has_primary = true,
					.primary_direction = 1,
					.sha256 = f->sha256,
					.size = f->size };
	int64_t id;

	for (size_t k = 0; metrics && k < b->n_metrics; k++) {
		double v = (double)(next_rand() % 50000) / 50000.0;
		json_object_set_new(metrics, b->metrics[k], json_real(v));
		if (!strcmp(b->metrics[k], b->primary_metric))
			e.primary_value = v;
	}
	e.metrics = metrics;
	e.undefined = undef;
	if (!metrics || !undef || atr_store_evaluation_create(s, &e, &id) < 0)
		bench_die(PROG, "cannot record an evaluation");
	json_decref(metrics);
	json_decref(undef);
}

int main(int argc, char **argv)
{
	struct atr_store *s = NULL;
	struct atr_project proj;
	struct atr_benchmark b;
	struct atr_file f;
	int64_t *versions;
	long evals, nver;
	uint64_t t0;
	double secs;

	if (argc != 6) {
		fprintf(stderr, "usage: %s DATA_DIR PROJECT BENCHMARK EVALS VERSIONS\n", PROG);
		return 2;
	}
	evals = (long)bench_num(PROG, "EVALS", argv[4]);
	nver = (long)bench_num(PROG, "VERSIONS", argv[5]);
	if (nver < 1 || atr_store_open(argv[1], 0, &s) < 0)
		bench_die(PROG, "cannot open the store in '%s'", argv[1]);
	if (atr_store_project_find(s, argv[2], &proj) < 0 || atr_store_benchmark_find(s, proj.id, argv[3], &b) < 0)
		bench_die(PROG, "no benchmark '%s' in project '%s'", argv[3], argv[2]);
	if (atr_store_file_get(s, "dataset_version", b.dataset_version_id, b.truth_path, &f) < 0)
		bench_die(PROG, "the benchmark's ground truth file is missing");
	if (atr_db_exec(s->db, "PRAGMA synchronous=OFF") < 0)
		bench_die(PROG, "cannot set the bulk-load pragmas");
	t0 = bench_now_ns();
	if (atr_store_begin(s) < 0)
		bench_die(PROG, "cannot begin a transaction");
	versions = make_versions(s, proj.id, nver);
	for (long i = 0; i < evals; i++) {
		one(s, &b, &f, versions[i % nver]);
		if ((i + 1) % PER_TXN == 0 && (atr_store_commit(s) < 0 || atr_store_begin(s) < 0))
			bench_die(PROG, "cannot commit");
	}
	if (atr_store_commit(s) < 0)
		bench_die(PROG, "cannot commit");
	secs = (double)(bench_now_ns() - t0) / 1e9;
	free(versions);
	atr_store_close(s);
	printf("evaluations=%ld versions=%ld seconds=%.1f evals_per_s=%.0f\n", evals, nver, secs, (double)evals / secs);
	return 0;
}

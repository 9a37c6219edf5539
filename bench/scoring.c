/*
 * scoring.c: the scoring scenario's probe: scoring a predictions file of ROWS rows against
 * its ground truth with the scoring library (include/atrium/scoring.h), on one core.
 *
 * Generates both files in memory (CSV; ids "id0000042" in a shuffled order in the
 * predictions, so that matching them to the truth touches the hash table at random; labels
 * drawn at random; probabilities with six decimals, rows summing to one), loads the truth,
 * then times, REPS times, a scoring: the predictions fed in 64 KiB chunks, the end (the
 * missing-id check, the class order) and the metrics over all rows. CLASSES 2 scores
 * accuracy, balanced accuracy, precision, recall, f1 (binary and macro), roc_auc, log_loss
 * and top_k_accuracy; more classes score the macro and weighted averages, roc_auc_ovr and
 * roc_auc_ovr_weighted instead of the binary ones; CLASSES 0 is a regression (rmse, mae, r2,
 * mape). Prints one key=value line: rows= classes= pred_mib= truth_s= truth_cpu_s= score_s=
 * (the median) score_min_s= score_cpu_s= (the thread's CPU time: on a busy machine the rest
 * of the wall time is waiting for a CPU) compute_s= (the metrics alone) heap_mib= (what a
 * scoring holds at its end: it grows with the ids, not with the file).
 * Not here: the daemon (no HTTP, no SQL: the library alone).
 */
#include "common.h"

#include <malloc.h>

#include "atrium/scoring.h"

#define PROG "scoring"
#define CHUNK 65536
#define MAX_REPS 20

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct text {
	char *p;
	size_t len, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->len + n > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1 << 20;
		while (cap < t->len + n)
			cap *= 2;
		t->p = realloc(t->p, cap);
		if (!t->p)
			bench_die(PROG, "out of memory");
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static void putf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct text *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(t, buf, (size_t)n);
}

/* The probabilities of a row (k classes, six decimals, summing to 1000000 millionths). */
static void row_probs(unsigned k, unsigned *micro)
{
	unsigned left = 1000000;

	for (unsigned c = 0; c + 1 < k; c++) {
		micro[c] = (unsigned)(rnd() % (left + 1)) / (k - c > 2 ? 2 : 1);
		left -= micro[c];
	}
	micro[k - 1] = left;
}

/* The ground truth and the predictions of n rows. */
static void generate(size_t n, unsigned k, struct text *truth, struct text *pred)
{
	uint32_t *perm = malloc(n * sizeof(*perm));
	unsigned *label = malloc(n * sizeof(*label)), micro[64];

	if (!perm || !label)
		bench_die(PROG, "out of memory");
	putf(truth, "id,label\n");
	putf(pred, "id,prediction");
	for (unsigned c = 0; c < k; c++)
		putf(pred, ",proba_c%u", c);
	putf(pred, "\n");
	for (size_t i = 0; i < n; i++) {
		perm[i] = (uint32_t)i;
		label[i] = k ? (unsigned)(rnd() % k) : 0;
		if (k)
			putf(truth, "id%07zu,c%u\n", i, label[i]);
		else
			putf(truth, "id%07zu,%.6f\n", i, (double)(rnd() % 2000000) / 1000 - 1000);
	}
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd() % i;
		uint32_t t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	for (size_t r = 0; r < n; r++) {
		size_t i = perm[r];
		if (!k) {
			putf(pred, "id%07zu,%.6f\n", i, (double)(rnd() % 2000000) / 1000 - 1000);
			continue;
		}
		row_probs(k, micro);
		putf(pred, "id%07zu,c%u", i, rnd() % 4 ? label[i] : (unsigned)(rnd() % k));
		for (unsigned c = 0; c < k; c++) {
			if (micro[c] == 1000000)
				putf(pred, ",1");
			else
				putf(pred, ",0.%06u", micro[c]);
		}
		putf(pred, "\n");
	}
	free(perm);
	free(label);
}

static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

/* CPU time of this thread, ns: on a machine busy with other work, wall time includes the
 * waits for a CPU; this does not. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One scoring: seconds for all of it (wall, CPU), and for the compute alone; the heap it held. */
static void score_once(const struct atr_scoring_truth *t, const struct text *pred, double *all, double *cpu,
		       double *compute, size_t *heap)
{
	struct atr_scoring_result res;
	struct atr_scoring *s;
	size_t before = heap_bytes();
	uint64_t t0 = bench_now_ns(), c0 = cpu_ns(), t1;
	int rc = atr_scoring_new(t, ATR_SCORING_CSV, &s);

	for (size_t i = 0; rc == 0 && i < pred->len; i += CHUNK)
		rc = atr_scoring_feed(s, pred->p + i, pred->len - i < CHUNK ? pred->len - i : CHUNK);
	if (rc == 0)
		rc = atr_scoring_end(s);
	t1 = bench_now_ns();
	if (rc == 0)
		rc = atr_scoring_compute(s, NULL, &res);
	*all = (double)(bench_now_ns() - t0) / 1e9;
	*cpu = (double)(cpu_ns() - c0) / 1e9;
	*compute = (double)(bench_now_ns() - t1) / 1e9;
	if (rc)
		bench_die(PROG, "scoring failed (%d): %s", rc, s ? atr_scoring_error(s)->message : "");
	for (size_t i = 0; i < res.n; i++)
		if (!res.values[i].defined)
			bench_die(PROG, "%s undefined: %s", res.values[i].metric, res.values[i].why);
	*heap = heap_bytes() - before;
	atr_scoring_free(s);
}

static const char *const binary[] = { "accuracy", "balanced_accuracy", "precision", "recall",	     "f1",
				      "f1_macro", "roc_auc",	       "log_loss",  "top_k_accuracy" };
static const char *const multi[] = { "accuracy",      "balanced_accuracy", "precision_macro",	   "recall_macro",
				     "f1_weighted",   "roc_auc_ovr",	   "roc_auc_ovr_weighted", "log_loss",
				     "top_k_accuracy" };
static const char *const regression[] = { "rmse", "mae", "r2", "mape" };

int main(int argc, char **argv)
{
	struct text truth = { 0 }, pred = { 0 };
	struct atr_scoring_spec spec = { .pos_label = "c1" };
	struct atr_scoring_truth *t;
	double all[MAX_REPS], cpu[MAX_REPS], cmp[MAX_REPS], best, truth_s, truth_cpu;
	size_t n, heap = 0;
	unsigned k;
	int reps;
	uint64_t t0, c0;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s ROWS REPS [CLASSES (2; 0: regression)]\n", PROG);
		return 2;
	}
	n = (size_t)bench_num(PROG, "ROWS", argv[1]);
	reps = (int)bench_num(PROG, "REPS", argv[2]);
	k = argc == 4 ? (unsigned)bench_num(PROG, "CLASSES", argv[3]) : 2;
	if (n < 1 || reps < 1 || reps > MAX_REPS || k == 1 || k > 64)
		bench_die(PROG, "ROWS >= 1, REPS 1..%d, CLASSES 0 or 2..64", MAX_REPS);
	spec.metrics = k == 0 ? regression : k == 2 ? binary : multi;
	spec.n_metrics = k == 0 ? 4 : 9;
	generate(n, k, &truth, &pred);

	t0 = bench_now_ns();
	c0 = cpu_ns();
	if (atr_scoring_truth_new(&spec, ATR_SCORING_CSV, &t) != 0)
		bench_die(PROG, "bad spec");
	for (size_t i = 0; i < truth.len; i += CHUNK)
		if (atr_scoring_truth_feed(t, truth.p + i, truth.len - i < CHUNK ? truth.len - i : CHUNK) != 0)
			bench_die(PROG, "truth: %s", atr_scoring_truth_error(t)->message);
	if (atr_scoring_truth_end(t) != 0)
		bench_die(PROG, "truth: %s", atr_scoring_truth_error(t)->message);
	truth_s = (double)(bench_now_ns() - t0) / 1e9;
	truth_cpu = (double)(cpu_ns() - c0) / 1e9;

	for (int r = 0; r < reps; r++)
		score_once(t, &pred, &all[r], &cpu[r], &cmp[r], &heap);
	best = all[0];
	for (int r = 1; r < reps; r++)
		best = all[r] < best ? all[r] : best;
	printf("rows=%zu classes=%u pred_mib=%.1f truth_s=%.3f truth_cpu_s=%.3f score_s=%.3f score_min_s=%.3f "
	       "score_cpu_s=%.3f compute_s=%.3f heap_mib=%.1f\n",
	       n, k, (double)pred.len / 1048576, truth_s, truth_cpu, bench_median(all, (size_t)reps), best,
	       bench_median(cpu, (size_t)reps), bench_median(cmp, (size_t)reps), (double)heap / 1048576);
	atr_scoring_truth_free(t);
	free(truth.p);
	free(pred.p);
	return 0;
}

/*
 * test_benchmarks_store.c: benchmarks, evaluations, the leaderboard and the evaluation gate
 * on a real database: the board keeps each subject's best (ties: the earlier evaluation, for
 * a higher-is-better and a lower-is-better metric), pages through its cursor with ranks that
 * go on, is rebuilt when the primary metric changes; the gate is checked inside every move
 * of `production` (atr_store_model_alias_set, and an approved promotion), other aliases are
 * free, and a benchmark a gate names cannot be deleted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/store.h"
#include "atrium/store_benchmarks.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/store_identity.h"
#include "atrium/store_models.h"
#include "atrium/store_projects.h"
#include "atrium/store_runs.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

struct fx {
	char dir[64];
	struct atr_store *s;
	int64_t user, project, model, mv[3], run;
	struct atr_benchmark b;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct atr_dataset_version dv;
	struct atr_model_version v;
	int64_t ds;

	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-bench-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(atr_store_open(f->dir, 0, &f->s), 0);
	assert_int_equal(atr_store_user_create(f->s, "ann", "Ann", false, NULL, &f->user), 0);
	assert_int_equal(atr_store_project_create(f->s, "lab", "", 0, false, NULL, f->user, &f->project), 0);
	assert_int_equal(atr_store_dataset_create(f->s, f->project, "truth", "", NULL, f->user, &ds), 0);
	assert_int_equal(atr_store_dsv_create(f->s, ds, "", 0, 0, f->user, &dv), 0);
	assert_int_equal(atr_store_file_put(f->s, "dataset_version", dv.id, "t.csv", SHA_A, 10), 0);
	assert_int_equal(atr_store_dsv_commit(f->s, dv.id, -1, NULL, NULL), 0);
	assert_int_equal(atr_store_model_create(f->s, f->project, "clf", "", NULL, f->user, "ann", &f->model), 0);
	for (int i = 0; i < 3; i++) {
		struct atr_model_version_spec spec = { .model_id = f->model, .actor = "ann", .commit = true };
		assert_int_equal(atr_store_model_version_create(f->s, &spec, &v), 0);
		f->mv[i] = v.id;
	}
	{
		struct atr_run_spec rs = { .project_id = f->project, .name = "r", .status = "finished" };
		assert_int_equal(atr_store_run_create(f->s, &rs, &f->run), 0);
	}
	f->b.project_id = f->project;
	f->b.dataset_version_id = dv.id;
	snprintf(f->b.name, sizeof(f->b.name), "holdout");
	snprintf(f->b.truth_path, sizeof(f->b.truth_path), "t.csv");
	snprintf(f->b.format, sizeof(f->b.format), "csv");
	snprintf(f->b.id_column, sizeof(f->b.id_column), "id");
	snprintf(f->b.label_column, sizeof(f->b.label_column), "label");
	snprintf(f->b.prediction_column, sizeof(f->b.prediction_column), "prediction");
	snprintf(f->b.pos_label, sizeof(f->b.pos_label), "1");
	f->b.top_k = 2;
	f->b.n_metrics = 2;
	snprintf(f->b.metrics[0], sizeof(f->b.metrics[0]), "accuracy");
	snprintf(f->b.metrics[1], sizeof(f->b.metrics[1]), "log_loss");
	snprintf(f->b.primary_metric, sizeof(f->b.primary_metric), "accuracy");
	assert_int_equal(atr_store_benchmark_create(f->s, &f->b, "", f->user), 0);
	assert_int_equal(atr_store_benchmark_create(f->s, &f->b, "", f->user), ATR_ECONFLICT);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	atr_store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* An evaluation of version row mv (0: of run 1) with accuracy acc and log_loss loss. */
static int64_t evaluate(struct fx *f, int64_t mv, double acc, double loss)
{
	json_t *m = json_pack("{s:f, s:f}", "accuracy", acc, "log_loss", loss), *u = json_object();
	struct atr_evaluation_new e = { .benchmark_id = f->b.id,
					.model_version_id = mv,
					.run_id = mv ? 0 : f->run,
					.dataset_version_id = f->b.dataset_version_id,
					.actor = "ann",
					.format = "csv",
					.rows = 4,
					.metrics = m,
					.undefined = u,
					.has_primary = true,
					.primary_value = acc,
					.primary_direction = 1,
					.sha256 = SHA_A,
					.size = 10 };
	int64_t id = 0;

	assert_int_equal(atr_store_evaluation_create(f->s, &e, &id), 0);
	json_decref(m);
	json_decref(u);
	return id;
}

/* The board's evaluation ids, a page of `limit` at a time; checks the ranks. */
static int board(struct fx *f, int limit, int64_t *ids)
{
	struct atr_page p = { .limit = limit };
	int n = 0;
	bool more = true;

	while (more) {
		json_t *arr = json_array(), *it;
		size_t i;
		assert_int_equal(atr_store_leaderboard(f->s, f->b.id, &p, arr, &more), 0);
		json_array_foreach(arr, i, it)
		{
			assert_int_equal(json_integer_value(json_object_get(it, "rank")), n + 1);
			ids[n++] = json_integer_value(json_object_get(it, "evaluation_id"));
			p.after_id = ids[n - 1];
			p.after_kind = ATR_PAGE_NUM;
			p.after_num = json_real_value(json_object_get(it, "sort_key"));
		}
		json_decref(arr);
	}
	return n;
}

static void test_board(void **state)
{
	struct fx *f = *state;
	int64_t e[6], ids[8];
	char alias[64];

	e[0] = evaluate(f, f->mv[0], 0.5, 0.9);
	e[1] = evaluate(f, f->mv[1], 0.75, 0.4);
	e[2] = evaluate(f, f->mv[1], 0.75, 0.3); /* ties v2's best: the earlier stays */
	e[3] = evaluate(f, f->mv[2], 0.75, 0.5); /* ties v2: later, ranked after it */
	e[4] = evaluate(f, 0, 1.0, 0.6);	 /* a run */
	e[5] = evaluate(f, f->mv[0], 0.25, 0.1); /* worse than v1's best */
	for (int limit = 1; limit <= 3; limit++) {
		assert_int_equal(board(f, limit, ids), 4);
		assert_int_equal(ids[0], e[4]);
		assert_int_equal(ids[1], e[1]);
		assert_int_equal(ids[2], e[3]);
		assert_int_equal(ids[3], e[0]);
	}
	/* log_loss: lower is better, rebuilt from every evaluation */
	assert_int_equal(atr_store_benchmark_update(f->s, f->b.id, NULL, "log_loss", -1), 0);
	assert_int_equal(board(f, 2, ids), 4);
	assert_int_equal(ids[0], e[5]);
	assert_int_equal(ids[1], e[2]);
	assert_int_equal(ids[2], e[3]);
	assert_int_equal(ids[3], e[4]);
	assert_int_equal(atr_store_benchmark_update(f->s, f->b.id, "d", "accuracy", 1), 0);
	assert_int_equal(board(f, 50, ids), 4);
	assert_int_equal(ids[0], e[4]);
	/* a deleted version keeps its place, as a model version without a name */
	assert_int_equal(atr_store_model_version_delete(f->s, f->mv[2], "ann", alias), 0);
	{
		struct atr_page p = { .limit = 50 };
		json_t *arr = json_array();
		bool more;
		assert_int_equal(atr_store_leaderboard(f->s, f->b.id, &p, arr, &more), 0);
		assert_int_equal(json_array_size(arr), 4);
		assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 2), "subject")),
				    "model_version");
		assert_true(json_is_null(json_object_get(json_array_get(arr, 2), "model")));
		json_decref(arr);
	}
}

static void test_gate(void **state)
{
	struct fx *f = *state;
	struct atr_gate g = { .model_id = f->model, .benchmark_id = f->b.id, .threshold = 0.7 }, got;
	int64_t ev, from, pr;
	double best;
	char model[64];

	evaluate(f, f->mv[0], 0.5, 0.9);
	ev = evaluate(f, f->mv[1], 0.75, 0.4);
	snprintf(g.metric, sizeof(g.metric), "accuracy");
	assert_int_equal(atr_store_gate_get(f->s, f->model, &got), ATR_ENOTFOUND);
	assert_int_equal(atr_store_model_alias_set(f->s, f->model, "production", f->mv[0], "ann", 0, &from), 0);
	assert_int_equal(atr_store_gate_set(f->s, &g, "ann"), 0);
	assert_int_equal(atr_store_gate_get(f->s, f->model, &got), 0);
	assert_int_equal(got.direction, 1);
	/* v1 (0.5) and v3 (none) are refused; v2 passes; staging is free */
	assert_int_equal(atr_store_gate_check(f->s, f->model, "production", f->mv[0], &got, NULL, &best),
			 ATR_ECONFLICT);
	assert_true(fabs(best - 0.5) < 1e-12);
	assert_int_equal(atr_store_gate_check(f->s, f->model, "production", f->mv[2], NULL, NULL, &best),
			 ATR_ECONFLICT);
	assert_true(isnan(best));
	assert_int_equal(atr_store_gate_check(f->s, f->model, "staging", f->mv[2], NULL, NULL, NULL), 0);
	assert_int_equal(atr_store_model_alias_set(f->s, f->model, "production", f->mv[2], "ann", 0, &from),
			 ATR_ECONFLICT);
	assert_int_equal(atr_store_model_alias_set(f->s, f->model, "staging", f->mv[2], "ann", 0, &from), 0);
	assert_int_equal(atr_store_gate_check(f->s, f->model, "production", f->mv[1], NULL, &from, NULL), 0);
	assert_int_equal(from, ev);
	/* a promotion's approval meets the gate in its transaction: refused, it stays pending */
	assert_int_equal(atr_store_promotion_create(f->s, f->mv[2], "production", "", f->user, "ann", &pr), 0);
	assert_int_equal(atr_store_promotion_decide(f->s, pr, true, f->user, "ann", "", &from), ATR_ECONFLICT);
	assert_int_equal(atr_store_promotion_create(f->s, f->mv[1], "production", "", f->user, "ann", &pr), 0);
	assert_int_equal(atr_store_promotion_decide(f->s, pr, true, f->user, "ann", "", &from), 0);
	assert_int_equal(atr_store_model_alias_get(f->s, f->model, "production", &from), 0);
	assert_int_equal(from, f->mv[1]);
	/* the benchmark stays while the gate names it */
	assert_int_equal(atr_store_benchmark_delete(f->s, f->b.id, model, sizeof(model)), ATR_ECONFLICT);
	assert_string_equal(model, "clf");
	assert_int_equal(atr_store_gate_delete(f->s, f->model), 0);
	assert_int_equal(atr_store_gate_delete(f->s, f->model), ATR_ENOTFOUND);
	assert_int_equal(atr_store_model_alias_set(f->s, f->model, "production", f->mv[2], "ann", 0, &from), 0);
	assert_int_equal(atr_store_benchmark_delete(f->s, f->b.id, NULL, 0), 0);
	assert_int_equal(atr_store_benchmark_get(f->s, f->b.id, &f->b), ATR_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_board, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

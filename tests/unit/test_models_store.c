/*
 * test_models_store.c: the registry's store functions on a real database: models, version
 * numbers (never reused), the jobs' create-copy-commit path, references (number, latest,
 * alias), alias moves and their history, promotions (approve, reject, cancelled by a
 * delete), lineage through runs and dataset files, the search expression builder and
 * search visibility, and the hooks listeners.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/model_hooks.h"
#include "atrium/store.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/store_identity.h"
#include "atrium/store_lineage.h"
#include "atrium/store_models.h"
#include "atrium/store_projects.h"
#include "atrium/store_runs.h"
#include "atrium/store_search.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

struct fx {
	char dir[64];
	struct atr_store *s;
	int64_t user, other, project;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-reg-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(atr_store_open(f->dir, 0, &f->s), 0);
	assert_int_equal(atr_store_user_create(f->s, "ann", "Ann", false, NULL, &f->user), 0);
	assert_int_equal(atr_store_user_create(f->s, "ben", "Ben", false, NULL, &f->other), 0);
	assert_int_equal(atr_store_project_create(f->s, "lab", "", 0, false, NULL, f->user, &f->project), 0);
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
	atr_models_listeners_clear();
	return 0;
}

static int64_t history_count(struct fx *f, int64_t model_id, const char *kind)
{
	struct atr_page p = { .limit = 1000 };
	json_t *arr = json_array(), *it;
	bool more;
	size_t i;
	int64_t n = 0;
	assert_int_equal(atr_store_model_history(f->s, model_id, &p, arr, &more), 0);
	json_array_foreach(arr, i, it) if (!strcmp(json_string_value(json_object_get(it, "kind")), kind)) n++;
	json_decref(arr);
	return n;
}

static void version(struct fx *f, int64_t model_id, bool commit, struct atr_model_version *v)
{
	struct atr_model_version_spec spec = { .model_id = model_id, .commit = commit, .actor = "ann" };
	assert_int_equal(atr_store_model_version_create(f->s, &spec, v), 0);
}

static void test_models_and_numbers(void **state)
{
	struct fx *f = *state;
	struct atr_model m, m2;
	struct atr_model_version v1, v2, v3, r;
	char alias[64];
	int64_t id;
	int err;

	assert_int_equal(atr_store_model_create(f->s, f->project, "clf", "d", NULL, f->user, "ann", &id), 0);
	assert_int_equal(atr_store_model_create(f->s, f->project, "clf", "", NULL, f->user, "ann", NULL),
			 ATR_ECONFLICT);
	assert_int_equal(atr_store_model_find(f->s, f->project, "clf", &m), 0);
	assert_int_equal(m.id, id);
	assert_int_equal(atr_store_model_find(f->s, f->project, "nope", &m2), ATR_ENOTFOUND);
	assert_int_equal(atr_store_model_find_or_create(f->s, f->project, "clf", "job:1", &m2), 0);
	assert_int_equal(m2.id, id);
	assert_int_equal(atr_store_model_find_or_create(f->s, f->project, "from-job", "job:1", &m2), 0);
	assert_true(m2.id != id);
	assert_int_equal(atr_store_model_find_or_create(f->s, f->project, "Bad Name", "job:1", &m2), ATR_EINVAL);
	assert_int_equal(atr_store_model_update(f->s, 9999, "x", NULL), ATR_ENOTFOUND);

	version(f, m.id, false, &v1);
	version(f, m.id, true, &v2);
	assert_int_equal(v1.version, 1);
	assert_false(v1.committed);
	assert_int_equal(v2.version, 2);
	assert_true(v2.committed);
	assert_int_equal(atr_store_model_version_delete(f->s, v2.id, "ann", alias), 0);
	version(f, m.id, false, &v3);
	assert_int_equal(v3.version, 3); /* 2 is never reused */
	{
		struct atr_model_version_spec bad = { .model_id = 12345 };
		assert_int_equal(atr_store_model_version_create(f->s, &bad, &r), ATR_ENOTFOUND);
	}
	/* commit once */
	assert_int_equal(atr_store_model_version_commit(f->s, v1.id, "ann"), 0);
	assert_int_equal(atr_store_model_version_commit(f->s, v1.id, "ann"), ATR_ECONFLICT);
	assert_int_equal(atr_store_model_version_commit(f->s, 777777, "ann"), ATR_ENOTFOUND);
	/* references */
	assert_int_equal(atr_store_model_version_resolve(f->s, m.id, "3", &r), 0);
	assert_int_equal(r.id, v3.id);
	assert_int_equal(atr_store_model_version_resolve(f->s, m.id, "latest", &r), 0);
	assert_int_equal(r.id, v1.id); /* 3 is a draft */
	assert_int_equal(atr_store_model_version_resolve(f->s, m.id, "2", &r), ATR_ENOTFOUND);
	assert_int_equal(atr_store_model_version_resolve(f->s, m.id, "staging", &r), ATR_ENOTFOUND);
	assert_int_equal(atr_store_model_version_resolve(f->s, m.id, "", &r), ATR_ENOTFOUND);
	assert_int_equal(history_count(f, m.id, "version_created"), 3);
	assert_int_equal(history_count(f, m.id, "version_committed"), 2);
	assert_int_equal(history_count(f, m.id, "version_deleted"), 1);
	json_t *j = atr_store_model_json(f->s, m.id, &err);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "latest_version")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "version_count")), 2);
	json_decref(j);
}

static void test_job_registration(void **state)
{
	struct fx *f = *state;
	struct atr_model m;
	struct atr_model_version v;
	int64_t count, bytes;
	int err;
	struct atr_model_version_spec spec = {
		.source_job_id = 42,
		.copy_from_kind = "job_output",
		.copy_from_id = 42,
		.commit = true,
		.actor = "job:42",
	};

	assert_int_equal(atr_store_file_put(f->s, "job_output", 42, "model.pt", SHA_A, 100), 0);
	assert_int_equal(atr_store_file_put(f->s, "job_output", 42, "config.json", SHA_B, 10), 0);
	assert_int_equal(atr_store_model_find_or_create(f->s, f->project, "trained", "job:42", &m), 0);
	spec.model_id = m.id;
	assert_int_equal(atr_store_model_version_create(f->s, &spec, &v), 0);
	assert_true(v.committed);
	assert_int_equal(atr_store_file_totals(f->s, "model_version", v.id, &count, &bytes), 0);
	assert_int_equal(count, 2);
	assert_int_equal(bytes, 110);
	json_t *j = atr_store_model_version_json(f->s, v.id, &err);
	assert_int_equal(json_integer_value(json_object_get(j, "source_job_id")), 42);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "committed");
	json_decref(j);
	/* a job without outputs gives an empty committed version */
	spec.copy_from_id = spec.source_job_id = 43;
	assert_int_equal(atr_store_model_version_create(f->s, &spec, &v), 0);
	assert_int_equal(v.version, 2);
	assert_int_equal(atr_store_file_totals(f->s, "model_version", v.id, &count, &bytes), 0);
	assert_int_equal(count, 0);
	assert_int_equal(history_count(f, m.id, "version_created"), 2);
	assert_int_equal(history_count(f, m.id, "version_committed"), 2);
}

static void test_aliases_and_promotions(void **state)
{
	struct fx *f = *state;
	struct atr_model m;
	struct atr_model_version v1, v2, draft, r;
	struct atr_promotion pr;
	char alias[64] = "";
	int64_t from = -1, pid, pid2, pid3, vid;

	assert_int_equal(atr_store_model_find_or_create(f->s, f->project, "det", "ann", &m), 0);
	version(f, m.id, true, &v1);
	version(f, m.id, true, &v2);
	version(f, m.id, false, &draft);
	assert_int_equal(atr_store_model_alias_set(f->s, m.id, "staging", draft.id, "ann", 0, &from), ATR_ECONFLICT);
	assert_int_equal(atr_store_model_alias_set(f->s, m.id, "staging", 999999, "ann", 0, &from), ATR_ENOTFOUND);
	assert_int_equal(atr_store_model_alias_set(f->s, m.id, "staging", v1.id, "ann", 0, &from), 0);
	assert_int_equal(from, 0);
	assert_int_equal(atr_store_model_alias_set(f->s, m.id, "staging", v1.id, "ann", 0, &from), 0);
	assert_int_equal(from, v1.id);
	assert_int_equal(history_count(f, m.id, "alias_moved"), 1); /* unchanged: no event */
	assert_int_equal(atr_store_model_alias_set(f->s, m.id, "staging", v2.id, "ann", 0, &from), 0);
	assert_int_equal(from, v1.id);
	assert_int_equal(atr_store_model_alias_get(f->s, m.id, "staging", &vid), 0);
	assert_int_equal(vid, v2.id);
	assert_int_equal(atr_store_model_version_resolve(f->s, m.id, "staging", &r), 0);
	assert_int_equal(r.version, 2);
	/* an aliased version stays */
	assert_int_equal(atr_store_model_version_delete(f->s, v2.id, "ann", alias), ATR_ECONFLICT);
	assert_string_equal(alias, "staging");
	assert_int_equal(atr_store_model_alias_delete(f->s, m.id, "staging", "ann", &from), 0);
	assert_int_equal(from, v2.id);
	assert_int_equal(atr_store_model_alias_delete(f->s, m.id, "staging", "ann", &from), ATR_ENOTFOUND);

	/* promotions */
	assert_int_equal(atr_store_promotion_create(f->s, draft.id, "production", "", f->other, "ben", &pid),
			 ATR_ECONFLICT);
	assert_int_equal(atr_store_promotion_create(f->s, v1.id, "production", "first", f->other, "ben", &pid), 0);
	assert_int_equal(atr_store_promotion_get(f->s, pid, &pr), 0);
	assert_string_equal(pr.state, "pending");
	assert_int_equal(pr.project_id, f->project);
	assert_int_equal(atr_store_promotion_decide(f->s, pid, true, f->user, "ann", "ok", &from), 0);
	assert_int_equal(from, 0);
	assert_int_equal(atr_store_model_alias_get(f->s, m.id, "production", &vid), 0);
	assert_int_equal(vid, v1.id);
	assert_int_equal(atr_store_promotion_decide(f->s, pid, true, f->user, "ann", "", NULL), ATR_ECONFLICT);
	assert_int_equal(atr_store_promotion_decide(f->s, pid, false, f->user, "ann", "", NULL), ATR_ECONFLICT);
	assert_int_equal(atr_store_promotion_create(f->s, v2.id, "production", "", f->other, "ben", &pid2), 0);
	assert_int_equal(atr_store_promotion_decide(f->s, pid2, false, f->user, "ann", "no", NULL), 0);
	assert_int_equal(atr_store_model_alias_get(f->s, m.id, "production", &vid), 0);
	assert_int_equal(vid, v1.id);
	assert_int_equal(history_count(f, m.id, "promotion_rejected"), 1);
	assert_int_equal(history_count(f, m.id, "promotion_requested"), 2);
	/* a delete cancels pending promotions */
	assert_int_equal(atr_store_promotion_create(f->s, v2.id, "production", "", f->other, "ben", &pid3), 0);
	assert_int_equal(atr_store_model_version_delete(f->s, v2.id, "ann", alias), 0);
	assert_int_equal(atr_store_promotion_get(f->s, pid3, &pr), 0);
	assert_string_equal(pr.state, "cancelled");
	assert_int_equal(pr.version_id, 0);
	assert_int_equal(pr.version, 2);
	assert_int_equal(atr_store_promotion_decide(f->s, pid3, true, f->user, "ann", "", NULL), ATR_ECONFLICT);
	assert_int_equal(atr_store_promotion_get(f->s, 424242, &pr), ATR_ENOTFOUND);
	/* the decider's queue: owners see production, others nothing */
	{
		struct atr_promotion_filter fl = { .state = "cancelled", .decider_id = f->user };
		struct atr_page p = { .limit = 10 };
		json_t *arr = json_array();
		bool more;
		assert_int_equal(atr_store_promotion_list(f->s, &fl, &p, arr, &more), 0);
		assert_int_equal(json_array_size(arr), 1);
		json_array_clear(arr);
		fl.decider_id = f->other;
		assert_int_equal(atr_store_promotion_list(f->s, &fl, &p, arr, &more), 0);
		assert_int_equal(json_array_size(arr), 0);
		json_decref(arr);
	}
}

static void test_lineage(void **state)
{
	struct fx *f = *state;
	struct atr_model m;
	struct atr_model_version v, v2;
	struct atr_dataset_version dv;
	struct atr_run_spec rs = { 0 };
	int64_t ds, run, inputs[1];
	json_t *l, *d;
	int err;

	assert_int_equal(atr_store_dataset_create(f->s, f->project, "cifar", "", NULL, f->user, &ds), 0);
	assert_int_equal(atr_store_dsv_create(f->s, ds, "", 0, 0, f->user, &dv), 0);
	assert_int_equal(atr_store_file_put(f->s, "dataset_version", dv.id, "b.csv", SHA_B, 2), 0);
	assert_int_equal(atr_store_file_put(f->s, "dataset_version", dv.id, "a.csv", SHA_A, 1), 0);
	assert_int_equal(atr_store_dsv_commit(f->s, dv.id, -1, NULL, NULL), 0);
	rs.project_id = f->project;
	rs.name = "r";
	rs.params = json_pack("{s:s}", "lr", "0.1");
	rs.job_id = 77;
	inputs[0] = dv.id;
	rs.inputs = inputs;
	rs.ninputs = 1;
	assert_int_equal(atr_store_run_create(f->s, &rs, &run), 0);
	json_decref((json_t *)rs.params);
	assert_int_equal(atr_store_model_find_or_create(f->s, f->project, "lin", "ann", &m), 0);
	{
		struct atr_model_version_spec spec = { .model_id = m.id, .source_run_id = run };
		assert_int_equal(atr_store_model_version_create(f->s, &spec, &v), 0);
	}
	l = atr_store_model_lineage(f->s, v.id, 1, &err);
	assert_non_null(l);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(json_object_get(l, "run"), "params"), "lr")), "0.1");
	d = json_array_get(json_object_get(l, "datasets"), 0);
	assert_int_equal(json_integer_value(json_object_get(d, "file_count")), 2);
	assert_int_equal(json_array_size(json_object_get(d, "files")), 1);
	assert_true(json_is_true(json_object_get(d, "truncated")));
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(json_object_get(d, "files"), 0), "sha256")), SHA_A);
	assert_true(json_is_null(json_object_get(l, "job")));
	json_decref(l);
	/* without a run, the job's run */
	{
		struct atr_model_version_spec spec = { .model_id = m.id, .source_job_id = 77 };
		assert_int_equal(atr_store_model_version_create(f->s, &spec, &v2), 0);
	}
	l = atr_store_model_lineage(f->s, v2.id, 1000, &err);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(l, "run"), "id")), run);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(l, "job"), "id")), 77);
	assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(l, "datasets"), 0), "files")),
			 2);
	json_decref(l);
	assert_null(atr_store_model_lineage(f->s, 999999, 10, &err));
	assert_int_equal(err, ATR_ENOTFOUND);
}

static void test_search_expr(void **state)
{
	char out[256], tiny[8];
	(void)state;
	assert_int_equal(atr_search_expr("resnet", out, sizeof(out)), 0);
	assert_string_equal(out, "\"resnet\"*");
	assert_int_equal(atr_search_expr("  a \t b\n", out, sizeof(out)), 0);
	assert_string_equal(out, "\"a\"* \"b\"*");
	assert_int_equal(atr_search_expr("say \"hi\"", out, sizeof(out)), 0);
	assert_string_equal(out, "\"say\"* \"\"\"hi\"\"\"*");
	assert_int_equal(atr_search_expr("AND OR NOT NEAR(", out, sizeof(out)), 0);
	assert_string_equal(out, "\"AND\"* \"OR\"* \"NOT\"* \"NEAR(\"*");
	assert_int_equal(atr_search_expr("", out, sizeof(out)), ATR_EINVAL);
	assert_int_equal(atr_search_expr("   ", out, sizeof(out)), ATR_EINVAL);
	assert_int_equal(atr_search_expr(NULL, out, sizeof(out)), ATR_EINVAL);
	assert_int_equal(atr_search_expr("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", out, sizeof(out)), 0);
	assert_int_equal(atr_search_expr("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", out, sizeof(out)), ATR_EINVAL);
	assert_int_equal(atr_search_expr("abcdefgh", tiny, sizeof(tiny)), ATR_EINVAL);
	assert_int_equal(atr_search_expr("a", tiny, 5), ATR_EINVAL);
	assert_int_equal(atr_search_expr("a", tiny, 6), 0);
}

static int search_count(struct fx *f, const char *q, int64_t user, bool admin, const char *kind)
{
	struct atr_search_query sq = { .kind = kind, .user_id = user, .admin = admin };
	struct atr_page p = { .limit = 100 };
	char expr[256];
	json_t *arr = json_array();
	double score;
	int64_t rowid;
	bool more;
	int n;
	assert_int_equal(atr_search_expr(q, expr, sizeof(expr)), 0);
	sq.expr = expr;
	assert_int_equal(atr_store_search(f->s, &sq, &p, arr, &more, &score, &rowid), 0);
	n = (int)json_array_size(arr);
	json_decref(arr);
	return n;
}

static void test_search_visibility(void **state)
{
	struct fx *f = *state;
	int64_t id, pub;
	struct atr_search_query sq = { .expr = "\"unclosed", .user_id = 1 };
	struct atr_page p = { .limit = 10 };
	json_t *arr = json_array();
	double score;
	int64_t rowid;
	bool more;

	assert_int_equal(atr_store_model_create(f->s, f->project, "quokka", "", NULL, f->user, "ann", &id), 0);
	assert_int_equal(atr_store_project_create(f->s, "pub", "quokka things", 0, true, NULL, f->other, &pub), 0);
	assert_int_equal(search_count(f, "quokka", f->user, false, NULL), 2);  /* own model, internal project */
	assert_int_equal(search_count(f, "quokka", f->other, false, NULL), 1); /* not ann's private model */
	assert_int_equal(search_count(f, "quokka", f->other, true, NULL), 2);
	assert_int_equal(search_count(f, "quokka", f->user, false, "model"), 1);
	assert_int_equal(atr_store_model_update(f->s, id, "now about wombats", NULL), 0);
	assert_int_equal(search_count(f, "wombat", f->user, false, NULL), 1);
	/* an expression FTS5 rejects is EINVAL, not a database failure */
	assert_int_equal(atr_store_search(f->s, &sq, &p, arr, &more, &score, &rowid), ATR_EINVAL);
	json_decref(arr);
}

struct heard {
	int moves, lineage;
	int64_t from, to;
};

static void on_moved(void *arg, int64_t model_id, const char *alias, int64_t from, int64_t to)
{
	struct heard *h = arg;
	(void)model_id;
	(void)alias;
	h->moves++;
	h->from = from;
	h->to = to;
}

static int refuse(void *arg, int64_t version_id, char *why, size_t len)
{
	(void)arg;
	snprintf(why, len, "deployment 'web' serves version row %lld", (long long)version_id);
	return -1;
}

static void add_deployment(void *arg, int64_t version_id, json_t *l)
{
	struct heard *h = arg;
	h->lineage++;
	json_array_append_new(json_object_get(l, "deployments"),
			      json_pack("{s:I}", "version_row", (json_int_t)version_id));
}

static void test_hooks(void **state)
{
	struct heard h = { 0 };
	struct atr_models_listener l = { .arg = &h, .alias_moved = on_moved, .lineage = add_deployment };
	struct atr_models_listener r = { .version_deletable = refuse };
	char why[128] = "";
	json_t *lin = json_pack("{s:[]}", "deployments");
	(void)state;

	assert_int_equal(atr_models_version_deletable(5, why, sizeof(why)), 0);
	assert_int_equal(atr_models_listen(&l), 0);
	atr_models_alias_moved(1, "production", 3, 4);
	assert_int_equal(h.moves, 1);
	assert_int_equal(h.from, 3);
	assert_int_equal(h.to, 4);
	assert_int_equal(atr_models_version_deletable(5, why, sizeof(why)), 0);
	assert_int_equal(atr_models_listen(&r), 0);
	assert_true(atr_models_version_deletable(5, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "deployment 'web'"));
	atr_models_lineage_extend(9, lin);
	assert_int_equal(json_array_size(json_object_get(lin, "deployments")), 1);
	json_decref(lin);
	for (int i = 2; i < ATR_MODELS_MAX_LISTENERS; i++)
		assert_int_equal(atr_models_listen(&r), 0);
	assert_int_equal(atr_models_listen(&r), ATR_ELIMIT);
	atr_models_listeners_clear();
	atr_models_alias_moved(1, "production", 4, 5);
	assert_int_equal(h.moves, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_models_and_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_registration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliases_and_promotions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lineage, setup, teardown),
		cmocka_unit_test(test_search_expr),
		cmocka_unit_test_setup_teardown(test_search_visibility, setup, teardown),
		cmocka_unit_test(test_hooks),
	};
	atr_log_setup(ATR_LOG_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_monitoring_store.c: model monitoring's tables (src/store/monitoring.c) on a real store
 * with the real migrations: profiles kept once per dataset version and settings, settings
 * with their profile, window counts added and read back (shorter rows padded), ground truth
 * kept once per prediction id, quality sums added per window, and all of it gone with the
 * deployment; the capture's prediction id found again (src/store/predictions.c); a monitor's
 * spec replaced (PATCH) with its history kept, and a paused monitor's check put off
 * (src/store/monitors.c).
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
#include "atrium/store.h"
#include "atrium/store_datasets.h"
#include "atrium/store_deployments.h"
#include "atrium/store_identity.h"
#include "atrium/store_models.h"
#include "atrium/store_monitoring.h"
#include "atrium/store_monitors.h"
#include "atrium/store_projects.h"
#include "atrium/util.h"

struct fx {
	char dir[64];
	struct atr_store *s;
	int64_t user, project, model, dsv, dep;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct atr_deployment_row r = { 0 };
	struct atr_dataset_version v;
	int64_t ds;

	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-mon-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(atr_store_open(f->dir, 0, &f->s), 0);
	assert_int_equal(atr_store_user_create(f->s, "ann", "Ann", false, NULL, &f->user), 0);
	assert_int_equal(atr_store_project_create(f->s, "lab", "", 0, false, NULL, f->user, &f->project), 0);
	assert_int_equal(atr_store_model_create(f->s, f->project, "lin", "", NULL, f->user, "ann", &f->model), 0);
	assert_int_equal(atr_store_dataset_create(f->s, f->project, "ref", "", NULL, f->user, &ds), 0);
	assert_int_equal(atr_store_dsv_create(f->s, ds, "", 0, 0, f->user, &v), 0);
	f->dsv = v.id;
	r.project_id = f->project;
	r.model_id = f->model;
	snprintf(r.name, sizeof(r.name), "web");
	r.replicas = 1;
	r.command = json_pack("[s]", "serve");
	r.env = json_object();
	r.resources = json_object();
	r.labels = json_object();
	r.traffic = json_array();
	snprintf(r.health_path, sizeof(r.health_path), "/h");
	snprintf(r.predict_path, sizeof(r.predict_path), "/p");
	snprintf(r.state, sizeof(r.state), "deploying");
	assert_int_equal(atr_store_deployment_insert(f->s, &r), 0);
	f->dep = r.id;
	atr_deployment_row_release(&r);
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

struct seen {
	int n;
	int64_t start[4];
	uint64_t c[4][5];
};

static int each(void *arg, int64_t start, const uint64_t *c, size_t n)
{
	struct seen *s = arg;
	s->start[s->n] = start;
	memcpy(s->c[s->n++], c, n * sizeof(*c));
	return 0;
}

static void test_profiles_settings_counts(void **state)
{
	struct fx *f = *state;
	struct atr_monitor_settings m = { 0 }, got;
	int64_t id, id2;
	char *text = NULL;
	char settings[] = "{\"bins\":10}";
	const uint64_t a[3] = { 1, 2, 3 }, b[5] = { 10, 20, 30, 40, UINT64_MAX - 5 };
	struct seen s = { 0 };

	assert_int_equal(atr_store_monitor_profile_find(f->s, f->dsv, settings, &id, NULL), ATR_ENOTFOUND);
	assert_int_equal(atr_store_monitor_profile_put(f->s, f->dsv, settings, "{\"p\":1}", &id), 0);
	assert_int_equal(atr_store_monitor_profile_put(f->s, f->dsv, settings, "{\"p\":2}", &id2), 0);
	assert_int_equal(id, id2); /* kept once */
	assert_int_equal(atr_store_monitor_profile_find(f->s, f->dsv, settings, &id2, &text), 0);
	assert_string_equal(text, "{\"p\":1}");
	free(text);
	assert_int_equal(atr_store_monitor_settings_get(f->s, f->dep, &got), ATR_ENOTFOUND);
	m.deployment_id = f->dep;
	m.dataset_version_id = f->dsv;
	m.profile_id = id;
	m.updated_at = 5;
	m.settings = settings;
	snprintf(m.source, sizeof(m.source), "lineage");
	assert_int_equal(atr_store_monitor_settings_put(f->s, &m), 0);
	assert_int_equal(atr_store_monitor_settings_get(f->s, f->dep, &got), 0);
	assert_string_equal(got.source, "lineage");
	assert_string_equal(got.profile, "{\"p\":1}");
	assert_int_equal(got.profile_id, id);
	atr_monitor_settings_release(&got);

	/* counts: a window written as 3 slots then added to as 5 reads as 5, padded */
	assert_int_equal(atr_store_monitor_counts_add(f->s, f->dep, id, 600000, a, 3), 0);
	assert_int_equal(atr_store_monitor_counts_add(f->s, f->dep, id, 600000, b, 5), 0);
	assert_int_equal(atr_store_monitor_counts_add(f->s, f->dep, id, 300000, a, 3), 0);
	assert_int_equal(atr_store_monitor_counts_add(f->s, f->dep, id + 1, 300000, a, 3), 0);
	assert_int_equal(atr_store_monitor_counts_each(f->s, f->dep, id, 0, 900000, 5, each, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.start[0], 300000);
	assert_int_equal(s.c[0][2], 3);
	assert_int_equal(s.c[0][4], 0);
	assert_int_equal(s.c[1][0], 11);
	assert_int_equal(s.c[1][3], 40);
	assert_true(s.c[1][4] == UINT64_MAX - 5);
	s.n = 0;
	assert_int_equal(atr_store_monitor_counts_each(f->s, f->dep, id, 600000, 600001, 5, each, &s), 0);
	assert_int_equal(s.n, 1);
}

static int qeach(void *arg, int64_t start, const struct atr_quality *q)
{
	struct atr_quality *out = arg;
	(void)start;
	*out = *q;
	return 0;
}

static void test_feedback_quality_and_delete(void **state)
{
	struct fx *f = *state;
	struct atr_prediction p = { 0 };
	struct atr_quality q = { .labelled = 2,
				 .correct = 1,
				 .numeric = 2,
				 .sum_abs = 1.5,
				 .sum_sq = 2.25,
				 .sum_y = 3,
				 .sum_y2 = 5,
				 .class_overflow = 1 },
			   got = { 0 };
	bool added;
	char *resp = NULL, answer[] = "{\"y\":1}", request[] = "{}";
	size_t len;
	int64_t at;

	assert_int_equal(atr_store_monitor_feedback_add(f->s, f->dep, "p1", "1", &added), 0);
	assert_true(added);
	assert_int_equal(atr_store_monitor_feedback_add(f->s, f->dep, "p1", "2", &added), 0);
	assert_false(added);
	atr_quality_add_class(&q, "cat", 1, 2, 3);
	atr_quality_add_class(&q, "dog", 0, 1, 0);
	assert_int_equal(atr_store_monitor_quality_add(f->s, f->dep, 300000, &q), 0);
	assert_int_equal(atr_store_monitor_quality_add(f->s, f->dep, 300000, &q), 0);
	assert_int_equal(atr_store_monitor_quality_each(f->s, f->dep, 0, 900000, qeach, &got), 0);
	assert_int_equal(got.labelled, 4);
	assert_int_equal(got.correct, 2);
	assert_true(got.sum_y2 == 10 && got.sum_abs == 3);
	assert_int_equal(got.class_overflow, 2); /* class counts add per window like the sums */
	assert_int_equal(got.nclasses, 2);
	for (size_t i = 0; i < got.nclasses; i++) {
		const struct atr_quality_class *c = &got.classes[i];
		if (strcmp(c->name, "cat") == 0)
			assert_true(c->tp == 2 && c->fp == 4 && c->fn == 6);
		else
			assert_true(strcmp(c->name, "dog") == 0 && c->tp == 0 && c->fp == 2 && c->fn == 0);
	}

	/* a capture keeps its prediction id */
	p.deployment_id = f->dep;
	p.created_at = 123456;
	p.response = answer;
	p.response_len = p.response_size = 7;
	p.request = request;
	p.request_len = p.request_size = 2;
	snprintf(p.request_id, sizeof(p.request_id), "req-1");
	assert_int_equal(atr_store_predictions_insert(f->s, &p, 1), 0);
	assert_int_equal(atr_store_prediction_find(f->s, f->dep, "req-1", &at, &resp, &len), 0);
	assert_int_equal(at, 123456);
	assert_int_equal(len, 7);
	assert_memory_equal(resp, "{\"y\":1}", 7);
	free(resp);
	assert_int_equal(atr_store_prediction_find(f->s, f->dep, "req-2", &at, &resp, &len), ATR_ENOTFOUND);

	/* the deployment goes: so does its monitoring */
	assert_int_equal(atr_store_deployment_delete(f->s, f->dep), 0);
	got.labelled = 0;
	assert_int_equal(atr_store_monitor_quality_each(f->s, f->dep, 0, 900000, qeach, &got), 0);
	assert_int_equal(got.labelled, 0);
	assert_true(atr_store_monitor_feedback_add(f->s, f->dep, "p9", "1", &added) < 0); /* no such deployment */
}

static void count_due(void *cls, const struct atr_monitor_row *m)
{
	(void)m;
	++*(int *)cls;
}

/* A PATCH's store side: the spec and interval replaced, checked soon, the history kept; a
 * paused monitor's turn passing moves only its next check. */
static void test_monitor_update_and_snooze(void **state)
{
	struct fx *f = *state;
	struct atr_page pg = { .limit = 10 };
	int64_t id, hid, now;
	json_t *o, *arr = json_array();
	bool more = false;
	int err, n = 0;

	assert_int_equal(atr_store_monitor_create(f->s, f->dep, "m", "{\"alerting\":1}", 60000, f->user, &id), 0);
	assert_int_equal(atr_store_monitor_change(f->s, id, "no_data", "ok", 0.5, 10, atr_now_ms(), &hid), 0);
	assert_int_equal(atr_store_monitor_update(f->s, f->dep, id, "{\"alerting\":2}", 5000), 0);
	now = atr_now_ms();
	o = atr_store_monitor_json(f->s, f->dep, id, &err);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "spec"), "alerting")), 2);
	json_decref(o);
	assert_int_equal(atr_store_monitor_history(f->s, id, &pg, arr, &more), 0);
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);
	assert_int_equal(atr_store_monitors_due(f->s, now + 1, 10, count_due, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(atr_store_monitor_snooze(f->s, id, now), 0);
	n = 0;
	assert_int_equal(atr_store_monitors_due(f->s, now + 4999, 10, count_due, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(atr_store_monitors_due(f->s, now + 5000, 10, count_due, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(atr_store_monitor_update(f->s, f->dep + 1, id, "{}", 5000), ATR_ENOTFOUND);
	assert_int_equal(atr_store_monitor_update(f->s, f->dep, id + 1, "{}", 5000), ATR_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_profiles_settings_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feedback_quality_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_update_and_snooze, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

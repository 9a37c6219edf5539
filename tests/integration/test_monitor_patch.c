/*
 * test_monitor_patch.c: changing a monitor (PATCH .../monitors/{id}) and the features a
 * monitor names, against the real server (no worker: the monitors are checked but see no
 * traffic). A PATCH changes the levels, window, interval, minimum samples, channels, action
 * and pausing, keeps the name, state and history, is audited, and is checked as a creation
 * (400 naming the field); a paused monitor is not checked. Features are checked against the
 * reference profile once the monitoring is set, else the model version's signature's inputs,
 * else accepted and marked unchecked. Then access.
 */
#include "fixtures.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 30000

static struct h_server S;
static char tok[4][128]; /* owner, editor, viewer, outsider of project "mp" */
static long long channel_id;

#define OWNER tok[0]
#define EDITOR tok[1]
#define VIEWER tok[2]
#define OUTSIDER tok[3]
#define ADMIN (S.admin_token)
#define MON "/api/v1/deployments/sig/monitors"

static void sleep_ms(int n)
{
	struct timespec ts = { n / 1000, (long)(n % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Version n of model "lin", with signature (JSON text, or NULL: none). */
static void model_version(int n, const char *signature)
{
	const char *model = "{\"weights\":[1,2],\"bias\":0.5}";

	json_decref(h_call(&S, "POST", "/api/v1/projects/mp/models/lin/versions", OWNER,
			   signature ? h_fmt("{\"signature\":%s}", signature) : "{}", 201));
	json_decref(f_put(&S, h_fmt("/api/v1/projects/mp/models/lin/versions/%d/files/model.json", n), OWNER, model,
			  strlen(model), NULL, 201));
	json_decref(
		h_call(&S, "POST", h_fmt("/api/v1/projects/mp/models/lin/versions/%d/commit", n), OWNER, "{}", 200));
}

static int setup(void **state)
{
	static const char *const names[4] = { "pat", "ed", "vi", "otto" };
	const char *csv = "a,y,b\n1,2.5,0\n2,4.5,1\n3,6.5,1\n4,8.5,0\n";
	json_t *ch;
	(void)state;

	h_server_start(&S, NULL);
	f_people(&S, "mp", names, tok);
	json_decref(h_call(&S, "POST", "/api/v1/projects/mp/datasets", EDITOR, "{\"name\":\"ref\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/mp/datasets/ref/versions", EDITOR, "{}", 201));
	json_decref(f_put(&S, "/api/v1/projects/mp/datasets/ref/versions/1/files/ref.csv", EDITOR, csv, strlen(csv),
			  NULL, 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/mp/datasets/ref/versions/1/commit", EDITOR, "{}", 200));
	json_decref(h_call(&S, "POST", "/api/v1/projects/mp/models", OWNER, "{\"name\":\"lin\"}", 201));
	model_version(1, "{\"inputs\":[{\"name\":\"a\",\"type\":\"double\"},{\"name\":\"b\",\"type\":\"long\"}]}");
	model_version(2, NULL);
	/* a worker on paper (nothing behind its URL): deployments are accepted, none gets ready */
	json_decref(h_call(&S, "POST", "/api/v1/workers/register", NULL,
			   h_fmt("{\"join_token\":\"%s\",\"name\":\"w1\",\"url\":\"http://127.0.0.1:9/\","
				 "\"cpus\":8,\"memory_mb\":8192}",
				 h_join_token(&S, "w")),
			   201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/mp/deployments", EDITOR,
			   "{\"name\":\"sig\",\"model\":\"lin\",\"version\":1,\"command\":[\"true\"]}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/mp/deployments", EDITOR,
			   "{\"name\":\"bare\",\"model\":\"lin\",\"version\":2,\"command\":[\"true\"]}", 201));
	ch = h_call(&S, "POST", "/api/v1/notification-channels", ADMIN,
		    "{\"name\":\"hook\",\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:9/\","
		    "\"secret\":\"a-secret-of-sixteen-bytes\"}",
		    201);
	channel_id = f_int(ch, "id");
	json_decref(ch);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	h_server_cleanup(&S);
	return 0;
}

static long long create(const char *base, const char *body)
{
	json_t *m = h_call(&S, "POST", base, EDITOR, body, 201);
	long long id = f_int(m, "id");
	json_decref(m);
	return id;
}

static json_t *patch(long long id, const char *body, long status)
{
	return h_call(&S, "PATCH", h_fmt(MON "/%lld", id), EDITOR, body, status);
}

/* ---- tests ---- */

static void test_patch(void **state)
{
	long long id = create(MON, "{\"name\":\"dr\",\"watch\":\"drift\",\"features\":[\"a\"],\"warning\":0.5,"
				   "\"alerting\":2}");
	json_t *m, *spec;
	(void)state;

	m = patch(id,
		  h_fmt("{\"warning\":0.2,\"alerting\":0.4,\"window_s\":600,\"interval_s\":5,\"min_samples\":10,"
			"\"channels\":[%lld],\"action\":{\"type\":\"retrain\",\"dataset\":\"ref\",\"job\":{\"command\":"
			"[\"true\"]}}}",
			channel_id),
		  200);
	spec = json_object_get(m, "spec");
	assert_string_equal(f_str(m, "name"), "dr");
	assert_int_equal(f_int(m, "id"), id);
	assert_true(json_number_value(json_object_get(spec, "warning")) == 0.2);
	assert_true(json_number_value(json_object_get(spec, "alerting")) == 0.4);
	assert_int_equal(f_int(spec, "window_s"), 600);
	assert_int_equal(f_int(spec, "interval_s"), 5);
	assert_int_equal(f_int(spec, "min_samples"), 10);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(spec, "channels"), 0)), channel_id);
	assert_string_equal(f_str(json_object_get(spec, "action"), "dataset"), "ref");
	/* what the PATCH did not name stays */
	assert_string_equal(f_str(spec, "watch"), "drift");
	assert_string_equal(f_str(spec, "statistic"), "psi");
	assert_string_equal(f_str(spec, "direction"), "above");
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "features"), 0)), "a");
	assert_true(json_is_true(json_object_get(spec, "enabled")));
	json_decref(m);
	/* the action removed, the warning level dropped */
	m = patch(id, "{\"action\":null,\"warning\":null,\"alerting\":0.1}", 200);
	spec = json_object_get(m, "spec");
	assert_true(json_is_null(json_object_get(spec, "action")));
	assert_true(json_is_null(json_object_get(spec, "warning")));
	assert_true(json_number_value(json_object_get(spec, "alerting")) == 0.1);
	assert_int_equal(f_int(spec, "interval_s"), 5);
	json_decref(m);
	/* an empty change answers the monitor as it is */
	json_decref(patch(id, "{}", 200));
	/* as stored, read back; history and audit */
	m = h_call(&S, "GET", h_fmt(MON "/%lld", id), VIEWER, NULL, 200);
	assert_true(json_number_value(json_object_get(json_object_get(m, "spec"), "alerting")) == 0.1);
	json_decref(m);
	json_decref(h_call(&S, "GET", h_fmt(MON "/%lld/history", id), VIEWER, NULL, 200));
	assert_int_equal(f_sql_int(&S, h_fmt("SELECT count(*) FROM audit_log WHERE action = "
					     "'deployments.monitors.update' AND object = 'project:mp/deployment:sig/"
					     "monitor:%lld' AND status = 200",
					     id)),
			 3);
}

static void test_patch_bad_input(void **state)
{
	long long id = create(MON, "{\"name\":\"bad\",\"watch\":\"drift\",\"warning\":0.5,\"alerting\":2}");
	long long gw = create(MON, "{\"name\":\"gw\",\"watch\":\"error_rate\",\"alerting\":0.5}");
	const char *p = h_fmt(MON "/%lld", id);
	char path[128];
	json_t *m;
	(void)state;

	snprintf(path, sizeof(path), "%s", p);
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"window_s\":10}", 400, "window_s");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"window_s\":\"1h\"}", 400, "window_s");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"interval_s\":0}", 400, "interval_s");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"min_samples\":0}", 400, "min_samples");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"alerting\":\"high\"}", 400, "alerting");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"alerting\":null}", 400, "alerting");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"warning\":\"\"}", 400, "warning");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"direction\":\"sideways\"}", 400, "direction");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"enabled\":\"yes\"}", 400, "enabled");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"channels\":[999]}", 400, "channels[0]");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"channels\":[0]}", 400, "channels[0]");
	h_expect_error(&S, "PATCH", path, EDITOR,
		       "{\"action\":{\"type\":\"retrain\",\"dataset\":\"nope\",\"job\":{\"command\":[\"true\"]}}}", 400,
		       "action.dataset");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"action\":{\"type\":\"retrain\",\"dataset\":\"ref\",\"job\":{}}}",
		       400, "action.job.command");
	/* the levels in order against what is stored: the field the request moved is named */
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"alerting\":0.1}", 400, "alerting");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"warning\":3}", 400, "warning");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"direction\":\"below\"}", 400, "warning");
	/* what makes a monitor what it is cannot change */
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"name\":\"other\"}", 400, "name");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"watch\":\"quality\"}", 400, "watch");
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"statistic\":\"ks\"}", 400, "statistic");
	h_expect_error(&S, "PATCH", path, EDITOR, "[1]", 400, NULL);
	h_expect_error(&S, "PATCH", path, EDITOR, "{\"alerting\":", 400, NULL);
	h_expect_error(&S, "PATCH", h_fmt(MON "/%lld", gw), EDITOR, "{\"window_s\":3600}", 400, "window_s");
	h_expect_error(&S, "PATCH", MON "/abc", EDITOR, "{}", 400, "id");
	h_expect_error(&S, "PATCH", MON "/999999", EDITOR, "{}", 404, NULL);
	h_expect_error(&S, "PATCH", h_fmt("/api/v1/deployments/bare/monitors/%lld", id), EDITOR, "{}", 404, NULL);
	/* nothing refused was kept */
	m = h_call(&S, "GET", path, VIEWER, NULL, 200);
	assert_true(json_number_value(json_object_get(json_object_get(m, "spec"), "alerting")) == 2);
	assert_int_equal(f_int(json_object_get(m, "spec"), "window_s"), 3600);
	json_decref(m);
}

static json_t *get_monitor(long long id)
{
	return h_call(&S, "GET", h_fmt(MON "/%lld", id), VIEWER, NULL, 200);
}

/* Polls until the monitor has been checked (checked_at not null); its checked_at (new reference). */
static json_t *wait_checked(long long id, const json_t *after)
{
	for (int t = 0; t < WAIT_MS; t += 100) {
		json_t *m = get_monitor(id), *at = json_object_get(m, "checked_at");
		if (!json_is_null(at) && at && (!after || !json_equal(at, after))) {
			json_incref(at);
			json_decref(m);
			return at;
		}
		json_decref(m);
		sleep_ms(100);
	}
	fail_msg("monitor %lld was never checked", id);
	return NULL;
}

static void test_pause(void **state)
{
	long long id = create(MON, "{\"name\":\"pz\",\"watch\":\"error_rate\",\"alerting\":0.5,\"interval_s\":1}");
	json_t *at, *m;
	(void)state;

	at = wait_checked(id, NULL);
	m = patch(id, "{\"enabled\":false}", 200);
	assert_true(json_is_false(json_object_get(json_object_get(m, "spec"), "enabled")));
	json_decref(m);
	json_decref(at);
	/* a check that began before the PATCH may land: take the checked_at after it */
	sleep_ms(1500);
	m = get_monitor(id);
	at = json_incref(json_object_get(m, "checked_at"));
	json_decref(m);
	sleep_ms(2500); /* more than two intervals: a monitor checked would show it */
	m = get_monitor(id);
	assert_true(json_equal(json_object_get(m, "checked_at"), at));
	assert_string_equal(f_str(m, "state"), "no_data");
	json_decref(m);
	json_decref(patch(id, "{\"enabled\":true}", 200));
	json_decref(wait_checked(id, at));
	json_decref(at);
}

static void test_features(void **state)
{
	json_t *m;
	long long loose;
	(void)state;

	/* no profile yet: the signature's inputs */
	m = h_call(&S, "POST", MON, EDITOR,
		   "{\"name\":\"fa\",\"watch\":\"drift\",\"features\":[\"a\",\"b\"],\"alerting\":1}", 201);
	assert_true(json_is_true(json_object_get(json_object_get(m, "spec"), "features_checked")));
	json_decref(m);
	f_expect_message(&S, "POST", MON, EDITOR,
			 "{\"name\":\"fz\",\"watch\":\"drift\",\"features\":[\"a\",\"zzz\"],\"alerting\":1}", 400,
			 "feature 'zzz' is not in the model version's signature");
	h_expect_error(&S, "POST", MON, EDITOR,
		       "{\"name\":\"fz\",\"watch\":\"drift\",\"features\":[\"a\",\"zzz\"],\"alerting\":1}", 400,
		       "features[1]");
	/* neither a profile nor a signature: accepted, marked unchecked */
	m = h_call(&S, "POST", "/api/v1/deployments/bare/monitors", EDITOR,
		   "{\"name\":\"loose\",\"watch\":\"drift\",\"features\":[\"anything\"],\"alerting\":1}", 201);
	loose = f_int(m, "id");
	assert_true(json_is_false(json_object_get(json_object_get(m, "spec"), "features_checked")));
	json_decref(m);
	m = h_call(&S, "POST", "/api/v1/deployments/bare/monitors", EDITOR,
		   "{\"name\":\"all\",\"watch\":\"drift\",\"alerting\":1}", 201);
	assert_true(json_is_true(json_object_get(json_object_get(m, "spec"), "features_checked")));
	json_decref(m);
	/* the profile built: its input features (not the prediction column) */
	json_decref(h_call(&S, "PUT", "/api/v1/deployments/bare/monitoring", EDITOR,
			   "{\"reference\":{\"dataset\":\"ref\"},\"prediction\":{\"column\":\"y\"}}", 200));
	f_expect_message(&S, "POST", "/api/v1/deployments/bare/monitors", EDITOR,
			 "{\"name\":\"fy\",\"watch\":\"drift\",\"features\":[\"y\"],\"alerting\":1}", 400,
			 "feature 'y' is not in the reference profile of deployment 'bare' (its features: a, b)");
	h_expect_error(&S, "POST", "/api/v1/deployments/bare/monitors", EDITOR,
		       "{\"name\":\"fy\",\"watch\":\"drift\",\"features\":[\"y\"],\"alerting\":1}", 400, "features[0]");
	m = h_call(&S, "POST", "/api/v1/deployments/bare/monitors", EDITOR,
		   "{\"name\":\"fb\",\"watch\":\"data_quality\",\"features\":[\"b\"],\"alerting\":0.5}", 201);
	assert_true(json_is_true(json_object_get(json_object_get(m, "spec"), "features_checked")));
	json_decref(m);
	/* a PATCH checks the whole monitor: the unchecked name is refused now, until it is fixed */
	h_expect_error(&S, "PATCH", h_fmt("/api/v1/deployments/bare/monitors/%lld", loose), EDITOR, "{\"alerting\":2}",
		       400, "features[0]");
	h_expect_error(&S, "PATCH", h_fmt("/api/v1/deployments/bare/monitors/%lld", loose), EDITOR,
		       "{\"features\":[\"a\",\"nope\"]}", 400, "features[1]");
	m = h_call(&S, "PATCH", h_fmt("/api/v1/deployments/bare/monitors/%lld", loose), EDITOR,
		   "{\"features\":[\"a\"]}", 200);
	assert_true(json_is_true(json_object_get(json_object_get(m, "spec"), "features_checked")));
	json_decref(m);
}

static void test_access(void **state)
{
	long long id = create(MON, "{\"name\":\"acc\",\"watch\":\"error_rate\",\"alerting\":0.5}");
	const char *p = h_fmt(MON "/%lld", id);
	char path[128];
	json_t *m;
	(void)state;

	snprintf(path, sizeof(path), "%s", p);
	h_expect_error(&S, "PATCH", path, VIEWER, "{\"alerting\":0.9}", 403, NULL);
	h_expect_error(&S, "PATCH", path, OUTSIDER, "{\"alerting\":0.9}", 404, NULL);
	h_expect_error(&S, "PATCH", path, NULL, "{\"alerting\":0.9}", 401, NULL);
	m = h_call(&S, "PATCH", path, OWNER, "{\"alerting\":0.9}", 200);
	json_decref(m);
	m = h_call(&S, "GET", path, VIEWER, NULL, 200);
	assert_true(json_number_value(json_object_get(json_object_get(m, "spec"), "alerting")) == 0.9);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patch),	 cmocka_unit_test(test_patch_bad_input), cmocka_unit_test(test_pause),
		cmocka_unit_test(test_features), cmocka_unit_test(test_access),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}

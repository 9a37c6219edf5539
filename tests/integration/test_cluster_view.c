/*
 * test_cluster_view.c: what the dashboard shows of a Slurm cluster, without a Slurm: the
 * link to its slurmrestd ("slurmrestd": state, last contact, error) for a URL where nothing
 * listens, for a secret file that cannot be read, and for a URL that answers /ping (a plain
 * python3 http.server serving a file at that path stands in for slurmrestd); and Atrium's
 * jobs there by state ("jobs_by_state"); its staging settings and figures ("staging"), and the
 * staging GC's part of POST /api/v1/admin/gc. Any signed-in user reads them; nobody else.
 */
#include "fixtures.h"
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct h_server S;
static char viewer[128], editor[128], dir[256];
static int port;

static const char *body(const char *name, int on_port, const char *key)
{
	return h_fmt("{\"name\":\"%s\",\"kind\":\"slurm\",\"url\":\"http://127.0.0.1:%d/slurm/v0.0.38\","
		     "\"auth\":\"jwt_key\",\"secret_path\":\"%s\",\"user\":\"mlops\",\"partitions\":[\"gpu\",\"cpu\"],"
		     "\"shared_dir\":\"%s\",\"max_jobs\":7}",
		     name, on_port, key, dir);
}

struct want {
	const char *cluster, *state;
	json_t *got;
};

/* The cluster's link reached the wanted state (reads start the checks). */
static bool link_is(void *arg)
{
	struct want *w = arg;
	json_t *j = h_call(&S, "GET", h_fmt("/api/v1/clusters/%s", w->cluster), viewer, NULL, 200);
	json_t *l = json_object_get(j, "slurmrestd");

	if (l && !strcmp(f_str(l, "state"), w->state)) {
		json_decref(w->got);
		w->got = j;
		return true;
	}
	json_decref(j);
	usleep(100000);
	return false;
}

static json_t *wait_link(const char *cluster, const char *state)
{
	struct want w = { cluster, state, NULL };

	if (!h_wait(link_is, &w, 20000))
		fprintf(stderr, "cluster %s: link never %s\n", cluster, state);
	assert_non_null(w.got);
	return w.got;
}

static void test_link_down(void **state)
{
	json_t *j, *l;
	(void)state;

	/* port 1: nothing listens there */
	json_decref(h_call(&S, "POST", "/api/v1/clusters", S.admin_token, body("far", 1, h_fmt("%s/key", dir)), 201));
	j = wait_link("far", "error");
	l = json_object_get(j, "slurmrestd");
	assert_non_null(strstr(f_str(l, "error"), "does not answer"));
	assert_true(json_is_null(json_object_get(l, "last_contact_at")));
	assert_true(json_is_string(json_object_get(l, "checked_at")));
	assert_int_equal(f_int(j, "max_jobs"), 7);
	assert_int_equal(json_array_size(json_object_get(j, "partitions")), 2);
	json_decref(j);
	/* a secret that cannot be read says so, without its path */
	json_decref(h_call(&S, "POST", "/api/v1/clusters", S.admin_token, body("nokey", 1, "/nonexistent/key"), 201));
	j = wait_link("nokey", "error");
	l = json_object_get(j, "slurmrestd");
	assert_non_null(strstr(f_str(l, "error"), "no credentials"));
	assert_null(strstr(f_str(l, "error"), "/nonexistent"));
	json_decref(j);
	json_decref(h_call(&S, "DELETE", "/api/v1/clusters/nokey", S.admin_token, NULL, 204));
}

static void test_link_up(void **state)
{
	json_t *j, *l;
	(void)state;

	json_decref(
		h_call(&S, "POST", "/api/v1/clusters", S.admin_token, body("near", port, h_fmt("%s/key", dir)), 201));
	j = wait_link("near", "ok");
	l = json_object_get(j, "slurmrestd");
	assert_true(json_is_string(json_object_get(l, "last_contact_at")));
	assert_true(json_is_null(json_object_get(l, "error")));
	json_decref(j);
	/* in the list too */
	j = h_call(&S, "GET", "/api/v1/clusters", viewer, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	assert_non_null(json_object_get(json_array_get(json_object_get(j, "items"), 0), "slurmrestd"));
	assert_non_null(json_object_get(json_array_get(json_object_get(j, "items"), 0), "jobs_by_state"));
	json_decref(j);
}

/* Every job that names the cluster is counted once, whatever its state. */
static void test_jobs_by_state(void **state)
{
	json_t *j, *counts, *v;
	const char *k;
	long long total = 0;
	(void)state;

	j = h_call(&S, "GET", "/api/v1/clusters/far", viewer, NULL, 200);
	assert_int_equal(json_object_size(json_object_get(j, "jobs_by_state")), 0);
	json_decref(j);
	for (int i = 0; i < 2; i++)
		json_decref(h_call(&S, "POST", "/api/v1/projects/view/jobs", editor,
				   "{\"command\":[\"true\"],\"cluster\":\"far\"}", 201));
	j = h_call(&S, "GET", "/api/v1/clusters/far", viewer, NULL, 200);
	counts = json_object_get(j, "jobs_by_state");
	json_object_foreach(counts, k, v) total += json_integer_value(v);
	assert_int_equal(total, 2);
	json_decref(j);
}

static void test_no_permission(void **state)
{
	(void)state;
	h_expect_error(&S, "GET", "/api/v1/clusters/far", NULL, NULL, 401, NULL);
	h_expect_error(&S, "GET", "/api/v1/clusters", NULL, NULL, 401, NULL);
	h_expect_error(&S, "GET", "/api/v1/clusters/nope", viewer, NULL, 404, NULL);
}

/* The staging settings (keep_s) and figures of a cluster, and the staging GC's part of the
 * admin GC pass; bad input names its field, only admins change them. */
static void test_staging_settings(void **state)
{
	const char *p = "/api/v1/clusters/kept";
	json_t *j, *st;
	(void)state;

	j = h_call(&S, "GET", "/api/v1/clusters/far", viewer, NULL, 200);
	st = json_object_get(j, "staging");
	assert_int_equal(f_int(st, "keep_s"), 604800); /* (7 days unless said) */
	assert_int_equal(f_int(json_object_get(st, "blobs"), "count"), 0);
	assert_int_equal(f_int(json_object_get(st, "blobs"), "bytes"), 0);
	assert_int_equal(f_int(st, "blobs_copied"), 0);
	assert_int_equal(f_int(st, "blobs_collected"), 0);
	json_decref(j);
	j = h_call(&S, "POST", "/api/v1/clusters", S.admin_token,
		   h_fmt("{\"name\":\"kept\",\"url\":\"http://127.0.0.1:1/slurm/v0.0.38\",\"auth\":\"jwt_key\","
			 "\"secret_path\":\"%s/"
			 "key\",\"user\":\"mlops\",\"shared_dir\":\"%s\",\"staging\":{\"keep_s\":60}}",
			 dir, dir),
		   201);
	assert_int_equal(f_int(json_object_get(j, "staging"), "keep_s"), 60);
	json_decref(j);
	/* bad input, each naming its field */
	h_expect_error(&S, "PATCH", p, S.admin_token, "{\"staging\":{\"keep_s\":-1}}", 400, "staging.keep_s");
	h_expect_error(&S, "PATCH", p, S.admin_token, "{\"staging\":{\"keep_s\":315360001}}", 400, "staging.keep_s");
	h_expect_error(&S, "PATCH", p, S.admin_token, "{\"staging\":{\"keep_s\":\"1d\"}}", 400, "staging.keep_s");
	h_expect_error(&S, "PATCH", p, S.admin_token, "{\"staging\":{\"keep_s\":null}}", 400, "staging.keep_s");
	h_expect_error(&S, "PATCH", p, S.admin_token, "{\"staging\":{\"keep\":1}}", 400, "staging.keep");
	h_expect_error(&S, "PATCH", p, S.admin_token, "{\"staging\":5}", 400, "staging");
	h_expect_error(&S, "POST", "/api/v1/clusters", S.admin_token,
		       h_fmt("{\"name\":\"bad\",\"url\":\"http://127.0.0.1:1/slurm/v0.0.38\",\"auth\":\"jwt_key\","
			     "\"secret_path\":\"%s/"
			     "key\",\"user\":\"mlops\",\"shared_dir\":\"%s\",\"staging\":{\"keep_s\":-5}}",
			     dir, dir),
		       400, "staging.keep_s");
	/* no permission: only admins change it, or run the GC */
	h_expect_error(&S, "PATCH", p, editor, "{\"staging\":{\"keep_s\":0}}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/admin/gc", editor, "{}", 403, NULL);
	/* changed; other settings kept */
	j = h_call(&S, "PATCH", p, S.admin_token, "{\"staging\":{\"keep_s\":0}}", 200);
	assert_int_equal(f_int(json_object_get(j, "staging"), "keep_s"), 0);
	assert_string_equal(f_str(j, "user"), "mlops");
	json_decref(j);
	j = h_call(&S, "PATCH", p, S.admin_token, "{\"max_jobs\":3}", 200);
	assert_int_equal(f_int(json_object_get(j, "staging"), "keep_s"), 0);
	json_decref(j);
	/* the admin GC pass includes the clusters' staging (nothing staged here: nothing removed) */
	j = h_call(&S, "POST", "/api/v1/admin/gc", S.admin_token, "{}", 200);
	st = json_object_get(j, "staging");
	assert_non_null(st);
	assert_int_equal(f_int(st, "blobs"), 0);
	assert_int_equal(f_int(st, "job_dirs"), 0);
	assert_int_equal(f_int(st, "errors"), 0);
	json_decref(j);
	json_decref(h_call(&S, "DELETE", p, S.admin_token, NULL, 204));
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/atrium-cluster-view-%d", (int)getpid());
	/* a stand-in slurmrestd on a free port: any file at /slurm/v0.0.38/ping answers 200 */
	if (h_sh("mkdir -p %s/www/slurm/v0.0.38 && echo '{}' > %s/www/slurm/v0.0.38/ping && head -c 32 /dev/urandom > "
		 "%s/key && (cd %s/www && exec python3 -u -m http.server 0 --bind 127.0.0.1 >%s/out 2>&1 & echo $! > "
		 "%s/pid)",
		 dir, dir, dir, dir, dir, dir) != 0)
		return 1;
	for (int i = 0; i < 200 && !port; i++) {
		FILE *f = fopen(h_fmt("%s/out", dir), "r");
		char line[256];
		while (f && fgets(line, sizeof(line), f)) {
			const char *p = strstr(line, " port ");
			if (p)
				port = (int)strtol(p + 6, NULL, 10);
		}
		if (f)
			fclose(f);
		if (!port)
			usleep(50000);
	}
	if (!port)
		return 1;
	h_server_start(&S, NULL);
	snprintf(viewer, sizeof(viewer), "%s", h_user(&S, "vi", false));
	snprintf(editor, sizeof(editor), "%s", h_user(&S, "ed", false));
	json_decref(h_call(&S, "POST", "/api/v1/projects", S.admin_token, "{\"name\":\"view\"}", 201));
	json_decref(h_call(&S, "PUT", "/api/v1/projects/view/members/ed", S.admin_token, "{\"role\":\"editor\"}", 200));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	h_server_cleanup(&S);
	h_sh("kill $(cat %s/pid) 2>/dev/null; rm -rf %s", dir, dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_down),	 cmocka_unit_test(test_link_up),
		cmocka_unit_test(test_jobs_by_state),	 cmocka_unit_test(test_no_permission),
		cmocka_unit_test(test_staging_settings),
	};
	if (setup(NULL) != 0)
		return 1;
	return h_finish(cmocka_run_group_tests(tests, NULL, teardown));
}

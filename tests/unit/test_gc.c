/*
 * test_gc.c: the garbage collector on a real store and loop: unreferenced blobs go (row
 * first, then bytes), referenced ones stay, a row referenced again between scan and forget
 * is kept, a crash between a row's deletion and its unlink leaves an orphan that a later
 * pass removes once old, steps are bounded, queued requests and dropped waiters, the
 * background schedule, and every handle closed at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include "atrium/artifacts.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/gc.h"
#include "atrium/store.h"
#include "atrium/store_files.h"
#include "atrium/store_gc.h"
#include "atrium/util.h"

struct fx {
	char dir[64];
	struct atr_store *s;
	uv_loop_t loop;
	struct atr_gc *gc;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-gc-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(atr_store_open(f->dir, 0, &f->s), 0);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(atr_gc_new(&f->loop, f->s, &f->gc), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	atr_gc_free(f->gc);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0); /* every handle was closed */
	atr_store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Stores text as a blob (bytes and row, through a file of owner id); sha out. */
static void blob(struct fx *f, const char *text, int64_t owner, char sha[65])
{
	struct atr_upload *u;
	assert_int_equal(atr_upload_open(f->s, &u), 0);
	assert_int_equal(atr_upload_write(u, text, strlen(text)), 0);
	assert_int_equal(atr_upload_commit(f->s, u, NULL, false, sha), 0);
	assert_int_equal(atr_store_file_put(f->s, "model_version", owner, text, sha, (int64_t)strlen(text)), 0);
	atr_upload_free(u);
}

static bool bytes_exist(struct fx *f, const char *sha)
{
	char path[1300];
	struct stat st;
	atr_blob_path(f->s, sha, path, sizeof(path));
	return stat(path, &st) == 0;
}

static void age(struct fx *f, const char *sha, int seconds)
{
	char path[1300];
	struct timespec ts[2];
	atr_blob_path(f->s, sha, path, sizeof(path));
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - seconds;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

struct result {
	int calls;
	struct atr_gc_stats st;
	int order;
};
static int order_counter;

static void done(void *arg, const struct atr_gc_stats *st)
{
	struct result *r = arg;
	r->calls++;
	r->st = *st;
	r->order = ++order_counter;
}

/* Runs a pass with grace 0 to its end; returns its stats. */
static struct atr_gc_stats pass(struct fx *f)
{
	struct result r = { 0 };
	assert_int_equal(atr_gc_request(f->gc, 0, done, &r), 0);
	assert_true(atr_gc_running(f->gc));
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(r.calls, 1);
	assert_false(atr_gc_running(f->gc));
	return r.st;
}

static void test_unreferenced_go_referenced_stay(void **state)
{
	struct fx *f = *state;
	char kept[65], freed[65];
	struct atr_gc_stats st;

	blob(f, "referenced bytes", 1, kept);
	blob(f, "doomed bytes", 2, freed);
	assert_int_equal(atr_store_files_delete_owner(f->s, "model_version", 2), 0);
	/* a long grace keeps it */
	{
		struct result r = { 0 };
		assert_int_equal(atr_gc_request(f->gc, 3600 * 1000, done, &r), 0);
		uv_run(&f->loop, UV_RUN_DEFAULT);
		assert_int_equal(r.st.blobs, 0);
	}
	st = pass(f);
	assert_int_equal(st.blobs, 1);
	assert_int_equal(st.bytes, 12);
	assert_int_equal(st.errors, 0);
	assert_false(bytes_exist(f, freed));
	assert_false(atr_store_blob_exists(f->s, freed, NULL));
	assert_true(bytes_exist(f, kept));
	assert_true(atr_store_blob_exists(f->s, kept, NULL));
	/* even very old referenced bytes stay */
	age(f, kept, 86400);
	st = pass(f);
	assert_int_equal(st.blobs + st.orphan_files, 0);
	assert_true(bytes_exist(f, kept));
}

static void test_referenced_again_is_kept(void **state)
{
	struct fx *f = *state;
	char sha[65], out[4][65], last[65];
	int64_t sizes[4];
	int n, examined;

	blob(f, "comes back", 3, sha);
	assert_int_equal(atr_store_files_delete_owner(f->s, "model_version", 3), 0);
	assert_int_equal(atr_store_gc_scan(f->s, "", atr_now_ms() + 1000, 4, out, &n, last, &examined), 0);
	assert_int_equal(n, 1);
	assert_int_equal(examined, 1);
	assert_string_equal(out[0], sha);
	/* an upload of the same bytes lands between the scan and the forget */
	assert_int_equal(atr_store_file_put(f->s, "model_version", 4, "again", sha, 10), 0);
	assert_int_equal(atr_store_gc_forget(f->s, out, n, sizes), 0);
	assert_int_equal(sizes[0], -1);
	assert_true(atr_store_blob_exists(f->s, sha, NULL));
	assert_int_equal(atr_store_blob_forget(f->s, sha, NULL), ATR_ECONFLICT);
	assert_int_equal(atr_store_gc_known(f->s, sha), 1);
	assert_int_equal(atr_store_gc_known(f->s, "0000000000000000000000000000000000000000000000000000000000000000"),
			 0);
}

static void test_crash_between_row_and_bytes(void **state)
{
	struct fx *f = *state;
	char sha[65], shas[1][65];
	int64_t size;
	struct atr_gc_stats st;

	blob(f, "half collected", 5, sha);
	assert_int_equal(atr_store_files_delete_owner(f->s, "model_version", 5), 0);
	/* the row is forgotten, then the process dies before the unlink */
	memcpy(shas[0], sha, 65);
	assert_int_equal(atr_store_gc_forget(f->s, shas, 1, &size), 0);
	assert_int_equal(size, 14);
	assert_true(bytes_exist(f, sha));
	/* a young orphan is left alone (it could be an upload about to write its row) */
	st = pass(f);
	assert_int_equal(st.orphan_files, 0);
	assert_true(bytes_exist(f, sha));
	age(f, sha, 2 * 3600);
	st = pass(f);
	assert_int_equal(st.orphan_files, 1);
	assert_int_equal(st.orphan_bytes, 14);
	assert_false(bytes_exist(f, sha));
}

static int count_blob_files(struct fx *f)
{
	char cmd[256];
	FILE *p;
	int n = -1;
	snprintf(cmd, sizeof(cmd), "find '%s/blobs' -type f | wc -l", f->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void test_steps_are_bounded(void **state)
{
	struct fx *f = *state;
	char sha[65];
	struct result r = { 0 };
	int steps = 0;

	for (int i = 0; i < 300; i++) {
		char text[32];
		snprintf(text, sizeof(text), "garbage %d", i);
		blob(f, text, 100 + i, sha);
	}
	assert_int_equal(atr_store_files_delete_owner(f->s, "model_version", 100), 0);
	for (int i = 1; i < 300; i++)
		assert_int_equal(atr_store_files_delete_owner(f->s, "model_version", 100 + i), 0);
	assert_int_equal(count_blob_files(f), 300);
	assert_int_equal(atr_gc_request(f->gc, 0, done, &r), 0);
	assert_int_equal(atr_gc_step(f->gc), 1);
	assert_int_equal(count_blob_files(f), 300 - ATR_GC_BATCH);
	while (atr_gc_step(f->gc))
		steps++;
	assert_true(steps >= 3);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.st.blobs, 300);
	assert_int_equal(count_blob_files(f), 0);
	assert_int_equal(atr_gc_step(f->gc), 0); /* idle */
}

static void test_queue_and_forget(void **state)
{
	struct fx *f = *state;
	struct result a = { 0 }, b = { 0 }, c = { 0 }, gone = { 0 };

	order_counter = 0;
	assert_int_equal(atr_gc_request(f->gc, 0, done, &a), 0);
	assert_int_equal(atr_gc_request(f->gc, 5000, done, &b), 0); /* queued behind a */
	assert_int_equal(atr_gc_request(f->gc, 0, done, &c), 0);    /* joins b's pass */
	assert_int_equal(atr_gc_request(f->gc, 0, done, &gone), 0);
	atr_gc_forget_waiter(f->gc, &gone); /* its request went away */
	assert_int_equal(atr_gc_request(f->gc, 0, NULL, NULL), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(c.calls, 1);
	assert_int_equal(gone.calls, 0);
	assert_true(a.order < b.order);
	assert_false(atr_gc_running(f->gc));
}

static void stop_loop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void test_schedule(void **state)
{
	struct fx *f = *state;
	char sha[65];
	uv_timer_t t;

	blob(f, "scheduled away", 9, sha);
	assert_int_equal(atr_store_files_delete_owner(f->s, "model_version", 9), 0);
	atr_gc_schedule(f->gc, 10, 0);
	uv_timer_init(&f->loop, &t);
	uv_timer_start(&t, stop_loop, 300, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_false(bytes_exist(f, sha));
	atr_gc_schedule(f->gc, 0, 0);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unreferenced_go_referenced_stay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_referenced_again_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_between_row_and_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_steps_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_and_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule, setup, teardown),
	};
	atr_log_setup(ATR_LOG_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

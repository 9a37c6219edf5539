/*
 * test_files_store.c: folders over the files table (what MLflow's artifact listings and
 * deletes use) on a real database: the entries of the root and of nested folders, files
 * beside folders of the same prefix ("a.txt", "a-b" sort before "a/"), more entries than one
 * batch of the scan, the cap (more), whether a path is a folder, deleting a file with its
 * folder while siblings stay, deleting all, and owners that do not see each other's files.
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
#include "atrium/store_files.h"

#define SHA "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

struct fx {
	char dir[64];
	struct atr_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-files-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(atr_store_open(f->dir, 0, &f->s), 0);
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

static void put(struct fx *f, int64_t owner, const char *path, int64_t size)
{
	assert_int_equal(atr_store_file_put(f->s, "run", owner, path, SHA, size), 0);
}

/* The entries of dir as "name/" and "name=size", ','-separated (at most max; "+" when more). */
static const char *children(struct fx *f, int64_t owner, const char *dir, int max)
{
	static char out[8192];
	json_t *arr = json_array(), *e;
	bool more;
	size_t i, n = 0;

	assert_int_equal(atr_store_file_children(f->s, "run", owner, dir, max, arr, &more), 0);
	out[0] = 0;
	json_array_foreach(arr, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "path"));
		if (json_is_true(json_object_get(e, "is_dir")))
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s/", n ? "," : "", name);
		else
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s=%lld", n ? "," : "", name,
					      (long long)json_integer_value(json_object_get(e, "file_size")));
	}
	if (more)
		snprintf(out + n, sizeof(out) - n, "+");
	json_decref(arr);
	return out;
}

static void test_children(void **state)
{
	struct fx *f = *state;

	put(f, 1, "top.txt", 3);
	put(f, 1, "a", 1);
	put(f, 1, "a.txt", 2);
	put(f, 1, "a-b", 4);
	put(f, 1, "a/x", 5);
	put(f, 1, "a/y/z", 6);
	put(f, 1, "a/y/w", 7);
	put(f, 1, "a0", 8);
	put(f, 1, "b/c/d/e", 9);
	put(f, 2, "a/other-owner", 1);
	assert_string_equal(children(f, 1, "", 100), "a=1,a-b=4,a.txt=2,a/,a0=8,b/,top.txt=3");
	assert_string_equal(children(f, 1, "a", 100), "x=5,y/");
	assert_string_equal(children(f, 1, "a/y", 100), "w=7,z=6");
	assert_string_equal(children(f, 1, "b", 100), "c/");
	assert_string_equal(children(f, 1, "b/c/d", 100), "e=9");
	/* a file's own path, a missing folder, a prefix that is no folder */
	assert_string_equal(children(f, 1, "top.txt", 100), "");
	assert_string_equal(children(f, 1, "nope", 100), "");
	assert_string_equal(children(f, 1, "b/c/d/e", 100), "");
	assert_string_equal(children(f, 2, "a", 100), "other-owner=1");
	/* the cap */
	assert_string_equal(children(f, 1, "", 3), "a=1,a-b=4,a.txt=2+");
	assert_string_equal(children(f, 1, "", 7), "a=1,a-b=4,a.txt=2,a/,a0=8,b/,top.txt=3");

	assert_int_equal(atr_store_file_is_dir(f->s, "run", 1, "a"), 1);
	assert_int_equal(atr_store_file_is_dir(f->s, "run", 1, "a/y"), 1);
	assert_int_equal(atr_store_file_is_dir(f->s, "run", 1, "a/x"), 0);
	assert_int_equal(atr_store_file_is_dir(f->s, "run", 1, "top.txt"), 0);
	assert_int_equal(atr_store_file_is_dir(f->s, "run", 1, "c"), 0);
	assert_int_equal(atr_store_file_is_dir(f->s, "run", 3, "a"), 0);
}

/* More entries than one batch of the scan (256), and folders among them. */
static void test_children_many(void **state)
{
	struct fx *f = *state;
	char path[64], want[8192];
	size_t n = 0;

	for (int i = 0; i < 600; i++) {
		snprintf(path, sizeof(path), "many/%04d", i);
		put(f, 7, path, i);
		if (i % 100 == 50) {
			snprintf(path, sizeof(path), "many/%04d-dir/inner/file", i);
			put(f, 7, path, 1);
		}
	}
	for (int i = 0; i < 600; i++) {
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%s%04d=%d", i ? "," : "", i, i);
		if (i % 100 == 50)
			n += (size_t)snprintf(want + n, sizeof(want) - n, ",%04d-dir/", i);
	}
	assert_string_equal(children(f, 7, "many", 10000), want);
	assert_string_equal(children(f, 7, "", 10000), "many/");
}

static void test_delete_tree(void **state)
{
	struct fx *f = *state;
	int n = -1;

	put(f, 4, "d", 1);
	put(f, 4, "d/a", 1);
	put(f, 4, "d/b/c", 1);
	put(f, 4, "d.txt", 1);
	put(f, 4, "d-x/y", 1);
	put(f, 4, "d0", 1);
	put(f, 4, "dd/e", 1);
	put(f, 5, "d/a", 1);
	assert_int_equal(atr_store_files_delete_tree(f->s, "run", 4, "d/b", &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(children(f, 4, "d", 100), "a=1");
	assert_int_equal(atr_store_files_delete_tree(f->s, "run", 4, "d", &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(children(f, 4, "", 100), "d-x/,d.txt=1,d0=1,dd/");
	assert_int_equal(atr_store_files_delete_tree(f->s, "run", 4, "nothing/here", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(atr_store_files_delete_tree(f->s, "run", 4, "d.txt", NULL), 0);
	assert_string_equal(children(f, 4, "", 100), "d-x/,d0=1,dd/");
	assert_int_equal(atr_store_files_delete_tree(f->s, "run", 4, "", &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(children(f, 4, "", 100), "");
	assert_string_equal(children(f, 5, "d", 100), "a=1"); /* another owner's files stay */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_children, setup, teardown),
		cmocka_unit_test_setup_teardown(test_children_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_tree, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

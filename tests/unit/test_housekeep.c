/*
 * test_housekeep.c: which cached contents a worker evicts: nothing under the limit, the least
 * recently used first down to 90 % of it, contents a job folder still links never, a repeatable
 * order on equal ages, and no limit at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "worker/agent.h"

#define MB (1024u * 1024u)

static struct hk_entry ent(const char *name, uint64_t size, int64_t mtime, bool linked)
{
	struct hk_entry e = { .size = size, .mtime = mtime, .linked = linked };
	snprintf(e.name, sizeof(e.name), "%s", name);
	return e;
}

static bool evicted(const struct hk_entry *e, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(e[i].name, name))
			return e[i].evict;
	fail_msg("no entry %s", name);
	return false;
}

static void test_under_limit(void **state)
{
	struct hk_entry e[] = { ent("a", 3 * MB, 100, false), ent("b", 3 * MB, 50, false) };
	uint64_t total;
	(void)state;
	assert_int_equal(hk_pick_evictions(e, 2, 6 * MB, &total), 0);
	assert_int_equal(total, 6 * MB);
	assert_false(e[0].evict || e[1].evict);
	assert_int_equal(hk_pick_evictions(e, 0, 6 * MB, &total), 0);
	assert_int_equal(total, 0);
}

static void test_lru_to_ninety_percent(void **state)
{
	/* 10 MiB over a 8 MiB limit: down to 7.2 MiB, oldest first */
	struct hk_entry e[] = { ent("new", 4 * MB, 300, false), ent("old", 2 * MB, 100, false),
				ent("mid", 2 * MB, 200, false), ent("older", 2 * MB, 50, false) };
	uint64_t total;
	(void)state;
	assert_int_equal(hk_pick_evictions(e, 4, 8 * MB, &total), 2);
	assert_true(evicted(e, 4, "older"));
	assert_true(evicted(e, 4, "old"));
	assert_false(evicted(e, 4, "mid"));
	assert_false(evicted(e, 4, "new"));
	assert_int_equal(total, 6 * MB);
	/* least recently used first after the call */
	assert_string_equal(e[0].name, "older");
	assert_string_equal(e[3].name, "new");
}

static void test_linked_stay(void **state)
{
	struct hk_entry e[] = { ent("busy", 6 * MB, 10, true), ent("free", 3 * MB, 20, false),
				ent("recent", 3 * MB, 30, false) };
	uint64_t total;
	(void)state;
	/* 12 MiB over 5: the linked one cannot go, so both others do, and it stays over */
	assert_int_equal(hk_pick_evictions(e, 3, 5 * MB, &total), 2);
	assert_false(evicted(e, 3, "busy"));
	assert_true(evicted(e, 3, "free"));
	assert_true(evicted(e, 3, "recent"));
	assert_int_equal(total, 6 * MB);
}

static void test_equal_ages_and_no_limit(void **state)
{
	struct hk_entry e[] = { ent("b", 1 * MB, 5, false), ent("a", 1 * MB, 5, false), ent("big", 4 * MB, 5, false) };
	uint64_t total;
	(void)state;
	/* 6 MiB over 5: the biggest of the same age goes first, and that is enough */
	assert_int_equal(hk_pick_evictions(e, 3, 5 * MB, &total), 1);
	assert_true(evicted(e, 3, "big"));
	assert_string_equal(e[1].name, "a");
	assert_string_equal(e[2].name, "b");
	assert_int_equal(hk_pick_evictions(e, 3, 0, &total), 0);
	assert_int_equal(total, 6 * MB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_under_limit),
		cmocka_unit_test(test_lru_to_ninety_percent),
		cmocka_unit_test(test_linked_stay),
		cmocka_unit_test(test_equal_ages_and_no_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

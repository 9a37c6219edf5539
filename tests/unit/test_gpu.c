/*
 * test_gpu.c: nvidia-smi output of real kinds of machines (tests/fixtures/nvidia-smi/), the
 * busy rule, fake GPUs, /proc/meminfo, and the asynchronous probe on a real loop (a stand-in
 * nvidia-smi script: output, a failing exit, a hang killed by the timeout, no binary at all).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "atrium/err.h"
#include "atrium/gpu.h"

#define FIX "tests/fixtures/nvidia-smi/"

static int parse_file(const char *name, struct atr_gpu *g, int max, int *bad)
{
	char path[256], buf[8192];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), FIX "%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return atr_gpu_parse(buf, n, g, max, bad);
}

static void test_a100_box(void **state)
{
	struct atr_gpu g[ATR_GPU_MAX];
	int bad, n = parse_file("a100-8x80gb.csv", g, ATR_GPU_MAX, &bad);
	(void)state;

	assert_int_equal(n, 8);
	assert_int_equal(bad, 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(g[i].index, i);
		assert_string_equal(g[i].name, "NVIDIA A100-SXM4-80GB");
		assert_int_equal(g[i].memory_mb, 81920);
		assert_true(strncmp(g[i].uuid, "GPU-", 4) == 0);
	}
	assert_int_equal(g[0].memory_used_mb, 78113);
	assert_int_equal(g[0].utilization, 97);
	assert_int_equal(g[7].memory_used_mb, 3215);
	/* GPUs 0 and 1 are full of someone else's work; 7 holds 3 GB of Atrium's own job */
	atr_gpu_mark_busy(g, n, 1024, 1ULL << 7);
	assert_true(g[0].busy && g[1].busy);
	for (int i = 2; i < 8; i++)
		assert_false(g[i].busy);
	atr_gpu_mark_busy(g, n, 1024, 0);
	assert_true(g[7].busy);
	atr_gpu_mark_busy(g, n, 100000, 0);
	for (int i = 0; i < 8; i++)
		assert_false(g[i].busy);
}

static void test_v100_box(void **state)
{
	struct atr_gpu g[ATR_GPU_MAX];
	int bad, n = parse_file("v100-4x16gb.csv", g, ATR_GPU_MAX, &bad);
	(void)state;

	assert_int_equal(n, 4);
	assert_int_equal(bad, 0);
	assert_string_equal(g[3].name, "Tesla V100-SXM2-16GB");
	assert_int_equal(g[2].utilization, 100);
	atr_gpu_mark_busy(g, n, 1024, 0);
	assert_true(g[2].busy);
	assert_false(g[3].busy);
}

static void test_mixed_crlf(void **state)
{
	struct atr_gpu g[ATR_GPU_MAX];
	int bad, n = parse_file("mixed.csv", g, ATR_GPU_MAX, &bad);
	(void)state;

	assert_int_equal(n, 3);
	assert_int_equal(bad, 0);
	assert_string_equal(g[0].name, "NVIDIA GeForce RTX 3090");
	assert_string_equal(g[1].name, "NVIDIA A10");
	assert_string_equal(g[2].name, "Tesla T4");
	assert_int_equal(g[2].utilization, 0); /* no stray '\r' */
	assert_int_equal(g[1].memory_mb, 23028);
}

static void test_not_available(void **state)
{
	struct atr_gpu g[ATR_GPU_MAX];
	int bad, n = parse_file("mig-na.csv", g, ATR_GPU_MAX, &bad);
	(void)state;

	assert_int_equal(n, 3);
	assert_int_equal(bad, 0);
	assert_int_equal(g[0].memory_used_mb, -1);
	assert_int_equal(g[0].utilization, -1);
	assert_int_equal(g[1].utilization, -1); /* [Not Supported] */
	assert_int_equal(g[1].memory_mb, 81559);
	assert_string_equal(g[2].uuid, "");
	assert_int_equal(g[2].memory_mb, -1);
	/* unknown memory is never "busy" */
	atr_gpu_mark_busy(g, n, 0, 0);
	assert_false(g[0].busy);
	assert_false(g[2].busy);
}

static void test_spaces_empty_garbage(void **state)
{
	struct atr_gpu g[ATR_GPU_MAX];
	int bad, n;
	(void)state;

	n = parse_file("trailing-spaces.csv", g, ATR_GPU_MAX, &bad);
	assert_int_equal(n, 2);
	assert_int_equal(bad, 0);
	assert_string_equal(g[0].name, "Tesla T4");
	assert_int_equal(g[0].memory_mb, 15360);
	assert_int_equal(g[1].memory_used_mb, 10);
	assert_int_equal(g[1].utilization, 3);

	n = parse_file("empty.csv", g, ATR_GPU_MAX, &bad);
	assert_int_equal(n, 0);
	assert_int_equal(bad, 0);
	assert_int_equal(atr_gpu_parse("", 0, g, ATR_GPU_MAX, NULL), 0);
	assert_int_equal(atr_gpu_parse("\n\n  \n", 5, g, ATR_GPU_MAX, NULL), 0);

	/* an error text, 7 fields, a bad index, a repeated index, an index past the limit, a word */
	n = parse_file("garbage.csv", g, ATR_GPU_MAX, &bad);
	assert_int_equal(n, 1);
	assert_int_equal(bad, 6);
	assert_string_equal(g[0].uuid, "GPU-eeee");

	/* max is honoured */
	n = parse_file("a100-8x80gb.csv", g, 3, &bad);
	assert_int_equal(n, 3);
	assert_int_equal(bad, 5);
	/* not NUL-terminated input: len decides */
	assert_int_equal(atr_gpu_parse("0, GPU-a, T4, 1, 0, 0\n1, GPU-b, T4, 1, 0, 0", 21, g, ATR_GPU_MAX, NULL), 1);
}

static void test_fake_and_meminfo(void **state)
{
	struct atr_gpu g[ATR_GPU_MAX];
	struct atr_host_info h;
	int64_t total, avail;
	(void)state;

	atr_gpu_fake(g, 3);
	assert_string_equal(g[2].uuid, "GPU-fake-2");
	assert_string_equal(g[2].name, "Fake GPU");
	assert_int_equal(g[2].memory_mb, 16384);
	assert_int_equal(g[2].memory_used_mb, 0);
	setenv("ATRIUM_FAKE_GPUS", "4", 1);
	assert_int_equal(atr_gpu_fake_count(), 4);
	setenv("ATRIUM_FAKE_GPUS", "many", 1);
	assert_int_equal(atr_gpu_fake_count(), -1);
	setenv("ATRIUM_FAKE_GPUS", "65", 1);
	assert_int_equal(atr_gpu_fake_count(), -1);
	unsetenv("ATRIUM_FAKE_GPUS");
	assert_int_equal(atr_gpu_fake_count(), -1);

	assert_int_equal(
		atr_meminfo_parse("MemTotal:       16384000 kB\nMemFree:  100 kB\nMemAvailable:   8192000 kB\n", &total,
				  &avail),
		0);
	assert_int_equal(total, 16384000);
	assert_int_equal(avail, 8192000);
	assert_int_equal(atr_meminfo_parse("MemTotal: 1000 kB\nMemFree: 400 kB\n", &total, &avail), 0);
	assert_int_equal(avail, 400);
	assert_int_equal(atr_meminfo_parse("nothing here", &total, &avail), ATR_EINVAL);

	atr_host_info_read(&h);
	assert_true(h.cpus >= 1);
	assert_true(h.memory_mb > 0);
	assert_true(h.memory_used_mb >= 0 && h.memory_used_mb <= h.memory_mb);
}

/* ---- the probe on a loop ---- */

struct probe_result {
	int calls, rc, n;
	struct atr_gpu g[ATR_GPU_MAX];
};

static void on_probe(void *cls, int rc, const struct atr_gpu *gpus, int n)
{
	struct probe_result *r = cls;
	r->calls++;
	r->rc = rc;
	r->n = n;
	memcpy(r->g, gpus, (size_t)n * sizeof(*gpus));
}

static int run_probe(struct probe_result *r, uint64_t timeout_ms)
{
	uv_loop_t loop;
	struct atr_gpu_probe *p;
	int rc;

	memset(r, 0, sizeof(*r));
	assert_int_equal(uv_loop_init(&loop), 0);
	rc = atr_gpu_probe_start(&loop, timeout_ms, on_probe, r, &p);
	if (rc == 0)
		assert_int_equal(r->calls, 0); /* never from inside the call */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	return rc;
}

static void test_probe(void **state)
{
	struct probe_result r;
	(void)state;

	setenv("ATRIUM_NVIDIA_SMI", FIX "fake-nvidia-smi.sh", 1);
	setenv("FAKE_SMI_FIXTURE", FIX "v100-4x16gb.csv", 1);
	assert_int_equal(run_probe(&r, 5000), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.g[1].uuid, "GPU-1a9f5e3b-2c4d-6e8f-0a1b-c2d3e4f5a6b7");

	/* the driver is not loaded: nvidia-smi prints an error and exits 9 */
	setenv("FAKE_SMI_FIXTURE", FIX "garbage.csv", 1);
	setenv("FAKE_SMI_EXIT", "9", 1);
	assert_int_equal(run_probe(&r, 5000), 0);
	assert_int_equal(r.calls, 1);
	assert_true(r.rc < 0);
	assert_int_equal(r.n, 0);
	unsetenv("FAKE_SMI_EXIT");

	/* it hangs: killed at the timeout */
	setenv("FAKE_SMI_SLEEP", "30", 1);
	uint64_t t0 = uv_hrtime();
	assert_int_equal(run_probe(&r, 200), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.rc, ATR_EIO);
	assert_true(uv_hrtime() - t0 < 5000000000ULL);
	unsetenv("FAKE_SMI_SLEEP");

	/* no nvidia-smi at all: no GPUs, said at once */
	setenv("ATRIUM_NVIDIA_SMI", "/nonexistent/nvidia-smi", 1);
	assert_int_equal(run_probe(&r, 1000), ATR_ENOTFOUND);
	assert_int_equal(r.calls, 0);
	unsetenv("ATRIUM_NVIDIA_SMI");
}

static void test_probe_cancel(void **state)
{
	uv_loop_t loop;
	struct atr_gpu_probe *p;
	struct probe_result r;
	(void)state;

	memset(&r, 0, sizeof(r));
	setenv("ATRIUM_NVIDIA_SMI", FIX "fake-nvidia-smi.sh", 1);
	setenv("FAKE_SMI_SLEEP", "30", 1);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(atr_gpu_probe_start(&loop, 60000, on_probe, &r, &p), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	atr_gpu_probe_cancel(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(r.calls, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	unsetenv("FAKE_SMI_SLEEP");
	unsetenv("ATRIUM_NVIDIA_SMI");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a100_box),
		cmocka_unit_test(test_v100_box),
		cmocka_unit_test(test_mixed_crlf),
		cmocka_unit_test(test_not_available),
		cmocka_unit_test(test_spaces_empty_garbage),
		cmocka_unit_test(test_fake_and_meminfo),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_probe_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * profile_build.c: building a reference profile (issue 16) from a large CSV, on one core, with
 * the library call the daemon makes on its thread pool (atr_profile_build_files: two streaming
 * passes, inferred types, 10 bins, up to 20 categories). The CSV has 20 columns, like the drift
 * scenario's reference: 15 numeric (decimals, some empty cells), 5 categorical (a few dozen
 * values each); it is written first (unless FILE already has the size) and read from the page
 * cache, so the figure is the profiler's CPU speed, not the disk's.
 *
 * Usage: profile_build FILE MIB
 * Prints: bytes= rows= seconds= cpu_seconds= mb_per_s= rss_growth_mib= features=
 * (MB/s in 10^6 bytes of the file per second of wall time; RSS growth: the peak resident set
 * during the build less the resident set before it).
 */
#include "common.h"

#include "atrium/profile.h"

#include <sys/resource.h>
#include <sys/stat.h>

#define PROG "profile_build"
#define NUMERIC 15
#define CATEGORICAL 5

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const cats[] = { "red",   "green", "blue",  "amber", "violet", "teal",  "north", "south",
				    "east",  "west",  "alpha", "beta",	"gamma",  "delta", "paris", "tokyo",
				    "lagos", "lima",  "oslo",  "cairo", "small",  "large", "basic", "gold" };

/* One row into buf (at most len bytes); its length. */
static size_t one_row(char *buf, size_t len)
{
	size_t n = 0;

	for (int i = 0; i < NUMERIC; i++) {
		uint64_t r = next_rand();
		if (r % 200 == 0) /* an empty cell now and then: a null */
			n += (size_t)snprintf(buf + n, len - n, ",");
		else
			n += (size_t)snprintf(buf + n, len - n, "%s%.4f,", (r >> 8) & 1 ? "-" : "",
					      (double)((r >> 16) % 10000000) / 1000.0 * (i + 1));
	}
	for (int i = 0; i < CATEGORICAL; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", cats[(next_rand() >> 20) % (8 + 4 * (size_t)i)],
				      i == CATEGORICAL - 1 ? "\n" : ",");
	return n;
}

static void write_csv(const char *path, uint64_t want)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "w");
	uint64_t written = 0;
	size_t n = 0;

	if (!f)
		bench_die(PROG, "cannot write '%s'", path);
	for (int i = 0; i < NUMERIC; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "x%d,", i);
	for (int i = 0; i < CATEGORICAL; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "c%d%s", i, i == CATEGORICAL - 1 ? "\n" : ",");
	while (written + n < want) {
		if (n > sizeof(buf) - 512) {
			if (fwrite(buf, 1, n, f) != n)
				bench_die(PROG, "short write to '%s'", path);
			written += n;
			n = 0;
		}
		n += one_row(buf + n, sizeof(buf) - n);
	}
	if (fwrite(buf, 1, n, f) != n || fclose(f) != 0)
		bench_die(PROG, "short write to '%s'", path);
}

/* VmRSS or VmHWM of this process in KiB. */
static long status_kib(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct atr_profile_spec spec = { 0 };
	struct atr_profile *p = NULL;
	struct stat st;
	uint64_t want;
	const char *path;
	char why[320];
	long rss0;
	double cpu0, secs, cpu;
	uint64_t t0;
	FILE *reset;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE MIB\n", PROG);
		return 2;
	}
	path = argv[1];
	want = (uint64_t)(bench_num(PROG, "MIB", argv[2]) * 1048576.0);
	if (stat(path, &st) != 0 || (uint64_t)st.st_size + 4096 < want || (uint64_t)st.st_size > want + 4096)
		write_csv(path, want);
	if (stat(path, &st) != 0)
		bench_die(PROG, "cannot stat '%s'", path);
	if ((reset = fopen("/proc/self/clear_refs", "w"))) { /* VmHWM from here (Linux: "5" resets the peak) */
		fputs("5", reset);
		fclose(reset);
	}
	rss0 = status_kib("VmRSS:");
	cpu0 = cpu_seconds();
	t0 = bench_now_ns();
	if (atr_profile_build_files(&path, 1, ATR_PROFILE_CSV, &spec, &p, why, sizeof(why)) < 0)
		bench_die(PROG, "the profile failed: %s", why);
	secs = (double)(bench_now_ns() - t0) / 1e9;
	cpu = cpu_seconds() - cpu0;
	printf("bytes=%lld rows=%llu seconds=%.3f cpu_seconds=%.3f mb_per_s=%.1f rss_growth_mib=%.1f features=%zu\n",
	       (long long)st.st_size, (unsigned long long)p->rows, secs, cpu, (double)st.st_size / 1e6 / secs,
	       (double)(status_kib("VmHWM:") - rss0) / 1024.0, p->nfeat);
	atr_profile_free(p);
	return 0;
}

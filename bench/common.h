#ifndef ATRIUM_BENCH_COMMON_H
#define ATRIUM_BENCH_COMMON_H
/*
 * common.h: helpers shared by the bench programs (header-only, because the Makefile builds
 * each bench source file into its own program). Clocks, fatal errors, "key=value" result lines,
 * medians, small file reads. Nothing here measures anything by itself.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Prints "<prog>: <message>" to stderr and exits 1. */
__attribute__((format(printf, 2, 3), noreturn)) static inline void bench_die(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Parses a positive decimal (fractions allowed, for seconds) or dies naming the option. */
static inline double bench_num(const char *prog, const char *opt, const char *s)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0)
		bench_die(prog, "%s: '%s' is not a non-negative number", opt, s);
	return v;
}

/* Arguments of the "PROG DIR COUNT REPS" programs: checks them (usage and exit 2 on a wrong
 * count, exit 1 on a bad value) and returns COUNT; *reps gets REPS (1..max_reps). */
static inline double bench_dir_count_reps(const char *prog, const char *count_name, int argc, char **argv, int max_reps,
					  int *reps)
{
	double n;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DIR %s REPS\n", prog, count_name);
		exit(2);
	}
	n = bench_num(prog, count_name, argv[2]);
	*reps = (int)bench_num(prog, "REPS", argv[3]);
	if (n < 1 || *reps < 1 || *reps > max_reps)
		bench_die(prog, "%s must be >= 1 and REPS 1..%d", count_name, max_reps);
	return n;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of n values (sorts them in place); 0 when n == 0. */
static inline double bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Reads a whole (small) file into a new NUL-terminated buffer; NULL on error. */
static inline char *bench_read_file(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *p = realloc(buf, ncap);
			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
			cap = ncap;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = 0;
	if (len_out)
		*len_out = len;
	return buf;
}

/* Reads the port from a "host:port\n" file (Atrium's DATA_DIR/listen.addr); -1 if not there yet. */
static inline int bench_read_port_file(const char *path)
{
	char *s = bench_read_file(path, NULL);
	char *colon, *end = NULL;
	long port;

	if (!s)
		return -1;
	colon = strrchr(s, ':');
	port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || end == colon + 1 || (*end != '\n' && *end != 0) || port <= 0 || port > 65535)
		port = -1;
	if (!strchr(s, '\n'))
		port = -1; /* still being written */
	free(s);
	return (int)port;
}

#endif

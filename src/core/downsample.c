/*
 * downsample.c: M4 downsampling (first, last, min, max per bucket of consecutive points) for
 * metric charts. Buckets are by position, not by step, so every bucket holds points and the
 * answer uses its budget evenly. Not here: reading the series (src/store/metrics.c).
 */
#include "atrium/downsample.h"

#include <stdbool.h>

/* Appends the distinct indices of c (up to 4) to out in increasing order. */
static size_t emit_sorted(size_t *c, size_t k, size_t *out)
{
	size_t n = 0;
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && c[j - 1] > c[j]; j--) {
			size_t t = c[j];
			c[j] = c[j - 1];
			c[j - 1] = t;
		}
	for (size_t i = 0; i < k; i++)
		if (i == 0 || c[i] != c[i - 1])
			out[n++] = c[i];
	return n;
}

static void extremes(const double *v, size_t lo, size_t hi, size_t *imin, size_t *imax)
{
	*imin = *imax = lo;
	for (size_t i = lo + 1; i < hi; i++) {
		if (v[i] < v[*imin])
			*imin = i;
		if (v[i] > v[*imax])
			*imax = i;
	}
}

static size_t tiny(const double *v, size_t n, size_t max_out, size_t *out)
{
	size_t c[4], k = 0, imin, imax;
	size_t pref[4];

	extremes(v, 0, n, &imin, &imax);
	pref[0] = imin;
	pref[1] = imax;
	pref[2] = 0;
	pref[3] = n - 1;
	for (size_t i = 0; i < 4 && k < max_out; i++) {
		bool dup = false;
		for (size_t j = 0; j < k; j++)
			dup = dup || c[j] == pref[i];
		if (!dup)
			c[k++] = pref[i];
	}
	return emit_sorted(c, k, out);
}

size_t atr_downsample(const double *values, size_t n, size_t max_out, size_t *out)
{
	size_t buckets, m = 0;

	if (n <= max_out) {
		for (size_t i = 0; i < n; i++)
			out[i] = i;
		return n;
	}
	if (max_out == 0)
		return 0;
	if (max_out < 4)
		return tiny(values, n, max_out, out);
	buckets = max_out / 4;
	for (size_t b = 0; b < buckets; b++) {
		size_t lo = b * n / buckets, hi = (b + 1) * n / buckets;
		size_t c[4];
		c[0] = lo;
		c[3] = hi - 1;
		extremes(values, lo, hi, &c[1], &c[2]);
		m += emit_sorted(c, 4, out + m);
	}
	return m;
}

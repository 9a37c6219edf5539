/*
 * metric_codec.c: the 24-byte point record of metric chunks, and the stable sort that puts a
 * series logged out of step order back in order for reads. Not here: where chunks are
 * stored (src/store/metrics.c).
 */
#include "atrium/metric_codec.h"
#include "atrium/err.h"

#include <stdlib.h>
#include <string.h>

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void atr_metric_encode(const struct atr_metric_pt *pts, size_t n, unsigned char *out)
{
	for (size_t i = 0; i < n; i++, out += ATR_METRIC_REC) {
		uint64_t bits;
		memcpy(&bits, &pts[i].value, sizeof(bits));
		put_u64(out, (uint64_t)pts[i].step);
		put_u64(out + 8, bits);
		put_u64(out + 16, (uint64_t)pts[i].ts);
	}
}

void atr_metric_decode(const unsigned char *in, size_t n, struct atr_metric_pt *out)
{
	for (size_t i = 0; i < n; i++, in += ATR_METRIC_REC) {
		uint64_t bits = get_u64(in + 8);
		out[i].step = (int64_t)get_u64(in);
		memcpy(&out[i].value, &bits, sizeof(bits));
		out[i].ts = (int64_t)get_u64(in + 16);
	}
}

/* Bottom-up merge sort: stable, O(n log n), and a single pass over runs already in order. */
int atr_metric_sort(struct atr_metric_pt *pts, size_t n)
{
	struct atr_metric_pt *tmp, *src = pts, *dst;
	size_t i;

	for (i = 1; i < n && pts[i - 1].step <= pts[i].step; i++)
		;
	if (i >= n)
		return 0;
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return ATR_ENOMEM;
	dst = tmp;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t a = lo, b = mid, k = lo;
			while (a < mid && b < hi)
				dst[k++] = src[b].step < src[a].step ? src[b++] : src[a++];
			while (a < mid)
				dst[k++] = src[a++];
			while (b < hi)
				dst[k++] = src[b++];
		}
		struct atr_metric_pt *t = src;
		src = dst;
		dst = t;
	}
	if (src != pts)
		memcpy(pts, src, n * sizeof(*pts));
	free(tmp);
	return 0;
}

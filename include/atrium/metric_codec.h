#ifndef ATRIUM_METRIC_CODEC_H
#define ATRIUM_METRIC_CODEC_H
/*
 * metric_codec.h: how metric points are packed in the metric_chunks blobs. A point is a fixed
 * 24-byte little-endian record: step (int64), value (IEEE-754 float64), timestamp (int64 ms
 * since the epoch). Fixed records let a chunk be filled in place (an append writes only its
 * own bytes) and be read back without parsing. Pure functions: no SQL, no HTTP.
 */
#include <stddef.h>
#include <stdint.h>

#define ATR_METRIC_REC 24 /* bytes per point */

struct atr_metric_pt {
	int64_t step;
	double value;
	int64_t ts; /* ms since the epoch */
};

/* Writes n points as n * ATR_METRIC_REC bytes at out. */
void atr_metric_encode(const struct atr_metric_pt *pts, size_t n, unsigned char *out);
/* Reads n records from in. */
void atr_metric_decode(const unsigned char *in, size_t n, struct atr_metric_pt *out);
/* Sorts by step, keeping arrival order among equal steps (stable). 0 or ATR_ENOMEM. */
int atr_metric_sort(struct atr_metric_pt *pts, size_t n);

#endif

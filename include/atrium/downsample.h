#ifndef ATRIUM_DOWNSAMPLE_H
#define ATRIUM_DOWNSAMPLE_H
/*
 * downsample.h: picks which points of a long series to draw, keeping its shape. Pure.
 */
#include <stddef.h>

/*
 * Chooses at most max_out of the n values (in drawing order) and writes their indices to out
 * (room for max_out), increasing; returns how many. n <= max_out keeps everything. Otherwise
 * the points are cut into max_out / 4 buckets of consecutive points and each bucket keeps its
 * first, last, smallest and largest point (the M4 aggregation; each index once), so the first
 * and last points and the series' minimum and maximum are always kept, and spikes survive.
 * With max_out < 4 (too few for that) it keeps the minimum, maximum, first and last, in that
 * order of preference.
 */
size_t atr_downsample(const double *values, size_t n, size_t max_out, size_t *out);

#endif

/*
 * asha.c: asynchronous successive halving (Li et al. 2018, "A System for Massively Parallel
 * Hyperparameter Tuning"), in its stopping form: a trial that reaches rung k (resource
 * r*eta^k) is compared with every trial that reached rung k before it, and goes on iff it is
 * in the top 1/eta of them, else the controller stops it. Pure: the rungs are sorted arrays of
 * the values recorded so far, so one decision costs a binary search and one insertion.
 */
#include "atrium/sweep.h"
#include "atrium/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void atr_asha_init(struct atr_asha *a, double min_resource, double eta, unsigned nrungs, int maximize)
{
	memset(a, 0, sizeof(*a));
	a->min_resource = min_resource > 0 ? min_resource : 1;
	a->eta = eta >= 2 ? eta : 2;
	a->nrungs = nrungs < 1 ? 1 : nrungs > ATR_ASHA_MAX_RUNGS ? ATR_ASHA_MAX_RUNGS : nrungs;
	a->maximize = maximize ? 1 : 0;
}

void atr_asha_release(struct atr_asha *a)
{
	for (unsigned k = 0; k < ATR_ASHA_MAX_RUNGS; k++) {
		free(a->rung[k].v);
		a->rung[k].v = NULL;
		a->rung[k].n = a->rung[k].cap = 0;
	}
}

double atr_asha_milestone(const struct atr_asha *a, unsigned k)
{
	return a->min_resource * pow(a->eta, (double)k);
}

enum atr_asha_decision atr_asha_rule(size_t n, size_t better, double eta)
{
	size_t top = (size_t)floor((double)n / eta);

	if (top < 1)
		top = 1;
	return better < top ? ATR_ASHA_CONTINUE : ATR_ASHA_STOP;
}

/* The value as stored: smaller is better, NaN the worst of all. */
static double key(const struct atr_asha *a, double value)
{
	if (isnan(value))
		return INFINITY;
	return a->maximize ? -value : value;
}

/* How many values of the sorted rung are strictly smaller than x. */
static size_t lower_bound(const struct atr_asha_rung *r, double x)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert(struct atr_asha_rung *r, double x, size_t *better)
{
	size_t at;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		double *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return ATR_ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	at = lower_bound(r, x);
	memmove(r->v + at + 1, r->v + at, (r->n - at) * sizeof(*r->v));
	r->v[at] = x;
	r->n++;
	*better = at;
	return 0;
}

int atr_asha_record(struct atr_asha *a, unsigned k, double value)
{
	size_t better;

	if (k >= a->nrungs)
		return ATR_EINVAL;
	return insert(&a->rung[k], key(a, value), &better);
}

int atr_asha_report(struct atr_asha *a, unsigned *next_rung, double resource, double value)
{
	double x = key(a, value);

	while (*next_rung < a->nrungs && resource >= atr_asha_milestone(a, *next_rung)) {
		struct atr_asha_rung *r = &a->rung[*next_rung];
		size_t better;
		int rc = insert(r, x, &better);

		if (rc < 0)
			return rc;
		(*next_rung)++;
		if (atr_asha_rule(r->n, better, a->eta) == ATR_ASHA_STOP)
			return ATR_ASHA_STOP;
	}
	return ATR_ASHA_CONTINUE;
}

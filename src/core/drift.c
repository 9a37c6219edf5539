/*
 * drift.c: the drift statistics between a reference and a live distribution binned alike:
 * PSI, Jensen-Shannon distance, Kolmogorov-Smirnov over the bins, the chi-square test of
 * homogeneity with its p-value (the regularized incomplete gamma, below). Checked against
 * SciPy by tests/drift/check_scipy.py. Not here: binning (profile.c), folding (profile_fold.c).
 */
#include "atrium/profile.h"

#include <float.h>
#include <math.h>

#define GAMMA_ITMAX 10000
#define GAMMA_EPS 1e-16
#define GAMMA_TINY 1e-300

/* P(a, x) by its series, for x < a + 1. */
static double gamma_p_series(double a, double x)
{
	double ap = a, sum = 1.0 / a, del = sum;

	for (int n = 0; n < GAMMA_ITMAX; n++) {
		ap += 1;
		del *= x / ap;
		sum += del;
		if (fabs(del) < fabs(sum) * GAMMA_EPS)
			break;
	}
	return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Q(a, x) by its continued fraction (modified Lentz), for x >= a + 1. */
static double gamma_q_fraction(double a, double x)
{
	double b = x + 1 - a, c = 1 / GAMMA_TINY, d = 1 / b, h = d;

	for (int i = 1; i < GAMMA_ITMAX; i++) {
		double an = -i * (i - a), del;
		b += 2;
		d = an * d + b;
		if (fabs(d) < GAMMA_TINY)
			d = GAMMA_TINY;
		c = b + an / c;
		if (fabs(c) < GAMMA_TINY)
			c = GAMMA_TINY;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < GAMMA_EPS)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * h;
}

double atr_gamma_q(double a, double x)
{
	if (!(a > 0) || !(x >= 0))
		return NAN;
	if (x == 0)
		return 1;
	if (isinf(x))
		return 0;
	if (x < a + 1)
		return 1 - gamma_p_series(a, x);
	return gamma_q_fraction(a, x);
}

static double total(const uint64_t *c, size_t n)
{
	double t = 0;
	for (size_t i = 0; i < n; i++)
		t += (double)c[i];
	return t;
}

static double kl_half(double p, double m)
{
	return p > 0 ? p * log2(p / m) : 0;
}

static void chi_square(const uint64_t *ref, const uint64_t *live, size_t n, double tr, double tl, struct atr_drift *d)
{
	double chi2 = 0, all = tr + tl;
	int k = 0;

	for (size_t i = 0; i < n; i++) {
		double col = (double)ref[i] + (double)live[i], er, el;
		if (col == 0)
			continue;
		k++;
		er = tr * col / all;
		el = tl * col / all;
		chi2 += ((double)ref[i] - er) * ((double)ref[i] - er) / er +
			((double)live[i] - el) * ((double)live[i] - el) / el;
	}
	d->dof = k > 1 ? k - 1 : 0;
	d->chi2 = d->dof ? chi2 : 0;
	d->chi2_p = d->dof ? atr_gamma_q(d->dof / 2.0, d->chi2 / 2.0) : 1;
}

void atr_drift_compute(const uint64_t *ref, const uint64_t *live, size_t n, struct atr_drift *d)
{
	double tr = total(ref, n), tl = total(live, n), cp = 0, cq = 0, js = 0;

	d->psi = d->js = d->ks = d->chi2 = d->chi2_p = NAN;
	d->dof = 0;
	if (tr <= 0 || tl <= 0)
		return;
	d->psi = 0;
	d->ks = 0;
	for (size_t i = 0; i < n; i++) {
		double p = (double)ref[i] / tr, q = (double)live[i] / tl, m = (p + q) / 2;
		double pe = p > 0 ? p : ATR_PSI_EPS, qe = q > 0 ? q : ATR_PSI_EPS;
		d->psi += (qe - pe) * log(qe / pe);
		js += kl_half(p, m) + kl_half(q, m);
		cp += p;
		cq += q;
		if (fabs(cp - cq) > d->ks)
			d->ks = fabs(cp - cq);
	}
	js /= 2;
	d->js = js > 0 ? sqrt(js) : 0;
	chi_square(ref, live, n, tr, tl, d);
}

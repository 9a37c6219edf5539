#ifndef ATRIUM_SWEEP_H
#define ATRIUM_SWEEP_H
/*
 * sweep.h: the pure logic of hyperparameter sweeps: search spaces (grid and random sampling,
 * reproducible from a seed) and asynchronous successive halving (ASHA, Li et al. 2018). No
 * I/O, no SQL, no clock: the sweep controller feeds them and acts on their answers.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- a small PRNG (splitmix64): the same seed gives the same numbers on every machine ---- */

/* Advances *state and returns the next 64 random bits. */
uint64_t atr_sweep_rand(uint64_t *state);
/* A double uniform in [0, 1) from the next 53 bits. */
double atr_sweep_rand01(uint64_t *state);

/* ---- search spaces ---- */

enum atr_space_kind {
	ATR_SPACE_CHOICE,      /* {"type":"choice","values":[...]}: any JSON scalars, 1..1000 of them */
	ATR_SPACE_UNIFORM,     /* {"type":"uniform","min":a,"max":b[,"count":n]}: a <= x <= b */
	ATR_SPACE_LOG_UNIFORM, /* {"type":"log_uniform","min":a,"max":b[,"count":n]}: 0 < a */
	ATR_SPACE_INT,	       /* {"type":"int","min":a,"max":b[,"step":s]}: a, a+s, ... <= b */
};

struct atr_space_param {
	char *name; /* owned */
	enum atr_space_kind kind;
	double min, max;
	long long imin, imax, step; /* ATR_SPACE_INT */
	size_t count;		    /* grid points of a number range (ATR_SPACE_UNIFORM/LOG_UNIFORM); 0: none */
	json_t *values;		    /* ATR_SPACE_CHOICE: owned reference to the array */
};

enum { ATR_SPACE_MAX_PARAMS = 32 };

struct atr_space {
	int grid; /* 1: grid search, 0: random search */
	size_t n;
	struct atr_space_param p[ATR_SPACE_MAX_PARAMS];
	size_t grid_size; /* grid: the number of points (<= ATR_SPACE_MAX_GRID); random: 0 */
};

enum { ATR_SPACE_MAX_GRID = 1000000 };

/*
 * Parses a search space (a JSON object, parameter name -> spec as above; spec borrowed) for
 * grid (grid != 0) or random search into *out (initialised here; atr_space_release frees it).
 * A grid needs every number range to give "count" (int ranges are enumerated by "step"), and at
 * most ATR_SPACE_MAX_GRID points. On a bad spec returns ATR_EINVAL, writes the path of the bad
 * field (e.g. "search_space.lr.min") to field and why to why (both NUL-terminated, truncated to
 * their sizes), and leaves nothing to release.
 */
int atr_space_parse(const json_t *spec, int grid, struct atr_space *out, char *field, size_t field_size, char *why,
		    size_t why_size);
void atr_space_release(struct atr_space *s);

/*
 * The parameter values of trial `index` (0-based) as a new JSON object (NULL when out of
 * memory). Grid: the index-th point in row-major order over the parameters in the order they
 * were given (index taken modulo grid_size). Random: each value drawn independently, from a
 * generator seeded by seed and index alone, so trial i has the same values whatever order the
 * trials were drawn in. Numbers always lie within [min, max].
 */
json_t *atr_space_point(const struct atr_space *s, uint64_t seed, size_t index);

/* ---- ASHA ---- */

enum { ATR_ASHA_MAX_RUNGS = 16 };

/* What the values recorded at one rung are: kept sorted, best (smallest after sign) first. */
struct atr_asha_rung {
	double *v; /* owned */
	size_t n, cap;
};

struct atr_asha {
	double min_resource; /* r: the first rung's milestone, > 0 */
	double eta;	     /* reduction factor, >= 2 */
	unsigned nrungs;     /* milestones r, r*eta, ..., r*eta^(nrungs-1) */
	int maximize;	     /* 1: larger metric values are better */
	struct atr_asha_rung rung[ATR_ASHA_MAX_RUNGS];
};

enum atr_asha_decision { ATR_ASHA_CONTINUE = 0, ATR_ASHA_STOP = 1 };

/* Sets up *a with no trials recorded. 1 <= nrungs <= ATR_ASHA_MAX_RUNGS. */
void atr_asha_init(struct atr_asha *a, double min_resource, double eta, unsigned nrungs, int maximize);
void atr_asha_release(struct atr_asha *a);
/* Rung k's milestone, r * eta^k. */
double atr_asha_milestone(const struct atr_asha *a, unsigned k);

/*
 * The rule of one rung (pure): a trial whose value v has just been recorded at a rung that now
 * holds n values (v among them) of which `better` are strictly better than v, is promoted iff
 * it is among the top floor(n / eta) of them (the rule of Li et al., Algorithm 2, applied at
 * the moment the trial reaches the rung), where the top is at least one trial, so that the
 * first trials to reach a rung are not all stopped before any comparison is possible. Ties
 * favour the trial being decided.
 */
enum atr_asha_decision atr_asha_rule(size_t n, size_t better, double eta);

/*
 * A trial reports `value` at `resource` (its step). *next_rung is the first rung the trial has
 * not reached yet (0 for a new trial; updated here). Each rung whose milestone the trial has
 * now reached records the value and decides by atr_asha_rule; the first rung that stops the
 * trial stops it. NaN counts as the worst value. O(size of the rungs reached). Returns
 * ATR_ASHA_CONTINUE or ATR_ASHA_STOP, or a negative ATR_ENOMEM (nothing recorded then).
 * A trial past the last rung always continues.
 */
int atr_asha_report(struct atr_asha *a, unsigned *next_rung, double resource, double value);

/* Records a value at rung k without deciding (rebuilding the rungs after a restart). */
int atr_asha_record(struct atr_asha *a, unsigned k, double value);

#endif

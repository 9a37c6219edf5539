/*
 * scoring_util.c: the containers and the arithmetic of the scoring library: interned
 * strings (the ids of a ground truth, class labels) with their hash index, numpy's
 * summation order (so that means equal scikit-learn's bit for bit), a radix sort of
 * scores, and the ROC AUC of sorted scores. Not here: parsing, metrics.
 */
#include "scoring_internal.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

/* ---- interned strings ---- */

/* memset through a pointer the compiler cannot see through: it would make malloc + memset a
 * calloc, whose large blocks are the kernel's zero page until written, so that the first
 * write after a read (a probe) costs a copy-on-write fault and a TLB flush on every CPU. */
static void *(*volatile zero_fill)(void *, int, size_t) = memset;

void sc_zero(void *p, size_t n)
{
	zero_fill(p, 0, n);
}

uint32_t sc_hash(const char *p, size_t len)
{
	uint64_t h = atr_fnv1a(p, len);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

#define REC_HEAD 16 /* a record: uint32 index, uint32 length, uint64 payload, the bytes, a NUL */

bool sc_intern_find_at(const struct sc_intern *t, size_t s, const char *p, size_t len, uint32_t h, uint32_t *idx,
		       uint64_t *payload)
{
	size_t mask = t->nslots - 1;

	if (t->nslots == 0)
		return false;
	for (;; s = (s + 1) & mask) {
		struct sc_slot sl = t->slot[s];
		uint32_t head[2];
		if (sl.at == 0)
			return false;
		if (sl.hash != h)
			continue;
		const char *rec = t->bytes + sl.at - 1;
		memcpy(head, rec, sizeof(head));
		if (head[1] == len && memcmp(rec + REC_HEAD, p, len) == 0) {
			*idx = head[0];
			if (payload)
				memcpy(payload, rec + 8, sizeof(*payload));
			return true;
		}
	}
}

bool sc_intern_find(const struct sc_intern *t, const char *p, size_t len, uint32_t h, uint32_t *idx, uint64_t *payload)
{
	return sc_intern_find_at(t, h & (t->nslots - 1), p, len, h, idx, payload);
}

void sc_intern_prefetch(const struct sc_intern *t, uint32_t h)
{
	if (t->nslots)
		__builtin_prefetch(&t->slot[h & (t->nslots - 1)]);
}

size_t sc_intern_probe(const struct sc_intern *t, uint32_t h)
{
	size_t mask = t->nslots - 1, s = h & mask;

	if (t->nslots == 0)
		return 0;
	while (t->slot[s].at && t->slot[s].hash != h)
		s = (s + 1) & mask;
	if (t->slot[s].at)
		__builtin_prefetch(t->bytes + t->slot[s].at - 1);
	return s;
}

static void place(struct sc_slot *slot, size_t nslots, struct sc_slot sl)
{
	size_t mask = nslots - 1, s = sl.hash & mask;
	while (slot[s].at)
		s = (s + 1) & mask;
	slot[s] = sl;
}

/* Room for one more string of len bytes: the offsets, the bytes, the index (load <= 1/2). */
static int grow(struct sc_intern *t, size_t len)
{
	size_t need = t->used + REC_HEAD + len + 1;

	if (len > UINT32_MAX || need >= UINT32_MAX)
		return ATR_ETOOBIG;
	if (t->n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		uint64_t *off = realloc(t->off, cap * sizeof(*off));
		if (!off)
			return ATR_ENOMEM;
		t->off = off;
		t->cap = cap;
	}
	if (need > t->bcap) {
		size_t cap = t->bcap ? t->bcap * 2 : 1024;
		while (cap < need)
			cap *= 2;
		char *b = realloc(t->bytes, cap);
		if (!b)
			return ATR_ENOMEM;
		t->bytes = b;
		t->bcap = cap;
	}
	if ((t->n + 1) * 2 > t->nslots) {
		size_t ns = t->nslots ? t->nslots * 2 : 64;
		struct sc_slot *slot = malloc(ns * sizeof(*slot));
		if (!slot)
			return ATR_ENOMEM;
		sc_zero(slot, ns * sizeof(*slot));
		for (size_t i = 0; i < t->nslots; i++)
			if (t->slot[i].at)
				place(slot, ns, t->slot[i]);
		free(t->slot);
		t->slot = slot;
		t->nslots = ns;
	}
	return 0;
}

int sc_intern_add(struct sc_intern *t, const char *p, size_t len, uint32_t h, uint64_t payload, uint32_t *idx)
{
	int rc = grow(t, len);
	uint32_t head[2] = { (uint32_t)t->n, (uint32_t)len };
	struct sc_slot sl = { h, (uint32_t)t->used + 1 };

	if (rc)
		return rc;
	memcpy(t->bytes + t->used, head, sizeof(head));
	memcpy(t->bytes + t->used + 8, &payload, sizeof(payload));
	memcpy(t->bytes + t->used + REC_HEAD, p, len);
	t->bytes[t->used + REC_HEAD + len] = 0;
	t->off[t->n] = t->used + REC_HEAD;
	t->used += REC_HEAD + len + 1;
	place(t->slot, t->nslots, sl);
	*idx = head[0];
	t->n++;
	return 0;
}

const char *sc_intern_get(const struct sc_intern *t, uint32_t i, size_t *len)
{
	if (len) {
		uint32_t n;
		memcpy(&n, t->bytes + t->off[i] - REC_HEAD + 4, sizeof(n));
		*len = n;
	}
	return t->bytes + t->off[i];
}

void sc_intern_release(struct sc_intern *t)
{
	free(t->bytes);
	free(t->off);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

/* ---- batches of rows ---- */

int sc_batch_start(struct sc_batch *b, const struct sc_str *id, uint64_t line)
{
	struct sc_pending *pd = &b->p[b->n];

	if (b->used + id->len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->used + id->len)
			cap *= 2;
		char *bytes = realloc(b->bytes, cap);
		if (!bytes)
			return ATR_ENOMEM;
		b->bytes = bytes;
		b->cap = cap;
	}
	memcpy(b->bytes + b->used, id->p, id->len);
	pd->id_at = b->used;
	pd->id_len = id->len;
	pd->hash = sc_hash(id->p, id->len);
	pd->line = line;
	return 0;
}

bool sc_batch_commit(struct sc_batch *b)
{
	b->used += b->p[b->n].id_len;
	return ++b->n == SC_BATCH;
}

const char *sc_batch_id(const struct sc_batch *b, const struct sc_pending *pd)
{
	return b->bytes + pd->id_at;
}

void sc_batch_clear(struct sc_batch *b)
{
	b->n = 0;
	b->used = 0;
}

void sc_batch_release(struct sc_batch *b)
{
	free(b->bytes);
	memset(b, 0, sizeof(*b));
}

/* ---- numpy's sums ---- */

/* numpy's pairwise_sum (numpy/core/src/umath/loops_utils.h.src), for one block. */
double sc_pairwise(const double *a, size_t n)
{
	double r[8], res;
	size_t i;

	if (n < 8) {
		res = 0.;
		for (i = 0; i < n; i++)
			res += a[i];
		return res;
	}
	if (n <= 128) {
		for (i = 0; i < 8; i++)
			r[i] = a[i];
		for (i = 8; i < n - (n % 8); i += 8)
			for (int k = 0; k < 8; k++)
				r[k] += a[i + k];
		res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	size_t n2 = n / 2;
	n2 -= n2 % 8;
	return sc_pairwise(a, n2) + sc_pairwise(a + n2, n - n2);
}

/* np.add.reduce on a contiguous float64 array: the iterator hands the inner loop blocks of
 * 8192 values (its buffer size), each summed pairwise into the running total. */
double sc_npsum(const double *a, size_t n)
{
	double s = 0.;

	for (size_t i = 0; i < n; i += 8192)
		s += sc_pairwise(a + i, n - i < 8192 ? n - i : 8192);
	return s;
}

/* ---- sorting scores ---- */

uint64_t sc_key(double d)
{
	uint64_t u;

	if (d == 0)
		d = 0.0;
	memcpy(&u, &d, sizeof(u));
	return (u >> 63) ? ~u : u | (1ULL << 63);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* LSD radix sort, 11 bits a pass (6 passes cover 64 bits), a pass skipped when every key
 * has the same digit there (scores in [0, 1] share their top bits). */
void sc_sort_keys(uint64_t *a, uint64_t *tmp, size_t n)
{
	enum { BITS = 11, PASSES = 6, B = 1 << BITS };
	static const unsigned mask = B - 1;
	uint32_t(*cnt)[B];
	uint64_t *src = a, *dst = tmp;

	if (n < 2048 || n > UINT32_MAX || !(cnt = calloc(PASSES, sizeof(*cnt)))) {
		qsort(a, n, sizeof(*a), cmp_u64);
		return;
	}
	for (size_t i = 0; i < n; i++)
		for (int p = 0; p < PASSES; p++)
			cnt[p][(a[i] >> (p * BITS)) & mask]++;
	for (int p = 0; p < PASSES; p++) {
		unsigned shift = (unsigned)(p * BITS);
		uint32_t sum = 0;
		if (cnt[p][(src[0] >> shift) & mask] == n)
			continue;
		for (unsigned d = 0; d < B; d++) {
			uint32_t c = cnt[p][d];
			cnt[p][d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[p][(src[i] >> shift) & mask]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
	free(cnt);
}

double sc_auc_sorted(const uint64_t *pos, size_t np, const uint64_t *neg, size_t nn)
{
	uint64_t u2 = 0; /* twice the Mann-Whitney U: exact below 2^64 */
	size_t lt = 0, i = 0;

	while (i < np) {
		uint64_t key = pos[i];
		size_t g = 0, eq;
		while (i < np && pos[i] == key)
			i++, g++;
		while (lt < nn && neg[lt] < key)
			lt++;
		for (eq = lt; eq < nn && neg[eq] == key; eq++)
			;
		u2 += (uint64_t)g * (2 * (uint64_t)lt + (eq - lt));
	}
	return (double)u2 / (2.0 * (double)np * (double)nn);
}

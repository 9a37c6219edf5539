#ifndef ATRIUM_STORE_GC_H
#define ATRIUM_STORE_GC_H
/*
 * The database side of garbage collection (src/store/gc.c): finding blob rows no file
 * points at, a bounded slice at a time, and forgetting them. The bytes are removed by the
 * collector (include/atrium/gc.h) only after the row is gone.
 */
#include "atrium/store.h"

/*
 * Examines at most max blob rows after `after` (sha256 order; "" from the start). The ones
 * no file points at and created before before_ms go to out[0..*n). last gets the last
 * sha256 examined; *examined how many rows were (fewer than max: the end was reached).
 */
int atr_store_gc_scan(struct atr_store *s, const char *after, int64_t before_ms, int max, char (*out)[65], int *n,
		      char last[65], int *examined);
/*
 * Forgets the blob rows of shas[0..n) in one transaction; a row a file points at again is
 * kept (sizes[i] = -1), a forgotten one gives its size in sizes[i].
 */
int atr_store_gc_forget(struct atr_store *s, char (*shas)[65], int n, int64_t *sizes);
/* 1 when a blob row or a file names sha256, 0 when nothing does, <0 on a database error. */
int atr_store_gc_known(struct atr_store *s, const char *sha256);

#endif

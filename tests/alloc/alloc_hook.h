#ifndef ATRIUM_ALLOC_HOOK_H
#define ATRIUM_ALLOC_HOOK_H
/*
 * alloc_hook.h: allocation failures on demand, like curl's torture tests. The program is
 * linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup,
 * so every allocation of Atrium's own code (and jansson's, which atr_json_setup routes
 * through malloc) goes through a counter: with alloc_fail_at(N) the N-th allocation from then on returns
 * NULL (and only that one, as curl does).
 */
#include <stdbool.h>
#include <stddef.h>

/* Arms the hook: the n-th allocation from now fails (0: none fails); counts from 0 again. */
void alloc_fail_at(long n);
/* Allocations made since the last alloc_fail_at. */
long alloc_count(void);
/* Whether the armed failure happened. */
bool alloc_failed(void);

#endif

/*
 * cache.c: the answer cache of ATR_RF_CACHE routes. A slot holds one 200 JSON answer under its key
 * (path and principal) and the store's write generation when it was made; it is good while the
 * generation has not moved, so a hit is never stale. Collisions simply replace the slot.
 */
#include "atrium/util.h"
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_MAX_BODY 65536

static uint64_t cache_hash(const char *k)
{
	return atr_fnv1a(k, strlen(k));
}

void atr_cache_put(struct atr_cache *c, const char *key, uint64_t gen, const char *body, size_t len)
{
	uint64_t h = cache_hash(key);
	struct atr_cache_slot *sl = &c->slot[h & (ATR_CACHE_SLOTS - 1)];
	char *k, *b;

	if (len > CACHE_MAX_BODY)
		return;
	k = strdup(key);
	b = malloc(len ? len : 1);
	if (!k || !b) {
		free(k);
		free(b);
		return;
	}
	memcpy(b, body, len);
	free(sl->key);
	free(sl->body);
	sl->hash = h;
	sl->key = k;
	sl->gen = gen;
	sl->body = b;
	sl->len = len;
}

const struct atr_cache_slot *atr_cache_find(const struct atr_cache *c, const char *key, uint64_t gen)
{
	uint64_t h = cache_hash(key);
	const struct atr_cache_slot *sl = &c->slot[h & (ATR_CACHE_SLOTS - 1)];

	if (sl->key && sl->hash == h && sl->gen == gen && strcmp(sl->key, key) == 0)
		return sl;
	return NULL;
}

void atr_cache_clear(struct atr_cache *c)
{
	for (int i = 0; i < ATR_CACHE_SLOTS; i++) {
		free(c->slot[i].key);
		free(c->slot[i].body);
		c->slot[i].key = c->slot[i].body = NULL;
	}
}

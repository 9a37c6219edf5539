#ifndef ATRIUM_MODEL_HOOKS_H
#define ATRIUM_MODEL_HOOKS_H
/*
 * model_hooks.h: how other parts of the daemon follow the model registry without the
 * registry knowing them (src/registry/model_hooks.c). Deployments, for instance, register a
 * listener at start-up to roll out when an alias they follow moves, to refuse the deletion
 * of a version they serve, and to list themselves in a version's lineage:
 *
 *     static const struct atr_models_listener l = {
 *         .arg = deployments, .alias_moved = on_alias_moved,
 *         .version_deletable = refuse_if_served, .lineage = add_deployments,
 *     };
 *     atr_models_listen(&l);
 *
 * Listeners are process-wide and called on the loop thread, in registration order. Each
 * callback may be NULL.
 */
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct atr_models_listener {
	void *arg;
	/*
	 * An alias moved, after the change committed: set or moved (from_version_id is 0 when it
	 * was unset), deleted (to_version_id 0), or a promotion approved. Row ids, not numbers.
	 */
	void (*alias_moved)(void *arg, int64_t model_id, const char *alias, int64_t from_version_id,
			    int64_t to_version_id);
	/*
	 * Asked before a version is deleted: return 0 to allow, <0 to refuse with a reason in why
	 * ("deployment 'web' serves it"), which the caller answers as 409.
	 */
	int (*version_deletable)(void *arg, int64_t version_id, char *why, size_t whylen);
	/*
	 * Adds to a version's lineage object (borrowed): e.g. appends to its "deployments" array
	 * or replaces "job" ({"id": N}) with the job's details.
	 */
	void (*lineage)(void *arg, int64_t version_id, json_t *lineage);
};

#define ATR_MODELS_MAX_LISTENERS 8

/* Registers a listener (copied). 0, or ATR_ELIMIT when ATR_MODELS_MAX_LISTENERS are set. */
int atr_models_listen(const struct atr_models_listener *l);
/* Forgets every listener (tests). */
void atr_models_listeners_clear(void);

/* Called by the registry after every alias move; logs at debug level, then tells listeners. */
void atr_models_alias_moved(int64_t model_id, const char *alias, int64_t from_version_id, int64_t to_version_id);
/* 0 when every listener allows deleting the version; else <0 with the first refusal in why. */
int atr_models_version_deletable(int64_t version_id, char *why, size_t whylen);
/* Lets listeners add to a lineage object (borrowed). */
void atr_models_lineage_extend(int64_t version_id, json_t *lineage);

#endif

/*
 * model_hooks.c: the listeners that follow the model registry (see model_hooks.h): the
 * deployments subscribe here instead of the registry knowing them.
 */
#include "atrium/model_hooks.h"
#include "atrium/err.h"
#include "atrium/log.h"

#include <stdio.h>

static struct atr_models_listener listeners[ATR_MODELS_MAX_LISTENERS];
static size_t nlisteners;

int atr_models_listen(const struct atr_models_listener *l)
{
	if (nlisteners >= ATR_MODELS_MAX_LISTENERS)
		return ATR_ELIMIT;
	listeners[nlisteners++] = *l;
	return 0;
}

void atr_models_listeners_clear(void)
{
	nlisteners = 0;
}

void atr_models_alias_moved(int64_t model_id, const char *alias, int64_t from_version_id, int64_t to_version_id)
{
	atr_debug("model %lld: alias '%s' moved from version row %lld to %lld", (long long)model_id, alias,
		  (long long)from_version_id, (long long)to_version_id);
	for (size_t i = 0; i < nlisteners; i++)
		if (listeners[i].alias_moved)
			listeners[i].alias_moved(listeners[i].arg, model_id, alias, from_version_id, to_version_id);
}

int atr_models_version_deletable(int64_t version_id, char *why, size_t whylen)
{
	for (size_t i = 0; i < nlisteners; i++) {
		if (!listeners[i].version_deletable)
			continue;
		if (listeners[i].version_deletable(listeners[i].arg, version_id, why, whylen) < 0)
			return ATR_ECONFLICT;
	}
	return 0;
}

void atr_models_lineage_extend(int64_t version_id, json_t *lineage)
{
	for (size_t i = 0; i < nlisteners; i++)
		if (listeners[i].lineage)
			listeners[i].lineage(listeners[i].arg, version_id, lineage);
}

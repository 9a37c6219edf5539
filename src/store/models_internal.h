#ifndef ATRIUM_STORE_MODELS_INTERNAL_H
#define ATRIUM_STORE_MODELS_INTERNAL_H
/* Private to src/store/models.c and src/store/promotions.c: the model history writer. */
#include "atrium/store_models.h"

struct model_event {
	int64_t model_id;
	const char *kind;     /* one of the kinds in migrations/0005_models.sql */
	int64_t version;      /* 0: none */
	const char *alias;    /* NULL: none */
	int64_t from_version; /* 0: none */
	int64_t promotion_id; /* 0: none */
	const char *actor;
	const char *comment;
};

int atr_store_model_event_add(struct atr_store *s, const struct model_event *e);

#endif

#ifndef ATRIUM_STORE_COMPETITIONS_INTERNAL_H
#define ATRIUM_STORE_COMPETITIONS_INTERNAL_H
/* Private to the competitions' store files (competition_boards.c, competition_models.c):
 * adding a submission within its entry's daily limit. */
#include "atrium/store_competitions.h"

/* Writes the submission's row (and what goes with it) for day; *id: the row's id. */
typedef int (*atr_comp_sub_insert_fn)(struct atr_store *s, const struct atr_comp_submission *sub, int64_t day,
				      const void *cls, int64_t *id);

/* In one transaction: ATR_ELIMIT when the entry has daily_limit submissions counting on
 * sub->arrived_at's (UTC) day, else insert(s, sub, day, cls, id_out). */
int atr_store_comp_sub_admit(struct atr_store *s, const struct atr_comp_submission *sub, int64_t daily_limit,
			     atr_comp_sub_insert_fn insert, const void *cls, int64_t *id_out);

#endif

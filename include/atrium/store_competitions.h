#ifndef ATRIUM_STORE_COMPETITIONS_H
#define ATRIUM_STORE_COMPETITIONS_H
/*
 * Competitions (src/store/competitions.c), their teams and members, and their submissions
 * and leaderboards (src/store/competition_boards.c). Who may do what is decided in src/api/;
 * the split of the test ids and the scoring are the API's (on the thread pool).
 */
#include "atrium/store.h"

#define ATR_COMP_NAME_MAX 64
#define ATR_COMP_TEXT_MAX 256

struct atr_competition {
	int64_t id, project_id;
	char name[ATR_COMP_NAME_MAX];
	int64_t starts_at, ends_at; /* ms since the epoch */
	int64_t train_version_id;   /* 0: none */
	int64_t test_version_id;    /* the hidden set */
	char test_path[1025];	    /* the ground truth file in it */
	char id_column[ATR_COMP_TEXT_MAX];
	char label_column[ATR_COMP_TEXT_MAX];
	char metric[64];
	char pos_label[ATR_COMP_TEXT_MAX]; /* "" when not given */
	bool higher_better;
	int64_t max_bytes, daily_limit, max_team_size;
	double public_fraction;
	int precision;
	char seed[65]; /* secret: never in an answer */
};

/* What a create or an update sets (strings borrowed during the call; NULL: unchanged on update). */
struct atr_competition_spec {
	const char *name, *title, *description, *rules;
	int64_t starts_at, ends_at;
	int64_t train_version_id, test_version_id;
	const char *test_path, *id_column, *label_column, *metric, *pos_label;
	bool higher_better;
	int64_t max_bytes, daily_limit, max_team_size;
	double public_fraction;
	int precision;
	const char *seed;
	int64_t user_id;
};

/* ATR_ECONFLICT when the name is taken. */
int atr_store_competition_create(struct atr_store *s, const struct atr_competition_spec *c, int64_t *id_out);
int atr_store_competition_find(struct atr_store *s, const char *name, struct atr_competition *out);
/* The public fields (never the seed), with the project, the datasets named as
 * {project, dataset, version}, the number of teams and submissions. New reference. */
json_t *atr_store_competition_json(struct atr_store *s, int64_t id, int *err);
int atr_store_competition_list(struct atr_store *s, const struct atr_page *p, json_t *arr, bool *more);
/* Changes title, description, rules (non-NULL), starts_at, ends_at (non-zero), daily_limit (> 0). */
int atr_store_competition_update(struct atr_store *s, int64_t id, const char *title, const char *description,
				 const char *rules, int64_t starts_at, int64_t ends_at, int64_t daily_limit);
/*
 * The projects of the competitions whose hidden set is dataset version dsv_id: up to max ids
 * into ids, their count in *n (0: the version hides nothing). The access layer hides the
 * version from whoever is not an owner of every one.
 */
int atr_store_competition_hiders(struct atr_store *s, int64_t dsv_id, int64_t *ids, size_t max, size_t *n);
/* Every competition's hidden set and its inputs-only copy: their dataset version row ids,
 * appended to ids (a JSON array) as integers. The access layer keeps those the caller may not
 * see (api_dsv_hidden_ids) for lists to leave out. */
int atr_store_competition_hidden_all(struct atr_store *s, json_t *ids);
/* Those of them that job_id read (its inputs), appended to ids. */
int atr_store_competition_hidden_read(struct atr_store *s, int64_t job_id, json_t *ids);

/* ---- teams and members ---- */

/* The caller's team in the competition: its id (0: none). */
int atr_store_competition_entry_of(struct atr_store *s, int64_t comp_id, int64_t user_id, int64_t *entry_id,
				   char name[ATR_COMP_NAME_MAX]);
/*
 * Joins user to the team `name` (made when absent; team_id > 0: an Atrium team, each of whose
 * members joins it on their own, else an ad-hoc one). ATR_ECONFLICT with why: the user plays for another team,
 * the team is full, or an ad-hoc team and an Atrium team share the name.
 */
int atr_store_competition_join(struct atr_store *s, int64_t comp_id, const char *name, int64_t team_id, int64_t user_id,
			       int64_t max_size, char *why, size_t whylen, int64_t *entry_out);
/* user leaves its team (ATR_ENOTFOUND: it plays for none). */
int atr_store_competition_leave(struct atr_store *s, int64_t comp_id, int64_t user_id);
/* The teams with their members and submission counts. */
int atr_store_competition_teams(struct atr_store *s, int64_t comp_id, const struct atr_page *p, json_t *arr,
				bool *more);

/* ---- submissions ---- */

struct atr_comp_submission {
	int64_t comp_id, entry_id, user_id;
	const char *format, *sha256;
	int64_t size, arrived_at;
};

/*
 * Records an accepted submission as 'scoring' with its file, unless its team has used its
 * daily_limit of the UTC day of arrived_at ('scoring' and 'scored' ones count): then
 * ATR_ELIMIT. One transaction, on the loop: concurrent submissions cannot both take the last one.
 */
int atr_store_comp_submission_add(struct atr_store *s, const struct atr_comp_submission *sub, int64_t daily_limit,
				  int64_t *id_out);
/* How many submissions of the team count on that UTC day. */
int atr_store_comp_submissions_used(struct atr_store *s, int64_t entry_id, int64_t day, int64_t *used);
/* The scoring's end: the scores (defined: false gives NULL), or 'invalid' with its error. */
int atr_store_comp_submission_scored(struct atr_store *s, int64_t id, bool pub_ok, double pub, bool priv_ok,
				     double priv);
int atr_store_comp_submission_invalid(struct atr_store *s, int64_t id, const char *error);
/* One submission as the API shows it (private_score only when with_private). */
json_t *atr_store_comp_submission_json(struct atr_store *s, const struct atr_competition *c, int64_t id,
				       bool with_private, int *err);
/* A team's submissions (entry_id 0: all), newest first. */
int atr_store_comp_submissions_list(struct atr_store *s, const struct atr_competition *c, int64_t entry_id,
				    bool with_private, const struct atr_page *p, json_t *arr, bool *more);
/* Marks a scored submission of the team selected or not: ATR_ENOTFOUND (not the team's or not
 * scored), ATR_ELIMIT (two are selected already). */
int atr_store_comp_submission_select(struct atr_store *s, int64_t entry_id, int64_t id, bool selected);

/* The leaderboards as the JSON text of an array of {rank, team, submission, score,
 * submitted_at, entries} (the caller frees it; its length in *len): public: each team's best
 * public score; private: each team's best private score among its selected submissions
 * (default: its two best public ones). Ties: the earlier submission. */
char *atr_store_comp_board(struct atr_store *s, const struct atr_competition *c, bool private_board, size_t *len,
			   int *err);

/* ---- model-version submissions (src/store/competition_models.c) ---- */

/* What a model-version competition adds to a competition. */
struct atr_comp_model {
	bool model_kind;	   /* its submission is a model version */
	int64_t inputs_version_id; /* the inputs-only copy of the hidden set (0: not made yet) */
	int64_t created_by;	   /* the organiser its jobs run as (0: gone) */
};
int atr_store_comp_model_get(struct atr_store *s, int64_t comp_id, struct atr_comp_model *out);
/* kind: "predictions" | "model_version" (at creation). */
int atr_store_comp_kind_set(struct atr_store *s, int64_t comp_id, const char *kind);
/* Records the inputs-only copy unless one is recorded already. */
int atr_store_comp_inputs_set(struct atr_store *s, int64_t comp_id, int64_t dsv_id);
/* Whether dsv_id is the inputs-only copy of a competition, or a version staged for its scorer
 * (competition_scorers.c): both are read by the jobs they are inputs of, nobody else. */
int atr_store_comp_is_inputs(struct atr_store *s, int64_t dsv_id, bool *out);
/* As atr_store_comp_submission_add, for a model version: recorded 'pending', no file. */
int atr_store_comp_model_sub_add(struct atr_store *s, const struct atr_comp_submission *sub, int64_t model_version_id,
				 int64_t daily_limit, int64_t *id_out);
int atr_store_comp_sub_job_set(struct atr_store *s, int64_t sub_id, int64_t job_id);
/* Moves a submission still in progress (pending, running, scoring) to state with error (NULL: none). */
int atr_store_comp_sub_state(struct atr_store *s, int64_t sub_id, const char *state, const char *error);
/* The predictions its job wrote: their sha256 and size; the submission turns 'scoring'. */
int atr_store_comp_sub_predictions(struct atr_store *s, int64_t sub_id, const char *sha256, int64_t size);
struct atr_comp_sub_job {
	int64_t comp_id, job_id, model_version_id; /* job_id 0: none yet */
	char comp_name[ATR_COMP_NAME_MAX];
};
int atr_store_comp_sub_job_get(struct atr_store *s, int64_t sub_id, struct atr_comp_sub_job *out);
/* Model submissions in progress (pending, running, scoring) with ids above after, ascending. */
int atr_store_comp_subs_active(struct atr_store *s, int64_t after, int64_t *ids, size_t max, size_t *n);
/* Whether job_id runs a competition submission or scores one with the competition's scorer (*out), and whether it evaluates model version
 * mv_id (*grants: its token may read that version, wherever it lives). */
int atr_store_comp_job(struct atr_store *s, int64_t job_id, int64_t mv_id, bool *out, bool *grants);

#endif

/*
 * competitions.c: competitions (hackathons) — create (an owner of the project holding the
 * data, or an admin), read, change; teams joining and leaving; the training data
 * participants (and the organisers) read. Submissions and scoring are in competition_subs.c, the leaderboards in
 * competition_boards.c. The hidden test set is hidden by the access layer (access.c,
 * api_dsv_hidden), not here.
 */
#include "api.h"
#include "atrium/scoring.h"
#include "atrium/store_comp_scorers.h"
#include "atrium/store_files.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>

static const struct atr_field dsv_ref_schema[] = {
	{ "dataset", ATR_F_NAME, ATR_FF_REQUIRED, 1, 128, NULL, NULL },
	{ "version", ATR_F_INT, ATR_FF_REQUIRED, 1, INT32_MAX, NULL, NULL },
	{ 0 },
};

static const struct atr_field test_schema[] = {
	{ "dataset", ATR_F_NAME, ATR_FF_REQUIRED, 1, 128, NULL, NULL },
	{ "version", ATR_F_INT, ATR_FF_REQUIRED, 1, INT32_MAX, NULL, NULL },
	{ "path", ATR_F_STRING, ATR_FF_REQUIRED, 1, 1024, NULL, NULL },
	{ "id_column", ATR_F_STRING, 0, 1, 255, NULL, NULL },
	{ "label_column", ATR_F_STRING, 0, 1, 255, NULL, NULL },
	{ 0 },
};

const struct atr_field api_competition_create_schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 0, 0, NULL, NULL },
	{ "title", ATR_F_STRING, ATR_FF_REQUIRED, 1, 256, NULL, NULL },
	{ "description", ATR_F_STRING, 0, 0, 65536, NULL, NULL },
	{ "rules", ATR_F_STRING, 0, 0, 65536, NULL, NULL },
	{ "starts_at", ATR_F_TIME, ATR_FF_REQUIRED, 0, 0, NULL, NULL },
	{ "ends_at", ATR_F_TIME, ATR_FF_REQUIRED, 0, 0, NULL, NULL },
	{ "training", ATR_F_OBJECT, 0, 0, 0, NULL, dsv_ref_schema },
	{ "test", ATR_F_OBJECT, ATR_FF_REQUIRED, 0, 0, NULL, test_schema },
	{ "metric", ATR_F_STRING, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "pos_label", ATR_F_STRING, 0, 1, 255, NULL, NULL },
	{ "submission", ATR_F_STRING, 0, 0, 0, "predictions|model_version", NULL },
	{ "max_bytes", ATR_F_INT, 0, 1, (int64_t)1 << 34, NULL, NULL },
	{ "daily_limit", ATR_F_INT, 0, 1, 1000, NULL, NULL },
	{ "max_team_size", ATR_F_INT, 0, 1, 100, NULL, NULL },
	{ "public_fraction", ATR_F_NUMBER, 0, 0, 1, NULL, NULL },
	{ "precision", ATR_F_INT, 0, 0, 12, NULL, NULL },
	/* a custom metric: the organisers' scorer (competition_scorer.c); `metric` names one of its metrics */
	{ "scorer", ATR_F_OBJECT, 0, 0, 0, NULL, api_scorer_schema },
	{ 0 },
};

const struct atr_field api_competition_patch_schema[] = {
	{ "title", ATR_F_STRING, 0, 1, 256, NULL, NULL },
	{ "description", ATR_F_STRING, 0, 0, 65536, NULL, NULL },
	{ "rules", ATR_F_STRING, 0, 0, 65536, NULL, NULL },
	{ "starts_at", ATR_F_TIME, 0, 0, 0, NULL, NULL },
	{ "ends_at", ATR_F_TIME, 0, 0, 0, NULL, NULL },
	{ "daily_limit", ATR_F_INT, 0, 1, 1000, NULL, NULL },
	{ 0 },
};

const struct atr_field api_competition_join_schema[] = {
	{ "team", ATR_F_NAME, 0, 1, 63, NULL, NULL },
	{ "name", ATR_F_NAME, 0, 1, 63, NULL, NULL },
	{ 0 },
};

/* {dataset, version} (in the route's project, committed) -> its row id; -1 after a 400 naming field. */
static int version_or_reply(struct atr_req *r, const json_t *ref, const char *field, int64_t *id)
{
	const char *ds = atr_json_str(ref, "dataset", "");
	struct atr_dataset_version v;
	int64_t dataset_id;

	if (atr_store_dataset_find(STORE(r), RES(r)->project.id, ds, &dataset_id) < 0 ||
	    atr_store_dsv_find(STORE(r), dataset_id, atr_json_int(ref, "version", 0), &v) < 0 || !v.committed) {
		atr_reply_invalid(r, field, "dataset '%s' of project '%s' has no committed version %lld", ds,
				  RES(r)->project.name, (long long)atr_json_int(ref, "version", 0));
		return -1;
	}
	*id = v.id;
	return 0;
}

/* The metric and its columns: a 400 naming the field unless the scoring library takes them. */
static int scoring_or_reply(struct atr_req *r, const struct atr_competition_spec *c)
{
	struct atr_scoring_spec spec = { .metrics = &c->metric,
					 .n_metrics = 1,
					 .id_column = c->id_column,
					 .label_column = c->label_column,
					 .pos_label = c->pos_label };
	struct atr_scoring_error err;
	int custom = api_comp_scorer_or_reply(r, c->metric);

	if (custom != 0) /* a scorer's metric: the scorer computes it (-1: answered) */
		return custom < 0 ? -1 : 0;
	if (!atr_scoring_metric_find(c->metric)) {
		atr_reply_invalid(r, "metric",
				  "'metric' must be one of the built-in metrics (GET /api/v1/openapi.json"
				  " lists them under competitions), not '%s'",
				  c->metric);
		return -1;
	}
	if (atr_scoring_spec_check(&spec, &err) < 0) {
		atr_reply_invalid(r, "metric", "%s", err.message);
		return -1;
	}
	return 0;
}

/* Reads the create body into c (strings borrowed from the body); -1 after a 400. */
static int spec_or_reply(struct atr_req *r, struct atr_competition_spec *c)
{
	const json_t *b = atr_req_body(r), *test = json_object_get(b, "test");
	struct atr_file f;

	c->name = atr_json_str(b, "name", "");
	c->title = atr_json_str(b, "title", "");
	c->description = atr_json_str(b, "description", "");
	c->rules = atr_json_str(b, "rules", "");
	atr_time_parse(atr_json_str(b, "starts_at", ""), &c->starts_at);
	atr_time_parse(atr_json_str(b, "ends_at", ""), &c->ends_at);
	if (c->ends_at <= c->starts_at) {
		atr_reply_invalid(r, "ends_at", "'ends_at' must be after 'starts_at'");
		return -1;
	}
	c->metric = atr_json_str(b, "metric", "");
	c->pos_label = atr_json_str(b, "pos_label", NULL);
	c->test_path = atr_json_str(test, "path", "");
	c->id_column = atr_json_str(test, "id_column", "id");
	c->label_column = atr_json_str(test, "label_column", "label");
	c->max_bytes = atr_json_int(b, "max_bytes", 64 << 20);
	c->daily_limit = atr_json_int(b, "daily_limit", 5);
	c->max_team_size = atr_json_int(b, "max_team_size", 5);
	c->public_fraction = atr_json_num(b, "public_fraction", 0.3);
	c->precision = (int)atr_json_int(b, "precision", 5);
	c->user_id = atr_req_who(r)->user_id;
	if (c->public_fraction <= 0 || c->public_fraction >= 1) {
		atr_reply_invalid(r, "public_fraction", "'public_fraction' must be between 0 and 1 (both excluded)");
		return -1;
	}
	if (scoring_or_reply(r, c) < 0 || version_or_reply(r, test, "test", &c->test_version_id) < 0)
		return -1;
	if (json_object_get(b, "training") &&
	    version_or_reply(r, json_object_get(b, "training"), "training", &c->train_version_id) < 0)
		return -1;
	if (c->train_version_id == c->test_version_id) {
		atr_reply_invalid(r, "training", "the training version cannot be the hidden test version");
		return -1;
	}
	if (atr_store_file_get(STORE(r), "dataset_version", c->test_version_id, c->test_path, &f) < 0) {
		atr_reply_invalid(r, "test.path", "the test version has no file '%s'", c->test_path);
		return -1;
	}
	return 0;
}

static void reply_competition(struct atr_req *r, unsigned status, int64_t id)
{
	int rc;
	json_t *o = atr_store_competition_json(STORE(r), id, &rc);

	if (!o) {
		atr_reply_err(r, rc, NULL, "could not read the competition");
		return;
	}
	json_object_set_new(o, "organiser", json_boolean(RES(r)->role == ATR_PROLE_OWNER));
	json_object_set_new(o, "scorer", api_comp_scorer_view(r, id));
	atr_reply_json(r, status, o);
}

/* Once the ground truth reads well (on the thread pool): the body is read again (it has not
 * changed; the datasets it names are committed, so they have not either). */
static void create_checked(struct atr_req *r)
{
	struct atr_competition_spec c = { 0 };
	unsigned char raw[32];
	char seed[65];
	int64_t id;
	int rc;

	if (spec_or_reply(r, &c) < 0)
		return;
	if (atr_random_bytes(raw, sizeof(raw)) < 0) {
		atr_reply_err(r, ATR_EIO, NULL, "could not draw the competition's secret");
		return;
	}
	atr_hex_encode(raw, sizeof(raw), seed);
	c.seed = seed;
	rc = atr_store_competition_create(STORE(r), &c, &id);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "name", "competition '%s' exists already", c.name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create the competition");
		return;
	}
	if (strcmp(atr_json_str(atr_req_body(r), "submission", "predictions"), "predictions") != 0 &&
	    (rc = atr_store_comp_kind_set(STORE(r), id, atr_json_str(atr_req_body(r), "submission", ""))) < 0) {
		atr_reply_err(r, rc, NULL, "could not record the competition's submission kind");
		return;
	}
	if (api_scorer_of(atr_req_body(r)) &&
	    (rc = atr_store_comp_scorer_set(STORE(r), id, api_scorer_of(atr_req_body(r)))) < 0) {
		atr_reply_err(r, rc, NULL, "could not record the competition's scorer");
		return;
	}
	atr_req_audit_object(r, "competition:%s", c.name);
	reply_competition(r, 201, id);
}

void api_competitions_create(struct atr_req *r)
{
	struct atr_competition_spec c = { 0 };

	if (spec_or_reply(r, &c) == 0)
		api_comp_truth_check(r, &c, create_checked);
}

static int list_cb(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	(void)arg;
	return atr_store_competition_list(STORE(r), p, arr, more);
}

void api_competitions_list(struct atr_req *r)
{
	api_reply_list_cb(r, list_cb, NULL, "competitions");
}

void api_competitions_get(struct atr_req *r)
{
	reply_competition(r, 200, RES(r)->comp.id);
}

void api_competitions_patch(struct atr_req *r)
{
	const json_t *b = atr_req_body(r);
	const struct atr_competition *c = &RES(r)->comp;
	int64_t starts = 0, ends = 0;
	int rc;

	atr_time_parse(atr_json_str(b, "starts_at", ""), &starts);
	atr_time_parse(atr_json_str(b, "ends_at", ""), &ends);
	if ((ends ? ends : c->ends_at) <= (starts ? starts : c->starts_at)) {
		atr_reply_invalid(r, ends ? "ends_at" : "starts_at", "'ends_at' must be after 'starts_at'");
		return;
	}
	rc = atr_store_competition_update(STORE(r), c->id, atr_json_str(b, "title", NULL),
					  atr_json_str(b, "description", NULL), atr_json_str(b, "rules", NULL), starts,
					  ends, atr_json_int(b, "daily_limit", 0));
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not change the competition");
		return;
	}
	reply_competition(r, 200, c->id);
}

/* ---- teams ---- */

void api_competitions_join(struct atr_req *r)
{
	const json_t *b = atr_req_body(r);
	const char *team = atr_json_str(b, "team", NULL), *name = atr_json_str(b, "name", NULL);
	const struct atr_competition *c = &RES(r)->comp;
	int64_t team_id = 0, entry;
	char why[160];
	int rc;

	if (!team == !name) {
		atr_reply_invalid(r, team ? "name" : "team",
				  "give either 'team' (an Atrium team of yours) or 'name' (an ad-hoc team)");
		return;
	}
	if (atr_now_ms() >= c->ends_at) {
		atr_reply_conflict(r, NULL, "competition '%s' has ended", c->name);
		return;
	}
	if (team && (atr_store_team_id(STORE(r), team, &team_id) < 0 ||
		     !atr_store_team_role(STORE(r), team_id, atr_req_who(r)->user_id))) {
		atr_reply_invalid(r, "team", "you are not a member of a team '%s'", team);
		return;
	}
	rc = atr_store_competition_join(STORE(r), c->id, team ? team : name, team_id, atr_req_who(r)->user_id,
					c->max_team_size, why, sizeof(why), &entry);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, team ? "team" : "name", "%s", why);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not join the competition");
		return;
	}
	atr_req_audit_object(r, "competition:%s/team:%s", c->name, team ? team : name);
	atr_reply_json(r, 200,
		       json_pack("{s:s, s:s, s:I}", "competition", c->name, "team", team ? team : name, "id",
				 (json_int_t)entry));
}

void api_competitions_leave(struct atr_req *r)
{
	int rc = atr_store_competition_leave(STORE(r), RES(r)->comp.id, atr_req_who(r)->user_id);

	if (rc == ATR_ENOTFOUND) {
		atr_reply_conflict(r, NULL, "you play for no team of competition '%s'", RES(r)->comp.name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not leave the competition");
		return;
	}
	atr_reply_empty(r, 204);
}

void api_competitions_teams(struct atr_req *r)
{
	api_reply_list(r, atr_store_competition_teams, RES(r)->comp.id, "teams");
}

/* ---- the training data: readable by the participants (members of a team that joined), the
 * organisers (owners of its project) and admins; others are told to join ---- */

static int64_t training_or_reply(struct atr_req *r)
{
	const struct atr_competition *c = &RES(r)->comp;
	int64_t entry = 0;
	int rc;

	if (RES(r)->role < ATR_PROLE_OWNER) {
		rc = atr_store_competition_entry_of(STORE(r), c->id, atr_req_who(r)->user_id, &entry, NULL);
		if (rc < 0) {
			atr_reply_err(r, rc, NULL, "could not read your team in competition '%s'", c->name);
			return 0;
		}
		if (!entry) {
			atr_reply_forbidden(r, NULL,
					    "only participants read the training data of competition '%s': join it"
					    " first (POST /api/v1/competitions/%s/join)",
					    c->name, c->name);
			return 0;
		}
	}
	if (!c->train_version_id)
		atr_reply_not_found(r, NULL, "competition '%s' has no training data", c->name);
	return c->train_version_id;
}

void api_competitions_data(struct atr_req *r)
{
	int64_t id = training_or_reply(r);
	if (id)
		api_files_list(r, "dataset_version", id);
}

void api_competitions_data_get(struct atr_req *r)
{
	int64_t id = training_or_reply(r);
	if (id)
		api_file_download(r, "dataset_version", id);
}

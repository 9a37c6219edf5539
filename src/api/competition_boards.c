/*
 * competition_boards.c: a competition's leaderboards and a team's submissions. The public
 * board (each team's best score on the public part of the test ids) is open to every
 * signed-in user; the private board (the rest of the ids, over each team's final
 * submissions: those it selected, by default its two best public ones) to the organisers
 * always and to everyone once the competition has ended. Scores are rounded to the
 * competition's published precision; equal rounded scores rank by the earlier submission.
 */
#include "api.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct atr_field api_comp_select_schema[] = {
	{ "selected", ATR_F_BOOL, ATR_FF_REQUIRED, 0, 0, NULL, NULL },
	{ 0 },
};

const struct atr_qparam api_comp_subs_query[] = {
	ATR_Q_PAGE,
	{ "all", ATR_Q_BOOL, 0, 0, 0, 0, NULL, "organisers: every team's submissions" },
	{ 0 },
};

/* The answer is written as text around the board's cached text (a board of 500 teams is
 * 65 KB: encoding it anew for every read would cost more than the read). */
static void reply_board(struct atr_req *r, bool private_board)
{
	const struct atr_competition *c = &RES(r)->comp;
	json_t *head;
	char *items = NULL, *h = NULL, *out = NULL;
	size_t len = 0, hl;
	int rc;

	if (!(items = atr_store_comp_board(STORE(r), c, private_board, &len, &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the leaderboard");
		return;
	}
	head = json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:b}", "competition", c->name, "board",
			 private_board ? "private" : "public", "metric", c->metric, "direction",
			 c->higher_better ? "higher" : "lower", "precision", c->precision, "public_fraction",
			 c->public_fraction, "final", atr_now_ms() >= c->ends_at);
	h = head ? atr_json_dump(head) : NULL;
	json_decref(head);
	if (h && (hl = strlen(h)) > 1 && (out = malloc(hl + len + 16))) {
		memcpy(out, h, hl - 1); /* without its closing brace */
		memcpy(out + hl - 1, ",\"items\":", 9);
		memcpy(out + hl + 8, items, len);
		out[hl + 8 + len] = '}';
		atr_reply_data_owned(r, 200, "application/json", out, hl + len + 9);
	} else {
		atr_reply_nomem(r, NULL, "out of memory");
	}
	free(h);
	free(items);
}

void api_comp_board_public(struct atr_req *r)
{
	reply_board(r, false);
}

void api_comp_board_private(struct atr_req *r)
{
	if (atr_now_ms() < RES(r)->comp.ends_at &&
	    api_need_role_or_reply(r, ATR_PROLE_OWNER, "reading the private leaderboard before the end") < 0)
		return;
	reply_board(r, true);
}

/* The caller's team; 0 after a 403. */
static int64_t entry_or_reply(struct atr_req *r)
{
	int64_t entry = 0;

	if (atr_store_competition_entry_of(STORE(r), RES(r)->comp.id, atr_req_who(r)->user_id, &entry, NULL) < 0 ||
	    !entry)
		atr_reply_forbidden(r, NULL, "you play for no team of competition '%s'", RES(r)->comp.name);
	return entry;
}

struct subs_arg {
	int64_t entry;
	bool with_private;
};

static int subs_cb(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	const struct subs_arg *a = arg;
	int rc = atr_store_comp_submissions_list(STORE(r), &RES(r)->comp, a->entry, a->with_private, p, arr, more);
	json_t *it;
	size_t i;

	json_array_foreach(arr, i, it) api_comp_scorer_annotate(r, it); /* (organisers: the scorer's jobs) */
	return rc;
}

void api_comp_subs_list(struct atr_req *r)
{
	bool organiser = RES(r)->role == ATR_PROLE_OWNER, ended = atr_now_ms() >= RES(r)->comp.ends_at;
	struct subs_arg a = { 0, organiser || ended };

	if (atr_req_qbool(r, "all")) {
		if (api_need_role_or_reply(r, ATR_PROLE_OWNER, "listing every team's submissions") < 0)
			return;
	} else if (!(a.entry = entry_or_reply(r))) {
		return;
	}
	api_reply_list_cb(r, subs_cb, &a, "submissions");
}

void api_comp_sub_select(struct atr_req *r)
{
	const struct atr_competition *c = &RES(r)->comp;
	bool selected = atr_json_bool(atr_req_body(r), "selected", false);
	int64_t entry, id;
	json_t *o;
	int rc;

	if (api_id_or_reply(r, "id", "submission", &id) < 0 || !(entry = entry_or_reply(r)))
		return;
	if (atr_now_ms() >= c->ends_at) {
		atr_reply_conflict(r, NULL, "competition '%s' has ended: the final submissions are fixed", c->name);
		return;
	}
	rc = atr_store_comp_submission_select(STORE(r), entry, id, selected);
	if (rc == ATR_ELIMIT) {
		atr_reply_conflict(r, "selected", "your team has selected two submissions already: unselect one first");
		return;
	}
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "your team has no scored submission %lld", (long long)id);
		return;
	}
	if (rc < 0 || !(o = atr_store_comp_submission_json(STORE(r), c, id, RES(r)->role == ATR_PROLE_OWNER, &rc))) {
		atr_reply_err(r, rc, NULL, "could not select the submission");
		return;
	}
	atr_req_audit_object(r, "competition:%s/submission:%lld", c->name, (long long)id);
	atr_reply_json(r, 200, o);
}

/*
 * benchmarks_gate.c: the evaluation gate of a model's `production` alias,
 * GET/PUT/DELETE .../models/{model}/gate, and what the alias moves ask of it: every move of
 * `production` (a direct one, an approved promotion, MLflow's alias and stage endpoints)
 * calls api_gate_or_reply first, for a 409 that names the missing evaluation; the store
 * checks the gate again in the move's transaction (atr_store_model_alias_set).
 */
#include "api.h"
#include "atrium/scoring.h"
#include "atrium/store_models.h"
#include "atrium/util.h"

#include <math.h>
#include <string.h>

const struct atr_field api_gate_schema[] = {
	{ "benchmark", ATR_F_STRING, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "metric", ATR_F_STRING, ATR_FF_REQUIRED, 1, 31, NULL, NULL },
	{ "threshold", ATR_F_NUMBER, ATR_FF_REQUIRED, 0, 0, NULL, NULL },
	{ 0 },
};

static json_t *gate_json(const struct atr_gate *g)
{
	return json_pack("{s:s, s:s, s:s, s:f, s:s}", "alias", ATR_ALIAS_PROTECTED, "benchmark", g->benchmark, "metric",
			 g->metric, "threshold", g->threshold, "direction", g->direction > 0 ? "higher" : "lower");
}

void api_gate_get(struct atr_req *r)
{
	const struct atr_model *m = &RES(r)->model;
	struct atr_gate g;
	int rc = atr_store_gate_get(STORE(r), m->id, &g);

	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "model '%s' has no evaluation gate", m->name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read the gate");
		return;
	}
	atr_reply_json(r, 200, gate_json(&g));
}

void api_gate_put(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	const char *bench = atr_json_str(body, "benchmark", ""), *metric = atr_json_str(body, "metric", "");
	const struct atr_model *m = &RES(r)->model;
	struct atr_benchmark b;
	struct atr_gate g = { .model_id = m->id, .threshold = atr_json_num(body, "threshold", 0) };
	char actor[80];
	size_t i;
	int rc = atr_store_benchmark_find(STORE(r), RES(r)->project.id, bench, &b);

	if (rc == ATR_ENOTFOUND) {
		atr_reply_invalid(r, "benchmark", "benchmark '%s' does not exist in this project", bench);
		return;
	}
	for (i = 0; rc == 0 && i < b.n_metrics && strcmp(b.metrics[i], metric); i++)
		;
	if (rc == 0 && i == b.n_metrics && !atr_store_benchmark_custom_direction(STORE(r), b.id, metric)) {
		atr_reply_invalid(r, "metric", "benchmark '%s' does not score '%s'", b.name, metric);
		return;
	}
	g.benchmark_id = b.id;
	atr_copy(g.metric, sizeof(g.metric), metric);
	if (rc == 0)
		rc = atr_store_gate_set(STORE(r), &g, api_actor(r, actor, sizeof(actor)));
	if (rc == 0)
		rc = atr_store_gate_get(STORE(r), m->id, &g);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not set the gate");
		return;
	}
	atr_req_audit_object(r, "project:%s/model:%s/gate", RES(r)->project.name, m->name);
	atr_reply_json(r, 200, gate_json(&g));
}

void api_gate_delete(struct atr_req *r)
{
	const struct atr_model *m = &RES(r)->model;
	int rc = atr_store_gate_delete(STORE(r), m->id);

	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "model '%s' has no evaluation gate", m->name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not remove the gate");
		return;
	}
	atr_reply_empty(r, 204);
}

/* A gate on a custom metric not met while the version's evaluation waits for its scorer (or
 * its scorer failed): a 409 saying so (-1), else 0. */
static int scoring_or_reply(struct atr_req *r, const struct atr_gate *g, const char *alias, int64_t version_id,
			    int64_t number)
{
	char state[16] = "";
	int64_t eval = 0;

	if (!atr_store_benchmark_custom_direction(STORE(r), g->benchmark_id, g->metric) ||
	    atr_store_gate_scoring(STORE(r), g, version_id, &eval, state, sizeof(state)) < 0 || !eval)
		return 0;
	atr_reply_conflict(r, "evaluation",
			   "alias '%s' needs an evaluation on benchmark '%s' with %s %s %g; the scorer of "
			   "evaluation %lld of version %lld is %s: the gate is not met %s",
			   alias, g->benchmark, g->metric, g->direction > 0 ? ">=" : "<=", g->threshold,
			   (long long)eval, (long long)number, state,
			   strcmp(state, "failed") ? "until it has scored" : "(evaluate the version again)");
	return -1;
}

int api_gate_or_reply(struct atr_req *r, int64_t model_id, const char *alias, int64_t version_id)
{
	struct atr_gate g;
	double best;
	int rc = atr_store_gate_check(STORE(r), model_id, alias, version_id, &g, NULL, &best);
	int64_t number;

	if (rc == 0)
		return 0;
	if (rc != ATR_ECONFLICT) {
		atr_reply_err(r, rc, NULL, "could not check the evaluation gate");
		return -1;
	}
	number = atr_store_model_version_number(STORE(r), version_id);
	if (scoring_or_reply(r, &g, alias, version_id, number) < 0)
		return -1;
	if (isnan(best))
		atr_reply_conflict(
			r, "evaluation",
			"alias '%s' needs an evaluation on benchmark '%s' with %s %s %g; version %lld has no "
			"evaluation on that benchmark",
			alias, g.benchmark, g.metric, g.direction > 0 ? ">=" : "<=", g.threshold, (long long)number);
	else
		atr_reply_conflict(
			r, "evaluation",
			"alias '%s' needs an evaluation on benchmark '%s' with %s %s %g; the best of version "
			"%lld is %g",
			alias, g.benchmark, g.metric, g.direction > 0 ? ">=" : "<=", g.threshold, (long long)number,
			best);
	return -1;
}

json_t *api_gate_evidence(struct atr_req *r, int64_t model_id, const char *alias, int64_t version_id)
{
	struct atr_gate g;
	int64_t eval = 0;
	double best;
	json_t *o, *ev = NULL;
	int rc;

	if (!alias || strcmp(alias, ATR_ALIAS_PROTECTED) || atr_store_gate_get(STORE(r), model_id, &g) < 0)
		return NULL;
	rc = atr_store_gate_check(STORE(r), model_id, alias, version_id, NULL, &eval, &best);
	if (eval)
		ev = atr_store_evaluation_json(STORE(r), g.benchmark_id, eval, &rc);
	o = gate_json(&g);
	if (o) {
		json_object_set_new(o, "satisfied", json_boolean(eval != 0));
		json_object_set_new(o, "best", isnan(best) ? json_null() : json_real(best));
		json_object_set_new(o, "evaluation", ev ? ev : json_null());
	} else {
		json_decref(ev);
	}
	return o;
}

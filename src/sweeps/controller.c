/*
 * controller.c: the sweeps in memory (atrium/sweeps.h): loading them, submitting trials
 * through the launcher up to each sweep's parallelism, passes that reap ended trials and fill
 * the freed slots, pause/resume/cancel. One trial's metric and ASHA: trials.c.
 */
#include "sweeps_internal.h"
#include "atrium/buf.h"
#include "atrium/err.h"
#include "atrium/launcher.h"
#include "atrium/log.h"
#include "atrium/store_launchers.h"
#include "atrium/store_projects.h"
#include "atrium/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void render_metrics(void *cls, struct atr_buf *out);

static void sweep_free(struct sweep *s)
{
	while (s->trials)
		trial_free(s->trials);
	atr_space_release(&s->space);
	atr_asha_release(&s->asha);
	atr_sweep_row_release(&s->row);
	json_decref(s->spec);
	json_decref(s->params);
	free(s);
}

static struct sweep *find_sweep(struct atr_sweeps *sw, int64_t id)
{
	struct sweep *s = sw->sweeps;
	while (s && s->row.id != id)
		s = s->next;
	return s;
}

/* The search space and ASHA settings (checked by the API when the sweep was created). */
static int sweep_setup(struct sweep *s)
{
	char field[128], why[128];
	const json_t *a = s->row.asha;
	int rc = atr_space_parse(s->row.space, !strcmp(s->row.method, "grid"), &s->space, field, sizeof(field), why,
				 sizeof(why));

	if (rc < 0)
		return rc;
	s->total = s->row.max_trials;
	if (s->space.grid && (int64_t)s->space.grid_size < s->total)
		s->total = (int64_t)s->space.grid_size;
	s->has_asha = a != NULL;
	if (a)
		atr_asha_init(&s->asha, json_number_value(json_object_get(a, "min_resource")),
			      json_number_value(json_object_get(a, "eta")),
			      (unsigned)json_integer_value(json_object_get(a, "rungs")),
			      !strcmp(s->row.direction, "maximize"));
	return 0;
}

static int load_launcher(struct atr_sweeps *sw, struct sweep *s)
{
	struct atr_launcher l;
	struct atr_project p;
	char ref[32];
	int64_t v;
	int rc;

	if ((rc = atr_store_project_get(sw->store, s->row.project_id, &p)) < 0)
		return rc;
	s->team_id = p.team_id;
	snprintf(ref, sizeof(ref), "%lld", (long long)s->row.launcher_id);
	if ((rc = atr_store_launcher_find(sw->store, s->row.project_id, ref, &l)) < 0)
		return rc;
	atr_copy(s->launcher_name, sizeof(s->launcher_name), l.name);
	return atr_store_launcher_version(sw->store, s->row.launcher_id, s->row.launcher_version, &v, &s->spec,
					  &s->params);
}

/* A trial of a sweep that was loaded: ASHA's rungs rebuilt, a live one watched again. */
static int load_trial(void *cls, const struct atr_trial_row *r)
{
	struct sweep *s = cls;
	struct atr_job_row job;
	struct trial *t;
	size_t k;
	json_t *v;

	json_array_foreach(r->rung_values, k, v)
	{
		if (s->has_asha) /* null: a NaN was recorded, the worst value */
			atr_asha_record(&s->asha, (unsigned)k, json_is_number(v) ? json_number_value(v) : NAN);
	}
	if (r->idx >= s->next_idx)
		s->next_idx = r->idx + 1;
	if (strcmp(r->state, "running"))
		return 0;
	memset(&job, 0, sizeof(job));
	if (atr_store_job_row(s->owner->store, r->job_id, &job) < 0)
		job.state = ATR_JOB_FAILED;
	json_decref(job.labels);
	if (!(t = trial_new(s, r->id, r->idx, r->job_id, job.state)))
		return ATR_ENOMEM;
	json_decref(t->rung_values);
	t->rung_values = json_deep_copy(r->rung_values);
	t->next_rung = (unsigned)r->next_rung;
	t->last_value = r->last_value;
	t->last_step = r->last_step;
	t->has_value = r->has_value;
	trial_set_run(t, r->run_id);
	return t->rung_values ? 0 : ATR_ENOMEM;
}

static int load_sweep(void *cls, int64_t id)
{
	struct atr_sweeps *sw = cls;
	struct sweep *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return ATR_ENOMEM;
	s->owner = sw;
	if ((rc = atr_store_sweep_get(sw->store, 0, id, &s->row)) < 0 || (rc = sweep_setup(s)) < 0 ||
	    (rc = load_launcher(sw, s)) < 0 || (rc = atr_store_trials_each(sw->store, id, load_trial, s)) < 0) {
		atr_warn("sweep %lld could not be loaded: %s", (long long)id, atr_strerror(rc));
		sweep_free(s);
		return rc == ATR_ENOMEM ? rc : 0; /* one broken sweep does not stop the daemon */
	}
	s->next = sw->sweeps;
	sw->sweeps = s;
	return 0;
}

struct trial_also {
	struct sweep *s;
	int64_t idx, trial_id;
	const json_t *params;
};

static int add_trial_row(struct atr_store *st, int64_t job_id, void *cls)
{
	struct trial_also *a = cls;
	return atr_store_trial_add(st, a->s->row.id, a->idx, job_id, a->params, &a->trial_id);
}

/* The launcher values of trial idx: the sweep's fixed values, then the point's. */
static json_t *trial_values(struct sweep *s, int64_t idx, json_t **point)
{
	json_t *v = s->row.fixed ? json_deep_copy(s->row.fixed) : json_object();

	*point = atr_space_point(&s->space, s->row.seed, (size_t)idx);
	if (!v || !*point || json_object_update(v, *point) < 0) {
		json_decref(v);
		json_decref(*point);
		*point = NULL;
		return NULL;
	}
	return v;
}

/* Submits the sweep's next trial. On failure field and msg say why. */
static int submit_next(struct sweep *s, char *field, size_t fieldlen, char *msg, size_t msglen)
{
	struct atr_launcher_ver ver = { .launcher_id = s->row.launcher_id,
					.project_id = s->row.project_id,
					.team_id = s->team_id,
					.name = s->launcher_name,
					.version = s->row.launcher_version,
					.spec = s->spec,
					.parameters = s->params };
	struct trial_also also = { .s = s, .idx = s->next_idx };
	struct atr_launch_result res;
	struct atr_launch_req q = {
		.ver = &ver, .user_id = s->row.created_by, .also = add_trial_row, .also_cls = &also
	};
	json_t *point = NULL, *values = trial_values(s, s->next_idx, &point), *tags;
	char name[96], sweep_tag[24], trial_tag[24];
	int rc = ATR_ENOMEM;
	struct trial *t;

	memset(&res, 0, sizeof(res));
	snprintf(name, sizeof(name), "%s-%lld", s->row.name, (long long)s->next_idx);
	snprintf(sweep_tag, sizeof(sweep_tag), "%lld", (long long)s->row.id);
	snprintf(trial_tag, sizeof(trial_tag), "%lld", (long long)s->next_idx);
	tags = json_pack("{s:s, s:s}", "sweep", sweep_tag, "trial", trial_tag); /* run tags are strings */
	q.values = values;
	q.run_name = name;
	q.tags = tags;
	also.params = point;
	if (values && tags && (rc = atr_launcher_submit(s->owner->engine, s->owner->store, &q, &res)) == 0) {
		s->next_idx++;
		s->owner->stats.submitted++;
		if ((t = trial_new(s, also.trial_id, also.idx, res.job_id, ATR_JOB_QUEUED)) != NULL) {
			trial_set_run(t, res.run_id);
			rc = atr_store_trial_set_run(s->owner->store, t->id, res.run_id);
		} else {
			rc = ATR_ENOMEM;
		}
	}
	snprintf(field, fieldlen, "%s", res.field);
	snprintf(msg, msglen, "%s", res.msg);
	json_decref(res.values);
	json_decref(values);
	json_decref(point);
	json_decref(tags);
	return rc;
}

/* One sweep's pass: ended trials reaped, free slots filled, the end of the sweep noticed. */
static void pass_sweep(struct sweep *s)
{
	char field[160], msg[320];

	for (struct trial *t = s->trials, *n; t; t = n) {
		n = t->next;
		if (t->ended)
			trial_reap(t);
	}
	while (!strcmp(s->row.state, "running") && s->live < s->row.parallelism && s->next_idx < s->total) {
		if (submit_next(s, field, sizeof(field), msg, sizeof(msg)) < 0) {
			atr_warn("sweep %lld: trial %lld not submitted (%s: %s); the sweep is paused",
				 (long long)s->row.id, (long long)s->next_idx, field, msg);
			atr_copy(s->row.state, sizeof(s->row.state), "paused");
			atr_store_sweep_set_state(s->owner->store, s->row.id, "paused");
		}
	}
	if (!strcmp(s->row.state, "running") && s->live == 0 && s->next_idx >= s->total) {
		atr_copy(s->row.state, sizeof(s->row.state), "completed");
		atr_store_sweep_set_state(s->owner->store, s->row.id, "completed");
	}
}

static void on_soon(uv_timer_t *h)
{
	struct atr_sweeps *sw = h->data;
	struct sweep **pp = &sw->sweeps;

	sw->soon_pending = false;
	while (*pp) {
		struct sweep *s = *pp;
		pass_sweep(s);
		if (s->live == 0 && strcmp(s->row.state, "running") && strcmp(s->row.state, "paused")) {
			*pp = s->next; /* over: nothing of it is needed in memory any more */
			sweep_free(s);
		} else {
			pp = &s->next;
		}
	}
}

void sw_kick(struct atr_sweeps *sw)
{
	if (sw->soon_pending || sw->closing)
		return;
	sw->soon_pending = true;
	uv_timer_start(&sw->soon, on_soon, 0, 0);
}

int atr_sweeps_new(const struct atr_sweeps_opts *o, struct atr_sweeps **out)
{
	struct atr_sweeps *sw = calloc(1, sizeof(*sw));
	int rc;

	if (!sw)
		return ATR_ENOMEM;
	sw->loop = o->loop;
	sw->store = o->store;
	sw->engine = o->engine;
	uv_timer_init(sw->loop, &sw->soon);
	sw->soon.data = sw;
	if (o->metrics)
		atr_metrics_add_source(o->metrics, render_metrics, sw);
	if ((rc = atr_store_sweeps_active(sw->store, load_sweep, sw)) < 0) {
		atr_sweeps_free(sw);
		return rc;
	}
	sw_kick(sw);
	*out = sw;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct atr_sweeps *sw = h->data;

	free(sw->times);
	free(sw);
}

void atr_sweeps_free(struct atr_sweeps *sw)
{
	if (!sw)
		return;
	sw->closing = true;
	while (sw->sweeps) {
		struct sweep *s = sw->sweeps;
		sw->sweeps = s->next;
		sweep_free(s);
	}
	uv_close((uv_handle_t *)&sw->soon, on_closed);
}

int atr_sweeps_start(struct atr_sweeps *sw, int64_t sweep_id, char *field, size_t fieldlen, char *msg, size_t msglen)
{
	struct sweep *s;
	int rc;

	if ((rc = load_sweep(sw, sweep_id)) < 0)
		return rc;
	if (!(s = find_sweep(sw, sweep_id))) {
		snprintf(field, fieldlen, "launcher");
		snprintf(msg, msglen, "the sweep's launcher version could not be read");
		return ATR_EINVAL;
	}
	if ((rc = submit_next(s, field, fieldlen, msg, msglen)) < 0) {
		sw->sweeps = s->next; /* load_sweep put it first */
		sweep_free(s);
		return rc;
	}
	sw_kick(sw); /* the other first trials, in a pass */
	return 0;
}

static int set_state(struct atr_sweeps *sw, struct sweep *s, const char *state)
{
	int rc = atr_store_sweep_set_state(sw->store, s->row.id, state);

	if (rc == 0)
		atr_copy(s->row.state, sizeof(s->row.state), state);
	sw_kick(sw);
	return rc;
}

int atr_sweeps_pause(struct atr_sweeps *sw, int64_t sweep_id)
{
	struct sweep *s = find_sweep(sw, sweep_id);

	if (!s)
		return ATR_ENOTFOUND;
	if (strcmp(s->row.state, "running"))
		return ATR_ECONFLICT;
	return set_state(sw, s, "paused");
}

int atr_sweeps_resume(struct atr_sweeps *sw, int64_t sweep_id)
{
	struct sweep *s = find_sweep(sw, sweep_id);

	if (!s)
		return ATR_ENOTFOUND;
	if (strcmp(s->row.state, "paused"))
		return ATR_ECONFLICT;
	return set_state(sw, s, "running");
}

int atr_sweeps_cancel(struct atr_sweeps *sw, int64_t sweep_id)
{
	struct sweep *s = find_sweep(sw, sweep_id);
	int rc;

	if (!s)
		return ATR_ENOTFOUND;
	if ((rc = set_state(sw, s, "cancelled")) < 0)
		return rc;
	for (struct trial *t = s->trials; t; t = t->next)
		if (!t->ended && atr_engine_cancel(sw->engine, t->job_id) < 0)
			atr_debug("sweep %lld: trial %lld had already ended", (long long)sweep_id, (long long)t->idx);
	return 0;
}

void sw_timed(struct atr_sweeps *sw, uint64_t ns)
{
	if (!sw->times)
		sw->times = calloc(TIMES_KEPT, sizeof(*sw->times));
	if (sw->times)
		sw->times[sw->ntimes++ % TIMES_KEPT] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	if (ns > sw->max_ns)
		sw->max_ns = ns;
	atr_hist_observe(&sw->hist, (double)ns / 1e9);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The p-quantile (0..1) of the decision times kept, in seconds (0 when none). */
static double quantile(const struct atr_sweeps *sw, double p)
{
	size_t n = sw->ntimes < TIMES_KEPT ? sw->ntimes : TIMES_KEPT;
	uint32_t *v = n ? malloc(n * sizeof(*v)) : NULL;
	double q;

	if (!v)
		return 0;
	memcpy(v, sw->times, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_u32);
	q = (double)v[(size_t)(p * (double)(n - 1))] / 1e9;
	free(v);
	return q;
}

static void render_metrics(void *cls, struct atr_buf *out)
{
	struct atr_sweeps *sw = cls;

	atr_buf_printf(out,
		       "# TYPE atrium_sweep_decisions_total counter\natrium_sweep_decisions_total %llu\n"
		       "# TYPE atrium_sweep_trials_stopped_total counter\natrium_sweep_trials_stopped_total %llu\n"
		       "# TYPE atrium_sweep_trials_submitted_total counter\natrium_sweep_trials_submitted_total %llu\n",
		       (unsigned long long)sw->stats.decisions, (unsigned long long)sw->stats.stopped,
		       (unsigned long long)sw->stats.submitted);
	atr_buf_printf(out, "# TYPE atrium_sweep_decision_seconds histogram\n");
	atr_hist_render(&sw->hist, "atrium_sweep_decision_seconds", "", out);
	atr_buf_printf(out,
		       "# TYPE atrium_sweep_decision_quantile_seconds gauge\n"
		       "atrium_sweep_decision_quantile_seconds{quantile=\"0.5\"} %.9f\n"
		       "atrium_sweep_decision_quantile_seconds{quantile=\"0.99\"} %.9f\n"
		       "atrium_sweep_decision_quantile_seconds{quantile=\"1\"} %.9f\n",
		       quantile(sw, 0.5), quantile(sw, 0.99), (double)sw->max_ns / 1e9);
}

void atr_sweeps_stats(struct atr_sweeps *sw, struct atr_sweeps_stats *out)
{
	*out = sw->stats;
}

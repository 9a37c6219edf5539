/*
 * monitors.c: the evaluator of monitors (issue 16). From the controller's tick, at most once
 * a second, each monitor due is checked: its figure over its window (drift and data quality
 * from the stored 5-minute counts against the reference profile, live quality from the
 * labelled windows, error rate and p99 latency from the gateway's 10-second series), its
 * state from the thresholds and the minimum number of samples, and on a change a history row
 * (the alert), an audit entry, the notifications (notify.c) and, on entering alerting, the
 * monitor's retraining action. A check reads at most window / 5 min rows (the window is at
 * most a day: 288 rows), so it stays on the loop. Also the /metrics gauges of every monitor.
 * Not here: validating monitors (src/api/monitors.c), sending (notify.c).
 */
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/profile.h"
#include "atrium/store_datasets.h"
#include "atrium/store_identity.h"
#include "atrium/store_models.h"
#include "atrium/store_monitoring.h"
#include "atrium/store_monitors.h"
#include "atrium/store_runs.h"
#include "atrium/util.h"
#include "deploy_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 32
#define STORE(dp) ((dp)->o.store)

struct figure {
	double value;
	int64_t samples;
};

/* ---- drift and data quality over the stored counts ---- */

struct sum {
	uint64_t *c;
	size_t n;
};

static int add_window(void *arg, int64_t start, const uint64_t *c, size_t n)
{
	struct sum *s = arg;
	(void)start;
	for (size_t i = 0; i < n && i < s->n; i++)
		s->c[i] += c[i];
	return 0;
}

static bool wanted(const json_t *features, const struct atr_profile_feature *f, bool prediction)
{
	size_t i;
	const json_t *v;

	if (prediction)
		return f->prediction;
	if (f->prediction)
		return false;
	if (json_array_size(features) == 0)
		return true;
	json_array_foreach(features, i, v) if (strcmp(json_string_value(v), f->name) == 0) return true;
	return false;
}

static double feature_figure(const struct atr_profile_feature *f, const uint64_t *lc, const char *stat)
{
	uint64_t seen = 0, nulls = lc[f->nbins], odd = lc[f->nbins + 1];
	struct atr_drift d;

	for (size_t k = 0; k < f->nbins; k++)
		seen += lc[k];
	if (!strcmp(stat, "null_rate"))
		return seen + nulls ? (double)nulls / (double)(seen + nulls) : NAN;
	if (!strcmp(stat, "out_of_range_rate") || !strcmp(stat, "unseen_rate"))
		return seen ? (double)odd / (double)seen : NAN;
	atr_drift_compute(f->counts, lc, f->nbins, &d);
	return !strcmp(stat, "psi")	      ? d.psi
	       : !strcmp(stat, "js_distance") ? d.js
	       : !strcmp(stat, "ks")	      ? (f->type == ATR_FEAT_NUMERIC ? d.ks : NAN)
	       : !strcmp(stat, "chi2_p")      ? (f->type == ATR_FEAT_CATEGORICAL ? d.chi2_p : NAN)
					      : NAN;
}

/* The worst figure over the features watched (largest, or smallest when lower is worse). */
static void counts_figure(const struct atr_profile *p, const uint64_t *c, const json_t *spec, struct figure *out)
{
	const char *watch = atr_json_str(spec, "watch", ""), *stat = atr_json_str(spec, "statistic", "");
	bool below = !strcmp(atr_json_str(spec, "direction", "above"), "below");
	const json_t *features = json_object_get(spec, "features");

	out->samples = (int64_t)c[ATR_LIVE_ROWS];
	out->value = NAN;
	if (!strcmp(stat, "misfit_rate")) {
		out->samples = (int64_t)c[ATR_LIVE_REQUESTS];
		out->value = c[ATR_LIVE_REQUESTS] ? (double)c[ATR_LIVE_MISFIT] / (double)c[ATR_LIVE_REQUESTS] : NAN;
		return;
	}
	for (size_t i = 0; i < p->nfeat; i++) {
		double v;
		if (!wanted(features, &p->f[i], !strcmp(watch, "prediction_drift")))
			continue;
		v = feature_figure(&p->f[i], c + atr_profile_offset(p, i), stat);
		if (isfinite(v) && (!isfinite(out->value) || (below ? v < out->value : v > out->value)))
			out->value = v;
	}
}

static void drift_figure(struct dep *d, int64_t from, int64_t to, const json_t *spec, struct figure *out)
{
	int64_t profile_id = 0;
	const struct atr_profile *p = dep_monitor_profile(d, &profile_id);
	struct sum s;

	out->value = NAN;
	out->samples = 0;
	if (!p)
		return;
	s.n = atr_profile_slots(p);
	if (!(s.c = calloc(s.n, sizeof(uint64_t))))
		return;
	if (atr_store_monitor_counts_each(STORE(d->dp), d->row.id, profile_id, from, to, s.n, add_window, &s) == 0)
		counts_figure(p, s.c, spec, out);
	free(s.c);
}

/* ---- live quality ---- */

static int add_quality(void *arg, int64_t start, const struct atr_quality *w)
{
	(void)start;
	atr_quality_merge(arg, w);
	return 0;
}

/* Precision, recall or F1 by the task the deployment declares (as GET .../drift reports them):
 * its monitoring settings', else its stable model version's signature's; NAN when not a
 * classification task. */
static double class_figure(struct dep *d, const struct atr_quality *q, const char *stat)
{
	struct atr_monitor_settings m = { 0 };
	bool have = atr_store_monitor_settings_get(STORE(d->dp), d->row.id, &m) == 0;
	json_t *settings = have && m.settings ? json_loads(m.settings, 0, NULL) : NULL, *version = NULL;
	const char *positive, *source;
	enum atr_task t;
	int err;
	double v = NAN;

	if (d->row.version_id)
		version = atr_store_model_version_json(STORE(d->dp), d->row.version_id, &err);
	t = atr_task_declared(settings, json_object_get(version, "signature"), &positive, &source);
	if (t == ATR_TASK_BINARY || t == ATR_TASK_MULTICLASS)
		v = atr_quality_task_figure(q, t, positive, stat);
	json_decref(settings);
	json_decref(version);
	if (have)
		atr_monitor_settings_release(&m);
	return v;
}

static void quality_figure(struct dep *d, int64_t from, int64_t to, const char *stat, struct figure *out)
{
	struct atr_quality *q = calloc(1, sizeof(*q));
	double n;

	out->value = NAN;
	out->samples = 0;
	if (!q || atr_store_monitor_quality_each(STORE(d->dp), d->row.id, from, to, add_quality, q) < 0)
		goto out;
	if (!strcmp(stat, "accuracy") || !strcmp(stat, "precision") || !strcmp(stat, "recall") || !strcmp(stat, "f1")) {
		out->samples = (int64_t)q->labelled;
		out->value = !q->labelled		 ? NAN
			     : !strcmp(stat, "accuracy") ? (double)q->correct / (double)q->labelled
							 : class_figure(d, q, stat);
		goto out;
	}
	out->samples = (int64_t)q->numeric;
	n = (double)q->numeric;
	if (!q->numeric)
		goto out;
	if (!strcmp(stat, "mae"))
		out->value = q->sum_abs / n;
	else if (!strcmp(stat, "rmse"))
		out->value = sqrt(q->sum_sq / n);
	else if (q->sum_y2 - q->sum_y * q->sum_y / n > 0)
		out->value = 1.0 - q->sum_sq / (q->sum_y2 - q->sum_y * q->sum_y / n);
out:
	free(q);
}

/* ---- error rate and latency from the gateway's series (the last 30 minutes) ---- */

static double p99_ms(const struct atr_hist *h)
{
	double want = 0.99 * (double)h->count, lo = 0, cum = 0;

	for (size_t i = 0; i <= ATR_HIST_BUCKETS; i++) {
		double hi = i < ATR_HIST_BUCKETS ? atr_hist_bounds[i] : atr_hist_bounds[ATR_HIST_BUCKETS - 1] * 2;
		double n = (double)h->counts[i];
		if (n > 0 && cum + n >= want)
			return (lo + (hi - lo) * ((want - cum) / n)) * 1000.0;
		cum += n;
		lo = hi;
	}
	return lo * 1000.0;
}

static void gateway_figure(struct dep *d, int64_t from, const char *stat, struct figure *out)
{
	struct dep_stats s = { 0 };

	for (int i = 0; d->series && i < DEP_SERIES_BUCKETS; i++) {
		const struct dep_bucket *b = &d->series[i];
		if (b->start < from || b->s.requests == 0)
			continue;
		s.requests += b->s.requests;
		s.errors += b->s.errors;
		for (size_t k = 0; k <= ATR_HIST_BUCKETS; k++)
			s.latency.counts[k] += b->s.latency.counts[k];
		s.latency.count += b->s.latency.count;
	}
	out->samples = (int64_t)s.requests;
	out->value = !s.requests		   ? NAN
		     : !strcmp(stat, "error_rate") ? (double)s.errors / (double)s.requests
						   : p99_ms(&s.latency);
}

/* ---- the state ---- */

static const char *state_of(const json_t *spec, const struct figure *f)
{
	bool below = !strcmp(atr_json_str(spec, "direction", "above"), "below");
	const json_t *warn = json_object_get(spec, "warning");
	double alert = json_number_value(json_object_get(spec, "alerting"));

	if (f->samples < atr_json_int(spec, "min_samples", 1) || !isfinite(f->value))
		return "no_data";
	if (below ? f->value <= alert : f->value >= alert)
		return "alerting";
	if (json_is_number(warn) && (below ? f->value <= json_number_value(warn) : f->value >= json_number_value(warn)))
		return "warning";
	return "ok";
}

static void figure_of(struct dep *d, const json_t *spec, int64_t now, struct figure *f)
{
	const char *watch = atr_json_str(spec, "watch", "");
	int64_t window = atr_json_int(spec, "window_s", 3600) * 1000, from = now - window;

	f->value = NAN;
	f->samples = 0;
	if (!strcmp(watch, "error_rate") || !strcmp(watch, "p99_latency"))
		gateway_figure(d, from, watch, f);
	else if (!strcmp(watch, "quality"))
		quality_figure(d, from - from % ATR_MONITOR_WINDOW_MS, now + 1, atr_json_str(spec, "statistic", ""), f);
	else
		drift_figure(d, from - from % ATR_MONITOR_WINDOW_MS, now + 1, spec, f);
}

/* ---- the retraining action ---- */

/* The alert's lineage, as tags of the job's run: atrium.alert, atrium.monitor, atrium.deployment. */
struct lineage {
	const struct atr_monitor_row *m;
	int64_t hid;
};

static int tag_run(struct atr_store *s, int64_t job_id, void *cls)
{
	struct lineage *l = cls;
	struct atr_job_row row;
	struct atr_run_patch patch = { 0 };
	char conflict[64], alert[24], mon[24];
	json_t *tags;
	int rc;

	if ((rc = atr_store_job_row(s, job_id, &row)) < 0)
		return rc;
	json_decref(row.labels);
	snprintf(alert, sizeof(alert), "%lld", (long long)l->hid);
	snprintf(mon, sizeof(mon), "%lld", (long long)l->m->id);
	tags = json_pack("{s:s, s:s, s:s}", "atrium.alert", alert, "atrium.monitor", mon, "atrium.deployment",
			 l->m->deployment);
	if (!tags)
		return ATR_ENOMEM;
	patch.tags = tags;
	rc = row.run_id ? atr_store_run_update(s, row.run_id, &patch, conflict, sizeof(conflict)) : 0;
	json_decref(tags);
	return rc;
}

/* Submits the action's job with the newest committed version of its dataset; 0 or why. */
static int64_t retrain(struct dep *d, const struct atr_monitor_row *m, const json_t *action, int64_t hid, char *why,
		       size_t whylen)
{
	const json_t *job = json_object_get(action, "job"), *res = json_object_get(job, "resources");
	const char *ds = atr_json_str(action, "dataset", "");
	struct atr_job_spec spec = { 0 };
	struct atr_job_submit sub = { 0 };
	struct atr_dataset_version v;
	int64_t dataset_id, id = 0;
	struct lineage lin = { m, hid };
	json_t *inputs = NULL;

	if (atr_store_dataset_find(STORE(d->dp), d->row.project_id, ds, &dataset_id) < 0 ||
	    atr_store_dsv_find(STORE(d->dp), dataset_id, 0, &v) < 0) {
		snprintf(why, whylen, "dataset '%s' has no committed version", ds);
		return 0;
	}
	inputs = json_pack("[{s:s, s:I, s:s, s:I}]", "dataset", ds, "version", (json_int_t)v.version, "as",
			   atr_json_str(action, "as", ds), "dataset_version_id", (json_int_t)v.id);
	spec.project_id = d->row.project_id;
	spec.team_id = d->team_id;
	spec.created_by = m->created_by;
	spec.name = atr_json_str(job, "name", "retrain");
	spec.kind = "training";
	spec.command = json_object_get(job, "command");
	spec.env = json_object_get(job, "env");
	spec.labels = json_object_get(job, "labels"); /* where it may run */
	spec.inputs = inputs;
	spec.outputs = json_object_get(job, "outputs");
	spec.gpus = (int)atr_json_int(res, "gpus", 0);
	spec.gpu_type = atr_json_str(res, "gpu_type", NULL);
	spec.cpus = (int)atr_json_int(res, "cpus", 0);
	spec.memory_mb = atr_json_int(res, "memory_mb", 0);
	spec.max_attempts = (int)atr_json_int(job, "max_attempts", 3);
	spec.timeout_s = atr_json_int(job, "timeout_s", 0);
	sub.spec = &spec;
	sub.run_name = spec.name;
	sub.run_user_id = m->created_by;
	sub.run_inputs = &v.id;
	sub.run_ninputs = 1;
	sub.also = tag_run;
	sub.also_cls = &lin;
	if (!inputs)
		snprintf(why, whylen, "out of memory");
	else if (!atr_engine_feasible(d->dp->o.engine, &spec, why, whylen))
		;
	else if (atr_engine_submit(d->dp->o.engine, &sub, &id) < 0)
		snprintf(why, whylen, "the job could not be submitted");
	json_decref(inputs);
	return id;
}

/* ---- a change of state ---- */

static json_t *or_null(json_t *v)
{
	return v ? v : json_null();
}

static json_t *event_json(struct dep *d, const struct atr_monitor_row *m, const json_t *spec, const char *to,
			  const struct figure *f, int64_t hid, int64_t now)
{
	char at[40];
	json_t *o;

	atr_time_format(now, at, sizeof(at));
	o = json_pack("{s:s, s:I, s:{s:I, s:s, s:s, s:s}, s:s, s:s, s:s, s:s, s:o, s:I, s:O, s:O, s:s}", "event",
		      "monitor.state_changed", "alert_id", (json_int_t)hid, "monitor", "id", (json_int_t)m->id, "name",
		      m->name, "watch", atr_json_str(spec, "watch", ""), "statistic",
		      atr_json_str(spec, "statistic", ""), "deployment", m->deployment, "project", d->project, "from",
		      m->state, "to", to, "value", isfinite(f->value) ? json_real(f->value) : json_null(), "samples",
		      (json_int_t)f->samples, "warning", or_null(json_object_get(spec, "warning")), "alerting",
		      or_null(json_object_get(spec, "alerting")), "at", at);
	return o;
}

static void changed(struct dep *d, const struct atr_monitor_row *m, const json_t *spec, const char *to,
		    const struct figure *f, int64_t now)
{
	const json_t *action = json_object_get(spec, "action");
	int64_t hid = 0, job = 0;
	char why[300] = "";
	json_t *ev;

	if (atr_store_monitor_change(STORE(d->dp), m->id, m->state, to, f->value, f->samples, now, &hid) < 0)
		return;
	dep_audit(d, "monitors.state_changed", "project:%s/deployment:%s/monitor:%s %s->%s", d->project, m->deployment,
		  m->name, m->state, to);
	if (!strcmp(to, "alerting") && json_is_object(action)) {
		job = retrain(d, m, action, hid, why, sizeof(why));
		atr_store_monitor_action(STORE(d->dp), hid, job, job ? NULL : why);
		if (job)
			dep_audit(d, "monitors.action", "project:%s/deployment:%s/monitor:%s job:%lld", d->project,
				  m->deployment, m->name, (long long)job);
	}
	if (!strcmp(to, "no_data") || (!strcmp(m->state, "no_data") && !strcmp(to, "ok")))
		return; /* people hear of problems and of their end, not of a quiet start */
	if ((ev = event_json(d, m, spec, to, f, hid, now))) {
		if (job)
			json_object_set_new(ev, "job_id", json_integer(job));
		dep_notify_queue(d->dp, m->id, hid, json_object_get(spec, "channels"), ev);
		json_decref(ev);
	}
}

static void check_one(void *cls, const struct atr_monitor_row *m)
{
	struct atr_deploy *dp = cls;
	struct dep *d = dep_by_id(dp, m->deployment_id);
	int64_t now = atr_now_ms();
	json_t *spec = json_loads(m->spec, 0, NULL);
	struct figure f = { NAN, 0 };
	const char *to = "no_data";

	if (spec && !atr_json_bool(spec, "enabled", true)) {
		/* paused: not checked, its state and figure kept as they were */
		atr_store_monitor_snooze(STORE(dp), m->id, now);
		json_decref(spec);
		return;
	}
	if (d && spec) {
		figure_of(d, spec, now, &f);
		to = state_of(spec, &f);
	}
	if (atr_store_monitor_checked(STORE(dp), m->id, to, f.value, f.samples, now) == 0 && d && spec &&
	    strcmp(to, m->state) != 0)
		changed(d, m, spec, to, &f, now);
	json_decref(spec);
}

void dep_monitors_tick(struct atr_deploy *dp, int64_t now)
{
	if (now < dp->next_monitor_ms)
		return;
	dp->next_monitor_ms = now + 1000;
	if (atr_store_monitors_due(STORE(dp), now, BATCH, check_one, dp) < 0)
		atr_warn("monitors: could not read the monitors due");
	dep_notify_tick(dp, now);
}

/* ---- /metrics ---- */

static int state_code(const char *s)
{
	return !strcmp(s, "ok") ? 0 : !strcmp(s, "warning") ? 1 : !strcmp(s, "alerting") ? 2 : -1;
}

struct gauge {
	struct atr_buf *out;
	int which; /* 0 state, 1 value, 2 samples */
};

static void metric_line(void *cls, const struct atr_monitor_row *m)
{
	struct gauge *g = cls;
	static const char *const names[] = { "state", "value", "samples" };

	if (g->which == 1 && !isfinite(m->value))
		return;
	atr_buf_printf(g->out, "atrium_monitor_%s{deployment=\"%s\",monitor=\"%s\",id=\"%lld\"} ", names[g->which],
		       m->deployment, m->name, (long long)m->id);
	if (g->which == 0)
		atr_buf_printf(g->out, "%d\n", state_code(m->state));
	else if (g->which == 1)
		atr_buf_printf(g->out, "%.17g\n", m->value);
	else
		atr_buf_printf(g->out, "%lld\n", (long long)m->samples);
}

void dep_monitors_metrics(void *cls, struct atr_buf *out)
{
	static const char *const help[] = {
		"atrium_monitor_state A monitor's state: 0 ok, 1 warning, 2 alerting, -1 no data.",
		"atrium_monitor_value The figure a monitor watches, at its last check.",
		"atrium_monitor_samples The samples behind a monitor's last check.",
	};
	struct atr_deploy *dp = cls;

	for (int i = 0; i < 3; i++) {
		struct gauge g = { out, i };
		char name[64];
		atr_copy(name, sizeof(name), help[i]);
		*strchr(name, ' ') = 0;
		atr_buf_printf(out, "# HELP %s\n# TYPE %s gauge\n", help[i], name);
		atr_store_monitors_each(STORE(dp), metric_line, &g);
	}
}

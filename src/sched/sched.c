/*
 * sched.c: the placement rules of sched.h. Pure: it reads its inputs, keeps its own copy of
 * what it allocates in the pass, and writes decisions and reasons. It never sees the store,
 * the network or the clock.
 */
#include "atrium/sched.h"
#include "atrium/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a worker has free during the pass. */
struct wstate {
	const struct atr_sched_worker *w;
	bool taken[ATR_SCHED_MAX_GPUS]; /* busy, allocated, or placed in this pass */
	int cpus_free;
	int64_t mem_free;
};

struct tstate {
	const struct atr_sched_team *t; /* NULL: jobs without a team */
	int64_t gpus, jobs;
	double recent;
	double weight;
};

struct pass {
	const struct atr_sched_input *in;
	struct wstate *ws;
	struct tstate *ts; /* nteams + 1: the last is "no team" */
	int *team_of;	   /* per job: index into ts */
	int *rank;	   /* per job: its place in the order priority desc, submitted_at, id */
	int *by_team;	   /* job indices grouped by team, each group in that order */
	int *head, *end;   /* per team: its next job (the group's first not yet considered), its end */
};

/* ---- matching ---- */

static bool type_matches(const char *name, const char *type)
{
	size_t tl;
	if (!type || !*type)
		return true;
	if (!name)
		return false;
	tl = strlen(type);
	for (const char *p = name; *p; p++)
		if (strncasecmp(p, type, tl) == 0)
			return true;
	return false;
}

static bool selects(const struct atr_sched_job *j, const char *key)
{
	for (int i = 0; i < j->nselector; i++)
		if (!strcmp(j->selector[i].key, key))
			return true;
	return false;
}

static bool labels_match(const struct atr_sched_job *j, const struct atr_sched_worker *w)
{
	/* A worker labelled ATR_SCHED_EXCLUSIVE_LABEL (a Slurm cluster) takes only the jobs that
	 * name it; the others stay on Atrium's own workers. */
	for (int k = 0; k < w->nlabels; k++)
		if (!strcmp(w->labels[k].key, ATR_SCHED_EXCLUSIVE_LABEL) && !selects(j, ATR_SCHED_EXCLUSIVE_LABEL))
			return false;
	for (int i = 0; i < j->nselector; i++) {
		bool found = false;
		for (int k = 0; k < w->nlabels && !found; k++)
			found = !strcmp(w->labels[k].key, j->selector[i].key) &&
				!strcmp(w->labels[k].value, j->selector[i].value);
		if (!found)
			return false;
	}
	return true;
}

/* GPUs of the job's type on w: all of them, or only the free ones (taken may be NULL). */
static int count_gpus(const struct atr_sched_worker *w, const char *type, const bool *taken)
{
	int n = 0;
	for (int i = 0; i < w->ngpus; i++)
		if (type_matches(w->gpus[i].name, type) && (!taken || !taken[i]))
			n++;
	return n;
}

static int free_gpus(const struct wstate *s)
{
	int n = 0;
	for (int i = 0; i < s->w->ngpus; i++)
		n += !s->taken[i];
	return n;
}

static void selector_text(const struct atr_sched_job *j, char *out, size_t outlen)
{
	size_t off = 0;
	out[0] = 0;
	for (int i = 0; i < j->nselector && off < outlen; i++)
		off += (size_t)snprintf(out + off, outlen - off, "%s%s=%s", i ? ", " : "", j->selector[i].key,
					j->selector[i].value);
}

static void gpus_text(const struct atr_sched_job *j, char *out, size_t outlen)
{
	if (j->gpu_type && *j->gpu_type)
		snprintf(out, outlen, "%d GPU%s of type %s", j->gpus, j->gpus == 1 ? "" : "s", j->gpu_type);
	else
		snprintf(out, outlen, "%d GPU%s", j->gpus, j->gpus == 1 ? "" : "s");
}

/* ---- ordering ---- */

/* Sort keys copied next to the index, so the comparator needs no global. */
struct skey {
	int priority;
	int64_t submitted_at, id;
	int idx;
};

static int cmp_keys(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (x->submitted_at != y->submitted_at)
		return x->submitted_at < y->submitted_at ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static double score(const struct pass *ps, const struct tstate *t)
{
	double window = ps->in->window_hours > 0 ? ps->in->window_hours : 24.0;
	return ((double)t->gpus + t->recent / window) / t->weight;
}

/*
 * The next job to consider: the highest priority left, then the team with the lowest score,
 * then that team's oldest job; ties go to the older head job, then the lower id. -1 when none
 * is left. Each team's jobs are kept in that order with a cursor at its head, so this costs
 * one look per team, not one per queued job (a pass over thousands of jobs stays linear).
 */
static int next_job(struct pass *ps)
{
	const struct atr_sched_job *jobs = ps->in->jobs;
	int best = -1;
	double best_score = 0;

	for (int t = 0; t <= ps->in->nteams; t++) {
		int j;
		double s;
		if (ps->head[t] == ps->end[t])
			continue;
		j = ps->by_team[ps->head[t]];
		s = score(ps, &ps->ts[t]);
		if (best >= 0) {
			if (jobs[j].priority != jobs[best].priority) {
				if (jobs[j].priority < jobs[best].priority)
					continue;
			} else if (s != best_score ? s > best_score : ps->rank[j] > ps->rank[best]) {
				continue;
			}
		}
		best = j;
		best_score = s;
	}
	if (best >= 0)
		ps->head[ps->team_of[best]]++;
	return best;
}

/* ---- placing ---- */

static bool quota_ok(const struct tstate *t, const struct atr_sched_job *j, char *why, size_t whylen)
{
	if (!t->t)
		return true;
	if (t->t->max_jobs >= 0 && t->jobs + 1 > t->t->max_jobs) {
		snprintf(why, whylen, "team '%s' is at its limit of %lld concurrent job%s", t->t->name,
			 (long long)t->t->max_jobs, t->t->max_jobs == 1 ? "" : "s");
		return false;
	}
	if (t->t->max_gpus >= 0 && t->gpus + j->gpus > t->t->max_gpus) {
		if (t->gpus >= t->t->max_gpus)
			snprintf(why, whylen, "team '%s' is at its quota of %lld GPU%s", t->t->name,
				 (long long)t->t->max_gpus, t->t->max_gpus == 1 ? "" : "s");
		else
			snprintf(why, whylen, "team '%s' uses %lld of its %lld GPUs; this job needs %d", t->t->name,
				 (long long)t->gpus, (long long)t->t->max_gpus, j->gpus);
		return false;
	}
	return true;
}

static bool fits(const struct wstate *s, const struct atr_sched_job *j)
{
	const struct atr_sched_worker *w = s->w;
	return w->online && w->schedulable && labels_match(j, w) && s->cpus_free >= j->cpus &&
	       s->mem_free >= j->memory_mb && count_gpus(w, j->gpu_type, s->taken) >= j->gpus;
}

/* Best fit: fewest free matching GPUs left, then fewest free GPUs, then CPUs, then id. */
static bool better(const struct wstate *a, const struct wstate *b, const struct atr_sched_job *j)
{
	int am = count_gpus(a->w, j->gpu_type, a->taken), bm = count_gpus(b->w, j->gpu_type, b->taken);
	int af = free_gpus(a), bf = free_gpus(b);
	if (am != bm)
		return am < bm;
	if (af != bf)
		return af < bf;
	if (a->cpus_free != b->cpus_free)
		return a->cpus_free < b->cpus_free;
	return a->w->id < b->w->id;
}

/* Why no worker takes j now: the first filter that leaves no worker, with figures. */
static void explain_wait(const struct pass *ps, const struct atr_sched_job *j, char *why, size_t whylen)
{
	int nw = ps->in->nworkers, up = 0, labelled = 0, labelled_down = 0, typed = 0;
	int max_free = 0, total_free = 0, max_cpus = 0, with_gpus = 0;
	int64_t max_mem = 0;
	char sel[120], g[80];

	selector_text(j, sel, sizeof(sel));
	gpus_text(j, g, sizeof(g));
	for (int i = 0; i < nw; i++) {
		const struct wstate *s = &ps->ws[i];
		bool ok = s->w->online && s->w->schedulable;
		int fm;
		up += ok;
		if (!labels_match(j, s->w))
			continue;
		if (!ok) {
			labelled_down++;
			continue;
		}
		labelled++;
		typed += count_gpus(s->w, j->gpu_type, NULL) > 0;
		fm = count_gpus(s->w, j->gpu_type, s->taken);
		total_free += fm;
		if (fm > max_free)
			max_free = fm;
		if (fm < j->gpus)
			continue;
		with_gpus++;
		if (s->cpus_free > max_cpus)
			max_cpus = s->cpus_free;
		if (s->cpus_free >= j->cpus && s->mem_free > max_mem)
			max_mem = s->mem_free;
	}
	if (up == 0)
		snprintf(why, whylen, "no schedulable worker is online");
	else if (labelled == 0 && labelled_down > 0)
		snprintf(why, whylen, "no schedulable worker has label%s %s (%d cordoned, draining or offline)",
			 j->nselector == 1 ? "" : "s", sel, labelled_down);
	else if (labelled == 0)
		snprintf(why, whylen, "no schedulable worker has label%s %s", j->nselector == 1 ? "" : "s", sel);
	else if (j->gpus > 0 && typed == 0)
		snprintf(why, whylen, "no schedulable worker%s%s has GPUs%s%s", j->nselector ? " with " : "",
			 j->nselector ? sel : "", j->gpu_type && *j->gpu_type ? " of type " : "",
			 j->gpu_type ? j->gpu_type : "");
	else if (with_gpus == 0 && max_free == total_free)
		snprintf(why, whylen, "waiting for %s: %d free", g, total_free);
	else if (with_gpus == 0)
		snprintf(why, whylen, "waiting for %s on one worker: at most %d free on one (%d in total)", g, max_free,
			 total_free);
	else if (max_cpus < j->cpus)
		snprintf(why, whylen, "waiting for %d CPUs: at most %d free on a worker with %s free", j->cpus,
			 max_cpus, g);
	else
		snprintf(why, whylen,
			 "waiting for %lld MB of memory: at most %lld MB free on a worker with the CPUs and %s",
			 (long long)j->memory_mb, (long long)max_mem, g);
}

static void place(struct pass *ps, int j, struct atr_sched_plan *out)
{
	const struct atr_sched_job *job = &ps->in->jobs[j];
	struct tstate *t = &ps->ts[ps->team_of[j]];
	struct wstate *best = NULL;
	struct atr_sched_placement *pl;

	if (!quota_ok(t, job, out->pending[out->npending].reason, sizeof(out->pending[0].reason))) {
		out->pending[out->npending++].job_id = job->id;
		return;
	}
	for (int i = 0; i < ps->in->nworkers; i++) {
		struct wstate *s = &ps->ws[i];
		if (fits(s, job) && (!best || better(s, best, job)))
			best = s;
	}
	if (!best) {
		explain_wait(ps, job, out->pending[out->npending].reason, sizeof(out->pending[0].reason));
		out->pending[out->npending++].job_id = job->id;
		return;
	}
	pl = &out->placements[out->nplacements++];
	memset(pl, 0, sizeof(*pl));
	pl->job_id = job->id;
	pl->worker_id = best->w->id;
	/* lowest indices first: take them in index order, whatever order the inventory has */
	while (pl->ngpus < job->gpus) {
		int pick = -1;
		for (int i = 0; i < best->w->ngpus; i++)
			if (!best->taken[i] && type_matches(best->w->gpus[i].name, job->gpu_type) &&
			    (pick < 0 || best->w->gpus[i].index < best->w->gpus[pick].index))
				pick = i;
		best->taken[pick] = true;
		pl->gpus[pl->ngpus++] = best->w->gpus[pick].index;
	}
	best->cpus_free -= job->cpus;
	best->mem_free -= job->memory_mb;
	t->gpus += job->gpus;
	t->jobs++;
}

/* What each worker has free at the start: its GPUs not busy or allocated, its CPUs and memory. */
static int workers_init(struct pass *ps)
{
	const struct atr_sched_input *in = ps->in;

	for (int i = 0; i < in->nworkers; i++) {
		const struct atr_sched_worker *w = &in->workers[i];
		struct wstate *s = &ps->ws[i];
		if (w->ngpus > ATR_SCHED_MAX_GPUS || w->ngpus < 0)
			return ATR_EINVAL;
		s->w = w;
		for (int g = 0; g < w->ngpus; g++)
			s->taken[g] = w->gpus[g].busy || w->gpus[g].allocated;
		s->cpus_free = w->cpus - w->cpus_allocated;
		s->mem_free = w->memory_mb - w->memory_allocated_mb;
	}
	return 0;
}

/* What each team uses now, and its weight (the last entry: jobs without a team). */
static void teams_init(struct pass *ps)
{
	const struct atr_sched_input *in = ps->in;
	int nt = in->nteams;

	for (int i = 0; i <= nt; i++) {
		struct tstate *t = &ps->ts[i];
		t->t = i < nt ? &in->teams[i] : NULL;
		t->gpus = t->t ? t->t->gpus_used : 0;
		t->jobs = t->t ? t->t->jobs_running : 0;
		t->recent = t->t ? t->t->recent_gpu_hours : 0;
		t->weight = t->t && t->t->weight > 0 ? t->t->weight : 1.0;
	}
}

/* Each job's team, its rank in the order (priority desc, submitted_at, id), and the jobs
 * grouped by team, each group in that order. */
static int order_jobs(struct pass *ps)
{
	const struct atr_sched_input *in = ps->in;
	int nt = in->nteams;
	struct skey *keys = calloc((size_t)in->njobs + 1, sizeof(*keys));

	if (!keys)
		return ATR_ENOMEM;
	for (int j = 0; j < in->njobs; j++) {
		ps->team_of[j] = nt;
		for (int i = 0; i < nt && in->jobs[j].team_id; i++)
			if (in->teams[i].id == in->jobs[j].team_id)
				ps->team_of[j] = i;
		keys[j].priority = in->jobs[j].priority;
		keys[j].submitted_at = in->jobs[j].submitted_at;
		keys[j].id = in->jobs[j].id;
		keys[j].idx = j;
	}
	qsort(keys, (size_t)in->njobs, sizeof(*keys), cmp_keys);
	/* group the sorted jobs by team (a counting sort keeps each group in order) */
	for (int j = 0; j < in->njobs; j++)
		ps->end[ps->team_of[j]]++;
	for (int t = 0, at = 0; t <= nt; t++) {
		ps->head[t] = at;
		at += ps->end[t];
		ps->end[t] = ps->head[t];
	}
	for (int k = 0; k < in->njobs; k++) {
		int j = keys[k].idx;
		ps->rank[j] = k;
		ps->by_team[ps->end[ps->team_of[j]]++] = j;
	}
	free(keys);
	return 0;
}

static int pass_init(struct pass *ps, const struct atr_sched_input *in)
{
	int nt = in->nteams, rc;

	memset(ps, 0, sizeof(*ps));
	ps->in = in;
	ps->ws = calloc((size_t)in->nworkers + 1, sizeof(*ps->ws));
	ps->ts = calloc((size_t)nt + 1, sizeof(*ps->ts));
	ps->team_of = calloc((size_t)in->njobs + 1, sizeof(int));
	ps->rank = calloc((size_t)in->njobs + 1, sizeof(int));
	ps->by_team = calloc((size_t)in->njobs + 1, sizeof(int));
	ps->head = calloc((size_t)nt + 1, sizeof(int));
	ps->end = calloc((size_t)nt + 1, sizeof(int));
	if (!ps->ws || !ps->ts || !ps->team_of || !ps->rank || !ps->by_team || !ps->head || !ps->end)
		return ATR_ENOMEM;
	if ((rc = workers_init(ps)) < 0)
		return rc;
	teams_init(ps);
	return order_jobs(ps);
}

static void pass_release(struct pass *ps)
{
	free(ps->ws);
	free(ps->ts);
	free(ps->team_of);
	free(ps->rank);
	free(ps->by_team);
	free(ps->head);
	free(ps->end);
}

int atr_sched_plan(const struct atr_sched_input *in, struct atr_sched_plan *out)
{
	struct pass ps;
	size_t n = (size_t)in->njobs + 1;
	int rc, j;

	memset(out, 0, sizeof(*out));
	out->placements = calloc(n, sizeof(*out->placements));
	out->pending = calloc(n, sizeof(*out->pending));
	out->order = calloc(n, sizeof(*out->order));
	rc = pass_init(&ps, in);
	if (rc == 0 && (!out->placements || !out->pending || !out->order))
		rc = ATR_ENOMEM;
	while (rc == 0 && (j = next_job(&ps)) >= 0) {
		out->order[out->norder++] = in->jobs[j].id;
		place(&ps, j, out);
	}
	pass_release(&ps);
	if (rc < 0)
		atr_sched_plan_release(out);
	return rc;
}

void atr_sched_plan_release(struct atr_sched_plan *p)
{
	free(p->placements);
	free(p->pending);
	free(p->order);
	memset(p, 0, sizeof(*p));
}

/* ---- could it ever run? ---- */

bool atr_sched_feasible(const struct atr_sched_job *job, const struct atr_sched_team *team,
			const struct atr_sched_worker *workers, int nworkers, char *why, size_t whylen)
{
	int labelled = 0, with_gpus = 0, with_cpus = 0, most_gpus = 0, most_cpus = 0;
	int64_t most_mem = 0;
	const char *most_gpus_on = NULL;
	char sel[120], g[80];

	if (team && team->max_gpus >= 0 && job->gpus > team->max_gpus) {
		snprintf(why, whylen, "team '%s' may use at most %lld GPUs; the job asks for %d", team->name,
			 (long long)team->max_gpus, job->gpus);
		return false;
	}
	if (team && team->max_jobs == 0) {
		snprintf(why, whylen, "team '%s' may run no jobs (its max_concurrent_jobs is 0)", team->name);
		return false;
	}
	for (int i = 0; i < nworkers; i++) {
		const struct atr_sched_worker *w = &workers[i];
		int ng;
		if (!labels_match(job, w))
			continue;
		labelled++;
		ng = count_gpus(w, job->gpu_type, NULL);
		if (ng > most_gpus || !most_gpus_on) {
			most_gpus = ng;
			most_gpus_on = w->name;
		}
		if (ng < job->gpus)
			continue;
		with_gpus++;
		if (w->cpus > most_cpus)
			most_cpus = w->cpus;
		if (w->cpus < job->cpus)
			continue;
		with_cpus++;
		if (w->memory_mb > most_mem)
			most_mem = w->memory_mb;
		if (w->memory_mb >= job->memory_mb) {
			if (whylen)
				why[0] = 0;
			return true;
		}
	}
	selector_text(job, sel, sizeof(sel));
	gpus_text(job, g, sizeof(g));
	if (nworkers == 0)
		snprintf(why, whylen, "no worker is registered");
	else if (labelled == 0)
		snprintf(why, whylen, "no registered worker has label%s %s", job->nselector == 1 ? "" : "s", sel);
	else if (with_gpus == 0)
		snprintf(why, whylen, "no registered worker has %s (the most is %d, on '%s')", g, most_gpus,
			 most_gpus_on ? most_gpus_on : "?");
	else if (with_cpus == 0)
		snprintf(why, whylen, "no registered worker with %s has %d CPUs (the most is %d)", g, job->cpus,
			 most_cpus);
	else
		snprintf(why, whylen,
			 "no registered worker with %s and %d CPUs has %lld MB of memory (the most is %lld)", g,
			 job->cpus, (long long)job->memory_mb, (long long)most_mem);
	return false;
}

// views/jobs.js: the jobs, newest first: Compute -> Jobs (#/jobs: every job the caller may
// read, admins all; filters state, project, team, user, kind) and a project's Jobs tab
// (#/projects/P/jobs: state, kind, user; editors submit a job there). Filters live in the
// address. While a listed job is queued or running, the list refreshes itself every few
// seconds (not while the tab is hidden). A queued job shows its place in line and why it
// waits (pending_reason). Also exports what the job page and the workers
// views share: state badges, GPUs, durations, the cancel button.
import * as api from '../api.js';
import { projectPage, href, stateBadge, canEdit } from './registry.js';
import {
	h, mount, pageHeader, table, time, span, badge, emptyState, showError, toast, confirmThen, field, select, form,
	loadMore, disclosure, snippet, poll, intOrNull,
} from '../ui.js';

export const STATES = ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'lost'];
export const KINDS = ['training', 'batch_inference', 'service'];
const ACTIVE = new Set(['queued', 'dispatched', 'running', 'lost']);
export const isActive = (j) => ACTIVE.has(j.state);
export const REFRESH_MS = 5000;

export const jobName = (j) => `#${j.id}${j.name ? ` ${j.name}` : ''}`;
export const jobLink = (j) => h('a', { href: href.job(j.id) }, jobName(j));

// A deployment's replica (a job of kind service) told apart from training and batch jobs:
// 'replica of DEPLOYMENT', the deployment's name read from the job's name, which the
// deployment controller writes ("deployment NAME: version V, replica N").
const REPLICA_NAME = /^deployment (\S+): version \d+, replica \d+$/;
export const isReplica = (j) => j.kind === 'service';
export function replicaBadge(j) {
	if (!isReplica(j)) return null;
	const m = REPLICA_NAME.exec(j.name || '');
	return h('span', { class: 'kind-replica' }, badge('replica', 'info'), m ? [' of ', h('a', { href: href.deployment(m[1]) }, m[1])] : null);
}
// The kind column: 'training', 'batch_inference', or a replica's badge.
export const kindCell = (j) => (isReplica(j) ? replicaBadge(j) : j.kind);

export function jobState(j) {
	return h(
		'span',
		{ class: 'job-state' },
		stateBadge(j.state),
		j.cancel_requested && isActive(j) ? badge('cancelling', 'muted') : null,
	);
}

// '2 · GPU 0, 1': the GPUs asked for, and the indices of those it got.
export function gpusText(j) {
	const asked = j.resources?.gpus ?? 0;
	const got = j.gpus || [];
	return got.length ? `${asked} · GPU ${got.join(', ')}` : String(asked);
}

// The worker of a job: a link for admins (the workers views are theirs), its name for others.
export function workerCell(j, isAdmin) {
	if (!j.worker) return h('span', { class: 'muted' }, '—');
	return isAdmin && j.worker_id ? h('a', { href: `#/workers/${j.worker_id}` }, j.worker) : j.worker;
}

// How long it waited (queued, so far) or ran (running, so far; or start to end).
export function durationCell(j) {
	if (j.started_at) return h('span', { title: 'run time' }, span(j.started_at, j.ended_at));
	if (j.state === 'queued') return h('span', { class: 'muted', title: 'waiting' }, `waiting ${span(j.queued_at)}`);
	return h('span', { class: 'muted' }, '—');
}

/*
 * A Cancel button for job j (shown when it may still be cancelled): asks first, then hands
 * the updated job to onDone; an API error (409 when it ended meanwhile) goes to errSlot.
 */
export function cancelButton(j, errSlot, onDone) {
	if (!isActive(j) || j.cancel_requested) return null;
	return h(
		'button',
		{
			type: 'button',
			class: 'danger-outline small',
			'aria-label': `Cancel job ${j.id}`,
			onClick: () =>
				confirmThen(
					errSlot,
					{
						title: `Cancel job ${jobName(j)}?`,
						message:
							j.state === 'queued'
								? 'It leaves the queue at once.'
								: 'Its worker stops its whole process group (SIGTERM, then SIGKILL); its run ends as killed.',
						confirmLabel: 'Cancel job',
					},
					async () => {
						const done = await api.post(`/jobs/${j.id}/cancel`);
						toast(`Job ${j.id}: ${done.state === 'cancelled' ? 'cancelled' : 'cancel requested'}`);
						onDone(done);
					},
				),
		},
		'Cancel',
	);
}

/*
 * The jobs that hold GPUs now (dispatched and running), by worker id: Map(worker_id -> jobs).
 * Admins only see every job, so the workers views call it.
 */
export async function jobsByWorker() {
	const lists = await Promise.all(['dispatched', 'running'].map((state) => api.listAll('/jobs', { state }, 5000)));
	const by = new Map();
	for (const j of lists.flat()) {
		if (!j.worker_id) continue;
		if (!by.has(j.worker_id)) by.set(j.worker_id, []);
		by.get(j.worker_id).push(j);
	}
	return by;
}

/*
 * The queue's order as the scheduler takes it: priority (highest first), then submission.
 * Fair share between teams may take a job of a less served team first within a priority, so
 * the place is where the job stands, not a promise. Map(job id -> place), and the queue's
 * length (the queued jobs the caller may read).
 */
export async function queuePlaces() {
	const queued = await api.listAll('/jobs', { state: 'queued' }, 5000);
	queued.sort((a, b) => b.priority - a.priority || Date.parse(a.queued_at || a.created_at) - Date.parse(b.queued_at || b.created_at) || a.id - b.id);
	return { at: new Map(queued.map((j, i) => [j.id, i + 1])), total: queued.length };
}

/*
 * What each team holds now: Map(team -> {gpus, jobs}) over the dispatched and running jobs
 * (deployment replicas included: they count against the quota too). Complete for admins, who
 * read every job; a member sees the jobs of the projects she may read.
 */
export async function teamUsage() {
	const held = await api.listAll('/jobs', { state: 'dispatched,running' }, 5000);
	const by = new Map();
	for (const j of held) {
		const u = by.get(j.team || '') || { gpus: 0, jobs: 0 };
		u.gpus += (j.gpus || []).length || j.resources?.gpus || 0;
		u.jobs += 1;
		by.set(j.team || '', u);
	}
	return by;
}

// '3 of 8' against a quota ('3 (no quota)' without one), marked when at or over it.
export function usageText(used, quota) {
	if (quota === null || quota === undefined) return h('span', { class: 'usage' }, `${used} `, h('span', { class: 'muted' }, '(no quota)'));
	const full = used >= quota;
	return h('span', { class: `usage${full ? ' full' : ''}`, title: `${used} in use of a quota of ${quota}` }, `${used} of ${quota}`, full ? [' ', badge('at quota', 'warn')] : null);
}

// Where a queued job stands and why it waits.
export function queueCell(j, places) {
	if (j.state !== 'queued') return h('span', { class: 'muted' }, '—');
	const at = places?.at.get(j.id);
	return h(
		'span',
		{ class: 'queue-cell' },
		at ? h('strong', { class: 'queue-place', title: 'by priority, then submission' }, `${at} of ${places.total} in line`) : null,
		h('span', { class: 'pending-reason' }, j.pending_reason || 'waiting for the scheduler'),
	);
}

function columns(ctx, global, places) {
	return [
		{ label: 'Job', cell: (j) => h('strong', null, jobLink(j)) },
		{ label: 'State', cell: jobState },
		global ? { label: 'Project', cell: (j) => h('a', { href: href.jobs(j.project) }, j.project) } : null,
		global ? { label: 'Team', cell: (j) => j.team || h('span', { class: 'muted' }, '—') } : null,
		{ label: 'Kind', cell: kindCell },
		{ label: 'GPUs', cell: gpusText, class: 'num' },
		{ label: 'Worker', cell: (j) => workerCell(j, ctx.isAdmin) },
		{ label: 'By', cell: (j) => j.created_by || '' },
		{ label: 'Queue', cell: (j) => queueCell(j, places.current), class: 'queue' },
		{ label: 'Submitted', cell: (j) => time(j.created_at) },
		{ label: 'Duration', cell: durationCell, class: 'num' },
	].filter(Boolean);
}

// The filter controls; each change puts the filters in the address (which renders again).
async function filters(ctx, global, f) {
	const controls = [
		['state', 'State', select('state', [['', 'Any'], ...STATES.map((s) => [s, s])], f.state)],
		['kind', 'Kind', select('kind', [['', 'Any'], ...KINDS.map((k) => [k, k])], f.kind)],
	];
	if (global) {
		const [projects, teams] = await Promise.all([api.listAll('/projects', {}, 1000), api.listAll('/teams', {}, 1000)]);
		controls.push(['project', 'Project', select('project', [['', 'Any'], ...projects.map((p) => [p.name, p.name])], f.project)]);
		controls.push(['team', 'Team', select('team', [['', 'Any'], ...teams.map((t) => [t.name, t.name])], f.team)]);
	}
	const user = h('input', { name: 'user', value: f.user || '', placeholder: 'user name', autocomplete: 'off', spellcheck: 'false', maxlength: 64 });
	controls.push(['user', 'Submitted by', user]);
	const apply = () => ctx.setQuery(Object.fromEntries(controls.map(([k, , el]) => [k, el.value.trim()])));
	for (const [, , el] of controls) el.addEventListener('change', apply);
	const clear = h('button', { type: 'button', class: 'link clear', onClick: () => ctx.setQuery({}) }, 'Clear filters');
	return h(
		'form',
		{ class: 'controls filters-row', role: 'search', 'aria-label': 'Filter jobs', onSubmit: (e) => (e.preventDefault(), apply()) },
		controls.map(([, label, el]) => field(label, el)),
		Object.values(f).some(Boolean) ? clear : null,
	);
}

// Editors submit a job from the project tab: a shell command, GPUs, priority.
function submitForm(ctx, p) {
	return disclosure(
		'Submit a job',
		form({
			className: 'form grid',
			submitLabel: 'Submit',
			attrs: { 'aria-label': 'Submit a job' },
			fields: [
				field('Name', h('input', { name: 'name', maxlength: 128, autocomplete: 'off' })),
				field('Command', h('textarea', { name: 'command', required: true, rows: 3, spellcheck: 'false', placeholder: 'python train.py --epochs 10' }), 'Run by /bin/sh -c on the worker.'),
				field('GPUs', h('input', { name: 'resources.gpus', type: 'number', min: 0, max: 64, value: '1' })),
				field('Priority', h('input', { name: 'priority', type: 'number', min: -1000, max: 1000, value: '0' }), 'Higher runs first.'),
			],
			onSubmit: async (v) => {
				const body = { command: v.command, resources: { gpus: intOrNull(v['resources.gpus']) ?? 0 }, priority: intOrNull(v.priority) ?? 0 };
				if (v.name.trim()) body.name = v.name.trim();
				const j = await api.post(`/projects/${api.seg(p)}/jobs`, body);
				toast(`Submitted job ${j.id}`);
				ctx.navigate(`jobs/${j.id}`);
			},
		}),
	);
}

function empty(global, p, filtered) {
	if (filtered) return emptyState('No job matches these filters.');
	return emptyState(
		global ? 'No jobs yet.' : `No jobs in ${p} yet.`,
		'A job runs a command on a GPU worker and records a run. Submit one from a project\'s Jobs tab, or with the API:',
		snippet(
			`curl -X POST ${location.origin}/api/v1/projects/${p || 'PROJECT'}/jobs -H "Authorization: Bearer $TOKEN" \\\n` +
				`  -d '{"name": "train", "command": "python train.py", "resources": {"gpus": 1}}'`,
		),
	);
}

/*
 * Keeps the shown rows current: every REFRESH_MS while one of them is active, the first page
 * is fetched again; rows it has are redrawn, newer jobs go on top. Stops when none is active.
 */
function autoRefresh(path, query, t, shown, ctx, status, errSlot, places) {
	const anyActive = () => [...shown.values()].some(isActive);
	return poll(async () => {
		if (!ctx.alive()) return false;
		if (!anyActive()) {
			status.textContent = '';
			return false;
		}
		try {
			const [page, fresh] = await Promise.all([api.get(path, { ...query, limit: 50 }), queuePlaces()]);
			if (!ctx.alive()) return false;
			places.current = fresh;
			for (const j of [...page.items].reverse()) {
				if (shown.has(j.id)) t.updateRow(j);
				else if (j.id > Math.max(...shown.keys())) t.prependRow(j);
				shown.set(j.id, j);
			}
			showError(errSlot, null);
			status.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC; refreshing while jobs are active.`;
		} catch (err) {
			showError(errSlot, err);
		}
		return anyActive();
	}, REFRESH_MS);
}

export async function render(root, ctx) {
	const p = ctx.params.project;
	const global = !p;
	const keys = global ? ['state', 'kind', 'project', 'team', 'user'] : ['state', 'kind', 'user'];
	const f = Object.fromEntries(keys.map((k) => [k, ctx.query.get(k) || '']));
	const query = Object.fromEntries(Object.entries(f).filter(([, v]) => v));
	const path = global ? '/jobs' : `/projects/${api.seg(p)}/jobs`;
	const refresh = h('button', { type: 'button', onClick: () => ctx.setQuery(query) }, 'Refresh');
	let head;
	let project = null;
	if (global) {
		head = pageHeader('Jobs', ctx.isAdmin ? 'Every job on the platform, newest first.' : 'Jobs of the projects you can read, newest first.', refresh);
	} else {
		({ project, header: head } = await projectPage(ctx, 'jobs', { title: 'Jobs', crumbs: [['Jobs']], intro: null, actions: [refresh] }));
	}
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const status = h('p', { class: 'muted note refresh-status', 'aria-live': 'off' });
	const pager = new api.Pager(path, query);
	// A filter the API refuses (an unknown user) is shown by its control, not instead of the page.
	let refused = null;
	const firstPage = pager.next().catch((err) => {
		if (err.status !== 400) throw err;
		refused = err;
		return [];
	});
	const places = { current: null };
	const [first, controls] = await Promise.all([firstPage, filters(ctx, global, f), queuePlaces().then((q) => (places.current = q)).catch(() => null)]);
	if (!ctx.alive()) return null;
	if (refused) {
		showError(errSlot, refused);
		controls.elements.namedItem(refused.field || '')?.setAttribute('aria-invalid', 'true');
	}
	const shown = new Map(first.map((j) => [j.id, j]));
	if (first.some(isActive)) status.textContent = `Refreshes every ${REFRESH_MS / 1000} s while jobs are active.`;
	const t = table({ caption: global ? 'Jobs' : `Jobs of ${p}`, columns: columns(ctx, global, places), rows: first, rowKey: (j) => String(j.id) });
	const more = loadMore(
		pager,
		(items) => {
			items.forEach((j) => shown.set(j.id, j));
			t.addRows(items);
		},
		(err) => showError(errSlot, err),
	);
	mount(
		root,
		head,
		project && canEdit(project) ? submitForm(ctx, project.name) : null,
		controls,
		errSlot,
		first.length ? [t, more, status] : empty(global, project?.name, Object.keys(query).length > 0),
	);
	return first.length ? autoRefresh(path, query, t, shown, ctx, status, errSlot, places) : null;
}

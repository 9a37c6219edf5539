// views/registry.js: what the project views share (not a route): their addresses in the
// dashboard and in the API, the project header with its tabs, role checks, state badges,
// tables of files with downloads, and the promotion decisions (used by the model page and
// the promotions queue).
import * as api from '../api.js';
import { h, mount, badge, breadcrumb, tabs, pageHeader, pagedTable, showError, askDialog, toast, spaced, bytes, hash, time } from '../ui.js';

const s = api.seg;

// Dashboard addresses (for href) of the registry's objects.
export const href = {
	projects: () => '#/projects',
	project: (p) => `#/projects/${s(p)}`,
	datasets: (p) => `#/projects/${s(p)}/datasets`,
	dataset: (p, d) => `#/projects/${s(p)}/datasets/${s(d)}`,
	datasetVersion: (p, d, v, against) => `#/projects/${s(p)}/datasets/${s(d)}/versions/${v}${against ? `?against=${against}` : ''}`,
	runs: (p, query) => `#/projects/${s(p)}/runs${query ? api.qs(query) : ''}`,
	run: (p, id) => `#/projects/${s(p)}/runs/${id}`,
	compare: (p, ids) => `#/projects/${s(p)}/compare?runs=${ids.join(',')}`,
	jobs: (p) => `#/projects/${s(p)}/jobs`,
	job: (id) => `#/jobs/${id}`,
	models: (p) => `#/projects/${s(p)}/models`,
	model: (p, m) => `#/projects/${s(p)}/models/${s(m)}`,
	modelVersion: (p, m, v) => `#/projects/${s(p)}/models/${s(m)}/versions/${v}`,
	deployments: (p) => `#/projects/${s(p)}/deployments`,
	deployment: (name) => `#/deployments/${s(name)}`,
	benchmarks: (p) => `#/projects/${s(p)}/benchmarks`,
	benchmark: (p, b) => `#/projects/${s(p)}/benchmarks/${s(b)}`,
	launchers: (p) => `#/projects/${s(p)}/launchers`,
	launcher: (p, l) => `#/projects/${s(p)}/launchers/${s(l)}`,
	sweeps: (p) => `#/projects/${s(p)}/sweeps`,
	sweep: (p, id) => `#/projects/${s(p)}/sweeps/${id}`,
};

// API paths (under /api/v1) of the same objects.
export const path = {
	project: (p) => `/projects/${s(p)}`,
	dataset: (p, d) => `/projects/${s(p)}/datasets/${s(d)}`,
	datasetVersion: (p, d, v) => `/projects/${s(p)}/datasets/${s(d)}/versions/${v}`,
	model: (p, m) => `/projects/${s(p)}/models/${s(m)}`,
	modelVersion: (p, m, v) => `/projects/${s(p)}/models/${s(m)}/versions/${v}`,
};

// The caller's project role (admins are owners everywhere); archived projects are read-only.
export const isOwner = (p) => p.role === 'owner' && !p.archived_at;
export const canEdit = (p) => (p.role === 'owner' || p.role === 'editor') && !p.archived_at;
// Who may move an alias: owners any, editors all but `production`.
export const mayMoveAlias = (p, alias) => isOwner(p) || (canEdit(p) && alias !== 'production');

const STATE_KIND = {
	committed: 'ok', draft: 'warn', pending: 'info', approved: 'ok', rejected: 'err', cancelled: 'muted',
	running: 'info', finished: 'ok', failed: 'err', killed: 'muted', archived: 'muted',
	// jobs
	queued: 'warn', dispatched: 'info', succeeded: 'ok', lost: 'warn',
	// sweeps and their trials
	paused: 'warn', completed: 'ok', stopped: 'muted',
	// deployments, their replicas and rollouts
	ready: 'ok', degraded: 'warn', deploying: 'info', starting: 'info', restarting: 'warn', draining: 'muted',
	stopping: 'muted', in_progress: 'info', promoted: 'ok', rolled_back: 'warn',
};
export const stateBadge = (state) => badge(state, STATE_KIND[state] || '');

export const version = (v) => `v${v}`;

const TABS = [
	['overview', 'Overview', href.project],
	['datasets', 'Datasets', href.datasets],
	['runs', 'Runs', href.runs],
	['jobs', 'Jobs', href.jobs],
	['models', 'Models', href.models],
	['deployments', 'Deployments', href.deployments],
	['benchmarks', 'Benchmarks', href.benchmarks],
	['launchers', 'Launchers', href.launchers],
	['sweeps', 'Sweeps', href.sweeps],
];

/*
 * Loads the project of the address and builds the top of a project page: breadcrumb (the
 * project, then crumbs), title, the tabs (tab active), and a notice when it is archived.
 * Returns {project, header}.
 */
export async function projectPage(ctx, tab, { title, intro, crumbs = [], actions = [] } = {}) {
	const project = await api.get(path.project(ctx.params.project));
	const name = project.name;
	document.title = `${title || name} · ${name} · Atrium`;
	const header = h(
		'div',
		{ class: 'project-head' },
		breadcrumb(['Projects', href.projects()], [name, crumbs.length ? href.project(name) : null], ...crumbs),
		pageHeader(title || name, intro === undefined ? project.description || null : intro, ...actions),
		tabs(`Project ${name}`, TABS.map(([key, text, f]) => [key, text, f(name)]), tab),
		project.archived_at
			? h('p', { class: 'alert info', role: 'status' }, `This project was archived on ${project.archived_at.slice(0, 10)}: it is read-only.`)
			: null,
	);
	return { project, header };
}

/*
 * A project tab that is one paginated list (datasets, runs, models): the project's header,
 * then the table, or empty(project) when there is nothing. list(p) gives {pager, caption,
 * columns, rowKey} for the project named p.
 */
export async function projectListPage(root, ctx, tab, title, list, empty) {
	const { project, header } = await projectPage(ctx, tab, { title, crumbs: [[title]], intro: null });
	const { pager, ...opts } = list(project.name);
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const t = await pagedTable(pager, opts, (err) => showError(errSlot, err));
	if (!ctx.alive()) return;
	mount(root, header, errSlot, t.first.length ? [t, t.more] : empty(project));
}

// A Download button that fetches one file with the session's token and saves it.
function downloadButton(listPath, file, errSlot) {
	const name = file.path.split('/').pop();
	const btn = h('button', { type: 'button', class: 'small', 'aria-label': `Download ${file.path}` }, 'Download');
	btn.addEventListener('click', async () => {
		btn.disabled = true;
		showError(errSlot, null);
		try {
			await api.download(`${listPath}/${api.filePath(file.path)}`, name);
		} catch (err) {
			showError(errSlot, err);
		} finally {
			btn.disabled = false;
		}
	});
	return btn;
}

/*
 * Files as a paginated table with downloads: listPath lists them ({path, size, sha256,
 * created_at}: a version's files, a run's artifacts, a job's outputs) and serves each at
 * listPath/PATH. Resolves to the table (t.first: the first page, t.more: "Load more").
 */
export async function filesTable(listPath, caption, errSlot) {
	const columns = [
		{ label: 'Path', cell: (f) => h('code', null, f.path) },
		{ label: 'Size', cell: (f) => bytes(f.size), class: 'num' },
		{ label: 'sha256', cell: (f) => hash(f.sha256) },
		{ label: 'Added', cell: (f) => time(f.created_at) },
		{ label: 'Download', cell: (f) => downloadButton(listPath, f, errSlot) },
	];
	return pagedTable(new api.Pager(listPath, {}, 100), { caption, columns, rowKey: (f) => f.path }, (err) => showError(errSlot, err));
}

// "alias → vN" chips of a model's aliases ({"staging": 2}), each linking to its version.
export function aliasChips(project, model, aliases) {
	const list = Object.entries(aliases || {});
	if (!list.length) return h('span', { class: 'muted' }, '—');
	return h(
		'span',
		{ class: 'chips' },
		spaced(list.map(([a, v]) => h('a', { class: `chip alias${a === 'production' ? ' prod' : ''}`, href: href.modelVersion(project, model, v) }, `${a} → ${version(v)}`))),
	);
}

// Tells the navigation that the pending promotions changed (it shows their number).
export const promotionsChanged = () => window.dispatchEvent(new Event('atrium:promotions'));

/*
 * Approve and Reject buttons for a pending promotion. Each asks for an optional comment,
 * calls the API and hands the updated promotion to onDecided; an API error (403 for an
 * editor on `production`, 409 when decided meanwhile) goes to onError.
 */
export function decisionButtons(pr, onDecided, onError) {
	const what = `${pr.model} ${version(pr.version)} → ${pr.alias}`;
	const decide = async (verb) => {
		const approve = verb === 'approve';
		const comment = await askDialog({
			title: `${approve ? 'Approve' : 'Reject'} ${what}?`,
			message: approve
				? `The alias ${pr.alias} of ${pr.project}/${pr.model} moves to ${version(pr.version)} at once.`
				: `The alias ${pr.alias} stays where it is; ${pr.requested_by || 'the requester'} sees your comment.`,
			label: 'Comment (optional)',
			confirmLabel: approve ? 'Approve' : 'Reject',
			danger: !approve,
		});
		if (comment === null) return;
		onError(null);
		try {
			const body = comment ? { comment } : {};
			const done = await api.post(`/promotions/${pr.id}/${verb}`, body);
			toast(`${approve ? 'Approved' : 'Rejected'}: ${what}`);
			promotionsChanged();
			onDecided(done);
		} catch (err) {
			onError(err);
		}
	};
	return h(
		'span',
		{ class: 'row-actions' },
		h('button', { type: 'button', class: 'primary small', 'aria-label': `Approve promotion ${pr.id} (${what})`, onClick: () => decide('approve') }, 'Approve'),
		h('button', { type: 'button', class: 'danger-outline small', 'aria-label': `Reject promotion ${pr.id} (${what})`, onClick: () => decide('reject') }, 'Reject'),
	);
}

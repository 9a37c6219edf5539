// views/workers.js: Compute -> Workers: the GPU hosts' inventory (state, whether jobs may be
// placed, GPUs with model, memory and busy flag, the jobs running there and the GPUs they
// hold, CPUs, memory, labels, last heartbeat, version) with Cordon / Drain / Uncordon. The
// rows refresh themselves every few seconds while the tab is visible. No workers yet: how to
// add one.
import * as api from '../api.js';
import { workerCommand, workerCommandNote } from './join_tokens.js';
import { jobsByWorker, jobLink, isReplica, REFRESH_MS } from './jobs.js';
import { h, mount, pageHeader, pagedTable, time, badge, emptyState, showError, toast, confirmDialog, chips, select, field, snippet, fmtBytes, spaced, poll } from '../ui.js';

export const workerHref = (w) => `#/workers/${w.id}`;
export const mib = (mb) => (typeof mb === 'number' ? fmtBytes(mb * 1024 * 1024) : '—');

/* Free space of the worker's work dir, marked when under 10 % (jobs fail on a full disk). */
export function diskFree(w) {
	if (typeof w.disk_free_mb !== 'number' || !w.disk_total_mb) return '—';
	const pct = Math.round((100 * w.disk_free_mb) / w.disk_total_mb);
	const text = `${mib(w.disk_free_mb)} (${pct} %)`;
	return pct < 10 ? badge(`${text}: nearly full`, 'err') : text;
}

// What runs on a worker: its jobs (links) and how many of its GPUs they hold.
export function jobsCell(w, jobs) {
	if (!jobs.length) return h('span', { class: 'muted' }, 'none');
	const held = jobs.reduce((n, j) => n + (j.gpus || []).length, 0);
	return h('span', { class: 'worker-jobs' }, spaced(jobs.map((j) => (isReplica(j) ? h('span', null, jobLink(j), ' ', badge('replica', 'info')) : jobLink(j)))), ' ', badge(`${held} of ${(w.gpus || []).length} GPUs allocated`, 'info'));
}

export const stateBadge = (w) => badge(w.state, w.state === 'online' ? 'ok' : 'err');

export function schedulingBadge(w) {
	if (w.draining) return badge('draining', 'warn');
	if (w.cordoned) return badge('cordoned', 'warn');
	return w.schedulable ? badge('schedulable', 'ok') : badge('not schedulable', 'muted');
}

// '4 × Fake GPU (16.0 GiB)' per kind of GPU, and how many are busy outside Atrium.
export function gpuSummary(w) {
	const gpus = w.gpus || [];
	if (!gpus.length) return h('span', { class: 'muted' }, 'none');
	const kinds = new Map();
	for (const g of gpus) {
		const key = `${g.name || 'unknown GPU'} (${mib(g.memory_mb)})`;
		kinds.set(key, (kinds.get(key) || 0) + 1);
	}
	const busy = gpus.filter((g) => g.busy).length;
	return h(
		'span',
		{ class: 'gpus' },
		spaced([...[...kinds].map(([k, n]) => h('span', { class: 'gpu-kind' }, `${n} × ${k}`)), busy ? badge(`${busy} busy`, 'warn') : null].filter(Boolean)),
	);
}

const ACTIONS = {
	cordon: { label: 'Cordon', title: 'Cordon', message: 'No new jobs are placed on it; running jobs go on.' },
	drain: { label: 'Drain', title: 'Drain', message: 'No new jobs are placed on it, and it is told to refuse new jobs and let running ones finish.' },
	uncordon: { label: 'Uncordon', title: 'Uncordon', message: 'Jobs may be placed on it again.' },
};

/*
 * The Cordon / Drain / Uncordon buttons of a worker; each asks first, then hands the updated
 * worker to onChanged, or an API error to onError.
 */
export function workerActions(w, onChanged, onError) {
	const verbs = w.cordoned || w.draining ? ['uncordon'] : ['cordon', 'drain'];
	return h(
		'span',
		{ class: 'row-actions' },
		verbs.map((verb) => {
			const a = ACTIONS[verb];
			const btn = h('button', { type: 'button', class: 'small', 'aria-label': `${a.label} ${w.name}` }, a.label);
			btn.addEventListener('click', async () => {
				if (!(await confirmDialog({ title: `${a.title} ${w.name}?`, message: a.message, confirmLabel: a.label }))) return;
				onError(null);
				try {
					const done = await api.post(`/workers/${w.id}/${verb}`);
					toast(`${w.name}: ${verb === 'uncordon' ? 'schedulable again' : verb === 'drain' ? 'draining' : 'cordoned'}`);
					onChanged(done);
				} catch (err) {
					onError(err);
				}
			});
			return btn;
		}),
	);
}

export async function render(root, ctx) {
	const state = ['online', 'offline'].includes(ctx.query.get('state')) ? ctx.query.get('state') : '';
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const fail = (err) => showError(errSlot, err);
	let list = null;
	// Which jobs hold GPUs where; the inventory still shows when that list cannot be read.
	let running = await jobsByWorker().catch((err) => {
		fail(err);
		return new Map();
	});
	const columns = [
		{ label: 'Worker', cell: (w) => h('strong', null, h('a', { href: workerHref(w) }, w.name)) },
		{ label: 'State', cell: stateBadge },
		{ label: 'Scheduling', cell: schedulingBadge },
		{ label: 'GPUs', cell: gpuSummary },
		{ label: 'Jobs', cell: (w) => jobsCell(w, running.get(w.id) || []) },
		{ label: 'CPUs', cell: (w) => String(w.cpus), class: 'num' },
		{ label: 'Memory', cell: (w) => `${mib(w.memory_used_mb)} / ${mib(w.memory_mb)}`, class: 'num' },
		{ label: 'Disk free', cell: diskFree, class: 'num' },
		{ label: 'Labels', cell: (w) => chips(w.labels) },
		{ label: 'Last heartbeat', cell: (w) => time(w.last_heartbeat_at, true) },
		{ label: 'Version', cell: (w) => w.version || '' },
		{ label: 'Actions', cell: (w) => workerActions(w, (done) => list.updateRow(done), fail) },
	];
	list = await pagedTable(new api.Pager('/workers', { state }), { caption: 'Workers', columns, rowKey: (w) => String(w.id) }, fail);
	if (!ctx.alive()) return;
	const filter = select('state', [['', 'All'], ['online', 'Online'], ['offline', 'Offline']], state, { id: 'worker-state' });
	filter.addEventListener('change', () => ctx.setQuery({ state: filter.value }));
	const refresh = h('button', { type: 'button', onClick: () => ctx.setQuery({ state }) }, 'Refresh');
	const clusters = h('a', { href: '#/clusters' }, 'Slurm clusters →'); // (beside the workers: views/clusters.js)
	const stamp = h('p', { class: 'muted note refresh-status', 'aria-live': 'off' }, list.first.length ? `Refreshes every ${REFRESH_MS / 1000} s.` : '');
	mount(
		root,
		pageHeader('Workers', 'The GPU hosts that run jobs. A cordoned or draining worker takes no new jobs; offline means its heartbeats stopped. Slurm clusters have their own page.', refresh, clusters),
		h('div', { class: 'controls' }, field('Show', filter)),
		errSlot,
		list.first.length
			? [list, list.more, stamp]
			: state
				? emptyState(`No ${state} workers.`)
				: emptyState(
						'No workers yet.',
						h('span', null, 'Jobs run on GPU hosts that run the Atrium worker. Make a join token under ', h('a', { href: '#/admin/join-tokens' }, 'Admin → Join tokens'), ', then on each host run:'),
						snippet(workerCommand()),
						h('small', null, workerCommandNote),
					),
	);
	if (!list.first.length) return null;
	// Heartbeats, GPUs and jobs change: the shown rows are redrawn from a fresh read.
	return poll(async () => {
		if (!ctx.alive()) return false;
		const [fresh, jobs] = await Promise.all([api.listAll('/workers', { state }, 1000), jobsByWorker()]);
		if (!ctx.alive()) return false;
		running = jobs;
		const byId = new Map(fresh.map((w) => [String(w.id), w]));
		for (const row of [...list.tbody.rows]) {
			const w = byId.get(row.dataset.key);
			if (w) list.updateRow(w);
		}
		showError(errSlot, null);
		stamp.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC; refreshes every ${REFRESH_MS / 1000} s.`;
		return true;
	}, REFRESH_MS);
}

// views/clusters.js: Compute -> Clusters: the Slurm clusters Atrium hands jobs to, beside its
// own workers: each cluster's kind, slurmrestd URL and Slurm user, its partitions with
// Atrium's jobs there by state (Atrium submits to the first partition), the link to
// slurmrestd (ok or the error of the last check, when it last answered), and the jobs in
// flight against the cluster's cap. The rows refresh themselves every few seconds. What the
// API returns is what anyone signed in may see (the secret never is).
import * as api from '../api.js';
import { REFRESH_MS } from './jobs.js';
import { h, mount, pageHeader, table, time, badge, emptyState, showError, spaced, poll } from '../ui.js';

const STATE_ORDER = ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'lost'];

// '2 running · 1 queued', in the life order of a job; 'none' when there is none.
export function jobCounts(byState) {
	const entries = Object.entries(byState || {}).filter(([, n]) => n > 0);
	entries.sort(([a], [b]) => STATE_ORDER.indexOf(a) - STATE_ORDER.indexOf(b));
	if (!entries.length) return h('span', { class: 'muted' }, 'no jobs');
	return h('span', { class: 'job-counts' }, entries.map(([s, n]) => `${n} ${s}`).join(' · '));
}

// Each partition with Atrium's jobs in it (all of them in the first: the one Atrium uses).
export function partitionsCell(c) {
	const parts = c.partitions && c.partitions.length ? c.partitions : ['(Slurm\'s default)'];
	return h(
		'ul',
		{ class: 'partitions' },
		parts.map((p, i) => h('li', { dataset: { partition: p } }, h('strong', null, p), ': ', i === 0 ? jobCounts(c.jobs_by_state) : h('span', { class: 'muted' }, 'not used by Atrium'))),
	);
}

// The link to slurmrestd: ok / the error, when it last answered, when it was checked.
export function linkCell(c) {
	const l = c.slurmrestd || { state: 'unknown' };
	const head = l.state === 'ok' ? badge('reachable', 'ok') : l.state === 'error' ? badge('unreachable', 'err') : badge('checking…', 'muted');
	return h(
		'span',
		{ class: 'cluster-link' },
		head,
		l.error ? h('span', { class: 'link-error' }, ' ', l.error) : null,
		h('small', { class: 'muted link-times' }, h('br'), 'last contact ', time(l.last_contact_at, true), spaced([' · checked', time(l.checked_at, true)])),
	);
}

const inFlight = (c) => {
	const text = `${c.jobs_in_flight} / ${c.max_jobs}`;
	return c.jobs_in_flight >= c.max_jobs ? badge(`${text}: at the cap`, 'warn') : text;
};

export async function render(root, ctx) {
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const first = await api.listAll('/clusters', {}, 1000);
	if (!ctx.alive()) return null;
	const columns = [
		{ label: 'Cluster', cell: (c) => h('strong', null, c.name) },
		{ label: 'Kind', cell: (c) => c.kind },
		{ label: 'Link to slurmrestd', cell: linkCell },
		{ label: 'Partitions and Atrium\'s jobs', cell: partitionsCell },
		{ label: 'In flight / cap', cell: inFlight, class: 'num' },
		{ label: 'slurmrestd', cell: (c) => h('code', null, c.url) },
		{ label: 'Runs as', cell: (c) => [c.user, c.account ? ` (account ${c.account})` : '', c.qos ? ` QOS ${c.qos}` : ''].join('') },
		{ label: 'Worker row', cell: (c) => h('span', null, `cluster:${c.name} `, badge(c.link, c.link === 'online' ? 'ok' : 'err')) },
	];
	const list = table({ caption: 'Clusters', columns, rows: first, rowKey: (c) => String(c.id) });
	const stamp = h('p', { class: 'muted note refresh-status', 'aria-live': 'off' }, first.length ? `Refreshes every ${REFRESH_MS / 1000} s.` : '');
	const toWorkers = ctx.isAdmin ? h('a', { href: '#/workers' }, 'Workers →') : null;
	mount(
		root,
		pageHeader('Clusters', 'Slurm clusters that run Atrium\'s jobs through slurmrestd, beside Atrium\'s own workers. A job goes to a cluster when it names one (or its project or team has one by default).', toWorkers),
		errSlot,
		first.length ? [list, stamp] : emptyState('No clusters.', h('span', null, 'An admin registers a Slurm cluster with ', h('code', null, 'POST /api/v1/clusters'), ' (see docs/clusters.md).')),
	);
	if (!first.length) return null;
	// Jobs and the link change: the rows are redrawn from a fresh read (which checks the link again).
	return poll(async () => {
		if (!ctx.alive()) return false;
		let fresh;
		try {
			fresh = await api.listAll('/clusters', {}, 1000);
		} catch (err) {
			showError(errSlot, err);
			return true;
		}
		if (!ctx.alive()) return false;
		for (const c of fresh) list.updateRow(c);
		showError(errSlot, null);
		stamp.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC; refreshes every ${REFRESH_MS / 1000} s.`;
		return true;
	}, REFRESH_MS);
}

// views/clusters.js: Compute -> Clusters: the Slurm clusters Atrium hands jobs to, beside its
// own workers: each cluster's kind, slurmrestd URL and Slurm user, its partitions with
// Atrium's jobs there by state (Atrium submits to the first partition), the link to
// slurmrestd (ok or the error of the last check, when it last answered), the jobs in
// flight against the cluster's cap, and the inputs staged in its shared directory. The rows refresh themselves every few seconds. What the
// API returns is what anyone signed in may see (the secret never is).
import * as api from '../api.js';
import { REFRESH_MS } from './jobs.js';
import { h, mount, pageHeader, table, time, badge, emptyState, showError, spaced, poll, bytes } from '../ui.js';

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

// What the cluster's shared directory holds of Atrium's staged inputs, and what the staging GC
// did: '2 held (1.5 KiB) / 3 copied · 4 reused · 1 collected / kept 7 d unused'.
const keepText = (s) => (s % 86400 === 0 ? `${s / 86400} d` : s % 3600 === 0 ? `${s / 3600} h` : `${s} s`);
export function stagingCell(c) {
	const s = c.staging;
	if (!s) return h('span', { class: 'muted' }, '—');
	const held = s.blobs || { count: 0, bytes: 0 };
	return h(
		'span',
		{ class: 'staging' },
		`${held.count} held (`,
		bytes(held.bytes),
		')',
		h('br'),
		`${s.blobs_copied} copied · ${s.blobs_reused} reused · ${s.blobs_collected} collected`,
		h('br'),
		h('small', { class: 'muted' }, `kept ${keepText(s.keep_s)} unused`),
	);
}

// The name, the slurmrestd URL, and the cluster's worker row with its state.
const clusterCell = (c) =>
	h('span', null, h('strong', null, c.name), h('br'), h('small', null, h('code', null, c.url)), h('br'), h('small', null, `worker row cluster:${c.name} `, badge(c.link, c.link === 'online' ? 'ok' : 'err')));

const inFlight = (c) => {
	const text = `${c.jobs_in_flight} / ${c.max_jobs}`;
	return c.jobs_in_flight >= c.max_jobs ? badge(`${text}: at the cap`, 'warn') : text;
};

export async function render(root, ctx) {
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const first = await api.listAll('/clusters', {}, 1000);
	if (!ctx.alive()) return null;
	const columns = [
		{ label: 'Cluster', cell: clusterCell },
		{ label: 'Kind', cell: (c) => c.kind },
		{ label: 'Link to slurmrestd', cell: linkCell },
		{ label: 'Partitions and Atrium\'s jobs', cell: partitionsCell },
		{ label: 'In flight / cap', cell: inFlight, class: 'num' },
		{ label: 'Runs as', cell: (c) => [c.user, c.account ? ` (account ${c.account})` : '', c.qos ? ` QOS ${c.qos}` : ''].join('') },
		{ label: 'Staged inputs', cell: stagingCell },
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

// views/worker.js: one worker (#/workers/ID): its inventory, each GPU (model, memory,
// utilisation, busy, the job it is allocated to), the jobs running there (a deployment's
// replicas marked as such), its GPU-hours and use per day over four weeks
// (views/gpu_hours.js, from /admin/stats); the inventory, GPUs and jobs refresh themselves
// every few seconds while the tab is visible; and Cordon /
// Drain / Uncordon / Delete. Deleting an online worker is refused by the API (409, shown as
// is) and can then be forced.
import * as api from '../api.js';
import { stateBadge, schedulingBadge, workerActions, mib, jobsCell, diskFree } from './workers.js';
import { jobsByWorker, jobLink, jobState, gpusText, durationCell, kindCell, REFRESH_MS } from './jobs.js';
import { workerHoursPanel, dailyStats } from './gpu_hours.js';
import { h, mount, pageHeader, table, time, badge, showError, toast, confirmDialog, confirmThen, chips, facts, panel, breadcrumb, errorBox, poll } from '../ui.js';

function gpuTable(w, jobs) {
	// GPU index -> the job holding it
	const holder = new Map(jobs.flatMap((j) => (j.gpus || []).map((g) => [g, j])));
	return table({
		caption: `GPUs of ${w.name}`,
		rowKey: (g) => String(g.index),
		rows: w.gpus || [],
		columns: [
			{ label: 'Index', cell: (g) => String(g.index), class: 'num' },
			{ label: 'Model', cell: (g) => g.name || 'unknown' },
			{ label: 'UUID', cell: (g) => h('code', { class: 'small' }, g.uuid || '') },
			{ label: 'Memory used', cell: (g) => `${mib(g.memory_used_mb)} / ${mib(g.memory_mb)}`, class: 'num' },
			{ label: 'Utilisation', cell: (g) => (typeof g.utilization === 'number' ? `${g.utilization} %` : '—'), class: 'num' },
			{
				label: 'Allocated to',
				cell: (g) => (holder.has(g.index) ? [jobLink(holder.get(g.index)), ` (${holder.get(g.index).project})`] : h('span', { class: 'muted' }, 'no job')),
			},
			{ label: 'Busy', cell: (g) => (g.busy ? badge('busy: used outside Atrium', 'warn') : holder.has(g.index) ? badge('allocated', 'info') : badge('free', 'ok')) },
		],
	});
}

function jobsTable(w, jobs) {
	if (!jobs.length) return h('p', { class: 'muted' }, 'No job runs here now.');
	return table({
		caption: `Jobs on ${w.name}`,
		rowKey: (j) => String(j.id),
		rows: jobs,
		columns: [
			{ label: 'Job', cell: (j) => h('strong', null, jobLink(j)) },
			{ label: 'State', cell: jobState },
			{ label: 'Project', cell: (j) => j.project },
			{ label: 'GPUs', cell: gpusText, class: 'num' },
			{ label: 'Kind', cell: kindCell },
			{ label: 'By', cell: (j) => j.created_by || '' },
			{ label: 'Started', cell: (j) => time(j.started_at || j.dispatched_at, true) },
			{ label: 'Running for', cell: durationCell, class: 'num' },
		],
	});
}

// The parts that change as jobs come and go and heartbeats arrive (redrawn by the poll).
function liveParts(w, jobs) {
	return [
		panel(
			'worker-about',
			'Inventory',
			facts([
				['State', [stateBadge(w), ' ', schedulingBadge(w)]],
				['GPUs', String(w.gpu_count ?? (w.gpus || []).length)],
				['CPUs', String(w.cpus)],
				['Memory', `${mib(w.memory_used_mb)} used of ${mib(w.memory_mb)}`],
				['Disk (work dir)', typeof w.disk_free_mb === 'number' ? [diskFree(w), ` free of ${mib(w.disk_total_mb)}`] : null],
				['Load', typeof w.load === 'number' ? w.load.toFixed(2) : null],
				['Labels', chips(w.labels)],
				['Jobs', jobsCell(w, jobs)],
				['Jobs it reported', (w.running || []).length ? w.running.join(', ') : 'none'],
				['Version', w.version || null],
				['Id', String(w.id)],
				['Registered', time(w.registered_at, true)],
				['Last heartbeat', time(w.last_heartbeat_at, true)],
				['State since', time(w.state_changed_at, true)],
				['Stopped cleanly', w.deregistered_at ? time(w.deregistered_at, true) : null],
			]),
		),
		panel('gpus-title', `GPUs (${(w.gpus || []).length})`, (w.gpus || []).length ? gpuTable(w, jobs) : h('p', { class: 'muted' }, 'No GPU reported: it runs CPU jobs only.')),
		panel('worker-jobs', 'Jobs running here', jobsTable(w, jobs)),
	];
}

export async function render(root, ctx) {
	const w = await api.get(`/workers/${api.seg(ctx.params.id)}`);
	const [byWorker, stats] = await Promise.all([jobsByWorker(), dailyStats(28)]);
	const jobs = byWorker.get(w.id) || [];
	if (!ctx.alive()) return;
	const gpuSeries = workerHoursPanel(stats, w.id, (w.gpus || []).length);
	const live = h('div', { class: 'worker-live' }, liveParts(w, jobs));
	document.title = `Worker ${w.name} · Atrium`;
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const again = () => ctx.navigate(`workers/${w.id}`);
	const gone = () => {
		toast(`Deleted worker ${w.name}`);
		ctx.navigate('workers');
	};

	const forceDelete = () =>
		confirmThen(
			errSlot,
			{
				title: `Force-delete ${w.name}?`,
				message: 'Its agent gets 401 at its next heartbeat and registers again as a new worker while its join token is valid: revoke the token to keep it out.',
				confirmLabel: 'Force delete',
			},
			async () => {
				await api.del(`/workers/${w.id}`, { query: { force: 'true' } });
				gone();
			},
		);

	async function remove() {
		const ok = await confirmDialog({
			title: `Delete ${w.name}?`,
			message: 'It leaves the inventory and its secret stops working. Stop its agent first: a running agent is refused.',
			confirmLabel: 'Delete',
			danger: true,
		});
		if (!ok) return;
		showError(errSlot, null);
		try {
			await api.del(`/workers/${w.id}`);
			gone();
		} catch (err) {
			if (err.status !== 409) return showError(errSlot, err);
			// The API refuses an online worker: say why, and offer to force it.
			const box = errorBox(err);
			box.append(h('button', { type: 'button', class: 'danger small', onClick: forceDelete }, 'Force delete'));
			errSlot.replaceChildren(box);
		}
	}

	mount(
		root,
		breadcrumb(['Workers', '#/workers'], [w.name]),
		pageHeader(`Worker ${w.name}`, w.url),
		h(
			'div',
			{ class: 'toolbar' },
			workerActions(w, again, (err) => showError(errSlot, err)),
			h('button', { type: 'button', class: 'danger-outline small', 'aria-label': `Delete ${w.name}`, onClick: remove }, 'Delete'),
		),
		errSlot,
		live,
		gpuSeries.section,
	);
	const undraw = gpuSeries.draw();
	// what runs there and its heartbeat, every few seconds while the tab is visible
	const stop = poll(async () => {
		if (!ctx.alive()) return false;
		const [wk, by] = await Promise.all([api.get(`/workers/${w.id}`), jobsByWorker()]);
		if (!ctx.alive()) return false;
		mount(live, liveParts(wk, by.get(w.id) || []));
		return true;
	}, REFRESH_MS);
	return () => {
		stop();
		if (typeof undraw === 'function') undraw();
	};
}

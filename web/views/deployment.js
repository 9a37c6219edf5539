// views/deployment.js: one deployment (#/deployments/NAME): its state and latest rollout, the
// traffic split (versions, weights, replicas ready) with the canary controls, every replica
// (state, worker, port, restarts, requests), the gateway's figures and charts
// (deployment_stats.js), the rollout history (paged, newest first), captured predictions
// (deployment_predictions.js), invoke keys (deployment_keys.js) and its settings. When it
// failed, is degraded or its latest rollout failed, a panel on top shows the latest crashed
// replica (from the history's `replica_failed` event): its job, exit code, error, the last
// lines of its log and a link to the whole log (#/jobs/ID?log). Editors
// scale, start and end canaries, roll out or back, and delete it (deployment_actions.js).
// The page reads the deployment, its statistics and the history's first page again every
// 5 s (not while the tab is hidden) and redraws only the parts whose figures changed, so
// scrolling, open forms and dialogs stay as they are.
import * as api from '../api.js';
import { href, stateBadge, version, canEdit } from './registry.js';
import { REFRESH_MS, jobLink } from './jobs.js';
import { logTail } from './job.js';
import { deploymentState, replicasText } from './deployments.js';
import { statsView } from './deployment_stats.js';
import { trafficControls, settingsForms, deleteButton } from './deployment_actions.js';
import { keysPanel } from './deployment_keys.js';
import { predictionsPanel } from './deployment_predictions.js';
import { barChart } from '../chart.js';
import { h, mount, pageHeader, breadcrumb, facts, panel, table, time, chips, emptyState, showError, poll, pagedTable, snippet, fmtBytes } from '../ui.js';

const s = api.seg;

function status(d) {
	const ro = d.rollout;
	return facts([
		['State', [deploymentState(d), ' ', h('span', { class: 'muted' }, d.message || '')]],
		['Serving', d.version ? h('a', { href: href.modelVersion(d.project, d.model, d.version) }, `${d.model} ${version(d.version)}`) : 'no version yet'],
		['Follows', d.follows ? [chips([d.follows], 'alias'), h('span', { class: 'muted' }, ' rolls out by itself when the alias moves')] : 'pinned to its version'],
		['Previous version', d.previous_version ? version(d.previous_version) : null],
		['Replicas ready', replicasText(d)],
		['Scale', `${d.replicas} replica${d.replicas === 1 ? '' : 's'}${(d.traffic || []).length > 1 ? ' (a canary gets its share, at least one)' : ''}`],
		[
			'Latest rollout',
			ro
				? [
						`${ro.kind} (${ro.trigger}) `,
						ro.from_version ? `${version(ro.from_version)} → ` : '',
						version(ro.to_version),
						' ',
						stateBadge(ro.state),
						ro.reason ? h('span', { class: 'muted' }, ` — ${ro.reason}`) : null,
					]
				: null,
		],
		['Rollout started', ro ? [time(ro.started_at, true), ro.actor ? ` by ${ro.actor}` : ''] : null],
		['Rollout ended', ro?.ended_at ? time(ro.ended_at, true) : null],
		['Rollout deadline', ro?.state === 'in_progress' ? time(ro.deadline_at, true) : null],
		['Project', h('a', { href: href.deployments(d.project) }, d.project)],
		['Created', [time(d.created_at), d.created_by ? ` by ${d.created_by}` : '']],
	]);
}

// The latest crashed replica worth showing: {event, jobId} when the deployment failed, is
// degraded or its latest rollout failed and the history (newest first) has a `replica_failed`
// or `rollout_failed` event naming a job ("replica 0 of version 2 (job 41) ended: ...",
// "version 2: replica 0 (job 41) crashed 3 times before it was ever ready"); else null.
export function replicaFailure(d, events) {
	if (d.state !== 'failed' && d.state !== 'degraded' && d.rollout?.state !== 'failed') return null;
	for (const e of events || []) {
		const m = (e.kind === 'replica_failed' || e.kind === 'rollout_failed') && /\(job (\d+)\)/.exec(e.message || '');
		if (m) return { event: e, jobId: Number(m[1]) };
	}
	return null;
}

// The crashed replica's job in one box: exit code, error, its log's last lines, a link to the log.
export async function failurePanel(f) {
	const [j, tail] = await Promise.all([api.get(`/jobs/${f.jobId}`).catch(() => null), logTail(f.jobId).catch(() => null)]);
	return h(
		'section',
		{ class: 'failure alert error replica-failure', role: 'region', 'aria-labelledby': 'dep-failure-title', dataset: { job: String(f.jobId) } },
		h('h2', { id: 'dep-failure-title' }, 'A replica crashed'),
		h('p', null, f.event.message, ' ', h('span', { class: 'muted' }, time(f.event.created_at, true))),
		facts([
			['Job', jobLink({ id: f.jobId })],
			['Job state', j ? j.state : null],
			['Exit code', j ? (j.exit_code ?? 'none (it did not exit by itself)') : null],
			['Error', j ? j.message || 'no message' : null],
			['Worker', j?.worker || null],
		]),
		tail?.length ? [h('h3', null, `Last ${tail.length} line${tail.length === 1 ? '' : 's'} of its log`), h('pre', { class: 'log-tail', tabindex: '0' }, tail.join('\n'))] : null,
		h('p', null, h('a', { class: 'replica-log', href: `#/jobs/${f.jobId}?log` }, `The whole log of job ${f.jobId}`)),
	);
}

function traffic(d) {
	const rows = d.traffic || [];
	if (!rows.length) return emptyState('Nothing serves.', d.message || 'No version has traffic.');
	const role = (t) => (t.stable ? 'stable' : t.weight ? 'canary' : 'new (no traffic until ready)');
	return [
		barChart({ label: `Traffic split of ${d.name}`, items: rows.map((t) => ({ label: `${version(t.version)} (${role(t).split(' ')[0]})`, value: t.weight, kind: t.stable ? 'ok' : 'info' })), format: (v) => `${v} %` }),
		table({
			caption: `Traffic split of ${d.name}`,
			rowKey: (t) => String(t.version),
			rows,
			columns: [
				{ label: 'Version', cell: (t) => h('a', { href: href.modelVersion(d.project, d.model, t.version) }, version(t.version)) },
				{ label: 'Role', cell: role },
				{ label: 'Weight', cell: (t) => `${t.weight} %`, class: 'num' },
				{ label: 'Replicas ready', cell: (t) => `${t.ready_replicas} / ${t.replicas}`, class: 'num' },
			],
		}),
	];
}

function replicas(d, ctx) {
	const rows = [...(d.instances || [])].sort((a, b) => a.version - b.version || a.replica - b.replica);
	if (!rows.length) return emptyState('No replicas.', d.state === 'failed' ? 'Its first rollout failed: patch in another version to serve again.' : 'They are placed on workers shortly.');
	const worker = (r) => (r.worker ? (ctx.isAdmin && r.worker_id ? h('a', { href: `#/workers/${r.worker_id}` }, r.worker) : r.worker) : h('span', { class: 'muted' }, '—'));
	return table({
		caption: `Replicas of ${d.name}`,
		rowKey: (r) => String(r.job_id),
		rows,
		columns: [
			{ label: 'Replica', cell: (r) => `#${r.replica}` },
			{ label: 'Version', cell: (r) => version(r.version) },
			{
				label: 'State',
				cell: (r) => [stateBadge(r.state), r.pending_reason || r.message ? h('span', { class: 'muted replica-why' }, ` ${r.pending_reason || r.message}`) : null],
			},
			{ label: 'Job', cell: (r) => jobLink({ id: r.job_id }) },
			{ label: 'Worker', cell: worker },
			{ label: 'Port', cell: (r) => (r.port ? String(r.port) : '—'), class: 'num' },
			{ label: 'Restarts', cell: (r) => String(r.restarts), class: 'num' },
			{ label: 'In flight', cell: (r) => String(r.in_flight), class: 'num' },
			{ label: 'Requests', cell: (r) => String(r.requests), class: 'num' },
		],
	});
}

function settings(d) {
	const cmd = Array.isArray(d.command) ? d.command.map((a) => (/[\s'"$]/.test(a) ? JSON.stringify(a) : a)).join(' ') : String(d.command);
	const r = d.resources || {};
	const res = [`${r.gpus ?? 0} GPU${r.gpus === 1 ? '' : 's'}${r.gpu_type ? ` × ${r.gpu_type}` : ''}`, r.cpus ? `${r.cpus} CPUs` : null, r.memory_mb ? fmtBytes(r.memory_mb * 1024 * 1024) : null];
	return facts([
		['Command', [h('code', { class: 'block' }, cmd), Array.isArray(d.command) ? null : h('span', { class: 'muted' }, 'Run by /bin/sh -c.')]],
		['Environment', Object.keys(d.env || {}).length ? chips(d.env) : null],
		['Per replica', res.filter(Boolean).join(' · ')],
		['Worker labels', Object.keys(d.labels || {}).length ? chips(d.labels) : null],
		['Health check', h('code', null, d.health_path)],
		['Predict path', h('code', null, d.predict_path)],
		['Request timeout', `${d.timeout_s} s`],
		['Rollout timeout', `${d.rollout_timeout_s} s`],
		['Capture', d.capture?.sample_rate ? `${Math.round(d.capture.sample_rate * 1000) / 10} % of calls, up to ${fmtBytes(d.capture.max_body_bytes)} a body, ${d.capture.max_rows} kept` : 'off'],
	]);
}

function endpoints(d) {
	const o = location.origin;
	return [
		h('p', { class: 'muted' }, 'Callers: members of the project with their token, its jobs, or an invoke key of this deployment.'),
		snippet(`curl -X POST ${o}${d.endpoints.v2}/infer -H "Authorization: Bearer $TOKEN" \\\n  -d '{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]}'`, 'the V2 inference call'),
		snippet(`curl -X POST ${o}${d.endpoints.predict} -H "Authorization: Bearer $TOKEN" -d '{"instances": [[1, 2]]}'`, 'the predict call'),
	];
}

const historyColumns = [
	{ label: 'When', cell: (e) => time(e.created_at, true) },
	{ label: 'Event', cell: (e) => h('strong', null, e.kind.replace(/_/g, ' ')) },
	{ label: 'Versions', cell: (e) => (e.to_version ? `${e.from_version ? `${version(e.from_version)} → ` : ''}${version(e.to_version)}` : '') },
	{ label: 'By', cell: (e) => e.actor || h('span', { class: 'muted' }, 'controller') },
	{ label: 'What happened', cell: (e) => e.message },
];

export async function render(root, ctx) {
	const path = `/deployments/${s(ctx.params.name)}`;
	const [first, stats] = await Promise.all([api.get(path), api.get(`${path}/stats`)]);
	const project = await api.get(`/projects/${s(first.project)}`);
	const editor = canEdit(project);
	const versions = editor ? await api.listAll(`/projects/${s(first.project)}/models/${s(first.model)}/versions`, {}, 1000).catch(() => []) : [];
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const hist = await pagedTable(new api.Pager(`${path}/history`, {}, 20), { caption: `History of ${first.name}`, columns: historyColumns, rowKey: (e) => String(e.id) }, (err) => showError(errSlot, err));
	if (!ctx.alive()) return null;
	document.title = `${first.name} · Deployments · Atrium`;

	const title = h('span', { class: 'title-state' });
	const slots = { failure: h('div'), status: h('div'), traffic: h('div'), controls: h('div', { class: 'traffic-controls' }), replicas: h('div'), settings: h('div') };
	const replicasTitle = h('h2', { id: 'dep-replicas' });
	const statusLine = h('p', { class: 'muted note refresh-status', 'aria-live': 'off' });
	const statsPart = statsView(first);
	const seen = new Map(); // slot -> the JSON it was drawn from
	const seenHistory = new Set(hist.first.map((e) => e.id));
	let d = first;

	// Redraws a slot only when what it shows changed (keeps focus and open details).
	const redraw = (name, data, fn) => {
		const key = JSON.stringify(data);
		if (seen.get(name) === key) return;
		seen.set(name, key);
		mount(slots[name], fn());
	};
	const draw = (fresh, st) => {
		d = fresh;
		mount(title, deploymentState(d));
		redraw('status', [d.state, d.message, d.version, d.previous_version, d.follows, d.replicas, d.ready_replicas, d.rollout], () => status(d));
		redraw('traffic', d.traffic, () => traffic(d));
		redraw('replicas', d.instances, () => replicas(d, ctx));
		replicasTitle.textContent = `Replicas (${replicasText(d)} ready)`;
		if (editor) redraw('controls', [d.rollout?.id, d.rollout?.state, d.version, d.previous_version, (d.traffic || []).map((t) => [t.version, t.weight])], () => trafficControls(d, { versions, errSlot, onChanged: changed }));
		redraw('settings', [d.command, d.env, d.resources, d.labels, d.health_path, d.predict_path, d.timeout_s, d.rollout_timeout_s, d.capture, d.replicas], () => [
			settings(d),
			editor ? settingsForms(d, { onChanged: changed }) : null,
		]);
		if (st) statsPart.update(st);
	};
	// The crashed replica's panel, redrawn when another replica_failed event is the latest.
	const showFailure = async (events) => {
		const f = replicaFailure(d, events);
		const key = f ? f.event.id : null;
		if (seen.get('failure') === key) return;
		seen.set('failure', key);
		const el = f ? await failurePanel(f) : null;
		if (ctx.alive() && seen.get('failure') === key) mount(slots.failure, el);
	};
	const addHistory = (items) => {
		for (const e of [...items].reverse()) {
			if (seenHistory.has(e.id)) continue;
			seenHistory.add(e.id);
			hist.prependRow(e);
		}
	};
	async function refresh(fresh) {
		try {
			const [dd, st, page] = await Promise.all([fresh ? Promise.resolve(fresh) : api.get(path), api.get(`${path}/stats`), api.get(`${path}/history`, { limit: 20 })]);
			if (!ctx.alive()) return false;
			showError(errSlot, null);
			draw(dd, st);
			addHistory(page.items || []);
			await showFailure(page.items || []);
			statusLine.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC; refreshes every ${REFRESH_MS / 1000} s.`;
		} catch (err) {
			if (!ctx.alive()) return false;
			showError(errSlot, err);
			if (err.status === 404) return false; // deleted meanwhile: nothing more to follow
		}
		return true;
	}
	// After an action: the answer is the deployment as it is now.
	function changed(fresh) {
		refresh(fresh);
	}

	const [predictions, keys] = await Promise.all([predictionsPanel(first, editor, changed), editor ? keysPanel(first) : null]);
	if (!ctx.alive()) return null;
	draw(first, stats);
	await showFailure(hist.first);
	if (!ctx.alive()) return null;
	mount(
		root,
		breadcrumb(['Deployments', '#/deployments'], [first.project, href.deployments(first.project)], [first.name]),
		pageHeader(
			h('span', null, `Deployment ${first.name} `, title),
			h('span', null, 'Serves ', h('a', { href: href.model(first.project, first.model) }, first.model), ' of ', h('a', { href: href.project(first.project) }, first.project), ' behind the inference gateway.'),
			editor ? deleteButton(first, { errSlot, onDeleted: () => ctx.navigate(`projects/${s(first.project)}/deployments`) }) : null,
		),
		errSlot,
		slots.failure,
		statusLine,
		h('div', { class: 'split' }, panel('dep-status', 'Status', slots.status), panel('dep-traffic', 'Traffic split', slots.traffic, slots.controls)),
		h('section', { class: 'panel', 'aria-labelledby': 'dep-replicas' }, replicasTitle, slots.replicas),
		panel('dep-stats', 'Requests through the gateway', statsPart.el),
		h('p', { class: 'monitoring-link' }, h('a', { href: `#/deployments/${s(first.name)}/monitoring` }, 'Monitoring: drift, data quality and live quality')),
		panel('dep-history', 'Rollout history', h('div', { class: 'nowrap-times' }, hist, hist.more)),
		panel('dep-predictions', 'Captured predictions', predictions),
		keys ? panel('dep-keys', 'Invoke keys', keys) : null,
		panel('dep-endpoints', 'Calling it', endpoints(first)),
		panel('dep-settings', 'Settings', slots.settings),
	);
	statsPart.drawCharts();
	statusLine.textContent = `Refreshes every ${REFRESH_MS / 1000} s.`;
	const stop = poll(() => (ctx.alive() ? refresh() : false), REFRESH_MS);
	return () => {
		stop();
		statsPart.stop();
	};
}

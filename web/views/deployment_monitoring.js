// views/deployment_monitoring.js: a deployment's monitoring (#/deployments/NAME/monitoring):
// its reference (dataset version, rows, the declared task), drift by feature and time (a
// heatmap of PSI per window), the figures over the range with data quality (null rate, out
// of range, unseen categories, requests that fit no schema), the reference's and the live
// histogram of one feature overlaid, live quality over time (by the declared task), and the
// profile's features as inferred, which an editor corrects (types, the task) through PUT
// .../monitoring, and the monitors with their state and history of alerts; an editor changes
// a monitor's levels or pauses it (PATCH .../monitors/ID). Reads GET .../monitoring, GET
// .../drift and GET .../monitors; the range is chosen above.
import * as api from '../api.js';
import { canEdit, href } from './registry.js';
import { heatMap, overlayHistogram, timeChart, PALETTE } from '../chart.js';
import { h, mount, pageHeader, breadcrumb, facts, panel, table, time, emptyState, showError, select, field, form, fmtNum, badge } from '../ui.js';

const s = api.seg;
const RANGES = [
	['24h-1h', 'Last 24 hours, hourly', 86400e3, '1h'],
	['6h-5m', 'Last 6 hours, every 5 minutes', 6 * 3600e3, '5m'],
	['30d-1d', 'Last 30 days, daily', 30 * 86400e3, '1d'],
];
const TASKS = [
	['', 'not declared here (the model version\'s, if any)'],
	['binary_classification', 'binary classification'],
	['multiclass_classification', 'multiclass classification'],
	['regression', 'regression'],
];
const num = (v, digits = 3) => (v === null || v === undefined ? '—' : Number(v).toFixed(digits));
const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`);
// PSI bands as usually read: < 0.1 stable, < 0.25 moderate, beyond major.
const psiLevel = (v) => (v < 0.1 ? 0 : v < 0.25 ? 1 : v < 1 ? 2 : 3);

function reference(mon, dep) {
	const dv = mon.reference?.dataset_version;
	const st = mon.settings || {};
	return facts([
		['Reference', dv ? h('a', { href: href.datasetVersion(dep.project, dv.dataset, dv.version) }, `${dv.dataset} v${dv.version}`) : 'gone'],
		['Chosen', mon.reference?.source === 'lineage' ? 'from the model version\'s lineage (its training data)' : 'explicitly'],
		['Rows profiled', fmtNum(mon.profile?.rows ?? 0)],
		['Task', st.task ? st.task.replace(/_/g, ' ') + (st.positive_class ? ` (positive class ${st.positive_class})` : '') : h('span', { class: 'muted' }, 'not declared in the settings')],
		['Bins', `${st.bins} per numeric feature, up to ${st.max_categories} categories`],
		['Updated', time(mon.updated_at)],
	]);
}

function heat(drift, feats) {
	const wins = drift.windows || [];
	if (!wins.length) return emptyState('No live data in this range.', 'Calls are captured and counted once capture is on; choose a longer range.');
	const cols = wins.map((w) => w.start.slice(5, 16).replace('T', ' '));
	const values = feats.map((f) => wins.map((w) => w.features.find((x) => x.name === f.name)?.psi ?? null));
	return [
		heatMap({ rows: feats.map((f) => f.name + (f.prediction ? ' (prediction)' : '')), cols, values, label: 'PSI by feature and window', format: (v) => `PSI ${num(v)}`, level: psiLevel }),
		h(
			'p',
			{ class: 'muted note' },
			'Population stability index per window:',
			[['heat-0', '< 0.1 stable'], ['heat-1', '0.1–0.25 moderate'], ['heat-2', '0.25–1 major'], ['heat-3', '≥ 1 severe'], ['heat-none', 'no data']].map(([c, t]) => [
				h('span', { class: `legend-swatch swatch-${c}` }),
				t,
			]),
		),
	];
}

function totals(drift) {
	const t = drift.total;
	return [
		facts([
			['Requests', fmtNum(t.requests)],
			['Rows', fmtNum(t.rows)],
			['Requests that fit no schema', `${fmtNum(t.misfit)} (${pct(t.requests ? t.misfit / t.requests : null)})`],
		]),
		table({
			caption: 'Drift and data quality over the range',
			rowKey: (f) => f.name,
			rows: t.features,
			columns: [
				{ label: 'Feature', cell: (f) => (f.prediction ? [f.name, h('span', { class: 'muted' }, ' (prediction)')] : f.name) },
				{ label: 'Values', cell: (f) => fmtNum(f.count), class: 'num' },
				{ label: 'PSI', cell: (f) => num(f.psi), class: 'num' },
				{ label: 'JS distance', cell: (f) => num(f.js_distance), class: 'num' },
				{ label: 'KS / χ² p', cell: (f) => (f.ks !== undefined ? `KS ${num(f.ks)}` : `p ${num(f.chi2_p, 4)}`), class: 'num' },
				{ label: 'Null rate', cell: (f) => pct(f.null_rate), class: 'num' },
				{ label: 'Out of range / unseen', cell: (f) => pct(f.out_of_range_rate ?? f.unseen_rate), class: 'num' },
			],
		}),
	];
}

function binLabels(f) {
	if (f.type === 'categorical') return [...(f.categories || []), 'other'];
	const e = f.edges || [];
	if (!e.length) return ['all'];
	return [`≤ ${fmtNum(e[0])}`, ...e.slice(1).map((x, i) => `${fmtNum(e[i])}–${fmtNum(x)}`), `> ${fmtNum(e[e.length - 1])}`];
}

function histogram(profile, drift) {
	const feats = profile.features;
	const slot = h('div');
	const draw = (name) => {
		const f = feats.find((x) => x.name === name);
		const live = drift.total.features.find((x) => x.name === name)?.counts || [];
		const share = (c) => {
			const n = c.reduce((a, b) => a + b, 0);
			return c.map((v) => (n ? v / n : 0));
		};
		mount(
			slot,
			overlayHistogram({
				bins: binLabels(f),
				series: [
					{ name: 'reference', shares: share(f.counts), kind: 'reference' },
					{ name: 'live', shares: share(live), kind: 'live' },
				],
				label: `Histogram of ${name}: reference and live`,
			}),
			h('p', { class: 'muted note' }, h('span', { class: 'legend-swatch swatch-reference' }), `reference (${fmtNum(f.counts.reduce((a, b) => a + b, 0))} values)`, h('span', { class: 'legend-swatch swatch-live' }), `live (${fmtNum(live.reduce((a, b) => a + b, 0))} values in the range)`),
		);
	};
	const pick = select('feature', feats.map((f) => [f.name, f.name]), feats[0]?.name, { 'aria-label': 'Feature' });
	pick.addEventListener('change', () => draw(pick.value));
	draw(feats[0]?.name);
	return [field('Feature', pick), slot];
}

const QUALITY_FIGURES = {
	regression: [['rmse', 'RMSE'], ['mae', 'MAE'], ['r2', 'R²']],
	binary_classification: [['accuracy', 'Accuracy'], ['precision', 'Precision'], ['recall', 'Recall'], ['f1', 'F1']],
	multiclass_classification: [['accuracy', 'Accuracy'], ['precision', 'Precision (macro)'], ['recall', 'Recall (macro)'], ['f1', 'F1 (macro)']],
	none: [['accuracy', 'Accuracy'], ['rmse', 'RMSE'], ['mae', 'MAE'], ['r2', 'R²']],
};

function quality(q, charts) {
	const t = q.total;
	if (!t.labelled) return emptyState('No ground truth yet.', 'POST labels for prediction ids to /feedback: each is matched to its captured prediction.');
	const figs = QUALITY_FIGURES[q.task || 'none'];
	const chart = h('div', { class: 'chart', 'data-chart': 'quality' });
	charts.push(() =>
		timeChart(chart, {
			x: q.windows.map((w) => Date.parse(w.start) / 1000),
			series: figs.map(([k, label], i) => ({ label, values: q.windows.map((w) => w[k] ?? null), color: PALETTE[i] })),
			ticks: 'time',
		}),
	);
	return [
		facts([
			['Task', q.task ? `${q.task.replace(/_/g, ' ')} (declared in the ${q.task_source === 'settings' ? 'monitoring settings' : 'model version\'s signature'})` : 'not declared'],
			['Labelled predictions', fmtNum(t.labelled)],
			...figs.map(([k, label]) => [label, h('span', { 'data-quality': k }, num(t[k]))]),
		]),
		chart,
	];
}

// Monitors (branch monitors' API) with their state, and each one's latest changes of state.
const STATE_KIND = { ok: 'ok', warning: 'warn', alerting: 'err', no_data: 'muted' };
const stateOf = (st) => badge(st ? st.replace('_', ' ') : 'not checked', STATE_KIND[st] || 'muted');

// An editor's form for a monitor's levels (PATCH .../monitors/ID); the API's 400 marks its field.
function levelsForm(path, m, onSaved) {
	const level = (name, v) => h('input', { name, type: 'number', step: 'any', value: v === null || v === undefined ? '' : String(v) });
	return form({
		attrs: { 'aria-label': `Levels of ${m.name}` },
		className: 'form inline',
		submitLabel: 'Save levels',
		fields: [
			field('Warning', level('warning', m.spec.warning), 'Empty: none.'),
			field('Alerting', level('alerting', m.spec.alerting)),
			field('Checking', select('enabled', [['true', 'on'], ['false', 'paused']], m.spec.enabled === false ? 'false' : 'true')),
		],
		onSubmit: async (v) => {
			const n = (x) => (x === '' ? null : Number(x));
			onSaved(await api.patch(`${path}/monitors/${m.id}`, { warning: n(v.warning), alerting: n(v.alerting), enabled: v.enabled === 'true' }));
		},
	});
}

async function monitorsPart(path, editor, onSaved) {
	const list = await api.get(`${path}/monitors`, { limit: 50 });
	const mons = list.items || [];
	if (!mons.length) return emptyState('No monitors.', `POST /api/v1/deployments/…/monitors watches a figure (drift, data quality, live quality, errors, latency) and alerts past a threshold.`);
	const hist = await Promise.all(mons.map((m) => api.get(`${path}/monitors/${m.id}/history`, { limit: 10 }).then((r) => r.items || [])));
	const cmp = (sp) => (sp.direction === 'below' ? '≤' : '≥');
	return [
		table({
			caption: 'Monitors',
			rowKey: (m) => String(m.id),
			rows: mons,
			columns: [
				{ label: 'Monitor', cell: (m) => m.name },
				{ label: 'Watches', cell: (m) => `${m.spec.watch.replace(/_/g, ' ')}: ${m.spec.statistic}${m.spec.features?.length ? ` of ${m.spec.features.join(', ')}` : ''}` },
				{ label: 'Thresholds', cell: (m) => [m.spec.warning !== null && m.spec.warning !== undefined ? `warning ${cmp(m.spec)} ${m.spec.warning}, ` : '', `alerting ${cmp(m.spec)} ${m.spec.alerting}`] },
				{ label: 'State', cell: (m) => [stateOf(m.state), m.spec.enabled === false ? [' ', badge('paused', 'muted')] : null] },
				{ label: 'Value', cell: (m) => num(m.value), class: 'num' },
				{ label: 'Samples', cell: (m) => fmtNum(m.samples ?? 0), class: 'num' },
				{ label: 'Checked', cell: (m) => (m.checked_at ? time(m.checked_at, true) : '—') },
			],
		}),
		mons.map((m, i) =>
			h(
				'div',
				{ class: 'monitor-history', 'data-monitor': String(m.id) },
				editor ? levelsForm(path, m, onSaved) : null,
				h('h3', null, `History of ${m.name}`),
				hist[i].length
					? table({
							caption: `State changes of ${m.name}, newest first`,
							rowKey: (e) => String(e.alert_id),
							rows: hist[i],
							columns: [
								{ label: 'When', cell: (e) => time(e.at, true) },
								{ label: 'Change', cell: (e) => [stateOf(e.from), ' → ', stateOf(e.to)] },
								{ label: 'Value', cell: (e) => num(e.value), class: 'num' },
								{ label: 'Samples', cell: (e) => fmtNum(e.samples ?? 0), class: 'num' },
								{ label: 'Action', cell: (e) => (e.job_id ? h('a', { href: `#/jobs/${e.job_id}` }, `retraining job #${e.job_id}`) : e.action_error || '') },
							],
						})
					: h('p', { class: 'muted' }, 'No change of state yet.'),
			),
		),
	];
}

// The profile's features, for correction: each one's type, the task.
function correction(path, mon, onSaved) {
	const st = mon.settings || {};
	const feats = mon.profile.features.filter((f) => !f.prediction);
	const pred = mon.profile.features.find((f) => f.prediction);
	const rows = feats.map((f) =>
		h('tr', null, h('td', null, f.name), h('td', null, f.type === 'numeric' ? `${fmtNum(f.min)} … ${fmtNum(f.max)}, mean ${num(f.mean)}` : `${(f.categories || []).length} categories`), h('td', null, pct(f.null_rate)), h('td', null, select(`type:${f.name}`, [['numeric', 'numeric'], ['categorical', 'categorical']], f.type, { 'aria-label': `Type of ${f.name}` }))),
	);
	return form({
		attrs: { 'aria-label': 'Correct the features' },
		submitLabel: 'Save and rebuild the profile',
		fields: [
			h('table', { class: 'table' }, h('caption', null, 'Features as profiled (types inferred unless given)'), h('thead', null, h('tr', null, ['Feature', 'Reference', 'Null rate', 'Type'].map((t) => h('th', null, t)))), h('tbody', null, rows)),
			field('Task', select('task', TASKS, st.task || '')),
			field('Positive class', h('input', { name: 'positive_class', value: st.positive_class || '' }), 'Binary classification only; default "1".'),
		],
		onSubmit: async (v) => {
			const body = { features: feats.map((f) => ({ name: f.name, type: v[`type:${f.name}`] })), bins: st.bins, max_categories: st.max_categories };
			if (pred) body.prediction = { column: pred.name, type: pred.type };
			if (mon.reference?.source === 'explicit') body.reference = { dataset: mon.reference.dataset_version.dataset, version: mon.reference.dataset_version.version };
			if (v.task) body.task = v.task;
			if (v.positive_class) body.positive_class = v.positive_class;
			onSaved(await api.put(`${path}/monitoring`, body));
		},
	});
}

export async function render(root, ctx) {
	const path = `/deployments/${s(ctx.params.name)}`;
	const [dep, first] = await Promise.all([api.get(path), api.get(`${path}/monitoring`)]);
	const project = await api.get(`/projects/${s(dep.project)}`);
	const editor = canEdit(project);
	if (!ctx.alive()) return null;
	document.title = `Monitoring ${dep.name} · Deployments · Atrium`;
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const body = h('div');
	let cleanups = [];
	let current = first; // the monitoring as last read or saved
	const range = select('range', RANGES.map(([k, t]) => [k, t]), RANGES[0][0], { 'aria-label': 'Range' });

	async function draw(mon) {
		current = mon;
		cleanups.forEach((c) => c());
		cleanups = [];
		if (!mon.enabled || !mon.profile) {
			mount(body, panel('mon-reference', 'Reference', emptyState('Not monitored yet.', `PUT /api/v1/deployments/${dep.name}/monitoring names its reference (by default its model version's training data).`)));
			return;
		}
		const [, , width, win] = RANGES.find(([k]) => k === range.value);
		const to = new Date(Date.now() + 300e3);
		const drift = await api.get(`${path}/drift`, { window: win, from: new Date(to - width).toISOString().slice(0, 19) + 'Z', to: to.toISOString().slice(0, 19) + 'Z' });
		if (!ctx.alive()) return;
		const monitors = await monitorsPart(path, editor, () => draw(current).catch((e) => showError(errSlot, e))).catch((e) => h('p', { class: 'muted' }, `Monitors could not be read: ${e.message}`));
		if (!ctx.alive()) return;
		const charts = [];
		mount(
			body,
			panel('mon-reference', 'Reference', reference(mon, dep)),
			panel('mon-heatmap', 'Drift by feature and time', heat(drift, mon.profile.features)),
			panel('mon-totals', 'Drift and data quality over the range', totals(drift)),
			panel('mon-histogram', 'Reference and live histograms', histogram(mon.profile, drift)),
			panel('mon-quality', 'Live quality', quality(drift.quality, charts)),
			panel('mon-monitors', 'Monitors and alerts', monitors),
			editor ? panel('mon-features', 'Features and task', correction(path, mon, (fresh) => draw(fresh).catch((e) => showError(errSlot, e)))) : null,
		);
		cleanups = charts.map((c) => c());
	}
	range.addEventListener('change', () => draw(current).catch((e) => showError(errSlot, e)));
	mount(
		root,
		breadcrumb(['Deployments', '#/deployments'], [dep.name, `#/deployments/${s(dep.name)}`], ['Monitoring']),
		pageHeader(`Monitoring ${dep.name}`, h('span', null, 'Drift against the reference, data quality and live quality of ', h('a', { href: `#/deployments/${s(dep.name)}` }, dep.name), '.')),
		field('Range', range),
		errSlot,
		body,
	);
	await draw(first);
	return () => cleanups.forEach((c) => c());
}

// views/compare.js: runs side by side (#/projects/P/compare?runs=1,2,3, from the checkboxes
// of the Runs tab): their params in one table with the rows that differ marked, the last
// value of each metric with the best run's marked, and one chart per metric key with a curve
// per run under one shared legend. Every series comes in one call (GET
// /projects/P/metrics?runs=&keys=). x by step, time or time since the run's first point
// (`?x=step|time|relative`), a log scale (`?scale=log`), both kept in the address.
import * as api from '../api.js';
import { projectPage, href, stateBadge } from './registry.js';
import { keysOf, metricCell, MAX_COMPARE } from './runs.js';
import { metricFigure } from './metrics.js';
import { PALETTE } from '../chart.js';
import { h, mount, table, emptyState, panel, badge, field, select, fmtCompact } from '../ui.js';

// One call carries at most 20 keys (the API's limit): the first 20 metrics are charted.
const MAX_CHARTS = 20;
const MAX_POINTS = 500;
// Lower is better for these (a loss, an error, a time); higher for every other metric.
export const lowerIsBetter = (key) => /loss|err|mse|mae|rmse|perplexity|wer|cer|time|latency|nll/i.test(key);

// The run whose last value of key is best (undefined when none has it).
export function bestRun(runs, key) {
	const have = runs.filter((r) => typeof r.metrics?.[key] === 'number');
	if (!have.length) return undefined;
	const low = lowerIsBetter(key);
	return have.reduce((a, b) => ((low ? b.metrics[key] < a.metrics[key] : b.metrics[key] > a.metrics[key]) ? b : a));
}

const X_MODES = [
	['step', 'Step'],
	['time', 'Time (UTC)'],
	['relative', 'Time since the run started'],
];

const runLabel = (r) => `${r.name || 'run'} (#${r.id})`;

/*
 * A table with one row per key and one column per run: value(run, key) shown by cell(v);
 * with marks, rows whose values differ (a run lacking the key included) are marked.
 */
function sideBySide({ caption, runs, keys, value, cell, marks = false, cellClass }) {
	const differs = (k) => new Set(runs.map((r) => JSON.stringify(value(r, k) ?? null))).size > 1;
	return table({
		caption,
		rowKey: (k) => k,
		rows: keys,
		columns: [
			{ label: 'Name', cell: (k) => [h('code', null, k), marks && differs(k) ? [' ', badge('differs', 'warn')] : null] },
			...runs.map((r) => ({ label: runLabel(r), cell: (k) => cell(value(r, k)), class: cellClass })),
		],
		rowClass: marks ? (k) => (differs(k) ? 'differs' : null) : undefined,
	});
}

const paramCell = (v) => (v === undefined ? h('span', { class: 'muted' }, '—') : h('code', null, String(v)));

// Marks, in each metric's row, the cell of the run with the best last value.
function bestMarked(t, runs, keys) {
	for (const k of keys) {
		const best = bestRun(runs, k);
		const tr = [...t.tbody.rows].find((row) => row.dataset.key === k);
		if (!best || !tr) continue;
		const td = tr.cells[1 + runs.indexOf(best)];
		td.classList.add('best');
		td.firstChild.append(' ', badge('best', 'ok'));
		td.title = `best ${lowerIsBetter(k) ? '(lowest)' : '(highest)'} of these runs`;
	}
	return t;
}

// One legend for every chart: each run's colour and name.
const sharedLegend = (runs, colorOf) =>
	h(
		'ul',
		{ class: 'shared-legend', 'aria-label': 'Runs in the charts' },
		runs.map((r) => {
			const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
			sw.style.background = colorOf.get(r.id); // through the CSSOM: the CSP refuses style attributes
			return h('li', { dataset: { run: String(r.id) } }, sw, ' ', runLabel(r));
		}),
	);

// x by step, time or time since start; linear or log scale (in the address).
function chartControls(ctx, ids, xMode, log) {
	const x = select('x', X_MODES, xMode);
	const scale = select('scale', [['linear', 'Linear'], ['log', 'Logarithmic']], log ? 'log' : 'linear');
	const apply = () => ctx.setQuery({ runs: ids.join(','), x: x.value === 'step' ? '' : x.value, scale: scale.value === 'log' ? 'log' : '' });
	x.addEventListener('change', apply);
	scale.addEventListener('change', apply);
	return h('div', { class: 'controls chart-controls' }, field('X axis', x), field('Y scale', scale));
}

export async function render(root, ctx) {
	const ids = [...new Set((ctx.query.get('runs') || '').split(',').map((s) => s.trim()).filter((s) => /^\d+$/.test(s)))].slice(0, MAX_COMPARE);
	const { project, header } = await projectPage(ctx, 'runs', {
		title: 'Compare runs',
		crumbs: [['Runs', href.runs(ctx.params.project)], ['Compare']],
		intro: null,
	});
	if (ids.length < 2) {
		mount(root, header, emptyState('Pick two or more runs to compare.', h('span', null, 'Tick them in the ', h('a', { href: href.runs(project.name) }, 'runs list'), ', then choose "Compare selected".')));
		return null;
	}
	const xMode = X_MODES.some(([v]) => v === ctx.query.get('x')) ? ctx.query.get('x') : 'step';
	const log = ctx.query.get('scale') === 'log';
	const runs = await Promise.all(ids.map((id) => api.get(`/runs/${id}`)));
	const metricKeys = keysOf(runs, 'metrics');
	const charted = metricKeys.slice(0, MAX_CHARTS);
	// Every series of every run in one call.
	const answer = charted.length
		? await api.get(`/projects/${api.seg(project.name)}/metrics`, { runs: runs.map((r) => r.id).join(','), keys: charted.join(','), max_points: MAX_POINTS })
		: { series: [] };
	const bySeries = new Map(answer.series.map((s) => [`${s.run}\n${s.key}`, s]));
	const colorOf = new Map(runs.map((r, i) => [r.id, PALETTE[i % PALETTE.length]]));
	const xOf = (pts) => {
		if (xMode === 'step') return pts.steps;
		const t0 = pts.timestamps.length ? Math.min(...pts.timestamps) : 0;
		return pts.timestamps.map((t) => (xMode === 'time' ? t / 1000 : (t - t0) / 1000));
	};
	const xLabel = xMode === 'step' ? 'step' : xMode === 'time' ? 'time (UTC)' : 'seconds since start';
	const figures = charted.map((key) => {
		const have = runs.filter((r) => bySeries.has(`${r.id}\n${key}`));
		const best = bestRun(runs, key);
		const note = best ? `best: ${fmtCompact(best.metrics[key])} (${runLabel(best)}, ${lowerIsBetter(key) ? 'lowest' : 'highest'})` : '';
		return metricFigure(
			key,
			have.map((r) => {
				const pts = bySeries.get(`${r.id}\n${key}`);
				return { label: runLabel(r), x: xOf(pts), y: pts.values, color: colorOf.get(r.id) };
			}),
			note,
			{ xLabel, time: xMode === 'time', log, legend: false },
		);
	});
	if (!ctx.alive()) return null;
	const paramKeys = keysOf(runs, 'params');
	mount(
		root,
		header,
		panel(
			'compare-runs',
			'Runs',
			table({
				caption: 'Runs compared',
				rowKey: (r) => String(r.id),
				rows: runs,
				columns: [
					{ label: 'Run', cell: (r) => h('a', { href: href.run(project.name, r.id) }, runLabel(r)) },
					{ label: 'Status', cell: (r) => stateBadge(r.status) },
					{ label: 'Job', cell: (r) => (r.job_id ? h('a', { href: href.job(r.job_id) }, `#${r.job_id}`) : '') },
					{ label: 'By', cell: (r) => r.created_by || '' },
				],
			}),
		),
		panel(
			'compare-params',
			'Params',
			paramKeys.length
				? sideBySide({ caption: 'Params side by side', runs, keys: paramKeys, value: (r, k) => r.params?.[k], cell: paramCell, marks: true })
				: h('p', { class: 'muted' }, 'None of these runs has params.'),
		),
		panel(
			'compare-metrics',
			'Metrics: last values',
			metricKeys.length
				? bestMarked(sideBySide({ caption: 'Last value of each metric', runs, keys: metricKeys, value: (r, k) => r.metrics?.[k], cell: metricCell, cellClass: 'num' }), runs, metricKeys)
				: h('p', { class: 'muted' }, 'None of these runs logged metrics.'),
		),
		metricKeys.length
			? panel(
					'compare-charts',
					'Metrics over time',
					chartControls(ctx, ids, xMode, log),
					sharedLegend(runs, colorOf),
					metricKeys.length > charted.length ? h('p', { class: 'muted note' }, `The first ${charted.length} of ${metricKeys.length} metrics are charted.`) : null,
					h('div', { class: 'metric-grid' }, figures.map((f) => f.el)),
				)
			: null,
	);
	const cleanups = figures.map((f) => f.draw());
	return () => cleanups.forEach((c) => c());
}

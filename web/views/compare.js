// views/compare.js: runs side by side (#/projects/P/compare?runs=1,2,3, from the checkboxes
// of the Runs tab): their params in one table with the rows that differ marked, the last
// value of each metric with the best run's marked, and one chart per metric key with a curve
// per run under one shared legend. Every series comes in one call (GET
// /projects/P/metrics?runs=&keys=). x by step, time or time since the run's first point
// (`?x=step|time|relative`) or by each run's progress (`?x=progress`: its step over its last
// step, so runs of very different lengths lie over each other), a log scale (`?scale=log`),
// smoothing (`?smooth=0.6`: an exponential moving average, debiased as TensorBoard does; the
// points tables stay raw), all kept in the address. Then the params against the metrics: a
// parallel-coordinates chart (../parcoords.js, brushable) and a scatter of a param against a
// metric, the runs in their legend colours.
import * as api from '../api.js';
import { projectPage, href, stateBadge } from './registry.js';
import { keysOf, metricCell, MAX_COMPARE } from './runs.js';
import { metricFigure } from './metrics.js';
import { PALETTE } from '../chart.js';
import { parallelCoordinates, scatterPlot } from '../parcoords.js';
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
	['progress', 'Progress (step / last step)'],
];

// An exponential moving average with weight w (0: none) over values, debiased (the first
// points are not pulled towards 0); nulls stay nulls and do not move the average.
export function smooth(values, w) {
	if (!(w > 0)) return values;
	let acc = 0;
	let n = 0;
	return values.map((v) => {
		if (typeof v !== 'number' || !Number.isFinite(v)) return v;
		acc = acc * w + (1 - w) * v;
		n++;
		return acc / (1 - w ** n);
	});
}

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
function chartControls(ctx, ids, xMode, log, w) {
	const x = select('x', X_MODES, xMode);
	const scale = select('scale', [['linear', 'Linear'], ['log', 'Logarithmic']], log ? 'log' : 'linear');
	const sm = h('input', { type: 'range', name: 'smooth', min: 0, max: 0.99, step: 0.01, value: String(w) });
	const out = h('output', { for: 'smooth', class: 'smooth-value' }, w ? String(w) : 'off');
	const apply = () => ctx.setQuery({ runs: ids.join(','), x: x.value === 'step' ? '' : x.value, scale: scale.value === 'log' ? 'log' : '', smooth: Number(sm.value) > 0 ? sm.value : '' });
	x.addEventListener('change', apply);
	scale.addEventListener('change', apply);
	sm.addEventListener('input', () => {
		out.textContent = Number(sm.value) > 0 ? sm.value : 'off';
	});
	sm.addEventListener('change', apply);
	return h('div', { class: 'controls chart-controls' }, field('X axis', x), field('Y scale', scale), field('Smoothing', h('span', { class: 'smooth' }, sm, ' ', out)));
}

// The params that differ between the runs (a sweep's knobs), in key order.
const differingParams = (runs, keys) => keys.filter((k) => new Set(runs.map((r) => JSON.stringify(r.params?.[k] ?? null))).size > 1);

/*
 * Params against metrics: a parallel-coordinates chart (the params that differ, then the
 * chosen metric's last value) and a scatter of one param against that metric. The selects
 * redraw the two charts in place.
 */
function paramsVsMetrics(runs, paramKeys, metricKeys, colorOf) {
	const differ = differingParams(runs, paramKeys);
	const pk = differ.length ? differ : paramKeys;
	if (!pk.length || !metricKeys.length) return h('p', { class: 'muted' }, 'These runs need params and metrics for these charts.');
	const num = (v) => (typeof v === 'number' ? v : v === undefined || v === null ? undefined : Number.isFinite(Number(v)) && String(v).trim() !== '' ? Number(v) : v);
	const metricSel = select('pc-metric', metricKeys.map((k) => [k, k]), metricKeys[0]);
	const paramSel = select('sc-param', pk.map((k) => [k, k]), pk[0]);
	const pcBox = h('div', { class: 'chart-svg pc-box' });
	const scBox = h('div', { class: 'chart-svg sc-box' });
	const kept = h('p', { class: 'muted pc-kept', 'aria-live': 'polite' });
	const title = (r) => `${runLabel(r)}\n${pk.map((k) => `${k} = ${r.params?.[k] ?? '—'}`).join('\n')}\n${metricSel.value} = ${fmtCompact(r.metrics?.[metricSel.value]) || '—'}`;
	const draw = () => {
		const m = metricSel.value;
		const axes = [...pk.map((k) => ({ label: k, value: (r) => num(r.params?.[k]) })), { label: m, value: (r) => r.metrics?.[m] }];
		kept.textContent = `${runs.length} of ${runs.length} runs kept: drag along an axis to keep a range, click it to clear.`;
		pcBox.replaceChildren(
			parallelCoordinates({
				rows: runs,
				axes,
				key: (r) => String(r.id),
				color: (r) => colorOf.get(r.id),
				title,
				label: `Params of ${runs.length} runs against ${m}`,
				onFilter: (rows) => {
					kept.textContent = `${rows.length} of ${runs.length} runs kept: ${rows.map(runLabel).join(', ') || 'none'}.`;
				},
			}),
		);
		const p = paramSel.value;
		scBox.replaceChildren(
			scatterPlot({
				points: runs.map((r) => ({ x: num(r.params?.[p]), y: r.metrics?.[m], key: String(r.id), color: colorOf.get(r.id), title: `${runLabel(r)}: ${p} = ${r.params?.[p] ?? '—'}, ${m} = ${fmtCompact(r.metrics?.[m])}` })),
				xLabel: p,
				yLabel: m,
			}),
		);
	};
	metricSel.addEventListener('change', draw);
	paramSel.addEventListener('change', draw);
	draw();
	return h(
		'div',
		null,
		h('div', { class: 'controls' }, field('Metric', metricSel), field('Param (scatter)', paramSel)),
		h('div', { class: 'pv-charts' }, h('figure', { class: 'pc' }, h('figcaption', null, 'Parallel coordinates'), pcBox, kept), h('figure', { class: 'sc' }, h('figcaption', null, 'Param against metric'), scBox)),
	);
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
	const w = Math.min(0.99, Math.max(0, Number(ctx.query.get('smooth')) || 0));
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
		if (xMode === 'progress') {
			const lastStep = pts.steps.length ? Math.max(...pts.steps) : 0;
			return pts.steps.map((s) => (lastStep > 0 ? s / lastStep : 0));
		}
		const t0 = pts.timestamps.length ? Math.min(...pts.timestamps) : 0;
		return pts.timestamps.map((t) => (xMode === 'time' ? t / 1000 : (t - t0) / 1000));
	};
	const xLabel = { step: 'step', time: 'time (UTC)', relative: 'seconds since start', progress: 'progress' }[xMode];
	const figures = charted.map((key) => {
		const have = runs.filter((r) => bySeries.has(`${r.id}\n${key}`));
		const best = bestRun(runs, key);
		const note = best ? `best: ${fmtCompact(best.metrics[key])} (${runLabel(best)}, ${lowerIsBetter(key) ? 'lowest' : 'highest'})` : '';
		return metricFigure(
			key,
			have.map((r) => {
				const pts = bySeries.get(`${r.id}\n${key}`);
				return { label: runLabel(r), x: xOf(pts), y: smooth(pts.values, w), raw: pts.values, color: colorOf.get(r.id) };
			}),
			w ? `${note}${note ? '; ' : ''}smoothed (EMA ${w})` : note,
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
					chartControls(ctx, ids, xMode, log, w),
					sharedLegend(runs, colorOf),
					metricKeys.length > charted.length ? h('p', { class: 'muted note' }, `The first ${charted.length} of ${metricKeys.length} metrics are charted.`) : null,
					h('div', { class: 'metric-grid' }, figures.map((f) => f.el)),
				)
			: null,
		panel('compare-pv', 'Params against metrics', paramsVsMetrics(runs, paramKeys, metricKeys, colorOf)),
	);
	const cleanups = figures.map((f) => f.draw());
	return () => cleanups.forEach((c) => c());
}

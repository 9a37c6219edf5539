// views/compare.js: runs side by side (#/projects/P/compare?runs=1,2,3, from the checkboxes
// of the Runs tab): their params in one table with the rows that differ marked, the last
// value of each metric, and one chart per metric key with a curve per run.
import * as api from '../api.js';
import { projectPage, href, stateBadge } from './registry.js';
import { keysOf, metricCell, MAX_COMPARE } from './runs.js';
import { metricPoints, metricFigure, MAX_CHARTS } from './metrics.js';
import { PALETTE } from '../chart.js';
import { h, mount, table, emptyState, panel, badge } from '../ui.js';

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
	const runs = await Promise.all(ids.map((id) => api.get(`/runs/${id}`)));
	const metricKeys = keysOf(runs, 'metrics');
	const charted = metricKeys.slice(0, MAX_CHARTS);
	// One call per (key, run that has it); the curves of a key share its chart.
	const figures = await Promise.all(
		charted.map(async (key) => {
			// Each run keeps its colour in every chart.
			const have = runs.map((r, i) => ({ r, color: PALETTE[i % PALETTE.length] })).filter(({ r }) => r.metrics && key in r.metrics);
			const pts = await Promise.all(have.map(({ r }) => metricPoints(r.id, key)));
			return metricFigure(
				key,
				have.map(({ r, color }, i) => ({ label: runLabel(r), x: pts[i].steps, y: pts[i].values, color })),
			);
		}),
	);
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
				? sideBySide({ caption: 'Last value of each metric', runs, keys: metricKeys, value: (r, k) => r.metrics?.[k], cell: metricCell, cellClass: 'num' })
				: h('p', { class: 'muted' }, 'None of these runs logged metrics.'),
		),
		metricKeys.length
			? panel(
					'compare-charts',
					'Metrics by step',
					metricKeys.length > charted.length ? h('p', { class: 'muted note' }, `The first ${charted.length} of ${metricKeys.length} metrics are charted.`) : null,
					h('div', { class: 'metric-grid' }, figures.map((f) => f.el)),
				)
			: null,
	);
	const cleanups = figures.map((f) => f.draw());
	return () => cleanups.forEach((c) => c());
}

// views/metrics.js: what the run page and the run comparison share (not a route): reading a
// run's metrics (GET /runs/{id}/metrics, then /metrics/{key}?max_points=1000 for each key,
// '/' in a key percent-encoded) and drawing one chart per key (stepChart on uPlot), each with
// its points as a table for those who cannot see the chart.
import * as api from '../api.js';
import { stepChart, joinSeries, PALETTE } from '../chart.js';
import { h, table, fmtNum, nextId } from '../ui.js';

export const MAX_POINTS = 1000;
// Charts drawn on one page at most (each key is one call and one canvas).
export const MAX_CHARTS = 24;

// The run's metric summaries: [{key, last, last_step, min, max, count, updated_at}].
export const metricSummaries = (runId) => api.listAll(`/runs/${runId}/metrics`, {}, 1000);

// One metric's points: {key, count, returned, downsampled, steps, values, timestamps}.
export const metricPoints = (runId, key) => api.get(`/runs/${runId}/metrics/${api.seg(key)}`, { max_points: MAX_POINTS });

/*
 * A chart of one metric key: series [{label, x, y, raw, color}] (one per run; colour optional; raw: the
 * points before smoothing, for the table). Returns {el, draw}: el is
 * the figure (title, chart, "Points as a table"), draw() draws the chart once el is on the
 * page (uPlot needs its width) and returns its cleanup.
 */
export function metricFigure(key, series, note, chart = {}) {
	const id = nextId('metric');
	const xLabel = chart.xLabel || 'step';
	const box = h('div', { class: 'chart metric-chart', role: 'img', 'aria-label': `${key}: ${series.map((s) => s.label).join(', ')} by ${xLabel}` });
	const points = h('details', { class: 'figures' }, h('summary', null, 'Points as a table'));
	points.addEventListener(
		'toggle',
		() => {
			const [steps, ...ys] = joinSeries(series.map((s) => [s.x, s.raw || s.y])); // raw: the points before smoothing
			points.append(
				table({
					caption: `Points of ${key}`,
					columns: [
						{ label: xLabel.charAt(0).toUpperCase() + xLabel.slice(1), cell: (i) => String(steps[i]), class: 'num' },
						...series.map((s, k) => ({ label: series.length > 1 ? s.label : 'Value', cell: (i) => fmtNum(ys[k][i]), class: 'num' })),
					],
					rows: steps.map((_, i) => i),
				}),
			);
		},
		{ once: true },
	);
	const el = h(
		'figure',
		{ class: 'metric', dataset: { key }, 'aria-labelledby': id },
		h('figcaption', { id }, h('code', null, key), note ? h('span', { class: 'muted' }, ` ${note}`) : null),
		box,
		points,
	);
	return { el, draw: () => stepChart(box, { ...chart, xLabel, series: series.map((s, i) => ({ ...s, color: s.color || PALETTE[i % PALETTE.length] })) }) };
}

// '(1,000 of 250,000 points)' when the API downsampled a series.
export const sampledNote = (pts) => (pts.downsampled ? `(${pts.returned.toLocaleString('en')} of ${pts.count.toLocaleString('en')} points)` : '');

// The summaries as a table: key, last (at step), min, max, points.
export function summaryTable(caption, rows) {
	return table({
		caption,
		rowKey: (m) => m.key,
		rows,
		columns: [
			{ label: 'Metric', cell: (m) => h('code', null, m.key) },
			{ label: 'Last', cell: (m) => fmtNum(m.last), class: 'num' },
			{ label: 'At step', cell: (m) => String(m.last_step), class: 'num' },
			{ label: 'Min', cell: (m) => fmtNum(m.min), class: 'num' },
			{ label: 'Max', cell: (m) => fmtNum(m.max), class: 'num' },
			{ label: 'Points', cell: (m) => m.count.toLocaleString('en'), class: 'num' },
		],
	});
}

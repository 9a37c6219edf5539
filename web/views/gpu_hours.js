// views/gpu_hours.js: GPU time over time, from the series of GET /api/v1/admin/stats (admins):
// each bucket's `gpu_hours_by_team` and `gpu_hours_by_worker`. A line per team (the overview,
// the teams page; the busiest teams, the rest summed as "other teams") or one worker's
// GPU-hours per bucket with its use of what it could have given (the worker page), each chart
// with its figures as a table. Not a route.
import * as api from '../api.js';
import { timeChart, PALETTE } from '../chart.js';
import { h, table, fmtTime } from '../ui.js';

// GPU-hours: two significant digits under 0.1 (short test jobs), two decimals under 10, one
// under 100, none above.
export function fmtHours(v) {
	if (typeof v !== 'number') return v;
	if (v === 0) return '0';
	if (v < 0.1) return String(Number(v.toPrecision(2)));
	return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);
}

// Teams drawn as their own line; the others are summed in one.
export const TOP_TEAMS = 6;
export const NO_TEAM = '(no team)';
export const OTHERS = 'other teams';

const teamName = (r) => r.team ?? NO_TEAM;
const bucketDay = (b) => fmtTime(b.bucket_start).slice(0, 10);

/*
 * The series per team: {names, rows} where names are the TOP_TEAMS teams with the most hours
 * over the whole range (most first), OTHERS last when more teams had some, and rows one per
 * bucket: {bucket_start, total, hours: Map(name -> hours)}. only: keep that team alone.
 */
export function teamSeries(series, only) {
	const sum = new Map();
	for (const b of series) for (const r of b.gpu_hours_by_team || []) sum.set(teamName(r), (sum.get(teamName(r)) || 0) + r.hours);
	let names = [...sum.keys()].sort((a, b) => sum.get(b) - sum.get(a) || a.localeCompare(b));
	if (only !== undefined) names = [only];
	const top = names.slice(0, TOP_TEAMS);
	const rest = names.length > TOP_TEAMS;
	const rows = series.map((b) => {
		const hours = new Map(top.map((t) => [t, 0]));
		if (rest) hours.set(OTHERS, 0);
		for (const r of b.gpu_hours_by_team || []) {
			const t = teamName(r);
			if (hours.has(t) && t !== OTHERS) hours.set(t, hours.get(t) + r.hours);
			else if (rest && !top.includes(t)) hours.set(OTHERS, hours.get(OTHERS) + r.hours);
		}
		return { bucket_start: b.bucket_start, total: b.gpu_hours ?? 0, hours };
	});
	return { names: rest ? [...top, OTHERS] : top, rows };
}

function figures(caption, columns, rows) {
	const d = h('details', { class: 'figures' }, h('summary', null, 'Figures as a table'));
	d.append(table({ caption, rowKey: (r) => r.bucket_start.slice(0, 10), columns, rows: [...rows].reverse() }));
	return d;
}

/*
 * GPU-hours per team over time, from stats (the /admin/stats answer): a panel with the chart
 * and its table. only: one team's line (its page). Returns {section, draw}; draw() once the
 * section is on the page (uPlot needs its width), it returns the chart's cleanup.
 */
export function teamHoursPanel(stats, { id = 'gpu-series-title', only } = {}) {
	const per = stats.bucket === 'day' ? 'day' : 'week';
	if (!stats.series.length || stats.series[0].gpu_hours_by_team === undefined) return { section: null, draw: () => null };
	const { names, rows } = teamSeries(stats.series, only);
	const box = h('div', { class: 'chart', role: 'img', 'aria-label': `GPU-hours per ${per} of ${names.join(', ') || 'no team'}` });
	const section = h(
		'section',
		{ class: 'panel', 'aria-labelledby': id, dataset: { panel: 'gpu_series' } },
		h('h2', { id }, `GPU-hours per ${per}${only !== undefined ? '' : ' by team'}`),
		names.length ? box : h('p', { class: 'muted' }, `No GPU time used since ${bucketDay(stats.series[0])}.`),
		names.length
			? figures(
					`GPU-hours per ${per}`,
					[
						{ label: `${per === 'day' ? 'Day' : 'Week'} starting`, cell: bucketDay },
						...names.map((t) => ({ label: t, cell: (r) => h('span', { title: String(r.hours.get(t)) }, fmtHours(r.hours.get(t))), class: 'num' })),
						...(only === undefined ? [{ label: 'All', cell: (r) => fmtHours(r.total), class: 'num' }] : []),
					],
					rows,
				)
			: null,
	);
	const draw = () =>
		names.length
			? timeChart(box, {
					x: rows.map((r) => Date.parse(r.bucket_start) / 1000),
					series: names.map((t, i) => ({ label: t, color: PALETTE[i % PALETTE.length], scale: 'left', axisLabel: i ? '' : 'GPU-hours', values: rows.map((r) => r.hours.get(t)) })),
				})
			: null;
	return { section, draw };
}

/*
 * One worker's GPU-hours per bucket (stats.series[].gpu_hours_by_worker) and its use: the
 * hours over what its GPUs could have given in the bucket (gpus x the bucket's hours; up to
 * now for the current bucket). Returns {section, draw} as teamHoursPanel.
 */
export function workerHoursPanel(stats, worker, gpus) {
	const per = stats.bucket === 'day' ? 'day' : 'week';
	const width = per === 'day' ? 24 : 24 * 7;
	const until = Date.parse(stats.until);
	const rows = stats.series.map((b) => {
		const hours = (b.gpu_hours_by_worker || []).find((r) => r.worker === worker)?.hours ?? 0;
		const start = Date.parse(b.bucket_start);
		const span = Math.min(width, Math.max(0, (until - start) / 3600e3));
		const use = gpus && span ? Math.min(100, (100 * hours) / (gpus * span)) : 0;
		return { bucket_start: b.bucket_start, hours, use };
	});
	const box = h('div', { class: 'chart', role: 'img', 'aria-label': `GPU-hours and use per ${per} of this worker` });
	const section = h(
		'section',
		{ class: 'panel', 'aria-labelledby': 'worker-gpu-series', dataset: { panel: 'worker_gpu_series' } },
		h('h2', { id: 'worker-gpu-series' }, `GPU use per ${per}`),
		box,
		figures(
			`GPU-hours and use per ${per}`,
			[
				{ label: `${per === 'day' ? 'Day' : 'Week'} starting`, cell: bucketDay },
				{ label: 'GPU-hours', cell: (r) => h('span', { title: String(r.hours) }, fmtHours(r.hours)), class: 'num' },
				{ label: 'Use', cell: (r) => (gpus ? `${r.use.toFixed(r.use && r.use < 1 ? 2 : 0)} %` : '—'), class: 'num' },
			],
			rows,
		),
	);
	const draw = () =>
		timeChart(box, {
			x: rows.map((r) => Date.parse(r.bucket_start) / 1000),
			series: [
				{ label: 'GPU-hours', color: PALETTE[0], scale: 'left', values: rows.map((r) => r.hours) },
				...(gpus ? [{ label: 'Use (%)', color: PALETTE[1], scale: 'right', values: rows.map((r) => Math.round(r.use * 100) / 100) }] : []),
			],
		});
	return { section, draw };
}

// The stats of the last `days` days by day (admins only: /admin/stats).
export const dailyStats = (days = 28) => api.get('/admin/stats', { bucket: 'day', since: new Date(Date.now() - days * 86400e3).toISOString() });

// views/deployment_stats.js: a deployment's gateway figures on its page, from GET
// /deployments/{name}/stats: totals since the daemon started (requests, errors, in flight,
// latency percentiles), the rate over the last minute, two charts over the last 30 minutes
// (requests and errors per second; latency p50 / p90 / p99) from its 10-second `series`,
// each with its figures as a table, and the figures of each version (stable and canary side
// by side). statsView(d) gives {el, update(stats), drawCharts(), stop()}: the page calls
// update with every refresh; charts are drawn once the element is on the page, and again
// only when the series changed.
import { timeChart } from '../chart.js';
import { version } from './registry.js';
import { h, mount, table, fmtTime, emptyState, snippet } from '../ui.js';

// '0.42 ms', '12.5 ms', '230 ms'
export function fmtMs(v) {
	if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
	return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v)} ms`;
}
const pct = (part, whole) => (whole ? `${((100 * part) / whole).toFixed(part && part < whole / 100 ? 2 : 1)} %` : '0 %');
const rate = (n, seconds) => (seconds ? (n / seconds).toFixed(n / seconds < 10 ? 2 : 1) : '0');

function card(key, label, figure, detail) {
	return h(
		'section',
		{ class: 'card', dataset: { stat: key }, 'aria-labelledby': `dep-card-${key}` },
		h('h2', { id: `dep-card-${key}` }, label),
		h('p', { class: 'figure' }, figure),
		h('p', { class: 'detail' }, detail),
	);
}

// The last minute of the series: requests and their rate per second.
function lastMinute(series) {
	const items = series?.items || [];
	const per = series?.bucket_s || 10;
	const recent = items.slice(-Math.ceil(60 / per));
	const n = recent.reduce((a, b) => a + b.requests, 0);
	return { n, perSecond: rate(n, recent.length * per) };
}

function cards(st) {
	const m = lastMinute(st.series);
	const l = st.latency_ms || {};
	return h(
		'div',
		{ class: 'cards' },
		card('requests', 'Requests', st.requests.toLocaleString('en'), `since ${fmtTime(st.since)}`),
		card('rate', 'Last minute', `${m.perSecond}/s`, `${m.n.toLocaleString('en')} requests`),
		card('errors', 'Errors', st.errors.toLocaleString('en'), `${pct(st.errors, st.requests)} of requests (5xx)`),
		card('in_flight', 'In flight', String(st.in_flight), 'waiting for a replica now'),
		card('p50', 'Latency p50', fmtMs(l.p50), `mean ${fmtMs(l.mean)}`),
		card('p99', 'Latency p99', fmtMs(l.p99), `p90 ${fmtMs(l.p90)}`),
	);
}

function versionsTable(st) {
	const rows = [...(st.versions || [])].sort((a, b) => (a.version ?? 0) - (b.version ?? 0));
	return table({
		caption: 'Requests by version',
		rowKey: (v) => String(v.version ?? 'none'),
		rows,
		columns: [
			{ label: 'Version', cell: (v) => (v.version === null ? h('span', { class: 'muted', title: 'calls no replica could take' }, 'none ready') : version(v.version)) },
			{ label: 'Requests', cell: (v) => v.requests.toLocaleString('en'), class: 'num' },
			{ label: 'Errors', cell: (v) => v.errors.toLocaleString('en'), class: 'num' },
			{ label: 'Error rate', cell: (v) => pct(v.errors, v.requests), class: 'num' },
			{ label: 'In flight', cell: (v) => String(v.in_flight), class: 'num' },
			{ label: 'Mean', cell: (v) => fmtMs(v.latency_ms.mean), class: 'num' },
			{ label: 'p50', cell: (v) => fmtMs(v.latency_ms.p50), class: 'num' },
			{ label: 'p90', cell: (v) => fmtMs(v.latency_ms.p90), class: 'num' },
			{ label: 'p99', cell: (v) => fmtMs(v.latency_ms.p99), class: 'num' },
		],
	});
}

// The series' buckets that had calls, newest first, as a table (what the charts show).
function seriesTable(series) {
	const per = series.bucket_s;
	const rows = series.items.filter((b) => b.requests > 0).reverse();
	if (!rows.length) return h('p', { class: 'muted' }, 'No calls in the last 30 minutes.');
	return table({
		caption: `Requests per ${per} s`,
		rowKey: (b) => b.start,
		rows,
		columns: [
			{ label: `${per} s from (UTC)`, cell: (b) => b.start.slice(11, 19) },
			{ label: 'Requests', cell: (b) => String(b.requests), class: 'num' },
			{ label: 'Per second', cell: (b) => rate(b.requests, per), class: 'num' },
			{ label: 'Errors', cell: (b) => String(b.errors), class: 'num' },
			{ label: 'p50', cell: (b) => fmtMs(b.latency_ms?.p50), class: 'num' },
			{ label: 'p99', cell: (b) => fmtMs(b.latency_ms?.p99), class: 'num' },
		],
	});
}

const chartBox = (label) => h('div', { class: 'chart dep-chart', role: 'img', 'aria-label': label });

function calls(d) {
	return emptyState(
		'No requests since the daemon started.',
		'Call it through the gateway and the figures and charts appear here (they restart at zero when the daemon restarts):',
		snippet(`curl -X POST ${location.origin}${d.endpoints.predict} -H "Authorization: Bearer $TOKEN" -d '{"instances": [[1, 2]]}'`, 'the predict call'),
	);
}

export function statsView(d) {
	const summary = h('div');
	const rateBox = chartBox(`Requests and errors per second of ${d.name} over the last 30 minutes`);
	const latencyBox = chartBox(`Latency p50, p90 and p99 of ${d.name} over the last 30 minutes`);
	const figures = h('div');
	const byVersion = h('div');
	const charts = h(
		'div',
		{ class: 'split dep-charts' },
		h('figure', { class: 'metric', dataset: { chart: 'rate' } }, h('figcaption', null, 'Requests per second'), rateBox),
		h('figure', { class: 'metric', dataset: { chart: 'latency' } }, h('figcaption', null, 'Latency (ms)'), latencyBox),
	);
	const chartsPart = h('div', null, charts, h('details', { class: 'figures' }, h('summary', null, 'Figures as a table'), figures));
	const body = h('div');
	const el = h('div', { class: 'dep-stats' }, summary, body);
	let st = null;
	let drawn = null; // the series the charts show (JSON)
	let mounted = false;
	let cleanups = [];

	const clearCharts = () => {
		cleanups.forEach((c) => c());
		cleanups = [];
		drawn = null;
	};
	function draw() {
		if (!mounted || !st || !st.requests) return;
		const key = JSON.stringify(st.series);
		if (key === drawn) return;
		clearCharts();
		drawn = key;
		const items = st.series.items;
		const per = st.series.bucket_s;
		const x = items.map((b) => Date.parse(b.start) / 1000);
		// latency only where there were calls: points, so that a lone bucket shows too
		const lat = (q) => items.map((b) => (b.latency_ms ? Number(b.latency_ms[q].toFixed(3)) : null));
		rateBox.replaceChildren();
		latencyBox.replaceChildren();
		cleanups.push(
			timeChart(rateBox, {
				x,
				ticks: 'time',
				height: 220,
				series: [
					{ label: 'Requests/s', values: items.map((b) => b.requests / per), color: '#2563eb', scale: 'left', axisLabel: 'per second', points: false },
					{ label: 'Errors/s', values: items.map((b) => b.errors / per), color: '#dc2626', scale: 'left', axisLabel: '', points: false },
				],
			}),
			timeChart(latencyBox, {
				x,
				ticks: 'time',
				height: 220,
				series: [
					{ label: 'p50', values: lat('p50'), color: '#16a34a', scale: 'left', axisLabel: 'ms', spanGaps: false },
					{ label: 'p90', values: lat('p90'), color: '#d97706', scale: 'left', axisLabel: '', spanGaps: false },
					{ label: 'p99', values: lat('p99'), color: '#9333ea', scale: 'left', axisLabel: '', spanGaps: false },
				],
			}),
		);
		mount(figures, seriesTable(st.series));
	}

	return {
		el,
		update(stats) {
			const had = st && st.requests > 0;
			st = stats;
			mount(summary, cards(st));
			if (!st.requests) {
				if (had || !body.firstChild) mount(body, calls(d));
				clearCharts();
				return;
			}
			if (!had) mount(body, chartsPart, h('h3', null, 'By version'), byVersion);
			mount(byVersion, versionsTable(st));
			draw();
		},
		drawCharts() {
			mounted = true;
			draw();
		},
		stop: clearCharts,
	};
}

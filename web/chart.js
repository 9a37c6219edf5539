// chart.js: charts. Time series and metric curves on the vendored uPlot (web/vendor/uplot,
// MIT): buckets are UTC, so the time axis is drawn in UTC too. Bar charts are plain SVG (no
// canvas: their text stays text). The uPlot charts return a cleanup function (stops
// resizing, frees).
import uPlot from './vendor/uplot/uPlot.esm.js';

// Colours for series that have no colour of their own (runs in a comparison), in order.
export const PALETTE = ['#2563eb', '#d97706', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#4b5563', '#db2777', '#65a30d', '#7c3aed'];

// A uPlot chart in container that follows the container's width; returns its cleanup.
function plot(container, opts, data) {
	const width = () => Math.max(240, Math.floor(container.clientWidth));
	const u = new uPlot({ ...opts, width: width() }, data, container);
	const ro = new ResizeObserver(() => {
		if (width() !== u.width) u.setSize({ width: width(), height: opts.height });
	});
	ro.observe(container);
	return () => {
		ro.disconnect();
		u.destroy();
	};
}

const line = (s, color) => ({
	label: s.label,
	scale: s.scale || 'left',
	stroke: color,
	width: 2,
	spanGaps: s.spanGaps ?? true,
	points: { show: s.points ?? true, size: 6, fill: color },
});

// Tick labels of a time axis: days ('27 Nov') or times of day ('14:05:30', UTC).
const TICKS = {
	day: new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' }),
	time: new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }),
};

/*
 * timeChart(container, {x, series, height, ticks}):
 *   x       bucket starts, in seconds since the epoch
 *   series  [{label, values, color, scale: 'left' | 'right', axisLabel, points, spanGaps}]
 *   ticks   'day' (default: '27 Nov') or 'time' ('14:05:30' UTC, for buckets of seconds)
 * Series on the left scale share the left axis; those on the right, the right one (drawn
 * only when a series uses it). A null value is no figure for that bucket: the line joins
 * across it unless the series says spanGaps: false.
 */
export function timeChart(container, { x, series, height = 260, ticks = 'day' }) {
	const fromZero = (u, min, max) => [0, Math.max(1, Math.ceil(max * 1.1))];
	const axisLabel = (side) =>
		series
			.filter((s) => s.scale === side)
			.map((s) => s.axisLabel ?? s.label)
			.filter(Boolean)
			.join(', ');
	// Ticks on the buckets themselves (uPlot's own would not fall on Mondays), thinned to fit.
	const fmt = TICKS[ticks] || TICKS.day;
	const splits = (u) => {
		const room = Math.max(2, Math.floor(u.bbox.width / (window.devicePixelRatio || 1) / 64));
		const every = Math.ceil(x.length / room);
		return x.filter((_, i) => (x.length - 1 - i) % every === 0);
	};
	const opts = {
		height,
		tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
		scales: { x: { time: true }, left: { range: fromZero }, right: { range: fromZero } },
		axes: [
			{ splits, values: (u, at) => at.map((t) => fmt.format(new Date(t * 1000))) },
			{ scale: 'left', label: axisLabel('left'), size: 50 },
			series.some((s) => s.scale === 'right') ? { scale: 'right', side: 1, label: axisLabel('right'), grid: { show: false }, size: 60 } : null,
		].filter(Boolean),
		series: [{ label: ticks === 'time' ? 'Time (UTC)' : 'Period starting' }, ...series.map((s) => line(s, s.color))],
		cursor: { drag: { x: false, y: false } },
		legend: { live: false },
	};
	return plot(container, opts, [x, ...series.map((s) => s.values)]);
}

// Series [[x, y], ...] joined on the union of their x values: [x, y1, y2, ...] with nulls
// where a series has no point (what uPlot draws, and what a table of the points shows).
export const joinSeries = (pairs) => uPlot.join(pairs);

/*
 * stepChart(container, {series, xLabel, height, time, log, legend}): curves over a numeric x
 * (a metric's steps, or seconds). series: [{label, x, y, color}], each with its own x; they
 * are joined on the union of their x values (a series lacking a step has a gap there, drawn
 * across). time: x is seconds since the epoch (a UTC time axis); log: a log10 y scale
 * (values <= 0 are left out); legend: false when the page shows one legend for all charts.
 */
export function stepChart(container, { series, xLabel = 'step', height = 240, time = false, log = false, legend = true }) {
	const data = joinSeries(series.map((s) => [s.x, log ? s.y.map((v) => (v > 0 ? v : null)) : s.y]));
	const many = data[0].length > 60;
	const opts = {
		height,
		scales: { x: { time }, left: log ? { distr: 3 } : {} },
		axes: [{ label: xLabel }, { scale: 'left', size: 60 }],
		series: [{ label: xLabel }, ...series.map((s, i) => line({ ...s, points: !many }, s.color || PALETTE[i % PALETTE.length]))],
		cursor: { drag: { x: true, y: false } },
		legend: { show: legend, live: true },
	};
	if (time) opts.tzDate = (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');
	return plot(container, opts, data);
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
	const el = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
	if (text !== undefined) el.textContent = text;
	return el;
}

/*
 * barChart({items, label, format}) -> an <svg>: one horizontal bar per item
 * ({label, value, kind}), scaled to the largest, its figure (format(value)) at its end.
 * label names the chart for screen readers; kind adds a class (bar-ok, bar-err, ...).
 */
export function barChart({ items, label, format = String }) {
	const rowH = 26;
	const labelW = 150;
	const barW = 300;
	const width = labelW + barW + 90;
	const max = Math.max(...items.map((i) => i.value), 0) || 1;
	const root = svg('svg', { class: 'bars', viewBox: `0 0 ${width} ${items.length * rowH + 4}`, width, role: 'img', 'aria-label': label });
	items.forEach((it, i) => {
		const y = i * rowH + 2;
		const w = Math.max(it.value > 0 ? 2 : 0, Math.round((it.value / max) * barW));
		const g = svg('g', { class: `bar${it.kind ? ` bar-${it.kind}` : ''}`, 'data-label': it.label });
		g.append(
			svg('text', { x: labelW - 8, y: y + 16, 'text-anchor': 'end', class: 'bar-label' }, it.label),
			svg('rect', { x: labelW, y: y + 3, width: w, height: rowH - 8, rx: 3 }),
			svg('text', { x: labelW + w + 6, y: y + 16, class: 'bar-value' }, format(it.value)),
		);
		root.append(g);
	});
	return root;
}

/*
 * heatMap({rows, cols, values, label, format, level}) -> an <svg>: one cell per row (a
 * feature) and column (a window), coloured by level(value) (0 none, 1, 2, 3: worse), its
 * figure in its <title> (hover) and data-value; a null value is an empty cell. rows: names;
 * cols: column labels (shown thinned under the grid).
 */
export function heatMap({ rows, cols, values, label, format = String, level }) {
	const cellW = Math.max(6, Math.min(28, Math.floor(600 / Math.max(1, cols.length))));
	const cellH = 22;
	const labelW = 130;
	const width = labelW + cols.length * cellW + 10;
	const root = svg('svg', { class: 'heatmap', viewBox: `0 0 ${width} ${rows.length * cellH + 26}`, width, role: 'img', 'aria-label': label });
	rows.forEach((name, r) => {
		const g = svg('g', { class: 'heat-row', 'data-row': name });
		g.append(svg('text', { x: labelW - 8, y: r * cellH + 15, 'text-anchor': 'end', class: 'bar-label' }, name));
		cols.forEach((col, c) => {
			const v = values[r][c];
			const cell = svg('rect', {
				x: labelW + c * cellW, y: r * cellH + 2, width: cellW - 1, height: cellH - 3, rx: 2,
				class: `heat heat-${v === null || v === undefined ? 'none' : level(v)}`, 'data-value': v ?? '',
			});
			cell.append(svg('title', {}, `${name}, ${col}: ${v === null || v === undefined ? 'no data' : format(v)}`));
			g.append(cell);
		});
		root.append(g);
	});
	const every = Math.max(1, Math.ceil(cols.length / Math.max(1, Math.floor((cols.length * cellW) / 90))));
	cols.forEach((col, c) => {
		if ((cols.length - 1 - c) % every === 0) root.append(svg('text', { x: labelW + c * cellW, y: rows.length * cellH + 18, class: 'heat-col' }, col));
	});
	return root;
}

/*
 * overlayHistogram({bins, series, label}) -> an <svg>: per bin (a label), one bar per series
 * ({name, shares: fractions 0..1, kind}) side by side, scaled to the largest share, with
 * the bin's label under it and each bar's share in its <title>.
 */
export function overlayHistogram({ bins, series, label }) {
	const groupW = Math.max(24, Math.min(60, Math.floor(640 / Math.max(1, bins.length))));
	const barW = Math.floor((groupW - 6) / series.length);
	const plotH = 160;
	const width = bins.length * groupW + 20;
	const max = Math.max(...series.flatMap((s) => s.shares), 0) || 1;
	const root = svg('svg', { class: 'histogram', viewBox: `0 0 ${width} ${plotH + 40}`, width, role: 'img', 'aria-label': label });
	bins.forEach((bin, b) => {
		const g = svg('g', { class: 'hist-bin', 'data-bin': bin });
		series.forEach((s, i) => {
			const v = s.shares[b] || 0;
			const hgt = Math.max(v > 0 ? 1 : 0, Math.round((v / max) * plotH));
			const rect = svg('rect', { x: 10 + b * groupW + i * barW, y: plotH - hgt + 4, width: barW - 1, height: hgt, class: `hist-bar hist-${s.kind}`, 'data-series': s.name, 'data-share': v });
			rect.append(svg('title', {}, `${s.name}, ${bin}: ${(v * 100).toFixed(1)} %`));
			g.append(rect);
		});
		g.append(svg('text', { x: 10 + b * groupW + (groupW - 6) / 2, y: plotH + 20, 'text-anchor': 'middle', class: 'hist-label' }, bin));
		root.append(g);
	});
	return root;
}

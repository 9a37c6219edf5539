// parcoords.js: charts over many items' params and metrics (runs of a comparison, the runs of
// a project, the trials of a sweep), reusable by any view: a parallel-coordinates chart and
// a scatter of one value against another. Plain SVG (no canvas, no uPlot: text stays text and
// the tests can read it); each item's mark carries data-key, its values in a <title>.
import { fmtCompact } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
	const el = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
	if (text !== undefined) el.textContent = text;
	return el;
}

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

/*
 * A scale for one axis over the values of the rows: numeric (min..max, log10 when asked and
 * every value is > 0) when every present value is a number, else categorical (the distinct
 * values as text, sorted, spread evenly). pos(v) is 0..1 (undefined: no value, or a value the
 * scale cannot place); ticks: [[pos, text]].
 */
export function axisScale(values, log = false) {
	const present = values.filter((v) => v !== undefined && v !== null && v !== '');
	if (present.length && present.every(isNum)) {
		const useLog = log && present.every((v) => v > 0);
		const f = useLog ? Math.log10 : (v) => v;
		const lo = Math.min(...present.map(f));
		const hi = Math.max(...present.map(f));
		const pos = (v) => (isNum(v) && (!useLog || v > 0) ? (hi === lo ? 0.5 : (f(v) - lo) / (hi - lo)) : undefined);
		const inv = (p) => (useLog ? 10 ** (lo + p * (hi - lo)) : lo + p * (hi - lo));
		const ticks = hi === lo ? [[0.5, fmtCompact(present[0])]] : [0, 0.5, 1].map((p) => [p, fmtCompact(inv(p))]);
		return { kind: useLog ? 'log' : 'linear', pos, ticks };
	}
	const cats = [...new Set(present.map(String))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
	const at = (i) => (cats.length === 1 ? 0.5 : i / (cats.length - 1));
	return { kind: 'category', pos: (v) => (v === undefined || v === null || v === '' ? undefined : at(cats.indexOf(String(v)))), ticks: cats.map((c, i) => [at(i), c]) };
}

// A colour on a blue (0) to orange (1) ramp, for colouring items by a value.
export const ramp = (t) => `hsl(${Math.round(220 - (220 - 25) * Math.min(1, Math.max(0, t)))} 75% 45%)`;

/*
 * parallelCoordinates({rows, axes, key, color, title, label, onFilter}) -> <svg>
 *   rows     the items
 *   axes     [{label, value: (row) => number | string | undefined, log}], left to right
 *   key      (row) => string, the data-key of the item's line
 *   color    (row) => a CSS colour; by default the last axis's value on ramp() (blue: low)
 *   title    (row) => the text of the line's tooltip (default: its key)
 *   label    what the chart shows, for screen readers
 *   onFilter (keptRows) => void, after each brush
 * An item lacking a value on an axis has its line broken there. Dragging along an axis keeps
 * (brushes) the items whose value lies in the dragged range, the others are dimmed
 * (class "dim"); a click on the axis without dragging clears its range. Several axes'
 * ranges combine (an item is kept when it lies in all of them).
 */
export function parallelCoordinates({ rows, axes, key, color, title, label, onFilter }) {
	const gap = 130;
	const pad = { left: 60, right: 60, top: 34, bottom: 26 };
	const height = 300;
	const plotH = height - pad.top - pad.bottom;
	const width = pad.left + pad.right + gap * Math.max(1, axes.length - 1);
	const scales = axes.map((a) => axisScale(rows.map(a.value), a.log));
	const xOf = (i) => pad.left + i * gap;
	const yOf = (p) => pad.top + (1 - p) * plotH;
	const last = scales[scales.length - 1];
	const colorOf = color || ((r) => ramp(last.pos(axes[axes.length - 1].value(r)) ?? 0));
	const root = svg('svg', { class: 'parcoords', viewBox: `0 0 ${width} ${height}`, width, role: 'img', 'aria-label': label || 'Parallel coordinates' });
	const lines = svg('g', { class: 'pc-lines' });
	const marks = rows.map((r) => {
		const pos = axes.map((a, i) => scales[i].pos(a.value(r)));
		let d = '';
		pos.forEach((p, i) => {
			if (p === undefined) return;
			d += `${i && pos[i - 1] !== undefined ? 'L' : 'M'}${xOf(i)},${yOf(p).toFixed(1)}`;
		});
		const path = svg('path', { d, stroke: colorOf(r), 'data-key': key(r) });
		path.append(svg('title', null, title ? title(r) : key(r)));
		lines.append(path);
		return { r, pos, path };
	});
	root.append(lines);
	const ranges = axes.map(() => null);
	const apply = () => {
		const kept = [];
		for (const m of marks) {
			const ok = ranges.every((rg, i) => !rg || (m.pos[i] !== undefined && m.pos[i] >= rg[0] && m.pos[i] <= rg[1]));
			m.path.classList.toggle('dim', !ok);
			if (ok) kept.push(m.r);
		}
		if (onFilter) onFilter(kept);
	};
	axes.forEach((a, i) => root.append(axisGroup(root, a, i, scales[i], { xOf, yOf, pad, plotH, ranges, apply })));
	return root;
}

// One axis: its line, name, ticks, the brushed range and the area that takes the drags.
function axisGroup(root, a, i, scale, { xOf, yOf, pad, plotH, ranges, apply }) {
	const x = xOf(i);
	const g = svg('g', { class: 'pc-axis', 'data-axis': a.label });
	g.append(svg('line', { x1: x, x2: x, y1: pad.top, y2: pad.top + plotH }), svg('text', { x, y: pad.top - 14, 'text-anchor': 'middle', class: 'pc-name' }, a.label));
	for (const [p, t] of scale.ticks) g.append(svg('text', { x: x - 5, y: yOf(p) + 4, 'text-anchor': 'end', class: 'pc-tick' }, t.length > 12 ? t.slice(0, 11) + '…' : t));
	const band = svg('rect', { x: x - 6, width: 12, y: 0, height: 0, class: 'pc-brush' });
	const hit = svg('rect', { x: x - 14, width: 28, y: pad.top - 4, height: plotH + 8, class: 'pc-hit' });
	g.append(band, hit);
	// the pointer's height on the axis as 0..1, from the SVG's own coordinates
	const posAt = (ev) => {
		const pt = root.createSVGPoint();
		pt.x = ev.clientX;
		pt.y = ev.clientY;
		const y = pt.matrixTransform(root.getScreenCTM().inverse()).y;
		return Math.min(1, Math.max(0, 1 - (y - pad.top) / plotH));
	};
	let from = null;
	const show = () => {
		const rg = ranges[i];
		band.setAttribute('y', rg ? yOf(rg[1]) : 0);
		band.setAttribute('height', rg ? Math.max(1, yOf(rg[0]) - yOf(rg[1])) : 0);
	};
	hit.addEventListener('pointerdown', (ev) => {
		from = posAt(ev);
		hit.setPointerCapture(ev.pointerId);
	});
	hit.addEventListener('pointermove', (ev) => {
		if (from === null) return;
		const to = posAt(ev);
		ranges[i] = [Math.min(from, to), Math.max(from, to)];
		show();
	});
	hit.addEventListener('pointerup', (ev) => {
		if (from === null) return;
		const to = posAt(ev);
		ranges[i] = Math.abs(to - from) < 0.01 ? null : [Math.min(from, to), Math.max(from, to)];
		from = null;
		show();
		apply();
	});
	return g;
}

/*
 * scatterPlot({points, xLabel, yLabel, xLog, yLog, label}) -> <svg>: one dot per point
 * ({x, y, key, color, title}); x may be text (a categorical param: its values spread
 * evenly), y a number. Points lacking x or y are left out.
 */
export function scatterPlot({ points, xLabel, yLabel, xLog = false, yLog = false, label }) {
	const pad = { left: 64, right: 20, top: 14, bottom: 44 };
	const width = 520;
	const height = 300;
	const w = width - pad.left - pad.right;
	const hgt = height - pad.top - pad.bottom;
	const sx = axisScale(points.map((p) => p.x), xLog);
	const sy = axisScale(points.map((p) => p.y), yLog);
	const X = (p) => pad.left + 8 + p * (w - 16);
	const Y = (p) => pad.top + 8 + (1 - p) * (hgt - 16);
	const root = svg('svg', { class: 'scatter', viewBox: `0 0 ${width} ${height}`, width, role: 'img', 'aria-label': label || `${yLabel} against ${xLabel}` });
	root.append(
		svg('rect', { x: pad.left, y: pad.top, width: w, height: hgt, class: 'sc-frame' }),
		svg('text', { x: pad.left + w / 2, y: height - 6, 'text-anchor': 'middle', class: 'sc-name' }, xLabel),
		svg('text', { x: 14, y: pad.top + hgt / 2, 'text-anchor': 'middle', transform: `rotate(-90 14 ${pad.top + hgt / 2})`, class: 'sc-name' }, yLabel),
	);
	for (const [p, t] of sx.ticks) root.append(svg('text', { x: X(p), y: pad.top + hgt + 16, 'text-anchor': 'middle', class: 'sc-tick' }, t.length > 12 ? t.slice(0, 11) + '…' : t));
	for (const [p, t] of sy.ticks) root.append(svg('text', { x: pad.left - 6, y: Y(p) + 4, 'text-anchor': 'end', class: 'sc-tick' }, t));
	const dots = svg('g', { class: 'sc-dots' });
	for (const pt of points) {
		const px = sx.pos(pt.x);
		const py = sy.pos(pt.y);
		if (px === undefined || py === undefined) continue;
		const c = svg('circle', { cx: X(px).toFixed(1), cy: Y(py).toFixed(1), r: 5, fill: pt.color || '#2563eb', 'data-key': pt.key });
		c.append(svg('title', null, pt.title || pt.key));
		dots.append(c);
	}
	root.append(dots);
	return root;
}

// chart.js: time-series charts on the vendored uPlot (web/vendor/uplot, MIT). Buckets are
// UTC, so the axis is drawn in UTC too. Returns a cleanup function (stops resizing, frees).
import uPlot from './vendor/uplot/uPlot.esm.js';

/*
 * timeChart(container, {x, series, height}):
 *   x       bucket starts, in seconds since the epoch
 *   series  [{label, values, color, scale: 'left' | 'right', axisLabel}]
 * Series on the left scale share the left axis; those on the right, the right one.
 */
export function timeChart(container, { x, series, height = 260 }) {
	const width = () => Math.max(240, Math.floor(container.clientWidth));
	const fromZero = (u, min, max) => [0, Math.max(1, Math.ceil(max * 1.1))];
	const axisLabel = (side) => series.filter((s) => s.scale === side).map((s) => s.axisLabel || s.label).join(', ');
	// Ticks on the buckets themselves (uPlot's own would not fall on Mondays), thinned to fit.
	const day = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
	const splits = (u) => {
		const room = Math.max(2, Math.floor(u.bbox.width / (window.devicePixelRatio || 1) / 64));
		const every = Math.ceil(x.length / room);
		return x.filter((_, i) => (x.length - 1 - i) % every === 0);
	};
	const opts = {
		width: width(),
		height,
		tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
		scales: { x: { time: true }, left: { range: fromZero }, right: { range: fromZero } },
		axes: [
			{ splits, values: (u, ticks) => ticks.map((t) => day.format(new Date(t * 1000))) },
			{ scale: 'left', label: axisLabel('left'), size: 50 },
			{ scale: 'right', side: 1, label: axisLabel('right'), grid: { show: false }, size: 60 },
		],
		series: [
			{ label: 'Period starting' },
			...series.map((s) => ({
				label: s.label,
				scale: s.scale || 'left',
				stroke: s.color,
				width: 2,
				points: { show: true, size: 6, fill: s.color },
			})),
		],
		cursor: { drag: { x: false, y: false } },
		legend: { live: false },
	};
	const plot = new uPlot(opts, [x, ...series.map((s) => s.values)], container);
	const ro = new ResizeObserver(() => {
		if (width() !== plot.width) plot.setSize({ width: width(), height });
	});
	ro.observe(container);
	return () => {
		ro.disconnect();
		plot.destroy();
	};
}

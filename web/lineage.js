// lineage.js: the lineage graph of a model version, drawn as SVG with DOM calls only
// (createElementNS; no markup strings, no library): dataset versions -> run -> model version
// -> deployments, left to right, one column each. Nodes are links to their pages, so the
// graph is reachable with the keyboard; every label is a text node.

const NS = 'http://www.w3.org/2000/svg';
const W = 180; // node width
const H = 56; // node height
const GAP_Y = 16;
const GAP_X = 56;
const PAD = 12;
const TOP = 30; // room for the column titles
const MAX_CHARS = 24; // what fits on a line of a node at the CSS font size

function svg(tag, attrs = {}, ...children) {
	const el = document.createElementNS(NS, tag);
	for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
	for (const c of children) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	return el;
}

const fit = (s) => (s.length > MAX_CHARS ? s.slice(0, MAX_CHARS - 1) + '…' : s);

/*
 * One node at (x, y): {kind, title, detail, href}. With href it is a link (focusable, with
 * the full text as its accessible name); without, a dashed placeholder ("no run recorded").
 */
function node(x, y, n) {
	const label = `${n.title}${n.detail ? ` (${n.detail})` : ''}`;
	const body = [
		svg('title', {}, label),
		svg('rect', { x, y, width: W, height: H, rx: 8 }),
		svg('text', { x: x + 12, y: y + 22, class: 'node-title' }, fit(n.title)),
		n.detail ? svg('text', { x: x + 12, y: y + 42, class: 'node-detail' }, fit(n.detail)) : null,
	];
	const cls = `node node-${n.kind}${n.href ? '' : ' placeholder'}${n.current ? ' current' : ''}`;
	return n.href
		? svg('a', { href: n.href, class: cls, 'aria-label': label, 'data-node': n.kind }, ...body)
		: svg('g', { class: cls, 'data-node': n.kind }, ...body);
}

// A curved arrow from the right middle of a to the left middle of b (each {x, y}).
function edge(a, b) {
	const x1 = a.x + W;
	const y1 = a.y + H / 2;
	const x2 = b.x - 4;
	const y2 = b.y + H / 2;
	const mx = (x1 + x2) / 2;
	return svg('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, class: 'edge', 'marker-end': 'url(#lineage-arrow)' });
}

/*
 * columns: [{title, nodes: [{kind, title, detail, href, current}]}], left to right; every
 * node of a column points at every node of the next. Returns the <svg>.
 */
export function lineageGraph(label, columns) {
	const rows = Math.max(1, ...columns.map((c) => c.nodes.length));
	const height = TOP + PAD * 2 + rows * H + (rows - 1) * GAP_Y;
	const width = PAD * 2 + columns.length * W + (columns.length - 1) * GAP_X;
	const root = svg(
		'svg',
		{ class: 'lineage', viewBox: `0 0 ${width} ${height}`, width, height, role: 'group', 'aria-label': label },
		svg(
			'defs',
			{},
			svg('marker', { id: 'lineage-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' })),
		),
	);
	const placed = columns.map((col, i) => {
		const x = PAD + i * (W + GAP_X);
		const colHeight = col.nodes.length * H + (col.nodes.length - 1) * GAP_Y;
		const y0 = TOP + PAD + (rows * H + (rows - 1) * GAP_Y - colHeight) / 2;
		root.append(svg('text', { x, y: TOP - 10, class: 'column-title' }, col.title));
		return col.nodes.map((n, j) => ({ n, x, y: y0 + j * (H + GAP_Y) }));
	});
	for (let i = 0; i + 1 < placed.length; i++) {
		for (const a of placed[i]) for (const b of placed[i + 1]) root.append(edge(a, b));
	}
	for (const col of placed) for (const p of col) root.append(node(p.x, p.y, p.n));
	return root;
}

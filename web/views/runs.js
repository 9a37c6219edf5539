// views/runs.js: a project's Runs tab, the table a data scientist lives in: one row per run,
// a column per chosen metric (its last value) and param. The column picker remembers its
// choice per project in localStorage (defaults: the metrics most runs report, the params whose
// values differ); column widths are remembered too. Sorting a column, filtering and ordering
// go to the run search API (`filter`, `order_by`, kept in the address); a filter the API
// refuses shows its message by the field. Pages of 100 runs load as the table scrolls (the
// API pages with cursors); the table has a fixed layout, so thousands of rows stay cheap.
// Checkboxes pick runs for the side-by-side comparison (#/projects/P/compare?runs=1,2,3).
import * as api from '../api.js';
import { projectPage, href, stateBadge } from './registry.js';
import { h, mount, time, emptyState, snippet, field, select, showError, fmtCompact, span } from '../ui.js';

const PAGE = 100;
const DEFAULT_METRICS = 6;
const DEFAULT_PARAMS = 6;
export const MAX_COMPARE = 10;

// How a key is named in a filter or an order: bare when it may be, else in backticks.
export const keyRef = (prefix, key) => (/^[A-Za-z0-9_./-]+$/.test(key) ? `${prefix}.${key}` : `${prefix}.\`${key}\``);

// The keys of a field (params, metrics) over some runs, sorted.
export const keysOf = (runs, fieldName) => [...new Set(runs.flatMap((r) => Object.keys(r[fieldName] || {})))].sort();

export const metricCell = (v) => (v === undefined || v === null ? h('span', { class: 'muted' }, '—') : h('span', { title: String(v) }, fmtCompact(v)));

function orderOptions(metrics, params, current) {
	const opts = [
		['', 'Newest first'],
		['started_at:desc', 'Started, latest first'],
		['started_at:asc', 'Started, earliest first'],
		['name:asc', 'Name, A to Z'],
		...metrics.flatMap((k) => [
			[`${keyRef('metrics', k)}:desc`, `${k}, highest first`],
			[`${keyRef('metrics', k)}:asc`, `${k}, lowest first`],
		]),
		...params.map((k) => [`${keyRef('params', k)}:asc`, `param ${k}`]),
	];
	if (current && !opts.some(([v]) => v === current)) opts.push([current, current]);
	return opts;
}

// The filter and order controls; applying puts them in the address (which renders again).
function controls(ctx, filter, order, metrics, params) {
	const input = h('input', {
		name: 'filter',
		value: filter,
		class: 'wide',
		autocomplete: 'off',
		spellcheck: 'false',
		maxlength: 4096,
		placeholder: metrics[0] ? `${keyRef('metrics', metrics[0])} > 0.5 and status = finished` : 'params.lr = 0.01 and status = finished',
	});
	const orderSel = select('order_by', orderOptions(metrics, params, order), order);
	const apply = () => ctx.setQuery({ filter: input.value.trim(), order_by: orderSel.value });
	orderSel.addEventListener('change', apply);
	return h(
		'form',
		{ class: 'controls runs-search', role: 'search', 'aria-label': 'Filter and order runs', onSubmit: (e) => (e.preventDefault(), apply()) },
		field('Filter', input, 'Clauses joined with "and": status, name, params.KEY, tags.KEY or metrics.KEY, then = != < <= > >=, then a value.'),
		field('Order', orderSel),
		h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply'), filter || order ? h('button', { type: 'button', class: 'link', onClick: () => ctx.setQuery({}) }, 'Clear') : null),
	);
}

// ---- the column choice, remembered per project ----
const colsKey = (p) => `atrium.runs.columns.${p}`;
const widthsKey = (p) => `atrium.runs.widths.${p}`;

function loadJson(key) {
	try {
		return JSON.parse(localStorage.getItem(key) || 'null');
	} catch {
		return null;
	}
}
function saveJson(key, v) {
	try {
		if (v === null) localStorage.removeItem(key);
		else localStorage.setItem(key, JSON.stringify(v));
	} catch {
		/* storage full or off: the choice lasts this page only */
	}
}

// The metrics most runs report (then by name), and the params whose values differ between runs.
export function defaultColumns(runs) {
	const count = new Map();
	for (const r of runs) for (const k of Object.keys(r.metrics || {})) count.set(k, (count.get(k) || 0) + 1);
	const metrics = [...count.keys()].sort((a, b) => count.get(b) - count.get(a) || (a < b ? -1 : a > b ? 1 : 0)).slice(0, DEFAULT_METRICS);
	const params = keysOf(runs, 'params')
		.filter((k) => new Set(runs.map((r) => r.params?.[k] ?? null)).size > 1)
		.slice(0, DEFAULT_PARAMS);
	return { metrics, params };
}

// ---- the grid ----
// A column: id (for widths), label, kind (metric, param, fixed), order (the order_by key, or
// null), width in px, cell(run).
function gridColumns(p, chosen, pick) {
	return [
		{
			id: 'run',
			label: 'Run',
			order: 'name',
			width: 220,
			cls: 'run-name',
			cell: (r) => [
				h('input', { type: 'checkbox', class: 'pick', checked: pick.has(r.id), 'aria-label': `Compare ${r.name || `run ${r.id}`}`, dataset: { run: String(r.id) } }),
				' ',
				h('a', { href: href.run(p, r.id), title: r.name || `run ${r.id}` }, r.name || `run ${r.id}`),
			],
		},
		{ id: 'status', label: 'Status', order: null, width: 100, cell: (r) => stateBadge(r.status) },
		...chosen.metrics.map((k) => ({ id: `m:${k}`, label: k, kind: 'metric', order: keyRef('metrics', k), width: 110, cls: 'num metric', cell: (r) => metricCell(r.metrics?.[k]) })),
		...chosen.params.map((k) => ({
			id: `p:${k}`,
			label: k,
			kind: 'param',
			order: keyRef('params', k),
			width: 110,
			cls: 'param',
			cell: (r) => (r.params?.[k] === undefined ? h('span', { class: 'muted' }, '—') : h('span', { title: String(r.params[k]) }, String(r.params[k]))),
		})),
		{ id: 'started', label: 'Started', order: 'started_at', width: 160, cell: (r) => time(r.started_at) },
		{ id: 'duration', label: 'Duration', order: null, width: 100, cls: 'num', cell: (r) => span(r.started_at, r.ended_at) },
		{ id: 'job', label: 'Job', order: null, width: 70, cell: (r) => (r.job_id ? h('a', { href: href.job(r.job_id) }, `#${r.job_id}`) : '') },
		{ id: 'by', label: 'By', order: null, width: 100, cell: (r) => r.created_by || '' },
	];
}

// The order in the address as [key, dir] ('' for none).
const parseOrder = (order) => {
	const i = order.lastIndexOf(':');
	return i < 0 ? [order, 'asc'] : [order.slice(0, i), order.slice(i + 1)];
};

// A header cell: the label as a sort button when the API can order by the column, and a
// handle that resizes the column (its width is remembered).
function headCell(c, order, onSort, onResize) {
	const [okey, odir] = parseOrder(order);
	const sorted = c.order && okey === c.order;
	const label = c.kind === 'param' ? [h('span', { class: 'col-kind' }, 'param '), c.label] : c.label;
	const content = c.order
		? h(
				'button',
				{ type: 'button', class: 'sort', title: c.kind ? `${c.kind === 'param' ? 'params' : 'metrics'}.${c.label}` : null, onClick: () => onSort(c.order, sorted && odir === 'asc' ? 'desc' : 'asc') },
				label,
				sorted ? h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, odir === 'desc' ? ' ▼' : ' ▲') : null,
			)
		: label;
	const grip = h('span', { class: 'col-resize', role: 'separator', 'aria-orientation': 'vertical', 'aria-label': `Resize ${c.label}`, title: 'Drag to resize' });
	grip.addEventListener('pointerdown', (e) => onResize(e, c));
	return h('th', { scope: 'col', class: c.cls, 'aria-sort': sorted ? (odir === 'desc' ? 'descending' : 'ascending') : null, dataset: { col: c.id } }, content, grip);
}

function runsGrid(p, chosen, pick, order, onSort) {
	const widths = loadJson(widthsKey(p)) || {};
	const cols = gridColumns(p, chosen, pick);
	const colEls = cols.map((c) => {
		const col = h('col');
		col.style.width = `${widths[c.id] || c.width}px`; // through the CSSOM: the CSP refuses style attributes
		return col;
	});
	const tableEl = h('table', { class: 'grid' });
	const sizeTable = () => (tableEl.style.width = `${cols.reduce((n, c) => n + (widths[c.id] || c.width), 0)}px`);
	const onResize = (e, c) => {
		e.preventDefault();
		const startX = e.clientX;
		const startW = widths[c.id] || c.width;
		const i = cols.indexOf(c);
		const move = (ev) => {
			widths[c.id] = Math.max(48, Math.round(startW + ev.clientX - startX));
			colEls[i].style.width = `${widths[c.id]}px`;
			sizeTable();
		};
		const up = () => {
			window.removeEventListener('pointermove', move);
			window.removeEventListener('pointerup', up);
			saveJson(widthsKey(p), widths);
		};
		window.addEventListener('pointermove', move);
		window.addEventListener('pointerup', up);
	};
	const tr = (r) => h('tr', { dataset: { key: String(r.id) } }, cols.map((c) => h('td', { class: c.cls, dataset: { label: c.label } }, c.cell(r))));
	const tbody = h('tbody');
	tableEl.append(
		h('caption', { class: 'visually-hidden' }, `Runs of ${p}`),
		h('colgroup', null, colEls),
		h('thead', null, h('tr', null, cols.map((c) => headCell(c, order, onSort, onResize)))),
		tbody,
	);
	sizeTable();
	const wrap = h('div', { class: 'table-wrap runs-grid' }, tableEl);
	wrap.tbody = tbody;
	wrap.addRows = (list) => {
		const frag = document.createDocumentFragment();
		for (const r of list) frag.append(tr(r));
		tbody.append(frag);
	};
	return wrap;
}

// The column picker: a checkbox per metric and param key seen so far.
function columnPicker(p, keys, chosen, onChange) {
	const box = (kind, k) =>
		h(
			'label',
			{ class: 'check' },
			h('input', {
				type: 'checkbox',
				checked: chosen[kind].includes(k),
				dataset: { kind, key: k },
				onChange: (e) => {
					const next = { metrics: [...chosen.metrics], params: [...chosen.params] };
					next[kind] = e.target.checked ? [...next[kind], k] : next[kind].filter((x) => x !== k);
					onChange(next);
				},
			}),
			' ',
			k,
		);
	const group = (kind, title) =>
		h('fieldset', null, h('legend', null, title), keys[kind].length ? keys[kind].map((k) => box(kind, k)) : h('span', { class: 'muted' }, 'none yet'));
	return h(
		'details',
		{ class: 'column-picker' },
		h('summary', null, `Columns (${chosen.metrics.length + chosen.params.length})`),
		h(
			'div',
			{ class: 'picker-body' },
			group('metrics', 'Metrics'),
			group('params', 'Params'),
			h('button', { type: 'button', class: 'link', onClick: () => onChange(null) }, 'Reset to defaults'),
		),
	);
}

const empty = (p, filtered) =>
	filtered
		? emptyState('No run matches this filter.')
		: emptyState(
				`No runs in ${p} yet.`,
				'Training code records a run with its parameters and the dataset versions it read (that is the lineage from data to models):',
				snippet(
					`curl -X POST ${location.origin}/api/v1/projects/${p}/runs -H "Authorization: Bearer $TOKEN" \\\n` +
						`  -d '{"name": "baseline", "params": {"lr": "0.01"}, "inputs": [{"dataset": "photos", "version": "latest"}]}'`,
				),
			);

export async function render(root, ctx) {
	const filter = ctx.query.get('filter') || '';
	const order = ctx.query.get('order_by') || '';
	const { project, header } = await projectPage(ctx, 'runs', { title: 'Runs', crumbs: [['Runs']], intro: null });
	const p = project.name;
	const pager = new api.Pager(`/projects/${api.seg(p)}/runs`, { filter, order_by: order }, PAGE);
	const errSlot = h('div', { 'aria-live': 'assertive' });
	let first = [];
	let refused = null;
	try {
		first = await pager.next();
	} catch (err) {
		if (err.status !== 400) throw err;
		refused = err;
	}
	if (!ctx.alive()) return;
	const rows = [...first];
	const keys = () => ({ metrics: keysOf(rows, 'metrics'), params: keysOf(rows, 'params') });
	const saved = loadJson(colsKey(p));
	let chosen = saved && Array.isArray(saved.metrics) && Array.isArray(saved.params) ? saved : defaultColumns(first);
	const form = controls(ctx, filter, order, keys().metrics, keys().params);
	if (refused) {
		showError(errSlot, refused);
		form.elements.namedItem(refused.field)?.setAttribute('aria-invalid', 'true');
	}
	if (!first.length) {
		mount(root, header, form, errSlot, refused ? null : empty(p, Boolean(filter)));
		return;
	}

	const selected = new Set();
	const compareBtn = h('button', { type: 'button', class: 'primary', disabled: true }, 'Compare selected');
	const pickNote = h('span', { class: 'muted', 'aria-live': 'polite' }, 'Pick two or more runs to compare.');
	const onSelect = (id, on) => {
		if (on) selected.add(id);
		else selected.delete(id);
		compareBtn.disabled = selected.size < 2 || selected.size > MAX_COMPARE;
		compareBtn.textContent = `Compare selected (${selected.size})`;
		pickNote.textContent = selected.size > MAX_COMPARE ? `At most ${MAX_COMPARE} runs at once.` : selected.size < 2 ? 'Pick two or more runs to compare.' : '';
	};
	compareBtn.addEventListener('click', () => {
		location.hash = href.compare(p, [...selected]);
	});
	const onSort = (key, dir) => ctx.setQuery({ filter, order_by: `${key}:${dir}` });
	const count = h('span', { class: 'muted runs-count', 'aria-live': 'polite' });
	const moreBtn = h('button', { type: 'button', class: 'load-more' }, 'Load more');
	const sentinel = h('div', { class: 'grid-sentinel', 'aria-hidden': 'true' });
	const slot = h('div');
	let grid = null;
	let observer = null;
	const syncCount = () => {
		count.textContent = `${rows.length} run${rows.length === 1 ? '' : 's'}${pager.done ? '' : ' loaded, more on scroll'}`;
		moreBtn.hidden = pager.done;
	};
	const draw = () => {
		observer?.disconnect();
		grid = runsGrid(p, chosen, selected, order, onSort);
		grid.addEventListener('change', (e) => {
			if (e.target.matches('input.pick')) onSelect(Number(e.target.dataset.run), e.target.checked);
		});
		grid.addRows(rows);
		grid.append(sentinel);
		const picker = columnPicker(p, keys(), chosen, (next) => {
			saveJson(colsKey(p), next);
			chosen = next || defaultColumns(first);
			const wasOpen = slot.querySelector('details.column-picker')?.open;
			draw();
			if (wasOpen) slot.querySelector('details.column-picker').open = true;
		});
		mount(slot, h('div', { class: 'toolbar compare-bar' }, compareBtn, pickNote, picker, count), grid, moreBtn);
		syncCount();
		observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && more(), { root: grid, rootMargin: '600px' });
		observer.observe(sentinel);
	};
	let busy = false;
	async function more() {
		if (busy || pager.done || !ctx.alive()) return;
		busy = true;
		moreBtn.disabled = true;
		try {
			const page = await pager.next();
			if (!ctx.alive()) return;
			const before = keys();
			rows.push(...page);
			grid.addRows(page);
			const after = keys();
			// new keys: the picker offers them (the table keeps its rows)
			if (after.metrics.length !== before.metrics.length || after.params.length !== before.params.length) {
				const old = slot.querySelector('details.column-picker');
				const picker = columnPicker(p, after, chosen, (next) => {
					saveJson(colsKey(p), next);
					chosen = next || defaultColumns(first);
					draw();
				});
				old.replaceWith(picker);
			}
		} catch (err) {
			showError(errSlot, err);
		} finally {
			busy = false;
			moreBtn.disabled = false;
			syncCount();
		}
		// a short page on a tall screen: keep filling until the sentinel is out of reach
		if (!pager.done && sentinel.getBoundingClientRect().top < grid.getBoundingClientRect().bottom + 600) more();
	}
	moreBtn.addEventListener('click', more);
	mount(root, header, form, errSlot, slot);
	draw();
}

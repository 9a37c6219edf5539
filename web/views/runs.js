// views/runs.js: a project's Runs tab: the runs with status, the last value of their metrics
// (one column per metric key of the first page), params and times. Filtering and ordering go
// to the run search API (`filter`, `order_by`, kept in the address); a filter the API refuses
// shows its message by the field. Checkboxes pick runs for the side-by-side comparison
// (#/projects/P/compare?runs=1,2,3, views/compare.js).
import * as api from '../api.js';
import { projectPage, href, stateBadge } from './registry.js';
import { h, mount, table, time, emptyState, chips, snippet, field, select, showError, loadMore, fmtNum, span } from '../ui.js';

const MAX_METRIC_COLUMNS = 8;
export const MAX_COMPARE = 10;

// How a key is named in a filter or an order: bare when it may be, else in backticks.
export const keyRef = (prefix, key) => (/^[A-Za-z0-9_./-]+$/.test(key) ? `${prefix}.${key}` : `${prefix}.\`${key}\``);

// The keys of a field (params, metrics) over some runs, sorted.
export const keysOf = (runs, fieldName) => [...new Set(runs.flatMap((r) => Object.keys(r[fieldName] || {})))].sort();

export const metricCell = (v) => (v === undefined || v === null ? h('span', { class: 'muted' }, '—') : h('span', { title: String(v) }, fmtNum(v)));

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

function columns(p, metrics, selected, onSelect) {
	return [
		{
			label: 'Compare',
			cell: (r) =>
				h('input', {
					type: 'checkbox',
					class: 'pick',
					checked: selected.has(r.id),
					'aria-label': `Compare ${r.name || `run ${r.id}`}`,
					onChange: (e) => onSelect(r.id, e.target.checked),
				}),
		},
		{ label: 'Run', cell: (r) => h('strong', null, h('a', { href: href.run(p, r.id) }, r.name || `run ${r.id}`)) },
		{ label: 'Status', cell: (r) => stateBadge(r.status) },
		...metrics.map((k) => ({ label: k, cell: (r) => metricCell(r.metrics?.[k]), class: 'num metric' })),
		{ label: 'Params', cell: (r) => chips(r.params) },
		{ label: 'Started', cell: (r) => time(r.started_at) },
		{ label: 'Duration', cell: (r) => span(r.started_at, r.ended_at), class: 'num' },
		{ label: 'Job', cell: (r) => (r.job_id ? h('a', { href: href.job(r.job_id) }, `#${r.job_id}`) : '') },
		{ label: 'By', cell: (r) => r.created_by || '' },
	];
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
	const pager = new api.Pager(`/projects/${api.seg(p)}/runs`, { filter, order_by: order });
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
	const metrics = keysOf(first, 'metrics').slice(0, MAX_METRIC_COLUMNS);
	const form = controls(ctx, filter, order, metrics, keysOf(first, 'params'));
	if (refused) {
		showError(errSlot, refused);
		form.elements.namedItem(refused.field)?.setAttribute('aria-invalid', 'true');
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
	const t = table({ caption: `Runs of ${p}`, columns: columns(p, metrics, selected, onSelect), rows: first, rowKey: (r) => String(r.id) });
	mount(
		root,
		header,
		form,
		errSlot,
		first.length ? [h('div', { class: 'toolbar compare-bar' }, compareBtn, pickNote), t, loadMore(pager, t.addRows, (err) => showError(errSlot, err))] : refused ? null : empty(p, Boolean(filter)),
	);
}

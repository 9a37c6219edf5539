// views/search.js: results of the top bar's search (#/search?q=WORDS&kind=): projects,
// datasets and models the caller may read whose name, description or tags have words
// starting with each word of q (GET /api/v1/search), best first, with "Load more".
import * as api from '../api.js';
import { href } from './registry.js';
import { h, mount, pageHeader, badge, emptyState, showError, field, select, form, loadMore } from '../ui.js';

const KINDS = [
	['', 'Everything'],
	['project', 'Projects'],
	['dataset', 'Datasets'],
	['model', 'Models'],
	['template', 'Templates'],
];

const link = (r) => (r.kind === 'template' ? `#/catalogue?q=${encodeURIComponent(r.name)}` : r.kind === 'project' ? href.project(r.name) : r.kind === 'dataset' ? href.dataset(r.project, r.name) : href.model(r.project, r.name));

// 'Labelled **cat** photos' -> text with <mark>cat</mark> (the API marks matches with **).
export function snippetText(s) {
	return String(s || '')
		.split('**')
		.map((part, i) => (i % 2 ? h('mark', null, part) : part));
}

function result(r) {
	return h(
		'li',
		{ class: 'result', dataset: { kind: r.kind } },
		badge(r.kind, 'info'),
		' ',
		h('a', { href: link(r) }, h('strong', null, r.name)),
		r.kind === 'project' || r.kind === 'template' ? null : h('span', { class: 'muted' }, ` in ${r.project}`),
		r.snippet ? h('p', { class: 'snippet-text' }, snippetText(r.snippet)) : null,
	);
}

export async function render(root, ctx) {
	const q = (ctx.query.get('q') || '').trim();
	const kind = KINDS.some(([k]) => k === ctx.query.get('kind')) ? ctx.query.get('kind') : '';
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const searchForm = form({
		className: 'form inline',
		submitLabel: 'Search',
		attrs: { role: 'search', 'aria-label': 'Search the registry' },
		fields: [
			field('Words', h('input', { name: 'q', type: 'search', value: q, required: true, maxlength: 256, autocomplete: 'off' })),
			field('Kind', select('kind', KINDS, kind)),
		],
		onSubmit: async (v) => ctx.setQuery({ q: v.q.trim(), kind: v.kind }),
	});
	let body = emptyState('Type words to search for.', 'Projects, datasets and models whose name, description or tags have words starting with them; only what you may read.');
	if (q) {
		const pager = new api.Pager('/search', { q, kind }, 25);
		try {
			const first = await pager.next();
			const ol = h('ol', { class: 'results' }, first.map(result));
			body = first.length
				? [ol, loadMore(pager, (items) => ol.append(...items.map(result)), (err) => showError(errSlot, err))]
				: emptyState(`Nothing matches "${q}".`, 'Try fewer or shorter words: each word matches the start of a word. Archived projects and private projects you are not in are never shown.');
		} catch (err) {
			if (err.status !== 400) throw err;
			showError(errSlot, err); // a query the API refuses (too long, too many words)
			body = null;
		}
	}
	if (!ctx.alive()) return;
	document.title = q ? `${q} · Search · Atrium` : 'Search · Atrium';
	mount(root, pageHeader(q ? `Search: ${q}` : 'Search'), searchForm, errSlot, body);
}

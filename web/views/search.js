// views/search.js: results of the top bar's search (#/search?q=WORDS&kind=): projects,
// datasets and models the caller may read whose name, description or tags have words
// starting with each word of q, runs by name or tag values and jobs by name (GET
// /api/v1/search), best first, with "Load more"; then, with
// every kind, what the search endpoint does not index, found here: deployments (by name or
// description) and, for admins, users (by username or display name), matched the same way
// (each word starts a word), from their lists; a job and a run by id when q is a number
// ("42" or "#42").
import * as api from '../api.js';
import { href } from './registry.js';
import { h, mount, pageHeader, badge, emptyState, showError, field, select, form, loadMore } from '../ui.js';

const KINDS = [
	['', 'Everything'],
	['project', 'Projects'],
	['dataset', 'Datasets'],
	['model', 'Models'],
	['template', 'Templates'],
	['run', 'Runs'],
	['job', 'Jobs'],
];

const LINKS = {
	template: (r) => `#/catalogue?q=${encodeURIComponent(r.name)}`,
	project: (r) => href.project(r.name),
	dataset: (r) => href.dataset(r.project, r.name),
	model: (r) => href.model(r.project, r.name),
	run: (r) => href.run(r.project, r.id),
	job: (r) => `#/jobs/${r.id}`,
};
const link = (r) => (LINKS[r.kind] || LINKS.model)(r);
// Runs and jobs are told apart by id too (names repeat across a sweep's trials).
const title = (r) => (r.kind === 'run' || r.kind === 'job' ? `${r.name || r.kind} (#${r.id})` : r.name);

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
		h('a', { href: link(r) }, h('strong', null, title(r))),
		r.kind === 'project' || r.kind === 'template' ? null : h('span', { class: 'muted' }, ` in ${r.project}`),
		r.snippet ? h('p', { class: 'snippet-text' }, snippetText(r.snippet)) : null,
	);
}

// Each word of q starts a word of one of texts (as the search endpoint matches).
export function matchesWords(q, ...texts) {
	const have = texts.flatMap((t) => String(t || '').toLowerCase().split(/[^\p{L}\p{N}]+/u)).filter(Boolean);
	const words = q.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
	return words.length > 0 && words.every((w) => have.some((x) => x.startsWith(w)));
}

const MAX_OTHER = 25;

// Deployments, users (admins), and a job and a run by id: [{kind, name, href, detail}].
async function otherMatches(q, isAdmin) {
	const id = /^#?(\d{1,15})$/.exec(q)?.[1];
	const [deps, users, job, run] = await Promise.all([
		api.listAll('/deployments', {}, 1000).catch(() => []),
		isAdmin ? api.listAll('/users', {}, 5000).catch(() => []) : [],
		id ? api.get(`/jobs/${id}`).catch(() => null) : null,
		id ? api.get(`/runs/${id}`).catch(() => null) : null,
	]);
	return [
		...(job ? [{ kind: 'job', name: `#${job.id} ${job.name || ''}`.trim(), href: `#/jobs/${job.id}`, detail: `${job.state} in ${job.project}` }] : []),
		...(run ? [{ kind: 'run', name: `${run.name || 'run'} (#${run.id})`, href: href.run(run.project, run.id), detail: `${run.status} in ${run.project}` }] : []),
		...deps.filter((d) => matchesWords(q, d.name, d.description)).map((d) => ({ kind: 'deployment', name: d.name, href: `#/deployments/${api.seg(d.name)}`, detail: `${d.state} in ${d.project}` })),
		...users
			.filter((u) => matchesWords(q, u.username, u.display_name))
			.map((u) => ({ kind: 'user', name: u.username, href: `#/jobs?user=${api.seg(u.username)}`, detail: `${u.display_name || ''}${u.display_name ? ' · ' : ''}their jobs` })),
	].slice(0, MAX_OTHER);
}

const otherResult = (r) =>
	h('li', { class: 'result', dataset: { kind: r.kind } }, badge(r.kind, 'info'), ' ', h('a', { href: r.href }, h('strong', null, r.name)), h('span', { class: 'muted' }, ` ${r.detail}`));

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
	let body = emptyState('Type words to search for.', 'Projects, datasets and models whose name, description or tags have words starting with them, runs and jobs by name; only what you may read.');
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
	let others = null;
	if (q && !kind) {
		const found = await otherMatches(q, ctx.isAdmin);
		if (found.length && !Array.isArray(body)) body = null; // not "nothing matches": these match
		others = found.length ? h('section', { class: 'panel other-results', 'aria-labelledby': 'other-results' }, h('h2', { id: 'other-results' }, 'Jobs, runs, deployments and users'), h('ol', { class: 'results' }, found.map(otherResult))) : null;
	}
	if (!ctx.alive()) return;
	document.title = q ? `${q} · Search · Atrium` : 'Search · Atrium';
	mount(root, pageHeader(q ? `Search: ${q}` : 'Search'), searchForm, errSlot, others, body);
}

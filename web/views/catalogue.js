// views/catalogue.js: the catalogue (#/catalogue): published project templates and featured
// projects, each with its README (Markdown rendered safely: web/markdown.js), its launchers
// and the data it references; a search box (?q=, the words found in the name, description or
// README); "Create a project from it" makes a project with a copy of the template's structure
// (never its data) and opens it.
import * as api from '../api.js';
import { markdown } from '../markdown.js';
import { href } from './registry.js';
import { h, mount, field, form, emptyState, toast, chips, panel, pageHeader, badge, showError } from '../ui.js';

function createForm(ctx, t) {
	return form({
		className: 'form inline',
		submitLabel: 'Create a project from it',
		attrs: { 'aria-label': `Create a project from ${t.name}` },
		fields: [field('New project name', h('input', { name: 'name', required: true, maxlength: 63, autocomplete: 'off', spellcheck: 'false' }))],
		onSubmit: async (v) => {
			const p = await api.post('/projects', { name: v.name.trim(), from_template: t.name });
			toast(`Created ${p.name} from ${t.name}`);
			ctx.navigate(`projects/${api.seg(p.name)}/launchers`);
		},
	});
}

function entry(ctx, t) {
	return h(
		'article',
		{ class: 'panel catalogue-entry', 'data-key': t.name, 'aria-labelledby': `tpl-${t.id}` },
		h('h2', { id: `tpl-${t.id}` }, h('a', { href: href.project(t.name) }, t.name), ' ', t.template ? badge('template', 'info') : null, ' ', t.featured ? badge('featured', 'ok') : null),
		t.description ? h('p', null, t.description) : null,
		t.readme ? h('div', { class: 'readme' }, markdown(t.readme)) : null,
		t.launchers.length ? h('p', null, 'Launchers: ', chips(t.launchers)) : null,
		t.datasets.length || t.models.length ? h('p', null, 'References: ', chips([...t.datasets.map((d) => `dataset ${d}`), ...t.models.map((m) => `model ${m}`)])) : null,
		t.copies ? h('p', { class: 'muted' }, `${t.copies} project${t.copies === 1 ? '' : 's'} made from it`) : null,
		t.template ? createForm(ctx, t) : null,
	);
}

export async function render(root, ctx) {
	const q = ctx.query.get('q') || '';
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const search = h('input', { name: 'q', type: 'search', value: q, 'aria-label': 'Search the catalogue', placeholder: 'Search templates' });
	const bar = h(
		'form',
		{ class: 'controls', role: 'search', onSubmit: (e) => (e.preventDefault(), ctx.setQuery(search.value.trim() ? { q: search.value.trim() } : {})) },
		field('Search', search),
		h('button', { type: 'submit' }, 'Search'),
	);
	let items = [];
	try {
		items = (await api.get('/templates', q ? { q, limit: 100 } : { limit: 100 })).items;
	} catch (err) {
		showError(errSlot, err);
	}
	if (!ctx.alive()) return;
	mount(
		root,
		pageHeader('Catalogue', 'Project templates to start from, and featured projects.'),
		bar,
		errSlot,
		items.length ? items.map((t) => entry(ctx, t)) : panel('none-title', 'Nothing here', emptyState(q ? `No template matches “${q}”.` : 'No templates yet.', 'An owner publishes a project as a template from the API: PUT /api/v1/projects/NAME/template.')),
	);
}

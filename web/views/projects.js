// views/projects.js: Registry -> Projects: the projects the caller may read (admins: all),
// with their team, visibility and the caller's role; archived ones on request (?archived=1);
// a form to create one (a member may only use a team they belong to).
import * as api from '../api.js';
import { href, stateBadge } from './registry.js';
import {
	h, mount, pageHeader, pagedTable, time, badge, field, select, form, disclosure, emptyState, chips, snippet, showError,
} from '../ui.js';

export const VISIBILITY = [
	['private', 'Private: members only'],
	['internal', 'Internal: every user may read'],
];

// 'a, b c' -> ['a', 'b', 'c']
export const parseTags = (v) => String(v || '').split(/[\s,]+/).filter(Boolean);

// The teams a project may be put in: every team for admins, the caller's own for members.
export async function teamOptions(ctx) {
	const names = ctx.isAdmin ? (await api.listAll('/teams', {}, 1000)).map((t) => t.name) : (ctx.me.teams || []).map((t) => t.team);
	return [['', 'No team'], ...names.map((n) => [n, n])];
}

function createForm(teams, onCreated) {
	return form({
		className: 'form grid',
		submitLabel: 'Create project',
		reset: true,
		fields: [
			field('Name', h('input', { name: 'name', required: true, maxlength: 63, autocomplete: 'off', spellcheck: 'false' }),
				'Lowercase letters, digits and "-", e.g. "cats". Names never change.'),
			field('Description', h('input', { name: 'description', maxlength: 1024, autocomplete: 'off' })),
			field('Team', select('team', teams, '')),
			field('Visibility', select('visibility', VISIBILITY, 'private')),
			field('Tags', h('input', { name: 'tags', autocomplete: 'off', placeholder: 'cnn, images' }), 'Separated by commas or spaces; search finds them.'),
		],
		onSubmit: async (v) => {
			const body = { name: v.name.trim(), description: v.description.trim(), visibility: v.visibility, tags: parseTags(v.tags) };
			if (v.team) body.team = v.team;
			onCreated(await api.post('/projects', body));
		},
	});
}

const roleBadge = (role) => badge(role, role === 'owner' ? 'info' : '');

export async function render(root, ctx) {
	const archived = ctx.query.get('archived') === '1';
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const columns = [
		{ label: 'Project', cell: (p) => [h('strong', null, h('a', { href: href.project(p.name) }, p.name)), p.archived_at ? [' ', stateBadge('archived')] : null] },
		{ label: 'Description', cell: (p) => p.description || '' },
		{ label: 'Team', cell: (p) => (p.team ? h('a', { href: `#/admin/teams/${api.seg(p.team)}` }, p.team) : h('span', { class: 'muted' }, 'none')) },
		{ label: 'Visibility', cell: (p) => badge(p.visibility, p.visibility === 'private' ? 'warn' : '') },
		{ label: 'Your role', cell: (p) => roleBadge(p.role) },
		{ label: 'Members', cell: (p) => String(p.member_count ?? ''), class: 'num' },
		{ label: 'Tags', cell: (p) => chips(p.tags) },
		{ label: 'Created', cell: (p) => time(p.created_at) },
	];
	const [list, teams] = await Promise.all([
		pagedTable(new api.Pager('/projects', { archived: archived ? 'true' : '' }), { caption: 'Projects', columns, rowKey: (p) => p.name }, (err) => showError(errSlot, err)),
		teamOptions(ctx),
	]);
	if (!ctx.alive()) return;

	const toggle = h('input', { type: 'checkbox', id: 'show-archived', checked: archived });
	toggle.addEventListener('change', () => ctx.setQuery(toggle.checked ? { archived: '1' } : {}));
	const empty = list.first.length
		? null
		: emptyState(
				'No projects yet.',
				'A project holds a team\'s datasets, runs and models, and says who may read and change them. Create the first with "New project" above, or from a script:',
				snippet(`curl -X POST ${location.origin}/api/v1/projects -H "Authorization: Bearer $TOKEN" \\\n  -d '{"name": "cats", "visibility": "internal"}'`),
			);
	mount(
		root,
		pageHeader('Projects', 'Where datasets, runs and models live. Private projects are seen by their members only; internal ones by every user.'),
		disclosure('New project', createForm(teams, (p) => ctx.navigate(`projects/${api.seg(p.name)}`))),
		h('p', { class: 'inline-check' }, toggle, h('label', { for: 'show-archived' }, 'Show archived projects')),
		errSlot,
		empty,
		list.first.length ? [list, list.more] : null,
	);
}

// views/project.js: a project's Overview tab (#/projects/NAME): description, tags, team,
// visibility; its members and their roles. Owners edit the project, add members by user
// name, change roles, remove members and archive the project (with a confirmation).
import * as api from '../api.js';
import { projectPage, path, isOwner, href } from './registry.js';
import { VISIBILITY, parseTags, teamOptions } from './projects.js';
import {
	h, mount, table, field, select, form, disclosure, emptyState, toast, confirmThen, savingSelect, facts, chips, time, badge, panel,
} from '../ui.js';

const ROLES = [
	['viewer', 'Viewer: reads'],
	['launcher', 'Launcher: also runs launchers'],
	['editor', 'Editor: also writes datasets, runs, models'],
	['owner', 'Owner: also manages members and production'],
];
const roleName = (r) => r.split(':')[0];

function editForm(project, teams, onSaved) {
	return form({
		className: 'form grid',
		submitLabel: 'Save',
		fields: [
			field('Description', h('input', { name: 'description', maxlength: 1024, value: project.description || '' })),
			field('Team', select('team', teams, project.team || '')),
			field('Visibility', select('visibility', VISIBILITY, project.visibility)),
			field('Tags', h('input', { name: 'tags', value: (project.tags || []).join(', ') }), 'Separated by commas or spaces.'),
		],
		onSubmit: async (v) => {
			const p = await api.patch(path.project(project.name), {
				description: v.description.trim(),
				team: v.team || null,
				visibility: v.visibility,
				tags: parseTags(v.tags),
			});
			toast(`Saved project ${p.name}`);
			onSaved();
		},
	});
}

function membersPanel(project, members, reload) {
	const owner = isOwner(project);
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const mpath = (u) => `${path.project(project.name)}/members/${api.seg(u)}`;

	const remove = (m) =>
		confirmThen(
			errSlot,
			{
				title: `Remove ${m.username} from ${project.name}?`,
				message: project.visibility === 'private' ? 'They lose access to the project at once.' : 'They keep reading it (it is internal) but can no longer change it.',
				confirmLabel: 'Remove',
			},
			async () => {
				await api.del(mpath(m.username));
				toast(`Removed ${m.username} from ${project.name}`);
				reload();
			},
		);

	const columns = [
		{ label: 'User name', cell: (m) => h('strong', null, m.username) },
		{ label: 'Display name', cell: (m) => m.display_name || '' },
		{
			label: 'Role',
			cell: (m) => {
				if (!owner) return badge(m.role, m.role === 'owner' ? 'info' : '');
				return savingSelect('role', ROLES.map(([v]) => [v, v]), m.role, { 'aria-label': `Role of ${m.username} in ${project.name}` }, errSlot, async (role) => {
					await api.put(mpath(m.username), { role });
					toast(`${m.username} is now ${role} of ${project.name}`);
				});
			},
		},
		{ label: 'Added', cell: (m) => time(m.added_at) },
	];
	if (owner) {
		columns.push({
			label: 'Actions',
			cell: (m) => h('button', { type: 'button', class: 'danger-outline', 'aria-label': `Remove ${m.username}`, onClick: () => remove(m) }, 'Remove'),
		});
	}
	const add = owner
		? form({
				className: 'form inline',
				submitLabel: 'Add member',
				fields: [
					field('User name', h('input', { name: 'username', required: true, autocomplete: 'off', spellcheck: 'false' })),
					field('Role', select('role', ROLES.map(([v, t]) => [v, roleName(t)]), 'viewer')),
				],
				onSubmit: async (v) => {
					const name = v.username.trim();
					await api.put(mpath(name), { role: v.role });
					toast(`Added ${name} to ${project.name} as ${v.role}`);
					reload();
				},
			})
		: null;
	return panel(
		'members-title',
		`Members (${members.length})`,
		owner ? h('p', { class: 'muted' }, ROLES.map(([, t]) => t).join(' · ')) : null,
		add,
		errSlot,
		members.length
			? table({ caption: `Members of ${project.name}`, columns, rows: members, rowKey: (m) => m.username })
			: emptyState('No members.', owner ? 'Add people by user name above.' : null),
	);
}

function archivePanel(project, onArchived) {
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const btn = h('button', { type: 'button', class: 'danger-outline' }, 'Archive project');
	btn.addEventListener('click', () =>
		confirmThen(
			errSlot,
			{
				title: `Archive ${project.name}?`,
				message: 'It is kept, read-only: its datasets, runs and models stay readable, every change is refused, and it leaves the project list and search.',
				confirmLabel: 'Archive',
			},
			async () => {
				await api.del(path.project(project.name));
				toast(`Archived ${project.name}`);
				onArchived();
			},
		),
	);
	return panel('archive-title', 'Archive', h('p', { class: 'muted' }, 'Archiving keeps everything for the record and stops all changes. It cannot be undone here.'), btn, errSlot);
}

export async function render(root, ctx) {
	const { project, header } = await projectPage(ctx, 'overview');
	const [members, teams] = await Promise.all([
		api.listAll(`${path.project(project.name)}/members`, {}, 1000),
		isOwner(project) ? teamOptions(ctx) : [],
	]);
	if (!ctx.alive()) return;
	const reload = () => ctx.navigate(`projects/${api.seg(project.name)}`);
	mount(
		root,
		header,
		panel(
			'about-title',
			'About',
			facts([
				['Description', project.description || h('span', { class: 'muted' }, 'none')],
				['Team', project.team ? h('a', { href: `#/admin/teams/${api.seg(project.team)}` }, project.team) : 'none'],
				['Visibility', project.visibility === 'private' ? 'private (members only)' : 'internal (every user may read)'],
				['Tags', chips(project.tags)],
				['Your role', project.role],
				['Created', [time(project.created_at), project.created_by ? ` by ${project.created_by}` : '']],
				['Archived', project.archived_at ? time(project.archived_at) : null],
			]),
			h('p', null, 'Go to its ', h('a', { href: href.datasets(project.name) }, 'datasets'), ', ', h('a', { href: href.runs(project.name) }, 'runs'), ' or ', h('a', { href: href.models(project.name) }, 'models'), '.'),
		),
		isOwner(project) ? disclosure('Edit project', editForm(project, teams, reload)) : null,
		membersPanel(project, members, reload),
		isOwner(project) ? archivePanel(project, reload) : null,
	);
}

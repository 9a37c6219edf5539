// views/team.js: one team (#/admin/teams/NAME): its description and quotas (admins edit
// them), its members and their roles (admins and the team's maintainers manage them).
import * as api from '../api.js';
import { quotaFields, quotaBody } from './teams.js';
import {
	h, mount, pageHeader, table, field, select, form, emptyState, toast, confirmThen, savingSelect, quotaText,
} from '../ui.js';

const MEMBER_ROLES = [
	['member', 'Member'],
	['maintainer', 'Maintainer'],
];

function quotaPanel(team, ctx, onSaved) {
	if (!ctx.isAdmin) {
		return h(
			'section',
			{ class: 'panel', 'aria-labelledby': 'quota-title' },
			h('h2', { id: 'quota-title' }, 'Quotas'),
			h('dl', { class: 'facts' },
				h('dt', null, 'Max GPUs'), h('dd', null, quotaText(team.max_gpus)),
				h('dt', null, 'Max concurrent jobs'), h('dd', null, quotaText(team.max_concurrent_jobs))),
		);
	}
	return h(
		'section',
		{ class: 'panel', 'aria-labelledby': 'quota-title' },
		h('h2', { id: 'quota-title' }, 'Description and quotas'),
		form({
			className: 'form grid',
			submitLabel: 'Save',
			fields: [
				field('Description', h('input', { name: 'description', maxlength: 1024, value: team.description || '' })),
				...quotaFields(team),
			],
			onSubmit: async (v) => {
				const t = await api.patch(`/teams/${api.seg(team.name)}`, { description: v.description.trim(), ...quotaBody(v) });
				toast(`Saved team ${t.name}: ${quotaText(t.max_gpus)} GPUs, ${quotaText(t.max_concurrent_jobs)} concurrent jobs`);
				onSaved(t);
			},
		}),
	);
}

function addMemberForm(team, users, onChanged) {
	const input = h('input', { name: 'username', required: true, list: 'team-user-names', autocomplete: 'off', spellcheck: 'false' });
	return form({
		className: 'form inline',
		submitLabel: 'Add member',
		fields: [
			field('User name', input),
			h('datalist', { id: 'team-user-names' }, users.map((u) => h('option', { value: u.username }, u.display_name))),
			field('Role', select('role', MEMBER_ROLES, 'member')),
		],
		onSubmit: async (v, f) => {
			const name = v.username.trim();
			const t = await api.put(`/teams/${api.seg(team.name)}/members/${api.seg(name)}`, { role: v.role });
			f.reset();
			toast(`Added ${name} to ${team.name} as ${v.role}`);
			onChanged(t);
		},
	});
}

export async function render(root, ctx) {
	let team = await api.get(`/teams/${api.seg(ctx.params.team)}`);
	// The user picker: every user for admins (a list an admin may read); others type the name.
	const users = ctx.isAdmin ? await api.listAll('/users', {}, 2000) : [];
	if (!ctx.alive()) return;

	const myRole = (ctx.me.teams || []).find((t) => t.team === team.name)?.role;
	const canManage = ctx.isAdmin || myRole === 'maintainer';
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const membersBox = h('div');
	const membersTitle = h('h2', { id: 'members-title' });
	const headBox = h('div');

	const remove = (m) =>
		confirmThen(
			errSlot,
			{ title: `Remove ${m.username} from ${team.name}?`, message: 'They lose access to the team and its quota at once.', confirmLabel: 'Remove' },
			async () => {
				await api.del(`/teams/${api.seg(team.name)}/members/${api.seg(m.username)}`);
				team = await api.get(`/teams/${api.seg(team.name)}`);
				toast(`Removed ${m.username} from ${team.name}`);
				drawMembers();
			},
		);

	function drawMembers() {
		const members = team.members || [];
		membersTitle.textContent = `Members (${members.length})`;
		const columns = [
			{ label: 'User name', cell: (m) => h('strong', null, m.username) },
			{
				label: 'Role',
				cell: (m) => {
					if (!canManage) return m.role;
					return savingSelect('role', MEMBER_ROLES, m.role, { 'aria-label': `Role of ${m.username} in ${team.name}` }, errSlot, async (role) => {
						team = await api.put(`/teams/${api.seg(team.name)}/members/${api.seg(m.username)}`, { role });
						toast(`${m.username} is now ${role} of ${team.name}`);
						drawMembers();
					});
				},
			},
		];
		if (canManage) {
			columns.push({
				label: 'Actions',
				cell: (m) =>
					h('button', { type: 'button', class: 'danger-outline', 'aria-label': `Remove ${m.username}`, onClick: () => remove(m) }, 'Remove'),
			});
		}
		membersBox.replaceChildren(
			members.length
				? table({ caption: `Members of ${team.name}`, columns, rows: members, rowKey: (m) => m.username })
				: emptyState('No members yet.', canManage ? 'Add the first with the form above. Maintainers may manage the members themselves.' : null),
		);
	}

	function drawHead() {
		headBox.replaceChildren(
			h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/admin/teams' }, 'Teams & quotas'), ' › ', team.name),
			pageHeader(`Team ${team.name}`, team.description || null),
		);
	}

	drawHead();
	drawMembers();
	mount(
		root,
		headBox,
		quotaPanel(team, ctx, (t) => {
			team = t;
			drawHead();
		}),
		h(
			'section',
			{ class: 'panel', 'aria-labelledby': 'members-title' },
			membersTitle,
			canManage ? addMemberForm(team, users, (t) => {
				team = t;
				drawMembers();
			}) : null,
			errSlot,
			membersBox,
		),
	);
}

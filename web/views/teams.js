// views/teams.js: Admin -> Teams & quotas: the list of teams with their quotas and member
// counts, and (admins) a form to create one. A team's page (views/team.js) edits it.
import * as api from '../api.js';
import {
	h, mount, pageHeader, pagedTable, time, field, form, disclosure, emptyState, showError, toast, intOrNull,
	quotaText,
} from '../ui.js';

export const quotaFields = (t = {}) => [
	field('Max GPUs', h('input', { name: 'max_gpus', type: 'number', min: 0, max: 100000, step: 1, value: t.max_gpus ?? '' }),
		'GPUs the team may hold at once. Blank: unlimited.'),
	field('Max concurrent jobs', h('input', { name: 'max_concurrent_jobs', type: 'number', min: 0, max: 1000000, step: 1, value: t.max_concurrent_jobs ?? '' }),
		'Jobs the team may run at once. Blank: unlimited.'),
];

export const quotaBody = (v) => ({ max_gpus: intOrNull(v.max_gpus), max_concurrent_jobs: intOrNull(v.max_concurrent_jobs) });

const teamLink = (t) => h('a', { href: `#/admin/teams/${api.seg(t.name)}` }, t.name);

function createForm(onCreated) {
	return form({
		className: 'form grid',
		submitLabel: 'Create team',
		reset: true,
		fields: [
			field('Name', h('input', { name: 'name', required: true, maxlength: 63, autocomplete: 'off', spellcheck: 'false' }),
				'Lowercase letters, digits and "-", e.g. "vision".'),
			field('Description', h('input', { name: 'description', maxlength: 1024, autocomplete: 'off' })),
			...quotaFields(),
		],
		onSubmit: async (v) => {
			onCreated(await api.post('/teams', { name: v.name.trim(), description: v.description.trim(), ...quotaBody(v) }));
		},
	});
}

export async function render(root, ctx) {
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const columns = [
		{ label: 'Team', cell: (t) => h('strong', null, teamLink(t)) },
		{ label: 'Description', cell: (t) => t.description || '' },
		{ label: 'Members', cell: (t) => String(t.member_count ?? 0), class: 'num' },
		{ label: 'Max GPUs', cell: (t) => quotaText(t.max_gpus), class: 'num' },
		{ label: 'Max concurrent jobs', cell: (t) => quotaText(t.max_concurrent_jobs), class: 'num' },
		{ label: 'Created', cell: (t) => time(t.created_at) },
	];
	const list = await pagedTable(new api.Pager('/teams'), { caption: 'Teams', columns, rowKey: (t) => t.name }, (err) =>
		showError(errSlot, err),
	);
	if (!ctx.alive()) return;
	const empty = list.first.length
		? null
		: emptyState(
				'No teams yet.',
				ctx.isAdmin
					? 'Teams group users and carry the quotas (GPUs, concurrent jobs) that the scheduler enforces. Create the first one with "New team", then add its members on its page.'
					: 'An admin has not created any team yet.',
			);

	mount(
		root,
		pageHeader('Teams & quotas', 'Who works together, and how much of the shared compute each team may use.'),
		ctx.isAdmin
			? disclosure(
					'New team',
					createForm((team) => {
						list.addRows([team]);
						if (empty) empty.remove();
						toast(`Created team ${team.name}`);
						ctx.navigate(`admin/teams/${api.seg(team.name)}`);
					}),
				)
			: null,
		errSlot,
		empty,
		list,
		list.more,
	);
}

// views/teams.js: Admin -> Teams & quotas: the list of teams with their quotas and member
// counts, the GPUs and jobs each holds now against its quota (refreshed every few seconds
// while the tab is visible), (admins) each team's GPU-hours per week over 12 weeks
// (views/gpu_hours.js, from /admin/stats) and a form to create one. A team's page (views/team.js)
// edits it.
import * as api from '../api.js';
import {
	h, mount, pageHeader, pagedTable, time, field, form, disclosure, emptyState, showError, toast, intOrNull,
	quotaText, poll,
} from '../ui.js';
import { teamUsage, usageText, REFRESH_MS } from './jobs.js';
import { teamHoursPanel } from './gpu_hours.js';

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
	const since = new Date(Date.now() - 12 * 7 * 86400e3).toISOString();
	const [use0, stats] = await Promise.all([teamUsage().catch(() => new Map()), ctx.isAdmin ? api.get('/admin/stats', { since }) : null]);
	let usage = use0;
	const used = (t) => usage.get(t.name) || { gpus: 0, jobs: 0 };
	const columns = [
		{ label: 'Team', cell: (t) => h('strong', null, teamLink(t)) },
		{ label: 'Description', cell: (t) => t.description || '' },
		{ label: 'Members', cell: (t) => String(t.member_count ?? 0), class: 'num' },
		{ label: 'Max GPUs', cell: (t) => quotaText(t.max_gpus), class: 'num' },
		{ label: 'Max concurrent jobs', cell: (t) => quotaText(t.max_concurrent_jobs), class: 'num' },
		{ label: 'GPUs in use', cell: (t) => usageText(used(t).gpus, t.max_gpus), class: 'num gpus-in-use' },
		{ label: 'Jobs running', cell: (t) => usageText(used(t).jobs, t.max_concurrent_jobs), class: 'num jobs-in-use' },
		{ label: 'Created', cell: (t) => time(t.created_at) },
	];
	const teamsShown = new Map();
	const gpuSeries = stats ? teamHoursPanel(stats) : { section: null, draw: () => null };
	const list = await pagedTable(new api.Pager('/teams'), { caption: 'Teams', columns, rowKey: (t) => t.name }, (err) =>
		showError(errSlot, err),
	);
	if (!ctx.alive()) return;
	for (const t of list.first) teamsShown.set(t.name, t);
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
		gpuSeries.section,
	);
	const undraw = gpuSeries.draw();
	// What the teams hold changes as jobs start and end: redrawn every few seconds.
	const stop = poll(async () => {
		if (!ctx.alive()) return false;
		usage = await teamUsage();
		if (!ctx.alive()) return false;
		for (const row of list.tbody.rows) {
			const t = teamsShown.get(row.dataset.key);
			if (t) list.updateRow(t);
		}
		return true;
	}, REFRESH_MS);
	return () => {
		stop();
		if (typeof undraw === 'function') undraw();
	};
}

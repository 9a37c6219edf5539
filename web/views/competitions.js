// views/competitions.js: the competitions (hackathons) every signed-in user sees.
import * as api from '../api.js';
import { h, mount, pageHeader, emptyState, pagedTable, showError, time, badge } from '../ui.js';

export const state = (c) => {
	const now = Date.now();
	if (now < Date.parse(c.starts_at)) return badge('upcoming');
	if (now >= Date.parse(c.ends_at)) return badge('ended', 'muted');
	return badge('running', 'ok');
};

export async function render(root, ctx) {
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const columns = [
		{ label: 'Competition', cell: (c) => h('strong', null, h('a', { href: `#/competitions/${api.seg(c.name)}` }, c.title)) },
		{ label: 'State', cell: state },
		{ label: 'Metric', cell: (c) => c.metric },
		{ label: 'Teams', cell: (c) => String(c.teams), class: 'num' },
		{ label: 'Submissions', cell: (c) => String(c.submissions), class: 'num' },
		{ label: 'Ends', cell: (c) => time(c.ends_at) },
	];
	const list = await pagedTable(new api.Pager('/competitions'), { caption: 'Competitions', columns, rowKey: (c) => c.name }, (err) =>
		showError(errSlot, err),
	);
	if (!ctx.alive()) return;
	mount(
		root,
		pageHeader('Competitions', 'Hackathons on data Atrium holds: teams submit predictions, scored against a hidden test set.'),
		errSlot,
		list.first.length ? null : emptyState('No competitions yet.', 'Owners of a project create them with POST /api/v1/projects/{project}/competitions.'),
		list,
		list.more,
	);
}

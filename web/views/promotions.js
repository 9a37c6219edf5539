// views/promotions.js: Registry -> Promotions: the approval queue across projects, from
// GET /api/v1/promotions: the promotions the caller may decide (admins: all), pending by
// default (?state= shows decided ones). Approve moves the alias at once; reject leaves it.
// The navigation shows how many are pending (app.js).
import * as api from '../api.js';
import { href, version, stateBadge, decisionButtons } from './registry.js';
import { h, mount, pageHeader, pagedTable, time, emptyState, showError, field, select } from '../ui.js';

const STATES = [
	['pending', 'Pending'],
	['approved', 'Approved'],
	['rejected', 'Rejected'],
	['cancelled', 'Cancelled'],
];

export async function render(root, ctx) {
	const state = STATES.some(([s]) => s === ctx.query.get('state')) ? ctx.query.get('state') : 'pending';
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const fail = (err) => showError(errSlot, err);
	let list = null;
	const columns = [
		{ label: 'Request', cell: (pr) => `#${pr.id}` },
		{ label: 'Project', cell: (pr) => h('a', { href: href.project(pr.project) }, pr.project) },
		{ label: 'Model', cell: (pr) => h('a', { href: href.model(pr.project, pr.model) }, pr.model) },
		{ label: 'Version', cell: (pr) => h('a', { href: href.modelVersion(pr.project, pr.model, pr.version) }, version(pr.version)) },
		{ label: 'Alias', cell: (pr) => h('strong', null, pr.alias) },
		{ label: 'Asked by', cell: (pr) => pr.requested_by || '' },
		{ label: 'Comment', cell: (pr) => pr.comment || '' },
		{ label: 'Asked', cell: (pr) => time(pr.requested_at) },
		{
			label: state === 'pending' ? 'Decision' : 'Decided',
			cell: (pr) =>
				pr.state === 'pending'
					? decisionButtons(pr, (done) => list.updateRow(done), fail)
					: [stateBadge(pr.state), pr.decided_by ? ` by ${pr.decided_by}` : '', pr.decision_comment ? h('q', { class: 'comment' }, pr.decision_comment) : null],
		},
	];
	list = await pagedTable(new api.Pager('/promotions', { state }), { caption: `${state} promotions`, columns, rowKey: (pr) => String(pr.id) }, fail);
	if (!ctx.alive()) return;
	const filter = select('state', STATES, state, { id: 'promotion-state' });
	filter.addEventListener('change', () => ctx.setQuery(filter.value === 'pending' ? {} : { state: filter.value }));
	mount(
		root,
		pageHeader(
			'Promotions',
			ctx.isAdmin
				? 'Requests to move a model alias (such as production) to a version, in every project.'
				: 'Requests to move a model alias that you may decide: any alias in projects you own, aliases other than production where you are an editor.',
		),
		h('div', { class: 'controls' }, field('Show', filter)),
		errSlot,
		list.first.length
			? [list, list.more]
			: emptyState(
					state === 'pending' ? 'No promotion is waiting for a decision.' : `No ${state} promotions.`,
					state === 'pending' ? 'Editors ask for one on a model\'s page ("Request promotion"); it appears here for its project\'s owners.' : null,
				),
	);
}

// views/audit.js: Admin -> Audit log: every mutating request, newest first, filtered by
// actor, action (a route name or its prefix) and time; the filters live in the address
// (#/admin/audit?actor=bob&action=teams) so a filtered view can be shared. "Load more" pages.
import * as api from '../api.js';
import { h, mount, pageHeader, pagedTable, time, badge, field, form, emptyState, showError } from '../ui.js';

// Action names of the routes that exist now; a datalist suggestion, not a limit.
const ACTIONS = [
	'auth.login', 'users', 'users.create', 'users.update', 'users.tokens.create', 'tokens', 'tokens.create',
	'tokens.revoke', 'teams', 'teams.create', 'teams.update', 'teams.members.set', 'teams.members.remove',
	'admin.backup',
];

function statusBadge(s) {
	return badge(String(s), s >= 500 ? 'err' : s >= 400 ? 'warn' : 'ok');
}

// 'YYYY-MM-DDTHH:MM' (UTC) for a datetime-local input, from an RFC 3339 string.
const toInput = (iso) => (iso && !Number.isNaN(Date.parse(iso)) ? new Date(iso).toISOString().slice(0, 16) : '');

function filterForm(ctx, q) {
	const clear = h('button', { type: 'button', onClick: () => ctx.setQuery({}) }, 'Clear filters');
	return form({
		className: 'form inline filters',
		submitLabel: 'Apply filters',
		extra: q.actor || q.action || q.since ? clear : null,
		fields: [
			field('Actor', h('input', { name: 'actor', value: q.actor, autocomplete: 'off', spellcheck: 'false', placeholder: 'user name, job:ID' })),
			field('Action', h('input', { name: 'action', value: q.action, list: 'audit-actions', autocomplete: 'off', spellcheck: 'false', placeholder: 'teams, users.create' })),
			h('datalist', { id: 'audit-actions' }, ACTIONS.map((a) => h('option', { value: a }))),
			field('Since (UTC)', h('input', { name: 'since', type: 'datetime-local', value: toInput(q.since) })),
		],
		onSubmit: async (v) => {
			ctx.setQuery({
				actor: v.actor.trim(),
				action: v.action.trim(),
				since: v.since ? `${v.since}:00Z` : '',
			});
		},
	});
}

export async function render(root, ctx) {
	const q = { actor: ctx.query.get('actor') || '', action: ctx.query.get('action') || '', since: ctx.query.get('since') || '' };
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const columns = [
		{ label: 'Time', cell: (e) => time(e.created_at, true) },
		{ label: 'Actor', cell: (e) => (e.actor ? h('strong', null, e.actor) : h('span', { class: 'muted' }, 'anonymous')) },
		{ label: 'Action', cell: (e) => h('code', null, e.action) },
		{ label: 'Object', cell: (e) => e.object || '' },
		{ label: 'Status', cell: (e) => statusBadge(e.status) },
		{ label: 'Client', cell: (e) => e.client || '' },
		{ label: 'Request id', cell: (e) => h('code', { class: 'small' }, e.request_id || '') },
	];
	let list = null;
	try {
		list = await pagedTable(new api.Pager('/audit', q, 50), { caption: 'Audit log entries', columns, rowKey: (e) => String(e.id) }, (err) =>
			showError(errSlot, err),
		);
	} catch (err) {
		if (err.status !== 400) throw err;
		showError(errSlot, err); // a bad filter: say so under the form, keep the form usable
	}
	if (!ctx.alive()) return;

	const filtered = q.actor || q.action || q.since;
	mount(
		root,
		pageHeader('Audit log', 'Every change made through the API: who, what, when, from where, and how it ended.'),
		filterForm(ctx, q),
		errSlot,
		list && list.first.length
			? [list, list.more]
			: filtered
				? emptyState('No entries match these filters.', 'Widen them, or clear them to see everything.')
				: emptyState('Nothing recorded yet.', 'Every change made through the API (users, teams, tokens, sign-ins) appears here as it happens.'),
	);
}

// views/tokens.js: Admin -> Tokens: the signed-in user's own API tokens and dashboard
// sessions. Create (the text is shown once), revoke. Revoking the token in use signs out.
import * as api from '../api.js';
import {
	h, mount, pageHeader, pagedTable, time, badge, field, form, disclosure, secretOnce, emptyState, showError, toast,
	confirmDialog,
} from '../ui.js';

export function status(t) {
	if (t.revoked_at) return badge('revoked', 'muted');
	if (t.expires_at && Date.parse(t.expires_at) <= Date.now()) return badge('expired', 'muted');
	return badge('active', 'ok');
}

const isCurrent = (t) => {
	const tok = api.session.token || '';
	return !t.revoked_at && tok.startsWith(t.prefix) && (api.session.kind === 'session') === (t.kind === 'session');
};

const rowKey = (t) => String(t.id);

// The form that makes a token (name, optional expiry) with POST endpoint; onCreated(answer).
export function tokenForm(endpoint, submitLabel, onCreated, placeholder = 'e.g. ci-pipeline') {
	return form({
		className: 'form grid',
		submitLabel,
		reset: true,
		fields: [
			field('Name', h('input', { name: 'name', required: true, maxlength: 128, autocomplete: 'off', placeholder }),
				'What uses it, so you know what breaks when you revoke it.'),
			field('Expires on', h('input', { name: 'expires', type: 'date' }), 'Optional; the token stops working at the end of that day (UTC).'),
		],
		onSubmit: async (v) => {
			const body = { name: v.name.trim() };
			if (v.expires) body.expires_at = `${v.expires}T23:59:59Z`;
			const t = await api.post(endpoint, body).catch((e) => {
				if (e.field === 'expires_at') e.field = 'expires';
				throw e;
			});
			onCreated(t);
		},
	});
}

export async function render(root, ctx) {
	const notice = h('div', { class: 'notices' });
	const errSlot = h('div', { 'aria-live': 'assertive' });

	let list = null;

	async function revoke(t) {
		const current = isCurrent(t);
		const ok = await confirmDialog({
			title: `Revoke "${t.name || t.prefix}"?`,
			message: current
				? 'This is the token you are signed in with: you will be signed out.'
				: 'Anything that uses it gets 401 from now on. This cannot be undone.',
			confirmLabel: 'Revoke',
			danger: true,
		});
		if (!ok) return;
		try {
			await api.del(`/tokens/${t.id}`);
		} catch (err) {
			showError(errSlot, err);
			return;
		}
		if (current) {
			ctx.signOut('You revoked the token you were signed in with.');
			return;
		}
		t.revoked_at = new Date().toISOString();
		list.updateRow(t);
		toast(`Revoked ${t.name || t.prefix}`);
	}

	const columns = [
		{ label: 'Name', cell: (t) => [h('strong', null, t.name || '—'), isCurrent(t) ? badge('in use here', 'info') : null] },
		{ label: 'Kind', cell: (t) => (t.kind === 'session' ? 'dashboard session' : 'API token') },
		{ label: 'Starts with', cell: (t) => h('code', null, `${t.prefix}…`) },
		{ label: 'Created', cell: (t) => time(t.created_at) },
		{ label: 'Last used', cell: (t) => time(t.last_used_at) },
		{ label: 'Expires', cell: (t) => (t.expires_at ? time(t.expires_at) : 'never') },
		{ label: 'Status', cell: status },
		{
			label: 'Actions',
			cell: (t) => {
				if (t.revoked_at) return '';
				const cell = h('button', { type: 'button', class: 'danger-outline', 'aria-label': `Revoke ${t.name || t.prefix}` }, 'Revoke');
				cell.addEventListener('click', () => revoke(t));
				return cell;
			},
		},
	];
	list = await pagedTable(new api.Pager('/tokens'), { caption: 'Your tokens', columns, rowKey }, (err) => showError(errSlot, err));
	if (!ctx.alive()) return;
	const hasApiTokens = list.first.some((t) => t.kind === 'user');
	const empty = hasApiTokens
		? null
		: emptyState(
				'You have no API token yet.',
				'Scripts, notebooks and CI pipelines call the API with one: create it above, then send it as a header:',
				h('code', { class: 'block' }, 'curl -H "Authorization: Bearer atr_…" $ATRIUM/api/v1/users/me'),
			);

	mount(
		root,
		pageHeader('Tokens', `Your API tokens and dashboard sessions (${ctx.me.username}). A token's text is shown once, when it is made; only its first characters are kept for display.`),
		disclosure(
			'New token',
			tokenForm('/tokens', 'Create token', (t) => {
				notice.replaceChildren(secretOnce(`New token "${t.name}"`, t.token, 'Copy it now: it is shown only this once.'));
				delete t.token;
				list.prependRow(t);
				if (empty) empty.remove();
				toast(`Created token ${t.name}`);
			}),
		),
		notice,
		errSlot,
		empty,
		list,
		list.more,
	);
}

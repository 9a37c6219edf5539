// views/deployment_keys.js: a deployment's invoke keys on its page (editors): API tokens that
// call this deployment's inference endpoints and nothing else. Create one (its text is shown
// once, with the call to make), list them (paged), revoke one.
import * as api from '../api.js';
import { tokenForm, status } from './tokens.js';
import { h, pagedTable, time, disclosure, secretOnce, snippet, emptyState, showError, toast, confirmDialog } from '../ui.js';

export async function keysPanel(d) {
	const path = `/deployments/${api.seg(d.name)}/keys`;
	const notice = h('div', { class: 'notices' });
	const errSlot = h('div', { 'aria-live': 'assertive' });
	let list = null;

	async function revoke(k) {
		const ok = await confirmDialog({
			title: `Revoke the key "${k.name}"?`,
			message: `Calls to ${d.name} with it get 401 from now on. This cannot be undone.`,
			confirmLabel: 'Revoke',
			danger: true,
		});
		if (!ok) return;
		showError(errSlot, null);
		try {
			await api.del(`${path}/${k.id}`);
		} catch (err) {
			showError(errSlot, err);
			return;
		}
		k.revoked_at = new Date().toISOString();
		list.updateRow(k);
		toast(`Revoked the key ${k.name}`);
	}

	const columns = [
		{ label: 'Name', cell: (k) => h('strong', null, k.name) },
		{ label: 'Starts with', cell: (k) => h('code', null, `${k.prefix}…`) },
		{ label: 'Created by', cell: (k) => k.created_by || '' },
		{ label: 'Created', cell: (k) => time(k.created_at) },
		{ label: 'Last used', cell: (k) => time(k.last_used_at) },
		{ label: 'Expires', cell: (k) => (k.expires_at ? time(k.expires_at) : 'never') },
		{ label: 'Status', cell: status },
		{
			label: 'Actions',
			cell: (k) => (k.revoked_at ? '' : h('button', { type: 'button', class: 'danger-outline small', 'aria-label': `Revoke the key ${k.name}`, onClick: () => revoke(k) }, 'Revoke')),
		},
	];
	list = await pagedTable(new api.Pager(path), { caption: `Invoke keys of ${d.name}`, columns, rowKey: (k) => String(k.id) }, (err) => showError(errSlot, err));
	const empty = list.first.length
		? null
		: emptyState('No invoke keys yet.', 'Give an application a key of its own: it calls this deployment and nothing else, and you can revoke it without touching anyone\'s token.');
	return [
		h('p', { class: 'muted' }, 'Keys for applications that call this deployment (and nothing else): send one as a Bearer token.'),
		disclosure(
			'New invoke key',
			tokenForm(
				path,
				'Create key',
				(k) => {
					notice.replaceChildren(
						h(
							'div',
							null,
							secretOnce(`New invoke key "${k.name}"`, k.token, 'Copy it now: it is shown only this once.'),
							snippet(`curl -X POST ${location.origin}${d.endpoints.predict} -H "Authorization: Bearer $KEY" -d '{"instances": [[1, 2]]}'`, 'the call with the key'),
						),
					);
					delete k.token;
					list.prependRow(k);
					if (empty) empty.remove();
					toast(`Created the key ${k.name}`);
				},
				'e.g. shop-frontend',
			),
		),
		notice,
		errSlot,
		empty,
		list,
		list.more,
	];
}

// views/join_tokens.js: Admin -> Join tokens: the tokens that admit GPU hosts
// (`atrium worker --join-token`). Create (the text and the command to run are shown once),
// list, revoke. Revoking keeps the workers it admitted but stops new registrations with it.
import * as api from '../api.js';
import { status, tokenForm } from './tokens.js';
import { h, mount, pageHeader, pagedTable, time, disclosure, secretOnce, emptyState, showError, toast, confirmThen, snippet, panel } from '../ui.js';

// The command that starts a worker on a GPU host against this server.
export function workerCommand(token = '<join token>') {
	return (
		`atrium worker --server ${location.origin} --join-token ${token} \\\n` +
		'  --name $(hostname -s) --listen 0.0.0.0:7070 --advertise $(hostname -f) \\\n' +
		'  --work-dir /var/lib/atrium-worker'
	);
}

export const workerCommandNote =
	'Run it on the GPU host (it needs the atrium binary and, for GPUs, nvidia-smi). --server must be an address the host reaches this server at. On a shared host, pass the token as ATRIUM_JOIN_TOKEN instead of --join-token: a command line is visible to every user of the host.';

export async function render(root, ctx) {
	const notice = h('div', { class: 'notices' });
	const errSlot = h('div', { 'aria-live': 'assertive' });
	let list = null;

	const revoke = (t) =>
		confirmThen(
			errSlot,
			{
				title: `Revoke the join token "${t.name}"?`,
				message: 'Workers it admitted keep working, but no host can register with it any more (a worker that has to register again is refused).',
				confirmLabel: 'Revoke',
			},
			async () => {
				await api.del(`/workers/join-tokens/${t.id}`);
				t.revoked_at = new Date().toISOString();
				list.updateRow(t);
				toast(`Revoked the join token ${t.name}`);
			},
		);

	const columns = [
		{ label: 'Name', cell: (t) => h('strong', null, t.name || '—') },
		{ label: 'Starts with', cell: (t) => h('code', null, `${t.prefix}…`) },
		{ label: 'Made by', cell: (t) => t.created_by || '' },
		{ label: 'Created', cell: (t) => time(t.created_at) },
		{ label: 'Last used', cell: (t) => time(t.last_used_at) },
		{ label: 'Expires', cell: (t) => (t.expires_at ? time(t.expires_at) : 'never') },
		{ label: 'Status', cell: status },
		{
			label: 'Actions',
			cell: (t) =>
				t.revoked_at ? '' : h('button', { type: 'button', class: 'danger-outline', 'aria-label': `Revoke ${t.name}`, onClick: () => revoke(t) }, 'Revoke'),
		},
	];
	list = await pagedTable(new api.Pager('/workers/join-tokens'), { caption: 'Join tokens', columns, rowKey: (t) => String(t.id) }, (err) => showError(errSlot, err));
	if (!ctx.alive()) return;
	const empty = list.first.length ? null : emptyState('No join tokens yet.', 'Make one with "New join token" above, then run the command it shows on each GPU host.');
	mount(
		root,
		pageHeader('Join tokens', 'A join token lets GPU hosts register as workers. One token can admit many hosts; its text is shown once, when it is made.'),
		disclosure(
			'New join token',
			tokenForm('/workers/join-tokens', 'Create join token', (t) => {
				notice.replaceChildren(
					secretOnce(`Join token "${t.name}"`, t.token, 'Copy it now: it is shown only this once. Then run this on each GPU host:'),
					snippet(workerCommand(t.token), 'worker command'),
					h('p', { class: 'muted note' }, workerCommandNote),
				);
				delete t.token;
				t.created_by = t.created_by || ctx.me.username;
				list.prependRow(t);
				if (empty) empty.remove();
				toast(`Created the join token ${t.name}`);
			}, 'e.g. rack-7'),
		),
		notice,
		errSlot,
		empty,
		list,
		list.more,
		panel('howto-title', 'Adding a GPU host', h('p', null, 'With a join token, on the host:'), snippet(workerCommand()), h('p', { class: 'muted note' }, workerCommandNote), h('p', null, 'It appears under ', h('a', { href: '#/workers' }, 'Workers'), ' within seconds, with its GPUs.')),
	);
}

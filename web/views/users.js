// views/users.js: Admin -> Users. Lists users (paginated), creates them (with a role and an
// optional password; the first API token is shown once), changes roles, disables/enables.
import * as api from '../api.js';
import {
	h, mount, pageHeader, pagedTable, time, badge, field, select, form, disclosure, secretOnce, emptyState,
	showError, toast, confirmDialog,
} from '../ui.js';

const ROLES = [
	['member', 'Member'],
	['admin', 'Admin'],
];

function createForm(onCreated) {
	return form({
		className: 'form grid',
		submitLabel: 'Create user',
		reset: true,
		fields: [
			field('User name', h('input', { name: 'username', required: true, maxlength: 63, autocomplete: 'off', spellcheck: 'false' }),
				'Lowercase letters, digits and "-", e.g. "alice".'),
			field('Display name', h('input', { name: 'display_name', maxlength: 128, autocomplete: 'off' })),
			field('Role', select('role', ROLES, 'member')),
			field('Password', h('input', { name: 'password', type: 'password', minlength: 8, maxlength: 256, autocomplete: 'new-password' }),
				'Optional, 8 characters or more: lets the user sign in to the dashboard.'),
		],
		onSubmit: async (v) => {
			const body = { username: v.username.trim(), role: v.role };
			if (v.display_name.trim()) body.display_name = v.display_name.trim();
			if (v.password) body.password = v.password;
			onCreated(await api.post('/users', body));
		},
	});
}

export async function render(root, ctx) {
	const notice = h('div', { class: 'notices' });
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const fail = (err) => showError(errSlot, err);
	let list = null;

	async function update(u, change, what) {
		showError(errSlot, null);
		try {
			Object.assign(u, await api.patch(`/users/${api.seg(u.username)}`, change));
			toast(`${u.username}: ${what}`);
			return true;
		} catch (err) {
			fail(err);
			return false;
		}
	}

	function roleCell(u) {
		const sel = select('role', ROLES, u.role, { 'aria-label': `Role of ${u.username}` });
		sel.addEventListener('change', async () => {
			const to = sel.value;
			const ok =
				(await confirmDialog({
					title: `Make ${u.username} ${to === 'admin' ? 'an admin' : 'a member'}?`,
					message: to === 'admin' ? 'Admins reach everything: users, teams, quotas, the audit log.' : 'They lose admin rights at once.',
					confirmLabel: 'Change role',
				})) && (await update(u, { role: to }, `role is now ${to}`));
			if (!ok) sel.value = u.role;
		});
		return sel;
	}

	function actionsCell(u) {
		const verb = u.disabled ? 'Enable' : 'Disable';
		const btn = h('button', { type: 'button', class: u.disabled ? '' : 'danger-outline', 'aria-label': `${verb} ${u.username}` }, verb);
		btn.addEventListener('click', async () => {
			const disabling = !u.disabled;
			if (
				disabling &&
				!(await confirmDialog({
					title: `Disable ${u.username}?`,
					message: 'Their tokens and sessions stop working at once. You can enable them again later.',
					confirmLabel: 'Disable',
					danger: true,
				}))
			)
				return;
			if (await update(u, { disabled: disabling }, disabling ? 'disabled' : 'enabled')) list.updateRow(u);
		});
		return btn;
	}

	const columns = [
		{ label: 'User name', cell: (u) => [h('strong', null, u.username), u.id === ctx.me.id ? h('span', { class: 'muted' }, ' (you)') : null] },
		{ label: 'Display name', cell: (u) => u.display_name },
		{ label: 'Role', cell: roleCell },
		{ label: 'Status', cell: (u) => badge(u.disabled ? 'disabled' : 'active', u.disabled ? 'warn' : 'ok') },
		{ label: 'Password', cell: (u) => (u.has_password ? 'yes' : 'no') },
		{ label: 'Created', cell: (u) => time(u.created_at) },
		{ label: 'Actions', cell: actionsCell },
	];
	const pager = new api.Pager('/users');
	list = await pagedTable(pager, { caption: 'Users', columns, rowKey: (u) => u.username }, fail);
	if (!ctx.alive()) return;

	const lonely =
		list.first.length <= 1 && pager.done
			? emptyState('Only you so far.', 'Add the data scientists of your teams with "New user" above. Each gets a first API token, shown once; give it to them, or set a password so they can sign in here.')
			: null;
	const create = disclosure(
		'New user',
		createForm((user) => {
			notice.replaceChildren(
				secretOnce(
					`API token of ${user.username}`,
					user.token,
					`User "${user.username}" was created. This is their first API token: it is shown only this once, so copy it now and hand it over safely.`,
				),
			);
			delete user.token;
			list.addRows([user]);
			if (lonely) lonely.remove();
			toast(`Created user ${user.username}`);
		}),
	);
	mount(
		root,
		pageHeader('Users', 'Everyone who can use the platform. Admins manage it; members work in their teams and projects.'),
		create,
		notice,
		errSlot,
		lonely,
		list,
		list.more,
	);
}

// views/signin.js: the sign-in page (user name + password, or a pasted API token) and
// sign-out. The token goes to sessionStorage only; a password sign-in's session token is
// revoked on sign-out, a pasted token is left alone (it may be a CI pipeline's).
import * as api from '../api.js';
import { h, field, form } from '../ui.js';

async function checkToken(token) {
	const me = await api.get('/users/me', null, { token });
	if (me.token_kind === 'job') {
		throw new api.ApiError(403, 'forbidden', 'this is a job token; sign in with a user token or a password');
	}
	return me;
}

function passwordForm(onSignedIn) {
	return form({
		attrs: { id: 'signin-password', 'aria-labelledby': 'signin-pw-title' },
		submitLabel: 'Sign in',
		fields: [
			h('h2', { id: 'signin-pw-title' }, 'Sign in'),
			field('User name', h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' })),
			field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
		],
		onSubmit: async (v, f) => {
			try {
				const res = await api.post('/auth/login', { username: v.username.trim(), password: v.password }, { token: '' });
				const me = await checkToken(res.token);
				api.session.set(res.token, 'session');
				onSignedIn(me);
			} catch (e) {
				if (e.status === 429 && e.retryAfter) e.message += ` (try again in ${e.retryAfter} s)`;
				f.elements.password.value = '';
				f.elements.password.focus();
				throw e;
			}
		},
	});
}

function tokenForm(onSignedIn) {
	return form({
		attrs: { id: 'signin-token', 'aria-labelledby': 'signin-tok-title' },
		submitLabel: 'Use token',
		submitClass: '',
		fields: [
			h('h2', { id: 'signin-tok-title' }, 'Or use an API token'),
			field(
				'API token',
				h('input', { name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', placeholder: 'atr_…' }),
				'For example the admin token in DATA_DIR/admin.token.',
			),
		],
		onSubmit: async (v) => {
			const token = v.token.trim();
			const me = await checkToken(token);
			api.session.set(token, 'token');
			onSignedIn(me);
		},
	});
}

export function renderSignIn(container, { message, onSignedIn }) {
	const page = h(
		'div',
		{ class: 'signin' },
		h(
			'main',
			{ class: 'signin-card', id: 'main' },
			h('p', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Atrium'),
			h('h1', { class: 'visually-hidden' }, 'Sign in to Atrium'),
			message ? h('p', { class: 'alert info', role: 'status' }, message) : null,
			passwordForm(onSignedIn),
			h('hr'),
			tokenForm(onSignedIn),
		),
	);
	container.replaceChildren(page);
	page.querySelector('input').focus();
}

// Ends the session: revokes a password sign-in's session token (best effort), forgets it.
export async function signOut() {
	const token = api.session.token;
	if (token && api.session.kind === 'session') {
		try {
			const prefix = token.slice(0, 8);
			const mine = await api.get('/tokens', { limit: 100 });
			const t = (mine.items || []).find((x) => x.kind === 'session' && !x.revoked_at && x.prefix === prefix);
			if (t) await api.del(`/tokens/${t.id}`);
		} catch {
			// the session may already be dead; forgetting it is what matters
		}
	}
	api.session.clear();
}

// app.js: the dashboard's shell: the route table, the hash router, the header and navigation,
// and the sign-in gate. Each area of the platform is one module under views/ exporting
// `render(root, ctx)`; it may return a cleanup function, run when the view is left.
import * as api from './api.js';
import { h, errorBox } from './ui.js';
import { renderSignIn, signOut } from './views/signin.js';

/*
 * The route table. An area (projects, datasets, runs, models, workers, jobs, deployments)
 * is one module under views/ and one line here; `section` groups the
 * navigation, `admin` hides the route from members, `nav: false` keeps it out of the menu.
 */
export const ROUTES = [
	{ path: 'overview', title: 'Overview', section: 'Platform', module: './views/overview.js' },
	{ path: 'search', title: 'Search', module: './views/search.js', nav: false },
	{ path: 'projects', title: 'Projects', section: 'Registry', module: './views/projects.js' },
	{ path: 'projects/:project', title: 'Project', module: './views/project.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/datasets', title: 'Datasets', module: './views/datasets.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/datasets/:dataset', title: 'Dataset', module: './views/dataset.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/datasets/:dataset/versions/:version', title: 'Dataset version', module: './views/dataset_version.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/runs', title: 'Runs', module: './views/runs.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/runs/:run', title: 'Run', module: './views/run.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/compare', title: 'Compare runs', module: './views/compare.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/jobs', title: 'Jobs', module: './views/jobs.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/models', title: 'Models', module: './views/models.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/models/:model', title: 'Model', module: './views/model.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/models/:model/versions/:version', title: 'Model version', module: './views/model_version.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/benchmarks', title: 'Benchmarks', module: './views/benchmarks.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/launchers', title: 'Launchers', module: './views/launchers.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/launchers/:launcher', title: 'Launcher', module: './views/launcher.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/benchmarks/:benchmark', title: 'Benchmark', module: './views/benchmark.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/sweeps', title: 'Sweeps', module: './views/sweeps.js', nav: false, parent: 'projects' },
	{ path: 'projects/:project/sweeps/:sweep', title: 'Sweep', module: './views/sweep.js', nav: false, parent: 'projects' },
	{ path: 'competitions', title: 'Competitions', section: 'Registry', module: './views/competitions.js' },
	{ path: 'catalogue', title: 'Catalogue', section: 'Registry', module: './views/catalogue.js' },
	{ path: 'competitions/:competition', title: 'Competition', module: './views/competition.js', nav: false, parent: 'competitions' },
	{ path: 'promotions', title: 'Promotions', section: 'Registry', module: './views/promotions.js', count: 'promotions' },
	{ path: 'jobs', title: 'Jobs', section: 'Compute', module: './views/jobs.js' },
	{ path: 'jobs/:job', title: 'Job', module: './views/job.js', nav: false, parent: 'jobs' },
	{ path: 'projects/:project/deployments', title: 'Deployments', module: './views/deployments.js', nav: false, parent: 'projects' },
	{ path: 'deployments', title: 'Deployments', section: 'Compute', module: './views/deployments.js' },
	{ path: 'deployments/:name', title: 'Deployment', module: './views/deployment.js', nav: false, parent: 'deployments' },
	{ path: 'deployments/:name/monitoring', title: 'Monitoring', module: './views/deployment_monitoring.js', nav: false, parent: 'deployments' },
	{ path: 'workers', title: 'Workers', section: 'Compute', module: './views/workers.js', admin: true },
	{ path: 'workers/:id', title: 'Worker', module: './views/worker.js', nav: false, admin: true, parent: 'workers' },
	{ path: 'clusters', title: 'Clusters', section: 'Compute', module: './views/clusters.js' },
	{ path: 'admin/users', title: 'Users', section: 'Admin', module: './views/users.js', admin: true },
	{ path: 'admin/tokens', title: 'Tokens', section: 'Admin', module: './views/tokens.js' },
	{ path: 'admin/teams', title: 'Teams & quotas', section: 'Admin', module: './views/teams.js' },
	{ path: 'admin/teams/:team', title: 'Team', module: './views/team.js', nav: false, parent: 'admin/teams' },
	{ path: 'admin/join-tokens', title: 'Join tokens', section: 'Admin', module: './views/join_tokens.js', admin: true },
	{ path: 'admin/audit', title: 'Audit log', section: 'Admin', module: './views/audit.js', admin: true },
];

/*
 * Numbers shown next to a navigation entry (`count` in ROUTES): how many things wait for
 * the user. Each is one cheap API call, made again after each navigation and when a view
 * says its number changed (an 'atrium:NAME' event on window).
 */
const COUNTS = {
	// Pending promotions the caller may decide; "50+" past the first page.
	promotions: async () => {
		const page = await api.get('/promotions', { state: 'pending', limit: 50 });
		const n = (page.items || []).length;
		return { n, text: page.next_cursor ? `${n}+` : String(n), label: `${n} pending` };
	},
};
const DEFAULT_ROUTE = 'overview';

const state = {
	me: null, // GET /users/me of the signed-in user
	cleanup: null, // the current view's cleanup
	shell: null, // {root, nav, main, user} once signed in
	renderSeq: 0,
};

// '#/admin/audit?actor=bob' -> {path: 'admin/audit', query: URLSearchParams}
function parseHash() {
	const raw = location.hash.replace(/^#\/?/, '');
	const [path, q] = raw.split('?', 2);
	return { path: path.replace(/\/+$/, '') || DEFAULT_ROUTE, query: new URLSearchParams(q || '') };
}

function match(path) {
	const parts = path.split('/');
	for (const r of ROUTES) {
		const pp = r.path.split('/');
		if (pp.length !== parts.length) continue;
		const params = {};
		let ok = true;
		for (let i = 0; i < pp.length && ok; i++) {
			if (pp[i].startsWith(':')) {
				try {
					params[pp[i].slice(1)] = decodeURIComponent(parts[i]);
				} catch {
					ok = false;
				}
			} else ok = pp[i] === parts[i];
		}
		if (ok) return { route: r, params };
	}
	return null;
}

export function navigate(path, query) {
	const q = query ? api.qs(query) : '';
	const target = '#/' + path + q;
	if (location.hash === target) render();
	else location.hash = target;
}

const isAdmin = () => state.me && state.me.role === 'admin';
const visible = (r) => r.nav !== false && (!r.admin || isAdmin());

function buildNav(current) {
	const sections = new Map();
	for (const r of ROUTES.filter(visible)) {
		if (!sections.has(r.section)) sections.set(r.section, []);
		sections.get(r.section).push(r);
	}
	const active = current ? current.parent || current.path : '';
	return [...sections].map(([name, routes]) =>
		h(
			'div',
			{ class: 'nav-section' },
			h('h2', { class: 'nav-heading' }, name),
			h(
				'ul',
				null,
				routes.map((r) =>
					h(
						'li',
						null,
						h(
							'a',
							{ href: '#/' + r.path, 'aria-current': r.path === active ? 'page' : null },
							r.title,
							r.count ? h('span', { class: 'nav-count', dataset: { count: r.count }, hidden: true }) : null,
						),
					),
				),
			),
		),
	);
}

// Fills the numbers of the navigation (hidden when zero or when the call fails).
function refreshCounts() {
	const nav = state.shell && state.shell.nav;
	if (!nav) return;
	for (const el of nav.querySelectorAll('.nav-count')) {
		const name = el.dataset.count;
		COUNTS[name]().then(
			(c) => {
				el.textContent = c.text;
				el.setAttribute('aria-label', c.label);
				el.hidden = c.n === 0;
			},
			() => {
				el.hidden = true;
			},
		);
	}
}
for (const name of Object.keys(COUNTS)) window.addEventListener(`atrium:${name}`, refreshCounts);

// The top bar's search box: it leads to the search view (#/search?q=...).
function searchBox() {
	const input = h('input', {
		type: 'search',
		name: 'q',
		placeholder: 'Search projects, datasets, models',
		'aria-label': 'Search projects, datasets and models',
		autocomplete: 'off',
		maxlength: 256,
	});
	const f = h('form', { class: 'topsearch', role: 'search' }, input, h('button', { type: 'submit' }, 'Search'));
	f.input = input;
	f.addEventListener('submit', (e) => {
		e.preventDefault();
		const q = input.value.trim();
		if (q) navigate('search', { q });
	});
	return f;
}

function buildShell() {
	const main = h('main', { id: 'main', tabindex: '-1' });
	const nav = h('nav', { class: 'nav', 'aria-label': 'Main' });
	const who = h('span', { class: 'who' });
	const skip = h('a', { class: 'skip', href: '#main' }, 'Skip to content');
	skip.addEventListener('click', (e) => {
		e.preventDefault();
		main.focus();
	});
	const search = searchBox();
	const root = h(
		'div',
		{ class: 'shell' },
		skip,
		h(
			'header',
			{ class: 'topbar' },
			h('a', { class: 'brand', href: '#/overview' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Atrium'),
			search,
			h(
				'div',
				{ class: 'account' },
				who,
				h('button', { type: 'button', class: 'signout', onClick: () => doSignOut('You have signed out.') }, 'Sign out'),
			),
		),
		nav,
		main,
	);
	return { root, nav, main, who, search: search.input };
}

function mountShell() {
	if (!state.shell) state.shell = buildShell();
	const s = state.shell;
	s.who.replaceChildren(
		h('span', { class: 'who-name' }, state.me.display_name || state.me.username),
		' ',
		h('span', { class: 'badge' }, state.me.role),
	);
	s.who.title = `signed in as ${state.me.username}`;
	const app = document.getElementById('app');
	if (!s.root.isConnected) app.replaceChildren(s.root);
}

function leaveView() {
	if (state.cleanup) {
		try {
			state.cleanup();
		} catch (e) {
			console.error(e);
		}
		state.cleanup = null;
	}
}

function showSignIn(message) {
	leaveView();
	state.me = null;
	state.shell = null;
	document.title = 'Sign in · Atrium';
	renderSignIn(document.getElementById('app'), {
		message,
		onSignedIn: (me) => {
			state.me = me;
			if (parseHash().path === 'signin') history.replaceState(null, '', '#/' + DEFAULT_ROUTE);
			render();
		},
	});
}

async function doSignOut(message) {
	await signOut();
	history.replaceState(null, '', '#/' + DEFAULT_ROUTE);
	showSignIn(message);
}

// Passed to every view.
function context(route, params, query, seq) {
	return {
		me: state.me,
		isAdmin: isAdmin(),
		params,
		query,
		navigate,
		// Replaces the view's query (filters) in the address, which renders it again.
		setQuery: (q) => navigate(parseHash().path, q),
		// false once the user went elsewhere: late answers must not touch the page.
		alive: () => seq === state.renderSeq,
		signOut: doSignOut,
	};
}

async function render() {
	const seq = ++state.renderSeq;
	const { path, query } = parseHash();
	if (!api.session.token) {
		showSignIn();
		return;
	}
	if (!state.me) {
		// The view's module loads while /users/me is asked (not one after the other).
		const early = match(path);
		if (early && path !== 'signin') import(early.route.module).catch(() => {});
		try {
			state.me = await api.get('/users/me');
		} catch (err) {
			if (err.status === 401 || !api.session.token) {
				showSignIn('Your sign-in is no longer valid. Sign in again.');
				return;
			}
			document.getElementById('app').replaceChildren(errorBox(err, render));
			return;
		}
		if (seq !== state.renderSeq) return;
	}
	if (path === 'signin') {
		navigate(DEFAULT_ROUTE);
		return;
	}
	mountShell();
	leaveView();
	const m = match(path);
	const s = state.shell;
	s.nav.replaceChildren(...buildNav(m && m.route));
	refreshCounts();
	if (path === 'search') s.search.value = query.get('q') || '';
	const root = h('div', { class: 'view', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading…'));
	s.main.replaceChildren(root);
	if (!m) {
		document.title = 'Not found · Atrium';
		root.replaceChildren(
			h('h1', { tabindex: '-1' }, 'Page not found'),
			h('p', null, 'There is nothing at this address. ', h('a', { href: '#/' + DEFAULT_ROUTE }, 'Go to the overview'), '.'),
		);
		root.removeAttribute('aria-busy');
		return;
	}
	document.title = `${m.route.title} · Atrium`;
	if (m.route.admin && !isAdmin()) {
		root.replaceChildren(h('h1', { tabindex: '-1' }, m.route.title), h('p', null, 'Only admins can see this page.'));
		root.removeAttribute('aria-busy');
		return;
	}
	try {
		const mod = await import(m.route.module);
		if (seq !== state.renderSeq) return;
		const cleanup = await mod.render(root, context(m.route, m.params, query, seq));
		if (seq !== state.renderSeq) {
			if (typeof cleanup === 'function') cleanup();
			return;
		}
		state.cleanup = typeof cleanup === 'function' ? cleanup : null;
	} catch (err) {
		if (seq !== state.renderSeq || !api.session.token) return;
		console.error(err);
		root.replaceChildren(h('h1', { tabindex: '-1' }, m.route.title), errorBox(err, render));
	}
	root.removeAttribute('aria-busy');
	if (navigated) {
		const h1 = root.querySelector('h1');
		if (h1) h1.focus({ preventScroll: true });
	}
}

// Focus moves to the new heading after the user navigates, not on the first load.
let navigated = false;
window.addEventListener('hashchange', () => {
	navigated = true;
	render();
});

api.setUnauthorizedHandler(() => {
	state.renderSeq++;
	showSignIn('Your session has ended. Sign in again.');
});

render();

// seed.mjs: fills a fresh Atrium with a small, known world through the public REST API,
// for the browser tests (and for trying the dashboard by hand):
//   node tests/web/seed.mjs http://127.0.0.1:8080 "$(cat data/admin.token)" > seed.json
// Prints what it made as JSON (names, passwords, tokens) for the tests to assert on.

const [base, adminToken] = process.argv.slice(2);
if (!base || !adminToken) {
	console.error('usage: node seed.mjs BASE_URL ADMIN_TOKEN');
	process.exit(2);
}

async function call(method, path, token, body) {
	const res = await fetch(base + '/api/v1' + path, {
		method,
		headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
		body: body ? JSON.stringify(body) : undefined,
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`seed: ${method} ${path}: ${res.status} ${text}`);
	return text ? JSON.parse(text) : null;
}

export const USERS = [
	{ username: 'alice', display_name: 'Alice Martin', role: 'member', password: 'alice-password-1' },
	{ username: 'bob', display_name: 'Bob Chen', role: 'member' },
	{ username: 'carol', display_name: 'Carol Diaz', role: 'admin' },
	{ username: 'dave', display_name: 'Dave Okafor', role: 'member', disabled: true },
	// markup in a name must show as text, never run
	{ username: 'mallory', display_name: '<img src=x onerror="window.__xss=1">Mallory', role: 'member' },
];

export const TEAMS = [
	{ name: 'vision', description: 'Computer vision', max_gpus: 8, max_concurrent_jobs: 4 },
	{ name: 'nlp', description: 'Language models', max_gpus: 4, max_concurrent_jobs: null },
	{ name: 'platform', description: 'CoE platform team', max_gpus: null, max_concurrent_jobs: null },
];

export const MEMBERS = [
	['vision', 'alice', 'maintainer'],
	['vision', 'bob', 'member'],
	['nlp', 'bob', 'maintainer'],
	['nlp', 'carol', 'member'],
];

// Enough audited changes that the audit log has more than one page (50).
const DESCRIPTION_EDITS = 40;

async function seed() {
	const out = { users: USERS, teams: TEAMS, members: MEMBERS, tokens: {} };
	for (const u of USERS) {
		const body = { username: u.username, display_name: u.display_name, role: u.role };
		if (u.password) body.password = u.password;
		const made = await call('POST', '/users', adminToken, body);
		out.tokens[u.username] = made.token;
		if (u.disabled) await call('PATCH', `/users/${u.username}`, adminToken, { disabled: true });
	}
	for (const t of TEAMS) await call('POST', '/teams', adminToken, t);
	for (const [team, user, role] of MEMBERS) await call('PUT', `/teams/${team}/members/${user}`, adminToken, { role });
	await call('POST', '/tokens', out.tokens.alice, { name: 'ci-pipeline' });
	await call('POST', '/tokens', out.tokens.bob, { name: 'notebook' });
	const keep = await call('POST', '/tokens', adminToken, { name: 'admin-ci', expires_at: '2999-01-01T00:00:00Z' });
	const old = await call('POST', '/tokens', adminToken, { name: 'old-laptop' });
	await call('DELETE', `/tokens/${old.id}`, adminToken);
	out.adminTokens = { kept: keep.name, revoked: old.name };
	for (let i = 1; i <= DESCRIPTION_EDITS; i++) {
		await call('PATCH', '/teams/platform', adminToken, { description: `CoE platform team (rev ${i})` });
	}
	TEAMS[2].description = `CoE platform team (rev ${DESCRIPTION_EDITS})`;
	return out;
}

seed().then(
	(out) => process.stdout.write(JSON.stringify(out, null, 1) + '\n'),
	(err) => {
		console.error(err.message);
		process.exit(1);
	},
);

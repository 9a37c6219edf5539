// dashboard.test.mjs: the dashboard in a real headless Chromium against a real daemon.
// Started by tests/web/run.sh, which starts the daemon, seeds it (seed.mjs) and passes:
//   ATRIUM_URL, ATRIUM_ADMIN_TOKEN, ATRIUM_ADMIN_PASSWORD, SEED_FILE, SCREENSHOT_DIR,
//   CHROMIUM (default /usr/bin/chromium), WEB_TEST_FILTER (optional: run tests whose name has it)
// Tests assert on content (seeded names, figures from the API), not only that pages load, and
// check through the API that what the UI did really happened. Screenshots of each view go to
// SCREENSHOT_DIR/<view>.png; a failing test leaves SCREENSHOT_DIR/failed-<n>.png.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.ATRIUM_URL;
const adminToken = process.env.ATRIUM_ADMIN_TOKEN;
const adminPassword = process.env.ATRIUM_ADMIN_PASSWORD;
const seed = JSON.parse(fs.readFileSync(process.env.SEED_FILE, 'utf8'));
const shots = process.env.SCREENSHOT_DIR || 'build/test-logs/web/screenshots';
const filter = process.env.WEB_TEST_FILTER || '';
const TEST_TIMEOUT_MS = 180_000; // per test; the machine is small and shared, the server has ASan
const STEP_TIMEOUT_MS = 30_000; // per wait / action

// ---------- a tiny runner ----------
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// ---------- the API, for checking what the UI did ----------
async function api(method, p, token = adminToken, body) {
	const res = await fetch(base + '/api/v1' + p, {
		method,
		headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
		body: body ? JSON.stringify(body) : undefined,
	});
	const text = await res.text();
	return { status: res.status, json: text ? JSON.parse(text) : null };
}
async function apiOk(method, p, token, body) {
	const r = await api(method, p, token, body);
	assert.ok(r.status >= 200 && r.status < 300, `${method} ${p}: ${r.status} ${JSON.stringify(r.json)}`);
	return r.json;
}

// Retries an assertion until it holds (polling, not sleeping a fixed time).
async function eventually(fn, what, timeout = STEP_TIMEOUT_MS) {
	const end = Date.now() + timeout;
	for (;;) {
		try {
			return await fn();
		} catch (e) {
			if (Date.now() > end) throw new Error(`${what}: ${e.message}`);
		}
		await new Promise((r) => setTimeout(r, 150));
	}
}

// ---------- page helpers ----------
const text = async (loc) => ((await loc.textContent()) || '').replace(/\s+/g, ' ').trim();

async function shot(page, name) {
	await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function openSignIn(page) {
	await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
	await page.locator('#signin-password input[name=username]').waitFor();
}

async function signInPassword(page, username, password) {
	await openSignIn(page);
	await page.locator('#signin-password input[name=username]').fill(username);
	await page.locator('#signin-password input[name=password]').fill(password);
	await page.locator('#signin-password button[type=submit]').click();
}

async function signInToken(page, token) {
	await openSignIn(page);
	await page.locator('#signin-token input[name=token]').fill(token);
	await page.locator('#signin-token button[type=submit]').click();
}

async function signedIn(page) {
	await page.locator('nav.nav a').first().waitFor();
	await page.locator('main .view:not([aria-busy])').waitFor();
}

// Goes to a view by its address and waits until it has rendered with its heading.
async function view(page, hash, heading) {
	await page.evaluate((h) => {
		location.hash = h;
	}, '#/' + hash);
	await page.locator('main .view:not([aria-busy]) h1', { hasText: heading }).first().waitFor();
}

// Signs in with the admin token and opens a view.
async function asAdmin(page, hash, heading) {
	await signInToken(page, adminToken);
	await signedIn(page);
	await view(page, hash, heading);
}

const row = (page, key) => page.locator(`main tr[data-key="${key}"]`);

async function confirm(page, label) {
	const btn = page.locator('dialog[open] button', { hasText: label });
	await btn.click();
	await page.locator('dialog[open]').waitFor({ state: 'detached' });
}

const cardFigure = (page, key) => text(page.locator(`[data-stat="${key}"] .figure`));
const session = (page) => page.evaluate(() => ({ token: sessionStorage.getItem('atrium.token'), local: localStorage.length }));

// ---------- the tests ----------

test('password sign-in: the overview shows the figures of the stats endpoint', async (page, ctx) => {
	await signInPassword(page, 'admin', adminPassword);
	await signedIn(page);
	await page.locator('[data-stat="users"] .figure').waitFor();
	const stats = await apiOk('GET', '/admin/stats');
	// the seeded world: admin + the seeded users, the seeded teams
	assert.equal(stats.totals.users.total, 1 + seed.users.length);
	assert.equal(await cardFigure(page, 'users'), String(stats.totals.users.total));
	assert.equal(await cardFigure(page, 'teams'), String(seed.teams.length));
	assert.equal(await cardFigure(page, 'tokens'), String(stats.totals.tokens.active));
	assert.match(await text(page.locator('[data-stat="users"] .detail')), new RegExp(`${stats.totals.users.admins} admins · ${stats.totals.users.disabled} disabled`));
	const last = stats.series[stats.series.length - 1];
	assert.equal(await cardFigure(page, 'active'), String(last.active_users));
	// what later phases bring says so
	for (const k of ['projects', 'workers', 'gpus', 'jobs', 'deployments']) {
		assert.equal(await text(page.locator(`[data-stat="${k}"] .detail`)), 'not available yet', k);
	}
	// the adoption chart is drawn (uPlot canvas) and its table holds the API's figures
	await page.locator('.chart .uplot canvas').first().waitFor();
	await page.locator('details.figures summary').click();
	const firstRow = page.locator('details.figures tbody tr').first();
	assert.equal(await page.locator('details.figures tbody tr').count(), stats.series.length);
	assert.equal(await text(firstRow.locator('td').nth(0)), last.bucket_start.slice(0, 10));
	assert.equal(await text(firstRow.locator('td').nth(1)), String(last.active_users));
	assert.equal(await text(firstRow.locator('td').nth(2)), String(last.requests));
	// the token is in sessionStorage only: no cookies, nothing in localStorage
	const s = await session(page);
	assert.match(s.token, /^atr_/);
	assert.equal(s.local, 0);
	assert.equal((await ctx.cookies()).length, 0);
	await shot(page, 'overview');
	// per-day resolution re-renders from the address
	await page.locator('select[name=bucket]').selectOption('day');
	await page.locator('main .view:not([aria-busy]) h2', { hasText: 'Adoption per day' }).waitFor();
	assert.match(page.url(), /bucket=day/);
});

test('wrong password shows the API error on the sign-in form', async (page) => {
	const apiAnswer = await api('POST', '/auth/login', null, { username: 'nobody-here', password: 'nope' });
	assert.equal(apiAnswer.status, 401);
	await signInPassword(page, 'alice', 'not-alices-password');
	const alert = page.locator('#signin-password .form-error [role=alert]');
	await alert.waitFor();
	assert.equal(await text(alert), apiAnswer.json.error.message);
	assert.equal((await session(page)).token, null);
	await shot(page, 'signin');
});

test('wrong token shows the API error on the sign-in form', async (page) => {
	const bad = 'atr_' + 'x'.repeat(43);
	const apiAnswer = await api('GET', '/users/me', bad);
	assert.equal(apiAnswer.status, 401);
	await signInToken(page, bad);
	const alert = page.locator('#signin-token .form-error [role=alert]');
	await alert.waitFor();
	assert.equal(await text(alert), apiAnswer.json.error.message);
	assert.equal((await session(page)).token, null);
});

test('pasted token sign-in, then sign-out forgets it (and leaves the token alive)', async (page) => {
	await signInToken(page, adminToken);
	await signedIn(page);
	assert.match(await text(page.locator('.topbar .who')), /admin/);
	assert.equal((await session(page)).token, adminToken);
	await page.locator('button.signout').click();
	await page.locator('#signin-password').waitFor();
	assert.match(await text(page.locator('.signin-card [role=status]')), /signed out/);
	assert.equal((await session(page)).token, null);
	assert.equal((await api('GET', '/users/me')).status, 200, 'a pasted token is not revoked by signing out');
});

test('member password sign-in: member views only; sign-out revokes the session', async (page) => {
	const alice = seed.users.find((u) => u.username === 'alice');
	await signInPassword(page, 'alice', alice.password);
	await signedIn(page);
	const navText = await text(page.locator('nav.nav'));
	assert.match(navText, /Tokens/);
	assert.match(navText, /Teams & quotas/);
	assert.doesNotMatch(navText, /Users|Audit log/);
	// her teams, from /users/me
	await page.locator('main', { hasText: 'Your teams' }).waitFor();
	assert.match(await text(page.locator('main')), /vision \(maintainer\)/);
	// an admin page by address says no
	await view(page, 'admin/audit', 'Audit log');
	assert.match(await text(page.locator('main')), /Only admins/);
	const tok = (await session(page)).token;
	assert.equal((await api('GET', '/users/me', tok)).status, 200);
	await page.locator('button.signout').click();
	await page.locator('#signin-password').waitFor();
	await eventually(async () => assert.equal((await api('GET', '/users/me', tok)).status, 401), 'session revoked');
});

test('users view lists the seeded users, and markup in names stays text', async (page) => {
	await asAdmin(page, 'admin/users', 'Users');
	for (const u of seed.users) {
		const r = row(page, u.username);
		await r.waitFor();
		assert.match(await text(r), new RegExp(u.username));
		assert.equal(await r.locator('select[name=role]').inputValue(), u.role, `${u.username} role`);
		assert.match(await text(r), u.disabled ? /disabled/ : /active/);
	}
	assert.match(await text(row(page, 'alice')), /Alice Martin/);
	const mallory = seed.users.find((u) => u.username === 'mallory');
	assert.equal(await text(row(page, 'mallory').locator('td').nth(1)), mallory.display_name);
	assert.equal(await page.locator('main img').count(), 0);
	assert.equal(await page.evaluate(() => window.__xss), undefined);
	await shot(page, 'users');
});

test('create a user from the UI: the one-time token works, the API has the user', async (page, ctx) => {
	await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
	await asAdmin(page, 'admin/users', 'Users');
	await page.locator('summary', { hasText: 'New user' }).click();
	const f = page.locator('main form');
	await f.locator('input[name=username]').fill('erin');
	await f.locator('input[name=display_name]').fill('Erin Park');
	await f.locator('select[name=role]').selectOption('member');
	await f.locator('input[name=password]').fill('erin-password-1');
	await f.locator('button[type=submit]').click();
	const secret = page.locator('.secret-once input.secret');
	await secret.waitFor();
	const token = await secret.inputValue();
	assert.match(token, /^atr_/);
	await row(page, 'erin').waitFor();
	assert.match(await text(row(page, 'erin')), /Erin Park/);
	const me = await apiOk('GET', '/users/me', token);
	assert.equal(me.username, 'erin');
	const erin = await apiOk('GET', '/users/erin');
	assert.equal(erin.display_name, 'Erin Park');
	assert.equal(erin.role, 'member');
	assert.equal(erin.has_password, true);
	await page.locator('.secret-once button', { hasText: 'Copy' }).click();
	await page.locator('.secret-once button', { hasText: 'Copied' }).waitFor();
	assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
	// a duplicate name shows the API's 409 message in the form
	await f.locator('input[name=username]').fill('erin');
	await f.locator('button[type=submit]').click();
	await page.locator('main form .form-error [role=alert]', { hasText: "user 'erin' already exists" }).waitFor();
	await shot(page, 'users-created');
});

test('disable, enable and change the role of a user from the UI', async (page) => {
	await asAdmin(page, 'admin/users', 'Users');
	await row(page, 'bob').locator('button', { hasText: 'Disable' }).click();
	await confirm(page, 'Disable');
	await row(page, 'bob').locator('button', { hasText: 'Enable' }).waitFor();
	assert.equal((await apiOk('GET', '/users/bob')).disabled, true);
	await row(page, 'bob').locator('button', { hasText: 'Enable' }).click();
	await row(page, 'bob').locator('button', { hasText: 'Disable' }).waitFor();
	assert.equal((await apiOk('GET', '/users/bob')).disabled, false);
	await row(page, 'bob').locator('select[name=role]').selectOption('admin');
	await confirm(page, 'Change role');
	await eventually(async () => assert.equal((await apiOk('GET', '/users/bob')).role, 'admin'), 'bob is admin');
	await row(page, 'bob').locator('select[name=role]').selectOption('member');
	await confirm(page, 'Change role');
	await eventually(async () => assert.equal((await apiOk('GET', '/users/bob')).role, 'member'), 'bob is member');
	// cancelling leaves the role as it was
	await row(page, 'alice').locator('select[name=role]').selectOption('admin');
	await confirm(page, 'Cancel');
	assert.equal(await row(page, 'alice').locator('select[name=role]').inputValue(), 'member');
	assert.equal((await apiOk('GET', '/users/alice')).role, 'member');
});

test('tokens view: seeded tokens listed; create one, then revoke it', async (page) => {
	await asAdmin(page, 'admin/tokens', 'Tokens');
	const mine = (await apiOk('GET', '/tokens')).items;
	const kept = mine.find((t) => t.name === seed.adminTokens.kept);
	const revoked = mine.find((t) => t.name === seed.adminTokens.revoked);
	assert.match(await text(row(page, kept.id)), /admin-ci.*active/);
	assert.match(await text(row(page, revoked.id)), /old-laptop.*revoked/);
	assert.match(await text(row(page, kept.id)), new RegExp(kept.prefix));
	await shot(page, 'tokens');
	await page.locator('summary', { hasText: 'New token' }).click();
	await page.locator('main form input[name=name]').fill('ui-made');
	await page.locator('main form button[type=submit]').click();
	const secret = page.locator('.secret-once input.secret');
	await secret.waitFor();
	const token = await secret.inputValue();
	assert.equal((await apiOk('GET', '/users/me', token)).username, 'admin');
	const made = (await apiOk('GET', '/tokens')).items.find((t) => t.name === 'ui-made');
	await row(page, made.id).locator('button', { hasText: 'Revoke' }).click();
	await confirm(page, 'Revoke');
	await row(page, made.id).locator('.badge', { hasText: 'revoked' }).waitFor();
	assert.equal((await api('GET', '/users/me', token)).status, 401);
});

test('teams view lists the seeded teams with their quotas and member counts', async (page) => {
	await asAdmin(page, 'admin/teams', 'Teams & quotas');
	for (const t of seed.teams) {
		const r = row(page, t.name);
		await r.waitFor();
		const cells = r.locator('td');
		assert.equal(await text(cells.nth(0)), t.name);
		assert.equal(await text(cells.nth(1)), t.description);
		const members = seed.members.filter(([team]) => team === t.name).length;
		assert.equal(await text(cells.nth(2)), String(members), `${t.name} members`);
		assert.equal(await text(cells.nth(3)), t.max_gpus === null ? 'unlimited' : String(t.max_gpus));
		assert.equal(await text(cells.nth(4)), t.max_concurrent_jobs === null ? 'unlimited' : String(t.max_concurrent_jobs));
	}
	await shot(page, 'teams');
	// a team's page shows its members and their roles
	await row(page, 'vision').locator('a').click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Team vision' }).waitFor();
	for (const [team, user, role] of seed.members.filter(([t]) => t === 'vision')) {
		assert.equal(await row(page, user).locator('select[name=role]').inputValue(), role, `${user} in ${team}`);
	}
	assert.equal(await page.locator('main input[name=max_gpus]').inputValue(), '8');
	await shot(page, 'team');
});

test('create a team, set its quota and manage members from the UI', async (page) => {
	await asAdmin(page, 'admin/teams', 'Teams & quotas');
	await page.locator('summary', { hasText: 'New team' }).click();
	const f = page.locator('main form');
	await f.locator('input[name=name]').fill('robotics');
	await f.locator('input[name=description]').fill('Robot learning');
	await f.locator('input[name=max_gpus]').fill('2');
	await f.locator('button[type=submit]').click();
	// creating leads to the team's page
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Team robotics' }).waitFor();
	let t = await apiOk('GET', '/teams/robotics');
	assert.equal(t.max_gpus, 2);
	assert.equal(t.max_concurrent_jobs, null);
	await page.locator('main input[name=max_gpus]').fill('6');
	await page.locator('main input[name=max_concurrent_jobs]').fill('3');
	await page.locator('main button', { hasText: 'Save' }).click();
	await eventually(async () => {
		t = await apiOk('GET', '/teams/robotics');
		assert.equal(t.max_gpus, 6);
		assert.equal(t.max_concurrent_jobs, 3);
	}, 'quota saved');
	// blank clears a quota (unlimited)
	await page.locator('main input[name=max_concurrent_jobs]').fill('');
	await page.locator('main button', { hasText: 'Save' }).click();
	await eventually(async () => assert.equal((await apiOk('GET', '/teams/robotics')).max_concurrent_jobs, null), 'quota cleared');
	// members
	await page.locator('main input[name=username]').fill('alice');
	await page.locator('main form select[name=role]').selectOption('maintainer');
	await page.locator('main button', { hasText: 'Add member' }).click();
	await row(page, 'alice').waitFor();
	t = await apiOk('GET', '/teams/robotics');
	assert.deepEqual(t.members.map((m) => [m.username, m.role]), [['alice', 'maintainer']]);
	await row(page, 'alice').locator('select[name=role]').selectOption('member');
	await eventually(async () => assert.equal((await apiOk('GET', '/teams/robotics')).members[0].role, 'member'), 'role changed');
	// an unknown user: the API's 404 shows in the form
	await page.locator('main input[name=username]').fill('ghost');
	await page.locator('main button', { hasText: 'Add member' }).click();
	await page.locator("main .form-error [role=alert]", { hasText: "user 'ghost' does not exist" }).waitFor();
	await row(page, 'alice').locator('button', { hasText: 'Remove' }).click();
	await confirm(page, 'Remove');
	await page.locator('main .empty', { hasText: 'No members yet' }).waitFor();
	assert.equal((await apiOk('GET', '/teams/robotics')).members.length, 0);
});

test('audit log shows the actions taken in the UI, filters, and loads more', async (page) => {
	await asAdmin(page, 'admin/audit', 'Audit log');
	const rows = page.locator('main tbody tr');
	await rows.first().waitFor();
	assert.equal(await rows.count(), 50);
	// newest first: the last UI actions of the team test lead
	assert.match(await text(rows.nth(0)), /teams\.members\.remove.*team:robotics\/member:alice.*204/);
	await shot(page, 'audit');
	// more than one page: "Load more" appends the next
	await page.locator('button.load-more').click();
	await eventually(async () => assert.ok((await rows.count()) > 50), 'second page');
	const ids = await page.locator('main tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.key));
	assert.equal(new Set(ids).size, ids.length, 'no entry twice');
	// filter by action prefix (in the address, so it can be shared)
	await page.locator('main input[name=action]').fill('users');
	await page.locator('main button', { hasText: 'Apply filters' }).click();
	await page.waitForURL(/action=users/);
	await eventually(async () => {
		const actions = await page.locator('main tbody tr td:nth-child(3)').allTextContents();
		assert.ok(actions.length > 0);
		for (const a of actions) assert.match(a.trim(), /^users\./);
		assert.ok(actions.some((a) => a.trim() === 'users.create'));
	}, 'only users.* entries');
	assert.match(await text(page.locator('main tbody')), /users\.create.*user:erin.*201/);
	assert.match(await text(page.locator('main tbody')), /users\.update.*user:bob/);
	// by actor and action prefix: the team made in the UI, its quota changes and members
	await page.locator('main input[name=action]').fill('teams');
	await page.locator('main input[name=actor]').fill('admin');
	await page.locator('main button', { hasText: 'Apply filters' }).click();
	await page.waitForURL(/actor=admin/);
	await page.locator('main tbody tr', { hasText: 'teams.create' }).filter({ hasText: 'team:robotics' }).waitFor();
	const robotics = await page.locator('main tbody tr', { hasText: 'team:robotics' }).allTextContents();
	for (const action of ['teams.create', 'teams.update', 'teams.members.set', 'teams.members.remove']) {
		assert.ok(robotics.some((r) => r.includes(action)), `${action} of robotics listed`);
	}
	assert.equal(robotics.filter((r) => r.includes('teams.update')).length, 2, 'two quota saves');
	// nothing matches: an empty state that says so
	await page.locator('main input[name=actor]').fill('nobody-at-all');
	await page.locator('main button', { hasText: 'Apply filters' }).click();
	await page.locator('main .empty', { hasText: 'No entries match these filters' }).waitFor();
	await page.locator('main button', { hasText: 'Clear filters' }).click();
	await page.locator('main tbody tr').first().waitFor();
	// since (UTC): nothing after 2100 yet
	await page.locator('main input[name=since]').fill('2100-01-01T00:00');
	await page.locator('main button', { hasText: 'Apply filters' }).click();
	await page.waitForURL(/since=2100-01-01T00%3A00%3A00Z/);
	await page.locator('main .empty', { hasText: 'No entries match these filters' }).waitFor();
	assert.equal(await page.locator('main input[name=since]').inputValue(), '2100-01-01T00:00');
});

test('an ended session sends the user back to sign-in', async (page) => {
	const t = await apiOk('POST', '/users/carol/tokens', adminToken, { name: 'short-lived' });
	await signInToken(page, t.token);
	await signedIn(page);
	await apiOk('DELETE', `/tokens/${t.id}`);
	// the next call of the view answers 401: the dashboard gives up the token
	await page.evaluate(() => {
		location.hash = '#/admin/users';
	});
	await page.locator('#signin-password').waitFor();
	assert.match(await text(page.locator('.signin-card [role=status]')), /session has ended/);
	assert.equal((await session(page)).token, null);
});

test('narrow screen (400 px): navigation stays visible and nothing overflows', async (page) => {
	await page.setViewportSize({ width: 400, height: 860 });
	await openSignIn(page);
	await shot(page, 'signin-narrow');
	await signInToken(page, adminToken);
	await signedIn(page);
	for (const label of ['Overview', 'Users', 'Tokens', 'Teams & quotas', 'Audit log']) {
		const link = page.locator('nav.nav a', { hasText: label });
		assert.ok(await link.isVisible(), `${label} visible`);
		const box = await link.boundingBox();
		assert.ok(box && box.x >= 0 && box.x + box.width <= 400, `${label} inside the screen`);
	}
	await page.locator('[data-stat="users"] .figure').waitFor();
	assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 401), 'no sideways scrolling');
	await shot(page, 'overview-narrow');
	await page.locator('nav.nav a', { hasText: 'Users' }).click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Users' }).waitFor();
	await row(page, 'alice').waitFor();
	assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 401), 'no sideways scrolling (users)');
	await shot(page, 'users-narrow');
});

test('keyboard: the skip link and the navigation are reachable, unknown pages say so', async (page) => {
	await signInToken(page, adminToken);
	await signedIn(page);
	// a reload keeps the tab's session and starts keyboard navigation from the top
	await page.reload({ waitUntil: 'domcontentloaded' });
	await signedIn(page);
	await page.keyboard.press('Tab');
	assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
	await page.keyboard.press('Enter');
	assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
	await page.locator('nav.nav a', { hasText: 'Audit log' }).focus();
	await page.keyboard.press('Enter');
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Audit log' }).waitFor();
	assert.equal(await page.locator('nav.nav a[aria-current=page]').textContent(), 'Audit log');
	await view(page, 'no/such/page', 'Page not found');
});

// ---------- run ----------
async function main() {
	fs.mkdirSync(shots, { recursive: true });
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-chromium-'));
	const ctx = await chromium.launchPersistentContext(profile, {
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		viewport: { width: 1280, height: 860 },
		timeout: 120_000,
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-background-networking',
			'--disable-component-update',
			'--no-first-run',
			'--disable-sync',
			'--disable-quic',
		],
	});
	ctx.setDefaultTimeout(STEP_TIMEOUT_MS);
	let failed = 0;
	let ran = 0;
	for (const t of tests) {
		if (filter && !t.name.includes(filter)) continue;
		ran++;
		const page = await ctx.newPage(); // a new tab: a fresh sessionStorage
		const problems = [];
		page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
		page.on('console', (m) => {
			// 4xx answers the test provokes are logged by Chromium; anything else is a bug
			if (m.type() === 'error' && !/the server responded with a status of 4\d\d/.test(m.text())) {
				problems.push(`console error: ${m.text()}`);
			}
		});
		const started = Date.now();
		let timer;
		try {
			await Promise.race([
				t.fn(page, ctx),
				new Promise((_, rej) => {
					timer = setTimeout(() => rej(new Error(`timed out after ${TEST_TIMEOUT_MS / 1000} s`)), TEST_TIMEOUT_MS);
				}),
			]);
			if (problems.length) throw new Error(problems.join('\n'));
			console.log(`  ok    ${t.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
		} catch (e) {
			failed++;
			console.log(`  FAIL  ${t.name}\n        ${String(e.stack || e).split('\n').join('\n        ')}`);
			if (problems.length) console.log(`        ${problems.join('\n        ')}`);
			await page.screenshot({ path: path.join(shots, `failed-${ran}.png`), fullPage: true }).catch(() => {});
		} finally {
			clearTimeout(timer);
			await ctx.clearPermissions();
			await page.close();
		}
	}
	await ctx.close();
	fs.rmSync(profile, { recursive: true, force: true });
	console.log(`${ran - failed} of ${ran} browser tests passed`);
	return failed === 0 && ran > 0 ? 0 : 1;
}

main().then(
	(rc) => process.exit(rc),
	(e) => {
		console.error(e);
		process.exit(1);
	},
);

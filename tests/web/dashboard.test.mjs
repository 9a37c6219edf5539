// dashboard.test.mjs: the dashboard in a real headless Chromium against a real daemon.
// Started by tests/web/run.sh, which starts the daemon, seeds it (seed.mjs) and passes:
//   ATRIUM_URL, ATRIUM_ADMIN_TOKEN, ATRIUM_ADMIN_PASSWORD, SEED_FILE, SCREENSHOT_DIR,
//   CHROMIUM (default /usr/bin/chromium), WEB_TEST_FILTER (optional: run tests whose name has it;
//   several alternatives separated by '|')
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

// The screenshots docs/dashboard.md shows: with DOCS_IMG_DIR=docs/img they are written there
// too (the visible part of the page, 1280 px wide).
const DOC_SHOTS = new Set(['runs-table', 'job-failed', 'jobs-queue', 'overview-quotas', 'compare', 'clusters', 'competition']);
async function shot(page, name) {
	await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
	if (process.env.DOCS_IMG_DIR && DOC_SHOTS.has(name)) await page.screenshot({ path: path.join(process.env.DOCS_IMG_DIR, `${name}.png`) });
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
const panelOf = (page, titleId) => page.locator(`main section[aria-labelledby="${titleId}"]`);
const prow = (page, titleId, key) => panelOf(page, titleId).locator(`tr[data-key="${key}"]`);
const itext = async (loc) => (await loc.innerText()).replace(/\s+/g, ' ').trim();
const cellTexts = (loc) => loc.locator('td').evaluateAll((tds) => tds.map((td) => td.innerText.replace(/\s+/g, ' ').trim()));

async function confirm(page, label) {
	const btn = page.locator('dialog[open] button', { hasText: label });
	await btn.click();
	await page.locator('dialog[open]').waitFor({ state: 'detached' });
}

const cardFigure = (page, key) => text(page.locator(`[data-stat="${key}"] .figure`));
const JOB_STATES = ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'lost'];
// GPU-hours as the overview writes them (views/overview.js fmtHours)
function fmtHours(v) {
	if (v === 0) return '0';
	if (v < 0.1) return String(Number(v.toPrecision(2)));
	return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);
}
// a number as the runs table writes it (ui.js fmtCompact)
function compact(v) {
	const a = Math.abs(v);
	if (Number.isInteger(v) && a < 1e6) return String(v);
	if (a === 0) return '0';
	if (a >= 1000 && a < 1e6) return String(Math.round(v));
	if (a >= 1e-3 && a < 1000) return String(Number(v.toPrecision(3)));
	return v.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
}
// the runs table's column choice and widths are remembered per project: forget them
const forgetColumns = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('atrium.runs.')).forEach((k) => localStorage.removeItem(k)));
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
	// the registry and the workers, as seeded: cats, secret-lab and old-project (archived);
	// photos (3 versions), captions (1) and scorer-ref (1: the monitoring reference, seedMonitoring); detector (3 versions), tiny-llm (1),
	// cat-classifier (1, made by the train-small job) and scorer (2, served by cat-scorer);
	// two pending promotions; gpu-a online with 4 fake GPUs (run.sh) and gpu-old offline
	const t = stats.totals;
	assert.deepEqual(t.projects, { total: seed.projects.length, archived: 1 });
	assert.deepEqual(t.datasets, { total: 3, versions: 5 });
	assert.deepEqual(t.models, { total: 4, versions: 7 });
	assert.deepEqual(t.promotions, { pending: 2 });
	assert.deepEqual(t.workers, { online: 1, offline: 1, schedulable: 1 });
	assert.deepEqual(t.gpus, { total: 4, busy: 0, in_use: 0 });
	assert.equal(await cardFigure(page, 'projects'), '3');
	assert.equal(await text(page.locator('[data-stat="projects"] .detail')), '1 archived');
	assert.equal(await cardFigure(page, 'datasets'), '3');
	assert.equal(await text(page.locator('[data-stat="datasets"] .detail')), '5 versions');
	assert.equal(await cardFigure(page, 'models'), '4');
	assert.equal(await cardFigure(page, 'promotions'), '2');
	assert.equal(await cardFigure(page, 'workers'), '1');
	assert.equal(await text(page.locator('[data-stat="workers"] .detail')), '1 offline · 1 schedulable');
	assert.equal(await cardFigure(page, 'gpus'), '4');
	assert.equal(await text(page.locator('[data-stat="gpus"] .detail')), '0 busy outside Atrium');
	// jobs as seeded (seed.mjs jobs): 3 succeeded, 1 failed, 1 waiting, none holds a GPU now;
	// and the deployment's replicas (jobs of kind service, with no GPU): its stable version's
	// and its canary's, running
	const seededJobs = Object.values(seed.jobs);
	const services = (await apiOk('GET', '/jobs?kind=service&limit=100')).items;
	assert.deepEqual(services.map((j) => j.state), ['running', 'running']);
	const count = (state) => seededJobs.filter((j) => j.state === state).length;
	assert.deepEqual(t.jobs, { total: seededJobs.length + 2, queued: 1, dispatched: 0, running: 2, succeeded: count('succeeded'), failed: count('failed'), cancelled: 0, lost: 0 });
	assert.equal(await cardFigure(page, 'jobs'), String(t.jobs.running));
	assert.equal(await text(page.locator('[data-stat="jobs"] .detail')), `${t.jobs.dispatched} starting · ${t.jobs.total} in all`);
	assert.equal(t.queue.length, 1);
	assert.equal(t.queue.oldest.id, seed.jobs.waiting.id);
	assert.equal(await cardFigure(page, 'queue'), String(t.queue.length));
	assert.match(await text(page.locator('[data-stat="queue"] .detail')), new RegExp(`^oldest: job ${t.queue.oldest.id} \\(cats\\), waiting `));
	assert.equal(await page.locator('[data-stat="queue"] a').getAttribute('href'), `#/jobs/${t.queue.oldest.id}`);
	assert.equal(await cardFigure(page, 'gpus_in_use'), String(t.gpus.in_use));
	assert.equal(await text(page.locator('[data-stat="gpus_in_use"] .detail')), `of ${t.gpus.total} online · 0 % allocated to jobs`);
	// GPU-hours this week: train-small (vision, 1 GPU), train-broken (vision, 1 GPU) and
	// eval-nlp (nlp, 2 GPUs) ran; prep-data had no GPU and the waiting job never started
	assert.deepEqual(t.gpu_hours.by_team.map((r) => [r.team, r.jobs]).sort(), [['nlp', 1], ['vision', 2]]);
	assert.equal(await cardFigure(page, 'gpu_hours'), fmtHours(t.gpu_hours.total));
	assert.equal(await text(page.locator('[data-stat="gpu_hours"] .detail')), `since ${t.gpu_hours.since.slice(0, 10)} · 2 teams`);
	const byTeam = panelOf(page, 'gpu-hours-title');
	for (const r of t.gpu_hours.by_team) {
		assert.deepEqual(await cellTexts(byTeam.locator(`tr[data-key="${r.team}"]`)), [r.team, fmtHours(r.hours), String(r.jobs)]);
	}
	assert.equal(await byTeam.locator('svg.bars g.bar').count(), t.gpu_hours.by_team.length);
	// jobs by state: a bar per state, and the figures in the table
	const byState = panelOf(page, 'jobs-state-title');
	assert.deepEqual(await byState.locator('svg.bars g.bar').evaluateAll((gs) => gs.map((g) => [g.dataset.label, g.querySelector('.bar-value').textContent])), JOB_STATES.map((st) => [st, String(t.jobs[st])]));
	await byState.locator('details.figures summary').click();
	for (const st of JOB_STATES) assert.deepEqual(await cellTexts(byState.locator(`tr[data-key="${st}"]`)), [st, String(t.jobs[st])]);
	// deployments: the seeded one is ready (its canary too)
	assert.deepEqual(t.deployments, { total: 1, ready: 1, degraded: 0, deploying: 0, failed: 0 });
	assert.equal(await cardFigure(page, 'deployments'), '1');
	assert.equal(await text(page.locator('[data-stat="deployments"] .detail')), '0 degraded · 0 deploying · 0 failed');
	assert.equal(await page.locator('[data-stat="deployments"] a').getAttribute('href'), '#/deployments');
	// the adoption chart is drawn (uPlot canvas) and its table holds the API's figures: the
	// jobs and runs of each bucket too
	const adoption = panelOf(page, 'adoption-title');
	await adoption.locator('.chart .uplot canvas').first().waitFor();
	assert.deepEqual(await adoption.locator('.u-legend .u-series .u-label').allTextContents(), ['Active users', 'Changes made', 'Jobs', 'Runs']);
	await adoption.locator('details.figures summary').click();
	const firstRow = adoption.locator('details.figures tbody tr').first();
	assert.equal(await adoption.locator('details.figures tbody tr').count(), stats.series.length);
	assert.deepEqual(await cellTexts(firstRow), [last.bucket_start.slice(0, 10), String(last.active_users), String(last.requests), String(last.jobs), String(last.runs)]);
	assert.ok(last.jobs >= seededJobs.length || stats.series[stats.series.length - 2].jobs > 0, 'the seeded jobs are in the last buckets');
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

test('first load: the overview renders from a cold cache (time reported, not asserted)', async (page) => {
	// a signed-in tab (the token in sessionStorage before any script runs), the cache off
	await page.addInitScript((tok) => {
		if (!location.protocol.startsWith('http')) return; // about:blank between the loads
		sessionStorage.setItem('atrium.token', tok);
		sessionStorage.setItem('atrium.token_kind', 'token');
		// when the overview's first figure appears, in the page's own clock
		new MutationObserver((_, obs) => {
			if (document.querySelector('[data-stat="users"] .figure')) {
				window.__rendered = performance.now();
				obs.disconnect();
			}
		}).observe(document, { childList: true, subtree: true });
	}, adminToken);
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
	// the bytes on the wire (gzipped as served) of the dashboard's own files, not the API's
	// answers: what a cold first load ships
	const urls = new Map();
	let wire = new Map();
	cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
	cdp.on('Network.loadingFinished', (e) => {
		const u = urls.get(e.requestId) || '';
		if (u.startsWith(base) && !u.includes('/api/')) wire.set(u.slice(base.length), e.encodedDataLength);
	});
	const runs = [];
	for (let i = 0; i < 3; i++) {
		await page.goto('about:blank');
		wire = new Map();
		const t0 = Date.now();
		await page.goto(base + '/#/overview', { waitUntil: 'commit' });
		await page.locator('main .view:not([aria-busy]) [data-stat="users"] .figure').waitFor();
		const wall = Date.now() - t0;
		const inPage = await page.evaluate(() => Math.round(window.__rendered));
		await page.waitForLoadState('load');
		const bytes = [...wire.values()].reduce((a, b) => a + b, 0);
		runs.push({ wall, inPage, bytes, files: wire.size, uplot: wire.get('/vendor/uplot/uPlot.esm.js') || 0 });
	}
	const med = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[1];
	console.log(`        (overview rendered on a cold load: ${med('inPage')} ms after navigation start in the page, ${med('wall')} ms wall; median of 3)`);
	console.log(`        (first load: ${med('files')} files, ${(med('bytes') / 1024).toFixed(1)} KiB on the wire gzipped with headers, uPlot ${(med('uplot') / 1024).toFixed(1)} KiB of it)`);
	assert.ok(med('bytes') > 0 && med('uplot') > 0, 'the first load was measured');
	assert.equal(await cardFigure(page, 'users'), String((await apiOk('GET', '/admin/stats')).totals.users.total));
	await cdp.detach();
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
	for (const label of ['Overview', 'Projects', 'Promotions', 'Workers', 'Users', 'Tokens', 'Teams & quotas', 'Join tokens', 'Audit log']) {
		const link = page.locator('nav.nav a', { hasText: new RegExp(`^${label}`) });
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

// ---------- phase 2: the registry and the workers ----------

// Text as shown (innerText: cells, terms and definitions apart), whitespace folded.
const userPassword = (name) => seed.users.find((u) => u.username === name).password;

async function asUser(page, name, hash, heading) {
	await signInPassword(page, name, userPassword(name));
	await signedIn(page);
	if (hash) await view(page, hash, heading);
}

// The nav's number next to Promotions ('' when hidden).
async function promotionCount(page) {
	const c = page.locator('nav.nav .nav-count[data-count="promotions"]');
	return (await c.isVisible()) ? itext(c) : '';
}

// Keeps a worker registered through the API online (a heartbeat every 2 s) until stopped.
function keepAlive(secret) {
	const beat = () => fetch(`${base}/api/v1/workers/heartbeat`, { method: 'POST', headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' }, body: '{}' }).catch(() => {});
	beat();
	const timer = setInterval(beat, 2000);
	return () => clearInterval(timer);
}

async function registerWorker(joinToken, name) {
	return apiOk('POST', '/workers/register', null, { join_token: joinToken, name, url: 'http://127.0.0.1:9', cpus: 2, memory_mb: 4096, gpus: [] });
}

test('projects view lists the seeded projects with team, visibility and role; archived on request', async (page) => {
	await asAdmin(page, 'projects', 'Projects');
	for (const p of seed.projects.filter((x) => !x.archived)) {
		const cells = await cellTexts(row(page, p.name));
		assert.equal(cells[0], p.name);
		assert.equal(cells[1], p.description);
		assert.equal(cells[2], p.team);
		assert.equal(cells[3], p.visibility);
		assert.equal(cells[4], 'owner', 'admins are owners everywhere');
		assert.equal(cells[5], String(1 + p.members.length));
		assert.equal(cells[6], p.tags.join(' '));
	}
	assert.equal(await row(page, 'old-project').count(), 0, 'archived projects are hidden by default');
	await shot(page, 'projects');
	await page.locator('#show-archived').check();
	await page.waitForURL(/archived=1/);
	await row(page, 'old-project').waitFor();
	assert.match(await itext(row(page, 'old-project')), /old-project archived Retired prototype/);
	// a member sees her own role, and only what she may read (not bob's private secret-lab)
	const alice = await api('GET', '/projects', seed.tokens.alice);
	assert.deepEqual(alice.json.items.map((p) => [p.name, p.role]), [['cats', 'owner']]);
	const p2 = await page.context().newPage();
	await asUser(p2, 'alice', 'projects', 'Projects');
	await row(p2, 'cats').waitFor();
	assert.equal((await cellTexts(row(p2, 'cats')))[4], 'owner');
	assert.equal(await row(p2, 'secret-lab').count(), 0);
	await p2.close();
});

test('project page: facts, members with each role; an owner adds, re-roles and removes a member', async (page) => {
	await asAdmin(page, 'projects/cats', 'cats');
	const about = await itext(panelOf(page, 'about-title'));
	assert.match(about, /Team vision/);
	assert.match(about, /Visibility internal/);
	assert.match(about, /Tags cnn images/);
	const cats = seed.projects.find((p) => p.name === 'cats');
	const expected = [[cats.owner, 'owner'], ...cats.members];
	for (const [user, role] of expected) assert.equal(await row(page, user).locator('select[name=role]').inputValue(), role, user);
	assert.equal(await itext(row(page, 'mallory').locator('td').nth(1)), seed.users.find((u) => u.username === 'mallory').display_name);
	assert.equal(await page.locator('main img').count(), 0);
	await shot(page, 'project');
	// add carol as an editor, make her a viewer, remove her
	const add = page.locator('main form', { has: page.locator('button', { hasText: 'Add member' }) });
	await add.locator('input[name=username]').fill('carol');
	await add.locator('select[name=role]').selectOption('editor');
	await add.locator('button[type=submit]').click();
	await row(page, 'carol').waitFor();
	const members = async () => (await apiOk('GET', '/projects/cats/members')).items.map((m) => [m.username, m.role]);
	assert.deepEqual((await members()).find(([u]) => u === 'carol'), ['carol', 'editor']);
	await row(page, 'carol').locator('select[name=role]').selectOption('viewer');
	await eventually(async () => assert.deepEqual((await members()).find(([u]) => u === 'carol'), ['carol', 'viewer']), 'carol is a viewer');
	await row(page, 'carol').locator('button', { hasText: 'Remove' }).click();
	await confirm(page, 'Remove');
	await eventually(async () => assert.equal((await members()).find(([u]) => u === 'carol'), undefined), 'carol removed');
	// an unknown user: the API's message in the form
	await add.locator('input[name=username]').fill('ghost');
	await add.locator('button[type=submit]').click();
	await add.locator('.form-error [role=alert]', { hasText: "user 'ghost' does not exist" }).waitFor();
});

test('create a project from the UI with a team and visibility, then archive it', async (page) => {
	await asAdmin(page, 'projects', 'Projects');
	await page.locator('summary', { hasText: 'New project' }).click();
	const f = page.locator('main form');
	await f.locator('input[name=name]').fill('dogs');
	await f.locator('input[name=description]').fill('Dog detector');
	await f.locator('select[name=team]').selectOption('nlp');
	await f.locator('select[name=visibility]').selectOption('internal');
	await f.locator('input[name=tags]').fill('cnn, dogs');
	await f.locator('button[type=submit]').click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'dogs' }).waitFor();
	const p = await apiOk('GET', '/projects/dogs');
	assert.equal(p.team, 'nlp');
	assert.equal(p.visibility, 'internal');
	assert.deepEqual(p.tags, ['cnn', 'dogs']);
	assert.equal(p.description, 'Dog detector');
	// a new project's tabs say what to do next
	await page.locator('main nav.tabs a', { hasText: 'Datasets' }).click();
	await page.locator('main .empty', { hasText: 'No datasets in dogs yet' }).waitFor();
	assert.match(await itext(page.locator('main .empty code')), /curl -X POST .*\/api\/v1\/projects\/dogs\/datasets/);
	await page.locator('main nav.tabs a', { hasText: 'Models' }).click();
	await page.locator('main .empty', { hasText: 'No models in dogs yet' }).waitFor();
	await page.locator('main nav.tabs a', { hasText: 'Runs' }).click();
	await page.locator('main .empty', { hasText: 'No runs in dogs yet' }).waitFor();
	await shot(page, 'project-empty-runs');
	await page.locator('main nav.tabs a', { hasText: 'Overview' }).click();
	await page.locator('main button', { hasText: 'Archive project' }).click();
	await confirm(page, 'Archive');
	await page.locator('main .alert.info', { hasText: 'archived' }).waitFor();
	assert.ok((await apiOk('GET', '/projects/dogs')).archived_at, 'archived through the API');
	assert.equal(await page.locator('main button', { hasText: 'Archive project' }).count(), 0, 'read-only now');
});

test('datasets: the list, a dataset\'s versions, a version\'s files with sha256, and the diff', async (page) => {
	await asAdmin(page, 'projects/cats', 'cats');
	await page.locator('main nav.tabs a', { hasText: 'Datasets' }).click();
	await row(page, 'photos').waitFor();
	let cells = await cellTexts(row(page, 'photos'));
	assert.deepEqual(cells.slice(0, 4), ['photos', 'Labelled cat photos', '3', 'v2']);
	assert.deepEqual((await cellTexts(row(page, 'captions'))).slice(0, 4), ['captions', 'Captions written by hand', '1', 'v1']);
	await shot(page, 'datasets');
	await row(page, 'photos').locator('a', { hasText: 'photos' }).click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Dataset photos' }).waitFor();
	const versions = (await apiOk('GET', '/projects/cats/datasets/photos/versions')).items;
	for (const v of versions) {
		cells = await cellTexts(row(page, v.version));
		assert.equal(cells[0], `v${v.version}`);
		assert.equal(cells[1], v.state);
		assert.equal(cells[2], v.message);
		assert.equal(cells[3], String(v.file_count));
		assert.equal(cells[4], `${v.total_bytes} B`);
		assert.equal(cells[7], 'alice');
	}
	assert.deepEqual(versions.map((v) => v.state), ['committed', 'committed', 'draft']);
	await shot(page, 'dataset');
	// v2's files: paths, human sizes, sha256 prefixes
	await view(page, 'projects/cats/datasets/photos/versions/2', 'photos v2');
	for (const f of seed.datasets.photos.v2) {
		cells = await cellTexts(row(page, f.path));
		assert.equal(cells[0], f.path);
		assert.equal(cells[1], `${f.size} B`);
		assert.match(cells[2], new RegExp(`^${f.sha256.slice(0, 12)}`));
		assert.equal(await row(page, f.path).locator('code[title]').getAttribute('title'), f.sha256);
	}
	// the diff against v1, from the dataset page's "changes" link
	await view(page, 'projects/cats/datasets/photos', 'Dataset photos');
	await row(page, 2).locator('a', { hasText: 'changes' }).click();
	await page.locator('#diff-title', { hasText: 'Changes from v1 to v2' }).waitFor();
	assert.match(page.url(), /versions\/2\?against=1$/);
	const paths = async (kind) => (await page.locator(`.diff-${kind} tbody tr`).evaluateAll((trs) => trs.map((tr) => tr.dataset.key)));
	assert.deepEqual(await paths('added'), seed.datasets.photos.diff.added);
	assert.deepEqual(await paths('removed'), seed.datasets.photos.diff.removed);
	assert.deepEqual(await paths('changed'), seed.datasets.photos.diff.changed);
	assert.equal(await itext(page.locator('.diff-summary')), '1 added, 1 removed, 1 changed, 1 unchanged. Hide the changes');
	const changed = await cellTexts(page.locator('.diff-changed tbody tr'));
	assert.equal(changed[1], '21 B → 27 B');
	await shot(page, 'dataset-version-diff');
	// comparing with another version through the form
	await page.locator('main select[name=against]').selectOption('3');
	await page.locator('main button', { hasText: 'Compare' }).click();
	await page.locator('#diff-title', { hasText: 'Changes from v3 to v2' }).waitFor();
	assert.equal(await itext(page.locator('.diff-summary')), '0 added, 0 removed, 0 changed, 3 unchanged. Hide the changes');
});

test('benchmarks: the tab lists one; its page ranks the versions, lists evaluations and exports CSV', async (page) => {
	await asAdmin(page, 'projects/cats', 'cats');
	await page.locator('main nav.tabs a', { hasText: 'Benchmarks' }).click();
	await row(page, 'holdout').waitFor();
	const cells = await cellTexts(row(page, 'holdout'));
	assert.deepEqual(cells.slice(0, 6), ['holdout', 'Photos nobody trains on', 'photos v1 labels.csv', 'accuracy', 'accuracy f1_macro', '3']);
	await row(page, 'holdout').locator('a', { hasText: 'holdout' }).click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Benchmark holdout' }).waitFor();
	const [best, first] = seed.benchmark.board;
	assert.deepEqual((await cellTexts(row(page, best))).slice(0, 4), ['1', 'detector v2', '1', '1']);
	assert.deepEqual((await cellTexts(row(page, first))).slice(0, 3), ['2', 'detector v1', '0.5']);
	assert.equal(await page.locator('main table').first().locator('tbody tr').count(), 2);
	await page.locator('main th', { hasText: 'accuracy (higher is better)' }).first().waitFor();
	await shot(page, 'benchmark');
	const [download] = await Promise.all([page.waitForEvent('download'), page.locator('main button', { hasText: 'Download CSV' }).click()]);
	assert.equal(download.suggestedFilename(), 'holdout-leaderboard.csv');
	const csv = fs.readFileSync(await download.path(), 'utf8');
	assert.match(csv, /^rank,evaluation_id,subject,model,version,run_id,accuracy,f1_macro,created_by,created_at\r\n1,/);
	// the model version links to its page
	await row(page, best).locator('a', { hasText: 'detector v2' }).click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'v2' }).waitFor();
});

test('download a dataset file from a version: the same bytes as uploaded', async (page) => {
	await asAdmin(page, 'projects/cats/datasets/photos/versions/1', 'photos v1');
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-dl-'));
	try {
		for (const f of seed.datasets.photos.v1) {
			const [dl] = await Promise.all([page.waitForEvent('download'), row(page, f.path).locator('button', { hasText: 'Download' }).click()]);
			assert.equal(dl.suggestedFilename(), f.path.split('/').pop());
			const to = path.join(dir, dl.suggestedFilename());
			await dl.saveAs(to);
			const got = fs.readFileSync(to);
			const want = f.text !== undefined ? Buffer.from(f.text) : Buffer.from(f.base64, 'base64');
			assert.ok(got.equals(want), `${f.path}: the downloaded bytes differ`);
		}
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
	// the token went in a header: no address of the page or of a link carries it
	const tok = (await session(page)).token;
	assert.ok(!(await page.content()).includes(tok));
});

test('runs: the list with status and params, and a run\'s inputs', async (page) => {
	await signInToken(page, adminToken);
	await signedIn(page);
	await forgetColumns(page);
	await view(page, 'projects/cats/runs', 'Runs');
	const r = row(page, seed.run.id);
	await r.waitFor();
	// one row per run: name, status, the metrics most runs report (loss: 3 runs, then accuracy
	// and val/acc), the params that differ (epochs, lr), times, job, author
	const heads = (await page.locator('main thead th').allTextContents()).map((t) => t.trim());
	assert.deepEqual(heads.slice(0, 7), ['Run', 'Status', 'loss', 'accuracy', 'val/acc', 'param epochs', 'param lr']);
	const cells = await cellTexts(r);
	assert.deepEqual([cells[0], cells[1], cells[5], cells[6]], ['baseline', 'finished', '10', '0.01']);
	assert.deepEqual((await cellTexts(row(page, seed.runs['sweep-2']))).slice(0, 7), ['sweep-2', 'failed', '4.8', '—', '—', '—', '0.1']);
	await shot(page, 'runs');
	await r.locator('a', { hasText: 'baseline' }).click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Run baseline' }).waitFor();
	assert.deepEqual(await page.locator('#run-inputs ~ ul a').allTextContents(), ['photos v2', 'captions v1']);
	assert.match(await itext(panelOf(page, 'run-params')), /lr 0\.01 epochs 10/);
	await shot(page, 'run');
});

test('model page: versions, aliases, the pending promotion and the history', async (page) => {
	await asAdmin(page, 'projects/cats/models', 'Models');
	assert.deepEqual((await cellTexts(row(page, 'detector'))).slice(0, 5), ['detector', 'Finds cats in photos', '3', 'v2', 'production → v1 staging → v2']);
	await shot(page, 'models');
	await row(page, 'detector').locator('a', { hasText: 'detector' }).first().click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Model detector' }).waitFor();
	const expect = { 1: ['committed', 'production'], 2: ['committed', 'staging'], 3: ['draft', '—'] };
	for (const [v, [state, aliases]] of Object.entries(expect)) {
		const cells = await cellTexts(prow(page, 'versions-title', v));
		assert.deepEqual(cells.slice(0, 5), [`v${v}`, state, aliases, `run ${seed.run.id}`, 'pytorch'], `v${v}`);
		assert.equal(cells[7], 'bob');
	}
	assert.deepEqual((await cellTexts(prow(page, 'aliases-title', 'production'))).slice(0, 2), ['production', 'v1']);
	assert.deepEqual((await cellTexts(prow(page, 'aliases-title', 'staging'))).slice(0, 2), ['staging', 'v2']);
	const pending = await cellTexts(prow(page, 'promotions-title', seed.promotions.approve));
	assert.deepEqual(pending.slice(0, 5), [`#${seed.promotions.approve}`, 'production', 'v2', 'bob', 'passed the eval']);
	const history = await page.locator('ol.timeline li').allTextContents();
	assert.match(history[0], /bob asked to move production to v2 \(promotion #\d+\).*passed the eval/);
	assert.match(history[history.length - 1], /alice registered the model/);
	await shot(page, 'model');
});

test('lineage graph: dataset versions -> run -> model version, nodes lead to their pages', async (page) => {
	const mv = seed.models.detector[0];
	await asAdmin(page, 'projects/cats/models/detector/versions/1', 'detector v1');
	const graph = page.locator('svg.lineage');
	await graph.waitFor();
	const nodeText = (kind) => graph.locator(`[data-node="${kind}"] .node-title`).allTextContents();
	assert.deepEqual((await nodeText('dataset')).sort(), ['captions v1', 'photos v2']);
	assert.deepEqual(await nodeText('run'), ['baseline']);
	assert.deepEqual(await nodeText('model'), ['detector v1']);
	assert.deepEqual(await nodeText('deployment'), ['No deployments']);
	assert.equal(await graph.locator('path.edge').count(), 2 + 1 + 1);
	// the files' hashes under it are the API's
	const lin = await apiOk('GET', `/model-versions/${mv.id}/lineage`);
	const shown = await page.locator('main code.sha-full').allTextContents();
	const want = lin.datasets.flatMap((d) => d.files.map((f) => f.sha256));
	assert.deepEqual(shown, want);
	for (const f of seed.datasets.photos.v2) assert.ok(shown.includes(f.sha256), f.path);
	await shot(page, 'lineage');
	// a node is a link: to the run, then back, then to a dataset version
	await graph.locator('a[data-node="run"]').click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Run baseline' }).waitFor();
	await page.goBack();
	await graph.locator('a[data-node="dataset"]', { hasText: 'photos v2' }).click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'photos v2' }).waitFor();
});

test('promotions: the count in the navigation, approve one (production moves), reject one', async (page) => {
	await asAdmin(page, 'promotions', 'Promotions');
	await eventually(async () => assert.equal(await promotionCount(page), '2'), 'two pending');
	const ok = seed.promotions.approve;
	const no = seed.promotions.reject;
	assert.deepEqual((await cellTexts(row(page, ok))).slice(0, 7), [`#${ok}`, 'cats', 'detector', 'v2', 'production', 'bob', 'passed the eval']);
	assert.deepEqual((await cellTexts(row(page, no))).slice(0, 7), [`#${no}`, 'secret-lab', 'tiny-llm', 'v1', 'production', 'carol', 'ready?']);
	await shot(page, 'promotions');
	assert.equal((await apiOk('GET', '/projects/cats/models/detector/versions/production')).version, 1);
	await row(page, ok).locator('button', { hasText: 'Approve' }).click();
	await page.locator('dialog[open] textarea').fill('ship it');
	await confirm(page, 'Approve');
	await row(page, ok).locator('.badge', { hasText: 'approved' }).waitFor();
	assert.equal((await apiOk('GET', '/projects/cats/models/detector/versions/production')).version, 2);
	const done = await apiOk('GET', `/promotions/${ok}`);
	assert.equal(done.state, 'approved');
	assert.equal(done.decision_comment, 'ship it');
	await eventually(async () => assert.equal(await promotionCount(page), '1'), 'one pending');
	// reject the other from its model's page
	await view(page, 'projects/secret-lab/models/tiny-llm', 'Model tiny-llm');
	await prow(page, 'promotions-title', no).locator('button', { hasText: 'Reject' }).click();
	await confirm(page, 'Reject');
	await page.locator('main .empty', { hasText: 'No promotion is waiting' }).waitFor();
	assert.equal((await apiOk('GET', `/promotions/${no}`)).state, 'rejected');
	assert.equal((await api('GET', '/projects/secret-lab/models/tiny-llm/versions/production')).status, 404, 'the alias was not set');
	await eventually(async () => assert.equal(await promotionCount(page), ''), 'none pending');
	assert.match(await itext(page.locator('ol.timeline li').first()), /admin rejected moving production to v1/);
});

test('an editor moves staging, gets the API\'s 403 for production, and requests a promotion', async (page) => {
	await asUser(page, 'bob', 'projects/cats/models/detector', 'Model detector');
	const setForm = page.locator('main form[aria-label="Set or move an alias"]');
	await setForm.locator('input[name=alias]').fill('production');
	await setForm.locator('select[name=version]').selectOption('1');
	await setForm.locator('button[type=submit]').click();
	const refused = await api('PUT', '/projects/cats/models/detector/aliases/production', seed.tokens.bob, { version: 1 });
	assert.equal(refused.status, 403);
	await setForm.locator('.form-error [role=alert]', { hasText: refused.json.error.message }).waitFor();
	assert.equal((await apiOk('GET', '/projects/cats/models/detector/versions/production')).version, 2, 'production did not move');
	await setForm.locator('input[name=alias]').fill('staging');
	await setForm.locator('button[type=submit]').click();
	await eventually(async () => assert.equal((await apiOk('GET', '/projects/cats/models/detector/versions/staging')).version, 1), 'staging -> v1');
	const req = page.locator('main form[aria-label="Request a promotion"]');
	await req.locator('select[name=version]').selectOption('1');
	await req.locator('input[name=comment]').fill('roll back');
	await req.locator('button[type=submit]').click();
	await eventually(async () => {
		const p = (await apiOk('GET', '/projects/cats/promotions', adminToken)).items.find((x) => x.state === 'pending');
		assert.deepEqual([p.version, p.alias, p.requested_by, p.comment], [1, 'production', 'bob', 'roll back']);
	}, 'promotion requested');
	// an editor may not decide production: the row says who does
	await page.locator('main td', { hasText: 'an owner decides' }).waitFor();
});

test('a viewer sees no write controls, and a stale page shows the API\'s refusal', async (page) => {
	await asUser(page, 'victor', 'projects/cats', 'cats');
	assert.equal(await page.locator('main button', { hasText: /Add member|Remove|Archive/ }).count(), 0);
	assert.equal(await page.locator('main select').count(), 0);
	assert.equal(await page.locator('summary', { hasText: 'Edit project' }).count(), 0);
	await view(page, 'projects/cats/models/detector', 'Model detector');
	assert.equal(await page.locator('main form').count(), 0, 'no alias or promotion form');
	assert.equal(await page.locator('main button', { hasText: /Approve|Reject|Remove/ }).count(), 0);
	await page.locator('main td', { hasText: 'an owner decides' }).waitFor();
	// made an editor meanwhile: the controls appear; demoted again while the page is open: the
	// API refuses and the page says so
	await apiOk('PUT', '/projects/cats/members/victor', seed.tokens.alice, { role: 'editor' });
	await view(page, 'projects/cats/datasets', 'Datasets');
	await view(page, 'projects/cats/models/detector', 'Model detector');
	const setForm = page.locator('main form[aria-label="Set or move an alias"]');
	await setForm.waitFor();
	await apiOk('PUT', '/projects/cats/members/victor', seed.tokens.alice, { role: 'viewer' });
	await setForm.locator('input[name=alias]').fill('staging');
	await setForm.locator('button[type=submit]').click();
	const refused = await api('PUT', '/projects/cats/models/detector/aliases/staging', seed.tokens.victor, { version: 2 });
	assert.equal(refused.status, 403);
	await setForm.locator('.form-error [role=alert]', { hasText: refused.json.error.message }).waitFor();
	await shot(page, 'model-viewer-refused');
});

test('search from the top bar finds a seeded dataset; a member never sees others\' private projects', async (page) => {
	const all = await apiOk('GET', '/search?q=cat');
	assert.ok(all.items.some((r) => r.name === 'secret-lab'), 'the admin finds the private project');
	await asUser(page, 'victor');
	await page.locator('.topbar input[type=search]').fill('cat');
	await page.locator('.topbar input[type=search]').press('Enter');
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Search: cat' }).waitFor();
	const results = page.locator('main ol.results li');
	const got = await results.evaluateAll((lis) => lis.map((li) => `${li.dataset.kind}:${li.querySelector('strong').textContent}`));
	assert.ok(got.includes('dataset:photos'), got.join(', '));
	assert.ok(got.includes('project:cats'));
	assert.ok(got.includes('model:detector'));
	assert.ok(!got.some((g) => g.includes('secret-lab')), 'no private project of others');
	assert.equal(await page.locator('main', { hasText: 'secret-lab' }).count(), 0);
	assert.equal(await itext(page.locator('main ol.results li[data-kind=dataset]', { hasText: 'photos' }).locator('mark').first()), 'cat');
	await shot(page, 'search');
	await page.locator('main ol.results li[data-kind=dataset] a', { hasText: 'photos' }).click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Dataset photos' }).waitFor();
	// a search the API refuses shows its message
	await view(page, `search?q=${'x'.repeat(300)}`, 'Search');
	await page.locator('main [role=alert]').waitFor();
});

test('workers: the inventory shows the real worker\'s 4 fake GPUs, labels and state', async (page) => {
	await asAdmin(page, 'workers', 'Workers');
	const live = (await apiOk('GET', '/workers')).items.find((w) => w.name === seed.workers.online);
	assert.equal(live.gpus.length, 4);
	let cells = await cellTexts(row(page, live.id));
	assert.deepEqual(cells.slice(0, 4), ['gpu-a', 'online', 'schedulable', '4 × Fake GPU (16 GiB)']);
	assert.equal(cells[5], String(live.cpus));
	// what runs there: the seeded deployment's replicas, holding no GPU
	const serving = (await apiOk('GET', '/jobs?kind=service&state=running')).items;
	assert.equal(serving.length, 2);
	for (const j of serving) assert.ok(cells[4].includes(`#${j.id} ${j.name}`), cells[4]);
	assert.match(cells[4], / 0 of 4 GPUs allocated$/);
	// the work dir's free space, as the worker's heartbeat reported it
	assert.ok(live.disk_free_mb > 0 && live.disk_total_mb >= live.disk_free_mb, JSON.stringify(live));
	assert.match(cells[7], /^[\d.]+ [KMGT]?i?B \(\d+ %\)/);
	assert.equal(cells[8], 'pool=large zone=a');
	assert.equal(cells[10], live.version);
	cells = await cellTexts(row(page, seed.workers.offline_id));
	assert.deepEqual(cells.slice(0, 4), ['gpu-old', 'offline', 'not schedulable', '2 × Tesla V100-SXM2-16GB (16 GiB) 1 busy']);
	await shot(page, 'workers');
	await row(page, live.id).locator('a', { hasText: 'gpu-a' }).click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Worker gpu-a' }).waitFor();
	for (let i = 0; i < 4; i++) {
		assert.deepEqual((await cellTexts(prow(page, 'gpus-title', i))).slice(0, 3), [String(i), 'Fake GPU', `GPU-fake-${i}`]);
		assert.match(await itext(prow(page, 'gpus-title', i)), /0 B \/ 16 GiB.*free/);
	}
	assert.match(await itext(panelOf(page, 'worker-about')), /State online schedulable/);
	assert.match(await itext(panelOf(page, 'worker-about')), /Disk \(work dir\) .* free of /);
	await shot(page, 'worker');
});

test('cordon, drain and uncordon a worker from the UI', async (page) => {
	await asAdmin(page, 'workers', 'Workers');
	const id = (await apiOk('GET', '/workers')).items.find((w) => w.name === seed.workers.online).id;
	const w = () => apiOk('GET', `/workers/${id}`);
	const act = async (label) => {
		await row(page, id).locator('button', { hasText: label }).click();
		await confirm(page, label);
	};
	await act('Cordon');
	await row(page, id).locator('.badge', { hasText: 'cordoned' }).waitFor();
	let got = await w();
	assert.deepEqual([got.cordoned, got.draining, got.schedulable], [true, false, false]);
	await act('Uncordon');
	await row(page, id).locator('.badge', { hasText: 'schedulable' }).waitFor();
	got = await w();
	assert.deepEqual([got.cordoned, got.draining, got.schedulable], [false, false, true]);
	await act('Drain');
	await row(page, id).locator('.badge', { hasText: 'draining' }).waitFor();
	assert.equal((await w()).draining, true);
	await act('Uncordon');
	await row(page, id).locator('.badge', { hasText: 'schedulable' }).waitFor();
	got = await w();
	assert.deepEqual([got.cordoned, got.draining, got.schedulable, got.state], [false, false, true, 'online']);
});

test('delete a worker: an online one is refused with the API\'s message and can be forced', async (page) => {
	const reg = await registerWorker(seed.workers.join_token, 'gpu-tmp');
	const stop = keepAlive(reg.secret);
	try {
		await asAdmin(page, `workers/${reg.worker_id}`, 'Worker gpu-tmp');
		await page.locator('main button', { hasText: 'Delete' }).click();
		await confirm(page, 'Delete');
		const refused = await api('DELETE', `/workers/${reg.worker_id}`);
		assert.equal(refused.status, 409);
		await page.locator('main [role=alert]', { hasText: refused.json.error.message }).waitFor();
		await page.locator('main button', { hasText: 'Force delete' }).click();
		await confirm(page, 'Force delete');
		await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Workers' }).waitFor();
		assert.equal((await api('GET', `/workers/${reg.worker_id}`)).status, 404);
	} finally {
		stop();
	}
	// an offline worker goes at once
	await view(page, `workers/${seed.workers.offline_id}`, 'Worker gpu-old');
	await page.locator('main button', { hasText: 'Delete' }).click();
	await confirm(page, 'Delete');
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Workers' }).waitFor();
	assert.equal((await api('GET', `/workers/${seed.workers.offline_id}`)).status, 404);
});

test('join tokens: create one (shown once, with the worker command), then revoke it', async (page) => {
	await asAdmin(page, 'admin/join-tokens', 'Join tokens');
	const list = (await apiOk('GET', '/workers/join-tokens')).items;
	const seeded = list.find((t) => t.name === seed.workers.join_token_name);
	const revoked = list.find((t) => t.name === seed.workers.revoked_join_token);
	assert.match(await itext(row(page, seeded.id)), new RegExp(`seed-gpu-hosts ${seeded.prefix}… admin .* active`));
	assert.match(await itext(row(page, revoked.id)), /old-rack .* revoked/);
	await page.locator('summary', { hasText: 'New join token' }).click();
	await page.locator('main form input[name=name]').fill('rack-9');
	await page.locator('main form button[type=submit]').click();
	const token = await page.locator('.secret-once input.secret').inputValue();
	assert.match(token, /^atr_/);
	const cmd = await itext(page.locator('.notices .snippet code'));
	assert.ok(cmd.includes(`atrium worker --server ${base} --join-token ${token}`), cmd);
	await shot(page, 'join-tokens');
	// it admits a host
	const reg = await registerWorker(token, 'probe-host');
	await apiOk('POST', '/workers/deregister', reg.secret, {});
	await apiOk('DELETE', `/workers/${reg.worker_id}`);
	const made = (await apiOk('GET', '/workers/join-tokens')).items.find((t) => t.name === 'rack-9');
	await row(page, made.id).locator('button', { hasText: 'Revoke' }).click();
	await confirm(page, 'Revoke');
	await row(page, made.id).locator('.badge', { hasText: 'revoked' }).waitFor();
	assert.ok((await apiOk('GET', '/workers/join-tokens')).items.find((t) => t.id === made.id).revoked_at);
	assert.equal((await api('POST', '/workers/register', null, { join_token: token, name: 'probe-host', url: 'http://127.0.0.1:9' })).status, 401);
});

test('narrow screen (400 px): registry and worker pages do not scroll sideways', async (page) => {
	await page.setViewportSize({ width: 400, height: 860 });
	await signInToken(page, adminToken);
	await signedIn(page);
	const pages = [
		['projects', 'Projects', null],
		['projects/cats', 'cats', null],
		['projects/cats/datasets/photos/versions/2?against=1', 'photos v2', 'dataset-version-narrow'],
		['projects/cats/models/detector', 'Model detector', null],
		['projects/cats/models/detector/versions/1', 'detector v1', 'lineage-narrow'],
		['promotions', 'Promotions', null],
		['workers', 'Workers', 'workers-narrow'],
		['admin/join-tokens', 'Join tokens', null],
		['search?q=cat', 'Search: cat', null],
	];
	for (const [hash, heading, name] of pages) {
		await view(page, hash, heading);
		assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 401), `no sideways scrolling: ${hash}`);
		if (name) await shot(page, name);
	}
	assert.ok(await page.locator('.topbar input[type=search]').isVisible(), 'the search box stays');
});

test('keyboard: project tabs, lineage nodes and the search box work without a mouse', async (page) => {
	await asAdmin(page, 'projects/cats', 'cats');
	await page.locator('main nav.tabs a', { hasText: 'Models' }).focus();
	await page.keyboard.press('Enter');
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Models' }).waitFor();
	assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1', 'focus moves to the new heading');
	await view(page, 'projects/cats/models/detector/versions/1', 'detector v1');
	await page.locator('svg.lineage a[data-node="run"]').focus();
	assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-node')), 'run');
	await page.keyboard.press('Enter');
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Run baseline' }).waitFor();
	await page.locator('.topbar input[type=search]').focus();
	await page.keyboard.type('detector');
	await page.keyboard.press('Enter');
	await page.locator('main ol.results li[data-kind="model"]', { hasText: 'detector' }).waitFor();
});

// ---------- jobs, runs' metrics, comparison, GPU allocation (phase 3) ----------

const submitJob = (project, user, body) => apiOk('POST', `/projects/${project}/jobs`, seed.tokens[user], body);
const jobOf = (id) => apiOk('GET', `/jobs/${id}`);
async function jobInState(id, state, timeout = 60_000) {
	return eventually(async () => {
		const j = await jobOf(id);
		assert.equal(j.state, state);
		return j;
	}, `job ${id} becomes ${state}`, timeout);
}
const jobIds = async (loc) => (await loc.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.key))));
const apiJobIds = async (p, query = {}) => (await apiOk('GET', `${p}?${new URLSearchParams({ limit: '50', ...query })}`)).items.map((j) => j.id);
// A job that prints a numbered line every 300 ms until the test creates its stop file.
function tickingJob(name, stopFile, gpus = 1) {
	return {
		name,
		resources: { gpus },
		command: `i=1; while [ ! -e '${stopFile}' ] && [ $i -le 900 ]; do echo "tick $i"; i=$((i+1)); sleep 0.3; done; echo "stopped after $((i-1)) ticks"`,
	};
}
const stopFileFor = (name) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-web-job-')), `${name}.stop`);

test('jobs list: the seeded jobs with their states, worker and GPUs; filters narrow it', async (page, ctx) => {
	await asAdmin(page, 'jobs', 'Jobs');
	const table = page.locator('main .table-wrap');
	assert.deepEqual(await jobIds(table), await apiJobIds('/jobs'));
	for (const j of Object.values(seed.jobs)) {
		const a = await jobOf(j.id);
		const cells = await cellTexts(row(page, j.id));
		// job, state, project, team, kind, GPUs (asked · the ones it got), worker, by
		assert.deepEqual(cells.slice(0, 8), [`#${j.id} ${j.name}`, j.state, j.project, a.team, 'training', a.gpus.length ? `${j.gpus} · GPU ${a.gpus.join(', ')}` : String(j.gpus), a.worker || '—', j.user]);
	}
	assert.match(await itext(row(page, seed.jobs.waiting.id).locator('td').last()), /^waiting \d/);
	await shot(page, 'jobs');
	// each filter goes in the address and narrows the list to what the API gives
	const filters = [
		['state', 'failed', [seed.jobs.broken.id]],
		['project', 'secret-lab', [seed.jobs.nlp.id]],
		['team', 'nlp', [seed.jobs.nlp.id]],
	];
	for (const [name, value, want] of filters) {
		await page.locator(`main select[name=${name}]`).selectOption(value);
		await page.waitForURL(new RegExp(`${name}=${value}`));
		await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Jobs' }).waitFor();
		await eventually(async () => assert.deepEqual(await jobIds(page.locator('main .table-wrap')), want), `filter ${name}`);
		assert.deepEqual(await apiJobIds('/jobs', { [name]: value }), want);
		await page.locator('main button', { hasText: 'Clear filters' }).click();
		await page.waitForURL(/#\/jobs$/);
	}
	await page.locator('main input[name=user]').fill('alice');
	await page.locator('main input[name=user]').press('Enter');
	await page.waitForURL(/user=alice/);
	const alices = await apiJobIds('/jobs', { user: 'alice' });
	assert.deepEqual(alices.sort(), [seed.jobs.prep.id, seed.jobs.waiting.id].sort());
	await eventually(async () => assert.deepEqual((await jobIds(page.locator('main .table-wrap'))).sort(), alices.sort()), 'filter user');
	// an unknown user: the API's 400 shows by the field
	await page.locator('main input[name=user]').fill('nobody-here');
	await page.locator('main input[name=user]').press('Enter');
	const refused = await api('GET', '/jobs?user=nobody-here');
	assert.equal(refused.status, 400);
	await page.locator('main [role=alert]', { hasText: refused.json.error.message }).waitFor();
	assert.equal(await page.locator('main input[name=user]').getAttribute('aria-invalid'), 'true');
	// the project's Jobs tab lists its jobs only
	await view(page, 'projects/cats/jobs', 'Jobs');
	assert.equal(await page.locator('main nav.tabs a[aria-current=page]').textContent(), 'Jobs');
	assert.deepEqual(await jobIds(page.locator('main .table-wrap')), await apiJobIds('/projects/cats/jobs'));
	assert.ok(!(await jobIds(page.locator('main .table-wrap'))).includes(seed.jobs.nlp.id));
	await shot(page, 'project-jobs');
	// a member sees the jobs of the projects she may read: not secret-lab's
	const member = await ctx.newPage();
	try {
		await asUser(member, 'alice', 'jobs', 'Jobs');
		const mine = await jobIds(member.locator('main .table-wrap'));
		assert.deepEqual(mine, (await apiOk('GET', '/jobs?limit=50', seed.tokens.alice)).items.map((j) => j.id));
		assert.ok(!mine.includes(seed.jobs.nlp.id) && mine.includes(seed.jobs.broken.id));
	} finally {
		await member.close();
	}
});

// What each team holds now, as the API's jobs list tells it (the dashboard's own sum).
async function teamHeld() {
	const held = (await apiOk('GET', '/jobs?state=dispatched,running&limit=1000')).items;
	const by = {};
	for (const j of held) {
		const u = (by[j.team || ''] ||= { gpus: 0, jobs: 0 });
		u.gpus += (j.gpus || []).length || j.resources?.gpus || 0;
		u.jobs += 1;
	}
	return by;
}
const usageWant = (used, quota) => (quota === null ? `${used} (no quota)` : `${used} of ${quota}${used >= quota ? ' at quota' : ''}`);

test('queue and quotas: a queued job\'s place in line and reason; teams and the overview show use against quota and refresh themselves', async (page) => {
	await asAdmin(page, 'jobs?state=queued', 'Jobs');
	const queued = (await apiOk('GET', '/jobs?state=queued&limit=1000')).items;
	queued.sort((a, b) => b.priority - a.priority || Date.parse(a.queued_at) - Date.parse(b.queued_at) || a.id - b.id);
	const waiting = await jobOf(seed.jobs.waiting.id);
	const place = queued.findIndex((j) => j.id === waiting.id) + 1;
	assert.ok(place >= 1);
	const cell = row(page, waiting.id).locator('td.queue');
	assert.equal(await text(cell.locator('.queue-place')), `${place} of ${queued.length} in line`);
	assert.equal(await text(cell.locator('.pending-reason')), waiting.pending_reason);
	assert.match(waiting.pending_reason, /pool/);
	await shot(page, 'jobs-queue');
	// a job that is not queued has no place
	await view(page, 'jobs', 'Jobs');
	assert.equal(await text(row(page, seed.jobs.broken.id).locator('td.queue')), '—');

	// teams: GPUs and jobs in use against the quota
	await view(page, 'admin/teams', 'Teams & quotas');
	const checkTeams = async (loc) => {
		const by = await teamHeld();
		for (const t of seed.teams) {
			const u = by[t.name] || { gpus: 0, jobs: 0 };
			assert.equal(await text(loc(t.name).locator('td.gpus-in-use')), usageWant(u.gpus, t.max_gpus), `${t.name} GPUs`);
			assert.equal(await text(loc(t.name).locator('td.jobs-in-use')), usageWant(u.jobs, t.max_concurrent_jobs), `${t.name} jobs`);
		}
		return by;
	};
	await checkTeams((name) => row(page, name));
	// the overview: the same figures, and they change without a reload when a job starts
	await view(page, 'overview', 'Overview');
	const quotaRow = (name) => panelOf(page, 'quota-title').locator(`tr[data-key="${name}"]`);
	const before = await checkTeams(quotaRow);
	const stop = stopFileFor('quota');
	const j = await submitJob('cats', 'bob', tickingJob('quota-user', stop, 2));
	try {
		await jobInState(j.id, 'running');
		const vision = before.vision || { gpus: 0, jobs: 0 };
		await eventually(async () => assert.equal(await text(quotaRow('vision').locator('td.gpus-in-use')), usageWant(vision.gpus + 2, 8)), 'the overview refreshed itself', 30_000);
		assert.match(await text(page.locator('main .refresh-status')), /^Updated \d\d:\d\d:\d\d UTC/);
		await shot(page, 'overview-quotas');
		// the teams page too
		await view(page, 'admin/teams', 'Teams & quotas');
		await eventually(async () => checkTeams((name) => row(page, name)), 'teams page');
		await shot(page, 'teams-usage');
		// the workers page shows the job on gpu-a without a reload
		await view(page, 'workers', 'Workers');
		await eventually(async () => assert.match(await itext(page.locator('main tbody tr', { hasText: 'gpu-a' })), new RegExp(`#${j.id} quota-user`)), 'workers page');
	} finally {
		fs.writeFileSync(stop, '');
	}
	await jobInState(j.id, 'succeeded');
	await eventually(async () => assert.doesNotMatch(await itext(page.locator('main tbody tr', { hasText: 'gpu-a' })), new RegExp(`#${j.id} quota-user`)), 'the workers page refreshed itself', 30_000);
	// a hidden tab makes no calls
	const calls = [];
	page.on('request', (r) => r.url().includes('/api/v1/') && calls.push(r.url()));
	await page.evaluate(() => {
		Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
		document.dispatchEvent(new Event('visibilitychange'));
	});
	calls.length = 0;
	await page.waitForTimeout(6000);
	assert.deepEqual(calls, [], 'no calls while hidden');
	await page.evaluate(() => {
		Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
		document.dispatchEvent(new Event('visibilitychange'));
	});
	await eventually(async () => assert.ok(calls.length > 0), 'calls again once shown');
});

test('jobs list refreshes itself while jobs are active: a new job appears and ends without a reload', async (page) => {
	await asAdmin(page, 'jobs?project=cats', 'Jobs');
	// the waiting job keeps the list refreshing
	await page.locator('main .refresh-status', { hasText: 'while jobs are active' }).waitFor();
	await page.evaluate(() => {
		window.__sameList = true;
	});
	const j = await submitJob('cats', 'bob', { name: 'quick-one', command: 'echo quick', resources: { gpus: 1 } });
	await row(page, j.id).waitFor();
	await row(page, j.id).locator('.badge', { hasText: 'succeeded' }).waitFor();
	assert.equal(await page.evaluate(() => window.__sameList), true, 'the page was not reloaded');
	assert.equal((await jobOf(j.id)).state, 'succeeded');
});

test('job page: the log grows live while the job runs, then it shows succeeded', async (page) => {
	const stop = stopFileFor('live');
	const j = await submitJob('cats', 'bob', tickingJob('live-log', stop));
	try {
		await asAdmin(page, `jobs/${j.id}`, `Job #${j.id} live-log`);
		await page.evaluate(() => {
			window.__samePage = true;
		});
		const log = page.locator('main pre.log');
		await log.filter({ hasText: 'tick 3\n' }).waitFor();
		const first = await log.textContent();
		const n = Number(first.trim().split('\n').pop().replace('tick ', ''));
		// a later line arrives without a reload, after the earlier ones
		await log.filter({ hasText: `tick ${n + 5}\n` }).waitFor();
		const later = await log.textContent();
		assert.ok(later.startsWith(first), 'the log only grows');
		assert.ok(later.indexOf('tick 3\n') < later.indexOf(`tick ${n + 5}\n`));
		assert.equal(await page.evaluate(() => window.__samePage), true, 'the page was not reloaded');
		await page.locator('main .log-status', { hasText: 'Following the log live' }).waitFor();
		await page.locator('main h1 .badge', { hasText: 'running' }).waitFor();
		await shot(page, 'job-live');
	} finally {
		fs.writeFileSync(stop, '');
	}
	await page.locator('main h1 .badge', { hasText: 'succeeded' }).waitFor();
	await page.locator('main .log-status', { hasText: 'End of the log: the job succeeded.' }).waitFor();
	const done = await jobOf(j.id);
	assert.equal(done.state, 'succeeded');
	// the page holds the whole log, as the API has it
	const res = await fetch(`${base}/api/v1/jobs/${j.id}/logs`, { headers: { Authorization: `Bearer ${adminToken}` } });
	const whole = await res.text();
	assert.match(whole, /stopped after \d+ ticks\n$/);
	assert.equal(await page.locator('main pre.log').textContent(), whole);
	// the facts: exit code, worker, GPUs asked and got, the run; the events, in order
	const facts = await itext(panelOf(page, 'job-about'));
	assert.match(facts, new RegExp(`Exit code 0 Message ${done.message} Worker gpu-a GPUs asked 1 GPUs got GPU ${done.gpus[0]} `));
	assert.equal(await panelOf(page, 'job-about').locator('a', { hasText: 'gpu-a' }).getAttribute('href'), `#/workers/${done.worker_id}`);
	assert.equal(await panelOf(page, 'job-about').locator('a', { hasText: `run ${done.run_id}` }).getAttribute('href'), `#/projects/cats/runs/${done.run_id}`);
	const events = (await apiOk('GET', `/jobs/${j.id}/events`)).items.map((e) => e.to_state);
	assert.deepEqual(events, ['queued', 'dispatched', 'running', 'succeeded']);
	await eventually(async () => assert.deepEqual(await page.locator('main ol.job-events li').evaluateAll((lis) => lis.map((li) => li.dataset.to)), events), 'the events');
	assert.equal(await page.locator('main button', { hasText: 'Cancel' }).count(), 0, 'an ended job has no Cancel');
	await shot(page, 'job');
});

test('job page: inputs, the output model version, a failure\'s exit code, a waiting job\'s reason', async (page) => {
	const train = await jobOf(seed.jobs.train.id);
	await asAdmin(page, `jobs/${train.id}`, `Job #${train.id} train-small`);
	const mv = await apiOk('GET', `/model-versions/${train.output_model_version_id}`);
	assert.equal(await page.locator('main ul.job-inputs a').getAttribute('href'), '#/projects/cats/datasets/photos/versions/2');
	const out = page.locator('main ul.job-outputs a', { hasText: `${mv.model} v${mv.version}` });
	assert.equal(await out.getAttribute('href'), `#/projects/cats/models/${mv.model}/versions/${mv.version}`);
	await page.locator('main pre.log[role=log]', { hasText: 'trained' }).waitFor();
	assert.equal(await page.locator('main section.failure').count(), 0);
	const broken = await jobOf(seed.jobs.broken.id);
	await view(page, `jobs/${broken.id}`, `Job #${broken.id} train-broken`);
	assert.match(await itext(panelOf(page, 'job-about')), new RegExp(`State failed Exit code 2 Message ${broken.message} `));
	await page.locator('main pre.log[role=log]', { hasText: 'CUDA error: out of memory' }).waitFor();
	await page.locator('main .log-status', { hasText: 'the job failed' }).waitFor();
	const waiting = await jobOf(seed.jobs.waiting.id);
	await view(page, `jobs/${waiting.id}`, `Job #${waiting.id} waiting-for-v100`);
	assert.equal(waiting.state, 'queued');
	assert.equal(await text(page.locator('main .pending-reason')), waiting.pending_reason);
	assert.match(await itext(panelOf(page, 'job-about')), /GPUs got none yet Worker labels pool=small/);
	await shot(page, 'job-queued');
});

test('a failed job in one screen: exit code, error and the log\'s last lines on top; log search, wrap, download; resubmit with edits', async (page) => {
	const broken = await jobOf(seed.jobs.broken.id);
	await asAdmin(page, `jobs/${broken.id}`, `Job #${broken.id} train-broken`);
	// the summary comes first, before the status panels
	const failure = page.locator('main section.failure');
	await failure.waitFor();
	assert.ok(await failure.evaluate((el) => Boolean(el.compareDocumentPosition(document.getElementById('job-about')) & Node.DOCUMENT_POSITION_FOLLOWING)), 'the summary comes before the status');
	assert.match(await itext(failure.locator('h2')), new RegExp(`Why job ${broken.id} failed`));
	assert.match(await itext(failure), new RegExp(`Exit code 2 Error ${broken.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} Attempt 1 of ${broken.max_attempts}`));
	assert.deepEqual((await failure.locator('pre.log-tail').innerText()).split('\n'), ['loading data', 'CUDA error: out of memory']);
	await shot(page, 'job-failed');

	// search: the matching lines and their count
	const log = page.locator('main .logview');
	await log.locator('pre.log[role=log]', { hasText: 'CUDA error' }).waitFor();
	await log.locator('input.log-search').fill('cuda');
	await log.locator('.log-found', { hasText: '1 matching line on the page' }).waitFor();
	assert.equal(await log.locator('pre.log-matches').innerText(), 'CUDA error: out of memory');
	await log.locator('input.log-search').fill('no such text');
	await log.locator('.log-found', { hasText: '0 matching lines' }).waitFor();
	assert.equal(await log.locator('pre.log-matches').isVisible(), false);
	await log.locator('input.log-search').fill('');
	// wrap: on by default, off on a click
	const wrapBtn = log.locator('button', { hasText: 'Wrap lines' });
	assert.equal(await wrapBtn.getAttribute('aria-pressed'), 'true');
	await wrapBtn.click();
	assert.equal(await wrapBtn.getAttribute('aria-pressed'), 'false');
	assert.equal(await log.locator('pre.log[role=log]').evaluate((el) => getComputedStyle(el).whiteSpace), 'pre');
	// download: the whole log, the bytes the API has
	const [dl] = await Promise.all([page.waitForEvent('download'), log.locator('button', { hasText: 'Download' }).click()]);
	assert.equal(dl.suggestedFilename(), `job-${broken.id}-attempt-1.log`);
	const res = await fetch(`${base}/api/v1/jobs/${broken.id}/logs`, { headers: { Authorization: `Bearer ${adminToken}` } });
	assert.equal(fs.readFileSync(await dl.path(), 'utf8'), await res.text());

	// resubmit with edits: a new job, the same spec but the command, an env var and the GPUs
	const form = page.locator('main form.resubmit');
	await page.locator('main details.panel > summary', { hasText: 'Resubmit' }).click();
	assert.equal(await form.locator('textarea[name=command]').inputValue(), broken.command);
	assert.equal(await form.locator('input[name="resources.gpus"]').inputValue(), '1');
	await form.locator('textarea[name=command]').fill('echo "fixed: batch $BATCH"');
	await form.locator('textarea[name=env]').fill('BATCH=16');
	await form.locator('input[name="resources.gpus"]').fill('0');
	await form.locator('input[name=name]').fill('train-fixed');
	// a bad env line is refused in the form, by its field
	await form.locator('textarea[name=env]').fill('BATCH=16\nnot an assignment');
	await form.locator('button[type=submit]').click();
	await form.locator('[role=alert]', { hasText: 'is not KEY=VALUE' }).waitFor();
	assert.equal(await form.locator('textarea[name=env]').getAttribute('aria-invalid'), 'true');
	await form.locator('textarea[name=env]').fill('BATCH=16');
	await form.locator('button[type=submit]').click();
	await page.waitForURL((u) => /#\/jobs\/\d+$/.test(u.hash) && !u.hash.endsWith(`/${broken.id}`));
	const newId = Number(page.url().split('/').pop());
	const made = await jobOf(newId);
	assert.equal(made.project, 'cats');
	assert.equal(made.name, 'train-fixed');
	assert.equal(made.command, 'echo "fixed: batch $BATCH"');
	assert.deepEqual(made.env, { BATCH: '16' });
	assert.equal(made.resources.gpus, 0);
	assert.equal(made.created_by, 'admin');
	const done = await jobInState(newId, 'succeeded');
	assert.equal(done.exit_code, 0);
	await page.locator('main pre.log[role=log]', { hasText: 'fixed: batch 16' }).waitFor();
});

test('a job\'s run records the code version from ATRIUM_GIT_COMMIT / ATRIUM_GIT_DIRTY; the run page shows it', async (page) => {
	const commit = '9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
	const j = await submitJob('cats', 'bob', { name: 'coded-job', command: 'echo "at $ATRIUM_GIT_COMMIT"', resources: { gpus: 0 }, env: { ATRIUM_GIT_COMMIT: commit, ATRIUM_GIT_DIRTY: 'true' } });
	const run = await apiOk('GET', `/runs/${j.run_id}`);
	assert.equal(run.git_commit, commit);
	assert.equal(run.git_dirty, true);
	await asAdmin(page, `projects/cats/runs/${j.run_id}`, 'Run');
	const code = page.locator('main .code-version');
	assert.equal(await text(code.locator('code.git-commit')), commit.slice(0, 12));
	assert.equal(await code.locator('code.git-commit').getAttribute('title'), commit);
	assert.match(await itext(code), /uncommitted changes/);
	// a run made through the API with a clean tree
	const clean = await apiOk('POST', '/projects/cats/runs', seed.tokens.bob, { name: 'clean-code', git_commit: 'abcdef1', git_dirty: false });
	await view(page, `projects/cats/runs/${clean.id}`, 'Run clean-code');
	assert.match(await itext(page.locator('main .code-version')), /^abcdef1 Copy clean$/);
	await jobInState(j.id, 'succeeded');
});

test('a long log: the page shows its tail, and "Show earlier output" brings back the rest', async (page) => {
	// 40,000 numbered lines: about 229 KB, more than the 64 KiB read at first
	const j = await submitJob('cats', 'bob', { name: 'long-log', command: 'seq 1 40000', resources: { gpus: 1 } });
	await jobInState(j.id, 'succeeded');
	const res = await fetch(`${base}/api/v1/jobs/${j.id}/logs`, { headers: { Authorization: `Bearer ${adminToken}` } });
	const whole = await res.text();
	assert.ok(whole.length > 200_000 && whole.endsWith('\n40000\n'));
	await asAdmin(page, `jobs/${j.id}`, `Job #${j.id} long-log`);
	await page.locator('main .log-status', { hasText: 'End of the log' }).waitFor();
	const log = page.locator('main pre.log');
	const shown = await log.textContent();
	// the tail, from the start of a line
	assert.ok(shown.length < whole.length && whole.endsWith(shown) && whole[whole.length - shown.length - 1] === '\n');
	const earlier = page.locator('main button', { hasText: 'Show earlier output' });
	for (let i = 0; i < 10 && (await earlier.isVisible()); i++) {
		const before = (await log.textContent()).length;
		await earlier.click();
		await eventually(async () => assert.ok((await log.textContent()).length > before), 'earlier output comes');
	}
	assert.equal(await earlier.isVisible(), false, 'nothing earlier is left');
	assert.equal(await log.textContent(), whole);
});

test('cancel a running job from its page as an editor; a viewer has no Cancel', async (page, ctx) => {
	const j = await submitJob('cats', 'bob', { name: 'to-cancel', command: 'echo started; sleep 600', resources: { gpus: 1 } });
	await jobInState(j.id, 'running');
	const viewer = await ctx.newPage();
	try {
		await asUser(viewer, 'victor', `jobs/${j.id}`, `Job #${j.id}`);
		await viewer.locator('main pre.log', { hasText: 'started' }).waitFor();
		assert.equal(await viewer.locator('main button', { hasText: 'Cancel' }).count(), 0);
	} finally {
		await viewer.close();
	}
	await asUser(page, 'bob', `jobs/${j.id}`, `Job #${j.id}`);
	await page.locator('main pre.log', { hasText: 'started' }).waitFor();
	await page.locator('main button', { hasText: 'Cancel' }).click();
	await confirm(page, 'Cancel job');
	const cancelled = await jobInState(j.id, 'cancelled');
	assert.equal(cancelled.cancel_requested, true);
	await page.locator('main h1 .badge', { hasText: 'cancelled' }).waitFor();
	await page.locator('main .log-status', { hasText: 'the job cancelled' }).waitFor();
	assert.equal((await apiOk('GET', `/runs/${cancelled.run_id}`)).status, 'killed');
});

test('runs: metric columns, filtering and ordering through the run search API', async (page) => {
	await signInToken(page, adminToken);
	await signedIn(page);
	await forgetColumns(page);
	await view(page, 'projects/cats/runs', 'Runs');
	const heads = await page.locator('main thead th').allTextContents();
	assert.deepEqual(heads.slice(2, 5), ['loss', 'accuracy', 'val/acc']);
	const last = (run, key) => seed.metrics[run][key].values.at(-1);
	for (const run of ['baseline', 'sweep-3']) {
		const cells = row(page, seed.runs[run]).locator('td');
		assert.deepEqual((await cellTexts(row(page, seed.runs[run]))).slice(2, 5), ['loss', 'accuracy', 'val/acc'].map((k) => compact(last(run, k))));
		// the full value on hover
		assert.equal(await cells.nth(2).locator('span[title]').getAttribute('title'), String(last(run, 'loss')));
	}
	const runIds = async () => page.locator('main .table-wrap tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.key)));
	const apiRuns = async (q) => (await apiOk('GET', `/projects/cats/runs?${new URLSearchParams(q)}`)).items.map((r) => r.id);
	// a filter on a metric with '/' in its key
	const filter = 'metrics.val/acc > 0.88 and status = finished';
	await page.locator('main input[name=filter]').fill(filter);
	await page.locator('main button', { hasText: 'Apply' }).click();
	await page.waitForURL(/filter=/);
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Runs' }).waitFor();
	assert.deepEqual(await apiRuns({ filter }), [seed.runs['sweep-3']]);
	assert.deepEqual(await runIds(), [seed.runs['sweep-3']]);
	// order by a metric
	await page.locator('main button', { hasText: 'Clear' }).click();
	await page.waitForURL(/runs$/);
	await page.locator('main select[name=order_by]').selectOption('metrics.loss:asc');
	await page.waitForURL(/order_by=metrics.loss/);
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Runs' }).waitFor();
	const ordered = await apiRuns({ order_by: 'metrics.loss:asc' });
	assert.deepEqual(ordered.slice(0, 3), [seed.runs['sweep-3'], seed.runs.baseline, seed.runs['sweep-2']]);
	await eventually(async () => assert.deepEqual(await runIds(), ordered), 'ordered by loss');
	await shot(page, 'runs-metrics');
	// a filter the API cannot parse: its message, by the field
	await page.locator('main input[name=filter]').fill('metrics.loss >>> 1');
	await page.locator('main input[name=filter]').press('Enter');
	const bad = await api('GET', `/projects/cats/runs?${new URLSearchParams({ filter: 'metrics.loss >>> 1', order_by: 'metrics.loss:asc' })}`);
	assert.equal(bad.status, 400);
	await page.locator('main [role=alert]', { hasText: bad.json.error.message }).waitFor();
	assert.equal(await page.locator('main input[name=filter]').getAttribute('aria-invalid'), 'true');
});

// N calls of fn(i), at most `width` at a time.
async function inParallel(n, width, fn) {
	let next = 0;
	await Promise.all(Array.from({ length: width }, async () => {
		while (next < n) await fn(next++);
	}));
}

const SWEEP_RUNS = 1200;
let sweepSeeded = null;
// A project with SWEEP_RUNS runs of a sweep: params lr (12 values), seed, arch (one value);
// metrics loss (a tiny number), acc and, on every 10th run, grad_norm.
function seedSweep() {
	sweepSeeded ||= (async () => {
		await apiOk('POST', '/projects', adminToken, { name: 'sweep', team: 'vision', visibility: 'internal' });
		const ids = [];
		await inParallel(SWEEP_RUNS, 8, async (i) => {
			const run = await apiOk('POST', '/projects/sweep/runs', adminToken, { name: `trial-${i}`, params: { lr: String(10 ** -(1 + (i % 12))), seed: String(i), arch: 'resnet' }, status: 'finished' });
			const metrics = [
				{ key: 'loss', value: (i + 1) * 1e-9, step: 0 },
				{ key: 'acc', value: 0.5 + (i % 97) / 200, step: 0 },
			];
			if (i % 10 === 0) metrics.push({ key: 'grad_norm', value: i, step: 0 });
			await apiOk('POST', `/runs/${run.id}/metrics`, adminToken, { metrics });
			ids[i] = run.id;
		});
		return ids;
	})();
	return sweepSeeded;
}

test('runs table: thousands of runs paged on scroll, sorted by a column, picked columns and widths remembered, sticky name', async (page) => {
	const started = Date.now();
	await seedSweep();
	console.log(`        (seeded ${SWEEP_RUNS} runs in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
	await signInToken(page, adminToken);
	await signedIn(page);
	await forgetColumns(page);
	await view(page, 'projects/sweep/runs', 'Runs');
	const heads = async () => (await page.locator('main thead th').allTextContents()).map((t) => t.replace(/[▲▼]/g, '').trim());
	const rowCount = () => page.locator('main .runs-grid tbody tr').count();
	// defaults: acc and loss (every run) before grad_norm (a tenth); lr and seed differ, arch does not
	assert.deepEqual((await heads()).slice(0, 7), ['Run', 'Status', 'acc', 'loss', 'grad_norm', 'param lr', 'param seed']);
	assert.equal(await rowCount(), 100);
	// compact numbers (a loss of about 1e-6 as 1.2e-6), the full value on hover
	const sweepIds = await seedSweep();
	const newestId = Math.max(...sweepIds);
	const newestLoss = (sweepIds.indexOf(newestId) + 1) * 1e-9;
	const newest = row(page, newestId);
	assert.equal(await page.locator('main .runs-grid tbody tr').first().getAttribute('data-key'), String(newestId));
	assert.equal(await newest.locator('td').nth(3).innerText(), compact(newestLoss));
	assert.equal(await newest.locator('td').nth(3).locator('span').getAttribute('title'), String(newestLoss));

	// scrolling the table loads the next pages (cursor paging), a page of 100 at a time
	const grid = page.locator('main .runs-grid');
	let t0 = Date.now();
	for (let want = 200; want <= 500; want += 100) {
		await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
		await eventually(async () => assert.ok((await rowCount()) >= want), `${want} rows after scrolling`);
	}
	console.log(`        (4 more pages on scroll in ${Date.now() - t0} ms)`);
	// all of them, with the button
	t0 = Date.now();
	while (await page.locator('main button.load-more').isVisible()) {
		await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
		await page.waitForTimeout(50);
	}
	assert.equal(await rowCount(), SWEEP_RUNS);
	console.log(`        (all ${SWEEP_RUNS} rows in ${Date.now() - t0} ms)`);
	assert.match(await itext(page.locator('main .runs-count')), new RegExp(`^${SWEEP_RUNS} runs$`));
	const keys = await page.locator('main .runs-grid tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.key)));
	assert.equal(new Set(keys).size, SWEEP_RUNS);

	// sticky first column: scrolled sideways, the names stay at the left edge
	await grid.evaluate((el) => (el.scrollLeft = 300));
	const [gridX, nameX] = await Promise.all([grid.evaluate((el) => el.getBoundingClientRect().left), newest.locator('td').first().evaluate((el) => el.getBoundingClientRect().left)]);
	assert.ok(Math.abs(nameX - gridX) <= 2, `name column stays at the left (${nameX} vs ${gridX})`);
	await grid.evaluate((el) => (el.scrollLeft = 0));

	// sort by a column header: the API's order_by, server-side, ascending then descending
	const ids = async () => page.locator('main .runs-grid tbody tr').evaluateAll((trs) => trs.slice(0, 5).map((tr) => Number(tr.dataset.key)));
	const apiIds = async (order) => (await apiOk('GET', `/projects/sweep/runs?${new URLSearchParams({ order_by: order, limit: 5 })}`)).items.map((r) => r.id);
	await page.locator('main thead th button.sort', { hasText: 'acc' }).first().click();
	await page.waitForURL(/order_by=metrics.acc%3Aasc|order_by=metrics.acc:asc/);
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Runs' }).waitFor();
	await eventually(async () => assert.deepEqual(await ids(), await apiIds('metrics.acc:asc')), 'sorted by acc, ascending');
	assert.equal(await page.locator('main thead th[aria-sort=ascending]').innerText().then((t) => t.replace(/[▲▼]/g, '').trim()), 'acc');
	await page.locator('main thead th button.sort', { hasText: 'acc' }).first().click();
	await page.waitForURL(/metrics.acc(%3A|:)desc/);
	await eventually(async () => assert.deepEqual(await ids(), await apiIds('metrics.acc:desc')), 'sorted by acc, descending');
	await page.locator('main thead th button.sort', { hasText: 'seed' }).click();
	await page.waitForURL(/params.seed(%3A|:)asc/);
	await eventually(async () => assert.deepEqual(await ids(), await apiIds('params.seed:asc')), 'sorted by the param seed');
	await shot(page, 'runs-table');

	// the column picker: drop grad_norm, add arch; remembered for this project after a reload
	await page.locator('main details.column-picker > summary').click();
	await page.locator('main details.column-picker input[data-kind=metrics][data-key=grad_norm]').uncheck();
	await page.locator('main details.column-picker input[data-kind=params][data-key=arch]').check();
	assert.deepEqual((await heads()).slice(2, 7), ['acc', 'loss', 'param lr', 'param seed', 'param arch']);
	await page.locator('main details.column-picker > summary').click(); // closed: it covers the header
	// a column's width, dragged by its header's edge
	const lossHead = page.locator('main thead th[data-col="m:loss"]');
	const before = (await lossHead.boundingBox()).width;
	const grip = (await lossHead.locator('.col-resize').boundingBox());
	await page.mouse.move(grip.x + 3, grip.y + 5);
	await page.mouse.down();
	await page.mouse.move(grip.x + 83, grip.y + 5, { steps: 4 });
	await page.mouse.up();
	const after = (await lossHead.boundingBox()).width;
	assert.ok(after >= before + 70, `loss column wider (${before} -> ${after})`);
	await page.reload();
	await signedIn(page).catch(() => {});
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Runs' }).waitFor();
	assert.deepEqual((await heads()).slice(2, 7), ['acc', 'loss', 'param lr', 'param seed', 'param arch']);
	assert.ok(Math.abs((await page.locator('main thead th[data-col="m:loss"]').boundingBox()).width - after) <= 2, 'the width is remembered');
	// another project keeps its own defaults
	await view(page, 'projects/cats/runs', 'Runs');
	assert.deepEqual((await heads()).slice(2, 5), ['loss', 'accuracy', 'val/acc']);
	// back to the defaults
	await view(page, 'projects/sweep/runs', 'Runs');
	await page.locator('main details.column-picker > summary').click();
	await page.locator('main details.column-picker button', { hasText: 'Reset to defaults' }).click();
	assert.deepEqual((await heads()).slice(2, 7), ['acc', 'loss', 'grad_norm', 'param lr', 'param seed']);
	await forgetColumns(page);
});

test('run page: a chart per metric key, legends name the keys, the points as a table; artifacts', async (page) => {
	await asAdmin(page, `projects/cats/runs/${seed.runs.baseline}`, 'Run baseline');
	const keys = ['accuracy', 'loss', 'val/acc'];
	const figs = page.locator('main figure.metric');
	assert.deepEqual(await figs.evaluateAll((fs) => fs.map((f) => f.dataset.key)), keys);
	for (const key of keys) {
		const fig = page.locator(`main figure.metric[data-key="${key}"]`);
		await fig.locator('.uplot canvas').first().waitFor();
		assert.equal(await text(fig.locator('figcaption')), key);
		assert.deepEqual(await fig.locator('.u-legend .u-series:not(:first-child) .u-label').allTextContents(), [key]);
		// the summary: last, at step, min, max, points
		const m = seed.metrics.baseline[key];
		const cells = await cellTexts(prow(page, 'run-metrics', key));
		assert.deepEqual(cells, [key, String(m.values.at(-1)), String(m.steps.at(-1)), String(Math.min(...m.values)), String(Math.max(...m.values)), String(m.values.length)]);
	}
	// the points of val/acc (logged every 5 steps), from GET /runs/{run}/metrics/val%2Facc
	const pts = await apiOk('GET', `/runs/${seed.runs.baseline}/metrics/val%2Facc?max_points=1000`);
	assert.deepEqual(pts.steps, seed.metrics.baseline['val/acc'].steps);
	const fig = page.locator('main figure.metric[data-key="val/acc"]');
	await fig.locator('details.figures summary').click();
	const rows = fig.locator('details.figures tbody tr');
	await rows.first().waitFor(); // (the table is filled when the details open)
	assert.equal(await rows.count(), pts.steps.length);
	assert.deepEqual(await cellTexts(rows.first()), [String(pts.steps[0]), String(pts.values[0])]);
	assert.deepEqual(await cellTexts(rows.last()), [String(pts.steps.at(-1)), String(pts.values.at(-1))]);
	await shot(page, 'run-metrics');
	// the artifact, downloaded with the token in a header: the bytes uploaded
	const a = seed.artifact;
	const cells = await cellTexts(prow(page, 'run-artifacts', a.path));
	assert.equal(cells[0], a.path);
	const [dl] = await Promise.all([page.waitForEvent('download'), prow(page, 'run-artifacts', a.path).locator('button', { hasText: 'Download' }).click()]);
	assert.equal(fs.readFileSync(await dl.path(), 'utf8'), a.text);
});

test('compare runs: ticked with the keyboard; differing params marked, last values, overlaid charts', async (page) => {
	await asAdmin(page, 'projects/cats/runs', 'Runs');
	const compare = page.locator('main button', { hasText: 'Compare selected' });
	assert.equal(await compare.isDisabled(), true);
	for (const name of ['baseline', 'sweep-3']) {
		await page.locator(`main input[aria-label="Compare ${name}"]`).focus();
		await page.keyboard.press('Space');
	}
	assert.equal(await compare.isDisabled(), false);
	await compare.focus();
	await page.keyboard.press('Enter');
	const ids = [seed.runs.baseline, seed.runs['sweep-3']];
	await page.waitForURL(new RegExp(`compare\\?runs=${ids.join(',')}$`));
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Compare runs' }).waitFor();
	// params: lr is the same (0.01), epochs differs (10, 20)
	const p = (k) => prow(page, 'compare-params', k);
	assert.deepEqual(await cellTexts(p('epochs')), ['epochs differs', '10', '20']);
	assert.deepEqual(await cellTexts(p('lr')), ['lr', '0.01', '0.01']);
	assert.equal(await p('epochs').getAttribute('class'), 'differs');
	assert.equal(await p('lr').getAttribute('class'), null);
	// the last value of each metric, per run, the best one marked (lowest loss, highest accuracy)
	const lowerIsBetter = (key) => /loss|err|mse|mae|rmse|perplexity|wer|cer|time|latency|nll/i.test(key);
	const lastCells = (names, key) => {
		const vals = names.map((n) => seed.metrics[n][key]?.values.at(-1));
		const have = vals.filter((v) => v !== undefined);
		const best = lowerIsBetter(key) ? Math.min(...have) : Math.max(...have);
		return vals.map((v) => (v === undefined ? '—' : `${compact(v)}${v === best ? ' best' : ''}`));
	};
	for (const key of ['accuracy', 'loss', 'val/acc']) {
		assert.deepEqual(await cellTexts(prow(page, 'compare-metrics', key)), [key, ...lastCells(['baseline', 'sweep-3'], key)]);
	}
	// one chart per key, a curve per run, one legend for all of them; the best value in the caption
	const labels = [`baseline (#${ids[0]})`, `sweep-3 (#${ids[1]})`];
	assert.deepEqual(await page.locator('main ul.shared-legend li').allTextContents(), labels.map((l) => ` ${l}`));
	for (const key of ['accuracy', 'loss', 'val/acc']) {
		const fig = page.locator(`main figure.metric[data-key="${key}"]`);
		await fig.locator('.uplot canvas').first().waitFor();
		assert.equal(await fig.locator('.u-legend').count(), 0);
		assert.equal(await fig.locator('.metric-chart').getAttribute('aria-label'), `${key}: ${labels.join(', ')} by step`);
		const vals = ['baseline', 'sweep-3'].map((n) => seed.metrics[n][key].values.at(-1));
		const best = lowerIsBetter(key) ? Math.min(...vals) : Math.max(...vals);
		assert.match(await itext(fig.locator('figcaption')), new RegExp(`best: ${compact(best).replace('.', '\\.')} \\(${['baseline', 'sweep-3'][vals.indexOf(best)]} \\(#\\d+\\), ${lowerIsBetter(key) ? 'lowest' : 'highest'}\\)`));
	}
	await shot(page, 'compare');
	// with sweep-2 too: it has no epochs and only a loss; all series came in one call
	const calls = [];
	page.on('request', (r) => r.url().includes('/api/v1/') && calls.push(new URL(r.url()).pathname));
	await view(page, `projects/cats/compare?runs=${[...ids, seed.runs['sweep-2']].join(',')}`, 'Compare runs');
	assert.deepEqual(await cellTexts(prow(page, 'compare-params', 'lr')), ['lr differs', '0.01', '0.01', '0.1']);
	assert.deepEqual(await cellTexts(prow(page, 'compare-metrics', 'accuracy')), ['accuracy', ...lastCells(['baseline', 'sweep-3', 'sweep-2'], 'accuracy')]);
	assert.deepEqual(await cellTexts(prow(page, 'compare-metrics', 'loss')), ['loss', ...lastCells(['baseline', 'sweep-3', 'sweep-2'], 'loss')]);
	await page.locator('main figure.metric[data-key="loss"] .uplot canvas').first().waitFor();
	assert.match(await page.locator('main figure.metric[data-key="loss"] .metric-chart').getAttribute('aria-label'), /sweep-2 \(#\d+\) by step$/);
	assert.doesNotMatch(await page.locator('main figure.metric[data-key="accuracy"] .metric-chart').getAttribute('aria-label'), /sweep-2/);
	assert.equal(calls.filter((c) => c === '/api/v1/projects/cats/metrics').length, 1, calls.join(' '));
	assert.equal(calls.filter((c) => /\/runs\/\d+\/metrics/.test(c)).length, 0, calls.join(' '));
	// x by time, then a log scale: kept in the address, drawn again
	await page.locator('main select[name=x]').selectOption('time');
	await page.waitForURL(/x=time/);
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Compare runs' }).waitFor();
	await page.locator('main figure.metric[data-key="loss"] .uplot canvas').first().waitFor();
	assert.match(await page.locator('main figure.metric[data-key="loss"] .metric-chart').getAttribute('aria-label'), /by time \(UTC\)$/);
	await page.locator('main select[name=scale]').selectOption('log');
	await page.waitForURL(/scale=log/);
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Compare runs' }).waitFor();
	await page.locator('main figure.metric[data-key="loss"] .uplot canvas').first().waitFor();
	assert.equal(await page.locator('main select[name=x]').inputValue(), 'time');
	assert.equal(await page.locator('main select[name=scale]').inputValue(), 'log');
	await page.locator('main select[name=x]').selectOption('relative');
	await page.waitForURL(/x=relative/);
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Compare runs' }).waitFor();
	await page.locator('main figure.metric[data-key="loss"] .uplot canvas').first().waitFor();
	assert.match(await page.locator('main figure.metric[data-key="loss"] .metric-chart').getAttribute('aria-label'), /by seconds since start$/);
});

// ---------- issue 18, the rest (dashwork): compare's smoothing, progress axis, parallel
// coordinates and scatter; GPU-hours over time; the runs table at scale ----------

test('compare: smoothing, x by progress, parallel coordinates (brushed) and a param-against-metric scatter', async (page) => {
	const names = ['baseline', 'sweep-3', 'sweep-2'];
	const ids = names.map((n) => seed.runs[n]);
	await asAdmin(page, `projects/cats/compare?runs=${ids.join(',')}`, 'Compare runs');
	// the smoothing is the page's own function: a debiased EMA (checked against its definition)
	const ema = (vals, w) => {
		let acc = 0;
		return vals.map((v, i) => ((acc = acc * w + (1 - w) * v), acc / (1 - w ** (i + 1))));
	};
	const loss = seed.metrics['sweep-3'].loss.values;
	const got = await page.evaluate(async (v) => (await import('/views/compare.js')).smooth(v, 0.6), loss);
	ema(loss, 0.6).forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-12, `point ${i}`));
	assert.deepEqual(await page.evaluate(async () => (await import('/views/compare.js')).smooth([1, null, 3], 0)), [1, null, 3]);
	// the slider keeps its weight in the address; the captions say so, the points tables stay raw
	await page.locator('main input[name=smooth]').evaluate((el) => {
		el.value = '0.6';
		el.dispatchEvent(new Event('input', { bubbles: true }));
		el.dispatchEvent(new Event('change', { bubbles: true }));
	});
	await page.waitForURL(/smooth=0\.6/);
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Compare runs' }).waitFor();
	const lossFig = page.locator('main figure.metric[data-key="loss"]');
	await lossFig.locator('.uplot canvas').first().waitFor();
	assert.match(await itext(lossFig.locator('figcaption')), /smoothed \(EMA 0\.6\)$/);
	assert.equal(await text(page.locator('main .smooth-value')), '0.6');
	await lossFig.locator('details.figures summary').click();
	// the redraw after the slider may still be replacing the table: wait for a filled row
	await lossFig.locator('details.figures tbody tr td').first().waitFor();
	const first = await cellTexts(lossFig.locator('details.figures tbody tr').first());
	assert.equal(first[0], String(seed.metrics.baseline.loss.steps[0]));
	assert.equal(first[1], String(seed.metrics.baseline.loss.values[0]), 'the table shows the raw value');
	// runs of very different lengths (60 steps, 8 steps) over each other: x by progress
	await page.locator('main select[name=x]').selectOption('progress');
	await page.waitForURL(/x=progress/);
	await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Compare runs' }).waitFor();
	await lossFig.locator('.uplot canvas').first().waitFor();
	assert.match(await lossFig.locator('.metric-chart').getAttribute('aria-label'), /by progress$/);
	assert.match(page.url(), /smooth=0\.6/);
	// parallel coordinates: the params that differ, then the metric; a line per run
	const pv = panelOf(page, 'compare-pv');
	const pc = pv.locator('svg.parcoords');
	assert.deepEqual(await pc.locator('.pc-axis .pc-name').allTextContents(), ['epochs', 'lr', 'accuracy']);
	assert.deepEqual(await pc.locator('.pc-lines path').evaluateAll((ps) => ps.map((p) => p.dataset.key)), ids.map(String));
	assert.deepEqual(await pc.locator('.pc-axis[data-axis="lr"] .pc-tick').allTextContents(), ['0.01', '0.055', '0.1']);
	// sweep-2 has no epochs and no accuracy: its line is only the lr point (no segment)
	assert.doesNotMatch(await pc.locator(`.pc-lines path[data-key="${ids[2]}"]`).getAttribute('d'), /L/);
	assert.match(await pc.locator(`.pc-lines path[data-key="${ids[0]}"]`).getAttribute('d'), /^M[\d.]+,[\d.]+L[\d.]+,[\d.]+L[\d.]+,[\d.]+$/);
	// the scatter: epochs against accuracy, a dot per run that has both
	const sc = pv.locator('svg.scatter');
	assert.deepEqual(await sc.locator('circle').evaluateAll((cs) => cs.map((c) => c.dataset.key)), ids.slice(0, 2).map(String));
	assert.deepEqual(await sc.locator('.sc-name').allTextContents(), ['epochs', 'accuracy']);
	// another metric and param redraw both in place: lr against loss, all three runs
	await pv.locator('select[name=pc-metric]').selectOption('loss');
	await pv.locator('select[name=sc-param]').selectOption('lr');
	assert.deepEqual(await pc.locator('.pc-axis .pc-name').allTextContents(), ['epochs', 'lr', 'loss']);
	assert.deepEqual(await sc.locator('circle').evaluateAll((cs) => cs.map((c) => c.dataset.key)), ids.map(String));
	assert.match(await sc.locator(`circle[data-key="${ids[2]}"] title`).textContent(), /sweep-2 \(#\d+\): lr = 0\.1, loss = /);
	// brushing: drag along the lr axis over its top half keeps sweep-2 (lr 0.1) only
	const hit = pc.locator('.pc-axis[data-axis="lr"] .pc-hit');
	await hit.scrollIntoViewIfNeeded();
	const box = await hit.boundingBox();
	await page.mouse.move(box.x + box.width / 2, box.y + 2);
	await page.mouse.down();
	await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.3, { steps: 4 });
	await page.mouse.up();
	assert.deepEqual(await pc.locator('.pc-lines path:not(.dim)').evaluateAll((ps) => ps.map((p) => p.dataset.key)), [String(ids[2])]);
	assert.match(await text(pv.locator('.pc-kept')), /^1 of 3 runs kept: sweep-2 \(#\d+\)\.$/);
	await shot(page, 'compare-parcoords');
	if (process.env.DOCS_IMG_DIR) await pv.screenshot({ path: path.join(process.env.DOCS_IMG_DIR, 'compare-parcoords.png') });
	// a click on the axis clears its range (where the axis is now: the screenshot may scroll)
	await hit.scrollIntoViewIfNeeded();
	const box2 = await hit.boundingBox();
	await page.mouse.click(box2.x + box2.width / 2, box2.y + box2.height / 2);
	assert.equal(await pc.locator('.pc-lines path.dim').count(), 0);
	assert.match(await text(pv.locator('.pc-kept')), /^3 of 3 runs kept/);
});

// The GPU-hours table of a gpu_hours.js panel: first row = the latest bucket.
const hoursRows = (panel) => panel.locator('details.figures tbody tr');

test('GPU-hours over time: per team on the overview and the teams page, per worker with its use on the worker page', async (page) => {
	// a 1-GPU job of cats (team vision) that ends by itself
	const j = await submitJob('cats', 'bob', { name: 'gpu-hours', resources: { gpus: 1 }, command: 'sleep 1' });
	const done = await jobInState(j.id, 'succeeded');
	await signInToken(page, adminToken);
	await signedIn(page);
	// the overview: its own /admin/stats answer drives the chart and the table
	const [res] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/v1/admin/stats')), view(page, 'overview?weeks=4', 'Overview')]);
	const stats = await res.json();
	const sum = new Map();
	for (const b of stats.series) for (const r of b.gpu_hours_by_team) sum.set(r.team ?? '(no team)', (sum.get(r.team ?? '(no team)') || 0) + r.hours);
	const teams = [...sum.keys()].sort((a, b) => sum.get(b) - sum.get(a) || a.localeCompare(b));
	assert.ok(teams.includes('vision'), JSON.stringify([...sum]));
	const gp = page.locator('main section[data-panel="gpu_series"]');
	assert.equal(await text(gp.locator('h2')), 'GPU-hours per week by team');
	await gp.locator('.uplot canvas').first().waitFor();
	assert.deepEqual(await gp.locator('.u-legend .u-series .u-label').allTextContents(), teams);
	assert.equal(await gp.locator('.chart').getAttribute('aria-label'), `GPU-hours per week of ${teams.join(', ')}`);
	await gp.locator('details.figures summary').click();
	assert.equal(await hoursRows(gp).count(), stats.series.length);
	const last = stats.series.at(-1);
	const inLast = (t) => last.gpu_hours_by_team.filter((r) => (r.team ?? '(no team)') === t).reduce((a, r) => a + r.hours, 0);
	assert.deepEqual(await cellTexts(hoursRows(gp).first()), [last.bucket_start.slice(0, 10), ...teams.map((t) => fmtHours(inLast(t))), fmtHours(last.gpu_hours)]);
	assert.ok(inLast('vision') > 0);
	// this week's bucket holds what the week's card says
	assert.equal(fmtHours(last.gpu_hours), await cardFigure(page, 'gpu_hours'));
	await gp.screenshot({ path: path.join(shots, 'overview-gpu-hours.png') });
	// the teams page: the same chart over 12 weeks
	await view(page, 'admin/teams', 'Teams & quotas');
	const tp = page.locator('main section[data-panel="gpu_series"]');
	await tp.locator('.uplot canvas').first().waitFor();
	assert.ok((await tp.locator('.u-legend .u-series .u-label').allTextContents()).includes('vision'));
	await tp.locator('details.figures summary').click();
	const weeks = await hoursRows(tp).count();
	assert.ok(weeks === 12 || weeks === 13, `a row per week of the last 12: ${weeks}`);
	assert.equal((await cellTexts(hoursRows(tp).first()))[0], last.bucket_start.slice(0, 10));
	// the worker page: its GPU-hours per day and its use of its 4 GPUs
	const w = done.worker_id;
	const [wres] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/v1/admin/stats')), view(page, `workers/${w}`, 'Worker gpu-a')]);
	const daily = await wres.json();
	assert.equal(daily.bucket, 'day');
	const wp = page.locator('main section[data-panel="worker_gpu_series"]');
	assert.equal(await text(wp.locator('h2')), 'GPU use per day');
	await wp.locator('.uplot canvas').first().waitFor();
	assert.deepEqual(await wp.locator('.u-legend .u-series .u-label').allTextContents(), ['GPU-hours', 'Use (%)']);
	await wp.locator('details.figures summary').click();
	assert.equal(await hoursRows(wp).count(), daily.series.length);
	const today = daily.series.at(-1);
	const hours = today.gpu_hours_by_worker.find((r) => r.worker === w)?.hours ?? 0;
	assert.ok(hours > 0, JSON.stringify(today));
	const spanH = Math.min(24, (Date.parse(daily.until) - Date.parse(today.bucket_start)) / 3600e3);
	const use = Math.min(100, (100 * hours) / (4 * spanH));
	assert.deepEqual(await cellTexts(hoursRows(wp).first()), [today.bucket_start.slice(0, 10), fmtHours(hours), `${use.toFixed(use && use < 1 ? 2 : 0)} %`]);
	await wp.screenshot({ path: path.join(shots, 'worker-gpu-use.png') });
});

test('replicas of deployments are told apart from training jobs: jobs list, workers list, worker page', async (page) => {
	const D = seed.deployment;
	const services = (await apiOk('GET', '/jobs?kind=service&state=running')).items;
	assert.equal(services.length, 2);
	await asAdmin(page, 'jobs?kind=service', 'Jobs');
	for (const j of services) {
		const cells = await cellTexts(row(page, j.id));
		assert.equal(cells[4], `replica of ${D.name}`);
		assert.equal(await row(page, j.id).locator('.kind-replica a').getAttribute('href'), `#/deployments/${D.name}`);
	}
	// a training job's kind stays as it is
	await view(page, 'jobs', 'Jobs');
	assert.equal((await cellTexts(row(page, seed.jobs.train.id)))[4], 'training');
	// the workers list marks them beside the jobs that hold GPUs
	await view(page, 'workers', 'Workers');
	const w = services[0].worker_id;
	const jobsCell = row(page, w).locator('.worker-jobs');
	for (const j of services) assert.match(await itext(jobsCell), new RegExp(`#${j.id} [^#]*replica`));
	// the worker page: a Kind column
	await view(page, `workers/${w}`, 'Worker gpu-a');
	for (const j of services.filter((s) => s.worker_id === w)) assert.equal((await cellTexts(prow(page, 'worker-jobs', j.id)))[4], `replica of ${D.name}`);
	await shot(page, 'worker-replicas');
});

test('lineage both ways: a dataset version shows the job that made it and the runs and model versions it fed', async (page) => {
	const lin = await apiOk('GET', '/projects/cats/datasets/photos/versions/2/lineage');
	assert.ok(lin.used_by.runs.length >= 1 && lin.used_by.model_versions.length >= 1, JSON.stringify(lin.used_by));
	await asAdmin(page, 'projects/cats/datasets/photos/versions/2', 'photos');
	const p = panelOf(page, 'dv-lineage');
	assert.match(await itext(p.locator('dl')), /uploaded, not made by a job/);
	assert.equal(await p.locator('h3').first().textContent(), `Used by runs (${lin.used_by.runs.length})`);
	for (const r of lin.used_by.runs) {
		assert.equal((await cellTexts(p.locator(`tr[data-key="${r.id}"]`).first()))[0], `${r.name} (#${r.id})`);
		assert.equal(await p.locator(`tr[data-key="${r.id}"] a`).first().getAttribute('href'), `#/projects/cats/runs/${r.id}`);
	}
	const mvRows = p.locator('table').nth(1).locator('tbody tr');
	assert.deepEqual(await mvRows.evaluateAll((trs) => trs.map((tr) => tr.cells[0].innerText.trim())), lin.used_by.model_versions.map((m) => `${m.model} v${m.version}`));
	// a run from there opens its page; its model version too
	await p.locator(`tr[data-key="${lin.used_by.runs[0].id}"] a`).first().click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: `Run ${lin.used_by.runs[0].name}` }).waitFor();
	await shot(page, 'dataset-version-lineage');
	// a run's address with another project goes to the run's own project
	const other = lin.used_by.runs[0];
	await view(page, `projects/secret-lab/runs/${other.id}`, `Run ${other.name}`);
	assert.match(page.url(), new RegExp(`#/projects/cats/runs/${other.id}$`));
});

test('lineage both ways: a run shows the model versions registered from it', async (page) => {
	const run = seed.runs.baseline;
	const models = (await apiOk('GET', '/projects/cats/models?limit=100')).items;
	const want = [];
	for (const m of models) for (const v of (await apiOk('GET', `/projects/cats/models/${m.name}/versions?limit=1000`)).items) if (v.source_run === run) want.push(v);
	assert.ok(want.length >= 3, JSON.stringify(want.map((v) => [v.model, v.version])));
	await asAdmin(page, `projects/cats/runs/${run}`, 'Run baseline');
	const p = panelOf(page, 'run-models');
	assert.equal(await text(p.locator('h2')), `Model versions registered from it (${want.length})`);
	for (const v of want) {
		const r = p.locator(`tr[data-key="${v.id}"]`);
		assert.equal((await cellTexts(r))[0], `${v.model} v${v.version}`);
		assert.equal(await r.locator('a').getAttribute('href'), `#/projects/cats/models/${v.model}/versions/${v.version}`);
	}
	// a run with none says so
	await view(page, `projects/cats/runs/${seed.runs['sweep-2']}`, 'Run sweep-2');
	assert.equal(await text(panelOf(page, 'run-models').locator('h2')), 'Model versions registered from it (0)');
});

test("a data scientist's home: her jobs running and waiting with why, her teams against their quotas, the newest runs of her projects", async (page) => {
	const alice = seed.users.find((u) => u.username === 'alice');
	const tok = seed.tokens.alice;
	await signInPassword(page, 'alice', alice.password);
	await signedIn(page);
	await page.locator('main .view:not([aria-busy]) section[aria-labelledby="home-jobs"]').waitFor();
	// her active jobs: the seeded one waiting for a V100, with its place and reason
	const mine = (await apiOk('GET', '/jobs?user=alice&state=queued,dispatched,running&limit=200', tok)).items;
	const waiting = seed.jobs.waiting;
	assert.ok(mine.some((j) => j.id === waiting.id));
	const jobs = panelOf(page, 'home-jobs');
	assert.equal(await text(jobs.locator('h2')), `Your jobs running and waiting (${mine.length})`);
	const cells = await cellTexts(jobs.locator(`tr[data-key="${waiting.id}"]`));
	assert.equal(cells[0], `#${waiting.id} ${waiting.name}`);
	assert.equal(cells[1], 'queued');
	assert.match(cells[4], /in line/);
	assert.ok(cells[4].includes((await jobOf(waiting.id)).pending_reason), cells[4]);
	// her teams, with the quota and what each holds now
	const teams = panelOf(page, 'home-teams');
	const vision = await apiOk('GET', '/teams/vision', tok);
	const row0 = await cellTexts(teams.locator('tr[data-key="vision"]'));
	assert.equal(row0[0], 'vision (maintainer)');
	assert.match(row0[1], vision.max_gpus === null ? /\(no quota\)/ : new RegExp(` of ${vision.max_gpus}`));
	// the newest runs of her projects (cats is hers), newest first
	const catsRuns = (await apiOk('GET', '/projects/cats/runs?limit=10', tok)).items;
	const shown = await panelOf(page, 'home-runs').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.key)));
	assert.ok(shown.length > 0 && shown.length <= 10);
	assert.ok(catsRuns.slice(0, 3).every((r) => shown.includes(r.id)), `${shown} / ${catsRuns.map((r) => r.id)}`);
	await shot(page, 'home');
});

test('search finds deployments, users (admins), and a job and a run by id too', async (page) => {
	const D = seed.deployment;
	await asAdmin(page, `search?q=${encodeURIComponent(D.name)}`, 'Search');
	const other = page.locator('main section.other-results');
	const dep = other.locator('li[data-kind="deployment"]');
	assert.equal(await dep.locator('a').getAttribute('href'), `#/deployments/${D.name}`);
	assert.equal(await text(dep.locator('a')), D.name);
	// a user by the start of her display name; her jobs are one click away
	const alice = seed.users.find((u) => u.username === 'alice');
	await view(page, `search?q=${encodeURIComponent(alice.display_name.split(' ')[0].slice(0, 3))}`, 'Search');
	const u = other.locator('li[data-kind="user"]', { hasText: 'alice' });
	assert.equal(await u.locator('a').getAttribute('href'), '#/jobs?user=alice');
	// a number: the job and the run with that id
	const j = seed.jobs.train;
	await view(page, `search?q=%23${j.id}`, 'Search');
	assert.equal(await text(other.locator('li[data-kind="job"] a')), `#${j.id} ${j.name}`);
	const run = await apiOk('GET', `/runs/${j.id}`).catch(() => null);
	if (run) assert.equal(await other.locator('li[data-kind="run"] a').getAttribute('href'), `#/projects/${run.project}/runs/${run.id}`);
	await shot(page, 'search-other');
	// a member finds no users (the users list is admins')
	const bob = seed.users.find((x) => x.username === 'bob');
	await page.locator('button.signout').click();
	await signInPassword(page, 'bob', bob.password);
	await signedIn(page);
	await view(page, `search?q=alice`, 'Search');
	assert.equal(await page.locator('main li[data-kind="user"]').count(), 0);
	// the matching rule is the endpoint's: each word starts a word
	const m = await page.evaluate(async () => {
		const { matchesWords } = await import('/views/search.js');
		return [matchesWords('sco', 'cats-scorer'), matchesWords('cor', 'cats-scorer'), matchesWords('cats sc', 'cats-scorer'), matchesWords('', 'x')];
	});
	assert.deepEqual(m, [true, false, true, false]);
});

test('search finds runs and jobs by name (server-side), each linking to its page; not in projects one may not read', async (page, ctx) => {
	const broken = seed.jobs.broken;
	const sweep2 = seed.runs['sweep-2'];
	await asUser(page, 'bob', 'search?q=train-broken', 'Search: train-broken');
	const job = page.locator(`main ol.results li[data-kind="job"]`, { hasText: 'train-broken' });
	assert.equal(await job.locator('a').getAttribute('href'), `#/jobs/${broken.id}`);
	assert.equal(await text(job.locator('a')), `train-broken (#${broken.id})`);
	assert.match(await itext(job), /in cats/);
	// the kind picker narrows to runs; a run links to its page in its project
	await view(page, 'search?q=sweep&kind=run', 'Search: sweep');
	const kinds = await page.locator('main ol.results li').evaluateAll((lis) => lis.map((li) => li.dataset.kind));
	assert.ok(kinds.length > 0 && kinds.every((k) => k === 'run'), kinds.join(','));
	const run = page.locator('main ol.results li[data-kind="run"]', { hasText: 'sweep-2' });
	assert.equal(await run.locator('a').getAttribute('href'), `#/projects/cats/runs/${sweep2}`);
	await shot(page, 'search-runs-jobs');
	await run.locator('a').click();
	await page.waitForURL(new RegExp(`#/projects/cats/runs/${sweep2}$`));
	// victor may not read secret-lab: its job is not found; the admin finds it
	const other = await ctx.newPage();
	try {
		await asUser(other, 'victor', 'search?q=eval-nlp&kind=job', 'Search: eval-nlp');
		await other.locator('main', { hasText: 'Nothing matches' }).waitFor();
		assert.equal(await other.locator('main ol.results li').count(), 0);
	} finally {
		await other.close();
	}
	assert.ok((await apiOk('GET', '/search?q=eval-nlp&kind=job')).items.some((r) => r.id === seed.jobs.nlp.id));
});

test('the worker page refreshes itself: a job that starts there appears, and leaves when it ends, without a reload', async (page) => {
	const live = (await apiOk('GET', '/workers')).items.find((w) => w.name === seed.workers.online);
	await asAdmin(page, `workers/${live.id}`, 'Worker gpu-a');
	const marker = await page.evaluate(() => (window.__noReload = Math.random()));
	const stop = stopFileFor('worker-refresh');
	const j = await submitJob('cats', 'bob', tickingJob('worker-refresh', stop, 1));
	try {
		const running = await jobInState(j.id, 'running');
		assert.equal(running.worker_id, live.id);
		await prow(page, 'worker-jobs', j.id).waitFor({ timeout: 30_000 });
		assert.deepEqual((await cellTexts(prow(page, 'worker-jobs', j.id))).slice(0, 5), [`#${j.id} worker-refresh`, 'running', 'cats', `1 · GPU ${running.gpus.join(', ')}`, 'training']);
		assert.equal((await cellTexts(prow(page, 'gpus-title', running.gpus[0])))[5], `#${j.id} worker-refresh (cats)`);
	} finally {
		fs.writeFileSync(stop, '');
	}
	await jobInState(j.id, 'succeeded');
	await prow(page, 'worker-jobs', j.id).waitFor({ state: 'detached', timeout: 30_000 });
	assert.equal(await page.evaluate(() => window.__noReload), marker, 'the same page, not reloaded');
});

test('workers: the jobs running on a worker and which job holds each GPU', async (page) => {
	const stop = stopFileFor('gpus');
	const j = await submitJob('cats', 'bob', tickingJob('two-gpus', stop, 2));
	try {
		const running = await jobInState(j.id, 'running');
		assert.equal(running.gpus.length, 2);
		await asAdmin(page, 'workers', 'Workers');
		const w = running.worker_id;
		// beside the deployment's replicas, which hold no GPU
		const jobsCell = (await cellTexts(row(page, w)))[4];
		assert.ok(jobsCell.includes(`#${j.id} two-gpus`), jobsCell);
		assert.match(jobsCell, / 2 of 4 GPUs allocated$/);
		await view(page, `workers/${w}`, 'Worker gpu-a');
		for (let i = 0; i < 4; i++) {
			const held = running.gpus.includes(i);
			assert.equal((await cellTexts(prow(page, 'gpus-title', i)))[5], held ? `#${j.id} two-gpus (cats)` : 'no job', `GPU ${i}`);
		}
		assert.deepEqual((await cellTexts(prow(page, 'worker-jobs', j.id))).slice(0, 4), [`#${j.id} two-gpus`, 'running', 'cats', `2 · GPU ${running.gpus.join(', ')}`]);
		// the overview counts its GPUs as in use
		const stats = await apiOk('GET', '/admin/stats');
		assert.equal(stats.totals.gpus.in_use, 2);
		await view(page, 'overview', 'Overview');
		assert.equal(await cardFigure(page, 'gpus_in_use'), '2');
		assert.equal(await text(page.locator('[data-stat="gpus_in_use"] .detail')), `of 4 online · 50 % allocated to jobs`);
		assert.equal(await cardFigure(page, 'jobs'), String(stats.totals.jobs.running));
		await view(page, `workers/${w}`, 'Worker gpu-a');
		await shot(page, 'worker-jobs');
	} finally {
		fs.writeFileSync(stop, '');
	}
	await jobInState(j.id, 'succeeded');
});

test('narrow screen (400 px): jobs, runs and comparison pages do not scroll sideways', async (page) => {
	await page.setViewportSize({ width: 400, height: 860 });
	await signInToken(page, adminToken);
	await signedIn(page);
	const pages = [
		['overview', 'Overview', 'overview-narrow'],
		['jobs', 'Jobs', 'jobs-narrow'],
		[`jobs/${seed.jobs.train.id}`, `Job #${seed.jobs.train.id}`, 'job-narrow'],
		['projects/cats/jobs', 'Jobs', null],
		['projects/cats/runs', 'Runs', 'runs-narrow'],
		[`projects/cats/runs/${seed.runs.baseline}`, 'Run baseline', 'run-narrow'],
		[`projects/cats/compare?runs=${seed.runs.baseline},${seed.runs['sweep-3']}`, 'Compare runs', 'compare-narrow'],
	];
	for (const [hash, heading, name] of pages) {
		await view(page, hash, heading);
		if (hash.includes('runs/') || hash.includes('compare')) await page.locator('main figure.metric .uplot canvas').first().waitFor();
		assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 401), `no sideways scrolling: ${hash}`);
		if (name) await shot(page, name);
	}
});

// ---------- deployments ----------

const dep = () => apiOk('GET', `/deployments/${seed.deployment.name}`);
const depPanel = (page, id) => panelOf(page, id);
// The rows of a panel's table, by their data-key.
const rowKeys = (loc) => loc.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.key));

test('deployments list: the seeded deployment with its state, traffic and replicas; filters, the project tab, a member', async (page, ctx) => {
	const D = seed.deployment;
	await asAdmin(page, 'deployments', 'Deployments');
	const d = await dep();
	assert.equal(d.state, 'ready');
	assert.deepEqual(await rowKeys(page.locator('main .table-wrap')), [D.name]);
	// deployment, state, project, model, traffic, follows, replicas ready, latest rollout
	assert.deepEqual((await cellTexts(row(page, D.name))).slice(0, 8), [
		D.name, 'ready', D.project, D.model, `v${D.stable} ${100 - D.weight} % v${D.canary} ${D.weight} % (canary)`, 'pinned', '2 / 2', 'canary in_progress',
	]);
	await shot(page, 'deployments');
	// the list keeps itself current: a scale made elsewhere shows without Refresh
	const shown = (x) => `${x.traffic.reduce((n, tr) => n + tr.ready_replicas, 0)} / ${x.traffic.reduce((n, tr) => n + tr.replicas, 0)}`;
	await apiOk('PATCH', `/deployments/${D.name}`, seed.tokens.bob, { replicas: d.replicas + 1 });
	await eventually(async () => {
		const now = shown(await dep());
		assert.notEqual(now, '2 / 2');
		assert.equal((await cellTexts(row(page, D.name)))[6], now);
	}, 'the row follows the scale', 20000);
	assert.match(await itext(page.locator('main .refresh-status')), /Updated \d\d:\d\d:\d\d UTC; refreshes every 5 s/);
	await apiOk('PATCH', `/deployments/${D.name}`, seed.tokens.bob, { replicas: d.replicas });
	await eventually(async () => {
		const x = await dep();
		assert.equal(x.state, 'ready');
		assert.equal(shown(x), '2 / 2');
	}, 'back to its replicas', 30000);
	// the state filter goes in the address and narrows the list as the API does
	await page.locator('main select[name=state]').selectOption('failed');
	await page.waitForURL(/state=failed/);
	await page.locator('main .empty', { hasText: 'No deployment matches these filters.' }).waitFor();
	assert.equal((await apiOk('GET', '/deployments?state=failed')).items.length, 0);
	await page.locator('main button', { hasText: 'Clear filters' }).click();
	await row(page, D.name).waitFor();
	// from the keyboard to its page
	await row(page, D.name).locator('a').first().focus();
	await page.keyboard.press('Enter');
	await page.locator('main .view:not([aria-busy]) h1', { hasText: `Deployment ${D.name}` }).waitFor();
	// the project's tab lists it; a project with none says how to make one
	await view(page, `projects/${D.project}/deployments`, 'Deployments');
	assert.equal(await page.locator('main nav.tabs a[aria-current=page]').textContent(), 'Deployments');
	assert.deepEqual(await rowKeys(page.locator('main .table-wrap')), [D.name]);
	await view(page, 'projects/secret-lab/deployments', 'Deployments');
	assert.match(await itext(page.locator('main .empty')), /No deployments in secret-lab yet\..*curl -X POST .*\/api\/v1\/projects\/secret-lab\/deployments/);
	// a viewer of cats sees it too
	const member = await ctx.newPage();
	try {
		await asUser(member, 'victor', 'deployments', 'Deployments');
		assert.deepEqual(await rowKeys(member.locator('main .table-wrap')), (await apiOk('GET', '/deployments', seed.tokens.victor)).items.map((x) => x.name));
		await row(member, D.name).waitFor();
	} finally {
		await member.close();
	}
});

test('deployment page: replicas, the traffic split, request figures and charts, the history, captured predictions', async (page) => {
	const D = seed.deployment;
	await asAdmin(page, `deployments/${D.name}`, `Deployment ${D.name}`);
	const d = await dep();
	assert.match(await itext(depPanel(page, 'dep-status')), new RegExp(`State ready ${d.message}`));
	assert.match(await itext(depPanel(page, 'dep-status')), /Replicas ready 2 \/ 2/);
	// the traffic split: a row and a bar per version
	assert.deepEqual(d.traffic.map((t) => [t.version, t.weight]), [[D.stable, 100 - D.weight], [D.canary, D.weight]]);
	for (const t of d.traffic) {
		assert.deepEqual(await cellTexts(prow(page, 'dep-traffic', t.version)), [`v${t.version}`, t.stable ? 'stable' : 'canary', `${t.weight} %`, `${t.ready_replicas} / ${t.replicas}`]);
	}
	assert.deepEqual(await depPanel(page, 'dep-traffic').locator('svg.bars .bar-value').allTextContents(), [`${100 - D.weight} %`, `${D.weight} %`]);
	// replicas: one row per instance, as the API has it
	assert.equal(d.instances.length, 2);
	for (const r of d.instances) {
		const cells = await cellTexts(prow(page, 'dep-replicas', r.job_id));
		assert.deepEqual(cells, [`#${r.replica}`, `v${r.version}`, 'ready', `#${r.job_id}`, 'gpu-a', String(r.port), String(r.restarts), String(r.in_flight), String(r.requests)]);
	}
	// the gateway's figures: every seeded call, and each version's
	const st = await apiOk('GET', `/deployments/${D.name}/stats`);
	assert.equal(st.requests, D.calls);
	assert.equal(await cardFigure(page, 'requests'), String(st.requests));
	assert.equal(await cardFigure(page, 'errors'), '0');
	assert.equal(st.versions.length, 2);
	for (const v of st.versions) {
		assert.ok(v.requests > 0, `version ${v.version} answered`);
		assert.deepEqual((await cellTexts(prow(page, 'dep-stats', v.version))).slice(0, 4), [`v${v.version}`, String(v.requests), '0', '0.0 %']);
	}
	// two charts over time; their figures: the buckets with calls add up as in the API
	const stats = depPanel(page, 'dep-stats');
	await stats.locator('figure[data-chart="rate"] .uplot canvas').first().waitFor();
	await stats.locator('figure[data-chart="latency"] .uplot canvas').first().waitFor();
	assert.deepEqual(await stats.locator('figure[data-chart="rate"] .u-legend .u-series .u-label').allTextContents(), ['Requests/s', 'Errors/s']);
	assert.deepEqual(await stats.locator('figure[data-chart="latency"] .u-legend .u-series .u-label').allTextContents(), ['p50', 'p90', 'p99']);
	await stats.locator('details.figures summary').click();
	const shownCalls = await stats.locator('details.figures tbody tr').evaluateAll((trs) => trs.reduce((n, tr) => n + Number(tr.cells[1].innerText), 0));
	assert.equal(shownCalls, st.series.items.reduce((n, b) => n + b.requests, 0));
	// the history, newest first, as the API has it
	const hist = (await apiOk('GET', `/deployments/${D.name}/history?limit=20`)).items;
	assert.deepEqual(await rowKeys(depPanel(page, 'dep-history')), hist.map((e) => String(e.id)));
	const canary = hist.find((e) => e.kind === 'canary_started');
	assert.match(await itext(prow(page, 'dep-history', canary.id)), new RegExp(`canary started v${D.stable} → v${D.canary} bob`));
	assert.match(await itext(prow(page, 'dep-history', hist[hist.length - 1].id)), /created v1 bob/);
	// captured predictions (every call is kept), newest first
	const preds = (await apiOk('GET', `/deployments/${D.name}/predictions?limit=10`)).items;
	assert.equal(preds.length, 10);
	assert.deepEqual(await rowKeys(depPanel(page, 'dep-predictions')), preds.map((p) => String(p.id)));
	assert.match(await itext(prow(page, 'dep-predictions', preds[0].id)), new RegExp(`v${preds[0].version} 200`));
	await shot(page, 'deployment');
});

test('deployment page refreshes itself: new calls show without a reload, an open dialog and the scroll stay', async (page) => {
	const D = seed.deployment;
	await asAdmin(page, `deployments/${D.name}`, `Deployment ${D.name}`);
	await page.evaluate(() => {
		window.__samePage = true;
	});
	const before = Number(await cardFigure(page, 'requests'));
	// scrolled down to the keys, with a confirmation open
	const revoke = depPanel(page, 'dep-keys').locator('button', { hasText: 'Revoke' }).first();
	await revoke.scrollIntoViewIfNeeded();
	const y = await page.evaluate(() => window.scrollY);
	assert.ok(y > 0);
	await revoke.click();
	await page.locator('dialog[open]').waitFor();
	for (let i = 0; i < 5; i++) await apiOk('POST', `/deployments/${D.name}/predict`, seed.tokens.bob, { x: [i, i] });
	await eventually(async () => assert.equal(Number(await cardFigure(page, 'requests')), before + 5), 'the figures refresh', 20_000);
	assert.equal(await page.locator('dialog[open]').count(), 1, 'the dialog is still open');
	assert.equal(await page.evaluate(() => window.scrollY), y, 'the page did not scroll');
	await confirm(page, 'Cancel');
	assert.equal(await page.evaluate(() => window.__samePage), true, 'the page was not reloaded');
	assert.equal((await apiOk('GET', `/deployments/${D.name}/keys`, seed.tokens.bob)).items.find((k) => k.name === D.key).revoked_at, null);
});

test('promote the canary from the UI, then start another and roll it back (checked through the API)', async (page) => {
	const D = seed.deployment;
	await asUser(page, 'bob', `deployments/${D.name}`, `Deployment ${D.name}`);
	const controls = depPanel(page, 'dep-traffic');
	await controls.locator('button', { hasText: `Promote v${D.canary}` }).click();
	await confirm(page, 'Promote');
	await eventually(async () => {
		const d = await dep();
		assert.equal(d.rollout.state, 'promoted');
		assert.equal(d.version, D.canary);
		assert.deepEqual(d.traffic.map((t) => [t.version, t.weight, t.stable]), [[D.canary, 100, true]]);
	}, 'promoted');
	// the page follows without a reload
	await prow(page, 'dep-traffic', D.canary).locator('td', { hasText: 'stable' }).waitFor();
	await eventually(async () => assert.equal(await prow(page, 'dep-traffic', D.stable).count(), 0), 'v1 left the split');
	// a new canary: the previous version gets 30 %
	await controls.locator('summary', { hasText: 'Start a canary' }).click();
	const f = controls.locator('form[aria-label="Start a canary"]');
	await f.locator('select[name=version]').selectOption(String(D.stable));
	await f.locator('input[name=weight]').fill('30');
	await f.locator('button[type=submit]').click();
	await eventually(async () => {
		const d = await dep();
		assert.equal(d.rollout.kind, 'canary');
		assert.equal(d.rollout.state, 'in_progress');
		assert.deepEqual(d.traffic.map((t) => [t.version, t.weight]), [[D.canary, 70], [D.stable, 30]]);
	}, 'canary started');
	// once the page shows the canary, its Roll back ends it
	await controls.locator('.canary-controls', { hasText: `v${D.stable} gets 30 %` }).waitFor();
	await controls.locator('button', { hasText: 'Roll back' }).click();
	assert.match(await itext(page.locator('dialog[open]')), new RegExp(`Roll back the canary of ${D.name}\\?`));
	await confirm(page, 'Roll back');
	await eventually(async () => {
		const d = await dep();
		assert.equal(d.rollout.state, 'rolled_back');
		assert.deepEqual(d.traffic.map((t) => [t.version, t.weight]), [[D.canary, 100]]);
	}, 'rolled back');
	// the history says so
	await prow(page, 'dep-history', (await apiOk('GET', `/deployments/${D.name}/history?limit=1`)).items[0].id).waitFor();
	const kinds = (await apiOk('GET', `/deployments/${D.name}/history?limit=50`)).items.map((e) => e.kind);
	assert.ok(kinds.includes('promoted') && kinds.includes('rolled_back'), kinds.join(' '));
	await shot(page, 'deployment-rolled-back');
});

test('invoke keys: one made in the UI is shown once and calls the gateway; revoked in the UI, it stops working', async (page) => {
	const D = seed.deployment;
	await asUser(page, 'bob', `deployments/${D.name}`, `Deployment ${D.name}`);
	const keys = depPanel(page, 'dep-keys');
	const seeded = (await apiOk('GET', `/deployments/${D.name}/keys`, seed.tokens.bob)).items.find((k) => k.name === D.key);
	assert.match(await itext(prow(page, 'dep-keys', seeded.id)), new RegExp(`${D.key} ${seeded.prefix}… bob .* active`));
	await keys.locator('summary', { hasText: 'New invoke key' }).click();
	await keys.locator('form input[name=name]').fill('ui-key');
	await keys.locator('form button[type=submit]').click();
	const secret = await keys.locator('.secret-once input.secret').inputValue();
	assert.match(secret, /^atr_/);
	const call = () => api('POST', `/deployments/${D.name}/predict`, secret, { x: [1, 2] });
	const answer = await call();
	assert.equal(answer.status, 200);
	assert.ok(answer.json.model_version);
	const made = (await apiOk('GET', `/deployments/${D.name}/keys`, seed.tokens.bob)).items.find((k) => k.name === 'ui-key');
	await prow(page, 'dep-keys', made.id).locator('button', { hasText: 'Revoke' }).click();
	await confirm(page, 'Revoke');
	await prow(page, 'dep-keys', made.id).locator('.badge', { hasText: 'revoked' }).waitFor();
	await eventually(async () => assert.equal((await call()).status, 401), 'the key is refused');
});

test('scale from the UI; a viewer sees the figures but no controls; delete a deployment after a confirmation', async (page, ctx) => {
	const D = seed.deployment;
	await asUser(page, 'bob', `deployments/${D.name}`, `Deployment ${D.name}`);
	const scale = page.locator('main form[aria-label="Scale cat-scorer"]');
	await scale.locator('input[name=replicas]').fill('2');
	await scale.locator('button[type=submit]').click();
	await eventually(async () => assert.equal((await dep()).replicas, 2), 'scaled to 2');
	await eventually(async () => assert.match(await itext(depPanel(page, 'dep-status')), /Scale 2 replicas/), 'the page shows it');
	// a viewer: the same page without write controls
	const viewer = await ctx.newPage();
	try {
		await asUser(viewer, 'victor', `deployments/${D.name}`, `Deployment ${D.name}`);
		await viewer.locator('main [data-stat="requests"]').waitFor();
		assert.equal(await viewer.locator('main button', { hasText: /Delete|Roll back|Promote/ }).count(), 0);
		assert.equal(await viewer.locator('main form').count(), 0);
		assert.equal(await viewer.locator('main section[aria-labelledby="dep-keys"]').count(), 0);
	} finally {
		await viewer.close();
	}
	await apiOk('PATCH', `/deployments/${D.name}`, seed.tokens.bob, { replicas: 1 });
	// a deployment made for the occasion: cancelling keeps it, confirming deletes it
	await apiOk('POST', `/projects/${D.project}/deployments`, seed.tokens.bob, { name: 'tmp-scorer', model: D.model, version: D.canary, command: D.command });
	await view(page, 'deployments/tmp-scorer', 'Deployment tmp-scorer');
	await page.locator('main .page-header button', { hasText: 'Delete' }).click();
	await confirm(page, 'Cancel');
	assert.equal((await api('GET', '/deployments/tmp-scorer')).status, 200);
	await page.locator('main .page-header button', { hasText: 'Delete' }).click();
	assert.match(await itext(page.locator('dialog[open]')), /Delete deployment tmp-scorer\?.*cannot be undone/);
	await confirm(page, 'Delete');
	await page.locator('main .view:not([aria-busy]) nav.tabs a[aria-current=page]', { hasText: 'Deployments' }).waitFor();
	assert.equal((await api('GET', '/deployments/tmp-scorer')).status, 404);
	assert.deepEqual(await rowKeys(page.locator('main .table-wrap')), [D.name]);
});

test('lineage: a model version\'s deployment node leads to the deployment; at 400 px deployment pages do not scroll sideways', async (page) => {
	const D = seed.deployment;
	await eventually(async () => {
		const d = await dep();
		assert.deepEqual([d.state, d.ready_replicas, d.replicas], ['ready', 1, 1]);
	}, 'cat-scorer settled', 60_000);
	await asAdmin(page, `projects/${D.project}/models/${D.model}/versions/${D.canary}`, `${D.model} v${D.canary}`);
	const node = page.locator(`svg.lineage a[data-node="deployment"]`);
	assert.equal(await node.count(), 1);
	assert.match(await node.getAttribute('aria-label'), new RegExp(`^${D.name} \\(ready · 100 % stable\\)$`));
	await node.focus();
	await page.keyboard.press('Enter');
	await page.locator('main .view:not([aria-busy]) h1', { hasText: `Deployment ${D.name}` }).waitFor();
	await page.setViewportSize({ width: 400, height: 860 });
	for (const [hash, heading, name] of [
		['deployments', 'Deployments', 'deployments-narrow'],
		[`deployments/${D.name}`, `Deployment ${D.name}`, 'deployment-narrow'],
		[`projects/${D.project}/deployments`, 'Deployments', null],
	]) {
		await view(page, hash, heading);
		assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 401), `no sideways scrolling: ${hash}`);
		if (name) await shot(page, name);
	}
});

// ---------- launchers (issue 20) ----------
test('launcher: the launcher role fills the form generated from the parameters; a bad value is named, a good run opens its job', async (page) => {
	const l = seed.launcher;
	await asUser(page, 'lena', `projects/${l.project}/launchers`, 'Launchers');
	await row(page, l.name).waitFor();
	assert.match(await itext(row(page, l.name)), /lr: float/);
	await row(page, l.name).locator('a').first().click();
	const f = page.locator(`form[aria-label="Run ${l.name}"]`);
	await f.waitFor();
	// one input per type: number (with bounds), select, checkbox, text
	assert.equal(await f.locator('input[name="values.lr"]').getAttribute('max'), '1');
	assert.equal(await f.locator('input[name="values.epochs"]').inputValue(), '5');
	assert.equal(await f.locator('select[name="values.optimizer"]').inputValue(), 'sgd');
	assert.equal(await f.locator('input[name="values.augment"]').isChecked(), false);
	assert.equal(await f.locator('input[name="values.data"]').inputValue(), 'latest');
	// a value out of bounds: the browser would refuse it first, so skip its check to see the API's 400
	await f.evaluate((el) => el.setAttribute('novalidate', ''));
	await f.locator('input[name="values.lr"]').fill('2');
	await f.locator('button[type=submit]').click();
	await f.locator('input[name="values.lr"][aria-invalid="true"]').waitFor();
	assert.match(await itext(f.locator('.form-error')), /at most 1/);
	await f.locator('input[name="values.lr"]').fill('0.5');
	await f.locator('input[name="values.epochs"]').fill('7');
	await f.locator('select[name="values.optimizer"]').selectOption('adam');
	await f.locator('input[name="values.augment"]').check();
	await f.locator('input[name="values.note"]').fill(`it's $(echo x)`);
	await f.locator('button[type=submit]').click();
	await page.waitForURL(/#\/jobs\/\d+/);
	const id = Number(page.url().match(/#\/jobs\/(\d+)/)[1]);
	const done = await apiOk('GET', `/jobs/${id}/wait?timeout_s=60`, seed.tokens.lena);
	assert.equal(done.state, 'succeeded');
	const job = await apiOk('GET', `/jobs/${id}`, seed.tokens.lena);
	assert.equal(job.launcher.name, l.name);
	assert.deepEqual(job.launcher.values, { lr: 0.5, epochs: 7, optimizer: 'adam', augment: true, data: 'photos:2', note: "it's $(echo x)" });
	const res = await fetch(`${base}/api/v1/jobs/${id}/logs`, { headers: { Authorization: `Bearer ${seed.tokens.lena}` } });
	assert.match(await res.text(), /lr=0\.5 epochs=7 optimizer=adam augment=true data=photos:2 note=it's \$\(echo x\)/);
	// a viewer reads the launcher but gets no form
	const p2 = await page.context().newPage();
	await asUser(p2, 'victor', `projects/${l.project}/launchers/${l.name}`, l.name);
	await p2.locator('#run-title').waitFor();
	assert.equal(await p2.locator(`form[aria-label="Run ${l.name}"]`).count(), 0);
	await p2.close();
	await shot(page, 'launcher-job');
});

test('catalogue: a template\'s README rendered safely, found by search; a project made from it has its launcher, none of its data', async (page) => {
	await asUser(page, 'victor', 'catalogue', 'Catalogue');
	const entry = page.locator('main article[data-key="cats"]');
	await entry.waitFor();
	assert.equal(await entry.locator('.readme h1, .readme h2, .readme h3').first().innerText(), 'Cat detector');
	assert.equal(await entry.locator('.readme strong').first().innerText(), 'train');
	assert.equal(await page.locator('main img').count(), 0);
	assert.equal(await page.evaluate(() => window.__xss), undefined);
	assert.match(await itext(entry), /Launchers: train-cats/);
	await page.locator('main input[name=q]').fill('zebra');
	await page.locator('main form[role=search] button[type=submit]').click();
	await page.locator('main', { hasText: 'No template matches' }).waitFor();
	await page.locator('main input[name=q]').fill('DETECTOR');
	await page.locator('main form[role=search] button[type=submit]').click();
	await page.locator('main article[data-key="cats"]').waitFor();
	const f = page.locator('form[aria-label="Create a project from cats"]');
	await f.locator('input[name=name]').fill('victors-cats');
	await f.locator('button[type=submit]').click();
	await page.waitForURL(/#\/projects\/victors-cats\/launchers/);
	await row(page, seed.launcher.name).waitFor();
	const made = await apiOk('GET', '/projects/victors-cats', seed.tokens.victor);
	assert.equal(made.from_template, 'cats');
	assert.equal((await apiOk('GET', '/projects/victors-cats/datasets', seed.tokens.victor)).items.length, 0);
	await shot(page, 'catalogue-copy');
});

// ---------- run ----------
// ---------- competitions ----------
async function rawPut(p, token, body, method = 'PUT') {
	const res = await fetch(base + '/api/v1' + p, { method, headers: { Authorization: `Bearer ${token}` }, body });
	const t = await res.text();
	assert.ok(res.status >= 200 && res.status < 300, `${method} ${p}: ${res.status} ${t}`);
	return JSON.parse(t);
}

test('competition page: Markdown rendered safely, live public board, own submissions; private board for organisers', async (page) => {
	const P = '/projects/hackweb/datasets';
	await apiOk('POST', '/projects', adminToken, { name: 'hackweb' });
	for (const ds of ['train', 'truth']) {
		await apiOk('POST', P, adminToken, { name: ds });
		await apiOk('POST', `${P}/${ds}/versions`, adminToken, {});
	}
	const ids = Array.from({ length: 20 }, (_, i) => i + 1);
	await rawPut(`${P}/train/versions/1/files/test.csv`, adminToken, 'id\n' + ids.join('\n') + '\n');
	await rawPut(`${P}/truth/versions/1/files/truth.csv`, adminToken, 'id,label\n' + ids.map((i) => `${i},${i % 2}`).join('\n') + '\n');
	for (const ds of ['train', 'truth']) await apiOk('POST', `${P}/${ds}/versions/1/commit`, adminToken, {});
	await apiOk('POST', '/projects/hackweb/competitions', adminToken, {
		name: 'web-hack', title: 'Web hack', description: '# Goal\nPredict **parity**. <img src=x onerror="window.pwned=1">\n- one\n- two\n[evil](javascript:alert(1))',
		starts_at: '2020-01-01T00:00:00Z', ends_at: '2099-01-01T00:00:00Z', training: { dataset: 'train', version: 1 },
		test: { dataset: 'truth', version: 1, path: 'truth.csv' }, metric: 'accuracy', public_fraction: 0.5, precision: 3,
	});
	const player = (await apiOk('POST', '/users', adminToken, { username: 'player1' })).token;
	await apiOk('POST', '/competitions/web-hack/join', player, { name: 'parity-pros' });
	const sub = await rawPut('/competitions/web-hack/submissions', player, 'id,prediction\n' + ids.map((i) => `${i},${i % 2}`).join('\n') + '\n', 'POST');
	assert.equal(sub.state, 'scored');
	// a refused file (a missing id: 422) counts in the organisers' submissions over time
	const bad = await fetch(base + '/api/v1/competitions/web-hack/submissions', { method: 'POST', headers: { Authorization: `Bearer ${player}` }, body: 'id,prediction\n1,1\n' });
	assert.equal(bad.status, 422);
	await bad.text();

	// the organiser (the admin): the page, the boards, every submission
	await asAdmin(page, 'competitions/web-hack', 'Web hack');
	const md = page.locator('main section[aria-labelledby="comp-description"] .markdown');
	assert.equal(await text(md.locator('strong')), 'parity');
	assert.equal(await md.locator('img').count(), 0, 'markup in the description stays text');
	assert.ok((await text(md)).includes('<img src=x'));
	assert.equal(await md.locator('a').count(), 0, 'a javascript: link stays text');
	assert.equal(await md.locator('li').count(), 2);
	assert.equal(await page.evaluate(() => window.pwned), undefined);
	assert.ok((await text(page.locator('main dl.facts'))).includes('accuracy (3 decimals)'));
	await prow(page, 'comp-public', 'parity-pros').waitFor();
	assert.equal(await text(prow(page, 'comp-public', 'parity-pros').locator('td').nth(2)), '1');
	await prow(page, 'comp-private', 'parity-pros').waitFor();
	await prow(page, 'comp-submissions', String(sub.id)).waitFor();
	// the submissions over time: today's (UTC) row, 2 arrived, 1 scored, 1 refused, 1 team
	const today = new Date().toISOString().slice(0, 10);
	await prow(page, 'comp-timeline', today).waitFor();
	const cells = await cellTexts(prow(page, 'comp-timeline', today));
	assert.deepEqual([cells[0], cells[1], cells[3], cells[4], cells[5], cells[6]], [today, '2', '1', '1', '1', '1']);
	assert.equal(await prow(page, 'comp-timeline', today).locator('meter').count(), 1);
	await shot(page, 'competition-organiser');
	// the list
	await view(page, 'competitions', 'Competitions');
	await row(page, 'web-hack').waitFor();

	// the participant: the public board and the team's own submissions, no private board
	await page.evaluate(() => sessionStorage.clear());
	await signInToken(page, player);
	await signedIn(page);
	await view(page, 'competitions/web-hack', 'Web hack');
	await prow(page, 'comp-public', 'parity-pros').waitFor();
	await prow(page, 'comp-submissions', String(sub.id)).waitFor();
	assert.equal(await panelOf(page, 'comp-private').count(), 0);
	assert.equal(await panelOf(page, 'comp-timeline').count(), 0, 'the submissions over time are the organisers\'');
	await shot(page, 'competition-participant');
});

// ---- deployment monitoring (issue 16; seeded by seed.mjs seedMonitoring) ----

test('deployment monitoring: drift heatmap, data quality, reference and live histograms, live quality by task; an editor corrects a type, a viewer only reads', async (page, ctx) => {
	const D = seed.deployment;
	const M = seed.monitoring;
	const dp = `/deployments/${D.name}`;
	const num = (v, d = 3) => (v === null || v === undefined ? '—' : Number(v).toFixed(d));
	// a drift monitor on a (shifted: alerting), checked every second
	const mon = await apiOk('POST', `${dp}/monitors`, seed.tokens.bob, {
		name: 'a-drift', watch: 'drift', features: ['a'], statistic: 'psi', warning: 0.1, alerting: 0.25, interval_s: 1, min_samples: 1, window_s: 3600,
	});
	let changes = [];
	await eventually(async () => {
		changes = (await apiOk('GET', `${dp}/monitors/${mon.id}/history`)).items;
		assert.ok(changes.some((e) => e.to === 'alerting'), JSON.stringify(changes));
	}, 'the monitor alerting');
	// the API's figures and the page's must fall in the same UTC hour (the windows are hours):
	// within 90 s of the next hour, wait for it to begin
	const toNextHour = 3600000 - (Date.now() % 3600000);
	if (toNextHour < 90000) await new Promise((res) => setTimeout(res, toNextHour + 2000));
	const drift = await apiOk('GET', `${dp}/drift?window=1h`);
	// reached from the deployment page
	await asAdmin(page, `deployments/${D.name}`, `Deployment ${D.name}`);
	await page.locator('main a', { hasText: 'Monitoring: drift' }).click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: `Monitoring ${D.name}` }).waitFor();
	const ref = await itext(panelOf(page, 'mon-reference'));
	assert.match(ref, new RegExp(`Reference ${M.dataset} v1`));
	assert.match(ref, /Rows profiled 200/);
	assert.match(ref, /Task regression/);
	// the heatmap: a cell per feature (a, b, the prediction y) and window with data, PSI as the API's
	const heat = panelOf(page, 'mon-heatmap').locator('svg.heatmap');
	await heat.waitFor();
	assert.equal(await heat.locator('.heat-row').count(), 3);
	assert.equal(await heat.locator('rect').count(), 3 * drift.windows.length);
	const aRow = drift.windows.map((w) => w.features.find((f) => f.name === 'a').psi);
	assert.deepEqual(
		// (a window without a figure is an empty cell: data-value '')
		(await heat.locator('.heat-row[data-row="a"] rect').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-value')))).map((v) => (v === '' ? null : Number(v))),
		aRow,
	);
	// the range's figures: drift and data quality (a shifted by +30 for half the seeded calls:
	// out of range; earlier tests' calls through the gateway count too)
	const ta = drift.total.features.find((f) => f.name === 'a');
	const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`);
	assert.ok(drift.total.requests >= M.calls);
	assert.ok(ta.out_of_range_rate >= 0.25, `a's out-of-range rate ${ta.out_of_range_rate}`);
	assert.deepEqual((await cellTexts(prow(page, 'mon-totals', 'a'))).slice(0, 7), [
		'a', String(ta.count), num(ta.psi), num(ta.js_distance), `KS ${num(ta.ks)}`, pct(ta.null_rate), pct(ta.out_of_range_rate),
	]);
	assert.match(await itext(panelOf(page, 'mon-totals')), new RegExp(`Requests ${drift.total.requests} `));
	// reference and live histograms of a: two bars a bin, live shares from the API's counts
	const hist = panelOf(page, 'mon-histogram');
	await hist.locator('select[name=feature]').selectOption('a');
	const prof = (await apiOk('GET', `${dp}/monitoring`)).profile.features.find((f) => f.name === 'a');
	assert.equal(await hist.locator('svg.histogram .hist-bin').count(), prof.counts.length);
	const live = (await hist.locator('rect[data-series=live]').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-share')))));
	const n = ta.counts.reduce((x, y) => x + y, 0);
	assert.deepEqual(live.map((v) => v.toFixed(6)), ta.counts.map((c) => (c / n).toFixed(6)));
	assert.match(await itext(hist), new RegExp(`reference \\(200 values\\).*live \\(${n} values in the range\\)`));
	// live quality by the declared task: regression figures, over time
	const q = drift.quality;
	assert.equal(q.task, 'regression');
	assert.equal(q.total.labelled, M.calls);
	const qp = panelOf(page, 'mon-quality');
	assert.equal(await text(qp.locator('[data-quality=rmse]')), num(q.total.rmse));
	assert.equal(await text(qp.locator('[data-quality=r2]')), num(q.total.r2));
	assert.match(await itext(qp), /Task regression \(declared in the monitoring settings\)/);
	await qp.locator('[data-chart=quality] canvas').first().waitFor();
	// the monitor with its state, and its history of changes
	const m = await apiOk('GET', `${dp}/monitors/${mon.id}`);
	const mp = panelOf(page, 'mon-monitors');
	assert.deepEqual((await cellTexts(mp.locator(`tr[data-key="${mon.id}"]`))).slice(0, 4), ['a-drift', 'drift: psi of a', 'warning ≥ 0.1, alerting ≥ 0.25', 'alerting']);
	assert.equal(m.state, 'alerting');
	const first = changes[changes.length - 1];
	assert.deepEqual((await cellTexts(mp.locator(`.monitor-history[data-monitor="${mon.id}"] tr[data-key="${first.alert_id}"]`))).slice(1, 3), [
		`${(first.from || 'not checked').replace('_', ' ')} → ${first.to}`, num(first.value),
	]);
	await shot(page, 'deployment-monitoring');
	// correcting: the API's 400 shows in the form and marks the field; then b becomes categorical
	const fix = page.locator('main form[aria-label="Correct the features"]');
	await fix.locator('input[name=positive_class]').fill('yes');
	await fix.locator('button[type=submit]').click();
	await fix.locator('.form-error', { hasText: 'binary_classification' }).waitFor();
	assert.equal(await fix.locator('input[name=positive_class]').getAttribute('aria-invalid'), 'true');
	await fix.locator('input[name=positive_class]').fill('');
	await fix.locator('select[name="type:b"]').selectOption('categorical');
	await fix.locator('button[type=submit]').click();
	await eventually(async () => {
		const m = await apiOk('GET', `${dp}/monitoring`);
		assert.equal(m.profile.features.find((f) => f.name === 'b').type, 'categorical');
		assert.equal(m.settings.task, 'regression');
	}, 'the corrected profile');
	await page.locator('main select[name="type:b"]').filter({ has: page.locator('option[value=categorical]:checked') }).waitFor();
	// a viewer reads the same page without the form
	const viewer = await ctx.newPage();
	try {
		await asUser(viewer, 'victor', `deployments/${D.name}/monitoring`, `Monitoring ${D.name}`);
		await panelOf(viewer, 'mon-quality').waitFor();
		assert.equal(await viewer.locator('main form[aria-label="Correct the features"]').count(), 0);
	} finally {
		await viewer.close();
	}
});

// An editor changes a monitor's levels from the monitoring page (PATCH .../monitors/ID): the
// API's 400 shows in the form and marks the field; the saved levels show in the table; a
// viewer gets no form.
test('deployment monitoring: an editor changes a monitor\'s levels and pauses it; a bad level shows the API\'s 400', async (page, ctx) => {
	const D = seed.deployment;
	const dp = `/deployments/${D.name}`;
	const mon = await apiOk('POST', `${dp}/monitors`, seed.tokens.bob, { name: 'errors', watch: 'error_rate', warning: 0.2, alerting: 0.5 });
	// the monitor's row in the monitors table (the history tables below have rows keyed by alert id)
	const monRow = (p) => panelOf(p, 'mon-monitors').locator('table').first().locator(`tr[data-key="${mon.id}"]`);
	try {
		await asUser(page, 'bob', `deployments/${D.name}/monitoring`, `Monitoring ${D.name}`);
		const f = page.locator('main form[aria-label="Levels of errors"]');
		await f.waitFor();
		assert.equal(await f.locator('input[name=warning]').inputValue(), '0.2');
		assert.equal(await f.locator('input[name=alerting]').inputValue(), '0.5');
		// a warning past the alerting level: the API's 400 names warning
		await f.locator('input[name=warning]').fill('0.9');
		await f.locator('button[type=submit]').click();
		await f.locator('.form-error', { hasText: 'the warning level must come before the alerting level' }).waitFor();
		assert.equal(await f.locator('input[name=warning]').getAttribute('aria-invalid'), 'true');
		assert.equal((await apiOk('GET', `${dp}/monitors/${mon.id}`)).spec.warning, 0.2);
		// new levels, paused
		await f.locator('input[name=warning]').fill('0.1');
		await f.locator('input[name=alerting]').fill('0.3');
		await f.locator('select[name=enabled]').selectOption('false');
		await f.locator('button[type=submit]').click();
		await eventually(async () => {
			const m = await apiOk('GET', `${dp}/monitors/${mon.id}`);
			assert.deepEqual([m.spec.warning, m.spec.alerting, m.spec.enabled], [0.1, 0.3, false]);
		}, 'the changed levels');
		const r = monRow(page);
		await r.locator('td', { hasText: 'warning ≥ 0.1, alerting ≥ 0.3' }).waitFor();
		assert.match(await itext(r), /paused/);
		// no warning level at all
		const g = page.locator('main form[aria-label="Levels of errors"]');
		await g.locator('input[name=warning]').fill('');
		await g.locator('button[type=submit]').click();
		await eventually(async () => assert.equal((await apiOk('GET', `${dp}/monitors/${mon.id}`)).spec.warning, null), 'no warning level');
		await r.locator('td', { hasText: /^alerting ≥ 0.3$/ }).waitFor();
		// a viewer reads the levels without the form
		const viewer = await ctx.newPage();
		try {
			await asUser(viewer, 'victor', `deployments/${D.name}/monitoring`, `Monitoring ${D.name}`);
			await monRow(viewer).waitFor();
			assert.equal(await viewer.locator('main form[aria-label="Levels of errors"]').count(), 0);
		} finally {
			await viewer.close();
		}
	} finally {
		await apiOk('DELETE', `${dp}/monitors/${mon.id}`, seed.tokens.bob);
	}
});

// ---------- sweeps (issue 20) ----------
// A sweep of a launcher in its own project: a grid of 2 learning rates x 2 depths, four trials
// at once on gpu-a (each sleeps; the test logs their curves through their runs, as training
// code would). The page shows the best trial, the curves on one chart, the parallel
// coordinates of the params against the loss, the trials; Cancel stops the running trials.
test('sweeps: the tab lists a sweep; its page shows the best trial, the curves, parallel coordinates, and cancels', async (page) => {
	await apiOk('POST', '/projects', adminToken, { name: 'hpo', team: 'vision' });
	await apiOk('POST', '/projects/hpo/launchers', adminToken, {
		name: 'train',
		spec: { command: 'sleep 120', resources: { gpus: 0 } },
		parameters: [
			{ name: 'lr', type: 'float', min: 0.0001, max: 1, default: 0.01 },
			{ name: 'depth', type: 'integer', min: 1, max: 8, default: 2 },
		],
	});
	const sw = await apiOk('POST', '/projects/hpo/sweeps', adminToken, {
		name: 'lr-depth', launcher: 'train', method: 'grid', max_trials: 4, parallelism: 4, metric: 'loss', direction: 'minimize',
		search_space: { lr: { type: 'log_uniform', min: 0.001, max: 0.1, count: 2 }, depth: { type: 'choice', values: [2, 4] } },
	});
	const trials = await eventually(async () => {
		const s = await apiOk('GET', `/projects/hpo/sweeps/${sw.id}`, adminToken);
		assert.equal(s.trials.length, 4);
		return s.trials;
	}, 'four trials');
	// trial #2 (lr 0.1, depth 2) learns best: its loss ends lowest
	for (const t of trials)
		await apiOk('POST', `/runs/${t.run_id}/metrics`, adminToken, {
			metrics: [1, 2, 3, 4, 5].map((step) => ({ key: 'loss', step, value: (t.index === 2 ? 0.1 : 0.5 + t.index / 10) + 1 / step })),
		});
	await asAdmin(page, 'projects/hpo', 'hpo');
	await page.locator('main nav.tabs a', { hasText: 'Sweeps' }).click();
	await row(page, `sweep-${sw.id}`).waitFor();
	assert.deepEqual((await cellTexts(row(page, `sweep-${sw.id}`))).slice(0, 6), ['lr-depth', 'running', 'train v1', 'grid', '4 of 4', '4']);
	await row(page, `sweep-${sw.id}`).locator('a', { hasText: 'lr-depth' }).click();
	await page.locator('main .view:not([aria-busy]) h1', { hasText: `Sweep ${sw.id}` }).waitFor();
	assert.equal(await text(page.locator('main .best-trial')), '#2');
	// the curves: one chart, a series per trial
	await page.locator('section[aria-labelledby="sweep-curves"] figure.metric[data-key="loss"]').waitFor();
	assert.match(await text(page.locator('section[aria-labelledby="sweep-curves"] figcaption')), /loss \(4 trials\)/);
	// parallel coordinates: an axis per parameter and the metric, a line per trial
	const pc = page.locator('section[aria-labelledby="sweep-parcoords"] svg');
	await pc.waitFor();
	const lines = await pc.locator('[data-key^="trial-"]').evaluateAll((els) => [...new Set(els.map((e) => e.dataset.key))].sort());
	assert.deepEqual(lines, ['trial-0', 'trial-1', 'trial-2', 'trial-3']);
	assert.equal(await page.locator('section[aria-labelledby="sweep-trials"] tbody tr').count(), 4);
	assert.equal(await page.locator('section[aria-labelledby="sweep-trials"] tr.best').getAttribute('data-key'), 'trial-2');
	await shot(page, 'sweep');
	await page.locator('main button[data-action="cancel"]').click();
	await page.locator('section[aria-labelledby="sweep-about"] .badge', { hasText: 'cancelled' }).waitFor();
	await eventually(async () => {
		const s = await apiOk('GET', `/projects/hpo/sweeps/${sw.id}`, adminToken);
		assert.ok(s.trials.every((t) => t.state === 'cancelled'), JSON.stringify(s.trials.map((t) => t.state)));
	}, 'every trial cancelled', 60_000);

});

// ---------- issue 18: a failed deployment links to the crashed replica's log ----------
// A deployment whose only replica exits at once: its first rollout fails. The page shows the
// crashed replica on top (its job, exit code, error, the log's last lines) with a link that
// opens the job's page at its log.
test('a failed deployment shows the crashed replica on top: job, exit code, error, its log\'s last lines and a link to the log', async (page) => {
	const D = seed.deployment;
	const bob = seed.tokens.bob;
	const command = ['sh', '-c', 'echo "loading weights"; echo "fatal: weights file is corrupt" >&2; exit 3'];
	await apiOk('POST', `/projects/${D.project}/deployments`, bob, { name: 'crashy', model: D.model, version: D.canary, command });
	try {
		const failed = await eventually(async () => {
			const d = await apiOk('GET', '/deployments/crashy');
			assert.equal(d.state, 'failed');
			return d;
		}, 'the deployment fails', 60000);
		// it crashed in a loop before it was ever ready: the rollout's failure names the job
		const ev = (await apiOk('GET', '/deployments/crashy/history')).items.find((e) => /\(job \d+\)/.test(e.message) && /failed/.test(e.kind));
		assert.ok(ev, `an event naming the job (${failed.message})`);
		const jobId = Number(/\(job (\d+)\)/.exec(ev.message)[1]);
		const job = await eventually(async () => {
			const j = await apiOk('GET', `/jobs/${jobId}`);
			assert.ok(!['queued', 'dispatched', 'running'].includes(j.state), j.state);
			return j;
		}, 'the replica job ends');
		await asUser(page, 'victor', 'deployments/crashy', 'Deployment crashy');
		const box = page.locator('main section.replica-failure');
		await box.waitFor();
		assert.equal(await box.getAttribute('data-job'), String(jobId));
		assert.match(await itext(box.locator('h2')), /A replica crashed/);
		assert.ok((await itext(box)).includes(ev.message), ev.message);
		assert.match(await itext(box), /exited with status 3/);
		assert.match(await itext(box), new RegExp(`Job state\\s*${job.state}`));
		if (job.message) assert.ok((await itext(box)).includes(job.message), job.message);
		assert.match(await itext(box.locator('pre.log-tail')), /fatal: weights file is corrupt/);
		assert.equal(await box.locator(`a[href="#/jobs/${jobId}"]`).count(), 1);
		// it sits above the status panel
		const order = await page.evaluate(() => {
			const a = document.querySelector('main section.replica-failure');
			const b = document.querySelector('main [aria-labelledby="dep-status"]');
			return !!(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
		});
		assert.ok(order, 'the crashed replica comes before the status');
		await shot(page, 'deployment-replica-failed');
		await box.locator('a.replica-log').click();
		await page.waitForURL(new RegExp(`#/jobs/${jobId}\\?log$`));
		await page.locator('main .view:not([aria-busy]) h1', { hasText: `Job` }).waitFor();
		await page.locator('main [aria-labelledby="job-log"] pre', { hasText: 'loading weights' }).first().waitFor();
		// a deployment that serves shows no such panel
		await view(page, `deployments/${D.name}`, `Deployment ${D.name}`);
		assert.equal(await page.locator('main section.replica-failure').count(), 0);
	} finally {
		await api('DELETE', '/deployments/crashy', bob);
	}
	// the rule that picks the event: only when something is wrong, the newest replica_failed first
	const picked = await page.evaluate(async () => {
		const { replicaFailure } = await import('/views/deployment.js');
		const evs = [
			{ id: 9, kind: 'state_changed', message: 'x' },
			{ id: 8, kind: 'replica_failed', message: 'replica 1 of version 2 (job 41) ended: exit 1' },
			{ id: 7, kind: 'rollout_failed', message: 'rollout 3 to version 2 failed: version 2: replica 0 (job 40) crashed 3 times before it was ever ready' },
			{ id: 6, kind: 'replica_failed', message: 'replica 0 of version 2 (job 39) ended: exit 1' },
		];
		return [
			replicaFailure({ state: 'degraded' }, evs)?.jobId,
			replicaFailure({ state: 'ready' }, evs),
			replicaFailure({ state: 'ready', rollout: { state: 'failed' } }, evs.slice(2))?.jobId,
			replicaFailure({ state: 'failed' }, []),
		];
	});
	assert.deepEqual(picked, [41, null, 40, null]);
});

// ---------- Slurm clusters beside the workers (issue 19) ----------
test('clusters: a Slurm cluster beside the workers: partitions, Atrium\'s jobs there, the cap, and the link\'s error when slurmrestd does not answer', async (page, ctx) => {
	// nothing listens on port 1: the link check fails, as with a slurmrestd that is down
	const key = path.join(os.tmpdir(), `atrium-web-slurm-key-${process.pid}`);
	fs.writeFileSync(key, 'k'.repeat(32), { mode: 0o600 });
	const body = { name: 'hpc-web', kind: 'slurm', url: 'http://127.0.0.1:1/slurm/v0.0.38', auth: 'jwt_key', secret_path: key, user: 'mlops', partitions: ['gpu', 'debug'], account: 'coe', shared_dir: os.tmpdir(), max_jobs: 12, staging: { keep_s: 172800 } };
	const c = await apiOk('POST', '/clusters', adminToken, body);
	try {
		// linked from the workers page
		await asAdmin(page, 'workers', 'Workers');
		await page.locator('main a', { hasText: 'Slurm clusters' }).click();
		await page.locator('main .view:not([aria-busy]) h1', { hasText: 'Clusters' }).waitFor();
		const r = row(page, c.id);
		let cells = await cellTexts(r);
		assert.match(cells[0].replace(/\s+/g, ' '), new RegExp(`^hpc-web ${body.url.replace(/\./g, '\\.')} worker row cluster:hpc-web (online|offline)$`));
		assert.equal(cells[1], 'slurm');
		assert.match(cells[3], /^gpu: no jobs debug: not used by Atrium$/);
		assert.equal(cells[4], '0 / 12');
		assert.equal(cells[5], 'mlops (account coe)');
		// the staged inputs, as the API counts them (a new cluster: none; kept 2 days as registered)
		const st = (await apiOk('GET', '/clusters/hpc-web')).staging;
		assert.equal(st.keep_s, 172800);
		assert.equal(cells[6].replace(/\s+/g, ' '), `${st.blobs.count} held (${st.blobs.bytes} B) ${st.blobs_copied} copied · ${st.blobs_reused} reused · ${st.blobs_collected} collected kept 2 d unused`);
		// the page refreshes itself; the link shows the API's error, and no contact ever
		const seen = await eventually(async () => {
			const x = await apiOk('GET', '/clusters/hpc-web');
			assert.equal(x.slurmrestd.state, 'error');
			return x;
		}, 'the link check fails');
		assert.equal(seen.slurmrestd.last_contact_at, null);
		await r.locator('.link-error', { hasText: 'does not answer' }).waitFor();
		cells = await cellTexts(r);
		assert.match(cells[2], /^unreachable slurmrestd does not answer \(.+\) last contact — · checked /);
		await shot(page, 'clusters');
		// any signed-in user reads it (a new tab: a new session); the secret's path is nowhere on the page
		const other = await ctx.newPage();
		try {
			await asUser(other, 'victor', 'clusters', 'Clusters');
			await row(other, c.id).waitFor();
			assert.ok(!(await itext(other.locator('main'))).includes(key));
			assert.equal(await other.locator('main a[href="#/workers"]').count(), 0);
		} finally {
			await other.close();
		}
	} finally {
		await api('DELETE', '/clusters/hpc-web');
		fs.rmSync(key, { force: true });
	}
});

// ---- competitions: what a participant does on the page (issue 15) ----
// A competition of project `project` (made by the admin, its organiser) over a truth.csv,
// running from 2020 to 2099; extra adds or overrides fields of the create body.
async function compFixture(project, name, title, truth, extra = {}) {
	const P = `/projects/${project}/datasets`;
	await apiOk('POST', '/projects', adminToken, { name: project });
	for (const ds of ['train', 'truth']) {
		await apiOk('POST', P, adminToken, { name: ds });
		await apiOk('POST', `${P}/${ds}/versions`, adminToken, {});
	}
	await rawPut(`${P}/train/versions/1/files/train.csv`, adminToken, 'id,x\n1,0.1\n');
	await rawPut(`${P}/truth/versions/1/files/truth.csv`, adminToken, truth);
	for (const ds of ['train', 'truth']) await apiOk('POST', `${P}/${ds}/versions/1/commit`, adminToken, {});
	await apiOk('POST', `/projects/${project}/competitions`, adminToken, {
		name, title, description: 'Predict the **parity** of each id.', rules: '1. One team per person.\n2. No hand labelling.',
		starts_at: '2020-01-01T00:00:00Z', ends_at: '2099-01-01T00:00:00Z', training: { dataset: 'train', version: 1 },
		test: { dataset: 'truth', version: 1, path: 'truth.csv' }, metric: 'accuracy', public_fraction: 0.5, precision: 3, ...extra,
	});
}

// Chooses a file for the submit form (its bytes given here) and sends it.
async function submitFile(form, name, body) {
	await form.locator('input[name=body]').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(body) });
	await form.locator('button[type=submit]').click();
}

test('competition actions: join an ad-hoc team (a bad name named), submit a good file (its score), a bad one (the 422 line), past the daily limit (429); select a final, leave; no private board', async (page) => {
	const ids = Array.from({ length: 20 }, (_, i) => i + 1);
	await compFixture('hackact', 'act-hack', 'Act hack', 'id,label\n' + ids.map((i) => `${i},${i % 2}`).join('\n') + '\n', { max_team_size: 2, daily_limit: 2 });
	const player = (await apiOk('POST', '/users', adminToken, { username: 'act-player' })).token;
	const C = '/competitions/act-hack';
	await signInToken(page, player);
	await signedIn(page);
	await view(page, 'competitions/act-hack', 'Act hack');
	// the description and the rules, rendered
	assert.equal(await text(panelOf(page, 'comp-description').locator('strong')), 'parity');
	assert.equal(await panelOf(page, 'comp-rules').locator('li').count(), 2);
	const team = panelOf(page, 'comp-team');
	assert.match(await itext(team), /A team has at most 2 members/);
	assert.match(await itext(panelOf(page, 'comp-submit')), /Join a team \(above\) to submit/);
	assert.equal(await page.locator('form[aria-label="Join as an Atrium team"]').count(), 0, 'act-player is in no Atrium team');

	// a name the API refuses: its 400 message in the form, the field marked
	const adhoc = page.locator('form[aria-label="Join an ad-hoc team"]');
	await adhoc.locator('input[name=name]').fill('no spaces allowed');
	await adhoc.locator('button[type=submit]').click();
	const refused = await api('POST', `${C}/join`, player, { name: 'no spaces allowed' });
	assert.equal(refused.status, 400);
	assert.equal(refused.json.error.field, 'name');
	await adhoc.locator('.form-error [role=alert]', { hasText: refused.json.error.message }).waitFor();
	assert.equal(await adhoc.locator('input[name=name]').getAttribute('aria-invalid'), 'true');
	// join: the team shows, without a reload
	await adhoc.locator('input[name=name]').fill('act-pros');
	await adhoc.locator('button[type=submit]').click();
	await team.locator('.comp-team-name', { hasText: 'act-pros' }).waitFor();
	assert.match(await itext(team), /act-player \(1 of at most 2\)/);
	assert.match(await itext(page.locator('main dl.facts').first()), /Teams 1 Team size at most 2 members/);
	assert.deepEqual((await apiOk('GET', `${C}/teams`, player)).items.map((t) => [t.name, t.members]), [['act-pros', ['act-player']]]);

	// a good file: its public score
	const sub = page.locator('form[aria-label="Submit a predictions file"]');
	assert.match(await itext(panelOf(page, 'comp-submit')), /at most 64 MiB/);
	assert.match(await itext(panelOf(page, 'comp-submit')), /2 submissions per team per UTC day/);
	await submitFile(sub, 'good.csv', 'id,prediction\n' + ids.map((i) => `${i},${i % 2}`).join('\n') + '\n');
	const result = panelOf(page, 'comp-submit').locator('.comp-result');
	await result.waitFor();
	let mine = (await apiOk('GET', `${C}/submissions`, player)).items;
	assert.equal(mine.length, 1);
	assert.equal(mine[0].state, 'scored');
	assert.equal(await text(result), `Submission ${mine[0].id} scored: public score ${mine[0].public_score}.`);
	await prow(page, 'comp-submissions', String(mine[0].id)).waitFor();
	await prow(page, 'comp-public', 'act-pros').waitFor();
	assert.equal(await text(prow(page, 'comp-public', 'act-pros').locator('td').nth(2)), String(mine[0].public_score));

	// a bad file: the 422 names its first bad line; listed as invalid
	await submitFile(sub, 'bad.csv', 'id,prediction\n1,1\n1,0\n');
	const bad = sub.locator('.form-error [role=alert]');
	await bad.waitFor();
	mine = (await apiOk('GET', `${C}/submissions`, player)).items;
	const invalid = mine.find((s) => s.state === 'invalid');
	assert.match(invalid.error, /^line 3: /);
	assert.equal(await text(bad), invalid.error);
	assert.equal(await result.count(), 0, 'the last result went');
	await prow(page, 'comp-submissions', String(invalid.id)).waitFor();
	assert.equal(await sub.locator('input[name=body]').getAttribute('aria-invalid'), 'true');

	// a second scored file (every prediction 1), then the daily limit: the 429 names the next time
	await submitFile(sub, 'ones.csv', 'id,prediction\n' + ids.map((i) => `${i},1`).join('\n') + '\n');
	await result.waitFor();
	await page.evaluate(() => document.querySelector('section[aria-labelledby="comp-team"]').scrollIntoView());
	await shot(page, 'competition');
	await submitFile(sub, 'ones.csv', 'id,prediction\n' + ids.map((i) => `${i},1`).join('\n') + '\n');
	const limit = sub.locator('.form-error [role=alert]', { hasText: 'the next is allowed at' });
	await limit.waitFor();
	assert.match(await text(limit), /your team has used its 2 submissions of this day \(UTC\); the next is allowed at \d{4}-\d\d-\d\dT00:00:00/);
	mine = (await apiOk('GET', `${C}/submissions`, player)).items;
	assert.equal(mine.length, 3, 'a refused request is not recorded');

	// finals: none selected, so the two best public ones count ("by default"); select the worse
	const scored = mine.filter((s) => s.state === 'scored');
	const [best, worse] = scored[0].public_score >= scored[1].public_score ? scored : [scored[1], scored[0]];
	const subsPanel = panelOf(page, 'comp-submissions');
	assert.match(await itext(subsPanel.locator('.comp-finals')), /No final submission selected: your team's two best public ones count/);
	for (const s of scored) assert.match(await itext(prow(page, 'comp-submissions', String(s.id))), /by default/);
	await prow(page, 'comp-submissions', String(worse.id)).locator('button', { hasText: 'Select as final' }).click();
	await subsPanel.locator('.comp-finals', { hasText: 'the 1 selected' }).waitFor();
	assert.match(await itext(prow(page, 'comp-submissions', String(worse.id))), /selected Unselect/);
	assert.doesNotMatch(await itext(prow(page, 'comp-submissions', String(best.id))), /by default|selected/);
	mine = (await apiOk('GET', `${C}/submissions`, player)).items;
	assert.deepEqual(mine.filter((s) => s.selected).map((s) => s.id), [worse.id]);
	assert.equal(await prow(page, 'comp-submissions', String(invalid.id)).locator('button').count(), 0, 'an invalid one cannot be selected');

	// a participant sees no private board before the end (the API refuses it too)
	assert.equal(await panelOf(page, 'comp-private').count(), 0);
	assert.equal((await api('GET', `${C}/leaderboard/private`, player)).status, 403);

	// leave: the join forms come back; the team stays, without its member
	await team.locator('button', { hasText: 'Leave the team' }).click();
	await confirm(page, 'Leave');
	await page.locator('form[aria-label="Join an ad-hoc team"]').waitFor();
	assert.match(await itext(panelOf(page, 'comp-submit')), /Join a team \(above\) to submit/);
	assert.deepEqual((await apiOk('GET', `${C}/teams`, player)).items.map((t) => [t.name, t.members]), [['act-pros', []]]);
});

test('competition actions: a model-version competition: join as an Atrium team, submit a model version (a missing version named), its state followed to scored', async (page) => {
	const ids = Array.from({ length: 20 }, (_, i) => i + 1);
	const truth = 'id,x,label\n' + ids.map((i) => `${i},${(i / 20).toFixed(2)},${i >= 10 ? 1 : 0}`).join('\n') + '\n';
	await compFixture('hackmod', 'act-models', 'Models hack', truth, { submission: 'model_version', daily_limit: 3 });
	const modeller = (await apiOk('POST', '/users', adminToken, { username: 'act-modeller' })).token;
	await apiOk('POST', '/teams', adminToken, { name: 'act-team' });
	await apiOk('PUT', '/teams/act-team/members/act-modeller', adminToken, { role: 'member' });
	// the participant's own model: 1 from x >= 0.5
	await apiOk('POST', '/projects', modeller, { name: 'act-modlab' });
	await apiOk('POST', '/projects/act-modlab/models', modeller, { name: 'clf' });
	const M = '/projects/act-modlab/models/clf/versions';
	const v = await apiOk('POST', M, modeller, {});
	await rawPut(`${M}/${v.version}/files/predict`, modeller, 'awk -F, \'NR==1{print "id,prediction"; next} {print $1","($2>=0.5?1:0)}\' "$1" > "$2"\n');
	await apiOk('POST', `${M}/${v.version}/commit`, modeller, {});
	const C = '/competitions/act-models';

	await signInToken(page, modeller);
	await signedIn(page);
	await view(page, 'competitions/act-models', 'Models hack');
	assert.match(await itext(page.locator('main dl.facts').first()), /a model version/);
	const join = page.locator('form[aria-label="Join as an Atrium team"]');
	assert.equal(await join.locator('select[name=team]').inputValue(), 'act-team');
	await join.locator('button[type=submit]').click();
	const team = panelOf(page, 'comp-team');
	await team.locator('.comp-team-name', { hasText: 'act-team' }).waitFor();
	assert.match(await itext(team), /Atrium team act-team/);
	assert.deepEqual((await apiOk('GET', `${C}/teams`, modeller)).items.map((t) => [t.name, t.atrium_team, t.members]), [['act-team', 'act-team', ['act-modeller']]]);

	const f = page.locator('form[aria-label="Submit a model version"]');
	await f.locator('select[name=model]').selectOption('act-modlab/clf');
	// a version that does not exist: the API's 404 in the form, naming the field
	await f.locator('input[name=version]').fill('7');
	await f.locator('button[type=submit]').click();
	const missing = await api('POST', `${C}/submissions`, modeller, { model: 'act-modlab/clf', version: 7 });
	assert.equal(missing.status, 404);
	assert.equal(missing.json.error.field, 'version');
	await f.locator('.form-error [role=alert]', { hasText: missing.json.error.message }).waitFor();
	assert.equal(await f.locator('input[name=version]').getAttribute('aria-invalid'), 'true');
	assert.equal((await apiOk('GET', `${C}/submissions`, modeller)).items.length, 0, 'a refused one is not recorded');

	// the latest version: 202, pending, then followed on the page up to scored
	await f.locator('input[name=version]').fill('latest');
	await f.locator('button[type=submit]').click();
	const result = panelOf(page, 'comp-submit').locator('.comp-result');
	await result.waitFor();
	const id = await result.getAttribute('data-id');
	assert.equal(await result.getAttribute('data-state'), 'pending');
	assert.match(await text(result), new RegExp(`^Submission ${id} accepted: pending\\. Atrium runs act-modlab/clf version ${v.version} as a batch job`));
	const r = prow(page, 'comp-submissions', id);
	await r.waitFor();
	const seen = new Set();
	await eventually(
		async () => {
			const st = await text(r.locator('td').nth(2));
			seen.add(st);
			assert.equal(st, 'scored');
		},
		'the model submission scored on the page',
		150_000,
	);
	for (const st of seen) assert.ok(['pending', 'running', 'scoring', 'scored'].includes(st), `state ${st}`);
	const s = (await apiOk('GET', `${C}/submissions`, modeller)).items[0];
	assert.equal(String(s.id), id);
	assert.equal(s.state, 'scored');
	assert.equal(await text(r.locator('td').nth(3)), `act-modlab/clf v${v.version}`);
	assert.equal(await text(r.locator('td').nth(4)), String(s.public_score));
	await prow(page, 'comp-public', 'act-team').waitFor();
	assert.equal(await panelOf(page, 'comp-private').count(), 0);
});

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
		if (filter && !filter.split('|').some((f) => t.name.includes(f))) continue;
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

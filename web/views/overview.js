// views/overview.js: the platform at a glance, from GET /api/v1/admin/stats: people, the
// registry (projects, datasets, models, promotions waiting), workers and GPUs, jobs (by
// state, the queue and its oldest job, GPUs held by jobs), GPU-hours by team this week and
// deployments by state, and each team's GPUs and jobs in use against its quota; GPU-hours per
// team over the weeks (or days) shown (views/gpu_hours.js). The cards and panels refresh
// themselves every few seconds while the tab is visible (the two charts stay as drawn). The figures and the charts are tables of widgets below: a later
// phase adds a card or a series here when the endpoint gains the field; until then the card
// says "not available yet". Anyone who is not an admin gets her own home instead
// (views/home.js, imported only then).
import * as api from '../api.js';
import { timeChart, barChart } from '../chart.js';
import { h, mount, pageHeader, table, fmtTime, emptyState, field, select, span, poll } from '../ui.js';
import { STATES, teamUsage, usageText, REFRESH_MS } from './jobs.js';
import { fmtHours, teamHoursPanel } from './gpu_hours.js';

export { fmtHours };

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const n = (v) => (typeof v === 'number' ? v.toLocaleString('en') : v);
// '1 admin', '3 admins'
const count = (v, word) => `${n(v)} ${word}${v === 1 ? '' : 's'}`;
const pct = (part, whole) => (whole ? Math.round((100 * part) / whole) : 0);

/*
 * One card per figure: value(totals) gives the number (undefined: the API has no such figure
 * yet), detail(totals) a line under it, href where to manage it.
 */
const CARDS = [
	{
		key: 'users',
		label: 'Users',
		value: (t) => t.users?.total,
		detail: (t) => `${count(t.users.admins, 'admin')} · ${n(t.users.disabled)} disabled`,
		href: '#/admin/users',
		link: 'Manage users',
	},
	{ key: 'teams', label: 'Teams', value: (t) => t.teams?.total, detail: () => 'with quotas', href: '#/admin/teams', link: 'Manage teams' },
	{
		key: 'tokens',
		label: 'API tokens',
		value: (t) => t.tokens?.active,
		detail: (t) => `active · ${count(t.tokens.sessions, 'dashboard session')}`,
		href: '#/admin/tokens',
		link: 'Your tokens',
	},
	{
		key: 'projects',
		label: 'Projects',
		value: (t) => t.projects?.total,
		detail: (t) => `${n(t.projects.archived ?? 0)} archived`,
		href: '#/projects',
		link: 'Browse projects',
	},
	{
		key: 'datasets',
		label: 'Datasets',
		value: (t) => t.datasets?.total,
		detail: (t) => count(t.datasets.versions ?? 0, 'version'),
	},
	{
		key: 'models',
		label: 'Models',
		value: (t) => t.models?.total,
		detail: (t) => count(t.models.versions ?? 0, 'version'),
	},
	{
		key: 'promotions',
		label: 'Promotions waiting',
		value: (t) => t.promotions?.pending,
		detail: () => 'for an owner\'s decision',
		href: '#/promotions',
		link: 'Review promotions',
	},
	{
		key: 'workers',
		label: 'Workers online',
		value: (t) => t.workers?.online,
		detail: (t) => `${n(t.workers.offline ?? 0)} offline · ${n(t.workers.schedulable ?? 0)} schedulable`,
		href: '#/workers',
		link: 'Manage workers',
	},
	{
		key: 'gpus',
		label: 'GPUs online',
		value: (t) => t.gpus?.total,
		detail: (t) => `${n(t.gpus.busy ?? 0)} busy outside Atrium`,
		href: '#/workers',
		link: 'See the inventory',
	},
	{
		key: 'jobs',
		label: 'Jobs running',
		value: (t) => t.jobs?.running,
		detail: (t) => `${n(t.jobs.dispatched ?? 0)} starting · ${n(t.jobs.total ?? 0)} in all`,
		href: '#/jobs?state=running',
		link: 'See running jobs',
	},
	{
		key: 'queue',
		label: 'Jobs waiting',
		value: (t) => t.queue?.length,
		detail: (t) =>
			t.queue.oldest
				? `oldest: job ${t.queue.oldest.id} (${t.queue.oldest.project}), waiting ${span(t.queue.oldest.queued_at)}`
				: 'the queue is empty',
		href: (t) => (t.queue.oldest ? `#/jobs/${t.queue.oldest.id}` : '#/jobs?state=queued'),
		link: (t) => (t.queue.oldest ? 'Why the oldest waits' : 'See the queue'),
	},
	{
		key: 'gpus_in_use',
		label: 'GPUs in use',
		value: (t) => t.gpus?.in_use,
		detail: (t) => `of ${n(t.gpus.total ?? 0)} online · ${pct(t.gpus.in_use, t.gpus.total)} % allocated to jobs`,
		href: '#/workers',
		link: 'Where they run',
	},
	{
		key: 'gpu_hours',
		label: 'GPU-hours this week',
		value: (t) => (t.gpu_hours ? fmtHours(t.gpu_hours.total) : undefined),
		detail: (t) => `since ${t.gpu_hours.since.slice(0, 10)} · ${count(t.gpu_hours.by_team.length, 'team')}`,
	},
	{
		key: 'deployments',
		label: 'Deployments ready',
		value: (t) => t.deployments?.ready,
		detail: (t) =>
			`${n(t.deployments.degraded ?? 0)} degraded · ${n(t.deployments.deploying ?? 0)} deploying · ${n(t.deployments.failed ?? 0)} failed`,
		href: (t) => (t.deployments.degraded ? '#/deployments?state=degraded' : '#/deployments'),
		link: (t) => (t.deployments.degraded ? 'See the degraded ones' : 'See deployments'),
	},
];

// The adoption chart's series; those the endpoint does not return yet are left out.
const SERIES = [
	{ key: 'active_users', label: 'Active users', color: '#2563eb', scale: 'left' },
	{ key: 'requests', label: 'Changes made', color: '#94a3b8', scale: 'right', axisLabel: 'changes, jobs, runs' },
	{ key: 'jobs', label: 'Jobs', color: '#16a34a', scale: 'right', axisLabel: '' },
	{ key: 'runs', label: 'Runs', color: '#d97706', scale: 'right', axisLabel: '' },
];

const PERIODS = [
	['4', 'Last 4 weeks'],
	['12', 'Last 12 weeks'],
	['26', 'Last 26 weeks'],
	['52', 'Last 52 weeks'],
];

// A card's href or link text: fixed, or made from the totals.
const at = (v, totals) => (typeof v === 'function' ? v(totals) : v);

function card(c, totals) {
	const v = c.value(totals);
	const available = v !== undefined && v !== null;
	return h(
		'section',
		{ class: `card${available ? '' : ' na'}`, dataset: { stat: c.key }, 'aria-labelledby': `card-${c.key}` },
		h('h2', { id: `card-${c.key}` }, c.label),
		h('p', { class: 'figure' }, available ? n(v) : '—'),
		h('p', { class: 'detail' }, available ? (c.detail ? c.detail(totals) : '') : 'not available yet'),
		available && c.href ? h('a', { href: at(c.href, totals), class: 'card-link' }, at(c.link, totals)) : null,
	);
}

function gettingStarted(totals) {
	const steps = [];
	if ((totals.teams?.total ?? 0) === 0)
		steps.push(h('li', null, h('a', { href: '#/admin/teams' }, 'Create a team'), ' and give it GPU quotas.'));
	if ((totals.users?.total ?? 0) <= 1)
		steps.push(h('li', null, h('a', { href: '#/admin/users' }, 'Add users'), ' for your data scientists; each gets a first API token.'));
	if ((totals.projects?.total ?? 1) === 0)
		steps.push(h('li', null, h('a', { href: '#/projects' }, 'Create a project'), ' for a team: its datasets, runs and models live there.'));
	if (totals.workers && totals.workers.online + totals.workers.offline === 0)
		steps.push(h('li', null, h('a', { href: '#/admin/join-tokens' }, 'Add a GPU host'), ': make a join token and run the worker command it shows on the host.'));
	if (!steps.length) return null;
	steps.push(h('li', null, h('a', { href: '#/admin/tokens' }, 'Make yourself an API token'), ' for scripts and CI.'));
	return h(
		'section',
		{ class: 'panel getting-started', 'aria-labelledby': 'gs-title' },
		h('h2', { id: 'gs-title' }, 'Getting started'),
		h('ol', null, steps),
	);
}

function controls(ctx, weeks, bucket) {
	const period = select('weeks', PERIODS, String(weeks));
	const per = select('bucket', [['week', 'Per week'], ['day', 'Per day']], bucket);
	const apply = () => ctx.setQuery({ weeks: period.value, bucket: per.value });
	period.addEventListener('change', apply);
	per.addEventListener('change', apply);
	return h('div', { class: 'controls' }, field('Period', period), field('Resolution', per));
}

// A chart's figures, as a table under it (closed until asked for).
const figuresTable = (opts) => h('details', { class: 'figures' }, h('summary', null, 'Figures as a table'), table(opts));

const STATE_BAR = { queued: 'warn', dispatched: 'info', running: 'info', succeeded: 'ok', failed: 'err', cancelled: 'muted', lost: 'warn' };

// Jobs by state: bars, each state's figure linking to those jobs.
function jobsPanel(t) {
	if (!t.jobs) return null;
	const rows = STATES.map((state) => ({ state, value: t.jobs[state] ?? 0 }));
	return h(
		'section',
		{ class: 'panel', 'aria-labelledby': 'jobs-state-title', dataset: { panel: 'jobs' } },
		h('h2', { id: 'jobs-state-title' }, `Jobs by state (${n(t.jobs.total)} in all)`),
		t.jobs.total
			? barChart({ label: 'Jobs by state', items: rows.map((r) => ({ label: r.state, value: r.value, kind: STATE_BAR[r.state] })), format: n })
			: emptyState('No jobs yet.', 'Jobs are submitted in a project, from its Jobs tab or the API.'),
		figuresTable({
			caption: 'Jobs by state',
			rowKey: (r) => r.state,
			columns: [
				{ label: 'State', cell: (r) => h('a', { href: `#/jobs?state=${r.state}` }, r.state) },
				{ label: 'Jobs', cell: (r) => n(r.value), class: 'num' },
			],
			rows,
		}),
	);
}

// GPU-hours of the week by team: bars and a table (the team a job's project had).
function gpuHoursPanel(t) {
	const gh = t.gpu_hours;
	if (!gh) return null;
	const teamName = (r) => r.team ?? '(no team)';
	return h(
		'section',
		{ class: 'panel', 'aria-labelledby': 'gpu-hours-title', dataset: { panel: 'gpu_hours' } },
		h('h2', { id: 'gpu-hours-title' }, `GPU-hours by team since ${gh.since.slice(0, 10)}`),
		gh.by_team.length
			? [
					barChart({ label: 'GPU-hours by team this week', items: gh.by_team.map((r) => ({ label: teamName(r), value: r.hours })), format: fmtHours }),
					table({
						caption: 'GPU-hours by team this week',
						rowKey: (r) => teamName(r),
						columns: [
							{ label: 'Team', cell: (r) => (r.team ? h('a', { href: `#/admin/teams/${api.seg(r.team)}` }, r.team) : h('span', { class: 'muted' }, '(no team)')) },
							{ label: 'GPU-hours', cell: (r) => h('span', { title: String(r.hours) }, fmtHours(r.hours)), class: 'num' },
							{ label: 'Jobs', cell: (r) => n(r.jobs), class: 'num' },
						],
						rows: gh.by_team,
					}),
				]
			: emptyState('No GPU time used this week yet.', 'Each job adds its GPUs times the hours it ran this week.'),
	);
}

// Each team's GPUs and jobs held now against its quota, with its GPU-hours this week.
function quotaPanel(teams, usage, t) {
	const hours = new Map((t.gpu_hours?.by_team || []).map((r) => [r.team, r.hours]));
	const used = (tm) => usage.get(tm.name) || { gpus: 0, jobs: 0 };
	return h(
		'section',
		{ class: 'panel', 'aria-labelledby': 'quota-title', dataset: { panel: 'quotas' } },
		h('h2', { id: 'quota-title' }, 'Teams: in use now against their quotas'),
		teams.length
			? table({
					caption: 'GPUs and jobs each team holds now, against its quota',
					rowKey: (tm) => tm.name,
					columns: [
						{ label: 'Team', cell: (tm) => h('a', { href: `#/admin/teams/${api.seg(tm.name)}` }, tm.name) },
						{ label: 'GPUs in use', cell: (tm) => usageText(used(tm).gpus, tm.max_gpus), class: 'num gpus-in-use' },
						{ label: 'Jobs running', cell: (tm) => usageText(used(tm).jobs, tm.max_concurrent_jobs), class: 'num jobs-in-use' },
						{ label: 'GPU-hours this week', cell: (tm) => fmtHours(hours.get(tm.name) ?? 0), class: 'num' },
					],
					rows: teams,
				})
			: emptyState('No teams yet.', 'Teams carry the GPU and job quotas the scheduler enforces.'),
	);
}

function adoption(ctx, stats, weeks) {
	const present = SERIES.filter((s) => stats.series.some((b) => b[s.key] !== undefined));
	const x = stats.series.map((b) => Date.parse(b.bucket_start) / 1000);
	const chartBox = h('div', { class: 'chart', role: 'img', 'aria-label': `Active users, changes, jobs and runs per ${stats.bucket}` });
	const missing = SERIES.filter((s) => !present.includes(s)).map((s) => s.label.toLowerCase());
	const rows = [...stats.series].reverse();
	const section = h(
		'section',
		{ class: 'panel', 'aria-labelledby': 'adoption-title' },
		h(
			'div',
			{ class: 'panel-head' },
			h('h2', { id: 'adoption-title' }, `Adoption per ${stats.bucket}`),
			controls(ctx, weeks, stats.bucket),
		),
		chartBox,
		missing.length
			? h('p', { class: 'muted note' }, `${cap(missing.join(' and '))} per ${stats.bucket} will show here once the platform records them (not available yet).`)
			: null,
		figuresTable({
			caption: 'Adoption figures',
			columns: [
				{ label: `${stats.bucket === 'day' ? 'Day' : 'Week'} starting`, cell: (b) => fmtTime(b.bucket_start).slice(0, 10) },
				...present.map((s) => ({ label: s.label, cell: (b) => n(b[s.key]), class: 'num' })),
			],
			rows,
		}),
	);
	const draw = () =>
		timeChart(chartBox, {
			x,
			series: present.map((s) => ({ ...s, values: stats.series.map((b) => b[s.key]) })),
		});
	return { section, draw };
}

export async function render(root, ctx) {
	// anyone else: her own home (views/home.js, loaded only for her)
	if (!ctx.isAdmin) return (await import('./home.js')).renderHome(root, ctx);
	const weeks = Math.min(52, Math.max(1, Number(ctx.query.get('weeks')) || 12));
	const bucket = ctx.query.get('bucket') === 'day' ? 'day' : 'week';
	const since = new Date(Date.now() - weeks * 7 * 86400e3).toISOString();
	const load = () => Promise.all([api.get('/admin/stats', { since, bucket }), api.listAll('/teams', {}, 1000), teamUsage()]);
	const [stats, teams, usage] = await load();
	if (!ctx.alive()) return null;

	const live = h('div', { class: 'overview-live' });
	const stamp = h('p', { class: 'muted note refresh-status', 'aria-live': 'off' }, `Refreshes every ${REFRESH_MS / 1000} s.`);
	const drawLive = (st, tms, use) => {
		const t = st.totals || {};
		const last = st.series[st.series.length - 1] || {};
		const activeCard = {
			key: 'active',
			label: `Active ${bucket === 'day' ? 'today' : 'this week'}`,
			value: () => last.active_users,
			detail: () => `users · ${count(last.requests ?? 0, 'change')}${last.jobs !== undefined ? ` · ${count(last.jobs, 'job')}` : ''}`,
		};
		mount(
			live,
			gettingStarted(t),
			h('div', { class: 'cards' }, [CARDS[0], CARDS[1], CARDS[2], activeCard, ...CARDS.slice(3)].map((c) => card(c, t))),
			h('div', { class: 'split' }, jobsPanel(t), gpuHoursPanel(t)),
			quotaPanel(tms, use, t),
		);
	};
	drawLive(stats, teams, usage);
	const { section, draw } = adoption(ctx, stats, weeks);
	const gpuSeries = teamHoursPanel(stats);
	mount(root, pageHeader('Overview', `The platform at a glance. Figures since ${fmtTime(stats.since).slice(0, 10)}.`), live, stamp, section, gpuSeries.section);
	const undraw = draw();
	const undrawGpu = gpuSeries.draw();
	const stop = poll(async () => {
		if (!ctx.alive()) return false;
		const [st, tms, use] = await load();
		if (!ctx.alive()) return false;
		drawLive(st, tms, use);
		stamp.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC; refreshes every ${REFRESH_MS / 1000} s.`;
		return true;
	}, REFRESH_MS);
	return () => {
		stop();
		if (typeof undraw === 'function') undraw();
		if (typeof undrawGpu === 'function') undrawGpu();
	};
}

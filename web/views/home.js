// views/home.js: a data scientist's home (the overview of a user who is not an admin): her
// jobs running and waiting (with why they wait), the newest runs of the projects she works in,
// her teams with what they hold against their quotas, and links to the rest. Loaded by
// views/overview.js for non-admins only (the admins' first load does not carry it). Refreshes
// itself every few seconds while the tab is visible.
import * as api from '../api.js';
import { href, stateBadge } from './registry.js';
import { jobLink, jobState, gpusText, queueCell, queuePlaces, teamUsage, usageText, REFRESH_MS } from './jobs.js';
import { h, mount, pageHeader, table, time, emptyState, panel, poll } from '../ui.js';

// Projects whose newest runs are read, and how many runs are shown.
const PROJECTS = 8;
const RUNS = 10;

// The newest runs of the projects she works in (a role of her own there; else any she may
// read), the PROJECTS newest of them, one call each, at once.
async function recentRuns() {
	const all = (await api.listAll('/projects', {}, 500)).filter((p) => !p.archived_at);
	const mine = all.filter((p) => p.role && p.role !== 'viewer');
	const projects = (mine.length ? mine : all).slice(-PROJECTS);
	const pages = await Promise.all(projects.map((p) => api.get(`/projects/${api.seg(p.name)}/runs`, { limit: RUNS }).catch(() => ({ items: [] }))));
	return pages
		.flatMap((pg, i) => pg.items.map((r) => ({ ...r, project: r.project || projects[i].name })))
		.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id)
		.slice(0, RUNS);
}

async function load(me) {
	const teams = me.teams || [];
	const [jobs, places, runs, usage, quotas] = await Promise.all([
		api.listAll('/jobs', { user: me.username, state: 'queued,dispatched,running' }, 200),
		queuePlaces(),
		recentRuns(),
		teamUsage(),
		Promise.all(teams.map((t) => api.get(`/teams/${api.seg(t.team)}`).catch(() => null))),
	]);
	return { jobs, places, runs, usage, teams: teams.map((t, i) => ({ ...t, quota: quotas[i] })) };
}

const jobsPanel = (d) =>
	panel(
		'home-jobs',
		`Your jobs running and waiting (${d.jobs.length})`,
		d.jobs.length
			? table({
					caption: 'Your active jobs',
					rowKey: (j) => String(j.id),
					rows: d.jobs,
					columns: [
						{ label: 'Job', cell: (j) => h('strong', null, jobLink(j)) },
						{ label: 'State', cell: jobState },
						{ label: 'Project', cell: (j) => h('a', { href: href.jobs(j.project) }, j.project) },
						{ label: 'GPUs', cell: gpusText, class: 'num' },
						{ label: 'Queue', cell: (j) => queueCell(j, d.places), class: 'queue' },
						{ label: 'Submitted', cell: (j) => time(j.created_at) },
					],
				})
			: emptyState('Nothing of yours runs or waits now.', h('span', null, 'Submit a job from a project\'s ', h('strong', null, 'Jobs'), ' tab.')),
		h('p', null, h('a', { href: `#/jobs?user=${api.seg(d.me)}` }, 'All your jobs')),
	);

const runsPanel = (d) =>
	panel(
		'home-runs',
		'Newest runs in your projects',
		d.runs.length
			? table({
					caption: 'Newest runs in your projects',
					rowKey: (r) => String(r.id),
					rows: d.runs,
					columns: [
						{ label: 'Run', cell: (r) => h('a', { href: href.run(r.project, r.id) }, `${r.name || 'run'} (#${r.id})`) },
						{ label: 'Status', cell: (r) => stateBadge(r.status) },
						{ label: 'Project', cell: (r) => h('a', { href: href.runs(r.project) }, r.project) },
						{ label: 'By', cell: (r) => r.created_by || '' },
						{ label: 'Created', cell: (r) => time(r.created_at) },
					],
				})
			: emptyState('No runs yet in your projects.'),
	);

const teamsPanel = (d) =>
	panel(
		'home-teams',
		'Your teams',
		d.teams.length
			? table({
					caption: 'Your teams: what each holds now against its quota',
					rowKey: (t) => t.team,
					rows: d.teams,
					columns: [
						{ label: 'Team', cell: (t) => [h('a', { href: `#/admin/teams/${api.seg(t.team)}` }, t.team), ` (${t.role})`] },
						{ label: 'GPUs in use', cell: (t) => usageText((d.usage.get(t.team) || { gpus: 0 }).gpus, t.quota?.max_gpus), class: 'num gpus-in-use' },
						{ label: 'Jobs running', cell: (t) => usageText((d.usage.get(t.team) || { jobs: 0 }).jobs, t.quota?.max_concurrent_jobs), class: 'num jobs-in-use' },
					],
				})
			: emptyState('You are in no team yet.', 'Ask a CoE admin to add you to your team.'),
	);

const links = () =>
	panel(
		'home-links',
		'Your work',
		h(
			'ul',
			null,
			h('li', null, h('a', { href: '#/projects' }, 'Your projects'), ': their datasets, runs and models.'),
			h('li', null, h('a', { href: '#/deployments' }, 'Deployments'), ' of your projects: replicas, traffic, requests.'),
			h('li', null, h('a', { href: '#/promotions' }, 'Promotions'), ' waiting for your decision.'),
			h('li', null, h('a', { href: '#/admin/tokens' }, 'Your API tokens'), ' for scripts and CI.'),
		),
	);

export async function renderHome(root, ctx) {
	const me = ctx.me;
	const first = await load(me);
	if (!ctx.alive()) return null;
	const live = h('div', { class: 'home-live' });
	const draw = (d) => mount(live, jobsPanel({ ...d, me: me.username }), teamsPanel(d), runsPanel(d));
	draw(first);
	mount(root, pageHeader('Overview', `Welcome, ${me.display_name || me.username}. Your work at a glance; platform figures are for admins.`), live, links());
	return poll(async () => {
		if (!ctx.alive()) return false;
		const d = await load(me);
		if (!ctx.alive()) return false;
		draw(d);
		return true;
	}, REFRESH_MS);
}

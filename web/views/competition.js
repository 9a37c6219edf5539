// views/competition.js: one competition: its description and rules (Markdown, rendered
// safely: web/markdown.js), the live public leaderboard (refreshed every 10 s), the caller's
// team's submissions, and for its organisers (and everyone once it has ended) the private
// leaderboard; for its organisers also the submissions over time (per UTC day: how many
// arrived, how many were scored or refused, how many teams submitted, the best public score
// so far).
import * as api from '../api.js';
import { h, mount, pageHeader, panel, table, time, facts, poll, errorBox, badge } from '../ui.js';
import { markdown } from '../markdown.js';
import { state } from './competitions.js';

const boardColumns = [
	{ label: 'Rank', cell: (r) => String(r.rank), class: 'num' },
	{ label: 'Team', cell: (r) => h('strong', null, r.team) },
	{ label: 'Score', cell: (r) => (r.score === null ? '—' : String(r.score)), class: 'num' },
	{ label: 'Entries', cell: (r) => String(r.entries), class: 'num' },
	{ label: 'Submitted', cell: (r) => time(r.submitted_at, true) },
];

const subColumns = [
	{ label: 'Id', cell: (s) => String(s.id), class: 'num' },
	{ label: 'By', cell: (s) => s.submitted_by || '' },
	{ label: 'State', cell: (s) => badge(s.state, s.state === 'scored' ? 'ok' : s.state === 'invalid' ? 'error' : '') },
	{ label: 'Public score', cell: (s) => (s.public_score === null ? '—' : String(s.public_score)), class: 'num' },
	{ label: 'Private score', cell: (s) => (s.private_score === null ? '—' : String(s.private_score)), class: 'num' },
	{ label: 'Final', cell: (s) => (s.selected ? 'selected' : '') },
	{ label: 'Submitted', cell: (s) => time(s.submitted_at, true) },
	{ label: 'Error', cell: (s) => s.error || '' },
];

function board(id, title, slot) {
	return panel(id, title, slot);
}

async function fillBoard(slot, path, caption) {
	try {
		const b = await api.get(path);
		mount(slot, b.items.length ? table({ caption, columns: boardColumns, rows: b.items, rowKey: (r) => r.team }) : h('p', { class: 'muted' }, 'No scored submission yet.'));
	} catch (err) {
		mount(slot, errorBox(err));
	}
}

async function mySubmissions(path, all) {
	try {
		const page = await api.get(path, all ? { all: true, limit: 100 } : { limit: 100 });
		return table({ caption: 'Submissions', columns: subColumns, rows: page.items, rowKey: (s) => s.id });
	} catch (err) {
		return err.status === 403 ? h('p', { class: 'muted' }, 'Join the competition to submit (POST .../join).') : errorBox(err);
	}
}

// Submissions per UTC day (the day a submission arrived, as the daily limit counts it),
// oldest first, with the best public score up to and including that day.
export function timeline(subs, higherIsBetter = true) {
	const days = new Map();
	for (const s of subs) {
		const day = String(s.submitted_at).slice(0, 10);
		if (!days.has(day)) days.set(day, { day, total: 0, scored: 0, invalid: 0, teams: new Set(), best: null });
		const d = days.get(day);
		d.total++;
		if (s.state === 'scored') d.scored++;
		if (s.state === 'invalid') d.invalid++;
		d.teams.add(s.team);
		if (s.public_score !== null && s.public_score !== undefined && (d.best === null || (higherIsBetter ? s.public_score > d.best : s.public_score < d.best))) d.best = s.public_score;
	}
	const rows = [...days.values()].sort((a, b) => (a.day < b.day ? -1 : 1));
	let best = null;
	for (const d of rows) {
		if (d.best !== null && (best === null || (higherIsBetter ? d.best > best : d.best < best))) best = d.best;
		d.bestSoFar = best;
		d.teams = d.teams.size;
	}
	return rows;
}

// The metrics where lower is better (the scoring library's, src/core/scoring.c).
const LOWER_IS_BETTER = new Set(['log_loss', 'rmse', 'mae', 'mape']);

async function overTime(path, metric) {
	try {
		const subs = await api.listAll(path, { all: true }, 20000);
		const rows = timeline(subs, !LOWER_IS_BETTER.has(metric));
		if (!rows.length) return h('p', { class: 'muted' }, 'No submission yet.');
		const most = Math.max(...rows.map((d) => d.total));
		const columns = [
			{ label: 'Day (UTC)', cell: (d) => d.day },
			{ label: 'Submissions', cell: (d) => String(d.total), class: 'num' },
			{ label: '', cell: (d) => h('meter', { min: '0', max: String(most), value: String(d.total), 'aria-label': `${d.total} of at most ${most}` }) },
			{ label: 'Scored', cell: (d) => String(d.scored), class: 'num' },
			{ label: 'Refused', cell: (d) => String(d.invalid), class: 'num' },
			{ label: 'Teams', cell: (d) => String(d.teams), class: 'num' },
			{ label: 'Best public score so far', cell: (d) => (d.bestSoFar === null ? '—' : String(d.bestSoFar)), class: 'num' },
		];
		return table({ caption: 'Submissions over time', columns, rows, rowKey: (d) => d.day });
	} catch (err) {
		return errorBox(err);
	}
}

export async function render(root, ctx) {
	const name = ctx.params.competition;
	const base = `/competitions/${api.seg(name)}`;
	const c = await api.get(base);
	if (!ctx.alive()) return;
	const ended = Date.now() >= Date.parse(c.ends_at);
	const pub = h('div');
	const priv = h('div');
	const subs = await mySubmissions(`${base}/submissions`, c.organiser);
	const over = c.organiser ? await overTime(`${base}/submissions`, c.metric) : null;
	mount(
		root,
		pageHeader(c.title, null, state(c)),
		facts([
			['Metric', `${c.metric} (${c.precision} decimals)`],
			['Starts', time(c.starts_at)],
			['Ends', time(c.ends_at)],
			['Teams', String(c.teams)],
			['Daily limit', `${c.daily_limit} per team`],
			['Public part', `${Math.round(c.public_fraction * 100)} % of the test ids`],
		]),
		panel('comp-description', 'Description', markdown(c.description)),
		c.rules ? panel('comp-rules', 'Rules', markdown(c.rules)) : null,
		board('comp-public', 'Public leaderboard', pub),
		c.organiser || ended ? board('comp-private', ended ? 'Private leaderboard (final)' : 'Private leaderboard (organisers only)', priv) : null,
		panel('comp-submissions', c.organiser ? 'All submissions' : "Your team's submissions", subs),
		over ? panel('comp-timeline', 'Submissions over time', over) : null,
	);
	await fillBoard(pub, `${base}/leaderboard`, 'Public leaderboard');
	if (c.organiser || ended) await fillBoard(priv, `${base}/leaderboard/private`, 'Private leaderboard');
	return poll(() => fillBoard(pub, `${base}/leaderboard`, 'Public leaderboard'), 10000);
}

// views/competition.js: one competition: its description and rules (Markdown, rendered
// safely: web/markdown.js), the live public leaderboard (refreshed every 10 s), the caller's
// team's submissions, and for its organisers (and everyone once it has ended) the private
// leaderboard; for its organisers also the submissions over time (per UTC day: how many
// arrived, how many were scored or refused, how many teams submitted, the best public score
// so far). A participant acts here (views/competition_actions.js): joins a team or leaves it,
// submits (a file, or a model version whose state is followed every 2 s while it runs) and
// selects the team's final submissions; each action redraws what it changed, without a reload.
import * as api from '../api.js';
import { h, mount, pageHeader, panel, table, time, facts, poll, errorBox, badge, fmtBytes, showError } from '../ui.js';
import { markdown } from '../markdown.js';
import { state } from './competitions.js';
import * as act from './competition_actions.js';

const boardColumns = [
	{ label: 'Rank', cell: (r) => String(r.rank), class: 'num' },
	{ label: 'Team', cell: (r) => h('strong', null, r.team) },
	{ label: 'Score', cell: (r) => (r.score === null ? '—' : String(r.score)), class: 'num' },
	{ label: 'Entries', cell: (r) => String(r.entries), class: 'num' },
	{ label: 'Submitted', cell: (r) => time(r.submitted_at, true) },
];

const STATE_KIND = { scored: 'ok', invalid: 'err', failed: 'err', pending: 'info', running: 'info', scoring: 'info' };

const subColumns = [
	{ label: 'Id', cell: (s) => String(s.id), class: 'num' },
	{ label: 'By', cell: (s) => s.submitted_by || '' },
	{ label: 'State', cell: (s) => badge(s.state, STATE_KIND[s.state] || '') },
	{ label: 'What', cell: (s) => (s.model ? `${s.model.model} v${s.model.version}` : s.format || '') },
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
		return b;
	} catch (err) {
		mount(slot, errorBox(err));
		return null;
	}
}

// Every team's submissions (organisers), newest first.
async function allSubmissions(path) {
	try {
		const page = await api.get(path, { all: true, limit: 100 });
		const columns = [subColumns[0], { label: 'Team', cell: (s) => h('strong', null, s.team) }, ...subColumns.slice(1)];
		return table({ caption: 'Submissions', columns, rows: page.items, rowKey: (s) => s.id });
	} catch (err) {
		return errorBox(err);
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

/*
 * The team's own submissions with the final selection: each scored one can be selected (at
 * most two) or unselected until the end. Returns {node, active}: active when one is still on
 * its way to a score.
 */
async function teamSubmissions(page, redraw) {
	let subs;
	try {
		subs = await api.listAll(`${page.base}/submissions`, {}, 5000);
	} catch (err) {
		return { node: errorBox(err), active: false };
	}
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const defaults = act.defaultFinals(subs, page.higher);
	const toggle = async (s) => {
		showError(errSlot, null);
		try {
			await act.setFinal(page, s);
			await redraw();
		} catch (err) {
			showError(errSlot, err);
		}
	};
	const columns = subColumns.map((col) => (col.label === 'Final' ? { label: 'Final', cell: (s) => act.finalCell(s, page, defaults, toggle) } : col));
	const node = subs.length
		? [act.finalsNote(subs, page), errSlot, table({ caption: "Your team's submissions", columns, rows: subs, rowKey: (s) => s.id })]
		: h('p', { class: 'muted' }, 'Your team has no submission yet.');
	return { node, active: subs.some((s) => act.ACTIVE.has(s.state)) };
}

function whatToSubmit(c) {
	if (c.submission === 'model_version') return 'a model version (Atrium runs its predict script as a batch job on the hidden inputs)';
	return `a predictions file (CSV or JSON Lines, at most ${fmtBytes(c.max_bytes)})`;
}

export async function render(root, ctx) {
	const name = ctx.params.competition;
	const base = `/competitions/${api.seg(name)}`;
	const c = await api.get(base);
	if (!ctx.alive()) return;
	const ended = Date.now() >= Date.parse(c.ends_at);
	const page = { c, base, me: ctx.me, ended, higher: !LOWER_IS_BETTER.has(c.metric), team: null };
	const pub = h('div');
	const priv = h('div');
	const teamSlot = h('div');
	const mineSlot = h('div');
	const allSlot = h('div');
	const teamCount = h('span', null, String(c.teams));
	let stopFollow = null;

	const refreshBoards = async () => {
		const b = await fillBoard(pub, `${base}/leaderboard`, 'Public leaderboard');
		if (b && b.direction) page.higher = b.direction !== 'lower';
		if (c.organiser || ended) await fillBoard(priv, `${base}/leaderboard/private`, 'Private leaderboard');
	};
	// the team's submissions (and every one for organisers); true while one is in progress
	const refreshSubs = async () => {
		if (!ctx.alive()) return false;
		let active = false;
		if (page.team) {
			const r = await teamSubmissions(page, refreshSubs);
			active = r.active;
			mount(mineSlot, c.organiser ? panel('comp-team-submissions', "Your team's submissions", r.node) : r.node);
		} else {
			mount(mineSlot, c.organiser ? null : h('p', { class: 'muted' }, 'Join a team to submit; its submissions show here.'));
		}
		if (c.organiser) mount(allSlot, await allSubmissions(`${base}/submissions`));
		if (active) follow();
		return active;
	};
	// while a submission runs (a model's batch job), its state is read again every 2 s
	const follow = () => {
		if (stopFollow) return;
		stopFollow = poll(async () => {
			const active = await refreshSubs();
			await refreshBoards();
			if (!active) stopFollow = null;
			return active;
		}, 2000);
	};
	const submit = await act.submitBox(page, async () => {
		await refreshSubs();
		await refreshTeam();
		await refreshBoards();
	});
	const refreshTeam = async () => {
		try {
			// the user's Atrium teams read anew: one she was added to since signing in is offered
			const [found, me] = await Promise.all([act.findTeam(base, ctx.me.username), api.get('/users/me')]);
			const { teams, mine } = found;
			page.me = me;
			page.team = mine;
			teamCount.textContent = String(teams.length);
			mount(teamSlot, act.teamBox(page, teams, mine, refreshAll));
		} catch (err) {
			mount(teamSlot, errorBox(err));
		}
		submit.show(page.team);
	};
	const refreshAll = async () => {
		await refreshTeam();
		await refreshSubs();
		await refreshBoards();
	};
	await refreshTeam();
	await refreshSubs();
	const over = c.organiser ? await overTime(`${base}/submissions`, c.metric) : null;
	if (!ctx.alive()) {
		if (stopFollow) stopFollow();
		return;
	}
	mount(
		root,
		pageHeader(c.title, null, state(c)),
		facts([
			['Metric', `${c.metric} (${c.precision} decimals)`],
			['Starts', time(c.starts_at)],
			['Ends', time(c.ends_at)],
			['Teams', teamCount],
			['Team size', `at most ${c.max_team_size} members`],
			['Submission', whatToSubmit(c)],
			['Daily limit', `${c.daily_limit} per team`],
			['Public part', `${Math.round(c.public_fraction * 100)} % of the test ids`],
		]),
		panel('comp-description', 'Description', markdown(c.description)),
		c.rules ? panel('comp-rules', 'Rules', markdown(c.rules)) : null,
		panel('comp-team', 'Your team', teamSlot),
		panel('comp-submit', 'Submit', submit),
		board('comp-public', 'Public leaderboard', pub),
		c.organiser || ended ? board('comp-private', ended ? 'Private leaderboard (final)' : 'Private leaderboard (organisers only)', priv) : null,
		c.organiser ? panel('comp-submissions', 'All submissions', allSlot) : panel('comp-submissions', "Your team's submissions", mineSlot),
		c.organiser ? mineSlot : null,
		over ? panel('comp-timeline', 'Submissions over time', over) : null,
	);
	await refreshBoards();
	const stopBoards = poll(refreshBoards, 10000);
	return () => {
		stopBoards();
		if (stopFollow) stopFollow();
	};
}

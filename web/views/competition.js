// views/competition.js: one competition: its description and rules (Markdown, rendered
// safely: web/markdown.js), the live public leaderboard (refreshed every 10 s), the caller's
// team's submissions, and for its organisers (and everyone once it has ended) the private
// leaderboard.
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

export async function render(root, ctx) {
	const name = ctx.params.competition;
	const base = `/competitions/${api.seg(name)}`;
	const c = await api.get(base);
	if (!ctx.alive()) return;
	const ended = Date.now() >= Date.parse(c.ends_at);
	const pub = h('div');
	const priv = h('div');
	const subs = await mySubmissions(`${base}/submissions`, c.organiser);
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
	);
	await fillBoard(pub, `${base}/leaderboard`, 'Public leaderboard');
	if (c.organiser || ended) await fillBoard(priv, `${base}/leaderboard/private`, 'Private leaderboard');
	return poll(() => fillBoard(pub, `${base}/leaderboard`, 'Public leaderboard'), 10000);
}

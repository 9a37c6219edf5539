// views/competition_actions.js: what a participant does on a competition's page
// (views/competition.js): join (as one of her Atrium teams or an ad-hoc team) and leave; submit
// a predictions file (sent as the request body, with its upload's progress) or a model version
// (then followed as its batch job runs); choose the team's final submissions. Every refusal
// shows the API's own message in the form, with the field it names marked.
import * as api from '../api.js';
import { h, mount, field, select, form, facts, toast, confirmThen, fmtBytes, badge, nextId, time } from '../ui.js';

// A submission still on its way to a score (a model version's batch job).
export const ACTIVE = new Set(['pending', 'running', 'scoring']);

// The competition's team the user plays for, or null (from GET .../teams).
export async function findTeam(base, username) {
	const teams = await api.listAll(`${base}/teams`, {}, 20000);
	return { teams, mine: teams.find((t) => (t.members || []).includes(username)) || null };
}

function joinForms(page, teams, refresh) {
	const { c, me, base } = page;
	const joined = (team) => {
		toast(`You joined team ${team}`);
		return refresh();
	};
	const mineAtrium = (me.teams || []).map((t) => [t.team, t.team]);
	const atrium = mineAtrium.length
		? form({
				attrs: { 'aria-label': 'Join as an Atrium team' },
				fields: [field('Your Atrium team', select('team', mineAtrium, mineAtrium[0][0]), 'each member joins on their own')],
				submitLabel: 'Join as this team',
				onSubmit: async (v) => {
					await api.post(`${base}/join`, { team: v.team });
					await joined(v.team);
				},
			})
		: null;
	const listId = nextId('adhoc');
	const adhoc = teams.filter((t) => !t.atrium_team);
	const name = h('input', { name: 'name', type: 'text', required: true, maxlength: '63', autocomplete: 'off', list: listId });
	const joinAdhoc = form({
		attrs: { 'aria-label': 'Join an ad-hoc team' },
		fields: [
			field('Ad-hoc team', name, 'a new name makes the team; the name of an existing one joins it'),
			h(
				'datalist',
				{ id: listId },
				adhoc.map((t) => h('option', { value: t.name }, `${(t.members || []).length} of ${c.max_team_size} members`)),
			),
		],
		submitLabel: 'Join',
		onSubmit: async (v) => {
			await api.post(`${base}/join`, { name: v.name.trim() });
			await joined(v.name.trim());
		},
	});
	return [
		h('p', null, `You play for no team yet. A team has at most ${c.max_team_size} members; you play for one team at a time.`),
		atrium,
		joinAdhoc,
	];
}

// The "Your team" panel's content: the team and Leave, or the ways to join.
export function teamBox(page, teams, mine, refresh) {
	const { c, base } = page;
	if (mine) {
		const errSlot = h('div', { 'aria-live': 'assertive' });
		const leave = h('button', { type: 'button', class: 'danger' }, 'Leave the team');
		leave.addEventListener('click', () =>
			confirmThen(errSlot, { title: `Leave team ${mine.name}?`, message: 'Its submissions stay on the boards. You may join a team again until the end.', confirmLabel: 'Leave' }, async () => {
				await api.post(`${base}/leave`);
				toast(`You left team ${mine.name}`);
				await refresh();
			}),
		);
		const members = mine.members || [];
		return [
			facts([
				['Team', h('strong', { class: 'comp-team-name' }, mine.name)],
				['Kind', mine.atrium_team ? `Atrium team ${mine.atrium_team}` : 'ad-hoc'],
				['Members', `${members.join(', ')} (${members.length} of at most ${c.max_team_size})`],
				['Scored submissions', String(mine.submissions)],
			]),
			page.ended ? null : h('p', null, leave),
			errSlot,
		];
	}
	if (page.ended) return h('p', { class: 'muted' }, 'The competition has ended: no team can be joined any more.');
	return joinForms(page, teams, refresh);
}

// ---- submitting ----

function resultBox(s) {
	const text =
		s.state === 'scored'
			? `Submission ${s.id} scored: public score ${s.public_score === null ? 'undefined (see the metric)' : s.public_score}.`
			: `Submission ${s.id} accepted: ${s.state}. Atrium runs ${s.model ? `${s.model.model} version ${s.model.version}` : 'it'} as a batch job; its state follows in your team's submissions.`;
	return h('div', { class: 'alert ok comp-result', role: 'status', dataset: { id: String(s.id), state: s.state } }, text);
}

function fileForm(page, result, submitted) {
	const { c, base } = page;
	const file = h('input', { type: 'file', name: 'body', accept: '.csv,.jsonl,.ndjson,text/csv,application/x-ndjson', required: true });
	const fmt = select('format', [
		['csv', 'CSV'],
		['jsonl', 'JSON Lines'],
	]);
	file.addEventListener('change', () => {
		const f = file.files[0];
		if (f) fmt.value = /\.(jsonl|ndjson)$/i.test(f.name) ? 'jsonl' : 'csv';
	});
	const bar = h('progress', { max: '100', value: '0', 'aria-label': 'Upload progress' });
	const busy = h('p', { class: 'comp-busy', hidden: true, 'aria-live': 'polite' }, bar, ' ', h('span'));
	const say = (pct, text) => {
		bar.value = pct;
		busy.lastChild.textContent = text;
	};
	const hint = `the ${c.id_column || 'id'} column and "prediction" (and proba_<class> columns where the metric needs them); at most ${fmtBytes(c.max_bytes)}`;
	return form({
		attrs: { 'aria-label': 'Submit a predictions file' },
		fields: [field('Predictions file', file, hint), field('Format', fmt), busy],
		submitLabel: 'Submit',
		onSubmit: async (v) => {
			const f = file.files[0];
			mount(result);
			if (!f) throw new api.ApiError(400, 'invalid', 'choose a predictions file', 'body');
			if (f.size > c.max_bytes) throw new api.ApiError(413, 'too_large', `the file has ${fmtBytes(f.size)}; this competition takes at most ${fmtBytes(c.max_bytes)}`, 'body');
			busy.hidden = false;
			say(0, 'Uploading…');
			try {
				const type = v.format === 'jsonl' ? 'application/x-ndjson' : 'text/csv';
				const onProgress = (sent, total) => (sent >= total ? say(100, 'Scoring…') : say(Math.floor((100 * sent) / total), `Uploading… ${Math.floor((100 * sent) / total)} %`));
				const { data } = await api.upload('POST', `${base}/submissions`, { format: v.format }, f, { contentType: type, onProgress });
				mount(result, resultBox(data));
			} finally {
				busy.hidden = true;
				// a refused file (422) is listed too (invalid, with its reason)
				await submitted();
			}
		},
	});
}

// The participant's models: those of every project she may read with a committed version.
async function readableModels() {
	const projects = await api.listAll('/projects', {}, 500);
	const lists = await Promise.all(
		projects.map((p) =>
			api
				.listAll(`/projects/${api.seg(p.name)}/models`, {}, 500)
				.then((ms) => ms.filter((m) => m.latest_version !== null && m.latest_version !== undefined).map((m) => ({ p, m })))
				.catch(() => []),
		),
	);
	return lists.flat();
}

async function modelForm(page, result, submitted) {
	const models = await readableModels();
	if (!models.length) return h('p', { class: 'muted' }, 'You can read no model with a committed version yet: register one (holding its predict script) in a project of yours.');
	const opts = models.map(({ p, m }) => {
		const aliases = Object.keys(m.aliases || {});
		return [`${p.name}/${m.name}`, `${p.name}/${m.name} (latest: version ${m.latest_version}${aliases.length ? `; ${aliases.join(', ')}` : ''})`];
	});
	const version = h('input', { name: 'version', type: 'text', value: 'latest', required: true, maxlength: '64', autocomplete: 'off' });
	return form({
		attrs: { 'aria-label': 'Submit a model version' },
		fields: [
			field('Model', select('model', opts, opts[0][0]), 'a committed version holding a predict script: sh predict INPUT OUTPUT writes the predictions'),
			field('Version', version, 'a number, an alias (production) or latest'),
		],
		submitLabel: 'Submit',
		onSubmit: async (v) => {
			mount(result);
			const ver = v.version.trim();
			const s = await api.post(`${page.base}/submissions`, { model: v.model, version: /^\d+$/.test(ver) ? Number(ver) : ver || 'latest' });
			mount(result, resultBox(s));
			await submitted();
		},
	});
}

/*
 * The "Submit" panel's content, built once (the last result stays while the page refreshes
 * itself); show(team) says which part shows: closed, join first, or the form.
 */
export async function submitBox(page, submitted) {
	const { c } = page;
	const result = h('div', { class: 'comp-results', 'aria-live': 'polite' });
	const model = c.submission === 'model_version';
	const theForm = model ? await modelForm(page, result, submitted) : fileForm(page, result, submitted);
	const rules = h(
		'p',
		{ class: 'hint' },
		`${c.daily_limit} submissions per team per UTC day${model ? ' (a model that fails counts; one that could not run does not)' : '; a refused file counts against no limit'}. Submissions close at `,
		time(c.ends_at),
		'.',
	);
	const closed = h('p', { class: 'muted' });
	const joinFirst = h('p', { class: 'muted' }, 'Join a team (above) to submit.');
	const box = h('div', null, closed, joinFirst, h('div', { class: 'comp-submit-form' }, rules, theForm, result));
	box.show = (team) => {
		const now = Date.now();
		const open = now >= Date.parse(c.starts_at) && now < Date.parse(c.ends_at);
		closed.textContent = now < Date.parse(c.starts_at) ? 'Submissions open when the competition starts.' : 'The competition has ended: submissions are closed.';
		closed.hidden = open;
		joinFirst.hidden = !open || !!team;
		box.lastChild.hidden = !open || !team;
	};
	return box;
}

// ---- final submissions ----

// The submissions that count on the private board when the team selected none: its two best
// public ones (ties: the earlier), as the API ranks them.
export function defaultFinals(subs, higher) {
	if (subs.some((s) => s.selected)) return new Set();
	const scored = subs.filter((s) => s.state === 'scored');
	scored.sort((a, b) => {
		const an = a.public_score === null,
			bn = b.public_score === null;
		if (an !== bn) return an ? 1 : -1;
		if (!an && a.public_score !== b.public_score) return higher ? b.public_score - a.public_score : a.public_score - b.public_score;
		return a.id - b.id;
	});
	return new Set(scored.slice(0, 2).map((s) => s.id));
}

// The "Final" cell of the team's submissions: selected / by default, and the toggle.
export function finalCell(s, page, defaults, toggle) {
	if (s.state !== 'scored') return '';
	const mark = s.selected ? badge('selected', 'ok') : defaults.has(s.id) ? badge('by default', 'muted') : null;
	if (page.ended) return mark || '';
	const btn = h('button', { type: 'button', class: 'small', onClick: () => toggle(s) }, s.selected ? 'Unselect' : 'Select as final');
	return [mark, mark ? ' ' : null, btn];
}

export function finalsNote(subs, page) {
	const n = subs.filter((s) => s.selected).length;
	const how = page.ended ? '' : ' Select up to two (Unselect one to choose another).';
	return h(
		'p',
		{ class: 'hint comp-finals' },
		n
			? `Your team's final submissions: the ${n} selected; only they count on the private leaderboard.${how}`
			: `No final submission selected: your team's two best public ones count on the private leaderboard (marked "by default").${how}`,
	);
}

export async function setFinal(page, s) {
	const out = await api.post(`${page.base}/submissions/${s.id}/select`, { selected: !s.selected });
	toast(out.selected ? `Submission ${s.id} is a final submission` : `Submission ${s.id} is no longer a final submission`);
	return out;
}

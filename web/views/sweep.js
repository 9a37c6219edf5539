// views/sweep.js: one sweep (#/projects/P/sweeps/ID): its settings and state (pause, resume,
// cancel for editors), the best trial, the trials' metric curves on one chart (each trial's
// run's series of the sweep's metric), a parallel-coordinates view of the trials' parameters
// against their last value (web/parcoords.js, shared with the compare page), and the trials
// with what ASHA decided about each. Refreshes while the sweep runs.
import * as api from '../api.js';
import { projectPage, href, stateBadge, canEdit } from './registry.js';
import { metricPoints, metricFigure } from './metrics.js';
import { PALETTE } from '../chart.js';
import { parallelCoordinates } from '../parcoords.js';
import { h, mount, table, time, facts, panel, showError, fmtNum, emptyState, jsonBlock, poll } from '../ui.js';

const MAX_CURVES = 100; // the first trials' curves (a sweep holds at most 1,000 trials)
const num = (v) => (typeof v === 'number' ? v : v !== null && v !== undefined && String(v).trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);

function trialTable(p, sw) {
	const keys = Object.keys(sw.search_space);
	return table({
		caption: `Trials of ${sw.name}`,
		columns: [
			{ label: 'Trial', cell: (t) => `#${t.index}` },
			{ label: 'State', cell: (t) => stateBadge(t.state) },
			...keys.map((k) => ({ label: k, cell: (t) => (typeof t.params[k] === 'number' ? fmtNum(t.params[k]) : String(t.params[k] ?? '—')), class: 'num' })),
			{ label: sw.metric, cell: (t) => fmtNum(t.value), class: 'num' },
			{ label: 'Step', cell: (t) => (t.step === null ? '—' : String(t.step)), class: 'num' },
			{ label: 'Rungs reached', cell: (t) => String(t.rungs_reached), class: 'num' },
			{ label: 'Stopped at step', cell: (t) => (t.stopped_step === null ? '' : String(t.stopped_step)), class: 'num' },
			{ label: 'Run', cell: (t) => (t.run_id ? h('a', { href: href.run(p, t.run_id) }, `run ${t.run_id}`) : '—') },
			{ label: 'Job', cell: (t) => (t.job_id ? h('a', { href: href.job(t.job_id) }, `job ${t.job_id}`) : '—') },
		],
		rows: sw.trials,
		rowKey: (t) => `trial-${t.index}`,
		rowClass: (t) => (sw.best_trial && t.id === sw.best_trial.id ? 'best' : ''),
	});
}

function bestFacts(p, sw) {
	const b = sw.best_trial;
	if (!b) return emptyState('No trial has reported the metric yet.', `Trials log "${sw.metric}" through their run; the best one shows here.`);
	return facts([
		['Trial', [h('strong', { class: 'best-trial' }, `#${b.index}`), ' ', stateBadge(b.state)]],
		[sw.metric, h('strong', null, fmtNum(b.value))],
		['At step', String(b.step)],
		['Values', h('code', null, Object.entries(b.params).map(([k, v]) => `${k}=${v}`).join(' '))],
		['Run', h('a', { href: href.run(p, b.run_id) }, `run ${b.run_id}`)],
	]);
}

async function curves(sw) {
	const trials = sw.trials.filter((t) => t.run_id && t.value !== null).slice(0, MAX_CURVES);
	const pts = await Promise.all(trials.map((t) => metricPoints(t.run_id, sw.metric).catch(() => null)));
	const series = trials.map((t, i) => pts[i] && { label: `#${t.index}`, x: pts[i].steps, y: pts[i].values, color: PALETTE[t.index % PALETTE.length] }).filter(Boolean);
	if (!series.length) return { el: emptyState('No curves yet.', ''), draw: () => () => {} };
	return metricFigure(sw.metric, series, `(${series.length} trials)`);
}

function parcoords(sw) {
	const keys = Object.keys(sw.search_space);
	const rows = sw.trials.filter((t) => t.value !== null);
	if (!rows.length) return h('p', { class: 'muted' }, 'Parameters against the metric appear once trials report it.');
	const log = (k) => sw.search_space[k].type === 'log_uniform';
	return h(
		'div',
		{ class: 'chart-svg pc-box' },
		parallelCoordinates({
			rows,
			axes: [...keys.map((k) => ({ label: k, value: (t) => num(t.params[k]), log: log(k) })), { label: sw.metric, value: (t) => t.value }],
			key: (t) => `trial-${t.index}`,
			title: (t) => `trial #${t.index} (${t.state})\n${keys.map((k) => `${k} = ${t.params[k]}`).join('\n')}\n${sw.metric} = ${fmtNum(t.value)}`,
			label: `Parameters of ${rows.length} trials against ${sw.metric}`,
		}),
	);
}

function actions(sw, base, errSlot, reload) {
	const act = (verb, label, cls = '') => {
		const b = h('button', { type: 'button', class: `small ${cls}`, dataset: { action: verb } }, label);
		b.addEventListener('click', async () => {
			b.disabled = true;
			showError(errSlot, null);
			try {
				await api.post(`${base}/${verb}`, {});
				await reload();
			} catch (err) {
				showError(errSlot, err);
				b.disabled = false;
			}
		});
		return b;
	};
	const out = [];
	if (sw.state === 'running') out.push(act('pause', 'Pause'));
	if (sw.state === 'paused') out.push(act('resume', 'Resume'));
	if (sw.state === 'running' || sw.state === 'paused') out.push(act('cancel', 'Cancel sweep', 'danger'));
	return out;
}

export async function render(root, ctx) {
	const id = ctx.params.sweep;
	const { project, header } = await projectPage(ctx, 'sweeps', { title: `Sweep ${id}`, crumbs: [['Sweeps', href.sweeps(ctx.params.project)], [`#${id}`]], intro: null });
	const p = project.name;
	const base = `/projects/${api.seg(p)}/sweeps/${api.seg(id)}`;
	const errSlot = h('div', { 'aria-live': 'assertive' });
	let cleanup = () => {};
	const draw = async () => {
		const sw = await api.get(base);
		const fig = await curves(sw);
		if (!ctx.alive()) return false;
		cleanup();
		mount(
			root,
			header,
			errSlot,
			panel(
				'sweep-about',
				'Sweep',
				facts([
					['Name', h('strong', null, sw.name)],
					['State', stateBadge(sw.state)],
					['Launcher', [h('code', null, sw.launcher || '—'), ` v${sw.launcher_version}`]],
					['Search', `${sw.method}, ${sw.trial_count} of ${sw.max_trials} trials, ${sw.parallelism} at once, seed ${sw.seed}`],
					['Metric', [h('code', null, sw.metric), ` (${sw.direction})`]],
					['Early stopping', sw.asha ? `ASHA: rungs at step ${sw.asha.min_resource} × ${sw.asha.eta}^k, ${sw.asha.rungs} rungs; ${sw.stopped} trials stopped` : 'none'],
					['Started', [time(sw.created_at), sw.created_by ? ` by ${sw.created_by}` : '']],
				]),
				canEdit(project) ? h('p', { class: 'actions' }, actions(sw, base, errSlot, draw)) : null,
				h('details', null, h('summary', null, 'Search space'), jsonBlock(sw.search_space)),
			),
			panel('sweep-best', 'Best trial', bestFacts(p, sw)),
			panel('sweep-curves', 'Metric curves', fig.el),
			panel('sweep-parcoords', 'Parameters against the metric', parcoords(sw)),
			panel('sweep-trials', 'Trials', sw.trials.length ? trialTable(p, sw) : emptyState('No trials yet.', '')),
		);
		cleanup = fig.draw();
		return sw.state === 'running' || sw.state === 'paused';
	};
	await draw();
	const stop = poll(draw, 5000);
	return () => {
		stop();
		cleanup();
	};
}

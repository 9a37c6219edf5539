// views/benchmark.js: one benchmark (#/projects/P/benchmarks/B): its ground truth and metrics,
// the leaderboard (each model version's best evaluation, ranked by the primary metric in its
// direction, the other metrics alongside; CSV export), and its evaluations, newest first.
import * as api from '../api.js';
import { projectPage, href, version } from './registry.js';
import { h, mount, pagedTable, time, emptyState, facts, panel, showError, fmtNum, badge } from '../ui.js';

const subject = (p, e) =>
	e.model ? h('a', { href: href.modelVersion(p, e.model, e.version) }, `${e.model} ${version(e.version)}`) : e.run_id ? h('a', { href: href.run(p, e.run_id) }, `run ${e.run_id}`) : '—';

function csvButton(p, b, errSlot) {
	const btn = h('button', { type: 'button', class: 'small' }, 'Download CSV');
	btn.addEventListener('click', async () => {
		btn.disabled = true;
		showError(errSlot, null);
		try {
			await api.download(`/projects/${api.seg(p)}/benchmarks/${api.seg(b)}/leaderboard?format=csv&limit=1000`, `${b}-leaderboard.csv`);
		} catch (err) {
			showError(errSlot, err);
		} finally {
			btn.disabled = false;
		}
	});
	return btn;
}

export async function render(root, ctx) {
	const b = ctx.params.benchmark;
	const { project, header } = await projectPage(ctx, 'benchmarks', { title: `Benchmark ${b}`, crumbs: [['Benchmarks', href.benchmarks(ctx.params.project)], [b]], intro: null });
	const p = project.name;
	const base = `/projects/${api.seg(p)}/benchmarks/${api.seg(b)}`;
	const bm = await api.get(base);
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const others = bm.metrics.filter((m) => m.name !== bm.primary_metric);
	const primary = bm.metrics.find((m) => m.name === bm.primary_metric) || { name: bm.primary_metric, direction: 'higher' };
	const board = [
		{ label: 'Rank', cell: (e) => String(e.rank), class: 'num' },
		{ label: 'Model version', cell: (e) => subject(p, e) },
		{ label: `${primary.name} (${primary.direction} is better)`, cell: (e) => h('strong', null, fmtNum(e.primary)), class: 'num' },
		...others.map((m) => ({ label: m.name, cell: (e) => fmtNum(e.metrics[m.name]), class: 'num' })),
		{ label: 'Evaluated by', cell: (e) => e.created_by || '' },
		{ label: 'When', cell: (e) => time(e.created_at) },
	];
	const evals = [
		{ label: 'Evaluation', cell: (e) => `#${e.id}` },
		{ label: 'Model version', cell: (e) => subject(p, { model: e.model_version && e.model_version.model, version: e.model_version && e.model_version.version, run_id: e.run_id }) },
		{ label: bm.primary_metric, cell: (e) => (e.primary_value === null ? badge('undefined', 'warn') : fmtNum(e.primary_value)), class: 'num' },
		{ label: 'Rows', cell: (e) => String(e.rows), class: 'num' },
		{ label: 'By', cell: (e) => e.created_by || '' },
		{ label: 'When', cell: (e) => time(e.created_at) },
	];
	const lb = await pagedTable(new api.Pager(`${base}/leaderboard`), { caption: `Leaderboard of ${b}`, columns: board, rowKey: (e) => String(e.evaluation_id) }, (err) => showError(errSlot, err));
	const ev = await pagedTable(new api.Pager(`${base}/evaluations`, {}, 20), { caption: `Evaluations of ${b}`, columns: evals, rowKey: (e) => `evaluation-${e.id}` }, (err) => showError(errSlot, err));
	if (!ctx.alive()) return;
	mount(
		root,
		header,
		panel(
			'bm-about',
			'About',
			facts([
				['Description', bm.description || h('span', { class: 'muted' }, 'none')],
				['Ground truth', [h('a', { href: href.datasetVersion(p, bm.dataset.name, bm.dataset.version) }, `${bm.dataset.name} ${version(bm.dataset.version)}`), ' ', h('code', null, bm.file), ` (${bm.format}; id column `, h('code', null, bm.id_column), ', label column ', h('code', null, bm.label_column), ')']],
				['Metrics', bm.metrics.map((m, i) => [i ? ', ' : '', h('code', { title: m.sklearn }, m.name), ` (${m.direction} is better)`])],
				['Primary metric', h('code', null, bm.primary_metric)],
				['Created', [time(bm.created_at), bm.created_by ? ` by ${bm.created_by}` : '']],
			]),
		),
		h('h2', null, 'Leaderboard'),
		errSlot,
		lb.first.length ? [h('p', null, csvButton(p, b, errSlot)), lb, lb.more] : emptyState('No evaluations ranked yet.', 'Upload a predictions file as an evaluation of a model version; its best score takes its place here.'),
		h('h2', null, 'Evaluations'),
		ev.first.length ? [ev, ev.more] : emptyState('No evaluations yet.', ''),
	);
}

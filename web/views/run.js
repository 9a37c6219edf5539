// views/run.js: one run (#/projects/P/runs/ID): status, times, the job that made it, the code
// version (git commit, uncommitted changes), params, tags, the dataset versions it read, its
// model versions registered from it (or made by its job), its metrics (a summary table,
// then one chart per key
// with its points as a table) and its artifacts (download).
import * as api from '../api.js';
import { projectPage, href, version, stateBadge, filesTable } from './registry.js';
import { metricSummaries, metricPoints, metricFigure, sampledNote, summaryTable, MAX_CHARTS } from './metrics.js';
import { h, mount, table, time, span, facts, panel, emptyState, badge, copyButton } from '../ui.js';

// A two-column table of a string map (params, tags).
export function kvTable(caption, obj) {
	const rows = Object.entries(obj || {}).map(([k, v]) => ({ k, v }));
	return rows.length
		? table({ caption, rowKey: (r) => r.k, columns: [{ label: 'Name', cell: (r) => h('code', null, r.k) }, { label: 'Value', cell: (r) => h('code', null, String(r.v)) }], rows })
		: h('p', { class: 'muted' }, 'None.');
}

async function metricsPanel(run) {
	const summaries = await metricSummaries(run.id);
	if (!summaries.length) return { el: emptyState('No metrics logged.', 'Training code logs them with POST /api/v1/runs/{run}/metrics; a job does it with its own token.'), draws: [] };
	const charted = summaries.slice(0, MAX_CHARTS);
	const points = await Promise.all(charted.map((m) => metricPoints(run.id, m.key)));
	const figures = points.map((pts) => metricFigure(pts.key, [{ label: pts.key, x: pts.steps, y: pts.values }], sampledNote(pts)));
	return {
		el: [
			summaryTable(`Metrics of run ${run.id}`, summaries),
			summaries.length > charted.length ? h('p', { class: 'muted note' }, `The first ${charted.length} of ${summaries.length} metrics are charted.`) : null,
			h('div', { class: 'metric-grid' }, figures.map((f) => f.el)),
		],
		draws: figures.map((f) => f.draw),
	};
}

async function artifactsPanel(run) {
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const t = await filesTable(`/runs/${run.id}/artifacts`, `Artifacts of run ${run.id}`, errSlot);
	if (!t.first.length) return emptyState('No artifacts.', 'Files a run keeps (plots, checkpoints) are uploaded with PUT /api/v1/runs/{run}/artifacts/PATH.');
	return [errSlot, t, t.more];
}

// The code version the run came from: its git commit (short, the full hash as a title and a
// copy button) and whether the working tree had changes.
function codeVersion(run) {
	if (!run.git_commit && run.git_dirty === null) return null;
	return h(
		'span',
		{ class: 'code-version' },
		run.git_commit ? h('code', { title: run.git_commit, class: 'git-commit' }, run.git_commit.slice(0, 12)) : h('span', { class: 'muted' }, 'commit not known'),
		run.git_commit ? [' ', copyButton(run.git_commit, 'Copy', 'commit')] : null,
		run.git_dirty === true ? [' ', badge('uncommitted changes', 'warn')] : run.git_dirty === false ? [' ', badge('clean', 'ok')] : null,
	);
}

// The model versions registered from the run (source_run) or made by its job: every model
// of the project (at most MAX_MODELS) and its versions, read at once.
const MAX_MODELS = 50;
async function modelVersionsOf(run) {
	const models = (await api.listAll(`/projects/${api.seg(run.project)}/models`, {}, MAX_MODELS)).slice(0, MAX_MODELS);
	const lists = await Promise.all(models.map((m) => api.listAll(`/projects/${api.seg(run.project)}/models/${api.seg(m.name)}/versions`, {}, 1000).catch(() => [])));
	return lists.flat().filter((v) => v.source_run === run.id || (run.job_id && v.source_job_id === run.job_id));
}

function modelsPanel(p, versions) {
	return panel(
		'run-models',
		`Model versions registered from it (${versions.length})`,
		versions.length
			? table({
					caption: 'Model versions registered from this run',
					rowKey: (v) => String(v.id),
					rows: versions,
					columns: [
						{ label: 'Model version', cell: (v) => h('a', { href: href.modelVersion(p, v.model, v.version) }, `${v.model} ${version(v.version)}`) },
						{ label: 'State', cell: (v) => stateBadge(v.state) },
						{ label: 'Aliases', cell: (v) => (v.aliases || []).join(', ') },
						{ label: 'Created', cell: (v) => time(v.created_at) },
					],
				})
			: h('p', { class: 'muted' }, 'None yet. A model version names its run in "source_run" when it is registered.'),
	);
}

export async function render(root, ctx) {
	const id = ctx.params.run;
	const run = await api.get(`/runs/${api.seg(id)}`);
	// a link that knew the run but not its project (a dataset version's "used by": runs of
	// any project may read it) goes to the run's own project
	if (run.project && run.project !== ctx.params.project) {
		if (ctx.alive()) location.replace(href.run(run.project, run.id));
		return null;
	}
	const [{ project, header }, metrics, artifacts, registered] = await Promise.all([
		projectPage(ctx, 'runs', { title: `Run ${run.name || id}`, crumbs: [['Runs', href.runs(ctx.params.project)], [run.name || id]], intro: null }),
		metricsPanel(run),
		artifactsPanel(run),
		modelVersionsOf(run).catch(() => []),
	]);
	if (!ctx.alive()) return null;
	const p = project.name;
	mount(
		root,
		header,
		panel(
			'run-about',
			'About',
			facts([
				['Status', stateBadge(run.status)],
				['Started', time(run.started_at)],
				['Ended', run.ended_at ? time(run.ended_at) : null],
				['Duration', span(run.started_at, run.ended_at) + (run.ended_at ? '' : ' so far')],
				['By', run.created_by || null],
				['Job', run.job_id ? h('a', { href: href.job(run.job_id) }, `job ${run.job_id}`) : null],
				['Code', codeVersion(run)],
			]),
		),
		h('div', { class: 'split' }, panel('run-params', 'Params', kvTable('Params', run.params)), panel('run-tags', 'Tags', kvTable('Tags', run.tags))),
		panel(
			'run-inputs',
			'Dataset versions read',
			(run.inputs || []).length
				? h('ul', null, run.inputs.map((i) => h('li', null, h('a', { href: href.datasetVersion(p, i.dataset, i.version) }, `${i.dataset} ${version(i.version)}`))))
				: emptyState('No inputs recorded.', 'Runs name the dataset versions they read in "inputs"; that links models to their data.'),
		),
		modelsPanel(p, registered),
		panel('run-metrics', 'Metrics', metrics.el),
		panel('run-artifacts', 'Artifacts', artifacts),
	);
	const cleanups = metrics.draws.map((draw) => draw());
	return () => cleanups.forEach((c) => c());
}

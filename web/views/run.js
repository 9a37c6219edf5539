// views/run.js: one run (#/projects/P/runs/ID): status, times, params, tags and the dataset
// versions it read. Metric charts belong to the runs work on another branch: they go in the
// slot marked below (a panel after the inputs).
import * as api from '../api.js';
import { projectPage, href, version, stateBadge } from './registry.js';
import { h, mount, table, time, facts, chips, panel, emptyState } from '../ui.js';

export async function render(root, ctx) {
	const id = ctx.params.run;
	const run = await api.get(`/runs/${api.seg(id)}`);
	const { project, header } = await projectPage(ctx, 'runs', {
		title: `Run ${run.name || id}`,
		crumbs: [['Runs', href.runs(ctx.params.project)], [run.name || id]],
		intro: null,
	});
	if (!ctx.alive()) return;
	const p = project.name;
	const kvTable = (caption, obj) => {
		const rows = Object.entries(obj || {}).map(([k, v]) => ({ k, v }));
		return rows.length
			? table({ caption, columns: [{ label: 'Name', cell: (r) => h('code', null, r.k) }, { label: 'Value', cell: (r) => h('code', null, String(r.v)) }], rows })
			: h('p', { class: 'muted' }, 'None.');
	};
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
				['By', run.created_by || null],
				['Job', run.job_id ?? null],
				['Tags', chips(run.tags)],
			]),
		),
		panel('run-params', 'Params', kvTable('Params', run.params)),
		panel(
			'run-inputs',
			'Dataset versions read',
			(run.inputs || []).length
				? h('ul', null, run.inputs.map((i) => h('li', null, h('a', { href: href.datasetVersion(p, i.dataset, i.version) }, `${i.dataset} ${version(i.version)}`))))
				: emptyState('No inputs recorded.', 'Runs name the dataset versions they read in "inputs"; that links models to their data.'),
		),
		// Extension point: metric charts of the run (metrics branch).
	);
}

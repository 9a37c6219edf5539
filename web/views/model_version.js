// views/model_version.js: one model version (#/projects/P/models/M/versions/N): what it is
// (state, aliases, source run, framework, signature), its files (download, sha256), and its
// lineage from GET /model-versions/{id}/lineage: a graph dataset versions -> run -> this
// version -> the deployments serving it (links to their pages), and the sha256 of every
// dataset file it was trained on.
import * as api from '../api.js';
import { lineageGraph } from '../lineage.js';
import { projectPage, href, path, version, stateBadge, filesTable } from './registry.js';
import { h, mount, table, time, emptyState, facts, chips, bytes, fmtBytes, jsonBlock, panel, copyButton } from '../ui.js';

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function graph(lin, p) {
	const mv = lin.model_version;
	const run = lin.run;
	const datasets = lin.datasets || [];
	const deployments = lin.deployments || [];
	return lineageGraph(`Lineage of ${mv.model} ${version(mv.version)}`, [
		{
			title: 'Dataset versions',
			nodes: datasets.length
				? datasets.map((d) => ({
						kind: 'dataset',
						title: `${d.dataset} ${version(d.version)}`,
						detail: `${d.project === p ? '' : `${d.project} · `}${plural(d.file_count, 'file')} · ${fmtBytes(d.total_bytes)}`,
						href: href.datasetVersion(d.project, d.dataset, d.version),
					}))
				: [{ kind: 'dataset', title: 'No dataset versions', detail: run ? 'the run named no inputs' : 'no run recorded' }],
		},
		{
			title: 'Run',
			nodes: [
				run
					? { kind: 'run', title: run.name || `run ${run.id}`, detail: `${run.status} · run ${run.id}${lin.job ? ` · job ${lin.job.id}` : ''}`, href: href.run(p, run.id) }
					: { kind: 'run', title: 'No run recorded', detail: 'no source_run given' },
			],
		},
		{
			title: 'Model version',
			nodes: [{ kind: 'model', title: `${mv.model} ${version(mv.version)}`, detail: mv.state, href: href.modelVersion(mv.project, mv.model, mv.version), current: true }],
		},
		{
			title: 'Deployments',
			nodes: deployments.length
				? deployments.map((d) => ({
						kind: 'deployment',
						title: d.name,
						detail: `${d.state} · ${d.weight} %${d.stable ? ' stable' : ' canary'}`,
						href: href.deployment(d.name),
					}))
				: [{ kind: 'deployment', title: 'No deployments', detail: 'none yet' }],
		},
	]);
}

function datasetFiles(lin) {
	const rows = (lin.datasets || []).flatMap((d) => d.files.map((f) => ({ ...f, d })));
	const truncated = (lin.datasets || []).filter((d) => d.truncated);
	if (!rows.length) return emptyState('No dataset files.', 'The files of the dataset versions the run read are listed here, with their sha256.');
	return [
		table({
			caption: 'Files of the dataset versions it was trained on',
			rowKey: (r) => `${r.d.dataset_version_id}/${r.path}`,
			rows,
			columns: [
				{ label: 'Dataset version', cell: (r) => h('a', { href: href.datasetVersion(r.d.project, r.d.dataset, r.d.version) }, `${r.d.dataset} ${version(r.d.version)}`) },
				{ label: 'Path', cell: (r) => h('code', null, r.path) },
				{ label: 'Size', cell: (r) => bytes(r.size), class: 'num' },
				{ label: 'sha256', cell: (r) => h('span', { class: 'hash' }, h('code', { class: 'sha-full' }, r.sha256), copyButton(r.sha256, 'Copy', `sha256 of ${r.path}`)) },
			],
		}),
		truncated.length ? h('p', { class: 'muted note' }, `Only the first files of ${truncated.map((d) => `${d.dataset} ${version(d.version)}`).join(', ')} are listed; their version pages have all of them.`) : null,
	];
}

export async function render(root, ctx) {
	const { project: pn, model: mn, version: vn } = ctx.params;
	const { project, header } = await projectPage(ctx, 'models', {
		title: `${mn} ${version(vn)}`,
		crumbs: [['Models', href.models(pn)], [mn, href.model(pn, mn)], [version(vn)]],
		intro: null,
	});
	const p = project.name;
	const vpath = path.modelVersion(p, mn, vn);
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const v = await api.get(vpath);
	const [lin, files] = await Promise.all([api.get(`/model-versions/${v.id}/lineage`), filesTable(`${vpath}/files`, `Files of ${mn} ${version(v.version)}`, errSlot)]);
	if (!ctx.alive()) return;
	mount(
		root,
		header,
		panel(
			'mv-about',
			'About this version',
			facts([
				['State', stateBadge(v.state)],
				['Aliases', chips(v.aliases, 'alias')],
				['Description', v.description || null],
				['Framework', v.framework || null],
				['Source run', v.source_run ? h('a', { href: href.run(p, v.source_run) }, lin.run ? `${lin.run.name} (run ${v.source_run})` : `run ${v.source_run}`) : null],
				['Made by job', v.source_job_id ?? null],
				['Size', [bytes(v.total_bytes), ` in ${plural(v.file_count, 'file')}`]],
				['Created', [time(v.created_at), v.created_by ? ` by ${v.created_by}` : '']],
				['Committed', v.committed_at ? time(v.committed_at) : null],
				['Signature', v.signature == null ? null : jsonBlock(v.signature)],
			]),
			h('p', null, h('a', { href: href.model(p, mn) }, `Aliases and promotions of ${mn}`)),
		),
		panel(
			'lineage-title',
			'Lineage',
			h('p', { class: 'muted' }, 'Where this version came from: the dataset versions its run read, the run, and where it is served. Each box opens its page.'),
			h('div', { class: 'graph-wrap' }, graph(lin, p)),
			h('h3', null, 'Dataset files it was trained on'),
			datasetFiles(lin),
		),
		h('h2', null, `Files (${v.file_count})`),
		errSlot,
		files.first.length ? [files, files.more] : emptyState('No files in this version.'),
	);
}

// views/dataset_version.js: one dataset version (#/projects/P/datasets/D/versions/N): what
// it is (state, message, parent, rows, schema, metadata), its files (paginated; size, sha256
// with copy, download) and, with ?against=M, what changed from version M (added, removed,
// changed paths); its lineage both ways (GET …/lineage): the job that made it (a link, with
// the model version it ran and the versions it read) and what used it: the runs that read it
// and the model versions made from those runs.
import * as api from '../api.js';
import { projectPage, href, path, version, stateBadge, filesTable } from './registry.js';
import {
	h, mount, table, time, emptyState, showError, bytes, facts, hash, jsonBlock, panel, field, select,
	form,
} from '../ui.js';

// Where the version came from and what it fed (the lineage endpoint's job, inputs, used_by).
function lineagePanel(lin, p) {
	const proj = (o) => o.project || p;
	const made = lin.job
		? [
				h('a', { href: href.job(lin.job.id) }, `job #${lin.job.id} ${lin.job.name || ''}`.trim()),
				` (${lin.job.kind}, ${lin.job.state})`,
				lin.model_version ? [' with ', h('a', { href: href.modelVersion(proj(lin.model_version), lin.model_version.model, lin.model_version.version) }, `${lin.model_version.model} ${version(lin.model_version.version)}`)] : null,
				lin.inputs?.length ? [' from ', lin.inputs.map((i, k) => [k ? ', ' : '', h('a', { href: href.datasetVersion(proj(i), i.dataset, i.version) }, `${i.dataset} ${version(i.version)}`)])] : null,
			]
		: h('span', { class: 'muted' }, 'uploaded, not made by a job');
	const runs = lin.used_by?.runs || [];
	const mvs = lin.used_by?.model_versions || [];
	return panel(
		'dv-lineage',
		'Lineage',
		facts([['Made by', made]]),
		h('h3', null, `Used by runs (${runs.length})`),
		runs.length
			? table({
					caption: 'Runs that read this version',
					rowKey: (r) => String(r.id),
					rows: runs,
					columns: [
						{ label: 'Run', cell: (r) => h('a', { href: href.run(proj(r), r.id) }, `${r.name || 'run'} (#${r.id})`) },
						{ label: 'Status', cell: (r) => stateBadge(r.status) },
						{ label: 'Job', cell: (r) => (r.job_id ? h('a', { href: href.job(r.job_id) }, `#${r.job_id}`) : '') },
					],
				})
			: h('p', { class: 'muted' }, 'No run has read it yet.'),
		h('h3', null, `Model versions made from it (${mvs.length})`),
		mvs.length
			? table({
					caption: 'Model versions made from the runs that read it',
					rowKey: (m) => String(m.id),
					rows: mvs,
					columns: [
						{ label: 'Model version', cell: (m) => h('a', { href: href.modelVersion(proj(m), m.model, m.version) }, `${m.model} ${version(m.version)}`) },
						{ label: 'State', cell: (m) => stateBadge(m.state) },
					],
				})
			: h('p', { class: 'muted' }, 'None yet.'),
	);
}

function diffPanel(diff, p, d) {
	const list = (title, kind, rows, columns) =>
		h(
			'section',
			{ class: `diff-part diff-${kind}`, 'aria-label': title },
			h('h3', null, title, ` (${rows.length})`),
			rows.length ? table({ caption: title, columns, rows, rowKey: (f) => f.path }) : h('p', { class: 'muted' }, 'None.'),
		);
	const plain = [
		{ label: 'Path', cell: (f) => h('code', null, f.path) },
		{ label: 'Size', cell: (f) => bytes(f.size), class: 'num' },
		{ label: 'sha256', cell: (f) => hash(f.sha256) },
	];
	const changed = [
		{ label: 'Path', cell: (f) => h('code', null, f.path) },
		{ label: 'Size', cell: (f) => [bytes(f.old_size), ' → ', bytes(f.new_size)], class: 'num' },
		{ label: 'Old sha256', cell: (f) => hash(f.old_sha256) },
		{ label: 'New sha256', cell: (f) => hash(f.new_sha256) },
	];
	return panel(
		'diff-title',
		`Changes from ${version(diff.from)} to ${version(diff.to)}`,
		h(
			'p',
			{ class: 'diff-summary' },
			`${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged} unchanged.`,
			diff.truncated ? ' Each list shows its first 1000 paths.' : '',
			' ',
			h('a', { href: href.datasetVersion(p, d, diff.to) }, 'Hide the changes'),
		),
		list('Added', 'added', diff.added, plain),
		list('Removed', 'removed', diff.removed, plain),
		list('Changed', 'changed', diff.changed, changed),
	);
}

// Picks the version to compare with: the one in the address, else the parent, else the one before.
function compareForm(ctx, versions, v, against) {
	const others = versions.filter((o) => o.version !== v.version);
	if (!others.length) return null;
	const before = others.filter((o) => o.version < v.version).pop() || others[0];
	const chosen = String(against || v.parent_version || before.version);
	return form({
		className: 'form inline compare',
		submitLabel: 'Compare',
		submitClass: '',
		fields: [field('Compare with', select('against', others.map((o) => [String(o.version), `${version(o.version)} (${o.state})`]), chosen))],
		onSubmit: async (v) => ctx.setQuery({ against: v.against }),
	});
}

export async function render(root, ctx) {
	const { project: pn, dataset: d, version: vn } = ctx.params;
	const { project, header } = await projectPage(ctx, 'datasets', {
		title: `${d} ${version(vn)}`,
		crumbs: [['Datasets', href.datasets(pn)], [d, href.dataset(pn, d)], [version(vn)]],
		intro: null,
	});
	const p = project.name;
	const vpath = path.datasetVersion(p, d, vn);
	const against = ctx.query.get('against');
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const diffSlot = h('div', { 'aria-live': 'polite' });
	const [v, versions, files, lin] = await Promise.all([
		api.get(vpath),
		api.listAll(`${path.dataset(p, d)}/versions`, {}, 1000),
		filesTable(`${vpath}/files`, `Files of ${d} ${version(vn)}`, errSlot),
		api.get(`${vpath}/lineage`),
	]);
	if (against) {
		try {
			diffSlot.replaceChildren(diffPanel(await api.get(`${vpath}/diff`, { against }), p, d));
		} catch (err) {
			showError(diffSlot, err); // a bad ?against= is the user's to fix, not a broken page
		}
	}
	if (!ctx.alive()) return;
	mount(
		root,
		header,
		panel(
			'dv-about',
			'About this version',
			facts([
				['State', [stateBadge(v.state), v.state === 'draft' ? ' files may still change until it is committed' : '']],
				['Message', v.message || null],
				['Parent', v.parent_version ? h('a', { href: href.datasetVersion(p, d, v.parent_version) }, version(v.parent_version)) : null],
				['Files', String(v.file_count)],
				['Size', bytes(v.total_bytes)],
				['Rows', v.rows ?? null],
				['Created', [time(v.created_at), v.created_by ? ` by ${v.created_by}` : '']],
				['Committed', v.committed_at ? time(v.committed_at) : null],
				['Made by job', v.source_job_id ? h('a', { href: href.job(v.source_job_id) }, `job #${v.source_job_id}`) : null],
				['Schema', v.schema == null ? null : jsonBlock(v.schema)],
				['Metadata', v.metadata == null ? null : jsonBlock(v.metadata)],
			]),
			compareForm(ctx, versions, v, against),
		),
		diffSlot,
		lineagePanel(lin, p),
		h('h2', null, `Files (${v.file_count})`),
		h('p', { class: 'muted' }, 'Downloads use your sign-in; the file passes through this tab, so very large files are better fetched with curl.'),
		errSlot,
		files.first.length ? [files, files.more] : emptyState('No files in this version.', v.state === 'draft' ? 'Upload files into the draft with PUT …/files/PATH, then commit it.' : null),
	);
}

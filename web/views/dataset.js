// views/dataset.js: one dataset (#/projects/P/datasets/D): its versions, oldest first, with
// state (draft or committed), files, size, message and author; each links to its files and
// to its differences from its parent.
import * as api from '../api.js';
import { projectPage, href, path, version, stateBadge } from './registry.js';
import { h, mount, pagedTable, time, emptyState, bytes, facts, chips, panel, showError } from '../ui.js';

export async function render(root, ctx) {
	const d = ctx.params.dataset;
	const { project, header } = await projectPage(ctx, 'datasets', {
		title: `Dataset ${d}`,
		crumbs: [['Datasets', href.datasets(ctx.params.project)], [d]],
		intro: null,
	});
	const p = project.name;
	const ds = await api.get(path.dataset(p, d));
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const columns = [
		{ label: 'Version', cell: (v) => h('strong', null, h('a', { href: href.datasetVersion(p, d, v.version) }, version(v.version))) },
		{ label: 'State', cell: (v) => stateBadge(v.state) },
		{ label: 'Message', cell: (v) => v.message || '' },
		{ label: 'Files', cell: (v) => String(v.file_count), class: 'num' },
		{ label: 'Size', cell: (v) => bytes(v.total_bytes), class: 'num' },
		{ label: 'Rows', cell: (v) => (v.rows ?? '—'), class: 'num' },
		{
			label: 'Parent',
			cell: (v) =>
				v.parent_version
					? [h('a', { href: href.datasetVersion(p, d, v.parent_version) }, version(v.parent_version)), ' (', h('a', { href: href.datasetVersion(p, d, v.version, v.parent_version) }, 'changes'), ')']
					: h('span', { class: 'muted' }, '—'),
		},
		{ label: 'Created by', cell: (v) => v.created_by || '' },
		{ label: 'Created', cell: (v) => time(v.created_at) },
		{ label: 'Committed', cell: (v) => time(v.committed_at) },
	];
	const list = await pagedTable(new api.Pager(`${path.dataset(p, d)}/versions`), { caption: `Versions of ${d}`, columns, rowKey: (v) => String(v.version) }, (err) =>
		showError(errSlot, err),
	);
	if (!ctx.alive()) return;
	mount(
		root,
		header,
		panel(
			'ds-about',
			'About',
			facts([
				['Description', ds.description || h('span', { class: 'muted' }, 'none')],
				['Tags', chips(ds.tags)],
				['Latest committed', ds.latest_version ? h('a', { href: href.datasetVersion(p, d, ds.latest_version) }, version(ds.latest_version)) : 'none yet'],
				['Created', [time(ds.created_at), ds.created_by ? ` by ${ds.created_by}` : '']],
			]),
		),
		h('h2', null, 'Versions'),
		errSlot,
		list.first.length ? [list, list.more] : emptyState('No versions yet.', 'A version starts as a draft: upload its files, then commit it.'),
	);
}

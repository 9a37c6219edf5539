// views/datasets.js: a project's Datasets tab: each dataset with its versions and the
// newest committed one. Datasets are made from scripts (files are uploaded with PUT), so the
// empty state shows how.
import * as api from '../api.js';
import { projectListPage, href, version, canEdit } from './registry.js';
import { h, time, emptyState, chips, snippet } from '../ui.js';

const columns = (p) => [
	{ label: 'Dataset', cell: (d) => h('strong', null, h('a', { href: href.dataset(p, d.name) }, d.name)) },
	{ label: 'Description', cell: (d) => d.description || '' },
	{ label: 'Versions', cell: (d) => String(d.version_count), class: 'num' },
	{
		label: 'Latest committed',
		cell: (d) => (d.latest_version ? h('a', { href: href.datasetVersion(p, d.name, d.latest_version) }, version(d.latest_version)) : h('span', { class: 'muted' }, 'none yet')),
	},
	{ label: 'Tags', cell: (d) => chips(d.tags) },
	{ label: 'Created by', cell: (d) => d.created_by || '' },
	{ label: 'Updated', cell: (d) => time(d.updated_at) },
];

function empty(project) {
	const p = project.name;
	const base = `${location.origin}/api/v1/projects/${p}/datasets`;
	if (!canEdit(project)) return emptyState(`No datasets in ${p} yet.`, 'Editors of the project add datasets from their scripts.');
	return emptyState(
		`No datasets in ${p} yet.`,
		'Make one, upload its files into a draft version, then commit it (a committed version never changes):',
		snippet(
			`curl -X POST ${base} -H "Authorization: Bearer $TOKEN" -d '{"name": "photos"}'\n` +
				`curl -X POST ${base}/photos/versions -H "Authorization: Bearer $TOKEN" -d '{}'\n` +
				`curl -X PUT ${base}/photos/versions/1/files/labels.csv -H "Authorization: Bearer $TOKEN" --data-binary @labels.csv\n` +
				`curl -X POST ${base}/photos/versions/1/commit -H "Authorization: Bearer $TOKEN" -d '{}'`,
		),
	);
}

export function render(root, ctx) {
	return projectListPage(
		root,
		ctx,
		'datasets',
		'Datasets',
		(p) => ({ pager: new api.Pager(`/projects/${api.seg(p)}/datasets`), caption: `Datasets of ${p}`, columns: columns(p), rowKey: (d) => d.name }),
		empty,
	);
}

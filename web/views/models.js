// views/models.js: a project's Models tab: registered models with their version counts, the
// newest committed version and their aliases (staging, production, ...).
import * as api from '../api.js';
import { projectListPage, href, version, aliasChips } from './registry.js';
import { h, time, emptyState, chips, snippet } from '../ui.js';

const columns = (p) => [
	{ label: 'Model', cell: (m) => h('strong', null, h('a', { href: href.model(p, m.name) }, m.name)) },
	{ label: 'Description', cell: (m) => m.description || '' },
	{ label: 'Versions', cell: (m) => String(m.version_count), class: 'num' },
	{
		label: 'Latest committed',
		cell: (m) => (m.latest_version ? h('a', { href: href.modelVersion(p, m.name, m.latest_version) }, version(m.latest_version)) : h('span', { class: 'muted' }, 'none yet')),
	},
	{ label: 'Aliases', cell: (m) => aliasChips(p, m.name, m.aliases) },
	{ label: 'Tags', cell: (m) => chips(m.tags) },
	{ label: 'Updated', cell: (m) => time(m.updated_at) },
];

const empty = ({ name: p }) =>
	emptyState(
		`No models in ${p} yet.`,
		'Register a model, then add versions from the runs that trained them (each version can name its source run, which links it to its data):',
		snippet(
			`curl -X POST ${location.origin}/api/v1/projects/${p}/models -H "Authorization: Bearer $TOKEN" -d '{"name": "detector"}'\n` +
				`curl -X POST ${location.origin}/api/v1/projects/${p}/models/detector/versions -H "Authorization: Bearer $TOKEN" -d '{"source_run": RUN_ID}'`,
		),
	);

export function render(root, ctx) {
	return projectListPage(
		root,
		ctx,
		'models',
		'Models',
		(p) => ({ pager: new api.Pager(`/projects/${api.seg(p)}/models`), caption: `Models of ${p}`, columns: columns(p), rowKey: (m) => m.name }),
		empty,
	);
}

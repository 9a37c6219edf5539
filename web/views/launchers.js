// views/launchers.js: a project's Launchers tab: each launcher (a job spec with typed
// parameters) with its latest version, its parameters and how many jobs it ran. A launcher's
// own page (launcher.js) has the form that runs it. Launchers are made with the API, so the
// empty state shows how.
import * as api from '../api.js';
import { projectListPage, href, version, canEdit } from './registry.js';
import { h, time, emptyState, chips, snippet } from '../ui.js';

const columns = (p) => [
	{ label: 'Launcher', cell: (l) => h('strong', null, h('a', { href: href.launcher(p, l.name) }, l.name)) },
	{ label: 'Description', cell: (l) => l.description || '' },
	{ label: 'Version', cell: (l) => version(l.version) },
	{ label: 'Parameters', cell: (l) => chips((l.parameters || []).map((x) => `${x.name}: ${x.type}`)) },
	{ label: 'Jobs', cell: (l) => String(l.job_count), class: 'num' },
	{ label: 'Updated', cell: (l) => time(l.updated_at) },
];

function empty(project) {
	const p = project.name;
	if (!canEdit(project)) return emptyState(`No launchers in ${p} yet.`, 'Editors of the project publish launchers: a job anyone with the launcher role runs from a form.');
	return emptyState(
		`No launchers in ${p} yet.`,
		'A launcher is a job spec with typed parameters, run from a form without touching its code:',
		snippet(
			`curl -X POST ${location.origin}/api/v1/projects/${p}/launchers -H "Authorization: Bearer $TOKEN" \\\n` +
				`  -d '{"name": "train", "spec": {"command": ["python", "train.py", "--lr={{lr}}"]}, "parameters": [{"name": "lr", "type": "float", "default": 0.01, "min": 0, "max": 1}]}'`,
		),
	);
}

export function render(root, ctx) {
	return projectListPage(
		root,
		ctx,
		'launchers',
		'Launchers',
		(p) => ({ pager: new api.Pager(`/projects/${api.seg(p)}/launchers`), caption: `Launchers of ${p}`, columns: columns(p), rowKey: (l) => l.name }),
		empty,
	);
}

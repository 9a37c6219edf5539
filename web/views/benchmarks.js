// views/benchmarks.js: a project's Benchmarks tab: each benchmark with its ground truth (a
// committed dataset version's file), its metrics and its primary one, and how many
// evaluations it holds. Benchmarks are made from scripts, so the empty state shows how.
import * as api from '../api.js';
import { projectListPage, href, version, canEdit } from './registry.js';
import { h, time, emptyState, chips, snippet } from '../ui.js';

const columns = (p) => [
	{ label: 'Benchmark', cell: (b) => h('strong', null, h('a', { href: href.benchmark(p, b.name) }, b.name)) },
	{ label: 'Description', cell: (b) => b.description || '' },
	{
		label: 'Ground truth',
		cell: (b) => [h('a', { href: href.datasetVersion(p, b.dataset.name, b.dataset.version) }, `${b.dataset.name} ${version(b.dataset.version)}`), ' ', h('code', null, b.file)],
	},
	{ label: 'Primary metric', cell: (b) => h('code', null, b.primary_metric) },
	{ label: 'Metrics', cell: (b) => chips(b.metrics.map((m) => m.name)) },
	{ label: 'Evaluations', cell: (b) => String(b.evaluation_count), class: 'num' },
	{ label: 'Created', cell: (b) => time(b.created_at) },
];

function empty(project) {
	const p = project.name;
	const base = `${location.origin}/api/v1/projects/${p}/benchmarks`;
	if (!canEdit(project)) return emptyState(`No benchmarks in ${p} yet.`, 'Editors of the project make benchmarks from their scripts.');
	return emptyState(
		`No benchmarks in ${p} yet.`,
		'A benchmark scores predictions against the ground truth in a committed dataset version:',
		snippet(
			`curl -X POST ${base} -H "Authorization: Bearer $TOKEN" \\\n` +
				`  -d '{"name": "holdout", "dataset": "labels", "version": 1, "file": "truth.csv", "metrics": [{"name": "accuracy"}]}'\n` +
				`curl -X POST "${base}/holdout/evaluations?model=MODEL&version=1" -H "Authorization: Bearer $TOKEN" --data-binary @predictions.csv`,
		),
	);
}

export function render(root, ctx) {
	return projectListPage(
		root,
		ctx,
		'benchmarks',
		'Benchmarks',
		(p) => ({ pager: new api.Pager(`/projects/${api.seg(p)}/benchmarks`), caption: `Benchmarks of ${p}`, columns: columns(p), rowKey: (b) => b.name }),
		empty,
	);
}

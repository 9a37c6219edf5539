// views/runs.js: a project's Runs tab: the runs, newest first, with status, params and times.
//
// Extension point (metrics, filters, compare: another branch): the table's columns are
// RUN_COLUMNS below and the list comes from runsPager(); metric columns, a filter form (kept
// in the address through ctx.setQuery) and a "compare selected" action plug in here without
// touching the rest. The run page (views/run.js) has the same kind of hook for charts.
import * as api from '../api.js';
import { projectListPage, href, stateBadge } from './registry.js';
import { h, time, emptyState, chips, snippet } from '../ui.js';

export const RUN_COLUMNS = (p) => [
	{ label: 'Run', cell: (r) => h('strong', null, h('a', { href: href.run(p, r.id) }, r.name || `run ${r.id}`)) },
	{ label: 'Status', cell: (r) => stateBadge(r.status) },
	{ label: 'Params', cell: (r) => chips(r.params) },
	{ label: 'Started', cell: (r) => time(r.started_at) },
	{ label: 'Ended', cell: (r) => time(r.ended_at) },
	{ label: 'By', cell: (r) => r.created_by || '' },
];

// The runs list; query holds the filters the API takes.
export const runsPager = (p, query = {}) => new api.Pager(`/projects/${api.seg(p)}/runs`, query);

const empty = ({ name: p }) =>
	emptyState(
		`No runs in ${p} yet.`,
		'Training code records a run with its parameters and the dataset versions it read (that is the lineage from data to models):',
		snippet(
			`curl -X POST ${location.origin}/api/v1/projects/${p}/runs -H "Authorization: Bearer $TOKEN" \\\n` +
				`  -d '{"name": "baseline", "params": {"lr": "0.01"}, "inputs": [{"dataset": "photos", "version": "latest"}]}'`,
		),
	);

export function render(root, ctx) {
	return projectListPage(root, ctx, 'runs', 'Runs', (p) => ({ pager: runsPager(p), caption: `Runs of ${p}`, columns: RUN_COLUMNS(p), rowKey: (r) => String(r.id) }), empty);
}

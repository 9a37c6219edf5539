// views/sweeps.js: a project's Sweeps tab: each sweep (a launcher over a search space with
// ASHA early stopping) with its state, its trials so far and its best value. Sweeps are
// started from scripts (POST .../sweeps), so the empty state shows how.
import * as api from '../api.js';
import { projectListPage, href, stateBadge, canEdit } from './registry.js';
import { h, time, emptyState, snippet, fmtNum } from '../ui.js';

const columns = (p) => [
	{ label: 'Sweep', cell: (s) => h('strong', null, h('a', { href: href.sweep(p, s.id) }, s.name)) },
	{ label: 'State', cell: (s) => stateBadge(s.state) },
	{ label: 'Launcher', cell: (s) => [h('code', null, s.launcher || '—'), ` v${s.launcher_version}`] },
	{ label: 'Method', cell: (s) => s.method + (s.asha ? ' + ASHA' : '') },
	{ label: 'Trials', cell: (s) => `${s.trial_count} of ${s.max_trials}`, class: 'num' },
	{ label: 'Running', cell: (s) => String(s.running), class: 'num' },
	{ label: 'Stopped early', cell: (s) => String(s.stopped), class: 'num' },
	{ label: `Best`, cell: (s) => (s.best_trial ? [h('code', null, s.metric), ` ${fmtNum(s.best_trial.value)}`] : '—'), class: 'num' },
	{ label: 'Started', cell: (s) => time(s.created_at) },
];

function empty(project) {
	const p = project.name;
	if (!canEdit(project)) return emptyState(`No sweeps in ${p} yet.`, 'Editors of the project start sweeps over its launchers.');
	return emptyState(
		`No sweeps in ${p} yet.`,
		'A sweep runs a launcher over a search space and stops the trials that fall behind (ASHA):',
		snippet(
			`curl -X POST ${location.origin}/api/v1/projects/${p}/sweeps -H "Authorization: Bearer $TOKEN" \\\n` +
				`  -d '{"name": "lr-search", "launcher": "train", "method": "random", "max_trials": 50, "parallelism": 4,\n` +
				`       "search_space": {"lr": {"type": "log_uniform", "min": 1e-5, "max": 1e-1}},\n` +
				`       "metric": "val_loss", "direction": "minimize", "asha": {"min_resource": 1, "eta": 3}}'`,
		),
	);
}

export function render(root, ctx) {
	return projectListPage(
		root,
		ctx,
		'sweeps',
		'Sweeps',
		(p) => ({ pager: new api.Pager(`/projects/${api.seg(p)}/sweeps`), caption: `Sweeps of ${p}`, columns: columns(p), rowKey: (s) => `sweep-${s.id}` }),
		empty,
	);
}

// views/deployments.js: the deployments, by id: Compute -> Deployments (#/deployments: every
// project the caller may read, admins all; filters state and project, from GET /deployments)
// and a project's Deployments tab (#/projects/P/deployments). Each row: state, model, the
// versions serving and their share of the traffic, replicas ready, the latest rollout. Also
// exports what the deployment page shares (state, traffic, the curl that creates one).
import * as api from '../api.js';
import { projectPage, href, stateBadge, version } from './registry.js';
import { h, mount, pageHeader, pagedTable, time, emptyState, showError, field, select, snippet, chips, spaced, poll } from '../ui.js';
import { REFRESH_MS } from './jobs.js';

export const STATES = ['deploying', 'ready', 'degraded', 'failed'];

// The deployment's state, with its message ('1 of 2 replicas ready') as a tooltip.
export const deploymentState = (d) => h('span', { class: 'job-state', title: d.message || null }, stateBadge(d.state));

// 'v1 80 % · v2 20 % (canary)': the versions serving and their share of the requests.
export function trafficText(d) {
	const tracks = d.traffic || [];
	if (!tracks.length) return h('span', { class: 'muted' }, 'none');
	return spaced(
		tracks.map((t) =>
			h(
				'span',
				{ class: 'traffic-part', dataset: { version: t.version } },
				`${version(t.version)} ${t.weight} %`,
				t.stable ? null : h('span', { class: 'muted' }, t.weight ? ' (canary)' : ' (new)'),
			),
		),
	);
}

// '2 / 2': the replicas ready of those its versions should have (a canary's included).
export function replicasText(d) {
	const tracks = d.traffic || [];
	if (!tracks.length) return `${d.ready_replicas} / ${d.replicas}`;
	return `${tracks.reduce((n, t) => n + t.ready_replicas, 0)} / ${tracks.reduce((n, t) => n + t.replicas, 0)}`;
}

// The latest rollout in a few words: 'canary in progress', 'rolling succeeded'.
export function rolloutText(ro) {
	if (!ro) return h('span', { class: 'muted' }, '—');
	return h('span', { class: 'rollout' }, `${ro.kind} `, stateBadge(ro.state));
}

// The curl that creates a deployment (what an empty list says to do).
export function createSnippet(project, model) {
	return snippet(
		`curl -X POST ${location.origin}/api/v1/projects/${project || 'PROJECT'}/deployments -H "Authorization: Bearer $TOKEN" \\\n` +
			`  -d '{"name": "${model ? `${model}-api` : 'my-model'}", "model": "${model || 'MODEL'}", "version": "production", "replicas": 1,\n` +
			`       "command": "tritonserver --model-repository=$ATRIUM_MODEL_DIR --http-port=$PORT"}'`,
		'the command that creates a deployment',
	);
}

function columns(global) {
	return [
		{ label: 'Deployment', cell: (d) => h('strong', { class: 'dep-name' }, h('a', { href: href.deployment(d.name) }, d.name)) },
		{ label: 'State', cell: deploymentState },
		global ? { label: 'Project', cell: (d) => h('a', { href: href.deployments(d.project) }, d.project) } : null,
		{ label: 'Model', cell: (d) => h('a', { href: href.model(d.project, d.model) }, d.model) },
		{ label: 'Traffic', cell: trafficText },
		{ label: 'Follows', cell: (d) => (d.follows ? chips([d.follows], 'alias') : h('span', { class: 'muted' }, 'pinned')) },
		{ label: 'Replicas ready', cell: replicasText, class: 'num' },
		{ label: 'Latest rollout', cell: (d) => rolloutText(d.rollout) },
		{ label: 'Created', cell: (d) => time(d.created_at) },
	].filter(Boolean);
}

/*
 * Keeps the shown rows current (states, traffic and replicas move during rollouts): every
 * REFRESH_MS (not while the tab is hidden) the first page is fetched again and the rows it
 * has are redrawn. Deployments made since appear with Refresh.
 */
function autoRefresh(query, t, shown, ctx, status, errSlot) {
	return poll(async () => {
		if (!ctx.alive()) return false;
		try {
			const page = await api.get('/deployments', { ...query, limit: 50 });
			if (!ctx.alive()) return false;
			for (const d of page.items || []) if (shown.has(d.name)) t.updateRow(d);
			showError(errSlot, null);
			status.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC; refreshes every ${REFRESH_MS / 1000} s.`;
		} catch (err) {
			showError(errSlot, err);
		}
		return true;
	}, REFRESH_MS);
}

// The filter controls (state; project on the global list); each change goes in the address.
async function filters(ctx, global, f) {
	const controls = [['state', 'State', select('state', [['', 'Any'], ...STATES.map((s) => [s, s])], f.state)]];
	if (global) {
		const projects = await api.listAll('/projects', {}, 1000);
		controls.push(['project', 'Project', select('project', [['', 'Any'], ...projects.map((p) => [p.name, p.name])], f.project)]);
	}
	const apply = () => ctx.setQuery(Object.fromEntries(controls.map(([k, , el]) => [k, el.value])));
	for (const [, , el] of controls) el.addEventListener('change', apply);
	return h(
		'form',
		{ class: 'controls filters-row', role: 'search', 'aria-label': 'Filter deployments', onSubmit: (e) => (e.preventDefault(), apply()) },
		controls.map(([, label, el]) => field(label, el)),
		Object.values(f).some(Boolean) ? h('button', { type: 'button', class: 'link clear', onClick: () => ctx.setQuery({}) }, 'Clear filters') : null,
	);
}

function empty(project, filtered) {
	if (filtered) return emptyState('No deployment matches these filters.');
	return emptyState(
		project ? `No deployments in ${project} yet.` : 'No deployments yet.',
		'A deployment serves a registered model version behind the inference gateway: its replicas run your serving process ' +
			'(Triton, MLServer, a FastAPI app… anything that listens on $PORT and reads the model from $ATRIUM_MODEL_DIR) on the workers. ' +
			'Create one with the API (an editor of the project), then follow it here:',
		createSnippet(project),
	);
}

export async function render(root, ctx) {
	const p = ctx.params.project;
	const global = !p;
	const keys = global ? ['state', 'project'] : ['state'];
	const f = Object.fromEntries(keys.map((k) => [k, ctx.query.get(k) || '']));
	const query = Object.fromEntries(Object.entries(f).filter(([, v]) => v));
	const refresh = h('button', { type: 'button', onClick: () => ctx.setQuery(query) }, 'Refresh');
	let head;
	let project = null;
	if (global) {
		head = pageHeader('Deployments', ctx.isAdmin ? 'Every deployment on the platform.' : 'Deployments of the projects you can read.', refresh);
	} else {
		({ project, header: head } = await projectPage(ctx, 'deployments', { title: 'Deployments', crumbs: [['Deployments']], intro: null, actions: [refresh] }));
	}
	const errSlot = h('div', { 'aria-live': 'assertive' });
	// One endpoint for both: the project tab is the list filtered by its project.
	const listQuery = global ? query : { ...query, project: project.name };
	const pager = new api.Pager('/deployments', listQuery);
	const [t, controls] = await Promise.all([
		pagedTable(pager, { caption: global ? 'Deployments' : `Deployments of ${p}`, columns: columns(global), rowKey: (d) => d.name }, (err) => showError(errSlot, err)),
		filters(ctx, global, f),
	]);
	if (!ctx.alive()) return;
	if (!t.first.length) {
		mount(root, head, controls, errSlot, empty(project?.name, Object.keys(query).length > 0));
		return;
	}
	const status = h('p', { class: 'muted note refresh-status', 'aria-live': 'off' }, `Refreshes every ${REFRESH_MS / 1000} s.`);
	mount(root, head, controls, errSlot, [t, t.more, status]);
	return autoRefresh(listQuery, t, new Set(t.first.map((d) => d.name)), ctx, status, errSlot);
}

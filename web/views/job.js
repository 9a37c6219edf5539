// views/job.js: one job (#/jobs/ID): its state (and why it waits while queued), resources
// asked and GPUs got, worker, attempts, exit code and message, its inputs and outputs (with
// links to the dataset and model versions), its run, its events as a timeline, and its log
// followed live (logview.js). Editors of its project cancel it. While it is active the page
// polls the job (not while the tab is hidden) and redraws what changed.
import * as api from '../api.js';
import { logView } from '../logview.js';
import { href, version, canEdit, filesTable } from './registry.js';
import { jobState, jobName, isActive, workerCell, cancelButton, REFRESH_MS } from './jobs.js';
import {
	h, mount, pageHeader, breadcrumb, facts, panel, time, span, chips, emptyState, showError, poll, fmtBytes,
} from '../ui.js';

const s = api.seg;

function resources(j) {
	const r = j.resources || {};
	const got = j.gpus || [];
	return [
		['GPUs asked', `${r.gpus ?? 0}${r.gpu_type ? ` × ${r.gpu_type}` : ''}`],
		['GPUs got', got.length ? `GPU${got.length > 1 ? 's' : ''} ${got.join(', ')}` : isActive(j) ? 'none yet' : 'none'],
		['CPUs', r.cpus ? String(r.cpus) : null],
		['Memory', r.memory_mb ? fmtBytes(r.memory_mb * 1024 * 1024) : null],
		['Worker labels', Object.keys(j.labels || {}).length ? chips(j.labels) : null],
	];
}

function about(j, ctx) {
	const ran = j.started_at ? span(j.started_at, j.ended_at) + (j.ended_at ? '' : ' so far') : null;
	const waited = j.started_at ? span(j.queued_at, j.started_at) : j.state === 'queued' ? `${span(j.queued_at)} so far` : null;
	return facts([
		['State', jobState(j)],
		['Why it waits', j.state === 'queued' ? h('span', { class: 'pending-reason' }, j.pending_reason || 'waiting for the scheduler') : null],
		['Exit code', j.exit_code ?? null],
		['Message', j.message || null],
		['Worker', j.worker ? workerCell(j, ctx.isAdmin) : null],
		...resources(j),
		['Attempts', `${j.attempts} of ${j.max_attempts}`],
		['Priority', String(j.priority)],
		['Timeout', j.timeout_s ? `${j.timeout_s} s` : null],
		['Kind', j.kind],
		['Project', h('a', { href: href.project(j.project) }, j.project)],
		['Team', j.team || null],
		['Run', j.run_id ? h('a', { href: href.run(j.project, j.run_id) }, `run ${j.run_id}`) : null],
		['Submitted by', j.created_by || null],
		['Submitted', time(j.created_at, true)],
		['Dispatched', j.dispatched_at ? time(j.dispatched_at, true) : null],
		['Started', j.started_at ? time(j.started_at, true) : null],
		['Ended', j.ended_at ? time(j.ended_at, true) : null],
		['Waited', waited],
		['Ran', ran],
	]);
}

function command(j) {
	const cmd = Array.isArray(j.command) ? j.command.map((a) => (/[\s'"$]/.test(a) ? JSON.stringify(a) : a)).join(' ') : String(j.command);
	return [
		h('code', { class: 'block' }, cmd),
		Array.isArray(j.command) ? null : h('p', { class: 'muted note' }, 'Run by /bin/sh -c.'),
		Object.keys(j.env || {}).length ? h('p', null, 'Environment: ', chips(j.env)) : null,
	];
}

// The produced dataset version: the API gives its id only, so it is found in the dataset's versions.
async function datasetVersionLink(j) {
	const d = j.outputs?.dataset;
	if (!d || !j.output_dataset_version_id) return null;
	const versions = await api.listAll(`/projects/${s(j.project)}/datasets/${s(d)}/versions`, {}, 5000).catch(() => []);
	const v = versions.find((x) => x.id === j.output_dataset_version_id);
	return v ? h('a', { href: href.datasetVersion(j.project, d, v.version) }, `${d} ${version(v.version)}`) : `${d} (version id ${j.output_dataset_version_id})`;
}

async function modelVersionLink(id) {
	if (!id) return null;
	try {
		const mv = await api.get(`/model-versions/${id}`);
		return h('a', { href: href.modelVersion(mv.project, mv.model, mv.version) }, `${mv.model} ${version(mv.version)}`);
	} catch (err) {
		return `model version ${id} (${err.message})`;
	}
}

async function inputsOutputs(j, errSlot) {
	const [dsOut, mvOut, mvIn, files] = await Promise.all([
		datasetVersionLink(j),
		modelVersionLink(j.output_model_version_id),
		modelVersionLink(j.model_version_id),
		filesTable(`/jobs/${j.id}/outputs`, `Files job ${j.id} uploaded`, errSlot),
	]);
	const inputs = j.inputs || [];
	const declared = Object.entries(j.outputs || {}).map(([k, name]) => (k === 'model' ? h('a', { href: href.model(j.project, name) }, `model ${name}`) : h('a', { href: href.dataset(j.project, name) }, `dataset ${name}`)));
	return [
		h('h3', null, 'Inputs'),
		inputs.length || mvIn
			? h(
					'ul',
					{ class: 'job-inputs' },
					inputs.map((i) => h('li', null, h('a', { href: href.datasetVersion(j.project, i.dataset, i.version) }, `${i.dataset} ${version(i.version)}`), i.as && i.as !== i.dataset ? ` as ${i.as}` : '')),
					mvIn ? h('li', null, 'model ', mvIn) : null,
				)
			: h('p', { class: 'muted' }, 'No inputs.'),
		h('h3', null, 'Outputs'),
		declared.length || mvOut || dsOut
			? h(
					'ul',
					{ class: 'job-outputs' },
					mvOut ? h('li', null, 'Model version ', mvOut) : null,
					dsOut ? h('li', null, 'Dataset version ', dsOut) : null,
					!mvOut && !dsOut ? declared.map((d) => h('li', null, d, isActive(j) ? ' (made when the job succeeds)' : ' (not made)')) : null,
				)
			: h('p', { class: 'muted' }, 'No outputs declared.'),
		files.first.length ? [files, files.more] : null,
	];
}

function timeline(events) {
	if (!events.length) return emptyState('No events yet.');
	return h(
		'ol',
		{ class: 'timeline job-events' },
		events.map((e) =>
			h(
				'li',
				{ dataset: { to: e.to_state } },
				time(e.created_at, true),
				' ',
				h('strong', null, e.from_state ? `${e.from_state} → ${e.to_state}` : e.to_state),
				e.attempt ? ` (attempt ${e.attempt}${e.worker ? ` on ${e.worker}` : ''})` : '',
				e.message ? h('span', { class: 'muted' }, ` — ${e.message}`) : null,
			),
		),
	);
}

export async function render(root, ctx) {
	let job = await api.get(`/jobs/${s(ctx.params.job)}`);
	const [project, events] = await Promise.all([api.get(`/projects/${s(job.project)}`), api.listAll(`/jobs/${job.id}/events`, {}, 1000)]);
	if (!ctx.alive()) return null;
	document.title = `Job ${job.id} · ${job.project} · Atrium`;
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const title = h('span', { class: 'title-state' });
	const actions = h('div', { class: 'toolbar' });
	const aboutSlot = h('div');
	const eventsSlot = h('div');
	const ioSlot = h('div');

	let drawnState = null;
	const draw = async (j, evs) => {
		job = j;
		mount(title, jobState(j));
		mount(actions, canEdit(project) ? cancelButton(j, errSlot, (done) => refresh(done)) : null);
		mount(aboutSlot, about(j, ctx));
		mount(eventsSlot, timeline(evs));
		// Outputs appear when it ends: read them again only when the state changed.
		if (j.state === drawnState) return;
		drawnState = j.state;
		const io = await inputsOutputs(j, errSlot);
		if (ctx.alive()) mount(ioSlot, io);
	};
	async function refresh(j) {
		try {
			const [fresh, evs] = await Promise.all([j ? Promise.resolve(j) : api.get(`/jobs/${job.id}`), api.listAll(`/jobs/${job.id}/events`, {}, 1000)]);
			if (!ctx.alive()) return;
			showError(errSlot, null);
			await draw(fresh, evs);
		} catch (err) {
			showError(errSlot, err);
		}
	}

	const log = logView(job, { onEnded: (j) => ctx.alive() && refresh(j) });
	await draw(job, events);
	if (!ctx.alive()) return log.stop;
	mount(
		root,
		breadcrumb(['Jobs', '#/jobs'], [job.project, href.jobs(job.project)], [`Job ${job.id}`]),
		pageHeader(h('span', null, `Job ${jobName(job)} `, title), null, actions),
		errSlot,
		h('div', { class: 'split' }, panel('job-about', 'Status', aboutSlot), panel('job-events-title', 'Events', eventsSlot)),
		panel('job-command', 'Command', command(job)),
		panel('job-io', 'Inputs and outputs', ioSlot),
		panel('job-log', 'Log', log.el),
	);
	// Polite polling while the job is active; the log's end triggers one last refresh.
	const stopPoll = isActive(job)
		? poll(async () => {
				if (!ctx.alive()) return false;
				await refresh();
				return isActive(job);
			}, REFRESH_MS)
		: () => {};
	return () => {
		stopPoll();
		log.stop();
	};
}

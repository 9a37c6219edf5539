// views/job.js: one job (#/jobs/ID): its state (and why it waits while queued), resources
// asked and GPUs got, worker, attempts, exit code and message, its inputs and outputs (with
// links to the dataset and model versions), its run, its events as a timeline, and its log
// followed live (logview.js: search, wrap, download). A failed or lost job shows its exit
// code, its error and the last lines of its log together at the top. Editors of its project
// cancel it, or resubmit it (the same spec, with edits to command, env and resources: a new job
// through POST /projects/P/jobs). While it is active the page polls the job (not while the tab
// is hidden) and redraws what changed.
import * as api from '../api.js';
import { logView } from '../logview.js';
import { href, version, canEdit, filesTable } from './registry.js';
import { jobState, jobName, isActive, workerCell, cancelButton, REFRESH_MS } from './jobs.js';
import {
	h, mount, pageHeader, breadcrumb, facts, panel, time, span, chips, emptyState, showError, poll, fmtBytes, form, field, disclosure, intOrNull, toast,
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

// ---- a failure in one screen ----
const TAIL_LINES = 30;
const TAIL_BYTES = 16 * 1024;

// The last lines of the job's log (its latest attempt).
export async function logTail(id) {
	const head = await api.raw(`/jobs/${id}/logs`, { limit: 1 });
	await head.arrayBuffer();
	const size = Number(head.headers.get('X-Log-Size')) || 0;
	const start = Math.max(0, size - TAIL_BYTES);
	const res = await api.raw(`/jobs/${id}/logs`, { offset: start, limit: TAIL_BYTES, attempt: head.headers.get('X-Job-Attempt') || undefined });
	let lines = (await res.text()).split('\n');
	if (start > 0) lines = lines.slice(1); // a partial first line
	while (lines.length && lines.at(-1) === '') lines.pop();
	return lines.slice(-TAIL_LINES);
}

export const FAILED = new Set(['failed', 'lost']);

// Exit code, error and the log's last lines, together (for a failed or lost job).
async function failureSummary(j) {
	let tail;
	try {
		tail = await logTail(j.id);
	} catch (err) {
		tail = err;
	}
	return h(
		'section',
		{ class: 'failure alert error', 'aria-labelledby': 'job-failure-title', role: 'region' },
		h('h2', { id: 'job-failure-title' }, `Why job ${j.id} ${j.state === 'lost' ? 'was lost' : 'failed'}`),
		facts([
			['Exit code', j.exit_code ?? 'none (it did not exit by itself)'],
			['Error', j.message || 'no message'],
			['Attempt', `${j.attempts} of ${j.max_attempts}`],
			['Worker', j.worker || null],
		]),
		tail instanceof Error
			? h('p', { class: 'muted' }, `Could not read the log: ${tail.message}`)
			: tail.length
				? [h('h3', null, `Last ${tail.length} line${tail.length === 1 ? '' : 's'} of the log`), h('pre', { class: 'log-tail', tabindex: '0' }, tail.join('\n'))]
				: h('p', { class: 'muted' }, 'The log is empty.'),
	);
}

// ---- resubmit with edits ----
const commandText = (c) => (Array.isArray(c) ? JSON.stringify(c) : String(c ?? ''));
const envText = (env) => Object.entries(env || {}).map(([k, v]) => `${k}=${v}`).join('\n');

function parseEnv(text) {
	const env = {};
	for (const line of text.split('\n')) {
		const t = line.trim();
		if (!t) continue;
		const i = t.indexOf('=');
		if (i <= 0) throw Object.assign(new Error(`"${t}" is not KEY=VALUE`), { field: 'env' });
		env[t.slice(0, i)] = t.slice(i + 1);
	}
	return env;
}

// The body of a new job: j's spec, with the form's edits.
export function resubmitBody(j, v) {
	const cmd = v.command.trim();
	let command = cmd;
	if (cmd.startsWith('[')) {
		try {
			command = JSON.parse(cmd);
		} catch {
			throw Object.assign(new Error('the command starts with "[" but is not a JSON array'), { field: 'command' });
		}
	}
	const resources = { gpus: intOrNull(v['resources.gpus']) ?? 0 };
	if (v['resources.gpu_type'].trim()) resources.gpu_type = v['resources.gpu_type'].trim();
	const cpus = intOrNull(v['resources.cpus']);
	const mem = intOrNull(v['resources.memory_mb']);
	if (cpus) resources.cpus = cpus;
	if (mem) resources.memory_mb = mem;
	const body = { name: v.name.trim() || undefined, kind: j.kind, command, env: parseEnv(v.env), resources, priority: intOrNull(v.priority) ?? j.priority };
	if (Object.keys(j.labels || {}).length) body.labels = j.labels;
	if (j.max_attempts) body.max_attempts = j.max_attempts;
	if (j.timeout_s) body.timeout_s = j.timeout_s;
	if (j.inputs?.length) body.inputs = j.inputs.map((i) => ({ dataset: i.dataset, version: i.version, ...(i.as ? { as: i.as } : {}) }));
	if (j.outputs && Object.keys(j.outputs).length) body.outputs = j.outputs;
	return body;
}

function resubmitForm(j, ctx) {
	const r = j.resources || {};
	return disclosure(
		'Resubmit',
		h('p', { class: 'muted' }, 'A new job with the same spec (inputs, outputs, labels, attempts, timeout); edit what should change.'),
		form({
			className: 'form grid resubmit',
			submitLabel: 'Resubmit',
			attrs: { 'aria-label': `Resubmit job ${j.id}` },
			fields: [
				field('Name', h('input', { name: 'name', maxlength: 256, autocomplete: 'off', value: j.name || '' })),
				field('Command', h('textarea', { name: 'command', required: true, rows: 3, spellcheck: 'false', value: commandText(j.command) }), 'A shell command (run by /bin/sh -c) or a JSON array of arguments.'),
				field('Environment', h('textarea', { name: 'env', rows: 3, spellcheck: 'false', value: envText(j.env), placeholder: 'KEY=VALUE, one a line' }), 'One KEY=VALUE a line.'),
				field('GPUs', h('input', { name: 'resources.gpus', type: 'number', min: 0, max: 64, value: String(r.gpus ?? 0) })),
				field('GPU type', h('input', { name: 'resources.gpu_type', maxlength: 64, value: r.gpu_type || '' })),
				field('CPUs', h('input', { name: 'resources.cpus', type: 'number', min: 0, max: 1024, value: r.cpus ? String(r.cpus) : '' })),
				field('Memory (MB)', h('input', { name: 'resources.memory_mb', type: 'number', min: 0, value: r.memory_mb ? String(r.memory_mb) : '' })),
				field('Priority', h('input', { name: 'priority', type: 'number', min: -1000, max: 1000, value: String(j.priority ?? 0) })),
			],
			onSubmit: async (v) => {
				const body = resubmitBody(j, v);
				if (j.kind === 'batch_inference' && j.model_version_id) {
					const mv = await api.get(`/model-versions/${j.model_version_id}`);
					body.model = { name: mv.model, version: mv.version };
				}
				const made = await api.post(`/projects/${s(j.project)}/jobs`, body);
				toast(`Submitted job ${made.id}`);
				ctx.navigate(`jobs/${made.id}`);
			},
		}),
	);
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
	const failureSlot = h('div');

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
		const [io, failure] = await Promise.all([inputsOutputs(j, errSlot), FAILED.has(j.state) ? failureSummary(j) : null]);
		if (!ctx.alive()) return;
		mount(ioSlot, io);
		mount(failureSlot, failure);
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
		failureSlot,
		h('div', { class: 'split' }, panel('job-about', 'Status', aboutSlot), panel('job-events-title', 'Events', eventsSlot)),
		panel('job-command', 'Command', command(job), canEdit(project) && job.kind !== 'service' ? resubmitForm(job, ctx) : null),
		panel('job-io', 'Inputs and outputs', ioSlot),
		panel('job-log', 'Log', log.el),
	);
	// #/jobs/ID?log (the deployment page's link to a crashed replica's log): open at the log
	if (ctx.query.has('log')) document.getElementById('job-log')?.scrollIntoView();
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

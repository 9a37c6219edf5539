// views/deployment_actions.js: what editors of a deployment's project may do on its page,
// each one call of the API, which has the last word (its refusal shows where the action
// was): promote or roll back a canary (or a rolling update), start a canary or change its
// split (PATCH traffic), roll out another version (PATCH version), scale (PATCH replicas),
// and delete it. Each asks first where it cannot be undone, then hands the deployment the
// API answered with to onChanged.
import * as api from '../api.js';
import { version } from './registry.js';
import { h, field, form, select, disclosure, confirmDialog, showError, toast, intOrNull } from '../ui.js';

const path = (d) => `/deployments/${api.seg(d.name)}`;

// A button that asks, then calls; errors go to errSlot.
function actionButton(label, cls, ask, call, errSlot) {
	const btn = h('button', { type: 'button', class: cls }, label);
	btn.addEventListener('click', async () => {
		if (!(await confirmDialog(ask))) return;
		showError(errSlot, null);
		btn.disabled = true;
		try {
			await call();
		} catch (err) {
			showError(errSlot, err);
		} finally {
			btn.disabled = false;
		}
	});
	return btn;
}

const stableOf = (d) => (d.traffic || []).find((t) => t.stable);
const canaryOf = (d) => (d.traffic || []).filter((t) => !t.stable).sort((a, b) => b.weight - a.weight)[0];

// The committed versions other than the ones serving, newest first, as <select> options.
function otherVersions(d, versions) {
	const serving = new Set((d.traffic || []).map((t) => t.version));
	return versions
		.filter((v) => v.state === 'committed' && !serving.has(v.version))
		.sort((a, b) => b.version - a.version)
		.map((v) => [String(v.version), `${version(v.version)}${(v.aliases || []).length ? ` (${v.aliases.join(', ')})` : ''}`]);
}

// weight: the canary's share (1-99); the stable version keeps the rest.
function splitBody(d, canaryVersion, weight) {
	const stable = stableOf(d);
	return { traffic: [{ version: stable.version, weight: 100 - weight }, { version: canaryVersion, weight }] };
}

const weightInput = (value) => h('input', { name: 'weight', type: 'number', min: 1, max: 99, required: true, value: String(value) });

function canaryForm(d, choices, onChanged) {
	return form({
		className: 'form inline',
		submitLabel: 'Start canary',
		attrs: { 'aria-label': 'Start a canary' },
		fields: [
			field('Version', select('version', choices, choices[0][0])),
			field('Its share of the traffic (%)', weightInput(10), 'Its replicas start first; it gets requests once they are ready.'),
		],
		onSubmit: async (v) => {
			const done = await api.patch(path(d), splitBody(d, Number(v.version), intOrNull(v.weight))).catch(renameTrafficField);
			toast(`${d.name}: canary ${version(v.version)} started`);
			onChanged(done);
		},
	});
}

// The API names the split 'traffic' (or 'traffic[1].weight'): point at the weight field.
function renameTrafficField(err) {
	if (err.field && err.field.startsWith('traffic')) err.field = 'weight';
	throw err;
}

function rolloutForm(d, choices, onChanged) {
	return form({
		className: 'form inline',
		submitLabel: 'Roll out',
		attrs: { 'aria-label': 'Roll out another version' },
		fields: [field('Version', select('version', choices, choices[0][0]), 'A rolling update: new replicas first, then all the traffic moves. It pins the deployment to that version.')],
		onSubmit: async (v) => {
			const done = await api.patch(path(d), { version: Number(v.version) });
			toast(`${d.name}: rolling out ${version(v.version)}`);
			onChanged(done);
		},
	});
}

/*
 * The traffic panel's controls for editors: with a canary in progress, promote it, roll it
 * back, or change its share; with a rolling update in progress, roll it back; otherwise
 * start a canary, roll out another version, or roll back to the previous version.
 */
export function trafficControls(d, { versions, errSlot, onChanged }) {
	const ro = d.rollout;
	const active = ro && ro.state === 'in_progress';
	const rollback = (ask) =>
		actionButton('Roll back', 'danger-outline', { confirmLabel: 'Roll back', danger: true, ...ask }, async () => {
			const done = await api.post(`${path(d)}/rollback`);
			toast(`${d.name}: rolled back`);
			onChanged(done);
		}, errSlot);
	if (active && ro.kind === 'initial') return h('p', { class: 'muted' }, 'The first rollout is in progress: the controls appear once a version serves.');
	if (active && ro.kind === 'rolling') {
		return h(
			'div',
			{ class: 'toolbar' },
			h('p', null, `Rolling update to ${version(ro.to_version)} in progress: the traffic moves once its replicas are ready.`),
			rollback({ title: `Stop the rolling update of ${d.name}?`, message: `The new replicas stop; all the traffic stays on ${version(d.version)}.` }),
		);
	}
	const canary = canaryOf(d);
	if (active && ro.kind === 'canary' && canary) {
		const stable = stableOf(d);
		const promote = actionButton(
			`Promote ${version(canary.version)}`,
			'primary',
			{ title: `Promote ${version(canary.version)} of ${d.name}?`, message: `${version(canary.version)} gets all the traffic and ${d.replicas} replica${d.replicas === 1 ? '' : 's'}; ${version(stable.version)} drains and stops.`, confirmLabel: 'Promote' },
			async () => {
				const done = await api.post(`${path(d)}/promote`, { version: canary.version });
				toast(`${d.name}: ${version(canary.version)} promoted`);
				onChanged(done);
			},
			errSlot,
		);
		const change = form({
			className: 'form inline',
			submitLabel: 'Change split',
			attrs: { 'aria-label': 'Change the canary split' },
			fields: [field(`${version(canary.version)}'s share (%)`, weightInput(canary.weight), 'A new split starts the canary again (its replicas too).')],
			onSubmit: async (v) => {
				const done = await api.patch(path(d), splitBody(d, canary.version, intOrNull(v.weight))).catch(renameTrafficField);
				toast(`${d.name}: ${version(canary.version)} now gets ${v.weight} %`);
				onChanged(done);
			},
		});
		return h(
			'div',
			{ class: 'canary-controls' },
			h('p', null, `Canary in progress: ${version(canary.version)} gets ${canary.weight} % of the requests, ${version(stable.version)} ${stable.weight} %.`),
			h(
				'div',
				{ class: 'toolbar' },
				promote,
				rollback({ title: `Roll back the canary of ${d.name}?`, message: `${version(canary.version)}'s replicas stop; all the traffic goes back to ${version(stable.version)}.` }),
			),
			change,
		);
	}
	const choices = otherVersions(d, versions);
	return h(
		'div',
		{ class: 'steady-controls' },
		d.previous_version
			? h(
					'div',
					{ class: 'toolbar' },
					rollback({ title: `Roll ${d.name} back to ${version(d.previous_version)}?`, message: `A rolling update back to ${version(d.previous_version)}, the version that served before ${version(d.version)}.` }),
				)
			: null,
		choices.length
			? [
					// a split needs a stable version; a failed deployment serves again with a new version
					stableOf(d) ? disclosure('Start a canary', canaryForm(d, choices, onChanged)) : null,
					disclosure('Roll out another version', rolloutForm(d, choices, onChanged)),
				]
			: h('p', { class: 'muted' }, 'Commit another version of the model to start a canary or roll it out.'),
	);
}

// Editors' forms under the settings: scale (every version at once).
export function settingsForms(d, { onChanged }) {
	return form({
		className: 'form inline',
		submitLabel: 'Scale',
		attrs: { 'aria-label': `Scale ${d.name}` },
		fields: [field('Replicas', h('input', { name: 'replicas', type: 'number', min: 1, max: 64, required: true, value: String(d.replicas) }), 'Per version serving; 1 to 64.')],
		onSubmit: async (v) => {
			const done = await api.patch(path(d), { replicas: intOrNull(v.replicas) });
			toast(`${d.name}: ${done.replicas} replica${done.replicas === 1 ? '' : 's'}`);
			onChanged(done);
		},
	});
}

// Delete, after a confirmation; onDeleted() then (the page leaves).
export function deleteButton(d, { errSlot, onDeleted }) {
	return actionButton(
		'Delete',
		'danger-outline',
		{
			title: `Delete deployment ${d.name}?`,
			message: 'Its replicas stop, its endpoint answers 404, its invoke keys are revoked, and its history and captured predictions are deleted. This cannot be undone.',
			confirmLabel: 'Delete',
			danger: true,
		},
		async () => {
			await api.del(path(d));
			toast(`Deleted deployment ${d.name}`);
			onDeleted();
		},
		errSlot,
	);
}

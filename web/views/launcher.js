// views/launcher.js: one launcher (#/projects/P/launchers/NAME): its description, the form
// generated from its parameters' types (for the launcher role and up), the jobs it ran with
// their values, and its versions. Submitting goes to the new job's page; a bad value comes
// back as a 400 naming values.NAME, which marks that input.
import * as api from '../api.js';
import { projectPage, href, version, stateBadge } from './registry.js';
import { h, mount, field, select, form, emptyState, toast, time, panel, table, chips, pagedTable, showError } from '../ui.js';

const canRun = (p) => ['owner', 'editor', 'launcher'].includes(p.role) && !p.archived_at;

// The input of one parameter, named values.NAME (the field a 400 names).
function input(prm) {
	const name = `values.${prm.name}`;
	const d = prm.default;
	const label = `${prm.label || prm.name}${d === undefined || d === null ? ' (required)' : ''}`;
	let el;
	switch (prm.type) {
		case 'integer':
		case 'float':
			el = h('input', { name, type: 'number', step: prm.type === 'integer' ? '1' : 'any', min: prm.min, max: prm.max, value: d ?? '' });
			break;
		case 'choice':
			el = select(name, prm.choices.map((c) => [c, c]), d ?? prm.choices[0]);
			break;
		case 'boolean':
			el = h('input', { name, type: 'checkbox', checked: d === true });
			break;
		default: // string, dataset_version, model_version
			el = h('input', {
				name,
				maxlength: prm.max_length,
				value: d ?? '',
				autocomplete: 'off',
				spellcheck: 'false',
				placeholder: prm.type === 'dataset_version' ? `${prm.dataset || 'dataset'}:latest` : prm.type === 'model_version' ? `${prm.model || 'model'}:1` : '',
			});
	}
	const bounds = prm.min !== undefined || prm.max !== undefined ? ` Between ${prm.min ?? '−∞'} and ${prm.max ?? '∞'}.` : '';
	return field(label, el, `${prm.help || ''}${bounds}`.trim() || null);
}

// The form's values as the API types them: numbers, booleans; empty optional ones left out.
function typed(params, v, f) {
	const values = {};
	for (const prm of params) {
		const key = `values.${prm.name}`;
		if (prm.type === 'boolean') {
			values[prm.name] = f.elements.namedItem(key).checked;
			continue;
		}
		const s = (v[key] ?? '').trim();
		if (s === '') continue;
		values[prm.name] = prm.type === 'integer' || prm.type === 'float' ? Number(s) : s;
	}
	return values;
}

function runForm(ctx, project, l) {
	return form({
		className: 'form grid',
		submitLabel: 'Run',
		attrs: { 'aria-label': `Run ${l.name}` },
		fields: [...l.parameters.map(input), field('Run name', h('input', { name: 'run_name', maxlength: 256, autocomplete: 'off', placeholder: l.name }))],
		onSubmit: async (v, f) => {
			const body = { values: typed(l.parameters, v, f) };
			if ((v.run_name || '').trim()) body.name = v.run_name.trim();
			const made = await api.post(`/projects/${api.seg(project.name)}/launchers/${api.seg(l.name)}/runs`, body);
			toast(`Submitted job ${made.job_id} from ${l.name} ${version(made.version)}`);
			ctx.navigate(`jobs/${made.job_id}`);
		},
	});
}

const jobColumns = [
	{ label: 'Job', cell: (j) => h('a', { href: href.job(j.id) }, `#${j.id}`) },
	{ label: 'State', cell: (j) => stateBadge(j.state) },
	{ label: 'Version', cell: (j) => version(j.version) },
	{ label: 'Values', cell: (j) => chips(Object.entries(j.values || {}).map(([k, x]) => `${k}=${x}`)) },
	{ label: 'By', cell: (j) => j.created_by || '' },
	{ label: 'Submitted', cell: (j) => time(j.created_at) },
];

const versionColumns = [
	{ label: 'Version', cell: (x) => version(x.version) },
	{ label: 'Description', cell: (x) => x.description || '' },
	{ label: 'Parameters', cell: (x) => chips((x.parameters || []).map((p) => p.name)) },
	{ label: 'By', cell: (x) => x.created_by || '' },
	{ label: 'Saved', cell: (x) => time(x.created_at) },
];

export async function render(root, ctx) {
	const name = ctx.params.launcher;
	const { project, header } = await projectPage(ctx, 'launchers', { title: name, crumbs: [['Launchers', href.launchers(ctx.params.project)], [name]], intro: null });
	const base = `/projects/${api.seg(project.name)}/launchers/${api.seg(name)}`;
	const l = await api.get(base);
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const jobs = await pagedTable(new api.Pager(`${base}/runs`), { caption: `Jobs of ${name}`, columns: jobColumns, rowKey: (j) => j.id }, (err) => showError(errSlot, err));
	const versions = await api.get(`${base}/versions`, { limit: 20 });
	if (!ctx.alive()) return;
	mount(
		root,
		header,
		h('p', null, l.description || '', ' ', chips([version(l.version), l.archived ? 'archived' : null].filter(Boolean))),
		errSlot,
		panel(
			'run-title',
			`Run ${name}`,
			l.archived ? emptyState('This launcher is archived: it runs no more.') : canRun(project) ? runForm(ctx, project, l) : emptyState('You may read this launcher; running it needs the launcher role (or editor).'),
		),
		panel('jobs-title', 'Jobs', jobs.first.length ? [jobs, jobs.more] : emptyState(`${name} has not run yet.`)),
		panel('versions-title', 'Versions', table({ caption: `Versions of ${name}`, columns: versionColumns, rows: versions.items, rowKey: (x) => x.id })),
	);
}

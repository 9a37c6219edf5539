// views/model.js: one registered model (#/projects/P/models/M): its versions (state, source
// run, author), its aliases (editors set, move and delete them; `production` needs an owner,
// and the API's 403 is shown to an editor who tries), its pending promotions (owners approve
// or reject; editors request one) and its history, newest first.
import * as api from '../api.js';
import {
	projectPage, href, path, version, stateBadge, canEdit, mayMoveAlias, aliasChips, decisionButtons, promotionsChanged,
} from './registry.js';
import {
	h, mount, table, time, emptyState, showError, toast, confirmThen, facts, chips, bytes, panel, field,
	select, form, loadMore,
} from '../ui.js';

const COMMON_ALIASES = ['staging', 'production', 'champion', 'challenger'];

function versionsTable(p, m, versions) {
	return table({
		caption: `Versions of ${m}`,
		rowKey: (v) => String(v.version),
		rows: [...versions].reverse(),
		columns: [
			{ label: 'Version', cell: (v) => h('strong', null, h('a', { href: href.modelVersion(p, m, v.version) }, version(v.version))) },
			{ label: 'State', cell: (v) => stateBadge(v.state) },
			{ label: 'Aliases', cell: (v) => chips(v.aliases, 'alias') },
			{ label: 'Source run', cell: (v) => (v.source_run ? h('a', { href: href.run(p, v.source_run) }, `run ${v.source_run}`) : h('span', { class: 'muted' }, '—')) },
			{ label: 'Framework', cell: (v) => v.framework || '' },
			{ label: 'Files', cell: (v) => String(v.file_count), class: 'num' },
			{ label: 'Size', cell: (v) => bytes(v.total_bytes), class: 'num' },
			{ label: 'Created by', cell: (v) => v.created_by || '' },
			{ label: 'Created', cell: (v) => time(v.created_at) },
		],
	});
}

// The version choices for aliases and promotions: committed versions, newest first.
const committedOptions = (versions) =>
	versions
		.filter((v) => v.state === 'committed')
		.reverse()
		.map((v) => [String(v.version), `${version(v.version)}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}`]);

function aliasesPanel(project, model, versions, done) {
	const p = project.name;
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const apath = (a) => `${path.model(p, model.name)}/aliases/${api.seg(a)}`;
	const rows = Object.entries(model.aliases || {}).map(([alias, v]) => ({ alias, version: v }));
	const remove = (r) =>
		confirmThen(
			errSlot,
			{
				title: `Remove the alias ${r.alias}?`,
				message: `${r.alias} points at ${version(r.version)} now; whatever follows it (deployments) loses its target.`,
				confirmLabel: 'Remove alias',
			},
			async () => {
				await api.del(apath(r.alias));
				toast(`Removed the alias ${r.alias} of ${model.name}`);
				done();
			},
		);
	const columns = [
		{ label: 'Alias', cell: (r) => h('strong', null, r.alias) },
		{ label: 'Version', cell: (r) => h('a', { href: href.modelVersion(p, model.name, r.version) }, version(r.version)) },
	];
	if (canEdit(project)) {
		columns.push({
			label: 'Actions',
			cell: (r) => h('button', { type: 'button', class: 'danger-outline small', 'aria-label': `Remove alias ${r.alias}`, onClick: () => remove(r) }, 'Remove'),
		});
	}
	const options = committedOptions(versions);
	const setForm =
		canEdit(project) && options.length
			? form({
					className: 'form inline',
					submitLabel: 'Set alias',
					attrs: { 'aria-label': 'Set or move an alias' },
					fields: [
						field('Alias', h('input', { name: 'alias', required: true, list: 'alias-names', autocomplete: 'off', spellcheck: 'false', maxlength: 63 })),
						h('datalist', { id: 'alias-names' }, COMMON_ALIASES.map((a) => h('option', { value: a }))),
						field('Version', select('version', options, options[0][0])),
					],
					onSubmit: async (v) => {
						const alias = v.alias.trim();
						const r = await api.put(apath(alias), { version: Number(v.version) });
						toast(`${alias} of ${model.name} → ${version(r.version)}${r.previous_version ? ` (was ${version(r.previous_version)})` : ''}`);
						done();
					},
				})
			: null;
	return panel(
		'aliases-title',
		'Aliases',
		h('p', { class: 'muted' }, 'An alias names one committed version; services that follow it move with it. Editors move any alias but production, which needs a project owner: editors request a promotion instead.'),
		setForm,
		errSlot,
		rows.length ? table({ caption: `Aliases of ${model.name}`, columns, rows, rowKey: (r) => r.alias }) : emptyState('No aliases yet.', canEdit(project) ? 'Point staging at a committed version with the form above.' : null),
	);
}

function promotionsPanel(project, model, versions, pending, done) {
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const fail = (err) => showError(errSlot, err);
	const columns = [
		{ label: 'Request', cell: (pr) => `#${pr.id}` },
		{ label: 'Alias', cell: (pr) => h('strong', null, pr.alias) },
		{ label: 'Version', cell: (pr) => h('a', { href: href.modelVersion(project.name, model.name, pr.version) }, version(pr.version)) },
		{ label: 'Asked by', cell: (pr) => pr.requested_by || '' },
		{ label: 'Comment', cell: (pr) => pr.comment || '' },
		{ label: 'Asked', cell: (pr) => time(pr.requested_at) },
		{
			label: 'Decision',
			cell: (pr) =>
				mayMoveAlias(project, pr.alias)
					? decisionButtons(pr, done, fail)
					: h('span', { class: 'muted' }, pr.alias === 'production' ? 'an owner decides' : 'an editor or owner decides'),
		},
	];
	const options = committedOptions(versions);
	const request =
		canEdit(project) && options.length
			? form({
					className: 'form inline',
					submitLabel: 'Request promotion',
					submitClass: '',
					attrs: { 'aria-label': 'Request a promotion' },
					fields: [
						field('Version', select('version', options, options[0][0])),
						field('Alias', h('input', { name: 'alias', required: true, value: 'production', list: 'alias-names-req', autocomplete: 'off', spellcheck: 'false', maxlength: 63 })),
						h('datalist', { id: 'alias-names-req' }, COMMON_ALIASES.map((a) => h('option', { value: a }))),
						field('Comment', h('input', { name: 'comment', maxlength: 1024, autocomplete: 'off', placeholder: 'why: eval results, ticket' })),
					],
					onSubmit: async (v) => {
						const body = { alias: v.alias.trim() };
						if (v.comment.trim()) body.comment = v.comment.trim();
						const pr = await api.post(`${path.modelVersion(project.name, model.name, v.version)}/promotions`, body);
						toast(`Requested: ${model.name} ${version(pr.version)} → ${pr.alias} (#${pr.id})`);
						promotionsChanged();
						done();
					},
				})
			: null;
	return panel(
		'promotions-title',
		`Pending promotions (${pending.length})`,
		request,
		errSlot,
		pending.length
			? table({ caption: `Pending promotions of ${model.name}`, columns, rows: pending, rowKey: (pr) => String(pr.id) })
			: emptyState('No promotion is waiting.', canEdit(project) ? 'Ask for one above; a project owner approves it and the alias moves.' : null),
	);
}

// One line of the model's history, in words.
export function eventText(e) {
	const v = (n) => version(n);
	const pr = e.promotion_id ? ` (promotion #${e.promotion_id})` : '';
	switch (e.kind) {
		case 'model_created':
			return 'registered the model';
		case 'version_created':
			return `created ${v(e.version)}`;
		case 'version_committed':
			return `committed ${v(e.version)}`;
		case 'version_deleted':
			return `deleted ${v(e.version)}`;
		case 'alias_moved':
			return `moved ${e.alias} to ${v(e.version)}${e.from_version ? ` from ${v(e.from_version)}` : ''}${e.promotion_id ? `, approving promotion #${e.promotion_id}` : ''}`;
		case 'alias_deleted':
			return `removed the alias ${e.alias}${e.from_version ? ` (was ${v(e.from_version)})` : ''}`;
		case 'promotion_requested':
			return `asked to move ${e.alias} to ${v(e.version)}${pr}`;
		case 'promotion_rejected':
			return `rejected moving ${e.alias} to ${v(e.version)}${pr}`;
		default:
			return e.kind;
	}
}

async function historyPanel(p, m, onError) {
	const pager = new api.Pager(`${path.model(p, m)}/history`, {}, 50);
	const item = (e) =>
		h(
			'li',
			{ dataset: { kind: e.kind } },
			time(e.created_at, true),
			' ',
			h('strong', null, e.actor || 'someone'),
			' ',
			eventText(e),
			e.comment ? h('q', { class: 'comment' }, e.comment) : null,
		);
	const first = await pager.next();
	const ol = h('ol', { class: 'timeline' }, first.map(item));
	return panel('history-title', 'History', first.length ? ol : emptyState('Nothing yet.'), loadMore(pager, (items) => ol.append(...items.map(item)), onError));
}

export async function render(root, ctx) {
	const { project: pn, model: mn } = ctx.params;
	const { project, header } = await projectPage(ctx, 'models', { title: `Model ${mn}`, crumbs: [['Models', href.models(pn)], [mn]], intro: null });
	const p = project.name;
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const [model, versions, promotions, history] = await Promise.all([
		api.get(path.model(p, mn)),
		api.listAll(`${path.model(p, mn)}/versions`, {}, 1000),
		api.listAll(`/projects/${api.seg(p)}/promotions`, { state: 'pending' }, 1000),
		historyPanel(p, mn, (err) => showError(errSlot, err)),
	]);
	if (!ctx.alive()) return;
	const pending = promotions.filter((pr) => pr.model === model.name);
	const again = () => ctx.navigate(`projects/${api.seg(p)}/models/${api.seg(model.name)}`);
	mount(
		root,
		header,
		panel(
			'model-about',
			'About',
			facts([
				['Description', model.description || h('span', { class: 'muted' }, 'none')],
				['Tags', chips(model.tags)],
				['Aliases', aliasChips(p, model.name, model.aliases)],
				['Latest committed', model.latest ? h('a', { href: href.modelVersion(p, model.name, model.latest.version) }, version(model.latest.version)) : 'none yet'],
				['Created', [time(model.created_at), model.created_by ? ` by ${model.created_by}` : '']],
			]),
		),
		errSlot,
		panel('versions-title', `Versions (${versions.length})`, versions.length ? versionsTable(p, model.name, versions) : emptyState('No versions yet.', 'Versions are registered from training code or CI (POST …/versions), then committed.')),
		aliasesPanel(project, model, versions, again),
		promotionsPanel(project, model, versions, pending, again),
		history,
	);
}

// views/deployment_predictions.js: a deployment's captured predictions on its page (GET
// /deployments/{name}/predictions, newest first, paged): when, version, status, latency, and
// the request and response bodies (cut for display; the whole as the API keeps it in the
// title). Editors set the share of calls kept (PATCH capture.sample_rate). "Show newest"
// reads the first page again.
import * as api from '../api.js';
import { version } from './registry.js';
import { h, mount, pagedTable, time, badge, emptyState, showError, field, form, toast } from '../ui.js';
import { fmtMs } from './deployment_stats.js';

const PREVIEW = 160;

// A captured body as text: JSON as JSON, text as it is, binary as its size.
function body(value, encoding, size, truncated) {
	if (value === null || value === undefined) return h('span', { class: 'muted' }, '—');
	if (encoding === 'base64url') return h('span', { class: 'muted' }, `binary, ${size} bytes`);
	const text = typeof value === 'string' ? value : JSON.stringify(value);
	return h(
		'code',
		{ class: 'body-preview', title: text.slice(0, 4000) },
		text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text,
		truncated ? h('span', { class: 'muted' }, ` (cut, ${size} bytes in all)`) : null,
	);
}

const columns = [
	{ label: 'When', cell: (p) => time(p.created_at, true) },
	{ label: 'Version', cell: (p) => (p.version ? version(p.version) : '—') },
	{ label: 'Status', cell: (p) => badge(String(p.status), p.status < 400 ? 'ok' : 'err') },
	{ label: 'Latency', cell: (p) => fmtMs(p.latency_ms), class: 'num' },
	{ label: 'Request', cell: (p) => body(p.request, p.request_encoding, p.request_size, p.request_truncated) },
	{ label: 'Response', cell: (p) => body(p.response, p.response_encoding, p.response_size, p.response_truncated) },
];

const ratePct = (d) => Math.round((d.capture?.sample_rate || 0) * 1000) / 10;

function rateForm(d, onChanged, after) {
	return form({
		className: 'form inline',
		submitLabel: 'Save',
		attrs: { 'aria-label': 'Capture rate' },
		fields: [field('Calls kept (%)', h('input', { name: 'rate', type: 'number', min: 0, max: 100, step: 'any', required: true, value: String(ratePct(d)) }), '0 turns capture off.')],
		onSubmit: async (v) => {
			const done = await api.patch(`/deployments/${api.seg(d.name)}`, { capture: { sample_rate: Number(v.rate) / 100 } }).catch((err) => {
				if (err.field === 'capture.sample_rate') err.field = 'rate';
				throw err;
			});
			toast(`${d.name}: ${ratePct(done)} % of calls are kept`);
			d.capture = done.capture;
			onChanged(done);
			await after();
		},
	});
}

export async function predictionsPanel(d, editor, onChanged) {
	const path = `/deployments/${api.seg(d.name)}/predictions`;
	const errSlot = h('div', { 'aria-live': 'assertive' });
	const listSlot = h('div');
	async function load() {
		const t = await pagedTable(new api.Pager(path, {}, 10), { caption: `Captured predictions of ${d.name}`, columns, rowKey: (p) => String(p.id) }, (err) => showError(errSlot, err));
		const off = !d.capture?.sample_rate;
		mount(
			listSlot,
			t.first.length
				? [t, t.more]
				: emptyState(
						off ? 'Capture is off.' : 'Nothing captured yet.',
						off
							? 'Set a share of calls to keep: their requests and responses are stored (size-capped, pruned) for debugging and drift monitoring.'
							: `${ratePct(d)} % of the calls through the gateway are kept; they show here within a second or two.`,
					),
		);
	}
	const newest = h('button', { type: 'button', class: 'small' }, 'Show newest');
	newest.addEventListener('click', async () => {
		showError(errSlot, null);
		newest.disabled = true;
		try {
			await load();
		} catch (err) {
			showError(errSlot, err);
		} finally {
			newest.disabled = false;
		}
	});
	const note = h('p', { class: 'muted' });
	const describe = () => {
		note.textContent = `A sample of the calls, newest first: ${ratePct(d)} % of them are kept now.`;
	};
	describe();
	await load();
	return [
		h('div', { class: 'panel-head' }, note, newest),
		editor ? rateForm(d, onChanged, () => (describe(), load())) : null,
		errSlot,
		h('div', { class: 'nowrap-times' }, listSlot),
	];
}

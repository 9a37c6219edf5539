// ui.js: small DOM helpers shared by the views. Text from the API only ever reaches the page
// as text nodes or attribute values (never innerHTML), so no name or message can inject markup.

// h('button', {class: 'primary', onClick: fn}, 'Save') -> element. Children may be strings,
// numbers, nodes, arrays of those, or null/false/undefined (skipped).
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') el.className = v;
		else if (k === 'dataset') Object.assign(el.dataset, v);
		else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
		else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v;
		else if (v === true) el.setAttribute(k, '');
		else el.setAttribute(k, String(v));
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		if (Array.isArray(c)) append(el, c);
		else el.append(c instanceof Node ? c : String(c));
	}
}

// Replaces el's content with children (same rules as h: null/false/undefined are skipped).
export function mount(el, ...children) {
	el.replaceChildren();
	append(el, children);
	return el;
}

let uid = 0;
export const nextId = (prefix = 'f') => `${prefix}-${++uid}`;

// '2026-11-27 14:02' (UTC) from an RFC 3339 string, with seconds when asked.
export function fmtTime(iso, seconds = false) {
	if (!iso) return '';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return String(iso);
	const s = d.toISOString().replace('T', ' ');
	return s.slice(0, seconds ? 19 : 16) + ' UTC';
}

// '850 ms', '42 s', '3 min 5 s', '2 h 14 min', '3 d 4 h' from milliseconds.
export function fmtDuration(ms) {
	if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '';
	if (ms < 1000) return `${Math.round(ms)} ms`;
	const s = Math.floor(ms / 1000);
	if (s < 60) return `${s} s`;
	const parts = [
		[Math.floor(s / 86400), 'd'],
		[Math.floor((s % 86400) / 3600), 'h'],
		[Math.floor((s % 3600) / 60), 'min'],
		[s % 60, 's'],
	];
	const first = parts.findIndex(([v]) => v > 0);
	return parts
		.slice(first, first + 2)
		.filter(([v]) => v > 0)
		.map(([v, u]) => `${v} ${u}`)
		.join(' ');
}

// The time from one RFC 3339 time to another (to now when `to` is null), as text.
export const span = (from, to) => (from ? fmtDuration((to ? Date.parse(to) : Date.now()) - Date.parse(from)) : '');

// A number for people: integers as they are, others to 6 significant digits (0.912345, 1.5e-7).
export function fmtNum(v) {
	if (typeof v !== 'number') return v === null || v === undefined ? '' : String(v);
	if (Number.isInteger(v)) return String(v);
	return String(Number(v.toPrecision(6)));
}

/*
 * A number short enough for a table cell: 3 significant digits (0.91234 -> 0.912), an
 * exponent for the very small and the very large (0.0000000617 -> 6.17e-8, 12345678 ->
 * 1.23e7), numbers from 1000 to a million rounded to integers. The full value goes in a title.
 */
export function fmtCompact(v) {
	if (typeof v !== 'number') return v === null || v === undefined ? '' : String(v);
	if (!Number.isFinite(v)) return String(v);
	const a = Math.abs(v);
	if (Number.isInteger(v) && a < 1e6) return String(v);
	if (a === 0) return '0';
	if (a >= 1000 && a < 1e6) return String(Math.round(v));
	if (a >= 1e-3 && a < 1000) return String(Number(v.toPrecision(3)));
	return v.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
}

/*
 * Runs fn now and then every ms milliseconds while the tab is visible (a hidden tab makes no
 * calls; it catches up at once when shown again). fn may be async; it returning false stops
 * the polling. Returns stop(). A failing fn keeps the polling going: fn shows its own errors.
 */
export function poll(fn, ms, { now = false } = {}) {
	let timer = null;
	let stopped = false;
	let busy = false;
	const tick = async () => {
		timer = null;
		if (stopped || busy || document.hidden) return;
		busy = true;
		let again = true;
		try {
			again = (await fn()) !== false;
		} catch {
			again = true;
		} finally {
			busy = false;
		}
		if (!again) stop();
		else schedule();
	};
	const schedule = () => {
		if (!stopped && !timer) timer = setTimeout(tick, ms);
	};
	const onVisible = () => {
		if (!document.hidden && !timer && !busy && !stopped) tick();
	};
	function stop() {
		stopped = true;
		clearTimeout(timer);
		document.removeEventListener('visibilitychange', onVisible);
	}
	document.addEventListener('visibilitychange', onVisible);
	if (now) tick();
	else schedule();
	return stop;
}

// A <time> element, or a dash for no time.
export function time(iso, seconds = false) {
	if (!iso) return h('span', { class: 'muted' }, '—');
	return h('time', { datetime: iso, title: iso }, fmtTime(iso, seconds));
}

export function badge(text, kind = '') {
	return h('span', { class: `badge ${kind}`.trim() }, text);
}

// The title block of a view: heading (focus target after navigation), intro, actions.
export function pageHeader(title, intro, ...actions) {
	return h(
		'header',
		{ class: 'page-header' },
		h('div', null, h('h1', { tabindex: '-1' }, title), intro ? h('p', { class: 'intro' }, intro) : null),
		actions.length ? h('div', { class: 'actions' }, actions) : null,
	);
}

// What to show when a list is empty: what it is, and what to do next.
export function emptyState(title, text, ...actions) {
	return h(
		'div',
		{ class: 'empty', role: 'status' },
		h('p', { class: 'empty-title' }, title),
		text ? h('p', null, text) : null,
		actions.length ? h('p', null, actions) : null,
	);
}

// An error from the API (or anything thrown) as an inline alert.
export function errorBox(err, retry) {
	const msg = err && err.message ? err.message : String(err);
	return h(
		'div',
		{ class: 'alert error', role: 'alert' },
		h('span', null, msg),
		retry ? h('button', { type: 'button', class: 'link', onClick: retry }, 'Try again') : null,
	);
}

// Shows err (or nothing, with null) in a slot element kept for messages.
export function showError(slot, err) {
	slot.replaceChildren(err ? errorBox(err) : '');
}

/*
 * table({columns, rows, caption, rowKey, rowClass}) -> a scrollable table. columns:
 * [{label, cell: row => node|string, class}]. With rowKey(row), each row gets data-key and
 * the table can add, prepend and redraw rows: t.addRows(list), t.prependRow(r), t.updateRow(r).
 * rowClass(row) (optional) gives a row's class.
 */
export function table({ columns, rows, caption, rowKey, rowClass }) {
	const tr = (row) =>
		h(
			'tr',
			{ class: rowClass ? rowClass(row) : null, dataset: rowKey ? { key: rowKey(row) } : undefined },
			columns.map((c) => h('td', { class: c.class, dataset: { label: c.label } }, h('span', null, c.cell(row)))),
		);
	const tbody = h('tbody', null, (rows || []).map(tr));
	const wrap = h(
		'div',
		{ class: 'table-wrap' },
		h(
			'table',
			null,
			caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
			h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
			tbody,
		),
	);
	wrap.tbody = tbody;
	wrap.addRows = (list) => tbody.append(...list.map(tr));
	wrap.prependRow = (row) => tbody.prepend(tr(row));
	wrap.updateRow = (row) => {
		const old = [...tbody.rows].find((r) => r.dataset.key === String(rowKey(row)));
		if (old) old.replaceWith(tr(row));
	};
	return wrap;
}

// The first page of a paginated list (an api.Pager) as a table, with "Load more" under it
// (t.more) and the first items in t.first. onError(err) shows a failed next page.
export async function pagedTable(pager, opts, onError) {
	const first = await pager.next();
	const t = table({ ...opts, rows: first });
	t.first = first;
	t.more = loadMore(pager, t.addRows, onError);
	return t;
}

// A labelled form control. input is an element; hint (optional) is tied to it by aria-describedby.
export function field(label, input, hint) {
	if (!input.id) input.id = nextId('in');
	let hintEl = null;
	if (hint) {
		hintEl = h('small', { id: input.id + '-hint', class: 'hint' }, hint);
		input.setAttribute('aria-describedby', hintEl.id);
	}
	return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hintEl);
}

export function select(name, options, value, attrs = {}) {
	return h(
		'select',
		{ name, ...attrs },
		options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
	);
}

/*
 * A <select> that saves on change with save(value) (an API call); when that fails it goes
 * back to the value it had and the error shows in errSlot.
 */
export function savingSelect(name, options, value, attrs, errSlot, save) {
	const sel = select(name, options, value, attrs);
	let saved = value;
	sel.addEventListener('change', async () => {
		showError(errSlot, null);
		try {
			await save(sel.value);
			saved = sel.value;
		} catch (err) {
			sel.value = saved;
			showError(errSlot, err);
		}
	});
	return sel;
}

/*
 * form({onSubmit, submitLabel, fields, attrs, submitClass, reset}) -> a <form> with an error
 * slot. onSubmit(values, form) may throw an ApiError: its message shows in the form, and the
 * field it names is marked and focused. The submit button is disabled while onSubmit runs;
 * with reset, the form is cleared after a success (forms that create things).
 */
export function form({ fields, submitLabel, onSubmit, className, extra, attrs, submitClass = 'primary', reset = false }) {
	const errSlot = h('div', { class: 'form-error', 'aria-live': 'assertive' });
	const submit = h('button', { type: 'submit', class: submitClass }, submitLabel);
	const f = h('form', { class: className || 'form', ...attrs }, fields, h('div', { class: 'form-actions' }, submit, extra), errSlot);
	f.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		for (const el of f.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
		showError(errSlot, null);
		const values = Object.fromEntries(new FormData(f).entries());
		submit.disabled = true;
		try {
			await onSubmit(values, f);
			if (reset) f.reset();
		} catch (err) {
			showError(errSlot, err);
			const bad = err && err.field ? f.elements.namedItem(err.field) : null;
			if (bad && bad.setAttribute) {
				bad.setAttribute('aria-invalid', 'true');
				bad.focus();
			}
		} finally {
			submit.disabled = false;
		}
	});
	return f;
}

// A collapsible panel holding a form ("New user"), keyboard-reachable through <summary>.
export function disclosure(summary, ...content) {
	return h('details', { class: 'panel' }, h('summary', null, summary), h('div', { class: 'panel-body' }, content));
}

let toastBox = null;
// A short message at the corner of the screen, read out by screen readers.
export function toast(message, kind = 'ok') {
	if (!toastBox || !toastBox.isConnected) {
		toastBox = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
		document.body.append(toastBox);
	}
	const t = h('div', { class: `toast ${kind}` }, message);
	toastBox.append(t);
	setTimeout(() => t.remove(), 6000);
}

// A modal dialog with a confirm and a cancel button; input (optional) is a control shown
// above them. Resolves with answer() when confirmed, null when cancelled.
function modal({ title, message, confirmLabel, danger, input, answer }) {
	return new Promise((resolve) => {
		const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, confirmLabel);
		const cancel = h('button', { type: 'button' }, 'Cancel');
		const d = h(
			'dialog',
			{ class: 'dialog', 'aria-labelledby': 'dlg-title' },
			h('h2', { id: 'dlg-title' }, title),
			message ? h('p', null, message) : null,
			input,
			h('div', { class: 'form-actions' }, ok, cancel),
		);
		let result = null;
		ok.addEventListener('click', () => {
			result = answer();
			d.close();
		});
		cancel.addEventListener('click', () => d.close());
		d.addEventListener('close', () => {
			d.remove();
			resolve(result);
		});
		document.body.append(d);
		d.showModal();
		cancel.focus();
	});
}

// Asks before something that cannot be undone. Resolves true when confirmed.
export async function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false }) {
	return (await modal({ title, message, confirmLabel, danger, answer: () => true })) === true;
}

/*
 * Asks before something that cannot be undone (a danger confirmDialog: title, message,
 * confirmLabel), then runs action; an error it throws (an ApiError) shows in errSlot.
 */
export async function confirmThen(errSlot, { title, message, confirmLabel }, action) {
	if (!(await confirmDialog({ title, message, confirmLabel, danger: true }))) return;
	showError(errSlot, null);
	try {
		await action();
	} catch (err) {
		showError(errSlot, err);
	}
}

// Asks for a short text (a comment on a decision). Resolves with it ('' when left blank), or
// null when cancelled.
export function askDialog({ title, message, label, confirmLabel = 'Confirm', danger = false }) {
	const ta = h('textarea', { name: 'comment', rows: 3, maxlength: 1024 });
	return modal({ title, message, confirmLabel, danger, input: field(label, ta), answer: () => ta.value.trim() });
}

export async function copyText(text) {
	if (navigator.clipboard && window.isSecureContext) {
		await navigator.clipboard.writeText(text);
		return;
	}
	// Plain http on another host: the clipboard API is off; fall back to a selection.
	const ta = h('textarea', { class: 'visually-hidden', readonly: true }, text);
	document.body.append(ta);
	ta.select();
	const ok = document.execCommand('copy');
	ta.remove();
	if (!ok) throw new Error('copying is blocked here; select the text and copy it by hand');
}

// A secret shown once (a new token): read-only field, copy button, and a way to dismiss it.
export function secretOnce(title, secret, note) {
	const input = h('input', {
		type: 'text',
		readonly: true,
		value: secret,
		class: 'secret',
		'aria-label': title,
		spellcheck: 'false',
		onFocus: (e) => e.target.select(),
	});
	const copy = h('button', { type: 'button', class: 'primary' }, 'Copy');
	copy.addEventListener('click', async () => {
		try {
			await copyText(secret);
			copy.textContent = 'Copied';
			toast('Copied to the clipboard');
		} catch (e) {
			input.select();
			toast(e.message, 'error');
		}
	});
	const box = h(
		'section',
		{ class: 'alert secret-once', 'aria-label': title },
		h('p', null, h('strong', null, title)),
		note ? h('p', null, note) : null,
		h('div', { class: 'secret-row' }, input, copy),
		h('p', null, h('button', { type: 'button', class: 'link', onClick: () => box.remove() }, 'Done, hide it')),
	);
	return box;
}

// "Load more" under a list that follows the pager; calls add(items) with each page.
export function loadMore(pager, add, onError) {
	const btn = h('button', { type: 'button', class: 'load-more' }, 'Load more');
	const sync = () => {
		btn.hidden = pager.done;
	};
	btn.addEventListener('click', async () => {
		btn.disabled = true;
		try {
			add(await pager.next());
		} catch (err) {
			onError(err);
		} finally {
			btn.disabled = false;
			sync();
		}
	});
	sync();
	btn.sync = sync;
	return btn;
}

// Blank number input -> null (no quota), else an integer.
export function intOrNull(v) {
	const s = String(v ?? '').trim();
	return s === '' ? null : Number(s);
}

export const quotaText = (v) => (v === null || v === undefined ? 'unlimited' : String(v));

// '747 B', '1.5 KiB', '2.0 GiB' (binary units), with the exact count in bytes as a title.
export function fmtBytes(n) {
	if (typeof n !== 'number') return '';
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
	let v = n;
	let i = 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export const bytes = (n) => h('span', { title: `${Number(n).toLocaleString('en')} bytes` }, fmtBytes(n));

// A button that copies text and says so.
export function copyButton(text, label = 'Copy', what = 'text') {
	const btn = h('button', { type: 'button', class: 'small', 'aria-label': `Copy ${what}` }, label);
	btn.addEventListener('click', async () => {
		try {
			await copyText(text);
			toast(`Copied ${what}`);
		} catch (e) {
			toast(e.message, 'error');
		}
	});
	return btn;
}

// A sha256 shown short (its first 12 characters; the whole in the title) with a copy button.
export function hash(sha) {
	if (!sha) return h('span', { class: 'muted' }, '—');
	return h('span', { class: 'hash' }, h('code', { title: sha }, sha.slice(0, 12)), copyButton(sha, 'Copy', `sha256 ${sha.slice(0, 12)}`));
}

// A command to run, in a block, with a copy button.
export function snippet(text, what = 'command') {
	return h('div', { class: 'snippet' }, h('code', { class: 'block' }, text), copyButton(text, 'Copy', what));
}

// The trail of links above a page's title: crumbs are [text, href] ([text] for the current page).
export function breadcrumb(...crumbs) {
	const parts = [];
	crumbs.forEach(([text, href], i) => {
		if (i) parts.push(' › ');
		parts.push(href ? h('a', { href }, text) : h('span', { 'aria-current': 'page' }, text));
	});
	return h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, parts);
}

// Links between the parts of one object (a project's Overview, Datasets, ...): tabs are
// [key, text, href]; the active one is marked for the eye and for screen readers.
export function tabs(label, items, active) {
	return h(
		'nav',
		{ class: 'tabs', 'aria-label': label },
		h('ul', null, items.map(([key, text, href]) => h('li', null, h('a', { href, 'aria-current': key === active ? 'page' : null }, text)))),
	);
}

// A definition list from [term, value] pairs (pairs with a null value are left out).
export function facts(pairs) {
	return h(
		'dl',
		{ class: 'facts' },
		pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
	);
}

// Nodes with a space between each (so copied text and screen readers keep words apart).
export const spaced = (nodes) => nodes.flatMap((n, i) => (i ? [' ', n] : [n]));

// Small labels: a list of strings, or a map shown as key=value.
export function chips(items, kind = '') {
	const list = Array.isArray(items) ? items : Object.entries(items || {}).map(([k, v]) => `${k}=${v}`);
	if (!list.length) return h('span', { class: 'muted' }, '—');
	return h('span', { class: 'chips' }, spaced(list.map((t) => h('span', { class: `chip ${kind}`.trim() }, t))));
}

// Any JSON value, pretty-printed (schemas, metadata, signatures).
export const jsonBlock = (v) => h('pre', { class: 'json' }, JSON.stringify(v, null, 2));

// A panel with a heading: id names the heading for aria-labelledby.
export function panel(id, title, ...content) {
	return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), content);
}

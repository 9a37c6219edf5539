// logview.js: a job's log on its page, followed live. The tail is read first (GET .../logs,
// by byte offset), then `?follow=1` is read as a stream (fetch + ReadableStream +
// TextDecoder) and each piece is appended as it arrives. The page keeps a bounded part of the
// log: older text is dropped while following, and "Show earlier output" brings it back a page
// at a time. It scrolls along unless the reader scrolled up; a connection that drops while the
// job is still going is opened again from the offset reached; the stream ending with the job
// ends the following. Its toolbar searches what is on the page (the matching lines, with
// their count), wraps long lines, and downloads the whole log of the attempt shown.
import * as api from './api.js';
import { h, fmtBytes } from './ui.js';

const PAGE = 64 * 1024; // bytes read at once: the tail at first, then each "show earlier"
const KEEP = 512 * 1024; // bytes kept on the page while following at the end
const RETRY_MS = [1000, 2000, 5000, 10000];
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
// What the server puts in the stream when a requeued job starts its next attempt.
const BANNER = /\n--- attempt (\d+) ---\n/;

const enc = new TextEncoder();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// bytes from a partial read: drops what comes before the first whole line (start > 0).
function fromLineStart(bytes, start) {
	if (start === 0) return { bytes, skipped: 0 };
	const nl = bytes.indexOf(10);
	return nl < 0 ? { bytes, skipped: 0 } : { bytes: bytes.subarray(nl + 1), skipped: nl + 1 };
}

/*
 * logView(job, {onEnded}) -> {el, stop}. onEnded(job) runs once the job has ended and its
 * whole log is on the page. stop() closes the stream (when the view is left).
 */
export function logView(job, { onEnded = () => {} } = {}) {
	const id = job.id;
	const box = h('pre', { class: 'log', tabindex: '0', role: 'log', 'aria-label': `Log of job ${id}`, 'aria-live': 'off' });
	const status = h('p', { class: 'log-status muted', role: 'status' });
	const earlier = h('button', { type: 'button', class: 'small', hidden: true }, 'Show earlier output');
	const jump = h('button', { type: 'button', class: 'small', hidden: true }, 'Jump to the end');
	const search = h('input', { type: 'search', class: 'log-search', 'aria-label': `Search the log of job ${id}`, placeholder: 'Search the log', autocomplete: 'off', spellcheck: 'false' });
	const wrap = h('button', { type: 'button', class: 'small', 'aria-pressed': 'true' }, 'Wrap lines');
	const save = h('button', { type: 'button', class: 'small' }, 'Download');
	const found = h('p', { class: 'log-found muted', role: 'status', hidden: true });
	const matches = h('pre', { class: 'log-matches', tabindex: '0', hidden: true, 'aria-label': 'Matching lines' });
	const el = h('div', { class: 'logview' }, h('div', { class: 'toolbar' }, search, wrap, save, earlier, jump), found, matches, box, status);

	// What is on the page: pieces of the log of some attempt, [start, end) in its bytes.
	const chunks = [];
	let kept = 0;
	let attempt = 1;
	let offset = 0; // where following goes on, in the current attempt
	let stopped = false;
	let ctrl = null;

	const atEnd = () => box.scrollTop + box.clientHeight >= box.scrollHeight - 24;
	let following = true;
	box.addEventListener('scroll', () => {
		following = atEnd();
		if (following) jump.hidden = true;
	});
	jump.addEventListener('click', () => {
		box.scrollTop = box.scrollHeight;
		following = true;
		jump.hidden = true;
	});

	// Search: the lines on the page that hold the text (any case), at most MAX_MATCHES shown.
	const MAX_MATCHES = 500;
	let searchTimer = null;
	const runSearch = () => {
		const q = search.value.trim().toLowerCase();
		found.hidden = matches.hidden = !q;
		if (!q) return;
		const hits = box.textContent.split('\n').filter((l) => l.toLowerCase().includes(q));
		found.textContent = `${hits.length} matching line${hits.length === 1 ? '' : 's'}${hits.length > MAX_MATCHES ? ` (the last ${MAX_MATCHES} shown)` : ''} on the page`;
		matches.textContent = hits.slice(-MAX_MATCHES).join('\n');
		matches.hidden = !hits.length;
	};
	search.addEventListener('input', () => {
		clearTimeout(searchTimer);
		searchTimer = setTimeout(runSearch, 150);
	});
	wrap.addEventListener('click', () => {
		const on = wrap.getAttribute('aria-pressed') !== 'true';
		wrap.setAttribute('aria-pressed', String(on));
		box.classList.toggle('nowrap', !on);
		matches.classList.toggle('nowrap', !on);
	});
	// The whole log of the attempt shown, read in pieces of at most 4 MiB, saved as a file.
	save.addEventListener('click', async () => {
		save.disabled = true;
		try {
			const parts = [];
			let off = 0;
			for (;;) {
				const res = await api.raw(`/jobs/${id}/logs`, { attempt, offset: off, limit: 4 << 20 });
				const b = await res.arrayBuffer();
				parts.push(b);
				off += b.byteLength;
				if (!b.byteLength || off >= Number(res.headers.get('X-Log-Size'))) break;
			}
			const url = URL.createObjectURL(new Blob(parts, { type: 'text/plain' }));
			const a = h('a', { href: url, download: `job-${id}-attempt-${attempt}.log`, hidden: true });
			document.body.append(a);
			a.click();
			a.remove();
			setTimeout(() => URL.revokeObjectURL(url), 60_000);
		} catch (err) {
			status.textContent = `Could not download the log: ${err.message}`;
		} finally {
			save.disabled = false;
		}
	});

	const syncEarlier = () => {
		const first = chunks[0];
		earlier.hidden = !first || (first.start === 0 && first.attempt <= 1);
		if (!earlier.hidden) earlier.textContent = first.start > 0 ? `Show earlier output (${fmtBytes(first.start)} before)` : `Show attempt ${first.attempt - 1}`;
	};

	function add(text, piece, where = 'end') {
		if (!text) return;
		const node = document.createTextNode(text);
		const c = { ...piece, node, size: piece.end - piece.start };
		if (where === 'start') {
			box.prepend(node);
			chunks.unshift(c);
		} else {
			const stick = following;
			box.append(node);
			chunks.push(c);
			// Bounded: while following, the oldest text goes (show earlier brings it back).
			while (stick && kept + c.size > KEEP && chunks.length > 1) {
				const old = chunks.shift();
				old.node.remove();
				kept -= old.size;
			}
			if (stick) box.scrollTop = box.scrollHeight;
			else jump.hidden = false;
		}
		kept += c.size;
		syncEarlier();
		if (search.value.trim()) runSearch();
	}

	// [start, start + limit) of an attempt's log, and the headers of the answer.
	async function read(att, start, limit) {
		const res = await api.raw(`/jobs/${id}/logs`, { attempt: att, offset: start, limit });
		return { bytes: new Uint8Array(await res.arrayBuffer()), size: Number(res.headers.get('X-Log-Size')), attempt: Number(res.headers.get('X-Job-Attempt')) };
	}

	// The last PAGE bytes of an attempt's log (the latest attempt when att is undefined).
	async function tail(att) {
		let r = await read(att, 0, PAGE);
		let start = 0;
		if (r.size > PAGE) {
			start = r.size - PAGE;
			r = { ...(await read(r.attempt, start, PAGE)), attempt: r.attempt };
		}
		const { bytes, skipped } = fromLineStart(r.bytes, start);
		return { attempt: r.attempt, start: start + skipped, end: start + r.bytes.length, text: new TextDecoder().decode(bytes) };
	}

	earlier.addEventListener('click', async () => {
		const first = chunks[0];
		earlier.disabled = true;
		try {
			if (first.start > 0) {
				const start = Math.max(0, first.start - PAGE);
				const r = await read(first.attempt, start, first.start - start);
				const { bytes, skipped } = fromLineStart(r.bytes, start);
				add(new TextDecoder().decode(bytes), { attempt: first.attempt, start: start + skipped, end: first.start }, 'start');
			} else {
				const t = await tail(first.attempt - 1);
				add(`${t.text}\n--- attempt ${first.attempt} ---\n`, t, 'start');
			}
		} catch (err) {
			status.textContent = `Could not read the earlier output: ${err.message}`;
		} finally {
			earlier.disabled = false;
		}
	});

	// The stream's bytes, split where a new attempt starts.
	function received(bytes, decoder) {
		const text = decoder.decode(bytes, { stream: true });
		const m = BANNER.exec(text);
		if (m && Number(m[1]) > attempt) {
			const after = text.slice(m.index + m[0].length);
			const afterBytes = enc.encode(after).length;
			add(text.slice(0, m.index + m[0].length), { attempt, start: offset, end: offset + bytes.length - afterBytes });
			attempt = Number(m[1]);
			offset = 0;
			add(after, { attempt, start: 0, end: afterBytes });
			offset = afterBytes;
			return;
		}
		add(text, { attempt, start: offset, end: offset + bytes.length });
		offset += bytes.length;
	}

	// The job, when it has ended (null while it goes on, or when that cannot be told).
	async function ended() {
		try {
			const j = await api.get(`/jobs/${id}`);
			return TERMINAL.has(j.state) ? j : null;
		} catch {
			return null;
		}
	}

	function finish(j) {
		status.textContent = `End of the log: the job ${j.state}.`;
		el.classList.add('ended');
		onEnded(j);
	}

	async function follow() {
		let failures = 0;
		while (!stopped) {
			status.textContent = kept ? 'Following the log live…' : 'Following the log live: no output yet…';
			let got = false;
			try {
				ctrl = new AbortController();
				const res = await api.raw(`/jobs/${id}/logs`, { follow: 1, attempt, offset }, { signal: ctrl.signal });
				const reader = res.body.getReader();
				const decoder = new TextDecoder();
				for (;;) {
					const { done, value } = await reader.read();
					if (done) break;
					if (value.length) {
						got = true;
						status.textContent = 'Following the log live…';
						received(value, decoder);
					}
				}
			} catch (err) {
				if (stopped) return;
				if (err.status && err.status !== 0) {
					status.textContent = `Could not follow the log: ${err.message}`;
					return;
				}
			}
			if (stopped) return;
			const j = await ended();
			if (stopped) return;
			if (j) return finish(j);
			// The connection dropped while the job goes on: again from the offset reached.
			failures = got ? 0 : failures + 1;
			const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
			status.textContent = `The connection to the log was lost; reconnecting in ${wait / 1000} s…`;
			await sleep(wait);
		}
	}

	(async () => {
		try {
			const t = await tail();
			if (stopped) return;
			attempt = t.attempt;
			offset = t.end;
			add(t.text, t);
			// Also for a job that has ended: the stream then sends what came after the read and ends.
			await follow();
		} catch (err) {
			if (!stopped) status.textContent = `Could not read the log: ${err.message}`;
		}
	})();

	return {
		el,
		stop() {
			stopped = true;
			if (ctrl) ctrl.abort();
		},
	};
}

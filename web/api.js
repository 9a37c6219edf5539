// api.js: the dashboard's only way to the server: the public REST API under /api/v1.
// - the Bearer token lives in sessionStorage (one browser tab, gone when it closes; no cookies)
// - errors become ApiError with the API's own message, code and field
// - a 401 on the stored token clears it and hands over to the sign-in (setUnauthorizedHandler)
// - Pager / listAll follow next_cursor through paginated lists; raw() gives the Response of
//   answers that are not JSON (logs, files, streams)

const TOKEN_KEY = 'atrium.token';
const KIND_KEY = 'atrium.token_kind';

export const session = {
	get token() {
		return sessionStorage.getItem(TOKEN_KEY);
	},
	// 'session' (from a password sign-in; revoked on sign-out) or 'token' (pasted, kept alive).
	get kind() {
		return sessionStorage.getItem(KIND_KEY) || 'token';
	},
	set(token, kind) {
		sessionStorage.setItem(TOKEN_KEY, token);
		sessionStorage.setItem(KIND_KEY, kind);
	},
	clear() {
		sessionStorage.removeItem(TOKEN_KEY);
		sessionStorage.removeItem(KIND_KEY);
	},
};

export class ApiError extends Error {
	constructor(status, code, message, field = null) {
		super(message);
		this.name = 'ApiError';
		this.status = status;
		this.code = code;
		this.field = field;
	}
}

let unauthorized = () => {};
// fn(err) runs when a call made with the stored token answers 401 (expired, revoked, disabled).
export function setUnauthorizedHandler(fn) {
	unauthorized = fn;
}

// '?a=1&b=x' from an object, leaving out empty values.
export function qs(params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params || {})) {
		if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
	}
	const s = q.toString();
	return s ? '?' + s : '';
}

// One call. opts: body (JSON-encoded), query, token (overrides the stored one; '' sends none).
export async function request(method, path, opts = {}) {
	const { body, query, token } = opts;
	const tok = token ?? session.token;
	const headers = { Accept: 'application/json' };
	if (tok) headers.Authorization = 'Bearer ' + tok;
	if (body !== undefined) headers['Content-Type'] = 'application/json';

	let res;
	try {
		res = await fetch('/api/v1' + path + qs(query), {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			cache: 'no-store',
			credentials: 'omit',
		});
	} catch (e) {
		throw new ApiError(0, 'network', `could not reach the server (${e.message})`);
	}
	const text = await res.text();
	const data = parseJson(text);
	if (res.ok) return data;
	throw failure(res, data, token);
}

function parseJson(text) {
	if (!text) return null;
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

// The ApiError of a failed answer (data: its parsed body). A 401 on the stored token
// (token undefined: the caller did not pass its own) also hands over to the sign-in.
function failure(res, data, token) {
	const e = data && typeof data.error === 'object' ? data.error : null;
	const err = new ApiError(
		res.status,
		e?.code || `http_${res.status}`,
		e?.message || `the server answered ${res.status} ${res.statusText}`.trim(),
		e?.field ?? null,
	);
	if (res.status === 429) err.retryAfter = res.headers.get('Retry-After');
	if (res.status === 401 && token === undefined && session.token) {
		session.clear();
		unauthorized(err);
	}
	return err;
}

/*
 * A call whose answer is not JSON (logs, files, streams): the Response once it is 2xx, with
 * the Bearer token in the header. opts.signal aborts it (an AbortController's).
 */
export async function raw(path, query, opts = {}) {
	let res;
	try {
		res = await fetch('/api/v1' + path + qs(query), {
			headers: { Authorization: 'Bearer ' + session.token },
			cache: 'no-store',
			credentials: 'omit',
			signal: opts.signal,
		});
	} catch (e) {
		if (e.name === 'AbortError') throw e;
		throw new ApiError(0, 'network', `could not reach the server (${e.message})`);
	}
	if (!res.ok) throw failure(res, parseJson(await res.text()));
	return res;
}

/*
 * Downloads a file the API serves (dataset, model and run files) and saves it as filename.
 * The Bearer token goes in the header, never in an address: the bytes are fetched into a
 * Blob and saved through an object URL, so the whole file passes through the tab's memory.
 */
export async function download(path, filename) {
	const res = await raw(path);
	const url = URL.createObjectURL(await res.blob());
	const a = document.createElement('a');
	a.href = url;
	a.download = filename;
	a.hidden = true;
	document.body.append(a);
	a.click();
	a.remove();
	// The click starts the save at once; the object URL may go a little later.
	setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/*
 * Sends a file (a File or Blob) as the whole request body, with XMLHttpRequest so that the
 * upload's progress can be shown: onProgress(sent, total) as bytes leave. Resolves with the
 * JSON answer and its status ({status, data}); rejects with an ApiError as request() does.
 */
export function upload(method, path, query, file, { onProgress, contentType = 'application/octet-stream' } = {}) {
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open(method, '/api/v1' + path + qs(query));
		xhr.setRequestHeader('Accept', 'application/json');
		if (session.token) xhr.setRequestHeader('Authorization', 'Bearer ' + session.token);
		xhr.setRequestHeader('Content-Type', contentType);
		if (onProgress) xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
		xhr.addEventListener('error', () => reject(new ApiError(0, 'network', 'could not reach the server (the upload was cut off)')));
		xhr.addEventListener('load', () => {
			const data = parseJson(xhr.responseText);
			if (xhr.status >= 200 && xhr.status < 300) {
				resolve({ status: xhr.status, data });
				return;
			}
			const res = { status: xhr.status, statusText: xhr.statusText, headers: { get: (n) => xhr.getResponseHeader(n) } };
			reject(failure(res, data, undefined));
		});
		xhr.send(file);
	});
}

export const get = (path, query, opts) => request('GET', path, { ...opts, query });
export const post = (path, body = {}, opts) => request('POST', path, { ...opts, body });
export const patch = (path, body, opts) => request('PATCH', path, { ...opts, body });
export const put = (path, body = {}, opts) => request('PUT', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

// A path segment from a name, escaped.
export const seg = (s) => encodeURIComponent(s);
// A file path inside a version ('images/a b.png'), each segment escaped, the '/' kept.
export const filePath = (p) => String(p).split('/').map(seg).join('/');

// Walks a paginated list one page at a time: `await pager.next()` gives the next items.
export class Pager {
	constructor(path, query = {}, limit = 50) {
		this.path = path;
		this.query = query;
		this.limit = limit;
		this.cursor = null;
		this.started = false;
	}

	get done() {
		return this.started && !this.cursor;
	}

	async next() {
		if (this.done) return [];
		const page = await get(this.path, { ...this.query, limit: this.limit, cursor: this.cursor });
		this.started = true;
		this.cursor = page.next_cursor || null;
		return page.items || [];
	}
}

// Every item of a list (following next_cursor), up to max items.
export async function listAll(path, query = {}, max = 5000) {
	const pager = new Pager(path, query, 1000);
	const items = [];
	while (!pager.done && items.length < max) items.push(...(await pager.next()));
	return items.slice(0, max);
}

// markdown.js: a small, safe Markdown renderer for competition descriptions and rules. It
// builds DOM nodes with h() only (text nodes and attribute values, never innerHTML), so any
// markup in the source shows as text. What it knows: # headings (1-3), paragraphs, - / *
// and 1. lists, ``` code blocks, `code`, **bold**, *italic*, and [links](https://...) whose
// target is http(s) (anything else stays text).
import { h } from './ui.js';

const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*]+\*)|(\[[^\]]+\]\([^)\s]+\))/;

function inline(text) {
	const out = [];
	let rest = text;
	for (let m = INLINE.exec(rest); m; m = INLINE.exec(rest)) {
		if (m.index) out.push(rest.slice(0, m.index));
		const t = m[0];
		if (m[1]) out.push(h('code', null, t.slice(1, -1)));
		else if (m[2]) out.push(h('strong', null, t.slice(2, -2)));
		else if (m[3]) out.push(h('em', null, t.slice(1, -1)));
		else {
			const [, label, url] = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(t);
			out.push(/^https?:\/\//i.test(url) ? h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, label) : t);
		}
		rest = rest.slice(m.index + t.length);
	}
	if (rest) out.push(rest);
	return out;
}

export function markdown(src) {
	const root = h('div', { class: 'markdown' });
	const lines = String(src || '').split(/\r?\n/);
	let para = [];
	let list = null;
	const flush = () => {
		if (para.length) root.append(h('p', null, inline(para.join(' '))));
		para = [];
		list = null;
	};
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i];
		let m;
		if (/^```/.test(line)) {
			flush();
			const code = [];
			for (i++; i < lines.length && !/^```/.test(lines[i]); i++) code.push(lines[i]);
			root.append(h('pre', null, h('code', null, code.join('\n'))));
		} else if ((m = /^(#{1,3})\s+(.*)$/.exec(line))) {
			flush();
			root.append(h(`h${m[1].length + 2}`, null, inline(m[2])));
		} else if ((m = /^\s*(?:[-*]|(\d+)\.)\s+(.*)$/.exec(line))) {
			if (para.length) flush();
			const tag = m[1] ? 'ol' : 'ul';
			if (!list || list.tagName.toLowerCase() !== tag) root.append((list = h(tag)));
			list.append(h('li', null, inline(m[2])));
		} else if (!line.trim()) {
			flush();
		} else {
			list = null;
			para.push(line.trim());
		}
	}
	flush();
	return root;
}

// The weekly report's Markdown (headings, paragraphs, lists, tables, **bold**, `code`) turned
// into elements. Text only ever becomes text nodes: no HTML passes through.
import { h } from './dom.js';

function inline(text) {
  const out = [];
  const pattern = /\*\*(.+?)\*\*|`([^`]+)`/g;
  let last = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(m[1] !== undefined ? h('strong', {}, m[1]) : h('code', {}, m[2]));
    last = pattern.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function cells(line) {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
}

export function renderMarkdown(markdown) {
  const root = h('div', { class: 'markdown' });
  const lines = String(markdown || '').split(/\r?\n/);
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (!line.trim()) { ++i; continue; }
    if (heading) {
      // the page has its own h1: the report's levels move one down
      root.append(h(`h${Math.min(heading[1].length + 1, 5)}`, {}, inline(heading[2])));
      ++i;
    } else if (line.trim().startsWith('|')) {
      const rows = [];
      while (i < lines.length && lines[i].trim().startsWith('|')) rows.push(lines[i++]);
      const header = cells(rows[0]);
      const body = rows.slice(1).filter((r) => !/^\s*\|?\s*:?-{2,}/.test(r)).map(cells);
      root.append(h('div', { class: 'table-wrap' }, h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, header.map((c) => h('th', { scope: 'col' }, inline(c))))),
        h('tbody', {}, body.map((r) => h('tr', {}, r.map((c) => h('td', {}, inline(c)))))))));
    } else if (/^\s*[-*]\s+/.test(line)) {
      const items = [];
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i])) items.push(lines[i++].replace(/^\s*[-*]\s+/, ''));
      root.append(h('ul', {}, items.map((item) => h('li', {}, inline(item)))));
    } else {
      const para = [];
      while (i < lines.length && lines[i].trim() && !/^(#{1,4})\s|^\s*\||^\s*[-*]\s+/.test(lines[i])) para.push(lines[i++]);
      root.append(h('p', {}, inline(para.join(' '))));
    }
  }
  return root;
}

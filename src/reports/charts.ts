// Inline SVG charts for the HTML reports: a bar chart (counts by severity, by category) and a line chart (MTTR by
// period). Drawn by hand so a report is one file with no script; every label is escaped.
import { html } from './text';

const W = 560;
const H = 220;
const PAD = { left: 48, right: 16, top: 28, bottom: 40 };

function frame(title: string, inner: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" role="img" aria-label="${html(title)}">
<title>${html(title)}</title><text x="${PAD.left}" y="18" font-size="13" font-weight="600">${html(title)}</text>
<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#57606a"/>
${inner}</svg>`;
}

export function barChart(title: string, data: Record<string, number>): string {
  const entries = Object.entries(data);
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, entries.length);
  const bars = entries
    .map(([label, value], i) => {
      const h = (value / max) * plotH;
      const x = PAD.left + i * slot + slot * 0.15;
      const y = H - PAD.bottom - h;
      return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="#0969da"><title>${html(label)}: ${value}</title></rect>
<text x="${(x + slot * 0.35).toFixed(1)}" y="${(y - 4).toFixed(1)}" font-size="11" text-anchor="middle">${value}</text>
<text x="${(x + slot * 0.35).toFixed(1)}" y="${H - PAD.bottom + 16}" font-size="11" text-anchor="middle">${html(label)}</text>`;
    })
    .join('\n');
  return frame(
    title,
    entries.length ? bars : `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12">no data</text>`,
  );
}

/** Points with a null value are gaps (no incident resolved in that period). */
export function lineChart(
  title: string,
  points: { label: string; value: number | null }[],
  unit: (v: number) => string,
): string {
  const values = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  const max = Math.max(1, ...values);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, points.length - 1);
  const at = (i: number, v: number) => [PAD.left + i * step, H - PAD.bottom - (v / max) * plotH] as const;
  const segments: string[] = [];
  let current: string[] = [];
  points.forEach((p, i) => {
    if (p.value === null) {
      if (current.length) segments.push(current.join(' '));
      current = [];
      return;
    }
    const [x, y] = at(i, p.value);
    current.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  });
  if (current.length) segments.push(current.join(' '));
  const lines = segments
    .map((s) => `<polyline points="${s}" fill="none" stroke="#0969da" stroke-width="2"/>`)
    .join('\n');
  const dots = points
    .map((p, i) => {
      const [x] = at(i, 0);
      const label = `<text x="${x.toFixed(1)}" y="${H - PAD.bottom + 16}" font-size="10" text-anchor="middle">${html(p.label)}</text>`;
      if (p.value === null) return label;
      const [, y] = at(i, p.value);
      return `${label}<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="#0969da"><title>${html(p.label)}: ${html(unit(p.value))}</title></circle>
<text x="${x.toFixed(1)}" y="${(y - 6).toFixed(1)}" font-size="10" text-anchor="middle">${html(unit(p.value))}</text>`;
    })
    .join('\n');
  return frame(title, `${lines}\n${dots}`);
}

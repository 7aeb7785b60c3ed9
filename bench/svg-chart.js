// Hand-written SVG charts for docs/benchmarks.md (no dependency): grouped horizontal bars and lines.
const WIDTH = 760;
const COLORS = ['#8a8f98', '#2f6fdf', '#e0803a', '#3aa55d', '#b04fc4', '#c9a227'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fixed = (n) => Math.round(n * 10) / 10;
const text = (x, y, content, attrs = '') => `<text x="${fixed(x)}" y="${fixed(y)}" ${attrs}>${escape(content)}</text>`;

function frame(height, title, body) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="12" role="img" aria-label="${escape(title)}">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(16, 24, title, 'font-size="15" font-weight="600" fill="#222"'),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function legend(labels, y, colorOf) {
  let x = 16;
  return labels.flatMap((label, i) => {
    const item = [`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${colorOf(i)}"/>`, text(x + 17, y, label, 'fill="#333"')];
    x += 28 + label.length * 6.5;
    return item;
  });
}

/**
 * Grouped horizontal bars: one group per row label, one bar per series, each labelled with its value.
 * @param {{ title: string, series: string[], groups: { label: string, values: (number | null)[] }[],
 *   format?: (v: number) => string, log?: boolean, colors?: string[] }} chart  `log` for a logarithmic axis
 *   (values > 0); `colors`, one per series, to keep a subject's colour from chart to chart
 */
export function barChart({ title, series, groups, format = (v) => String(v), log = false, colors }) {
  const colorOf = (s) => colors?.[s] ?? COLORS[s % COLORS.length];
  const labelWidth = 190;
  const plotWidth = WIDTH - labelWidth - 110;
  const bar = 16;
  const groupHeight = series.length * (bar + 4) + 14;
  const top = 60;
  const values = groups.flatMap((g) => g.values).filter((v) => v !== null && Number.isFinite(v));
  const max = Math.max(...values, Number.MIN_VALUE);
  const min = log ? Math.min(...values.filter((v) => v > 0)) : 0;
  const scale = log
    ? (v) => (v <= 0 ? 0 : plotWidth * Math.max(0.02, (Math.log10(v) - Math.log10(min) + 0.3) / (Math.log10(max) - Math.log10(min) + 0.3)))
    : (v) => (plotWidth * v) / max;
  const body = [...legend(series, 46, colorOf)];
  groups.forEach((group, g) => {
    const y0 = top + g * groupHeight;
    body.push(text(labelWidth - 10, y0 + (series.length * (bar + 4)) / 2 + 2, group.label, 'text-anchor="end" fill="#222"'));
    group.values.forEach((value, s) => {
      const y = y0 + s * (bar + 4);
      if (value === null || !Number.isFinite(value)) {
        body.push(text(labelWidth + 4, y + bar - 4, 'n/a', 'fill="#666"'));
        return;
      }
      const w = Math.max(1, scale(value));
      body.push(`<rect x="${labelWidth}" y="${y}" width="${fixed(w)}" height="${bar}" fill="${colorOf(s)}"/>`);
      body.push(text(labelWidth + w + 6, y + bar - 4, format(value), 'fill="#222"'));
    });
  });
  const height = top + groups.length * groupHeight + (log ? 24 : 8);
  body.push(`<line x1="${labelWidth}" y1="${top - 6}" x2="${labelWidth}" y2="${height - (log ? 28 : 12)}" stroke="#999"/>`);
  if (log) body.push(text(labelWidth, height - 8, 'logarithmic scale', 'fill="#666" font-size="11"'));
  return frame(height, title, body);
}

/** A round step (1, 2 or 5 × a power of ten) at least `raw`. */
function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw);
}

/**
 * Lines over a shared x axis, with optional horizontal reference lines (a limit, a bound).
 * @param {{ title: string, xLabel: string, yLabel: string, series: { label: string, points: [number, number][] }[],
 *   references?: { label: string, y: number }[], formatX?: (v: number) => string, formatY?: (v: number) => string }} chart
 */
export function lineChart({ title, xLabel, yLabel, series, references = [], formatX = String, formatY = String }) {
  const left = 70;
  const right = 20;
  const top = 60;
  const plotHeight = 240;
  const height = top + plotHeight + 50;
  const plotWidth = WIDTH - left - right;
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = [...series.flatMap((s) => s.points.map(([, y]) => y)), ...references.map((r) => r.y)];
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  const step = niceStep((Math.max(...ys) * 1.1 || 1) / 4);
  const yMax = step * Math.ceil((Math.max(...ys) * 1.1 || 1) / step);
  const px = (x) => left + ((x - xMin) / (xMax - xMin)) * plotWidth;
  const py = (y) => top + plotHeight - (y / yMax) * plotHeight;
  const body = [...legend(series.map((s) => s.label), 46, (i) => COLORS[(i + 1) % COLORS.length])];
  for (let y = 0; y <= yMax + step / 2; y += step) {
    body.push(`<line x1="${left}" y1="${fixed(py(y))}" x2="${WIDTH - right}" y2="${fixed(py(y))}" stroke="#e5e5e5"/>`);
    body.push(text(left - 6, py(y) + 4, formatY(y), 'text-anchor="end" fill="#555" font-size="11"'));
  }
  for (const x of [xMin, (xMin + xMax) / 2, xMax]) body.push(text(px(x), top + plotHeight + 16, formatX(x), 'text-anchor="middle" fill="#555" font-size="11"'));
  body.push(text(left + plotWidth / 2, height - 10, xLabel, 'text-anchor="middle" fill="#333"'));
  body.push(text(14, top + plotHeight / 2, yLabel, `text-anchor="middle" fill="#333" transform="rotate(-90 14 ${top + plotHeight / 2})"`));
  for (const ref of references) {
    body.push(`<line x1="${left}" y1="${fixed(py(ref.y))}" x2="${WIDTH - right}" y2="${fixed(py(ref.y))}" stroke="#c0392b" stroke-dasharray="6 4"/>`);
    body.push(text(WIDTH - right - 4, py(ref.y) - 5, ref.label, 'text-anchor="end" fill="#c0392b" font-size="11"'));
  }
  series.forEach((s, i) => {
    const color = COLORS[(i + 1) % COLORS.length];
    const points = s.points.map(([x, y]) => `${fixed(px(x))},${fixed(py(y))}`).join(' ');
    body.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [x, y] of s.points) body.push(`<circle cx="${fixed(px(x))}" cy="${fixed(py(y))}" r="3" fill="${color}"/>`);
  });
  body.push(`<line x1="${left}" y1="${top + plotHeight}" x2="${WIDTH - right}" y2="${top + plotHeight}" stroke="#999"/>`);
  return frame(height, title, body);
}

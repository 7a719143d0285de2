/**
 * The HTML report: one self-contained file (inline CSS and SVG; no script, font or request to the network) showing
 *   a header       the source, the size and time range, and cards: events, flagged rows, threshold, model, labels found
 *   a legend       series, flagged event, labelled window, score, threshold
 *   one chart per value column   the series (blue), flagged events shaded red with their peaks marked, labelled windows
 *                  shaded amber; axes with ticks, the time axis labelled in dates when the time column holds dates
 *   a score chart  the anomaly score (grey) and the threshold it was compared with (dashed red), events shaded
 *   an event table start and end timestamps as the file wrote them, length, peak time and peak score (and whether a
 *                  labelled window overlaps)
 *   attention      model 'lstm-attn-ae' only: per event, a heat strip of the attention weights with which the
 *                  reconstruction of the peak point drew on each point of its window (which past steps the model used)
 * Dates are placed and labelled on the axis in UTC (a timestamp with a zone is converted; one without is taken as is).
 *
 * Long series are downsampled for drawing: each chart is cut into one bucket per unit of its 1000-unit-wide view box and
 * a bucket draws the min and the max of its points (in time order), so spikes survive and a 20k-point series gives
 * about 2,000 path points per chart. The markup is well-formed XML (every element closed, every attribute quoted).
 */
import type { AnomalyEvent, Range } from '../detect/events.js';
import type { AttentionMaps } from '../detect/networks.js';
import { timeTicks, niceTicks, formatTick, formatDuration } from './time.js';

export interface ReportData {
  title: string;
  /** Where the data came from (shown under the title). */
  source: string;
  timeKind: 'date' | 'number' | 'text' | 'index';
  timeColumn: string | null;
  /** Timestamps as written (null: row numbers). */
  times: string[] | null;
  /** Timestamps as numbers (ms for dates), sorted; null for text or row numbers. */
  timeValues: Float64Array | null;
  columns: string[];
  /** [n, F] row-major, NaN for gaps. */
  values: Float64Array;
  n: number;
  /** Scores, NaN where not scored (warm-up). */
  scores: Float64Array;
  thresholds: Float64Array;
  flags: Uint8Array;
  events: AnomalyEvent[];
  /** Labelled anomaly windows (inclusive row ranges), when labels were given. */
  labels: Range[] | null;
  /** Extra header cards: [label, value, note], e.g. ['Model', 'lstm-ae', 'window 32 · hidden 16']. */
  facts: Array<[string, string, string?]>;
  warnings: string[];
  /** Model 'lstm-attn-ae': one strip per event (the first MAX_STRIPS), see {@link attentionStrips}. */
  attention?: AttentionStrip[];
}

/** The attention of one event's peak: weights[j] = α of the window's last decoder step over point start + j. */
export interface AttentionStrip {
  /** The event's index in `events`. */
  event: number;
  /** The window's first point. */
  start: number;
  /** W weights, summing to 1. */
  weights: number[];
}

/** Events that get an attention strip. */
const MAX_STRIPS = 20;

/**
 * The strips of the report: for each event (the first MAX_STRIPS) whose peak ends a scored window, the attention row
 * of that window's last decoder step (the step that reconstructs the peak point), over the W points of the window.
 */
export function attentionStrips(a: AttentionMaps, events: AnomalyEvent[]): AttentionStrip[] {
  const W = a.window,
    out: AttentionStrip[] = [];
  events.slice(0, MAX_STRIPS).forEach((e, k) => {
    const start = e.peakIndex - W + 1;
    if (start < 0 || start >= a.count) return;
    const row = (start * W + W - 1) * W;
    out.push({ event: k, start, weights: Array.from(a.weights.subarray(row, row + W)) });
  });
  return out;
}

// Geometry of every chart, in view-box units (the SVG scales to the page width).
const VW = 1000,
  ML = 62,
  MR = 16,
  MT = 10,
  MB = 26;
const PW = VW - ML - MR;
const MAX_TABLE_ROWS = 1000;

const COLORS = {
  series: '#2563eb',
  event: '#dc2626',
  label: '#d97706',
  score: '#475569',
  threshold: '#dc2626',
  grid: '#e5e7eb',
  axis: '#9ca3af',
};

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const f1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** 4 significant digits, no trailing zeros; exponent form for very small or large magnitudes. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '–' : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** The x position (0…1) of every row: by time when the time is a number or a date, else by row number. */
function xPositions(d: ReportData): Float64Array {
  const xs = new Float64Array(d.n);
  const tv = d.timeValues;
  if (tv !== null && d.n > 1 && tv[d.n - 1] > tv[0]) {
    const t0 = tv[0],
      span = tv[d.n - 1] - t0;
    for (let i = 0; i < d.n; i++) xs[i] = (tv[i] - t0) / span;
  } else {
    for (let i = 0; i < d.n; i++) xs[i] = d.n > 1 ? i / (d.n - 1) : 0.5;
  }
  return xs;
}

/** An SVG path through (xs[i], y(i)), breaking at NaN, with min/max per bucket when there are more points than units. */
export function linePath(xs: Float64Array, y: (i: number) => number, n: number, toY: (v: number) => number): string {
  const parts: string[] = [];
  let pen = false;
  const point = (px: number, v: number): void => {
    parts.push(`${pen ? 'L' : 'M'}${f1(px)} ${f1(toY(v))}`);
    pen = true;
  };
  if (n <= 2 * PW) {
    for (let i = 0; i < n; i++) {
      const v = y(i);
      if (Number.isNaN(v)) {
        pen = false;
        continue;
      }
      point(ML + xs[i] * PW, v);
    }
    return parts.join('');
  }
  let b = -1,
    lo = NaN,
    hi = NaN,
    iLo = 0,
    iHi = 0,
    gap = false;
  const emit = (): void => {
    if (b < 0 || Number.isNaN(lo)) return;
    const px = ML + b + 0.5;
    if (iLo <= iHi) {
      point(px, lo);
      if (hi !== lo) point(px, hi);
    } else {
      point(px, hi);
      if (hi !== lo) point(px, lo);
    }
  };
  for (let i = 0; i < n; i++) {
    const bucket = Math.min(PW - 1, Math.floor(xs[i] * PW));
    if (bucket !== b) {
      emit();
      if (gap) pen = false;
      b = bucket;
      lo = NaN;
      hi = NaN;
      gap = false;
    }
    const v = y(i);
    if (Number.isNaN(v)) {
      gap = true;
      continue;
    }
    if (Number.isNaN(lo) || v < lo) {
      lo = v;
      iLo = i;
    }
    if (Number.isNaN(hi) || v > hi) {
      hi = v;
      iHi = i;
    }
  }
  emit();
  return parts.join('');
}

interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  step: number;
  /** Position of a value on the axis (identity, or square root). */
  g: (v: number) => number;
  label: (v: number) => string;
}

function yAxis(lo: number, hi: number, zero: boolean): Axis {
  if (zero) lo = Math.min(0, lo);
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const pad = (hi - lo) * 0.06;
  const { ticks, step } = niceTicks(zero && lo === 0 ? 0 : lo - pad, hi + pad, 5);
  return {
    lo: Math.min(ticks[0], zero && lo === 0 ? 0 : lo - pad),
    hi: Math.max(ticks[ticks.length - 1], hi + pad),
    ticks,
    step,
    g: (v) => v,
    label: (v) => formatTick(v, step),
  };
}

/**
 * A square-root axis from 0 to hi (for scores whose spikes would flatten everything else, the threshold included):
 * ticks at 1, 2, 5 × 10^k, from the largest down, at least 18 units apart.
 */
function sqrtAxis(hi: number, plotHeight: number): Axis {
  const top = Math.sqrt(hi) * 1.06;
  const cands: number[] = [];
  const e0 = Math.floor(Math.log10(hi));
  for (let e = e0 - 5; e <= e0 + 1; e++)
    for (const m of [1, 2, 5]) if (Math.sqrt(m * 10 ** e) <= top) cands.push(Number((m * 10 ** e).toPrecision(3)));
  cands.sort((a, b) => b - a);
  const ticks: number[] = [];
  let last = Infinity;
  for (const v of cands) {
    const px = (Math.sqrt(v) / top) * plotHeight;
    if (last - px >= 18 && px >= 12) {
      ticks.push(v);
      last = px;
    }
  }
  ticks.push(0);
  return {
    lo: 0,
    hi: top,
    ticks: ticks.reverse(),
    step: 0,
    g: (v) => Math.sqrt(Math.max(v, 0)),
    label: (v) => formatNumber(v),
  };
}

/** X-axis ticks as [position 0…1, label]. */
function xTicks(d: ReportData): Array<[number, string]> {
  const tv = d.timeValues;
  if (tv !== null && d.n > 1 && tv[d.n - 1] > tv[0]) {
    const t0 = tv[0],
      t1 = tv[d.n - 1];
    if (d.timeKind === 'date') return timeTicks(t0, t1, 9).map(({ t, label }) => [(t - t0) / (t1 - t0), label]);
    const { ticks, step } = niceTicks(t0, t1, 8);
    return ticks.filter((t) => t >= t0 && t <= t1).map((t) => [(t - t0) / (t1 - t0), formatTick(t, step)]);
  }
  const { ticks } = niceTicks(0, Math.max(d.n - 1, 1), 8);
  return ticks
    .filter((i) => i >= 0 && i <= d.n - 1 && Number.isInteger(i))
    .map((i) => {
      const label = d.times !== null ? truncate(d.times[i], 16) : String(i);
      return [d.n > 1 ? i / (d.n - 1) : 0.5, label];
    });
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Left and right edges (view-box x) of the rows start…end: halfway to the neighbours, at least 2 units wide. */
function span(xs: Float64Array, start: number, end: number): [number, number] {
  const n = xs.length;
  const x = (i: number): number => ML + xs[i] * PW;
  let l = start > 0 ? (x(start - 1) + x(start)) / 2 : x(start);
  let r = end < n - 1 ? (x(end) + x(end + 1)) / 2 : x(end);
  if (r - l < 2) {
    const c = (l + r) / 2;
    l = c - 1;
    r = c + 1;
  }
  return [Math.max(ML, l), Math.min(ML + PW, r)];
}

interface ChartSpec {
  id: string;
  label: string;
  height: number;
  lines: Array<{ y: (i: number) => number; color: string; width: number; dash?: string; name: string }>;
  zero: boolean;
  sqrt?: boolean;
  markers: Array<{ i: number; v: number }>;
}

function chart(d: ReportData, xs: Float64Array, xt: Array<[number, string]>, c: ChartSpec): string {
  const H = c.height,
    PH = H - MT - MB;
  let lo = Infinity,
    hi = -Infinity;
  for (const l of c.lines)
    for (let i = 0; i < d.n; i++) {
      const v = l.y(i);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (lo === Infinity) {
    lo = 0;
    hi = 1;
  }
  const ax = c.sqrt === true && hi > 0 ? sqrtAxis(hi, PH) : yAxis(lo, hi, c.zero);
  const toY = (v: number): number => MT + PH - ((ax.g(v) - ax.lo) / (ax.hi - ax.lo)) * PH;
  const out: string[] = [];
  out.push(
    `<svg class="chart" id="${c.id}" viewBox="0 0 ${VW} ${H}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(c.label)}">`,
  );
  out.push(`<rect x="${ML}" y="${MT}" width="${PW}" height="${PH}" fill="#ffffff"/>`);
  // Grid and y ticks.
  for (const t of ax.ticks) {
    const y = f1(toY(t));
    out.push(`<line x1="${ML}" x2="${ML + PW}" y1="${y}" y2="${y}" stroke="${COLORS.grid}" stroke-width="1"/>`);
    out.push(`<text x="${ML - 8}" y="${y}" dy="0.32em" text-anchor="end">${escapeHtml(ax.label(t))}</text>`);
  }
  // Labelled windows, then events, under the lines.
  for (const w of d.labels ?? []) {
    const [l, r] = span(xs, w.start, w.end);
    out.push(
      `<rect class="label" x="${f1(l)}" y="${MT}" width="${f1(r - l)}" height="${PH}" fill="${COLORS.label}" fill-opacity="0.16"/>`,
    );
    out.push(`<rect x="${f1(l)}" y="${MT + PH - 4}" width="${f1(r - l)}" height="4" fill="${COLORS.label}"/>`);
  }
  for (const e of d.events) {
    const [l, r] = span(xs, e.start, e.end);
    out.push(
      `<rect class="event" x="${f1(l)}" y="${MT}" width="${f1(r - l)}" height="${PH}" fill="${COLORS.event}" fill-opacity="0.14"><title>${escapeHtml(eventTitle(d, e))}</title></rect>`,
    );
    out.push(`<rect x="${f1(l)}" y="${MT}" width="${f1(r - l)}" height="3" fill="${COLORS.event}"/>`);
  }
  for (const l of c.lines) {
    const p = linePath(xs, l.y, d.n, toY);
    if (p === '') continue;
    out.push(
      `<path d="${p}" fill="none" stroke="${l.color}" stroke-width="${l.width}" stroke-linejoin="round" stroke-linecap="round"` +
        `${l.dash !== undefined ? ` stroke-dasharray="${l.dash}"` : ''}/>`,
    );
  }
  for (const m of c.markers) {
    if (Number.isNaN(m.v)) continue;
    out.push(
      `<circle cx="${f1(ML + xs[m.i] * PW)}" cy="${f1(toY(m.v))}" r="3.2" fill="#ffffff" stroke="${COLORS.event}" stroke-width="1.6"/>`,
    );
  }
  // X axis.
  out.push(
    `<line x1="${ML}" x2="${ML + PW}" y1="${MT + PH + 0.5}" y2="${MT + PH + 0.5}" stroke="${COLORS.axis}" stroke-width="1"/>`,
  );
  for (const [p, label] of xt) {
    const x = f1(ML + p * PW);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${MT + PH}" y2="${MT + PH + 5}" stroke="${COLORS.axis}" stroke-width="1"/>`,
    );
    out.push(`<text x="${x}" y="${MT + PH + 18}" text-anchor="middle">${escapeHtml(label)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** The time of row i as the file wrote it (the axis draws dates in UTC; the table keeps the user's text). */
function timeOf(d: ReportData, i: number): string {
  return d.times !== null ? d.times[i] : `row ${i}`;
}

function eventTitle(d: ReportData, e: AnomalyEvent): string {
  return `${timeOf(d, e.start)} → ${timeOf(d, e.end)} · peak score ${formatNumber(e.peakScore)} at ${timeOf(d, e.peakIndex)}`;
}

function durationOf(d: ReportData, e: AnomalyEvent): string {
  const pts = e.end - e.start + 1;
  const p = `${pts} point${pts === 1 ? '' : 's'}`;
  if (d.timeKind === 'date' && d.timeValues !== null && pts > 1) {
    return `${p} · ${formatDuration(d.timeValues[e.end] - d.timeValues[e.start])}`;
  }
  return p;
}

const overlaps = (a: Range, b: Range): boolean => a.start <= b.end && b.start <= a.end;

function card(label: string, value: string, note = ''): string {
  return (
    `<div class="card"><div class="card-label">${escapeHtml(label)}</div><div class="card-value">${escapeHtml(value)}</div>` +
    `${note !== '' ? `<div class="card-note">${escapeHtml(note)}</div>` : ''}</div>`
  );
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f6f7f9;color:#111827;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","Liberation Sans",Arial,sans-serif;-webkit-font-smoothing:antialiased}
main{max-width:1120px;margin:0 auto;padding:28px 28px 40px}
.kicker{font-size:11px;font-weight:600;letter-spacing:.08em;text-transform:uppercase;color:#6b7280}
h1{font-size:24px;line-height:1.25;margin:2px 0 4px;font-weight:650;word-break:break-word}
h2{font-size:15px;margin:0;font-weight:600}
.src{color:#6b7280;font-size:12.5px;margin:0 0 2px;overflow-wrap:anywhere}
.sub{color:#374151;margin:0 0 18px}
.sub span+span:before{content:"·";margin:0 8px;color:#9ca3af}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:18px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:10px 14px;min-width:150px;flex:1 1 150px}
.card-label{font-size:12px;color:#6b7280}
.card-value{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.card-note{font-size:12px;color:#6b7280}
.legend{display:flex;flex-wrap:wrap;gap:18px;font-size:12.5px;color:#374151;margin:0 2px 10px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:18px;height:0;border-top:2px solid}
.sw.box{height:11px;border:0;border-radius:2px}
.panel{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:12px 14px 6px;margin:0 0 12px}
.panel-head{display:flex;justify-content:space-between;align-items:baseline;gap:12px}
.panel-note{font-size:12px;color:#6b7280}
.chart{display:block;width:100%;height:auto;margin-top:4px}
.chart text{font-size:11px;fill:#6b7280;font-variant-numeric:tabular-nums}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px}
th{font-weight:600;color:#374151;text-align:left;border-bottom:1px solid #d1d5db;padding:7px 10px;white-space:nowrap}
td{padding:6px 10px;border-bottom:1px solid #eef0f3;white-space:nowrap}
td.num,th.num{text-align:right}
tr:last-child td{border-bottom:0}
.tag{display:inline-block;font-size:11.5px;padding:1px 7px;border-radius:9px;background:#fef3c7;color:#92400e}
.tag.no{background:#f3f4f6;color:#6b7280}
.warn{background:#fffbeb;border:1px solid #fde68a;color:#78350f;border-radius:10px;padding:8px 14px;margin:0 0 14px;font-size:13px}
.warn ul{margin:4px 0 2px;padding-left:18px}
.empty{color:#6b7280;padding:8px 0 10px}
footer{color:#9ca3af;font-size:12px;margin-top:18px}
`;

/** The report as one HTML document: header (subtitle, cards), warnings, legend, one chart per column, score, events. */
export function renderReport(d: ReportData): string {
  const xs = xPositions(d);
  const xt = xTicks(d);
  const flagged = d.flags.reduce((a, b) => a + b, 0);
  let scored = 0;
  for (let i = 0; i < d.n; i++) if (!Number.isNaN(d.scores[i])) scored++;
  const panels = d.columns.map((_, f) => valuePanel(d, xs, xt, f));
  panels.push(scorePanel(d, xs, xt, scored));
  const warnings =
    d.warnings.length === 0
      ? ''
      : `<div class="warn"><strong>Warnings</strong><ul>${d.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></div>`;

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>${escapeHtml(d.title)} · bptt anomaly report</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<div class="kicker">bptt anomaly report</div>
<h1>${escapeHtml(d.title)}</h1>
<p class="src">${escapeHtml(d.source)}</p>
<p class="sub">${subtitle(d)
    .map((s) => `<span>${s}</span>`)
    .join('')}</p>
<div class="cards">${cards(d, flagged, scored).join('')}</div>
</header>
${warnings}
<div class="legend">${legend(d).join('')}</div>
${panels.join('\n')}
${attentionPanel(d)}<section class="panel"><div class="panel-head"><h2>Events</h2><span class="panel-note">runs of consecutive flagged rows</span></div>
${eventTable(d)}
</section>
<footer>Made with bptt: an anomaly is a point whose score is above the threshold; an event is a run of them.</footer>
</main>
</body>
</html>
`;
}

/** Rows, time span, columns (HTML-escaped). */
function subtitle(d: ReportData): string[] {
  const F = d.columns.length;
  const sub: string[] = [`${d.n.toLocaleString('en-US')} rows`];
  if (d.n > 0) {
    if (d.timeKind === 'date' && d.timeValues !== null && d.times !== null) {
      const t0 = d.timeValues[0],
        t1 = d.timeValues[d.n - 1];
      sub.push(`${escapeHtml(d.times[0])} → ${escapeHtml(d.times[d.n - 1])} (${escapeHtml(formatDuration(t1 - t0))})`);
    } else if (d.times !== null) {
      sub.push(`${escapeHtml(d.times[0])} → ${escapeHtml(d.times[d.n - 1])}`);
    }
  }
  sub.push(`${F} value column${F === 1 ? '' : 's'}`);
  return sub;
}

/** The header cards: events, labelled windows found, then the caller's facts. */
function cards(d: ReportData, flagged: number, scored: number): string[] {
  const labels = d.labels;
  const out: string[] = [];
  out.push(
    card(
      'Events',
      String(d.events.length),
      `${flagged.toLocaleString('en-US')} flagged row${flagged === 1 ? '' : 's'} (${scored > 0 ? ((100 * flagged) / scored).toFixed(flagged > 0 && flagged < scored / 1000 ? 2 : 1) : '0'}% of scored)`,
    ),
  );
  if (labels !== null) {
    const found = labels.filter((w) => d.events.some((e) => overlaps(e, w))).length;
    const fp = d.events.filter((e) => !labels.some((w) => overlaps(e, w))).length;
    out.push(
      card(
        'Labelled windows found',
        `${found} of ${labels.length}`,
        `${fp} event${fp === 1 ? '' : 's'} outside every window`,
      ),
    );
  }
  for (const [k, v, note] of d.facts) out.push(card(k, v, note ?? ''));
  return out;
}

function legend(d: ReportData): string[] {
  return [
    `<span><i class="sw" style="border-color:${COLORS.series}"></i>series</span>`,
    `<span><i class="sw box" style="background:${COLORS.event};opacity:.35"></i>flagged event</span>`,
    `<span><i class="sw" style="border-color:${COLORS.event};width:10px;height:10px;border:1.6px solid ${COLORS.event};border-radius:50%"></i>event peak</span>`,
    ...(d.labels !== null
      ? [`<span><i class="sw box" style="background:${COLORS.label};opacity:.45"></i>labelled anomaly window</span>`]
      : []),
    `<span><i class="sw" style="border-color:${COLORS.score}"></i>anomaly score</span>`,
    `<span><i class="sw" style="border-top:2px dashed ${COLORS.threshold}"></i>threshold</span>`,
  ];
}

/** The chart of value column f, with its range and missing count. */
function valuePanel(d: ReportData, xs: Float64Array, xt: Array<[number, string]>, f: number): string {
  const F = d.columns.length;
  const y = (i: number): number => d.values[i * F + f];
  let lo = Infinity,
    hi = -Infinity,
    miss = 0;
  for (let i = 0; i < d.n; i++) {
    const v = y(i);
    if (Number.isNaN(v)) {
      miss++;
      continue;
    }
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const note = `min ${formatNumber(lo)} · max ${formatNumber(hi)}${miss > 0 ? ` · ${miss} missing` : ''}`;
  const svg = chart(d, xs, xt, {
    id: `chart-${f}`,
    label: `${d.columns[f]} over time`,
    height: 190,
    zero: false,
    lines: [{ y, color: COLORS.series, width: 1.3, name: d.columns[f] }],
    markers: d.events.map((e) => ({ i: e.peakIndex, v: y(e.peakIndex) })),
  });
  return (
    `<section class="panel"><div class="panel-head"><h2>${escapeHtml(d.columns[f])}</h2>` +
    `<span class="panel-note">${escapeHtml(note)}</span></div>\n${svg}\n</section>`
  );
}

/** The score and threshold chart (square-root scale when the score dwarfs the threshold). */
function scorePanel(d: ReportData, xs: Float64Array, xt: Array<[number, string]>, scored: number): string {
  let sMax = -Infinity,
    tMax = -Infinity;
  for (let i = 0; i < d.n; i++) {
    if (d.scores[i] > sMax) sMax = d.scores[i];
    if (d.thresholds[i] > tMax) tMax = d.thresholds[i];
  }
  const sqrt = sMax > 0 && (tMax > 0 ? sMax > 6 * tMax : true);
  const scoreSvg = chart(d, xs, xt, {
    id: 'chart-score',
    label: 'anomaly score and threshold',
    height: 170,
    zero: true,
    sqrt,
    lines: [
      { y: (i) => d.scores[i], color: COLORS.score, width: 1.1, name: 'score' },
      { y: (i) => d.thresholds[i], color: COLORS.threshold, width: 1.4, dash: '6 4', name: 'threshold' },
    ],
    markers: [],
  });
  return (
    `<section class="panel"><div class="panel-head"><h2>Anomaly score</h2><span class="panel-note">` +
    `${escapeHtml(`${sqrt ? 'square-root scale · ' : ''}${scored < d.n ? `the first ${d.n - scored} rows are warm-up (not scored)` : 'every row scored'}`)}</span></div>\n${scoreSvg}\n</section>`
  );
}

/** The attention strips (model 'lstm-attn-ae'): one row per event, a cell per window point, darker = more weight. */
function attentionPanel(d: ReportData): string {
  const strips = d.attention;
  if (strips === undefined || strips.length === 0) return '';
  const rows = strips.map((st) => {
    const e = d.events[st.event],
      W = st.weights.length,
      w = VW / W;
    let max = 0;
    for (const v of st.weights) if (v > max) max = v;
    const cells = st.weights.map(
      (v, j) =>
        `<rect x="${f1(j * w)}" y="0" width="${f1(w)}" height="18" fill="${COLORS.event}" fill-opacity="${(max > 0 ? v / max : 0).toFixed(3)}">` +
        `<title>${escapeHtml(`${timeOf(d, st.start + j)}: α ${formatNumber(v)}`)}</title></rect>`,
    );
    return (
      `<p class="src">Event ${st.event + 1}: the reconstruction of ${escapeHtml(timeOf(d, e.peakIndex))} (peak) drew on ` +
      `${escapeHtml(timeOf(d, st.start))} → ${escapeHtml(timeOf(d, e.peakIndex))}</p>\n` +
      `<svg class="chart" viewBox="0 0 ${VW} 18" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="attention of event ${st.event + 1}">` +
      `<rect x="0" y="0" width="${VW}" height="18" fill="none" stroke="${COLORS.grid}"/>${cells.join('')}</svg>`
    );
  });
  return (
    `<section class="panel"><div class="panel-head"><h2>Where the model looked</h2><span class="panel-note">` +
    `attention of the step that reconstructs each event's peak over its window (darker = more weight)</span></div>\n` +
    `${rows.join('\n')}\n</section>\n`
  );
}

/** The events table (the first MAX_TABLE_ROWS), or a line saying there were none. */
function eventTable(d: ReportData): string {
  const labels = d.labels;
  const rows: string[] = [];
  d.events.slice(0, MAX_TABLE_ROWS).forEach((e, k) => {
    const lab =
      labels === null
        ? ''
        : labels.some((w) => overlaps(e, w))
          ? '<td><span class="tag">in a window</span></td>'
          : '<td><span class="tag no">outside</span></td>';
    rows.push(
      `<tr><td class="num">${k + 1}</td><td>${escapeHtml(timeOf(d, e.start))}</td><td>${escapeHtml(timeOf(d, e.end))}</td>` +
        `<td>${escapeHtml(durationOf(d, e))}</td><td>${escapeHtml(timeOf(d, e.peakIndex))}</td><td class="num">${escapeHtml(formatNumber(e.peakScore))}</td>${lab}</tr>`,
    );
  });
  const more =
    d.events.length > MAX_TABLE_ROWS
      ? `<p class="empty">… and ${d.events.length - MAX_TABLE_ROWS} more events (see the flags CSV).</p>`
      : '';
  return d.events.length === 0
    ? '<p class="empty">No events: no score went above the threshold.</p>'
    : `<table><thead><tr><th class="num">#</th><th>Start</th><th>End</th><th>Length</th><th>Peak at</th><th class="num">Peak score</th>` +
        `${labels !== null ? '<th>Label</th>' : ''}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>${more}`;
}

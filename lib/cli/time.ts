/**
 * Timestamps: parsing a time column, and the ticks and labels of a time axis.
 *
 * A timestamp cell is read as
 *   a date     YYYY-MM-DD, then optionally [T or space]HH:MM[:SS[.fraction]] and a zone (Z, ±HH:MM, ±HHMM);
 *              '/' may replace '-'. Without a zone the time is taken as UTC, so naive local times keep their wall-clock
 *              spacing (no daylight-saving jumps) and print back as written.
 *   a number   any decimal number (epoch seconds, a sample counter, …), compared as a number.
 * Anything else is text: the rows keep their file order and the axis counts rows.
 */

export type TimeKind = 'date' | 'number' | 'text';

const DATE =
  /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
export const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Milliseconds since 1970 (UTC) of a date cell, or NaN when the cell is not a valid date. */
export function parseDate(s: string): number {
  const m = DATE.exec(s.trim());
  if (m === null) return NaN;
  const [y, mo, d, h, mi, sec, frac, zone] = [m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]];
  const Y = Number(y),
    M = Number(mo),
    D = Number(d),
    H = Number(h ?? 0),
    Mi = Number(mi ?? 0),
    S = Number(sec ?? 0);
  if (M < 1 || M > 12 || D < 1 || D > 31 || H > 24 || Mi > 59 || S > 60) return NaN;
  let ms = Date.UTC(Y, M - 1, D, H, Mi, S) + (frac !== undefined ? Math.round(Number(`0.${frac}`) * 1000) : 0);
  if (new Date(Date.UTC(Y, M - 1, D)).getUTCDate() !== D) return NaN; // 2014-02-30
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60000;
  }
  return ms;
}

/** The kind of a time column from its first cell, and a parser for the rest of the column. */
export function timeParser(first: string): { kind: TimeKind; parse: (s: string) => number } {
  if (!Number.isNaN(parseDate(first))) return { kind: 'date', parse: parseDate };
  if (NUMBER.test(first.trim())) return { kind: 'number', parse: (s) => (NUMBER.test(s.trim()) ? Number(s) : NaN) };
  return { kind: 'text', parse: () => NaN };
}

// ---------------------------------------------------------------------------------------------------------------------
// Axis ticks

const SEC = 1000,
  MIN = 60 * SEC,
  HOUR = 60 * MIN,
  DAY = 24 * HOUR;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Fixed-length steps (ms), then calendar months (negative: that many months). */
const TIME_STEPS = [
  SEC,
  5 * SEC,
  15 * SEC,
  30 * SEC,
  MIN,
  5 * MIN,
  15 * MIN,
  30 * MIN,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  -1,
  -3,
  -6,
  -12,
  -24,
  -60,
  -120,
];

const pad = (n: number): string => String(n).padStart(2, '0');

/** Ticks of a time axis over [t0, t1] (ms, UTC), at most about `maxTicks`, each with its label. */
export function timeTicks(t0: number, t1: number, maxTicks: number): Array<{ t: number; label: string }> {
  const span = Math.max(t1 - t0, 1);
  let step = TIME_STEPS[TIME_STEPS.length - 1];
  for (const s of TIME_STEPS) {
    const len = s > 0 ? s : -s * 30.44 * DAY;
    if (span / len <= maxTicks) {
      step = s;
      break;
    }
  }
  const ticks: number[] = [];
  if (step > 0) {
    // Align to the step (weeks start on Monday; days at midnight).
    const base = step === 7 * DAY || step === 14 * DAY ? Date.UTC(1970, 0, 5) : 0;
    for (let t = Math.ceil((t0 - base) / step) * step + base; t <= t1; t += step) ticks.push(t);
  } else {
    const months = -step;
    const d = new Date(t0);
    let idx = d.getUTCFullYear() * 12 + d.getUTCMonth(); // months since year 0
    if (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) < t0) idx++;
    idx = Math.ceil(idx / months) * months;
    for (
      let t = Date.UTC(Math.floor(idx / 12), idx % 12, 1);
      t <= t1;
      idx += months, t = Date.UTC(Math.floor(idx / 12), idx % 12, 1)
    ) {
      ticks.push(t);
    }
  }
  return ticks.map((t) => ({ t, label: timeLabel(t, step) }));
}

function timeLabel(t: number, step: number): string {
  const d = new Date(t);
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  if (step < 0)
    return step <= -12
      ? String(d.getUTCFullYear())
      : d.getUTCMonth() === 0
        ? `${MONTHS[0]} ${d.getUTCFullYear()}`
        : MONTHS[d.getUTCMonth()];
  if (step >= DAY) return day;
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const midnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
  if (step < MIN) return midnight ? day : `${hm}:${pad(d.getUTCSeconds())}`;
  return midnight ? day : hm;
}

/** A short date-time for tables and headers: "2014-03-14 03:31" (seconds when not zero). */
export function formatDate(t: number): string {
  const d = new Date(t);
  const s = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return d.getUTCSeconds() !== 0 ? `${s}:${pad(d.getUTCSeconds())}` : s;
}

/** A duration in words: "45 s", "12 min", "3.5 h", "2.1 days". */
export function formatDuration(ms: number): string {
  if (ms < MIN) return `${Math.round(ms / SEC)} s`;
  if (ms < HOUR) return `${Math.round(ms / MIN)} min`;
  if (ms < DAY) return `${+(ms / HOUR).toFixed(1)} h`;
  return `${+(ms / DAY).toFixed(1)} days`;
}

/** Ticks of a linear axis: about `count` "nice" values (1, 2, 5 × 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): { ticks: number[]; step: number } {
  if (!(hi > lo)) {
    hi = lo + 1;
  }
  const raw = (hi - lo) / Math.max(count, 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const r = raw / mag;
  const step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { ticks, step };
}

/** A tick value with just the decimals its step needs; thousands as k and millions as M. */
export function formatTick(v: number, step: number): string {
  const a = Math.abs(v);
  if (a >= 1e6 && step >= 1e5) return `${+(v / 1e6).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1e6))))}M`;
  if (a >= 1e4 && step >= 100) return `${+(v / 1e3).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1e3))))}k`;
  const dec = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(dec);
}

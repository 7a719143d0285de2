/**
 * Operators' controls on a detector: exclusion windows for training and "not an anomaly" feedback.
 *
 *   detector.fit(series, { timestamps, exclude: [['2026-11-01T10:00Z', '2026-11-01T14:00Z']] });
 *   detector.feedback({ at: '2026-11-03T08:15Z', notAnomaly: true, score: 0.91 });
 *
 * Exclusion. Rows whose timestamp t lies in a window, start ≤ t < end, are treated as missing for training: they are
 * filled by interpolation between the rows around the window, as any missing value is, so a known outage neither
 * becomes "normal" nor leaves a hole that a window model cannot cross. Bounds are epoch milliseconds, Dates, or ISO
 * 8601 strings with a zone ('Z' or ±hh:mm): a zoneless time would mean the host's local time, which differs per host.
 *
 * Feedback raises this detector's threshold: a mark { at, score } says that the alarm at `at`, which scored `score`,
 * was not an anomaly. From then on a point flags only if its score is above the highest marked score (and above the
 * threshold as before): a second alarm of the same kind at the same level does not fire; a stronger one still does.
 * The marks are kept with the detector (saved in its file, field `feedback`).
 */
import { ArgumentError } from '../errors.js';
import { describeValue } from '../check.js';
import { readSeries } from '../tensor.js';

/** One "not an anomaly" mark: the time of the false alarm (epoch ms) and the score it had. */
export interface FeedbackEntry {
  /** When the false alarm was (epoch ms). */
  at: number;
  /** The score it had: a point flags only with a score above the highest marked one. */
  score: number;
}

/** What detector.feedback() takes. */
export interface FeedbackInput {
  /** The time of the false alarm: epoch ms, a Date, or an ISO 8601 string with a zone. */
  at: number | string | Date;
  /** Must be true: the only kind of feedback there is (a true alarm needs no change). */
  notAnomaly: true;
  /** The score of the false alarm, as detect() or stream() gave it (≥ 0). */
  score: number;
}

/** An exclusion window's bounds, as fit() takes them. */
export type TimeBound = number | string | Date;

/** Marks kept per detector: far more than any operator gives, few enough that a file stays small. */
export const MAX_FEEDBACK = 10_000;

const ZONED = /(?:Z|[+-]\d\d:?\d\d)$/i;

/** A time as epoch ms: a finite number, a valid Date, or an ISO 8601 string with a zone. */
export function toEpochMs(v: unknown, argName: string): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ArgumentError(argName, 'epoch milliseconds (a finite number)', String(v));
    return v;
  }
  if (v instanceof Date) {
    const t = v.getTime();
    if (!Number.isFinite(t)) throw new ArgumentError(argName, 'a valid Date', 'an invalid Date');
    return t;
  }
  if (typeof v === 'string') {
    const s = v.trim();
    const t = Date.parse(s);
    if (!ZONED.test(s) || !Number.isFinite(t)) {
      throw new ArgumentError(argName, "an ISO 8601 time with a zone, such as '2026-11-01T10:00Z'", describeValue(v));
    }
    return t;
  }
  throw new ArgumentError(argName, 'epoch milliseconds, a Date or an ISO 8601 string', describeValue(v));
}

/** Validated exclusion windows [start, end) in epoch ms; an ArgumentError naming the window at fault. */
export function checkExclude(exclude: unknown, argName = 'fit(exclude)'): Array<[number, number]> {
  if (!Array.isArray(exclude)) {
    throw new ArgumentError(argName, 'an array of [start, end] windows', describeValue(exclude));
  }
  return exclude.map((w: unknown, i) => {
    const at = `${argName}[${i}]`;
    if (!Array.isArray(w) || w.length !== 2) throw new ArgumentError(at, 'a [start, end] pair', describeValue(w));
    const start = toEpochMs(w[0], `${at}[0]`),
      end = toEpochMs(w[1], `${at}[1]`);
    if (!(start < end)) {
      throw new ArgumentError(at, 'start before end', `${describeValue(w[0])} … ${describeValue(w[1])}`, {
        problem: `window starts at ${new Date(start).toISOString()}, not before its end ${new Date(end).toISOString()}`,
      });
    }
    return [start, end] as [number, number];
  });
}

/**
 * The training series with the rows inside the exclusion windows set to NaN (missing), as a new [n, F] float64 series;
 * the caller's series is not changed. `timestamps` are epoch ms, one per row. Throws when every row is excluded.
 */
export function maskExcluded(
  series: unknown,
  timestamps: ArrayLike<number> | undefined,
  windows: ReadonlyArray<readonly [number, number]>,
): { data: Float64Array; shape: [number, number]; masked: number } {
  const s = readSeries(series, 'fit(series)');
  if (timestamps === undefined) {
    throw new ArgumentError('fit(timestamps)', 'the timestamps (epoch ms) of the rows', 'undefined', {
      problem: 'fit(exclude) needs fit(timestamps): the windows are times, and each row needs its own',
    });
  }
  if (typeof timestamps !== 'object' || timestamps === null || typeof timestamps.length !== 'number') {
    throw new ArgumentError('fit(timestamps)', 'an array of epoch milliseconds', describeValue(timestamps));
  }
  if (timestamps.length !== s.n)
    throw new ArgumentError('fit(timestamps)', `${s.n} timestamps`, `${timestamps.length}`);
  const data = Float64Array.from(s.data);
  let masked = 0;
  for (let i = 0; i < s.n; i++) {
    const t = timestamps[i];
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new ArgumentError(`fit(timestamps)[${i}]`, 'epoch milliseconds', describeValue(t));
    }
    if (!windows.some(([a, b]) => t >= a && t < b)) continue;
    masked++;
    for (let f = 0; f < s.F; f++) data[i * s.F + f] = NaN;
  }
  if (masked === s.n) {
    throw new ArgumentError('fit(exclude)', 'windows that leave some rows to train on', `all ${s.n} rows excluded`, {
      problem: `the exclusion windows cover all ${s.n} training rows; nothing is left to learn normal behaviour from`,
    });
  }
  return { data, shape: [s.n, s.F], masked };
}

/** A validated feedback mark. */
export function checkFeedback(input: unknown, argName = 'feedback'): FeedbackEntry {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ArgumentError(argName, '{ at, notAnomaly: true, score }', describeValue(input));
  }
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'at' && k !== 'notAnomaly' && k !== 'score') {
      throw new ArgumentError(argName, 'keys at, notAnomaly, score', `unknown key ${describeValue(k)}`);
    }
  }
  if (o['notAnomaly'] !== true) {
    throw new ArgumentError(`${argName}(notAnomaly)`, 'true', describeValue(o['notAnomaly']), {
      problem: `expected true (feedback marks a false alarm), got ${describeValue(o['notAnomaly'])}`,
    });
  }
  const at = toEpochMs(o['at'], `${argName}(at)`);
  const score = o['score'];
  if (typeof score !== 'number' || !Number.isFinite(score) || score < 0) {
    throw new ArgumentError(`${argName}(score)`, 'the false alarm’s score, a finite number ≥ 0', describeValue(score));
  }
  return { at, score };
}

/** The level feedback sets: the highest marked score (−Infinity without marks). A point flags only above it. */
export function feedbackLevel(entries: readonly FeedbackEntry[]): number {
  let level = -Infinity;
  for (const e of entries) if (e.score > level) level = e.score;
  return level;
}

/** A detector file's `feedback` field, validated (every problem a message for the file's loader). */
export function feedbackFromJSON(v: unknown, fail: (problem: string) => never): FeedbackEntry[] {
  if (!Array.isArray(v)) fail(`feedback: expected an array of { at, score }, got ${describeValue(v)}`);
  if (v.length > MAX_FEEDBACK) fail(`feedback: at most ${MAX_FEEDBACK} marks, got ${v.length}`);
  return v.map((e: unknown, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) {
      fail(`feedback[${i}]: expected { at, score }, got ${describeValue(e)}`);
    }
    const keys = Object.keys(e);
    if (keys.length !== 2 || !keys.includes('at') || !keys.includes('score')) {
      fail(`feedback[${i}]: expected exactly the keys at and score, got ${keys.join(', ') || 'none'}`);
    }
    const { at, score } = e as Record<string, unknown>;
    if (typeof at !== 'number' || !Number.isFinite(at))
      fail(`feedback[${i}].at: expected epoch ms, got ${describeValue(at)}`);
    if (typeof score !== 'number' || !Number.isFinite(score) || score < 0) {
      fail(`feedback[${i}].score: expected a finite number ≥ 0, got ${describeValue(score)}`);
    }
    return { at, score };
  });
}

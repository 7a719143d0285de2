/**
 * The Numenta Anomaly Benchmark (NAB) scorer, reproducing numenta/NAB's `nab/sweeper.py` (per-row weights,
 * per-file score, threshold sweep) and `nab/runner.py` (normalisation). Lavin & Ahmad 2015 (arXiv:1510.03336).
 *
 * A file has N rows; windows are inclusive row ranges [l_k, r_k] (sorted, disjoint), width w_k = r_k - l_k + 1.
 * Profile weights (magnitudes): A_TP, A_FP, A_FN (`NAB_PROFILES`).
 *   probation   P = min(⌊0.15·N⌋, 0.15·5000): rows i < P are ignored entirely
 *   σ(y)        scaled sigmoid: 2/(1 + e^{5y}) - 1 for y < 3, -1 for y ≥ 3
 *   weight s_i  in window k:   σ(-(r_k - i + 1)/w_k) · A_TP / σ(-1)            (A_TP at l_k, ≈ 0 at r_k)
 *               after window k (the latest one that ended before i):  σ(|i - r_k| / (w_k - 1)) · A_FP   (< 0)
 *               before any window:   σ(3)·A_FP = -A_FP
 *   file score  S = Σ_k c_k + Σ_{detections i ≥ P outside windows} s_i,
 *               c_k = max{s_i : i a detection in window k, i ≥ P}, or -A_FN if there is none
 *               (a window with no row ≥ P does not count at all, as in NAB)
 *   normalised  100·(S_total - S_null)/(S_perfect - S_null), S_null = -A_FN·K, S_perfect = A_TP·K, K windows
 *   threshold   NAB picks one threshold θ per detector and profile for the whole corpus (row i detects iff its
 *               anomaly score ≥ θ) by sweeping the distinct scores from high to low (`nabOptimizeThreshold`).
 *
 * Windows come as timestamps in NAB's labels; `nabWindowRows` matches them to rows (first row with an equal
 * timestamp, after normalising `2014-03-14 03:31:00.000000` to `2014-03-14 03:31:00`).
 */
import { ArgumentError } from '../errors.js';

/** NAB cost-matrix weights; all magnitudes (false positives and misses cost, detections earn). */
export interface NabProfile {
  /** A_TP: what an early detection in a window earns. */
  tpWeight: number;
  /** A_FP: what a detection outside windows costs at most. */
  fpWeight: number;
  /** A_FN: what a window without detection costs. */
  fnWeight: number;
  /** A_TN (in NAB's profiles; not used by the score). */
  tnWeight: number;
}

/** NAB's three application profiles (`config/profiles.json`). */
export const NAB_PROFILES = {
  /** The standard profile. */
  standard: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0, tnWeight: 1.0 },
  /** False positives cost twice as much. */
  reward_low_FP_rate: { tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0, tnWeight: 1.0 },
  /** Misses cost twice as much. */
  reward_low_FN_rate: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0, tnWeight: 1.0 },
} as const satisfies Record<string, NabProfile>;

/** The name of one of {@link NAB_PROFILES}. */
export type NabProfileName = keyof typeof NAB_PROFILES;

/** An anomaly window as inclusive row indices. */
export interface NabWindow {
  /** First row. */
  start: number;
  /** Last row (inclusive). */
  end: number;
}

/** Options shared by the scoring functions. */
export interface NabOptions {
  /** Probationary fraction (NAB `probationPercent`, default 0.15). */
  probationPercent?: number;
}

function resolveProfile(profile: NabProfile | NabProfileName): NabProfile {
  if (typeof profile === 'string') {
    const p = (NAB_PROFILES as Record<string, NabProfile>)[profile];
    if (p === undefined) {
      throw new ArgumentError('NAB profile', `one of ${Object.keys(NAB_PROFILES).join(', ')}`, `'${profile}'`);
    }
    return p;
  }
  return profile;
}

/**
 * NAB's probationary length: min(⌊p·n⌋, p·5000) rows, p = 0.15 by default (so at most 750 rows).
 * @param n - Rows in the file.
 * @param probationPercent - The probationary fraction p.
 * @returns The number of leading rows the score ignores.
 * @example
 * ```ts
 * import { nab } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(nab.nabProbationaryLength(4032), 604);
 * assert.equal(nab.nabProbationaryLength(18050), 750);
 * ```
 */
export function nabProbationaryLength(n: number, probationPercent = 0.15): number {
  return Math.min(Math.floor(probationPercent * n), probationPercent * 5000);
}

/**
 * NAB's scaled sigmoid (`sweeper.scaledSigmoid`): 2·sigmoid(-5y) - 1 for y < 3, exactly -1 for y ≥ 3.
 * @param y - The relative position.
 * @returns σ(y) in (-1, 1], or -1 for y ≥ 3.
 * @example
 * ```ts
 * import { nab } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(nab.nabScaledSigmoid(-1), 0.9866142981514305);
 * assert.equal(nab.nabScaledSigmoid(0), 0);
 * ```
 */
export function nabScaledSigmoid(y: number): number {
  if (y >= 3.0) return -1.0;
  return 2 * (1 / (1 + Math.exp(-(-5 * y)))) - 1.0;
}

/**
 * Normalises a timestamp string for matching: trims, 'T' → ' ', drops an all-zero fractional second.
 *
 * @param ts - A timestamp as in a NAB data or label file.
 * @returns The key that `nabWindowRows` matches on.
 * @example
 * ```ts
 * import { nab } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(nab.nabTimestampKey(' 2014-03-14T03:31:00.000000 '), '2014-03-14 03:31:00');
 * ```
 */
export function nabTimestampKey(ts: string): string {
  return ts.trim().replace('T', ' ').replace(/\.0*$/, '');
}

/**
 * Timestamp windows (NAB labels: [start, end] strings, inclusive) → row windows, matching each end to the first
 * row with an equal timestamp (NAB uses `timestamps.index`). Throws if a timestamp is missing or the windows are
 * not sorted and disjoint.
 * @param timestamps - The file's timestamps, one per row.
 * @param windows - NAB label windows, [start, end] timestamp pairs.
 * @returns The windows as row ranges.
 * @throws {@link ArgumentError} when a timestamp matches no row or the windows are not sorted and disjoint.
 * @example
 * ```ts
 * import { nab } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const rows = nab.nabWindowRows(['2014-01-01 00:00:00', '2014-01-01 00:05:00', '2014-01-01 00:10:00'], [
 *   ['2014-01-01 00:05:00.000000', '2014-01-01 00:10:00'],
 * ]);
 * assert.deepEqual(rows, [{ start: 1, end: 2 }]);
 * ```
 */
export function nabWindowRows(
  timestamps: readonly string[],
  windows: ReadonlyArray<readonly [string, string]>,
): NabWindow[] {
  const first = new Map<string, number>();
  timestamps.forEach((t, i) => {
    const k = nabTimestampKey(t);
    if (!first.has(k)) first.set(k, i);
  });
  const out = windows.map(([a, b], k) => {
    const start = first.get(nabTimestampKey(a));
    const end = first.get(nabTimestampKey(b));
    if (start === undefined) {
      throw new ArgumentError('nabWindowRows(windows)', 'a timestamp of the series', `'${a}'`, {
        problem: `window ${k} start '${a}' matches no timestamp`,
      });
    }
    if (end === undefined) {
      throw new ArgumentError('nabWindowRows(windows)', 'a timestamp of the series', `'${b}'`, {
        problem: `window ${k} end '${b}' matches no timestamp`,
      });
    }
    return { start, end };
  });
  checkWindows(out, timestamps.length, 'nabWindowRows(windows)');
  return out;
}

function checkWindows(windows: readonly NabWindow[], n: number, where: string): void {
  let prevEnd = -1;
  windows.forEach((w, k) => {
    if (!(Number.isInteger(w.start) && Number.isInteger(w.end) && w.start >= 0 && w.start <= w.end && w.end < n)) {
      throw new ArgumentError(where, `0 ≤ start ≤ end < ${n}`, `[${w.start}, ${w.end}]`, {
        problem: `window ${k} must satisfy 0 ≤ start ≤ end < ${n}, got [${w.start}, ${w.end}]`,
      });
    }
    if (w.start <= prevEnd) {
      throw new ArgumentError(where, 'sorted, disjoint windows', `window ${k} starting at ${w.start}`, {
        problem: `windows must be sorted and disjoint; window ${k} starts at ${w.start} ≤ ${prevEnd}`,
      });
    }
    prevEnd = w.end;
  });
}

/** Per-row NAB weights of one file. */
export interface NabRowWeights {
  /** Number of leading probationary rows (ignored by the score). */
  probation: number;
  /** s_i for every row (probationary rows included, as NAB computes them). */
  weights: Float64Array;
  /** Index of the window holding row i, or -1 outside windows. */
  window: Int32Array;
}

/**
 * NAB's per-row weights s_i (`Sweeper.calcSweepScore`) for a file of n rows with row windows `windows`.
 * @param n - Rows in the file.
 * @param windows - Row windows, sorted and disjoint.
 * @param profile - A profile name ('standard', 'reward_low_FP_rate', 'reward_low_FN_rate') or custom weights.
 * @param options - probationPercent (default 0.15).
 * @returns The probation length, s_i per row and each row's window.
 * @throws {@link ArgumentError} for an unknown profile or windows out of range, unsorted or overlapping.
 * @example
 * ```ts
 * import { nab } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const w = nab.nabRowWeights(20, [{ start: 8, end: 11 }], 'standard');
 * assert.equal(w.weights[8], 1); // the window's left edge earns A_TP
 * assert.ok(w.weights[12] < 0); // after the window, a detection costs
 * ```
 */
export function nabRowWeights(
  n: number,
  windows: readonly NabWindow[],
  profile: NabProfile | NabProfileName,
  options: NabOptions = {},
): NabRowWeights {
  if (!(Number.isInteger(n) && n >= 0)) throw new ArgumentError('nabRowWeights(n)', 'an integer ≥ 0', `${n}`);
  checkWindows(windows, n, 'nabRowWeights(windows)');
  const p = resolveProfile(profile);
  const maxTP = nabScaledSigmoid(-1.0);
  const weights = new Float64Array(n);
  const window = new Int32Array(n).fill(-1);
  let k = 0; // next window
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const w = windows[k];
    if (w !== undefined && i >= w.start) {
      const width = w.end - w.start + 1;
      weights[i] = (nabScaledSigmoid(-(w.end - i + 1) / width) * p.tpWeight) / maxTP;
      window[i] = k;
      if (i === w.end) {
        prevRight = i;
        prevWidth = width;
        k++;
      }
    } else {
      const y = prevRight < 0 ? 3.0 : Math.abs(prevRight - i) / (prevWidth - 1);
      weights[i] = nabScaledSigmoid(y) * p.fpWeight;
    }
  }
  return { probation: nabProbationaryLength(n, options.probationPercent ?? 0.15), weights, window };
}

/** A file's NAB result. Counts are NAB's row counts over the non-probationary rows (they do not enter the score). */
export interface NabFileScore {
  /** Raw score S. */
  score: number;
  /** Detected rows inside windows. */
  tp: number;
  /** Detected rows outside windows. */
  fp: number;
  /** Undetected rows inside windows. */
  fn: number;
  /** Undetected rows outside windows. */
  tn: number;
  /** Windows with at least one non-probationary row (the ones that count). */
  windows: number;
  /** Of those, windows with a detection. */
  detectedWindows: number;
  /** Detections outside windows (after probation). */
  falsePositives: number;
}

/**
 * NAB raw score of one file from per-row detections (`flags[i]` non-zero = detection; NAB: anomaly score ≥ θ).
 * @param flags - Per row, non-zero = detection.
 * @param windows - Row windows, sorted and disjoint.
 * @param profile - A profile name ('standard', 'reward_low_FP_rate', 'reward_low_FN_rate') or custom weights.
 * @param options - probationPercent (default 0.15).
 * @returns The raw score and its counts.
 * @throws {@link ArgumentError} for an unknown profile or windows out of range, unsorted or overlapping.
 * @example
 * ```ts
 * import { nab } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // 20 rows (probation ⌊3.0⌋ = 3), one window [8, 11]: the hit on row 8 earns 1, the flag on row 2 is ignored.
 * const flags = new Uint8Array(20);
 * flags[2] = 1;
 * flags[8] = 1;
 * assert.equal(nab.nabScoreFile(flags, [{ start: 8, end: 11 }], 'standard').score, 1);
 * ```
 */
export function nabScoreFile(
  flags: ArrayLike<number>,
  windows: readonly NabWindow[],
  profile: NabProfile | NabProfileName,
  options: NabOptions = {},
): NabFileScore {
  const p = resolveProfile(profile);
  const n = flags.length;
  const { probation, weights, window } = nabRowWeights(n, windows, p, options);
  const best = new Float64Array(windows.length).fill(NaN); // NaN: window has no scorable row
  let fpSum = 0;
  const r: NabFileScore = { score: 0, tp: 0, fp: 0, fn: 0, tn: 0, windows: 0, detectedWindows: 0, falsePositives: 0 };
  for (let i = 0; i < n; i++) {
    const f = flags[i];
    if (Number.isNaN(f)) {
      throw new ArgumentError('nabScoreFile(flags)', 'numbers', `NaN at index ${i}`, {
        problem: `NaN at index ${i}`,
      });
    }
    if (i < probation) continue;
    const k = window[i];
    const detected = f !== 0;
    if (k >= 0) {
      if (Number.isNaN(best[k])) best[k] = -p.fnWeight;
      if (detected) {
        r.tp++;
        if (weights[i] > best[k]) best[k] = weights[i];
      } else r.fn++;
    } else if (detected) {
      r.fp++;
      fpSum += weights[i];
    } else r.tn++;
  }
  r.falsePositives = r.fp;
  let score = fpSum;
  for (let k = 0; k < windows.length; k++) {
    const b = best[k];
    if (Number.isNaN(b)) continue;
    r.windows++;
    if (b !== -p.fnWeight) r.detectedWindows++;
    score += b;
  }
  r.score = score;
  return r;
}

/**
 * NAB normalised score: 100·(raw - S_null)/(S_perfect - S_null), S_null = -A_FN·windows, S_perfect = A_TP·windows.
 * @param rawTotal - Raw score summed over the files.
 * @param windowCount - Windows counted over the files.
 * @param profile - A profile name ('standard', 'reward_low_FP_rate', 'reward_low_FN_rate') or custom weights.
 * @returns The normalised score: 0 for no detections, 100 for perfect.
 * @throws {@link ArgumentError} for an unknown profile.
 * @example
 * ```ts
 * import { nab } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(nab.nabNormalize(46.634, 116, 'standard').toFixed(2), '70.10'); // numenta's final_results.json
 * ```
 */
export function nabNormalize(rawTotal: number, windowCount: number, profile: NabProfile | NabProfileName): number {
  const p = resolveProfile(profile);
  const nul = -p.fnWeight * windowCount;
  const perfect = p.tpWeight * windowCount;
  return (100 * (rawTotal - nul)) / (perfect - nul);
}

/** One file for `nabOptimizeThreshold`: per-row anomaly scores and row windows. */
export interface NabScoredFile {
  /** Anomaly score per row. */
  scores: ArrayLike<number>;
  /** Row windows, sorted and disjoint. */
  windows: readonly NabWindow[];
}

/** Result of `nabOptimizeThreshold`. */
export interface NabThreshold {
  /** Best θ: rows with score ≥ θ are detections (Infinity: no detections is best). */
  threshold: number;
  /** Raw score summed over the files at θ. */
  score: number;
  /** Normalised score at θ over all windows of the files. */
  normalized: number;
}

/**
 * NAB's threshold optimisation (`Sweeper.calcScoreByThreshold` over the pooled rows of all files, then the
 * best): rows are visited from the highest anomaly score down; after each distinct value v the corpus score of
 * "detect iff score ≥ v" is evaluated; the highest score wins (the higher threshold on ties, as Python's `max`).
 * Starts from "no detections" (θ = Infinity, score = -A_FN per scorable window).
 *
 * @param files - Per file, its scores and row windows.
 * @param profile - A profile name ('standard', 'reward_low_FP_rate', 'reward_low_FN_rate') or custom weights.
 * @param options - probationPercent (default 0.15).
 * @returns The best threshold, its raw and its normalised score.
 * @throws {@link ArgumentError} for an unknown profile, a non-finite score, or invalid windows.
 * @example
 * ```ts
 * import { nab } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const scores = Array.from({ length: 100 }, (_, i) => (i >= 60 && i <= 62 ? 0.9 : 0.1));
 * const best = nab.nabOptimizeThreshold([{ scores, windows: [{ start: 58, end: 65 }] }], 'standard');
 * assert.equal(best.threshold, 0.9); // detect only the high scores, all inside the window
 * assert.ok(best.normalized > 50);
 * ```
 */
export function nabOptimizeThreshold(
  files: readonly NabScoredFile[],
  profile: NabProfile | NabProfileName,
  options: NabOptions = {},
): NabThreshold {
  const p = resolveProfile(profile);
  const rowScore: number[] = [];
  const rowWeight: number[] = [];
  const rowWindow: number[] = [];
  let windowBase = 0;
  let windowCount = 0;
  const scorable = new Set<number>();
  files.forEach((file, f) => {
    const n = file.scores.length;
    const { probation, weights, window } = nabRowWeights(n, file.windows, p, options);
    for (let i = probation; i < n; i++) {
      const s = file.scores[i];
      if (!Number.isFinite(s)) {
        throw new ArgumentError(`nabOptimizeThreshold(files[${f}].scores)`, 'finite numbers', `${s} at index ${i}`);
      }
      const k = window[i];
      rowScore.push(s);
      rowWeight.push(weights[i]);
      rowWindow.push(k < 0 ? -1 : windowBase + k);
      if (k >= 0) scorable.add(windowBase + k);
    }
    windowBase += file.windows.length;
    windowCount += file.windows.length;
  });
  const best = new Map<number, number>();
  for (const k of scorable) best.set(k, -p.fnWeight);
  let fpSum = 0;
  let bestScore = -p.fnWeight * scorable.size;
  let bestThreshold = Infinity;
  const order = rowScore.map((_, i) => i).sort((a, b) => rowScore[b] - rowScore[a]);
  let i = 0;
  while (i < order.length) {
    const v = rowScore[order[i]];
    while (i < order.length && rowScore[order[i]] === v) {
      const r = order[i++];
      const k = rowWindow[r];
      const w = rowWeight[r];
      if (k < 0) fpSum += w;
      else if (w > (best.get(k) as number)) best.set(k, w);
    }
    let total = fpSum;
    for (const b of best.values()) total += b; // re-summed, as NAB does, so no drift accumulates
    if (total > bestScore) {
      bestScore = total;
      bestThreshold = v;
    }
  }
  return { threshold: bestThreshold, score: bestScore, normalized: nabNormalize(bestScore, windowCount, p) };
}

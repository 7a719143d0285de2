/**
 * Static thresholds, fitted on training (calibration) scores s[0..n-1]; each returns one number, and a point is flagged
 * iff score > threshold (strict), as PyOD (`decision_scores_ > threshold_`) does: `applyThreshold` implements that rule.
 *   fixedThreshold(v)                    v
 *   quantile(s, p)                        numpy's default ('linear'): sort s; h = (n-1)·p; i = ⌊h⌋;
 *                                         Q(p) = s(i) + (h-i)·(s(i+1) - s(i))
 *   quantileThreshold(s, p = 0.99)        Q(p)
 *   sigmaThreshold(s, k = 3)              mean(s) + k·std(s), std with divisor n (numpy's default ddof = 0)
 *   iqrThreshold(s, k = 1.5)              Q(0.75) + k·(Q(0.75) - Q(0.25))  (Tukey's upper fence)
 *   contaminationThreshold(s, c = 0.1)    as PyOD: np.percentile(s, 100·(1-c)), i.e. Q((100·(1-c))/100)
 */
import { ArgumentError } from '../../errors.js';
import { type Numbers, checkFinite, checkNonEmpty, mean, std } from './numbers.js';

/** A sorted Float64Array copy of x (after checking it is non-empty and finite). */
function sortedCopy(x: Numbers, where: string): Float64Array {
  checkNonEmpty(x, where);
  checkFinite(x, where);
  const s = Float64Array.from(x);
  s.sort();
  return s;
}

/** numpy's lerp: exact at both ends (a + t·(b-a) for t < 0.5, b - (b-a)·(1-t) otherwise). */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/** Quantile of an already sorted array (numpy 'linear'). */
function sortedQuantile(s: Float64Array, p: number): number {
  const n = s.length;
  const h = (n - 1) * p;
  const i = Math.floor(h);
  if (i >= n - 1) return s[n - 1];
  return lerp(s[i], s[i + 1], h - i);
}

function checkProbability(p: number, where: string): void {
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(where, '0 ≤ p ≤ 1', `${p}`);
}

/**
 * The threshold `value` itself, after checking it is a finite number. Exists so every threshold rule has a function.
 * @param value - The threshold.
 * @returns `value`.
 * @throws {@link ArgumentError} when value is not finite.
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(thresholds.fixedThreshold(0.5), 0.5);
 * assert.throws(() => thresholds.fixedThreshold(NaN), /fixedThreshold\(value\)/);
 * ```
 */
export function fixedThreshold(value: number): number {
  if (!Number.isFinite(value)) throw new ArgumentError('fixedThreshold(value)', 'a finite number', `${value}`);
  return value;
}

/**
 * Quantile with numpy's default definition ('linear', Hyndman & Fan type 7): sort x; h = (n-1)·p; i = ⌊h⌋;
 * Q(p) = x(i) + (h-i)·(x(i+1) - x(i)). Q(0) = min, Q(1) = max.
 * @param x - The values.
 * @param p - The probability, 0 ≤ p ≤ 1.
 * @returns Q(p).
 * @throws {@link ArgumentError} for empty or non-finite scores or p outside [0, 1].
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(thresholds.quantile([1, 2, 3, 4], 0.5), 2.5);
 * assert.equal(thresholds.quantile([1, 2, 3, 4], 0.25), 1.75); // h = 0.75
 * ```
 */
export function quantile(x: Numbers, p: number): number {
  checkProbability(p, 'quantile(p)');
  return sortedQuantile(sortedCopy(x, 'quantile(x)'), p);
}

/**
 * Quantile p of the training scores (numpy 'linear' definition, see `quantile`).
 * @param trainScores - Scores of the training (calibration) data.
 * @param p - The probability (default 0.99).
 * @returns Q(p) of the scores.
 * @throws {@link ArgumentError} for empty or non-finite scores or p outside [0, 1].
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(thresholds.quantileThreshold([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95), 9.5);
 * ```
 */
export function quantileThreshold(trainScores: Numbers, p = 0.99): number {
  checkProbability(p, 'quantileThreshold(p)');
  return sortedQuantile(sortedCopy(trainScores, 'quantileThreshold(trainScores)'), p);
}

/**
 * mean + k·σ of the training scores; σ is the population standard deviation (divisor n, numpy's default).
 * @param trainScores - Scores of the training (calibration) data.
 * @param k - Standard deviations above the mean (default 3).
 * @returns mean + k·σ.
 * @throws {@link ArgumentError} for empty or non-finite scores or k.
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(thresholds.sigmaThreshold([2, 4, 4, 4, 5, 5, 7, 9], 2), 9); // 5 + 2·2
 * ```
 */
export function sigmaThreshold(trainScores: Numbers, k = 3): number {
  checkNonEmpty(trainScores, 'sigmaThreshold(trainScores)');
  checkFinite(trainScores, 'sigmaThreshold(trainScores)');
  if (!Number.isFinite(k)) throw new ArgumentError('sigmaThreshold(k)', 'a finite number', `${k}`);
  const m = mean(trainScores);
  return m + k * std(trainScores, m);
}

/**
 * Tukey's upper fence Q3 + k·(Q3 - Q1), quartiles by `quantile` (numpy 'linear').
 * @param trainScores - Scores of the training (calibration) data.
 * @param k - Multiple of the interquartile range (default 1.5).
 * @returns Q3 + k·(Q3 − Q1).
 * @throws {@link ArgumentError} for empty or non-finite scores or k.
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(thresholds.iqrThreshold([1, 2, 3, 4, 5, 6, 7, 8, 9], 1.5), 13); // Q1 = 3, Q3 = 7: 7 + 1.5·4
 * ```
 */
export function iqrThreshold(trainScores: Numbers, k = 1.5): number {
  if (!Number.isFinite(k)) throw new ArgumentError('iqrThreshold(k)', 'a finite number', `${k}`);
  const s = sortedCopy(trainScores, 'iqrThreshold(trainScores)');
  const q1 = sortedQuantile(s, 0.25);
  const q3 = sortedQuantile(s, 0.75);
  return q3 + k * (q3 - q1);
}

/**
 * PyOD's contamination rule: threshold = np.percentile(trainScores, 100·(1 - contamination)), so that about a
 * fraction `contamination` of the training scores lies strictly above it. 0 < contamination ≤ 0.5 as in PyOD.
 * @param trainScores - Scores of the training (calibration) data.
 * @param contamination - Expected fraction of anomalies, 0 < c ≤ 0.5 (default 0.1).
 * @returns The (1 − c) percentile of the scores.
 * @throws {@link ArgumentError} for empty or non-finite scores or a contamination outside (0, 0.5].
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(thresholds.contaminationThreshold([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.1), 8.1); // percentile 90
 * ```
 */
export function contaminationThreshold(trainScores: Numbers, contamination = 0.1): number {
  if (!(contamination > 0 && contamination <= 0.5)) {
    throw new ArgumentError('contaminationThreshold(contamination)', '0 < contamination ≤ 0.5', `${contamination}`);
  }
  const s = sortedCopy(trainScores, 'contaminationThreshold(trainScores)');
  return sortedQuantile(s, (100 * (1 - contamination)) / 100);
}

/**
 * Flags: 1 where score > threshold (strict), else 0.
 * @param scores - Anomaly scores.
 * @param threshold - The level; a score strictly above it is flagged.
 * @returns 0/1 per score.
 * @throws {@link ArgumentError} when the threshold or a score is NaN.
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // Strict: a score equal to the threshold is not flagged.
 * assert.deepEqual(thresholds.applyThreshold([0.1, 0.5, 0.9], 0.5), Uint8Array.of(0, 0, 1));
 * ```
 */
export function applyThreshold(scores: Numbers, threshold: number): Uint8Array {
  if (Number.isNaN(threshold)) {
    throw new ArgumentError('applyThreshold(threshold)', 'a number', 'NaN', { problem: 'got NaN' });
  }
  const flags = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (Number.isNaN(v)) {
      throw new ArgumentError('applyThreshold(scores)', 'numbers', `NaN at index ${i}`, {
        problem: `NaN at index ${i}`,
      });
    }
    flags[i] = v > threshold ? 1 : 0;
  }
  return flags;
}

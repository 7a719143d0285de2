/**
 * Evaluation metrics for anomaly detection: labels (0/1 per point, 1 = anomalous) against flags (0/1 per point)
 * or against scores (any finite number per point, higher = more anomalous).
 *
 * Point-wise     confusion → precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN) (sklearn's forms).
 *                A 0/0 takes the value `zeroDivision` (default 0, sklearn's default `zero_division="warn"` result).
 * SKAB           pooled counts over all files, then F1 = TP/(TP + (FP+FN)/2), FAR = FP/(FP+TN), MAR = FN/(FN+TP)
 *                (waico/SKAB `core/metrics.py`, metric 'binary'; SKAB prints FAR and MAR in %). A 0/0 is NaN there
 *                (numpy), so it is NaN here.
 * PA / PA%K      point adjustment (Xu et al. 2018) and PA%K (Kim et al., "Towards a Rigorous Evaluation of
 *                Time-Series Anomaly Detection", AAAI 2022): for each true anomaly segment S, if the number of
 *                flagged points in S is > K/100·|S|, every point of S counts as detected; then point-wise metrics.
 *                K = 0 is plain PA (one hit credits the whole segment); K = 100 leaves the flags unchanged.
 *                Why plain PA flatters: a single flag anywhere inside a long segment turns the whole segment into
 *                true positives, so recall is driven by luck on long segments and a detector that fires at random
 *                (or flags a few scattered points) gets a high F1 — Kim et al. show random scores beat published
 *                deep models under PA. PA%K with K > 0 asks for a share of the segment, and the curve of F1 over
 *                K = 0…100 (its area, `paKCurve`) shows how much of a score is owed to the adjustment.
 * Event-wise     true events = runs of label 1; predicted events = runs of flag 1. Event recall = share of true
 *                events overlapped by at least one predicted event; event precision = share of predicted events
 *                that overlap at least one true event (existence reward, as Telemanom scores sequences).
 * Scores         ROC-AUC = Mann-Whitney U / (P·N) with average ranks for ties (equal to sklearn's trapezoidal
 *                roc_auc_score); NaN when labels hold one class (sklearn raises). PR-AUC = average precision as
 *                sklearn: AP = Σ_k (R_k - R_{k-1})·P_k over the distinct score values, descending; 0 when there
 *                are no positives (sklearn warns and returns 0), 1 when every point is positive.
 */
import { ArgumentError } from '../errors.js';
import { runsOfOnes } from './events.js';

/** Point-wise confusion counts. */
export interface Confusion {
  /** Label 1, flag 1. */
  tp: number;
  /** Label 0, flag 1. */
  fp: number;
  /** Label 1, flag 0. */
  fn: number;
  /** Label 0, flag 0. */
  tn: number;
}

/** Precision, recall and F1. */
export interface PrecisionRecall {
  /** TP/(TP+FP). */
  precision: number;
  /** TP/(TP+FN). */
  recall: number;
  /** 2TP/(2TP+FP+FN). */
  f1: number;
}

/** Value returned for 0/0 in precision, recall and F1. Default 0 (sklearn). Use NaN to see undefined cases. */
export interface ZeroDivisionOption {
  /** The value of a 0/0. Default 0. */
  zeroDivision?: number;
}

function checkBinary(x: ArrayLike<number>, where: string): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v !== 0 && v !== 1) throw new ArgumentError(where, '0 or 1', `${v} at index ${i}`);
  }
}

function checkSameLength(labels: ArrayLike<number>, other: ArrayLike<number>, where: string): void {
  if (labels.length !== other.length) {
    throw new ArgumentError(where, `${labels.length} values (one per label)`, `${other.length}`);
  }
}

function checkPair(labels: ArrayLike<number>, flags: ArrayLike<number>, fn: string): void {
  checkSameLength(labels, flags, `${fn}(flags)`);
  checkBinary(labels, `${fn}(labels)`);
  checkBinary(flags, `${fn}(flags)`);
}

function div(a: number, b: number, zeroDivision: number): number {
  return b === 0 ? zeroDivision : a / b;
}

/**
 * Confusion counts of flags against labels.
 * @param labels - 0/1 per point (1 = anomalous).
 * @param flags - 0/1 per point (1 = flagged).
 * @returns The four counts.
 * @throws {@link ArgumentError} when a label or flag is not 0/1 or the lengths differ.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.deepEqual(metrics.confusion([1, 1, 0, 0], [1, 0, 1, 0]), { tp: 1, fp: 1, fn: 1, tn: 1 });
 * ```
 */
export function confusion(labels: ArrayLike<number>, flags: ArrayLike<number>): Confusion {
  checkPair(labels, flags, 'confusion');
  const c: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) {
      if (flags[i] === 1) c.tp++;
      else c.fn++;
    } else if (flags[i] === 1) c.fp++;
    else c.tn++;
  }
  return c;
}

/**
 * Sum of confusion counts (pooling over files, as SKAB does).
 * @param list - Counts, e.g. one per file.
 * @returns Their sums.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const total = metrics.sumConfusions([
 *   { tp: 1, fp: 0, fn: 2, tn: 3 },
 *   { tp: 1, fp: 1, fn: 0, tn: 0 },
 * ]);
 * assert.deepEqual(total, { tp: 2, fp: 1, fn: 2, tn: 3 });
 * ```
 */
export function sumConfusions(list: readonly Confusion[]): Confusion {
  const c: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (const x of list) {
    c.tp += x.tp;
    c.fp += x.fp;
    c.fn += x.fn;
    c.tn += x.tn;
  }
  return c;
}

/**
 * Precision, recall, F1 from counts; 0/0 → `zeroDivision` (default 0).
 * @param c - Confusion counts.
 * @param options - zeroDivision: the value of a 0/0 (default 0).
 * @returns Precision, recall and F1.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const prf = metrics.precisionRecallF1({ tp: 2, fp: 1, fn: 2, tn: 5 });
 * assert.deepEqual(prf, { precision: 2 / 3, recall: 0.5, f1: 4 / 7 });
 * ```
 */
export function precisionRecallF1(c: Confusion, options: ZeroDivisionOption = {}): PrecisionRecall {
  const z = options.zeroDivision ?? 0;
  return {
    precision: div(c.tp, c.tp + c.fp, z),
    recall: div(c.tp, c.tp + c.fn, z),
    f1: div(2 * c.tp, 2 * c.tp + c.fp + c.fn, z),
  };
}

/**
 * Point-wise precision, recall, F1 and the counts.
 * @param labels - 0/1 per point.
 * @param flags - 0/1 per point.
 * @param options - zeroDivision: the value of a 0/0 (default 0).
 * @returns The counts with precision, recall and F1.
 * @throws {@link ArgumentError} when a label or flag is not 0/1 or the lengths differ.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(metrics.pointMetrics([0, 1, 1, 0], [0, 1, 0, 0]).recall, 0.5);
 * // No positives and none predicted: every ratio is 0/0, which takes zeroDivision.
 * assert.equal(metrics.pointMetrics([0, 0], [0, 0]).f1, 0);
 * assert.ok(Number.isNaN(metrics.pointMetrics([0, 0], [0, 0], { zeroDivision: NaN }).f1));
 * ```
 */
export function pointMetrics(
  labels: ArrayLike<number>,
  flags: ArrayLike<number>,
  options: ZeroDivisionOption = {},
): PrecisionRecall & Confusion {
  const c = confusion(labels, flags);
  return { ...c, ...precisionRecallF1(c, options) };
}

/**
 * False-alarm rate FP/(FP+TN) (SKAB's FAR as a fraction); NaN without negatives.
 *
 * @param c - Confusion counts.
 * @returns The rate.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(metrics.falseAlarmRate({ tp: 3, fp: 1, fn: 1, tn: 3 }), 0.25);
 * ```
 */
export function falseAlarmRate(c: Confusion): number {
  return c.fp / (c.fp + c.tn);
}

/**
 * Missed-alarm rate FN/(FN+TP) (SKAB's MAR as a fraction); NaN without positives.
 *
 * @param c - Confusion counts.
 * @returns The rate.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(metrics.missedAlarmRate({ tp: 3, fp: 1, fn: 1, tn: 3 }), 0.25);
 * assert.ok(Number.isNaN(metrics.missedAlarmRate({ tp: 0, fp: 1, fn: 0, tn: 3 })));
 * ```
 */
export function missedAlarmRate(c: Confusion): number {
  return c.fn / (c.fn + c.tp);
}

/** SKAB's outlier metrics. */
export interface SkabMetrics {
  /** TP/(TP + (FP+FN)/2). */
  f1: number;
  /** False-alarm rate as a fraction (SKAB prints 100·far %). */
  far: number;
  /** Missed-alarm rate as a fraction (SKAB prints 100·mar %). */
  mar: number;
}

/**
 * SKAB's metric 'binary' from (pooled) counts: F1 = TP/(TP + (FP+FN)/2), FAR = FP/(FP+TN), MAR = FN/(FN+TP);
 * NaN where SKAB divides 0 by 0. Pool first with `sumConfusions` when scoring several files, as SKAB does.
 * @param c - Confusion counts (pooled over files).
 * @returns F1, FAR and MAR.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.deepEqual(metrics.skabMetrics({ tp: 3, fp: 1, fn: 1, tn: 5 }), { f1: 0.75, far: 1 / 6, mar: 0.25 });
 * ```
 */
export function skabMetrics(c: Confusion): SkabMetrics {
  return { f1: c.tp / (c.tp + (c.fp + c.fn) / 2), far: falseAlarmRate(c), mar: missedAlarmRate(c) };
}

/**
 * PA%K adjusted flags (Kim et al. AAAI 2022): every true segment with more than k/100 of its points flagged
 * becomes fully flagged; flags outside true segments are unchanged. k = 0 is plain point adjustment.
 * @param labels - 0/1 per point.
 * @param flags - 0/1 per point.
 * @param k - Percent of a segment that must be flagged, 0 (plain PA) to 100.
 * @returns The adjusted flags.
 * @throws {@link ArgumentError} when a label or flag is not 0/1 or the lengths differ. Also for k outside [0, 100].
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const labels = [0, 1, 1, 1, 1, 0];
 * const flags = [0, 0, 1, 0, 0, 1];
 * assert.deepEqual(metrics.pointAdjust(labels, flags, 0), Uint8Array.of(0, 1, 1, 1, 1, 1));
 * assert.deepEqual(metrics.pointAdjust(labels, flags, 25), Uint8Array.from(flags)); // 1/4 is not > 25 %
 * ```
 */
export function pointAdjust(labels: ArrayLike<number>, flags: ArrayLike<number>, k = 0): Uint8Array {
  checkPair(labels, flags, 'pointAdjust');
  if (!(k >= 0 && k <= 100)) throw new ArgumentError('pointAdjust(k)', '0 ≤ k ≤ 100 (percent)', `${k}`);
  const out = Uint8Array.from(flags);
  for (const [start, end] of runsOfOnes(labels)) {
    let hits = 0;
    for (let i = start; i <= end; i++) hits += flags[i];
    if (hits > (k / 100) * (end - start + 1)) out.fill(1, start, end + 1);
  }
  return out;
}

/**
 * Point-wise metrics after PA%K adjustment (k = 0: the usual point-adjusted F1, which flatters; see the header).
 * @param labels - 0/1 per point.
 * @param flags - 0/1 per point.
 * @param k - Percent of a segment that must be flagged (default 0, plain PA).
 * @param options - zeroDivision (default 0).
 * @returns Point-wise metrics of the adjusted flags.
 * @throws {@link ArgumentError} when a label or flag is not 0/1 or the lengths differ.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(metrics.pointAdjustedMetrics([0, 1, 1, 1, 1, 0], [0, 0, 1, 0, 0, 1]).f1, 8 / 9); // 2·4/(2·4 + 1 + 0)
 * ```
 */
export function pointAdjustedMetrics(
  labels: ArrayLike<number>,
  flags: ArrayLike<number>,
  k = 0,
  options: ZeroDivisionOption = {},
): PrecisionRecall & Confusion {
  return pointMetrics(labels, pointAdjust(labels, flags, k), options);
}

/** F1 over PA%K thresholds and the area under that curve (K/100 on [0, 1], trapezoidal). */
export interface PaKCurve {
  /** The K values, percent. */
  k: number[];
  /** F1 of PA%K at each K. */
  f1: number[];
  /** Area under F1 over K/100 in [0, 1], trapezoidal. */
  auc: number;
}

/**
 * F1 of PA%K for each K (default 0, 10, …, 100) and the area under F1(K/100), trapezoidal — Kim et al.'s summary
 * that does not depend on one chosen K. The area equals the mean F1 when K is evenly spaced from 0 to 100.
 *
 * @param labels - 0/1 per point.
 * @param flags - 0/1 per point.
 * @param ks - Increasing K values, percent.
 * @param options - zeroDivision (default 0).
 * @returns F1 per K and the area.
 * @throws {@link ArgumentError} for a label or flag not 0/1, different lengths, or no K or K not increasing.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const curve = metrics.paKCurve([0, 1, 1, 1, 1, 0], [0, 1, 1, 0, 0, 0], [0, 50, 100]);
 * assert.deepEqual(curve.f1, [1, 2 / 3, 2 / 3]); // 2 of 4 flagged: adjusted at K = 0 only (50 % is not > 50 %)
 * assert.ok(Math.abs(curve.auc - 0.75) < 1e-12);
 * ```
 */
export function paKCurve(
  labels: ArrayLike<number>,
  flags: ArrayLike<number>,
  ks: readonly number[] = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
  options: ZeroDivisionOption = {},
): PaKCurve {
  if (ks.length === 0) {
    throw new ArgumentError('paKCurve(ks)', 'at least one K', 'expected at least one K', {
      problem: 'expected at least one K',
    });
  }
  for (let i = 1; i < ks.length; i++) {
    if (!(ks[i] > ks[i - 1])) {
      throw new ArgumentError('paKCurve(ks)', 'increasing values', `${ks.join(', ')}`);
    }
  }
  const f1 = ks.map((k) => pointAdjustedMetrics(labels, flags, k, options).f1);
  let auc = 0;
  for (let i = 1; i < ks.length; i++) auc += ((ks[i] - ks[i - 1]) / 100) * ((f1[i] + f1[i - 1]) / 2);
  return { k: ks.slice(), f1, auc };
}

/** Event-wise (range) metrics and the counts they come from. */
export interface EventMetrics extends PrecisionRecall {
  /** Runs of label 1. */
  trueEvents: number;
  /** Runs of flag 1. */
  predictedEvents: number;
  /** True events overlapped by at least one predicted event. */
  detectedEvents: number;
  /** Predicted events overlapping at least one true event. */
  correctPredictions: number;
}

/** For each range of a, does some range of b overlap it? (both sorted, disjoint) */
function overlapCount(a: Array<[number, number]>, b: Array<[number, number]>): number {
  let j = 0;
  let count = 0;
  for (const [s, e] of a) {
    while (j < b.length && b[j][1] < s) j++;
    if (j < b.length && b[j][0] <= e) count++;
  }
  return count;
}

/**
 * Event-wise precision and recall (existence of overlap). F1 is their harmonic mean (0 if both are 0).
 * With no true and no predicted events all three are `zeroDivision` (default 0).
 * @param labels - 0/1 per point.
 * @param flags - 0/1 per point.
 * @param options - zeroDivision (default 0).
 * @returns Event precision, recall, F1 and their counts.
 * @throws {@link ArgumentError} when a label or flag is not 0/1 or the lengths differ.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const m = metrics.eventMetrics([0, 1, 1, 0, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0, 0, 1]);
 * assert.equal(m.recall, 1 / 2); // the first true event is hit, the second not
 * assert.equal(m.precision, 1 / 2); // the flag at 7 overlaps no true event
 * ```
 */
export function eventMetrics(
  labels: ArrayLike<number>,
  flags: ArrayLike<number>,
  options: ZeroDivisionOption = {},
): EventMetrics {
  checkPair(labels, flags, 'eventMetrics');
  const z = options.zeroDivision ?? 0;
  const t = runsOfOnes(labels);
  const p = runsOfOnes(flags);
  const detectedEvents = overlapCount(t, p);
  const correctPredictions = overlapCount(p, t);
  const precision = div(correctPredictions, p.length, z);
  const recall = div(detectedEvents, t.length, z);
  const f1 =
    t.length === 0 && p.length === 0 ? z : precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, trueEvents: t.length, predictedEvents: p.length, detectedEvents, correctPredictions };
}

function checkScores(labels: ArrayLike<number>, scores: ArrayLike<number>, fn: string): void {
  checkSameLength(labels, scores, `${fn}(scores)`);
  checkBinary(labels, `${fn}(labels)`);
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (!Number.isFinite(v)) throw new ArgumentError(`${fn}(scores)`, 'finite numbers', `${v} at index ${i}`);
  }
}

/**
 * ROC-AUC by average ranks: AUC = (R₊ - P(P+1)/2)/(P·N), R₊ = sum of the (tie-averaged, 1-based) ranks of the
 * positives' scores. A tie between a positive and a negative counts 1/2. NaN if labels hold only one class.
 * @param labels - 0/1 per point.
 * @param scores - A finite score per point, higher = more anomalous.
 * @returns The area under the ROC curve, or NaN with one class.
 * @throws {@link ArgumentError} when a label is not 0/1, a score is not finite, or the lengths differ.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(metrics.rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
 * assert.equal(metrics.rocAuc([0, 1], [0.5, 0.5]), 0.5); // a tie counts 1/2
 * ```
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkScores(labels, scores, 'rocAuc');
  const n = labels.length;
  let P = 0;
  for (let i = 0; i < n; i++) P += labels[i];
  const N = n - P;
  if (P === 0 || N === 0) return NaN;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    const v = scores[idx[i]];
    let pos = 0;
    while (j < n && scores[idx[j]] === v) pos += labels[idx[j++]];
    rankSum += pos * ((i + 1 + j) / 2); // ranks i+1 … j share their mean
    i = j;
  }
  return (rankSum - (P * (P + 1)) / 2) / (P * N);
}

/**
 * Average precision (PR-AUC) as sklearn's `average_precision_score`: walking the distinct scores from high to
 * low, AP = Σ (R_k - R_{k-1})·P_k with P_k, R_k the precision and recall of flagging score ≥ that value.
 * 0 if there are no positives (sklearn's result, with a warning).
 * @param labels - 0/1 per point.
 * @param scores - A finite score per point, higher = more anomalous.
 * @returns Average precision in [0, 1].
 * @throws {@link ArgumentError} when a label is not 0/1, a score is not finite, or the lengths differ.
 * @example
 * ```ts
 * import { metrics } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(metrics.averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.5 * 1 + 0.5 * (2 / 3));
 * ```
 */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkScores(labels, scores, 'averagePrecision');
  const n = labels.length;
  let P = 0;
  for (let i = 0; i < n; i++) P += labels[i];
  if (P === 0) return 0;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < n) {
    const v = scores[idx[i]];
    while (i < n && scores[idx[i]] === v) {
      if (labels[idx[i]] === 1) tp++;
      else fp++;
      i++;
    }
    const recall = tp / P;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

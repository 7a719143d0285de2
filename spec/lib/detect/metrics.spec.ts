import { expect } from 'chai';
import { ArgumentError } from '../../../lib/errors';
import {
  averagePrecision,
  confusion,
  eventMetrics,
  falseAlarmRate,
  missedAlarmRate,
  paKCurve,
  pointAdjust,
  pointAdjustedMetrics,
  pointMetrics,
  precisionRecallF1,
  rocAuc,
  skabMetrics,
  sumConfusions,
} from '../../../lib/detect/metrics';
import { makeRng } from '../../helpers/rng';

/** Oracle: ROC-AUC as the share of (positive, negative) pairs ordered correctly, ties counting 1/2. */
function pairwiseAuc(labels: number[], scores: number[]): number {
  let num = 0;
  let den = 0;
  labels.forEach((li, i) => {
    if (li !== 1) return;
    labels.forEach((lj, j) => {
      if (lj !== 0) return;
      den++;
      const a = scores[i];
      const b = scores[j];
      num += a > b ? 1 : a === b ? 0.5 : 0;
    });
  });
  return num / den;
}

/** Oracle: sklearn's average precision written out over every distinct threshold, O(n²). */
function naiveAp(labels: number[], scores: number[]): number {
  const P = labels.reduce((a, b) => a + b, 0);
  const thresholds = Array.from(new Set(scores)).sort((a, b) => b - a);
  let prevRecall = 0;
  let ap = 0;
  for (const t of thresholds) {
    let tp = 0;
    let fp = 0;
    scores.forEach((s, i) => {
      if (s >= t) {
        if (labels[i] === 1) tp++;
        else fp++;
      }
    });
    ap += (tp / P - prevRecall) * (tp / (tp + fp));
    prevRecall = tp / P;
  }
  return ap;
}

describe('detect/metrics: point-wise and SKAB', () => {
  it('confusion, precision, recall, F1 on a hand-made vector', () => {
    const labels = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
    const flags = [1, 1, 0, 0, 1, 0, 0, 0, 0, 0];
    expect(confusion(labels, flags)).to.deep.equal({ tp: 2, fp: 1, fn: 2, tn: 5 });
    const m = pointMetrics(labels, flags);
    expect(m.precision).to.be.closeTo(2 / 3, 1e-15);
    expect(m.recall).to.equal(0.5);
    expect(m.f1).to.be.closeTo(4 / 7, 1e-15); // 2·2/(2·2 + 1 + 2)
  });

  it('edge cases follow sklearn: 0/0 → zeroDivision (default 0)', () => {
    // no positives, nothing flagged: all undefined → 0 (or NaN when asked)
    expect(pointMetrics([0, 0, 0], [0, 0, 0])).to.include({ precision: 0, recall: 0, f1: 0 });
    const nan = pointMetrics([0, 0, 0], [0, 0, 0], { zeroDivision: NaN });
    expect(Number.isNaN(nan.precision) && Number.isNaN(nan.recall) && Number.isNaN(nan.f1)).to.equal(true);
    // no positives but some flags: precision 0 (defined), recall 0/0 → 0, F1 = 0
    expect(pointMetrics([0, 0, 0], [1, 0, 0])).to.include({ precision: 0, recall: 0, f1: 0 });
    // all positives, all flagged: perfect
    expect(pointMetrics([1, 1], [1, 1])).to.include({ precision: 1, recall: 1, f1: 1 });
    // all positives, nothing flagged: precision 0/0 → 0, recall 0
    expect(pointMetrics([1, 1], [0, 0])).to.include({ precision: 0, recall: 0, f1: 0 });
    expect(precisionRecallF1({ tp: 0, fp: 0, fn: 0, tn: 4 }, { zeroDivision: 1 })).to.deep.equal({
      precision: 1,
      recall: 1,
      f1: 1,
    });
  });

  it('rejects non-binary labels and length mismatches', () => {
    expect(() => confusion([0, 2], [0, 1])).to.throw(ArgumentError, 'confusion(labels)');
    expect(() => confusion([0, 1], [0])).to.throw(ArgumentError, 'confusion(flags)');
  });

  it('SKAB metrics: pooled counts, F1 = TP/(TP + (FP+FN)/2), FAR, MAR; NaN where SKAB divides by zero', () => {
    const a = confusion([1, 1, 0, 0, 0], [1, 0, 1, 0, 0]); // tp 1, fn 1, fp 1, tn 2
    const b = confusion([1, 1, 0, 0, 0], [1, 1, 0, 0, 0]); // tp 2, tn 3
    const pooled = sumConfusions([a, b]);
    expect(pooled).to.deep.equal({ tp: 3, fp: 1, fn: 1, tn: 5 });
    const m = skabMetrics(pooled);
    expect(m.f1).to.equal(0.75); // 3/(3 + 1)
    expect(m.far).to.be.closeTo(1 / 6, 1e-15);
    expect(m.mar).to.equal(0.25);
    expect(Number.isNaN(falseAlarmRate({ tp: 1, fp: 0, fn: 0, tn: 0 }))).to.equal(true);
    expect(Number.isNaN(missedAlarmRate({ tp: 0, fp: 1, fn: 0, tn: 3 }))).to.equal(true);
    expect(missedAlarmRate({ tp: 0, fp: 0, fn: 2, tn: 3 })).to.equal(1);
    // flagging everything: FAR 1, MAR 0
    expect(skabMetrics(confusion([1, 0, 0, 1], [1, 1, 1, 1]))).to.deep.equal({ f1: 2 / 3, far: 1, mar: 0 });
  });
});

describe('detect/metrics: point adjustment and PA%K', () => {
  const labels = [0, 1, 1, 1, 1, 0, 0, 1, 1, 0];
  const flags = [0, 0, 1, 0, 0, 1, 0, 1, 1, 0];

  it('PA credits a whole segment for one hit; PA%K only above K % of it', () => {
    expect(Array.from(pointAdjust(labels, flags, 0))).to.deep.equal([0, 1, 1, 1, 1, 1, 0, 1, 1, 0]);
    // segment 1..4 has 1/4 = 25 % flagged: not > 25, but > 20
    expect(Array.from(pointAdjust(labels, flags, 25))).to.deep.equal(flags);
    expect(Array.from(pointAdjust(labels, flags, 20))).to.deep.equal([0, 1, 1, 1, 1, 1, 0, 1, 1, 0]);
    // K = 100 never adjusts: PA%100 is the point-wise F1
    expect(pointAdjustedMetrics(labels, flags, 100).f1).to.equal(pointMetrics(labels, flags).f1);
    // PA F1: tp 6, fp 1, fn 0 → 12/13; point-wise: tp 3, fp 1, fn 3 → 6/10
    expect(pointAdjustedMetrics(labels, flags).f1).to.be.closeTo(12 / 13, 1e-15);
    expect(pointMetrics(labels, flags).f1).to.be.closeTo(0.6, 1e-15);
  });

  it('plain PA flatters a single lucky hit in a long segment', () => {
    const l = new Array(100).fill(0).fill(1, 10, 90);
    const f = new Array(100).fill(0);
    f[50] = 1;
    expect(pointMetrics(l, f).f1).to.be.lessThan(0.03);
    expect(pointAdjustedMetrics(l, f).f1).to.equal(1);
    expect(paKCurve(l, f).auc).to.be.lessThan(0.1); // the area over K exposes it
  });

  it('paKCurve: F1 per K and its trapezoidal area', () => {
    const c = paKCurve(labels, flags, [0, 20, 25, 100]);
    expect(c.f1).to.deep.equal([12 / 13, 12 / 13, 0.6, 0.6]);
    expect(c.auc).to.be.closeTo(0.2 * (12 / 13) + 0.05 * ((12 / 13 + 0.6) / 2) + 0.75 * 0.6, 1e-12);
    expect(() => paKCurve(labels, flags, [10, 0])).to.throw(ArgumentError, 'increasing');
    expect(() => pointAdjust(labels, flags, 101)).to.throw(ArgumentError, 'pointAdjust(k)');
  });
});

describe('detect/metrics: event-wise', () => {
  it('counts overlapping events, not points', () => {
    const labels = [0, 1, 1, 0, 0, 1, 1, 0, 0, 0];
    const flags = [0, 0, 1, 1, 1, 0, 0, 0, 1, 0];
    const m = eventMetrics(labels, flags);
    expect(m).to.include({ trueEvents: 2, predictedEvents: 2, detectedEvents: 1, correctPredictions: 1 });
    expect(m.precision).to.equal(0.5);
    expect(m.recall).to.equal(0.5);
    expect(m.f1).to.equal(0.5);
  });

  it('one long prediction covering two true events detects both', () => {
    const m = eventMetrics([1, 0, 1, 0], [1, 1, 1, 0]);
    expect(m).to.include({ detectedEvents: 2, correctPredictions: 1, precision: 1, recall: 1, f1: 1 });
  });

  it('edge cases: no events at all → zeroDivision; misses → 0', () => {
    expect(eventMetrics([0, 0], [0, 0])).to.include({ precision: 0, recall: 0, f1: 0 });
    expect(eventMetrics([0, 0], [0, 0], { zeroDivision: 1 })).to.include({ precision: 1, recall: 1, f1: 1 });
    expect(eventMetrics([1, 0], [0, 1])).to.include({ precision: 0, recall: 0, f1: 0 });
    expect(eventMetrics([1, 0], [0, 0])).to.include({ precision: 0, recall: 0, f1: 0 });
  });
});

describe('detect/metrics: ROC-AUC and average precision', () => {
  it('match sklearn’s documented example', () => {
    // sklearn docs: roc_auc_score / average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).to.equal(0.75);
    expect(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).to.be.closeTo(0.8333333333333333, 1e-15);
  });

  it('ties: average ranks for ROC-AUC, one threshold per distinct value for AP', () => {
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).to.equal(0.5);
    expect(averagePrecision([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5])).to.equal(0.5);
    // positive tied with one negative at the top: pairs (p, n1) = 1/2, (p, n2) = 1 → 0.75
    expect(rocAuc([1, 0, 0], [0.9, 0.9, 0.1])).to.equal(0.75);
    // one group {0.9: 1 tp, 1 fp} → P = 1/2 at R = 1
    expect(averagePrecision([1, 0, 0], [0.9, 0.9, 0.1])).to.equal(0.5);
  });

  it('agree with pairwise / brute-force oracles on seeded data with many ties', () => {
    const rng = makeRng('auc');
    const labels: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < 300; i++) {
      const y = rng() < 0.2 ? 1 : 0;
      labels.push(y);
      scores.push(Math.round((rng() + 0.5 * y) * 10) / 10); // coarse → ties
    }
    expect(rocAuc(labels, scores)).to.be.closeTo(pairwiseAuc(labels, scores), 1e-12);
    expect(averagePrecision(labels, scores)).to.be.closeTo(naiveAp(labels, scores), 1e-12);
  });

  it('edge cases: one class → ROC-AUC NaN (sklearn raises); AP 0 without positives, 1 with only positives', () => {
    expect(Number.isNaN(rocAuc([0, 0], [0.1, 0.2]))).to.equal(true);
    expect(Number.isNaN(rocAuc([1, 1], [0.1, 0.2]))).to.equal(true);
    expect(averagePrecision([0, 0], [0.1, 0.2])).to.equal(0);
    expect(averagePrecision([1, 1], [0.1, 0.2])).to.equal(1);
    expect(rocAuc([0, 1], [0, 1])).to.equal(1);
    expect(rocAuc([1, 0], [0, 1])).to.equal(0);
    expect(() => rocAuc([0, 1], [0, NaN])).to.throw(ArgumentError, 'rocAuc(scores)');
  });
});

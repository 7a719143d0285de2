/**
 * The offline mode (causal: false) and the SKAB notebooks' rule, combine 'all' with threshold 'ucl:q:k', checked
 * against a direct computation from the network's own reconstructions: window residual r_s = Σ_f mean_j |x̂ − x|,
 * UCL = k · quantile_q(training residuals), point d flagged iff r_s > UCL for every s in d−W+1 … d−1.
 */
import { expect } from 'chai';
import { ArgumentError } from '../../../lib/errors';
import { Detector } from '../../../lib/detect/detector';
import { parseThreshold, thresholdToString } from '../../../lib/detect/threshold-spec';
import { makeRng } from '../../helpers/rng';

function residuals(d: Detector, rows: number[][]): number[] {
  const W = d.options.window,
    F = rows[0]?.length;
  const norm = d.normaliser as NonNullable<Detector['normaliser']>;
  const z = rows.map((r) => r.map((v, f) => (v - norm.offset[f]) / norm.scale[f]));
  const windows = Array.from({ length: rows.length - W + 1 }, (_, s) => z.slice(s, s + W));
  const y = (d.model as NonNullable<Detector['model']>).predict(windows);
  return windows.map((win, s) => {
    let r = 0;
    for (let f = 0; f < F; f++) {
      let m = 0;
      for (let j = 0; j < W; j++) m += Math.abs(y.get(s, j, f) - Math.fround(win[j]?.[f]));
      r += m / W;
    }
    return r;
  });
}

/** numpy's default (linear) quantile. */
function quantile(v: number[], q: number): number {
  const s = [...v].sort((a, b) => a - b);
  const h = (s.length - 1) * q,
    lo = Math.floor(h);
  return s[lo] + (h - lo) * (s[Math.min(lo + 1, s.length - 1)] - s[lo]);
}

describe('Detector offline: the SKAB rule (combine all, ucl threshold)', () => {
  const rng = makeRng('skab-rule');
  const rows = Array.from({ length: 520 }, (_, t) => [Math.sin(t / 9) + 0.05 * rng(), Math.cos(t / 13) + 0.05 * rng()]);
  for (let t = 420; t < 460; t++) rows[t][1] = 2.5; // a collective anomaly
  const train = rows.slice(0, 300);

  it('scores, calibrates and flags as the notebook rule computed directly', () => {
    const W = 10;
    const d = new Detector({
      model: 'gru-ae',
      causal: false,
      combine: 'all',
      window: W,
      hidden: 6,
      epochs: 3,
      seed: 2,
      threshold: 'ucl:0.99:1.5',
      workers: 1,
    }).fit(train);
    const rTrain = residuals(d, train);
    expect((d.calibration as Float64Array).length).to.equal(rTrain.length);
    (d.calibration as Float64Array).forEach((v, i) => expect(v).to.be.closeTo(rTrain[i], 1e-6 * rTrain[i] + 1e-9));
    const ucl = 1.5 * quantile(rTrain, 0.99);
    expect(d.threshold).to.be.closeTo(ucl, 1e-6 * ucl);
    const res = d.detect(rows);
    const r = residuals(d, rows);
    expect(res.firstScored).to.equal(W - 1);
    let flagged = 0;
    for (let t = 0; t < rows.length; t++) {
      const inRange = t >= W - 1 && t <= rows.length - W + 1;
      const expected = inRange ? Math.min(...r.slice(t - W + 1, t)) : 0;
      expect(res.scores[t], `score ${t}`).to.be.closeTo(expected, 1e-6 * expected + 1e-9);
      const all = inRange && r.slice(t - W + 1, t).every((v) => v > res.threshold);
      if (
        Math.abs(Math.min(...r.slice(Math.max(t - W + 1, 0), Math.max(t, 1))) - res.threshold) >
        1e-6 * res.threshold
      ) {
        expect(res.flags[t], `flag ${t}`).to.equal(all ? 1 : 0);
      }
      flagged += res.flags[t];
    }
    expect(flagged).to.be.above(20);
    expect(res.flags.subarray(420, 460).reduce((a, b) => a + b, 0)).to.be.above(20);
  });

  it('is offline only: causal detectors refuse it, stream() and exportScorer explain why', () => {
    expect(() => new Detector({ combine: 'all' })).to.throw(ArgumentError, /look-ahead/);
    const d = new Detector({
      model: 'dense-ae',
      causal: false,
      combine: 'all',
      window: 8,
      hidden: [4, 2],
      epochs: 1,
      threshold: 'ucl',
      workers: 1,
    }).fit(train);
    expect(() => d.stream()).to.throw(ArgumentError, /stream: combine 'all'.*offline/);
    expect(() => d.exportScorer()).to.throw(ArgumentError, /combine 'all'.*offline/);
    expect(() => new Detector({ causal: false, combine: 'all', window: 1 })).to.throw(ArgumentError, /window ≥ 2/);
  });

  it('ucl:q:k parses, prints and rejects bad parts', () => {
    expect(parseThreshold('ucl')).to.deep.equal({ kind: 'ucl', value: 0.999 });
    expect(parseThreshold('ucl:0.99:1.5')).to.deep.equal({ kind: 'ucl', value: 0.99, factor: 1.5 });
    expect(thresholdToString(parseThreshold('ucl:0.99:1.5'))).to.equal('ucl:0.99:1.5');
    expect(() => parseThreshold('ucl:1.5')).to.throw(ArgumentError, /ucl needs a probability/);
    expect(() => parseThreshold('ucl:0.9:-1')).to.throw(ArgumentError, /positive multiplier/);
    expect(() => parseThreshold('quantile:0.9:2')).to.throw(ArgumentError, /expected kind or kind:value/);
  });

  it('a saved offline detector loads with its rule and scores alike', () => {
    const d = new Detector({
      model: 'dense-ae',
      causal: false,
      combine: 'all',
      window: 8,
      hidden: [4, 2],
      epochs: 1,
      threshold: 'ucl:0.999:1.3333',
      workers: 1,
    }).fit(train);
    const back = Detector.fromJSON(JSON.stringify(d.toJSON()));
    expect(back.options.causal).to.equal(false);
    expect(back.thresholdSpec).to.equal('ucl:0.999:1.3333');
    expect(Array.from(back.detect(rows).flags)).to.deep.equal(Array.from(d.detect(rows).flags));
  });
});

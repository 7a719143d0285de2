import { expect } from 'chai';
import { ArgumentError } from '../../../lib/errors';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import ndarray from 'ndarray';
import { Detector, type DetectorModel, type ThresholdSpec } from '../../../lib/index';
import { fillMissing, readSeries } from '../../../lib/tensor';
import { makeRng } from '../../helpers/rng';
import { importEsm } from '../../helpers/esm';

/**
 * A seeded seasonal series (period 40, noise σ ≈ 0.05) with three injected anomalies:
 *   point       a spike of +2.5 at t = 700
 *   contextual  t = 800..819 hold the value the series had half a period earlier (normal values, wrong phase)
 *   collective  t = 900..929 a flat line at the series mean (a stuck sensor)
 */
function synthetic(n: number, seed: string): { x: number[]; injected: [number, number][] } {
  const rng = makeRng(seed);
  const x = Array.from({ length: n }, (_, t) => Math.sin((2 * Math.PI * t) / 40) + 0.1 * (rng() - 0.5));
  x[700] = x[700] + 2.5;
  for (let t = 800; t < 820; t++) x[t] = Math.sin((2 * Math.PI * (t + 20)) / 40) + 0.1 * (rng() - 0.5);
  for (let t = 900; t < 930; t++) x[t] = 0;
  return {
    x,
    injected: [
      [700, 700],
      [800, 819],
      [900, 929],
    ],
  };
}

const overlaps = (e: { start: number; end: number }, r: [number, number], slack: number): boolean =>
  e.start <= r[1] + slack && e.end >= r[0] - slack;

describe('Detector', () => {
  const { x, injected } = synthetic(1000, 'synthetic');
  const train = x.slice(0, 600);

  const models: DetectorModel[] = ['lstm-ae', 'gru-ae', 'rnn-ae', 'dense-ae', 'lstm-forecast'];
  for (const model of models) {
    it(`${model} with default options finds the point, contextual and collective anomalies`, function () {
      const d = new Detector({ model, seed: 1, epochs: 15, hidden: 16 }).fit(train);
      const r = d.detect(x);
      expect(r.scores).to.have.length(x.length);
      expect(r.flags).to.have.length(x.length);
      for (const inj of injected) {
        // the window-based scores spread an anomaly over the windows covering it: allow one window of slack
        expect(
          r.events.some((e) => overlaps(e, inj, 32)),
          `${model}: no event near ${inj} in ${JSON.stringify(r.events)}`,
        ).to.equal(true);
      }
      // and it is not just flagging everything: the normal first 600 points hold few flags
      let early = 0;
      for (let t = 0; t < 600; t++) early += r.flags[t];
      expect(early, `${model}: flags on the normal training part`).to.be.below(30);
    });
  }

  it('the rolling baselines score the point anomaly above every normal point', () => {
    for (const model of ['zscore', 'iqr'] as const) {
      const d = new Detector({ model, threshold: 'quantile:0.999' }).fit(train);
      const r = d.detect(x);
      const normalMax = Math.max(...Array.from(r.scores.slice(40, 600)));
      expect(r.scores[700], model).to.be.above(1.2 * normalMax);
      expect(r.flags[700]).to.equal(1);
    }
  });

  it('SPOT calibrates on short training series by lowering its initial level (≥ 10 peaks)', () => {
    const short = x.slice(0, 140); // zscore with window 100 leaves 40 calibration scores: 0.98 would keep 0 peaks
    const d = new Detector({ model: 'zscore', window: 100, threshold: 'spot' }).fit(short);
    expect(d.calibration).to.have.length(40);
    const r = d.detect(x);
    expect(Number.isFinite(r.threshold)).to.equal(true);
    expect(r.flags[700]).to.equal(1);
  });

  it('is deterministic: the same seed gives bit-identical scores', () => {
    const a = new Detector({ model: 'gru-ae', seed: 7, epochs: 3, hidden: 8 }).fit(train).score(x).scores;
    const b = new Detector({ model: 'gru-ae', seed: 7, epochs: 3, hidden: 8 }).fit(train).score(x).scores;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).to.equal(true);
  });

  describe('streaming gives the same scores and flags as batch detect', () => {
    const multi = x.map((v, t) => [v, Math.cos(t / 9)]);
    const cases: {
      model: DetectorModel;
      combine?: 'mean' | 'max' | 'last';
      threshold?: ThresholdSpec;
      causal?: boolean;
    }[] = [
      { model: 'lstm-ae' },
      { model: 'lstm-ae', combine: 'mean', causal: false },
      { model: 'gru-ae', combine: 'max', threshold: 'dspot', causal: false },
      { model: 'dense-ae', threshold: 'quantile:0.99' },
      { model: 'lstm-forecast' },
      { model: 'zscore', threshold: 'sigma:3' },
      { model: 'iqr' },
    ];
    for (const c of cases) {
      it(`${c.model}${c.combine ? ` (${c.combine})` : ''} ${c.threshold ?? 'spot'} (bit-identical: batch-1 and batched products agree)`, () => {
        const d = new Detector({ ...c, window: 16, hidden: 8, epochs: 2, seed: 3 }).fit(multi.slice(0, 400));
        const b = d.detect(multi.slice(0, 700));
        const s = d.stream();
        const seen = new Set<number>();
        const check = (o: { index: number; score: number; flag: number; threshold: number }): void => {
          seen.add(o.index);
          expect(o.score, `score at ${o.index}`).to.equal(b.scores[o.index]);
          expect(o.flag, `flag at ${o.index}`).to.equal(b.flags[o.index]);
          expect(o.threshold).to.equal(b.thresholds[o.index]);
        };
        for (const p of multi.slice(0, 700)) {
          const o = s.push(p);
          if (o) check(o);
        }
        for (const o of s.flush()) check(o);
        const expected = 700 - b.firstScored;
        expect(seen.size).to.equal(expected);
      });
    }
  });

  it('fills missing values by interpolation and reports them', () => {
    const s = readSeries([1, NaN, NaN, 4, null as unknown as number, 6, NaN], 'x');
    const rep = fillMissing(s);
    expect(Array.from(s.data)).to.deep.equal([1, 2, 3, 4, 5, 6, 6]);
    expect(rep.filled).to.equal(4);
    const m = readSeries(
      [
        [NaN, 1],
        [2, NaN],
        [4, 5],
      ],
      'x',
    );
    fillMissing(m);
    expect(Array.from(m.data)).to.deep.equal([2, 1, 2, 3, 4, 5]);
    const gappy = x.slice(0, 700);
    gappy[650] = NaN;
    gappy[651] = NaN;
    const d = new Detector({ model: 'zscore' }).fit(train);
    const r = d.detect(gappy);
    expect(r.filled.filled).to.equal(2);
    expect(Number.isFinite(r.scores[650])).to.equal(true);
  });

  it('accepts number[], number[][] and ndarray input alike', () => {
    const d = new Detector({ model: 'zscore' }).fit(train);
    const a = d.score(x).scores;
    const b = d.score(x.map((v) => [v])).scores;
    const c = d.score(ndarray(Float64Array.from(x), [x.length, 1])).scores;
    expect(Array.from(b)).to.deep.equal(Array.from(a));
    expect(Array.from(c)).to.deep.equal(Array.from(a));
  });

  it('gives per-feature contributions that point at the feature that broke', () => {
    const rng = makeRng('contrib');
    const series = Array.from({ length: 600 }, (_, t) => [
      Math.sin(t / 6) + 0.05 * rng(),
      Math.cos(t / 11) + 0.05 * rng(),
    ]);
    for (let t = 500; t < 510; t++) series[t][1] = 3;
    const d = new Detector({ model: 'lstm-ae', window: 16, hidden: 8, epochs: 10, seed: 2 }).fit(series.slice(0, 400));
    const r = d.detect(series);
    const F = 2;
    let c0 = 0,
      c1 = 0;
    for (let t = 500; t < 510; t++) {
      c0 += r.contributions[t * F];
      c1 += r.contributions[t * F + 1];
    }
    expect(c1).to.be.above(5 * c0);
  });

  it('saves and loads a fitted detector (one file, atomic) and exports a standalone scorer with the same scores', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-det-'));
    const d = new Detector({
      model: 'gru-ae',
      window: 16,
      hidden: 8,
      epochs: 2,
      seed: 4,
      threshold: 'quantile:0.99',
    }).fit(train);
    const file = path.join(dir, 'd.json');
    d.save(file);
    expect(fs.readdirSync(dir)).to.deep.equal(['d.json']);
    const back = Detector.load(file);
    const a = d.detect(x),
      b = back.detect(x);
    expect(Array.from(b.scores)).to.deep.equal(Array.from(a.scores));
    expect(b.threshold).to.equal(a.threshold);
    const mjs = path.join(dir, 'scorer.mjs');
    d.exportScorer(mjs);
    const src = fs.readFileSync(mjs, 'utf8');
    expect(src).to.not.match(/\b(require|import)\s*\(|^import /m);

    const mod = await importEsm<{
      score: (s: number[]) => Float64Array;
      detect: (s: number[]) => { flags: Uint8Array };
    }>(mjs);
    const s = mod.score(x);
    for (let t = 0; t < x.length; t++) {
      expect(Math.abs(s[t] - a.scores[t]), `t=${t}`).to.be.at.most(1e-5 * Math.max(1e-3, a.scores[t]));
    }
    const f = mod.detect(x).flags;
    let differ = 0;
    for (let t = 0; t < x.length; t++) if (f[t] !== a.flags[t]) differ++;
    expect(differ).to.equal(0);
  });

  describe('bad input', () => {
    it('too-short, constant, all-missing and mismatched series get clear errors', () => {
      // Series checks are lib/detect/preprocess.ts's (RangeError until it throws ArgumentError, which extends it).
      expect(() => new Detector({ window: 32 }).fit(x.slice(0, 20))).to.throw(
        ArgumentError,
        /fit\(series\): series of 20 points is shorter than 32/,
      );
      expect(() => new Detector({ model: 'zscore' }).fit(new Array(100).fill(3))).to.throw(
        RangeError,
        /feature 0 is constant/,
      );
      expect(() => new Detector({ model: 'zscore' }).fit(x.map((v) => [v, NaN]))).to.throw(
        RangeError,
        /feature 1 has no values/,
      );
      expect(() => new Detector({ model: 'zscore' }).fit([])).to.throw(RangeError, /empty series/);
      expect(() => new Detector({ model: 'zscore' }).fit([1, 2, Infinity, 4])).to.throw(RangeError, /infinite/);
      const d = new Detector({ model: 'zscore' }).fit(train);
      expect(() => d.detect(x.map((v) => [v, v]))).to.throw(
        ArgumentError,
        /detect\(series\): expected 1 feature per point \(as the training series\), got 2/,
      );
      expect(() => new Detector({ model: 'zscore' }).detect(x)).to.throw(/not fitted/);
      expect(() => new Detector({ model: 'nope' as DetectorModel })).to.throw(ArgumentError, /Detector\(model\)/);
      expect(() => new Detector({ threshold: 'quantile:2' })).to.throw(ArgumentError, /probability/);
      expect(() => new Detector({ model: 'zscore', threshold: 'dynamic' }).fit(train).stream()).to.throw(/dynamic/);
    });
  });
});

/**
 * Huge finite values through the library: fitting the normaliser never overflows, normalised values saturate at
 * ±SATURATION so scores stay finite and the glitch is flagged, interpolation between huge values of opposite sign stays
 * finite, and ±Infinity is an error naming its index. SPOT/DSPOT take a score of +Infinity as an alarm.
 */
import { expect } from 'chai';
import { Detector } from '../../../lib/detect/detector';
import { normaliseValue, Normaliser, SATURATION } from '../../../lib/detect/preprocess';
import { fillMissing, readSeries } from '../../../lib/tensor';
import { Dspot, Spot } from '../../../lib/detect/thresholds';
import { makeRng } from '../../helpers/rng';

const N = 400;
const base = (): number[] => Array.from({ length: N }, (_, i) => Math.sin(i / 5) + 0.01 * Math.cos(1.3 * i));
const withGlitch = (v: number, at = 299): number[] => {
  const s = base();
  s[at] = v;
  return s;
};
const flagged = (f: Uint8Array): number[] => Array.from(f).flatMap((x, i) => (x ? [i] : []));

describe('detect/preprocess: huge values', () => {
  it('normaliseValue: the plain formula in range, saturation outside, no overflow between huge opposite values', () => {
    expect(normaliseValue(3, 1, 2)).to.equal(1);
    expect(normaliseValue(1e160, 0, 1)).to.equal(SATURATION);
    expect(normaliseValue(-1.7e308, 0.5, 0.25)).to.equal(-SATURATION);
    expect(normaliseValue(1.5e308, -1.5e308, 1.5e308)).to.equal(2);
    expect(normaliseValue(-1.5e308, 1.5e308, 3e307)).to.equal(-10);
    const rng = makeRng('normaliseValue');
    for (let k = 0; k < 1000; k++) {
      const v = (rng() - 0.5) * 1e6,
        o = (rng() - 0.5) * 10,
        sc = 0.01 + rng() * 10;
      expect(normaliseValue(v, o, sc)).to.equal((v - o) / sc); // bit-identical to the formula in range
    }
  });

  it('Normaliser.fit: a series at 1e300 (and one near ±1.7e308) scales exactly like the same series at 1', () => {
    const s = base();
    const at1 = Normaliser.fit(readSeries(s, 'x'));
    for (const k of [1e300, 2 ** 1000, 1.7e308 / 1.01]) {
      const big = Normaliser.fit(
        readSeries(
          s.map((v) => v * k),
          'x',
        ),
      );
      expect(Number.isFinite(big.scale[0]) && Number.isFinite(big.offset[0]), `k=${k}`).to.equal(true);
      expect(big.scale[0] / k).to.be.closeTo(at1.scale[0], 1e-12);
      const z1 = at1.transform(readSeries(s, 'x')).data;
      const zk = big.transform(
        readSeries(
          s.map((v) => v * k),
          'x',
        ),
      ).data;
      for (let i = 0; i < N; i++) expect(zk[i], `k=${k} [${i}]`).to.be.closeTo(z1[i], 1e-9);
    }
    // Alternating ±1.7e308: the sum of squares alone would be Infinity.
    const alt = Normaliser.fit(
      readSeries(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? 1.7e308 : -1.7e308)),
        'x',
      ),
    );
    expect(alt.offset[0]).to.equal(0);
    expect(alt.scale[0]).to.equal(1.7e308);
  });

  it('Normaliser.fit on ordinary data is bit-identical to the two-pass formula', () => {
    const rng = makeRng('normaliser-plain');
    const s = Array.from({ length: 257 }, () => rng() * 100 - 30);
    const n = Normaliser.fit(readSeries(s, 'x'));
    let sum = 0;
    for (const v of s) sum += v;
    const mean = sum / s.length;
    let ss = 0;
    for (const v of s) ss += (v - mean) * (v - mean);
    expect(n.offset[0]).to.equal(mean);
    expect(n.scale[0]).to.equal(Math.sqrt(ss / s.length));
  });

  it('minmax over a range beyond the largest double is a RangeError naming the feature', () => {
    const s = base().map((v, i) => (i === 3 ? 1.7e308 : i === 7 ? -1.7e308 : v));
    expect(() => Normaliser.fit(readSeries(s, 'x'), 'minmax', 'fit(series)')).to.throw(
      RangeError,
      /^fit\(series\): feature 0 spans -1\.7e\+308 to 1\.7e\+308/,
    );
  });

  it('fillMissing between 1.7e308 and -1.7e308 fills finite values on the line between them', () => {
    const s = readSeries([1.7e308, NaN, NaN, NaN, -1.7e308], 'x');
    fillMissing(s);
    const want = [1.7e308, 0.85e308, 0, -0.85e308, -1.7e308];
    want.forEach((w, i) => expect(s.data[i], `[${i}]`).to.be.closeTo(w, 1e-15 * 1.7e308));
  });

  it('±Infinity in a series is a RangeError naming the argument and the index', () => {
    expect(() => readSeries(withGlitch(Infinity), 'detect(series)')).to.throw(
      RangeError,
      /^detect\(series\)\[299\]: infinite value Infinity; expected a finite number/,
    );
    expect(() =>
      readSeries(
        [
          [1, 2],
          [3, -Infinity],
        ],
        'fit(series)',
      ),
    ).to.throw(RangeError, /^fit\(series\)\[1\]\[1\]: infinite value -Infinity/);
  });

  for (const model of ['zscore', 'iqr', 'lstm-ae', 'lstm-forecast'] as const) {
    it(`Detector '${model}': 1e160, 1e308 and -1.7e308 at index 299 give finite scores and flag 299; far points as without the glitch`, () => {
      const d = new Detector({ model, window: 8, epochs: 2, seed: 3, workers: 1 }).fit(base().slice(0, 200));
      const clean = d.detect(base());
      const W = 8,
        far = (f: number[]): number[] => f.filter((i) => i < 299 - W || i > 299 + 2 * W);
      for (const v of [1e160, 1e308, -1.7e308]) {
        const r = d.detect(withGlitch(v));
        expect(Array.from(r.scores).every(Number.isFinite), `${v}: finite scores`).to.equal(true);
        expect(r.flags[299], `${v}: flag at 299`).to.equal(1);
        if (model !== 'lstm-forecast')
          expect(far(flagged(r.flags)), `${v}: flags away from the glitch`).to.deep.equal(far(flagged(clean.flags)));
      }
      expect(() => d.detect(withGlitch(Infinity))).to.throw(RangeError, 'detect(series)[299]');
    });
  }

  it('stream() flags the glitch exactly as detect() does (same saturation)', () => {
    const d = new Detector({ model: 'zscore', window: 8, seed: 3 }).fit(base().slice(0, 200));
    const s = withGlitch(1e300);
    const batch = d.detect(s);
    const st = d.stream();
    const got: number[] = [];
    const scores: number[] = [];
    for (const v of s) {
      const r = st.push(v);
      if (r) {
        scores[r.index] = r.score;
        if (r.flag) got.push(r.index);
      }
    }
    expect(got).to.deep.equal(flagged(batch.flags));
    expect(scores[299]).to.equal(batch.scores[299]);
  });

  it('a training series at 1e300 fits and flags as the same series at 1', () => {
    const k = 1e300;
    const s = withGlitch(4);
    const a = new Detector({ model: 'zscore', window: 8, seed: 3 }).fit(s.slice(0, 200)).detect(s);
    const b = new Detector({ model: 'zscore', window: 8, seed: 3 })
      .fit(s.slice(0, 200).map((v) => v * k))
      .detect(s.map((v) => v * k));
    expect(flagged(b.flags)).to.deep.equal(flagged(a.flags));
    expect(flagged(a.flags)).to.include(299);
  });

  it('Spot and Dspot: +Infinity is an alarm that leaves the model as it was; NaN and -Infinity are errors', () => {
    const rng = makeRng('spot-inf');
    const cal = Array.from({ length: 2000 }, () => -Math.log(1 - rng()));
    for (const t of [new Spot(cal, { q: 1e-3 }), new Dspot(cal, { q: 1e-3, depth: 10 })]) {
      const before = { threshold: t.threshold, n: t.n, peaks: t.peakCount };
      expect(t.update(Infinity)).to.deep.equal({ threshold: before.threshold, flag: 1 });
      expect({ threshold: t.threshold, n: t.n, peaks: t.peakCount }).to.deep.equal(before);
      expect(() => t.update(NaN)).to.throw(RangeError, /update\(x\): expected a finite number .*got NaN/);
      expect(() => t.update(-Infinity)).to.throw(RangeError, /got -Infinity/);
    }
  });
});

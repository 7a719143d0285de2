import { expect } from 'chai';
import {
  mseLoss,
  mseGrad,
  maeLoss,
  maeGrad,
  bceLoss,
  bceGrad,
  bceWithLogitsLoss,
  bceWithLogitsGrad,
  BCE_EPSILON,
} from '../../kernels/losses';
import { gradCheck } from '../helpers/gradcheck';
import { makeRng, uniform64 } from '../helpers/rng';

const f64 = (a: number[]) => Float64Array.from(a);

describe('kernels/losses', () => {
  describe('values against hand-computed numbers', () => {
    const p = f64([0.2, 0.7, -1.5, 3]);
    const t = f64([0, 1, 0.5, 2.5]);

    it('mse = mean((p − t)²)', () => {
      const expected = (0.2 ** 2 + 0.3 ** 2 + 2 ** 2 + 0.5 ** 2) / 4;
      expect(mseLoss(p, t, 4)).to.be.closeTo(expected, 1e-15);
      expect(mseLoss(p, t, 1)).to.be.closeTo(0.04, 1e-15);
    });

    it('mae = mean(|p − t|)', () => {
      expect(maeLoss(p, t, 4)).to.be.closeTo((0.2 + 0.3 + 2 + 0.5) / 4, 1e-15);
    });

    it('bce from probabilities, with soft targets', () => {
      const pp = f64([0.9, 0.2, 0.6, 0.35]);
      const tt = f64([1, 0, 0.3, 1]);
      const expected =
        -(Math.log(0.9) + Math.log(0.8) + (0.3 * Math.log(0.6) + 0.7 * Math.log(0.4)) + Math.log(0.35)) / 4;
      expect(bceLoss(pp, tt, 4)).to.be.closeTo(expected, 1e-14);
    });

    it('bce clips p to [1e-7, 1 − 1e-7] as TensorFlow.js does: finite at 0 and 1', () => {
      expect(BCE_EPSILON).to.equal(1e-7);
      const pp = f64([0, 1, 0, 1]);
      const tt = f64([1, 0, 0, 1]);
      const hi = 1 - 1e-7; // the upper clip bound as a double; 1 − hi is exact but not exactly 1e-7
      const expected = (-Math.log(1e-7) - Math.log(1 - hi) - Math.log(1 - 1e-7) - Math.log(hi)) / 4;
      const v = bceLoss(pp, tt, 4);
      expect(Number.isFinite(v)).to.equal(true);
      expect(v).to.be.closeTo(expected, 1e-12);
      expect(bceLoss(f64([-3, 5]), f64([1, 0]), 2)).to.be.closeTo(-Math.log(1e-7), 1e-9);
    });

    it('bce with logits = max(z,0) − z·t + log(1 + e^(−|z|)), equal to bce of σ(z)', () => {
      const z = f64([0.5, -1.2, 2, 0]);
      const tt = f64([1, 0, 0.25, 1]);
      const sig = (v: number) => 1 / (1 + Math.exp(-v));
      let expected = 0;
      for (let i = 0; i < 4; i++) {
        const s = sig(z[i]),
          ti = tt[i];
        expected -= ti * Math.log(s) + (1 - ti) * Math.log(1 - s);
      }
      expected /= 4;
      expect(bceWithLogitsLoss(z, tt, 4)).to.be.closeTo(expected, 1e-14);
      expect(bceLoss(z.map(sig), tt, 4)).to.be.closeTo(expected, 1e-14);
    });

    it('bce with logits is stable at z = ±100 (finite, right value and gradient)', () => {
      const z = f64([100, -100, 100, -100]);
      const tt = f64([1, 1, 0, 0]);
      const each = [Math.exp(-100), 100 + Math.exp(-100), 100 + Math.exp(-100), Math.exp(-100)];
      const v = bceWithLogitsLoss(z, tt, 4);
      expect(Number.isFinite(v)).to.equal(true);
      expect(v).to.be.closeTo((each[0] + each[1] + each[2] + each[3]) / 4, 1e-12);
      expect(bceWithLogitsLoss(z, tt, 1)).to.be.closeTo(Math.exp(-100), 1e-50); // log1p(e^−100) ≈ 3.7e-44, not 0
      expect(bceWithLogitsLoss(z, tt, 1)).to.be.greaterThan(0);
      const g = new Float64Array(4);
      bceWithLogitsGrad(g, z, tt, 4);
      for (const v of g) expect(Number.isFinite(v)).to.equal(true);
      expect(g[0]).to.be.closeTo(0, 1e-40);
      expect(g[1]).to.be.closeTo(-0.25, 1e-15);
      expect(g[2]).to.be.closeTo(0.25, 1e-15);
      expect(g[3]).to.be.closeTo(0, 1e-40);
    });
  });

  describe('gradients', () => {
    it('mse gradient is 2(p − t)/n and passes the gradient check', () => {
      const rng = makeRng('mse-grad');
      const n = 13,
        p = uniform64(n, rng, -2, 2),
        t = uniform64(n, rng, -2, 2);
      const g = new Float64Array(n);
      mseGrad(g, p, t, n);
      for (let i = 0; i < n; i++) expect(g[i]).to.be.closeTo((2 * (p[i] - t[i])) / n, 1e-15);
      gradCheck({ p }, { p: g }, () => mseLoss(p, t, n));
    });

    it('mae gradient is sign(p − t)/n (0 at equality) and passes the gradient check off the kink', () => {
      const rng = makeRng('mae-grad');
      const n = 11,
        p = uniform64(n, rng, -2, 2),
        t = uniform64(n, rng, -2, 2);
      for (let i = 0; i < n; i++) expect(Math.abs(p[i] - t[i])).to.be.greaterThan(1e-3);
      const g = new Float64Array(n);
      maeGrad(g, p, t, n);
      gradCheck({ p }, { p: g }, () => maeLoss(p, t, n));
      maeGrad(g, f64([1, 2, 3]), f64([1, 1, 4]), 3);
      expect(Array.from(g.subarray(0, 3))).to.deep.equal([0, 1 / 3, -1 / 3]);
    });

    it('bce gradient passes the gradient check inside the clip', () => {
      const rng = makeRng('bce-grad');
      const n = 12,
        p = uniform64(n, rng, 0.05, 0.95),
        t = uniform64(n, rng, 0, 1);
      t[0] = 0;
      t[1] = 1;
      const g = new Float64Array(n);
      bceGrad(g, p, t, n);
      gradCheck({ p }, { p: g }, () => bceLoss(p, t, n));
    });

    it('bce gradient is 0 where the clip is active (p outside [ε, 1 − ε]) and not at the bounds themselves', () => {
      const p = f64([0, 1, -0.5, 1.5, 5e-8, 1e-7, 1 - 1e-7]);
      const t = f64([1, 0, 1, 0, 1, 1, 0]);
      const g = new Float64Array(7);
      bceGrad(g, p, t, 7);
      expect(Array.from(g.subarray(0, 5))).to.deep.equal([0, 0, 0, 0, 0]);
      expect(g[5]).to.be.closeTo((1e-7 - 1) / (1e-7 * (1 - 1e-7)) / 7, 1e-3);
      expect(g[6]).to.be.closeTo((1 - 1e-7) / (1e-7 * (1 - 1e-7)) / 7, 1e-3);
    });

    it('bce with logits gradient (σ(z) − t)/n passes the gradient check', () => {
      const rng = makeRng('bce-logits-grad');
      const n = 10,
        z = uniform64(n, rng, -6, 6),
        t = uniform64(n, rng, 0, 1);
      const g = new Float64Array(n);
      bceWithLogitsGrad(g, z, t, n);
      gradCheck({ z }, { z: g }, () => bceWithLogitsLoss(z, t, n));
    });

    it('a gradient may be written over the prediction it is computed from', () => {
      const p = f64([0.5, -1, 2]),
        t = f64([0, 0, 1]);
      const ref = new Float64Array(3);
      mseGrad(ref, p, t, 3);
      mseGrad(p, p, t, 3);
      expect(Array.from(p)).to.deep.equal(Array.from(ref));
    });

    it('float32 arrays work and agree with float64', () => {
      const rng = makeRng('loss-f32');
      const n = 20,
        p = uniform64(n, rng, 0.1, 0.9),
        t = uniform64(n, rng, 0, 1);
      const p32 = Float32Array.from(p),
        t32 = Float32Array.from(t);
      expect(bceLoss(p32, t32, n)).to.be.closeTo(bceLoss(p, t, n), 1e-6);
      expect(mseLoss(p32, t32, n)).to.be.closeTo(mseLoss(p, t, n), 1e-6);
      const g32 = new Float32Array(n),
        g64 = new Float64Array(n);
      bceGrad(g32, p32, t32, n);
      bceGrad(g64, p, t, n);
      for (let i = 0; i < n; i++) expect(g32[i]).to.be.closeTo(g64[i], 1e-5);
    });
  });

  it('throws RangeError naming the argument', () => {
    const a = new Float64Array(4),
      short = new Float64Array(3);
    expect(() => mseLoss(short, a, 4)).to.throw(RangeError, /mseLoss\(yPred\).*4.*got 3/);
    expect(() => maeLoss(a, short, 4)).to.throw(RangeError, /maeLoss\(yTrue\).*4.*got 3/);
    expect(() => mseGrad(short, a, a, 4)).to.throw(RangeError, /mseGrad\(dyPred\).*4.*got 3/);
    expect(() => bceGrad(a, a, short, 4)).to.throw(RangeError, /bceGrad\(yTrue\)/);
    expect(() => bceWithLogitsLoss(short, a, 4)).to.throw(RangeError, /bceWithLogitsLoss\(z\)/);
    expect(() => bceWithLogitsGrad(short, a, a, 4)).to.throw(RangeError, /bceWithLogitsGrad\(dz\)/);
    expect(() => bceLoss(a, a, 0)).to.throw(RangeError, /bceLoss: n must be a positive integer, got 0/);
    expect(() => maeGrad(a, a, a, 2.5)).to.throw(RangeError, /n must be a positive integer/);
  });
});

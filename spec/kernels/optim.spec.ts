import { expect } from 'chai';
import { ADAM_DEFAULTS, adamState, adamUpdate, sgdUpdate, globalNorm, clipByGlobalNorm } from '../../kernels/optim';

const f64 = (a: number[]) => Float64Array.from(a);

describe('kernels/optim', () => {
  describe('Adam', () => {
    const grads = [
      [0.1, -0.3],
      [-0.2, 0.4],
      [0.05, 0],
    ];

    it('has the TensorFlow.js defaults (lr 1e-3, β1 0.9, β2 0.999, ε 1e-7)', () => {
      expect(ADAM_DEFAULTS).to.deep.equal({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    });

    it('matches the recurrence written out by hand over 3 steps', () => {
      const lr = 0.01,
        b1 = 0.9,
        b2 = 0.999,
        eps = 1e-7;
      const w = f64([0.5, -1]);
      const { m, v } = adamState(2, Float64Array);
      expect(Array.from(m)).to.deep.equal([0, 0]);
      expect(Array.from(v)).to.deep.equal([0, 0]);

      // Independent scalar recurrence, element by element.
      const ref = [0.5, -1],
        rm = [0, 0],
        rv = [0, 0];
      for (let t = 1; t <= 3; t++) {
        const g = grads[t - 1];
        adamUpdate(w, f64(g), m, v, 2, lr, b1, b2, eps, t);
        for (let i = 0; i < 2; i++) {
          const gi = g[i];
          rm[i] = b1 * rm[i] + (1 - b1) * gi;
          rv[i] = b2 * rv[i] + (1 - b2) * gi * gi;
          const mHat = rm[i] / (1 - b1 ** t);
          const vHat = rv[i] / (1 - b2 ** t);
          ref[i] = ref[i] - (lr * mHat) / (Math.sqrt(vHat) + eps);
          expect(w[i], `w[${i}] after step ${t}`).to.be.closeTo(ref[i], 1e-15);
          expect(m[i], `m[${i}] after step ${t}`).to.be.closeTo(rm[i], 1e-17);
          expect(v[i], `v[${i}] after step ${t}`).to.be.closeTo(rv[i], 1e-19);
        }
        if (t === 1) {
          // Step 1 in closed form: m̂ = g, v̂ = g², so w1 = w0 − lr·g/(|g| + ε).
          expect(w[0]).to.be.closeTo(0.5 - (lr * 0.1) / (0.1 + eps), 1e-15);
          expect(w[1]).to.be.closeTo(-1 + (lr * 0.3) / (0.3 + eps), 1e-15);
        }
      }
      // The same numbers computed separately in float64 (Python, same formula).
      expect(w[0]).to.be.closeTo(0.4950279485524061, 1e-15);
      expect(w[1]).to.be.closeTo(-0.9934309474302979, 1e-15);
    });

    it('works on Float32Array within float32 precision and leaves elements past n untouched', () => {
      const w = Float32Array.from([0.5, -1, 9]),
        st = adamState(3, Float32Array);
      for (let t = 1; t <= 3; t++) {
        adamUpdate(w, Float32Array.from([...grads[t - 1], 5]), st.m, st.v, 2, 0.01, 0.9, 0.999, 1e-7, t);
      }
      expect(w[0]).to.be.closeTo(0.4950279485524061, 1e-6);
      expect(w[1]).to.be.closeTo(-0.9934309474302979, 1e-6);
      expect(w[2]).to.equal(9);
      expect(st.m[2]).to.equal(0);
    });

    it('throws RangeError naming the argument', () => {
      const a = new Float64Array(3),
        s = new Float64Array(2);
      expect(() => adamUpdate(s, a, a, a, 3, 1e-3, 0.9, 0.999, 1e-7, 1)).to.throw(
        RangeError,
        /adamUpdate\(w\).*3.*got 2/,
      );
      expect(() => adamUpdate(a, s, a, a, 3, 1e-3, 0.9, 0.999, 1e-7, 1)).to.throw(RangeError, /adamUpdate\(g\)/);
      expect(() => adamUpdate(a, a, s, a, 3, 1e-3, 0.9, 0.999, 1e-7, 1)).to.throw(RangeError, /adamUpdate\(m\)/);
      expect(() => adamUpdate(a, a, a, s, 3, 1e-3, 0.9, 0.999, 1e-7, 1)).to.throw(RangeError, /adamUpdate\(v\)/);
      expect(() => adamUpdate(a, a, a, a, 3, 1e-3, 0.9, 0.999, 1e-7, 0)).to.throw(RangeError, /adamUpdate\(t\).*got 0/);
      expect(() => adamUpdate(a, a, a, a, 3, 1e-3, 0.9, 0.999, 1e-7, 1.5)).to.throw(RangeError, /adamUpdate\(t\)/);
      expect(() => adamState(-1, Float64Array)).to.throw(RangeError, /adamState: n/);
    });
  });

  describe('SGD', () => {
    it('with momentum matches TensorFlow.js MomentumOptimizer over 3 steps (a ← μa + g; w ← w − lr·a)', () => {
      const w = f64([1, -2]),
        vel = new Float64Array(2);
      const gs = [
        [0.5, 1],
        [-0.2, 1],
        [0.3, 1],
      ];
      // a: [0.5, 1] → [0.45 − 0.2, 0.9 + 1] = [0.25, 1.9] → [0.225 + 0.3, 1.71 + 1] = [0.525, 2.71]
      // w: [1 − 0.05, −2 − 0.1] → [0.95 − 0.025, −2.1 − 0.19] → [0.925 − 0.0525, −2.29 − 0.271]
      const expectW = [
        [0.95, -2.1],
        [0.925, -2.29],
        [0.8725, -2.561],
      ];
      const expectA = [
        [0.5, 1],
        [0.25, 1.9],
        [0.525, 2.71],
      ];
      for (let s = 0; s < 3; s++) {
        sgdUpdate(w, f64(gs[s]), vel, 2, 0.1, 0.9);
        for (let i = 0; i < 2; i++) {
          expect(w[i], `w[${i}] after step ${s + 1}`).to.be.closeTo(expectW[s]?.[i], 1e-14);
          expect(vel[i], `velocity[${i}] after step ${s + 1}`).to.be.closeTo(expectA[s]?.[i], 1e-14);
        }
      }
    });

    it('plain SGD with velocity null and momentum 0; momentum 0 with a velocity is the same step', () => {
      const w = f64([1, -2]);
      sgdUpdate(w, f64([0.5, -1]), null, 2, 0.1, 0);
      expect(w[0]).to.be.closeTo(0.95, 1e-15);
      expect(w[1]).to.be.closeTo(-1.9, 1e-15);
      const w2 = f64([1, -2]);
      sgdUpdate(w2, f64([0.5, -1]), new Float64Array(2), 2, 0.1, 0);
      expect(Array.from(w2)).to.deep.equal(Array.from(w));
    });

    it('throws RangeError naming the argument', () => {
      const a = new Float64Array(3),
        s = new Float64Array(2);
      expect(() => sgdUpdate(a, a, null, 3, 0.1, 0.9)).to.throw(RangeError, /sgdUpdate\(velocity\): momentum 0.9/);
      expect(() => sgdUpdate(a, a, s, 3, 0.1, 0.9)).to.throw(RangeError, /sgdUpdate\(velocity\).*3.*got 2/);
      expect(() => sgdUpdate(s, a, null, 3, 0.1, 0)).to.throw(RangeError, /sgdUpdate\(w\)/);
      expect(() => sgdUpdate(a, s, null, 3, 0.1, 0)).to.throw(RangeError, /sgdUpdate\(g\)/);
    });
  });

  describe('global-norm clipping', () => {
    it('globalNorm is the 2-norm over all tensors', () => {
      expect(globalNorm([f64([3, 4]), Float32Array.from([12])])).to.equal(13);
      expect(globalNorm([])).to.equal(0);
    });

    it('leaves gradients bit-identical below the limit and returns the norm', () => {
      const a = f64([3, 4]),
        b = f64([12]);
      expect(clipByGlobalNorm([a, b], 26)).to.equal(13);
      expect(Array.from(a)).to.deep.equal([3, 4]);
      expect(Array.from(b)).to.deep.equal([12]);
      expect(clipByGlobalNorm([a, b], 13)).to.equal(13);
      expect(Array.from(a)).to.deep.equal([3, 4]);
    });

    it('scales all gradients by clipNorm/norm above the limit and returns the pre-clip norm', () => {
      const a = f64([3, 4]),
        b = Float32Array.from([12]);
      expect(clipByGlobalNorm([a, b], 6.5)).to.equal(13);
      expect(a[0]).to.be.closeTo(1.5, 1e-15);
      expect(a[1]).to.be.closeTo(2, 1e-15);
      expect(b[0]).to.be.closeTo(6, 1e-6);
      expect(globalNorm([a, b])).to.be.closeTo(6.5, 1e-6);
    });

    it('turns every gradient into NaN when the norm is not finite (as TensorFlow does)', () => {
      const a = f64([1, Infinity]),
        b = f64([2]);
      expect(clipByGlobalNorm([a, b], 1)).to.equal(Infinity);
      expect(Number.isNaN(a[0]) && Number.isNaN(a[1]) && Number.isNaN(b[0])).to.equal(true);
    });

    it('throws RangeError for a clipNorm that is not positive and finite', () => {
      for (const c of [0, -1, NaN, Infinity]) {
        expect(() => clipByGlobalNorm([f64([1])], c)).to.throw(RangeError, /clipByGlobalNorm\(clipNorm\)/);
      }
    });
  });
});

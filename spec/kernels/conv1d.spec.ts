/**
 * kernels/conv1d: Keras' padding arithmetic, forward against a direct (no im2col) loop written from the header's
 * equations, hand-computed cases, and float64 central-difference gradient checks (≤ 1e-6) of input, kernel and bias for
 * every padding, stride 1 and 2, dilation 1 and 2, B = 1 and 3, with random weights, biases and upstream gradient.
 */
import { expect } from 'chai';
import {
  type ConvPadding,
  avgPool1dBackward,
  avgPool1dForward,
  conv1dBackward,
  conv1dForward,
  conv1dGeometry,
  conv1dTransposeBackward,
  conv1dTransposeForward,
  conv1dTransposeLength,
  maxPool1dBackward,
  maxPool1dForward,
  upSampling1dBackward,
  upSampling1dForward,
} from '../../kernels/conv1d';
import { Act, activateScalar } from '../../kernels/activations';
import { gradCheck, weightedSum } from '../helpers/gradcheck';
import { makeRng, uniform64 } from '../helpers/rng';

/** Direct conv1d from the header: z[o,b,j] = b_j + Σ_k Σ_c x[o·s + k·d − pL, b, c]·W[k,c,j]. */
function naiveConv(
  x: Float64Array,
  W: Float64Array,
  bias: Float64Array,
  T: number,
  B: number,
  Ci: number,
  Co: number,
  K: number,
  s: number,
  d: number,
  padL: number,
  To: number,
): Float64Array {
  const z = new Float64Array(To * B * Co);
  for (let o = 0; o < To; o++)
    for (let b = 0; b < B; b++)
      for (let j = 0; j < Co; j++) {
        let acc = bias[j];
        for (let k = 0; k < K; k++) {
          const i = o * s + k * d - padL;
          if (i < 0 || i >= T) continue;
          for (let c = 0; c < Ci; c++) acc += x[(i * B + b) * Ci + c] * W[(k * Ci + c) * Co + j];
        }
        z[(o * B + b) * Co + j] = acc;
      }
  return z;
}

/** Direct transposed conv: y[o·s + k·d − pL, b, j] += Σ_c x[o,b,c]·W[k,j,c], plus bias. */
function naiveConvT(
  x: Float64Array,
  W: Float64Array,
  bias: Float64Array,
  Tin: number,
  Tout: number,
  B: number,
  Ci: number,
  Co: number,
  K: number,
  s: number,
  d: number,
  padL: number,
): Float64Array {
  const z = new Float64Array(Tout * B * Co);
  for (let t = 0; t < Tout; t++)
    for (let b = 0; b < B; b++) for (let j = 0; j < Co; j++) z[(t * B + b) * Co + j] = bias[j];
  for (let o = 0; o < Tin; o++)
    for (let k = 0; k < K; k++) {
      const i = o * s + k * d - padL;
      if (i < 0 || i >= Tout) continue;
      for (let b = 0; b < B; b++)
        for (let j = 0; j < Co; j++)
          for (let c = 0; c < Ci; c++) z[(i * B + b) * Co + j] += x[(o * B + b) * Ci + c] * W[(k * Co + j) * Ci + c];
    }
  return z;
}

interface ConvCase {
  T: number;
  B: number;
  Ci: number;
  Co: number;
  K: number;
  s: number;
  d: number;
  padding: ConvPadding;
}

const PADDINGS: ConvPadding[] = ['valid', 'same', 'causal'];
const CASES: ConvCase[] = [];
for (const padding of PADDINGS)
  for (const [s, d] of [
    [1, 1],
    [2, 1],
    [1, 2],
    [2, 2],
  ])
    for (const B of [1, 3]) CASES.push({ T: 9, B, Ci: 2, Co: 3, K: 3, s, d, padding });
CASES.push({ T: 8, B: 2, Ci: 3, Co: 2, K: 4, s: 2, d: 1, padding: 'same' }); // even K, even pTotal
CASES.push({ T: 7, B: 2, Ci: 1, Co: 4, K: 1, s: 1, d: 1, padding: 'same' });
CASES.push({ T: 5, B: 1, Ci: 2, Co: 2, K: 5, s: 3, d: 1, padding: 'valid' });

const label = (c: ConvCase): string =>
  `T=${c.T} B=${c.B} Ci=${c.Ci} Co=${c.Co} K=${c.K} s=${c.s} d=${c.d} ${c.padding}`;

/** Largest relative error of the gradient checks (BPTT_GRADCHECK_REPORT=1 prints it). */
let worst = 0;

describe('kernels/conv1d', () => {
  after(() => {
    if (process.env['BPTT_GRADCHECK_REPORT'])
      console.log(`    conv1d gradient checks: max relative error ${worst.toExponential(2)}`);
  });

  describe('geometry (Keras / TensorFlow arithmetic)', () => {
    it('same with stride pads pTotal = max((⌈T/s⌉−1)·s + Ke − T, 0), left ⌊pTotal/2⌋', () => {
      // hand-computed: T=10, K=3, s=2: To=5, pTotal = 4·2+3−10 = 1, pL = 0 (the extra zero goes right)
      expect(conv1dGeometry(10, 3, 2, 1, 'same')).to.deep.include({ To: 5, padL: 0 });
      // T=9, K=3, s=2: To=5, pTotal = 8+3−9 = 2, pL = 1
      expect(conv1dGeometry(9, 3, 2, 1, 'same')).to.deep.include({ To: 5, padL: 1 });
      // T=60, K=7, s=2: To=30, pTotal = 58+7−60 = 5, pL = 2
      expect(conv1dGeometry(60, 7, 2, 1, 'same')).to.deep.include({ To: 30, padL: 2 });
      // stride 1, K=4 (even): pTotal 3, pL 1
      expect(conv1dGeometry(6, 4, 1, 1, 'same')).to.deep.include({ To: 6, padL: 1 });
      // dilation: Ke = 5; stride 1: pTotal 4, pL 2
      expect(conv1dGeometry(6, 3, 1, 2, 'same')).to.deep.include({ To: 6, padL: 2 });
      // pTotal clipped at 0: T=10, K=1, s=3: To=4, (3·3+1−10) = 0
      expect(conv1dGeometry(10, 1, 3, 1, 'same')).to.deep.include({ To: 4, padL: 0 });
    });

    it('valid and causal lengths; transposed lengths', () => {
      expect(conv1dGeometry(9, 3, 2, 2, 'valid')).to.deep.include({ To: 3, padL: 0 }); // ⌊(9−5)/2⌋+1
      expect(conv1dGeometry(9, 3, 1, 2, 'causal')).to.deep.include({ To: 9, padL: 4 });
      expect(conv1dGeometry(9, 3, 2, 1, 'causal')).to.deep.include({ To: 5, padL: 2 });
      expect(conv1dTransposeLength(15, 7, 2, 1, 'same')).to.equal(30);
      expect(conv1dTransposeLength(4, 3, 2, 2, 'valid')).to.equal(11); // 3·2 + 5
      expect(conv1dGeometry(30, 7, 2, 1, 'same').To).to.equal(15);
      expect(conv1dGeometry(11, 3, 2, 2, 'valid').To).to.equal(4);
    });

    it('rejects bad arguments with the argument named', () => {
      expect(() => conv1dGeometry(4, 3, 1, 2, 'valid')).to.throw(RangeError, /needs T ≥ .* = 5, got T=4/);
      expect(() => conv1dGeometry(4, 0, 1, 1, 'same')).to.throw(RangeError, /conv1dGeometry\(K\)/);
      expect(() => conv1dGeometry(4, 2, 1, 1, 'full' as ConvPadding)).to.throw(RangeError, /padding.*got full/);
      expect(() => conv1dTransposeLength(4, 2, 1, 1, 'causal' as 'same')).to.throw(RangeError, /'valid' or 'same'/);
      const g = conv1dGeometry(4, 2, 1, 1, 'valid');
      const f = (): void =>
        conv1dForward(new Float64Array(3), new Float64Array(6), new Float64Array(4), new Float64Array(2),
          new Float64Array(1), g, 1, 1, 2, Act.Linear); // prettier-ignore
      expect(f).to.throw(RangeError, /conv1dForward\(y\): expected 6 elements/);
    });
  });

  describe('hand-computed cases', () => {
    it("conv1d 'same' stride 2: x = 1…5, kernel 1, 2, 3, bias 0.5", () => {
      // To = 3, pTotal = 2·2 + 3 − 5 = 2, pL = 1: y_o = x_{2o−1} + 2·x_{2o} + 3·x_{2o+1} + 0.5
      // y_0 = 0 + 2 + 6 + .5 = 8.5; y_1 = 2 + 6 + 12 + .5 = 20.5; y_2 = 4 + 10 + 0 + .5 = 14.5
      const g = conv1dGeometry(5, 3, 2, 1, 'same');
      const y = new Float64Array(3),
        cols = new Float64Array(9);
      conv1dForward(y, cols, Float64Array.of(1, 2, 3, 4, 5), Float64Array.of(1, 2, 3), Float64Array.of(0.5), g, 1, 1, 1, Act.Linear); // prettier-ignore
      expect(Array.from(y)).to.deep.equal([8.5, 20.5, 14.5]);
    });

    it('conv1d causal dilation 2: y_t = x_{t−2}·1 + x_t·10', () => {
      const g = conv1dGeometry(4, 2, 1, 2, 'causal');
      const y = new Float64Array(4),
        cols = new Float64Array(8);
      conv1dForward(y, cols, Float64Array.of(1, 2, 3, 4), Float64Array.of(1, 10), Float64Array.of(0), g, 1, 1, 1, Act.Linear); // prettier-ignore
      expect(Array.from(y)).to.deep.equal([10, 20, 31, 42]);
    });

    it('conv1dTranspose same stride 2 (K = 3, pL = 0): each x_t writes x_t·(1, 2, 3) at 2t − 0 …', () => {
      // Tout = 4, pTotal = max(3 − 2, 0) = 1, pL = 0: y = [1, 2, 3+2·1, 2·2] for x = (1, 2)... computed by hand:
      // x_0 = 1 → y_0 += 1, y_1 += 2, y_2 += 3;  x_1 = 2 → y_2 += 2, y_3 += 4, (y_4 += 6 falls outside)
      const g = conv1dGeometry(conv1dTransposeLength(2, 3, 2, 1, 'same'), 3, 2, 1, 'same');
      expect(g).to.deep.include({ T: 4, To: 2, padL: 0 });
      const y = new Float64Array(4),
        cols = new Float64Array(6);
      conv1dTransposeForward(y, cols, Float64Array.of(1, 2), Float64Array.of(1, 2, 3), Float64Array.of(0), g, 1, 1, 1, Act.Linear); // prettier-ignore
      expect(Array.from(y)).to.deep.equal([1, 2, 5, 4]);
    });

    it('max and average pooling, same and valid; upsampling', () => {
      const x = Float64Array.of(1, 3, -2, -1, -5);
      const gs = conv1dGeometry(5, 2, 2, 1, 'same');
      const y = new Float64Array(3),
        arg = new Int32Array(3);
      maxPool1dForward(y, arg, x, gs, 1, 1);
      expect(Array.from(y)).to.deep.equal([3, -1, -5]);
      expect(Array.from(arg)).to.deep.equal([1, 3, 4]);
      avgPool1dForward(y, x, gs, 1, 1);
      expect(Array.from(y)).to.deep.equal([2, -1.5, -5]);
      const gv = conv1dGeometry(5, 3, 1, 1, 'valid');
      maxPool1dForward(y, arg, x, gv, 1, 1);
      expect(Array.from(y)).to.deep.equal([3, 3, -1]);
      avgPool1dForward(y, x, gv, 1, 1);
      expect(Array.from(y)).to.deep.equal([2 / 3, 0, -8 / 3]);
      const u = new Float64Array(4);
      upSampling1dForward(u, Float64Array.of(1, 2, 3, 4), 2, 2, 1, 1); // r = 1: a copy
      expect(Array.from(u)).to.deep.equal([1, 2, 3, 4]);
      const u3 = new Float64Array(12);
      upSampling1dForward(u3, Float64Array.of(1, 2, 3, 4), 2, 1, 2, 3); // T=2, B=1, C=2, r=3
      expect(Array.from(u3)).to.deep.equal([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
    });
  });

  for (const c of CASES) {
    const { T, B, Ci, Co, K, s, d, padding } = c;
    const g = conv1dGeometry(T, K, s, d, padding);
    const To = g.To;
    for (const act of [Act.Linear, Act.Tanh]) {
      it(`conv1d forward = direct loop, gradient check of x, W, b (${label(c)}, act ${Act[act]})`, () => {
        const rng = makeRng(`conv1d/${label(c)}/${act}`);
        const x = uniform64(T * B * Ci, rng),
          W = uniform64(K * Ci * Co, rng),
          b = uniform64(Co, rng),
          R = uniform64(To * B * Co, rng);
        const y = new Float64Array(To * B * Co),
          cols = new Float64Array(To * B * K * Ci);
        conv1dForward(y, cols, x, W, b, g, B, Ci, Co, act);
        const z = naiveConv(x, W, b, T, B, Ci, Co, K, s, d, g.padL, To);
        for (let j = 0; j < z.length; j++) expect(y[j], `y[${j}]`).to.be.closeTo(activateScalar(act, z[j]), 1e-12);
        const dW = new Float64Array(W.length),
          db = new Float64Array(Co),
          dx = new Float64Array(x.length).fill(7);
        conv1dBackward(dW, db, dx, R, y, cols, W, g, B, Ci, Co, act, new Float64Array(y.length),
          new Float64Array(cols.length)); // prettier-ignore
        const yy = new Float64Array(y.length),
          cc = new Float64Array(cols.length);
        const r = gradCheck({ x, W, b }, { x: dx, W: dW, b: db }, () => {
          conv1dForward(yy, cc, x, W, b, g, B, Ci, Co, act);
          return weightedSum(yy, R);
        });
        worst = Math.max(worst, r.maxRel);
        expect(r.maxRel).to.be.at.most(1e-6);
      });
    }
    if (padding === 'causal') continue;
    it(`conv1dTranspose forward = direct loop, gradient check of x, W, b (${label(c)}, tanh)`, () => {
      const Tout = conv1dTransposeLength(T, K, s, d, padding);
      const gt = conv1dGeometry(Tout, K, s, d, padding);
      expect(gt.To).to.equal(T);
      const rng = makeRng(`conv1dT/${label(c)}`);
      const x = uniform64(T * B * Ci, rng),
        W = uniform64(K * Co * Ci, rng),
        b = uniform64(Co, rng),
        R = uniform64(Tout * B * Co, rng);
      const y = new Float64Array(Tout * B * Co),
        cols = new Float64Array(T * B * K * Co);
      conv1dTransposeForward(y, cols, x, W, b, gt, B, Ci, Co, Act.Tanh);
      const z = naiveConvT(x, W, b, T, Tout, B, Ci, Co, K, s, d, gt.padL);
      for (let j = 0; j < z.length; j++) expect(y[j], `y[${j}]`).to.be.closeTo(Math.tanh(z[j]), 1e-12);
      const dW = new Float64Array(W.length),
        db = new Float64Array(Co),
        dx = new Float64Array(x.length).fill(7);
      conv1dTransposeBackward(dW, db, dx, R, y, x, W, gt, B, Ci, Co, Act.Tanh, new Float64Array(y.length),
        new Float64Array(cols.length)); // prettier-ignore
      const yy = new Float64Array(y.length);
      const r = gradCheck({ x, W, b }, { x: dx, W: dW, b: db }, () => {
        conv1dTransposeForward(yy, cols, x, W, b, gt, B, Ci, Co, Act.Tanh);
        return weightedSum(yy, R);
      });
      worst = Math.max(worst, r.maxRel);
      expect(r.maxRel).to.be.at.most(1e-6);
    });
  }

  it('backward adds into dW and db (two calls give twice one), overwrites dx; dx null skips it', () => {
    const g = conv1dGeometry(6, 3, 2, 1, 'same');
    const rng = makeRng('conv1d/accumulate');
    const x = uniform64(6 * 2 * 2, rng),
      W = uniform64(3 * 2 * 3, rng),
      b = uniform64(3, rng),
      R = uniform64(g.To * 2 * 3, rng);
    const y = new Float64Array(g.To * 6),
      cols = new Float64Array(g.To * 2 * 6);
    conv1dForward(y, cols, x, W, b, g, 2, 2, 3, Act.Tanh);
    const once = { dW: new Float64Array(W.length), db: new Float64Array(3), dx: new Float64Array(x.length) };
    const twice = { dW: new Float64Array(W.length), db: new Float64Array(3), dx: new Float64Array(x.length).fill(9) };
    const dz = new Float64Array(y.length),
      dcols = new Float64Array(cols.length);
    conv1dBackward(once.dW, once.db, once.dx, R, y, cols, W, g, 2, 2, 3, Act.Tanh, dz, dcols);
    conv1dBackward(twice.dW, twice.db, twice.dx, R, y, cols, W, g, 2, 2, 3, Act.Tanh, dz, dcols);
    conv1dBackward(twice.dW, twice.db, null, R, y, cols, W, g, 2, 2, 3, Act.Tanh, dz, dcols);
    once.dW.forEach((v, i) => expect(twice.dW[i]).to.be.closeTo(2 * v, 1e-12));
    once.db.forEach((v, i) => expect(twice.db[i]).to.be.closeTo(2 * v, 1e-12));
    expect(Array.from(twice.dx)).to.deep.equal(Array.from(once.dx));
    expect(once.dW.some((v) => v !== 0)).to.equal(true);
  });

  for (const padding of ['valid', 'same'] as const)
    for (const [K, s] of [
      [2, 2],
      [3, 1],
      [3, 2],
    ])
      for (const B of [1, 3]) {
        const T = 7,
          C = 2;
        const g = conv1dGeometry(T, K, s, 1, padding);
        it(`maxPool1d and avgPool1d gradient checks (T=${T} B=${B} pool ${K} stride ${s} ${padding})`, () => {
          const rng = makeRng(`pool/${padding}/${K}/${s}/${B}`);
          const x = uniform64(T * B * C, rng, -3, 3), // distinct values: no ties, away from max kinks
            R = uniform64(g.To * B * C, rng);
          const y = new Float64Array(g.To * B * C),
            arg = new Int32Array(y.length);
          const dx = new Float64Array(x.length);
          maxPool1dForward(y, arg, x, g, B, C);
          maxPool1dBackward(dx, R, arg, g, B, C);
          const rm = gradCheck({ x }, { x: dx }, () => {
            maxPool1dForward(y, arg, x, g, B, C);
            return weightedSum(y, R);
          });
          avgPool1dForward(y, x, g, B, C);
          avgPool1dBackward(dx, R, g, B, C);
          const ra = gradCheck({ x }, { x: dx }, () => {
            avgPool1dForward(y, x, g, B, C);
            return weightedSum(y, R);
          });
          worst = Math.max(worst, rm.maxRel, ra.maxRel);
        });
      }

  it('upSampling1d gradient check (T=4 B=3 C=2 r=3)', () => {
    const rng = makeRng('upsampling');
    const x = uniform64(4 * 3 * 2, rng),
      R = uniform64(12 * 3 * 2, rng);
    const y = new Float64Array(R.length),
      dx = new Float64Array(x.length);
    upSampling1dBackward(dx, R, 4, 3, 2, 3);
    gradCheck({ x }, { x: dx }, () => {
      upSampling1dForward(y, x, 4, 3, 2, 3);
      return weightedSum(y, R);
    });
  });
});

import { expect } from 'chai';
import { denseForward, denseBackward } from '../../kernels/dense';
import { Act, ACTIVATION_NAMES, activationCode, activateScalar } from '../../kernels/activations';
import { gradCheck, weightedSum } from '../helpers/gradcheck';
import { naiveMatmul } from '../helpers/naive';
import { makeRng, uniform64 } from '../helpers/rng';

const SHAPES = [
  { M: 1, D: 1, N: 1 },
  { M: 6, D: 5, N: 7 }, // tile edges in every dimension
  { M: 8, D: 4, N: 4 }, // whole 4×4 tiles only
  { M: 3, D: 9, N: 2 },
];

/** z = x·W + b by the naive product: the pre-activations, to keep the gradient check off the kinks. */
function preActivations(
  x: Float64Array,
  W: Float64Array,
  b: Float64Array,
  M: number,
  D: number,
  N: number,
): Float64Array {
  const z = naiveMatmul(x, W, M, D, N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) z[i * N + j] += b[j];
  return z;
}

/** Distance of z from the nearest kink of the activation (Infinity for the smooth ones). */
function kinkDistance(act: Act, z: number): number {
  if (act === Act.Relu) return Math.abs(z);
  if (act === Act.HardSigmoid) return Math.min(Math.abs(z - 2.5), Math.abs(z + 2.5));
  return Infinity;
}

describe('kernels/dense', () => {
  for (const name of ACTIVATION_NAMES) {
    const act = activationCode(name);
    for (const { M, D, N } of SHAPES) {
      it(`gradient check of W, b, x with ${name} at M=${M} D=${D} N=${N} (float64, random upstream R)`, () => {
        const rng = makeRng(`dense-${name}-${M}-${D}-${N}`);
        // Wide enough ranges that hardSigmoid sees both its linear part and its saturated parts.
        const x = uniform64(M * D, rng, -2, 2),
          W = uniform64(D * N, rng, -1.5, 1.5),
          b = uniform64(N, rng, -1, 1);
        const R = uniform64(M * N, rng, -1, 1);
        const z = preActivations(x, W, b, M, D, N);
        for (let i = 0; i < z.length; i++) {
          expect(kinkDistance(act, z[i]), `z[${i}] is too close to a kink of ${name}`).to.be.greaterThan(1e-3);
        }

        const y = new Float64Array(M * N);
        denseForward(y, x, W, b, M, D, N, act);
        for (let i = 0; i < y.length; i++) {
          expect(y[i]).to.be.closeTo(activateScalar(act, z[i]), 1e-12);
        }

        const dW = new Float64Array(D * N),
          db = new Float64Array(N),
          dx = new Float64Array(M * D).fill(123);
        const dz = new Float64Array(M * N);
        denseBackward(dW, db, dx, R, y, x, W, M, D, N, act, dz);

        const yy = new Float64Array(M * N);
        const loss = (): number => {
          denseForward(yy, x, W, b, M, D, N, act);
          return weightedSum(yy, R);
        };
        gradCheck({ W, b, x }, { W: dW, b: db, x: dx }, loss);
      });
    }
  }

  it('adds into dW and db, overwrites dx, leaves dy alone with a separate dz', () => {
    const M = 5,
      D = 3,
      N = 6,
      act = Act.Tanh;
    const rng = makeRng('dense-accumulate');
    const x = uniform64(M * D, rng),
      W = uniform64(D * N, rng),
      b = uniform64(N, rng),
      dy = uniform64(M * N, rng);
    const y = new Float64Array(M * N);
    denseForward(y, x, W, b, M, D, N, act);

    const dW0 = new Float64Array(D * N),
      db0 = new Float64Array(N),
      dx0 = new Float64Array(M * D);
    denseBackward(dW0, db0, dx0, dy, y, x, W, M, D, N, act, new Float64Array(M * N));

    const seedW = uniform64(D * N, rng),
      seedB = uniform64(N, rng);
    const dW = Float64Array.from(seedW),
      db = Float64Array.from(seedB),
      dx = uniform64(M * D, rng, 50, 60);
    const dyCopy = Float64Array.from(dy);
    denseBackward(dW, db, dx, dy, y, x, W, M, D, N, act, new Float64Array(M * N));
    for (let i = 0; i < dW.length; i++) expect(dW[i]).to.be.closeTo(seedW[i] + dW0[i], 1e-12);
    for (let i = 0; i < db.length; i++) expect(db[i]).to.be.closeTo(seedB[i] + db0[i], 1e-12);
    expect(Array.from(dx)).to.deep.equal(Array.from(dx0));
    expect(Array.from(dy)).to.deep.equal(Array.from(dyCopy));
  });

  it('dz = dy transforms dy in place and gives the same gradients; dx = null skips dx', () => {
    const M = 7,
      D = 4,
      N = 5,
      act = Act.Sigmoid;
    const rng = makeRng('dense-inplace');
    const x = uniform64(M * D, rng),
      W = uniform64(D * N, rng),
      b = uniform64(N, rng),
      dy = uniform64(M * N, rng);
    const y = new Float64Array(M * N);
    denseForward(y, x, W, b, M, D, N, act);
    const dzRef = new Float64Array(M * N);
    const dWa = new Float64Array(D * N),
      dba = new Float64Array(N),
      dxa = new Float64Array(M * D);
    denseBackward(dWa, dba, dxa, dy, y, x, W, M, D, N, act, dzRef);

    const dyInPlace = Float64Array.from(dy);
    const dWb = new Float64Array(D * N),
      dbb = new Float64Array(N);
    denseBackward(dWb, dbb, null, dyInPlace, y, x, W, M, D, N, act, dyInPlace);
    expect(Array.from(dWb)).to.deep.equal(Array.from(dWa));
    expect(Array.from(dbb)).to.deep.equal(Array.from(dba));
    expect(Array.from(dyInPlace)).to.deep.equal(Array.from(dzRef));
    for (let i = 0; i < M * N; i++) {
      const v = y[i];
      expect(dzRef[i]).to.be.closeTo(dy[i] * v * (1 - v), 1e-15);
    }
  });

  it('float32 agrees with float64 within 1e-5', () => {
    const M = 9,
      D = 6,
      N = 5,
      act = Act.Tanh;
    const rng = makeRng('dense-f32');
    const x = uniform64(M * D, rng),
      W = uniform64(D * N, rng),
      b = uniform64(N, rng),
      dy = uniform64(M * N, rng);
    const run = <T extends Float32Array | Float64Array>(ctor: {
      from(a: ArrayLike<number>): T;
      new (n: number): T;
    }) => {
      const y = new ctor(M * N),
        dW = new ctor(D * N),
        db = new ctor(N),
        dx = new ctor(M * D);
      const xx = ctor.from(x),
        WW = ctor.from(W);
      denseForward(y, xx, WW, ctor.from(b), M, D, N, act);
      denseBackward(dW, db, dx, ctor.from(dy), y, xx, WW, M, D, N, act, new ctor(M * N));
      return [y, dW, db, dx];
    };
    const r64 = run(Float64Array),
      r32 = run(Float32Array);
    r64.forEach((a, k) => {
      for (let i = 0; i < a.length; i++) expect(r32[k]?.[i], `output ${k}[${i}]`).to.be.closeTo(a[i], 1e-5);
    });
  });

  it('accepts buffers longer than needed (a smaller last batch) and leaves the tail alone', () => {
    const M = 2,
      D = 3,
      N = 2;
    const rng = makeRng('dense-long');
    const x = uniform64(4 * D, rng),
      W = uniform64(D * N, rng),
      b = uniform64(N, rng);
    const y = new Float64Array(4 * N).fill(7);
    denseForward(y, x, W, b, M, D, N, Act.Linear);
    expect(Array.from(y.subarray(M * N))).to.deep.equal([7, 7, 7, 7]);
    const ref = preActivations(x.subarray(0, M * D), W, b, M, D, N);
    for (let i = 0; i < M * N; i++) expect(y[i]).to.be.closeTo(ref[i], 1e-14);
  });

  it('throws RangeError naming the argument, the expected and the actual length', () => {
    const M = 3,
      D = 2,
      N = 4;
    const f = (n: number) => new Float64Array(n);
    expect(() => denseForward(f(11), f(6), f(8), f(4), M, D, N, Act.Tanh)).to.throw(
      RangeError,
      /denseForward\(y\).*12.*got 11/,
    );
    expect(() => denseForward(f(12), f(5), f(8), f(4), M, D, N, Act.Tanh)).to.throw(
      RangeError,
      /denseForward\(x\).*6.*got 5/,
    );
    expect(() => denseForward(f(12), f(6), f(7), f(4), M, D, N, Act.Tanh)).to.throw(
      RangeError,
      /denseForward\(W\).*8.*got 7/,
    );
    expect(() => denseForward(f(12), f(6), f(8), f(3), M, D, N, Act.Tanh)).to.throw(
      RangeError,
      /denseForward\(b\).*4.*got 3/,
    );
    expect(() => denseForward(f(12), f(6), f(8), f(4), 1.5, D, N, Act.Tanh)).to.throw(RangeError, /dimensions/);
    const ok = () => [f(8), f(4), f(6), f(12), f(12), f(6), f(8)] as const;
    const call = (over: Partial<Record<'dW' | 'db' | 'dx' | 'dy' | 'y' | 'x' | 'W' | 'dz', Float64Array>>) => () => {
      const [dW, db, dx, dy, y, x, W] = ok();
      denseBackward(
        over.dW ?? dW,
        over.db ?? db,
        over.dx ?? dx,
        over.dy ?? dy,
        over.y ?? y,
        over.x ?? x,
        over.W ?? W,
        M,
        D,
        N,
        Act.Tanh,
        over.dz ?? f(12),
      );
    };
    expect(call({})).to.not.throw();
    expect(call({ dW: f(7) })).to.throw(RangeError, /denseBackward\(dW\).*8.*got 7/);
    expect(call({ db: f(3) })).to.throw(RangeError, /denseBackward\(db\).*4.*got 3/);
    expect(call({ dx: f(5) })).to.throw(RangeError, /denseBackward\(dx\).*6.*got 5/);
    expect(call({ dy: f(11) })).to.throw(RangeError, /denseBackward\(dy\).*12.*got 11/);
    expect(call({ y: f(11) })).to.throw(RangeError, /denseBackward\(y\).*12.*got 11/);
    expect(call({ x: f(5) })).to.throw(RangeError, /denseBackward\(x\).*6.*got 5/);
    expect(call({ W: f(7) })).to.throw(RangeError, /denseBackward\(W\).*8.*got 7/);
    expect(call({ dz: f(11) })).to.throw(RangeError, /denseBackward\(dz\).*12.*got 11/);
  });
});

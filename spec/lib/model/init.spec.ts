import { expect } from 'chai';
import { makeRandom } from '../../../lib/random';
import { glorotUniform, orthogonal, zeros, lstmBias } from '../../../lib/model/init';
import { ArgumentError } from '../../../lib/errors';

/** out[i,j] = Σ_k A[i,k]·B[k,j] with A[m,k] and B given by accessors: for the Gram matrices WᵀW and WWᵀ. */
function gram(W: Float64Array, rows: number, cols: number, side: 'rows' | 'cols'): Float64Array {
  const n = side === 'cols' ? cols : rows;
  const G = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let s = 0;
      if (side === 'cols') for (let k = 0; k < rows; k++) s += W[k * cols + a] * W[k * cols + b];
      else for (let k = 0; k < cols; k++) s += W[a * cols + k] * W[b * cols + k];
      G[a * n + b] = s;
    }
  }
  return G;
}

function maxIdentityError(G: Float64Array, n: number, scale = 1): number {
  let e = 0;
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) {
      e = Math.max(e, Math.abs(G[a * n + b] - (a === b ? scale : 0)));
    }
  return e;
}

function bits(a: Float32Array | Float64Array): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

describe('lib/random', () => {
  it('same seed → the same sequence; number and string forms of a seed agree; other seeds differ', () => {
    const draw = (seed: number | string) => {
      const r = makeRandom(seed);
      return [r.uniform(), r.normal(), r.normal(), r.int(10), r.uniform()];
    };
    expect(draw(42)).to.deep.equal(draw(42));
    expect(draw(42)).to.deep.equal(draw('42'));
    expect(draw(42)).to.not.deep.equal(draw(43));
    expect(makeRandom(3).seed).to.equal('3');
  });

  it('uniform lies in [0, 1) with mean ≈ 1/2; int(n) lies in [0, n) and hits every value', () => {
    const r = makeRandom('u');
    let s = 0;
    const n = 20000;
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).to.equal(true);
      s += u;
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).to.equal(true);
      seen.add(k);
    }
    expect(s / n).to.be.closeTo(0.5, 5 * Math.sqrt(1 / 12 / n));
    expect(seen.size).to.equal(7);
    const detached = r.uniform; // closures: usable as a bare () => number
    expect(detached()).to.be.within(0, 1);
  });

  it('normal has mean ≈ 0 and variance ≈ 1', () => {
    const r = makeRandom('normal');
    const n = 40000;
    let s = 0,
      s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    const mean = s / n,
      variance = s2 / n - mean * mean;
    expect(mean).to.be.closeTo(0, 5 / Math.sqrt(n));
    expect(variance).to.be.closeTo(1, 5 * Math.sqrt(2 / n));
  });

  it('shuffle is a deterministic permutation (Fisher–Yates) in place', () => {
    const a = Int32Array.from({ length: 50 }, (_, i) => i);
    const b = Int32Array.from(a);
    const out = makeRandom('s').shuffle(a);
    expect(out).to.equal(a);
    makeRandom('s').shuffle(b);
    expect(Array.from(a)).to.deep.equal(Array.from(b));
    expect(Array.from(a)).to.not.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(a).sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    const plain = [1, 2, 3];
    expect(makeRandom(1).shuffle(plain).slice().sort()).to.deep.equal([1, 2, 3]);
  });

  it('throws RangeError naming the argument', () => {
    expect(() => makeRandom(1).int(0)).to.throw(ArgumentError, /int\(n\)/);
    expect(() => makeRandom(1).int(2.5)).to.throw(ArgumentError, /int\(n\)/);
    expect(() => makeRandom(NaN)).to.throw(ArgumentError, /makeRandom\(seed\)/);
  });
});

describe('lib/model/init', () => {
  it('the same seed gives bit-identical weights (glorot and orthogonal, f32 and f64)', () => {
    for (const ctor of [Float32Array, Float64Array]) {
      const a = new ctor(6 * 10),
        b = new ctor(6 * 10);
      glorotUniform(a, 6, 10, makeRandom(7));
      glorotUniform(b, 6, 10, makeRandom(7));
      expect(bits(a)).to.deep.equal(bits(b));
      const c = new ctor(5 * 12),
        d = new ctor(5 * 12);
      orthogonal(c, 5, 12, makeRandom('q'));
      orthogonal(d, 5, 12, makeRandom('q'));
      expect(bits(c)).to.deep.equal(bits(d));
    }
    const e = new Float64Array(60),
      f = new Float64Array(60);
    glorotUniform(e, 6, 10, makeRandom(7));
    glorotUniform(f, 6, 10, makeRandom(8));
    expect(bits(e)).to.not.deep.equal(bits(f));
  });

  it('glorotUniform stays within ±sqrt(6/(fanIn+fanOut)) with mean ≈ 0 and variance ≈ limit²/3', () => {
    const fanIn = 64,
      fanOut = 128,
      n = fanIn * fanOut;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const W = new Float64Array(n);
    glorotUniform(W, fanIn, fanOut, makeRandom('glorot'));
    let s = 0,
      s2 = 0,
      lo = Infinity,
      hi = -Infinity;
    for (const v of W) {
      s += v;
      s2 += v * v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).to.be.at.least(-limit);
    expect(hi).to.be.below(limit);
    expect(hi - lo).to.be.greaterThan(1.9 * limit); // fills the interval
    const mean = s / n,
      variance = s2 / n - mean * mean;
    expect(mean).to.be.closeTo(0, (5 * limit) / Math.sqrt(3 * n));
    expect(variance / ((limit * limit) / 3)).to.be.closeTo(1, 0.05); // relative sd ≈ 0.01
  });

  for (const [rows, cols] of [
    [4, 16],
    [16, 4],
    [8, 8],
    [1, 5],
    [5, 1],
    [33, 7],
  ] as const) {
    it(`orthogonal [${rows},${cols}]: ${rows <= cols ? 'W·Wᵀ' : 'Wᵀ·W'} = I to 1e-10 (float64)`, () => {
      const W = new Float64Array(rows * cols);
      orthogonal(W, rows, cols, makeRandom(`orth-${rows}-${cols}`));
      if (rows <= cols) expect(maxIdentityError(gram(W, rows, cols, 'rows'), rows)).to.be.at.most(1e-10);
      if (rows >= cols) expect(maxIdentityError(gram(W, rows, cols, 'cols'), cols)).to.be.at.most(1e-10);
    });
  }

  it("orthogonal is Keras's Q: for the normal draws A[max,min] (row-major), QᵀA is upper triangular with a positive diagonal", () => {
    for (const [rows, cols] of [
      [9, 4],
      [4, 9],
      [6, 6],
    ] as const) {
      const seed = `orth-qr-${rows}-${cols}`;
      const W = new Float64Array(rows * cols);
      orthogonal(W, rows, cols, makeRandom(seed));
      const m = Math.max(rows, cols),
        n = Math.min(rows, cols);
      const r = makeRandom(seed);
      const A = Float64Array.from({ length: m * n }, () => r.normal());
      // Q[m,n] is W when rows ≥ cols, else Wᵀ.
      const Q = (i: number, j: number) => (rows >= cols ? W[i * cols + j] : W[j * cols + i]);
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          let s = 0;
          for (let k = 0; k < m; k++) s += Q(k, a) * A[k * n + b];
          if (a > b) expect(Math.abs(s), `(QᵀA)[${a},${b}] below the diagonal`).to.be.at.most(1e-10);
          if (a === b) expect(s, `(QᵀA)[${a},${a}]`).to.be.greaterThan(0);
        }
      }
    }
  });

  it('orthogonal gain scales the Gram matrix to gain²·I; float32 output is orthonormal to float32 precision', () => {
    const W = new Float64Array(6 * 6);
    orthogonal(W, 6, 6, makeRandom('gain'), 2);
    expect(maxIdentityError(gram(W, 6, 6, 'cols'), 6, 4)).to.be.at.most(1e-10);
    const W32 = new Float32Array(10 * 3);
    orthogonal(W32, 10, 3, makeRandom('f32'));
    expect(maxIdentityError(gram(Float64Array.from(W32), 10, 3, 'cols'), 3)).to.be.at.most(1e-6);
  });

  it('zeros and lstmBias (forget slice [H, 2H) = 1 with unitForgetBias, the Keras default)', () => {
    const z = Float32Array.from([1, 2, 3]);
    zeros(z);
    expect(Array.from(z)).to.deep.equal([0, 0, 0]);
    const H = 3;
    const b = new Float64Array(4 * H).fill(9);
    lstmBias(b, H);
    expect(Array.from(b)).to.deep.equal([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    lstmBias(b, H, false);
    expect(Array.from(b)).to.deep.equal(new Array(12).fill(0));
  });

  it('throws RangeError naming the argument', () => {
    const r = makeRandom(1);
    expect(() => glorotUniform(new Float64Array(5), 2, 3, r)).to.throw(
      RangeError,
      /glorotUniform\(out\): expected 6 .*got 5/,
    );
    expect(() => glorotUniform(new Float64Array(0), 0, 3, r)).to.throw(ArgumentError, /glorotUniform\(fanIn\)/);
    expect(() => glorotUniform(new Float64Array(6), 2, 3.5, r)).to.throw(ArgumentError, /glorotUniform\(fanOut\)/);
    expect(() => orthogonal(new Float64Array(11), 3, 4, r)).to.throw(
      RangeError,
      /orthogonal\(out\): expected 12 .*got 11/,
    );
    expect(() => orthogonal(new Float64Array(0), 0, 4, r)).to.throw(ArgumentError, /orthogonal\(rows\)/);
    expect(() => orthogonal(new Float64Array(4), 4, -1, r)).to.throw(ArgumentError, /orthogonal\(cols\)/);
    expect(() => lstmBias(new Float64Array(7), 2)).to.throw(RangeError, /lstmBias\(out\): expected 8 .*got 7/);
    expect(() => lstmBias(new Float64Array(0), 0)).to.throw(ArgumentError, /lstmBias\(H\)/);
  });
});

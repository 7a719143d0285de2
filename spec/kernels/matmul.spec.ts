import { expect } from 'chai';
import { matmul, matmulABt, matmulAtB, addBias, sumRows } from '../../kernels/matmul';
import { naiveMatmul, transpose } from '../helpers/naive';
import { makeRng, uniform64, uniform32 } from '../helpers/rng';

/** Max |a−b| / max(|b|, 1) over a dense block: relative for large entries, absolute near zero. */
function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1);
    if (e > m) m = e;
  }
  return m;
}

const SIZES = [1, 3, 5, 7, 17, 64];

describe('kernels/matmul', () => {
  const rng = makeRng('matmul');

  for (const M of SIZES)
    for (const K of [1, 5, 17])
      for (const N of SIZES) {
        if (M * N > 64 * 17 && K > 5) continue; // keep the table fast; 64×64 is still covered with K=1,5
        it(`A·B, A·Bᵀ, Aᵀ·B match the naive product at M=${M} K=${K} N=${N} (f64 ≤ 1e-12, f32 ≤ 1e-5)`, () => {
          const A = uniform64(M * K, rng),
            B = uniform64(K * N, rng);
          const ref = naiveMatmul(A, B, M, K, N);
          const C = new Float64Array(M * N);
          matmul(C, 0, N, A, 0, K, B, 0, N, M, K, N, false);
          expect(maxErr(C, ref), 'matmul f64').to.be.at.most(1e-12);
          const Bt = transpose(B, K, N); // [N,K]
          matmulABt(C, 0, N, A, 0, K, Bt, 0, K, M, K, N, false);
          expect(maxErr(C, ref), 'matmulABt f64').to.be.at.most(1e-12);
          const At = transpose(A, M, K); // [K,M]
          matmulAtB(C, 0, N, At, 0, M, B, 0, N, M, K, N, false);
          expect(maxErr(C, ref), 'matmulAtB f64').to.be.at.most(1e-12);
          const C32 = new Float32Array(M * N);
          matmul(C32, 0, N, Float32Array.from(A), 0, K, Float32Array.from(B), 0, N, M, K, N, false);
          expect(maxErr(C32, ref), 'matmul f32').to.be.at.most(1e-5);
        });
      }

  for (const [M, K, N] of [
    [257, 3, 5],
    [6, 300, 9],
    [5, 7, 520],
    [33, 513, 65],
  ] as const) {
    it(`A·B, A·Bᵀ, Aᵀ·B cross the 256 packing-block boundaries correctly at M=${M} K=${K} N=${N}`, () => {
      const A = uniform64(M * K, rng),
        B = uniform64(K * N, rng);
      const ref = naiveMatmul(A, B, M, K, N);
      const C = new Float64Array(M * N);
      matmul(C, 0, N, A, 0, K, B, 0, N, M, K, N, false);
      expect(maxErr(C, ref), 'matmul').to.be.at.most(1e-12);
      matmulABt(C, 0, N, A, 0, K, transpose(B, K, N), 0, K, M, K, N, false);
      expect(maxErr(C, ref), 'matmulABt').to.be.at.most(1e-12);
      matmulAtB(C, 0, N, transpose(A, M, K), 0, M, B, 0, N, M, K, N, false);
      expect(maxErr(C, ref), 'matmulAtB').to.be.at.most(1e-12);
    });
  }

  it('accumulate adds into C; overwrite ignores what C held', () => {
    const M = 6,
      K = 5,
      N = 7;
    const A = uniform64(M * K, rng),
      B = uniform64(K * N, rng),
      C0 = uniform64(M * N, rng);
    const ref = naiveMatmul(A, B, M, K, N);
    for (const [name, run] of [
      ['matmul', (C: Float64Array, acc: boolean) => matmul(C, 0, N, A, 0, K, B, 0, N, M, K, N, acc)],
      [
        'matmulABt',
        (C: Float64Array, acc: boolean) => matmulABt(C, 0, N, A, 0, K, transpose(B, K, N), 0, K, M, K, N, acc),
      ],
      [
        'matmulAtB',
        (C: Float64Array, acc: boolean) => matmulAtB(C, 0, N, transpose(A, M, K), 0, M, B, 0, N, M, K, N, acc),
      ],
    ] as const) {
      const Cacc = Float64Array.from(C0);
      run(Cacc, true);
      const expected = ref.map((v, i) => v + C0[i]);
      expect(maxErr(Cacc, expected), `${name} accumulate`).to.be.at.most(1e-12);
      const Cset = Float64Array.from(C0);
      run(Cset, false);
      expect(maxErr(Cset, ref), `${name} overwrite`).to.be.at.most(1e-12);
    }
  });

  it('works on blocks of bigger matrices through offsets and leading dimensions, leaving the rest untouched', () => {
    // A is the [5,3] block at row 2, column 1 of a [9,6] matrix; B the [3,4] block at row 1, column 2 of a [6,8] matrix;
    // C the [5,4] block at row 1, column 3 of a [8,10] matrix.
    const bigA = uniform64(9 * 6, rng),
      bigB = uniform64(6 * 8, rng),
      bigC = uniform64(8 * 10, rng);
    const A = new Float64Array(15),
      B = new Float64Array(12);
    for (let i = 0; i < 5; i++) for (let k = 0; k < 3; k++) A[i * 3 + k] = bigA[(2 + i) * 6 + 1 + k];
    for (let k = 0; k < 3; k++) for (let j = 0; j < 4; j++) B[k * 4 + j] = bigB[(1 + k) * 8 + 2 + j];
    const ref = naiveMatmul(A, B, 5, 3, 4);
    const C = Float64Array.from(bigC);
    matmul(C, 1 * 10 + 3, 10, bigA, 2 * 6 + 1, 6, bigB, 1 * 8 + 2, 8, 5, 3, 4, false);
    for (let r = 0; r < 8; r++)
      for (let c = 0; c < 10; c++) {
        const inBlock = r >= 1 && r < 6 && c >= 3 && c < 7;
        const want = inBlock ? ref[(r - 1) * 4 + (c - 3)] : bigC[r * 10 + c];
        expect(Math.abs(C[r * 10 + c] - want), `C[${r},${c}]`).to.be.at.most(1e-12);
      }
  });

  it('addBias broadcasts over rows and sumRows is its adjoint (Σ C⊙(1·b) = b·sumRows(C))', () => {
    const M = 5,
      N = 6;
    const b = uniform64(N, rng),
      C = uniform64(M * N, rng),
      R = uniform64(M * N, rng);
    const C1 = Float64Array.from(C);
    addBias(C1, 0, N, b, 0, M, N);
    for (let i = 0; i < M * N; i++) expect(C1[i]).to.equal(C[i] + b[i % N]);
    const s = new Float64Array(N);
    sumRows(s, 0, R, 0, N, M, N);
    for (let j = 0; j < N; j++) {
      let ref = 0;
      for (let i = 0; i < M; i++) ref += R[i * N + j];
      expect(Math.abs(s[j] - ref)).to.be.at.most(1e-12);
    }
  });

  it('Float32 and Float64 products of the same data agree to 1e-5 relative at 64×64×64', () => {
    const n = 64;
    const A = uniform32(n * n, rng),
      B = uniform32(n * n, rng);
    const C32 = new Float32Array(n * n),
      C64 = new Float64Array(n * n);
    matmul(C32, 0, n, A, 0, n, B, 0, n, n, n, n, false);
    matmul(C64, 0, n, Float64Array.from(A), 0, n, Float64Array.from(B), 0, n, n, n, n, false);
    expect(maxErr(C32, C64)).to.be.at.most(1e-5);
  });

  it('a row gives bit-identical results whether it is computed alone, as an edge row or inside a 4×4 tile', () => {
    // This is what makes a batch-1 streaming forward equal a batched one exactly.
    const K = 13,
      N = 10;
    const B = uniform32(K * N, rng),
      Bt = Float32Array.from(transpose(B, K, N));
    const A = uniform32(7 * K, rng),
      At = Float32Array.from(transpose(A, 7, K));
    const C0 = uniform32(7 * N, rng);
    for (const [name, run] of [
      [
        'matmul',
        (C: Float32Array, rows: number, first: number) =>
          matmul(C, first * N, N, A, first * K, K, B, 0, N, rows, K, N, true),
      ],
      [
        'matmulABt',
        (C: Float32Array, rows: number, first: number) =>
          matmulABt(C, first * N, N, A, first * K, K, Bt, 0, K, rows, K, N, true),
      ],
      [
        'matmulAtB',
        (C: Float32Array, rows: number, first: number) =>
          matmulAtB(C, first * N, N, At, first, 7, B, 0, N, rows, K, N, true),
      ],
    ] as const) {
      const all = Float32Array.from(C0);
      run(all, 7, 0); // rows 0..3 in a tile, rows 4..6 on the edge path
      for (let i = 0; i < 7; i++) {
        const one = Float32Array.from(C0);
        run(one, 1, i); // row i alone
        expect(Array.from(one.subarray(i * N, (i + 1) * N)), `${name} row ${i}`).to.deep.equal(
          Array.from(all.subarray(i * N, (i + 1) * N)),
        );
      }
    }
  });

  it('throws a RangeError naming the operand when a buffer is too short', () => {
    const A = new Float64Array(6),
      B = new Float64Array(6),
      C = new Float64Array(3);
    expect(() => matmul(C, 0, 2, A, 0, 3, B, 0, 2, 2, 3, 2, false)).to.throw(
      RangeError,
      /matmul\(C\).*expected at least 4.*got 3/,
    );
    expect(() => matmulABt(new Float64Array(4), 0, 2, A, 1, 3, B, 0, 3, 2, 3, 2, false)).to.throw(
      RangeError,
      /matmulABt\(A\)/,
    );
    expect(() => matmulAtB(new Float64Array(4), 0, 2, A, 0, 2, B, 0, 2, 2, 3, 2, false)).to.not.throw();
    expect(() => matmulAtB(new Float64Array(4), 0, 2, A, 0, 2, new Float64Array(5), 0, 2, 2, 3, 2, false)).to.throw(
      RangeError,
      /matmulAtB\(B\)/,
    );
    expect(() => matmul(C, 0, 1, A, 0, 3, B, 0, 2, 1, 3, 2, false)).to.throw(
      RangeError,
      /leading dimension 1 is smaller than the row length 2/,
    );
  });
});

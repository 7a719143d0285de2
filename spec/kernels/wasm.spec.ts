import { expect } from 'chai';
import { matmul, matmulABt, matmulAtB } from '../../kernels/matmul';
import { lanes32, sleb, uleb } from '../../kernels/wasm/emit';
import { KC } from '../../kernels/wasm/module';
import {
  SCRATCH_BYTES,
  WasmArena,
  attachWasmArena,
  matmulABtWasm,
  matmulAtBWasm,
  matmulWasm,
  wasmArena,
  wasmSimdAvailable,
} from '../../kernels/wasm/gemm';
import { makeRng, type Rng } from '../helpers/rng';

type Op = 'AB' | 'ABt' | 'AtB';
const OPS: Op[] = ['AB', 'ABt', 'AtB'];
const WASM = { AB: matmulWasm, ABt: matmulABtWasm, AtB: matmulAtBWasm } as const;
const JS = { AB: matmul, ABt: matmulABt, AtB: matmulAtB } as const;
/** Stored shape of A and B for an op: A is [M,K] or [K,M], B is [K,N] or [N,K]. */
const aShape = (op: Op, M: number, K: number): [number, number] => (op === 'AtB' ? [K, M] : [M, K]);
const bShape = (op: Op, K: number, N: number): [number, number] => (op === 'ABt' ? [N, K] : [K, N]);
/** Element (i,k) of A and (k,j) of B as the op reads them from dense operands. */
const aAt = (op: Op, A: Float32Array, M: number, K: number, i: number, k: number): number =>
  op === 'AtB' ? A[k * M + i] : A[i * K + k];
const bAt = (op: Op, B: Float32Array, K: number, N: number, k: number, j: number): number =>
  op === 'ABt' ? B[j * K + k] : B[k * N + j];

const U = 2 ** -24; // unit roundoff of float32

function fill(a: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = 2 * rng() - 1;
  return a;
}

/**
 * Checks C (dense [M,N]) against the float64 product of the same f32 operands (kernels/matmul.ts with a Float64Array C,
 * which is exact to ~1e-16) with the bound of the numeric contract: |c − ref| ≤ (K + 3)·u·(Σ_k |a·b| + |c0|).
 */
function expectWithinBound(
  label: string,
  op: Op,
  C: Float32Array,
  A: Float32Array,
  B: Float32Array,
  C0: Float32Array | null,
  M: number,
  K: number,
  N: number,
): void {
  const ref = new Float64Array(M * N);
  if (C0) ref.set(C0);
  const [, lda] = aShape(op, M, K),
    [, ldb] = bShape(op, K, N);
  JS[op](ref, 0, N, A, 0, lda, B, 0, ldb, M, K, N, C0 !== null);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = C0 ? Math.abs(C0[i * N + j]) : 0;
      for (let k = 0; k < K; k++) s += Math.abs(aAt(op, A, M, K, i, k) * bAt(op, B, K, N, k, j));
      const got = C[i * N + j],
        want = ref[i * N + j];
      const bound = (K + 3) * U * s;
      if (!(Math.abs(got - want) <= bound)) {
        expect.fail(
          `${label}: C[${i},${j}] (flat ${i * N + j}) = ${got}, float64 reference ${want}, ` +
            `|diff| ${Math.abs(got - want)} > bound ${bound}`,
        );
      }
    }
}

function expectSameBits(label: string, got: Float32Array, want: Float32Array): void {
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${label}: element ${i} is ${got[i]}, expected exactly ${want[i]}`);
  }
}

describe('kernels/wasm', function () {
  before(function () {
    if (!wasmSimdAvailable()) this.skip(); // the js kernels are the fallback; nothing to test here
  });

  describe('emit.ts', () => {
    it('LEB128 encodes the spec examples', () => {
      const u: number[] = [],
        s: number[] = [],
        n: number[] = [];
      uleb(u, 624485);
      sleb(s, -123456);
      sleb(n, 64); // needs a second byte: bit 6 would read as a sign
      expect(u).to.deep.equal([0xe5, 0x8e, 0x26]);
      expect(s).to.deep.equal([0xc0, 0xbb, 0x78]);
      expect(n).to.deep.equal([0xc0, 0x00]);
    });
    it('lanes32 turns f32 lanes into i8x16.shuffle byte lanes', () => {
      expect(lanes32(0, 4, 1, 5)).to.deep.equal([0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23]);
    });
  });

  describe('products against kernels/matmul.ts', () => {
    const rng = makeRng('wasm-gemm');
    const arena = wasmArena();
    // The required sizes, plus non-multiples of the 4×8 tile (6, 9, 13) and K past one k-block (KC = 256).
    const SIZES = [1, 3, 5, 7, 17, 64];
    const shapes: [number, number, number][] = [];
    for (const M of SIZES) for (const K of SIZES) for (const N of SIZES) shapes.push([M, K, N]);
    shapes.push([6, 9, 13], [9, 13, 6], [13, 6, 9], [4, 8, 8], [8, 300, 16], [2, 300, 9], [66, 2 * KC + 3, 70]);

    for (const op of OPS) {
      it(`${op}: every shape of {1,3,5,7,17,64}³ and odd tiles, overwrite and accumulate, within (K+3)·2⁻²⁴·Σ|a·b|`, () => {
        const mark = arena.mark();
        for (const [M, K, N] of shapes) {
          const [ar, ac] = aShape(op, M, K),
            [br, bc] = bShape(op, K, N);
          const [A, B, C] = arena.allocF32s(ar * ac, br * bc, M * N) as [Float32Array, Float32Array, Float32Array];
          fill(A, rng);
          fill(B, rng);
          const C0 = fill(new Float32Array(M * N), rng);
          C.fill(NaN); // an overwrite must not read C
          WASM[op](C, 0, N, A, 0, ac, B, 0, bc, M, K, N, false);
          expectWithinBound(`${op} M=${M} K=${K} N=${N} overwrite`, op, C, A, B, null, M, K, N);
          C.set(C0);
          WASM[op](C, 0, N, A, 0, ac, B, 0, bc, M, K, N, true);
          expectWithinBound(`${op} M=${M} K=${K} N=${N} accumulate`, op, C, A, B, C0, M, K, N);
          arena.release(mark);
        }
      });
    }

    for (const op of OPS) {
      it(`${op}: blocks of bigger matrices through offsets and leading dimensions; the rest of C is untouched`, () => {
        const mark = arena.mark();
        for (const [M, K, N] of [
          [5, 7, 9],
          [1, 17, 13],
          [17, 5, 3],
          [64, 17, 64],
          [3, 300, 10],
        ] as [number, number, number][]) {
          for (const accumulate of [false, true]) {
            // A, B, C are blocks at (row 2, column 3) of matrices 5 rows and 7 columns larger than the block.
            const [ar, ac] = aShape(op, M, K),
              [br, bc] = bShape(op, K, N);
            const lda = ac + 7,
              ldb = bc + 7,
              ldc = N + 7;
            const [bigA, bigB, bigC] = arena
              .allocF32s((ar + 5) * lda, (br + 5) * ldb, (M + 5) * ldc)
              .map((x) => fill(x, rng)) as [Float32Array, Float32Array, Float32Array];
            const before = Float32Array.from(bigC);
            const aOff = 2 * lda + 3,
              bOff = 2 * ldb + 3,
              cOff = 2 * ldc + 3;
            WASM[op](bigC, cOff, ldc, bigA, aOff, lda, bigB, bOff, ldb, M, K, N, accumulate);
            // Dense copies for the check.
            const A = new Float32Array(ar * ac),
              B = new Float32Array(br * bc),
              C = new Float32Array(M * N),
              C0 = new Float32Array(M * N);
            for (let r = 0; r < ar; r++) for (let c = 0; c < ac; c++) A[r * ac + c] = bigA[aOff + r * lda + c];
            for (let r = 0; r < br; r++) for (let c = 0; c < bc; c++) B[r * bc + c] = bigB[bOff + r * ldb + c];
            for (let r = 0; r < M; r++)
              for (let c = 0; c < N; c++) {
                C[r * N + c] = bigC[cOff + r * ldc + c];
                C0[r * N + c] = before[cOff + r * ldc + c];
              }
            expectWithinBound(
              `${op} M=${M} K=${K} N=${N} block, accumulate=${accumulate}`,
              op,
              C,
              A,
              B,
              accumulate ? C0 : null,
              M,
              K,
              N,
            );
            for (let r = 0; r < M + 5; r++)
              for (let c = 0; c < ldc; c++) {
                const inside = r >= 2 && r < 2 + M && c >= 3 && c < 3 + N;
                if (!inside && !Object.is(bigC[r * ldc + c], before[r * ldc + c])) {
                  expect.fail(
                    `${op} M=${M} K=${K} N=${N}: C[${r},${c}] outside the block changed from ${before[r * ldc + c]} to ${bigC[r * ldc + c]}`,
                  );
                }
              }
          }
        }
        arena.release(mark);
      });
    }

    it('K = 0 zeroes C on overwrite and leaves it on accumulate; M = 0 or N = 0 touch nothing', () => {
      const mark = arena.mark();
      const [A, B, C] = arena.allocF32s(16, 16, 12) as [Float32Array, Float32Array, Float32Array];
      fill(C, rng);
      const C0 = Float32Array.from(C);
      for (const op of OPS) {
        C.set(C0);
        WASM[op](C, 0, 4, A, 0, op === 'AtB' ? 3 : 0, B, 0, op === 'ABt' ? 0 : 4, 3, 0, 4, true);
        expectSameBits(`${op} K=0 accumulate`, C, C0);
        WASM[op](C, 0, 4, A, 0, 4, B, 0, 4, 0, 4, 4, false);
        WASM[op](C, 0, 4, A, 0, 4, B, 0, 4, 3, 4, 0, false);
        expectSameBits(`${op} M=0, N=0`, C, C0);
        WASM[op](C, 0, 4, A, 0, op === 'AtB' ? 3 : 0, B, 0, op === 'ABt' ? 0 : 4, 3, 0, 4, false);
        expectSameBits(`${op} K=0 overwrite`, C, new Float32Array(12));
      }
      arena.release(mark);
    });
  });

  describe('a row does not depend on the rest of the batch', () => {
    const rng = makeRng('wasm-rows');
    const arena = wasmArena();
    // Batch 1 (matrix–vector kernels), 3 rows (same), 5 rows (a packed tile plus an edge row) and 64 rows (full tiles)
    // must give the same bits for the same row: the streaming path and the batched path agree exactly.
    for (const op of OPS)
      for (const K of [17, 64, KC + 45])
        for (const N of [13, 64]) {
          it(`${op} K=${K} N=${N}: rows of a 64-row product equal the same rows computed 1, 3 and 5 at a time, bit for bit`, () => {
            const mark = arena.mark();
            const M = 64;
            const [ar, ac] = aShape(op, M, K),
              [br, bc] = bShape(op, K, N);
            const [A, B, full, part] = arena.allocF32s(ar * ac, br * bc, M * N, M * N) as [
              Float32Array,
              Float32Array,
              Float32Array,
              Float32Array,
            ];
            fill(A, rng);
            fill(B, rng);
            const C0 = fill(new Float32Array(M * N), rng);
            for (const accumulate of [false, true]) {
              full.set(C0);
              WASM[op](full, 0, N, A, 0, ac, B, 0, bc, M, K, N, accumulate);
              for (const rows of [1, 3, 5]) {
                part.set(C0);
                for (let i0 = 0; i0 < M; i0 += rows) {
                  const m = Math.min(rows, M - i0);
                  // Rows i0.. of A: an offset of i0 rows for A[M,K], of i0 columns for the stored Aᵀ[K,M].
                  const aOff = op === 'AtB' ? i0 : i0 * ac;
                  WASM[op](part, i0 * N, N, A, aOff, ac, B, 0, bc, m, K, N, accumulate);
                }
                expectSameBits(`${op} K=${K} N=${N} ${rows} row(s) at a time, accumulate=${accumulate}`, part, full);
              }
            }
            arena.release(mark);
          });
        }
  });

  describe('arena', () => {
    it('allocates 64-byte aligned views; reserve grows once so later allocations leave earlier views valid', () => {
      const arena = new WasmArena({ initialBytes: 1 << 16 });
      expect(arena.heapBase % 64).to.equal(0);
      expect(arena.heapBase).to.be.at.least(SCRATCH_BYTES);
      const g0 = arena.generation;
      arena.reserve(1 << 20);
      expect(arena.generation).to.equal(g0 + 1);
      const x = arena.allocF32(3),
        y = arena.allocF32(100000);
      expect(arena.generation).to.equal(g0 + 1);
      expect(x.byteOffset % 64).to.equal(0);
      expect(y.byteOffset % 64).to.equal(0);
      x[0] = 1.5;
      expect(x[0]).to.equal(1.5);
      expect(arena.f32(x.byteOffset, 3)[0]).to.equal(1.5); // a fresh view aliases the same floats
      const mark = arena.mark();
      arena.allocF32(10);
      arena.release(mark);
      expect(arena.top).to.equal(mark);
      const [p, q] = arena.allocF32s(1 << 20, 5) as [Float32Array, Float32Array]; // needs a growth: done before either view
      expect(arena.generation).to.equal(g0 + 2);
      expect([p.length, q.length]).to.deep.equal([1 << 20, 5]);
    });

    it('a growth detaches earlier views and the products say so; f32(ptr, n) re-creates them', () => {
      const arena = new WasmArena({ initialBytes: 1 << 16 });
      const ptr = arena.alloc(4 * 16);
      const A = arena.f32(ptr, 16),
        B = arena.allocF32(16),
        C = arena.allocF32(16);
      const bPtr = B.byteOffset,
        cPtr = C.byteOffset;
      arena.allocF32(1 << 20); // grows: A, B, C are now detached
      expect(A.length).to.equal(0);
      expect(() => matmulWasm(C, 0, 4, A, 0, 4, B, 0, 4, 4, 4, 4, false, arena)).to.throw(RangeError, /detached/);
      const A2 = arena.f32(ptr, 16),
        B2 = arena.f32(bPtr, 16),
        C2 = arena.f32(cPtr, 16);
      matmulWasm(C2, 0, 4, A2, 0, 4, B2, 0, 4, 4, 4, 4, false, arena);
    });

    it('rejects arrays that are not views on the arena, blocks past the view, and views over the scratch', () => {
      const arena = wasmArena();
      const mark = arena.mark();
      const [A, B, C] = arena.allocF32s(16, 16, 16) as [Float32Array, Float32Array, Float32Array];
      expect(() => matmulWasm(C, 0, 4, new Float32Array(16), 0, 4, B, 0, 4, 4, 4, 4, false)).to.throw(
        RangeError,
        /matmulWasm\(A\).*wasm arena/,
      );
      expect(() =>
        matmulABtWasm(C, 0, 4, A, 0, 4, new Float64Array(16) as unknown as Float32Array, 0, 4, 4, 4, 4, false),
      ).to.throw(RangeError, /matmulABtWasm\(B\)/);
      expect(() => matmulAtBWasm(C, 1, 4, A, 0, 4, B, 0, 4, 4, 4, 4, false)).to.throw(
        RangeError,
        /matmulAtBWasm\(C\): expected at least 17/,
      );
      expect(() => matmulWasm(C, 0, 3, A, 0, 4, B, 0, 4, 4, 4, 4, false)).to.throw(RangeError, /leading dimension 3/);
      const overScratch = new Float32Array(arena.memory.buffer, arena.scratch, 16);
      expect(() => matmulWasm(overScratch, 0, 4, A, 0, 4, B, 0, 4, 4, 4, 4, false)).to.throw(RangeError, /scratch/);
      const other = new WasmArena({ initialBytes: 1 << 16 });
      expect(() => matmulWasm(C, 0, 4, A, 0, 4, B, 0, 4, 4, 4, 4, false, other)).to.throw(RangeError, /wasm arena/);
      arena.release(mark);
    });

    it('a shared arena runs the same products, also through a second instance with its own scratch', () => {
      const rng = makeRng('wasm-shared');
      const arena = new WasmArena({ shared: true, initialBytes: 1 << 20, maximumBytes: 64 << 20 });
      expect(typeof SharedArrayBuffer !== 'undefined' && arena.memory.buffer instanceof SharedArrayBuffer).to.equal(
        true,
      );
      const M = 9,
        K = 20,
        N = 11;
      const second = attachWasmArena(arena.memory, arena.alloc(SCRATCH_BYTES));
      const [A, B, C1, C2] = arena.allocF32s(M * K, K * N, M * N, M * N) as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      fill(A, rng);
      fill(B, rng);
      matmulWasm(C1, 0, N, A, 0, K, B, 0, N, M, K, N, false, arena);
      matmulWasm(C2, 0, N, A, 0, K, B, 0, N, M, K, N, false, second);
      expectWithinBound('shared', 'AB', C1, A, B, null, M, K, N);
      expectSameBits('second instance', C2, C1);
    });
  });
});

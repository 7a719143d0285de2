/**
 * MatOps over the WebAssembly SIMD kernels, bound to one arena, for a workspace whose own buffers live in that arena:
 * the three products, the bias add and the forward gate kernels (`gates`; the last two are in gates.ts).
 *
 * Operands that are live Float32Array views on the arena go to the kernels as they are (no copy). Any other operand (a
 * parameter or gradient in an ordinary Float32Array, a Float64Array, the caller's input) is copied into one of three
 * staging buffers of the arena first — the [rows, ld] span the product touches — and C is copied back after the
 * product. The staging buffers are allocated with the workspace (one allocF32s), so no product grows the memory.
 */
import type { FloatArray } from '../matmul.js';
import { type GateOps, type MatOps, type MatProduct, foldBlocks } from '../fast/ops.js';
import { sumRows } from '../matmul.js';
import { type WasmArena } from './arena.js';
import { KC, MR, NC, NR } from './module.js';

type Kernel = (
  c: number,
  ldc: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  M: number,
  K: number,
  N: number,
  acc: number,
) => void;

/** The span [off, off + span) of a [rows, cols] block with leading dimension ld. */
const spanOf = (rows: number, cols: number, ld: number): number =>
  rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;

/** Below this many elements a block is copied by a loop: a subarray view for TypedArray.set would allocate ~100 bytes. */
const LOOP_COPY_MAX = 1024;

/**
 * dst[dOff … dOff+n) ← src[sOff … sOff+n). Whole arrays and short blocks (a bias slice, a step's row) allocate nothing;
 * a long partial block goes through a subarray view, whose allocation is small beside the copy.
 */
function copyBlock(dst: FloatArray, dOff: number, src: FloatArray, sOff: number, n: number): void {
  if (sOff === 0 && n === src.length) dst.set(src, dOff);
  else if (n <= LOOP_COPY_MAX) for (let i = 0; i < n; i++) dst[dOff + i] = src[sOff + i];
  else dst.set(src.subarray(sOff, sOff + n), dOff);
}

/**
 * stage: three arena views (A, B, C), each at least as long as the largest block of a non-arena operand the workspace
 * will pass. A staged operand that does not fit is a RangeError.
 */
export function wasmOps(arena: WasmArena, stage: readonly [Float32Array, Float32Array, Float32Array]): MatOps {
  const owned = (arr: FloatArray): boolean => arr instanceof Float32Array && arena.isLive(arr.buffer);
  const ptr = (name: string, arr: FloatArray, off: number, span: number, slot: number, copy: boolean): number => {
    if (span === 0) return arena.heapBase;
    if (owned(arr)) {
      if (off < 0 || off + span > arr.length)
        throw new RangeError(`${name}: block [${off}, ${off + span}) outside an array of ${arr.length}`);
      return arr.byteOffset + 4 * off;
    }
    const s = stage[slot];
    if (!arena.isLive(s.buffer) || s.length < span) {
      throw new RangeError(
        `${name}: staging buffer ${slot} holds ${s.length} elements (or is detached), the block needs ${span}`,
      );
    }
    if (arr.length < off + span)
      throw new RangeError(`${name}: block [${off}, ${off + span}) outside an array of ${arr.length}`);
    if (copy) copyBlock(s, 0, arr, off, span);
    return s.byteOffset;
  };
  const make = (name: string, kernel: () => Kernel, aRowsIsK: boolean, bRowsIsN: boolean): MatProduct => {
    // The operands' names for messages, built once here rather than on every product.
    const nameA = `${name}(A)`,
      nameB = `${name}(B)`,
      nameC = `${name}(C)`;
    return (C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, K, N, accumulate) => {
      if (M === 0 || N === 0) return;
      const cSpan = spanOf(M, N, ldc);
      const aSpan = aRowsIsK ? spanOf(K, M, lda) : spanOf(M, K, lda);
      const bSpan = bRowsIsN ? spanOf(N, K, ldb) : spanOf(K, N, ldb);
      const a = ptr(nameA, A, aOff, aSpan, 0, true);
      const b = ptr(nameB, B, bOff, bSpan, 1, true);
      // C is copied in even when overwritten: with ldc > N the span holds columns that are not ours to change.
      const cOwned = owned(C);
      const c = ptr(nameC, C, cOff, cSpan, 2, true);
      kernel()(c, ldc, a, lda, b, ldb, M, K, N, accumulate ? 1 : 0);
      if (!cOwned) copyBlock(C, cOff, stage[2], 0, cSpan);
    };
  };
  const k = arena.kernels;
  const addBias = (
    C: FloatArray,
    cOff: number,
    ldc: number,
    b: FloatArray,
    bOff: number,
    M: number,
    N: number,
  ): void => {
    if (M === 0 || N === 0) return;
    if (!owned(C))
      throw new RangeError('addBias[wasm](C): expected a Float32Array view on the arena (did the arena grow since?)');
    if (N > ldc) throw new RangeError(`addBias[wasm](C): leading dimension ${ldc} is smaller than the row length ${N}`);
    k.addBias(
      ptr('addBias[wasm](C)', C, cOff, spanOf(M, N, ldc), 2, false),
      ldc,
      ptr('addBias[wasm](b)', b, bOff, N, 1, true),
      M,
      N,
    );
  };
  // The bias gradient and the repeated-input fold: wasm when the big operand lives in the arena (a workspace's dz), else
  // the TypeScript loop; both give the same bits, so the choice is invisible.
  const sumRowsOp = (
    s: FloatArray,
    sOff: number,
    C: FloatArray,
    cOff: number,
    ldc: number,
    M: number,
    N: number,
  ): void => {
    const sOwned = owned(s);
    if (!owned(C) || N > ldc || !(s instanceof Float32Array) || (!sOwned && stage[1].length < N)) {
      sumRows(s, sOff, C, cOff, ldc, M, N);
      return;
    }
    if (M === 0 || N === 0) return;
    const c = ptr('sumRows[wasm](C)', C, cOff, spanOf(M, N, ldc), 0, false);
    const sp = ptr('sumRows[wasm](s)', s, sOff, N, 1, true);
    k.sumRows(sp, c, ldc, M, N);
    if (!sOwned) copyBlock(s, sOff, stage[1], 0, N);
  };
  const foldOp = (p: FloatArray, off: number, n: number, count: number): void => {
    if (!owned(p) || !(off >= 0 && n >= 0 && count >= 1 && off + count * n <= p.length)) {
      foldBlocks(p, off, n, count);
      return;
    }
    if (n === 0 || count === 1) return;
    k.foldBlocks(p.byteOffset + 4 * off, n, count);
  };
  const matmulOp = make('matmul[wasm]', () => k.matmul, false, false);
  const matmulABtOp = make('matmulABt[wasm]', () => k.matmulABt, false, true);
  const packB = (
    P: FloatArray,
    B: FloatArray,
    bOff: number,
    ldb: number,
    K: number,
    N: number,
    transposed: boolean,
  ): void => {
    if (P.length === 0) return; // nothing to pack into: matmulPacked then runs the unpacked product
    const need = packedLength(K, N);
    if (!owned(P) || P.length < need)
      throw new RangeError(`packB[wasm](P): expected an arena view of at least ${need} elements, got ${P.length}`);
    if (B.length < bOff + (transposed ? spanOf(N, K, ldb) : spanOf(K, N, ldb)))
      throw new RangeError(`packB[wasm](B): the block at ${bOff} (leading dimension ${ldb}) exceeds ${B.length}`);
    packPanels(P, B, bOff, ldb, K, N, transposed);
  };
  const matmulPacked = (
    C: FloatArray,
    cOff: number,
    ldc: number,
    A: FloatArray,
    aOff: number,
    lda: number,
    P: FloatArray,
    B: FloatArray,
    bOff: number,
    ldb: number,
    transposed: boolean,
    M: number,
    K: number,
    N: number,
    accumulate: boolean,
  ): void => {
    if (M < MR || P.length === 0) {
      (transposed ? matmulABtOp : matmulOp)(C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, K, N, accumulate);
      return;
    }
    if (N === 0) return;
    const need = packedLength(K, N);
    if (!owned(P) || P.length < need)
      throw new RangeError(
        `matmulPacked[wasm](P): expected an arena view of at least ${need} elements, got ${P.length}`,
      );
    const cSpan = spanOf(M, N, ldc);
    const a = ptr('matmulPacked[wasm](A)', A, aOff, spanOf(M, K, lda), 0, true);
    const cOwned = owned(C);
    const c = ptr('matmulPacked[wasm](C)', C, cOff, cSpan, 2, true);
    k.matmulPacked(c, ldc, a, lda, P.byteOffset, M, K, N, accumulate ? 1 : 0);
    if (!cOwned) copyBlock(C, cOff, stage[2], 0, cSpan);
  };
  return {
    name: 'wasm',
    matmul: matmulOp,
    matmulABt: matmulABtOp,
    matmulAtB: make('matmulAtB[wasm]', () => k.matmulAtB, true, false),
    addBias,
    sumRows: sumRowsOp,
    foldBlocks: foldOp,
    packedLength,
    packB,
    matmulPacked,
    gates: wasmGates(arena, stage[0]),
  };
}

/** Elements of B[K,N] packed for matmulPacked: K rows of N columns rounded up to whole 8-column panels. */
export function packedLength(K: number, N: number): number {
  return K * (Math.ceil(N / NR) * NR);
}

/**
 * Elements of the packed panels of a recurrent cell's workspace with G gate blocks (1 tanh RNN, 3 GRU, 4 LSTM) of H
 * units that packs U (fast/ops.ts packsU): the cells' Up (+ the GRU's Uph), for lib/memory.ts's estimate.
 */
export function recurrentPackedLength(G: number, H: number): number {
  if (G === 3) return Math.max(packedLength(H, 2 * H), packedLength(3 * H, H)) + packedLength(H, H);
  return Math.max(packedLength(H, G * H), packedLength(G * H, H));
}

/**
 * P ← B[K,N] (transposed: B(k, j) = B[bOff + j·ldb + k], else B[bOff + k·ldb + j]) in the layout the GEMM engine
 * (module.ts) packs per block and matmulPacked reads: for each block of NC columns jc, each block of KC k-values pc,
 * panels of NR columns, k-major, P[panel][k][NR], the last panel zero-padded; block (jc, pc) starts at jc·K + pc·nc8.
 * A copy of the same floats: products on P give the bits of products on B.
 */
export function packPanels(
  P: FloatArray,
  B: FloatArray,
  bOff: number,
  ldb: number,
  K: number,
  N: number,
  transposed: boolean,
): void {
  const sK = transposed ? 1 : ldb,
    sJ = transposed ? ldb : 1;
  let p = 0;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      for (let jr = 0; jr < nc; jr += NR) {
        const nr = Math.min(NR, nc - jr);
        const base = bOff + (jc + jr) * sJ;
        if (nr === NR) {
          // A whole panel, unrolled for NR = 8: the common case, and several times faster than the loop below.
          for (let k = pc, row = base + pc * sK; k < pc + kc; k++, row += sK, p += 8) {
            P[p] = B[row];
            P[p + 1] = B[row + sJ];
            P[p + 2] = B[row + 2 * sJ];
            P[p + 3] = B[row + 3 * sJ];
            P[p + 4] = B[row + 4 * sJ];
            P[p + 5] = B[row + 5 * sJ];
            P[p + 6] = B[row + 6 * sJ];
            P[p + 7] = B[row + 7 * sJ];
          }
          continue;
        }
        for (let k = pc; k < pc + kc; k++) {
          const row = base + k * sK;
          let q = 0;
          for (; q < nr; q++) P[p++] = B[row + q * sJ];
          for (; q < NR; q++) P[p++] = 0;
        }
      }
    }
  }
}

/**
 * The gate kernels of gates.ts bound to an arena. Every array must be a live view on the arena (a workspace's own
 * buffers are), else a RangeError; each call checks the n-element span it touches. The one exception is the backward
 * kernels' dhSeq (the upstream gradient, which the next layer owns): a Float32Array outside the arena is copied into
 * `stage` (a view on the arena; without one it is a RangeError). Float64 operands are rejected: the cells keep their
 * TypeScript loops for those.
 */
export function wasmGates(arena: WasmArena, stage?: Float32Array): GateOps {
  const k = arena.kernels;
  const at = (name: string, arr: FloatArray, off: number, n: number): number => {
    if (!(arr instanceof Float32Array) || !arena.isLive(arr.buffer)) {
      throw new RangeError(
        `${name}: expected a Float32Array view on the workspace's arena (did the arena grow since?)`,
      );
    }
    if (!(off >= 0 && off + n <= arr.length))
      throw new RangeError(`${name}: block [${off}, ${off + n}) outside an array of ${arr.length}`);
    return arr.byteOffset + 4 * off;
  };
  /** The byte address of dhSeq[off…+n), staged when it lies outside the arena; 0 for null. */
  const upstream = (name: string, dhSeq: FloatArray | null, off: number, n: number): number => {
    if (dhSeq === null) return 0;
    if (dhSeq instanceof Float32Array && !arena.isLive(dhSeq.buffer)) {
      if (stage === undefined || !arena.isLive(stage.buffer) || stage.length < n) {
        throw new RangeError(`${name}: dhSeq is outside the arena and there is no staging buffer of ${n} elements`);
      }
      if (!(off >= 0 && off + n <= dhSeq.length))
        throw new RangeError(`${name}: block [${off}, ${off + n}) outside an array of ${dhSeq.length}`);
      copyBlock(stage, 0, dhSeq, off, n);
      return stage.byteOffset;
    }
    return at(name, dhSeq, off, n);
  };
  return {
    tanh(y, off, n) {
      const p = at('tanh[wasm](y)', y, off, n);
      k.vtanh(p, p, n);
    },
    lstm(a, aOff, c, cOff, phiC, pOff, h, hOff, B, H) {
      const BH = B * H;
      k.lstmGates(
        at('lstmGates[wasm](a)', a, aOff, 4 * BH),
        at('lstmGates[wasm](c)', c, cOff, 2 * BH),
        at('lstmGates[wasm](phiC)', phiC, pOff, BH),
        at('lstmGates[wasm](h)', h, hOff, BH),
        B,
        H,
      );
    },
    lstmSteps(a, aOff, c, cOff, phiC, pOff, h, hOff, U, Up, T, B, H) {
      if (T === 0) return;
      const BH = B * H;
      const packed = Up.length > 0 && B >= MR;
      k.lstmSteps(
        at('lstmSteps[wasm](a)', a, aOff, T * 4 * BH),
        at('lstmSteps[wasm](c)', c, cOff, (T + 1) * BH),
        at('lstmSteps[wasm](phiC)', phiC, pOff, T * BH),
        at('lstmSteps[wasm](h)', h, hOff, (T + 1) * BH),
        packed ? 0 : at('lstmSteps[wasm](U)', U, 0, H * 4 * H),
        packed ? at('lstmSteps[wasm](Up)', Up, 0, packedLength(H, 4 * H)) : 0,
        T,
        B,
        H,
      );
    },
    gruSteps(a, h, innerH, rh, U, Up, Uph, b, T, B, H, resetAfter) {
      if (T === 0) return;
      const BH = B * H,
        G = 3 * H;
      let br = 0;
      if (resetAfter) {
        if (b instanceof Float32Array && arena.isLive(b.buffer)) br = at('gruSteps[wasm](b)', b, G, G);
        else {
          if (stage === undefined || !arena.isLive(stage.buffer) || stage.length < G)
            throw new RangeError(
              `gruSteps[wasm](b): b is outside the arena and there is no staging buffer of ${G} elements`,
            );
          if (b.length < 2 * G)
            throw new RangeError(
              `gruSteps[wasm](b): expected at least ${2 * G} elements (resetAfter), got ${b.length}`,
            );
          copyBlock(stage, 0, b, G, G); // b_r once per call (the step loop's addBias stages it per step)
          br = stage.byteOffset;
        }
      }
      const packed = Up.length > 0 && Uph.length > 0 && B >= MR;
      k.gruSteps(
        at('gruSteps[wasm](a)', a, 0, T * B * G),
        at('gruSteps[wasm](h)', h, 0, (T + 1) * BH),
        resetAfter ? at('gruSteps[wasm](innerH)', innerH, 0, T * BH) : 0,
        resetAfter ? 0 : at('gruSteps[wasm](rh)', rh, 0, T * BH),
        packed ? 0 : at('gruSteps[wasm](U)', U, 0, H * G),
        packed ? at('gruSteps[wasm](Up)', Up, 0, packedLength(H, 2 * H)) : 0,
        packed ? at('gruSteps[wasm](Uph)', Uph, 0, packedLength(H, H)) : 0,
        br,
        T,
        B,
        H,
        resetAfter ? 1 : 0,
      );
    },
    gruResetAfter(a, aOff, innerH, iOff, B, H) {
      const BH = B * H;
      k.gruGatesAfter(
        at('gruGatesAfter[wasm](a)', a, aOff, 3 * BH),
        at('gruGatesAfter[wasm](innerH)', innerH, iOff, BH),
        B,
        H,
      );
    },
    gruResetBefore(a, aOff, rh, rOff, h, hOff, B, H) {
      const BH = B * H;
      k.gruGatesBefore(
        at('gruGatesBefore[wasm](a)', a, aOff, 3 * BH),
        at('gruGatesBefore[wasm](rh)', rh, rOff, BH),
        at('gruGatesBefore[wasm](h)', h, hOff, BH),
        B,
        H,
      );
    },
    gruOutput(a, aOff, h, hOff, B, H) {
      const BH = B * H;
      k.gruOutput(
        at('gruOutput[wasm](a)', a, aOff, 3 * BH),
        at('gruOutput[wasm](h)', h, hOff, BH),
        at('gruOutput[wasm](h)', h, hOff + BH, BH),
        B,
        H,
      );
    },
    lstmBackward(dz, dh, dc, a, c, phiC, dhSeq, aOff, kOff, B, H) {
      const BH = B * H;
      k.lstmBackward(
        at('lstmBackward[wasm](dz)', dz, aOff, 4 * BH),
        at('lstmBackward[wasm](dh)', dh, 0, BH),
        at('lstmBackward[wasm](dc)', dc, 0, BH),
        upstream('lstmBackward[wasm](dhSeq)', dhSeq, kOff, BH),
        at('lstmBackward[wasm](a)', a, aOff, 4 * BH),
        at('lstmBackward[wasm](c)', c, kOff, BH),
        at('lstmBackward[wasm](phiC)', phiC, kOff, BH),
        B,
        H,
      );
    },
    gruBackwardAfter(dz, dInner, dh, a, h, innerH, dhSeq, aOff, kOff, B, H) {
      const BH = B * H;
      k.gruBackwardAfter(
        at('gruBackwardAfter[wasm](dz)', dz, aOff, 3 * BH),
        at('gruBackwardAfter[wasm](dInner)', dInner, aOff, 3 * BH),
        at('gruBackwardAfter[wasm](dh)', dh, 0, BH),
        upstream('gruBackwardAfter[wasm](dhSeq)', dhSeq, kOff, BH),
        at('gruBackwardAfter[wasm](a)', a, aOff, 3 * BH),
        at('gruBackwardAfter[wasm](h)', h, kOff, BH),
        at('gruBackwardAfter[wasm](innerH)', innerH, kOff, BH),
        B,
        H,
      );
    },
    gruBackwardBefore(dz, dh, a, h, dhSeq, aOff, kOff, B, H) {
      const BH = B * H;
      k.gruBackwardBefore(
        at('gruBackwardBefore[wasm](dz)', dz, aOff, 3 * BH),
        at('gruBackwardBefore[wasm](dh)', dh, 0, BH),
        upstream('gruBackwardBefore[wasm](dhSeq)', dhSeq, kOff, BH),
        at('gruBackwardBefore[wasm](a)', a, aOff, 3 * BH),
        at('gruBackwardBefore[wasm](h)', h, kOff, BH),
        B,
        H,
      );
    },
    gruBackwardReset(dz, dh, drh, a, h, aOff, kOff, B, H) {
      const BH = B * H;
      k.gruBackwardReset(
        at('gruBackwardReset[wasm](dz)', dz, aOff, 3 * BH),
        at('gruBackwardReset[wasm](dh)', dh, 0, BH),
        at('gruBackwardReset[wasm](drh)', drh, 0, BH),
        at('gruBackwardReset[wasm](a)', a, aOff, 3 * BH),
        at('gruBackwardReset[wasm](h)', h, kOff, BH),
        B,
        H,
      );
    },
    tanhBackward(dz, dh, h, dhSeq, zOff, hOff, n) {
      k.tanhBackward(
        at('tanhBackward[wasm](dz)', dz, zOff, n),
        at('tanhBackward[wasm](dh)', dh, 0, n),
        upstream('tanhBackward[wasm](dhSeq)', dhSeq, zOff, n),
        at('tanhBackward[wasm](h)', h, hOff, n),
        n,
      );
    },
  };
}

/**
 * Allocates a float32 workspace's buffers and three staging buffers of `stageLen` elements in one allocF32s on the arena
 * and returns the buffers with the bound ops.
 */
export function wasmWorkspaceBuffers(
  arena: WasmArena,
  sizes: readonly number[],
  stageLen: number,
): { bufs: Float32Array[]; ops: MatOps } {
  const all = arena.allocF32s(...sizes, stageLen, stageLen, stageLen);
  const bufs = all.slice(0, sizes.length);
  const stage = all.slice(sizes.length) as [Float32Array, Float32Array, Float32Array];
  return { bufs, ops: wasmOps(arena, stage) };
}

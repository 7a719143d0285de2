/**
 * MatOps over the WebAssembly SIMD kernels, bound to one arena, for a workspace whose own buffers live in that arena.
 *
 * Operands that are live Float32Array views on the arena go to the kernels as they are (no copy). Any other operand (a
 * parameter or gradient in an ordinary Float32Array, a Float64Array, the caller's input) is copied into one of three
 * staging buffers of the arena first — the [rows, ld] span the product touches — and C is copied back after the
 * product. The staging buffers are allocated with the workspace (one allocF32s), so no product grows the memory.
 */
import type { FloatArray } from '../matmul';
import type { MatOps, MatProduct } from '../ops';
import { WasmArena } from './arena';

type Kernel = (c: number, ldc: number, a: number, lda: number, b: number, ldb: number,
               M: number, K: number, N: number, acc: number) => void;

/** The span [off, off + span) of a [rows, cols] block with leading dimension ld. */
const spanOf = (rows: number, cols: number, ld: number): number => (rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols);

/**
 * stage: three arena views (A, B, C), each at least as long as the largest block of a non-arena operand the workspace
 * will pass. A staged operand that does not fit is a RangeError.
 */
export function wasmOps(arena: WasmArena, stage: readonly [Float32Array, Float32Array, Float32Array]): MatOps {
  const owned = (arr: FloatArray): boolean => arr instanceof Float32Array && arr.buffer === arena.memory.buffer;
  const ptr = (name: string, arr: FloatArray, off: number, span: number, slot: number, copy: boolean): number => {
    if (span === 0) return arena.heapBase;
    if (owned(arr)) {
      if (off < 0 || off + span > arr.length) throw new RangeError(`${name}: block [${off}, ${off + span}) outside an array of ${arr.length}`);
      return arr.byteOffset + 4 * off;
    }
    const s = stage[slot];
    if (s.buffer !== arena.memory.buffer || s.length < span) {
      throw new RangeError(`${name}: staging buffer ${slot} holds ${s.length} elements (or is detached), the block needs ${span}`);
    }
    if (arr.length < off + span) throw new RangeError(`${name}: block [${off}, ${off + span}) outside an array of ${arr.length}`);
    if (copy) s.set(arr.subarray(off, off + span));
    return s.byteOffset;
  };
  const make = (name: string, kernel: () => Kernel, aRowsIsK: boolean, bRowsIsN: boolean): MatProduct =>
    (C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, K, N, accumulate) => {
      if (M === 0 || N === 0) return;
      const cSpan = spanOf(M, N, ldc);
      const aSpan = aRowsIsK ? spanOf(K, M, lda) : spanOf(M, K, lda);
      const bSpan = bRowsIsN ? spanOf(N, K, ldb) : spanOf(K, N, ldb);
      const a = ptr(`${name}(A)`, A, aOff, aSpan, 0, true);
      const b = ptr(`${name}(B)`, B, bOff, bSpan, 1, true);
      // C is copied in even when overwritten: with ldc > N the span holds columns that are not ours to change.
      const cOwned = owned(C);
      const c = ptr(`${name}(C)`, C, cOff, cSpan, 2, true);
      kernel()(c, ldc, a, lda, b, ldb, M, K, N, accumulate ? 1 : 0);
      if (!cOwned) C.set(stage[2].subarray(0, cSpan), cOff);
    };
  const k = arena.kernels;
  return {
    name: 'wasm',
    matmul: make('matmul[wasm]', () => k.matmul, false, false),
    matmulABt: make('matmulABt[wasm]', () => k.matmulABt, false, true),
    matmulAtB: make('matmulAtB[wasm]', () => k.matmulAtB, true, false),
  };
}

/**
 * Allocates a float32 workspace's buffers and three staging buffers of `stageLen` elements in one allocF32s on the arena
 * and returns the buffers with the bound ops.
 */
export function wasmWorkspaceBuffers(arena: WasmArena, sizes: readonly number[], stageLen: number):
    { bufs: Float32Array[]; ops: MatOps } {
  const all = arena.allocF32s(...sizes, stageLen, stageLen, stageLen);
  const bufs = all.slice(0, sizes.length);
  const stage = all.slice(sizes.length) as [Float32Array, Float32Array, Float32Array];
  return { bufs, ops: wasmOps(arena, stage) };
}

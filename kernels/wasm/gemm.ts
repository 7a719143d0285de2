/**
 * WebAssembly SIMD matrix products: the checked façade over module.ts, with the argument order of kernels/matmul.ts.
 *
 *   matmulWasm     C[M,N] (+)= A[M,K] · B[K,N]
 *   matmulABtWasm  C[M,N] (+)= A[M,K] · B[N,K]ᵀ
 *   matmulAtBWasm  C[M,N] (+)= A[K,M]ᵀ · B[K,N]
 *
 * Operands are (Float32Array, offset, leading dimension) as in matmul.ts, but every array must be a view on the arena's
 * memory (arena.ts: `allocF32`, `f32`); anything else is a RangeError, and so is a view detached by a growth of the
 * memory. The arena is the default one unless passed last. M < 4 runs the unpacked matrix–vector kernels (batch 1).
 *
 * Numbers: f32 products and f32 sums in k order (see module.ts), where matmul.ts sums in float64. For the same operands
 * |C_wasm − C_js| ≤ (K + 3)·2⁻²⁴·(Σ_k |A(i,k)·B(k,j)| + |C₀(i,j)|), and a row's result does not depend on the other
 * rows of the batch, on its position in it, or on M (batch 1 and batch B give the same bits).
 *
 * @example
 * ```text
 * const arena = wasmArena();
 * const A = arena.allocF32(2 * 3), B = arena.allocF32(3 * 2), C = arena.allocF32(2 * 2);
 * A.set([1, 2, 3, 4, 5, 6]); B.set([1, 0, 0, 1, 1, 1]);
 * matmulWasm(C, 0, 2, A, 0, 3, B, 0, 2, 2, 3, 2, false);   // C = [4, 5, 10, 11]
 * ```
 */
import { type WasmArena, wasmArena } from './arena.js';

export {
  WasmArena,
  WasmArenaOptions,
  WasmKernel,
  attachWasmArena,
  setWasmKernel,
  wasmArena,
  wasmFmaFused,
  wasmKernel,
  wasmRelaxedSimdAvailable,
  wasmSimdAvailable,
  SCRATCH_BYTES,
} from './arena.js';

function dims(name: string, M: number, K: number, N: number): void {
  if (!(Number.isInteger(M) && Number.isInteger(K) && Number.isInteger(N)) || M < 0 || K < 0 || N < 0) {
    throw new RangeError(`${name}: dimensions must be non-negative integers, got M=${M}, K=${K}, N=${N}`);
  }
}

/** Checks a [rows, cols] block at `off` with leading dimension `ld` of `arr` and returns its byte address. */
function operand(
  arena: WasmArena,
  name: string,
  arr: Float32Array,
  off: number,
  rows: number,
  cols: number,
  ld: number,
): number {
  if (!Number.isInteger(off) || off < 0)
    throw new RangeError(`${name}: offset must be a non-negative integer, got ${off}`);
  if (!Number.isInteger(ld) || cols > ld)
    throw new RangeError(`${name}: leading dimension ${ld} is smaller than the row length ${cols}`);
  const span = rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
  const ptr = arena.address(name, arr, off, span);
  if (arr.length < off + span) {
    throw new RangeError(
      `${name}: expected at least ${off + span} elements for a [${rows},${cols}] block at offset ${off} ` +
        `(leading dimension ${ld}), got ${arr.length}`,
    );
  }
  return ptr;
}

/** C[M,N] (+)= A[M,K] · B[K,N]. */
export function matmulWasm(
  C: Float32Array,
  cOff: number,
  ldc: number,
  A: Float32Array,
  aOff: number,
  lda: number,
  B: Float32Array,
  bOff: number,
  ldb: number,
  M: number,
  K: number,
  N: number,
  accumulate: boolean,
  arena: WasmArena = wasmArena(),
): void {
  dims('matmulWasm', M, K, N);
  const c = operand(arena, 'matmulWasm(C)', C, cOff, M, N, ldc);
  const a = operand(arena, 'matmulWasm(A)', A, aOff, M, K, lda);
  const b = operand(arena, 'matmulWasm(B)', B, bOff, K, N, ldb);
  arena.kernels.matmul(c, ldc, a, lda, b, ldb, M, K, N, accumulate ? 1 : 0);
}

/** C[M,N] (+)= A[M,K] · B[N,K]ᵀ, that is C[i,j] (+)= Σ_k A[i,k]·B[j,k]. */
export function matmulABtWasm(
  C: Float32Array,
  cOff: number,
  ldc: number,
  A: Float32Array,
  aOff: number,
  lda: number,
  B: Float32Array,
  bOff: number,
  ldb: number,
  M: number,
  K: number,
  N: number,
  accumulate: boolean,
  arena: WasmArena = wasmArena(),
): void {
  dims('matmulABtWasm', M, K, N);
  const c = operand(arena, 'matmulABtWasm(C)', C, cOff, M, N, ldc);
  const a = operand(arena, 'matmulABtWasm(A)', A, aOff, M, K, lda);
  const b = operand(arena, 'matmulABtWasm(B)', B, bOff, N, K, ldb);
  arena.kernels.matmulABt(c, ldc, a, lda, b, ldb, M, K, N, accumulate ? 1 : 0);
}

/** C[M,N] (+)= A[K,M]ᵀ · B[K,N], that is C[i,j] (+)= Σ_k A[k,i]·B[k,j]. */
export function matmulAtBWasm(
  C: Float32Array,
  cOff: number,
  ldc: number,
  A: Float32Array,
  aOff: number,
  lda: number,
  B: Float32Array,
  bOff: number,
  ldb: number,
  M: number,
  K: number,
  N: number,
  accumulate: boolean,
  arena: WasmArena = wasmArena(),
): void {
  dims('matmulAtBWasm', M, K, N);
  const c = operand(arena, 'matmulAtBWasm(C)', C, cOff, M, N, ldc);
  const a = operand(arena, 'matmulAtBWasm(A)', A, aOff, K, M, lda);
  const b = operand(arena, 'matmulAtBWasm(B)', B, bOff, K, N, ldb);
  arena.kernels.matmulAtB(c, ldc, a, lda, b, ldb, M, K, N, accumulate ? 1 : 0);
}

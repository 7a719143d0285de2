/**
 * What a cell workspace calls besides its own loops, as one object chosen when the workspace is built: the three matrix
 * products and the bias add, and optionally the forward gate kernels of one time step. `jsOps` is the TypeScript products of matmul.ts
 * (the default and the reference) and no gate kernels: the cells then run their own loops. The wasm ops (wasm/ops.ts)
 * bind the WebAssembly SIMD products and gate kernels to an arena. Argument order is that of matmul.ts; outputs first
 * where there is a single output, otherwise the arrays in the order the cell's doc comment names them.
 */
import { type FloatArray, MATVEC_ROWS, addBias, matmul, matmulABt, matmulAtB, sumRows } from '../matmul.js';

export type MatProduct = (
  C: FloatArray,
  cOff: number,
  ldc: number,
  A: FloatArray,
  aOff: number,
  lda: number,
  B: FloatArray,
  bOff: number,
  ldb: number,
  M: number,
  K: number,
  N: number,
  accumulate: boolean,
) => void;

/**
 * The gate math of one step of each cell for the default activations (σ = sigmoid, φ = tanh), over a whole [B, …] block
 * of rows per call; the exact contract is in wasm/gates.ts. The forward kernels do what the cell's own loop does, in f32;
 * the backward kernels do it in float64 like the loop, so they give its bits.
 */
export interface GateOps {
  /** y[off…off+n) ← tanh(y) in place (the tanh RNN's step). */
  tanh(y: FloatArray, off: number, n: number): void;
  /**
   * LSTM: a[aOff…+B·4H) holds z = [i|f|g|o] and receives [σ(z_i)|σ(z_f)|φ(z_g)|σ(z_o)]; c_{t-1} = c[cOff…+B·H),
   * c_t = f⊙c_{t-1} + i⊙g into c[cOff+B·H…+B·H); phiC[pOff…+B·H) ← φ(c_t); h[hOff…+B·H) ← o⊙φ(c_t).
   */
  lstm(
    a: FloatArray,
    aOff: number,
    c: FloatArray,
    cOff: number,
    phiC: FloatArray,
    pOff: number,
    h: FloatArray,
    hOff: number,
    B: number,
    H: number,
  ): void;
  /**
   * The LSTM's whole forward time loop for steps 0…T−1 of a workspace: per step z_t += h_{t-1}·U, then lstm(...) as
   * above, with a[aOff…+T·B·4H) the steps' z (x·W + b already in), c[cOff…+(T+1)·B·H) and h[hOff…+(T+1)·B·H) with the
   * initial state in block 0, phiC[pOff…+T·B·H). U [H,4H] is read from Up, its panels packed by packB, when Up is not
   * empty and B ≥ 4, else from U. The same calls as the loop over matmulPacked and lstm, without leaving the kernels
   * between steps. Optional: without it the cell runs that loop itself. It calls the kernels' own products, so a
   * MatOps that replaces matmulPacked or packB must leave it out.
   */
  lstmSteps?(
    a: FloatArray,
    aOff: number,
    c: FloatArray,
    cOff: number,
    phiC: FloatArray,
    pOff: number,
    h: FloatArray,
    hOff: number,
    U: FloatArray,
    Up: FloatArray,
    T: number,
    B: number,
    H: number,
  ): void;
  /**
   * The GRU's whole forward time loop over a workspace's buffers from their start: a [T,B,3H] (x·W + b_x already in),
   * h [T+1,B,H] (initial state in block 0), innerH (resetAfter) or rh (classic) [T,B,H]; U [H,3H] or its panels Up
   * (columns 0…2H) and Uph (U_h) when both are packed and B ≥ 4; b the whole bias (resetAfter reads b_r = b[3H…6H)).
   * The calls and their order are those of the cell's loop. A bias outside the arena is staged once per call.
   * Optional, like lstmSteps, and like it to be left out by a MatOps that replaces the products.
   */
  gruSteps?(
    a: FloatArray,
    h: FloatArray,
    innerH: FloatArray,
    rh: FloatArray,
    U: FloatArray,
    Up: FloatArray,
    Uph: FloatArray,
    b: FloatArray,
    T: number,
    B: number,
    H: number,
    resetAfter: boolean,
  ): void;
  /** GRU, resetAfter: over a[aOff…+B·3H) = [a_z|a_r|a_h]: z = σ(a_z), r = σ(a_r) in place; a_h += r⊙innerH[iOff…+B·H). */
  gruResetAfter(a: FloatArray, aOff: number, innerH: FloatArray, iOff: number, B: number, H: number): void;
  /** GRU, classic: z = σ(a_z), r = σ(a_r) in place; rh[rOff…+B·H) ← r⊙h_{t-1}, h_{t-1} = h[hOff…+B·H). */
  gruResetBefore(
    a: FloatArray,
    aOff: number,
    rh: FloatArray,
    rOff: number,
    h: FloatArray,
    hOff: number,
    B: number,
    H: number,
  ): void;
  /** GRU, both: h̃ = φ(a_h) in place; h_t = z⊙h_{t-1} + (1−z)⊙h̃, h_{t-1} = h[hOff…+B·H), h_t = h[hOff+B·H…+B·H). */
  gruOutput(a: FloatArray, aOff: number, h: FloatArray, hOff: number, B: number, H: number): void;

  // Backward: the per-step gradient loops of the cells, with the same bits as those loops (float64 arithmetic in the
  // same order, rounded to f32 on store). a, dz (and dInner) at aOff are [B, G·H]; c, phiC, h, innerH, dhSeq at kOff are
  // [B, H] blocks; dh, dc, drh are whole [B, H] buffers. dhSeq null: no per-step upstream gradient. dhSeq may be any
  // Float32Array (it is copied into the arena when it is not a view on it); everything else must live in the arena.
  /** LSTM: dz_t = [di⊙σ'(i), df⊙σ'(f), dg⊙φ'(g), do⊙σ'(o)] and dc ← dc⊙f from dh (+ dhSeq_t), as lstm.ts's loop. */
  lstmBackward(
    dz: FloatArray,
    dh: FloatArray,
    dc: FloatArray,
    a: FloatArray,
    c: FloatArray,
    phiC: FloatArray,
    dhSeq: FloatArray | null,
    aOff: number,
    kOff: number,
    B: number,
    H: number,
  ): void;
  /** GRU, resetAfter: dz_t, dInner_t and dh ← dh⊙z from dh (+ dhSeq_t), h_{t-1} = h block kOff, innerH_t. */
  gruBackwardAfter(
    dz: FloatArray,
    dInner: FloatArray,
    dh: FloatArray,
    a: FloatArray,
    h: FloatArray,
    innerH: FloatArray,
    dhSeq: FloatArray | null,
    aOff: number,
    kOff: number,
    B: number,
    H: number,
  ): void;
  /** GRU, classic, before drh = dz_h·U_hᵀ: dz_z, dz_h and dh ← dh⊙z from dh (+ dhSeq_t). */
  gruBackwardBefore(
    dz: FloatArray,
    dh: FloatArray,
    a: FloatArray,
    h: FloatArray,
    dhSeq: FloatArray | null,
    aOff: number,
    kOff: number,
    B: number,
    H: number,
  ): void;
  /** GRU, classic, after drh: dz_r = drh⊙h_{t-1}⊙σ'(r);  dh += drh⊙r. */
  gruBackwardReset(
    dz: FloatArray,
    dh: FloatArray,
    drh: FloatArray,
    a: FloatArray,
    h: FloatArray,
    aOff: number,
    kOff: number,
    B: number,
    H: number,
  ): void;
  /** tanh RNN: dz[zOff…+n) = dh + dhSeq_t (rounded to f32), then ⊙(1 − h_t²), h_t = h[hOff…+n). */
  tanhBackward(
    dz: FloatArray,
    dh: FloatArray,
    h: FloatArray,
    dhSeq: FloatArray | null,
    zOff: number,
    hOff: number,
    n: number,
  ): void;
}

export interface MatOps {
  readonly name: 'js' | 'wasm';
  readonly matmul: MatProduct;
  readonly matmulABt: MatProduct;
  readonly matmulAtB: MatProduct;
  /** C[M,N] += b[bOff…+N) on every row (matmul.ts's addBias; on the wasm path C must live in the arena). */
  readonly addBias: (
    C: FloatArray,
    cOff: number,
    ldc: number,
    b: FloatArray,
    bOff: number,
    M: number,
    N: number,
  ) => void;
  /** s[sOff…+N) += Σ_i C[cOff + i·ldc…+N) (matmul.ts's sumRows: the bias gradient; the wasm one gives its bits). */
  readonly sumRows: (
    s: FloatArray,
    sOff: number,
    C: FloatArray,
    cOff: number,
    ldc: number,
    M: number,
    N: number,
  ) => void;
  /** p[off…+n) += p[off + t·n…+n) for t = 1…count−1 in order (`foldBlocks`; the wasm one gives its bits). */
  readonly foldBlocks: (p: FloatArray, off: number, n: number, count: number) => void;
  /**
   * B packed once for many products with it (the recurrent U of a time loop): elements a packed B[K,N] takes (0 on the
   * js path, which packs nothing).
   */
  readonly packedLength: (K: number, N: number) => number;
  /**
   * P ← B in the GEMM's panel layout, where B is the [K,N] block at bOff (leading dimension ldb) or, `transposed`, the
   * [N,K] block read as Bᵀ. A copy: no arithmetic. An empty P (and the js path) packs nothing: matmulPacked then runs
   * the unpacked product.
   */
  readonly packB: (
    P: FloatArray,
    B: FloatArray,
    bOff: number,
    ldb: number,
    K: number,
    N: number,
    transposed: boolean,
  ) => void;
  /**
   * C (+)= A·B (transposed: A·Bᵀ, B an [N,K] block) with B packed in P by packB(P, B, bOff, ldb, K, N, transposed):
   * the bits of matmul (matmulABt) on B. B and its layout are passed too: the js path and batches below 4 rows (the
   * matrix–vector kernels, which read B unpacked) run the unpacked product.
   */
  readonly matmulPacked: (
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
  ) => void;
  /** Gate kernels for σ = sigmoid, φ = tanh; absent on the js path (the cells' loops are the reference). */
  readonly gates?: GateOps;
}

/**
 * Blocks 1…count−1 of n elements added into block 0, in block order: S = Σ_t dz_t for a repeated input (each `+=` on a
 * Float32Array rounds to f32, so block order is part of the result).
 */
export function foldBlocks(p: FloatArray, off: number, n: number, count: number): void {
  if (!(off >= 0 && n >= 0 && count >= 1 && off + count * n <= p.length)) {
    throw new RangeError(`foldBlocks(p): ${count} blocks of ${n} at offset ${off} do not fit in ${p.length} elements`);
  }
  for (let t = 1; t < count; t++) for (let k = off, o = off + t * n; k < off + n; k++, o++) p[k] += p[o];
}

export const jsOps: MatOps = {
  name: 'js',
  matmul,
  matmulABt,
  matmulAtB,
  addBias,
  sumRows,
  foldBlocks,
  packedLength: () => 0,
  packB: () => {},
  matmulPacked: (C, cOff, ldc, A, aOff, lda, _P, B, bOff, ldb, transposed, M, K, N, accumulate) =>
    (transposed ? matmulABt : matmul)(C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, K, N, accumulate),
};

/** The cells' inPlaceBackward option: undefined (false) or a boolean, else a TypeError naming it. */
export function inPlaceOption(fn: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean')
    throw new TypeError(`${fn}(options.inPlaceBackward): expected a boolean, got ${String(v)}`);
  return v;
}

/**
 * Sequences of at least this many steps pack U once per call (ws.Up, packB/matmulPacked); a single step (the attention
 * decoder's cells) packs it inside its one product as before, where the wasm packer is faster than packB's copy.
 */
export const PACK_MIN_STEPS = 2;

/**
 * Whether a recurrent workspace of T steps and batch B on the wasm path packs U once per call (ws.Up) rather than keep a
 * plain copy (ws.Uw): B of MATVEC_ROWS or more (smaller batches run the matrix–vector kernels, which read U unpacked)
 * and T ≥ PACK_MIN_STEPS.
 */
export function packsU(T: number, B: number): boolean {
  return B >= MATVEC_ROWS && T >= PACK_MIN_STEPS;
}

/**
 * The recurrent kernel U for the products of a time loop: U itself, or on the wasm path its copy in the workspace's
 * arena buffer `Uw` (made once per forward or backward call, so the products of every step find their operand in the
 * arena instead of staging it per step). Uw has U's length on the wasm path unless the workspace packs U once per call
 * (packsU: packB, matmulPacked), and is empty otherwise.
 */
export function residentU(Uw: FloatArray, U: FloatArray): FloatArray {
  if (Uw.length === 0) return U;
  Uw.set(U);
  return Uw;
}

/**
 * FAST twin of ../rnn.ts (the reference cell, whose loops and header equations these follow; spec/kernels/fast.spec.ts
 * holds this file to it): same functions and arguments, plus the wasm path, arenas, fused gates and the Uᵀ form.
 * Simple (Elman) RNN over a sequence, forward and backward. Keras SimpleRNN.
 *
 * Symbols: T steps, B sequences, D input features, H units. φ = activation (default tanh).
 * Layout (time-major, row-major): x[T,B,D]; h[T+1,B,H] with block 0 = h0 and block t+1 = h_t (the state after step t);
 * dz[T,B,H] pre-activation gradients.
 * Weights: W[D,H], U[H,H], b[H].
 *
 * Forward   Z = X·W + b                   (one GEMM over all T·B rows, written straight into h blocks 1…T)
 *           z_t += h_{t-1}·U              (the only GEMM in the time loop)
 *           h_t = φ(z_t)                  (in place)
 * Backward  dh ← dhT (or 0); then for t = T-1…0:
 *           dh += dhSeq_t;   dz_t = dh⊙φ'(h_t)   (derivative from the output: tanh' = 1 − h_t², …);   dh ← dz_t·Uᵀ
 *           after the loop:  dW += Xᵀ·dZ,   dU += H_prevᵀ·dZ (H_prev = h blocks 0…T-1),   db += Σ_rows dZ,
 *                            dx = dZ·Wᵀ (if dx is given);   dh0 = dh
 * Repeated input (xRepeated, a RepeatVector in front): x[B,D] is every step's input, so Z = x·W + b over B rows, copied to
 *           every step; backward sums S = Σ_t dz_t, then dW += xᵀ·S, dx = S·Wᵀ. On the js path a batch below MATVEC_ROWS computes
 *           h·U as dot products over the rows of Uᵀ (ws.Ut), the faster matrix–vector form there. On the wasm path (a float32
 *           workspace in an arena) φ = tanh of a step is one call of ws.ops.gates.tanh over the [B,H] block (f32x4
 *           WebAssembly SIMD, wasm/gates.ts) and dz_t of a backward step one call of ws.ops.gates.tanhBackward (f64x2:
 *           the bits of this file's loops); U (Uᵀ in the backward) is packed into the GEMM's panels once per call (ws.Up), not per step. activations.ts and this
 *           file's js loops run everywhere else.
 *
 * Conventions (see README.md): outputs first; parameter gradients are ADDED into (the caller zeroes them once per step),
 * dx and dh0 are overwritten. The forward reads h0 from block 0 of ws.h (zeros after allocation; the caller may write it).
 * Nothing inside a time loop allocates. Lengths are checked on entry (RangeError naming the argument).
 *
 * @example
 * ```text
 * const ws = rnnWorkspace(T, B, D, H, Float64Array);             // activation 'tanh'
 * rnnForward(ws, { W, U, b }, x);                                // ws.h.subarray(B*H) now holds h_1…h_T
 * rnnBackward({ dW, dU, db }, dx, dh0, dhSeq, null, ws, { W, U, b }, x);
 * ```
 */
import { type FloatArray, MATVEC_ROWS, transpose } from '../matmul.js';
import { type MatOps, jsOps, packsU, residentU } from './ops.js';
import type { WasmArena } from '../wasm/arena.js';
import { recurrentPackedLength, wasmWorkspaceBuffers } from '../wasm/ops.js';
import { Act, activationCode, activate, activateBackward } from '../activations.js';
import { checkWorkspace } from '../check.js';
import {
  type RnnGrads,
  type RnnOptions as RnnReferenceOptions,
  type RnnParams,
  type RnnWorkspace as RnnReferenceWorkspace,
  checkRnnGrads,
  checkRnnParams,
} from '../rnn.js';

export type { RnnGrads, RnnParams };

export interface RnnOptions extends RnnReferenceOptions {
  /** Float32 only: buffers in this wasm arena, products on the WebAssembly SIMD kernels (see LstmOptions.arena). */
  arena?: WasmArena;
}

/** The reference workspace (../rnn.ts: the same buffers, the same layout) and what the fast path adds to it. */
export interface RnnWorkspace extends RnnReferenceWorkspace {
  /** [H,H]: Uᵀ, on the js path for a batch below MATVEC_ROWS (streaming: h·U as dot products); length 0 otherwise. */
  readonly Ut: FloatArray;
  /** [H,H]: the wasm path's copy of U in the arena (residentU) when the workspace does not pack U (packsU); else empty. */
  readonly Uw: FloatArray;
  /** The wasm path's U (forward) or Uᵀ (backward) packed once per call (ops.packB) when packsU(T, B); else empty. */
  readonly Up: FloatArray;
  /** The matrix products (jsOps, or wasm ones bound to the arena the buffers live in). */
  readonly ops: MatOps;
}

const OPTION_KEYS: readonly string[] = ['activation', 'arena'];

/** Allocates every buffer a forward/backward pair needs for one (T, B), in the given float type. */
export function rnnWorkspace(
  T: number,
  B: number,
  D: number,
  H: number,
  ctor: Float32ArrayConstructor | Float64ArrayConstructor,
  options: RnnOptions = {},
): RnnWorkspace {
  checkWorkspace('rnnWorkspace', { T, B, D, H }, ctor, options, OPTION_KEYS);
  const act = activationCode(options.activation ?? 'tanh', 'activation');
  const BH = B * H;
  const wasm = options.arena !== undefined;
  const sizes = [
    (T + 1) * BH,
    T * BH,
    BH,
    B < MATVEC_ROWS && !wasm ? H * H : 0,
    wasm && !packsU(T, B) ? H * H : 0,
    wasm && packsU(T, B) ? recurrentPackedLength(1, H) : 0,
  ];
  let bufs: FloatArray[],
    ops: MatOps = jsOps;
  if (options.arena !== undefined) {
    if (ctor !== Float32Array) throw new TypeError('rnnWorkspace(options.arena): the wasm kernels need Float32Array');
    ({ bufs, ops } = wasmWorkspaceBuffers(options.arena, sizes, Math.max(T * B * D, D * H, H * H, T * BH)));
  } else {
    bufs = sizes.map((n) => new ctor(n));
  }
  const [h, dz, dh, Ut, Uw, Up] = bufs;
  return { T, B, D, H, act, h, dz, dh, Ut, Uw, Up, ops };
}

/**
 * Runs the RNN over x[T,B,D] from the initial state in block 0 of ws.h; fills blocks 1…T of ws.h.
 * xRepeated: x is one step x[B,D] fed at every step (a RepeatVector in front): Z = x·W + b is computed once and copied.
 */
export function rnnForward(ws: RnnWorkspace, p: RnnParams, x: FloatArray, xRepeated = false): void {
  checkRnnParams('rnnForward', ws, p, x, xRepeated);
  const { T, B, D, H, act, h } = ws;
  const { W, b } = p;
  const { matmul, matmulABt, matmulPacked, addBias } = ws.ops;
  const BH = B * H;

  // Z = X·W + b for all T·B rows, into h blocks 1…T (repeated input: block 1 once, then copied).
  const rows = xRepeated ? B : T * B;
  matmul(h, BH, H, x, 0, D, W, 0, H, rows, D, H, false);
  addBias(h, BH, H, b, 0, rows, H);
  if (xRepeated) for (let t = 2; t <= T; t++) h.copyWithin(t * BH, BH, 2 * BH);

  const dotForm = ws.Ut.length > 0; // js path, batch 1–3: h·U as dot products over rows of Uᵀ
  const gates = act === Act.Tanh ? ws.ops.gates : undefined; // wasm path: φ = tanh in f32x4 SIMD (wasm/gates.ts)
  if (dotForm) transpose(ws.Ut, p.U, H, H);
  const U = dotForm ? p.U : residentU(ws.Uw, p.U);
  const Up = ws.Up;
  if (!dotForm) ws.ops.packB(Up, U, 0, H, H, H, false); // once per call: every step's product reads these panels
  for (let t = 0; t < T; t++) {
    const prev = t * BH,
      next = prev + BH;
    if (dotForm)
      matmulABt(h, next, H, h, prev, H, ws.Ut, 0, H, B, H, H, true); // z_t += h_{t-1}·U (as h·(Uᵀ)ᵀ)
    else matmulPacked(h, next, H, h, prev, H, Up, U, 0, H, false, B, H, H, true); // z_t += h_{t-1}·U
    if (gates !== undefined)
      gates.tanh(h, next, BH); // h_t = φ(z_t)
    else activate(act, h, next, BH);
  }
}

/**
 * Backpropagation through time for the forward pass cached in ws (call rnnForward with the same p, x and xRepeated first).
 * dhSeq[T,B,H]: dL/dh_t for every step, or null; dhT[B,H]: extra dL/dh_T, or null.
 * Adds into g.dW, g.dU, g.db; writes dx[T,B,D] (unless null) and dh0[B,H].
 * xRepeated: x and dx are [B,D], dx = Σ_t dL/dx_t; with S = Σ_t dz_t, dW += xᵀ·S and dx = S·Wᵀ.
 */
export function rnnBackward(
  g: RnnGrads,
  dx: FloatArray | null,
  dh0: FloatArray,
  dhSeq: FloatArray | null,
  dhT: FloatArray | null,
  ws: RnnWorkspace,
  p: RnnParams,
  x: FloatArray,
  xRepeated = false,
): void {
  const fn = 'rnnBackward';
  const { T, B, D, H, act, h, dz, dh } = ws;
  const { matmulABt, matmulAtB, matmulPacked, sumRows, foldBlocks } = ws.ops;
  const BH = B * H;
  checkRnnGrads(fn, ws, g, dx, dh0, dhSeq, dhT, xRepeated);
  checkRnnParams(fn, ws, p, x, xRepeated);
  const W = p.W,
    U = residentU(ws.Uw, p.U);
  const Up = ws.Up;
  ws.ops.packB(Up, U, 0, H, H, H, true); // Uᵀ, once per call: every step's dz_t·Uᵀ reads these panels

  if (dhT !== null) dh.set(dhT);
  else dh.fill(0);
  // wasm path, φ = tanh: the two loops below as one call per step (wasm/gates.ts, float64 like them: the same bits).
  const gates = act === Act.Tanh && (dhSeq === null || dhSeq instanceof Float32Array) ? ws.ops.gates : undefined;

  for (let t = T - 1; t >= 0; t--) {
    const zStep = t * BH; // dz_t in dz, dhSeq_t in dhSeq
    const next = zStep + BH; // h_t in h
    if (gates !== undefined) {
      gates.tanhBackward(dz, dh, h, dhSeq, zStep, next, BH); // the two loops below in one call
    } else {
      if (dhSeq !== null) {
        for (let k = 0; k < BH; k++) dz[zStep + k] = dh[k] + dhSeq[zStep + k];
      } else {
        for (let k = 0; k < BH; k++) dz[zStep + k] = dh[k];
      }
      activateBackward(act, dz, zStep, h, next, BH); // dz_t = dh⊙φ'(h_t)
    }
    matmulPacked(dh, 0, H, dz, zStep, H, Up, U, 0, H, true, B, H, H, false); // dh ← dz_t·Uᵀ
  }

  const TB = T * B;
  matmulAtB(g.dU, 0, H, h, 0, H, dz, 0, H, H, TB, H, true); // dU += H_prevᵀ·dZ
  sumRows(g.db, 0, dz, 0, H, TB, H); // db += Σ dZ
  let rows = TB;
  if (xRepeated) {
    // S = Σ_t dz_t, into block 0 (dz is scratch now)
    foldBlocks(dz, 0, BH, T);
    rows = B;
  }
  matmulAtB(g.dW, 0, H, x, 0, D, dz, 0, H, D, rows, H, true); // dW += Xᵀ·dZ   (repeated: xᵀ·S)
  if (dx !== null) matmulABt(dx, 0, D, dz, 0, H, W, 0, H, rows, H, D, false); // dx = dZ·Wᵀ   (repeated: S·Wᵀ)
  dh0.set(dh);
}

/**
 * Simple (Elman) RNN over a sequence, forward and backward: the REFERENCE cell (plain loops over matmul.ts; the fast
 * twin with the WebAssembly path, arenas and the Uᵀ matrix–vector form is fast/rnn.ts, tested against this one).
 * Keras SimpleRNN.
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
 *           every step; backward sums S = Σ_t dz_t, then dW += xᵀ·S, dx = S·Wᵀ.
 *
 * Conventions (see README.md): outputs first; parameter gradients are ADDED into (the caller zeroes them once per step),
 * dx and dh0 are overwritten. The forward reads h0 from block 0 of ws.h (zeros after allocation; the caller may write it).
 * Nothing inside a time loop allocates. Lengths are checked on entry (check.ts: RangeError naming the argument).
 *
 * @example
 * ```text
 * const ws = rnnWorkspace(T, B, D, H, Float64Array);             // activation 'tanh'
 * rnnForward(ws, { W, U, b }, x);                                // ws.h.subarray(B*H) now holds h_1…h_T
 * rnnBackward({ dW, dU, db }, dx, dh0, dhSeq, null, ws, { W, U, b }, x);
 * ```
 */
import { type FloatArray, addBias, matmul, matmulABt, matmulAtB, sumRows } from './matmul.js';
import { type Act, activate, activateBackward, activationCode } from './activations.js';
import { checkLength, checkWorkspace } from './check.js';

/** Options of {@link rnnWorkspace}. */
export interface RnnOptions {
  /** φ. Default 'tanh'. */
  activation?: string;
}

/** Every buffer a rnnForward/rnnBackward pair needs for one (T, B); made by {@link rnnWorkspace}. */
export interface RnnWorkspace {
  /** Time steps. */
  readonly T: number;
  /** Batch size. */
  readonly B: number;
  /** Input features. */
  readonly D: number;
  /** Units. */
  readonly H: number;
  /** φ, the activation. */
  readonly act: Act;
  /** `[T+1,B,H]`: block 0 = h0, block t+1 = h_t. */
  readonly h: FloatArray;
  /** `[T,B,H]`: the pre-activation gradients dZ (scratch of the backward). */
  readonly dz: FloatArray;
  /** `[B,H]`: carried dL/dh. */
  readonly dh: FloatArray;
}

/** The cell's weights, Keras layout. */
export interface RnnParams {
  /** Kernel [D,H]. */
  W: FloatArray;
  /** Recurrent kernel [H,H]. */
  U: FloatArray;
  /** Bias. */
  b: FloatArray;
}
/** Gradients of the weights, same layout as {@link RnnParams}; the backward adds into them. */
export interface RnnGrads {
  /** dL/dW. */
  dW: FloatArray;
  /** dL/dU. */
  dU: FloatArray;
  /** dL/db. */
  db: FloatArray;
}

const OPTION_KEYS: readonly string[] = ['activation'];

/**
 * Allocates every buffer a forward/backward pair needs for one (T, B), in the given float type.
 *
 * @param T - Time steps.
 * @param B - Batch size.
 * @param D - Input features.
 * @param H - Units.
 * @param ctor - Float32Array or Float64Array.
 * @param options - The activations; on the fast twin, an arena.
 * @returns The buffers, zeroed.
 * @throws RangeError for a dimension that is not a positive integer; TypeError for another array type or an
 * unknown option.
 */
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
  return { T, B, D, H, act, h: new ctor((T + 1) * BH), dz: new ctor(T * BH), dh: new ctor(BH) };
}

/**
 * The length checks of the forward's arguments (and the backward's p and x).
 *
 * @param fn - The kernel's name, for messages.
 * @param ws - The workspace.
 * @param p - The weights.
 * @param x - The input.
 * @param xRepeated - x is one step [B,D] repeated.
 * @throws RangeError for a buffer of the wrong length.
 */
export function checkRnnParams(fn: string, ws: RnnWorkspace, p: RnnParams, x: FloatArray, xRepeated: boolean): void {
  const { T, B, D, H } = ws;
  // Every length right (each call of a stream): return before any message string is built.
  const xLength = xRepeated ? B * D : T * B * D;
  if (x.length === xLength && p.W.length === D * H && p.U.length === H * H && p.b.length === H) return;
  if (xRepeated) checkLength(fn, 'x', x, B * D, `B=${B},D=${D} (xRepeated)`);
  else checkLength(fn, 'x', x, T * B * D, `T=${T},B=${B},D=${D}`);
  checkLength(fn, 'W', p.W, D * H, `D=${D},H=${H}`);
  checkLength(fn, 'U', p.U, H * H, `H=${H},H=${H}`);
  checkLength(fn, 'b', p.b, H, `H=${H}`);
}

/**
 * The length checks of the backward's outputs and upstream gradients (null ones are skipped).
 *
 * @param fn - The kernel's name, for messages.
 * @param ws - The workspace.
 * @param g - The weight gradients.
 * @param dx - dL/dx, or null.
 * @param dh0 - dL/dh0.
 * @param dhSeq - dL/dh_t per step, or null.
 * @param dhT - dL/dh_T, or null.
 * @param xRepeated - x is one step [B,D] repeated.
 * @throws RangeError for a buffer of the wrong length.
 */
export function checkRnnGrads(
  fn: string,
  ws: RnnWorkspace,
  g: RnnGrads,
  dx: FloatArray | null,
  dh0: FloatArray,
  dhSeq: FloatArray | null,
  dhT: FloatArray | null,
  xRepeated: boolean,
): void {
  const { T, B, D, H } = ws;
  checkLength(fn, 'dW', g.dW, D * H, `D=${D},H=${H}`);
  checkLength(fn, 'dU', g.dU, H * H, `H=${H},H=${H}`);
  checkLength(fn, 'db', g.db, H, `H=${H}`);
  if (xRepeated) checkLength(fn, 'dx', dx, B * D, `B=${B},D=${D} (xRepeated)`);
  else checkLength(fn, 'dx', dx, T * B * D, `T=${T},B=${B},D=${D}`);
  checkLength(fn, 'dh0', dh0, B * H, `B=${B},H=${H}`);
  checkLength(fn, 'dhSeq', dhSeq, T * B * H, `T=${T},B=${B},H=${H}`);
  checkLength(fn, 'dhT', dhT, B * H, `B=${B},H=${H}`);
}

/**
 * Runs the RNN over x[T,B,D] from the initial state in block 0 of ws.h; fills blocks 1…T of ws.h.
 * xRepeated: x is one step x[B,D] fed at every step (a RepeatVector in front): Z = x·W + b is computed once and copied.
 *
 * @param ws - The workspace; block 0 of ws.h (and ws.c) holds the initial state.
 * @param p - The weights.
 * @param x - The input [T,B,D] ([B,D] when xRepeated).
 * @param xRepeated - x is one step fed at every step.
 * @throws RangeError for a buffer of the wrong length.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // T = 2 steps, batch 1, one input, one unit: W = 1, U = 0, b = 0, so h_t = tanh(x_t).
 * const ws = kernels.rnnWorkspace(2, 1, 1, 1, Float64Array);
 * const p = { W: Float64Array.of(1), U: Float64Array.of(0), b: Float64Array.of(0) };
 * kernels.rnnForward(ws, p, Float64Array.of(0.5, -0.5));
 * const want = [0, Math.tanh(0.5), Math.tanh(-0.5)]; // block 0 is h0
 * ws.h.forEach((h, i) => assert.ok(Math.abs(h - want[i]) < 1e-15));
 * ```
 */
// prettier-ignore
export function rnnForward(ws: RnnWorkspace, p: RnnParams, x: FloatArray, xRepeated = false): void {
  checkRnnParams('rnnForward', ws, p, x, xRepeated);
  const { T, B, D, H, act, h } = ws;
  const { W, U, b } = p;
  const BH = B * H;

  // Z = X·W + b for all T·B rows, into h blocks 1…T (repeated input: block 1 once, then copied).
  const rows = xRepeated ? B : T * B;
  matmul(h, BH, H, x, 0, D, W, 0, H, rows, D, H, false);
  addBias(h, BH, H, b, 0, rows, H);
  if (xRepeated) for (let t = 2; t <= T; t++) h.copyWithin(t * BH, BH, 2 * BH);

  for (let t = 0; t < T; t++) {
    const prev = t * BH, next = prev + BH;                       // h_{t-1} at prev, z_t then h_t at next
    matmul(h, next, H, h, prev, H, U, 0, H, B, H, H, true);      // z_t += h_{t-1}·U
    activate(act, h, next, BH);                                  // h_t = φ(z_t)
  }
};

/**
 * Backpropagation through time for the forward pass cached in ws (call rnnForward with the same p, x and xRepeated first).
 * dhSeq[T,B,H]: dL/dh_t for every step, or null; dhT[B,H]: extra dL/dh_T, or null.
 * Adds into g.dW, g.dU, g.db; writes dx[T,B,D] (unless null) and dh0[B,H].
 * xRepeated: x and dx are [B,D], dx = Σ_t dL/dx_t; with S = Σ_t dz_t, dW += xᵀ·S and dx = S·Wᵀ.
 *
 * @param g - Weight gradients, added into.
 * @param dx - Out: dL/dx [T,B,D] ([B,D] when xRepeated), or null to skip.
 * @param dh0 - Out: dL/dh0 [B,H].
 * @param dhSeq - dL/dh_t for every step [T,B,H], or null.
 * @param dhT - dL/dh_T of the last step [B,H], or null.
 * @param ws - The workspace of the forward.
 * @param p - The weights of the forward.
 * @param x - The input of the forward.
 * @param xRepeated - As in the forward.
 * @throws RangeError for a buffer of the wrong length.
 */
// prettier-ignore
export function rnnBackward(g: RnnGrads, dx: FloatArray | null, dh0: FloatArray,
                            dhSeq: FloatArray | null, dhT: FloatArray | null,
                            ws: RnnWorkspace, p: RnnParams, x: FloatArray, xRepeated = false): void {
  checkRnnGrads('rnnBackward', ws, g, dx, dh0, dhSeq, dhT, xRepeated);
  checkRnnParams('rnnBackward', ws, p, x, xRepeated);
  const { T, B, D, H, act, h, dz, dh } = ws;
  const BH = B * H, TB = T * B;

  if (dhT !== null) dh.set(dhT); else dh.fill(0);
  for (let t = T - 1; t >= 0; t--) {
    const zStep = t * BH, next = zStep + BH;                     // dz_t, dhSeq_t at zStep; h_t at next
    for (let k = 0; k < BH; k++) dz[zStep + k] = dhSeq !== null ? dh[k] + dhSeq[zStep + k] : dh[k];   // dh += dhSeq_t
    activateBackward(act, dz, zStep, h, next, BH);                // dz_t = dh⊙φ'(h_t)
    matmulABt(dh, 0, H, dz, zStep, H, p.U, 0, H, B, H, H, false); // dh ← dz_t·Uᵀ
  }

  matmulAtB(g.dU, 0, H, h, 0, H, dz, 0, H, H, TB, H, true);       // dU += H_prevᵀ·dZ
  sumRows(g.db, 0, dz, 0, H, TB, H);                              // db += Σ dZ
  const rows = xRepeated ? B : TB;
  if (xRepeated) for (let t = 1; t < T; t++) {                    // S = Σ_t dz_t, into block 0 (dz is scratch now)
    for (let k = 0; k < BH; k++) dz[k] += dz[t * BH + k];
  }
  matmulAtB(g.dW, 0, H, x, 0, D, dz, 0, H, D, rows, H, true);     // dW += Xᵀ·dZ   (repeated: xᵀ·S)
  if (dx !== null) matmulABt(dx, 0, D, dz, 0, H, p.W, 0, H, rows, H, D, false);   // dx = dZ·Wᵀ   (repeated: S·Wᵀ)
  dh0.set(dh);
};

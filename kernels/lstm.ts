/**
 * LSTM over a sequence, forward and backward: the REFERENCE cell (plain loops over matmul.ts; the fast twin with the
 * WebAssembly path, arenas and fused gate loops is fast/lstm.ts, tested against this one). Keras layout, gates i|f|c|o
 * (the c block is called g below).
 *
 * Symbols: T steps, B sequences, D input features, H units. σ = recurrentActivation (default sigmoid),
 * φ = activation (default tanh).
 * Layout (time-major, row-major): x[T,B,D]; h, c[T+1,B,H] with block 0 = h0, c0 and block t+1 = h_t, c_t (the state after
 * step t); a[T,B,4H] post-activation gates [i|f|g|o]; phiC[T,B,H] = φ(c_t); dz[T,B,4H] gate pre-activation gradients.
 * Weights: W[D,4H], U[H,4H], b[4H]; column block k·H..(k+1)·H of each belongs to gate k of i|f|g|o.
 *
 * Forward   Z = X·W + b                   (one GEMM over all T·B rows, written into a)
 *           z_t += h_{t-1}·U              (the only GEMM in the time loop)
 *           i, f, o = σ(z_i, z_f, z_o);   g = φ(z_g)                  (in place: a holds the gates)
 *           c_t = f⊙c_{t-1} + i⊙g;       phiC_t = φ(c_t);   h_t = o⊙phiC_t
 * Backward  dh ← dhT (or 0),  dc ← dcT (or 0); then for t = T-1…0:
 *           dh += dhSeq_t;               do = dh⊙phiC_t;    dc += dh⊙o⊙φ'(c_t)
 *           di = dc⊙g;   dg = dc⊙i;   df = dc⊙c_{t-1};   dc ← dc⊙f
 *           dz_t = [di⊙σ'(i), df⊙σ'(f), dg⊙φ'(g), do⊙σ'(o)]   (every derivative from an output: σ'(i) = i(1−i),
 *                                                               φ'(g) = 1−g², φ'(c_t) = 1−phiC_t², …)
 *           dh ← dz_t·Uᵀ
 *           after the loop:  dW += Xᵀ·dZ,   dU += H_prevᵀ·dZ (H_prev = h blocks 0…T-1),   db += Σ_rows dZ,
 *                            dx = dZ·Wᵀ (if dx is given);   dh0 = dh,   dc0 = dc
 * Repeated input (xRepeated, a RepeatVector in front: the sequence autoencoder's decoder): x[B,D] is every step's input,
 *           so Z = x·W + b over B rows, copied to every step; backward sums S = Σ_t dz_t, then dW += xᵀ·S, dx = S·Wᵀ.
 *
 * Names in the code are the names above: i, f, g, o, c, dh, dc, di, df, dg; `do` is a JavaScript keyword, so it is `dO`.
 * dh and dc are the workspace's carried [B,H] buffers (ws.dh, ws.dc), updated in place element by element as written.
 *
 * Conventions (see README.md): outputs first; parameter gradients are ADDED into (the caller zeroes them once per step),
 * dx, dh0, dc0 are overwritten. The forward reads h0, c0 from block 0 of ws.h, ws.c (zeros after allocation; the caller may
 * write them). Nothing inside a time loop allocates. Lengths are checked on entry (check.ts: RangeError naming the argument).
 *
 * @example
 * ```text
 * const ws = lstmWorkspace(T, B, D, H, Float64Array);            // activation 'tanh', recurrentActivation 'sigmoid'
 * lstmForward(ws, { W, U, b }, x);                               // ws.h.subarray(B*H) now holds h_1…h_T
 * lstmBackward({ dW, dU, db }, dx, dh0, dc0, dhSeq, null, null, ws, { W, U, b }, x);
 * ```
 */
import { type FloatArray, addBias, matmul, matmulABt, matmulAtB, sumRows } from './matmul.js';
import { type Act, activate, activateScalar, activationCode, derivativeFromOutput } from './activations.js';
import { checkLength, checkWorkspace } from './check.js';

/** Options of {@link lstmWorkspace}. */
export interface LstmOptions {
  /** φ, applied to the candidate g and to c_t. Default 'tanh'. */
  activation?: string;
  /** σ, applied to the gates i, f, o. Default 'sigmoid' (Keras; TensorFlow.js defaults to 'hardSigmoid'). */
  recurrentActivation?: string;
}

/** Every buffer a lstmForward/lstmBackward pair needs for one (T, B); made by {@link lstmWorkspace}. */
export interface LstmWorkspace {
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
  /** σ, the gate activation. */
  readonly recAct: Act;
  /** `[T+1,B,H]`: block 0 = h0, block t+1 = h_t. */
  readonly h: FloatArray;
  /** `[T+1,B,H]`: block 0 = c0, block t+1 = c_t. */
  readonly c: FloatArray;
  /** `[T,B,4H]`: post-activation gates i|f|g|o of each step. */
  readonly a: FloatArray;
  /** `[T,B,H]`: φ(c_t). */
  readonly phiC: FloatArray;
  /** `[T,B,4H]`: the gate pre-activation gradients dZ (scratch of the backward). */
  readonly dz: FloatArray;
  /** `[B,H]`: carried dL/dh. */
  readonly dh: FloatArray;
  /** `[B,H]`: carried dL/dc. */
  readonly dc: FloatArray;
}

/** The cell's weights, Keras layout. */
export interface LstmParams {
  /** Kernel [D,4H]. */
  W: FloatArray;
  /** Recurrent kernel [H,4H]. */
  U: FloatArray;
  /** Bias. */
  b: FloatArray;
}
/** Gradients of the weights, same layout as {@link LstmParams}; the backward adds into them. */
export interface LstmGrads {
  /** dL/dW. */
  dW: FloatArray;
  /** dL/dU. */
  dU: FloatArray;
  /** dL/db. */
  db: FloatArray;
}

const OPTION_KEYS: readonly string[] = ['activation', 'recurrentActivation'];

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
export function lstmWorkspace(
  T: number,
  B: number,
  D: number,
  H: number,
  ctor: Float32ArrayConstructor | Float64ArrayConstructor,
  options: LstmOptions = {},
): LstmWorkspace {
  checkWorkspace('lstmWorkspace', { T, B, D, H }, ctor, options, OPTION_KEYS);
  const act = activationCode(options.activation ?? 'tanh', 'activation');
  const recAct = activationCode(options.recurrentActivation ?? 'sigmoid', 'recurrentActivation');
  const BH = B * H,
    TBG = T * B * 4 * H;
  return {
    T,
    B,
    D,
    H,
    act,
    recAct,
    h: new ctor((T + 1) * BH),
    c: new ctor((T + 1) * BH),
    a: new ctor(TBG),
    phiC: new ctor(T * BH),
    dz: new ctor(TBG),
    dh: new ctor(BH),
    dc: new ctor(BH),
  };
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
export function checkLstmParams(fn: string, ws: LstmWorkspace, p: LstmParams, x: FloatArray, xRepeated: boolean): void {
  const { T, B, D, H } = ws;
  // Every length right (each call of a stream): return before any message string is built.
  const xLength = xRepeated ? B * D : T * B * D;
  if (x.length === xLength && p.W.length === D * 4 * H && p.U.length === H * 4 * H && p.b.length === 4 * H) return;
  if (xRepeated) checkLength(fn, 'x', x, B * D, `B=${B},D=${D} (xRepeated)`);
  else checkLength(fn, 'x', x, T * B * D, `T=${T},B=${B},D=${D}`);
  checkLength(fn, 'W', p.W, D * 4 * H, `D=${D},4H=${4 * H}`);
  checkLength(fn, 'U', p.U, H * 4 * H, `H=${H},4H=${4 * H}`);
  checkLength(fn, 'b', p.b, 4 * H, `4H=${4 * H}`);
}

/**
 * The length checks of the backward's outputs and upstream gradients (null ones are skipped).
 *
 * @param fn - The kernel's name, for messages.
 * @param ws - The workspace.
 * @param g - The weight gradients.
 * @param dx - dL/dx, or null.
 * @param dh0 - dL/dh0.
 * @param dc0 - dL/dc0.
 * @param dhSeq - dL/dh_t per step, or null.
 * @param dhT - dL/dh_T, or null.
 * @param dcT - dL/dc_T, or null.
 * @param xRepeated - x is one step [B,D] repeated.
 * @throws RangeError for a buffer of the wrong length.
 */
export function checkLstmGrads(
  fn: string,
  ws: LstmWorkspace,
  g: LstmGrads,
  dx: FloatArray | null,
  dh0: FloatArray,
  dc0: FloatArray,
  dhSeq: FloatArray | null,
  dhT: FloatArray | null,
  dcT: FloatArray | null,
  xRepeated: boolean,
): void {
  const { T, B, D, H } = ws,
    BH = `B=${B},H=${H}`;
  checkLength(fn, 'dW', g.dW, D * 4 * H, `D=${D},4H=${4 * H}`);
  checkLength(fn, 'dU', g.dU, H * 4 * H, `H=${H},4H=${4 * H}`);
  checkLength(fn, 'db', g.db, 4 * H, `4H=${4 * H}`);
  if (xRepeated) checkLength(fn, 'dx', dx, B * D, `B=${B},D=${D} (xRepeated)`);
  else checkLength(fn, 'dx', dx, T * B * D, `T=${T},B=${B},D=${D}`);
  for (const [arg, arr] of [
    ['dh0', dh0],
    ['dc0', dc0],
    ['dhT', dhT],
    ['dcT', dcT],
  ] as const)
    checkLength(fn, arg, arr, B * H, BH);
  checkLength(fn, 'dhSeq', dhSeq, T * B * H, `T=${T},${BH}`);
}

/**
 * Runs the LSTM over x[T,B,D] from the initial state in block 0 of ws.h, ws.c; fills ws.h, ws.c, ws.a, ws.phiC.
 * xRepeated: x is one step x[B,D] fed at every step (a RepeatVector in front of the cell, as in the sequence autoencoder's
 * decoder): Z = x·W + b is computed once, over B rows instead of T·B, and copied to every step.
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
 * // T = 3 steps, batch 1, D = 1 input, H = 2 units; zero weights but a forget-gate bias.
 * const ws = kernels.lstmWorkspace(3, 1, 1, 2, Float64Array);
 * const p = { W: new Float64Array(8), U: new Float64Array(16), b: new Float64Array(8) };
 * ws.c.set([1, -1]); // c0
 * kernels.lstmForward(ws, p, Float64Array.of(1, 2, 3));
 * // gates i = f = o = σ(0) = 1/2, g = tanh(0) = 0: c_t = c_{t-1}/2, h_t = tanh(c_t)/2
 * assert.ok(Math.abs(ws.c[3 * 2] - 1 / 8) < 1e-15);
 * assert.ok(Math.abs(ws.h[3 * 2 + 1] - Math.tanh(-1 / 8) / 2) < 1e-15);
 * ```
 */
// prettier-ignore
export function lstmForward(ws: LstmWorkspace, p: LstmParams, x: FloatArray, xRepeated = false): void {
  checkLstmParams('lstmForward', ws, p, x, xRepeated);
  const { T, B, D, H, act, recAct, h, c, a, phiC } = ws;
  const { W, U, b } = p;
  const H4 = 4 * H, BH = B * H;

  // Z = X·W + b for all T·B rows at once (repeated input: for the B rows of step 0, then copied to every step).
  const rows = xRepeated ? B : T * B;
  matmul(a, 0, H4, x, 0, D, W, 0, H4, rows, D, H4, false);
  addBias(a, 0, H4, b, 0, rows, H4);
  if (xRepeated) for (let t = 1; t < T; t++) a.copyWithin(t * B * H4, 0, B * H4);

  for (let t = 0; t < T; t++) {
    const zStep = t * B * H4;            // a, z of step t
    const prev = t * BH, next = prev + BH;   // h_{t-1}, c_{t-1} and phiC_t at prev; h_t, c_t at next
    matmul(a, zStep, H4, h, prev, H, U, 0, H4, B, H, H4, true);        // z_t += h_{t-1}·U
    for (let bb = 0; bb < B; bb++) {
      const zRow = zStep + bb * H4;
      activate(recAct, a, zRow, 2 * H);                                // i, f = σ(z_i, z_f)
      activate(act, a, zRow + 2 * H, H);                               // g = φ(z_g)
      activate(recAct, a, zRow + 3 * H, H);                            // o = σ(z_o)
      for (let j = 0; j < H; j++) {
        const k = bb * H + j;
        const i = a[zRow + j], f = a[zRow + H + j], g = a[zRow + 2 * H + j], o = a[zRow + 3 * H + j];
        c[next + k] = f * c[prev + k] + i * g;                           // c_t = f⊙c_{t-1} + i⊙g
        phiC[prev + k] = activateScalar(act, c[next + k]);               // phiC_t = φ(c_t)
        h[next + k] = o * phiC[prev + k];                                // h_t = o⊙phiC_t
      }
    }
  }
};

/**
 * Backpropagation through time for the forward pass cached in ws (call lstmForward with the same p, x and xRepeated first).
 * dhSeq[T,B,H]: dL/dh_t for every step, or null; dhT, dcT [B,H]: extra dL/dh_T, dL/dc_T, or null.
 * Adds into g.dW, g.dU, g.db; writes dx[T,B,D] (unless null), dh0[B,H], dc0[B,H].
 * xRepeated: x and dx are [B,D] and dx = Σ_t dL/dx_t (what RepeatVector's backward would sum); with S = Σ_t dz_t,
 * dW += xᵀ·S and dx = S·Wᵀ are products over B rows instead of T·B.
 *
 * @param gr - Weight gradients, added into.
 * @param dx - Out: dL/dx [T,B,D] ([B,D] when xRepeated), or null to skip.
 * @param dh0 - Out: dL/dh0 [B,H].
 * @param dc0 - Out: dL/dc0 [B,H].
 * @param dhSeq - dL/dh_t for every step [T,B,H], or null.
 * @param dhT - dL/dh_T of the last step [B,H], or null.
 * @param dcT - dL/dc_T [B,H], or null.
 * @param ws - The workspace of the forward.
 * @param p - The weights of the forward.
 * @param x - The input of the forward.
 * @param xRepeated - As in the forward.
 * @throws RangeError for a buffer of the wrong length.
 */
// prettier-ignore
export function lstmBackward(gr: LstmGrads, dx: FloatArray | null, dh0: FloatArray, dc0: FloatArray,
                             dhSeq: FloatArray | null, dhT: FloatArray | null, dcT: FloatArray | null,
                             ws: LstmWorkspace, p: LstmParams, x: FloatArray, xRepeated = false): void {
  checkLstmGrads('lstmBackward', ws, gr, dx, dh0, dc0, dhSeq, dhT, dcT, xRepeated);
  checkLstmParams('lstmBackward', ws, p, x, xRepeated);
  const { T, B, D, H, act, recAct, h, c, a, phiC, dz, dh, dc } = ws;
  const H4 = 4 * H, BH = B * H, TB = T * B;

  if (dhT !== null) dh.set(dhT); else dh.fill(0);
  if (dcT !== null) dc.set(dcT); else dc.fill(0);
  for (let t = T - 1; t >= 0; t--) {
    const zStep = t * B * H4, prev = t * BH;   // a, dz of step t; c_{t-1}, phiC_t, dhSeq_t at prev
    for (let bb = 0; bb < B; bb++) {
      for (let j = 0; j < H; j++) {
        const k = bb * H + j, zi = zStep + bb * H4 + j;   // zi: column of i; f, g, o at +H, +2H, +3H
        const i = a[zi], f = a[zi + H], g = a[zi + 2 * H], o = a[zi + 3 * H];
        if (dhSeq !== null) dh[k] += dhSeq[prev + k];                     // dh += dhSeq_t
        const dO = dh[k] * phiC[prev + k];                                // do = dh⊙phiC_t
        dc[k] += dh[k] * o * derivativeFromOutput(act, phiC[prev + k]);   // dc += dh⊙o⊙φ'(c_t)
        const di = dc[k] * g, dg = dc[k] * i, df = dc[k] * c[prev + k];
        dc[k] *= f;                                                       // dc ← dc⊙f
        dz[zi] = di * derivativeFromOutput(recAct, i);                    // dz_t = [di⊙σ'(i),
        dz[zi + H] = df * derivativeFromOutput(recAct, f);                //         df⊙σ'(f),
        dz[zi + 2 * H] = dg * derivativeFromOutput(act, g);               //         dg⊙φ'(g),
        dz[zi + 3 * H] = dO * derivativeFromOutput(recAct, o);            //         do⊙σ'(o)]
      }
    }
    matmulABt(dh, 0, H, dz, zStep, H4, p.U, 0, H4, B, H4, H, false);    // dh ← dz_t·Uᵀ
  }

  matmulAtB(gr.dU, 0, H4, h, 0, H, dz, 0, H4, H, TB, H4, true);        // dU += H_prevᵀ·dZ
  sumRows(gr.db, 0, dz, 0, H4, TB, H4);                                // db += Σ dZ
  const rows = xRepeated ? B : TB;
  if (xRepeated) for (let t = 1; t < T; t++) {                         // S = Σ_t dz_t, into block 0 (dz is scratch now)
    for (let k = 0; k < B * H4; k++) dz[k] += dz[t * B * H4 + k];
  }
  matmulAtB(gr.dW, 0, H4, x, 0, D, dz, 0, H4, D, rows, H4, true);      // dW += Xᵀ·dZ   (repeated: xᵀ·S)
  if (dx !== null) matmulABt(dx, 0, D, dz, 0, H4, p.W, 0, H4, rows, H4, D, false);   // dx = dZ·Wᵀ   (repeated: S·Wᵀ)
  dh0.set(dh);
  dc0.set(dc);
};

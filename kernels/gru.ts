/**
 * GRU over a sequence: the REFERENCE cell (plain loops over matmul.ts; the fast twin with the WebAssembly path, arenas,
 * fused gate loops and the Uᵀ matrix–vector form is fast/gru.ts, tested against this one). Keras layout, gates z|r|h
 * (update, reset, candidate), both Keras variants.
 * Time-major: x[T,B,D], h[T+1,B,H] (block 0 = h0, block t+1 = h_t, the output of step t), a[T,B,3H], dz[T,B,3H].
 * W[D,3H], U[H,3H]; resetAfter false: b[3H]; resetAfter true: b[2,3H] (row 0 input bias b_x, row 1 recurrent bias b_r).
 * σ = recurrentActivation (default sigmoid), φ = activation (default tanh). Columns of W, U, b, a, dz: [z | r | h].
 * h_{t-1} below is h block t (hp in the code); the candidate h̃ is hh in the code. Every product with U uses all of h's
 * rows and one column slice of U (no copies).
 *
 * Forward (both)  a ← X·W + b_x   (one GEMM over the T·B rows; b_x = b[0:3H], the whole b when resetAfter is false)
 *   resetAfter false (Keras classic, Cho et al. v3: reset before the product):
 *           z = σ(a_z + h_{t-1}·U_z);   r = σ(a_r + h_{t-1}·U_r)            (one product: U[:, 0:2H], N = 2H)
 *           rh_t = r⊙h_{t-1} (cached);   hh = φ(a_h + rh_t·U_h)              (U_h = U[:, 2H:3H])
 *   resetAfter true (Keras 2 default, CuDNN / PyTorch form: reset after the product):
 *           inner_{z,r} = h_{t-1}·U_{z,r} + b_r{z,r};   innerH_t = h_{t-1}·U_h + b_rh (cached)
 *           z = σ(a_z + inner_z);   r = σ(a_r + inner_r);   hh = φ(a_h + r⊙innerH_t)
 *   both:   h_t = z⊙h_{t-1} + (1−z)⊙hh.   a[t] keeps the post-activations [z | r | hh].
 *
 * Backward (t = T-1…0; dh carried from t+1, starting at dhT or 0)   dh += dhSeq_t
 *   both:   dzh = dh⊙(1−z)⊙φ'(hh);   dzz = dh⊙(h_{t-1} − hh)⊙σ'(z);   dh ← dh⊙z        (direct path z⊙h_{t-1})
 *   resetAfter false:
 *           drh = dzh·U_hᵀ;   dzr = drh⊙h_{t-1}⊙σ'(r);   dh += drh⊙r;   dh += [dzz | dzr]·U[:, 0:2H]ᵀ
 *   resetAfter true:
 *           dzr = dzh⊙innerH_t⊙σ'(r);   dInner_t = [dzz | dzr | dzh⊙r];   dh += dInner_t·Uᵀ
 *   dz_t = [dzz | dzr | dzh] is the gradient of the pre-activation x-projection a.
 *   after the loop:   dW += Xᵀ·dZ;   dx = dZ·Wᵀ;   dh0 = dh
 *   resetAfter false: dU[:, 0:2H] += H_prevᵀ·dZ_{z,r};   dU[:, 2H:3H] += RHᵀ·dZ_h;   db += Σ dZ
 *   resetAfter true:  dU += H_prevᵀ·dInner;   db[0,:] += Σ dZ;   db[1,:] += Σ dInner
 *   (H_prev = h blocks 0…T-1 as a [T·B,H] matrix, RH = rh as [T·B,H]; Σ sums over the T·B rows.)
 * Every derivative is taken from an output: σ'(z) = z(1−z), φ'(hh) = 1−hh², … .
 *
 * Repeated input (xRepeated, a RepeatVector in front): x[B,D] is every step's input, so a = x·W + b_x over B rows, copied to
 * every step; backward sums S = Σ_t dz_t (after dU has used dz), then dW += xᵀ·S, dx = S·Wᵀ.
 *
 * Conventions (kernels/README.md): parameter gradients dW, dU, db are ADDED into; dx and dh0 are WRITTEN; dx may be
 * null; dhSeq (gradient wrt every h_t) and dhT (wrt the last one) may be null. dh0 may be the same array as dhT.
 * Lengths are checked on entry (check.ts: RangeError naming the argument); values are not. The time loops do not allocate.
 *
 * @example
 * ```text
 * const ws = gruWorkspace(T, B, D, H, Float64Array);              // resetAfter true: b has 6H elements
 * gruForward(ws, { W, U, b }, x);                                 // ws.h.subarray(B*H) now holds h_1…h_T
 * gruBackward({ dW, dU, db }, dx, dh0, dhSeq, null, ws, { W, U, b }, x);
 * ```
 */
import { type FloatArray, addBias, matmul, matmulABt, matmulAtB, sumRows } from './matmul.js';
import { type Act, activate, activationCode, derivativeFromOutput } from './activations.js';
import { checkLength, checkWorkspace } from './check.js';

/** Options of {@link gruWorkspace}. */
export interface GruOptions {
  /** φ, applied to the candidate hh. Default 'tanh'. */
  activation?: string;
  /** σ, applied to the gates z and r. Default 'sigmoid' (Keras 2; TensorFlow.js defaults to 'hardSigmoid'). */
  recurrentActivation?: string;
  /** Reset gate after the recurrent product, with a separate recurrent bias (b[2,3H]). Default true (Keras 2). */
  resetAfter?: boolean;
}

/** Every buffer a gruForward/gruBackward pair needs for one (T, B); made by {@link gruWorkspace}. */
export interface GruWorkspace {
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
  /** The reset gate applies after the recurrent product. */
  readonly resetAfter: boolean;
  /** [T+1,B,H] hidden states; block 0 is h0 (written by the caller), block t+1 is h_t. */
  readonly h: FloatArray;
  /** [T,B,3H] post-activations [z | r | hh] of every step. */
  readonly a: FloatArray;
  /** [T,B,3H] gradients of the pre-activation x-projection [dzz | dzr | dzh], written by backward. */
  readonly dz: FloatArray;
  /** [B,H] the carried gradient dL/dh during backward. */
  readonly dh: FloatArray;
  /** resetAfter only, [T,B,H]: innerH_t = h_{t-1}·U_h + b_rh. Length 0 in the classic variant. */
  readonly innerH: FloatArray;
  /** resetAfter only, [T,B,3H]: gradient wrt inner = h_{t-1}·U + b_r, [dzz | dzr | dzh⊙r]. Length 0 in the classic variant. */
  readonly dInner: FloatArray;
  /** classic only, [T,B,H]: rh_t = r⊙h_{t-1}. Length 0 when resetAfter. */
  readonly rh: FloatArray;
  /** classic only, [B,H]: gradient wrt rh_t during backward. Length 0 when resetAfter. */
  readonly drh: FloatArray;
}

/** The cell's weights, Keras layout. */
export interface GruParams {
  /** Kernel [D,3H]. */
  W: FloatArray;
  /** Recurrent kernel [H,3H]. */
  U: FloatArray;
  /** Bias. */
  b: FloatArray;
}
/** Gradients of the weights, same layout as {@link GruParams}; the backward adds into them. */
export interface GruGrads {
  /** dL/dW. */
  dW: FloatArray;
  /** dL/dU. */
  dU: FloatArray;
  /** dL/db. */
  db: FloatArray;
}

const OPTION_KEYS: readonly string[] = ['activation', 'recurrentActivation', 'resetAfter'];

/**
 * Bias length: 3H for the classic variant, 6H (b[2,3H]) when resetAfter.
 *
 * @param H - Units.
 * @param resetAfter - The variant.
 * @returns 6H with resetAfter, else 3H.
 */
export function gruBiasLength(H: number, resetAfter: boolean): number {
  return (resetAfter ? 6 : 3) * H;
}

/**
 * Reads and checks the options every GRU workspace takes (the fast twin's too).
 *
 * @param options - The workspace options.
 * @returns The resolved activation codes and variant.
 */
export function gruSettings(options: GruOptions): { act: Act; recAct: Act; resetAfter: boolean } {
  const act = activationCode(options.activation ?? 'tanh', 'activation');
  const recAct = activationCode(options.recurrentActivation ?? 'sigmoid', 'recurrentActivation');
  const resetAfter = options.resetAfter ?? true;
  if (typeof resetAfter !== 'boolean') {
    throw new RangeError(`resetAfter: expected a boolean, got ${JSON.stringify(resetAfter)}`);
  }
  return { act, recAct, resetAfter };
}

/**
 * Allocates every buffer a GRU of these sizes needs for forward and backward, once.
 *
 * @param T - Time steps.
 * @param B - Batch size.
 * @param D - Input features.
 * @param H - Units.
 * @param ctor - Float32Array or Float64Array.
 * @param options - The activations, resetAfter; on the fast twin, an arena.
 * @returns The buffers, zeroed.
 * @throws RangeError for a dimension that is not a positive integer; TypeError for another array type or an
 * unknown option.
 */
export function gruWorkspace(
  T: number,
  B: number,
  D: number,
  H: number,
  ctor: Float32ArrayConstructor | Float64ArrayConstructor,
  options: GruOptions = {},
): GruWorkspace {
  checkWorkspace('gruWorkspace', { T, B, D, H }, ctor, options, OPTION_KEYS);
  const { act, recAct, resetAfter } = gruSettings(options);
  const BH = B * H,
    TBH = T * BH,
    TBG = T * B * 3 * H;
  return {
    T,
    B,
    D,
    H,
    act,
    recAct,
    resetAfter,
    h: new ctor(TBH + BH),
    a: new ctor(TBG),
    dz: new ctor(TBG),
    dh: new ctor(BH),
    innerH: new ctor(resetAfter ? TBH : 0),
    dInner: new ctor(resetAfter ? TBG : 0),
    rh: new ctor(resetAfter ? 0 : TBH),
    drh: new ctor(resetAfter ? 0 : BH),
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
export function checkGruParams(fn: string, ws: GruWorkspace, p: GruParams, x: FloatArray, xRepeated: boolean): void {
  const { T, B, D, H } = ws,
    G = 3 * H;
  // Every length right (each call of a stream): return before any message string is built.
  const xLength = xRepeated ? B * D : T * B * D;
  if (
    x.length === xLength &&
    p.W.length === D * G &&
    p.U.length === H * G &&
    p.b.length === gruBiasLength(H, ws.resetAfter)
  )
    return;
  if (xRepeated) checkLength(fn, 'x', x, B * D, `B=${B},D=${D} (xRepeated)`);
  else checkLength(fn, 'x', x, T * B * D, `T=${T},B=${B},D=${D}`);
  checkLength(fn, 'W', p.W, D * G, `D=${D},3H=${G}`);
  checkLength(fn, 'U', p.U, H * G, `H=${H},3H=${G}`);
  checkLength(fn, 'b', p.b, gruBiasLength(H, ws.resetAfter), ws.resetAfter ? `2,3H=${G} (resetAfter)` : `3H=${G}`);
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
export function checkGruGrads(
  fn: string,
  ws: GruWorkspace,
  g: GruGrads,
  dx: FloatArray | null,
  dh0: FloatArray,
  dhSeq: FloatArray | null,
  dhT: FloatArray | null,
  xRepeated: boolean,
): void {
  const { T, B, D, H } = ws,
    G = 3 * H;
  checkLength(fn, 'dW', g.dW, D * G, `D=${D},3H=${G}`);
  checkLength(fn, 'dU', g.dU, H * G, `H=${H},3H=${G}`);
  checkLength(fn, 'db', g.db, gruBiasLength(H, ws.resetAfter), ws.resetAfter ? `2,3H=${G} (resetAfter)` : `3H=${G}`);
  if (xRepeated) checkLength(fn, 'dx', dx, B * D, `B=${B},D=${D} (xRepeated)`);
  else checkLength(fn, 'dx', dx, T * B * D, `T=${T},B=${B},D=${D}`);
  checkLength(fn, 'dh0', dh0, B * H, `B=${B},H=${H}`);
  checkLength(fn, 'dhSeq', dhSeq, T * B * H, `T=${T},B=${B},H=${H}`);
  checkLength(fn, 'dhT', dhT, B * H, `B=${B},H=${H}`);
}

/**
 * Runs the GRU over x[T,B,D], reading h0 from block 0 of ws.h and writing h_1…h_T into blocks 1…T, caches into ws.
 * xRepeated: x is one step x[B,D] fed at every step (a RepeatVector in front): a = x·W + b_x is computed once and copied.
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
 * // Zero weights: z = r = σ(0) = 1/2 and the candidate tanh(0) = 0, so h_t = h_{t-1}/2.
 * const ws = kernels.gruWorkspace(2, 1, 1, 1, Float64Array); // resetAfter (default): b has 6H elements
 * const p = { W: new Float64Array(3), U: new Float64Array(3), b: new Float64Array(6) };
 * ws.h[0] = 1; // h0
 * kernels.gruForward(ws, p, Float64Array.of(3, -3));
 * assert.deepEqual(Array.from(ws.h), [1, 0.5, 0.25]);
 * ```
 */
// prettier-ignore
export function gruForward(ws: GruWorkspace, p: GruParams, x: FloatArray, xRepeated = false): void {
  checkGruParams('gruForward', ws, p, x, xRepeated);
  const { T, B, D, H, act, recAct, resetAfter, h, a, innerH, rh } = ws;
  const { W, U, b } = p;
  const G = 3 * H, H2 = 2 * H, BH = B * H, BG = B * G;

  // a ← X·W + b_x over all T·B rows (repeated input: the B rows of step 0, then copied to every step).
  const rows = xRepeated ? B : T * B;
  matmul(a, 0, G, x, 0, D, W, 0, G, rows, D, G, false);
  addBias(a, 0, G, b, 0, rows, G);
  if (xRepeated) for (let t = 1; t < T; t++) a.copyWithin(t * BG, 0, BG);

  for (let t = 0; t < T; t++) {
    const aStep = t * BG, prev = t * BH, next = prev + BH;   // h_{t-1}, innerH_t, rh_t at prev; h_t at next
    matmul(a, aStep, G, h, prev, H, U, 0, G, B, H, H2, true);                 // a_{z,r} += h_{t-1}·U[:, 0:2H]
    if (resetAfter) {
      addBias(a, aStep, G, b, G, B, H2);                                      //          + b_r{z,r}
      matmul(innerH, prev, H, h, prev, H, U, H2, G, B, H, H, false);          // innerH_t = h_{t-1}·U_h
      addBias(innerH, prev, H, b, G + H2, B, H);                              //          + b_rh
    }
    for (let bb = 0; bb < B; bb++) {
      const row = aStep + bb * G;
      activate(recAct, a, row, H2);                                           // z, r = σ(·) in place
      for (let j = 0; j < H; j++) {
        const k = bb * H + j, r = a[row + H + j];
        if (resetAfter) a[row + H2 + j] += r * innerH[prev + k];             // a_h += r⊙innerH_t
        else rh[prev + k] = r * h[prev + k];                                  // rh_t = r⊙h_{t-1}
      }
    }
    if (!resetAfter) matmul(a, aStep + H2, G, rh, prev, H, U, H2, G, B, H, H, true);   // a_h += rh_t·U_h
    for (let bb = 0; bb < B; bb++) {
      const row = aStep + bb * G;
      activate(act, a, row + H2, H);                                          // hh = φ(a_h) in place
      for (let j = 0; j < H; j++) {
        const k = bb * H + j, z = a[row + j], hh = a[row + H2 + j];
        h[next + k] = z * h[prev + k] + (1 - z) * hh;                         // h_t = z⊙h_{t-1} + (1−z)⊙hh
      }
    }
  }
};

/**
 * Backpropagates through the sequence cached in ws by gruForward(ws, p, x, xRepeated). dhSeq[T,B,H] is dL/dh_t for every
 * step (null: none), dhT[B,H] an extra dL/dh_T (null: none). Adds into g.dW, g.dU, g.db; writes dx[T,B,D] (unless null)
 * and dh0[B,H]. xRepeated: x and dx are [B,D], dx = Σ_t dL/dx_t; with S = Σ_t dz_t, dW += xᵀ·S and dx = S·Wᵀ.
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
export function gruBackward(g: GruGrads, dx: FloatArray | null, dh0: FloatArray, dhSeq: FloatArray | null,
                            dhT: FloatArray | null, ws: GruWorkspace, p: GruParams, x: FloatArray, xRepeated = false): void {
  checkGruParams('gruBackward', ws, p, x, xRepeated);
  checkGruGrads('gruBackward', ws, g, dx, dh0, dhSeq, dhT, xRepeated);
  const { T, B, D, H, act, recAct, resetAfter, h, a, dz, dh, innerH, dInner, rh, drh } = ws;
  const { W, U } = p;
  const G = 3 * H, H2 = 2 * H, BH = B * H, BG = B * G, TB = T * B;

  if (dhT !== null) dh.set(dhT); else dh.fill(0);
  for (let t = T - 1; t >= 0; t--) {
    const aStep = t * BG, prev = t * BH;                 // a, dz, dInner of step t; h_{t-1}, innerH_t, rh_t, dhSeq_t at prev
    for (let bb = 0; bb < B; bb++) {
      const row = aStep + bb * G;
      for (let j = 0; j < H; j++) {
        const k = bb * H + j, z = a[row + j], r = a[row + H + j], hh = a[row + H2 + j], hp = h[prev + k];
        if (dhSeq !== null) dh[k] += dhSeq[prev + k];                          // dh += dhSeq_t
        const dzh = dh[k] * (1 - z) * derivativeFromOutput(act, hh);           // dzh = dh⊙(1−z)⊙φ'(hh)
        const dzz = dh[k] * (hp - hh) * derivativeFromOutput(recAct, z);       // dzz = dh⊙(h_{t-1} − hh)⊙σ'(z)
        dz[row + j] = dzz;
        dz[row + H2 + j] = dzh;
        dh[k] *= z;                                                            // dh ← dh⊙z
        if (resetAfter) {
          const dzr = dzh * innerH[prev + k] * derivativeFromOutput(recAct, r); // dzr = dzh⊙innerH_t⊙σ'(r)
          dz[row + H + j] = dzr;
          dInner[row + j] = dzz;                                                // dInner_t = [dzz | dzr | dzh⊙r]
          dInner[row + H + j] = dzr;
          dInner[row + H2 + j] = dzh * r;
        }
      }
    }
    if (resetAfter) {
      matmulABt(dh, 0, H, dInner, aStep, G, U, 0, G, B, G, H, true);          // dh += dInner_t·Uᵀ
    } else {
      matmulABt(drh, 0, H, dz, aStep + H2, G, U, H2, G, B, H, H, false);      // drh = dzh·U_hᵀ
      for (let bb = 0; bb < B; bb++) {
        const row = aStep + bb * G;
        for (let j = 0; j < H; j++) {
          const k = bb * H + j, r = a[row + H + j];
          dz[row + H + j] = drh[k] * h[prev + k] * derivativeFromOutput(recAct, r);   // dzr = drh⊙h_{t-1}⊙σ'(r)
          dh[k] += drh[k] * r;                                                       // dh += drh⊙r
        }
      }
      matmulABt(dh, 0, H, dz, aStep, G, U, 0, G, B, H2, H, true);             // dh += [dzz | dzr]·U[:, 0:2H]ᵀ
    }
  }

  sumRows(g.db, 0, dz, 0, G, TB, G);                                          // db[0:3H] += Σ dZ
  if (resetAfter) {
    matmulAtB(g.dU, 0, G, h, 0, H, dInner, 0, G, H, TB, G, true);             // dU += H_prevᵀ·dInner
    sumRows(g.db, G, dInner, 0, G, TB, G);                                    // db[3H:6H] += Σ dInner
  } else {
    matmulAtB(g.dU, 0, G, h, 0, H, dz, 0, G, H, TB, H2, true);                // dU[:, 0:2H] += H_prevᵀ·dZ_{z,r}
    matmulAtB(g.dU, H2, G, rh, 0, H, dz, H2, G, H, TB, H, true);              // dU[:, 2H:3H] += RHᵀ·dZ_h
  }
  const rows = xRepeated ? B : TB;
  if (xRepeated) for (let t = 1; t < T; t++) {                                // S = Σ_t dz_t into block 0 (scratch now)
    for (let k = 0; k < BG; k++) dz[k] += dz[t * BG + k];
  }
  matmulAtB(g.dW, 0, G, x, 0, D, dz, 0, G, D, rows, G, true);                 // dW += Xᵀ·dZ   (repeated: xᵀ·S)
  if (dx !== null) matmulABt(dx, 0, D, dz, 0, G, W, 0, G, rows, G, D, false); // dx = dZ·Wᵀ   (repeated: S·Wᵀ)
  dh0.set(dh);
};

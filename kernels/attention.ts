/**
 * An attention decoder over encoder states, forward and backward: the REFERENCE kernel (plain loops over matmul.ts; the
 * decoder recurrence is the LSTM reference cell of lstm.ts, called one step at a time, not a copy of it).
 *
 * Symbols: Te encoder steps, Td decoder steps, B sequences, E encoder features (the size of an encoder state h_j),
 * Dx decoder input features (0 allowed: the decoder then consumes the context alone), H decoder units,
 * A attention units (additive score only). Din = Dx + E, the input of the decoder's LSTM cell.
 * Layout (time-major, row-major): hEnc[Te,B,E] encoder states h_j; x[Td,B,Dx] decoder inputs x_i;
 * s, c[Td+1,B,H] decoder states with block 0 = s_0, c_0 (the caller writes them) and block i+1 = s_{i+1}, the state
 * after step i; alpha[Td,B,Te] attention weights (row (i,b) sums to 1); xin[Td,B,Din] the cell's inputs [x_i ; ctx_i].
 * Weights: the cell's W[Din,4H], U[H,4H], b[4H] (lstm.ts: rows 0…Dx-1 of W take x_i, rows Dx…Din-1 take ctx_i);
 *   'additive' (Bahdanau)  Ws[H,A], Wh[E,A], ba[A], v[A]
 *   'dot'      (Luong)     no weights; needs E = H
 *   'general'  (Luong)     Wa[H,E]
 * (The weights a score does not use are given as arrays of length 0; attentionParamSizes lists every length.)
 *
 * Forward   once per sequence:  P = hEnc·Wh + ba  ([Te·B,A], additive)   or   P = hEnc·Waᵀ  ([Te·B,H], general)
 *           for i = 0…Td-1, with s = s_i (the state before step i; the equations' s_{i−1} when steps count from 1):
 *             additive:  q = s·Ws  ([B,A]);   u_ij = tanh(q + P_j)   (cached, [Td,B,Te,A]);   e_ij = v·u_ij
 *             dot:       e_ij = s·h_j
 *             general:   e_ij = s·P_j   (= s·Wa·h_j)
 *             alpha_ij = softmax_j(e_ij) = exp(e_ij − m) / Σ_k exp(e_ik − m),   m = max_k e_ik
 *             ctx_i = Σ_j alpha_ij h_j;   xin_i = [x_i ; ctx_i]
 *             s_{i+1}, c_{i+1} = LSTM(xin_i; s_i, c_i)          (lstmForward with T = 1)
 * Backward  ds ← 0, dc ← 0, dP ← 0, dhEnc ← 0; for i = Td-1…0:
 *             ds += dsSeq_i                                      (dL/ds_{i+1} from above)
 *             dxin_i, dsPrev, dcPrev = LSTM backward of step i  (lstmBackward with T = 1, dhT = ds, dcT = dc)
 *             ds ← dsPrev;  dc ← dcPrev;   dx_i = dxin_i[:, 0…Dx);   dctx = dxin_i[:, Dx…Din)
 *             dalpha_ij = dctx·h_j;   dhEnc_j += alpha_ij dctx
 *             de_ij = alpha_ij (dalpha_ij − Σ_k alpha_ik dalpha_ik)           (softmax backward)
 *             additive:  dpre_ij = de_ij v ⊙ (1 − u_ij²);   dP_j += dpre_ij;   dq_i = Σ_j dpre_ij;   ds += dq_i·Wsᵀ
 *             dot:       ds += Σ_j de_ij h_j;   dhEnc_j += de_ij s
 *             general:   ds += Σ_j de_ij P_j;   dP_j += de_ij s
 *           after the loop:  additive: dv += DEᵀ·U (DE = de [Td·B·Te], U = u [Td·B·Te, A]: dv = Σ de_ij u_ij),
 *                                      dWs += S_prevᵀ·DQ (S_prev = s blocks 0…Td-1, DQ = dq [Td·B, A]),
 *                                      dWh += hEncᵀ·dP,  dba += Σ_rows dP,  dhEnc += dP·Whᵀ
 *                            general:  dWa += dPᵀ·hEnc,  dhEnc += dP·Wa
 *                            ds0 = ds,  dc0 = dc
 * Every decoder step adds into dhEnc (through ctx and the scores): backpropagation through time through attention.
 *
 * Names in the code are the names above. Conventions (README.md): outputs first; parameter gradients are ADDED into
 * (the caller zeroes them once per step), dhEnc, dx, ds0, dc0 are overwritten. Nothing in the time loops allocates:
 * the per-step cell workspaces and the views of xin, dxin are made once by attentionWorkspace. Lengths are checked on
 * entry (check.ts: RangeError naming the argument).
 *
 * @example
 * ```text
 * const ws = attentionWorkspace(Te, Td, B, Dx, E, H, Float64Array, { score: 'additive', units: A });
 * attentionForward(ws, p, hEnc, x);                              // ws.s.subarray(B*H): s_1…s_Td; ws.alpha: weights
 * attentionBackward(g, dhEnc, dx, ds0, dc0, dsSeq, ws, p, hEnc, x);
 * ```
 */
import { type FloatArray, addBias, matmul, matmulABt, matmulAtB, sumRows } from './matmul.js';
import { exp, tanh } from './activations.js';
import { checkDim, checkLength, checkOptions } from './check.js';
import {
  type LstmWorkspace,
  type LstmGrads,
  type LstmParams,
  lstmWorkspace,
  lstmForward,
  lstmBackward,
} from './lstm.js';

/** How an attention decoder scores encoder state h_j against its state s: Bahdanau's 'additive', Luong's 'dot', 'general'. */
export type AttentionScore = 'additive' | 'dot' | 'general';

/** The score types, for option checks and menus. */
export const ATTENTION_SCORES: readonly AttentionScore[] = ['additive', 'dot', 'general'];

/** Options of {@link attentionWorkspace}. */
export interface AttentionOptions {
  /** The score: 'additive' (default), 'dot' (needs E = H) or 'general'. */
  score?: AttentionScore;
  /** A, the attention units of the additive score (required for it, refused by the others). */
  units?: number;
  /** φ of the decoder's LSTM cell. Default 'tanh'. */
  activation?: string;
  /** σ of the decoder's LSTM cell. Default 'sigmoid'. */
  recurrentActivation?: string;
}

/** The dimensions an attention workspace was made for (the reference's and the fast twin's alike). */
export interface AttentionDims {
  /** Encoder steps. */
  readonly Te: number;
  /** Decoder steps. */
  readonly Td: number;
  /** Batch size. */
  readonly B: number;
  /** Decoder input features (may be 0). */
  readonly Dx: number;
  /** Encoder state features. */
  readonly E: number;
  /** Decoder units. */
  readonly H: number;
  /** Attention units (additive), else 0. */
  readonly A: number;
  /** The score. */
  readonly score: AttentionScore;
}

/** Every buffer an attentionForward/attentionBackward pair needs for one (Te, Td, B); made by {@link attentionWorkspace}. */
export interface AttentionWorkspace extends AttentionDims {
  /** `[Td+1,B,H]`: block 0 = s_0 (written by the caller), block i+1 = s_{i+1}. */
  readonly s: FloatArray;
  /** `[Td+1,B,H]`: block 0 = c_0 (written by the caller), block i+1 = c_{i+1}. */
  readonly c: FloatArray;
  /** `[Td,B,Te]`: alpha_ij, each row a softmax. */
  readonly alpha: FloatArray;
  /** `[Td,B,Din]`: the cell's inputs [x_i ; ctx_i]. */
  readonly xin: FloatArray;
  /** `[Td,B,Din]`: their gradients (scratch of the backward). */
  readonly dxin: FloatArray;
  /** Views of xin, one [B,Din] block per step. */
  readonly xinStep: readonly FloatArray[];
  /** Views of dxin, one [B,Din] block per step. */
  readonly dxinStep: readonly FloatArray[];
  /** One LSTM workspace with T = 1 per decoder step (the cell's caches of that step). */
  readonly cells: readonly LstmWorkspace[];
  /** `[Te,B,A]` hEnc·Wh + ba (additive), `[Te,B,H]` hEnc·Waᵀ (general), empty (dot). */
  readonly P: FloatArray;
  /** dL/dP, same layout (scratch of the backward). */
  readonly dP: FloatArray;
  /** `[Td,B,Te,A]`: u_ij = tanh(q_i + P_j) (additive), else empty. */
  readonly u: FloatArray;
  /** `[B,A]`: q of the current step (additive), else empty. */
  readonly q: FloatArray;
  /** `[Td,B,A]`: dq of every step (additive), else empty (scratch of the backward). */
  readonly dq: FloatArray;
  /** `[Td,B,Te]`: de, the score gradients (scratch of the backward). */
  readonly de: FloatArray;
  /** `[Te]`: dalpha of one row (scratch). */
  readonly dalpha: FloatArray;
  /** `[B,H]`: carried dL/ds. */
  readonly ds: FloatArray;
  /** `[B,H]`: carried dL/dc. */
  readonly dc: FloatArray;
  /** `[B,H]`: the cell's dL/ds_i of one step. */
  readonly dsPrev: FloatArray;
  /** `[B,H]`: the cell's dL/dc_i of one step. */
  readonly dcPrev: FloatArray;
}

/** The weights: the decoder cell's (Keras LSTM layout, Din = Dx + E rows of W) and the score's (empty when unused). */
export interface AttentionParams extends LstmParams {
  /** Additive: [H,A]. */
  Ws: FloatArray;
  /** Additive: [E,A]. */
  Wh: FloatArray;
  /** Additive: [A]. */
  ba: FloatArray;
  /** Additive: [A]. */
  v: FloatArray;
  /** General: [H,E]. */
  Wa: FloatArray;
}

/** Gradients of {@link AttentionParams}, same layout; the backward adds into them. */
export interface AttentionGrads extends LstmGrads {
  /** dL/dWs. */
  dWs: FloatArray;
  /** dL/dWh. */
  dWh: FloatArray;
  /** dL/dba. */
  dba: FloatArray;
  /** dL/dv. */
  dv: FloatArray;
  /** dL/dWa. */
  dWa: FloatArray;
}

const OPTION_KEYS: readonly string[] = ['score', 'units', 'activation', 'recurrentActivation'];

/**
 * The length of every weight of an attention decoder (0 for the weights its score does not use).
 *
 * @param score - The score.
 * @param Dx - Decoder input features.
 * @param E - Encoder state features.
 * @param H - Decoder units.
 * @param A - Attention units (additive; else ignored).
 * @returns The lengths by weight name.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const n = kernels.attentionParamSizes('additive', 0, 3, 4, 5);
 * assert.deepEqual(n, { W: 3 * 16, U: 4 * 16, b: 16, Ws: 4 * 5, Wh: 3 * 5, ba: 5, v: 5, Wa: 0 });
 * ```
 */
export function attentionParamSizes(
  score: AttentionScore,
  Dx: number,
  E: number,
  H: number,
  A: number,
): Record<keyof AttentionParams, number> {
  const add = score === 'additive';
  return {
    W: (Dx + E) * 4 * H,
    U: H * 4 * H,
    b: 4 * H,
    Ws: add ? H * A : 0,
    Wh: add ? E * A : 0,
    ba: add ? A : 0,
    v: add ? A : 0,
    Wa: score === 'general' ? H * E : 0,
  };
}

/**
 * Allocates every buffer a forward/backward pair needs for one (Te, Td, B), in the given float type.
 *
 * @param Te - Encoder steps.
 * @param Td - Decoder steps.
 * @param B - Batch size.
 * @param Dx - Decoder input features (0: the decoder consumes the context alone).
 * @param E - Encoder state features.
 * @param H - Decoder units.
 * @param ctor - Float32Array or Float64Array.
 * @param options - score, units (A, additive), the cell's activations.
 * @returns The buffers, zeroed.
 * @throws RangeError for a dimension that is not a positive integer (Dx: not a non-negative one), for 'dot' with
 * E ≠ H, or for units missing (additive) or given (dot, general); TypeError for another array type or an unknown option.
 */
export function attentionWorkspace(
  Te: number,
  Td: number,
  B: number,
  Dx: number,
  E: number,
  H: number,
  ctor: Float32ArrayConstructor | Float64ArrayConstructor,
  options: AttentionOptions = {},
): AttentionWorkspace {
  const { score, A, activation, recurrentActivation } = checkAttentionShape(
    'attentionWorkspace',
    { Te, Td, B, Dx, E, H },
    ctor,
    options,
    OPTION_KEYS,
  );
  const Din = Dx + E,
    BH = B * H;
  const cellOptions = { activation, recurrentActivation };
  const xin = new ctor(Td * B * Din),
    dxin = new ctor(Td * B * Din);
  const xinStep: FloatArray[] = [],
    dxinStep: FloatArray[] = [],
    cells: LstmWorkspace[] = [];
  for (let i = 0; i < Td; i++) {
    xinStep.push(xin.subarray(i * B * Din, (i + 1) * B * Din));
    dxinStep.push(dxin.subarray(i * B * Din, (i + 1) * B * Din));
    cells.push(lstmWorkspace(1, B, Din, H, ctor, cellOptions));
  }
  const Pcols = score === 'additive' ? A : score === 'general' ? H : 0;
  return {
    Te,
    Td,
    B,
    Dx,
    E,
    H,
    A,
    score,
    s: new ctor((Td + 1) * BH),
    c: new ctor((Td + 1) * BH),
    alpha: new ctor(Td * B * Te),
    xin,
    dxin,
    xinStep,
    dxinStep,
    cells,
    P: new ctor(Te * B * Pcols),
    dP: new ctor(Te * B * Pcols),
    u: new ctor(Td * B * Te * A),
    q: new ctor(B * A),
    dq: new ctor(Td * B * A),
    de: new ctor(Td * B * Te),
    dalpha: new ctor(Te),
    ds: new ctor(BH),
    dc: new ctor(BH),
    dsPrev: new ctor(BH),
    dcPrev: new ctor(BH),
  };
}

/** What {@link checkAttentionShape} resolves from a workspace allocator's options. */
export interface AttentionShape {
  /** The score ('additive' when not given). */
  score: AttentionScore;
  /** A, the attention units (additive), else 0. */
  A: number;
  /** φ of the cell ('tanh' when not given). */
  activation: string;
  /** σ of the cell ('sigmoid' when not given). */
  recurrentActivation: string;
}

/**
 * The entry checks of a workspace allocator (this file's and the fast twin's): dimensions, float type, options.
 *
 * @param fn - The allocator's name, for messages.
 * @param dims - Te, Td, B, Dx, E, H.
 * @param ctor - Float32Array or Float64Array.
 * @param options - The allocator's options.
 * @param known - The option keys it accepts.
 * @returns The score, A (0 unless additive) and the cell's activation names.
 * @throws RangeError for a dimension that is not a positive integer (Dx: not a non-negative one), for 'dot' with
 * E ≠ H, or for units missing (additive) or given (dot, general); TypeError for another array type or an unknown
 * option.
 */
export function checkAttentionShape(
  fn: string,
  dims: { Te: number; Td: number; B: number; Dx: number; E: number; H: number },
  ctor: unknown,
  options: AttentionOptions,
  known: readonly string[],
): AttentionShape {
  const { Te, Td, B, Dx, E, H } = dims;
  for (const [name, v] of Object.entries({ Te, Td, B, E, H })) checkDim(fn, name, v);
  if (!Number.isInteger(Dx) || Dx < 0) throw new RangeError(`${fn}(Dx): expected a non-negative integer, got ${Dx}`);
  if (ctor !== Float32Array && ctor !== Float64Array) {
    throw new TypeError(`${fn}(ctor): expected Float32Array or Float64Array`);
  }
  checkOptions(fn, options, known);
  const score = options.score ?? 'additive';
  if (!ATTENTION_SCORES.includes(score)) {
    throw new RangeError(`${fn}(score): expected one of ${ATTENTION_SCORES.join(', ')}, got ${String(score)}`);
  }
  let A = 0;
  if (score === 'additive') {
    A = options.units as number;
    checkDim(fn, 'units', A);
  } else if (options.units !== undefined) {
    throw new RangeError(`${fn}(units): the '${score}' score has no attention units, got ${options.units}`);
  }
  if (score === 'dot' && E !== H) {
    throw new RangeError(`${fn}(E): the 'dot' score needs E = H, got E=${E}, H=${H}`);
  }
  return {
    score,
    A,
    activation: options.activation ?? 'tanh',
    recurrentActivation: options.recurrentActivation ?? 'sigmoid',
  };
}

/**
 * The length checks of a forward's (or backward's) inputs and weights.
 *
 * @param fn - The kernel's name, for messages.
 * @param ws - The workspace's dimensions.
 * @param p - The weights.
 * @param hEnc - The encoder states.
 * @param x - The decoder inputs.
 * @throws RangeError for a buffer of the wrong length.
 */
export function checkAttentionParams(
  fn: string,
  ws: AttentionDims,
  p: AttentionParams,
  hEnc: FloatArray,
  x: FloatArray,
): void {
  const { Te, Td, B, Dx, E, H, A, score } = ws;
  // Every length right (each call of a stream): return before any object or message string is built.
  const add = score === 'additive';
  if (
    hEnc.length === Te * B * E &&
    x.length === Td * B * Dx &&
    p.W.length === (Dx + E) * 4 * H &&
    p.U.length === H * 4 * H &&
    p.b.length === 4 * H &&
    p.Ws.length === (add ? H * A : 0) &&
    p.Wh.length === (add ? E * A : 0) &&
    p.ba.length === (add ? A : 0) &&
    p.v.length === (add ? A : 0) &&
    p.Wa.length === (score === 'general' ? H * E : 0)
  )
    return;
  checkLength(fn, 'hEnc', hEnc, Te * B * E, `Te=${Te},B=${B},E=${E}`);
  checkLength(fn, 'x', x, Td * B * Dx, `Td=${Td},B=${B},Dx=${Dx}`);
  const n = attentionParamSizes(score, Dx, E, H, A);
  for (const k of Object.keys(n) as (keyof AttentionParams)[]) {
    checkLength(fn, k, p[k], n[k], `${score}: Dx=${Dx},E=${E},H=${H},A=${A}`);
  }
}

/**
 * The length checks of a backward's outputs and upstream gradient (null ones are skipped).
 *
 * @param fn - The kernel's name, for messages.
 * @param ws - The workspace's dimensions.
 * @param g - The weight gradients.
 * @param dhEnc - dL/dhEnc.
 * @param dx - dL/dx, or null.
 * @param ds0 - dL/ds_0.
 * @param dc0 - dL/dc_0.
 * @param dsSeq - dL/ds_{i+1} per step, or null.
 * @throws RangeError for a buffer of the wrong length.
 */
export function checkAttentionGrads(
  fn: string,
  ws: AttentionDims,
  g: AttentionGrads,
  dhEnc: FloatArray,
  dx: FloatArray | null,
  ds0: FloatArray,
  dc0: FloatArray,
  dsSeq: FloatArray | null,
): void {
  const { Te, Td, B, Dx, E, H, A, score } = ws;
  const n = attentionParamSizes(score, Dx, E, H, A);
  const shape = `${score}: Dx=${Dx},E=${E},H=${H},A=${A}`;
  for (const [k, key] of [
    ['dW', 'W'],
    ['dU', 'U'],
    ['db', 'b'],
    ['dWs', 'Ws'],
    ['dWh', 'Wh'],
    ['dba', 'ba'],
    ['dv', 'v'],
    ['dWa', 'Wa'],
  ] as const)
    checkLength(fn, k, g[k], n[key], shape);
  checkLength(fn, 'dhEnc', dhEnc, Te * B * E, `Te=${Te},B=${B},E=${E}`);
  checkLength(fn, 'dx', dx, Td * B * Dx, `Td=${Td},B=${B},Dx=${Dx}`);
  checkLength(fn, 'ds0', ds0, B * H, `B=${B},H=${H}`);
  checkLength(fn, 'dc0', dc0, B * H, `B=${B},H=${H}`);
  checkLength(fn, 'dsSeq', dsSeq, Td * B * H, `Td=${Td},B=${B},H=${H}`);
}

/**
 * Runs the attention decoder over Td steps from the initial state in block 0 of ws.s, ws.c; fills ws.s, ws.c,
 * ws.alpha, ws.xin, ws.P, ws.u and the per-step cell workspaces.
 *
 * @param ws - The workspace; block 0 of ws.s (and ws.c) holds s_0 (c_0).
 * @param p - The weights.
 * @param hEnc - Encoder states [Te,B,E].
 * @param x - Decoder inputs [Td,B,Dx] (empty when Dx = 0).
 * @throws RangeError for a buffer of the wrong length.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // Two encoder states, one decoder step, dot score: equal scores give equal weights, the context is their mean.
 * const ws = kernels.attentionWorkspace(2, 1, 1, 0, 1, 1, Float64Array, { score: 'dot' });
 * const n = kernels.attentionParamSizes('dot', 0, 1, 1, 0);
 * const p = { W: new Float64Array(n.W), U: new Float64Array(n.U), b: new Float64Array(n.b), Ws: new Float64Array(0),
 *   Wh: new Float64Array(0), ba: new Float64Array(0), v: new Float64Array(0), Wa: new Float64Array(0) };
 * kernels.attentionForward(ws, p, Float64Array.of(1, 3), new Float64Array(0)); // s_0 = 0: e = 0 for both
 * assert.deepEqual([...ws.alpha], [0.5, 0.5]);
 * assert.equal(ws.xin[0], 2);
 * ```
 */
// prettier-ignore
export function attentionForward(ws: AttentionWorkspace, p: AttentionParams, hEnc: FloatArray, x: FloatArray): void {
  checkAttentionParams('attentionForward', ws, p, hEnc, x);
  const { Te, Td, B, Dx, E, H, A, score, s, c, alpha, xin, xinStep, cells, P, u, q } = ws;
  const Din = Dx + E, BH = B * H;

  // Once per sequence: P = hEnc·Wh + ba (additive) or P = hEnc·Waᵀ (general), over all Te·B rows.
  if (score === 'additive') {
    matmul(P, 0, A, hEnc, 0, E, p.Wh, 0, A, Te * B, E, A, false);
    addBias(P, 0, A, p.ba, 0, Te * B, A);
  } else if (score === 'general') {
    matmulABt(P, 0, H, hEnc, 0, E, p.Wa, 0, E, Te * B, E, H, false);
  }

  const { v, Ws } = p;
  for (let i = 0; i < Td; i++) {
    const sRow0 = i * BH;                                               // s_i, c_i: the state before step i
    if (score === 'additive') matmul(q, 0, A, s, sRow0, H, Ws, 0, A, B, H, A, false);   // q = s·Ws
    for (let bb = 0; bb < B; bb++) {
      const eRow = (i * B + bb) * Te, sRow = sRow0 + bb * H;
      if (score === 'additive') {
        const qRow = bb * A;
        for (let j = 0; j < Te; j++) {
          const uRow = (eRow + j) * A, pRow = (j * B + bb) * A;
          let e = 0;
          for (let k = 0; k < A; k++) {
            const uk = tanh(q[qRow + k] + P[pRow + k]);                  // u_ij = tanh(q + P_j)
            u[uRow + k] = uk;
            e += v[k] * uk;                                              // e_ij = v·u_ij
          }
          alpha[eRow + j] = e;
        }
      } else {
        const K = score === 'dot' ? hEnc : P;                           // rows h_j (dot) or P_j (general), H wide
        for (let j = 0; j < Te; j++) {
          const kRow = (j * B + bb) * H;
          let e = 0;
          for (let k = 0; k < H; k++) e += s[sRow + k] * K[kRow + k];    // e_ij = s·h_j  or  s·P_j
          alpha[eRow + j] = e;
        }
      }
      let m = -Infinity;                                                 // alpha_ij = softmax_j(e_ij)
      for (let j = 0; j < Te; j++) if (alpha[eRow + j] > m) m = alpha[eRow + j];
      let sum = 0;
      for (let j = 0; j < Te; j++) {
        const ex = exp(alpha[eRow + j] - m);
        alpha[eRow + j] = ex;
        sum += ex;
      }
      for (let j = 0; j < Te; j++) alpha[eRow + j] /= sum;
      const inRow = (i * B + bb) * Din;                                  // xin_i = [x_i ; ctx_i]
      for (let k = 0; k < Dx; k++) xin[inRow + k] = x[(i * B + bb) * Dx + k];
      for (let k = 0; k < E; k++) {
        let ctx = 0;                                                     // ctx_i = Σ_j alpha_ij h_j
        for (let j = 0; j < Te; j++) ctx += alpha[eRow + j] * hEnc[(j * B + bb) * E + k];
        xin[inRow + Dx + k] = ctx;
      }
    }
    const cell = cells[i];                                               // s_{i+1}, c_{i+1} = LSTM(xin_i; s_i, c_i)
    for (let k = 0; k < BH; k++) {
      cell.h[k] = s[sRow0 + k];
      cell.c[k] = c[sRow0 + k];
    }
    lstmForward(cell, p, xinStep[i]);
    for (let k = 0; k < BH; k++) {
      s[sRow0 + BH + k] = cell.h[BH + k];
      c[sRow0 + BH + k] = cell.c[BH + k];
    }
  }
};

/**
 * Backpropagation through the decoder, the attention weights, the scores and into the encoder states, for the forward
 * cached in ws (call attentionForward with the same p, hEnc, x first). dsSeq[Td,B,H]: dL/ds_{i+1} for every step
 * (the decoder's outputs), or null. Adds into every weight gradient of g; writes dhEnc[Te,B,E], dx[Td,B,Dx] (unless
 * null), ds0[B,H], dc0[B,H].
 *
 * @param g - Weight gradients, added into (those of unused weights are empty).
 * @param dhEnc - Out: dL/dhEnc [Te,B,E].
 * @param dx - Out: dL/dx [Td,B,Dx], or null to skip.
 * @param ds0 - Out: dL/ds_0 [B,H].
 * @param dc0 - Out: dL/dc_0 [B,H].
 * @param dsSeq - dL/ds_{i+1} for every step [Td,B,H], or null.
 * @param ws - The workspace of the forward.
 * @param p - The weights of the forward.
 * @param hEnc - The encoder states of the forward.
 * @param x - The decoder inputs of the forward.
 * @throws RangeError for a buffer of the wrong length.
 */
// prettier-ignore
export function attentionBackward(g: AttentionGrads, dhEnc: FloatArray, dx: FloatArray | null, ds0: FloatArray,
                                  dc0: FloatArray, dsSeq: FloatArray | null, ws: AttentionWorkspace,
                                  p: AttentionParams, hEnc: FloatArray, x: FloatArray): void {
  const fn = 'attentionBackward';
  const { Te, Td, B, Dx, E, H, A, score, s, alpha, dxin, xinStep, dxinStep, cells, P, dP, u, dq, de, dalpha } = ws;
  const { ds, dc, dsPrev, dcPrev } = ws;
  const { v, Ws } = p;
  checkAttentionGrads(fn, ws, g, dhEnc, dx, ds0, dc0, dsSeq);
  checkAttentionParams(fn, ws, p, hEnc, x);
  const Din = Dx + E, BH = B * H;

  ds.fill(0);
  dc.fill(0);
  dP.fill(0);
  dhEnc.fill(0);
  for (let i = Td - 1; i >= 0; i--) {
    const sRow0 = i * BH;                                                // s_i: the state the scores of step i read
    if (dsSeq !== null) for (let k = 0; k < BH; k++) ds[k] += dsSeq[sRow0 + k];   // ds += dsSeq_i
    lstmBackward(g, dxinStep[i], dsPrev, dcPrev, null, ds, dc, cells[i], p, xinStep[i]);
    ds.set(dsPrev);                                                      // ds ← dsPrev;  dc ← dcPrev
    dc.set(dcPrev);
    if (score === 'additive') dq.fill(0, i * B * A, (i + 1) * B * A);
    for (let bb = 0; bb < B; bb++) {
      const eRow = (i * B + bb) * Te, inRow = (i * B + bb) * Din, sRow = sRow0 + bb * H;
      if (dx !== null) for (let k = 0; k < Dx; k++) dx[(i * B + bb) * Dx + k] = dxin[inRow + k];   // dx_i
      let dot = 0;
      for (let j = 0; j < Te; j++) {
        const hRow = (j * B + bb) * E, a = alpha[eRow + j];
        let da = 0;
        for (let k = 0; k < E; k++) {
          const dctx = dxin[inRow + Dx + k];
          da += dctx * hEnc[hRow + k];                                   // dalpha_ij = dctx·h_j
          dhEnc[hRow + k] += a * dctx;                                   // dhEnc_j += alpha_ij dctx
        }
        dalpha[j] = da;
        dot += a * da;
      }
      for (let j = 0; j < Te; j++) de[eRow + j] = alpha[eRow + j] * (dalpha[j] - dot);   // de_ij = alpha_ij (dalpha_ij − Σ_k alpha_ik dalpha_ik)
      if (score === 'additive') {
        const qRow = (i * B + bb) * A;
        for (let j = 0; j < Te; j++) {
          const uRow = (eRow + j) * A, pRow = (j * B + bb) * A, dej = de[eRow + j];
          for (let k = 0; k < A; k++) {
            const uk = u[uRow + k];
            const dpre = dej * v[k] * (1 - uk * uk);                     // dpre_ij = de_ij v ⊙ (1 − u_ij²)
            dP[pRow + k] += dpre;                                        // dP_j += dpre_ij
            dq[qRow + k] += dpre;                                        // dq_i = Σ_j dpre_ij
          }
        }
      } else {
        const K = score === 'dot' ? hEnc : P, dK = score === 'dot' ? dhEnc : dP;   // h_j and dhEnc_j, or P_j and dP_j
        for (let j = 0; j < Te; j++) {
          const kRow = (j * B + bb) * H, dej = de[eRow + j];
          for (let k = 0; k < H; k++) {
            ds[bb * H + k] += dej * K[kRow + k];                         // ds += de_ij h_j   (general: de_ij P_j)
            dK[kRow + k] += dej * s[sRow + k];                           // dhEnc_j += de_ij s   (general: dP_j)
          }
        }
      }
    }
    if (score === 'additive') matmulABt(ds, 0, H, dq, i * B * A, A, Ws, 0, A, B, A, H, true);   // ds += dq_i·Wsᵀ
  }

  if (score === 'additive') {
    const R = Td * B * Te;
    matmulAtB(g.dv, 0, A, de, 0, 1, u, 0, A, 1, R, A, true);            // dv += DEᵀ·U
    matmulAtB(g.dWs, 0, A, s, 0, H, dq, 0, A, H, Td * B, A, true);       // dWs += S_prevᵀ·DQ
    matmulAtB(g.dWh, 0, A, hEnc, 0, E, dP, 0, A, E, Te * B, A, true);    // dWh += hEncᵀ·dP
    sumRows(g.dba, 0, dP, 0, A, Te * B, A);                              // dba += Σ dP
    matmulABt(dhEnc, 0, E, dP, 0, A, p.Wh, 0, A, Te * B, A, E, true);    // dhEnc += dP·Whᵀ
  } else if (score === 'general') {
    matmulAtB(g.dWa, 0, E, dP, 0, H, hEnc, 0, E, H, Te * B, E, true);    // dWa += dPᵀ·hEnc
    matmul(dhEnc, 0, E, dP, 0, H, p.Wa, 0, E, Te * B, H, E, true);       // dhEnc += dP·Wa
  }
  ds0.set(ds);
  dc0.set(dc);
};

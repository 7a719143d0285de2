/**
 * FAST twin of ../attention.ts (the reference, whose header equations and names these loops follow;
 * spec/kernels/attention-fast.spec.ts holds this file to it): the same functions and arguments, plus the products as
 * `ops` (ops.ts: jsOps = matmul.ts, or the WebAssembly SIMD ones bound to an arena) and the wasm path.
 * An LSTM decoder attending over encoder states: Bahdanau's additive score, or Luong's dot / general.
 *
 * Symbols: Te encoder steps, Td decoder steps, B sequences, E encoder features, Dx decoder input features (0 allowed),
 * H decoder units, A attention units (additive). Din = Dx + E, the cell's input [x_i ; ctx_i]. G = 4H.
 * Layout (time-major, row-major): hEnc[Te,B,E]; x[Td,B,Dx]; s, c[Td+1,B,H] (block 0 = s_0, c_0, written by the caller;
 * block i+1 = the state after step i); alpha[Td,B,Te]; xin[Td,B,Din]; u[Td,Te,B,A] (step i's block laid out as P,
 * [Te,B,A], where the reference has [Td,B,Te,A]), eT[Td,Te,B] (e, then de, in u's row order); and, unlike the
 * reference (which keeps one LSTM workspace per step), the decoder cell's caches for the whole sequence:
 * a[Td,B,G] post-activation gates [i|f|g|o], phiC[Td,B,H] = φ(c_{i+1}), dz[Td,B,G] the gate pre-activation gradients. Weights as the reference: W[Din,G]
 * (rows 0…Dx-1 = W_x take x_i, rows Dx…Din-1 = W_ctx take ctx_i), U[H,G], b[G]; Ws[H,A], Wh[E,A], ba[A], v[A]; Wa[H,E].
 * h_b, P_b, s_b below are the [Te or Td, ·] slices of batch row b (leading dimension B·E or B·H).
 * The products of one step with a weight matrix are GEMMs over the B rows (ops); those of one sequence with its own
 * states (the scores s·h_j, the context Σ_j alpha_ij h_j and their gradients) are B small matrix–vector products per
 * step, written as loops like the softmax and tanh ones: a MatOps call per row would cost more than its 1–2 kFLOP.
 *
 * Forward   P = hEnc·Wh + ba (additive) or hEnc·Waᵀ (general)         one GEMM over all Te·B rows
 *           Z = X·W_x + b                                              one GEMM over all Td·B rows, into a
 *           for i = 0…Td-1 (s = s_i):
 *             additive:  q = s·Ws;   u_ij = tanh(q + P_j);   e_i = U_i·v        (js: one fused loop; wasm: u_i = P,
 *                        u_i += q on each of its Te rows of B·A (addBias), one vector tanh, e = U_i·v a GEMM, N = 1)
 *             dot:       e_ij = s·h_j                       general:  e_ij = s·P_j
 *             alpha_ij = softmax_j(e_ij)
 *             ctx_i = Σ_j alpha_ij h_j                                     (into xin)
 *             z_i += ctx_i·W_ctx + s_i·U;   i, f, o = σ(z);   g = φ(z_g);   c_{i+1} = f⊙c_i + i⊙g;
 *             phiC_i = φ(c_{i+1});   s_{i+1} = o⊙phiC_i              (wasm, default activations: one gate kernel call)
 * Backward  ds ← 0, dc ← 0; for i = Td-1…0:
 *             ds += dsSeq_i;   dz_i from ds, dc as the LSTM's backward step; dc ← dc⊙f
 *                                                        (wasm, default activations: one gate kernel call)
 *             ds ← dz_i·Uᵀ;   dctx_i = dz_i·W_ctxᵀ (into dxin);   dalpha_ij = dctx·h_j (into de)
 *             de_ij = alpha_ij (dalpha_ij − Σ_k alpha_ik dalpha_ik)
 *             additive:  dpre_ij = de_ij v ⊙ (1 − u_ij²);  dP_j += dpre_ij;  dq_i = Σ_j dpre_ij;  ds += dq_i·Wsᵀ
 *                        (js: one loop; wasm: de⊗v a GEMM with K = 1, ⊙(1 − u²) the vector tanh backward, kept for
 *                        every step in dpre; dq_i = 1ᵀ·dpre_i a GEMM over its Te rows; dP = 1ᵀ·DPRE after the loop)
 *             dot:       ds += Σ_j de_ij h_j                general:  ds += Σ_j de_ij P_j
 *           after the loop, whole-sequence GEMMs:
 *             dW += Xinᵀ·dZ,   dU += S_prevᵀ·dZ,   db += Σ_rows dZ,   dx = dZ·W_xᵀ
 *             dhEnc_b = Alpha_bᵀ·Dctx_b              (Alpha_b [Td,Te], Dctx_b [Td,E]: Σ_i alpha_ij dctx_i, per b)
 *             additive:  dv += DEᵀ·U (DE = eT),  dWs += S_prevᵀ·DQ,  dWh += hEncᵀ·dP,  dba += Σ dP,  dhEnc += dP·Whᵀ
 *             dot:       dhEnc_b += DE_bᵀ·S_b        (DE_b [Td,Te], S_b [Td,H]: Σ_i de_ij s_i, per b)
 *             general:   dP_b = DE_bᵀ·S_b;   dWa += dPᵀ·hEnc;   dhEnc += dP·Wa
 *             ds0 = ds,  dc0 = dc
 *
 * The wasm path (a float32 workspace in an arena): every buffer above lives in the arena, and once per call the
 * operands the time loops read are copied there (hEnc → hEncW, W → Ww, U → Uw, Ws → Wsw), so no product of a step
 * stages them; dhEnc is accumulated in the arena (dhEncW) and copied out at the end. The score's tanh and its
 * derivative run on the vector kernels (ops.gates, whatever the cell's activations), the cell's gate math on the gate
 * kernels for the default activations. The softmax, the context and the scores' matrix–vector loops are this file's
 * loops on both paths. The js path runs the same code over matmul.ts.
 *
 * Conventions (README.md): outputs first; parameter gradients are ADDED into (the caller zeroes them once per step),
 * dhEnc, dx, ds0, dc0 are overwritten. Nothing inside a time loop allocates. Lengths are checked on entry
 * (RangeError naming the argument), by the reference's own checks.
 *
 * @example
 * ```text
 * const ws = attentionWorkspace(Te, Td, B, Dx, E, H, Float32Array, { score: 'additive', units: A, arena });
 * attentionForward(ws, p, hEnc, x);                              // ws.s.subarray(B*H): s_1…s_Td; ws.alpha: weights
 * attentionBackward(g, dhEnc, dx, ds0, dc0, dsSeq, ws, p, hEnc, x);
 * ```
 */
import { type FloatArray, sumRows } from '../matmul.js';
import { type MatOps, jsOps } from './ops.js';
import type { WasmArena } from '../wasm/arena.js';
import { wasmWorkspaceBuffers } from '../wasm/ops.js';
import { Act, activate, activationCode, derivativeFromOutput, exp, tanh } from '../activations.js';
import {
  type AttentionDims,
  type AttentionGrads,
  type AttentionOptions as AttentionReferenceOptions,
  type AttentionParams,
  type AttentionScore,
  checkAttentionGrads,
  checkAttentionParams,
  checkAttentionShape,
} from '../attention.js';

export type { AttentionGrads, AttentionParams };

export interface AttentionOptions extends AttentionReferenceOptions {
  /**
   * Float32 only: allocate the buffers in this wasm arena (one allocF32s, with staging for non-arena operands) and run
   * the products, the score's tanh and the decoder's gate math on the WebAssembly SIMD kernels.
   */
  arena?: WasmArena;
}

/** Every buffer a fast forward/backward pair needs for one (Te, Td, B); made by {@link attentionWorkspace}. */
export interface AttentionWorkspace extends AttentionDims {
  /** φ of the cell. */
  readonly act: Act;
  /** σ of the cell. */
  readonly recAct: Act;
  /** `[Td+1,B,H]`: block 0 = s_0 (written by the caller), block i+1 = s_{i+1}. */
  readonly s: FloatArray;
  /** `[Td+1,B,H]`: block 0 = c_0 (written by the caller), block i+1 = c_{i+1}. */
  readonly c: FloatArray;
  /** `[Td,B,Te]`: alpha_ij, each row a softmax. */
  readonly alpha: FloatArray;
  /** `[Td,B,Din]`: the cell's inputs [x_i ; ctx_i]. */
  readonly xin: FloatArray;
  /** `[Td,B,Din]`: their gradients (columns Dx…Din-1: dctx; scratch of the backward). */
  readonly dxin: FloatArray;
  /** `[Td,B,4H]`: the cell's gates [i|f|g|o] after activation. */
  readonly a: FloatArray;
  /** `[Td,B,H]`: φ(c_{i+1}). */
  readonly phiC: FloatArray;
  /** `[Td,B,4H]`: the gate pre-activation gradients (scratch of the backward). */
  readonly dz: FloatArray;
  /** `[Te,B,A]` hEnc·Wh + ba (additive), `[Te,B,H]` hEnc·Waᵀ (general), empty (dot). */
  readonly P: FloatArray;
  /** dL/dP, same layout (scratch of the backward). */
  readonly dP: FloatArray;
  /** `[Td,Te,B,A]`: u_ij = tanh(q_i + P_j) (additive), else empty. Step i's block has P's layout [Te,B,A]. */
  readonly u: FloatArray;
  /** `[Td,Te,B]` (additive): the scores e (forward, wasm), then de (backward), in u's row order; else empty. */
  readonly eT: FloatArray;
  /** wasm path, additive: `[Td,Te,B,A]` dpre_ij of every step; `[Te,B,A]` de_ij v of one step; `[max(Te,Td)]` ones. */
  readonly dpre: FloatArray;
  /** See dpre. */
  readonly deV: FloatArray;
  /** See dpre. */
  readonly ones: FloatArray;
  /** `[B,A]`: q of the current step (additive), else empty. */
  readonly q: FloatArray;
  /** `[Td,B,A]`: dq of every step (additive), else empty. */
  readonly dq: FloatArray;
  /** `[Td,B,Te]`: dalpha, then de in place (scratch of the backward). */
  readonly de: FloatArray;
  /** `[B,H]`: carried dL/ds. */
  readonly ds: FloatArray;
  /** `[B,H]`: carried dL/dc. */
  readonly dc: FloatArray;
  /** wasm path: `[Te,B,E]` the arena's copy of hEnc, and dL/dhEnc before it is copied out; length 0 on the js path. */
  readonly hEncW: FloatArray;
  /** See hEncW. */
  readonly dhEncW: FloatArray;
  /** wasm path: the arena's copies of W, U, Ws (made once per call); length 0 on the js path. */
  readonly Ww: FloatArray;
  /** See Ww. */
  readonly Uw: FloatArray;
  /** See Ww. */
  readonly Wsw: FloatArray;
  /** `[E]`, float64: one context row as it is summed (scratch of the forward, on either path). */
  readonly ctxRow: Float64Array;
  /** The matrix products (jsOps, or wasm ones bound to the arena the buffers live in). */
  readonly ops: MatOps;
}

const OPTION_KEYS: readonly string[] = ['score', 'units', 'activation', 'recurrentActivation', 'arena'];

/**
 * The lengths of the buffers attentionWorkspace allocates, in its order, and the staging length on the wasm path (three
 * staging buffers of it: x, dx, the score's weights, every gradient, the upstream gradient). For memory estimates.
 *
 * @param Te - Encoder steps.
 * @param Td - Decoder steps.
 * @param B - Batch size.
 * @param Dx - Decoder input features.
 * @param E - Encoder state features.
 * @param H - Decoder units.
 * @param A - Attention units (additive), else 0.
 * @param score - The score.
 * @param wasm - The wasm path (an arena).
 * @returns The buffer lengths and the staging length.
 */
export function attentionWorkspaceSizes(
  Te: number,
  Td: number,
  B: number,
  Dx: number,
  E: number,
  H: number,
  A: number,
  score: AttentionScore,
  wasm: boolean,
): { sizes: number[]; stage: number } {
  const Din = Dx + E,
    G = 4 * H,
    BH = B * H;
  const Pcols = score === 'additive' ? A : score === 'general' ? H : 0;
  const sizes = [
    (Td + 1) * BH, // s
    (Td + 1) * BH, // c
    Td * B * Te, // alpha
    Td * B * Din, // xin
    Td * B * Din, // dxin
    Td * B * G, // a
    Td * BH, // phiC
    Td * B * G, // dz
    Te * B * Pcols, // P
    Te * B * Pcols, // dP
    Td * B * Te * A, // u
    B * A, // q
    Td * B * A, // dq
    Td * B * Te, // de
    BH, // ds
    BH, // dc
    wasm ? Te * B * E : 0, // hEncW
    wasm ? Te * B * E : 0, // dhEncW
    wasm ? Din * G : 0, // Ww
    wasm ? H * G : 0, // Uw
    wasm ? H * A : 0, // Wsw
    Td * Te * B * A > 0 ? Td * Te * B : 0, // eT (additive)
    wasm ? Td * Te * B * A : 0, // dpre (additive)
    wasm ? Te * B * A : 0, // deV (additive)
    wasm && A > 0 ? Math.max(Te, Td) : 0, // ones (additive)
  ];
  const stage = Math.max(Td * B * Math.max(Dx, H), Din * G, H * G, H * A, E * A, H * E, A);
  return { sizes, stage };
}

/** Allocates every buffer a forward/backward pair needs for one (Te, Td, B), in the given float type. */
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
  const fn = 'attentionWorkspace';
  const { score, A, activation, recurrentActivation } = checkAttentionShape(
    fn,
    { Te, Td, B, Dx, E, H },
    ctor,
    options,
    OPTION_KEYS,
  );
  const act = activationCode(activation, 'activation');
  const recAct = activationCode(recurrentActivation, 'recurrentActivation');
  const wasm = options.arena !== undefined;
  const { sizes, stage } = attentionWorkspaceSizes(Te, Td, B, Dx, E, H, A, score, wasm);
  let bufs: FloatArray[],
    ops: MatOps = jsOps;
  if (options.arena !== undefined) {
    if (ctor !== Float32Array) throw new TypeError(`${fn}(options.arena): the wasm kernels need Float32Array`);
    ({ bufs, ops } = wasmWorkspaceBuffers(options.arena, sizes, stage));
  } else {
    bufs = sizes.map((n) => new ctor(n));
  }
  const [
    s,
    c,
    alpha,
    xin,
    dxin,
    a,
    phiC,
    dz,
    P,
    dP,
    u,
    q,
    dq,
    de,
    ds,
    dc,
    hEncW,
    dhEncW,
    Ww,
    Uw,
    Wsw,
    eT,
    dpre,
    deV,
    ones,
  ] = bufs;
  ones.fill(1);
  return {
    Te,
    Td,
    B,
    Dx,
    E,
    H,
    A,
    score,
    act,
    recAct,
    s,
    c,
    alpha,
    xin,
    dxin,
    a,
    phiC,
    dz,
    P,
    dP,
    u,
    q,
    dq,
    de,
    ds,
    dc,
    hEncW,
    dhEncW,
    Ww,
    Uw,
    Wsw,
    eT,
    dpre,
    deV,
    ones,
    ctxRow: new Float64Array(E),
    ops,
  };
}

/** src itself, or on the wasm path (dst non-empty) its copy in the arena buffer dst. */
function resident(dst: FloatArray, src: FloatArray): FloatArray {
  if (dst.length === 0) return src;
  dst.set(src);
  return dst;
}

/**
 * Runs the attention decoder over Td steps from the initial state in block 0 of ws.s, ws.c; fills ws.s, ws.c,
 * ws.alpha, ws.xin, ws.a, ws.phiC, ws.P and ws.u. Same contract as the reference's attentionForward.
 */
// prettier-ignore
export function attentionForward(ws: AttentionWorkspace, p: AttentionParams, hEnc: FloatArray, x: FloatArray): void {
  checkAttentionParams('attentionForward', ws, p, hEnc, x);
  const { Te, Td, B, Dx, E, H, A, score, act, recAct, s, c, alpha, xin, a, phiC, P, u, q, eT, ctxRow } = ws;
  const { matmul, matmulABt, addBias } = ws.ops;
  const Din = Dx + E, G = 4 * H, BH = B * H;
  const K = resident(ws.hEncW, hEnc), W = resident(ws.Ww, p.W), U = resident(ws.Uw, p.U);
  const Ws = resident(ws.Wsw, p.Ws), v = p.v;

  // Once per sequence: P = hEnc·Wh + ba (additive) or P = hEnc·Waᵀ (general), over all Te·B rows.
  if (score === 'additive') {
    matmul(P, 0, A, K, 0, E, p.Wh, 0, A, Te * B, E, A, false);
    addBias(P, 0, A, p.ba, 0, Te * B, A);
  } else if (score === 'general') {
    matmulABt(P, 0, H, K, 0, E, p.Wa, 0, E, Te * B, E, H, false);
  }
  // Z = X·W_x + b for all Td·B rows; x_i into xin (for dW = Xinᵀ·dZ).
  if (Dx > 0) matmul(a, 0, G, x, 0, Dx, W, 0, G, Td * B, Dx, G, false);
  else a.fill(0);
  addBias(a, 0, G, p.b, 0, Td * B, G);
  for (let r = 0; r < Td * B; r++) for (let k = 0; k < Dx; k++) xin[r * Din + k] = x[r * Dx + k];

  const gates = act === Act.Tanh && recAct === Act.Sigmoid ? ws.ops.gates : undefined;
  const vec = ws.ops.gates;                                              // wasm: the score's tanh as one call
  const Kscore = score === 'dot' ? K : P;                                // rows h_j (dot) or P_j (general), H wide
  for (let i = 0; i < Td; i++) {
    const sOff = i * BH, eOff = i * B * Te, aOff = i * B * G, inOff = i * B * Din;
    // Scores e_i into alpha.
    if (score === 'additive') {
      matmul(q, 0, A, s, sOff, H, Ws, 0, A, B, H, A, false);            // q = s·Ws
      const uOff = i * Te * B * A, tOff = i * Te * B;
      if (vec !== undefined) {
        u.set(P, uOff);                                                   // u_ij = tanh(P_j + q), in three calls
        addBias(u, uOff, B * A, q, 0, Te, B * A);
        vec.tanh(u, uOff, Te * B * A);
        matmul(eT, tOff, 1, u, uOff, A, v, 0, 1, Te * B, A, 1, false);   // e_i = U_i·v
        for (let bb = 0; bb < B; bb++)
          for (let j = 0; j < Te; j++) alpha[eOff + bb * Te + j] = eT[tOff + j * B + bb];
      } else {
        for (let j = 0; j < Te; j++)
          for (let bb = 0; bb < B; bb++) {
            const pRow = (j * B + bb) * A, uRow = uOff + pRow, qRow = bb * A;
            let e = 0;
            for (let k = 0; k < A; k++) {
              const uk = tanh(q[qRow + k] + P[pRow + k]);                  // u_ij = tanh(q + P_j)
              u[uRow + k] = uk;
              e += v[k] * uk;                                              // e_ij = v·u_ij
            }
            alpha[eOff + bb * Te + j] = e;
          }
      }
    } else {
      for (let bb = 0; bb < B; bb++) {
        const sRow = sOff + bb * H;
        for (let j = 0; j < Te; j++) {
          const kRow = (j * B + bb) * H;
          let e = 0;
          for (let k = 0; k < H; k++) e += s[sRow + k] * Kscore[kRow + k];   // e_ij = s·h_j  or  s·P_j
          alpha[eOff + bb * Te + j] = e;
        }
      }
    }
    // alpha_ij = softmax_j(e_ij)
    for (let r = eOff, end = eOff + B * Te; r < end; r += Te) {
      let m = -Infinity;
      for (let j = 0; j < Te; j++) if (alpha[r + j] > m) m = alpha[r + j];
      let sum = 0;
      for (let j = 0; j < Te; j++) {
        const ex = exp(alpha[r + j] - m);
        alpha[r + j] = ex;
        sum += ex;
      }
      for (let j = 0; j < Te; j++) alpha[r + j] /= sum;
    }
    // ctx_i = Σ_j alpha_ij h_j, into xin's columns Dx…Din-1
    for (let bb = 0; bb < B; bb++) {                                      // (summed in float64 in ctxRow,
      const r = eOff + bb * Te, inRow = inOff + bb * Din + Dx;            //  reading the rows h_j contiguously)
      ctxRow.fill(0);
      for (let j = 0; j < Te; j++) {
        const aj = alpha[r + j], hRow = (j * B + bb) * E;
        for (let k = 0; k < E; k++) ctxRow[k] += aj * K[hRow + k];
      }
      for (let k = 0; k < E; k++) xin[inRow + k] = ctxRow[k];
    }
    // z_i += ctx_i·W_ctx + s_i·U
    matmul(a, aOff, G, xin, inOff + Dx, Din, W, Dx * G, G, B, E, G, true);
    matmul(a, aOff, G, s, sOff, H, U, 0, G, B, H, G, true);
    // Gates: i, f, o = σ(z), g = φ(z_g);  c_{i+1} = f⊙c_i + i⊙g;  phiC_i = φ(c_{i+1});  s_{i+1} = o⊙phiC_i
    if (gates !== undefined) gates.lstm(a, aOff, c, sOff, phiC, sOff, s, sOff + BH, B, H);
    else
      for (let bb = 0; bb < B; bb++) {
        const zRow = aOff + bb * G;
        activate(recAct, a, zRow, 2 * H);
        activate(act, a, zRow + 2 * H, H);
        activate(recAct, a, zRow + 3 * H, H);
        const k0 = sOff + bb * H;
        for (let j = 0; j < H; j++) {
          const k = k0 + j, zi = zRow + j;
          c[k + BH] = a[zi + H] * c[k] + a[zi] * a[zi + 2 * H];
          phiC[k] = c[k + BH];
        }
        activate(act, phiC, k0, H); // a loop, not activateScalar per element (whose result V8 boxed when not inlined)
        for (let j = 0; j < H; j++) s[k0 + j + BH] = a[zRow + j + 3 * H] * phiC[k0 + j];
      }
  }
};

/**
 * Backpropagation through the decoder, the attention weights, the scores and into the encoder states, for the forward
 * cached in ws. Same contract as the reference's attentionBackward: adds into every weight gradient of g; writes
 * dhEnc[Te,B,E], dx[Td,B,Dx] (unless null), ds0[B,H], dc0[B,H].
 */
// prettier-ignore
export function attentionBackward(g: AttentionGrads, dhEnc: FloatArray, dx: FloatArray | null, ds0: FloatArray,
                                  dc0: FloatArray, dsSeq: FloatArray | null, ws: AttentionWorkspace,
                                  p: AttentionParams, hEnc: FloatArray, x: FloatArray): void {
  const fn = 'attentionBackward';
  checkAttentionGrads(fn, ws, g, dhEnc, dx, ds0, dc0, dsSeq);
  checkAttentionParams(fn, ws, p, hEnc, x);
  const { Te, Td, B, Dx, E, H, A, score, act, recAct, s, c, alpha, xin, dxin, a, phiC, dz, P, dP, u, dq, de } = ws;
  const { ds, dc } = ws;
  const { matmul, matmulABt, matmulAtB } = ws.ops;
  const Din = Dx + E, G = 4 * H, BH = B * H, BE = B * E, TB = Td * B;
  const K = resident(ws.hEncW, hEnc), W = resident(ws.Ww, p.W), U = resident(ws.Uw, p.U);
  const Ws = resident(ws.Wsw, p.Ws), v = p.v;
  const dH = ws.dhEncW.length > 0 ? ws.dhEncW : dhEnc;                  // dL/dhEnc, accumulated in the arena on wasm
  const Kscore = score === 'dot' ? K : P;
  const { eT, dpre, deV, ones } = ws;
  const additive = score === 'additive', vec = ws.ops.gates;              // wasm: the score's tanh' as one call

  const fast = act === Act.Tanh && recAct === Act.Sigmoid;
  // wasm path: the cell's step loop below as one call (wasm/gates.ts, float64 like the loop).
  const gates = fast && (dsSeq === null || dsSeq instanceof Float32Array) ? ws.ops.gates : undefined;
  ds.fill(0);
  dc.fill(0);
  if (score === 'additive') dP.fill(0);
  for (let i = Td - 1; i >= 0; i--) {
    const sOff = i * BH, eOff = i * B * Te, aOff = i * B * G, inOff = i * B * Din;
    // The cell: ds += dsSeq_i;  dz_i;  dc ← dc⊙f
    if (gates !== undefined) gates.lstmBackward(dz, ds, dc, a, c, phiC, dsSeq, aOff, sOff, B, H);
    else
      for (let bb = 0; bb < B; bb++)
        for (let j = 0; j < H; j++) {
          const k = bb * H + j, zi = aOff + bb * G + j, kk = sOff + k;
          const ig = a[zi], fg = a[zi + H], gg = a[zi + 2 * H], og = a[zi + 3 * H], pc = phiC[kk];
          const dh = dsSeq !== null ? ds[k] + dsSeq[kk] : ds[k];
          const dcv = dc[k] + dh * og * derivativeFromOutput(act, pc);     // dc += dh⊙o⊙φ'(c_{i+1})
          dz[zi] = dcv * gg * derivativeFromOutput(recAct, ig);            // di⊙σ'(i)
          dz[zi + H] = dcv * c[kk] * derivativeFromOutput(recAct, fg);     // df⊙σ'(f)
          dz[zi + 2 * H] = dcv * ig * derivativeFromOutput(act, gg);       // dg⊙φ'(g)
          dz[zi + 3 * H] = dh * pc * derivativeFromOutput(recAct, og);     // do⊙σ'(o)
          dc[k] = dcv * fg;                                                // dc ← dc⊙f
        }
    matmulABt(ds, 0, H, dz, aOff, G, U, 0, G, B, G, H, false);           // ds ← dz_i·Uᵀ
    matmulABt(dxin, inOff + Dx, Din, dz, aOff, G, W, Dx * G, G, B, G, E, false);   // dctx_i = dz_i·W_ctxᵀ
    for (let bb = 0; bb < B; bb++) {                                     // dalpha_ij = dctx·h_j, into de
      const inRow = inOff + bb * Din + Dx;
      for (let j = 0; j < Te; j++) {
        const hRow = (j * B + bb) * E;
        let da = 0;
        for (let k = 0; k < E; k++) da += dxin[inRow + k] * K[hRow + k];
        de[eOff + bb * Te + j] = da;
      }
    }
    const tOff = i * Te * B;
    for (let bb = 0; bb < B; bb++) {                                     // de_ij = alpha_ij (dalpha_ij − Σ_k …)
      const r = eOff + bb * Te;
      let dot = 0;
      for (let j = 0; j < Te; j++) dot += alpha[r + j] * de[r + j];
      for (let j = 0; j < Te; j++) de[r + j] = alpha[r + j] * (de[r + j] - dot);
      if (additive) for (let j = 0; j < Te; j++) eT[tOff + j * B + bb] = de[r + j];   // de in u's row order
    }
    if (score === 'additive') {
      const qOff = i * B * A, uOff = i * Te * B * A;
      if (vec !== undefined) {
        matmul(deV, 0, A, eT, tOff, 1, v, 0, A, Te * B, 1, A, false);     // de_ij v
        vec.tanhBackward(dpre, deV, u, null, uOff, uOff, Te * B * A);    // dpre_ij = de_ij v ⊙ (1 − u_ij²)
        matmul(dq, qOff, B * A, ones, 0, Te, dpre, uOff, B * A, 1, Te, B * A, false);   // dq_i = Σ_j dpre_ij
      } else {
        dq.fill(0, qOff, qOff + B * A);
        for (let j = 0; j < Te; j++)
          for (let bb = 0; bb < B; bb++) {
            const pRow = (j * B + bb) * A, uRow = uOff + pRow, qRow = qOff + bb * A, dej = eT[tOff + j * B + bb];
            for (let k = 0; k < A; k++) {
              const uk = u[uRow + k];
              const dpre = dej * v[k] * (1 - uk * uk);                     // dpre_ij = de_ij v ⊙ (1 − u_ij²)
              dP[pRow + k] += dpre;                                        // dP_j += dpre_ij
              dq[qRow + k] += dpre;                                        // dq_i = Σ_j dpre_ij
            }
          }
      }
      matmulABt(ds, 0, H, dq, qOff, A, Ws, 0, A, B, A, H, true);         // ds += dq_i·Wsᵀ
    } else {
      for (let bb = 0; bb < B; bb++) {
        const r = eOff + bb * Te;
        for (let k = 0; k < H; k++) {
          let sum = 0;
          for (let j = 0; j < Te; j++) sum += de[r + j] * Kscore[(j * B + bb) * H + k];
          ds[bb * H + k] += sum;                                           // ds += Σ_j de_ij h_j  (general: P_j)
        }
      }
    }
  }

  // The cell's weights over the whole sequence.
  matmulAtB(g.dW, 0, G, xin, 0, Din, dz, 0, G, Din, TB, G, true);       // dW += Xinᵀ·dZ
  matmulAtB(g.dU, 0, G, s, 0, H, dz, 0, G, H, TB, G, true);             // dU += S_prevᵀ·dZ
  sumRows(g.db, 0, dz, 0, G, TB, G);                                     // db += Σ dZ
  if (dx !== null && Dx > 0) matmulABt(dx, 0, Dx, dz, 0, G, W, 0, G, TB, G, Dx, false);   // dx = dZ·W_xᵀ
  // dhEnc_b = Alpha_bᵀ·Dctx_b (through the contexts of every step)
  for (let bb = 0; bb < B; bb++)
    matmulAtB(dH, bb * E, BE, alpha, bb * Te, B * Te, dxin, bb * Din + Dx, B * Din, Te, Td, E, false);
  if (score === 'additive') {
    if (vec !== undefined)                                               // dP = Σ_i dpre_i
      matmul(dP, 0, Te * B * A, ones, 0, Td, dpre, 0, Te * B * A, 1, Td, Te * B * A, false);
    matmulAtB(g.dv, 0, A, eT, 0, 1, u, 0, A, 1, TB * Te, A, true);      // dv += DEᵀ·U
    matmulAtB(g.dWs, 0, A, s, 0, H, dq, 0, A, H, TB, A, true);           // dWs += S_prevᵀ·DQ
    matmulAtB(g.dWh, 0, A, K, 0, E, dP, 0, A, E, Te * B, A, true);       // dWh += hEncᵀ·dP
    sumRows(g.dba, 0, dP, 0, A, Te * B, A);                              // dba += Σ dP
    matmulABt(dH, 0, E, dP, 0, A, p.Wh, 0, A, Te * B, A, E, true);       // dhEnc += dP·Whᵀ
  } else if (score === 'dot') {
    for (let bb = 0; bb < B; bb++)                                       // dhEnc_b += DE_bᵀ·S_b
      matmulAtB(dH, bb * E, BE, de, bb * Te, B * Te, s, bb * H, BH, Te, Td, H, true);
  } else {
    for (let bb = 0; bb < B; bb++)                                       // dP_b = DE_bᵀ·S_b
      matmulAtB(dP, bb * H, BH, de, bb * Te, B * Te, s, bb * H, BH, Te, Td, H, false);
    matmulAtB(g.dWa, 0, E, dP, 0, H, K, 0, E, H, Te * B, E, true);       // dWa += dPᵀ·hEnc
    matmul(dH, 0, E, dP, 0, H, p.Wa, 0, E, Te * B, H, E, true);          // dhEnc += dP·Wa
  }
  if (dH !== dhEnc) dhEnc.set(dH);
  ds0.set(ds);
  dc0.set(dc);
};

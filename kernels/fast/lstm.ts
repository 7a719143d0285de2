/**
 * FAST twin of ../lstm.ts (the reference cell, whose loops and header equations these follow; spec/kernels/fast.spec.ts
 * holds this file to it): same functions and arguments, plus the wasm path, arenas, fused gates and the Uᵀ form.
 * LSTM over a sequence, forward and backward. Keras layout, gates i|f|c|o (the c block is called g below).
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
 * Speed: the gate math of a step runs in one pass per row (gatesSigmoidTanh for the default activations, with inlined
 * exp/tanh from activations.ts), the backward's in one fused loop. On the wasm path (a float32 workspace in an arena)
 * the default activations' forward gate math of a whole step, all B rows, is one call of ws.ops.gates.lstm: the same
 * equations in f32x4 WebAssembly SIMD (wasm/gates.ts; exp/σ/tanh within 1–2 ulp of f32), and the backward's loop of a
 * step is one call of ws.ops.gates.lstmBackward (f64x2: this loop's bits); U is packed into the GEMM's panels once per
 * call (ws.Up; Uᵀ in the backward), so no step's product packs it again (the same bits as packing it per step). This file's js loops run for other activations, for Float64Array (or a Float64Array
 * dhSeq) and on the js path. On the js path a batch below MATVEC_ROWS (streaming, batch 1) keeps
 * Uᵀ in the workspace (ws.Ut) and computes h·U as dot products over its rows (matmulABt), the faster matrix–vector form
 * there; the wasm path's matrix–vector kernel reads U's rows as they are (ws.Uw: no transpose per call, the same bits).
 *
 * Conventions (see README.md): outputs first; parameter gradients are ADDED into (the caller zeroes them once per step),
 * dx, dh0, dc0 are overwritten. The forward reads h0, c0 from block 0 of ws.h, ws.c (zeros after allocation; the caller may
 * write them). Nothing inside a time loop allocates. Lengths are checked on entry (RangeError naming the argument).
 *
 * @example
 * ```text
 * const ws = lstmWorkspace(T, B, D, H, Float64Array);            // activation 'tanh', recurrentActivation 'sigmoid'
 * lstmForward(ws, { W, U, b }, x);                               // ws.h.subarray(B*H) now holds h_1…h_T
 * lstmBackward({ dW, dU, db }, dx, dh0, dc0, dhSeq, null, null, ws, { W, U, b }, x);
 * ```
 */
import { type FloatArray, MATVEC_ROWS, transpose } from '../matmul.js';
import { type MatOps, inPlaceOption, jsOps, packsU, residentU } from './ops.js';
import type { WasmArena } from '../wasm/arena.js';
import { recurrentPackedLength, wasmWorkspaceBuffers } from '../wasm/ops.js';
import { Act, activationCode, activateScalar, derivativeFromOutput, sigmoid, tanh } from '../activations.js';
import { checkWorkspace } from '../check.js';
import {
  type LstmGrads,
  type LstmOptions as LstmReferenceOptions,
  type LstmParams,
  type LstmWorkspace as LstmReferenceWorkspace,
  checkLstmGrads,
  checkLstmParams,
} from '../lstm.js';

export type { LstmGrads, LstmParams };

export interface LstmOptions extends LstmReferenceOptions {
  /**
   * Float32 only: allocate the buffers in this wasm arena (one allocF32s, with staging for non-arena operands) and run
   * the products on the WebAssembly SIMD kernels. Default: the TypeScript kernels and ordinary typed arrays.
   */
  arena?: WasmArena;
  /**
   * The backward writes dz over a (ws.dz === ws.a): one [T,B,4H] buffer fewer, the largest of a training step with dz.
   * Each step's gate gradients need only that step's gates, read before they are overwritten, so the results are the
   * same bits; but a backward consumes the forward's cache, so a second backward needs a forward first. Default false.
   */
  inPlaceBackward?: boolean;
}

/** The reference workspace (../lstm.ts: the same buffers, the same layout) and what the fast path adds to it. */
export interface LstmWorkspace extends LstmReferenceWorkspace {
  /** [4H,H]: Uᵀ, on the js path for a batch below MATVEC_ROWS (streaming: h·U as dot products); length 0 otherwise. */
  readonly Ut: FloatArray;
  /**
   * [H,4H]: the wasm path's copy of U in the arena for the time loop's products (residentU) when the workspace does
   * not pack U (packsU: a batch below MATVEC_ROWS, whose matrix–vector kernels read U unpacked, or a single step);
   * length 0 otherwise.
   */
  readonly Uw: FloatArray;
  /**
   * The wasm path's U packed into the GEMM's panels (ops.packB), once per forward (U) and once per backward (Uᵀ) call,
   * for every step's product with it when packsU(T, B) on the wasm path; length 0 otherwise.
   */
  readonly Up: FloatArray;
  /** The matrix products (jsOps, or wasm ones bound to the arena the buffers live in). */
  readonly ops: MatOps;
}

const OPTION_KEYS: readonly string[] = ['activation', 'recurrentActivation', 'arena', 'inPlaceBackward'];

/** Allocates every buffer a forward/backward pair needs for one (T, B), in the given float type. */
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
  const inPlace = inPlaceOption('lstmWorkspace', options.inPlaceBackward);
  const BH = B * H;
  const sizes = [
    (T + 1) * BH,
    (T + 1) * BH,
    T * B * 4 * H,
    T * BH,
    inPlace ? 0 : T * B * 4 * H,
    BH,
    BH,
    B < MATVEC_ROWS && options.arena === undefined ? 4 * H * H : 0,
    options.arena !== undefined && !packsU(T, B) ? 4 * H * H : 0,
    options.arena !== undefined && packsU(T, B) ? recurrentPackedLength(4, H) : 0,
  ];
  let bufs: FloatArray[],
    ops: MatOps = jsOps;
  if (options.arena !== undefined) {
    if (ctor !== Float32Array) throw new TypeError('lstmWorkspace(options.arena): the wasm kernels need Float32Array');
    ({ bufs, ops } = wasmWorkspaceBuffers(
      options.arena,
      sizes,
      Math.max(T * B * D, D * 4 * H, H * 4 * H, T * B * 4 * H),
    ));
  } else {
    bufs = sizes.map((n) => new ctor(n));
  }
  const [h, c, a, phiC, dzOwn, dh, dc, Ut, Uw, Up] = bufs;
  const dz = inPlace ? a : dzOwn;
  return { T, B, D, H, act, recAct, h, c, a, phiC, dz, dh, dc, Ut, Uw, Up, ops };
}

/**
 * Runs the LSTM over x[T,B,D] from the initial state in block 0 of ws.h, ws.c; fills ws.h, ws.c, ws.a, ws.phiC.
 * xRepeated: x is one step x[B,D] fed at every step (a RepeatVector in front of the cell, as in the sequence autoencoder's
 * decoder): Z = x·W + b is computed once, over B rows instead of T·B, and copied to every step.
 */
export function lstmForward(ws: LstmWorkspace, p: LstmParams, x: FloatArray, xRepeated = false): void {
  checkLstmParams('lstmForward', ws, p, x, xRepeated);
  const { T, B, D, H, act, recAct, h, c, a, phiC } = ws;
  const { W, b } = p;
  const { matmul, matmulABt, matmulPacked, addBias } = ws.ops;
  const H4 = 4 * H,
    BH = B * H;

  // Z = X·W + b for all T·B rows at once (repeated input: for the B rows of step 0, then copied to every step).
  const rows = xRepeated ? B : T * B;
  matmul(a, 0, H4, x, 0, D, W, 0, H4, rows, D, H4, false);
  addBias(a, 0, H4, b, 0, rows, H4);
  if (xRepeated) for (let t = 1; t < T; t++) a.copyWithin(t * B * H4, 0, B * H4);

  const fast = act === Act.Tanh && recAct === Act.Sigmoid;
  const gates = fast ? ws.ops.gates : undefined; // wasm path: the gate math of a step is one call (wasm/gates.ts)
  const dotForm = ws.Ut.length > 0; // js path, batch 1–3: h·U = h·(Uᵀ)ᵀ, dot products over rows of Uᵀ
  if (dotForm) transpose(ws.Ut, p.U, H, H4);
  const U = dotForm ? p.U : residentU(ws.Uw, p.U);
  const Up = ws.Up;
  if (!dotForm) ws.ops.packB(Up, U, 0, H4, H, H4, false); // once per call: every step's product reads these panels
  // wasm path: the loop below, products and gates, as one call (the same calls in the same order: the same bits).
  if (gates?.lstmSteps !== undefined && !dotForm) {
    gates.lstmSteps(a, 0, c, 0, phiC, 0, h, 0, U, Up, T, B, H);
    return;
  }
  for (let t = 0; t < T; t++) {
    const aStep = t * B * H4;
    const prev = t * BH; // h_{t-1}, c_{t-1}; phiC_t (phiC block t); block t+1 = prev + BH holds h_t, c_t
    // z_t += h_{t-1}·U
    if (dotForm) matmulABt(a, aStep, H4, h, prev, H, ws.Ut, 0, H, B, H, H4, true);
    else matmulPacked(a, aStep, H4, h, prev, H, Up, U, 0, H4, false, B, H, H4, true);
    // Fused gates, one row (sequence) at a time: i, f, o = σ(z), g = φ(z_g) in place; c_t = f⊙c_{t-1} + i⊙g;
    // phiC_t = φ(c_t); h_t = o⊙phiC_t.
    if (gates !== undefined) gates.lstm(a, aStep, c, prev, phiC, prev, h, prev + BH, B, H);
    else
      for (let bb = 0; bb < B; bb++) {
        if (fast) gatesSigmoidTanh(a, aStep + bb * H4, c, phiC, h, prev + bb * H, BH, H);
        else gatesAny(a, aStep + bb * H4, c, phiC, h, prev + bb * H, BH, H, act, recAct);
      }
  }
}

/**
 * The forward gate math of one row for the default activations (σ = sigmoid, φ = tanh). a[aRow…+4H) holds z = [i|f|g|o]
 * and receives the activations; k0 indexes c_{t-1} (block t of c) and phiC_t; k0 + BH indexes c_t and h_t.
 * A function of its own so that V8 inlines sigmoid and exp into it (the time loop's own inlining budget is spent).
 * The reference for wasm/gates.ts's lstmGates, which does the same for all B rows of a step in f32x4 SIMD.
 */
function gatesSigmoidTanh(
  a: FloatArray,
  aRow: number,
  c: FloatArray,
  phiC: FloatArray,
  h: FloatArray,
  k0: number,
  BH: number,
  H: number,
): void {
  sigmoidRuns(a, aRow, 2 * H, aRow + 3 * H, H); // i, f and o
  tanhRun(a, aRow + 2 * H, H); // g
  for (let j = 0; j < H; j++) {
    const ai = aRow + j,
      k = k0 + j;
    const ct = a[ai + H] * c[k] + a[ai] * a[ai + 2 * H];
    c[k + BH] = ct;
    const pc = tanh(ct);
    phiC[k] = pc;
    h[k + BH] = a[ai + 3 * H] * pc;
  }
}

// The runs below have a single call site of sigmoid / tanh each, so that V8 can inline sigmoid, tanh and exp whole into
// them even when they are themselves inlined into gatesSigmoidTanh (its inlining budget holds one copy of each).

/** y ← σ(y) over two runs, y[off1…+n1) and y[off2…+n2). */
function sigmoidRuns(y: FloatArray, off1: number, n1: number, off2: number, n2: number): void {
  for (let i = 0, n = n1 + n2; i < n; i++) {
    const k = i < n1 ? off1 + i : off2 + i - n1;
    y[k] = sigmoid(y[k]);
  }
}

/** y ← tanh(y) over y[off…+n). */
function tanhRun(y: FloatArray, off: number, n: number): void {
  for (let i = off, end = off + n; i < end; i++) y[i] = tanh(y[i]);
}

/** gatesSigmoidTanh for any activation pair. */
function gatesAny(
  a: FloatArray,
  aRow: number,
  c: FloatArray,
  phiC: FloatArray,
  h: FloatArray,
  k0: number,
  BH: number,
  H: number,
  act: Act,
  recAct: Act,
): void {
  for (let j = 0; j < H; j++) {
    const ai = aRow + j,
      af = ai + H,
      ag = af + H,
      ao = ag + H,
      k = k0 + j;
    const ig = activateScalar(recAct, a[ai]),
      fg = activateScalar(recAct, a[af]);
    const gg = activateScalar(act, a[ag]),
      og = activateScalar(recAct, a[ao]);
    a[ai] = ig;
    a[af] = fg;
    a[ag] = gg;
    a[ao] = og;
    const ct = fg * c[k] + ig * gg;
    c[k + BH] = ct;
    const pc = activateScalar(act, ct);
    phiC[k] = pc;
    h[k + BH] = og * pc;
  }
}

/**
 * Backpropagation through time for the forward pass cached in ws (call lstmForward with the same p, x and xRepeated first).
 * dhSeq[T,B,H]: dL/dh_t for every step, or null; dhT, dcT [B,H]: extra dL/dh_T, dL/dc_T, or null.
 * Adds into g.dW, g.dU, g.db; writes dx[T,B,D] (unless null), dh0[B,H], dc0[B,H].
 * xRepeated: x and dx are [B,D] and dx = Σ_t dL/dx_t (what RepeatVector's backward would sum); with S = Σ_t dz_t,
 * dW += xᵀ·S and dx = S·Wᵀ are products over B rows instead of T·B.
 */
export function lstmBackward(
  g: LstmGrads,
  dx: FloatArray | null,
  dh0: FloatArray,
  dc0: FloatArray,
  dhSeq: FloatArray | null,
  dhT: FloatArray | null,
  dcT: FloatArray | null,
  ws: LstmWorkspace,
  p: LstmParams,
  x: FloatArray,
  xRepeated = false,
): void {
  const fn = 'lstmBackward';
  const { T, B, D, H, act, recAct, h, c, a, phiC, dz, dh, dc } = ws;
  const H4 = 4 * H,
    BH = B * H;
  checkLstmGrads(fn, ws, g, dx, dh0, dc0, dhSeq, dhT, dcT, xRepeated);
  checkLstmParams(fn, ws, p, x, xRepeated);
  const W = p.W,
    U = residentU(ws.Uw, p.U);
  const { matmulABt, matmulAtB, matmulPacked, sumRows, foldBlocks } = ws.ops;
  const H2 = 2 * H,
    H3 = 3 * H;
  const Up = ws.Up;
  ws.ops.packB(Up, U, 0, H4, H4, H, true); // Uᵀ, once per call: every step's dz_t·Uᵀ reads these panels

  if (dhT !== null) dh.set(dhT);
  else dh.fill(0);
  if (dcT !== null) dc.set(dcT);
  else dc.fill(0);

  const fast = act === Act.Tanh && recAct === Act.Sigmoid;
  // wasm path: the loop below as one call per step (wasm/gates.ts, float64 like this loop: the same bits).
  const gates = fast && (dhSeq === null || dhSeq instanceof Float32Array) ? ws.ops.gates : undefined;
  for (let t = T - 1; t >= 0; t--) {
    const aStep = t * B * H4;
    const prev = t * BH; // c_{t-1} in c; phiC_t in phiC; dhSeq_t
    // Fused: dh += dhSeq_t, the cell and gate gradients, and the activation derivatives taken from the cached outputs.
    if (gates !== undefined) gates.lstmBackward(dz, dh, dc, a, c, phiC, dhSeq, aStep, prev, B, H);
    else
      for (let bb = 0; bb < B; bb++) {
        const aRow = aStep + bb * H4,
          hRow = bb * H;
        for (let j = 0; j < H; j++) {
          const ai = aRow + j,
            af = ai + H,
            ag = ai + H2,
            ao = ai + H3,
            k = hRow + j;
          const ig = a[ai],
            fg = a[af],
            gg = a[ag],
            og = a[ao];
          const pc = phiC[prev + k];
          const dhv = dhSeq !== null ? dh[k] + dhSeq[prev + k] : dh[k];
          if (fast) {
            const dcv = dc[k] + dhv * og * (1 - pc * pc);
            dz[ai] = dcv * gg * (ig * (1 - ig)); // di⊙σ'(i)
            dz[af] = dcv * c[prev + k] * (fg * (1 - fg)); // df⊙σ'(f)
            dz[ag] = dcv * ig * (1 - gg * gg); // dg⊙φ'(g)
            dz[ao] = dhv * pc * (og * (1 - og)); // do⊙σ'(o)
            dc[k] = dcv * fg;
          } else {
            const dcv = dc[k] + dhv * og * derivativeFromOutput(act, pc);
            dz[ai] = dcv * gg * derivativeFromOutput(recAct, ig);
            dz[af] = dcv * c[prev + k] * derivativeFromOutput(recAct, fg);
            dz[ag] = dcv * ig * derivativeFromOutput(act, gg);
            dz[ao] = dhv * pc * derivativeFromOutput(recAct, og);
            dc[k] = dcv * fg;
          }
        }
      }
    // dh ← dz_t·Uᵀ
    matmulPacked(dh, 0, H, dz, aStep, H4, Up, U, 0, H4, true, B, H4, H, false);
  }

  const TB = T * B;
  matmulAtB(g.dU, 0, H4, h, 0, H, dz, 0, H4, H, TB, H4, true); // dU += H_prevᵀ·dZ
  sumRows(g.db, 0, dz, 0, H4, TB, H4); // db += Σ dZ
  let rows = TB;
  if (xRepeated) {
    // S = Σ_t dz_t, into block 0 (dz is scratch now)
    foldBlocks(dz, 0, B * H4, T);
    rows = B;
  }
  matmulAtB(g.dW, 0, H4, x, 0, D, dz, 0, H4, D, rows, H4, true); // dW += Xᵀ·dZ   (repeated: xᵀ·S)
  if (dx !== null) matmulABt(dx, 0, D, dz, 0, H4, W, 0, H4, rows, H4, D, false); // dx = dZ·Wᵀ   (repeated: S·Wᵀ)
  dh0.set(dh);
  dc0.set(dc);
}

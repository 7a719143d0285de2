/**
 * FAST twin of ../gru.ts (the reference cell, whose loops and header equations these follow; spec/kernels/fast.spec.ts
 * holds this file to it): same functions and arguments, plus the wasm path, arenas, fused gates and the Uᵀ form.
 * GRU over a sequence. Keras layout, gates z|r|h (update, reset, candidate), both Keras variants.
 * Time-major: x[T,B,D], h[T+1,B,H] (block 0 = h0, block t+1 = h_t, the output of step t), a[T,B,3H], dz[T,B,3H].
 * W[D,3H], U[H,3H]; resetAfter false: b[3H]; resetAfter true: b[2,3H] (row 0 input bias b_x, row 1 recurrent bias b_r).
 * σ = recurrentActivation (default sigmoid), φ = activation (default tanh). Columns of W, U, b, a, dz: [z | r | h].
 * h_{t-1} below is h block t; every product with U uses all of h's rows and one column slice of U (no copies).
 *
 * Forward (both)  a ← X·W + b_x   (one GEMM over the T·B rows; b_x = b[0:3H], the whole b when resetAfter is false)
 *   resetAfter false (Keras classic, Cho et al. v3: reset before the product):
 *           z = σ(a_z + h_{t-1}·U_z);   r = σ(a_r + h_{t-1}·U_r)            (one product: U[:, 0:2H], N = 2H)
 *           rh_t = r⊙h_{t-1} (cached);   h̃ = φ(a_h + rh_t·U_h)              (U_h = U[:, 2H:3H])
 *   resetAfter true (Keras 2 default, CuDNN / PyTorch form: reset after the product):
 *           inner_{z,r} = h_{t-1}·U_{z,r} + b_r{z,r};   innerH_t = h_{t-1}·U_h + b_rh (cached)
 *           z = σ(a_z + inner_z);   r = σ(a_r + inner_r);   h̃ = φ(a_h + r⊙innerH_t)
 *   both:   h_t = z⊙h_{t-1} + (1−z)⊙h̃.   a[t] keeps the post-activations [z | r | h̃].
 *
 * Backward (t = T-1…0; dh carried from t+1, starting at dhT or 0)   dh += dhSeq[t]
 *   both:   dz_h = dh⊙(1−z)⊙φ'(h̃);   dz_z = dh⊙(h_{t-1} − h̃)⊙σ'(z);   dh ← dh⊙z        (direct path z⊙h_{t-1})
 *   resetAfter false:
 *           drh = dz_h·U_hᵀ;   dz_r = drh⊙h_{t-1}⊙σ'(r);   dh += drh⊙r;   dh += [dz_z | dz_r]·U[:, 0:2H]ᵀ
 *   resetAfter true:
 *           dz_r = dz_h⊙innerH_t⊙σ'(r);   dInner_t = [dz_z | dz_r | dz_h⊙r];   dh += dInner_t·Uᵀ
 *   dz[t] = [dz_z | dz_r | dz_h] is the gradient of the pre-activation x-projection a.
 *   after the loop:   dW += Xᵀ·dZ;   dx = dZ·Wᵀ;   dh0 = dh
 *   resetAfter false: dU[:, 0:2H] += H_prevᵀ·dZ_{z,r};   dU[:, 2H:3H] += RHᵀ·dZ_h;   db += Σ dZ
 *   resetAfter true:  dU += H_prevᵀ·dInner;   db[0,:] += Σ dZ;   db[1,:] += Σ dInner
 *   (H_prev = h blocks 0…T-1 as a [T·B,H] matrix, RH = rh as [T·B,H]; Σ sums over the T·B rows.)
 *
 * Repeated input (xRepeated, a RepeatVector in front): x[B,D] is every step's input, so a = x·W + b_x over B rows, copied to
 * every step; backward sums S = Σ_t dz_t (after dU has used dz), then dW += xᵀ·S, dx = S·Wᵀ. The gate math of a step runs in
 * two fused passes per row; on the js path a batch below MATVEC_ROWS computes the products with U as dot products over rows
 * of Uᵀ (ws.Ut).
 * On the wasm path (a float32 workspace in an arena) with the default activations each of the two passes is one call for
 * all B rows (ws.ops.gates.gruResetAfter / gruResetBefore, then gruOutput: the same equations in f32x4 WebAssembly SIMD,
 * wasm/gates.ts); so is each backward row loop (gruBackwardAfter, or gruBackwardBefore and gruBackwardReset: f64x2, the
 * loops' bits), and the blocks of U the time loop multiplies by are packed into the GEMM's panels once per call (ws.Up,
 * ws.Uph; their transposes in the backward), not per step. The js loops here run for other
 * activations, Float64Array and the js path.
 *
 * Conventions (kernels/README.md): parameter gradients dW, dU, db are ADDED into; dx and dh0 are WRITTEN; dx may be
 * null; dhSeq (gradient wrt every h_t) and dhT (wrt the last one) may be null. dh0 may be the same array as dhT.
 * Lengths are checked on entry (RangeError naming the argument); values are not. The time loops do not allocate.
 */
import { type FloatArray, MATVEC_ROWS, transpose } from '../matmul.js';
import { type MatOps, inPlaceOption, jsOps, packsU, residentU } from './ops.js';
import type { WasmArena } from '../wasm/arena.js';
import { packedLength, recurrentPackedLength, wasmWorkspaceBuffers } from '../wasm/ops.js';
import { Act, activateScalar, derivativeFromOutput, sigmoid, tanh } from '../activations.js';
import { checkWorkspace } from '../check.js';
import {
  type GruGrads,
  type GruOptions as GruReferenceOptions,
  type GruParams,
  type GruWorkspace as GruReferenceWorkspace,
  checkGruGrads,
  checkGruParams,
  gruSettings,
} from '../gru.js';

export type { GruGrads, GruParams };
export { gruBiasLength } from '../gru.js';

export interface GruOptions extends GruReferenceOptions {
  /** Float32 only: buffers in this wasm arena, products on the WebAssembly SIMD kernels (see LstmOptions.arena). */
  arena?: WasmArena;
  /** The backward writes dz over a (ws.dz === ws.a): see LstmOptions.inPlaceBackward. Default false. */
  inPlaceBackward?: boolean;
}

/** The reference workspace (../gru.ts: the same buffers, the same layout) and what the fast path adds to it. */
export interface GruWorkspace extends GruReferenceWorkspace {
  /** [3H,H]: Uᵀ, on the js path for a batch below MATVEC_ROWS (streaming: products with U as dot products); else empty. */
  readonly Ut: FloatArray;
  /** [H,3H]: the wasm path's copy of U in the arena (residentU) when the workspace does not pack U (packsU); else empty. */
  readonly Uw: FloatArray;
  /**
   * The wasm path's packed panels (ops.packB, once per call) when packsU(T, B), else length 0: Up holds
   * U[:, 0:2H] in the forward and U[:, 0:2H]ᵀ (classic) or Uᵀ (resetAfter) in the backward; Uph holds U_h = U[:, 2H:3H]
   * in the forward and U_hᵀ in the classic backward.
   */
  readonly Up: FloatArray;
  readonly Uph: FloatArray;
  /** The matrix products (jsOps, or wasm ones bound to the arena the buffers live in). */
  readonly ops: MatOps;
}

const OPTION_KEYS: readonly string[] = ['activation', 'recurrentActivation', 'resetAfter', 'arena', 'inPlaceBackward'];

/** Allocates every buffer a GRU of these sizes needs for forward and backward, once. */
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
  const inPlace = inPlaceOption('gruWorkspace', options.inPlaceBackward);
  const BH = B * H,
    TBH = T * BH,
    TBG = T * B * 3 * H;
  const sizes = [
    TBH + BH,
    TBG,
    inPlace ? 0 : TBG,
    BH,
    resetAfter ? TBH : 0,
    resetAfter ? TBG : 0,
    resetAfter ? 0 : TBH,
    resetAfter ? 0 : BH,
    B < MATVEC_ROWS && options.arena === undefined ? 3 * H * H : 0,
    ...gruUwSizes(options.arena !== undefined, T, B, H),
  ];
  let bufs: FloatArray[],
    ops: MatOps = jsOps;
  if (options.arena !== undefined) {
    if (ctor !== Float32Array) throw new TypeError('gruWorkspace(options.arena): the wasm kernels need Float32Array');
    ({ bufs, ops } = wasmWorkspaceBuffers(options.arena, sizes, Math.max(T * B * D, D * 3 * H, H * 3 * H, TBG)));
  } else {
    bufs = sizes.map((n) => new ctor(n));
  }
  const [h, a, dzOwn, dh, innerH, dInner, rh, drh, Ut, Uw, Up, Uph] = bufs;
  const dz = inPlace ? a : dzOwn;
  return { T, B, D, H, act, recAct, resetAfter, h, a, dz, dh, innerH, dInner, rh, drh, Ut, Uw, Up, Uph, ops };
}

/** Lengths of ws.Uw, ws.Up, ws.Uph (in that order) on the wasm path (`wasm`) or the js path. */
export function gruUwSizes(wasm: boolean, T: number, B: number, H: number): [number, number, number] {
  if (!wasm) return [0, 0, 0];
  if (!packsU(T, B)) return [3 * H * H, 0, 0];
  const Uph = packedLength(H, H); // together recurrentPackedLength(3, H)
  return [0, recurrentPackedLength(3, H) - Uph, Uph];
}

/**
 * Runs the GRU over x[T,B,D], reading h0 from block 0 of ws.h and writing h_1…h_T into blocks 1…T, caches into ws.
 * xRepeated: x is one step x[B,D] fed at every step (a RepeatVector in front): a = x·W + b_x is computed once and copied.
 */
export function gruForward(ws: GruWorkspace, p: GruParams, x: FloatArray, xRepeated = false): void {
  checkGruParams('gruForward', ws, p, x, xRepeated);
  const { T, B, D, H, act, recAct, resetAfter, h, a, innerH, rh } = ws;
  const { W, b } = p;
  const { matmul, matmulABt, matmulPacked, addBias } = ws.ops;
  const G = 3 * H,
    H2 = 2 * H,
    BH = B * H,
    BG = B * G;

  // a ← X·W + b_x over all T·B rows (repeated input: the B rows of step 0, then copied to every step).
  const rows = xRepeated ? B : T * B;
  matmul(a, 0, G, x, 0, D, W, 0, G, rows, D, G, false);
  addBias(a, 0, G, b, 0, rows, G);
  if (xRepeated) for (let t = 1; t < T; t++) a.copyWithin(t * BG, 0, BG);
  const fast = act === Act.Tanh && recAct === Act.Sigmoid;
  const gates = fast ? ws.ops.gates : undefined; // wasm path: each of the two gate passes is one call (wasm/gates.ts)
  const dotForm = ws.Ut.length > 0; // js path, batch 1–3: products with U as dot products over rows of Uᵀ
  const Ut = ws.Ut;
  if (dotForm) transpose(Ut, p.U, H, G);
  const U = dotForm ? p.U : residentU(ws.Uw, p.U);
  const { Up, Uph } = ws;
  if (!dotForm) {
    // Once per call: every step's products read these panels.
    ws.ops.packB(Up, U, 0, G, H, H2, false); // U[:, 0:2H]
    ws.ops.packB(Uph, U, H2, G, H, H, false); // U_h
  }

  // wasm path: the loop below, products, biases and gates, as one call (the same calls in the same order: the same bits).
  if (gates?.gruSteps !== undefined && !dotForm) {
    gates.gruSteps(a, h, innerH, rh, U, Up, Uph, b, T, B, H, resetAfter);
    return;
  }
  for (let t = 0; t < T; t++) {
    const aOff = t * BG,
      hpOff = t * BH,
      hOff = hpOff + BH; // hpOff: h_{t-1} (block t); also the [T,B,H] cache offset
    // z, r pre-activations: a_{z,r} += h_{t-1}·U[:, 0:2H]
    if (dotForm) matmulABt(a, aOff, G, h, hpOff, H, Ut, 0, H, B, H, H2, true);
    else matmulPacked(a, aOff, G, h, hpOff, H, Up, U, 0, G, false, B, H, H2, true);
    if (resetAfter) {
      addBias(a, aOff, G, b, G, B, H2); // + b_r{z,r}
      if (dotForm) matmulABt(innerH, hpOff, H, h, hpOff, H, Ut, H2 * H, H, B, H, H, false);
      else matmulPacked(innerH, hpOff, H, h, hpOff, H, Uph, U, H2, G, false, B, H, H, false); // innerH = h_{t-1}·U_h
      addBias(innerH, hpOff, H, b, G + H2, B, H); //        + b_rh
    }
    // Fused gate loops: z, r = σ(·) in place; resetAfter: a_h += r⊙innerH_t; classic: rh_t = r⊙h_{t-1}, then a_h += rh_t·U_h;
    // h̃ = φ(a_h) in place; h_t = z⊙h_{t-1} + (1−z)⊙h̃.
    if (gates !== undefined) {
      if (resetAfter) gates.gruResetAfter(a, aOff, innerH, hpOff, B, H);
      else gates.gruResetBefore(a, aOff, rh, hpOff, h, hpOff, B, H);
    } else
      for (let bb = 0; bb < B; bb++) {
        const row = aOff + bb * G,
          k0 = hpOff + bb * H;
        if (fast) {
          gatesSigmoid(a, row, H, resetAfter, innerH, rh, h, k0);
          continue;
        }
        for (let j = 0; j < H; j++) {
          const iz = row + j,
            ir = iz + H;
          const z = activateScalar(recAct, a[iz]);
          const r = activateScalar(recAct, a[ir]);
          a[iz] = z;
          a[ir] = r;
          if (resetAfter) a[ir + H] += r * innerH[k0 + j];
          else rh[k0 + j] = r * h[k0 + j];
        }
      }
    if (!resetAfter) {
      // a_h += rh_t·U_h
      if (dotForm) matmulABt(a, aOff + H2, G, rh, hpOff, H, Ut, H2 * H, H, B, H, H, true);
      else matmulPacked(a, aOff + H2, G, rh, hpOff, H, Uph, U, H2, G, false, B, H, H, true);
    }
    if (gates !== undefined) gates.gruOutput(a, aOff, h, hpOff, B, H);
    else
      for (let bb = 0; bb < B; bb++) {
        const row = aOff + bb * G,
          k0 = bb * H;
        if (fast) {
          outputTanh(a, row, H, h, hpOff + k0, hOff + k0);
          continue;
        }
        for (let j = 0; j < H; j++) {
          const ih = row + H2 + j;
          const hh = activateScalar(act, a[ih]);
          a[ih] = hh;
          const z = a[row + j];
          h[hOff + k0 + j] = z * h[hpOff + k0 + j] + (1 - z) * hh;
        }
      }
  }
}

// The default activations' gate loops of one row, in functions of their own with one call site of sigmoid / tanh each,
// so that V8 inlines sigmoid, tanh and exp whole (inside gruForward its inlining budget is spent, and an exp it does not
// inline returns a boxed double: an allocation per call). The same operations per element as the loops they replace.

/** z, r = σ(·) in place over a[row…+2H) (z first, then r); resetAfter: a_h += r⊙innerH, else rh = r⊙h_{t-1}. */
function gatesSigmoid(
  a: FloatArray,
  row: number,
  H: number,
  resetAfter: boolean,
  innerH: FloatArray,
  rh: FloatArray,
  h: FloatArray,
  k0: number,
): void {
  for (let j = 0, n = 2 * H; j < n; j++) {
    const v = sigmoid(a[row + j]);
    a[row + j] = v;
    if (j < H) continue;
    const k = k0 + j - H; // v is r_j: a_h's element is at row + 2H + (j − H)
    if (resetAfter) a[row + H + j] += v * innerH[k];
    else rh[k] = v * h[k];
  }
}

/** h̃ = φ(a_h) in place over a[row+2H…+H);  h_t = z⊙h_{t-1} + (1−z)⊙h̃ from h[prev…] into h[next…]. */
function outputTanh(a: FloatArray, row: number, H: number, h: FloatArray, prev: number, next: number): void {
  const ah = row + 2 * H;
  for (let j = 0; j < H; j++) {
    const hh = tanh(a[ah + j]);
    a[ah + j] = hh;
    const z = a[row + j];
    h[next + j] = z * h[prev + j] + (1 - z) * hh;
  }
}

/**
 * Backpropagates through the sequence cached in ws by gruForward(ws, p, x, xRepeated). dhSeq[T,B,H] is dL/dh_t for every
 * step (null: none), dhT[B,H] an extra dL/dh_T (null: none). Adds into g.dW, g.dU, g.db; writes dx[T,B,D] (unless null)
 * and dh0[B,H]. xRepeated: x and dx are [B,D], dx = Σ_t dL/dx_t; with S = Σ_t dz_t, dW += xᵀ·S and dx = S·Wᵀ.
 */
export function gruBackward(
  g: GruGrads,
  dx: FloatArray | null,
  dh0: FloatArray,
  dhSeq: FloatArray | null,
  dhT: FloatArray | null,
  ws: GruWorkspace,
  p: GruParams,
  x: FloatArray,
  xRepeated = false,
): void {
  const fn = 'gruBackward';
  checkGruParams(fn, ws, p, x, xRepeated);
  const { T, B, D, H, act, recAct, resetAfter, h, a, dz, dh, innerH, dInner, rh, drh } = ws;
  const W = p.W,
    U = residentU(ws.Uw, p.U);
  const { matmulABt, matmulAtB, matmulPacked, sumRows, foldBlocks } = ws.ops;
  const { dW, dU, db } = g;
  const G = 3 * H,
    H2 = 2 * H,
    BH = B * H,
    BG = B * G,
    TB = T * B;
  const { Up, Uph } = ws;
  // Once per call: every step's products read these panels.
  if (resetAfter)
    ws.ops.packB(Up, U, 0, G, G, H, true); // Uᵀ
  else {
    ws.ops.packB(Up, U, 0, G, H2, H, true); // U[:, 0:2H]ᵀ
    ws.ops.packB(Uph, U, H2, G, H, H, true); // U_hᵀ
  }
  checkGruGrads(fn, ws, g, dx, dh0, dhSeq, dhT, xRepeated);

  const fast = act === Act.Tanh && recAct === Act.Sigmoid;
  // wasm path: each row loop below as one call per step (wasm/gates.ts, float64 like these loops: the same bits).
  const gates = fast && (dhSeq === null || dhSeq instanceof Float32Array) ? ws.ops.gates : undefined;
  if (dhT !== null) dh.set(dhT);
  else dh.fill(0);
  for (let t = T - 1; t >= 0; t--) {
    const aOff = t * BG,
      hpOff = t * BH;
    if (gates !== undefined) {
      if (resetAfter) gates.gruBackwardAfter(dz, dInner, dh, a, h, innerH, dhSeq, aOff, hpOff, B, H);
      else gates.gruBackwardBefore(dz, dh, a, h, dhSeq, aOff, hpOff, B, H);
    } else
      for (let bb = 0; bb < B; bb++) {
        const row = aOff + bb * G,
          k0 = bb * H;
        for (let j = 0; j < H; j++) {
          const z = a[row + j],
            hh = a[row + H2 + j],
            hp = h[hpOff + k0 + j];
          const d = dhSeq !== null ? dh[k0 + j] + dhSeq[hpOff + k0 + j] : dh[k0 + j];
          const dzh = d * (1 - z) * (fast ? 1 - hh * hh : derivativeFromOutput(act, hh));
          const dzz = d * (hp - hh) * (fast ? z * (1 - z) : derivativeFromOutput(recAct, z));
          dz[row + j] = dzz;
          dz[row + H2 + j] = dzh;
          dh[k0 + j] = d * z;
          if (resetAfter) {
            const r = a[row + H + j];
            const dzr = dzh * innerH[hpOff + k0 + j] * (fast ? r * (1 - r) : derivativeFromOutput(recAct, r));
            dz[row + H + j] = dzr;
            dInner[row + j] = dzz;
            dInner[row + H + j] = dzr;
            dInner[row + H2 + j] = dzh * r;
          }
        }
      }
    if (resetAfter) {
      matmulPacked(dh, 0, H, dInner, aOff, G, Up, U, 0, G, true, B, G, H, true); // dh += dInner_t·Uᵀ
    } else {
      matmulPacked(drh, 0, H, dz, aOff + H2, G, Uph, U, H2, G, true, B, H, H, false); // drh = dz_h·U_hᵀ
      if (gates !== undefined) gates.gruBackwardReset(dz, dh, drh, a, h, aOff, hpOff, B, H);
      else
        for (let bb = 0; bb < B; bb++) {
          const row = aOff + bb * G,
            k0 = bb * H;
          for (let j = 0; j < H; j++) {
            const r = a[row + H + j],
              d = drh[k0 + j];
            dz[row + H + j] = d * h[hpOff + k0 + j] * (fast ? r * (1 - r) : derivativeFromOutput(recAct, r));
            dh[k0 + j] += d * r;
          }
        }
      matmulPacked(dh, 0, H, dz, aOff, G, Up, U, 0, G, true, B, H2, H, true); // dh += [dz_z | dz_r]·U[:, 0:2H]ᵀ
    }
  }

  sumRows(db, 0, dz, 0, G, TB, G); // db[0:3H] += Σ dZ
  if (resetAfter) {
    matmulAtB(dU, 0, G, h, 0, H, dInner, 0, G, H, TB, G, true); // dU += H_prevᵀ·dInner
    sumRows(db, G, dInner, 0, G, TB, G); // db[3H:6H] += Σ dInner
  } else {
    matmulAtB(dU, 0, G, h, 0, H, dz, 0, G, H, TB, H2, true); // dU[:, 0:2H] += H_prevᵀ·dZ_{z,r}
    matmulAtB(dU, H2, G, rh, 0, H, dz, H2, G, H, TB, H, true); // dU[:, 2H:3H] += RHᵀ·dZ_h
  }
  let rows = TB;
  if (xRepeated) {
    // S = Σ_t dz_t into block 0 (scratch now)
    foldBlocks(dz, 0, BG, T);
    rows = B;
  }
  matmulAtB(dW, 0, G, x, 0, D, dz, 0, G, D, rows, G, true); // dW += Xᵀ·dZ   (repeated: xᵀ·S)
  if (dx !== null) matmulABt(dx, 0, D, dz, 0, G, W, 0, G, rows, G, D, false); // dx = dZ·Wᵀ   (repeated: S·Wᵀ)
  dh0.set(dh);
}

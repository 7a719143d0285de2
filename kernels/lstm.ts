/**
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
 *
 * Conventions (see README.md): outputs first; parameter gradients are ADDED into (the caller zeroes them once per step),
 * dx, dh0, dc0 are overwritten. The forward reads h0, c0 from block 0 of ws.h, ws.c (zeros after allocation; the caller may
 * write them). Nothing inside a time loop allocates. Lengths are checked on entry (RangeError naming the argument).
 *
 * @example
 *   const ws = lstmWorkspace(T, B, D, H, Float64Array);            // activation 'tanh', recurrentActivation 'sigmoid'
 *   lstmForward(ws, { W, U, b }, x);                               // ws.h.subarray(B*H) now holds h_1…h_T
 *   lstmBackward({ dW, dU, db }, dx, dh0, dc0, dhSeq, null, null, ws, { W, U, b }, x);
 */
import { FloatArray, matmul, matmulABt, matmulAtB, addBias, sumRows } from './matmul';
import { Act, activationCode, activate, activateBackward, derivativeFromOutput } from './activations';

export interface LstmOptions {
  /** φ, applied to the candidate g and to c_t. Default 'tanh'. */
  activation?: string;
  /** σ, applied to the gates i, f, o. Default 'sigmoid' (Keras; TensorFlow.js defaults to 'hardSigmoid'). */
  recurrentActivation?: string;
}

export interface LstmWorkspace {
  readonly T: number;
  readonly B: number;
  readonly D: number;
  readonly H: number;
  readonly act: Act;
  readonly recAct: Act;
  /** [T+1,B,H]: block 0 = h0, block t+1 = h_t. */
  readonly h: FloatArray;
  /** [T+1,B,H]: block 0 = c0, block t+1 = c_t. */
  readonly c: FloatArray;
  /** [T,B,4H]: post-activation gates i|f|g|o of each step. */
  readonly a: FloatArray;
  /** [T,B,H]: φ(c_t). */
  readonly phiC: FloatArray;
  /** [T,B,4H]: scratch for the gate pre-activation gradients dZ. */
  readonly dz: FloatArray;
  /** [B,H]: carried dL/dh. */
  readonly dh: FloatArray;
  /** [B,H]: carried dL/dc. */
  readonly dc: FloatArray;
}

export interface LstmParams { W: FloatArray; U: FloatArray; b: FloatArray }
export interface LstmGrads { dW: FloatArray; dU: FloatArray; db: FloatArray }

const OPTION_KEYS: readonly string[] = ['activation', 'recurrentActivation'];

function positiveInt(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${fn}: ${name} must be a positive integer, got ${v}`);
}

function len(fn: string, arg: string, arr: FloatArray, expected: number, shape: string): void {
  if (arr.length !== expected) {
    throw new RangeError(`${fn}(${arg}): expected ${expected} elements [${shape}], got ${arr.length}`);
  }
}

/** Allocates every buffer a forward/backward pair needs for one (T, B), in the given float type. */
export function lstmWorkspace(T: number, B: number, D: number, H: number,
                              ctor: Float32ArrayConstructor | Float64ArrayConstructor,
                              options: LstmOptions = {}): LstmWorkspace {
  positiveInt('lstmWorkspace', 'T', T);
  positiveInt('lstmWorkspace', 'B', B);
  positiveInt('lstmWorkspace', 'D', D);
  positiveInt('lstmWorkspace', 'H', H);
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new TypeError(`lstmWorkspace(options): unknown option ${JSON.stringify(key)}; expected ${OPTION_KEYS.join(', ')}`);
    }
  }
  const act = activationCode(options.activation ?? 'tanh', 'activation');
  const recAct = activationCode(options.recurrentActivation ?? 'sigmoid', 'recurrentActivation');
  const BH = B * H;
  return {
    T, B, D, H, act, recAct,
    h: new ctor((T + 1) * BH),
    c: new ctor((T + 1) * BH),
    a: new ctor(T * B * 4 * H),
    phiC: new ctor(T * BH),
    dz: new ctor(T * B * 4 * H),
    dh: new ctor(BH),
    dc: new ctor(BH),
  };
}

function checkParams(fn: string, ws: LstmWorkspace, p: LstmParams, x: FloatArray): void {
  const { T, B, D, H } = ws;
  len(fn, 'x', x, T * B * D, `T=${T},B=${B},D=${D}`);
  len(fn, 'W', p.W, D * 4 * H, `D=${D},4H=${4 * H}`);
  len(fn, 'U', p.U, H * 4 * H, `H=${H},4H=${4 * H}`);
  len(fn, 'b', p.b, 4 * H, `4H=${4 * H}`);
}

/** Runs the LSTM over x[T,B,D] from the initial state in block 0 of ws.h, ws.c; fills ws.h, ws.c, ws.a, ws.phiC. */
export function lstmForward(ws: LstmWorkspace, p: LstmParams, x: FloatArray): void {
  checkParams('lstmForward', ws, p, x);
  const { T, B, D, H, act, recAct, h, c, a, phiC } = ws;
  const { W, U, b } = p;
  const H2 = 2 * H, H3 = 3 * H, H4 = 4 * H, BH = B * H;

  // Z = X·W + b for all T·B rows at once.
  matmul(a, 0, H4, x, 0, D, W, 0, H4, T * B, D, H4, false);
  addBias(a, 0, H4, b, 0, T * B, H4);

  for (let t = 0; t < T; t++) {
    const aStep = t * B * H4;
    const prev = t * BH;          // h_{t-1}, c_{t-1}
    const next = prev + BH;       // h_t, c_t
    // z_t += h_{t-1}·U
    matmul(a, aStep, H4, h, prev, H, U, 0, H4, B, H, H4, true);
    for (let bb = 0; bb < B; bb++) {
      const aRow = aStep + bb * H4;
      activate(recAct, a, aRow, H2);         // i, f
      activate(act, a, aRow + H2, H);        // g
      activate(recAct, a, aRow + H3, H);     // o
      const hRow = bb * H;
      for (let j = 0; j < H; j++) {
        const ct = a[aRow + H + j] * c[prev + hRow + j] + a[aRow + j] * a[aRow + H2 + j];
        c[next + hRow + j] = ct;
        phiC[prev + hRow + j] = ct;
      }
    }
    activate(act, phiC, prev, BH);           // phiC_t = φ(c_t)   (phiC block t starts at t·B·H = prev)
    for (let bb = 0; bb < B; bb++) {
      const aRow = aStep + bb * H4 + H3, hRow = bb * H;
      for (let j = 0; j < H; j++) h[next + hRow + j] = a[aRow + j] * phiC[prev + hRow + j];
    }
  }
}

/**
 * Backpropagation through time for the forward pass cached in ws (call lstmForward with the same p and x first).
 * dhSeq[T,B,H]: dL/dh_t for every step, or null; dhT, dcT [B,H]: extra dL/dh_T, dL/dc_T, or null.
 * Adds into g.dW, g.dU, g.db; writes dx[T,B,D] (unless null), dh0[B,H], dc0[B,H].
 */
export function lstmBackward(g: LstmGrads, dx: FloatArray | null, dh0: FloatArray, dc0: FloatArray,
                             dhSeq: FloatArray | null, dhT: FloatArray | null, dcT: FloatArray | null,
                             ws: LstmWorkspace, p: LstmParams, x: FloatArray): void {
  const fn = 'lstmBackward';
  const { T, B, D, H, act, recAct, h, c, a, phiC, dz, dh, dc } = ws;
  const H4 = 4 * H, BH = B * H;
  len(fn, 'dW', g.dW, D * H4, `D=${D},4H=${H4}`);
  len(fn, 'dU', g.dU, H * H4, `H=${H},4H=${H4}`);
  len(fn, 'db', g.db, H4, `4H=${H4}`);
  if (dx !== null) len(fn, 'dx', dx, T * B * D, `T=${T},B=${B},D=${D}`);
  len(fn, 'dh0', dh0, BH, `B=${B},H=${H}`);
  len(fn, 'dc0', dc0, BH, `B=${B},H=${H}`);
  if (dhSeq !== null) len(fn, 'dhSeq', dhSeq, T * BH, `T=${T},B=${B},H=${H}`);
  if (dhT !== null) len(fn, 'dhT', dhT, BH, `B=${B},H=${H}`);
  if (dcT !== null) len(fn, 'dcT', dcT, BH, `B=${B},H=${H}`);
  checkParams(fn, ws, p, x);
  const { W, U } = p;
  const H2 = 2 * H, H3 = 3 * H;

  if (dhT !== null) dh.set(dhT); else dh.fill(0);
  if (dcT !== null) dc.set(dcT); else dc.fill(0);

  for (let t = T - 1; t >= 0; t--) {
    const aStep = t * B * H4;
    const prev = t * BH;          // c_{t-1} in c; phiC_t in phiC; dhSeq_t
    if (dhSeq !== null) for (let k = 0; k < BH; k++) dh[k] += dhSeq[prev + k];
    for (let bb = 0; bb < B; bb++) {
      const aRow = aStep + bb * H4, hRow = bb * H;
      for (let j = 0; j < H; j++) {
        const ig = a[aRow + j], fg = a[aRow + H + j], gg = a[aRow + H2 + j], og = a[aRow + H3 + j];
        const pc = phiC[prev + hRow + j];
        const dhv = dh[hRow + j];
        const dcv = dc[hRow + j] + dhv * og * derivativeFromOutput(act, pc);
        dz[aRow + j] = dcv * gg;                         // di
        dz[aRow + H + j] = dcv * c[prev + hRow + j];     // df
        dz[aRow + H2 + j] = dcv * ig;                    // dg
        dz[aRow + H3 + j] = dhv * pc;                    // do
        dc[hRow + j] = dcv * fg;
      }
      activateBackward(recAct, dz, aRow, a, aRow, H2);             // di⊙σ'(i), df⊙σ'(f)
      activateBackward(act, dz, aRow + H2, a, aRow + H2, H);       // dg⊙φ'(g)
      activateBackward(recAct, dz, aRow + H3, a, aRow + H3, H);    // do⊙σ'(o)
    }
    // dh ← dz_t·Uᵀ
    matmulABt(dh, 0, H, dz, aStep, H4, U, 0, H4, B, H4, H, false);
  }

  const TB = T * B;
  matmulAtB(g.dW, 0, H4, x, 0, D, dz, 0, H4, D, TB, H4, true);     // dW += Xᵀ·dZ
  matmulAtB(g.dU, 0, H4, h, 0, H, dz, 0, H4, H, TB, H4, true);     // dU += H_prevᵀ·dZ
  sumRows(g.db, 0, dz, 0, H4, TB, H4);                             // db += Σ dZ
  if (dx !== null) matmulABt(dx, 0, D, dz, 0, H4, W, 0, H4, TB, H4, D, false);   // dx = dZ·Wᵀ
  dh0.set(dh);
  dc0.set(dc);
}

/**
 * The BPTT lab's model: one recurrent cell (tanh RNN, LSTM or GRU) and a linear readout that forecasts the next value of a
 * series from the T values before it, trained with Adam. Built from the REFERENCE kernels (kernels/rnn.ts, lstm.ts,
 * gru.ts, dense.ts, optim.ts), so every view of the lab reads against the equations of those files' headers.
 *
 * Symbols: T steps (the window), B windows per minibatch, D = 1 input feature, H units, G gates (1, 4, 3).
 *   forward    h_1…h_T by the cell (x_t = the series value at step t);   ŷ = h_T·V + c   (denseForward, linear)
 *   loss       L = mean_b (ŷ_b − y_b)²                                   (the value after the window)
 *   backward   dŷ = 2(ŷ − y)/B;   dV += h_Tᵀ·dŷ;   dc += Σ dŷ;   dL/dh_T = dŷ·Vᵀ;   then the cell's backward through time
 *
 * Training runs the cell over a whole minibatch at once (one T-step call). `inspect` runs one window as T chained
 * one-step calls (the kernel specs' "sequential equals batched"), so the carried gradient of every step is an output:
 * dh0 of step t's call is dL/dh_{t−1}, which is what the lab plots as ‖dL/dh_t‖ (vanishing when it shrinks going back
 * in time, exploding when it grows).
 *
 * Initialisation (Keras's defaults, with a scale on U for the lab's vanishing/exploding toggle): W Glorot-uniform,
 * U = recurrentScale × an orthogonal H×H block per gate, b = 0 except the LSTM forget gate's bias = 1 (unitForgetBias).
 */
import type { FloatArray } from '../kernels/matmul.js';
import { Act } from '../kernels/activations.js';
import { denseBackward, denseForward } from '../kernels/dense.js';
import { adamState, adamUpdate, clipByGlobalNorm, type AdamMoments } from '../kernels/optim.js';
import { rnnBackward, rnnForward, rnnWorkspace, type RnnWorkspace } from '../kernels/rnn.js';
import { lstmBackward, lstmForward, lstmWorkspace, type LstmWorkspace } from '../kernels/lstm.js';
import { gruBackward, gruBiasLength, gruForward, gruWorkspace, type GruWorkspace } from '../kernels/gru.js';
import { makeRandom, type Random } from '../lib/random.js';

export type CellKind = 'rnn' | 'lstm' | 'gru';
export const CELL_KINDS: readonly CellKind[] = ['rnn', 'lstm', 'gru'];

/** The gates of each cell, in the kernels' column order (the heatmaps' titles). */
export const GATE_NAMES: Readonly<Record<CellKind, readonly string[]>> = {
  rnn: [],
  lstm: ['i', 'f', 'g', 'o'],
  gru: ['z', 'r', 'h̃'],
};
const GATES: Readonly<Record<CellKind, number>> = { rnn: 1, lstm: 4, gru: 3 };

export interface LabModelOptions {
  cell: CellKind;
  /** Hidden units H, 1…64. */
  hidden: number;
  /** Window length T (steps unrolled), 2…128. */
  window: number;
  learningRate: number;
  /** Multiplies the orthogonal recurrent kernel U: below 1 gradients vanish faster, above 1 they can explode. */
  recurrentScale: number;
  /** Global-norm clipping of the gradients before each Adam step; 0 = off. */
  clipNorm: number;
  seed: number;
}

/** One window run step by step: what the lab draws. Arrays are row-major [T, …]. */
export interface Inspection {
  T: number;
  H: number;
  /** x_1…x_T (normalised). */
  x: Float64Array;
  /** The value after the window, and the forecast of it. */
  y: number;
  yHat: number;
  loss: number;
  /** [T,H] h_1…h_T. */
  h: Float64Array;
  /** [T,H] c_1…c_T (LSTM), else empty. */
  c: Float64Array;
  /** [T,G·H] post-activation gates of each step in the kernel's order (LSTM i|f|g|o, GRU z|r|h̃); empty for the RNN. */
  gates: Float64Array;
  /** [T+1] ‖dL/dh_t‖ for t = 0…T (index T is the readout's dL/dh_T; index 0 the initial state's). */
  dhNorm: Float64Array;
  /** [T+1] ‖dL/dc_t‖ (LSTM), else empty. */
  dcNorm: Float64Array;
}

/** The gradients of one minibatch (returned by `gradients`, what the spec checks against `inspect`). */
export interface Gradients {
  loss: number;
  dW: Float64Array;
  dU: Float64Array;
  db: Float64Array;
  dV: Float64Array;
  dc: Float64Array;
  /** [B,H] dL/dh_0. */
  dh0: Float64Array;
}

type Workspace = RnnWorkspace | LstmWorkspace | GruWorkspace;

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new RangeError(`LabModel(${name}): expected an integer from ${lo} to ${hi}, got ${String(v)}`);
  }
}

function checkNumber(name: string, v: number, lo: number, hi: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new RangeError(`LabModel(${name}): expected a number from ${lo} to ${hi}, got ${String(v)}`);
  }
}

/** A random orthogonal n×n matrix (Gram–Schmidt on a Gaussian one), written scaled into U[:, off…off+n) (row stride ld). */
function orthogonalBlock(U: Float64Array, ld: number, off: number, n: number, scale: number, rng: Random): void {
  const q = new Float64Array(n * n); // rows are the vectors being orthonormalised
  for (let i = 0; i < n * n; i++) q[i] = rng.normal();
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += q[i * n + j] * q[k * n + j];
      for (let j = 0; j < n; j++) q[i * n + j] -= dot * q[k * n + j];
    }
    let norm = 0;
    for (let j = 0; j < n; j++) norm += q[i * n + j] * q[i * n + j];
    norm = Math.sqrt(norm);
    for (let j = 0; j < n; j++) q[i * n + j] /= norm;
  }
  for (let r = 0; r < n; r++) for (let j = 0; j < n; j++) U[r * ld + off + j] = scale * q[r * n + j];
}

export class LabModel {
  readonly options: Readonly<LabModelOptions>;
  readonly G: number;
  /** Cell parameters in the kernels' layout (W[1,G·H], U[H,G·H], b) and the readout V[H,1], c[1]. */
  readonly W: Float64Array;
  readonly U: Float64Array;
  readonly b: Float64Array;
  readonly V: Float64Array;
  readonly c: Float64Array;
  /** Adam steps taken. */
  steps = 0;
  private readonly params: Float64Array[];
  private readonly moments: AdamMoments[];
  private readonly workspaces = new Map<string, Workspace>();
  private readonly chain = new Map<number, Workspace[]>();

  constructor(options: LabModelOptions) {
    if (!CELL_KINDS.includes(options.cell)) {
      throw new RangeError(`LabModel(cell): expected one of ${CELL_KINDS.join(', ')}, got ${String(options.cell)}`);
    }
    checkInt('hidden', options.hidden, 1, 64);
    checkInt('window', options.window, 2, 128);
    checkNumber('learningRate', options.learningRate, 1e-6, 1);
    checkNumber('recurrentScale', options.recurrentScale, 0, 10);
    checkNumber('clipNorm', options.clipNorm, 0, 1e6);
    checkInt('seed', options.seed, 0, 2 ** 31);
    this.options = { ...options };
    const H = options.hidden,
      G = GATES[options.cell],
      GH = G * H;
    this.G = G;
    const rng = makeRandom(options.seed);
    this.W = new Float64Array(GH);
    const limit = Math.sqrt(6 / (1 + GH)); // Glorot uniform, fan_in 1, fan_out G·H
    for (let i = 0; i < GH; i++) this.W[i] = (2 * rng.uniform() - 1) * limit;
    this.U = new Float64Array(H * GH);
    for (let g = 0; g < G; g++) orthogonalBlock(this.U, GH, g * H, H, options.recurrentScale, rng);
    this.b = new Float64Array(options.cell === 'gru' ? gruBiasLength(H, true) : GH);
    if (options.cell === 'lstm') this.b.fill(1, H, 2 * H);
    this.V = new Float64Array(H);
    const vLimit = Math.sqrt(6 / (H + 1));
    for (let j = 0; j < H; j++) this.V[j] = (2 * rng.uniform() - 1) * vLimit;
    this.c = new Float64Array(1);
    this.params = [this.W, this.U, this.b, this.V, this.c];
    this.moments = this.params.map((p) => adamState(p.length, Float64Array));
  }

  private workspace(T: number, B: number): Workspace {
    const key = `${T}x${B}`;
    let ws = this.workspaces.get(key);
    if (ws === undefined) {
      const H = this.options.hidden;
      if (this.options.cell === 'rnn') ws = rnnWorkspace(T, B, 1, H, Float64Array);
      else if (this.options.cell === 'lstm') ws = lstmWorkspace(T, B, 1, H, Float64Array);
      else ws = gruWorkspace(T, B, 1, H, Float64Array);
      this.workspaces.set(key, ws);
    }
    return ws;
  }

  /** T one-step workspaces for `inspect` (each keeps its step's cache for the backward). */
  private stepWorkspaces(T: number): Workspace[] {
    let steps = this.chain.get(T);
    if (steps === undefined) {
      const H = this.options.hidden;
      steps = [];
      for (let t = 0; t < T; t++) {
        if (this.options.cell === 'rnn') steps.push(rnnWorkspace(1, 1, 1, H, Float64Array));
        else if (this.options.cell === 'lstm') steps.push(lstmWorkspace(1, 1, 1, H, Float64Array));
        else steps.push(gruWorkspace(1, 1, 1, H, Float64Array));
      }
      this.chain.set(T, steps);
    }
    return steps;
  }

  private forward(ws: Workspace, x: FloatArray): void {
    const p = { W: this.W, U: this.U, b: this.b };
    if (this.options.cell === 'rnn') rnnForward(ws, p, x);
    else if (this.options.cell === 'lstm') lstmForward(ws as LstmWorkspace, p, x);
    else gruForward(ws as GruWorkspace, p, x);
  }

  /** The cell's backward from dL/dh_T (and dL/dc_T for the LSTM); adds into g, writes dh0 (and dc0). */
  private backward(
    ws: Workspace,
    x: FloatArray,
    g: { dW: Float64Array; dU: Float64Array; db: Float64Array },
    dhT: Float64Array,
    dcT: Float64Array | null,
    dh0: Float64Array,
    dc0: Float64Array,
  ): void {
    const p = { W: this.W, U: this.U, b: this.b };
    if (this.options.cell === 'rnn') rnnBackward(g, null, dh0, null, dhT, ws, p, x);
    else if (this.options.cell === 'lstm') lstmBackward(g, null, dh0, dc0, null, dhT, dcT, ws as LstmWorkspace, p, x);
    else gruBackward(g, null, dh0, null, dhT, ws as GruWorkspace, p, x);
  }

  private zeroGrads(B: number): Gradients {
    return {
      loss: 0,
      dW: new Float64Array(this.W.length),
      dU: new Float64Array(this.U.length),
      db: new Float64Array(this.b.length),
      dV: new Float64Array(this.V.length),
      dc: new Float64Array(1),
      dh0: new Float64Array(B * this.options.hidden),
    };
  }

  /**
   * Loss and gradients of a minibatch, the whole window in one T-step call: x[T,B] time-major (D = 1), y[B] the values
   * after each window.
   */
  gradients(x: Float64Array, y: Float64Array, B: number): Gradients {
    const T = this.options.window,
      H = this.options.hidden;
    if (x.length !== T * B) throw new RangeError(`gradients(x): expected T·B = ${T * B} values, got ${x.length}`);
    if (y.length !== B) throw new RangeError(`gradients(y): expected B = ${B} values, got ${y.length}`);
    const ws = this.workspace(T, B);
    this.forward(ws, x);
    const g = this.zeroGrads(B);
    const hT = ws.h.subarray(T * B * H, (T + 1) * B * H);
    const yHat = new Float64Array(B);
    denseForward(yHat, hT, this.V, this.c, B, H, 1, Act.Linear); // ŷ = h_T·V + c
    const dy = new Float64Array(B);
    for (let k = 0; k < B; k++) {
      const e = yHat[k] - y[k];
      g.loss += (e * e) / B;
      dy[k] = (2 * e) / B; // dŷ = 2(ŷ − y)/B
    }
    const dhT = new Float64Array(B * H);
    denseBackward(g.dV, g.dc, dhT, dy, yHat, hT, this.V, B, H, 1, Act.Linear, dy); // dV, dc, dL/dh_T = dŷ·Vᵀ
    const dc0 = new Float64Array(B * H);
    this.backward(ws, x, g, dhT, null, g.dh0, dc0);
    return g;
  }

  /** One Adam step on a minibatch (x[T,B] time-major, y[B]); returns the minibatch loss before the step. */
  trainStep(x: Float64Array, y: Float64Array, B: number): number {
    const g = this.gradients(x, y, B);
    const grads = [g.dW, g.dU, g.db, g.dV, g.dc];
    if (this.options.clipNorm > 0) clipByGlobalNorm(grads, this.options.clipNorm);
    this.steps++;
    for (let k = 0; k < grads.length; k++) {
      const p = this.params[k],
        m = this.moments[k];
      adamUpdate(p, grads[k], m.m, m.v, p.length, this.options.learningRate, 0.9, 0.999, 1e-7, this.steps);
    }
    return g.loss;
  }

  /** Forecasts ŷ for each of B windows x[T,B] (time-major). */
  predict(x: Float64Array, B: number): Float64Array {
    const T = this.options.window,
      H = this.options.hidden;
    if (x.length !== T * B) throw new RangeError(`predict(x): expected T·B = ${T * B} values, got ${x.length}`);
    const ws = this.workspace(T, B);
    this.forward(ws, x);
    const yHat = new Float64Array(B);
    denseForward(yHat, ws.h.subarray(T * B * H, (T + 1) * B * H), this.V, this.c, B, H, 1, Act.Linear);
    return yHat;
  }

  /**
   * One window x[T] and its target y, step by step: T chained one-step calls of the reference cell, forward from h_0 = 0
   * (c_0 = 0) and backward from the readout. Returns the states, gates and the per-step gradient norms; `grads` (the
   * parameter gradients summed over the steps, and dL/dh_0) equal those of `gradients` on the same window.
   */
  inspect(x: Float64Array, y: number): Inspection & { grads: Gradients } {
    const T = this.options.window,
      H = this.options.hidden,
      GH = this.G * H;
    if (x.length !== T) throw new RangeError(`inspect(x): expected T = ${T} values, got ${x.length}`);
    const lstm = this.options.cell === 'lstm';
    const steps = this.stepWorkspaces(T);
    const out: Inspection = {
      T,
      H,
      x: Float64Array.from(x),
      y,
      yHat: 0,
      loss: 0,
      h: new Float64Array(T * H),
      c: new Float64Array(lstm ? T * H : 0),
      gates: new Float64Array(this.options.cell === 'rnn' ? 0 : T * GH),
      dhNorm: new Float64Array(T + 1),
      dcNorm: new Float64Array(lstm ? T + 1 : 0),
    };
    // Forward: step t's workspace starts from h_{t−1} (c_{t−1}) in its block 0.
    for (let t = 0; t < T; t++) {
      const own = steps[t];
      if (t > 0) {
        const prev = steps[t - 1];
        own.h.set(prev.h.subarray(H, 2 * H), 0);
        if (lstm) (own as LstmWorkspace).c.set((prev as LstmWorkspace).c.subarray(H, 2 * H), 0);
      }
      this.forward(own, x.subarray(t, t + 1));
      out.h.set(own.h.subarray(H, 2 * H), t * H);
      if (lstm) out.c.set((own as LstmWorkspace).c.subarray(H, 2 * H), t * H);
      if (this.options.cell !== 'rnn') out.gates.set((own as LstmWorkspace | GruWorkspace).a.subarray(0, GH), t * GH);
    }
    const g = this.zeroGrads(1);
    const hT = out.h.subarray((T - 1) * H, T * H);
    const yHat = new Float64Array(1);
    denseForward(yHat, hT, this.V, this.c, 1, H, 1, Act.Linear);
    out.yHat = yHat[0];
    const e = yHat[0] - y;
    out.loss = g.loss = e * e;
    const dy = Float64Array.of(2 * e);
    let dh: Float64Array = new Float64Array(H),
      dc: Float64Array = new Float64Array(H);
    denseBackward(g.dV, g.dc, dh, dy, yHat, hT, this.V, 1, H, 1, Act.Linear, dy);
    out.dhNorm[T] = norm(dh);
    if (lstm) out.dcNorm[T] = 0;
    // Backward: step t's call takes dL/dh_t (dL/dc_t) as dhT (dcT) and returns dL/dh_{t−1} (dL/dc_{t−1}).
    for (let t = T - 1; t >= 0; t--) {
      const dh0 = new Float64Array(H),
        dc0 = new Float64Array(H);
      this.backward(steps[t], x.subarray(t, t + 1), g, dh, lstm ? dc : null, dh0, dc0);
      dh = dh0;
      dc = dc0;
      out.dhNorm[t] = norm(dh);
      if (lstm) out.dcNorm[t] = norm(dc);
    }
    g.dh0.set(dh);
    return { ...out, grads: g };
  }
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

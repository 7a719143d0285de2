/**
 * Recurrent layers: SimpleRNN, LSTM and GRU over the kernels in kernels/{rnn,lstm,gru}.ts. The three differ only in the
 * cell adapter below; input and output handling, dropout, goBackwards and stateful mode are shared.
 *
 * Input [T, N, D] time-major (see layer.ts). Output [T, N, H] with returnSequences, else [N, H] (the last state).
 * Weights as Keras names and lays them out: kernel [D, G·H], recurrent_kernel [H, G·H], bias [G·H] (GRU with resetAfter:
 * [2, 3H]). Initialisers as Keras: Glorot uniform kernel, orthogonal recurrent kernel, zero bias (LSTM: unit forget bias).
 *
 * Options (camelCase twins of the Keras config keys):
 *   units, activation ('tanh'), recurrentActivation ('sigmoid'; LSTM/GRU), resetAfter (GRU, true as Keras 2), returnSequences,
 *   goBackwards (process the sequence in reverse and return outputs in processing order, as Keras does),
 *   dropout (fraction of input features dropped while training; one mask per sample for all steps, as Keras),
 *   stateful (the final state of a batch is the initial state of the next call; `resetStates()` zeroes it),
 *   unitForgetBias (LSTM, true).
 * `recurrentDropout` is not implemented: a non-zero value is rejected rather than ignored.
 */
import type { FloatArray } from '../../../kernels/matmul.js';
import { rnnWorkspace, rnnForward, rnnBackward, type RnnWorkspace } from '../../../kernels/fast/rnn.js';
import { lstmWorkspace, lstmForward, lstmBackward, type LstmWorkspace } from '../../../kernels/fast/lstm.js';
import { gruWorkspace, gruForward, gruBackward, type GruWorkspace } from '../../../kernels/fast/gru.js';
import { workspaceArena } from '../../backend.js';
import { dropoutMask } from '../../../kernels/dropout.js';
import { glorotUniform, orthogonal } from '../init.js';
import { makeRandom } from '../../random.js';
import {
  activationOption,
  BufferCache,
  type ForwardContext,
  Layer,
  type Param,
  makeParam,
  type FloatCtor,
} from './layer.js';
import { checkKeys, describeValue, optBool, optNumber, optPosInt, optShape, optString } from '../../check.js';
import { ArgumentError } from '../../errors.js';

const RECURRENT_KEYS = [
  'units',
  'activation',
  'recurrentActivation',
  'returnSequences',
  'goBackwards',
  'stateful',
  'dropout',
  'recurrentDropout',
  'resetAfter',
  'unitForgetBias',
  'name',
  'inputShape',
] as const;

/** The recurrent cell of a {@link Recurrent} layer, by its Keras class name. */
export type CellType = 'SimpleRNN' | 'LSTM' | 'GRU';

/** Options of {@link simpleRNN}, {@link lstm} and {@link gru}: camelCase twins of the Keras config keys. */
export interface RecurrentOptions {
  /** H, the size of the hidden state (and of each gate). */
  units: number;
  /** φ, the candidate's and the output's activation: 'tanh' (default), 'sigmoid', 'hardSigmoid', 'relu', 'linear'. */
  activation?: string;
  /** σ, the activation of the gates (LSTM, GRU): 'sigmoid' by default (TensorFlow.js defaults to 'hardSigmoid'). */
  recurrentActivation?: string;
  /** Output every step [T, H] rather than the last state [H]. Default false. */
  returnSequences?: boolean;
  /** Process the sequence in reverse, returning outputs in processing order (as Keras). Default false. */
  goBackwards?: boolean;
  /** Carry the final state of a batch into the next call; `resetStates()` zeroes it. Default false. */
  stateful?: boolean;
  /** Fraction of input features dropped while training (one mask per sample for all steps). Default 0. */
  dropout?: number;
  /** Not implemented: 0 or absent; any other value is an ArgumentError rather than silently ignored. */
  recurrentDropout?: number;
  /** GRU only: apply the reset gate after the recurrent product (Keras 2 and cuDNN's form). Default true. */
  resetAfter?: boolean;
  /** LSTM only: initialise the forget-gate bias to 1. Default true. */
  unitForgetBias?: boolean;
  /** The layer's name; default the Keras-style 'lstm', 'lstm_1', … */
  name?: string;
  /** Per-sample input shape [T, D], for the first layer of a model (as Keras inputShape). */
  inputShape?: number[];
}

type AnyWs = RnnWorkspace | LstmWorkspace | GruWorkspace;

interface Buffers {
  key: string; // the BufferCache key, `${T}x${N}`
  T: number;
  N: number;
  ws: AnyWs;
  xIn: FloatArray | null; // reversed and/or dropped-out input, when the layer transforms it
  dx: FloatArray;
  xInRep: FloatArray | null; // repeated-input mode: [N, D] views at the start of xIn and dx
  dxRep: FloatArray;
  dh0: FloatArray;
  dc0: FloatArray;
  dhT: FloatArray; // zero [N,H] for dcT when needed
  mask: FloatArray | null; // dropout mask [N, D]
  out: FloatArray; // view of ws.h: blocks 1..T, or block T
}

/**
 * A SimpleRNN, LSTM or GRU layer (made by {@link simpleRNN}, {@link lstm}, {@link gru}); the fields are its resolved
 * options, see {@link RecurrentOptions}.
 */
export class Recurrent extends Layer {
  /** 'SimpleRNN', 'LSTM' or 'GRU'. */
  readonly className: CellType;
  /** H, the size of the hidden state. */
  readonly units: number;
  /** φ, the candidate and output activation. */
  readonly activation: string;
  /** σ, the gate activation. */
  readonly recurrentActivation: string;
  /** Output every step rather than the last state. */
  readonly returnSequences: boolean;
  /** The sequence runs in reverse. */
  readonly goBackwards: boolean;
  /** State is carried between calls. */
  readonly stateful: boolean;
  /** Input dropout rate while training. */
  readonly dropout: number;
  /** GRU: the reset gate applies after the recurrent product. */
  readonly resetAfter: boolean;
  /** LSTM: forget-gate bias initialised to 1. */
  readonly unitForgetBias: boolean;
  private kernel!: Param;
  private recurrentKernel!: Param;
  private bias!: Param;
  private readonly cache = new BufferCache<Buffers>();
  private last: Buffers | null = null;
  private weightsView: { W: FloatArray; U: FloatArray; b: FloatArray } | null = null;
  private lastX: FloatArray | null = null;
  private usedMask = false;
  /** The last forward took its input as one step repeated T times (forwardRepeated). */
  private lastRepeated = false;
  /** Carried state for stateful mode: h [N,H] (and c [N,H]), or null before the first batch / after resetStates(). */
  private stateH: FloatArray | null = null;
  private stateC: FloatArray | null = null;
  /** The inputShape option ([T, D]), or null: the model takes its input shape from the data. */
  readonly declaredInputShape: number[] | null;

  /**
   * @param cell - The cell type.
   * @param options - The layer's options.
   * @throws {@link ArgumentError} for a missing or invalid option, an unknown key, or an option the cell does not have.
   */
  constructor(cell: CellType, options: RecurrentOptions) {
    const fn = cell === 'SimpleRNN' ? 'simpleRNN' : cell === 'LSTM' ? 'lstm' : 'gru';
    checkKeys(options, RECURRENT_KEYS, fn);
    super(optString(options.name, undefined, `${fn}(name)`));
    this.className = cell;
    this.units = optPosInt(options.units, undefined, `${fn}(units)`);
    this.activation = optString(options.activation, 'tanh', `${fn}(activation)`) as string;
    this.recurrentActivation = optString(
      options.recurrentActivation,
      'sigmoid',
      `${fn}(recurrentActivation)`,
    ) as string;
    activationOption(this.activation, `${fn}(activation)`);
    activationOption(this.recurrentActivation, `${fn}(recurrentActivation)`);
    if (cell === 'SimpleRNN' && options.recurrentActivation !== undefined) {
      throw ArgumentError.problem('simpleRNN(recurrentActivation)', 'a SimpleRNN has no gates; use activation');
    }
    if (cell !== 'GRU' && options.resetAfter !== undefined) {
      throw ArgumentError.problem(`${fn}(resetAfter)`, 'only a GRU has resetAfter');
    }
    if (cell !== 'LSTM' && options.unitForgetBias !== undefined) {
      throw ArgumentError.problem(`${fn}(unitForgetBias)`, 'only an LSTM has unitForgetBias');
    }
    this.returnSequences = optBool(options.returnSequences, false, `${fn}(returnSequences)`);
    this.goBackwards = optBool(options.goBackwards, false, `${fn}(goBackwards)`);
    this.stateful = optBool(options.stateful, false, `${fn}(stateful)`);
    this.dropout = optNumber(options.dropout, 0, `${fn}(dropout)`, 0, 1, true);
    if (options.recurrentDropout !== undefined && options.recurrentDropout !== 0) {
      throw ArgumentError.problem(
        `${fn}(recurrentDropout)`,
        `not implemented in bptt (got ${describeValue(options.recurrentDropout)}); use dropout`,
      );
    }
    this.resetAfter = optBool(options.resetAfter, cell === 'GRU', `${fn}(resetAfter)`);
    this.unitForgetBias = optBool(options.unitForgetBias, true, `${fn}(unitForgetBias)`);
    this.declaredInputShape = optShape(options.inputShape, `${fn}(inputShape)`);
  }

  /** G, the gate blocks of the weights: 1 (SimpleRNN), 4 (LSTM), 3 (GRU). */
  get gates(): number {
    return this.className === 'LSTM' ? 4 : this.className === 'GRU' ? 3 : 1;
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 2) {
      throw ArgumentError.problem(this.name, `expected a sequence input [T, D], got shape [${inputShape.join(', ')}]`);
    }
    const T = inputShape[0];
    return this.returnSequences ? [T, this.units] : [this.units];
  }

  protected override allocate(seed: string): void {
    const D = this.inputShape[1],
      H = this.units,
      G = this.gates;
    this.kernel = makeParam('kernel', [D, G * H], this.ctor);
    this.recurrentKernel = makeParam('recurrent_kernel', [H, G * H], this.ctor);
    this.bias = makeParam('bias', this.className === 'GRU' && this.resetAfter ? [2, G * H] : [G * H], this.ctor);
    glorotUniform(this.kernel.value, D, G * H, makeRandom(`${seed}/kernel`));
    orthogonal(this.recurrentKernel.value, H, G * H, makeRandom(`${seed}/recurrent_kernel`));
    if (this.className === 'LSTM' && this.unitForgetBias) this.bias.value.fill(1, H, 2 * H);
    this.cache.clear();
    this.stateH = this.stateC = null;
  }

  override params(): Param[] {
    return [this.kernel, this.recurrentKernel, this.bias];
  }

  private buffers(T: number, N: number): Buffers {
    // No closure in this function: its captured variables would make V8 allocate a context on every call, hit or not.
    const recent = this.last;
    if (recent !== null && recent.T === T && recent.N === N && this.cache.hit(recent.key) === recent) return recent;
    return this.cachedBuffers(T, N);
  }

  private cachedBuffers(T: number, N: number): Buffers {
    const D = this.inputShape[1],
      H = this.units;
    const key = `${T}x${N}`;
    return this.cache.get(key, () => {
      const ws = this.makeWorkspace(T, N, D, H, this.ctor);
      const needX = this.goBackwards || this.dropout > 0;
      const out = this.returnSequences
        ? ws.h.subarray(N * H, (T + 1) * N * H)
        : ws.h.subarray(T * N * H, (T + 1) * N * H);
      const xIn = needX ? new this.ctor(T * N * D) : null,
        dx = new this.ctor(T * N * D);
      return {
        key,
        T,
        N,
        ws,
        xIn,
        dx,
        xInRep: xIn !== null ? xIn.subarray(0, N * D) : null,
        dxRep: dx.subarray(0, N * D),
        dh0: new this.ctor(N * H),
        dc0: new this.ctor(N * H),
        dhT: new this.ctor(N * H),
        mask: this.dropout > 0 ? new this.ctor(N * D) : null,
        out,
      };
    });
  }

  private makeWorkspace(T: number, N: number, D: number, H: number, ctor: FloatCtor): AnyWs {
    const arena = workspaceArena(ctor);
    const where = arena !== undefined ? { arena } : {};
    // Each forward here is followed by at most one backward, so the backward may write its gate gradients over the
    // forward's gates (one [T,N,G·H] buffer fewer per layer: a third of an LSTM step's cache).
    const inPlaceBackward = true;
    switch (this.className) {
      case 'SimpleRNN':
        return rnnWorkspace(T, N, D, H, ctor, { activation: this.activation, ...where });
      case 'LSTM':
        return lstmWorkspace(T, N, D, H, ctor, {
          activation: this.activation,
          recurrentActivation: this.recurrentActivation,
          inPlaceBackward,
          ...where,
        });
      case 'GRU':
        return gruWorkspace(T, N, D, H, ctor, {
          activation: this.activation,
          recurrentActivation: this.recurrentActivation,
          resetAfter: this.resetAfter,
          inPlaceBackward,
          ...where,
        });
    }
  }

  forward(x: FloatArray, N: number, ctx: ForwardContext): FloatArray {
    return this.run(x, N, ctx, false);
  }

  /**
   * Forward on an input that is the same at every step: x [N, D] stands for RepeatVector(T) of it. Same outputs as
   * forward(repeat(x)); the cell computes the input projection x·W + b once instead of T times, and the next backward
   * returns dL/dx [N, D] already summed over the steps (what RepeatVector's backward would compute). Sequential uses it
   * for a RepeatVector → recurrent pair (the sequence autoencoder's decoder).
   *
   * @param x - The one step [N, D] that every step repeats.
   * @param N - The batch size.
   * @param ctx - Training or inference, and the dropout random source.
   * @returns The output, as forward's.
   */
  forwardRepeated(x: FloatArray, N: number, ctx: ForwardContext): FloatArray {
    return this.run(x, N, ctx, true);
  }

  /** { W, U, b } for the kernels: one object per layer, rebuilt only when a parameter's array was replaced. */
  private weights(): { W: FloatArray; U: FloatArray; b: FloatArray } {
    const p = this.weightsView;
    if (p !== null && p.W === this.kernel.value && p.U === this.recurrentKernel.value && p.b === this.bias.value)
      return p;
    return (this.weightsView = { W: this.kernel.value, U: this.recurrentKernel.value, b: this.bias.value });
  }

  private run(x: FloatArray, N: number, ctx: ForwardContext, repeated: boolean): FloatArray {
    const T = this.inputShape[0],
      D = this.inputShape[1],
      H = this.units;
    const buf = this.buffers(T, N);
    const ws = buf.ws;
    this.lastRepeated = repeated;
    // Input: reversed in time for goBackwards, dropped out while training. A repeated input is the same at every step:
    // reversing it changes nothing, and its dropout mask (one per sample for all steps) applies to the one step.
    let xIn = repeated && x.length !== N * D ? x.subarray(0, N * D) : x; // (as RepeatVector: a longer buffer is cut)
    this.usedMask = ctx.training && this.dropout > 0;
    if (repeated) {
      if (this.usedMask) {
        const mask = buf.mask as FloatArray,
          xr = buf.xInRep as FloatArray;
        if (ctx.random === null) throw new Error(`${this.name}: dropout while training needs a random source`);
        const random = ctx.random;
        dropoutMask(mask, N * D, this.dropout, () => random.uniform());
        for (let i = 0; i < N * D; i++) xr[i] = x[i] * mask[i];
        xIn = xr;
      }
    } else if (buf.xIn !== null && (this.goBackwards || this.usedMask)) {
      const xr = buf.xIn;
      const step = N * D;
      for (let t = 0; t < T; t++) {
        const src = (this.goBackwards ? T - 1 - t : t) * step,
          dst = t * step;
        for (let i = 0; i < step; i++) xr[dst + i] = x[src + i];
      }
      if (this.usedMask) {
        const mask = buf.mask as FloatArray;
        if (ctx.random === null) throw new Error(`${this.name}: dropout while training needs a random source`);
        const random = ctx.random;
        dropoutMask(mask, N * D, this.dropout, () => random.uniform());
        for (let t = 0; t < T; t++) {
          const off = t * step;
          for (let i = 0; i < step; i++) xr[off + i] *= mask[i];
        }
      }
      xIn = xr;
    }
    // Initial state: the carried state in stateful mode, else zeros.
    const NH = N * H;
    if (this.stateful && this.stateH !== null) {
      if (this.stateH.length !== NH) {
        throw ArgumentError.problem(
          this.name,
          `a stateful layer needs the same batch size on every call ` +
            `(state is for ${this.stateH.length / H}, got ${N}); call resetStates() first`,
        );
      }
      ws.h.set(this.stateH, 0);
      if (this.stateC !== null && 'c' in ws) ws.c.set(this.stateC, 0);
    } else {
      ws.h.fill(0, 0, NH);
      if ('c' in ws) ws.c.fill(0, 0, NH);
    }
    const p = this.weights();
    switch (this.className) {
      case 'SimpleRNN':
        rnnForward(ws, p, xIn, repeated);
        break;
      case 'LSTM':
        lstmForward(ws as LstmWorkspace, p, xIn, repeated);
        break;
      case 'GRU':
        gruForward(ws as GruWorkspace, p, xIn, repeated);
        break;
    }
    if (this.stateful) {
      this.stateH = ws.h.slice(T * NH, (T + 1) * NH);
      if ('c' in ws) this.stateC = ws.c.slice(T * NH, (T + 1) * NH);
    }
    this.last = buf;
    this.lastX = xIn;
    return buf.out;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    const buf = this.last;
    const xIn = this.lastX;
    if (buf === null || xIn === null) throw new Error(`${this.name}: backward called before forward`);
    const { T, N, ws } = buf;
    const D = this.inputShape[1];
    const g = { dW: this.kernel.grad, dU: this.recurrentKernel.grad, db: this.bias.grad };
    const p = { W: this.kernel.value, U: this.recurrentKernel.value, b: this.bias.value };
    const dhSeq = this.returnSequences ? dy : null;
    const dhT = this.returnSequences ? null : dy;
    const rep = this.lastRepeated;
    const dx = needDx ? (rep ? buf.dxRep : buf.dx) : null;
    switch (this.className) {
      case 'SimpleRNN':
        rnnBackward(g, dx, buf.dh0, dhSeq, dhT, ws, p, xIn, rep);
        break;
      case 'LSTM':
        lstmBackward(g, dx, buf.dh0, buf.dc0, dhSeq, dhT, null, ws as LstmWorkspace, p, xIn, rep);
        break;
      case 'GRU':
        gruBackward(g, dx, buf.dh0, dhSeq, dhT, ws as GruWorkspace, p, xIn, rep);
        break;
    }
    if (!needDx) return null;
    const step = N * D;
    if (rep) {
      // dL/dx of the one repeated step (summed over time by the kernel); goBackwards changes nothing for it.
      if (this.usedMask) {
        const mask = buf.mask as FloatArray;
        for (let i = 0; i < step; i++) buf.dxRep[i] *= mask[i];
      }
      return buf.dxRep;
    }
    if (this.usedMask) {
      const mask = buf.mask as FloatArray;
      for (let t = 0; t < T; t++) {
        const off = t * step;
        for (let i = 0; i < step; i++) buf.dx[off + i] *= mask[i];
      }
    }
    if (this.goBackwards) {
      // dx is in processing order; the input gradient is in input order: swap step t with T-1-t.
      const d = buf.dx;
      for (let t = 0; t < T >> 1; t++) {
        const a = t * step,
          b = (T - 1 - t) * step;
        for (let i = 0; i < step; i++) {
          const tmp = d[a + i];
          d[a + i] = d[b + i];
          d[b + i] = tmp;
        }
      }
    }
    return buf.dx;
  }

  override resetStates(): void {
    this.stateH = null;
    this.stateC = null;
  }

  /**
   * The carried state in stateful mode.
   *
   * @returns h [N, H] (and c [N, H] for an LSTM, else null), or null before the first batch or after `resetStates()`.
   */
  getStates(): { h: FloatArray; c: FloatArray | null } | null {
    return this.stateH === null ? null : { h: this.stateH, c: this.stateC };
  }

  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      name: this.name,
      units: this.units,
      activation: this.activation,
      returnSequences: this.returnSequences,
      goBackwards: this.goBackwards,
      stateful: this.stateful,
      dropout: this.dropout,
    };
    if (this.className !== 'SimpleRNN') c['recurrentActivation'] = this.recurrentActivation;
    if (this.className === 'GRU') c['resetAfter'] = this.resetAfter;
    if (this.className === 'LSTM') c['unitForgetBias'] = this.unitForgetBias;
    if (this.declaredInputShape) c['inputShape'] = this.declaredInputShape;
    return c;
  }
}

/**
 * A tanh RNN layer (Keras SimpleRNN): h_t = φ(x_t·W + h_{t-1}·U + b).
 *
 * @param options - units, and the options of {@link RecurrentOptions} (no recurrentActivation: it has no gates).
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for a missing or invalid option.
 * @example
 * ```ts
 * import { Sequential, simpleRNN } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([simpleRNN({ units: 4, returnSequences: true, inputShape: [6, 2] })]).build();
 * assert.deepEqual(model.getOutputShape(), [6, 4]);
 * assert.equal(model.countParams(), 2 * 4 + 4 * 4 + 4); // W [D, H], U [H, H], b [H]
 * ```
 */
export function simpleRNN(options: RecurrentOptions): Recurrent {
  return new Recurrent('SimpleRNN', options);
}
/**
 * An LSTM layer, Keras layout (gates i|f|c|o, kernel [D, 4H], recurrent_kernel [H, 4H], bias [4H]).
 *
 * @param options - units, and the options of {@link RecurrentOptions}.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for a missing or invalid option.
 * @example
 * ```ts
 * import { Sequential, lstm } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([lstm({ units: 8, inputShape: [10, 3] })]).build();
 * assert.deepEqual(model.getOutputShape(), [8]); // the last state
 * assert.deepEqual(model.weights().map((w) => w.shape), [[3, 32], [8, 32], [32]]);
 * ```
 */
export function lstm(options: RecurrentOptions): Recurrent {
  return new Recurrent('LSTM', options);
}
/**
 * A GRU layer, Keras layout (gates z|r|h; with resetAfter, the default, bias [2, 3H]).
 *
 * @param options - units, and the options of {@link RecurrentOptions}.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for a missing or invalid option.
 * @example
 * ```ts
 * import { Sequential, gru } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([gru({ units: 5, inputShape: [7, 2] })]).build();
 * assert.deepEqual(model.weights().map((w) => w.shape), [[2, 15], [5, 15], [2, 15]]);
 * ```
 */
export function gru(options: RecurrentOptions): Recurrent {
  return new Recurrent('GRU', options);
}

/**
 * AttentionDecoder: an LSTM decoder that attends over the encoder's states (Bahdanau's additive score, or Luong's dot /
 * general). It runs kernels/fast/attention.ts, the fast twin of the reference kernel kernels/attention.ts (the readable
 * one, proven by finite differences and PyTorch parity; the twin is held to it by spec/kernels/attention-fast.spec.ts):
 * under the 'wasm' backend a float32 layer's workspace lives in its own WasmArena (lib/backend.ts), as the recurrent
 * layers' do, and its products and gate math run on the WebAssembly SIMD kernels; otherwise on matmul.ts.
 *
 * Input [Te, N, E] time-major (see layer.ts): the encoder's states h_1…h_Te (an encoder with returnSequences).
 * Output [Td, N, H]: the decoder states s_1…s_Td (Td = `steps`, default Te). At step i the decoder scores every h_j
 * against its state, takes the softmax weights α_ij and the context c_i = Σ_j α_ij h_j, and runs its LSTM cell on c_i.
 *
 * What the decoder consumes: the context alone (x_i is empty; a zero input would add nothing to the cell's W·x). For a
 * reconstruction autoencoder this is the stable choice: feeding the true previous step (teacher forcing) leaks the value
 * to reconstruct and makes training differ from scoring, and feeding back the model's own previous output would put the
 * dense head inside the recurrence (a gradient path through every output, unstable while the head is still random).
 * With the context alone the reconstruction is a function of the encoder states only, and the attention weights say
 * which of them each step used.
 * Initial state: `initialState: 'encoder'` (default) starts the decoder at the last encoder state, s_0 = h_Te (needs
 * E = units), c_0 = 0, and the gradient dL/ds_0 flows back into h_Te; 'zeros' starts it at 0.
 *
 * Weights, in this order: kernel W [E, 4H], recurrent_kernel U [H, 4H], bias b [4H] (Keras LSTM layout, gates i|f|c|o),
 * then the score's: additive attention_query_kernel Ws [H, A], attention_key_kernel Wh [E, A], attention_bias ba [A],
 * attention_score v [A]; general attention_kernel Wa [H, E]; dot none (needs E = units). Initialised as Keras would:
 * Glorot uniform kernels, orthogonal recurrent kernel, zero biases (forget-gate bias 1).
 */
import type { FloatArray } from '../../../kernels/matmul.js';
import { type AttentionParams, type AttentionScore, ATTENTION_SCORES } from '../../../kernels/attention.js';
import {
  type AttentionWorkspace,
  attentionBackward,
  attentionForward,
  attentionWorkspace,
} from '../../../kernels/fast/attention.js';
import { workspaceArena } from '../../backend.js';
import { glorotUniform, orthogonal } from '../init.js';
import { makeRandom } from '../../random.js';
import { activationOption, BufferCache, type ForwardContext, Layer, type Param, makeParam } from './layer.js';
import { checkKeys, optBool, optEnum, optPosInt, optShape, optString } from '../../check.js';
import { ArgumentError } from '../../errors.js';

const ATTENTION_KEYS = [
  'units',
  'score',
  'attentionUnits',
  'steps',
  'initialState',
  'activation',
  'recurrentActivation',
  'unitForgetBias',
  'name',
  'inputShape',
] as const;

/** Options of {@link attentionDecoder}. */
export interface AttentionDecoderOptions {
  /** H, the decoder's units. */
  units: number;
  /** 'additive' (Bahdanau, default), 'dot' (Luong; needs encoder features = units) or 'general' (Luong). */
  score?: AttentionScore;
  /** A, the additive score's hidden size. Default: units. Only for 'additive'. */
  attentionUnits?: number;
  /** Td, the decoder's steps. Default: the encoder's steps. */
  steps?: number;
  /** 'encoder' (default): s_0 = the last encoder state (needs encoder features = units); 'zeros': s_0 = 0. */
  initialState?: 'encoder' | 'zeros';
  /** φ of the decoder's LSTM cell. Default 'tanh'. */
  activation?: string;
  /** σ of the decoder's LSTM cell. Default 'sigmoid'. */
  recurrentActivation?: string;
  /** Initialise the forget-gate bias to 1. Default true. */
  unitForgetBias?: boolean;
  /** The layer's name; default 'attention_decoder', 'attention_decoder_1', … */
  name?: string;
  /** Per-sample input shape [Te, E], for the first layer of a model. */
  inputShape?: number[];
}

interface Buffers {
  N: number;
  ws: AttentionWorkspace;
  dhEnc: FloatArray;
  ds0: FloatArray;
  dc0: FloatArray;
  out: FloatArray; // view of ws.s: blocks 1…Td
}

/** An attention decoder layer (made by {@link attentionDecoder}); the fields are its resolved options. */
export class AttentionDecoder extends Layer {
  /** 'AttentionDecoder' (bptt's own layer: Keras has no such built-in, so it has no TensorFlow.js counterpart). */
  readonly className = 'AttentionDecoder';
  /** H, the decoder's units. */
  readonly units: number;
  /** The score. */
  readonly score: AttentionScore;
  /** A (additive), or null until build when left to default, 0 for the other scores. */
  readonly attentionUnits: number | null;
  /** Td, or null: the encoder's steps. */
  readonly steps: number | null;
  /** Where the decoder starts. */
  readonly initialState: 'encoder' | 'zeros';
  /** φ of the cell. */
  readonly activation: string;
  /** σ of the cell. */
  readonly recurrentActivation: string;
  /** Forget-gate bias initialised to 1. */
  readonly unitForgetBias: boolean;
  /** The inputShape option ([Te, E]), or null. */
  readonly declaredInputShape: number[] | null;
  private ps: Param[] = [];
  private p!: AttentionParams;
  /** A length-0 array of the model's float type: the decoder input x (none) and the unused weights' gradients. */
  private empty: FloatArray = new Float32Array(0);
  private A = 0;
  private Td = 0;
  private readonly cache = new BufferCache<Buffers>();
  private last: Buffers | null = null;
  private lastX: FloatArray | null = null;

  /**
   * @param options - The layer's options.
   * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
   */
  constructor(options: AttentionDecoderOptions) {
    const fn = 'attentionDecoder';
    checkKeys(options, ATTENTION_KEYS, fn);
    super(optString(options.name, undefined, `${fn}(name)`));
    this.units = optPosInt(options.units, undefined, `${fn}(units)`);
    this.score = optEnum(options.score, 'additive', ATTENTION_SCORES, `${fn}(score)`);
    if (this.score !== 'additive' && options.attentionUnits !== undefined) {
      throw ArgumentError.problem(`${fn}(attentionUnits)`, `only the 'additive' score has attention units`);
    }
    this.attentionUnits =
      this.score === 'additive'
        ? options.attentionUnits === undefined
          ? null
          : optPosInt(options.attentionUnits, undefined, `${fn}(attentionUnits)`)
        : 0;
    this.steps = options.steps === undefined ? null : optPosInt(options.steps, undefined, `${fn}(steps)`);
    this.initialState = optEnum(options.initialState, 'encoder', ['encoder', 'zeros'] as const, `${fn}(initialState)`);
    this.activation = optString(options.activation, 'tanh', `${fn}(activation)`) as string;
    this.recurrentActivation = optString(
      options.recurrentActivation,
      'sigmoid',
      `${fn}(recurrentActivation)`,
    ) as string;
    activationOption(this.activation, `${fn}(activation)`);
    activationOption(this.recurrentActivation, `${fn}(recurrentActivation)`);
    this.unitForgetBias = optBool(options.unitForgetBias, true, `${fn}(unitForgetBias)`);
    this.declaredInputShape = optShape(options.inputShape, `${fn}(inputShape)`);
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 2) {
      throw ArgumentError.problem(
        this.name,
        `expected the encoder's states [T, E] (an encoder with returnSequences), got shape [${inputShape.join(', ')}]`,
      );
    }
    const E = inputShape[1];
    if (this.score === 'dot' && E !== this.units) {
      throw ArgumentError.problem(this.name, `the 'dot' score needs encoder features = units (${E} ≠ ${this.units})`);
    }
    if (this.initialState === 'encoder' && E !== this.units) {
      throw ArgumentError.problem(
        this.name,
        `initialState 'encoder' starts at the last encoder state: encoder features must equal units ` +
          `(${E} ≠ ${this.units}); use initialState 'zeros' or match the sizes`,
      );
    }
    return [this.steps ?? inputShape[0], this.units];
  }

  protected override allocate(seed: string): void {
    const E = this.inputShape[1],
      H = this.units,
      ctor = this.ctor;
    this.Td = this.outputShape[0];
    this.A = this.score === 'additive' ? (this.attentionUnits ?? H) : 0;
    const A = this.A;
    const W = makeParam('kernel', [E, 4 * H], ctor),
      U = makeParam('recurrent_kernel', [H, 4 * H], ctor),
      b = makeParam('bias', [4 * H], ctor);
    glorotUniform(W.value, E, 4 * H, makeRandom(`${seed}/kernel`));
    orthogonal(U.value, H, 4 * H, makeRandom(`${seed}/recurrent_kernel`));
    if (this.unitForgetBias) b.value.fill(1, H, 2 * H);
    this.ps = [W, U, b];
    const empty = (this.empty = new ctor(0));
    this.p = { W: W.value, U: U.value, b: b.value, Ws: empty, Wh: empty, ba: empty, v: empty, Wa: empty };
    if (this.score === 'additive') {
      const Ws = makeParam('attention_query_kernel', [H, A], ctor),
        Wh = makeParam('attention_key_kernel', [E, A], ctor),
        ba = makeParam('attention_bias', [A], ctor),
        v = makeParam('attention_score', [A], ctor);
      glorotUniform(Ws.value, H, A, makeRandom(`${seed}/attention_query_kernel`));
      glorotUniform(Wh.value, E, A, makeRandom(`${seed}/attention_key_kernel`));
      glorotUniform(v.value, A, 1, makeRandom(`${seed}/attention_score`));
      this.ps.push(Ws, Wh, ba, v);
      Object.assign(this.p, { Ws: Ws.value, Wh: Wh.value, ba: ba.value, v: v.value });
    } else if (this.score === 'general') {
      const Wa = makeParam('attention_kernel', [H, E], ctor);
      glorotUniform(Wa.value, H, E, makeRandom(`${seed}/attention_kernel`));
      this.ps.push(Wa);
      this.p.Wa = Wa.value;
    }
    this.cache.clear();
    this.last = null;
  }

  override params(): Param[] {
    return this.ps.slice();
  }

  private buffers(N: number): Buffers {
    // A hit allocates nothing: the closure that builds missing buffers lives in newBuffers (a closure here would make
    // V8 allocate a context on every call).
    return this.cache.hit(String(N)) ?? this.newBuffers(N);
  }

  private newBuffers(N: number): Buffers {
    const Te = this.inputShape[0],
      E = this.inputShape[1],
      H = this.units,
      Td = this.Td;
    return this.cache.get(String(N), () => {
      const options =
        this.score === 'additive'
          ? { score: this.score, units: this.A }
          : ({ score: this.score } as { score: AttentionScore });
      const arena = workspaceArena(this.ctor);
      const ws = attentionWorkspace(Te, Td, N, 0, E, H, this.ctor, {
        ...options,
        activation: this.activation,
        recurrentActivation: this.recurrentActivation,
        ...(arena !== undefined ? { arena } : {}),
      });
      return {
        N,
        ws,
        dhEnc: new this.ctor(Te * N * E),
        ds0: new this.ctor(N * H),
        dc0: new this.ctor(N * H),
        out: ws.s.subarray(N * H),
      };
    });
  }

  forward(x: FloatArray, N: number, _ctx: ForwardContext): FloatArray {
    const Te = this.inputShape[0],
      E = this.inputShape[1],
      H = this.units;
    const buf = this.buffers(N);
    const ws = buf.ws;
    // s_0 = h_Te (the last encoder state, E = H) or 0; c_0 = 0.
    if (this.initialState === 'encoder') {
      const s = ws.s,
        off = (Te - 1) * N * E;
      for (let i = 0; i < N * E; i++) s[i] = x[off + i]; // (a loop: a subarray view would allocate on every call)
    } else ws.s.fill(0, 0, N * H);
    ws.c.fill(0, 0, N * H);
    attentionForward(ws, this.p, x, this.empty);
    this.last = buf;
    this.lastX = x;
    return buf.out;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    const buf = this.last,
      x = this.lastX;
    if (buf === null || x === null) throw new Error(`${this.name}: backward called before forward`);
    const g = {
      dW: this.ps[0].grad,
      dU: this.ps[1].grad,
      db: this.ps[2].grad,
      dWs: this.empty,
      dWh: this.empty,
      dba: this.empty,
      dv: this.empty,
      dWa: this.empty,
    };
    if (this.score === 'additive') {
      g.dWs = this.ps[3].grad;
      g.dWh = this.ps[4].grad;
      g.dba = this.ps[5].grad;
      g.dv = this.ps[6].grad;
    } else if (this.score === 'general') g.dWa = this.ps[3].grad;
    attentionBackward(g, buf.dhEnc, null, buf.ds0, buf.dc0, dy, buf.ws, this.p, x, this.empty);
    if (!needDx) return null;
    if (this.initialState === 'encoder') {
      // s_0 = h_Te: its gradient joins that of the last encoder state.
      const off = (this.inputShape[0] - 1) * buf.N * this.units;
      for (let k = 0; k < buf.ds0.length; k++) buf.dhEnc[off + k] += buf.ds0[k];
    }
    return buf.dhEnc;
  }

  /**
   * The attention weights of the last forward: α [Td, N, Te] time-major, row (i, n) the softmax over the encoder steps
   * that decoder step i of sample n used. A view, valid until the next forward.
   *
   * @returns The weights, or null before the first forward.
   */
  lastAttention(): FloatArray | null {
    return this.last === null ? null : this.last.ws.alpha;
  }

  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      name: this.name,
      units: this.units,
      score: this.score,
      initialState: this.initialState,
      activation: this.activation,
      recurrentActivation: this.recurrentActivation,
      unitForgetBias: this.unitForgetBias,
    };
    if (this.score === 'additive' && this.attentionUnits !== null) c['attentionUnits'] = this.attentionUnits;
    if (this.steps !== null) c['steps'] = this.steps;
    if (this.declaredInputShape) c['inputShape'] = this.declaredInputShape;
    return c;
  }
}

/**
 * An attention decoder layer: an LSTM decoder that at every step attends over the encoder's states (Bahdanau's
 * additive score by default, Luong's 'dot' or 'general'), consuming the context vector. Put it after an encoder with
 * `returnSequences: true`. Saves and loads in bptt's model format (className 'AttentionDecoder'); TensorFlow.js has no
 * such layer, so it has no Keras export.
 *
 * @param options - units, score, attentionUnits, steps, initialState, the cell's activations; see
 * {@link AttentionDecoderOptions}.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for a missing or invalid option.
 * @example
 * ```ts
 * import { Sequential, lstm, attentionDecoder } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([
 *   lstm({ units: 4, returnSequences: true, inputShape: [6, 2] }),
 *   attentionDecoder({ units: 4, score: 'additive', attentionUnits: 3 }),
 * ]).build();
 * assert.deepEqual(model.getOutputShape(), [6, 4]);
 * assert.deepEqual(
 *   model.weights().slice(3).map((w) => [w.name, w.shape]),
 *   [
 *     ['attention_decoder/kernel', [4, 16]],
 *     ['attention_decoder/recurrent_kernel', [4, 16]],
 *     ['attention_decoder/bias', [16]],
 *     ['attention_decoder/attention_query_kernel', [4, 3]],
 *     ['attention_decoder/attention_key_kernel', [4, 3]],
 *     ['attention_decoder/attention_bias', [3]],
 *     ['attention_decoder/attention_score', [3]],
 *   ],
 * );
 * ```
 */
export function attentionDecoder(options: AttentionDecoderOptions): AttentionDecoder {
  return new AttentionDecoder(options);
}

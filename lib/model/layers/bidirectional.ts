/**
 * Bidirectional wrapper, merge mode 'concat' (the Keras default): a forward copy of a recurrent layer reads the sequence in
 * order, a backward copy (goBackwards flipped) reads it reversed, and their outputs are concatenated on the feature axis.
 *
 *   returnSequences   y_t = [f_t, b_{T−1−t}]   [T, N, 2H]   (the backward copy's outputs put back in input order, as Keras)
 *   otherwise         y   = [f_T, b_T]         [N, 2H]      (each copy's last state)
 *   backward          dy is split the same way; dx = dx_forward + dx_backward
 *
 * Weights: the forward copy's (kernel, recurrent_kernel, bias), then the backward copy's, as TensorFlow.js orders them.
 */
import type { FloatArray } from '../../../kernels/matmul.js';
import { BufferCache, type ForwardContext, Layer, type Param } from './layer.js';
import { Recurrent, type RecurrentOptions } from './recurrent.js';
import { checkKeys, describeValue, optShape, optString } from '../../check.js';
import { ArgumentError } from '../../errors.js';

/** Options of {@link bidirectional}. */
export interface BidirectionalOptions {
  /** How the two directions' outputs combine: only 'concat' (the Keras default) is implemented. */
  mergeMode?: 'concat';
  /** The wrapper's name; default 'bidirectional', … */
  name?: string;
  /** Per-sample input shape [T, D], for the first layer of a model. */
  inputShape?: number[];
}

interface BiBuffers {
  y: FloatArray;
  dyF: FloatArray;
  dyB: FloatArray;
  dx: FloatArray;
}

/** A recurrent layer run in both directions, outputs concatenated (made by {@link bidirectional}). */
export class Bidirectional extends Layer {
  readonly className = 'Bidirectional';
  /** The copy that reads the sequence in order. */
  readonly forwardLayer: Recurrent;
  /** The copy that reads it reversed. */
  readonly backwardLayer: Recurrent;
  /** The inputShape option, or null: the model takes its input shape from the data. */
  readonly declaredInputShape: number[] | null;
  private readonly cache = new BufferCache<BiBuffers>();
  private lastN = 0;

  /**
   * @param layer - The recurrent layer to run both ways (its config is copied; it must not be stateful).
   * @param options - The wrapper's options.
   * @throws {@link ArgumentError} when `layer` is not a non-stateful recurrent layer, or for an invalid option.
   */
  constructor(layer: Recurrent, options: BidirectionalOptions = {}) {
    checkKeys(options, ['mergeMode', 'name', 'inputShape'], 'bidirectional');
    super(optString(options.name, undefined, 'bidirectional(name)'));
    if (!(layer instanceof Recurrent))
      throw ArgumentError.problem('bidirectional(layer)', 'expected a recurrent layer (simpleRNN, lstm, gru)');
    if ((options.mergeMode ?? 'concat') !== 'concat') {
      throw ArgumentError.problem(
        'bidirectional(mergeMode)',
        `only 'concat' is implemented, got ${describeValue(options.mergeMode)}`,
      );
    }
    if (layer.stateful) throw ArgumentError.problem('bidirectional(layer)', 'a stateful layer cannot be wrapped');
    const config = layer.getConfig() as unknown as RecurrentOptions;
    const base: RecurrentOptions = { ...config };
    delete base.inputShape;
    delete base.name;
    const inner = layer.name || (layer.className === 'SimpleRNN' ? 'simple_rnn' : layer.className.toLowerCase());
    this.forwardLayer = new Recurrent(layer.className, { ...base, name: `forward_${inner}` });
    this.backwardLayer = new Recurrent(layer.className, {
      ...base,
      goBackwards: !layer.goBackwards,
      name: `backward_${inner}`,
    });
    this.declaredInputShape = optShape(options.inputShape, 'bidirectional(inputShape)') ?? layer.declaredInputShape;
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 2)
      throw ArgumentError.problem(this.name, `expected a sequence input [T, D], got [${inputShape.join(', ')}]`);
    const H = this.forwardLayer.units;
    return this.forwardLayer.returnSequences ? [inputShape[0], 2 * H] : [2 * H];
  }

  protected override allocate(seed: string): void {
    this.forwardLayer.build(this.inputShape, this.ctor, `${seed}/forward`);
    this.backwardLayer.build(this.inputShape, this.ctor, `${seed}/backward`);
    this.cache.clear();
  }

  /**
   * The two copies' weights, named as TensorFlow.js names them: forward_lstm/kernel, ..., backward_lstm/bias.
   *
   * @returns The forward copy's three parameters, then the backward copy's.
   */
  override params(): Param[] {
    const named = (l: Recurrent): Param[] =>
      l.params().map((p) => ({ name: `${l.name}/${p.name}`, shape: p.shape, value: p.value, grad: p.grad }));
    return [...named(this.forwardLayer), ...named(this.backwardLayer)];
  }

  private buffers(N: number): BiBuffers {
    const T = this.inputShape[0],
      D = this.inputShape[1],
      H = this.forwardLayer.units;
    const steps = this.forwardLayer.returnSequences ? T : 1;
    return this.cache.get(String(N), () => ({
      y: new this.ctor(steps * N * 2 * H),
      dyF: new this.ctor(steps * N * H),
      dyB: new this.ctor(steps * N * H),
      dx: new this.ctor(T * N * D),
    }));
  }

  forward(x: FloatArray, N: number, ctx: ForwardContext): FloatArray {
    const T = this.inputShape[0],
      H = this.forwardLayer.units;
    const seq = this.forwardLayer.returnSequences;
    const steps = seq ? T : 1;
    const f = this.forwardLayer.forward(x, N, ctx);
    const b = this.backwardLayer.forward(x, N, ctx);
    const buf = this.buffers(N);
    for (let t = 0; t < steps; t++) {
      const tb = seq ? steps - 1 - t : t; // backward copy's outputs come in processing order: put them back
      for (let n = 0; n < N; n++) {
        const dst = (t * N + n) * 2 * H,
          srcF = (t * N + n) * H,
          srcB = (tb * N + n) * H;
        for (let j = 0; j < H; j++) {
          buf.y[dst + j] = f[srcF + j];
          buf.y[dst + H + j] = b[srcB + j];
        }
      }
    }
    this.lastN = N;
    return buf.y;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    const N = this.lastN,
      T = this.inputShape[0],
      H = this.forwardLayer.units;
    const seq = this.forwardLayer.returnSequences;
    const steps = seq ? T : 1;
    const buf = this.buffers(N);
    for (let t = 0; t < steps; t++) {
      const tb = seq ? steps - 1 - t : t;
      for (let n = 0; n < N; n++) {
        const src = (t * N + n) * 2 * H,
          dstF = (t * N + n) * H,
          dstB = (tb * N + n) * H;
        for (let j = 0; j < H; j++) {
          buf.dyF[dstF + j] = dy[src + j];
          buf.dyB[dstB + j] = dy[src + H + j];
        }
      }
    }
    const dxF = this.forwardLayer.backward(buf.dyF, needDx);
    const dxB = this.backwardLayer.backward(buf.dyB, needDx);
    if (!needDx || dxF === null || dxB === null) return null;
    const n = buf.dx.length;
    for (let i = 0; i < n; i++) buf.dx[i] = dxF[i] + dxB[i];
    return buf.dx;
  }

  getConfig(): Record<string, unknown> {
    const inner = this.forwardLayer.getConfig();
    inner['name'] = this.forwardLayer.name.replace(/^forward_/, ''); // the wrapped layer's own name, as Keras keeps it
    const c: Record<string, unknown> = {
      name: this.name,
      mergeMode: 'concat',
      layer: { className: this.forwardLayer.className, config: inner },
    };
    if (this.declaredInputShape) c['inputShape'] = this.declaredInputShape;
    return c;
  }
}

/**
 * A Bidirectional wrapper (merge mode 'concat'): the output has 2·units features, the forward direction's first.
 *
 * @param layer - A {@link simpleRNN}, {@link lstm} or {@link gru} layer, not stateful.
 * @param options - The wrapper's options.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} when `layer` is not a non-stateful recurrent layer, or for an invalid option.
 * @example
 * ```ts
 * import { Sequential, bidirectional, gru } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([bidirectional(gru({ units: 3 }), { inputShape: [5, 2] })]).build();
 * assert.deepEqual(model.getOutputShape(), [6]);
 * assert.equal(model.weights().length, 6); // the forward copy's three weights, then the backward copy's
 * ```
 */
export function bidirectional(layer: Recurrent, options: BidirectionalOptions = {}): Bidirectional {
  return new Bidirectional(layer, options);
}

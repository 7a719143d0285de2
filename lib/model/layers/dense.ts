/**
 * Dense: y = act(x·W + b) on the last axis, as Keras applies it. On a vector batch [N, D] it is one product over N rows;
 * on a time-major sequence batch [T, N, D] it is the same product over all T·N rows (what Keras does for 3-D input, and
 * what TimeDistributed(Dense) does). kernel [D, units], bias [units]. Kernel Glorot uniform, bias zeros.
 *
 * Under the 'wasm' backend (lib/backend.ts) a float32 layer keeps its per-batch-size buffers (y, dz, dx) in an arena of
 * their own, with three staging buffers for the parameters, gradients and input, and runs the products and the bias add
 * on the WebAssembly SIMD kernels; the activation stays the TypeScript one.
 */
import type { FloatArray } from '../../../kernels/matmul.js';
import { type MatOps, jsOps } from '../../../kernels/fast/ops.js';
import { wasmWorkspaceBuffers } from '../../../kernels/wasm/ops.js';
import { type Act } from '../../../kernels/activations.js';
import { denseForward, denseBackward } from '../../../kernels/fast/dense.js';
import { workspaceArena } from '../../backend.js';
import { glorotUniform } from '../init.js';
import { makeRandom } from '../../random.js';
import { activationOption, BufferCache, type ForwardContext, Layer, type Param, makeParam } from './layer.js';
import { checkKeys, optBool, optPosInt, optShape, optString } from '../../check.js';
import { ArgumentError } from '../../errors.js';

const DENSE_KEYS = ['units', 'activation', 'useBias', 'name', 'inputShape'] as const;

/** Options of {@link dense}: camelCase twins of the Keras config keys. */
export interface DenseOptions {
  /** The output size. */
  units: number;
  /** 'linear' (default), 'tanh', 'sigmoid', 'hardSigmoid', 'relu'. */
  activation?: string;
  /** Add a bias. Default true. */
  useBias?: boolean;
  /** The layer's name; default 'dense', 'dense_1', … */
  name?: string;
  /** Per-sample input shape ([D] or [T, D]), for the first layer of a model. */
  inputShape?: number[];
}

interface DenseBuffers {
  y: FloatArray;
  dz: FloatArray;
  dx: FloatArray;
  ops: MatOps;
}

/** A fully connected layer (made by {@link dense}); the fields are its resolved options, see {@link DenseOptions}. */
export class Dense extends Layer {
  readonly className: string = 'Dense';
  /** The output size. */
  readonly units: number;
  /** The activation's name. */
  readonly activation: string;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  /** The inputShape option, or null: the model takes its input shape from the data. */
  readonly declaredInputShape: number[] | null;
  private readonly act: Act;
  private kernel!: Param;
  private bias!: Param;
  private zeroBias!: FloatArray;
  private readonly cache = new BufferCache<DenseBuffers>();
  private lastX: FloatArray | null = null;
  private lastRows = 0;
  private lastBuf: DenseBuffers | null = null;

  /**
   * @param options - The layer's options.
   * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
   */
  constructor(options: DenseOptions) {
    checkKeys(options, DENSE_KEYS, 'dense');
    super(optString(options.name, undefined, 'dense(name)'));
    this.units = optPosInt(options.units, undefined, 'dense(units)');
    this.activation = optString(options.activation, 'linear', 'dense(activation)') as string;
    this.act = activationOption(this.activation, 'dense(activation)');
    this.useBias = optBool(options.useBias, true, 'dense(useBias)');
    this.declaredInputShape = optShape(options.inputShape, 'dense(inputShape)');
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length < 1 || inputShape.length > 2) {
      throw ArgumentError.problem(this.name, `expected input [D] or [T, D], got [${inputShape.join(', ')}]`);
    }
    return [...inputShape.slice(0, -1), this.units];
  }

  protected override allocate(seed: string): void {
    const D = this.inputShape[this.inputShape.length - 1];
    this.kernel = makeParam('kernel', [D, this.units], this.ctor);
    this.bias = makeParam('bias', [this.units], this.ctor);
    this.zeroBias = new this.ctor(this.units);
    glorotUniform(this.kernel.value, D, this.units, makeRandom(`${seed}/kernel`));
    this.cache.clear();
  }

  override params(): Param[] {
    return this.useBias ? [this.kernel, this.bias] : [this.kernel];
  }

  private rows(N: number): number {
    return this.inputShape.length === 2 ? this.inputShape[0] * N : N;
  }

  forward(x: FloatArray, N: number, _ctx: ForwardContext): FloatArray {
    const M = this.rows(N),
      D = this.inputShape[this.inputShape.length - 1],
      U = this.units;
    const buf = this.cache.hit(String(M)) ?? this.cachedBuffers(M, D, U);
    denseForward(
      buf.y,
      x,
      this.kernel.value,
      this.useBias ? this.bias.value : this.zeroBias,
      M,
      D,
      U,
      this.act,
      buf.ops,
    );
    this.lastX = x;
    this.lastRows = M;
    this.lastBuf = buf;
    return buf.y;
  }

  /** The buffers for M rows from the cache (a separate method: forward's own frame then captures nothing). */
  private cachedBuffers(M: number, D: number, U: number): DenseBuffers {
    return this.cache.get(String(M), () => this.buffers(M, D, U));
  }

  /** y, dz [M, units] and dx [M, D]: in a fresh arena of their own with wasm products under 'wasm', else plain arrays. */
  private buffers(M: number, D: number, U: number): DenseBuffers {
    const arena = workspaceArena(this.ctor);
    if (arena === undefined)
      return { y: new this.ctor(M * U), dz: new this.ctor(M * U), dx: new this.ctor(M * D), ops: jsOps };
    const {
      bufs: [y, dz, dx],
      ops,
    } = wasmWorkspaceBuffers(arena, [M * U, M * U, M * D], Math.max(M * D, D * U, M * U));
    return { y: y, dz: dz, dx: dx, ops };
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    const buf = this.lastBuf,
      x = this.lastX;
    if (buf === null || x === null) throw new Error(`${this.name}: backward called before forward`);
    const M = this.lastRows,
      D = this.inputShape[this.inputShape.length - 1];
    // Without a bias, its gradient goes to the unused bias buffer, zeroed each time so it stays bounded.
    const db = this.bias.grad;
    if (!this.useBias) db.fill(0);
    denseBackward(
      this.kernel.grad,
      db,
      needDx ? buf.dx : null,
      dy,
      buf.y,
      x,
      this.kernel.value,
      M,
      D,
      this.units,
      this.act,
      buf.dz,
      buf.ops,
    );
    return needDx ? buf.dx : null;
  }

  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      name: this.name,
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
    };
    if (this.declaredInputShape) c['inputShape'] = this.declaredInputShape;
    return c;
  }
}

/**
 * A Dense layer: y = act(x·W + b) on the last axis (on a sequence, every step with the same W).
 *
 * @param options - units, and the options of {@link DenseOptions}.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for a missing or invalid option.
 * @example
 * ```ts
 * import { Sequential, dense } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([dense({ units: 2, inputShape: [3] })]).build();
 * model.setWeights([[1, 0, 0, 1, 1, 1], [0.5, 0]]); // kernel [3, 2] row-major, bias [2]
 * assert.deepEqual(Array.from(model.predict([[1, 2, 3]]).data), [4.5, 5]);
 * ```
 */
export function dense(options: DenseOptions): Dense {
  return new Dense(options);
}

/**
 * TimeDistributed(Dense): the same dense applied to every step of a sequence. Numerically identical to Dense on 3-D
 * input; kept as its own class so TensorFlow.js / Keras models that use it load and save under their own names.
 */
export class TimeDistributed extends Layer {
  readonly className = 'TimeDistributed';
  /** The dense layer applied at every step. */
  readonly layer: Dense;

  /**
   * @param layer - The dense layer to apply at every step.
   * @param options - The wrapper's name.
   * @throws {@link ArgumentError} when `layer` is not a Dense layer.
   */
  constructor(layer: Dense, options: { name?: string } = {}) {
    checkKeys(options, ['name'], 'timeDistributed');
    super(optString(options.name, undefined, 'timeDistributed(name)'));
    if (!(layer instanceof Dense)) throw ArgumentError.problem('timeDistributed(layer)', 'expected a dense layer');
    this.layer = layer;
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 2) {
      throw ArgumentError.problem(this.name, `expected a sequence input [T, D], got [${inputShape.join(', ')}]`);
    }
    return [inputShape[0], this.layer.units];
  }

  protected override allocate(seed: string): void {
    if (this.layer.name === '') this.layer.name = 'dense';
    this.layer.build(this.inputShape, this.ctor, seed);
  }

  override params(): Param[] {
    return this.layer.params();
  }

  forward(x: FloatArray, N: number, ctx: ForwardContext): FloatArray {
    return this.layer.forward(x, N, ctx);
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    return this.layer.backward(dy, needDx);
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, layer: { className: 'Dense', config: this.layer.getConfig() } };
  }
}

/**
 * TimeDistributed(Dense): the same dense layer at every step of a sequence [T, D] → [T, units].
 *
 * @param layer - A {@link dense} layer.
 * @param options - The wrapper's name (default 'time_distributed').
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} when `layer` is not a Dense layer.
 * @example
 * ```ts
 * import { Sequential, lstm, dense, timeDistributed } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([
 *   lstm({ units: 4, returnSequences: true, inputShape: [12, 1] }),
 *   timeDistributed(dense({ units: 1 })),
 * ]).build();
 * assert.deepEqual(model.getOutputShape(), [12, 1]);
 * ```
 */
export function timeDistributed(layer: Dense, options: { name?: string } = {}): TimeDistributed {
  return new TimeDistributed(layer, options);
}

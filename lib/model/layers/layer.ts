/**
 * The layer contract. A layer pairs a forward with its backward and calls the kernels; it owns its parameters, their
 * gradients and the buffers its forward keeps for backward.
 *
 * Shapes are per sample (no batch axis): [T, F] for a sequence, [F] for a vector. Between layers a batch of sequences is
 * stored TIME-MAJOR, [T, N, F], which is what the recurrent kernels read and write without copies; a batch of vectors is
 * [N, F]. `Sequential` converts the public batch-major [N, T, F] at its entry and exit.
 */
import { type Act, ACTIVATION_NAMES, activationCode } from '../../../kernels/activations.js';
import type { FloatArray } from '../../../kernels/matmul.js';
import { describeValue } from '../../check.js';
import { ArgumentError } from '../../errors.js';
import type { Random } from '../../random.js';

/** The array type of a model's weights and activations: Float32Array or Float64Array (see {@link DType}). */
export type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Precision of a model's weights and activations (a layer's FloatCtor is the array type of its model's DType). */
export type DType = 'float32' | 'float64';

/** The code of an activation option (camelCase or Keras snake_case name); an ArgumentError naming `where` otherwise. */
export function activationOption(name: string, where: string): Act {
  try {
    return activationCode(name, where);
  } catch {
    throw new ArgumentError(where, `one of ${ACTIVATION_NAMES.join(', ')}`, describeValue(name));
  }
}

/** A trainable tensor: its value, and the gradient that backward adds into (zeroed by the trainer once per step). */
export interface Param {
  /** The weight's name within its layer, as TensorFlow.js names it ('kernel', 'recurrent_kernel', 'bias'). */
  readonly name: string;
  /** The weight's shape, e.g. [D, 4H] for an LSTM kernel. */
  readonly shape: readonly number[];
  /** The values, row-major. */
  readonly value: FloatArray;
  /** dL/d(value), same layout. */
  readonly grad: FloatArray;
}

/** What a forward pass needs to know besides its input: training or inference, and the dropout random source. */
export interface ForwardContext {
  /** True inside fit (dropout active), false in predict and evaluate. */
  readonly training: boolean;
  /** Random source for dropout masks; only read when training. */
  readonly random: Random | null;
}

/**
 * Where makeParam places a parameter of n scalars: its value and gradient arrays, or null for fresh ones. A worker
 * thread (lib/parallel/worker.ts) builds its model under one, so that its parameters are views on the main thread's
 * shared parameters and its gradients land in its shared gradient slot.
 */
export type ParamPlacer = (n: number, ctor: FloatCtor) => { value: FloatArray; grad: FloatArray } | null;

let placer: ParamPlacer | null = null;

/** Runs build() with makeParam asking `place` for its arrays (not reentrant; restored even if build throws). */
export function withParamPlacer<T>(place: ParamPlacer, build: () => T): T {
  const before = placer;
  placer = place;
  try {
    return build();
  } finally {
    placer = before;
  }
}

export function makeParam(name: string, shape: readonly number[], ctor: FloatCtor): Param {
  const n = shape.reduce((a, b) => a * b, 1);
  const placed = placer !== null ? placer(n, ctor) : null;
  if (placed !== null) return { name, shape: shape.slice(), value: placed.value, grad: placed.grad };
  return { name, shape: shape.slice(), value: new ctor(n), grad: new ctor(n) };
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The base of every layer: a per-sample input and output shape, a forward, its backward, and the config that rebuilds
 * it. Users build layers through the factories ({@link lstm}, {@link dense}, …) and hand them to {@link Sequential},
 * which calls `build`, `forward` and `backward`; the shapes there have no batch axis.
 */
export abstract class Layer {
  /** The TensorFlow.js / Keras class name ('LSTM', 'Dense', ...). */
  abstract readonly className: string;
  /** The layer's name in its model ('lstm', 'lstm_1', …); '' until Sequential.add names it. */
  name: string;
  protected ctor: FloatCtor = Float32Array;
  protected built = false;
  /** Per-sample input shape ([T, F] or [F]); [] before build. */
  inputShape: number[] = [];
  /** Per-sample output shape; [] before build. */
  outputShape: number[] = [];

  /** @param name - The layer's name; undefined lets Sequential.add choose one. */
  constructor(name: string | undefined) {
    this.name = name ?? '';
  }

  /**
   * Allocates parameters for a per-sample input shape and returns the per-sample output shape.
   *
   * @param inputShape - Per-sample input shape, [T, F] or [F].
   * @param ctor - The array type of the weights (the model's dtype).
   * @param seed - Seed of the initial weights (Sequential passes 'modelSeed/layerName').
   * @returns The per-sample output shape.
   * @throws {@link ArgumentError} when the input shape does not suit the layer.
   */
  build(inputShape: readonly number[], ctor: FloatCtor, seed: string): number[] {
    this.ctor = ctor;
    this.inputShape = inputShape.slice();
    this.outputShape = this.computeOutputShape(inputShape);
    this.allocate(seed);
    this.built = true;
    return this.outputShape.slice();
  }

  /**
   * Whether `build` has run.
   *
   * @returns True once the layer has its parameters.
   */
  isBuilt(): boolean {
    return this.built;
  }

  protected abstract computeOutputShape(inputShape: readonly number[]): number[];

  /** Creates and initialises the parameters (no-op for parameter-free layers). */
  protected allocate(_seed: string): void {}

  /**
   * Trainable parameters, in the order TensorFlow.js lists a layer's weights.
   *
   * @returns The layer's parameters (empty for parameter-free layers); their arrays are the live weights.
   */
  params(): Param[] {
    return [];
  }

  /**
   * Forward over a batch of N samples. The returned buffer is owned by the layer and valid until its next forward.
   *
   * @param x - The input batch: time-major [T, N, F] for sequences, [N, F] for vectors.
   * @param N - The batch size.
   * @param ctx - Training or inference, and the dropout random source.
   * @returns The output batch, in the same layout.
   */
  abstract forward(x: FloatArray, N: number, ctx: ForwardContext): FloatArray;

  /**
   * Backward of the last forward: dy is dL/d(output). Adds parameter gradients; returns dL/d(input) when needDx, else
   * null. The returned buffer is owned by the layer.
   *
   * @param dy - dL/d(output) of the last forward, in its output's layout.
   * @param needDx - Whether to compute dL/d(input) (the first layer of a model skips it).
   * @returns dL/d(input), or null when `needDx` is false.
   */
  abstract backward(dy: FloatArray, needDx: boolean): FloatArray | null;

  /**
   * The layer's options, camelCase, enough to rebuild it with `layerFromConfig`.
   *
   * @returns The config object (what `toJSON` stores for the layer).
   */
  abstract getConfig(): Record<string, unknown>;

  /** Forgets carried state (stateful recurrent layers). */
  resetStates(): void {}
}

/** A per-batch-size buffer cache: a layer keeps the buffers for the last few batch sizes it saw (train, remainder, predict). */
export class BufferCache<V> {
  private readonly entries = new Map<string, V>();
  /** The most recently used entry: a repeated hit (every step of a stream) returns it without touching the Map. */
  private recentKey: string | null = null;
  private recentValue: V | undefined = undefined;
  constructor(private readonly capacity = 3) {}

  /**
   * The buffers of `key` when they were the last ones used, else undefined: `cache.hit(k) ?? cache.get(k, make)` builds
   * the `make` closure only on a miss, so a step at an unchanged batch size allocates nothing here.
   */
  hit(key: string): V | undefined {
    return key === this.recentKey ? this.recentValue : undefined;
  }

  get(key: string, make: () => V): V {
    const v = this.lookup(key, make);
    this.recentKey = key;
    this.recentValue = v;
    return v;
  }

  private lookup(key: string, make: () => V): V {
    let v = this.entries.get(key);
    if (v === undefined) {
      v = make();
      if (this.entries.size >= this.capacity) {
        const first = this.entries.keys().next().value as string;
        this.entries.delete(first);
      }
      this.entries.set(key, v);
    } else {
      // mark as most recently used
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  clear(): void {
    this.entries.clear();
    this.recentKey = null;
    this.recentValue = undefined;
  }
}

/**
 * Parameter-free layers that move data around: RepeatVector, Flatten, Dropout.
 *
 *   RepeatVector(n)  [N, F] → [n, N, F] (time-major):  y_t = x for every t;    dx = Σ_t dy_t
 *   Flatten          [T, N, F] (time-major) → [N, T·F] (batch-major rows, as Keras flattens [N, T, F]);  dx = the inverse copy
 *   Reshape([T, F]) [N, T·F] → [T, N, F] (time-major): the inverse of Flatten, so a dense stack can end in a sequence
 *   Dropout(rate)    y = x ⊙ m, m_i = 0 with probability rate else 1/(1 − rate) (inverted dropout), identity when not
 *                    training;  dx = dy ⊙ m
 */
import type { FloatArray } from '../../../kernels/matmul.js';
import { dropoutMask, applyMask } from '../../../kernels/dropout.js';
import { BufferCache, type ForwardContext, Layer, shapeSize } from './layer.js';
import { checkKeys, describeValue, optNumber, optPosInt, optString } from '../../check.js';
import { ArgumentError } from '../../errors.js';

type Pair = { y: FloatArray; dx: FloatArray };

/**
 * The { y, dx } buffers (ny and ndx elements) for batch size N. A hit at the last batch size allocates nothing: the
 * closure that builds a missing pair lives in newPair, because a function holding a closure makes V8 allocate a context
 * for the captured variables on every call, hit or not.
 */
function pairBuffers(
  cache: BufferCache<Pair>,
  N: number,
  ny: number,
  ndx: number,
  ctor: Float32ArrayConstructor | Float64ArrayConstructor,
): Pair {
  return cache.hit(String(N)) ?? newPair(cache, N, ny, ndx, ctor);
}

function newPair(
  cache: BufferCache<Pair>,
  N: number,
  ny: number,
  ndx: number,
  ctor: Float32ArrayConstructor | Float64ArrayConstructor,
): Pair {
  return cache.get(String(N), () => ({ y: new ctor(ny), dx: new ctor(ndx) }));
}

/** Repeats a vector n times: [F] → [n, F] (made by {@link repeatVector}). */
export class RepeatVector extends Layer {
  readonly className = 'RepeatVector';
  /** How many times the input repeats (the output's T). */
  readonly n: number;
  private readonly cache = new BufferCache<Pair>();
  private lastN = 0;

  /**
   * @param options - n, the number of repeats, and the layer's name.
   * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
   */
  constructor(options: { n: number; name?: string }) {
    checkKeys(options, ['n', 'name'], 'repeatVector');
    super(optString(options.name, undefined, 'repeatVector(name)'));
    this.n = optPosInt(options.n, undefined, 'repeatVector(n)');
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 1)
      throw ArgumentError.problem(this.name, `expected a vector input [F], got [${inputShape.join(', ')}]`);
    return [this.n, inputShape[0]];
  }

  forward(x: FloatArray, N: number, _ctx: ForwardContext): FloatArray {
    const F = this.inputShape[0],
      NF = N * F;
    const buf = pairBuffers(this.cache, N, this.n * NF, NF, this.ctor);
    for (let t = 0; t < this.n; t++) {
      const off = t * NF;
      if (x.length === NF) buf.y.set(x, off);
      else for (let i = 0; i < NF; i++) buf.y[off + i] = x[i]; // x longer than NF: its first NF values, with no view
    }
    this.lastN = N;
    return buf.y;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    if (!needDx) return null;
    const F = this.inputShape[0],
      NF = this.lastN * F;
    const buf = pairBuffers(this.cache, this.lastN, this.n * NF, NF, this.ctor);
    const dx = buf.dx;
    dx.fill(0);
    for (let t = 0; t < this.n; t++) {
      const off = t * NF;
      for (let i = 0; i < NF; i++) dx[i] += dy[off + i];
    }
    return dx;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, n: this.n };
  }
}

/** Flattens a sample to a vector: [T, F] → [T·F] (made by {@link flatten}). */
export class Flatten extends Layer {
  readonly className = 'Flatten';
  private readonly cache = new BufferCache<Pair>();
  private lastN = 0;

  /**
   * @param options - The layer's name.
   * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
   */
  constructor(options: { name?: string } = {}) {
    checkKeys(options, ['name'], 'flatten');
    super(optString(options.name, undefined, 'flatten(name)'));
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    return [shapeSize(inputShape)];
  }

  forward(x: FloatArray, N: number, _ctx: ForwardContext): FloatArray {
    this.lastN = N;
    if (this.inputShape.length === 1) return x;
    const T = this.inputShape[0],
      F = shapeSize(this.inputShape) / T;
    const buf = pairBuffers(this.cache, N, T * N * F, T * N * F, this.ctor);
    for (let t = 0; t < T; t++)
      for (let b = 0; b < N; b++) {
        const src = (t * N + b) * F,
          dst = b * T * F + t * F;
        for (let f = 0; f < F; f++) buf.y[dst + f] = x[src + f];
      }
    return buf.y;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    if (!needDx) return null;
    if (this.inputShape.length === 1) return dy;
    const N = this.lastN,
      T = this.inputShape[0],
      F = shapeSize(this.inputShape) / T;
    const buf = pairBuffers(this.cache, N, T * N * F, T * N * F, this.ctor);
    for (let t = 0; t < T; t++)
      for (let b = 0; b < N; b++) {
        const dst = (t * N + b) * F,
          src = b * T * F + t * F;
        for (let f = 0; f < F; f++) buf.dx[dst + f] = dy[src + f];
      }
    return buf.dx;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name };
  }
}

/** Reshapes a sample to `targetShape`, keeping the element order (made by {@link reshape}). */
export class Reshape extends Layer {
  readonly className = 'Reshape';
  /** The per-sample output shape. */
  readonly targetShape: number[];
  private readonly cache = new BufferCache<Pair>();
  private lastN = 0;

  /**
   * @param options - targetShape, the per-sample output shape, and the layer's name.
   * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
   */
  constructor(options: { targetShape: number[]; name?: string }) {
    checkKeys(options, ['targetShape', 'name'], 'reshape');
    super(optString(options.name, undefined, 'reshape(name)'));
    const t = options.targetShape;
    if (!Array.isArray(t) || t.length < 1 || t.length > 2 || !t.every((d) => Number.isInteger(d) && d > 0)) {
      throw new ArgumentError('reshape(targetShape)', '[F] or [T, F] of positive integers', describeValue(t));
    }
    this.targetShape = t.slice();
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    if (shapeSize(inputShape) !== shapeSize(this.targetShape)) {
      throw ArgumentError.problem(
        this.name,
        `cannot reshape [${inputShape.join(', ')}] (${shapeSize(inputShape)} values) ` +
          `to [${this.targetShape.join(', ')}] (${shapeSize(this.targetShape)} values)`,
      );
    }
    if (inputShape.length !== 1) {
      throw ArgumentError.problem(
        this.name,
        `bptt reshapes a flat input [F] only (use flatten first), got [${inputShape.join(', ')}]`,
      );
    }
    return this.targetShape.slice();
  }

  forward(x: FloatArray, N: number, _ctx: ForwardContext): FloatArray {
    this.lastN = N;
    if (this.targetShape.length === 1) return x;
    const T = this.targetShape[0],
      F = this.targetShape[1];
    const buf = pairBuffers(this.cache, N, T * N * F, T * N * F, this.ctor);
    for (let t = 0; t < T; t++)
      for (let b = 0; b < N; b++) {
        const dst = (t * N + b) * F,
          src = b * T * F + t * F;
        for (let f = 0; f < F; f++) buf.y[dst + f] = x[src + f];
      }
    return buf.y;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    if (!needDx) return null;
    if (this.targetShape.length === 1) return dy;
    const N = this.lastN,
      T = this.targetShape[0],
      F = this.targetShape[1];
    const buf = pairBuffers(this.cache, N, T * N * F, T * N * F, this.ctor);
    for (let t = 0; t < T; t++)
      for (let b = 0; b < N; b++) {
        const src = (t * N + b) * F,
          dst = b * T * F + t * F;
        for (let f = 0; f < F; f++) buf.dx[dst + f] = dy[src + f];
      }
    return buf.dx;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, targetShape: this.targetShape.slice() };
  }
}

/** Zeroes a fraction `rate` of its inputs while training, scales the rest by 1/(1−rate) (made by {@link dropout}). */
export class Dropout extends Layer {
  readonly className = 'Dropout';
  /** The fraction of inputs dropped while training, in [0, 1). */
  readonly rate: number;
  private readonly cache = new BufferCache<{ y: FloatArray; dx: FloatArray; mask: FloatArray }>();
  private last: { y: FloatArray; dx: FloatArray; mask: FloatArray } | null = null;
  private masked = false;
  private size = 0;

  /**
   * @param options - rate, the fraction dropped while training, and the layer's name.
   * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
   */
  constructor(options: { rate: number; name?: string }) {
    checkKeys(options, ['rate', 'name'], 'dropout');
    super(optString(options.name, undefined, 'dropout(name)'));
    if (options.rate === undefined)
      throw ArgumentError.problem('dropout(rate)', 'expected a fraction in [0, 1), got undefined');
    this.rate = optNumber(options.rate, 0, 'dropout(rate)', 0, 1, true);
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    return inputShape.slice();
  }

  forward(x: FloatArray, N: number, ctx: ForwardContext): FloatArray {
    this.masked = ctx.training && this.rate > 0;
    return this.masked ? this.maskedForward(x, N, ctx) : x; // (inference: no closure here, so nothing is allocated)
  }

  private maskedForward(x: FloatArray, N: number, ctx: ForwardContext): FloatArray {
    const n = N * shapeSize(this.inputShape);
    const buf = this.cache.get(String(n), () => ({
      y: new this.ctor(n),
      dx: new this.ctor(n),
      mask: new this.ctor(n),
    }));
    const random = ctx.random;
    if (random === null) throw new Error(`${this.name}: dropout while training needs a random source`);
    dropoutMask(buf.mask, n, this.rate, () => random.uniform());
    applyMask(buf.y, x, buf.mask, n);
    this.last = buf;
    this.size = n;
    return buf.y;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    if (!needDx) return null;
    if (!this.masked) return dy;
    const buf = this.last as { y: FloatArray; dx: FloatArray; mask: FloatArray };
    applyMask(buf.dx, dy, buf.mask, this.size);
    return buf.dx;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, rate: this.rate };
  }
}

/**
 * A RepeatVector layer: [F] → [n, F], the bridge from an encoder's last state to a decoder's sequence.
 *
 * @param options - n, the number of repeats, and the layer's name.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for a missing or invalid option.
 * @example
 * ```ts
 * import { Sequential, dense, repeatVector } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([dense({ units: 2, inputShape: [3] }), repeatVector({ n: 4 })]).build();
 * assert.deepEqual(model.getOutputShape(), [4, 2]);
 * ```
 */
export function repeatVector(options: { n: number; name?: string }): RepeatVector {
  return new RepeatVector(options);
}
/**
 * A Flatten layer: [T, F] → [T·F].
 *
 * @param options - The layer's name.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for an unknown option.
 * @example
 * ```ts
 * import { Sequential, flatten } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([flatten()]);
 * assert.deepEqual(Array.from(model.predict([[[1, 2], [3, 4]]]).shape), [1, 4]);
 * ```
 */
export function flatten(options: { name?: string } = {}): Flatten {
  return new Flatten(options);
}
/**
 * A Reshape layer: a sample keeps its elements in order and takes `targetShape`.
 *
 * @param options - targetShape, the per-sample output shape, and the layer's name.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for a missing or invalid option.
 * @example
 * ```ts
 * import { Sequential, reshape } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([reshape({ targetShape: [3, 2] })]);
 * const y = model.predict([[1, 2, 3, 4, 5, 6]]);
 * assert.deepEqual(y.shape, [1, 3, 2]);
 * assert.equal(y.get(0, 2, 1), 6);
 * ```
 */
export function reshape(options: { targetShape: number[]; name?: string }): Reshape {
  return new Reshape(options);
}
/**
 * A Dropout layer: while training, zeroes each input with probability `rate` and scales the rest by 1/(1−rate); the
 * identity in predict and evaluate.
 *
 * @param options - rate, the fraction dropped, and the layer's name.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for a missing rate or one outside [0, 1).
 * @example
 * ```ts
 * import { Sequential, dense, dropout } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([dense({ units: 2, inputShape: [2] }), dropout({ rate: 0.5 })]).build();
 * model.setWeights([[1, 0, 0, 1], [0, 0]]);
 * assert.deepEqual(Array.from(model.predict([[3, 4]]).data), [3, 4]); // no dropout at inference
 * ```
 */
export function dropout(options: { rate: number; name?: string }): Dropout {
  return new Dropout(options);
}

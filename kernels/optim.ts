/**
 * Optimizer steps over flat parameter tensors, in the TensorFlow.js forms, and global-norm gradient clipping.
 *
 * Each update reads the gradient g[n] of one parameter tensor w[n] and updates w (and the optimizer's per-tensor state) in
 * place; a model calls it once per tensor per training step. Updates never clip, regularise or zero the gradients: the
 * caller zeroes them once per step and clips with `clipByGlobalNorm` before updating, if it wants to.
 *
 * Adam (tfjs-core AdamOptimizer; defaults lr 1e-3, β1 0.9, β2 0.999, ε 1e-7 = the float32 backend epsilon that
 * `tf.train.adam()` and the Keras string 'adam' resolve to). Step t = 1, 2, … (1-based, shared by all tensors of a model):
 *     m ← β1·m + (1 − β1)·g
 *     v ← β2·v + (1 − β2)·g²
 *     w ← w − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε)
 *   TensorFlow.js keeps β^t as a running product accBeta = β·accBeta in float32; here β^t is Math.pow in float64.
 *   Note ε sits outside the square root and after bias correction (the Keras form, not the paper's ε-hat rewrite).
 *
 * SGD with momentum (tfjs-core MomentumOptimizer, not Nesterov; SGDOptimizer when momentum = 0):
 *     a ← momentum·a + g;   w ← w − lr·a          (a = `velocity`, zero-initialised)
 *     plain SGD (velocity null, momentum 0):  w ← w − lr·g
 *
 * Global-norm clipping (tf.clip_by_global_norm): norm = sqrt(Σ over all tensors Σ g²);
 *     if norm > clipNorm:  every g ← g · clipNorm / norm;   else unchanged (bit for bit).
 *   The pre-clip norm is returned. As in TensorFlow, a non-finite norm (an Inf or NaN in some gradient) turns every
 *   gradient into NaN rather than silently stepping with a meaningless direction.
 *
 * Lengths are checked on entry (each buffer must hold at least n elements); a RangeError names the argument.
 */
import type { FloatArray } from './matmul.js';

/** Float32Array or Float64Array, the constructor of a kernel's buffers. */
export type FloatArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** TensorFlow.js defaults for `tf.train.adam()`. */
export const ADAM_DEFAULTS = Object.freeze({
  /** Step size. */
  learningRate: 1e-3,
  /** First-moment decay. */
  beta1: 0.9,
  /** Second-moment decay. */
  beta2: 0.999,
  /** Added to √v̂. */
  epsilon: 1e-7,
});

/** Adam's per-tensor state: first and second moment estimates, zero-initialised. */
export interface AdamMoments {
  /** First moment (mean of g). */
  readonly m: FloatArray;
  /** Second moment (mean of g²). */
  readonly v: FloatArray;
}

function need(fn: string, name: string, a: FloatArray, n: number): void {
  if (a.length < n) throw new RangeError(`${fn}(${name}): expected at least ${n} elements (n), got ${a.length}`);
}

function count(fn: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${fn}: n must be a non-negative integer, got ${n}`);
}

/**
 * Zeroed Adam moments for a tensor of n elements.
 *
 * @param n - Number of elements.
 * @param ctor - Float32Array or Float64Array.
 * @returns m and v, zeroed.
 */
export function adamState(n: number, ctor: FloatArrayCtor): AdamMoments {
  count('adamState', n);
  return { m: new ctor(n), v: new ctor(n) };
}

/**
 * One Adam step on w[n] with gradient g[n] and moments m[n], v[n] (all updated in place). `t` is the 1-based step number:
 * the bias corrections are 1 − β1^t and 1 − β2^t.
 *
 * @param w - Weights, updated in place.
 * @param g - Gradient.
 * @param m - First moment, updated.
 * @param v - Second moment, updated.
 * @param n - Number of elements.
 * @param lr - Learning rate.
 * @param beta1 - First-moment decay.
 * @param beta2 - Second-moment decay.
 * @param eps - Added to √v̂.
 * @param t - The 1-based step number.
 * @throws RangeError for an array shorter than n or t < 1.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // Adam's first step moves every weight by about lr against its gradient's sign.
 * const w = Float64Array.of(1, 1);
 * const { m, v } = kernels.adamState(2, Float64Array);
 * kernels.adamUpdate(w, Float64Array.of(0.5, -2), m, v, 2, 0.1, 0.9, 0.999, 1e-7, 1);
 * assert.ok(Math.abs(w[0] - 0.9) < 1e-6 && Math.abs(w[1] - 1.1) < 1e-6);
 * ```
 */
export function adamUpdate(
  w: FloatArray,
  g: FloatArray,
  m: FloatArray,
  v: FloatArray,
  n: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  t: number,
): void {
  count('adamUpdate', n);
  need('adamUpdate', 'w', w, n);
  need('adamUpdate', 'g', g, n);
  need('adamUpdate', 'm', m, n);
  need('adamUpdate', 'v', v, n);
  if (!Number.isInteger(t) || t < 1) throw new RangeError(`adamUpdate(t): expected a 1-based step number, got ${t}`);
  const c1 = 1 - Math.pow(beta1, t),
    c2 = 1 - Math.pow(beta2, t);
  const a1 = 1 - beta1,
    a2 = 1 - beta2;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + a1 * gi;
    const vi = beta2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= lr * (mi / c1 / (Math.sqrt(vi / c2) + eps));
  }
}

/**
 * One SGD step on w[n] with gradient g[n]: with a velocity buffer, a ← momentum·a + g; w ← w − lr·a (TensorFlow.js
 * MomentumOptimizer); with velocity null (allowed only when momentum is 0), w ← w − lr·g.
 *
 * @param w - Weights, updated in place.
 * @param g - Gradient.
 * @param velocity - Momentum buffer, updated; null when momentum is 0.
 * @param n - Number of elements.
 * @param lr - Learning rate.
 * @param momentum - Momentum (≥ 0).
 * @throws RangeError for an array shorter than n, or null velocity with momentum > 0.
 */
export function sgdUpdate(
  w: FloatArray,
  g: FloatArray,
  velocity: FloatArray | null,
  n: number,
  lr: number,
  momentum: number,
): void {
  count('sgdUpdate', n);
  need('sgdUpdate', 'w', w, n);
  need('sgdUpdate', 'g', g, n);
  if (velocity === null) {
    if (momentum !== 0)
      throw new RangeError(`sgdUpdate(velocity): momentum ${momentum} needs a velocity buffer, got null`);
    for (let i = 0; i < n; i++) w[i] -= lr * g[i];
    return;
  }
  need('sgdUpdate', 'velocity', velocity, n);
  for (let i = 0; i < n; i++) {
    const a = momentum * velocity[i] + g[i];
    velocity[i] = a;
    w[i] -= lr * a;
  }
}

/**
 * sqrt(Σ_tensors Σ_i g_i²) over the whole length of every array, accumulated in float64.
 *
 * @param grads - The gradients.
 * @returns The global L2 norm.
 */
export function globalNorm(grads: readonly FloatArray[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/**
 * Scales every gradient by clipNorm / max(norm, clipNorm) in place, so the global norm is at most clipNorm; leaves them
 * untouched when norm ≤ clipNorm; sets them all to NaN when norm is not finite. Returns the pre-clip global norm.
 *
 * @param grads - The gradients, scaled in place.
 * @param clipNorm - The largest norm allowed (> 0).
 * @returns The global norm before clipping.
 * @throws RangeError unless clipNorm is positive and finite.
 */
export function clipByGlobalNorm(grads: readonly FloatArray[], clipNorm: number): number {
  if (!(clipNorm > 0) || !Number.isFinite(clipNorm)) {
    throw new RangeError(`clipByGlobalNorm(clipNorm): expected a positive finite number, got ${clipNorm}`);
  }
  const norm = globalNorm(grads);
  if (!Number.isFinite(norm)) {
    for (const g of grads) g.fill(NaN);
  } else if (norm > clipNorm) {
    const scale = clipNorm / norm;
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= scale;
  }
  return norm;
}

/**
 * Losses: each a value function and its gradient, over n elements of flat arrays (yPred, yTrue at offset 0).
 *
 * The value is the MEAN over all n elements, as Keras reports it: Keras averages over the last axis and then over the
 * batch, which equals the mean over all elements when every row has the same length. Values are summed in float64 (JS
 * numbers) whatever the array type. Gradients are WRITTEN (overwritten) into d·, the derivative of that mean, so the 1/n
 * is already in them. The gradient buffer may alias yPred (the prediction is then overwritten with its gradient).
 *
 *   name               per-element loss ℓ(p, t)                                   dℓ/dp (the gradient writes dℓ/dp / n)
 *   mse                (p − t)²                                                   2(p − t)
 *   mae                |p − t|                                                    sign(p − t), 0 where p = t
 *   bce                q = clip(p, ε, 1−ε);  −(t·log q + (1−t)·log(1−q))          (q − t) / (q(1−q)) where ε ≤ p ≤ 1−ε, else 0
 *   bceWithLogits      max(z, 0) − z·t + log(1 + e^(−|z|))                        σ(z) − t
 *
 * bce is TensorFlow.js `binaryCrossentropy` (tfjs-layers losses.ts): clip to [ε, 1−ε] with ε = 1e-7 (the backend epsilon),
 * then the same thing written through the logit, sigmoidCrossEntropyWithLogits(t, log(q/(1−q))), which equals the
 * expression above in exact arithmetic. Its gradient is exact for the clip as TensorFlow.js differentiates it
 * (ClipByValue passes the gradient where min ≤ p ≤ max, bounds included, and zero outside): outside [ε, 1−ε] the loss
 * is flat, so the gradient is 0 there. The bounds are compared in float64 (TensorFlow.js compares in float32, where
 * 1−ε rounds to 1 − 2⁻²³; no float32 input lies strictly between the two bounds, so a Float32Array behaves the same).
 * bceWithLogits is TensorFlow's sigmoid_cross_entropy_with_logits, stable for any z (no e^(large) is evaluated).
 */
import type { FloatArray } from './matmul.js';
import { sigmoid } from './activations.js';

/** The clip of `bceLoss`: TensorFlow.js's float32 backend epsilon. */
export const BCE_EPSILON = 1e-7;

function check(
  fn: string,
  n: number,
  aName: string,
  a: FloatArray,
  bName: string,
  b: FloatArray,
  cName = '',
  c: FloatArray | null = null,
): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${fn}: n must be a positive integer, got ${n}`);
  need(fn, aName, a, n);
  need(fn, bName, b, n);
  if (c !== null) need(fn, cName, c, n);
}

function need(fn: string, name: string, a: FloatArray, n: number): void {
  if (a.length < n) throw new RangeError(`${fn}(${name}): expected at least ${n} elements (n), got ${a.length}`);
}

/**
 * mean((p − t)²) over n elements.
 *
 * @param yPred - Predictions.
 * @param yTrue - Targets.
 * @param n - Number of elements.
 * @returns The loss.
 * @throws RangeError for an array shorter than n.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(kernels.mseLoss(Float64Array.of(1, 2), Float64Array.of(0, 0), 2), 2.5);
 * ```
 */
export function mseLoss(yPred: FloatArray, yTrue: FloatArray, n: number): number {
  check('mseLoss', n, 'yPred', yPred, 'yTrue', yTrue);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = yPred[i] - yTrue[i];
    s += e * e;
  }
  return s / n;
}

/**
 * dyPred = 2(p − t)/n.
 *
 * @param dyPred - Out: dL/dyPred.
 * @param yPred - Predictions.
 * @param yTrue - Targets.
 * @param n - Number of elements.
 * @throws RangeError for an array shorter than n.
 */
export function mseGrad(dyPred: FloatArray, yPred: FloatArray, yTrue: FloatArray, n: number): void {
  check('mseGrad', n, 'dyPred', dyPred, 'yPred', yPred, 'yTrue', yTrue);
  const k = 2 / n;
  for (let i = 0; i < n; i++) dyPred[i] = k * (yPred[i] - yTrue[i]);
}

/**
 * mean(|p − t|) over n elements.
 *
 * @param yPred - Predictions.
 * @param yTrue - Targets.
 * @param n - Number of elements.
 * @returns The loss.
 * @throws RangeError for an array shorter than n.
 */
export function maeLoss(yPred: FloatArray, yTrue: FloatArray, n: number): number {
  check('maeLoss', n, 'yPred', yPred, 'yTrue', yTrue);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(yPred[i] - yTrue[i]);
  return s / n;
}

/**
 * dyPred = sign(p − t)/n, 0 where p = t.
 *
 * @param dyPred - Out: dL/dyPred.
 * @param yPred - Predictions.
 * @param yTrue - Targets.
 * @param n - Number of elements.
 * @throws RangeError for an array shorter than n.
 */
export function maeGrad(dyPred: FloatArray, yPred: FloatArray, yTrue: FloatArray, n: number): void {
  check('maeGrad', n, 'dyPred', dyPred, 'yPred', yPred, 'yTrue', yTrue);
  const k = 1 / n;
  for (let i = 0; i < n; i++) {
    const e = yPred[i] - yTrue[i];
    dyPred[i] = e > 0 ? k : e < 0 ? -k : 0;
  }
}

/**
 * Binary cross-entropy from probabilities p, clipped to [ε, 1−ε]: mean(−(t·log q + (1−t)·log(1−q))).
 *
 * @param yPred - Predictions.
 * @param yTrue - Targets.
 * @param n - Number of elements.
 * @returns The loss.
 * @throws RangeError for an array shorter than n.
 */
export function bceLoss(yPred: FloatArray, yTrue: FloatArray, n: number): number {
  check('bceLoss', n, 'yPred', yPred, 'yTrue', yTrue);
  const lo = BCE_EPSILON,
    hi = 1 - BCE_EPSILON;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = yPred[i],
      t = yTrue[i];
    const q = p < lo ? lo : p > hi ? hi : p;
    s -= t * Math.log(q) + (1 - t) * Math.log1p(-q);
  }
  return s / n;
}

/**
 * dyPred = (p − t)/(p(1−p))/n where ε ≤ p ≤ 1−ε, and 0 where the clip is active.
 *
 * @param dyPred - Out: dL/dyPred.
 * @param yPred - Predictions.
 * @param yTrue - Targets.
 * @param n - Number of elements.
 * @throws RangeError for an array shorter than n.
 */
export function bceGrad(dyPred: FloatArray, yPred: FloatArray, yTrue: FloatArray, n: number): void {
  check('bceGrad', n, 'dyPred', dyPred, 'yPred', yPred, 'yTrue', yTrue);
  const lo = BCE_EPSILON,
    hi = 1 - BCE_EPSILON;
  const k = 1 / n;
  for (let i = 0; i < n; i++) {
    const p = yPred[i];
    dyPred[i] = p >= lo && p <= hi ? (k * (p - yTrue[i])) / (p * (1 - p)) : 0;
  }
}

/**
 * Binary cross-entropy from logits z: mean(max(z, 0) − z·t + log(1 + e^(−|z|))).
 *
 * @param z - Logits.
 * @param yTrue - Targets.
 * @param n - Number of elements.
 * @returns The loss.
 * @throws RangeError for an array shorter than n.
 */
export function bceWithLogitsLoss(z: FloatArray, yTrue: FloatArray, n: number): number {
  check('bceWithLogitsLoss', n, 'z', z, 'yTrue', yTrue);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = z[i];
    s += (v > 0 ? v : 0) - v * yTrue[i] + Math.log1p(Math.exp(-Math.abs(v)));
  }
  return s / n;
}

/**
 * dz = (σ(z) − t)/n, with σ evaluated without overflow.
 *
 * @param dz - Out: dL/dz.
 * @param z - Logits.
 * @param yTrue - Targets.
 * @param n - Number of elements.
 * @throws RangeError for an array shorter than n.
 */
export function bceWithLogitsGrad(dz: FloatArray, z: FloatArray, yTrue: FloatArray, n: number): void {
  check('bceWithLogitsGrad', n, 'dz', dz, 'z', z, 'yTrue', yTrue);
  const k = 1 / n;
  for (let i = 0; i < n; i++) {
    dz[i] = k * (sigmoid(z[i]) - yTrue[i]);
  }
}

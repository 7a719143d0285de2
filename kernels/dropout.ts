/**
 * Inverted dropout (as Keras and TensorFlow.js do it): during training each element is kept with probability 1 − rate and
 * scaled by 1/(1 − rate), so the expected activation is unchanged and inference needs no rescaling.
 *
 * Layout: flat, n elements from offset 0 (any shape; a mask for x[T,B,D] is n = T·B·D).
 *
 *   Mask      mask_i = 0            if random() < rate        (one draw per element, in index order)
 *                      1/(1 − rate)  otherwise
 *   Forward   y = x ⊙ mask
 *   Backward  dx = dy ⊙ mask          (the same `applyMask` call with (dx, dy))
 *
 * `random` is the caller's uniform source on [0, 1), so a seeded source makes masks reproducible. With rate 0 the mask is
 * all ones and no numbers are drawn, so switching dropout off does not shift the random stream. rate must lie in [0, 1)
 * (rate 1 would divide by zero). y may alias x (in place). Lengths are checked on entry; a RangeError names the argument.
 */
import type { FloatArray } from './matmul.js';

function need(fn: string, name: string, a: FloatArray, n: number): void {
  if (a.length < n) throw new RangeError(`${fn}(${name}): expected at least ${n} elements (n), got ${a.length}`);
}

function count(fn: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${fn}: n must be a non-negative integer, got ${n}`);
}

/**
 * mask[n]: 0 with probability `rate`, else 1/(1 − rate); draws `random()` once per element (not at all when rate is 0).
 *
 * @param mask - Out: n elements.
 * @param n - Number of elements.
 * @param rate - Drop probability, 0 ≤ rate < 1.
 * @param random - Uniform [0, 1) source.
 * @throws RangeError for n or rate out of range or a mask that is too short.
 */
export function dropoutMask(mask: FloatArray, n: number, rate: number, random: () => number): void {
  count('dropoutMask', n);
  need('dropoutMask', 'mask', mask, n);
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropoutMask(rate): expected a number in [0, 1), got ${rate}`);
  if (rate === 0) {
    mask.fill(1, 0, n);
    return;
  }
  const keep = 1 / (1 - rate);
  for (let i = 0; i < n; i++) mask[i] = random() < rate ? 0 : keep;
}

/**
 * y[n] = x[n] ⊙ mask[n]. The forward (y, x) and the backward (dx, dy) of dropout.
 *
 * @param y - Out: n elements (may be x).
 * @param x - The input.
 * @param mask - The mask.
 * @param n - Number of elements.
 * @throws RangeError for an array shorter than n.
 */
export function applyMask(y: FloatArray, x: FloatArray, mask: FloatArray, n: number): void {
  count('applyMask', n);
  need('applyMask', 'y', y, n);
  need('applyMask', 'x', x, n);
  need('applyMask', 'mask', mask, n);
  for (let i = 0; i < n; i++) y[i] = x[i] * mask[i];
}

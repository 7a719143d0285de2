/** Scalar activation oracles and a tolerance check shared by the cell tests: plain Math, no kernel code. */
import { expect } from 'chai';

export type ActName = 'tanh' | 'sigmoid' | 'hardSigmoid' | 'relu' | 'linear';

/** The activation, from its formula (TensorFlow.js hardSigmoid: clip(0.2·z + 0.5, 0, 1)). */
export function f(name: ActName, z: number): number {
  switch (name) {
    case 'tanh':
      return Math.tanh(z);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-z));
    case 'hardSigmoid':
      return Math.min(1, Math.max(0, 0.2 * z + 0.5));
    case 'relu':
      return Math.max(0, z);
    case 'linear':
      return z;
  }
}

/** Distance from z to the nearest point where the activation is not differentiable. */
export function kinkDistance(name: ActName, z: number): number {
  if (name === 'relu') return Math.abs(z);
  if (name === 'hardSigmoid') return Math.min(Math.abs(z - 2.5), Math.abs(z + 2.5));
  return Infinity;
}

/** Central differences with eps = 1e-5 move any pre-activation by far less than this. */
export const KINK_MARGIN = 1e-4;

/** |a−b| ≤ tol·max(|b|, floor) elementwise, failing with the tensor name, the index and both values. */
export function expectClose(name: string, a: ArrayLike<number>, b: ArrayLike<number>, tol: number, floor = 1): number {
  expect(a.length, `${name} length`).to.equal(b.length);
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const av = a[i],
      bv = b[i];
    const err = Math.abs(av - bv) / Math.max(Math.abs(bv), floor);
    if (!(err <= tol))
      throw new Error(`${name}[${i}]: got ${av}, expected ${bv} (scaled error ${err.toExponential(2)} > ${tol})`);
    worst = Math.max(worst, err);
  }
  return worst;
}

/** max_i |a_i − b_i| (the lengths must match). */
export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

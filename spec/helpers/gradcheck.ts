/**
 * Central finite-difference gradient check, in float64.
 *
 * For every element θ_i of every tensor in `inputs`, the numeric derivative is
 *     n_i = (L(θ + eps·e_i) − L(θ − eps·e_i)) / (2·eps)
 * and it must match the analytic one a_i:
 *     |a_i − n_i| / max(|a_i|, |n_i|, 1e-8) ≤ tol        (default tol 1e-6, eps 1e-5)
 * or, for derivatives so small that float64 round-off in L dominates the difference quotient, |a_i − n_i| ≤ absTol
 * (default 1e-10; L is O(1) in our tests, so round-off in n_i is about 1e-16/1e-5 = 1e-11).
 * The failure names the tensor, the flat index and both values.
 */
import { expect } from 'chai';

export interface GradCheckOptions {
  eps?: number;
  tol?: number;
  absTol?: number;
}

export function gradCheck(
  inputs: Record<string, Float64Array>,
  analytic: Record<string, Float64Array>,
  loss: () => number,
  options: GradCheckOptions = {},
): { maxRel: number; checked: number } {
  const eps = options.eps ?? 1e-5;
  const tol = options.tol ?? 1e-6;
  const absTol = options.absTol ?? 1e-10;
  let maxRel = 0;
  let checked = 0;
  for (const name of Object.keys(inputs)) {
    const theta = inputs[name];
    const grad = analytic[name];
    if (grad === undefined) throw new Error(`gradCheck: no analytic gradient for ${name}`);
    expect(grad.length, `gradient length of ${name}`).to.equal(theta.length);
    for (let i = 0; i < theta.length; i++) {
      const keep = theta[i];
      theta[i] = keep + eps;
      const up = loss();
      theta[i] = keep - eps;
      const down = loss();
      theta[i] = keep;
      const n = (up - down) / (2 * eps);
      const a = grad[i];
      const diff = Math.abs(a - n);
      const rel = diff / Math.max(Math.abs(a), Math.abs(n), 1e-8);
      if (!(rel <= tol || diff <= absTol)) {
        throw new Error(
          `gradient of ${name}[${i}]: analytic ${a}, numeric ${n} (relative error ${rel.toExponential(2)} > ${tol})`,
        );
      }
      if (diff > absTol && rel > maxRel) maxRel = rel;
      checked++;
    }
  }
  expect(checked).to.be.greaterThan(0);
  return { maxRel, checked };
}

/** L = Σ_i out_i · R_i: a loss with a random (non-uniform) upstream gradient R, so that dL/dout = R. */
export function weightedSum(out: Float64Array, R: Float64Array, off = 0, n = R.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += out[off + i] * R[i];
  return s;
}

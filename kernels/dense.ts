/**
 * Dense (fully connected) layer over rows: y = act(x·W + b). Keras layout.
 *
 * Layout: x[M,D], y[M,N], W[D,N] (Keras `kernel`), b[N]. Row-major. M is the number of rows the layer sees at once: the
 * batch size B for a vector input, or T·B for a time-major sequence x[T,B,D] (a TimeDistributed dense, or a Keras Dense
 * applied to 3-D input, is the same computation over all T·B rows).
 *
 *   Forward   y = act(z),   z = x·W + b                         (z is never stored: y is computed in place)
 *   Backward  dz = dy ⊙ act'(·) taken from y                    (dy = dL/dy)
 *             dW += xᵀ·dz;   db += Σ_rows dz;   dx = dz·Wᵀ
 *
 * Buffers: dz[M,N] is caller-owned scratch. Passing `dy` itself as `dz` is allowed and transforms dy into dz in place
 * (saves a buffer when the caller no longer needs dL/dy); any other dz must not alias y, x or dy. dW and db are ADDED into
 * (the caller zeroes them once per step); dx is WRITTEN (overwritten); pass null to skip it (first layer).
 *
 * Lengths are checked on entry: every buffer must hold at least the elements its shape needs (so buffers sized for a
 * larger batch can serve a smaller one); a RangeError names the argument, the expected and the actual length.
 *
 * This is the REFERENCE (products of matmul.ts); fast/dense.ts is its twin that takes the products as an `ops` argument
 * (the WebAssembly SIMD ones on lib's wasm path) and otherwise runs the same lines.
 */
import { type FloatArray, addBias, matmul, matmulABt, matmulAtB, sumRows } from './matmul.js';
import { type Act, activate, activateBackward } from './activations.js';

/**
 * Throws unless M, D, N are non-negative integers (the dense kernels' entry check).
 *
 * @param fn - The kernel's name.
 * @param M - Rows (samples).
 * @param D - Input features.
 * @param N - Output features.
 * @throws RangeError naming `fn` and the dimensions.
 */
export function denseDimsOk(fn: string, M: number, D: number, N: number): void {
  if (!(Number.isInteger(M) && Number.isInteger(D) && Number.isInteger(N)) || M < 0 || D < 0 || N < 0) {
    throw new RangeError(`${fn}: dimensions must be non-negative integers, got M=${M}, D=${D}, N=${N}`);
  }
}

/**
 * Throws unless `arr` holds at least `len` elements (the dense kernels' length check).
 *
 * @param fn - The kernel's name.
 * @param name - The argument's name.
 * @param arr - The array.
 * @param len - The length it needs.
 * @param what - The length as a formula ('M·N'), for the message.
 * @throws RangeError when arr is shorter.
 */
export function denseNeed(fn: string, name: string, arr: FloatArray, len: number, what: string): void {
  if (arr.length < len) {
    throw new RangeError(`${fn}(${name}): expected at least ${len} elements (${what}), got ${arr.length}`);
  }
}

/**
 * The length checks of denseForward's arguments (shared with the fast twin).
 *
 * @param y - [M,N] output.
 * @param x - [M,D] input.
 * @param W - [D,N] kernel.
 * @param b - [N] bias, or null.
 * @param M - Rows (samples).
 * @param D - Input features.
 * @param N - Output features.
 * @throws RangeError for a dimension or length that does not fit.
 */
export function checkDenseForward(
  y: FloatArray,
  x: FloatArray,
  W: FloatArray,
  b: FloatArray,
  M: number,
  D: number,
  N: number,
): void {
  denseDimsOk('denseForward', M, D, N);
  denseNeed('denseForward', 'y', y, M * N, 'M·N');
  denseNeed('denseForward', 'x', x, M * D, 'M·D');
  denseNeed('denseForward', 'W', W, D * N, 'D·N');
  denseNeed('denseForward', 'b', b, N, 'N');
}

/**
 * The length checks of denseBackward's arguments (shared with the fast twin).
 *
 * @param dW - [D,N] kernel gradient.
 * @param db - [N] bias gradient, or null.
 * @param dx - [M,D] input gradient, or null.
 * @param dy - [M,N] dL/dy.
 * @param y - [M,N] the forward's output.
 * @param x - [M,D] the forward's input.
 * @param W - [D,N] kernel.
 * @param M - Rows (samples).
 * @param D - Input features.
 * @param N - Output features.
 * @param dz - [M,N] scratch.
 * @throws RangeError for a dimension or length that does not fit.
 */
export function checkDenseBackward(
  dW: FloatArray,
  db: FloatArray,
  dx: FloatArray | null,
  dy: FloatArray,
  y: FloatArray,
  x: FloatArray,
  W: FloatArray,
  M: number,
  D: number,
  N: number,
  dz: FloatArray,
): void {
  denseDimsOk('denseBackward', M, D, N);
  denseNeed('denseBackward', 'dW', dW, D * N, 'D·N');
  denseNeed('denseBackward', 'db', db, N, 'N');
  if (dx !== null) denseNeed('denseBackward', 'dx', dx, M * D, 'M·D');
  denseNeed('denseBackward', 'dy', dy, M * N, 'M·N');
  denseNeed('denseBackward', 'y', y, M * N, 'M·N');
  denseNeed('denseBackward', 'x', x, M * D, 'M·D');
  denseNeed('denseBackward', 'W', W, D * N, 'D·N');
  denseNeed('denseBackward', 'dz', dz, M * N, 'M·N');
}

/**
 * y[M,N] = act(x[M,D]·W[D,N] + b[N]).
 *
 * @param y - Out: [M,N].
 * @param x - [M,D] input.
 * @param W - [D,N] kernel.
 * @param b - [N] bias, or null for none.
 * @param M - Rows (samples).
 * @param D - Input features.
 * @param N - Output features.
 * @param act - The activation code.
 * @throws RangeError for a dimension or length that does not fit.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // one row x = [1, 2]; W = [[1, 0], [0, 1]]; b = [0.5, 0]; linear
 * const y = new Float64Array(2);
 * const W = Float64Array.of(1, 0, 0, 1);
 * kernels.denseForward(y, Float64Array.of(1, 2), W, Float64Array.of(0.5, 0), 1, 2, 2, kernels.Act.Linear);
 * assert.deepEqual(y, Float64Array.of(1.5, 2));
 * ```
 */
export function denseForward(
  y: FloatArray,
  x: FloatArray,
  W: FloatArray,
  b: FloatArray,
  M: number,
  D: number,
  N: number,
  act: Act,
): void {
  checkDenseForward(y, x, W, b, M, D, N);
  matmul(y, 0, N, x, 0, D, W, 0, N, M, D, N, false); // z = x·W
  addBias(y, 0, N, b, 0, M, N); // z += b
  activate(act, y, 0, M * N); // y = act(z)
}

/**
 * Backward of `denseForward` given dy = dL/dy and the forward's y and x:
 * dz = dy ⊙ act'(from y);  dW += xᵀ·dz;  db += Σ_rows dz;  dx = dz·Wᵀ (skipped when dx is null).
 * `dz` [M,N] is scratch; it may be `dy` itself (then dy is overwritten with dz).
 *
 * @param dW - [D,N] kernel gradient, added into.
 * @param db - [N] bias gradient, added into (null: no bias).
 * @param dx - Out: [M,D] dL/dx, or null to skip.
 * @param dy - [M,N] dL/dy.
 * @param y - [M,N] the forward's output.
 * @param x - [M,D] the forward's input.
 * @param W - [D,N] kernel.
 * @param M - Rows (samples).
 * @param D - Input features.
 * @param N - Output features.
 * @param act - The activation code.
 * @param dz - [M,N] scratch (may be dy).
 * @throws RangeError for a dimension or length that does not fit.
 */
export function denseBackward(
  dW: FloatArray,
  db: FloatArray,
  dx: FloatArray | null,
  dy: FloatArray,
  y: FloatArray,
  x: FloatArray,
  W: FloatArray,
  M: number,
  D: number,
  N: number,
  act: Act,
  dz: FloatArray,
): void {
  checkDenseBackward(dW, db, dx, dy, y, x, W, M, D, N, dz);
  const MN = M * N;
  if (dz !== dy) for (let i = 0; i < MN; i++) dz[i] = dy[i];
  activateBackward(act, dz, 0, y, 0, MN); // dz = dy ⊙ act'
  matmulAtB(dW, 0, N, x, 0, D, dz, 0, N, D, M, N, true); // dW += xᵀ·dz
  sumRows(db, 0, dz, 0, N, M, N); // db += Σ_rows dz
  if (dx !== null) matmulABt(dx, 0, D, dz, 0, N, W, 0, N, M, N, D, false); // dx = dz·Wᵀ
}

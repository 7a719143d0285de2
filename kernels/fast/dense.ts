/**
 * Dense (fully connected) layer over rows: y = act(x·W + b). Keras layout. The FAST twin of ../dense.ts: the same lines,
 * with the products and the bias add taken from `ops` (lib's Dense passes the wasm ones on its wasm path).
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
 * Products: `ops` (last argument, default jsOps = matmul.ts) runs the three products and the bias add. On the wasm path
 * (wasm/ops.ts, Float32Array) y and dz must be views on the ops' arena (the bias add and dz's use as an operand need
 * them there; dx and dW may be anywhere, they are staged); the activation and its derivative, Σ_rows and the dy → dz copy
 * stay the TypeScript loops of this file on either path.
 */
import type { FloatArray } from '../matmul.js';
import { type MatOps, jsOps } from './ops.js';
import { type Act, activate, activateBackward } from '../activations.js';
import { checkDenseBackward, checkDenseForward } from '../dense.js';

/** y[M,N] = act(x[M,D]·W[D,N] + b[N]). */
export function denseForward(
  y: FloatArray,
  x: FloatArray,
  W: FloatArray,
  b: FloatArray,
  M: number,
  D: number,
  N: number,
  act: Act,
  ops: MatOps = jsOps,
): void {
  checkDenseForward(y, x, W, b, M, D, N);
  ops.matmul(y, 0, N, x, 0, D, W, 0, N, M, D, N, false); // z = x·W
  ops.addBias(y, 0, N, b, 0, M, N); // z += b
  activate(act, y, 0, M * N); // y = act(z)
}

/**
 * Backward of `denseForward` given dy = dL/dy and the forward's y and x:
 * dz = dy ⊙ act'(from y);  dW += xᵀ·dz;  db += Σ_rows dz;  dx = dz·Wᵀ (skipped when dx is null).
 * `dz` [M,N] is scratch; it may be `dy` itself (then dy is overwritten with dz).
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
  ops: MatOps = jsOps,
): void {
  checkDenseBackward(dW, db, dx, dy, y, x, W, M, D, N, dz);
  const MN = M * N;
  if (dz !== dy) for (let i = 0; i < MN; i++) dz[i] = dy[i];
  activateBackward(act, dz, 0, y, 0, MN); // dz = dy ⊙ act'
  ops.matmulAtB(dW, 0, N, x, 0, D, dz, 0, N, D, M, N, true); // dW += xᵀ·dz
  ops.sumRows(db, 0, dz, 0, N, M, N); // db += Σ_rows dz
  if (dx !== null) ops.matmulABt(dx, 0, D, dz, 0, N, W, 0, N, M, N, D, false); // dx = dz·Wᵀ
}

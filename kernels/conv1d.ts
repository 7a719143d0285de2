/**
 * 1-D convolution, transposed convolution, max and average pooling and nearest upsampling over sequences, forward and
 * backward. Keras semantics and weight layouts; the products are the GEMMs of matmul.ts over an im2col matrix.
 *
 * Symbols: T input steps, To output steps, B batch, Ci input channels, Co output channels (filters), K kernel size,
 * s stride, d dilation, Ke = (K−1)·d + 1 the dilated kernel's extent, pL the zeros padded on the left.
 * Layout: time-major like every kernel here, x[T,B,Ci], y[To,B,Co] (lib's layers keep sequences time-major, so a conv
 * layer needs no transpose; row (t·B + b) of a sequence is step t of sample b).
 * Weights: conv1d kernel W[K,Ci,Co] (Keras `kernel`, read as the matrix [K·Ci, Co]), bias b[Co];
 * conv1dTranspose kernel W[K,Co,Ci] (Keras Conv1DTranspose `kernel`: kernel_size, filters, input_dim; read as [K·Co, Ci]).
 *
 * Geometry (conv1dGeometry; Keras/TensorFlow arithmetic, exactly):
 *   valid   To = ⌊(T − Ke)/s⌋ + 1 (T ≥ Ke),                      pL = 0
 *   same    To = ⌈T/s⌉,  pTotal = max((To−1)·s + Ke − T, 0),      pL = ⌊pTotal/2⌋   (the extra zero goes right, as in TF)
 *   causal  To = ⌈T/s⌉,                                            pL = Ke − 1        (left zeros only: y_t sees x_≤t·s)
 *   Input step of output step o and tap k:  i(o, k) = o·s + k·d − pL; a tap with i outside [0, T) reads a zero.
 *
 * conv1d       Forward   cols[o·B+b, k·Ci+c] = x[i(o,k), b, c]                       (im2col; zero outside)
 *                        z = cols·W + b;   y = act(z)                                   (one GEMM over To·B rows)
 *              Backward  dz = dy ⊙ act'(y);   dW += colsᵀ·dz;   db += Σ_rows dz;   dcols = dz·Wᵀ
 *                        dx[i(o,k), b, c] += dcols[o·B+b, k·Ci+c]                     (col2im: scatter-add)
 * conv1dTranspose (the adjoint of conv1d's input map, over a geometry g from the long side: x has g.To steps, y g.T)
 *              Forward   cols = x·Wᵀ  ([g.To·B, K·Co]);   z[i(o,k), b, :] += cols[o·B+b, k·Co …]  (col2im);   z += b;
 *                        y = act(z)          Keras lengths: 'valid' (To−1)·s + Ke, 'same' To·s (conv1dTransposeLength)
 *              Backward  dz = dy ⊙ act'(y);   db += Σ_rows dz;   dcols = im2col(dz);   dW += dcolsᵀ·x;   dx = dcols·W
 * maxPool1d    y[o,b,c] = max_k x[i(o,k),b,c] over taps inside [0, T) (d = 1);  arg[o,b,c] = the winning x index
 *              dx[arg] += dy   (ties: the first tap wins, as TensorFlow's CPU kernel)
 * avgPool1d    y[o,b,c] = (1/n_o) Σ_k x[i(o,k),b,c], n_o = taps inside [0, T) (TF 'same': padding is not counted)
 *              dx[i(o,k),b,c] += dy[o,b,c] / n_o
 * upSampling1d y[t·r + j, b, c] = x[t, b, c] (j < r);   dx[t,b,c] = Σ_j dy[t·r + j, b, c]
 *
 * Buffers are caller-owned and checked on entry (exact lengths, RangeError naming the argument). Backward ADDS into dW
 * and db; dx is WRITTEN (null skips it). `cols` is the forward's cache for backward (never recomputed). dz may be dy
 * itself. No loop allocates. The products go through `mm` (default: matmul.ts, which keeps this file a reference on
 * its own), the same three entry points as kernels/fast's MatOps, so a caller can pass one: lib's Conv1D and
 * Conv1DTranspose pass wasmOps(arena, stage) (the WebAssembly SIMD GEMM) under the 'wasm' backend. im2col, col2im, the
 * bias add and the activations are the loops here on every path.
 */
import { type FloatArray, addBias, matmul, matmulABt, matmulAtB, sumRows } from './matmul.js';
import { type Act, activate, activateBackward } from './activations.js';
import { checkDim, checkLength } from './check.js';

/** The padding modes of Keras' Conv1D ('causal' is Conv1D only). */
export type ConvPadding = 'valid' | 'same' | 'causal';

/** The three products the convolutions call; matmul.ts's by default (kernels/fast's `ops` have the same shape). */
export interface ConvProducts {
  /** C (+)= A·B, as matmul.ts's. */
  matmul: typeof matmul;
  /** C (+)= A·Bᵀ, as matmul.ts's. */
  matmulABt: typeof matmulABt;
  /** C (+)= Aᵀ·B, as matmul.ts's. */
  matmulAtB: typeof matmulAtB;
}

const REF: ConvProducts = { matmul, matmulABt, matmulAtB };

/** Where the taps of a 1-D convolution fall: see the header's Geometry. */
export interface Conv1dGeometry {
  /** Steps on the input side of the convolution. */
  readonly T: number;
  /** Steps on the output side. */
  readonly To: number;
  /** Kernel (or pool) size. */
  readonly K: number;
  /** Stride s. */
  readonly stride: number;
  /** Dilation d. */
  readonly dilation: number;
  /** Zeros padded on the left, pL. */
  readonly padL: number;
}

/**
 * The geometry of a 1-D convolution (or pooling window) with Keras' padding arithmetic.
 *
 * @param T - Input steps.
 * @param K - Kernel size.
 * @param stride - Stride s ≥ 1.
 * @param dilation - Dilation d ≥ 1.
 * @param padding - 'valid', 'same' or 'causal'.
 * @returns The geometry: To and pL as in the header.
 * @throws RangeError for a non-positive dimension, an unknown padding, or 'valid' with T < Ke.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // T = 60, K = 7, stride 2, 'same' (SKAB's Conv-AE): 30 outputs, pTotal = 29·2 + 7 − 60 = 5, pL = 2
 * const g = kernels.conv1dGeometry(60, 7, 2, 1, 'same');
 * assert.equal(g.To, 30);
 * assert.equal(g.padL, 2);
 * ```
 */
export function conv1dGeometry(
  T: number,
  K: number,
  stride: number,
  dilation: number,
  padding: ConvPadding,
): Conv1dGeometry {
  const fn = 'conv1dGeometry';
  checkDim(fn, 'T', T);
  checkDim(fn, 'K', K);
  checkDim(fn, 'stride', stride);
  checkDim(fn, 'dilation', dilation);
  const Ke = (K - 1) * dilation + 1;
  if (padding === 'valid') {
    if (T < Ke) throw new RangeError(`${fn}: 'valid' needs T ≥ (K−1)·d + 1 = ${Ke}, got T=${T}`);
    return { T, To: Math.floor((T - Ke) / stride) + 1, K, stride, dilation, padL: 0 };
  }
  const To = Math.ceil(T / stride);
  if (padding === 'same') {
    const total = Math.max((To - 1) * stride + Ke - T, 0);
    return { T, To, K, stride, dilation, padL: Math.floor(total / 2) };
  }
  if (padding === 'causal') return { T, To, K, stride, dilation, padL: Ke - 1 };
  throw new RangeError(`${fn}(padding): expected 'valid', 'same' or 'causal', got ${String(padding)}`);
}

/**
 * The output length of Keras' Conv1DTranspose: 'valid' (T−1)·s + Ke, 'same' T·s (output_padding unset). The
 * transposed convolution's geometry is then conv1dGeometry(that length, K, s, d, padding), whose To is T.
 *
 * @param T - Input steps of the transposed convolution.
 * @param K - Kernel size.
 * @param stride - Stride.
 * @param dilation - Dilation.
 * @param padding - 'valid' or 'same'.
 * @returns The output steps.
 * @throws RangeError for a non-positive dimension or another padding.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(kernels.conv1dTransposeLength(15, 7, 2, 1, 'same'), 30);
 * assert.equal(kernels.conv1dTransposeLength(15, 7, 2, 1, 'valid'), 35);
 * ```
 */
export function conv1dTransposeLength(
  T: number,
  K: number,
  stride: number,
  dilation: number,
  padding: 'valid' | 'same',
): number {
  const fn = 'conv1dTransposeLength';
  checkDim(fn, 'T', T);
  checkDim(fn, 'K', K);
  checkDim(fn, 'stride', stride);
  checkDim(fn, 'dilation', dilation);
  if (padding === 'same') return T * stride;
  if (padding === 'valid') return (T - 1) * stride + (K - 1) * dilation + 1;
  throw new RangeError(`${fn}(padding): expected 'valid' or 'same', got ${String(padding)}`);
}

/**
 * im2col: cols[o·B+b, k·C+c] = x[i(o,k), b, c], zero where i(o,k) is outside [0, T). x[g.T,B,C], cols[g.To·B, K·C].
 *
 * @param cols - Out: [To·B, K·C].
 * @param x - [T, B, C] time-major.
 * @param g - The geometry.
 * @param B - Batch.
 * @param C - Channels.
 */
export function im2col(cols: FloatArray, x: FloatArray, g: Conv1dGeometry, B: number, C: number): void {
  const { T, To, K, stride, dilation, padL } = g;
  const KC = K * C;
  for (let o = 0; o < To; o++) {
    for (let k = 0; k < K; k++) {
      const i = o * stride + k * dilation - padL;
      const inside = i >= 0 && i < T;
      for (let b = 0; b < B; b++) {
        const colBase = (o * B + b) * KC + k * C;
        if (inside) {
          const xBase = (i * B + b) * C;
          for (let c = 0; c < C; c++) cols[colBase + c] = x[xBase + c];
        } else {
          for (let c = 0; c < C; c++) cols[colBase + c] = 0;
        }
      }
    }
  }
}

/**
 * col2im, the adjoint of im2col: dx = 0, then dx[i(o,k), b, c] += cols[o·B+b, k·C+c] for taps inside [0, T).
 *
 * @param dx - Out: [T, B, C], overwritten.
 * @param cols - [To·B, K·C].
 * @param g - The geometry.
 * @param B - Batch.
 * @param C - Channels.
 */
export function col2im(dx: FloatArray, cols: FloatArray, g: Conv1dGeometry, B: number, C: number): void {
  const { T, To, K, stride, dilation, padL } = g;
  const KC = K * C;
  dx.fill(0, 0, T * B * C);
  for (let o = 0; o < To; o++) {
    for (let k = 0; k < K; k++) {
      const i = o * stride + k * dilation - padL;
      if (i < 0 || i >= T) continue;
      for (let b = 0; b < B; b++) {
        const colBase = (o * B + b) * KC + k * C;
        const xBase = (i * B + b) * C;
        for (let c = 0; c < C; c++) dx[xBase + c] += cols[colBase + c];
      }
    }
  }
}

function checkConvDims(fn: string, B: number, Ci: number, Co: number): void {
  checkDim(fn, 'B', B);
  checkDim(fn, 'Ci', Ci);
  checkDim(fn, 'Co', Co);
}

/**
 * conv1d forward: cols = im2col(x); y = act(cols·W + b). x[T,B,Ci], W[K,Ci,Co], b[Co], y[To,B,Co], cols[To·B, K·Ci].
 *
 * @param y - Out: [To, B, Co].
 * @param cols - Out: [To·B, K·Ci], the im2col of x (kept for backward).
 * @param x - [T, B, Ci] time-major input.
 * @param W - [K, Ci, Co] kernel (Keras layout).
 * @param b - [Co] bias.
 * @param g - Geometry from conv1dGeometry(T, K, s, d, padding).
 * @param B - Batch.
 * @param Ci - Input channels.
 * @param Co - Output channels.
 * @param act - Activation code.
 * @param mm - The products (default matmul.ts).
 * @throws RangeError for a dimension or length that does not fit.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // x = 1, 2, 3, 4 (B = 1, one channel); kernel [1, 1] (K = 2); 'valid': y_o = x_o + x_{o+1} + 0.5
 * const g = kernels.conv1dGeometry(4, 2, 1, 1, 'valid');
 * const y = new Float64Array(3), cols = new Float64Array(6);
 * const W = Float64Array.of(1, 1);
 * kernels.conv1dForward(y, cols, Float64Array.of(1, 2, 3, 4), W, Float64Array.of(0.5), g, 1, 1, 1, kernels.Act.Linear);
 * assert.deepEqual(y, Float64Array.of(3.5, 5.5, 7.5));
 * ```
 */
export function conv1dForward(
  y: FloatArray,
  cols: FloatArray,
  x: FloatArray,
  W: FloatArray,
  b: FloatArray,
  g: Conv1dGeometry,
  B: number,
  Ci: number,
  Co: number,
  act: Act,
  mm: ConvProducts = REF,
): void {
  const fn = 'conv1dForward';
  checkConvDims(fn, B, Ci, Co);
  const { T, To, K } = g;
  // The message's shape string is built only when a length is wrong (a stream calls this for every point).
  const lengthsRight =
    y.length === To * B * Co &&
    cols.length === To * B * K * Ci &&
    x.length === T * B * Ci &&
    W.length === K * Ci * Co &&
    b.length === Co;
  if (!lengthsRight) {
    const shape = `T=${T},To=${To},B=${B},K=${K},Ci=${Ci},Co=${Co}`;
    checkLength(fn, 'y', y, To * B * Co, shape);
    checkLength(fn, 'cols', cols, To * B * K * Ci, shape);
    checkLength(fn, 'x', x, T * B * Ci, shape);
    checkLength(fn, 'W', W, K * Ci * Co, shape);
    checkLength(fn, 'b', b, Co, shape);
  }
  const M = To * B;
  im2col(cols, x, g, B, Ci); // cols[o·B+b, k·Ci+c] = x[i(o,k), b, c]
  mm.matmul(y, 0, Co, cols, 0, K * Ci, W, 0, Co, M, K * Ci, Co, false); // z = cols·W
  addBias(y, 0, Co, b, 0, M, Co); // z += b
  activate(act, y, 0, M * Co); // y = act(z)
}

/**
 * conv1d backward: dz = dy ⊙ act'(y); dW += colsᵀ·dz; db += Σ dz; dx = col2im(dz·Wᵀ) (skipped when dx is null).
 *
 * @param dW - [K, Ci, Co] kernel gradient, added into.
 * @param db - [Co] bias gradient, added into.
 * @param dx - Out: [T, B, Ci], or null to skip.
 * @param dy - [To, B, Co] dL/dy.
 * @param y - [To, B, Co] the forward's output.
 * @param cols - [To·B, K·Ci] the forward's im2col.
 * @param W - [K, Ci, Co] kernel.
 * @param g - The forward's geometry.
 * @param B - Batch.
 * @param Ci - Input channels.
 * @param Co - Output channels.
 * @param act - Activation code.
 * @param dz - [To, B, Co] scratch (may be dy).
 * @param dcols - [To·B, K·Ci] scratch (unused when dx is null).
 * @param mm - The products (default matmul.ts).
 * @throws RangeError for a dimension or length that does not fit.
 */
export function conv1dBackward(
  dW: FloatArray,
  db: FloatArray,
  dx: FloatArray | null,
  dy: FloatArray,
  y: FloatArray,
  cols: FloatArray,
  W: FloatArray,
  g: Conv1dGeometry,
  B: number,
  Ci: number,
  Co: number,
  act: Act,
  dz: FloatArray,
  dcols: FloatArray,
  mm: ConvProducts = REF,
): void {
  const fn = 'conv1dBackward';
  checkConvDims(fn, B, Ci, Co);
  const { T, To, K } = g;
  const shape = `T=${T},To=${To},B=${B},K=${K},Ci=${Ci},Co=${Co}`;
  checkLength(fn, 'dW', dW, K * Ci * Co, shape);
  checkLength(fn, 'db', db, Co, shape);
  checkLength(fn, 'dx', dx, T * B * Ci, shape);
  checkLength(fn, 'dy', dy, To * B * Co, shape);
  checkLength(fn, 'y', y, To * B * Co, shape);
  checkLength(fn, 'cols', cols, To * B * K * Ci, shape);
  checkLength(fn, 'W', W, K * Ci * Co, shape);
  checkLength(fn, 'dz', dz, To * B * Co, shape);
  if (dx !== null) checkLength(fn, 'dcols', dcols, To * B * K * Ci, shape);
  const M = To * B,
    n = M * Co;
  if (dz !== dy) for (let j = 0; j < n; j++) dz[j] = dy[j];
  activateBackward(act, dz, 0, y, 0, n); // dz = dy ⊙ act'(y)
  mm.matmulAtB(dW, 0, Co, cols, 0, K * Ci, dz, 0, Co, K * Ci, M, Co, true); // dW += colsᵀ·dz
  sumRows(db, 0, dz, 0, Co, M, Co); // db += Σ_rows dz
  if (dx === null) return;
  mm.matmulABt(dcols, 0, K * Ci, dz, 0, Co, W, 0, Co, M, Co, K * Ci, false); // dcols = dz·Wᵀ
  col2im(dx, dcols, g, B, Ci); // dx = col2im(dcols)
}

/**
 * conv1dTranspose forward: cols = x·Wᵀ; y = act(col2im(cols) + b). g is the geometry of the convolution from y's
 * length (g.T, see conv1dTransposeLength) to x's (g.To). x[g.To,B,Ci], W[K,Co,Ci], b[Co], y[g.T,B,Co].
 *
 * @param y - Out: [g.T, B, Co].
 * @param cols - Out: [g.To·B, K·Co] scratch.
 * @param x - [g.To, B, Ci] time-major input.
 * @param W - [K, Co, Ci] kernel (Keras Conv1DTranspose layout).
 * @param b - [Co] bias.
 * @param g - conv1dGeometry(conv1dTransposeLength(Tin, K, s, d, padding), K, s, d, padding).
 * @param B - Batch.
 * @param Ci - Input channels.
 * @param Co - Output channels (filters).
 * @param act - Activation code.
 * @param mm - The products (default matmul.ts).
 * @throws RangeError for a dimension or length that does not fit.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // x = 1, 2 (B = 1, one channel); kernel [1, 10] (K = 2); stride 2, 'valid': every x_t writes x_t·1, x_t·10
 * const T = kernels.conv1dTransposeLength(2, 2, 2, 1, 'valid'); // 4
 * const g = kernels.conv1dGeometry(T, 2, 2, 1, 'valid');
 * const y = new Float64Array(T), cols = new Float64Array(4);
 * const W = Float64Array.of(1, 10);
 * kernels.conv1dTransposeForward(y, cols, Float64Array.of(1, 2), W, Float64Array.of(0), g, 1, 1, 1, kernels.Act.Linear);
 * assert.deepEqual(y, Float64Array.of(1, 10, 2, 20));
 * ```
 */
export function conv1dTransposeForward(
  y: FloatArray,
  cols: FloatArray,
  x: FloatArray,
  W: FloatArray,
  b: FloatArray,
  g: Conv1dGeometry,
  B: number,
  Ci: number,
  Co: number,
  act: Act,
  mm: ConvProducts = REF,
): void {
  const fn = 'conv1dTransposeForward';
  checkConvDims(fn, B, Ci, Co);
  const { T, To, K } = g;
  // The message's shape string is built only when a length is wrong (a stream calls this for every point).
  const lengthsRight =
    y.length === T * B * Co &&
    cols.length === To * B * K * Co &&
    x.length === To * B * Ci &&
    W.length === K * Co * Ci &&
    b.length === Co;
  if (!lengthsRight) {
    const shape = `Tin=${To},Tout=${T},B=${B},K=${K},Ci=${Ci},Co=${Co}`;
    checkLength(fn, 'y', y, T * B * Co, shape);
    checkLength(fn, 'cols', cols, To * B * K * Co, shape);
    checkLength(fn, 'x', x, To * B * Ci, shape);
    checkLength(fn, 'W', W, K * Co * Ci, shape);
    checkLength(fn, 'b', b, Co, shape);
  }
  mm.matmulABt(cols, 0, K * Co, x, 0, Ci, W, 0, Ci, To * B, Ci, K * Co, false); // cols = x·Wᵀ
  col2im(y, cols, g, B, Co); // z = col2im(cols)
  addBias(y, 0, Co, b, 0, T * B, Co); // z += b
  activate(act, y, 0, T * B * Co); // y = act(z)
}

/**
 * conv1dTranspose backward: dz = dy ⊙ act'(y); db += Σ dz; dcols = im2col(dz); dW += dcolsᵀ·x; dx = dcols·W.
 *
 * @param dW - [K, Co, Ci] kernel gradient, added into.
 * @param db - [Co] bias gradient, added into.
 * @param dx - Out: [g.To, B, Ci], or null to skip.
 * @param dy - [g.T, B, Co] dL/dy.
 * @param y - [g.T, B, Co] the forward's output.
 * @param x - [g.To, B, Ci] the forward's input.
 * @param W - [K, Co, Ci] kernel.
 * @param g - The forward's geometry.
 * @param B - Batch.
 * @param Ci - Input channels.
 * @param Co - Output channels.
 * @param act - Activation code.
 * @param dz - [g.T, B, Co] scratch (may be dy).
 * @param dcols - [g.To·B, K·Co] scratch.
 * @param mm - The products (default matmul.ts).
 * @throws RangeError for a dimension or length that does not fit.
 */
export function conv1dTransposeBackward(
  dW: FloatArray,
  db: FloatArray,
  dx: FloatArray | null,
  dy: FloatArray,
  y: FloatArray,
  x: FloatArray,
  W: FloatArray,
  g: Conv1dGeometry,
  B: number,
  Ci: number,
  Co: number,
  act: Act,
  dz: FloatArray,
  dcols: FloatArray,
  mm: ConvProducts = REF,
): void {
  const fn = 'conv1dTransposeBackward';
  checkConvDims(fn, B, Ci, Co);
  const { T, To, K } = g;
  const shape = `Tin=${To},Tout=${T},B=${B},K=${K},Ci=${Ci},Co=${Co}`;
  checkLength(fn, 'dW', dW, K * Co * Ci, shape);
  checkLength(fn, 'db', db, Co, shape);
  checkLength(fn, 'dx', dx, To * B * Ci, shape);
  checkLength(fn, 'dy', dy, T * B * Co, shape);
  checkLength(fn, 'y', y, T * B * Co, shape);
  checkLength(fn, 'x', x, To * B * Ci, shape);
  checkLength(fn, 'W', W, K * Co * Ci, shape);
  checkLength(fn, 'dz', dz, T * B * Co, shape);
  checkLength(fn, 'dcols', dcols, To * B * K * Co, shape);
  const n = T * B * Co,
    M = To * B;
  if (dz !== dy) for (let j = 0; j < n; j++) dz[j] = dy[j];
  activateBackward(act, dz, 0, y, 0, n); // dz = dy ⊙ act'(y)
  sumRows(db, 0, dz, 0, Co, T * B, Co); // db += Σ_rows dz
  im2col(dcols, dz, g, B, Co); // dcols = im2col(dz)
  mm.matmulAtB(dW, 0, Ci, dcols, 0, K * Co, x, 0, Ci, K * Co, M, Ci, true); // dW += dcolsᵀ·x
  if (dx !== null) mm.matmul(dx, 0, Ci, dcols, 0, K * Co, W, 0, Ci, M, K * Co, Ci, false); // dx = dcols·W
}

function checkPool(fn: string, g: Conv1dGeometry, B: number, C: number): string {
  checkDim(fn, 'B', B);
  checkDim(fn, 'C', C);
  if (g.dilation !== 1) throw new RangeError(`${fn}(g): pooling has dilation 1, got ${g.dilation}`);
  return `T=${g.T},To=${g.To},B=${B},K=${g.K},C=${C}`;
}

/**
 * Max pooling: y[o,b,c] = max over the taps inside [0, T) of x[i(o,k),b,c]; arg records the flat x index of the max.
 *
 * @param y - Out: [To, B, C].
 * @param arg - Out: [To, B, C] flat indices into x (for backward).
 * @param x - [T, B, C].
 * @param g - conv1dGeometry(T, poolSize, strides, 1, 'valid' | 'same').
 * @param B - Batch.
 * @param C - Channels.
 * @throws RangeError for a dimension or length that does not fit.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const g = kernels.conv1dGeometry(5, 2, 2, 1, 'same'); // To = 3; the last window holds x_4 only
 * const y = new Float64Array(3), arg = new Int32Array(3);
 * kernels.maxPool1dForward(y, arg, Float64Array.of(1, 3, -2, -1, -5), g, 1, 1);
 * assert.deepEqual(y, Float64Array.of(3, -1, -5));
 * ```
 */
export function maxPool1dForward(
  y: FloatArray,
  arg: Int32Array,
  x: FloatArray,
  g: Conv1dGeometry,
  B: number,
  C: number,
): void {
  const fn = 'maxPool1dForward';
  const shape = checkPool(fn, g, B, C);
  const { T, To, K, stride, padL } = g;
  checkLength(fn, 'y', y, To * B * C, shape);
  checkLength(fn, 'arg', arg, To * B * C, shape);
  checkLength(fn, 'x', x, T * B * C, shape);
  for (let o = 0; o < To; o++) {
    const i0 = Math.max(o * stride - padL, 0),
      i1 = Math.min(o * stride - padL + K, T);
    for (let b = 0; b < B; b++) {
      const yBase = (o * B + b) * C;
      for (let c = 0; c < C; c++) {
        let best = (i0 * B + b) * C + c;
        for (let i = i0 + 1; i < i1; i++) {
          const xi = (i * B + b) * C + c;
          if (x[xi] > x[best]) best = xi;
        }
        arg[yBase + c] = best;
        y[yBase + c] = x[best];
      }
    }
  }
}

/**
 * Max pooling backward: dx = 0; dx[arg[j]] += dy[j].
 *
 * @param dx - Out: [T, B, C].
 * @param dy - [To, B, C] dL/dy.
 * @param arg - [To, B, C] from the forward.
 * @param g - The forward's geometry.
 * @param B - Batch.
 * @param C - Channels.
 * @throws RangeError for a dimension or length that does not fit.
 */
export function maxPool1dBackward(
  dx: FloatArray,
  dy: FloatArray,
  arg: Int32Array,
  g: Conv1dGeometry,
  B: number,
  C: number,
): void {
  const fn = 'maxPool1dBackward';
  const shape = checkPool(fn, g, B, C);
  const n = g.To * B * C;
  checkLength(fn, 'dx', dx, g.T * B * C, shape);
  checkLength(fn, 'dy', dy, n, shape);
  checkLength(fn, 'arg', arg, n, shape);
  dx.fill(0);
  for (let j = 0; j < n; j++) dx[arg[j]] += dy[j];
}

/**
 * Average pooling: y[o,b,c] = mean of x[i(o,k),b,c] over the taps inside [0, T) (padding not counted, as TF).
 *
 * @param y - Out: [To, B, C].
 * @param x - [T, B, C].
 * @param g - conv1dGeometry(T, poolSize, strides, 1, 'valid' | 'same').
 * @param B - Batch.
 * @param C - Channels.
 * @throws RangeError for a dimension or length that does not fit.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const g = kernels.conv1dGeometry(5, 2, 2, 1, 'same');
 * const y = new Float64Array(3);
 * kernels.avgPool1dForward(y, Float64Array.of(1, 3, -2, -1, -5), g, 1, 1);
 * assert.deepEqual(y, Float64Array.of(2, -1.5, -5));
 * ```
 */
export function avgPool1dForward(y: FloatArray, x: FloatArray, g: Conv1dGeometry, B: number, C: number): void {
  const fn = 'avgPool1dForward';
  const shape = checkPool(fn, g, B, C);
  const { T, To, K, stride, padL } = g;
  checkLength(fn, 'y', y, To * B * C, shape);
  checkLength(fn, 'x', x, T * B * C, shape);
  for (let o = 0; o < To; o++) {
    const i0 = Math.max(o * stride - padL, 0),
      i1 = Math.min(o * stride - padL + K, T);
    const inv = 1 / (i1 - i0);
    for (let b = 0; b < B; b++) {
      const yBase = (o * B + b) * C;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let i = i0; i < i1; i++) s += x[(i * B + b) * C + c];
        y[yBase + c] = s * inv;
      }
    }
  }
}

/**
 * Average pooling backward: dx = 0; dx[i(o,k),b,c] += dy[o,b,c] / n_o.
 *
 * @param dx - Out: [T, B, C].
 * @param dy - [To, B, C] dL/dy.
 * @param g - The forward's geometry.
 * @param B - Batch.
 * @param C - Channels.
 * @throws RangeError for a dimension or length that does not fit.
 */
export function avgPool1dBackward(dx: FloatArray, dy: FloatArray, g: Conv1dGeometry, B: number, C: number): void {
  const fn = 'avgPool1dBackward';
  const shape = checkPool(fn, g, B, C);
  const { T, To, K, stride, padL } = g;
  checkLength(fn, 'dx', dx, T * B * C, shape);
  checkLength(fn, 'dy', dy, To * B * C, shape);
  dx.fill(0);
  for (let o = 0; o < To; o++) {
    const i0 = Math.max(o * stride - padL, 0),
      i1 = Math.min(o * stride - padL + K, T);
    const inv = 1 / (i1 - i0);
    for (let b = 0; b < B; b++) {
      const yBase = (o * B + b) * C;
      for (let c = 0; c < C; c++) {
        const g = dy[yBase + c] * inv;
        for (let i = i0; i < i1; i++) dx[(i * B + b) * C + c] += g;
      }
    }
  }
}

/**
 * Nearest upsampling: y[t·r + j, b, c] = x[t, b, c] for j < r. x[T,B,C], y[T·r,B,C].
 *
 * @param y - Out: [T·r, B, C].
 * @param x - [T, B, C].
 * @param T - Input steps.
 * @param B - Batch.
 * @param C - Channels.
 * @param r - The repeat factor (Keras `size`).
 * @throws RangeError for a dimension or length that does not fit.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const y = new Float64Array(4);
 * kernels.upSampling1dForward(y, Float64Array.of(1, 2), 2, 1, 1, 2);
 * assert.deepEqual(y, Float64Array.of(1, 1, 2, 2));
 * ```
 */
export function upSampling1dForward(y: FloatArray, x: FloatArray, T: number, B: number, C: number, r: number): void {
  const fn = 'upSampling1dForward';
  for (const [k, v] of [
    ['T', T],
    ['B', B],
    ['C', C],
    ['r', r],
  ] as const)
    checkDim(fn, k, v);
  if (y.length !== T * r * B * C || x.length !== T * B * C) {
    const shape = `T=${T},B=${B},C=${C},r=${r}`; // (built only when a length is wrong)
    checkLength(fn, 'y', y, T * r * B * C, shape);
    checkLength(fn, 'x', x, T * B * C, shape);
  }
  const BC = B * C;
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < r; j++) {
      const yBase = (t * r + j) * BC,
        xBase = t * BC;
      for (let e = 0; e < BC; e++) y[yBase + e] = x[xBase + e];
    }
  }
}

/**
 * Nearest upsampling backward: dx[t,b,c] = Σ_j dy[t·r + j, b, c].
 *
 * @param dx - Out: [T, B, C].
 * @param dy - [T·r, B, C].
 * @param T - Input steps.
 * @param B - Batch.
 * @param C - Channels.
 * @param r - The repeat factor.
 * @throws RangeError for a dimension or length that does not fit.
 */
export function upSampling1dBackward(dx: FloatArray, dy: FloatArray, T: number, B: number, C: number, r: number): void {
  const fn = 'upSampling1dBackward';
  for (const [k, v] of [
    ['T', T],
    ['B', B],
    ['C', C],
    ['r', r],
  ] as const)
    checkDim(fn, k, v);
  const shape = `T=${T},B=${B},C=${C},r=${r}`;
  checkLength(fn, 'dx', dx, T * B * C, shape);
  checkLength(fn, 'dy', dy, T * r * B * C, shape);
  const BC = B * C;
  for (let t = 0; t < T; t++) {
    const xBase = t * BC;
    for (let e = 0; e < BC; e++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += dy[(t * r + j) * BC + e];
      dx[xBase + e] = s;
    }
  }
}

/**
 * Post-training int8 quantization of a fitted network's weight matrices: symmetric, one scale per output column.
 *
 * A weight matrix W[K, N] (row-major; K inputs, N outputs: a Dense kernel [K, units], a recurrent kernel [D, G·H] or
 * recurrent kernel [H, G·H] with one column per gate unit) becomes
 *
 *   scale[j] = fround(max_k |W[k, j]| / 127)          (0 for an all-zero column)
 *   q[k, j]  = clamp(round(W[k, j] / scale[j]), −127, 127)   round half away from zero; q = 0 where scale = 0
 *   W[k, j] ≈ q[k, j] · scale[j],   |W[k, j] − q[k, j] · scale[j]| ≤ scale[j] / 2
 *
 * Biases stay float32. What is quantized is the weights only, not the activations: an RNN's inputs (the normalised
 * series) have no bounded range, and its hidden state feeds back through every step, so activation quantization
 * would need calibration on the training windows and would compound its error over the window; weight-only int8 is
 * the usual choice for recurrent networks on CPUs and is what this module does. The forward then dequantizes on the
 * fly: out[j] = b[j] + scale[j] · Σ_k x[k] · q[k, j], accumulating in floating point (float64 in the exported
 * module), so no int32 rescaling step exists and the only error is the weights' rounding.
 *
 * -127…127 (not −128) keeps the grid symmetric, so −W quantizes to −q.
 */
import { ArgumentError } from '../errors.js';
import { describeValue } from '../check.js';
import type { Sequential } from '../model/sequential.js';

/** One weight matrix in int8: `q` row-major [rows, cols] and one float32 scale per column; W ≈ q · scale[column]. */
export interface Int8Matrix {
  /** K: the matrix's rows (inputs). */
  readonly rows: number;
  /** N: the matrix's columns (outputs), one scale each. */
  readonly cols: number;
  /** The int8 values, row-major, each in −127…127. */
  readonly q: Int8Array;
  /** The per-column scales (≥ 0; 0 for an all-zero column). */
  readonly scale: Float32Array;
}

function dim(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0x7fffffff)
    throw new ArgumentError(`quantizeInt8(${what})`, 'a positive integer', describeValue(v));
  return v;
}

/**
 * Quantizes a row-major weight matrix [rows, cols] to int8 with one symmetric scale per column (output channel).
 *
 * @param w - The weights, row-major, `rows · cols` finite numbers.
 * @param rows - K, the number of rows (inputs).
 * @param cols - N, the number of columns (outputs); each gets its own scale.
 * @returns The int8 values and the per-column float32 scales: w[k·cols + j] ≈ q[k·cols + j] · scale[j], within scale[j]/2.
 * @throws {@link ArgumentError} for a length other than rows · cols, a non-finite weight, or a size that is not a
 *   positive integer.
 * @example
 * ```ts
 * import { quantizeInt8, dequantizeInt8 } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // Two rows, two columns: column 0 spans ±1.27 (scale 0.01), column 1 is all zero (scale 0).
 * const m = quantizeInt8([1.27, 0, -0.5, 0], 2, 2);
 * assert.deepEqual(Array.from(m.q), [127, 0, -50, 0]);
 * assert.deepEqual(Array.from(m.scale), [Math.fround(0.01), 0]);
 * const back = dequantizeInt8(m);
 * assert.ok(Math.abs(back[2] - -0.5) <= m.scale[0] / 2);
 * ```
 */
export function quantizeInt8(w: ArrayLike<number>, rows: number, cols: number): Int8Matrix {
  const K = dim(rows, 'rows'),
    N = dim(cols, 'cols');
  if (w === null || typeof w !== 'object' || typeof w.length !== 'number')
    throw new ArgumentError('quantizeInt8(w)', 'an array of numbers', describeValue(w));
  if (w.length !== K * N) throw new ArgumentError('quantizeInt8(w)', `${K * N} values (${K} × ${N})`, `${w.length}`);
  for (let i = 0; i < K * N; i++) {
    const v = w[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ArgumentError(`quantizeInt8(w[${i}])`, 'a finite number', describeValue(v));
  }
  // max|w| / 127 in float64, rounded to float32 once; q is computed against that float32 scale, so that
  // |w − q·scale| ≤ scale/2 holds for the scale the module carries.
  const scale = new Float32Array(N);
  for (let j = 0; j < N; j++) scale[j] = maxAbsColumn(w, K, N, j) / 127;
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < N; j++) {
      const s = scale[j];
      if (s === 0) continue;
      const r = w[k * N + j] / s;
      const n = Math.sign(r) * Math.round(Math.abs(r)); // half away from zero: symmetric in the sign
      q[k * N + j] = n > 127 ? 127 : n < -127 ? -127 : n;
    }
  }
  return { rows: K, cols: N, q, scale };
}

/** max_k |w[k·N + j]| in float64 (the inputs were checked finite). */
function maxAbsColumn(w: ArrayLike<number>, K: number, N: number, j: number): number {
  let m = 0;
  for (let k = 0; k < K; k++) {
    const a = Math.abs(w[k * N + j]);
    if (a > m) m = a;
  }
  return m;
}

/**
 * The float32 weights an int8 matrix stands for: q · scale per column.
 *
 * @param m - An int8 matrix from {@link quantizeInt8}.
 * @returns A new Float32Array [rows, cols], row-major, with out[k·cols + j] = fround(q[k·cols + j] · scale[j]).
 * @example
 * ```ts
 * import { quantizeInt8, dequantizeInt8 } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const w = [0.3, -0.2, 0.1, 0.4];
 * const m = quantizeInt8(w, 2, 2);
 * const back = dequantizeInt8(m);
 * w.forEach((v, i) => assert.ok(Math.abs(back[i] - v) <= m.scale[i % 2] / 2 + 1e-7));
 * ```
 */
export function dequantizeInt8(m: Int8Matrix): Float32Array {
  const { rows: K, cols: N, q, scale } = m;
  if (q.length !== K * N || scale.length !== N)
    throw new ArgumentError(
      'dequantizeInt8(m)',
      `q of ${K * N} values and ${N} scales`,
      `${q.length} and ${scale.length}`,
    );
  const out = new Float32Array(K * N);
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) out[k * N + j] = q[k * N + j] * scale[j];
  return out;
}

/** How the int8 scorer reads one weight as a matrix [rows, cols] with one scale per column; see {@link int8Layout}. */
export interface Int8Layout {
  /** K: the matrix's rows. */
  readonly rows: number;
  /** N: its columns, one scale each (the layer's outputs, or a transposed convolution's (tap, filter) pairs). */
  readonly cols: number;
  /** True when the matrix is the weight transposed (Conv1DTranspose: kernel [K, Co, Ci] read as Wᵀ [Ci, K·Co]). */
  readonly transposed: boolean;
}

/** The 2-D weights quantized as they are: kernels, recurrent kernels and the attention decoder's score matrices. */
const MATRIX_NAME = /(^|\/)(kernel|recurrent_kernel|attention_query_kernel|attention_key_kernel|attention_kernel)$/;

/**
 * Which weights the int8 scorer quantizes and how it groups them into columns (one scale each); biases, the additive
 * score's vector v (attention_score) and anything else stay float32:
 *   2-D kernels [K, N] (Dense, recurrent, AttentionDecoder's W, U, Ws, Wh, Wa)   as they are: one scale per column
 *   Conv1D kernel [K, Ci, Co]                   the matrix [K·Ci, Co] its im2col product uses: one scale per filter
 *   Conv1DTranspose kernel [K, Co, Ci]          the matrix Wᵀ [Ci, K·Co] its product cols = x·Wᵀ uses: one scale per
 *                                               (tap, filter) column
 * The exported module and {@link roundWeightsToInt8} both follow this, so they compute the same network.
 *
 * @param className - The layer's className.
 * @param name - The weight's name (e.g. 'kernel', 'forward/recurrent_kernel').
 * @param shape - The weight's shape.
 * @returns The layout, or null for a weight that stays float32.
 */
export function int8Layout(className: string, name: string, shape: readonly number[]): Int8Layout | null {
  if (shape.length === 3 && /(^|\/)kernel$/.test(name)) {
    const [K, a, c] = shape as [number, number, number];
    if (className === 'Conv1D') return { rows: K * a, cols: c, transposed: false };
    if (className === 'Conv1DTranspose') return { rows: c, cols: K * a, transposed: true };
    return null;
  }
  if (shape.length === 2 && MATRIX_NAME.test(name)) return { rows: shape[0], cols: shape[1], transposed: false };
  return null;
}

/** Transposes a row-major [R, C] matrix into a new [C, R] one. */
export function transpose(a: ArrayLike<number>, R: number, C: number): Float32Array {
  const out = new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = a[r * C + c];
  return out;
}

/**
 * Rounds every weight {@link int8Layout} names of `model` to its int8 value (q · scale, per column) in place; biases
 * are left as they are. The model then computes what `exportScorer({ quantize: 'int8' })`'s module computes, up to
 * float32 against float64 arithmetic: the evaluation (bench/eval-quantized.ts) scores the int8 scorer this way, at the
 * library's speed. Returns how many weights were quantized.
 */
export function roundWeightsToInt8(model: Sequential): number {
  let n = 0;
  for (const l of model.layers) {
    for (const p of l.params()) {
      const m = int8Layout(l.className, p.name, p.shape);
      if (m === null) continue;
      const w = m.transposed ? transpose(p.value, m.cols, m.rows) : p.value;
      const back = dequantizeInt8(quantizeInt8(w, m.rows, m.cols));
      p.value.set(m.transposed ? transpose(back, m.rows, m.cols) : back);
      n += p.value.length;
    }
  }
  return n;
}

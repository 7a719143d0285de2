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

/** True for the weights the int8 scorer quantizes: kernels and recurrent kernels (matrices); biases stay float. */
export function isQuantizedWeight(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && /(^|\/)(kernel|recurrent_kernel)$/.test(name);
}

/**
 * Rounds every kernel and recurrent kernel of `model` to its int8 value (q · scale, per output column) in place;
 * biases are left as they are. The model then computes what `exportScorer({ quantize: 'int8' })`'s module computes,
 * up to float32 against float64 arithmetic: the evaluation (bench/eval-quantized.ts) scores the int8 scorer this way,
 * at the library's speed. Returns how many weights were quantized.
 */
export function roundWeightsToInt8(model: Sequential): number {
  let n = 0;
  for (const l of model.layers) {
    for (const p of l.params()) {
      if (!isQuantizedWeight(p.name, p.shape)) continue;
      const [K, N] = p.shape as [number, number];
      p.value.set(dequantizeInt8(quantizeInt8(p.value, K, N)));
      n += p.value.length;
    }
  }
  return n;
}

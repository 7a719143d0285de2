/**
 * Weight initialisers, as Keras defines them, drawing from a seeded `Random` and writing into the caller's array.
 *
 *   glorotUniform(out, fanIn, fanOut)   out[fanIn·fanOut] ~ U(−limit, limit),  limit = sqrt(6 / (fanIn + fanOut))
 *                                       (Keras: for a kernel W[D, G·H], fanIn = D and fanOut = G·H)
 *   orthogonal(out, rows, cols, gain)   Keras `Orthogonal`: draw A[max(rows,cols), min(rows,cols)] ~ N(0, 1) row-major
 *                                       (A[0,0], A[0,1], …, one `normal()` each); thin QR, A = Q·R; Q ← Q·sign(diag R)
 *                                       (so R has a non-negative diagonal and Q is unique); out = gain·Q, transposed to
 *                                       [rows, cols] when rows < cols. The rows (rows ≤ cols) or the columns (rows ≥ cols)
 *                                       of out are orthonormal (times gain).
 *   zeros(out)                          out = 0
 *   lstmBias(out, H, unitForgetBias)    out[4H] = 0, and 1 on the forget slice [H, 2H) when unitForgetBias (the Keras
 *                                       default), gate order i|f|c|o
 *
 * The QR is Householder in float64 (LAPACK's method, the one numpy.linalg.qr calls): for k = 0 … n−1, reflect column k
 * below the diagonal onto e_k with H_k = I − 2·v·vᵀ, ‖v‖ = 1; then Q = H_0·H_1·…·H_{n−1}·I[:, :n]. A zero diagonal of R
 * (probability zero for a normal A) counts as positive (numpy's sign(0) = 0 would zero the column).
 * The glorot and orthogonal draws match Keras in distribution, not in the numbers: Keras uses a different generator.
 */
import type { FloatArray } from '../../kernels/matmul.js';
import type { Random } from '../random.js';
import { ArgumentError } from '../errors.js';

function dim(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`${fn}(${name})`, 'a positive integer', String(v));
}

function size(fn: string, out: FloatArray, expected: number, what: string): void {
  if (out.length !== expected) {
    throw new RangeError(`${fn}(out): expected ${expected} elements (${what}), got ${out.length}`);
  }
}

/** out[fanIn·fanOut] ~ U(−limit, limit), limit = sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(out: FloatArray, fanIn: number, fanOut: number, rng: Random): void {
  dim('glorotUniform', 'fanIn', fanIn);
  dim('glorotUniform', 'fanOut', fanOut);
  size('glorotUniform', out, fanIn * fanOut, 'fanIn·fanOut');
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < out.length; i++) out[i] = limit * (2 * rng.uniform() - 1);
}

/** out[rows, cols] = gain · a random orthogonal matrix (orthonormal rows or columns, whichever are fewer), as Keras. */
export function orthogonal(out: FloatArray, rows: number, cols: number, rng: Random, gain = 1): void {
  dim('orthogonal', 'rows', rows);
  dim('orthogonal', 'cols', cols);
  size('orthogonal', out, rows * cols, 'rows·cols');
  const m = Math.max(rows, cols),
    n = Math.min(rows, cols);
  const A = new Float64Array(m * n); // A[m,n], overwritten by R in its upper triangle
  for (let i = 0; i < A.length; i++) A[i] = rng.normal();
  const V = new Float64Array(m * n); // column k holds v_k in rows k … m−1 (zero when H_k = I)
  const d = new Float64Array(n); // diag(R)

  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let i = k; i < m; i++) s += A[i * n + k] * A[i * n + k];
    const norm = Math.sqrt(s);
    if (norm === 0) {
      d[k] = 0;
      continue;
    }
    const x0 = A[k * n + k];
    const alpha = x0 >= 0 ? -norm : norm; // R[k,k]; opposite sign to x0 avoids cancellation in v = x − alpha·e_k
    // v = x − alpha·e_k; ‖v‖² = s − 2·alpha·x0 + alpha² = 2·(s − alpha·x0)
    const vnorm = Math.sqrt(2 * (s - alpha * x0));
    V[k * n + k] = (x0 - alpha) / vnorm;
    for (let i = k + 1; i < m; i++) V[i * n + k] = A[i * n + k] / vnorm;
    // A[k:, k:] ← (I − 2 v vᵀ) A[k:, k:]
    for (let j = k; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += V[i * n + k] * A[i * n + j];
      dot *= 2;
      for (let i = k; i < m; i++) A[i * n + j] -= dot * V[i * n + k];
    }
    d[k] = alpha;
  }

  // Q[m,n] = H_0 · … · H_{n−1} · I[:, :n], applying the reflections right to left.
  const Q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) Q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += V[i * n + k] * Q[i * n + j];
      if (dot === 0) continue;
      dot *= 2;
      for (let i = k; i < m; i++) Q[i * n + j] -= dot * V[i * n + k];
    }
  }

  // Q ← Q · sign(diag R), then scale by gain; transpose when rows < cols (Q is [cols, rows] then).
  for (let j = 0; j < n; j++) {
    const s = d[j] < 0 ? -gain : gain;
    if (rows >= cols) {
      for (let i = 0; i < m; i++) out[i * cols + j] = s * Q[i * n + j];
    } else {
      for (let i = 0; i < m; i++) out[j * cols + i] = s * Q[i * n + j];
    }
  }
}

/** out = 0. */
export function zeros(out: FloatArray): void {
  out.fill(0);
}

/** LSTM bias b[4H] in gate order i|f|c|o: zeros, with the forget slice [H, 2H) set to 1 when unitForgetBias. */
export function lstmBias(out: FloatArray, H: number, unitForgetBias = true): void {
  dim('lstmBias', 'H', H);
  size('lstmBias', out, 4 * H, '4·H');
  out.fill(0);
  if (unitForgetBias) out.fill(1, H, 2 * H);
}

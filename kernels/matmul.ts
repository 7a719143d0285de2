/**
 * Matrix products: the only GEMM loops in bptt. Every cell (RNN, LSTM, GRU, dense) calls these.
 *
 * Layout: row-major, BLAS-style. A matrix operand is (array, offset, leading dimension): element (i, j) of A lives at
 * A[aOff + i*lda + j]. The leading dimension lets a caller address a block of a bigger matrix (one time step of a sequence,
 * the last H columns of a GRU recurrent kernel) without copying or allocating.
 *
 *   matmul     C[M,N] (+)= A[M,K] · B[K,N]
 *   matmulABt  C[M,N] (+)= A[M,K] · B[N,K]ᵀ
 *   matmulAtB  C[M,N] (+)= A[K,M]ᵀ · B[K,N]
 *   addBias    C[M,N]  += 1·b[N]        (b broadcast over rows)
 *   sumRows    s[N]    += Σ_m C[m,N]    (the bias gradient)
 *
 * `accumulate` false overwrites C, true adds into it. Float32Array and Float64Array both work; operands of one call should
 * share a type (V8 then keeps one specialised version of the loop per type).
 *
 * Speed: each product is written as a 4×4 register tile (16 accumulators in locals) walking the shared dimension k,
 * with the tile's 8 inputs read once per k. The three variants differ only in how they index A and B, chosen so that
 * the innermost reads are contiguous where the layout allows:
 *   A·B    reads 4 rows of A along k (each contiguous) and 4 adjacent columns of B's row k (contiguous);
 *   A·Bᵀ   reads 4 rows of A and 4 rows of B along k (all contiguous): a block of dot products;
 *   Aᵀ·B   reads row k of A (4 adjacent entries) and row k of B (4 adjacent entries): a sum of outer products.
 * Edges (M or N not a multiple of 4) fall to plain loops. Every path computes C[i,j] (+)= Σ_k A·B with the sum taken in
 * float64 in ascending k and added to C once, so a row's result is bit-identical wherever it falls in the batch: a
 * batch-1 forward (streaming) gives exactly the numbers of a batch-64 forward.
 */

export type FloatArray = Float32Array | Float64Array;

function need(name: string, arr: FloatArray, off: number, rows: number, cols: number, ld: number): void {
  if (!Number.isInteger(off) || off < 0) throw new RangeError(`${name}: offset must be a non-negative integer, got ${off}`);
  if (cols > ld) throw new RangeError(`${name}: leading dimension ${ld} is smaller than the row length ${cols}`);
  if (rows === 0 || cols === 0) return;
  const end = off + (rows - 1) * ld + cols;
  if (arr.length < end) {
    throw new RangeError(`${name}: expected at least ${end} elements for a [${rows},${cols}] block at offset ${off} ` +
      `(leading dimension ${ld}), got ${arr.length}`);
  }
}

function dims(M: number, K: number, N: number): void {
  if (!(Number.isInteger(M) && Number.isInteger(K) && Number.isInteger(N)) || M < 0 || K < 0 || N < 0) {
    throw new RangeError(`matmul: dimensions must be non-negative integers, got M=${M}, K=${K}, N=${N}`);
  }
}

let accumulator = new Float64Array(64);

/**
 * A zeroed float64 row of length ≥ n, reused across calls (grown, never shrunk): the edge rows sum in float64 like the
 * tiles' register accumulators, so a row's result does not depend on where it falls in the batch. Not reentrant,
 * which is fine: JavaScript runs one kernel at a time per thread.
 */
function rowAccumulator(n: number): Float64Array {
  if (accumulator.length < n) accumulator = new Float64Array(Math.max(n, 2 * accumulator.length));
  accumulator.fill(0, 0, n);
  return accumulator;
}

function zeroBlock(C: FloatArray, cOff: number, ldc: number, M: number, N: number): void {
  for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
}

/** C[M,N] (+)= A[M,K] · B[K,N]. */
export function matmul(C: FloatArray, cOff: number, ldc: number,
                       A: FloatArray, aOff: number, lda: number,
                       B: FloatArray, bOff: number, ldb: number,
                       M: number, K: number, N: number, accumulate: boolean): void {
  dims(M, K, N);
  need('matmul(C)', C, cOff, M, N, ldc);
  need('matmul(A)', A, aOff, M, K, lda);
  need('matmul(B)', B, bOff, K, N, ldb);
  if (!accumulate) zeroBlock(C, cOff, ldc, M, N);
  if (K === 0) return;
  const M4 = M - (M % 4), N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
    const c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    for (let j = 0; j < N4; j += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      let bk = bOff + j;
      for (let k = 0; k < K; k++, bk += ldb) {
        const b0 = B[bk], b1 = B[bk + 1], b2 = B[bk + 2], b3 = B[bk + 3];
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        s00 += x0 * b0; s01 += x0 * b1; s02 += x0 * b2; s03 += x0 * b3;
        s10 += x1 * b0; s11 += x1 * b1; s12 += x1 * b2; s13 += x1 * b3;
        s20 += x2 * b0; s21 += x2 * b1; s22 += x2 * b2; s23 += x2 * b3;
        s30 += x3 * b0; s31 += x3 * b1; s32 += x3 * b2; s33 += x3 * b3;
      }
      C[c0 + j] += s00; C[c0 + j + 1] += s01; C[c0 + j + 2] += s02; C[c0 + j + 3] += s03;
      C[c1 + j] += s10; C[c1 + j + 1] += s11; C[c1 + j + 2] += s12; C[c1 + j + 3] += s13;
      C[c2 + j] += s20; C[c2 + j + 1] += s21; C[c2 + j + 2] += s22; C[c2 + j + 3] += s23;
      C[c3 + j] += s30; C[c3 + j + 1] += s31; C[c3 + j + 2] += s32; C[c3 + j + 3] += s33;
    }
    for (let j = N4; j < N; j++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let bk = bOff + j;
      for (let k = 0; k < K; k++, bk += ldb) {
        const b = B[bk];
        s0 += A[a0 + k] * b; s1 += A[a1 + k] * b; s2 += A[a2 + k] * b; s3 += A[a3 + k] * b;
      }
      C[c0 + j] += s0; C[c1 + j] += s1; C[c2 + j] += s2; C[c3 + j] += s3;
    }
  }
  // Remaining rows (M mod 4; all of a batch-1 product): a row of axpys into a float64 accumulator, so that every
  // C[i,j] is still C[i,j] + (Σ_k in order, in float64), bit for bit what the tiles compute.
  for (let i = M4; i < M; i++) {
    const a0 = aOff + i * lda, c0 = cOff + i * ldc;
    const acc = rowAccumulator(N);
    for (let k = 0; k < K; k++) {
      const x = A[a0 + k];
      const bk = bOff + k * ldb;
      for (let j = 0; j < N; j++) acc[j] += x * B[bk + j];
    }
    for (let j = 0; j < N; j++) C[c0 + j] += acc[j];
  }
}

/** C[M,N] (+)= A[M,K] · B[N,K]ᵀ, that is C[i,j] (+)= Σ_k A[i,k]·B[j,k]. */
export function matmulABt(C: FloatArray, cOff: number, ldc: number,
                          A: FloatArray, aOff: number, lda: number,
                          B: FloatArray, bOff: number, ldb: number,
                          M: number, K: number, N: number, accumulate: boolean): void {
  dims(M, K, N);
  need('matmulABt(C)', C, cOff, M, N, ldc);
  need('matmulABt(A)', A, aOff, M, K, lda);
  need('matmulABt(B)', B, bOff, N, K, ldb);
  if (!accumulate) zeroBlock(C, cOff, ldc, M, N);
  if (K === 0) return;
  const M4 = M - (M % 4), N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
    const c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    for (let j = 0; j < N4; j += 4) {
      const b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const y0 = B[b0 + k], y1 = B[b1 + k], y2 = B[b2 + k], y3 = B[b3 + k];
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      C[c0 + j] += s00; C[c0 + j + 1] += s01; C[c0 + j + 2] += s02; C[c0 + j + 3] += s03;
      C[c1 + j] += s10; C[c1 + j + 1] += s11; C[c1 + j + 2] += s12; C[c1 + j + 3] += s13;
      C[c2 + j] += s20; C[c2 + j + 1] += s21; C[c2 + j + 2] += s22; C[c2 + j + 3] += s23;
      C[c3 + j] += s30; C[c3 + j + 1] += s31; C[c3 + j + 2] += s32; C[c3 + j + 3] += s33;
    }
    for (let j = N4; j < N; j++) {
      const b0 = bOff + j * ldb;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const y = B[b0 + k];
        s0 += A[a0 + k] * y; s1 += A[a1 + k] * y; s2 += A[a2 + k] * y; s3 += A[a3 + k] * y;
      }
      C[c0 + j] += s0; C[c1 + j] += s1; C[c2 + j] += s2; C[c3 + j] += s3;
    }
  }
  for (let i = M4; i < M; i++) {
    const a0 = aOff + i * lda, c0 = cOff + i * ldc;
    for (let j = 0; j < N; j++) {
      const b0 = bOff + j * ldb;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
      C[c0 + j] += s;
    }
  }
}

/** C[M,N] (+)= A[K,M]ᵀ · B[K,N], that is C[i,j] (+)= Σ_k A[k,i]·B[k,j]. */
export function matmulAtB(C: FloatArray, cOff: number, ldc: number,
                          A: FloatArray, aOff: number, lda: number,
                          B: FloatArray, bOff: number, ldb: number,
                          M: number, K: number, N: number, accumulate: boolean): void {
  dims(M, K, N);
  need('matmulAtB(C)', C, cOff, M, N, ldc);
  need('matmulAtB(A)', A, aOff, K, M, lda);
  need('matmulAtB(B)', B, bOff, K, N, ldb);
  if (!accumulate) zeroBlock(C, cOff, ldc, M, N);
  if (K === 0) return;
  const M4 = M - (M % 4), N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    for (let j = 0; j < N4; j += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      let ak = aOff + i, bk = bOff + j;
      for (let k = 0; k < K; k++, ak += lda, bk += ldb) {
        const x0 = A[ak], x1 = A[ak + 1], x2 = A[ak + 2], x3 = A[ak + 3];
        const y0 = B[bk], y1 = B[bk + 1], y2 = B[bk + 2], y3 = B[bk + 3];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      C[c0 + j] += s00; C[c0 + j + 1] += s01; C[c0 + j + 2] += s02; C[c0 + j + 3] += s03;
      C[c1 + j] += s10; C[c1 + j + 1] += s11; C[c1 + j + 2] += s12; C[c1 + j + 3] += s13;
      C[c2 + j] += s20; C[c2 + j + 1] += s21; C[c2 + j + 2] += s22; C[c2 + j + 3] += s23;
      C[c3 + j] += s30; C[c3 + j + 1] += s31; C[c3 + j + 2] += s32; C[c3 + j + 3] += s33;
    }
    for (let j = N4; j < N; j++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let ak = aOff + i, bk = bOff + j;
      for (let k = 0; k < K; k++, ak += lda, bk += ldb) {
        const y = B[bk];
        s0 += A[ak] * y; s1 += A[ak + 1] * y; s2 += A[ak + 2] * y; s3 += A[ak + 3] * y;
      }
      C[c0 + j] += s0; C[c1 + j] += s1; C[c2 + j] += s2; C[c3 + j] += s3;
    }
  }
  for (let i = M4; i < M; i++) {
    const c0 = cOff + i * ldc;
    const acc = rowAccumulator(N);
    for (let k = 0; k < K; k++) {
      const x = A[aOff + k * lda + i];
      const bk = bOff + k * ldb;
      for (let j = 0; j < N; j++) acc[j] += x * B[bk + j];
    }
    for (let j = 0; j < N; j++) C[c0 + j] += acc[j];
  }
}

/** C[M,N] += 1·b[N]: adds the bias row b (at bOff) to each of the M rows of C. */
export function addBias(C: FloatArray, cOff: number, ldc: number, b: FloatArray, bOff: number, M: number, N: number): void {
  need('addBias(C)', C, cOff, M, N, ldc);
  need('addBias(b)', b, bOff, 1, N, N);
  for (let i = 0; i < M; i++) {
    const c0 = cOff + i * ldc;
    for (let j = 0; j < N; j++) C[c0 + j] += b[bOff + j];
  }
}

/** s[N] += Σ_m C[m,N]: column sums of an [M,N] block, added into s (at sOff). The bias gradient of addBias. */
export function sumRows(s: FloatArray, sOff: number, C: FloatArray, cOff: number, ldc: number, M: number, N: number): void {
  need('sumRows(s)', s, sOff, 1, N, N);
  need('sumRows(C)', C, cOff, M, N, ldc);
  for (let i = 0; i < M; i++) {
    const c0 = cOff + i * ldc;
    for (let j = 0; j < N; j++) s[sOff + j] += C[c0 + j];
  }
}

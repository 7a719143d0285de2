/** Naive triple-loop oracles for the fast kernels: obviously right, obviously slow. */

/** C[M,N] = A[M,K]·B[K,N], all dense row-major, in float64. */
export function naiveMatmul(A: ArrayLike<number>, B: ArrayLike<number>, M: number, K: number, N: number): Float64Array {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
      C[i * N + j] = s;
    }
  }
  return C;
}

/** Transpose of a dense row-major [R,C] matrix. */
export function transpose(A: ArrayLike<number>, R: number, C: number): Float64Array {
  const out = new Float64Array(R * C);
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) out[j * R + i] = A[i * C + j];
  return out;
}

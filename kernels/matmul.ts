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
 * `accumulate` false overwrites C, true adds into it. Float32Array and Float64Array both work (operands may mix types).
 *
 * How it is fast (the three products share one engine, `gemm`, and differ only in how they read A and B):
 *  - Packing (GotoBLAS style). The k range is cut into blocks of KC, the columns into blocks of NC. For each (k, column)
 *    block, B is copied once into panels of 4 columns, P[panel][k][4]; then, for every group of 4 rows, that row block of A
 *    is copied into one panel [k][4]. Transposed operands are transposed by this copy, so the inner loop never sees a
 *    stride. Panels hold float64 (exact for float32 input) in one module-level scratch array, so the inner loop always reads
 *    one monomorphic Float64Array, sequentially; the panels of a block stay in L1/L2 cache.
 *  - Micro-kernel: a 4×4 register tile (16 accumulators in locals) walks k, reading 4 + 4 packed values per step for 16
 *    multiply-adds, then adds the tile into C (or stores it: the first k block of an overwrite). Rows and columns beyond M
 *    and N are packed as zeros and the extra tile entries are simply not stored, so edges need no special loop.
 *  - Few rows (M < 4: batch 1 in the recurrent loop, the streaming case) skip packing, which would cost as much as the
 *    product: a direct matrix–vector loop keeps 4 or 8 output columns in registers per pass over k.
 * Sums run in float64 in k order within a k block; a product with K > KC rounds C to its type between blocks.
 *
 * Few rows run as matrix–vector products (rowTimesB, rowTimesBt), called from the three entry points, not from gemm: inlined
 * into gemm's large body, V8 compiled those small loops about 40% slower.
 *
 * Memory: the scratch is one Float64Array grown on first use to at most KC·NC + 4·KC doubles (about 520 KB) and reused by
 * every call; no call allocates once it has grown.
 */

export type FloatArray = Float32Array | Float64Array;

/** k-block (rows of a packed panel) and column block (columns of B packed at once): 256·256 doubles = 512 KB. */
const KC = 256;
const NC = 256;
/**
 * Below this many rows (M), products run unpacked, in matrix–vector form. A cell whose batch is this small keeps a
 * transposed copy of its recurrent kernel (see `transpose`) and computes h·U as h·(Uᵀ)ᵀ with matmulABt: the
 * dot-product form, four rows of Uᵀ at a time, is about 20% faster than walking U's columns.
 */
export const MATVEC_ROWS = 4;

let scratch = new Float64Array(0);

function need(name: string, arr: FloatArray, off: number, rows: number, cols: number, ld: number): void {
  if (!Number.isInteger(off) || off < 0)
    throw new RangeError(`${name}: offset must be a non-negative integer, got ${off}`);
  if (cols > ld) throw new RangeError(`${name}: leading dimension ${ld} is smaller than the row length ${cols}`);
  if (rows === 0 || cols === 0) return;
  const end = off + (rows - 1) * ld + cols;
  if (arr.length < end) {
    throw new RangeError(
      `${name}: expected at least ${end} elements for a [${rows},${cols}] block at offset ${off} ` +
        `(leading dimension ${ld}), got ${arr.length}`,
    );
  }
}

function dims(M: number, K: number, N: number): void {
  if (!(Number.isInteger(M) && Number.isInteger(K) && Number.isInteger(N)) || M < 0 || K < 0 || N < 0) {
    throw new RangeError(`matmul: dimensions must be non-negative integers, got M=${M}, K=${K}, N=${N}`);
  }
}

function zeroBlock(C: FloatArray, cOff: number, ldc: number, M: number, N: number): void {
  for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
}

/**
 * C[M,N] (+)= A[M,K] · B[K,N].
 *
 * @param C - Out: [M,N] block at cOff, row stride ldc.
 * @param cOff - Offset of C's first element.
 * @param ldc - Row stride of C.
 * @param A - [M,K] block.
 * @param aOff - Offset of A's first element.
 * @param lda - Row stride of A.
 * @param B - [K,N] block.
 * @param bOff - Offset of B's first element.
 * @param ldb - Row stride of B.
 * @param M - Rows of C.
 * @param K - The summed dimension.
 * @param N - Columns of C.
 * @param accumulate - Add into C (true) or overwrite it (false).
 * @throws RangeError for a negative dimension or a block outside its array.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const C = new Float64Array(4);
 * // [1 2 3; 4 5 6] · [1 0; 0 1; 1 1]
 * const A = Float64Array.of(1, 2, 3, 4, 5, 6);
 * const B = Float64Array.of(1, 0, 0, 1, 1, 1);
 * kernels.matmul(C, 0, 2, A, 0, 3, B, 0, 2, 2, 3, 2, false);
 * assert.deepEqual(C, Float64Array.of(4, 5, 10, 11));
 * ```
 */
export function matmul(
  C: FloatArray,
  cOff: number,
  ldc: number,
  A: FloatArray,
  aOff: number,
  lda: number,
  B: FloatArray,
  bOff: number,
  ldb: number,
  M: number,
  K: number,
  N: number,
  accumulate: boolean,
): void {
  dims(M, K, N);
  need('matmul(C)', C, cOff, M, N, ldc);
  need('matmul(A)', A, aOff, M, K, lda);
  need('matmul(B)', B, bOff, K, N, ldb);
  // A(i,k) = A[aOff + i·lda + k], B(k,j) = B[bOff + k·ldb + j]
  if (M < MATVEC_ROWS) {
    if (!accumulate) zeroBlock(C, cOff, ldc, M, N);
    for (let i = 0; i < M; i++) rowTimesB(C, cOff + i * ldc, A, aOff + i * lda, 1, B, bOff, ldb, K, N);
  } else gemm(C, cOff, ldc, A, aOff, lda, 1, B, bOff, ldb, 1, M, K, N, accumulate);
}

/**
 * C[M,N] (+)= A[M,K] · B[N,K]ᵀ, that is C[i,j] (+)= Σ_k A[i,k]·B[j,k].
 *
 * @param C - Out: [M,N] block at cOff, row stride ldc.
 * @param cOff - Offset of C's first element.
 * @param ldc - Row stride of C.
 * @param A - [M,K] block.
 * @param aOff - Offset of A's first element.
 * @param lda - Row stride of A.
 * @param B - [N,K] block (used transposed).
 * @param bOff - Offset of B's first element.
 * @param ldb - Row stride of B.
 * @param M - Rows of C.
 * @param K - The summed dimension.
 * @param N - Columns of C.
 * @param accumulate - Add into C (true) or overwrite it (false).
 * @throws RangeError for a negative dimension or a block outside its array.
 */
export function matmulABt(
  C: FloatArray,
  cOff: number,
  ldc: number,
  A: FloatArray,
  aOff: number,
  lda: number,
  B: FloatArray,
  bOff: number,
  ldb: number,
  M: number,
  K: number,
  N: number,
  accumulate: boolean,
): void {
  dims(M, K, N);
  need('matmulABt(C)', C, cOff, M, N, ldc);
  need('matmulABt(A)', A, aOff, M, K, lda);
  need('matmulABt(B)', B, bOff, N, K, ldb);
  // A(i,k) = A[aOff + i·lda + k], B(k,j) = B[bOff + k + j·ldb]
  if (M < MATVEC_ROWS) {
    if (!accumulate) zeroBlock(C, cOff, ldc, M, N);
    for (let i = 0; i < M; i++) rowTimesBt(C, cOff + i * ldc, A, aOff + i * lda, B, bOff, ldb, K, N);
  } else gemm(C, cOff, ldc, A, aOff, lda, 1, B, bOff, 1, ldb, M, K, N, accumulate);
}

/**
 * C[M,N] (+)= A[K,M]ᵀ · B[K,N], that is C[i,j] (+)= Σ_k A[k,i]·B[k,j].
 *
 * @param C - Out: [M,N] block at cOff, row stride ldc.
 * @param cOff - Offset of C's first element.
 * @param ldc - Row stride of C.
 * @param A - [K,M] block (used transposed).
 * @param aOff - Offset of A's first element.
 * @param lda - Row stride of A.
 * @param B - [K,N] block.
 * @param bOff - Offset of B's first element.
 * @param ldb - Row stride of B.
 * @param M - Rows of C.
 * @param K - The summed dimension.
 * @param N - Columns of C.
 * @param accumulate - Add into C (true) or overwrite it (false).
 * @throws RangeError for a negative dimension or a block outside its array.
 */
export function matmulAtB(
  C: FloatArray,
  cOff: number,
  ldc: number,
  A: FloatArray,
  aOff: number,
  lda: number,
  B: FloatArray,
  bOff: number,
  ldb: number,
  M: number,
  K: number,
  N: number,
  accumulate: boolean,
): void {
  dims(M, K, N);
  need('matmulAtB(C)', C, cOff, M, N, ldc);
  need('matmulAtB(A)', A, aOff, K, M, lda);
  need('matmulAtB(B)', B, bOff, K, N, ldb);
  // A(i,k) = A[aOff + i + k·lda], B(k,j) = B[bOff + k·ldb + j]
  if (M < MATVEC_ROWS) {
    if (!accumulate) zeroBlock(C, cOff, ldc, M, N);
    for (let i = 0; i < M; i++) rowTimesB(C, cOff + i * ldc, A, aOff + i, lda, B, bOff, ldb, K, N);
  } else gemm(C, cOff, ldc, A, aOff, 1, lda, B, bOff, ldb, 1, M, K, N, accumulate);
}

/**
 * The engine: C[M,N] (+)= A·B with A(i,k) = A[aOff + i·sAi + k·sAk] and B(k,j) = B[bOff + k·sBk + j·sBj], M ≥ MATVEC_ROWS
 * (fewer rows run as matrix–vector products). Callers have checked every length.
 */
function gemm(
  C: FloatArray,
  cOff: number,
  ldc: number,
  A: FloatArray,
  aOff: number,
  sAi: number,
  sAk: number,
  B: FloatArray,
  bOff: number,
  sBk: number,
  sBj: number,
  M: number,
  K: number,
  N: number,
  accumulate: boolean,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (!accumulate) zeroBlock(C, cOff, ldc, M, N);
    return;
  }
  const kcMax = K < KC ? K : KC;
  const ncMax = N < NC ? (N + 3) & ~3 : NC;
  const need = kcMax * ncMax + 4 * kcMax;
  if (scratch.length < need) scratch = new Float64Array(need);
  const P = scratch;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = K - k0 < KC ? K - k0 : KC;
    const store = !accumulate && k0 === 0; // first block of an overwrite: C = tile, not C += tile
    for (let j0 = 0; j0 < N; j0 += NC) {
      const nc = N - j0 < NC ? N - j0 : NC;
      packB(P, B, bOff + k0 * sBk + j0 * sBj, sBk, sBj, kc, nc);
      const aPanel = kc * ((nc + 3) & ~3);
      for (let i0 = 0; i0 < M; i0 += 4) {
        const mr = M - i0 < 4 ? M - i0 : 4;
        packA(P, aPanel, A, aOff + i0 * sAi + k0 * sAk, sAi, sAk, mr, kc);
        const c0 = cOff + i0 * ldc + j0;
        for (let jp = 0; jp < nc; jp += 4) {
          // 4×4 micro-kernel over the packed panels: a at P[aPanel + 4k + r], b at P[jp·kc + 4k + c].
          let s00 = 0,
            s01 = 0,
            s02 = 0,
            s03 = 0,
            s10 = 0,
            s11 = 0,
            s12 = 0,
            s13 = 0;
          let s20 = 0,
            s21 = 0,
            s22 = 0,
            s23 = 0,
            s30 = 0,
            s31 = 0,
            s32 = 0,
            s33 = 0;
          let pa = aPanel,
            pb = jp * kc;
          const end = pb + 4 * kc;
          for (; pb < end; pb += 4, pa += 4) {
            const b0 = P[pb],
              b1 = P[pb + 1],
              b2 = P[pb + 2],
              b3 = P[pb + 3];
            const x0 = P[pa],
              x1 = P[pa + 1],
              x2 = P[pa + 2],
              x3 = P[pa + 3];
            s00 += x0 * b0;
            s01 += x0 * b1;
            s02 += x0 * b2;
            s03 += x0 * b3;
            s10 += x1 * b0;
            s11 += x1 * b1;
            s12 += x1 * b2;
            s13 += x1 * b3;
            s20 += x2 * b0;
            s21 += x2 * b1;
            s22 += x2 * b2;
            s23 += x2 * b3;
            s30 += x3 * b0;
            s31 += x3 * b1;
            s32 += x3 * b2;
            s33 += x3 * b3;
          }
          const nr = nc - jp < 4 ? nc - jp : 4;
          const c = c0 + jp;
          if (mr === 4 && nr === 4) {
            const d1 = c + ldc,
              d2 = d1 + ldc,
              d3 = d2 + ldc;
            if (store) {
              C[c] = s00;
              C[c + 1] = s01;
              C[c + 2] = s02;
              C[c + 3] = s03;
              C[d1] = s10;
              C[d1 + 1] = s11;
              C[d1 + 2] = s12;
              C[d1 + 3] = s13;
              C[d2] = s20;
              C[d2 + 1] = s21;
              C[d2 + 2] = s22;
              C[d2 + 3] = s23;
              C[d3] = s30;
              C[d3 + 1] = s31;
              C[d3 + 2] = s32;
              C[d3 + 3] = s33;
            } else {
              C[c] += s00;
              C[c + 1] += s01;
              C[c + 2] += s02;
              C[c + 3] += s03;
              C[d1] += s10;
              C[d1 + 1] += s11;
              C[d1 + 2] += s12;
              C[d1 + 3] += s13;
              C[d2] += s20;
              C[d2 + 1] += s21;
              C[d2 + 2] += s22;
              C[d2 + 3] += s23;
              C[d3] += s30;
              C[d3 + 1] += s31;
              C[d3 + 2] += s32;
              C[d3 + 3] += s33;
            }
          } else {
            // Edge tile: through a Float64Array (doubles stay unboxed; as call arguments they were boxed, 16 bytes each)
            const t = edgeTile;
            t[0] = s00;
            t[1] = s01;
            t[2] = s02;
            t[3] = s03;
            t[4] = s10;
            t[5] = s11;
            t[6] = s12;
            t[7] = s13;
            t[8] = s20;
            t[9] = s21;
            t[10] = s22;
            t[11] = s23;
            t[12] = s30;
            t[13] = s31;
            t[14] = s32;
            t[15] = s33;
            storeEdge(C, c, ldc, mr, nr, store);
          }
        }
      }
    }
  }
}

/** The 4×4 tile of an edge (mr < 4 rows or nr < 4 columns), row-major: what storeEdge writes. */
const edgeTile = new Float64Array(16);

/** Edge tiles: the first mr rows and nr columns of edgeTile into C at c (row stride ldc), stored or added. */
function storeEdge(C: FloatArray, c: number, ldc: number, mr: number, nr: number, store: boolean): void {
  for (let r = 0; r < mr; r++) {
    const row = c + r * ldc;
    for (let q = 0; q < nr; q++) {
      if (store) C[row + q] = edgeTile[4 * r + q];
      else C[row + q] += edgeTile[4 * r + q];
    }
  }
}

/**
 * Packs B(k,j), k < kc, j < nc (B(k,j) = B[off + k·sk + j·sj]) into panels of 4 columns: P[(j/4)·4kc + 4k + j%4],
 * zero-padding the last panel to 4 columns.
 */
function packB(P: Float64Array, B: FloatArray, off: number, sk: number, sj: number, kc: number, nc: number): void {
  let p = 0;
  for (let j = 0; j < nc; j += 4) {
    const w = nc - j < 4 ? nc - j : 4;
    const o = off + j * sj;
    if (w === 4) {
      if (sj === 1) {
        for (let k = 0, b = o; k < kc; k++, b += sk, p += 4) {
          P[p] = B[b];
          P[p + 1] = B[b + 1];
          P[p + 2] = B[b + 2];
          P[p + 3] = B[b + 3];
        }
      } else {
        const o1 = o + sj,
          o2 = o1 + sj,
          o3 = o2 + sj; // four rows of a transposed B, each contiguous in k
        for (let k = 0; k < kc; k++, p += 4) {
          const q = k * sk;
          P[p] = B[o + q];
          P[p + 1] = B[o1 + q];
          P[p + 2] = B[o2 + q];
          P[p + 3] = B[o3 + q];
        }
      }
    } else {
      for (let k = 0; k < kc; k++, p += 4) {
        const b = o + k * sk;
        for (let c = 0; c < 4; c++) P[p + c] = c < w ? B[b + c * sj] : 0;
      }
    }
  }
}

/** Packs rows i < mr (≤ 4) of A(i,k), k < kc (A(i,k) = A[off + i·si + k·sk]) into P[at + 4k + i], zero-padding to 4 rows. */
function packA(
  P: Float64Array,
  at: number,
  A: FloatArray,
  off: number,
  si: number,
  sk: number,
  mr: number,
  kc: number,
): void {
  if (mr === 4) {
    const o1 = off + si,
      o2 = o1 + si,
      o3 = o2 + si;
    if (sk === 1) {
      for (let k = 0, p = at; k < kc; k++, p += 4) {
        P[p] = A[off + k];
        P[p + 1] = A[o1 + k];
        P[p + 2] = A[o2 + k];
        P[p + 3] = A[o3 + k];
      }
    } else {
      for (let k = 0, p = at, q = 0; k < kc; k++, p += 4, q += sk) {
        P[p] = A[off + q];
        P[p + 1] = A[o1 + q];
        P[p + 2] = A[o2 + q];
        P[p + 3] = A[o3 + q];
      }
    }
    return;
  }
  for (let k = 0, p = at; k < kc; k++, p += 4) {
    const a = off + k * sk;
    for (let r = 0; r < 4; r++) P[p + r] = r < mr ? A[a + r * si] : 0;
  }
}

/**
 * One row of C (at c) += a·B where a(k) = A[a0 + k·sak] and B(k,j) = B[bOff + k·sbk + j] (columns contiguous): the
 * matrix–vector form of matmul and matmulAtB. Eight output columns stay in registers per pass over k.
 */
function rowTimesB(
  C: FloatArray,
  c: number,
  A: FloatArray,
  a0: number,
  sak: number,
  B: FloatArray,
  bOff: number,
  sbk: number,
  K: number,
  N: number,
): void {
  const N8 = N - (N % 8);
  for (let j = 0; j < N8; j += 8) {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0,
      s4 = 0,
      s5 = 0,
      s6 = 0,
      s7 = 0;
    for (let k = 0, a = a0, b = bOff + j; k < K; k++, a += sak, b += sbk) {
      const x = A[a];
      s0 += x * B[b];
      s1 += x * B[b + 1];
      s2 += x * B[b + 2];
      s3 += x * B[b + 3];
      s4 += x * B[b + 4];
      s5 += x * B[b + 5];
      s6 += x * B[b + 6];
      s7 += x * B[b + 7];
    }
    const cj = c + j;
    C[cj] += s0;
    C[cj + 1] += s1;
    C[cj + 2] += s2;
    C[cj + 3] += s3;
    C[cj + 4] += s4;
    C[cj + 5] += s5;
    C[cj + 6] += s6;
    C[cj + 7] += s7;
  }
  for (let j = N8; j < N; j++) {
    let s = 0;
    for (let k = 0, a = a0, b = bOff + j; k < K; k++, a += sak, b += sbk) s += A[a] * B[b];
    C[c + j] += s;
  }
}

/**
 * One row of C (at c) += a·Bᵀ where a(k) = A[a0 + k] and B(k,j) = B[bOff + k + j·sbj] (rows of B contiguous in k):
 * the matrix–vector form of matmulABt. Four dot products run side by side.
 */
function rowTimesBt(
  C: FloatArray,
  c: number,
  A: FloatArray,
  a0: number,
  B: FloatArray,
  bOff: number,
  sbj: number,
  K: number,
  N: number,
): void {
  const N4 = N - (N % 4);
  for (let j = 0; j < N4; j += 4) {
    const b0 = bOff + j * sbj,
      b1 = b0 + sbj,
      b2 = b1 + sbj,
      b3 = b2 + sbj;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let k = 0; k < K; k++) {
      const x = A[a0 + k];
      s0 += x * B[b0 + k];
      s1 += x * B[b1 + k];
      s2 += x * B[b2 + k];
      s3 += x * B[b3 + k];
    }
    C[c + j] += s0;
    C[c + j + 1] += s1;
    C[c + j + 2] += s2;
    C[c + j + 3] += s3;
  }
  for (let j = N4; j < N; j++) {
    const b0 = bOff + j * sbj;
    let s = 0;
    for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
    C[c + j] += s;
  }
}

/**
 * dst[cols, rows] = src[rows, cols]ᵀ (dense, row-major; dst must not overlap src).
 *
 * @param dst - Out: [cols, rows].
 * @param src - [rows, cols].
 * @param rows - Rows of src.
 * @param cols - Columns of src.
 * @throws RangeError for an array too short.
 */
export function transpose(dst: FloatArray, src: FloatArray, rows: number, cols: number): void {
  need('transpose(src)', src, 0, rows, cols, cols);
  need('transpose(dst)', dst, 0, cols, rows, rows);
  for (let i = 0; i < rows; i++) {
    const s0 = i * cols;
    for (let j = 0, d = i; j < cols; j++, d += rows) dst[d] = src[s0 + j];
  }
}

/**
 * C[M,N] += 1·b[N]: adds the bias row b (at bOff) to each of the M rows of C.
 *
 * @param C - [M,N] block, changed in place.
 * @param cOff - Offset of C's first element.
 * @param ldc - Row stride of C.
 * @param b - The bias row.
 * @param bOff - Offset of b's first element.
 * @param M - Rows.
 * @param N - Columns.
 * @throws RangeError for a block outside its array.
 */
export function addBias(
  C: FloatArray,
  cOff: number,
  ldc: number,
  b: FloatArray,
  bOff: number,
  M: number,
  N: number,
): void {
  need('addBias(C)', C, cOff, M, N, ldc);
  need('addBias(b)', b, bOff, 1, N, N);
  for (let i = 0; i < M; i++) {
    const c0 = cOff + i * ldc;
    for (let j = 0; j < N; j++) C[c0 + j] += b[bOff + j];
  }
}

/**
 * s[N] += Σ_m C[m,N]: column sums of an [M,N] block, added into s (at sOff). The bias gradient of addBias.
 * Eight columns at a time are summed over all rows in float64 registers, then added to s once.
 *
 * @param s - Out: N sums, added into.
 * @param sOff - Offset of s's first element.
 * @param C - [M,N] block.
 * @param cOff - Offset of C's first element.
 * @param ldc - Row stride of C.
 * @param M - Rows.
 * @param N - Columns.
 * @throws RangeError for a block outside its array.
 */
export function sumRows(
  s: FloatArray,
  sOff: number,
  C: FloatArray,
  cOff: number,
  ldc: number,
  M: number,
  N: number,
): void {
  need('sumRows(s)', s, sOff, 1, N, N);
  need('sumRows(C)', C, cOff, M, N, ldc);
  const N8 = N - (N % 8);
  for (let j = 0; j < N8; j += 8) {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0,
      s4 = 0,
      s5 = 0,
      s6 = 0,
      s7 = 0;
    for (let i = 0, c = cOff + j; i < M; i++, c += ldc) {
      s0 += C[c];
      s1 += C[c + 1];
      s2 += C[c + 2];
      s3 += C[c + 3];
      s4 += C[c + 4];
      s5 += C[c + 5];
      s6 += C[c + 6];
      s7 += C[c + 7];
    }
    const o = sOff + j;
    s[o] += s0;
    s[o + 1] += s1;
    s[o + 2] += s2;
    s[o + 3] += s3;
    s[o + 4] += s4;
    s[o + 5] += s5;
    s[o + 6] += s6;
    s[o + 7] += s7;
  }
  for (let j = N8; j < N; j++) {
    let v = 0;
    for (let i = 0, c = cOff + j; i < M; i++, c += ldc) v += C[c];
    s[sOff + j] += v;
  }
}

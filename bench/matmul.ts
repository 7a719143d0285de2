/**
 * Matmul micro-benchmark: C = A·B, A·Bᵀ and Aᵀ·B at 256³ (and the batch-1 matrix–vector product the streaming path uses),
 * float32 and float64, single thread. Each product is first checked against a naive triple loop, then warmed up and timed
 * (median and min–max of the runs); GFLOP/s = 2·M·K·N / time.
 *
 *   node dist/bench/matmul.js [--runs=11] [--json]      (--json: print one RESULT line for bench/speed.ts)
 */
import { matmul, matmulABt, matmulAtB, type FloatArray } from '../kernels/matmul';
import { RESULT_TAG, type Stats, stats } from './speed-common';

export interface MatmulRow {
  op: string;
  dtype: 'float32' | 'float64';
  M: number;
  K: number;
  N: number;
  maxRelErr: number;
  time: Stats;
  gflops: number;
  checksum: number;
}

type Kernel = typeof matmul;

function naive(A: ArrayLike<number>, B: ArrayLike<number>, M: number, K: number, N: number, op: string): Float64Array {
  // Reference C[i,j] = Σ_k A(i,k)·B(k,j), reading A and B in the layout the op expects.
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = op === 'matmulAtB' ? A[k * M + i] : A[i * K + k];
        const b = op === 'matmulABt' ? B[j * K + k] : B[k * N + j];
        s += a * b;
      }
      C[i * N + j] = s;
    }
  }
  return C;
}

function bench(
  op: string,
  f: Kernel,
  ctor: Float32ArrayConstructor | Float64ArrayConstructor,
  M: number,
  K: number,
  N: number,
  runs: number,
): MatmulRow {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296 - 0.5;
  };
  const A: FloatArray = new ctor(M * K).map(rnd),
    B: FloatArray = new ctor(K * N).map(rnd),
    C: FloatArray = new ctor(M * N);
  const lda = op === 'matmulAtB' ? M : K,
    ldb = op === 'matmulABt' ? K : N;
  const call = (): void => f(C, 0, N, A, 0, lda, B, 0, ldb, M, K, N, false);
  call();
  const ref = naive(A, B, M, K, N, op);
  let maxRelErr = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(C[i] - ref[i]) / Math.max(Math.abs(ref[i]), 1);
    if (e > maxRelErr) maxRelErr = e;
  }
  const tol = ctor === Float64Array ? 1e-12 : 1e-5;
  if (!(maxRelErr <= tol))
    throw new Error(`${op} ${ctor.name} ${M}x${K}x${N}: max relative error ${maxRelErr} > ${tol}`);
  const reps = Math.max(1, Math.round(2e6 / (M * K * N))); // small products: time several calls per run
  for (let i = 0; i < 3; i++) call();
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let q = 0; q < reps; q++) call();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6 / reps);
  }
  const time = stats(samples);
  let checksum = 0;
  for (let i = 0; i < C.length; i++) checksum += C[i];
  return {
    op,
    dtype: ctor === Float32Array ? 'float32' : 'float64',
    M,
    K,
    N,
    maxRelErr,
    time,
    gflops: (2 * M * K * N) / time.median / 1e6,
    checksum,
  };
}

export function runMatmulBench(runs: number): MatmulRow[] {
  const rows: MatmulRow[] = [];
  const ops: [string, Kernel][] = [
    ['matmul', matmul],
    ['matmulABt', matmulABt],
    ['matmulAtB', matmulAtB],
  ];
  for (const ctor of [Float32Array, Float64Array]) {
    for (const [op, f] of ops) rows.push(bench(op, f, ctor, 256, 256, 256, runs));
    rows.push(bench('matmul', matmul, ctor, 1, 64, 256, runs)); // batch-1 step of the STREAM LSTM: h·U
  }
  return rows;
}

if (require.main === module) {
  const runsArg = process.argv.find((a) => a.startsWith('--runs='));
  const runs = runsArg ? Number(runsArg.slice(7)) : 11;
  const rows = runMatmulBench(runs);
  if (process.argv.includes('--json')) {
    process.stdout.write(`${RESULT_TAG}${JSON.stringify(rows)}\n`);
  } else {
    for (const r of rows) {
      console.log(
        `${r.op.padEnd(10)} ${r.dtype}  ${r.M}×${r.K}×${r.N}  median ${r.time.median.toFixed(3)} ms ` +
          `[${r.time.min.toFixed(3)}–${r.time.max.toFixed(3)}]  ${r.gflops.toFixed(2)} GFLOP/s  (max rel err ${r.maxRelErr.toExponential(1)}, checksum ${r.checksum.toFixed(4)})`,
      );
    }
  }
}

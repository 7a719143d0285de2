/**
 * Does the WebAssembly SIMD path pay? GFLOP/s of kernels/wasm (f32x4 micro-kernel, operands in the wasm arena) against
 * the TypeScript kernels (kernels/matmul.ts, Float32Array) and TensorFlow.js's wasm backend (tf.matMul), same process,
 * same operands, one thread. Shapes: 256³ for each product, and the products of an LSTM training step at batch 64
 * (H = 64 and 128: forward h·U, backward dz·Uᵀ, and dU = H_prevᵀ·dZ over a 32-step sequence) and of batch-1 streaming.
 *
 * Each product is first checked against a float64 product of the same f32 operands (bound of the numeric contract in
 * kernels/wasm/module.ts). Then per runner: warm-up (which also lets V8 tier the wasm up from Liftoff to TurboFan), a
 * call count calibrated to ~15 ms, and `runs` timed runs interleaved across runners (the machine may be shared, so a
 * burst of load hits all runners alike). Reported: median GFLOP/s (and best), wasm/js ratio, and a checksum.
 * The "peak" line is an in-register f32x4 multiply-add loop (8 independent accumulators, no loads) in the micro-kernel's
 * own instructions: mul then add for simd128, f32x4.relaxed_madd for relaxed-fma: the ceiling of that kernel in this
 * engine on this core.
 *
 *   node dist/bench/wasm-gemm.js [--runs=9] [--no-tfjs] [--json=path] [--kernel=simd128|relaxed-fma]
 *   (relaxed-fma on Node 20: node --experimental-wasm-relaxed-simd dist/bench/wasm-gemm.js --kernel=relaxed-fma)
 */
import * as fs from 'fs';
import * as os from 'os';
import { matmul, matmulABt, matmulAtB } from '../kernels/matmul';
import { ModuleBuilder, f32, i32, v128 } from '../kernels/wasm/emit';
import {
  WasmArena,
  type WasmKernel,
  matmulABtWasm,
  matmulAtBWasm,
  matmulWasm,
  wasmKernel,
  wasmSimdAvailable,
} from '../kernels/wasm/gemm';

type Op = 'AB' | 'ABt' | 'AtB';
interface Shape {
  op: Op;
  M: number;
  K: number;
  N: number;
  what: string;
}

const SHAPES: Shape[] = [
  { op: 'AB', M: 256, K: 256, N: 256, what: '256³' },
  { op: 'ABt', M: 256, K: 256, N: 256, what: '256³' },
  { op: 'AtB', M: 256, K: 256, N: 256, what: '256³' },
  { op: 'AB', M: 64, K: 64, N: 256, what: 'LSTM H=64 B=64: z += h·U' },
  { op: 'ABt', M: 64, K: 256, N: 64, what: 'LSTM H=64 B=64: dh = dz·Uᵀ' },
  { op: 'AtB', M: 64, K: 2048, N: 256, what: 'LSTM H=64 B=64 T=32: dU += Hᵀ·dZ' },
  { op: 'AB', M: 64, K: 128, N: 512, what: 'LSTM H=128 B=64: z += h·U' },
  { op: 'ABt', M: 64, K: 512, N: 128, what: 'LSTM H=128 B=64: dh = dz·Uᵀ' },
  { op: 'AtB', M: 128, K: 2048, N: 512, what: 'LSTM H=128 B=64 T=32: dU += Hᵀ·dZ' },
  { op: 'AB', M: 1, K: 64, N: 256, what: 'stream H=64: z += h·U' },
  { op: 'AB', M: 1, K: 128, N: 512, what: 'stream H=128: z += h·U' },
  { op: 'ABt', M: 1, K: 256, N: 64, what: 'batch 1: dh = dz·Uᵀ' },
];

interface Row extends Shape {
  js: Stat;
  wasm: Stat;
  tfjs: Stat | null;
  errOverBound: number;
  checksum: number;
}
interface Stat {
  median: number;
  best: number;
} // GFLOP/s

function arg(name: string): string | undefined {
  const a = process.argv.find((s) => s === `--${name}` || s.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.includes('=') ? a.slice(a.indexOf('=') + 1) : '';
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

/** Calls per timed run so that one run takes about `ms`. */
function calibrate(fn: () => void, ms: number): number {
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    const t = performance.now() - t0;
    if (t >= ms / 4) return Math.max(1, Math.round((n * ms) / t));
    n *= 2;
  }
}

/** In-register f32x4 mul+add throughput: 8 accumulators, acc = acc + a·b, no memory traffic. */
function peakGflops(kernel: WasmKernel): number {
  const m = new ModuleBuilder();
  const f = m.func('peak', [i32], [f32], true);
  const n = f.param(0);
  const acc = Array.from({ length: 8 }, () => f.local(v128));
  const a = f.local(v128),
    b = f.local(v128);
  f.f32_const(1.0000001).f32x4_splat().set(a);
  f.f32_const(0.9999999).f32x4_splat().set(b);
  f.loop((next) => {
    for (const s of acc) {
      if (kernel === 'relaxed-fma') f.get(a).get(b).get(s).f32x4_relaxed_madd().set(s);
      else f.get(s).get(a).get(b).f32x4_mul().f32x4_add().set(s);
    }
    f.get(n).i32_const(1).i32_sub().tee(n).br_if(next);
  });
  f.get(acc[0]);
  for (let q = 1; q < acc.length; q++) f.get(acc[q]).f32x4_add();
  f.f32x4_extract_lane(0);
  const WA = (
    globalThis as unknown as {
      WebAssembly: {
        Instance: new (m: object, i: object) => { exports: { peak(n: number): number } };
        Module: new (b: Uint8Array) => object;
      };
    }
  ).WebAssembly;
  const peak = new WA.Instance(new WA.Module(m.bytes()), {}).exports.peak;
  peak(1e6);
  const iters = 2e6,
    ts: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = performance.now();
    peak(iters);
    ts.push(performance.now() - t0);
  }
  return (iters * 8 * 8) / Math.min(...ts) / 1e6; // 8 accumulators × 4 lanes × 2 flops
}

async function loadTfjs(): Promise<typeof import('@tensorflow/tfjs') | null> {
  try {
    const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
    require('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) return null;
    await tf.ready();
    return tf;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const runs = Math.max(7, Number(arg('runs') ?? 9));
  if (!wasmSimdAvailable()) throw new Error('WebAssembly SIMD is not available in this engine');
  const tf = arg('no-tfjs') === undefined ? await loadTfjs() : null;
  const k = arg('kernel') ?? wasmKernel();
  if (k !== 'simd128' && k !== 'relaxed-fma')
    throw new RangeError(`--kernel: expected simd128 or relaxed-fma, got ${k}`);
  const kernel: WasmKernel = k;
  const arena = new WasmArena({ kernel }); // a RangeError names the flag when relaxed SIMD is missing
  const WASM = { AB: matmulWasm, ABt: matmulABtWasm, AtB: matmulAtBWasm } as const;
  const JS = { AB: matmul, ABt: matmulABt, AtB: matmulAtB } as const;
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296 - 0.5;
  };

  const peak = peakGflops(kernel);
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `# kernels/wasm matmul: ${cpu}, node ${process.version}, 1 thread, median of ${runs} runs (best in brackets)`,
  );
  console.log(
    `# load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} on ${os.cpus().length} CPUs; ` +
      `micro-kernel ${kernel}, its in-register peak ${peak.toFixed(1)} GFLOP/s${tf ? `; TensorFlow.js ${tf.version.tfjs} wasm, SIMD ${String(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'))}` : '; TensorFlow.js not measured'}`,
  );
  console.log('');
  console.log(
    '| product | M×K×N | where | js GFLOP/s | wasm GFLOP/s | wasm/js | wasm % of peak | tfjs-wasm GFLOP/s | wasm/tfjs | max err/bound | checksum |',
  );
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');

  const rows: Row[] = [];
  for (const s of SHAPES) {
    const { op, M, K, N } = s;
    const flops = 2 * M * K * N;
    const mark = arena.mark();
    const [ar, ac] = op === 'AtB' ? [K, M] : [M, K];
    const [br, bc] = op === 'ABt' ? [N, K] : [K, N];
    const [A, B, C] = arena.allocF32s(ar * ac, br * bc, M * N) as [Float32Array, Float32Array, Float32Array];
    const Cjs = new Float32Array(M * N);
    for (let i = 0; i < A.length; i++) A[i] = rnd();
    for (let i = 0; i < B.length; i++) B[i] = rnd();
    const wasmCall = (): void => WASM[op](C, 0, N, A, 0, ac, B, 0, bc, M, K, N, false, arena);
    const jsCall = (): void => JS[op](Cjs, 0, N, A, 0, ac, B, 0, bc, M, K, N, false);

    // Check before timing: both against a float64 product, wasm within the contract's bound.
    wasmCall();
    jsCall();
    const ref = new Float64Array(M * N);
    JS[op](ref, 0, N, A, 0, ac, B, 0, bc, M, K, N, false);
    let errOverBound = 0;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const a = op === 'AtB' ? A[k * M + i] : A[i * K + k];
          const b = op === 'ABt' ? B[j * K + k] : B[k * N + j];
          sum += Math.abs(a * b);
        }
        const e = Math.abs(C[i * N + j] - ref[i * N + j]) / ((K + 3) * 2 ** -24 * sum);
        if (e > errOverBound) errOverBound = e;
        if (Math.abs(Cjs[i * N + j] - ref[i * N + j]) > 1e-5 * Math.max(1, sum)) {
          throw new Error(`${op} ${M}×${K}×${N}: js kernel disagrees with the float64 reference at (${i}, ${j})`);
        }
      }
    if (!(errOverBound <= 1)) throw new Error(`${op} ${M}×${K}×${N}: wasm error ${errOverBound}× the contract bound`);

    let tfCall: (() => void) | null = null;
    let dispose = (): void => {};
    if (tf) {
      const ta = tf.tensor2d(A.slice(), [ar, ac]),
        tb = tf.tensor2d(B.slice(), [br, bc]);
      const ta2 = op === 'AtB',
        tb2 = op === 'ABt';
      const out = tf.matMul(ta, tb, ta2, tb2);
      const got = out.dataSync();
      out.dispose();
      let tfErr = 0;
      for (let i = 0; i < M * N; i++) tfErr = Math.max(tfErr, Math.abs(got[i] - ref[i]));
      if (tfErr > 1e-3) throw new Error(`${op} ${M}×${K}×${N}: tf.matMul disagrees with the reference (${tfErr})`);
      tfCall = () => {
        tf.matMul(ta, tb, ta2, tb2).dispose();
      };
      dispose = () => {
        ta.dispose();
        tb.dispose();
      };
    }

    const runners: [string, () => void][] = [
      ['js', jsCall],
      ['wasm', wasmCall],
    ];
    if (tfCall) runners.push(['tfjs', tfCall]);
    const counts = runners.map(([, fn]) => {
      for (let i = 0; i < 20; i++) fn();
      return calibrate(fn, 15);
    });
    const times: number[][] = runners.map(() => []);
    for (let r = 0; r < runs; r++) {
      runners.forEach(([, fn], v) => {
        const n = counts[v];
        const t0 = performance.now();
        for (let i = 0; i < n; i++) fn();
        times[v].push((performance.now() - t0) / n);
      });
    }
    const stat = (v: number): Stat => ({
      median: flops / median(times[v]) / 1e6,
      best: flops / Math.min(...times[v]) / 1e6,
    });
    const js = stat(0),
      wasm = stat(1),
      tfjs = tfCall ? stat(2) : null;
    dispose();
    let checksum = 0;
    for (let i = 0; i < C.length; i++) checksum += C[i];
    rows.push({ ...s, js, wasm, tfjs, errOverBound, checksum });
    const fmt = (x: Stat): string => `${x.median.toFixed(1)} (${x.best.toFixed(1)})`;
    console.log(
      `| ${op} | ${M}×${K}×${N} | ${s.what} | ${fmt(js)} | ${fmt(wasm)} | ${(wasm.median / js.median).toFixed(1)}× | ` +
        `${((100 * wasm.median) / peak).toFixed(0)}% | ${tfjs ? fmt(tfjs) : '—'} | ${tfjs ? `${(wasm.median / tfjs.median).toFixed(1)}×` : '—'} | ` +
        `${errOverBound.toFixed(3)} | ${checksum.toFixed(4)} |`,
    );
    arena.release(mark);
  }
  const out = arg('json');
  if (out) {
    fs.writeFileSync(
      out,
      JSON.stringify(
        {
          cpu,
          node: process.version,
          runs,
          kernel,
          peakGflops: peak,
          loadavg: os.loadavg(),
          tfjs: tf ? tf.version.tfjs : null,
          rows,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`\nwrote ${out}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

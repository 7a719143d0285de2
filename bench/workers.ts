/**
 * Where do worker threads pay? One LSTM-autoencoder training step (forward, BPTT, Adam) and one predict of the batch,
 * with workers 1 and 2, at the shapes of speed.ts (S, M, L, STREAM) and five smaller probes P1–P5, under setBackend('js') and setBackend('wasm'),
 * float32. This is what the 'auto' thresholds of lib/parallel/auto.ts are set from.
 *
 * Method: per backend and shape one model (seed 1); a fit of k steps (N = k·B rows, batchSize B, no shuffling) is one
 * sample, its time / k the step time; the pool is started by a warm-up fit, so start-up is not timed. Workers 1 and 2
 * alternate run by run, so a burst of load on a shared machine hits both alike; median of the runs. Before timing, the
 * first-epoch loss with 2 workers must match 1 worker to 1e-5 relative, and the predict outputs must be bit-identical.
 *
 *   node dist/bench/workers.js [--shapes=S,M,L,STREAM,P1,P2,P3,P4,P5] [--backends=js,wasm]      (≈ 1 min on 2 cores)
 *
 * Run it on an otherwise idle machine: the "cores" column (CPU time / wall time with 2 workers) near 2 says the second
 * core was really free; near 1 means another process had it and that row's 2-worker time is meaningless.
 */
import '../lib/node/install'; // the Node host: files, worker threads ('auto' is 1 without it)
import * as os from 'os';
import { lstmAutoencoder, setBackend, type Sequential, type Backend } from '../lib/index';
import { resolveWorkers, workPerRow } from '../lib/parallel/auto';
import { availableCores } from '../lib/parallel/pool';
import { wasmSimdAvailable } from '../kernels/wasm/arena';

interface Shape {
  name: string;
  B: number;
  T: number;
  D: number;
  H: number;
  runs: number;
  steps: number;
}
const SHAPES: Shape[] = [
  { name: 'S', B: 32, T: 32, D: 1, H: 32, runs: 7, steps: 4 },
  { name: 'M', B: 64, T: 64, D: 8, H: 64, runs: 5, steps: 2 },
  { name: 'L', B: 64, T: 128, D: 16, H: 128, runs: 3, steps: 1 },
  { name: 'STREAM', B: 1, T: 64, D: 1, H: 64, runs: 7, steps: 16 },
  // Probes between S and M, to place the crossover (not in speed.ts).
  { name: 'P1', B: 32, T: 16, D: 1, H: 16, runs: 9, steps: 8 },
  { name: 'P2', B: 32, T: 32, D: 1, H: 16, runs: 9, steps: 8 },
  { name: 'P3', B: 64, T: 32, D: 1, H: 32, runs: 7, steps: 4 },
  { name: 'P4', B: 64, T: 64, D: 1, H: 32, runs: 7, steps: 4 },
  { name: 'P5', B: 64, T: 32, D: 4, H: 64, runs: 7, steps: 4 },
];

const arg = (name: string): string[] | null => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3).split(',') : null;
};
const shapes = SHAPES.filter((s) => (arg('shapes') ?? SHAPES.map((x) => x.name)).includes(s.name));
const backends = (arg('backends') ?? ['js', 'wasm']).filter((b) => b === 'js' || wasmSimdAvailable()) as Backend[];

function series(N: number, T: number, D: number): Float32Array {
  let s = 12345;
  const a = new Float32Array(N * T * D);
  for (let i = 0; i < a.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

const median = (a: number[]): number => {
  const b = [...a].sort((p, q) => p - q);
  return b[b.length >> 1];
};
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const cpuMs = (c0: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

console.log(
  `node ${process.version}, ${availableCores()} cores, float32, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  'median ms (min) per training step and per predict of B rows; "cores" = process CPU time / wall time of the 2-worker steps',
);
console.log(
  'backend shape   B   T    D   H    GFLOP/step  step 1w         step 2w         1w/2w  cores  predict 1w   predict 2w   1w/2w   auto fit/predict',
);
const results: unknown[] = [];
for (const be of backends) {
  for (const sh of shapes) {
    setBackend(be);
    const N = sh.B * sh.steps;
    const data = series(N, sh.T, sh.D);
    const x = { data, shape: [N, sh.T, sh.D] };
    const xb = { data: data.subarray(0, sh.B * sh.T * sh.D), shape: [sh.B, sh.T, sh.D] };
    const model: Sequential = lstmAutoencoder({ window: sh.T, features: sh.D, units: sh.H, seed: 1 });
    let first = NaN;
    const fit = (w: number): number => {
      model.fit(x, x, {
        epochs: 1,
        batchSize: sh.B,
        shuffle: false,
        workers: w,
        onBatchEnd: (b) => {
          if (b.batch === 0) first = b.loss;
        },
      });
      return first;
    };
    // Check before timing: the first batch's loss (same weights) agrees between 1 and 2 workers; predict bit-identical.
    const w0 = model.getWeights();
    const l1 = fit(1);
    model.setWeights(w0);
    const l2 = fit(2);
    if (Math.abs(l1 - l2) > 1e-5 * Math.abs(l1))
      throw new Error(`${be} ${sh.name}: loss with 2 workers ${l2} differs from 1 worker ${l1}`);
    const p1 = model.predict(xb, { batchSize: sh.B, workers: 1 }).data,
      p2 = model.predict(xb, { batchSize: sh.B, workers: 2 }).data;
    let sum = 0;
    for (let i = 0; i < p1.length; i++) {
      if (p1[i] !== p2[i]) throw new Error(`${be} ${sh.name}: predict with 2 workers differs at ${i}`);
      sum += p1[i];
    }
    const t: Record<string, number[]> = { f1: [], f2: [], p1: [], p2: [], c2: [] };
    for (let r = 0; r < sh.runs; r++) {
      for (const w of [1, 2]) {
        let t0 = process.hrtime.bigint();
        const c0 = process.cpuUsage();
        fit(w);
        const wall = ms(t0);
        t[`f${w}`].push(wall / sh.steps);
        if (w === 2) t.c2.push(cpuMs(c0) / wall);
        t0 = process.hrtime.bigint();
        model.predict(xb, { batchSize: sh.B, workers: w });
        t[`p${w}`].push(ms(t0));
      }
    }
    model.dispose();
    const f1 = median(t.f1),
      f2 = median(t.f2),
      q1 = median(t.p1),
      q2 = median(t.p2);
    const gflop = (6 * sh.B * workPerRow(model)) / 1e9;
    const auto = `${resolveWorkers(model, sh.B, 'auto')}/${resolveWorkers(model, sh.B, 'auto', { task: 'predict' })}`;
    const cell = (m: number, a: number[]): string => `${m.toFixed(1)} (${Math.min(...a).toFixed(1)}) `.padEnd(16);
    console.log(
      `${be.padEnd(8)}${sh.name.padEnd(8)}${String(sh.B).padEnd(4)}${String(sh.T).padEnd(5)}${String(sh.D).padEnd(4)}` +
        `${String(sh.H).padEnd(5)}${gflop.toFixed(3).padEnd(12)}${cell(f1, t.f1)}${cell(f2, t.f2)}` +
        `${(f1 / f2).toFixed(2).padEnd(7)}${median(t.c2).toFixed(2).padEnd(7)}${q1.toFixed(2).padEnd(13)}${q2.toFixed(2).padEnd(13)}${(q1 / q2).toFixed(2).padEnd(8)}${auto}` +
        `   (checksum ${sum.toFixed(6)})`,
    );
    results.push({
      backend: be,
      ...sh,
      gflopPerStep: gflop,
      step: { w1: t.f1, w2: t.f2 },
      predict: { w1: t.p1, w2: t.p2 },
      auto,
    });
  }
}

console.log(
  `load average after: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
if (process.argv.includes('--json')) console.log(JSON.stringify(results));

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
 *   node dist/bench/workers.js --memory [--backends=js,wasm]                                       (≈ 1 min)
 *   node dist/bench/workers.js --split                                                             (≈ 10 s)
 *
 * --split: would splitting one batch-1 step across two threads pay (the STREAM shape, H 64 and 256)? It prints the
 * round trip of one barrier between the main thread and a worker (Atomics.wait/notify, and spinning) and the time of one
 * recurrent step of a batch-1 window (predict of one window / (2 layers × T steps), wasm): a split of the step's h·U
 * into two halves needs one barrier per step, so it can gain at most step/2 − barrier per step.
 *
 * --memory: where the memory of workers goes at L, and what sharing the parameters saved. Each configuration runs in a
 * child process of its own (RSS is per process; a worker thread's memory is in its parent's RSS): workers 1, workers 2
 * on shared parameters (today), workers 2 copying them (the older protocol, setParamSharing(false)), each through two
 * sequences: `fit` (build, 2 training steps) and `speed` (what bench/speed-child.ts does: evaluate, predict, then fit,
 * all at batch 64 with the configuration's workers). The child prints the RSS after each stage (the growth from the previous stage is
 * what that stage added), the peak RSS, and the main thread's V8 heap; a worker's own heap is read inside it
 * (process.memoryUsage().heapUsed is per isolate) and sent back. Then the training-step time with workers 1, 2 shared
 * and 2 copying, alternated run by run, with the load average (timings on a shared machine are rough).
 *
 * Run it on an otherwise idle machine: the "cores" column (CPU time / wall time with 2 workers) near 2 says the second
 * core was really free; near 1 means another process had it and that row's 2-worker time is meaningless.
 */
import '../lib/node/install'; // the Node host: files, worker threads ('auto' is 1 without it)
import * as os from 'os';
import { lstmAutoencoder, setBackend, type Sequential, type Backend } from '../lib/index';
import { resolveWorkers, workPerRow } from '../lib/parallel/auto';
import { availableCores, poolOf, setParamSharing } from '../lib/parallel/pool';
import { execFileSync } from 'child_process';
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

function speedTable(): void {
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
}

// ---- --memory ----

const L = SHAPES.find((x) => x.name === 'L') as Shape;
const MB = (b: number): number => Math.round((b / 1048576) * 10) / 10;

interface MemoryChild {
  backend: string;
  config: string;
  sequence: string;
  stages: { stage: string; rssMB: number }[];
  peakRssMB: number;
  mainHeapMB: number;
  workerHeapMB: number[];
  modes: string[];
}

/** One configuration in this process: `<backend>,<w1|w2|w2-copy>,<fit|speed>`; prints a JSON line. */
function runMemoryChild(spec: string): void {
  const [be, config, sequence] = spec.split(',');
  setBackend(be as Backend);
  const stages: { stage: string; rssMB: number }[] = [];
  const mark = (stage: string): void => {
    stages.push({ stage, rssMB: MB(process.memoryUsage().rss) });
  };
  mark('runtime and library');
  const B = L.B;
  const data = series(B * 2, L.T, L.D);
  const x = { data, shape: [B * 2, L.T, L.D] };
  const xb = { data: data.subarray(0, B * L.T * L.D), shape: [B, L.T, L.D] };
  const w = config === 'w1' ? 1 : 2;
  if (config === 'w2-copy') setParamSharing(false);
  const model = lstmAutoencoder({ window: L.T, features: L.D, units: L.H, seed: 1 });
  model.build([L.T, L.D]);
  mark('model built');
  if (sequence === 'speed') {
    model.evaluate(xb, xb, { batchSize: B, workers: w });
    mark(`evaluate, workers ${w}`);
    model.predict(xb, { batchSize: B, workers: w });
    mark(`predict, workers ${w}`);
  }
  const fit = (): void => {
    model.fit(x, x, { epochs: 1, batchSize: B, shuffle: false, workers: w });
  };
  fit();
  mark(`fit, 2 steps, workers ${w}`);
  fit();
  mark('fit again');
  const pool = poolOf(model);
  const out: MemoryChild = {
    backend: be,
    config,
    sequence,
    stages,
    peakRssMB: MB(process.resourceUsage().maxRSS * 1024),
    mainHeapMB: MB(process.memoryUsage().heapUsed),
    workerHeapMB: pool !== null ? pool.workerHeaps().map(MB) : [],
    modes: pool !== null ? pool.paramModes() : [],
  };
  model.dispose();
  console.log(JSON.stringify(out));
}

function memoryReport(): void {
  const load = (): string =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(
    `node ${process.version}, ${availableCores()} cores, float32, L = (B 64, T 128, D 16, H 128), load average ${load()}`,
  );
  const self = process.argv[1];
  const all: MemoryChild[] = [];
  for (const be of backends) {
    for (const sequence of ['fit', 'speed']) {
      for (const config of ['w1', 'w2', 'w2-copy']) {
        const line = execFileSync(process.execPath, [self, `--memory-child=${be},${config},${sequence}`], {
          encoding: 'utf8',
        });
        const r = JSON.parse(line.trim().split('\n').pop() as string) as MemoryChild;
        all.push(r);
        console.log(
          `${be.padEnd(5)} ${sequence.padEnd(6)} ${config.padEnd(8)} peak RSS ${r.peakRssMB.toFixed(0).padStart(4)} MB` +
            `  main heap ${r.mainHeapMB.toFixed(1)} MB  worker heap ${r.workerHeapMB.map((h) => h.toFixed(1)).join(', ') || '-'} MB` +
            `  params ${r.modes.join(', ') || '-'}`,
        );
        let prev = 0;
        for (const st of r.stages) {
          console.log(
            `        ${st.stage.padEnd(40)} ${st.rssMB.toFixed(1).padStart(6)} MB  (+${(st.rssMB - prev).toFixed(1)})`,
          );
          prev = st.rssMB;
        }
      }
    }
  }
  // Step time: workers 1, 2 shared, 2 copying; one model each (the copying pool is started with sharing off).
  console.log(`training step at L, median ms of alternated runs (1 step each), load average ${load()}`);
  const times: Record<string, number[]> = {};
  for (const be of backends) {
    setBackend(be);
    const data = series(L.B, L.T, L.D);
    const x = { data, shape: [L.B, L.T, L.D] };
    const configs: [string, number, boolean][] = [
      ['w1', 1, true],
      ['w2', 2, true],
      ['w2-copy', 2, false],
    ];
    const models = configs.map(() => lstmAutoencoder({ window: L.T, features: L.D, units: L.H, seed: 1 }));
    const step = (i: number): number => {
      const [, w, share] = configs[i];
      setParamSharing(share);
      const t0 = process.hrtime.bigint();
      models[i].fit(x, x, { epochs: 1, batchSize: L.B, shuffle: false, workers: w });
      setParamSharing(true);
      return ms(t0);
    };
    configs.forEach((_, i) => step(i)); // warm-up: pools started, JIT
    const w0 = models[0].getWeights();
    models.forEach((m) => m.setWeights(w0));
    for (let r = 0; r < 5; r++) {
      configs.forEach(([name], i) => {
        (times[`${be} ${name}`] ??= []).push(step(i));
      });
    }
    const m1 = median(times[`${be} w2`]),
      m2 = median(times[`${be} w2-copy`]),
      m0 = median(times[`${be} w1`]);
    console.log(
      `${be.padEnd(5)} workers 1 ${m0.toFixed(1)}  workers 2 shared ${m1.toFixed(1)}  workers 2 copying ${m2.toFixed(1)}` +
        `  (1w / 2w shared ${(m0 / m1).toFixed(2)}; copying / shared ${(m2 / m1).toFixed(2)})`,
    );
    const a = models[1].getWeights(),
      b = models[2].getWeights();
    a.forEach((v, i) => {
      for (let j = 0; j < v.length; j++)
        if (v[j] !== b[i][j]) throw new Error(`${be}: shared and copying weights differ at weight ${i}[${j}]`);
    });
    models.forEach((m) => m.dispose());
  }
  console.log(`load average after: ${load()}`);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ memory: all, stepMs: times }));
}

// ---- --split ----

function splitReport(): void {
  const threads = require('worker_threads') as typeof import('worker_threads');
  const sab = new Int32Array(new SharedArrayBuffer(8));
  // The worker answers round i by storing i in word 1, after seeing i in word 0 (sleeping or spinning until then).
  const code =
    "const { workerData } = require('worker_threads'); const s = workerData.sab, spin = workerData.spin;" +
    'for (let i = 1; i <= workerData.n; i++) {' +
    '  if (spin) { while (Atomics.load(s, 0) !== i) {} } else { while (Atomics.load(s, 0) !== i) Atomics.wait(s, 0, i - 1); }' +
    '  Atomics.store(s, 1, i); Atomics.notify(s, 1); }';
  const roundTrip = (spin: boolean, n: number): number[] => {
    sab.fill(0);
    const w = new threads.Worker(code, { eval: true, workerData: { sab, spin, n } });
    const t: number[] = [];
    for (let i = 1; i <= n; i++) {
      const t0 = process.hrtime.bigint();
      Atomics.store(sab, 0, i);
      Atomics.notify(sab, 0);
      if (spin) while (Atomics.load(sab, 1) !== i);
      else while (Atomics.load(sab, 1) !== i) Atomics.wait(sab, 1, i - 1);
      t.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    void w.terminate();
    return t;
  };
  const q = (a: number[], f: number): number => [...a].sort((x, y) => x - y)[Math.floor(a.length * f)];
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(`node ${process.version}, ${availableCores()} cores, load average ${load}`);
  for (const spin of [false, true]) {
    const t = roundTrip(spin, 3000);
    console.log(
      `barrier round trip, ${spin ? 'spinning             ' : 'Atomics.wait/notify  '} median ${q(t, 0.5).toFixed(1)} µs, p90 ${q(t, 0.9).toFixed(1)} µs, p99 ${q(t, 0.99).toFixed(1)} µs`,
    );
  }
  if (!wasmSimdAvailable()) return;
  setBackend('wasm');
  for (const H of [64, 256]) {
    const T = 64;
    const m = lstmAutoencoder({ window: T, features: 1, units: H, seed: 1 });
    const x = { data: series(1, T, 1), shape: [1, T, 1] };
    for (let i = 0; i < 20; i++) m.predict(x, { workers: 1 });
    const wall: number[] = [],
      cpu: number[] = [];
    for (let i = 0; i < 40; i++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      m.predict(x, { workers: 1 });
      wall.push(Number(process.hrtime.bigint() - t0) / 1000);
      cpu.push(cpuMs(c0) * 1000);
    }
    const steps = 2 * T;
    console.log(
      `STREAM H ${H}: one window (B 1, T ${T}) min wall ${Math.min(...wall).toFixed(0)} µs, median CPU ${q(cpu, 0.5).toFixed(0)} µs` +
        ` → ${(Math.min(...wall) / steps).toFixed(1)} µs (wall) / ${(q(cpu, 0.5) / steps).toFixed(1)} µs (CPU) per recurrent step`,
    );
  }
}

const memoryChild = process.argv.find((a) => a.startsWith('--memory-child='));
if (memoryChild !== undefined) {
  runMemoryChild(memoryChild.slice('--memory-child='.length));
} else if (process.argv.includes('--split')) {
  splitReport();
} else if (process.argv.includes('--memory')) {
  memoryReport();
} else {
  speedTable();
}

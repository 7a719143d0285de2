/**
 * js vs wasm backend: one LSTM-autoencoder training step (forward, backward, Adam; a fit of one epoch over exactly one
 * batch) and one batch inference (predict on the same batch, outputs read back), float32, one thread (`workers: 1` on
 * every call), at the four shapes of bench/speed-common.ts: S (batch 32, window 32, features 1, hidden 32), M (64, 64,
 * 8, 64), L (64, 128, 16, 128) and STREAM (1, 64, 1, 64: the streaming detector's one-window cost).
 * Per backend: a fresh model built under setBackend(backend), warmed up (at least 2 calls and 0.5 s per task), then the
 * median (and min) of the timed calls; the two backends' calls are interleaved so that a burst of load on a shared machine
 * hits both alike. STREAM inference takes at least 25 timed calls (a sub-millisecond figure).
 *
 *   node dist/bench/backend.js [--runs=7] [--shapes=S,M,L,STREAM]
 */
import '../lib/node/install'; // the Node host: files, worker threads ('auto' is 1 without it)
import { lstmAutoencoder, setBackend, type Sequential } from '../lib/index';
import { wasmSimdAvailable } from '../kernels/wasm/arena';
import { SHAPES, type ShapeName } from './speed-common';

const argOf = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const RUNS = Number(argOf('runs') ?? 7);
const SHAPE_NAMES = (argOf('shapes') ?? 'S,M,L,STREAM').split(',') as ShapeName[];
for (const n of SHAPE_NAMES)
  if (!(n in SHAPES)) throw new RangeError(`--shapes: unknown shape ${JSON.stringify(n)}; expected S, M, L, STREAM`);
const BACKENDS = ['js', 'wasm'] as const;
type Be = (typeof BACKENDS)[number];
const WARM_MS = 500,
  WARM_MAX = 50;

function series(B: number, T: number, D: number): number[][][] {
  let s = 12345;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 4294967296 - 0.5;
  };
  return Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: D }, rnd)));
}

const median = (a: number[]): number => {
  const b = [...a].sort((p, q) => p - q);
  return b[b.length >> 1];
};

/**
 * One thread on every call: fit and predict default to workers 'auto' where the library has worker threads. The option
 * goes through loosely typed objects so that this file compiles whether or not Sequential declares `workers`.
 */
const FIT: Record<string, unknown> = { epochs: 1, shuffle: false, workers: 1 };
const PREDICT: Record<string, unknown> = { workers: 1 };
const step = (m: Sequential, x: number[][][], B: number): unknown => m.fit(x, x, { ...FIT, batchSize: B });
const infer = (m: Sequential, x: number[][][], B: number): unknown => m.predict(x, { ...PREDICT, batchSize: B });

function warm(fn: () => unknown): void {
  const t0 = Date.now();
  for (let i = 0; i < WARM_MAX && (i < 2 || Date.now() - t0 < WARM_MS); i++) fn();
}

function timeMs(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const cell = (t: number[]): string =>
  `${median(t)
    .toFixed(median(t) < 10 ? 2 : 1)
    .padStart(8)} (${Math.min(...t).toFixed(Math.min(...t) < 10 ? 2 : 1)})`.padEnd(19);
const ratio = (js: number[], wa: number[]): string => `${(median(js) / median(wa)).toFixed(2)}×`.padEnd(9);

if (!wasmSimdAvailable()) {
  console.log('WebAssembly SIMD not available: nothing to compare');
  process.exit(0);
}
console.log(
  `node ${process.version}, float32, 1 thread (workers: 1); median (min) ms of ${RUNS} timed calls ` +
    `(STREAM inference ${Math.max(RUNS, 25)}) after warm-up (≥ 2 calls and ${WARM_MS} ms)`,
);
console.log(
  'shape   B   T    D   H    | train js ms (min)  train wasm ms      js/wasm  | infer js ms (min)  infer wasm ms      js/wasm',
);
for (const name of SHAPE_NAMES) {
  const { batch: B, window: T, features: D, hidden: H } = SHAPES[name];
  const x = series(B, T, D);
  const models = {} as Record<Be, Sequential>;
  for (const be of BACKENDS) {
    setBackend(be); // read when the workspaces are built: on the model's first forward, inside the warm-up below
    const m = lstmAutoencoder({ window: T, features: D, units: H, seed: 1 });
    warm(() => infer(m, x, B));
    warm(() => step(m, x, B));
    models[be] = m;
  }
  setBackend('js');
  const train: Record<Be, number[]> = { js: [], wasm: [] },
    pred: Record<Be, number[]> = { js: [], wasm: [] };
  const inferRuns = name === 'STREAM' ? Math.max(RUNS, 25) : RUNS;
  for (let r = 0; r < inferRuns; r++) for (const be of BACKENDS) pred[be].push(timeMs(() => infer(models[be], x, B)));
  for (let r = 0; r < RUNS; r++) for (const be of BACKENDS) train[be].push(timeMs(() => step(models[be], x, B)));
  console.log(
    `${name.padEnd(7)} ${String(B).padEnd(3)} ${String(T).padEnd(4)} ${String(D).padEnd(3)} ${String(H).padEnd(4)} | ` +
      (
        cell(train.js) +
        cell(train.wasm) +
        ratio(train.js, train.wasm) +
        '| ' +
        cell(pred.js) +
        cell(pred.wasm) +
        ratio(pred.js, pred.wasm)
      ).trimEnd(),
  );
}

/**
 * js vs wasm backend: one LSTM-autoencoder training step (forward, backward, Adam; a fit of one epoch over exactly one
 * batch) at shape M (batch 64, window 64, features 8, hidden 64) and L (64, 128, 16, 128), float32, one thread.
 * Per backend: a fresh model built under setBackend(backend), 2 warm-up steps, then the median (and min) of 7 timed
 * steps; the two backends' runs are interleaved so that a burst of load on a shared machine hits both alike.
 *
 *   node dist/bench/backend.js [--runs=7]
 */
import { lstmAutoencoder, setBackend, Sequential } from '../lib/index';
import { wasmSimdAvailable } from '../kernels/wasm/arena';

const runsArg = process.argv.find(a => a.startsWith('--runs='));
const RUNS = runsArg ? Number(runsArg.slice(7)) : 7;
const SHAPES = [
  { name: 'M', B: 64, T: 64, D: 8, H: 64 },
  { name: 'L', B: 64, T: 128, D: 16, H: 128 },
];

function series(B: number, T: number, D: number): number[][][] {
  let s = 12345;
  const rnd = (): number => { s = (s * 1103515245 + 12345) >>> 0; return s / 4294967296 - 0.5; };
  return Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: D }, rnd)));
}

const median = (a: number[]): number => { const b = [...a].sort((p, q) => p - q); return b[b.length >> 1]!; };

if (!wasmSimdAvailable()) { console.log('WebAssembly SIMD not available: nothing to compare'); process.exit(0); }
console.log(`node ${process.version}, ${RUNS} timed steps after 2 warm-up steps, float32, 1 thread`);
console.log('shape  B   T    D   H    js ms (min)        wasm ms (min)      js/wasm');
for (const sh of SHAPES) {
  const x = series(sh.B, sh.T, sh.D);
  const models: Record<'js' | 'wasm', Sequential> = {} as never;
  for (const be of ['js', 'wasm'] as const) {
    setBackend(be);
    models[be] = lstmAutoencoder({ window: sh.T, features: sh.D, units: sh.H, seed: 1 });
    const m = models[be];
    m.fit(x, x, { epochs: 2, batchSize: sh.B, shuffle: false });   // warm-up (builds the workspaces under `be`)
  }
  setBackend('js');
  const t: Record<'js' | 'wasm', number[]> = { js: [], wasm: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const be of ['js', 'wasm'] as const) {
      const t0 = process.hrtime.bigint();
      models[be].fit(x, x, { epochs: 1, batchSize: sh.B, shuffle: false });
      t[be].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  const js = median(t.js), wa = median(t.wasm);
  console.log(`${sh.name.padEnd(6)} ${String(sh.B).padEnd(3)} ${String(sh.T).padEnd(4)} ${String(sh.D).padEnd(3)} ${String(sh.H).padEnd(4)} ` +
    `${js.toFixed(1).padStart(8)} (${Math.min(...t.js).toFixed(1)})`.padEnd(19) +
    `${wa.toFixed(1).padStart(8)} (${Math.min(...t.wasm).toFixed(1)})`.padEnd(19) + `${(js / wa).toFixed(2)}×`);
}

/**
 * Run by stream-alloc.spec.ts in a child `node --expose-gc --min-semi-space-size=16 --max-semi-space-size=16`: per
 * case, the young generation's growth per `pushInto` after warm-up, as JSON on stdout. After a full gc the young
 * generation is empty and every short-lived allocation lands in it (16 MB: no scavenge within a run of these sizes),
 * so its used size is the bytes allocated, to the byte. Per run: a gc, then N pushes; the bytes the young generation
 * gained, divided by N, bound the steady allocation per push from above, since everything else only adds bytes: the
 * measurement's own heap-statistics objects (about 2 kB, 0.2 byte a push) and what a busy machine adds to a run
 * (code V8 has not optimized yet, its compiler running late on a background thread when the cores are shared, boxes
 * doubles; a one-off event). The least of 5 runs after a first: a steady per-push allocation is in every run (the
 * control's object is), what does not last drops out. (A slope of two runs would cancel the constant, but a one-off
 * event in the shorter run then makes it negative, and the least of several slopes would hide a real allocation.)
 *
 * The stubbed neural cases replace the model's forward (`predictWindow`) with one that returns a fixed buffer: what is
 * measured is the stream's own path (ring, window copy, errors, combine, EWMA, threshold). On the wasm path the REAL
 * cases run the networks themselves (layers, fast kernels, WebAssembly products).
 */
import '../../../lib/node/install';
import * as v8 from 'v8';
import { Detector } from '../../../lib/detect/detector';
import type { DetectorOptions } from '../../../lib/detect/types';
import { getBackend } from '../../../lib/backend';

const gc = (globalThis as { gc?: () => void }).gc as () => void;
const N = 10000,
  WARM = 4000,
  RUNS = 6; // the first compiles the measurement itself and is not counted

function series(n: number): Float64Array {
  let s = 7;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = Math.sin(i / 5) + 0.3 * Math.sin(i / 23) + 0.05 * (s / 2 ** 32 - 0.5);
  }
  return x;
}

let sink: unknown = null;

/** Bytes in use in the young generation: after gc() it is empty, and every short-lived allocation lands there. */
function young(): number {
  const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  if (s === undefined) throw new Error('no new_space in v8.getHeapSpaceStatistics()');
  return s.space_used_size;
}

function measure(options: DetectorOptions, stubModel: boolean, control = false): number {
  const x = series(WARM + RUNS * N + 1000);
  const d = new Detector({ ...options, workers: 1 }).fit(Array.from(x.subarray(0, 400)));
  const model = (d as unknown as { model: { predictWindow(w: ArrayLike<number>): Float32Array } | null }).model;
  if (stubModel && model !== null) {
    const y = new Float32Array(4096).fill(0.25);
    model.predictWindow = () => y;
  }
  const s = d.stream();
  const out = s.newResult();
  const p = new Float64Array(1); // a number argument would be boxed by V8 at the call site (the caller's 16 bytes)
  let pos = 400;
  const run = (n: number): number => {
    let check = 0;
    for (let k = 0; k < n; k++) {
      p[0] = x[pos++];
      if (s.pushInto(out, p)) check += out.flag;
      if (control) sink = { k }; // the control: 16 bytes a push (map, properties, elements, one field)
    }
    return check;
  };
  run(WARM);
  const perPush: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    gc();
    const before = young();
    run(N);
    const after = young();
    if (r > 0) perPush.push((after - before) / N);
  }
  return Math.min(...perPush);
}

const small = { window: 16, hidden: 4, epochs: 1, threshold: 'fixed:3' } as const;
const REAL: [string, DetectorOptions, boolean][] = [
  ["lstm-ae, combine 'last' (the network runs)", { model: 'lstm-ae', ...small, combine: 'last' }, false],
  ["gru-ae, combine 'mean' (the network runs)", { model: 'gru-ae', ...small, combine: 'mean', causal: false }, false],
  ['dense-ae (the network runs)', { model: 'dense-ae', ...small, hidden: [8, 4] }, false],
  ['lstm-forecast (the network runs)', { model: 'lstm-forecast', ...small }, false],
  ['conv-ae (the network runs)', { model: 'conv-ae', ...small, hidden: [8, 4] }, false],
  ['tcn-forecast (the network runs)', { model: 'tcn-forecast', ...small }, false],
  ['lstm-attn-ae (the network runs)', { model: 'lstm-attn-ae', ...small }, false],
];
const cases: [string, DetectorOptions, boolean][] = [
  ['zscore, fixed threshold', { model: 'zscore', window: 16, threshold: 'fixed:3' }, false],
  ['zscore, sigma threshold', { model: 'zscore', window: 16, threshold: 'sigma:4' }, false],
  ["lstm-ae, combine 'last' (model stubbed)", { model: 'lstm-ae', ...small, combine: 'last' }, true],
  ["gru-ae, combine 'mean' (model stubbed)", { model: 'gru-ae', ...small, combine: 'mean', causal: false }, true],
  ["lstm-ae, combine 'max' (model stubbed)", { model: 'lstm-ae', ...small, combine: 'max', causal: false }, true],
  ['lstm-forecast (model stubbed)', { model: 'lstm-forecast', ...small }, true],
  // The networks themselves, on the wasm path (the default): layers, fast kernels and WebAssembly products reuse their
  // buffers too. (On the js path, on a loaded machine, this measurement sometimes sees lstm-ae allocate about 1.1 KB a
  // point in every run, unexplained; the README says so.)
  ...(getBackend() === 'wasm' ? REAL : []),
];
// One case per process (argv[2]: its index, or 'control'), as a service runs one kind of detector: a process that
// streams several kinds makes V8's call sites polymorphic, and a call it then does not inline boxes its double
// arguments (16 bytes each; the README says so).
const which = process.argv[2];
if (which === 'control') {
  const controlBytes = measure({ model: 'zscore', window: 16, threshold: 'fixed:3' }, false, true);
  process.stdout.write(JSON.stringify({ name: 'control', bytesPerPoint: controlBytes, sink: sink !== null }) + '\n');
} else if (which === 'count') {
  process.stdout.write(JSON.stringify(cases.length) + '\n');
} else {
  const [name, o, stub] = cases[Number(which)];
  process.stdout.write(JSON.stringify({ name, bytesPerPoint: measure(o, stub) }) + '\n');
}

/**
 * `npm run bench:stream`: what one `detector.stream().push(v)` allocates and costs, after warm-up, per model.
 *
 * Allocation. The script re-runs itself under `node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64`.
 * For each model: fit, push 3,000 warm-up points, then for n = N and n = 2N (N = 1,000): gc(), read the young
 * generation's used size (v8.getHeapSpaceStatistics 'new_space': empty after gc, and every short-lived allocation
 * lands there), push n points, read it again. bytes/point = (Δ(2N) − Δ(N)) / N, the slope, so the constant cost of
 * the measurement cancels; median of 3 repeats. A scavenge inside a measured run would hide allocations, so the runs
 * count GC events (perf_hooks 'gc' entries) inside them and report them (gcEventsInside: the figure is only valid at
 * 0). Resolution: bytes, i.e. 0.001 byte/point. Both entry points are measured: `push(v)` with a number (a fresh result
 * object per scored point, plus V8's 16-byte box of the number argument at the call site) and `pushInto(out, p)` with a
 * reused Float64Array(1) point.
 *
 * Time. STREAM one-window inference: the median of 7 runs of 2,000 pushes, µs per push (the issue's STREAM row is one
 * LSTM window W = 64, H = 64, F = 1 through an autoencoder; the detector rows use the detector's own sizes, printed).
 * Prints one JSON line per model and writes bench/results/stream-alloc.json. Nothing here is asserted; the spec
 * spec/lib/detect/stream-alloc.spec.ts asserts the allocation bound.
 */
import '../lib/node/install';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as v8 from 'v8';
import { PerformanceObserver } from 'perf_hooks';
import { Detector } from '../lib/detect/detector';
import type { StreamResult } from '../lib/detect/stream';
import type { DetectorOptions } from '../lib/detect/types';
import { getBackend } from '../lib/backend';
import type { Sequential } from '../lib/model/sequential';
import { repoRoot } from './eval-data';

const gc = (globalThis as { gc?: () => void }).gc;
const N = 1000,
  WARM = 3000,
  RUNS = 7,
  TIMED = 2000;

let gcEvents: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcEvents.push(e.startTime);
});

function series(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.sin(i / 5) + 0.3 * Math.sin(i / 23) + 0.05 * (s / 2 ** 32 - 0.5));
  }
  return out;
}

/** Bytes in use in the young generation: empty after gc(), and where every short-lived allocation lands. */
function used(): number {
  const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  if (s === undefined) throw new Error('no new_space in v8.getHeapSpaceStatistics()');
  return s.space_used_size;
}

/** Heap growth over pushes of x[from, from + n), after a full gc; also when in time the pushes ran. */
function grow(
  step: (v: number) => number,
  x: number[],
  from: number,
  n: number,
): { bytes: number; t0: number; t1: number } {
  (gc as () => void)();
  let check = 0;
  const t0 = performance.now();
  const h0 = used();
  for (let i = from; i < from + n; i++) check += step(x[i % x.length]);
  const h1 = used();
  const t1 = performance.now();
  if (Number.isNaN(check)) throw new Error('NaN checksum');
  return { bytes: h1 - h0, t0, t1 };
}

async function settle(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 5));
}

/** bytes/point by the slope of two runs; gcs: GC events inside the measured windows (should be 0). */
async function allocPerPoint(
  step: (v: number) => number,
  x: number[],
  start: number,
): Promise<{ bytes: number; gcs: number }> {
  const slopes: number[] = [];
  let gcs = 0;
  for (let rep = 0; rep < 4; rep++) {
    gcEvents = [];
    const a = grow(step, x, start + 3 * N * rep, N);
    const b = grow(step, x, start + 3 * N * rep + N, 2 * N);
    await settle();
    const inside = gcEvents.filter((t) => (t > a.t0 && t < a.t1) || (t > b.t0 && t < b.t1)).length;
    if (rep > 0) {
      gcs += inside;
      slopes.push((b.bytes - a.bytes) / N); // the first repeat compiles the measurement itself
    }
  }
  return { bytes: median(slopes), gcs };
}

function median(v: number[]): number {
  const s = [...v].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)];
}

/**
 * One-window inference alone, same run: the path a push took before (predictTensor on a batch of one: gather,
 * forward, scatter into a new output) against predictWindow (the model's own buffers). µs per window, median of 7.
 */
function oneWindow(d: Detector, W: number): { predictTensorUs: number; predictWindowUs: number } {
  const model = (d as unknown as { model: Sequential }).model;
  const win = new Float32Array(W).map((_, k) => Math.sin(k / 5));
  const reps = 300;
  const time = (f: () => number): number => {
    const t: number[] = [];
    let check = 0;
    for (let r = 0; r < 8; r++) {
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < reps; k++) check += f();
      if (r > 0) t.push(Number(process.hrtime.bigint() - t0) / 1e3 / reps);
    }
    if (Number.isNaN(check)) throw new Error('NaN checksum');
    return Math.round(median(t) * 10) / 10;
  };
  const a = model.predictTensor({ data: win, shape: [1, W, 1] }, 1).data;
  const b = model.predictWindow(win);
  for (let k = 0; k < a.length; k++)
    if (!Object.is(a[k], b[k])) throw new Error(`predictWindow ≠ predictTensor at ${k}`);
  return {
    predictTensorUs: time(() => model.predictTensor({ data: win, shape: [1, W, 1] }, 1).data[0]),
    predictWindowUs: time(() => model.predictWindow(win)[0]),
  };
}

interface Row {
  model: string;
  sizes: string;
  pushBytesPerPoint: number;
  pushIntoBytesPerPoint: number;
  gcEventsInside: number;
  usPerPushMedian: number;
  checksum: number;
  oneWindow?: { predictTensorUs: number; predictWindowUs: number };
}

async function measure(name: string, opts: DetectorOptions, sizes: string): Promise<Row> {
  const x = series(40000, 7);
  const d = new Detector({ ...opts, workers: 1 }).fit(x.slice(0, 600));
  const s = d.stream();
  const out: StreamResult = s.newResult();
  let i = 600;
  const viaPush = (v: number): number => {
    const r = s.push(v);
    return r === null ? 0 : r.score;
  };
  const b = d.stream();
  const one = new Float64Array(1); // a number argument would be boxed at the call site (16 bytes, the caller's)
  const viaInto = (v: number): number => ((one[0] = v), b.pushInto(out, one) ? out.score : 0);
  for (let k = 0; k < WARM; k++) (viaPush(x[i + k]), viaInto(x[i + k]));
  i += WARM;
  const p = await allocPerPoint(viaPush, x, i);
  const q = await allocPerPoint(viaInto, x, i);
  const times: number[] = [];
  let check = 0;
  const c = d.stream();
  for (let k = 0; k < WARM; k++) c.pushInto(out, x[600 + k]);
  let j = 600 + WARM;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < TIMED; k++) if (c.pushInto(out, x[j++ % x.length])) check += out.score;
    times.push(Number(process.hrtime.bigint() - t0) / 1e3 / TIMED);
  }
  const W = d.options.window;
  return {
    ...(d.options.model.endsWith('-ae') ? { oneWindow: oneWindow(d, W) } : {}),
    model: name,
    sizes,
    pushBytesPerPoint: Math.round(p.bytes * 100) / 100,
    pushIntoBytesPerPoint: Math.round(q.bytes * 100) / 100,
    gcEventsInside: p.gcs + q.gcs,
    usPerPushMedian: Math.round(median(times) * 10) / 10,
    checksum: check,
  };
}

async function main(): Promise<void> {
  if (gc === undefined || process.env.BPTT_STREAM_ALLOC !== 'child') {
    const flags = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];
    const r = spawnSync(process.execPath, [...flags, __filename, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, BPTT_STREAM_ALLOC: 'child' },
    });
    process.exit(r.status ?? 1);
  }
  observer.observe({ entryTypes: ['gc'] });
  const only = (process.argv.find((a) => a.startsWith('--models=')) ?? '').slice('--models='.length);
  const cases: [string, DetectorOptions, string][] = [
    ['default (auto)', {}, 'auto'],
    ['lstm-ae', { model: 'lstm-ae', window: 32, hidden: 32, epochs: 1 }, 'W 32, H 32'],
    ['gru-ae', { model: 'gru-ae', window: 32, hidden: 32, epochs: 1 }, 'W 32, H 32'],
    ['lstm-forecast', { model: 'lstm-forecast', window: 32, hidden: 32, epochs: 1 }, 'W 32, H 32'],
    ['STREAM lstm-ae', { model: 'lstm-ae', window: 64, hidden: 64, epochs: 1 }, 'W 64, H 64 (the STREAM row)'],
    ['zscore', { model: 'zscore', window: 32 }, 'W 32'],
    ['gru-online', { model: 'gru-online' }, 'defaults'],
  ];
  const rows: Row[] = [];
  for (const [name, o, sizes] of cases) {
    if (only !== '' && !only.split(',').includes(name.split(' ')[0])) continue;
    const row = await measure(name, o, sizes);
    if (name === 'default (auto)') row.sizes = `model ${new Detector().fit(series(600, 7)).options.model}`;
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  observer.disconnect();
  const load = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const meta = { backend: getBackend(), node: process.version, cpus: os.cpus().length, loadavg: load, N };
  console.log(JSON.stringify(meta));
  const outDir = path.join(repoRoot(), 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'stream-alloc.json'), JSON.stringify({ ...meta, rows }, null, 2) + '\n');
}

void main();

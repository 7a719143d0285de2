/**
 * How fast is bptt against TensorFlow.js and PyTorch on the same model? One run, side by side, for each of bptt's
 * execution paths.
 *
 *   npm run bench            (= tsc -p tsconfig.json && node dist/bench/speed.js)
 *   node dist/bench/speed.js [--shapes=S,M,L,STREAM] [--cells=lstm,gru,rnn]
 *                          [--frameworks=bptt,bptt-js,bptt-wasm,bptt-wasm-w2,bptt-wasm-fma,tfjs-cpu,tfjs-wasm,pytorch]
 *                          [--runs=7] [--no-matmul] [--out=bench/results]
 *
 * Rows: the LSTM autoencoder at S, M, L and STREAM, the GRU and tanh-RNN autoencoders at M (see bench/speed-common.ts for the
 * shapes and the FLOP formula). Engines: bptt's four paths (bptt-js, bptt-wasm, bptt-wasm-w2: backend × workers, and
 * bptt-wasm-fma: the wasm path on the relaxed-SIMD FMA micro-kernel, its child started with
 * --experimental-wasm-relaxed-simd on Node 20; see BPTT_PATHS; `--frameworks=bptt` means all four), tfjs-cpu, tfjs-wasm
 * and PyTorch. For every row this driver computes
 * the reference on bptt's js path (loss and output sums of the untrained model), writes the input windows and the initial
 * weights to a temporary safetensors file, then starts one child process per engine, one after another (so each is alone
 * on the CPU and its peak RSS is its own): bench/speed-child.ts for bptt and TensorFlow.js, bench/torch_ref.py for PyTorch.
 * Each child loads the same weights, checks its loss, warms up, times batch inference and a training step, and reports;
 * this driver checks every checksum against the reference. Results go to bench/results/speed.json and speed.md (and the
 * report is printed). PyTorch runs when `python3 -c "import torch"` works (python3 on PATH, else /usr/bin/python3,
 * Debian's python3-torch); otherwise its column says why it was skipped.
 */
import '../lib/node/install'; // the Node host: files, worker threads ('auto' is 1 without it)
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as bpttLib from '../lib/index';
import { getBackend, setBackend, wasmKernel } from '../lib/backend';
import { sequenceAutoencoder } from '../lib/model/presets';
import { serializeSafetensors, type SafetensorsInput } from '../lib/io/safetensors';
import { wasmRelaxedSimdAvailable, wasmSimdAvailable } from '../kernels/wasm/arena';

/** Node 20 validates relaxed SIMD only under this flag; the bptt-wasm-fma child gets it where this engine lacks it. */
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
import {
  BPTT_PATHS,
  BPTT_PATH_NAMES,
  type BpttPath,
  type Cell,
  type ChildResult,
  ENGINES,
  type Engine,
  FRAMEWORK_NAMES,
  type Framework,
  type Machine,
  RESULT_TAG,
  SHAPES,
  type ShapeName,
  type Shape,
  type Stats,
  bpttSkippedShare,
  describeMachine,
  engineThreads,
  forwardFlops,
  isBpttPath,
  makeInput,
  plannedRuns,
  trainFlops,
} from './speed-common';
import type { MatmulRow } from './matmul';

interface Row {
  cell: Cell;
  shape: ShapeName;
}
/**
 * What every engine is checked against, computed by this process on the js path: the loss of the untrained model and the
 * Σ (and Σ|·|, the scale of the checksum's rounding) of its outputs on the benchmark data. GRU: also the values of the
 * resetAfter=true model PyTorch runs.
 */
interface Reference {
  loss: number;
  checksum: number;
  checksumAbs: number;
  torch: { loss: number; checksum: number; checksumAbs: number } | null;
}
/** Threads `workers: 'auto'` gives this row's training step and batch inference (null: the library has no resolveWorkers). */
interface AutoWorkers {
  fit: number;
  predict: number;
}
interface Outcome {
  row: Row;
  ref: Reference;
  autoWorkers: AutoWorkers | null;
  results: Partial<Record<Engine, ChildResult>>;
  skipped: Partial<Record<Engine, string>>;
}

const ROWS: Row[] = [
  { cell: 'lstm', shape: 'S' },
  { cell: 'lstm', shape: 'M' },
  { cell: 'lstm', shape: 'L' },
  { cell: 'lstm', shape: 'STREAM' },
  { cell: 'gru', shape: 'M' },
  { cell: 'rnn', shape: 'M' },
];
const LABEL: Record<Engine, string> = {
  'bptt-js': 'bptt-js',
  'bptt-wasm': 'bptt-wasm',
  'bptt-wasm-w2': 'bptt-wasm-w2',
  'bptt-wasm-fma': 'bptt-wasm-fma',
  'tfjs-cpu': 'tfjs-cpu',
  'tfjs-wasm': 'tfjs-wasm',
  pytorch: 'PyTorch',
};
/** Relative tolerance of the loss and checksum checks. */
const TOL = 1e-4;

function arg(name: string): string | null {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : null;
}

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

/** --frameworks (or --engines): engine names; `bptt` stands for all four bptt paths. */
function parseEngines(list: string): Engine[] {
  const want = new Set<Engine>();
  for (const name of list.split(',').filter((n) => n !== '')) {
    if (name === 'bptt') BPTT_PATH_NAMES.forEach((p) => want.add(p));
    else if ((ENGINES as string[]).includes(name)) want.add(name as Engine);
    else
      throw new RangeError(
        `--frameworks: unknown engine ${JSON.stringify(name)}; expected bptt, ${ENGINES.join(', ')}`,
      );
  }
  return ENGINES.filter((e) => want.has(e));
}

function findPython(): { python: string | null; why: string } {
  const tried: string[] = [];
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, why: '' };
    tried.push(
      `${py}: ${r.error ? r.error.message : ((r.stderr || '').trim().split('\n').pop() ?? `exit ${r.status}`)}`,
    );
  }
  return {
    python: null,
    why: `python3 -c "import torch" failed (${tried.join('; ')}); install python3-torch (Debian)`,
  };
}

/** What setBackend('auto') picks here (restoring the backend afterwards), or why it could not be asked. */
function autoBackend(): string {
  const before = getBackend();
  try {
    (setBackend as (b: string) => void)('auto'); // loosely typed: older builds only take 'js' | 'wasm'
    return getBackend();
  } catch (e) {
    return `unknown (setBackend('auto') threw: ${e instanceof Error ? e.message : String(e)})`;
  } finally {
    setBackend(before);
  }
}

/**
 * Whether this build's fit and predict take the `workers` option: an invalid value (0) must be rejected with an error
 * naming it; a build that ignores the option runs the call instead (on a 4-step toy model, so it costs nothing).
 */
function probeWorkersOption(): { fit: boolean; predict: boolean } {
  setBackend('js');
  const model = sequenceAutoencoder({ window: 4, features: 1, units: [2], cell: 'lstm', seed: 1 });
  const x = { data: new Float32Array(8), shape: [2, 4, 1] };
  const rejects = (call: () => unknown): boolean => {
    try {
      call();
      return false;
    } catch (e) {
      return e instanceof Error && /workers/.test(e.message);
    }
  };
  return {
    predict: rejects(() => model.predict(x, { batchSize: 2, workers: 0 })),
    fit: rejects(() => model.fit(x, x, { epochs: 1, batchSize: 2, workers: 0 })),
  };
}

type Resolver = (model: unknown, rows: number, requested: unknown, options: { task: 'fit' | 'predict' }) => number;

/** What the library's resolveWorkers (looked up at run time: older builds lack it) makes of 'auto' for this model and batch. */
function autoWorkers(model: unknown, rows: number): AutoWorkers | null {
  const f = (bpttLib as Record<string, unknown>)['resolveWorkers'];
  if (typeof f !== 'function') return null;
  try {
    return {
      fit: (f as Resolver)(model, rows, 'auto', { task: 'fit' }),
      predict: (f as Resolver)(model, rows, 'auto', { task: 'predict' }),
    };
  } catch {
    return null;
  }
}

/**
 * Builds the model on the js path (the reference); returns its weights, loss and output sums on the benchmark data, and
 * what workers 'auto' would give it.
 */
function modelWeights(
  cell: Cell,
  s: Shape,
  resetAfter: boolean,
): {
  weights: Float32Array[];
  shapes: number[][];
  loss: number;
  checksum: number;
  checksumAbs: number;
  auto: AutoWorkers | null;
} {
  setBackend('js');
  const model = sequenceAutoencoder({
    window: s.window,
    features: s.features,
    units: [s.hidden],
    cell,
    seed: 1,
    recurrent:
      cell === 'rnn'
        ? {}
        : cell === 'gru'
          ? { recurrentActivation: 'sigmoid', resetAfter }
          : { recurrentActivation: 'sigmoid' },
  });
  const x = { data: makeInput(s, 7), shape: [s.batch, s.window, s.features] };
  const one = { batchSize: s.batch, workers: 1 } as { batchSize: number }; // one thread (fit/predict default to 'auto')
  const loss = model.evaluate(x, x, one);
  const y = model.predict(x, one).data;
  let checksum = 0,
    checksumAbs = 0;
  for (let i = 0; i < y.length; i++) {
    checksum += y[i];
    checksumAbs += Math.abs(y[i]);
  }
  const w = model.weights();
  return {
    weights: w.map((t) => Float32Array.from(t.value)),
    shapes: w.map((t) => t.shape),
    loss,
    checksum,
    checksumAbs,
    auto: autoWorkersOnDefaultPath(model, s.batch),
  };
}

/** autoWorkers as a user without setBackend gets it: under the 'auto' backend (the rule's threshold depends on the path). */
function autoWorkersOnDefaultPath(model: unknown, rows: number): AutoWorkers | null {
  const before = getBackend();
  try {
    (setBackend as (b: string) => void)('auto');
    return autoWorkers(model, rows);
  } finally {
    setBackend(before);
  }
}

/** Writes x, bptt's initial weights w0…, (GRU: the resetAfter=true weights tw0… for PyTorch) and the reference losses. */
function writeData(file: string, row: Row): { ref: Reference; auto: AutoWorkers | null } {
  const s = SHAPES[row.shape];
  const x = makeInput(s, 7);
  const tensors: Record<string, SafetensorsInput> = { x: { data: x, shape: [s.batch, s.window, s.features] } };
  const main = modelWeights(row.cell, s, false);
  main.weights.forEach((w, i) => {
    tensors[`w${i}`] = { data: w, shape: main.shapes[i] };
  });
  const meta: Record<string, string> = { loss: String(main.loss) };
  let torch: Reference['torch'] = null;
  if (row.cell === 'gru') {
    const ra = modelWeights('gru', s, true);
    ra.weights.forEach((w, i) => {
      tensors[`tw${i}`] = { data: w, shape: ra.shapes[i] };
    });
    meta['torch_loss'] = String(ra.loss);
    torch = { loss: ra.loss, checksum: ra.checksum, checksumAbs: ra.checksumAbs };
  }
  fs.writeFileSync(file, serializeSafetensors(tensors, meta));
  return { ref: { loss: main.loss, checksum: main.checksum, checksumAbs: main.checksumAbs, torch }, auto: main.auto };
}

/** |checksum − reference| / Σ|reference outputs|: the checksum's disagreement on the scale of its rounding. */
function checksumDiff(e: Engine, r: ChildResult, ref: Reference): number {
  const c = e === 'pytorch' && ref.torch !== null ? ref.torch : ref;
  return Math.abs(r.checksum - c.checksum) / Math.max(c.checksumAbs, 1e-30);
}

function parseResult(stdout: string): unknown {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_TAG));
  return line ? JSON.parse(line.slice(RESULT_TAG.length)) : null;
}

/** Why an engine does not run on a row, or null when it does. */
function skipReason(
  e: Engine,
  row: Row,
  simd: boolean,
  cores: number,
  python: string | null,
  pyWhy: string,
): string | null {
  if (isBpttPath(e)) {
    const spec = BPTT_PATHS[e],
      B = SHAPES[row.shape].batch;
    if (spec.backend === 'wasm' && !simd) return 'no WebAssembly SIMD in this Node';
    if (spec.workers > 1 && B < spec.workers) return `B = ${B}, nothing to shard`;
    if (spec.workers > 1 && cores < spec.workers) return `${cores} core, no second thread to run on`;
  }
  if (e === 'pytorch' && python === null) return pyWhy;
  return null;
}

function runChild(
  e: Engine,
  row: Row,
  file: string,
  runs: number,
  python: string | null,
): { r: ChildResult | null; why: string } {
  const plan = plannedRuns(e, row.shape, runs);
  const s = SHAPES[row.shape];
  // Each child picks its backend itself; BPTT_BACKEND would only matter (or throw, without SIMD) while lib/ loads.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMP_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
  };
  delete env['BPTT_BACKEND'];
  delete env['BPTT_WASM_KERNEL'];
  const nodeArgs: string[] = [];
  if (isBpttPath(e) && BPTT_PATHS[e].kernel !== undefined) {
    env['BPTT_WASM_KERNEL'] = BPTT_PATHS[e].kernel;
    if (BPTT_PATHS[e].kernel === 'relaxed-fma' && !wasmRelaxedSimdAvailable()) nodeArgs.push(RELAXED_FLAG);
  }
  const t0 = Date.now();
  const p =
    e === 'pytorch'
      ? spawnSync(
          python as string,
          [
            path.resolve(__dirname, '../../bench/torch_ref.py'),
            row.cell,
            row.shape,
            String(s.batch),
            String(s.window),
            String(s.features),
            String(s.hidden),
            file,
            String(plan.train),
            String(plan.infer),
            String(plan.warmup),
          ],
          { encoding: 'utf8', env, maxBuffer: 1 << 26 },
        )
      : spawnSync(
          process.execPath,
          [
            ...nodeArgs,
            path.join(__dirname, 'speed-child.js'),
            e,
            row.cell,
            row.shape,
            file,
            String(plan.train),
            String(plan.infer),
            String(plan.warmup),
          ],
          { encoding: 'utf8', env, maxBuffer: 1 << 26 },
        );
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const r = p.status === 0 ? (parseResult(p.stdout) as ChildResult | null) : null;
  if (r === null) {
    const err = (p.error?.message ?? p.stderr ?? '')
      .trim()
      .split('\n')
      .filter((l) => !/^\s+at /.test(l))
      .slice(-3)
      .join(' | ');
    log(`  ${e.padEnd(12)} FAILED after ${secs}s: ${err}`);
    return { r: null, why: `failed: ${err}` };
  }
  log(
    `  ${e.padEnd(12)} train ${r.train ? fmtMs(r.train.median) : '—'} ms, infer ${fmtMs(r.infer.median)} ms, ` +
      `loss ${r.loss.toPrecision(6)} (Δ ${r.lossRelDiff.toExponential(1)}), RSS ${r.peakRssMB.toFixed(0)} MB  [${secs}s]`,
  );
  return { r, why: '' };
}

function fmtMs(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** A skip or failure reason as a table cell: short ones in full, long ones point to the notes. */
function reasonCell(why: string | undefined): string {
  if (why === undefined) return '—';
  if (why.startsWith('failed')) return 'failed (see notes)';
  return why.length <= 40 ? `skipped: ${why}` : 'skipped (see notes)';
}

function pickStats(r: ChildResult | undefined, task: 'train' | 'infer', cpu: boolean): Stats | null | undefined {
  return cpu ? (task === 'train' ? r?.trainCpu : r?.inferCpu) : task === 'train' ? r?.train : r?.infer;
}

function cellTime(r: ChildResult | undefined, task: 'train' | 'infer', why: string | undefined): string {
  if (!r) return reasonCell(why);
  const st = pickStats(r, task, false);
  if (!st) return '—';
  return `${fmtMs(st.median)} (${fmtMs(st.min)}–${fmtMs(st.max)}, n=${st.runs})`;
}

/** Speed-up of a bptt path over another engine: other median / path median (wall clock, or CPU time with cpu = true). */
function ratio(
  path: ChildResult | undefined,
  other: ChildResult | undefined,
  task: 'train' | 'infer',
  cpu = false,
): number | null {
  const a = pickStats(path, task, cpu),
    b = pickStats(other, task, cpu);
  return a && b ? b.median / a.median : null;
}

function fmtRatio(x: number | null): string {
  return x === null ? '—' : `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/** "wall [CPU]" speed-up, or — when either side is missing. */
function fmtRatios(path: ChildResult | undefined, other: ChildResult | undefined, task: 'train' | 'infer'): string {
  const w = ratio(path, other, task),
    c = ratio(path, other, task, true);
  return w === null ? '—' : `${fmtRatio(w)} [${fmtRatio(c)}]`;
}

const TASK_NAME = { train: 'training step', infer: 'inference' } as const;
/** Marks CPU times that include worker threads. */
const dagger = (e: Engine): string => (engineThreads(e) > 1 ? ' †' : '');

interface Context {
  machine: Machine;
  simd: boolean;
  auto: string;
  cores: number;
  takesWorkers: { fit: boolean; predict: boolean };
  python: string | null;
  pyWhy: string;
  engines: Engine[];
  runs: number;
}

function markdown(
  ctx: Context,
  outcomes: Outcome[],
  matmulRows: MatmulRow[] | null,
  startedAt: Date,
  seconds: number,
  loadAfter: number[],
): string {
  const { machine, python, pyWhy } = ctx;
  const L: string[] = [];
  const peak = machine.peakGflops;
  const engines = ctx.engines;
  const paths = engines.filter(isBpttPath);
  const frameworks = FRAMEWORK_NAMES.filter((f) => engines.includes(f));
  const head = (cols: string[], right: number): void => {
    L.push(`| ${cols.join(' | ')} |`);
    L.push(`| ${cols.map((_, i) => (i >= cols.length - right ? '---:' : '---')).join(' | ')} |`);
  };
  const rowHead = (o: Outcome, task: 'train' | 'infer'): string =>
    `| ${o.row.cell.toUpperCase()} | ${o.row.shape} | ${TASK_NAME[task]} | `;

  L.push('# bptt benchmark: the sequence autoencoder against TensorFlow.js and PyTorch', '');
  L.push(
    `Run ${startedAt.toISOString()}, ${seconds.toFixed(0)} s in total. Reproduce: \`npm run bench\` (see bench/README.md).`,
    '',
  );
  L.push('## Machine', '');
  L.push(
    `- CPU: ${machine.cpu} (${machine.vendor}, family ${machine.family ?? '?'}, model ${machine.model ?? '?'}), ${machine.cores} cores, ` +
      `${machine.mhz ?? '?'} MHz, flags ${machine.flags.join(' ')}; ${machine.memoryGB} GB RAM; ${machine.os}`,
  );
  L.push(
    `- Node ${machine.node} (V8 ${machine.v8}). Load average before the run ${machine.loadAverage.join(' / ')}, after ${loadAfter.join(' / ')} ` +
      `(1 / 5 / 15 min; above ~1 means other processes shared the ${machine.cores} cores and wall-clock times are inflated).`,
  );
  L.push(
    `- FP32 peak assumed for the "% peak" columns: **${peak} GFLOP/s** per core = ${machine.peakAssumption}. Every engine runs one ` +
      'thread except bptt-wasm-w2 (main thread + 1 worker thread), whose "% peak" is against two cores.',
  );
  L.push(
    `- bptt backend: WebAssembly SIMD ${ctx.simd ? 'available' : '**not** available'} in this Node, so \`setBackend('auto')\` ` +
      `chooses **${ctx.auto}** here (what a model gets without setBackend). Threads for workers: os.availableParallelism() = ${ctx.cores}; ` +
      `the \`workers\` option is taken by fit: ${ctx.takesWorkers.fit ? 'yes' : '**no**'}, by predict: ${ctx.takesWorkers.predict ? 'yes' : '**no**'} ` +
      '(probed: `workers: 0` must be rejected)' +
      (ctx.takesWorkers.fit && ctx.takesWorkers.predict ? '.' : '; where it is not, bptt-wasm-w2 runs like bptt-wasm.'),
  );
  L.push(
    `- wasm GEMM micro-kernel: bptt-wasm and bptt-wasm-w2 run **${wasmKernel()}** (this Node's default: relaxed SIMD ` +
      `${wasmRelaxedSimdAvailable() ? 'validates' : 'does not validate without ' + RELAXED_FLAG}); bptt-wasm-fma runs ` +
      `**relaxed-fma** (f32x4.relaxed_madd${wasmRelaxedSimdAvailable() ? '' : ', child started with ' + RELAXED_FLAG}); ` +
      'each child checks the kernel it ran and names it in its detail line below.',
  );
  const auto = outcomes
    .filter((o) => o.autoWorkers !== null)
    .map((o) => `${o.row.cell.toUpperCase()} ${o.row.shape} ${o.autoWorkers?.fit} / ${o.autoWorkers?.predict}`);
  if (auto.length > 0)
    L.push(
      `- Threads \`workers: 'auto'\` (the default of fit and predict) gives each row here on the default path (setBackend('auto') → ${ctx.auto}), training step / batch inference: ${auto.join(', ')}.`,
    );
  const details = new Map<Engine, string>();
  for (const o of outcomes)
    for (const e of engines) {
      const r = o.results[e];
      if (r && !details.has(e)) details.set(e, r.detail);
    }
  for (const e of engines)
    L.push(
      `- ${LABEL[e]}: ${details.get(e) ?? (e === 'pytorch' && python === null ? `skipped — ${pyWhy}` : 'did not run')}`,
    );
  L.push('');

  L.push('## Times (ms, wall clock): median (min–max, n timed runs after warm-up)', '');
  head(['cell', 'shape', 'task', ...engines.map((e) => LABEL[e])], engines.length);
  for (const o of outcomes) {
    for (const task of ['train', 'infer'] as const) {
      L.push(rowHead(o, task) + engines.map((e) => cellTime(o.results[e], task, o.skipped[e])).join(' | ') + ' |');
    }
  }
  L.push('');

  L.push('## Speed-ups of each bptt path', '');
  L.push(
    "One row per bptt path. Speed-up = the other engine's median time / the path's median time, on the wall clock and, " +
      'in brackets, on CPU time; every figure is from this run. † CPU time of the whole process, worker thread included (it can ' +
      'exceed the wall time; its bracketed speed-ups compare total work).',
    '',
  );
  const others: Engine[] = [...(paths.includes('bptt-js') ? ['bptt-js' as const] : []), ...frameworks];
  head(
    ['cell', 'shape', 'task', 'bptt path', 'ms', 'CPU ms', ...others.map((e) => `vs ${LABEL[e]}`)],
    2 + others.length,
  );
  for (const o of outcomes) {
    for (const task of ['train', 'infer'] as const) {
      for (const p of paths) {
        const r = o.results[p];
        const wall = pickStats(r, task, false),
          cpu = pickStats(r, task, true);
        L.push(
          rowHead(o, task) +
            `${p} | ${wall ? fmtMs(wall.median) : reasonCell(o.skipped[p])} | ` +
            `${cpu ? fmtMs(cpu.median) + dagger(p) : '—'} | ` +
            others.map((e) => (e === p ? '—' : fmtRatios(r, o.results[e], task))).join(' | ') +
            ' |',
        );
      }
    }
  }
  L.push('');

  L.push('## CPU time (ms of the process, user + system): median', '');
  L.push(
    'Wall clock is what a user waits for; CPU time is what each engine spent, which other processes sharing the machine do ' +
      'not inflate. On an idle machine the two agree for the single-threaded engines. † includes the worker thread.',
    '',
  );
  head(['cell', 'shape', 'task', ...engines.map((e) => LABEL[e])], engines.length);
  for (const o of outcomes) {
    for (const task of ['train', 'infer'] as const) {
      L.push(
        rowHead(o, task) +
          engines
            .map((e) => {
              const st = pickStats(o.results[e], task, true);
              return st ? fmtMs(st.median) + dagger(e) : o.results[e] || o.skipped[e] === undefined ? '—' : 'skipped';
            })
            .join(' | ') +
          ' |',
      );
    }
  }
  L.push('');

  L.push('## Throughput, memory and checks', '');
  L.push(
    `GFLOP/s from the issue's formula (matmul FLOPs only; training = 3 × forward) over the median time; % of the peak of the ` +
      `cores the engine computes on (${peak} GFLOP/s per core; bptt-wasm-w2 two cores). Peak RSS is each engine's own child process ` +
      "(runtime included; for bptt-wasm-w2 the worker thread's heap too). Loss = MSE of the untrained model on the benchmark data and " +
      `its relative difference from the reference (bptt's js path, computed by the driver); for bptt paths also the loss their first ` +
      `\`fit\` step reports (the forward run the path's way, sharded for bptt-wasm-w2). Checksum = Σ of the inference outputs (same ` +
      `weights everywhere), Δ = |Σ − Σ_ref| / Σ|y_ref|. ✗ marks a check above ${TOL.toExponential(0)}.`,
    '',
  );
  head(
    [
      'cell',
      'shape',
      'engine',
      'threads',
      'train GFLOP/s (% peak)',
      'infer GFLOP/s (% peak)',
      'peak RSS MB',
      'loss (Δ rel)',
      'loss after 1 step',
      'checksum (Δ)',
    ],
    7,
  );
  const failures: string[] = [];
  for (const o of outcomes) {
    const s = SHAPES[o.row.shape];
    const ff = forwardFlops(o.row.cell, s),
      tf = trainFlops(o.row.cell, s);
    for (const e of engines) {
      const r = o.results[e];
      if (!r) continue;
      const threads = engineThreads(e),
        cores = peak * threads;
      const g = (fl: number, ms: number | undefined): string =>
        ms === undefined ? '—' : `${(fl / ms / 1e6).toFixed(2)} (${((100 * fl) / ms / 1e6 / cores).toFixed(1)}%)`;
      const fitLoss = r.fitLossRelDiff !== undefined ? `; fit ${r.fitLossRelDiff.toExponential(1)}` : '';
      const cd = checksumDiff(e, r, o.ref);
      const where = `${o.row.cell.toUpperCase()} ${o.row.shape} ${e}`;
      if (!r.lossOk) failures.push(`${where}: loss differs from the reference by more than ${TOL} (relative)`);
      if (cd > TOL) failures.push(`${where}: checksum differs from the reference by ${cd.toExponential(1)} of Σ|y|`);
      L.push(
        `| ${o.row.cell.toUpperCase()} | ${o.row.shape} | ${LABEL[e]} | ${threads} | ${g(tf, r.train?.median)} | ${g(ff, r.infer.median)} | ` +
          `${r.peakRssMB.toFixed(0)} | ${r.loss.toPrecision(6)} (${r.lossRelDiff.toExponential(1)}${fitLoss}${r.lossOk ? '' : ' ✗'}) | ` +
          `${r.lossAfterStep === null ? '—' : r.lossAfterStep.toPrecision(6)} | ${r.checksum.toPrecision(8)} (${cd.toExponential(1)}${cd > TOL ? ' ✗' : ''}) |`,
      );
    }
  }
  L.push('');
  if (matmulRows) {
    L.push('## Matmul kernels (bptt js path, one thread)', '');
    L.push(
      '| op | dtype | M×K×N | median ms (min–max) | GFLOP/s at the median (at the min) | max rel. error vs naive |',
    );
    L.push('| --- | --- | --- | ---: | ---: | ---: |');
    for (const m of matmulRows) {
      L.push(
        `| ${m.op} | ${m.dtype} | ${m.M}×${m.K}×${m.N} | ${m.time.median.toFixed(3)} (${m.time.min.toFixed(3)}–${m.time.max.toFixed(3)}) | ` +
          `${m.gflops.toFixed(2)} (${((2 * m.M * m.K * m.N) / m.time.min / 1e6).toFixed(2)}) | ${m.maxRelErr.toExponential(1)} |`,
      );
    }
    L.push('');
  }

  L.push('## Targets (issue 6), per bptt path', '');
  L.push('Speed-ups on wall-clock medians, with the CPU-time speed-up in brackets.', '');
  const get = (cell: Cell, shape: ShapeName): Outcome | undefined =>
    outcomes.find((o) => o.row.cell === cell && o.row.shape === shape);
  const mark = (ok: boolean | null): string => (ok === null ? '(not measured)' : ok ? '✓' : '✗');
  const short = (p: BpttPath): string => p.slice('bptt-'.length);
  const perPath = (o: Outcome, f: (p: BpttPath, r: ChildResult) => string): string =>
    paths
      .map((p) => {
        const r = o.results[p];
        return r ? f(p, r) : `${short(p)} —`;
      })
      .join(', ');
  const vs = (o: Outcome, fw: Framework, task: 'train' | 'infer', ok: (x: number) => boolean): string =>
    perPath(o, (p, r) => {
      const w = ratio(r, o.results[fw], task);
      return `${short(p)} ${fmtRatios(r, o.results[fw], task)} ${mark(w === null ? null : ok(w))}`;
    });
  for (const shape of ['S', 'M', 'L', 'STREAM'] as const) {
    const o = get('lstm', shape);
    if (!o) continue;
    L.push(
      `- LSTM ${shape} training vs tfjs-wasm (≥ 3×): ${vs(o, 'tfjs-wasm', 'train', (x) => x >= 3)}; ` +
        `vs tfjs-cpu (≥ 15×): ${vs(o, 'tfjs-cpu', 'train', (x) => x >= 15)}; inference vs tfjs-wasm (> 1×): ${vs(o, 'tfjs-wasm', 'infer', (x) => x > 1)}`,
    );
  }
  const st = get('lstm', 'STREAM');
  if (st) {
    L.push(
      `- STREAM one-window latency (≤ 2 ms): ${perPath(
        st,
        (p, r) =>
          `${short(p)} ${fmtMs(r.infer.median)} ms [CPU ${fmtMs(r.inferCpu.median)}] ${mark(r.infer.median <= 2)}`,
      )}`,
    );
  }
  const lr = get('lstm', 'L');
  if (lr)
    L.push(
      `- Peak RSS at L (< 200 MB): ${perPath(lr, (p, r) => `${short(p)} ${r.peakRssMB.toFixed(0)} MB ${mark(r.peakRssMB < 200)}`)}`,
    );
  if (matmulRows) {
    const big = matmulRows.filter((m) => m.M === 256 && m.dtype === 'float32');
    L.push(
      `- Matmul at 256³ (float32, js kernels): ${big.map((m) => `${m.op} ${m.gflops.toFixed(2)}`).join(', ')} GFLOP/s (≥ 3) ${mark(big.every((m) => m.gflops >= 3))}`,
    );
  }
  for (const cell of ['gru', 'rnn'] as const) {
    const o = get(cell, 'M'),
      l = get('lstm', 'M');
    if (!o || !l) continue;
    const both = (x: Outcome): string =>
      perPath(
        x,
        (p, r) =>
          `${short(p)} ${fmtRatio(ratio(r, x.results['tfjs-cpu'], 'train'))} / ${fmtRatio(ratio(r, x.results['tfjs-wasm'], 'train'))}`,
      );
    L.push(`- ${cell.toUpperCase()} M training vs tfjs-cpu / tfjs-wasm: ${both(o)} (LSTM M: ${both(l)})`);
  }

  L.push('', '## Notes', '');
  if (failures.length > 0) L.push(...failures.map((f) => `- **Check failed** — ${f}.`));
  L.push(
    `- Timed runs: ${ctx.runs} per task, after a warm-up of at least 2 runs and 1.5 s (at most 5000 runs; the JavaScript engines need the JIT ` +
      'to have compiled their loops: a cap of 30 runs left the millisecond-scale STREAM rows half-compiled), except tfjs-cpu at L (3 timed runs after 1 warm-up run: one step takes 20–35 s, 7 would take the ' +
      `whole benchmark past 15 minutes). STREAM inference takes ${Math.max(ctx.runs, 25)} timed runs (a millisecond-scale figure). ` +
      'Wall-clock time (process.hrtime / time.perf_counter) of one whole call: bptt `fit` on one batch and `predict`; tfjs `trainOnBatch` ' +
      'and `predict` + `dataSync`; PyTorch zero_grad + forward + backward + Adam step, and a no_grad forward.',
  );
  L.push(
    '- bptt paths, each in its own child process: ' +
      BPTT_PATH_NAMES.map(
        (p) =>
          `${p} = \`setBackend('${BPTT_PATHS[p].backend}')\` before the model is built, \`workers: ${BPTT_PATHS[p].workers}\` passed to fit and predict`,
      ).join('; ') +
      '. With 2 workers each batch is split into two shards, one on the main thread and one on a worker thread; timings include ' +
      'whatever the library does per call to hand work to the worker and gather it back.',
  );
  const cpuWall: string[] = [];
  let idle = true;
  for (const o of outcomes) {
    for (const p of paths) {
      if (engineThreads(p) < 2) continue;
      const r = o.results[p];
      if (!r) continue;
      const q = (task: 'train' | 'infer'): string => {
        const w = pickStats(r, task, false),
          c = pickStats(r, task, true);
        return w && c ? (c.median / w.median).toFixed(2) : '—';
      };
      cpuWall.push(`${o.row.cell.toUpperCase()} ${o.row.shape} train ${q('train')}, infer ${q('infer')}`);
      for (const task of ['train', 'infer'] as const) {
        const w = pickStats(r, task, false),
          c = pickStats(r, task, true);
        if (w && c && c.median / w.median > 1.1) idle = false;
      }
    }
  }
  if (cpuWall.length > 0) {
    L.push(
      `- CPU/wall of bptt-wasm-w2 (about 1 means the second thread did little or nothing, up to 2 means both threads were busy ` +
        `throughout): ${cpuWall.join('; ')}.` +
        (idle
          ? ' **At most 1.1 everywhere: no two threads of bptt-wasm-w2 computed at the same ' +
            'time** (see whether fit and predict take `workers` in the machine section, and the load average: other processes may have ' +
            'held the second core).'
          : ''),
    );
  }
  L.push(
    "- Same weights everywhere: bptt's initial weights (seed 1) are copied into each framework (TensorFlow.js: `setWeights` in Keras " +
      "order; PyTorch: transposed into weight_ih / weight_hh), and every engine's loss on the same data must match the reference to 1e-4 " +
      'relative before its figures count. recurrentActivation is sigmoid everywhere (TensorFlow.js defaults to hardSigmoid).',
  );
  L.push(
    "- GRU: TensorFlow.js only has the reset-before variant (Keras resetAfter=false), so bptt's GRU rows use resetAfter=false; PyTorch only " +
      "has reset-after, so its GRU row runs a bptt resetAfter=true model's weights (same FLOPs) and is checked against that model's loss " +
      'and checksum.',
  );
  const skipped = outcomes.map(
    (o) =>
      `${o.row.cell.toUpperCase()} ${o.row.shape} ${(100 * bpttSkippedShare(o.row.cell, SHAPES[o.row.shape])).toFixed(0)}%`,
  );
  L.push(
    "- bptt runs the decoder on the repeated encoder state as such (Sequential fuses RepeatVector → recurrent layer; the cells' " +
      "`xRepeated` mode): the decoder's input projection x·W, and in backward its dW and dx, are computed once per sequence instead of " +
      'once per step. Same model, same outputs (checked above: loss and checksum); fewer FLOPs executed. The GFLOP/s columns count the ' +
      `issue's formula for every engine, so bptt's figures are effective rates; the share of the formula it skips: ${skipped.join(', ')}.`,
  );
  const notes = new Set<string>();
  for (const o of outcomes) {
    for (const e of engines) {
      const n = o.results[e]?.note;
      if (n) notes.add(`${LABEL[e]}: ${n}`);
      const why = o.skipped[e];
      if (why !== undefined && reasonCell(why) !== `skipped: ${why}`)
        notes.add(`${LABEL[e]}, ${o.row.cell.toUpperCase()} ${o.row.shape}: ${why}`);
    }
  }
  for (const n of notes) L.push(`- ${n}`);
  L.push('');
  return L.join('\n');
}

function main(): void {
  const started = new Date();
  const t0 = Date.now();
  const shapes = (arg('shapes') ?? 'S,M,L,STREAM').split(',') as ShapeName[];
  const cells = (arg('cells') ?? 'lstm,gru,rnn').split(',') as Cell[];
  const engines = parseEngines(arg('frameworks') ?? arg('engines') ?? ENGINES.join(','));
  const runs = Number(arg('runs') ?? 7);
  const outDir = path.resolve(arg('out') ?? path.resolve(__dirname, '../../bench/results'));
  const machine = describeMachine();
  const simd = wasmSimdAvailable();
  const ctx: Context = {
    machine,
    simd,
    auto: autoBackend(),
    cores: os.availableParallelism(),
    takesWorkers: probeWorkersOption(),
    engines,
    runs,
    python: null,
    pyWhy: 'not requested',
  };
  log(
    `bptt benchmark — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load ${machine.loadAverage.join(' ')}; ` +
      `wasm SIMD ${simd ? 'yes' : 'no'}, setBackend('auto') → ${ctx.auto}; workers option taken by fit ${ctx.takesWorkers.fit}, predict ${ctx.takesWorkers.predict}`,
  );
  if (engines.includes('pytorch')) Object.assign(ctx, (({ python, why }) => ({ python, pyWhy: why }))(findPython()));
  if (engines.includes('pytorch') && ctx.python === null) log(`PyTorch: skipped — ${ctx.pyWhy}`);

  let matmulRows: MatmulRow[] | null = null;
  if (!process.argv.includes('--no-matmul')) {
    const p = spawnSync(process.execPath, [path.join(__dirname, 'matmul.js'), '--json'], { encoding: 'utf8' });
    matmulRows = p.status === 0 ? (parseResult(p.stdout) as MatmulRow[]) : null;
    if (matmulRows)
      for (const m of matmulRows) log(`matmul ${m.op} ${m.dtype} ${m.M}×${m.K}×${m.N}: ${m.gflops.toFixed(2)} GFLOP/s`);
    else log(`matmul benchmark failed: ${p.stderr}`);
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-bench-'));
  const outcomes: Outcome[] = [];
  try {
    for (const row of ROWS) {
      if (!shapes.includes(row.shape) || !cells.includes(row.cell)) continue;
      log(`${row.cell.toUpperCase()} ${row.shape} [elapsed ${((Date.now() - t0) / 1000).toFixed(0)}s]`);
      const file = path.join(tmp, `${row.cell}-${row.shape}.safetensors`);
      const { ref, auto } = writeData(file, row);
      const o: Outcome = { row, ref, autoWorkers: auto, results: {}, skipped: {} };
      for (const e of engines) {
        const skip = skipReason(e, row, simd, ctx.cores, ctx.python, ctx.pyWhy);
        if (skip !== null) {
          o.skipped[e] = skip;
          log(`  ${e.padEnd(12)} skipped: ${skip}`);
          continue;
        }
        const { r, why } = runChild(e, row, file, runs, ctx.python);
        if (r) o.results[e] = r;
        else o.skipped[e] = why;
        if (r && !r.lossOk)
          log(
            `  WARNING ${e}: loss ${r.loss} (fit ${r.fitLoss ?? '—'}) differs from the reference ${ref.loss} by more than ${TOL} (relative)`,
          );
        if (r && checksumDiff(e, r, ref) > TOL)
          log(`  WARNING ${e}: checksum ${r.checksum} differs from the reference ${ref.checksum}`);
      }
      outcomes.push(o);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const seconds = (Date.now() - t0) / 1000;
  const loadAfter = os.loadavg().map((v) => Math.round(v * 100) / 100);
  const md = markdown(ctx, outcomes, matmulRows, started, seconds, loadAfter);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'speed.md'), md);
  fs.writeFileSync(
    path.join(outDir, 'speed.json'),
    `${JSON.stringify(
      {
        startedAt: started.toISOString(),
        seconds,
        machine,
        loadAfter,
        shapes: SHAPES,
        bpttPaths: BPTT_PATHS,
        wasmSimd: simd,
        autoBackend: ctx.auto,
        availableParallelism: ctx.cores,
        takesWorkers: ctx.takesWorkers,
        flops: Object.fromEntries(
          outcomes.map((o) => [
            `${o.row.cell}-${o.row.shape}`,
            {
              forward: forwardFlops(o.row.cell, SHAPES[o.row.shape]),
              train: trainFlops(o.row.cell, SHAPES[o.row.shape]),
            },
          ]),
        ),
        python: ctx.python,
        pytorchSkipped: ctx.python === null ? ctx.pyWhy : null,
        matmul: matmulRows,
        rows: outcomes,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`${md}\n`);
  log(`wrote ${path.join(outDir, 'speed.md')} and speed.json in ${seconds.toFixed(0)} s`);
}

main();

/**
 * How fast is bptt against TensorFlow.js and PyTorch on the same model? One run, side by side.
 *
 *   npm run bench            (= tsc -p tsconfig.json && node dist/bench/speed.js)
 *   node dist/bench/speed.js [--shapes=S,M,L,STREAM] [--cells=lstm,gru,rnn] [--frameworks=bptt,tfjs-cpu,tfjs-wasm,pytorch]
 *                          [--runs=7] [--no-matmul] [--out=bench/results]
 *
 * Rows: the LSTM autoencoder at S, M, L and STREAM, the GRU and tanh-RNN autoencoders at M (see bench/speed-common.ts for the
 * shapes and the FLOP formula). For every row this driver writes the input windows and bptt's initial weights to a
 * temporary safetensors file, then starts one child process per framework, one after another (so each is alone on the
 * CPU and its peak RSS is its own): bench/speed-child.ts for bptt, tfjs-cpu and tfjs-wasm, bench/torch_ref.py for PyTorch.
 * Each child loads the same weights, checks its loss against bptt's, warms up, times batch inference and a training step,
 * and reports. Results go to bench/results/speed.json and speed.md (and the table is printed).
 * PyTorch runs when `python3 -c "import torch"` works (python3 on PATH, else /usr/bin/python3, Debian's python3-torch);
 * otherwise its column says why it was skipped.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { sequenceAutoencoder } from '../lib/presets';
import { serializeSafetensors, SafetensorsInput } from '../lib/io/safetensors';
import {
  Cell, ChildResult, Framework, Machine, RESULT_TAG, SHAPES, ShapeName, Shape, Stats, bpttSkippedShare, describeMachine,
  forwardFlops, makeInput, plannedRuns, trainFlops,
} from './speed-common';
import type { MatmulRow } from './matmul';

interface Row { cell: Cell; shape: ShapeName }
interface Outcome { row: Row; results: Partial<Record<Framework, ChildResult>>; skipped: Partial<Record<Framework, string>> }

const FRAMEWORKS: Framework[] = ['bptt', 'tfjs-cpu', 'tfjs-wasm', 'pytorch'];
const ROWS: Row[] = [
  { cell: 'lstm', shape: 'S' }, { cell: 'lstm', shape: 'M' }, { cell: 'lstm', shape: 'L' }, { cell: 'lstm', shape: 'STREAM' },
  { cell: 'gru', shape: 'M' }, { cell: 'rnn', shape: 'M' },
];

function arg(name: string): string | null {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : null;
}

const log = (s: string): void => { process.stderr.write(`${s}\n`); };

function findPython(): { python: string | null; why: string } {
  const tried: string[] = [];
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, why: '' };
    tried.push(`${py}: ${r.error ? r.error.message : (r.stderr || '').trim().split('\n').pop() ?? `exit ${r.status}`}`);
  }
  return { python: null, why: `python3 -c "import torch" failed (${tried.join('; ')}); install python3-torch (Debian)` };
}

function modelWeights(cell: Cell, s: Shape, resetAfter: boolean): { weights: Float32Array[]; shapes: number[][]; loss: number } {
  const model = sequenceAutoencoder({
    window: s.window, features: s.features, units: [s.hidden], cell, seed: 1,
    recurrent: cell === 'rnn' ? {} : cell === 'gru' ? { recurrentActivation: 'sigmoid', resetAfter } : { recurrentActivation: 'sigmoid' },
  });
  const x = makeInput(s, 7);
  const loss = model.evaluate({ data: x, shape: [s.batch, s.window, s.features] }, { data: x, shape: [s.batch, s.window, s.features] },
    { batchSize: s.batch });
  const w = model.weights();
  return { weights: w.map((t) => Float32Array.from(t.value)), shapes: w.map((t) => t.shape), loss };
}

/** Writes x, bptt's initial weights w0…, (GRU: the resetAfter=true weights tw0… for PyTorch) and the reference losses. */
function writeData(file: string, row: Row): void {
  const s = SHAPES[row.shape];
  const x = makeInput(s, 7);
  const tensors: Record<string, SafetensorsInput> = { x: { data: x, shape: [s.batch, s.window, s.features] } };
  const main = modelWeights(row.cell, s, false);
  main.weights.forEach((w, i) => { tensors[`w${i}`] = { data: w, shape: main.shapes[i] as number[] }; });
  const meta: Record<string, string> = { loss: String(main.loss) };
  if (row.cell === 'gru') {
    const ra = modelWeights('gru', s, true);
    ra.weights.forEach((w, i) => { tensors[`tw${i}`] = { data: w, shape: ra.shapes[i] as number[] }; });
    meta['torch_loss'] = String(ra.loss);
  }
  fs.writeFileSync(file, serializeSafetensors(tensors, meta));
}

function parseResult(stdout: string): unknown {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_TAG));
  return line ? JSON.parse(line.slice(RESULT_TAG.length)) : null;
}

function runChild(fw: Framework, row: Row, file: string, runs: number, python: string | null): { r: ChildResult | null; why: string } {
  const plan = plannedRuns(fw, row.shape, runs);
  const s = SHAPES[row.shape];
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const t0 = Date.now();
  const p = fw === 'pytorch'
    ? spawnSync(python as string, [path.resolve(__dirname, '../../bench/torch_ref.py'), row.cell, row.shape, String(s.batch), String(s.window),
      String(s.features), String(s.hidden), file, String(plan.train), String(plan.infer), String(plan.warmup)], { encoding: 'utf8', env, maxBuffer: 1 << 26 })
    : spawnSync(process.execPath, [path.join(__dirname, 'speed-child.js'), fw, row.cell, row.shape, file, String(plan.train), String(plan.infer),
      String(plan.warmup)], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const r = p.status === 0 ? parseResult(p.stdout) as ChildResult | null : null;
  if (r === null) {
    const err = (p.error?.message ?? p.stderr ?? '').trim().split('\n').filter((l) => !/^\s+at /.test(l)).slice(-3).join(' | ');
    log(`  ${fw.padEnd(9)} FAILED after ${secs}s: ${err}`);
    return { r: null, why: `failed: ${err}` };
  }
  log(`  ${fw.padEnd(9)} train ${r.train ? fmtMs(r.train.median) : '—'} ms, infer ${fmtMs(r.infer.median)} ms, ` +
    `loss ${r.loss.toPrecision(6)} (Δ ${r.lossRelDiff.toExponential(1)}), RSS ${r.peakRssMB.toFixed(0)} MB  [${secs}s]`);
  return { r, why: '' };
}

function fmtMs(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

function cellTime(r: ChildResult | undefined, task: 'train' | 'infer', skipped: string | undefined): string {
  if (!r) return skipped ? 'skipped' : '—';
  const st = task === 'train' ? r.train : r.infer;
  if (!st) return '—';
  return `${fmtMs(st.median)} (${fmtMs(st.min)}–${fmtMs(st.max)}, n=${st.runs})`;
}

/** Speed-up of bptt over a framework: framework median / bptt median (wall clock, or CPU time with cpu = true). */
function ratio(bptt: ChildResult | undefined, other: ChildResult | undefined, task: 'train' | 'infer', cpu = false): number | null {
  const pick = (r: ChildResult | undefined): Stats | null | undefined =>
    cpu ? (task === 'train' ? r?.trainCpu : r?.inferCpu) : (task === 'train' ? r?.train : r?.infer);
  const a = pick(bptt), b = pick(other);
  return a && b ? b.median / a.median : null;
}

function fmtRatio(x: number | null): string {
  return x === null ? '—' : `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`;
}

function markdown(machine: Machine, outcomes: Outcome[], matmulRows: MatmulRow[] | null, python: string | null, pyWhy: string,
                  startedAt: Date, seconds: number, loadAfter: number[]): string {
  const L: string[] = [];
  const peak = machine.peakGflops;
  L.push('# bptt benchmark: the sequence autoencoder against TensorFlow.js and PyTorch', '');
  L.push(`Run ${startedAt.toISOString()}, ${seconds.toFixed(0)} s in total. Reproduce: \`npm run bench\` (see bench/README.md).`, '');
  L.push('## Machine', '');
  L.push(`- CPU: ${machine.cpu} (${machine.vendor}, family ${machine.family ?? '?'}, model ${machine.model ?? '?'}), ${machine.cores} cores, ` +
    `${machine.mhz ?? '?'} MHz, flags ${machine.flags.join(' ')}; ${machine.memoryGB} GB RAM; ${machine.os}`);
  L.push(`- Node ${machine.node} (V8 ${machine.v8}). Load average before the run ${machine.loadAverage.join(' / ')}, after ${loadAfter.join(' / ')} ` +
    '(1 / 5 / 15 min; above ~1 means other processes shared the 2 cores and wall-clock times are inflated).');
  L.push(`- FP32 peak assumed for the "% peak" columns: **${peak} GFLOP/s** = ${machine.peakAssumption}. Every engine here runs one thread.`);
  const details = new Map<Framework, string>();
  for (const o of outcomes) for (const fw of FRAMEWORKS) { const r = o.results[fw]; if (r && !details.has(fw)) details.set(fw, r.detail); }
  for (const fw of FRAMEWORKS) L.push(`- ${fw}: ${details.get(fw) ?? (fw === 'pytorch' && python === null ? `skipped — ${pyWhy}` : 'not run')}`);
  L.push('');
  L.push('## Times (ms): median (min–max, n timed runs after warm-up); speed-up = framework time / bptt time', '');
  L.push('| cell | shape | task | bptt | tfjs-cpu | tfjs-wasm | PyTorch | vs tfjs-cpu | vs tfjs-wasm | vs PyTorch |');
  L.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const o of outcomes) {
    for (const task of ['train', 'infer'] as const) {
      const rs = o.results;
      L.push(`| ${o.row.cell.toUpperCase()} | ${o.row.shape} | ${task === 'train' ? 'training step' : 'inference'} | ` +
        FRAMEWORKS.map((fw) => cellTime(rs[fw], task, o.skipped[fw])).join(' | ') + ' | ' +
        (['tfjs-cpu', 'tfjs-wasm', 'pytorch'] as const).map((fw) => fmtRatio(ratio(rs.bptt, rs[fw], task))).join(' | ') + ' |');
    }
  }
  L.push('');
  L.push('## CPU time (ms of the process, user + system): median; speed-up on CPU time', '');
  L.push('Wall clock is what a user waits for; CPU time is what each engine spent, which other processes sharing the machine do ' +
    'not inflate. On an idle machine the two agree for these single-threaded runs.', '');
  L.push('| cell | shape | task | bptt | tfjs-cpu | tfjs-wasm | PyTorch | vs tfjs-cpu | vs tfjs-wasm | vs PyTorch |');
  L.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const o of outcomes) {
    for (const task of ['train', 'infer'] as const) {
      const rs = o.results;
      L.push(`| ${o.row.cell.toUpperCase()} | ${o.row.shape} | ${task === 'train' ? 'training step' : 'inference'} | ` +
        FRAMEWORKS.map((fw) => {
          const st = task === 'train' ? rs[fw]?.trainCpu : rs[fw]?.inferCpu;
          return st ? fmtMs(st.median) : o.skipped[fw] ? 'skipped' : '—';
        }).join(' | ') + ' | ' +
        (['tfjs-cpu', 'tfjs-wasm', 'pytorch'] as const).map((fw) => fmtRatio(ratio(rs.bptt, rs[fw], task, true))).join(' | ') + ' |');
    }
  }
  L.push('');
  L.push('## Throughput and memory', '');
  L.push(`GFLOP/s from the issue's formula (matmul FLOPs only; training = 3 × forward) over the median time; % of the ${peak} GFLOP/s ` +
    'single-core peak. Peak RSS is each framework\'s own child process (runtime included). Loss = MSE of the untrained model on the ' +
    'benchmark data, relative difference to bptt\'s; checksum = Σ of the inference outputs (same weights, so they should agree).', '');
  L.push('| cell | shape | framework | train GFLOP/s (% peak) | infer GFLOP/s (% peak) | peak RSS MB | loss (Δ rel) | loss after 1 step | checksum |');
  L.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const o of outcomes) {
    const s = SHAPES[o.row.shape];
    const ff = forwardFlops(o.row.cell, s), tf = trainFlops(o.row.cell, s);
    for (const fw of FRAMEWORKS) {
      const r = o.results[fw];
      if (!r) continue;
      const g = (fl: number, ms: number | undefined): string => ms === undefined ? '—'
        : `${(fl / ms / 1e6).toFixed(2)} (${((100 * fl) / ms / 1e6 / peak).toFixed(1)}%)`;
      L.push(`| ${o.row.cell.toUpperCase()} | ${o.row.shape} | ${fw} | ${g(tf, r.train?.median)} | ${g(ff, r.infer.median)} | ` +
        `${r.peakRssMB.toFixed(0)} | ${r.loss.toPrecision(6)} (${r.lossRelDiff.toExponential(1)}${r.lossOk ? '' : ' ✗'}) | ` +
        `${r.lossAfterStep === null ? '—' : r.lossAfterStep.toPrecision(6)} | ${r.checksum.toPrecision(8)} |`);
    }
  }
  const notes = new Set<string>();
  for (const o of outcomes) for (const fw of FRAMEWORKS) { const n = o.results[fw]?.note; if (n) notes.add(`${fw}: ${n}`); }
  L.push('');
  if (matmulRows) {
    L.push('## Matmul kernels (bptt, one thread)', '');
    L.push('| op | dtype | M×K×N | median ms (min–max) | GFLOP/s at the median (at the min) | max rel. error vs naive |');
    L.push('| --- | --- | --- | ---: | ---: | ---: |');
    for (const m of matmulRows) {
      L.push(`| ${m.op} | ${m.dtype} | ${m.M}×${m.K}×${m.N} | ${m.time.median.toFixed(3)} (${m.time.min.toFixed(3)}–${m.time.max.toFixed(3)}) | ` +
        `${m.gflops.toFixed(2)} (${((2 * m.M * m.K * m.N) / m.time.min / 1e6).toFixed(2)}) | ${m.maxRelErr.toExponential(1)} |`);
    }
    L.push('');
  }
  L.push('## Targets (issue 6)', '');
  L.push('Speed-ups on wall-clock medians, with the CPU-time speed-up in brackets.', '');
  const get = (cell: Cell, shape: ShapeName): Outcome | undefined => outcomes.find((o) => o.row.cell === cell && o.row.shape === shape);
  const mark = (ok: boolean | null): string => ok === null ? '(not measured)' : ok ? '✓' : '✗';
  for (const shape of ['S', 'M', 'L', 'STREAM'] as const) {
    const o = get('lstm', shape);
    if (!o) continue;
    const r = (fw: Framework, task: 'train' | 'infer'): [number | null, string] => {
      const w = ratio(o.results.bptt, o.results[fw], task), c = ratio(o.results.bptt, o.results[fw], task, true);
      return [w, `${fmtRatio(w)} [${fmtRatio(c)}]`];
    };
    const [rw, rwS] = r('tfjs-wasm', 'train'), [rc, rcS] = r('tfjs-cpu', 'train'), [iw, iwS] = r('tfjs-wasm', 'infer');
    L.push(`- LSTM ${shape} training: ${rwS} vs tfjs-wasm (≥ 3×) ${mark(rw === null ? null : rw >= 3)}, ` +
      `${rcS} vs tfjs-cpu (≥ 15×) ${mark(rc === null ? null : rc >= 15)}; inference ${iwS} vs tfjs-wasm (> 1×) ${mark(iw === null ? null : iw > 1)}`);
  }
  const st = get('lstm', 'STREAM')?.results.bptt;
  if (st) L.push(`- STREAM one-window latency: ${fmtMs(st.infer.median)} ms [CPU ${fmtMs(st.inferCpu.median)} ms] (≤ 2 ms) ${mark(st.infer.median <= 2)}`);
  const lr = get('lstm', 'L')?.results.bptt;
  if (lr) L.push(`- Peak RSS at L: ${lr.peakRssMB.toFixed(0)} MB (< 200 MB) ${mark(lr.peakRssMB < 200)}`);
  if (matmulRows) {
    const big = matmulRows.filter((m) => m.M === 256 && m.dtype === 'float32');
    L.push(`- Matmul at 256³ (float32): ${big.map((m) => `${m.op} ${m.gflops.toFixed(2)}`).join(', ')} GFLOP/s (≥ 3) ${mark(big.every((m) => m.gflops >= 3))}`);
  }
  for (const cell of ['gru', 'rnn'] as const) {
    const o = get(cell, 'M'), l = get('lstm', 'M');
    if (!o || !l) continue;
    L.push(`- ${cell.toUpperCase()} M training vs tfjs-cpu / tfjs-wasm: ${fmtRatio(ratio(o.results.bptt, o.results['tfjs-cpu'], 'train'))} / ` +
      `${fmtRatio(ratio(o.results.bptt, o.results['tfjs-wasm'], 'train'))} (LSTM M: ${fmtRatio(ratio(l.results.bptt, l.results['tfjs-cpu'], 'train'))} / ` +
      `${fmtRatio(ratio(l.results.bptt, l.results['tfjs-wasm'], 'train'))})`);
  }
  L.push('', '## Notes', '');
  L.push('- Timed runs: 7 per task, after a warm-up of at least 2 runs and 1.5 s (at most 30 runs; the JavaScript engines need the JIT ' +
    'to have compiled their loops), except tfjs-cpu at L (3 timed runs after 1 warm-up run: one step takes 20–35 s, 7 would take the ' +
    'whole benchmark past 15 minutes). STREAM inference takes 25 timed runs (a millisecond-scale figure). ' +
    'Wall-clock time (process.hrtime / time.perf_counter) of one whole call: bptt `fit` on one batch and `predict`; tfjs `trainOnBatch` ' +
    'and `predict` + `dataSync`; PyTorch zero_grad + forward + backward + Adam step, and a no_grad forward.');
  L.push('- Same weights everywhere: bptt\'s initial weights (seed 1) are copied into each framework (TensorFlow.js: `setWeights` in Keras ' +
    'order; PyTorch: transposed into weight_ih / weight_hh), and every framework\'s loss on the same data must match bptt\'s to 1e-4 ' +
    'relative before its figures count. recurrentActivation is sigmoid everywhere (TensorFlow.js defaults to hardSigmoid).');
  L.push('- GRU: TensorFlow.js only has the reset-before variant (Keras resetAfter=false), so bptt\'s GRU row uses resetAfter=false; PyTorch only ' +
    'has reset-after, so its GRU row runs a bptt resetAfter=true model\'s weights (same FLOPs) and is checked against that model\'s loss.');
  const skipped = outcomes.map((o) => `${o.row.cell.toUpperCase()} ${o.row.shape} ${(100 * bpttSkippedShare(o.row.cell, SHAPES[o.row.shape])).toFixed(0)}%`);
  L.push('- bptt runs the decoder on the repeated encoder state as such (Sequential fuses RepeatVector → recurrent layer; the cells\' ' +
    '`xRepeated` mode): the decoder\'s input projection x·W, and in backward its dW and dx, are computed once per sequence instead of ' +
    'once per step. Same model, same outputs (checked above: loss and checksum); fewer FLOPs executed. The GFLOP/s columns count the ' +
    `issue's formula for every engine, so bptt's figures are effective rates; the share of the formula it skips: ${skipped.join(', ')}.`);
  for (const n of notes) L.push(`- ${n}`);
  if (python === null) L.push(`- PyTorch skipped: ${pyWhy}.`);
  L.push('');
  return L.join('\n');
}

function main(): void {
  const started = new Date();
  const t0 = Date.now();
  const shapes = (arg('shapes') ?? 'S,M,L,STREAM').split(',') as ShapeName[];
  const cells = (arg('cells') ?? 'lstm,gru,rnn').split(',') as Cell[];
  const frameworks = (arg('frameworks') ?? FRAMEWORKS.join(',')).split(',') as Framework[];
  const runs = Number(arg('runs') ?? 7);
  const outDir = path.resolve(arg('out') ?? path.resolve(__dirname, '../../bench/results'));
  const machine = describeMachine();
  log(`bptt benchmark — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load ${machine.loadAverage.join(' ')}`);
  const { python, why: pyWhy } = frameworks.includes('pytorch') ? findPython() : { python: null, why: 'not requested' };
  if (frameworks.includes('pytorch') && python === null) log(`PyTorch: skipped — ${pyWhy}`);

  let matmulRows: MatmulRow[] | null = null;
  if (!process.argv.includes('--no-matmul')) {
    const p = spawnSync(process.execPath, [path.join(__dirname, 'matmul.js'), '--json'], { encoding: 'utf8' });
    matmulRows = p.status === 0 ? parseResult(p.stdout) as MatmulRow[] : null;
    if (matmulRows) for (const m of matmulRows) log(`matmul ${m.op} ${m.dtype} ${m.M}×${m.K}×${m.N}: ${m.gflops.toFixed(2)} GFLOP/s`);
    else log(`matmul benchmark failed: ${p.stderr}`);
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-bench-'));
  const outcomes: Outcome[] = [];
  try {
    for (const row of ROWS) {
      if (!shapes.includes(row.shape) || !cells.includes(row.cell)) continue;
      log(`${row.cell.toUpperCase()} ${row.shape} [elapsed ${((Date.now() - t0) / 1000).toFixed(0)}s]`);
      const file = path.join(tmp, `${row.cell}-${row.shape}.safetensors`);
      writeData(file, row);
      const o: Outcome = { row, results: {}, skipped: {} };
      for (const fw of frameworks) {
        if (fw === 'pytorch' && python === null) { o.skipped[fw] = pyWhy; continue; }
        const { r, why } = runChild(fw, row, file, runs, python);
        if (r) o.results[fw] = r; else o.skipped[fw] = why;
        if (r && !r.lossOk) log(`  WARNING ${fw}: loss ${r.loss} differs from bptt's by ${r.lossRelDiff.toExponential(2)} (relative)`);
      }
      outcomes.push(o);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const seconds = (Date.now() - t0) / 1000;
  const loadAfter = os.loadavg().map((v) => Math.round(v * 100) / 100);
  const md = markdown(machine, outcomes, matmulRows, python, pyWhy, started, seconds, loadAfter);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'speed.md'), md);
  fs.writeFileSync(path.join(outDir, 'speed.json'), `${JSON.stringify({
    startedAt: started.toISOString(), seconds, machine, loadAfter, shapes: SHAPES,
    flops: Object.fromEntries(outcomes.map((o) => [`${o.row.cell}-${o.row.shape}`, {
      forward: forwardFlops(o.row.cell, SHAPES[o.row.shape]), train: trainFlops(o.row.cell, SHAPES[o.row.shape]),
    }])),
    python, pytorchSkipped: python === null ? pyWhy : null, matmul: matmulRows, rows: outcomes,
  }, null, 2)}\n`);
  process.stdout.write(`${md}\n`);
  log(`wrote ${path.join(outDir, 'speed.md')} and speed.json in ${seconds.toFixed(0)} s`);
}

main();

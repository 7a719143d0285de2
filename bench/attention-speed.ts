/**
 * How fast does bptt train the attention autoencoder ('lstm-attn-ae') against PyTorch, at one shape? A short run.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/attention-speed.js [--runs=7] [--out=bench/results]
 *
 * Shape: batch 32 windows of 32 steps, 1 feature, 32 units, 32 attention units (additive score). bptt builds
 * attentionAutoencoder (float32, one thread) twice from the same seed, on the 'wasm' backend (the default where
 * WebAssembly SIMD validates: the AttentionDecoder's fast twin kernels/fast/attention.ts on its arena) and on 'js' (the
 * same twin over matmul.ts), writes the initial weights and the input to a temporary JSON file, and
 * bench/torch_attention.py (python3 on PATH if it has torch, else /usr/bin/python3) builds the same model in PyTorch
 * autograd from them: the js and wasm models and PyTorch compute the loss of the untrained model first and must agree
 * within 1e-4 relative before anything is timed. Each then times a training step (forward + backward + Adam on the
 * whole batch) after a warm-up: median of --runs.
 * A second table times the decoder kernels alone at the same shape (B 32, Te = Td = 32, E = H = A = 32, float32;
 * forward + backward): the reference kernels/attention.ts (what the layer ran before the fast twin) against the fast
 * twin on js and on wasm, in the same process, after checking that their outputs agree. The load average (1 min) at the
 * start and at the end is recorded: the machine may be shared. Results: bench/results/attention-speed.{json,md}.
 */
import '../lib/node/install';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setBackend } from '../lib/backend';
import * as ref from '../kernels/attention';
import * as fast from '../kernels/fast/attention';
import { WasmArena, wasmSimdAvailable } from '../kernels/wasm/arena';
import { attentionAutoencoder } from '../lib/model/presets';
import { writeFileAtomicSync } from '../lib/node/atomic';
import { stats, type Stats } from './speed-common';

const B = 32,
  T = 32,
  D = 1,
  H = 32,
  A = 32;

function arg(name: string): string | undefined {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 3);
}

function python(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

function main(): void {
  const runs = Number(arg('runs') ?? 7),
    warmup = 2;
  const outDir = arg('out') ?? path.join('bench', 'results');
  const load0 = os.loadavg()[0];
  const wasm = wasmSimdAvailable();
  const x = new Float32Array(B * T * D);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) x[b * T + t] = Math.sin((b + t) / 3) + 0.3 * Math.sin((7 * b + t) / 5);
  const xt = { data: x, shape: [B, T, D] };
  const build = (backend: 'js' | 'wasm') => {
    setBackend(backend); // read when the layers build their buffers (the evaluate below)
    const m = attentionAutoencoder({ window: T, features: D, units: H, attentionUnits: A, seed: 1 });
    return { model: m, loss: m.evaluate(xt, xt, { batchSize: B, workers: 1 }) };
  };
  const onJs = build('js');
  const onWasm = wasm ? build('wasm') : null;
  const loss = onJs.loss;
  if (onWasm !== null && !(Math.abs(onWasm.loss - loss) <= 1e-4 * Math.abs(loss)))
    throw new Error(`the wasm model computes loss ${onWasm.loss}, the js one ${loss}: not the same model`);
  const file = path.join(os.tmpdir(), `bptt-attention-speed-${process.pid}.json`);
  const weights = onJs.model.weights().map((w) => ({ name: w.name, shape: w.shape, data: Array.from(w.value) }));
  fs.writeFileSync(file, JSON.stringify({ B, T, D, H, A, x: Array.from(x), weights, loss }));

  // bptt: a training step is fit over one batch of B windows.
  const fitOptions = { epochs: 1, batchSize: B, shuffle: false, workers: 1 } as const;
  const timeFit = (model: typeof onJs.model): { stats: Stats; last: number } => {
    const samples: number[] = [];
    let last = 0;
    for (let i = 0; i < warmup; i++) last = model.fit(xt, xt, fitOptions).loss[0];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      last = model.fit(xt, xt, fitOptions).loss[0];
      samples.push(performance.now() - t0);
    }
    return { stats: stats(samples), last };
  };
  const js = timeFit(onJs.model);
  const wasmFit = onWasm !== null ? timeFit(onWasm.model) : null;
  const last = js.last;
  const bptt: Stats = js.stats;
  const kernels = kernelTimes(runs, warmup, wasm);

  let torch: { detail: string; loss: number; lossOk: boolean; train: Stats } | { skipped: string };
  const py = python();
  if (py === null) torch = { skipped: 'no python3 with torch' };
  else {
    const r = spawnSync(py, [path.join('bench', 'torch_attention.py'), file, String(runs), String(warmup)], {
      encoding: 'utf8',
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    torch =
      line === undefined
        ? { skipped: `PyTorch failed: ${r.stderr.trim().split('\n').pop()}` }
        : JSON.parse(line.slice(7));
  }
  fs.rmSync(file, { force: true });
  if ('lossOk' in torch && !torch.lossOk)
    throw new Error(`PyTorch computes loss ${torch.loss} for the shared weights, bptt ${loss}: not the same model`);

  const load1 = os.loadavg()[0];
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  const vsTorch = (v: number): string => ('train' in torch ? (v / torch.train.median).toFixed(2) : '–');
  const ref0 = kernels.rows[0].stats.median;
  const md = [
    `# Attention autoencoder training step (lstm-attn-ae): bptt vs PyTorch`,
    '',
    `Batch ${B} × window ${T} × ${D} feature, ${H} units, additive attention (${A}); one thread; median of ${runs}; ` +
      `load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end (2 cores).`,
    `Loss of the shared untrained weights: bptt ${loss.toPrecision(7)}` +
      ('loss' in torch ? `, PyTorch ${torch.loss.toPrecision(7)}` : '') +
      ` (bptt's last step: ${last.toPrecision(5)}; the kernels are checked against PyTorch autograd in ` +
      'spec/kernels/attention-parity.spec.ts).',
    '',
    "| engine | training step | time / PyTorch's |",
    '| --- | --- | --- |',
    ...(wasmFit !== null
      ? [
          `| bptt (float32, wasm: the fast attention twin on its arena) | ${ms(wasmFit.stats.median)} | ` +
            `${vsTorch(wasmFit.stats.median)} |`,
        ]
      : []),
    `| bptt (float32, js: the fast attention twin over matmul.ts) | ${ms(bptt.median)} | ${vsTorch(bptt.median)} |`,
    'train' in torch ? `| ${torch.detail} | ${ms(torch.train.median)} | 1 |` : `| PyTorch | ${torch.skipped} | |`,
    '',
    `The decoder kernels alone (B ${B}, Te = Td = ${T}, E = H = A = ${H}, float32, forward + backward; the same ` +
      `process; outputs agree within ${kernels.maxRel.toExponential(1)} relative):`,
    '',
    "| kernel | forward + backward | time / reference's |",
    '| --- | --- | --- |',
    ...kernels.rows.map((r) => `| ${r.name} | ${ms(r.stats.median)} | ${(r.stats.median / ref0).toFixed(2)} |`),
    '',
  ].join('\n');
  fs.mkdirSync(outDir, { recursive: true });
  writeFileAtomicSync(
    path.join(outDir, 'attention-speed.json'),
    JSON.stringify(
      { B, T, D, H, A, loss, load: [load0, load1], bptt, bpttWasm: wasmFit?.stats ?? null, torch, kernels },
      null,
      1,
    ) + '\n',
  );
  writeFileAtomicSync(path.join(outDir, 'attention-speed.md'), md);
  process.stdout.write(md);
}

/**
 * The decoder kernels alone at the bench's shape: reference, fast twin on js, fast twin on wasm (if available). Each
 * run is a forward and a backward on the same seeded data; the outputs (s, dhEnc, dW) are compared with the
 * reference's first, and the worst relative difference is returned with the times.
 */
function kernelTimes(
  runs: number,
  warmup: number,
  wasm: boolean,
): { rows: { name: string; stats: Stats }[]; maxRel: number } {
  const Te = T,
    Td = T,
    E = H;
  const n = ref.attentionParamSizes('additive', 0, E, H, A);
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.8;
  const p = {} as ref.AttentionParams;
  for (const k of Object.keys(n) as (keyof ref.AttentionParams)[]) p[k] = Float32Array.from({ length: n[k] }, rnd);
  const hEnc = Float32Array.from({ length: Te * B * E }, rnd),
    dsSeq = Float32Array.from({ length: Td * B * H }, rnd),
    none = new Float32Array(0);
  const impls = [
    { name: 'reference kernels/attention.ts (js)', k: ref, arena: false },
    { name: 'fast twin kernels/fast/attention.ts, js', k: fast, arena: false },
    ...(wasm ? [{ name: 'fast twin kernels/fast/attention.ts, wasm', k: fast, arena: true }] : []),
  ];
  const rows: { name: string; stats: Stats }[] = [];
  let base: Float32Array[] | null = null,
    maxRel = 0;
  for (const impl of impls) {
    const opts = {
      score: 'additive' as const,
      units: A,
      ...(impl.arena ? { arena: new WasmArena({ initialBytes: 0 }) } : {}),
    };
    const ws = impl.k.attentionWorkspace(Te, Td, B, 0, E, H, Float32Array, opts);
    const g = {} as ref.AttentionGrads;
    for (const k of Object.keys(n) as (keyof ref.AttentionParams)[]) g[`d${k}`] = new Float32Array(n[k]);
    const dhEnc = new Float32Array(Te * B * E),
      ds0 = new Float32Array(B * H),
      dc0 = new Float32Array(B * H);
    const step = (): void => {
      for (const k of Object.keys(g) as (keyof ref.AttentionGrads)[]) g[k].fill(0);
      ws.s.fill(0, 0, B * H);
      ws.c.fill(0, 0, B * H);
      (impl.k.attentionForward as typeof ref.attentionForward)(ws as never, p, hEnc, none);
      (impl.k.attentionBackward as typeof ref.attentionBackward)(
        g,
        dhEnc,
        null,
        ds0,
        dc0,
        dsSeq,
        ws as never,
        p,
        hEnc,
        none,
      );
    };
    const samples: number[] = [];
    for (let i = 0; i < warmup; i++) step();
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      step();
      samples.push(performance.now() - t0);
    }
    const out = [Float32Array.from(ws.s), Float32Array.from(dhEnc), Float32Array.from(g.dW)];
    if (base === null) base = out;
    else
      out.forEach((arr, a) =>
        arr.forEach((v, i) => {
          const b = (base as Float32Array[])[a][i];
          maxRel = Math.max(maxRel, Math.abs(v - b) / Math.max(Math.abs(b), 1));
        }),
      );
    rows.push({ name: impl.name, stats: stats(samples) });
  }
  if (!(maxRel <= 1e-4)) throw new Error(`the attention kernels disagree: ${maxRel} relative`);
  return { rows, maxRel };
}

main();

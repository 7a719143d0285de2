/**
 * How fast does bptt train the attention autoencoder ('lstm-attn-ae') against PyTorch, at one shape? A short run.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/attention-speed.js [--runs=7] [--out=bench/results]
 *
 * Shape: batch 32 windows of 32 steps, 1 feature, 32 units, 32 attention units (additive score). bptt builds
 * attentionAutoencoder (float32, js backend, one thread), writes its initial weights and the input to a temporary JSON
 * file, and bench/torch_attention.py (python3 on PATH if it has torch, else /usr/bin/python3) builds the same model in
 * PyTorch autograd from them: both compute the loss of the untrained model first and must agree within 1e-4 relative
 * before anything is timed. Each then times a training step (forward + backward + Adam on the whole batch) after a
 * warm-up: median of --runs. Results: bench/results/attention-speed.{json,md}.
 */
import '../lib/node/install';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setBackend } from '../lib/backend';
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
  setBackend('js');
  const model = attentionAutoencoder({ window: T, features: D, units: H, attentionUnits: A, seed: 1 });
  const x = new Float32Array(B * T * D);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) x[b * T + t] = Math.sin((b + t) / 3) + 0.3 * Math.sin((7 * b + t) / 5);
  const xt = { data: x, shape: [B, T, D] };
  const loss = model.evaluate(xt, xt, { batchSize: B });
  const file = path.join(os.tmpdir(), `bptt-attention-speed-${process.pid}.json`);
  const weights = model.weights().map((w) => ({ name: w.name, shape: w.shape, data: Array.from(w.value) }));
  fs.writeFileSync(file, JSON.stringify({ B, T, D, H, A, x: Array.from(x), weights, loss }));

  // bptt: a training step is fit over one batch of B windows.
  const fitOptions = { epochs: 1, batchSize: B, shuffle: false, workers: 1 } as const;
  const samples: number[] = [];
  let last = 0;
  for (let i = 0; i < warmup; i++) last = model.fit(xt, xt, fitOptions).loss[0];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = model.fit(xt, xt, fitOptions).loss[0];
    samples.push(performance.now() - t0);
  }
  const bptt: Stats = stats(samples);

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

  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  const md = [
    `# Attention autoencoder training step (lstm-attn-ae): bptt vs PyTorch`,
    '',
    `Batch ${B} × window ${T} × ${D} feature, ${H} units, additive attention (${A}); one thread; median of ${runs}.`,
    `Loss of the shared untrained weights: bptt ${loss.toPrecision(7)}` +
      ('loss' in torch ? `, PyTorch ${torch.loss.toPrecision(7)}` : '') +
      ` (bptt's last step: ${last.toPrecision(5)}; the same kernel is checked against PyTorch autograd in spec/kernels/attention-parity.spec.ts).`,
    '',
    "| engine | training step | time / PyTorch's |",
    '| --- | --- | --- |',
    `| bptt (float32, js, reference attention kernel) | ${ms(bptt.median)} | ${'train' in torch ? (bptt.median / torch.train.median).toFixed(2) : '–'} |`,
    'train' in torch ? `| ${torch.detail} | ${ms(torch.train.median)} | 1 |` : `| PyTorch | ${torch.skipped} | |`,
    '',
  ].join('\n');
  fs.mkdirSync(outDir, { recursive: true });
  writeFileAtomicSync(
    path.join(outDir, 'attention-speed.json'),
    JSON.stringify({ B, T, D, H, A, loss, bptt, torch }, null, 1) + '\n',
  );
  writeFileAtomicSync(path.join(outDir, 'attention-speed.md'), md);
  process.stdout.write(md);
}

main();

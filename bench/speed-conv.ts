/**
 * `node dist/bench/speed-conv.js`: one training step (forward, backward, Adam) of SKAB's Conv-AE at one shape
 * (B 32, W 60, 8 features: Conv1D 32/16, kernel 7, stride 2, relu, mirrored by Conv1DTranspose, dropout 0) in bptt
 * (js path, float32), TensorFlow.js 4.22 (cpu backend) and PyTorch (one thread, when /usr/bin/python3 has torch).
 * TensorFlow.js has no Conv1DTranspose: its model runs Conv2DTranspose over [W, 1] (the same products). Each engine:
 * 2 warm-up steps, then the median of 7; the loss of the first step is printed as a checksum (the engines start from
 * their own random weights, so it only shows that work was done). Times are wall-clock on a shared machine.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'child_process';
import { convAutoencoder } from '../lib/model/presets';

const B = 32,
  W = 60,
  F = 8,
  RUNS = 7,
  WARM = 2;

function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function data(): Float32Array {
  return Float32Array.from({ length: B * W * F }, (_, i) => Math.sin(i / 7) + 0.1 * Math.cos(i / 3));
}

function bptt(): { ms: number; loss: number } {
  const m = convAutoencoder({ window: W, features: F, dropoutRate: 0, seed: 1 });
  const x = { data: data(), shape: [B, W, F] };
  const opts = { epochs: 1, batchSize: B, shuffle: false, optimizer: { name: 'adam', learningRate: 1e-3 } } as const;
  const times: number[] = [];
  let loss = NaN;
  for (let r = 0; r < WARM + RUNS; r++) {
    const t0 = process.hrtime.bigint();
    const h = m.fit(x, x, opts);
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r === 0) loss = h.loss[0];
    if (r >= WARM) times.push(dt);
  }
  return { ms: median(times), loss };
}

async function tfjs(): Promise<{ ms: number; loss: number }> {
  await tf.setBackend('cpu');
  tf.enableProdMode();
  const same = { kernelSize: 7, strides: 2, padding: 'same', activation: 'relu' } as const;
  const m = tf.sequential();
  m.add(tf.layers.conv1d({ filters: 32, ...same, inputShape: [W, F] }));
  m.add(tf.layers.conv1d({ filters: 16, ...same }));
  m.add(tf.layers.reshape({ targetShape: [W / 4, 1, 16] }));
  m.add(tf.layers.conv2dTranspose({ filters: 16, kernelSize: [7, 1], strides: [2, 1], padding: 'same', activation: 'relu' })); // prettier-ignore
  m.add(tf.layers.conv2dTranspose({ filters: 32, kernelSize: [7, 1], strides: [2, 1], padding: 'same', activation: 'relu' })); // prettier-ignore
  m.add(tf.layers.conv2dTranspose({ filters: F, kernelSize: [7, 1], padding: 'same' }));
  m.add(tf.layers.reshape({ targetShape: [W, F] }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
  const x = tf.tensor(data(), [B, W, F]);
  const times: number[] = [];
  let loss = NaN;
  for (let r = 0; r < WARM + RUNS; r++) {
    const t0 = process.hrtime.bigint();
    const l = (await m.trainOnBatch(x, x)) as number;
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r === 0) loss = l;
    if (r >= WARM) times.push(dt);
  }
  x.dispose();
  m.dispose();
  return { ms: median(times), loss };
}

const TORCH = `
import json, math, time, torch
from torch import nn
torch.set_num_threads(1); torch.manual_seed(1)
B, W, F = ${B}, ${W}, ${F}
def down(i, o): return nn.Conv1d(i, o, 7, stride=2, padding=3)
def up(i, o, s): return nn.ConvTranspose1d(i, o, 7, stride=s, padding=3, output_padding=s - 1)
m = nn.Sequential(down(F, 32), nn.ReLU(), down(32, 16), nn.ReLU(), up(16, 16, 2), nn.ReLU(), up(16, 32, 2), nn.ReLU(), up(32, F, 1))
i = torch.arange(B * W * F, dtype=torch.float32)
x = (torch.sin(i / 7) + 0.1 * torch.cos(i / 3)).reshape(B, W, F).permute(0, 2, 1).contiguous()
opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7)
times, loss0 = [], None
for r in range(${WARM + RUNS}):
    t0 = time.perf_counter()
    opt.zero_grad(); loss = nn.functional.mse_loss(m(x), x); loss.backward(); opt.step()
    dt = (time.perf_counter() - t0) * 1e3
    if r == 0: loss0 = float(loss)
    if r >= ${WARM}: times.append(dt)
times.sort()
print(json.dumps({'ms': times[len(times) // 2], 'loss': loss0}))
`;

function pytorch(): { ms: number; loss: number } | string {
  const r = spawnSync('/usr/bin/python3', ['-c', TORCH], { encoding: 'utf8' });
  if (r.status !== 0) return `skipped (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as { ms: number; loss: number };
}

async function main(): Promise<void> {
  // forward multiply-adds per window (conv: To·K·Ci·Co); a training step is about 3× the forward
  const macs = 30 * 7 * F * 32 + 15 * 7 * 32 * 16 + 15 * 7 * 16 * 16 + 30 * 7 * 16 * 32 + 60 * 7 * 32 * F;
  const gflop = (3 * 2 * macs * B) / 1e9;
  const rows: [string, { ms: number; loss: number } | string][] = [
    ['bptt (js, float32)', bptt()],
    ['TensorFlow.js 4.22 (cpu)', await tfjs()],
    ['PyTorch (1 thread)', pytorch()],
  ];
  const base = rows[0][1] as { ms: number };
  console.log(
    `Conv-AE training step, B ${B}, W ${W}, F ${F} (${gflop.toFixed(3)} GFLOP per step), median of ${RUNS}\n`,
  );
  console.log(
    '| engine | ms / step | GFLOP/s | speed vs bptt (bptt ms ÷ engine ms) | first loss |\n|---|---:|---:|---:|---:|',
  );
  for (const [name, r] of rows) {
    if (typeof r === 'string') console.log(`| ${name} | ${r} | | | |`);
    else
      console.log(
        `| ${name} | ${r.ms.toFixed(1)} | ${(gflop / (r.ms / 1e3)).toFixed(2)} | ${(base.ms / r.ms).toFixed(2)} | ${r.loss.toFixed(4)} |`,
      );
  }
}

void main();

/**
 * `npx tsc -p tsconfig.json && node dist/bench/speed-conv.js [--runs=7] [--rounds=3] [--tfjs=0] [--out=bench/results]`:
 * one training step (forward, backward, Adam) of SKAB's Conv-AE at one shape (B 32, W 60, 8 features: Conv1D 32/16,
 * kernel 7, stride 2, relu, mirrored by Conv1DTranspose, dropout 0), float32, one thread, in bptt on the default
 * backend (the convolutions' products on the WebAssembly SIMD GEMM where it is available), bptt on the js path
 * (matmul.ts), TensorFlow.js 4.22 (cpu backend; --tfjs=0 leaves it out: a step takes seconds there) and PyTorch (when
 * /usr/bin/python3 has torch). TensorFlow.js has no Conv1DTranspose: its model runs Conv2DTranspose over [W, 1] (the
 * same products).
 *
 * Before timing, the two bptt paths are checked against each other: the same seed gives the same weights, and the loss
 * of the untrained model must agree to 1e-5 relative (float32 rounding). bptt and PyTorch: 2 warm-up steps, then
 * --rounds rounds of --runs steps each, the engines in turn within a round (so a change of the machine's load biases
 * their ratio less); the table gives the median over all steps and each round's ratio. TensorFlow.js: 2 warm-up steps
 * and --runs steps after the rounds. The loss of the first step is printed as a checksum (the frameworks start from
 * their own random weights, so for them it only shows that work was done). Times are wall-clock; the load average is
 * printed with them, since the machine may be shared. Results: bench/results/speed-conv.{json,md}.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'child_process';
import { convAutoencoder } from '../lib/model/presets';
import { type Backend, getBackend, setBackend } from '../lib/backend';
import { writeFileAtomicSync } from '../lib/node/atomic';
import { stats, type Stats } from './speed-common';

const B = 32,
  W = 60,
  F = 8,
  WARM = 2;

function arg(name: string): string | undefined {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 3);
}

function count(name: string, dflt: number): number {
  const v = Number(arg(name) ?? dflt);
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`--${name}: expected a positive integer, got ${arg(name)}`);
  return v;
}

const RUNS = count('runs', 7),
  ROUNDS = count('rounds', 3);

interface Timing {
  stats: Stats;
  loss: number;
}

function data(): Float32Array {
  return Float32Array.from({ length: B * W * F }, (_, i) => Math.sin(i / 7) + 0.1 * Math.cos(i / 3));
}

const X = { data: data(), shape: [B, W, F] };

function model(backend: Backend): ReturnType<typeof convAutoencoder> {
  setBackend(backend); // read when a layer makes its buffers, on the model's first forward
  return convAutoencoder({ window: W, features: F, dropoutRate: 0, seed: 1 });
}

/** A bptt model on `backend`, warmed up: `step()` trains one step and returns its wall-clock ms. */
function bptt(backend: Backend): { step: () => number; loss: number } {
  const m = model(backend);
  const opts = {
    epochs: 1,
    batchSize: B,
    shuffle: false,
    workers: 1,
    optimizer: { name: 'adam', learningRate: 1e-3 },
  } as const;
  const loss = m.fit(X, X, opts).loss[0];
  for (let r = 1; r < WARM; r++) m.fit(X, X, opts);
  const step = (): number => {
    const t0 = process.hrtime.bigint();
    m.fit(X, X, opts);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  return { step, loss };
}

async function tfjs(): Promise<Timing> {
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
  return { stats: stats(times), loss };
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
print(json.dumps({'times': times, 'loss': loss0, 'version': torch.__version__}))
`;

function pytorch(): { times: number[]; loss: number; version: string } | string {
  const r = spawnSync('/usr/bin/python3', ['-c', TORCH], { encoding: 'utf8' });
  if (r.status !== 0) return `skipped (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as { times: number[]; loss: number; version: string };
}

/** The loss of the untrained model (seed 1) on each bptt path: they must agree to float32 rounding before timing. */
function checkPaths(paths: readonly Backend[]): number {
  const losses = paths.map((p) => model(p).evaluate(X, X, { batchSize: B, workers: 1 }));
  const ref = losses[losses.length - 1];
  for (let i = 0; i < paths.length; i++) {
    if (!(Math.abs(losses[i] - ref) <= 1e-5 * Math.abs(ref))) {
      throw new Error(
        `bptt ${paths[i]} gives loss ${losses[i]}, ${paths[paths.length - 1]} ${ref}: the paths disagree`,
      );
    }
  }
  return ref;
}

async function main(): Promise<void> {
  const outDir = arg('out') ?? path.join('bench', 'results');
  const withTfjs = arg('tfjs') !== '0';
  const backend = getBackend(); // the default: 'wasm' where WebAssembly SIMD validates, unless BPTT_BACKEND says 'js'
  const paths: Backend[] = backend === 'js' ? ['js'] : [backend, 'js'];
  const loss0 = checkPaths(paths);
  const load0 = os.loadavg();
  // forward multiply-adds per window (conv: To·K·Ci·Co); a training step is about 3× the forward
  const macs = 30 * 7 * F * 32 + 15 * 7 * 32 * 16 + 15 * 7 * 16 * 16 + 30 * 7 * 16 * 32 + 60 * 7 * 32 * F;
  const gflop = (3 * 2 * macs * B) / 1e9;
  // Rounds interleave the engines, so a change of the machine's load between engines biases the ratio less; the
  // ratio of each round (bptt's median ÷ PyTorch's, same round) is reported beside the pooled medians.
  const engines = paths.map((p) => ({ name: `bptt (${p}, float32)`, ...bptt(p), times: [] as number[] }));
  const torchTimes: number[] = [];
  const roundRatios: number[][] = paths.map(() => []);
  let torch: { loss: number; version: string } | string = 'not run';
  for (let round = 0; round < ROUNDS; round++) {
    const med = engines.map((e) => {
      const t = Array.from({ length: RUNS }, () => e.step());
      e.times.push(...t);
      return stats(t).median;
    });
    const r = pytorch();
    if (typeof r === 'string') {
      torch = r;
      break;
    }
    torch = r;
    torchTimes.push(...r.times);
    med.forEach((m, i) => roundRatios[i].push(m / stats(r.times).median));
  }
  setBackend(backend);
  const rows: [string, Timing | string][] = engines.map((e) => [e.name, { stats: stats(e.times), loss: e.loss }]);
  if (withTfjs) rows.push(['TensorFlow.js 4.22 (cpu)', await tfjs()]);
  rows.push(
    typeof torch === 'string'
      ? ['PyTorch (1 thread)', torch]
      : [`PyTorch ${torch.version} (1 thread)`, { stats: stats(torchTimes), loss: torch.loss }],
  );
  const load1 = os.loadavg();
  const ref = torchTimes.length > 0 ? stats(torchTimes) : null;
  const la = (l: number[]): string => l.map((v) => v.toFixed(2)).join(', ');
  const lines = [
    `# Conv-AE training step: bptt (${backend} backend by default) vs TensorFlow.js and PyTorch`,
    '',
    `B ${B}, W ${W}, F ${F} (${gflop.toFixed(3)} GFLOP per step), float32, one thread; bptt and PyTorch: ${ROUNDS} ` +
      `rounds × ${RUNS} steps after ${WARM} warm-up steps, the engines in turn${withTfjs ? `; TensorFlow.js: ${RUNS} steps` : ''}. ` +
      `Default backend: ${backend}. Loss of the untrained model (seed 1) on ${paths.join(' and ')}: ` +
      `${loss0.toPrecision(7)}, the same to 1e-5. Load average (1, 5, 15 min) before: ${la(load0)}; after: ${la(load1)} ` +
      `(${os.cpus().length} cores).`,
    '',
    ...engines.map(
      (e, i) =>
        `${e.name} ÷ PyTorch, the medians of each round: ` +
        (roundRatios[i].length > 0 ? roundRatios[i].map((r) => r.toFixed(2)).join(', ') : '–') +
        '.',
    ),
    '',
    "| engine | ms / step, median (min–max) | GFLOP/s | time / PyTorch's | min / PyTorch's min | first loss |",
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [name, r] of rows) {
    if (typeof r === 'string') lines.push(`| ${name} | ${r} | | | | |`);
    else {
      const s = r.stats;
      lines.push(
        `| ${name} | ${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)}) | ` +
          `${(gflop / (s.median / 1e3)).toFixed(2)} | ${ref === null ? '–' : (s.median / ref.median).toFixed(2)} | ` +
          `${ref === null ? '–' : (s.min / ref.min).toFixed(2)} | ` +
          `${r.loss.toFixed(4)} |`,
      );
    }
  }
  const md = lines.join('\n') + '\n';
  fs.mkdirSync(outDir, { recursive: true });
  const json = {
    B,
    W,
    F,
    gflop,
    runs: RUNS,
    rounds: ROUNDS,
    backend,
    loss0,
    loadAverage: { before: load0, after: load1 },
    roundRatios: Object.fromEntries(engines.map((e, i) => [e.name, roundRatios[i]])),
    rows,
  };
  writeFileAtomicSync(path.join(outDir, 'speed-conv.json'), JSON.stringify(json, null, 1) + '\n');
  writeFileAtomicSync(path.join(outDir, 'speed-conv.md'), md);
  process.stdout.write(md);
}

void main();

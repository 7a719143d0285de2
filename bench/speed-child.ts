/**
 * One engine's measurement of one (cell, shape), in its own process so that its peak RSS is its own.
 *
 *   node dist/bench/speed-child.js <bptt-js|bptt-wasm|bptt-wasm-w2|tfjs-cpu|tfjs-wasm> <lstm|gru|rnn> <S|M|L|STREAM>
 *                                  <data.safetensors> <trainRuns> <inferRuns> <warmup>
 *
 * The data file (written by bench/speed.ts) holds the input windows x [B, T, D], the model's initial weights w0, w1, … in
 * Keras order (kernel, recurrent_kernel, bias per recurrent layer; kernel, bias of the dense), and in its metadata the loss
 * bptt computes for them. This process builds the same autoencoder, loads those weights, checks that it computes the same
 * loss, then times batch inference (predict on the whole batch, outputs read back) and a training step (forward + BPTT +
 * Adam lr 1e-3 on the whole batch, MSE), after warm-up. It prints one line: RESULT {json} (see ChildResult).
 * Inference is timed before training so that its outputs come from the shared weights: their sum (the checksum) must agree
 * across engines.
 *
 * bptt's paths (BPTT_PATHS): setBackend(backend) before the model is built, and `workers` passed explicitly to fit and
 * predict. The options object is typed loosely so that this file compiles whether or not Sequential declares `workers`,
 * and fit's and predict's results are awaited so that either a synchronous or a Promise-returning API is measured whole.
 */
import '../lib/node/install';
import { setBackend, getBackend, wasmKernel } from '../lib/backend';
import { sequenceAutoencoder } from '../lib/model/presets';
import { readSafetensorsFileSync } from '../lib/io/safetensors';
import type { History } from '../lib/model/sequential';
import {
  BPTT_PATHS,
  type BpttPath,
  type Cell,
  type ChildResult,
  type Engine,
  RESULT_TAG,
  SHAPES,
  type ShapeName,
  type Stats,
  isBpttPath,
  peakRssMB,
  stats,
} from './speed-common';

interface Data {
  x: Float32Array;
  weights: { data: Float32Array; shape: number[] }[];
  refLoss: number;
}

function readData(file: string): Data {
  const f = readSafetensorsFileSync(file);
  const x = f.tensors.get('x');
  if (x === undefined) throw new Error(`${file}: no tensor x`);
  const weights: { data: Float32Array; shape: number[] }[] = [];
  for (let i = 0; f.tensors.has(`w${i}`); i++) {
    const w = f.tensors.get(`w${i}`)!;
    weights.push({ data: Float32Array.from(w.data), shape: w.shape });
  }
  return { x: Float32Array.from(x.data), weights, refLoss: Number(f.metadata['loss']) };
}

/** Warm-up: at least `warmup` runs and at least WARM_MS of running (so the JIT has compiled the hot code), at most WARM_MAX runs. */
const WARM_MS = 1500,
  WARM_MAX = 5000;

/**
 * Runs fn (warm-up, see WARM_MS), then `runs` timed times; returns the timed durations in ms (wall clock, and this process's CPU time, user + system,
 * which other processes on a shared machine do not inflate) and the last value fn returned.
 */
async function time<T>(
  fn: () => T | Promise<T>,
  warmup: number,
  runs: number,
): Promise<{ s: Stats; cpu: Stats; last: T }> {
  let last: T | undefined;
  const w0 = Date.now();
  for (let i = 0; i < WARM_MAX && (i < warmup || Date.now() - w0 < WARM_MS); i++) last = await fn();
  const samples: number[] = [],
    cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    last = await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  return { s: stats(samples), cpu: stats(cpu), last: last as T };
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

async function runBptt(
  path: BpttPath,
  cell: Cell,
  shape: ShapeName,
  d: Data,
  trainRuns: number,
  inferRuns: number,
  warmup: number,
): Promise<ChildResult> {
  const s = SHAPES[shape];
  const spec = BPTT_PATHS[path];
  setBackend(spec.backend); // throws (and this child reports why) when WebAssembly SIMD is missing
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
          ? { recurrentActivation: 'sigmoid', resetAfter: false }
          : { recurrentActivation: 'sigmoid' },
  });
  model.setWeights(d.weights.map((w) => w.data));
  const x = { data: d.x, shape: [s.batch, s.window, s.features] };
  // `workers` goes through loosely typed objects: see the header.
  const predictOptions: Record<string, unknown> = { batchSize: s.batch, workers: spec.workers };
  const loss = model.evaluate(x, x, { batchSize: s.batch, workers: spec.workers }); // the path's threads, as predict
  const fitOptions: Record<string, unknown> = { epochs: 1, batchSize: s.batch, shuffle: false, workers: spec.workers };
  type Out = ReturnType<typeof model.predict>;
  const predict = async (): Promise<ArrayLike<number>> => {
    const y: unknown = model.predict(x, predictOptions);
    return ((await y) as Out).data;
  };
  const fit = async (): Promise<number> => {
    const h: unknown = model.fit(x, x, fitOptions);
    return ((await h) as History).loss[0];
  };
  const infer = await time(predict, warmup, inferRuns);
  const checksum = sum(infer.last);
  const losses: number[] = [];
  const train =
    trainRuns > 0
      ? await time(
          async () => {
            const l = await fit();
            losses.push(l);
            return l;
          },
          warmup,
          trainRuns,
        )
      : null;
  const backend = getBackend();
  if (backend !== spec.backend)
    throw new Error(`${path}: the backend changed to ${backend} during the run (set ${spec.backend})`);
  if (spec.kernel !== undefined && wasmKernel() !== spec.kernel)
    throw new Error(`${path}: the wasm micro-kernel is ${wasmKernel()}, the path needs ${spec.kernel}`);
  const r = result(
    path,
    cell,
    shape,
    `bptt (TypeScript, ${model.dtype}, backend ${backend}${backend === 'wasm' ? `, micro-kernel ${wasmKernel()}` : ''}, workers ${spec.workers})`,
    loss,
    d.refLoss,
    losses,
    infer,
    train,
    warmup,
    checksum,
    '',
  );
  // The first step's loss is the forward on the shared weights, computed the path's way (sharded, for workers > 1).
  if (losses.length > 0) {
    r.fitLoss = losses[0];
    r.fitLossRelDiff = Math.abs(r.fitLoss - d.refLoss) / Math.max(Math.abs(d.refLoss), 1e-12);
    r.lossOk = r.lossOk && r.fitLossRelDiff <= 1e-4;
  }
  return r;
}

async function runTfjs(
  backend: 'cpu' | 'wasm',
  cell: Cell,
  shape: ShapeName,
  d: Data,
  trainRuns: number,
  inferRuns: number,
  warmup: number,
): Promise<ChildResult> {
  // Loaded here, not at the top, so that the bptt child never loads TensorFlow.js (its RSS stays its own).
  const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
  if (backend === 'wasm') require('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} did not start`);
  await tf.ready();
  const s = SHAPES[shape];
  const T = s.window,
    D = s.features,
    H = s.hidden;
  type TfLayer = Parameters<import('@tensorflow/tfjs').Sequential['add']>[0];
  const rec = (returnSequences: boolean, first: boolean): TfLayer => {
    const common = {
      units: H,
      returnSequences,
      kernelInitializer: 'zeros',
      recurrentInitializer: 'zeros',
      ...(first ? { inputShape: [T, D] } : {}),
    } as const;
    switch (cell) {
      case 'lstm':
        return tf.layers.lstm({ ...common, recurrentActivation: 'sigmoid' });
      case 'gru':
        return tf.layers.gru({ ...common, recurrentActivation: 'sigmoid' }); // tfjs: reset before the product only
      case 'rnn':
        return tf.layers.simpleRNN({ ...common });
    }
  };
  const model = tf.sequential();
  model.add(rec(false, true));
  model.add(tf.layers.repeatVector({ n: T }));
  model.add(rec(true, false));
  model.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: D, kernelInitializer: 'zeros' }) }));
  model.compile({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-7), loss: 'meanSquaredError' });
  const mine = model.getWeights();
  if (mine.length !== d.weights.length)
    throw new Error(`tfjs model has ${mine.length} weights, bptt ${d.weights.length}`);
  mine.forEach((w, i) => {
    const want = d.weights[i].shape;
    if (w.shape.join(',') !== want.join(',')) throw new Error(`weight ${i}: tfjs shape [${w.shape}] vs bptt [${want}]`);
  });
  model.setWeights(d.weights.map((w) => tf.tensor(w.data, w.shape)));
  const x = tf.tensor3d(d.x, [s.batch, T, D]);
  const loss = tf.tidy(
    () => tf.losses.meanSquaredError(x, model.predict(x) as import('@tensorflow/tfjs').Tensor).dataSync()[0],
  );
  const infer = await time(
    () => {
      const y = model.predict(x) as import('@tensorflow/tfjs').Tensor;
      const v = y.dataSync();
      y.dispose();
      return v;
    },
    warmup,
    inferRuns,
  );
  const checksum = sum(infer.last);
  const losses: number[] = [];
  const train =
    trainRuns > 0
      ? await time(
          async () => {
            const l = (await model.trainOnBatch(x, x)) as number;
            losses.push(l);
            return l;
          },
          warmup,
          trainRuns,
        )
      : null;
  const flags =
    backend === 'wasm'
      ? `, SIMD ${String(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'))}, threads ${String(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'))}`
      : '';
  return result(
    backend === 'cpu' ? 'tfjs-cpu' : 'tfjs-wasm',
    cell,
    shape,
    `@tensorflow/tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}${flags}`,
    loss,
    d.refLoss,
    losses,
    infer,
    train,
    warmup,
    checksum,
    '',
  );
}

function result(
  framework: Engine,
  cell: Cell,
  shape: ShapeName,
  detail: string,
  loss: number,
  refLoss: number,
  losses: number[],
  infer: { s: Stats; cpu: Stats },
  train: { s: Stats; cpu: Stats } | null,
  warmup: number,
  checksum: number,
  note: string,
): ChildResult {
  const lossRelDiff = Math.abs(loss - refLoss) / Math.max(Math.abs(refLoss), 1e-12);
  return {
    framework,
    cell,
    shape,
    detail,
    loss,
    lossRelDiff,
    lossOk: lossRelDiff <= 1e-4,
    lossAfterStep: losses.length > 1 ? losses[1] : null,
    infer: infer.s,
    train: train?.s ?? null,
    inferCpu: infer.cpu,
    trainCpu: train?.cpu ?? null,
    warmup: { infer: warmup, train: warmup },
    checksum,
    finalLoss: losses.length > 0 ? losses[losses.length - 1] : null,
    peakRssMB: peakRssMB(),
    note,
  };
}

async function main(): Promise<void> {
  const [engine, cell, shape, file, tr, inf, wu] = process.argv.slice(2);
  if (!engine || !cell || !shape || !file) {
    throw new Error(
      'usage: speed-child.js <bptt-js|bptt-wasm|bptt-wasm-w2|tfjs-cpu|tfjs-wasm> <lstm|gru|rnn> <S|M|L|STREAM> ' +
        '<data.safetensors> <trainRuns> <inferRuns> <warmup>',
    );
  }
  const d = readData(file);
  const args = [cell as Cell, shape as ShapeName, d, Number(tr ?? 7), Number(inf ?? 7), Number(wu ?? 2)] as const;
  const r = isBpttPath(engine)
    ? await runBptt(engine, ...args)
    : engine === 'tfjs-cpu'
      ? await runTfjs('cpu', ...args)
      : engine === 'tfjs-wasm'
        ? await runTfjs('wasm', ...args)
        : null;
  if (r === null) throw new Error(`unknown engine ${engine}`);
  // Exit explicitly once the line is written: a pool of worker threads kept alive by the library must not keep us running.
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(r)}\n`, () => process.exit(0));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

/**
 * Presets: thin functions that return a built `Sequential` for the model shapes the anomaly-detection literature uses.
 *
 *   sequenceAutoencoder   encoder stack → last state → RepeatVector(window) → decoder stack (mirrored) → per-step Dense(features)
 *                         (Malhotra et al. 2016, "LSTM-based encoder-decoder for multi-sensor anomaly detection")
 *   forecaster            recurrent stack → Dense(horizon·features): the next `horizon` steps, flattened (Telemanom's model,
 *                         Hundman et al. 2018, predicts the next values of a channel from a window of history)
 *   sequenceClassifier    recurrent stack → Dropout → Dense(1, sigmoid), binary cross-entropy
 *   denseAutoencoder      Flatten → Dense(relu) bottleneck stack → Dense(window·features) → Reshape([window, features])
 *   attentionAutoencoder  LSTM encoder (every step) → AttentionDecoder (Bahdanau or Luong attention over the encoder's
 *                         states) → per-step Dense(features)
 *   convAutoencoder       SKAB's Conv-AE: Conv1D ×2 (stride 2, relu, dropout) → Conv1DTranspose ×2 → Conv1DTranspose(features)
 *   tcnForecaster         causal Conv1D with dilations 1, 2, 4, … (relu) → Flatten → Dense(features): the next point
 */
import { Recurrent, type RecurrentOptions, type CellType } from './layers/recurrent.js';
import { dense, timeDistributed } from './layers/dense.js';
import { repeatVector, dropout, flatten, reshape } from './layers/shape.js';
import { conv1d, conv1dTranspose } from './layers/conv.js';
import { Sequential, type DType } from './sequential.js';
import { attentionDecoder, type AttentionDecoderOptions } from './layers/attention.js';
import type { AttentionScore } from '../../kernels/attention.js';
import { checkKeys, describeValue } from '../check.js';
import { ArgumentError } from '../errors.js';

const PRESET_KEYS = ['window', 'features', 'units', 'cell', 'seed', 'dtype', 'recurrent'] as const;
const RECURRENT_PASS_KEYS = [
  'activation',
  'recurrentActivation',
  'resetAfter',
  'dropout',
  'recurrentDropout',
  'unitForgetBias',
] as const;

/** Rejects unknown preset options, and recurrent options a preset sets itself. */
function checkPreset(o: object, fn: string, extra: readonly string[] = []): void {
  checkKeys(o, [...PRESET_KEYS, ...extra], fn);
  const r = (o as PresetOptions).recurrent;
  if (r !== undefined) checkKeys(r, RECURRENT_PASS_KEYS, `${fn}(recurrent)`);
}

/** A preset's recurrent cell: 'lstm', 'gru', or 'rnn' (alias 'simpleRNN'). */
export type CellName = 'lstm' | 'gru' | 'rnn' | 'simpleRNN';

/** Options of the recurrent presets ({@link sequenceAutoencoder} and the ones built on it). */
export interface PresetOptions {
  /** Time steps per window. */
  window: number;
  /** Features per step. Default 1. */
  features?: number;
  /** Hidden units per recurrent layer, outermost first. Default [64]. */
  units?: number | number[];
  /** Recurrent cell. Default 'lstm'. */
  cell?: CellName;
  /** Seed of the initial weights (and the default seed of fit). Default 0. */
  seed?: number | string;
  /** 'float32' (default) or 'float64'. */
  dtype?: DType;
  /** Options passed to every recurrent layer (activation, recurrentActivation, resetAfter, dropout). */
  recurrent?: Omit<RecurrentOptions, 'units' | 'returnSequences' | 'inputShape' | 'name' | 'stateful' | 'goBackwards'>;
}

function cellType(cell: CellName | undefined, fn: string): CellType {
  switch (cell ?? 'lstm') {
    case 'lstm':
      return 'LSTM';
    case 'gru':
      return 'GRU';
    case 'rnn':
    case 'simpleRNN':
      return 'SimpleRNN';
    default:
      throw new ArgumentError(`${fn}(cell)`, "'lstm', 'gru' or 'rnn'", describeValue(cell));
  }
}

function unitsList(u: number | number[] | undefined, fn: string): number[] {
  const list = u === undefined ? [64] : Array.isArray(u) ? u : [u];
  if (list.length === 0 || !list.every((n) => Number.isInteger(n) && n > 0)) {
    throw new ArgumentError(`${fn}(units)`, 'a positive integer or a non-empty list of them', describeValue(u));
  }
  return list.slice();
}

function dimsOf(o: PresetOptions, fn: string): { T: number; D: number } {
  const T = o.window,
    D = o.features ?? 1;
  if (!Number.isInteger(T) || T < 1) throw new ArgumentError(`${fn}(window)`, 'a positive integer', String(T));
  if (!Number.isInteger(D) || D < 1) throw new ArgumentError(`${fn}(features)`, 'a positive integer', String(D));
  return { T, D };
}

function modelOptions(o: PresetOptions): { seed?: number | string; dtype?: DType } {
  const m: { seed?: number | string; dtype?: DType } = {};
  if (o.seed !== undefined) m.seed = o.seed;
  if (o.dtype !== undefined) m.dtype = o.dtype;
  return m;
}

/**
 * Recurrent autoencoder of windows [window, features]: reconstructs its input. Train with fit(x, x).
 *
 * @param o - window, features, units (encoder sizes, outermost first; the decoder mirrors them), cell, seed, dtype.
 * @returns A built, compiled (loss 'mse') model.
 * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
 * @example
 * ```ts
 * import { sequenceAutoencoder } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = sequenceAutoencoder({ window: 8, features: 1, units: [6, 3], cell: 'gru', seed: 1 });
 * const windows = Array.from({ length: 32 }, (_, i) => Array.from({ length: 8 }, (_, t) => [Math.sin((i + t) / 3)]));
 * const optimizer = { name: 'adam', learningRate: 0.02 } as const;
 * const history = model.fit(windows, windows, { epochs: 5, batchSize: 8, optimizer });
 * assert.ok(history.loss[4] < history.loss[0]);
 * assert.deepEqual(model.predict(windows).shape, [32, 8, 1]);
 * ```
 */
export function sequenceAutoencoder(o: PresetOptions): Sequential {
  const fn = 'sequenceAutoencoder';
  checkPreset(o, fn);
  const { T, D } = dimsOf(o, fn);
  const cell = cellType(o.cell, fn),
    units = unitsList(o.units, fn);
  const m = new Sequential([], modelOptions(o));
  units.forEach((u, i) =>
    m.add(new Recurrent(cell, { ...o.recurrent, units: u, returnSequences: i < units.length - 1 })),
  );
  m.add(repeatVector({ n: T }));
  [...units].reverse().forEach((u) => m.add(new Recurrent(cell, { ...o.recurrent, units: u, returnSequences: true })));
  m.add(timeDistributed(dense({ units: D })));
  m.compile({ loss: 'mse' });
  return m.build([T, D]);
}

/**
 * {@link sequenceAutoencoder} with LSTM cells (Malhotra et al. 2016).
 *
 * @param o - window, features, units, seed, dtype, recurrent.
 * @returns A built, compiled (loss 'mse') model.
 * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
 * @example
 * ```ts
 * import { lstmAutoencoder } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = lstmAutoencoder({ window: 32, features: 1, units: [64, 32], seed: 1 });
 * assert.deepEqual(model.getInputShape(), [32, 1]);
 * assert.deepEqual(model.getOutputShape(), [32, 1]);
 * assert.deepEqual(
 *   model.layers.map((l) => l.className),
 *   ['LSTM', 'LSTM', 'RepeatVector', 'LSTM', 'LSTM', 'TimeDistributed'],
 * );
 * ```
 */
export function lstmAutoencoder(o: Omit<PresetOptions, 'cell'>): Sequential {
  return sequenceAutoencoder({ ...o, cell: 'lstm' });
}
/**
 * {@link sequenceAutoencoder} with GRU cells.
 *
 * @param o - window, features, units, seed, dtype, recurrent.
 * @returns A built, compiled (loss 'mse') model.
 * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
 * @example
 * ```ts
 * import { gruAutoencoder } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = gruAutoencoder({ window: 16, features: 2, units: 8 });
 * assert.deepEqual(model.getOutputShape(), [16, 2]);
 * ```
 */
export function gruAutoencoder(o: Omit<PresetOptions, 'cell'>): Sequential {
  return sequenceAutoencoder({ ...o, cell: 'gru' });
}
/**
 * {@link sequenceAutoencoder} with tanh RNN cells.
 *
 * @param o - window, features, units, seed, dtype, recurrent.
 * @returns A built, compiled (loss 'mse') model.
 * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
 * @example
 * ```ts
 * import { rnnAutoencoder } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = rnnAutoencoder({ window: 16, units: 4 });
 * assert.equal(model.layers[0].className, 'SimpleRNN');
 * ```
 */
export function rnnAutoencoder(o: Omit<PresetOptions, 'cell'>): Sequential {
  return sequenceAutoencoder({ ...o, cell: 'rnn' });
}

/** Options of {@link forecaster}. */
export interface ForecasterOptions extends PresetOptions {
  /** Steps ahead to predict. Default 1. */
  horizon?: number;
  /** Features predicted per step. Default: all input features. */
  outputFeatures?: number;
}

/**
 * Predicts the next `horizon` steps ([horizon · outputFeatures], step-major) from a window [window, features].
 *
 * @param o - window, features, units, cell, horizon, outputFeatures, seed, dtype.
 * @returns A built, compiled (loss 'mse') model.
 * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
 * @example
 * ```ts
 * import { forecaster } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // Learn the next value of a sine wave from the 10 before it.
 * const series = Array.from({ length: 120 }, (_, i) => Math.sin(i / 4));
 * const x = Array.from({ length: 100 }, (_, i) => series.slice(i, i + 10).map((v) => [v]));
 * const y = Array.from({ length: 100 }, (_, i) => [series[i + 10]]);
 * const model = forecaster({ window: 10, features: 1, units: 16, seed: 1 });
 * const history = model.fit(x, y, { epochs: 20, batchSize: 16, optimizer: { name: 'adam', learningRate: 0.01 } });
 * assert.ok(history.loss[19] < 0.1 * history.loss[0]);
 * ```
 */
export function forecaster(o: ForecasterOptions): Sequential {
  const fn = 'forecaster';
  checkPreset(o, fn, ['horizon', 'outputFeatures']);
  const { T, D } = dimsOf(o, fn);
  const cell = cellType(o.cell, fn),
    units = unitsList(o.units, fn);
  const horizon = o.horizon ?? 1,
    out = o.outputFeatures ?? D;
  if (!Number.isInteger(horizon) || horizon < 1)
    throw new ArgumentError(`${fn}(horizon)`, 'a positive integer', String(horizon));
  if (!Number.isInteger(out) || out < 1)
    throw new ArgumentError(`${fn}(outputFeatures)`, 'a positive integer', String(out));
  const m = new Sequential([], modelOptions(o));
  units.forEach((u, i) =>
    m.add(new Recurrent(cell, { ...o.recurrent, units: u, returnSequences: i < units.length - 1 })),
  );
  m.add(dense({ units: horizon * out }));
  m.compile({ loss: 'mse' });
  return m.build([T, D]);
}

/** Options of {@link sequenceClassifier}. */
export interface ClassifierOptions extends PresetOptions {
  /** Dropout rate before the output layer. Default 0.2. */
  dropoutRate?: number;
}

/**
 * Binary sequence classifier: P(class 1 | window). Train with fit(x, labels [N, 1]).
 *
 * @param o - window, features, units, cell, dropoutRate, seed, dtype.
 * @returns A built model compiled with loss 'binaryCrossentropy'; its output is a probability per window.
 * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
 * @example
 * ```ts
 * import { sequenceClassifier } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // Rising windows are class 1, falling ones class 0.
 * const x = Array.from({ length: 64 }, (_, i) => Array.from({ length: 6 }, (_, t) => [(i % 2 ? t : -t) / 6]));
 * const y = x.map((_, i) => [i % 2]);
 * const model = sequenceClassifier({ window: 6, units: 8, seed: 2 });
 * model.fit(x, y, { epochs: 30, batchSize: 16, optimizer: { name: 'adam', learningRate: 0.02 } });
 * const p = model.predict(x.slice(0, 2)).data; // [falling, rising]
 * assert.ok(p[0] < 0.5 && p[1] > 0.5);
 * ```
 */
export function sequenceClassifier(o: ClassifierOptions): Sequential {
  const fn = 'sequenceClassifier';
  checkPreset(o, fn, ['dropoutRate']);
  const { T, D } = dimsOf(o, fn);
  const cell = cellType(o.cell, fn),
    units = unitsList(o.units, fn);
  const m = new Sequential([], modelOptions(o));
  units.forEach((u, i) =>
    m.add(new Recurrent(cell, { ...o.recurrent, units: u, returnSequences: i < units.length - 1 })),
  );
  m.add(dropout({ rate: o.dropoutRate ?? 0.2 }));
  m.add(dense({ units: 1, activation: 'sigmoid' }));
  m.compile({ loss: 'binaryCrossentropy' });
  return m.build([T, D]);
}

/** Options of {@link denseAutoencoder}. */
export interface DenseAutoencoderOptions {
  /** Time steps per window. */
  window: number;
  /** Features per step. Default 1. */
  features?: number;
  /** Hidden layer sizes of the encoder, outermost first; the decoder mirrors them. Default [32, 8]. */
  units?: number | number[];
  /** Seed of the initial weights. Default 0. */
  seed?: number | string;
  /** 'float32' (default) or 'float64'. */
  dtype?: DType;
}

/**
 * Non-recurrent baseline: a dense autoencoder of flattened windows. Train with fit(x, x).
 *
 * @param o - window, features, units (encoder sizes; the decoder mirrors them), seed, dtype.
 * @returns A built, compiled (loss 'mse') model.
 * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
 * @example
 * ```ts
 * import { denseAutoencoder } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = denseAutoencoder({ window: 10, features: 2, units: [8, 2] });
 * assert.deepEqual(
 *   model.layers.map((l) => l.className),
 *   ['Flatten', 'Dense', 'Dense', 'Dense', 'Dense', 'Reshape'],
 * );
 * assert.deepEqual(model.getOutputShape(), [10, 2]);
 * ```
 */
export function denseAutoencoder(o: DenseAutoencoderOptions): Sequential {
  const fn = 'denseAutoencoder';
  checkKeys(o, ['window', 'features', 'units', 'seed', 'dtype'], fn);
  const { T, D } = dimsOf(o, fn);
  const units = unitsList(o.units ?? [32, 8], fn);
  const m = new Sequential([], modelOptions(o));
  m.add(flatten());
  units.forEach((u) => m.add(dense({ units: u, activation: 'relu' })));
  units
    .slice(0, -1)
    .reverse()
    .forEach((u) => m.add(dense({ units: u, activation: 'relu' })));
  m.add(dense({ units: T * D }));
  m.add(reshape({ targetShape: [T, D] }));
  m.compile({ loss: 'mse' });
  return m.build([T, D]);
}

/** Options of {@link attentionAutoencoder}. */
export interface AttentionAutoencoderOptions {
  /** Time steps per window. */
  window: number;
  /** Features per step. Default 1. */
  features?: number;
  /** Hidden units of the encoder LSTM layers, outermost first; the decoder has the last size. Default [64]. */
  units?: number | number[];
  /** The encoder's and the decoder's cell: 'lstm' (the only one). */
  cell?: 'lstm';
  /** The attention score: 'additive' (Bahdanau, default), 'dot' or 'general' (Luong). */
  score?: AttentionScore;
  /** The additive score's hidden size. Default: the decoder's units. */
  attentionUnits?: number;
  /** Seed of the initial weights (and the default seed of fit). Default 0. */
  seed?: number | string;
  /** 'float32' (default) or 'float64'. */
  dtype?: DType;
}

/**
 * Attention autoencoder of windows [window, features]: an LSTM encoder (every step's state) → an
 * {@link AttentionDecoder} that starts at the last encoder state and at each step attends over all encoder states,
 * consuming the context alone (see lib/model/layers/attention.ts for why) → per-step Dense(features). Reconstructs its
 * input; train with fit(x, x). The decoder's attention weights say which past steps each reconstructed step used.
 *
 * @param o - window, features, units, cell ('lstm'), score, attentionUnits, seed, dtype.
 * @returns A built, compiled (loss 'mse') model.
 * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
 * @example
 * ```ts
 * import { attentionAutoencoder } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = attentionAutoencoder({ window: 8, features: 1, units: 6, score: 'additive', seed: 1 });
 * assert.deepEqual(
 *   model.layers.map((l) => l.className),
 *   ['LSTM', 'AttentionDecoder', 'TimeDistributed'],
 * );
 * const windows = Array.from({ length: 32 }, (_, i) => Array.from({ length: 8 }, (_, t) => [Math.sin((i + t) / 3)]));
 * const history = model.fit(windows, windows, { epochs: 5, batchSize: 8, optimizer: { name: 'adam', learningRate: 0.02 } });
 * assert.ok(history.loss[4] < history.loss[0]);
 * assert.deepEqual(model.predict(windows).shape, [32, 8, 1]);
 * ```
 */
export function attentionAutoencoder(o: AttentionAutoencoderOptions): Sequential {
  const fn = 'attentionAutoencoder';
  checkKeys(o, ['window', 'features', 'units', 'cell', 'score', 'attentionUnits', 'seed', 'dtype'], fn);
  const { T, D } = dimsOf(o, fn);
  if (o.cell !== undefined && o.cell !== 'lstm')
    throw new ArgumentError(`${fn}(cell)`, "'lstm'", describeValue(o.cell));
  const units = unitsList(o.units, fn);
  const H = units[units.length - 1];
  const m = new Sequential([], modelOptions(o));
  units.forEach((u) => m.add(new Recurrent('LSTM', { units: u, returnSequences: true })));
  const dec: AttentionDecoderOptions = { units: H, initialState: 'encoder' };
  if (o.score !== undefined) dec.score = o.score;
  if (o.attentionUnits !== undefined) dec.attentionUnits = o.attentionUnits;
  m.add(attentionDecoder(dec));
  m.add(timeDistributed(dense({ units: D })));
  m.compile({ loss: 'mse' });
  return m.build([T, D]);
}

/** Options of {@link convAutoencoder}. */
export interface ConvAutoencoderOptions {
  /** Time steps per window; a multiple of 4 (two stride-2 steps down, two up). */
  window: number;
  /** Features per step. Default 1. */
  features?: number;
  /** Filters of the two encoder convolutions (the decoder mirrors them). Default [32, 16] (SKAB's Conv-AE). */
  units?: number | number[];
  /** Kernel size of every convolution. Default 7. */
  kernelSize?: number;
  /** Dropout after the first encoder and the first decoder convolution. Default 0.2. */
  dropoutRate?: number;
  /** Seed of the initial weights. Default 0. */
  seed?: number | string;
  /** 'float32' (default) or 'float64'. */
  dtype?: DType;
}

/**
 * Convolutional autoencoder of windows, SKAB's Conv-AE: Conv1D(u₀, K, stride 2, relu) → Dropout → Conv1D(u₁, K,
 * stride 2, relu) → Conv1DTranspose(u₁, K, stride 2, relu) → Dropout → Conv1DTranspose(u₀, K, stride 2, relu) →
 * Conv1DTranspose(features, K), all padding 'same'. The last layer reconstructs every feature; SKAB's published model
 * ends in 1 filter broadcast against the features. Train with fit(x, x).
 *
 * @param o - window (a multiple of 4), features, units ([u₀, u₁]), kernelSize, dropoutRate, seed, dtype.
 * @returns A built, compiled (loss 'mse') model.
 * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
 * @example
 * ```ts
 * import { convAutoencoder } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = convAutoencoder({ window: 60, features: 8 });
 * assert.deepEqual(
 *   model.layers.map((l) => l.outputShape),
 *   [[30, 32], [30, 32], [15, 16], [30, 16], [30, 16], [60, 32], [60, 8]],
 * );
 * ```
 */
export function convAutoencoder(o: ConvAutoencoderOptions): Sequential {
  const fn = 'convAutoencoder';
  checkKeys(o, ['window', 'features', 'units', 'kernelSize', 'dropoutRate', 'seed', 'dtype'], fn);
  const { T, D } = dimsOf(o, fn);
  if (T % 4 !== 0) {
    throw new ArgumentError(`${fn}(window)`, 'a multiple of 4 (two stride-2 convolutions and back)', String(T));
  }
  const units = unitsList(o.units ?? [32, 16], fn);
  if (units.length !== 2) throw new ArgumentError(`${fn}(units)`, 'two filter counts [u0, u1]', describeValue(o.units));
  const K = o.kernelSize ?? 7;
  if (!Number.isInteger(K) || K < 1) throw new ArgumentError(`${fn}(kernelSize)`, 'a positive integer', String(K));
  const rate = o.dropoutRate ?? 0.2;
  const [u0, u1] = units;
  const same = { kernelSize: K, padding: 'same', strides: 2, activation: 'relu' } as const;
  const m = new Sequential(
    [
      conv1d({ filters: u0, ...same }),
      dropout({ rate }),
      conv1d({ filters: u1, ...same }),
      conv1dTranspose({ filters: u1, ...same }),
      dropout({ rate }),
      conv1dTranspose({ filters: u0, ...same }),
      conv1dTranspose({ filters: D, kernelSize: K, padding: 'same' }),
    ],
    modelOptions(o),
  );
  m.compile({ loss: 'mse' });
  return m.build([T, D]);
}

/** Options of {@link tcnForecaster}. */
export interface TcnForecasterOptions {
  /** Time steps per window. */
  window: number;
  /** Features per step. Default 1. */
  features?: number;
  /** Filters of each causal convolution; layer i has dilation 2^i. Default [32, 32, 32, 32]. */
  units?: number | number[];
  /** Kernel size of the causal convolutions. Default 3. */
  kernelSize?: number;
  /** Seed of the initial weights. Default 0. */
  seed?: number | string;
  /** 'float32' (default) or 'float64'. */
  dtype?: DType;
}

/**
 * Temporal convolutional forecaster: causal Conv1D layers with dilations 1, 2, 4, … (relu), then Flatten → Dense(features):
 * the next point from a window. Receptive field of the last step 1 + (K−1)·(2^L − 1) (31 steps for the defaults).
 *
 * @param o - window, features, units (filters per layer), kernelSize, seed, dtype.
 * @returns A built, compiled (loss 'mse') model; output [features].
 * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
 * @example
 * ```ts
 * import { tcnForecaster } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = tcnForecaster({ window: 16, features: 2, units: [8, 8, 8] });
 * assert.deepEqual(model.layers.map((l) => l.getConfig()['dilationRate'] ?? '-'), [1, 2, 4, '-', '-']);
 * assert.deepEqual(model.getOutputShape(), [2]);
 * ```
 */
export function tcnForecaster(o: TcnForecasterOptions): Sequential {
  const fn = 'tcnForecaster';
  checkKeys(o, ['window', 'features', 'units', 'kernelSize', 'seed', 'dtype'], fn);
  const { T, D } = dimsOf(o, fn);
  const units = unitsList(o.units ?? [32, 32, 32, 32], fn);
  if (units.length > 16) throw new ArgumentError(`${fn}(units)`, 'at most 16 layers', String(units.length));
  const K = o.kernelSize ?? 3;
  if (!Number.isInteger(K) || K < 1) throw new ArgumentError(`${fn}(kernelSize)`, 'a positive integer', String(K));
  const m = new Sequential([], modelOptions(o));
  units.forEach((u, i) =>
    m.add(conv1d({ filters: u, kernelSize: K, padding: 'causal', dilationRate: 2 ** i, activation: 'relu' })),
  );
  m.add(flatten());
  m.add(dense({ units: D }));
  m.compile({ loss: 'mse' });
  return m.build([T, D]);
}

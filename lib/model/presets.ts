/**
 * Presets: thin functions that return a built `Sequential` for the model shapes the anomaly-detection literature uses.
 *
 *   sequenceAutoencoder   encoder stack → last state → RepeatVector(window) → decoder stack (mirrored) → per-step Dense(features)
 *                         (Malhotra et al. 2016, "LSTM-based encoder-decoder for multi-sensor anomaly detection")
 *   forecaster            recurrent stack → Dense(horizon·features): the next `horizon` steps, flattened (Telemanom's model,
 *                         Hundman et al. 2018, predicts the next values of a channel from a window of history)
 *   sequenceClassifier    recurrent stack → Dropout → Dense(1, sigmoid), binary cross-entropy
 *   denseAutoencoder      Flatten → Dense(relu) bottleneck stack → Dense(window·features) → Reshape([window, features])
 */
import { Recurrent, type RecurrentOptions, type CellType } from './layers/recurrent.js';
import { dense, timeDistributed } from './layers/dense.js';
import { repeatVector, dropout, flatten, reshape } from './layers/shape.js';
import { Sequential, type DType } from './sequential.js';
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

export type CellName = 'lstm' | 'gru' | 'rnn' | 'simpleRNN';

export interface PresetOptions {
  /** Time steps per window. */
  window: number;
  /** Features per step. Default 1. */
  features?: number;
  /** Hidden units per recurrent layer, outermost first. Default [64]. */
  units?: number | number[];
  /** Recurrent cell. Default 'lstm'. */
  cell?: CellName;
  seed?: number | string;
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

/** Recurrent autoencoder of windows [window, features]: reconstructs its input. Train with fit(x, x). */
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

export function lstmAutoencoder(o: Omit<PresetOptions, 'cell'>): Sequential {
  return sequenceAutoencoder({ ...o, cell: 'lstm' });
}
export function gruAutoencoder(o: Omit<PresetOptions, 'cell'>): Sequential {
  return sequenceAutoencoder({ ...o, cell: 'gru' });
}
export function rnnAutoencoder(o: Omit<PresetOptions, 'cell'>): Sequential {
  return sequenceAutoencoder({ ...o, cell: 'rnn' });
}

export interface ForecasterOptions extends PresetOptions {
  /** Steps ahead to predict. Default 1. */
  horizon?: number;
  /** Features predicted per step. Default: all input features. */
  outputFeatures?: number;
}

/** Predicts the next `horizon` steps ([horizon · outputFeatures], step-major) from a window [window, features]. */
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

export interface ClassifierOptions extends PresetOptions {
  /** Dropout rate before the output layer. Default 0.2. */
  dropoutRate?: number;
}

/** Binary sequence classifier: P(class 1 | window). Train with fit(x, labels [N, 1]). */
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

export interface DenseAutoencoderOptions {
  window: number;
  features?: number;
  /** Hidden layer sizes of the encoder, outermost first; the decoder mirrors them. Default [32, 8]. */
  units?: number | number[];
  seed?: number | string;
  dtype?: DType;
}

/** Non-recurrent baseline: a dense autoencoder of flattened windows. Train with fit(x, x). */
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

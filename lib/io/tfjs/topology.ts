/**
 * TensorFlow.js model topology ↔ bptt layers: the Keras JSON of a Sequential read into bptt layer constructors (checked
 * key by key), bptt layers written as the configs tfjs-layers writes, the training config's loss both ways, and the
 * input shape. Weights are weights.ts; the two meet in artifacts.ts.
 *
 * Layers (Keras class → bptt, config keys snake_case; camelCase twins such as batchInputShape are accepted too):
 *   InputLayer        consumed for the input shape: batch_input_shape | batch_shape (Keras 3); must be first
 *   SimpleRNN/LSTM/GRU → simpleRNN/lstm/gru: units, activation, recurrent_activation (required for LSTM/GRU: TensorFlow.js
 *                     defaults it to hard_sigmoid, Keras 2 to sigmoid), return_sequences, go_backwards, stateful, dropout,
 *                     reset_after (GRU; when absent it is read off the bias shape: [2, 3H] true, [3H] false),
 *                     unit_forget_bias (LSTM; initialisation only). Rejected: use_bias false, return_state true,
 *                     recurrent_dropout ≠ 0, time_major true, any regularizer or constraint.
 *   Dense             → dense: units, activation, use_bias (false accepted)
 *   TimeDistributed   → timeDistributed(dense): layer must be a Dense
 *   Bidirectional     → bidirectional: layer, merge_mode 'concat' (the only mode; 'sum', 'mul', 'ave', null rejected),
 *                     backward_layer rejected
 *   RepeatVector (n), Flatten, Dropout (rate; noise_shape rejected), Reshape (target_shape)
 *   Conv1D            → conv1d: filters, kernel_size, strides, padding ('valid' | 'same' | 'causal'), dilation_rate
 *                     (n or [n]), activation, use_bias; data_format channels_last, groups 1. TensorFlow.js 4.22 runs
 *                     'valid' and 'same' only ('causal' is Keras'; bptt reads and writes it)
 *   Conv1DTranspose   → conv1dTranspose: as Conv1D, padding 'valid' | 'same', output_padding unset (Keras only: not
 *                     in TensorFlow.js 4.22)
 *   MaxPooling1D, AveragePooling1D → pool_size, strides (null: pool_size), padding 'valid' | 'same'
 *   UpSampling1D      → upSampling1d: size (Keras only: not in TensorFlow.js 4.22)
 *   Ignored because they cannot change what the loaded model computes: initialisers, seed, dtype (use options.dtype),
 *   unroll, implementation, use_cudnn, zero_output_for_mask, a later layer's batch_input_shape. Any other key, an
 *   unknown class, or a value bptt cannot honour is an error naming the layer and the key.
 *   Activations: tanh, sigmoid, hard_sigmoid (clip(0.2·x + 0.5, 0, 1), the TensorFlow.js and Keras 2 definition; a
 *   Keras 3 model's hard_sigmoid is relu6(x + 3)/6 and is rejected), relu, linear.
 */
import { activationCode, activationName } from '../../../kernels/activations.js';
import { ADAM_DEFAULTS } from '../../../kernels/optim.js';
import { Bidirectional } from '../../model/layers/bidirectional.js';
import { Dense, TimeDistributed } from '../../model/layers/dense.js';
import { type Layer, type Param } from '../../model/layers/layer.js';
import { type CellType, Recurrent, type RecurrentOptions } from '../../model/layers/recurrent.js';
import { Dropout, Flatten, RepeatVector, Reshape } from '../../model/layers/shape.js';
import {
  AveragePooling1D,
  Conv1D,
  type Conv1DOptions,
  Conv1DTranspose,
  MaxPooling1D,
  type Pooling1DOptions,
  UpSampling1D,
} from '../../model/layers/conv.js';
import { type LossName, lossName } from '../../model/losses.js';
import type { ModelSource } from '../model-view.js';
import { show } from '../show.js';
import { type Cfg, isObject, shapeStr, type TfjsArtifactsInput, type ToTfjsOptions } from './types.js';
import { ArgumentError, MemoryLimitError } from '../../errors.js';

// ---------------------------------------------------------------------------------------------------------------------
// Reading

function snakeKey(k: string): string {
  return k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** A layer config with snake_case keys, read key by key; `finish()` rejects whatever was not read. */
class Keys {
  private readonly cfg = new Map<string, unknown>();
  private readonly used = new Set<string>();

  constructor(
    raw: Cfg,
    readonly where: string,
  ) {
    for (const [k, v] of Object.entries(raw)) {
      const s = snakeKey(k);
      if (this.cfg.has(s)) throw ArgumentError.problem(where, `config has both ${s} and ${k}`);
      this.cfg.set(s, v);
    }
  }

  has(key: string): boolean {
    return this.cfg.get(key) !== undefined && this.cfg.get(key) !== null;
  }

  raw(key: string): unknown {
    this.used.add(key);
    return this.cfg.get(key);
  }

  fail(key: string, msg: string): never {
    throw ArgumentError.problem(this.where, `${key} ${msg}`);
  }

  int(key: string): number {
    const v = this.raw(key);
    if (!Number.isInteger(v) || (v as number) < 1) this.fail(key, `must be a positive integer, got ${show(v)}`);
    return v as number;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${show(v)}`);
    return v;
  }

  rate(key: string): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) this.fail(key, `must be a fraction in [0, 1), got ${show(v)}`);
    return v;
  }

  /** The key may be absent, null, or one of `ok`; anything else is not supported, for the reason given. */
  only(key: string, ok: readonly unknown[], why: string): void {
    const v = this.raw(key);
    if (v === undefined || v === null || ok.includes(v)) return;
    this.fail(key, `${show(v)} is not supported: ${why}`);
  }

  ignore(...keys: string[]): void {
    for (const k of keys) this.used.add(k);
  }

  finish(): void {
    for (const k of this.cfg.keys()) {
      if (!this.used.has(k)) {
        throw ArgumentError.problem(
          this.where,
          `unknown config key ${k} (${show(this.cfg.get(k))}); bptt does not know ` +
            'what it means, so it refuses to guess. Remove it from the config if it does not affect the forward pass',
        );
      }
    }
  }
}

export interface Context {
  /** Keras 3 redefined hard_sigmoid as relu6(x + 3) / 6. */
  keras3: boolean;
}

const TRAINING_ONLY = [
  'kernel_regularizer',
  'recurrent_regularizer',
  'bias_regularizer',
  'activity_regularizer',
  'kernel_constraint',
  'recurrent_constraint',
  'bias_constraint',
];

function activation(k: Keys, key: string, fallback: string | null, ctx: Context): string {
  const v = k.raw(key);
  if (v === undefined || v === null) {
    if (fallback === null) {
      k.fail(key, 'is missing; give it explicitly (TensorFlow.js defaults it to hard_sigmoid, Keras 2 to sigmoid)');
    }
    return fallback;
  }
  if (typeof v !== 'string') k.fail(key, `must be an activation name, got ${show(v)}`);
  let name: string;
  try {
    name = activationName(activationCode(v));
  } catch {
    return k.fail(key, `${show(v)} is not supported (bptt has tanh, sigmoid, hard_sigmoid, relu, linear)`);
  }
  if (name === 'hardSigmoid' && ctx.keras3) {
    k.fail(
      key,
      'hard_sigmoid of a Keras 3 model is relu6(x + 3) / 6; bptt implements the TensorFlow.js / Keras 2 ' +
        'hard_sigmoid clip(0.2·x + 0.5, 0, 1)',
    );
  }
  return name;
}

function shapeFrom(v: unknown, what: string, where: string): (number | null)[] {
  if (!Array.isArray(v) || v.length < 2 || !v.every((d) => d === null || (Number.isInteger(d) && d > 0))) {
    throw ArgumentError.problem(where, `${what} must be [batch, ...dims] of positive integers or null, got ${show(v)}`);
  }
  return (v as (number | null)[]).slice(1);
}

/** The keys every layer may carry: name, trainable, dtype, and the input-shape keys (read for the first layer only). */
function common(k: Keys, first: boolean): { name: string; inputShape: (number | null)[] | null } {
  const name = k.raw('name');
  if (typeof name !== 'string' || name === '') k.fail('name', `must be a non-empty string, got ${show(name)}`);
  k.only('trainable', [true], 'bptt has no frozen layers');
  k.ignore('dtype');
  let inputShape: (number | null)[] | null = null;
  for (const key of ['batch_input_shape', 'batch_shape']) {
    const v = k.raw(key);
    if (v !== undefined && v !== null && first) inputShape = shapeFrom(v, key, k.where);
  }
  const input = k.raw('input_shape');
  if (input !== undefined && input !== null && first && inputShape === null) {
    inputShape = shapeFrom([null, ...(Array.isArray(input) ? input : [input])], 'input_shape', k.where);
  }
  k.ignore('batch_size');
  return { name, inputShape };
}

function recurrentOptions(cell: CellType, k: Keys, ctx: Context): RecurrentOptions & { resetAfterKnown: boolean } {
  const o: RecurrentOptions & { resetAfterKnown: boolean } = { units: k.int('units'), resetAfterKnown: true };
  o.activation = activation(k, 'activation', 'tanh', ctx);
  if (cell !== 'SimpleRNN') o.recurrentActivation = activation(k, 'recurrent_activation', null, ctx);
  k.only('use_bias', [true], 'bptt recurrent layers always have a bias (a zero bias gives the same result)');
  o.returnSequences = k.bool('return_sequences', false);
  k.only('return_state', [false], 'bptt layers return their output only');
  o.goBackwards = k.bool('go_backwards', false);
  o.stateful = k.bool('stateful', false);
  o.dropout = k.rate('dropout');
  k.only('recurrent_dropout', [0], 'recurrent dropout is not implemented in bptt');
  k.only('time_major', [false], 'bptt reads batch-major input');
  if (cell === 'GRU') {
    const v = k.raw('reset_after');
    if (v === undefined || v === null) o.resetAfterKnown = false;
    else if (typeof v !== 'boolean') k.fail('reset_after', `must be true or false, got ${show(v)}`);
    else o.resetAfter = v;
  }
  if (cell === 'LSTM') o.unitForgetBias = k.bool('unit_forget_bias', true);
  for (const key of TRAINING_ONLY) k.only(key, [], 'bptt has no regularizers or constraints');
  k.ignore(
    'kernel_initializer',
    'recurrent_initializer',
    'bias_initializer',
    'unroll',
    'implementation',
    'seed',
    'use_cudnn',
    'zero_output_for_mask',
  );
  return o;
}

function denseOptions(k: Keys, ctx: Context): { units: number; activation: string; useBias: boolean } {
  const units = k.int('units');
  const act = activation(k, 'activation', 'linear', ctx);
  const useBias = k.bool('use_bias', true);
  for (const key of TRAINING_ONLY) k.only(key, [], 'bptt has no regularizers or constraints');
  k.only('lora_rank', [], 'LoRA layers are not supported');
  k.ignore('kernel_initializer', 'bias_initializer');
  return { units, activation: act, useBias };
}

/** A Keras 1-tuple ([7]) or a bare positive integer (TensorFlow.js writes either); `fallback` when absent or null. */
function int1(k: Keys, key: string, fallback: number | null): number {
  let v = k.raw(key);
  if ((v === undefined || v === null) && fallback !== null) return fallback;
  if (Array.isArray(v) && v.length === 1) v = v[0];
  if (!Number.isInteger(v) || (v as number) < 1) k.fail(key, `must be a positive integer or [n], got ${show(v)}`);
  return v as number;
}

function paddingOf<P extends string>(k: Keys, ok: readonly P[]): P {
  const v = k.raw('padding');
  if (v === undefined || v === null) return 'valid' as P;
  if (typeof v !== 'string' || !(ok as readonly string[]).includes(v)) {
    k.fail('padding', `must be one of ${ok.map((o) => `'${o}'`).join(', ')}, got ${show(v)}`);
  }
  return v as P;
}

function channelsLast(k: Keys): void {
  k.only('data_format', ['channels_last', 'channelsLast'], 'bptt data is channels-last');
}

function convOptions(k: Keys, ctx: Context, transpose: boolean): Conv1DOptions {
  const o: Conv1DOptions = {
    filters: k.int('filters'),
    kernelSize: int1(k, 'kernel_size', null),
    strides: int1(k, 'strides', 1),
    padding: paddingOf(k, transpose ? (['valid', 'same'] as const) : (['valid', 'same', 'causal'] as const)),
    dilationRate: int1(k, 'dilation_rate', 1),
    activation: activation(k, 'activation', 'linear', ctx),
    useBias: k.bool('use_bias', true),
  };
  channelsLast(k);
  k.only('groups', [1], 'grouped convolutions are not supported');
  if (transpose) k.only('output_padding', [], 'bptt infers the output length as Keras does without it');
  for (const key of TRAINING_ONLY) k.only(key, [], 'bptt has no regularizers or constraints');
  k.only('lora_rank', [], 'LoRA layers are not supported');
  k.ignore('kernel_initializer', 'bias_initializer');
  return o;
}

function poolOptions(k: Keys): Pooling1DOptions {
  const poolSize = int1(k, 'pool_size', 2);
  const o: Pooling1DOptions = {
    poolSize,
    strides: int1(k, 'strides', poolSize),
    padding: paddingOf(k, ['valid', 'same'] as const),
  };
  channelsLast(k);
  return o;
}

function inner(k: Keys): { className: string; config: Cfg } {
  const l = k.raw('layer');
  if (
    !isObject(l) ||
    (typeof l['class_name'] !== 'string' && typeof l['className'] !== 'string') ||
    !isObject(l['config'])
  ) {
    return k.fail('layer', `must be { class_name, config }, got ${show(l)}`);
  }
  return { className: (l['class_name'] ?? l['className']) as string, config: l['config'] };
}

/** Wraps a bptt constructor so its errors name the tfjs layer. */
export function make<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof MemoryLimitError) {
      e.message = `${where}: ${e.message}`;
      throw e;
    }
    throw ArgumentError.problem(where, (e as Error).message);
  }
}

/** A parsed layer: the bptt layer and, for a GRU whose reset_after was absent, the flag to fix from the bias shape. */
export interface Parsed {
  className: string;
  name: string;
  where: string;
  inputShape: (number | null)[] | null;
  /** Builds the bptt layer; `resetAfter` is the value inferred for a GRU whose config did not say (else null). */
  create: (resetAfter: boolean | null) => Layer;
  /** A GRU (bare or in a Bidirectional) without reset_after: infer it from the bias shape. */
  inferResetAfter: boolean;
}

export function parseLayer(entry: unknown, index: number, ctx: Context): Parsed | { inputLayer: (number | null)[] } {
  if (!isObject(entry))
    throw ArgumentError.problem('fromTfjs', `layers[${index}] must be { class_name, config }, got ${show(entry)}`);
  const className = entry['class_name'] ?? entry['className'];
  const raw = entry['config'];
  if (typeof className !== 'string' || !isObject(raw)) {
    throw ArgumentError.problem('fromTfjs', `layers[${index}] must be { class_name, config }, got ${show(entry)}`);
  }
  const label = typeof raw['name'] === 'string' ? `'${raw['name']}' ` : '';
  const where = `fromTfjs: layer ${index} ${label}(${className})`;
  const k = new Keys(raw, where);
  if (className === 'InputLayer') {
    k.ignore('name', 'dtype');
    k.only('sparse', [false], 'bptt reads dense input');
    k.only('ragged', [false], 'bptt reads dense input');
    const v = k.has('batch_input_shape') ? k.raw('batch_input_shape') : k.raw('batch_shape');
    k.ignore('batch_input_shape', 'batch_shape');
    k.finish();
    if (index !== 0) throw ArgumentError.problem(where, 'an InputLayer must come first');
    return { inputLayer: shapeFrom(v, 'batch_input_shape', where) };
  }
  // Keras 3 records the built input shape beside the config.
  const buildConfig = entry['build_config'];
  const first = index === 0;
  const c = common(k, first);
  let inputShape = c.inputShape;
  if (inputShape === null && first && isObject(buildConfig) && Array.isArray(buildConfig['input_shape'])) {
    inputShape = shapeFrom(buildConfig['input_shape'], 'build_config.input_shape', where);
  }
  // A wrapper first in the model may carry the input shape on its inner layer instead.
  const wrapped = raw['layer'];
  if (inputShape === null && first && isObject(wrapped) && isObject(wrapped['config'])) {
    const ic = wrapped['config'];
    const v = ic['batch_input_shape'] ?? ic['batchInputShape'] ?? ic['batch_shape'];
    if (v !== undefined && v !== null) inputShape = shapeFrom(v, 'layer.config.batch_input_shape', where);
  }
  const name = c.name;
  const base = { className, name, where, inputShape, inferResetAfter: false };
  switch (className) {
    case 'SimpleRNN':
    case 'LSTM':
    case 'GRU': {
      const o = recurrentOptions(className, k, ctx);
      k.finish();
      const { resetAfterKnown, ...opts } = o;
      return {
        ...base,
        inferResetAfter: !resetAfterKnown,
        create: (ra) =>
          make(where, () => new Recurrent(className, { ...opts, ...(ra !== null ? { resetAfter: ra } : {}), name })),
      };
    }
    case 'Bidirectional': {
      const l = inner(k);
      const mode = k.raw('merge_mode');
      if (mode !== undefined && mode !== 'concat') {
        k.fail('merge_mode', `${show(mode)} is not supported: bptt's Bidirectional concatenates ('concat')`);
      }
      k.only('backward_layer', [], 'bptt builds the backward copy itself from layer');
      k.only('num_constants', [], 'constants are not supported');
      k.finish();
      if (l.className !== 'SimpleRNN' && l.className !== 'LSTM' && l.className !== 'GRU') {
        throw ArgumentError.problem(where, `layer must be SimpleRNN, LSTM or GRU, got ${show(l.className)}`);
      }
      const cell = l.className;
      const innerWhere = `${where}.layer (${cell})`;
      const ik = new Keys(l.config, innerWhere);
      const innerName = ik.raw('name');
      ik.only('trainable', [true], 'bptt has no frozen layers');
      ik.ignore('dtype', 'batch_input_shape', 'batch_shape', 'batch_size', 'input_shape');
      const o = recurrentOptions(cell, ik, ctx);
      ik.finish();
      const { resetAfterKnown, ...opts } = o;
      const iname = typeof innerName === 'string' && innerName !== '' ? innerName : cell.toLowerCase();
      return {
        ...base,
        inferResetAfter: !resetAfterKnown,
        create: (ra) =>
          make(
            where,
            () =>
              new Bidirectional(
                new Recurrent(cell, { ...opts, ...(ra !== null ? { resetAfter: ra } : {}), name: iname }),
                { name },
              ),
          ),
      };
    }
    case 'Dense': {
      const o = denseOptions(k, ctx);
      k.finish();
      return { ...base, create: () => make(where, () => new Dense({ ...o, name })) };
    }
    case 'TimeDistributed': {
      const l = inner(k);
      k.finish();
      if (l.className !== 'Dense')
        throw ArgumentError.problem(
          where,
          `layer must be a Dense (bptt's TimeDistributed wraps Dense only), got ${show(l.className)}`,
        );
      const ik = new Keys(l.config, `${where}.layer (Dense)`);
      const innerName = ik.raw('name');
      ik.only('trainable', [true], 'bptt has no frozen layers');
      ik.ignore('dtype', 'batch_input_shape', 'batch_shape', 'batch_size', 'input_shape');
      const o = denseOptions(ik, ctx);
      ik.finish();
      const iname = typeof innerName === 'string' && innerName !== '' ? innerName : 'dense';
      return {
        ...base,
        create: () => make(where, () => new TimeDistributed(new Dense({ ...o, name: iname }), { name })),
      };
    }
    case 'RepeatVector': {
      const n = k.int('n');
      k.finish();
      return { ...base, create: () => make(where, () => new RepeatVector({ n, name })) };
    }
    case 'Flatten': {
      k.only('data_format', ['channels_last', 'channelsLast'], 'bptt data is channels-last');
      k.finish();
      return { ...base, create: () => make(where, () => new Flatten({ name })) };
    }
    case 'Dropout': {
      const v = k.raw('rate');
      if (typeof v !== 'number' || !(v >= 0 && v < 1))
        return k.fail('rate', `must be a fraction in [0, 1), got ${show(v)}`);
      const rate = v;
      k.only('noise_shape', [], 'bptt drops every element independently');
      k.ignore('seed');
      k.finish();
      return { ...base, create: () => make(where, () => new Dropout({ rate, name })) };
    }
    case 'Reshape': {
      const t = k.raw('target_shape');
      k.finish();
      if (!Array.isArray(t)) k.fail('target_shape', `must be a list of positive integers, got ${show(t)}`);
      return { ...base, create: () => make(where, () => new Reshape({ targetShape: t as number[], name })) };
    }
    case 'Conv1D':
    case 'Conv1DTranspose': {
      const o = convOptions(k, ctx, className === 'Conv1DTranspose');
      k.finish();
      const C = className === 'Conv1D' ? Conv1D : Conv1DTranspose;
      return { ...base, create: () => make(where, () => new C({ ...o, name })) };
    }
    case 'MaxPooling1D':
    case 'AveragePooling1D': {
      const o = poolOptions(k);
      k.finish();
      const P = className === 'MaxPooling1D' ? MaxPooling1D : AveragePooling1D;
      return { ...base, create: () => make(where, () => new P({ ...o, name })) };
    }
    case 'UpSampling1D': {
      const size = int1(k, 'size', 2);
      k.finish();
      return { ...base, create: () => make(where, () => new UpSampling1D({ size, name })) };
    }
    default:
      throw ArgumentError.problem(
        where,
        `unknown layer class ${show(className)}; bptt reads InputLayer, SimpleRNN, ` +
          'LSTM, GRU, Bidirectional, Dense, TimeDistributed(Dense), RepeatVector, Flatten, Dropout, Reshape, ' +
          'Conv1D, Conv1DTranspose, MaxPooling1D, AveragePooling1D, UpSampling1D',
      );
  }
}

export interface Topology {
  name: string;
  entries: unknown[];
  inputShape: (number | null)[] | null;
  keras3: boolean;
  trainingConfig: unknown;
}

export function readTopology(a: TfjsArtifactsInput): Topology {
  let top = a.modelTopology;
  if (!isObject(top) || top instanceof ArrayBuffer) {
    throw ArgumentError.problem(
      'fromTfjs',
      `modelTopology must be a Keras JSON object, got ${top instanceof ArrayBuffer ? 'an ArrayBuffer (a graph model?)' : typeof top}`,
    );
  }
  const version = top['keras_version'];
  let trainingConfig = a.trainingConfig ?? top['training_config'] ?? null;
  if (isObject(top['model_config'])) top = top['model_config'];
  const cls = (top as Cfg)['class_name'] ?? (top as Cfg)['className'];
  if (cls !== 'Sequential') {
    throw ArgumentError.problem('fromTfjs', `only Sequential models are supported, got class_name ${show(cls)}`);
  }
  const config = (top as Cfg)['config'];
  let entries: unknown[];
  let name = 'sequential';
  let inputShape: (number | null)[] | null = null;
  if (Array.isArray(config)) {
    entries = config;
  } else if (isObject(config) && Array.isArray(config['layers'])) {
    entries = config['layers'];
    if (typeof config['name'] === 'string') name = config['name'];
    if (Array.isArray(config['build_input_shape']))
      inputShape = shapeFrom(config['build_input_shape'], 'build_input_shape', 'fromTfjs: Sequential config');
  } else {
    throw ArgumentError.problem('fromTfjs', 'modelTopology.config must be { name, layers: [...] }');
  }
  if (trainingConfig === undefined) trainingConfig = null;
  return { name, entries, inputShape, keras3: typeof version === 'string' && /^3\./.test(version), trainingConfig };
}

export function readLoss(tc: unknown): LossName | null {
  if (tc === null || tc === undefined) return null;
  if (!isObject(tc)) throw ArgumentError.problem('fromTfjs', `trainingConfig must be an object, got ${show(tc)}`);
  let loss = tc['loss'];
  if (loss === undefined || loss === null) return null;
  if (Array.isArray(loss) && loss.length === 1) loss = loss[0];
  if (isObject(loss)) loss = loss['class_name'] ?? loss['className']; // Keras 3: { module, class_name, config }
  if (typeof loss !== 'string')
    throw ArgumentError.problem('fromTfjs', `trainingConfig.loss must be a loss name, got ${show(loss)}`);
  return lossName(loss, 'fromTfjs: trainingConfig.loss');
}

export function resolveInputShape(fromTopology: (number | null)[] | null, given: number[] | undefined): number[] {
  if (given !== undefined) {
    if (!Array.isArray(given) || !given.every((d) => Number.isInteger(d) && d > 0)) {
      throw new ArgumentError('fromTfjs(inputShape)', 'positive integers', show(given));
    }
    if (
      fromTopology !== null &&
      (fromTopology.length !== given.length || fromTopology.some((d, i) => d !== null && d !== given[i]))
    ) {
      throw ArgumentError.problem(
        'fromTfjs(inputShape)',
        `${shapeStr(given)} contradicts the model's input shape ` +
          `[${fromTopology.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`,
      );
    }
    return given.slice();
  }
  if (fromTopology === null) {
    throw ArgumentError.problem(
      'fromTfjs',
      'the topology has no input shape (no InputLayer and no batch_input_shape on the first layer); pass options.inputShape',
    );
  }
  if (fromTopology.some((d) => d === null)) {
    throw ArgumentError.problem(
      'fromTfjs',
      `the input shape [${fromTopology.map((d) => (d === null ? 'null' : String(d))).join(', ')}] ` +
        'has a variable dimension; bptt models have a fixed shape: pass options.inputShape, e.g. { inputShape: [32, 1] }',
    );
  }
  return fromTopology as number[];
}

// ---------------------------------------------------------------------------------------------------------------------
// Writing

function snakeActivation(name: string): string {
  return snakeKey(activationName(activationCode(name)));
}

function recurrentConfig(l: Recurrent, name: string, allowResetAfter: boolean, where: string): Cfg {
  if (l.className === 'GRU' && l.resetAfter && !allowResetAfter) {
    throw ArgumentError.problem(
      'toTfjs',
      `${where} is a GRU with resetAfter true, which TensorFlow.js 4.22 cannot load ("GRUCell does ` +
        'not support reset_after parameter set to true"). Build it with gru({ resetAfter: false }) to share it with ' +
        'TensorFlow.js, or pass { allowResetAfter: true } to write it as Keras does',
    );
  }
  const c: Cfg = { name, trainable: true, dtype: 'float32', units: l.units, activation: snakeActivation(l.activation) };
  if (l.className !== 'SimpleRNN') c['recurrent_activation'] = snakeActivation(l.recurrentActivation);
  c['use_bias'] = true;
  if (l.className === 'LSTM') c['unit_forget_bias'] = l.unitForgetBias;
  c['dropout'] = l.dropout;
  c['recurrent_dropout'] = 0;
  if (l.className === 'GRU') c['reset_after'] = l.resetAfter;
  Object.assign(c, {
    return_sequences: l.returnSequences,
    return_state: false,
    go_backwards: l.goBackwards,
    stateful: l.stateful,
    unroll: false,
  });
  return c;
}

function denseConfig(l: Dense, name: string): Cfg {
  return {
    name,
    trainable: true,
    dtype: 'float32',
    units: l.units,
    activation: snakeActivation(l.activation),
    use_bias: l.useBias,
  };
}

function stripPrefix(s: string, prefix: string): string {
  return s.startsWith(prefix) ? s.slice(prefix.length) : s;
}

/** The layer's tfjs config and its weights with their tfjs names. */
export function layerToTfjs(l: Layer, o: ToTfjsOptions): { entry: Cfg; weights: { name: string; p: Param }[] } {
  const where = `layer '${l.name}' (${l.className})`;
  const own = (prefix: string, src: Layer): { name: string; p: Param }[] =>
    src.params().map((p) => ({ name: `${prefix}/${p.name}`, p }));
  const allowRA = o.allowResetAfter ?? false;
  if (l instanceof Recurrent) {
    return {
      entry: { class_name: l.className, config: recurrentConfig(l, l.name, allowRA, where) },
      weights: own(l.name, l),
    };
  }
  if (l instanceof Bidirectional) {
    const f = l.forwardLayer;
    const innerName = stripPrefix(f.name, 'forward_');
    return {
      entry: {
        class_name: 'Bidirectional',
        config: {
          name: l.name,
          trainable: true,
          merge_mode: 'concat',
          layer: { class_name: f.className, config: recurrentConfig(f, innerName, allowRA, where) },
        },
      },
      weights: [...own(`${l.name}/${f.name}`, f), ...own(`${l.name}/${l.backwardLayer.name}`, l.backwardLayer)],
    };
  }
  if (l instanceof TimeDistributed) {
    return {
      entry: {
        class_name: 'TimeDistributed',
        config: {
          name: l.name,
          trainable: true,
          layer: { class_name: 'Dense', config: denseConfig(l.layer, l.layer.name || 'dense') },
        },
      },
      weights: own(l.name, l.layer),
    };
  }
  if (l instanceof Dense)
    return { entry: { class_name: 'Dense', config: denseConfig(l, l.name) }, weights: own(l.name, l) };
  if (l instanceof RepeatVector)
    return { entry: { class_name: 'RepeatVector', config: { name: l.name, trainable: true, n: l.n } }, weights: [] };
  if (l instanceof Flatten)
    return { entry: { class_name: 'Flatten', config: { name: l.name, trainable: true } }, weights: [] };
  if (l instanceof Dropout) {
    return {
      entry: {
        class_name: 'Dropout',
        config: { name: l.name, trainable: true, rate: l.rate, noise_shape: null, seed: null },
      },
      weights: [],
    };
  }
  if (l instanceof Reshape) {
    return {
      entry: { class_name: 'Reshape', config: { name: l.name, trainable: true, target_shape: l.targetShape.slice() } },
      weights: [],
    };
  }
  if (l instanceof Conv1D || l instanceof Conv1DTranspose) {
    const config: Cfg = {
      name: l.name,
      trainable: true,
      dtype: 'float32',
      filters: l.filters,
      kernel_size: [l.kernelSize],
      strides: [l.strides],
      padding: l.padding,
      data_format: 'channels_last',
      dilation_rate: [l.dilationRate],
      activation: snakeActivation(l.activation),
      use_bias: l.useBias,
    };
    if (l instanceof Conv1DTranspose) config['output_padding'] = null;
    return { entry: { class_name: l.className, config }, weights: own(l.name, l) };
  }
  if (l instanceof MaxPooling1D || l instanceof AveragePooling1D) {
    const config = {
      name: l.name,
      trainable: true,
      dtype: 'float32',
      pool_size: [l.poolSize],
      strides: [l.strides],
      padding: l.padding,
    };
    return { entry: { class_name: l.className, config }, weights: [] };
  }
  if (l instanceof UpSampling1D) {
    return {
      entry: { class_name: 'UpSampling1D', config: { name: l.name, trainable: true, dtype: 'float32', size: l.size } },
      weights: [],
    };
  }
  throw ArgumentError.problem('toTfjs', `${where} has no TensorFlow.js equivalent`);
}

const TFJS_LOSS: Record<LossName, string> = {
  mse: 'mean_squared_error',
  mae: 'mean_absolute_error',
  binaryCrossentropy: 'binary_crossentropy',
};

export function trainingConfigOf(model: ModelSource): Record<string, unknown> | undefined {
  if (model.loss === null) return undefined;
  const opt = model.optimizer?.config() ?? { name: 'adam' as const };
  let optimizer: Cfg;
  if (opt.name === 'adam') {
    const a = model.optimizer ?? ADAM_DEFAULTS;
    optimizer = {
      class_name: 'Adam',
      config: { learningRate: a.learningRate, beta1: a.beta1, beta2: a.beta2, epsilon: a.epsilon },
    };
  } else if ((opt.momentum ?? 0) > 0) {
    optimizer = {
      class_name: 'Momentum',
      config: { learningRate: opt.learningRate, momentum: opt.momentum, useNesterov: false },
    };
  } else {
    optimizer = { class_name: 'SGD', config: { learningRate: opt.learningRate } };
  }
  return { loss: TFJS_LOSS[model.loss], metrics: [], optimizer_config: optimizer };
}

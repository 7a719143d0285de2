/**
 * TensorFlow.js layers format in and out: the artifacts `model.save(tf.io.withSaveHandler(...))` produces, the
 * `model.json` + `weights.bin` pair `tf.io` / tfjs-node and `tensorflowjs_converter` write, and artifacts that
 * `tf.loadLayersModel(tf.io.fromMemory(...))` accepts. TensorFlow.js is never imported here.
 *
 * Artifacts:
 *   modelTopology   Keras JSON { class_name: 'Sequential', config: { name, layers: [{ class_name, config }, ...] } },
 *                   or the converter's wrapper { model_config: <that>, training_config, keras_version, backend }
 *                   (Keras ≤ 2.1 wrote config as the bare list of layers; accepted too)
 *   weightSpecs     [{ name, shape, dtype: 'float32', group?, quantization? }]: the weights, in weightData order
 *   weightData      ArrayBuffer (or a list of them, concatenated in order): each weight row-major, little-endian float32
 *   trainingConfig  { loss, metrics, optimizer_config } (tfjs `save({ includeOptimizer: true })`; the converter puts it in
 *                   modelTopology.training_config): only `loss` is read, into `model.loss`. The optimizer config and its
 *                   saved state (weightSpecs with group 'optimizer', skipped) are not: fit uses its own optimizer option.
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
 *   Ignored because they cannot change what the loaded model computes: initialisers, seed, dtype (use options.dtype),
 *   unroll, implementation, use_cudnn, zero_output_for_mask, a later layer's batch_input_shape. Any other key, an
 *   unknown class, or a value bptt cannot honour is an error naming the layer and the key.
 *   Activations: tanh, sigmoid, hard_sigmoid (clip(0.2·x + 0.5, 0, 1), the TensorFlow.js and Keras 2 definition; a
 *   Keras 3 model's hard_sigmoid is relu6(x + 3)/6 and is rejected), relu, linear.
 *
 * Weight names (observed from tfjs-layers 4.22 `save()`, and what the Keras converter writes):
 *   '<layer>/kernel', '<layer>/recurrent_kernel', '<layer>/bias'                    (e.g. 'lstm_LSTM1/kernel')
 *   '<layer>/<cell>/kernel'                                                         (TF ≥ 2.2 Keras: 'lstm/lstm_cell/kernel')
 *   '<bidirectional>/forward_<inner>/kernel', '<bidirectional>/backward_<inner>/…'  (Bidirectional; a cell name may follow)
 *   '<time_distributed>/kernel', '<time_distributed>/bias'                          (TimeDistributed: its own name, not the Dense's)
 *   '<layer>/0', '<layer>/1', …                                                     (Keras 3 numbered names: matched by position)
 *   A weight belongs to the layer named by its first component; inside it, the last component names the parameter and
 *   a 'forward_…' / 'backward_…' component the direction. Shapes must equal bptt's (Keras layouts are bptt's layouts:
 *   LSTM gates i|f|c|o, GRU z|r|h). Every model weight must be used exactly once. Quantized weights (uint8, uint16
 *   affine; float16) are dequantized.
 *
 * Writing (`toTfjs`): the topology tfjs-layers writes (batch_input_shape on the first layer, every config key it
 * serialises itself), float32 weights named as above (a float64 model is rounded to float32), and, when the model has a
 * loss, a trainingConfig (loss, and the optimizer's hyperparameters as tfjs class names 'Adam' / 'SGD' / 'Momentum').
 * A GRU with resetAfter true (bptt's and Keras 2's default) is refused: TensorFlow.js 4.22 throws "GRUCell does not
 * support reset_after parameter set to true" on load, and the classic GRU computes something else. Build such models
 * with gru({ resetAfter: false }) to share them with TensorFlow.js, or pass { allowResetAfter: true } to write it as
 * Keras writes it (reset_after true, bias [2, 3H]), for `fromTfjs` and Keras, not TensorFlow.js. A stateful model needs
 * { batchSize } (TensorFlow.js requires the batch size of stateful recurrent layers).
 *
 * On disk: `saveTfjsModel(model, dir)` writes dir/weights.bin, then dir/model.json
 *   { modelTopology, format, generatedBy, convertedBy, weightsManifest: [{ paths: ['./weights.bin'], weights }], trainingConfig? }
 * each atomically (lib/io/atomic.ts), weights first, so model.json never names bytes that are not there yet. (A crash
 * between the two renames leaves the new weights beside the old model.json; loading then fails on the byte count unless
 * both models have the same architecture.) `loadTfjsModel(path)` reads model.json and every weightsManifest group's
 * shards (paths relative to model.json, never outside its directory); each group's bytes must match its weights.
 *
 * @example
 *   let artifacts; await tfModel.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: … }; }));
 *   const model = fromTfjs(artifacts);                       // Sequential, same predictions (≤ 1e-5)
 *   const back = await tf.loadLayersModel(tf.io.fromMemory(toTfjs(model)));
 */
import * as fs from 'fs';
import * as path from 'path';
import { activationCode, activationName } from '../../kernels/activations';
import type { FloatArray } from '../../kernels/matmul';
import { ADAM_DEFAULTS } from '../../kernels/optim';
import { Bidirectional } from '../model/layers/bidirectional';
import { Dense, TimeDistributed } from '../model/layers/dense';
import { DType, Layer, Param } from '../model/layers/layer';
import { CellType, Recurrent, RecurrentOptions } from '../model/layers/recurrent';
import { Dropout, Flatten, RepeatVector, Reshape } from '../model/layers/shape';
import { LossName, lossName } from '../model/losses';
import { writeFileAtomic, writeFileAtomicSync } from './atomic';
import type { CreateModel, ModelSource, ModelTarget } from './model-view';
import { isModel } from './model-view';
import { show } from './show';

/** One entry of weightSpecs (tfjs `WeightsManifestEntry`). */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  group?: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

/** What `fromTfjs` reads: the fields of tfjs `ModelArtifacts` it needs (checked at run time, so tfjs objects pass as they are). */
export interface TfjsArtifactsInput {
  modelTopology?: unknown;
  weightSpecs?: readonly unknown[];
  weightData?: unknown;
  trainingConfig?: unknown;
}

/** What `toTfjs` returns: tfjs `ModelArtifacts` for `tf.io.fromMemory`. */
export interface TfjsArtifacts {
  modelTopology: Record<string, unknown>;
  weightSpecs: TfjsWeightSpec[];
  weightData: ArrayBuffer;
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  trainingConfig?: Record<string, unknown>;
}

export interface FromTfjsOptions {
  /** Precision of the built model (the file's float32 weights are widened exactly). Default 'float32'. */
  dtype?: DType;
  /** Per-sample input shape [T, D]: required when the topology leaves a dimension null (variable length). */
  inputShape?: number[];
}

export interface ToTfjsOptions {
  /** Write a GRU with resetAfter true as Keras does (TensorFlow.js cannot load it). Default false: such a model is an error. */
  allowResetAfter?: boolean;
  /** Batch size for batch_input_shape; required when a layer is stateful. */
  batchSize?: number;
}

export const GENERATED_BY = 'bptt';

type Cfg = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------------
// Reading: topology

function isObject(v: unknown): v is Cfg {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function snakeKey(k: string): string {
  return k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** A layer config with snake_case keys, read key by key; `finish()` rejects whatever was not read. */
class Keys {
  private readonly cfg = new Map<string, unknown>();
  private readonly used = new Set<string>();

  constructor(raw: Cfg, readonly where: string) {
    for (const [k, v] of Object.entries(raw)) {
      const s = snakeKey(k);
      if (this.cfg.has(s)) throw new TypeError(`${where}: config has both ${s} and ${k}`);
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
    throw new RangeError(`${this.where}: ${key} ${msg}`);
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
        throw new RangeError(`${this.where}: unknown config key ${k} (${show(this.cfg.get(k))}); bptt does not know ` +
          'what it means, so it refuses to guess. Remove it from the config if it does not affect the forward pass');
      }
    }
  }
}

interface Context {
  /** Keras 3 redefined hard_sigmoid as relu6(x + 3) / 6. */
  keras3: boolean;
}

const TRAINING_ONLY = ['kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer',
  'kernel_constraint', 'recurrent_constraint', 'bias_constraint'];

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
    k.fail(key, 'hard_sigmoid of a Keras 3 model is relu6(x + 3) / 6; bptt implements the TensorFlow.js / Keras 2 ' +
      'hard_sigmoid clip(0.2·x + 0.5, 0, 1)');
  }
  return name;
}

function shapeFrom(v: unknown, what: string, where: string): (number | null)[] {
  if (!Array.isArray(v) || v.length < 2 || !v.every((d) => d === null || (Number.isInteger(d) && d > 0))) {
    throw new RangeError(`${where}: ${what} must be [batch, ...dims] of positive integers or null, got ${show(v)}`);
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
  k.ignore('kernel_initializer', 'recurrent_initializer', 'bias_initializer', 'unroll', 'implementation', 'seed',
    'use_cudnn', 'zero_output_for_mask');
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

function inner(k: Keys): { className: string; config: Cfg } {
  const l = k.raw('layer');
  if (!isObject(l) || (typeof l['class_name'] !== 'string' && typeof l['className'] !== 'string') || !isObject(l['config'])) {
    return k.fail('layer', `must be { class_name, config }, got ${show(l)}`);
  }
  return { className: (l['class_name'] ?? l['className']) as string, config: l['config'] as Cfg };
}

/** Wraps a bptt constructor so its errors name the tfjs layer. */
function make<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new RangeError(`${where}: ${(e as Error).message}`);
  }
}

/** A parsed layer: the bptt layer and, for a GRU whose reset_after was absent, the flag to fix from the bias shape. */
interface Parsed {
  className: string;
  name: string;
  where: string;
  inputShape: (number | null)[] | null;
  /** Builds the bptt layer; `resetAfter` is the value inferred for a GRU whose config did not say (else null). */
  create: (resetAfter: boolean | null) => Layer;
  /** A GRU (bare or in a Bidirectional) without reset_after: infer it from the bias shape. */
  inferResetAfter: boolean;
}

function parseLayer(entry: unknown, index: number, ctx: Context): Parsed | { inputLayer: (number | null)[] } {
  if (!isObject(entry)) throw new TypeError(`fromTfjs: layers[${index}] must be { class_name, config }, got ${show(entry)}`);
  const className = entry['class_name'] ?? entry['className'];
  const raw = entry['config'];
  if (typeof className !== 'string' || !isObject(raw)) {
    throw new TypeError(`fromTfjs: layers[${index}] must be { class_name, config }, got ${show(entry)}`);
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
    if (index !== 0) throw new RangeError(`${where}: an InputLayer must come first`);
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
    case 'SimpleRNN': case 'LSTM': case 'GRU': {
      const o = recurrentOptions(className, k, ctx);
      k.finish();
      const { resetAfterKnown, ...opts } = o;
      return {
        ...base, inferResetAfter: !resetAfterKnown,
        create: (ra) => make(where, () => new Recurrent(className, { ...opts, ...(ra !== null ? { resetAfter: ra } : {}), name })),
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
        throw new RangeError(`${where}: layer must be SimpleRNN, LSTM or GRU, got ${show(l.className)}`);
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
        ...base, inferResetAfter: !resetAfterKnown,
        create: (ra) => make(where, () => new Bidirectional(
          new Recurrent(cell, { ...opts, ...(ra !== null ? { resetAfter: ra } : {}), name: iname }), { name })),
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
      if (l.className !== 'Dense') throw new RangeError(`${where}: layer must be a Dense (bptt's TimeDistributed wraps Dense only), got ${show(l.className)}`);
      const ik = new Keys(l.config, `${where}.layer (Dense)`);
      const innerName = ik.raw('name');
      ik.only('trainable', [true], 'bptt has no frozen layers');
      ik.ignore('dtype', 'batch_input_shape', 'batch_shape', 'batch_size', 'input_shape');
      const o = denseOptions(ik, ctx);
      ik.finish();
      const iname = typeof innerName === 'string' && innerName !== '' ? innerName : 'dense';
      return { ...base, create: () => make(where, () => new TimeDistributed(new Dense({ ...o, name: iname }), { name })) };
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
      if (typeof v !== 'number' || !(v >= 0 && v < 1)) return k.fail('rate', `must be a fraction in [0, 1), got ${show(v)}`);
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
    default:
      throw new RangeError(`${where}: unknown layer class ${show(className)}; bptt reads InputLayer, SimpleRNN, ` +
        'LSTM, GRU, Bidirectional, Dense, TimeDistributed(Dense), RepeatVector, Flatten, Dropout, Reshape');
  }
}

interface Topology {
  name: string;
  entries: unknown[];
  inputShape: (number | null)[] | null;
  keras3: boolean;
  trainingConfig: unknown;
}

function readTopology(a: TfjsArtifactsInput): Topology {
  let top = a.modelTopology;
  if (!isObject(top) || top instanceof ArrayBuffer) {
    throw new TypeError(`fromTfjs: modelTopology must be a Keras JSON object, got ${top instanceof ArrayBuffer ? 'an ArrayBuffer (a graph model?)' : typeof top}`);
  }
  const version = top['keras_version'];
  let trainingConfig = a.trainingConfig ?? top['training_config'] ?? null;
  if (isObject(top['model_config'])) top = top['model_config'];
  const cls = (top as Cfg)['class_name'] ?? (top as Cfg)['className'];
  if (cls !== 'Sequential') {
    throw new RangeError(`fromTfjs: only Sequential models are supported, got class_name ${show(cls)}`);
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
    if (Array.isArray(config['build_input_shape'])) inputShape = shapeFrom(config['build_input_shape'], 'build_input_shape', 'fromTfjs: Sequential config');
  } else {
    throw new TypeError('fromTfjs: modelTopology.config must be { name, layers: [...] }');
  }
  if (trainingConfig === undefined) trainingConfig = null;
  return { name, entries, inputShape, keras3: typeof version === 'string' && /^3\./.test(version), trainingConfig };
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading: weights

interface Weight {
  name: string;
  tokens: string[];
  shape: number[];
  values: Float32Array;
  used: boolean;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

function toBytes(data: unknown): Uint8Array {
  const one = (b: unknown, where: string): Uint8Array => {
    if (b instanceof ArrayBuffer) return new Uint8Array(b);
    if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    throw new TypeError(`fromTfjs: ${where} must be an ArrayBuffer, got ${typeof b}`);
  };
  if (!Array.isArray(data)) return one(data, 'weightData');
  const parts = data.map((b, i) => one(b, `weightData[${i}]`));
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function checkSpec(s: unknown, i: number): TfjsWeightSpec {
  if (!isObject(s) || typeof s['name'] !== 'string' || typeof s['dtype'] !== 'string' || !Array.isArray(s['shape']) ||
    !s['shape'].every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`fromTfjs: weightSpecs[${i}] must be { name, shape, dtype }, got ${show(s)}`);
  }
  return s as unknown as TfjsWeightSpec;
}

/** Bytes a spec occupies in weightData. Strings (never model weights) are length-prefixed; they are measured in place. */
function specBytes(s: TfjsWeightSpec, view: DataView, offset: number): number {
  const n = s.shape.reduce((a, d) => a * d, 1);
  if (s.quantization !== undefined) {
    const b = DTYPE_BYTES[s.quantization.dtype];
    if (b === undefined || s.quantization.dtype === 'float32') throw new RangeError(`fromTfjs: weight '${s.name}': unknown quantization dtype ${show(s.quantization.dtype)}`);
    return n * b;
  }
  if (s.dtype === 'string') {
    let o = offset;
    for (let i = 0; i < n; i++) {
      if (o + 4 > view.byteLength) return view.byteLength + 1 - offset;
      o += 4 + view.getUint32(o, true);
    }
    return o - offset;
  }
  const b = DTYPE_BYTES[s.dtype];
  if (b === undefined) throw new RangeError(`fromTfjs: weight '${s.name}': unknown dtype ${show(s.dtype)}`);
  return n * b;
}

function f16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 0x1f) return man === 0 ? sign * Infinity : NaN;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

function decodeValues(s: TfjsWeightSpec, view: DataView, p: number): Float32Array {
  const n = s.shape.reduce((a, d) => a * d, 1);
  const out = new Float32Array(n);
  const q = s.quantization;
  if (q === undefined) {
    if (s.dtype !== 'float32') throw new RangeError(`fromTfjs: weight '${s.name}' has dtype ${s.dtype}; model weights must be float32`);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(p + 4 * i, true);
  } else if (q.dtype === 'float16') {
    for (let i = 0; i < n; i++) out[i] = f16(view.getUint16(p + 2 * i, true));
  } else {
    const { scale, min } = q;
    if (typeof scale !== 'number' || typeof min !== 'number') {
      throw new RangeError(`fromTfjs: weight '${s.name}': ${q.dtype} quantization needs numbers scale and min`);
    }
    for (let i = 0; i < n; i++) out[i] = (q.dtype === 'uint8' ? view.getUint8(p + i) : view.getUint16(p + 2 * i, true)) * scale + min;
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i] as number)) throw new RangeError(`fromTfjs: weight '${s.name}' has a non-finite value ${out[i]} at index ${i}`);
  }
  return out;
}

function decodeWeights(a: TfjsArtifactsInput): Weight[] {
  const specsRaw = a.weightSpecs ?? [];
  if (!Array.isArray(specsRaw)) throw new TypeError('fromTfjs: weightSpecs must be an array');
  const specs = specsRaw.map(checkSpec);
  const bytes = specs.length === 0 && a.weightData == null ? new Uint8Array(0) : toBytes(a.weightData);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Weight[] = [];
  let offset = 0;
  for (const s of specs) {
    const size = specBytes(s, view, offset);
    if (offset + size > bytes.length) {
      throw new RangeError(`fromTfjs: weightData is truncated: weight '${s.name}' (shape [${s.shape.join(', ')}]) needs bytes ` +
        `[${offset}, ${offset + size}), weightData has ${bytes.length}`);
    }
    if (s.group === undefined || s.group === 'model') {
      const name = s.name.replace(/:0$/, '');
      out.push({ name, tokens: name.split('/'), shape: s.shape.slice(), values: decodeValues(s, view, offset), used: false });
    }
    offset += size;
  }
  if (offset !== bytes.length) {
    throw new RangeError(`fromTfjs: weightData has ${bytes.length} bytes but weightSpecs describe ${offset}; the weights do not ` +
      'belong to this topology (or the file is corrupt)');
  }
  return out;
}

/** A parameter a layer needs, and where in the tfjs names to find it. */
interface Slot { param: Param; key: string; direction: 'forward' | 'backward' | null }

function slotsOf(layer: Layer): Slot[] {
  const named = (l: Layer, direction: Slot['direction']): Slot[] => l.params().map((p) => ({ param: p, key: p.name, direction }));
  if (layer instanceof Bidirectional) return [...named(layer.forwardLayer, 'forward'), ...named(layer.backwardLayer, 'backward')];
  return named(layer, null);
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

function assignWeights(layers: Layer[], weights: Weight[]): Map<Param, Float32Array> {
  const plan = new Map<Param, Float32Array>();
  for (const layer of layers) {
    const slots = slotsOf(layer);
    const owned = weights.filter((w) => w.tokens[0] === layer.name);
    const where = `fromTfjs: layer '${layer.name}' (${layer.className})`;
    const numbered = owned.length > 0 && owned.every((w) => /^\d+$/.test(w.tokens[w.tokens.length - 1] as string));
    slots.forEach((slot, i) => {
      let w: Weight | undefined;
      const label = `${slot.direction ? `${slot.direction} ` : ''}${slot.key}`;
      if (numbered) {
        w = owned[i];
      } else {
        const hits = owned.filter((c) => c.tokens.length >= 2 && c.tokens[c.tokens.length - 1] === slot.key &&
          (slot.direction === null || c.tokens.slice(1, -1).some((t) => t.startsWith(`${slot.direction}_`))));
        if (hits.length > 1) throw new RangeError(`${where}: ${label} is ambiguous: ${hits.map((h) => `'${h.name}'`).join(', ')}`);
        w = hits[0];
      }
      if (w === undefined) {
        const expect = slot.direction ? `${layer.name}/${slot.direction}_…/${slot.key}` : `${layer.name}/${slot.key}`;
        throw new RangeError(`${where}: missing weight ${label} (expected a name like '${expect}'; the layer's weights are ` +
          `${owned.length ? owned.map((o) => `'${o.name}'`).join(', ') : 'none'})`);
      }
      if (shapeStr(w.shape) !== shapeStr(slot.param.shape)) {
        throw new RangeError(`${where}: weight '${w.name}' has shape ${shapeStr(w.shape)}, the layer's ${label} needs ` +
          shapeStr(slot.param.shape));
      }
      w.used = true;
      plan.set(slot.param, w.values);
    });
    const extra = owned.filter((w) => !w.used);
    if (extra.length > 0) throw new RangeError(`${where}: unexpected weights ${extra.map((w) => `'${w.name}'`).join(', ')}`);
  }
  const orphans = weights.filter((w) => !w.used);
  if (orphans.length > 0) {
    throw new RangeError(`fromTfjs: weights ${orphans.map((w) => `'${w.name}'`).join(', ')} belong to no layer of the model ` +
      `(layers: ${layers.map((l) => l.name).join(', ')})`);
  }
  return plan;
}

function readLoss(tc: unknown): LossName | null {
  if (tc === null || tc === undefined) return null;
  if (!isObject(tc)) throw new TypeError(`fromTfjs: trainingConfig must be an object, got ${show(tc)}`);
  let loss = tc['loss'];
  if (loss === undefined || loss === null) return null;
  if (Array.isArray(loss) && loss.length === 1) loss = loss[0];
  if (isObject(loss)) loss = loss['class_name'] ?? loss['className'];    // Keras 3: { module, class_name, config }
  if (typeof loss !== 'string') throw new RangeError(`fromTfjs: trainingConfig.loss must be a loss name, got ${show(loss)}`);
  return lossName(loss, 'fromTfjs: trainingConfig.loss');
}

/**
 * Fills the model `create` makes from TensorFlow.js layers-format artifacts (see the file comment for what is read and
 * how). fromTfjs (lib/model/loaders.ts) is this with Sequential's constructor.
 */
export function buildFromTfjs<M extends ModelTarget>(artifacts: TfjsArtifactsInput, options: FromTfjsOptions,
                                                     create: CreateModel<M>): M {
  if (!isObject(artifacts)) throw new TypeError(`fromTfjs: expected model artifacts { modelTopology, weightSpecs, weightData }, got ${typeof artifacts}`);
  const top = readTopology(artifacts);
  const ctx: Context = { keras3: top.keras3 };
  let inputShape = top.inputShape;
  const parsed: Parsed[] = [];
  top.entries.forEach((e, i) => {
    const p = parseLayer(e, i, ctx);
    if ('inputLayer' in p) inputShape = p.inputLayer;
    else {
      if (parsed.length === 0 && p.inputShape !== null && inputShape === null) inputShape = p.inputShape;
      parsed.push(p);
    }
  });
  if (parsed.length === 0) throw new RangeError('fromTfjs: the model has no layers');
  const weights = decodeWeights(artifacts);
  const loss = readLoss(top.trainingConfig);

  // A GRU without reset_after: the bias says which variant it is ([2, 3H] reset-after, [3H] classic).
  const layers = parsed.map((p) => {
    let ra: boolean | null = null;
    if (p.inferResetAfter) {
      const bias = weights.filter((w) => w.tokens[0] === p.name && w.tokens[w.tokens.length - 1] === 'bias');
      if (bias.length === 0) throw new RangeError(`${p.where}: reset_after is missing and there is no bias weight to infer it from`);
      ra = (bias[0] as Weight).shape.length === 2;
    }
    return p.create(ra);
  });

  const shape = resolveInputShape(inputShape, options.inputShape);
  checkParameterCount(layers, shape, weights);
  const model = create({ dtype: options.dtype ?? 'float32', name: top.name });
  make('fromTfjs: building the model', () => {
    layers.forEach((l) => model.add(l));
    model.build(shape);
  });
  const plan = assignWeights(layers, weights);
  for (const [param, values] of plan) param.value.set(values);
  if (loss !== null) model.compile({ loss });
  return model;
}

/** Parameter values a layer allocates for a per-sample input shape (value arrays; as Recurrent/Dense allocate them). */
function parameterCount(l: Layer, input: readonly number[]): number {
  const D = input[input.length - 1] ?? 1;
  const recurrent = (r: Recurrent): number => {
    const GH = r.gates * r.units;
    return GH * (D + r.units) + GH * (r.className === 'GRU' && r.resetAfter ? 2 : 1);
  };
  if (l instanceof Recurrent) return recurrent(l);
  if (l instanceof Bidirectional) return 2 * recurrent(l.forwardLayer);
  const d = l instanceof TimeDistributed ? l.layer : l instanceof Dense ? l : null;
  return d === null ? 0 : D * d.units + (d.useBias ? d.units : 0);
}

/**
 * Refuses, before anything is allocated, a topology whose layers need more parameter values than the weights hold:
 * every parameter must be matched by a weight of the same shape, so a valid file never needs more. Without this, a
 * file declaring units of 10⁵ (or an input of 10⁹ features) would allocate gigabytes before the shapes are compared.
 */
function checkParameterCount(layers: Layer[], inputShape: readonly number[], weights: readonly Weight[]): void {
  const available = weights.reduce((a, w) => a + w.values.length, 0);
  let s: readonly number[] = inputShape, total = 0;
  for (const l of layers) {
    const n = parameterCount(l, s);
    total += n;
    if (total > available) {
      throw new RangeError(`fromTfjs: layer '${l.name}' (${l.className}) needs ${n} parameter values for input [${s.join(', ')}], ` +
        `the layers up to it ${total}, but the weights hold ${available} in all; the topology does not match its weights ` +
        '(refused before allocating)');
    }
    // The layer's own output-shape rule (no allocation); a shape it refuses is reported by build below.
    try {
      s = (l as unknown as { computeOutputShape(x: readonly number[]): number[] }).computeOutputShape(s);
    } catch {
      return;
    }
  }
}

function resolveInputShape(fromTopology: (number | null)[] | null, given: number[] | undefined): number[] {
  if (given !== undefined) {
    if (!Array.isArray(given) || !given.every((d) => Number.isInteger(d) && d > 0)) {
      throw new RangeError(`fromTfjs(inputShape): expected positive integers, got ${show(given)}`);
    }
    if (fromTopology !== null && (fromTopology.length !== given.length || fromTopology.some((d, i) => d !== null && d !== given[i]))) {
      throw new RangeError(`fromTfjs(inputShape): ${shapeStr(given)} contradicts the model's input shape ` +
        `[${fromTopology.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`);
    }
    return given.slice();
  }
  if (fromTopology === null) {
    throw new RangeError('fromTfjs: the topology has no input shape (no InputLayer and no batch_input_shape on the first layer); pass options.inputShape');
  }
  if (fromTopology.some((d) => d === null)) {
    throw new RangeError(`fromTfjs: the input shape [${fromTopology.map((d) => (d === null ? 'null' : String(d))).join(', ')}] ` +
      'has a variable dimension; bptt models have a fixed shape: pass options.inputShape, e.g. { inputShape: [32, 1] }');
  }
  return fromTopology as number[];
}

// ---------------------------------------------------------------------------------------------------------------------
// Files

interface Manifest { paths: string[]; weights: unknown[] }

function readModelJson(text: string, file: string): { artifacts: Cfg; groups: Manifest[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TypeError(`loadTfjsModel(${file}): not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json) || !isObject(json['modelTopology'])) throw new TypeError(`loadTfjsModel(${file}): expected a model.json with modelTopology`);
  const m = json['weightsManifest'] ?? [];
  if (!Array.isArray(m) || !m.every((g) => isObject(g) && Array.isArray(g['paths']) && Array.isArray(g['weights']) &&
    (g['paths'] as unknown[]).every((p) => typeof p === 'string'))) {
    throw new TypeError(`loadTfjsModel(${file}): weightsManifest must be [{ paths: [string], weights: [...] }]`);
  }
  return { artifacts: json, groups: m as Manifest[] };
}

function shardPath(dir: string, p: string, file: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || path.isAbsolute(p)) {
    throw new RangeError(`loadTfjsModel(${file}): weight path ${show(p)} must be relative to model.json`);
  }
  const full = path.resolve(dir, p);
  const rel = path.relative(dir, full);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new RangeError(`loadTfjsModel(${file}): weight path ${show(p)} points outside the model's directory`);
  }
  return full;
}

function assemble<M extends ModelTarget>(file: string, artifacts: Cfg, groups: Manifest[], shards: Uint8Array[][],
                                         options: FromTfjsOptions, create: CreateModel<M>): M {
  const specs: unknown[] = [];
  const buffers: Uint8Array[] = [];
  groups.forEach((g, gi) => {
    const data = shards[gi] as Uint8Array[];
    const total = data.reduce((s, b) => s + b.length, 0);
    const joined = new Uint8Array(total);
    let o = 0;
    for (const b of data) { joined.set(b, o); o += b.length; }
    const view = new DataView(joined.buffer);
    let need = 0;
    g.weights.forEach((s, i) => { need += specBytes(checkSpec(s, i), view, need); });
    if (need !== total) {
      throw new RangeError(`loadTfjsModel(${file}): weight group ${gi} (${g.paths.join(', ')}) holds ${total} bytes, its ` +
        `${g.weights.length} weights need ${need}`);
    }
    specs.push(...g.weights);
    buffers.push(joined);
  });
  const input: TfjsArtifactsInput = { modelTopology: artifacts['modelTopology'], weightSpecs: specs, weightData: buffers };
  if (artifacts['trainingConfig'] !== undefined) input.trainingConfig = artifacts['trainingConfig'];
  return buildFromTfjs(input, options, create);
}

/** An fs error as the loaders report it: which file could not be read, and why. */
function readError(file: string, what: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  return new Error(`loadTfjsModel(${file}): cannot read ${what}: ${code ?? (e as Error).message}`);
}

/** Reads a model.json and its weight files (weightsManifest paths, relative to it) into the model `create` makes. */
export async function readTfjsModel<M extends ModelTarget>(modelJsonPath: string, options: FromTfjsOptions,
                                                           create: CreateModel<M>): Promise<M> {
  let text: string;
  try {
    text = await fs.promises.readFile(modelJsonPath, 'utf8');
  } catch (e) {
    throw readError(modelJsonPath, 'it', e);
  }
  const { artifacts, groups } = readModelJson(text, modelJsonPath);
  const dir = path.dirname(path.resolve(modelJsonPath));
  const shards = await Promise.all(groups.map((g) => Promise.all(g.paths.map(async (p) => {
    const full = shardPath(dir, p, modelJsonPath);
    try {
      return new Uint8Array(await fs.promises.readFile(full));
    } catch (e) {
      throw readError(modelJsonPath, `weight file ${show(p)}`, e);
    }
  }))));
  return assemble(modelJsonPath, artifacts, groups, shards, options, create);
}

export function readTfjsModelSync<M extends ModelTarget>(modelJsonPath: string, options: FromTfjsOptions,
                                                         create: CreateModel<M>): M {
  let text: string;
  try {
    text = fs.readFileSync(modelJsonPath, 'utf8');
  } catch (e) {
    throw readError(modelJsonPath, 'it', e);
  }
  const { artifacts, groups } = readModelJson(text, modelJsonPath);
  const dir = path.dirname(path.resolve(modelJsonPath));
  const shards = groups.map((g) => g.paths.map((p) => {
    const full = shardPath(dir, p, modelJsonPath);
    try {
      return new Uint8Array(fs.readFileSync(full));
    } catch (e) {
      throw readError(modelJsonPath, `weight file ${show(p)}`, e);
    }
  }));
  return assemble(modelJsonPath, artifacts, groups, shards, options, create);
}

// ---------------------------------------------------------------------------------------------------------------------
// Writing

function snakeActivation(name: string): string {
  return snakeKey(activationName(activationCode(name)));
}

function recurrentConfig(l: Recurrent, name: string, allowResetAfter: boolean, where: string): Cfg {
  if (l.className === 'GRU' && l.resetAfter && !allowResetAfter) {
    throw new RangeError(`toTfjs: ${where} is a GRU with resetAfter true, which TensorFlow.js 4.22 cannot load ("GRUCell does ` +
      'not support reset_after parameter set to true"). Build it with gru({ resetAfter: false }) to share it with ' +
      'TensorFlow.js, or pass { allowResetAfter: true } to write it as Keras does');
  }
  const c: Cfg = { name, trainable: true, dtype: 'float32', units: l.units, activation: snakeActivation(l.activation) };
  if (l.className !== 'SimpleRNN') c['recurrent_activation'] = snakeActivation(l.recurrentActivation);
  c['use_bias'] = true;
  if (l.className === 'LSTM') c['unit_forget_bias'] = l.unitForgetBias;
  c['dropout'] = l.dropout;
  c['recurrent_dropout'] = 0;
  if (l.className === 'GRU') c['reset_after'] = l.resetAfter;
  Object.assign(c, { return_sequences: l.returnSequences, return_state: false, go_backwards: l.goBackwards, stateful: l.stateful, unroll: false });
  return c;
}

function denseConfig(l: Dense, name: string): Cfg {
  return { name, trainable: true, dtype: 'float32', units: l.units, activation: snakeActivation(l.activation), use_bias: l.useBias };
}

function stripPrefix(s: string, prefix: string): string {
  return s.startsWith(prefix) ? s.slice(prefix.length) : s;
}

/** The layer's tfjs config and its weights with their tfjs names. */
function layerToTfjs(l: Layer, o: ToTfjsOptions): { entry: Cfg; weights: { name: string; p: Param }[] } {
  const where = `layer '${l.name}' (${l.className})`;
  const own = (prefix: string, src: Layer): { name: string; p: Param }[] => src.params().map((p) => ({ name: `${prefix}/${p.name}`, p }));
  const allowRA = o.allowResetAfter ?? false;
  if (l instanceof Recurrent) {
    return { entry: { class_name: l.className, config: recurrentConfig(l, l.name, allowRA, where) }, weights: own(l.name, l) };
  }
  if (l instanceof Bidirectional) {
    const f = l.forwardLayer;
    const innerName = stripPrefix(f.name, 'forward_');
    return {
      entry: {
        class_name: 'Bidirectional',
        config: { name: l.name, trainable: true, merge_mode: 'concat',
          layer: { class_name: f.className, config: recurrentConfig(f, innerName, allowRA, where) } },
      },
      weights: [...own(`${l.name}/${f.name}`, f), ...own(`${l.name}/${l.backwardLayer.name}`, l.backwardLayer)],
    };
  }
  if (l instanceof TimeDistributed) {
    return {
      entry: { class_name: 'TimeDistributed', config: { name: l.name, trainable: true, layer: { class_name: 'Dense', config: denseConfig(l.layer, l.layer.name || 'dense') } } },
      weights: own(l.name, l.layer),
    };
  }
  if (l instanceof Dense) return { entry: { class_name: 'Dense', config: denseConfig(l, l.name) }, weights: own(l.name, l) };
  if (l instanceof RepeatVector) return { entry: { class_name: 'RepeatVector', config: { name: l.name, trainable: true, n: l.n } }, weights: [] };
  if (l instanceof Flatten) return { entry: { class_name: 'Flatten', config: { name: l.name, trainable: true } }, weights: [] };
  if (l instanceof Dropout) {
    return { entry: { class_name: 'Dropout', config: { name: l.name, trainable: true, rate: l.rate, noise_shape: null, seed: null } }, weights: [] };
  }
  if (l instanceof Reshape) {
    return { entry: { class_name: 'Reshape', config: { name: l.name, trainable: true, target_shape: l.targetShape.slice() } }, weights: [] };
  }
  throw new TypeError(`toTfjs: ${where} has no TensorFlow.js equivalent`);
}

const TFJS_LOSS: Record<LossName, string> = { mse: 'mean_squared_error', mae: 'mean_absolute_error', binaryCrossentropy: 'binary_crossentropy' };

function trainingConfigOf(model: ModelSource): Record<string, unknown> | undefined {
  if (model.loss === null) return undefined;
  const opt = model.optimizer?.config() ?? { name: 'adam' as const };
  let optimizer: Cfg;
  if (opt.name === 'adam') {
    const a = model.optimizer ?? ADAM_DEFAULTS;
    optimizer = { class_name: 'Adam', config: { learningRate: a.learningRate, beta1: a.beta1, beta2: a.beta2, epsilon: a.epsilon } };
  } else if ((opt.momentum ?? 0) > 0) {
    optimizer = { class_name: 'Momentum', config: { learningRate: opt.learningRate, momentum: opt.momentum, useNesterov: false } };
  } else {
    optimizer = { class_name: 'SGD', config: { learningRate: opt.learningRate } };
  }
  return { loss: TFJS_LOSS[model.loss], metrics: [], optimizer_config: optimizer };
}

/**
 * The model as TensorFlow.js layers-format artifacts, for `tf.loadLayersModel(tf.io.fromMemory(toTfjs(model)))`.
 * The model must be built. See the file comment for a GRU with resetAfter true and for stateful models.
 */
export function toTfjs(model: ModelSource, options: ToTfjsOptions = {}): TfjsArtifacts {
  if (!isModel(model)) throw new TypeError('toTfjs(model): expected a Sequential');
  const inputShape = model.getInputShape();
  if (inputShape === null) throw new Error('toTfjs: the model is not built yet (call build, fit or predict first)');
  const stateful = model.layers.some((l) => (l instanceof Recurrent && l.stateful));
  const bs = options.batchSize;
  if (bs !== undefined && !(Number.isInteger(bs) && bs > 0)) throw new RangeError(`toTfjs(batchSize): expected a positive integer, got ${String(bs)}`);
  if (stateful && bs === undefined) {
    throw new RangeError('toTfjs: the model has a stateful layer; TensorFlow.js needs its batch size: pass { batchSize }');
  }
  const layers: Cfg[] = [];
  const weights: { name: string; p: Param }[] = [];
  model.layers.forEach((l, i) => {
    const { entry, weights: w } = layerToTfjs(l, options);
    if (i === 0) (entry['config'] as Cfg)['batch_input_shape'] = [bs ?? null, ...inputShape];
    layers.push(entry);
    weights.push(...w);
  });
  const total = weights.reduce((s, w) => s + w.p.value.length, 0);
  const data = new Float32Array(total);
  let o = 0;
  const weightSpecs: TfjsWeightSpec[] = weights.map(({ name, p }) => {
    data.set(p.value as FloatArray, o);
    o += p.value.length;
    return { name, shape: p.shape.slice(), dtype: 'float32' };
  });
  const out: TfjsArtifacts = {
    modelTopology: { class_name: 'Sequential', config: { name: model.name, layers }, backend: 'bptt' },
    weightSpecs,
    weightData: data.buffer,
    format: 'layers-model',
    generatedBy: GENERATED_BY,
    convertedBy: null,
  };
  const tc = trainingConfigOf(model);
  if (tc !== undefined) out.trainingConfig = tc;
  return out;
}

function modelJson(a: TfjsArtifacts): string {
  const json: Cfg = {
    modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy,
    weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs }],
  };
  if (a.trainingConfig !== undefined) json['trainingConfig'] = a.trainingConfig;
  return JSON.stringify(json);
}

/** Writes dir/weights.bin then dir/model.json, each atomically (the directory is created if needed). */
export async function saveTfjsModel(model: ModelSource, dir: string, options: ToTfjsOptions = {}): Promise<void> {
  const a = toTfjs(model, options);
  await fs.promises.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, 'weights.bin'), new Uint8Array(a.weightData));
  await writeFileAtomic(path.join(dir, 'model.json'), modelJson(a));
}

export function saveTfjsModelSync(model: ModelSource, dir: string, options: ToTfjsOptions = {}): void {
  const a = toTfjs(model, options);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(path.join(dir, 'weights.bin'), new Uint8Array(a.weightData));
  writeFileAtomicSync(path.join(dir, 'model.json'), modelJson(a));
}

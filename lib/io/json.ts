/**
 * bptt's own model format: one JSON document, written atomically.
 *
 *   {
 *     "format": "bptt-model", "formatVersion": 1,
 *     "name", "seed", "dtype": "float32" | "float64", "inputShape": [T, D],
 *     "layers":  [{ "className": "LSTM", "config": { ...camelCase options } }, ...],
 *     "weights": [{ "name": "lstm/kernel", "shape": [D, 4H], "data": base64 of little-endian floats of `dtype` }, ...],
 *     "training": { "loss": "mse", "epochsTrained": 12,                                   (optional)
 *                   "optimizer": { "config": {...}, "step": 480, "slots": [[base64, ...] per weight] } }
 *   }
 *
 * A checkpoint with `training.optimizer` resumes exactly: fit(x, y, { epochs, initialEpoch: model.epochsTrained }) after
 * load gives bit-identical weights to a run that never stopped (shuffling and dropout derive from (seed, epoch)).
 * Reading checks everything and names what is wrong: not JSON (truncated files land here), wrong format, unknown
 * version, unknown layer, weight count, name, shape, byte length and non-finite values.
 *
 * The model comes in as an argument: a writer takes it (ModelSource), a reader takes a function that makes an empty one
 * (CreateModel) and fills it. lib/model/loaders.ts passes Sequential's; this module never imports the class.
 */
import type { FloatArray } from '../../kernels/matmul.js';
import { layerFromConfig } from '../model/layers/index.js';
import type { DType } from '../model/layers/layer.js';
import { Optimizer, type OptimizerConfig } from '../model/optimizers.js';
import type { CreateModel, ModelSource, ModelTarget } from './model-view.js';
import { fileHost } from '../host.js';
import { checkKeys, describeValue, optShape } from '../check.js';
import { ArgumentError, MemoryLimitError, ModelFileError } from '../errors.js';

export const FORMAT = 'bptt-model';
export const FORMAT_VERSION = 1;

/** bptt's model file (what `Sequential.toJSON` returns and `save` writes). */
export interface ModelJSON {
  /** The format's name. */
  format: typeof FORMAT;
  /** The format's version (readers refuse newer ones). */
  formatVersion: number;
  /** The model's name. */
  name: string;
  /** The model's seed. */
  seed: number | string;
  /** 'float32' or 'float64'. */
  dtype: DType;
  /** Per-sample input shape. */
  inputShape: number[];
  /** The layers, in order. */
  layers: {
    /** The Keras class name. */
    className: string;
    /** The layer's getConfig(). */
    config: Record<string, unknown>;
  }[];
  /** The weights, in `weights()` order. */
  weights: {
    /** 'layer/param'. */
    name: string;
    /** The weight's shape. */
    shape: number[];
    /** Base64 of the little-endian values (float32 or float64, as dtype). */
    data: string;
  }[];
  /** Training state, when the model has a loss, has trained, or keeps its optimizer. */
  training?: {
    /** The compiled loss. */
    loss: string | null;
    /** Epochs trained so far. */
    epochsTrained: number;
    /** The optimizer and its state (a checkpoint). */
    optimizer?: {
      /** Its settings. */
      config: OptimizerConfig;
      /** Updates applied. */
      step: number;
      /** Base64 slot arrays, per parameter. */
      slots: string[][];
    };
  };
}

/** Options of {@link Sequential.toJSON} and {@link Sequential.save}. */
export interface ToJSONOptions {
  /** Include the optimizer state (a training checkpoint). Default true when the model has an optimizer. */
  includeOptimizer?: boolean;
}

// ---- base64 of typed arrays, little-endian, in Node and browsers ----

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function toBytes(a: FloatArray): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const out = new Uint8Array(bytes.length),
    w = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += w) for (let k = 0; k < w; k++) out[i + k] = bytes[i + w - 1 - k];
  return out;
}

export function encodeFloats(a: FloatArray): string {
  const bytes = toBytes(a);
  if (typeof Buffer !== 'undefined')
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeFloats(s: unknown, dtype: DType, n: number, what: string): FloatArray {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !B64.test(s))
    throw new ArgumentError(what, 'base64 data', describeValue(s));
  let bytes: Uint8Array;
  if (typeof Buffer !== 'undefined') {
    bytes = new Uint8Array(Buffer.from(s, 'base64'));
  } else {
    const bin = atob(s);
    bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  }
  const w = dtype === 'float64' ? 8 : 4;
  if (bytes.length !== n * w) {
    throw new ArgumentError(what, `${n} ${dtype} values (${n * w} bytes)`, `${bytes.length} bytes`);
  }
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < bytes.length; i += w) bytes.subarray(i, i + w).reverse();
  }
  const out = dtype === 'float64' ? new Float64Array(bytes.buffer, 0, n) : new Float32Array(bytes.buffer, 0, n);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i])) {
      throw new ArgumentError(what, 'finite values', `${out[i]} at index ${i}`, {
        problem: `non-finite value ${out[i]} at index ${i}`,
      });
    }
  }
  return out;
}

// ---- model ↔ JSON ----

export function modelToJSON(model: ModelSource, options: ToJSONOptions = {}): ModelJSON {
  const inputShape = model.getInputShape();
  if (inputShape === null) {
    throw new ArgumentError('toJSON(model)', 'a built model', 'a model that is not built', {
      problem: 'the model is not built yet (call build, fit or predict first)',
    });
  }
  const json: ModelJSON = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    name: model.name,
    seed: model.seed,
    dtype: model.dtype,
    inputShape,
    layers: model.layers.map((l) => ({ className: l.className, config: l.getConfig() })),
    weights: model.weights().map((w) => ({ name: w.name, shape: w.shape, data: encodeFloats(w.value) })),
  };
  const opt = model.optimizer;
  const withOpt = options.includeOptimizer ?? opt !== null;
  if (model.loss !== null || model.epochsTrained > 0 || (withOpt && opt !== null)) {
    json.training = { loss: model.loss, epochsTrained: model.epochsTrained };
    if (withOpt && opt !== null) {
      const st = opt.getState();
      json.training.optimizer = {
        config: opt.config(),
        step: st.step,
        slots: st.slots.map((s) => s.map(encodeFloats)),
      };
    }
  }
  return json;
}

/** Throws the ModelFileError `${source}: ${msg}`: a problem with the file (or JSON text) named by `source`. */
export function fail(source: string, msg: string): never {
  throw new ModelFileError(source, msg);
}

/**
 * Runs `f` (an option check or constructor deep inside a loader) so that its ArgumentError names the file: it becomes a
 * ModelFileError `${source}: ${argument}: ${problem}` with the original as `cause`. A MemoryLimitError keeps its class
 * (a caller may treat "too large" apart) and gets the file in `file` and in its message.
 */
export function withSource<T>(source: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof MemoryLimitError) {
      e.file = source;
      e.message = `${source}: ${e.detail}`;
    } else if (e instanceof ArgumentError && !(e instanceof ModelFileError)) {
      throw new ModelFileError(source, e.message, e);
    }
    throw e;
  }
}

const MODEL_KEYS = [
  'format',
  'formatVersion',
  'name',
  'seed',
  'dtype',
  'inputShape',
  'layers',
  'weights',
  'training',
] as const;

/**
 * Checks a bptt model document (an object, or its JSON text) and fills the model `create` makes with it. Every problem
 * is a ModelFileError naming `source` (a MemoryLimitError for a model too large). Sequential.fromJSON and
 * modelFromJSON (lib/model/loaders.ts) are this with Sequential's constructor.
 */
export function buildFromJSON<M extends ModelTarget>(input: unknown, source: string, create: CreateModel<M>): M {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (e) {
      fail(source, `not valid JSON (a truncated or corrupt file?): ${(e as Error).message}`);
    }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(source, 'expected a JSON object');
  const j = json as Partial<ModelJSON>;
  if (j.format !== FORMAT) fail(source, `not a bptt model (format ${describeValue(j.format)}, expected "${FORMAT}")`);
  if (j.formatVersion !== FORMAT_VERSION) {
    fail(source, `unknown format version ${describeValue(j.formatVersion)}; this bptt reads version ${FORMAT_VERSION}`);
  }
  withSource(source, () => checkKeys(j, MODEL_KEYS, 'model'));
  if (j.dtype !== 'float32' && j.dtype !== 'float64')
    fail(source, `dtype must be "float32" or "float64", got ${describeValue(j.dtype)}`);
  const inputShape = withSource(source, () => optShape(j.inputShape, 'inputShape'));
  if (inputShape === null) fail(source, 'inputShape is missing');
  if (j.name !== undefined && typeof j.name !== 'string')
    fail(source, `name must be a string, got ${describeValue(j.name)}`);
  const seed = j.seed ?? 0;
  if (!(typeof seed === 'string' ? seed.length <= 256 : typeof seed === 'number' && Number.isFinite(seed))) {
    fail(source, `seed must be a finite number or a short string, got ${describeValue(seed)}`);
  }
  if (!Array.isArray(j.layers) || j.layers.length === 0) fail(source, 'layers must be a non-empty list');
  if (!Array.isArray(j.weights)) fail(source, 'weights must be a list');
  const model = create({ seed, dtype: j.dtype, ...(typeof j.name === 'string' ? { name: j.name } : {}) });
  j.layers.forEach((l, i) => {
    if (
      l === null ||
      typeof l !== 'object' ||
      typeof l.className !== 'string' ||
      typeof l.config !== 'object' ||
      l.config === null
    ) {
      fail(source, `layers[${i}] must be { className, config }`);
    }
    withSource(source, () => {
      checkKeys(l, ['className', 'config'], `layers[${i}]`);
      model.add(layerFromConfig(l.className, l.config, `layers[${i}]`));
    });
  });
  withSource(source, () => model.build(inputShape));
  const expected = model.weights();
  if (j.weights.length !== expected.length) {
    fail(source, `expected ${expected.length} weights for this architecture, got ${j.weights.length}`);
  }
  const values = expected.map((w, i) => {
    const got = (j.weights as ModelJSON['weights'])[i];
    if (!got || typeof got !== 'object' || got.name !== w.name)
      fail(source, `weights[${i}]: expected ${w.name}, got ${describeValue(got?.name)}`);
    withSource(source, () => checkKeys(got, ['name', 'shape', 'data'], `weights[${i}]`));
    if (
      !Array.isArray(got.shape) ||
      got.shape.length !== w.shape.length ||
      !got.shape.every((d, k) => d === w.shape[k])
    ) {
      fail(source, `weight ${w.name} expected shape [${w.shape.join(', ')}], got ${describeValue(got.shape)}`);
    }
    return decodeFloats(got.data, j.dtype as DType, w.value.length, `${source}: weight ${w.name}`);
  });
  model.setWeights(values);
  const tr = j.training;
  if (tr !== undefined) {
    if (tr === null || typeof tr !== 'object' || Array.isArray(tr)) fail(source, 'training must be an object');
    withSource(source, () => checkKeys(tr, ['loss', 'epochsTrained', 'optimizer'], 'training'));
    if (tr.loss !== null && tr.loss !== undefined) {
      if (typeof tr.loss !== 'string')
        fail(source, `training.loss must be a string or null, got ${describeValue(tr.loss)}`);
      withSource(source, () => model.compile({ loss: tr.loss as string }));
    }
    if (!Number.isSafeInteger(tr.epochsTrained) || tr.epochsTrained < 0) {
      fail(source, `training.epochsTrained must be a non-negative integer, got ${describeValue(tr.epochsTrained)}`);
    }
    model.epochsTrained = tr.epochsTrained;
    if (tr.optimizer !== undefined) {
      const o = tr.optimizer;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) fail(source, 'training.optimizer must be an object');
      withSource(source, () => checkKeys(o, ['config', 'step', 'slots'], 'training.optimizer'));
      const opt = withSource(source, () => new Optimizer(o.config));
      const params = model.layers.flatMap((l) => l.params());
      if (!Array.isArray(o.slots) || !Number.isSafeInteger(o.step) || o.step < 0)
        fail(source, 'training.optimizer must have step and slots');
      if (o.slots.length !== params.length)
        fail(source, `training.optimizer.slots: expected ${params.length} entries, got ${o.slots.length}`);
      const want = opt.name === 'adam' ? 2 : opt.momentum > 0 ? 1 : 0;
      const slots = o.slots.map((s, i) => {
        const p = params[i];
        if (!p || !Array.isArray(s) || s.length !== want)
          fail(source, `training.optimizer.slots[${i}]: expected ${want} slot(s) for ${expected[i]?.name}`);
        return s.map((d, k) =>
          decodeFloats(d, j.dtype as DType, p.value.length, `${source}: optimizer slot ${k} of ${expected[i]?.name}`),
        );
      });
      withSource(source, () => opt.setState({ step: o.step, slots }, params));
      model.optimizer = opt;
    }
  }
  return model;
}

/** Writes the model (and, by default, its optimizer state) to `path` atomically. */
export function saveModel(model: ModelSource, path: string, options: ToJSONOptions = {}): void {
  const host = fileHost('Sequential.save(path)', 'writes a file');
  host.writeAtomic(path, JSON.stringify(modelToJSON(model, options)));
}

/** Reads a model written by saveModel into the model `create` makes (see buildFromJSON). */
export function readModelFile<M extends ModelTarget>(path: string, create: CreateModel<M>): M {
  const host = fileHost('Sequential.load(path)', 'reads a file');
  let text: string;
  try {
    text = host.readText(path);
  } catch (e) {
    throw new ModelFileError(path, `cannot read the file: ${(e as { code?: string }).code ?? (e as Error).message}`);
  }
  if (text.length === 0) throw new ModelFileError(path, 'the file is empty');
  return buildFromJSON(text, `loadModel(${path})`, create);
}

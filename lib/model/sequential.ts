/**
 * Sequential: a stack of layers with fit / predict / evaluate.
 *
 * Public data is batch-major, [N, T, D] for sequences or [N, D] for vectors, given as nested arrays, { data, shape } or an
 * ndarray (lib/tensor.ts validates shape, NaN/Inf and emptiness). Inside, a minibatch of sequences is gathered
 * TIME-MAJOR ([T, B, D]) once, so the recurrent kernels read it without copies; outputs are scattered back batch-major.
 *
 * One training step: zero gradients → forward (training) → loss and dL/dŷ → backward through the layers (the first layer
 * skips dL/dx) → optional global-norm clipping → finiteness check → optimizer update. A non-finite loss or gradient stops
 * training with a TrainingDivergedError and leaves the weights as they were before that step.
 *
 * Determinism: initial weights derive from the model seed and the layer names; the shuffle order and dropout masks of
 * epoch e derive from (fit seed, e). The same seed, data and options give bit-identical weights, and a model resumed from
 * a checkpoint at epoch k (optimizer state included) continues exactly as if it had never stopped.
 *
 * Threads (`workers`, lib/parallel): with n > 1 each minibatch is split into n contiguous shards, shard 0 computed here
 * and shards 1 … n−1 by worker threads; their gradients, each scaled by its share of the batch, are summed in the fixed
 * order 0, 1, …, n−1 before clipping and the update, and shard k of batch b draws its dropout masks from
 * (fit seed, epoch, b, k). A run is bit-identical for a given worker count; counts differ from each other by rounding.
 * workers: 1 is the single-threaded step above, unchanged. predict splits its rows into n contiguous chunks; rows do
 * not interact, so its outputs are bit-identical for every worker count.
 */
import type { FloatArray } from '../../kernels/matmul.js';
import { clipByGlobalNorm, globalNorm } from '../../kernels/optim.js';
import { type DType, Layer, type Param, type FloatCtor, type ForwardContext, shapeSize } from './layers/layer.js';
import { Recurrent } from './layers/recurrent.js';
import { RepeatVector } from './layers/shape.js';
import { getLoss, type Loss, type LossName } from './losses.js';
import { Optimizer, type OptimizerSpec } from './optimizers.js';
import { makeRandom } from '../random.js';
import { ArgumentError, TrainingDivergedError } from '../errors.js';
import { toTensor, toNdarray, shapeString, type NdArray, type Tensor, type TensorLike } from '../tensor.js';
import {
  modelToJSON,
  buildFromJSON,
  saveModel,
  readModelFile,
  type ModelJSON,
  type ToJSONOptions,
} from '../io/json.js';
import { toTfjs, type TfjsArtifacts, type ToTfjsOptions } from '../io/tfjs.js';
import { getBackend } from '../backend.js';
import { checkModelMemory } from '../memory.js';
import { resolveWorkers, checkWorkers, type Workers } from '../parallel/auto.js';
import { acquirePool, disposePool, type WorkerPool, type PoolSpec } from '../parallel/pool.js';
import { shardRange, shardSeed } from '../parallel/protocol.js';
import { checkKeys, checkObject, describeValue, optBool } from '../check.js';
import {
  checkCallbacks,
  checkSignal,
  checkYieldEvery,
  refuseYieldEvery,
  runAsync,
  runSync,
  type AbortSignalLike,
  type EpochLogs,
  type FitAsyncCallbacks,
  type FitCallbacks,
  type FitLoop,
  type History,
  type YieldEvery,
} from './fit-loop.js';

export type { DType };
export type {
  EpochLogs,
  History,
  YieldEvery,
  FitCallbacks,
  FitAsyncCallbacks,
  TrainBeginLogs,
  EpochBeginLogs,
  BatchBeginLogs,
  BatchEndLogs,
  FitEvent,
  FitLoop,
  AbortSignalLike,
} from './fit-loop.js';

/** Options of the {@link Sequential} constructor. */
export interface SequentialOptions {
  /** Seed for weight initialisation (and the default seed of fit). Default 0. */
  seed?: number | string;
  /** Precision of weights and activations. float32 (default) is fast; float64 is for gradient checks and learners. */
  dtype?: DType;
  /** The model's name (kept in its files). Default 'sequential'. */
  name?: string;
}

/** fit's earlyStopping option: stop when the monitored loss stops improving. */
export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping. Default 5. */
  patience?: number;
  /** Smallest decrease that counts as an improvement. Default 0. */
  minDelta?: number;
  /** 'valLoss' (default when there is validation data) or 'loss'. */
  monitor?: 'valLoss' | 'loss';
  /** Put back the weights of the best epoch when training ends. Default true. */
  restoreBestWeights?: boolean;
}

/**
 * Options of {@link Sequential.fit}: the settings and synchronous callbacks (onEpochEnd returning false stops training);
 * the defaults are Keras's.
 */
export interface FitOptions extends FitCallbacks {
  /** Epochs to train (the index to stop before, counting from initialEpoch). Default 1. */
  epochs?: number;
  /** Samples per training step. Default 32. */
  batchSize?: number;
  /** Shuffle the training samples every epoch (seeded). Default true. */
  shuffle?: boolean;
  /** Seed of the shuffling and dropout; default: the model's seed. */
  seed?: number | string;
  /** Hold out the LAST fraction of the samples (before shuffling) for validation, as Keras does. */
  validationSplit?: number;
  /** Validation inputs and targets [x, y], scored after each epoch (valLoss). */
  validationData?: [unknown, unknown];
  /** 'mse', 'mae', 'binaryCrossentropy' (or a Keras spelling); default the compiled loss, else 'mse'. */
  loss?: string;
  /** Default: the compiled or loaded optimizer, else Adam with learning rate 1e-3. */
  optimizer?: OptimizerSpec;
  /** Rescale gradients so that their global norm is at most clipNorm. */
  clipNorm?: number;
  /** Stop when the loss stops improving: true for the defaults of {@link EarlyStoppingOptions}. */
  earlyStopping?: EarlyStoppingOptions | boolean;
  /** Epoch to start counting from (resume a checkpoint: pass model.epochsTrained). Default 0. */
  initialEpoch?: number;
  /**
   * Threads that compute each training step: a positive integer, or 'auto' (default: see lib/parallel/auto.ts; 1 for
   * small models and batches, stateful models and engines without worker_threads). n > 1 splits every minibatch into n
   * shards, one per thread; the result is bit-identical for a given n, and agrees with other counts to rounding.
   */
  workers?: Workers;
  /**
   * Stops training when aborted: at the next batch boundary the call fails with the signal's reason (an AbortError
   * DOMException by default) and the model keeps the weights and optimizer state of its last completed step.
   */
  signal?: AbortSignalLike;
}

/** fitAsync's options: fit's, with callbacks that may return a Promise (awaited), and when to yield. */
export interface FitAsyncOptions extends Omit<FitOptions, keyof FitCallbacks>, FitAsyncCallbacks {
  /**
   * When to give the event loop a turn (TensorFlow.js semantics): a number of milliseconds (after the first batch that
   * ends that long after the last yield), 'auto' (the default: 125 ms), 'batch', 'epoch' or 'never'.
   */
  yieldEvery?: YieldEvery;
}

/** The forward context of every inference pass (no dropout). */
const INFERENCE: ForwardContext = { training: false, random: null };

const FIT_OPTION_KEYS = [
  'epochs',
  'batchSize',
  'shuffle',
  'seed',
  'validationSplit',
  'validationData',
  'loss',
  'optimizer',
  'clipNorm',
  'earlyStopping',
  'initialEpoch',
  'workers',
  'signal',
  'onTrainBegin',
  'onTrainEnd',
  'onEpochBegin',
  'onEpochEnd',
  'onBatchBegin',
  'onBatchEnd',
] as const;

/** Options of {@link Sequential.predict}. */
export interface PredictOptions {
  /** Default 32. */
  batchSize?: number;
  /** Threads that compute the rows: a positive integer, or 'auto' (default). Outputs are the same for every count. */
  workers?: Workers;
}

/** evaluate's options. */
export interface EvaluateOptions {
  /** Default 32. */
  batchSize?: number;
  /** The loss to average: default the compiled loss, else 'mse'. */
  loss?: string;
  /** Threads that compute the outputs: a positive integer, or 'auto' (default). The loss is the same for every count. */
  workers?: Workers;
}

interface Prepared {
  x: Tensor;
  y: Tensor;
}

/** fit's data: the training rows (trainIdx of x, y) and the validation rows (valIdx of val), if any. */
interface FitData extends Prepared {
  trainIdx: Int32Array;
  val: Prepared | null;
  valIdx: Int32Array | null;
}

/** fit's options, checked. */
interface FitPlan {
  epochs: number;
  initialEpoch: number;
  batchSize: number;
  shuffle: boolean;
  clipNorm: number | undefined;
  workers: Workers;
  /** The seed of the shuffles and dropout masks, as a string. */
  seed: string;
}

/**
 * A stack of layers with fit / predict / evaluate, Keras's Sequential. Data is batch-major: [N, T, D] for sequences,
 * [N, D] for vectors, as nested arrays, typed arrays with a shape ({ data, shape }) or ndarrays.
 *
 * @example
 * ```ts
 * import { Sequential, lstm, dense } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // Sum of a sequence of 5 numbers.
 * const x = Array.from({ length: 200 }, (_, i) => Array.from({ length: 5 }, (_, t) => [Math.sin(i * 7 + t)]));
 * const y = x.map((s) => [s.reduce((a, [v]) => a + v, 0)]);
 * const model = new Sequential([lstm({ units: 16, inputShape: [5, 1] }), dense({ units: 1 })], { seed: 1 });
 * const history = model.fit(x, y, { epochs: 30, batchSize: 20, optimizer: { name: 'adam', learningRate: 0.01 } });
 * assert.ok(history.loss[29] < history.loss[0] / 10);
 * assert.ok(Math.abs(model.predict([[[0.1], [0.2], [0.3], [0.4], [0.5]]]).get(0, 0) - 1.5) < 0.3);
 * ```
 */
export class Sequential {
  /** The layers, in order. */
  readonly layers: Layer[] = [];
  /** Seed of the initial weights and the default seed of fit. */
  readonly seed: number | string;
  /** 'float32' or 'float64'. */
  readonly dtype: DType;
  /** The model's name. */
  name: string;
  /** Loss used by fit/evaluate when none is given (set by compile, fit, or a loaded training config). */
  loss: LossName | null = null;
  /** Optimizer used by fit when none is given, with its state (set by compile, fit, or a loaded checkpoint). */
  optimizer: Optimizer | null = null;
  /** Epochs trained so far (what a checkpoint resumes from). */
  epochsTrained = 0;
  private inputShape: number[] | null = null;
  private outputShape: number[] = [];
  private params: Param[] = [];
  private readonly ctor: FloatCtor;
  private readonly nameCounts = new Map<string, number>();
  private gatherX: FloatArray | null = null;
  private gatherY: FloatArray | null = null;
  private dyBuf: FloatArray | null = null;
  private oneX: FloatArray | null = null; // predictWindow's input, one sample
  private backup: FloatArray[] = [];
  /** fusedRepeat[i]: layer i is a RepeatVector feeding the recurrent layer i+1; the pair runs as one call (set by build). */
  private fusedRepeat: boolean[] = [];
  /** A fitLoop is running (a fitAsync may be waiting between steps): a second fit must not interleave with it. */
  private training = false;
  /** The largest batch size whose memory checkMemory has passed (lib/memory.ts). */
  private memoryCheckedFor = 0;

  /**
   * @param layers - The layers, in order (more can be added with `add` before the model is built).
   * @param options - seed, dtype, name.
   * @throws {@link ArgumentError} for an invalid option, a non-layer or a duplicate layer name.
   */
  constructor(layers: Layer[] = [], options: SequentialOptions = {}) {
    checkKeys(options, ['seed', 'dtype', 'name'], 'Sequential');
    if (options.name !== undefined && typeof options.name !== 'string')
      throw new ArgumentError('Sequential(name)', 'a string', describeValue(options.name));
    this.seed = options.seed ?? 0;
    this.dtype = options.dtype ?? 'float32';
    if (this.dtype !== 'float32' && this.dtype !== 'float64') {
      throw new ArgumentError('Sequential(dtype)', "'float32' or 'float64'", describeValue(options.dtype));
    }
    this.ctor = this.dtype === 'float32' ? Float32Array : Float64Array;
    this.name = options.name ?? 'sequential';
    for (const l of layers) this.add(l);
  }

  /**
   * Appends a layer; names it like Keras ('lstm', 'lstm_1', ...) if it has no name.
   *
   * @param layer - The layer to append.
   * @returns The model, for chaining.
   * @throws {@link ArgumentError} when `layer` is not a layer, its name is taken, or the model is already built.
   */
  add(layer: Layer): this {
    if (!(layer instanceof Layer)) throw ArgumentError.problem('Sequential.add(layer)', 'expected a layer');
    if (this.inputShape !== null)
      throw ArgumentError.problem('Sequential.add', 'the model is already built; add layers before fit/predict/build');
    if (layer.name === '') {
      const base =
        layer.className === 'SimpleRNN'
          ? 'simple_rnn'
          : layer.className.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
      const k = this.nameCounts.get(base) ?? 0;
      this.nameCounts.set(base, k + 1);
      layer.name = k === 0 ? base : `${base}_${k}`;
    }
    if (this.layers.some((l) => l.name === layer.name))
      throw ArgumentError.problem('Sequential.add', `duplicate layer name ${describeValue(layer.name)}`);
    this.layers.push(layer);
    return this;
  }

  /** Whether the model has its input shape and weights (after build, fit, predict, or loading). */
  get built(): boolean {
    return this.inputShape !== null;
  }

  /**
   * Builds every layer for a per-sample input shape ([T, D] or [D]); takes it from the first layer's inputShape if
   * omitted.
   *
   * @param inputShape - Per-sample input shape; default the first layer's inputShape option.
   * @returns The model, for chaining.
   * @throws {@link ArgumentError} when there is no shape, it disagrees with the first layer's, or a layer rejects it.
   * @throws {@link MemoryLimitError} when the model's buffers cannot fit in memory even for a batch of 1.
   */
  build(inputShape?: readonly number[]): this {
    if (this.layers.length === 0) throw ArgumentError.problem('Sequential.build', 'the model has no layers');
    const declared = (this.layers[0] as unknown as { declaredInputShape?: number[] | null }).declaredInputShape ?? null;
    const shape = inputShape ? inputShape.slice() : declared;
    if (shape === null)
      throw ArgumentError.problem(
        'Sequential.build',
        'give the first layer an inputShape, or call fit/predict/build with data',
      );
    if (declared !== null && inputShape && shapeString(declared) !== shapeString(inputShape)) {
      throw ArgumentError.problem(
        'Sequential.build',
        `input shape ${shapeString(inputShape)} differs from the first layer's inputShape ${shapeString(declared)}`,
      );
    }
    shape.forEach((d) => {
      if (!Number.isInteger(d) || d < 1)
        throw ArgumentError.problem(
          'Sequential.build',
          `input shape must be positive integers, got ${shapeString(shape)}`,
        );
    });
    // Nothing is allocated yet: a size that cannot fit even at batch 1 is a MemoryLimitError here (lib/memory.ts).
    checkModelMemory(this.layers, shape, 1, this.ctor, 'Sequential.build');
    this.memoryCheckedFor = 1;
    let s = shape;
    this.layers.forEach((l) => {
      s = l.build(s, this.ctor, `${String(this.seed)}/${l.name}`);
    });
    this.inputShape = shape;
    this.outputShape = s;
    this.params = this.layers.flatMap((l) => l.params());
    this.fusedRepeat = this.layers.map((l, i) => l instanceof RepeatVector && this.layers[i + 1] instanceof Recurrent);
    this.backup = this.params.map((p) => new this.ctor(p.value.length));
    this.oneX = null;
    return this;
  }

  /**
   * Per-sample input shape, e.g. [32, 1]; null before build.
   *
   * @returns A copy of the shape, or null.
   */
  getInputShape(): number[] | null {
    return this.inputShape ? this.inputShape.slice() : null;
  }

  /**
   * Per-sample output shape, e.g. [1]; [] before build.
   *
   * @returns A copy of the shape.
   */
  getOutputShape(): number[] {
    return this.outputShape.slice();
  }

  /**
   * Sets the default loss and optimizer (Keras compile).
   *
   * @param options - loss (a loss name) and optimizer (an {@link OptimizerSpec}).
   * @returns The model, for chaining.
   * @throws {@link ArgumentError} for an unknown loss or an invalid optimizer.
   */
  compile(options: { loss?: string; optimizer?: OptimizerSpec }): this {
    if (options.loss !== undefined) this.loss = getLoss(options.loss, 'compile(loss)').name;
    if (options.optimizer !== undefined) this.optimizer = new Optimizer(options.optimizer);
    return this;
  }

  /**
   * The trainable parameters of all layers, in order, each with a "layer/param" name.
   *
   * @returns Name, shape and the live value array of each weight (writing into `value` changes the model).
   * @throws {@link ArgumentError} before the model is built.
   */
  weights(): { name: string; shape: number[]; value: FloatArray }[] {
    this.requireBuilt('weights');
    const out: { name: string; shape: number[]; value: FloatArray }[] = [];
    for (const l of this.layers) {
      const prefix = l.name;
      for (const p of l.params()) out.push({ name: `${prefix}/${p.name}`, shape: p.shape.slice(), value: p.value });
    }
    return out;
  }

  /**
   * Copies of the weights, in `weights()` order.
   *
   * @returns One array per weight.
   * @throws {@link ArgumentError} before the model is built.
   */
  getWeights(): FloatArray[] {
    this.requireBuilt('getWeights');
    return this.params.map((p) => p.value.slice());
  }

  /**
   * Sets every weight from arrays in `weights()` order; lengths must match.
   *
   * @param values - One array per weight, each row-major in its weight's shape.
   * @throws {@link ArgumentError} before build, for a wrong count or length, or a non-finite value.
   */
  setWeights(values: readonly ArrayLike<number>[]): void {
    this.requireBuilt('setWeights');
    if (values.length !== this.params.length) {
      throw new ArgumentError('setWeights', `${this.params.length} arrays`, String(values.length));
    }
    const names = this.weights().map((w) => w.name);
    values.forEach((v, i) => {
      const p = this.params[i];
      if (v.length !== p.value.length) {
        throw ArgumentError.problem(
          'setWeights',
          `${names[i]} expected ${p.value.length} values (shape ${shapeString(p.shape)}), got ${v.length}`,
        );
      }
      for (let j = 0; j < v.length; j++) {
        const x = v[j];
        if (!Number.isFinite(x))
          throw ArgumentError.problem('setWeights', `${names[i]} has a non-finite value ${x} at index ${j}`);
      }
      p.value.set(v);
    });
  }

  /**
   * Total number of trainable scalars.
   *
   * @returns The parameter count.
   * @throws {@link ArgumentError} before the model is built.
   */
  countParams(): number {
    this.requireBuilt('countParams');
    return this.params.reduce((a, p) => a + p.value.length, 0);
  }

  /**
   * A Keras-like table of layers, output shapes and parameter counts.
   *
   * @returns The table, one line per layer and a total.
   * @throws {@link ArgumentError} before the model is built.
   */
  summary(): string {
    this.requireBuilt('summary');
    const rows = this.layers.map((l) => [
      `${l.name} (${l.className})`,
      shapeString([null, ...l.outputShape]),
      String(l.params().reduce((a, p) => a + p.value.length, 0)),
    ]);
    const head = ['Layer (type)', 'Output shape', 'Params'];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]): string => r.map((c, i) => c.padEnd(w[i])).join('  ');
    return [line(head), ...rows.map(line), `Total params: ${this.countParams()}`].join('\n');
  }

  /**
   * The model as bptt's JSON format (architecture, weights, and by default training state). See lib/io/json.ts.
   * Works anywhere (no file system): `JSON.stringify` it to store or send the model.
   *
   * @param options - includeOptimizer (default true): keep the optimizer state so training can resume.
   * @returns A plain object that `Sequential.fromJSON` rebuilds the model from.
   * @throws {@link ArgumentError} before the model is built.
   * @example
   * ```ts
   * import { Sequential, gru, dense } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const model = new Sequential([gru({ units: 4, inputShape: [3, 2] }), dense({ units: 1 })], { seed: 7 }).build();
   * const text = JSON.stringify(model.toJSON());
   * const copy = Sequential.fromJSON(text);
   * const x = [[[1, 2], [3, 4], [5, 6]]];
   * assert.deepEqual(copy.predict(x).data, model.predict(x).data);
   * ```
   */
  toJSON(options: ToJSONOptions = {}): ModelJSON {
    return modelToJSON(this, options);
  }

  /**
   * Rebuilds a model from `toJSON()` output (an object or its JSON text); every field is checked.
   *
   * @param json - The object, or its JSON text.
   * @param source - What to call the input in error messages (a file name, say).
   * @returns The model, built, with its weights (and optimizer state, if saved).
   * @throws {@link ModelFileError} when the JSON is malformed or a field is missing or invalid (naming `source`).
   * @example
   * ```ts
   * import { Sequential, dense, ModelFileError } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const json = new Sequential([dense({ units: 2, inputShape: [3] })]).build().toJSON();
   * assert.equal(Sequential.fromJSON(json).countParams(), 8);
   * assert.throws(() => Sequential.fromJSON('{"format": "nope"}', 'model.json'), ModelFileError);
   * ```
   */
  static fromJSON(json: unknown, source = 'fromJSON'): Sequential {
    return buildFromJSON(json, source, (o) => new Sequential([], o));
  }

  /**
   * TensorFlow.js layers-format artifacts that tf.loadLayersModel(tf.io.fromMemory(...)) accepts. See lib/io/tfjs.ts.
   *
   * @param options - See {@link ToTfjsOptions}.
   * @returns The model topology, weight specs and weight data.
   * @throws {@link ArgumentError} before the model is built.
   */
  toTfjs(options: ToTfjsOptions = {}): TfjsArtifacts {
    return toTfjs(this, options);
  }

  /**
   * Writes the model to a file atomically (temp file + rename): a crash never leaves a half-written model. Node only
   * (it uses the file system); elsewhere use `toJSON`.
   *
   * @param path - The file to write (bptt's JSON format).
   * @param options - includeOptimizer (default true).
   * @throws {@link ArgumentError} before the model is built.
   * @throws Error (from the file system) when the file cannot be written.
   * @example
   * ```ts
   * import { Sequential, lstm } from 'bptt';
   * import assert from 'node:assert/strict';
   * import * as fs from 'node:fs';
   * import * as os from 'node:os';
   * import * as path from 'node:path';
   *
   * const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-')), 'model.json');
   * const model = new Sequential([lstm({ units: 3, inputShape: [4, 1] })], { seed: 3 }).build();
   * model.save(file);
   * const loaded = Sequential.load(file);
   * assert.deepEqual(loaded.getWeights(), model.getWeights());
   * ```
   */
  save(path: string, options: ToJSONOptions = {}): void {
    saveModel(this, path, options);
  }

  /**
   * Reads a model written by `save` (Node only; elsewhere use `fromJSON`).
   *
   * @param path - The file to read.
   * @returns The model, built, with its weights (and optimizer state, if saved).
   * @throws {@link ModelFileError} when the file cannot be read, is not valid JSON, or a field is invalid.
   * @example
   * ```ts
   * import { Sequential, dense, ModelFileError } from 'bptt';
   * import assert from 'node:assert/strict';
   * import   * as fs from 'node:fs';
   * import   * as os from 'node:os';
   * import   * as path from 'node:path';
   *
   * const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-'));
   * new Sequential([dense({ units: 3, inputShape: [2] })], { name: 'head' }).build().save(path.join(dir, 'm.json'));
   * assert.equal(Sequential.load(path.join(dir, 'm.json')).name, 'head');
   * assert.throws(() => Sequential.load(path.join(dir, 'missing.json')), ModelFileError);
   * ```
   */
  static load(path: string): Sequential {
    return readModelFile(path, (o) => new Sequential([], o));
  }

  /** Forgets the carried state of stateful layers. */
  resetStates(): void {
    for (const l of this.layers) l.resetStates();
  }

  /** A MemoryLimitError (naming `fn`) when the layers' buffers for a batch of B cannot fit; checked once per larger B. */
  private checkMemory(B: number, fn: string): void {
    if (B <= this.memoryCheckedFor || this.inputShape === null) return;
    checkModelMemory(this.layers, this.inputShape, B, this.ctor, fn);
    this.memoryCheckedFor = B;
  }

  private requireBuilt(fn: string): void {
    if (this.inputShape === null)
      throw ArgumentError.problem(fn, 'the model is not built yet (call build, fit or predict first)');
  }

  private coerce(x: unknown, argName: string, perSample: readonly number[] | null): Tensor {
    const shape = perSample ? [null, ...perSample] : undefined;
    // share: fit, predict and evaluate only read their inputs, so a typed array of the model's dtype is not copied.
    const t = toTensor(x, argName, { dtype: this.dtype, share: true, ...(shape ? { shape } : {}) });
    if (t.shape.length < 2)
      throw ArgumentError.problem(argName, `expected a batch [N, T, D] or [N, D], got shape ${shapeString(t.shape)}`);
    return t;
  }

  private ensureBuiltFor(x: unknown, argName: string): Tensor {
    const declared =
      (this.layers[0] as unknown as { declaredInputShape?: number[] | null } | undefined)?.declaredInputShape ?? null;
    if (this.inputShape === null && declared !== null) this.build();
    if (this.inputShape === null) {
      const t = this.coerce(x, argName, null);
      this.build(t.shape.slice(1));
      return t;
    }
    return this.coerce(x, argName, this.inputShape);
  }

  /**
   * Gathers samples idx[0..B) of a batch-major tensor into `out` in the internal layout: time-major [T, B, F] for a
   * per-sample shape [T, F], plain [B, F] otherwise.
   */
  private gather(out: FloatArray, t: Tensor, idx: ArrayLike<number>, start: number, B: number): void {
    const per = t.shape.slice(1);
    const src = t.data;
    if (per.length === 2) {
      const T = per[0],
        F = per[1],
        TF = T * F;
      for (let b = 0; b < B; b++) {
        const s0 = idx[start + b] * TF;
        for (let s = 0; s < T; s++) {
          const so = s0 + s * F,
            d = (s * B + b) * F;
          for (let f = 0; f < F; f++) out[d + f] = src[so + f];
        }
      }
    } else {
      const F = shapeSize(per);
      for (let b = 0; b < B; b++) {
        const so = idx[start + b] * F;
        for (let f = 0; f < F; f++) out[b * F + f] = src[so + f];
      }
    }
  }

  /** The inverse of gather for model outputs: internal layout of B samples → rows start..start+B of a batch-major array. */
  private scatter(dst: FloatArray, y: FloatArray, start: number, B: number): void {
    const per = this.outputShape;
    if (per.length === 2) {
      const T = per[0],
        F = per[1],
        TF = T * F;
      for (let b = 0; b < B; b++)
        for (let s = 0; s < T; s++) {
          const so = (s * B + b) * F,
            d = (start + b) * TF + s * F;
          for (let f = 0; f < F; f++) dst[d + f] = y[so + f];
        }
    } else {
      const F = shapeSize(per);
      for (let i = 0; i < B * F; i++) dst[start * F + i] = y[i];
    }
  }

  private forwardBatch(x: FloatArray, B: number, ctx: ForwardContext): FloatArray {
    let h = x;
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      if (this.fusedRepeat[i] === true) {
        // RepeatVector → recurrent layer: one call on the un-repeated [B, F] input (Recurrent.forwardRepeated), which
        // computes the recurrent layer's input projection once per sequence instead of once per step.
        h = (layers[i + 1] as Recurrent).forwardRepeated(h, B, ctx);
        i++;
      } else {
        h = layers[i].forward(h, B, ctx);
      }
    }
    return h;
  }

  /** Backward through every layer from dL/d(output); a fused RepeatVector → recurrent pair returns dL/dx summed over time. */
  private backwardBatch(dy: FloatArray): void {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const fused = i > 0 && this.fusedRepeat[i - 1] === true;
      const first = fused ? i - 1 : i; // index of the (pair's) first layer: the model's input needs no gradient
      const d = this.layers[i].backward(dy, first > 0);
      if (first > 0) dy = d as FloatArray;
      if (fused) i--;
    }
  }

  private buffer(kind: 'x' | 'y' | 'dy', n: number): FloatArray {
    const cur = kind === 'x' ? this.gatherX : kind === 'y' ? this.gatherY : this.dyBuf;
    if (cur !== null && cur.length >= n) return cur.length === n ? cur : cur.subarray(0, n);
    const fresh = new this.ctor(n);
    if (kind === 'x') this.gatherX = fresh;
    else if (kind === 'y') this.gatherY = fresh;
    else this.dyBuf = fresh;
    return fresh;
  }

  /**
   * Runs the model on x ([N, T, D] or [N, D]) in batches; returns an ndarray of the outputs, batch-major.
   *
   * @param x - The inputs: nested arrays, { data, shape }, or an ndarray; builds the model from x's shape if needed.
   * @param options - batchSize (default 32), workers.
   * @returns The outputs [N, ...outputShape] (read them with `.get(i, j)` or `.data`).
   * @throws {@link ArgumentError} for a wrong shape, a non-finite value, or an invalid option.
   * @throws {@link MemoryLimitError} when a batch's buffers cannot fit in memory.
   * @example
   * ```ts
   * import { Sequential, simpleRNN } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const model = new Sequential([simpleRNN({ units: 2, returnSequences: true })], { seed: 1 });
   * const y = model.predict([[[1], [0], [0]]]); // one sequence of 3 steps, 1 feature
   * assert.deepEqual(y.shape, [1, 3, 2]);
   * assert.ok(Math.abs(y.get(0, 2, 0)) < 1); // tanh outputs
   * ```
   */
  predict(x: TensorLike, options: PredictOptions = {}): NdArray {
    checkKeys(options, ['batchSize', 'workers'], 'predict');
    const workers = checkWorkers(options.workers ?? 'auto', 'predict(workers)');
    const t = this.ensureBuiltFor(x, 'predict(x)');
    const out = this.predictTensor(t, options.batchSize ?? 32, 'predict', workers);
    return toNdarray(out);
  }

  /**
   * predict on an already validated tensor; returns a dense batch-major tensor. `workers` (default 1 here; predict's
   * default is 'auto') splits the N rows into contiguous chunks, one per thread; the outputs do not depend on it.
   * @internal
   */
  predictTensor(t: Tensor, batchSize: number, fn = 'predict', workers: Workers = 1): Tensor {
    const stateful = this.layers.some((l) => l instanceof Recurrent && l.stateful);
    const N = t.shape[0];
    checkBatchSize(batchSize, `${fn}(batchSize)`);
    this.checkMemory(Math.min(batchSize, N), `${fn}(batchSize)`);
    const n = resolveWorkers(this, N, workers, { task: 'predict', arg: `${fn}(workers)` });
    const perOut = shapeSize(this.outputShape);
    if (n > 1) return { data: this.predictParallel(t, batchSize, n, fn), shape: [N, ...this.outputShape] };
    const result = new this.ctor(N * perOut);
    this.predictRows(result, t, 0, N, batchSize, fn, stateful);
    return { data: result, shape: [N, ...this.outputShape] };
  }

  /**
   * One sample through the model on the calling thread, allocating nothing after the first call (what a detector
   * stream runs per point): `x` is one input of the model's per-sample shape ([T, F] or [F], row-major, any numeric
   * array type; not checked beyond its length), copied into the model's dtype. Returns the model's own output buffer,
   * [outputShape] row-major (for a batch of one the internal time-major layout is the batch-major one), valid until
   * the model's next forward pass: read it, do not keep it. The same bits as predictTensor on a batch of one.
   * @internal
   */
  predictWindow(x: ArrayLike<number>): FloatArray {
    let xb = this.oneX;
    if (xb === null) {
      this.requireBuilt('predict');
      this.checkMemory(1, 'predict');
      xb = this.oneX = new this.ctor(shapeSize(this.inputShape as number[]));
    }
    const n = xb.length;
    if (x.length !== n)
      throw ArgumentError.problem('predict(x)', `expected one sample of ${n} values, got ${x.length}`);
    for (let k = 0; k < n; k++) xb[k] = x[k];
    return this.forwardBatch(xb, 1, INFERENCE);
  }

  /**
   * Forward of rows [lo, hi) of t in batches of batchSize from row lo; outputs scattered into rows [lo, hi) of `out`
   * (batch-major). Also what a worker runs for its chunk (lib/parallel/worker.ts).
   * @internal
   */
  predictRows(
    out: FloatArray,
    t: Tensor,
    lo: number,
    hi: number,
    batchSize: number,
    fn: string,
    stateful = false,
  ): void {
    const N = t.shape[0];
    const perIn = shapeSize(t.shape.slice(1));
    const idx = identity(N);
    const ctx: ForwardContext = { training: false, random: null };
    for (let start = lo; start < hi; start += batchSize) {
      const B = Math.min(batchSize, hi - start);
      if (stateful && B !== batchSize && start > lo) {
        throw ArgumentError.problem(fn, `a stateful model needs N (${N}) to be a multiple of batchSize (${batchSize})`);
      }
      const xb = this.buffer('x', B * perIn);
      this.gather(xb, t, idx, start, B);
      const yb = this.forwardBatch(xb, B, ctx);
      this.scatter(out, yb, start, B);
    }
  }

  /** predictTensor on n threads: chunk 0 here, chunks 1 … n−1 in the pool, all written into one shared output. */
  private predictParallel(t: Tensor, batchSize: number, n: number, fn: string): FloatArray {
    const N = t.shape[0];
    const perOut = shapeSize(this.outputShape);
    const pool = this.workerPool(n, `${fn}(workers)`);
    const { input, output } = pool.predictBuffers(t.data.length, N * perOut);
    input.set(t.data);
    pool.writeParams(this.params);
    const round = pool.startPredict(n, N, batchSize, `${fn}(workers)`);
    let failure: unknown = null;
    try {
      const [lo, hi] = shardRange(0, N, n);
      this.predictRows(output, t, lo, hi, batchSize, fn);
    } catch (e) {
      failure = e;
    }
    pool.finish(round);
    if (failure !== null) throw failure;
    return output.slice();
  }

  /** The model's worker pool, able to run n shards (created on first use, kept until dispose). */
  private workerPool(n: number, fn: string): WorkerPool {
    const layers = this.layers.map((l) => ({ className: l.className, config: l.getConfig() }));
    const spec: PoolSpec = {
      signature: JSON.stringify({ layers, inputShape: this.inputShape, dtype: this.dtype, backend: getBackend() }),
      dtype: this.dtype,
      backend: getBackend(),
      size: this.params.reduce((a, p) => a + p.value.length, 0),
      model: () => this.toJSON({ includeOptimizer: false }),
    };
    return acquirePool(this, n, spec, fn);
  }

  /**
   * Stops this model's worker threads (started by fit or predict with workers > 1). The model stays usable: a later
   * parallel call starts new ones. Idle workers never keep the process alive, so dispose is about freeing their memory.
   */
  dispose(): void {
    disposePool(this);
  }

  /**
   * Mean loss over (x, y), computed in batches.
   *
   * @param x - The inputs, as for predict.
   * @param y - The targets [N, ...outputShape].
   * @param options - batchSize (default 32), loss (default the compiled loss, else 'mse'), workers (as for predict,
   *   default 'auto': the forward passes split across threads, the loss summed here; the same bits for any workers).
   * @returns The mean loss.
   * @throws {@link ArgumentError} for mismatched shapes or sample counts, a non-finite value, or an unknown loss.
   * @example
   * ```ts
   * import { Sequential, dense } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const model = new Sequential([dense({ units: 1, inputShape: [1], useBias: false })]).build();
   * model.setWeights([[2]]);
   * assert.equal(model.evaluate([[1], [2]], [[2], [5]]), 0.5); // errors 0 and 1
   * assert.equal(model.evaluate([[1], [2]], [[2], [5]], { loss: 'mae' }), 0.5);
   * ```
   */
  evaluate(x: TensorLike, y: TensorLike, options: EvaluateOptions = {}): number {
    checkKeys(options, ['batchSize', 'loss', 'workers'], 'evaluate');
    const workers = checkWorkers(options.workers ?? 'auto', 'evaluate(workers)');
    const batchSize = options.batchSize ?? 32;
    checkBatchSize(batchSize, 'evaluate(batchSize)');
    const t = this.ensureBuiltFor(x, 'evaluate(x)');
    const yt = this.coerce(y, 'evaluate(y)', this.outputShape);
    if (yt.shape[0] !== t.shape[0]) {
      throw new ArgumentError('evaluate(y)', `${t.shape[0]} samples to match x`, String(yt.shape[0]));
    }
    const lossName = options.loss ?? this.loss ?? 'mse';
    const loss = getLoss(lossName, 'evaluate(loss)');
    const N = t.shape[0];
    this.checkMemory(Math.min(batchSize, N), 'evaluate(batchSize)');
    const n = resolveWorkers(this, N, workers, { task: 'predict', arg: 'evaluate(workers)' });
    if (n === 1) return this.meanLoss({ x: t, y: yt }, identity(N), loss, batchSize);
    // The outputs from the threads (rows do not depend on the split), then the loss over the same batches in the same
    // layout as meanLoss: the same sums in the same order, so the same bits as workers: 1.
    const pred: Tensor = { data: this.predictParallel(t, batchSize, n, 'evaluate'), shape: [N, ...this.outputShape] };
    return this.meanLoss({ x: pred, y: yt }, identity(N), loss, batchSize, true);
  }

  /**
   * Mean loss over the rows idx of d, batch by batch. predicted: d.x holds the model's outputs already (evaluate on
   * threads), gathered into the layout the forward pass would have produced instead of running it.
   */
  private meanLoss(d: Prepared, idx: ArrayLike<number>, loss: Loss, batchSize: number, predicted = false): number {
    const N = idx.length;
    const perIn = shapeSize(d.x.shape.slice(1)),
      perOut = shapeSize(this.outputShape);
    const ctx: ForwardContext = { training: false, random: null };
    let total = 0;
    for (let start = 0; start < N; start += batchSize) {
      const B = Math.min(batchSize, N - start);
      const xb = this.buffer('x', B * perIn),
        yb = this.buffer('y', B * perOut);
      this.gather(xb, d.x, idx, start, B);
      this.gather(yb, d.y, idx, start, B);
      const pred = predicted ? xb : this.forwardBatch(xb, B, ctx);
      total += loss.value(pred, yb, B * perOut) * B;
    }
    return total / N;
  }

  /**
   * Trains on (x, y). Returns the history of epoch losses. See FitOptions for the options; the defaults are Keras's
   * (epochs 1, batchSize 32, shuffle true, Adam lr 1e-3, loss 'mse' unless compiled or loaded otherwise).
   * The steps: check the options, coerce the data and split off the validation rows, choose the loss and optimizer, then
   * one fitEpoch per epoch (each batch a trainStep, or a parallelStep over the worker pool), with early stopping.
   * The loop is `fitLoop`, which fitAsync runs too (lib/model/fit-loop.ts): both give the same bits.
   *
   * @param x - The inputs [N, T, D] or [N, D]: nested arrays, { data, shape }, or an ndarray.
   * @param y - The targets [N, ...outputShape].
   * @param options - See {@link FitOptions}.
   * @returns The loss (and validation loss) of each epoch.
   * @throws {@link ArgumentError} for mismatched shapes, a non-finite value, or an invalid option.
   * @throws {@link MemoryLimitError} when a batch's buffers cannot fit in memory.
   * @throws {@link TrainingDivergedError} when a loss or gradient becomes non-finite; the weights are those before that
   * step.
   * @example
   * ```ts
   * import { Sequential, gru, dense } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * // Is the last step of a sequence larger than the first?
   * const row = (i: number): number[][] => Array.from({ length: 4 }, (_, t) => [Math.sin(i * 3.1 + t * (i % 5))]);
   * const x = Array.from({ length: 128 }, (_, i) => row(i));
   * const y = x.map((s) => [s[3][0] > s[0][0] ? 1 : 0]);
   * const model = new Sequential([gru({ units: 8, inputShape: [4, 1] }), dense({ units: 1, activation: 'sigmoid' })]);
   * const stops: number[] = [];
   * const history = model.fit(x, y, {
   *   epochs: 40,
   *   batchSize: 32,
   *   loss: 'binaryCrossentropy',
   *   optimizer: { name: 'adam', learningRate: 0.02 },
   *   validationSplit: 0.25,
   *   earlyStopping: { patience: 5 },
   *   onEpochEnd: (logs) => void stops.push(logs.epoch),
   * });
   * assert.equal(history.loss.length, stops.length);
   * assert.ok(history.valLoss[history.valLoss.length - 1] < history.valLoss[0]);
   * ```
   */
  fit(x: TensorLike, y: TensorLike, options: FitOptions = {}): History {
    checkObject(options, 'fit');
    refuseYieldEvery(options, 'fit');
    checkKeys(options, FIT_OPTION_KEYS, 'fit');
    const signal = checkSignal(options.signal, 'fit(signal)');
    return runSync(this.fitLoop(x, y, options, 'fit'), [options], signal, 'fit');
  }

  /**
   * fit without blocking: the same training, step for step and bit for bit, that gives the event loop a turn as
   * `yieldEvery` says (default 'auto': every 125 ms or so) and awaits callbacks that return a Promise. Aborting
   * `signal` rejects with its reason (an AbortError DOMException by default) at the next batch boundary; the model then
   * holds the weights and optimizer state of its last completed step, and its worker pool stays usable. One model
   * trains one fit at a time: fit or fitAsync during a fitAsync of the same model is an error.
   *
   * @param x - The inputs, as for fit.
   * @param y - The targets, as for fit.
   * @param options - fit's options, callbacks that may return a Promise, `yieldEvery` and `signal`.
   * @returns A promise of the history, as fit returns it.
   * @throws {@link ArgumentError} (the promise rejects) as fit does, or for a fit already running on this model.
   * @throws The signal's reason (an AbortError by default) when `signal` aborts.
   * @throws {@link TrainingDivergedError} (the promise rejects) when a loss or gradient becomes non-finite.
   * @example
   * ```ts
   * import { Sequential, gru, dense } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const x = Array.from({ length: 64 }, (_, i) => Array.from({ length: 5 }, (_, t) => [Math.sin(i + t)]));
   * const y = x.map((s) => [s[4][0]]);
   * const make = (): Sequential => new Sequential([gru({ units: 4, inputShape: [5, 1] }), dense({ units: 1 })]);
   * let ticks = 0;
   * const timer = setInterval(() => ticks++, 1);
   * const history = await make().fitAsync(x, y, { epochs: 20, batchSize: 8, yieldEvery: 'batch' });
   * clearInterval(timer);
   * assert.ok(ticks > 0); // the event loop ran while it trained
   * assert.deepEqual(history.loss, make().fit(x, y, { epochs: 20, batchSize: 8 }).loss); // same bits as fit
   *
   * const controller = new AbortController();
   * const stopped = make().fitAsync(x, y, {
   *   epochs: 20,
   *   signal: controller.signal,
   *   onEpochEnd: (logs) => void (logs.epoch === 2 && controller.abort()),
   * });
   * await assert.rejects(stopped, { name: 'AbortError' });
   * ```
   */
  async fitAsync(x: TensorLike, y: TensorLike, options: FitAsyncOptions = {}): Promise<History> {
    checkObject(options, 'fitAsync');
    checkKeys(options, [...FIT_OPTION_KEYS, 'yieldEvery'], 'fitAsync');
    checkCallbacks(options, 'fitAsync');
    const { yieldEvery, ...rest } = options;
    const every = checkYieldEvery(yieldEvery, 'fitAsync(yieldEvery)');
    const signal = checkSignal(options.signal, 'fitAsync(signal)');
    return runAsync(this.fitLoop(x, y, rest, 'fitAsync'), [rest], signal, every);
  }

  /**
   * The training loop of fit and fitAsync (and of Detector's fit), as a generator that yields at each callback point
   * (lib/model/fit-loop.ts); `fn` names the caller in errors. Option keys are checked by the caller.
   * @internal
   */
  *fitLoop(x: TensorLike, y: TensorLike, options: Omit<FitOptions, keyof FitCallbacks>, fn = 'fit'): FitLoop<History> {
    if (this.training) {
      throw ArgumentError.problem(fn, 'the model is already training (a fitAsync is running); await or abort it first');
    }
    this.training = true;
    try {
      return yield* this.trainLoop(x, y, options);
    } finally {
      this.training = false;
    }
  }

  private *trainLoop(x: TensorLike, y: TensorLike, options: Omit<FitOptions, keyof FitCallbacks>): FitLoop<History> {
    const plan = checkFitOptions(options, this.seed);
    const data = this.fitData(x, y, options);
    const loss = this.fitLoss(options);
    const optimizer = this.fitOptimizer(options);
    const stopper = EarlyStopping.from(options.earlyStopping, data.val !== null);
    const history: History = { epoch: [], loss: [], valLoss: [], bestEpoch: null, stoppedEarly: false };
    const nTrain = data.trainIdx.length;
    this.checkMemory(Math.min(plan.batchSize, nTrain), 'fit(batchSize)');
    const workers = resolveWorkers(this, Math.min(plan.batchSize, nTrain), plan.workers, {
      task: 'fit',
      arg: 'fit(workers)',
    });
    const pool = workers > 1 && plan.epochs > plan.initialEpoch ? this.workerPool(workers, 'fit(workers)') : null;
    if (pool !== null) pool.beginFit(data.x, data.y, loss.name, plan.seed, nTrain);
    const batches = Math.ceil(nTrain / plan.batchSize);
    try {
      const { epochs, initialEpoch } = plan;
      yield { kind: 'trainBegin', logs: { initialEpoch, epochs, batches, samples: nTrain } };
      for (let epoch = plan.initialEpoch; epoch < plan.epochs; epoch++) {
        yield { kind: 'epochBegin', logs: { epoch, epochs } };
        const t0 = Date.now();
        const epochLoss = yield* this.fitEpoch(epoch, plan, data, loss, optimizer, pool, workers);
        const logs: EpochLogs = { epoch, loss: epochLoss, seconds: 0 };
        history.epoch.push(epoch);
        history.loss.push(epochLoss);
        if (data.val !== null && data.valIdx !== null) {
          const v = this.meanLoss(data.val, data.valIdx, loss, plan.batchSize);
          if (!Number.isFinite(v)) {
            throw new TrainingDivergedError(
              `fit: validation loss became ${v} at epoch ${epoch}; lower the learning rate or set clipNorm`,
            );
          }
          logs.valLoss = v;
          history.valLoss.push(v);
        }
        this.epochsTrained = epoch + 1;
        logs.seconds = (Date.now() - t0) / 1000;
        let stop = (yield { kind: 'epochEnd', logs }) === true;
        if (stopper !== null && stopper.update(epoch, logs, () => this.getWeights())) {
          stop = true;
          history.stoppedEarly = true;
        }
        if (stop) break;
      }
    } finally {
      if (pool !== null && !pool.isDisposed) pool.endFit('fit(workers)');
    }
    if (stopper !== null && stopper.bestWeights !== null) {
      this.setWeights(stopper.bestWeights);
      history.bestEpoch = stopper.bestEpoch;
    } else {
      history.bestEpoch = history.epoch.length ? history.epoch[history.epoch.length - 1] : null;
    }
    yield { kind: 'trainEnd', logs: history };
    return history;
  }

  /** fit's data: x and y coerced (building the model on first use), and the validation rows, given or split off. */
  private fitData(x: unknown, y: unknown, options: Omit<FitOptions, keyof FitCallbacks>): FitData {
    const xt = this.ensureBuiltFor(x, 'fit(x)');
    const yt = this.coerce(y, 'fit(y)', this.outputShape);
    const N = xt.shape[0];
    if (yt.shape[0] !== N) throw new ArgumentError('fit(y)', `${N} samples to match x`, String(yt.shape[0]));
    // Validation data: explicit, or the last fraction of the samples (before shuffling), as Keras does.
    if (options.validationData !== undefined) {
      const [vx, vy] = options.validationData;
      const vxt = this.coerce(vx, 'fit(validationData[0])', this.inputShape);
      const vyt = this.coerce(vy, 'fit(validationData[1])', this.outputShape);
      if (vxt.shape[0] !== vyt.shape[0]) {
        throw new ArgumentError('fit(validationData)', 'as many y samples as x samples', String(vyt.shape[0]), {
          problem: `x has ${vxt.shape[0]} samples, y has ${vyt.shape[0]}`,
        });
      }
      return { x: xt, y: yt, trainIdx: identity(N), val: { x: vxt, y: vyt }, valIdx: identity(vxt.shape[0]) };
    }
    if (options.validationSplit !== undefined && options.validationSplit !== 0) {
      const s = options.validationSplit;
      if (!(s > 0 && s < 1)) throw new ArgumentError('fit(validationSplit)', 'a fraction in (0, 1)', String(s));
      const nVal = Math.floor(N * s);
      if (nVal < 1 || nVal >= N) {
        throw new ArgumentError(
          'fit(validationSplit)',
          'a fraction that leaves at least 1 sample on each side',
          String(s),
          {
            problem: `${s} of ${N} samples leaves ${N - nVal} to train on and ${nVal} to validate; both need at least 1`,
          },
        );
      }
      const valIdx = Int32Array.from({ length: nVal }, (_, i) => N - nVal + i);
      return { x: xt, y: yt, trainIdx: identity(N - nVal), val: { x: xt, y: yt }, valIdx };
    }
    return { x: xt, y: yt, trainIdx: identity(N), val: null, valIdx: null };
  }

  /** fit's loss: the option, else the compiled or loaded one, else 'mse'; it becomes the model's loss. */
  private fitLoss(options: Omit<FitOptions, keyof FitCallbacks>): Loss {
    const loss = getLoss(options.loss ?? this.loss ?? 'mse', 'fit(loss)');
    this.loss = loss.name;
    return loss;
  }

  /** fit's optimizer: an equal one keeps its state (resuming a checkpoint), a different one starts fresh. */
  private fitOptimizer(options: Omit<FitOptions, keyof FitCallbacks>): Optimizer {
    if (options.optimizer !== undefined || this.optimizer === null) {
      const fresh = new Optimizer(options.optimizer ?? 'adam');
      if (this.optimizer === null || JSON.stringify(this.optimizer.config()) !== JSON.stringify(fresh.config()))
        this.optimizer = fresh;
    }
    const optimizer = this.optimizer;
    optimizer.attach(this.params, this.ctor);
    return optimizer;
  }

  /**
   * One epoch: shuffle (seeded by fit's seed and the epoch), then every batch, each between a 'batchBegin' and a
   * 'batchEnd' event; returns the mean training loss.
   */
  private *fitEpoch(
    epoch: number,
    plan: FitPlan,
    data: FitData,
    loss: Loss,
    optimizer: Optimizer,
    pool: WorkerPool | null,
    workers: number,
  ): FitLoop<number> {
    const { batchSize } = plan;
    const nTrain = data.trainIdx.length;
    const batches = Math.ceil(nTrain / batchSize);
    const perIn = shapeSize(data.x.shape.slice(1)),
      perOut = shapeSize(this.outputShape);
    const order = Int32Array.from(data.trainIdx);
    if (plan.shuffle) makeRandom(`${plan.seed}/shuffle/${epoch}`).shuffle(order);
    const ctx: ForwardContext = { training: true, random: makeRandom(`${plan.seed}/dropout/${epoch}`) };
    if (pool !== null) pool.setOrder(order);
    let sum = 0;
    for (let bi = 0; bi < batches; bi++) {
      const start = bi * batchSize;
      const B = Math.min(batchSize, nTrain - start);
      yield { kind: 'batchBegin', logs: { epoch, batch: bi, batches, size: B } };
      let batchLoss: number;
      if (pool === null) {
        const xb = this.buffer('x', B * perIn),
          yb = this.buffer('y', B * perOut);
        this.gather(xb, data.x, order, start, B);
        this.gather(yb, data.y, order, start, B);
        batchLoss = this.trainStep(xb, yb, B, loss, optimizer, ctx, plan.clipNorm, epoch, bi);
      } else {
        batchLoss = this.parallelStep(
          pool,
          workers,
          data.x,
          data.y,
          order,
          start,
          B,
          loss,
          optimizer,
          plan.seed,
          plan.clipNorm,
          epoch,
          bi,
        );
      }
      sum += batchLoss * B;
      yield { kind: 'batchEnd', logs: { epoch, batch: bi, batches, size: B, loss: batchLoss } };
    }
    if (this.layers.some((l) => l instanceof Recurrent && l.stateful)) this.resetStates();
    return sum / nTrain;
  }

  /**
   * Loss and gradients of the loss with respect to every weight (in `weights()` order) on the whole of (x, y) as one
   * batch, without updating anything. With `training: true` dropout is active, with masks drawn from `seed` (the same
   * seed gives the same masks, which makes a finite-difference check of a dropout model possible).
   *
   * @param x - The inputs, as for fit.
   * @param y - The targets.
   * @param options - loss (default the compiled loss, else 'mse'), training (dropout on; default false), seed.
   * @returns The mean loss and one gradient array per weight.
   * @throws {@link ArgumentError} for mismatched shapes, a non-finite value, or an unknown loss.
   * @throws {@link TrainingDivergedError} when the loss or a gradient is non-finite.
   * @example
   * ```ts
   * import { Sequential, dense } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const model = new Sequential([dense({ units: 1, inputShape: [1] })], { dtype: 'float64' }).build();
   * model.setWeights([[2], [0]]);
   * const { loss, grads } = model.gradients([[1]], [[3]]); // (2·1 − 3)² = 1; dL/dW = 2·(2 − 3)·1
   * assert.equal(loss, 1);
   * assert.deepEqual(Array.from(grads[0]), [-2]);
   * ```
   */
  gradients(
    x: unknown,
    y: unknown,
    options: { loss?: string; training?: boolean; seed?: number | string } = {},
  ): { loss: number; grads: FloatArray[] } {
    const xt = this.ensureBuiltFor(x, 'gradients(x)');
    const yt = this.coerce(y, 'gradients(y)', this.outputShape);
    const N = xt.shape[0];
    if (yt.shape[0] !== N) throw new ArgumentError('gradients(y)', `${N} samples to match x`, String(yt.shape[0]));
    const loss = getLoss(options.loss ?? this.loss ?? 'mse', 'gradients(loss)');
    const perIn = shapeSize(xt.shape.slice(1)),
      perOut = shapeSize(this.outputShape);
    const idx = identity(N);
    const xb = this.buffer('x', N * perIn),
      yb = this.buffer('y', N * perOut);
    this.gather(xb, xt, idx, 0, N);
    this.gather(yb, yt, idx, 0, N);
    const training = options.training ?? false;
    const ctx: ForwardContext = { training, random: training ? makeRandom(String(options.seed ?? this.seed)) : null };
    for (const p of this.params) p.grad.fill(0);
    const pred = this.forwardBatch(xb, N, ctx);
    const n = N * perOut;
    const value = loss.value(pred, yb, n);
    const dy = this.buffer('dy', n);
    loss.grad(dy, pred, yb, n);
    this.backwardBatch(dy);
    return { loss: value, grads: this.params.map((p) => p.grad.slice()) };
  }

  /** One step on a gathered batch; returns the batch loss. Weights are untouched if the step would diverge. */
  private trainStep(
    xb: FloatArray,
    yb: FloatArray,
    B: number,
    loss: Loss,
    optimizer: Optimizer,
    ctx: ForwardContext,
    clipNorm: number | undefined,
    epoch: number,
    batch: number,
  ): number {
    for (const p of this.params) p.grad.fill(0);
    const pred = this.forwardBatch(xb, B, ctx);
    const n = B * shapeSize(this.outputShape);
    const value = loss.value(pred, yb, n);
    if (!Number.isFinite(value)) {
      throw new TrainingDivergedError(
        `fit: loss became ${value} at epoch ${epoch}, batch ${batch}; the model keeps ` +
          'the weights from before this step. Lower the learning rate or set clipNorm',
      );
    }
    const dy = this.buffer('dy', n);
    loss.grad(dy, pred, yb, n);
    this.backwardBatch(dy);
    this.update(optimizer, clipNorm, epoch, batch);
    return value;
  }

  /**
   * One shard of a data-parallel step (lib/parallel): rows [lo, hi) of the batch of B rows at order[start …]. Leaves in
   * every p.grad the shard's gradient scaled by (hi − lo)/B, so that the shards' gradients sum to the gradient of the
   * batch's mean loss, and returns the shard's mean loss scaled the same way. The main thread runs it for shard 0 and
   * each worker for its own shard.
   * @internal
   */
  shardStep(
    x: Tensor,
    y: Tensor,
    order: Int32Array,
    start: number,
    lo: number,
    hi: number,
    B: number,
    loss: Loss,
    ctx: ForwardContext,
  ): number {
    for (const p of this.params) p.grad.fill(0);
    const Bk = hi - lo;
    const perIn = shapeSize(x.shape.slice(1)),
      perOut = shapeSize(this.outputShape);
    const xb = this.buffer('x', Bk * perIn),
      yb = this.buffer('y', Bk * perOut);
    this.gather(xb, x, order, start + lo, Bk);
    this.gather(yb, y, order, start + lo, Bk);
    const pred = this.forwardBatch(xb, Bk, ctx);
    const n = Bk * perOut;
    const scale = Bk / B;
    const value = loss.value(pred, yb, n);
    if (!Number.isFinite(value)) return value; // the main thread stops the fit; no backward needed
    const dy = this.buffer('dy', n);
    loss.grad(dy, pred, yb, n);
    for (let i = 0; i < n; i++) dy[i] *= scale;
    this.backwardBatch(dy);
    return value * scale;
  }

  /** One step on n threads: shards 1 … n−1 in the pool, shard 0 here, then the fixed-order reduction and the update. */
  private parallelStep(
    pool: WorkerPool,
    n: number,
    xt: Tensor,
    yt: Tensor,
    order: Int32Array,
    start: number,
    B: number,
    loss: Loss,
    optimizer: Optimizer,
    fitSeed: string,
    clipNorm: number | undefined,
    epoch: number,
    batch: number,
  ): number {
    pool.writeParams(this.params);
    const round = pool.startStep(n, epoch, batch, start, B, 'fit(workers)');
    let value = 0;
    let failure: unknown = null;
    try {
      const [lo, hi] = shardRange(0, B, n);
      if (hi > lo) {
        value = this.shardStep(xt, yt, order, start, lo, hi, B, loss, {
          training: true,
          random: makeRandom(shardSeed(fitSeed, epoch, batch, 0)),
        });
      } else {
        for (const p of this.params) p.grad.fill(0);
      }
    } catch (e) {
      failure = e;
    }
    pool.finish(round);
    if (failure !== null) throw failure;
    value = pool.reduce(this.params, round, value);
    if (!Number.isFinite(value)) {
      throw new TrainingDivergedError(
        `fit: loss became ${value} at epoch ${epoch}, batch ${batch}; the model keeps ` +
          'the weights from before this step. Lower the learning rate or set clipNorm',
      );
    }
    this.update(optimizer, clipNorm, epoch, batch);
    return value;
  }

  /** Clipping, the finiteness check and the optimizer update of a step whose gradients are in p.grad. */
  private update(optimizer: Optimizer, clipNorm: number | undefined, epoch: number, batch: number): void {
    const grads = this.params.map((p) => p.grad);
    const norm = clipNorm !== undefined ? clipByGlobalNorm(grads, clipNorm) : globalNorm(grads);
    if (!Number.isFinite(norm)) {
      throw new TrainingDivergedError(
        `fit: gradient norm became ${norm} at epoch ${epoch}, batch ${batch}; the model ` +
          'keeps the weights from before this step. Lower the learning rate or set clipNorm',
      );
    }
    this.params.forEach((p, i) => this.backup[i].set(p.value));
    optimizer.apply(this.params);
    for (const p of this.params) {
      const w = p.value;
      for (let i = 0; i < w.length; i++) {
        if (!Number.isFinite(w[i])) {
          this.params.forEach((q, j) => q.value.set(this.backup[j]));
          throw new TrainingDivergedError(
            `fit: an update made ${p.name} non-finite at epoch ${epoch}, batch ${batch}; ` +
              'the model keeps the weights from before this step. Lower the learning rate or set clipNorm',
          );
        }
      }
    }
  }
}

/** fit's options, checked in the order FitOptions lists them: unknown keys, types, ranges. */
function checkFitOptions(options: Omit<FitOptions, keyof FitCallbacks>, modelSeed: number | string): FitPlan {
  if (typeof options.earlyStopping === 'object')
    checkKeys(options.earlyStopping, ['patience', 'minDelta', 'monitor', 'restoreBestWeights'], 'fit(earlyStopping)');
  const shuffle = optBool(options.shuffle, true, 'fit(shuffle)');
  checkCallbacks(options, 'fit');
  const epochs = options.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 0)
    throw new ArgumentError('fit(epochs)', 'a non-negative integer', String(epochs));
  const batchSize = options.batchSize ?? 32;
  checkBatchSize(batchSize, 'fit(batchSize)');
  const initialEpoch = options.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) {
    throw new ArgumentError('fit(initialEpoch)', 'a non-negative integer', String(options.initialEpoch));
  }
  const workers = checkWorkers(options.workers ?? 'auto', 'fit(workers)');
  if (options.clipNorm !== undefined && !(options.clipNorm > 0 && Number.isFinite(options.clipNorm))) {
    throw new ArgumentError('fit(clipNorm)', 'a positive number', String(options.clipNorm));
  }
  return {
    epochs,
    initialEpoch,
    batchSize,
    shuffle,
    clipNorm: options.clipNorm,
    workers,
    seed: String(options.seed ?? modelSeed),
  };
}

/**
 * Early stopping as Keras does it: watch `monitor` (valLoss when there is validation data, else loss) and stop after
 * `patience` epochs without an improvement of more than `minDelta`; keep the best epoch's weights to restore.
 */
class EarlyStopping {
  private best = Infinity;
  private wait = 0;
  bestEpoch: number | null = null;
  /** The best epoch's weights (restoreBestWeights), else null. */
  bestWeights: FloatArray[] | null = null;

  private constructor(
    private readonly monitor: 'valLoss' | 'loss',
    private readonly patience: number,
    private readonly minDelta: number,
    private readonly restoreBest: boolean,
  ) {}

  /** null when early stopping is off (false or not given). */
  static from(option: EarlyStoppingOptions | boolean | undefined, hasValidation: boolean): EarlyStopping | null {
    const es = option === true ? {} : option === false ? null : (option ?? null);
    if (es === null) return null;
    const monitor = es.monitor ?? (hasValidation ? 'valLoss' : 'loss');
    if (monitor === 'valLoss' && !hasValidation) {
      throw new ArgumentError('fit(earlyStopping.monitor)', "'loss', or validation data", "'valLoss'", {
        problem: 'valLoss needs validationSplit or validationData',
      });
    }
    return new EarlyStopping(monitor, es.patience ?? 5, es.minDelta ?? 0, es.restoreBestWeights ?? true);
  }

  /** Records an epoch; true when training should stop. `weights` is called only for a new best. */
  update(epoch: number, logs: EpochLogs, weights: () => FloatArray[]): boolean {
    const m = this.monitor === 'valLoss' ? (logs.valLoss as number) : logs.loss;
    if (m < this.best - this.minDelta) {
      this.best = m;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBest) this.bestWeights = weights();
      return false;
    }
    return ++this.wait >= this.patience;
  }
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function checkBatchSize(b: number, arg: string): void {
  if (!Number.isInteger(b) || b < 1) throw new ArgumentError(arg, 'a positive integer', String(b));
}

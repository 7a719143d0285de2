/**
 * TensorFlow.js artifacts ↔ a bptt model: buildFromTfjs reads the topology (topology.ts) and the weights (weights.ts)
 * and fills the model `create` makes (lib/model/loaders.ts passes Sequential's: that is fromTfjs); toTfjs writes a
 * model's layers and weights as artifacts for `tf.loadLayersModel(tf.io.fromMemory(...))`.
 *
 * Writing (`toTfjs`): the topology tfjs-layers writes (batch_input_shape on the first layer, every config key it
 * serialises itself), float32 weights named as weights.ts describes (a float64 model is rounded to float32), and, when the model has a
 * loss, a trainingConfig (loss, and the optimizer's hyperparameters as tfjs class names 'Adam' / 'SGD' / 'Momentum').
 * A GRU with resetAfter true (bptt's and Keras 2's default) is refused: TensorFlow.js 4.22 throws "GRUCell does not
 * support reset_after parameter set to true" on load, and the classic GRU computes something else. Build such models
 * with gru({ resetAfter: false }) to share them with TensorFlow.js, or pass { allowResetAfter: true } to write it as
 * Keras writes it (reset_after true, bias [2, 3H]), for `fromTfjs` and Keras, not TensorFlow.js. A stateful model needs
 * { batchSize } (TensorFlow.js requires the batch size of stateful recurrent layers).
 */
import type { Param } from '../../model/layers/layer.js';
import { Recurrent } from '../../model/layers/recurrent.js';
import type { CreateModel, ModelSource, ModelTarget } from '../model-view.js';
import { isModel } from '../model-view.js';
import {
  type Context,
  make,
  type Parsed,
  parseLayer,
  readLoss,
  readTopology,
  resolveInputShape,
  layerToTfjs,
  trainingConfigOf,
} from './topology.js';
import {
  type Cfg,
  type FromTfjsOptions,
  GENERATED_BY,
  isObject,
  type TfjsArtifacts,
  type TfjsArtifactsInput,
  type ToTfjsOptions,
} from './types.js';
import { assignWeights, checkParameterCount, decodeWeights, encodeWeights } from './weights.js';
import { ArgumentError } from '../../errors.js';

/**
 * Fills the model `create` makes from TensorFlow.js layers-format artifacts (topology.ts and weights.ts say what is read
 * and how). fromTfjs (lib/model/loaders.ts) is this with Sequential's constructor.
 */
export function buildFromTfjs<M extends ModelTarget>(
  artifacts: TfjsArtifactsInput,
  options: FromTfjsOptions,
  create: CreateModel<M>,
): M {
  if (!isObject(artifacts))
    throw new ArgumentError(
      'fromTfjs',
      'model artifacts { modelTopology, weightSpecs, weightData }',
      String(typeof artifacts),
    );
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
  if (parsed.length === 0) throw ArgumentError.problem('fromTfjs', 'the model has no layers');
  const weights = decodeWeights(artifacts);
  const loss = readLoss(top.trainingConfig);

  // A GRU without reset_after: the bias says which variant it is ([2, 3H] reset-after, [3H] classic).
  const layers = parsed.map((p) => {
    let ra: boolean | null = null;
    if (p.inferResetAfter) {
      const bias = weights.filter((w) => w.tokens[0] === p.name && w.tokens[w.tokens.length - 1] === 'bias');
      if (bias.length === 0)
        throw ArgumentError.problem(p.where, 'reset_after is missing and there is no bias weight to infer it from');
      ra = bias[0].shape.length === 2;
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

/**
 * The model as TensorFlow.js layers-format artifacts, for `tf.loadLayersModel(tf.io.fromMemory(toTfjs(model)))`.
 * The model must be built. See the file comment for a GRU with resetAfter true and for stateful models.
 * Works anywhere (no file system). See {@link fromTfjs} for a round trip.
 *
 * @param model - A built model.
 * @param options - See {@link ToTfjsOptions}.
 * @returns modelTopology, weightSpecs and weightData (an ArrayBuffer), and the format fields TensorFlow.js expects.
 * @throws {@link ArgumentError} when the model is not built, or for a GRU with resetAfter true (TensorFlow.js cannot
 * load it) unless allowResetAfter.
 * @example
 * ```ts
 * import { Sequential, lstm, dense, toTfjs } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([lstm({ units: 2, inputShape: [3, 1] }), dense({ units: 1 })]).build();
 * const a = toTfjs(model);
 * assert.deepEqual(
 *   a.weightSpecs.map((w) => `${w.name} [${w.shape.join(',')}]`),
 *   ['lstm/kernel [1,8]', 'lstm/recurrent_kernel [2,8]', 'lstm/bias [8]', 'dense/kernel [2,1]', 'dense/bias [1]'],
 * );
 * assert.equal(a.weightData.byteLength, 4 * model.countParams()); // float32
 * ```
 */
export function toTfjs(model: ModelSource, options: ToTfjsOptions = {}): TfjsArtifacts {
  if (!isModel(model)) throw ArgumentError.problem('toTfjs(model)', 'expected a Sequential');
  const inputShape = model.getInputShape();
  if (inputShape === null)
    throw ArgumentError.problem('toTfjs', 'the model is not built yet (call build, fit or predict first)');
  const stateful = model.layers.some((l) => l instanceof Recurrent && l.stateful);
  const bs = options.batchSize;
  if (bs !== undefined && !(Number.isInteger(bs) && bs > 0))
    throw new ArgumentError('toTfjs(batchSize)', 'a positive integer', String(bs));
  if (stateful && bs === undefined) {
    throw ArgumentError.problem(
      'toTfjs',
      'the model has a stateful layer; TensorFlow.js needs its batch size: pass { batchSize }',
    );
  }
  const layers: Cfg[] = [];
  const weights: { name: string; p: Param }[] = [];
  model.layers.forEach((l, i) => {
    const { entry, weights: w } = layerToTfjs(l, options);
    if (i === 0) (entry['config'] as Cfg)['batch_input_shape'] = [bs ?? null, ...inputShape];
    layers.push(entry);
    weights.push(...w);
  });
  const { weightSpecs, weightData } = encodeWeights(weights);
  const out: TfjsArtifacts = {
    modelTopology: { class_name: 'Sequential', config: { name: model.name, layers }, backend: 'bptt' },
    weightSpecs,
    weightData,
    format: 'layers-model',
    generatedBy: GENERATED_BY,
    convertedBy: null,
  };
  const tc = trainingConfigOf(model);
  if (tc !== undefined) out.trainingConfig = tc;
  return out;
}

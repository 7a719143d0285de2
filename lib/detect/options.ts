/** The Detector's options checked and resolved: defaults, the rules between options, and what model 'auto' picks. */
import { ArgumentError } from '../errors.js';
import { checkKeys, describeValue, optBool, optEnum, optNumber, optPosInt } from '../check.js';
import { checkWorkers } from '../parallel/auto.js';
import { parseThreshold } from './threshold-spec.js';
import { BATCH_TRAINING_KEYS, DETECTOR_MODELS, DETECTOR_OPTION_KEYS } from './types.js';
import type { Combine, DetectorModel, DetectorOptions, ResolvedOptions } from './types.js';

/** Forecast steps of the 'gru-online' forecaster (its default horizon). */
export const ONLINE_HORIZON = 8;

/** True when the options leave the model to fit ('auto', or no model named). */
export function isAutoModel(o: DetectorOptions): boolean {
  return o.model === undefined || o.model === 'auto';
}

/**
 * The options a Detector is built with, checked and resolved. With model 'auto' they are resolved as for the model
 * they will pick (fit resolves them again once the data's shape is known).
 */
export function resolveDetectorOptions(o: DetectorOptions): ResolvedOptions {
  checkKeys(o, DETECTOR_OPTION_KEYS, 'Detector');
  return isAutoModel(o) ? resolveAuto(o) : resolveOptions(o);
}

/**
 * Model 'auto' before fit: every option checked that can be (as for either model it may pick), so that a typo or a
 * wrong type fails at construction, not at fit.
 */
function resolveAuto(o: DetectorOptions): ResolvedOptions {
  const asks = asksFor(o);
  if (asks.online && asks.batch) resolveOptions({ ...o, model: 'gru-online' }); // throws: the combination fits no model
  return resolveOptions({ ...o, model: asks.online ? 'gru-online' : 'lstm-ae' });
}

/**
 * Options that only one kind of model takes: a threshold other than 'likelihood', epochs and the other batch-training
 * options, or several hidden sizes ask for a model trained once; time inputs for 'gru-online'. ('likelihood' suits
 * both: every model can use the alarm stage.)
 */
function asksFor(o: DetectorOptions): { online: boolean; batch: boolean } {
  const kind = o.threshold === undefined ? null : parseThreshold(o.threshold, 'Detector(threshold)').kind;
  const online = o.timeFeatures !== undefined && o.timeFeatures !== false && o.timeFeatures !== 'auto';
  const batch =
    (kind !== null && kind !== 'likelihood') ||
    (Array.isArray(o.hidden) && o.hidden.length > 1) ||
    BATCH_TRAINING_KEYS.some((k) => (o as Record<string, unknown>)[k] !== undefined);
  return { online, batch };
}

/** The model 'auto' resolves to for these options and a training series of F features and n points. */
export function pickModel(o: DetectorOptions, F: number, n: number): DetectorModel {
  if (o.model !== undefined && o.model !== 'auto') return o.model;
  const asks = asksFor(o);
  return asks.batch
    ? 'lstm-ae'
    : asks.online
      ? 'gru-online'
      : autoModel(F, n, optPosInt(o.window, 32, 'Detector(window)'));
}

/** What model 'auto' picks for F features and n training points (the evaluation's choice; see the README). */
export function autoModel(F: number, n: number, window = 32): DetectorModel {
  return F === 1 && n >= 2 * (window + ONLINE_HORIZON + 1) ? 'gru-online' : 'lstm-ae';
}

export function resolveOptions(o: DetectorOptions): ResolvedOptions {
  checkKeys(o, DETECTOR_OPTION_KEYS, 'Detector');
  if (o.model === 'auto') {
    throw new ArgumentError('Detector(model)', 'a model name', "'auto'", {
      problem: "'auto' is resolved at fit, when the data's shape is known",
    });
  }
  const model = optEnum(o.model, 'lstm-ae', DETECTOR_MODELS, 'Detector(model)');
  const online = model === 'gru-online';
  if (online) {
    for (const k of BATCH_TRAINING_KEYS) {
      if ((o as Record<string, unknown>)[k] !== undefined) {
        throw new ArgumentError(`Detector(${k})`, 'no value', describeValue((o as Record<string, unknown>)[k]), {
          problem:
            "model 'gru-online' learns continually from every point (no epochs, batches or " +
            `fitted normaliser); ${k} applies to the models trained once`,
        });
      }
    }
    if (o.threshold !== undefined && parseThreshold(o.threshold, 'Detector(threshold)').kind !== 'likelihood') {
      throw new ArgumentError('Detector(threshold)', "'likelihood' or 'likelihood:s'", describeValue(o.threshold), {
        problem: "model 'gru-online' flags with its alarm stage: 'likelihood' or 'likelihood:s'",
      });
    }
    if (o.hidden !== undefined && Array.isArray(o.hidden) && o.hidden.length !== 1) {
      throw new ArgumentError('Detector(hidden)', 'one size', `${o.hidden.length}`, {
        problem: `model 'gru-online' has one GRU layer; give one size, got ${o.hidden.length}`,
      });
    }
  } else if (o.timeFeatures !== undefined && o.timeFeatures !== false && o.timeFeatures !== 'auto') {
    throw new ArgumentError('Detector(timeFeatures)', 'false', describeValue(o.timeFeatures), {
      problem: `only model 'gru-online' uses time inputs (model '${model}')`,
    });
  }
  const timeFeatures: ResolvedOptions['timeFeatures'] =
    !online || o.timeFeatures === false
      ? false
      : optEnum(o.timeFeatures, 'auto', ['auto', 'context', 'day', 'day+week'] as const, 'Detector(timeFeatures)');
  const hiddenIn: unknown = o.hidden ?? CONV_HIDDEN[model] ?? (model === 'dense-ae' ? [32, 8] : online ? 16 : 32);
  if (Array.isArray(hiddenIn) && (hiddenIn.length === 0 || hiddenIn.length > 16)) {
    throw new ArgumentError('Detector(hidden)', '1 to 16 layer sizes', `${hiddenIn.length}`);
  }
  const hidden = (Array.isArray(hiddenIn) ? hiddenIn : [hiddenIn]).map((h) =>
    optPosInt(h, undefined, 'Detector(hidden)'),
  );
  checkConvModel(model, o, hidden);
  if (o.epochs === 0) {
    throw new ArgumentError('Detector(epochs)', 'a positive integer', '0', {
      problem:
        'expected a positive integer, got 0; a network that is never trained scores with ' +
        "random weights (for a model without training use 'zscore' or 'iqr')",
    });
  }
  if (o.onEpochEnd !== undefined && typeof o.onEpochEnd !== 'function') {
    throw new ArgumentError('Detector(onEpochEnd)', 'a function', describeValue(o.onEpochEnd));
  }
  const causal = optBool(o.causal, true, 'Detector(causal)');
  const combine = optEnum<Combine>(
    o.combine,
    causal ? 'last' : 'mean',
    ['mean', 'max', 'last', 'all'],
    'Detector(combine)',
  );
  if (causal && combine !== 'last') {
    throw new ArgumentError('Detector(combine)', "'last'", `'${combine}'`, {
      problem:
        `'${combine}' scores a point with windows that end up to W−1 points after it (look-ahead); ` +
        "a causal detector uses 'last'; pass causal: false to analyse a recording after the fact",
    });
  }
  if (combine === 'all' && (o.window ?? 32) < 2) {
    throw new ArgumentError('Detector(combine)', "window ≥ 2 for 'all'", `window ${o.window}`, {
      problem: "'all' needs window ≥ 2",
    });
  }
  const threshold = parseThreshold(o.threshold ?? (online ? 'likelihood' : 'spot'), 'Detector(threshold)');
  if (causal && threshold.kind === 'dynamic') {
    throw new ArgumentError('Detector(threshold)', 'spot, dspot or a level from the training scores', "'dynamic'", {
      problem:
        "'dynamic' (Telemanom) is chosen on the whole scored sequence (look-ahead); a causal detector uses spot, " +
        'dspot or a level from the training scores; pass causal: false to analyse a recording after the fact',
    });
  }
  return {
    model,
    window: optPosInt(o.window, 32, 'Detector(window)'),
    hidden,
    epochs: optPosInt(o.epochs, 30, 'Detector(epochs)'),
    batchSize: optPosInt(o.batchSize, 32, 'Detector(batchSize)'),
    learningRate: optNumber(o.learningRate, 1e-3, 'Detector(learningRate)', Number.MIN_VALUE),
    validationSplit: optNumber(o.validationSplit, 0.1, 'Detector(validationSplit)', 0, 1, true),
    patience: optPosInt(o.patience, 5, 'Detector(patience)'),
    trainStride: optPosInt(o.trainStride, 1, 'Detector(trainStride)'),
    normalize: optEnum(o.normalize, 'zscore', ['zscore', 'minmax'] as const, 'Detector(normalize)'),
    causal,
    combine,
    threshold,
    timeFeatures,
    minGap: o.minGap === 0 ? 0 : optPosInt(o.minGap, 0, 'Detector(minGap)'),
    smoothing: optNumber(o.smoothing, 5, 'Detector(smoothing)', 1),
    seed: optNumber(o.seed, 0, 'Detector(seed)'),
    workers: checkWorkers(o.workers ?? 'auto', 'Detector(workers)'),
  };
}

/** Default filters of the convolutional models: SKAB's Conv-AE [32, 16]; four causal layers, dilations 1–8. */
const CONV_HIDDEN: Partial<Record<DetectorModel, number[]>> = { 'conv-ae': [32, 16], 'tcn-forecast': [32, 32, 32, 32] };

/** 'conv-ae': two filter counts and a window that halves twice; both convolutional models: a window of ≥ 2 steps. */
function checkConvModel(model: DetectorModel, o: DetectorOptions, hidden: number[]): void {
  if (model !== 'conv-ae') return;
  if (hidden.length !== 2) {
    throw new ArgumentError('Detector(hidden)', 'two filter counts [u0, u1]', `${hidden.length} sizes`, {
      problem: `model 'conv-ae' has two encoder convolutions (the decoder mirrors them); give two sizes, got ${hidden.length}`,
    });
  }
  const W = o.window ?? 32;
  if (typeof W === 'number' && Number.isInteger(W) && W % 4 !== 0) {
    throw new ArgumentError('Detector(window)', 'a multiple of 4', String(W), {
      problem: `model 'conv-ae' halves the window twice (two stride-2 convolutions) and doubles it back; got ${W}`,
    });
  }
}

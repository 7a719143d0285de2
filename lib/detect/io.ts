/**
 * Saving and loading a fitted Detector: one JSON file, written atomically (temp file + rename).
 *
 *   { "format": "bptt-detector", "formatVersion": 1,
 *     "options": { model, window, hidden, ..., threshold: "spot:0.001" },
 *     "features": F, "normaliser": { kind, offset[F], scale[F] },
 *     "calibration": base64 float64 training scores (the threshold is re-calibrated from them on load),
 *     "model": a bptt-model document (lib/io/json.ts) or null for the statistical baselines,
 *     "feedback": optional, operators' "not an anomaly" marks [{ at: epoch ms, score }] (controls.ts); files without
 *                 it (written before it existed) load with none }
 *
 * SPOT/DSPOT state after online updates is not saved: a loaded detector starts again from its calibration.
 */
import { fileHost } from '../host.js';
import { modelToJSON, encodeFloats, decodeFloats, type ModelJSON, withSource } from '../io/json.js';
import { modelFromJSON } from '../model/loaders.js';
import { ModelFileError } from '../errors.js';
import { checkKeys, describeValue } from '../check.js';
import type { Sequential } from '../model/sequential.js';
import { DETECTOR_OPTION_KEYS } from './types.js';
import type { DetectorOptions, FittedDetector, ResolvedOptions } from './types.js';
import { resolveDetectorOptions } from './options.js';
import { detectorNetwork, isNeural } from './networks.js';
import { OnlinePipeline, type OnlinePipelineState } from './online.js';
import { Normaliser, type NormaliserJSON } from './preprocess.js';
import { thresholdToString, type ThresholdString } from './threshold-spec.js';
import { feedbackFromJSON, type FeedbackEntry } from './controls.js';

export const DETECTOR_FORMAT = 'bptt-detector';
export const DETECTOR_FORMAT_VERSION = 1;

/** bptt's detector file (what `Detector.toJSON` returns and `save` writes). */
export interface DetectorJSON {
  /** The format's name. */
  format: typeof DETECTOR_FORMAT;
  /** The format's version (readers refuse newer ones). */
  formatVersion: number;
  /** The options (resolved), the threshold as a spec string. */
  options: Omit<DetectorOptions, 'threshold'> & {
    /** The threshold spec. */
    threshold: ThresholdString;
  };
  /** Features per point. */
  features: number;
  /** The per-feature scaling. */
  normaliser: NormaliserJSON;
  /** Base64 of the float64 training scores the threshold is calibrated on. */
  calibration: string;
  /** The trained network, or null for the statistical models and 'gru-online'. */
  model: ModelJSON | null;
  /** 'gru-online': the forecaster's weights, Adam moments and buffers and the alarm stage's state, after training. */
  online?: OnlinePipelineState;
  /** Operators' "not an anomaly" marks (controls.ts); absent when there are none. */
  feedback?: FeedbackEntry[];
}

/** A detector file read and validated: the options as the file gives them (a Detector is built from them) and its state. */
export interface DetectorFileContents {
  fileOptions: DetectorOptions;
  state: FittedDetector;
  /** The file's feedback marks (none when the file has no `feedback` field). */
  feedback: FeedbackEntry[];
}

export function detectorToJSON(d: FittedDetector, feedback: readonly FeedbackEntry[] = []): DetectorJSON {
  const o = d.options;
  const base = {
    format: DETECTOR_FORMAT as typeof DETECTOR_FORMAT,
    formatVersion: DETECTOR_FORMAT_VERSION,
    features: d.features,
    normaliser: d.normaliser.toJSON(),
    calibration: encodeFloats(d.calibration),
    ...(feedback.length > 0 ? { feedback: feedback.map((e) => ({ at: e.at, score: e.score })) } : {}),
  };
  if (d.online) {
    return {
      ...base,
      model: null,
      online: d.online.getState(),
      options: {
        model: o.model,
        window: o.window,
        hidden: o.hidden,
        learningRate: o.learningRate,
        causal: o.causal,
        threshold: thresholdToString(o.threshold),
        minGap: o.minGap,
        seed: o.seed,
        timeFeatures: o.timeFeatures,
      },
    };
  }
  return {
    ...base,
    options: {
      model: o.model,
      window: o.window,
      hidden: o.hidden,
      epochs: o.epochs,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      validationSplit: o.validationSplit,
      patience: o.patience,
      trainStride: o.trainStride,
      normalize: o.normalize,
      causal: o.causal,
      combine: o.combine,
      threshold: thresholdToString(o.threshold),
      minGap: o.minGap,
      smoothing: o.smoothing,
      seed: o.seed,
    },
    model: d.model ? modelToJSON(d.model, { includeOptimizer: false }) : null,
  };
}

/** A detector file's problem: a ModelFileError whose message starts with the source (the file, or the caller's name). */
function fail(source: string, problem: string): never {
  throw new ModelFileError(source, problem);
}

/** 'gru-online': the file's pipeline state, validated by its own loader, and agreeing with the file's options. */
function onlineFromJSON(o: ResolvedOptions, features: number, state: unknown, source: string): OnlinePipeline {
  const p = withSource(`${source}: online`, () => OnlinePipeline.fromState(state));
  const st = p.getState(),
    m = st.model.options,
    a = st.alarm.options;
  const want: [string, unknown, unknown][] = [
    ['units', m.units, o.hidden[0]],
    ['window', m.window, o.window],
    ['lr', m.lr, o.learningRate],
    ['seed', m.seed, o.seed],
    ['timeFeatures', m.timeFeatures, o.timeFeatures === 'context' ? false : o.timeFeatures],
    ['context model', st.context !== null, o.timeFeatures === 'context'],
    ['alarm threshold', a.threshold, o.threshold.value],
    ['alarm probation', a.probation, m.probation],
  ];
  for (const [name, got, expected] of want) {
    if (got !== expected) {
      fail(
        source,
        `online state ${name} is ${describeValue(got)}, but the file's options say ${describeValue(expected)}; ` +
          "the file's parts disagree",
      );
    }
  }
  if (features !== 1) fail(source, `model 'gru-online' scores 1 feature, the file says ${features}`);
  if (o.timeFeatures === 'auto') {
    fail(source, "options.timeFeatures 'auto' is resolved at fit; a fitted detector's file names what it uses");
  }
  return p;
}

const DETECTOR_FILE_KEYS = [
  'format',
  'formatVersion',
  'options',
  'features',
  'normaliser',
  'calibration',
  'model',
  'cli',
  'online',
  'feedback',
] as const;

/** The command line's metadata in a model file it wrote (`bptt fit --save`): the columns the detector was trained on. */
function checkCliMeta(m: unknown, features: number, source: string): void {
  withSource(source, () => checkKeys(m, ['columns', 'timeColumn', 'trainedOn', 'trainRows'], 'cli'));
  const c = m as Record<string, unknown>;
  const cols = c['columns'];
  if (
    !Array.isArray(cols) ||
    cols.length !== features ||
    !cols.every((x) => typeof x === 'string' && x.length <= 1024)
  ) {
    fail(source, `cli.columns: expected ${features} column name(s), got ${describeValue(cols)}`);
  }
  if (c['timeColumn'] !== null && c['timeColumn'] !== undefined && typeof c['timeColumn'] !== 'string') {
    fail(source, `cli.timeColumn: expected a string or null, got ${describeValue(c['timeColumn'])}`);
  }
  if (c['trainedOn'] !== undefined && typeof c['trainedOn'] !== 'string') {
    fail(source, `cli.trainedOn: expected a string, got ${describeValue(c['trainedOn'])}`);
  }
  const rows = c['trainRows'];
  if (rows !== undefined && !(typeof rows === 'number' && Number.isSafeInteger(rows) && rows >= 0)) {
    fail(source, `cli.trainRows: expected a non-negative integer, got ${describeValue(rows)}`);
  }
}
/** The options a detector file carries: the Detector's, less the run-time ones (workers, callbacks). */
const FILE_OPTION_KEYS = DETECTOR_OPTION_KEYS.filter((k) => k !== 'workers' && k !== 'onEpochEnd');
/** Most features a file may declare: far above any real data set, low enough that nothing sized by it can overflow. */
const MAX_FEATURES = 100000;

/** The architecture of a layer stack as data, without names: what must agree between a file's options and network. */
function architecture(layers: readonly { className: string; getConfig(): Record<string, unknown> }[]): string {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (k !== 'name') out[k] = strip((v as Record<string, unknown>)[k]);
    return out;
  };
  return JSON.stringify(layers.map((l) => [l.className, strip(l.getConfig())]));
}

/**
 * Reads a detector document, validating every field (types, ranges, allowed values) and that its parts agree: the
 * network is exactly the one its options describe (model kind, window, hidden sizes, feature count), the normaliser's
 * kind and size match the options and the features. Every error is a ModelFileError (or, for a network too large to
 * build, a MemoryLimitError) whose message starts with `source` (the file). Nothing in the document is ever evaluated
 * as code. Returns the file's options and the fitted state; Detector.fromJSON builds the Detector from them.
 */
export function detectorFromJSON(input: unknown, source = 'Detector.fromJSON'): DetectorFileContents {
  let j: unknown = input;
  if (typeof input === 'string') {
    try {
      j = JSON.parse(input);
    } catch (e) {
      fail(source, `not valid JSON (a truncated or corrupt file?): ${(e as Error).message}`);
    }
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) fail(source, 'expected a JSON object');
  const doc = j as Partial<DetectorJSON>;
  if (doc.format !== DETECTOR_FORMAT) {
    const hint = doc.format === 'bptt-model' ? ' (this is a model file: load it with Sequential.load)' : '';
    fail(source, `not a bptt detector (format ${describeValue(doc.format)}, expected "${DETECTOR_FORMAT}")${hint}`);
  }
  if (doc.formatVersion !== DETECTOR_FORMAT_VERSION) {
    fail(
      source,
      `unknown format version ${describeValue(doc.formatVersion)}; this bptt reads version ${DETECTOR_FORMAT_VERSION}`,
    );
  }
  withSource(source, () => checkKeys(doc, DETECTOR_FILE_KEYS, 'detector'));
  const opts = doc.options;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) fail(source, 'options missing');
  if (typeof opts.threshold !== 'string') {
    fail(source, `options.threshold: expected a string such as "spot:0.001", got ${describeValue(opts.threshold)}`);
  }
  withSource(source, () => checkKeys(opts, FILE_OPTION_KEYS, 'options'));
  // Files written before `causal` existed: the look-ahead choices they hold were offline ones.
  const causal = opts.causal ?? !(opts.combine === 'mean' || opts.combine === 'max' || opts.threshold === 'dynamic');
  const fileOptions: DetectorOptions = { ...opts, causal };
  const options = withSource(source, () => resolveDetectorOptions(fileOptions));
  const features = doc.features;
  if (typeof features !== 'number' || !Number.isInteger(features) || features < 1 || features > MAX_FEATURES) {
    fail(source, `features must be an integer in [1, ${MAX_FEATURES}], got ${describeValue(features)}`);
  }
  const cliMeta = (doc as { cli?: unknown }).cli;
  if (cliMeta !== undefined) checkCliMeta(cliMeta, features, source);
  const nj = doc.normaliser;
  const normaliser = withSource(source, () => {
    checkKeys(nj, ['kind', 'offset', 'scale'], 'normaliser');
    return Normaliser.fromJSON(nj as NormaliserJSON);
  });
  if (normaliser.offset.length !== features) {
    fail(source, `normaliser has ${normaliser.offset.length} features, expected ${features}`);
  }
  if (normaliser.kind !== options.normalize) {
    fail(source, `normaliser kind "${normaliser.kind}" disagrees with options.normalize "${options.normalize}"`);
  }
  const cal = doc.calibration;
  if (typeof cal !== 'string') fail(source, 'calibration missing');
  const bytes = Math.floor((cal.length * 3) / 4) - (cal.endsWith('==') ? 2 : cal.endsWith('=') ? 1 : 0);
  const calibration = withSource(source, () =>
    decodeFloats(cal, 'float64', Math.floor(bytes / 8), 'calibration'),
  ) as Float64Array;
  if (calibration.length === 0) fail(source, 'calibration is empty');
  // Every model's scores are ≥ 0 but 'iqr''s: max(Q1 − v, v − Q3) / IQR is negative inside the quartiles.
  if (options.model !== 'iqr') {
    for (let i = 0; i < calibration.length; i++) {
      if (calibration[i] < 0) fail(source, `calibration[${i}] is negative (${calibration[i]}); scores are ≥ 0`);
    }
  }
  const feedback = doc.feedback === undefined ? [] : feedbackFromJSON(doc.feedback, (problem) => fail(source, problem));
  const file = (model: Sequential | null, online: OnlinePipeline | null): DetectorFileContents => ({
    fileOptions,
    state: { options, features, normaliser, calibration, model, online },
    feedback,
  });
  if (options.model !== 'gru-online' && doc.online !== undefined) {
    fail(source, `model '${options.model}' learns no online state, but the file has one`);
  }
  if (options.model === 'gru-online') {
    if (doc.model !== null && doc.model !== undefined) {
      fail(source, 'model \'gru-online\' keeps its network in "online", but the file has "model" too');
    }
    if (doc.online === undefined) fail(source, 'model \'gru-online\' needs its state, but "online" is missing');
    return file(null, onlineFromJSON(options, features, doc.online, source));
  }
  if (!isNeural(options.model)) {
    if (doc.model !== null && doc.model !== undefined)
      fail(source, `model '${options.model}' has no network, but the file has one`);
    return file(null, null);
  }
  if (!doc.model) fail(source, `model '${options.model}' needs its network, but "model" is missing`);
  const model = modelFromJSON(doc.model, `${source}: model`);
  const shape = model.getInputShape();
  if (!shape || shape[0] !== options.window || shape[1] !== features) {
    fail(
      source,
      `network input ${JSON.stringify(shape)} does not match window ${options.window} × ${features} features`,
    );
  }
  const expected = withSource(source, () => detectorNetwork(options, features));
  if (architecture(model.layers) !== architecture(expected.layers) || model.dtype !== expected.dtype) {
    fail(
      source,
      `the network (${model.layers.map((l) => l.className).join(' → ')}) is not the ` +
        `'${options.model}' network that the options describe (${expected.layers.map((l) => l.className).join(' → ')}, ` +
        `hidden ${JSON.stringify(options.hidden)}); the file's parts disagree`,
    );
  }
  return file(model, null);
}

/** Writes a fitted detector's state to `path` as one JSON file, atomically. */
export function saveDetector(d: FittedDetector, path: string, feedback: readonly FeedbackEntry[] = []): void {
  const host = fileHost('Detector.save(path)', 'writes a file');
  host.writeAtomic(path, JSON.stringify(detectorToJSON(d, feedback)));
}

/** Reads and validates a detector file; errors are ModelFileErrors starting with `Detector.load(path)`. */
export function loadDetector(path: string): DetectorFileContents {
  const source = `Detector.load(${path})`;
  const host = fileHost('Detector.load(path)', 'reads a file');
  let text: string;
  try {
    text = host.readText(path);
  } catch (e) {
    fail(source, `cannot read the file: ${(e as { code?: string }).code ?? (e as Error).message}`);
  }
  if (text.length === 0) fail(source, 'the file is empty');
  return detectorFromJSON(text, source);
}

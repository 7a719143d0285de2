/**
 * Saving and loading a fitted Detector: one JSON file, written atomically (temp file + rename).
 *
 *   { "format": "bptt-detector", "formatVersion": 1,
 *     "options": { model, window, hidden, ..., threshold: "spot:0.001" },
 *     "features": F, "normaliser": { kind, offset[F], scale[F] },
 *     "calibration": base64 float64 training scores (the threshold is re-calibrated from them on load),
 *     "model": a bptt-model document (lib/io/json.ts) or null for the statistical baselines }
 *
 * SPOT/DSPOT state after online updates is not saved: a loaded detector starts again from its calibration.
 */
import * as fs from 'fs';
import { writeFileAtomicSync } from '../io/atomic';
import { modelToJSON, modelFromJSON, encodeFloats, decodeFloats, ModelJSON } from '../io/json';
import { Detector, DetectorOptions } from './detector';
import { Normaliser, NormaliserJSON } from './preprocess';
import { thresholdToString } from './threshold-spec';

export const DETECTOR_FORMAT = 'bptt-detector';
export const DETECTOR_FORMAT_VERSION = 1;

export interface DetectorJSON {
  format: typeof DETECTOR_FORMAT;
  formatVersion: number;
  options: DetectorOptions & { threshold: string };
  features: number;
  normaliser: NormaliserJSON;
  calibration: string;
  model: ModelJSON | null;
}

export function detectorToJSON(d: Detector): DetectorJSON {
  if (!d.fitted) throw new Error('toJSON: the detector is not fitted; call fit(trainSeries) first');
  const o = d.options;
  return {
    format: DETECTOR_FORMAT,
    formatVersion: DETECTOR_FORMAT_VERSION,
    options: {
      model: o.model, window: o.window, hidden: o.hidden, epochs: o.epochs, batchSize: o.batchSize, learningRate: o.learningRate,
      validationSplit: o.validationSplit, patience: o.patience, trainStride: o.trainStride, normalize: o.normalize,
      combine: o.combine, threshold: thresholdToString(o.threshold), minGap: o.minGap, smoothing: o.smoothing, seed: o.seed,
    },
    features: d.features,
    normaliser: (d.normaliser as Normaliser).toJSON(),
    calibration: encodeFloats(d.calibration as Float64Array),
    model: d.model ? modelToJSON(d.model, { includeOptimizer: false }) : null,
  };
}

export function detectorFromJSON(input: unknown, source = 'Detector.fromJSON'): Detector {
  let j: unknown = input;
  if (typeof input === 'string') {
    try {
      j = JSON.parse(input);
    } catch (e) {
      throw new TypeError(`${source}: not valid JSON (a truncated or corrupt file?): ${(e as Error).message}`);
    }
  }
  const doc = j as Partial<DetectorJSON>;
  if (doc === null || typeof doc !== 'object') throw new TypeError(`${source}: expected a JSON object`);
  if (doc.format !== DETECTOR_FORMAT) {
    const hint = (doc as { format?: unknown }).format === 'bptt-model' ? ' (this is a model file: load it with Sequential.load)' : '';
    throw new TypeError(`${source}: not a bptt detector (format ${JSON.stringify(doc.format)}, expected "${DETECTOR_FORMAT}")${hint}`);
  }
  if (doc.formatVersion !== DETECTOR_FORMAT_VERSION) {
    throw new TypeError(`${source}: unknown format version ${JSON.stringify(doc.formatVersion)}; this bptt reads version ${DETECTOR_FORMAT_VERSION}`);
  }
  if (!doc.options || typeof doc.options !== 'object') throw new TypeError(`${source}: options missing`);
  const d = new Detector(doc.options);
  if (!Number.isInteger(doc.features) || (doc.features as number) < 1) throw new TypeError(`${source}: features must be a positive integer`);
  d.features = doc.features as number;
  try {
    d.normaliser = Normaliser.fromJSON(doc.normaliser as NormaliserJSON);
  } catch (e) {
    throw new TypeError(`${source}: ${(e as Error).message}`);
  }
  if (d.normaliser.offset.length !== d.features) throw new RangeError(`${source}: normaliser has ${d.normaliser.offset.length} features, expected ${d.features}`);
  const cal = doc.calibration;
  if (typeof cal !== 'string') throw new TypeError(`${source}: calibration missing`);
  const bytes = Math.floor((cal.length * 3) / 4) - (cal.endsWith('==') ? 2 : cal.endsWith('=') ? 1 : 0);
  d.calibration = decodeFloats(cal, 'float64', Math.floor(bytes / 8), `${source}: calibration`) as Float64Array;
  if (d.calibration.length === 0) throw new RangeError(`${source}: calibration is empty`);
  const neural = d.options.model !== 'zscore' && d.options.model !== 'iqr';
  if (neural) {
    if (!doc.model) throw new TypeError(`${source}: model '${d.options.model}' needs its network, but "model" is missing`);
    d.model = modelFromJSON(doc.model, `${source}: model`);
    const shape = d.model.getInputShape();
    if (!shape || shape[0] !== d.options.window || shape[1] !== d.features) {
      throw new RangeError(`${source}: network input ${JSON.stringify(shape)} does not match window ${d.options.window} × ${d.features} features`);
    }
  }
  return d;
}

export function saveDetector(d: Detector, path: string): void {
  writeFileAtomicSync(path, JSON.stringify(detectorToJSON(d)));
}

export function loadDetector(path: string): Detector {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`Detector.load: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text.length === 0) throw new TypeError(`Detector.load: ${path} is empty`);
  return detectorFromJSON(text, `Detector.load(${path})`);
}

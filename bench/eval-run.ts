/**
 * One evaluation job of bench/eval.ts: fit one Detector on one file's training part, score the evaluated part, and
 * threshold those scores with every threshold spec of the grid.
 *
 * The threshold does not enter training, so the model is fitted once per (model, file) and each spec is applied with
 * `applyThresholdSpec(spec, detector.calibration, scores, firstScored)`, the very call `Detector.detect` makes; the
 * job checks that for the spec it was fitted with, its flags equal `detect()`'s.
 *
 * Per spec the job returns the flags and the ratio r_t = score_t / threshold_t (threshold_t: the level point t was
 * compared with, per point for SPOT/DSPOT). Tuning multiplies every threshold by one θ: flag_t = r_t ≥ θ. Warm-up points
 * (no threshold) get r = −1, so no θ > 0 flags them.
 */
import '../lib/node/install'; // the Node host: files, worker threads ('auto' is 1 without it)
import { Detector, type DetectResult } from '../lib/detect/detector';
import type { DetectorOptions, DetectorModel } from '../lib/detect/types';
import { applyThresholdSpec, parseThreshold, type ThresholdConfig } from '../lib/detect/threshold-spec';
import { rocAuc } from '../lib/detect/metrics';
import { type NabFile, type SkabFile, SKAB_TRAIN_ROWS } from './eval-data';

/** Detector options the grid varies or the command line overrides (threshold excluded: specs are applied after). */
export type EvalOptions = Omit<DetectorOptions, 'model' | 'threshold' | 'onEpochEnd'>;

export interface Job {
  /** Label of the configuration (a row of the tables). */
  config: string;
  dataset: 'nab' | 'skab';
  file: number;
  model: DetectorModel;
  options: EvalOptions;
  /** Threshold specs ('spot', 'quantile:0.99', …). */
  thresholds: string[];
  /** SPOT/DSPOT initial level; undefined: the library default. */
  spotLevel?: number;
}

export interface SpecResult {
  spec: string;
  /** Why this spec could not be applied (e.g. SPOT found no peak in the calibration scores). */
  error?: string;
  /** 0/1 per evaluated point, as the Detector flags them. */
  flags?: Uint8Array;
  /** score / threshold per evaluated point; −1 for warm-up points. */
  ratios?: Float64Array;
}

export interface JobResult {
  config: string;
  dataset: 'nab' | 'skab';
  file: number;
  model: DetectorModel;
  /** Whole-job failure (fit or score). */
  error?: string;
  /** Points scored (NAB: the whole series; SKAB: the test part). */
  n: number;
  /** Per-point scores of the evaluated part. */
  scores?: Float64Array;
  /** ROC-AUC of the scores against the labels of the evaluated part (SKAB only; NaN for NAB). */
  auc: number;
  epochs: number;
  fitSeconds: number;
  detectSeconds: number;
  /** Applying every threshold spec (SPOT/DSPOT refit their tail on each new peak). */
  thresholdSeconds: number;
  specs: SpecResult[];
}

/** Threshold ≤ 0 (all-zero calibration scores) would make the ratio infinite; divide by at least this. */
const MIN_LEVEL = 1e-12;

export function thresholdConfig(spec: string, spotLevel: number | undefined): ThresholdConfig {
  const c = parseThreshold(spec, 'eval --thresholds');
  if (spotLevel !== undefined && (c.kind === 'spot' || c.kind === 'dspot')) c.level = spotLevel;
  return c;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs one job. `nab`/`skab`: the loaded data (each worker loads it once). */
export function runJob(job: Job, nab: readonly NabFile[], skab: readonly SkabFile[]): JobResult {
  let train: number[] | number[][], test: number[] | number[][];
  let labels: Uint8Array | null = null;
  if (job.dataset === 'nab') {
    const f = nab[job.file];
    train = f.values.slice(0, f.probation);
    test = f.values;
  } else {
    const f = skab[job.file];
    train = f.rows.slice(0, SKAB_TRAIN_ROWS);
    test = f.rows.slice(SKAB_TRAIN_ROWS);
    labels = f.labels.slice(SKAB_TRAIN_ROWS);
  }
  const base = {
    config: job.config,
    dataset: job.dataset,
    file: job.file,
    model: job.model,
    n: test.length,
    auc: NaN,
    specs: [] as SpecResult[],
  };
  let epochs = 0;
  // Fitted with a threshold that any non-empty calibration accepts; the grid's specs are applied below.
  const fitSpec = 'quantile:0.99';
  const detector = new Detector({
    ...job.options,
    model: job.model,
    threshold: fitSpec,
    onEpochEnd: () => {
      epochs++;
    },
  });
  const t0 = process.hrtime.bigint();
  try {
    detector.fit(train);
  } catch (e) {
    return {
      ...base,
      error: `fit: ${message(e)}`,
      epochs,
      fitSeconds: Number(process.hrtime.bigint() - t0) / 1e9,
      detectSeconds: 0,
      thresholdSeconds: 0,
    };
  }
  const t1 = process.hrtime.bigint();
  let det: DetectResult;
  try {
    det = detector.detect(test);
  } catch (e) {
    return {
      ...base,
      error: `detect: ${message(e)}`,
      epochs,
      fitSeconds: Number(t1 - t0) / 1e9,
      detectSeconds: 0,
      thresholdSeconds: 0,
    };
  }
  const t2 = process.hrtime.bigint();
  const { scores, firstScored } = det;
  const calibration = detector.calibration as Float64Array;
  const specs = job.thresholds.map((spec): SpecResult => {
    try {
      const { thresholds, flags } = applyThresholdSpec(
        thresholdConfig(spec, job.spotLevel),
        calibration,
        scores,
        firstScored,
      );
      if (spec === fitSpec) {
        for (let i = 0; i < flags.length; i++) {
          if (flags[i] !== det.flags[i])
            throw new Error(
              `eval: ${spec} flags differ from Detector.detect at point ${i}: the bench no longer mirrors detect()`,
            );
        }
      }
      const ratios = new Float64Array(scores.length);
      for (let i = 0; i < scores.length; i++) {
        const t = thresholds[i];
        ratios[i] = Number.isNaN(t) ? -1 : scores[i] / Math.max(t, MIN_LEVEL);
      }
      return { spec, flags, ratios };
    } catch (e) {
      return { spec, error: message(e) };
    }
  });
  return {
    ...base,
    scores,
    auc: labels === null ? NaN : rocAuc(labels, scores),
    epochs,
    fitSeconds: Number(t1 - t0) / 1e9,
    detectSeconds: Number(t2 - t1) / 1e9,
    thresholdSeconds: Number(process.hrtime.bigint() - t2) / 1e9,
    specs,
  };
}

/**
 * The Detector's vocabulary: model names, option keys, the options as given and as resolved, and a fitted detector's
 * state. io, export and stream import this file (and take a FittedDetector as an argument), never the Detector class.
 */
import type { EpochLogs, Sequential } from '../model/sequential.js';
import type { Workers } from '../parallel/auto.js';
import type { Normaliser, NormalizeKind } from './preprocess.js';
import type { ThresholdConfig, ThresholdSpec } from './threshold-spec.js';
import type { OnlinePipeline } from './online.js';

/** A Detector's model: see the Detector's notes for how each scores. */
export type DetectorModel =
  | 'gru-online'
  | 'lstm-ae'
  | 'gru-ae'
  | 'rnn-ae'
  | 'dense-ae'
  | 'lstm-forecast'
  | 'zscore'
  | 'iqr'
  | 'conv-ae'
  | 'tcn-forecast'
  | 'lstm-attn-ae';
/** Every {@link DetectorModel}, for option validation and menus. */
export const DETECTOR_MODELS: readonly DetectorModel[] = [
  'gru-online',
  'lstm-ae',
  'gru-ae',
  'rnn-ae',
  'dense-ae',
  'lstm-forecast',
  'zscore',
  'iqr',
  'conv-ae',
  'tcn-forecast',
  'lstm-attn-ae',
];

/** Options that only the networks trained once use; the continually learning 'gru-online' refuses them. */
export const BATCH_TRAINING_KEYS = [
  'epochs',
  'batchSize',
  'validationSplit',
  'patience',
  'trainStride',
  'normalize',
  'combine',
  'smoothing',
  'onEpochEnd',
] as const;

/** Every option a Detector takes; anything else is a misspelling and an error. */
export const DETECTOR_OPTION_KEYS = [
  'model',
  'window',
  'hidden',
  'epochs',
  'batchSize',
  'learningRate',
  'validationSplit',
  'patience',
  'trainStride',
  'normalize',
  'causal',
  'combine',
  'threshold',
  'minGap',
  'smoothing',
  'seed',
  'workers',
  'onEpochEnd',
  'timeFeatures',
] as const;

/** How an autoencoder combines the windows covering a point into its score (see the Detector's notes). */
export type Combine = 'mean' | 'max' | 'last' | 'all';

/** Options of the {@link Detector} constructor; every one is optional. */
export interface DetectorOptions {
  /**
   * Default 'auto': at fit, 'gru-online' (the continually learning detector) for one series of at least 82 training
   * points, 'lstm-ae' (causal) for several features or a shorter series: what the evaluation found best for each shape.
   * Options only one kind of model takes decide it: epochs, batchSize, a threshold other than 'likelihood', ... pick
   * 'lstm-ae'; timeFeatures picks 'gru-online'.
   */
  model?: DetectorModel | 'auto';
  /**
   * 'gru-online': how it uses the timestamps given to fit/detect/push (epoch ms, UTC). 'auto' (default): 'context'
   * when fit is given timestamps, else false. 'context': a second forecaster with time-of-day inputs feeds the alarm
   * stage's slow channel, so a day with the wrong shape alarms (NAB: 69.8 against 70.0 without). 'day' / 'day+week':
   * time inputs to the main forecaster itself (catches more of those days, costs 3–6 NAB points). false: time unused.
   */
  timeFeatures?: 'auto' | false | 'context' | 'day' | 'day+week';
  /** Window length W. Default 32. */
  window?: number;
  /** Hidden units (recurrent models) or encoder sizes (dense-ae). Default 32 (dense-ae: [32, 8]). */
  hidden?: number | number[];
  /** Training epochs (neural models). Default 30, with early stopping on the validation split. */
  epochs?: number;
  /** Training windows per step. Default 32. */
  batchSize?: number;
  /** Adam's learning rate. Default 1e-3. */
  learningRate?: number;
  /** Fraction of the training windows (the last ones, in time order) held out for early stopping. Default 0.1. */
  validationSplit?: number;
  /** Early-stopping patience in epochs. Default 5. */
  patience?: number;
  /** Stride of the training windows. Default 1. */
  trainStride?: number;
  /** How each feature is scaled before the model: 'zscore' (default) or 'minmax'. */
  normalize?: NormalizeKind;
  /**
   * Default true: a point's score and flag depend only on points up to it, so detect(x.slice(0, k)) equals detect(x) on
   * those points and stream() equals detect(). false allows the look-ahead choices (combine 'mean'/'max', threshold
   * 'dynamic') for recordings analysed after the fact.
   */
  causal?: boolean;
  /** Autoencoders: how the windows covering a point make its score. Default 'last' (causal); 'mean', 'max' need causal: false. */
  combine?: Combine;
  /** Default 'spot'. See threshold-spec.ts. */
  threshold?: ThresholdSpec;
  /** Events closer than this many unflagged points are merged. Default 0. */
  minGap?: number;
  /** EWMA span for 'lstm-forecast' errors. Default 5. */
  smoothing?: number;
  /** Seed of the weights, shuffles and dropout. Default 0. */
  seed?: number;
  /** Threads for training and scoring: a positive integer or 'auto' (default). Not saved with the detector. */
  workers?: Workers;
  /** Progress while training. */
  onEpochEnd?: (logs: EpochLogs) => void;
}

/** The options with every default filled in and checked (what `detector.options` holds). */
export interface ResolvedOptions {
  /** The model (never 'auto' after fit). */
  model: DetectorModel;
  /** Window length W. */
  window: number;
  /** Hidden sizes. */
  hidden: number[];
  /** Training epochs. */
  epochs: number;
  /** Training batch size. */
  batchSize: number;
  /** Adam's learning rate. */
  learningRate: number;
  /** Validation fraction for early stopping. */
  validationSplit: number;
  /** Early-stopping patience. */
  patience: number;
  /** Stride of the training windows. */
  trainStride: number;
  /** Feature scaling. */
  normalize: NormalizeKind;
  /** Scores use no look-ahead. */
  causal: boolean;
  /** How windows combine into a point's score. */
  combine: Combine;
  /** The threshold, parsed. */
  threshold: ThresholdConfig;
  /** 'auto' until fit resolves it from whether timestamps were given. */
  timeFeatures: 'auto' | false | 'context' | 'day' | 'day+week';
  /** Events closer than this are merged. */
  minGap: number;
  /** EWMA span ('lstm-forecast'). */
  smoothing: number;
  /** Seed. */
  seed: number;
  /** Threads. */
  workers: Workers;
}

/**
 * A fitted detector's state, the parts a detector file holds: what io writes and reads and what stream() and
 * exportScorer() read. Detector hands these over once fitted; nothing here refers back to the Detector class.
 */
export interface FittedDetector {
  /** The resolved options. */
  readonly options: ResolvedOptions;
  /** Features per point of the training series. */
  readonly features: number;
  /** The per-feature scaling fitted on the training series. */
  readonly normaliser: Normaliser;
  /** Training-series scores (from firstScored on): what the threshold is calibrated on. */
  readonly calibration: Float64Array;
  /** The trained network (neural models trained once), else null. */
  readonly model: Sequential | null;
  /** 'gru-online': the forecaster and alarm stage after the training series, else null. */
  readonly online: OnlinePipeline | null;
}

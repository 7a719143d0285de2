/**
 * Detector: from a raw series to scores, a threshold, flags and events.
 *
 *   const detector = new Detector({ model: 'lstm-ae', window: 32, threshold: 'spot' }).fit(train);
 *   const { scores, flags, events, thresholds } = detector.detect(series);
 *
 * Pipeline. fit: read the training series → fill missing values by interpolation → fit the normaliser (training part
 * only) → train the model on sliding windows → score the training series → calibrate the threshold on those scores.
 * score/detect: the same reading, filling and normalising (with the stored normaliser), then per-point scores:
 *
 *   autoencoders ('lstm-ae', 'gru-ae', 'rnn-ae', 'dense-ae', 'conv-ae': SKAB's Conv-AE, presets.ts convAutoencoder;
 *       'lstm-attn-ae': an LSTM encoder and a decoder that attends over the encoder's states, attentionAutoencoder;
 *       detect(…, { attention: true }) returns its weights)
 *       windows w = [s, s+W) with stride 1; e(w, j, f) = (x̂ − x)² at step j, feature f (normalised units);
 *       point score = combine over the windows covering the point of mean_f e: 'last' (the default, causal): the
 *       error at the last step of the window that ends at the point; offline only (causal: false): 'mean' or 'max'
 *       over every window covering the point, which looks up to W−1 points ahead; or 'all', the SKAB notebooks' rule:
 *       a window's residual is r_s = Σ_f mean_j |x̂ − x| (absolute error), and point d scores min(r_s) over the
 *       windows s = d−W+1 … d−1, so that it is flagged only when all of them exceed the threshold (look-ahead W−2
 *       points; points before W−1 and after n−W+1 score 0); the threshold is calibrated on the training windows'
 *       residuals (use 'ucl:0.999:1.3333' for the Conv-AE notebook's limit);
 *       per-feature contributions are the same combination of e(·, ·, f) before the mean over f.
 *   'lstm-forecast' (Telemanom): a window [t−W, t) predicts x_t; error_t = mean_f |x̂_t − x_t|, smoothed by an EWMA of
 *       span `smoothing`; points t < W are warm-up. 'tcn-forecast' scores the same way with dilated causal convolutions.
 *   'zscore': score_t = sqrt(mean_f z_f²), z_f = (x_t,f − mean)/std over the previous W points; t < W warm-up.
 *   'iqr': score_t = max_f max(Q1 − x, x − Q3)/IQR over the previous W points (Tukey fences: > k means outside
 *       Q3 + k·IQR); t < W warm-up.
 *
 * Warm-up points (before the first complete window of history) score 0 and are never flagged. Thresholds: see
 * threshold-spec.ts; SPOT/DSPOT run online over the scores in time order, so batch `detect` and `stream()` flag alike.
 *
 * Threads: `workers` (default 'auto', see lib/parallel/auto.ts) goes to the model's fit and to the forward passes of
 * score/detect. Scores are bit-identical for every worker count; training is bit-identical for a given count. It is a
 * run-time choice, not saved with the detector; `stream()` always runs on the calling thread.
 */
import type { Sequential, EpochLogs } from '../model/sequential.js';
import { checkKeys, checkObject, describeValue } from '../check.js';
import {
  CALLBACK_NAMES,
  callbacksGiven,
  checkCallbacks,
  checkSignal,
  checkYieldEvery,
  refuseYieldEvery,
  runAsync,
  runSync,
  type AbortSignalLike,
  type CallbackSet,
  type FitAsyncCallbacks,
  type FitCallbacks,
  type FitLoop,
  type YieldEvery,
} from '../model/fit-loop.js';
import { checkWorkers, type Workers } from '../parallel/auto.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError } from '../errors.js';
import { readSeries, fillMissing, type Series, type SeriesLike, type FillReport } from '../tensor.js';
import { fileHost } from '../host.js';
import { flagsToEvents, type AnomalyEvent } from './events.js';
import { Ewma } from './thresholds/telemanom.js';
import { Normaliser } from './preprocess.js';
import { applyThresholdSpec, staticLevel, thresholdToString } from './threshold-spec.js';
import { OnlinePipeline } from './online.js';
import { baselineScores } from './baselines.js';
import { detectorNetwork, isAutoencoder, isForecaster, isNeural } from './networks.js';
import { attentionMaps, type AttentionMaps } from './networks.js';
import { ONLINE_HORIZON, isAutoModel, pickModel, resolveDetectorOptions, resolveOptions } from './options.js';
import type { DetectorOptions, FittedDetector, ResolvedOptions } from './types.js';
import { DetectorStream, type StreamResult } from './stream.js';
import {
  detectorToJSON,
  detectorFromJSON,
  saveDetector,
  loadDetector,
  type DetectorJSON,
  type DetectorFileContents,
} from './io.js';
import { exportScorerSource, exportScorerOptions, type ExportScorerOptions } from './export.js';
import {
  checkExclude,
  checkFeedback,
  feedbackLevel,
  maskExcluded,
  MAX_FEEDBACK,
  type FeedbackEntry,
  type FeedbackInput,
  type TimeBound,
} from './controls.js';

/** What {@link Detector.score} returns. */
export interface ScoreResult {
  /** One score per input point. */
  scores: Float64Array;
  /** Per-feature contributions [n, F] (row-major): the share of each feature in the score, before averaging. */
  contributions: Float64Array;
  /** Points before this index are warm-up (score 0, never flagged). */
  firstScored: number;
  /** Missing values that were filled. */
  filled: FillReport;
}

/** What {@link Detector.detect} returns. */
export interface DetectResult extends ScoreResult {
  /** 1 where the point is anomalous. */
  flags: Uint8Array;
  /** Runs of flagged points (merged across gaps below minGap), each with its peak. */
  events: AnomalyEvent[];
  /** The threshold each point was compared with (NaN for warm-up points). */
  thresholds: Float64Array;
  /** The threshold as one number: the static level, or for SPOT/DSPOT/dynamic the last one used. */
  threshold: number;
  /**
   * Model 'lstm-attn-ae' with detect(series, { attention: true }): the attention weights of every scored window
   * (α [W, W] per window; 4·W² bytes each, and one more forward pass on the calling thread). Absent otherwise.
   */
  attention?: AttentionMaps;
}

/** Options of {@link Detector.detect}. */
export interface DetectCallOptions {
  /** Threads for the forward passes; default the detector's. */
  workers?: Workers;
  /** 'gru-online': epoch ms per point. */
  timestamps?: ArrayLike<number>;
  /** Model 'lstm-attn-ae': also return the attention weights of every scored window (`result.attention`). */
  attention?: boolean;
}

/** Detector.fit's options. */
export interface DetectorFitOptions extends FitCallbacks {
  /** Epoch ms, one per point: the time inputs of 'gru-online' (with `timeFeatures`). */
  timestamps?: ArrayLike<number>;
  /** Aborting stops training at the next step; the fit fails with the signal's reason and the detector is unchanged. */
  signal?: AbortSignalLike;
  /**
   * Time windows `[start, end)` to leave out of training (known outages, so they do not become "normal"): the rows whose
   * `timestamps` fall inside become missing values. Bounds are epoch ms, ISO strings or Dates; needs `timestamps`.
   */
  exclude?: ReadonlyArray<readonly [TimeBound, TimeBound]>;
}

/** Detector.fitAsync's options: fit's, with callbacks that may return a Promise (awaited), and when to yield. */
export interface DetectorFitAsyncOptions extends Omit<DetectorFitOptions, keyof FitCallbacks>, FitAsyncCallbacks {
  /** When to give the event loop a turn (TensorFlow.js semantics): 'auto' (default: 125 ms), ms, 'batch', 'epoch' or
   *  'never'. */
  yieldEvery?: YieldEvery;
}

const FIT_KEYS = ['timestamps', 'signal', 'exclude', ...CALLBACK_NAMES];

/** Number of windows scored per forward batch: bounds memory on long series. */
const CHUNK = 512;

/**
 * Anomaly detection on a time series: fit on normal behaviour, then score, detect or stream new points. See the
 * module notes above for the models, the scores and the thresholds.
 *
 * @example
 * ```ts
 * import { Detector } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const wave = (i: number): number => Math.sin((2 * Math.PI * i) / 25);
 * const train = Array.from({ length: 400 }, (_, i) => wave(i));
 * const test = Array.from({ length: 200 }, (_, i) => wave(400 + i) + (i >= 120 && i < 125 ? 3 : 0));
 * const detector = new Detector({ model: 'lstm-ae', window: 16, hidden: 8, epochs: 15, threshold: 'quantile:0.999' });
 * detector.fit(train);
 * const { flags, events } = detector.detect(test);
 * assert.ok(events.some((e) => e.start <= 124 && e.end >= 120)); // the bump is found
 * assert.ok(flags.slice(0, 100).every((f) => f === 0)); // nothing on the clean part
 * ```
 */
export class Detector {
  /** The resolved options; with model 'auto', those of the model fit picked (before fit: as for 'lstm-ae'). */
  options: ResolvedOptions;
  /** The options as given (model 'auto' is resolved again from them at fit). */
  private readonly given: DetectorOptions;
  /** Model 'auto' not yet resolved by fit. */
  private auto: boolean;
  /** The trained network (neural models trained once), else null. */
  model: Sequential | null = null;
  /** 'gru-online': the forecaster and alarm stage as they stand after the training series (detect and stream continue from a copy). */
  online: OnlinePipeline | null = null;
  /** The per-feature scaling fitted on the training series; null before fit. */
  normaliser: Normaliser | null = null;
  /** Training-series scores (from firstScored on): what the threshold is calibrated on. */
  calibration: Float64Array | null = null;
  /** Features per point of the training series; 0 before fit. */
  features = 0;
  /** Filled-value report of the training series. */
  trainFilled: FillReport | null = null;
  private readonly onEpochEnd: ((logs: EpochLogs) => void) | undefined;
  /** Operators' "not an anomaly" marks (feedback()): a point flags only with a score above the highest (controls.ts). */
  notAnomalies: FeedbackEntry[] = [];

  /**
   * @param options - See {@link DetectorOptions}; all optional.
   * @throws {@link ArgumentError} for an unknown option, a value out of range, or options that contradict each other.
   */
  constructor(options: DetectorOptions = {}) {
    // 'auto': the options are checked as far as they can be without the data (types, ranges, names)...
    this.options = resolveDetectorOptions(options);
    this.auto = isAutoModel(options);
    this.given = { ...options };
    this.onEpochEnd = options.onEpochEnd;
  }

  /** ...and resolved for the model picked once the training series' shape is known. */
  private pick(series: unknown): void {
    if (!this.auto) return;
    const raw = readSeries(series, 'fit(series)');
    const model = pickModel(this.given, raw.F, raw.n);
    try {
      this.options = resolveOptions({ ...this.given, model });
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) {
        e.message = `${e.message} (model 'auto' picked '${model}' for ${raw.F} feature${raw.F === 1 ? '' : 's'} and ${raw.n} points; name a model to use these options)`;
      }
      throw e;
    }
    this.auto = false;
  }

  /** Whether fit (or loading) has given the detector its model, normaliser and calibration. */
  get fitted(): boolean {
    return this.normaliser !== null && this.calibration !== null;
  }

  /**
   * Points needed before the first score: W for history models, W for autoencoders (one full window). 'gru-online'
   * continues from its training series, so any length scores; its training series needs 2·(W + 9) points (the first
   * fit happens halfway through it, on windows of W + 8 forecast steps).
   */
  get minLength(): number {
    if (this.options.model === 'gru-online') return 1;
    return isForecaster(this.options.model) || !isNeural(this.options.model)
      ? this.options.window + 1
      : this.options.window;
  }

  /** Points the training series needs (minLength, and for 'gru-online' enough for its first fit). */
  get minTrainLength(): number {
    return this.options.model === 'gru-online' ? 2 * (this.options.window + ONLINE_HORIZON + 1) : this.minLength;
  }

  private prepare(series: unknown, argName: string, training: boolean): { s: Series; filled: FillReport } {
    const raw = readSeries(series, argName);
    if (!training && raw.F !== this.features) {
      const per = `${this.features} feature${this.features === 1 ? '' : 's'} per point (as the training series)`;
      throw new ArgumentError(argName, per, `${raw.F}`);
    }
    if (this.options.model === 'gru-online' && raw.F !== 1) {
      throw new ArgumentError(argName, '1 feature per point', `${raw.F}`, {
        problem:
          `model 'gru-online' scores one series (1 feature per point), got ${raw.F}; for several ` +
          "features use a multivariate model such as 'lstm-ae'",
      });
    }
    const need = training ? this.minTrainLength : this.minLength;
    if (raw.n < need) {
      if (training && this.options.model === 'gru-online') {
        throw new ArgumentError(argName, `at least ${need} points`, `${raw.n}`, {
          problem:
            `series of ${raw.n} points is shorter than ${need}, the least that model 'gru-online' ` +
            `with window ${this.options.window} learns from (its first fit is halfway through the training series)`,
        });
      }
      throw new ArgumentError(argName, `at least ${need} points`, `${raw.n}`, {
        problem:
          `series of ${raw.n} points is shorter than ${need}, the least that ` +
          `window ${this.options.window} with model '${this.options.model}' can score`,
      });
    }
    const filled = fillMissing(raw);
    return { s: raw, filled };
  }

  /**
   * Trains the model and calibrates the threshold on a series of normal behaviour. 'gru-online' learns on it as on a
   * stream (its probation) and keeps learning in detect() and stream(); `timestamps` (epoch ms, one per point) feed
   * its time inputs when `timeFeatures` is on. The callbacks (onEpochEnd, onBatchEnd, …, as Sequential.fit's) reach
   * the network's training; models without epochs ('gru-online', 'zscore', 'iqr') refuse them. The detector changes
   * only when fit succeeds: if it throws (bad data, divergence, an aborted `signal`), it stays as it was.
   *
   * @param trainSeries - Normal behaviour: number[] (one feature), number[][] ([n, F]), { data, shape } or an ndarray;
   * null/NaN are missing values, filled by interpolation.
   * @param options - timestamps (epoch ms, one per point; 'gru-online'), and the training callbacks (see
   * {@link DetectorFitOptions}).
   * @returns The detector, for chaining.
   * @throws {@link ArgumentError} for a series too short for the window, a feature without values, or a bad option.
   * @throws {@link MemoryLimitError} when the model's buffers cannot fit in memory.
   * @throws {@link TrainingDivergedError} when training produces a non-finite loss.
   */
  fit(trainSeries: SeriesLike, options: DetectorFitOptions = {}): this {
    checkObject(options, 'fit');
    refuseYieldEvery(options, 'fit');
    checkKeys(options, FIT_KEYS, 'fit');
    checkCallbacks(options, 'fit');
    const signal = checkSignal(options.signal, 'fit(signal)');
    runSync(this.fitLoop(trainSeries, options, 'fit'), this.callbackSets(options), signal, 'fit');
    return this;
  }

  /**
   * fit without blocking: the same training, bit for bit, giving the event loop a turn as `yieldEvery` says (default
   * 'auto': every 125 ms or so) and awaiting callbacks that return a Promise. Aborting `signal` rejects with its
   * reason (an AbortError DOMException by default) and leaves the detector as it was before the call: unfitted, or
   * with its previous fitted state (detect, score and stream keep working on it meanwhile). Scoring the training series
   * and calibrating the threshold, after training, run in one piece.
   *
   * @param trainSeries - Normal behaviour, as for fit.
   * @param options - fit's options, callbacks that may return a Promise, `yieldEvery` and `signal`.
   * @returns A promise of the detector, fitted.
   * @throws {@link ArgumentError} (the promise rejects) as fit does.
   * @throws The signal's reason (an AbortError by default) when `signal` aborts; the detector is unchanged.
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const train = Array.from({ length: 300 }, (_, i) => Math.sin(i / 4));
   * const options = { model: 'lstm-ae', window: 12, hidden: 6, epochs: 3, threshold: 'quantile:0.99' } as const;
   * const detector = await new Detector(options).fitAsync(train);
   * assert.deepEqual(detector.score(train).scores, new Detector(options).fit(train).score(train).scores);
   *
   * const controller = new AbortController();
   * controller.abort();
   * const untouched = new Detector(options);
   * await assert.rejects(untouched.fitAsync(train, { signal: controller.signal }), { name: 'AbortError' });
   * assert.equal(untouched.fitted, false);
   * ```
   */
  async fitAsync(trainSeries: SeriesLike, options: DetectorFitAsyncOptions = {}): Promise<this> {
    checkObject(options, 'fitAsync');
    checkKeys(options, [...FIT_KEYS, 'yieldEvery'], 'fitAsync');
    checkCallbacks(options, 'fitAsync');
    const { yieldEvery, ...rest } = options;
    const every = checkYieldEvery(yieldEvery, 'fitAsync(yieldEvery)');
    const signal = checkSignal(options.signal, 'fitAsync(signal)');
    await runAsync(this.fitLoop(trainSeries, rest, 'fitAsync'), this.callbackSets(rest), signal, every);
    return this;
  }

  /** The constructor's onEpochEnd, then the call's callbacks. */
  private callbackSets(options: object): CallbackSet[] {
    const sets: CallbackSet[] = [];
    if (this.onEpochEnd !== undefined) sets.push({ onEpochEnd: this.onEpochEnd });
    sets.push(options);
    return sets;
  }

  /**
   * fit's loop (lib/model/fit-loop.ts): trains a fresh detector with this one's options and, when it has finished,
   * takes over its fitted state, so that a fit that fails or is aborted leaves this detector as it was.
   */
  private *fitLoop(trainSeries: SeriesLike, options: DetectorFitOptions, fn: string): FitLoop<void> {
    const next = new Detector(this.given);
    next.options = this.options;
    next.auto = this.auto;
    try {
      yield* next.train(trainSeries, options, fn);
    } catch (e) {
      next.dispose();
      throw e;
    }
    this.options = next.options;
    this.auto = next.auto;
    this.model = next.model;
    this.online = next.online;
    this.normaliser = next.normaliser;
    this.calibration = next.calibration;
    this.features = next.features;
    this.trainFilled = next.trainFilled;
  }

  /** The body of fit, on a fresh detector (see fitLoop). */
  private *train(trainSeries: SeriesLike, options: DetectorFitOptions, fn: string): FitLoop<void> {
    if (options.exclude !== undefined) {
      // Exclusion windows (controls.ts): the rows inside become missing values, then the usual fit runs on them. The
      // timestamps locate the rows; only 'gru-online' also learns from them (the other models take no time input).
      const { data, shape } = maskExcluded(
        trainSeries,
        options.timestamps,
        checkExclude(options.exclude, `${fn}(exclude)`),
      );
      trainSeries = { data, shape };
      this.pick(trainSeries); // resolves model 'auto', which decides whether the timestamps stay
      const { exclude: _exclude, timestamps, ...rest } = options;
      options = this.options.model === 'gru-online' && timestamps !== undefined ? { ...rest, timestamps } : rest;
    }
    this.pick(trainSeries);
    const given = callbacksGiven(options);
    if (given.length > 0 && (!isNeural(this.options.model) || this.options.model === 'gru-online')) {
      throw new ArgumentError(`${fn}(${given[0]})`, 'no callback', 'a function', {
        problem:
          `model '${this.options.model}' has no epochs or batches to report; the callbacks apply to the ` +
          "networks trained in epochs ('lstm-ae', 'gru-ae', 'rnn-ae', 'dense-ae', 'conv-ae', 'lstm-attn-ae', " +
          "'lstm-forecast', 'tcn-forecast')",
      });
    }
    const o = this.options;
    const { s, filled } = this.prepare(trainSeries, 'fit(series)', true);
    if (o.model === 'gru-online' && o.timeFeatures === 'auto') {
      this.options = { ...o, timeFeatures: options.timestamps !== undefined ? 'context' : false };
    }
    const timestamps = this.timestampsFor(options.timestamps, s.n, 'fit(timestamps)');
    this.features = s.F;
    this.trainFilled = filled;
    this.normaliser = Normaliser.fit(s, o.normalize, 'fit(series)');
    if (o.model === 'gru-online') {
      const tf = this.options.timeFeatures;
      const pipeline = OnlinePipeline.create({
        probation: s.n,
        seed: o.seed,
        context: tf === 'context',
        model: {
          units: o.hidden[0],
          window: o.window,
          lr: o.learningRate,
          timeFeatures: tf === 'context' || tf === 'auto' ? false : tf,
        },
        alarm: { threshold: o.threshold.value as number },
      });
      this.calibration = (yield* pipeline.batchLoop(s.data, timestamps)).scores;
      this.online = pipeline;
      return;
    }
    const z = this.normaliser.transform(s);
    if (isNeural(o.model)) {
      this.model = detectorNetwork(o, s.F);
      const { x, y } = this.trainingPairs(z);
      const nWin = x.shape[0];
      const useVal =
        o.validationSplit > 0 &&
        Math.floor(nWin * o.validationSplit) >= 1 &&
        nWin - Math.floor(nWin * o.validationSplit) >= 1;
      yield* this.model.fitLoop(x, y, {
        epochs: o.epochs,
        batchSize: o.batchSize,
        seed: o.seed,
        workers: o.workers,
        optimizer: { name: 'adam', learningRate: o.learningRate },
        ...(useVal ? { validationSplit: o.validationSplit, earlyStopping: { patience: o.patience } } : {}),
      });
    }
    const r = this.scoreNormalised(z);
    // The SKAB rule thresholds window residuals: it calibrates on the training windows, not on point scores.
    this.calibration = o.combine === 'all' ? this.windowResiduals(z).r : r.scores.slice(r.firstScored);
    if (this.calibration.length === 0) {
      throw new ArgumentError('fit(series)', 'a longer series', 'no scored training point', {
        problem: 'no training point could be scored; give a longer series',
      });
    }
    // Fail early (at fit, not at detect) if the threshold cannot be calibrated on these scores.
    if (o.threshold.kind !== 'dynamic') staticLevel(o.threshold, this.calibration);
  }

  /**
   * Marks the alarm at `at`, which scored `score`, as not an anomaly: from now on a point flags only with a score above
   * the highest marked one (a second alarm of the same kind at the same level does not fire; a stronger one does).
   * The marks are saved with the detector and kept across refits. See controls.ts.
   *
   * @param input - `at` (when the false alarm was: epoch ms, a Date, or an ISO 8601 string), `notAnomaly: true`, and
   * `score` (the score it had, as detect() or stream() gave it).
   * @returns The detector, for chaining.
   * @throws {@link ArgumentError} for a missing or bad `at`, `notAnomaly` or `score`.
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const train = Array.from({ length: 200 }, (_, i) => Math.sin(i / 4));
   * const detector = new Detector({ model: 'zscore', window: 20, threshold: 'fixed:4' }).fit(train);
   * const series = train.slice(0, 60).map((v, i) => (i === 50 ? v + 8 : v));
   * const alarm = detector.detect(series);
   * assert.equal(alarm.flags[50], 1);
   * detector.feedback({ at: 50, notAnomaly: true, score: alarm.scores[50] }); // an operator: "not an anomaly"
   * assert.equal(detector.detect(series).flags[50], 0);
   * ```
   */
  feedback(input: FeedbackInput): this {
    const entry = checkFeedback(input, 'feedback');
    if (this.notAnomalies.length >= MAX_FEEDBACK) this.notAnomalies.shift();
    this.notAnomalies.push(entry);
    return this;
  }

  /** The level feedback sets: points flag only with a score above it (−Infinity without feedback). */
  get feedbackLevel(): number {
    return feedbackLevel(this.notAnomalies);
  }

  /**
   * The network this detector's options describe for F features, untrained (what fit trains; what a file must hold).
   *
   * @param F - Features per point.
   * @returns A built, untrained model (for the statistical models, which have none: an ArgumentError).
   */
  expectedModel(F: number): Sequential {
    return detectorNetwork(this.options, F);
  }

  private trainingPairs(z: Series): { x: Tensor; y: Tensor } {
    const o = this.options,
      W = o.window,
      F = z.F;
    const forecast = isForecaster(o.model);
    const last = forecast ? z.n - W - 1 : z.n - W; // last window start
    const starts: number[] = [];
    for (let s = 0; s <= last; s += o.trainStride) starts.push(s);
    const x = new Float32Array(starts.length * W * F);
    const y = new Float32Array(starts.length * (forecast ? F : W * F));
    starts.forEach((s, i) => {
      for (let k = 0; k < W * F; k++) x[i * W * F + k] = z.data[s * F + k];
      if (forecast) for (let f = 0; f < F; f++) y[i * F + f] = z.data[(s + W) * F + f];
    });
    return forecast
      ? { x: { data: x, shape: [starts.length, W, F] }, y: { data: y, shape: [starts.length, F] } }
      : { x: { data: x, shape: [starts.length, W, F] }, y: { data: x, shape: [starts.length, W, F] } };
  }

  /**
   * Timestamps for 'gru-online': epoch milliseconds, one finite number per point, never decreasing; required when
   * `timeFeatures` is on. Other models do not use time, and refuse them rather than ignore them.
   */
  private timestampsFor(ts: ArrayLike<number> | undefined, n: number, argName: string): Float64Array | undefined {
    const o = this.options;
    if (ts === undefined) {
      if (o.model === 'gru-online' && o.timeFeatures !== false) {
        throw new ArgumentError(argName, 'the timestamps (epoch ms) of the points', 'undefined', {
          problem: `timeFeatures '${o.timeFeatures}' needs the timestamps (epoch ms) of the points`,
        });
      }
      return undefined;
    }
    if (o.model !== 'gru-online') {
      throw new ArgumentError(argName, 'no timestamps', describeValue(ts), {
        problem: `model '${o.model}' does not use timestamps; only 'gru-online' has time inputs`,
      });
    }
    if (typeof ts !== 'object' || ts === null || typeof (ts as { length?: unknown }).length !== 'number') {
      throw new ArgumentError(argName, 'an array of epoch milliseconds', describeValue(ts));
    }
    if (ts.length !== n) throw new ArgumentError(argName, `${n} timestamps (one per point)`, `${ts.length}`);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = ts[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ArgumentError(`${argName}[${i}]`, 'epoch milliseconds', describeValue(v));
      }
      if (i > 0 && v < out[i - 1]) {
        throw new ArgumentError(`${argName}[${i}]`, `a time ≥ ${out[i - 1]}`, `${v}`, {
          problem: `${v} is earlier than the point before (${out[i - 1]}); sort the points by time`,
        });
      }
      out[i] = v;
    }
    return out;
  }

  /** 'gru-online': a copy of the fitted pipeline runs over the series (the detector itself is not changed). */
  private runOnline(
    s: Series,
    timestamps: Float64Array | undefined,
  ): { raw: Float64Array; scores: Float64Array; flags: Uint8Array } {
    const p = OnlinePipeline.fromState((this.online as OnlinePipeline).getState());
    return p.batch(s.data, timestamps);
  }

  /**
   * Per-point anomaly scores (no threshold). `workers` overrides the detector's for this call (same scores).
   *
   * @param series - number[] (one feature), number[][] ([n, F]), { data, shape } or an ndarray; null/NaN are missing
   * values, filled by interpolation.
   * @param options - workers; timestamps ('gru-online').
   * @returns A score per point, per-feature contributions, the first scored index and the filled values.
   * @throws {@link ArgumentError} before fit, or for a series with another feature count or too short for the window.
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const detector = new Detector({ model: 'zscore', window: 10, threshold: 'fixed:3' });
   * detector.fit(Array.from({ length: 50 }, (_, i) => i % 2));
   * const { scores, firstScored } = detector.score([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 9]);
   * assert.equal(firstScored, 10); // the first 10 points are warm-up (score 0)
   * assert.ok(scores[12] > 5 * scores[11]);
   * ```
   */
  score(series: SeriesLike, options: { workers?: Workers; timestamps?: ArrayLike<number> } = {}): ScoreResult {
    this.requireFitted('score');
    checkKeys(options, ['workers', 'timestamps'], 'score');
    const workers = checkWorkers(options.workers ?? this.options.workers, 'score(workers)');
    const { s, filled } = this.prepare(series, 'score(series)', false);
    const timestamps = this.timestampsFor(options.timestamps, s.n, 'score(timestamps)');
    if (this.online) {
      const r = this.runOnline(s, timestamps);
      return { scores: r.scores, contributions: r.raw, firstScored: 0, filled };
    }
    const r = this.scoreNormalised((this.normaliser as Normaliser).transform(s), workers);
    return { ...r, filled };
  }

  /**
   * Scores, flags, events and thresholds for a series. `workers` overrides the detector's for this call. For
   * 'gru-online' the series continues the training series (and `timestamps` theirs); the scores are the alarm stage's
   * calibrated scores in [0, 1], the flags its alarms (one per event: it rests after each), contributions its raw scores.
   *
   * @param series - number[] (one feature), number[][] ([n, F]), { data, shape } or an ndarray; null/NaN are missing
   * values, filled by interpolation.
   * @param options - workers; timestamps ('gru-online'); attention ('lstm-attn-ae': the attention weights of every
   * scored window in `result.attention`, 4·W² bytes per window).
   * @returns Scores, flags, events and the thresholds each point was compared with.
   * @throws {@link ArgumentError} before fit, or for a series with another feature count or too short for the window.
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const normal = Array.from({ length: 300 }, (_, i) => [Math.sin(i / 5), Math.cos(i / 5)]); // 2 features
   * const detector = new Detector({ model: 'iqr', window: 30, threshold: 'fixed:3' }).fit(normal);
   * const test = normal.slice(0, 60).map(([a, b], i) => (i === 45 ? [a + 10, b] : [a, b]));
   * const r = detector.detect(test);
   * assert.deepEqual(r.events.map((e) => e.peakIndex), [45]);
   * assert.equal(r.threshold, 3);
   * ```
   */
  detect(series: SeriesLike, options: DetectCallOptions = {}): DetectResult {
    const r = this.detectBeforeFeedback(series, options);
    const level = this.feedbackLevel;
    if (level === -Infinity) return r;
    let cleared = 0;
    for (let i = 0; i < r.flags.length; i++) {
      if (r.flags[i] === 1 && r.scores[i] <= level) {
        r.flags[i] = 0;
        cleared++;
      }
      if (r.thresholds[i] === r.thresholds[i] && r.thresholds[i] < level) r.thresholds[i] = level;
    }
    const events = cleared > 0 ? flagsToEvents(r.flags, r.scores, { minGap: this.options.minGap }) : r.events;
    return { ...r, events, threshold: Math.max(r.threshold, level) };
  }

  private detectBeforeFeedback(series: SeriesLike, options: DetectCallOptions): DetectResult {
    this.requireFitted('detect');
    checkKeys(options, ['workers', 'timestamps', 'attention'], 'detect');
    const attention = this.checkAttentionOption(options.attention);
    const workers = checkWorkers(options.workers ?? this.options.workers, 'detect(workers)');
    const { s, filled } = this.prepare(series, 'detect(series)', false);
    const timestamps = this.timestampsFor(options.timestamps, s.n, 'detect(timestamps)');
    if (this.online) {
      const r = this.runOnline(s, timestamps);
      const level = this.options.threshold.value as number;
      const events = flagsToEvents(r.flags, r.scores, { minGap: this.options.minGap });
      return {
        scores: r.scores,
        contributions: r.raw,
        firstScored: 0,
        filled,
        flags: r.flags,
        events,
        thresholds: new Float64Array(s.n).fill(level),
        threshold: level,
      };
    }
    const z = (this.normaliser as Normaliser).transform(s);
    const r = this.scoreNormalised(z, workers);
    const { thresholds, flags } = applyThresholdSpec(
      this.options.threshold,
      this.calibration as Float64Array,
      r.scores,
      r.firstScored,
    );
    const events = flagsToEvents(flags, r.scores, { minGap: this.options.minGap });
    let threshold = NaN;
    for (let i = thresholds.length - 1; i >= 0; i--)
      if (!Number.isNaN(thresholds[i])) {
        threshold = thresholds[i];
        break;
      }
    const out: DetectResult = { ...r, filled, flags, events, thresholds, threshold };
    if (attention) out.attention = attentionMaps(this.model as Sequential, z, this.options.window);
    return out;
  }

  /** detect's `attention` option: a boolean, true only for model 'lstm-attn-ae'. */
  private checkAttentionOption(v: unknown): boolean {
    if (v === undefined || v === false) return false;
    if (v !== true) throw new ArgumentError('detect(attention)', 'true or false', describeValue(v));
    if (this.options.model !== 'lstm-attn-ae') {
      throw new ArgumentError('detect(attention)', 'false', 'true', {
        problem: `only model 'lstm-attn-ae' has attention weights (model '${this.options.model}')`,
      });
    }
    return true;
  }

  /** The threshold that a new point would be compared with now (SPOT/DSPOT: after calibration). */
  get threshold(): number {
    this.requireFitted('threshold');
    return staticLevel(this.options.threshold, this.calibration as Float64Array);
  }

  /** The threshold option as a spec string ('spot:0.0001', 'quantile:0.99', …). */
  get thresholdSpec(): string {
    return thresholdToString(this.options.threshold);
  }

  /**
   * A streaming scorer in constant memory; see stream.ts for what each push returns. Its scores and flags equal
   * detect()'s on the same points (causal detectors). With `state` (what a stream's `getState()` returned, e.g. after
   * a JSON round trip or from another process) the new stream continues exactly where that one was; the state must
   * come from a stream of this detector (or of a copy loaded from its toJSON) and is checked as untrusted input.
   *
   * @param state - A saved stream state (DetectorStreamState), or omitted for a stream after the training series.
   * @returns A new stream starting after the training series' state, or at the saved state.
   * @throws {@link ArgumentError} before fit, for a detector that looks ahead (causal: false), or for a state that is
   * not a valid state of a stream of this detector (the error names the field, `stream(state.hist)`).
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const train = Array.from({ length: 200 }, (_, i) => Math.sin(i / 4));
   * const detector = new Detector({ model: 'zscore', window: 20, threshold: 'fixed:4' }).fit(train);
   * const series = train.slice(0, 60).map((v, i) => (i === 50 ? v + 8 : v));
   * const stream = detector.stream();
   * const flags = series.map((v) => stream.push(v)?.flag ?? 0); // null while warming up (the first W points)
   * assert.deepEqual(flags, Array.from(detector.detect(series).flags)); // streaming equals batch
   * assert.equal(flags[50], 1);
   * ```
   * @example
   * ```ts
   * import { Detector, ArgumentError } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const train = Array.from({ length: 200 }, (_, i) => Math.sin(i / 4));
   * const detector = new Detector({ model: 'iqr', window: 20, threshold: 'spot' }).fit(train);
   * const a = detector.stream();
   * train.slice(0, 50).forEach((v) => a.push(v));
   * const state = JSON.parse(JSON.stringify(a.getState()));
   * const b = detector.stream(state); // continues where a is
   * assert.deepEqual(b.push(0.5), a.push(0.5));
   * const other = new Detector({ model: 'iqr', window: 20, threshold: 'spot' }).fit(train.map((v) => 2 * v));
   * assert.throws(() => other.stream(state), ArgumentError); // stream(state.detector.hash): another detector
   * ```
   */
  stream(state?: unknown): DetectorStream {
    return new FeedbackStream(this.fittedState('stream'), () => this.feedbackLevel, state);
  }

  /**
   * The fitted detector as a JSON document (options, model weights, normaliser, calibration); works anywhere (no file
   * system). `Detector.fromJSON` reads it back.
   *
   * @returns A plain object; `JSON.stringify` it to store or send it.
   * @throws {@link ArgumentError} before fit.
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const train = Array.from({ length: 120 }, (_, i) => Math.sin(i / 3));
   * const detector = new Detector({ model: 'gru-ae', window: 8, hidden: 4, epochs: 2 }).fit(train);
   * const copy = Detector.fromJSON(JSON.stringify(detector.toJSON()));
   * assert.deepEqual(copy.score(train).scores, detector.score(train).scores);
   * ```
   */
  toJSON(): DetectorJSON {
    return detectorToJSON(this.fittedState('toJSON'), this.notAnomalies);
  }

  /**
   * A detector from its JSON (text or parsed); errors are ModelFileErrors whose message starts with `source`. See
   * `toJSON` for a round trip.
   *
   * @param json - The document, or its text.
   * @param source - What to call it in error messages.
   * @returns The fitted detector.
   * @throws {@link ModelFileError} for malformed JSON or a missing or invalid field.
   * @example
   * ```ts
   * import { Detector, ModelFileError } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * assert.throws(() => Detector.fromJSON('{"format": "bptt-detector"', 'upload.json'), (e: unknown) => {
   *   return e instanceof ModelFileError && e.file === 'upload.json';
   * });
   * ```
   */
  static fromJSON(json: unknown, source = 'Detector.fromJSON'): Detector {
    return Detector.fromFile(detectorFromJSON(json, source));
  }

  /**
   * Writes the fitted detector (model, normaliser, threshold calibration) to one file, atomically. Node only; elsewhere
   * use `toJSON`.
   *
   * @param path - The file to write.
   * @throws {@link ArgumentError} before fit; file-system errors are thrown as they come.
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   * import * as fs from 'node:fs';
   * import * as os from 'node:os';
   * import * as path from 'node:path';
   *
   * const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-')), 'detector.json');
   * const series = Array.from({ length: 100 }, (_, i) => Math.cos(i / 6));
   * const detector = new Detector({ model: 'zscore', window: 12, threshold: 'sigma:3' }).fit(series);
   * detector.save(file);
   * const loaded = Detector.load(file);
   * assert.deepEqual(loaded.detect(series).flags, detector.detect(series).flags);
   * assert.equal(loaded.threshold, detector.threshold);
   * ```
   */
  save(path: string): void {
    saveDetector(this.fittedState('save'), path, this.notAnomalies);
  }

  /**
   * Reads a detector written by `save`. Node only; elsewhere use `fromJSON`. See `save` for a round trip.
   *
   * @param path - The file to read.
   * @returns The fitted detector.
   * @throws {@link ModelFileError} when the file cannot be read, is not valid JSON, or a field is invalid.
   * @example
   * ```ts
   * import { Detector, ModelFileError } from 'bptt';
   * import assert from 'node:assert/strict';
   * import   * as fs from 'node:fs';
   * import   * as os from 'node:os';
   * import   * as path from 'node:path';
   *
   * const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-')), 'not-a-detector.json');
   * fs.writeFileSync(file, '[1, 2, 3]');
   * assert.throws(() => Detector.load(file), ModelFileError);
   * ```
   */
  static load(path: string): Detector {
    return Detector.fromFile(loadDetector(path));
  }

  /** The Detector a validated file describes: built from the file's options, with the file's fitted state. */
  private static fromFile(c: DetectorFileContents): Detector {
    const d = new Detector(c.fileOptions);
    d.features = c.state.features;
    d.normaliser = c.state.normaliser;
    d.calibration = c.state.calibration;
    d.model = c.state.model;
    d.online = c.state.online;
    d.notAnomalies = c.feedback;
    return d;
  }

  /**
   * A standalone, dependency-free JavaScript module (ES module) with the weights inlined, the forward pass and the
   * scoring rule: `score(series)` and `detect(series)` as this detector computes them, with the threshold fixed at its
   * current level. Written atomically to the path when given; the source is returned either way. With
   * `{ quantize: 'int8' }` the weight matrices travel as int8 with one float32 scale per output column (biases float32):
   * the weights take about a quarter of the bytes, and the scores change by the weights' rounding (see the README,
   * "Small devices: an int8 scorer"); the threshold stays the float detector's.
   *
   * @param pathOrOptions - Where to write the module (Node only), or `{ path?, quantize?: 'none' | 'int8' }`; omit to
   *   only get the float32 module's source.
   * @returns The module's source.
   * @throws {@link ArgumentError} before fit, for a model the exporter does not support ('gru-online'), or for an
   *   unknown option or `quantize` value.
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const detector = new Detector({ model: 'zscore', window: 10, threshold: 'iqr:1.5' });
   * detector.fit(Array.from({ length: 80 }, (_, i) => i % 3));
   * const source = detector.exportScorer();
   * assert.match(source, /export function detect\(/);
   *
   * const net = new Detector({ model: 'dense-ae', window: 8, hidden: [8, 4], epochs: 1, threshold: 'quantile:0.99' });
   * net.fit(Array.from({ length: 120 }, (_, i) => Math.sin(i / 4)));
   * const int8 = net.exportScorer({ quantize: 'int8' });
   * assert.ok(int8.length < net.exportScorer().length);
   * assert.throws(() => net.exportScorer({ quantize: 'int4' } as never), /quantize/);
   * ```
   */
  exportScorer(pathOrOptions?: string | ExportScorerOptions): string {
    const { path, quantize } =
      typeof pathOrOptions === 'string' || pathOrOptions === undefined
        ? { path: pathOrOptions, quantize: 'none' as const }
        : exportScorerOptions(pathOrOptions);
    const state = this.fittedState('exportScorer');
    if (this.options.model === 'gru-online') {
      throw new ArgumentError('exportScorer', 'a detector trained once', "model 'gru-online'", {
        problem:
          "model 'gru-online' keeps learning from every point; a frozen module would not be the same detector: " +
          'use stream() (or save() and Detector.load) instead',
      });
    }
    const src = exportScorerSource(state, quantize);
    if (path !== undefined) fileHost('Detector.exportScorer(path)', 'writes a file').writeAtomic(path, src);
    return src;
  }

  /** Stops the model's worker threads, if any (see Sequential.dispose); the detector stays usable. */
  dispose(): void {
    this.model?.dispose();
  }

  private requireFitted(fn: string): void {
    this.fittedState(fn);
  }

  /** The fitted state (what io, stream and export read); an ArgumentError naming `fn` before fit. */
  private fittedState(fn: string): FittedDetector {
    const { normaliser, calibration } = this;
    if (normaliser === null || calibration === null) {
      throw new ArgumentError(fn, 'a fitted detector', 'one not fitted', {
        problem: 'the detector is not fitted; call fit(trainSeries) first (or Detector.load)',
      });
    }
    return {
      options: this.options,
      features: this.features,
      normaliser,
      calibration,
      model: this.model,
      online: this.online,
    };
  }

  /** Per-window residuals r_s = Σ_f mean_j |x̂ − x| and per-feature parts rf[s, f] of an autoencoder over a normalised series. */
  private windowResiduals(z: Series, workers: Workers = this.options.workers): { r: Float64Array; rf: Float64Array } {
    const W = this.options.window,
      F = z.F,
      nWin = z.n - W + 1;
    const model = this.model as Sequential;
    const r = new Float64Array(nWin),
      rf = new Float64Array(nWin * F);
    for (let c0 = 0; c0 < nWin; c0 += CHUNK) {
      const B = Math.min(CHUNK, nWin - c0);
      const { x, y } = windowsThrough(model, z, c0, B, W, workers);
      for (let b = 0; b < B; b++) {
        const s = c0 + b;
        for (let j = 0; j < W; j++) {
          for (let f = 0; f < F; f++) {
            const i = (b * W + j) * F + f;
            rf[s * F + f] += Math.abs(y[i] - x[i]) / W;
          }
        }
        let sum = 0;
        for (let f = 0; f < F; f++) sum += rf[s * F + f];
        r[s] = sum;
      }
    }
    return { r, rf };
  }

  /** combine 'all' (offline, the SKAB notebooks' rule): point d scores min r_s over s = d−W+1 … d−1. */
  private allWindowsRule(z: Series, workers: Workers = this.options.workers): Omit<ScoreResult, 'filled'> {
    const W = this.options.window,
      { n, F } = z;
    const { r, rf } = this.windowResiduals(z, workers);
    const scores = new Float64Array(n),
      contributions = new Float64Array(n * F);
    const lo = W - 1;
    for (let d = lo; d <= n - W + 1; d++) {
      let best = d - W + 1;
      for (let s = d - W + 2; s <= d - 1; s++) if (r[s] < r[best]) best = s;
      scores[d] = r[best];
      for (let f = 0; f < F; f++) contributions[d * F + f] = rf[best * F + f];
    }
    return { scores, contributions, firstScored: lo };
  }

  /** Scores of a normalised series; the model's forward passes run on `workers` threads. */
  private scoreNormalised(z: Series, workers: Workers = this.options.workers): Omit<ScoreResult, 'filled'> {
    const o = this.options;
    const { n, F } = z;
    const scores = new Float64Array(n),
      contributions = new Float64Array(n * F);
    const W = o.window;
    if (isAutoencoder(o.model) && o.combine === 'all') return this.allWindowsRule(z);
    if (isAutoencoder(o.model)) {
      const model = this.model as Sequential;
      const nWin = n - W + 1;
      const sum = new Float64Array(n * F),
        cnt = new Float64Array(n);
      const comb = o.combine;
      if (comb === 'max') contributions.fill(0);
      const rowErr = new Float64Array(F);
      for (let c0 = 0; c0 < nWin; c0 += CHUNK) {
        const B = Math.min(CHUNK, nWin - c0);
        const { x, y } = windowsThrough(model, z, c0, B, W, workers);
        for (let b = 0; b < B; b++) {
          const s = c0 + b;
          for (let j = 0; j < W; j++) {
            const t = s + j;
            if (comb === 'last' && j !== W - 1) continue;
            let mean = 0;
            for (let f = 0; f < F; f++) {
              const d = y[(b * W + j) * F + f] - x[(b * W + j) * F + f];
              rowErr[f] = d * d;
              mean += d * d;
            }
            mean /= F;
            if (comb === 'max') {
              if (cnt[t] === 0 || mean > scores[t]) {
                scores[t] = mean;
                for (let f = 0; f < F; f++) contributions[t * F + f] = rowErr[f];
              }
              cnt[t] = 1;
            } else if (comb === 'last') {
              // Point t takes the error of the window ending at t (j = W−1); points 0..W−2 are warm-up (score 0).
              scores[t] = mean;
              for (let f = 0; f < F; f++) contributions[t * F + f] = rowErr[f];
            } else {
              for (let f = 0; f < F; f++) sum[t * F + f] += rowErr[f];
              cnt[t] = cnt[t] + 1;
            }
          }
        }
      }
      if (comb === 'mean') {
        for (let t = 0; t < n; t++) {
          let m = 0;
          for (let f = 0; f < F; f++) {
            const v = sum[t * F + f] / cnt[t];
            contributions[t * F + f] = v;
            m += v;
          }
          scores[t] = m / F;
        }
      }
      return { scores, contributions, firstScored: comb === 'last' ? W - 1 : 0 };
    }
    if (isForecaster(o.model)) {
      const model = this.model as Sequential;
      const ewma = new Ewma(o.smoothing);
      const nWin = n - W;
      for (let c0 = 0; c0 < nWin; c0 += CHUNK) {
        const B = Math.min(CHUNK, nWin - c0);
        const { y } = windowsThrough(model, z, c0, B, W, workers);
        for (let b = 0; b < B; b++) {
          const t = c0 + b + W;
          let m = 0;
          for (let f = 0; f < F; f++) {
            const d = Math.abs(y[b * F + f] - z.data[t * F + f]);
            contributions[t * F + f] = d;
            m += d;
          }
          scores[t] = ewma.push(m / F);
        }
      }
      return { scores, contributions, firstScored: W };
    }
    return baselineScores(o.model === 'zscore' ? 'zscore' : 'iqr', z, W);
  }
}

/** The B windows [s, s+W) of z starting at s = c0 … c0+B−1, as one float32 batch [B, W, F], and the model's output. */
function windowsThrough(
  model: Sequential,
  z: Series,
  c0: number,
  B: number,
  W: number,
  workers: Workers,
): { x: Float32Array; y: ArrayLike<number> } {
  const F = z.F,
    x = new Float32Array(B * W * F);
  for (let b = 0; b < B; b++) {
    const base = (c0 + b) * F;
    for (let k = 0; k < W * F; k++) x[b * W * F + k] = z.data[base + k];
  }
  return { x, y: model.predictTensor({ data: x, shape: [B, W, F] }, 64, 'predict', workers).data };
}

/**
 * What detector.stream() returns per point: `silenced` (true) marks a point that would have flagged but for feedback.
 * push's results have it only then; pushInto's reused object keeps the key once set, false on the points after.
 */
export type FeedbackStreamResult = StreamResult & { silenced?: boolean };

/**
 * A DetectorStream that honours the detector's feedback (controls.ts): a point flags only with a score above the
 * highest "not an anomaly" mark, read at each push (marks given while streaming count from the next point on); the
 * threshold reported is raised to that level.
 */
class FeedbackStream extends DetectorStream {
  private silenced = false; // the last pushInto's point was silenced

  constructor(
    state: FittedDetector,
    private readonly markedLevel: () => number,
    saved?: unknown,
  ) {
    super(state, saved);
  }

  override push(point: number | ArrayLike<number>, timestamp?: number): FeedbackStreamResult | null {
    const r = super.push(point, timestamp); // runs this.pushInto, which raised it
    return r !== null && this.silenced ? { ...r, silenced: true } : r;
  }

  override pushInto(out: FeedbackStreamResult, point: number | ArrayLike<number>, timestamp?: number): boolean {
    if (!super.pushInto(out, point, timestamp)) return false;
    const level = this.markedLevel();
    this.silenced = false;
    if (level !== -Infinity) {
      this.silenced = out.flag === 1 && out.score <= level;
      if (this.silenced) out.flag = 0;
      out.threshold = Math.max(out.threshold, level);
    }
    if (this.silenced) out.silenced = true;
    else if (out.silenced !== undefined) out.silenced = false;
    return true;
  }

  override flush(): FeedbackStreamResult[] {
    return super.flush().map((r) => this.raise(r));
  }

  private raise(r: StreamResult): FeedbackStreamResult {
    const level = this.markedLevel();
    if (level === -Infinity) return r;
    const silenced = r.flag === 1 && r.score <= level;
    return {
      ...r,
      flag: silenced ? 0 : r.flag,
      threshold: Math.max(r.threshold, level),
      ...(silenced ? { silenced } : {}),
    };
  }
}

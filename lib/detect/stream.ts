/**
 * Streaming detection: push one point at a time, get scores and flags in constant memory, the same as batch `detect`.
 *
 *   const s = detector.stream();
 *   for (const p of points) { const r = s.push(p); if (r) use(r.index, r.score, r.flag); }
 *   for (const r of s.flush()) use(...);      // autoencoders with combine 'mean'/'max': the last W−1 points
 *
 * What a push returns, by model:
 *   autoencoders, combine 'last'       from the W-th point on: the newest point, scored by the window ending at it.
 *   autoencoders, combine 'mean'/'max' from the W-th point on: the point W−1 steps back, whose covering windows are
 *                                      now all seen (its score is final); flush() returns the remaining W−1 points.
 *   'lstm-forecast', 'zscore', 'iqr'   from the (W+1)-th point on: the newest point.
 *   'gru-online'                       every push: the newest point, continuing the training series (the model keeps
 *                                      learning; push(point, timestamp) when the detector has time inputs).
 * Earlier pushes return null (warm-up: the batch scores of those points are 0, and they are never flagged). Memory: the last W(+1) points and, for mean/max, W running sums.
 * Thresholds update online (SPOT/DSPOT) in index order, exactly as `detect` runs them; 'dynamic' cannot stream.
 *
 * Saved state. `getState()` is everything the stream needs to continue from its current point, as plain JSON
 * (DetectorStreamState): the ring of the last H normalised points (hist, [H, F], in storage order: slot i mod H holds
 * point i), for combine 'mean'/'max' the ring of running sums (sum, [W, F]; the window counts are a function of t and
 * are not stored), t, lastTime, flushed, the threshold's state (threshold-spec.ts), lstm-forecast's EWMA sums and, for
 * 'gru-online', the stream's own forecaster and alarm stage (without the options, which the detector has). Scratch
 * buffers (the model's input window) are rebuilt. `detector.stream(state)` continues exactly there; the state is
 * checked as untrusted input, and `detector` (a fingerprint: model, window, features, threshold, combine and a 64-bit
 * hash of the detector's toJSON without feedback marks) must match the detector it is given to. Numbers follow
 * thresholds/state.ts: -0, NaN and ±Infinity are written as the strings '-0', 'NaN', 'Infinity', '-Infinity' (lastTime
 * is '-Infinity' until a timestamp comes; a SPOT threshold may be 'Infinity').
 */
import type { Sequential } from '../model/sequential.js';
import { Ewma } from './thresholds/telemanom.js';
import { normaliseValue, SATURATION } from './preprocess.js';
import {
  makeOnline,
  restoreOnline,
  thresholdToString,
  type OnlineThreshold,
  type OnlineThresholdState,
} from './threshold-spec.js';
import { OnlineForecaster, OnlinePipeline, type OnlinePipelineState, type OnlineState } from './online.js';
import { AlarmStage } from './alarm.js';
import { zscoreOf, tukeyOf } from './baselines.js';
import type { Combine, DetectorModel, FittedDetector } from './types.js';
import { detectorToJSON } from './io.js';
import { ArgumentError } from '../errors.js';
import { describeValue } from '../check.js';
import {
  compactAlarm,
  encodeNumber,
  encodeNumbers,
  expandAlarmState,
  field,
  readBool,
  readCount,
  readNumber,
  readNumbers,
  readObject,
  readWith,
  STATE_MAX,
  stateFail,
  type AlarmShape,
  type CompactAlarmState,
  type StateNumber,
} from './thresholds/state.js';

/** What {@link DetectorStream.push} returns for a scored point. */
export interface StreamResult {
  /** Index of the point this result is for (0 = the first point pushed). */
  index: number;
  /** The point's anomaly score (as detect's). */
  score: number;
  /** 1 when the score exceeds the threshold. */
  flag: 0 | 1;
  /** The threshold the score was compared with. */
  threshold: number;
  /** Per-feature contributions of this point's score. */
  contributions: Float64Array;
}

/**
 * Which detector a saved stream state belongs to: restoring it onto another is refused. `hash`: 16 hex digits of a
 * 64-bit hash of the detector's toJSON (weights, normaliser, calibration, options; not the feedback marks, which the
 * stream reads live), computed once when the stream is made.
 */
export interface StreamFingerprint {
  /** The detector's model. */
  model: DetectorModel;
  /** Its window W. */
  window: number;
  /** Its features per point. */
  features: number;
  /** Its threshold, as a spec string ('spot:0.001'). */
  threshold: string;
  /** Its combine rule. */
  combine: Combine;
  /** Hash of everything else (see above). */
  hash: string;
}

/**
 * An OnlineForecaster's state without its version and options (the detector has them) and, when the alarm stage's
 * history is at least as long as the forecaster's memory, without `values`: they are the last rows of the alarm's
 * `histValue` (both hold the rows' raw values).
 */
export type CompactForecasterState = Omit<OnlineState, 'version' | 'options' | 'values'> & {
  /** The last `memory` raw values, when the alarm stage's history does not hold them. */
  values?: number[];
};

/** 'gru-online': the stream's forecaster(s) and alarm stage, without what the detector or another part already has. */
export interface CompactPipelineState {
  /** The forecaster. */
  model: CompactForecasterState;
  /** The time-of-day forecaster ('context'), else null. */
  context: CompactForecasterState | null;
  /** The alarm stage (its long channel shares the main channel's values and, without context, raw scores). */
  alarm: CompactAlarmState;
}

/**
 * A {@link DetectorStream}'s whole state, plain JSON (see the module notes): what `getState()` returns and
 * `detector.stream(state)` continues from. Numbers that can be -0 or ±Infinity are {@link StateNumber}s.
 */
export interface DetectorStreamState {
  /** Always 'bptt-stream'. */
  format: 'bptt-stream';
  /** The format's version (1). */
  formatVersion: 1;
  /** The detector the stream belongs to. */
  detector: StreamFingerprint;
  /** Points pushed. */
  t: number;
  /** 'gru-online': the last timestamp pushed ('-Infinity' before the first). */
  lastTime: StateNumber;
  /** The stream was flushed (pushes throw). */
  flushed: boolean;
  /** Ring of the last H normalised points, [H, F] (H = W for autoencoders, W + 1 otherwise; empty for 'gru-online'). */
  hist: StateNumber[];
  /** Combine 'mean'/'max': ring of the pending points' running sums or maxima, [W, F]; else empty. */
  sum: StateNumber[];
  /** 'lstm-forecast': the EWMA's running sums; else null. */
  ewma: {
    /** Σ (1−α)^(t−i)·x_i. */
    num: number;
    /** Σ (1−α)^(t−i). */
    den: number;
  } | null;
  /** The online threshold's state; null for 'gru-online' (its alarm stage is in `online`). */
  threshold: OnlineThresholdState | null;
  /** 'gru-online': the stream's forecaster and alarm stage; else null. */
  online: CompactPipelineState | null;
}

export type { StateNumber, CompactAlarmState, CompactLongState } from './thresholds/state.js';
export type { OnlineThresholdState } from './threshold-spec.js';

const STATE_KEYS = [
  'format',
  'formatVersion',
  'detector',
  't',
  'lastTime',
  'flushed',
  'hist',
  'sum',
  'ewma',
  'threshold',
  'online',
] as const;
const FINGERPRINT_KEYS = ['model', 'window', 'features', 'threshold', 'combine', 'hash'] as const;

/** A 64-bit string hash (two 32-bit multiply–xorshift lanes, as cyrb53), as 16 hex digits. */
function hashText(text: string): string {
  let h1 = 0xdeadbeef,
    h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}

function fingerprintOf(d: FittedDetector): StreamFingerprint {
  const o = d.options;
  return {
    model: o.model,
    window: o.window,
    features: d.features,
    threshold: thresholdToString(o.threshold),
    combine: o.combine,
    hash: hashText(JSON.stringify(detectorToJSON(d))),
  };
}

function pipelineShape(context: boolean): AlarmShape {
  return { valueIsRaw: false, longOwnRaw: context };
}

/** Whether the forecasters' `values` are the last rows of the alarm's `histValue` (and so are not saved twice). */
function valuesInAlarm(p: OnlinePipelineState): boolean {
  return p.model.options.memory <= p.alarm.options.historicWindow;
}

function compactPipeline(p: OnlinePipeline): CompactPipelineState {
  const s = p.getState();
  const shared = valuesInAlarm(s);
  const strip = (f: OnlineState): CompactForecasterState => {
    const { version: _v, options: _o, values, ...rest } = f;
    return shared ? rest : { ...rest, values };
  };
  return {
    model: strip(s.model),
    context: s.context === null ? null : strip(s.context),
    alarm: compactAlarm(s.alarm, pipelineShape(s.context !== null)),
  };
}

/** A pipeline from its compact state (untrusted); `template`: the detector's pipeline state (options, shape). */
function restorePipeline(v: unknown, where: string, template: OnlinePipelineState): OnlinePipeline {
  const s = readObject(v, where, ['model', 'context', 'alarm']);
  const alarmWhere = field(where, 'alarm');
  const alarm = expandAlarmState(s.alarm, alarmWhere, template.alarm, pipelineShape(template.context !== null));
  const stage = readWith(alarmWhere, () => AlarmStage.fromState(alarm));
  const shared = valuesInAlarm(template);
  // The alarm's values, as checked by AlarmStage.fromState: the last min(rows, historicWindow) rows.
  const histValue = stage.getState().histValue;
  const forecaster = (x: unknown, w: string, t: OnlineState): unknown => {
    const keys = Object.keys(t).filter((k) => k !== 'version' && k !== 'options' && !(shared && k === 'values'));
    const c = readObject(x, w, keys);
    const rows = readCount(c.t, field(w, 't'));
    if (rows !== stage.rows) stateFail(field(w, 't'), `the alarm stage's row count ${stage.rows}`, c.t);
    const values = shared ? histValue.slice(histValue.length - Math.min(rows, t.options.memory)) : c.values;
    const full = { ...c, values, version: 1, options: t.options };
    readWith(w, () => OnlineForecaster.fromState(full));
    return full;
  };
  const model = forecaster(s.model, field(where, 'model'), template.model);
  let context: unknown = null;
  if (template.context === null) {
    if (s.context !== null) stateFail(field(where, 'context'), 'null (the detector has no context model)', s.context);
  } else context = forecaster(s.context, field(where, 'context'), template.context);
  return readWith(where, () => OnlinePipeline.fromState({ version: 1, model, context, alarm }));
}

/**
 * A detector's streaming scorer (made by {@link Detector.stream}): push points one at a time, get each one's score and
 * flag in constant memory, the same as batch `detect`. See the module notes above for what a push returns by model.
 */
export class DetectorStream {
  private readonly W: number;
  private readonly F: number;
  private readonly kind: 'ae' | 'forecast' | 'zscore' | 'iqr';
  private readonly combine: 'mean' | 'max' | 'last';
  private readonly model: Sequential | null;
  private readonly offset: Float64Array;
  private readonly scale: Float64Array;
  private readonly online: OnlineThreshold | null; // null for 'gru-online' (its pipeline thresholds)
  private readonly hist: Float64Array; // ring of the last H normalised points [H, F]
  private readonly H: number;
  private readonly win: Float32Array; // one window [W, F], model input
  private readonly sum: Float64Array; // ring [W, F] of running sums / maxima per pending point
  private readonly cnt: Float64Array; // ring [W]
  private readonly ewma: Ewma | null;
  private readonly smoothed = new Float64Array(1); // the forecaster's error in, its EWMA out (Ewma.pushIn)
  private readonly buf: Float64Array;
  private readonly err: Float64Array; // one window's squared errors [W, F]
  private readonly scratch: StreamResult; // push's result before it is copied out
  private readonly pipeline: OnlinePipeline | null; // 'gru-online': a copy of the fitted forecaster + alarm stage
  private readonly level: number;
  private readonly needsTime: boolean;
  private readonly fingerprint: StreamFingerprint;
  private lastTime = -Infinity;
  private t = 0; // points pushed
  private flushed = false;

  /**
   * A stream over a fitted detector's state (detector.stream() hands it over); the state is copied, not changed. With
   * `state` (a {@link DetectorStream.getState} output, e.g. after a JSON round trip), the stream continues from there.
   *
   * @param detector - The fitted state.
   * @param state - A saved stream state of this detector (untrusted: every field is checked), or undefined for a new
   * stream.
   * @throws {@link ArgumentError} for a detector that cannot stream (combine 'all', threshold 'dynamic'), or a state
   * that is not a valid state of this detector (the error names the field: `stream(state.hist)`).
   */
  constructor(detector: FittedDetector, state?: unknown) {
    const o = detector.options;
    if (o.combine === 'all') {
      throw new ArgumentError('stream', "combine 'last', 'mean' or 'max'", "'all'", {
        problem:
          "combine 'all' (the SKAB rule) flags a point from the windows after it; it is an offline " +
          'analysis of a whole recording: use detect(), or a causal detector for streaming',
      });
    }
    this.level = o.threshold.kind === 'likelihood' ? (o.threshold.value as number) : NaN;
    this.needsTime = o.model === 'gru-online' && o.timeFeatures !== false;
    this.W = o.window;
    this.F = detector.features;
    this.kind = o.model.endsWith('-ae')
      ? 'ae'
      : o.model === 'lstm-forecast' || o.model === 'tcn-forecast'
        ? 'forecast'
        : o.model === 'zscore'
          ? 'zscore'
          : 'iqr';
    this.combine = o.combine;
    this.model = detector.model;
    this.offset = detector.normaliser.offset;
    this.scale = detector.normaliser.scale;
    this.H = this.kind === 'ae' ? this.W : this.W + 1;
    this.hist = new Float64Array(this.H * this.F);
    this.win = new Float32Array(this.W * this.F);
    this.sum = new Float64Array(this.W * this.F);
    this.cnt = new Float64Array(this.W);
    this.ewma = this.kind === 'forecast' ? new Ewma(o.smoothing) : null;
    this.buf = new Float64Array(this.W);
    this.err = new Float64Array(this.W * this.F);
    this.scratch = this.newResult();
    this.fingerprint = fingerprintOf(detector);
    if (state === undefined) {
      this.pipeline = detector.online ? OnlinePipeline.fromState(detector.online.getState()) : null;
      this.online = this.pipeline ? null : makeOnline(o.threshold, detector.calibration);
      return;
    }
    // A saved state: each field is checked as it is read; on any error the constructor throws (no stream exists).
    const s = this.readHeader(state);
    this.t = readCount(s.t, 'stream(state.t)');
    this.flushed = readBool(s.flushed, 'stream(state.flushed)');
    const lastTime = readNumber(s.lastTime, 'stream(state.lastTime)', { infinite: true });
    if (lastTime === Infinity || (lastTime !== -Infinity && !detector.online)) {
      stateFail(
        'stream(state.lastTime)',
        detector.online ? "epoch ms or '-Infinity'" : "'-Infinity' (no timestamps)",
        s.lastTime,
      );
    }
    this.lastTime = lastTime;
    const pending = this.kind === 'ae' && this.combine !== 'last';
    this.hist.set(
      readNumbers(s.hist, 'stream(state.hist)', detector.online ? 0 : this.H * this.F, {
        min: -SATURATION,
        max: SATURATION,
      }),
    );
    this.sum.set(readNumbers(s.sum, 'stream(state.sum)', pending ? this.W * this.F : 0, { min: 0, max: STATE_MAX }));
    if (pending && !this.flushed && this.t >= this.W) {
      // The pending points' window counts: point p (t−W < p < t) is covered by the windows starting at
      // max(0, p−W+1) … t−W that have been seen.
      const last = this.t - this.W;
      for (let p = last + 1; p < this.t; p++) this.cnt[p % this.W] = last - Math.max(0, p - this.W + 1) + 1;
    }
    if (this.ewma) this.ewma.setState(s.ewma, 'stream(state.ewma)');
    else if (s.ewma !== null) stateFail('stream(state.ewma)', "null (only 'lstm-forecast' smooths its errors)", s.ewma);
    if (detector.online) {
      if (s.threshold !== null)
        stateFail('stream(state.threshold)', "null ('gru-online': see state.online)", s.threshold);
      const template = detector.online.getState();
      this.pipeline = restorePipeline(s.online, 'stream(state.online)', template);
      if (this.pipeline.model.rows !== template.model.t + this.t) {
        stateFail(
          'stream(state.t)',
          `the rows the forecaster has learnt from since fit (${this.pipeline.model.rows - template.model.t})`,
          s.t,
        );
      }
      this.online = null;
    } else {
      if (s.online !== null) stateFail('stream(state.online)', "null (only 'gru-online' learns on line)", s.online);
      this.pipeline = null;
      this.online = restoreOnline(
        o.threshold,
        detector.calibration,
        s.threshold,
        'stream(state.threshold)',
        this.scored(),
      );
    }
  }

  /** How many points have been scored (and their scores given to the threshold): t and flushed say. */
  private scored(): number {
    const W = this.W;
    if (this.kind !== 'ae') return Math.max(0, this.t - W);
    const windows = Math.max(0, this.t - W + 1);
    return this.combine !== 'last' && this.flushed && this.t >= W ? windows + W - 1 : windows;
  }

  /** Checks a saved state's format, version, keys and fingerprint; returns it as a record. */
  private readHeader(state: unknown): Record<string, unknown> {
    if (state === null || typeof state !== 'object' || Array.isArray(state)) {
      stateFail('stream(state)', "a stream state (an object with format 'bptt-stream', from stream.getState())", state);
    }
    const raw = state as Record<string, unknown>;
    if (raw.format !== 'bptt-stream') stateFail('stream(state.format)', "'bptt-stream'", raw.format);
    if (raw.formatVersion !== 1) stateFail('stream(state.formatVersion)', '1', raw.formatVersion);
    const s = readObject(state, 'stream(state)', STATE_KEYS);
    const d = readObject(s.detector, 'stream(state.detector)', FINGERPRINT_KEYS);
    for (const k of FINGERPRINT_KEYS) {
      const mine = this.fingerprint[k];
      if (d[k] !== mine) {
        throw new ArgumentError(`stream(state.detector.${k})`, describeValue(mine), describeValue(d[k]), {
          problem:
            `the state belongs to another detector (its ${k} is ${describeValue(d[k])}, this detector's is ` +
            `${describeValue(mine)}); a stream continues only on the detector that made it, or a copy of it`,
        });
      }
    }
    return s;
  }

  /**
   * Everything this stream needs to continue from its current point, as plain JSON (see the module notes; numbers
   * that can be -0 or ±Infinity are written as strings). `detector.stream(state)` (on this detector, or a copy loaded
   * from its toJSON) continues bit for bit; the state shares no memory with the stream.
   *
   * @returns The state.
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const train = Array.from({ length: 200 }, (_, i) => Math.sin(i / 4));
   * const detector = new Detector({ model: 'zscore', window: 20, threshold: 'spot' }).fit(train);
   * const series = train.map((v, i) => (i === 150 ? v + 8 : v));
   * const a = detector.stream();
   * series.slice(0, 100).forEach((v) => a.push(v));
   * const saved = JSON.stringify(a.getState()); // e.g. to Redis, with the last entry's ID
   * const b = detector.stream(JSON.parse(saved)); // another process, after a crash
   * const rest = series.slice(100);
   * assert.deepEqual(
   *   rest.map((v) => b.push(v)),
   *   rest.map((v) => a.push(v)),
   * );
   * ```
   */
  getState(): DetectorStreamState {
    const pending = this.kind === 'ae' && this.combine !== 'last';
    return {
      format: 'bptt-stream',
      formatVersion: 1,
      detector: { ...this.fingerprint },
      t: this.t,
      lastTime: encodeNumber(this.lastTime),
      flushed: this.flushed,
      hist: this.pipeline ? [] : encodeNumbers(this.hist),
      sum: pending ? encodeNumbers(this.sum) : [],
      ewma: this.ewma ? this.ewma.getState() : null,
      threshold: this.online ? this.online.getState() : null,
      online: this.pipeline ? compactPipeline(this.pipeline) : null,
    };
  }

  /** Normalised value of feature f of point i (i within the last H points). */
  private at(i: number, f: number): number {
    return this.hist[(i % this.H) * this.F + f];
  }

  /**
   * Adds one point (a number, or one value per feature; NaN not allowed here: fill gaps before streaming). `timestamp`
   * (epoch ms) is for 'gru-online' with time inputs, which requires it; other models refuse it. The result is a new
   * object the stream never touches again (keep it as long as you like); that object and its `contributions` are the
   * only memory a push allocates after warm-up. {@link DetectorStream.pushInto} writes into your own object instead,
   * and allocates nothing.
   *
   * @param point - The next point: a number (one feature) or one value per feature.
   * @param timestamp - Epoch ms ('gru-online' with time inputs only).
   * @returns The result for the point that is now final, or null during warm-up.
   * @throws {@link ArgumentError} for a point of the wrong length or with a non-finite value, a timestamp the model
   * does not take (or a missing one it needs), or a flushed stream.
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const detector = new Detector({ model: 'zscore', window: 5, threshold: 'fixed:4' });
   * detector.fit([1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
   * const stream = detector.stream();
   * const results = [1, 2, 1, 2, 1, 2, 40].map((v) => stream.push(v));
   * assert.equal(results[4], null); // warm-up: the first W points
   * assert.equal(results[5]?.flag, 0);
   * assert.equal(results[6]?.index, 6);
   * assert.equal(results[6]?.flag, 1);
   * ```
   */
  push(point: number | ArrayLike<number>, timestamp?: number): StreamResult | null {
    const r = this.scratch;
    if (!this.pushInto(r, point, timestamp)) return null;
    return {
      index: r.index,
      score: r.score,
      flag: r.flag,
      threshold: r.threshold,
      contributions: r.contributions.slice(),
    };
  }

  /**
   * A result object for {@link DetectorStream.pushInto}: contributions of this stream's length, the other fields
   * unset (index -1, score and threshold NaN).
   *
   * @returns A new result object.
   */
  newResult(): StreamResult {
    return { index: -1, score: NaN, flag: 0, threshold: NaN, contributions: new Float64Array(this.F) };
  }

  /**
   * `push` without allocating: writes the result into `out` (made by {@link DetectorStream.newResult}, reused from
   * push to push) and says whether there was one. After warm-up this allocates nothing (bench/stream-alloc.ts
   * measures it); `out` is overwritten by the next call, so copy what you keep.
   *
   * @param out - Where the result goes: an object with `contributions`, a Float64Array of one value per feature.
   * @param point - The next point: a number (one feature) or one value per feature.
   * @param timestamp - Epoch ms ('gru-online' with time inputs only).
   * @returns True when `out` now holds the result of the point that is final; false during warm-up (`out` untouched).
   * @throws {@link ArgumentError} as {@link DetectorStream.push} does, or for an `out` whose contributions are not a
   * Float64Array of one value per feature.
   * @example
   * ```ts
   * import { Detector } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const detector = new Detector({ model: 'zscore', window: 5, threshold: 'fixed:4' });
   * detector.fit([1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
   * const stream = detector.stream();
   * const out = stream.newResult();
   * const flags = [1, 2, 1, 2, 1, 2, 40].map((v) => (stream.pushInto(out, v) ? out.flag : null));
   * assert.deepEqual(flags, [null, null, null, null, null, 0, 1]);
   * assert.equal(out.index, 6);
   * ```
   */
  pushInto(out: StreamResult, point: number | ArrayLike<number>, timestamp?: number): boolean {
    const F = this.F;
    if (
      out === null ||
      typeof out !== 'object' ||
      !(out.contributions instanceof Float64Array) ||
      out.contributions.length !== F
    ) {
      throw new ArgumentError(
        'stream.pushInto(out)',
        `a result with contributions: Float64Array(${F}) (stream.newResult())`,
        describeValue(out),
      );
    }
    if (this.flushed) {
      throw new ArgumentError('stream.push', 'an open stream', 'a flushed one', {
        problem: 'the stream was flushed; start a new one with detector.stream()',
      });
    }
    if (this.pipeline) return this.pushOnline(out, point, timestamp);
    if (timestamp !== undefined) {
      throw new ArgumentError('stream.push(timestamp)', 'no timestamp', describeValue(timestamp), {
        problem: "this model does not use timestamps; only 'gru-online' has time inputs",
      });
    }
    const i = this.t;
    if (typeof point === 'number') {
      if (F !== 1) throw new ArgumentError('stream.push(point)', `${F} values`, '1');
      this.store(i, 0, point);
    } else {
      if (point.length !== F)
        throw new ArgumentError('stream.push(point)', `${F} value${F === 1 ? '' : 's'}`, `${point.length}`);
      this.storeRow(i, point);
    }
    this.t++;
    // One method per kind: each small enough for V8 to inline its helpers, so no double is boxed on the way.
    if (this.kind === 'ae') return this.scoreAutoencoder(out, i);
    if (this.t < this.W + 1) return false;
    if (this.kind === 'forecast') this.scoreForecast(out, i);
    else this.scoreBaseline(out, i);
    return true;
  }

  /** Autoencoders: the window ending at point i, combined per the combine rule; false while warming up. */
  private scoreAutoencoder(out: StreamResult, i: number): boolean {
    const W = this.W,
      F = this.F;
    if (this.t < W) return false;
    const s = this.t - W; // window start
    const err = this.err;
    this.predictWindow(s, err);
    if (this.combine === 'last') {
      const c = out.contributions;
      let m = 0;
      for (let f = 0; f < F; f++) m += c[f] = err[(W - 1) * F + f];
      this.emitScore(out, i, m / F);
      return true;
    }
    // Accumulate into the pending points s..s+W−1 (slot = index mod W); the slot of s+W−1 is new.
    const slotNew = (s + W - 1) % W;
    this.cnt[slotNew] = 0;
    for (let f = 0; f < F; f++) this.sum[slotNew * F + f] = 0;
    for (let j = 0; j < W; j++) {
      const slot = (s + j) % W;
      const first = this.cnt[slot] === 0;
      if (this.combine === 'max') {
        let m = 0,
          cur = 0;
        for (let f = 0; f < F; f++) {
          m += err[j * F + f];
          cur += this.sum[slot * F + f];
        }
        if (first || m > cur) for (let f = 0; f < F; f++) this.sum[slot * F + f] = err[j * F + f];
      } else {
        for (let f = 0; f < F; f++) this.sum[slot * F + f] += err[j * F + f];
      }
      this.cnt[slot] = this.cnt[slot] + 1;
    }
    this.finalize(out, s);
    return true;
  }

  /** 'lstm-forecast': point i against the forecast from the W points before it, smoothed by the EWMA. */
  private scoreForecast(out: StreamResult, i: number): void {
    const W = this.W,
      F = this.F,
      c = out.contributions,
      win = this.win;
    for (let j = 0; j < W; j++) for (let f = 0; f < F; f++) win[j * F + f] = this.at(i - W + j, f);
    const y = (this.model as Sequential).predictWindow(win);
    let m = 0;
    for (let f = 0; f < F; f++) {
      const d = Math.abs(y[f] - this.at(i, f));
      c[f] = d;
      m += d;
    }
    const v = this.smoothed;
    v[0] = m / F;
    (this.ewma as Ewma).pushIn(v); // (through a buffer: a double argument or result of a call may be boxed)
    this.emitScore(out, i, v[0]);
  }

  /** 'zscore', 'iqr': point i against the W points before it, per feature. */
  private scoreBaseline(out: StreamResult, i: number): void {
    const W = this.W,
      F = this.F,
      c = out.contributions;
    let agg = 0;
    for (let f = 0; f < F; f++) {
      for (let k = 0; k < W; k++) this.buf[k] = this.at(i - W + k, f);
      const v = this.at(i, f);
      if (this.kind === 'zscore') {
        const z = zscoreOf(this.buf, v);
        c[f] = z * z;
        agg += z * z;
      } else {
        const q = tukeyOf(this.buf, v);
        c[f] = q;
        agg = f === 0 ? q : Math.max(agg, q);
      }
    }
    this.emitScore(out, i, this.kind === 'zscore' ? Math.sqrt(agg / F) : agg);
  }

  /** Checks feature f of point i and stores it, normalised, in the ring. */
  private store(i: number, f: number, v: unknown): void {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.badValue(i, f, v);
    this.hist[(i % this.H) * this.F + f] = normaliseValue(v, this.offset[f], this.scale[f]);
  }

  /** Every feature of point i, read here: its values never cross a call V8 may not inline, so none is boxed. */
  private storeRow(i: number, point: ArrayLike<number>): void {
    const F = this.F,
      base = (i % this.H) * F;
    for (let f = 0; f < F; f++) {
      const v: unknown = point[f];
      if (typeof v !== 'number' || !Number.isFinite(v)) this.badValue(i, f, v);
      this.hist[base + f] = normaliseValue(v, this.offset[f], this.scale[f]);
    }
  }

  private badValue(i: number, f: number, v: unknown): never {
    throw new ArgumentError('stream.push(point)', 'a finite number', String(v), {
      feature: f,
      problem: `feature ${f} of point ${i} is ${String(v)}; expected a finite number`,
    });
  }

  /** The autoencoder's squared errors of the window of points s..s+W−1 into err [W, F]. */
  private predictWindow(s: number, err: Float64Array): void {
    const W = this.W,
      F = this.F,
      win = this.win;
    for (let j = 0; j < W; j++) for (let f = 0; f < F; f++) win[j * F + f] = this.at(s + j, f);
    const y = (this.model as Sequential).predictWindow(win);
    for (let k = 0; k < W * F; k++) {
      const d = y[k] - win[k];
      err[k] = d * d;
    }
  }

  /** Writes point p from its pending slot (mean or max over the windows that covered it) into out. */
  private finalize(out: StreamResult, p: number): void {
    const F = this.F,
      slot = p % this.W;
    const c = out.contributions;
    const n = this.combine === 'mean' ? this.cnt[slot] : 1;
    let m = 0;
    for (let f = 0; f < F; f++) m += c[f] = this.sum[slot * F + f] / n;
    this.cnt[slot] = 0;
    this.emitScore(out, p, m / F);
  }

  /** Thresholds the score; writes index, score, flag and threshold into out (contributions are already there). */
  private emitScore(out: StreamResult, index: number, score: number): void {
    const online = this.online as OnlineThreshold;
    out.index = index;
    out.score = score;
    out.flag = online.step(score);
    out.threshold = online.compared;
  }

  /**
   * 'gru-online': the forecaster and alarm stage as they stand now (a detector saved with it continues here); else null.
   *
   * @returns The learning state after the last pushed point, or null for models that do not learn online.
   */
  onlineState(): OnlinePipelineState | null {
    return this.pipeline ? this.pipeline.getState() : null;
  }

  /** 'gru-online': one point through the stream's forecaster and alarm stage, the result into out. */
  private pushOnline(out: StreamResult, point: number | ArrayLike<number>, timestamp: number | undefined): boolean {
    const v = typeof point === 'number' ? point : point.length === 1 ? point[0] : NaN;
    if (typeof point !== 'number' && point.length !== 1)
      throw new ArgumentError('stream.push(point)', '1 value', `${point.length}`);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ArgumentError('stream.push(point)', 'a finite number', String(v), {
        problem: `point ${this.t} is ${String(v)}; expected a finite number`,
      });
    }
    if (timestamp !== undefined) {
      if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
        throw new ArgumentError('stream.push(timestamp)', 'epoch milliseconds', describeValue(timestamp));
      }
      if (timestamp < this.lastTime) {
        throw new ArgumentError('stream.push(timestamp)', `a time ≥ ${this.lastTime}`, `${timestamp}`, {
          problem: `${timestamp} is earlier than the point before (${this.lastTime})`,
        });
      }
      this.lastTime = timestamp;
    } else if (this.needsTime) {
      throw new ArgumentError('stream.push(timestamp)', 'epoch milliseconds', 'undefined', {
        problem: 'this detector has time inputs; give each point its timestamp (epoch ms)',
      });
    }
    const p = this.pipeline as OnlinePipeline;
    p.stepInto(v, timestamp);
    out.index = this.t++;
    out.score = p.score;
    out.flag = p.flag ? 1 : 0;
    out.threshold = this.level;
    out.contributions[0] = p.raw;
    return true;
  }

  /**
   * Ends the stream: returns the points still pending (autoencoders with combine 'mean'/'max': the last W−1 points),
   * scored with the windows seen. Further pushes throw; a second flush returns nothing.
   *
   * @returns The remaining results, in index order (empty for every other model).
   */
  flush(): StreamResult[] {
    if (this.flushed) return []; // flushed before: its pending points were returned then
    this.flushed = true;
    if (this.kind !== 'ae' || this.combine === 'last' || this.t < this.W) return [];
    const out: StreamResult[] = [];
    for (let p = this.t - this.W + 1; p < this.t; p++) {
      const r = this.newResult();
      this.finalize(r, p);
      out.push(r);
    }
    return out;
  }
}

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
 */
import type { Sequential } from '../model/sequential.js';
import { Ewma } from './thresholds/telemanom.js';
import { normaliseValue } from './preprocess.js';
import { makeOnline, type OnlineThreshold } from './threshold-spec.js';
import { OnlinePipeline, type OnlinePipelineState } from './online.js';
import { zscoreOf, tukeyOf } from './baselines.js';
import type { FittedDetector } from './types.js';
import { ArgumentError } from '../errors.js';
import { describeValue } from '../check.js';

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
  private readonly online: OnlineThreshold;
  private readonly hist: Float64Array; // ring of the last H normalised points [H, F]
  private readonly H: number;
  private readonly win: Float32Array; // one window [W, F], model input
  private readonly sum: Float64Array; // ring [W, F] of running sums / maxima per pending point
  private readonly cnt: Float64Array; // ring [W]
  private readonly ewma: Ewma | null;
  private readonly buf: Float64Array;
  private readonly pipeline: OnlinePipeline | null; // 'gru-online': a copy of the fitted forecaster + alarm stage
  private readonly level: number;
  private readonly needsTime: boolean;
  private lastTime = -Infinity;
  private t = 0; // points pushed
  private flushed = false;

  /**
   * A stream over a fitted detector's state (detector.stream() hands it over); the state is copied, not changed.
   *
   * @param detector - The fitted state.
   * @throws {@link ArgumentError} for a detector that cannot stream (combine 'all', threshold 'dynamic').
   */
  constructor(detector: FittedDetector) {
    const o = detector.options;
    if (o.combine === 'all') {
      throw new ArgumentError('stream', "combine 'last', 'mean' or 'max'", "'all'", {
        problem:
          "combine 'all' (the SKAB rule) flags a point from the windows after it; it is an offline " +
          'analysis of a whole recording: use detect(), or a causal detector for streaming',
      });
    }
    this.pipeline = detector.online ? OnlinePipeline.fromState(detector.online.getState()) : null;
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
    this.online = this.pipeline
      ? { threshold: this.level, update: () => ({ threshold: this.level, flag: 0 }) }
      : makeOnline(o.threshold, detector.calibration);
    this.H = this.kind === 'ae' ? this.W : this.W + 1;
    this.hist = new Float64Array(this.H * this.F);
    this.win = new Float32Array(this.W * this.F);
    this.sum = new Float64Array(this.W * this.F);
    this.cnt = new Float64Array(this.W);
    this.ewma = this.kind === 'forecast' ? new Ewma(o.smoothing) : null;
    this.buf = new Float64Array(this.W);
  }

  /** Normalised value of feature f of point i (i within the last H points). */
  private at(i: number, f: number): number {
    return this.hist[(i % this.H) * this.F + f];
  }

  /**
   * Adds one point (a number, or one value per feature; NaN not allowed here: fill gaps before streaming). `timestamp`
   * (epoch ms) is for 'gru-online' with time inputs, which requires it; other models refuse it.
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
    if (this.flushed) {
      throw new ArgumentError('stream.push', 'an open stream', 'a flushed one', {
        problem: 'the stream was flushed; start a new one with detector.stream()',
      });
    }
    if (this.pipeline) return this.pushOnline(point, timestamp);
    if (timestamp !== undefined) {
      throw new ArgumentError('stream.push(timestamp)', 'no timestamp', describeValue(timestamp), {
        problem: "this model does not use timestamps; only 'gru-online' has time inputs",
      });
    }
    const F = this.F;
    const values = typeof point === 'number' ? [point] : point;
    if (values.length !== F)
      throw new ArgumentError('stream.push(point)', `${F} value${F === 1 ? '' : 's'}`, `${values.length}`);
    const i = this.t;
    for (let f = 0; f < F; f++) {
      const v = values[f];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ArgumentError('stream.push(point)', 'a finite number', String(v), {
          feature: f,
          problem: `feature ${f} of point ${i} is ${String(v)}; expected a finite number`,
        });
      }
      this.hist[(i % this.H) * F + f] = normaliseValue(v, this.offset[f], this.scale[f]);
    }
    this.t++;
    const W = this.W;
    if (this.kind === 'ae') {
      if (this.t < W) return null;
      const s = this.t - W; // window start
      for (let j = 0; j < W; j++) for (let f = 0; f < F; f++) this.win[j * F + f] = this.at(s + j, f);
      const y = (this.model as Sequential).predictTensor({ data: this.win, shape: [1, W, F] }, 1).data;
      const err = new Float64Array(W * F);
      for (let k = 0; k < W * F; k++) {
        const d = y[k] - this.win[k];
        err[k] = d * d;
      }
      if (this.combine === 'last') return this.emit(i, err.subarray((W - 1) * F, W * F));
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
      return this.finalize(s);
    }
    if (this.t < W + 1) return null;
    const c = new Float64Array(F);
    let score: number;
    if (this.kind === 'forecast') {
      for (let j = 0; j < W; j++) for (let f = 0; f < F; f++) this.win[j * F + f] = this.at(i - W + j, f);
      const y = (this.model as Sequential).predictTensor({ data: this.win, shape: [1, W, F] }, 1).data;
      let m = 0;
      for (let f = 0; f < F; f++) {
        const d = Math.abs(y[f] - this.at(i, f));
        c[f] = d;
        m += d;
      }
      score = (this.ewma as Ewma).push(m / F);
      return this.emitScore(i, score, c);
    }
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
    score = this.kind === 'zscore' ? Math.sqrt(agg / F) : agg;
    return this.emitScore(i, score, c);
  }

  /** Emits point p from its pending slot (mean or max over the windows that covered it). */
  private finalize(p: number): StreamResult {
    const F = this.F,
      slot = p % this.W;
    const c = new Float64Array(F);
    const n = this.combine === 'mean' ? this.cnt[slot] : 1;
    for (let f = 0; f < F; f++) c[f] = this.sum[slot * F + f] / n;
    this.cnt[slot] = 0;
    return this.emit(p, c);
  }

  private emit(index: number, perFeature: ArrayLike<number>): StreamResult {
    const F = this.F;
    const c = Float64Array.from(perFeature);
    let m = 0;
    for (let f = 0; f < F; f++) m += c[f];
    return this.emitScore(index, m / F, c);
  }

  private emitScore(index: number, score: number, contributions: Float64Array): StreamResult {
    const r = this.online.update(score);
    return { index, score, flag: r.flag, threshold: r.threshold, contributions };
  }

  /**
   * 'gru-online': the forecaster and alarm stage as they stand now (a detector saved with it continues here); else null.
   *
   * @returns The learning state after the last pushed point, or null for models that do not learn online.
   */
  onlineState(): OnlinePipelineState | null {
    return this.pipeline ? this.pipeline.getState() : null;
  }

  /** Ends the stream: returns the points whose scores were still pending (autoencoders with mean/max). */
  private pushOnline(point: number | ArrayLike<number>, timestamp: number | undefined): StreamResult {
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
    const o = (this.pipeline as OnlinePipeline).step(v, timestamp);
    return {
      index: this.t++,
      score: o.score,
      flag: o.flag ? 1 : 0,
      threshold: this.level,
      contributions: Float64Array.of(o.raw),
    };
  }

  /**
   * Ends the stream: returns the points still pending (autoencoders with combine 'mean'/'max': the last W−1 points),
   * scored with the windows seen. Further pushes throw.
   *
   * @returns The remaining results, in index order (empty for every other model).
   */
  flush(): StreamResult[] {
    this.flushed = true;
    if (this.kind !== 'ae' || this.combine === 'last' || this.t < this.W) return [];
    const out: StreamResult[] = [];
    for (let p = this.t - this.W + 1; p < this.t; p++) out.push(this.finalize(p));
    return out;
  }
}

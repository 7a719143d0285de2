/**
 * A continually learning GRU forecaster for causal anomaly scoring of one series (stage 2–3 of the pipeline: model and
 * raw score). Feed rows one at a time with `step(value, timestamp?)` (or `scoreBatch`, the same bits); each call returns
 * the row's raw score, which depends only on rows up to it. Compose with lib/detect/alarm.ts for a calibrated score.
 *
 * Model: x_t = [v'_t, time features] (D = 1, or 5 with `timeFeatures`: sin/cos of time of day and day of week from epoch-ms
 * timestamps, UTC) → GRU(H) → dense → K outputs: ŷ_{t+k|t}, k = 1…K, forecasts of v'_{t+k}. v' = clip((v − c)/s, ±clip)
 * with c, s the median and a robust scale s = max(1.4826·MAD, sdFloor·std) of the rows seen at the first fit (then frozen,
 * or tracked by EMAs with rate `normRate`). sdFloor matters on quantised series, where the MAD is near 0 and the clip
 * would flatten every real spike to the level of the jitter.
 * Raw score of row t: e_t = mean over k = 1…K of |v'_t − ŷ_{t|t−k}| (forecasts made k rows earlier, so a point is judged
 * against context up to K rows back, not only against the previous row); `score: 'h1'` uses k = 1 only, 'max' the largest.
 * `head: 'gaussian'` adds K log-variance outputs (Gaussian NLL loss) and divides each error by its predicted σ;
 * `transform` maps e to the raw score (|e|, e², 1 − e^−|e|).
 * Streaming: the GRU's hidden state is carried from row to row (one step per row, B = 1); training never resets it.
 * Learning: at row `fitAt` (default ⌊P/2⌋, P = probation) `initSteps` Adam steps on random windows of the rows so far;
 * then every `every` rows, `steps` Adam steps on a batch of B windows of length T + K: B/2 ending at the newest rows and
 * B/2 replayed from a ring buffer of the last `memory` rows (bounded memory). Loss: mean squared error of every output
 * with a target inside the window, from step `warm` on (h0 = 0 for each window; truncated BPTT over T steps). Gradients
 * are clipped to global norm 1 (clipByGlobalNorm); Adam (kernels/optim.ts) with learning rate `lr`.
 * Everything runs in float64 on the plain-TypeScript kernels, so results do not depend on the wasm backend; window
 * sampling uses a 32-bit xorshift generator whose state is part of the serialisable state. Same seed + same rows →
 * bit-identical scores, and `getState()`/`fromState()` continue bit for bit.
 */
import { ArgumentError } from '../errors.js';
import {
  gruWorkspace,
  gruForward,
  gruBackward,
  gruBiasLength,
  type GruParams,
  type GruWorkspace,
} from '../../kernels/fast/gru.js';
import { denseForward, denseBackward } from '../../kernels/fast/dense.js';
import { adamUpdate, clipByGlobalNorm } from '../../kernels/optim.js';
import { Act } from '../../kernels/activations.js';
import { makeRandom } from '../random.js';
import { glorotUniform, orthogonal } from '../model/init.js';
import { checkKeys, describeValue } from '../check.js';
import { AlarmStage, type AlarmOptions, type AlarmState } from './alarm.js';
import { STEP, drain, type FitLoop } from '../model/fit-loop.js';

/** Options of the {@link OnlineForecaster} (the continually learning GRU forecaster of model 'gru-online'). */
export interface OnlineOptions {
  /** Rows before scoring starts (NAB's probation). Required: the first fit happens within it. */
  probation: number;
  /** Seed for the initial weights and the window sampler. Default 1. */
  seed?: number;
  /** GRU units. Default 16. */
  units?: number;
  /** BPTT window (steps per training window). Default 32. */
  window?: number;
  /** Forecast horizons K (outputs ŷ_{t+1…t+K}). Default 8. */
  horizon?: number;
  /** 'mean': raw score averages the K horizons' errors; 'h1': one step only (the other horizons are still trained, an
   *  auxiliary loss); 'max': the largest. Default 'h1' (best on NAB: 'mean' lost 2–3 points). */
  score?: 'mean' | 'h1' | 'max';
  /** Train every this many rows after the first fit. Default 32. */
  every?: number;
  /** Adam steps per update. Default 1. */
  steps?: number;
  /** Windows per batch. Default 16. */
  batch?: number;
  /** Adam learning rate. Default 0.001 (a slow learner absorbs less of an anomaly: 0.003 lost 5 points on NAB). */
  lr?: number;
  /** Adam steps of the first fit. Default 150. */
  initSteps?: number;
  /** Row at which the first fit happens. Default ⌊probation/2⌋ (at least window + horizon + 1). */
  fitAt?: number;
  /** Rows kept for replay. Default 4096. */
  memory?: number;
  /** Loss from this window step on. Default 4. */
  warm?: number;
  /** EMA rate of the normaliser after the first fit (0 = frozen). Default 0. */
  normRate?: number;
  /** Normalised values clipped to ±clip. Default 10. */
  clip?: number;
  /** Time inputs from the timestamps: true or 'day+week' = sin/cos of time of day and of day of week (D = 5); 'day' = time
   *  of day only (D = 3); false = none. Default false. */
  timeFeatures?: boolean | 'day' | 'day+week';
  /** 'point': K outputs, squared-error loss, error |v' − ŷ|; 'gaussian': K means and K log-variances, Gaussian NLL loss,
   *  error |v' − μ|/σ (a predictive variance: noisy stretches are judged on their own scale). Default 'point'. */
  head?: 'point' | 'gaussian';
  /** Raw score from the error e: 'abs' |e|, 'square' e², 'squash' 1 − exp(−|e|) (bounded in [0, 1), like HTM's raw
   *  score, so one huge error cannot inflate the likelihood's fitted spread for long). Default 'abs'. */
  transform?: 'abs' | 'square' | 'squash';
  /** Normaliser scale s = max(1.4826·MAD, sdFloor·std, 1e-6·(1 + |median|)) of the first-fit rows. Default 0.7 (NAB:
   *  0.3–0.7 score 68–70, 0.1 and 1.0 about 65). */
  sdFloor?: number;
}

/** {@link OnlineOptions} with every default filled in. */
export type ResolvedOnlineOptions = Required<OnlineOptions>;

/** An {@link OnlineForecaster}'s whole state, plain JSON. */
export interface OnlineState {
  /** The state format's version. */
  version: 1;
  /** The resolved options. */
  options: ResolvedOnlineOptions;
  /** Rows seen. */
  t: number;
  /** Parameters and Adam moments, flat: W, U, b, Wo, bo. */
  params: number[][];
  /** Adam's first moments, per parameter. */
  m: number[][];
  /** Adam's second moments, per parameter. */
  v: number[][];
  /** Adam's step count. */
  adamT: number;
  /** The carried hidden state. */
  h: number[];
  /** Ring buffers of the last `memory` raw values and timestamps (oldest first). */
  values: number[];
  /** Their timestamps. */
  times: number[];
  /** Pending forecasts: preds[k][j] = ŷ for row t + j made at row t + j − k − 1 … stored as a ring of K×K. */
  preds: number[];
  /** The forecasts' spread, same ring. */
  predSd: number[];
  /** Forecasts made per row, same ring. */
  predCount: number[];
  /** The scaling's center. */
  center: number;
  /** The scaling's scale. */
  scale: number;
  /** The first fit has happened. */
  fitted: boolean;
  /** The sampler's state. */
  rng: number;
  /** The last timestamp, or null. */
  lastTime: number | null;
}

const KEYS = [
  'probation',
  'seed',
  'units',
  'window',
  'horizon',
  'score',
  'every',
  'steps',
  'batch',
  'lr',
  'initSteps',
  'fitAt',
  'memory',
  'warm',
  'normRate',
  'clip',
  'timeFeatures',
  'head',
  'transform',
  'sdFloor',
];

/**
 * An integer option in [min, max]. The maxima of the sizes (units, window, horizon, batch, memory) bound what the
 * forecaster allocates, so that a state file cannot make it allocate gigabytes before its arrays are compared.
 */
function int(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ArgumentError(`OnlineForecaster(options.${name})`, `an integer in [${min}, ${max}]`, describeValue(v));
  }
  return v;
}
function num(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new ArgumentError(`OnlineForecaster(options.${name})`, `a number in [${min}, ${max}]`, describeValue(v));
  }
  return v;
}

function transformOpt(v: unknown): 'abs' | 'square' | 'squash' {
  if (v !== 'abs' && v !== 'square' && v !== 'squash') {
    throw new ArgumentError('OnlineForecaster(options.transform)', "'abs', 'square' or 'squash'", describeValue(v));
  }
  return v;
}

function headOpt(v: unknown): 'point' | 'gaussian' {
  if (v !== 'point' && v !== 'gaussian') {
    throw new ArgumentError('OnlineForecaster(options.head)', "'point' or 'gaussian'", describeValue(v));
  }
  return v;
}

export function resolveOnlineOptions(o: OnlineOptions): ResolvedOnlineOptions {
  if (typeof o !== 'object' || o === null) throw new ArgumentError('OnlineForecaster(options)', 'an object', String(o));
  checkKeys(o, KEYS, 'OnlineForecaster(options)');
  const probation = int('probation', o.probation, 0);
  const window = int('window', o.window ?? 32, 2, 4096);
  const horizon = int('horizon', o.horizon ?? 8, 1, 256);
  const score = o.score ?? 'h1';
  if (score !== 'mean' && score !== 'h1' && score !== 'max') {
    throw new ArgumentError('OnlineForecaster(options.score)', "'mean', 'h1' or 'max'", describeValue(score));
  }
  const memory = int('memory', o.memory ?? 4096, window + horizon + 1, 1 << 20);
  const tf = o.timeFeatures ?? false;
  if (typeof tf !== 'boolean' && tf !== 'day' && tf !== 'day+week') {
    throw new ArgumentError(
      'OnlineForecaster(options.timeFeatures)',
      "a boolean, 'day' or 'day+week'",
      describeValue(tf),
    );
  }
  return {
    probation,
    seed: num('seed', o.seed ?? 1, -Infinity, Infinity),
    units: int('units', o.units ?? 16, 1, 1024),
    window,
    horizon,
    score,
    every: int('every', o.every ?? 32, 1),
    steps: int('steps', o.steps ?? 1, 0, 10_000),
    batch: int('batch', o.batch ?? 16, 2, 1024),
    lr: num('lr', o.lr ?? 0.001, 0, 1),
    initSteps: int('initSteps', o.initSteps ?? 150, 0, 1_000_000),
    fitAt: int('fitAt', o.fitAt ?? Math.max(Math.floor(probation / 2), window + horizon + 1), window + horizon + 1),
    memory,
    warm: int('warm', o.warm ?? 4, 0),
    normRate: num('normRate', o.normRate ?? 0, 0, 1),
    clip: num('clip', o.clip ?? 10, 0, Infinity),
    timeFeatures: tf,
    head: headOpt(o.head ?? 'point'),
    transform: transformOpt(o.transform ?? 'abs'),
    sdFloor: num('sdFloor', o.sdFloor ?? 0.7, 0, 100),
  };
}

const DAY = 86400000,
  WEEK = 7 * DAY;
const clampLv = (lv: number): number => (lv > 8 ? 8 : lv < -8 ? -8 : lv);

/** The forecaster; see the file comment. */
export class OnlineForecaster {
  /** The resolved options. */
  readonly options: ResolvedOnlineOptions;
  /** Inputs per row (1, plus the time features). */
  readonly D: number;
  private t = 0;
  private readonly params: Float64Array[];
  private readonly grads: Float64Array[];
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private adamT = 0;
  private readonly h: Float64Array;
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  private readonly preds: Float64Array; // ring [K][K]: row slot (t mod K), horizon k
  private readonly predSd: Float64Array; // the same ring: predictive σ (gaussian head; 1 for the point head)
  private readonly predCount: Uint8Array; // per (slot, k): 1 when a forecast is stored
  private center = 0;
  private scale = 1;
  private fitted = false;
  private rng: number;
  private lastTime: number | null = null;
  private readonly gru: GruParams;
  // workspaces
  private readonly ws: GruWorkspace;
  private readonly ws1: GruWorkspace;
  private readonly xTrain: Float64Array;
  private readonly yTrain: Float64Array;
  private readonly target: Float64Array;
  private readonly dh0: Float64Array;
  private readonly dhSeq: Float64Array;
  private readonly x1: Float64Array;
  private readonly y1: Float64Array;

  /**
   * @param options - probation (required) and the forecaster's settings.
   * @throws {@link ArgumentError} for a missing probation, an option out of range, or an unknown key.
   */
  constructor(options: OnlineOptions) {
    const o = (this.options = resolveOnlineOptions(options));
    const D = (this.D = o.timeFeatures === false ? 1 : o.timeFeatures === 'day' ? 3 : 5);
    const H = o.units,
      K = o.horizon,
      T = o.window,
      B = o.batch,
      G = 3 * H;
    const rand = makeRandom(o.seed);
    const W = new Float64Array(D * G),
      U = new Float64Array(H * G),
      b = new Float64Array(gruBiasLength(H, true));
    const N = o.head === 'gaussian' ? 2 * K : K;
    const Wo = new Float64Array(H * N),
      bo = new Float64Array(N);
    glorotUniform(W, D, G, rand);
    orthogonal(U, H, G, rand);
    glorotUniform(Wo, H, N, rand);
    this.params = [W, U, b, Wo, bo];
    this.gru = { W, U, b };
    this.grads = this.params.map((p) => new Float64Array(p.length));
    this.m = this.params.map((p) => new Float64Array(p.length));
    this.v = this.params.map((p) => new Float64Array(p.length));
    this.rng = (Math.floor(rand.uniform() * 0xffffffff) | 1) >>> 0;
    this.h = new Float64Array(H);
    this.values = new Float64Array(o.memory);
    this.times = new Float64Array(o.memory);
    this.preds = new Float64Array(K * K);
    this.predSd = new Float64Array(K * K).fill(1);
    this.predCount = new Uint8Array(K * K);
    this.ws = gruWorkspace(T, B, D, H, Float64Array);
    this.ws1 = gruWorkspace(1, 1, D, H, Float64Array);
    this.xTrain = new Float64Array(T * B * D);
    this.yTrain = new Float64Array(T * B * N);
    this.target = new Float64Array(T * B * K);
    this.dh0 = new Float64Array(B * H);
    this.dhSeq = new Float64Array(T * B * H);
    this.x1 = new Float64Array(D);
    this.y1 = new Float64Array(N);
  }

  private nextU32(): number {
    let x = this.rng;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.rng = x;
    return x;
  }

  private norm(v: number): number {
    const z = (v - this.center) / this.scale,
      c = this.options.clip;
    return z > c ? c : z < -c ? -c : z;
  }

  private features(out: Float64Array, off: number, v: number, time: number): void {
    out[off] = this.norm(v);
    if (this.D > 1) {
      const d = (((time % DAY) + DAY) % DAY) / DAY,
        w = (((time % WEEK) + WEEK) % WEEK) / WEEK;
      out[off + 1] = Math.sin(2 * Math.PI * d);
      out[off + 2] = Math.cos(2 * Math.PI * d);
      if (this.D > 3) {
        out[off + 3] = Math.sin(2 * Math.PI * w);
        out[off + 4] = Math.cos(2 * Math.PI * w);
      }
    }
  }

  /** Rows seen so far. */
  get rows(): number {
    return this.t;
  }
  /** The last row's timestamp (epoch ms), null if none was given. */
  get lastTimestamp(): number | null {
    return this.lastTime;
  }

  /**
   * One row: returns its raw score (≥ 0; 0 before the first fit). timestamp: epoch ms, needed with timeFeatures.
   *
   * @param value - The row's value (finite).
   * @param timestamp - Epoch ms, needed with time features.
   * @returns The raw score.
   * @throws {@link ArgumentError} for a non-finite value, or a missing or decreasing timestamp when needed.
   */
  step(value: number, timestamp?: number): number {
    const score = this.scoreRow(value, timestamp);
    if (this.learnsNow()) drain(this.learn()); // a generator only on the rows that learn: the others stay allocation-free
    this.finishRow(value, timestamp);
    return score;
  }

  /**
   * `step` as a training loop (lib/model/fit-loop.ts) that yields a 'step' event after each Adam step, so that a
   * Detector's fitAsync can give the event loop a turn within the probation's first fit; drained, it is `step`.
   *
   * @param value - The row's value (finite).
   * @param timestamp - Epoch ms, needed with time features.
   * @returns A generator whose return value is the raw score.
   */
  *stepLoop(value: number, timestamp?: number): FitLoop<number> {
    const score = this.scoreRow(value, timestamp);
    if (this.learnsNow()) yield* this.learn();
    this.finishRow(value, timestamp);
    return score;
  }

  /**
   * Whether the next row ends with Adam steps (the first fit, or every `every` rows after it).
   *
   * @returns True when the next `step` learns (OnlinePipeline drives only those rows through `stepLoop`).
   */
  learnsNext(): boolean {
    const o = this.options,
      t = this.t + 1;
    return this.fitted ? (t - o.fitAt) % o.every === 0 : t >= o.fitAt;
  }

  /** After scoreRow: whether this row learns (learnsNext as it was before the row). */
  private learnsNow(): boolean {
    const o = this.options;
    return this.fitted ? (this.t - o.fitAt) % o.every === 0 : this.t >= o.fitAt;
  }

  /** A row's learning: the first fit, or `steps` Adam steps; a 'step' event after each. */
  private *learn(): FitLoop<void> {
    if (!this.fitted) {
      yield* this.firstFit();
      return;
    }
    for (let s = 0; s < this.options.steps; s++) {
      this.trainStep(true);
      yield STEP;
    }
  }

  /** A row's first half: checks, stores the row, scores it against the pending forecasts; counts it. */
  private scoreRow(value: number, timestamp: number | undefined): number {
    const o = this.options;
    if (!Number.isFinite(value)) {
      throw new ArgumentError('OnlineForecaster.step(value)', 'a finite number', `${value} at row ${this.t}`);
    }
    let time = 0;
    if (o.timeFeatures !== false) {
      if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
        throw new ArgumentError(
          'OnlineForecaster.step(timestamp)',
          'epoch milliseconds',
          `${String(timestamp)} at row ${this.t}`,
          {
            problem: `timeFeatures needs epoch-ms timestamps, got ${String(timestamp)} at row ${this.t}`,
          },
        );
      }
      time = timestamp;
    } else if (timestamp !== undefined && !Number.isFinite(timestamp)) {
      throw new ArgumentError(
        'OnlineForecaster.step(timestamp)',
        'epoch milliseconds',
        `${String(timestamp)} at row ${this.t}`,
      );
    }
    const t = this.t,
      M = o.memory,
      K = o.horizon;
    this.values[t % M] = value;
    this.times[t % M] = time;
    this.lastTime = timestamp ?? null;
    let score = 0;
    if (this.fitted) {
      const vn = this.norm(value),
        slot = t % K;
      let s = 0,
        n = 0,
        mx = 0;
      for (let k = 0; k < K; k++) {
        const i = slot * K + k;
        if (this.predCount[i] === 0 || (o.score === 'h1' && k > 0)) continue;
        const e = Math.abs(vn - this.preds[i]) / this.predSd[i];
        s += e;
        n++;
        if (e > mx) mx = e;
      }
      for (let k = 0; k < K; k++) this.predCount[slot * K + k] = 0;
      score = n === 0 ? 0 : o.score === 'max' ? mx : s / n;
      if (o.transform === 'square') score *= score;
      else if (o.transform === 'squash') score = 1 - Math.exp(-score);
      if (o.normRate > 0) {
        const r = o.normRate;
        const dev = value - this.center;
        this.center += r * dev;
        const a = Math.abs(dev) * 1.2533; // E|x−μ| = σ·sqrt(2/π)
        this.scale = Math.max((1 - r) * this.scale + r * a, this.scale * 0.5);
      }
    }
    this.t++;
    return score;
  }

  /** A row's second half, after its learning: the forecasts for the next rows. */
  private finishRow(value: number, timestamp: number | undefined): void {
    if (this.fitted) this.advance(value, this.options.timeFeatures === false ? 0 : (timestamp as number));
  }

  /** Feeds the current row to the streaming GRU and stores the K forecasts it makes. */
  private advance(value: number, time: number): void {
    const o = this.options,
      H = o.units,
      K = o.horizon;
    this.features(this.x1, 0, value, time);
    this.ws1.h.set(this.h);
    gruForward(this.ws1, this.gru, this.x1);
    for (let j = 0; j < H; j++) this.h[j] = this.ws1.h[H + j];
    const N = o.head === 'gaussian' ? 2 * K : K;
    denseForward(this.y1, this.h, this.params[3], this.params[4], 1, H, N, Act.Linear);
    const t = this.t - 1; // this row's index; forecasts for rows t+1 … t+K
    for (let k = 0; k < K; k++) {
      const slot = (t + 1 + k) % K,
        i = slot * K + k;
      this.preds[i] = this.y1[k];
      if (N > K) this.predSd[i] = Math.exp(0.5 * clampLv(this.y1[K + k]));
      this.predCount[i] = 1;
    }
  }

  private *firstFit(): FitLoop<void> {
    const o = this.options,
      n = Math.min(this.t, o.memory);
    const xs: number[] = [];
    for (let i = this.t - n; i < this.t; i++) xs.push(this.values[i % o.memory]);
    const sorted = [...xs].sort((a, b) => a - b);
    const med = sorted[Math.floor(sorted.length / 2)];
    const dev = xs.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
    const mad = 1.4826 * dev[Math.floor(dev.length / 2)];
    let mean = 0;
    for (const x of xs) mean += x;
    mean /= n;
    let sd = 0;
    for (const x of xs) sd += (x - mean) ** 2;
    sd = Math.sqrt(sd / n);
    this.center = med;
    this.scale = Math.max(mad, o.sdFloor * sd, 1e-6 * (1 + Math.abs(med)));
    this.fitted = true;
    for (let s = 0; s < o.initSteps; s++) {
      this.trainStep(false);
      yield STEP;
    }
    // warm the streaming state over the last window rows
    this.h.fill(0);
    const T = o.window;
    for (let i = Math.max(0, this.t - 1 - T); i < this.t - 1; i++) {
      this.features(this.x1, 0, this.values[i % o.memory], this.times[i % o.memory]);
      this.ws1.h.set(this.h);
      gruForward(this.ws1, this.gru, this.x1);
      for (let j = 0; j < o.units; j++) this.h[j] = this.ws1.h[o.units + j];
    }
  }

  /** One Adam step on B windows; recent: half of them end at the newest rows. */
  private trainStep(recent: boolean): void {
    const o = this.options,
      T = o.window,
      K = o.horizon,
      B = o.batch,
      D = this.D,
      H = o.units,
      M = o.memory;
    const L = T + K,
      avail = Math.min(this.t, M),
      oldest = this.t - avail;
    const span = avail - L + 1; // possible window starts: oldest … oldest + span − 1
    if (span < 1) return;
    const x = this.xTrain,
      tg = this.target;
    for (let b = 0; b < B; b++) {
      let start: number;
      if (recent && b < B / 2) start = this.t - L - Math.floor((b * o.every) / (B / 2));
      else start = oldest + (this.nextU32() % span);
      if (start < oldest) start = oldest + (this.nextU32() % span);
      for (let i = 0; i < L; i++) {
        const r = (start + i) % M;
        const v = this.values[r],
          tm = this.times[r];
        if (i < T) this.features(x, (i * B + b) * D, v, tm);
        const vn = this.norm(v);
        for (let k = 0; k < K; k++) {
          // row i is target k of step i − 1 − k
          const s = i - 1 - k;
          if (s >= 0 && s < T) tg[(s * B + b) * K + k] = vn;
        }
      }
    }
    const [W, U, bb, Wo, bo] = this.params as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    const ws = this.ws;
    ws.h.fill(0, 0, B * H);
    gruForward(ws, { W, U, b: bb }, x);
    const hs = ws.h.subarray(B * H);
    const y = this.yTrain;
    const N = o.head === 'gaussian' ? 2 * K : K,
      warm = Math.min(o.warm, T - 1);
    denseForward(y, hs, Wo, bo, T * B, H, N, Act.Linear);
    const count = (T - warm) * B * K;
    for (let r = 0; r < T * B; r++) {
      const skip = r < warm * B;
      for (let k = 0; k < K; k++) {
        const i = r * N + k,
          d = tg[r * K + k] - y[i];
        if (skip) {
          y[i] = 0;
          if (N > K) y[i + K] = 0;
          continue;
        }
        if (N === K) {
          y[i] = (-2 * d) / count;
          continue;
        }
        const raw = y[i + K],
          lv = clampLv(raw),
          iv = Math.exp(-lv);
        y[i] = (-d * iv) / count; // ∂/∂μ of ½(lv + d²/σ²)
        y[i + K] = raw === lv ? (0.5 * (1 - d * d * iv)) / count : 0; // ∂/∂lv (0 where clamped)
      }
    }
    for (const g of this.grads) g.fill(0);
    const [dW, dU, db, dWo, dbo] = this.grads as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    const dhSeq = this.dhSeq;
    denseBackward(dWo, dbo, dhSeq, y, y, hs, Wo, T * B, H, N, Act.Linear, y);
    gruBackward({ dW, dU, db }, null, this.dh0, dhSeq, null, ws, { W, U, b: bb }, x);
    clipByGlobalNorm(this.grads, 1);
    this.adamT++;
    for (let p = 0; p < this.params.length; p++) {
      const w = this.params[p];
      adamUpdate(w, this.grads[p], this.m[p], this.v[p], w.length, o.lr, 0.9, 0.999, 1e-7, this.adamT);
    }
  }

  /**
   * The whole state as plain JSON (weights, Adam moments, buffers, counters, sampler state).
   *
   * @returns The state, as plain JSON.
   */
  getState(): OnlineState {
    const o = this.options,
      M = o.memory,
      n = Math.min(this.t, M);
    const values: number[] = [],
      times: number[] = [];
    for (let i = this.t - n; i < this.t; i++) {
      values.push(this.values[i % M]);
      times.push(this.times[i % M]);
    }
    return {
      version: 1,
      options: { ...o },
      t: this.t,
      params: this.params.map((p) => Array.from(p)),
      m: this.m.map((p) => Array.from(p)),
      v: this.v.map((p) => Array.from(p)),
      adamT: this.adamT,
      h: Array.from(this.h),
      values,
      times,
      preds: Array.from(this.preds),
      predSd: Array.from(this.predSd),
      predCount: Array.from(this.predCount),
      center: this.center,
      scale: this.scale,
      fitted: this.fitted,
      rng: this.rng,
      lastTime: this.lastTime,
    };
  }

  /**
   * Rebuilds a forecaster from `getState()` output (e.g. after a JSON round trip); every field is checked.
   *
   * @param state - `getState()` output.
   * @returns The forecaster, continuing bit for bit.
   * @throws {@link ArgumentError} for a missing or invalid field.
   */
  static fromState(state: unknown): OnlineForecaster {
    const bad = (field: string, want: string, got: unknown): never => {
      throw new ArgumentError(`OnlineForecaster.fromState(state.${field})`, `${want}`, describeValue(got));
    };
    if (typeof state !== 'object' || state === null) bad('', 'an object', state);
    const s = state as Record<string, unknown>;
    if (s.version !== 1) bad('version', '1', s.version);
    const f = new OnlineForecaster(s.options as OnlineOptions);
    const o = f.options;
    const arr = (name: string, v: unknown, len: number): number[] => {
      if (!Array.isArray(v) || v.length !== len || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
        bad(name, `${len} finite numbers`, v);
      return v as number[];
    };
    const nonNegInt = (name: string, v: unknown): number =>
      typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : bad(name, 'a non-negative integer', v);
    const fin = (name: string, v: unknown): number =>
      typeof v === 'number' && Number.isFinite(v) ? v : bad(name, 'a finite number', v);
    f.t = nonNegInt('t', s.t);
    for (const key of ['params', 'm', 'v'] as const) {
      const list = s[key];
      if (!Array.isArray(list) || list.length !== f.params.length) bad(key, `${f.params.length} arrays`, list);
      (list as unknown[]).forEach((a, i) => f[key][i]?.set(arr(`${key}[${i}]`, a, f.params[i].length)));
    }
    f.adamT = nonNegInt('adamT', s.adamT);
    f.h.set(arr('h', s.h, o.units));
    const n = Math.min(f.t, o.memory);
    const values = arr('values', s.values, n),
      times = arr('times', s.times, n);
    for (let i = 0; i < n; i++) {
      const r = (f.t - n + i) % o.memory;
      f.values[r] = values[i];
      f.times[r] = times[i];
    }
    f.preds.set(arr('preds', s.preds, o.horizon * o.horizon));
    const sd = arr('predSd', s.predSd, o.horizon * o.horizon);
    if (!sd.every((x) => x > 0)) bad('predSd', 'positive numbers', sd);
    f.predSd.set(sd);
    const pc = arr('predCount', s.predCount, o.horizon * o.horizon);
    if (!pc.every((x) => x === 0 || x === 1)) bad('predCount', 'entries 0 or 1', pc);
    f.predCount.set(pc);
    f.center = fin('center', s.center);
    f.scale = fin('scale', s.scale);
    if (!(f.scale > 0)) bad('scale', 'a positive number', s.scale);
    if (typeof s.fitted !== 'boolean') bad('fitted', 'a boolean', s.fitted);
    f.fitted = s.fitted as boolean;
    const rng = nonNegInt('rng', s.rng);
    if (rng === 0 || rng > 0xffffffff) bad('rng', 'a 32-bit non-zero integer', rng);
    f.rng = rng;
    f.lastTime = s.lastTime === null ? null : fin('lastTime', s.lastTime);
    return f;
  }

  /**
   * Runs step over every row (the same bits as stepping). timestamps: epoch ms, same length, or omitted.
   *
   * @param values - The rows' values.
   * @param timestamps - Epoch ms per row, or omitted.
   * @returns The raw scores.
   * @throws {@link ArgumentError} as step does, or for mismatched lengths.
   */
  scoreBatch(values: ArrayLike<number>, timestamps?: ArrayLike<number>): Float64Array {
    if (timestamps !== undefined && timestamps.length !== values.length) {
      throw new ArgumentError(
        'OnlineForecaster.scoreBatch(timestamps)',
        `${values.length} timestamps (values.length)`,
        `${timestamps.length}`,
      );
    }
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++)
      out[i] = this.step(values[i], timestamps === undefined ? undefined : timestamps[i]);
    return out;
  }
}

/** Options of {@link OnlinePipeline.create}. */
export interface OnlinePipelineOptions {
  /** Rows before scoring starts (NAB: min(⌊0.15·N⌋, 750)); the model's first fit and the likelihood's fit happen in it. */
  probation: number;
  /** Seed of the forecaster. Default 1. */
  seed?: number;
  /** Forecaster options (probation and seed come from above). Defaults: OnlineForecaster's. */
  model?: Omit<OnlineOptions, 'probation' | 'seed'>;
  /** A second forecaster with time-of-day inputs whose error feeds only the alarm's long channel (needs timestamps and
   *  alarm.longWindow > 0): judges whole stretches against the time of day (a flat or lowered day) at no cost to NAB
   *  (69.8 vs 70.0), twice the compute. Default false. */
  context?: boolean;
  /** Alarm-stage options (probation comes from above). Defaults: longWindow 100, rest round(0.2·probation), the rest
   *  as AlarmStage (HTM threshold 0.5422, spatial tolerance 0.05). rest 0.2·P is CAD OSE's P/5; on NAB it scored 70.0
   *  (69.4–70.6) against 69.4 (68.5–70.1) with 0.1·P. */
  alarm?: Omit<AlarmOptions, 'probation'>;
}

/** An {@link OnlinePipeline}'s whole state, plain JSON. */
export interface OnlinePipelineState {
  /** The state format's version. */
  version: 1;
  /** The forecaster's state. */
  model: OnlineState;
  /** The context forecaster (context: true), else null. */
  context: OnlineState | null;
  /** The alarm stage's state. */
  alarm: AlarmState;
}

/**
 * The forecaster and the alarm stage as one causal, serialisable detector (the configuration the NAB evaluation chose):
 * step(value, timestamp?) → { raw, score, flag }; batch() gives the same bits; getState()/fromState() continue bit for bit.
 */
export class OnlinePipeline {
  private constructor(
    /** The forecaster whose errors are the raw scores. */
    readonly model: OnlineForecaster,
    /** The alarm stage that calibrates them. */
    readonly alarm: AlarmStage,
    /** The time-of-day forecaster feeding the slow channel, or null. */
    readonly context: OnlineForecaster | null,
  ) {}

  /** The last row's raw score (stepInto's result; NaN before the first row). @internal */
  raw = NaN;
  /** The last row's score in [0, 1]. @internal */
  score = NaN;
  /** The last row's flag. @internal */
  flag = false;

  /**
   * A new pipeline.
   *
   * @param options - probation (required), the forecaster's and the alarm stage's options, context.
   * @returns The pipeline, before its first row.
   * @throws {@link ArgumentError} for a missing probation, an option out of range, or an unknown key.
   * @example
   * ```ts
   * import { OnlinePipeline } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const values = Array.from({ length: 300 }, (_, i) => Math.sin(i / 5) + (i === 250 ? 6 : 0));
   * const a = OnlinePipeline.create({ probation: 100 });
   * const first = values.slice(0, 200).map((v) => a.step(v));
   * assert.ok(first.slice(0, 100).every((r) => !r.flag)); // no flag during probation
   * const b = OnlinePipeline.fromState(JSON.parse(JSON.stringify(a.getState())));
   * const rest = values.slice(200);
   * assert.deepEqual(b.batch(rest), a.batch(rest)); // a saved state continues bit for bit
   * ```
   */
  static create(options: OnlinePipelineOptions): OnlinePipeline {
    if (typeof options !== 'object' || options === null) {
      throw new ArgumentError('OnlinePipeline(options)', 'an object', String(options));
    }
    checkKeys(options, ['probation', 'seed', 'model', 'alarm', 'context'], 'OnlinePipeline(options)');
    const P = options.probation;
    if (typeof P !== 'number' || !Number.isInteger(P) || P < 0) {
      throw new ArgumentError('OnlinePipeline(options.probation)', 'an integer ≥ 0', describeValue(P));
    }
    const model = new OnlineForecaster({ ...(options.model ?? {}), probation: P, seed: options.seed ?? 1 });
    const alarm = new AlarmStage({
      longWindow: 100,
      rest: Math.round(0.2 * P),
      ...(options.alarm ?? {}),
      probation: P,
    });
    const ctx = options.context ?? false;
    if (typeof ctx !== 'boolean') {
      throw new ArgumentError('OnlinePipeline(options.context)', 'a boolean', describeValue(ctx));
    }
    if (ctx && alarm.options.longWindow === 0) {
      throw new ArgumentError('OnlinePipeline(options.context)', 'alarm.longWindow > 0', 'longWindow 0', {
        problem: 'needs alarm.longWindow > 0 (the context model feeds the long channel)',
      });
    }
    const context = ctx
      ? new OnlineForecaster({
          ...(options.model ?? {}),
          timeFeatures: 'day',
          probation: P,
          seed: (options.seed ?? 1) * 7919 + 1,
        })
      : null;
    return new OnlinePipeline(model, alarm, context);
  }

  /**
   * One row: the forecaster's raw score, then the alarm stage's calibrated score and flag.
   *
   * @param value - The row's value (finite).
   * @param timestamp - Epoch ms, needed with time features.
   * @returns raw, score (in [0, 1]) and flag.
   * @throws {@link ArgumentError} for a non-finite value, or a missing or decreasing timestamp when needed.
   */
  step(value: number, timestamp?: number): { raw: number; score: number; flag: boolean } {
    this.stepInto(value, timestamp);
    return { raw: this.raw, score: this.score, flag: this.flag };
  }

  /**
   * `step` without the result object (what a detector stream's push runs): the row's raw score, score and flag are
   * then in {@link OnlinePipeline.raw}, {@link OnlinePipeline.score} and {@link OnlinePipeline.flag}.
   *
   * @internal
   * @param value - The row's value (finite).
   * @param timestamp - Epoch ms, needed with time features.
   * @throws {@link ArgumentError} as step does.
   */
  stepInto(value: number, timestamp?: number): void {
    const raw = this.model.step(value, timestamp);
    const out =
      this.context === null
        ? this.alarm.step(raw, value)
        : this.alarm.step(raw, value, this.context.step(value, timestamp));
    this.raw = raw;
    this.score = out.score;
    this.flag = out.flag;
  }

  /**
   * `step` as a training loop that yields after each Adam step of either forecaster (OnlineForecaster.stepLoop).
   *
   * @param value - The row's value (finite).
   * @param timestamp - Epoch ms, needed with time features.
   * @returns A generator whose return value is step's result.
   */
  *stepLoop(value: number, timestamp?: number): FitLoop<{ raw: number; score: number; flag: boolean }> {
    const raw = yield* this.model.stepLoop(value, timestamp);
    const out =
      this.context === null
        ? this.alarm.step(raw, value)
        : this.alarm.step(raw, value, yield* this.context.stepLoop(value, timestamp));
    return { raw, score: out.score, flag: out.flag };
  }

  /**
   * `step` over every row (the same bits).
   *
   * @param values - The rows' values.
   * @param timestamps - Epoch ms per row, or omitted.
   * @returns The raw scores, calibrated scores and flags of every row.
   * @throws {@link ArgumentError} as step does, or for mismatched lengths.
   */
  batch(
    values: ArrayLike<number>,
    timestamps?: ArrayLike<number>,
  ): { raw: Float64Array; scores: Float64Array; flags: Uint8Array } {
    return drain(this.batchLoop(values, timestamps));
  }

  /**
   * `batch` as a training loop (what a Detector's fit runs as the probation; see stepLoop).
   *
   * @param values - The rows' values.
   * @param timestamps - Epoch ms per row, or omitted.
   * @returns A generator whose return value is batch's result.
   */
  *batchLoop(
    values: ArrayLike<number>,
    timestamps?: ArrayLike<number>,
  ): FitLoop<{ raw: Float64Array; scores: Float64Array; flags: Uint8Array }> {
    if (timestamps !== undefined && timestamps.length !== values.length) {
      throw new ArgumentError(
        'OnlinePipeline.batch(timestamps)',
        `${values.length} timestamps (values.length)`,
        `${timestamps.length}`,
      );
    }
    const n = values.length,
      raw = new Float64Array(n),
      scores = new Float64Array(n),
      flags = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const ts = timestamps === undefined ? undefined : timestamps[i];
      // The generator only for rows that learn (it yields within them); the others take the plain step, same bits.
      const learns = this.model.learnsNext() || (this.context !== null && this.context.learnsNext());
      const o = learns ? yield* this.stepLoop(values[i], ts) : this.step(values[i], ts);
      raw[i] = o.raw;
      scores[i] = o.score;
      flags[i] = o.flag ? 1 : 0;
    }
    return { raw, scores, flags };
  }

  /**
   * The whole state, plain JSON.
   *
   * @returns The forecaster's, the context forecaster's and the alarm stage's states.
   */
  getState(): OnlinePipelineState {
    return {
      version: 1,
      model: this.model.getState(),
      context: this.context === null ? null : this.context.getState(),
      alarm: this.alarm.getState(),
    };
  }

  /**
   * Rebuilds a pipeline from `getState()` output (e.g. after a JSON round trip); every field is checked.
   *
   * @param state - `getState()` output.
   * @returns The pipeline, continuing bit for bit.
   * @throws {@link ArgumentError} for a missing or invalid field.
   */
  static fromState(state: unknown): OnlinePipeline {
    if (typeof state !== 'object' || state === null) {
      throw new ArgumentError('OnlinePipeline.fromState(state)', 'an object', String(state));
    }
    const s = state as Record<string, unknown>;
    if (s.version !== 1) {
      throw new ArgumentError('OnlinePipeline.fromState(state.version)', '1', describeValue(s.version));
    }
    const model = OnlineForecaster.fromState(s.model),
      alarm = AlarmStage.fromState(s.alarm);
    const context = s.context === null || s.context === undefined ? null : OnlineForecaster.fromState(s.context);
    if (model.rows !== alarm.rows || (context !== null && context.rows !== model.rows)) {
      throw new ArgumentError(
        'OnlinePipeline.fromState(state)',
        'equal row counts',
        `model, context and alarm have seen different row counts (${model.rows}, ${context?.rows ?? '-'}, ${alarm.rows})`,
        {
          problem: `model, context and alarm have seen different row counts (${model.rows}, ${context?.rows ?? '-'}, ${alarm.rows})`,
        },
      );
    }
    if (context !== null && (context.options.timeFeatures !== 'day' || alarm.options.longWindow === 0)) {
      throw new ArgumentError(
        'OnlinePipeline.fromState(state.context)',
        "a 'day' time-feature model and an alarm with longWindow > 0",
        "expected a 'day' time-feature model and an alarm with longWindow > 0",
        {
          problem: "expected a 'day' time-feature model and an alarm with longWindow > 0",
        },
      );
    }
    return new OnlinePipeline(model, alarm, context);
  }
}

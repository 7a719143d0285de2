/**
 * What the lab's Web Worker runs, without the worker around it (so Node specs run it too): the messages between the page
 * and the worker, a Trainer that trains a LabModel on a series in chunks of steps and snapshots what the page draws, and
 * the Detector run on the same series.
 */
import { LabModel, type Inspection, type LabModelOptions } from './model.js';
import { moments } from './series.js';
import { makeRandom, type Random } from '../lib/random.js';
import { Detector } from '../lib/detect/detector.js';
import type { AttentionMaps } from '../lib/detect/networks.js';
import type { DetectorOptions } from '../lib/detect/types.js';
import { getBackend } from '../lib/backend.js';

/**
 * Which Detector the worker fits: the autoencoder of the lab's cell ('rnn-ae', 'lstm-ae', 'gru-ae'), one of the
 * convolutional and attention models ('conv-ae', 'tcn-forecast', 'lstm-attn-ae'), 'auto', or none.
 */
export type DetectorChoice = 'cell-ae' | 'conv-ae' | 'tcn-forecast' | 'lstm-attn-ae' | 'auto' | 'none';
/** The choices, for checks. */
export const DETECTOR_CHOICES: readonly DetectorChoice[] = [
  'cell-ae',
  'conv-ae',
  'tcn-forecast',
  'lstm-attn-ae',
  'auto',
  'none',
];

/**
 * The Detector options of a choice, from the lab's model options (H units, window T): the window is T up to 64 (for
 * 'conv-ae' rounded down to a multiple of 4, which its two stride-2 convolutions need), 10 epochs, the lab's seed.
 *   cell-ae       the cell's sequence autoencoder, H units
 *   conv-ae       filters [H, ⌈H/2⌉] (SKAB's Conv-AE halves them)
 *   tcn-forecast  three causal convolutions of H filters, dilations 1, 2, 4
 *   lstm-attn-ae  an LSTM encoder of H units and an attention decoder over its states
 */
export function detectorOptions(choice: DetectorChoice, o: LabModelOptions): DetectorOptions {
  const W = Math.min(o.window, 64),
    H = o.hidden,
    base = { epochs: 10, seed: o.seed };
  switch (choice) {
    case 'cell-ae':
      return { ...base, model: `${o.cell}-ae`, window: W, hidden: H };
    case 'conv-ae':
      return { ...base, model: 'conv-ae', window: Math.max(4, W - (W % 4)), hidden: [H, Math.ceil(H / 2)] };
    case 'tcn-forecast':
      return { ...base, model: 'tcn-forecast', window: W, hidden: [H, H, H] };
    case 'lstm-attn-ae':
      return { ...base, model: 'lstm-attn-ae', window: W, hidden: H };
    case 'auto':
      return { seed: o.seed };
    default:
      throw new RangeError(`train(detector): expected one of ${DETECTOR_CHOICES.join(', ')}, got ${String(choice)}`);
  }
}

/** Model 'lstm-attn-ae': the attention weights of one window [start, start + window) of the series. */
export interface AttentionWindow {
  /** The window's first point. */
  start: number;
  /** W: decoder and encoder steps. */
  window: number;
  /** [W, W] row-major: weights[i·W + j] = α_ij, how much decoder step i used encoder step j (each row sums to 1). */
  weights: Float32Array;
}

/** page → worker: train a fresh model (replaces any run in progress). */
export interface TrainRequest {
  type: 'train';
  /** Run id, echoed in every reply (replies of an older run are ignored by the page). */
  id: number;
  options: LabModelOptions;
  /** Adam steps in total, and windows per step. */
  steps: number;
  batch: number;
  series: number[];
  /** Start of the window the step-by-step views show; -1: the window that ends just before the largest |z| value. */
  inspectAt: number;
  detector: DetectorChoice;
}
/** page → worker: stop the run after the current chunk; or show another window (also after training ends). */
export type PageMessage = TrainRequest | { type: 'stop' } | { type: 'inspect'; id: number; at: number };

export interface ProgressMessage {
  type: 'progress';
  id: number;
  step: number;
  steps: number;
  /** Minibatch losses of the steps since the previous message. */
  losses: number[];
  inspectAt: number;
  inspection: Inspection;
  /** [n] one-step forecasts in the series' units (NaN for the first T points, which have no full window). */
  forecast: Float64Array;
}
export interface DetectorMessage {
  type: 'detector';
  id: number;
  model: string;
  scores: Float64Array;
  flags: Uint8Array;
  thresholds: Float64Array;
  threshold: number;
  firstScored: number;
  events: { start: number; end: number }[];
  /** The backend the worker's kernels ran on ('wasm' where WebAssembly SIMD validates, else 'js'). */
  backend: string;
  /** Model 'lstm-attn-ae': the attention of the window ending at the highest flagged score (else the highest score). */
  attention: AttentionWindow | null;
}
/** worker → page: model 'lstm-attn-ae', the attention of the window the page asked for with 'inspect'. */
export interface AttentionMessage {
  type: 'attention';
  id: number;
  attention: AttentionWindow;
}
export type WorkerMessage =
  | ProgressMessage
  | DetectorMessage
  | AttentionMessage
  | { type: 'done'; id: number; step: number; stopped: boolean }
  | { type: 'error'; id: number; message: string };

export class Trainer {
  readonly model: LabModel;
  readonly T: number;
  readonly n: number;
  inspectAt: number;
  step = 0;
  private readonly z: Float64Array;
  private readonly mean: number;
  private readonly std: number;
  private readonly rng: Random;
  private readonly xb: Float64Array;
  private readonly yb: Float64Array;
  private readonly xAll: Float64Array;
  /** Model 'lstm-attn-ae', after detect(): the attention weights of every window of the series. */
  private attention: AttentionMaps | null = null;

  constructor(readonly request: TrainRequest) {
    const { options, series, batch, steps } = request;
    this.model = new LabModel(options);
    const T = (this.T = options.window);
    this.n = series.length;
    if (this.n < T + 2) {
      throw new RangeError(`train(series): expected at least window + 2 = ${T + 2} points, got ${this.n}`);
    }
    if (!Number.isInteger(batch) || batch < 1 || batch > 256) {
      throw new RangeError(`train(batch): expected an integer from 1 to 256, got ${String(batch)}`);
    }
    if (!DETECTOR_CHOICES.includes(request.detector)) {
      throw new RangeError(
        `train(detector): expected one of ${DETECTOR_CHOICES.join(', ')}, got ${JSON.stringify(request.detector)}`,
      );
    }
    if (!Number.isInteger(steps) || steps < 1 || steps > 100000) {
      throw new RangeError(`train(steps): expected an integer from 1 to 100000, got ${String(steps)}`);
    }
    const m = moments(series);
    this.mean = m.mean;
    this.std = m.std;
    this.z = Float64Array.from(series, (v) => (v - m.mean) / m.std);
    this.rng = makeRandom(options.seed + 1);
    this.xb = new Float64Array(T * batch);
    this.yb = new Float64Array(batch);
    // Every window of the series, time-major [T, n − T], for the forecast view.
    const W = this.n - T;
    this.xAll = new Float64Array(T * W);
    for (let w = 0; w < W; w++) for (let t = 0; t < T; t++) this.xAll[t * W + w] = this.z[w + t];
    this.inspectAt = this.windowStart(request.inspectAt);
  }

  /** A window start in 0…n−T−1 (-1: the window just before the largest |z|). */
  windowStart(at: number): number {
    const last = this.n - this.T - 1;
    if (at === -1) {
      let best = this.T;
      for (let i = this.T; i < this.n; i++) if (Math.abs(this.z[i]) > Math.abs(this.z[best])) best = i;
      return best - this.T;
    }
    if (!Number.isInteger(at) || at < 0 || at > last) {
      throw new RangeError(`inspect(at): expected a window start from 0 to ${last} (or -1), got ${String(at)}`);
    }
    return at;
  }

  get done(): boolean {
    return this.step >= this.request.steps;
  }

  /** Up to k Adam steps on random minibatches; returns their losses. */
  chunk(k: number): number[] {
    const { batch } = this.request,
      T = this.T,
      W = this.n - T;
    const losses: number[] = [];
    for (let s = 0; s < k && !this.done; s++) {
      for (let b = 0; b < batch; b++) {
        const w = this.rng.int(W);
        for (let t = 0; t < T; t++) this.xb[t * batch + b] = this.z[w + t];
        this.yb[b] = this.z[w + T];
      }
      losses.push(this.model.trainStep(this.xb, this.yb, batch));
      this.step++;
    }
    return losses;
  }

  /** The views' data now: the inspected window step by step and the forecast of every point. */
  snapshot(losses: number[]): ProgressMessage {
    const T = this.T,
      W = this.n - T;
    const x = this.z.subarray(this.inspectAt, this.inspectAt + T);
    const { grads: _grads, ...inspection } = this.model.inspect(x, this.z[this.inspectAt + T]);
    const yHat = this.model.predict(this.xAll, W);
    const forecast = new Float64Array(this.n).fill(NaN);
    for (let w = 0; w < W; w++) forecast[w + T] = yHat[w] * this.std + this.mean;
    return {
      type: 'progress',
      id: this.request.id,
      step: this.step,
      steps: this.request.steps,
      losses,
      inspectAt: this.inspectAt,
      inspection,
      forecast,
    };
  }

  /** Fits the chosen Detector on the series and detects on it (null when the choice is 'none'). */
  detect(): DetectorMessage | null {
    const { detector: choice, series, options } = this.request;
    if (choice === 'none') return null;
    const detector = new Detector(detectorOptions(choice, options)).fit(series);
    const attend = detector.options.model === 'lstm-attn-ae';
    const r = detector.detect(series, attend ? { attention: true } : {});
    this.attention = r.attention ?? null;
    let attention: AttentionWindow | null = null;
    if (this.attention !== null) {
      // The point to explain: the highest flagged score, else the highest score; its window is the one ending there.
      let best = -1;
      for (let t = r.firstScored; t < r.scores.length; t++) {
        const better =
          best < 0 || r.flags[t] > r.flags[best] || (r.flags[t] === r.flags[best] && r.scores[t] > r.scores[best]);
        if (better) best = t;
      }
      attention = this.attentionWindow(Math.max(0, best - this.attention.window + 1));
    }
    return {
      type: 'detector',
      id: this.request.id,
      model: detector.options.model,
      scores: r.scores,
      flags: r.flags,
      thresholds: r.thresholds,
      threshold: r.threshold,
      firstScored: r.firstScored,
      events: r.events.map((e) => ({ start: e.start, end: e.end })),
      backend: getBackend(),
      attention,
    };
  }

  /**
   * The attention of the detector's window starting at `at` (clamped to the windows there are), or null before an
   * 'lstm-attn-ae' detector has run.
   */
  attentionWindow(at: number): AttentionWindow | null {
    const a = this.attention;
    if (a === null) return null;
    const W = a.window,
      start = Math.max(0, Math.min(a.count - 1, Math.floor(at)));
    return { start, window: W, weights: a.weights.slice(start * W * W, (start + 1) * W * W) };
  }
}

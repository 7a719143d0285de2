/**
 * What the lab's Web Worker runs, without the worker around it (so Node specs run it too): the messages between the page
 * and the worker, a Trainer that trains a LabModel on a series in chunks of steps and snapshots what the page draws, and
 * the Detector run on the same series.
 */
import { LabModel, type Inspection, type LabModelOptions } from './model.js';
import { moments } from './series.js';
import { makeRandom, type Random } from '../lib/random.js';
import { Detector } from '../lib/detect/detector.js';
import { getBackend } from '../lib/backend.js';

/** Which Detector the worker fits: the autoencoder of the lab's cell ('rnn-ae', 'lstm-ae', 'gru-ae'), 'auto', or none. */
export type DetectorChoice = 'cell-ae' | 'auto' | 'none';

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
}
export type WorkerMessage =
  | ProgressMessage
  | DetectorMessage
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
    const detector = new Detector(
      choice === 'auto'
        ? { seed: options.seed }
        : {
            model: `${options.cell}-ae`,
            window: Math.min(this.T, 64),
            hidden: options.hidden,
            epochs: 10,
            seed: options.seed,
          },
    ).fit(series);
    const r = detector.detect(series);
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
    };
  }
}

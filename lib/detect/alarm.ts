/**
 * The alarm stage: turns any raw anomaly score (one number per row, larger = more anomalous) into a score calibrated to
 * [0, 1] and a flag, causally (row t's output depends only on rows 0…t). Composable with any model.
 *
 * Three parts, applied in this order on every row t (value_t = the series value, raw_t = the model's raw score):
 *
 * 1. Anomaly likelihood, HTM's definition (nupic `algorithms/anomaly_likelihood.py`, class AnomalyLikelihood, as NAB's
 *    numenta detector uses it: learningPeriod = ⌊P/2⌋, estimationSamples = P − ⌊P/2⌋, P = `probation`):
 *      - rows t < P: likelihood L_t = 0.5 (the model is still learning);
 *      - otherwise, when no distribution exists yet or t % reestimationPeriod (100) = 0, the distribution is refitted
 *        on the history of up to `historicWindow` (8640) past rows (row t excluded): the moving average a_i of the last
 *        `averagingWindow` (10) raw scores is recomputed over the history from empty, the first `skip` averages are
 *        dropped (skip = min(t, max(0, learningPeriod − max(0, t − historicWindow)))), and a normal N(μ, σ²) is fitted
 *        to the rest (population variance; μ ≥ 0.03 and σ² ≥ 0.0003 lower bounds, `minMean` / `minVariance`). If no
 *        average is left, or the *values* of those rows have variance < 1.5e-5 (a flat series), the null distribution
 *        N(0.5, 1e6) is used;
 *      - a_t = mean of the last ≤ 10 raw scores (the running moving average, carried between refits);
 *      - tail probability q_t = ½·erfc((a_t − μ) / (σ·1.4142)), the upper tail, as in the nupic version NAB's published
 *        HTM scores come from (checked: those scores are reproduced from their raw scores); `tail: 'two-sided'` reflects
 *        a_t below μ to 2μ − a_t first (later nupic);
 *      - filter: if q_t ≤ 1e-5 and the previous row's unfiltered q was also ≤ 1e-5, q_t becomes 1e-3 (only the first row
 *        of a run of very unlikely rows stays very unlikely); after a refit the previous q's are re-evaluated under the
 *        new distribution, as nupic does;
 *      - L_t = 1 − q_t; the log score s_t = ln(1.0000000001 − L_t) / ln(1e-10)  (computeLogLikelihood), in [0, 1]:
 *        s = 0.5422 (HTM's standard-profile NAB threshold) means q ≈ 3.8e-6.
 *    Optional long channel (`longWindow` > 0): the same likelihood over a longWindow-row average, without the filter,
 *    latched: while not latched s_t = max(s_t, s^long_t), and s^long_t ≥ threshold latches it; while latched it is ignored
 *    until s^long_t < `longRearm`. One alarm per sustained excursion of the raw score (the filter above would cap a
 *    gradual one near 0.5).
 * 2. Spatial rule (NAB's numenta detector): with running min m and max M of the values before row t (M > m), a value
 *    outside [m − tol·(M − m), M + tol·(M − m)] (tol = `spatialTolerance`, 0.05; 0 turns the rule off) sets s_t = 1.
 * 3. Flag: f_t = s_t ≥ `threshold` and t ≥ `probation` and no flag in the `rest` rows before t (one alarm per event;
 *    CAD OSE rests P/5 rows). The calibrated score s_t is reported whether or not the row is resting.
 *
 * `alarmBatch` runs the same steps over arrays (same bits as stepping). `restFlags` applies part 3 alone to scores, for
 * threshold sweeps. State (`getState()` / `AlarmStage.fromState`) is a plain JSON-able object, validated on load.
 */
import { ArgumentError } from '../errors.js';
import { checkKeys, describeValue } from '../check.js';

/** Options of the {@link AlarmStage} (nupic's anomaly likelihood, as NAB's HTM detector calibrates raw scores). */
export interface AlarmOptions {
  /** Rows the likelihood learns on before it scores (NAB: min(⌊0.15·N⌋, 750)); no flag before it. Required. */
  probation: number;
  /** Raw scores averaged (nupic averagingWindow). Default 10. */
  averagingWindow?: number;
  /** Past rows the Gaussian is fitted on (nupic historicWindowSize). Default 8640. */
  historicWindow?: number;
  /** Refit every this many rows (nupic reestimationPeriod). Default 100. */
  reestimationPeriod?: number;
  /** Averages skipped at the start of the fit (nupic learningPeriod). Default ⌊probation/2⌋. */
  learningPeriod?: number;
  /** Lower bound on the fitted mean (nupic 0.03; for raw scores in [0,1]). Default 0.03. */
  minMean?: number;
  /** Lower bound on the fitted variance (nupic 0.0003). Default 0.0003. */
  minVariance?: number;
  /** Spatial rule tolerance as a fraction of the running range; 0 = off. Default 0.05. */
  spatialTolerance?: number;
  /** Flag when the calibrated score ≥ threshold. Default 0.5422 (HTM, NAB standard profile). */
  threshold?: number;
  /** Rows after a flag during which no flag is raised. Default 0. */
  rest?: number;
  /** 'upper': q = ½·erfc((a − μ)/(σ·1.4142)), the upper tail (the nupic version behind NAB's published HTM scores;
   *  an average below μ is not anomalous); 'two-sided': a below μ is reflected to 2μ − a (later nupic). Default 'upper'. */
  tail?: 'upper' | 'two-sided';
  /** nupic's filter (only the first of consecutive q ≤ 1e-5 rows keeps its q; the rest get 1e-3). Default true. Note:
   *  when the average rises gradually, the first row under 1e-5 has q just under it, so the filter caps such an event's
   *  score near 0.5 (below HTM's 0.5422): only abrupt changes pass. */
  filter?: boolean;
  /** A second likelihood over a `longWindow`-row average of the same raw scores (0 = off), unfiltered, latched: it counts
   *  once per excursion (its score is used on the first row at or above `threshold`, then ignored until it falls below
   *  `longRearm`). Catches sustained, moderate rises of the raw score (a day that looks wrong as a whole) that no single
   *  10-row average shows. Default 0. */
  longWindow?: number;
  /** Re-arming level of the long channel. Default 0.4. */
  longRearm?: number;
}

/** {@link AlarmOptions} with every default filled in. */
export type ResolvedAlarmOptions = Required<AlarmOptions>;

/** The stage's whole state, plain JSON. */
export interface AlarmState {
  /** The state format's version. */
  version: 1;
  /** The resolved options. */
  options: ResolvedAlarmOptions;
  /** Rows seen. */
  t: number;
  /** Up to historicWindow past raw scores and values, oldest first. */
  histRaw: number[];
  /** The values of those rows. */
  histValue: number[];
  /** Fitted distribution, null before the first fit. */
  dist: {
    /** Mean of the averaged raw scores. */
    mean: number;
    /** Their standard deviation. */
    stdev: number;
  } | null;
  /** Running moving average: the last ≤ averagingWindow raw scores and their running total. */
  maWindow: number[];
  /** Their total. */
  maTotal: number;
  /** Unfiltered tail probabilities of the last ≤ averagingWindow rows (the filter's memory). */
  histQ: number[];
  /** Running min / max of the values (null before the first row). */
  min: number | null;
  /** Running max. */
  max: number | null;
  /** Rows of rest left. */
  restLeft: number;
  /** The long channel's likelihood state (longWindow > 0), and whether it is latched. */
  long: AlarmState | null;
  /** The long channel has fired and waits to re-arm. */
  latched: boolean;
}

/** What {@link AlarmStage.step} returns for a row. */
export interface AlarmOutput {
  /** Calibrated score in [0, 1]. */
  score: number;
  /** Alarm raised on this row. */
  flag: boolean;
  /** The spatial rule fired. */
  spatial: boolean;
  /** Unfiltered tail probability of the averaged raw score (0.5 during probation). */
  tail: number;
  /** The long channel's log score before latching (0 when off). */
  longScore: number;
}

export const HTM_THRESHOLD = 0.5422;
const LOG_1E_10 = -23.02585084720009;
const RED = 1 - 0.99999;
const YELLOW = 1 - 0.999;

/** An integer option in [min, max]; the window maxima bound what the stage allocates (a state file cannot ask for more). */
function intOpt(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ArgumentError(`AlarmStage(options.${name})`, `an integer in [${min}, ${max}]`, describeValue(v));
  }
  return v;
}

function numOpt(name: string, v: unknown, min: number, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new ArgumentError(`AlarmStage(options.${name})`, `a finite number in [${min}, ${max}]`, describeValue(v));
  }
  return v;
}

const OPTION_KEYS = [
  'probation',
  'averagingWindow',
  'historicWindow',
  'reestimationPeriod',
  'learningPeriod',
  'minMean',
  'minVariance',
  'spatialTolerance',
  'threshold',
  'rest',
  'tail',
  'filter',
  'longWindow',
  'longRearm',
];

function boolOpt(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ArgumentError(`AlarmStage(options.${name})`, 'a boolean', describeValue(v));
  return v;
}

function tailOpt(v: unknown): 'upper' | 'two-sided' {
  if (v !== 'upper' && v !== 'two-sided') {
    throw new ArgumentError('AlarmStage(options.tail)', "'upper' or 'two-sided'", describeValue(v));
  }
  return v;
}

/** Validates options and fills defaults. */
export function resolveAlarmOptions(o: AlarmOptions): ResolvedAlarmOptions {
  if (typeof o !== 'object' || o === null) throw new ArgumentError('AlarmStage(options)', 'an object', String(o));
  checkKeys(o, OPTION_KEYS, 'AlarmStage(options)');
  const probation = intOpt('probation', o.probation, 0);
  return {
    probation,
    averagingWindow: intOpt('averagingWindow', o.averagingWindow ?? 10, 1, 1 << 20),
    historicWindow: intOpt('historicWindow', o.historicWindow ?? 8640, 1, 1 << 22),
    reestimationPeriod: intOpt('reestimationPeriod', o.reestimationPeriod ?? 100, 1),
    learningPeriod: intOpt('learningPeriod', o.learningPeriod ?? Math.floor(probation / 2), 0),
    minMean: numOpt('minMean', o.minMean ?? 0.03, -Infinity),
    minVariance: numOpt('minVariance', o.minVariance ?? 0.0003, 0),
    spatialTolerance: numOpt('spatialTolerance', o.spatialTolerance ?? 0.05, 0),
    threshold: numOpt('threshold', o.threshold ?? HTM_THRESHOLD, -Infinity),
    rest: intOpt('rest', o.rest ?? 0, 0),
    tail: tailOpt(o.tail ?? 'upper'),
    filter: boolOpt('filter', o.filter ?? true),
    longWindow: intOpt('longWindow', o.longWindow ?? 0, 0, 1 << 20),
    longRearm: numOpt('longRearm', o.longRearm ?? 0.4, 0, 1),
  };
}

/**
 * erfc(x), W. J. Cody's rational Chebyshev approximations (as in many libm's; relative error < 1e-15 over the range
 * used here). Accurate tails matter: the likelihood thresholds probabilities near 1e-6.
 */
/* eslint-disable no-loss-of-precision -- W. J. Cody's coefficients as published (18 digits; a double keeps 17) */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  let r: number;
  if (ax < 0.5) {
    const t = x * x;
    const top =
      (((0.185777706184603153 * t + 3.1611237438705656) * t + 113.864154151050156) * t + 377.485237685302021) * t +
      3209.37758913846947;
    const bot =
      (((t + 23.6012909523441209) * t + 244.024637934444173) * t + 1282.61652607737228) * t + 2844.23683343917062;
    return 1 - (x * top) / bot;
  } else if (ax < 4) {
    const num =
      (((((((2.15311535474403846e-8 * ax + 0.564188496988670089) * ax + 8.88314979438837594) * ax +
        66.1191906371416295) *
        ax +
        298.635138197400131) *
        ax +
        881.95222124176909) *
        ax +
        1712.04761263407058) *
        ax +
        2051.07837782607147) *
        ax +
      1230.33935479799725;
    const den =
      (((((((ax + 15.7449261107098347) * ax + 117.693950891312499) * ax + 537.181101862009858) * ax +
        1621.38957456669019) *
        ax +
        3290.79923573345963) *
        ax +
        4362.61909014324716) *
        ax +
        3439.36767414372164) *
        ax +
      1230.33935480374942;
    const xsq = Math.trunc(ax * 16) / 16,
      del = (ax - xsq) * (ax + xsq);
    r = (Math.exp(-xsq * xsq) * Math.exp(-del) * num) / den;
  } else if (ax < 27) {
    const z = 1 / (ax * ax);
    const num =
      ((((0.0163153871373020978 * z + 0.305326634961232344) * z + 0.360344899949804439) * z + 0.125781726111229246) *
        z +
        0.0160837851487422766) *
        z +
      6.58749161529837803e-4;
    const den =
      ((((z + 2.56852019228982242) * z + 1.87295284992346725) * z + 0.527905102951428412) * z + 0.0605183413124413191) *
        z +
      0.00233520497626869185;
    const p = (z * num) / den;
    const xsq = Math.trunc(ax * 16) / 16,
      del = (ax - xsq) * (ax + xsq);
    r = (Math.exp(-xsq * xsq) * Math.exp(-del) * (1 / Math.sqrt(Math.PI) - p)) / ax;
  } else {
    r = 0;
  }
  return x < 0 ? 2 - r : r;
}
/* eslint-enable no-loss-of-precision */

/** nupic tailProbability: ½·erfc(z/1.4142), z = (x − μ)/σ; twoSided: x below μ reflected to 2μ − x first. */
export function tailProbability(x: number, mean: number, stdev: number, twoSided = false): number {
  const xp = twoSided && x < mean ? 2 * mean - x : x;
  const z = (xp - mean) / stdev;
  return 0.5 * erfc(z / 1.4142);
}

/** nupic computeLogLikelihood: ln(1.0000000001 − L)/ln(1e-10), L = 1 − q. */
export function logLikelihood(likelihood: number): number {
  return Math.log(1.0000000001 - likelihood) / LOG_1E_10;
}

/** The alarm stage; see the file comment. */
export class AlarmStage {
  /** The resolved options. */
  readonly options: ResolvedAlarmOptions;
  private t = 0;
  private readonly histRaw: Float64Array;
  private readonly histValue: Float64Array;
  private histStart = 0;
  private histLen = 0;
  private dist: { mean: number; stdev: number } | null = null;
  private readonly maWindow: number[] = [];
  private maTotal = 0;
  private histQ: number[] = [];
  private min: number | null = null;
  private max: number | null = null;
  private restLeft = 0;
  private long: AlarmStage | null = null;
  private latched = false;

  /**
   * @param options - probation (required) and the likelihood's settings.
   * @throws {@link ArgumentError} for a missing probation, an option out of range, or an unknown key.
   */
  constructor(options: AlarmOptions) {
    const o = (this.options = resolveAlarmOptions(options));
    this.histRaw = new Float64Array(o.historicWindow);
    this.histValue = new Float64Array(o.historicWindow);
    if (o.longWindow > 0) this.long = new AlarmStage(AlarmStage.longOptions(o));
  }

  private static longOptions(o: ResolvedAlarmOptions): AlarmOptions {
    return { ...o, averagingWindow: o.longWindow, filter: false, spatialTolerance: 0, rest: 0, longWindow: 0 };
  }

  /** Rows seen so far. */
  get rows(): number {
    return this.t;
  }

  /**
   * One row: raw score (finite) and the series value (finite; for the spatial rule and the flat-series check).
   * rawLong: the long channel's raw score when it should judge another model's score (default: raw).
   *
   * @param raw - The row's raw anomaly score (finite).
   * @param value - The row's series value (finite).
   * @param rawLong - The long channel's raw score, if another model judges it (default raw).
   * @returns The calibrated score, the flag and the channels' details.
   * @throws {@link ArgumentError} for a non-finite raw score or value.
   */
  step(raw: number, value: number, rawLong?: number): AlarmOutput {
    if (!Number.isFinite(raw)) {
      throw new ArgumentError('AlarmStage.step(raw)', 'a finite number', `${raw} at row ${this.t}`);
    }
    if (rawLong !== undefined && !Number.isFinite(rawLong)) {
      throw new ArgumentError('AlarmStage.step(rawLong)', 'a finite number', `${rawLong} at row ${this.t}`);
    }
    if (!Number.isFinite(value)) {
      throw new ArgumentError('AlarmStage.step(value)', 'a finite number', `${value} at row ${this.t}`);
    }
    const o = this.options;
    let spatial = false;
    if (o.spatialTolerance > 0 && this.min !== null && this.max !== null && this.max !== this.min) {
      const tol = (this.max - this.min) * o.spatialTolerance;
      if (value > this.max + tol || value < this.min - tol) spatial = true;
    }
    if (this.max === null || value > this.max) this.max = value;
    if (this.min === null || value < this.min) this.min = value;

    let likelihood = 0.5,
      q = 0.5;
    if (this.t >= o.probation) {
      if (this.dist === null || this.t % o.reestimationPeriod === 0) this.refit();
      const d = this.dist as { mean: number; stdev: number };
      const W = o.averagingWindow;
      if (this.maWindow.length === W) this.maTotal -= this.maWindow.shift() as number;
      this.maWindow.push(raw);
      this.maTotal += raw;
      const avg = this.maTotal / this.maWindow.length;
      q = tailProbability(avg, d.mean, d.stdev, o.tail === 'two-sided');
      let filtered = q;
      const prev = this.histQ.length > 0 ? this.histQ[this.histQ.length - 1] : null;
      if (o.filter && prev !== null && q <= RED && prev <= RED) filtered = YELLOW;
      this.histQ.push(q);
      if (this.histQ.length > W) this.histQ.shift();
      likelihood = 1 - filtered;
    }
    this.pushHistory(raw, value);
    const row = this.t++;
    let score = spatial ? 1 : logLikelihood(likelihood),
      longScore = 0;
    if (this.long !== null) {
      longScore = this.long.step(rawLong ?? raw, value).score;
      if (this.latched) {
        if (longScore < o.longRearm) this.latched = false;
      } else {
        if (longScore > score) score = longScore;
        if (longScore >= o.threshold) this.latched = true;
      }
    }
    let flag = false;
    if (this.restLeft > 0) this.restLeft--;
    else if (row >= o.probation && score >= o.threshold) {
      flag = true;
      this.restLeft = o.rest;
    }
    return { score, flag, spatial, tail: q, longScore };
  }

  private pushHistory(raw: number, value: number): void {
    const H = this.options.historicWindow;
    if (this.histLen < H) {
      const k = (this.histStart + this.histLen) % H;
      this.histRaw[k] = raw;
      this.histValue[k] = value;
      this.histLen++;
    } else {
      this.histRaw[this.histStart] = raw;
      this.histValue[this.histStart] = value;
      this.histStart = (this.histStart + 1) % H;
    }
  }

  /** nupic estimateAnomalyLikelihoods over the history (row t excluded). */
  private refit(): void {
    const o = this.options,
      H = o.historicWindow,
      W = o.averagingWindow,
      n = this.histLen;
    const shiftedOut = Math.max(0, this.t - H);
    const skip = Math.min(this.t, Math.max(0, o.learningPeriod - shiftedOut));
    // moving averages from empty, as nupic's _anomalyScoreMovingAverage
    const avgs = new Float64Array(n);
    const win: number[] = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const r = this.histRaw[(this.histStart + i) % H];
      if (win.length === W) total -= win.shift() as number;
      win.push(r);
      total += r;
      avgs[i] = total / win.length;
    }
    let mean = 0.5,
      stdev = 1e3;
    if (n > skip) {
      const m = n - skip;
      let s = 0;
      for (let i = skip; i < n; i++) s += avgs[i];
      let mu = s / m,
        v = 0;
      for (let i = skip; i < n; i++) v += (avgs[i] - mu) ** 2;
      v /= m;
      let vs = 0,
        ms = 0;
      for (let i = skip; i < n; i++) ms += this.histValue[(this.histStart + i) % H];
      ms /= m;
      for (let i = skip; i < n; i++) vs += (this.histValue[(this.histStart + i) % H] - ms) ** 2;
      vs /= m;
      if (vs >= 1.5e-5) {
        if (mu < o.minMean) mu = o.minMean;
        if (v < o.minVariance) v = o.minVariance;
        mean = mu;
        stdev = Math.sqrt(v);
      }
    }
    this.dist = { mean, stdev };
    this.maWindow.length = 0;
    this.maWindow.push(...win);
    this.maTotal = total;
    const k = Math.min(W, n);
    this.histQ = [];
    for (let i = n - k; i < n; i++) this.histQ.push(tailProbability(avgs[i], mean, stdev, o.tail === 'two-sided'));
  }

  /**
   * A deep copy of the state, plain JSON.
   *
   * @returns The state, as plain JSON.
   */
  getState(): AlarmState {
    const H = this.options.historicWindow;
    const histRaw: number[] = [],
      histValue: number[] = [];
    for (let i = 0; i < this.histLen; i++) {
      histRaw.push(this.histRaw[(this.histStart + i) % H]);
      histValue.push(this.histValue[(this.histStart + i) % H]);
    }
    return {
      version: 1,
      options: { ...this.options },
      t: this.t,
      histRaw,
      histValue,
      dist: this.dist === null ? null : { ...this.dist },
      maWindow: [...this.maWindow],
      maTotal: this.maTotal,
      histQ: [...this.histQ],
      min: this.min,
      max: this.max,
      restLeft: this.restLeft,
      long: this.long === null ? null : this.long.getState(),
      latched: this.latched,
    };
  }

  /**
   * Rebuilds a stage from `getState()` output (e.g. after JSON round trip); every field is checked.
   *
   * @param state - `getState()` output.
   * @returns The stage, continuing bit for bit.
   * @throws {@link ArgumentError} for a missing or invalid field.
   */
  static fromState(state: unknown): AlarmStage {
    const bad = (field: string, want: string, got: unknown): never => {
      throw new ArgumentError(`AlarmStage.fromState(state.${field})`, `${want}`, describeValue(got));
    };
    if (typeof state !== 'object' || state === null) bad('', 'an object', state);
    const s = state as Record<string, unknown>;
    if (s.version !== 1) bad('version', '1', s.version);
    const stage = new AlarmStage(s.options as AlarmOptions);
    const o = stage.options;
    const finiteArr = (f: string, v: unknown, maxLen: number): number[] => {
      if (!Array.isArray(v) || v.length > maxLen || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        bad(f, `an array of at most ${maxLen} finite numbers`, v);
      }
      return v as number[];
    };
    const int = (f: string, v: unknown): number =>
      typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : bad(f, 'a non-negative integer', v);
    const num = (f: string, v: unknown): number =>
      typeof v === 'number' && Number.isFinite(v) ? v : bad(f, 'a finite number', v);
    stage.t = int('t', s.t);
    const hr = finiteArr('histRaw', s.histRaw, o.historicWindow),
      hv = finiteArr('histValue', s.histValue, o.historicWindow);
    if (hr.length !== hv.length || hr.length !== Math.min(stage.t, o.historicWindow)) {
      bad(
        'histRaw',
        `min(t, historicWindow) = ${Math.min(stage.t, o.historicWindow)} entries in histRaw and histValue`,
        [hr.length, hv.length],
      );
    }
    stage.histRaw.set(hr);
    stage.histValue.set(hv);
    stage.histLen = hr.length;
    if (s.dist === null) stage.dist = null;
    else {
      const d = s.dist as Record<string, unknown>;
      if (typeof d !== 'object') bad('dist', 'null or {mean, stdev}', d);
      const stdev = num('dist.stdev', d.stdev);
      if (!(stdev > 0)) bad('dist.stdev', 'a positive number', stdev);
      stage.dist = { mean: num('dist.mean', d.mean), stdev };
    }
    stage.maWindow.push(...finiteArr('maWindow', s.maWindow, o.averagingWindow));
    stage.maTotal = num('maTotal', s.maTotal);
    stage.histQ = [...finiteArr('histQ', s.histQ, o.averagingWindow)];
    stage.min = s.min === null ? null : num('min', s.min);
    stage.max = s.max === null ? null : num('max', s.max);
    if ((stage.min === null) !== (stage.t === 0) || (stage.max === null) !== (stage.t === 0))
      bad('min', 'null exactly when t = 0', s.min);
    stage.restLeft = int('restLeft', s.restLeft);
    if (stage.restLeft > o.rest) bad('restLeft', `at most rest = ${o.rest}`, s.restLeft);
    if (typeof s.latched !== 'boolean') bad('latched', 'a boolean', s.latched);
    stage.latched = s.latched as boolean;
    if (o.longWindow > 0) {
      if (typeof s.long !== 'object' || s.long === null) bad('long', 'the long channel state (longWindow > 0)', s.long);
      const child = AlarmStage.fromState(s.long);
      const want = resolveAlarmOptions(AlarmStage.longOptions(o));
      if (JSON.stringify(child.options) !== JSON.stringify(want) || child.t !== stage.t)
        bad('long', 'options and t matching the stage', (s.long as AlarmState).options);
      stage.long = child;
    } else if (s.long !== null) bad('long', 'null (longWindow = 0)', s.long);
    return stage;
  }
}

export interface AlarmBatch {
  scores: Float64Array;
  flags: Uint8Array;
}

/** Runs a fresh AlarmStage over raw[i], values[i] (equal lengths): the same bits as stepping. */
export function alarmBatch(raw: ArrayLike<number>, values: ArrayLike<number>, options: AlarmOptions): AlarmBatch {
  if (raw.length !== values.length) {
    throw new ArgumentError('alarmBatch(values)', `${raw.length} values (raw.length)`, `${values.length}`);
  }
  const stage = new AlarmStage(options);
  const scores = new Float64Array(raw.length),
    flags = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const out = stage.step(raw[i], values[i]);
    scores[i] = out.score;
    flags[i] = out.flag ? 1 : 0;
  }
  return { scores, flags };
}

/** Part 3 alone: flags = score ≥ threshold, from row `probation` on, none within `rest` rows after a flag. */
export function restFlags(scores: ArrayLike<number>, threshold: number, rest: number, probation: number): Uint8Array {
  const flags = new Uint8Array(scores.length);
  let left = 0;
  for (let i = 0; i < scores.length; i++) {
    if (left > 0) {
      left--;
      continue;
    }
    if (i >= probation && scores[i] >= threshold) {
      flags[i] = 1;
      left = rest;
    }
  }
  return flags;
}

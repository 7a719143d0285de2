/**
 * Thresholds: each turns anomaly scores into a number (or a stream of numbers) above which a score is flagged.
 * Every function here is model-independent and usable on its own; none allocates more than its result.
 *
 * Flag rule. Unless a function says otherwise a point is flagged iff score > threshold (strict), as PyOD
 * (`decision_scores_ > threshold_`) and SPOT (`X_i > z_q`) do. `applyThreshold` implements that rule. Telemanom's
 * dynamic threshold flags score ≥ ε, as its code does, and returns its own flags.
 *
 * Static thresholds, fitted on training (calibration) scores s[0..n-1]:
 *   fixedThreshold(v)                    v
 *   quantile(s, p)                        numpy's default ('linear'): sort s; h = (n-1)·p; i = ⌊h⌋;
 *                                         Q(p) = s(i) + (h-i)·(s(i+1) - s(i))
 *   quantileThreshold(s, p = 0.99)        Q(p)
 *   sigmaThreshold(s, k = 3)              mean(s) + k·std(s), std with divisor n (numpy's default ddof = 0)
 *   iqrThreshold(s, k = 1.5)              Q(0.75) + k·(Q(0.75) - Q(0.25))  (Tukey's upper fence)
 *   contaminationThreshold(s, c = 0.1)    as PyOD: np.percentile(s, 100·(1-c)), i.e. Q((100·(1-c))/100)
 *
 * Streaming thresholds (peaks over threshold, Siffer et al., "Anomaly Detection in Streams with Extreme Value
 * Theory", KDD 2017):
 *   Spot    t = initial threshold (order statistic of level `level` of the calibration scores); peaks Y = s - t
 *           for s > t; a generalized Pareto distribution GPD(γ, σ) is fitted to Y by maximum likelihood with
 *           Grimshaw's trick (`gpdFit`); the alarm threshold is
 *             z_q = t + σ/γ·((q·n/N_t)^(-γ) - 1)      (γ ≠ 0),   z_q = t - σ·log(q·n/N_t)   (γ = 0)
 *           with n the number of observations and N_t the number of peaks. Streaming (`update(x)`): x > z_q is an
 *           alarm and does not touch the model; t < x ≤ z_q adds the peak x - t, refits and recomputes z_q;
 *           otherwise only n grows.
 *   Dspot   the same on the drift-corrected variable x - M, where M is the mean of the last `depth` normal
 *           observations; alarms do not enter that window either. The absolute threshold is z_q + M.
 *
 * Telemanom's nonparametric dynamic threshold (Hundman et al., KDD 2018) on smoothed errors e_s: `dynamicThreshold`,
 * with the EWMA smoothing it expects (`ewma`, `Ewma`).
 */

import { runsOfOnes } from './events';

/** Scores, errors, calibration data: any array-like of finite numbers. */
export type Numbers = ArrayLike<number>;

function checkFinite(x: Numbers, where: string): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (!Number.isFinite(v)) throw new RangeError(`${where}: expected finite numbers, got ${v} at index ${i}`);
  }
}

function checkNonEmpty(x: Numbers, where: string): void {
  if (x.length === 0) throw new RangeError(`${where}: expected at least one value, got an empty array`);
}

/** A sorted Float64Array copy of x (after checking it is non-empty and finite). */
function sortedCopy(x: Numbers, where: string): Float64Array {
  checkNonEmpty(x, where);
  checkFinite(x, where);
  const s = Float64Array.from(x);
  s.sort();
  return s;
}

/** numpy's lerp: exact at both ends (a + t·(b-a) for t < 0.5, b - (b-a)·(1-t) otherwise). */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/** Quantile of an already sorted array (numpy 'linear'). */
function sortedQuantile(s: Float64Array, p: number): number {
  const n = s.length;
  const h = (n - 1) * p;
  const i = Math.floor(h);
  if (i >= n - 1) return s[n - 1] as number;
  return lerp(s[i] as number, s[i + 1] as number, h - i);
}

function checkProbability(p: number, where: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${where}: expected 0 ≤ p ≤ 1, got ${p}`);
}

function mean(x: Numbers): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] as number;
  return s / x.length;
}

/** Population standard deviation (divisor n), two-pass. */
function std(x: Numbers, m: number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] as number) - m;
    s += d * d;
  }
  return Math.sqrt(s / x.length);
}

/**
 * The threshold `value` itself, after checking it is a finite number. Exists so every threshold rule has a function.
 * @example fixedThreshold(0.5)   // 0.5
 */
export function fixedThreshold(value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`fixedThreshold(value): expected a finite number, got ${value}`);
  return value;
}

/**
 * Quantile with numpy's default definition ('linear', Hyndman & Fan type 7): sort x; h = (n-1)·p; i = ⌊h⌋;
 * Q(p) = x(i) + (h-i)·(x(i+1) - x(i)). Q(0) = min, Q(1) = max.
 * @example quantile([1, 2, 3, 4], 0.5)    // 2.5
 * @example quantile([1, 2, 3, 4], 0.25)   // 1.75   (h = 0.75)
 */
export function quantile(x: Numbers, p: number): number {
  checkProbability(p, 'quantile(p)');
  return sortedQuantile(sortedCopy(x, 'quantile(x)'), p);
}

/**
 * Quantile p of the training scores (numpy 'linear' definition, see `quantile`).
 * @example quantileThreshold([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)   // 9.5
 */
export function quantileThreshold(trainScores: Numbers, p = 0.99): number {
  checkProbability(p, 'quantileThreshold(p)');
  return sortedQuantile(sortedCopy(trainScores, 'quantileThreshold(trainScores)'), p);
}

/**
 * mean + k·σ of the training scores; σ is the population standard deviation (divisor n, numpy's default).
 * @example sigmaThreshold([2, 4, 4, 4, 5, 5, 7, 9], 2)   // 5 + 2·2 = 9
 */
export function sigmaThreshold(trainScores: Numbers, k = 3): number {
  checkNonEmpty(trainScores, 'sigmaThreshold(trainScores)');
  checkFinite(trainScores, 'sigmaThreshold(trainScores)');
  if (!Number.isFinite(k)) throw new RangeError(`sigmaThreshold(k): expected a finite number, got ${k}`);
  const m = mean(trainScores);
  return m + k * std(trainScores, m);
}

/**
 * Tukey's upper fence Q3 + k·(Q3 - Q1), quartiles by `quantile` (numpy 'linear').
 * @example iqrThreshold([1, 2, 3, 4, 5, 6, 7, 8, 9], 1.5)   // Q1 = 3, Q3 = 7 → 7 + 1.5·4 = 13
 */
export function iqrThreshold(trainScores: Numbers, k = 1.5): number {
  if (!Number.isFinite(k)) throw new RangeError(`iqrThreshold(k): expected a finite number, got ${k}`);
  const s = sortedCopy(trainScores, 'iqrThreshold(trainScores)');
  const q1 = sortedQuantile(s, 0.25);
  const q3 = sortedQuantile(s, 0.75);
  return q3 + k * (q3 - q1);
}

/**
 * PyOD's contamination rule: threshold = np.percentile(trainScores, 100·(1 - contamination)), so that about a
 * fraction `contamination` of the training scores lies strictly above it. 0 < contamination ≤ 0.5 as in PyOD.
 * @example contaminationThreshold([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.1)   // percentile 90 → 8.1
 */
export function contaminationThreshold(trainScores: Numbers, contamination = 0.1): number {
  if (!(contamination > 0 && contamination <= 0.5)) {
    throw new RangeError(`contaminationThreshold(contamination): expected 0 < contamination ≤ 0.5, got ${contamination}`);
  }
  const s = sortedCopy(trainScores, 'contaminationThreshold(trainScores)');
  return sortedQuantile(s, (100 * (1 - contamination)) / 100);
}

/**
 * Flags: 1 where score > threshold (strict), else 0.
 * @example applyThreshold([0.1, 0.5, 0.9], 0.5)   // Uint8Array [0, 0, 1]
 */
export function applyThreshold(scores: Numbers, threshold: number): Uint8Array {
  if (Number.isNaN(threshold)) throw new RangeError('applyThreshold(threshold): got NaN');
  const flags = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i] as number;
    if (Number.isNaN(v)) throw new RangeError(`applyThreshold(scores): NaN at index ${i}`);
    flags[i] = v > threshold ? 1 : 0;
  }
  return flags;
}

// ---------------------------------------------------------------------------------------------------------------
// Generalized Pareto fit (Grimshaw's trick) and the POT quantile.
// ---------------------------------------------------------------------------------------------------------------

/** A GPD(γ, σ) fit (location 0) with its log-likelihood. γ is the shape (tail index), σ > 0 the scale. */
export interface GpdFit {
  gamma: number;
  sigma: number;
  logLikelihood: number;
}

/**
 * Log-likelihood of y[0..m-1] under GPD(γ, σ, μ = 0):
 *   γ ≠ 0:  -m·log σ - (1 + 1/γ)·Σ log(1 + γ·y_i/σ)      (-Infinity if some 1 + γ·y_i/σ ≤ 0)
 *   γ = 0:  -m·log σ - Σ y_i/σ                            (exponential)
 * (The KDD 2017 reference code writes the γ = 0 case as +m·(1 + log ȳ), the sign-flipped value at σ = ȳ; we use
 * the likelihood itself.)
 */
function gpdLogLikelihoodN(y: Float64Array, m: number, gamma: number, sigma: number): number {
  if (!(sigma > 0)) return -Infinity;
  let s = 0;
  if (gamma === 0) {
    for (let i = 0; i < m; i++) s += y[i] as number;
    return -m * Math.log(sigma) - s / sigma;
  }
  const x = gamma / sigma;
  for (let i = 0; i < m; i++) {
    const a = x * (y[i] as number);
    if (!(a > -1)) return -Infinity;
    s += Math.log1p(a);
  }
  return -m * Math.log(sigma) - (1 + 1 / gamma) * s;
}

/**
 * Log-likelihood of the sample `y` under GPD(γ, σ) with location 0 (see the formula in `gpdFit`'s notes).
 * @example gpdLogLikelihood([1, 2], 0, 1)   // -(1 + 2) = -3
 */
export function gpdLogLikelihood(y: Numbers, gamma: number, sigma: number): number {
  checkFinite(y, 'gpdLogLikelihood(y)');
  return gpdLogLikelihoodN(Float64Array.from(y), y.length, gamma, sigma);
}

/** w(x) = u(x)·v(x) - 1 with u = 1 + mean log(1 + x·y), v = mean 1/(1 + x·y): Grimshaw's equation in x = γ/σ. */
function grimshawW(y: Float64Array, m: number, x: number): number {
  let u = 0;
  let v = 0;
  for (let i = 0; i < m; i++) {
    const a = x * (y[i] as number);
    u += Math.log1p(a);
    v += 1 / (1 + a);
  }
  return (1 + u / m) * (v / m) - 1;
}

/** γ(x) = u(x) - 1 = mean log(1 + x·y): the profile-likelihood shape at x = γ/σ. */
function grimshawGamma(y: Float64Array, m: number, x: number): number {
  let u = 0;
  for (let i = 0; i < m; i++) u += Math.log1p(x * (y[i] as number));
  return u / m;
}

/**
 * Maximum-likelihood GPD(γ, σ) fit of the peaks y[0..m-1] (all > 0) by Grimshaw's trick (Grimshaw 1993, as used
 * in Siffer et al. KDD 2017, §3.2): with x = γ/σ the likelihood equations reduce to the scalar equation
 *   w(x) = u(x)·v(x) - 1 = 0,   u(x) = 1 + (1/m)·Σ log(1 + x·y_i),   v(x) = (1/m)·Σ 1/(1 + x·y_i),
 * whose roots lie in (-1/y_max, 0) or (0, 2(ȳ - y_min)/y_min²]; each root gives γ = u(x) - 1, σ = γ/x. The
 * candidate γ = 0, σ = ȳ (the exponential, x = 0, always a solution) and every root are compared by
 * log-likelihood and the best is returned.
 *
 * Root search (deterministic, where the reference code runs L-BFGS-B on w² from 10 regular starts): w is sampled on
 * a grid clustered at both ends of the left interval and log-spaced on the right interval, and every sign change is
 * refined by bisection to machine precision. The right interval is searched from ≈0 (1e-7/ȳ), not from the
 * reference code's lower end 2(ȳ - y_min)/(ȳ·y_min): for heavy-tailed samples (γ = 0.5, 2000 draws) that lower end
 * is ≈ 8·10³ while the root is ≈ 0.5, so the reference search cannot find it.
 */
function grimshaw(y: Float64Array, m: number): GpdFit {
  let ymin = Infinity;
  let ymax = -Infinity;
  let sum = 0;
  for (let i = 0; i < m; i++) {
    const v = y[i] as number;
    if (v < ymin) ymin = v;
    if (v > ymax) ymax = v;
    sum += v;
  }
  const ymean = sum / m;
  let best: GpdFit = { gamma: 0, sigma: ymean, logLikelihood: gpdLogLikelihoodN(y, m, 0, ymean) };

  const consider = (x: number): void => {
    const gamma = grimshawGamma(y, m, x);
    if (gamma === 0 || !Number.isFinite(gamma)) return;
    const sigma = gamma / x;
    if (!(sigma > 0) || !Number.isFinite(sigma)) return;
    const ll = gpdLogLikelihoodN(y, m, gamma, sigma);
    if (ll > best.logLikelihood) best = { gamma, sigma, logLikelihood: ll };
  };

  // Scan a grid xs (ascending), bisect each sign change of w.
  const scan = (xs: Float64Array): void => {
    let xa = xs[0] as number;
    let wa = grimshawW(y, m, xa);
    for (let k = 1; k < xs.length; k++) {
      const xb = xs[k] as number;
      const wb = grimshawW(y, m, xb);
      if (wa === 0) consider(xa);
      else if (Number.isFinite(wa) && Number.isFinite(wb) && (wa < 0) !== (wb < 0) && wb !== 0) {
        let lo = xa;
        let hi = xb;
        let wlo = wa;
        for (let it = 0; it < 200; it++) {
          const mid = 0.5 * (lo + hi);
          if (mid <= lo || mid >= hi) break;
          const wm = grimshawW(y, m, mid);
          if (wm === 0) {
            lo = hi = mid;
            break;
          }
          if ((wm < 0) === (wlo < 0)) {
            lo = mid;
            wlo = wm;
          } else hi = mid;
        }
        consider(0.5 * (lo + hi));
      }
      xa = xb;
      wa = wb;
    }
  };

  const G = 96; // grid points per half-interval
  if (ymax > 0 && m > 1) {
    // Left interval x = -τ/ymax, τ in (0, 1): log-spaced towards τ → 0 and towards τ → 1 (support edge).
    const xs = new Float64Array(2 * G);
    for (let k = 0; k < G; k++) {
      const f = k / (G - 1);
      const tauSmall = Math.exp(Math.log(1e-7) + (Math.log(0.5) - Math.log(1e-7)) * f); // 1e-7 … 0.5
      const oneMinusTau = Math.exp(Math.log(0.5) + (Math.log(1e-12) - Math.log(0.5)) * f); // 0.5 … 1e-12
      xs[k] = -tauSmall / ymax;
      xs[G + k] = -(1 - oneMinusTau) / ymax;
    }
    xs.sort();
    scan(xs);
  }
  if (ymean > ymin && m > 1) {
    const lo = 1e-7 / ymean;
    let c = (2 * (ymean - ymin)) / (ymin * ymin);
    const cap = 1e15 / ymean;
    if (!(c < cap)) c = cap;
    if (c > lo) {
      const xs = new Float64Array(2 * G);
      const a = Math.log(lo);
      const b = Math.log(c);
      for (let k = 0; k < xs.length; k++) xs[k] = Math.exp(a + ((b - a) * k) / (xs.length - 1));
      scan(xs);
    }
  }
  return best;
}

/**
 * Maximum-likelihood fit of a generalized Pareto distribution GPD(γ, σ) (location 0) to positive excesses `peaks`,
 * by Grimshaw's trick as in SPOT (Siffer et al., KDD 2017). See the notes on the root search above the
 * implementation. The GPD: P(Y > y) = (1 + γ·y/σ)^(-1/γ) (γ ≠ 0), exp(-y/σ) (γ = 0).
 * @example gpdFit([1, 1, 1])   // { gamma: 0, sigma: 1, logLikelihood: -3 }  (all peaks equal: exponential)
 */
export function gpdFit(peaks: Numbers): GpdFit {
  checkNonEmpty(peaks, 'gpdFit(peaks)');
  checkFinite(peaks, 'gpdFit(peaks)');
  for (let i = 0; i < peaks.length; i++) {
    if (!((peaks[i] as number) > 0)) throw new RangeError(`gpdFit(peaks): expected positive excesses, got ${peaks[i]} at index ${i}`);
  }
  return grimshaw(Float64Array.from(peaks), peaks.length);
}

/**
 * The POT extreme quantile (Siffer et al. KDD 2017, eq. 1): the value exceeded with probability q,
 *   z_q = t + σ/γ·((q·n/N_t)^(-γ) - 1)   (γ ≠ 0),     z_q = t - σ·log(q·n/N_t)   (γ = 0, the limit),
 * computed as t + σ·expm1(-γ·log r)/γ with r = q·n/N_t, which stays accurate as γ → 0.
 * @example potQuantile(10, 0.5, 2, 1e-3, 1000, 10)   // r = 0.1: 10 + 4·(√10 - 1) ≈ 18.6491106
 */
export function potQuantile(t: number, gamma: number, sigma: number, q: number, n: number, peakCount: number): number {
  const r = (q * n) / peakCount;
  if (!(r > 0) || !Number.isFinite(r)) {
    throw new RangeError(`potQuantile: expected q·n/N_t > 0, got q = ${q}, n = ${n}, N_t = ${peakCount}`);
  }
  const lr = Math.log(r);
  if (gamma === 0) return t - sigma * lr;
  return t + (sigma * Math.expm1(-gamma * lr)) / gamma;
}

// ---------------------------------------------------------------------------------------------------------------
// SPOT / DSPOT
// ---------------------------------------------------------------------------------------------------------------

/** Options of `Spot` and `Dspot`. */
export interface SpotOptions {
  /** Risk q: the alarm threshold z_q is exceeded with probability q. Default 1e-4 (the paper's). 0 < q < 1. */
  q?: number;
  /** Probability of the initial threshold t among the calibration values. Default 0.98. 0 < level < 1. */
  level?: number;
  /**
   * Keep at most this many peaks for the GPD fit (the most recent ones; the counters n and N_t still count all
   * observations, so N_t/n remains the exceedance rate). Default Infinity: every peak is kept, as in the paper,
   * and memory grows with N_t. A finite value bounds memory and refit cost for long streams.
   */
  maxPeaks?: number;
}

/** Options of `Dspot`. */
export interface DspotOptions extends SpotOptions {
  /** Depth d of the moving average of recent normal observations. Default 10. Integer ≥ 1. */
  depth?: number;
}

/** One streaming step: `threshold` is the value the point was compared with; `flag` = 1 iff the point exceeded it. */
export interface SpotStep {
  threshold: number;
  flag: 0 | 1;
}

/** The peaks-over-threshold state shared by SPOT and DSPOT: peaks buffer, counters n and N_t, GPD fit, z_q. */
class PotState {
  readonly q: number;
  readonly t: number;
  readonly maxPeaks: number;
  n: number;
  nt: number;
  fit: GpdFit;
  zq: number;
  private peaks: Float64Array;
  private count = 0; // peaks stored
  private next = 0; // ring write position once full

  constructor(where: string, values: Float64Array, q: number, level: number, maxPeaks: number) {
    if (!(q > 0 && q < 1)) throw new RangeError(`${where}(options.q): expected 0 < q < 1, got ${q}`);
    if (!(level > 0 && level < 1)) throw new RangeError(`${where}(options.level): expected 0 < level < 1, got ${level}`);
    if (!(maxPeaks >= 1) || (maxPeaks !== Infinity && !Number.isInteger(maxPeaks))) {
      throw new RangeError(`${where}(options.maxPeaks): expected an integer ≥ 1 or Infinity, got ${maxPeaks}`);
    }
    this.q = q;
    this.maxPeaks = maxPeaks;
    const s = Float64Array.from(values).sort();
    const n = s.length;
    // Initial threshold as the reference implementation: the order statistic sorted[⌊level·n⌋].
    this.t = s[Math.min(Math.floor(level * n), n - 1)] as number;
    let nt = 0;
    for (let i = 0; i < n; i++) if ((values[i] as number) > this.t) nt++;
    if (nt === 0) {
      throw new RangeError(
        `${where}(calibration): no calibration value exceeds the initial threshold t = ${this.t} (level ${level}, ` +
          `${n} values); SPOT needs at least one peak: give more varied calibration data or a lower level`,
      );
    }
    this.peaks = new Float64Array(Math.min(maxPeaks, Math.max(16, nt * 2)));
    for (let i = 0; i < n; i++) {
      const v = values[i] as number;
      if (v > this.t) this.pushPeak(v - this.t);
    }
    this.n = n;
    this.nt = nt;
    this.fit = grimshaw(this.peaks, this.count);
    this.zq = potQuantile(this.t, this.fit.gamma, this.fit.sigma, q, this.n, this.nt);
  }

  get storedPeaks(): number {
    return this.count;
  }

  private pushPeak(y: number): void {
    if (this.count < this.maxPeaks) {
      if (this.count === this.peaks.length) {
        const grown = new Float64Array(Math.min(this.maxPeaks, this.peaks.length * 2));
        grown.set(this.peaks);
        this.peaks = grown;
      }
      this.peaks[this.count++] = y;
    } else {
      this.peaks[this.next] = y;
      this.next = (this.next + 1) % this.maxPeaks;
    }
  }

  /** One observation v of the monitored variable (x for SPOT, x - M for DSPOT). Returns the flag. */
  step(v: number): 0 | 1 {
    if (v > this.zq) return 1; // alarm: not a peak, n unchanged (paper, Algorithm 1)
    this.n++;
    if (v > this.t) {
      this.pushPeak(v - this.t);
      this.nt++;
      this.fit = grimshaw(this.peaks, this.count);
      this.zq = potQuantile(this.t, this.fit.gamma, this.fit.sigma, this.q, this.n, this.nt);
    }
    return 0;
  }
}

function checkCalibration(calibration: Numbers, where: string, minLength: number): Float64Array {
  checkFinite(calibration, `${where}(calibration)`);
  if (calibration.length < minLength) {
    throw new RangeError(`${where}(calibration): expected at least ${minLength} values, got ${calibration.length}`);
  }
  return Float64Array.from(calibration);
}

/**
 * A streamed score: a finite number, or +Infinity (a score that overflowed), which exceeds every z_q and so is an
 * alarm that leaves the model untouched, exactly as a huge finite score would be. NaN and -Infinity are errors.
 */
function checkPoint(x: number, where: string): void {
  if (!Number.isFinite(x) && x !== Infinity) {
    throw new RangeError(`${where}: expected a finite number (or +Infinity, always an alarm), got ${x}`);
  }
}

/**
 * SPOT, streaming peaks-over-threshold (Siffer et al., KDD 2017, Algorithm 1), upper tail.
 * Calibration: t = sorted(calibration)[⌊level·n⌋]; peaks = {s - t : s > t}; GPD fit by Grimshaw's trick; z_q.
 * `update(x)` compares x with the current z_q (the returned `threshold`), then: alarm if x > z_q (x is not added
 * to the peaks and n is not incremented); else n += 1 and, if x > t, x - t joins the peaks, N_t += 1, the GPD is
 * refitted and z_q recomputed. (The reference code records the threshold after the update; we return the one
 * the point was judged by, so flag = x > threshold always holds.)
 * @example
 *   const spot = new Spot(trainScores, { q: 1e-3 });
 *   for (const s of testScores) { const { threshold, flag } = spot.update(s); }
 */
export class Spot {
  private readonly pot: PotState;
  /** Probability of the initial threshold. */
  readonly level: number;

  constructor(calibration: Numbers, options: SpotOptions = {}) {
    const values = checkCalibration(calibration, 'Spot', 1);
    this.level = options.level ?? 0.98;
    this.pot = new PotState('Spot', values, options.q ?? 1e-4, this.level, options.maxPeaks ?? Infinity);
  }

  /** Risk q. */
  get q(): number {
    return this.pot.q;
  }
  /** Initial threshold t (fixed for the whole run). */
  get initThreshold(): number {
    return this.pot.t;
  }
  /** Current alarm threshold z_q. */
  get threshold(): number {
    return this.pot.zq;
  }
  /** Current GPD shape γ. */
  get gamma(): number {
    return this.pot.fit.gamma;
  }
  /** Current GPD scale σ. */
  get sigma(): number {
    return this.pot.fit.sigma;
  }
  /** Number of non-alarm observations n (calibration included). */
  get n(): number {
    return this.pot.n;
  }
  /** Number of peaks N_t seen so far (calibration included). */
  get peakCount(): number {
    return this.pot.nt;
  }
  /** Peaks currently held for the fit (≤ maxPeaks). */
  get storedPeaks(): number {
    return this.pot.storedPeaks;
  }

  /** Processes one new score; returns the threshold it was compared with and its flag. */
  update(x: number): SpotStep {
    checkPoint(x, 'Spot.update(x)');
    const threshold = this.pot.zq;
    return { threshold, flag: this.pot.step(x) };
  }
}

/**
 * The SPOT alarm threshold z_q fitted on calibration scores only (no streaming updates): a static threshold.
 * @example spotThreshold(trainScores, { q: 1e-3, level: 0.98 })
 */
export function spotThreshold(calibration: Numbers, options: SpotOptions = {}): number {
  return new Spot(calibration, options).threshold;
}

/**
 * DSPOT, drift-aware SPOT (Siffer et al., KDD 2017, Algorithm 2), upper tail. The monitored variable is
 * x_i - M_i, with M_i the mean of the last `depth` normal observations (initially the last `depth` calibration
 * values). Calibration: T_i = X_i - mean(X_{i-d..i-1}) for i ≥ d; t, peaks, GPD and z_q as in SPOT on T (n = N - d).
 * `update(x)`: M = mean(window); flag iff x - M > z_q, returned threshold = z_q + M. Alarms change nothing;
 * otherwise x enters the window (dropping the oldest) and x - M is processed as SPOT processes a value.
 */
export class Dspot {
  private readonly pot: PotState;
  private readonly window: Float64Array;
  private head = 0;
  /** Probability of the initial threshold. */
  readonly level: number;
  /** Moving-average depth d. */
  readonly depth: number;

  constructor(calibration: Numbers, options: DspotOptions = {}) {
    const depth = options.depth ?? 10;
    if (!(Number.isInteger(depth) && depth >= 1)) throw new RangeError(`Dspot(options.depth): expected an integer ≥ 1, got ${depth}`);
    const x = checkCalibration(calibration, 'Dspot', depth + 1);
    this.depth = depth;
    this.level = options.level ?? 0.98;
    const T = new Float64Array(x.length - depth);
    let wsum = 0;
    for (let i = 0; i < depth; i++) wsum += x[i] as number;
    for (let i = depth; i < x.length; i++) {
      T[i - depth] = (x[i] as number) - wsum / depth;
      wsum += (x[i] as number) - (x[i - depth] as number);
    }
    this.pot = new PotState('Dspot', T, options.q ?? 1e-4, this.level, options.maxPeaks ?? Infinity);
    this.window = x.slice(x.length - depth);
  }

  get q(): number {
    return this.pot.q;
  }
  /** Initial threshold t on the drift-corrected variable. */
  get initThreshold(): number {
    return this.pot.t;
  }
  /** Current z_q on the drift-corrected variable (the absolute threshold is z_q + `movingAverage`). */
  get relativeThreshold(): number {
    return this.pot.zq;
  }
  /** Mean of the current window of normal observations. */
  get movingAverage(): number {
    return mean(this.window);
  }
  /** Current absolute alarm threshold z_q + M for the next point. */
  get threshold(): number {
    return this.pot.zq + this.movingAverage;
  }
  get gamma(): number {
    return this.pot.fit.gamma;
  }
  get sigma(): number {
    return this.pot.fit.sigma;
  }
  get n(): number {
    return this.pot.n;
  }
  get peakCount(): number {
    return this.pot.nt;
  }
  get storedPeaks(): number {
    return this.pot.storedPeaks;
  }

  /** Processes one new score; returns the absolute threshold it was compared with and its flag. */
  update(x: number): SpotStep {
    checkPoint(x, 'Dspot.update(x)');
    const M = this.movingAverage;
    const threshold = this.pot.zq + M;
    const flag = this.pot.step(x - M);
    if (flag === 0) {
      this.window[this.head] = x;
      this.head = (this.head + 1) % this.depth;
    }
    return { threshold, flag };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Telemanom: EWMA smoothing and the nonparametric dynamic threshold.
// ---------------------------------------------------------------------------------------------------------------

/**
 * Exponentially weighted moving average, as pandas `Series.ewm(span).mean()` (adjust = True), which Telemanom uses
 * to smooth prediction errors: α = 2/(span + 1),
 *   y_t = Σ_{i≤t} (1-α)^(t-i)·x_i / Σ_{i≤t} (1-α)^(t-i),
 * computed by the recursion num_t = x_t + (1-α)·num_{t-1}, den_t = 1 + (1-α)·den_{t-1}, y_t = num_t/den_t.
 * Telemanom's span is ⌊batch_size·window_size·smoothing_perc⌋ = ⌊70·30·0.05⌋ = 105.
 * @example ewma([1, 2, 3], 3)   // α = 0.5: [1, 5/3, 17/7]
 */
export function ewma(x: Numbers, span: number): Float64Array {
  checkFinite(x, 'ewma(x)');
  const s = new Ewma(span);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = s.push(x[i] as number);
  return y;
}

/** The streaming form of `ewma`: constant memory, `push(x)` returns the smoothed value; same numbers as `ewma`. */
export class Ewma {
  readonly span: number;
  private readonly decay: number;
  private num = 0;
  private den = 0;

  constructor(span: number) {
    if (!(span >= 1) || !Number.isFinite(span)) throw new RangeError(`ewma(span): expected span ≥ 1, got ${span}`);
    this.span = span;
    this.decay = 1 - 2 / (span + 1);
  }

  push(x: number): number {
    checkPoint(x, 'Ewma.push(x)');
    this.num = x + this.decay * this.num;
    this.den = 1 + this.decay * this.den;
    return this.num / this.den;
  }

  reset(): void {
    this.num = 0;
    this.den = 0;
  }
}

/** Options of `dynamicThreshold`; defaults are Telemanom's (config.yaml and errors.py). */
export interface DynamicThresholdOptions {
  /** Candidate z from zMin (inclusive) to zMax (exclusive) in steps of zStep: np.arange(2.5, 12, 0.5). */
  zMin?: number;
  zMax?: number;
  zStep?: number;
  /** Points added on each side of an anomalous error (Telemanom `error_buffer`, default 100). Integer ≥ 0. */
  errorBuffer?: number;
  /** Minimum percent decrease between successive sequence maxima for pruning (Telemanom `p`, default 0.13). */
  p?: number;
  /** Guardrail: a candidate with more sequences than this is not chosen (Telemanom: 5). */
  maxSequences?: number;
  /** Guardrail: a candidate flagging this fraction of the points or more is not chosen (Telemanom: 0.5). */
  maxAnomalyFraction?: number;
}

/** Result of `dynamicThreshold`. Sequences are inclusive [start, end] index pairs. */
export interface DynamicThresholdResult {
  /** ε = mean + z·std of the errors. */
  threshold: number;
  /** The chosen z (zMax if no candidate passed the guardrails). */
  z: number;
  /** 1 on the indices of the sequences kept after pruning. */
  flags: Uint8Array;
  /** Anomalous sequences kept after pruning. */
  sequences: Array<[number, number]>;
  /** Sequences found at ε but reclassified as nominal by pruning. */
  pruned: Array<[number, number]>;
}

/** Sorted unique indices {i : e_i ≥ eps} expanded by ±1..buffer and clipped to [0, n). Returns a 0/1 mask. */
function bufferedMask(e: Numbers, eps: number, buffer: number, mask: Uint8Array): number {
  mask.fill(0);
  const n = e.length;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if ((e[i] as number) >= eps) {
      const lo = Math.max(0, i - buffer);
      const hi = Math.min(n - 1, i + buffer);
      for (let j = lo; j <= hi; j++) {
        if (mask[j] === 0) {
          mask[j] = 1;
          count++;
        }
      }
    }
  }
  return count;
}

/**
 * Telemanom's nonparametric dynamic threshold (Hundman et al., "Detecting Spacecraft Anomalies Using LSTMs and
 * Nonparametric Dynamic Thresholding", KDD 2018, §3.2) on one window of smoothed errors e_s (see `ewma`).
 *
 * Threshold. μ = mean(e_s), σ = std(e_s) (divisor n). For each z in zMin, zMin + zStep, … < zMax (Telemanom:
 * np.arange(2.5, 12, 0.5), i.e. 2.5 … 11.5) and ε = μ + z·σ:
 *   e_a = {i : e_i ≥ ε} widened by ±(errorBuffer - 1) points, E_seq = its maximal runs (one-point runs count;
 *   Telemanom's code drops them, which only matters for errorBuffer ≤ 1),
 *   Δμ = μ - mean{e_i : e_i < ε},  Δσ = σ - std{e_i : e_i < ε},
 *   score(z) = (Δμ/μ + Δσ/σ) / (|e_a| + |E_seq|²);
 * choose the z with the largest score (later z wins ties, as Telemanom's `>=`) among candidates with
 * |E_seq| ≤ maxSequences and |e_a| < maxAnomalyFraction·n; if none qualifies, z = zMax.
 *
 * Flags and pruning. At the chosen ε, e_a = {i : e_i ≥ ε} widened by ±errorBuffer (Telemanom's code widens by
 * error_buffer - 1 when choosing z and by error_buffer when flagging; we keep both), E_seq = its runs. Let
 * e_max = the maxima of the runs sorted descending, followed by the largest error outside e_a. With
 * d_i = (e_max(i) - e_max(i+1))/e_max(i): walking i = 0, 1, …, a run is marked for removal when d_i < p and all
 * marks are cleared when d_i ≥ p; the runs still marked at the end are reclassified as nominal (pruned).
 *
 * Not included (they need the raw values or the batch loop): Telemanom's checks of error scale against the
 * values' 5-95 % range, its initial `num_to_ignore` points, the inverted errors (2μ - e) and the sliding windows
 * of batch_size·window_size errors. A constant error window (σ = 0) has no anomalies: threshold = μ, no flags.
 *
 * @example
 *   const e = new Float64Array(100).fill(1); e[50] = 20;
 *   dynamicThreshold(e, { errorBuffer: 1 })   // flags 49..51, one sequence [49, 51]
 */
export function dynamicThreshold(errors: Numbers, options: DynamicThresholdOptions = {}): DynamicThresholdResult {
  checkNonEmpty(errors, 'dynamicThreshold(errors)');
  checkFinite(errors, 'dynamicThreshold(errors)');
  const zMin = options.zMin ?? 2.5;
  const zMax = options.zMax ?? 12;
  const zStep = options.zStep ?? 0.5;
  const buffer = options.errorBuffer ?? 100;
  const p = options.p ?? 0.13;
  const maxSeq = options.maxSequences ?? 5;
  const maxFrac = options.maxAnomalyFraction ?? 0.5;
  if (!(zStep > 0) || !(zMax >= zMin)) throw new RangeError(`dynamicThreshold(options): expected zStep > 0 and zMax ≥ zMin, got zMin ${zMin}, zMax ${zMax}, zStep ${zStep}`);
  if (!(Number.isInteger(buffer) && buffer >= 0)) throw new RangeError(`dynamicThreshold(options.errorBuffer): expected an integer ≥ 0, got ${buffer}`);
  if (!(p >= 0 && p < 1)) throw new RangeError(`dynamicThreshold(options.p): expected 0 ≤ p < 1, got ${p}`);

  const n = errors.length;
  const mu = mean(errors);
  const sd = std(errors, mu);
  const mask = new Uint8Array(n);
  if (sd === 0) return { threshold: mu, z: zMax, flags: mask, sequences: [], pruned: [] };

  // 1. Choose z.
  let bestScore = -Infinity;
  let bestZ = zMax;
  const steps = Math.ceil((zMax - zMin) / zStep - 1e-12);
  for (let k = 0; k < steps; k++) {
    const z = zMin + k * zStep;
    const eps = mu + z * sd;
    const nAnom = bufferedMask(errors, eps, Math.max(0, buffer - 1), mask);
    if (nAnom === 0) continue;
    let s = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const v = errors[i] as number;
      if (v < eps) {
        s += v;
        c++;
      }
    }
    const pm = s / c;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const v = errors[i] as number;
      if (v < eps) ss += (v - pm) * (v - pm);
    }
    const psd = Math.sqrt(ss / c);
    const nSeq = runsOfOnes(mask).length;
    const score = ((mu - pm) / mu + (sd - psd) / sd) / (nSeq * nSeq + nAnom);
    if (score >= bestScore && nSeq <= maxSeq && nAnom < n * maxFrac) {
      bestScore = score;
      bestZ = z;
    }
  }
  const eps = mu + bestZ * sd;

  // 2. Flag at ε, then prune.
  const nAnom = bufferedMask(errors, eps, buffer, mask);
  if (nAnom === 0) return { threshold: eps, z: bestZ, flags: mask, sequences: [], pruned: [] };
  const seqs = runsOfOnes(mask);
  let nonAnomMax = -Infinity;
  for (let i = 0; i < n; i++) if (mask[i] === 0 && (errors[i] as number) > nonAnomMax) nonAnomMax = errors[i] as number;
  const seqMax = seqs.map(([a, b]) => {
    let m = -Infinity;
    for (let i = a; i <= b; i++) if ((errors[i] as number) > m) m = errors[i] as number;
    return m;
  });
  const order = seqMax.map((_, i) => i).sort((a, b) => (seqMax[b] as number) - (seqMax[a] as number));
  const sortedMax = order.map((i) => seqMax[i] as number);
  if (nonAnomMax > -Infinity) sortedMax.push(nonAnomMax);
  let remove = new Set<number>();
  for (let i = 0; i + 1 < sortedMax.length; i++) {
    const a = sortedMax[i] as number;
    const d = (a - (sortedMax[i + 1] as number)) / a;
    if (d < p) remove.add(order[i] as number);
    else remove = new Set<number>();
  }
  const sequences: Array<[number, number]> = [];
  const pruned: Array<[number, number]> = [];
  seqs.forEach((sq, i) => {
    if (remove.has(i)) {
      pruned.push(sq);
      for (let j = sq[0]; j <= sq[1]; j++) mask[j] = 0;
    } else sequences.push(sq);
  });
  return { threshold: eps, z: bestZ, flags: mask, sequences, pruned };
}

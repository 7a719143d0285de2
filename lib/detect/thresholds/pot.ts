/**
 * Streaming thresholds by peaks over threshold (Siffer et al., "Anomaly Detection in Streams with Extreme Value
 * Theory", KDD 2017): the GPD fit (Grimshaw's trick), the POT quantile, SPOT and drift-aware DSPOT.
 *   Spot    t = initial threshold (order statistic of level `level` of the calibration scores); peaks Y = s - t
 *           for s > t; a generalized Pareto distribution GPD(γ, σ) is fitted to Y by maximum likelihood with
 *           Grimshaw's trick (`gpdFit`); the alarm threshold is
 *             z_q = t + σ/γ·((q·n/N_t)^(-γ) - 1)      (γ ≠ 0),   z_q = t - σ·log(q·n/N_t)   (γ = 0)
 *           with n the number of observations and N_t the number of peaks. Streaming (`update(x)`): x > z_q is an
 *           alarm (flag rule: score > threshold, strict, as SPOT's `X_i > z_q`) and does not touch the model;
 *           t < x ≤ z_q adds the peak x - t, refits and recomputes z_q; otherwise only n grows.
 *   Dspot   the same on the drift-corrected variable x - M, where M is the mean of the last `depth` normal
 *           observations; alarms do not enter that window either. The absolute threshold is z_q + M.
 */
import { ArgumentError } from '../../errors.js';
import { type Numbers, checkFinite, checkNonEmpty, checkPoint, mean } from './numbers.js';
import {
  type StateNumber,
  encodeNumber,
  encodeNumbers,
  readCount,
  readNumber,
  readNumbers,
  readObject,
  field,
  STATE_MAX,
} from './state.js';

// ---------------------------------------------------------------------------------------------------------------
// Generalized Pareto fit (Grimshaw's trick) and the POT quantile.
// ---------------------------------------------------------------------------------------------------------------

/** A GPD(γ, σ) fit (location 0) with its log-likelihood. γ is the shape (tail index), σ > 0 the scale. */
export interface GpdFit {
  /** Shape γ. */
  gamma: number;
  /** Scale σ. */
  sigma: number;
  /** Log-likelihood of the peaks at (γ, σ). */
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
    for (let i = 0; i < m; i++) s += y[i];
    return -m * Math.log(sigma) - s / sigma;
  }
  const x = gamma / sigma;
  for (let i = 0; i < m; i++) {
    const a = x * y[i];
    if (!(a > -1)) return -Infinity;
    s += Math.log1p(a);
  }
  return -m * Math.log(sigma) - (1 + 1 / gamma) * s;
}

/**
 * Log-likelihood of the sample `y` under GPD(γ, σ) with location 0 (see the formula in `gpdFit`'s notes).
 * @param y - The sample (excesses).
 * @param gamma - Shape γ.
 * @param sigma - Scale σ.
 * @returns The log-likelihood (-Infinity outside the support or for σ ≤ 0).
 * @throws {@link ArgumentError} when a value is not finite.
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(thresholds.gpdLogLikelihood([1, 2], 0, 1), -3); // -(1 + 2)
 * ```
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
    const a = x * y[i];
    u += Math.log1p(a);
    v += 1 / (1 + a);
  }
  return (1 + u / m) * (v / m) - 1;
}

/** γ(x) = u(x) - 1 = mean log(1 + x·y): the profile-likelihood shape at x = γ/σ. */
function grimshawGamma(y: Float64Array, m: number, x: number): number {
  let u = 0;
  for (let i = 0; i < m; i++) u += Math.log1p(x * y[i]);
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
  const g = new Grimshaw();
  g.run(y, m);
  return { gamma: g.gamma, sigma: g.sigma, logLikelihood: g.logLikelihood };
}

const G = 96; // grid points per half-interval

/**
 * Sorts a finite grid ascending in place without allocating (TypedArray.prototype.sort allocates ~80 bytes a call): it
 * is built descending, so reverse, then insertion sort (linear on sorted input) puts any near-ties in order. The same
 * result as sort() for finite values without both -0 and +0 (the grids are all negative or all positive).
 */
function sortAscending(xs: Float64Array): void {
  const n = xs.length;
  for (let i = 0, j = n - 1; i < j; i++, j--) {
    const t = xs[i];
    xs[i] = xs[j];
    xs[j] = t;
  }
  for (let i = 1; i < n; i++) {
    const v = xs[i];
    let j = i - 1;
    while (j >= 0 && xs[j] > v) {
      xs[j + 1] = xs[j];
      j--;
    }
    xs[j + 1] = v;
  }
}

/**
 * Grimshaw's fit with its grid kept from fit to fit: SPOT refits on every peak of a stream, and a refit allocates
 * nothing. `run(y, m)` leaves the best fit in gamma, sigma, logLikelihood.
 */
class Grimshaw {
  private readonly xs = new Float64Array(2 * G);
  private y: Float64Array = this.xs;
  private m = 0;
  gamma = 0;
  sigma = 0;
  logLikelihood = -Infinity;

  run(y: Float64Array, m: number): void {
    let ymin = Infinity;
    let ymax = -Infinity;
    let sum = 0;
    for (let i = 0; i < m; i++) {
      const v = y[i];
      if (v < ymin) ymin = v;
      if (v > ymax) ymax = v;
      sum += v;
    }
    const ymean = sum / m;
    this.y = y;
    this.m = m;
    this.gamma = 0;
    this.sigma = ymean;
    this.logLikelihood = gpdLogLikelihoodN(y, m, 0, ymean);
    const xs = this.xs;
    if (ymax > 0 && m > 1) {
      // Left interval x = -τ/ymax, τ in (0, 1): log-spaced towards τ → 0 and towards τ → 1 (support edge).
      for (let k = 0; k < G; k++) {
        const f = k / (G - 1);
        const tauSmall = Math.exp(Math.log(1e-7) + (Math.log(0.5) - Math.log(1e-7)) * f); // 1e-7 … 0.5
        const oneMinusTau = Math.exp(Math.log(0.5) + (Math.log(1e-12) - Math.log(0.5)) * f); // 0.5 … 1e-12
        xs[k] = -tauSmall / ymax;
        xs[G + k] = -(1 - oneMinusTau) / ymax;
      }
      sortAscending(xs);
      this.scan(xs);
    }
    if (ymean > ymin && m > 1) {
      const lo = 1e-7 / ymean;
      let c = (2 * (ymean - ymin)) / (ymin * ymin);
      const cap = 1e15 / ymean;
      if (!(c < cap)) c = cap;
      if (c > lo) {
        const a = Math.log(lo);
        const b = Math.log(c);
        for (let k = 0; k < xs.length; k++) xs[k] = Math.exp(a + ((b - a) * k) / (xs.length - 1));
        this.scan(xs);
      }
    }
  }

  private consider(x: number): void {
    const y = this.y,
      m = this.m;
    const gamma = grimshawGamma(y, m, x);
    if (gamma === 0 || !Number.isFinite(gamma)) return;
    const sigma = gamma / x;
    if (!(sigma > 0) || !Number.isFinite(sigma)) return;
    const ll = gpdLogLikelihoodN(y, m, gamma, sigma);
    if (ll > this.logLikelihood) {
      this.gamma = gamma;
      this.sigma = sigma;
      this.logLikelihood = ll;
    }
  }

  /** Scans a grid xs (ascending), bisecting each sign change of w. */
  private scan(xs: Float64Array): void {
    const y = this.y,
      m = this.m;
    let xa = xs[0];
    let wa = grimshawW(y, m, xa);
    for (let k = 1; k < xs.length; k++) {
      const xb = xs[k];
      const wb = grimshawW(y, m, xb);
      if (wa === 0) this.consider(xa);
      else if (Number.isFinite(wa) && Number.isFinite(wb) && wa < 0 !== wb < 0 && wb !== 0) {
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
          if (wm < 0 === wlo < 0) {
            lo = mid;
            wlo = wm;
          } else hi = mid;
        }
        this.consider(0.5 * (lo + hi));
      }
      xa = xb;
      wa = wb;
    }
  }
}

/**
 * Maximum-likelihood fit of a generalized Pareto distribution GPD(γ, σ) (location 0) to positive excesses `peaks`,
 * by Grimshaw's trick as in SPOT (Siffer et al., KDD 2017). See the notes on the root search above the
 * implementation. The GPD: P(Y > y) = (1 + γ·y/σ)^(-1/γ) (γ ≠ 0), exp(-y/σ) (γ = 0).
 * @param peaks - Positive excesses over a threshold.
 * @returns γ, σ and the log-likelihood.
 * @throws {@link ArgumentError} when peaks is empty or holds a value that is not positive and finite.
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // Equal peaks: the exponential distribution.
 * assert.deepEqual(thresholds.gpdFit([1, 1, 1]), { gamma: 0, sigma: 1, logLikelihood: -3 });
 * ```
 */
export function gpdFit(peaks: Numbers): GpdFit {
  checkNonEmpty(peaks, 'gpdFit(peaks)');
  checkFinite(peaks, 'gpdFit(peaks)');
  for (let i = 0; i < peaks.length; i++) {
    if (!(peaks[i] > 0)) {
      throw new ArgumentError('gpdFit(peaks)', 'positive excesses', `${peaks[i]} at index ${i}`);
    }
  }
  return grimshaw(Float64Array.from(peaks), peaks.length);
}

/**
 * The POT extreme quantile (Siffer et al. KDD 2017, eq. 1): the value exceeded with probability q,
 *   z_q = t + σ/γ·((q·n/N_t)^(-γ) - 1)   (γ ≠ 0),     z_q = t - σ·log(q·n/N_t)   (γ = 0, the limit),
 * computed as t + σ·expm1(-γ·log r)/γ with r = q·n/N_t, which stays accurate as γ → 0.
 * @param t - The initial threshold.
 * @param gamma - GPD shape γ.
 * @param sigma - GPD scale σ.
 * @param q - The risk.
 * @param n - Observations.
 * @param peakCount - Peaks N_t.
 * @returns z_q.
 * @throws {@link ArgumentError} unless q·n/N_t is positive and finite.
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const z = thresholds.potQuantile(10, 0.5, 2, 1e-3, 1000, 10); // r = q·n/N_t = 0.1
 * assert.ok(Math.abs(z - (10 + 4 * (Math.sqrt(10) - 1))) < 1e-12);
 * ```
 */
export function potQuantile(t: number, gamma: number, sigma: number, q: number, n: number, peakCount: number): number {
  const r = (q * n) / peakCount;
  if (!(r > 0) || !Number.isFinite(r)) {
    throw new ArgumentError('potQuantile', 'q·n/N_t > 0', `q = ${q}, n = ${n}, N_t = ${peakCount}`);
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
  /** The threshold the point was compared with. */
  threshold: number;
  /** 1 iff the point exceeded it. */
  flag: 0 | 1;
}

/**
 * What a SPOT threshold changes as it streams (`Spot.getState`): counters n and N_t, the peaks kept for the fit (in
 * storage order: the ring's slots once maxPeaks are kept, `next` its write position), the current fit and z_q.
 * Numbers as thresholds/state.ts writes them (z_q may be Infinity, written 'Infinity').
 */
export interface SpotState {
  /** Non-alarm observations n. */
  n: number;
  /** Peaks seen N_t. */
  nt: number;
  /** The peaks kept, min(N_t, maxPeaks) of them, in storage order. */
  peaks: StateNumber[];
  /** Ring write position (0 until maxPeaks are kept). */
  next: number;
  /** GPD shape γ. */
  gamma: StateNumber;
  /** GPD scale σ. */
  sigma: StateNumber;
  /** The fit's log-likelihood. */
  logLikelihood: StateNumber;
  /** The current alarm threshold z_q. */
  zq: StateNumber;
}

/** `Dspot.getState()`: SPOT's state on the drift-corrected variable, and the window of recent normal values. */
export interface DspotState extends SpotState {
  /** The last `depth` normal observations, in storage order. */
  window: StateNumber[];
  /** The window's write position. */
  head: number;
}

const SPOT_STATE_KEYS = ['n', 'nt', 'peaks', 'next', 'gamma', 'sigma', 'logLikelihood', 'zq'] as const;

/**
 * The peaks buffer's first length for `count` peaks: the whole ring when maxPeaks is at most 4096 (a stream's SPOT keeps
 * 2000: 16 KB, and its pushes then never grow it), else room to double.
 */
function peakCapacity(maxPeaks: number, count: number): number {
  return maxPeaks <= 4096 ? maxPeaks : Math.max(16, count * 2);
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
  private readonly grimshaw = new Grimshaw();
  private excess = 0; // the peak step() hands to refit()

  constructor(where: string, values: Float64Array, q: number, level: number, maxPeaks: number) {
    if (!(q > 0 && q < 1)) throw new ArgumentError(`${where}(options.q)`, '0 < q < 1', `${q}`);
    if (!(level > 0 && level < 1)) throw new ArgumentError(`${where}(options.level)`, '0 < level < 1', `${level}`);
    if (!(maxPeaks >= 1) || (maxPeaks !== Infinity && !Number.isInteger(maxPeaks))) {
      throw new ArgumentError(`${where}(options.maxPeaks)`, 'an integer ≥ 1 or Infinity', `${maxPeaks}`);
    }
    this.q = q;
    this.maxPeaks = maxPeaks;
    const s = Float64Array.from(values).sort();
    const n = s.length;
    // Initial threshold as the reference implementation: the order statistic sorted[⌊level·n⌋].
    this.t = s[Math.min(Math.floor(level * n), n - 1)];
    let nt = 0;
    for (let i = 0; i < n; i++) if (values[i] > this.t) nt++;
    if (nt === 0) {
      throw new ArgumentError(`${where}(calibration)`, 'at least one value above the initial threshold', 'none', {
        problem:
          `no calibration value exceeds the initial threshold t = ${this.t} (level ${level}, ` +
          `${n} values); SPOT needs at least one peak: give more varied calibration data or a lower level`,
      });
    }
    this.peaks = new Float64Array(peakCapacity(maxPeaks, nt));
    for (let i = 0; i < n; i++) {
      const v = values[i];
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

  /** What changes as points stream in (q, t and maxPeaks come from the calibration and options). */
  getState(): SpotState {
    return {
      n: this.n,
      nt: this.nt,
      peaks: encodeNumbers(this.peaks, 0, this.count),
      next: this.next,
      gamma: encodeNumber(this.fit.gamma),
      sigma: encodeNumber(this.fit.sigma),
      logLikelihood: encodeNumber(this.fit.logLikelihood),
      zq: encodeNumber(this.zq),
    };
  }

  /**
   * Takes over a saved state (untrusted, checked field by field; `where` names it in errors) on this freshly calibrated
   * state, after at most `updates` streamed points: n and N_t grow from their calibration values by at most that many.
   */
  setState(v: unknown, where: string, updates: number, extraKeys: readonly string[] = []): Record<string, unknown> {
    const s = readObject(v, where, [...SPOT_STATE_KEYS, ...extraKeys]);
    const n = readCount(s.n, field(where, 'n'), this.n, this.n + updates);
    const nt = readCount(s.nt, field(where, 'nt'), this.nt, this.nt + (n - this.n));
    const count = Math.min(nt, this.maxPeaks);
    const peaks = readNumbers(s.peaks, field(where, 'peaks'), count, { min: 0, aboveMin: true, max: STATE_MAX });
    const next = readCount(s.next, field(where, 'next'), 0, count < this.maxPeaks ? 0 : this.maxPeaks - 1);
    const gamma = readNumber(s.gamma, field(where, 'gamma'));
    const sigma = readNumber(s.sigma, field(where, 'sigma'), { min: 0, aboveMin: true });
    const logLikelihood = readNumber(s.logLikelihood, field(where, 'logLikelihood'), { infinite: true });
    const zq = readNumber(s.zq, field(where, 'zq'), { infinite: true });
    this.n = n;
    this.nt = nt;
    this.peaks = new Float64Array(peakCapacity(this.maxPeaks, count));
    this.peaks.set(peaks);
    this.count = count;
    this.next = next;
    this.fit = { gamma, sigma, logLikelihood };
    this.zq = zq;
    return s;
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
      this.excess = v - this.t; // a field, not an argument: V8 would box a double passed to a call it does not inline
      this.refit();
    }
    return 0;
  }

  /** A new peak (this.excess): store it, refit the GPD, recompute z_q. */
  private refit(): void {
    this.pushPeak(this.excess);
    this.nt++;
    const g = this.grimshaw;
    g.run(this.peaks, this.count);
    const fit = this.fit; // updated in place: a refit on a stream allocates nothing
    fit.gamma = g.gamma;
    fit.sigma = g.sigma;
    fit.logLikelihood = g.logLikelihood;
    this.zq = potQuantile(this.t, fit.gamma, fit.sigma, this.q, this.n, this.nt);
  }
}

function checkCalibration(calibration: Numbers, where: string, minLength: number): Float64Array {
  checkFinite(calibration, `${where}(calibration)`);
  if (calibration.length < minLength) {
    throw new ArgumentError(`${where}(calibration)`, `at least ${minLength} values`, `${calibration.length}`);
  }
  return Float64Array.from(calibration);
}

/**
 * SPOT, streaming peaks-over-threshold (Siffer et al., KDD 2017, Algorithm 1), upper tail.
 * Calibration: t = sorted(calibration)[⌊level·n⌋]; peaks = {s - t : s > t}; GPD fit by Grimshaw's trick; z_q.
 * `update(x)` compares x with the current z_q (the returned `threshold`), then: alarm if x > z_q (x is not added
 * to the peaks and n is not incremented); else n += 1 and, if x > t, x - t joins the peaks, N_t += 1, the GPD is
 * refitted and z_q recomputed. (The reference code records the threshold after the update; we return the one
 * the point was judged by, so flag = x > threshold always holds.)
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // Calibrate on 1000 scores from an exponential tail, then stream.
 * let seed = 1;
 * const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
 * const train = Array.from({ length: 1000 }, () => -Math.log(1 - random()));
 * const spot = new thresholds.Spot(train, { q: 1e-3 });
 * assert.ok(spot.threshold > 5 && spot.threshold < 10); // −log(1e-3) ≈ 6.9 for this tail
 * assert.deepEqual(spot.update(1), { threshold: spot.threshold, flag: 0 });
 * assert.equal(spot.update(50).flag, 1);
 * ```
 */
export class Spot {
  private readonly pot: PotState;
  /** The threshold the last score given to update/step was compared with (NaN before the first). @internal */
  compared = NaN;
  /** Probability of the initial threshold. */
  readonly level: number;

  /**
   * @param calibration - Scores of normal data (e.g. training scores) that set t and the first GPD fit.
   * @param options - q (default 1e-4), level (default 0.98), maxPeaks.
   * @throws {@link ArgumentError} for empty or non-finite calibration, or an option out of range.
   */
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

  /**
   * Processes one new score; returns the threshold it was compared with and its flag.
   *
   * @param x - The next score.
   * @returns The threshold x was compared with, and its flag.
   * @throws {@link ArgumentError} when x is not finite.
   */
  update(x: number): SpotStep {
    const flag = this.step(x, 'Spot.update(x)');
    return { threshold: this.compared, flag };
  }

  /**
   * `update` without the result object (a stream's push allocates nothing): the flag; the threshold x was compared
   * with is then {@link Spot.compared}.
   *
   * @internal
   * @param x - The next score (finite).
   * @param where - The name an error gives x.
   * @returns 1 when x exceeds the threshold, else 0.
   * @throws {@link ArgumentError} when x is not finite.
   */
  step(x: number, where = 'Spot.update(x)'): 0 | 1 {
    checkPoint(x, where);
    this.compared = this.pot.zq;
    return this.pot.step(x);
  }

  /**
   * What has changed since calibration, plain JSON (a stream's saved state holds it).
   *
   * @internal
   * @returns The state; {@link Spot.setState} on a Spot built from the same calibration and options continues from it.
   */
  getState(): SpotState {
    return this.pot.getState();
  }

  /**
   * Takes over a state from {@link Spot.getState} (untrusted: every field checked).
   *
   * @internal
   * @param state - The saved state.
   * @param where - The name errors give it (`stream(state.threshold)`).
   * @param updates - The points streamed since calibration (n grows by at most that many).
   * @throws {@link ArgumentError} naming the field at fault.
   */
  setState(state: unknown, where: string, updates: number): void {
    this.pot.setState(state, where, updates);
  }
}

/**
 * The SPOT alarm threshold z_q fitted on calibration scores only (no streaming updates): a static threshold.
 * @param calibration - Scores of normal data.
 * @param options - q (default 1e-4), level (default 0.98), maxPeaks.
 * @returns z_q.
 * @throws {@link ArgumentError} for empty or non-finite calibration, or an option out of range.
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const train = Array.from({ length: 500 }, (_, i) => Math.abs(Math.sin(i * 12.9898) * 3));
 * const z = thresholds.spotThreshold(train, { q: 1e-3, level: 0.98 });
 * assert.ok(z >= thresholds.quantile(train, 0.98)); // above the initial threshold t
 * ```
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
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // A slowly rising level: DSPOT follows it; a jump above it is flagged.
 * const calibration = Array.from({ length: 300 }, (_, i) => i / 100 + Math.abs(Math.sin(i * 7.1)) * 0.1);
 * const dspot = new thresholds.Dspot(calibration, { q: 1e-3, depth: 10 });
 * assert.equal(dspot.update(3.05).flag, 0);
 * assert.equal(dspot.update(10).flag, 1);
 * ```
 */
export class Dspot {
  private readonly pot: PotState;
  /** The threshold the last score given to update/step was compared with (NaN before the first). @internal */
  compared = NaN;
  private readonly window: Float64Array;
  private head = 0;
  /** Probability of the initial threshold. */
  readonly level: number;
  /** Moving-average depth d. */
  readonly depth: number;

  /**
   * @param calibration - Scores of normal data; at least depth + 1 of them.
   * @param options - q (default 1e-4), level (default 0.98), maxPeaks, depth (default 10).
   * @throws {@link ArgumentError} for too few or non-finite calibration values, or an option out of range.
   */
  constructor(calibration: Numbers, options: DspotOptions = {}) {
    const depth = options.depth ?? 10;
    if (!(Number.isInteger(depth) && depth >= 1)) {
      throw new ArgumentError('Dspot(options.depth)', 'an integer ≥ 1', `${depth}`);
    }
    const x = checkCalibration(calibration, 'Dspot', depth + 1);
    this.depth = depth;
    this.level = options.level ?? 0.98;
    const T = new Float64Array(x.length - depth);
    let wsum = 0;
    for (let i = 0; i < depth; i++) wsum += x[i];
    for (let i = depth; i < x.length; i++) {
      T[i - depth] = x[i] - wsum / depth;
      wsum += x[i] - x[i - depth];
    }
    this.pot = new PotState('Dspot', T, options.q ?? 1e-4, this.level, options.maxPeaks ?? Infinity);
    this.window = x.slice(x.length - depth);
  }

  /** Risk q. */
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

  /**
   * Processes one new score; returns the absolute threshold it was compared with and its flag.
   *
   * @param x - The next score.
   * @returns The absolute threshold x was compared with, and its flag.
   * @throws {@link ArgumentError} when x is not finite.
   */
  update(x: number): SpotStep {
    const flag = this.step(x, 'Dspot.update(x)');
    return { threshold: this.compared, flag };
  }

  /**
   * `update` without the result object (a stream's push allocates nothing): the flag; the threshold x was compared
   * with is then {@link Dspot.compared}.
   *
   * @internal
   * @param x - The next score (finite).
   * @param where - The name an error gives x.
   * @returns 1 when x exceeds the threshold, else 0.
   * @throws {@link ArgumentError} when x is not finite.
   */
  step(x: number, where = 'Dspot.update(x)'): 0 | 1 {
    checkPoint(x, where);
    const M = this.movingAverage;
    this.compared = this.pot.zq + M;
    const flag = this.pot.step(x - M);
    if (flag === 0) {
      this.window[this.head] = x;
      this.head = (this.head + 1) % this.depth;
    }
    return flag;
  }

  /**
   * What has changed since calibration, plain JSON (a stream's saved state holds it).
   *
   * @internal
   * @returns The state; {@link Dspot.setState} on a Dspot built from the same calibration and options continues from it.
   */
  getState(): DspotState {
    return { ...this.pot.getState(), window: encodeNumbers(this.window), head: this.head };
  }

  /**
   * Takes over a state from {@link Dspot.getState} (untrusted: every field checked).
   *
   * @internal
   * @param state - The saved state.
   * @param where - The name errors give it (`stream(state.threshold)`).
   * @param updates - The points streamed since calibration (n grows by at most that many).
   * @throws {@link ArgumentError} naming the field at fault.
   */
  setState(state: unknown, where: string, updates: number): void {
    const s = readObject(state, where, [...SPOT_STATE_KEYS, 'window', 'head']);
    const window = readNumbers(s.window, field(where, 'window'), this.depth, { min: -STATE_MAX, max: STATE_MAX });
    const head = readCount(s.head, field(where, 'head'), 0, this.depth - 1);
    this.pot.setState(state, where, updates, ['window', 'head']); // checks the rest before it changes anything
    this.window.set(window);
    this.head = head;
  }
}

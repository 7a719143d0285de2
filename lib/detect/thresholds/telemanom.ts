/**
 * Telemanom's nonparametric dynamic threshold (Hundman et al., KDD 2018) on smoothed errors e_s (`dynamicThreshold`,
 * which flags score ≥ ε, as its code does, and returns its own flags), with the EWMA smoothing it expects (`ewma`, `Ewma`).
 */
import { ArgumentError } from '../../errors.js';
import { runsOfOnes } from '../events.js';
import { type Numbers, checkFinite, checkNonEmpty, checkPoint, mean, std } from './numbers.js';
import { field, readNumber, readObject, stateFail, STATE_MAX } from './state.js';

/**
 * Exponentially weighted moving average, as pandas `Series.ewm(span).mean()` (adjust = True), which Telemanom uses
 * to smooth prediction errors: α = 2/(span + 1),
 *   y_t = Σ_{i≤t} (1-α)^(t-i)·x_i / Σ_{i≤t} (1-α)^(t-i),
 * computed by the recursion num_t = x_t + (1-α)·num_{t-1}, den_t = 1 + (1-α)·den_{t-1}, y_t = num_t/den_t.
 * Telemanom's span is ⌊batch_size·window_size·smoothing_perc⌋ = ⌊70·30·0.05⌋ = 105.
 * @param x - The values.
 * @param span - The span (≥ 1); α = 2/(span + 1).
 * @returns The smoothed values.
 * @throws {@link ArgumentError} for a non-finite value or span < 1.
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.deepEqual(thresholds.ewma([1, 2, 3], 3), Float64Array.of(1, 5 / 3, 17 / 7)); // α = 0.5
 * ```
 */
export function ewma(x: Numbers, span: number): Float64Array {
  checkFinite(x, 'ewma(x)');
  const s = new Ewma(span);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = s.push(x[i]);
  return y;
}

/** The streaming form of `ewma`: constant memory, `push(x)` returns the smoothed value; same numbers as `ewma`. */
export class Ewma {
  /** The span; α = 2/(span + 1). */
  readonly span: number;
  private readonly decay: number;
  private num = 0;
  private den = 0;

  /**
   * @param span - The span (≥ 1).
   * @throws {@link ArgumentError} for span < 1 or not finite.
   */
  constructor(span: number) {
    if (!(span >= 1) || !Number.isFinite(span)) throw new ArgumentError('ewma(span)', 'span ≥ 1', `${span}`);
    this.span = span;
    this.decay = 1 - 2 / (span + 1);
  }

  /**
   * Adds a value.
   *
   * @param x - The next value.
   * @returns The smoothed value up to and including x.
   * @throws {@link ArgumentError} when x is not finite.
   * @example
   * ```ts
   * import { thresholds } from 'bptt';
   * import assert from 'node:assert/strict';
   *
   * const s = new thresholds.Ewma(3);
   * assert.deepEqual([1, 2, 3].map((x) => s.push(x)), Array.from(thresholds.ewma([1, 2, 3], 3)));
   * ```
   */
  push(x: number): number {
    checkPoint(x, 'Ewma.push(x)');
    this.num = x + this.decay * this.num;
    this.den = 1 + this.decay * this.den;
    return this.num / this.den;
  }

  /**
   * `push` through a buffer: replaces v[0] by the smoothed value up to and including it. Same numbers as `push`; a
   * stream uses it because a double passed to or returned from a call V8 does not inline is boxed (16 bytes each).
   *
   * @internal
   * @param v - One value in, the smoothed value out.
   * @throws {@link ArgumentError} when v[0] is not finite.
   */
  pushIn(v: Float64Array): void {
    const x = v[0];
    if (!Number.isFinite(x)) checkPoint(x, 'Ewma.push(x)');
    this.num = x + this.decay * this.num;
    this.den = 1 + this.decay * this.den;
    v[0] = this.num / this.den;
  }

  /**
   * The running sums, plain JSON (a stream's saved state holds them).
   *
   * @internal
   * @returns num and den; {@link Ewma.setState} on an Ewma of the same span continues from them.
   */
  getState(): { num: number; den: number } {
    return { num: this.num, den: this.den };
  }

  /**
   * Takes over sums from {@link Ewma.getState} (untrusted: checked).
   *
   * @internal
   * @param state - The saved sums.
   * @param where - The name errors give it (`stream(state.ewma)`).
   * @throws {@link ArgumentError} naming the field at fault.
   */
  setState(state: unknown, where: string): void {
    const s = readObject(state, where, ['num', 'den']);
    const num = readNumber(s.num, field(where, 'num'), { min: -STATE_MAX, max: STATE_MAX });
    // den = Σ decayᵏ over the values pushed: 0 before the first, then in [1, span]
    const den = readNumber(s.den, field(where, 'den'), { min: 0, max: this.span });
    if (den === 0 && num !== 0) stateFail(field(where, 'num'), '0 when den is 0 (nothing pushed)', s.num);
    if (den !== 0 && den < 1) stateFail(field(where, 'den'), `0 or a number in [1, ${this.span}]`, s.den);
    this.num = num;
    this.den = den;
  }

  /** Forgets every value pushed so far. */
  reset(): void {
    this.num = 0;
    this.den = 0;
  }
}

/** Options of `dynamicThreshold`; defaults are Telemanom's (config.yaml and errors.py). */
export interface DynamicThresholdOptions {
  /** Candidate z from zMin (inclusive) to zMax (exclusive) in steps of zStep: np.arange(2.5, 12, 0.5). */
  zMin?: number;
  /** End of the candidate z range, exclusive (default 12). */
  zMax?: number;
  /** Step of the candidate z range (default 0.5). */
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
    if (e[i] >= eps) {
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
 * @param errors - Smoothed errors e_s of one window.
 * @param options - See {@link DynamicThresholdOptions}; defaults are Telemanom's.
 * @returns ε, the chosen z, flags, and the kept and pruned sequences.
 * @throws {@link ArgumentError} for empty or non-finite errors, or an invalid option.
 * @example
 * ```ts
 * import { thresholds } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const e = new Float64Array(100).fill(1);
 * e[50] = 20;
 * const r = thresholds.dynamicThreshold(e, { errorBuffer: 1 });
 * assert.deepEqual(r.sequences, [[49, 51]]);
 * assert.deepEqual(Array.from(r.flags.keys()).filter((i) => r.flags[i] === 1), [49, 50, 51]);
 * ```
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
  if (!(zStep > 0) || !(zMax >= zMin)) {
    throw new ArgumentError(
      'dynamicThreshold(options)',
      'zStep > 0 and zMax ≥ zMin',
      `zMin ${zMin}, zMax ${zMax}, zStep ${zStep}`,
    );
  }
  if (!(Number.isInteger(buffer) && buffer >= 0)) {
    throw new ArgumentError('dynamicThreshold(options.errorBuffer)', 'an integer ≥ 0', `${buffer}`);
  }
  if (!(p >= 0 && p < 1)) throw new ArgumentError('dynamicThreshold(options.p)', '0 ≤ p < 1', `${p}`);

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
      const v = errors[i];
      if (v < eps) {
        s += v;
        c++;
      }
    }
    const pm = s / c;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const v = errors[i];
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
  for (let i = 0; i < n; i++) if (mask[i] === 0 && errors[i] > nonAnomMax) nonAnomMax = errors[i];
  const seqMax = seqs.map(([a, b]) => {
    let m = -Infinity;
    for (let i = a; i <= b; i++) if (errors[i] > m) m = errors[i];
    return m;
  });
  const order = seqMax.map((_, i) => i).sort((a, b) => seqMax[b] - seqMax[a]);
  const sortedMax = order.map((i) => seqMax[i]);
  if (nonAnomMax > -Infinity) sortedMax.push(nonAnomMax);
  let remove = new Set<number>();
  for (let i = 0; i + 1 < sortedMax.length; i++) {
    const a = sortedMax[i];
    const d = (a - sortedMax[i + 1]) / a;
    if (d < p) remove.add(order[i]);
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

/**
 * Normalisation for the detector. The series arrives read and filled by lib/tensor.ts (`readSeries`, `fillMissing`:
 * the one door for user arrays); this file scales it.
 *
 * Normalisation is fitted on the training series only and stored with the model:
 *   zscore   x' = (x − mean) / std        (population std)
 *   minmax   x' = (x − min) / (max − min)
 * A feature that is constant on the training series cannot be scaled, and is an ArgumentError naming the feature
 * (`feature`, 0-based). The kind is checked once, where the user gives it (Detector(normalize), the file loader).
 *
 * Huge values (any finite double, up to ±1.8e308). Fitting never overflows: when a sum or a sum of squares would pass
 * the largest double, mean and std are recomputed on the values divided by a power of two (exact), so a series that
 * lives at 1e300 scales like one at 1. A minmax range beyond the largest double (a feature spanning −1e308 to 1e308)
 * cannot be stored and is an error naming the feature. Normalised values saturate at ±SATURATION (1e15 training
 * standard deviations or ranges): a finite glitch such as 1e160 in a series that lives around 1 becomes a point at the
 * saturation level, which scores far above any threshold and is flagged, instead of an Infinity that float32 model
 * inputs, squares and sums cannot carry.
 */
import { ArgumentError } from '../errors.js';
import { describeValue } from '../check.js';
import { featureError, type Series } from '../tensor.js';

/** How a Detector scales each feature: 'zscore' ((x − mean)/std) or 'minmax' ((x − min)/(max − min)). */
export type NormalizeKind = 'zscore' | 'minmax';

/**
 * Largest magnitude of a normalised value. Far beyond any real signal (a value 1e15 training standard deviations out
 * is a glitch however it is measured), and small enough that model inputs stay finite in float32 (3.4e38) and that
 * squares and sums over windows stay finite in the float64 scores.
 */
export const SATURATION = 1e15;

/**
 * (v − offset) / scale, saturated at ±SATURATION; v finite, scale > 0. When v − offset overflows (v and offset huge
 * with opposite signs) the halves are subtracted instead, which is exact.
 * @example
 * ```text
 * normaliseValue(3, 1, 2)          // 1
 * ```
 * @example
 * ```text
 * normaliseValue(1e160, 0, 1)      // 1e15 (saturated)
 * ```
 * @example
 * ```text
 * normaliseValue(1.5e308, -1.5e308, 1.5e308)   // 2 (no overflow)
 * ```
 */
export function normaliseValue(v: number, offset: number, scale: number): number {
  let z = (v - offset) / scale;
  if (!Number.isFinite(v - offset)) z = ((v * 0.5 - offset * 0.5) / scale) * 2;
  // min/max, not ?: — the same values (-0 and NaN included), and V8 keeps z unboxed (a stream's push allocates nothing).
  return Math.min(Math.max(z, -SATURATION), SATURATION);
}

/**
 * Mean and population std of feature f, two-pass. If the sum or the sum of squares overflows, both are recomputed on
 * the values divided by a power of two p ≥ max|v| (exact), and scaled back: mean = p·mean(v/p), std = p·std(v/p).
 */
function meanStd(data: Float64Array, n: number, F: number, f: number, maxAbs: number): { mean: number; std: number } {
  const pass = (p: number): { mean: number; std: number; ok: boolean } => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += data[i * F + f] / p;
    const m = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = data[i * F + f] / p - m;
      ss += d * d;
    }
    return { mean: m * p, std: Math.sqrt(ss / n) * p, ok: Number.isFinite(sum) && Number.isFinite(ss) };
  };
  const plain = pass(1);
  if (plain.ok) return plain;
  return pass(2 ** Math.min(1023, Math.ceil(Math.log2(maxAbs))));
}

/** A {@link Normaliser} in a detector file. */
export interface NormaliserJSON {
  /** Which scaling. */
  kind: NormalizeKind;
  /** Per feature: subtracted first. */
  offset: number[];
  /** Per feature: divided by next. */
  scale: number[];
}

/** Per-feature affine scaling x' = (x − offset) / scale, fitted on the training series. */
export class Normaliser {
  /**
   * @param kind - 'zscore' or 'minmax'.
   * @param offset - Per feature: subtracted first.
   * @param scale - Per feature: divided by next (> 0).
   */
  constructor(
    /** 'zscore' or 'minmax'. */
    readonly kind: NormalizeKind,
    /** Per feature: subtracted first. */
    readonly offset: Float64Array,
    /** Per feature: divided by next. */
    readonly scale: Float64Array,
  ) {}

  /**
   * Fits the scaling on a (filled) training series.
   *
   * @param s - The series.
   * @param kind - 'zscore' (default) or 'minmax'.
   * @param argName - The argument to name in errors.
   * @returns The normaliser.
   * @throws {@link ArgumentError} when a feature has no values, or a scale would be 0 or non-finite.
   */
  static fit(s: Series, kind: NormalizeKind = 'zscore', argName = 'fit(series)'): Normaliser {
    const { data, n, F } = s;
    const offset = new Float64Array(F),
      scale = new Float64Array(F);
    for (let f = 0; f < F; f++) {
      let lo = Infinity,
        hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = data[i * F + f];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const { mean, std } = meanStd(data, n, F, f, Math.max(Math.abs(lo), Math.abs(hi)));
      if (!(hi > lo) || !(std > 1e-12 * Math.max(1, Math.abs(mean)))) {
        throw featureError(
          argName,
          f,
          `is constant (${lo}) on the training series; a constant signal cannot be scaled or ` +
            'modelled — drop the column or train on a part where it varies',
          'values that vary',
          `the constant ${lo}`,
        );
      }
      if (kind === 'minmax' && !Number.isFinite(hi - lo)) {
        throw featureError(
          argName,
          f,
          `spans ${lo} to ${hi} on the training series, a range beyond the largest double ` +
            "(1.8e308) that minmax cannot scale by; use normalize 'zscore' or rescale the data",
          'a range below 1.8e308',
          `${lo} to ${hi}`,
        );
      }
      offset[f] = kind === 'zscore' ? mean : lo;
      scale[f] = kind === 'zscore' ? std : hi - lo;
    }
    return new Normaliser(kind, offset, scale);
  }

  /**
   * A new normalised copy of the series.
   *
   * @param s - A series with this normaliser's feature count.
   * @returns The normalised series (values saturated at ±1e15).
   */
  transform(s: Series): Series {
    const { n, F } = s;
    if (F !== this.offset.length) {
      // cannot happen: the detector checks the feature count at its door
      throw new Error(`Normaliser.transform: expected ${this.offset.length} features (as in training), got ${F}`);
    }
    const out = new Float64Array(n * F);
    for (let i = 0; i < n; i++)
      for (let f = 0; f < F; f++) {
        out[i * F + f] = normaliseValue(s.data[i * F + f], this.offset[f], this.scale[f]);
      }
    return { data: out, n, F };
  }

  /**
   * The normaliser for a detector file.
   *
   * @returns kind, offset and scale as plain arrays.
   */
  toJSON(): NormaliserJSON {
    return { kind: this.kind, offset: Array.from(this.offset), scale: Array.from(this.scale) };
  }

  /**
   * A normaliser from a detector file's field (checked by the file reader).
   *
   * @param j - kind, offset and scale.
   * @returns The normaliser.
   */
  static fromJSON(j: NormaliserJSON): Normaliser {
    if (
      !j ||
      (j.kind !== 'zscore' && j.kind !== 'minmax') ||
      !Array.isArray(j.offset) ||
      !Array.isArray(j.scale) ||
      j.offset.length !== j.scale.length ||
      !j.scale.every((v) => Number.isFinite(v) && v > 0) ||
      !j.offset.every(Number.isFinite)
    ) {
      throw new ArgumentError(
        'normaliser',
        '{ kind, offset[F], scale[F] } with finite offsets and positive scales',
        describeValue(j),
      );
    }
    return new Normaliser(j.kind, Float64Array.from(j.offset), Float64Array.from(j.scale));
  }
}

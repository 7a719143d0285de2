/**
 * Series input and preprocessing for the detector.
 *
 * A series is n points of F features, stored row-major [n, F] in a Float64Array. Accepted inputs: number[] (univariate),
 * number[][] as [time][feature], or an ndarray of shape [n] or [n, F]. Missing values (NaN, null, undefined — what an
 * empty CSV cell becomes) are filled by linear interpolation between the nearest present neighbours of the same feature
 * (the first/last present value before/after the first/last present one), and reported, never dropped. Infinite values
 * are errors.
 *
 * Normalisation is fitted on the training series only and stored with the model:
 *   zscore   x' = (x − mean) / std        (population std)
 *   minmax   x' = (x − min) / (max − min)
 * A feature that is constant on the training series cannot be scaled, and is an error naming the feature.
 *
 * Huge values (any finite double, up to ±1.8e308). Fitting never overflows: when a sum or a sum of squares would pass
 * the largest double, mean and std are recomputed on the values divided by a power of two (exact), so a series that
 * lives at 1e300 scales like one at 1. A minmax range beyond the largest double (a feature spanning −1e308 to 1e308)
 * cannot be stored and is an error naming the feature. Normalised values saturate at ±SATURATION (1e15 training
 * standard deviations or ranges): a finite glitch such as 1e160 in a series that lives around 1 becomes a point at the
 * saturation level, which scores far above any threshold and is flagged, instead of an Infinity that float32 model
 * inputs, squares and sums cannot carry. Interpolation between two huge values of opposite sign does not overflow.
 */
import type { NdArray } from 'ndarray';

export interface Series {
  data: Float64Array;
  n: number;
  F: number;
}

export interface FillReport {
  /** Number of values that were missing and filled by interpolation. */
  filled: number;
  /** Per feature, the count of filled values. */
  perFeature: number[];
}

function isNdarray(x: unknown): x is NdArray {
  return typeof x === 'object' && x !== null && 'shape' in x && 'stride' in x && typeof (x as NdArray).get === 'function';
}

function cell(v: unknown, where: string): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v !== 'number') throw new TypeError(`${where}: expected a number, got ${typeof v} ${JSON.stringify(v)}`);
  if (v === Infinity || v === -Infinity) {
    throw new RangeError(`${where}: infinite value ${v}; expected a finite number (or NaN/null for a missing value)`);
  }
  return v;
}

/** Reads a series into [n, F] row-major float64, NaN kept (fill them with `fillMissing`). */
export function readSeries(x: unknown, argName: string): Series {
  if (isNdarray(x)) {
    const s = x.shape;
    if (s.length !== 1 && s.length !== 2) throw new RangeError(`${argName}: expected an ndarray of shape [n] or [n, F], got [${s.join(', ')}]`);
    const n = s[0] as number, F = s.length === 2 ? s[1] as number : 1;
    const data = new Float64Array(n * F);
    for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) {
      data[i * F + f] = cell(s.length === 2 ? x.get(i, f) : x.get(i), `${argName}[${i}${s.length === 2 ? `, ${f}` : ''}]`);
    }
    return check({ data, n, F }, argName);
  }
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
    const a = x as unknown as ArrayLike<number>;
    const data = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) data[i] = cell(a[i], `${argName}[${i}]`);
    return check({ data, n: a.length, F: 1 }, argName);
  }
  if (!Array.isArray(x)) {
    throw new TypeError(`${argName}: expected number[], number[][] ([time][feature]) or an ndarray, got ${x === null ? 'null' : typeof x}`);
  }
  const n = x.length;
  if (n === 0) throw new RangeError(`${argName}: empty series`);
  const multi = Array.isArray(x[0]) || ArrayBuffer.isView(x[0]);
  const F = multi ? (x[0] as ArrayLike<number>).length : 1;
  if (multi && F === 0) throw new RangeError(`${argName}: rows have no features (${argName}[0] is empty)`);
  const data = new Float64Array(n * F);
  for (let i = 0; i < n; i++) {
    const row = x[i] as unknown;
    if (multi) {
      if (!Array.isArray(row) && !ArrayBuffer.isView(row)) throw new TypeError(`${argName}[${i}]: expected a row of ${F} numbers, got ${typeof row}`);
      const r = row as ArrayLike<unknown>;
      if (r.length !== F) throw new RangeError(`${argName}[${i}]: expected ${F} features (as row 0), got ${r.length}`);
      for (let f = 0; f < F; f++) data[i * F + f] = cell(r[f], `${argName}[${i}][${f}]`);
    } else {
      if (Array.isArray(row)) throw new TypeError(`${argName}[${i}]: mixed rows: row 0 is a number, row ${i} is an array`);
      data[i] = cell(row, `${argName}[${i}]`);
    }
  }
  return check({ data, n, F }, argName);
}

function check(s: Series, argName: string): Series {
  if (s.n === 0) throw new RangeError(`${argName}: empty series`);
  for (let f = 0; f < s.F; f++) {
    let present = 0;
    for (let i = 0; i < s.n; i++) if (!Number.isNaN(s.data[i * s.F + f] as number)) present++;
    if (present === 0) throw new RangeError(`${argName}: feature ${f} has no values (all ${s.n} missing)`);
  }
  return s;
}

/** Fills NaN in place by linear interpolation per feature; returns how many were filled. */
export function fillMissing(s: Series): FillReport {
  const { data, n, F } = s;
  const perFeature = new Array<number>(F).fill(0);
  for (let f = 0; f < F; f++) {
    let prev = -1;   // index of the last present value
    for (let i = 0; i <= n; i++) {
      const present = i < n && !Number.isNaN(data[i * F + f] as number);
      if (i < n && !present) continue;
      // gap (prev, i) exclusive
      const gap = i - prev - 1;
      if (gap > 0) {
        perFeature[f] = (perFeature[f] as number) + gap;
        const a = prev >= 0 ? data[prev * F + f] as number : NaN, b = i < n ? data[i * F + f] as number : NaN;
        const wide = !Number.isFinite(b - a);   // a and b huge with opposite signs: b − a overflows
        for (let k = prev + 1; k < i; k++) {
          const t = (k - prev) / (i - prev);
          data[k * F + f] = prev < 0 ? b : i >= n ? a : wide ? a * (1 - t) + b * t : a + ((b - a) * (k - prev)) / (i - prev);
        }
      }
      prev = i;
    }
  }
  return { filled: perFeature.reduce((x, y) => x + y, 0), perFeature };
}

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
 * @example normaliseValue(3, 1, 2)          // 1
 * @example normaliseValue(1e160, 0, 1)      // 1e15 (saturated)
 * @example normaliseValue(1.5e308, -1.5e308, 1.5e308)   // 2 (no overflow)
 */
export function normaliseValue(v: number, offset: number, scale: number): number {
  let z = (v - offset) / scale;
  if (!Number.isFinite(v - offset)) z = ((v * 0.5 - offset * 0.5) / scale) * 2;
  return z > SATURATION ? SATURATION : z < -SATURATION ? -SATURATION : z;
}

/**
 * Mean and population std of feature f, two-pass. If the sum or the sum of squares overflows, both are recomputed on
 * the values divided by a power of two p ≥ max|v| (exact), and scaled back: mean = p·mean(v/p), std = p·std(v/p).
 */
function meanStd(data: Float64Array, n: number, F: number, f: number, maxAbs: number): { mean: number; std: number } {
  const pass = (p: number): { mean: number; std: number; ok: boolean } => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (data[i * F + f] as number) / p;
    const m = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = (data[i * F + f] as number) / p - m;
      ss += d * d;
    }
    return { mean: m * p, std: Math.sqrt(ss / n) * p, ok: Number.isFinite(sum) && Number.isFinite(ss) };
  };
  const plain = pass(1);
  if (plain.ok) return plain;
  return pass(2 ** Math.min(1023, Math.ceil(Math.log2(maxAbs))));
}

export interface NormaliserJSON {
  kind: NormalizeKind;
  offset: number[];
  scale: number[];
}

/** Per-feature affine scaling x' = (x − offset) / scale, fitted on the training series. */
export class Normaliser {
  constructor(readonly kind: NormalizeKind, readonly offset: Float64Array, readonly scale: Float64Array) {}

  static fit(s: Series, kind: NormalizeKind = 'zscore', argName = 'fit(series)'): Normaliser {
    if (kind !== 'zscore' && kind !== 'minmax') throw new RangeError(`normalize: expected 'zscore' or 'minmax', got ${JSON.stringify(kind)}`);
    const { data, n, F } = s;
    const offset = new Float64Array(F), scale = new Float64Array(F);
    for (let f = 0; f < F; f++) {
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = data[i * F + f] as number;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const { mean, std } = meanStd(data, n, F, f, Math.max(Math.abs(lo), Math.abs(hi)));
      if (!(hi > lo) || !(std > 1e-12 * Math.max(1, Math.abs(mean)))) {
        throw new RangeError(`${argName}: feature ${f} is constant (${lo}) on the training series; a constant signal ` +
          'cannot be scaled or modelled — drop the column or train on a part where it varies');
      }
      if (kind === 'minmax' && !Number.isFinite(hi - lo)) {
        throw new RangeError(`${argName}: feature ${f} spans ${lo} to ${hi} on the training series, a range beyond the ` +
          "largest double (1.8e308) that minmax cannot scale by; use normalize 'zscore' or rescale the data");
      }
      offset[f] = kind === 'zscore' ? mean : lo;
      scale[f] = kind === 'zscore' ? std : hi - lo;
    }
    return new Normaliser(kind, offset, scale);
  }

  /** A new normalised copy of the series. */
  transform(s: Series): Series {
    const { n, F } = s;
    if (F !== this.offset.length) throw new RangeError(`expected ${this.offset.length} features (as in training), got ${F}`);
    const out = new Float64Array(n * F);
    for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) {
      out[i * F + f] = normaliseValue(s.data[i * F + f] as number, this.offset[f] as number, this.scale[f] as number);
    }
    return { data: out, n, F };
  }

  toJSON(): NormaliserJSON {
    return { kind: this.kind, offset: Array.from(this.offset), scale: Array.from(this.scale) };
  }

  static fromJSON(j: NormaliserJSON): Normaliser {
    if (!j || (j.kind !== 'zscore' && j.kind !== 'minmax') || !Array.isArray(j.offset) || !Array.isArray(j.scale) ||
        j.offset.length !== j.scale.length || !j.scale.every((v) => Number.isFinite(v) && v > 0) || !j.offset.every(Number.isFinite)) {
      throw new TypeError('normaliser: expected { kind, offset[F], scale[F] } with finite offsets and positive scales');
    }
    return new Normaliser(j.kind, Float64Array.from(j.offset), Float64Array.from(j.scale));
  }
}

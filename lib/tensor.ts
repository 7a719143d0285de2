/**
 * The one door for user arrays: every array a user hands to bptt passes through this file once, at the boundary, and
 * comes out dense and row-major with its structure, shape and values checked. Nothing past this file checks user
 * values again (kernels check lengths, not values).
 *
 *   toTensor     a model input: a dense row-major `Tensor` of float32 (or float64), every value finite
 *   readSeries   a detector input: a series of n points × F features, row-major [n, F] float64; missing values
 *                (NaN, null, undefined: what an empty CSV cell becomes) kept as NaN for `fillMissing`; ±Infinity refused
 *   fillMissing  the detector's fill policy: linear interpolation per feature between the nearest present values
 *
 * Accepted inputs (`TensorLike`; a series accepts rank 1 ([n]) or rank 2 ([n, F], [time][feature])):
 *   number                              → shape []
 *   nested number arrays (or an array of typed arrays as the innermost rows) → shape inferred, raggedness checked
 *   a plain typed array                 → shape [length] (give it a shape with {data, shape})
 *   { data, shape }                     → data a typed array or number[] of exactly ∏shape elements, row-major
 *   a scijs ndarray                     → any strides and offset; a typed-array view is copied dense row-major by
 *                                         ndarray-ops (`ops.assign(dst, src)`), an array-backed one element by element
 *
 * A Tensor never shares memory with the input (callers may write into `tensor.data`), unless the caller asks for `share`
 * and `{ data, shape }` holds a typed array of the tensor's dtype: Sequential reads its inputs and never writes them, so
 * a Detector's float32 training windows reach fit without a copy (an autoencoder's x and y are the same array). A Series read from a Float64Array
 * (plain, {data, shape} or a row-major ndarray view) shares it: the detector only reads it, and `fillMissing` copies
 * before it writes. That is the command line's path: a CSV's values are parsed once into a Float64Array [n, F] and
 * reach the normaliser without another copy.
 *
 * Every error is an ArgumentError (lib/errors.ts) naming the argument (`argName`, e.g. 'fit(x)'), what was expected
 * and what was found; an error about one column of a series carries `feature` (0-based) and its message reads
 * `<argName>: feature <f> <predicate>` (`featureError`), so a caller that names columns its own way (the command line)
 * prints `<column> <predicate>`:
 *   fit(x): expected shape [N, 32, 1], got [N, 30, 1]
 *   fit(x): ragged array at x[3]: expected length 32, got 30
 *   fit(x): non-finite value NaN at index [2, 5, 0]
 *   fit(x): empty input (shape [0, 32, 1])
 *   fit(x): expected a number at x[1][4], got string "a"
 *   fit(series): feature 1 has no values (all 200 missing)
 * Checks run in that order of severity: structure and types first, then emptiness, then shape, then values.
 *
 * @example
 * ```text
 * toTensor([[1, 2], [3, 4]], 'predict(x)', { shape: [null, 2] })   // { data: Float32Array [1, 2, 3, 4], shape: [2, 2] }
 * toTensor([[1, 2], [3]], 'predict(x)')          // ArgumentError: predict(x): ragged array at x[1]: expected length 2, got 1
 * readSeries([[1, 2], [null, 4]], 'fit(series)') // { data: Float64Array [1, 2, NaN, 4], n: 2, F: 2 }
 * shapeString([null, 32, 1])                     // '[N, 32, 1]'
 * ```
 */
import ndarray from 'ndarray';
import ops from 'ndarray-ops';
import type { FloatArray } from '../kernels/matmul.js';
import { ArgumentError } from './errors.js';

export type { FloatArray };

/** A dense row-major array: element (i, j, k) of a [I, J, K] tensor is data[(i*J + j)*K + k]. */
export interface Tensor {
  /** The values, row-major. */
  data: FloatArray;
  /** The dimensions. */
  shape: number[];
}

/** The typed arrays read as numbers (a `BigInt64Array` is not: its elements are bigints). */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/**
 * What bptt reads of a scijs ndarray (`ndarray(data, shape)`): any strides and offset. Structural, so an ndarray fits
 * it without bptt depending on `@types/ndarray`.
 */
export interface NdArrayLike {
  /** The buffer. */
  readonly data: ArrayLike<number>;
  /** The dimensions. */
  readonly shape: readonly number[];
  /** Elements between neighbours along each dimension. */
  readonly stride: readonly number[];
  /** Index in `data` of the first element. */
  readonly offset: number;
}

/**
 * The ndarray that `predict` returns: a scijs ndarray over a dense row-major buffer (`data`, of the model's dtype),
 * batch-major shape, no copy. The members listed are the ones scijs ndarray defines; `data` is a plain typed array.
 */
export interface NdArray<D extends FloatArray = FloatArray> extends NdArrayLike {
  /** The dense row-major buffer, of the model's dtype. */
  readonly data: D;
  /** The dimensions, batch-major. */
  readonly shape: number[];
  /** Row-major strides. */
  readonly stride: number[];
  /** Always 0. */
  readonly offset: number;
  /** Number of elements (∏shape). */
  readonly size: number;
  /** Rank (shape.length). */
  readonly dimension: number;
  /** The element at an index (one number per dimension). */
  get(...index: number[]): number;
  /** Writes the last argument at the index given by the others; returns it. */
  set(...indexThenValue: number[]): number;
  /** The offset in `data` of an index. */
  index(...index: number[]): number;
}

/** A `{ data, shape }` pair: data row-major, exactly ∏shape elements. */
export interface DataWithShape {
  /** The values, row-major. */
  readonly data: ArrayLike<number>;
  /** The dimensions. */
  readonly shape: readonly number[];
}

/** A row of numbers: an array or a typed array. */
export type NumberRow = readonly number[] | NumericArray;

/**
 * A model input (`fit`, `predict`, `evaluate`): nested arrays up to rank 3 ([N, T, D]; the innermost rows may be typed
 * arrays), a typed array (shape [length]), `{ data, shape }`, or a scijs ndarray. A number is a rank-0 tensor.
 *
 * @example
 * ```ts
 * import { Sequential, lstm } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([lstm({ units: 2, inputShape: [3, 1] })]);
 * const a = model.predict([[[0.1], [0.2], [0.3]]]); // number[][][]: N = 1, T = 3, D = 1
 * const b = model.predict({ data: Float32Array.of(0.1, 0.2, 0.3), shape: [1, 3, 1] }); // { data, shape }
 * assert.deepEqual(a.data, b.data);
 * ```
 */
export type TensorLike =
  number | NumberRow | readonly NumberRow[] | readonly (readonly NumberRow[])[] | DataWithShape | NdArrayLike;

/** One value of a series: a number, or NaN / null / undefined for a missing value (filled by interpolation). */
export type SeriesValue = number | null | undefined;

/**
 * A detector input: a series of n points, rank 1 ([n]: one feature) or rank 2 ([n, F], [time][feature]): arrays (with
 * null, undefined or NaN for a missing value), a typed array, rows of typed arrays, `{ data, shape }` (shape [n] or
 * [n, F]), or a scijs ndarray.
 *
 * @example
 * ```ts
 * import { Detector } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const detector = new Detector({ model: 'zscore', window: 3, threshold: 'fixed:3' });
 * detector.fit([1, 2, null, 4, 5, 3, 2, 4, 1, 3]); // one feature; null is a missing value (interpolated)
 * const rows = [[1], [2], [3], [2], [1], [2]];
 * const r = detector.detect({ data: Float64Array.from(rows.flat()), shape: [rows.length, 1] });
 * assert.equal(r.filled.filled, 0);
 * assert.equal(r.scores.length, 6);
 * ```
 */
export type SeriesLike =
  | readonly SeriesValue[]
  | NumericArray
  | readonly (readonly SeriesValue[] | NumericArray)[]
  | { readonly data: ArrayLike<SeriesValue>; readonly shape: readonly number[] }
  | NdArrayLike;

export interface ToTensorOptions {
  /** Required rank (number of dimensions). Implied by `shape` when that is given. */
  rank?: number;
  /** Required shape; null matches any size (shown as N in messages). */
  shape?: readonly (number | null)[];
  /** Element type of the result; default 'float32'. */
  dtype?: 'float32' | 'float64';
  /** Accept NaN and ±Infinity (default false: the first one is an ArgumentError naming its index). */
  allowNonFinite?: boolean;
  /** Accept a shape with a zero dimension (default false). */
  allowEmpty?: boolean;
  /**
   * Read `{ data, shape }` in place when data is already a typed array of the result's dtype (checked, not copied); the
   * caller promises not to write into the result. Default false: the result is a copy the caller may write into.
   */
  share?: boolean;
}

/** '[N, 32, 1]': a shape as messages show it, null (any size) written N. */
export function shapeString(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'N' : String(d))).join(', ')}]`;
}

/**
 * An ArgumentError about feature (column) `f` of `argName`: the message is `<argName>: feature <f> <predicate>`, and
 * `featureProblem` holds the predicate alone, for a caller that names the column itself.
 * @example
 * ```text
 * featureError('fit(series)', 1, 'has no values (all 9 missing)', 'a present value', 'none').message
 *   // 'fit(series): feature 1 has no values (all 9 missing)'
 * ```
 */
export function featureError(
  argName: string,
  f: number,
  predicate: string,
  expected: string,
  actual: string,
): ArgumentError {
  return new ArgumentError(argName, expected, actual, {
    feature: f,
    featureProblem: predicate,
    problem: `feature ${f} ${predicate}`,
  });
}

/**
 * Throws an ArgumentError naming the first NaN or ±Infinity in `a` and its index (unravelled with `shape` when given):
 * `argName: non-finite value NaN at index [2, 5, 0]`.
 * @example
 * ```text
 * assertFiniteArray(Float32Array.of(1, NaN), 'W', [1, 2])   // ArgumentError: W: non-finite value NaN at index [0, 1]
 * ```
 */
export function assertFiniteArray(a: ArrayLike<number>, argName: string, shape?: readonly number[]): void {
  const dims = shape ?? [a.length];
  if (product(dims) !== a.length) {
    throw new ArgumentError(argName, `${product(dims)} elements (shape ${shapeString(dims)})`, `${a.length}`, {
      problem: `shape ${shapeString(dims)} needs ${product(dims)} elements, got ${a.length}`,
    });
  }
  for (let i = 0; i < a.length; i++) {
    const v: unknown = a[i];
    if (typeof v !== 'number') throw notANumber(argName, `index ${indexString(i, dims)}`, v);
    if (!Number.isFinite(v)) throw nonFinite(argName, v, indexString(i, dims));
  }
}

/** The public API's output form: an ndarray over the tensor's own data (no copy). */
export function toNdarray(t: Tensor): NdArray {
  return ndarray<FloatArray>(t.data, t.shape.slice());
}

/**
 * Coerces `x` to a dense row-major Tensor and checks it: structure, element types, emptiness, shape and finiteness.
 * @example
 * ```text
 * toTensor({ data: Float64Array.of(1, 2, 3, 4, 5, 6), shape: [2, 3] }, 'fit(y)', { rank: 2 }).shape   // [2, 3]
 * ```
 */
export function toTensor(x: unknown, argName: string, options: ToTensorOptions = {}): Tensor {
  const expected = expectedShape(options);
  if (options.dtype !== undefined && options.dtype !== 'float32' && options.dtype !== 'float64') {
    throw new ArgumentError('toTensor(dtype)', "'float32' or 'float64'", describe(options.dtype));
  }
  const Ctor = options.dtype === 'float64' ? Float64Array : Float32Array;

  const c = copyIn(x, argName, { Ctor, missing: false, share: options.share === true });

  if (!options.allowEmpty && product(c.shape) === 0) {
    throw new ArgumentError(argName, 'a non-empty input', `shape ${shapeString(c.shape)}`, {
      problem: `empty input (shape ${shapeString(c.shape)})`,
    });
  }
  if (expected !== null) checkShape(c.shape, expected, argName);
  else if (options.rank !== undefined && c.shape.length !== options.rank) {
    throw new ArgumentError(argName, `a rank-${options.rank} input`, `shape ${shapeString(c.shape)}`);
  }
  if (c.bad >= 0 && !options.allowNonFinite) {
    const at = indexString(c.bad, c.shape);
    if (Number.isFinite(c.badValue)) {
      throw new ArgumentError(argName, `a value within ${options.dtype ?? 'float32'}`, String(c.badValue), {
        problem: `value ${c.badValue} at index ${at} overflows ${options.dtype ?? 'float32'}`,
      });
    }
    throw nonFinite(argName, c.badValue, at);
  }
  return { data: c.data, shape: c.shape };
}

// ---------------------------------------------------------------------------------------------------------------------
// Series: the detector's input

/**
 * A series of n points × F features, row-major: point i, feature f at data[i*F + f]. NaN marks a missing value until
 * `fillMissing`. `data` may be the caller's own Float64Array (`shared`): read it, never write it.
 */
export interface Series {
  /** The values, [n, F] row-major. */
  data: Float64Array;
  /** Points. */
  n: number;
  /** Features per point. */
  F: number;
  /** True when `data` is the caller's array (fillMissing copies it before filling). */
  shared?: boolean;
}

/** What fill-in of missing values did (Detector.score/detect's `filled`). */
export interface FillReport {
  /** Number of values that were missing and filled by interpolation. */
  filled: number;
  /** Per feature, the count of filled values. */
  perFeature: number[];
}

const SERIES_KINDS = 'number[], number[][] ([time][feature]), {data, shape} or an ndarray of shape [n] or [n, F]';

/**
 * Reads a series into [n, F] row-major float64, missing values (NaN, null, undefined) kept as NaN (fill them with
 * `fillMissing`). ±Infinity, an empty series, a point without features and a feature without any value are errors.
 * A Float64Array laid out row-major (plain, {data, shape}, or an ndarray view with row-major strides) is not copied.
 * @example
 * ```text
 * readSeries({ data: Float64Array.of(1, 2, 3, 4), shape: [2, 2] }, 'fit(series)')   // { n: 2, F: 2, shared: true, … }
 * ```
 */
export function readSeries(x: unknown, argName: string): Series {
  const direct = rowMajorFloat64(x);
  let s: Series;
  if (direct !== null) {
    s = { ...seriesShape(direct.shape, argName), data: direct.data, shared: true };
  } else {
    if (typeof x !== 'object' || x === null) {
      throw new ArgumentError(argName, SERIES_KINDS, describe(x));
    }
    const c = copyIn(x, argName, { Ctor: Float64Array, missing: true });
    s = { ...seriesShape(c.shape, argName), data: c.data as Float64Array };
  }
  const { data, n, F } = s;
  const present = new Array<number>(F).fill(0);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) {
      const v = data[i * F + f];
      if (v === v) {
        if (v === Infinity || v === -Infinity) {
          const at = s.F === 1 && !isRank2(x) ? `[${i}]` : `[${i}][${f}]`;
          throw new ArgumentError(`${argName}${at}`, 'a finite number (or NaN/null for a missing value)', String(v), {
            problem: `infinite value ${v}; expected a finite number (or NaN/null for a missing value)`,
            feature: f,
          });
        }
        present[f] = present[f] + 1;
      }
    }
  }
  for (let f = 0; f < F; f++) {
    if (present[f] === 0)
      throw featureError(argName, f, `has no values (all ${n} missing)`, 'at least one value', 'none');
  }
  return s;
}

/**
 * Fills NaN by linear interpolation per feature (a gap at the start takes the first present value, at the end the
 * last); returns how many were filled. Writes into `s.data`, after copying it when it is the caller's (`shared`).
 * Interpolation between two huge values of opposite sign does not overflow.
 */
export function fillMissing(s: Series): FillReport {
  const { n, F } = s;
  const perFeature = new Array<number>(F).fill(0);
  if (s.shared === true && s.data.some((v) => v !== v)) {
    s.data = s.data.slice();
    s.shared = false;
  }
  const data = s.data;
  for (let f = 0; f < F; f++) {
    let prev = -1; // index of the last present value
    for (let i = 0; i <= n; i++) {
      const present = i < n && !Number.isNaN(data[i * F + f]);
      if (i < n && !present) continue;
      // gap (prev, i) exclusive
      const gap = i - prev - 1;
      if (gap > 0) {
        perFeature[f] = perFeature[f] + gap;
        const a = prev >= 0 ? data[prev * F + f] : NaN,
          b = i < n ? data[i * F + f] : NaN;
        const wide = !Number.isFinite(b - a); // a and b huge with opposite signs: b − a overflows
        for (let k = prev + 1; k < i; k++) {
          const t = (k - prev) / (i - prev);
          data[k * F + f] =
            prev < 0 ? b : i >= n ? a : wide ? a * (1 - t) + b * t : a + ((b - a) * (k - prev)) / (i - prev);
        }
      }
      prev = i;
    }
  }
  return { filled: perFeature.reduce((x, y) => x + y, 0), perFeature };
}

/** n and F of a series shape ([n] or [n, F]), or the error saying what was wrong with it. */
function seriesShape(shape: readonly number[], argName: string): { n: number; F: number } {
  if (shape.length !== 1 && shape.length !== 2)
    throw new ArgumentError(argName, SERIES_KINDS, `shape ${shapeString(shape)}`);
  const n = shape[0],
    F = shape.length === 2 ? shape[1] : 1;
  if (n === 0) throw new ArgumentError(argName, 'at least one point', 'none', { problem: 'empty series' });
  if (F === 0) {
    throw new ArgumentError(argName, 'at least one feature per point', 'none', {
      problem: `rows have no features (${baseName(argName)}[0] is empty)`,
    });
  }
  return { n, F };
}

function isRank2(x: unknown): boolean {
  if (Array.isArray(x)) return x.length > 0 && (Array.isArray(x[0]) || isNumericView(x[0]));
  const shape = (x as { shape?: unknown } | null)?.shape;
  return Array.isArray(shape) && shape.length === 2;
}

/**
 * The caller's Float64Array and shape when `x` lays it out row-major ([n] or [n, F]) so it can be read in place:
 * a Float64Array, {data: Float64Array, shape}, or an ndarray view with row-major strides. Else null (copy it).
 */
function rowMajorFloat64(x: unknown): { data: Float64Array; shape: number[] } | null {
  if (x instanceof Float64Array) return { data: x, shape: [x.length] };
  if (typeof x !== 'object' || x === null || !('data' in x) || !('shape' in x)) return null;
  const o = x as { data: unknown; shape: unknown; stride?: unknown; offset?: unknown };
  if (!(o.data instanceof Float64Array) || !Array.isArray(o.shape) || (o.shape.length !== 1 && o.shape.length !== 2))
    return null;
  if (!o.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) return null;
  const shape = (o.shape as number[]).slice();
  const size = product(shape);
  if (o.stride === undefined && o.offset === undefined) return o.data.length === size ? { data: o.data, shape } : null;
  const stride = o.stride,
    offset = o.offset;
  if (!Array.isArray(stride) || typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) return null;
  const F = shape.length === 2 ? shape[1] : 1;
  const rowMajor =
    shape.length === 1
      ? stride[0] === 1 || size <= 1
      : (stride[1] === 1 || F <= 1) && (stride[0] === F || shape[0] <= 1);
  if (!rowMajor || offset + size > o.data.length) return null;
  return { data: o.data.subarray(offset, offset + size), shape };
}

// ---------------------------------------------------------------------------------------------------------------------

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** How elements are read: into which array type; whether null/undefined are missing values (NaN) or errors. */
interface Policy {
  Ctor: FloatCtor;
  missing: boolean;
  /** Read `{ data, shape }` in place when data is already a Ctor array (see ToTensorOptions.share). */
  share?: boolean;
}

/** The copied data, its shape, and the first element that is non-finite after conversion (-1 if none). */
interface Copy {
  data: FloatArray;
  shape: number[];
  bad: number;
  badValue: number;
}

function copyIn(x: unknown, argName: string, p: Policy): Copy {
  if (typeof x === 'number') {
    const data = p.Ctor.of(x);
    return Number.isFinite(data[0])
      ? { data, shape: [], bad: -1, badValue: 0 }
      : { data, shape: [], bad: 0, badValue: x };
  }
  if (Array.isArray(x) || isNumericView(x)) return copyNested(x, argName, p);
  if (typeof x === 'object' && x !== null && 'data' in x && 'shape' in x) {
    const o = x as { data: unknown; shape: unknown; stride?: unknown; offset?: unknown };
    if (Array.isArray(o.stride) && typeof o.offset === 'number') return copyStrided(o, argName, p);
    return copyDataShape(o, argName, p);
  }
  throw new ArgumentError(
    argName,
    'a number, a nested number array, a typed array, {data, shape} or an ndarray',
    describe(x),
  );
}

/** One element: a number as it is, a missing value as NaN (when the policy allows), anything else an error. */
function element(v: unknown, argName: string, where: () => string, p: Policy): number {
  if (typeof v === 'number') return v;
  if (p.missing && (v === null || v === undefined)) return NaN;
  throw notANumber(argName, where(), v);
}

/** Records the first element that is not finite after conversion (NaN is a missing value under `missing`). */
function track(c: Copy, i: number, v: number, p: Policy): void {
  const stored = c.data[i];
  if (c.bad < 0 && !Number.isFinite(stored) && !(p.missing && v !== v)) {
    c.bad = i;
    c.badValue = v;
  }
}

/** Nested arrays: shape from the first-element chain, then a walk that checks every length and every leaf. */
function copyNested(x: ArrayLike<unknown>, argName: string, p: Policy): Copy {
  const shape: number[] = [];
  let cur: unknown = x;
  while (Array.isArray(cur) || isNumericView(cur)) {
    const node = cur as ArrayLike<unknown>;
    shape.push(node.length);
    if (node.length === 0) break;
    cur = node[0];
  }
  const c: Copy = { data: new p.Ctor(product(shape)), shape, bad: -1, badValue: 0 };
  const base = baseName(argName);
  const path: number[] = [];
  let pos = 0;

  const walk = (node: ArrayLike<unknown>, depth: number): void => {
    const leaf = depth === shape.length - 1;
    for (let i = 0; i < node.length; i++) {
      const v = node[i];
      path.push(i);
      if (leaf) {
        if (Array.isArray(v) || isNumericView(v)) {
          throw new ArgumentError(argName, 'a number', `an array of length ${(v as ArrayLike<unknown>).length}`, {
            problem: `ragged array at ${pathString(base, path)}: expected a number, got an array of length ${(v as ArrayLike<unknown>).length}`,
          });
        }
        const x = element(v, argName, () => pathString(base, path), p);
        c.data[pos] = x;
        track(c, pos, x, p);
        pos++;
      } else if (Array.isArray(v) || isNumericView(v)) {
        const child = v as ArrayLike<unknown>;
        const want = shape[depth + 1];
        if (child.length !== want) {
          throw new ArgumentError(argName, `length ${want}`, String(child.length), {
            problem: `ragged array at ${pathString(base, path)}: expected length ${want}, got ${child.length}`,
          });
        }
        walk(child, depth + 1);
      } else if (typeof v === 'number') {
        throw new ArgumentError(argName, `an array of length ${shape[depth + 1]}`, `the number ${v}`, {
          problem: `ragged array at ${pathString(base, path)}: expected an array of length ${shape[depth + 1]}, got the number ${v}`,
        });
      } else {
        throw new ArgumentError(argName, 'an array', describe(v), {
          problem: `expected an array at ${pathString(base, path)}, got ${describe(v)}`,
        });
      }
      path.pop();
    }
  };
  if (shape.length > 0 && shape[0] > 0) walk(x, 0);
  return c;
}

/** {data, shape}: data a typed array or number[] holding exactly ∏shape elements in row-major order. */
function copyDataShape(o: { data: unknown; shape: unknown }, argName: string, p: Policy): Copy {
  const shape = checkShapeArg(o.shape, argName);
  if (!Array.isArray(o.data) && !isNumericView(o.data)) {
    throw new ArgumentError(argName, 'data as a typed array or a number array', describe(o.data), {
      problem: `data must be a typed array or a number array, got ${describe(o.data)}`,
    });
  }
  const src = o.data as ArrayLike<unknown>;
  const n = product(shape);
  if (src.length !== n) {
    throw new ArgumentError(argName, `${n} elements (shape ${shapeString(shape)})`, String(src.length), {
      problem: `data has ${src.length} elements but shape ${shapeString(shape)} needs ${n}`,
    });
  }
  if (p.share === true && src instanceof p.Ctor) {
    // Read in place: only the values are checked.
    const c: Copy = { data: src, shape, bad: -1, badValue: 0 };
    for (let i = 0; i < n; i++) track(c, i, src[i], p);
    return c;
  }
  const c: Copy = { data: new p.Ctor(n), shape, bad: -1, badValue: 0 };
  for (let i = 0; i < n; i++) {
    const v = element(src[i], argName, () => `index ${indexString(i, shape)}`, p);
    c.data[i] = v;
    track(c, i, v, p);
  }
  return c;
}

/**
 * A scijs ndarray (or anything with data, shape, stride, offset): written dense row-major. Over a typed array of
 * numbers, ndarray-ops copies the strided view (`ops.assign(dst, src)`: destination first, any strides and offset);
 * over anything else (a plain array, an object with get(i)) each element is read and checked on the way.
 */
function copyStrided(
  o: { data: unknown; shape: unknown; stride?: unknown; offset?: unknown },
  argName: string,
  p: Policy,
): Copy {
  const shape = checkShapeArg(o.shape, argName);
  const stride = o.stride as unknown[];
  const offset = o.offset as number;
  if (stride.length !== shape.length || !stride.every((s) => Number.isInteger(s)) || !Number.isInteger(offset)) {
    throw new ArgumentError(
      argName,
      `${shape.length} integer strides and an integer offset`,
      `strides [${stride.join(', ')}] and offset ${offset}`,
      { problem: `ndarray has shape ${shapeString(shape)} but strides [${stride.join(', ')}] and offset ${offset}` },
    );
  }
  const n = product(shape);
  const c: Copy = { data: new p.Ctor(n), shape, bad: -1, badValue: 0 };
  if (n === 0) return c;
  if (isNumberView(o.data)) {
    checkExtent(o.data.length, shape, stride as number[], offset, argName);
    ops.assign(ndarray(c.data, shape), ndarray(o.data, shape, stride as number[], offset));
    for (let i = 0; i < n && c.bad < 0; i++) if (!Number.isFinite(c.data[i])) track(c, i, c.data[i], p);
    return c;
  }
  const get = elementReader(o.data, argName);
  const R = shape.length;
  const idx = new Array<number>(R).fill(0);
  let at = offset;
  for (let i = 0; i < n; i++) {
    const v = element(get(at), argName, () => `index ${indexString(i, shape)}`, p);
    c.data[i] = v;
    track(c, i, v, p);
    // odometer: advance the last index, carry into earlier ones
    for (let d = R - 1; d >= 0; d--) {
      const s = stride[d] as number;
      if (idx[d] + 1 < shape[d]) {
        idx[d] = idx[d] + 1;
        at += s;
        break;
      }
      at -= idx[d] * s;
      idx[d] = 0;
    }
  }
  return c;
}

/** Every element a strided view reaches lies inside its data (ndarray-ops reads without bounds checks). */
function checkExtent(
  length: number,
  shape: readonly number[],
  stride: readonly number[],
  offset: number,
  argName: string,
): void {
  let lo = offset,
    hi = offset;
  shape.forEach((d, k) => {
    const reach = (d - 1) * stride[k];
    if (reach < 0) lo += reach;
    else hi += reach;
  });
  if (lo < 0 || hi >= length) {
    throw new ArgumentError(argName, `a view inside its data (${length} elements)`, `elements ${lo} to ${hi}`, {
      problem: `ndarray view reaches elements ${lo} to ${hi} of data with ${length} elements`,
    });
  }
}

function elementReader(data: unknown, argName: string): (p: number) => unknown {
  if (Array.isArray(data) || isNumericView(data)) {
    const a = data as ArrayLike<unknown>;
    return (p) => a[p];
  }
  if (typeof data === 'object' && data !== null && typeof (data as { get?: unknown }).get === 'function') {
    const g = data as { get(i: number): unknown };
    return (p) => g.get(p);
  }
  throw new ArgumentError(argName, 'ndarray data as a typed array, an array or an object with get(i)', describe(data), {
    problem: `ndarray data must be a typed array, an array or have get(i), got ${describe(data)}`,
  });
}

function checkShapeArg(shape: unknown, argName: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new ArgumentError(argName, 'a shape of non-negative integers', describe(shape), {
      problem: `shape must be an array of non-negative integers, got ${describe(shape)}`,
    });
  }
  return (shape as number[]).slice();
}

function expectedShape(options: ToTensorOptions): (number | null)[] | null {
  const { rank, shape } = options;
  if (rank !== undefined && !(Number.isInteger(rank) && rank >= 0)) {
    throw new ArgumentError('toTensor(rank)', 'a non-negative integer', describe(rank), {
      problem: `rank must be a non-negative integer, got ${rank}`,
    });
  }
  if (shape === undefined) return null;
  if (!shape.every((d) => d === null || (Number.isInteger(d) && d >= 0))) {
    throw new ArgumentError('toTensor', 'shape entries that are null or non-negative integers', shapeString(shape), {
      problem: `shape entries must be null or non-negative integers, got ${shapeString(shape)}`,
    });
  }
  if (rank !== undefined && rank !== shape.length) {
    throw new ArgumentError('toTensor', `a shape of rank ${rank}`, shapeString(shape), {
      problem: `rank ${rank} contradicts shape ${shapeString(shape)}`,
    });
  }
  return shape.slice();
}

/** `expected shape [N, 32, 1], got [N, 30, 1]`: positions the expectation leaves free are shown as N on both sides. */
function checkShape(got: readonly number[], want: readonly (number | null)[], argName: string): void {
  const ok = got.length === want.length && want.every((d, i) => d === null || d === got[i]);
  if (ok) return;
  const shown = got.length === want.length ? got.map((d, i) => (want[i] === null ? null : d)) : got;
  throw new ArgumentError(argName, `shape ${shapeString(want)}`, shapeString(shown));
}

function notANumber(argName: string, where: string, v: unknown): ArgumentError {
  return new ArgumentError(argName, 'a number', describe(v), {
    problem: `expected a number at ${where}, got ${describe(v)}`,
  });
}

function nonFinite(argName: string, v: number, at: string): ArgumentError {
  return new ArgumentError(argName, 'a finite number', String(v), { problem: `non-finite value ${v} at index ${at}` });
}

function isNumericView(v: unknown): v is ArrayBufferView & ArrayLike<unknown> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** A typed array of numbers (not BigInt): every element converts to a float exactly as an assignment does. */
function isNumberView(v: unknown): v is ArrayLike<number> & ndarray.Data<number> {
  return isNumericView(v) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** '[2, 5, 0]': the multi-index of flat position i in a row-major array of this shape. */
function indexString(i: number, shape: readonly number[]): string {
  if (shape.length === 0) return '[]';
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    idx[d] = i % n;
    i = Math.floor(i / n);
  }
  return `[${idx.join(', ')}]`;
}

/** 'fit(x)' → 'x' (so paths read x[3][1]); a plain name is used as it is. */
function baseName(argName: string): string {
  const m = /\(([^()]*)\)\s*$/.exec(argName);
  return m !== null && m[1] !== undefined && m[1] !== '' ? m[1] : argName;
}

function pathString(base: string, path: readonly number[]): string {
  return base + path.map((i) => `[${i}]`).join('');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  if (typeof v === 'object') return `an object (${v.constructor?.name ?? 'null prototype'})`;
  if (typeof v === 'bigint') return `bigint ${v}`;
  return typeof v === 'undefined' ? 'undefined' : `${typeof v} ${String(v)}`;
}

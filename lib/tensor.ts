/**
 * Input coercion and value checks for the public API: every array a user hands to bptt passes through `toTensor` once,
 * at the boundary, and comes out as a dense row-major `Tensor` of float32 (or float64) with its shape checked and every
 * value checked finite. Nothing past this file checks user values again (kernels check lengths, not values).
 *
 * Accepted inputs (`TensorLike`):
 *   number                              → shape []
 *   nested number arrays (or an array of typed arrays as the innermost rows) → shape inferred, raggedness checked
 *   a plain typed array                 → shape [length] (give it a shape with {data, shape})
 *   { data, shape }                     → data a typed array or number[] of exactly ∏shape elements, row-major
 *   a scijs ndarray                     → any strides and offset; copied to dense row-major
 *
 * The result never shares memory with the input: callers may write into `tensor.data`.
 *
 * Errors name the argument (`argName`, e.g. 'fit(x)') and say what was expected and what was found:
 *   RangeError: fit(x): expected shape [N, 32, 1], got [N, 30, 1]
 *   RangeError: fit(x): ragged array at x[3]: expected length 32, got 30
 *   RangeError: fit(x): non-finite value NaN at index [2, 5, 0]
 *   RangeError: fit(x): empty input (shape [0, 32, 1])
 *   TypeError:  fit(x): expected a number at x[1][4], got string
 * Checks run in that order of severity: structure and types first, then emptiness, then shape, then values.
 *
 * @example
 *   toTensor([[1, 2], [3, 4]], 'predict(x)', { shape: [null, 2] })   // { data: Float32Array [1, 2, 3, 4], shape: [2, 2] }
 *   toTensor([[1, 2], [3]], 'predict(x)')          // RangeError: predict(x): ragged array at x[1]: expected length 2, got 1
 *   shapeString([null, 32, 1])                     // '[N, 32, 1]'
 */
import ndarray from 'ndarray';
import type { FloatArray } from '../kernels/matmul';

export type { FloatArray };

/** A dense row-major array: element (i, j, k) of a [I, J, K] tensor is data[(i*J + j)*K + k]. */
export interface Tensor { data: FloatArray; shape: number[] }

export type TensorLike =
  | number | number[] | number[][] | number[][][]
  | { data: ArrayLike<number>; shape: readonly number[] }
  | ndarray.NdArray;

export interface ToTensorOptions {
  /** Required rank (number of dimensions). Implied by `shape` when that is given. */
  rank?: number;
  /** Required shape; null matches any size (shown as N in messages). */
  shape?: readonly (number | null)[];
  /** Element type of the result; default 'float32'. */
  dtype?: 'float32' | 'float64';
  /** Accept NaN and ±Infinity (default false: the first one is a RangeError naming its index). */
  allowNonFinite?: boolean;
  /** Accept a shape with a zero dimension (default false). */
  allowEmpty?: boolean;
}

/** '[N, 32, 1]': a shape as messages show it, null (any size) written N. */
export function shapeString(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'N' : String(d))).join(', ')}]`;
}

/**
 * Throws a RangeError naming the first NaN or ±Infinity in `a` and its index (unravelled with `shape` when given):
 * `argName: non-finite value NaN at index [2, 5, 0]`. A non-number element is a TypeError.
 * @example assertFiniteArray(Float32Array.of(1, NaN), 'W', [1, 2])   // RangeError: W: non-finite value NaN at index [0, 1]
 */
export function assertFiniteArray(a: ArrayLike<number>, argName: string, shape?: readonly number[]): void {
  const dims = shape ?? [a.length];
  if (product(dims) !== a.length) {
    throw new RangeError(`${argName}: shape ${shapeString(dims)} needs ${product(dims)} elements, got ${a.length}`);
  }
  for (let i = 0; i < a.length; i++) {
    const v = a[i] as unknown;
    if (typeof v !== 'number') throw new TypeError(`${argName}: expected a number at index ${indexString(i, dims)}, got ${describe(v)}`);
    if (!Number.isFinite(v)) throw new RangeError(`${argName}: non-finite value ${v} at index ${indexString(i, dims)}`);
  }
}

/** The public API's output form: an ndarray over the tensor's own data (no copy). */
export function toNdarray(t: Tensor): ndarray.NdArray<FloatArray> {
  return ndarray<FloatArray>(t.data, t.shape.slice());
}

/**
 * Coerces `x` to a dense row-major Tensor and checks it: structure, element types, emptiness, shape and finiteness.
 * @example toTensor({ data: Float64Array.of(1, 2, 3, 4, 5, 6), shape: [2, 3] }, 'fit(y)', { rank: 2 }).shape   // [2, 3]
 */
export function toTensor(x: unknown, argName: string, options: ToTensorOptions = {}): Tensor {
  const expected = expectedShape(options);
  if (options.dtype !== undefined && options.dtype !== 'float32' && options.dtype !== 'float64') {
    throw new TypeError(`toTensor: dtype must be 'float32' or 'float64', got ${describe(options.dtype)}`);
  }
  const Ctor = options.dtype === 'float64' ? Float64Array : Float32Array;

  const c = copyIn(x, argName, Ctor);

  if (!options.allowEmpty && product(c.shape) === 0) {
    throw new RangeError(`${argName}: empty input (shape ${shapeString(c.shape)})`);
  }
  if (expected !== null) checkShape(c.shape, expected, argName);
  else if (options.rank !== undefined && c.shape.length !== options.rank) {
    throw new RangeError(`${argName}: expected a rank-${options.rank} input, got shape ${shapeString(c.shape)}`);
  }
  if (c.bad >= 0 && !options.allowNonFinite) {
    const at = indexString(c.bad, c.shape);
    if (Number.isFinite(c.badValue)) {
      throw new RangeError(`${argName}: value ${c.badValue} at index ${at} overflows ${options.dtype ?? 'float32'}`);
    }
    throw new RangeError(`${argName}: non-finite value ${c.badValue} at index ${at}`);
  }
  return { data: c.data, shape: c.shape };
}

// ---------------------------------------------------------------------------------------------------------------------

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** The copied data, its shape, and the first element that is non-finite after conversion (-1 if none). */
interface Copy { data: FloatArray; shape: number[]; bad: number; badValue: number }

function copyIn(x: unknown, argName: string, Ctor: FloatCtor): Copy {
  if (typeof x === 'number') {
    const data = Ctor.of(x);
    return Number.isFinite(data[0] as number) ? { data, shape: [], bad: -1, badValue: 0 } : { data, shape: [], bad: 0, badValue: x };
  }
  if (Array.isArray(x) || isNumericView(x)) return copyNested(x, argName, Ctor);
  if (typeof x === 'object' && x !== null && 'data' in x && 'shape' in x) {
    const o = x as { data: unknown; shape: unknown; stride?: unknown; offset?: unknown };
    if (Array.isArray(o.stride) && typeof o.offset === 'number') return copyStrided(o, argName, Ctor);
    return copyDataShape(o, argName, Ctor);
  }
  throw new TypeError(`${argName}: expected a number, a nested number array, a typed array, {data, shape} or an ndarray, ` +
    `got ${describe(x)}`);
}

/** Nested arrays: shape from the first-element chain, then a walk that checks every length and every leaf. */
function copyNested(x: ArrayLike<unknown>, argName: string, Ctor: FloatCtor): Copy {
  const shape: number[] = [];
  let cur: unknown = x;
  while (Array.isArray(cur) || isNumericView(cur)) {
    const node = cur as ArrayLike<unknown>;
    shape.push(node.length);
    if (node.length === 0) break;
    cur = node[0];
  }
  const c: Copy = { data: new Ctor(product(shape)), shape, bad: -1, badValue: 0 };
  const base = baseName(argName);
  const path: number[] = [];
  let pos = 0;

  const walk = (node: ArrayLike<unknown>, depth: number): void => {
    const leaf = depth === shape.length - 1;
    for (let i = 0; i < node.length; i++) {
      const v = node[i];
      if (leaf) {
        if (typeof v === 'number') {
          c.data[pos] = v;
          if (c.bad < 0 && !Number.isFinite(c.data[pos] as number)) { c.bad = pos; c.badValue = v; }
          pos++;
          continue;
        }
        path.push(i);
        if (Array.isArray(v) || isNumericView(v)) {
          throw new RangeError(`${argName}: ragged array at ${pathString(base, path)}: expected a number, ` +
            `got an array of length ${(v as ArrayLike<unknown>).length}`);
        }
        throw new TypeError(`${argName}: expected a number at ${pathString(base, path)}, got ${describe(v)}`);
      }
      path.push(i);
      if (Array.isArray(v) || isNumericView(v)) {
        const child = v as ArrayLike<unknown>;
        const want = shape[depth + 1] as number;
        if (child.length !== want) {
          throw new RangeError(`${argName}: ragged array at ${pathString(base, path)}: expected length ${want}, got ${child.length}`);
        }
        walk(child, depth + 1);
      } else if (typeof v === 'number') {
        throw new RangeError(`${argName}: ragged array at ${pathString(base, path)}: expected an array of length ` +
          `${shape[depth + 1] as number}, got the number ${v}`);
      } else {
        throw new TypeError(`${argName}: expected an array at ${pathString(base, path)}, got ${describe(v)}`);
      }
      path.pop();
    }
  };
  if (shape.length > 0 && (shape[0] as number) > 0) walk(x, 0);
  return c;
}

/** {data, shape}: data a typed array or number[] holding exactly ∏shape elements in row-major order. */
function copyDataShape(o: { data: unknown; shape: unknown }, argName: string, Ctor: FloatCtor): Copy {
  const shape = checkShapeArg(o.shape, argName);
  if (!Array.isArray(o.data) && !isNumericView(o.data)) {
    throw new TypeError(`${argName}: data must be a typed array or a number array, got ${describe(o.data)}`);
  }
  const src = o.data as ArrayLike<unknown>;
  const n = product(shape);
  if (src.length !== n) {
    throw new RangeError(`${argName}: data has ${src.length} elements but shape ${shapeString(shape)} needs ${n}`);
  }
  const c: Copy = { data: new Ctor(n), shape, bad: -1, badValue: 0 };
  for (let i = 0; i < n; i++) {
    const v = src[i];
    if (typeof v !== 'number') throw new TypeError(`${argName}: expected a number at index ${indexString(i, shape)}, got ${describe(v)}`);
    c.data[i] = v;
    if (c.bad < 0 && !Number.isFinite(c.data[i] as number)) { c.bad = i; c.badValue = v; }
  }
  return c;
}

/** A scijs ndarray (or anything with data, shape, stride, offset): walks the strides, writes dense row-major. */
function copyStrided(o: { data: unknown; shape: unknown; stride?: unknown; offset?: unknown }, argName: string,
  Ctor: FloatCtor): Copy {
  const shape = checkShapeArg(o.shape, argName);
  const stride = o.stride as unknown[];
  const offset = o.offset as number;
  if (stride.length !== shape.length || !stride.every((s) => Number.isInteger(s)) || !Number.isInteger(offset)) {
    throw new TypeError(`${argName}: ndarray has shape ${shapeString(shape)} but strides [${stride.join(', ')}] and offset ${offset}`);
  }
  const get = elementReader(o.data, argName);
  const n = product(shape);
  const c: Copy = { data: new Ctor(n), shape, bad: -1, badValue: 0 };
  if (n === 0) return c;
  const R = shape.length;
  const idx = new Array<number>(R).fill(0);
  let p = offset;
  for (let i = 0; i < n; i++) {
    const v = get(p);
    if (typeof v !== 'number') throw new TypeError(`${argName}: expected a number at index ${indexString(i, shape)}, got ${describe(v)}`);
    c.data[i] = v;
    if (c.bad < 0 && !Number.isFinite(c.data[i] as number)) { c.bad = i; c.badValue = v; }
    // odometer: advance the last index, carry into earlier ones
    for (let d = R - 1; d >= 0; d--) {
      const s = stride[d] as number;
      if ((idx[d] as number) + 1 < (shape[d] as number)) { idx[d] = (idx[d] as number) + 1; p += s; break; }
      p -= (idx[d] as number) * s;
      idx[d] = 0;
    }
  }
  return c;
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
  throw new TypeError(`${argName}: ndarray data must be a typed array, an array or have get(i), got ${describe(data)}`);
}

function checkShapeArg(shape: unknown, argName: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new TypeError(`${argName}: shape must be an array of non-negative integers, got ${describe(shape)}`);
  }
  return (shape as number[]).slice();
}

function expectedShape(options: ToTensorOptions): (number | null)[] | null {
  const { rank, shape } = options;
  if (rank !== undefined && !(Number.isInteger(rank) && rank >= 0)) {
    throw new RangeError(`toTensor: rank must be a non-negative integer, got ${rank}`);
  }
  if (shape === undefined) return null;
  if (!shape.every((d) => d === null || (Number.isInteger(d) && d >= 0))) {
    throw new RangeError(`toTensor: shape entries must be null or non-negative integers, got ${shapeString(shape)}`);
  }
  if (rank !== undefined && rank !== shape.length) {
    throw new RangeError(`toTensor: rank ${rank} contradicts shape ${shapeString(shape)}`);
  }
  return shape.slice();
}

/** `expected shape [N, 32, 1], got [N, 30, 1]`: positions the expectation leaves free are shown as N on both sides. */
function checkShape(got: readonly number[], want: readonly (number | null)[], argName: string): void {
  const ok = got.length === want.length && want.every((d, i) => d === null || d === got[i]);
  if (ok) return;
  const shown = got.length === want.length ? got.map((d, i) => (want[i] === null ? null : d)) : got;
  throw new RangeError(`${argName}: expected shape ${shapeString(want)}, got ${shapeString(shown)}`);
}

function isNumericView(v: unknown): v is ArrayBufferView & ArrayLike<unknown> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
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
    const n = shape[d] as number;
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
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'null prototype'})`;
  if (typeof v === 'bigint') return `bigint ${v}`;
  return typeof v === 'undefined' ? 'undefined' : `${typeof v} ${String(v)}`;
}

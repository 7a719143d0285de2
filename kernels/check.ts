/**
 * The argument checks every cell runs on entry (reference and fast twins alike), so one message format serves them all:
 * a RangeError naming the function and the argument, what was expected and what came. Kernels check sizes and lengths,
 * never values (validating user data is lib/'s job).
 *
 * @example
 * ```text
 * checkLength('lstmForward', 'W', W, 12, 'D=3,4H=4');   // RangeError: lstmForward(W): expected 12 elements [D=3,4H=4], got 11
 * checkDim('lstmWorkspace', 'T', 0);                    // RangeError: lstmWorkspace(T): expected a positive integer, got 0
 * ```
 */

/**
 * Throws unless arr holds exactly `expected` elements; `shape` names the dimensions, e.g. 'T=5,B=3,D=4'. null passes.
 *
 * @param fn - The kernel's name, for the message.
 * @param arg - The argument's name.
 * @param arr - The array, or null.
 * @param expected - The required length.
 * @param shape - The dimensions, for the message.
 * @throws RangeError when the length differs.
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.throws(
 *   () => kernels.checkLength('lstmForward', 'W', new Float64Array(11), 12, 'D=3,4H=4'),
 *   /lstmForward\(W\): expected 12 elements \[D=3,4H=4\], got 11/,
 * );
 * ```
 */
export function checkLength(
  fn: string,
  arg: string,
  arr: ArrayLike<number> | null,
  expected: number,
  shape: string,
): void {
  if (arr !== null && arr.length !== expected) {
    throw new RangeError(`${fn}(${arg}): expected ${expected} elements [${shape}], got ${arr.length}`);
  }
}

/**
 * Throws unless v is a positive integer (a workspace dimension T, B, D or H).
 *
 * @param fn - The kernel's name.
 * @param name - The dimension's name.
 * @param v - Its value.
 * @throws RangeError unless v is a positive integer.
 */
export function checkDim(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${fn}(${name}): expected a positive integer, got ${v}`);
}

/**
 * Throws a TypeError naming the first key of options that is not in `known`.
 *
 * @param fn - The kernel's name.
 * @param options - The options object.
 * @param known - The keys it may have.
 * @throws TypeError naming the first unknown key.
 */
export function checkOptions(fn: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${fn}(options): unknown option ${JSON.stringify(key)}; expected one of ${known.join(', ')}`);
    }
  }
}

/**
 * The entry checks of a cell's workspace allocator: T, B, D, H positive integers, a float type, known options.
 *
 * @param fn - The allocator's name.
 * @param dims - T, B, D, H.
 * @param ctor - Float32Array or Float64Array.
 * @param options - The allocator's options.
 * @param known - The option keys it accepts.
 * @throws RangeError for a dimension that is not a positive integer; TypeError for another array type or an
 * unknown option.
 */
export function checkWorkspace(
  fn: string,
  dims: { T: number; B: number; D: number; H: number },
  ctor: unknown,
  options: object,
  known: readonly string[],
): void {
  for (const [name, v] of Object.entries(dims)) checkDim(fn, name, v);
  if (ctor !== Float32Array && ctor !== Float64Array) {
    throw new TypeError(`${fn}(ctor): expected Float32Array or Float64Array`);
  }
  checkOptions(fn, options, known);
}

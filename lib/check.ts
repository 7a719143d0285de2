/**
 * Option checks shared by every public constructor and by the model/detector file loaders, so that a file field and
 * the option it becomes are validated by one rule: a boolean must be a boolean, an integer an integer in range, a
 * string one of the allowed values, and an unknown key is an error that lists the known ones (a misspelt option is
 * never silently ignored).
 *
 *   checkKeys(options, ['units', 'activation'], 'lstm')      // ArgumentError: lstm: unknown option 'unit' (did you mean 'units'?) ...
 *   optBool(options.goBackwards, false, 'lstm(goBackwards)')  // ArgumentError: lstm(goBackwards): expected true or false, got "yes"
 *
 * `where` is the message prefix: the function and argument (`lstm(units)`), or a file and field for the loaders. Every
 * check throws an ArgumentError (lib/errors.ts) with `where` as its argument.
 */

import { ArgumentError } from './errors.js';
import { show } from './io/show.js';

/** A short, safe rendering of any value for an error message (strings quoted and cut, no code evaluated). */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${String(v)}n`;
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return show(v, 60);
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  return 'an object';
}

/** Levenshtein distance, for "did you mean" on a misspelt key. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(up + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** Throws unless `options` is a plain object. */
export function checkObject(options: unknown, where: string): asserts options is Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options) || ArrayBuffer.isView(options)) {
    throw new ArgumentError(where, 'an options object', describeValue(options));
  }
}

/** Throws an ArgumentError naming the first key of `options` that is not in `known`, with the known keys listed. */
export function checkKeys(options: unknown, known: readonly string[], where: string): void {
  checkObject(options, where);
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const lower = key.toLowerCase();
    const near = known.map((k) => ({ k, d: distance(lower, k.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
    const prefix = lower.length >= 3 ? known.find((k) => k.toLowerCase().startsWith(lower)) : undefined;
    const guess = near && near.d <= Math.max(2, Math.floor(key.length / 3)) ? near.k : prefix;
    const hint = guess !== undefined ? ` (did you mean '${guess}'?)` : '';
    throw new ArgumentError(where, `one of the options ${known.join(', ')}`, describeValue(key), {
      problem: `unknown option ${describeValue(key)}${hint}; known options: ${known.join(', ')}`,
    });
  }
}

export function optBool(v: unknown, fallback: boolean, where: string): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ArgumentError(where, 'true or false', describeValue(v));
  return v;
}

/** A positive integer no larger than `max` (default 2³¹ − 1: sizes beyond that cannot index a typed array anyway). */
export function optPosInt(v: unknown, fallback: number | undefined, where: string, max = 0x7fffffff): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ArgumentError(where, `a positive integer${max < 0x7fffffff ? ` ≤ ${max}` : ''}`, describeValue(v));
  }
  return v;
}

/** A finite number in [lo, hi) (hiOpen) or [lo, hi]. */
export function optNumber(
  v: unknown,
  fallback: number,
  where: string,
  lo = -Infinity,
  hi = Infinity,
  hiOpen = false,
): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || (hiOpen ? v >= hi : v > hi)) {
    const range =
      lo === -Infinity && hi === Infinity ? 'a finite number' : `a number in [${lo}, ${hi}${hiOpen ? ')' : ']'}`;
    throw new ArgumentError(where, range, describeValue(v));
  }
  return v;
}

export function optString(v: unknown, fallback: string | undefined, where: string): string | undefined {
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw new ArgumentError(where, 'a string', describeValue(v));
  return v;
}

/** One of a fixed set of strings. */
export function optEnum<T extends string>(v: unknown, fallback: T, allowed: readonly T[], where: string): T {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ArgumentError(where, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, describeValue(v));
  }
  return v as T;
}

/** A per-sample shape: a non-empty list of positive integers. */
export function optShape(v: unknown, where: string, maxRank = 2): number[] | null {
  if (v === undefined || v === null) return null;
  if (
    !Array.isArray(v) ||
    v.length < 1 ||
    v.length > maxRank ||
    !v.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0 && d <= 0x7fffffff)
  ) {
    throw new ArgumentError(where, `a list of 1 to ${maxRank} positive integers`, describeValue(v));
  }
  return v.slice() as number[];
}

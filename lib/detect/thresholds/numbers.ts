/** Checks and moments the threshold modules share: finite non-empty inputs, a streamed point, mean and population std. */
import { ArgumentError } from '../../errors.js';

/** Scores, errors, calibration data: any array-like of finite numbers. */
export type Numbers = ArrayLike<number>;

export function checkFinite(x: Numbers, where: string): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) throw new ArgumentError(where, 'finite numbers', `${v} at index ${i}`);
  }
}

export function checkNonEmpty(x: Numbers, where: string): void {
  if (x.length === 0) throw new ArgumentError(where, 'at least one value', 'an empty array');
}

export function mean(x: Numbers): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Population standard deviation (divisor n), two-pass. */
export function std(x: Numbers, m: number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - m;
    s += d * d;
  }
  return Math.sqrt(s / x.length);
}

/**
 * A streamed score: a finite number, or +Infinity (a score that overflowed), which exceeds every z_q and so is an
 * alarm that leaves the model untouched, exactly as a huge finite score would be. NaN and -Infinity are errors.
 */
export function checkPoint(x: number, where: string): void {
  if (!Number.isFinite(x) && x !== Infinity) {
    throw new ArgumentError(where, 'a finite number (or +Infinity, always an alarm)', `${x}`);
  }
}

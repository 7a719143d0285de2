/** Seeded random sources for tests: every test draws its data from a named seed, so a failure reproduces exactly. */
import seedrandom from 'seedrandom';

export type Rng = () => number;

export function makeRng(seed: string | number): Rng {
  return seedrandom(String(seed));
}

/** Fills `a` with uniform values in [lo, hi). */
export function fillUniform<T extends Float32Array | Float64Array>(a: T, rng: Rng, lo = -1, hi = 1): T {
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * rng();
  return a;
}

/** A new Float64Array of n uniform values in [lo, hi). */
export function uniform64(n: number, rng: Rng, lo = -1, hi = 1): Float64Array {
  return fillUniform(new Float64Array(n), rng, lo, hi);
}

/** A new Float32Array of n uniform values in [lo, hi). */
export function uniform32(n: number, rng: Rng, lo = -1, hi = 1): Float32Array {
  return fillUniform(new Float32Array(n), rng, lo, hi);
}

/** A new Float32Array of n values (2·u − 1)·scale, u uniform in [0, 1): symmetric weights for the interop tests. */
export function uniformScaled32(n: number, rng: Rng, scale = 0.5): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng() - 1) * scale;
  return a;
}

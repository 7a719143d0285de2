/**
 * Seeded randomness for initialisers, dropout masks and shuffling. Everything random in bptt draws from one of these, so a
 * seed reproduces a run exactly (same seed, same sequence of calls → bit-identical numbers).
 *
 * Built on the `seedrandom` package (ARC4, the default generator; the seed is used as its string form, so 7 and '7' are
 * the same seed):
 *   uniform()     a double in [0, 1) (52 random bits)
 *   normal()      standard normal by Box–Muller: u1 = 1 − uniform() ∈ (0, 1], u2 = uniform(),
 *                 r = sqrt(−2 ln u1);  returns r·cos(2π u2), and keeps r·sin(2π u2) for the next call
 *   int(n)        an integer in [0, n): floor(n · uniform())
 *   shuffle(a)    Fisher–Yates in place, i = len−1 … 1: swap a[i] with a[int(i + 1)]; returns a
 *
 * The methods are closures, not prototype methods, so `rng.uniform` can be handed on by itself as a `() => number`
 * (as `dropoutMask` wants).
 */
import seedrandom from 'seedrandom';
import { ArgumentError } from './errors.js';

/** A seeded random source (dropout masks, shuffles, weight initialisation): same seed, same numbers. */
export interface Random {
  /** The seed this source was made from, as a string. */
  readonly seed: string;
  /** Uniform double in [0, 1). */
  readonly uniform: () => number;
  /** Standard normal (mean 0, variance 1), Box–Muller with the second value cached. */
  readonly normal: () => number;
  /** Uniform integer in [0, n); n a positive integer. */
  readonly int: (n: number) => number;
  /** Fisher–Yates shuffle in place; returns its argument. */
  readonly shuffle: <A extends Int32Array | Uint32Array | Float64Array | number[]>(indices: A) => A;
}

/** A deterministic random source for `seed`. */
export function makeRandom(seed: number | string): Random {
  if (typeof seed === 'number' ? !Number.isFinite(seed) : typeof seed !== 'string') {
    throw new ArgumentError('makeRandom(seed)', 'a finite number or a string', String(seed));
  }
  const key = String(seed);
  const prng = seedrandom(key);
  let spare = 0;
  let hasSpare = false;

  const uniform = (): number => prng();

  const normal = (): number => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    const u1 = 1 - prng();
    const u2 = prng();
    const r = Math.sqrt(-2 * Math.log(u1));
    const a = 2 * Math.PI * u2;
    spare = r * Math.sin(a);
    hasSpare = true;
    return r * Math.cos(a);
  };

  const int = (n: number): number => {
    if (!Number.isInteger(n) || n < 1) throw new ArgumentError('int(n)', 'a positive integer', String(n));
    return Math.floor(n * prng());
  };

  const shuffle = <A extends Int32Array | Uint32Array | Float64Array | number[]>(indices: A): A => {
    for (let i = indices.length - 1; i > 0; i--) {
      const j = Math.floor((i + 1) * prng());
      const t = indices[i];
      indices[i] = indices[j];
      indices[j] = t;
    }
    return indices;
  };

  return { seed: key, uniform, normal, int, shuffle };
}

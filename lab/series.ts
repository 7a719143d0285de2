/**
 * The lab's built-in series and the parser of pasted numbers. Pure functions (no DOM), seeded where random.
 */
import { makeRandom } from '../lib/random.js';

export type SeriesName = 'sine' | 'sine-spike' | 'square' | 'random-walk';
export const SERIES_NAMES: readonly SeriesName[] = ['sine', 'sine-spike', 'square', 'random-walk'];
export const SERIES_LABELS: Readonly<Record<SeriesName, string>> = {
  sine: 'sine',
  'sine-spike': 'sine with a spike',
  square: 'square wave',
  'random-walk': 'random walk',
};

/** Where 'sine-spike' puts its spike (a fraction of the length). */
export const SPIKE_AT = 0.75;

/** A built-in series of n points (period 25 for the periodic ones; the random walk from `seed`). */
export function makeSeries(name: SeriesName, n = 400, seed = 1): number[] {
  const rng = makeRandom(seed);
  const out: number[] = [];
  let walk = 0;
  for (let i = 0; i < n; i++) {
    const noise = 0.05 * rng.normal();
    const phase = (2 * Math.PI * i) / 25;
    switch (name) {
      case 'sine':
        out.push(Math.sin(phase) + noise);
        break;
      case 'sine-spike':
        out.push(Math.sin(phase) + noise + (i === Math.floor(n * SPIKE_AT) ? 4 : 0));
        break;
      case 'square':
        out.push((i % 25 < 12.5 ? 1 : -1) + noise);
        break;
      case 'random-walk':
        walk += rng.normal() * 0.3;
        out.push(walk);
        break;
      default:
        throw new RangeError(`makeSeries(name): expected one of ${SERIES_NAMES.join(', ')}, got ${String(name)}`);
    }
  }
  return out;
}

/**
 * Numbers pasted by the learner: separated by commas, semicolons, whitespace or newlines. Throws naming the item (1-based)
 * and what it was when one is not a finite number, or when there are fewer than `minLength`.
 */
export function parseSeries(text: string, minLength: number): number[] {
  const items = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out: number[] = [];
  items.forEach((item, k) => {
    const v = Number(item);
    if (!Number.isFinite(v)) {
      throw new RangeError(`pasted series: item ${k + 1} is ${JSON.stringify(item)}, expected a finite number`);
    }
    out.push(v);
  });
  if (out.length < minLength) {
    throw new RangeError(`pasted series: expected at least ${minLength} numbers (window + 2), got ${out.length}`);
  }
  return out;
}

/** Mean and standard deviation (1 when the series is constant), for z-scoring. */
export function moments(s: readonly number[]): { mean: number; std: number } {
  let mean = 0;
  for (const v of s) mean += v / s.length;
  let v2 = 0;
  for (const v of s) v2 += ((v - mean) * (v - mean)) / s.length;
  const std = Math.sqrt(v2);
  return { mean, std: std > 0 ? std : 1 };
}

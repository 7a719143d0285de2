/**
 * Deterministic synthetic series for `bptt fleet produce --synthetic` (the README's scenario, the fleet's end-to-end
 * tests and bench/fleet.ts): N series of M points each, one point per 10 s, with injected anomalies.
 *
 * Series j is named `s` + j in 6 digits (s000000, s000001, …). Its points, from makeRandom(`${seed}:${j}`):
 *   level  = 10 + 2·(u − ½),  amp = 0.5 + u,  period = 20 + int(40),  phase = 2π·u        (drawn once, in this order)
 *   v_i    = level + amp·sin(2π·i/period + phase) + 0.1·normal()                            (i = 0 … M−1)
 *   spikes: from point max(M/10, 60) on, each point is an anomaly with probability 1/500 (one uniform() per point,
 *           drawn after its noise): v_i += ±(1 + u)·3·amp (the sign from the same u)
 * Values are rounded to 6 decimals, so their text (CSV, stream entries) reads back to the same double. Timestamps are
 * T0 + 10 000·i ms (T0 = 2026-01-01T00:00:00Z). `syntheticTraining` draws a normal series of the same family (no
 * spikes) to fit a template on. Points are produced time-major: point i of every series before point i+1 of any.
 */
import { makeRandom } from '../random.js';

/** The first timestamp of every synthetic series (epoch ms). */
export const SYNTHETIC_T0 = Date.UTC(2026, 0, 1);
/** Milliseconds between two points of a synthetic series. */
export const SYNTHETIC_STEP_MS = 10_000;

export interface SyntheticFleet {
  /** The series' names, s000000 … */
  names: string[];
  /** values[j][i]: point i of series j. */
  values: Float64Array[];
  /** anomalies[j]: the indices of the points of series j that got a spike. */
  anomalies: number[][];
}

/** The name of synthetic series j. */
export function syntheticName(j: number): string {
  return `s${String(j).padStart(6, '0')}`;
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

function draw(key: string, points: number, spikes: boolean): { values: Float64Array; anomalies: number[] } {
  const rng = makeRandom(key);
  const level = 10 + 2 * (rng.uniform() - 0.5);
  const amp = 0.5 + rng.uniform();
  const period = 20 + rng.int(40);
  const phase = 2 * Math.PI * rng.uniform();
  const values = new Float64Array(points);
  const anomalies: number[] = [];
  const from = Math.max(Math.floor(points / 10), 60);
  for (let i = 0; i < points; i++) {
    let v = level + amp * Math.sin((2 * Math.PI * i) / period + phase) + 0.1 * rng.normal();
    if (spikes) {
      const u = rng.uniform();
      if (i >= from && u < 1 / 500) {
        v += (u < 1 / 1000 ? -1 : 1) * (1 + u * 500) * 3 * amp;
        anomalies.push(i);
      }
    }
    values[i] = round6(v);
  }
  return { values, anomalies };
}

/** `series` synthetic series of `points` points each, from `seed` (same arguments, same numbers). */
export function syntheticFleet(series: number, points: number, seed: number): SyntheticFleet {
  const names: string[] = [];
  const values: Float64Array[] = [];
  const anomalies: number[][] = [];
  for (let j = 0; j < series; j++) {
    const d = draw(`${seed}:${j}`, points, true);
    names.push(syntheticName(j));
    values.push(d.values);
    anomalies.push(d.anomalies);
  }
  return { names, values, anomalies };
}

/** A normal (spike-free) series of the same family, `points` long, to fit a template on. */
export function syntheticTraining(points: number, seed: number): Float64Array {
  return draw(`${seed}:training`, points, false).values;
}

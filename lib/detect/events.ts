/**
 * Events: per-point 0/1 flags → anomaly events (inclusive index ranges), and back.
 *
 *   runsOfOnes(flags)            maximal runs of consecutive non-zero flags, as [start, end] pairs (inclusive): the one
 *                                loop in bptt that turns flags or labels into ranges (metrics, Telemanom, events use it)
 *   runs(flags)                  the same runs as { start, end } objects
 *   flagsToEvents(flags, scores, { minGap })
 *                                runs separated by a gap of fewer than `minGap` unflagged points are merged
 *                                (gap = next.start - prev.end - 1); each event reports the index and value of its
 *                                highest score over [start, end] (gap points included; first index on ties)
 *   eventsToFlags(events, n)     1 on every index covered by an event
 */
import { ArgumentError } from '../errors.js';
import { describeValue } from '../check.js';

/** An inclusive index range [start, end]. */
export interface Range {
  /** First index. */
  start: number;
  /** Last index (inclusive). */
  end: number;
}

/** An anomaly event: inclusive range [start, end] and where its score peaks. */
export interface AnomalyEvent extends Range {
  /** Index of the highest score in [start, end] (the first on ties). */
  peakIndex: number;
  /** That score. */
  peakScore: number;
}

/** Options of `flagsToEvents`. */
export interface EventOptions {
  /** Merge two runs when fewer than `minGap` unflagged points separate them. Default 0 (never merge). */
  minGap?: number;
}

/**
 * Maximal runs of non-zero flags, as inclusive [start, end] pairs in index order. NaN is an error (neither 0 nor 1).
 * @example
 * ```text
 * runsOfOnes([1, 1, 0, 1])   // [[0, 1], [3, 3]]
 * ```
 * @example
 * ```text
 * runsOfOnes([0, 0])         // []
 * ```
 */
export function runsOfOnes(flags: ArrayLike<number>, where = 'runsOfOnes(flags)'): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = -1;
  for (let i = 0; i < flags.length; i++) {
    const v = flags[i];
    if (Number.isNaN(v)) throw new ArgumentError(where, 'flags (0 or non-zero)', `NaN at index ${i}`);
    if (v !== 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      out.push([start, i - 1]);
      start = -1;
    }
  }
  if (start >= 0) out.push([start, flags.length - 1]);
  return out;
}

/**
 * Maximal runs of non-zero flags, inclusive, as { start, end }.
 * @example
 * ```text
 * runs([0, 1, 1, 0, 1])   // [{ start: 1, end: 2 }, { start: 4, end: 4 }]
 * ```
 */
export function runs(flags: ArrayLike<number>): Range[] {
  return runsOfOnes(flags, 'runs(flags)').map(([start, end]) => ({ start, end }));
}

/**
 * Flags → events: runs of flagged points, merged across gaps shorter than `minGap`, each with its peak score.
 *
 * @param flags - 0/1 per point.
 * @param scores - The score of each point (same length).
 * @param options - minGap (default 0: never merge).
 * @returns The events, in index order.
 * @throws {@link ArgumentError} for a flag other than 0/1, mismatched lengths, or an invalid minGap.
 * @example
 * ```ts
 * import { flagsToEvents } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // The gap of 1 point (< 2) is merged, the gap of 2 is not.
 * assert.deepEqual(flagsToEvents([0, 1, 0, 1, 0, 0, 1], [0, 5, 1, 7, 0, 0, 2], { minGap: 2 }), [
 *   { start: 1, end: 3, peakIndex: 3, peakScore: 7 },
 *   { start: 6, end: 6, peakIndex: 6, peakScore: 2 },
 * ]);
 * ```
 */
export function flagsToEvents(
  flags: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: EventOptions = {},
): AnomalyEvent[] {
  if (scores.length !== flags.length) {
    throw new ArgumentError('flagsToEvents(scores)', `${flags.length} scores (one per flag)`, `${scores.length}`);
  }
  const minGap = options.minGap ?? 0;
  if (!(Number.isInteger(minGap) && minGap >= 0)) {
    throw new ArgumentError('flagsToEvents(options.minGap)', 'an integer ≥ 0', describeValue(minGap));
  }
  const merged: Range[] = [];
  for (const [start, end] of runsOfOnes(flags, 'flagsToEvents(flags)')) {
    const last = merged[merged.length - 1];
    if (last !== undefined && start - last.end - 1 < minGap) last.end = end;
    else merged.push({ start, end });
  }
  return merged.map(({ start, end }) => {
    let peakIndex = start;
    let peakScore = scores[start];
    for (let i = start + 1; i <= end; i++) {
      const s = scores[i];
      if (s > peakScore || (Number.isNaN(peakScore) && !Number.isNaN(s))) {
        peakScore = s;
        peakIndex = i;
      }
    }
    return { start, end, peakIndex, peakScore };
  });
}

/**
 * Events (or any inclusive ranges) → 0/1 flags of length n.
 *
 * @param events - Inclusive ranges within [0, n).
 * @param n - Length of the flags.
 * @returns 1 on every index an event covers, else 0.
 * @throws {@link ArgumentError} when n is not an integer ≥ 0 or a range is outside [0, n).
 * @example
 * ```ts
 * import { eventsToFlags } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.deepEqual(eventsToFlags([{ start: 1, end: 2 }], 4), Uint8Array.of(0, 1, 1, 0));
 * ```
 */
export function eventsToFlags(events: readonly Range[], n: number): Uint8Array {
  if (!(Number.isInteger(n) && n >= 0)) throw new ArgumentError('eventsToFlags(n)', 'an integer ≥ 0', describeValue(n));
  const flags = new Uint8Array(n);
  for (const e of events) {
    if (!(Number.isInteger(e.start) && Number.isInteger(e.end) && e.start >= 0 && e.start <= e.end && e.end < n)) {
      throw new ArgumentError('eventsToFlags(events)', `0 ≤ start ≤ end < ${n}`, `[${e.start}, ${e.end}]`);
    }
    flags.fill(1, e.start, e.end + 1);
  }
  return flags;
}

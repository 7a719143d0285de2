/**
 * Events: per-point 0/1 flags → anomaly events (inclusive index ranges), and back.
 *
 *   runs(flags)                  maximal runs of consecutive non-zero flags, as { start, end } (inclusive)
 *   flagsToEvents(flags, scores, { minGap })
 *                                runs separated by a gap of fewer than `minGap` unflagged points are merged
 *                                (gap = next.start - prev.end - 1); each event reports the index and value of its
 *                                highest score over [start, end] (gap points included; first index on ties)
 *   eventsToFlags(events, n)     1 on every index covered by an event
 */

/** An inclusive index range [start, end]. */
export interface Range {
  start: number;
  end: number;
}

/** An anomaly event: inclusive range [start, end] and where its score peaks. */
export interface AnomalyEvent extends Range {
  peakIndex: number;
  peakScore: number;
}

/** Options of `flagsToEvents`. */
export interface EventOptions {
  /** Merge two runs when fewer than `minGap` unflagged points separate them. Default 0 (never merge). */
  minGap?: number;
}

/**
 * Maximal runs of non-zero flags, inclusive.
 * @example runs([0, 1, 1, 0, 1])   // [{ start: 1, end: 2 }, { start: 4, end: 4 }]
 */
export function runs(flags: ArrayLike<number>): Range[] {
  const out: Range[] = [];
  let start = -1;
  for (let i = 0; i < flags.length; i++) {
    const v = flags[i] as number;
    if (Number.isNaN(v)) throw new RangeError(`runs(flags): NaN at index ${i}`);
    if (v !== 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      out.push({ start, end: i - 1 });
      start = -1;
    }
  }
  if (start >= 0) out.push({ start, end: flags.length - 1 });
  return out;
}

/**
 * Flags → events: runs of flagged points, merged across gaps shorter than `minGap`, each with its peak score.
 * @example
 *   flagsToEvents([0, 1, 0, 1, 0, 0, 1], [0, 5, 1, 7, 0, 0, 2], { minGap: 2 })
 *   // gap 1 (< 2) merged, gap 2 not: [{ start: 1, end: 3, peakIndex: 3, peakScore: 7 },
 *   //                                  { start: 6, end: 6, peakIndex: 6, peakScore: 2 }]
 */
export function flagsToEvents(flags: ArrayLike<number>, scores: ArrayLike<number>, options: EventOptions = {}): AnomalyEvent[] {
  if (scores.length !== flags.length) {
    throw new RangeError(`flagsToEvents(scores): expected ${flags.length} scores (one per flag), got ${scores.length}`);
  }
  const minGap = options.minGap ?? 0;
  if (!(Number.isInteger(minGap) && minGap >= 0)) throw new RangeError(`flagsToEvents(options.minGap): expected an integer ≥ 0, got ${minGap}`);
  const merged: Range[] = [];
  for (const r of runs(flags)) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r.start - last.end - 1 < minGap) last.end = r.end;
    else merged.push({ start: r.start, end: r.end });
  }
  return merged.map(({ start, end }) => {
    let peakIndex = start;
    let peakScore = scores[start] as number;
    for (let i = start + 1; i <= end; i++) {
      const s = scores[i] as number;
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
 * @example eventsToFlags([{ start: 1, end: 2 }], 4)   // Uint8Array [0, 1, 1, 0]
 */
export function eventsToFlags(events: readonly Range[], n: number): Uint8Array {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`eventsToFlags(n): expected an integer ≥ 0, got ${n}`);
  const flags = new Uint8Array(n);
  for (const e of events) {
    if (!(Number.isInteger(e.start) && Number.isInteger(e.end) && e.start >= 0 && e.start <= e.end && e.end < n)) {
      throw new RangeError(`eventsToFlags(events): expected 0 ≤ start ≤ end < ${n}, got [${e.start}, ${e.end}]`);
    }
    flags.fill(1, e.start, e.end + 1);
  }
  return flags;
}

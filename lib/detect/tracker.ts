/**
 * Events from a stream of (index, score, flag), as `flagsToEvents` (events.ts) makes them from whole arrays: runs of
 * flagged points, merged across fewer than `minGap` unflagged points, each with its peak (the first index on ties, the
 * gap's points included). Constant memory: the open event and the largest score since it, plus the closed events kept
 * (at most `maxEvents`; `count` is always exact).
 *
 * Each point may carry a row `R` of the caller's (a timestamp, a line number); an event keeps the rows of its start,
 * end and peak.
 *
 * @example
 * ```text
 * const t = new EventTracker<string>(2);
 * [0, 1, 0, 1, 0, 0, 1].forEach((f, i) => t.push(i, [0, 5, 1, 7, 0, 0, 2][i] as number, f as 0 | 1, `row ${i}`));
 * t.close();
 * t.events   // [{ start: 1, end: 3, peakIndex: 3, peakScore: 7, startRow: 'row 1', endRow: 'row 3', peakRow: 'row 3' },
 *            //  { start: 6, end: 6, peakIndex: 6, peakScore: 2, … }]
 * ```
 */
import type { AnomalyEvent } from './events.js';

export interface TrackedEvent<R> extends AnomalyEvent {
  startRow: R;
  endRow: R;
  peakRow: R;
}

export class EventTracker<R = undefined> {
  /** Closed events, the first `maxEvents` of them. */
  readonly events: TrackedEvent<R>[] = [];
  /** Closed events, all of them. */
  count = 0;
  private cur: TrackedEvent<R> | null = null;
  /** The largest score since the open event's last flagged point, where, and its row. */
  private gapMax = -Infinity;
  private gapMaxIndex = -1;
  private gapMaxRow: R | null = null;

  constructor(
    private readonly minGap: number,
    private readonly maxEvents = Infinity,
  ) {}

  /** The next point; indices increase by one from call to call. */
  push(index: number, score: number, flag: 0 | 1, row: R): void {
    const c = this.cur;
    if (flag === 1) {
      const gap = c !== null ? index - c.end - 1 : -1; // unflagged points since the open event's last flagged one
      if (c !== null && (gap === 0 || gap < this.minGap)) {
        if (this.gapMax > c.peakScore && this.gapMaxIndex >= 0) {
          c.peakScore = this.gapMax;
          c.peakIndex = this.gapMaxIndex;
          c.peakRow = this.gapMaxRow as R;
        }
        if (score > c.peakScore) {
          c.peakScore = score;
          c.peakIndex = index;
          c.peakRow = row;
        }
        c.end = index;
        c.endRow = row;
      } else {
        this.close();
        this.cur = {
          start: index,
          end: index,
          peakIndex: index,
          peakScore: score,
          startRow: row,
          endRow: row,
          peakRow: row,
        };
      }
      this.gapMax = -Infinity;
      this.gapMaxIndex = -1;
      this.gapMaxRow = null;
    } else if (c !== null && score > this.gapMax) {
      this.gapMax = score;
      this.gapMaxIndex = index;
      this.gapMaxRow = row;
    }
  }

  /** Closes the open event (at the end of the stream; also done when a new event starts). */
  close(): void {
    if (this.cur === null) return;
    this.count++;
    if (this.events.length < this.maxEvents) this.events.push(this.cur);
    this.cur = null;
  }
}

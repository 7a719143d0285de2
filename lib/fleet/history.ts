/**
 * A series' history for fitting, read back from the fleet's input partition stream (training.ts uses it for jobs
 * with `from: 'stream'`).
 *
 * The points of series s arrive on `{prefix}:in:{partitionOf(s, P)}` as entries with the fields series, ts and v
 * (comma-separated values, one per feature). The stream holds every series of the partition interleaved, so reading
 * one series' last N points walks the stream backwards (XREVRANGE, PAGE entries per call) from a pinned entry ID
 * `until` and keeps the entries of that series until it has N of them or reaches the stream's start:
 *
 *   cost   entries read ≈ N · (series in the partition) (interleaved at similar rates), PAGE entries per round trip
 *
 * e.g. 1,000 series on 8 partitions at one point each per 10 s: 125 series per partition, so 5,000 points of one
 * series read ≈ 625,000 entries (≈ 625 round trips of 1,000 entries). Fine for moderate history and occasional
 * refits; for long histories give the values in the job instead. What a stream no longer holds (trimmed with
 * MAXLEN/MINID by the engine or an operator) is not there to read: the job then fits on fewer points, or fails with
 * the Detector's "expected at least N points" when too few remain.
 *
 * Pinning: the read ends at `until` (inclusive), the ID of the stream's last entry when the job first ran, so that a
 * retry reads the same entries (new points arriving meanwhile do not change the fit).
 *
 * Entries of the series that parseEntry (entries.ts) refuses, which the scoring workers send to the dead-letter stream,
 * and entries with another number of values than the newest one, are skipped and counted.
 */
import type { Redis } from 'ioredis';
import { parseEntry } from './entries.js';

/** Entries per XREVRANGE call. */
export const PAGE = 1000;

/** What readStreamHistory returns: the series' points in time order. */
export interface StreamHistory {
  /** One value per point (one feature), or [n, F] rows. */
  values: number[] | number[][];
  /** Epoch ms of each point (the entries' ts). */
  timestamps: number[];
  /** Entries read from the stream (of every series of the partition). */
  scanned: number;
  /** Entries of this series skipped as malformed. */
  skipped: number;
}

/** The series field of an entry's flat [f1, v1, f2, v2, …] list, or undefined. */
function seriesOf(flat: string[]): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === 'series') return flat[i + 1];
  return undefined;
}

/** The ID of the last entry of a stream, or '0-0' when it is empty or absent. */
export async function lastEntryId(redis: Redis, key: string): Promise<string> {
  const r = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
  return r.length > 0 ? r[0][0] : '0-0';
}

/**
 * The last `points` points of `series` on the partition stream `key`, up to the entry `until` (inclusive), oldest
 * first. See the module notes for the cost.
 */
export async function readStreamHistory(
  redis: Redis,
  key: string,
  series: string,
  points: number,
  until: string,
): Promise<StreamHistory> {
  const rows: number[][] = [];
  const ts: number[] = [];
  let scanned = 0;
  let skipped = 0;
  let F = -1;
  let end = until;
  while (rows.length < points && end !== '0-0') {
    const page = await redis.xrevrange(key, end, '-', 'COUNT', PAGE);
    if (page.length === 0) break;
    scanned += page.length;
    for (const [, flat] of page) {
      if (seriesOf(flat) !== series) continue;
      const p = parseEntry(flat);
      if ('reason' in p || (F >= 0 && p.values.length !== F)) {
        skipped++;
        continue;
      }
      F = p.values.length;
      rows.push(p.values);
      ts.push(p.ts);
      if (rows.length === points) break;
    }
    if (page.length < PAGE) break;
    end = `(${page[page.length - 1][0]}`;
  }
  rows.reverse();
  ts.reverse();
  return { values: F === 1 ? rows.map((r) => r[0]) : rows, timestamps: ts, scanned, skipped };
}

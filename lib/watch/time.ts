/**
 * Durations and time windows as `bptt watch` takes them.
 *
 *   parseDuration('15s') → 15000;  parseDuration('1h30m') → 5400000   (Prometheus' duration syntax: units y w d h m s ms)
 *   parseWindow('2026-11-01T10:00Z/2026-11-01T14:00Z') → [start, end] in epoch ms (ISO 8601 with a zone, start < end)
 */
import { ArgumentError } from '../errors.js';
import { describeValue } from '../check.js';
import { toEpochMs } from '../detect/controls.js';

const UNIT_MS: Record<string, number> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};
const DURATION = /^(?:\d+(?:y|w|d|h|ms|m|s))+$/;
const PART = /(\d+)(y|w|d|h|ms|m|s)/g;

/** A Prometheus-style duration ('15s', '7d', '1h30m', '500ms') in milliseconds; > 0. */
export function parseDuration(s: string, argName: string): number {
  if (typeof s !== 'string' || !DURATION.test(s)) {
    throw new ArgumentError(argName, "a duration such as '15s', '5m', '7d' or '1h30m'", describeValue(s));
  }
  let ms = 0;
  for (const m of s.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2]];
  if (!(ms > 0) || !Number.isSafeInteger(ms)) {
    throw new ArgumentError(argName, 'a positive duration', describeValue(s));
  }
  return ms;
}

/** 'START/END' (ISO 8601 times with a zone) as [start, end) in epoch ms, start < end. */
export function parseWindow(s: string, argName: string): [number, number] {
  const parts = typeof s === 'string' ? s.split('/') : [];
  if (parts.length !== 2) {
    throw new ArgumentError(argName, "START/END, such as '2026-11-01T10:00Z/2026-11-01T14:00Z'", describeValue(s));
  }
  const start = toEpochMs(parts[0], `${argName} start`),
    end = toEpochMs(parts[1], `${argName} end`);
  if (!(start < end)) {
    throw new ArgumentError(argName, 'a start before the end', describeValue(s), {
      problem: `${describeValue(s)}: the window must start before it ends`,
    });
  }
  return [start, end];
}

/** Seconds as Prometheus' API writes them ('1733480000.5'), from epoch ms. */
export function apiSeconds(ms: number): string {
  return (ms / 1000).toFixed(3).replace(/\.?0+$/, '');
}

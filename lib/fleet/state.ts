/**
 * A series' checkpoint: what a worker needs to continue the series exactly where the last commit left it, stored as
 * one JSON value in the partition's hash `{p}:ckpt:{k}` (field = series name), written by the commit script together
 * with the outputs and the partition's position, so state and outputs never disagree.
 *
 *   { "format": "bptt-fleet-series", "formatVersion": 1,
 *     "source": { "kind": "template" | "fitted", "name", "version" }   the detector document the stream runs on,
 *     "index":  points of the series processed so far (the next output's index),
 *     "flag":   the last output's flag (0/1), so an event that spans a failover still starts and ends once,
 *     "recent": the last W+1 raw points, each [ts, v0, v1, …]: what warms a new detector version,
 *     "stream": the stream's state (DetectorStream.getState(): format 'bptt-stream'; it names its detector by a
 *               fingerprint, and Detector.stream(state) refuses a state of another detector) }
 *
 * Reading validates every field (a hand-edited or foreign value is refused with the field named); nothing is executed.
 */
import type { Detector } from '../detect/detector.js';
import type { DetectorStream, DetectorStreamState } from '../detect/stream.js';
import { FleetError } from './errors.js';
import type { DetectorSource } from './store.js';

export const CHECKPOINT_FORMAT = 'bptt-fleet-series';
export const CHECKPOINT_FORMAT_VERSION = 1;

/** The stream state a DetectorStream hands out (plain JSON); validated by Detector.stream(state) when read back. */
export type StreamState = DetectorStreamState | Record<string, unknown>;

/** A series' checkpoint, parsed. */
export interface SeriesCheckpoint {
  source: DetectorSource;
  index: number;
  flag: 0 | 1;
  recent: number[][];
  stream: StreamState;
}

/** The stream's state (plain JSON). */
export function streamState(s: DetectorStream): StreamState {
  return s.getState();
}

/** A stream of `d`, continuing from `state` when given. */
export function openStream(d: Detector, state?: StreamState): DetectorStream {
  return d.stream(state);
}

/** The checkpoint's JSON text. */
export function checkpointText(c: SeriesCheckpoint): string {
  return JSON.stringify({
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    source: c.source,
    index: c.index,
    flag: c.flag,
    recent: c.recent,
    stream: c.stream,
  });
}

const KEYS = ['format', 'formatVersion', 'source', 'index', 'flag', 'recent', 'stream'];

/** Parses and validates a checkpoint; a FleetError 'state' naming `where` and the field otherwise. */
export function parseCheckpoint(text: string, where: string): SeriesCheckpoint {
  const bad = (field: string, expected: string, got: unknown): FleetError =>
    new FleetError(
      'state',
      `${where}: field ${field}: expected ${expected}, got ${JSON.stringify(got)?.slice(0, 80) ?? String(got)}`,
    );
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new FleetError('state', `${where}: not JSON (${(e as Error).message})`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw bad('(root)', 'an object', j);
  const o = j as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw bad(k, 'no such field', o[k]);
  if (o['format'] !== CHECKPOINT_FORMAT) throw bad('format', `'${CHECKPOINT_FORMAT}'`, o['format']);
  if (o['formatVersion'] !== CHECKPOINT_FORMAT_VERSION)
    throw bad('formatVersion', String(CHECKPOINT_FORMAT_VERSION), o['formatVersion']);
  const s = o['source'] as Record<string, unknown> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    (s['kind'] !== 'template' && s['kind'] !== 'fitted') ||
    typeof s['name'] !== 'string' ||
    !Number.isSafeInteger(s['version']) ||
    (s['version'] as number) < 0 ||
    Object.keys(s).length !== 3
  )
    throw bad('source', "{ kind: 'template' | 'fitted', name, version }", s);
  const index = o['index'];
  if (!Number.isSafeInteger(index) || (index as number) < 0) throw bad('index', 'a count ≥ 0', index);
  const flag = o['flag'];
  if (flag !== 0 && flag !== 1) throw bad('flag', '0 or 1', flag);
  const recent = o['recent'];
  if (
    !Array.isArray(recent) ||
    !recent.every(
      (p) => Array.isArray(p) && p.length >= 2 && p.every((v) => typeof v === 'number' && Number.isFinite(v)),
    )
  )
    throw bad('recent', 'an array of [ts, values…] of finite numbers', recent);
  if (typeof o['stream'] !== 'object' || o['stream'] === null)
    throw bad('stream', 'a stream state object', o['stream']);
  return {
    source: { kind: s['kind'], name: s['name'], version: s['version'] as number },
    index: index as number,
    flag,
    recent: recent as number[][],
    stream: o['stream'] as Record<string, unknown>,
  };
}

/**
 * The per-series state file of `bptt watch --state DIR`: `DIR/<id>.json`, where id = seriesId(query, labels)
 * (labels.ts), written atomically (temp file + rename) every N scored points and at shutdown.
 *
 *   { "format": "bptt-watch-series", "formatVersion": 1,
 *     "id", "query", "labels": { … } (the series' own label set), "stepMs",
 *     "lastTimestamp": epoch ms of the newest step handled (scored or missing): a restart backfills only after it,
 *     "lastFit": epoch ms of the fit, "pointsScored",
 *     "recent": the newest raw values (what a detector trained once needs to fill its window again after a restart),
 *     "alarms": the newest alarms [{ at, score }] (what `bptt feedback --at` refers to),
 *     "detector": a bptt-detector document (lib/detect/io.ts): for 'gru-online' its online state as of lastTimestamp,
 *                 and its feedback marks }
 *
 * Reading validates every field and that the id matches the query and labels (a renamed or edited file is refused).
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomicSync } from '../node/atomic.js';
import { Detector } from '../detect/detector.js';
import type { DetectorJSON } from '../detect/io.js';
import { ModelFileError } from '../errors.js';
import { describeValue } from '../check.js';
import { isLabelSet, seriesId, type LabelSet } from './labels.js';

export const STATE_FORMAT = 'bptt-watch-series';
export const STATE_FORMAT_VERSION = 1;
/** Alarms kept per series for `bptt feedback`. */
export const MAX_ALARMS = 1000;

export interface Alarm {
  at: number;
  score: number;
}

export interface SeriesState {
  id: string;
  query: string;
  labels: LabelSet;
  stepMs: number;
  lastTimestamp: number;
  lastFit: number;
  pointsScored: number;
  recent: number[];
  alarms: Alarm[];
  detector: Detector;
}

const KEYS = [
  'format',
  'formatVersion',
  'id',
  'query',
  'labels',
  'stepMs',
  'lastTimestamp',
  'lastFit',
  'pointsScored',
  'recent',
  'alarms',
  'detector',
];

export function statePath(dir: string, id: string): string {
  return path.join(dir, `${id}.json`);
}

/** The document of a series' state; `detector` is the detector's JSON as it should be saved. */
export function stateToJSON(s: Omit<SeriesState, 'detector'>, detector: DetectorJSON): string {
  return JSON.stringify({
    format: STATE_FORMAT,
    formatVersion: STATE_FORMAT_VERSION,
    id: s.id,
    query: s.query,
    labels: s.labels,
    stepMs: s.stepMs,
    lastTimestamp: s.lastTimestamp,
    lastFit: s.lastFit,
    pointsScored: s.pointsScored,
    recent: s.recent,
    alarms: s.alarms.slice(-MAX_ALARMS),
    detector,
  });
}

export function writeState(dir: string, s: Omit<SeriesState, 'detector'>, detector: DetectorJSON): string {
  const file = statePath(dir, s.id);
  writeFileAtomicSync(file, stateToJSON(s, detector));
  return file;
}

/** Reads and validates a state file; every problem is a ModelFileError naming the file. */
export function readState(file: string): SeriesState {
  const fail = (problem: string): never => {
    throw new ModelFileError(file, problem);
  };
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    fail(`cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let j: Record<string, unknown> = {};
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    fail(`not valid JSON (a truncated or corrupt file?): ${(e as Error).message}`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) fail('expected a JSON object');
  if (j['format'] !== STATE_FORMAT) fail(`not a bptt watch state (format ${describeValue(j['format'])})`);
  if (j['formatVersion'] !== STATE_FORMAT_VERSION) {
    fail(`unknown format version ${describeValue(j['formatVersion'])}; this bptt reads ${STATE_FORMAT_VERSION}`);
  }
  for (const k of Object.keys(j)) if (!KEYS.includes(k)) fail(`unknown field ${describeValue(k)}`);
  const { id, query, labels } = j;
  if (typeof query !== 'string' || query === '') fail(`query: expected the PromQL text, got ${describeValue(query)}`);
  if (!isLabelSet(labels)) fail('labels: expected an object of label names to string values');
  if (typeof id !== 'string' || id !== seriesId(query as string, labels as LabelSet)) {
    fail(`id ${describeValue(id)} is not the id of its query and labels (an edited or renamed file?)`);
  }
  const num = (k: string, min: number): number => {
    const v = j[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
      fail(`${k}: expected a number ≥ ${min}, got ${describeValue(v)}`);
    return v as number;
  };
  const recent = j['recent'];
  if (
    !Array.isArray(recent) ||
    recent.length > 100_000 ||
    !recent.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    fail('recent: expected an array of finite numbers');
  }
  const alarms = j['alarms'];
  if (!Array.isArray(alarms) || alarms.length > MAX_ALARMS) fail(`alarms: expected an array of at most ${MAX_ALARMS}`);
  for (const a of alarms as unknown[]) {
    const o = a as Record<string, unknown>;
    if (
      o === null ||
      typeof o !== 'object' ||
      typeof o['at'] !== 'number' ||
      typeof o['score'] !== 'number' ||
      !Number.isFinite(o['at']) ||
      !Number.isFinite(o['score'])
    ) {
      fail(`alarms: expected { at, score } numbers, got ${describeValue(a)}`);
    }
  }
  const detector = Detector.fromJSON(j['detector'], `${file}: detector`);
  const stepMs = num('stepMs', 1);
  return {
    id: id as string,
    query: query as string,
    labels: labels as LabelSet,
    stepMs,
    lastTimestamp: num('lastTimestamp', 0),
    lastFit: num('lastFit', 0),
    pointsScored: num('pointsScored', 0),
    recent: recent as number[],
    alarms: (alarms as Alarm[]).map((a) => ({ at: a.at, score: a.score })),
    detector,
  };
}

/** The state files in `dir` (names `<16 hex>.json`); none when the directory does not exist yet. */
export function listStateFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => /^[0-9a-f]{16}\.json$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

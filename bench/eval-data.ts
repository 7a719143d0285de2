/**
 * Data for bench/eval.ts: the labelled NAB and SKAB files in <repo>/../shared/data, read as the data READMEs describe,
 * and the published reference rows taken from those READMEs (nothing typed in by hand).
 *
 *   NAB   13 univariate CSVs (timestamp,value); windows from labels.json matched to rows by timestamp (nabWindowRows);
 *         training part = the probationary rows, P = min(⌊0.15·N⌋, 750) (nabProbationaryLength).
 *   SKAB  17 runs (';'-separated, 8 sensors, `anomaly` 0/1); training part = the first 400 rows, test = the rest.
 */
import '../lib/node/install'; // the Node host: files, worker threads ('auto' is 1 without it)
import * as fs from 'fs';
import * as path from 'path';
import { nabProbationaryLength, nabWindowRows, type NabWindow } from '../lib/detect/nab';

/** The repository root: the nearest ancestor of this file holding bptt's package.json (works from dist*). */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'bptt')
      return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`eval: could not find the bptt repository root above ${__dirname}`);
    dir = up;
  }
}

export const DATA_DIR = path.resolve(repoRoot(), '..', 'shared', 'data');
export const NAB_DIR = path.join(DATA_DIR, 'nab');
export const SKAB_DIR = path.join(DATA_DIR, 'skab');

function readText(p: string): string {
  if (!fs.existsSync(p))
    throw new Error(`eval: data file missing: ${p} (the evaluation reads ../shared/data beside the repository)`);
  return fs.readFileSync(p, 'utf8');
}

export interface NabFile {
  /** '<category>/<file>.csv', as in labels.json. */
  name: string;
  timestamps: string[];
  values: number[];
  windows: NabWindow[];
  /** Probationary rows: the training part and the rows the scorer ignores. */
  probation: number;
}

export function loadNab(): NabFile[] {
  const labels = JSON.parse(readText(path.join(NAB_DIR, 'labels.json'))) as Record<string, Array<[string, string]>>;
  return Object.keys(labels)
    .sort()
    .map((name) => {
      const lines = readText(path.join(NAB_DIR, name))
        .split(/\r?\n/)
        .filter((l) => l.length > 0);
      if (lines[0] !== 'timestamp,value')
        throw new Error(`eval: ${name}: expected header 'timestamp,value', got '${lines[0]}'`);
      const timestamps: string[] = [],
        values: number[] = [];
      for (let i = 1; i < lines.length; i++) {
        const [t, v] = lines[i].split(',');
        const x = Number(v);
        if (t === undefined || v === undefined || v.trim() === '' || !Number.isFinite(x))
          throw new Error(`eval: ${name}: bad row ${i + 1}: '${lines[i]}'`);
        timestamps.push(t);
        values.push(x);
      }
      return {
        name,
        timestamps,
        values,
        windows: nabWindowRows(timestamps, labels[name]),
        probation: nabProbationaryLength(values.length),
      };
    });
}

export interface SkabFile {
  /** '<folder>/<n>.csv'. */
  name: string;
  /** Sensor rows [time][8]. */
  rows: number[][];
  /** `anomaly` column, 0/1. */
  labels: Uint8Array;
}

export const SKAB_TRAIN_ROWS = 400;
export const SKAB_SENSORS = 8;

export function loadSkab(): SkabFile[] {
  const out: SkabFile[] = [];
  for (const folder of ['other', 'valve1', 'valve2']) {
    const dir = path.join(SKAB_DIR, folder);
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.csv'))
      .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
    for (const f of files) {
      const name = `${folder}/${f}`;
      const lines = readText(path.join(dir, f))
        .split(/\r?\n/)
        .filter((l) => l.length > 0);
      const header = lines[0].split(';');
      const ai = header.indexOf('anomaly');
      if (header.length !== SKAB_SENSORS + 3 || ai !== SKAB_SENSORS + 1)
        throw new Error(`eval: ${name}: unexpected header ${lines[0]}`);
      const rows: number[][] = [];
      const labels = new Uint8Array(lines.length - 1);
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i].split(';');
        const r = c.slice(1, 1 + SKAB_SENSORS).map(Number);
        if (r.length !== SKAB_SENSORS || !r.every(Number.isFinite)) throw new Error(`eval: ${name}: bad row ${i + 1}`);
        rows.push(r);
        const a = Number(c[ai]);
        if (a !== 0 && a !== 1) throw new Error(`eval: ${name}: row ${i + 1}: anomaly is ${c[ai]}`);
        labels[i - 1] = a;
      }
      out.push({ name, rows, labels });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Published rows, parsed from the data READMEs.
// ---------------------------------------------------------------------------------------------------------------

/** The rows of the first markdown table after the line that contains `heading` (cells trimmed, header row dropped). */
function tableAfter(md: string, heading: string, where: string): string[][] {
  const lines = md.split(/\r?\n/);
  const h = lines.findIndex((l) => l.includes(heading));
  if (h < 0) throw new Error(`eval: ${where}: no '${heading}' section`);
  let i = h + 1;
  while (i < lines.length && !lines[i].startsWith('|')) i++;
  const rows: string[][] = [];
  for (; i < lines.length && lines[i].startsWith('|'); i++) {
    rows.push(
      lines[i]
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  if (rows.length < 3) throw new Error(`eval: ${where}: empty table after '${heading}'`);
  return rows.slice(2); // header and ---|--- rule
}

export interface NabPublished {
  detector: string;
  standard: number;
  lowFP: number;
  lowFN: number;
}

/** NAB README, "Published detectors on THIS subset": per-file raw scores at NAB's corpus-wide thresholds, summed here. */
export function nabPublished(): NabPublished[] {
  const md = readText(path.join(NAB_DIR, 'README.md'));
  return tableAfter(md, 'Published detectors on THIS subset', 'nab/README.md').map((c) => ({
    detector: c[0],
    standard: Number(c[1]),
    lowFP: Number(c[2]),
    lowFN: Number(c[3]),
  }));
}

/** NAB's published per-row output of a detector on one file (`results/<det>/<category>/<det>_<file>`): anomaly_score. */
export function nabPublishedScores(detector: string, file: string): Float64Array {
  const [category, name] = file.split('/') as [string, string];
  const lines = readText(path.join(NAB_DIR, 'results', detector, category, `${detector}_${name}`))
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const si = lines[0].split(',').indexOf('anomaly_score');
  if (si < 0) throw new Error(`eval: results/${detector}/${file}: no anomaly_score column`);
  return Float64Array.from(lines.slice(1), (l) => Number(l.split(',')[si]));
}

/** Detectors whose per-row outputs are in nab/results/ (so they can be re-tuned on these files). */
export const NAB_RESULT_DETECTORS = ['numenta', 'windowedGaussian'];

export interface SkabPublished {
  algorithm: string;
  f1: number;
  /** Percent, as SKAB prints it. */
  far: number;
  mar: number;
}

/** SKAB README, current outlier-detection leaderboard (all 34 labelled runs). */
export function skabPublished(): SkabPublished[] {
  const md = readText(path.join(SKAB_DIR, 'README.md'));
  return tableAfter(md, '### Outlier detection', 'skab/README.md').map((c) => ({
    algorithm: c[0],
    f1: Number(c[1]),
    far: Number(c[2]),
    mar: Number(c[3]),
  }));
}

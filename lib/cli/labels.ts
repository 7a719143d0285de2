/**
 * Labelled anomaly windows for the report (`--labels`), from one of:
 *   a column of the CSV      0/1 per row (non-zero, true or yes = anomalous); windows are the runs of 1s
 *   a JSON file              [[start, end], ...] or [{ "start": …, "end": … }, ...], or NAB's labels.json
 *                            ({ "<dir>/<file>.csv": [[start, end], ...], ... }: the key the data file's path ends with
 *                            is used, or the one named after '#': --labels labels.json#realTraffic/speed_7578.csv)
 *   a CSV file               columns start,end (or the first two columns), one window per row
 * Window ends are timestamps as in the data (NAB's ".000000" suffix is fine), both inclusive; for a file without a time
 * column they are row numbers (0-based). A window maps to the rows whose time falls inside it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError, fsMessage } from './errors.js';
import { CsvReader } from './csv.js';
import { parseDate } from './time.js';
import type { Range } from '../detect/events.js';

/** Whether `spec` names a label file (else it is taken as a column name). */
export function isLabelFile(spec: string): boolean {
  const file = spec.split('#')[0];
  try {
    return fs.statSync(file).isFile();
  } catch {
    return /\.(json|csv)(#.*)?$/i.test(spec); // looks like a file: report it missing rather than as a missing column
  }
}

type Bound = string | number;

/** The windows of a label file, as [start, end] timestamps (or row numbers). */
export function readLabelFile(spec: string, dataFile: string): Array<[Bound, Bound]> {
  const hash = spec.indexOf('#');
  const file = hash >= 0 ? spec.slice(0, hash) : spec;
  const key = hash >= 0 ? spec.slice(hash + 1) : null;
  if (/\.csv$/i.test(file)) return readLabelCsv(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`--labels: ${fsMessage('read', file, e)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--labels: ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(doc)) {
    if (doc === null || typeof doc !== 'object')
      throw new UserError(`--labels: ${file}: expected a list of [start, end] windows or an object of them per file`);
    const obj = doc as Record<string, unknown>;
    const keys = Object.keys(obj);
    let chosen: string | undefined;
    if (key !== null) {
      if (!(key in obj)) throw new UserError(`--labels: ${file} has no entry ${JSON.stringify(key)}`);
      chosen = key;
    } else {
      const abs = path.resolve(dataFile).split(path.sep).join('/');
      chosen =
        keys.find((k) => abs.endsWith(`/${k}`)) ?? keys.find((k) => path.basename(k) === path.basename(dataFile));
      if (chosen === undefined) {
        throw new UserError(
          `--labels: ${file} has windows for ${keys.length} file${keys.length === 1 ? '' : 's'} ` +
            `(${keys
              .slice(0, 3)
              .map((k) => JSON.stringify(k))
              .join(', ')}${keys.length > 3 ? ', …' : ''}), none of them ${JSON.stringify(path.basename(dataFile))}; ` +
            `pick one with --labels ${file}#<key>`,
        );
      }
    }
    doc = obj[chosen];
    if (!Array.isArray(doc))
      throw new UserError(`--labels: ${file}: entry ${JSON.stringify(chosen)} is not a list of windows`);
  }
  return (doc as unknown[]).map((w, i) => {
    const pair = Array.isArray(w)
      ? w
      : w !== null && typeof w === 'object'
        ? [(w as { start?: unknown }).start, (w as { end?: unknown }).end]
        : null;
    if (pair === null || pair.length !== 2 || !pair.every((b) => typeof b === 'string' || typeof b === 'number')) {
      throw new UserError(`--labels: ${file}: window ${i} is not [start, end] (got ${JSON.stringify(w)})`);
    }
    return [pair[0], pair[1]];
  });
}

function readLabelCsv(file: string): Array<[Bound, Bound]> {
  const r = CsvReader.open(file);
  try {
    const head = r.next();
    if (head === null) throw new UserError(`--labels: ${file} is empty`);
    const h = head.fields.map((x) => x.trim().toLowerCase());
    const s = h.indexOf('start') >= 0 ? h.indexOf('start') : 0,
      e = h.indexOf('end') >= 0 ? h.indexOf('end') : 1;
    if (h.length < 2) throw new UserError(`--labels: ${file}: expected columns start,end`);
    const out: Array<[Bound, Bound]> = [];
    for (let rec = r.next(); rec !== null; rec = r.next()) {
      if (rec.fields.length !== h.length)
        throw new UserError(
          `--labels: ${file} line ${rec.line}: ${rec.fields.length} fields, the header has ${h.length}`,
        );
      out.push([rec.fields[s].trim(), rec.fields[e].trim()]);
    }
    return out;
  } finally {
    r.close();
  }
}

/**
 * Windows → inclusive row ranges of a series. `timeValues` (sorted ms or numbers) when the time column is a date or a
 * number; `times` (strings) when it is text; neither: row numbers.
 */
export function windowsToRanges(
  windows: Array<[Bound, Bound]>,
  n: number,
  timeKind: string,
  timeValues: Float64Array | null,
  times: string[] | null,
  file: string,
): Range[] {
  const out: Range[] = [];
  const num = (b: Bound, what: string): number => {
    const v = typeof b === 'number' ? b : timeKind === 'date' ? parseDate(b) : Number(b);
    if (Number.isNaN(v))
      throw new UserError(
        `--labels: ${file}: ${what} ${JSON.stringify(b)} is not a ${timeKind === 'date' ? 'date' : 'number'}`,
      );
    return v;
  };
  for (const [a, b] of windows) {
    let lo: number, hi: number;
    if (timeValues !== null) {
      const t0 = num(a, 'window start'),
        t1 = num(b, 'window end');
      lo = firstIndex(timeValues, (t) => t >= t0);
      hi = firstIndex(timeValues, (t) => t > t1) - 1;
    } else if (times !== null) {
      lo = times.indexOf(String(a));
      hi = times.indexOf(String(b));
      if (lo < 0 || hi < 0)
        throw new UserError(`--labels: ${file}: window [${a}, ${b}] names a timestamp that is not in the data`);
    } else {
      lo = Math.max(0, Math.ceil(num(a, 'window start')));
      hi = Math.min(n - 1, Math.floor(num(b, 'window end')));
    }
    if (lo <= hi && lo < n && hi >= 0) out.push({ start: lo, end: hi });
  }
  return out.sort((x, y) => x.start - y.start);
}

/** The first index of a sorted array where `ok` holds (a.length when nowhere). */
function firstIndex(a: Float64Array, ok: (v: number) => boolean): number {
  let lo = 0,
    hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ok(a[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

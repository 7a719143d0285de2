/**
 * `bptt score <file.csv> --model model.bptt.json`: scores a CSV of any length with a saved model, in constant memory.
 *
 * The file is read record by record (CsvReader, 1 MiB chunks) and each row goes through detector.stream(); each output
 * row is written as soon as its score is final, to stdout or to a temp file renamed over --out at the end (atomic).
 * Memory: the window (W rows), the rows whose score is pending (autoencoders with combine 'mean'/'max' finalise a row
 * W−1 rows later; see lib/detect/stream.ts), the rows held back by a gap in the data (below), and the output buffer.
 *
 * Output columns and warm-up rows as for `bptt detect`: rows before the first complete window get an empty score and
 * threshold and anomaly 0. The threshold continues online from the model's calibration (SPOT/DSPOT) or stays at its
 * static level; 'dynamic' cannot stream (re-fit with another threshold, or override it here with --threshold).
 *
 * Empty cells: a row with an empty value cell is held back until the column's next value arrives, then the gap is
 * filled by linear interpolation, as `detect` fills it, so both commands score the same rows alike. A gap at the
 * start takes the first value; a gap at the end the last one. A gap longer than 10,000 rows is filled by carrying the
 * last value forward instead (memory stays bounded), with a warning.
 *
 * Time order cannot be restored in a stream: a row that repeats the previous row's timestamp is dropped (the first is
 * kept, as `detect` does); a row that goes back in time is scored where it stands; both are counted in a warning.
 */
import { UserError, at, userCall } from './errors';
import { openWithSchema, checkRagged, parseValue, csvField, csvNumber, missingWarning, valueError, CsvRecord, SchemaOptions } from './csv';
import { timeParser } from './time';
import { Output } from './output';
import { Context, say, warn, since } from './context';
import { checkFiles } from './files';
import { loadModelFile, OUTPUT_COLUMNS, finiteOrNull, publicOptions, columnList } from './detect';
import { Detector } from '../detect/detector';
import { parseThreshold } from '../detect/threshold-spec';
import type { StreamResult } from '../detect/stream';
import { formatNumber } from './report';
import * as opt from './options';

/** Longest gap (rows) held back for interpolation before carrying the last value forward. */
export const MAX_HOLD = 10_000;
/** Events kept for the JSON summary (the count is always exact). */
const MAX_EVENTS = 10_000;

interface Held {
  prefix: string;
  time: string | number;
  line: number;
  v: Float64Array;
  /** The row's timestamp in epoch ms (a date time column), else NaN. */
  ms: number;
}

interface Pending {
  prefix: string;
  time: string | number;
  line: number;
}

interface StreamEvent {
  start: string | number; end: string | number; peak: string | number; peakScore: number;
  startIndex: number; endIndex: number; peakIndex: number; startLine: number; endLine: number;
}

/**
 * Events from a stream of (index, score, flag), as flagsToEvents() makes them from whole arrays: runs of flags,
 * merged across fewer than `minGap` unflagged rows, each with its peak (first index on ties, gap rows included).
 */
export class EventTracker {
  events: StreamEvent[] = [];
  count = 0;
  private cur: StreamEvent | null = null;
  private gapMax = -Infinity;
  private gapMaxAt: Pending | null = null;
  private gapMaxIndex = -1;

  constructor(private readonly minGap: number) {}

  push(index: number, score: number, flag: 0 | 1, row: Pending): void {
    const c = this.cur;
    if (flag === 1) {
      if (c !== null && index - c.endIndex - 1 < this.minGap) {
        if (this.gapMax > c.peakScore && this.gapMaxAt !== null) {
          c.peakScore = this.gapMax; c.peak = this.gapMaxAt.time; c.peakIndex = this.gapMaxIndex;
        }
        if (score > c.peakScore) { c.peakScore = score; c.peak = row.time; c.peakIndex = index; }
        c.end = row.time; c.endIndex = index; c.endLine = row.line;
      } else {
        this.close();
        this.cur = {
          start: row.time, end: row.time, peak: row.time, peakScore: score, startIndex: index, endIndex: index, peakIndex: index,
          startLine: row.line, endLine: row.line,
        };
      }
      this.gapMax = -Infinity;
      this.gapMaxAt = null;
    } else if (c !== null && score > this.gapMax) {
      this.gapMax = score;
      this.gapMaxAt = row;
      this.gapMaxIndex = index;
    }
  }

  close(): void {
    if (this.cur === null) return;
    this.count++;
    if (this.events.length < MAX_EVENTS) this.events.push(this.cur);
    this.cur = null;
  }
}

export const SCORE_HELP = `Usage: bptt score <file.csv> --model model.bptt.json [options]

Scores a CSV with a saved model (from bptt fit, or bptt detect --save), streaming: any number of rows in
constant memory. Writes the time, the values, score, threshold and anomaly (0/1) columns to stdout or --out.

Options
  --model FILE.json       the saved model (required)
  -o, --out FILE.csv      write here (atomically: a temp file renamed at the end) instead of stdout
  --columns A,B           the value columns (default: the columns the model was trained on)
  --time-column NAME      the time column (default: the model's, else detected)
  --delimiter C           field delimiter (default: sniffed)
  --threshold T           override the model's threshold (spot, dspot, quantile:0.99, sigma:3, fixed:V, ...;
                          not dynamic, which needs the whole series)
  --json                  print a JSON summary to stdout (events, counts, timings, peak memory);
                          the CSV is then written only with --out
  -q, --quiet             no summary on stderr (warnings still print)
  -h, --help              this help

Warm-up rows (before the first complete window) get an empty score and threshold and anomaly 0.
An empty cell holds its row back until the column's next value, then is filled by linear interpolation
(as bptt detect does); rows repeating the previous timestamp are dropped; rows going back in time are
scored in file order. Both are reported.`;

export const SCORE_SPEC: opt.OptionSpec = {
  ...opt.COMMON, ...opt.READ, model: { type: 'string' }, out: { type: 'string', short: 'o' }, threshold: { type: 'string' },
  json: { type: 'boolean' },
};

export function scoreCommand(ctx: Context, argv: string[]): number {
  const t0 = performance.now();
  const { values: v, positionals } = opt.parse('score', argv, SCORE_SPEC);
  if (opt.flag(v, 'help')) { ctx.out(`${SCORE_HELP}\n`); return 0; }
  const file = opt.onePositional('score', positionals, 'input CSV file');
  const modelFile = opt.str(v, 'model');
  if (modelFile === undefined) throw new UserError('score: --model FILE is required (make one with bptt fit --save FILE)');
  const json = opt.flag(v, 'json');
  const outFile = opt.str(v, 'out') ?? null;
  checkFiles('score', [{ what: 'the input file', file }, { what: '--model', file: modelFile }],
    outFile !== null ? [{ what: '--out', file: outFile }] : []);
  // The output is staged first: an unwritable path fails before any work, and a stale temp file of it is cleaned.
  const out = Output.open(outFile);
  try {
    return scoreRun(ctx, v, file, modelFile, outFile, json, out, t0);
  } finally {
    out.abort();
  }
}

/** score after its files are checked, writing to the staged `out`. */
function scoreRun(ctx: Context, v: opt.Values, file: string, modelFile: string, outFile: string | null, json: boolean, out: Output,
  t0: number): number {
  let { detector, meta } = loadModelFile(modelFile);
  const thr = opt.str(v, 'threshold');
  if (thr !== undefined) {
    userCall('', () => parseThreshold(thr, '--threshold'));
    const doc = detector.toJSON();
    doc.options.threshold = thr;
    detector = userCall('--threshold: ', () => Detector.fromJSON(doc));
  }
  if (detector.options.threshold.kind === 'dynamic') {
    throw new UserError(`score: the model's threshold is 'dynamic', which is chosen on a whole series and cannot stream; ` +
      'give --threshold spot (or quantile:0.99, ...) or use bptt detect');
  }
  const columns = opt.list(v, 'columns') ?? meta?.columns;
  const schemaOpts: SchemaOptions = {
    ...(columns !== undefined ? { columns } : {}),
    exclude: OUTPUT_COLUMNS,
  };
  const timeCol = opt.str(v, 'time-column');
  const delimiter = opt.str(v, 'delimiter');
  // The model's time column when this file has it; else detection.
  const { reader, schema, sample } = (() => {
    const first = openWithSchema(file, { ...schemaOpts, ...(timeCol !== undefined ? { timeColumn: timeCol } : {}), ...(delimiter !== undefined ? { delimiter } : {}) });
    if (timeCol === undefined && meta?.timeColumn != null && first.schema.header.includes(meta.timeColumn) &&
        first.schema.header[first.schema.time] !== meta.timeColumn) {
      first.reader.close();
      return openWithSchema(file, { ...schemaOpts, timeColumn: meta.timeColumn, ...(delimiter !== undefined ? { delimiter } : {}) });
    }
    return first;
  })();
  const { header, time, values: vcols } = schema;
  const F = vcols.length;
  const names = vcols.map((c) => header[c] as string);
  if (F !== detector.features) {
    reader.close();
    throw new UserError(`score: the model was trained on ${detector.features} column${detector.features === 1 ? '' : 's'}` +
      `${meta ? ` (${columnList(meta.columns)})` : ''}, but ${file} gives ${F} (${columnList(names)}); choose them with --columns`);
  }
  const warnings: string[] = [];
  if (schema.ignored.length > 0) warnings.push(`${file}: left out non-numeric column${schema.ignored.length > 1 ? 's' : ''} ${schema.ignored.map((c) => JSON.stringify(c)).join(', ')}`);
  for (const w of warnings) warn(ctx, w);

  const writeCsv = outFile !== null || !json;
  const stream = detector.stream();
  const tracker = new EventTracker(detector.options.minGap);
  const missing = new Array<number>(F).fill(0);
  let rows = 0, scored = 0, flagged = 0, dropped = 0, firstDropLine = 0, back = 0, firstBackLine = 0, carried = 0;
  const needsTime = detector.options.model === 'gru-online' && detector.options.timeFeatures !== false;
  let lastThreshold = NaN;
  const tp = { parse: null as ((s: string) => number) | null, kind: 'text', first: '' };
  let prevTime = NaN;

  // Rows waiting for their score (index order), and rows held back by a gap.
  const pending: Pending[] = [];
  let pendingHead = 0, pendingBase = 0;          // index of pending[pendingHead]
  const held: Held[] = [];
  let heldHead = 0;
  let pushed = 0;                                 // rows pushed into the stream
  let received = 0;                               // rows accepted (held or pushed)
  const lastIdx = new Array<number>(F).fill(-1);  // index (in accepted rows) of each column's last present value
  const lastVal = new Float64Array(F);

  const emitRow = (p: Pending, r: StreamResult | null): void => {
    if (!writeCsv) return;
    out.write(r === null ? `${p.prefix},,0\n` : `${p.prefix}${csvNumber(r.score)},${csvNumber(r.threshold)},${r.flag}\n`);
  };
  const onResult = (r: StreamResult): void => {
    while (pendingBase < r.index) { emitRow(pending[pendingHead++] as Pending, null); pendingBase++; }
    const p = pending[pendingHead++] as Pending;
    pendingBase++;
    emitRow(p, r);
    scored++;
    flagged += r.flag;
    lastThreshold = r.threshold;
    tracker.push(r.index, r.score, r.flag, p);
    if (pendingHead > 4096) { pending.splice(0, pendingHead); pendingHead = 0; }
  };
  const pushRow = (h: Held): void => {
    pending.push({ prefix: h.prefix, time: h.time, line: h.line });
    const r = needsTime ? stream.push(h.v, h.ms) : stream.push(h.v);
    pushed++;
    if (r !== null) onResult(r);
  };
  const release = (): void => {
    while (heldHead < held.length) {
      const h = held[heldHead] as Held;
      let ready = true;
      for (let f = 0; f < F; f++) if (Number.isNaN(h.v[f] as number)) { ready = false; break; }
      if (!ready) break;
      pushRow(h);
      heldHead++;
    }
    if (heldHead > 4096 || heldHead === held.length) { held.splice(0, heldHead); heldHead = 0; }
  };
  /** Fills column f in held rows with accepted index in (from, to) exclusive, between values a (at from) and b (at to). */
  const fillGap = (f: number, from: number, to: number, a: number, b: number): void => {
    const base = pushed;   // accepted index of held[heldHead]
    for (let k = Math.max(from + 1, base); k < to; k++) {
      const h = held[heldHead + (k - base)] as Held;
      h.v[f] = from < 0 ? b : Number.isNaN(b) ? a : a + ((b - a) * (k - from)) / (to - from);
    }
  };

  const take = (r: CsvRecord): void => {
    checkRagged(file, r, header.length);
    let t: string | number = rows;
    let ms = NaN;
    let prefix = '';
    if (time >= 0) {
      const cell = (r.fields[time] as string).trim();
      if (cell === '') throw new UserError(`${at(file, r.line, time + 1, header[time])}: empty timestamp`);
      if (tp.parse === null) { const p = timeParser(cell); tp.parse = p.parse; tp.kind = p.kind; tp.first = cell; }
      if (tp.kind !== 'text') {
        const tv = tp.parse(cell);
        if (Number.isNaN(tv)) {
          throw new UserError(`${at(file, r.line, time + 1, header[time])}: ${JSON.stringify(cell)} is not a ${tp.kind === 'date' ? 'date' : 'number'} like the first timestamp ${JSON.stringify(tp.first)}`);
        }
        if (tv === prevTime) { dropped++; if (firstDropLine === 0) firstDropLine = r.line; return; }
        if (tv < prevTime) { back++; if (firstBackLine === 0) firstBackLine = r.line; }
        prevTime = tv;
        if (tp.kind === 'date') ms = tv;
      }
      t = cell;
      prefix = `${csvField(cell)},`;
    }
    const vals = new Float64Array(F);
    for (let f = 0; f < F; f++) {
      const c = vcols[f] as number;
      const x = parseValue(r.fields[c] as string);
      if (x === null) throw valueError(file, r.line, c + 1, header[c] as string, r.fields[c] as string);
      vals[f] = x;
      prefix += `${csvNumber(x)},`;
    }
    if (time < 0) t = received;
    const k = received++;
    rows++;
    if (needsTime && Number.isNaN(ms)) {
      throw new UserError(`${time >= 0 ? at(file, r.line, time + 1, header[time]) : file}: the model uses the time of day (it was fitted ` +
        'with timestamps); the file needs a date time column (--time-column)');
    }
    held.push({ prefix, time: t, line: r.line, v: vals, ms });
    for (let f = 0; f < F; f++) {
      const x = vals[f] as number;
      if (Number.isNaN(x)) { missing[f] = (missing[f] as number) + 1; continue; }
      if ((lastIdx[f] as number) < k - 1) fillGap(f, lastIdx[f] as number, k, lastVal[f] as number, x);
      lastIdx[f] = k;
      lastVal[f] = x;
    }
    release();
    if (held.length - heldHead > MAX_HOLD) {
      for (let f = 0; f < F; f++) {
        const li = lastIdx[f] as number;
        if (li >= k) continue;
        if (li < 0) throw new UserError(`${file}: column ${JSON.stringify(names[f])} has no value in its first ${MAX_HOLD} rows (to line ${r.line}); cannot start scoring`);
        fillGap(f, li, k + 1, lastVal[f] as number, NaN);
        carried += k - Math.max(li, pushed - 1);
        lastIdx[f] = k;
      }
      release();
    }
  };

  const tScore = performance.now();
  try {
    if (writeCsv) out.write(`${[...(time >= 0 ? [header[time] as string] : []), ...names, 'score', 'threshold', 'anomaly'].map(csvField).join(',')}\n`);
    for (const r of sample) take(r);
    for (let r = reader.next(); r !== null; r = reader.next()) take(r);
    // End of file: a trailing gap takes the last value.
    for (let f = 0; f < F; f++) {
      if ((lastIdx[f] as number) < 0) throw new UserError(`${file}: column ${JSON.stringify(names[f])} has no values (all ${rows} cells are empty)`);
      if ((lastIdx[f] as number) < received - 1) fillGap(f, lastIdx[f] as number, received, lastVal[f] as number, NaN);
    }
    release();
    for (const r of stream.flush()) onResult(r);
    while (pendingHead < pending.length) emitRow(pending[pendingHead++] as Pending, null);
    tracker.close();
    if (rows < 2) throw new UserError(`${file} has ${rows === 1 ? 'a single data row' : 'no data rows'}; a series needs many rows (at least the window length)`);
    out.commit();
  } catch (e) {
    reader.close();
    out.abort();
    throw e;
  }
  const scoreSeconds = since(tScore);

  const totalMissing = missing.reduce((a, b) => a + b, 0);
  if (totalMissing > 0) warnings.push(missingWarning(file, names, missing));
  if (scored === 0) {
    warnings.push(`${file}: no row was scored: ${rows} rows are fewer than model '${detector.options.model}' with window ${detector.options.window} needs (${detector.minLength})`);
  }
  if (carried > 0) warnings.push(`${file}: ${carried} cells in gaps longer than ${MAX_HOLD} rows were filled by carrying the last value forward`);
  if (dropped > 0) warnings.push(`${file}: ${dropped} row${dropped > 1 ? 's repeat' : ' repeats'} the previous timestamp (first at line ${firstDropLine}); kept the first row and dropped the repeats`);
  if (back > 0) warnings.push(`${file}: ${back} row${back > 1 ? 's go' : ' goes'} back in time (first at line ${firstBackLine}); a stream cannot reorder them, so they were scored in file order (sort the file, or use bptt detect, which sorts)`);
  for (const w of warnings.slice(schema.ignored.length > 0 ? 1 : 0)) warn(ctx, w);

  if (json) {
    const ru = process.resourceUsage();
    ctx.out(`${JSON.stringify({
      command: 'score', file, model: modelFile, rows, columns: names, timeColumn: time >= 0 ? header[time] : null,
      detector: publicOptions(detector), threshold: { spec: detector.thresholdSpec, value: finiteOrNull(lastThreshold) },
      warmupRows: rows - scored, scored, flagged, eventCount: tracker.count, events: tracker.events,
      missing: { total: totalMissing, perColumn: Object.fromEntries(names.map((c, f) => [c, missing[f]])) },
      warnings, outputs: outFile !== null ? { flags: outFile } : {},
      timings: { scoreSeconds, totalSeconds: since(t0), rowsPerSecond: Math.round(rows / Math.max(scoreSeconds, 1e-3)) },
      memory: { maxRssMB: Math.round(ru.maxRSS / 1024) },
    }, null, 2)}\n`);
  } else {
    say(ctx, `bptt score: ${file}: ${rows} rows scored with ${modelFile} (${detector.options.model}, threshold ${detector.thresholdSpec}` +
      `${Number.isFinite(lastThreshold) ? ` → ${formatNumber(lastThreshold)}` : ''}); ${tracker.count} event${tracker.count === 1 ? '' : 's'}, ` +
      `${flagged} flagged row${flagged === 1 ? '' : 's'}${outFile !== null ? `; wrote ${outFile}` : ''} in ${since(t0).toFixed(1)} s`);
  }
  return 0;
}

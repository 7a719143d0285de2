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
import { UserError, CsvError, userCall } from './errors.js';
import {
  openWithSchema,
  reschema,
  checkRagged,
  parseValue,
  csvField,
  csvNumber,
  missingWarning,
  valueError,
  type CsvRecord,
  type Schema,
  type SchemaOptions,
} from './csv.js';
import { timeParser } from './time.js';
import { Output } from './output.js';
import { type Context, say, warn, since } from './context.js';
import { checkFiles } from './files.js';
import { loadModelFile, OUTPUT_COLUMNS, finiteOrNull, publicOptions, columnList, type CliModelMeta } from './detect.js';
import { Detector } from '../detect/detector.js';
import { parseThreshold, type ThresholdString } from '../detect/threshold-spec.js';
import type { StreamResult, DetectorStream } from '../detect/stream.js';
import { EventTracker, type TrackedEvent } from '../detect/tracker.js';
import { formatNumber } from './report.js';
import * as opt from './options.js';

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

export const SCORE_HELP = `Usage: bptt score <file.csv> --model model.bptt.json [options]

Scores a CSV with a saved model (from bptt fit, or bptt detect --save), streaming: any number of rows in
constant memory. Writes the time, the values, score, threshold and anomaly (0/1) columns to stdout or --out.
The file may be - to read the CSV from stdin, streamed to its end (tail -f live.csv | bptt score - ...).

Options
  --model FILE.json       the saved model (required)
  -o, --out FILE.csv      write here (atomically: a temp file renamed at the end) instead of stdout
  --columns A,B           the value columns (default: the columns the model was trained on)
  --time-column NAME      the time column (default: the model's, else detected)
  --delimiter C           field delimiter (default: sniffed)
  --threshold T           override the model's threshold (spot, dspot, quantile:0.99, sigma:3, fixed:V, ...;
                          not dynamic, which needs the whole series)
  --json                  print a JSON summary to stdout (events, counts, timings, peak memory);
                          the CSV is then written only with --out. Errors and warnings go to stderr as
                          JSON lines ({"error": {"type", "message", "file", "line", …}})
  -q, --quiet             no summary on stderr (warnings still print)
  -h, --help              this help

Warm-up rows (before the first complete window) get an empty score and threshold and anomaly 0.
An empty cell holds its row back until the column's next value, then is filled by linear interpolation
(as bptt detect does); rows repeating the previous timestamp are dropped; rows going back in time are
scored in file order. Both are reported.`;

export const SCORE_SPEC: opt.OptionSpec = {
  ...opt.COMMON,
  ...opt.READ,
  model: { type: 'string' },
  out: { type: 'string', short: 'o' },
  threshold: { type: 'string' },
  json: { type: 'boolean' },
};

export function scoreCommand(ctx: Context, argv: string[]): number {
  const t0 = performance.now();
  const { values: v, positionals } = opt.parse('score', argv, SCORE_SPEC);
  if (opt.flag(v, 'help')) {
    ctx.out(`${SCORE_HELP}\n`);
    return 0;
  }
  const file = opt.onePositional('score', positionals, 'input CSV file');
  const modelFile = opt.str(v, 'model');
  if (modelFile === undefined)
    throw new UserError('score: --model FILE is required (make one with bptt fit --save FILE)');
  const json = opt.flag(v, 'json');
  const outFile = opt.str(v, 'out') ?? null;
  checkFiles(
    'score',
    [
      { what: 'the input file', file, stdin: true },
      { what: '--model', file: modelFile },
    ],
    outFile !== null ? [{ what: '--out', file: outFile }] : [],
  );
  // The output is staged first: an unwritable path fails before any work, and a stale temp file of it is cleaned.
  const out = Output.open(outFile);
  try {
    return scoreRun(ctx, v, file, modelFile, outFile, json, out, t0);
  } finally {
    out.abort();
  }
}

/** score after its files are checked, writing to the staged `out`: load, open, stream the rows, report. */
function scoreRun(
  ctx: Context,
  v: opt.Values,
  path: string,
  modelFile: string,
  outFile: string | null,
  json: boolean,
  out: Output,
  t0: number,
): number {
  const { detector, meta } = loadForScoring(modelFile, opt.str(v, 'threshold'));
  const { reader, schema, sample } = openInput(path, v, meta);
  const file = reader.file; // as messages name it (`<stdin>` for -)
  const names = schema.values.map((c) => schema.header[c]);
  if (names.length !== detector.features) {
    reader.close();
    throw new UserError(
      `score: the model was trained on ${detector.features} column${detector.features === 1 ? '' : 's'}` +
        `${meta ? ` (${columnList(meta.columns)})` : ''}, but ${file} gives ${names.length} (${columnList(names)}); choose them with --columns`,
    );
  }
  const ignored =
    schema.ignored.length > 0
      ? `${file}: left out non-numeric column${schema.ignored.length > 1 ? 's' : ''} ${schema.ignored.map((c) => JSON.stringify(c)).join(', ')}`
      : null;
  if (ignored !== null) warn(ctx, ignored);

  const scorer = new CsvScorer(file, schema, detector, out, outFile !== null || !json);
  const tScore = performance.now();
  try {
    scorer.start();
    for (const r of sample) scorer.take(r);
    for (let r = reader.next(); r !== null; r = reader.next()) scorer.take(r);
    scorer.end();
    out.commit();
  } catch (e) {
    reader.close();
    out.abort();
    throw e;
  }
  const scoreSeconds = since(tScore);
  const warnings = scorer.warnings(names);
  for (const w of warnings) warn(ctx, w);
  if (ignored !== null) warnings.unshift(ignored);

  if (json) {
    const ru = process.resourceUsage();
    const { time, header } = schema,
      rows = scorer.rows;
    ctx.out(
      `${JSON.stringify(
        {
          command: 'score',
          file,
          model: modelFile,
          rows,
          columns: names,
          timeColumn: time >= 0 ? header[time] : null,
          detector: publicOptions(detector),
          threshold: { spec: detector.thresholdSpec, value: finiteOrNull(scorer.lastThreshold) },
          warmupRows: rows - scorer.scored,
          scored: scorer.scored,
          flagged: scorer.flagged,
          eventCount: scorer.tracker.count,
          events: scorer.tracker.events.map(eventOf),
          missing: {
            total: scorer.missingTotal,
            perColumn: Object.fromEntries(names.map((c, f) => [c, scorer.missing[f]])),
          },
          warnings,
          outputs: outFile !== null ? { flags: outFile } : {},
          timings: {
            scoreSeconds,
            totalSeconds: since(t0),
            rowsPerSecond: Math.round(rows / Math.max(scoreSeconds, 1e-3)),
          },
          memory: { maxRssMB: Math.round(ru.maxRSS / 1024) },
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const { rows, lastThreshold, tracker, flagged } = scorer;
    say(
      ctx,
      `bptt score: ${file}: ${rows} rows scored with ${modelFile} (${detector.options.model}, threshold ${detector.thresholdSpec}` +
        `${Number.isFinite(lastThreshold) ? ` → ${formatNumber(lastThreshold)}` : ''}); ${tracker.count} event${tracker.count === 1 ? '' : 's'}, ` +
        `${flagged} flagged row${flagged === 1 ? '' : 's'}${outFile !== null ? `; wrote ${outFile}` : ''} in ${since(t0).toFixed(1)} s`,
    );
  }
  return 0;
}

/** The saved model, with its threshold replaced by --threshold when given; a 'dynamic' threshold cannot stream. */
function loadForScoring(
  modelFile: string,
  threshold: string | undefined,
): { detector: Detector; meta: CliModelMeta | null } {
  const loaded = loadModelFile(modelFile);
  let detector = loaded.detector;
  const meta = loaded.meta;
  if (threshold !== undefined) {
    userCall('', () => parseThreshold(threshold, '--threshold'));
    const doc = detector.toJSON();
    doc.options.threshold = threshold as ThresholdString; // checked by parseThreshold just above
    detector = userCall('--threshold: ', () => Detector.fromJSON(doc));
  }
  if (detector.options.threshold.kind === 'dynamic') {
    throw new UserError(
      `score: the model's threshold is 'dynamic', which is chosen on a whole series and cannot stream; ` +
        'give --threshold spot (or quantile:0.99, ...) or use bptt detect',
    );
  }
  return { detector, meta };
}

/** The input's reader and schema: the model's columns, and the model's time column when this file has it. */
function openInput(file: string, v: opt.Values, meta: CliModelMeta | null): ReturnType<typeof openWithSchema> {
  const columns = opt.list(v, 'columns') ?? meta?.columns;
  const schemaOpts: SchemaOptions = { ...(columns !== undefined ? { columns } : {}), exclude: OUTPUT_COLUMNS };
  const timeCol = opt.str(v, 'time-column');
  const delimiter = opt.str(v, 'delimiter');
  const first = openWithSchema(file, {
    ...schemaOpts,
    ...(timeCol !== undefined ? { timeColumn: timeCol } : {}),
    ...(delimiter !== undefined ? { delimiter } : {}),
  });
  if (
    timeCol === undefined &&
    meta?.timeColumn != null &&
    first.schema.header.includes(meta.timeColumn) &&
    first.schema.header[first.schema.time] !== meta.timeColumn
  ) {
    return reschema(first, { ...schemaOpts, timeColumn: meta.timeColumn }); // (stdin cannot be opened twice)
  }
  return first;
}

/** An event of the JSON summary: times as written, indices, lines. */
function eventOf(e: TrackedEvent<Pending>): Record<string, string | number> {
  return {
    start: e.startRow.time,
    end: e.endRow.time,
    peak: e.peakRow.time,
    peakScore: e.peakScore,
    startIndex: e.start,
    endIndex: e.end,
    peakIndex: e.peakIndex,
    startLine: e.startRow.line,
    endLine: e.endRow.line,
  };
}

/**
 * The rows of a CSV through detector.stream(), in constant memory, each output row written as soon as its score is
 * final. A row with an empty cell is held back until its column's next value (then the gap is interpolated, as
 * `detect` fills it); rows wait in `pending` for their score.
 */
class CsvScorer {
  rows = 0;
  scored = 0;
  flagged = 0;
  lastThreshold = NaN;
  readonly missing: number[];
  readonly tracker: EventTracker<Pending>;
  private readonly F: number;
  private readonly stream: DetectorStream;
  private readonly needsTime: boolean;
  private dropped = 0;
  private firstDropLine = 0;
  private back = 0;
  private firstBackLine = 0;
  private carried = 0;
  private readonly tp = { parse: null as ((s: string) => number) | null, kind: 'text', first: '' };
  private prevTime = NaN;
  /** Rows waiting for their score (index order), and rows held back by a gap. */
  private readonly pending: Pending[] = [];
  private pendingHead = 0;
  /** Index of pending[pendingHead]. */
  private pendingBase = 0;
  private readonly held: Held[] = [];
  private heldHead = 0;
  /** Rows pushed into the stream. */
  private pushed = 0;
  /** Rows accepted (held or pushed). */
  private received = 0;
  /** Index (in accepted rows) of each column's last present value, and that value. */
  private readonly lastIdx: number[];
  private readonly lastVal: Float64Array;

  constructor(
    private readonly file: string,
    private readonly schema: Schema,
    private readonly detector: Detector,
    private readonly out: Output,
    private readonly writeCsv: boolean,
  ) {
    this.F = schema.values.length;
    this.stream = detector.stream();
    this.tracker = new EventTracker<Pending>(detector.options.minGap, MAX_EVENTS);
    this.missing = new Array<number>(this.F).fill(0);
    this.needsTime = detector.options.model === 'gru-online' && detector.options.timeFeatures !== false;
    this.lastIdx = new Array<number>(this.F).fill(-1);
    this.lastVal = new Float64Array(this.F);
  }

  get missingTotal(): number {
    return this.missing.reduce((a, b) => a + b, 0);
  }

  /** The output's header row. */
  start(): void {
    const { time, header, values } = this.schema;
    if (this.writeCsv) {
      const names = values.map((c) => header[c]);
      this.out.write(
        `${[...(time >= 0 ? [header[time]] : []), ...names, 'score', 'threshold', 'anomaly'].map(csvField).join(',')}\n`,
      );
    }
  }

  /** One record: checked, parsed, held or pushed. */
  take(r: CsvRecord): void {
    const row = this.parse(r);
    if (row === null) return;
    const k = this.received++;
    this.rows++;
    this.held.push(row);
    for (let f = 0; f < this.F; f++) {
      const x = row.v[f];
      if (Number.isNaN(x)) {
        this.missing[f] = this.missing[f] + 1;
        continue;
      }
      if (this.lastIdx[f] < k - 1) this.fillGap(f, this.lastIdx[f], k, this.lastVal[f], x);
      this.lastIdx[f] = k;
      this.lastVal[f] = x;
    }
    this.release();
    if (this.held.length - this.heldHead > MAX_HOLD) this.carryForward(k, r.line);
  }

  /** End of file: a trailing gap takes the last value; the stream's last scores; the events closed. */
  end(): void {
    for (let f = 0; f < this.F; f++) {
      const li = this.lastIdx[f];
      if (li < 0)
        throw new UserError(
          `${this.file}: column ${JSON.stringify(this.name(f))} has no values (all ${this.rows} cells are empty)`,
        );
      if (li < this.received - 1) this.fillGap(f, li, this.received, this.lastVal[f], NaN);
    }
    this.release();
    for (const r of this.stream.flush()) this.onResult(r);
    while (this.pendingHead < this.pending.length) this.emitRow(this.pending[this.pendingHead++], null);
    this.tracker.close();
    if (this.rows < 2) {
      throw new UserError(
        `${this.file} has ${this.rows === 1 ? 'a single data row' : 'no data rows'}; a series needs many rows (at least the window length)`,
      );
    }
  }

  /** What the stream changed or could not do, for the user. */
  warnings(names: readonly string[]): string[] {
    const { file, detector } = this;
    const w: string[] = [];
    if (this.missingTotal > 0) w.push(missingWarning(file, names, this.missing));
    if (this.scored === 0) {
      w.push(
        `${file}: no row was scored: ${this.rows} rows are fewer than model '${detector.options.model}' with window ${detector.options.window} needs (${detector.minLength})`,
      );
    }
    if (this.carried > 0)
      w.push(
        `${file}: ${this.carried} cells in gaps longer than ${MAX_HOLD} rows were filled by carrying the last value forward`,
      );
    if (this.dropped > 0) {
      w.push(
        `${file}: ${this.dropped} row${this.dropped > 1 ? 's repeat' : ' repeats'} the previous timestamp (first at line ${this.firstDropLine}); kept the first row and dropped the repeats`,
      );
    }
    if (this.back > 0) {
      w.push(
        `${file}: ${this.back} row${this.back > 1 ? 's go' : ' goes'} back in time (first at line ${this.firstBackLine}); a stream cannot reorder them, so they were scored in file order (sort the file, or use bptt detect, which sorts)`,
      );
    }
    return w;
  }

  private name(f: number): string {
    return this.schema.header[this.schema.values[f]];
  }

  /** A record as a row (its output prefix, time, line, values), or null when it repeats the previous timestamp. */
  private parse(r: CsvRecord): Held | null {
    const {
      file,
      schema: { header, time, values: vcols },
      tp,
    } = this;
    checkRagged(file, r, header.length);
    let t: string | number = this.rows;
    let ms = NaN;
    let prefix = '';
    if (time >= 0) {
      const cell = r.fields[time].trim();
      if (cell === '') throw CsvError.at(file, r.line, time + 1, header[time], 'empty timestamp');
      if (tp.parse === null) {
        const p = timeParser(cell);
        tp.parse = p.parse;
        tp.kind = p.kind;
        tp.first = cell;
      }
      if (tp.kind !== 'text') {
        const tv = tp.parse(cell);
        if (Number.isNaN(tv)) {
          throw CsvError.at(
            file,
            r.line,
            time + 1,
            header[time],
            `${JSON.stringify(cell)} is not a ${tp.kind === 'date' ? 'date' : 'number'} like the first timestamp ${JSON.stringify(tp.first)}`,
          );
        }
        if (tv === this.prevTime) {
          this.dropped++;
          if (this.firstDropLine === 0) this.firstDropLine = r.line;
          return null;
        }
        if (tv < this.prevTime) {
          this.back++;
          if (this.firstBackLine === 0) this.firstBackLine = r.line;
        }
        this.prevTime = tv;
        if (tp.kind === 'date') ms = tv;
      }
      t = cell;
      prefix = `${csvField(cell)},`;
    }
    const vals = new Float64Array(this.F);
    for (let f = 0; f < this.F; f++) {
      const c = vcols[f];
      const x = parseValue(r.fields[c]);
      if (x === null) throw valueError(file, r.line, c + 1, header[c], r.fields[c]);
      vals[f] = x;
      prefix += `${csvNumber(x)},`;
    }
    if (time < 0) t = this.received;
    if (this.needsTime && Number.isNaN(ms)) {
      const problem =
        'the model uses the time of day (it was fitted with timestamps); the file needs a date time column (--time-column)';
      throw time >= 0
        ? CsvError.at(file, r.line, time + 1, header[time], problem)
        : new CsvError(`${file}: ${problem}`, file);
    }
    return { prefix, time: t, line: r.line, v: vals, ms };
  }

  /** A gap longer than MAX_HOLD rows: carry each column's last value forward, so memory stays bounded. */
  private carryForward(k: number, line: number): void {
    for (let f = 0; f < this.F; f++) {
      const li = this.lastIdx[f];
      if (li >= k) continue;
      if (li < 0)
        throw new UserError(
          `${this.file}: column ${JSON.stringify(this.name(f))} has no value in its first ${MAX_HOLD} rows (to line ${line}); cannot start scoring`,
        );
      this.fillGap(f, li, k + 1, this.lastVal[f], NaN);
      this.carried += k - Math.max(li, this.pushed - 1);
      this.lastIdx[f] = k;
    }
    this.release();
  }

  /** Fills column f in held rows with accepted index in (from, to) exclusive, between values a (at from) and b (at to). */
  private fillGap(f: number, from: number, to: number, a: number, b: number): void {
    const base = this.pushed; // accepted index of held[heldHead]
    for (let k = Math.max(from + 1, base); k < to; k++) {
      const h = this.held[this.heldHead + (k - base)];
      h.v[f] = from < 0 ? b : Number.isNaN(b) ? a : a + ((b - a) * (k - from)) / (to - from);
    }
  }

  /** Pushes the held rows that are complete (no empty cell left), in order. */
  private release(): void {
    while (this.heldHead < this.held.length) {
      const h = this.held[this.heldHead];
      let ready = true;
      for (let f = 0; f < this.F; f++)
        if (Number.isNaN(h.v[f])) {
          ready = false;
          break;
        }
      if (!ready) break;
      this.pushRow(h);
      this.heldHead++;
    }
    if (this.heldHead > 4096 || this.heldHead === this.held.length) {
      this.held.splice(0, this.heldHead);
      this.heldHead = 0;
    }
  }

  private pushRow(h: Held): void {
    this.pending.push({ prefix: h.prefix, time: h.time, line: h.line });
    const r = this.needsTime ? this.stream.push(h.v, h.ms) : this.stream.push(h.v);
    this.pushed++;
    if (r !== null) this.onResult(r);
  }

  /** A score from the stream: the rows before it are warm-up, written without a score; this one with its score. */
  private onResult(r: StreamResult): void {
    while (this.pendingBase < r.index) {
      this.emitRow(this.pending[this.pendingHead++], null);
      this.pendingBase++;
    }
    const p = this.pending[this.pendingHead++];
    this.pendingBase++;
    this.emitRow(p, r);
    this.scored++;
    this.flagged += r.flag;
    this.lastThreshold = r.threshold;
    this.tracker.push(r.index, r.score, r.flag, p);
    if (this.pendingHead > 4096) {
      this.pending.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
  }

  private emitRow(p: Pending, r: StreamResult | null): void {
    if (!this.writeCsv) return;
    this.out.write(
      r === null ? `${p.prefix},,0\n` : `${p.prefix}${csvNumber(r.score)},${csvNumber(r.threshold)},${r.flag}\n`,
    );
  }
}

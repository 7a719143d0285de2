/**
 * `bptt detect` and `bptt fit`: read a whole CSV, fit a Detector on its training part, and score it.
 *
 *   detect   train on the first --train-fraction of the rows (default 0.15) or on --train FILE, then run
 *            detector.detect() on every row; write the flags CSV (stdout or --out), optionally the report and the model.
 *   fit      train on every row of the file and save the model (--save), for `bptt score`.
 *
 * The flags CSV: the time column as written (when the file has one), the value columns, then
 *   score       the anomaly score; empty for warm-up rows before the first complete window (model-dependent: W rows
 *               for zscore/iqr/lstm-forecast, none for autoencoders with combine 'mean'), which are never flagged
 *   threshold   the threshold the score was compared with (empty for warm-up rows)
 *   anomaly     1 when score > threshold, else 0
 *   label       0/1, when --labels named a label column
 * Rows are in time order: a file out of order is sorted (stably) and repeated timestamps keep their first row, with
 * a warning. Empty cells stay empty in the output; the Detector fills them by linear interpolation before scoring.
 */
import * as path from 'path';
import * as fs from 'fs';
import { Detector, type DetectResult } from '../detect/detector.js';
import type { DetectorOptions } from '../detect/types.js';
import { pickModel } from '../detect/options.js';
import { getBackend } from '../backend.js';
import type { AnomalyEvent, Range } from '../detect/events.js';
import { UserError, userCall, toUserError, fsMessage, type ColumnMap } from './errors.js';
import { readTable, inputName, type Table, type ReadOptions, csvField, csvNumber } from './csv.js';
import { Output, OutputSet } from './output.js';
import { Progress } from './progress.js';
import { type Context, say, warn, since } from './context.js';
import { checkFiles, type NamedFile } from './files.js';
import { ArgumentError, MemoryLimitError } from '../errors.js';
import type { EpochLogs } from '../model/sequential.js';
import { renderReport, type ReportData, formatNumber } from './report.js';
import { attentionStrips } from './report.js';
import { isLabelFile, readLabelFile, windowsToRanges } from './labels.js';
import { runs } from '../detect/events.js';
import * as opt from './options.js';

/** Names the output adds after the value columns. */
export const OUTPUT_COLUMNS = ['score', 'threshold', 'anomaly', 'label'];

/**
 * Rows [from, to) of a table as the library takes a series: `{ data, shape }`, a view of the table's Float64Array
 * [n, F] (no copy; the library reads it in place, lib/tensor.ts readSeries).
 */
export function seriesOf(
  table: Pick<Table, 'values' | 'columns'>,
  from: number,
  to: number,
): { data: Float64Array; shape: number[] } {
  const F = table.columns.length;
  return { data: table.values.subarray(from * F, to * F), shape: [to - from, F] };
}

/** Feature f of a table is the value column table.columns[f]: its name and 1-based column number in the file. */
export function columnMap(table: Pick<Table, 'file' | 'columns' | 'header'>): ColumnMap {
  return { file: table.file, names: table.columns, numbers: table.columns.map((c) => table.header.indexOf(c) + 1) };
}

/**
 * The result over a whole file for a 'gru-online' detector fitted on its first `trainRows` rows and run on the rest
 * (`tail`): the training rows are warm-up (their scores from the fit, never flagged), the events shifted.
 */
function continuing(detector: Detector, tail: DetectResult, trainRows: number): DetectResult {
  const n = trainRows + tail.scores.length;
  const cat = (head: ArrayLike<number>, rest: Float64Array): Float64Array => {
    const out = new Float64Array(n);
    out.set(head, 0);
    out.set(rest, trainRows);
    return out;
  };
  const flags = new Uint8Array(n);
  flags.set(tail.flags, trainRows);
  return {
    ...tail,
    scores: cat(detector.calibration as Float64Array, tail.scores),
    contributions: cat(new Float64Array(trainRows), tail.contributions),
    thresholds: cat(new Float64Array(trainRows).fill(NaN), tail.thresholds),
    flags,
    firstScored: trainRows,
    events: tail.events.map((e) => ({
      ...e,
      start: e.start + trainRows,
      end: e.end + trainRows,
      peakIndex: e.peakIndex + trainRows,
    })),
  };
}

export interface FitResult {
  detector: Detector;
  epochsTrained: number;
  fitSeconds: number;
}

/**
 * Fits a Detector on rows [0, rows) of `table`, with progress on stderr. `where` describes those rows for messages.
 * The library checks the series at its door (length, constant or empty columns, values); its errors come back as
 * UserErrors naming the training part and, for a column, the CSV column.
 */
export function fitDetector(
  ctx: Context,
  table: Table,
  rows: number,
  where: string,
  options: DetectorOptions,
): FitResult {
  const progress = { p: null as Progress | null, epochs: 0 };
  const model = pickModel(options, table.columns.length, rows); // what 'auto' picks for this file, so progress can be shown
  const onEpochEnd = (logs: EpochLogs): void => {
    progress.epochs = logs.epoch + 1;
    progress.p?.epoch(logs);
  };
  // The continually learning model has no epochs to report.
  const detector = new Detector(model !== 'gru-online' ? { ...options, model, onEpochEnd } : { ...options, model });
  const o = detector.options;
  const neural = o.model !== 'zscore' && o.model !== 'iqr' && o.model !== 'gru-online';
  // Under --json, stderr holds JSON lines only (a terminal still gets the bar).
  progress.p =
    neural && o.epochs > 0 && !ctx.quiet ? new Progress(ctx.errSink, o.epochs, o.model, ctx.json === true) : null;
  progress.p?.start();
  const t0 = performance.now();
  // The continually learning model uses the time of day when the file has dates.
  const ms = o.model === 'gru-online' && table.timeKind === 'date' ? table.timeValues : null;
  try {
    detector.fit(seriesOf(table, 0, rows), ms !== null ? { timestamps: ms.subarray(0, rows) } : {});
  } catch (e) {
    throw fitError(e, detector, table, where);
  }
  progress.p?.end();
  return { detector, epochsTrained: progress.epochs, fitSeconds: since(t0) };
}

/** A fit's error in the command line's words: the training part, the column, what to change. */
function fitError(e: unknown, detector: Detector, table: Table, where: string): unknown {
  const o = detector.options;
  if (e instanceof MemoryLimitError) {
    return new UserError(
      `model '${o.model}' with window ${o.window} and hidden ${o.hidden.join(',')} cannot fit in memory: ${e.detail}; ` +
        'use a smaller --hidden or --window',
    );
  }
  const user = toUserError(e, `training on ${where}: `, columnMap(table));
  if (user instanceof UserError && e instanceof ArgumentError && e.feature === undefined) {
    return new UserError(
      `${user.message}; train on more rows (a larger --train-fraction, or --train FILE), or change --window or --threshold`,
    );
  }
  return user;
}

/** The model file: the Detector's JSON (Detector.load reads it) plus the columns it was trained on, under "cli". */
export interface CliModelMeta {
  columns: string[];
  timeColumn: string | null;
  trainedOn: string;
  trainRows: number;
}

/** Writes the model file's JSON to a staged output (committed by the caller). */
export function writeModelFile(out: Output, detector: Detector, meta: CliModelMeta): void {
  out.write(JSON.stringify({ ...detector.toJSON(), cli: meta }));
}

export function loadModelFile(file: string): { detector: Detector; meta: CliModelMeta | null } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`--model: ${fsMessage('read', file, e)}`);
  }
  if (text.trim() === '') throw new UserError(`--model: ${file} is empty`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--model: ${file} is not valid JSON (a truncated or corrupt file?): ${(e as Error).message}`);
  }
  let detector: Detector;
  try {
    detector = Detector.fromJSON(doc, `--model: ${file}`);
  } catch (e) {
    // Errors from below the loader (a network too large to build) carry no file name: name it here. A bug stays one.
    const user = e instanceof MemoryLimitError ? new UserError(e.detail, { origin: e }) : toUserError(e);
    if (!(user instanceof UserError)) throw user;
    throw new UserError(
      user.message.startsWith(`--model: ${file}`) ? user.message : `--model: ${file}: ${user.message}`,
      user.details,
    );
  }
  // Detector.fromJSON has checked "cli" when it is there (a column name per feature; the types of the rest).
  const m = (doc as { cli?: Partial<CliModelMeta> }).cli;
  const meta =
    m === undefined
      ? null
      : {
          columns: m.columns as string[],
          timeColumn: m.timeColumn ?? null,
          trainedOn: m.trainedOn ?? '',
          trainRows: m.trainRows ?? 0,
        };
  return { detector, meta };
}

function checkOutputNames(table: Table): void {
  for (const c of table.columns) {
    if (OUTPUT_COLUMNS.includes(c)) {
      throw new UserError(
        `${table.file}: value column ${JSON.stringify(c)} has the name of an output column (${OUTPUT_COLUMNS.slice(0, 3).join(', ')}); ` +
          'rename it, or leave it out with --columns',
      );
    }
  }
}

/** The time of row i as the user wrote it, or its row number. */
export function timeText(table: Pick<Table, 'times'>, i: number): string | number {
  return table.times !== null ? table.times[i] : i;
}

export function eventJSON(table: Pick<Table, 'times' | 'lines'>, e: AnomalyEvent): Record<string, unknown> {
  return {
    start: timeText(table, e.start),
    end: timeText(table, e.end),
    peak: timeText(table, e.peakIndex),
    peakScore: e.peakScore,
    points: e.end - e.start + 1,
    startIndex: e.start,
    endIndex: e.end,
    peakIndex: e.peakIndex,
    startLine: table.lines[e.start],
    endLine: table.lines[e.end],
  };
}

/** Writes the flags CSV of a detect run to `out`: a staged file (committed by the caller), or stdout when null. */
export function writeFlags(out: Output | null, table: Table, r: DetectResult): void {
  const F = table.columns.length;
  const stdout = out === null;
  const o = out ?? Output.open(null);
  try {
    const head = [
      ...(table.timeColumn !== null ? [table.timeColumn] : []),
      ...table.columns,
      'score',
      'threshold',
      'anomaly',
      ...(table.labels !== null ? ['label'] : []),
    ];
    o.write(`${head.map(csvField).join(',')}\n`);
    for (let i = 0; i < table.n; i++) {
      let line = table.times !== null ? `${csvField(table.times[i])},` : '';
      for (let f = 0; f < F; f++) line += `${csvNumber(table.values[i * F + f])},`;
      line += i < r.firstScored ? ',,0' : `${csvNumber(r.scores[i])},${csvNumber(r.thresholds[i])},${r.flags[i]}`;
      if (table.labels !== null) line += `,${table.labels[i]}`;
      o.write(`${line}\n`);
    }
    if (stdout) o.commit();
    else o.finish();
  } catch (e) {
    o.abort();
    throw e;
  }
}

/** Labels for a report: a label file mapped onto the rows, or the label column's runs. */
export function labelRanges(spec: string | undefined, table: Table, dataFile: string): Range[] | null {
  if (table.labels !== null) return runs(table.labels);
  if (spec === undefined) return null;
  return windowsToRanges(
    readLabelFile(spec, dataFile),
    table.n,
    table.timeKind,
    table.timeValues,
    table.times,
    spec.split('#')[0],
  );
}

export function describeThreshold(detector: Detector, r: { threshold: number }): string {
  const kind = detector.options.threshold.kind;
  return `${detector.thresholdSpec} → ${formatNumber(r.threshold)}${kind === 'spot' || kind === 'dspot' ? ' (last)' : ''}`;
}

export function reportData(
  title: string,
  source: string,
  table: Table,
  r: DetectResult,
  labels: Range[] | null,
  facts: Array<[string, string, string?]>,
  warnings: string[],
): ReportData {
  const scores = Float64Array.from(r.scores);
  for (let i = 0; i < r.firstScored && i < scores.length; i++) scores[i] = NaN;
  return {
    title,
    source,
    timeKind: table.timeKind,
    timeColumn: table.timeColumn,
    times: table.times,
    timeValues: table.timeValues,
    columns: table.columns,
    values: table.values,
    n: table.n,
    scores,
    thresholds: r.thresholds,
    flags: r.flags,
    events: r.events,
    labels,
    facts,
    warnings,
    ...(r.attention !== undefined ? { attention: attentionStrips(r.attention, r.events) } : {}),
  };
}

/** Header cards of a report: threshold, model, training part. */
export function modelFacts(
  detector: Detector,
  trainRows: number,
  trainDesc: string,
  r: { threshold: number },
): Array<[string, string, string?]> {
  const o = detector.options;
  const kind = o.threshold.kind;
  const neural = o.model !== 'zscore' && o.model !== 'iqr';
  return [
    [
      'Threshold',
      formatNumber(r.threshold),
      `${detector.thresholdSpec}${kind === 'spot' || kind === 'dspot' ? ', last value (it adapts online)' : ''}`,
    ],
    ['Model', o.model, `window ${o.window}${neural ? ` · hidden ${o.hidden.join(',')}` : ''}`],
    ['Trained on', `${trainRows.toLocaleString('en-US')} rows`, trainDesc],
  ];
}

function printEvents(ctx: Context, table: Table, events: AnomalyEvent[]): void {
  const t = (i: number): string => (table.times !== null ? table.times[i] : `row ${i}`);
  for (const e of events.slice(0, 10)) {
    say(
      ctx,
      `    ${t(e.start)}${e.end > e.start ? ` → ${t(e.end)}` : ''}  (${e.end - e.start + 1} row${e.end > e.start ? 's' : ''}, peak score ${formatNumber(e.peakScore)} at ${t(e.peakIndex)})`,
    );
  }
  if (events.length > 10) say(ctx, `    … and ${events.length - 10} more`);
}

/**
 * detector.detect() over the whole table. A continually learning detector trained on the first `trainRows` rows of
 * the same file continues after them: those rows were its probation (`trainRows` 0: trained on another file).
 */
export function runDetect(
  detector: Detector,
  table: Table,
  trainRows: number,
  file: string,
  attention = false,
): DetectResult {
  const timed = detector.options.model === 'gru-online' && detector.options.timeFeatures !== false;
  if (timed && (table.timeKind !== 'date' || table.timeValues === null)) {
    throw new UserError(
      `${file}: the model uses the time of day (it was fitted with dates); this file needs a date time column`,
    );
  }
  const ms = timed ? table.timeValues : null;
  const from = detector.online ? trainRows : 0;
  return userCall(
    '',
    () => {
      const r = detector.detect(seriesOf(table, from, table.n), {
        ...(ms !== null ? { timestamps: ms.subarray(from) } : {}),
        ...(attention ? { attention } : {}),
      });
      return from > 0 ? continuing(detector, r, from) : r;
    },
    columnMap(table),
  );
}

export const DETECT_HELP = `Usage: bptt detect <file.csv> [options]

Fits an anomaly detector on the first part of a CSV (or on another file) and flags anomalies in all of it.
Writes a CSV with the time, the values, score, threshold and anomaly (0/1) columns: to stdout, or to --out.
The file may be - to read the CSV from stdin (then --train, if given, names a file).

Input
  --time-column NAME      the time column (default: a column named timestamp/time/date/datetime,
                          else the first non-numeric column; none: rows are numbered)
  --columns A,B           the value columns (default: every numeric column)
  --delimiter C           field delimiter (default: sniffed from the header: , ; or tab)
  --train-fraction F      train on the first F of the rows (default 0.15)
  --train FILE.csv        train on another file with the same columns instead (- : stdin)
  --labels L              known anomalies, shown in the report: a 0/1 column of the file, a JSON file of
                          [start, end] windows (NAB's labels.json works), or a CSV with start,end columns
Model
  --model M               auto (default: gru-online for one value column, lstm-ae for several), gru-online,
                          lstm-ae, gru-ae, rnn-ae, dense-ae, lstm-forecast, conv-ae, tcn-forecast,
                          lstm-attn-ae, zscore, iqr
  --window W              window length (default 32)
  --hidden H              hidden units, e.g. 32 or 32,8 (default 32)
  --epochs E              training epochs, with early stopping (default 30)
  --threshold T           likelihood:0.5422 (gru-online's alarm stage); for the others spot (default), dspot,
                          quantile:0.99, sigma:3, iqr:1.5, fixed:V, ucl:q:k, dynamic (with --offline)
  --min-gap G             merge events separated by fewer than G unflagged rows (default 0)
  --offline               allow look-ahead (a recording analysed after the fact): autoencoders then score a row
                          with every window covering it (--combine mean, the default offline; max; or all, the
                          SKAB rule, with --threshold ucl:0.999:1.3333), and --threshold dynamic is allowed.
                          Without it every row's score and flag use rows up to it only (causal, as streaming)
  --combine C             autoencoders: last (default, causal), or with --offline mean, max, all
  --seed S                random seed (default 0)
  --workers N             threads for training and scoring: a count, or auto (default: by model size and cores)
  --backend B             matrix-product path: auto (default: wasm where WebAssembly SIMD exists), wasm or js
Output
  -o, --out FILE.csv      write the flags CSV here (atomically) instead of stdout
  --report FILE.html      also write the HTML report
  --save FILE.json        also save the fitted model (for bptt score)
  --json                  print a JSON summary to stdout (events with timestamps, threshold, timings,
                          missing values filled, warnings); the CSV is then written only with --out.
                          Errors, warnings and progress go to stderr as JSON lines ({"error": …})
  -q, --quiet             no progress or summary on stderr (warnings still print)
  -h, --help              this help

Rows before the first complete window are warm-up: empty score and threshold, anomaly 0.
Example: bptt detect cpu.csv --out flags.csv --report report.html`;

export const DETECT_SPEC: opt.OptionSpec = {
  ...opt.COMMON,
  ...opt.READ,
  ...opt.DETECTOR,
  'train-fraction': { type: 'string' },
  train: { type: 'string' },
  out: { type: 'string', short: 'o' },
  report: { type: 'string' },
  labels: { type: 'string' },
  json: { type: 'boolean' },
  save: { type: 'string' },
};

/** What `bptt detect` was asked to do, from its command line. */
interface DetectArgs {
  file: string;
  detectorOptions: DetectorOptions;
  trainFile: string | undefined;
  fraction: number;
  json: boolean;
  outFile: string | null;
  reportFile: string | undefined;
  saveFile: string | undefined;
  labelsSpec: string | undefined;
  readOpts: ReadOptions;
}

export function detectCommand(ctx: Context, argv: string[]): number {
  const t0 = performance.now();
  const { values: v, positionals } = opt.parse('detect', argv, DETECT_SPEC);
  if (opt.flag(v, 'help')) {
    ctx.out(`${DETECT_HELP}\n`);
    return 0;
  }
  const a = detectArgs(v, positionals);
  const inputs: NamedFile[] = [{ what: 'the input file', file: a.file, stdin: true }];
  if (a.trainFile !== undefined) inputs.push({ what: '--train', file: a.trainFile, stdin: true });
  if (a.labelsSpec !== undefined && a.readOpts.labelColumn === undefined)
    inputs.push({ what: '--labels', file: a.labelsSpec.split('#')[0] });
  const outputFiles: NamedFile[] = [];
  if (a.outFile !== null) outputFiles.push({ what: '--out', file: a.outFile });
  if (a.reportFile !== undefined) outputFiles.push({ what: '--report', file: a.reportFile });
  if (a.saveFile !== undefined) outputFiles.push({ what: '--save', file: a.saveFile });
  checkFiles('detect', inputs, outputFiles);
  // Every output is staged now (an unwritable path fails before the training) and committed together at the end.
  const outs = new OutputSet();
  try {
    return detectRun(ctx, a, outs, t0);
  } finally {
    outs.abort();
  }
}

function detectArgs(v: opt.Values, positionals: string[]): DetectArgs {
  const file = opt.onePositional('detect', positionals, 'input CSV file');
  const detectorOptions = opt.detectorOptions(v);
  const trainFile = opt.str(v, 'train');
  const fractionOpt = opt.fraction(v, 'train-fraction');
  if (trainFile !== undefined && fractionOpt !== undefined)
    throw new UserError('detect: give --train FILE or --train-fraction, not both');
  const labelsSpec = opt.str(v, 'labels');
  const labelColumn = labelsSpec !== undefined && !isLabelFile(labelsSpec) ? labelsSpec : undefined;
  const readOpts: ReadOptions = { ...readOptions(v), ...(labelColumn !== undefined ? { labelColumn } : {}) };
  return {
    file,
    detectorOptions,
    trainFile,
    fraction: fractionOpt ?? 0.15,
    json: opt.flag(v, 'json'),
    outFile: opt.str(v, 'out') ?? null,
    reportFile: opt.str(v, 'report'),
    saveFile: opt.str(v, 'save'),
    labelsSpec,
    readOpts,
  };
}

/** --time-column, --columns and --delimiter as readTable takes them. */
function readOptions(v: opt.Values): ReadOptions {
  const timeColumn = opt.str(v, 'time-column'),
    columns = opt.list(v, 'columns'),
    delimiter = opt.str(v, 'delimiter');
  return {
    ...(timeColumn !== undefined ? { timeColumn } : {}),
    ...(columns !== undefined ? { columns } : {}),
    ...(delimiter !== undefined ? { delimiter } : {}),
  };
}

/** The data and training part of a detect run, read. */
interface DetectInput {
  table: Table;
  trainTable: Table;
  trainRows: number;
  trainDesc: string;
  warnings: string[];
}

/** Reads the file, and --train FILE with the same columns, or takes the first --train-fraction of the rows. */
function readDetectInput(ctx: Context, a: DetectArgs): DetectInput {
  const table = readTable(a.file, a.readOpts);
  checkOutputNames(table);
  const warnings = [...table.warnings];
  for (const w of table.warnings) warn(ctx, w);
  if (a.trainFile === undefined) {
    const trainRows = Math.floor(a.fraction * table.n);
    return {
      table,
      trainTable: table,
      trainRows,
      trainDesc: `the first ${trainRows} rows (${+(a.fraction * 100).toFixed(2)}%)`,
      warnings,
    };
  }
  const { labelColumn: _l, ...trainRead } = a.readOpts;
  const trainTable = readTable(a.trainFile, {
    ...trainRead,
    columns: table.columns,
    ...(table.timeColumn !== null ? { timeColumn: table.timeColumn } : {}),
  });
  for (const w of trainTable.warnings) {
    warn(ctx, w);
    warnings.push(w);
  }
  return {
    table,
    trainTable,
    trainRows: trainTable.n,
    trainDesc: `${path.basename(trainTable.file)} (${trainTable.n} rows)`,
    warnings,
  };
}

/** detect after its files are checked: read, fit, detect, write the staged outputs, summarise. */
function detectRun(ctx: Context, a: DetectArgs, outs: OutputSet, t0: number): number {
  const file = inputName(a.file); // as messages and outputs name it (`<stdin>` for -)
  const flagsOut = a.outFile !== null ? outs.open(a.outFile) : null;
  const reportOut = a.reportFile !== undefined ? outs.open(a.reportFile) : null;
  const saveOut = a.saveFile !== undefined ? outs.open(a.saveFile) : null;
  const tRead = performance.now();
  const input = readDetectInput(ctx, a);
  const { table, trainRows, trainDesc, warnings } = input;
  const readSeconds = since(tRead);

  const labels = labelRanges(a.labelsSpec, table, file);
  const fit = fitDetector(ctx, input.trainTable, trainRows, trainDesc, a.detectorOptions);
  const detector = fit.detector;
  const tDetect = performance.now();
  // 'lstm-attn-ae' with a report: the attention weights for its heat strips (4·W² bytes per window; skipped above 256 MB).
  const W = detector.options.window;
  const attention =
    reportOut !== null && detector.options.model === 'lstm-attn-ae' && table.n * W * W * 4 <= 256 * 2 ** 20;
  const r = runDetect(detector, table, a.trainFile === undefined ? trainRows : 0, file, attention);
  const detectSeconds = since(tDetect);

  const tWrite = performance.now();
  const outputs: Record<string, string> = {};
  if (flagsOut !== null && a.outFile !== null) {
    writeFlags(flagsOut, table, r);
    outputs.flags = a.outFile;
  }
  if (reportOut !== null && a.reportFile !== undefined) {
    const facts = modelFacts(detector, trainRows, trainDesc, r);
    reportOut.write(renderReport(reportData(path.basename(file), file, table, r, labels, facts, warnings)));
    outputs.report = a.reportFile;
  }
  if (saveOut !== null && a.saveFile !== undefined) {
    writeModelFile(saveOut, detector, {
      columns: table.columns,
      timeColumn: table.timeColumn,
      trainedOn: trainDesc,
      trainRows,
    });
    outputs.model = a.saveFile;
  }
  outs.commit();
  if (a.outFile === null && !a.json) writeFlags(null, table, r);
  const writeSeconds = since(tWrite);

  const flagged = r.flags.reduce((x, y) => x + y, 0);
  if (a.json) {
    ctx.out(
      `${JSON.stringify(
        {
          command: 'detect',
          file,
          rows: table.n,
          columns: table.columns,
          timeColumn: table.timeColumn,
          train: { rows: trainRows, from: trainDesc },
          model: { ...publicOptions(detector), epochsTrained: fit.epochsTrained },
          threshold: { spec: detector.thresholdSpec, value: finiteOrNull(r.threshold) },
          warmupRows: r.firstScored,
          flagged,
          events: r.events.map((e) => eventJSON(table, e)),
          missing: {
            total: table.missing.reduce((x, y) => x + y, 0),
            perColumn: Object.fromEntries(table.columns.map((c, f) => [c, table.missing[f]])),
          },
          ...(labels !== null
            ? { labels: labels.map((w) => ({ start: timeText(table, w.start), end: timeText(table, w.end) })) }
            : {}),
          warnings,
          outputs,
          timings: { readSeconds, fitSeconds: fit.fitSeconds, detectSeconds, writeSeconds, totalSeconds: since(t0) },
        },
        null,
        2,
      )}\n`,
    );
  } else {
    say(
      ctx,
      `bptt detect: ${file}: ${table.n} rows × ${table.columns.length} column${table.columns.length === 1 ? '' : 's'} (${columnList(table.columns)})`,
    );
    say(ctx, `  trained ${detector.options.model} on ${trainDesc}; threshold ${describeThreshold(detector, r)}`);
    say(
      ctx,
      `  ${r.events.length} event${r.events.length === 1 ? '' : 's'}, ${flagged} flagged row${flagged === 1 ? '' : 's'}${r.events.length > 0 ? ':' : ''}`,
    );
    printEvents(ctx, table, r.events);
    const wrote = Object.values(outputs);
    if (wrote.length > 0) say(ctx, `  wrote ${wrote.join(', ')} in ${since(t0).toFixed(1)} s`);
  }
  return 0;
}

/** Column names for a message: a, b, "cpu, %". */
export function columnList(names: readonly string[]): string {
  return names.map((c) => (/[,"]|^\s|\s$/.test(c) || c === '' ? JSON.stringify(c) : c)).join(', ');
}

export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export function publicOptions(d: Detector): Record<string, unknown> {
  const o = d.options;
  if (o.model === 'gru-online') {
    return {
      model: o.model,
      window: o.window,
      hidden: o.hidden,
      learningRate: o.learningRate,
      timeFeatures: o.timeFeatures,
      minGap: o.minGap,
      seed: o.seed,
      backend: getBackend(),
    };
  }
  return {
    model: o.model,
    window: o.window,
    hidden: o.hidden,
    epochs: o.epochs,
    combine: o.combine,
    minGap: o.minGap,
    seed: o.seed,
    workers: o.workers,
    backend: getBackend(),
  };
}

export const FIT_HELP = `Usage: bptt fit <train.csv> --save model.bptt.json [options]

Fits an anomaly detector on every row of a CSV of normal behaviour and saves it (atomically) for bptt score.
The model file is the Detector's JSON (Detector.load reads it) plus the names of the columns it was trained on.
The file may be - to read the CSV from stdin.

Options
  --save FILE.json        where to save the model (required)
  --time-column NAME      the time column (default: detected)
  --columns A,B           the value columns (default: every numeric column)
  --delimiter C           field delimiter (default: sniffed)
  --model M               auto (default: gru-online for one value column, lstm-ae for several), gru-online,
                          lstm-ae, gru-ae, rnn-ae, dense-ae, lstm-forecast, conv-ae, tcn-forecast,
                          lstm-attn-ae, zscore, iqr
  --window W, --hidden H, --epochs E, --threshold T, --min-gap G, --offline, --combine C, --seed S, --workers N,
  --backend B             as for bptt detect
  --json                  print a JSON summary to stdout
  -q, --quiet             no progress or summary on stderr
  -h, --help              this help

Example: bptt fit normal-week.csv --save model.bptt.json && bptt score today.csv --model model.bptt.json`;

export const FIT_SPEC: opt.OptionSpec = {
  ...opt.COMMON,
  ...opt.READ,
  ...opt.DETECTOR,
  save: { type: 'string' },
  json: { type: 'boolean' },
};

export function fitCommand(ctx: Context, argv: string[]): number {
  const t0 = performance.now();
  const { values: v, positionals } = opt.parse('fit', argv, FIT_SPEC);
  if (opt.flag(v, 'help')) {
    ctx.out(`${FIT_HELP}\n`);
    return 0;
  }
  const file = opt.onePositional('fit', positionals, 'training CSV file');
  const save = opt.str(v, 'save');
  if (save === undefined) throw new UserError('fit: --save FILE is required (where to write the model)');
  const detectorOptions = opt.detectorOptions(v);
  checkFiles('fit', [{ what: 'the input file', file, stdin: true }], [{ what: '--save', file: save }]);
  const outs = new OutputSet();
  try {
    return fitRun(ctx, v, file, save, detectorOptions, outs, t0);
  } finally {
    outs.abort();
  }
}

/** fit after its options are checked: the model goes to a staged output, opened before the training starts. */
function fitRun(
  ctx: Context,
  v: opt.Values,
  file: string,
  save: string,
  detectorOptions: DetectorOptions,
  outs: OutputSet,
  t0: number,
): number {
  const saveOut = outs.open(save);
  const table = readTable(file, readOptions(v));
  checkOutputNames(table);
  for (const w of table.warnings) warn(ctx, w);
  const desc = `${path.basename(table.file)} (${table.n} rows)`;
  const fit = fitDetector(ctx, table, table.n, desc, detectorOptions);
  writeModelFile(saveOut, fit.detector, {
    columns: table.columns,
    timeColumn: table.timeColumn,
    trainedOn: desc,
    trainRows: table.n,
  });
  outs.commit();
  const threshold = fit.detector.options.threshold.kind === 'dynamic' ? NaN : fit.detector.threshold;
  if (opt.flag(v, 'json')) {
    ctx.out(
      `${JSON.stringify(
        {
          command: 'fit',
          file: table.file,
          rows: table.n,
          columns: table.columns,
          timeColumn: table.timeColumn,
          model: { ...publicOptions(fit.detector), epochsTrained: fit.epochsTrained },
          threshold: { spec: fit.detector.thresholdSpec, value: finiteOrNull(threshold) },
          missing: { total: table.missing.reduce((a, b) => a + b, 0) },
          warnings: table.warnings,
          outputs: { model: save },
          timings: { fitSeconds: fit.fitSeconds, totalSeconds: since(t0) },
        },
        null,
        2,
      )}\n`,
    );
  } else {
    say(
      ctx,
      `bptt fit: trained ${fit.detector.options.model} on ${desc}, columns ${columnList(table.columns)}; ` +
        `threshold ${fit.detector.thresholdSpec}${Number.isFinite(threshold) ? ` → ${formatNumber(threshold)}` : ''}`,
    );
    say(ctx, `  saved ${save}`);
  }
  return 0;
}

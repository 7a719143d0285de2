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
import ndarray from 'ndarray';
import * as path from 'path';
import * as fs from 'fs';
import { Detector, DetectorOptions, DetectResult, pickModel } from '../detect/detector';
import { getBackend } from '../backend';
import type { AnomalyEvent, Range } from '../detect/events';
import { UserError, userCall, fsMessage } from './errors';
import { readTable, Table, csvField, csvNumber } from './csv';
import { Output, OutputSet } from './output';
import { Progress } from './progress';
import { Context, say, warn, since } from './context';
import { checkFiles, NamedFile } from './files';
import { MemoryLimitError } from '../errors';
import { renderReport, ReportData, formatNumber } from './report';
import { isLabelFile, readLabelFile, windowsToRanges, labelRuns } from './labels';
import * as opt from './options';

/** Names the output adds after the value columns. */
export const OUTPUT_COLUMNS = ['score', 'threshold', 'anomaly', 'label'];

/** A series for the Detector: a Float64Array (one column) or an ndarray [n, F], over rows [0, n). */
export function seriesOf(values: Float64Array, n: number, F: number): unknown {
  const data = values.subarray(0, n * F);
  return F === 1 ? data : ndarray(data, [n, F]);
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
    ...tail, scores: cat(detector.calibration as Float64Array, tail.scores), contributions: cat(new Float64Array(trainRows), tail.contributions),
    thresholds: cat(new Float64Array(trainRows).fill(NaN), tail.thresholds), flags, firstScored: trainRows,
    events: tail.events.map((e) => ({ ...e, start: e.start + trainRows, end: e.end + trainRows, peakIndex: e.peakIndex + trainRows })),
  };
}

/** Rewrites the library's "feature f" as the column's name. */
function withColumnNames(context: string, columns: readonly string[], fn: () => void): void {
  try {
    userCall(context, fn);
  } catch (e) {
    if (e instanceof UserError) {
      throw new UserError(e.message.replace(/feature (\d+)/g, (m, f: string) => (columns[Number(f)] !== undefined ? `column ${JSON.stringify(columns[Number(f)])}` : m)));
    }
    throw e;
  }
}

export interface FitResult {
  detector: Detector;
  epochsTrained: number;
  fitSeconds: number;
}

/** Fits a Detector on rows [0, rows) of `table`, with progress on stderr. `where` describes those rows for messages. */
export function fitDetector(ctx: Context, table: Table, rows: number, where: string, options: DetectorOptions): FitResult {
  const F = table.columns.length;
  let detector!: Detector;
  const progress = { p: null as Progress | null, epochs: 0 };
  userCall('', () => {
    const model = pickModel(options, F, rows);        // what 'auto' picks for this file, so progress can be shown
    const batch = model !== 'gru-online';             // the continually learning model has no epochs to report
    detector = new Detector(batch ? { ...options, model, onEpochEnd: (logs) => { progress.epochs = logs.epoch + 1; progress.p?.epoch(logs); } } : { ...options, model });
  });
  const o = detector.options;
  if (rows < detector.minTrainLength) {
    throw new UserError(`too few rows to train on: ${where}; model '${o.model}' with window ${o.window} needs at least ${detector.minTrainLength}, ` +
      'and many times that to learn what is normal: use a larger --train-fraction, a smaller --window, or --train FILE');
  }
  for (let f = 0; f < F; f++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < rows; i++) {
      const v = table.values[i * F + f] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo === hi) {
      throw new UserError(`column ${JSON.stringify(table.columns[f])} is constant (${lo}) in the training part, ${where}: a constant signal cannot be ` +
        'scaled or modelled; leave it out with --columns, or train on a part where it varies');
    }
    if (lo === Infinity) throw new UserError(`column ${JSON.stringify(table.columns[f])} has no values in the training part (${where})`);
  }
  const neural = o.model !== 'zscore' && o.model !== 'iqr' && o.model !== 'gru-online';
  progress.p = neural && o.epochs > 0 && !ctx.quiet ? new Progress(ctx.errSink, o.epochs, o.model) : null;
  progress.p?.start();
  const t0 = performance.now();
  try {
    withColumnNames('', table.columns, () => {
      try {
        // The continually learning model uses the time of day when the file has dates.
        const ms = detector.options.model === 'gru-online' && table.timeKind === 'date' ? table.timeValues : null;
        detector.fit(seriesOf(table.values, rows, F), ms !== null ? { timestamps: ms.subarray(0, rows) } : {});
      } catch (e) {
        if (e instanceof MemoryLimitError) {
          throw new UserError(`model '${o.model}' with window ${o.window} and hidden ${o.hidden.join(',')} cannot fit in memory: ${e.detail}; ` +
            'use a smaller --hidden or --window');
        }
        throw e;
      }
    });
  } catch (e) {
    if (e instanceof UserError && /^D?[Ss]pot\(/.test(e.message)) {
      throw new UserError(`threshold ${detector.thresholdSpec} cannot be calibrated on the scores of the training part (${where}): ${e.message}; ` +
        'train on more rows (--train-fraction, --train) or choose another --threshold, e.g. quantile:0.99');
    }
    throw e;
  }
  progress.p?.end();
  return { detector, epochsTrained: progress.epochs, fitSeconds: since(t0) };
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
    // Errors from below the loader (a network too large to build) carry no file name: name it here.
    const msg = e instanceof MemoryLimitError ? e.detail : (e as Error).message;
    throw new UserError(msg.startsWith(`--model: ${file}`) ? msg : `--model: ${file}: ${msg}`);
  }
  // Detector.fromJSON has checked "cli" when it is there (a column name per feature; the types of the rest).
  const m = (doc as { cli?: Partial<CliModelMeta> }).cli;
  const meta = m === undefined ? null
    : { columns: m.columns as string[], timeColumn: m.timeColumn ?? null, trainedOn: m.trainedOn ?? '', trainRows: m.trainRows ?? 0 };
  return { detector, meta };
}

function checkOutputNames(table: Table): void {
  for (const c of table.columns) {
    if (OUTPUT_COLUMNS.includes(c)) {
      throw new UserError(`${table.file}: value column ${JSON.stringify(c)} has the name of an output column (${OUTPUT_COLUMNS.slice(0, 3).join(', ')}); ` +
        'rename it, or leave it out with --columns');
    }
  }
}

/** The time of row i as the user wrote it, or its row number. */
export function timeText(table: Pick<Table, 'times'>, i: number): string | number {
  return table.times !== null ? table.times[i] as string : i;
}

export function eventJSON(table: Pick<Table, 'times' | 'lines'>, e: AnomalyEvent): Record<string, unknown> {
  return {
    start: timeText(table, e.start), end: timeText(table, e.end), peak: timeText(table, e.peakIndex), peakScore: e.peakScore,
    points: e.end - e.start + 1, startIndex: e.start, endIndex: e.end, peakIndex: e.peakIndex,
    startLine: table.lines[e.start], endLine: table.lines[e.end],
  };
}

/** Writes the flags CSV of a detect run to `out`: a staged file (committed by the caller), or stdout when null. */
export function writeFlags(out: Output | null, table: Table, r: DetectResult): void {
  const F = table.columns.length;
  const stdout = out === null;
  const o = out ?? Output.open(null);
  try {
    const head = [...(table.timeColumn !== null ? [table.timeColumn] : []), ...table.columns, 'score', 'threshold', 'anomaly',
      ...(table.labels !== null ? ['label'] : [])];
    o.write(`${head.map(csvField).join(',')}\n`);
    for (let i = 0; i < table.n; i++) {
      let line = table.times !== null ? `${csvField(table.times[i] as string)},` : '';
      for (let f = 0; f < F; f++) line += `${csvNumber(table.values[i * F + f] as number)},`;
      line += i < r.firstScored ? ',,0' : `${csvNumber(r.scores[i] as number)},${csvNumber(r.thresholds[i] as number)},${r.flags[i]}`;
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
  if (table.labels !== null) return labelRuns(table.labels);
  if (spec === undefined) return null;
  return windowsToRanges(readLabelFile(spec, dataFile), table.n, table.timeKind, table.timeValues, table.times, spec.split('#')[0] as string);
}

export function describeThreshold(detector: Detector, r: { threshold: number }): string {
  const kind = detector.options.threshold.kind;
  return `${detector.thresholdSpec} → ${formatNumber(r.threshold)}${kind === 'spot' || kind === 'dspot' ? ' (last)' : ''}`;
}

export function reportData(title: string, source: string, table: Table, r: DetectResult, labels: Range[] | null,
  facts: Array<[string, string, string?]>, warnings: string[]): ReportData {
  const scores = Float64Array.from(r.scores);
  for (let i = 0; i < r.firstScored && i < scores.length; i++) scores[i] = NaN;
  return {
    title, source, timeKind: table.timeKind, timeColumn: table.timeColumn, times: table.times, timeValues: table.timeValues,
    columns: table.columns, values: table.values, n: table.n, scores, thresholds: r.thresholds, flags: r.flags, events: r.events,
    labels, facts, warnings,
  };
}

/** Header cards of a report: threshold, model, training part. */
export function modelFacts(detector: Detector, trainRows: number, trainDesc: string, r: { threshold: number }): Array<[string, string, string?]> {
  const o = detector.options;
  const kind = o.threshold.kind;
  const neural = o.model !== 'zscore' && o.model !== 'iqr';
  return [
    ['Threshold', formatNumber(r.threshold), `${detector.thresholdSpec}${kind === 'spot' || kind === 'dspot' ? ', last value (it adapts online)' : ''}`],
    ['Model', o.model, `window ${o.window}${neural ? ` · hidden ${o.hidden.join(',')}` : ''}`],
    ['Trained on', `${trainRows.toLocaleString('en-US')} rows`, trainDesc],
  ];
}

function printEvents(ctx: Context, table: Table, events: AnomalyEvent[]): void {
  const t = (i: number): string => (table.times !== null ? table.times[i] as string : `row ${i}`);
  for (const e of events.slice(0, 10)) {
    say(ctx, `    ${t(e.start)}${e.end > e.start ? ` → ${t(e.end)}` : ''}  (${e.end - e.start + 1} row${e.end > e.start ? 's' : ''}, peak score ${formatNumber(e.peakScore)} at ${t(e.peakIndex)})`);
  }
  if (events.length > 10) say(ctx, `    … and ${events.length - 10} more`);
}

export const DETECT_HELP = `Usage: bptt detect <file.csv> [options]

Fits an anomaly detector on the first part of a CSV (or on another file) and flags anomalies in all of it.
Writes a CSV with the time, the values, score, threshold and anomaly (0/1) columns: to stdout, or to --out.

Input
  --time-column NAME      the time column (default: a column named timestamp/time/date/datetime,
                          else the first non-numeric column; none: rows are numbered)
  --columns A,B           the value columns (default: every numeric column)
  --delimiter C           field delimiter (default: sniffed from the header: , ; or tab)
  --train-fraction F      train on the first F of the rows (default 0.15)
  --train FILE.csv        train on another file with the same columns instead
  --labels L              known anomalies, shown in the report: a 0/1 column of the file, a JSON file of
                          [start, end] windows (NAB's labels.json works), or a CSV with start,end columns
Model
  --model M               auto (default: gru-online for one value column, lstm-ae for several), gru-online,
                          lstm-ae, gru-ae, rnn-ae, dense-ae, lstm-forecast, zscore, iqr
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
                          missing values filled, warnings); the CSV is then written only with --out
  -q, --quiet             no progress or summary on stderr (warnings still print)
  -h, --help              this help

Rows before the first complete window are warm-up: empty score and threshold, anomaly 0.
Example: bptt detect cpu.csv --out flags.csv --report report.html`;

export const DETECT_SPEC: opt.OptionSpec = {
  ...opt.COMMON, ...opt.READ, ...opt.DETECTOR,
  'train-fraction': { type: 'string' }, train: { type: 'string' }, out: { type: 'string', short: 'o' },
  report: { type: 'string' }, labels: { type: 'string' }, json: { type: 'boolean' }, save: { type: 'string' },
};

export function detectCommand(ctx: Context, argv: string[]): number {
  const t0 = performance.now();
  const { values: v, positionals } = opt.parse('detect', argv, DETECT_SPEC);
  if (opt.flag(v, 'help')) { ctx.out(`${DETECT_HELP}\n`); return 0; }
  const file = opt.onePositional('detect', positionals, 'input CSV file');
  const detectorOptions = opt.detectorOptions(v);
  const trainFile = opt.str(v, 'train');
  const fractionOpt = opt.fraction(v, 'train-fraction');
  if (trainFile !== undefined && fractionOpt !== undefined) throw new UserError('detect: give --train FILE or --train-fraction, not both');
  const fraction = fractionOpt ?? 0.15;
  const json = opt.flag(v, 'json');
  const outFile = opt.str(v, 'out') ?? null;
  const labelsSpec = opt.str(v, 'labels');
  const labelColumn = labelsSpec !== undefined && !isLabelFile(labelsSpec) ? labelsSpec : undefined;
  const readOpts = {
    ...(opt.str(v, 'time-column') !== undefined ? { timeColumn: opt.str(v, 'time-column') as string } : {}),
    ...(opt.list(v, 'columns') !== undefined ? { columns: opt.list(v, 'columns') as string[] } : {}),
    ...(opt.str(v, 'delimiter') !== undefined ? { delimiter: opt.str(v, 'delimiter') as string } : {}),
    ...(labelColumn !== undefined ? { labelColumn } : {}),
  };

  const reportFile = opt.str(v, 'report');
  const saveFile = opt.str(v, 'save');
  const inputs: NamedFile[] = [{ what: 'the input file', file }];
  if (trainFile !== undefined) inputs.push({ what: '--train', file: trainFile });
  if (labelsSpec !== undefined && labelColumn === undefined) inputs.push({ what: '--labels', file: labelsSpec.split('#')[0] as string });
  const outputFiles: NamedFile[] = [];
  if (outFile !== null) outputFiles.push({ what: '--out', file: outFile });
  if (reportFile !== undefined) outputFiles.push({ what: '--report', file: reportFile });
  if (saveFile !== undefined) outputFiles.push({ what: '--save', file: saveFile });
  checkFiles('detect', inputs, outputFiles);
  // Every output is staged now (an unwritable path fails before the training) and committed together at the end.
  const outs = new OutputSet();
  try {
    const flagsOut = outFile !== null ? outs.open(outFile) : null;
    const reportOut = reportFile !== undefined ? outs.open(reportFile) : null;
    const saveOut = saveFile !== undefined ? outs.open(saveFile) : null;
    const tRead = performance.now();
    const table = readTable(file, readOpts);
    checkOutputNames(table);
    const warnings = [...table.warnings];
    for (const w of table.warnings) warn(ctx, w);
    let trainTable = table, trainRows: number, trainDesc: string;
    if (trainFile !== undefined) {
      const { labelColumn: _l, ...trainRead } = readOpts;
      trainTable = readTable(trainFile, { ...trainRead, columns: table.columns, ...(table.timeColumn !== null ? { timeColumn: table.timeColumn } : {}) });
      for (const w of trainTable.warnings) { warn(ctx, w); warnings.push(w); }
      trainRows = trainTable.n;
      trainDesc = `${path.basename(trainFile)} (${trainRows} rows)`;
    } else {
      trainRows = Math.floor(fraction * table.n);
      trainDesc = `the first ${trainRows} rows (${+(fraction * 100).toFixed(2)}%)`;
    }
    const readSeconds = since(tRead);

    const labels = labelRanges(labelsSpec, table, file);
    const fit = fitDetector(ctx, trainTable, trainRows, trainDesc, detectorOptions);
    const detector = fit.detector;
    const tDetect = performance.now();
    let r!: DetectResult;
    withColumnNames('', table.columns, () => {
      // A continually learning detector trained on the first rows continues after them: those rows were its probation.
      const timed = detector.options.model === 'gru-online' && detector.options.timeFeatures !== false;
      if (timed && (table.timeKind !== 'date' || table.timeValues === null)) {
        throw new UserError(`${file}: the model uses the time of day (it was fitted with dates); this file needs a date time column`);
      }
      const ms = timed ? table.timeValues as Float64Array : null;
      r = detector.online && trainFile === undefined
        ? continuing(detector, detector.detect(seriesOf(table.values.subarray(trainRows), table.n - trainRows, 1),
          ms !== null ? { timestamps: ms.subarray(trainRows) } : {}), trainRows)
        : detector.detect(seriesOf(table.values, table.n, table.columns.length), ms !== null ? { timestamps: ms } : {});
    });
    const detectSeconds = since(tDetect);

    const tWrite = performance.now();
    const outputs: Record<string, string> = {};
    if (flagsOut !== null && outFile !== null) {
      writeFlags(flagsOut, table, r);
      outputs.flags = outFile;
    }
    if (reportOut !== null && reportFile !== undefined) {
      const facts = modelFacts(detector, trainRows, trainDesc, r);
      reportOut.write(renderReport(reportData(path.basename(file), file, table, r, labels, facts, warnings)));
      outputs.report = reportFile;
    }
    if (saveOut !== null && saveFile !== undefined) {
      writeModelFile(saveOut, detector, { columns: table.columns, timeColumn: table.timeColumn, trainedOn: trainDesc, trainRows });
      outputs.model = saveFile;
    }
    outs.commit();
    if (outFile === null && !json) writeFlags(null, table, r);
    const writeSeconds = since(tWrite);

    const flagged = r.flags.reduce((a, b) => a + b, 0);
    if (json) {
      ctx.out(`${JSON.stringify({
        command: 'detect', file, rows: table.n, columns: table.columns, timeColumn: table.timeColumn,
        train: { rows: trainRows, from: trainDesc },
        model: { ...publicOptions(detector), epochsTrained: fit.epochsTrained },
        threshold: { spec: detector.thresholdSpec, value: finiteOrNull(r.threshold) },
        warmupRows: r.firstScored, flagged, events: r.events.map((e) => eventJSON(table, e)),
        missing: { total: table.missing.reduce((a, b) => a + b, 0), perColumn: Object.fromEntries(table.columns.map((c, f) => [c, table.missing[f]])) },
        ...(labels !== null ? { labels: labels.map((w) => ({ start: timeText(table, w.start), end: timeText(table, w.end) })) } : {}),
        warnings, outputs,
        timings: { readSeconds, fitSeconds: fit.fitSeconds, detectSeconds, writeSeconds, totalSeconds: since(t0) },
      }, null, 2)}\n`);
    } else {
      say(ctx, `bptt detect: ${file}: ${table.n} rows × ${table.columns.length} column${table.columns.length === 1 ? '' : 's'} (${columnList(table.columns)})`);
      say(ctx, `  trained ${detector.options.model} on ${trainDesc}; threshold ${describeThreshold(detector, r)}`);
      say(ctx, `  ${r.events.length} event${r.events.length === 1 ? '' : 's'}, ${flagged} flagged row${flagged === 1 ? '' : 's'}${r.events.length > 0 ? ':' : ''}`);
      printEvents(ctx, table, r.events);
      const wrote = Object.values(outputs);
      if (wrote.length > 0) say(ctx, `  wrote ${wrote.join(', ')} in ${since(t0).toFixed(1)} s`);
    }
    return 0;
  } finally {
    outs.abort();
  }
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
    return { model: o.model, window: o.window, hidden: o.hidden, learningRate: o.learningRate, timeFeatures: o.timeFeatures, minGap: o.minGap, seed: o.seed, backend: getBackend() };
  }
  return {
    model: o.model, window: o.window, hidden: o.hidden, epochs: o.epochs, combine: o.combine, minGap: o.minGap, seed: o.seed,
    workers: o.workers, backend: getBackend(),
  };
}

export const FIT_HELP = `Usage: bptt fit <train.csv> --save model.bptt.json [options]

Fits an anomaly detector on every row of a CSV of normal behaviour and saves it (atomically) for bptt score.
The model file is the Detector's JSON (Detector.load reads it) plus the names of the columns it was trained on.

Options
  --save FILE.json        where to save the model (required)
  --time-column NAME      the time column (default: detected)
  --columns A,B           the value columns (default: every numeric column)
  --delimiter C           field delimiter (default: sniffed)
  --model M               auto (default: gru-online for one value column, lstm-ae for several), gru-online,
                          lstm-ae, gru-ae, rnn-ae, dense-ae, lstm-forecast, zscore, iqr
  --window W, --hidden H, --epochs E, --threshold T, --min-gap G, --offline, --combine C, --seed S, --workers N,
  --backend B             as for bptt detect
  --json                  print a JSON summary to stdout
  -q, --quiet             no progress or summary on stderr
  -h, --help              this help

Example: bptt fit normal-week.csv --save model.bptt.json && bptt score today.csv --model model.bptt.json`;

export const FIT_SPEC: opt.OptionSpec = { ...opt.COMMON, ...opt.READ, ...opt.DETECTOR, save: { type: 'string' }, json: { type: 'boolean' } };

export function fitCommand(ctx: Context, argv: string[]): number {
  const t0 = performance.now();
  const { values: v, positionals } = opt.parse('fit', argv, FIT_SPEC);
  if (opt.flag(v, 'help')) { ctx.out(`${FIT_HELP}\n`); return 0; }
  const file = opt.onePositional('fit', positionals, 'training CSV file');
  const save = opt.str(v, 'save');
  if (save === undefined) throw new UserError('fit: --save FILE is required (where to write the model)');
  const detectorOptions = opt.detectorOptions(v);
  checkFiles('fit', [{ what: 'the input file', file }], [{ what: '--save', file: save }]);
  const outs = new OutputSet();
  try {
    return fitRun(ctx, v, file, save, detectorOptions, outs, t0);
  } finally {
    outs.abort();
  }
}

/** fit after its options are checked: the model goes to a staged output, opened before the training starts. */
function fitRun(ctx: Context, v: opt.Values, file: string, save: string, detectorOptions: DetectorOptions, outs: OutputSet, t0: number): number {
  const saveOut = outs.open(save);
  const table = readTable(file, {
    ...(opt.str(v, 'time-column') !== undefined ? { timeColumn: opt.str(v, 'time-column') as string } : {}),
    ...(opt.list(v, 'columns') !== undefined ? { columns: opt.list(v, 'columns') as string[] } : {}),
    ...(opt.str(v, 'delimiter') !== undefined ? { delimiter: opt.str(v, 'delimiter') as string } : {}),
  });
  checkOutputNames(table);
  for (const w of table.warnings) warn(ctx, w);
  const desc = `${path.basename(file)} (${table.n} rows)`;
  const fit = fitDetector(ctx, table, table.n, desc, detectorOptions);
  writeModelFile(saveOut, fit.detector, { columns: table.columns, timeColumn: table.timeColumn, trainedOn: desc, trainRows: table.n });
  outs.commit();
  const threshold = fit.detector.options.threshold.kind === 'dynamic' ? NaN : fit.detector.threshold;
  if (opt.flag(v, 'json')) {
    ctx.out(`${JSON.stringify({
      command: 'fit', file, rows: table.n, columns: table.columns, timeColumn: table.timeColumn,
      model: { ...publicOptions(fit.detector), epochsTrained: fit.epochsTrained },
      threshold: { spec: fit.detector.thresholdSpec, value: finiteOrNull(threshold) },
      missing: { total: table.missing.reduce((a, b) => a + b, 0) }, warnings: table.warnings, outputs: { model: save },
      timings: { fitSeconds: fit.fitSeconds, totalSeconds: since(t0) },
    }, null, 2)}\n`);
  } else {
    say(ctx, `bptt fit: trained ${fit.detector.options.model} on ${desc}, columns ${columnList(table.columns)}; ` +
      `threshold ${fit.detector.thresholdSpec}${Number.isFinite(threshold) ? ` → ${formatNumber(threshold)}` : ''}`);
    say(ctx, `  saved ${save}`);
  }
  return 0;
}

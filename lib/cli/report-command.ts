/**
 * `bptt report <flags.csv> -o report.html`: the HTML report (report.ts) of a flags CSV written by `bptt detect` or
 * `bptt score`. Events are the runs of rows with anomaly = 1 (their peak from the score column); labelled windows come
 * from --labels, or from the file's `label` column when it has one.
 */
import * as path from 'path';
import { UserError, CsvError } from './errors.js';
import { openWithSchema, reschema, tableFrom, inputName } from './csv.js';
import { flagsToEvents } from '../detect/events.js';
import { type Context, say, warn } from './context.js';
import { Output } from './output.js';
import { checkFiles, type NamedFile } from './files.js';
import { renderReport, formatNumber } from './report.js';
import { isLabelFile, readLabelFile, windowsToRanges } from './labels.js';
import { runs } from '../detect/events.js';
import { OUTPUT_COLUMNS } from './detect.js';
import * as opt from './options.js';

export const REPORT_HELP = `Usage: bptt report <flags.csv> -o report.html [options]

Draws the HTML report of a flags CSV (from bptt detect or bptt score): one self-contained file with a
chart per value column, the score with its threshold, flagged events shaded, and a table of events.
The file may be - to read the flags from stdin (bptt detect data.csv | bptt report - -o report.html).

Options
  -o, --out FILE.html     where to write the report (default: report.html)
  --labels L              known anomaly windows, drawn in amber: a 0/1 column of the file, a JSON file of
                          [start, end] windows (NAB's labels.json: the entry matching the file name, or
                          labels.json#<key>), or a CSV with start,end columns. Default: the file's label column
  --title TEXT            the report's title (default: the file name)
  --min-gap G             merge events separated by fewer than G unflagged rows (default 0; give the
                          value the flags were made with to see the same events)
  --time-column NAME, --columns A,B, --delimiter C   as for bptt detect
  --json                  print a JSON summary to stdout (rows, events, labelled windows, output);
                          errors and warnings go to stderr as JSON lines
  -q, --quiet             no summary on stderr
  -h, --help              this help`;

export const REPORT_SPEC: opt.OptionSpec = {
  ...opt.COMMON,
  ...opt.READ,
  out: { type: 'string', short: 'o' },
  labels: { type: 'string' },
  title: { type: 'string' },
  'min-gap': { type: 'string' },
  json: { type: 'boolean' },
};

export function reportCommand(ctx: Context, argv: string[]): number {
  const { values: v, positionals } = opt.parse('report', argv, REPORT_SPEC);
  if (opt.flag(v, 'help')) {
    ctx.out(`${REPORT_HELP}\n`);
    return 0;
  }
  const file = opt.onePositional('report', positionals, 'flags CSV file');
  const outFile = opt.str(v, 'out') ?? 'report.html';
  const labelsSpec = opt.str(v, 'labels');
  const labelFile = labelsSpec !== undefined && isLabelFile(labelsSpec);
  const delimiter = opt.str(v, 'delimiter');
  const timeColumn = opt.str(v, 'time-column');
  const columns = opt.list(v, 'columns');
  const minGap = opt.int(v, 'min-gap', 0) ?? 0;
  const title = opt.str(v, 'title') ?? path.basename(inputName(file));
  const inputs: NamedFile[] = [{ what: 'the flags file', file, stdin: true }];
  if (labelsSpec !== undefined && labelFile) inputs.push({ what: '--labels', file: labelsSpec.split('#')[0] });
  checkFiles('report', inputs, [
    { what: opt.str(v, 'out') !== undefined ? '--out' : 'the report (default --out)', file: outFile },
  ]);
  // Staged first: an unwritable path fails before the file is read.
  const out = Output.open(outFile);
  try {
    const json = opt.flag(v, 'json');
    return reportRun(
      ctx,
      file,
      outFile,
      { labelsSpec, labelFile, delimiter, timeColumn, columns, minGap, title, json },
      out,
    );
  } finally {
    out.abort();
  }
}

/** report after its files are checked, writing the HTML to the staged `out`. */
function reportRun(
  ctx: Context,
  file: string,
  outFile: string,
  o: {
    labelsSpec: string | undefined;
    labelFile: boolean;
    delimiter: string | undefined;
    timeColumn: string | undefined;
    columns: string[] | undefined;
    minGap: number;
    title: string;
    json: boolean;
  },
  out: Output,
): number {
  const { labelsSpec, labelFile, delimiter, timeColumn, columns } = o;

  // The file is opened once (stdin cannot be read twice): its header and first rows say which columns it has, then
  // the same reader goes on with the schema of a flags file.
  const peek = openWithSchema(file, {
    exclude: OUTPUT_COLUMNS,
    ...(timeColumn !== undefined ? { timeColumn } : {}),
    ...(columns !== undefined ? { columns } : {}),
    ...(delimiter !== undefined ? { delimiter } : {}),
    ...(labelsSpec !== undefined && !labelFile ? { labelColumn: labelsSpec } : {}),
  });
  const header = peek.schema.header;
  const name = peek.reader.file;
  for (const c of ['score', 'threshold', 'anomaly']) {
    if (!header.includes(c)) {
      peek.reader.close();
      throw new UserError(
        `${name} has no ${JSON.stringify(c)} column, so it is not a flags file; make one with bptt detect or bptt score ` +
          '(or give bptt detect --report to draw the report directly)',
      );
    }
  }
  const names = peek.schema.values.map((c) => header[c]);
  const labelColumn =
    labelsSpec !== undefined ? (labelFile ? undefined : labelsSpec) : header.includes('label') ? 'label' : undefined;
  const flagsOptions = {
    columns: [...names, 'score', 'threshold', 'anomaly'],
    optional: ['score', 'threshold'],
    ...(peek.schema.time >= 0 ? { timeColumn: header[peek.schema.time] } : {}),
    ...(labelColumn !== undefined ? { labelColumn } : {}),
  };
  const table = tableFrom(reschema(peek, flagsOptions), flagsOptions);
  for (const w of table.warnings) warn(ctx, w);
  const F = names.length,
    W = F + 3,
    n = table.n;
  names.forEach((c, f) => {
    // (detect and fit leave this check to the library, which sees the series)
    if (table.missing[f] === n)
      throw new UserError(`${table.file}: column ${JSON.stringify(c)} has no values (all ${n} cells are empty)`);
  });
  const values = new Float64Array(n * F),
    scores = new Float64Array(n),
    thresholds = new Float64Array(n),
    flags = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) values[i * F + f] = table.values[i * W + f];
    scores[i] = table.values[i * W + F];
    thresholds[i] = table.values[i * W + F + 1];
    const a = table.values[i * W + F + 2];
    if (!(a === 0 || a === 1))
      throw new CsvError(
        `${table.file} line ${table.lines[i]}: anomaly must be 0 or 1, got ${a}`,
        table.file,
        table.lines[i],
      );
    flags[i] = a;
  }
  const events = flagsToEvents(flags, scores, { minGap: o.minGap });
  const labels =
    table.labels !== null
      ? runs(table.labels)
      : labelsSpec !== undefined
        ? windowsToRanges(
            readLabelFile(labelsSpec, file),
            n,
            table.timeKind,
            table.timeValues,
            table.times,
            labelsSpec.split('#')[0],
          )
        : null;
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = thresholds[i];
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const facts: Array<[string, string, string?]> = [];
  if (lo <= hi)
    facts.push(
      lo === hi
        ? ['Threshold', formatNumber(lo), 'one level for every row']
        : ['Threshold', `${formatNumber(lo)} – ${formatNumber(hi)}`, 'it varied (adaptive threshold)'],
    );
  const html = renderReport({
    title: o.title,
    source: table.file,
    timeKind: table.timeKind,
    timeColumn: table.timeColumn,
    times: table.times,
    timeValues: table.timeValues,
    columns: names,
    values,
    n,
    scores,
    thresholds,
    flags,
    events,
    labels,
    facts,
    warnings: table.warnings,
  });
  out.write(html);
  out.commit();
  if (o.json) {
    const time = (i: number): string | number => (table.times !== null ? table.times[i] : i);
    const summary = {
      command: 'report',
      file: table.file,
      rows: n,
      columns: names,
      timeColumn: table.timeColumn,
      events: events.map((e) => ({ start: time(e.start), end: time(e.end), startIndex: e.start, endIndex: e.end })),
      labels: labels?.map((w) => ({ start: time(w.start), end: time(w.end) })) ?? null,
      warnings: table.warnings,
      outputs: { report: outFile },
    };
    ctx.out(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  }
  say(
    ctx,
    `bptt report: ${table.file}: ${n} rows, ${events.length} event${events.length === 1 ? '' : 's'}${labels !== null ? `, ${labels.length} labelled window${labels.length === 1 ? '' : 's'}` : ''}; wrote ${outFile}`,
  );
  return 0;
}

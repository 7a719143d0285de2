/**
 * `bptt demo`: the whole pipeline on a built-in synthetic series, with nothing to download.
 *
 * The series (seeded, so every run is the same): 4 weeks of a server's `load` and `latency` every 10 minutes (4032 rows).
 *   load     50 + 12·sin(2π(d − ¼)) + 4·sin(4πd) + N(0, 1)     d = time of day in days (low at night, peak mid-afternoon)
 *   latency  20 + 0.4·load + N(0, 0.6)
 * Injected after the training week (the first 25% of the rows, which stay clean):
 *   point       one latency reading 15 ms too high
 *   contextual  a night-time surge of load to its daytime level (each value is normal for the day, not for 2 a.m.)
 *   collective  8 hours in which the load oscillates every hour (each value is in range; the pattern is not)
 * Writes, to the current directory or --out-dir: bptt-demo-data.csv (the series), bptt-demo-labels.json (the injected
 * windows), bptt-demo-flags.csv (the detector's output, with a `label` column) and bptt-demo-report.html; all four are
 * staged and committed together (lib/cli/output.ts OutputSet), so a failure leaves none of them changed.
 */
import * as path from 'path';
import * as fs from 'fs';
import { makeRandom } from '../random.js';
import type { Range } from '../detect/events.js';
import { UserError, fsMessage } from './errors.js';
import { readTable, csvNumber } from './csv.js';
import { type Context, say, since } from './context.js';
import { OutputSet } from './output.js';
import { checkFiles } from './files.js';
import {
  fitDetector,
  runDetect,
  writeFlags,
  reportData,
  modelFacts,
  eventJSON,
  timeText,
  finiteOrNull,
  publicOptions,
} from './detect.js';
import { windowsToRanges } from './labels.js';
import { renderReport } from './report.js';
import { formatDate } from './time.js';
import type { DetectorOptions } from '../detect/types.js';
import * as opt from './options.js';

const STEP_MS = 10 * 60 * 1000;
const PER_DAY = 144;
const DAYS = 28;
const START = Date.UTC(2024, 2, 4); // Monday 4 March 2024

export interface Injected {
  kind: 'point' | 'contextual' | 'collective';
  what: string;
  start: number;
  end: number;
}

/** The demo series: rows of [load, latency] and the injected windows (inclusive row ranges). */
export function demoSeries(seed = 7): {
  n: number;
  times: string[];
  load: Float64Array;
  latency: Float64Array;
  injected: Injected[];
} {
  const n = DAYS * PER_DAY;
  const rng = makeRandom(`bptt-demo/${seed}`);
  const load = new Float64Array(n),
    latency = new Float64Array(n);
  const injected: Injected[] = [
    { kind: 'point', what: 'one latency reading 15 ms too high', start: 10 * PER_DAY + 87, end: 10 * PER_DAY + 87 },
    {
      kind: 'contextual',
      what: 'a night-time load surge to its daytime level',
      start: 16 * PER_DAY + 9,
      end: 16 * PER_DAY + 27,
    },
    {
      kind: 'collective',
      what: 'load oscillating every hour for 8 hours',
      start: 22 * PER_DAY + 60,
      end: 22 * PER_DAY + 107,
    },
  ];
  for (let t = 0; t < n; t++) {
    const d = t / PER_DAY;
    let l = 50 + 12 * Math.sin(2 * Math.PI * (d - 0.25)) + 4 * Math.sin(4 * Math.PI * d) + rng.normal();
    const c = injected[1],
      o = injected[2];
    if (t >= c.start && t <= c.end) l += 24 * Math.sin((Math.PI * (t - c.start + 1)) / (c.end - c.start + 2));
    if (t >= o.start && t <= o.end) l += 7 * Math.sin((2 * Math.PI * (t - o.start)) / 6);
    load[t] = l;
    latency[t] = 20 + 0.4 * l + 0.6 * rng.normal();
  }
  latency[injected[0].start] += 15;
  const times: string[] = [];
  for (let t = 0; t < n; t++) times.push(formatDate(START + t * STEP_MS));
  for (let t = 0; t < n; t++) {
    load[t] = Math.round(load[t] * 100) / 100;
    latency[t] = Math.round(latency[t] * 100) / 100;
  }
  return { n, times, load, latency, injected };
}

export const DEMO_HELP = `Usage: bptt demo [options]

Runs the whole pipeline on a built-in synthetic series (4 weeks of a server's load and latency, with a point,
a contextual and a collective anomaly injected) and writes, to the current directory:
  bptt-demo-data.csv       the series                  bptt-demo-flags.csv     the detector's flags
  bptt-demo-labels.json    the injected windows        bptt-demo-report.html   the report: open it in a browser

Options
  --out-dir DIR           write the files there instead (created if missing)
  --model M, --window W, --hidden H, --epochs E, --threshold T, --min-gap G, --seed S, --workers N, --backend B   as for bptt detect
                          (defaults: the library's, as your data would get them: model auto, which picks
                          lstm-ae for these two columns, causal, threshold spot)
  --json                  print a JSON summary to stdout
  -q, --quiet             no progress or summary on stderr
  -h, --help              this help`;

export const DEMO_SPEC: opt.OptionSpec = {
  ...opt.COMMON,
  ...opt.DETECTOR,
  'out-dir': { type: 'string' },
  json: { type: 'boolean' },
};

const overlaps = (a: Range, b: Range): boolean => a.start <= b.end && b.start <= a.end;

export function demoCommand(ctx: Context, argv: string[]): number {
  const t0 = performance.now();
  const { values: v, positionals } = opt.parse('demo', argv, DEMO_SPEC);
  if (opt.flag(v, 'help')) {
    ctx.out(`${DEMO_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0)
    throw new UserError(`demo: takes no file (got ${positionals.join(' ')}); see bptt demo --help`);
  const dir = opt.str(v, 'out-dir') ?? '.';
  // The library's defaults, as a user's data would get them: nothing tuned for the demo series.
  const options: DetectorOptions = { ...opt.detectorOptions(v) };
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`--out-dir: ${fsMessage('create', dir, e)}`);
  }
  const json = opt.flag(v, 'json');
  const files = {
    data: path.join(dir, 'bptt-demo-data.csv'),
    labels: path.join(dir, 'bptt-demo-labels.json'),
    flags: path.join(dir, 'bptt-demo-flags.csv'),
    report: path.join(dir, 'bptt-demo-report.html'),
  };

  checkFiles(
    'demo',
    [],
    [
      { what: 'the data file', file: files.data },
      { what: 'the labels file', file: files.labels },
      { what: 'the flags file', file: files.flags },
      { what: 'the report', file: files.report },
    ],
  );
  const outs = new OutputSet();
  try {
    return demoRun(ctx, files, options, json, outs, t0);
  } finally {
    outs.abort();
  }
}

/** demo after its options are checked, with its four outputs staged in `outs`. */
function demoRun(
  ctx: Context,
  files: Record<'data' | 'labels' | 'flags' | 'report', string>,
  options: DetectorOptions,
  json: boolean,
  outs: OutputSet,
  t0: number,
): number {
  const dataOut = outs.open(files.data),
    labelsOut = outs.open(files.labels);
  const flagsOut = outs.open(files.flags),
    reportOut = outs.open(files.report);
  const s = demoSeries();
  let csv = 'timestamp,load,latency\n';
  for (let t = 0; t < s.n; t++) csv += `${s.times[t]},${csvNumber(s.load[t])},${csvNumber(s.latency[t])}\n`;
  dataOut.write(csv);
  dataOut.finish();
  labelsOut.write(
    `${JSON.stringify(
      s.injected.map((w) => [s.times[w.start], s.times[w.end]]),
      null,
      2,
    )}\n`,
  );
  say(
    ctx,
    `bptt demo: a synthetic server: ${s.n} rows (4 weeks every 10 minutes) of load and latency, with 3 injected anomalies:`,
  );
  for (const w of s.injected)
    say(ctx, `  ${w.kind.padEnd(10)}  ${s.times[w.start]}${w.end > w.start ? ` → ${s.times[w.end]}` : ''}  ${w.what}`);

  // The same path as `bptt detect bptt-demo-data.csv --train-fraction 0.25 --labels bptt-demo-labels.json`.
  // Read back from the staged data file (complete and closed; renamed into place with the others at the end).
  const table = { ...readTable(dataOut.tempPath as string), file: files.data };
  const labels = windowsToRanges(
    s.injected.map((w) => [s.times[w.start], s.times[w.end]]),
    table.n,
    table.timeKind,
    table.timeValues,
    table.times,
    files.labels,
  );
  table.labels = new Uint8Array(table.n);
  for (const w of labels) table.labels.fill(1, w.start, w.end + 1);
  const trainRows = Math.floor(0.25 * table.n);
  const trainDesc = 'the first week (25%)';
  const fit = fitDetector(ctx, table, trainRows, trainDesc, options);
  const r = runDetect(fit.detector, table, trainRows, files.data);
  writeFlags(flagsOut, table, r);
  const html = renderReport(
    reportData(
      'bptt demo: synthetic server load and latency',
      `${files.data} (built in, seeded)`,
      table,
      r,
      labels,
      modelFacts(fit.detector, trainRows, trainDesc, r),
      table.warnings,
    ),
  );
  reportOut.write(html);
  outs.commit();

  const found = s.injected.filter((w) => r.events.some((e) => overlaps(e, w)));
  const falseAlarms = r.events.filter((e) => !labels.some((w) => overlaps(e, w)));
  if (json) {
    ctx.out(
      `${JSON.stringify(
        {
          command: 'demo',
          rows: table.n,
          columns: table.columns,
          injected: s.injected.map((w) => ({
            kind: w.kind,
            what: w.what,
            start: s.times[w.start],
            end: s.times[w.end],
            found: found.includes(w),
          })),
          model: { ...publicOptions(fit.detector), epochsTrained: fit.epochsTrained },
          threshold: { spec: fit.detector.thresholdSpec, value: finiteOrNull(r.threshold) },
          events: r.events.map((e) => eventJSON(table, e)),
          found: found.length,
          falseAlarms: falseAlarms.length,
          outputs: files,
          timings: { fitSeconds: fit.fitSeconds, totalSeconds: since(t0) },
        },
        null,
        2,
      )}\n`,
    );
  } else {
    say(
      ctx,
      `  found ${r.events.length} event${r.events.length === 1 ? '' : 's'}: ${found.length} of ${s.injected.length} injected anomalies detected` +
        ` (${found.map((w) => w.kind).join(', ') || 'none'}), ${falseAlarms.length} false alarm${falseAlarms.length === 1 ? '' : 's'}`,
    );
    for (const e of r.events) {
      const hit = s.injected.find((w) => overlaps(e, w));
      say(
        ctx,
        `    ${timeText(table, e.start)}${e.end > e.start ? ` → ${timeText(table, e.end)}` : ''}  ${hit ? hit.kind : 'false alarm'}`,
      );
    }
    say(ctx, `  wrote ${files.data}, ${files.labels}, ${files.flags}, ${files.report} in ${since(t0).toFixed(1)} s`);
    say(
      ctx,
      `  open ${files.report} in a browser; run it on your own data with: npx bptt detect your.csv --report report.html`,
    );
  }
  return 0;
}

/**
 * The `bptt` command line, end to end: every test spawns the built program (node <outDir>/lib/cli/main.js) as a child
 * process on small files, and checks exit codes, messages, and outputs against the library API on the same data.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Detector, type DetectResult } from '../../../lib/detect/detector';
import { getBackend, setBackend } from '../../../lib/backend';
import { makeRng } from '../../helpers/rng';
import { main } from '../../../lib/cli/main';
import { Progress } from '../../../lib/cli/progress';
import type { Context } from '../../../lib/cli/context';
import { type Run, runCli, expectUserError } from '../../helpers/repo';

/** The compiled CLI of the out dir this spec was compiled into (dist/ or a private one). */
const MAIN = path.resolve(__dirname, '../../../lib/cli/main.js');
const ROOT = path.resolve(__dirname, '../../../..');
const FIX = path.join(ROOT, 'spec', 'fixtures', 'cli');

const bptt = (args: string[], opts: { cwd?: string; node?: string[] } = {}): Run =>
  runCli(args, { cwd: ROOT, ...opts });

/** A small RFC 4180 parser (independent of lib/cli/csv.ts): rows of fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [],
    field = '',
    q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else q = false;
      } else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function readCsv(file: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parseCsv(fs.readFileSync(file, 'utf8'));
  return { header: header, rows };
}

/** Checks that the markup is well-formed XML: tags balanced, attributes quoted, no stray < > or &. */
function expectWellFormed(html: string): void {
  const body = html.replace(/^<!DOCTYPE html>\s*/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w-]*)([^<>]*)>/g;
  let last = 0;
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    const text = body.slice(last, m.index);
    expect(text, `text before <${m[2]}>`).not.to.match(/[<>]|&(?!(amp|lt|gt|quot|#\d+);)/);
    last = tag.lastIndex;
    const [, close, name, attrs] = m as unknown as [string, string, string, string];
    if (close === '/') {
      expect(stack.pop(), `</${name}> closes`).to.equal(name);
      continue;
    }
    expect(attrs, `attributes of <${name}>`).to.match(/^(\s+[\w:-]+="[^"<>]*")*\s*\/?$/);
    if (!attrs.endsWith('/')) stack.push(name);
  }
  expect(body.slice(last).trim()).to.equal('');
  expect(stack, 'unclosed elements').to.deep.equal([]);
}

// ---------------------------------------------------------------------------------------------------------------------
// Data

interface Series {
  times: string[];
  a: number[];
  b: number[];
}

const round = (v: number): number => Math.round(v * 1e4) / 1e4;
const stamp = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** Two columns with a daily-ish cycle, a spike in `a` at 0.75n and a level shift in `b` from 0.85n. */
function makeSeries(n: number, seed: string): Series {
  const rng = makeRng(seed);
  const t0 = Date.UTC(2024, 0, 1);
  const s: Series = { times: [], a: [], b: [] };
  for (let i = 0; i < n; i++) {
    s.times.push(stamp(t0 + i * 5 * 60000));
    s.a.push(
      round(10 + 3 * Math.sin((2 * Math.PI * i) / 48) + 0.3 * (rng() - 0.5) + (i === Math.floor(0.75 * n) ? 6 : 0)),
    );
    s.b.push(
      round(
        5 +
          Math.cos((2 * Math.PI * i) / 30) +
          0.2 * rng() +
          (i >= Math.floor(0.85 * n) && i < Math.floor(0.85 * n) + 10 ? 3 : 0),
      ),
    );
  }
  return s;
}

function writeSeries(
  file: string,
  s: Series,
  cell: (col: 'a' | 'b', i: number) => string = (c, i) => String(s[c][i]),
): void {
  const lines = ['timestamp,a,b'];
  for (let i = 0; i < s.times.length; i++) lines.push(`${s.times[i]},${cell('a', i)},${cell('b', i)}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

const rowsOf = (s: Series, n = s.times.length): number[][] => Array.from({ length: n }, (_, i) => [s.a[i], s.b[i]]);

/** Checks a flags CSV against a library result row by row: scores to 1e-9, thresholds, flags, warm-up rows empty. */
function expectSameAsLibrary(
  rows: string[][],
  header: string[],
  r: Pick<DetectResult, 'scores' | 'thresholds' | 'flags' | 'firstScored'>,
): void {
  const si = header.indexOf('score'),
    ti = header.indexOf('threshold'),
    ai = header.indexOf('anomaly');
  expect(rows.length).to.equal(r.scores.length);
  rows.forEach((row, i) => {
    if (i < r.firstScored) {
      expect([row[si], row[ti], row[ai]], `warm-up row ${i}`).to.deep.equal(['', '', '0']);
      return;
    }
    expect(Math.abs(Number(row[si]) - r.scores[i]), `score of row ${i}`).to.be.at.most(1e-9);
    expect(Math.abs(Number(row[ti]) - r.thresholds[i]), `threshold of row ${i}`).to.be.at.most(1e-9);
    expect(Number(row[ai]), `anomaly of row ${i}`).to.equal(r.flags[i]);
  });
}

describe('bptt command line (spawned)', function () {
  this.timeout(120000);
  let dir: string;
  const N = 600;
  const series = makeSeries(N, 'cli/series');
  let data: string;

  before(() => {
    expect(fs.existsSync(MAIN), `${MAIN} (build first)`).to.equal(true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-cli-'));
    data = path.join(dir, 'series.csv');
    writeSeries(data, series);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const tmpFiles = (): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

  describe('usage', () => {
    it('prints the command list for no arguments and --help, and help for each command', () => {
      for (const args of [[], ['--help'], ['help']]) {
        const r = bptt(args);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.match(/^Usage: bptt <command>/);
        for (const c of ['detect', 'fit', 'score', 'report', 'demo']) expect(r.stdout).to.contain(`  ${c}`);
      }
      for (const c of ['detect', 'fit', 'score', 'report', 'demo']) {
        const r = bptt([c, '--help']);
        expect(r.code, c).to.equal(0);
        expect(r.stdout, c).to.match(new RegExp(`^Usage: bptt ${c}`));
        expect(r.stderr).to.equal('');
      }
      expect(bptt(['--version']).stdout).to.match(/^bptt \d+\.\d+\.\d+/);
    });

    it('rejects unknown commands, unknown options and bad option values with exit code 1', () => {
      expectUserError(
        bptt(['frobnicate']),
        /unknown command "frobnicate"; the commands are detect, fit, score, report, demo/,
      );
      expectUserError(bptt(['detect', data, '--bogus']), /detect: unknown option --bogus \(see bptt detect --help\)/);
      expectUserError(bptt(['detect', data, '--window']), /option --window needs a value/);
      expectUserError(bptt(['detect', data, '--window', 'ten']), /--window: expected a positive integer, got "ten"/);
      expectUserError(
        bptt(['detect', data, '--model', 'transformer']),
        /--model: expected auto or one of gru-online, lstm-ae, .*got "transformer"/,
      );
      expectUserError(
        bptt(['detect', data, '--threshold', 'quantile:3']),
        /--threshold: quantile needs a probability in \(0, 1\), got 3/,
      );
      expectUserError(
        bptt(['detect', data, '--train-fraction', '1.5']),
        /--train-fraction: expected a fraction between 0 and 1/,
      );
      expectUserError(bptt(['detect']), /detect: missing the input CSV file/);
      expectUserError(bptt(['fit', data]), /fit: --save FILE is required/);
      expectUserError(bptt(['score', data]), /score: --model FILE is required/);
    });

    it('maps an internal error to exit code 2 with the stack (main() in process)', () => {
      const err: string[] = [];
      const ctx: Context = {
        out: () => {
          throw new TypeError('boom');
        },
        err: (s) => {
          err.push(s);
        },
        errSink: { write: () => true },
        quiet: true,
      };
      expect(main(['--help'], ctx)).to.equal(2);
      expect(err.join(''))
        .to.match(/^bptt: internal error: boom\n/)
        .and.to.match(/\n\s+at /);
    });
  });

  describe('detect', () => {
    it('writes the flags CSV to stdout, equal to Detector.detect on the same data (zscore)', () => {
      const r = bptt(['detect', data, '--model', 'zscore', '--window', '16', '--threshold', 'sigma:4', '-q']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      const [header, ...rows] = parseCsv(r.stdout) as [string[], ...string[][]];
      expect(header).to.deep.equal(['timestamp', 'a', 'b', 'score', 'threshold', 'anomaly']);
      expect(rows.map((x) => x[0])).to.deep.equal(series.times);
      expect(rows.map((x) => Number(x[1]))).to.deep.equal(series.a);
      const d = new Detector({ model: 'zscore', window: 16, threshold: 'sigma:4' }).fit(
        rowsOf(series, Math.floor(0.15 * N)),
      );
      const lib = d.detect(rowsOf(series));
      expect(lib.events.length).to.be.greaterThan(0);
      expectSameAsLibrary(rows, header, lib);
    });

    it('trains a neural model with progress lines on stderr, and --json summarises what the library finds', () => {
      const out = path.join(dir, 'lstm-flags.csv');
      const args = [
        '--model',
        'lstm-ae',
        '--window',
        '8',
        '--hidden',
        '4',
        '--epochs',
        '2',
        '--threshold',
        'quantile:0.99',
        '--seed',
        '3',
      ];
      const plain = bptt(['detect', data, ...args, '--out', out, '--min-gap', '2']);
      expect(plain.code, plain.stderr).to.equal(0);
      expect(plain.stderr).to.match(/^epoch 1\/2 {2}loss \d\.\d{6} {2}val_loss \d\.\d{6} {2}\d+\.\ds {2}ETA \d+s$/m);
      expect(plain.stderr)
        .to.match(/^epoch 2\/2 /m)
        .and.to.match(/^trained lstm-ae: 2\/2 epochs in /m);
      // Under --json, stderr is JSON lines: one per epoch, then the summary of the training.
      const r = bptt(['detect', data, ...args, '--json', '--out', out, '--min-gap', '2']);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { progress?: Record<string, number>; trained?: Record<string, unknown> });
      expect(lines.map((l) => l.progress?.epoch ?? null)).to.deep.equal([1, 2, null]);
      expect(lines[0].progress).to.include({ model: 'lstm-ae', epochs: 2 });
      expect(lines[0].progress?.loss).to.be.a('number').and.to.be.above(0);
      expect(lines[2].trained).to.include({ model: 'lstm-ae', epochs: 2, of: 2, stoppedEarly: false });
      const d = new Detector({
        model: 'lstm-ae',
        window: 8,
        hidden: 4,
        epochs: 2,
        threshold: 'quantile:0.99',
        seed: 3,
        minGap: 2,
      }).fit(rowsOf(series, Math.floor(0.15 * N)));
      const lib = d.detect(rowsOf(series));
      const { header, rows } = readCsv(out);
      expectSameAsLibrary(rows, header, lib);
      const j = JSON.parse(r.stdout);
      expect(j).to.include({
        command: 'detect',
        rows: N,
        timeColumn: 'timestamp',
        flagged: lib.flags.reduce((x, y) => x + y, 0),
      });
      expect(j.columns).to.deep.equal(['a', 'b']);
      expect(j.train).to.deep.equal({ rows: 90, from: 'the first 90 rows (15%)' });
      expect(j.threshold.spec).to.equal('quantile:0.99');
      expect(j.threshold.value).to.be.closeTo(lib.threshold, 1e-12);
      expect(j.model).to.include({ model: 'lstm-ae', window: 8, epochsTrained: 2 });
      expect(j.events.map((e: { start: string; end: string; peak: string }) => [e.start, e.end, e.peak])).to.deep.equal(
        lib.events.map((e) => [series.times[e.start], series.times[e.end], series.times[e.peakIndex]]),
      );
      expect(j.missing).to.deep.equal({ total: 0, perColumn: { a: 0, b: 0 } });
      expect(j.warnings).to.deep.equal([]);
      for (const k of ['readSeconds', 'fitSeconds', 'detectSeconds', 'writeSeconds', 'totalSeconds'])
        expect(j.timings[k]).to.be.a('number');
      expect(j.outputs).to.deep.equal({ flags: out });
    });

    it('--workers and --backend reach the library: 2 workers on the js path give what the library gives with the same options', () => {
      expectUserError(
        bptt(['detect', data, '--workers', '0']),
        /--workers: expected a positive integer or auto, got "0"/,
      );
      expectUserError(
        bptt(['detect', data, '--workers', 'many']),
        /--workers: expected a positive integer or auto, got "many"/,
      );
      expectUserError(bptt(['detect', data, '--backend', 'gpu']), /--backend: expected js, wasm or auto, got "gpu"/);
      const out = path.join(dir, 'workers-flags.csv');
      const args = [
        '--model',
        'lstm-ae',
        '--window',
        '8',
        '--hidden',
        '4',
        '--epochs',
        '2',
        '--threshold',
        'quantile:0.99',
        '--seed',
        '3',
      ];
      const r = bptt(['detect', data, ...args, '--workers', '2', '--backend', 'js', '--json', '--out', out, '-q']);
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout).model).to.include({ workers: 2, backend: 'js' });
      const before = getBackend();
      setBackend('js');
      try {
        const d = new Detector({
          model: 'lstm-ae',
          window: 8,
          hidden: 4,
          epochs: 2,
          threshold: 'quantile:0.99',
          seed: 3,
          workers: 2,
        }).fit(rowsOf(series, Math.floor(0.15 * N)));
        const lib = d.detect(rowsOf(series));
        const { header, rows } = readCsv(out);
        expectSameAsLibrary(rows, header, lib);
        d.dispose();
      } finally {
        setBackend(before);
      }
    });

    it('--quiet silences progress and the summary', () => {
      const r = bptt([
        'detect',
        data,
        '--model',
        'dense-ae',
        '--window',
        '8',
        '--epochs',
        '1',
        '--threshold',
        'sigma:3',
        '--quiet',
        '--out',
        path.join(dir, 'q.csv'),
      ]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.equal('');
    });

    it('trains on another file with --train, and reads only the --columns named', () => {
      const train = path.join(dir, 'train.csv');
      writeSeries(train, makeSeries(200, 'cli/train'));
      const r = bptt([
        'detect',
        data,
        '--train',
        train,
        '--columns',
        'b',
        '--model',
        'zscore',
        '--window',
        '10',
        '--threshold',
        'sigma:5',
        '-q',
      ]);
      expect(r.code, r.stderr).to.equal(0);
      const [header, ...rows] = parseCsv(r.stdout) as [string[], ...string[][]];
      expect(header).to.deep.equal(['timestamp', 'b', 'score', 'threshold', 'anomaly']);
      const t = makeSeries(200, 'cli/train');
      const lib = new Detector({ model: 'zscore', window: 10, threshold: 'sigma:5' }).fit(t.b).detect(series.b);
      expectSameAsLibrary(rows, header, lib);
    });

    it('numbers the rows when the file has no time column', () => {
      const f = path.join(dir, 'no-time.csv');
      fs.writeFileSync(f, `a,b\n${series.a.map((a, i) => `${a},${series.b[i]}`).join('\n')}\n`);
      const r = bptt([
        'detect',
        f,
        '--model',
        'zscore',
        '--window',
        '16',
        '--threshold',
        'sigma:4',
        '--json',
        '--out',
        path.join(dir, 'no-time-flags.csv'),
        '--report',
        path.join(dir, 'no-time.html'),
      ]);
      expect(r.code, r.stderr).to.equal(0);
      const j = JSON.parse(r.stdout);
      expect(j.timeColumn).to.equal(null);
      const lib = new Detector({ model: 'zscore', window: 16, threshold: 'sigma:4' })
        .fit(rowsOf(series, 90))
        .detect(rowsOf(series));
      expect(j.events.map((e: { start: number; end: number }) => [e.start, e.end])).to.deep.equal(
        lib.events.map((e) => [e.start, e.end]),
      );
      const { header, rows } = readCsv(path.join(dir, 'no-time-flags.csv'));
      expect(header).to.deep.equal(['a', 'b', 'score', 'threshold', 'anomaly']);
      expectSameAsLibrary(rows, header, lib);
      expectWellFormed(fs.readFileSync(path.join(dir, 'no-time.html'), 'utf8'));
    });

    it('reads quoted fields, delimiters and line breaks in quotes, CRLF, a BOM and ; as the delimiter', () => {
      const f = path.join(FIX, 'quoted-semicolon.csv');
      const r = bptt(['detect', f, '--train', f, '--model', 'zscore', '--window', '2', '--threshold', 'fixed:1']);
      expect(r.code, r.stderr).to.equal(0);
      const [header, ...rows] = parseCsv(r.stdout) as [string[], ...string[][]];
      expect(header).to.deep.equal(['time', 'cpu; %', 'mem', 'score', 'threshold', 'anomaly']);
      expect(rows.map((x) => x.slice(0, 3))).to.deep.equal([
        ['2024-01-01 00:00', '1.5', '3'],
        ['2024-01-01 00:05', '2.5', ''],
        ['2024-01-01 00:10', '2', '3.2'],
      ]);
      expect(r.stderr).to.contain('left out non-numeric column "host"');
      expect(r.stderr).to.contain(
        '1 empty cell (column "mem": 1) treated as missing and filled by linear interpolation',
      );
      // The score of the last row: z of (2.0, 3.2) against the two rows before, with the gap filled (mem 3.1).
      expect(Number(rows[2]?.[3])).to.be.greaterThan(0);
    });
  });

  describe('bad input', () => {
    const detect = (file: string, ...more: string[]): Run =>
      bptt(['detect', file, '--model', 'zscore', '--window', '8', ...more]);

    it('a missing file, an empty file, a header without rows, a single row', () => {
      expectUserError(detect(path.join(dir, 'nope.csv')), /cannot read .*nope\.csv: no such file or directory/);
      expectUserError(detect(dir), /cannot read .*: it is a directory/);
      expectUserError(detect(path.join(FIX, 'empty.csv')), /empty\.csv is empty: expected a header row and data rows/);
      expectUserError(detect(path.join(FIX, 'header-only.csv')), /header-only\.csv has a header but no data rows/);
      expectUserError(detect(path.join(FIX, 'single-row.csv')), /single-row\.csv has a single data row \(line 2\)/);
    });

    it('a non-numeric cell, ragged rows and a bad timestamp: the file, line and column', () => {
      expectUserError(
        detect(path.join(FIX, 'non-numeric.csv')),
        /non-numeric\.csv line 4, column 2 \("cpu"\): "oops" is not a number \(leave the cell empty for a missing value\)/,
      );
      expectUserError(detect(path.join(FIX, 'ragged.csv')), /ragged\.csv line 3: 4 fields, but the header has 3/);
      expectUserError(detect(path.join(FIX, 'short-row.csv')), /short-row\.csv line 4: 1 field, but the header has 3/);
      expectUserError(
        detect(path.join(FIX, 'quoted-ragged.csv')),
        /quoted-ragged\.csv line 5: 4 fields, but the header has 3/,
      );
      expectUserError(
        detect(path.join(FIX, 'bad-timestamp.csv')),
        /bad-timestamp\.csv line 4, column 1 \("timestamp"\): "not a date" is not a date like the first timestamp "2024-01-01 00:00"/,
      );
      expectUserError(
        bptt(['detect', data, '--columns', 'a,zzz']),
        /--columns: .*series\.csv has no column "zzz"; its columns are "timestamp", "a", "b"/,
      );
    });

    it('a constant column, and a training part too short for the window', () => {
      const f = path.join(dir, 'constant.csv');
      writeSeries(f, series, (c, i) => (c === 'b' ? '7' : String(series.a[i])));
      // The library checks the series at its door; the command line names the training part and the CSV column.
      expectUserError(
        detect(f),
        /^bptt: training on the first 90 rows \(15%\): .*constant\.csv column 3 \("b"\) is constant \(7\) on the training series; a constant signal cannot be scaled or modelled/m,
      );
      expectUserError(
        bptt(['detect', data, '--window', '100', '--model', 'zscore']),
        /training on the first 90 rows \(15%\): fit\(series\): series of 90 points is shorter than 101, .*a larger --train-fraction, or --train FILE/,
      );
    });

    it('unsorted and duplicate timestamps: sorted stably and the first kept, with warnings', () => {
      const f = path.join(dir, 'unsorted.csv');
      const order = series.times.map((_, i) => i);
      [order[300], order[301]] = [order[301], order[300]];
      const lines = ['timestamp,a,b', ...order.map((i) => `${series.times[i]},${series.a[i]},${series.b[i]}`)];
      lines.splice(201, 0, `${series.times[199]},99,99`); // a repeat of row 199's timestamp, after it
      fs.writeFileSync(f, `${lines.join('\n')}\n`);
      const r = detect(f, '--threshold', 'sigma:4', '--window', '16');
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.contain(
        `unsorted.csv: 1 row goes back in time (first at line 304: "${series.times[300]}" after "${series.times[301]}"); sorted the rows by timestamp (stable)`,
      );
      expect(r.stderr).to.contain(
        `unsorted.csv: 1 row repeats an earlier timestamp (first at line 202: "${series.times[199]}"); kept the first row of each timestamp and dropped the repeats`,
      );
      const [, ...rows] = parseCsv(r.stdout);
      expect(rows.map((x) => x[0])).to.deep.equal(series.times);
      expect(rows[199]?.[1]).to.equal(String(series.a[199]));
      const lib = new Detector({ model: 'zscore', window: 16, threshold: 'sigma:4' })
        .fit(rowsOf(series, 90))
        .detect(rowsOf(series));
      expectSameAsLibrary(rows, ['timestamp', 'a', 'b', 'score', 'threshold', 'anomaly'], lib);
    });

    it('empty cells are missing values: reported, filled, and left empty in the output', () => {
      const f = path.join(dir, 'gaps.csv');
      const gaps = new Set([0, 1, 50, 51, 52, 400, N - 1]);
      writeSeries(f, series, (c, i) => (c === 'a' && gaps.has(i) ? '' : String(series[c][i])));
      const r = detect(
        f,
        '--threshold',
        'sigma:4',
        '--window',
        '16',
        '--json',
        '--out',
        path.join(dir, 'gaps-flags.csv'),
      );
      expect(r.code, r.stderr).to.equal(0);
      const j = JSON.parse(r.stdout);
      expect(j.missing).to.deep.equal({ total: 7, perColumn: { a: 7, b: 0 } });
      expect(j.warnings[0]).to.contain(
        '7 empty cells (column "a": 7) treated as missing and filled by linear interpolation',
      );
      const { rows } = readCsv(path.join(dir, 'gaps-flags.csv'));
      expect(rows[50]?.[1]).to.equal('');
      const withGaps = rowsOf(series).map((row, i) => (gaps.has(i) ? [NaN, row[1]] : row));
      const lib = new Detector({ model: 'zscore', window: 16, threshold: 'sigma:4' })
        .fit(withGaps.slice(0, 90))
        .detect(withGaps);
      expectSameAsLibrary(rows, ['timestamp', 'a', 'b', 'score', 'threshold', 'anomaly'], lib);
    });

    it('an error leaves an existing output file as it was and no temp file behind', () => {
      const out = path.join(dir, 'keep.csv');
      fs.writeFileSync(out, 'keep me\n');
      expectUserError(bptt(['detect', path.join(FIX, 'non-numeric.csv'), '--out', out]), /is not a number/);
      expectUserError(
        bptt([
          'detect',
          data,
          '--out',
          path.join(dir, 'no-such-dir', 'x.csv'),
          '--model',
          'zscore',
          '--threshold',
          'sigma:4',
          '--window',
          '8',
        ]),
        /cannot write .*no-such-dir\/x\.csv: no such file or directory/,
      );
      expect(fs.readFileSync(out, 'utf8')).to.equal('keep me\n');
      expect(tmpFiles()).to.deep.equal([]);
    });
  });

  describe('fit and score', () => {
    let zmodel: string;
    before(() => {
      zmodel = path.join(dir, 'z.bptt.json');
      const r = bptt(['fit', data, '--save', zmodel, '--model', 'zscore', '--window', '16', '--threshold', 'sigma:4']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(
        /bptt fit: trained zscore on series\.csv \(600 rows\), columns a, b; threshold sigma:4 → /,
      );
    });

    it('fit saves a model that Detector.load reads, with the columns it was trained on', () => {
      const doc = JSON.parse(fs.readFileSync(zmodel, 'utf8'));
      expect(doc.format).to.equal('bptt-detector');
      expect(doc.cli).to.include({ timeColumn: 'timestamp', trainRows: N });
      expect(doc.cli.columns).to.deep.equal(['a', 'b']);
      const d = Detector.load(zmodel);
      const ref = new Detector({ model: 'zscore', window: 16, threshold: 'sigma:4' }).fit(rowsOf(series));
      expect(d.threshold).to.equal(ref.threshold);
    });

    it('score streams the file through the saved model: equal to the library, flags and scores', () => {
      const out = path.join(dir, 'scored.csv');
      const r = bptt(['score', data, '--model', zmodel, '--out', out]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(
        /bptt score: .*series\.csv: 600 rows scored with .*z\.bptt\.json \(zscore, threshold sigma:4 → [\d.]+\); \d+ events?/,
      );
      const { header, rows } = readCsv(out);
      expect(header).to.deep.equal(['timestamp', 'a', 'b', 'score', 'threshold', 'anomaly']);
      expectSameAsLibrary(rows, header, Detector.load(zmodel).detect(rowsOf(series)));
    });

    it('score of an offline autoencoder (combine mean: results lag W−1 rows, flushed at the end) equals the library stream', () => {
      const model = path.join(dir, 'ae.bptt.json');
      const f = bptt([
        'fit',
        data,
        '--save',
        model,
        '--model',
        'gru-ae',
        '--offline',
        '--window',
        '6',
        '--hidden',
        '3',
        '--epochs',
        '1',
        '--threshold',
        'spot',
        '-q',
      ]);
      expect(f.code, f.stderr).to.equal(0);
      const r = bptt(['score', data, '--model', model, '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const j = JSON.parse(r.stdout);
      const s = Detector.load(model).stream();
      const res = rowsOf(series)
        .map((p) => s.push(p))
        .filter((x) => x !== null);
      res.push(...s.flush());
      expect(res.map((x) => x?.index)).to.deep.equal(series.times.map((_, i) => i));
      expect(j).to.include({ rows: N, scored: N, warmupRows: 0, flagged: res.filter((x) => x?.flag === 1).length });
      // And as CSV on stdout: scores to 1e-9.
      const c = bptt(['score', data, '--model', model, '-q']);
      const [header, ...rows] = parseCsv(c.stdout) as [string[], ...string[][]];
      expectSameAsLibrary(rows, header, {
        scores: Float64Array.from(res, (x) => x?.score),
        thresholds: Float64Array.from(res, (x) => x?.threshold),
        flags: Uint8Array.from(res, (x) => x?.flag as number),
        firstScored: 0,
      });
    });

    it('score holds rows back over a gap and interpolates, as detect does; duplicates dropped, warned', () => {
      const f = path.join(dir, 'score-gaps.csv');
      const gaps = new Set([0, 100, 101, 102, 103, 350, N - 2, N - 1]);
      writeSeries(f, series, (c, i) => (c === 'b' && gaps.has(i) ? '' : String(series[c][i])));
      fs.appendFileSync(f, `${series.times[N - 1]},1,1\n`); // a repeat of the last timestamp
      const out = path.join(dir, 'score-gaps-flags.csv');
      const r = bptt(['score', f, '--model', zmodel, '--out', out]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.contain(
        '8 empty cells (column "b": 8) treated as missing and filled by linear interpolation',
      );
      expect(r.stderr).to.contain(
        `1 row repeats the previous timestamp (first at line ${N + 2}); kept the first row and dropped the repeats`,
      );
      const withGaps = rowsOf(series).map((row, i) => (gaps.has(i) ? [row[0], NaN] : row));
      const { header, rows } = readCsv(out);
      expect(rows.length).to.equal(N);
      expectSameAsLibrary(rows, header, Detector.load(zmodel).detect(withGaps));
    });

    it('score: a model file that is missing, corrupt or for other columns', () => {
      expectUserError(
        bptt(['score', data, '--model', path.join(dir, 'none.json')]),
        /--model: cannot read .*none\.json: no such file or directory/,
      );
      const bad = path.join(dir, 'truncated.json');
      fs.writeFileSync(bad, fs.readFileSync(zmodel, 'utf8').slice(0, 200));
      expectUserError(
        bptt(['score', data, '--model', bad]),
        /--model: .*truncated\.json is not valid JSON \(a truncated or corrupt file\?\)/,
      );
      const other = path.join(dir, 'other.json');
      fs.writeFileSync(other, JSON.stringify({ format: 'something' }));
      expectUserError(bptt(['score', data, '--model', other]), /not a bptt detector/);
      expectUserError(
        bptt(['score', data, '--model', zmodel, '--columns', 'a']),
        /the model was trained on 2 columns \(a, b\), but .* gives 1 \(a\)/,
      );
      expectUserError(
        bptt(['score', path.join(FIX, 'non-numeric.csv'), '--model', zmodel, '--columns', 'cpu,mem']),
        /line 4, column 2 \("cpu"\): "oops" is not a number/,
      );
    });

    it('score streams a 200k-row file in bounded memory (64 MB heap), atomically', () => {
      const big = path.join(dir, 'big.csv');
      const fd = fs.openSync(big, 'w');
      const t0 = Date.UTC(2020, 0, 1);
      let chunk = 'timestamp,a,b\n';
      for (let i = 0; i < 200000; i++) {
        chunk += `${stamp(t0 + i * 60000)},${round(10 + 3 * Math.sin(i / 7.6))},${round(5 + Math.cos(i / 4.8))}\n`;
        if (chunk.length > 1 << 20) {
          fs.writeSync(fd, chunk);
          chunk = '';
        }
      }
      fs.writeSync(fd, chunk);
      fs.closeSync(fd);
      const out = path.join(dir, 'big-flags.csv');
      const r = bptt(['score', big, '--model', zmodel, '--out', out, '--json'], { node: ['--max-old-space-size=64'] });
      expect(r.code, r.stderr).to.equal(0);
      const j = JSON.parse(r.stdout);
      expect(j.rows).to.equal(200000);
      expect(j.memory.maxRssMB).to.be.below(300);
      let lines = 0;
      const buf = fs.readFileSync(out);
      for (let i = 0; i < buf.length; i++) if (buf[i] === 10) lines++;
      expect(lines).to.equal(200001);
      // A bad cell near the end: the existing output stays, no temp file is left.
      fs.appendFileSync(big, '2099-01-01 00:00:00,x,1\n');
      expectUserError(
        bptt(['score', big, '--model', zmodel, '--out', out]),
        /line 200002, column 2 \("a"\): "x" is not a number/,
      );
      expect(fs.statSync(out).size).to.equal(buf.length);
      expect(tmpFiles()).to.deep.equal([]);
      fs.rmSync(big);
      fs.rmSync(out);
    });
  });

  describe('report', () => {
    /** The rows of the event table, as text cells. */
    const tableRows = (html: string): string[][] => {
      const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
      return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) =>
        [...m[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1].replace(/<[^>]+>/g, '')),
      );
    };

    it('detect --report: one self-contained, well-formed file with a chart per column, the score, and every event', () => {
      const labels = path.join(dir, 'labels.json');
      fs.writeFileSync(
        labels,
        JSON.stringify([
          [series.times[440], series.times[460]],
          [series.times[508], series.times[520]],
        ]),
      );
      const html = path.join(dir, 'report.html');
      const r = bptt([
        'detect',
        data,
        '--model',
        'zscore',
        '--window',
        '16',
        '--threshold',
        'sigma:4',
        '--labels',
        labels,
        '--report',
        html,
        '--json',
        '-q',
      ]);
      expect(r.code, r.stderr).to.equal(0);
      const j = JSON.parse(r.stdout);
      const text = fs.readFileSync(html, 'utf8');
      expectWellFormed(text);
      expect(text).not.to.match(/<script|<link|<img|<iframe|\bsrc=|url\(|@import/i);
      expect(text.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.to.match(/https?:/);
      expect(text.match(/<svg\b/g)?.length).to.equal(3); // a, b, score
      expect(text.match(/<svg class="chart" id="chart-(0|1|score)"/g)?.length).to.equal(3);
      expect(text.match(/class="label"/g)?.length).to.equal(2 * 3); // 2 windows on each of 3 charts
      expect(text.match(/class="event"/g)?.length).to.equal(j.events.length * 3);
      const rows = tableRows(text);
      expect(rows.length).to.equal(j.events.length);
      j.events.forEach((e: { start: string; end: string }, k: number) => {
        expect(rows[k]?.[1]).to.equal(e.start);
        expect(rows[k]?.[2]).to.equal(e.end);
      });
      expect(j.labels).to.deep.equal([
        { start: series.times[440], end: series.times[460] },
        { start: series.times[508], end: series.times[520] },
      ]);
    });

    it('report draws a flags CSV; a long series is downsampled and stays small', () => {
      const s = makeSeries(20000, 'cli/long');
      const f = path.join(dir, 'long.csv');
      writeSeries(f, s);
      const flags = path.join(dir, 'long-flags.csv');
      expect(
        bptt(['detect', f, '--model', 'zscore', '--window', '24', '--threshold', 'sigma:5', '--out', flags, '-q']).code,
      ).to.equal(0);
      const html = path.join(dir, 'long.html');
      const nab = path.join(dir, 'nab-labels.json');
      fs.writeFileSync(
        nab,
        JSON.stringify({
          'other/x.csv': [],
          'sub/long-flags.csv': [[`${s.times[15000]}.000000`, `${s.times[15100]}.000000`]],
        }),
      );
      const r = bptt([
        'report',
        flags,
        '-o',
        html,
        '--labels',
        `${nab}#sub/long-flags.csv`,
        '--title',
        'Long <series>',
      ]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(
        /bptt report: .*long-flags\.csv: 20000 rows, \d+ events?, 1 labelled window; wrote .*long\.html/,
      );
      const text = fs.readFileSync(html, 'utf8');
      expectWellFormed(text);
      expect(text).to.contain('<h1>Long &lt;series&gt;</h1>');
      expect(text.length).to.be.below(400000);
      expect(text.match(/<svg\b/g)?.length).to.equal(3);
      const { rows } = readCsv(flags);
      const events = rows.reduce((k, row, i) => k + (row[5] === '1' && rows[i - 1]?.[5] !== '1' ? 1 : 0), 0);
      expect(tableRows(text).length).to.equal(Math.min(events, 1000));
      expectUserError(bptt(['report', f, '-o', html]), /long\.csv has no "score" column, so it is not a flags file/);
      const nab2 = path.join(dir, 'nab2.json');
      fs.writeFileSync(nab2, JSON.stringify({ 'a/x.csv': [], 'b/y.csv': [] }));
      expectUserError(
        bptt(['report', flags, '-o', html, '--labels', nab2]),
        /has windows for 2 files .*none of them "long-flags\.csv"; pick one with --labels/,
      );
    });
  });

  describe('demo', () => {
    it('runs the pipeline on the built-in series and writes the data, flags and report', () => {
      const out = path.join(dir, 'demo');
      const r = bptt(['demo', '--out-dir', out]);
      expect(r.code, r.stderr).to.equal(0);
      // The library's defaults (model auto → lstm-ae for these 2 columns, 30 epochs), nothing tuned for the demo.
      expect(r.stderr)
        .to.match(/3 injected anomalies/)
        .and.to.match(/^epoch 1\/30 /m);
      expect(r.stderr).to.match(/found \d+ events?: 3 of 3 injected anomalies detected/);
      for (const f of ['bptt-demo-data.csv', 'bptt-demo-labels.json', 'bptt-demo-flags.csv', 'bptt-demo-report.html']) {
        expect(fs.existsSync(path.join(out, f)), f).to.equal(true);
      }
      const html = fs.readFileSync(path.join(out, 'bptt-demo-report.html'), 'utf8');
      expectWellFormed(html);
      expect(html.match(/<svg\b/g)?.length).to.equal(3);
      const { header, rows } = readCsv(path.join(out, 'bptt-demo-flags.csv'));
      expect(header).to.deep.equal(['timestamp', 'load', 'latency', 'score', 'threshold', 'anomaly', 'label']);
      expect(rows.length).to.equal(4032);
    });
  });
});

describe('lib/cli/progress', () => {
  it('redraws one line on a terminal and writes plain lines elsewhere', () => {
    const tty: string[] = [],
      plain: string[] = [];
    const p = new Progress({ write: (s: string) => tty.push(s), isTTY: true, columns: 100 }, 4, 'lstm-ae');
    p.epoch({ epoch: 0, loss: 0.5, valLoss: 0.25, seconds: 2 });
    p.end();
    expect(tty[0]).to.match(
      // eslint-disable-next-line no-control-regex -- the progress bar's ANSI erase-line sequence is what is tested
      /^\r\x1b\[Ktraining lstm-ae {2}━{8}─{22} {2}1\/4 {2}loss 0\.5000 {2}val 0\.2500 {2}ETA 0:06$/,
    );
    expect(tty[2]).to.equal(
      'trained lstm-ae: 1/4 epochs in 2.0 s (stopped early: the validation loss stopped improving)\n',
    );
    const q = new Progress({ write: (s: string) => plain.push(s) }, 2, 'gru-ae');
    q.epoch({ epoch: 0, loss: 0.5, seconds: 1 });
    expect(plain[0]).to.equal('epoch 1/2  loss 0.500000  1.0s  ETA 1s\n');
    new Progress(null, 2, 'x').epoch({ epoch: 0, loss: 1, seconds: 1 });
  });
});

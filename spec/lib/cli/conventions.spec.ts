/**
 * Command-line conventions, through the real program a user runs (bin/bptt.js, spawned with node): `-` reads the CSV
 * from stdin (piped, redirected from a file, or arriving slowly), `--json` turns every error (and warning, and progress
 * line) on stderr into a line of JSON with the same exit code, and `bptt -v`/`--version`/`version` print the version in
 * package.json.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot } from '../../helpers/repo';
import { reportError } from '../../../lib/cli/main';
import { errorJSON, UserError } from '../../../lib/cli/errors';
import type { Context } from '../../../lib/cli/context';
import { ArgumentError, ModelFileError } from '../../../lib/errors';

const ROOT = repoRoot();
const BIN = path.join(ROOT, 'bin', 'bptt.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/bptt.js with `input` piped to its stdin (or stdin from the open file descriptor `fd`). */
function bptt(args: string[], input?: string | { fd: number }, cwd = ROOT): Run {
  const stdin = input !== undefined && typeof input === 'object' ? input.fd : 'pipe';
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: [stdin, 'pipe', 'pipe'],
    ...(typeof input === 'string' ? { input } : {}),
    timeout: 120000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A univariate series with timestamps, a spike at 300 and an empty cell when `gap`. */
function series(n: number, gap = false): string {
  const lines = ['timestamp,value'];
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 0; i < n; i++) {
    const v = 10 + 3 * Math.sin(i / 7) + 0.01 * ((i * 7919) % 101) + (i === 300 ? 8 : 0);
    const t = new Date(t0 + i * 60000).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`${t},${gap && i === 200 ? '' : v.toFixed(4)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The error line of a --json run: the last line of stderr, parsed. */
function jsonError(r: Run): Record<string, unknown> {
  const lines = r.stderr.trim().split('\n');
  const doc = JSON.parse(lines[lines.length - 1]) as { error: Record<string, unknown> };
  expect(doc).to.have.keys(['error']);
  return doc.error;
}

const FAST = ['--model', 'zscore', '--window', '16', '--threshold', 'quantile:0.99'];

describe('bptt command-line conventions (bin/bptt.js spawned)', function () {
  this.timeout(120000);
  let dir: string;
  let data: string;
  let text: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-conventions-'));
    text = series(600);
    data = path.join(dir, 'data.csv');
    fs.writeFileSync(data, text);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('version', () => {
    it("bptt -v, --version and version print package.json's version and exit 0", () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
      for (const args of [['-v'], ['--version'], ['version']]) {
        const r = bptt(args);
        expect(r.code, args.join(' ')).to.equal(0);
        expect(r.stdout).to.equal(`bptt ${pkg.version}\n`);
        expect(r.stderr).to.equal('');
      }
      const j = bptt(['version', '--json']);
      expect(j.code).to.equal(0);
      expect(JSON.parse(j.stdout)).to.deep.equal({ name: 'bptt', version: pkg.version });
    });

    it('--help lists the version command, -v, stdin and --json errors', () => {
      const r = bptt(['--help']);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/^ {2}version +print the version \(also bptt -v, bptt --version\)$/m);
      expect(r.stdout).to.match(/may be - to read the CSV from stdin/);
      expect(r.stdout).to.match(/With --json, errors .* JSON/);
    });

    it('version takes no argument but --json', () => {
      const r = bptt(['version', 'extra']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/^bptt: version: unexpected argument "extra"/);
    });
  });

  describe('- reads the CSV from stdin', () => {
    it('detect -: the same flags and summary as from the file, named <stdin>', () => {
      const file = bptt(['detect', data, ...FAST, '-q']);
      const piped = bptt(['detect', '-', ...FAST, '-q'], text);
      expect(file.code, file.stderr).to.equal(0);
      expect(piped.code, piped.stderr).to.equal(0);
      expect(piped.stdout).to.equal(file.stdout);
      expect(piped.stdout.split('\n').filter((l) => l.endsWith(',1')).length).to.be.above(0); // the spike is flagged

      const jf = JSON.parse(bptt(['detect', data, ...FAST, '--json'], '').stdout) as Record<string, unknown>;
      const jp = JSON.parse(bptt(['detect', '-', ...FAST, '--json'], text).stdout) as Record<string, unknown>;
      expect(jp.file).to.equal('<stdin>');
      expect(jp.events).to.deep.equal(jf.events);
      expect(jp.rows).to.equal(600);
    });

    it('detect < file (stdin a redirected file) and stdin arriving slowly in pieces read the same', async () => {
      const expected = bptt(['detect', data, ...FAST, '-q']).stdout;
      const fd = fs.openSync(data, 'r');
      try {
        const r = bptt(['detect', '-', ...FAST, '-q'], { fd });
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(expected);
      } finally {
        fs.closeSync(fd);
      }
      // A pipe that is empty when bptt first reads it, then fed in three pieces, one cut mid-line.
      const child = spawn(process.execPath, [BIN, 'detect', '-', ...FAST, '-q'], { cwd: ROOT });
      let out = '',
        err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const done = new Promise<number | null>((resolve) => child.on('close', resolve));
      const cut1 = text.indexOf('\n', 2000) + 5,
        cut2 = Math.floor(text.length * 0.7);
      const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
      await wait(200);
      child.stdin.write(text.slice(0, cut1));
      await wait(200);
      child.stdin.write(text.slice(cut1, cut2));
      await wait(200);
      child.stdin.end(text.slice(cut2));
      expect(await done, err).to.equal(0);
      expect(out).to.equal(expected);
    });

    it('fit - and score -: a model trained from stdin scores like one trained from the file', () => {
      const m1 = path.join(dir, 'm-file.json'),
        m2 = path.join(dir, 'm-stdin.json');
      expect(bptt(['fit', data, ...FAST, '--save', m1, '-q']).code).to.equal(0);
      const f = bptt(['fit', '-', ...FAST, '--save', m2, '--json'], text);
      expect(f.code, f.stderr).to.equal(0);
      expect((JSON.parse(f.stdout) as { file: string }).file).to.equal('<stdin>');
      const strip = (file: string): unknown => {
        const { cli, ...rest } = JSON.parse(fs.readFileSync(file, 'utf8')) as { cli: { trainedOn: string } };
        return { rest, trainedOn: cli.trainedOn };
      };
      const a = strip(m1) as { rest: unknown; trainedOn: string },
        b = strip(m2) as { rest: unknown; trainedOn: string };
      expect(b.rest).to.deep.equal(a.rest);
      expect(b.trainedOn).to.equal('<stdin> (600 rows)');

      const live = series(900);
      const liveFile = path.join(dir, 'live.csv');
      fs.writeFileSync(liveFile, live);
      const sf = bptt(['score', liveFile, '--model', m1, '-q']);
      const sp = bptt(['score', '-', '--model', m1, '-q'], live);
      expect(sf.code, sf.stderr).to.equal(0);
      expect(sp.code, sp.stderr).to.equal(0);
      expect(sp.stdout).to.equal(sf.stdout);
      expect(sp.stdout.split('\n').length).to.equal(902); // header, 900 rows, final newline
    });

    it('score - streams a stdin longer than the 1 MiB read chunk', () => {
      const m = path.join(dir, 'm-big.json');
      expect(bptt(['fit', data, ...FAST, '--save', m, '-q']).code).to.equal(0);
      const big = series(60000);
      expect(big.length).to.be.above(1 << 20);
      const r = bptt(['score', '-', '--model', m, '--json'], big);
      expect(r.code, r.stderr).to.equal(0);
      const j = JSON.parse(r.stdout) as { rows: number; file: string };
      expect(j.rows).to.equal(60000);
      expect(j.file).to.equal('<stdin>');
    });

    it('report -: draws the report of a flags CSV piped from detect', () => {
      const flags = bptt(['detect', data, ...FAST, '-q']).stdout;
      const html = path.join(dir, 'r.html');
      const r = bptt(['report', '-', '-o', html], flags);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(/^bptt report: <stdin>: 600 rows, [1-9]\d* events?/m);
      expect(fs.readFileSync(html, 'utf8')).to.contain('&lt;stdin&gt;');
      const j = bptt(['report', '-', '-o', html, '--json'], flags);
      expect(j.code, j.stderr).to.equal(0);
      const summary = JSON.parse(j.stdout) as { file: string; rows: number; events: unknown[]; outputs: unknown };
      expect(summary).to.include({ file: '<stdin>', rows: 600 });
      expect(summary.events.length).to.equal(Number(/(\d+) events?/.exec(r.stderr)?.[1]));
      expect(summary.outputs).to.deep.equal({ report: html });
    });

    it('at most one -, only where a CSV is read, never as an output: each refused naming the argument', () => {
      const cases: Array<[string[], RegExp, string]> = [
        [
          ['detect', '-', '--train', '-', ...FAST],
          /detect: the input file and --train are both - \(stdin\)/,
          '--train',
        ],
        [
          ['score', 'x.csv', '--model', '-'],
          /score: --model cannot be read from stdin \(-\); give a file path/,
          '--model',
        ],
        [['detect', '-', '--out', '-', ...FAST], /detect: --out -: an output cannot be - \(stdout\)/, '--out'],
        [['fit', '-', '--save', '-'], /fit: --save -: an output cannot be -/, '--save'],
        [['report', '-', '-o', '-'], /report: --out -: an output cannot be -/, '--out'],
      ];
      for (const [args, re, argument] of cases) {
        const r = bptt(args, text);
        expect(r.code, args.join(' ')).to.equal(1);
        expect(r.stderr).to.match(re);
        const j = jsonError(bptt([...args, '--json'], text));
        expect(j).to.include({ type: 'UserError', argument, actual: '-' });
        expect(j.message).to.match(re);
      }
    });

    it('--train - with the data from a file', () => {
      const train = series(300);
      const r = bptt(['detect', data, '--train', '-', ...FAST, '--json'], train);
      expect(r.code, r.stderr).to.equal(0);
      expect((JSON.parse(r.stdout) as { train: { from: string } }).train.from).to.equal('<stdin> (300 rows)');
    });
  });

  describe('--json errors on stderr', () => {
    it('a malformed CSV on stdin: one JSON object with the file, line and column; exit 1 as without --json', () => {
      const bad = text.replace(/\n(2024-01-01 00:07:00),[^\n]*/, '\n$1,oops');
      const plain = bptt(['detect', '-', ...FAST], bad);
      expect(plain.code).to.equal(1);
      expect(plain.stderr).to.equal(
        'bptt: <stdin> line 9, column 2 ("value"): "oops" is not a number (leave the cell empty for a missing value)\n',
      );
      const r = bptt(['detect', '-', ...FAST, '--json'], bad);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(JSON.parse(r.stderr)).to.deep.equal({
        error: {
          type: 'CsvError',
          message: plain.stderr.slice('bptt: '.length, -1),
          file: '<stdin>',
          line: 9,
          column: 2,
          columnName: 'value',
        },
      });
      // a ragged row: a line, no column
      const r2 = bptt(['detect', '-', ...FAST, '--json'], 'timestamp,value\n1,2\n2,3,4\n');
      expect(r2.code).to.equal(1);
      expect(jsonError(r2)).to.include({ type: 'CsvError', file: '<stdin>', line: 3 });
    });

    it('option errors carry the argument, what was expected and what came', () => {
      const r = bptt(['detect', data, '--window', 'ten', '--json']);
      expect(r.code).to.equal(1);
      expect(jsonError(r)).to.deep.equal({
        type: 'UserError',
        message: '--window: expected a positive integer, got "ten"',
        argument: '--window',
        expected: 'a positive integer',
        actual: '"ten"',
      });
      const u = jsonError(bptt(['detect', data, '--bogus', '--json']));
      expect(u).to.include({ type: 'UserError', argument: '--bogus' });
      const c = bptt(['frobnicate', '--json']);
      expect(c.code).to.equal(1);
      expect(jsonError(c)).to.include({ type: 'UserError', argument: 'command', actual: 'frobnicate' });
    });

    it("a library error keeps its type and fields (a model file's ModelFileError)", () => {
      const broken = path.join(dir, 'broken.json');
      fs.writeFileSync(broken, JSON.stringify({ format: 'bptt-detector', version: 1, options: { window: -3 } }));
      const plain = bptt(['score', data, '--model', broken]);
      expect(plain.code).to.equal(1);
      const r = bptt(['score', data, '--model', broken, '--json']);
      expect(r.code).to.equal(1);
      const j = jsonError(r);
      expect(j.type).to.be.oneOf(['ModelFileError', 'ArgumentError']);
      expect(j.message).to.equal(plain.stderr.slice('bptt: '.length).trim());
      expect(j.argument).to.be.a('string');
    });

    it('warnings are JSON lines too, before the summary on stdout', () => {
      const r = bptt(['detect', '-', ...FAST, '--json'], series(600, true));
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { warning?: { message: string } });
      expect(lines.length).to.be.above(0);
      expect(lines[0].warning?.message).to.match(/^<stdin>: 1 empty cell \(column "value": 1\) treated as missing/);
      expect((JSON.parse(r.stdout) as { warnings: string[] }).warnings).to.deep.equal(
        lines.map((l) => l.warning?.message),
      );
    });

    it('an internal error is JSON with its stack, exit 2; without --json the text form is unchanged', () => {
      let err = '';
      const ctx: Context = {
        out: () => undefined,
        err: (s) => {
          err += s;
        },
        errSink: { write: () => true },
        quiet: true,
        json: true,
      };
      expect(reportError(ctx, new TypeError('x is not a function'))).to.equal(2);
      const j = (JSON.parse(err) as { error: Record<string, unknown> }).error;
      expect(j).to.include({ type: 'InternalError', name: 'TypeError', message: 'x is not a function' });
      expect(j.stack).to.match(/\n\s+at /);
      err = '';
      expect(reportError({ ...ctx, json: false }, new TypeError('x is not a function'))).to.equal(2);
      expect(err).to.match(/^bptt: internal error: x is not a function\n/);
    });

    it('errorJSON: the fields of each library error', () => {
      const a = errorJSON(new ArgumentError('Detector(window)', 'a positive integer', '0')).error;
      expect(a).to.deep.equal({
        type: 'ArgumentError',
        message: 'Detector(window): expected a positive integer, got 0',
        argument: 'Detector(window)',
        expected: 'a positive integer',
        actual: '0',
        problem: 'expected a positive integer, got 0',
      });
      const m = errorJSON(new ModelFileError('m.json', 'not a bptt detector')).error;
      expect(m).to.include({ type: 'ModelFileError', file: 'm.json', message: 'm.json: not a bptt detector' });
      const u = errorJSON(new UserError('--x: bad', { argument: '--x', expected: 'good', actual: '"bad"' })).error;
      expect(u).to.deep.equal({
        type: 'UserError',
        message: '--x: bad',
        argument: '--x',
        expected: 'good',
        actual: '"bad"',
      });
    });
  });
});

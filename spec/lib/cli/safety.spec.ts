/**
 * What the `bptt` command line guarantees about the user's files, end to end on real files in a temp directory: it
 * never overwrites an input (however the path is spelled), several outputs change together or not at all, temp files
 * of killed runs are cleaned by the next run, and bad numbers and sizes are refused with exit code 1 and a message.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OutputSet } from '../../../lib/cli/output';
import { UserError } from '../../../lib/cli/errors';
import { CLI_MAIN, type Run, runCli, expectUserError } from '../../helpers/repo';

const MAIN = CLI_MAIN;
const bptt = (args: string[], cwd: string): Run => runCli(args, { cwd });

/** A pid that no process has: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe("bptt command line: safety of the user's files (spawned)", function () {
  this.timeout(120000);
  let dir: string;
  let data: string;
  let dataText: string;
  const Z = ['--model', 'zscore', '--window', '8', '--threshold', 'sigma:4', '-q'];

  before(() => {
    expect(fs.existsSync(MAIN), `${MAIN} (build first)`).to.equal(true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-safety-'));
    data = path.join(dir, 'data.csv');
    const lines = ['timestamp,a'];
    for (let i = 0; i < 400; i++) lines.push(`${i},${(10 + 3 * Math.sin(i / 5) + (i === 300 ? 9 : 0)).toFixed(4)}`);
    dataText = `${lines.join('\n')}\n`;
    fs.writeFileSync(data, dataText);
  });
  // A fresh data file (and hard link to it) for every test, so a test that fails by overwriting it spoils no other.
  beforeEach(() => {
    for (const f of [data, path.join(dir, 'hard.csv')]) fs.rmSync(f, { force: true });
    fs.writeFileSync(data, dataText);
    fs.linkSync(data, path.join(dir, 'hard.csv'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Every entry of `d` whose name ends in .tmp (a staged or stale temp file). */
  const temps = (d = dir): string[] => fs.readdirSync(d).filter((f) => f.endsWith('.tmp'));

  describe('an output is never one of the inputs, nor another output', () => {
    let sub: string;
    let model: string;
    let labels: string;
    let flagsText: string;
    before(() => {
      sub = path.join(dir, 'sub');
      fs.mkdirSync(sub);
      fs.symlinkSync(data, path.join(dir, 'link.csv'));
      model = path.join(dir, 'z.json');
      expect(bptt(['fit', 'data.csv', '--save', model, ...Z], dir).code).to.equal(0);
      labels = path.join(dir, 'labels.json');
      fs.writeFileSync(labels, JSON.stringify([[290, 310]]));
      fs.writeFileSync(path.join(dir, 'other.csv'), dataText);
      expect(bptt(['detect', 'data.csv', '--out', 'flags0.csv', ...Z], dir).code).to.equal(0);
      flagsText = fs.readFileSync(path.join(dir, 'flags0.csv'), 'utf8');
    });

    const cases: Array<[string, string[], string, RegExp]> = [
      [
        'detect --out = the input',
        ['detect', 'data.csv', '--out', 'data.csv'],
        '',
        /detect: --out data\.csv is the input file data\.csv: refusing to overwrite an input/,
      ],
      [
        'detect --out = ./input',
        ['detect', 'data.csv', '--out', './data.csv'],
        '',
        /--out \.\/data\.csv is the input file data\.csv/,
      ],
      [
        'detect --out through a symlink',
        ['detect', 'data.csv', '--out', 'link.csv'],
        '',
        /--out link\.csv is the input file data\.csv \(both are .*\/data\.csv\): refusing to overwrite an input/,
      ],
      [
        'detect --out = a hard link',
        ['detect', 'data.csv', '--out', 'hard.csv'],
        '',
        /--out hard\.csv is the input file data\.csv \(hard links to one file\)/,
      ],
      [
        'detect --out = ../dir/input from a subdirectory',
        ['detect', '../data.csv', '--out', '../sub/../data.csv'],
        'sub',
        /--out \.\.\/sub\/\.\.\/data\.csv is the input file \.\.\/data\.csv/,
      ],
      [
        'detect --report = the input',
        ['detect', 'data.csv', '--report', 'data.csv'],
        '',
        /--report data\.csv is the input file data\.csv/,
      ],
      [
        'detect --save = the input',
        ['detect', 'data.csv', '--save', 'link.csv'],
        '',
        /--save link\.csv is the input file data\.csv/,
      ],
      [
        'detect --out = --train',
        ['detect', 'other.csv', '--train', 'data.csv', '--out', 'data.csv'],
        '',
        /--out data\.csv is --train data\.csv/,
      ],
      [
        'detect --report = --labels',
        ['detect', 'data.csv', '--labels', 'labels.json', '--report', 'labels.json'],
        '',
        /--report labels\.json is --labels labels\.json/,
      ],
      [
        'detect --out = --report',
        ['detect', 'data.csv', '--out', 'x.csv', '--report', './x.csv'],
        '',
        /--out x\.csv and --report \.\/x\.csv are the same file; give each output its own path/,
      ],
      [
        'fit --save = the input',
        ['fit', 'data.csv', '--save', 'data.csv'],
        '',
        /fit: --save data\.csv is the input file data\.csv/,
      ],
      [
        'score --out = the input',
        ['score', 'data.csv', '--model', 'z.json', '--out', 'link.csv'],
        '',
        /score: --out link\.csv is the input file data\.csv/,
      ],
      [
        'score --out = --model',
        ['score', 'data.csv', '--model', 'z.json', '--out', 'z.json'],
        '',
        /score: --out z\.json is --model z\.json/,
      ],
      [
        'report -o = the input',
        ['report', 'flags0.csv', '-o', './flags0.csv'],
        '',
        /report: --out \.\/flags0\.csv is the flags file flags0\.csv/,
      ],
      [
        'report -o = --labels',
        ['report', 'flags0.csv', '-o', 'labels.json', '--labels', 'labels.json'],
        '',
        /report: --out labels\.json is --labels labels\.json/,
      ],
    ];
    for (const [label, args, cwd, re] of cases) {
      it(label, () => {
        fs.writeFileSync(labels, JSON.stringify([[290, 310]]));
        fs.writeFileSync(path.join(dir, 'flags0.csv'), flagsText);
        const before = [model, path.join(dir, 'flags0.csv')].map((f) => fs.readFileSync(f, 'utf8'));
        expectUserError(
          bptt(
            [...args, ...(args[0] === 'report' ? ['-q'] : Z.slice(args[0] === 'score' ? 6 : 0))],
            path.join(dir, cwd),
          ),
          re,
        );
        expect(fs.readFileSync(data, 'utf8'), 'the input is unchanged').to.equal(dataText);
        expect(fs.readFileSync(labels, 'utf8')).to.equal(JSON.stringify([[290, 310]]));
        expect([model, path.join(dir, 'flags0.csv')].map((f) => fs.readFileSync(f, 'utf8'))).to.deep.equal(before);
        expect(fs.existsSync(path.join(dir, 'x.csv'))).to.equal(false);
        expect(temps()).to.deep.equal([]);
      });
    }

    it('demo: two outputs linked to one file are refused before anything is written', () => {
      const out = path.join(dir, 'demo-linked');
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, 'bptt-demo-data.csv'), 'old\n');
      fs.symlinkSync('bptt-demo-data.csv', path.join(out, 'bptt-demo-flags.csv'));
      expectUserError(
        bptt(['demo', '--out-dir', out, '-q'], dir),
        /demo: the data file .*bptt-demo-data\.csv and the flags file .*bptt-demo-flags\.csv are the same file/,
      );
      expect(fs.readFileSync(path.join(out, 'bptt-demo-data.csv'), 'utf8')).to.equal('old\n');
      expect(fs.readdirSync(out).sort()).to.deep.equal(['bptt-demo-data.csv', 'bptt-demo-flags.csv']);
    });

    it('distinct paths still work, and an output may replace an earlier output', () => {
      const r = bptt(['detect', 'data.csv', '--out', 'flags.csv', '--report', 'flags.html', ...Z], dir);
      expect(r.code, r.stderr).to.equal(0);
      const r2 = bptt(['report', 'flags.csv', '-o', 'flags.html', '-q'], dir);
      expect(r2.code, r2.stderr).to.equal(0);
      expect(fs.readFileSync(path.join(dir, 'flags.html'), 'utf8')).to.match(/^<!DOCTYPE html>/);
      expect(temps()).to.deep.equal([]);
    });
  });

  describe('several outputs: all new, or none changed', () => {
    it('detect --out and --report: when the report cannot be written, the flags file is neither created nor changed', () => {
      const blocker = path.join(dir, 'a-file');
      fs.writeFileSync(blocker, 'x');
      const flags = path.join(dir, 'aon-flags.csv');
      expectUserError(
        bptt(['detect', data, '--out', flags, '--report', path.join(blocker, 'r.html'), ...Z], dir),
        /cannot write .*a-file\/r\.html: a part of the path is not a directory/,
      );
      expect(fs.existsSync(flags)).to.equal(false);
      fs.writeFileSync(flags, 'old flags\n');
      expectUserError(
        bptt(
          [
            'detect',
            data,
            '--out',
            flags,
            '--save',
            path.join(blocker, 'm.json'),
            '--report',
            path.join(dir, 'aon.html'),
            ...Z,
          ],
          dir,
        ),
        /cannot write .*a-file\/m\.json/,
      );
      expect(fs.readFileSync(flags, 'utf8')).to.equal('old flags\n');
      expect(fs.existsSync(path.join(dir, 'aon.html'))).to.equal(false);
      expect(temps()).to.deep.equal([]);
    });

    it('demo: when one of its four files cannot be written, none of the others is', () => {
      const out = path.join(dir, 'demo-blocked');
      fs.mkdirSync(path.join(out, 'bptt-demo-report.html'), { recursive: true });
      fs.writeFileSync(path.join(out, 'bptt-demo-report.html', 'inside'), 'keep');
      expectUserError(
        bptt(['demo', '--out-dir', out, '--epochs', '1', '-q'], dir),
        /cannot write .*bptt-demo-report\.html: it is a directory/,
      );
      expect(fs.readdirSync(out)).to.deep.equal(['bptt-demo-report.html']);
    });

    it('OutputSet.commit: a rename that fails part way puts back the outputs already replaced (in process)', () => {
      const d = fs.mkdtempSync(path.join(dir, 'set-'));
      const a = path.join(d, 'a.csv'),
        b = path.join(d, 'b.html'),
        c = path.join(d, 'c.json');
      fs.writeFileSync(a, 'old a');
      const set = new OutputSet();
      set.open(a).write('new a');
      set.open(c).write('new c');
      set.open(b).write('new b');
      // b becomes a non-empty directory after staging: its rename fails after a and c are in place.
      fs.mkdirSync(b);
      fs.writeFileSync(path.join(b, 'x'), 'x');
      expect(() => set.commit()).to.throw(UserError, /cannot write .*b\.html: .*; no output was changed/);
      expect(fs.readFileSync(a, 'utf8')).to.equal('old a');
      expect(fs.existsSync(c)).to.equal(false);
      expect(fs.readdirSync(d).sort()).to.deep.equal(['a.csv', 'b.html']);
      set.abort();
      expect(fs.readdirSync(d).sort()).to.deep.equal(['a.csv', 'b.html']);
    });

    it('OutputSet: abort removes every staged file; commit replaces all targets, keeping none of the old ones', () => {
      const d = fs.mkdtempSync(path.join(dir, 'set-'));
      const a = path.join(d, 'a'),
        b = path.join(d, 'b');
      fs.writeFileSync(a, 'old');
      const s1 = new OutputSet();
      s1.open(a).write('x');
      s1.open(b).write('y');
      expect(fs.readdirSync(d).filter((f) => f.endsWith('.tmp')).length).to.equal(2);
      s1.abort();
      expect(fs.readdirSync(d).sort()).to.deep.equal(['a']);
      const s2 = new OutputSet();
      s2.open(a).write('new a');
      s2.open(b).write('new b');
      s2.commit();
      expect([fs.readFileSync(a, 'utf8'), fs.readFileSync(b, 'utf8')]).to.deep.equal(['new a', 'new b']);
      expect(fs.readdirSync(d).sort()).to.deep.equal(['a', 'b']);
    });
  });

  describe('temp files', () => {
    it("a run removes the temp files of its outputs left by dead processes, and keeps a live process's", () => {
      const out = path.join(dir, 'tf-flags.csv');
      const dead = path.join(dir, `.tf-flags.csv.bptt-${deadPid()}-0123456789ab.tmp`);
      const oldForm = path.join(dir, `.tf-flags.csv.${deadPid()}.abcdef012345.tmp`);
      const live = path.join(dir, `.tf-flags.csv.bptt-${process.pid}-0123456789ab.tmp`); // this test runner: alive
      const other = path.join(dir, `.other.csv.bptt-${deadPid()}-0123456789ab.tmp`); // another target's
      for (const f of [dead, oldForm, live, other]) fs.writeFileSync(f, 'partial');
      const r = bptt(['detect', data, '--out', out, ...Z], dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(fs.existsSync(dead), 'dead pid').to.equal(false);
      expect(fs.existsSync(oldForm), 'dead pid, older name').to.equal(false);
      expect(fs.existsSync(live), 'live pid').to.equal(true);
      expect(fs.existsSync(other), 'another target').to.equal(true);
      fs.rmSync(live);
      fs.rmSync(other);
      expect(temps()).to.deep.equal([]);
    });

    it('a killed score leaves its temp file; the next run removes it', async () => {
      const big = path.join(dir, 'kill-big.csv');
      const fd = fs.openSync(big, 'w');
      let chunk = 'timestamp,a\n';
      for (let i = 0; i < 300000; i++) {
        chunk += `${i},${(10 + 3 * Math.sin(i / 5)).toFixed(4)}\n`;
        if (chunk.length > 1 << 20) {
          fs.writeSync(fd, chunk);
          chunk = '';
        }
      }
      fs.writeSync(fd, chunk);
      fs.closeSync(fd);
      const model = path.join(dir, 'kill-model.json');
      expect(bptt(['fit', data, '--save', model, ...Z], dir).code).to.equal(0);
      const out = path.join(dir, 'kill-flags.csv');
      const pattern = new RegExp(`^\\.${esc('kill-flags.csv')}\\..*\\.tmp$`);
      const child: ChildProcess = spawn(process.execPath, [MAIN, 'score', big, '--model', model, '--out', out, '-q'], {
        stdio: 'ignore',
      });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      // Wait until the temp file has some rows in it, then kill the process without a chance to clean up.
      let seen: string | undefined;
      for (let k = 0; k < 6000 && seen === undefined; k++) {
        await new Promise((r) => setTimeout(r, 10));
        seen = fs.readdirSync(dir).find((f) => pattern.test(f) && fs.statSync(path.join(dir, f)).size > 0);
        if (child.exitCode !== null) break;
      }
      expect(seen, 'score wrote to a temp file').to.be.a('string');
      child.kill('SIGKILL');
      await exited;
      expect(fs.existsSync(path.join(dir, seen as string)), 'left behind by the killed run').to.equal(true);
      expect(fs.existsSync(out)).to.equal(false);
      const r = bptt(['score', data, '--model', model, '--out', out, '-q'], dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(fs.existsSync(path.join(dir, seen as string)), 'removed by the next run').to.equal(false);
      expect(fs.readFileSync(out, 'utf8').split('\n').length).to.equal(402);
      expect(temps()).to.deep.equal([]);
      fs.rmSync(big);
    });

    it('a temp file given as an input is refused, so its later cleanup cannot delete an input', () => {
      const t = path.join(dir, `.in.csv.bptt-${deadPid()}-0123456789ab.tmp`);
      fs.writeFileSync(t, dataText);
      expectUserError(
        bptt(['detect', t, '--out', 'in.csv', ...Z], dir),
        /detect: the input file .*\.in\.csv\.bptt-\d+-0123456789ab\.tmp is a temp file that an interrupted bptt run \(pid \d+\) left while writing in\.csv/,
      );
      expect(fs.readFileSync(t, 'utf8')).to.equal(dataText);
      fs.rmSync(t);
    });
  });

  describe('numbers and sizes', () => {
    it('--epochs 0 is refused: it would flag anomalies with an untrained network', () => {
      for (const cmd of [
        ['detect', 'data.csv'],
        ['fit', 'data.csv', '--save', 'e0.json'],
        ['demo', '--out-dir', 'e0'],
      ]) {
        expectUserError(
          bptt([...cmd, '--epochs', '0', '-q'], dir),
          /--epochs: expected a positive integer, got "0" \(0 epochs train nothing/,
        );
      }
      expect(fs.existsSync(path.join(dir, 'e0.json'))).to.equal(false);
      expect(fs.existsSync(path.join(dir, 'e0'))).to.equal(false);
    });

    it('a negative number given to a numeric option gets that option\'s own message, not "needs a value"', () => {
      const cases: Array<[string[], RegExp]> = [
        [['detect', 'data.csv', '--window', '-5'], /--window: expected a positive integer, got "-5"/],
        [
          ['detect', 'data.csv', '--hidden', '-32'],
          /--hidden: expected a positive integer or a list like 32,8, got "-32"/,
        ],
        [['detect', 'data.csv', '--epochs', '-1'], /--epochs: expected a positive integer, got "-1"/],
        [['detect', 'data.csv', '--min-gap', '-2'], /--min-gap: expected a non-negative integer, got "-2"/],
        [['detect', 'data.csv', '--workers', '-4'], /--workers: expected a positive integer or auto, got "-4"/],
        [
          ['detect', 'data.csv', '--train-fraction', '-0.5'],
          /--train-fraction: expected a fraction between 0 and 1 \(exclusive\), got "-0.5"/,
        ],
        [['detect', 'data.csv', '--train-fraction', '-.5'], /--train-fraction: expected a fraction .*got "-.5"/],
        [
          ['fit', 'data.csv', '--save', 'n.json', '--window', '-1e3'],
          /--window: expected a positive integer, got "-1e3"/,
        ],
        [
          ['demo', '--out-dir', 'neg', '--hidden', '-Infinity'],
          /--hidden: expected a positive integer .*got "-Infinity"/,
        ],
        [['report', 'data.csv', '--min-gap', '-1'], /--min-gap: expected a non-negative integer, got "-1"/],
      ];
      for (const [args, re] of cases) {
        const r = bptt(args, dir);
        expectUserError(r, re);
        expect(r.stderr).not.to.match(/needs a value/);
      }
      expectUserError(bptt(['detect', 'data.csv', '--window'], dir), /option --window needs a value/);
    });

    it('a negative --seed is a valid seed', () => {
      const r = bptt(['detect', 'data.csv', '--seed', '-3', '--json', ...Z], dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout).model.seed).to.equal(-3);
    });

    it('--hidden 100000: exit 1 with the size needed and the limit, before allocating anything', () => {
      const r = bptt(['detect', 'data.csv', '--hidden', '100000', '--epochs', '1', '-q'], dir);
      expectUserError(
        r,
        /model 'lstm-ae' with window 32 and hidden 100000 cannot fit in memory: .*recurrent_kernel \[100000, 400000\] needs 149 GiB in one array, over the limit of 2 GiB per array \(MAX_ARRAY_BYTES\).*use a smaller --hidden or --window/,
      );
    });

    it('a model file whose repeatVector repeats 1e9 times, or whose dense layer has 1e9 units: exit 1 naming the file', () => {
      const model = path.join(dir, 'ae.json');
      const fit = bptt(
        [
          'fit',
          'data.csv',
          '--save',
          model,
          '--model',
          'lstm-ae',
          '--window',
          '8',
          '--hidden',
          '4',
          '--epochs',
          '1',
          '-q',
        ],
        dir,
      );
      expect(fit.code, fit.stderr).to.equal(0);
      const doc = JSON.parse(fs.readFileSync(model, 'utf8'));
      const layers = doc.model.layers as Array<{ className: string; config: Record<string, unknown> }>;
      const rep = layers.find((l) => l.className === 'RepeatVector');
      expect(rep, 'the autoencoder has a RepeatVector').to.not.equal(undefined);
      (rep as { config: Record<string, unknown> }).config['n'] = 1e9;
      const big = path.join(dir, 'repeat-1e9.json');
      fs.writeFileSync(big, JSON.stringify(doc));
      expectUserError(
        bptt(['score', 'data.csv', '--model', big, '-q'], dir),
        /--model: .*repeat-1e9\.json: the model is too large to allocate .*needs [\d.]+ [GTP]iB .*over (the|its) limit of [24] GiB/,
      );
      (rep as { config: Record<string, unknown> }).config['n'] = 8;
      const dense = JSON.parse(JSON.stringify(doc));
      const td = (
        dense.model.layers as Array<{ className: string; config: { layer: { config: Record<string, unknown> } } }>
      ).find((l) => l.className === 'TimeDistributed');
      expect(td, 'the autoencoder ends in TimeDistributed(Dense)').to.not.equal(undefined);
      (td as { config: { layer: { config: Record<string, unknown> } } }).config.layer.config['units'] = 1e9;
      const wide = path.join(dir, 'units-1e9.json');
      fs.writeFileSync(wide, JSON.stringify(dense));
      expectUserError(
        bptt(['score', 'data.csv', '--model', wide, '-q'], dir),
        /--model: .*units-1e9\.json: the model is too large to allocate \(input \[8, 1\], batch 1, float32\): .* needs [\d.]+ GiB in one array, over the limit of 2 GiB per array/,
      );
    });
  });
});

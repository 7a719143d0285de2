/**
 * Huge numbers in CSV input, through the reader and the real command line. A cell beyond the range of a double (1e400
 * reads as Infinity) is an error at its file, line and column; finite values of any size (1e160, 1e308, -1.7e308) are
 * read as they are, and the detector flags them (its normalised values saturate, see lib/detect/preprocess.ts).
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readTable, parseValue } from '../../../lib/cli/csv';
import { UserError } from '../../../lib/cli/errors';

/** The compiled CLI of the out dir this spec was compiled into (what bin/bptt.js runs). */
const MAIN = path.resolve(__dirname, '../../../lib/cli/main.js');

function bptt(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** 400 rows of a smooth series with `cell` written at row index `at` (line at + 2 of the file). */
function series(cell: string, at = 299): string {
  const lines = ['timestamp,value'];
  for (let i = 0; i < 400; i++) {
    const t = `2020-01-01 ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`;
    lines.push(`${t},${i === at ? cell : (Math.sin(i / 5) + 0.01 * Math.cos(1.3 * i)).toFixed(4)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The 0-based data rows flagged in a flags CSV written by `bptt detect`. */
function flagged(csv: string): number[] {
  const rows = csv
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
  return rows.flatMap((r, i) => (r[r.length - 1] === '1' ? [i] : []));
}

describe('lib/cli/csv: numbers beyond the double range', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-csv-overflow-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };

  it('parseValue refuses a number that reads as ±Infinity, keeps huge finite ones', () => {
    expect(parseValue('1e400')).to.equal(null);
    expect(parseValue('-1E999')).to.equal(null);
    expect(parseValue('1e308')).to.equal(1e308);
    expect(parseValue(' -1.7e308 ')).to.equal(-1.7e308);
    expect(parseValue('')).to.be.NaN;
  });

  it('readTable: 1e400 is an error naming the file, line and column; 1e308 is read as it is', () => {
    const f = write('e400.csv', series('1e400'));
    expect(() => readTable(f)).to.throw(
      UserError,
      `${f} line 301, column 2 ("value"): 1e400 is beyond the range of a double`,
    );
    const g = write('neg.csv', series('-1e999', 10));
    expect(() => readTable(g)).to.throw(
      UserError,
      `${g} line 12, column 2 ("value"): -1e999 is beyond the range of a double`,
    );
    const t = readTable(write('e308.csv', series('1e308')));
    expect(t.values[299]).to.equal(1e308);
    expect(t.values[298]).to.be.closeTo(Math.sin(298 / 5), 0.02);
  });

  it('readTable: a numeric time column beyond the double range is an error at its cell', () => {
    const f = write('time.csv', 't,value\n1,0.5\n2,0.7\n1e400,0.1\n4,0.2\n');
    expect(() => readTable(f)).to.throw(
      UserError,
      `${f} line 4, column 1 ("t"): timestamp 1e400 is beyond the range of a double`,
    );
  });

  it('a column whose only cells overflow is still a value column, reported at its first bad cell (not dropped as text)', () => {
    const f = write('allbig.csv', 'timestamp,a,b\n2020-01-01,1,1e400\n2020-01-02,2,1e500\n2020-01-03,3,1e600\n');
    expect(() => readTable(f)).to.throw(UserError, `${f} line 2, column 3 ("b"): 1e400 is beyond`);
  });

  it('bptt detect: 1e400 exits 1 naming file, line and column; no stack trace', () => {
    const f = write('cli-e400.csv', series('1e400'));
    const r = bptt(['detect', f, '--model', 'zscore', '--window', '8', '-q']);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.contain(`bptt: ${f} line 301, column 2 ("value"): 1e400 is beyond the range of a double`);
    expect(r.stderr).not.to.match(/\n\s+at /);
  });

  for (const model of ['zscore', 'lstm-ae']) {
    it(`bptt detect --model ${model}: 1e160, 1e308 (-1.7e308) are flagged like a plain 1e6 (-1e6) glitch, far rows as without it`, () => {
      const args = ['--model', model, '--window', '8', '--epochs', '2', '--seed', '1', '-q'];
      const out = (cell: string): number[] => {
        const f = write(`${model}-${cell}.csv`, series(cell));
        const o = path.join(dir, `${model}-${cell}.out.csv`);
        const r = bptt(['detect', f, ...args, '-o', o]);
        expect(r.code, `${cell}: ${r.stderr}`).to.equal(0);
        const text = fs.readFileSync(o, 'utf8');
        expect(text, `${cell}: no Infinity or NaN in the output`).not.to.match(/Infinity|NaN/);
        return flagged(text);
      };
      const glitch = out('1e6');
      const negative = out('-1e6');
      expect(glitch).to.include(299);
      expect(negative).to.include(299);
      for (const cell of ['1e160', '1e308']) expect(out(cell), cell).to.deep.equal(glitch);
      expect(out('-1.7e308'), '-1.7e308').to.deep.equal(negative);
      const clean = out('0.5');
      const far = (rows: number[]): number[] => rows.filter((i) => i < 299 - 8 || i > 299 + 8);
      expect(far(glitch)).to.deep.equal(far(clean));
      expect(far(negative)).to.deep.equal(far(clean));
    });
  }
});

/** The CLI's CSV reader on its own: records that straddle its 1 MiB read chunks, multi-byte characters, line numbers. */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CsvReader, csvField } from '../../../lib/cli/csv';
import { parseDate, timeTicks, NUMBER } from '../../../lib/cli/time';
import { makeRng } from '../../helpers/rng';

describe('lib/cli/csv', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-csv-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads back 3 MiB of random records (quotes, delimiters, line breaks, CRLF, é and 😀) with their line numbers', () => {
    const rng = makeRng('cli/csv');
    const pieces = ['a', 'b', ',', '"', '\n', '\r\n', 'é', '😀', ' ', '1', '.', ';'];
    const cell = (): string => {
      let s = '';
      const len = Math.floor(rng() * 12);
      for (let k = 0; k < len; k++) s += pieces[Math.floor(rng() * pieces.length)];
      return s;
    };
    const records: Array<{ fields: string[]; line: number }> = [];
    const parts: string[] = [];
    let line = 1,
      bytes = 0;
    while (bytes < 3 << 20) {
      const fields = [cell(), cell(), cell()];
      if (fields.every((f) => f.trim() === '')) fields[0] = 'x'; // a blank line is skipped, not a record
      const text = fields.map(csvField).join(',') + (rng() < 0.5 ? '\r\n' : '\n');
      // csvField quotes \r and \n, so a record's own line breaks are those inside its quoted fields.
      records.push({ fields, line });
      line += (text.match(/\n/g) ?? []).length;
      parts.push(text);
      bytes += Buffer.byteLength(text);
    }
    const file = path.join(dir, 'random.csv');
    fs.writeFileSync(file, parts.join(''));
    const r = CsvReader.open(file, ',');
    const got: Array<{ fields: string[]; line: number }> = [];
    for (let rec = r.next(); rec !== null; rec = r.next()) got.push(rec);
    expect(got.length).to.equal(records.length);
    for (let i = 0; i < records.length; i++) expect(got[i], `record ${i}`).to.deep.equal(records[i]);
  });

  it('sniffs the delimiter from the header and reports an unclosed quote at the line it opened', () => {
    const f = path.join(dir, 'tab.csv');
    fs.writeFileSync(f, 'time\tvalue\n1\t"2"\n');
    const r = CsvReader.open(f);
    expect(r.delimiter).to.equal('\t');
    expect(r.next()?.fields).to.deep.equal(['time', 'value']);
    expect(r.next()).to.deep.equal({ fields: ['1', '2'], line: 2 });
    expect(r.next()).to.equal(null);
    const g = path.join(dir, 'open.csv');
    fs.writeFileSync(g, 'a,b\n1,2\n3,"4\n5,6\n');
    const s = CsvReader.open(g);
    s.next();
    s.next();
    expect(() => s.next()).to.throw('open.csv line 3: a quoted field (field 2) is never closed');
  });
});

describe('lib/cli/time', () => {
  it('NUMBER matches in linear time: a 200 000-digit cell that is not a number is refused at once (found by the long fuzz run)', function () {
    // The former /\d+\.?\d*/ tried every split of the digits before failing: quadratic, minutes on this cell, so
    // mocha's timeout is what fails the old pattern; the new one has one way to match a run of digits.
    this.timeout(20000);
    const digits = '9'.repeat(200000);
    expect(NUMBER.test(`${digits}x`)).to.equal(false);
    expect(NUMBER.test(digits)).to.equal(true);
    for (const ok of ['1', '-1.5', '+.5', '1.', '1e5', '2.5E-3']) expect(NUMBER.test(ok), ok).to.equal(true);
    for (const bad of ['', '.', '1..2', 'e5', '1e', '--1', '1.2.3']) expect(NUMBER.test(bad), bad).to.equal(false);
  });

  it('parses dates with optional seconds, fractions and zones; rejects impossible ones', () => {
    expect(parseDate('2014-03-14 03:31:00.000000')).to.equal(Date.UTC(2014, 2, 14, 3, 31));
    expect(parseDate('2014-03-14T03:31Z')).to.equal(Date.UTC(2014, 2, 14, 3, 31));
    expect(parseDate('2014-03-14T05:31:00+02:00')).to.equal(Date.UTC(2014, 2, 14, 3, 31));
    expect(parseDate('2014/03/14')).to.equal(Date.UTC(2014, 2, 14));
    expect(parseDate('2014-02-30')).to.be.NaN;
    expect(parseDate('14.03.2014')).to.be.NaN;
  });

  it('chooses calendar ticks: days at midnight, hours as HH:MM, months by name', () => {
    const d = (s: string): number => parseDate(s);
    expect(timeTicks(d('2014-03-07 03:41'), d('2014-03-21 03:41'), 9).map((t) => t.label)).to.deep.equal([
      'Mar 9',
      'Mar 11',
      'Mar 13',
      'Mar 15',
      'Mar 17',
      'Mar 19',
      'Mar 21',
    ]);
    expect(timeTicks(d('2024-01-01 00:10'), d('2024-01-01 05:00'), 6).map((t) => t.label)).to.deep.equal([
      '01:00',
      '02:00',
      '03:00',
      '04:00',
      '05:00',
    ]);
    expect(timeTicks(d('2023-11-15'), d('2024-04-20'), 8).map((t) => t.label)).to.deep.equal([
      'Dec',
      'Jan 2024',
      'Feb',
      'Mar',
      'Apr',
    ]);
  });
});

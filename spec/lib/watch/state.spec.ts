/**
 * The per-series state of `bptt watch --state` (lib/watch/state.ts): written atomically, read back validated, and for
 * 'gru-online' a detector saved with its stream's state continues that stream bit for bit (what a restart relies on).
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ModelFileError } from '../../../lib/errors';
import { Detector } from '../../../lib/detect/detector';
import { listStateFiles, readState, statePath, writeState } from '../../../lib/watch/state';
import { seriesId } from '../../../lib/watch/labels';
import { makeRng } from '../../helpers/rng';

const T0 = Date.UTC(2026, 11, 1);
const STEP = 15_000;

function series(n: number, seed: string): number[] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, (_, t) => 5 + Math.sin(t / 8) + 0.2 * rng());
}

describe('watch/state: per-series state files', function () {
  this.timeout(60_000);
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-watch-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("'gru-online': a detector saved with its stream's state continues the stream bit for bit", () => {
    const x = series(300, 'resume');
    const ts = x.map((_, i) => T0 + i * STEP);
    const d = new Detector({ model: 'gru-online', window: 8, hidden: 4, seed: 5 }).fit(x.slice(0, 100), {
      timestamps: ts.slice(0, 100),
    });
    const a = d.stream();
    for (let i = 100; i < 200; i++) a.push(x[i], ts[i]);
    const query = 'rate(x[1m])',
      labels = { job: 'j' };
    const id = seriesId(query, labels);
    const doc = d.toJSON();
    const online = a.onlineState();
    if (online !== null) doc.online = online;
    const meta = {
      id,
      query,
      labels,
      stepMs: STEP,
      lastTimestamp: ts[199],
      lastFit: T0,
      pointsScored: 100,
      recent: [],
      alarms: [{ at: ts[150], score: 0.9 }],
    };
    writeState(dir, meta, doc);
    expect(listStateFiles(dir)).to.deep.equal([statePath(dir, id)]);
    const st = readState(statePath(dir, id));
    expect(st).to.deep.include({ ...meta, recent: [], alarms: [{ at: ts[150], score: 0.9 }] });
    const b = st.detector.stream();
    for (let i = 200; i < 300; i++) {
      const ra = a.push(x[i], ts[i]),
        rb = b.push(x[i], ts[i]);
      expect(rb?.score, `point ${i}`).to.equal(ra?.score);
      expect(rb?.flag).to.equal(ra?.flag);
    }
    // Without the stream's state the detector would start again from the end of its training: not the same.
    const c = Detector.fromJSON(d.toJSON()).stream();
    let differ = 0;
    const a2 = Detector.fromJSON(st.detector.toJSON()).stream();
    for (let i = 200; i < 260; i++) if (c.push(x[i], ts[i])?.score !== a2.push(x[i], ts[i])?.score) differ++;
    expect(differ).to.be.greaterThan(0);
  });

  it('refuses an edited id, unknown fields and bad values, naming the file', () => {
    const d = new Detector({ model: 'zscore', window: 5 }).fit(series(50, 's'));
    const meta = {
      id: seriesId('up', { job: 'a' }),
      query: 'up',
      labels: { job: 'a' },
      stepMs: STEP,
      lastTimestamp: T0,
      lastFit: T0,
      pointsScored: 3,
      recent: [1, 2, 3, 4],
      alarms: [],
    };
    const file = writeState(dir, meta, d.toJSON());
    expect(readState(file).recent).to.deep.equal([1, 2, 3, 4]);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...doc, labels: { job: 'b' } }, /id .* is not the id of its query and labels/],
      [{ ...doc, extra: 1 }, /unknown field "extra"/],
      [{ ...doc, lastTimestamp: 'x' }, /lastTimestamp: expected a number/],
      [{ ...doc, recent: [1, null] }, /recent: expected an array of finite numbers/],
      [{ ...doc, alarms: [{ at: 1 }] }, /alarms: expected \{ at, score \}/],
      [{ ...doc, format: 'other' }, /not a bptt watch state/],
      [{ ...doc, detector: { format: 'bptt-detector' } }, /detector/],
    ];
    for (const [bad, re] of cases) {
      fs.writeFileSync(file, JSON.stringify(bad));
      expect(() => readState(file), String(re))
        .to.throw(ModelFileError, re)
        .with.property('message')
        .that.contains(file);
    }
    fs.writeFileSync(file, '{"format": "bptt-watch-ser');
    expect(() => readState(file)).to.throw(ModelFileError, /not valid JSON/);
    expect(listStateFiles(path.join(dir, 'none'))).to.deep.equal([]);
  });
});

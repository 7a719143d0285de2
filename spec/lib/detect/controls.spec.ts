/**
 * Operators' controls (lib/detect/controls.ts): exclusion windows in fit, and "not an anomaly" feedback that raises the
 * detector's threshold to the marked score, in detect() and stream(), saved with the detector (old files still load).
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArgumentError, ModelFileError } from '../../../lib/errors';
import { Detector } from '../../../lib/detect/detector';
import { feedbackLevel } from '../../../lib/detect/controls';
import { makeRng } from '../../helpers/rng';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 1, 0, 0);

function noisy(n: number, seed: string): number[] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, (_, t) => 10 + Math.sin((2 * Math.PI * t) / 60) + 0.3 * (rng() - 0.5));
}

describe('Detector: exclusion windows for training', function () {
  const n = 600;
  const x = noisy(n, 'exclude');
  const ts = Array.from({ length: n }, (_, i) => T0 + i * MIN);
  // An outage: rows 200..259 read 0.
  const withOutage = x.map((v, i) => (i >= 200 && i < 260 ? 0 : v));
  const outage: [string, string] = [new Date(T0 + 200 * MIN).toISOString(), new Date(T0 + 260 * MIN).toISOString()];

  it('rows inside a window are missing for training: the same detector as fitting with them NaN', () => {
    const excluded = new Detector({ model: 'zscore', window: 20 }).fit(withOutage, {
      timestamps: ts,
      exclude: [outage],
    });
    const masked = withOutage.map((v, i) => (i >= 200 && i < 260 ? NaN : v));
    const reference = new Detector({ model: 'zscore', window: 20 }).fit(masked);
    expect(JSON.stringify(excluded.toJSON())).to.equal(JSON.stringify(reference.toJSON()));
    // The outage did not become normal: without the window it drags the normaliser's mean towards 0.
    const kept = new Detector({ model: 'zscore', window: 20 }).fit(withOutage);
    expect(excluded.normaliser?.offset[0]).to.be.closeTo(10, 0.2);
    expect(kept.normaliser?.offset[0]).to.be.below(9.2);
    // The caller's series is not changed.
    expect(withOutage[210]).to.equal(0);
  });

  it("'gru-online' learns from the masked rows with its timestamps, bit for bit as fitting them NaN", () => {
    const opts = { model: 'gru-online' as const, window: 8, hidden: 4, seed: 2 };
    const a = new Detector(opts).fit(withOutage, { timestamps: ts, exclude: [[T0 + 200 * MIN, T0 + 260 * MIN]] });
    const masked = withOutage.map((v, i) => (i >= 200 && i < 260 ? NaN : v));
    const b = new Detector(opts).fit(masked, { timestamps: ts });
    expect(JSON.stringify(a.toJSON())).to.equal(JSON.stringify(b.toJSON()));
  });

  it('bad windows are ArgumentErrors naming the window', () => {
    const d = (): Detector => new Detector({ model: 'zscore', window: 20 });
    const cases: Array<[unknown, RegExp]> = [
      ['2026-11-01T00:00Z', /fit\(exclude\): expected an array/],
      [[['2026-11-01T00:00Z']], /fit\(exclude\)\[0\]: expected a \[start, end\] pair/],
      [[[outage[1], outage[0]]], /fit\(exclude\)\[0\]: window starts at .* not before its end/],
      [
        [outage, ['2026-11-01T00:00', '2026-11-02T00:00Z']],
        /fit\(exclude\)\[1\]\[0\]: expected an ISO 8601 time with a zone/,
      ],
      [[[NaN, 5]], /fit\(exclude\)\[0\]\[0\]: expected epoch milliseconds/],
      [[[T0 - MIN, T0 + n * MIN]], /cover all 600 training rows/],
    ];
    for (const [exclude, re] of cases) {
      expect(() => d().fit(withOutage, { timestamps: ts, exclude } as never), String(re)).to.throw(ArgumentError, re);
    }
    expect(() => d().fit(withOutage, { exclude: [outage] })).to.throw(
      ArgumentError,
      /fit\(exclude\) needs fit\(timestamps\)/,
    );
    expect(() => d().fit(withOutage, { timestamps: ts.slice(1), exclude: [outage] })).to.throw(
      ArgumentError,
      /600 timestamps/,
    );
    // Without exclude, the models trained once still refuse timestamps (they have no time input).
    expect(() => d().fit(withOutage, { timestamps: ts })).to.throw(ArgumentError, /does not use timestamps/);
  });
});

describe('Detector: feedback (not an anomaly)', function () {
  const n = 400;
  const x = noisy(n, 'feedback');
  const train = x.slice(0, 200);
  const test = x.slice(200);
  test[100] += 4; // the alarm to mark
  test[150] += 4; // the same kind, at about the same level
  test[180] += 9; // a stronger one
  const fresh = (): Detector => new Detector({ model: 'zscore', window: 20, threshold: 'fixed:4' }).fit(train);

  it('raises the threshold to the marked score: the same alarm does not fire again, a stronger one does', () => {
    const d = fresh();
    const before = d.detect(test);
    expect([100, 150, 180].map((i) => before.flags[i])).to.deep.equal([1, 1, 1]);
    const marked = Math.max(before.scores[100], before.scores[150]);
    d.feedback({ at: T0, notAnomaly: true, score: marked });
    expect(d.feedbackLevel).to.equal(marked);
    const after = d.detect(test);
    expect([100, 150, 180].map((i) => after.flags[i])).to.deep.equal([0, 0, 1]);
    for (let i = 0; i < after.flags.length; i++) {
      if (after.flags[i] === 1) expect(after.scores[i]).to.be.greaterThan(marked);
      if (!Number.isNaN(after.thresholds[i])) expect(after.thresholds[i]).to.be.at.least(marked);
    }
    expect(after.events.length).to.be.below(before.events.length);
    expect(after.scores).to.deep.equal(before.scores); // scores do not change, only what flags
  });

  it('stream() honours feedback, also feedback given while streaming', () => {
    const d = fresh();
    const s = d.stream();
    const flags: number[] = [];
    for (let i = 0; i < test.length; i++) {
      const r = s.push(test[i]);
      if (i === 120) d.feedback({ at: '2026-11-01T02:00Z', notAnomaly: true, score: 1e9 });
      flags.push(r?.flag ?? 0);
    }
    expect(flags[100]).to.equal(1); // before the feedback
    expect(flags.slice(121).every((f) => f === 0)).to.equal(true);
    expect(s.push(100)?.threshold).to.equal(1e9);
  });

  it('is saved with the detector and loads again; files without it load with none; a bad field is refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-feedback-'));
    try {
      const d = fresh();
      const plain = JSON.stringify(d.toJSON());
      expect(JSON.parse(plain)).to.not.have.property('feedback');
      expect(Detector.fromJSON(plain).notAnomalies).to.deep.equal([]);
      d.feedback({ at: new Date(T0), notAnomaly: true, score: 5 });
      d.feedback({ at: T0 + MIN, notAnomaly: true, score: 7 });
      const file = path.join(dir, 'd.json');
      d.save(file);
      const back = Detector.load(file);
      expect(back.notAnomalies).to.deep.equal([
        { at: T0, score: 5 },
        { at: T0 + MIN, score: 7 },
      ]);
      expect(back.feedbackLevel).to.equal(7);
      expect(feedbackLevel([])).to.equal(-Infinity);
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      for (const [bad, re] of [
        [{ at: 'x', score: 1 }, /feedback\[0\]\.at: expected epoch ms/],
        [{ at: 1, score: -1 }, /feedback\[0\]\.score: expected a finite number ≥ 0/],
        [{ at: 1, score: 1, code: 'x' }, /feedback\[0\]: expected exactly the keys at and score/],
      ] as Array<[unknown, RegExp]>) {
        expect(() => Detector.fromJSON({ ...doc, feedback: [bad] }, 'f.json'))
          .to.throw(ModelFileError, re)
          .with.property('message')
          .that.match(/^f\.json/);
      }
      expect(() => Detector.fromJSON({ ...doc, feedback: {} })).to.throw(ModelFileError, /feedback: expected an array/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad feedback is an ArgumentError naming the field', () => {
    const d = fresh();
    const cases: Array<[unknown, RegExp]> = [
      [null, /^feedback: expected \{ at, notAnomaly: true, score \}/],
      [{ at: T0, notAnomaly: false, score: 1 }, /feedback\(notAnomaly\): expected true/],
      [{ at: T0, score: 1 }, /feedback\(notAnomaly\)/],
      [{ at: '2026-11-01T00:00', notAnomaly: true, score: 1 }, /feedback\(at\): expected an ISO 8601 time with a zone/],
      [{ at: T0, notAnomaly: true }, /feedback\(score\)/],
      [{ at: T0, notAnomaly: true, score: NaN }, /feedback\(score\)/],
      [{ at: T0, notAnomaly: true, score: 1, why: 'x' }, /unknown key "why"/],
    ];
    for (const [input, re] of cases) expect(() => d.feedback(input as never), String(re)).to.throw(ArgumentError, re);
    expect(d.notAnomalies).to.deep.equal([]);
  });
});

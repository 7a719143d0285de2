import { expect } from 'chai';
import { ArgumentError } from '../../../lib/errors';
import * as fs from 'fs';
import * as path from 'path';
import { AlarmStage, alarmBatch, erfc, logLikelihood, restFlags, tailProbability } from '../../../lib/detect/alarm';
import { repoRoot } from '../../helpers/repo';
import { nabProbationaryLength } from '../../../lib/detect/nab';

/** Upper Gaussian tail P(Z > z) by Simpson's rule on the density, independent of the library's erfc. */
function upperTail(z: number): number {
  const a = z,
    b = z + 14,
    n = 40000,
    h = (b - a) / n;
  const phi = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  let s = phi(a) + phi(b);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * phi(a + i * h);
  return (s * h) / 3;
}
/** nupic's ½·erfc(z/1.4142) = P(Z > z·√2/1.4142). */
const q = (z: number): number => upperTail((z * Math.SQRT2) / 1.4142);
const logScore = (qv: number): number => Math.log(1.0000000001 - (1 - qv)) / -23.02585084720009;

function series(n: number, seed: number): { raw: number[]; values: number[] } {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const raw: number[] = [],
    values: number[] = [];
  for (let i = 0; i < n; i++) {
    values.push(Math.sin(i / 7) + 0.1 * u() + (i === 300 ? 5 : 0));
    raw.push(u() * 0.3 + (i >= 250 && i < 255 ? 2 : 0));
  }
  return { raw, values };
}

describe('detect/alarm: erfc and the tail', () => {
  it('erfc matches reference values to 1e-14 relative', () => {
    const ref: Array<[number, number]> = [
      [0, 1],
      [0.3, 0.6713732405408726],
      [1, 0.1572992070502851],
      [2, 0.004677734981047266],
      [3, 2.209049699858544e-5],
      [5, 1.5374597944280351e-12],
      [-1, 1.8427007929497148],
    ];
    for (const [x, v] of ref) expect(Math.abs(erfc(x) - v) / v, `erfc(${x})`).to.be.lessThan(1e-14);
  });
  it('upper tail by default, reflected when two-sided', () => {
    expect(tailProbability(0.2, 0.5, 0.1)).to.be.closeTo(1 - q(3), 1e-10);
    expect(tailProbability(0.2, 0.5, 0.1, true)).to.be.closeTo(q(3), 1e-12);
    expect(logLikelihood(0.5)).to.be.closeTo(Math.log(0.5) / Math.log(1e-10), 1e-9);
  });
});

describe('detect/alarm: likelihood on a hand-computed case', () => {
  // probation 4 → learningPeriod 2; averaging window 2; no lower bounds; spatial rule off.
  // History raw r = [0, 0, 0.1, 0.3]; averages a = [0, 0, 0.05, 0.2]; the fit skips 2: μ = 0.125, σ = 0.075.
  const opts = { probation: 4, averagingWindow: 2, minMean: 0, minVariance: 0, spatialTolerance: 0 };
  const raw = [0, 0, 0.1, 0.3, 0.5, 0.9, 0.9];
  const values = [1, 2, 3, 4, 5, 6, 7];
  const out = new AlarmStage(opts);
  const res = raw.map((r, i) => out.step(r, values[i]));
  it('probation rows score log(0.5)', () => {
    for (let i = 0; i < 4; i++) expect(res[i]?.score).to.be.closeTo(logScore(0.5), 1e-12);
  });
  it('row 4: average 0.4, z = (0.4 − 0.125)/0.075', () => {
    const z = (0.4 - 0.125) / 0.075;
    expect(res[4]?.tail).to.be.closeTo(q(z), 1e-12);
    expect(res[4]?.score).to.be.closeTo(logScore(q(z)), 1e-9);
  });
  it('row 5 is the first very unlikely row (kept); row 6 continues the run (filtered to 1e-3)', () => {
    const z5 = (0.7 - 0.125) / 0.075;
    expect(res[5]?.tail).to.be.closeTo(q(z5), 1e-20);
    expect(res[5]?.score).to.be.closeTo(logScore(q(z5)), 1e-6);
    expect(res[6]?.score).to.be.closeTo(logScore(1e-3), 1e-9);
  });
  it('flags at HTM threshold: rows 5 only (row 6 filtered)', () => {
    expect(res.map((r) => (r.flag ? 1 : 0))).to.deep.equal([0, 0, 0, 0, 0, 1, 0]);
  });
});

describe('detect/alarm: spatial rule, rest, batch, state', () => {
  it('a value outside the running range ± 5 % scores 1', () => {
    const s = new AlarmStage({ probation: 0 });
    s.step(0, 0);
    s.step(0, 10);
    expect(s.step(0, 10.4).spatial).to.equal(false);
    expect(s.step(0, 11.1).spatial).to.equal(true); // > 10.4 + 0.05·10.4
    const o = s.step(0, -0.6);
    expect(o.spatial).to.equal(true);
    expect(o.score).to.equal(1);
  });
  it('rest suppresses flags for `rest` rows after a flag; restFlags gives the same flags', () => {
    const { raw, values } = series(600, 3);
    const a = alarmBatch(raw, values, { probation: 100, rest: 30, threshold: 0.25 });
    const b = alarmBatch(raw, values, { probation: 100, rest: 0, threshold: 0.25 });
    const flagged = (f: Uint8Array): number[] => Array.from(f).flatMap((v, i) => (v ? [i] : []));
    const fa = flagged(a.flags);
    expect(fa.length).to.be.greaterThan(0);
    for (let k = 1; k < fa.length; k++) expect(fa[k] - fa[k - 1]).to.be.greaterThan(30);
    expect(flagged(b.flags).length).to.be.greaterThan(fa.length);
    expect(Array.from(a.scores)).to.deep.equal(Array.from(b.scores));
    expect(Array.from(restFlags(a.scores, 0.25, 30, 100))).to.deep.equal(Array.from(a.flags));
  });
  it('batch equals stepping bit for bit; prefixes equal (causal)', () => {
    const { raw, values } = series(700, 5);
    const all = alarmBatch(raw, values, { probation: 120, rest: 10, historicWindow: 300 });
    const st = new AlarmStage({ probation: 120, rest: 10, historicWindow: 300 });
    raw.forEach((r, i) => {
      const o = st.step(r, values[i]);
      expect(o.score).to.equal(all.scores[i]);
      expect(o.flag ? 1 : 0).to.equal(all.flags[i]);
    });
    const pre = alarmBatch(raw.slice(0, 333), values.slice(0, 333), { probation: 120, rest: 10, historicWindow: 300 });
    expect(Array.from(pre.scores)).to.deep.equal(Array.from(all.scores.subarray(0, 333)));
  });
  it('state round-trips through JSON and continues bit-identically (with and without the long channel)', () => {
    const { raw, values } = series(800, 9);
    for (const o of [
      { probation: 150, rest: 20, historicWindow: 250 },
      { probation: 150, rest: 20, historicWindow: 250, longWindow: 40 },
    ])
      for (const cut of [0, 90, 437]) {
        const all = alarmBatch(raw, values, o);
        const a = new AlarmStage(o);
        for (let i = 0; i < cut; i++) a.step(raw[i], values[i]);
        const b = AlarmStage.fromState(JSON.parse(JSON.stringify(a.getState())));
        for (let i = cut; i < raw.length; i++) {
          const r = b.step(raw[i], values[i]);
          expect(r.score, `cut ${cut}, row ${i}`).to.equal(all.scores[i]);
          expect(r.flag ? 1 : 0).to.equal(all.flags[i]);
        }
      }
  });
  it('long channel: a sustained moderate rise that 10-row averages mostly miss alarms, and only inside the rise', () => {
    // raw ~ U(0, 3) with a 200-row stretch at +0.5 (0.6σ of a row, 1.8σ of a 10-row mean, 5.8σ of a 100-row mean)
    let baseHits = 0;
    for (let seed = 1; seed <= 12; seed++) {
      let s = seed;
      const u = (): number => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s / 2 ** 32;
      };
      const raw: number[] = [],
        values: number[] = [];
      for (let i = 0; i < 3000; i++) {
        raw.push(3 * u() + (i >= 2000 && i < 2200 ? 0.5 : 0));
        values.push(Math.sin(i / 9));
      }
      const base = alarmBatch(raw, values, { probation: 500 });
      const long = alarmBatch(raw, values, { probation: 500, longWindow: 100 });
      const flagged = (f: Uint8Array): number[] => Array.from(f).flatMap((v, i) => (v ? [i] : []));
      if (flagged(base.flags).length > 0) baseHits++;
      const lf = flagged(long.flags);
      expect(
        lf.filter((i) => i >= 2000 && i < 2300).length,
        `seed ${seed}: the long channel alarms in the rise`,
      ).to.be.within(1, 3);
      expect(
        lf.filter((i) => i < 2000 || i >= 2300),
        `seed ${seed}: and nowhere else`,
      ).to.deep.equal([]);
      for (let i = 0; i < 3000; i++) expect(long.scores[i]).to.be.at.least(base.scores[i]);
    }
    expect(baseHits, 'seeds where the 10-row likelihood alone alarms').to.be.at.most(4);
  });

  it('bad arguments and bad states are errors naming the field', () => {
    expect(() => new AlarmStage({} as never)).to.throw(ArgumentError, /options\.probation/);
    expect(() => new AlarmStage({ probation: 5, rest: -1 })).to.throw(ArgumentError, /options\.rest/);
    expect(() => new AlarmStage({ probation: 5, tail: 'both' as never })).to.throw(ArgumentError, /options\.tail/);
    expect(() => new AlarmStage({ probation: 5, foo: 1 } as never)).to.throw(ArgumentError, /unknown option "foo"/);
    expect(() => new AlarmStage({ probation: 5 }).step(NaN, 1)).to.throw(ArgumentError, /step\(raw\)/);
    expect(() => alarmBatch([1, 2], [1], { probation: 0 })).to.throw(ArgumentError, /alarmBatch\(values\)/);
    const s = new AlarmStage({ probation: 2 });
    for (let i = 0; i < 5; i++) s.step(i / 10, i);
    const good = s.getState();
    expect(() => AlarmStage.fromState({ ...good, version: 2 })).to.throw(ArgumentError, /state\.version/);
    expect(() => AlarmStage.fromState({ ...good, histRaw: good.histRaw.slice(1) })).to.throw(
      ArgumentError,
      /state\.histRaw/,
    );
    expect(() => AlarmStage.fromState({ ...good, dist: { mean: 0, stdev: -1 } })).to.throw(
      ArgumentError,
      /state\.dist\.stdev/,
    );
    expect(() => AlarmStage.fromState({ ...good, restLeft: 3 })).to.throw(ArgumentError, /state\.restLeft/);
    expect(() => AlarmStage.fromState({ ...good, maWindow: ['x'] })).to.throw(ArgumentError, /state\.maWindow/);
    expect(() => AlarmStage.fromState({ ...good, long: {} })).to.throw(ArgumentError, /state\.long/);
    const sl = new AlarmStage({ probation: 2, longWindow: 5 });
    for (let i = 0; i < 5; i++) sl.step(i / 10, i);
    const gl = sl.getState();
    expect(() => AlarmStage.fromState({ ...gl, long: null })).to.throw(ArgumentError, /state\.long/);
    expect(() =>
      AlarmStage.fromState({
        ...gl,
        long: { ...gl.long, t: 4, histRaw: gl.long?.histRaw.slice(1), histValue: gl.long?.histValue.slice(1) },
      }),
    ).to.throw(ArgumentError, /state\.long/);
    expect(() => AlarmStage.fromState({ ...gl, latched: 1 })).to.throw(ArgumentError, /state\.latched/);
  });
});

describe('detect/alarm: reproduces NAB’s published HTM scores from HTM’s raw scores (../shared/data/nab)', () => {
  const dir = path.resolve(repoRoot(), '..', 'shared', 'data', 'nab', 'results', 'numenta');
  it('every file: |score − NAB anomaly_score| < 1e-9 on every row', function () {
    if (!fs.existsSync(dir)) {
      // A plain clone has no ../shared: this check needs NAB's HTM outputs (raw_score), which no fixture carries.
      console.log(
        `      (skipped: NAB's HTM result files are not at ${dir}; optional, the hand-computed cases above cover the likelihood)`,
      );
      this.skip();
    }
    let files = 0;
    for (const cat of fs.readdirSync(dir)) {
      const cdir = path.join(dir, cat);
      if (!fs.statSync(cdir).isDirectory()) continue;
      for (const f of fs.readdirSync(cdir)) {
        const lines = fs
          .readFileSync(path.join(cdir, f), 'utf8')
          .split(/\r?\n/)
          .filter((l) => l.length > 0);
        const hdr = lines[0].split(',');
        const iv = hdr.indexOf('value'),
          ia = hdr.indexOf('anomaly_score'),
          ir = hdr.indexOf('raw_score');
        const rows = lines.slice(1).map((l) => l.split(','));
        const st = new AlarmStage({ probation: nabProbationaryLength(rows.length) });
        rows.forEach((r, i) => {
          const o = st.step(Number(r[ir]), Number(r[iv]));
          const want = Number(r[ia]);
          if (Math.abs(o.score - want) > 1e-9) expect.fail(`${f} row ${i}: got ${o.score}, NAB ${want}`);
        });
        files++;
      }
    }
    expect(files).to.equal(13);
  });
});

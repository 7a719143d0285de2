import { expect } from 'chai';
import { ArgumentError } from '../../../lib/errors';
import { OnlineForecaster, type OnlineOptions, OnlinePipeline } from '../../../lib/detect/online';

/** A noisy daily-like sine with 5-minute timestamps; a spike at `spike` (if given). */
function data(n: number, seed: number, spike = -1): { values: number[]; times: number[] } {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const values: number[] = [],
    times: number[] = [];
  for (let i = 0; i < n; i++) {
    values.push(10 + 3 * Math.sin((2 * Math.PI * i) / 48) + 0.2 * (u() - 0.5) + (i === spike ? 6 : 0));
    times.push(Date.UTC(2020, 0, 1) + i * 300000);
  }
  return { values, times };
}

const small: OnlineOptions = {
  probation: 160,
  units: 8,
  window: 16,
  horizon: 4,
  batch: 8,
  initSteps: 40,
  every: 16,
  memory: 400,
};

describe('detect/online: continually learning GRU forecaster', () => {
  it('is deterministic from the seed, and the seed matters', () => {
    const { values } = data(500, 1);
    const a = new OnlineForecaster({ ...small, seed: 3 }).scoreBatch(values);
    const b = new OnlineForecaster({ ...small, seed: 3 }).scoreBatch(values);
    const c = new OnlineForecaster({ ...small, seed: 4 }).scoreBatch(values);
    expect(Array.from(a)).to.deep.equal(Array.from(b));
    expect(Array.from(a)).to.not.deep.equal(Array.from(c));
  });

  it('is causal: the scores of a prefix equal the first scores of the whole series; batch equals stepping', () => {
    const { values, times } = data(520, 2);
    const o = { ...small, timeFeatures: true };
    const all = new OnlineForecaster(o).scoreBatch(values, times);
    for (const k of [100, 161, 333]) {
      const pre = new OnlineForecaster(o).scoreBatch(values.slice(0, k), times.slice(0, k));
      expect(Array.from(pre), `prefix ${k}`).to.deep.equal(Array.from(all.subarray(0, k)));
    }
    const f = new OnlineForecaster(o);
    values.forEach((v, i) => expect(f.step(v, times[i])).to.equal(all[i]));
  });

  it('state round-trips through JSON and continues bit-identically (before and after the first fit, mid-memory)', () => {
    const { values, times } = data(700, 3);
    for (const head of ['point', 'gaussian'] as const) {
      const o = { ...small, timeFeatures: true, memory: 300, head, normRate: 0.01 };
      const all = new OnlineForecaster(o).scoreBatch(values, times);
      for (const cut of [50, 80, 405]) {
        const a = new OnlineForecaster(o);
        for (let i = 0; i < cut; i++) a.step(values[i], times[i]);
        const b = OnlineForecaster.fromState(JSON.parse(JSON.stringify(a.getState())));
        for (let i = cut; i < values.length; i++)
          expect(b.step(values[i], times[i]), `${head} cut ${cut} row ${i}`).to.equal(all[i]);
      }
    }
  });

  for (const head of ['point', 'gaussian'] as const) {
    it(`learns the pattern (${head} head): a spike scores far above the typical row after probation`, () => {
      const { values } = data(900, 4, 700);
      const s = new OnlineForecaster({ ...small, seed: 1, head, sdFloor: 0.5, lr: 0.003 }).scoreBatch(values);
      const typical = Array.from(s.subarray(300, 690)).sort((x, y) => x - y)[195];
      expect(typical).to.be.greaterThan(0);
      expect(s[700]).to.be.greaterThan((head === 'point' ? 5 : 3) * typical);
      expect(
        Array.from(s.subarray(0, 80)).every((x) => x === 0),
        'no score before the first fit',
      ).to.equal(true);
    });
  }

  it('bad options, inputs and states are errors naming the argument', () => {
    expect(() => new OnlineForecaster({} as never)).to.throw(ArgumentError, /options\.probation/);
    expect(() => new OnlineForecaster({ probation: 10, units: 0 })).to.throw(ArgumentError, /options\.units/);
    expect(() => new OnlineForecaster({ probation: 10, score: 'avg' as never })).to.throw(
      ArgumentError,
      /options\.score/,
    );
    expect(() => new OnlineForecaster({ probation: 10, bogus: 1 } as never)).to.throw(
      ArgumentError,
      /unknown option "bogus"/,
    );
    expect(() => new OnlineForecaster({ probation: 10 }).step(Infinity)).to.throw(ArgumentError, /step\(value\)/);
    expect(() => new OnlineForecaster({ probation: 10, timeFeatures: true }).step(1)).to.throw(
      ArgumentError,
      /step\(timestamp\)/,
    );
    expect(() => new OnlineForecaster({ probation: 10 }).scoreBatch([1, 2], [1])).to.throw(
      ArgumentError,
      /scoreBatch\(timestamps\)/,
    );
    const f = new OnlineForecaster(small);
    const { values } = data(200, 5);
    f.scoreBatch(values);
    const st = f.getState();
    expect(() => OnlineForecaster.fromState({ ...st, version: 0 })).to.throw(ArgumentError, /state\.version/);
    expect(() => OnlineForecaster.fromState({ ...st, h: [1] })).to.throw(ArgumentError, /state\.h/);
    expect(() => OnlineForecaster.fromState({ ...st, params: st.params.slice(1) })).to.throw(
      ArgumentError,
      /state\.params/,
    );
    expect(() => OnlineForecaster.fromState({ ...st, scale: 0 })).to.throw(ArgumentError, /state\.scale/);
    expect(() => OnlineForecaster.fromState({ ...st, values: st.values.slice(1) })).to.throw(
      ArgumentError,
      /state\.values/,
    );
    expect(() => OnlineForecaster.fromState({ ...st, options: { ...st.options, units: -1 } })).to.throw(
      ArgumentError,
      /options\.units/,
    );
  });
});

describe('detect/online: OnlinePipeline (forecaster + alarm stage)', () => {
  const model = { units: 8, window: 16, horizon: 4, batch: 8, initSteps: 40, every: 16, memory: 400 };
  it('defaults: long channel 100 rows, rest 0.2·probation; a large spike after probation is flagged', () => {
    const p = OnlinePipeline.create({ probation: 300, model });
    expect(p.alarm.options.longWindow).to.equal(100);
    expect(p.alarm.options.rest).to.equal(60);
    const { values } = data(1200, 6, 900);
    values[900] = values[900] + 6; // +12 in all: above the running max, so the spatial rule fires too
    const out = p.batch(values);
    const typical = Array.from(out.raw.subarray(400, 890)).sort((x, y) => x - y)[245];
    expect(out.raw[900], 'the forecaster sees it').to.be.greaterThan(5 * typical);
    const flagged = Array.from(out.flags).flatMap((v, i) => (v ? [i] : []));
    expect(flagged).to.include(900);
    expect(flagged.every((i) => i >= 300)).to.equal(true);
    expect(flagged.length).to.be.at.most(3);
  });
  it('batch equals stepping; state round-trips through JSON and continues bit-identically; causal prefixes', () => {
    const { values, times } = data(900, 7, 700);
    for (const o of [
      { probation: 250, seed: 2, model: { ...model, timeFeatures: 'day' as const } },
      { probation: 250, seed: 2, model, context: true },
    ]) {
      const all = OnlinePipeline.create(o).batch(values, times);
      const pre = OnlinePipeline.create(o).batch(values.slice(0, 500), times.slice(0, 500));
      expect(Array.from(pre.scores)).to.deep.equal(Array.from(all.scores.subarray(0, 500)));
      const a = OnlinePipeline.create(o);
      for (let i = 0; i < 410; i++) {
        const r = a.step(values[i], times[i]);
        expect(r.score).to.equal(all.scores[i]);
        expect(r.flag ? 1 : 0).to.equal(all.flags[i]);
      }
      const b = OnlinePipeline.fromState(JSON.parse(JSON.stringify(a.getState())));
      for (let i = 410; i < values.length; i++) {
        const r = b.step(values[i], times[i]);
        expect(r.raw).to.equal(all.raw[i]);
        expect(r.score).to.equal(all.scores[i]);
        expect(r.flag ? 1 : 0).to.equal(all.flags[i]);
      }
    }
  });
  it('context model: a flat day and a day with a lowered plateau alarm inside that day, nowhere else', () => {
    // 5-minute daily wave (20 at night, 80 from 09:00 to 18:00) with noise; day 10 is flat at 50, or its plateau is 50
    for (const kind of ['flat', 'low']) {
      let s = 11;
      const u = (): number => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s / 2 ** 32;
      };
      const values: number[] = [],
        times: number[] = [];
      for (let i = 0; i < 14 * 288; i++) {
        const h = (i % 288) / 12,
          day = Math.floor(i / 288),
          high = h >= 9 && h < 18;
        values.push(day !== 10 ? (high ? 80 : 20) + 5 * u() : kind === 'flat' ? 50 + u() : (high ? 50 : 20) + 5 * u());
        times.push(Date.UTC(2014, 3, 1) + i * 300000);
      }
      const p = OnlinePipeline.create({ probation: 600, context: true, seed: 1 });
      expect(p.context?.options.timeFeatures).to.equal('day');
      const flagged = Array.from(p.batch(values, times).flags).flatMap((f, i) => (f ? [i] : []));
      expect(flagged.filter((i) => i >= 2880 && i < 3168).length, `${kind}: alarms in day 10`).to.be.greaterThan(0);
      expect(
        flagged.filter((i) => i < 2880 || i >= 3168),
        `${kind}: alarms elsewhere`,
      ).to.deep.equal([]);
    }
  });
  it('bad options and mismatched states are errors', () => {
    expect(() => OnlinePipeline.create({ probation: 10, context: true, alarm: { longWindow: 0 } })).to.throw(
      ArgumentError,
      /options\.context/,
    );
    expect(() => OnlinePipeline.create({ probation: -1 })).to.throw(ArgumentError, /options\.probation/);
    expect(() => OnlinePipeline.create({ probation: 10, extra: 1 } as never)).to.throw(
      ArgumentError,
      /unknown option "extra"/,
    );
    const a = OnlinePipeline.create({ probation: 100, model });
    const { values } = data(150, 8);
    a.batch(values);
    const st = a.getState();
    const other = OnlinePipeline.create({ probation: 100, model });
    other.batch(values.slice(0, 120));
    expect(() => OnlinePipeline.fromState({ ...st, alarm: other.getState().alarm })).to.throw(
      ArgumentError,
      /different row counts/,
    );
    expect(() => OnlinePipeline.fromState({ ...st, version: 3 })).to.throw(ArgumentError, /state\.version/);
  });
});

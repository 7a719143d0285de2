/**
 * The Detector's continually learning model, 'gru-online' (lib/detect/online.ts + lib/detect/alarm.ts): it finds an
 * injected anomaly, is causal (prefix = whole series, stream = detect, bit for bit), deterministic from its seed, saves
 * and loads its whole learning state exactly, and refuses what it does not use.
 */
import { expect } from 'chai';
import { ArgumentError, ModelFileError } from '../../../lib/errors';
import { Detector } from '../../../lib/detect/detector';
import { makeRng } from '../../helpers/rng';

const DAY = 86400000;

function seasonal(n: number, seed: string): number[] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, (_, t) => 10 + 3 * Math.sin((2 * Math.PI * t) / 48) + 0.3 * (rng() - 0.5));
}

describe('Detector: gru-online (continual learning, alarm stage)', function () {
  this.timeout(120000);
  const x = seasonal(1500, 'online');
  x[1100] = 25; // a spike far outside the running range
  const train = x.slice(0, 400),
    rest = x.slice(400);
  let d: Detector;

  before(() => {
    d = new Detector({ model: 'gru-online', seed: 3 }).fit(train);
  });

  it('flags the injected spike, once, and little else', () => {
    const r = d.detect(rest);
    expect(r.scores.every((s) => s >= 0 && s <= 1)).to.equal(true);
    expect(r.flags[1100 - 400]).to.equal(1);
    const events = r.events.length;
    expect(events).to.be.at.least(1).and.at.most(3);
    expect(r.threshold).to.equal(0.5422);
    expect(d.options.hidden).to.deep.equal([16]);
  });

  it('is causal: every prefix gives the same bits, and stream() equals detect()', () => {
    const full = d.detect(rest);
    for (const k of [1, 37, 700, rest.length - 1]) {
      const part = d.detect(rest.slice(0, k));
      for (let t = 0; t < k; t++) {
        if (!Object.is(part.scores[t], full.scores[t]) || part.flags[t] !== full.flags[t])
          expect.fail(`prefix ${k}: point ${t} differs`);
      }
    }
    const s = d.stream();
    rest.forEach((v, t) => {
      const o = s.push(v);
      expect(o).to.not.equal(null);
      if (!Object.is(o?.score, full.scores[t]) || o?.flag !== full.flags[t] || o?.index !== t)
        expect.fail(`stream point ${t} differs`);
    });
    // detect() works on a copy: the fitted detector has not moved
    expect(Array.from(d.detect(rest).scores)).to.deep.equal(Array.from(full.scores));
  });

  it('is deterministic from its seed', () => {
    const a = new Detector({ model: 'gru-online', seed: 3 }).fit(train).detect(rest).scores;
    expect(Buffer.from(a.buffer).equals(Buffer.from(d.detect(rest).scores.buffer))).to.equal(true);
    const b = new Detector({ model: 'gru-online', seed: 4 }).fit(train).detect(rest).scores;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).to.equal(false);
  });

  it('saves and loads its whole learning state: the loaded detector continues bit for bit', () => {
    const back = Detector.fromJSON(JSON.stringify(d.toJSON()));
    expect(Array.from(back.detect(rest).scores)).to.deep.equal(Array.from(d.detect(rest).scores));
    const doc = JSON.parse(JSON.stringify(d.toJSON())) as Record<string, Record<string, unknown>>;
    expect(doc['model']).to.equal(null);
    expect(Object.keys(doc['options'])).to.not.include('epochs');
    const crafted = JSON.parse(JSON.stringify(doc)) as {
      options: Record<string, unknown>;
      online: { model: { options: Record<string, unknown> } };
    };
    crafted.options['hidden'] = [8];
    expect(() => Detector.fromJSON(JSON.stringify(crafted))).to.throw(
      ModelFileError,
      /online state units is 16, but the file's options say 8/,
    );
    const bad = JSON.parse(JSON.stringify(doc)) as { online: { model: Record<string, unknown> } };
    bad.online.model['adamT'] = '1;globalThis.PWNED=1';
    expect(() => Detector.fromJSON(JSON.stringify(bad))).to.throw(ModelFileError, /^Detector\.fromJSON: online/);
    const none = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
    delete none['online'];
    expect(() => Detector.fromJSON(JSON.stringify(none))).to.throw(
      ModelFileError,
      /needs its state, but "online" is missing/,
    );
  });

  it('takes timestamps for its time inputs, and requires them when they are on', () => {
    const ts = x.map((_, t) => Date.UTC(2026, 0, 1) + t * (DAY / 48));
    const td = new Detector({ model: 'gru-online', timeFeatures: 'day', seed: 1 }).fit(train, {
      timestamps: ts.slice(0, 400),
    });
    const r = td.detect(rest, { timestamps: ts.slice(400) });
    expect(r.flags[700]).to.equal(1);
    expect(() => td.detect(rest)).to.throw(
      ArgumentError,
      /detect\(timestamps\): timeFeatures 'day' needs the timestamps/,
    );
    expect(() => td.detect(rest, { timestamps: ts.slice(400).reverse() })).to.throw(
      ArgumentError,
      /earlier than the point before/,
    );
    const s = td.stream();
    expect(() => s.push(1)).to.throw(ArgumentError, /give each point its timestamp/);
    const o = s.push(rest[0], ts[400]);
    expect(o?.score).to.equal(r.scores[0]);
  });

  it('by default uses timestamps when fit gets them: a time-of-day forecaster feeds the slow channel (context)', () => {
    const ts = x.map((_, t) => Date.UTC(2026, 0, 1) + t * (DAY / 48));
    const withTime = new Detector({ seed: 2 }).fit(train, { timestamps: ts.slice(0, 400) });
    expect(withTime.options.model).to.equal('gru-online');
    expect(withTime.options.timeFeatures).to.equal('context');
    const r = withTime.detect(rest, { timestamps: ts.slice(400) });
    expect(r.flags[700]).to.equal(1);
    expect(() => withTime.detect(rest)).to.throw(ArgumentError, /timeFeatures 'context' needs the timestamps/);
    const back = Detector.fromJSON(JSON.stringify(withTime.toJSON()));
    expect(Array.from(back.detect(rest, { timestamps: ts.slice(400) }).scores)).to.deep.equal(Array.from(r.scores));
    const doc = JSON.parse(JSON.stringify(withTime.toJSON())) as { options: Record<string, unknown> };
    doc.options['timeFeatures'] = false;
    expect(() => Detector.fromJSON(JSON.stringify(doc))).to.throw(
      ModelFileError,
      /context model is true, but the file's options say false/,
    );
    const without = new Detector({ seed: 2 }).fit(train);
    expect(without.options.timeFeatures).to.equal(false);
    expect(Array.from(without.detect(rest).scores)).to.not.deep.equal(Array.from(r.scores));
  });

  it('the alarm stage composes with the models trained once: threshold likelihood, causal, one alarm per event', () => {
    for (const model of ['dense-ae', 'zscore'] as const) {
      const det = new Detector({
        model,
        threshold: 'likelihood',
        window: 16,
        ...(model === 'dense-ae' ? { hidden: [8, 4], epochs: 3 } : {}),
        seed: 1,
        workers: 1,
      }).fit(train);
      expect(det.threshold).to.equal(0.5422);
      const full = det.detect(rest);
      expect(full.flags[700], `${model} flags the spike`).to.equal(1);
      const first = full.flags.indexOf(1);
      for (let t = first + 1; t < Math.min(first + 80, rest.length); t++)
        expect(full.flags[t], `${model}: resting after the alarm at ${first}`).to.equal(0);
      const part = det.detect(rest.slice(0, 720));
      for (let t = 0; t < 720; t++)
        if (part.flags[t] !== full.flags[t] || !Object.is(part.scores[t], full.scores[t]))
          expect.fail(`${model}: prefix point ${t}`);
      const s = det.stream();
      rest.forEach((v, t) => {
        const o = s.push(v);
        if (o !== null && o.flag !== full.flags[t]) expect.fail(`${model}: stream point ${t}`);
      });
    }
  });

  it('refuses what it does not use, and what it cannot do, with the reason', () => {
    expect(() => new Detector({ model: 'gru-online', epochs: 10 })).to.throw(
      ArgumentError,
      /Detector\(epochs\): model 'gru-online' learns continually/,
    );
    expect(() => new Detector({ model: 'gru-online', threshold: 'spot' })).to.throw(
      ArgumentError,
      /'likelihood' or 'likelihood:s'/,
    );
    expect(() => new Detector({ model: 'lstm-ae', timeFeatures: 'day' })).to.throw(
      ArgumentError,
      /only model 'gru-online' uses time inputs/,
    );
    // 'auto': options that only the models trained once take pick one of them, also with the alarm stage's threshold.
    expect(
      new Detector({ epochs: 2, threshold: 'likelihood', window: 16, hidden: 4, workers: 1 }).fit(train).options.model,
    ).to.equal('lstm-ae');
    expect(new Detector({ threshold: 'likelihood' }).fit(train).options.model).to.equal('gru-online');
    expect(() => new Detector({ epochs: 2, timeFeatures: 'day' })).to.throw(
      ArgumentError,
      /Detector\(epochs\): model 'gru-online' learns continually/,
    );
    expect(() => new Detector({ model: 'gru-online' }).fit(train.map((v) => [v, v]))).to.throw(
      ArgumentError,
      /scores one series \(1 feature per point\), got 2/,
    );
    expect(() => new Detector({ model: 'gru-online' }).fit(train.slice(0, 50))).to.throw(
      ArgumentError,
      /shorter than 82, the least that model 'gru-online'/,
    );
    expect(() => d.exportScorer()).to.throw(ArgumentError, /keeps learning from every point/);
    const z = new Detector({ model: 'zscore' }).fit(train);
    expect(() => z.detect(rest, { timestamps: rest.map((_, i) => i) })).to.throw(
      ArgumentError,
      /model 'zscore' does not use timestamps/,
    );
    expect(() => z.stream().push(1, 5)).to.throw(ArgumentError, /does not use timestamps/);
  });
});

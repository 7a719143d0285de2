/**
 * A stream's saved state (issue 16, the Redis fleet's checkpoint): getState() → JSON → detector.stream(state) continues
 * bit for bit, for every model that streams × the thresholds that stream × combine, split at many points (inside the
 * warm-up, right after it, late, after the last point), restored onto the same detector and onto a copy loaded from its
 * toJSON. A restored stream shares no memory with the original or with the state object. Hostile states (every field
 * corrupted: wrong type, NaN, missing or extra key, wrong length, another detector's) are ArgumentErrors naming the
 * field, and a seeded fuzz loop over random corruptions never gets anything but an ArgumentError or finite scores.
 */
import { expect } from 'chai';
import { Detector } from '../../../lib/detect/detector';
import type { DetectorStream, StreamResult, DetectorStreamState } from '../../../lib/detect/stream';
import type { DetectorModel } from '../../../lib/detect/types';
import { ArgumentError } from '../../../lib/errors';
import { makeRng, type Rng } from '../../helpers/rng';

const W = 8;
const N_TRAIN = 240;
const N_TEST = 90;
const T0 = Date.UTC(2026, 0, 5);
const STEP = 5 * 60 * 1000;

/** F features: sines with noise; the test part has a spike and a level shift so that flags and peaks happen. */
function series(n: number, F: number, seed: string, anomalies: boolean): number[][] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, (_, t) =>
    Array.from({ length: F }, (_, f) => {
      let v = Math.sin(t / (5 + f)) + 0.15 * (rng() - 0.5);
      if (anomalies && t === 50) v += 4;
      if (anomalies && t >= 70 && t < 76) v += 1.5;
      return v;
    }),
  );
}

const times = (n: number, from: number): number[] => Array.from({ length: n }, (_, i) => T0 + (from + i) * STEP);

interface Case {
  name: string;
  detector: Detector;
  /** A copy loaded from its toJSON (the same detector for 'iqr', see below). */
  copy: Detector;
  test: number[][];
  timestamps: number[] | undefined;
}

/** The detector with another threshold/combine, by editing its toJSON (no refit). */
function variant(d: Detector, threshold: string, combine: string): Detector {
  const doc = JSON.parse(JSON.stringify(d.toJSON())) as { options: Record<string, unknown> };
  doc.options.threshold = threshold;
  doc.options.combine = combine;
  doc.options.causal = combine === 'last';
  return Detector.fromJSON(JSON.stringify(doc));
}

const copyOf = (d: Detector): Detector => Detector.fromJSON(JSON.stringify(d.toJSON()));

function push(s: DetectorStream, c: Case, from: number, to: number): StreamResult[] {
  const out: StreamResult[] = [];
  for (let i = from; i < to; i++) {
    const p = c.test[i];
    const r = c.timestamps ? s.push(p, c.timestamps[i]) : s.push(p.length === 1 ? p[0] : p);
    if (r !== null) out.push(r);
  }
  return out;
}

function sameResults(got: StreamResult[], want: StreamResult[], what: string): void {
  expect(got.length, `${what}: result count`).to.equal(want.length);
  for (let i = 0; i < want.length; i++) {
    const a = got[i],
      b = want[i];
    const keys = Object.keys(b).sort();
    expect(Object.keys(a).sort(), `${what}: keys of result ${i}`).to.deep.equal(keys);
    for (const k of ['index', 'score', 'flag', 'threshold'] as const) {
      if (!Object.is(a[k], b[k])) expect.fail(`${what}: result ${i} (index ${b.index}) ${k} ${a[k]} ≠ ${b[k]}`);
    }
    expect(a.contributions.length, `${what}: contributions of ${b.index}`).to.equal(b.contributions.length);
    for (let f = 0; f < b.contributions.length; f++) {
      if (!Object.is(a.contributions[f], b.contributions[f]))
        expect.fail(`${what}: result ${i} contribution ${f}: ${a.contributions[f]} ≠ ${b.contributions[f]}`);
    }
  }
}

/** Results of the points an uninterrupted stream returns, then its flush. */
function uninterrupted(c: Case): StreamResult[] {
  const s = c.detector.stream();
  return [...push(s, c, 0, c.test.length), ...s.flush()];
}

/** Streams k points, saves, restores (JSON round trip) on `target`, streams the rest and flushes. */
function splitRun(c: Case, k: number, target: Detector): StreamResult[] {
  const a = c.detector.stream();
  const head = push(a, c, 0, k);
  const text = JSON.stringify(a.getState());
  const b = target.stream(JSON.parse(text) as unknown);
  expect(JSON.stringify(b.getState()), `${c.name}: the restored stream's state at k = ${k}`).to.equal(text);
  // 'gru-online': the whole learning state (weights, Adam moments, replay buffer, alarm), not only the compact form.
  expect(b.onlineState(), `${c.name}: the restored learning state at k = ${k}`).to.deep.equal(a.onlineState());
  return [...head, ...push(b, c, k, c.test.length), ...b.flush()];
}

const fits = new Map<string, Detector>();
function fitted(model: DetectorModel, F: number, extra: Record<string, unknown> = {}): Detector {
  const key = `${model}/${F}/${JSON.stringify(extra)}`;
  let d = fits.get(key);
  if (d === undefined) {
    const train = series(N_TRAIN, F, `train-${F}`, false);
    const ts = extra.timeFeatures !== undefined && extra.timeFeatures !== false ? times(N_TRAIN, 0) : undefined;
    const hidden = model === 'dense-ae' ? [6, 3] : 6;
    const neural = model.endsWith('-ae') || model === 'lstm-forecast';
    d = new Detector({
      model,
      window: W,
      hidden,
      ...(neural ? { epochs: 2, batchSize: 16 } : {}),
      seed: 3,
      workers: 1,
      ...extra,
    });
    d.fit(F === 1 ? train.map((p) => p[0]) : train, ts ? { timestamps: ts } : {});
    fits.set(key, d);
  }
  return d;
}

function caseOf(name: string, d: Detector, F: number, timed: boolean, iqr = false): Case {
  return {
    name,
    detector: d,
    // 'iqr' calibrations hold negative scores, which Detector.fromJSON refuses today (io.ts: "scores are ≥ 0"): its
    // detectors are restored onto themselves only.
    copy: iqr ? d : copyOf(d),
    test: series(N_TEST, F, `test-${F}`, true),
    timestamps: timed ? times(N_TEST, N_TRAIN) : undefined,
  };
}

function cases(): Case[] {
  const out: Case[] = [];
  const aes: [DetectorModel, number][] = [
    ['lstm-ae', 2],
    ['gru-ae', 1],
    ['rnn-ae', 1],
    ['dense-ae', 2],
  ];
  for (const [model, F] of aes) {
    const base = fitted(model, F, { threshold: 'spot' });
    for (const combine of ['last', 'mean', 'max']) {
      for (const th of ['fixed:0.5', 'quantile:0.95', 'spot', 'dspot', 'likelihood']) {
        out.push(caseOf(`${model} F=${F} ${combine} ${th}`, variant(base, th, combine), F, false));
      }
    }
  }
  const forecast = fitted('lstm-forecast', 1, { threshold: 'spot' });
  for (const th of ['fixed:0.5', 'sigma', 'spot', 'dspot', 'likelihood'])
    out.push(caseOf(`lstm-forecast (EWMA) ${th}`, variant(forecast, th, 'last'), 1, false));
  const zscore = fitted('zscore', 2, { threshold: 'spot' });
  for (const th of ['fixed:3', 'iqr', 'spot', 'dspot', 'likelihood'])
    out.push(caseOf(`zscore F=2 ${th}`, variant(zscore, th, 'last'), 2, false));
  for (const th of ['fixed:2', 'contamination', 'spot', 'dspot', 'likelihood', 'ucl'])
    out.push(caseOf(`iqr ${th}`, fitted('iqr', 1, { threshold: th }), 1, false, true));
  for (const tf of [false, 'context', 'day'] as const) {
    const d = fitted('gru-online', 1, { timeFeatures: tf });
    out.push(caseOf(`gru-online timeFeatures ${String(tf)}`, d, 1, tf !== false));
  }
  return out;
}

/** Every path in a JSON value (objects by key, arrays by index: the first and last element), with the leaf key. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(v)) {
    const idx = v.length === 0 ? [] : v.length === 1 ? [0] : [0, v.length - 1];
    for (const i of idx) out.push(...paths(v[i], [...at, i]));
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  }
  return out;
}

function getAt(root: unknown, p: (string | number)[]): unknown {
  let v = root;
  for (const k of p) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

function setAt(root: unknown, p: (string | number)[], value: unknown): void {
  const parent = getAt(root, p.slice(0, -1)) as Record<string | number, unknown>;
  parent[p[p.length - 1]] = value;
}

/** The key that names a path's field: the last string key (an array element is named by its array). */
function fieldKey(p: (string | number)[]): string {
  for (let i = p.length - 1; i >= 0; i--) if (typeof p[i] === 'string') return p[i] as string;
  return 'state';
}

function expectNamed(f: () => unknown, key: string, what: string): void {
  let caught: unknown = null;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof ArgumentError)) {
    expect.fail(
      `${what}: expected an ArgumentError naming ${key}, got ${caught === null ? 'no error' : String(caught)}`,
    );
  }
  const named = new RegExp(`[.(]${key}[)\\[.]`).test(caught.message);
  if (!named) expect.fail(`${what}: the error does not name ${key}: ${caught.message}`);
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('DetectorStream state: getState() → JSON → detector.stream(state)', function () {
  this.timeout(600000);
  const all = cases();
  const ks = [0, 1, W - 2, W - 1, W, W + 1, W + 2, 41, N_TEST - 1, N_TEST];

  for (const c of all) {
    it(`${c.name}: continues bit for bit from any split, on the detector and on its toJSON copy`, () => {
      const want = uninterrupted(c);
      // Scored points: every point after the warm-up (autoencoders: from the W-th, and with mean/max flush returns the
      // rest, so every point; the others from the (W+1)-th; 'gru-online' every point).
      const warm = c.name.startsWith('gru-online') || / (mean|max) /.test(c.name) ? 0 : /-ae /.test(c.name) ? W - 1 : W;
      expect(want.length, `${c.name}: results`).to.equal(N_TEST - warm);
      ks.forEach((k, i) => {
        sameResults(splitRun(c, k, i % 2 === 0 ? c.copy : c.detector), want, `${c.name}, split at ${k}`);
      });
    });
  }

  it('the flags and thresholds compared above move: spikes flag, DSPOT thresholds change as points stream', () => {
    const spot = all.find((c) => c.name === 'zscore F=2 dspot') as Case;
    const r = uninterrupted(spot);
    expect(r.some((x) => x.flag === 1)).to.equal(true);
    expect(new Set(r.map((x) => x.threshold)).size).to.be.above(1);
    const online = all.find((c) => c.name === 'gru-online timeFeatures context') as Case;
    expect(new Set(uninterrupted(online).map((x) => x.score)).size).to.be.above(10);
  });

  it('a restored stream shares no memory with the original or with the state object', () => {
    for (const name of [
      'lstm-ae F=2 mean spot',
      'iqr dspot',
      'lstm-forecast (EWMA) likelihood',
      'gru-online timeFeatures context',
    ]) {
      const c = all.find((x) => x.name === name) as Case;
      const want = uninterrupted(c);
      const a = c.detector.stream();
      const head = push(a, c, 0, 30);
      const state = a.getState(); // no JSON round trip: the object itself
      const b = c.detector.stream(state);
      // Tamper with every array and number in the state object after the restore, and with a's next getState().
      const scramble = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach((x, i) => (typeof x === 'number' ? (v[i] = 1234.5) : scramble(x)));
        else if (v !== null && typeof v === 'object') Object.values(v).forEach(scramble);
      };
      scramble(state);
      scramble(a.getState());
      const restA = [...push(a, c, 30, N_TEST), ...a.flush()]; // a runs to the end first …
      const restB = [...push(b, c, 30, N_TEST), ...b.flush()]; // … then b, which must not have moved with it
      sameResults([...head, ...restA], want, `${name}: the original`);
      sameResults([...head, ...restB], want, `${name}: the restored stream`);
    }
  });

  it('encodes -0, NaN and ±Infinity explicitly: lastTime is "-Infinity" before a timestamp; -0 points round-trip', () => {
    const c = all.find((x) => x.name === 'zscore F=2 fixed:3') as Case;
    const s = c.detector.stream();
    const st = s.getState();
    expect(st.lastTime).to.equal('-Infinity');
    expect(st.format).to.equal('bptt-stream');
    expect(st.formatVersion).to.equal(1);
    // A point whose normalised value is -0 (offset 0, value -0) keeps its sign through JSON.
    const doc = JSON.parse(JSON.stringify(c.detector.toJSON())) as { normaliser: { offset: number[] } };
    doc.normaliser.offset = [0, 0];
    const d0 = Detector.fromJSON(JSON.stringify(doc));
    const z = d0.stream();
    z.push([-0, 0.5]);
    const saved = JSON.parse(JSON.stringify(z.getState())) as DetectorStreamState;
    expect(saved.hist[0]).to.equal('-0');
    const back = d0.stream(saved);
    expect(Object.is((back.getState().hist as unknown[])[0], '-0')).to.equal(true);
    const g = all.find((x) => x.name === 'gru-online timeFeatures day') as Case;
    const t = g.detector.stream();
    push(t, g, 0, 3);
    expect(t.getState().lastTime).to.equal(g.timestamps?.[2]);
  });

  describe('hostile states: ArgumentError naming the field', () => {
    const picks = [
      'lstm-ae F=2 mean spot',
      'dense-ae F=2 max dspot',
      'lstm-forecast (EWMA) likelihood',
      'zscore F=2 fixed:3',
      'iqr dspot',
      'gru-online timeFeatures context',
    ];
    for (const name of picks) {
      it(`${name}: every field corrupted (wrong type, NaN, missing, extra key) is refused, naming it`, () => {
        const c = all.find((x) => x.name === name) as Case;
        const a = c.detector.stream();
        push(a, c, 0, 40);
        const good = clone(a.getState());
        let checked = 0;
        for (const p of paths(good)) {
          if (p.length === 0) continue;
          const v = getAt(good, p);
          const key = fieldKey(p);
          const what = `${name}: state.${p.join('.')}`;
          for (const bad of ['x', NaN, { a: 1 }]) {
            const s = clone(good);
            setAt(s, p, bad);
            expectNamed(() => c.detector.stream(s), key, `${what} = ${String(bad)}`);
            checked++;
          }
          if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
            for (const k of Object.keys(v)) {
              const s = clone(good);
              delete (getAt(s, p) as Record<string, unknown>)[k];
              expectNamed(() => c.detector.stream(s), k, `${what}: without ${k}`);
            }
            const s = clone(good);
            (getAt(s, p) as Record<string, unknown>).extra = 1;
            expectNamed(() => c.detector.stream(s), 'extra', `${what}: with an extra key`);
          }
        }
        for (const k of Object.keys(good)) {
          const s = clone(good) as unknown as Record<string, unknown>;
          delete s[k];
          expectNamed(() => c.detector.stream(s), k, `${name}: state without ${k}`);
        }
        expect(checked).to.be.above(40);
      });
    }

    it('wrong lengths of the rings, peaks, windows and weights are refused, naming the field', () => {
      const check = (name: string, at: (string | number)[]): void => {
        const c = all.find((x) => x.name === name) as Case;
        const a = c.detector.stream();
        push(a, c, 0, 40);
        const good = clone(a.getState());
        const arr = getAt(good, at) as unknown[];
        expect(Array.isArray(arr), `${name}: ${at.join('.')} is an array`).to.equal(true);
        for (const len of [arr.length - 1, arr.length + 1]) {
          const s = clone(good);
          setAt(
            s,
            at,
            Array.from({ length: len }, () => 0.25),
          );
          expectNamed(() => c.detector.stream(s), fieldKey(at), `${name}: ${at.join('.')} of length ${len}`);
        }
      };
      check('lstm-ae F=2 mean spot', ['hist']);
      check('lstm-ae F=2 mean spot', ['sum']);
      check('lstm-ae F=2 mean spot', ['threshold', 'peaks']);
      check('iqr dspot', ['threshold', 'window']);
      check('zscore F=2 fixed:3', ['hist']);
      check('gru-online timeFeatures context', ['online', 'model', 'h']);
      check('gru-online timeFeatures context', ['online', 'context', 'params', 0]);
      check('gru-online timeFeatures context', ['online', 'alarm', 'histRaw']);
      check('lstm-forecast (EWMA) likelihood', ['threshold', 'histRaw']);
    });

    it('wrong format, version, shape, and a state of another detector are refused', () => {
      const c = all.find((x) => x.name === 'zscore F=2 spot') as Case;
      const a = c.detector.stream();
      push(a, c, 0, 20);
      const good = clone(a.getState());
      const d = c.detector;
      expectNamed(() => d.stream(null), 'state', 'null');
      expectNamed(() => d.stream([good]), 'state', 'an array');
      expectNamed(() => d.stream('{}'), 'state', 'a string');
      expectNamed(() => d.stream({ ...good, format: 'bptt-detector' }), 'format', 'another format');
      expectNamed(() => d.stream({ ...good, formatVersion: 2 }), 'formatVersion', 'a newer version');
      // Another detector: refitted on other data (same options) → hash; other options → the field that differs.
      const other = new Detector({ model: 'zscore', window: W, threshold: 'spot', seed: 3, workers: 1 }).fit(
        series(N_TRAIN, 2, 'other', false),
      );
      expectNamed(() => other.stream(good), 'hash', 'another fit');
      expectNamed(() => variant(d, 'dspot', 'last').stream(good), 'threshold', 'another threshold');
      const wider = new Detector({ model: 'zscore', window: W + 1, threshold: 'spot', seed: 3, workers: 1 }).fit(
        series(N_TRAIN, 2, 'train-2', false),
      );
      expectNamed(() => wider.stream(good), 'window', 'another window');
      expectNamed(() => fitted('iqr', 1, { threshold: 'spot' }).stream(good), 'model', 'another model');
      // A state of a valid kind but inconsistent content: gru-online's t against the rows its forecaster has seen.
      const g = all.find((x) => x.name === 'gru-online timeFeatures false') as Case;
      const s = g.detector.stream();
      push(s, g, 0, 10);
      const gs = clone(s.getState());
      expectNamed(() => g.detector.stream({ ...gs, t: 11 }), 't', 'gru-online t off by one');
      expectNamed(() => g.detector.stream({ ...gs, lastTime: 'Infinity' }), 'lastTime', 'lastTime +Infinity');
      expectNamed(() => d.stream({ ...good, lastTime: 5 }), 'lastTime', 'a timestamp on a model without them');
      expectNamed(() => d.stream({ ...good, t: -1 }), 't', 'negative t');
      expectNamed(() => d.stream({ ...good, t: 2.5 }), 't', 'fractional t');
      expectNamed(() => d.stream({ ...good, hist: good.hist.map(() => 1e16) }), 'hist', 'hist beyond saturation');
    });
  });

  it('a seeded fuzz of 400 corrupted states: only ArgumentErrors, and never a NaN score or threshold', () => {
    const rng: Rng = makeRng('stream-state-fuzz');
    const pool: unknown[] = [
      NaN,
      Infinity,
      -Infinity,
      'Infinity',
      '-Infinity',
      'NaN',
      '-0',
      -1,
      0,
      0.5,
      1,
      3,
      1e308,
      -1e308,
      1e300,
      2 ** 53,
      1.5,
      'x',
      null,
      true,
      [],
      {},
      [0],
    ];
    const sources = [
      'lstm-ae F=2 mean spot',
      'gru-ae F=1 max likelihood',
      'rnn-ae F=1 last dspot',
      'lstm-forecast (EWMA) spot',
      'zscore F=2 likelihood',
      'iqr dspot',
      'gru-online timeFeatures context',
      'gru-online timeFeatures false',
    ].map((name) => {
      const c = all.find((x) => x.name === name) as Case;
      const a = c.detector.stream();
      push(a, c, 0, 45);
      return { c, good: clone(a.getState()) };
    });
    let refused = 0,
      accepted = 0;
    for (let it = 0; it < 400; it++) {
      const { c, good } = sources[Math.floor(rng() * sources.length)];
      const s = clone(good);
      const ps = paths(s).filter((p) => p.length > 0);
      const hits = 1 + Math.floor(rng() * 3);
      for (let h = 0; h < hits; h++) {
        const p = ps[Math.floor(rng() * ps.length)];
        const v = getAt(s, p);
        const parent = getAt(s, p.slice(0, -1));
        if (v === undefined || parent === null || typeof parent !== 'object') continue;
        const r = rng();
        if (typeof v === 'number' && r < 0.4) setAt(s, p, r < 0.2 ? v * (1 + (rng() - 0.5) * 1e-3) : v + 1);
        else if (Array.isArray(v) && r < 0.6) setAt(s, p, r < 0.5 ? v.slice(1) : [...v, v[v.length - 1] ?? 0]);
        else if (v !== null && typeof v === 'object' && !Array.isArray(v) && r < 0.6) {
          const keys = Object.keys(v);
          if (keys.length > 0) delete (v as Record<string, unknown>)[keys[Math.floor(rng() * keys.length)]];
        } else setAt(s, p, pool[Math.floor(rng() * pool.length)]);
      }
      let stream: DetectorStream;
      try {
        stream = c.detector.stream(s);
      } catch (e) {
        if (!(e instanceof ArgumentError)) throw e;
        refused++;
        continue;
      }
      accepted++;
      try {
        for (const r of [...push(stream, c, 45, N_TEST), ...stream.flush()]) {
          if (Number.isNaN(r.score) || Number.isNaN(r.threshold))
            expect.fail(`fuzz ${it} (${c.name}): NaN at ${r.index}: ${JSON.stringify(s).slice(0, 300)}`);
          for (const x of r.contributions) if (Number.isNaN(x)) expect.fail(`fuzz ${it}: NaN contribution`);
        }
      } catch (e) {
        if (!(e instanceof ArgumentError)) throw e;
      }
    }
    expect(refused, 'corruptions refused').to.be.above(100);
    expect(accepted, 'corruptions that are still valid states (a changed number) streamed').to.be.above(10);
  });
});

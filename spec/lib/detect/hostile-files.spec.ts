/**
 * A detector or model file is untrusted input. These tests craft files as an attacker would (code in a boolean field,
 * in an activation name, in a size, parts that disagree) and check that loading refuses them with the file named, and
 * that exportScorer re-validates what it writes and emits fixed code plus data, so that no detector, however it was
 * built, makes the exported module run code when it is imported.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Detector } from '../../../lib/detect/detector';
import { modelFromJSON } from '../../../lib/model/loaders';
import { ArgumentError, MemoryLimitError, ModelFileError } from '../../../lib/errors';
import { encodeFloats } from '../../../lib/io/json';
import { makeRng } from '../../helpers/rng';
import { importEsm } from '../../helpers/esm';

const PAYLOAD = "false,x:(globalThis.PWNED=1,console.log('INJECTED'))";
const MAIN = path.resolve(__dirname, '../../../lib/cli/main.js');

type Json = Record<string, unknown>;

/** Sets the value at a path of keys/indices in a deep copy of `doc`. */
function mutate(doc: Json, keys: (string | number)[], value: unknown): Json {
  const copy = JSON.parse(JSON.stringify(doc)) as Json;
  let o: Record<string | number, unknown> = copy;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[keys[keys.length - 1]] = value;
  return copy;
}

const importModule = (file: string): Promise<Record<string, unknown>> => importEsm<Record<string, unknown>>(file);

describe('hostile detector and model files', () => {
  const rng = makeRng('hostile');
  const series = Array.from({ length: 240 }, (_, t) => Math.sin(t / 5) + 0.05 * rng());
  let dir: string;
  let gru: Detector;
  let gruDoc: Json;
  let lstm: Detector;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-hostile-'));
    gru = new Detector({
      model: 'gru-ae',
      window: 8,
      hidden: 4,
      epochs: 1,
      seed: 3,
      threshold: 'quantile:0.99',
      workers: 1,
    }).fit(series);
    gruDoc = JSON.parse(JSON.stringify(gru.toJSON())) as Json;
    lstm = new Detector({
      model: 'lstm-forecast',
      window: 8,
      hidden: 4,
      epochs: 1,
      seed: 3,
      threshold: 'spot',
      workers: 1,
    }).fit(series);
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    delete (globalThis as { PWNED?: unknown }).PWNED;
  });

  // Every field the exported module used to interpolate, and the cross-field rules.
  const crafted: [string, (string | number)[], unknown, RegExp][] = [
    [
      'goBackwards as code',
      ['model', 'layers', 0, 'config', 'goBackwards'],
      PAYLOAD,
      /goBackwards\): expected true or false/,
    ],
    [
      'returnSequences as code',
      ['model', 'layers', 0, 'config', 'returnSequences'],
      PAYLOAD,
      /returnSequences\): expected true or false/,
    ],
    [
      'resetAfter as a string',
      ['model', 'layers', 0, 'config', 'resetAfter'],
      'true',
      /resetAfter\): expected true or false/,
    ],
    [
      'activation as code',
      ['model', 'layers', 0, 'config', 'activation'],
      "tanh'),(globalThis.PWNED=1),('",
      /activation/,
    ],
    [
      'recurrentActivation as code',
      ['model', 'layers', 0, 'config', 'recurrentActivation'],
      PAYLOAD,
      /recurrentActivation/,
    ],
    [
      'units as code',
      ['model', 'layers', 0, 'config', 'units'],
      '4,x:(globalThis.PWNED=1)',
      /units\): expected a positive integer/,
    ],
    ['units fractional', ['model', 'layers', 0, 'config', 'units'], 4.5, /units\): expected a positive integer/],
    ['RepeatVector n as code', ['model', 'layers', 1, 'config', 'n'], '8}];globalThis.PWNED=1;//', /repeatVector\(n\)/],
    [
      'Dense activation as code',
      ['model', 'layers', 3, 'config', 'layer', 'config', 'activation'],
      PAYLOAD,
      /dense\(activation\)/,
    ],
    [
      'Dense useBias as a string',
      ['model', 'layers', 3, 'config', 'layer', 'config', 'useBias'],
      'true',
      /useBias\): expected true or false/,
    ],
    [
      'an unknown layer option',
      ['model', 'layers', 0, 'config', 'goBackward'],
      true,
      /unknown option "goBackward" \(did you mean 'goBackwards'\?\)/,
    ],
    ['options.model as code', ['options', 'model'], 'gru-ae\nglobalThis.PWNED=1//', /Detector\(model\)/],
    ['options.combine as code', ['options', 'combine'], PAYLOAD, /Detector\(combine\)/],
    ['options.window as a string', ['options', 'window'], '8', /Detector\(window\): expected a positive integer/],
    ['options.smoothing as code', ['options', 'smoothing'], '5;globalThis.PWNED=1', /Detector\(smoothing\)/],
    ['options.threshold as code', ['options', 'threshold'], PAYLOAD, /threshold/],
    ['options.workers in a file', ['options', 'workers'], 2, /unknown option "workers"/],
    ['a misspelt option', ['options', 'windw'], 8, /unknown option "windw" \(did you mean 'window'\?\)/],
    ['normaliser offset as code', ['normaliser', 'offset'], ['0;globalThis.PWNED=1'], /normaliser/],
    ['features as a string', ['features'], '1', /features must be an integer/],
    ['an unknown top-level field', ['script'], PAYLOAD, /unknown option "script"/],
    [
      'model kind changed (parts disagree)',
      ['options', 'model'],
      'lstm-ae',
      /not the 'lstm-ae' network that the options describe/,
    ],
    ['hidden size changed (parts disagree)', ['options', 'hidden'], [5], /not the 'gru-ae' network/],
    ['normaliser kind disagrees with options', ['normaliser', 'kind'], 'minmax', /normaliser kind "minmax" disagrees/],
    [
      'cli columns of the wrong count',
      ['cli'],
      { columns: ['a', 'b'], timeColumn: null, trainedOn: 'x', trainRows: 1 },
      /cli\.columns: expected 1 column/,
    ],
  ];

  for (const [what, keys, value, re] of crafted) {
    it(`Detector.load rejects a file with ${what}, naming the file`, () => {
      const file = path.join(dir, `${what.replace(/\W+/g, '_')}.json`);
      fs.writeFileSync(file, JSON.stringify(mutate(gruDoc, keys, value)));
      let err: unknown = null;
      try {
        Detector.load(file);
      } catch (e) {
        err = e;
      }
      expect(err, 'load must throw').to.be.instanceOf(Error);
      const msg = (err as Error).message;
      expect(err).to.satisfy((e: unknown) => e instanceof ModelFileError || e instanceof MemoryLimitError, msg);
      expect(msg.startsWith(`Detector.load(${file})`), msg).to.equal(true);
      expect(msg).to.match(re);
      expect((globalThis as { PWNED?: unknown }).PWNED).to.equal(undefined);
    });
  }

  it('a missing, empty, truncated or foreign file is a ModelFileError that starts with Detector.load(path)', () => {
    const cases: [string, string | null, RegExp][] = [
      ['missing.json', null, /cannot read the file: ENOENT/],
      ['empty.json', '', /the file is empty/],
      ['truncated.json', JSON.stringify(gruDoc).slice(0, 50), /not valid JSON/],
      ['model.json', JSON.stringify({ format: 'bptt-model' }), /this is a model file: load it with Sequential\.load/],
    ];
    for (const [name, text, re] of cases) {
      const file = path.join(dir, name);
      if (text !== null) fs.writeFileSync(file, text);
      let err: unknown = null;
      try {
        Detector.load(file);
      } catch (e) {
        err = e;
      }
      expect(err, name).to.be.instanceOf(ModelFileError);
      expect((err as ModelFileError).message, name).to.match(re);
      expect((err as ModelFileError).message.startsWith(`Detector.load(${file}): `), name).to.equal(true);
      expect((err as ModelFileError).file, name).to.equal(`Detector.load(${file})`);
    }
  });

  it('a file with the original values still loads and scores as the detector that wrote it', () => {
    const back = Detector.fromJSON(JSON.stringify(gruDoc));
    expect(Array.from(back.score(series).scores)).to.deep.equal(Array.from(gru.score(series).scores));
  });

  it('the model loader names its source for a crafted layer, a bad seed and an unknown field', () => {
    const m = gruDoc['model'] as Json;
    expect(() => modelFromJSON(mutate(m, ['layers', 0, 'config', 'goBackwards'], 'false'), 'm.json')).to.throw(
      ArgumentError,
      /^m\.json: .*goBackwards/,
    );
    expect(() => modelFromJSON(mutate(m, ['seed'], { toString: PAYLOAD }), 'm.json')).to.throw(
      ArgumentError,
      /^m\.json: seed must be/,
    );
    expect(() => modelFromJSON(mutate(m, ['layers', 0, 'extra'], 1), 'm.json')).to.throw(
      ArgumentError,
      /^m\.json: layers\[0\]: unknown option "extra"/,
    );
    expect(() => modelFromJSON(mutate(m, ['weights', 0, 'data2'], ''), 'm.json')).to.throw(
      ArgumentError,
      /^m\.json: weights\[0\]: unknown option "data2"/,
    );
    // Sizes that cannot be allocated: refused before allocating, by type, with the file named.
    expect(() => modelFromJSON(mutate(m, ['layers', 0, 'config', 'units'], 1e9), 'm.json')).to.throw(
      MemoryLimitError,
      /^m\.json: .*GiB/,
    );
    expect(() => modelFromJSON(mutate(m, ['layers', 1, 'config', 'n'], 1e9), 'm.json')).to.throw(
      MemoryLimitError,
      /^m\.json: /,
    );
  });

  // In-memory objects that bypass the loader: exportScorer re-validates each value it writes.
  const bypass: [string, (d: Detector) => void, RegExp][] = [
    [
      'goBackwards',
      (d) => {
        (d.model?.layers[0] as unknown as Json)['goBackwards'] = PAYLOAD;
      },
      /layers\[0\]\.goBackwards: expected true or false/,
    ],
    [
      'returnSequences',
      (d) => {
        (d.model?.layers[0] as unknown as Json)['returnSequences'] = PAYLOAD;
      },
      /returnSequences: expected true or false/,
    ],
    [
      'resetAfter',
      (d) => {
        (d.model?.layers[0] as unknown as Json)['resetAfter'] = PAYLOAD;
      },
      /resetAfter: expected true or false/,
    ],
    [
      'activation',
      (d) => {
        (d.model?.layers[0] as unknown as Json)['activation'] = PAYLOAD;
      },
      /activation: expected one of/,
    ],
    [
      'units',
      (d) => {
        (d.model?.layers[0] as unknown as Json)['units'] = PAYLOAD;
      },
      /units: expected a positive integer/,
    ],
    [
      'RepeatVector n',
      (d) => {
        (d.model?.layers[1] as unknown as Json)['n'] = PAYLOAD;
      },
      /layers\[1\]\.n: expected a positive integer/,
    ],
    [
      'options.model',
      (d) => {
        (d.options as unknown as Json)['model'] = "gru-ae'+(globalThis.PWNED=1)+'";
      },
      /options\.model: expected one of/,
    ],
    [
      'options.combine',
      (d) => {
        (d.options as unknown as Json)['combine'] = PAYLOAD;
      },
      /options\.combine/,
    ],
    [
      'options.window',
      (d) => {
        (d.options as unknown as Json)['window'] = PAYLOAD;
      },
      /options\.window/,
    ],
    [
      'options.smoothing',
      (d) => {
        (d.options as unknown as Json)['smoothing'] = PAYLOAD;
      },
      /options\.smoothing/,
    ],
    [
      'normaliser offset',
      (d) => {
        (d.normaliser as unknown as Json)['offset'] = [PAYLOAD];
      },
      /normaliser\.offset\[0\]/,
    ],
    [
      'features',
      (d) => {
        (d as unknown as Json)['features'] = PAYLOAD;
      },
      /features: expected a positive integer/,
    ],
  ];
  for (const [what, craft, re] of bypass) {
    it(`exportScorer refuses a crafted in-memory ${what}`, () => {
      const d = Detector.fromJSON(JSON.stringify(gruDoc));
      craft(d);
      expect(() => d.exportScorer()).to.throw(ArgumentError, re);
    });
  }

  it('writes fixed code: two different detectors give the same module apart from one JSON string literal', async () => {
    const a = gru.exportScorer(),
      b = lstm.exportScorer();
    const dataLine = /^const DATA = JSON\.parse\((.*)\);$/m;
    const strip = (src: string): string =>
      src.replace(dataLine, 'const DATA = ...;').replace(/^\/\/ Standalone.*$/m, '');
    expect(strip(a)).to.equal(strip(b));
    for (const src of [a, b]) {
      const literal = (dataLine.exec(src) as RegExpExecArray)[1];
      // The literal is one JSON string: parsing it as JSON gives the JSON text of the data, nothing else.
      const text = JSON.parse(literal) as unknown;
      expect(typeof text).to.equal('string');
      expect(JSON.stringify(text)).to.equal(literal);
    }
    // A name is free text that the loader accepts; it never reaches the module as code (nor at all).
    const evil = 'x`;globalThis.PWNED=1;`';
    let named = mutate(gruDoc, ['model', 'layers', 0, 'config', 'name'], evil);
    for (const [i, w] of ['kernel', 'recurrent_kernel', 'bias'].entries())
      named = mutate(named, ['model', 'weights', i, 'name'], `${evil}/${w}`);
    const d = Detector.fromJSON(JSON.stringify(named));
    const file = path.join(dir, 'named.mjs');
    d.exportScorer(file);
    const mod = await importModule(file);
    expect((globalThis as { PWNED?: unknown }).PWNED).to.equal(undefined);
    const s = (mod['score'] as (x: number[]) => Float64Array)(series);
    const ref = gru.score(series).scores;
    for (let t = 0; t < series.length; t++)
      expect(Math.abs(s[t] - ref[t])).to.be.at.most(1e-5 * Math.max(1e-3, ref[t]));
  });

  it('the exported scorer normalises huge values as the library does (no overflow, saturated), so flags agree', async () => {
    const x = series.slice();
    x[200] = 1e300;
    x[210] = -1.7e308;
    const file = path.join(dir, 'huge.mjs');
    gru.exportScorer(file);
    const mod = await importModule(file);
    const lib = gru.detect(x);
    const out = (mod['detect'] as (s: number[]) => { scores: Float64Array; flags: Uint8Array })(x);
    for (let t = 0; t < x.length; t++) {
      expect(Number.isFinite(out.scores[t]), `score ${t} finite`).to.equal(true);
      expect(Math.abs(out.scores[t] - lib.scores[t])).to.be.at.most(1e-5 * Math.max(1e-3, lib.scores[t]));
    }
    expect(Array.from(out.flags)).to.deep.equal(Array.from(lib.flags));
    expect(out.flags[200]).to.equal(1);
  });

  it('bptt score with a crafted model file exits 1 naming the file and the field, and runs nothing', () => {
    const file = path.join(dir, 'crafted.bptt.json');
    fs.writeFileSync(file, JSON.stringify(mutate(gruDoc, ['model', 'layers', 0, 'config', 'goBackwards'], PAYLOAD)));
    const csv = path.join(dir, 'live.csv');
    fs.writeFileSync(csv, `value\n${series.map((v) => v.toFixed(6)).join('\n')}\n`);
    const r = spawnSync(process.execPath, [MAIN, 'score', csv, '--model', file, '--out', path.join(dir, 'out.csv')], {
      encoding: 'utf8',
      timeout: 60000,
    });
    expect(r.status, r.stderr).to.equal(1);
    expect(r.stderr).to.include(file);
    expect(r.stderr).to.match(/goBackwards\): expected true or false/);
    expect(r.stdout).not.to.include('INJECTED'); // the message quotes the payload; nothing printed it
    expect(fs.existsSync(path.join(dir, 'out.csv'))).to.equal(false);
  });
  it("a negative calibration score is refused, except for 'iqr', whose scores are negative inside the quartiles", () => {
    const cal = Float64Array.from({ length: 40 }, (_, k) => k / 10);
    cal[3] = -0.5;
    expect(() => Detector.fromJSON(mutate(gruDoc, ['calibration'], encodeFloats(cal)))).to.throw(
      ModelFileError,
      'calibration[3] is negative (-0.5)',
    );
    const iqr = new Detector({ model: 'iqr', window: 16, threshold: 'quantile:0.99' }).fit(series);
    // Its calibration (the training scores) holds negative scores, which the loader used to refuse.
    expect(Math.min(...iqr.detect(series).scores.slice(16))).to.be.below(0);
    const doc = JSON.parse(JSON.stringify(iqr.toJSON())) as Json;
    const copy = Detector.fromJSON(doc);
    expect(copy.detect(series).scores).to.deep.equal(iqr.detect(series).scores);
    expect(copy.detect(series).flags).to.deep.equal(iqr.detect(series).flags);
  });
});

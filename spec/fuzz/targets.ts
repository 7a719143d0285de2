/**
 * The readers the fuzz suite attacks, each with its valid seed inputs, how a case is made from a seed, and what a good
 * refusal looks like. A case is made from (seed inputs, rng) alone, so `makeCase(target, seed, index)` rebuilds it.
 *
 *   csv            lib/cli/csv.ts readTable (a file; errors must be UserError naming the file or the option)
 *   options        lib/cli/options.ts parse + detectorOptions + fraction/list, as `bptt detect` calls them (UserError)
 *   model-json     lib/io/json.ts modelFromJSON (text or object; errors must name the source)
 *   detector-json  lib/detect/io.ts detectorFromJSON (text or object; errors must name the source)
 *   tfjs           lib/io/tfjs.ts fromTfjs (artifacts in memory) and loadTfjsModelSync/loadTfjsModel (model.json and
 *                  weight shards on disk; a shard path outside the model's directory must be refused)
 *   safetensors    lib/io/safetensors.ts parseSafetensors (bytes; errors must name the source)
 */
import '../../lib/node/install'; // file targets run in worker threads, where mocha's --require does not reach
import * as fs from 'fs';
import * as path from 'path';
import { readTable } from '../../lib/cli/csv';
import { UserError } from '../../lib/cli/errors';
import { ArgumentError } from '../../lib/errors';
import * as opt from '../../lib/cli/options';
import { DETECT_SPEC } from '../../lib/cli/detect';
import { Detector } from '../../lib/detect/detector';
import { resolveOptions } from '../../lib/detect/options';
import { modelToJSON } from '../../lib/io/json';
import { toTfjs, type TfjsArtifactsInput } from '../../lib/io/tfjs';
import { modelFromJSON, fromTfjs, loadTfjsModel, loadTfjsModelSync } from '../../lib/model/loaders';
import { parseSafetensors, serializeSafetensors } from '../../lib/io/safetensors';
import { bidirectional, dense, gru, lstm, simpleRNN, timeDistributed, dropout } from '../../lib/model/layers/index';
import { lstmAutoencoder, forecaster, denseAutoencoder } from '../../lib/model/presets';
import { Sequential } from '../../lib/model/sequential';
import { repoRoot } from '../helpers/repo';
import { clone, int, materialize, mutateBytes, mutateText, mutateTree, pick, type Rng, toJsonText } from './mutate';

export interface FuzzCase {
  /** How the case was made (seed input and edits), for the report. */
  what: string;
  run(): unknown;
  /** On success: what is wrong with the result, or null. */
  check?(result: unknown): string | null;
}

export interface Target {
  name: string;
  /** Which source files, and who fixes them. */
  files: string;
  owner: 'inputs-fuzz' | 'lead' | 'cli-safety';
  /** What a good refusal is, in words (for the report). */
  expect: string;
  /** null if e is a good refusal, else why not (the error names nothing, or is the wrong kind). */
  named(e: Error): string | null;
  /** Builds the seed inputs (called once per worker) in `dir`. */
  init(dir: string): void;
  make(rng: Rng, dir: string, index: number): FuzzCase;
}

/** A good refusal of a file: a typed error (ArgumentError, or its ModelFileError/MemoryLimitError) naming the source. */
const startsWith = (e: Error, prefixes: readonly string[], what: string): string | null => {
  if (!(e instanceof ArgumentError))
    return `not an ArgumentError (a caller cannot tell it from a bug): ${e.name}: ${e.message.slice(0, 160)}`;
  return prefixes.some((p) => e.message.startsWith(p))
    ? null
    : `${e.name} does not start with ${what}: ${e.message.slice(0, 160)}`;
};

const allFinite = (m: Sequential): string | null => {
  for (const w of m.weights()) {
    for (let i = 0; i < w.value.length; i++)
      if (!Number.isFinite(w.value[i])) return `weight ${w.name}[${i}] = ${w.value[i]}`;
  }
  return null;
};

// ---------------------------------------------------------------------------------------------------------------------
// CSV

const CSV_SEEDS: Array<{ name: string; text: string; options: Array<Record<string, unknown>> }> = [];

function series(n: number, f: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => f(i)).join('\n');
}

export const csvTarget: Target = {
  name: 'csv',
  files: 'lib/cli/csv.ts (readTable, CsvReader, detectSchema)',
  owner: 'inputs-fuzz',
  expect: 'a UserError naming the file (or the --option), line and column where it applies',
  named(e) {
    if (!(e instanceof UserError))
      return `not a UserError (the CLI would print an internal error): ${e.name}: ${e.message.slice(0, 160)}`;
    return /fuzz-\d+\.csv/.test(e.message) || e.message.startsWith('--')
      ? null
      : `does not name the file: ${e.message.slice(0, 160)}`;
  },
  init() {
    if (CSV_SEEDS.length > 0) return;
    const fix = path.join(repoRoot(), 'spec', 'fixtures', 'cli');
    for (const f of fs.readdirSync(fix).sort())
      CSV_SEEDS.push({ name: f, text: fs.readFileSync(path.join(fix, f), 'utf8'), options: [{}] });
    const ts = (i: number): string =>
      `2024-01-${String(1 + Math.floor(i / 288)).padStart(2, '0')} ${String(Math.floor((i % 288) / 12)).padStart(2, '0')}:${String((i % 12) * 5).padStart(2, '0')}:00`;
    CSV_SEEDS.push({
      name: 'timestamp,value,label',
      text: `timestamp,value,label\n${series(300, (i) => `${ts(i)},${(Math.sin(i / 7) * 10).toFixed(3)},${i % 97 === 0 ? 1 : 0}`)}\n`,
      options: [{}, { labelColumn: 'label' }, { columns: ['value'] }, { timeColumn: 'timestamp', exclude: ['label'] }],
    });
    CSV_SEEDS.push({
      name: 't,a,b (numeric time, CRLF, BOM)',
      text: `\ufefft,a,b\r\n${series(120, (i) => `${i * 0.5},${i % 3 === 0 ? '' : (i / 3).toFixed(2)},"${(-i).toExponential(2)}"`).replace(/\n/g, '\r\n')}\r\n`,
      options: [{}, { delimiter: ',' }, { columns: ['b', 'a'] }],
    });
    CSV_SEEDS.push({
      name: 'semicolon, quoted, no time column',
      text: `x;"y; z";name\n${series(80, (i) => `${i};"${(i * 1.5).toFixed(1)}";"host ""${i % 4}"""`)}\n`,
      options: [{}, { delimiter: ';' }, { columns: ['x'] }],
    });
  },
  make(rng, dir, index) {
    const seed = pick(rng, CSV_SEEDS);
    const { text, what } = mutateText(seed.text, rng, 1 + int(rng, 3));
    const options = clone(pick(rng, seed.options)) as Record<string, unknown>;
    if (rng() < 0.1) options['delimiter'] = pick(rng, [';', '\t', '"', '', 'ab', '\n', ',']);
    if (rng() < 0.05) options['columns'] = pick(rng, [['__proto__'], ['constructor'], ['value', 'value'], []]);
    const file = path.join(dir, `fuzz-${index}.csv`);
    return {
      what: `seed ${seed.name}; options ${JSON.stringify(options)}; ${what.join('; ')}`,
      run: () => {
        fs.writeFileSync(file, text);
        try {
          return readTable(file, options);
        } finally {
          fs.rmSync(file, { force: true });
        }
      },
      check(r) {
        const t = r as ReturnType<typeof readTable>;
        const F = t.columns.length;
        if (!(t.n >= 2) || t.values.length !== t.n * F || t.lines.length !== t.n)
          return `inconsistent table: n ${t.n}, F ${F}, ${t.values.length} values`;
        for (let i = 0; i < t.values.length; i++) {
          const v = t.values[i];
          if (!Number.isNaN(v) && !Number.isFinite(v)) return `value ${v} at ${i} (line ${t.lines[Math.floor(i / F)]})`;
        }
        if (t.times !== null && t.times.length !== t.n) return `${t.times.length} times for ${t.n} rows`;
        if (t.timeValues !== null && !t.timeValues.every(Number.isFinite)) return 'a non-finite time value';
        return null;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// Options

const ARGV_SEEDS: string[][] = [
  ['data.csv'],
  [
    'data.csv',
    '--model',
    'lstm-ae',
    '--window',
    '32',
    '--hidden',
    '32,8',
    '--epochs',
    '3',
    '--threshold',
    'spot',
    '--seed',
    '1',
  ],
  [
    '--model',
    'zscore',
    '--window',
    '16',
    'data.csv',
    '--min-gap',
    '2',
    '--train-fraction',
    '0.3',
    '-q',
    '-o',
    'out.csv',
  ],
  [
    'data.csv',
    '--threshold',
    'quantile:0.99',
    '--workers',
    '2',
    '--backend',
    'js',
    '--columns',
    'a,b',
    '--time-column',
    'ts',
  ],
  [
    'data.csv',
    '--model',
    'gru-ae',
    '--hidden',
    '8',
    '--threshold',
    'dspot:0.001',
    '--json',
    '--report',
    'r.html',
    '--save',
    'm.json',
  ],
  ['data.csv', '--threshold=sigma:3', '--window=8', '--delimiter', ';', '--labels', 'labels.json'],
];
const ARG_VALUES = [
  '',
  ' ',
  '0',
  '-1',
  '1',
  '2',
  '1e9',
  '1e309',
  '1e400',
  '4294967296',
  '9007199254740993',
  'NaN',
  'Infinity',
  '0x10',
  ' 5 ',
  '1.5',
  '-0',
  '08',
  'auto',
  'spot',
  'spot:',
  'spot:1e-400',
  'quantile:2',
  'fixed:1e400',
  'sigma:-3',
  'dynamic:x',
  'iqr:NaN',
  'lstm-ae',
  'LSTM-AE',
  '__proto__',
  'constructor',
  'toString',
  ',',
  '32,',
  ',8',
  '32,,8',
  '1,2,3,4,5,6,7,8,9,10',
  'wasm',
  'js',
  'x'.repeat(100_000),
  '😀',
  '\u0000',
  '-',
  '--',
  '-o',
  '--model',
  "');globalThis.__bpttFuzzPwned=1;//",
];
const ARG_OPTIONS = [
  '--model',
  '--window',
  '--hidden',
  '--epochs',
  '--threshold',
  '--seed',
  '--min-gap',
  '--workers',
  '--backend',
  '--train-fraction',
  '--columns',
  '--time-column',
  '--delimiter',
  '--labels',
  '--train',
  '--out',
  '-o',
  '--report',
  '--save',
  '--json',
  '-q',
  '--quiet',
  '-h',
  '--help',
  '--__proto__',
  '--constructor',
  '--toString',
  '--hasOwnProperty',
  '--prototype',
  '---x',
  '-',
  '--',
  '-qh',
  '-qo',
  '--model=',
  '--window=1e9',
  '--no-json',
  '--JSON',
  '-x',
  '--valueOf',
];

export const optionsTarget: Target = {
  name: 'options',
  files: 'lib/cli/options.ts (parse, detectorOptions, int, fraction, list) as bptt detect calls them',
  owner: 'cli-safety',
  expect: 'a UserError naming the option',
  named(e) {
    return e instanceof UserError
      ? null
      : `not a UserError (the CLI would print an internal error): ${e.name}: ${e.message.slice(0, 160)}`;
  },
  init() {},
  make(rng) {
    const argv = pick(rng, ARGV_SEEDS).slice();
    const what: string[] = [];
    const n = 1 + int(rng, 3);
    for (let e = 0; e < n; e++) {
      const i = int(rng, argv.length + 1);
      const op = int(rng, 5);
      if (op === 0 && argv.length > 0) {
        what.push(`removed ${JSON.stringify(argv[i] ?? argv[0])}`);
        argv.splice(Math.min(i, argv.length - 1), 1);
      } else if (op === 1) {
        const o = pick(rng, ARG_OPTIONS);
        argv.splice(i, 0, o);
        what.push(`inserted ${o} at ${i}`);
      } else if (op === 2 && argv.length > 0) {
        const j = Math.min(i, argv.length - 1),
          v = pick(rng, ARG_VALUES);
        what.push(
          `argv[${j}] ${JSON.stringify(argv[j].slice(0, 20))} → ${JSON.stringify(v.slice(0, 20))}${v.length > 20 ? `… (${v.length})` : ''}`,
        );
        argv[j] = v;
      } else if (op === 3) {
        const o = pick(rng, ARG_OPTIONS),
          v = pick(rng, ARG_VALUES);
        argv.splice(i, 0, o, v);
        what.push(`inserted ${o} ${JSON.stringify(v.slice(0, 20))}`);
      } else if (argv.length > 0) {
        const j = Math.min(i, argv.length - 1);
        argv.splice(j, 0, argv[j]);
        what.push(`duplicated ${JSON.stringify(argv[j])}`);
      }
    }
    return {
      what: `argv ${JSON.stringify(argv.map((a) => (a.length > 30 ? `${a.slice(0, 10)}…(${a.length})` : a)))}; ${what.join('; ')}`,
      run: () => {
        const { values: v, positionals } = opt.parse('detect', argv, DETECT_SPEC);
        opt.onePositional('detect', positionals, 'CSV file');
        const o = opt.detectorOptions(v);
        opt.fraction(v, 'train-fraction');
        opt.list(v, 'columns');
        return { values: v, options: o };
      },
      check(r) {
        const { values, options } = r as { values: Record<string, unknown>; options: Record<string, unknown> };
        if (Object.getPrototypeOf(options) !== Object.prototype)
          return 'detectorOptions returned an object with another prototype';
        try {
          resolveOptions(options); // accepted options must make a Detector configuration
        } catch (e) {
          return `accepted options the Detector refuses: ${(e as Error).message.slice(0, 160)} (values ${JSON.stringify(values).slice(0, 200)})`;
        }
        return null;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// Models and detectors (bptt's JSON formats)

const MODEL_SEEDS: Array<{ name: string; json: unknown }> = [];
const DETECTOR_SEEDS: Array<{ name: string; json: unknown }> = [];
const MODEL_KEYS = [
  'format',
  'formatVersion',
  'name',
  'seed',
  'dtype',
  'inputShape',
  'layers',
  'weights',
  'training',
  'className',
  'config',
  'units',
  'shape',
  'data',
  'loss',
  'epochsTrained',
  'optimizer',
  'slots',
  'step',
  'returnSequences',
  'n',
  'targetShape',
  'rate',
  'stateful',
  'goBackwards',
  'resetAfter',
  'activation',
  'recurrentActivation',
  'layer',
  'inputShape',
  'useBias',
  'dropout',
];
const DETECTOR_KEYS = [
  'format',
  'formatVersion',
  'options',
  'features',
  'normaliser',
  'calibration',
  'model',
  'kind',
  'offset',
  'scale',
  'window',
  'hidden',
  'epochs',
  'threshold',
  'workers',
  'batchSize',
  'minGap',
  'smoothing',
  'combine',
  'normalize',
  'online',
  'alarm',
  'params',
  'probation',
  'memory',
  'histRaw',
  'adamT',
  'timeFeatures',
  ...MODEL_KEYS,
];

function smallSeries(n: number, F: number): number[][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: F }, (_, f) => Math.sin(i / (3 + f)) + 0.1 * Math.cos(i * 1.7 + f)),
  );
}

function initModels(): void {
  if (MODEL_SEEDS.length > 0) return;
  const x = { data: Float32Array.from({ length: 8 * 4 * 2 }, (_, i) => Math.sin(i)), shape: [8, 4, 2] };
  const ae = lstmAutoencoder({ window: 4, features: 2, units: [3], seed: 1 });
  ae.compile({ optimizer: 'adam' });
  ae.fit(x, x, { epochs: 1, batchSize: 4, seed: 1, workers: 1 });
  MODEL_SEEDS.push({ name: 'lstm autoencoder with Adam state', json: modelToJSON(ae) });
  MODEL_SEEDS.push({
    name: 'gru forecaster float64',
    json: modelToJSON(forecaster({ window: 4, features: 2, units: [3, 2], cell: 'gru', seed: 2, dtype: 'float64' })),
  });
  MODEL_SEEDS.push({
    name: 'dense autoencoder',
    json: modelToJSON(denseAutoencoder({ window: 4, features: 2, units: [3, 2], seed: 3 })),
  });
  const bi = new Sequential(
    [
      bidirectional(simpleRNN({ units: 2, returnSequences: true })),
      dropout({ rate: 0.2 }),
      timeDistributed(dense({ units: 1 })),
    ],
    { seed: 4 },
  );
  bi.build([3, 2]);
  MODEL_SEEDS.push({ name: 'bidirectional rnn, dropout, timeDistributed', json: modelToJSON(bi) });

  const s = smallSeries(60, 1);
  const z = new Detector({ model: 'zscore', window: 5, threshold: 'quantile:0.95', workers: 1 }).fit(s);
  DETECTOR_SEEDS.push({ name: 'zscore detector', json: z.toJSON() });
  const a = new Detector({ model: 'lstm-ae', window: 4, hidden: 3, epochs: 1, seed: 1, workers: 1 }).fit(
    smallSeries(60, 2),
  );
  DETECTOR_SEEDS.push({ name: 'lstm-ae detector', json: a.toJSON() });
  const f = new Detector({
    model: 'lstm-forecast',
    window: 4,
    hidden: 2,
    epochs: 1,
    seed: 2,
    threshold: 'sigma:3',
    workers: 1,
  }).fit(s);
  DETECTOR_SEEDS.push({ name: 'lstm-forecast detector', json: f.toJSON() });
  const o = new Detector({ model: 'gru-online', window: 4, hidden: 3, seed: 1 }).fit(s);
  DETECTOR_SEEDS.push({ name: 'gru-online detector', json: o.toJSON() });
}

/** A case for a JSON loader: tree edits (as text or as an object) or text edits of the seed's JSON text. */
function jsonCase(
  rng: Rng,
  seeds: Array<{ name: string; json: unknown }>,
  keys: readonly string[],
): { input: unknown; what: string } {
  const seed = pick(rng, seeds);
  if (rng() < 0.65) {
    const { tree, what } = mutateTree(seed.json, rng, 1 + int(rng, 3), keys);
    const asText = rng() < 0.6;
    return {
      input: asText ? toJsonText(tree) : materialize(tree),
      what: `seed ${seed.name}; as ${asText ? 'text' : 'object'}; ${what.join('; ')}`,
    };
  }
  const { text, what } = mutateText(JSON.stringify(seed.json), rng, 1 + int(rng, 3));
  return { input: text, what: `seed ${seed.name}; text edits: ${what.join('; ')}` };
}

export const modelTarget: Target = {
  name: 'model-json',
  files: 'lib/io/json.ts modelFromJSON (and lib/model/layers/* configs, lib/model/optimizers.ts state)',
  owner: 'lead',
  expect: "an Error whose message starts with the source ('fuzz-model.json: ...')",
  named: (e) => startsWith(e, ['fuzz-model.json'], "the source 'fuzz-model.json'"),
  init: initModels,
  make(rng) {
    const { input, what } = jsonCase(rng, MODEL_SEEDS, MODEL_KEYS);
    return {
      what,
      run: () => modelFromJSON(input, 'fuzz-model.json'),
      check: (m) => allFinite(m as Sequential),
    };
  },
};

export const detectorTarget: Target = {
  name: 'detector-json',
  files: 'lib/detect/io.ts detectorFromJSON (and Detector options, lib/io/json.ts for the network)',
  owner: 'lead',
  expect: "an Error whose message starts with the source ('fuzz-detector.json: ...')",
  named: (e) => startsWith(e, ['fuzz-detector.json'], "the source 'fuzz-detector.json'"),
  init: initModels,
  make(rng) {
    const { input, what } = jsonCase(rng, DETECTOR_SEEDS, DETECTOR_KEYS);
    return {
      what,
      run: () => Detector.fromJSON(input, 'fuzz-detector.json'),
      check(d) {
        const det = d as Detector;
        if (!det.fitted) return 'loaded detector is not fitted';
        if (!det.calibration?.every(Number.isFinite)) return 'non-finite calibration';
        return det.model ? allFinite(det.model) : null;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// TensorFlow.js

interface TfjsSeed {
  name: string;
  modelJson: Record<string, unknown>;
  shards: Uint8Array[];
}
const TFJS_SEEDS: TfjsSeed[] = [];
const TFJS_KEYS = [
  'class_name',
  'config',
  'layers',
  'units',
  'batch_input_shape',
  'return_sequences',
  'weightsManifest',
  'paths',
  'weights',
  'shape',
  'dtype',
  'name',
  'quantization',
  'scale',
  'min',
  'group',
  'n',
  'target_shape',
  'reset_after',
  'layer',
  'merge_mode',
  'recurrent_activation',
  'activation',
  'model_config',
  'training_config',
  'loss',
  'keras_version',
  'input_shape',
  'rate',
];
const EVIL_PATHS = [
  '../outside.bin',
  '/etc/passwd',
  'file:///etc/passwd',
  'http://127.0.0.1:9/x.bin',
  '..\\outside.bin',
  'sub/../../outside.bin',
  '',
  '.',
  '..',
  'weights.bin\u0000.png',
  'x'.repeat(5000),
  './',
  'missing.bin',
  '%2e%2e/outside.bin',
];

function tfjsSeed(name: string, m: Sequential, options: Parameters<typeof toTfjs>[1] = {}): TfjsSeed {
  const a = toTfjs(m, options);
  const modelJson: Record<string, unknown> = {
    modelTopology: a.modelTopology,
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy,
    weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs }],
  };
  if (a.trainingConfig !== undefined) modelJson['trainingConfig'] = a.trainingConfig;
  return { name, modelJson, shards: [new Uint8Array(a.weightData)] };
}

function initTfjs(dir: string): void {
  // A file beside the case directories that a shard path must never reach: valid weights of the first seed.
  if (TFJS_SEEDS.length === 0) {
    const ae = lstmAutoencoder({ window: 3, features: 2, units: [2], seed: 5 });
    TFJS_SEEDS.push(tfjsSeed('lstm autoencoder', ae));
    const g = new Sequential(
      [gru({ units: 3, resetAfter: false, returnSequences: true }), timeDistributed(dense({ units: 2 }))],
      { seed: 6 },
    );
    TFJS_SEEDS.push(tfjsSeed('gru (reset_after false) + timeDistributed', g.build([4, 2])));
    const b = new Sequential([bidirectional(lstm({ units: 2 })), dense({ units: 1, activation: 'sigmoid' })], {
      seed: 7,
    });
    b.compile({ loss: 'binaryCrossentropy' });
    TFJS_SEEDS.push(tfjsSeed('bidirectional lstm classifier with loss', b.build([3, 2])));
    TFJS_SEEDS.push(
      tfjsSeed(
        'dense autoencoder (flatten, reshape)',
        denseAutoencoder({ window: 3, features: 2, units: [2], seed: 8 }),
      ),
    );
    const kc = path.join(repoRoot(), 'spec', 'fixtures', 'interop', 'keras_converted');
    const mj = JSON.parse(fs.readFileSync(path.join(kc, 'model.json'), 'utf8')) as Record<string, unknown>;
    const groups = mj['weightsManifest'] as Array<{ paths: string[] }>;
    TFJS_SEEDS.push({
      name: 'keras_converted fixture (2 shards)',
      modelJson: mj,
      shards: groups.flatMap((gr) => gr.paths.map((p) => new Uint8Array(fs.readFileSync(path.join(kc, p))))),
    });
  }
  fs.writeFileSync(path.join(dir, 'outside.bin'), TFJS_SEEDS[0].shards[0]);
}

export const tfjsTarget: Target = {
  name: 'tfjs',
  files: 'lib/io/tfjs.ts (fromTfjs, loadTfjsModelSync, loadTfjsModel)',
  owner: 'inputs-fuzz',
  expect: "an Error whose message starts with 'fromTfjs' or 'loadTfjsModel(<file>)'",
  named: (e) => startsWith(e, ['fromTfjs', 'loadTfjsModel('], "'fromTfjs' or 'loadTfjsModel('"),
  init: initTfjs,
  make(rng, dir, index) {
    const seed = pick(rng, TFJS_SEEDS);
    const what: string[] = [`seed ${seed.name}`];
    let modelJson: unknown = seed.modelJson;
    let shards = seed.shards.slice();
    let text: string | null = null;
    const kind = int(rng, 10);
    if (kind < 5) {
      const m = mutateTree(modelJson, rng, 1 + int(rng, 3), TFJS_KEYS);
      modelJson = m.tree;
      what.push(...m.what);
    } else if (kind < 7) {
      const k = int(rng, shards.length);
      const m = mutateBytes(shards[k], rng, 1 + int(rng, 2));
      shards[k] = m.bytes;
      what.push(`shard ${k}: ${m.what.join('; ')}`);
    } else if (kind < 8) {
      const m = mutateText(JSON.stringify(modelJson), rng, 1 + int(rng, 2));
      text = m.text;
      what.push(`model.json text: ${m.what.join('; ')}`);
    } else {
      const j = clone(modelJson) as { weightsManifest?: Array<{ paths: string[] }> };
      const g = j.weightsManifest?.[0];
      if (g) {
        const p = pick(rng, EVIL_PATHS);
        g.paths[int(rng, g.paths.length)] = p;
        what.push(`a shard path = ${JSON.stringify(p.slice(0, 40))}`);
      }
      modelJson = j;
      if (rng() < 0.5)
        shards = [
          shards.reduce((a, b) => {
            const c = new Uint8Array(a.length + b.length);
            c.set(a);
            c.set(b, a.length);
            return c;
          }),
        ];
    }
    // Text edits only reach the loader through a file (in memory there is no text to parse).
    const mode = text !== null ? pick(rng, ['sync', 'async']) : pick(rng, ['memory', 'memory', 'sync', 'async']);
    what.push(`via ${mode === 'memory' ? 'fromTfjs' : mode === 'sync' ? 'loadTfjsModelSync' : 'loadTfjsModel'}`);
    const escapes = what.some((w) => /shard path = "(\.\.\/outside|sub\/\.\.\/\.\.\/outside)/.test(w));
    const check = (m: unknown): string | null =>
      escapes && mode !== 'memory'
        ? 'loaded a model whose shard path points outside its directory'
        : allFinite(m as Sequential);
    if (mode === 'memory') {
      return {
        what: what.join('; '),
        run: () => {
          const mj = materialize(modelJson) as Record<string, unknown>;
          if (mj === null || typeof mj !== 'object') return fromTfjs(mj);
          const manifest = mj['weightsManifest'];
          const specs = Array.isArray(manifest)
            ? manifest.flatMap((g) =>
                g !== null && typeof g === 'object' && Array.isArray((g as { weights?: unknown }).weights)
                  ? (g as { weights: unknown[] }).weights
                  : [],
              )
            : manifest;
          const a: TfjsArtifactsInput = {
            modelTopology: mj['modelTopology'],
            weightSpecs: specs as unknown[],
            weightData: shards.map((s) => s.slice().buffer),
          };
          if (mj['trainingConfig'] !== undefined) a.trainingConfig = mj['trainingConfig'];
          return fromTfjs(a);
        },
        check,
      };
    }
    const caseDir = path.join(dir, `tfjs-${index}`);
    const write = (): string => {
      fs.mkdirSync(caseDir, { recursive: true });
      const names = ((seed.modelJson['weightsManifest'] as Array<{ paths: string[] }>) ?? []).flatMap((g) => g.paths);
      shards.forEach((s, k) => fs.writeFileSync(path.join(caseDir, path.basename(names[k] ?? `shard${k}.bin`)), s));
      const file = path.join(caseDir, 'model.json');
      fs.writeFileSync(file, text ?? toJsonText(modelJson));
      return file;
    };
    const cleanup = (): void => fs.rmSync(caseDir, { recursive: true, force: true });
    return {
      what: what.join('; '),
      run: () => {
        const file = write();
        if (mode === 'sync') {
          try {
            return loadTfjsModelSync(file);
          } finally {
            cleanup();
          }
        }
        return loadTfjsModel(file).finally(cleanup);
      },
      check,
    };
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// safetensors

const ST_SEEDS: Array<{ name: string; bytes: Uint8Array }> = [];

/** A safetensors file from a header object and a byte buffer (header padded to 8 bytes, as writers do). */
export function safetensorsBytes(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(toJsonText(header));
  const pad = (8 - (json.length % 8)) % 8;
  const out = new Uint8Array(8 + json.length + pad + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length + pad), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + json.length + pad);
  out.set(data, 8 + json.length + pad);
  return out;
}

function splitSafetensors(b: Uint8Array): { header: unknown; data: Uint8Array } {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))), data: b.slice(8 + n) };
}

function initSafetensors(): void {
  if (ST_SEEDS.length > 0) return;
  ST_SEEDS.push({
    name: 'F32 + F64 with metadata',
    bytes: serializeSafetensors(
      {
        'lstm.weight_ih_l0': { data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), shape: [12, 2] },
        bias: { data: Float64Array.of(1, -2, 3.5, 1e-300), shape: [4] },
      },
      { format: 'pt' },
    ),
  });
  ST_SEEDS.push({ name: 'empty', bytes: serializeSafetensors({}) });
  // Every integer and half dtype, by hand: [name, dtype, shape, bytes per element].
  const specs: Array<[string, string, number[], number]> = [
    ['h', 'F16', [2, 2], 2],
    ['bf', 'BF16', [3], 2],
    ['i64', 'I64', [2], 8],
    ['u8', 'U8', [4], 1],
    ['flag', 'BOOL', [2], 1],
    ['i32', 'I32', [1, 2], 4],
    ['z', 'F32', [0, 3], 4],
    ['s', 'F32', [], 4],
  ];
  const header: Record<string, unknown> = { __metadata__: { source: 'fuzz' } };
  let off = 0;
  for (const [name, dtype, shape, size] of specs) {
    const nb = shape.reduce((a, d) => a * d, 1) * size;
    header[name] = { dtype, shape, data_offsets: [off, off + nb] };
    off += nb;
  }
  const data = Uint8Array.from({ length: off }, (_, i) => ((i * 37) % 251) & 0x3f);
  ST_SEEDS.push({
    name: 'F16, BF16, I64, U8, BOOL, I32, zero-size and scalar tensors',
    bytes: safetensorsBytes(header, data),
  });
}

export const safetensorsTarget: Target = {
  name: 'safetensors',
  files: 'lib/io/safetensors.ts parseSafetensors',
  owner: 'inputs-fuzz',
  expect: "an Error whose message starts with the source ('fuzz.safetensors: ...')",
  named: (e) => startsWith(e, ['fuzz.safetensors'], "the source 'fuzz.safetensors'"),
  init: initSafetensors,
  make(rng) {
    const seed = pick(rng, ST_SEEDS);
    let bytes = seed.bytes;
    const what: string[] = [`seed ${seed.name}`];
    if (rng() < 0.55) {
      const { header, data } = splitSafetensors(bytes);
      const m = mutateTree(header, rng, 1 + int(rng, 3), ['dtype', 'shape', 'data_offsets', '__metadata__']);
      bytes = safetensorsBytes(m.tree, data);
      what.push(...m.what);
    }
    if (rng() < 0.5) {
      const m = mutateBytes(bytes, rng, 1 + int(rng, 2));
      bytes = m.bytes;
      what.push(...m.what);
    }
    return {
      what: what.join('; '),
      run: () => parseSafetensors(bytes, 'fuzz.safetensors'),
      check(r) {
        for (const [name, t] of (r as ReturnType<typeof parseSafetensors>).tensors) {
          if (t.data.length !== t.shape.reduce((a, d) => a * d, 1))
            return `tensor ${name}: ${t.data.length} values for shape [${t.shape}]`;
        }
        return null;
      },
    };
  },
};

export const TARGETS: readonly Target[] = [
  csvTarget,
  optionsTarget,
  modelTarget,
  detectorTarget,
  tfjsTarget,
  safetensorsTarget,
];

export function targetByName(name: string): Target {
  const t = TARGETS.find((x) => x.name === name);
  if (!t)
    throw new RangeError(
      `fuzz: unknown target ${JSON.stringify(name)}; expected one of ${TARGETS.map((x) => x.name).join(', ')}`,
    );
  return t;
}

/**
 * The int8 scorer against the float one on NAB and SKAB: what `exportScorer({ quantize: 'int8' })` changes.
 *
 * Per (model, file), one Detector is fitted as bench/eval.ts fits it (NAB: the probationary rows; SKAB: the first 400
 * rows of each run, detect on the rest) with the library's default threshold ('spot' unless --threshold). Both scorers
 * are then applied as the exported module applies them: scores from the network, flags = score > the threshold's
 * level fixed at export (SPOT: its calibrated z_q), from firstScored on.
 *   float  the fitted detector's scores (what the float32 module computes, to ~1e-6)
 *   int8   the same detector with every kernel rounded to int8 (roundWeightsToInt8: q·scale per output column), i.e.
 *          what the int8 module computes; --check-module runs the int8 module itself (in a vm context) on the first
 *          file of each dataset and reports whether its flags equal these
 * Reported: share of scored rows with identical flags (and how many differ), the median and 99th percentile of the
 * relative score change, and the largest change as a share of the threshold on rows scored below 2× the threshold
 * (where a flag can flip); NAB score (standard, reward_low_FP_rate; as shipped and tuned, eval-score.ts) and SKAB
 * pooled F1 / FAR / MAR of each scorer; the module sizes (float32, int8).
 *
 *   node dist/bench/eval-quantized.js [--models lstm-ae,gru-ae,dense-ae,lstm-forecast] [--datasets nab,skab]
 *        (--models also takes rnn-ae, conv-ae, tcn-forecast, lstm-attn-ae)
 *        [--threshold spot] [--epochs N] [--files N] [--seed 0] [--check-module] [--out path/prefix]
 *
 * Writes <prefix>.{md,json} (default $TMPDIR/bptt-eval/eval-quantized-<time>; `npm run eval` passes
 * bench/results/eval-quantized).
 */
import '../lib/node/install';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import { Detector } from '../lib/detect/detector';
import { roundWeightsToInt8 } from '../lib/detect/quantize';
import { parseThreshold, staticLevel } from '../lib/detect/threshold-spec';
import { resolveOptions } from '../lib/detect/options';
import { DETECTOR_MODELS, type DetectorModel, type DetectorOptions } from '../lib/detect/types';
import { loadNab, loadSkab, SKAB_TRAIN_ROWS, type NabFile, type SkabFile } from './eval-data';
import { scoreNabCell, scoreSkabCell, type CellFile } from './eval-score';

const MIN_LEVEL = 1e-12;
const EXPORTABLE: DetectorModel[] = [
  'lstm-ae',
  'gru-ae',
  'rnn-ae',
  'dense-ae',
  'lstm-forecast',
  'conv-ae',
  'tcn-forecast',
  'lstm-attn-ae',
];

interface Args {
  models: DetectorModel[];
  datasets: Array<'nab' | 'skab'>;
  threshold: DetectorOptions['threshold'];
  options: Omit<DetectorOptions, 'model' | 'threshold'>;
  files: number;
  checkModule: boolean;
  out: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    models: ['lstm-ae', 'gru-ae', 'dense-ae', 'lstm-forecast'],
    datasets: ['nab', 'skab'],
    threshold: undefined,
    options: {},
    files: Infinity,
    checkModule: false,
    out: undefined,
  };
  const int = (flag: string, v: string | undefined): number => {
    const x = Number(v);
    if (v === undefined || !Number.isInteger(x) || x < 0)
      throw new RangeError(`eval-quantized ${flag}: expected a non-negative integer, got ${String(v)}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new RangeError(`eval-quantized ${flag}: expected a value`);
      return v;
    };
    switch (flag) {
      case '--models': {
        const ms = next().split(',');
        for (const m of ms)
          if (!EXPORTABLE.includes(m as DetectorModel))
            throw new RangeError(`eval-quantized --models: expected some of ${EXPORTABLE.join(', ')}, got '${m}'`);
        a.models = ms as DetectorModel[];
        break;
      }
      case '--datasets': {
        const ds = next().split(',');
        for (const d of ds)
          if (d !== 'nab' && d !== 'skab')
            throw new RangeError(`eval-quantized --datasets: expected nab and/or skab, got '${d}'`);
        a.datasets = ds as Array<'nab' | 'skab'>;
        break;
      }
      case '--threshold': {
        const spec = next();
        parseThreshold(spec, 'eval-quantized --threshold');
        a.threshold = spec as DetectorOptions['threshold'];
        break;
      }
      case '--epochs':
        a.options.epochs = int(flag, next());
        break;
      case '--seed':
        a.options.seed = int(flag, next());
        break;
      case '--files':
        a.files = int(flag, next());
        break;
      case '--check-module':
        a.checkModule = true;
        break;
      case '--out':
        a.out = next();
        break;
      default:
        throw new RangeError(`eval-quantized: unknown argument '${flag}' (see the header of bench/eval-quantized.ts)`);
    }
  }
  for (const m of a.models) {
    if (!DETECTOR_MODELS.includes(m)) throw new RangeError(`eval-quantized: unknown model ${m}`);
    resolveOptions({ ...a.options, model: m, ...(a.threshold ? { threshold: a.threshold } : {}) });
  }
  return a;
}

/** Both scorers on one file: scores, the fixed level, flags as the exported module sets them. */
interface FileRun {
  level: number;
  firstScored: number;
  float: Float64Array;
  int8: Float64Array;
  floatFlags: Uint8Array;
  int8Flags: Uint8Array;
  detector: Detector;
  rounded: Detector;
}

function flagsOf(scores: Float64Array, level: number, first: number): Uint8Array {
  const f = new Uint8Array(scores.length);
  for (let t = first; t < scores.length; t++) f[t] = scores[t] > level ? 1 : 0;
  return f;
}

function runFile(model: DetectorModel, a: Args, train: number[] | number[][], test: number[] | number[][]): FileRun {
  const detector = new Detector({ ...a.options, model, ...(a.threshold ? { threshold: a.threshold } : {}) }).fit(train);
  const rounded = Detector.fromJSON(detector.toJSON());
  roundWeightsToInt8(rounded.model as NonNullable<Detector['model']>);
  const f = detector.score(test),
    q = rounded.score(test);
  const level = staticLevel(detector.options.threshold, detector.calibration as Float64Array);
  return {
    level,
    firstScored: f.firstScored,
    float: f.scores,
    int8: q.scores,
    floatFlags: flagsOf(f.scores, level, f.firstScored),
    int8Flags: flagsOf(q.scores, level, f.firstScored),
    detector,
    rounded,
  };
}

/** The exported module run in an empty vm context (only the language's built-ins). */
function moduleScores(src: string, series: number[] | number[][]): { scores: Float64Array; flags: Uint8Array } {
  const body = src.replace(/^export (function|const) /gm, '$1 ').replace(/^export default .*$/m, '');
  const m = new vm.Script(`${body}\n;({ detect })`).runInContext(vm.createContext({})) as {
    detect: (s: unknown) => { scores: Float64Array; flags: Uint8Array };
  };
  return m.detect(series);
}

function cell(r: FileRun, which: 'float' | 'int8'): CellFile {
  const scores = r[which];
  const ratios = new Float64Array(scores.length);
  for (let t = 0; t < scores.length; t++) ratios[t] = t < r.firstScored ? -1 : scores[t] / Math.max(r.level, MIN_LEVEL);
  return { flags: which === 'float' ? r.floatFlags : r.int8Flags, ratios, scores };
}

interface Agreement {
  rows: number;
  sameFlags: number;
  /** Rows whose flag differs. */
  flipped: number;
  medianRelChange: number;
  p99RelChange: number;
  /** max |Δscore| / threshold over the rows whose float score is within 2× the threshold (where a flag can flip). */
  maxChangeNearThreshold: number;
}

function agreement(runs: FileRun[]): Agreement {
  let rows = 0,
    same = 0,
    near = 0;
  const rel: number[] = [];
  for (const r of runs) {
    for (let t = r.firstScored; t < r.float.length; t++) {
      rows++;
      if (r.floatFlags[t] === r.int8Flags[t]) same++;
      const d = Math.abs(r.int8[t] - r.float[t]);
      if (r.float[t] !== 0) rel.push(d / Math.abs(r.float[t]));
      if (r.float[t] <= 2 * r.level) near = Math.max(near, d / Math.max(r.level, MIN_LEVEL));
    }
  }
  rel.sort((x, y) => x - y);
  return {
    rows,
    sameFlags: same / rows,
    flipped: rows - same,
    medianRelChange: rel[rel.length >> 1] ?? 0,
    p99RelChange: rel[Math.floor(0.99 * (rel.length - 1))] ?? 0,
    maxChangeNearThreshold: near,
  };
}

const pct = (x: number, d = 1): string => `${(100 * x).toFixed(d)} %`;

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const nab: NabFile[] = a.datasets.includes('nab') ? loadNab().slice(0, a.files) : [];
  const skab: SkabFile[] = a.datasets.includes('skab') ? loadSkab().slice(0, a.files) : [];
  const rows: string[] = [];
  const json: Record<string, unknown>[] = [];
  const sizes: string[] = [];
  for (const model of a.models) {
    const minGap = resolveOptions({ ...a.options, model }).minGap;
    const entry: Record<string, unknown> = { model };
    let sized = false;
    const size = (d: Detector): void => {
      if (sized) return;
      sized = true;
      const f = d.exportScorer().length,
        q = d.exportScorer({ quantize: 'int8' }).length;
      entry['bytes'] = { float32: f, int8: q };
      sizes.push(`| ${model} | ${(f / 1024).toFixed(1)} kB | ${(q / 1024).toFixed(1)} kB | ${(q / f).toFixed(2)} |`);
    };
    const check = (r: FileRun, series: number[] | number[][], where: string): void => {
      if (!a.checkModule) return;
      const m = moduleScores(r.detector.exportScorer({ quantize: 'int8' }), series);
      let differ = 0,
        maxRel = 0;
      for (let t = 0; t < series.length; t++) {
        if (m.flags[t] !== r.int8Flags[t]) differ++;
        if (t >= r.firstScored)
          maxRel = Math.max(maxRel, Math.abs(m.scores[t] - r.int8[t]) / Math.max(1e-3, r.int8[t]));
      }
      entry[`moduleCheck ${where}`] = { differingFlags: differ, maxRelScoreDiff: maxRel };
      console.log(
        `  ${model} ${where}: int8 module vs rounded library: ${differ} flags differ, max rel ${maxRel.toExponential(1)}`,
      );
    };
    if (nab.length > 0) {
      const runs = nab.map((f, k) => {
        const r = runFile(model, a, f.values.slice(0, f.probation), f.values);
        size(r.detector);
        if (k === 0) check(r, f.values, `nab ${f.name}`);
        console.log(`  ${model} nab ${f.name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        return r;
      });
      const ag = agreement(runs);
      const fl = scoreNabCell(
        nab,
        runs.map((r) => cell(r, 'float')),
        minGap,
      );
      const q = scoreNabCell(
        nab,
        runs.map((r) => cell(r, 'int8')),
        minGap,
      );
      entry['nab'] = { agreement: ag, float: fl.shipped, int8: q.shipped, floatTuned: fl.tuned, int8Tuned: q.tuned };
      for (const [name, c] of [
        ['float', fl],
        ['int8', q],
      ] as const)
        rows.push(
          `| ${model} | NAB (${nab.length}) | ${name} | ${c.shipped.standard.toFixed(1)} / ${c.shipped.reward_low_FP_rate.toFixed(1)} ` +
            `(tuned ${c.tuned.standard.toFixed(1)}) | ${name === 'int8' ? `${pct(ag.sameFlags, 2)} (${ag.flipped}) | ${pct(ag.medianRelChange, 2)} / ${pct(ag.p99RelChange, 2)} | ${pct(ag.maxChangeNearThreshold)}` : '| |'} |`,
        );
    }
    if (skab.length > 0) {
      const runs = skab.map((f, k) => {
        const test = f.rows.slice(SKAB_TRAIN_ROWS);
        const r = runFile(model, a, f.rows.slice(0, SKAB_TRAIN_ROWS), test);
        size(r.detector);
        if (k === 0) check(r, test, `skab ${f.name}`);
        return r;
      });
      console.log(`  ${model} skab: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      const ag = agreement(runs);
      const fl = scoreSkabCell(
        skab,
        runs.map((r) => cell(r, 'float')),
      );
      const q = scoreSkabCell(
        skab,
        runs.map((r) => cell(r, 'int8')),
      );
      entry['skab'] = {
        agreement: ag,
        float: { f1: fl.f1, far: fl.far, mar: fl.mar },
        int8: { f1: q.f1, far: q.far, mar: q.mar },
      };
      for (const [name, c] of [
        ['float', fl],
        ['int8', q],
      ] as const)
        rows.push(
          `| ${model} | SKAB (${skab.length}) | ${name} | F1 ${c.f1.toFixed(3)}, FAR ${pct(c.far)}, MAR ${pct(c.mar)} | ` +
            `${name === 'int8' ? `${pct(ag.sameFlags, 2)} (${ag.flipped}) | ${pct(ag.medianRelChange, 2)} / ${pct(ag.p99RelChange, 2)} | ${pct(ag.maxChangeNearThreshold)}` : '| |'} |`,
        );
    }
    json.push(entry);
  }
  const settings = {
    // Paths as given, absolute ones relative to the working directory, so the report names no machine's folders.
    command: `node dist/bench/eval-quantized.js ${process.argv
      .slice(2)
      .map((v) => (path.isAbsolute(v) ? path.relative(process.cwd(), v) || '.' : v))
      .join(' ')}`.trim(),
    threshold: a.threshold ?? 'library default (spot)',
    options: a.options,
    seconds: (Date.now() - t0) / 1000,
    node: process.version,
    loadAverage: os.loadavg(),
  };
  const md =
    `# The int8 scorer against the float one\n\n\`${settings.command}\`, threshold ${settings.threshold}, ` +
    `${settings.seconds.toFixed(0)} s. Flags as the exported module sets them (score > the level fixed at export).\n\n` +
    '| model | data | scorer | NAB standard / low-FP (tuned), or SKAB pooled | identical flags (rows differing) | score change, median / p99 | max change / threshold, scores < 2× threshold |\n' +
    '|---|---|---|---|---:|---:|---:|\n' +
    `${rows.join('\n')}\n\n| model | module float32 | module int8 | ratio |\n|---|---:|---:|---:|\n${sizes.join('\n')}\n`;
  const prefix = a.out ?? path.join(os.tmpdir(), 'bptt-eval', `eval-quantized-${Date.now()}`);
  fs.mkdirSync(path.dirname(prefix), { recursive: true });
  fs.writeFileSync(`${prefix}.json`, `${JSON.stringify({ settings, results: json }, null, 1)}\n`);
  fs.writeFileSync(`${prefix}.md`, md);
  console.log(`\n${md}\nwrote ${prefix}.md and ${prefix}.json`);
}

main();

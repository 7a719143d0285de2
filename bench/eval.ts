/**
 * `npm run eval:grid`: every detector model × threshold on the labelled data in <repo>/../shared/data, with the published
 * results from the data READMEs beside ours. Writes bench/results/eval.{md,json}.
 *
 *   NAB   13 univariate series: fit on the probationary rows (min(⌊0.15·N⌋, 750)), detect over the whole series, score
 *         with the NAB scorer (standard, reward_low_FP_rate, reward_low_FN_rate): as shipped (the Detector's flags) and
 *         tuned (one global multiplier θ on score/threshold, swept as NAB tunes its detectors). See eval-score.ts.
 *   SKAB  17 runs, 8 sensors: fit on the first 400 rows of each run, detect on the rest, pooled point-wise F1,
 *         false-alarm rate and missed-alarm rate, with an all-flagged and a random row.
 *
 * One fit per (model, file); every threshold spec is applied to that fit's scores (eval-run.ts). Jobs run on
 * worker threads (--jobs, default 2); every job is seeded, so the tables do not depend on scheduling. 'contamination:c'
 * is not a row of its own: it is the (1 − c)-quantile of the training scores, i.e. the same flags as 'quantile:(1 − c)'.
 *
 *   node dist/bench/eval.js [--quick] [--models lstm-ae,zscore] [--thresholds spot,quantile:0.99] [--datasets nab,skab]
 *        [--jobs 2] [--out path/prefix] [--variants | --no-variants]
 *        [--window 32] [--hidden 32 | 32,8] [--epochs 30] [--batch-size 32] [--lr 1e-3] [--val-split 0.1] [--patience 5]
 *        [--train-stride 1] [--normalize zscore|minmax] [--combine mean|max|last] [--min-gap 0] [--smoothing 5]
 *        [--seed 0] [--spot-level 0.98]
 *
 * The full run adds VARIANTS (candidate defaults and seed repeats) to the library-default grid; --variants adds them to
 * any run (the command-line options apply under each variant's own). Only the full default run writes
 * bench/results/eval.{md,json}; a partial or modified run writes to $TMPDIR/bptt-eval/ (or --out), so the committed
 * table always is the whole default grid.
 */
import '../lib/node/install'; // the Node host: files, worker threads ('auto' is 1 without it)
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker, isMainThread, parentPort } from 'worker_threads';
import { DETECTOR_MODELS, type DetectorModel } from '../lib/detect/types';
import { resolveOptions } from '../lib/detect/options';
import { nabOptimizeThreshold } from '../lib/detect/nab';
import { applyThresholdSpec, parseThreshold } from '../lib/detect/threshold-spec';
import { makeRandom } from '../lib/random';
import {
  loadNab,
  loadSkab,
  nabPublished,
  nabPublishedScores,
  NAB_RESULT_DETECTORS,
  skabPublished,
  repoRoot,
  type NabFile,
  type SkabFile,
} from './eval-data';
import { runJob, type Job, type JobResult, type EvalOptions, thresholdConfig } from './eval-run';
import {
  scoreNabCell,
  scoreSkabCell,
  skabOfFlags,
  type CellFile,
  type NabCell,
  type SkabCell,
  PROFILES,
  type PerProfile,
} from './eval-score';
import { renderMarkdown, type EvalReport } from './eval-report';

/** The continually learning model has one threshold of its own (the alarm stage) and its own protocol: bench/eval-online.ts. */
const GRID_EXCLUDED = 'gru-online';

export const DEFAULT_THRESHOLDS = ['spot', 'dspot', 'dynamic', 'quantile:0.99', 'sigma:3', 'iqr:1.5'];
const QUICK_MODELS: DetectorModel[] = ['dense-ae', 'zscore'];
const QUICK_THRESHOLDS = ['spot', 'quantile:0.99'];

/** One row group of the tables: a model with options. */
export interface Config {
  label: string;
  model: DetectorModel;
  options: EvalOptions;
}

/**
 * Candidate defaults run beside the library defaults in the full evaluation (all cheap to fit): the changes the
 * analysis found worth proposing, and seed repeats that show how much of a difference between rows is noise.
 */
export const VARIANTS: Config[] = [
  { label: 'zscore · window 64', model: 'zscore', options: { window: 64 } },
  { label: 'dense-ae · combine last', model: 'dense-ae', options: { combine: 'last' } },
  { label: 'dense-ae · combine last · seed 1', model: 'dense-ae', options: { combine: 'last', seed: 1 } },
  { label: 'dense-ae · combine last · seed 2', model: 'dense-ae', options: { combine: 'last', seed: 2 } },
];

/** Rows that differ only in the seed, summarised as a spread. */
export const SEED_GROUPS = [
  {
    name: 'dense-ae · combine last, seeds 0, 1, 2',
    labels: ['dense-ae · combine last', 'dense-ae · combine last · seed 1', 'dense-ae · combine last · seed 2'],
  },
];

interface Args {
  quick: boolean;
  models: DetectorModel[];
  thresholds: string[];
  datasets: Array<'nab' | 'skab'>;
  jobs: number;
  out: string | undefined;
  options: EvalOptions;
  spotLevel: number | undefined;
  /** Run the VARIANTS too (default: only in the full default run). */
  variants: boolean | undefined;
  /** True when this is the full default grid (it may write bench/results/eval.*). */
  full: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    quick: false,
    models: DETECTOR_MODELS.filter((m) => m !== GRID_EXCLUDED),
    thresholds: DEFAULT_THRESHOLDS.slice(),
    datasets: ['nab', 'skab'],
    jobs: Math.min(2, os.cpus().length),
    out: undefined,
    options: {},
    spotLevel: undefined,
    variants: undefined,
    full: true,
  };
  let modelsGiven = false,
    thresholdsGiven = false;
  const num = (flag: string, v: string | undefined): number => {
    const x = Number(v);
    if (v === undefined || v.trim() === '' || !Number.isFinite(x))
      throw new RangeError(`eval ${flag}: expected a number, got ${String(v)}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new RangeError(`eval ${flag}: expected a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        a.quick = true;
        a.full = false;
        break;
      case '--models': {
        const ms = next()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        for (const m of ms)
          if (!DETECTOR_MODELS.includes(m as DetectorModel))
            throw new RangeError(`eval --models: unknown model '${m}'; expected some of ${DETECTOR_MODELS.join(', ')}`);
        a.models = ms as DetectorModel[];
        modelsGiven = true;
        a.full = false;
        break;
      }
      case '--thresholds': {
        a.thresholds = next()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        for (const t of a.thresholds) parseThreshold(t, 'eval --thresholds');
        thresholdsGiven = true;
        a.full = false;
        break;
      }
      case '--datasets': {
        const ds = next().split(',');
        for (const d of ds)
          if (d !== 'nab' && d !== 'skab')
            throw new RangeError(`eval --datasets: expected nab and/or skab, got '${d}'`);
        a.datasets = ds as Array<'nab' | 'skab'>;
        a.full = false;
        break;
      }
      case '--jobs':
        a.jobs = num(flag, next());
        break;
      case '--variants':
        a.variants = true;
        break;
      case '--no-variants':
        a.variants = false;
        a.full = false;
        break;
      case '--out':
        a.out = next();
        break;
      case '--window':
        a.options.window = num(flag, next());
        a.full = false;
        break;
      case '--hidden': {
        const hs = next()
          .split(',')
          .map((s) => num(flag, s));
        a.options.hidden = hs.length === 1 ? hs[0] : hs;
        a.full = false;
        break;
      }
      case '--epochs':
        a.options.epochs = num(flag, next());
        a.full = false;
        break;
      case '--batch-size':
        a.options.batchSize = num(flag, next());
        a.full = false;
        break;
      case '--lr':
        a.options.learningRate = num(flag, next());
        a.full = false;
        break;
      case '--val-split':
        a.options.validationSplit = num(flag, next());
        a.full = false;
        break;
      case '--patience':
        a.options.patience = num(flag, next());
        a.full = false;
        break;
      case '--train-stride':
        a.options.trainStride = num(flag, next());
        a.full = false;
        break;
      case '--normalize': {
        const v = next();
        if (v !== 'zscore' && v !== 'minmax')
          throw new RangeError(`eval --normalize: expected zscore or minmax, got '${v}'`);
        a.options.normalize = v;
        a.full = false;
        break;
      }
      case '--combine': {
        const v = next();
        if (v !== 'mean' && v !== 'max' && v !== 'last')
          throw new RangeError(`eval --combine: expected mean, max or last, got '${v}'`);
        a.options.combine = v;
        a.full = false;
        if (v !== 'last') a.options.causal = false; // 'mean' and 'max' look ahead: offline only
        break;
      }
      case '--min-gap':
        a.options.minGap = num(flag, next());
        a.full = false;
        break;
      case '--smoothing':
        a.options.smoothing = num(flag, next());
        a.full = false;
        break;
      case '--seed':
        a.options.seed = num(flag, next());
        a.full = false;
        break;
      case '--spot-level':
        a.spotLevel = num(flag, next());
        a.full = false;
        break;
      default:
        throw new RangeError(`eval: unknown argument '${flag}' (see the header of bench/eval.ts)`);
    }
  }
  if (a.quick) {
    if (!modelsGiven) a.models = QUICK_MODELS.slice();
    if (!thresholdsGiven) a.thresholds = QUICK_THRESHOLDS.slice();
  }
  if (!(Number.isInteger(a.jobs) && a.jobs >= 1))
    throw new RangeError(`eval --jobs: expected a positive integer, got ${a.jobs}`);
  // Validate the detector options once, here, rather than in every job.
  for (const m of a.models) resolveOptions({ ...a.options, model: m });
  for (const t of a.thresholds) thresholdConfig(t, a.spotLevel);
  return a;
}

// ---------------------------------------------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------------------------------------------

function transferables(r: JobResult): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  if (r.scores) out.push(r.scores.buffer as ArrayBuffer);
  for (const s of r.specs) {
    if (s.flags) out.push(s.flags.buffer as ArrayBuffer);
    if (s.ratios) out.push(s.ratios.buffer as ArrayBuffer);
  }
  return out;
}

function workerMain(): void {
  const nab = loadNab(),
    skab = loadSkab();
  const port = parentPort as NonNullable<typeof parentPort>;
  port.on('message', (job: Job | null) => {
    if (job === null) {
      port.close();
      return;
    }
    const r = runJob(job, nab, skab);
    port.postMessage(r, transferables(r));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Main side
// ---------------------------------------------------------------------------------------------------------------

/**
 * Rough seconds of a job, to start the long ones first (LPT scheduling over the workers): training ∝ training rows,
 * plus SPOT/DSPOT over the scored rows, whose GPD refit per new peak makes them superlinear in the series length
 * (≈ 30 s for SPOT + DSPOT on the 18 050-row NAB file).
 */
function jobCost(j: Job, nab: readonly NabFile[]): number {
  const w = {
    'gru-online': 0.01,
    'lstm-ae': 0.025,
    'gru-ae': 0.025,
    'rnn-ae': 0.012,
    'lstm-forecast': 0.01,
    'dense-ae': 0.001,
    'lstm-attn-ae': 0.05,
    zscore: 0,
    iqr: 0,
    'conv-ae': 0.004,
    'tcn-forecast': 0.01,
  }[j.model];
  const train = j.dataset === 'nab' ? nab[j.file].probation : 400;
  const n = j.dataset === 'nab' ? nab[j.file].values.length : 700;
  return w * train + 0.1 * (n / 1000) ** 2;
}

function runPool(jobs: Job[], workers: number, onDone: (r: JobResult, done: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0,
      done = 0;
    const pool: Worker[] = [];
    const feed = (w: Worker): void => {
      if (next < jobs.length) w.postMessage(jobs[next++]);
      else w.postMessage(null);
    };
    if (jobs.length === 0) {
      resolve();
      return;
    }
    for (let k = 0; k < Math.min(workers, jobs.length); k++) {
      const w = new Worker(__filename);
      pool.push(w);
      w.on('message', (r: JobResult) => {
        done++;
        onDone(r, done);
        if (done === jobs.length) {
          for (const p of pool) p.postMessage(null);
          resolve();
        } else feed(w);
      });
      w.on('error', reject);
      feed(w);
    }
  });
}

function cellFiles(
  results: Map<string, JobResult>,
  dataset: 'nab' | 'skab',
  config: string,
  count: number,
  spec: string,
): CellFile[] {
  const out: CellFile[] = [];
  for (let k = 0; k < count; k++) {
    const r = results.get(`${dataset}|${config}|${k}`) as JobResult;
    if (r.error !== undefined) {
      out.push({ error: r.error });
      continue;
    }
    const s = r.specs.find((x) => x.spec === spec);
    if (s === undefined || s.error !== undefined || !s.flags || !s.ratios) {
      out.push({ error: s?.error ?? 'missing' });
      continue;
    }
    out.push({ flags: s.flags, ratios: s.ratios, ...(r.scores ? { scores: r.scores } : {}) });
  }
  return out;
}

function nabReferences(nab: readonly NabFile[]): EvalReport['nab']['references'] {
  const windows = nab.reduce((a, f) => a + f.windows.length, 0);
  const retuned = NAB_RESULT_DETECTORS.map((det) => {
    const files = nab.map((f) => {
      const s = nabPublishedScores(det, f.name);
      if (s.length !== f.values.length)
        throw new Error(`eval: results/${det} for ${f.name} has ${s.length} rows, the data ${f.values.length}`);
      return { scores: s, windows: f.windows };
    });
    const per = {} as PerProfile<number>;
    for (const p of PROFILES) per[p] = nabOptimizeThreshold(files, p).normalized;
    return { detector: det, ...per };
  });
  // Seeded uniform random scores, tuned the same way (NAB's own random detector has no per-file results here).
  const rng = makeRandom('eval-nab-random');
  const rfiles = nab.map((f) => ({ scores: Float64Array.from(f.values, () => rng.uniform()), windows: f.windows }));
  const random = {} as PerProfile<number>;
  for (const p of PROFILES) random[p] = nabOptimizeThreshold(rfiles, p).normalized;
  return { published: nabPublished(), retuned, random, windows };
}

function skabReferences(skab: readonly SkabFile[]): EvalReport['skab']['references'] {
  const allFlagged = skabOfFlags(skab, (_, labels) => new Uint8Array(labels.length).fill(1));
  const coin = makeRandom('eval-skab-coin');
  const randomHalf = skabOfFlags(skab, (_, labels) => Uint8Array.from(labels, () => (coin.uniform() < 0.5 ? 1 : 0)));
  // Random scores through the 0.99-quantile of random "training" scores (what a detector with no signal ships).
  const rs = makeRandom('eval-skab-scores');
  const cfg = parseThreshold('quantile:0.99');
  const randomQuantile = skabOfFlags(skab, (_, labels) => {
    const calib = Float64Array.from({ length: 400 }, () => rs.uniform());
    const scores = Float64Array.from(labels, () => rs.uniform());
    return applyThresholdSpec(cfg, calib, scores, 0).flags;
  });
  return { published: skabPublished(), allFlagged, randomHalf, randomQuantile };
}

/** The code the figures come from: HEAD and the files of lib/ and kernels/ that differ from it (read-only git calls). */
function codeState(): { head: string; modified: string[] } {
  try {
    const run = (a: string[]): string =>
      execFileSync('git', a, { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    const modified = run(['status', '--porcelain', '--', 'lib', 'kernels'])
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => l.slice(3));
    return { head: run(['rev-parse', 'HEAD']), modified };
  } catch {
    return { head: 'unknown (not a git checkout)', modified: [] };
  }
}

function configsOf(args: Args): Config[] {
  const configs: Config[] = args.models.map((model) => ({ label: model, model, options: args.options }));
  if (args.variants ?? args.full) {
    for (const v of VARIANTS) configs.push({ ...v, options: { ...args.options, ...v.options } });
  }
  return configs;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const nab = args.datasets.includes('nab') ? loadNab() : [];
  const skab = args.datasets.includes('skab') ? loadSkab() : [];
  const configs = configsOf(args);
  const jobs: Job[] = [];
  for (const c of configs) {
    for (const [dataset, count] of [
      ['nab', nab.length],
      ['skab', skab.length],
    ] as const) {
      for (let file = 0; file < count; file++) {
        jobs.push({
          config: c.label,
          dataset,
          file,
          model: c.model,
          options: c.options,
          thresholds: args.thresholds,
          ...(args.spotLevel !== undefined ? { spotLevel: args.spotLevel } : {}),
        });
      }
    }
  }
  jobs.sort((x, y) => jobCost(y, nab) - jobCost(x, nab));
  console.log(
    `eval: ${jobs.length} fits (${configs.map((c) => c.label).join(', ')} × ${nab.length} NAB + ${skab.length} SKAB files), ` +
      `thresholds ${args.thresholds.join(', ')}, ${args.jobs} worker(s)`,
  );
  const results = new Map<string, JobResult>();
  await runPool(jobs, args.jobs, (r, done) => {
    results.set(`${r.dataset}|${r.config}|${r.file}`, r);
    const name = r.dataset === 'nab' ? nab[r.file].name : skab[r.file].name;
    const status =
      r.error !== undefined
        ? `ERROR ${r.error}`
        : `fit ${r.fitSeconds.toFixed(1)} s (${r.epochs} epochs), detect ${r.detectSeconds.toFixed(1)} s, thresholds ${r.thresholdSeconds.toFixed(1)} s`;
    console.log(
      `  [${done}/${jobs.length}] ${((Date.now() - t0) / 1000).toFixed(0)} s  ${r.config} ${r.dataset} ${name}: ${status}`,
    );
  });
  const fitSeconds = Date.now() - t0;
  console.log(`eval: fits done at ${(fitSeconds / 1000).toFixed(0)} s; scoring`);

  const nabCells: Record<string, Record<string, NabCell>> = {};
  const skabCells: Record<string, Record<string, SkabCell>> = {};
  const timing: EvalReport['timing'] = [];
  const skabAuc: Record<string, number> = {};
  const skabRunAuc: Record<string, number[]> = {};
  for (const c of configs) {
    let fit = 0,
      detect = 0,
      thresholds = 0,
      epochs = 0,
      fits = 0;
    const errors: string[] = [];
    for (const r of results.values()) {
      if (r.config !== c.label) continue;
      fit += r.fitSeconds;
      detect += r.detectSeconds;
      thresholds += r.thresholdSeconds;
      epochs += r.epochs;
      fits++;
      if (r.error !== undefined)
        errors.push(`${r.dataset} ${r.dataset === 'nab' ? nab[r.file].name : skab[r.file].name}: ${r.error}`);
    }
    timing.push({
      model: c.label,
      fitSeconds: fit,
      detectSeconds: detect,
      thresholdSeconds: thresholds,
      meanEpochs: fits > 0 ? epochs / fits : 0,
      errors,
    });
    const minGap = resolveOptions({ ...c.options, model: c.model }).minGap;
    if (nab.length > 0) {
      const cells: Record<string, NabCell> = {};
      for (const spec of args.thresholds)
        cells[spec] = scoreNabCell(nab, cellFiles(results, 'nab', c.label, nab.length, spec), minGap);
      nabCells[c.label] = cells;
    }
    if (skab.length > 0) {
      const cells: Record<string, SkabCell> = {};
      for (const spec of args.thresholds)
        cells[spec] = scoreSkabCell(skab, cellFiles(results, 'skab', c.label, skab.length, spec));
      skabCells[c.label] = cells;
      const perRun = skab.map((_, k) => results.get(`skab|${c.label}|${k}`)?.auc ?? NaN);
      skabRunAuc[c.label] = perRun;
      const aucs = perRun.filter((x) => !Number.isNaN(x));
      skabAuc[c.label] = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    }
  }
  const labels = new Set(configs.map((c) => c.label));
  const report: EvalReport = {
    settings: {
      command: `node dist/bench/eval.js ${process.argv.slice(2).join(' ')}`.trim(),
      configs: configs.map((c) => c.label),
      thresholds: args.thresholds,
      options: args.options,
      resolved: Object.fromEntries(
        configs.map((c) => {
          const r = resolveOptions({ ...c.options, model: c.model });
          return [
            c.label,
            {
              model: r.model,
              window: r.window,
              hidden: r.hidden,
              epochs: r.epochs,
              batchSize: r.batchSize,
              learningRate: r.learningRate,
              validationSplit: r.validationSplit,
              patience: r.patience,
              normalize: r.normalize,
              combine: r.combine,
              minGap: r.minGap,
              smoothing: r.smoothing,
              seed: r.seed,
            },
          ];
        }),
      ),
      ...(args.spotLevel !== undefined ? { spotLevel: args.spotLevel } : {}),
      code: codeState(),
      jobs: args.jobs,
      node: process.version,
      cpus: os.cpus().length,
      loadAverage: os.loadavg(),
      wallSeconds: 0,
      fitPhaseSeconds: fitSeconds / 1000,
    },
    seedGroups: SEED_GROUPS.filter((g) => g.labels.every((l) => labels.has(l))),
    nab: {
      files: nab.map((f) => ({
        name: f.name,
        rows: f.values.length,
        probation: f.probation,
        windows: f.windows.length,
      })),
      cells: nabCells,
      references: nab.length > 0 ? nabReferences(nab) : null,
    },
    skab: {
      files: skab.map((f) => ({ name: f.name, rows: f.rows.length })),
      cells: skabCells,
      auc: skabAuc,
      runAuc: skabRunAuc,
      references: skab.length > 0 ? skabReferences(skab) : null,
    },
    timing,
  };
  report.settings.wallSeconds = (Date.now() - t0) / 1000;
  const prefix =
    args.out ??
    (args.full
      ? path.join(repoRoot(), 'bench', 'results', 'eval')
      : path.join(os.tmpdir(), 'bptt-eval', `eval-${Date.now()}`));
  fs.mkdirSync(path.dirname(prefix), { recursive: true });
  fs.writeFileSync(
    `${prefix}.json`,
    `${JSON.stringify(report, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1)}\n`,
  );
  fs.writeFileSync(`${prefix}.md`, renderMarkdown(report));
  console.log(`eval: ${report.settings.wallSeconds.toFixed(0)} s; wrote ${prefix}.md and ${prefix}.json`);
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
} else {
  workerMain();
}

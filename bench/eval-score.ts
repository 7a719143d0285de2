/**
 * Scoring for bench/eval.ts: NAB (as shipped and tuned, on row flags and on event onsets) and SKAB (pooled point-wise
 * F1 / FAR / MAR) of one (model, threshold) cell, from the per-file job results.
 *
 * NAB, per profile (standard, reward_low_FP_rate, reward_low_FN_rate), normalised over the 23 windows:
 *   shipped        the Detector's own flags, every flagged row a detection (nabScoreFile)
 *   shipped onsets one detection per event: the first row of each event of flagsToEvents(flags, scores, {minGap});
 *                  NAB credits only the earliest detection in a window but charges every detection outside one, so a
 *                  run of k false-alarm rows costs k times; an alarm per event costs once
 *   tuned          flag = r ≥ θ with r = score/threshold and one θ for all files, θ chosen by NAB's own sweep
 *                  (nabOptimizeThreshold over the distinct r, high to low) — NAB tunes every published detector so
 *   tuned onsets   the same θ sweep with one detection per event; the onset score is not monotone in θ, so it is
 *                  evaluated on a grid of ≈300 candidate θ (the pooled r at geometrically spaced ranks, plus θ = 1)
 * SKAB: pooled confusion of the test rows of all runs → skabMetrics; `best` is the one global θ on r that maximises
 * the pooled F1 — an oracle, for how much a better threshold could give, never a result.
 */
import '../lib/node/install'; // the Node host: files, worker threads ('auto' is 1 without it)
import {
  nabNormalize,
  nabOptimizeThreshold,
  nabRowWeights,
  nabScoreFile,
  NAB_PROFILES,
  type NabProfileName,
  type NabRowWeights,
} from '../lib/detect/nab';
import { confusion, sumConfusions, skabMetrics, type Confusion, type SkabMetrics } from '../lib/detect/metrics';
import { flagsToEvents } from '../lib/detect/events';
import type { NabFile, SkabFile } from './eval-data';
import { SKAB_TRAIN_ROWS } from './eval-data';

export const PROFILES = Object.keys(NAB_PROFILES) as NabProfileName[];

/** Values per NAB profile. */
export type PerProfile<T> = Record<NabProfileName, T>;

/** Inputs of one cell on one file. `flags`/`ratios` absent: the spec failed on this file (scored as no detections). */
export interface CellFile {
  flags?: Uint8Array;
  ratios?: Float64Array;
  scores?: Float64Array;
  error?: string;
}

export interface NabCell {
  shipped: PerProfile<number>;
  shippedOnsets: PerProfile<number>;
  tuned: PerProfile<number>;
  tunedOnsets: PerProfile<number>;
  /** The tuned multipliers θ (flags, onsets). */
  theta: PerProfile<number>;
  thetaOnsets: PerProfile<number>;
  /** As shipped, standard profile: windows with a detection, flagged rows after probation, of which outside windows. */
  detectedWindows: number;
  flaggedRows: number;
  falseRows: number;
  /** Events after probation (as shipped). */
  events: number;
  /** Files where the spec failed, with the reason. */
  failed: Array<{ file: string; error: string }>;
  /** Per file, standard profile, as shipped: raw score, detected windows of windows, false-positive rows. */
  perFile: Array<{
    file: string;
    score: number;
    onsetScore: number;
    detected: number;
    windows: number;
    falseRows: number;
  }>;
}

/** 1 on the first row of every event (runs merged across gaps < minGap). */
export function onsetFlags(flags: Uint8Array, scores: ArrayLike<number>, minGap: number): Uint8Array {
  const out = new Uint8Array(flags.length);
  for (const e of flagsToEvents(flags, scores, { minGap })) out[e.start] = 1;
  return out;
}

/** Onsets of r ≥ θ without building events (same rows as onsetFlags of those flags). */
function onsetsAt(ratios: Float64Array, theta: number, minGap: number, out: Uint8Array): void {
  out.fill(0);
  let lastOn = -Infinity; // last flagged row
  for (let i = 0; i < ratios.length; i++) {
    if (ratios[i] >= theta) {
      if (i - lastOn - 1 >= minGap && i - lastOn > 1) out[i] = 1;
      lastOn = i;
    }
  }
}

function normalisedTotal(raw: number, windows: number, p: NabProfileName): number {
  return nabNormalize(raw, windows, p);
}

export function scoreNabCell(files: readonly NabFile[], cell: readonly CellFile[], minGap: number): NabCell {
  const windows = files.reduce((a, f) => a + f.windows.length, 0);
  const failed: NabCell['failed'] = [];
  const flagsOf = files.map((f, k) => {
    const c = cell[k];
    if (c.flags === undefined) failed.push({ file: f.name, error: c.error ?? 'no result' });
    return c.flags ?? new Uint8Array(f.values.length);
  });
  const ratiosOf = files.map((f, k) => cell[k].ratios ?? new Float64Array(f.values.length).fill(-1));
  const onsetsOf = files.map((f, k) =>
    onsetFlags(flagsOf[k], cell[k].scores ?? new Float64Array(f.values.length), minGap),
  );
  const per = <T>(fn: (p: NabProfileName) => T): PerProfile<T> => ({
    standard: fn('standard'),
    reward_low_FP_rate: fn('reward_low_FP_rate'),
    reward_low_FN_rate: fn('reward_low_FN_rate'),
  });

  const shipped = per((p) =>
    normalisedTotal(
      files.reduce((a, f, k) => a + nabScoreFile(flagsOf[k], f.windows, p).score, 0),
      windows,
      p,
    ),
  );
  const shippedOnsets = per((p) =>
    normalisedTotal(
      files.reduce((a, f, k) => a + nabScoreFile(onsetsOf[k], f.windows, p).score, 0),
      windows,
      p,
    ),
  );
  const opt = per((p) =>
    nabOptimizeThreshold(
      files.map((f, k) => ({ scores: ratiosOf[k], windows: f.windows })),
      p,
    ),
  );
  const onsetOpt = tuneOnsets(files, ratiosOf, minGap, windows, onsetsOf);

  let detectedWindows = 0,
    flaggedRows = 0,
    falseRows = 0,
    events = 0;
  const perFile = files.map((f, k) => {
    const r = nabScoreFile(flagsOf[k], f.windows, 'standard');
    const o = nabScoreFile(onsetsOf[k], f.windows, 'standard');
    detectedWindows += r.detectedWindows;
    flaggedRows += r.tp + r.fp;
    falseRows += r.fp;
    events += o.tp + o.fp;
    return {
      file: f.name,
      score: r.score,
      onsetScore: o.score,
      detected: r.detectedWindows,
      windows: r.windows,
      falseRows: r.fp,
    };
  });
  return {
    shipped,
    shippedOnsets,
    tuned: per((p) => opt[p].normalized),
    theta: per((p) => opt[p].threshold),
    tunedOnsets: per((p) => onsetOpt[p].normalized),
    thetaOnsets: per((p) => onsetOpt[p].theta),
    detectedWindows,
    flaggedRows,
    falseRows,
    events,
    failed,
    perFile,
  };
}

/**
 * nabScoreFile's raw score from precomputed row weights (the θ grid scores thousands of flag vectors; recomputing the
 * weights each time dominated the run). Checked against nabScoreFile on the shipped flags of every cell.
 */
function rawScore(flags: Uint8Array, w: NabRowWeights, windows: number, fnWeight: number, best: Float64Array): number {
  best.fill(NaN, 0, windows);
  let fp = 0;
  for (let i = w.probation; i < flags.length; i++) {
    const k = w.window[i];
    if (k >= 0) {
      if (Number.isNaN(best[k])) best[k] = -fnWeight;
      if (flags[i] !== 0 && w.weights[i] > best[k]) best[k] = w.weights[i];
    } else if (flags[i] !== 0) fp += w.weights[i];
  }
  let total = fp;
  for (let k = 0; k < windows; k++) if (!Number.isNaN(best[k])) total += best[k];
  return total;
}

/** Best θ for one-detection-per-event scoring, over a grid of candidate θ, for all three profiles at once. */
function tuneOnsets(
  files: readonly NabFile[],
  ratiosOf: readonly Float64Array[],
  minGap: number,
  windows: number,
  check: readonly Uint8Array[],
): PerProfile<{ theta: number; normalized: number }> {
  const pooled: number[] = [];
  files.forEach((f, k) => {
    const r = ratiosOf[k];
    for (let i = f.probation; i < r.length; i++) if (r[i] > 0) pooled.push(r[i]);
  });
  pooled.sort((a, b) => b - a);
  const cand = new Set<number>([1]);
  for (let rank = 1; rank <= pooled.length; rank = Math.max(rank + 1, Math.round(rank * 1.04)))
    cand.add(pooled[rank - 1]);
  const bufs = files.map((f) => new Uint8Array(f.values.length));
  const weights = {} as PerProfile<NabRowWeights[]>;
  for (const p of PROFILES) weights[p] = files.map((f) => nabRowWeights(f.values.length, f.windows, p));
  const scratch = new Float64Array(Math.max(1, ...files.map((f) => f.windows.length)));
  const fileRaw = (p: NabProfileName, flagsOf: readonly Uint8Array[]): number =>
    files.reduce(
      (a, f, k) => a + rawScore(flagsOf[k], weights[p][k], f.windows.length, NAB_PROFILES[p].fnWeight, scratch),
      0,
    );
  // The fast scorer must agree with the library's on real flags.
  for (const p of PROFILES) {
    const fast = fileRaw(p, check);
    const ref = files.reduce((a, f, k) => a + nabScoreFile(check[k], f.windows, p).score, 0);
    if (Math.abs(fast - ref) > 1e-9 * Math.max(1, Math.abs(ref)))
      throw new Error(`eval: fast NAB scorer disagrees with nabScoreFile (${fast} vs ${ref}, ${p})`);
  }
  const best = {} as PerProfile<{ theta: number; raw: number }>;
  for (const p of PROFILES) best[p] = { theta: Infinity, raw: -NAB_PROFILES[p].fnWeight * windows };
  // Candidates high to low; ties keep the higher θ (as NAB's sweep).
  for (const theta of [...cand].sort((a, b) => b - a)) {
    files.forEach((_, k) => onsetsAt(ratiosOf[k], theta, minGap, bufs[k]));
    for (const p of PROFILES) {
      const raw = fileRaw(p, bufs);
      if (raw > best[p].raw) best[p] = { theta, raw };
    }
  }
  const out = {} as PerProfile<{ theta: number; normalized: number }>;
  for (const p of PROFILES) out[p] = { theta: best[p].theta, normalized: normalisedTotal(best[p].raw, windows, p) };
  return out;
}

/** Issue #4's false-alarm bound for SKAB. */
export const SKAB_FAR_TARGET = 0.15;

export interface SkabCell extends SkabMetrics {
  /** Share of test rows flagged. */
  flagged: number;
  confusion: Confusion;
  /** Oracle: the best pooled F1 over one global multiplier θ on score/threshold, and the FAR/MAR there. */
  best: SkabMetrics & { theta: number };
  /** Oracle as `best`, restricted to multipliers whose pooled FAR is at most the target's 15 %. */
  bestAtFar: SkabMetrics & { theta: number };
  failed: Array<{ file: string; error: string }>;
  perFile: Array<{ file: string } & Confusion>;
}

export function skabTestLabels(f: SkabFile): Uint8Array {
  return f.labels.slice(SKAB_TRAIN_ROWS);
}

export function scoreSkabCell(files: readonly SkabFile[], cell: readonly CellFile[]): SkabCell {
  const failed: SkabCell['failed'] = [];
  const perFile = files.map((f, k) => {
    const c = cell[k];
    const labels = skabTestLabels(f);
    if (c.flags === undefined) failed.push({ file: f.name, error: c.error ?? 'no result' });
    return { file: f.name, ...confusion(labels, c.flags ?? new Uint8Array(labels.length)) };
  });
  const pooled = sumConfusions(perFile);
  const n = pooled.tp + pooled.fp + pooled.fn + pooled.tn;
  // Oracle sweep over the pooled ratios.
  const rows: Array<[number, number]> = [];
  files.forEach((f, k) => {
    const labels = skabTestLabels(f);
    const r = cell[k].ratios;
    for (let i = 0; i < labels.length; i++) rows.push([r === undefined ? -1 : r[i], labels[i]]);
  });
  rows.sort((a, b) => b[0] - a[0]);
  const P = rows.reduce((a, r) => a + r[1], 0),
    N = rows.length - P;
  let tp = 0,
    fp = 0,
    bestF1 = -1,
    bestTheta = Infinity,
    bestC: Confusion = { tp: 0, fp: 0, fn: P, tn: N };
  let farF1 = -1,
    farTheta = Infinity,
    farC: Confusion = bestC;
  for (let i = 0; i < rows.length;) {
    const v = rows[i][0];
    while (i < rows.length && rows[i][0] === v) {
      if (rows[i][1] === 1) tp++;
      else fp++;
      i++;
    }
    const f1 = (2 * tp) / (2 * tp + fp + (P - tp));
    if (f1 > bestF1) {
      bestF1 = f1;
      bestTheta = v;
      bestC = { tp, fp, fn: P - tp, tn: N - fp };
    }
    if (f1 > farF1 && fp <= SKAB_FAR_TARGET * N) {
      farF1 = f1;
      farTheta = v;
      farC = { tp, fp, fn: P - tp, tn: N - fp };
    }
  }
  return {
    ...skabMetrics(pooled),
    flagged: (pooled.tp + pooled.fp) / n,
    confusion: pooled,
    best: { ...skabMetrics(bestC), theta: bestTheta },
    bestAtFar: { ...skabMetrics(farC), theta: farTheta },
    failed,
    perFile,
  };
}

/** SKAB metrics of fixed flags per file (baselines). */
export function skabOfFlags(
  files: readonly SkabFile[],
  flagsOf: (f: SkabFile, labels: Uint8Array, k: number) => Uint8Array,
): SkabMetrics & { flagged: number } {
  const c = sumConfusions(
    files.map((f, k) => {
      const labels = skabTestLabels(f);
      return confusion(labels, flagsOf(f, labels, k));
    }),
  );
  return { ...skabMetrics(c), flagged: (c.tp + c.fp) / (c.tp + c.fp + c.fn + c.tn) };
}

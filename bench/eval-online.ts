/**
 * NAB evaluation of the causal online detectors (lib/detect/online.ts) and a rolling z-score, all through the same alarm
 * stage (lib/detect/alarm.ts: HTM likelihood + spatial rule + rest period).
 *
 *   node dist/bench/eval-online.js [--model zscore|online] [--seeds 1,2,3] [--files substr,substr] [--rest 0.1]
 *                                  [--threshold 0.5422] [--opts '{"units":16}'] [--alarm '{"spatialTolerance":0.05}']
 *                                  [--json out.json] [--quiet]
 *
 * Per seed: every file is run causally (the model sees only the probation rows before scoring starts and learns on line
 * after), raw scores → AlarmStage(probation = NAB's, rest = round(rest·P)) → calibrated scores and flags.
 *   shipped   standard and reward_low_FP_rate profiles, at the one fixed threshold (default HTM's 0.5422) for all files
 *   tuned     standard profile, the best single global threshold θ = m·threshold over a grid (the rest period is
 *             re-applied at each θ, so NAB's sort-based sweep does not apply)
 * Prints the per-file table (seed mean) and the totals as mean (min–max) over seeds, with the time per file.
 */
import { loadNab, NabFile } from './eval-data';
import { nabNormalize, nabScoreFile, NabProfileName } from '../lib/detect/nab';
import { AlarmStage, HTM_THRESHOLD, restFlags, AlarmOptions } from '../lib/detect/alarm';
import { OnlineForecaster, OnlineOptions } from '../lib/detect/online';
import { writeFileAtomicSync } from '../lib/io/atomic';

interface Args {
  model: string; seeds: number[]; files: string[]; rest: number; threshold: number;
  opts: Record<string, unknown>; alarm: Record<string, unknown>; json: string | null; quiet: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { model: 'online', seeds: [1, 2, 3], files: [], rest: 0.1, threshold: HTM_THRESHOLD, opts: {}, alarm: {}, json: null, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1] ?? '';
    switch (k) {
      case '--model': a.model = v; i++; break;
      case '--seeds': a.seeds = v.split(',').map(Number); i++; break;
      case '--files': a.files = v.split(','); i++; break;
      case '--rest': a.rest = Number(v); i++; break;
      case '--threshold': a.threshold = Number(v); i++; break;
      case '--opts': a.opts = JSON.parse(v) as Record<string, unknown>; i++; break;
      case '--alarm': a.alarm = JSON.parse(v) as Record<string, unknown>; i++; break;
      case '--json': a.json = v; i++; break;
      case '--quiet': a.quiet = true; break;
      default: throw new RangeError(`eval-online: unknown argument ${k}`);
    }
  }
  return a;
}

/** Rolling z-score raw score: |x_t − mean| / std over the previous W rows (std floored at 1e-9·(1+|mean|)). */
export function rollingZ(values: ArrayLike<number>, W = 64): Float64Array {
  const out = new Float64Array(values.length);
  for (let t = 0; t < values.length; t++) {
    const n = Math.min(W, t);
    if (n < 2) continue;
    let s = 0;
    for (let i = t - n; i < t; i++) s += values[i] as number;
    const m = s / n;
    let v = 0;
    for (let i = t - n; i < t; i++) v += ((values[i] as number) - m) ** 2;
    const sd = Math.sqrt(v / n);
    out[t] = Math.abs((values[t] as number) - m) / Math.max(sd, 1e-9 * (1 + Math.abs(m)));
  }
  return out;
}

function rawScores(model: string, f: NabFile, seed: number, opts: Record<string, unknown>): Float64Array {
  if (model === 'zscore') return rollingZ(f.values, (opts.window as number | undefined) ?? 64);
  if (model === 'online') {
    const ts = f.timestamps.map((s) => Date.parse(s.replace(' ', 'T') + 'Z'));
    const m = new OnlineForecaster({ ...(opts as Partial<OnlineOptions>), seed, probation: f.probation });
    return m.scoreBatch(f.values, ts);
  }
  throw new RangeError(`eval-online(--model): expected zscore or online, got ${model}`);
}

const GRID: number[] = [];
for (let th = 0.3; th <= 1.0000001; th += 0.0025) GRID.push(Number(th.toFixed(4)));

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  let files = loadNab();
  if (args.files.length > 0) files = files.filter((f) => args.files.some((s) => f.name.includes(s)));
  const windowCount = files.reduce((s, f) => s + f.windows.length, 0);
  const per: Array<{ seed: number; std: number; lowFp: number; tuned: number; theta: number; perFile: number[]; secs: number[] }> = [];
  for (const seed of args.seeds) {
    const scoresByFile: Float64Array[] = [];
    const secs: number[] = [];
    for (const f of files) {
      const t0 = process.hrtime.bigint();
      const raw = rawScores(args.model, f, seed, args.opts);
      const stage = new AlarmStage({ ...(args.alarm as Partial<AlarmOptions>), probation: f.probation, threshold: args.threshold, rest: Math.round(args.rest * f.probation) });
      const sc = new Float64Array(raw.length);
      for (let i = 0; i < raw.length; i++) sc[i] = stage.step(raw[i] as number, f.values[i] as number).score;
      secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
      scoresByFile.push(sc);
    }
    const total = (th: number, profile: NabProfileName, perFile?: number[]): number => {
      let s = 0;
      files.forEach((f, k) => {
        const flags = restFlags(scoresByFile[k] as Float64Array, th, Math.round(args.rest * f.probation), f.probation);
        const r = nabScoreFile(flags, f.windows, profile).score;
        if (perFile) perFile.push(r);
        s += r;
      });
      return nabNormalize(s, windowCount, profile);
    };
    const perFile: number[] = [];
    const std = total(args.threshold, 'standard', perFile);
    const lowFp = total(args.threshold, 'reward_low_FP_rate');
    let tuned = -Infinity, theta = NaN;
    for (const th of GRID) {
      const v = total(th, 'standard');
      if (v > tuned) { tuned = v; theta = th; }
    }
    per.push({ seed, std, lowFp, tuned, theta, perFile, secs });
    if (!args.quiet) console.log(`seed ${seed}: standard ${std.toFixed(1)}  lowFP ${lowFp.toFixed(1)}  tuned ${tuned.toFixed(1)} (θ=${theta})  time ${secs.reduce((a, b) => a + b, 0).toFixed(1)} s`);
  }
  const stat = (xs: number[]): string => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return `${m.toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  };
  if (!args.quiet) {
    console.log('\n| file | rows | windows | raw score (seed mean) | s/file |');
    console.log('|---|---:|---:|---:|---:|');
    files.forEach((f, k) => {
      const r = per.map((p) => p.perFile[k] as number), s = per.map((p) => p.secs[k] as number);
      console.log(`| ${f.name} | ${f.values.length} | ${f.windows.length} | ${(r.reduce((a, b) => a + b, 0) / r.length).toFixed(3)} | ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2)} |`);
    });
  }
  const summary = {
    model: args.model, opts: args.opts, alarm: args.alarm, rest: args.rest, threshold: args.threshold, seeds: args.seeds,
    standard: stat(per.map((p) => p.std)), lowFp: stat(per.map((p) => p.lowFp)), tuned: stat(per.map((p) => p.tuned)),
    theta: per.map((p) => p.theta), seconds: stat(per.map((p) => p.secs.reduce((a, b) => a + b, 0))),
  };
  console.log(`\nRESULT ${JSON.stringify(summary)}`);
  if (args.json !== null) writeFileAtomicSync(args.json, JSON.stringify({ summary, per }, null, 1));
}

if (require.main === module) main();

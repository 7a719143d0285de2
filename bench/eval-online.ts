/**
 * NAB evaluation of the causal online detectors (lib/detect/online.ts) and a rolling z-score, all through the same alarm
 * stage (lib/detect/alarm.ts: HTM likelihood + spatial rule + rest period [+ long channel]).
 *
 *   node dist/bench/eval-online.js [--model online|zscore] [--seeds 1,2,3] [--files substr,substr] [--rest 0.2]
 *       [--threshold 0.5422] [--opts '{"units":16}'] [--alarm '{"longWindow":100}'] [--members N | --member-opts '[{..},..]']
 *       [--combine none|zscore-max|long:N[:nofilter|:latch]] [--json out.json] [--quiet]
 *   node dist/bench/eval-online.js --speed [--opts ..] [--alarm ..]
 *
 * The winning configuration is the defaults plus --alarm '{"longWindow":100}' (rest 0.2, i.e. 0.2·P rows, is the default here).
 * Per seed: every file is run causally (the model sees only the probation rows before scoring starts and learns on line
 * after), raw scores → AlarmStage(probation = NAB's, rest = round(rest·P)) → calibrated scores and flags.
 *   shipped   standard and reward_low_FP_rate profiles, at the one fixed threshold (default HTM's 0.5422) for all files
 *   tuned     standard profile, the best single global threshold θ = m·threshold over a grid 0.3…1 step 0.0025 (the rest
 *             period is re-applied at each θ, so NAB's sort-based sweep does not apply)
 * --members: mean raw score of N forecasters (seeds seed·1000 + j); --combine: max with a second calibrated score
 * (a rolling z-score's, or a long-window likelihood's). Prints the per-file table (detected windows and false alarms per
 * seed) and the totals as mean (min–max) over seeds, with the time per file. --speed: see speed() below.
 */
import '../lib/node/install'; // the Node host: files, worker threads ('auto' is 1 without it)
import { loadNab, type NabFile } from './eval-data';
import { nabNormalize, nabScoreFile, type NabProfileName } from '../lib/detect/nab';
import { AlarmStage, HTM_THRESHOLD, restFlags, type AlarmOptions } from '../lib/detect/alarm';
import { OnlineForecaster, type OnlineOptions, OnlinePipeline, type OnlinePipelineOptions } from '../lib/detect/online';
import { writeFileAtomicSync } from '../lib/node/atomic';
import { Detector } from '../lib/detect/detector';

interface Args {
  model: string;
  seeds: number[];
  files: string[];
  rest: number;
  threshold: number;
  opts: Record<string, unknown>;
  alarm: Record<string, unknown>;
  json: string | null;
  quiet: boolean;
  members: number;
  combine: string;
  speed: boolean;
  memberOpts: Array<Record<string, unknown>>;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    model: 'online',
    seeds: [1, 2, 3],
    files: [],
    rest: 0.2,
    threshold: HTM_THRESHOLD,
    opts: {},
    alarm: {},
    json: null,
    quiet: false,
    members: 1,
    combine: 'none',
    speed: false,
    memberOpts: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i],
      v = argv[i + 1] ?? '';
    switch (k) {
      case '--model':
        a.model = v;
        i++;
        break;
      case '--seeds':
        a.seeds = v.split(',').map(Number);
        i++;
        break;
      case '--files':
        a.files = v.split(',');
        i++;
        break;
      case '--rest':
        a.rest = Number(v);
        i++;
        break;
      case '--threshold':
        a.threshold = Number(v);
        i++;
        break;
      case '--opts':
        a.opts = JSON.parse(v) as Record<string, unknown>;
        i++;
        break;
      case '--alarm':
        a.alarm = JSON.parse(v) as Record<string, unknown>;
        i++;
        break;
      case '--json':
        a.json = v;
        i++;
        break;
      case '--quiet':
        a.quiet = true;
        break;
      case '--speed':
        a.speed = true;
        break;
      case '--member-opts':
        a.memberOpts = JSON.parse(v) as Array<Record<string, unknown>>;
        a.members = a.memberOpts.length;
        i++;
        break;
      case '--members':
        a.members = Number(v);
        i++;
        break;
      case '--combine':
        a.combine = v;
        i++;
        break;
      default:
        throw new RangeError(`eval-online: unknown argument ${k}`);
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
    for (let i = t - n; i < t; i++) s += values[i];
    const m = s / n;
    let v = 0;
    for (let i = t - n; i < t; i++) v += (values[i] - m) ** 2;
    const sd = Math.sqrt(v / n);
    out[t] = Math.abs(values[t] - m) / Math.max(sd, 1e-9 * (1 + Math.abs(m)));
  }
  return out;
}

function rawScores(
  model: string,
  f: NabFile,
  seed: number,
  opts: Record<string, unknown>,
  members = 1,
  memberOpts: Array<Record<string, unknown>> = [],
): Float64Array {
  if (members > 1) {
    const sum = new Float64Array(f.values.length);
    for (let j = 0; j < members; j++) {
      const r = rawScores(model, f, seed * 1000 + j, { ...opts, ...(memberOpts[j] ?? {}) });
      for (let i = 0; i < sum.length; i++) sum[i] += r[i] / members;
    }
    return sum;
  }
  if (model === 'zscore') return rollingZ(f.values, (opts.window as number | undefined) ?? 64);
  if (model === 'detector' || model === 'detector-time') {
    // The library's default Detector (model 'auto' → 'gru-online'): fit on the probation, detect the rest; with
    // 'detector-time' it is given the timestamps, as the command line gives a CSV's dates (timeFeatures 'auto' → 'context').
    const ts = model === 'detector-time' ? f.timestamps.map((s) => Date.parse(s.replace(' ', 'T') + 'Z')) : null;
    const d = new Detector({ seed }).fit(
      f.values.slice(0, f.probation),
      ts ? { timestamps: ts.slice(0, f.probation) } : {},
    );
    const out = new Float64Array(f.values.length);
    out.set(d.calibration as Float64Array, 0);
    out.set(d.detect(f.values.slice(f.probation), ts ? { timestamps: ts.slice(f.probation) } : {}).scores, f.probation);
    return out;
  }
  if (model === 'pipeline') {
    // the exported OnlinePipeline; its calibrated scores are returned (no second alarm stage)
    const ts = f.timestamps.map((s) => Date.parse(s.replace(' ', 'T') + 'Z'));
    return OnlinePipeline.create({ ...(opts as Partial<OnlinePipelineOptions>), seed, probation: f.probation }).batch(
      f.values,
      ts,
    ).scores;
  }
  if (model === 'online') {
    const ts = f.timestamps.map((s) => Date.parse(s.replace(' ', 'T') + 'Z'));
    const m = new OnlineForecaster({ ...(opts as Partial<OnlineOptions>), seed, probation: f.probation });
    return m.scoreBatch(f.values, ts);
  }
  throw new RangeError(`eval-online(--model): expected detector, pipeline, online or zscore, got ${model}`);
}

const GRID: number[] = [];
for (let th = 0.3; th <= 1.0000001; th += 0.0025) GRID.push(Number(th.toFixed(4)));

/**
 * --speed: a 22,000-row series (cpu_utilization_asg_misconfiguration's 18,050 rows, then its first rows again) end to end
 * (forecaster + alarm stage, fresh process, one core), median of 3; and the scoring rate between learning steps: rows/s
 * of step() on a fitted forecaster whose next learning step is never due.
 */
function speed(args: Args): void {
  const f = loadNab().find((x) => x.name.includes('asg_misconfiguration')) as NabFile;
  const n = 22000,
    values: number[] = [],
    times: number[] = [];
  const t0ms = Date.parse(f.timestamps[0]?.replace(' ', 'T') + 'Z');
  for (let i = 0; i < n; i++) {
    values.push(f.values[i % f.values.length]);
    times.push(t0ms + i * 300000);
  }
  const P = 750,
    runs: number[] = [];
  let check = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    const m = new OnlineForecaster({ ...(args.opts as Partial<OnlineOptions>), seed: 1, probation: P });
    const st = new AlarmStage({
      ...(args.alarm as Partial<AlarmOptions>),
      probation: P,
      rest: Math.round(args.rest * P),
    });
    for (let i = 0; i < n; i++) check += st.step(m.step(values[i], times[i]), values[i]).score;
    runs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  runs.sort((a, b) => a - b);
  const m = new OnlineForecaster({ ...(args.opts as Partial<OnlineOptions>), seed: 1, probation: P, every: 1_000_000 });
  for (let i = 0; i < 2000; i++) m.step(values[i], times[i]);
  const t1 = process.hrtime.bigint();
  for (let i = 2000; i < 12000; i++) check += m.step(values[i], times[i]);
  const rate = 10000 / (Number(process.hrtime.bigint() - t1) / 1e9);
  console.log(
    `SPEED ${JSON.stringify({ opts: args.opts, rows: n, secondsMedian: runs[1], seconds: runs, scoringRowsPerSecond: Math.round(rate), checksum: check })}`,
  );
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (args.speed) {
    speed(args);
    return;
  }
  let files = loadNab();
  if (args.files.length > 0) files = files.filter((f) => args.files.some((s) => f.name.includes(s)));
  const windowCount = files.reduce((s, f) => s + f.windows.length, 0);
  const per: Array<{
    seed: number;
    std: number;
    lowFp: number;
    tuned: number;
    theta: number;
    perFile: number[];
    secs: number[];
    detail: string[];
  }> = [];
  for (const seed of args.seeds) {
    const scoresByFile: Float64Array[] = [];
    const secs: number[] = [];
    for (const f of files) {
      const t0 = process.hrtime.bigint();
      const raw = rawScores(args.model, f, seed, args.opts, args.members, args.memberOpts);
      const alarmOpts = {
        ...(args.alarm as Partial<AlarmOptions>),
        probation: f.probation,
        threshold: args.threshold,
        rest: Math.round(args.rest * f.probation),
      };
      const stage = new AlarmStage(alarmOpts);
      let sc: Float64Array = new Float64Array(raw.length);
      if (args.model === 'pipeline' || args.model.startsWith('detector'))
        sc = raw; // already calibrated by their own alarm stage
      else for (let i = 0; i < raw.length; i++) sc[i] = stage.step(raw[i], f.values[i]).score;
      if (args.combine === 'zscore-max') {
        // max with the rolling z-score's calibrated score
        const z = rollingZ(f.values, 64),
          zs = new AlarmStage(alarmOpts);
        for (let i = 0; i < raw.length; i++) sc[i] = Math.max(sc[i], zs.step(z[i], f.values[i]).score);
      } else if (args.combine.startsWith('long:')) {
        // max with a second likelihood over a longer averaging window
        const [L, filt] = args.combine.slice(5).split(':');
        const ls = new AlarmStage({
          ...alarmOpts,
          averagingWindow: Number(L),
          filter: filt !== 'nofilter' && filt !== 'latch',
        });
        let latched = false; // latch: the long channel counts once per excursion above the threshold (re-armed under 0.4)
        for (let i = 0; i < raw.length; i++) {
          let l = ls.step(raw[i], f.values[i]).score;
          if (filt === 'latch') {
            if (latched) {
              if (l < 0.4) latched = false;
              l = 0;
            } else if (l >= args.threshold) latched = true;
          }
          sc[i] = Math.max(sc[i], l);
        }
      } else if (args.combine.startsWith('tflong:')) {
        // latched long channel of a second, time-of-day forecaster
        const raw2 = rawScores(args.model, f, seed * 7919 + 1, { ...args.opts, timeFeatures: 'day' });
        const ls = new AlarmStage({
          ...alarmOpts,
          averagingWindow: Number(args.combine.slice(7)),
          filter: false,
          spatialTolerance: 0,
          longWindow: 0,
        });
        let latched = false;
        for (let i = 0; i < raw.length; i++) {
          let l = ls.step(raw2[i], f.values[i]).score;
          if (latched) {
            if (l < 0.4) latched = false;
            l = 0;
          } else if (l >= args.threshold) latched = true;
          sc[i] = Math.max(sc[i], l);
        }
      } else if (args.combine !== 'none')
        throw new RangeError(
          `eval-online(--combine): expected none, zscore-max, long:N[:mode] or tflong:N, got ${args.combine}`,
        );
      secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
      scoresByFile.push(sc);
    }
    const total = (th: number, profile: NabProfileName, perFile?: number[], detail?: string[]): number => {
      let s = 0;
      files.forEach((f, k) => {
        const flags = restFlags(scoresByFile[k], th, Math.round(args.rest * f.probation), f.probation);
        const fs = nabScoreFile(flags, f.windows, profile),
          r = fs.score;
        if (perFile) perFile.push(r);
        if (detail) detail.push(`${fs.detectedWindows}/${fs.windows} ${fs.falsePositives}fp`);
        s += r;
      });
      return nabNormalize(s, windowCount, profile);
    };
    const perFile: number[] = [],
      detail: string[] = [];
    const std = total(args.threshold, 'standard', perFile, detail);
    const lowFp = total(args.threshold, 'reward_low_FP_rate');
    let tuned = -Infinity,
      theta = NaN;
    for (const th of GRID) {
      const v = total(th, 'standard');
      if (v > tuned) {
        tuned = v;
        theta = th;
      }
    }
    per.push({ seed, std, lowFp, tuned, theta, perFile, secs, detail });
    if (!args.quiet)
      console.log(
        `seed ${seed}: standard ${std.toFixed(1)}  lowFP ${lowFp.toFixed(1)}  tuned ${tuned.toFixed(1)} (θ=${theta})  time ${secs.reduce((a, b) => a + b, 0).toFixed(1)} s`,
      );
  }
  const stat = (xs: number[]): string => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return `${m.toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  };
  if (!args.quiet) {
    console.log(
      '\n| file | rows | windows | raw score (seed mean) | detected/windows, false alarms (per seed) | s/file |',
    );
    console.log('|---|---:|---:|---:|---|---:|');
    files.forEach((f, k) => {
      const r = per.map((p) => p.perFile[k]),
        s = per.map((p) => p.secs[k]);
      console.log(
        `| ${f.name} | ${f.values.length} | ${f.windows.length} | ${(r.reduce((a, b) => a + b, 0) / r.length).toFixed(3)} | ${per.map((p) => p.detail[k]).join(', ')} | ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2)} |`,
      );
    });
  }
  const summary = {
    model: args.model,
    members: args.members,
    memberOpts: args.memberOpts,
    combine: args.combine,
    opts: args.opts,
    alarm: args.alarm,
    rest: args.rest,
    threshold: args.threshold,
    seeds: args.seeds,
    standard: stat(per.map((p) => p.std)),
    lowFp: stat(per.map((p) => p.lowFp)),
    tuned: stat(per.map((p) => p.tuned)),
    theta: per.map((p) => p.theta),
    seconds: stat(per.map((p) => p.secs.reduce((a, b) => a + b, 0))),
  };
  console.log(`\nRESULT ${JSON.stringify(summary)}`);
  if (args.json !== null) writeFileAtomicSync(args.json, JSON.stringify({ summary, per }, null, 1));
}

if (require.main === module) main();

/**
 * `npm run bench:detect`: how fast the default detector is where users run it. Needs ../shared/data (a NAB series).
 *
 *   1. `bptt detect FILE` with defaults on a 22,000-row series (NAB's cpu_utilization_asg_misconfiguration, 18,050 rows,
 *      then its first rows again, every 5 minutes): wall-clock of the whole command (read, fit, detect, write), median
 *      of 5 runs, each a fresh process.
 *   2. Streaming, one core: `detector.stream().push(v)` over 20,000 points after fitting on 750, rows/s overall
 *      (learning steps included) and between learning steps (the forecaster's own step() with learning switched off,
 *      which is what a push costs on the 31 of 32 points that do not learn).
 * Prints one JSON line per measurement with a checksum (so no work is optimised away) and writes
 * bench/results/detect-speed.json. Speed is measured here, never asserted in a test.
 */
import '../lib/node/install'; // the Node host: files, worker threads ('auto' is 1 without it)
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Detector } from '../lib/detect/detector';
import { OnlineForecaster } from '../lib/detect/online';
import { loadNab, type NabFile, repoRoot } from './eval-data';

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  const f = loadNab().find((x) => x.name.includes('asg_misconfiguration')) as NabFile;
  const n = 22000,
    values: number[] = [];
  for (let i = 0; i < n; i++) values.push(f.values[i % f.values.length]);
  const t0 = Date.UTC(2014, 4, 14);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-detect-speed-'));
  const csv = path.join(dir, 'series.csv');
  const lines = values.map((v, i) => `${new Date(t0 + i * 300000).toISOString().replace('T', ' ').slice(0, 19)},${v}`);
  fs.writeFileSync(csv, `timestamp,value\n${lines.join('\n')}\n`);
  const main = path.join(repoRoot(), 'dist', 'lib', 'cli', 'main.js');
  const cli: number[] = [];
  let events = 0;
  for (let r = 0; r < 5; r++) {
    const s = process.hrtime.bigint();
    const out = execFileSync(process.execPath, [main, 'detect', csv, '--json', '-q'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    cli.push(Number(process.hrtime.bigint() - s) / 1e9);
    events = (JSON.parse(out) as { events: unknown[] }).events.length;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const detect = {
    what: 'bptt detect, defaults, 22,000 rows',
    secondsMedian: median(cli),
    seconds: cli,
    events,
    cores: os.cpus().length,
  };
  console.log(JSON.stringify(detect));

  const P = 750,
    N = 20000;
  const d = new Detector().fit(values.slice(0, P));
  const s = d.stream();
  let check = 0;
  const ts = process.hrtime.bigint();
  for (let i = P; i < P + N; i++) check += (s.push(values[i]) as { score: number }).score;
  const overall = N / (Number(process.hrtime.bigint() - ts) / 1e9);
  const m = new OnlineForecaster({ probation: P, seed: 1, every: 1_000_000 });
  for (let i = 0; i < 2000; i++) m.step(values[i]);
  const tb = process.hrtime.bigint();
  for (let i = 2000; i < 2000 + N; i++) check += m.step(values[i]);
  const between = N / (Number(process.hrtime.bigint() - tb) / 1e9);
  const stream = {
    what: `stream().push, model ${d.options.model}, one thread`,
    rowsPerSecondOverall: Math.round(overall),
    rowsPerSecondBetweenLearningSteps: Math.round(between),
    checksum: check,
  };
  console.log(JSON.stringify(stream));
  const outDir = path.join(repoRoot(), 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, 'detect-speed.json'),
    `${JSON.stringify({ detect, stream, node: process.version, loadavg: os.loadavg() }, null, 1)}\n`,
  );
}

main();

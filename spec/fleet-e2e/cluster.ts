/**
 * What the fleet's end-to-end specs share: child processes with their log lines (worker processes spawned as
 * `node bin/bptt.js fleet worker …`), a real redis-server with AOF that can be crashed and restarted on the same port
 * and directory, /metrics parsing, and the reference a single process computes with `detector.stream()`.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import type { Redis } from 'ioredis';
import { repoRoot } from '../helpers/repo';
import { sleep, freePort, Proc } from '../helpers/proc';
import { Detector } from '../../lib/detect/detector';
import { readOutputs, type FleetOutput, type FleetProducer } from '../../lib/fleet';
import { syntheticTraining, SYNTHETIC_T0, SYNTHETIC_STEP_MS, type SyntheticFleet } from '../../lib/cli/fleet-synthetic';

export const BIN = path.join(repoRoot(), 'bin', 'bptt.js');

export { sleep, which, freePort, Proc } from '../helpers/proc';

/** Skips the suite visibly when `program` is missing, unless CI is set (then it is a failure). */
export function needProgram(ctx: Mocha.Context, program: string | null, reason: string): void {
  if (program !== null) return;
  const ci = process.env['CI'];
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') throw new Error(`${reason}; CI is set`);
  console.log(`      (skipped: ${reason}; set CI=1 to make this a failure)`);
  ctx.skip();
}

/** A redis-server on a loopback port with AOF on, crashable and restartable in place. */
export class RedisServer {
  proc: Proc | null = null;
  private constructor(
    readonly program: string,
    readonly dir: string,
    readonly port: number,
    readonly fsync: 'always' | 'everysec',
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * The tests take AOF with `appendfsync always`: every write Redis acknowledged is on disk before the reply, so a crash (SIGKILL)
   * loses nothing a worker or producer was told had happened. `everysec` could lose the last second of acknowledged
   * commits; the fleet would still recover (outputs carry the input entry's ID), but points added by the producer in
   * that second would be gone, and the test asserts that nothing is. The benchmark takes `everysec` (Redis's
   * default with AOF, and what a fleet would run with).
   */
  static async start(program: string, name: string, fsync: 'always' | 'everysec' = 'always'): Promise<RedisServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bptt-fleet-${name}-`));
    const r = new RedisServer(program, dir, await freePort(), fsync);
    await r.launch();
    return r;
  }

  private async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      this.fsync,
      '--save',
      '',
      '--protected-mode',
      'no',
      '--loglevel',
      'notice',
    ];
    this.proc = new Proc('redis-server', spawn(this.program, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    await this.proc.waitFor(/Ready to accept connections/, 30_000);
  }

  /** SIGKILL (a crash: only the AOF survives), then the same server again on the same port and directory. */
  async crashAndRestart(downMs = 0): Promise<void> {
    await this.proc?.kill9();
    if (downMs > 0) await sleep(downMs);
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.proc?.stop(5_000);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Spawns `node bin/bptt.js fleet worker …`; resolves once it is started (its /metrics port, when asked, is known). */
export async function startWorker(
  redis: string,
  prefix: string,
  id: string,
  extra: string[] = [],
): Promise<{ proc: Proc; metricsPort: number | null }> {
  const args = [BIN, 'fleet', 'worker', '--redis', redis, '--prefix', prefix, '--id', id, ...extra];
  const proc = new Proc(id, spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot() }));
  const started = await proc.waitFor(/worker \S+ started/, 60_000);
  void started;
  let metricsPort: number | null = null;
  if (extra.includes('--metrics-port')) {
    const m = await proc.waitFor(/serving http:\/\/[^:]+:(\d+)\/metrics/, 10_000);
    metricsPort = Number(m[1]);
  }
  return { proc, metricsPort };
}

/** Runs `node bin/bptt.js …` to its end. */
export function runBptt(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: repoRoot(),
    input,
    timeout: 300_000,
    maxBuffer: 256 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('utf8')));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

export type Samples = Map<string, Array<{ labels: Record<string, string>; value: number }>>;

/** Samples of an exposition text: name → [{ labels, value }] (a small parser independent of lib/watch). */
export function parseExposition(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let l;
    while ((l = re.exec(m[2] ?? '')) !== null)
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const v = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : m[3] === 'NaN' ? NaN : Number(m[3]);
    if (!out.has(m[1])) out.set(m[1], []);
    (out.get(m[1]) as Array<{ labels: Record<string, string>; value: number }>).push({ labels, value: v });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Fleet runs: templates, points, the single-process reference, and waiting for a run to complete

/** Fits the two templates of the e2e tests and the benchmark on a synthetic normal series (seeded, deterministic). */
export function fitTemplates(): { z: Detector; g: Detector } {
  const train = syntheticTraining(600, 1);
  const z = new Detector({ model: 'zscore', window: 16, threshold: 'spot', seed: 1 }).fit(train);
  const g = new Detector({ model: 'gru-online', window: 8, hidden: 4, threshold: 'likelihood', seed: 1 }).fit(
    train.subarray(0, 200),
  );
  return { z, g };
}

/** A template as a worker reads it back (Detector.fromJSON of its stored document). */
export function asStored(d: Detector): Detector {
  return Detector.fromJSON(JSON.stringify(d.toJSON()), 'template');
}

/** What one output of the reference holds (a warm-up point: null). */
export type RefOutput = { score: number; flag: 0 | 1; threshold: number } | null;

/** The single-process reference of one series: `detector.stream()` over its points. */
export function referenceOf(d: Detector, values: Float64Array): RefOutput[] {
  const s = d.stream();
  const out: RefOutput[] = [];
  for (let i = 0; i < values.length; i++) {
    const r = s.push([values[i]]);
    out.push(r === null ? null : { score: r.score, flag: r.flag, threshold: r.threshold });
  }
  return out;
}

/** Adds points i0 … i1−1 of every series (time-major), with each series' template. */
export async function producePoints(
  producer: FleetProducer,
  fleet: SyntheticFleet,
  i0: number,
  i1: number,
  templateOf: (j: number) => string | undefined,
): Promise<void> {
  for (let i = i0; i < i1; i++) {
    const ts = SYNTHETIC_T0 + i * SYNTHETIC_STEP_MS;
    for (let j = 0; j < fleet.names.length; j++)
      await producer.add(fleet.names[j], ts, fleet.values[j][i], templateOf(j));
  }
  await producer.flush();
}

/** Output entries over all partitions (XLEN of each output stream). */
export async function outputCount(r: Redis, prefix: string, P: number): Promise<number> {
  const pipe = r.pipeline();
  for (let k = 0; k < P; k++) pipe.xlen(`${prefix}:out:${k}`);
  const res = (await pipe.exec()) ?? [];
  return res.reduce((a, [e, v]) => a + (e ? 0 : Number(v)), 0);
}

/** Polls until `total` outputs exist (fails after `ms`, or when there are more: a duplicate). */
export async function waitForOutputs(
  r: Redis,
  prefix: string,
  P: number,
  total: number,
  ms: number,
  onPoll?: (n: number) => Promise<void> | void,
): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const n = await outputCount(r, prefix, P);
    if (n > total) throw new Error(`${prefix}: ${n} outputs for ${total} points`);
    if (n === total) return;
    if (Date.now() - t0 > ms) throw new Error(`${prefix}: only ${n} of ${total} outputs after ${ms} ms`);
    if (onPoll) await onPoll(n);
    await sleep(100);
  }
}

/**
 * Checks a completed run: every input entry has exactly one output, with the input's ID, and each series' outputs
 * equal, bit for bit, the reference (`refs[j]` for series j). Returns a description of the first difference, or ''.
 */
export async function compareWithReference(
  r: Redis,
  prefix: string,
  P: number,
  fleet: SyntheticFleet,
  refs: RefOutput[][],
): Promise<string> {
  const inputs = new Set<string>();
  for (let k = 0; k < P; k++) {
    for (const [id] of (await r.xrange(`${prefix}:in:${k}`, '-', '+')) as Array<[string, string[]]>)
      inputs.add(`${k}/${id}`);
  }
  const outs = await readOutputs(r, prefix);
  if (outs.length !== inputs.size) return `${outs.length} outputs for ${inputs.size} input entries`;
  const seen = new Set<string>();
  const bySeries = new Map<string, FleetOutput[]>();
  for (const o of outs) {
    const key = `${o.partition}/${o.id}`;
    if (o.id !== o.in) return `output ${key} names input ${o.in}`;
    if (!inputs.has(key)) return `output ${key} has no input entry`;
    if (seen.has(key)) return `two outputs for input ${key}`;
    seen.add(key);
    const list = bySeries.get(o.series) ?? [];
    list.push(o);
    bySeries.set(o.series, list);
  }
  for (let j = 0; j < fleet.names.length; j++) {
    const name = fleet.names[j];
    const list = (bySeries.get(name) ?? []).sort((a, b) => a.index - b.index);
    const ref = refs[j];
    if (list.length !== ref.length) return `${name}: ${list.length} outputs, the reference has ${ref.length}`;
    for (let i = 0; i < ref.length; i++) {
      const o = list[i],
        e = ref[i];
      const where = `${name} point ${i}`;
      if (o.index !== i) return `${where}: output index ${o.index}`;
      if (o.ts !== SYNTHETIC_T0 + i * SYNTHETIC_STEP_MS) return `${where}: timestamp ${o.ts}`;
      if (e === null) {
        if (!o.warmup) return `${where}: the reference is warming up, the fleet scored ${o.score}`;
      } else if (
        o.warmup ||
        !Object.is(o.score, e.score) ||
        o.flag !== e.flag ||
        !Object.is(o.threshold, e.threshold)
      ) {
        return `${where}: fleet ${o.warmup ? 'warm-up' : `${o.score} flag ${o.flag} threshold ${o.threshold}`}, reference ${e.score} flag ${e.flag} threshold ${e.threshold}`;
      }
    }
  }
  return '';
}

/** The partitions a worker holds, from its log lines ("partition k taken" / "partition k released"). */
export function ownedFromLog(lines: readonly string[]): Set<number> {
  const owned = new Set<number>();
  for (const l of lines) {
    const m = /partition (\d+) (taken|released)/.exec(l);
    if (m) {
      if (m[2] === 'taken') owned.add(Number(m[1]));
      else owned.delete(Number(m[1]));
    }
  }
  return owned;
}

/** The committed entry count of each partition in `ks` ({prefix}:pos:{k} count). */
export async function committedCounts(r: Redis, prefix: string, ks: number[]): Promise<number[]> {
  const pipe = r.pipeline();
  for (const k of ks) pipe.hget(`${prefix}:pos:${k}`, 'count');
  const res = (await pipe.exec()) ?? [];
  return res.map(([e, v]) => (e ? 0 : Number(v ?? 0)));
}

/**
 * The Redis fleet on this machine (`npm run bench:fleet`): a real redis-server (AOF on, appendfsync everysec) and worker
 * processes (`node bin/bptt.js fleet worker`), as in spec/fleet-e2e. Writes bench/results/fleet.json and prints a table.
 *
 *   full        the issue's scale: 1,000 series × 1,000 points (1M) through 3 workers, every output checked bit for bit
 *               against a single-process detector.stream() (zscore template)
 *   scaling     1, 2, 3 workers on the same 100,000 points, sent once the workers have shared the partitions out; the
 *               rate is taken between 10 % and 90 % of the outputs (start and tail left out); per worker = rate / workers
 *               and, as two shared cores make wall-clock rates the machine's load as much as the fleet's, the points
 *               per CPU-second of the workers and of redis-server (/proc/<pid>/stat)
 *   lag         2 workers fed at 60 % of their measured rate for 20 s; the fleet's lag (entries not yet committed)
 *               sampled every 250 ms: its maximum
 *   failover    3 × kill -9 of a worker holding partitions during a run (lease 3 s): kill → the next commit on each of
 *               its partitions by another worker
 *   memory      per 1,000 resident detectors (a child with --expose-gc: heap after 1,000 warmed streams of one shared
 *               template, minus before), and their checkpoints' bytes (what Redis holds and the worker's budget counts)
 *   paper       workers (a core each) and Redis cores for 100,000 series at one point per 10 s (10,000 points/s), from
 *               the points per CPU-second
 *
 *   node dist/bench/fleet.js [--series 1000] [--points 1000] [--skip-full] [--scaling-points 100]
 *   (--skip-full keeps the full run of the last fleet.json)
 *
 * Two shared cores: the figures are this machine's, under whatever else runs (the load average is recorded).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { Redis } from 'ioredis';
import { syntheticFleet } from '../lib/cli/fleet-synthetic';
import { FleetProducer, createFleet, putTemplate, fleetStatus } from '../lib/fleet';
import {
  RedisServer,
  asStored,
  committedCounts,
  compareWithReference,
  fitTemplates,
  outputCount,
  ownedFromLog,
  producePoints,
  referenceOf,
  sleep,
  startWorker,
  type Proc,
} from '../spec/fleet-e2e/cluster';
import { REDIS_SERVER_PATH, redisAvailable } from '../spec/helpers/redis';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : Number(process.argv[i + 1]);
};

/** Memory of 1,000 resident detectors of `model` (run in a child with --expose-gc). */
function memoryChild(model: 'zscore' | 'gru-online'): void {
  const gc = (globalThis as { gc?: () => void }).gc as () => void;
  const t = fitTemplates();
  const d = asStored(model === 'zscore' ? t.z : t.g);
  const values = syntheticFleet(1000, 40, 3).values;
  gc();
  const before = process.memoryUsage().heapUsed;
  const streams = values.map((v) => {
    const s = d.stream();
    for (const x of v) s.push([x]);
    return s;
  });
  gc();
  const heap = process.memoryUsage().heapUsed - before;
  let ckpt = 0;
  for (const s of streams) ckpt += JSON.stringify((s as unknown as { getState(): unknown }).getState()).length;
  process.stdout.write(JSON.stringify({ model, heapBytesPer1000: heap, checkpointBytesPer1000: ckpt }));
}

const P = 6;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (Linux); 0 when unknown. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const program = REDIS_SERVER_PATH;
  if (!redisAvailable().ok)
    throw new Error("bench:fleet needs Debian's redis-server (apt-get install -y redis-server)");
  const server = await RedisServer.start(program, 'bench', 'everysec');
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  const templates = fitTemplates();
  const procs: Proc[] = [];
  const results: Record<string, unknown> = {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', loadavg: os.loadavg(), node: process.version },
    redis: 'redis-server, AOF on, appendfsync everysec; partitions 6; template zscore (window 16, SPOT)',
  };
  let run = 0;
  const setUp = async (prefix: string): Promise<void> => {
    await createFleet(redis, { prefix, partitions: P });
    await putTemplate(redis, prefix, 'z', templates.z);
  };
  const workers = async (prefix: string, n: number, extra: string[] = []): Promise<Proc[]> => {
    const ps: Proc[] = [];
    for (let i = 0; i < n; i++) {
      const w = await startWorker(server.url, prefix, `${prefix}-w${i + 1}`, ['--batch', '1000', ...extra]);
      ps.push(w.proc);
      procs.push(w.proc);
    }
    return ps;
  };
  /** Waits for `total` outputs; returns the rate between 10 % and 90 % of them and the elapsed time. */
  const measure = async (prefix: string, total: number, t0: number, onPoll?: () => Promise<void>) => {
    let t10 = 0,
      t90 = 0;
    for (;;) {
      const n = await outputCount(redis, prefix, P);
      const now = performance.now();
      if (t10 === 0 && n >= 0.1 * total) t10 = now;
      if (t90 === 0 && n >= 0.9 * total) t90 = now;
      if (n >= total) break;
      if (onPoll) await onPoll();
      await sleep(100);
    }
    return { seconds: (performance.now() - t0) / 1000, rate: (0.8 * total) / ((t90 - t10) / 1000) };
  };
  /** Until the workers hold all P partitions, each at least floor(P / workers). */
  const balanced = async (ws: Proc[]): Promise<void> => {
    for (;;) {
      const held = ws.map((w) => ownedFromLog(w.lines).size);
      if (held.reduce((a, b) => a + b, 0) === P && held.every((h) => h >= Math.floor(P / ws.length))) return;
      await sleep(100);
    }
  };
  const stopAll = async (ps: Proc[]): Promise<void> => {
    await Promise.all(ps.map((p) => p.stop()));
  };

  try {
    // ---- full scale, checked
    if (!process.argv.includes('--skip-full')) {
      const S = arg('series', 1000),
        N = arg('points', 1000);
      const prefix = `full${run++}`;
      await setUp(prefix);
      const fleet = syntheticFleet(S, N, 1);
      console.log(`full: producing ${S} × ${N} points …`);
      let t = performance.now();
      await producePoints(new FleetProducer({ redis, prefix, batchSize: 5000 }), fleet, 0, N, () => 'z');
      const produceSeconds = (performance.now() - t) / 1000;
      console.log(`full: produced in ${produceSeconds.toFixed(1)} s; 3 workers …`);
      t = performance.now();
      const ws = await workers(prefix, 3);
      const m = await measure(prefix, S * N, t);
      await stopAll(ws);
      const stored = asStored(templates.z);
      const refs = fleet.values.map((v) => referenceOf(stored, v));
      const diff = await compareWithReference(redis, prefix, P, fleet, refs);
      results['full'] = {
        series: S,
        points: S * N,
        workers: 3,
        produceSeconds,
        seconds: m.seconds,
        pointsPerSecond: m.rate,
        exact: diff === '' ? true : diff,
      };
      console.log(
        `full: ${S * N} points in ${m.seconds.toFixed(1)} s (${m.rate.toFixed(0)} points/s), exact: ${diff || 'yes'}`,
      );
      await redis.flushdb();
    }

    // ---- scaling 1 → 2 → 3 workers
    const SS = 1000,
      SN = arg('scaling-points', 100);
    const scaling: Array<{
      workers: number;
      seconds: number;
      pointsPerSecond: number;
      perWorker: number;
      workerCpuSeconds: number;
      redisCpuSeconds: number;
      pointsPerWorkerCpuSecond: number;
      pointsPerRedisCpuSecond: number;
    }> = [];
    for (const n of [1, 2, 3]) {
      const prefix = `scale${run++}`;
      await setUp(prefix);
      // The workers first share the partitions out (a newcomer waits for the others to give some back), then the
      // points arrive as fast as one producer sends them.
      const ws = await workers(prefix, n);
      await balanced(ws);
      const cpu0 = ws.map((w) => cpuSeconds(w.child.pid));
      const redisCpu0 = cpuSeconds(server.proc?.child.pid);
      const t = performance.now();
      const feeding = producePoints(
        new FleetProducer({ redis, prefix, batchSize: 5000 }),
        syntheticFleet(SS, SN, 2),
        0,
        SN,
        () => 'z',
      );
      const m = await measure(prefix, SS * SN, t);
      await feeding;
      const workerCpu = ws.reduce((a, w, i) => a + cpuSeconds(w.child.pid) - cpu0[i], 0);
      const redisCpu = cpuSeconds(server.proc?.child.pid) - redisCpu0;
      await stopAll(ws);
      scaling.push({
        workers: n,
        seconds: m.seconds,
        pointsPerSecond: m.rate,
        perWorker: m.rate / n,
        workerCpuSeconds: workerCpu,
        redisCpuSeconds: redisCpu,
        pointsPerWorkerCpuSecond: (SS * SN) / workerCpu,
        pointsPerRedisCpuSecond: (SS * SN) / redisCpu,
      });
      console.log(
        `scaling: ${n} worker(s): ${m.rate.toFixed(0)} points/s (${(m.rate / n).toFixed(0)} per worker); ` +
          `${((SS * SN) / workerCpu).toFixed(0)} points per worker CPU-second, ${((SS * SN) / redisCpu).toFixed(0)} per Redis CPU-second`,
      );
      await redis.flushdb();
    }
    results['scaling'] = { series: SS, points: SS * SN, runs: scaling };

    // ---- lag under a steady feed at 60 % of the 2-worker rate
    {
      const prefix = `lag${run++}`;
      await setUp(prefix);
      const rate = Math.max(100, Math.floor(0.6 * scaling[1].pointsPerSecond));
      const S = 500;
      const seconds = 20;
      const steps = Math.ceil((rate * seconds) / S);
      const fleet = syntheticFleet(S, steps, 4);
      const ws = await workers(prefix, 2);
      const producer = new FleetProducer({ redis, prefix, batchSize: 5000 });
      let maxLag = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          maxLag = Math.max(maxLag, (await fleetStatus(redis, prefix)).lag);
          await sleep(250);
        }
      })();
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) {
        await producePoints(producer, fleet, i, i + 1, () => 'z');
        const due = t0 + ((i + 1) * S * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      const fedSeconds = (performance.now() - t0) / 1000;
      const m = await measure(prefix, S * steps, t0);
      sampling = false;
      await sampler;
      await stopAll(ws);
      results['lag'] = {
        workers: 2,
        feedPointsPerSecond: rate,
        fedSeconds,
        points: S * steps,
        maxLag,
        drainedAfterSeconds: m.seconds - fedSeconds,
      };
      console.log(`lag: fed ${rate} points/s for ${fedSeconds.toFixed(1)} s to 2 workers: max lag ${maxLag} entries`);
      await redis.flushdb();
    }

    // ---- failover: 3 kills, lease 3 s
    {
      const prefix = `fail${run++}`;
      const LEASE = 3000;
      await setUp(prefix);
      const S = 300,
        N = 200;
      const fleet = syntheticFleet(S, N, 5);
      await producePoints(new FleetProducer({ redis, prefix, batchSize: 5000 }), fleet, 0, N, () => 'z');
      const live = await workers(prefix, 3, ['--lease-ms', String(LEASE), '--batch', '100']);
      let next = 4;
      const resumes: number[] = [];
      for (const frac of [0.2, 0.45, 0.7]) {
        while ((await outputCount(redis, prefix, P)) < frac * S * N) await sleep(20);
        const holders = live.filter((p) => ownedFromLog(p.lines).size > 0);
        const victim = holders[resumes.length % holders.length];
        live.splice(live.indexOf(victim), 1);
        const owned = [...ownedFromLog(victim.lines)];
        const before = await committedCounts(redis, prefix, owned);
        const killedAt = performance.now();
        await victim.kill9();
        const w = await startWorker(server.url, prefix, `${prefix}-w${next++}`, [
          '--lease-ms',
          String(LEASE),
          '--batch',
          '100',
        ]);
        live.push(w.proc);
        procs.push(w.proc);
        const pending = new Set(owned.map((_, i) => i));
        while (pending.size > 0) {
          const now = await committedCounts(redis, prefix, owned);
          for (const i of [...pending]) if (now[i] > before[i]) pending.delete(i);
          if (pending.size > 0) await sleep(10);
        }
        resumes.push(performance.now() - killedAt);
        console.log(`failover: killed ${victim.name}; resumed in ${resumes[resumes.length - 1].toFixed(0)} ms`);
      }
      await measure(prefix, S * N, performance.now());
      await stopAll(live);
      const stored = asStored(templates.z);
      const diff = await compareWithReference(
        redis,
        prefix,
        P,
        fleet,
        fleet.values.map((v) => referenceOf(stored, v)),
      );
      results['failover'] = { leaseMs: LEASE, resumeMs: resumes, exact: diff === '' ? true : diff };
      await redis.flushdb();
    }

    // ---- memory per 1,000 resident detectors
    const memory = (['zscore', 'gru-online'] as const).map((model) => {
      const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--memory-child', model], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`memory child (${model}): ${r.stderr}`);
      return JSON.parse(r.stdout) as { model: string; heapBytesPer1000: number; checkpointBytesPer1000: number };
    });
    results['memory'] = memory;

    // ---- paper extrapolation: on a cluster each worker has a core of its own, so its rate is the points it scores per
    // CPU-second (this machine's wall-clock rates share two cores with everything else); Redis likewise.
    const perCpu = Math.min(...scaling.map((s) => s.pointsPerWorkerCpuSecond));
    const redisPerCpu = Math.min(...scaling.map((s) => s.pointsPerRedisCpuSecond));
    const need = 100_000 / 10;
    const nWorkers = Math.ceil(need / perCpu);
    results['paper'] = {
      series: 100_000,
      pointsPerSecond: need,
      perWorkerPointsPerCpuSecond: perCpu,
      workers: nWorkers,
      redisPointsPerCpuSecond: redisPerCpu,
      redisCores: need / redisPerCpu,
      residentMBPerWorker: Object.fromEntries(
        memory.map((m) => [m.model, ((m.heapBytesPer1000 / 1000) * (100_000 / nWorkers)) / 2 ** 20]),
      ),
    };
  } finally {
    await Promise.all(procs.map((p) => p.kill9()));
    redis.disconnect();
    await server.stop();
  }

  const out = path.join(__dirname, '..', '..', 'bench', 'results', 'fleet.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  if (results['full'] === undefined && fs.existsSync(out)) {
    // --skip-full: keep the last full run's figures (marked with the machine they were measured on).
    const last = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
    if (last['full'] !== undefined)
      results['full'] = { ...(last['full'] as object), from: 'an earlier run', machine: last['machine'] };
  }
  const tmp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(results, null, 2)}\n`);
  fs.renameSync(tmp, out);
  printTable(results);
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

function printTable(r: Record<string, unknown>): void {
  const f = (x: number, d = 0): string => x.toFixed(d);
  const lines: string[] = ['', 'bptt fleet on this machine', ''];
  const full = r['full'] as { points: number; seconds: number; pointsPerSecond: number; exact: unknown } | undefined;
  if (full)
    lines.push(
      `full run       ${full.points} points, 3 workers: ${f(full.seconds, 1)} s, ${f(full.pointsPerSecond)} points/s, exact ${String(full.exact)}`,
    );
  const sc = r['scaling'] as
    | {
        runs: Array<{
          workers: number;
          pointsPerSecond: number;
          perWorker: number;
          pointsPerWorkerCpuSecond: number;
          pointsPerRedisCpuSecond: number;
        }>;
      }
    | undefined;
  for (const s of sc?.runs ?? [])
    lines.push(
      `${s.workers} worker(s)     ${f(s.pointsPerSecond).padStart(7)} points/s   ${f(s.perWorker).padStart(7)} per worker   ` +
        `${f(s.pointsPerWorkerCpuSecond).padStart(7)} per worker CPU-s   ${f(s.pointsPerRedisCpuSecond).padStart(7)} per Redis CPU-s`,
    );
  const lag = r['lag'] as { feedPointsPerSecond: number; maxLag: number } | undefined;
  if (lag)
    lines.push(`lag            fed ${lag.feedPointsPerSecond} points/s to 2 workers: max lag ${lag.maxLag} entries`);
  const fo = r['failover'] as { leaseMs: number; resumeMs: number[]; exact: unknown } | undefined;
  if (fo)
    lines.push(
      `failover       lease ${fo.leaseMs} ms: resumed in ${fo.resumeMs.map((x) => f(x)).join(', ')} ms; exact ${String(fo.exact)}`,
    );
  for (const m of (r['memory'] as Array<{ model: string; heapBytesPer1000: number; checkpointBytesPer1000: number }>) ??
    []) {
    lines.push(
      `memory         ${m.model.padEnd(10)} per 1,000 resident: heap ${f(m.heapBytesPer1000 / 2 ** 20, 1)} MB, checkpoints ${f(m.checkpointBytesPer1000 / 2 ** 20, 1)} MB`,
    );
  }
  const p = r['paper'] as { workers: number; perWorkerPointsPerCpuSecond: number; redisCores: number } | undefined;
  if (p) {
    lines.push(
      `paper          100,000 series at 1 point / 10 s = 10,000 points/s: ${p.workers} worker(s) (a core each, ` +
        `${f(p.perWorkerPointsPerCpuSecond)} points per CPU-second) and ${f(p.redisCores, 1)} Redis core(s)`,
    );
  }
  console.log(lines.join('\n'));
}

if (process.argv.includes('--table')) {
  printTable(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'bench', 'results', 'fleet.json'), 'utf8')));
} else if (process.argv.includes('--memory-child')) {
  memoryChild(process.argv[process.argv.indexOf('--memory-child') + 1] as 'zscore' | 'gru-online');
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}

/**
 * The Redis fleet end to end, with real components: Debian's redis-server (started here on a loopback port, in a temp
 * directory) and worker processes spawned as `node bin/bptt.js fleet worker …`; no mocks. Each test checks what a
 * user would: one output per point, equal bit for bit to a single process running `detector.stream()` over the same
 * points (computed here, from the same stored template), through worker crashes (kill -9), a Redis crash and restart
 * (AOF, appendfsync always), bad input, a graceful SIGTERM, and what `bptt fleet status` and /metrics report.
 *
 * Scale: the first test is the issue's, 1,000 series × 1,000 points (1M; about two minutes on two cores, once per
 * `npm test`); bench/fleet.ts measures throughput and scaling on its own. Time figures (time to resume after a
 * kill, run time) are printed, never asserted. The suite runs on the default backend path only: `npm test` runs
 * everything three times (auto, BPTT_BACKEND=js, relaxed-fma), and the fleet does no matrix products worth another run.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { makeRng } from '../helpers/rng';
import { REDIS_SERVER_PATH, redisAvailable } from '../helpers/redis';
import { defaultPathOnly } from '../helpers/proc';
import { syntheticFleet, type SyntheticFleet } from '../../lib/cli/fleet-synthetic';
import { FleetProducer, createFleet, fleetStatus, putTemplate, readDeadLetters, partitionOf } from '../../lib/fleet';
import type { Detector } from '../../lib/detect/detector';
import {
  type Proc,
  RedisServer,
  asStored,
  committedCounts,
  compareWithReference,
  fitTemplates,
  httpGet,
  needProgram,
  outputCount,
  ownedFromLog,
  parseExposition,
  producePoints,
  referenceOf,
  runBptt,
  sleep,
  startWorker,
  waitForOutputs,
  type RefOutput,
} from './cluster';

const MIN = 60_000;
/** Points per series of the first test (1,000 series). */
const POINTS = 1000;

/** The test's own connection: retries for ever (the Redis restart), its connection errors expected and quiet. */
function client(url: string): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: null });
  r.on('error', () => undefined);
  return r;
}

describe('bptt fleet: worker processes on a real redis-server (e2e)', function () {
  this.timeout(5 * MIN);
  // The same binary as the engine's specs (spec/helpers/redis.ts): $REDIS_SERVER, else Debian's.
  const program = redisAvailable().ok ? REDIS_SERVER_PATH : null;
  let server: RedisServer | null = null;
  let redis: Redis;
  let templates: { z: Detector; g: Detector };
  const procs: Proc[] = [];

  before(async function () {
    defaultPathOnly(this, 'it spawns worker processes for minutes and does no matrix products another path would test');
    needProgram(this, program, "Debian's redis-server is needed: apt-get install -y redis-server (.ci/run does)");
    server = await RedisServer.start(program as string, 'e2e');
    redis = client(server.url);
    templates = fitTemplates();
  });

  afterEach(async function () {
    await Promise.all(procs.splice(0).map((p) => p.kill9()));
  });

  after(async function () {
    redis?.disconnect();
    await server?.stop();
  });

  /** Starts a worker process and remembers it (killed after the test if still alive). */
  async function worker(prefix: string, id: string, extra: string[] = [], url?: string) {
    const w = await startWorker(url ?? (server as RedisServer).url, prefix, id, extra);
    procs.push(w.proc);
    return w;
  }

  async function setUp(prefix: string, P: number, url?: string): Promise<Redis> {
    const r = url === undefined ? redis : client(url);
    await createFleet(r, { prefix, partitions: P });
    await putTemplate(r, prefix, 'z', templates.z);
    await putTemplate(r, prefix, 'g', templates.g);
    return r;
  }

  function references(fleet: SyntheticFleet, templateOf: (j: number) => 'z' | 'g'): RefOutput[][] {
    const stored = { z: asStored(templates.z), g: asStored(templates.g) };
    return fleet.values.map((v, j) => referenceOf(stored[templateOf(j)], v));
  }

  it('1,000 series × 1,000 points (1,000,000), 3 worker processes: one output per point, bit-identical to detector.stream()', async function () {
    this.timeout(20 * MIN);
    const prefix = 'exact';
    const P = 6;
    await setUp(prefix, P);
    const fleet = syntheticFleet(1000, POINTS, 11);
    const refs = references(fleet, () => 'z');
    const t0 = Date.now();
    for (let i = 1; i <= 3; i++) await worker(prefix, `exact-w${i}`, ['--lease-ms', '3000']);
    const producer = new FleetProducer({ redis, prefix, batchSize: 2000 });
    await producePoints(producer, fleet, 0, POINTS, () => 'z');
    await waitForOutputs(redis, prefix, P, 1000 * POINTS, 15 * MIN);
    const s = (Date.now() - t0) / 1000;
    console.log(
      `      (${1000 * POINTS} points through 3 workers in ${s.toFixed(1)} s: ${Math.round((1000 * POINTS) / s)}/s)`,
    );
    expect(await compareWithReference(redis, prefix, P, fleet, refs)).to.equal('');
    // Every worker took part (the partitions were shared).
    for (const p of procs)
      expect(
        p.lines.some((l) => /partition \d+ taken/.test(l)),
        p.name,
      ).to.equal(true);
  });

  it('kill -9 of a worker at 3 seeded moments (zscore and gru-online series): same outputs, none lost or doubled; prints the time to resume', async function () {
    const prefix = 'kill';
    const P = 4;
    const LEASE = 1500;
    await setUp(prefix, P);
    const S = 24,
      N = 200;
    const fleet = syntheticFleet(S, N, 23);
    const templateOf = (j: number): 'z' | 'g' => (j % 2 === 0 ? 'z' : 'g');
    const refs = references(fleet, templateOf);
    const rng = makeRng('fleet-kill');
    // Kill when the committed outputs pass these fractions of the run (seeded), each time a seeded victim.
    const at = [0.1 + 0.1 * rng(), 0.35 + 0.1 * rng(), 0.6 + 0.1 * rng()].map((f) => Math.floor(f * S * N));
    const live: Proc[] = [];
    let next = 1;
    const spawnOne = async (): Promise<void> => {
      const w = await worker(prefix, `kill-w${next++}`, ['--lease-ms', String(LEASE), '--batch', '50']);
      live.push(w.proc);
    };
    for (let i = 0; i < 3; i++) await spawnOne();
    const producer = new FleetProducer({ redis, prefix, batchSize: 500 });
    // The producer paces itself (10 time steps at a time) and sends the points in stages: up to 30 %, 55 % and 80 % of
    // the time steps, the next stage only after the next kill, so every partition has new points to commit after each
    // kill (a partition that had caught up would otherwise show no commit to time).
    const released: Array<() => void> = [];
    const kills = [0, 1, 2].map(() => new Promise<void>((resolve) => released.push(resolve)));
    const stages = [0.3, 0.55, 0.8].map((f) => Math.floor(f * N));
    const producing = (async () => {
      for (let i = 0; i < N; i += 10) {
        const stage = stages.findIndex((end) => i < end);
        if (stage > 0) await kills[stage - 1];
        else if (stage < 0) await kills[2];
        await producePoints(producer, fleet, i, Math.min(N, i + 10), templateOf);
        await sleep(150);
      }
    })();
    const resumes: number[] = [];
    for (const threshold of at) {
      while ((await outputCount(redis, prefix, P)) < threshold) await sleep(50);
      // The victim: a seeded pick among the workers that hold partitions (a worker with none has nothing to resume).
      const holders = live.filter((p) => ownedFromLog(p.lines).size > 0);
      expect(holders.length, 'workers holding partitions').to.be.greaterThan(0);
      const victim = holders[Math.floor(rng() * holders.length)];
      live.splice(live.indexOf(victim), 1);
      const owned = [...ownedFromLog(victim.lines)];
      const killedAt = Date.now();
      await victim.kill9();
      await sleep(20); // a commit the victim sent before it died is applied or dropped by now
      const before = await committedCounts(redis, prefix, owned);
      released[resumes.length]();
      await spawnOne(); // a replacement, as a supervisor would start
      // Time to resume: from the kill to the next commit on each of the victim's partitions by another worker.
      const pending = new Set(owned.map((_, i) => i));
      while (pending.size > 0 && Date.now() - killedAt < 2 * MIN) {
        const now = await committedCounts(redis, prefix, owned);
        for (const i of [...pending]) if (now[i] > before[i]) pending.delete(i);
        if (pending.size > 0) await sleep(25);
      }
      expect(pending.size, `partitions of ${victim.name} with no commit after the kill`).to.equal(0);
      resumes.push(Date.now() - killedAt);
      console.log(
        `      (killed ${victim.name} (partitions ${owned.join(', ')}) at ${threshold} outputs; resumed in ` +
          `${Date.now() - killedAt} ms, lease ${LEASE} ms)`,
      );
    }
    await producing;
    await waitForOutputs(redis, prefix, P, S * N, 4 * MIN);
    expect(await compareWithReference(redis, prefix, P, fleet, refs)).to.equal('');
    expect(resumes).to.have.length(3);
  });

  it('Redis crashed (SIGKILL) and restarted mid-run with AOF (appendfsync always): the workers reconnect and the outputs are the same', async function () {
    const prefix = 'aof';
    const P = 4;
    const aof = await RedisServer.start(program as string, 'aof');
    const r = await setUp(prefix, P, aof.url);
    try {
      const S = 200,
        N = 60;
      const fleet = syntheticFleet(S, N, 31);
      const refs = references(fleet, () => 'z');
      // All points are in (and on disk) before the workers start: a producer's XADD in flight at the crash could be
      // applied and then resent by its client on reconnect, a duplicate of the user's own making.
      await producePoints(new FleetProducer({ redis: r, prefix, batchSize: 2000 }), fleet, 0, N, () => 'z');
      const ws = [];
      for (let i = 1; i <= 2; i++)
        ws.push(await worker(prefix, `aof-w${i}`, ['--lease-ms', '3000', '--batch', '100'], aof.url));
      while ((await outputCount(r, prefix, P)) < 0.3 * S * N) await sleep(20);
      const at = await outputCount(r, prefix, P);
      await aof.crashAndRestart(1000);
      console.log(`      (redis-server killed at ${at} of ${S * N} outputs, restarted 1 s later from its AOF)`);
      await waitForOutputs(r, prefix, P, S * N, 4 * MIN);
      expect(await compareWithReference(r, prefix, P, fleet, refs)).to.equal('');
      // The workers rode out the outage (their connections came back, ioredis's retry) and are still running.
      for (const w of ws) expect(w.proc.exit, w.proc.name).to.equal(null);
    } finally {
      r.disconnect();
      await Promise.all(procs.splice(0).map((p) => p.kill9()));
      await aof.stop();
    }
  });

  it('bad input (unknown series with no template, malformed entries, non-finite values) goes to the dead-letter stream with the reason; the worker keeps going', async function () {
    const prefix = 'bad';
    const P = 1;
    await setUp(prefix, P);
    const w = await worker(prefix, 'bad-w1', ['--lease-ms', '3000', '--metrics-port', '0']);
    const key = `${prefix}:in:0`;
    const good = (i: number): string[] => [
      'series',
      'good',
      'ts',
      String(1000 * i),
      'v',
      String(10 + (i % 3)),
      'template',
      'z',
    ];
    for (let i = 0; i < 20; i++) await redis.xadd(key, '*', ...good(i));
    await redis.xadd(key, '*', 'series', 'stranger', 'ts', '5', 'v', '1'); // no template, no default
    await redis.xadd(key, '*', 'series', 'good', 'ts', '6'); // no v
    await redis.xadd(key, '*', 'series', 'good', 'ts', 'yesterday', 'v', '1');
    await redis.xadd(key, '*', 'series', 'good', 'ts', '7', 'v', 'NaN');
    await redis.xadd(key, '*', 'series', 'good', 'ts', '8', 'v', 'inf');
    await redis.xadd(key, '*', 'series', 'good', 'ts', '9', 'v', '1e999');
    await redis.xadd(key, '*', 'weird', 'x');
    for (let i = 20; i < 40; i++) await redis.xadd(key, '*', ...good(i));
    const t0 = Date.now();
    while ((await redis.hget(`${prefix}:pos:0`, 'count')) !== '47' && Date.now() - t0 < MIN) await sleep(50);
    const dead = await readDeadLetters(redis, prefix);
    expect(dead.map((d) => d.reason)).to.have.length(7);
    const reasons = dead.map((d) => d.reason).join('\n');
    expect(dead[0].reason).to.match(/unknown series "stranger" with no template/);
    expect(dead[1].reason).to.match(/malformed entry: missing field v/);
    expect(dead[2].reason).to.match(/malformed entry: ts must be an integer/);
    expect(dead[3].reason).to.match(/non-finite value/);
    expect(dead[4].reason).to.match(/non-finite value/);
    expect(dead[5].reason).to.match(/non-finite value/);
    expect(dead[6].reason, reasons).to.match(/malformed entry: unexpected field "weird"/);
    expect(dead[3].entry).to.deep.equal({ series: 'good', ts: '7', v: 'NaN' });
    // The good points before and after all have their outputs, and the worker is still running.
    expect(await redis.xlen(`${prefix}:out:0`)).to.equal(40);
    expect(w.proc.exit).to.equal(null);
    const m = parseExposition(await httpGet(`http://127.0.0.1:${w.metricsPort}/metrics`)).get(
      'bptt_fleet_dead_letters_total',
    );
    expect(m?.[0].value).to.equal(7);
  });

  it('graceful SIGTERM: the worker exits 0 with its leases released, and another worker takes them without waiting for them to expire', async function () {
    const prefix = 'term';
    const P = 4;
    const LEASE = 60_000; // a lease left to expire would stall the partitions for a minute
    await setUp(prefix, P);
    const fleet = syntheticFleet(40, 60, 41);
    const refs = references(fleet, () => 'z');
    const a = await worker(prefix, 'term-a', ['--lease-ms', String(LEASE)]);
    const producer = new FleetProducer({ redis, prefix });
    await producePoints(producer, fleet, 0, 30, () => 'z');
    await waitForOutputs(redis, prefix, P, 40 * 30, 2 * MIN);
    const b = await worker(prefix, 'term-b', ['--lease-ms', String(LEASE)]);
    const held = [...ownedFromLog(a.proc.lines)];
    expect(held.length).to.be.greaterThan(0);
    const stoppedAt = Date.now();
    await a.proc.stop();
    expect(a.proc.exit).to.deep.equal({ code: 0, signal: null });
    expect(a.proc.lines.some((l) => /SIGTERM: finishing the batch/.test(l))).to.equal(true);
    // Released, not left to expire: no lease key names the stopped worker (their TTL would be ~60 s).
    const leases = await redis.mget(...Array.from({ length: P }, (_, k) => `${prefix}:lease:${k}`));
    for (const l of leases) expect(l ?? '').not.to.match(/^term-a /);
    await producePoints(producer, fleet, 30, 60, () => 'z');
    await waitForOutputs(redis, prefix, P, 40 * 60, 2 * MIN);
    console.log(
      `      (term-b took over and finished ${Date.now() - stoppedAt} ms after the SIGTERM; lease ${LEASE} ms)`,
    );
    expect(ownedFromLog(b.proc.lines).size).to.equal(P);
    expect(await compareWithReference(redis, prefix, P, fleet, refs)).to.equal('');
  });

  it('bptt fleet produce, status (text and --json), /metrics and outputs report the partitions, owners and counters', async function () {
    const prefix = 'ops';
    const P = 5;
    const S = 50,
      N = 40;
    await createFleet(redis, { prefix, partitions: P });
    await putTemplate(redis, prefix, 'z', templates.z);
    const url = (server as RedisServer).url;
    const ws = [];
    for (let i = 1; i <= 2; i++) {
      ws.push(await worker(prefix, `ops-w${i}`, ['--metrics-port', '0', '--template', 'z', '--lease-ms', '3000']));
    }
    // Partitions shared out before the points come, so each partition's points are counted by its final owner.
    while (
      ws.map((w) => ownedFromLog(w.proc.lines).size).join() !== '3,2' &&
      ws.map((w) => ownedFromLog(w.proc.lines).size).join() !== '2,3'
    )
      await sleep(100);
    const prod = runBptt([
      'fleet',
      'produce',
      '--synthetic',
      '--series',
      String(S),
      '--points',
      String(N),
      '--seed',
      '5',
      '--redis',
      url,
      '--prefix',
      prefix,
    ]);
    expect(prod.code, prod.stderr).to.equal(0);
    expect(prod.stderr).to.match(new RegExp(`added ${S * N} points`));
    await waitForOutputs(redis, prefix, P, S * N, 2 * MIN);
    // The workers publish their stats every lease/3: wait for the round after the last commit.
    for (;;) {
      const published = (await fleetStatus(redis, prefix)).workers.reduce((a, w) => a + w.points, 0);
      if (published === S * N) break;
      await sleep(200);
    }
    const st = runBptt(['fleet', 'status', '--redis', url, '--prefix', prefix, '--json']);
    expect(st.code, st.stderr).to.equal(0);
    const status = JSON.parse(st.stdout) as import('../../lib/fleet').FleetStatus;
    const ids = ws.map((w) => w.proc.name);
    expect(status.partitions).to.equal(P);
    expect(status.partitionStatus.map((p) => p.partition)).to.deep.equal([0, 1, 2, 3, 4]);
    for (const p of status.partitionStatus) expect(ids).to.include(p.owner);
    expect(status.partitionStatus.reduce((a, p) => a + p.processed, 0)).to.equal(S * N);
    expect(status.lag).to.equal(0);
    expect(status.series).to.equal(S);
    expect(status.workers.map((w) => w.id)).to.deep.equal(ids);
    expect(status.workers.reduce((a, w) => a + w.points, 0)).to.equal(S * N);
    // Each series' partition is the one partitionOf names, and its owner processed its points.
    const perOwner = new Map<string, number>();
    for (let j = 0; j < S; j++) {
      const owner = status.partitionStatus[partitionOf(`s${String(j).padStart(6, '0')}`, P)].owner as string;
      perOwner.set(owner, (perOwner.get(owner) ?? 0) + N);
    }
    for (const w of status.workers) expect(w.points, w.id).to.equal(perOwner.get(w.id) ?? 0);
    const text = runBptt(['fleet', 'status', '--redis', url, '--prefix', prefix]);
    expect(text.code).to.equal(0);
    expect(text.stdout).to.match(new RegExp(`fleet ${prefix}: ${P} partitions, ${S} series, lag 0, dead letters 0`));
    for (const p of status.partitionStatus)
      expect(text.stdout).to.match(new RegExp(`^${p.partition} +${p.owner} +${p.processed} +0 `, 'm'));
    // /metrics of each worker: the same counters, from the worker itself.
    let points = 0,
      owned = 0;
    for (const w of ws) {
      const m = parseExposition(await httpGet(`http://127.0.0.1:${w.metricsPort}/metrics`));
      const one = (name: string): number => {
        const s = m.get(name);
        expect(s, name).to.have.length(1);
        expect((s as Array<{ labels: Record<string, string> }>)[0].labels).to.deep.equal({ worker: w.proc.name });
        return (s as Array<{ value: number }>)[0].value;
      };
      expect(one('bptt_fleet_points_processed_total')).to.equal(perOwner.get(w.proc.name) ?? 0);
      expect(one('bptt_fleet_dead_letters_total')).to.equal(0);
      expect(one('bptt_fleet_batches_total')).to.be.greaterThan(0);
      const lags = m.get('bptt_fleet_lag') ?? [];
      const mine = status.partitionStatus.filter((p) => p.owner === w.proc.name).map((p) => String(p.partition));
      expect(lags.map((l) => l.labels['partition']).sort()).to.deep.equal(mine.sort());
      for (const l of lags) expect(l.value).to.equal(0);
      expect(one('bptt_fleet_partitions_owned')).to.equal(mine.length);
      const series = status.partitionStatus.filter((p) => p.owner === w.proc.name).reduce((a, p) => a + p.series, 0);
      expect(one('bptt_fleet_resident_series')).to.equal(series);
      expect(one('bptt_fleet_resident_bytes')).to.be.greaterThan(0);
      points += one('bptt_fleet_points_processed_total');
      owned += one('bptt_fleet_partitions_owned');
    }
    expect(points).to.equal(S * N);
    expect(owned).to.equal(P);
    // bptt fleet outputs: one CSV row per point of the series, in order.
    const out = runBptt(['fleet', 'outputs', '--series', 's000007', '--redis', url, '--prefix', prefix]);
    expect(out.code, out.stderr).to.equal(0);
    const rows = out.stdout.trim().split('\n');
    expect(rows[0]).to.equal('series,timestamp,index,score,flag,threshold,event');
    expect(rows.slice(1).map((r) => Number(r.split(',')[2]))).to.deep.equal(Array.from({ length: N }, (_, i) => i));
  });
});

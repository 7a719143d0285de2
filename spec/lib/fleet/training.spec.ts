/**
 * Training jobs of the fleet (lib/fleet/training.ts) against a real redis-server and real BullMQ workers: versions,
 * bits equal to an in-process fit, progress per epoch, refusal of bad requests, a worker killed mid-job (SIGKILL of a
 * child process) and a graceful hand-over, scheduled refits, and deduplication of the same request.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import type { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Detector } from '../../../lib/detect/detector';
import type { DetectorOptions } from '../../../lib/detect/types';
import { ArgumentError } from '../../../lib/errors';
import {
  TrainingWorker,
  TrainingJobError,
  cancelRefit,
  enqueueFit,
  scheduleRefit,
  trainQueueName,
  waitForFit,
  type FitProgress,
  type FitResult,
  type TrainingWorkerOptions,
} from '../../../lib/fleet/training';
import { getDetector } from '../../../lib/fleet/store';
import { createFleet, partitionOf } from '../../../lib/fleet/keys';
import { FleetWorker } from '../../../lib/fleet/worker';
import { readOutputs } from '../../../lib/fleet/status';
import { produce, waitDone } from './common';
import { requireRedis, startRedis, type RedisServer } from '../../helpers/redis';

const wave = (n: number, phase = 0): number[] =>
  Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * (i + phase)) / 25) + 0.05 * Math.cos(i / 3));

/** Small, fast, deterministic: epochs are few and early stopping is off (validationSplit 0). */
const OPTS: DetectorOptions = {
  model: 'lstm-ae',
  window: 8,
  hidden: 4,
  epochs: 4,
  validationSplit: 0,
  threshold: 'quantile:0.99',
  seed: 7,
  workers: 1,
};

const bits = (d: Detector): string => JSON.stringify(d.toJSON());

let prefixCount = 0;
/** A fresh prefix per test: its own queue and keys. */
const freshPrefix = (): string => `t${process.pid}x${++prefixCount}`;

/** Resolves with the first value of `get` that `ok` accepts, polling every 50 ms (up to `ms`). */
async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 60000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`until: gave up after ${ms} ms, last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('fleet training jobs (BullMQ on a real redis-server)', function () {
  this.timeout(120000);
  let server: RedisServer | null = null;
  let redis: Redis;
  const workers: TrainingWorker[] = [];

  before(async function () {
    if (!requireRedis(this)) return;
    server = await startRedis();
    redis = await server.client();
  });

  afterEach(async () => {
    for (const w of workers.splice(0)) await w.close();
  });

  after(async () => {
    await server?.stop();
  });

  const worker = async (prefix: string, o: TrainingWorkerOptions = {}): Promise<TrainingWorker> => {
    const w = await TrainingWorker.start((server as RedisServer).url, { prefix, ...o });
    workers.push(w);
    return w;
  };

  it('stores version 1 then 2, bit-identical to an in-process fit, with progress per epoch', async () => {
    const prefix = freshPrefix();
    const w = await worker(prefix);
    const progress: FitProgress[] = [];
    w.worker.on('progress', (_job, p) => progress.push(p as FitProgress));
    const h1 = wave(200);
    const a = await enqueueFit(redis, prefix, { series: 'cpu:host-1', options: OPTS, history: { values: h1 } });
    expect(a.added).to.equal(true);
    expect(a.jobId).to.match(/^fit-cpu%3Ahost-1-[0-9a-f]{16}$/);
    const r1 = await waitForFit(redis, prefix, a.jobId);
    expect(r1).to.include({ series: 'cpu:host-1', version: 1, stored: true, model: 'lstm-ae', points: 200, epochs: 4 });
    expect(progress.map((p) => p.epoch)).to.deep.equal([1, 2, 3, 4]);
    expect(progress.every((p) => p.epochs === 4 && Number.isFinite(p.loss))).to.equal(true);
    expect(r1.loss).to.equal(progress[3].loss);

    const h2 = wave(240, 5);
    const b = await enqueueFit(redis, prefix, { series: 'cpu:host-1', options: OPTS, history: { values: h2 } });
    const r2 = await waitForFit(redis, prefix, b.jobId);
    expect(r2.version).to.equal(2);
    const stored = await getDetector(redis, prefix, 'cpu:host-1');
    expect(stored?.version).to.equal(2);
    const local = new Detector(OPTS).fit(h2);
    expect(bits((stored as { detector: Detector }).detector)).to.equal(bits(local));
    expect(bits((stored as { detector: Detector }).detector)).to.not.equal(bits(new Detector(OPTS).fit(h1)));
    // and it scores as the in-process one does
    expect(stored?.detector.score(h2).scores).to.deep.equal(local.score(h2).scores);
  });

  it('refuses bad options and too-short histories at enqueue, naming the option; nothing is queued', async () => {
    const prefix = freshPrefix();
    const cases: Array<[DetectorOptions, RegExp]> = [
      [{ ...OPTS, window: 0 }, /^Detector\(window\): expected a positive integer, got 0$/],
      [{ ...OPTS, modle: 'lstm-ae' } as DetectorOptions, /^Detector: unknown option "modle"/],
      [{ ...OPTS, workers: 'auto' }, /enqueueFit\(options\.workers\).*core count/],
      [{ ...OPTS, onEpochEnd: () => undefined }, /enqueueFit\(options\.onEpochEnd\)/],
      [{ ...OPTS, causal: false, combine: 'mean' }, /^enqueueFit\(options\.combine\): combine 'mean' scores a point/],
    ];
    for (const [options, msg] of cases) {
      let err: unknown;
      try {
        await enqueueFit(redis, prefix, { series: 's', options, history: { values: wave(200) } });
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(options)).to.be.instanceOf(ArgumentError);
      expect((err as Error).message).to.match(msg);
    }
    let short: unknown;
    try {
      await enqueueFit(redis, prefix, { series: 's', options: OPTS, history: { values: wave(5) } });
    } catch (e) {
      short = e;
    }
    expect(short).to.be.instanceOf(ArgumentError);
    expect((short as Error).message).to.match(/^enqueueFit\(history\.values\): series of 5 points is shorter than 8/);
    const queue = new Queue(trainQueueName(prefix), { connection: redis });
    const counts = await queue.getJobCounts();
    await queue.close();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).to.equal(0);
  });

  it('a job that cannot fit (no history, bad options, divergence) fails once with the library message', async () => {
    const prefix = freshPrefix();
    await worker(prefix);
    await createFleet(redis, { prefix, partitions: 8 });
    // From an empty stream: enqueue cannot know the history's length; the worker's fit refuses it.
    const a = await enqueueFit(
      redis,
      prefix,
      { series: 'empty', options: OPTS, from: 'stream', points: 100 },
      {
        attempts: 3,
        backoff: 10,
      },
    );
    let err: unknown;
    try {
      await waitForFit(redis, prefix, a.jobId);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(TrainingJobError);
    expect((err as TrainingJobError).reason).to.equal(
      `training job(stream): no point of series "empty" on ${prefix}:in:${partitionOf('empty', 8)} (up to entry 0-0)`,
    );
    // Bad options written to the queue by another client (not through enqueueFit): the worker checks them too.
    const queue = new Queue(trainQueueName(prefix), { connection: redis });
    await queue.add('fit', { series: 's', options: { window: -1 }, history: { values: wave(50) } }, { attempts: 3 });
    // A training that diverges: TrainingDivergedError's message, once.
    const diverging: DetectorOptions = { ...OPTS, model: 'dense-ae', hidden: [4, 2], learningRate: 1e300 };
    const d = await enqueueFit(redis, prefix, { series: 'd', options: diverging, history: { values: wave(200) } });
    const failed = await until(
      () => queue.getFailed(),
      (jobs) => jobs.length === 3,
    );
    const bad = failed.find((j) => j.id !== a.jobId && j.id !== d.jobId);
    const empty = failed.find((j) => j.id === a.jobId);
    const diverged = failed.find((j) => j.id === d.jobId);
    expect(bad?.failedReason).to.equal('Detector(window): expected a positive integer, got -1');
    expect(diverged?.failedReason).to.match(/^fit: an update made kernel non-finite at epoch 0, batch 0;/);
    expect([bad, empty, diverged].map((j) => j?.attemptsMade)).to.deep.equal([1, 1, 1]);
    await queue.close();
  });

  it('a worker killed mid-job (SIGKILL): another takes the job over and stores the same bits', async () => {
    const prefix = freshPrefix();
    const options: DetectorOptions = { ...OPTS, window: 16, hidden: 12, epochs: 40 };
    const values = wave(600);
    const child = spawnTrainer(server as RedisServer, prefix);
    try {
      await childReady(child);
      const a = await enqueueFit(redis, prefix, { series: 'killed', options, history: { values } });
      const queue = new Queue(trainQueueName(prefix), { connection: redis });
      // the child has trained at least one epoch, and not all of them
      await until(
        async () => (await queue.getJob(a.jobId))?.progress,
        (p) => typeof p === 'object' && p !== null && (p as FitProgress).epoch >= 1,
      );
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(await (await queue.getJob(a.jobId))?.getState()).to.equal('active');
      expect(await redis.exists(`${prefix}:detector:killed`)).to.equal(0);
      const progress: FitProgress[] = [];
      const w = await worker(prefix, { lockDuration: 1000, stalledInterval: 300 });
      w.worker.on('progress', (_job, p) => progress.push(p as FitProgress));
      const r: FitResult = await waitForFit(redis, prefix, a.jobId);
      expect(r).to.include({ version: 1, stored: true, epochs: 40 });
      expect(progress.map((p) => p.epoch)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
      const job = await queue.getJob(a.jobId);
      expect(job?.attemptsStarted).to.equal(2);
      expect(job?.stalledCounter).to.equal(1);
      await queue.close();
      const stored = await getDetector(redis, prefix, 'killed');
      expect(bits((stored as { detector: Detector }).detector)).to.equal(bits(new Detector(options).fit(values)));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('close() hands the fits under way back to the queue (no attempt used); another worker finishes them', async () => {
    const prefix = freshPrefix();
    const options: DetectorOptions = { ...OPTS, window: 16, hidden: 12, epochs: 40 };
    const values = wave(600);
    const first = await worker(prefix);
    const a = await enqueueFit(redis, prefix, { series: 'handover', options, history: { values } });
    const queue = new Queue(trainQueueName(prefix), { connection: redis });
    await until(
      async () => (await queue.getJob(a.jobId))?.progress,
      (p) => typeof p === 'object' && p !== null && (p as FitProgress).epoch >= 1,
    );
    workers.splice(workers.indexOf(first), 1);
    await first.close();
    const back = await queue.getJob(a.jobId);
    expect(await back?.getState()).to.equal('waiting');
    expect(back?.attemptsMade).to.equal(0);
    await worker(prefix);
    const r = await waitForFit(redis, prefix, a.jobId);
    expect(r).to.include({ version: 1, stored: true, epochs: 40 });
    await queue.close();
    const stored = await getDetector(redis, prefix, 'handover');
    expect(bits((stored as { detector: Detector }).detector)).to.equal(bits(new Detector(options).fit(values)));
  });

  it('the same request is queued once, even from two clients at once; another request is a new job', async () => {
    const prefix = freshPrefix();
    const req = { series: 'dup', options: OPTS, history: { values: wave(200) } };
    const [x, y] = await Promise.all([enqueueFit(redis, prefix, req), enqueueFit(server?.url as string, prefix, req)]);
    expect(x.jobId).to.equal(y.jobId);
    const z = await enqueueFit(redis, prefix, req);
    expect(z).to.deep.equal({ jobId: x.jobId, added: false, state: 'waiting' });
    const other = await enqueueFit(redis, prefix, { ...req, options: { ...OPTS, seed: 8 } });
    expect(other.jobId).to.not.equal(x.jobId);
    const queue = new Queue(trainQueueName(prefix), { connection: redis });
    expect(await queue.getWaitingCount()).to.equal(2);
    await queue.close();
  });

  it("a scheduled refit reads the series' stream and stores; with no new points it stores nothing", async () => {
    const prefix = freshPrefix();
    await createFleet(redis, { prefix, partitions: 4 });
    const values = wave(300);
    const key = (s: string): string => `${prefix}:in:${partitionOf(s, 4)}`;
    const t0 = Date.UTC(2026, 0, 1);
    for (let i = 0; i < values.length; i++) {
      // another series interleaved on the same partition, and one malformed entry of ours
      await redis.xadd(key('refit'), '*', 'series', 'refit', 'ts', String(t0 + i * 1000), 'v', String(values[i]));
      if (i % 50 === 0) await redis.xadd(key('refit'), '*', 'series', 'other', 'ts', String(t0), 'v', '1');
    }
    await redis.xadd(key('refit'), '*', 'series', 'refit', 'ts', String(t0), 'v', 'abc');
    const w = await worker(prefix);
    const results: FitResult[] = [];
    w.worker.on('completed', (_job, r) => results.push(r));
    await scheduleRefit(redis, prefix, 'refit', { every: 300, options: OPTS, points: 250 });
    await until(
      async () => results.length,
      (n) => n >= 2,
    );
    expect(await cancelRefit(redis, prefix, 'refit')).to.equal(true);
    expect(results[0]).to.include({ version: 1, stored: true, points: 250, skipped: 1 });
    expect(results[1]).to.include({ version: 1, stored: false, points: 250 });
    const stored = await getDetector(redis, prefix, 'refit');
    expect(bits((stored as { detector: Detector }).detector)).to.equal(bits(new Detector(OPTS).fit(values.slice(50))));
  });

  it('a scoring FleetWorker switches to the version a training job stores between two points', async () => {
    const prefix = freshPrefix();
    await createFleet(redis, { prefix, partitions: 2 });
    await worker(prefix);
    const h1 = wave(200);
    const h2 = wave(200, 7).map((x) => 3 * x + 1);
    const v1 = await enqueueFit(redis, prefix, { series: 'sw', options: OPTS, history: { values: h1 } });
    expect((await waitForFit(redis, prefix, v1.jobId)).version).to.equal(1);
    const scorer = new FleetWorker({ redis: (server as RedisServer).url, prefix, batchSize: 10 });
    await scorer.start();
    try {
      const t0 = 1_700_000_000_000;
      const pts = wave(80, 3).map((v, i) => ({ series: 'sw', ts: t0 + i * 1000, v }));
      await produce((server as RedisServer).url, prefix, pts.slice(0, 40));
      await waitDone(redis, prefix, 40);
      const v2 = await enqueueFit(redis, prefix, { series: 'sw', options: OPTS, history: { values: h2 } });
      expect((await waitForFit(redis, prefix, v2.jobId)).version).to.equal(2);
      await produce((server as RedisServer).url, prefix, pts.slice(40));
      await waitDone(redis, prefix, 80);
      const out = await readOutputs(redis, prefix, { series: 'sw' });
      expect(out.map((o) => o.index)).to.deep.equal(Array.from({ length: 80 }, (_, i) => i));
      expect(out.map((o) => o.version)).to.deep.equal([...Array<number>(40).fill(1), ...Array<number>(40).fill(2)]);
      // before the switch: what version 1 scores in one process over the same points
      const s1 = new Detector(OPTS).fit(h1).stream();
      const ref = pts.slice(0, 40).map((p) => s1.push(p.v));
      expect(out.slice(0, 40).map((o) => (o.warmup ? null : o.score))).to.deep.equal(
        ref.map((r) => (r === null ? null : r.score)),
      );
    } finally {
      await scorer.stop({ graceful: true });
    }
  });
});

/** A TrainingWorker in a child process (so that it can be killed for real), with a 1 s lock. */
function spawnTrainer(server: RedisServer, prefix: string): ChildProcess {
  const training = path.join(__dirname, '../../../lib/fleet/training.js');
  const install = path.join(__dirname, '../../../lib/node/install.js');
  // stalledInterval: BullMQ runs the stalled check once per interval across all workers of a queue (a key with that
  // TTL), so the child's interval bounds how soon the survivor can take the job over.
  const code =
    `require(${JSON.stringify(install)});` +
    `const { TrainingWorker } = require(${JSON.stringify(training)});` +
    `TrainingWorker.start(${JSON.stringify(server.url)}, ` +
    `{ prefix: ${JSON.stringify(prefix)}, lockDuration: 1000, stalledInterval: 300 })` +
    `.then(() => process.stdout.write('ready\\n'));`;
  return spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function childReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`trainer child exited (${code}) before it was ready`)));
  });
}

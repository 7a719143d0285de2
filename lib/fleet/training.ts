/**
 * Training jobs of the Redis fleet, on BullMQ: fit a series' detector away from the scoring workers, store it with a
 * new version (putDetector), and refit on a schedule. The scoring workers pick the new version up between points.
 *
 *   enqueueFit(connection, prefix, { series, options, history | from: 'stream', points })  → a job, `{prefix}-train`
 *   scheduleRefit(connection, prefix, series, { every, options, points })                   → a BullMQ job scheduler
 *   TrainingWorker.start(connection, { prefix, concurrency })                                → fits, stores, reports
 *
 * Queue. BullMQ refuses ':' in queue names and in custom job ids (its own keys are `bull:{queue}:…`), so the queue is
 * `trainQueueName(prefix)` = `{prefix}-train` with any ':' of the prefix turned into '-', and ids are built from the
 * series name percent-encoded (encodeURIComponent, ':' → %3A).
 *
 * One request, one job. A job's id is `fit-{series}-{h}`, h = 16 hex digits of sha256 over the canonical JSON of what
 * decides the fit (series, options, and the history or the pinned stream range), so the same request made twice (or
 * by two clients) adds one job; while BullMQ keeps that job (a day after completion, see KEEP_COMPLETED), asking again
 * returns it (`added: false`). A failed job asked for again is retried.
 *
 * History. Either the values come in the job (`history: { values, timestamps? }`), or the job reads the last `points`
 * points of the series from its input partition stream (history.ts; cost and trimming there). The stream range is
 * pinned: enqueueFit records the partition count and the stream's last entry ID in the job; a scheduled refit's jobs
 * record them when they first run. A retry therefore fits on the same points.
 *
 * Determinism. The same history, options and seed give the same stored bits whichever worker runs the job and however
 * often it is retried: the job carries everything the fit reads, and `workers` (threads per fit) is pinned to a number
 * (default 1; 'auto' is refused: it reads the machine's core count, and training is bit-identical only for a given
 * count). The backend (js or wasm) must be the same on every training worker. A fit whose detector is bit-identical to
 * the stored one (a retry after the store, a refit on unchanged history) stores nothing and returns the current
 * version (`stored: false`).
 *
 * Failures. Options the Detector refuses, a history too short for the window, or a training that diverges fail the job
 * at once with the library's message (UnrecoverableError: no retry, since a retry would fail the same way); enqueueFit
 * and scheduleRefit refuse bad options and too-short given histories before anything is queued. Other errors (Redis
 * unreachable, a worker killed: its lock expires and another worker takes the job) are retried: `attempts` (default 3)
 * with exponential backoff (default 1 s, 2 s, 4 s …).
 *
 * Progress. For the networks trained in epochs, each epoch's end is reported with job.updateProgress
 * ({ epoch, epochs, loss, valLoss }, epoch counted from 1); the fit runs with Detector.fitAsync, so a worker's other
 * jobs, its lock renewals and its progress writes go on between training steps. Concurrency N interleaves N fits on the
 * worker's one thread: run one trainer process per core to use several cores.
 *
 * Shutdown. TrainingWorker.close() aborts the fits under way and puts their jobs back in the queue (no attempt used),
 * so another worker starts them again; close({ finish: true }) lets them finish first.
 */
import { createHash } from 'crypto';
import type { Redis } from 'ioredis';
import type * as BullMQ from 'bullmq';
import type { Job, JobsOptions, Queue, QueueEvents, RedisOptions, Worker } from 'bullmq';
import { Detector } from '../detect/detector.js';
import { pickModel } from '../detect/options.js';
import { isNeural } from '../detect/networks.js';
import type { DetectorOptions } from '../detect/types.js';
import { ArgumentError, isUsageError, MemoryLimitError, ModelFileError } from '../errors.js';
import { describeValue } from '../check.js';
import { readSeries, type SeriesLike } from '../tensor.js';
import { lastEntryId, readStreamHistory } from './history.js';
import { connect, type RedisLike } from './client.js';
import { FleetError } from './errors.js';
import { DEFAULT_PREFIX, FleetKeys, partitionOf, readConfig } from './keys.js';
import { getDetector, putDetector } from './store.js';

/** A Redis connection: an ioredis client (left open: the caller's), or a redis:// URL (opened and closed here). */
export type TrainingConnection = RedisLike;
/** Points read from the stream when a request says from: 'stream' without `points`. */
export const DEFAULT_STREAM_POINTS = 10_000;
/** Most points a job may fit on (given or read): bounds the job's size in Redis and the worker's memory. */
export const MAX_POINTS = 1_000_000;
/** Completed jobs kept (and so deduplicated): a day, and at most this many. */
export const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 };
/** Failed jobs kept: a week. */
export const KEEP_FAILED = { age: 7 * 24 * 3600 };

/** A series' history given in the job. */
export interface FitHistory {
  /** One value per point (one feature) or [n, F] rows; null (or NaN) is a missing value, filled as fit fills it. */
  values: ReadonlyArray<number | null> | ReadonlyArray<ReadonlyArray<number | null>>;
  /** Epoch ms, one per point: only for model 'gru-online' (its time inputs), as Detector.fit takes them. */
  timestamps?: ReadonlyArray<number>;
}

/** What enqueueFit takes. */
export interface FitRequest {
  /** The series (as on the input streams). */
  series: string;
  /** Detector options (plain data, as in a detector file; `workers` a number, default 1; no callbacks). */
  options?: DetectorOptions;
  /** The history to fit on; or, with `from: 'stream'`, none. */
  history?: FitHistory;
  /** Read the history from the series' input partition stream. */
  from?: 'stream';
  /** With from 'stream': the last N points of the series (default DEFAULT_STREAM_POINTS). */
  points?: number;
}

/** BullMQ settings of the jobs enqueueFit and scheduleRefit add. */
export interface JobSettings {
  /** Tries in all (default 3). */
  attempts?: number;
  /** First retry delay in ms, doubled at each retry (default 1000). */
  backoff?: number;
}

/** A job's data as stored in Redis (checked again by the worker: it comes from outside). */
export interface FitJobData {
  /** The series. */
  series: string;
  /** Detector options, `workers` pinned. */
  options: DetectorOptions;
  /** The history given in the job. */
  history?: { values: Array<number | null> | Array<Array<number | null>>; timestamps?: number[] };
  /** Or: read it from the series' input stream. */
  stream?: {
    /** The last N points of the series. */
    points: number;
    /** Partition count when the range was pinned. */
    partitions?: number;
    /** ID of the last stream entry the fit reads (inclusive). */
    until?: string;
  };
}

/** What a training job returns (its BullMQ return value). */
export interface FitResult {
  /** The series. */
  series: string;
  /** The stored detector's version (the new one, or the current one when the fit changed nothing: stored false). */
  version: number;
  /** Whether this job stored a new version. */
  stored: boolean;
  /** The model fitted ('auto' resolved). */
  model: string;
  /** Points fitted on. */
  points: number;
  /** Epochs trained (0 for models without epochs). */
  epochs: number;
  /** Training loss of the last epoch, or null. */
  loss: number | null;
  /** From the stream: entries read (of every series of the partition). */
  scanned?: number;
  /** From the stream: entries of the series skipped as malformed. */
  skipped?: number;
}

/** What a training job reports as progress, once per epoch. */
export interface FitProgress {
  /** Epochs done (1 after the first). */
  epoch: number;
  /** Epochs planned (early stopping may end sooner). */
  epochs: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Validation loss, with validationSplit. */
  valLoss?: number;
}

/** What enqueueFit returns. */
export interface Enqueued {
  /** The job's id (`fit-{series}-{hash}`). */
  jobId: string;
  /** False when the same request was already queued, running or done (the existing job is returned). */
  added: boolean;
  /** The job's state after the call ('waiting', 'active', 'completed', …). */
  state: string;
}

/** The BullMQ queue of a fleet's training jobs: `{prefix}-train`, ':' replaced (BullMQ refuses it in queue names). */
export function trainQueueName(prefix = DEFAULT_PREFIX): string {
  return `${prefix.replace(/:/g, '-')}-train`;
}

/** A series name as it appears in job and scheduler ids: percent-encoded (no ':'), at most 100 characters. */
function idPart(series: string): string {
  return encodeURIComponent(series).slice(0, 100);
}

/** The id of the scheduler that refits a series (scheduleRefit). */
export function refitSchedulerId(series: string): string {
  return `refit-${idPart(series)}-${sha16(series)}`;
}

function sha16(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted, so that equal data hashes equally. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------------------------------
// Checks (at enqueue, and again in the worker on the job's data)

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** isPlainObject without narrowing (for a typed argument checked at run time). */
function plain(v: unknown): boolean {
  return isPlainObject(v);
}

function checkKeysOf(o: object, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new ArgumentError(`${where}(${k})`, '', '', {
        problem: `unknown field '${k}'; the fields are ${allowed.join(', ')}`,
      });
    }
  }
}

/** Detector options as a job carries them: plain data, `workers` pinned to a number, checked by the Detector. */
export function jobOptions(options: unknown, where: string): DetectorOptions {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) throw new ArgumentError(`${where}(options)`, 'an object', describeValue(options));
  if (options['onEpochEnd'] !== undefined) {
    throw new ArgumentError(`${where}(options.onEpochEnd)`, 'no callback', 'a function', {
      problem:
        'a training job cannot carry a function; the worker reports each epoch as the job progress ' +
        "(QueueEvents 'progress', or waitForFit's onProgress)",
    });
  }
  if (options['workers'] === 'auto') {
    throw new ArgumentError(`${where}(options.workers)`, 'a positive integer (default 1)', "'auto'", {
      problem:
        "expected a positive integer (default 1), got 'auto': 'auto' reads the core count of whichever machine " +
        'runs the job, and training is bit-identical only for a given thread count',
    });
  }
  const copy = JSON.parse(JSON.stringify(options)) as Record<string, unknown>;
  if (canonical(copy) !== canonical(options)) {
    throw new ArgumentError(`${where}(options)`, 'plain data (numbers, strings, booleans, arrays, objects)', '', {
      problem: 'expected plain data that JSON keeps as it is (finite numbers, strings, booleans, arrays, objects)',
    });
  }
  const o = { workers: 1, ...copy } as DetectorOptions;
  const r = new Detector(o).options; // throws ArgumentError for whatever the Detector refuses
  // The fleet writes one output per point as it arrives: a detector that looks ahead cannot stream there.
  if (r.model.endsWith('-ae') && r.combine !== 'last') {
    throw new ArgumentError(`${where}(options.combine)`, "'last'", `'${r.combine}'`, {
      problem:
        `combine '${r.combine}' scores a point with windows that end after it; the fleet scores each point as it ` +
        "arrives: use combine 'last' (the default)",
    });
  }
  if (r.threshold.kind === 'dynamic') {
    throw new ArgumentError(`${where}(options.threshold)`, 'a threshold that streams', "'dynamic'", {
      problem: "threshold 'dynamic' is chosen on a whole scored sequence; the fleet scores each point as it arrives",
    });
  }
  return o;
}

/** Checks a given history against the options (length, timestamps); returns it as plain arrays. */
function checkHistory(h: unknown, o: DetectorOptions, where: string): NonNullable<FitJobData['history']> {
  if (!isPlainObject(h)) throw new ArgumentError(`${where}(history)`, '{ values, timestamps? }', describeValue(h));
  checkKeysOf(h, ['values', 'timestamps'], `${where}(history)`);
  const values = h['values'];
  if (!Array.isArray(values)) {
    throw new ArgumentError(`${where}(history.values)`, 'an array of numbers or of rows', describeValue(values));
  }
  const s = readSeries(values as SeriesLike, `${where}(history.values)`);
  if (s.n * s.F > MAX_POINTS) {
    throw new ArgumentError(`${where}(history.values)`, `at most ${MAX_POINTS} values`, `${s.n * s.F}`);
  }
  const model = pickModel(o, s.F, s.n);
  const need = new Detector({ ...o, model }).minTrainLength;
  if (s.n < need) {
    throw new ArgumentError(`${where}(history.values)`, `at least ${need} points`, `${s.n}`, {
      problem:
        `series of ${s.n} points is shorter than ${need}, the least that window ${o.window ?? 32} ` +
        `with model '${model}' can be fitted on`,
    });
  }
  const out: NonNullable<FitJobData['history']> = {
    values: JSON.parse(JSON.stringify(values)) as Array<number | null>,
  };
  const ts = h['timestamps'];
  if (ts !== undefined) {
    if (model !== 'gru-online') {
      throw new ArgumentError(`${where}(history.timestamps)`, 'no timestamps', 'an array', {
        problem: `model '${model}' does not use timestamps; only 'gru-online' has time inputs`,
      });
    }
    if (!Array.isArray(ts) || ts.length !== s.n || !ts.every((t) => typeof t === 'number' && Number.isFinite(t))) {
      throw new ArgumentError(
        `${where}(history.timestamps)`,
        `${s.n} finite numbers (epoch ms, one per point)`,
        describeValue(ts),
      );
    }
    out.timestamps = [...(ts as number[])];
  }
  return out;
}

function checkPoints(points: unknown, where: string): number {
  if (points === undefined) return DEFAULT_STREAM_POINTS;
  if (typeof points !== 'number' || !Number.isInteger(points) || points < 1 || points > MAX_POINTS) {
    throw new ArgumentError(`${where}(points)`, `an integer from 1 to ${MAX_POINTS}`, describeValue(points));
  }
  return points;
}

const STREAM_ID = /^\d+-\d+$/;

/** The job's data checked (in the worker: it comes from Redis). */
export function checkJobData(data: unknown, where = 'training job'): FitJobData {
  if (!isPlainObject(data)) throw new ArgumentError(`${where}(data)`, 'an object', describeValue(data));
  checkKeysOf(data, ['series', 'options', 'history', 'stream'], where);
  const series = data['series'];
  if (typeof series !== 'string' || series === '') {
    throw new ArgumentError(`${where}(series)`, 'a non-empty string', describeValue(series));
  }
  const options = jobOptions(data['options'], where);
  if ((data['history'] === undefined) === (data['stream'] === undefined)) {
    throw new ArgumentError(`${where}(history)`, 'either history or stream', 'both or neither');
  }
  if (data['history'] !== undefined) return { series, options, history: checkHistory(data['history'], options, where) };
  const st = data['stream'];
  if (!isPlainObject(st)) throw new ArgumentError(`${where}(stream)`, '{ points }', describeValue(st));
  checkKeysOf(st, ['points', 'partitions', 'until'], `${where}(stream)`);
  const stream: NonNullable<FitJobData['stream']> = { points: checkPoints(st['points'], `${where}(stream)`) };
  if (st['partitions'] !== undefined) {
    const p = st['partitions'];
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1) {
      throw new ArgumentError(`${where}(stream.partitions)`, 'a positive integer', describeValue(p));
    }
    stream.partitions = p;
  }
  if (st['until'] !== undefined) {
    if (typeof st['until'] !== 'string' || !STREAM_ID.test(st['until'])) {
      throw new ArgumentError(
        `${where}(stream.until)`,
        'a stream entry ID like 1700000000000-0',
        describeValue(st['until']),
      );
    }
    stream.until = st['until'];
  }
  return { series, options, stream };
}

/** Checks a request and turns it into job data (without the stream range, pinned later). */
function requestData(request: unknown, where: string): FitJobData {
  if (!isPlainObject(request)) throw new ArgumentError(`${where}(request)`, 'an object', describeValue(request));
  checkKeysOf(request, ['series', 'options', 'history', 'from', 'points'], where);
  const { series, options, history, from, points } = request;
  if (from !== undefined && from !== 'stream')
    throw new ArgumentError(`${where}(from)`, "'stream'", describeValue(from));
  if (from === 'stream' && history !== undefined) {
    throw new ArgumentError(`${where}(history)`, "no history with from: 'stream'", 'a history');
  }
  if (from === undefined && points !== undefined) {
    throw new ArgumentError(`${where}(points)`, "no points without from: 'stream'", describeValue(points), {
      problem: "points counts the points read from the stream; give from: 'stream' (or the history itself)",
    });
  }
  if (from === undefined && history === undefined) {
    throw new ArgumentError(`${where}(history)`, "a history, or from: 'stream'", 'neither');
  }
  return checkJobData(
    from === 'stream'
      ? { series, options, stream: { points: checkPoints(points, where) } }
      : { series, options, history },
    where,
  );
}

function jobSettings(s: JobSettings, where: string): Pick<JobsOptions, 'attempts' | 'backoff'> {
  const attempts = s.attempts ?? 3;
  const delay = s.backoff ?? 1000;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new ArgumentError(`${where}(attempts)`, 'a positive integer', describeValue(attempts));
  }
  if (!Number.isFinite(delay) || delay < 0) {
    throw new ArgumentError(`${where}(backoff)`, 'a delay in ms (≥ 0)', describeValue(delay));
  }
  return { attempts, backoff: { type: 'exponential', delay } };
}

// ---------------------------------------------------------------------------------------------------------------------
// Connections

type Bull = typeof BullMQ;
let bullmq: Bull | null = null;

/**
 * BullMQ, loaded on first use (an optional peer dependency, like ioredis: the rest of bptt/fleet works without it), or
 * a FleetError('dependency') naming the install command.
 */
export async function loadBullMQ(): Promise<Bull> {
  if (bullmq !== null) return bullmq;
  try {
    bullmq = await import('bullmq');
  } catch (e) {
    throw new FleetError(
      'dependency',
      `bptt/fleet's training jobs need the job queue bullmq, which is not installed ` +
        `(${(e as Error).message.split('\n')[0]}): npm install bullmq`,
    );
  }
  return bullmq;
}

/** Our own client for a connection (a URL opens one, closed by release; a client is used as it is). */
async function client(c: TrainingConnection): Promise<{ redis: Redis; owned: boolean }> {
  if (typeof c === 'string') return { redis: await connect(c), owned: true };
  if (c !== null && typeof c === 'object' && typeof (c as { duplicate?: unknown }).duplicate === 'function') {
    return { redis: c, owned: false };
  }
  throw new ArgumentError('connection', 'an ioredis client or a redis:// URL', describeValue(c));
}

/** Options for the connections BullMQ opens itself (workers and events block, so maxRetriesPerRequest: null). */
function blockingOptions(redis: Redis): RedisOptions {
  return { ...redis.options, maxRetriesPerRequest: null, lazyConnect: false } as RedisOptions;
}

async function release(r: { redis: Redis; owned: boolean }): Promise<void> {
  if (r.owned) await r.redis.quit().catch(() => undefined);
}

/** Pins the stream range a job reads: the partition count and the partition stream's last entry ID. */
async function pinStream(redis: Redis, prefix: string, data: FitJobData): Promise<FitJobData> {
  const st = data.stream;
  if (st === undefined || st.until !== undefined) return data;
  let partitions = st.partitions;
  if (partitions === undefined) {
    const config = await readConfig(redis, new FleetKeys(prefix));
    if (config === null) {
      throw new FleetError(
        'config',
        `no fleet at prefix '${prefix}' (${prefix}:config is absent): there is no input stream to read the history ` +
          'of; create the fleet (createFleet, bptt fleet produce) or give the history in the job',
      );
    }
    partitions = config.partitions;
  }
  const until = await lastEntryId(redis, new FleetKeys(prefix).input(partitionOf(data.series, partitions)));
  return { ...data, stream: { ...st, partitions, until } };
}

// ---------------------------------------------------------------------------------------------------------------------
// Enqueueing and scheduling

/**
 * Queues a fit of one series' detector (see the module notes). Options and a given history are checked first: what
 * the Detector would refuse throws here (ArgumentError) and nothing is queued.
 *
 * @param connection - An ioredis client or a redis:// URL.
 * @param prefix - The fleet's key prefix (default 'bptt').
 * @param request - series, options, and history or from: 'stream' (with points).
 * @param settings - attempts and backoff.
 * @returns The job's id, whether it was added (false: the same request was already there) and its state.
 */
export async function enqueueFit(
  connection: TrainingConnection,
  prefix: string,
  request: FitRequest,
  settings: JobSettings = {},
): Promise<Enqueued> {
  const settled = jobSettings(settings, 'enqueueFit');
  const checked = requestData(request, 'enqueueFit');
  const { Queue } = await loadBullMQ();
  const c = await client(connection);
  const queue = new Queue<FitJobData, FitResult>(trainQueueName(prefix), { connection: c.redis });
  try {
    const data = await pinStream(c.redis, prefix, checked);
    const jobId = `fit-${idPart(data.series)}-${sha16(canonical(data))}`;
    const existing = await queue.getJob(jobId);
    if (existing !== undefined) {
      let state = await existing.getState();
      if (state === 'failed') {
        await existing.retry('failed');
        state = await existing.getState();
        return { jobId, added: true, state };
      }
      return { jobId, added: false, state };
    }
    const job = await queue.add('fit', data, {
      ...settled,
      jobId,
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    });
    return { jobId, added: true, state: await job.getState() };
  } finally {
    await queue.close();
    await release(c);
  }
}

/** What scheduleRefit takes. */
export interface RefitSchedule extends JobSettings {
  /** Period in ms. */
  every: number;
  /** Detector options. */
  options?: DetectorOptions;
  /** Points read from the stream at each refit (default DEFAULT_STREAM_POINTS). */
  points?: number;
}

/**
 * Refits a series' detector every `every` ms on the last `points` points of its input stream, with a BullMQ job
 * scheduler (Queue.upsertJobScheduler): one scheduler per series (id refitSchedulerId(series)); calling again replaces
 * its period and options. The first refit is queued at once. A refit that gives the same bits as the stored detector
 * (no new points) stores nothing.
 *
 * @param connection - An ioredis client or a redis:// URL.
 * @param prefix - The fleet's key prefix.
 * @param series - The series.
 * @param schedule - every (ms), options, points, attempts, backoff.
 * @returns The scheduler's id.
 */
export async function scheduleRefit(
  connection: TrainingConnection,
  prefix: string,
  series: string,
  schedule: RefitSchedule,
): Promise<string> {
  if (!plain(schedule)) {
    throw new ArgumentError('scheduleRefit(schedule)', 'an object', describeValue(schedule));
  }
  checkKeysOf(schedule, ['every', 'options', 'points', 'attempts', 'backoff'], 'scheduleRefit');
  const every = schedule.every;
  if (typeof every !== 'number' || !Number.isInteger(every) || every < 1) {
    throw new ArgumentError('scheduleRefit(every)', 'a period in ms (a positive integer)', describeValue(every));
  }
  const settled = jobSettings(schedule, 'scheduleRefit');
  const data = requestData(
    { series, options: schedule.options, from: 'stream', points: schedule.points },
    'scheduleRefit',
  );
  const { Queue } = await loadBullMQ();
  const c = await client(connection);
  const queue = new Queue<FitJobData, FitResult>(trainQueueName(prefix), { connection: c.redis });
  try {
    const id = refitSchedulerId(series);
    await queue.upsertJobScheduler(
      id,
      { every },
      { name: 'refit', data, opts: { ...settled, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED } },
    );
    return id;
  } finally {
    await queue.close();
    await release(c);
  }
}

/**
 * Stops the scheduled refits of a series.
 *
 * @param connection - An ioredis client or a redis:// URL.
 * @param prefix - The fleet's key prefix.
 * @param series - The series.
 * @returns Whether there was a scheduler to remove.
 */
export async function cancelRefit(connection: TrainingConnection, prefix: string, series: string): Promise<boolean> {
  const { Queue } = await loadBullMQ();
  const c = await client(connection);
  const queue = new Queue(trainQueueName(prefix), { connection: c.redis });
  try {
    return await queue.removeJobScheduler(refitSchedulerId(series));
  } finally {
    await queue.close();
    await release(c);
  }
}

/** Progress reports a FitWatcher keeps per job until wait() is called for it, and jobs it keeps them for. */
const EARLY_PROGRESS = 10_000;
const EARLY_JOBS = 100;

/** A training job that failed: the job's failedReason (the library's message for bad input). */
export class TrainingJobError extends Error {
  /**
   * @param jobId - The job.
   * @param reason - Its failedReason.
   */
  constructor(
    /** The job. */
    readonly jobId: string,
    /** Its failedReason. */
    readonly reason: string,
  ) {
    super(`training job ${jobId} failed: ${reason}`);
    this.name = 'TrainingJobError';
  }
}

/**
 * Follows training jobs: progress reports and completion, through BullMQ's QueueEvents. Open it before enqueueing
 * when every epoch's report matters: reports since it opened are kept (for the last 100 jobs) until wait() asks for
 * them; those from before it opened are not replayed (a job that finished before is still found finished).
 */
export class FitWatcher {
  private readonly events: QueueEvents;
  private readonly queue: Queue<FitJobData, FitResult>;
  private readonly conn: { redis: Redis; owned: boolean };
  /** Progress reports received before wait() was called for their job. */
  private readonly early = new Map<string, FitProgress[]>();
  private readonly waiting = new Set<string>();

  private constructor(bull: Bull, conn: { redis: Redis; owned: boolean }, prefix: string, lastEventId: string) {
    this.conn = conn;
    const name = trainQueueName(prefix);
    this.events = new bull.QueueEvents(name, { connection: blockingOptions(this.conn.redis), lastEventId });
    this.events.on('error', () => undefined); // connection trouble: BullMQ reconnects
    // Progress seen before wait() is called for its job (enqueueing takes round trips; a fast epoch may come first).
    this.events.on('progress', (a: { jobId: string; data: unknown }) => {
      if (this.waiting.has(a.jobId)) return;
      const seen = this.early.get(a.jobId) ?? [];
      if (seen.length < EARLY_PROGRESS) seen.push(a.data as FitProgress);
      this.early.set(a.jobId, seen);
      if (this.early.size > EARLY_JOBS) this.early.delete(this.early.keys().next().value as string); // the oldest
    });
    this.queue = new bull.Queue<FitJobData, FitResult>(name, { connection: this.conn.redis });
  }

  /**
   * @param connection - An ioredis client or a redis:// URL.
   * @param prefix - The fleet's key prefix.
   * @returns A watcher, listening.
   */
  static async open(connection: TrainingConnection, prefix: string): Promise<FitWatcher> {
    const bull = await loadBullMQ();
    const conn = await client(connection);
    // Read from the events stream's current end: QueueEvents' own start ('$' at its first XREAD, some time after
    // waitUntilReady) would miss what happens in between.
    const last = await lastEntryId(conn.redis, `bull:${trainQueueName(prefix)}:events`);
    const w = new FitWatcher(bull, conn, prefix, last);
    await w.events.waitUntilReady();
    return w;
  }

  /**
   * Waits for a job to finish, calling onProgress with each progress report meanwhile.
   *
   * @param jobId - The job (enqueueFit's jobId).
   * @param onProgress - Called with each progress report of that job.
   * @returns The job's result.
   * @throws {@link TrainingJobError} when the job fails for good (its reason is the library's message).
   */
  async wait(jobId: string, onProgress?: (p: FitProgress) => void): Promise<FitResult> {
    const listener = (a: { jobId: string; data: unknown }): void => {
      if (a.jobId === jobId && onProgress !== undefined) onProgress(a.data as FitProgress);
    };
    for (const p of this.early.get(jobId) ?? []) onProgress?.(p);
    this.early.delete(jobId);
    this.waiting.add(jobId);
    this.events.on('progress', listener);
    try {
      const job = await this.queue.getJob(jobId);
      if (job === undefined) {
        throw new ArgumentError('FitWatcher.wait(jobId)', 'a job of the queue', JSON.stringify(jobId));
      }
      try {
        return await job.waitUntilFinished(this.events);
      } catch (e) {
        throw new TrainingJobError(jobId, (e as Error).message);
      }
    } finally {
      this.events.off('progress', listener);
      this.waiting.delete(jobId);
    }
  }

  /** Closes the watcher's connections. */
  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    await release(this.conn);
  }
}

/**
 * Waits for a training job to finish (FitWatcher.open, wait, close): progress reported before the call is not
 * replayed.
 *
 * @param connection - An ioredis client or a redis:// URL.
 * @param prefix - The fleet's key prefix.
 * @param jobId - The job (enqueueFit's jobId).
 * @param onProgress - Called with each progress report.
 * @returns The job's result.
 * @throws {@link TrainingJobError} when the job fails for good (its reason is the library's message).
 */
export async function waitForFit(
  connection: TrainingConnection,
  prefix: string,
  jobId: string,
  onProgress?: (p: FitProgress) => void,
): Promise<FitResult> {
  const w = await FitWatcher.open(connection, prefix);
  try {
    return await w.wait(jobId, onProgress);
  } finally {
    await w.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The worker

/** TrainingWorker's options. */
export interface TrainingWorkerOptions {
  /** The fleet's key prefix (default 'bptt'). */
  prefix?: string;
  /** Jobs at once (default 1): interleaved on this thread; run a process per core for more. */
  concurrency?: number;
  /** BullMQ lock duration in ms (default 30000): a killed worker's job is taken over this long after. */
  lockDuration?: number;
  /**
   * BullMQ stalled-job check period in ms (default 30000). A killed worker's job is taken over about lockDuration +
   * stalledInterval after its last lock renewal (the check runs once per interval across the queue's workers).
   */
  stalledInterval?: number;
  /** Worker name, stored on the jobs it processes. */
  name?: string;
}

/**
 * A BullMQ worker of the training queue: fits each job's detector (Detector.fitAsync, progress per epoch), stores it
 * with putDetector and returns a {@link FitResult}. `worker` is the BullMQ Worker (its events: 'completed',
 * 'failed', 'progress', …).
 */
export class TrainingWorker {
  /** The BullMQ worker. */
  readonly worker: Worker<FitJobData, FitResult>;
  /** The fleet's key prefix. */
  readonly prefix: string;
  private readonly conn: { redis: Redis; owned: boolean };
  private readonly bull: Bull;
  private stopping = false;

  /**
   * Starts a training worker: connects, and resolves once it listens for jobs.
   *
   * @param connection - An ioredis client or a redis:// URL.
   * @param options - prefix, concurrency, lockDuration, stalledInterval, name.
   * @returns The worker, running.
   */
  static async start(connection: TrainingConnection, options: TrainingWorkerOptions = {}): Promise<TrainingWorker> {
    if (!plain(options)) {
      throw new ArgumentError('TrainingWorker.start(options)', 'an object', describeValue(options));
    }
    checkKeysOf(options, ['prefix', 'concurrency', 'lockDuration', 'stalledInterval', 'name'], 'TrainingWorker.start');
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) {
      throw new ArgumentError(
        'TrainingWorker.start(concurrency)',
        'an integer from 1 to 1000',
        describeValue(concurrency),
      );
    }
    const bull = await loadBullMQ();
    const w = new TrainingWorker(bull, await client(connection), { ...options, concurrency });
    await w.worker.waitUntilReady();
    return w;
  }

  private constructor(
    bull: Bull,
    conn: { redis: Redis; owned: boolean },
    options: TrainingWorkerOptions & { concurrency: number },
  ) {
    this.bull = bull;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.conn = conn;
    const concurrency = options.concurrency;
    const process = (job: Job<FitJobData, FitResult>, token?: string, signal?: AbortSignal): Promise<FitResult> =>
      this.run(job, token, signal);
    this.worker = new bull.Worker<FitJobData, FitResult>(trainQueueName(this.prefix), process, {
      connection: blockingOptions(this.conn.redis),
      concurrency,
      ...(options.lockDuration !== undefined ? { lockDuration: options.lockDuration } : {}),
      ...(options.stalledInterval !== undefined ? { stalledInterval: options.stalledInterval } : {}),
      ...(options.name !== undefined ? { name: options.name } : {}),
    });
    // BullMQ emits 'error' for connection trouble it retries; without a listener Node would throw it.
    this.worker.on('error', () => undefined);
  }

  /** One job: check its data, read its history, fit, store. */
  private async run(job: Job<FitJobData, FitResult>, token?: string, signal?: AbortSignal): Promise<FitResult> {
    const redis = this.conn.redis;
    let data: FitJobData;
    try {
      data = checkJobData(job.data);
    } catch (e) {
      throw new this.bull.UnrecoverableError((e as Error).message);
    }
    if (data.stream !== undefined && data.stream.until === undefined) {
      try {
        data = await pinStream(redis, this.prefix, data); // a scheduled refit's first run: pin, so retries read the same
      } catch (e) {
        if (e instanceof FleetError) throw new this.bull.UnrecoverableError(e.message); // no fleet at the prefix
        throw e;
      }
      await job.updateData(data);
    }
    let values: SeriesLike;
    let timestamps: number[] | undefined;
    let scanned: number | undefined;
    let skipped: number | undefined;
    if (data.history !== undefined) {
      values = data.history.values;
      timestamps = data.history.timestamps;
    } else {
      const st = data.stream as Required<NonNullable<FitJobData['stream']>>;
      const key = new FleetKeys(this.prefix).input(partitionOf(data.series, st.partitions));
      const h = await readStreamHistory(redis, key, data.series, st.points, st.until);
      if (h.values.length === 0) {
        const problem = `no point of series ${JSON.stringify(data.series)} on ${key} (up to entry ${st.until})`;
        throw new this.bull.UnrecoverableError(ArgumentError.problem('training job(stream)', problem).message);
      }
      values = h.values;
      timestamps = h.timestamps;
      scanned = h.scanned;
      skipped = h.skipped;
    }
    let model: string;
    let detector: Detector;
    let epochs = 0;
    let loss: number | null = null;
    let n: number;
    try {
      const s = readSeries(values, 'fit(series)');
      n = s.n;
      model = pickModel(data.options, s.F, s.n);
      detector = new Detector(data.options);
      if (model !== 'gru-online') timestamps = undefined; // only gru-online has time inputs (from the stream: the ts)
      const withEpochs = isNeural(model as never) && model !== 'gru-online';
      let planned = 0;
      await detector.fitAsync(values, {
        ...(timestamps !== undefined ? { timestamps } : {}),
        ...(signal !== undefined ? { signal } : {}),
        ...(withEpochs
          ? {
              onTrainBegin: (l: { epochs: number; initialEpoch: number }) => {
                planned = l.epochs - l.initialEpoch;
              },
              onEpochEnd: async (l: { epoch: number; loss: number; valLoss?: number }) => {
                epochs++;
                loss = l.loss;
                const p: FitProgress = { epoch: epochs, epochs: planned, loss: l.loss };
                if (l.valLoss !== undefined) p.valLoss = l.valLoss;
                await job.updateProgress(p);
              },
            }
          : {}),
      });
    } catch (e) {
      if (signal?.aborted === true && this.stopping && token !== undefined) {
        await job.moveToWait(token); // shutting down: hand the job back, untouched, for another worker
        throw new this.bull.WaitingError();
      }
      if (isUsageError(e) || e instanceof MemoryLimitError || e instanceof ModelFileError || e instanceof FleetError) {
        throw new this.bull.UnrecoverableError(e.message);
      }
      throw e;
    }
    const fitted = JSON.stringify(detector.toJSON());
    const current = await getDetector(redis, this.prefix, data.series);
    let version: number;
    let stored = false;
    if (current !== null && JSON.stringify(current.detector.toJSON()) === fitted) {
      version = current.version; // same bits already stored (a retry after the store, or nothing new to learn)
    } else {
      try {
        version = await putDetector(redis, this.prefix, data.series, detector);
      } catch (e) {
        if (e instanceof FleetError) throw new this.bull.UnrecoverableError(e.message); // a detector it cannot stream
        throw e;
      }
      stored = true;
    }
    const result: FitResult = { series: data.series, version, stored, model, points: n, epochs, loss };
    if (scanned !== undefined) result.scanned = scanned;
    if (skipped !== undefined) result.skipped = skipped;
    return result;
  }

  /**
   * Stops the worker. By default the fits under way are aborted and their jobs put back in the queue (no attempt
   * used) for another worker; with finish: true they run to the end first.
   *
   * @param options - finish: let the current fits finish.
   * @returns A promise resolved once the worker and its connections are closed.
   */
  async close(options: { finish?: boolean } = {}): Promise<void> {
    this.stopping = true;
    if (options.finish !== true) this.worker.cancelAllJobs('training worker closing');
    await this.worker.close();
    await release(this.conn);
  }
}

/**
 * FleetWorker: scores the series of the partitions it holds, one batch at a time, and commits each batch atomically.
 *
 * Loop (one connection, one batch of up to batchSize entries per owned partition at a time):
 *   1. read: partitions just taken (or reset) first sweep the group's pending entries with XAUTOCLAIM (min-idle 0: the
 *      lease makes this worker the partition's only owner, so whatever another consumer holds is abandoned) from 0-0
 *      to the end, in ID order; then XREADGROUP '>' over all owned partitions, BLOCK blockMs. Entries at or before the
 *      partition's committed position were already processed: they are acked, nothing else.
 *   2. prefetch (one pipeline): the checkpoints of series not resident, the detector versions of every series in the
 *      batch, the template versions; then (one MULTI, only on a cache miss) the detector documents, parsed once per
 *      version and shared.
 *   3. process, in stream order: per entry, parse (bad → dead letter), find the series' detector (its fitted one, else
 *      the entry's template, else the checkpoint's, else defaultTemplate, else dead letter), switch when the version
 *      changed (a new stream warmed with the checkpoint's recent points, whose results are discarded: they were output
 *      already), push, and queue the output (warm-up pushes give an output with score 0, flag 0, warmup 1).
 *   4. commit (one Lua script per partition, all partitions in one pipeline; scripts.ts): fencing check, position
 *      check, gap check, then outputs (XADD with the input's ID), the touched series' checkpoints (each serialised once
 *      per batch), dead letters, XACK, the new position, and the lease renewed. A refused commit ('LEASE': the lease
 *      was lost; 'POS'/'GAP'/'OUT': the partition moved under us) drops the partition's in-memory series, which were
 *      ahead of what Redis holds: they are rebuilt from the checkpoints, so nothing is lost or output twice.
 *   5. maintenance every min(leaseMs/3, 1 s) (a partition released by a graceful stop is taken within a second):
 *      renew leases, publish stats ({p}:worker:{id}, TTL 2·leaseMs), count the live workers, give back partitions
 *      above the fair share ceil(P / live workers) and take free or expired ones up to it; an owned partition with
 *      entries pending at another consumer (a zombie's reads) is swept again from its committed position.
 *
 * Exactly once: an output's ID is its input's ID, XADD refuses an ID at or below the stream's last, and the outputs,
 * the checkpoints and the position move together in one script that checks the position it starts from; a replay
 * after a crash starts from that position. In order per series: a partition has one owner at a time (lease + fencing
 * token), and a series lives in one partition.
 *
 * Resident series: an LRU of streams within memoryBudget bytes (estimated as the checkpoint's JSON length, which is
 * computed at every commit anyway); evicting costs nothing, as every committed state is in Redis.
 *
 * Errors from Redis (a restart, a timeout) end the batch: the in-memory series are dropped, the owned partitions are
 * re-read from their committed position, and the loop retries with a back-off (ioredis reconnects by itself).
 */
import { EventEmitter } from 'events';
import { hostname } from 'os';
import { randomBytes } from 'crypto';
import type { Redis } from 'ioredis';
import { ArgumentError } from '../errors.js';
import type { DetectorStream } from '../detect/stream.js';
import { connect } from './client.js';
import { FleetError } from './errors.js';
import { parseEntry, type InputPoint } from './entries.js';
import { DEFAULT_PREFIX, FleetKeys, GROUP, checkTemplateName, compareIds, ensureConfig, partitionOf } from './keys.js';
import { withScripts, type FleetCommands, type FleetPipelineCommands } from './scripts.js';
import { checkpointText, openStream, parseCheckpoint, streamState, type SeriesCheckpoint } from './state.js';
import { DetectorCache, type DetectorSource, type LoadedDetector } from './store.js';

/** Options of {@link FleetWorker}. */
export interface FleetWorkerOptions {
  /** redis:// URL: the worker opens a connection of its own (it blocks on reads). */
  redis: string;
  /** The fleet's key prefix (default 'bptt'). */
  prefix?: string;
  /** This worker's id (default host-pid-random); also its consumer name in the group. */
  id?: string;
  /** When given, must equal the fleet's stored partition count (creates the fleet when none exists). */
  partitions?: number;
  /** The template for series whose entries name none and that have no fitted detector. */
  defaultTemplate?: string;
  /** Entries read per partition per batch (default 256; halved while a round of batches takes over leaseMs/4). */
  batchSize?: number;
  /** Lease time to live, ms (default 10000): a crashed worker's partitions are taken over after this. */
  leaseMs?: number;
  /** Longest blocking read, ms (default min(1000, leaseMs/4)). */
  blockMs?: number;
  /** Resident series' budget, bytes (default 256 MB), estimated from their checkpoints' size. */
  memoryBudget?: number;
  /** Test hooks: beforeCommit runs after a batch is processed, before its commit is sent. */
  hooks?: { beforeCommit?: (partitions: number[]) => Promise<void> | void };
}

/** A worker's counters ({@link FleetWorker.stats}); also published as JSON at {p}:worker:{id}. */
export interface FleetWorkerStats {
  id: string;
  /** Input points scored and committed (each has its output entry). */
  points: number;
  /** Entries sent to the dead-letter stream. */
  deadLetters: number;
  /** Batches committed. */
  batches: number;
  /** Entries read per partition now (batchSize, or less while batches are slow against the lease). */
  batchSize: number;
  /** Points per second over the last ~10 s. */
  pointsPerSecond: number;
  /** Owned partitions. */
  partitions: number[];
  /** Per owned partition: input entries not yet committed. */
  lag: Record<string, number>;
  /** Series whose stream is in memory, and their estimated bytes. */
  residentSeries: number;
  residentBytes: number;
  memoryBudget: number;
  /** Commits refused, by reason ('LEASE', 'POS', 'GAP', 'OUT'). */
  refused: Record<string, number>;
  /** Switches to a new detector or template version. */
  versionSwitches: number;
  /** Checkpoints that could not be restored (the series restarted from its detector and recent points). */
  restoreFailures: number;
  /** Errors (Redis unreachable, …) the loop recovered from, and the last one. */
  errors: number;
  lastError: string;
  /** Epoch ms of the start, and of this snapshot. */
  startedAt: number;
  at: number;
}

interface Owned {
  k: number;
  leaseValue: string;
  token: number;
  /** Committed position and entry count; valid once synced. */
  pos: string;
  count: number;
  synced: boolean;
  mode: 'claim' | 'live';
  claimCursor: string;
  lag: number;
}

interface Resident {
  series: string;
  k: number;
  loaded: LoadedDetector;
  stream: DetectorStream;
  index: number;
  flag: 0 | 1;
  recent: number[][];
  bytes: number;
}

type RawEntry = [string, string[] | null];

const EMPTY: readonly string[] = [];

/** A worker of the Redis fleet; see the module notes. */
export class FleetWorker extends EventEmitter {
  readonly id: string;
  private readonly keys: FleetKeys;
  private readonly batchSize: number;
  /** Entries read per partition now: halved when a round takes over leaseMs/4, doubled back up to batchSize. */
  private count: number;
  private readonly leaseMs: number;
  private readonly blockMs: number;
  private readonly memoryBudget: number;
  private redis: (Redis & FleetCommands) | null = null;
  private P = 0;
  private readonly owned = new Map<number, Owned>();
  private readonly residents = new Map<string, Resident>();
  private residentBytes = 0;
  private readonly cache: DetectorCache;
  private readonly knownTemplates = new Set<string>();
  private running = false;
  private crashed = false;
  private loop: Promise<void> | null = null;
  private nextMaintenance = 0;
  private readonly rate: Array<[number, number]> = [];
  private readonly counters = {
    points: 0,
    deadLetters: 0,
    batches: 0,
    versionSwitches: 0,
    restoreFailures: 0,
    errors: 0,
    lastError: '',
    refused: {} as Record<string, number>,
    startedAt: 0,
  };

  /** @param options - See {@link FleetWorkerOptions}. */
  constructor(private readonly options: FleetWorkerOptions) {
    super();
    const int = (v: number | undefined, def: number, min: number, name: string): number => {
      const x = v ?? def;
      if (!Number.isSafeInteger(x) || x < min)
        throw new FleetError('argument', `FleetWorker(${name}): expected an integer ≥ ${min}, got ${String(v)}`);
      return x;
    };
    this.keys = new FleetKeys(options.prefix ?? DEFAULT_PREFIX);
    this.batchSize = int(options.batchSize, 256, 1, 'batchSize');
    this.count = this.batchSize;
    this.leaseMs = int(options.leaseMs, 10_000, 100, 'leaseMs');
    this.blockMs = int(options.blockMs, Math.min(1000, Math.floor(this.leaseMs / 4)), 1, 'blockMs');
    this.memoryBudget = int(options.memoryBudget, 256 * 1024 * 1024, 0, 'memoryBudget');
    if (options.defaultTemplate !== undefined)
      checkTemplateName(options.defaultTemplate, 'FleetWorker(defaultTemplate)');
    const id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_.:@-]{1,100}$/.test(id))
      throw new FleetError(
        'argument',
        `FleetWorker(id): expected 1–100 letters, digits or _.:@-, got ${JSON.stringify(id)}`,
      );
    this.id = id;
    this.cache = new DetectorCache(this.keys);
    if (options.defaultTemplate !== undefined) this.knownTemplates.add(options.defaultTemplate);
  }

  /**
   * Connects, checks the fleet's configuration, registers, takes its share of the partitions and starts the loop.
   *
   * @returns When the worker is running (the loop goes on in the background until stop()).
   * @throws {@link FleetError} 'config' when the fleet's partition count differs from options.partitions, or when no
   * fleet exists at the prefix and options.partitions is not given.
   */
  async start(): Promise<void> {
    if (this.running) throw new FleetError('argument', `FleetWorker.start: worker ${this.id} is already running`);
    const r = withScripts(await connect(this.options.redis));
    this.redis = r;
    try {
      if (this.options.partitions === undefined) {
        const h = await r.hget(this.keys.config, 'partitions');
        if (h === null) {
          throw new FleetError(
            'config',
            `FleetWorker: no fleet at prefix '${this.keys.prefix}' (no ${this.keys.config}); create it with createFleet ` +
              'or a FleetProducer, or give the worker partitions',
          );
        }
      }
      this.P = (await ensureConfig(r, this.keys, this.options.partitions, 'FleetWorker')).partitions;
    } catch (e) {
      r.disconnect();
      throw e;
    }
    this.running = true;
    this.crashed = false;
    this.counters.startedAt = Date.now();
    await this.maintain();
    this.loop = this.run();
  }

  /**
   * Stops the worker. Graceful (the default): finishes and commits the current batch, releases its leases (the other
   * workers take the partitions at their next maintenance) and unregisters. Not graceful: a crash, for tests and
   * emergencies: the connection is dropped at once, nothing more is committed and the leases run out by themselves.
   *
   * @param options - graceful (default true).
   */
  async stop(options: { graceful?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const r = this.redis as Redis & FleetCommands;
    if (options.graceful === false) {
      this.crashed = true;
      r.disconnect();
      await this.loop?.catch(() => undefined);
      this.drop();
      return;
    }
    await this.loop;
    try {
      const pipe = r.pipeline() as ReturnType<Redis['pipeline']> & FleetPipelineCommands;
      for (const o of this.owned.values()) pipe.bpttFleetRelease(this.keys.lease(o.k), o.leaseValue);
      pipe.del(this.keys.worker(this.id)).srem(this.keys.workers, this.id);
      await pipe.exec();
    } finally {
      this.drop();
      await r.quit().catch(() => r.disconnect());
    }
  }

  private drop(): void {
    this.owned.clear();
    this.residents.clear();
    this.residentBytes = 0;
  }

  /**
   * The worker's counters now.
   *
   * @returns A snapshot (a new object).
   */
  stats(): FleetWorkerStats {
    const now = Date.now();
    const lag: Record<string, number> = {};
    for (const o of this.owned.values()) lag[String(o.k)] = o.lag;
    let pps = 0;
    if (this.rate.length > 0) {
      const [t0, n0] = this.rate[0];
      if (now > t0) pps = ((this.counters.points - n0) * 1000) / (now - t0);
    }
    return {
      id: this.id,
      points: this.counters.points,
      deadLetters: this.counters.deadLetters,
      batches: this.counters.batches,
      batchSize: this.count,
      pointsPerSecond: pps,
      partitions: [...this.owned.keys()].sort((a, b) => a - b),
      lag,
      residentSeries: this.residents.size,
      residentBytes: this.residentBytes,
      memoryBudget: this.memoryBudget,
      refused: { ...this.counters.refused },
      versionSwitches: this.counters.versionSwitches,
      restoreFailures: this.counters.restoreFailures,
      errors: this.counters.errors,
      lastError: this.counters.lastError,
      startedAt: this.counters.startedAt,
      at: now,
    };
  }

  private async run(): Promise<void> {
    let backoff = 50;
    while (this.running) {
      try {
        if (Date.now() >= this.nextMaintenance) await this.maintain();
        if (!this.running) break;
        const batches = await this.read();
        if (batches.size > 0 && !this.crashed) {
          const t0 = Date.now();
          await this.processAndCommit(batches);
          // A round must end well within the lease (the commit renews it): slow models get smaller batches.
          const took = Date.now() - t0;
          if (took > this.leaseMs / 4) this.count = Math.max(1, Math.floor(this.count / 2));
          else if (took < this.leaseMs / 16) this.count = Math.min(this.batchSize, this.count * 2);
        }
        backoff = 50;
      } catch (e) {
        if (this.crashed) return;
        this.counters.errors++;
        this.counters.lastError = (e as Error).message;
        this.emit('problem', e);
        // Whatever was in flight may or may not have been committed: start every partition again from Redis.
        this.residents.clear();
        this.residentBytes = 0;
        for (const o of this.owned.values()) o.synced = false;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, Math.max(10, Math.floor(this.leaseMs / 4)));
      }
    }
  }

  // ---- partitions: leases, fair share, liveness -------------------------------------------------------------------

  private async maintain(): Promise<void> {
    const r = this.redis as Redis & FleetCommands;
    const now = Date.now();
    this.nextMaintenance = now + Math.max(10, Math.min(1000, Math.floor(this.leaseMs / 3)));
    this.rate.push([now, this.counters.points]);
    while (this.rate.length > 1 && now - this.rate[0][0] > 10_000) this.rate.shift();
    // Renew, publish, and read the live workers and the leases, in one round trip.
    const owned = [...this.owned.values()];
    const pipe = r.pipeline() as ReturnType<Redis['pipeline']> & FleetPipelineCommands;
    for (const o of owned) pipe.bpttFleetRenew(this.keys.lease(o.k), o.leaseValue, this.leaseMs);
    for (const o of owned) pipe.xinfo('STREAM', this.keys.input(o.k));
    for (const o of owned) pipe.xpending(this.keys.input(o.k), GROUP);
    pipe.set(this.keys.worker(this.id), JSON.stringify(this.stats()), 'PX', 2 * this.leaseMs);
    pipe.sadd(this.keys.workers, this.id);
    pipe.smembers(this.keys.workers);
    pipe.mget(...Array.from({ length: this.P }, (_, k) => this.keys.lease(k)));
    const res = (await pipe.exec()) ?? [];
    const reply = (i: number): unknown => {
      const [err, v] = res[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      return v;
    };
    owned.forEach((o, i) => {
      if (reply(i) !== 1) return this.lose(o.k);
      o.lag = Math.max(0, entriesAdded(reply(owned.length + i)) - o.count);
      // Entries pending at another consumer of an owned partition (a zombie read them after its lease ran out):
      // sweep them now rather than at the next commit's gap check, which needs a newer entry to come.
      const summary = reply(2 * owned.length + i) as [number, unknown, unknown, Array<[string, string]> | null];
      if (o.mode === 'live' && (summary[3] ?? []).some(([c, n]) => c !== this.id && Number(n) > 0)) this.resync(o.k);
    });
    const base = 3 * owned.length;
    const members = reply(base + 2) as string[];
    const leases = reply(base + 3) as Array<string | null>;
    const alive = await this.liveWorkers(members);
    const share = Math.ceil(this.P / Math.max(1, alive));
    // Give back partitions above the fair share (between batches: everything taken is committed).
    const mine = [...this.owned.keys()].sort((a, b) => b - a);
    for (let i = 0; i < mine.length - share; i++) await this.release(mine[i]);
    // Take free (or expired) partitions up to the share, starting at a place of our own so workers spread out.
    if (this.owned.size < share) {
      const start = fnv(this.id) % this.P;
      for (let j = 0; j < this.P && this.owned.size < share; j++) {
        const k = (start + j) % this.P;
        if (this.owned.has(k) || leases[k] !== null) continue;
        const token = await r.bpttFleetAcquire(this.keys.lease(k), this.keys.fence(k), this.id, this.leaseMs);
        if (token > 0) this.take(k, token);
      }
    }
  }

  /** How many registered workers still have their stats key (the others are unregistered). */
  private async liveWorkers(members: string[]): Promise<number> {
    if (members.length === 0) return 1;
    const r = this.redis as Redis;
    const v = await r.mget(...members.map((m) => this.keys.worker(m)));
    const dead = members.filter((_, i) => v[i] === null);
    if (dead.length > 0) await r.srem(this.keys.workers, ...dead);
    return members.length - dead.length;
  }

  private take(k: number, token: number): void {
    this.owned.set(k, {
      k,
      token,
      leaseValue: `${this.id} ${token}`,
      pos: '0-0',
      count: 0,
      synced: false,
      mode: 'claim',
      claimCursor: '0-0',
      lag: 0,
    });
    this.emit('partition', { partition: k, taken: true, token });
  }

  private async release(k: number): Promise<void> {
    const o = this.owned.get(k);
    if (o === undefined) return;
    this.lose(k);
    await (this.redis as Redis & FleetCommands).bpttFleetRelease(this.keys.lease(k), o.leaseValue);
  }

  /** Forgets partition k and its resident series. */
  private lose(k: number): void {
    if (!this.owned.delete(k)) return;
    this.dropSeriesOf(k);
    this.emit('partition', { partition: k, taken: false });
  }

  private dropSeriesOf(k: number): void {
    for (const [s, res] of this.residents) {
      if (res.k === k) {
        this.residents.delete(s);
        this.residentBytes -= res.bytes;
      }
    }
  }

  /** After a refused commit: drop what is in memory and read the partition again from its committed position. */
  private resync(k: number): void {
    const o = this.owned.get(k);
    if (o === undefined) return;
    this.dropSeriesOf(k);
    o.synced = false;
  }

  // ---- reading ----------------------------------------------------------------------------------------------------

  private async read(): Promise<Map<number, RawEntry[]>> {
    const r = this.redis as Redis;
    const out = new Map<number, RawEntry[]>();
    if (this.owned.size === 0) {
      await sleep(Math.min(this.blockMs, Math.max(0, this.nextMaintenance - Date.now())));
      return out;
    }
    const unsynced = [...this.owned.values()].filter((o) => !o.synced);
    if (unsynced.length > 0) {
      const pipe = r.pipeline();
      for (const o of unsynced) pipe.hmget(this.keys.pos(o.k), 'id', 'count');
      const res = (await pipe.exec()) ?? [];
      unsynced.forEach((o, i) => {
        const [err, v] = res[i];
        if (err) throw err;
        const [id, count] = v as [string | null, string | null];
        o.pos = id ?? '0-0';
        o.count = Number(count ?? 0);
        o.synced = true;
        o.mode = 'claim';
        o.claimCursor = '0-0';
      });
    }
    const claiming = [...this.owned.values()].filter((o) => o.mode === 'claim');
    if (claiming.length > 0) {
      const pipe = r.pipeline();
      for (const o of claiming)
        pipe.xautoclaim(this.keys.input(o.k), GROUP, this.id, 0, o.claimCursor, 'COUNT', this.count);
      const res = (await pipe.exec()) ?? [];
      claiming.forEach((o, i) => {
        const [err, v] = res[i];
        if (err) throw err;
        const [next, entries] = v as [string, Array<RawEntry | null>];
        o.claimCursor = next;
        if (next === '0-0') o.mode = 'live';
        const list = entries.filter((e): e is RawEntry => e !== null);
        if (list.length > 0) out.set(o.k, list);
      });
      if (out.size > 0) return out;
    }
    const live = [...this.owned.values()].filter((o) => o.mode === 'live');
    if (live.length === 0) return out;
    const block = Math.max(1, Math.min(this.blockMs, this.nextMaintenance - Date.now()));
    const res = (await r.call(
      'XREADGROUP',
      'GROUP',
      GROUP,
      this.id,
      'COUNT',
      String(this.count),
      'BLOCK',
      String(block),
      'STREAMS',
      ...live.map((o) => this.keys.input(o.k)),
      ...live.map(() => '>'),
    )) as Array<[string, RawEntry[]]> | null;
    if (res === null) return out;
    const byKey = new Map(live.map((o) => [this.keys.input(o.k), o.k]));
    for (const [key, entries] of res) {
      const k = byKey.get(key);
      if (k !== undefined && entries.length > 0) out.set(k, entries);
    }
    return out;
  }

  // ---- processing and commit --------------------------------------------------------------------------------------

  private async processAndCommit(batches: Map<number, RawEntry[]>): Promise<void> {
    const r = this.redis as Redis & FleetCommands;
    // Parse, and split each batch into already-committed entries (ack only) and new ones.
    const parsed = new Map<
      number,
      Array<{ id: string; fields: readonly string[]; p: InputPoint | { reason: string } }>
    >();
    const skipped = new Map<number, string[]>();
    const seriesOf = new Map<string, number>();
    const entryTemplates = new Set<string>();
    for (const [k, entries] of batches) {
      const o = this.owned.get(k) as Owned;
      const list = [];
      const skip = [];
      for (const [id, fields] of entries) {
        if (compareIds(id, o.pos) <= 0 || fields === null) {
          skip.push(id); // committed before (or deleted from the stream): acknowledge only
          continue;
        }
        let p = parseEntry(fields);
        if (!('reason' in p) && partitionOf(p.series, this.P) !== k) {
          // Written by a producer that hashes differently: scoring it here would split the series over two owners.
          p = {
            reason:
              `wrong partition: series ${JSON.stringify(p.series)} belongs to partition ` +
              `${partitionOf(p.series, this.P)} (partitionOf), not ${k}`,
          };
        }
        if (!('reason' in p)) {
          seriesOf.set(p.series, k);
          if (p.template !== undefined) entryTemplates.add(p.template);
        }
        list.push({ id, fields: fields ?? EMPTY, p });
      }
      parsed.set(k, list);
      skipped.set(k, skip);
    }
    // Prefetch in one round trip: checkpoints of non-resident series, all detector versions, template versions.
    const series = [...seriesOf.keys()];
    const cold = series.filter((s) => !this.residents.has(s));
    for (const t of entryTemplates) this.knownTemplates.add(t);
    const templates = [...this.knownTemplates];
    const pipe = r.pipeline();
    for (const s of cold) pipe.hget(this.keys.ckpt(seriesOf.get(s) as number), s);
    if (series.length > 0) pipe.mget(...series.map((s) => this.keys.detectorVersion(s)));
    if (templates.length > 0) pipe.mget(...templates.map((t) => this.keys.templateVersion(t)));
    const res = series.length > 0 ? ((await pipe.exec()) ?? []) : [];
    const reply = (i: number): unknown => {
      const [err, v] = res[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      return v;
    };
    const checkpoints = new Map<string, SeriesCheckpoint | string>();
    cold.forEach((s, i) => {
      const text = reply(i) as string | null;
      if (text === null) return;
      try {
        checkpoints.set(s, parseCheckpoint(text, `${this.keys.ckpt(seriesOf.get(s) as number)} field ${s}`));
      } catch (e) {
        checkpoints.set(s, (e as Error).message);
      }
    });
    const fittedVersion = new Map<string, number>();
    if (series.length > 0) {
      (reply(cold.length) as Array<string | null>).forEach((v, i) => fittedVersion.set(series[i], Number(v ?? 0)));
    }
    const templateVersion = new Map<string, number>();
    if (series.length > 0 && templates.length > 0) {
      (reply(cold.length + 1) as Array<string | null>).forEach((v, i) =>
        templateVersion.set(templates[i], Number(v ?? 0)),
      );
    }
    // Templates that only old checkpoints name: their versions, in a second (rare) round trip.
    const extra = new Set<string>();
    for (const c of checkpoints.values())
      if (typeof c !== 'string' && c.source.kind === 'template' && !templateVersion.has(c.source.name))
        extra.add(c.source.name);
    if (extra.size > 0) {
      const names = [...extra];
      (await r.mget(...names.map((t) => this.keys.templateVersion(t)))).forEach((v, i) => {
        templateVersion.set(names[i], Number(v ?? 0));
        this.knownTemplates.add(names[i]);
      });
    }
    // The documents needed and not cached: one MULTI.
    const want = new Map<string, { kind: DetectorSource['kind']; name: string }>();
    const needDoc = (kind: DetectorSource['kind'], name: string, version: number): void => {
      if (version > 0 && this.cache.get(kind, name, version) === undefined)
        want.set(`${kind}\u0000${name}`, { kind, name });
    };
    for (const s of series) needDoc('fitted', s, fittedVersion.get(s) as number);
    for (const t of templateVersion.keys()) {
      const inUse =
        entryTemplates.has(t) ||
        t === this.options.defaultTemplate ||
        [...checkpoints.values()].some((c) => typeof c !== 'string' && c.source.name === t) ||
        [...this.residents.values()].some((x) => x.loaded.source.kind === 'template' && x.loaded.source.name === t);
      if (inUse) needDoc('template', t, templateVersion.get(t) as number);
    }
    const fetched =
      want.size > 0 ? await this.cache.load(r, [...want.values()]) : new Map<string, LoadedDetector | string>();
    const current = (kind: DetectorSource['kind'], name: string, version: number): LoadedDetector | string => {
      const got = this.cache.get(kind, name, version) ?? fetched.get(`${kind}\u0000${name}`);
      if (got !== undefined) return got;
      return kind === 'template'
        ? `template '${name}' is not stored (${this.keys.template(name)})`
        : `${this.keys.detector(name)} is missing`;
    };

    // Process, partition by partition, in stream order.
    const commits: Array<{ k: number; args: string[]; points: number; dead: number; touched: Resident[] }> = [];
    for (const [k, list] of parsed) {
      const o = this.owned.get(k) as Owned;
      const outputs: string[] = [];
      const dead: string[] = [];
      let nOut = 0,
        nDead = 0;
      const touched = new Set<Resident>();
      const toDead = (id: string, fields: readonly string[], reason: string): void => {
        const entry: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) entry[fields[i]] = fields[i + 1];
        dead.push('8', 'reason', reason, 'in', id, 'partition', String(k), 'entry', JSON.stringify(entry));
        nDead++;
      };
      for (const { id, fields, p } of list) {
        if ('reason' in p) {
          toDead(id, fields, p.reason);
          continue;
        }
        const s = p.series;
        const fitted = fittedVersion.get(s) as number;
        let res = this.residents.get(s);
        const ckpt = res === undefined ? checkpoints.get(s) : undefined;
        if (typeof ckpt === 'string') {
          toDead(id, fields, `the checkpoint of series ${JSON.stringify(s)} cannot be read: ${ckpt}`);
          continue;
        }
        let target: LoadedDetector | string;
        if (fitted > 0) target = current('fitted', s, fitted);
        else {
          const name =
            p.template ??
            (res ? templateName(res.loaded.source) : undefined) ??
            (ckpt ? templateName(ckpt.source) : undefined) ??
            this.options.defaultTemplate;
          if (name === undefined) {
            toDead(
              id,
              fields,
              `unknown series ${JSON.stringify(s)} with no template (no fitted detector, no template field, no defaultTemplate)`,
            );
            continue;
          }
          target = current('template', name, templateVersion.get(name) ?? 0);
        }
        if (typeof target === 'string') {
          toDead(id, fields, `no detector for series ${JSON.stringify(s)}: ${target}`);
          continue;
        }
        if (res === undefined) {
          res = this.restore(s, k, target, ckpt);
          this.residents.set(s, res);
          this.residentBytes += res.bytes;
        } else if (!sameSource(res.loaded.source, target.source)) {
          this.switchTo(res, target);
        } else {
          this.residents.delete(s); // LRU: most recent last
          this.residents.set(s, res);
        }
        const d = res.loaded;
        if (p.values.length !== d.features) {
          toDead(
            id,
            fields,
            `wrong feature count: the detector of series ${JSON.stringify(s)} (${describeSource(d.source)}) takes ${d.features} value${d.features === 1 ? '' : 's'} per point, the entry has ${p.values.length}`,
          );
          continue;
        }
        let result;
        try {
          result = res.stream.push(p.values, d.needsTime ? p.ts : undefined);
        } catch (e) {
          if (!(e instanceof ArgumentError)) throw e;
          toDead(id, fields, `the detector of series ${JSON.stringify(s)} refused the point: ${e.message}`);
          continue;
        }
        res.recent.push([p.ts, ...p.values]);
        if (res.recent.length > d.recent) res.recent.splice(0, res.recent.length - d.recent);
        const flag: 0 | 1 = result === null ? 0 : result.flag;
        const event = flag === 1 && res.flag === 0 ? 'start' : flag === 0 && res.flag === 1 ? 'end' : '';
        const version = String(d.source.kind === 'fitted' ? d.source.version : 0);
        outputs.push(id, s, String(p.ts), String(res.index));
        if (result === null) outputs.push('0', '0', String(d.threshold));
        else outputs.push(String(result.score), String(flag), String(result.threshold));
        outputs.push(event, version, result === null ? '1' : '0');
        nOut++;
        res.index++;
        res.flag = flag;
        touched.add(res);
      }
      const skip = skipped.get(k) as string[];
      if (list.length === 0 && skip.length === 0) continue;
      const ckptArgs: string[] = [];
      for (const t of touched) {
        const text = checkpointText({
          source: t.loaded.source,
          index: t.index,
          flag: t.flag,
          recent: t.recent,
          stream: streamState(t.stream),
        });
        ckptArgs.push(t.series, text);
        this.residentBytes += text.length - t.bytes;
        t.bytes = text.length;
      }
      const last = list.length > 0 ? list[list.length - 1].id : '';
      const args = [
        this.keys.lease(k),
        this.keys.pos(k),
        this.keys.ckpt(k),
        this.keys.output(k),
        this.keys.dead,
        this.keys.input(k),
        o.leaseValue,
        String(this.leaseMs),
        o.pos,
        list.length > 0 ? list[0].id : '',
        last,
        String(list.length),
        GROUP,
        String(nOut),
        ...outputs,
        String(touched.size),
        ...ckptArgs,
        String(nDead),
        ...dead,
        String(list.length + skip.length),
        ...skip,
        ...list.map((e) => e.id),
      ];
      commits.push({ k, args, points: nOut, dead: nDead, touched: [...touched] });
    }
    if (commits.length === 0) return;
    if (this.options.hooks?.beforeCommit) await this.options.hooks.beforeCommit(commits.map((c) => c.k));
    if (this.crashed) return;
    const cp = r.pipeline() as ReturnType<Redis['pipeline']> & FleetPipelineCommands;
    for (const c of commits) cp.bpttFleetCommit(...c.args);
    const results = (await cp.exec()) ?? [];
    commits.forEach((c, i) => {
      const [err, v] = results[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      const o = this.owned.get(c.k);
      if (o === undefined) return;
      if (v === 'OK') {
        const newPos = c.args[10];
        if (newPos !== '') {
          o.pos = newPos;
          o.count += Number(c.args[11]);
        }
        this.counters.points += c.points;
        this.counters.deadLetters += c.dead;
        this.counters.batches++;
        this.emit('batch', { partition: c.k, points: c.points, deadLetters: c.dead });
        return;
      }
      const why = String(v);
      this.counters.refused[why] = (this.counters.refused[why] ?? 0) + 1;
      this.emit('refused', { partition: c.k, reason: why });
      if (why === 'LEASE') this.lose(c.k);
      else this.resync(c.k);
    });
    this.evict();
  }

  /** A resident series from its checkpoint (or a new one), running `target`. */
  private restore(series: string, k: number, target: LoadedDetector, ckpt: SeriesCheckpoint | undefined): Resident {
    if (ckpt === undefined) {
      return {
        series,
        k,
        loaded: target,
        stream: openStream(target.detector),
        index: 0,
        flag: 0,
        recent: [],
        bytes: 0,
      };
    }
    const res: Resident = {
      series,
      k,
      loaded: target,
      stream: null as unknown as DetectorStream,
      index: ckpt.index,
      flag: ckpt.flag,
      recent: ckpt.recent,
      bytes: 0,
    };
    if (sameSource(ckpt.source, target.source)) {
      try {
        res.stream = openStream(target.detector, ckpt.stream);
        return res;
      } catch (e) {
        this.counters.restoreFailures++;
        this.emit('problem', new FleetError('state', `series ${JSON.stringify(series)}: ${(e as Error).message}`));
      }
    } else this.counters.versionSwitches++;
    res.stream = warmed(target, res.recent);
    return res;
  }

  /** Moves a resident series to a new detector version: a new stream, warmed with its recent points. */
  private switchTo(res: Resident, target: LoadedDetector): void {
    this.counters.versionSwitches++;
    res.loaded = target;
    res.stream = warmed(target, res.recent);
    if (res.recent.length > target.recent) res.recent.splice(0, res.recent.length - target.recent);
  }

  /** Drops least recently used series until the estimate fits the budget (their state is committed in Redis). */
  private evict(): void {
    for (const [s, res] of this.residents) {
      if (this.residentBytes <= this.memoryBudget) break;
      this.residents.delete(s);
      this.residentBytes -= res.bytes;
    }
  }
}

/** A new stream of `target`, fed `recent` (results discarded: those points were output already). */
function warmed(target: LoadedDetector, recent: number[][]): DetectorStream {
  const stream = openStream(target.detector);
  for (const p of recent) {
    if (p.length - 1 !== target.features) continue;
    try {
      stream.push(p.slice(1), target.needsTime ? p[0] : undefined);
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
    }
  }
  return stream;
}

function templateName(s: DetectorSource): string | undefined {
  return s.kind === 'template' ? s.name : undefined;
}

function sameSource(a: DetectorSource, b: DetectorSource): boolean {
  return a.kind === b.kind && a.name === b.name && a.version === b.version;
}

function describeSource(s: DetectorSource): string {
  return s.kind === 'template' ? `template '${s.name}' v${s.version}` : `fitted detector v${s.version}`;
}

/** `entries-added` from an XINFO STREAM reply (a flat field/value list). */
function entriesAdded(reply: unknown): number {
  if (!Array.isArray(reply)) return 0;
  for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] === 'entries-added') return Number(reply[i + 1]);
  return 0;
}

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

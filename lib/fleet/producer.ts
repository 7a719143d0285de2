/**
 * FleetProducer: writes points to the fleet's input streams, each to the partition of its series (partitionOf), in
 * the order given (per series that order is the order of processing). Points are buffered and sent in pipelines of
 * `batchSize`; `flush()` sends the rest. Entry IDs are Redis's own ('*'): time-ordered within a partition.
 */
import type { Redis } from 'ioredis';
import { connect, type RedisLike } from './client.js';
import { FleetError } from './errors.js';
import { entryFields } from './entries.js';
import { DEFAULT_PREFIX, FleetKeys, ensureConfig, partitionOf } from './keys.js';

/** Options of {@link FleetProducer}. */
export interface FleetProducerOptions {
  /** A connected ioredis client (kept open by close()) or a redis:// URL (a connection of the producer's own). */
  redis: RedisLike;
  /** The fleet's key prefix (default 'bptt'). */
  prefix?: string;
  /** P: the fleet's partition count; creates the fleet when it does not exist (default: the stored value, else 16). */
  partitions?: number;
  /** Points per pipeline (default 1000). */
  batchSize?: number;
  /** When set, each XADD trims its stream to about this many entries (MAXLEN ~): only for consumed history. */
  maxLen?: number;
}

/** One point for {@link FleetProducer.addMany}. */
export interface FleetPoint {
  series: string;
  ts: number;
  values: number | ArrayLike<number>;
  template?: string;
}

/** Writes points to a fleet's input streams. */
export class FleetProducer {
  private redis: Redis | null = null;
  private readonly own: boolean;
  private readonly keys: FleetKeys;
  private partitions = 0;
  private readonly buffer: Array<{ k: number; fields: string[] }> = [];
  private readonly batchSize: number;
  private ready: Promise<void> | null = null;
  /** Points written so far. */
  sent = 0;

  /** @param options - See {@link FleetProducerOptions}. */
  constructor(private readonly options: FleetProducerOptions) {
    this.keys = new FleetKeys(options.prefix ?? DEFAULT_PREFIX);
    this.own = typeof options.redis === 'string';
    this.batchSize = options.batchSize ?? 1000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new FleetError(
        'argument',
        `FleetProducer(batchSize): expected a positive integer, got ${String(options.batchSize)}`,
      );
    }
    if (options.maxLen !== undefined && (!Number.isInteger(options.maxLen) || options.maxLen < 1)) {
      throw new FleetError(
        'argument',
        `FleetProducer(maxLen): expected a positive integer, got ${String(options.maxLen)}`,
      );
    }
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      this.redis = typeof this.options.redis === 'string' ? await connect(this.options.redis) : this.options.redis;
      this.partitions = (
        await ensureConfig(this.redis, this.keys, this.options.partitions, 'FleetProducer')
      ).partitions;
    })();
    return this.ready;
  }

  /**
   * Queues one point; sends a pipeline when batchSize points are queued.
   *
   * @param series - The series' name.
   * @param ts - The point's time, epoch ms (an integer).
   * @param values - The point: a number, or one value per feature (finite).
   * @param template - The template a new series starts from (optional).
   */
  async add(series: string, ts: number, values: number | ArrayLike<number>, template?: string): Promise<void> {
    const fields = entryFields(series, ts, values, template, 'FleetProducer.add');
    await this.init();
    this.buffer.push({ k: partitionOf(series, this.partitions), fields });
    if (this.buffer.length >= this.batchSize) await this.flush();
  }

  /**
   * Queues many points, in order, sending pipelines of batchSize as it goes.
   *
   * @param points - The points.
   */
  async addMany(points: Iterable<FleetPoint>): Promise<void> {
    for (const p of points) await this.add(p.series, p.ts, p.values, p.template);
  }

  /**
   * Sends the queued points.
   *
   * @returns How many points were sent.
   */
  async flush(): Promise<number> {
    await this.init();
    if (this.buffer.length === 0) return 0;
    const batch = this.buffer.splice(0, this.buffer.length);
    const pipe = (this.redis as Redis).pipeline();
    const trim = this.options.maxLen === undefined ? [] : ['MAXLEN', '~', String(this.options.maxLen)];
    for (const { k, fields } of batch) pipe.xadd(this.keys.input(k), ...trim, '*', ...fields);
    const res = (await pipe.exec()) ?? [];
    const err = res.find(([e]) => e !== null)?.[0];
    if (err) throw err;
    this.sent += batch.length;
    return batch.length;
  }

  /** Flushes, then closes the connection if the producer opened it. */
  async close(): Promise<void> {
    await this.flush();
    if (this.own) await this.redis?.quit();
  }
}

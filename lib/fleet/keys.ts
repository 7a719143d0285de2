/**
 * The fleet's Redis keys, all under one prefix (default 'bptt'; `{p}` below), and its stored configuration.
 *
 *   {p}:config                       hash: format 'bptt-fleet', formatVersion 1, partitions P (set once, by the first
 *                                    createFleet or producer; every worker and producer checks it)
 *   {p}:in:{k}                       input stream of partition k (0 ≤ k < P); consumer group 'bptt'
 *   {p}:out:{k}                      output stream of partition k: one entry per input point, with the input's ID
 *   {p}:dead                         dead letters (bad input), one stream for the fleet
 *   {p}:pos:{k}                      hash: id = the last input ID of partition k whose effects are committed, count =
 *                                    how many input entries that is (for the lag)
 *   {p}:ckpt:{k}                     hash: series → checkpoint JSON (state.ts) of each series of partition k
 *   {p}:lease:{k}                    "<worker id> <token>": the owner of partition k, with a TTL (PX)
 *   {p}:fence:{k}                    counter: the fencing token of partition k's newest lease
 *   {p}:workers                      set of worker ids that have registered
 *   {p}:worker:{id}                  the worker's published stats (JSON), with a TTL: present while it lives
 *   {p}:template:{name}              a template detector (a fitted Detector's toJSON)
 *   {p}:template-version:{name}      counter: bumped by every putTemplate of that name
 *   {p}:detector:{series}            the series' own fitted detector (toJSON)
 *   {p}:detector-version:{series}    counter: bumped by every putDetector of that series
 */
import type { Redis } from 'ioredis';
import { FleetError } from './errors.js';
import { withClient, type RedisLike } from './client.js';

/** The consumer group on every input stream. */
export const GROUP = 'bptt';
/** The configuration document's format name and version. */
export const CONFIG_FORMAT = 'bptt-fleet';
export const CONFIG_FORMAT_VERSION = 1;
/** Partitions when neither the caller nor the stored configuration says. */
export const DEFAULT_PARTITIONS = 16;
export const DEFAULT_PREFIX = 'bptt';

/** The key names of one fleet. */
export class FleetKeys {
  /** @param prefix - The prefix every key starts with. */
  constructor(readonly prefix: string) {
    checkPrefix(prefix, 'prefix');
  }
  get config(): string {
    return `${this.prefix}:config`;
  }
  input(k: number): string {
    return `${this.prefix}:in:${k}`;
  }
  output(k: number): string {
    return `${this.prefix}:out:${k}`;
  }
  get dead(): string {
    return `${this.prefix}:dead`;
  }
  pos(k: number): string {
    return `${this.prefix}:pos:${k}`;
  }
  ckpt(k: number): string {
    return `${this.prefix}:ckpt:${k}`;
  }
  lease(k: number): string {
    return `${this.prefix}:lease:${k}`;
  }
  fence(k: number): string {
    return `${this.prefix}:fence:${k}`;
  }
  get workers(): string {
    return `${this.prefix}:workers`;
  }
  worker(id: string): string {
    return `${this.prefix}:worker:${id}`;
  }
  template(name: string): string {
    return `${this.prefix}:template:${name}`;
  }
  templateVersion(name: string): string {
    return `${this.prefix}:template-version:${name}`;
  }
  detector(series: string): string {
    return `${this.prefix}:detector:${series}`;
  }
  detectorVersion(series: string): string {
    return `${this.prefix}:detector-version:${series}`;
  }
}

/** A prefix: 1–100 characters of letters, digits and `_.-:{}` (the braces allow a Redis Cluster hash tag). */
export function checkPrefix(prefix: unknown, argument: string): asserts prefix is string {
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.:{}-]{1,100}$/.test(prefix)) {
    throw new FleetError(
      'argument',
      `${argument}: expected 1–100 characters of letters, digits and _.-:{}, got ${JSON.stringify(prefix)}`,
    );
  }
}

/** A series name: a non-empty string of at most 1024 characters. */
export function checkSeriesName(series: unknown, argument: string): asserts series is string {
  if (typeof series !== 'string' || series.length === 0 || series.length > 1024) {
    throw new FleetError(
      'argument',
      `${argument}: expected a series name (a non-empty string of at most 1024 characters), got ${JSON.stringify(series)}`,
    );
  }
}

/** A template name: 1–200 characters of letters, digits and _.-:@/. */
export function checkTemplateName(name: unknown, argument: string): asserts name is string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.:@/-]{1,200}$/.test(name)) {
    throw new FleetError(
      'argument',
      `${argument}: expected a template name (1–200 characters of letters, digits and _.-:@/), got ${JSON.stringify(name)}`,
    );
  }
}

function checkPartitions(p: unknown, argument: string): asserts p is number {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 4096) {
    throw new FleetError('argument', `${argument}: expected an integer from 1 to 4096, got ${String(p)}`);
  }
}

/**
 * The partition of a series: FNV-1a (32-bit) of its UTF-8 bytes, modulo P. Stable across processes, machines and
 * versions: producers and workers agree without talking.
 *
 * @param series - The series name.
 * @param partitions - P, the fleet's partition count.
 * @returns An integer in [0, P).
 */
export function partitionOf(series: string, partitions: number): number {
  checkPartitions(partitions, 'partitionOf(partitions)');
  const bytes = Buffer.from(series, 'utf8');
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** A fleet's stored configuration. */
export interface FleetConfig {
  prefix: string;
  partitions: number;
}

/** The stored configuration, or null when there is none yet. */
export async function readConfig(redis: Redis, keys: FleetKeys): Promise<FleetConfig | null> {
  const h = await redis.hgetall(keys.config);
  if (Object.keys(h).length === 0) return null;
  const p = Number(h['partitions']);
  if (h['format'] !== CONFIG_FORMAT || h['formatVersion'] !== String(CONFIG_FORMAT_VERSION) || !Number.isInteger(p)) {
    throw new FleetError(
      'config',
      `${keys.config}: expected a bptt-fleet configuration (format ${CONFIG_FORMAT} v${CONFIG_FORMAT_VERSION}), got ` +
        JSON.stringify(h),
    );
  }
  return { prefix: keys.prefix, partitions: p };
}

/**
 * Reads the configuration, creating it (and the consumer groups) when absent. `partitions` undefined takes the stored
 * value (or DEFAULT_PARTITIONS for a new fleet); a value that differs from the stored one is refused.
 */
export async function ensureConfig(
  redis: Redis,
  keys: FleetKeys,
  partitions: number | undefined,
  who: string,
): Promise<FleetConfig> {
  if (partitions !== undefined) checkPartitions(partitions, `${who}(partitions)`);
  let config: FleetConfig | null = await readConfig(redis, keys);
  if (config === null) {
    const P = partitions ?? DEFAULT_PARTITIONS;
    // HSETNX on the count: of two creators racing, the first one's P stands and the other sees it below.
    await redis.hsetnx(keys.config, 'partitions', String(P));
    await redis.hset(keys.config, 'format', CONFIG_FORMAT, 'formatVersion', String(CONFIG_FORMAT_VERSION));
    config = await readConfig(redis, keys);
    if (config === null) throw new FleetError('config', `${keys.config}: vanished while being created`);
  }
  // The consumer groups, every time (idempotent: BUSYGROUP, "the group exists", is expected and ignored).
  const pipe = redis.pipeline();
  for (let k = 0; k < config.partitions; k++) pipe.xgroup('CREATE', keys.input(k), GROUP, '0', 'MKSTREAM');
  for (const [err] of (await pipe.exec()) ?? []) if (err && !/BUSYGROUP/.test(err.message)) throw err;
  if (partitions !== undefined && partitions !== config.partitions) {
    throw new FleetError(
      'config',
      `${who}(partitions): the fleet at prefix '${keys.prefix}' has ${config.partitions} partitions, not ${partitions}; ` +
        'the partition count is fixed when a fleet is created (use another prefix for a different count)',
    );
  }
  return config;
}

/**
 * Creates a fleet (its configuration and the consumer group of every input stream), or checks an existing one.
 *
 * @param redis - A connected ioredis client, or a redis:// URL.
 * @param options - prefix (default 'bptt'); partitions P (default: the stored value, else 16).
 * @returns The configuration in force.
 * @throws {@link FleetError} 'config' when the stored partition count differs from `partitions`.
 */
export async function createFleet(
  redis: RedisLike,
  options: { prefix?: string; partitions?: number } = {},
): Promise<FleetConfig> {
  const keys = new FleetKeys(options.prefix ?? DEFAULT_PREFIX);
  return withClient(redis, (r) => ensureConfig(r, keys, options.partitions, 'createFleet'));
}

/** Stream IDs compare as (ms, seq) pairs. */
export function compareIds(a: string, b: string): number {
  const [am, as] = splitId(a),
    [bm, bs] = splitId(b);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

function splitId(id: string): [number, number] {
  const d = id.indexOf('-');
  return d < 0 ? [Number(id), 0] : [Number(id.slice(0, d)), Number(id.slice(d + 1))];
}

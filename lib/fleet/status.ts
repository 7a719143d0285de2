/**
 * Reading a fleet: its outputs, its dead letters, and its status (partitions, owners, lag, series, workers).
 */
import type { Redis } from 'ioredis';
import { withClient, type RedisLike } from './client.js';
import { FleetError } from './errors.js';
import { DEFAULT_PREFIX, FleetKeys, GROUP, readConfig } from './keys.js';
import type { FleetWorkerStats } from './worker.js';

/** One output entry, parsed. */
export interface FleetOutput {
  /** The output entry's ID, which is also its input entry's ID. */
  id: string;
  partition: number;
  series: string;
  ts: number;
  /** 0-based index of the point in its series. */
  index: number;
  score: number;
  flag: 0 | 1;
  threshold: number;
  /** 'start' when the flag went 0→1 at this point, 'end' at 1→0, else ''. */
  event: '' | 'start' | 'end';
  /** The series' fitted detector version, 0 on a template. */
  version: number;
  /** The input entry's ID. */
  in: string;
  /** True for a warm-up point (no score yet: score 0, flag 0). */
  warmup: boolean;
}

/** One dead letter, parsed. */
export interface FleetDeadLetter {
  id: string;
  /** The sentence saying what was wrong. */
  reason: string;
  /** The input entry's ID and partition. */
  in: string;
  partition: number;
  /** The input entry's fields. */
  entry: Record<string, string>;
}

type RawEntry = [string, string[]];

async function readAll(r: Redis, key: string, chunk = 10_000): Promise<RawEntry[]> {
  const all: RawEntry[] = [];
  let start = '-';
  for (;;) {
    const got = (await r.xrange(key, start, '+', 'COUNT', chunk)) as RawEntry[];
    all.push(...got);
    if (got.length < chunk) return all;
    start = `(${got[got.length - 1][0]}`;
  }
}

function fieldMap(fields: string[]): Record<string, string> {
  const m: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) m[fields[i]] = fields[i + 1];
  return m;
}

async function partitionsOf(r: Redis, keys: FleetKeys): Promise<number> {
  const c = await readConfig(r, keys);
  if (c === null) throw new FleetError('config', `no fleet at prefix '${keys.prefix}' (no ${keys.config})`);
  return c.partitions;
}

/**
 * Every output of the fleet (or of one series), per partition in stream order; for one series, in its point order.
 *
 * @param redis - A connected ioredis client, or a redis:// URL.
 * @param prefix - The fleet's key prefix.
 * @param options - series: only this series' outputs.
 * @returns The outputs, parsed (numbers as the worker wrote them, bit for bit).
 */
export async function readOutputs(
  redis: RedisLike,
  prefix: string = DEFAULT_PREFIX,
  options: { series?: string } = {},
): Promise<FleetOutput[]> {
  const keys = new FleetKeys(prefix);
  return withClient(redis, async (r) => {
    const P = await partitionsOf(r, keys);
    const out: FleetOutput[] = [];
    for (let k = 0; k < P; k++) {
      for (const [id, fields] of await readAll(r, keys.output(k))) {
        const m = fieldMap(fields);
        if (options.series !== undefined && m['series'] !== options.series) continue;
        out.push({
          id,
          partition: k,
          series: m['series'],
          ts: Number(m['ts']),
          index: Number(m['index']),
          score: Number(m['score']),
          flag: m['flag'] === '1' ? 1 : 0,
          threshold: Number(m['threshold']),
          event: (m['event'] ?? '') as FleetOutput['event'],
          version: Number(m['version']),
          in: m['in'],
          warmup: m['warmup'] === '1',
        });
      }
    }
    return out;
  });
}

/**
 * Every dead letter of the fleet, oldest first.
 *
 * @param redis - A connected ioredis client, or a redis:// URL.
 * @param prefix - The fleet's key prefix.
 * @returns The dead letters, parsed.
 */
export async function readDeadLetters(redis: RedisLike, prefix: string = DEFAULT_PREFIX): Promise<FleetDeadLetter[]> {
  const keys = new FleetKeys(prefix);
  return withClient(redis, async (r) =>
    (await readAll(r, keys.dead)).map(([id, fields]) => {
      const m = fieldMap(fields);
      let entry: Record<string, string> = {};
      try {
        entry = JSON.parse(m['entry'] ?? '{}') as Record<string, string>;
      } catch {
        // left empty: the worker always writes JSON here
      }
      return { id, reason: m['reason'], in: m['in'], partition: Number(m['partition']), entry };
    }),
  );
}

/** One partition in {@link FleetStatus}. */
export interface PartitionStatus {
  partition: number;
  /** The lease holder's worker id, or null when the partition is free. */
  owner: string | null;
  /** The lease's fencing token (0 when free). */
  token: number;
  /** The last input ID whose effects are committed ('0-0' before the first). */
  lastProcessedId: string;
  /** Input entries committed (processed or dead-lettered). */
  processed: number;
  /** Entries ever added to the input stream, and its current length. */
  added: number;
  length: number;
  /** Entries added and not committed yet: added − processed. */
  lag: number;
  /** Entries delivered to a consumer and not acknowledged (the group's pending count). */
  pending: number;
  /** Series with a checkpoint in this partition. */
  series: number;
  /** Output entries. */
  outputs: number;
}

/** What {@link fleetStatus} returns. */
export interface FleetStatus {
  prefix: string;
  partitions: number;
  partitionStatus: PartitionStatus[];
  /** Series with a checkpoint, over all partitions. */
  series: number;
  /** Sum of the partitions' lag. */
  lag: number;
  deadLetters: number;
  /** Live workers with the stats they last published. */
  workers: FleetWorkerStats[];
}

/**
 * A fleet's state: per partition its owner, committed position, lag and series count; the live workers and their
 * published stats (points/s, resident series and bytes, …).
 *
 * @param redis - A connected ioredis client, or a redis:// URL.
 * @param prefix - The fleet's key prefix.
 * @returns The status.
 * @throws {@link FleetError} 'config' when no fleet exists at the prefix.
 */
export async function fleetStatus(redis: RedisLike, prefix: string = DEFAULT_PREFIX): Promise<FleetStatus> {
  const keys = new FleetKeys(prefix);
  return withClient(redis, async (r) => {
    const P = await partitionsOf(r, keys);
    const pipe = r.pipeline();
    for (let k = 0; k < P; k++) {
      pipe.get(keys.lease(k));
      pipe.hmget(keys.pos(k), 'id', 'count');
      pipe.xinfo('STREAM', keys.input(k));
      pipe.xpending(keys.input(k), GROUP);
      pipe.hlen(keys.ckpt(k));
      pipe.xlen(keys.output(k));
    }
    pipe.xlen(keys.dead);
    pipe.smembers(keys.workers);
    const res = (await pipe.exec()) ?? [];
    const v = (i: number): unknown => (res[i]?.[0] ? null : res[i]?.[1]);
    const parts: PartitionStatus[] = [];
    for (let k = 0; k < P; k++) {
      const b = 6 * k;
      const lease = v(b) as string | null;
      const [id, count] = (v(b + 1) as [string | null, string | null] | null) ?? [null, null];
      const info = v(b + 2) as unknown[] | null;
      const field = (name: string): number => {
        if (!Array.isArray(info)) return 0;
        for (let i = 0; i + 1 < info.length; i += 2) if (info[i] === name) return Number(info[i + 1]);
        return 0;
      };
      const pending = v(b + 3) as [number, ...unknown[]] | null;
      const processed = Number(count ?? 0),
        added = field('entries-added');
      parts.push({
        partition: k,
        owner: lease === null ? null : lease.slice(0, lease.lastIndexOf(' ')),
        token: lease === null ? 0 : Number(lease.slice(lease.lastIndexOf(' ') + 1)),
        lastProcessedId: id ?? '0-0',
        processed,
        added,
        length: field('length'),
        lag: Math.max(0, added - processed),
        pending: Array.isArray(pending) ? Number(pending[0]) : 0,
        series: Number(v(b + 4) ?? 0),
        outputs: Number(v(b + 5) ?? 0),
      });
    }
    const members = (v(6 * P + 1) as string[] | null) ?? [];
    const stats = members.length > 0 ? await r.mget(...members.map((m) => keys.worker(m))) : [];
    const workers: FleetWorkerStats[] = [];
    for (const s of stats) {
      if (s === null) continue;
      try {
        workers.push(JSON.parse(s) as FleetWorkerStats);
      } catch {
        // a foreign value at a worker key: not a live worker of ours
      }
    }
    workers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return {
      prefix: keys.prefix,
      partitions: P,
      partitionStatus: parts,
      series: parts.reduce((a, p) => a + p.series, 0),
      lag: parts.reduce((a, p) => a + p.lag, 0),
      deadLetters: Number(v(6 * P) ?? 0),
      workers,
    };
  });
}

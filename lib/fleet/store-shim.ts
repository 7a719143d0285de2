/**
 * TEMPORARY stand-in for h-fleet's engine functions (lib/fleet), written against the names its brief gives, so that
 * training.ts compiles and its specs run before that branch is merged. Deleted once h-fleet is merged.
 */
import type { Redis } from 'ioredis';
import { Redis as Client } from 'ioredis';
import { Detector } from '../detect/detector.js';

/** Partition of a series: FNV-1a (32 bits) of its UTF-8 bytes, modulo P. */
export function partitionOf(series: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(series, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** Partitions of the fleet: `{prefix}:config` field partitions (default 8). */
export async function readPartitions(redis: Redis, prefix: string): Promise<number> {
  const p = await redis.hget(`${prefix}:config`, 'partitions');
  return p === null ? 8 : Number(p);
}

/** Stores a fitted detector and bumps its version; returns the new version. */
export async function putDetector(redis: Redis, prefix: string, series: string, detector: Detector): Promise<number> {
  const json = JSON.stringify(detector.toJSON());
  const r = (await redis
    .multi()
    .set(`${prefix}:detector:${series}`, json)
    .incr(`${prefix}:detector-version:${series}`)
    .exec()) as Array<[Error | null, unknown]>;
  return Number(r[1][1]);
}

/** The stored detector of a series and its version, or null. */
export async function getDetector(
  redis: Redis,
  prefix: string,
  series: string,
): Promise<{ detector: Detector; version: number } | null> {
  const [json, version] = await redis.mget(`${prefix}:detector:${series}`, `${prefix}:detector-version:${series}`);
  if (json === null) return null;
  return { detector: Detector.fromJSON(json), version: Number(version) };
}

/** A problem with what the fleet was given. */
export class FleetError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'FleetError';
  }
}

/** A new connection to `url`. */
export async function connect(url: string): Promise<Redis> {
  return Promise.resolve(new Client(url, { maxRetriesPerRequest: null }));
}

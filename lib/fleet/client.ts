/**
 * The Redis client of the fleet: ioredis, loaded on first use so that `bptt/fleet` (and nothing else in bptt) needs it,
 * and a missing install is one clear error instead of a failed require at load time. ioredis is an optional peer
 * dependency of the package: `npm install ioredis` to use the fleet.
 *
 * Every function of the fleet takes either a connected ioredis client (the caller owns it) or a redis:// URL (the
 * function opens a connection and closes it before it returns; a FleetWorker keeps its own for its lifetime).
 */
import type { Redis, RedisOptions } from 'ioredis';
import { FleetError } from './errors.js';

/** A connected ioredis client, or a redis:// URL. */
export type RedisLike = Redis | string;

type IoRedisModule = { Redis: new (url: string, options?: RedisOptions) => Redis };

let loaded: IoRedisModule | null = null;

/** ioredis, or a FleetError('dependency') naming the install command. */
export async function loadIoRedis(): Promise<IoRedisModule> {
  if (loaded !== null) return loaded;
  try {
    const m = (await import('ioredis')) as unknown as IoRedisModule & { default?: IoRedisModule };
    loaded = typeof m.Redis === 'function' ? m : (m.default as IoRedisModule);
  } catch (e) {
    throw new FleetError(
      'dependency',
      `bptt/fleet needs the Redis client ioredis, which is not installed (${(e as Error).message.split('\n')[0]}): ` +
        'npm install ioredis',
    );
  }
  return loaded;
}

/** A new connection to `url` (lazyConnect off: commands queue until it is up). */
export async function connect(url: string, options: RedisOptions = {}): Promise<Redis> {
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new FleetError('argument', `redis: expected a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  }
  const { Redis: Client } = await loadIoRedis();
  const r = new Client(url, { maxRetriesPerRequest: null, ...options });
  // Connection errors reach the caller through the commands that fail; without a listener ioredis prints each one.
  r.on('error', () => undefined);
  return r;
}

/**
 * Runs `fn` with a client: `redis` itself when it is one, else a connection to the URL opened for the call and closed
 * after it.
 */
export async function withClient<T>(redis: RedisLike, fn: (r: Redis) => Promise<T>): Promise<T> {
  if (typeof redis !== 'string') return fn(redis);
  const r = await connect(redis);
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

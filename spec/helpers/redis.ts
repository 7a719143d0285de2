/**
 * A real redis-server for the fleet specs: Debian's /usr/bin/redis-server on a free loopback port, in a temporary
 * directory, no persistence by default, stopped (and its directory removed) by `stop()`. No mocks.
 *
 *   describe('fleet', function () {
 *     let server: RedisServer;
 *     before(async function () {
 *       if (!requireRedis(this)) return;          // skips visibly without redis-server; fails under CI=1
 *       server = await startRedis();
 *     });
 *     after(async () => server?.stop());
 *     it('…', async () => { const r = await server.client(); … });
 *   });
 *
 * REDIS_SERVER (environment) overrides the binary's path.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { Redis } from 'ioredis';

/** The server binary: $REDIS_SERVER, else Debian's package. */
export const REDIS_SERVER_PATH = process.env['REDIS_SERVER'] ?? '/usr/bin/redis-server';

/** Whether the server binary exists; when it does not, why. */
export function redisAvailable(): { ok: true } | { ok: false; reason: string } {
  try {
    fs.accessSync(REDIS_SERVER_PATH, fs.constants.X_OK);
    return { ok: true };
  } catch {
    return {
      ok: false,
      reason: `no executable redis-server at ${REDIS_SERVER_PATH} (apt-get install redis-server, or set REDIS_SERVER)`,
    };
  }
}

/**
 * For a mocha `before` hook: true when redis-server exists. Without it the suite is skipped with the reason printed,
 * except under CI (the environment variable CI set and not 'false'/'0'), where a missing server is a failure.
 */
export function requireRedis(ctx: Mocha.Context): boolean {
  const a = redisAvailable();
  if (a.ok) return true;
  const ci = process.env['CI'];
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') {
    throw new Error(`redis specs: ${a.reason}; CI is set, so the redis specs must run`);
  }
  console.log(`      (skipped: ${a.reason}; set CI=1 to make this a failure)`);
  ctx.skip();
  return false;
}

/** A running server. */
export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** The server's working directory (removed by stop). */
  readonly dir: string;
  readonly process: ChildProcess;
  /** A new ioredis connection (closed by stop, or by the caller). */
  client(): Promise<Redis>;
  /** Stops the server (SIGTERM, then waits for it to exit), closes the clients, removes the directory. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Options of {@link startRedis}: extra server arguments (`['--appendonly', 'yes']`). */
export interface StartRedisOptions {
  args?: string[];
  /** Reuse a directory (e.g. to restart on the same AOF); default a new temporary one. */
  dir?: string;
  port?: number;
}

/** Starts redis-server and waits until it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const { Redis: Client } = await import('ioredis');
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-redis-'));
  const port = options.port ?? (await freePort());
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.args ?? []),
  ];
  const child = spawn(REDIS_SERVER_PATH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const clients: Redis[] = [];
  // Wait for PING (at most ~10 s).
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) at start:\n${log}`);
    const probe = new Client(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') {
        probe.disconnect();
        break;
      }
    } catch {
      probe.disconnect();
    }
    if (i > 200) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING on ${url} within 10 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url,
    dir,
    process: child,
    async client() {
      const c = new Client(url, { maxRetriesPerRequest: null });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (options.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

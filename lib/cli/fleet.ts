/**
 * `bptt fleet`: the processes of the Redis fleet (lib/fleet, the `bptt/fleet` entry). Subcommands:
 *
 *   worker     score the fleet's partitions until SIGTERM/SIGINT (graceful: finish the batch, commit, release the
 *              leases, exit 0); /metrics in Prometheus text format (--metrics-port); one log line per lease change
 *   status     partitions, owners, lag, series, points/s and memory per worker (--json: one JSON object)
 *   produce    add points from a CSV (series,timestamp,value[,value…]; a file or - for stdin), or --synthetic series
 *   template   `template put NAME --model detector.json`: store a fitted detector as a template
 *   outputs    print one series' outputs as CSV
 *   train, trainer   BullMQ training jobs (lib/cli/fleet-train.ts)
 *
 * Options are checked before anything connects (a mistake: exit 1 at once, naming the flag). The Redis client and the
 * engine are loaded on first use, so the rest of the command line works without the optional ioredis. A failure
 * after start-up is reported as main() reports errors (lib/cli/main.ts: exit 1 for the user's mistake, 2 for a bug,
 * --json as one JSON line) through process.exitCode: these commands finish asynchronously.
 */
import * as fs from 'fs';
import * as http from 'http';
import { UserError, CsvError, toUserError, errorJSON, userCall } from './errors.js';
import type { Context } from './context.js';
import * as opt from './options.js';
import { commonOptions, noPositionals, type Common } from './fleet-options.js';
import { NUMBER, parseDate } from './time.js';
import { syntheticFleet, SYNTHETIC_T0, SYNTHETIC_STEP_MS } from './fleet-synthetic.js';
import { renderExposition, EXPOSITION_CONTENT_TYPE } from '../watch/exposition.js';
import { workerFamilies } from './fleet-metrics.js';
import { fleetTrainCommand } from './fleet-train.js';
import type * as Engine from '../fleet/index.js';
import { FleetError } from '../fleet/errors.js';
import type { Redis } from 'ioredis';

export const FLEET_HELP = `Usage: bptt fleet <subcommand> [options]

Many series on Redis Streams: points go to partition streams, worker processes (on any number of machines) score them
with one detector per series, checkpointing every detector's state to Redis with the last entry it processed, so a
worker that dies is replaced by another that continues exactly where it stopped (one output per point).

Subcommands
  worker      run a scoring worker until SIGTERM or SIGINT
  status      partitions, owners, lag, series, points/s and memory per worker
  produce     add points from a CSV file (or - for stdin), or --synthetic ones
  template    template put NAME --model detector.json: store a fitted detector as a template
  outputs     print the outputs of a series as CSV
  train       queue a training job (BullMQ)
  trainer     run a training-job worker (BullMQ)

Options every subcommand takes
  --redis URL      the Redis server (redis://127.0.0.1:6379); required
  --prefix P       the fleet's key prefix (default bptt)
  --json           errors as JSON lines on stderr (and status as JSON on stdout)

Run bptt fleet <subcommand> --help for its options.`;

const WORKER_HELP = `Usage: bptt fleet worker --redis URL [options]

Claims partitions (a lease each, renewed while it works; a dead worker's lease expires after --lease-ms), reads their
points in batches, scores each series with its detector (created from the series' template, or --template, the first
time the series is seen), writes one output per point and commits the detectors' state with the last entry ID, all in
one atomic step. SIGTERM or SIGINT: finishes the batch, commits, releases the leases and exits 0.

Options
  --redis URL            the Redis server (required)
  --prefix P             the fleet's key prefix (default bptt)
  --template NAME        template for series whose points name none (default: such points are dead letters)
  --batch N              points read per partition per step (default 500)
  --lease-ms N           lease length in ms: how long a dead worker's partitions wait (default 10000)
  --memory-budget SIZE   resident detectors' memory (256MB, 1GB, 512KB or bytes; default 256MB); colder ones are
                         swapped out to Redis
  --metrics-port N       serve /metrics (Prometheus text format) on this port (0: any free port, logged)
  --metrics-host HOST    the address /metrics listens on (default 127.0.0.1)
  --id ID                this worker's name (default host-pid-random)
  --partitions N         create the fleet with N partitions when there is none yet (else it must match the fleet's;
                         without it, a worker started before any fleet exists ends with exit 1)
  -q, --quiet            no log lines but errors
  -h, --help`;

const STATUS_HELP = `Usage: bptt fleet status --redis URL [--prefix P] [--json]

Prints each partition (owner, lag: entries not yet processed), each worker (partitions, series resident, points/s,
memory) and the totals. --json prints the same as one JSON object.`;

const PRODUCE_HELP = `Usage: bptt fleet produce (FILE.csv | - | --synthetic --series N --points M [--seed S]) --redis URL [options]

Adds points to the fleet's partition streams (a series always goes to the same partition).
A CSV has the columns series,timestamp,value[,value…] (a header line is recognised by its timestamp cell not being a
time); timestamps are epoch milliseconds or ISO 8601 dates. --synthetic adds N series of M points each (one per 10 s
from 2026-01-01, time-major, with injected anomalies), the same for the same --seed.

Options
  --redis URL        the Redis server (required)
  --prefix P         the fleet's key prefix (default bptt)
  --partitions N     partitions of a new fleet (default 16); an existing fleet's count must match
  --template NAME    the template each point names (for series seen for the first time)
  --synthetic        generate the points instead of reading a CSV
  --series N, --points M, --seed S   the synthetic fleet (default seed 1)
  --csv              with --synthetic: print the points as CSV on stdout instead (no --redis; e.g. to fit a
                     template on a normal stretch)`;

const TEMPLATE_HELP = `Usage: bptt fleet template put NAME --model detector.json --redis URL [--prefix P]

Stores a fitted detector (a file written by bptt fit --save or detector.save) as the template NAME: a series whose
points name it (or a worker's --template) starts from a copy of it.`;

const OUTPUTS_HELP = `Usage: bptt fleet outputs --series S --redis URL [--prefix P]

Prints the outputs of series S as CSV, in the order of its points: series,timestamp,index,score,flag,threshold,event
(score and threshold empty while the detector warms up; event is start or end where a run of flags begins or ends).`;

const BASE = {
  ...opt.COMMON,
  json: { type: 'boolean' },
  redis: { type: 'string' },
  prefix: { type: 'string' },
} as const;

const SPECS: Record<string, opt.OptionSpec> = {
  worker: {
    ...BASE,
    template: { type: 'string' },
    batch: { type: 'string' },
    'lease-ms': { type: 'string' },
    'memory-budget': { type: 'string' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string' },
    id: { type: 'string' },
    partitions: { type: 'string' },
  },
  status: { ...BASE },
  produce: {
    ...BASE,
    partitions: { type: 'string' },
    template: { type: 'string' },
    synthetic: { type: 'boolean' },
    csv: { type: 'boolean' },
    series: { type: 'string' },
    points: { type: 'string' },
    seed: { type: 'string' },
  },
  template: { ...BASE, model: { type: 'string' } },
  outputs: { ...BASE, series: { type: 'string' } },
};

const HELP: Record<string, string> = {
  worker: WORKER_HELP,
  status: STATUS_HELP,
  produce: PRODUCE_HELP,
  template: TEMPLATE_HELP,
  outputs: OUTPUTS_HELP,
};

/** `bptt fleet …`: dispatches to a subcommand. */
export function fleetCommand(ctx: Context, argv: string[]): number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    ctx.out(`${FLEET_HELP}\n`);
    return 0;
  }
  if (sub === 'train' || sub === 'trainer') {
    // lib/cli/fleet-train.ts runs `bptt fleet train` and `bptt fleet trainer` (BullMQ, loaded on first use).
    return runAsync(ctx, () => fleetTrainCommand(ctx, sub, rest));
  }
  const spec = SPECS[sub];
  if (spec === undefined) {
    const all = [...Object.keys(SPECS), 'train', 'trainer'];
    throw new UserError(`fleet: unknown subcommand ${JSON.stringify(sub)}; the subcommands are ${all.join(', ')}`, {
      argument: 'subcommand',
      expected: all.join(', '),
      actual: sub,
    });
  }
  const { values, positionals } = opt.parse(`fleet ${sub}`, rest, spec);
  if (opt.flag(values, 'help')) {
    ctx.out(`${HELP[sub]}\n`);
    return 0;
  }
  if (sub === 'produce' && opt.flag(values, 'csv')) return syntheticCsv(ctx, values, positionals);
  const common = commonOptions(sub, values);
  switch (sub) {
    case 'worker':
      noPositionals(sub, positionals);
      return workerCommand(ctx, common, workerOptions(values));
    case 'status':
      noPositionals(sub, positionals);
      return runAsync(ctx, () => statusCommand(ctx, common));
    case 'produce':
      return runAsync(ctx, produceCommand(ctx, common, produceOptions(values, positionals)));
    case 'template':
      return runAsync(ctx, templateCommand(ctx, common, values, positionals));
    default:
      noPositionals(sub, positionals);
      return runAsync(ctx, outputsCommand(ctx, common, seriesOption(values)));
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Options

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KB: 2 ** 10,
  MB: 2 ** 20,
  GB: 2 ** 30,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
};

/** "256MB", "1GB", "512KB", "1.5GiB" or a byte count → bytes (units are powers of 1024); a UserError naming `flag`. */
export function parseBytes(s: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(s);
  const unit = m === null ? undefined : UNITS[m[2].toUpperCase()];
  const bytes = m === null || unit === undefined ? NaN : Math.floor(Number(m[1]) * unit);
  if (!(bytes >= 1 && bytes <= Number.MAX_SAFE_INTEGER)) {
    const expected = 'a size such as 256MB, 1GB, 512KB or a number of bytes';
    throw new UserError(`${flag}: expected ${expected}, got ${JSON.stringify(s)}`, {
      argument: flag,
      expected,
      actual: JSON.stringify(s),
    });
  }
  return bytes;
}

interface WorkerOptions {
  template: string | undefined;
  batch: number;
  leaseMs: number;
  memoryBudget: number;
  metricsPort: number | undefined;
  metricsHost: string;
  id: string | undefined;
  partitions: number | undefined;
  quiet: boolean;
}

function workerOptions(v: opt.Values): WorkerOptions {
  const leaseMs = opt.int(v, 'lease-ms') ?? 10_000;
  if (leaseMs < 100) throw new UserError(`--lease-ms: expected at least 100 (ms), got ${leaseMs}`);
  const port = opt.int(v, 'metrics-port', 0);
  if (port !== undefined && port > 65535) throw new UserError(`--metrics-port: expected 0 to 65535, got ${port}`);
  const id = opt.str(v, 'id');
  if (id !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(id)) {
    throw new UserError(`--id: expected letters, digits, _ . : or - (1 to 64 of them), got ${JSON.stringify(id)}`);
  }
  const template = opt.str(v, 'template');
  if (template !== undefined) checkName(template, '--template');
  return {
    template,
    batch: opt.int(v, 'batch') ?? 500,
    leaseMs,
    memoryBudget: parseBytes(opt.str(v, 'memory-budget') ?? '256MB', '--memory-budget'),
    metricsPort: port,
    metricsHost: opt.str(v, 'metrics-host') ?? '127.0.0.1',
    id,
    partitions: checkPartitions(opt.int(v, 'partitions')),
    quiet: opt.flag(v, 'quiet'),
  };
}

function checkPartitions(n: number | undefined): number | undefined {
  if (n !== undefined && n > 4096) throw new UserError(`--partitions: expected at most 4096, got ${n}`);
  return n;
}

function checkName(name: string, flag: string): void {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name)) {
    const expected = 'letters, digits, _ . or - (1 to 128 of them)';
    throw new UserError(`${flag}: expected ${expected}, got ${JSON.stringify(name)}`, {
      argument: flag,
      expected,
      actual: JSON.stringify(name),
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Running asynchronously

/** Loads the engine on first use (it loads ioredis itself, with a clear error when it is not installed). */
function engine(): Promise<typeof Engine> {
  return import('../fleet/index.js');
}

/**
 * A connection for a one-shot command (status, outputs, template, produce): unlike a worker's, it gives up when
 * Redis cannot be reached (a few retries, then the pending commands fail), so the command ends with an error
 * naming --redis instead of waiting for ever.
 */
async function oneShot(url: string): Promise<Redis> {
  const { connect } = await import('../fleet/client.js');
  return connect(url, {
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    retryStrategy: (times: number) => (times > 3 ? null : 200 * times),
  });
}

/** Runs `fn` with a one-shot connection to `url`; an unreachable Redis is a UserError naming --redis. */
async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = await oneShot(url);
  let lastError = '';
  r.on('error', (e: Error) => {
    lastError = e.message;
  });
  try {
    return await fn(r);
  } catch (e) {
    const m = (e as Error).message ?? '';
    if (/Connection is closed|max retries|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH/.test(m)) {
      throw new UserError(`--redis: cannot reach ${url} (${lastError || m})`, {
        argument: '--redis',
        expected: 'a reachable Redis server',
        actual: url,
      });
    }
    throw e;
  } finally {
    r.disconnect();
  }
}

/**
 * Runs `body` (a promise, or a function giving one) and sets process.exitCode from its result, or from its error as
 * main() reports errors (lib/cli/main.ts reportError: bptt: message and 1 for a user's mistake, the stack and 2 for a
 * bug; one JSON line under --json). Returns 0 for main(): the command line itself was fine.
 */
function runAsync(ctx: Context, body: Promise<number> | (() => Promise<number>)): number {
  const p = typeof body === 'function' ? body() : body;
  p.then(
    (code) => {
      if (code !== 0) process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = reportAsyncError(ctx, e);
    },
  );
  return 0;
}

function reportAsyncError(ctx: Context, e: unknown): number {
  // A FleetError is about what the fleet was given (a bad name, no fleet at the prefix, a detector it cannot stream,
  // a missing ioredis): the user's to fix, exit 1 like the library's usage errors.
  if (e instanceof FleetError) e = new UserError(e.message, { origin: e });
  const user = toUserError(e);
  if (ctx.json === true) {
    ctx.err(`${JSON.stringify(errorJSON(e))}\n`);
    return user instanceof UserError ? 1 : 2;
  }
  if (user instanceof UserError) {
    ctx.err(`bptt: ${user.message}\n`);
    return 1;
  }
  const err = e as Error;
  ctx.err(`bptt: internal error: ${err?.message ?? String(e)}\n${err?.stack ?? ''}\n`);
  return 2;
}

// ---------------------------------------------------------------------------------------------------------------------
// worker

function workerCommand(ctx: Context, common: Common, o: WorkerOptions): number {
  const log = (line: string): void => {
    if (!o.quiet) ctx.err(`${new Date().toISOString()} bptt fleet worker: ${line}\n`);
  };
  let worker: Engine.FleetWorker | null = null;
  let server: http.Server | null = null;
  let stopping: Promise<void> | null = null;
  const onTerm = (): void => void stop('SIGTERM');
  const onInt = (): void => void stop('SIGINT');
  const stop = (why: string): Promise<void> => {
    stopping ??= (async () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      log(`${why}: finishing the batch, committing and releasing the leases`);
      try {
        await worker?.stop({ graceful: true });
      } finally {
        if (server !== null) {
          const s = server;
          await new Promise<void>((r) => s.close(() => r()));
        }
      }
      log('stopped');
    })().catch((e: unknown) => {
      process.exitCode = reportAsyncError(ctx, e);
    });
    return stopping;
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  return runAsync(ctx, async () => {
    try {
      const { FleetWorker } = await engine();
      const w = new FleetWorker({
        redis: common.redis,
        prefix: common.prefix,
        ...(o.id !== undefined ? { id: o.id } : {}),
        ...(o.template !== undefined ? { defaultTemplate: o.template } : {}),
        ...(o.partitions !== undefined ? { partitions: o.partitions } : {}),
        batchSize: o.batch,
        leaseMs: o.leaseMs,
        memoryBudget: o.memoryBudget,
      });
      worker = w;
      w.on('partition', (e: { partition: number; taken: boolean; token?: number }) =>
        log(e.taken ? `partition ${e.partition} taken (lease token ${e.token})` : `partition ${e.partition} released`),
      );
      w.on('refused', (e: { partition: number; reason: string }) =>
        log(`partition ${e.partition}: commit refused (${e.reason}); continuing from the committed state`),
      );
      w.on('problem', (e: Error) => log(`problem: ${e.message}; retrying`));
      if (o.metricsPort !== undefined) server = await serveMetrics(w, o.metricsHost, o.metricsPort, log);
      log(`worker ${w.id} connecting to ${common.redis} (prefix ${common.prefix})`);
      await w.start();
      log(`worker ${w.id} started (batch ${o.batch}, lease ${o.leaseMs} ms, memory budget ${o.memoryBudget} bytes)`);
      if (stopping !== null) await w.stop({ graceful: true }); // a signal came while it was starting
      return 0;
    } catch (e) {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      server?.close();
      throw e;
    }
  });
}

/** Serves /metrics for `worker` on host:port; resolves when listening (the address is logged). */
function serveMetrics(
  worker: Engine.FleetWorker,
  host: string,
  port: number,
  log: (s: string) => void,
): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (url !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('bptt fleet worker: see /metrics\n');
        return;
      }
      let body: string;
      try {
        body = renderExposition(workerFamilies(worker.stats()));
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE }).end(body);
    });
    server.once('error', (e) =>
      reject(new UserError(`--metrics-port: cannot listen on ${host}:${port} (${e.message})`)),
    );
    server.listen(port, host, () => {
      const a = server.address() as { address: string; port: number };
      log(`serving http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}/metrics`);
      resolve(server);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// status

async function statusCommand(ctx: Context, common: Common): Promise<number> {
  const { fleetStatus } = await engine();
  const s = await withRedis(common.redis, (r) => fleetStatus(r, common.prefix));
  ctx.out(ctx.json === true ? `${JSON.stringify(s)}\n` : statusText(s));
  return 0;
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** `bptt fleet status` as text: the partitions, the workers, then the totals. */
export function statusText(s: Engine.FleetStatus): string {
  const rows: string[] = [];
  const pad = (cells: string[], widths: number[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  rows.push(
    `fleet ${s.prefix}: ${s.partitions} partitions, ${s.series} series, lag ${s.lag}, dead letters ${s.deadLetters}`,
  );
  const pw = [9, 28, 10, 10, 8];
  rows.push('', pad(['partition', 'owner', 'processed', 'lag', 'series'], pw));
  for (const p of s.partitionStatus) {
    rows.push(pad([String(p.partition), p.owner ?? '-', String(p.processed), String(p.lag), String(p.series)], pw));
  }
  const ww = [28, 10, 10, 10, 10, 12];
  rows.push('', `workers: ${s.workers.length}`);
  rows.push(pad(['worker', 'partitions', 'series', 'points/s', 'memory', 'points'], ww));
  for (const w of s.workers) {
    const cells = [w.id, String(w.partitions.length), String(w.residentSeries), w.pointsPerSecond.toFixed(1)];
    rows.push(pad([...cells, mb(w.residentBytes), String(w.points)], ww));
  }
  return `${rows.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------------
// produce

interface ProduceOptions {
  input: string | null;
  synthetic: { series: number; points: number; seed: number } | null;
  partitions: number | undefined;
  template: string | undefined;
}

function produceOptions(v: opt.Values, positionals: string[]): ProduceOptions {
  const template = opt.str(v, 'template');
  if (template !== undefined) checkName(template, '--template');
  const partitions = checkPartitions(opt.int(v, 'partitions'));
  if (opt.flag(v, 'synthetic')) {
    noPositionals('produce', positionals);
    const series = opt.int(v, 'series');
    const points = opt.int(v, 'points');
    if (series === undefined) throw new UserError('fleet produce: --synthetic needs --series N');
    if (points === undefined) throw new UserError('fleet produce: --synthetic needs --points M (points per series)');
    const seedText = opt.str(v, 'seed') ?? '1';
    const seed = Number(seedText);
    if (seedText.trim() === '' || !Number.isInteger(seed)) {
      throw new UserError(`--seed: expected an integer, got ${JSON.stringify(seedText)}`);
    }
    if (series * points > 100_000_000) {
      throw new UserError(`fleet produce: --series × --points is at most 100,000,000, got ${series * points}`);
    }
    return { input: null, synthetic: { series, points, seed }, partitions, template };
  }
  for (const name of ['series', 'points', 'seed']) {
    if (opt.str(v, name) !== undefined) throw new UserError(`--${name}: only with --synthetic`);
  }
  const input = opt.onePositional('fleet produce', positionals, 'CSV file (or - for stdin, or --synthetic)');
  return { input, synthetic: null, partitions, template };
}

/** `produce --synthetic --csv`: the synthetic points as CSV on stdout (series,timestamp,value), time-major. */
function syntheticCsv(ctx: Context, v: opt.Values, positionals: string[]): number {
  if (!opt.flag(v, 'synthetic')) throw new UserError('--csv: only with --synthetic (it prints the generated points)');
  if (opt.str(v, 'redis') !== undefined)
    throw new UserError('--csv: prints the points instead of adding them; drop --redis');
  const o = produceOptions(v, positionals).synthetic as { series: number; points: number; seed: number };
  const s = syntheticFleet(o.series, o.points, o.seed);
  let text = 'series,timestamp,value\n';
  for (let i = 0; i < o.points; i++) {
    const ts = new Date(SYNTHETIC_T0 + i * SYNTHETIC_STEP_MS).toISOString();
    for (let j = 0; j < s.names.length; j++) {
      text += `${s.names[j]},${ts},${s.values[j][i]}\n`;
      if (text.length > 1 << 16) {
        ctx.out(text);
        text = '';
      }
    }
  }
  ctx.out(text);
  return 0;
}

/** A point as the producer adds it. */
interface Point {
  series: string;
  ts: number;
  values: number[];
  template?: string;
}

async function produceCommand(ctx: Context, common: Common, o: ProduceOptions): Promise<number> {
  const { FleetProducer } = await engine();
  const n = await withRedis(common.redis, async (r) => {
    const producer = new FleetProducer({
      redis: r,
      prefix: common.prefix,
      batchSize: 2000,
      ...(o.partitions !== undefined ? { partitions: o.partitions } : {}),
    });
    if (o.synthetic !== null) {
      const s = syntheticFleet(o.synthetic.series, o.synthetic.points, o.synthetic.seed);
      for (let i = 0; i < o.synthetic.points; i++) {
        const ts = SYNTHETIC_T0 + i * SYNTHETIC_STEP_MS;
        for (let j = 0; j < s.names.length; j++) await producer.add(s.names[j], ts, s.values[j][i], o.template);
      }
    } else {
      for await (const p of csvPoints(o.input as string)) await producer.add(p.series, p.ts, p.values, o.template);
    }
    await producer.flush();
    return producer.sent;
  });
  if (!ctx.quiet) ctx.err(`bptt fleet produce: added ${n} points to the fleet ${common.prefix}\n`);
  return 0;
}

/** The points of a CSV file (or stdin for -): series,timestamp,value[,value…], an optional header line. */
export async function* csvPoints(input: string): AsyncGenerator<Point> {
  const file = input === '-' ? '<stdin>' : input;
  let stream: NodeJS.ReadableStream;
  if (input === '-') stream = process.stdin;
  else {
    try {
      fs.accessSync(input, fs.constants.R_OK);
    } catch (e) {
      throw new UserError(
        `fleet produce: cannot read ${input}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    stream = fs.createReadStream(input, { encoding: 'utf8' });
  }
  let rest = '';
  let line = 0;
  let width = -1;
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let i;
    while ((i = rest.indexOf('\n')) >= 0) {
      const text = rest.slice(0, i).replace(/\r$/, '');
      rest = rest.slice(i + 1);
      line++;
      const p = csvPoint(file, line, text, width);
      if (p === 'header' || p === null) continue;
      width = p.values.length;
      yield p;
    }
  }
  if (rest.trim() !== '') {
    const p = csvPoint(file, line + 1, rest.replace(/\r$/, ''), width);
    if (p !== 'header' && p !== null) yield p;
  }
}

const COLUMN_NAMES = ['series', 'timestamp'];

/** One CSV line as a point: null for a blank line, 'header' for the first line when its timestamp is no time. */
export function csvPoint(file: string, line: number, text: string, width: number): Point | 'header' | null {
  if (text.trim() === '') return null;
  const cells = text.split(',').map((c) => c.trim());
  if (cells.length < 3) {
    throw CsvError.at(
      file,
      line,
      undefined,
      undefined,
      `expected series,timestamp,value[,value…], got ${cells.length} column(s)`,
    );
  }
  const ts = NUMBER.test(cells[1]) ? Number(cells[1]) : parseDate(cells[1]);
  if (Number.isNaN(ts)) {
    if (line === 1) return 'header';
    throw CsvError.at(
      file,
      line,
      2,
      COLUMN_NAMES[1],
      `${JSON.stringify(cells[1])} is not a timestamp (epoch ms or ISO 8601)`,
    );
  }
  if (cells[0] === '' || /[\s"]/.test(cells[0])) {
    throw CsvError.at(
      file,
      line,
      1,
      COLUMN_NAMES[0],
      `expected a series name without spaces or quotes, got ${JSON.stringify(cells[0])}`,
    );
  }
  const values: number[] = [];
  for (let c = 2; c < cells.length; c++) {
    const v = NUMBER.test(cells[c]) ? Number(cells[c]) : NaN;
    if (!Number.isFinite(v)) {
      throw CsvError.at(file, line, c + 1, `value ${c - 1}`, `${JSON.stringify(cells[c])} is not a finite number`);
    }
    values.push(v);
  }
  if (width >= 0 && values.length !== width) {
    throw CsvError.at(
      file,
      line,
      undefined,
      undefined,
      `expected ${width} value(s) as on the lines before, got ${values.length}`,
    );
  }
  return { series: cells[0], ts, values };
}

// ---------------------------------------------------------------------------------------------------------------------
// template put, outputs

function templateCommand(ctx: Context, common: Common, v: opt.Values, positionals: string[]): Promise<number> {
  const [verb, name, ...extra] = positionals;
  if (verb !== 'put') {
    throw new UserError(`fleet template: expected put NAME --model detector.json, got ${JSON.stringify(verb ?? '')}`, {
      argument: 'verb',
      expected: 'put',
      actual: verb ?? '',
    });
  }
  if (name === undefined) throw new UserError('fleet template put: missing the template NAME');
  if (extra.length > 0) throw new UserError(`fleet template put: unexpected argument ${JSON.stringify(extra[0])}`);
  checkName(name, 'NAME');
  const model = opt.str(v, 'model');
  if (model === undefined) throw new UserError('fleet template put: --model detector.json is required');
  return (async () => {
    const { Detector } = await import('../detect/detector.js');
    const { putTemplate } = await engine();
    const detector = userCall(`--model ${model}: `, () => Detector.load(model));
    const version = await withRedis(common.redis, (r) => putTemplate(r, common.prefix, name, detector));
    if (!ctx.quiet)
      ctx.err(`bptt fleet template: stored ${model} as template ${name} version ${version} (${common.prefix})\n`);
    return 0;
  })();
}

function seriesOption(v: opt.Values): string {
  const series = opt.str(v, 'series');
  if (series === undefined) throw new UserError('fleet outputs: --series S is required');
  return series;
}

async function outputsCommand(ctx: Context, common: Common, series: string): Promise<number> {
  const { readOutputs } = await engine();
  const rows = await withRedis(common.redis, (r) => readOutputs(r, common.prefix, { series }));
  rows.sort((a, b) => a.index - b.index);
  const parts = ['series,timestamp,index,score,flag,threshold,event\n'];
  for (const o of rows) {
    const score = o.warmup ? '' : String(o.score);
    const threshold = o.warmup ? '' : String(o.threshold);
    parts.push(`${csvCell(o.series)},${o.ts},${o.index},${score},${o.flag},${threshold},${o.event}\n`);
  }
  ctx.out(parts.join(''));
  return 0;
}

/** A CSV cell: quoted when it holds a comma, a quote or a line break. */
function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * `bptt fleet train` and `bptt fleet trainer`: the fleet's BullMQ training jobs (lib/fleet/training.ts) from the
 * command line. `bptt fleet` (lib/cli/fleet.ts) dispatches both here: fleetTrainCommand(ctx, 'train' | 'trainer', argv)
 * returns a promise of the exit code (0 ok, 1 the user's mistake), and its errors are reported as main() reports them.
 *
 *   train     checks the options (a mistake: exit 1 before anything connects), queues one job (or, with --every, a
 *             scheduler of refits) and prints its id; --wait follows its progress (one line per epoch on stderr)
 *             and prints the result
 *   trainer   runs a TrainingWorker until SIGTERM or SIGINT: the fits under way go back to the queue for another
 *             trainer, then it exits 0. One log line per job started, done or failed.
 */
import { UserError, userCall } from './errors.js';
import { say, type Context } from './context.js';
import * as opt from './options.js';
import { commonOptions, noPositionals, type Common } from './fleet-options.js';
import { readTable } from './csv.js';
import { parseDuration } from '../watch/time.js';
import { pickModel } from '../detect/options.js';
import type { DetectorOptions } from '../detect/types.js';
import type { AbortSignalLike } from '../model/fit-loop.js';
import type * as Training from '../fleet/training.js';

export const TRAIN_HELP = `Usage: bptt fleet train --redis URL --series S [--points N | --csv FILE] [options]

Queues a BullMQ job that fits series S's detector and stores it in Redis with a new version ({prefix}:detector:S);
the scoring worker that owns S switches to it between two points. Run trainers (bptt fleet trainer) to do the work.
The same request (series, options, history) is queued once: asking again prints the existing job.

History
  --points N             the last N points of S on its input stream (the default, N = 10000)
  --csv FILE             the values of a CSV file instead (columns as for bptt detect: --columns, --time-column)
  --every DURATION       refit every DURATION (15m, 1h, 1d) on the last --points points instead of once (a BullMQ job
                         scheduler, one per series: running it again replaces it); --every off stops the refits

Options
  --redis URL            the Redis server (required)
  --prefix P             the fleet's key prefix (default bptt)
  --model, --window, --hidden, --epochs, --threshold, --seed, --min-gap, --workers   detector options as for
                         bptt detect (--workers: threads per fit, default 1; auto is refused, see the README)
  --attempts N           tries of a job that fails for a passing reason (Redis down, a trainer killed; default 3)
  --wait                 wait for the job, printing each epoch on stderr, then its result on stdout
  --json                 the result (and errors) as JSON
  -q, --quiet            no progress
  -h, --help

Example
  bptt fleet train --redis redis://127.0.0.1:6379 --series cpu:host-1 --model lstm-ae --window 32 --points 5000 --wait`;

export const TRAINER_HELP = `Usage: bptt fleet trainer --redis URL [--concurrency N] [--prefix P]

Runs a training-job worker until SIGTERM or SIGINT: takes jobs from the fleet's training queue ({prefix}-train),
fits each series' detector (progress per epoch on the job), and stores it with a new version. A job that cannot fit
(bad options, too short a history, a diverging training) fails at once with the reason; a trainer that dies leaves
its job to another after its lock expires (--lock-ms). SIGTERM/SIGINT put the fits under way back in the queue.

Options
  --redis URL            the Redis server (required)
  --prefix P             the fleet's key prefix (default bptt)
  --concurrency N        jobs at once (default 1; they share one thread: run a trainer per core instead)
  --lock-ms N            job lock in ms: how long a dead trainer's job waits for another (default 30000)
  -q, --quiet            no log lines but errors
  -h, --help`;

const BASE: opt.OptionSpec = {
  ...opt.COMMON,
  json: { type: 'boolean' },
  redis: { type: 'string' },
  prefix: { type: 'string' },
};

const TRAIN_SPEC: opt.OptionSpec = {
  ...BASE,
  ...opt.DETECTOR,
  ...opt.READ,
  series: { type: 'string' },
  points: { type: 'string' },
  csv: { type: 'string' },
  every: { type: 'string' },
  attempts: { type: 'string' },
  wait: { type: 'boolean' },
};

const TRAINER_SPEC: opt.OptionSpec = {
  ...BASE,
  concurrency: { type: 'string' },
  'lock-ms': { type: 'string' },
};

/** Loaded on first use: the CLI works without the optional bullmq and ioredis until a fleet command needs them. */
async function training(): Promise<typeof Training> {
  try {
    return await import('../fleet/training.js');
  } catch (e) {
    throw new UserError(
      `fleet: training jobs need the optional packages bullmq and ioredis (${(e as Error).message.split('\n')[0]}): ` +
        'npm install bullmq ioredis',
    );
  }
}

/**
 * `bptt fleet train …` and `bptt fleet trainer …` (argv: the arguments after the subcommand).
 *
 * @param ctx - Where output goes.
 * @param sub - 'train' or 'trainer'.
 * @param argv - The arguments after the subcommand.
 * @param stop - trainer only: stops it like SIGTERM does (for callers other than the command line); by default the
 *   trainer stops on SIGTERM or SIGINT.
 * @returns A promise of the exit code.
 */
export async function fleetTrainCommand(
  ctx: Context,
  sub: 'train' | 'trainer',
  argv: string[],
  stop?: AbortSignalLike & { addEventListener?: (type: 'abort', fn: () => void) => void },
): Promise<number> {
  if (sub === 'train') {
    const { values, positionals } = opt.parse('fleet train', argv, TRAIN_SPEC);
    if (opt.flag(values, 'help')) {
      ctx.out(`${TRAIN_HELP}\n`);
      return 0;
    }
    noPositionals(sub, positionals);
    return trainCommand(ctx, commonOptions(sub, values), values);
  }
  const { values, positionals } = opt.parse('fleet trainer', argv, TRAINER_SPEC);
  if (opt.flag(values, 'help')) {
    ctx.out(`${TRAINER_HELP}\n`);
    return 0;
  }
  noPositionals(sub, positionals);
  return trainerCommand(ctx, commonOptions(sub, values), values, stop);
}

// ---------------------------------------------------------------------------------------------------------------------
// train

async function trainCommand(ctx: Context, c: Common, v: opt.Values): Promise<number> {
  const series = opt.str(v, 'series');
  if (series === undefined || series === '') {
    throw new UserError('fleet train: --series S is required (see bptt fleet train --help)');
  }
  const options: DetectorOptions = opt.detectorOptions(v);
  const csv = opt.str(v, 'csv');
  const points = opt.int(v, 'points');
  const every = opt.str(v, 'every');
  const attempts = opt.int(v, 'attempts') ?? 3;
  const wait = opt.flag(v, 'wait');
  const json = ctx.json === true;
  if (csv !== undefined && points !== undefined) {
    throw new UserError('fleet train: --csv and --points are two sources of history; give one');
  }
  if (csv === undefined) {
    for (const name of ['columns', 'time-column', 'delimiter']) {
      if (opt.str(v, name) !== undefined) throw new UserError(`--${name}: only with --csv`);
    }
  }
  const T = await training();
  if (every !== undefined) {
    if (csv !== undefined) throw new UserError('--every: refits read the stream (--points); --csv is a one-off fit');
    if (wait) throw new UserError('--every: --wait follows one job; a schedule has no end to wait for');
    if (every === 'off') {
      const had = await T.cancelRefit(c.redis, c.prefix, series);
      print(
        ctx,
        json,
        { series, schedule: had ? 'removed' : 'none' },
        had ? `refits of ${series} stopped` : `no refits of ${series} were scheduled`,
      );
      return 0;
    }
    const ms = userCall('', () => parseDuration(every, '--every'));
    const id = await userCall('', () =>
      T.scheduleRefit(c.redis, c.prefix, series, {
        every: ms,
        options,
        ...(points !== undefined ? { points } : {}),
        attempts,
      }),
    );
    print(ctx, json, { series, scheduler: id, every: ms }, `refit of ${series} every ${every}: scheduler ${id}`);
    return 0;
  }
  const request: Training.FitRequest =
    csv !== undefined
      ? { series, options, history: csvHistory(csv, v, options) }
      : { series, options, from: 'stream', ...(points !== undefined ? { points } : {}) };
  if (!wait) {
    const q = await userCall('', () => T.enqueueFit(c.redis, c.prefix, request, { attempts }));
    print(ctx, json, { ...q }, q.added ? `queued ${q.jobId}` : `already queued: ${q.jobId} (${q.state})`);
    return 0;
  }
  const watcher = await T.FitWatcher.open(c.redis, c.prefix); // before the job exists: every epoch is seen
  let result: Training.FitResult;
  let q: Training.Enqueued;
  try {
    q = await userCall('', () => T.enqueueFit(c.redis, c.prefix, request, { attempts }));
    if (!json) say(ctx, q.added ? `queued ${q.jobId}` : `already queued: ${q.jobId} (${q.state})`);
    const id = q.jobId;
    result = await watcher.wait(id, (p) => {
      if (ctx.quiet) return;
      const val = p.valLoss !== undefined ? `, val ${p.valLoss.toPrecision(4)}` : '';
      ctx.err(
        json
          ? `${JSON.stringify({ progress: p })}\n`
          : `${id}: epoch ${p.epoch}/${p.epochs} loss ${p.loss.toPrecision(4)}${val}\n`,
      );
    });
  } catch (e) {
    if (e instanceof T.TrainingJobError) throw new UserError(`fleet train: ${e.message}`, { origin: e });
    throw e;
  } finally {
    await watcher.close();
  }
  const loss = result.loss !== null ? `, loss ${result.loss.toPrecision(4)}` : '';
  const text = result.stored
    ? `${series}: version ${result.version} stored ` +
      `(${result.model}, ${result.points} points, ${result.epochs} epochs${loss})`
    : `${series}: version ${result.version} kept (the fit gave the same detector)`;
  print(ctx, json, { jobId: q.jobId, ...result }, text);
  return 0;
}

/** stdout: one JSON line under --json, else the sentence. */
function print(ctx: Context, json: boolean, doc: object, text: string): void {
  ctx.out(json ? `${JSON.stringify(doc)}\n` : `${text}\n`);
}

/** A CSV's values as a job's history (missing cells null; 'gru-online' also gets the times when they are dates). */
function csvHistory(file: string, v: opt.Values, options: DetectorOptions): Training.FitHistory {
  const time = opt.str(v, 'time-column');
  const columns = opt.list(v, 'columns');
  const delimiter = opt.str(v, 'delimiter');
  const table = readTable(file, {
    ...(time !== undefined ? { timeColumn: time } : {}),
    ...(columns !== undefined ? { columns } : {}),
    ...(delimiter !== undefined ? { delimiter } : {}),
  });
  const F = table.columns.length;
  const cell = (i: number, f: number): number | null => {
    const x = table.values[i * F + f];
    return Number.isNaN(x) ? null : x;
  };
  const values =
    F === 1
      ? Array.from({ length: table.n }, (_, i) => cell(i, 0))
      : Array.from({ length: table.n }, (_, i) => Array.from({ length: F }, (_, f) => cell(i, f)));
  const model = pickModel(options, F, table.n);
  const ms = model === 'gru-online' && table.timeKind === 'date' ? table.timeValues : null;
  return ms !== null ? { values, timestamps: Array.from(ms) } : { values };
}

// ---------------------------------------------------------------------------------------------------------------------
// trainer

async function trainerCommand(
  ctx: Context,
  c: Common,
  v: opt.Values,
  stop?: AbortSignalLike & { addEventListener?: (type: 'abort', fn: () => void) => void },
): Promise<number> {
  const concurrency = opt.int(v, 'concurrency') ?? 1;
  if (concurrency > 1000) throw new UserError(`--concurrency: expected at most 1000, got ${concurrency}`);
  const lockMs = opt.int(v, 'lock-ms');
  const log = (line: string): void => {
    if (!ctx.quiet) ctx.err(`${new Date().toISOString()} bptt fleet trainer: ${line}\n`);
  };
  const T = await training();
  const w = await T.TrainingWorker.start(c.redis, {
    prefix: c.prefix,
    concurrency,
    ...(lockMs !== undefined ? { lockDuration: lockMs } : {}),
  });
  w.worker.on('active', (job) => log(`${job.id}: fitting ${job.data.series}`));
  w.worker.on('completed', (job, r) =>
    log(
      r.stored
        ? `${job.id}: ${r.series} version ${r.version} stored (${r.model}, ${r.points} points, ${r.epochs} epochs)`
        : `${job.id}: ${r.series} version ${r.version} kept (same detector)`,
    ),
  );
  w.worker.on('failed', (job, e) => {
    if (job === undefined) return;
    const left = (job.opts.attempts ?? 1) - job.attemptsMade;
    const unrecoverable = e.name === 'UnrecoverableError';
    log(`${job.id}: failed: ${e.message}${unrecoverable || left <= 0 ? '' : ` (will retry: ${left} attempts left)`}`);
  });
  let onTerm = (): void => undefined;
  let onInt = (): void => undefined;
  const stopped = new Promise<string>((resolve) => {
    if (stop !== undefined) {
      if (stop.aborted) resolve('stop');
      stop.addEventListener?.('abort', () => resolve('stop'));
      return;
    }
    onTerm = () => resolve('SIGTERM');
    onInt = () => resolve('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
  });
  try {
    log(`trainer started on ${c.redis} (queue ${T.trainQueueName(c.prefix)}, concurrency ${concurrency})`);
    const why = await stopped;
    log(`${why}: putting the fits under way back in the queue and stopping`);
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    await w.close();
  }
  log('stopped');
  return 0;
}

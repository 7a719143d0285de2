/**
 * `bptt watch`: watch Prometheus series and serve their anomaly scores on /metrics (lib/watch/watcher.ts).
 *
 * The command checks its options at once (a mistake: exit 1 before anything starts), then runs until SIGTERM or
 * SIGINT, which save every series' state (--state) and stop. Log lines go to stderr, each stamped with the time.
 * A Prometheus that is down or slow is retried with a growing delay, logged, never fatal; a query it refuses as
 * invalid at start-up ends the command with exit 1.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { UserError, userCall, toUserError } from './errors.js';
import type { Context } from './context.js';
import * as opt from './options.js';
import { Detector } from '../detect/detector.js';
import { Watcher, type WatchConfig } from '../watch/watcher.js';
import { parseDuration, parseWindow } from '../watch/time.js';
import { PrometheusError, PROMETHEUS_MAX_POINTS } from '../watch/prometheus.js';

export const WATCH_HELP = `Usage: bptt watch --prometheus URL --query PROMQL [options]

Backfills each query's history from Prometheus (query_range, in chunks under its 11,000-points limit), fits one
detector per resulting series (identified by its labels and query), then polls every step and scores each new point
causally. Serves bptt_anomaly_score, _flag, _threshold, _severity (in [0, 1]) with the series' labels on /metrics.

Options
  --prometheus URL       the Prometheus server (http://host:9090)
  --query PROMQL         a query; repeat for several (each series of each result gets its own detector)
  --step DURATION        evaluation step (default 15s): one point per series per step
  --history DURATION     history to backfill and fit on (default 7d)
  --state DIR            keep each series' detector and stream state in DIR (one file per series, written
                         atomically every --save-every points and at SIGTERM/SIGINT); a restart continues from it and
                         backfills only the steps since
  --listen HOST:PORT     where /metrics is served (default 127.0.0.1:9464)
  --exclude START/END    leave a known outage out of training (ISO 8601 times with a zone, e.g.
                         2026-11-01T10:00Z/2026-11-01T14:00Z); repeat for several
  --save-every N         points per series between state saves (default 100)
  --delay DURATION       poll this long after each step, so its scrape has arrived (default 5s)
  --timeout DURATION     per request to Prometheus (default 10s)
  --max-points N         steps per query_range request (default and most 11000)
  --model, --window, --hidden, --threshold, --seed, ...   detector options as for bptt detect (default model
                         gru-online: it keeps learning on line)
  -q, --quiet            fewer log lines
  -h, --help

Example
  bptt watch --prometheus http://127.0.0.1:9090 --query 'rate(node_cpu_seconds_total{mode="user"}[1m])' \\
    --step 15s --history 7d --state /var/lib/bptt --exclude 2026-11-01T10:00Z/2026-11-01T14:00Z`;

const SPEC = {
  ...opt.COMMON,
  ...opt.DETECTOR,
  prometheus: { type: 'string' },
  query: { type: 'string', multiple: true },
  step: { type: 'string' },
  history: { type: 'string' },
  state: { type: 'string' },
  listen: { type: 'string' },
  exclude: { type: 'string', multiple: true },
  'save-every': { type: 'string' },
  delay: { type: 'string' },
  timeout: { type: 'string' },
  'max-points': { type: 'string' },
} as const;

/** The checked configuration of a `bptt watch` command line (no I/O but the --state directory's creation). */
export function watchConfig(argv: string[], log: (line: string) => void): WatchConfig | null {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: argv, options: SPEC, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new UserError(`watch: ${(e as Error).message.replace(/\.$/, '')} (see bptt watch --help)`);
  }
  if (values['help'] === true) return null;
  const v = values as opt.Values;
  const one = (name: string): string | undefined => opt.str(v, name);
  const url = one('prometheus');
  if (url === undefined) throw new UserError('watch: --prometheus URL is required (see bptt watch --help)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(
      `--prometheus: expected an http(s) URL such as http://127.0.0.1:9090, got ${JSON.stringify(url)}`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UserError(`--prometheus: expected an http(s) URL, got ${JSON.stringify(url)}`);
  }
  const queries = (values['query'] as string[] | undefined) ?? [];
  if (queries.length === 0)
    throw new UserError('watch: at least one --query PROMQL is required (see bptt watch --help)');
  queries.forEach((q, i) => {
    if (q.trim() === '') throw new UserError(`--query (number ${i + 1}): empty`);
  });
  if (new Set(queries).size !== queries.length) throw new UserError('--query: the same query is given twice');
  const dur = (name: string, fallback: string): number =>
    userCall('', () => parseDuration(one(name) ?? fallback, `--${name}`));
  const stepMs = dur('step', '15s');
  const historyMs = dur('history', '7d');
  const delayMs = dur('delay', '5s');
  const timeoutMs = dur('timeout', '10s');
  if (delayMs >= stepMs * 100) throw new UserError(`--delay: ${one('delay')} is far longer than the step`);
  const listen = one('listen') ?? '127.0.0.1:9464';
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new UserError(`--listen: expected HOST:PORT such as 127.0.0.1:9464, got ${JSON.stringify(listen)}`);
  }
  const exclude = ((values['exclude'] as string[] | undefined) ?? []).map((w, i) =>
    userCall('', () => parseWindow(w, `--exclude (number ${i + 1})`)),
  );
  const saveEvery = opt.int(v, 'save-every') ?? 100;
  const maxPoints = opt.int(v, 'max-points') ?? PROMETHEUS_MAX_POINTS;
  if (maxPoints > PROMETHEUS_MAX_POINTS) {
    throw new UserError(`--max-points: at most ${PROMETHEUS_MAX_POINTS} (the server's limit), got ${maxPoints}`);
  }
  if (v['offline'] === true) {
    throw new UserError(
      '--offline: bptt watch scores each point as it arrives (causally); --offline is for recordings',
    );
  }
  const detector = opt.detectorOptions(v);
  if (detector.model === undefined) detector.model = 'gru-online';
  userCall('', () => new Detector(detector));
  const stateDir = one('state') ?? null;
  if (stateDir !== null) {
    try {
      fs.mkdirSync(stateDir, { recursive: true });
      fs.accessSync(stateDir, fs.constants.W_OK);
    } catch (e) {
      throw new UserError(
        `--state: cannot use ${stateDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
  return {
    prometheus: url,
    queries,
    stepMs,
    historyMs,
    stateDir,
    listen: { host: m[1].replace(/^\[|\]$/g, ''), port },
    exclude,
    detector,
    saveEvery,
    delayMs,
    timeoutMs,
    maxPoints,
    log,
    quiet: values['quiet'] === true,
  };
}

export function watchCommand(ctx: Context, argv: string[]): number {
  const log = (line: string): void => ctx.err(`${new Date().toISOString()} bptt watch: ${line}\n`);
  const config = watchConfig(argv, log);
  if (config === null) {
    ctx.out(`${WATCH_HELP}\n`);
    return 0;
  }
  const w = new Watcher(config);
  const onSignal = (sig: string): void => {
    log(`${sig}: saving state and stopping`);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    void w.stop().then(() => log('stopped'));
  };
  const onTerm = (): void => onSignal('SIGTERM');
  const onInt = (): void => onSignal('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  w.start().catch((e: unknown) => {
    const user = e instanceof PrometheusError ? new UserError(e.message) : toUserError(e);
    if (user instanceof UserError) {
      ctx.err(`bptt: watch: ${user.message}\n`);
      process.exitCode = 1;
    } else {
      ctx.err(`bptt: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 2;
    }
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    void w.stop();
  });
  return 0;
}

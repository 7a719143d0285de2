/**
 * `bptt watch`: Prometheus in, anomaly series out.
 *
 *   const w = new Watcher({ prometheus: 'http://127.0.0.1:9090', queries: ['rate(x[1m])'], stepMs: 15_000, … });
 *   await w.start();   // listens, loads --state, backfills, fits, then polls every step
 *   await w.stop();    // saves every series' state, closes the server
 *
 * Steps. Everything happens on the grid of multiples of the step (epoch ms), so that a backfilled point and a polled
 * one are the same evaluation. Start: for each query, query_range over [now − history, now] (in chunks under the
 * server's 11,000 points per series), or, for series restored from --state, only over the steps after the newest one
 * they handled. Each label set in the answer is one series with its own detector: restored ones continue their stream
 * over the gap (scoring it); new ones are fitted on their history (exclusion windows masked, see controls.ts). A series
 * that appears later collects points until it has enough to fit.
 *
 * Polling. Every step, at grid time g + delay (the delay lets the scrape of g arrive), one query_range per query over
 * the steps since the last one handled, up to g. Not an instant query: query_range gives exactly one evaluation per
 * step, at the grid times, with the same lookback and staleness rules as the backfill, and a poll that was late or
 * failed (Prometheus down, slow) is caught up by the next one, step by step, instead of being lost or doubled.
 * A step without a value (no sample within the lookback delta, or after a staleness marker: the scrape failed or the
 * series went away; or a NaN/±Inf value) is a missing value: it is not scored, not pushed to the detector (the stream
 * continues with the next present value: interpolating would need the next value, i.e. lag; carrying the last value
 * forward would teach the model that outages look flat), and the series' score is not exposed until a value returns.
 * Counter resets: rate(), irate() and increase() handle them on the server, as Prometheus defines them; bptt scores
 * what the query returns, so a raw counter (a bare `*_total` selector) is scored as a growing line: the start-up log
 * warns and suggests rate().
 *
 * Scoring is causal, one point at a time through detector.stream() (which honours feedback). Severity in [0, 1]: for
 * 'gru-online' its calibrated score; for the models trained once the fraction of the training scores at or below the
 * score (the empirical distribution of normal behaviour). State (--state DIR, state.ts) is written atomically every
 * `saveEvery` points per series and at stop(); a `bptt feedback` that changed a state file is read back at the next
 * poll (and before the file is written again), so the running watcher applies it and does not overwrite it.
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { Detector, type FeedbackStreamResult } from '../detect/detector.js';
import type { DetectorStream } from '../detect/stream.js';
import type { DetectorOptions } from '../detect/types.js';
import { PrometheusClient, PROMETHEUS_MAX_POINTS, type RangeSeries } from './prometheus.js';
import { exposedLabels, formatSelector, seriesId, type LabelSet } from './labels.js';
import { renderExposition, EXPOSITION_CONTENT_TYPE, type MetricFamily } from './exposition.js';
import { listStateFiles, readState, statePath, writeState, MAX_ALARMS, type Alarm } from './state.js';

export interface WatchConfig {
  prometheus: string;
  queries: string[];
  stepMs: number;
  historyMs: number;
  /** Directory of the per-series state files; null: nothing is saved. */
  stateDir: string | null;
  listen: { host: string; port: number };
  /** Exclusion windows [start, end) in epoch ms for training. */
  exclude: Array<[number, number]>;
  detector: DetectorOptions;
  /** Save a series' state after this many scored points. */
  saveEvery: number;
  /** Poll this long after each grid time. */
  delayMs: number;
  timeoutMs: number;
  /** Points per query_range request (≤ 11,000). */
  maxPoints?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Retries of a poll's request before waiting for the next step. Default 2. */
  pollRetries?: number;
  log: (line: string) => void;
  /** Log only warnings, errors, alarms and retries. */
  quiet?: boolean;
  now?: () => number;
}

interface Last {
  at: number;
  score: number;
  flag: 0 | 1;
  threshold: number;
  severity: number;
}

interface Tracked {
  id: string;
  query: string;
  labels: LabelSet;
  exposed: LabelSet;
  detector: Detector | null;
  stream: DetectorStream | null;
  needsTime: boolean;
  /** Before the fit: the steps collected so far. */
  pending: { t: number[]; v: number[] };
  /** Present points needed before a fit is tried (again). */
  fitAfter: number;
  lastTimestamp: number;
  lastFit: number;
  pointsScored: number;
  recent: number[];
  keepRecent: number;
  alarms: Alarm[];
  alarmsTotal: number;
  /** Points that would have flagged but for feedback. */
  silencedTotal: number;
  last: Last | null;
  missingNow: boolean;
  sinceSave: number;
  writtenMtime: number;
  sortedCalibration: Float64Array | null;
}

const RAW_COUNTER = /_(total|count|sum|bucket)$/;

export class Watcher {
  private readonly c: WatchConfig;
  /** Start-up backfill: retries until Prometheus answers. */
  private readonly client: PrometheusClient;
  /** Polls: a few retries, then the next step's poll catches up. */
  private readonly poller: PrometheusClient;
  private readonly series = new Map<string, Tracked>();
  /** Per query: the newest grid time handled. */
  private readonly done = new Map<string, number>();
  private server: http.Server | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private ticking: Promise<void> | null = null;
  private readonly now: () => number;
  private pollFailing = false;
  readonly counters = { scored: 0, missing: 0, errors: 0, backfillPoints: 0, lastPoll: 0, fits: 0 };

  constructor(config: WatchConfig) {
    this.c = config;
    this.now = config.now ?? Date.now;
    this.client = new PrometheusClient(config.prometheus, {
      timeoutMs: config.timeoutMs,
      retries: Infinity,
      backoffInitialMs: config.backoffInitialMs ?? 1000,
      backoffMaxMs: config.backoffMaxMs ?? 30_000,
      log: (l) => this.log(l),
      onError: () => {
        this.counters.errors++;
      },
    });
    this.poller = new PrometheusClient(config.prometheus, {
      timeoutMs: config.timeoutMs,
      retries: config.pollRetries ?? 2,
      backoffInitialMs: config.backoffInitialMs ?? 1000,
      backoffMaxMs: config.backoffMaxMs ?? 30_000,
      log: (l) => this.log(l),
      onError: () => {
        this.counters.errors++;
      },
    });
  }

  /** Warnings, errors, alarms, retries: always logged. */
  private log(line: string): void {
    this.c.log(line);
  }

  /** Progress (backfill, fits, restores, saves): not with `quiet`. */
  private info(line: string): void {
    if (this.c.quiet !== true) this.c.log(line);
  }

  /** The address /metrics listens on (after start). */
  get address(): { host: string; port: number } | null {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : null;
  }

  /** Listens, restores, backfills and fits, then polls every step until stop(). */
  async start(): Promise<void> {
    await this.listen();
    this.restore();
    const end = this.gridNow();
    for (const q of this.c.queries) {
      if (this.stopping) return;
      await this.backfill(q, end);
    }
    if (this.stopping) return;
    this.schedule();
  }

  /** Stops polling, saves every series' state, closes the server. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.client.close();
    this.poller.close();
    if (this.timer) clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
    if (this.c.stateDir !== null) {
      let n = 0;
      for (const s of this.series.values()) if (this.save(s)) n++;
      this.info(`saved the state of ${n} series to ${this.c.stateDir}`);
    }
    const server = this.server;
    if (server !== null) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // a scraper's keep-alive connection would hold close() for seconds
      await closed;
    }
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = http.createServer((req, res) => {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { allow: 'GET, HEAD' }).end();
          return;
        }
        const url = (req.url ?? '/').split('?')[0];
        if (url !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('bptt watch: see /metrics\n');
          return;
        }
        let body: string;
        try {
          body = this.exposition();
        } catch (e) {
          this.counters.errors++;
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`);
          return;
        }
        res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
      server.once('error', reject);
      server.listen(this.c.listen.port, this.c.listen.host, () => {
        server.off('error', reject);
        server.on('error', (e) => this.log(`metrics server error: ${e.message}`));
        this.server = server;
        const a = this.address as { host: string; port: number };
        this.log(`serving http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}/metrics`);
        resolve();
      });
    });
  }

  /** The newest grid time whose scrape has had `delay` to arrive. */
  private gridNow(): number {
    return Math.floor((this.now() - this.c.delayMs) / this.c.stepMs) * this.c.stepMs;
  }

  private restore(): void {
    const dir = this.c.stateDir;
    if (dir === null) return;
    fs.mkdirSync(dir, { recursive: true });
    let n = 0;
    for (const file of listStateFiles(dir)) {
      const st = readState(file);
      if (!this.c.queries.includes(st.query)) continue;
      if (st.stepMs !== this.c.stepMs) {
        this.log(`${file}: saved with step ${st.stepMs / 1000} s, not ${this.c.stepMs / 1000} s; fitting it afresh`);
        continue;
      }
      const s = this.track(st.query, st.labels);
      this.attach(s, st.detector);
      s.lastTimestamp = st.lastTimestamp;
      s.lastFit = st.lastFit;
      s.pointsScored = st.pointsScored;
      s.alarms = st.alarms;
      s.writtenMtime = fs.statSync(file).mtimeMs;
      // Models trained once refill their window from the saved values ('gru-online' continues its saved state).
      const recent = s.keepRecent > 0 ? st.recent.slice(-s.keepRecent) : [];
      for (const v of recent) this.push(s, v, st.lastTimestamp);
      s.recent = recent;
      const want = this.c.detector.model;
      if (want !== undefined && want !== 'auto' && want !== st.detector.options.model) {
        this.log(
          `${file}: keeps its saved model '${st.detector.options.model}' (the options ask for '${want}'); ` +
            'delete the file to fit the series afresh',
        );
      }
      n++;
    }
    if (n > 0) this.info(`restored ${n} series from ${dir}`);
  }

  private track(query: string, labels: LabelSet): Tracked {
    const id = seriesId(query, labels);
    const have = this.series.get(id);
    if (have) return have;
    const probe = new Detector(this.c.detector);
    const s: Tracked = {
      id,
      query,
      labels,
      exposed: exposedLabels(query, labels),
      detector: null,
      stream: null,
      needsTime: false,
      pending: { t: [], v: [] },
      fitAfter: probe.minTrainLength,
      lastTimestamp: -Infinity,
      lastFit: 0,
      pointsScored: 0,
      recent: [],
      keepRecent: 0,
      alarms: [],
      alarmsTotal: 0,
      silencedTotal: 0,
      last: null,
      missingNow: false,
      sinceSave: 0,
      writtenMtime: NaN,
      sortedCalibration: null,
    };
    this.series.set(id, s);
    return s;
  }

  private attach(s: Tracked, d: Detector): void {
    s.detector = d;
    s.stream = d.stream();
    const o = d.options;
    s.needsTime = o.model === 'gru-online' && o.timeFeatures !== false;
    s.keepRecent = o.model === 'gru-online' ? 0 : d.minLength - 1;
    s.sortedCalibration = o.model === 'gru-online' ? null : Float64Array.from(d.calibration as Float64Array).sort();
  }

  private async backfill(q: string, end: number): Promise<void> {
    const step = this.c.stepMs;
    const historyStart = end - Math.floor(this.c.historyMs / step) * step;
    const mine = [...this.series.values()].filter((s) => s.query === q && s.detector !== null);
    let from = historyStart;
    if (mine.length > 0) from = Math.max(from, Math.min(...mine.map((s) => s.lastTimestamp)) + step);
    this.done.set(q, from - step);
    const steps = from > end ? 0 : Math.round((end - from) / step) + 1;
    if (mine.length > 0) {
      this.info(
        `resuming ${mine.length} series of ${JSON.stringify(q)} from their saved state (newest step ` +
          `${iso(from - step)}): backfilling only the ${steps} steps since`,
      );
    } else this.info(`backfill ${JSON.stringify(q)}: ${iso(from)} … ${iso(end)}, ${steps} steps`);
    if (from > end) return;
    const result = await this.fetch(q, from, end);
    if (result === null) return;
    this.counters.backfillPoints += countPoints(result);
    if (mine.length > 0 && from > historyStart) {
      // Series the saved state does not know get their whole history to fit on.
      const unknown = new Set(result.map((r) => seriesId(q, r.labels)).filter((id) => !this.series.has(id)));
      if (unknown.size > 0) {
        const older = await this.fetch(q, historyStart, from - step);
        if (older === null) return;
        this.counters.backfillPoints += countPoints(older);
        this.ingest(
          q,
          historyStart,
          from - step,
          older.filter((r) => unknown.has(seriesId(q, r.labels))),
        );
      }
    }
    for (const r of result) {
      if (r.labels['__name__'] !== undefined && RAW_COUNTER.test(r.labels['__name__'])) {
        this.log(
          `warning: ${formatSelector(r.labels)} looks like a raw counter; its resets and growth would be scored as ` +
            'they are: watch rate(...[5m]) instead, which handles counter resets',
        );
        break;
      }
    }
    this.ingest(q, from, end, result);
    await this.fitPending(q);
  }

  /** query_range with the client's retries; null when stopping, a poll failure logged. */
  private async fetch(q: string, from: number, end: number): Promise<RangeSeries[] | null> {
    try {
      const r = await this.client.rangeChunked(q, from, end, this.c.stepMs, this.c.maxPoints ?? PROMETHEUS_MAX_POINTS);
      if (this.stopping) return null;
      this.counters.lastPoll = this.now();
      return r;
    } catch (e) {
      if (this.stopping) return null;
      throw e;
    }
  }

  /** Handles the grid steps from..end of query q (all its series), in time order. */
  private ingest(q: string, from: number, end: number, result: RangeSeries[]): void {
    const step = this.c.stepMs;
    const values = new Map<string, Map<number, number>>();
    for (const r of result) {
      const s = this.track(q, r.labels);
      values.set(s.id, new Map(r.points));
    }
    const mine = [...this.series.values()].filter((s) => s.query === q);
    for (let t = from; t <= end; t += step) {
      for (const s of mine) {
        if (t <= s.lastTimestamp) continue;
        this.handle(s, t, values.get(s.id)?.get(t) ?? NaN);
      }
    }
    this.done.set(q, Math.max(this.done.get(q) ?? -Infinity, end));
  }

  /** Fits the series of q that have collected enough points, one at a time, letting /metrics answer between fits. */
  private async fitPending(q: string): Promise<void> {
    for (const s of [...this.series.values()]) {
      if (s.query !== q || s.detector !== null || this.stopping) continue;
      this.tryFit(s);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private handle(s: Tracked, t: number, v: number): void {
    s.lastTimestamp = t;
    if (s.detector === null) {
      if (s.pending.t.length > 0 || !Number.isNaN(v)) {
        s.pending.t.push(t);
        s.pending.v.push(v);
      }
      return;
    }
    if (Number.isNaN(v)) {
      s.missingNow = true;
      this.counters.missing++;
      return;
    }
    s.missingNow = false;
    this.push(s, v, t, true);
    if (this.c.stateDir !== null && s.sinceSave >= this.c.saveEvery) this.save(s);
  }

  /** Pushes one value through the series' stream; `live` records the result (else it only refills the window). */
  private push(s: Tracked, v: number, t: number, live = false): void {
    let r;
    try {
      r = (s.stream as DetectorStream).push(v, s.needsTime ? t : undefined);
    } catch (e) {
      this.counters.errors++;
      this.log(`${formatSelector(s.labels)} at ${iso(t)}: ${(e as Error).message}`);
      return;
    }
    if (s.keepRecent > 0) {
      s.recent.push(v);
      if (s.recent.length > s.keepRecent) s.recent.shift();
    }
    if (!live || r === null) return;
    if ((r as FeedbackStreamResult).silenced === true) {
      s.silencedTotal++;
      this.log(
        `not flagged (feedback) ${formatSelector(s.labels)} at ${iso(t)}: score ${fmt(r.score)} is at or below ` +
          `the level marked not anomalous, ${fmt(r.threshold)}`,
      );
    }
    const severity = this.severity(s, r.score);
    s.last = { at: t, score: r.score, flag: r.flag, threshold: r.threshold, severity };
    s.pointsScored++;
    s.sinceSave++;
    this.counters.scored++;
    if (r.flag === 1) {
      s.alarmsTotal++;
      s.alarms.push({ at: t, score: r.score });
      if (s.alarms.length > MAX_ALARMS) s.alarms.shift();
      this.log(
        `anomaly ${formatSelector(s.labels)} at ${iso(t)}: score ${fmt(r.score)}, severity ${fmt(severity)}, ` +
          `threshold ${fmt(r.threshold)} (series ${s.id})`,
      );
    }
  }

  private severity(s: Tracked, score: number): number {
    if (s.sortedCalibration === null) return Math.min(1, Math.max(0, score));
    const a = s.sortedCalibration;
    let lo = 0,
      hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] <= score) lo = mid + 1;
      else hi = mid;
    }
    return lo / a.length;
  }

  private tryFit(s: Tracked): void {
    const present = s.pending.v.reduce((n, v) => n + (Number.isNaN(v) ? 0 : 1), 0);
    if (present < s.fitAfter) return;
    const d = new Detector(this.c.detector);
    const { t, v } = s.pending;
    const t0 = performance.now();
    try {
      const exclude = this.c.exclude.length > 0 ? { exclude: this.c.exclude } : {};
      const online = d.options.model === 'gru-online';
      d.fit(v, online || this.c.exclude.length > 0 ? { timestamps: t, ...exclude } : {});
    } catch (e) {
      this.counters.errors++;
      s.fitAfter = present + Math.max(1, Math.round(s.fitAfter / 2));
      this.log(
        `cannot fit ${formatSelector(s.labels)} on ${present} points: ${(e as Error).message}; trying again later`,
      );
      return;
    }
    this.attach(s, d);
    s.lastFit = this.now();
    this.counters.fits++;
    const excluded = this.c.exclude.length
      ? t.filter((x) => this.c.exclude.some(([a, b]) => x >= a && x < b)).length
      : 0;
    // Models trained once start their window from the newest training values.
    if (s.keepRecent > 0) {
      for (const x of v.filter((y) => !Number.isNaN(y)).slice(-s.keepRecent)) this.push(s, x, t[t.length - 1]);
    }
    this.info(
      `fitted ${formatSelector(s.labels)} (series ${s.id}, model ${d.options.model}) on ${v.length} steps ` +
        `(${v.length - present} missing${excluded ? `, ${excluded} excluded` : ''}) in ` +
        `${((performance.now() - t0) / 1000).toFixed(2)} s`,
    );
    s.pending = { t: [], v: [] };
    if (this.c.stateDir !== null) this.save(s);
  }

  /** Reads back feedback that `bptt feedback` wrote into the series' file since this process last wrote it. */
  private syncFeedback(s: Tracked): void {
    if (this.c.stateDir === null || s.detector === null) return;
    const file = statePath(this.c.stateDir, s.id);
    let mtime: number;
    try {
      mtime = fs.statSync(file).mtimeMs;
    } catch {
      return;
    }
    if (mtime === s.writtenMtime) return;
    s.writtenMtime = mtime;
    try {
      const st = readState(file);
      const have = new Set(s.detector.notAnomalies.map((m) => `${m.at}:${m.score}`));
      for (const m of st.detector.notAnomalies) {
        if (have.has(`${m.at}:${m.score}`)) continue;
        s.detector.feedback({ at: m.at, notAnomaly: true, score: m.score });
        this.log(
          `feedback for ${formatSelector(s.labels)}: the alarm at ${iso(m.at)} was not an anomaly; ` +
            `scores up to ${fmt(m.score)} no longer flag`,
        );
      }
    } catch (e) {
      this.counters.errors++;
      this.log(`cannot read back ${file}: ${(e as Error).message}`);
    }
  }

  /** Writes the series' state atomically; false when it has no detector yet (or the write failed, logged). */
  private save(s: Tracked): boolean {
    if (this.c.stateDir === null || s.detector === null || s.stream === null) return false;
    this.syncFeedback(s);
    const dj = s.detector.toJSON();
    const online = s.stream.onlineState();
    if (online !== null) dj.online = online;
    try {
      const file = writeState(
        this.c.stateDir,
        {
          id: s.id,
          query: s.query,
          labels: s.labels,
          stepMs: this.c.stepMs,
          lastTimestamp: s.lastTimestamp,
          lastFit: s.lastFit,
          pointsScored: s.pointsScored,
          recent: s.recent,
          alarms: s.alarms,
        },
        dj,
      );
      s.writtenMtime = fs.statSync(file).mtimeMs;
      s.sinceSave = 0;
      return true;
    } catch (e) {
      this.counters.errors++;
      this.log(`cannot save the state of ${formatSelector(s.labels)}: ${(e as Error).message}`);
      return false;
    }
  }

  private schedule(): void {
    if (this.stopping) return;
    const step = this.c.stepMs;
    const next = (Math.floor((this.now() - this.c.delayMs) / step) + 1) * step + this.c.delayMs;
    this.timer = setTimeout(
      () => {
        this.ticking = this.tick()
          .catch((e: unknown) => {
            this.counters.errors++;
            this.log(`internal error in a poll (kept running): ${(e as Error)?.stack ?? String(e)}`);
          })
          .finally(() => {
            this.ticking = null;
            this.schedule();
          });
      },
      Math.max(0, next - this.now()),
    );
  }

  private async tick(): Promise<void> {
    const end = this.gridNow();
    let failed = false;
    for (const q of this.c.queries) {
      if (this.stopping) return;
      const from = (this.done.get(q) as number) + this.c.stepMs;
      if (from > end) continue;
      let result: RangeSeries[];
      try {
        result = await this.poller.rangeChunked(q, from, end, this.c.stepMs, this.c.maxPoints ?? PROMETHEUS_MAX_POINTS);
      } catch (e) {
        failed = true;
        if (!this.pollFailing) {
          this.log(
            `poll of ${JSON.stringify(q)} failed: ${(e as Error).message}; still running, the next poll catches up ` +
              `from ${iso(from)}`,
          );
        }
        continue;
      }
      if (this.stopping) return;
      if (this.pollFailing) {
        this.log(
          `Prometheus answers again: catching up ${Math.round((end - from) / this.c.stepMs) + 1} steps of ${JSON.stringify(q)}`,
        );
      }
      this.counters.lastPoll = this.now();
      this.ingest(q, from, end, result);
      await this.fitPending(q);
    }
    this.pollFailing = failed;
    for (const s of this.series.values()) this.syncFeedback(s);
  }

  /** /metrics: the exposition text. */
  exposition(): string {
    const fitted = [...this.series.values()].filter((s) => s.detector !== null);
    const live = fitted.filter((s) => s.last !== null && !s.missingNow);
    const per = (f: (s: Tracked) => number, of: Tracked[]): MetricFamily['samples'] =>
      of.map((s) => ({ labels: s.exposed, value: f(s) }));
    const newest = Math.min(...this.c.queries.map((q) => this.done.get(q) ?? -Infinity));
    const families: MetricFamily[] = [
      {
        name: 'bptt_anomaly_score',
        help: 'Anomaly score of the newest point of each watched series (absent while the series has no value).',
        type: 'gauge',
        samples: per((s) => (s.last as Last).score, live),
      },
      {
        name: 'bptt_anomaly_flag',
        help: '1 when the newest point of the series is flagged as anomalous, else 0.',
        type: 'gauge',
        samples: per((s) => (s.last as Last).flag, live),
      },
      {
        name: 'bptt_anomaly_threshold',
        help: 'The threshold the newest score was compared with (raised by feedback).',
        type: 'gauge',
        samples: per((s) => (s.last as Last).threshold, live),
      },
      {
        name: 'bptt_anomaly_severity',
        help: 'Calibrated severity of the newest point in [0, 1].',
        type: 'gauge',
        samples: per((s) => (s.last as Last).severity, live),
      },
      {
        name: 'bptt_anomaly_alarms_total',
        help: 'Points flagged since this process started.',
        type: 'counter',
        samples: per((s) => s.alarmsTotal, fitted),
      },
      {
        name: 'bptt_anomaly_silenced_total',
        help: 'Points that would have flagged but for feedback (not an anomaly), since this process started.',
        type: 'counter',
        samples: per((s) => s.silencedTotal, fitted),
      },
      {
        name: 'bptt_detector_last_fit_timestamp_seconds',
        help: 'When the series detector was fitted (Unix seconds).',
        type: 'gauge',
        samples: per((s) => s.lastFit / 1000, fitted),
      },
      {
        name: 'bptt_series_last_point_timestamp_seconds',
        help: 'Time of the newest step handled for the series (Unix seconds).',
        type: 'gauge',
        samples: per((s) => s.lastTimestamp / 1000, fitted),
      },
      gauge('bptt_watched_series', 'Series watched (fitted or collecting history).', this.series.size),
      counter('bptt_points_scored_total', 'Points scored since this process started.', this.counters.scored),
      counter(
        'bptt_points_missing_total',
        'Steps without a value (missing scrape, stale or NaN).',
        this.counters.missing,
      ),
      counter(
        'bptt_backfill_points_total',
        'Points read by backfill since this process started.',
        this.counters.backfillPoints,
      ),
      counter('bptt_fits_total', 'Detectors fitted since this process started.', this.counters.fits),
      counter('bptt_errors_total', 'Failed Prometheus requests, fits, scores and state writes.', this.counters.errors),
      gauge(
        'bptt_lag_seconds',
        'Seconds between now and the newest step handled.',
        Number.isFinite(newest) ? Math.max(0, (this.now() - newest) / 1000) : NaN,
      ),
      gauge(
        'bptt_last_successful_poll_timestamp_seconds',
        'When Prometheus last answered a query (Unix seconds).',
        this.counters.lastPoll / 1000,
      ),
    ];
    return renderExposition(families);
  }
}

function gauge(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: 'gauge', samples: [{ labels: {}, value }] };
}

function counter(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: 'counter', samples: [{ labels: {}, value }] };
}

function countPoints(r: RangeSeries[]): number {
  return r.reduce((n, s) => n + s.points.length, 0);
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

function fmt(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v);
}

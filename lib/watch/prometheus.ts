/**
 * A small client of Prometheus' HTTP API (GET /api/v1/query_range), over Node's global fetch.
 *
 *   const p = new PrometheusClient('http://127.0.0.1:9090', { timeoutMs: 10_000, log });
 *   const series = await p.rangeChunked('rate(x[1m])', start, end, 15_000);   // [{ labels, points: [[ms, v], …] }]
 *
 * Range queries. Prometheus evaluates the expression at start, start + step, … ≤ end, each evaluation seeing the newest
 * sample within the lookback delta (5 minutes by default) and no sample after a staleness marker (written when a
 * scrape fails or a series disappears); a series without a value at a step has no point there. The server refuses
 * more than 11,000 points per series in one request, so `rangeChunked` splits [start, end] into consecutive requests
 * of at most `maxPoints` steps (`chunkRange`) and joins the series by label set.
 *
 * Failures. Every request has a timeout (AbortSignal). A refused or reset connection, a timeout, or a 5xx/429 answer is
 * transient: the request is retried after 1 s, 2 s, 4 s, … (at most `backoffMaxMs`), each retry logged with the cause,
 * up to `retries` times (Infinity: until it succeeds), then a PrometheusError (transient: true) is thrown. A 4xx answer
 * (a bad query, `bad_data`) or a body that is not the API's JSON is a PrometheusError at once (transient: false): no
 * retry would change it. Values are parsed from the API's strings; NaN and ±Inf come back as NaN (missing).
 */
import { apiSeconds } from './time.js';
import { isLabelSet, type LabelSet } from './labels.js';

export interface RangeSeries {
  labels: LabelSet;
  /** [epoch ms, value] in time order; a non-finite value (NaN, ±Inf) is NaN. */
  points: Array<[number, number]>;
}

export class PrometheusError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'PrometheusError';
  }
}

export interface ClientOptions {
  timeoutMs?: number;
  /** Retries of a transient failure (Infinity: until it succeeds). Default 3. */
  retries?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  log?: (line: string) => void;
  /** Called once per failed attempt (for the errors counter). */
  onError?: (e: PrometheusError) => void;
}

/** The server's limit of points per series in one query_range request. */
export const PROMETHEUS_MAX_POINTS = 11_000;

/**
 * [start, end] (epoch ms, on the step grid from `start`) cut into consecutive [s, e] pieces of at most `maxPoints`
 * evaluation steps each: every grid point start + k·step ≤ end falls in exactly one piece.
 */
export function chunkRange(start: number, end: number, step: number, maxPoints: number): Array<[number, number]> {
  if (!(step > 0) || !(maxPoints >= 1) || !Number.isInteger(maxPoints)) {
    throw new RangeError(`chunkRange: step ${step} and maxPoints ${maxPoints} must be positive`);
  }
  const out: Array<[number, number]> = [];
  for (let s = start; s <= end; s += maxPoints * step) out.push([s, Math.min(end, s + (maxPoints - 1) * step)]);
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class PrometheusClient {
  readonly base: string;
  private readonly o: Required<Omit<ClientOptions, 'log' | 'onError'>> & {
    log: ((line: string) => void) | undefined;
    onError: ((e: PrometheusError) => void) | undefined;
  };
  /** Set by close(): pending retries stop waiting. */
  private closed = false;

  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.o = {
      timeoutMs: options.timeoutMs ?? 10_000,
      retries: options.retries ?? 3,
      backoffInitialMs: options.backoffInitialMs ?? 1000,
      backoffMaxMs: options.backoffMaxMs ?? 30_000,
      log: options.log,
      onError: options.onError,
    };
  }

  close(): void {
    this.closed = true;
  }

  /** query_range over [start, end] (epoch ms), split into requests of at most `maxPoints` steps. */
  async rangeChunked(
    query: string,
    start: number,
    end: number,
    step: number,
    maxPoints = PROMETHEUS_MAX_POINTS,
  ): Promise<RangeSeries[]> {
    const bySet = new Map<string, RangeSeries>();
    for (const [s, e] of chunkRange(start, end, step, maxPoints)) {
      for (const r of await this.range(query, s, e, step)) {
        const key = JSON.stringify(Object.entries(r.labels).sort());
        const have = bySet.get(key);
        if (have) for (const p of r.points) have.points.push(p);
        else bySet.set(key, r);
      }
    }
    return [...bySet.values()];
  }

  /** One query_range request (with retries). */
  async range(query: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    const params = new URLSearchParams({
      query,
      start: apiSeconds(start),
      end: apiSeconds(end),
      step: apiSeconds(step),
    });
    const body = await this.get(`/api/v1/query_range?${params.toString()}`, 'query_range');
    return parseMatrix(body);
  }

  private async get(path: string, what: string): Promise<unknown> {
    let delay = this.o.backoffInitialMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(path);
      } catch (e) {
        const err = e instanceof PrometheusError ? e : new PrometheusError(String(e), true);
        this.o.onError?.(err);
        if (!err.transient || attempt >= this.o.retries || this.closed) throw err;
        this.o.log?.(
          `Prometheus ${what} failed (${err.message}); retry ${attempt + 1}${Number.isFinite(this.o.retries) ? ` of ${this.o.retries}` : ''} in ${delay / 1000} s`,
        );
        await sleep(delay);
        if (this.closed) throw err;
        delay = Math.min(delay * 2, this.o.backoffMaxMs);
      }
    }
  }

  private async once(path: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        signal: AbortSignal.timeout(this.o.timeoutMs),
        headers: { accept: 'application/json' },
      });
    } catch (e) {
      const c = (e as { cause?: { code?: string } }).cause;
      const name = (e as Error).name;
      const why =
        name === 'TimeoutError' || name === 'AbortError'
          ? `no answer within ${this.o.timeoutMs / 1000} s`
          : (c?.code ?? (e as Error).message);
      throw new PrometheusError(`${this.base} unreachable: ${why}`, true);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new PrometheusError(`${this.base}: the answer was cut off (${(e as Error).message})`, true);
    }
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* judged below */
    }
    const apiError =
      json !== null && typeof json === 'object' && (json as { status?: unknown }).status === 'error'
        ? `${String((json as { errorType?: unknown }).errorType)}: ${String((json as { error?: unknown }).error)}`
        : null;
    if (res.status >= 500 || res.status === 429) {
      throw new PrometheusError(`${this.base} answered HTTP ${res.status}${apiError ? ` (${apiError})` : ''}`, true);
    }
    if (!res.ok || apiError !== null) {
      throw new PrometheusError(`${this.base} refused the query: ${apiError ?? `HTTP ${res.status}`}`, false);
    }
    if (json === null) throw new PrometheusError(`${this.base} answered something that is not JSON`, false);
    return json;
  }
}

/** The series of a query_range answer, validated (anything unexpected is a PrometheusError, never a crash). */
export function parseMatrix(body: unknown): RangeSeries[] {
  const bad = (why: string): never => {
    throw new PrometheusError(`unexpected query_range answer: ${why}`, false);
  };
  const data = (body as { data?: unknown }).data as { resultType?: unknown; result?: unknown } | undefined;
  if (data === null || typeof data !== 'object') bad('no data');
  const d = data as { resultType?: unknown; result?: unknown };
  if (d.resultType !== 'matrix') bad(`resultType ${JSON.stringify(d.resultType)}, expected "matrix"`);
  if (!Array.isArray(d.result)) bad('result is not an array');
  return (d.result as unknown[]).map((r, i) => {
    const o = r as { metric?: unknown; values?: unknown };
    if (o === null || typeof o !== 'object' || !isLabelSet(o.metric)) bad(`result[${i}].metric is not a label set`);
    if (!Array.isArray(o.values)) bad(`result[${i}].values is not an array`);
    const points: Array<[number, number]> = [];
    for (const p of o.values as unknown[]) {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'string') {
        bad(`result[${i}] has a value that is not [seconds, "value"]`);
      }
      const [t, s] = p as [number, string];
      const v = Number(s);
      points.push([Math.round(t * 1000), Number.isFinite(v) ? v : NaN]);
    }
    return { labels: o.metric as LabelSet, points };
  });
}

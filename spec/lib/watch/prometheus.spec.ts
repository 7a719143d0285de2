/**
 * The Prometheus client: chunking under the server's point limit, the answer's validation, and retries with backoff,
 * timeouts and refusals against a real HTTP server on loopback (a small stand-in that answers as the API does).
 */
import { expect } from 'chai';
import * as http from 'http';
import type { AddressInfo } from 'net';
import {
  chunkRange,
  parseMatrix,
  PrometheusClient,
  PrometheusError,
  PROMETHEUS_MAX_POINTS,
} from '../../../lib/watch/prometheus';

type Handler = (url: URL, res: http.ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => handler(new URL(req.url ?? '/', 'http://x'), res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const json = (res: http.ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('watch/prometheus: query_range client', function () {
  it('chunkRange covers every grid point exactly once, each chunk within the limit', () => {
    for (const [n, max] of [
      [1, 1],
      [10, 1],
      [10, 3],
      [11_000, 11_000],
      [11_001, 11_000],
      [40_320, 11_000],
      [7, 100],
    ]) {
      const step = 15_000,
        start = 1_700_000_000_000,
        end = start + (n - 1) * step;
      const chunks = chunkRange(start, end, step, max);
      const seen: number[] = [];
      for (const [s, e] of chunks) {
        const points = (e - s) / step + 1;
        expect(points).to.be.at.most(max).and.at.least(1);
        for (let t = s; t <= e; t += step) seen.push(t);
      }
      expect(seen.length, `${n} points, ${max} per chunk`).to.equal(n);
      expect(seen.every((t, i) => t === start + i * step)).to.equal(true);
      expect(chunks.length).to.equal(Math.ceil(n / max));
    }
    expect(PROMETHEUS_MAX_POINTS).to.equal(11_000);
    expect(() => chunkRange(0, 10, 0, 5)).to.throw(RangeError);
  });

  it('parseMatrix reads label sets and [seconds, "value"] points; NaN and ±Inf become missing (NaN)', () => {
    const r = parseMatrix({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { job: 'a' },
            values: [
              [1.5, '2'],
              [2.5, 'NaN'],
              [3.5, '+Inf'],
              [4.5, '-1e3'],
            ],
          },
        ],
      },
    });
    expect(r).to.have.length(1);
    expect(r[0].labels).to.deep.equal({ job: 'a' });
    expect(r[0].points.map((p) => p[0])).to.deep.equal([1500, 2500, 3500, 4500]);
    expect(r[0].points.map((p) => p[1])).to.deep.equal([2, NaN, NaN, -1000]);
    for (const bad of [
      {},
      { data: { resultType: 'vector', result: [] } },
      { data: { resultType: 'matrix', result: {} } },
      { data: { resultType: 'matrix', result: [{ metric: { a: 1 }, values: [] }] } },
      { data: { resultType: 'matrix', result: [{ metric: {}, values: [[1, 2]] }] } },
    ]) {
      expect(() => parseMatrix(bad))
        .to.throw(PrometheusError, /unexpected query_range answer/)
        .with.property('transient', false);
    }
  });

  it('rangeChunked sends requests of at most maxPoints steps and joins the series', async () => {
    const requests: Array<{ start: number; end: number; step: number }> = [];
    const srv = await serve((url, res) => {
      const start = Number(url.searchParams.get('start')),
        end = Number(url.searchParams.get('end')),
        step = Number(url.searchParams.get('step'));
      requests.push({ start, end, step });
      const values: Array<[number, string]> = [];
      for (let t = start; t <= end + 1e-9; t += step) values.push([t, String(t * 2)]);
      json(res, 200, {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            { metric: { host: 'a' }, values },
            { metric: { host: 'b' }, values: values.slice(0, 1) },
          ],
        },
      });
    });
    try {
      const c = new PrometheusClient(srv.url, { timeoutMs: 2000 });
      const r = await c.rangeChunked('x', 1_000_000, 1_000_000 + 24 * 1000, 1000, 10);
      expect(requests.map((q) => (q.end - q.start) / q.step + 1)).to.deep.equal([10, 10, 5]);
      const a = r.find((s) => s.labels['host'] === 'a');
      expect(a?.points.map((p) => p[0])).to.deep.equal(Array.from({ length: 25 }, (_, i) => 1_000_000 + i * 1000));
      expect(a?.points.every(([t, v]) => v === (t / 1000) * 2)).to.equal(true);
      expect(r.find((s) => s.labels['host'] === 'b')?.points).to.have.length(3);
    } finally {
      await srv.close();
    }
  });

  it('retries 5xx answers with a growing delay, logging each, then succeeds', async () => {
    let calls = 0;
    const srv = await serve((_url, res) => {
      calls++;
      if (calls <= 2) json(res, 503, { status: 'error', errorType: 'unavailable', error: 'starting' });
      else json(res, 200, { status: 'success', data: { resultType: 'matrix', result: [] } });
    });
    try {
      const log: string[] = [];
      let errors = 0;
      const c = new PrometheusClient(srv.url, {
        retries: 5,
        backoffInitialMs: 5,
        log: (l) => log.push(l),
        onError: () => errors++,
      });
      expect(await c.range('x', 0, 1000, 1000)).to.deep.equal([]);
      expect(calls).to.equal(3);
      expect(errors).to.equal(2);
      expect(log).to.have.length(2);
      expect(log[0]).to.match(/HTTP 503 \(unavailable: starting\)\); retry 1 of 5 in 0.005 s/);
      expect(log[1]).to.match(/retry 2 of 5 in 0.01 s/);
    } finally {
      await srv.close();
    }
  });

  it('a refused query (400 bad_data) is not retried', async () => {
    let calls = 0;
    const srv = await serve((_url, res) => {
      calls++;
      json(res, 400, { status: 'error', errorType: 'bad_data', error: 'parse error' });
    });
    try {
      const c = new PrometheusClient(srv.url, { retries: 5, backoffInitialMs: 5 });
      const e = await c.range('x(', 0, 1000, 1000).catch((x: unknown) => x);
      expect(e).to.be.instanceOf(PrometheusError).with.property('transient', false);
      expect((e as Error).message).to.match(/refused the query: bad_data: parse error/);
      expect(calls).to.equal(1);
    } finally {
      await srv.close();
    }
  });

  it('a server that does not answer times out; a closed port is refused; both transient, retried, then thrown', async () => {
    const srv = await serve(() => {
      /* never answers */
    });
    try {
      const log: string[] = [];
      const c = new PrometheusClient(srv.url, {
        timeoutMs: 100,
        retries: 1,
        backoffInitialMs: 5,
        log: (l) => log.push(l),
      });
      const e = await c.range('x', 0, 1000, 1000).catch((x: unknown) => x);
      expect(e).to.be.instanceOf(PrometheusError).with.property('transient', true);
      expect((e as Error).message).to.match(/no answer within 0.1 s/);
      expect(log).to.have.length(1);
    } finally {
      await srv.close();
    }
    const gone = await serve(() => undefined);
    await gone.close();
    const c = new PrometheusClient(gone.url, { timeoutMs: 1000, retries: 0 });
    const e = await c.range('x', 0, 1000, 1000).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(PrometheusError).with.property('transient', true);
    expect((e as Error).message).to.match(/unreachable: ECONNREFUSED/);
  });
});

/**
 * Shared pieces of the fleet specs: deterministic series, the single-process reference (detector.stream() over the
 * same points), a producer run, waiting for a fleet to finish, and the bit-for-bit comparison.
 */
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { type Detector } from '../../../lib/detect/detector';
import { FleetProducer, fleetStatus, readOutputs, type FleetOutput } from '../../../lib/fleet';
import { makeRng } from '../../helpers/rng';

export interface Point {
  series: string;
  ts: number;
  v: number;
}

/** Series name i. */
export const name = (i: number): string => `host-${String(i).padStart(3, '0')}.cpu`;

/** n points of series i: a seasonal signal with noise and two spikes (so flags and events happen). */
export function seriesValues(i: number, n: number): number[] {
  const rng = makeRng(`fleet-${i}`);
  const out: number[] = [];
  for (let t = 0; t < n; t++) {
    let v = Math.sin((t + i) / 5) + 0.1 * (rng() - 0.5);
    if (t === 60 + (i % 7) || t === 61 + (i % 7) || t === 140 + (i % 11)) v += 6;
    out.push(v);
  }
  return out;
}

/** The points of `count` series × n, interleaved by time (what a fleet of hosts sends). */
export function interleaved(count: number, n: number, t0 = 1_700_000_000_000): Point[] {
  const values = Array.from({ length: count }, (_, i) => seriesValues(i, n));
  const pts: Point[] = [];
  for (let t = 0; t < n; t++)
    for (let i = 0; i < count; i++) pts.push({ series: name(i), ts: t0 + t * 10_000, v: values[i][t] });
  return pts;
}

/** A training series for templates. */
export function trainValues(n: number, seed = 'train'): number[] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, (_, t) => Math.sin(t / 5) + 0.1 * (rng() - 0.5));
}

export async function produce(url: string, prefix: string, pts: Point[], template?: string): Promise<void> {
  const p = new FleetProducer({ redis: url, prefix });
  await p.addMany(pts.map((x) => ({ series: x.series, ts: x.ts, values: x.v, ...(template ? { template } : {}) })));
  await p.close();
}

/** Waits until every input entry of the fleet is committed (or the time runs out: then fails with the status). */
export async function waitDone(r: Redis, prefix: string, total: number, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const s = await fleetStatus(r, prefix);
    const processed = s.partitionStatus.reduce((a, p) => a + p.processed, 0);
    if (processed >= total) {
      expect(processed, 'processed entries').to.equal(total);
      return;
    }
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `fleet not done after ${timeoutMs} ms: ${processed}/${total}: ${JSON.stringify(s.partitionStatus)}`,
      );
    await new Promise((res) => setTimeout(res, 50));
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

export interface Expected {
  score: number;
  flag: 0 | 1;
  threshold: number;
  warmup: boolean;
}

/** What a single process gets: detector.stream() over the series' points (null pushes are warm-up). */
export function reference(d: Detector, pts: Point[], timestamps = false): Expected[] {
  const s = d.stream();
  return pts.map((p) => {
    const r = s.push(p.v, timestamps ? p.ts : undefined);
    return r === null
      ? { score: 0, flag: 0, threshold: NaN, warmup: true }
      : { score: r.score, flag: r.flag, threshold: r.threshold, warmup: false };
  });
}

/**
 * Every input point has exactly one output, in order, with its input's ID, and each series' outputs equal the
 * reference bit for bit (Object.is on every score, flag and threshold); events start at 0→1 and end at 1→0.
 */
export async function expectExact(
  r: Redis,
  prefix: string,
  pts: Point[],
  ref: (series: string, pts: Point[]) => Expected[],
): Promise<FleetOutput[]> {
  const outputs = await readOutputs(r, prefix);
  expect(outputs.length, 'outputs').to.equal(pts.length);
  // IDs are per stream: (partition, ID) names an input entry.
  const ids = new Set(outputs.map((o) => `${o.partition} ${o.id}`));
  expect(ids.size, 'distinct input entries with an output').to.equal(outputs.length);
  for (const o of outputs) expect(o.in).to.equal(o.id);
  const bySeries = new Map<string, Point[]>();
  for (const p of pts) (bySeries.get(p.series) ?? bySeries.set(p.series, []).get(p.series))?.push(p);
  const outBySeries = new Map<string, FleetOutput[]>();
  for (const o of outputs) (outBySeries.get(o.series) ?? outBySeries.set(o.series, []).get(o.series))?.push(o);
  let flags = 0;
  for (const [s, sp] of bySeries) {
    const got = outBySeries.get(s) ?? [];
    expect(got.length, `outputs of ${s}`).to.equal(sp.length);
    const want = ref(s, sp);
    let prev = 0;
    got.forEach((o, i) => {
      const w = want[i];
      const where = `${s} point ${i}`;
      expect(o.index, where).to.equal(i);
      expect(o.ts, where).to.equal(sp[i].ts);
      expect(o.warmup, `${where} warm-up`).to.equal(w.warmup);
      expect(Object.is(o.score, w.score), `${where} score ${o.score} vs ${w.score}`).to.equal(true);
      expect(o.flag, `${where} flag`).to.equal(w.flag);
      if (!w.warmup)
        expect(Object.is(o.threshold, w.threshold), `${where} threshold ${o.threshold} vs ${w.threshold}`).to.equal(
          true,
        );
      expect(o.event, `${where} event`).to.equal(
        o.flag === 1 && prev === 0 ? 'start' : o.flag === 0 && prev === 1 ? 'end' : '',
      );
      prev = o.flag;
      flags += o.flag;
    });
  }
  expect(flags, 'flags raised (the data has spikes)').to.be.greaterThan(0);
  return outputs;
}

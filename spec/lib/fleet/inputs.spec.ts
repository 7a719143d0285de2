/**
 * Bad input and new detector versions, with a real redis-server: each kind of bad entry goes to the dead-letter stream
 * with its reason and the worker keeps going; a detector stored with putDetector is picked up between points and
 * recorded in the series' checkpoint.
 */
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { Detector } from '../../../lib/detect/detector';
import {
  FleetProducer,
  FleetWorker,
  createFleet,
  getDetector,
  parseCheckpoint,
  partitionOf,
  putDetector,
  putTemplate,
  readDeadLetters,
  readOutputs,
  fleetStatus,
} from '../../../lib/fleet';
import { requireRedis, startRedis, type RedisServer } from '../../helpers/redis';
import { expectExact, interleaved, produce, reference, trainValues, waitDone, type Point } from './common';

describe('fleet: dead letters and detector versions', function () {
  this.timeout(300_000);
  let server: RedisServer;
  let r: Redis;
  let zscore: Detector;
  before(async function () {
    if (!requireRedis(this)) return;
    server = await startRedis();
    r = await server.client();
    zscore = new Detector({ model: 'zscore', window: 20, threshold: 'fixed:4' }).fit(trainValues(200));
  });
  after(async () => server?.stop());

  it('every kind of bad entry is dead-lettered with its reason; the good points around them are scored', async () => {
    const prefix = 'dl';
    const P = 2;
    await createFleet(r, { prefix, partitions: P });
    await putTemplate(r, prefix, 'z', zscore);
    const good = interleaved(3, 160).map((p) => ({ ...p, series: `good-${p.series}` }));
    const bad: Array<[string, string[], RegExp]> = [
      ['x1', ['series', 'x1', 'ts', '1'], /^malformed entry: missing field v/],
      ['x2', ['series', 'x2', 'ts', '1', 'v', '1', 'colour', 'red'], /^malformed entry: unexpected field "colour"/],
      ['x3', ['series', 'x3', 'ts', '1', 'v', 'abc'], /^malformed entry: feature 0 of v is "abc", not a number/],
      ['x4', ['series', 'x4', 'ts', '1', 'v', 'NaN'], /^non-finite value: feature 0 of v is NaN/],
      ['x5', ['series', 'x5', 'ts', '1', 'v', '1,-Infinity'], /^non-finite value: feature 1 of v is -Infinity/],
      ['x6', ['series', 'x6', 'ts', '1', 'v', '1e999'], /^non-finite value: feature 0 of v \(1e999\) overflows/],
      ['x7', ['series', 'x7', 'ts', '12.5', 'v', '1'], /^malformed entry: ts must be an integer/],
      [
        'x8',
        ['series', 'x8', 'ts', '1', 'v', '1,2', 'template', 'z'],
        /^wrong feature count: .* takes 1 value per point, the entry has 2/,
      ],
      ['x9', ['series', 'x9', 'ts', '1', 'v', '1'], /^unknown series "x9" with no template/],
      ['x10', ['series', 'x10', 'ts', '1', 'v', '1', 'template', 'nope'], /template 'nope' is not stored/],
      ['x11', ['series', 'x11', 'series', 'x11', 'ts', '1', 'v', '1'], /^malformed entry: field series appears twice/],
    ];
    // Good points first, then the bad entries, then more good points: the worker must keep going after them.
    const half = good.length / 2;
    await produce(server.url, prefix, good.slice(0, half), 'z');
    for (const [series, fields] of bad) await r.xadd(`${prefix}:in:${partitionOf(series, P)}`, '*', ...fields);
    // A good entry in the wrong partition (a producer that hashes differently).
    const stray = 'x12';
    const wrong = 1 - partitionOf(stray, P);
    await r.xadd(`${prefix}:in:${wrong}`, '*', 'series', stray, 'ts', '1', 'v', '1', 'template', 'z');
    await produce(server.url, prefix, good.slice(half), 'z');
    const w = new FleetWorker({ redis: server.url, prefix, leaseMs: 2000 });
    await w.start();
    await waitDone(r, prefix, good.length + bad.length + 1);
    const st = w.stats();
    await w.stop();
    expect(st.deadLetters).to.equal(bad.length + 1);
    expect(st.points).to.equal(good.length);
    const dead = await readDeadLetters(r, prefix);
    expect(dead.length).to.equal(bad.length + 1);
    const strayDead = dead.find((x) => x.entry['series'] === stray);
    expect(strayDead?.reason).to.equal(
      `wrong partition: series "x12" belongs to partition ${1 - wrong} (partitionOf), not ${wrong}`,
    );
    expect(strayDead?.partition).to.equal(wrong);
    for (const [series, fields, reason] of bad) {
      const d = dead.find((x) => x.entry['series'] === series);
      expect(d, series).to.not.equal(undefined);
      expect(d?.reason, series).to.match(reason);
      expect(d?.partition, series).to.equal(partitionOf(series, P));
      expect(d?.entry['ts'], series).to.equal(fields[fields.indexOf('ts') + 1]);
      // The input ID is kept, and that input has no output.
      const out = await r.xrange(`${prefix}:out:${d?.partition}`, d?.in as string, d?.in as string);
      expect(out, series).to.deep.equal([]);
      const input = await r.xrange(`${prefix}:in:${d?.partition}`, d?.in as string, d?.in as string);
      expect(input.length, series).to.equal(1);
    }
    await expectExact(r, prefix, good, (_s, sp) => reference(zscore, sp));
    expect((await fleetStatus(r, prefix)).deadLetters).to.equal(bad.length + 1);
  });

  it('putDetector: the new version is used from the next point on, warmed with the recent points; the checkpoint records it', async () => {
    const prefix = 'ver';
    await createFleet(r, { prefix, partitions: 2 });
    await putTemplate(r, prefix, 'z', zscore);
    const pts = interleaved(4, 200);
    const s0 = pts[0].series;
    const ts0 = pts[0].ts;
    const before = pts.filter((p) => p.ts < ts0 + 120 * 10_000);
    const after = pts.filter((p) => p.ts >= ts0 + 120 * 10_000);
    const w = new FleetWorker({ redis: server.url, prefix, defaultTemplate: 'z', leaseMs: 2000, batchSize: 32 });
    await w.start();
    await produce(server.url, prefix, before);
    await waitDone(r, prefix, before.length);
    const fitted = new Detector({ model: 'zscore', window: 10, threshold: 'fixed:3' }).fit(trainValues(150, 'refit'));
    expect(await putDetector(r, prefix, s0, fitted)).to.equal(1);
    expect(await putDetector(server.url, prefix, s0, fitted)).to.equal(2);
    expect((await getDetector(r, prefix, s0))?.version).to.equal(2);
    expect(await getDetector(r, prefix, 'no-such-series')).to.equal(null);
    await produce(server.url, prefix, after);
    await waitDone(r, prefix, pts.length);
    const st = w.stats();
    await w.stop();
    expect(st.versionSwitches).to.equal(1);
    // s0: template until point 119, its fitted detector (version 2) from point 120 on, warmed with points 99..119.
    const s0pts = pts.filter((p) => p.series === s0);
    const expected = (s: string, sp: Point[]): ReturnType<typeof reference> => {
      if (s !== s0) return reference(zscore, sp);
      const first = reference(zscore, sp.slice(0, 120));
      const stream = fitted.stream();
      for (const p of sp.slice(120 - 21, 120)) stream.push(p.v); // recent: W + 1 = 21 points of the template
      const rest = sp.slice(120).map((p) => {
        const res = stream.push(p.v);
        return res === null
          ? { score: 0, flag: 0 as const, threshold: NaN, warmup: true }
          : { score: res.score, flag: res.flag, threshold: res.threshold, warmup: false };
      });
      return [...first, ...rest];
    };
    expect(s0pts.length).to.equal(200);
    await expectExact(r, prefix, pts, expected);
    const outs = await readOutputs(r, prefix, { series: s0 });
    expect(outs.slice(0, 120).every((o) => o.version === 0)).to.equal(true);
    expect(outs.slice(120).every((o) => o.version === 2)).to.equal(true);
    expect((await readOutputs(r, prefix, { series: pts[1].series })).every((o) => o.version === 0)).to.equal(true);
    const text = await r.hget(`${prefix}:ckpt:${partitionOf(s0, 2)}`, s0);
    const ck = parseCheckpoint(text as string, 'checkpoint');
    expect(ck.source).to.deep.equal({ kind: 'fitted', name: s0, version: 2 });
    expect(ck.index).to.equal(200);
    expect(ck.recent.length).to.equal(11);
    expect(ck.recent[10]).to.deep.equal([s0pts[199].ts, s0pts[199].v]);
  });

  it('FleetProducer refuses bad points with the argument named', async () => {
    const p = new FleetProducer({ redis: r, prefix: 'prod', partitions: 2 });
    const fails = async (f: () => Promise<void>, re: RegExp): Promise<void> => {
      let err: unknown;
      await f().catch((e: unknown) => (err = e));
      expect((err as Error | undefined)?.message ?? 'no error').to.match(re);
    };
    await fails(() => p.add('', 1, 1), /FleetProducer.add\(series\): expected a series name/);
    await fails(() => p.add('a', 1.5, 1), /FleetProducer.add\(ts\): expected an integer/);
    await fails(
      () => p.add('a', 1, [1, NaN]),
      /FleetProducer.add\(values\): expected finite numbers, got NaN at feature 1/,
    );
    await fails(() => p.add('a', 1, 1, 'bad name!'), /FleetProducer.add\(template\)/);
    await p.add('a', 1, [1, 2]);
    expect(await p.flush()).to.equal(1);
    await p.close();
    expect(await r.xlen(`prod:in:${partitionOf('a', 2)}`)).to.equal(1);
  });
});

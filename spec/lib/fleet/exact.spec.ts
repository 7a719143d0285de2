/**
 * The fleet's core promise, with a real redis-server: every input point gets exactly one output, and per series the
 * outputs equal a single process's detector.stream() over the same points, bit for bit, for a zscore template and
 * small neural ones (lstm-forecast, lstm-ae with combine 'last', gru-online which learns at every point).
 */
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { Detector } from '../../../lib/detect/detector';
import { FleetError, FleetWorker, createFleet, partitionOf, putTemplate, fleetStatus } from '../../../lib/fleet';
import { requireRedis, startRedis, type RedisServer } from '../../helpers/redis';
import { expectExact, interleaved, produce, reference, trainValues, waitDone } from './common';

describe('fleet: exactly one output per point, equal to detector.stream()', function () {
  this.timeout(300_000);
  let server: RedisServer;
  let r: Redis;
  before(async function () {
    if (!requireRedis(this)) return;
    server = await startRedis();
    r = await server.client();
  });
  after(async () => server?.stop());

  it('partitionOf is FNV-1a mod P: stable and spread', () => {
    // FNV-1a 32-bit of '' is 0x811c9dc5 = 2166136261; of 'a' is 0xe40c292c = 3826002220.
    expect(partitionOf('', 1000)).to.equal(2166136261 % 1000);
    expect(partitionOf('a', 1000)).to.equal(3826002220 % 1000);
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 800; i++) counts[partitionOf(`s${i}`, 8)]++;
    for (const c of counts) expect(c).to.be.within(60, 140);
  });

  it('a fleet keeps its partition count: a worker or createFleet with another one is refused', async () => {
    expect((await createFleet(r, { prefix: 'cfg', partitions: 4 })).partitions).to.equal(4);
    expect((await createFleet(r, { prefix: 'cfg' })).partitions).to.equal(4);
    let err: unknown;
    try {
      await createFleet(server.url, { prefix: 'cfg', partitions: 5 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(FleetError);
    expect((err as FleetError).code).to.equal('config');
    expect((err as Error).message).to.match(/has 4 partitions, not 5/);
    const w = new FleetWorker({ redis: server.url, prefix: 'cfg', partitions: 3 });
    let werr: unknown;
    await w.start().catch((e: unknown) => (werr = e));
    expect((werr as FleetError).code).to.equal('config');
    const none = new FleetWorker({ redis: server.url, prefix: 'nothing-here' });
    let nerr: unknown;
    await none.start().catch((e: unknown) => (nerr = e));
    expect((nerr as Error).message).to.match(/no fleet at prefix 'nothing-here'/);
  });

  it("refuses templates that answer a push W−1 points late (combine 'mean')", async () => {
    const d = new Detector({
      model: 'lstm-ae',
      window: 6,
      hidden: [3],
      epochs: 1,
      seed: 1,
      combine: 'mean',
      causal: false,
    }).fit(trainValues(60));
    let err: unknown;
    await putTemplate(r, 'cfg', 'ae-mean', d).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(FleetError);
    expect((err as Error).message).to.match(/combine 'mean'.*use combine 'last'/);
  });

  it('zscore template: 50 series × 200 points, one worker, 4 partitions', async () => {
    const prefix = 'z1';
    const d = new Detector({ model: 'zscore', window: 20, threshold: 'fixed:4' }).fit(trainValues(200));
    await createFleet(r, { prefix, partitions: 4 });
    await putTemplate(r, prefix, 'z', d);
    const pts = interleaved(50, 200);
    await produce(server.url, prefix, pts);
    const w = new FleetWorker({ redis: server.url, prefix, defaultTemplate: 'z', leaseMs: 2000 });
    await w.start();
    await waitDone(r, prefix, pts.length);
    const st = w.stats();
    await w.stop();
    expect(st.points).to.equal(pts.length);
    expect(st.deadLetters).to.equal(0);
    expect(st.partitions).to.deep.equal([0, 1, 2, 3]);
    expect(st.residentSeries).to.equal(50);
    const outputs = await expectExact(r, prefix, pts, (_s, sp) => reference(d, sp));
    expect(outputs.filter((o) => o.event === 'start').length).to.be.greaterThan(0);
    const status = await fleetStatus(r, prefix);
    expect(status.series).to.equal(50);
    expect(status.lag).to.equal(0);
    expect(status.partitionStatus.every((p) => p.owner === null && p.pending === 0)).to.equal(true);
  });

  for (const [label, make] of [
    [
      'lstm-forecast',
      () => new Detector({ model: 'lstm-forecast', window: 8, hidden: [4], epochs: 2, seed: 1, threshold: 'fixed:1' }),
    ],
    [
      'lstm-ae, combine last',
      () =>
        new Detector({
          model: 'lstm-ae',
          window: 8,
          hidden: [4],
          epochs: 2,
          seed: 1,
          combine: 'last',
          threshold: 'fixed:1',
        }),
    ],
    ['gru-online (learns at every point)', () => new Detector({ model: 'gru-online', window: 8, seed: 1 })],
  ] as Array<[string, () => Detector]>) {
    it(`${label} template: 12 series × 200 points, template named in the entries`, async () => {
      const prefix = `n-${label.split(' ')[0].replace(/[^a-z-]/g, '')}`;
      const d = make().fit(trainValues(200));
      await createFleet(r, { prefix, partitions: 3 });
      await putTemplate(r, prefix, 'neural', d);
      const pts = interleaved(12, 200);
      await produce(server.url, prefix, pts, 'neural');
      const w = new FleetWorker({ redis: server.url, prefix, leaseMs: 5000, batchSize: 64 });
      await w.start();
      await waitDone(r, prefix, pts.length);
      await w.stop();
      const needsTime = d.options.model === 'gru-online' && d.options.timeFeatures !== false;
      await expectExact(r, prefix, pts, (_s, sp) => reference(d, sp, needsTime));
    });
  }
});

/**
 * Failover with a real redis-server, in-process workers: a crash (connection dropped, nothing committed, leases left
 * to expire), a zombie whose lease was taken (its commit is fenced off), two workers splitting the partitions and a
 * graceful stop handing them over, and a tiny memory budget (every series swapped out and back in). Each run must give
 * exactly one output per point, equal to detector.stream() bit for bit.
 */
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { Detector } from '../../../lib/detect/detector';
import { FleetWorker, createFleet, putTemplate } from '../../../lib/fleet';
import { requireRedis, startRedis, type RedisServer } from '../../helpers/redis';
import { expectExact, interleaved, produce, reference, trainValues, waitDone, waitFor, type Point } from './common';

describe('fleet: failover, fencing, rebalancing, swapping', function () {
  this.timeout(300_000);
  let server: RedisServer;
  let r: Redis;
  let zscore: Detector, online: Detector;
  const workers: FleetWorker[] = [];
  const worker = (o: ConstructorParameters<typeof FleetWorker>[0]): FleetWorker => {
    const w = new FleetWorker(o);
    workers.push(w);
    return w;
  };
  before(async function () {
    if (!requireRedis(this)) return;
    server = await startRedis();
    r = await server.client();
    zscore = new Detector({ model: 'zscore', window: 20, threshold: 'fixed:4' }).fit(trainValues(200));
    online = new Detector({ model: 'gru-online', window: 8, seed: 2 }).fit(trainValues(200));
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop({ graceful: false });
  });
  after(async () => server?.stop());

  /** A fleet with two templates: even series on zscore, odd ones on gru-online (which learns at every point). */
  async function setup(prefix: string, partitions: number, count: number, n: number): Promise<Point[]> {
    await createFleet(r, { prefix, partitions });
    await putTemplate(r, prefix, 'z', zscore);
    await putTemplate(r, prefix, 'g', online);
    const pts = interleaved(count, n);
    const p = pts.map((x) => ({ ...x, template: Number(x.series.slice(5, 8)) % 2 === 0 ? 'z' : 'g' }));
    await produce(
      server.url,
      prefix,
      p.filter((x) => x.template === 'z'),
      'z',
    );
    await produce(
      server.url,
      prefix,
      p.filter((x) => x.template === 'g'),
      'g',
    );
    return pts;
  }
  const ref = (s: string, sp: Point[]): ReturnType<typeof reference> =>
    Number(s.slice(5, 8)) % 2 === 0
      ? reference(zscore, sp)
      : reference(online, sp, online.options.timeFeatures !== false);

  it('a worker that crashes before a commit: another takes over when the lease expires; exactly once, same bits', async () => {
    const prefix = 'crash';
    const pts = await setup(prefix, 4, 16, 150);
    let commits = 0;
    const a = worker({
      redis: server.url,
      prefix,
      id: 'a',
      leaseMs: 600,
      batchSize: 40,
      hooks: {
        beforeCommit: () => {
          // After some committed batches, crash with a processed batch in hand: it must never be committed.
          if (++commits === 6) void a.stop({ graceful: false });
        },
      },
    });
    await a.start();
    await waitFor(() => commits >= 6, 'the crash');
    const done = a.stats();
    expect(done.points).to.be.greaterThan(0);
    expect(done.points).to.be.lessThan(pts.length);
    const b = worker({ redis: server.url, prefix, id: 'b', leaseMs: 600, batchSize: 40 });
    await b.start();
    await waitDone(r, prefix, pts.length);
    const sb = b.stats();
    expect(sb.partitions).to.deep.equal([0, 1, 2, 3]);
    expect(done.points + sb.points).to.equal(pts.length);
    expect(sb.restoreFailures).to.equal(0);
    await expectExact(r, prefix, pts, ref);
  });

  it('a zombie whose lease was taken cannot commit (the fencing check in the commit script)', async () => {
    const prefix = 'zombie';
    const pts = await setup(prefix, 2, 8, 120);
    let commits = 0;
    let b: FleetWorker | null = null;
    const a = worker({
      redis: server.url,
      prefix,
      id: 'a',
      leaseMs: 60_000,
      batchSize: 30,
      hooks: {
        beforeCommit: async () => {
          if (++commits !== 3) return;
          // Stall like a long GC pause: the leases expire, b takes the partitions and finishes the run; then a wakes
          // up and sends the commit of the batch it holds.
          for (let k = 0; k < 2; k++) await r.pexpire(`${prefix}:lease:${k}`, 1);
          await r.del(`${prefix}:worker:a`); // its heartbeat has lapsed too: b counts one live worker
          b = worker({ redis: server.url, prefix, id: 'b', leaseMs: 60_000, batchSize: 30 });
          await b.start();
          await waitDone(r, prefix, pts.length);
        },
      },
    });
    await a.start();
    await waitFor(() => commits >= 3 && a.stats().refused['LEASE'] !== undefined, 'the zombie commit');
    const sa = a.stats();
    expect(sa.refused['LEASE'], 'refused commits').to.be.at.least(1);
    expect(sa.partitions, 'the zombie forgot its partitions').to.deep.equal([]);
    expect((b as unknown as FleetWorker).stats().partitions).to.deep.equal([0, 1]);
    await expectExact(r, prefix, pts, ref);
  });

  it('entries a zombie read from an owned partition are swept by the owner even when no newer entry comes', async () => {
    const prefix = 'stolen';
    const pts = await setup(prefix, 1, 4, 60);
    const w = worker({ redis: server.url, prefix, id: 'owner', leaseMs: 600, batchSize: 50 });
    await w.start();
    await waitDone(r, prefix, pts.length);
    // A stale consumer takes the next entries before the owner's blocked read sees them (XADD and XREADGROUP in one
    // MULTI: blocked readers are served after the transaction), then never commits; nothing comes after them.
    const more = interleaved(4, 64).slice(60 * 4);
    const tx = r.multi();
    for (const p of more) {
      const template = Number(p.series.slice(5, 8)) % 2 === 0 ? 'z' : 'g';
      tx.xadd(`${prefix}:in:0`, '*', 'series', p.series, 'ts', String(p.ts), 'v', String(p.v), 'template', template);
    }
    tx.xreadgroup('GROUP', 'bptt', 'zombie', 'COUNT', 100, 'STREAMS', `${prefix}:in:0`, '>');
    const res = await tx.exec();
    const stolen = res?.[more.length]?.[1] as Array<[string, Array<[string, string[]]>]>;
    expect(stolen[0][1].length, 'entries read by the zombie').to.equal(more.length);
    await waitDone(r, prefix, pts.length + more.length, 10_000);
    const all = [...pts, ...more];
    await expectExact(r, prefix, all, ref);
  });

  it('a batch that starts after entries another consumer holds is refused by the gap check, then swept', async () => {
    const prefix = 'gap';
    const pts = await setup(prefix, 1, 4, 60);
    const w = worker({ redis: server.url, prefix, id: 'owner', leaseMs: 60_000, batchSize: 50 });
    await w.start();
    await waitDone(r, prefix, pts.length);
    // In one MULTI: 15 entries, a stale consumer reads them, then one more entry, which is all the owner's blocked
    // read gets: its batch starts after 15 unprocessed entries, and the commit script must refuse it ('GAP').
    const more = interleaved(4, 64).slice(60 * 4);
    const tx = r.multi();
    more.forEach((p, i) => {
      const template = Number(p.series.slice(5, 8)) % 2 === 0 ? 'z' : 'g';
      tx.xadd(`${prefix}:in:0`, '*', 'series', p.series, 'ts', String(p.ts), 'v', String(p.v), 'template', template);
      if (i === more.length - 2)
        tx.xreadgroup('GROUP', 'bptt', 'zombie', 'COUNT', 100, 'STREAMS', `${prefix}:in:0`, '>');
    });
    await tx.exec();
    await waitDone(r, prefix, pts.length + more.length, 10_000);
    expect(w.stats().refused['GAP'], "commits refused with 'GAP'").to.equal(1);
    await expectExact(r, prefix, [...pts, ...more], ref);
  });

  it('two workers split the partitions; a graceful stop hands them all to the other', async () => {
    const prefix = 'split';
    await createFleet(r, { prefix, partitions: 4 });
    const a = worker({ redis: server.url, prefix, id: 'a', leaseMs: 600, batchSize: 50 });
    await a.start();
    expect(a.stats().partitions).to.deep.equal([0, 1, 2, 3]);
    const b = worker({ redis: server.url, prefix, id: 'b', leaseMs: 600, batchSize: 50 });
    await b.start();
    await waitFor(() => a.stats().partitions.length === 2 && b.stats().partitions.length === 2, 'a 2/2 split');
    expect([...a.stats().partitions, ...b.stats().partitions].sort()).to.deep.equal([0, 1, 2, 3]);
    const all = await setup(prefix, 4, 16, 160);
    const first = all.filter((p) => p.ts < all[0].ts + 80 * 10_000);
    const second = all.filter((p) => p.ts >= all[0].ts + 80 * 10_000);
    // setup produced everything; to hand over mid-run, use a fresh fleet fed in two halves instead.
    expect(first.length + second.length).to.equal(all.length);
    await waitDone(r, prefix, all.length);
    expect(a.stats().points).to.be.greaterThan(0);
    expect(b.stats().points).to.be.greaterThan(0);
    await expectExact(r, prefix, all, ref);

    const prefix2 = 'split2';
    await createFleet(r, { prefix: prefix2, partitions: 4 });
    const c = worker({ redis: server.url, prefix: prefix2, id: 'c', leaseMs: 600, batchSize: 50 });
    const d = worker({ redis: server.url, prefix: prefix2, id: 'd', leaseMs: 600, batchSize: 50 });
    await c.start();
    await d.start();
    await waitFor(() => c.stats().partitions.length === 2 && d.stats().partitions.length === 2, 'a 2/2 split');
    await putTemplate(r, prefix2, 'z', zscore);
    await putTemplate(r, prefix2, 'g', online);
    const tpl = (p: Point): string => (Number(p.series.slice(5, 8)) % 2 === 0 ? 'z' : 'g');
    for (const half of [first, second]) {
      await produce(
        server.url,
        prefix2,
        half.filter((p) => tpl(p) === 'z'),
        'z',
      );
      await produce(
        server.url,
        prefix2,
        half.filter((p) => tpl(p) === 'g'),
        'g',
      );
      if (half === first) {
        await waitDone(r, prefix2, first.length);
        await c.stop(); // graceful: commits, releases its leases, unregisters
        await waitFor(() => d.stats().partitions.length === 4, 'd takes all four partitions', 10_000);
      }
    }
    await waitDone(r, prefix2, all.length);
    expect(d.stats().restoreFailures).to.equal(0);
    // The per-series order of the produced points is what the reference sees.
    const order = [...first.filter((p) => tpl(p) === 'z'), ...first.filter((p) => tpl(p) === 'g')];
    order.push(...second.filter((p) => tpl(p) === 'z'), ...second.filter((p) => tpl(p) === 'g'));
    await expectExact(r, prefix2, order, ref);
  });

  it('a memory budget of one byte: every series is swapped out after each batch and back in; same bits', async () => {
    const prefix = 'lru';
    const pts = await setup(prefix, 2, 10, 120);
    const w = worker({ redis: server.url, prefix, id: 'small', leaseMs: 5000, batchSize: 16, memoryBudget: 1 });
    await w.start();
    await waitDone(r, prefix, pts.length);
    const s = w.stats();
    expect(s.residentSeries, 'nothing stays resident').to.equal(0);
    expect(s.batches).to.be.greaterThan(10);
    expect(s.restoreFailures).to.equal(0);
    await expectExact(r, prefix, pts, ref);
    // And a budget that holds some: the resident estimate stays within it after each batch.
    const prefix2 = 'lru2';
    const pts2 = await setup(prefix2, 2, 10, 120);
    const ckptBytes = (await r.hvals(`${prefix}:ckpt:0`)).map((t) => t.length);
    const budget = 3 * Math.max(...ckptBytes);
    const w2 = worker({
      redis: server.url,
      prefix: prefix2,
      id: 'mid',
      leaseMs: 5000,
      batchSize: 16,
      memoryBudget: budget,
    });
    await w2.start();
    await waitDone(r, prefix2, pts2.length);
    const s2 = w2.stats();
    expect(s2.residentBytes).to.be.at.most(budget);
    expect(s2.residentSeries, 'some series swapped out').to.be.within(1, 9);
    await expectExact(r, prefix2, pts2, ref);
  });
});

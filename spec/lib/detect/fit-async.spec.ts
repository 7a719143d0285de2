/**
 * Detector.fitAsync: the same detector as fit, bit for bit, for every kind of model; the event loop keeps running
 * while it trains; aborting leaves the detector as it was; callbacks reach the network's training.
 */
import { expect } from 'chai';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Detector, type DetectorFitAsyncOptions, type DetectorOptions } from '../../../lib/index';
import { ArgumentError } from '../../../lib/errors';
import { makeRng } from '../../helpers/rng';

function seasonal(n: number, seed: string): number[] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, (_, t) => 10 + 3 * Math.sin((2 * Math.PI * t) / 48) + 0.3 * (rng() - 0.5));
}

async function ticksDuring(run: () => Promise<unknown>): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

/** The whole fitted state (options, normaliser, model weights, calibration) and the scores it gives. */
function fingerprint(d: Detector, series: number[]): string {
  return JSON.stringify(d.toJSON()) + Array.from(d.detect(series).scores).join(',');
}

describe('Detector.fitAsync', function () {
  this.timeout(120000);
  const x = seasonal(700, 'fit-async');
  const train = x.slice(0, 400),
    rest = x.slice(400);

  const kinds: [string, DetectorOptions][] = [
    ['lstm-ae', { model: 'lstm-ae', window: 16, hidden: 8, epochs: 3, seed: 2 }],
    ['lstm-ae, workers: 2', { model: 'lstm-ae', window: 16, hidden: 8, epochs: 3, seed: 2, workers: 2 }],
    ['lstm-forecast', { model: 'lstm-forecast', window: 16, hidden: 8, epochs: 2, seed: 2 }],
    ['gru-online', { model: 'gru-online', window: 16, seed: 2 }],
    ['zscore', { model: 'zscore', window: 16 }],
  ];
  for (const [name, options] of kinds) {
    it(`gives the same detector as fit, bit for bit: ${name}`, async () => {
      const a = new Detector(options).fit(train);
      const b = new Detector(options);
      const returned = await b.fitAsync(train, { yieldEvery: 'batch' });
      expect(returned).to.equal(b);
      expect(fingerprint(b, rest)).to.equal(fingerprint(a, rest));
      a.dispose();
      b.dispose();
    });
  }

  it('lets a 10 ms timer tick while it trains (lstm-ae with workers 1 and 2, gru-online)', async () => {
    const long = seasonal(3000, 'fit-async-long');
    for (const options of [
      { model: 'lstm-ae', window: 32, hidden: 16, epochs: 2, seed: 1, workers: 1 },
      { model: 'lstm-ae', window: 32, hidden: 16, epochs: 2, seed: 1, workers: 2 },
      { model: 'gru-online', window: 32, seed: 1 },
    ] as DetectorOptions[]) {
      const d = new Detector(options);
      const ticks = await ticksDuring(() => d.fitAsync(long));
      expect(ticks, JSON.stringify(options)).to.be.greaterThan(0);
      expect(d.fitted).to.equal(true);
      d.dispose();
    }
  });

  it('an aborted fitAsync leaves an unfitted detector unfitted, and a fitted one as it was', async () => {
    const options: DetectorOptions = { model: 'lstm-ae', window: 16, hidden: 8, epochs: 20, seed: 5 };
    // unfitted: abort after a few batches
    const d = new Detector(options);
    const c = new AbortController();
    let batches = 0;
    const err = await rejection(
      d.fitAsync(train, {
        signal: c.signal,
        onBatchEnd: () => {
          if (++batches === 3) c.abort();
        },
      }),
    );
    expect((err as DOMException).name).to.equal('AbortError');
    expect(batches).to.equal(3);
    expect(d.fitted).to.equal(false);
    expect(d.model).to.equal(null);
    expect(() => d.detect(rest)).to.throw(ArgumentError, /not fitted/);

    // fitted: a refit on other data, aborted from outside, keeps the first fit's state; detect works meanwhile
    const f = new Detector(options).fit(train, { onEpochEnd: ({ epoch }) => epoch < 1 });
    const before = fingerprint(f, rest);
    const c2 = new AbortController();
    const other = seasonal(400, 'other').map((v) => 2 * v);
    const refit = rejection(f.fitAsync(other, { signal: c2.signal, yieldEvery: 'batch' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fingerprint(f, rest)).to.equal(before); // during the refit
    c2.abort(new Error('stop'));
    expect(((await refit) as Error).message).to.equal('stop');
    expect(fingerprint(f, rest)).to.equal(before);

    // an already aborted signal: rejected before anything, gru-online too
    const g = new Detector({ model: 'gru-online', window: 16, seed: 2 });
    expect(((await rejection(g.fitAsync(train, { signal: AbortSignal.abort() }))) as DOMException).name).to.equal(
      'AbortError',
    );
    expect(g.fitted).to.equal(false);
    // and a gru-online probation aborted partway
    const c3 = new AbortController();
    setTimeout(() => c3.abort(), 5);
    const err3 = await rejection(g.fitAsync(seasonal(4000, 'g'), { signal: c3.signal, yieldEvery: 'batch' }));
    expect((err3 as DOMException).name).to.equal('AbortError');
    expect(g.fitted).to.equal(false);
    expect(g.online).to.equal(null);
  });

  it('a failed sync fit leaves the detector as it was too', () => {
    const d = new Detector({ model: 'lstm-ae', window: 16, hidden: 8, epochs: 2, seed: 5 }).fit(train);
    const before = fingerprint(d, rest);
    expect(() =>
      d.fit(seasonal(400, 'x'), {
        onBatchEnd: ({ batch }) => {
          if (batch === 2) throw new Error('callback failed');
        },
      }),
    ).to.throw(Error, 'callback failed');
    expect(fingerprint(d, rest)).to.equal(before);
  });

  it("callbacks reach the network's training in fit and fitAsync, after the constructor's onEpochEnd", async () => {
    const run = async (asyncFit: boolean): Promise<string[]> => {
      const events: string[] = [];
      const d = new Detector({
        model: 'dense-ae',
        window: 16,
        epochs: 3,
        seed: 1,
        batchSize: 128,
        onEpochEnd: ({ epoch }) => void events.push(`ctor epochEnd ${epoch}`),
      });
      const options = {
        onTrainBegin: ({ epochs, batches }: { epochs: number; batches: number }) =>
          void events.push(`trainBegin ${epochs} ${batches}`),
        onEpochBegin: ({ epoch }: { epoch: number }) => void events.push(`epochBegin ${epoch}`),
        onBatchEnd: ({ batch }: { batch: number }) => void events.push(`batchEnd ${batch}`),
        onEpochEnd: ({ epoch }: { epoch: number }) => {
          events.push(`epochEnd ${epoch}`);
          return epoch < 1; // stop after epoch 1
        },
        onTrainEnd: ({ epoch }: { epoch: number[] }) => void events.push(`trainEnd ${epoch.join(',')}`),
      };
      if (asyncFit) await d.fitAsync(train, options);
      else d.fit(train, options);
      expect(d.fitted).to.equal(true);
      return events;
    };
    const sync = await run(false);
    // 400 points, window 16: 385 windows, 10 % held out for validation → 347 training windows in 3 batches of 128
    expect(sync).to.deep.equal([
      'trainBegin 3 3',
      'epochBegin 0',
      'batchEnd 0',
      'batchEnd 1',
      'batchEnd 2',
      'ctor epochEnd 0',
      'epochEnd 0',
      'epochBegin 1',
      'batchEnd 0',
      'batchEnd 1',
      'batchEnd 2',
      'ctor epochEnd 1',
      'epochEnd 1',
      'trainEnd 0,1',
    ]);
    expect(await run(true)).to.deep.equal(sync);
  });

  it("the README's worker recipe in a worker thread: fitAsync there, toJSON back, fromJSON here; cancel", async () => {
    // The worker script of the README, for worker_threads (parentPort instead of self).
    const script = `
      const { parentPort } = require('worker_threads');
      const { Detector } = require(${JSON.stringify(path.join(__dirname, '../../../lib/index.js'))});
      let controller = null;
      parentPort.on('message', async (data) => {
        if (data.type === 'cancel') return controller?.abort();
        controller = new AbortController();
        try {
          const detector = await new Detector(data.options).fitAsync(data.series, {
            signal: controller.signal,
            onEpochEnd: ({ epoch, loss }) => parentPort.postMessage({ type: 'progress', epoch, loss }),
          });
          parentPort.postMessage({ type: 'done', detector: detector.toJSON() });
        } catch (e) {
          parentPort.postMessage({ type: 'error', name: e.name, message: String(e) });
        }
      });`;
    const worker = new Worker(script, { eval: true });
    const job = (
      options: DetectorOptions,
      cancelAt: number | null,
    ): Promise<{ type: string; [k: string]: unknown }[]> =>
      new Promise((resolve) => {
        const got: { type: string; [k: string]: unknown }[] = [];
        const onMessage = (m: { type: string; epoch?: number }): void => {
          got.push(m);
          if (m.type === 'progress' && m.epoch === cancelAt) worker.postMessage({ type: 'cancel' });
          if (m.type === 'done' || m.type === 'error') {
            worker.off('message', onMessage);
            resolve(got);
          }
        };
        worker.on('message', onMessage);
        worker.postMessage({ type: 'train', options, series: train });
      });
    try {
      const options: DetectorOptions = { model: 'lstm-ae', window: 16, hidden: 8, epochs: 30, seed: 4 };
      // cancelled after the epoch-1 progress message: the worker reports an AbortError before the last epoch
      const cancelled = await job(options, 1);
      const last = cancelled[cancelled.length - 1];
      expect(last.type).to.equal('error');
      expect(last.name).to.equal('AbortError');
      expect(cancelled.filter((m) => m.type === 'progress').length).to.be.below(30);
      // the same worker trains the next job; the detector it posts back is the one fit gives here
      const short = { ...options, epochs: 3 };
      const done = await job(short, null);
      expect(done.map((m) => m.type)).to.deep.equal(['progress', 'progress', 'progress', 'done']);
      const fromWorker = Detector.fromJSON(done[3].detector);
      const here = new Detector(short).fit(train);
      expect(fingerprint(fromWorker, rest)).to.equal(fingerprint(here, rest));
    } finally {
      await worker.terminate();
    }
  });

  it('bad options are ArgumentErrors naming the argument; models without epochs refuse callbacks', async () => {
    const d = new Detector({ model: 'lstm-ae', window: 16, hidden: 4, epochs: 1 });
    const cases: [unknown, RegExp][] = [
      [{ timestamp: [] }, /^fitAsync: .*unknown option "timestamp" \(did you mean 'timestamps'\?\)/],
      [{ signal: new AbortController() }, /^fitAsync\(signal\): expected an AbortSignal/],
      [{ yieldEvery: 'often' }, /^fitAsync\(yieldEvery\): expected 'auto', 'batch', 'epoch', 'never'/],
      [{ onEpochEnd: 3 }, /^fitAsync\(onEpochEnd\): expected a function, got 3/],
    ];
    for (const [o, re] of cases) {
      const e = await rejection(d.fitAsync(train, o as DetectorFitAsyncOptions));
      expect(e, JSON.stringify(o)).to.be.instanceOf(ArgumentError);
      expect((e as Error).message).to.match(re);
    }
    expect(() => d.fit(train, { yieldEvery: 10 } as never)).to.throw(ArgumentError, /^fit\(yieldEvery\): /);
    expect(() => d.fit(train, { signal: 'x' } as never)).to.throw(ArgumentError, /^fit\(signal\): /);
    for (const model of ['gru-online', 'zscore'] as const) {
      const e = await rejection(new Detector({ model, window: 16 }).fitAsync(train, { onBatchEnd: () => undefined }));
      expect(e).to.be.instanceOf(ArgumentError);
      expect((e as Error).message).to.match(
        new RegExp(`^fitAsync\\(onBatchEnd\\): .*model '${model}' has no epochs or batches to report`),
      );
    }
    expect(d.fitted).to.equal(false);
  });
});

import { expect } from 'chai';
import {
  type Sequential,
  lstmAutoencoder,
  type FitAsyncOptions,
  type History,
  type YieldEvery,
} from '../../../lib/index';
import { ArgumentError } from '../../../lib/errors';
import { makeRandom } from '../../../lib/random';
import { poolOf } from '../../../lib/parallel/pool';

/** N random windows [N, T, 1] as one float32 tensor. */
function windows(N: number, T: number, seed: string): { data: Float32Array; shape: number[] } {
  const r = makeRandom(seed);
  return { data: Float32Array.from({ length: N * T }, () => r.uniform() - 0.5), shape: [N, T, 1] };
}

const small = (): Sequential => lstmAutoencoder({ window: 8, features: 1, units: [6, 3], seed: 3 });
const xs = windows(40, 8, 'fit-async-small');

/** Everything a model is after training: architecture, weights and optimizer state (moments, step count). */
function state(m: Sequential): string {
  return JSON.stringify(m.toJSON());
}

/** Counts the ticks of a 10 ms interval while `run` is pending. */
async function ticksDuring(run: () => Promise<unknown> | unknown): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

/** Counts macrotask turns: a setImmediate chain that re-arms itself until stopped. */
function turnCounter(): { turns: () => number; stop: () => void } {
  let turns = 0,
    running = true;
  const tick = (): void => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    turns: () => turns,
    stop: () => {
      running = false;
    },
  };
}

describe('Sequential.fitAsync', function () {
  this.timeout(120000);

  for (const workers of [1, 2]) {
    it(`gives the same bits as fit (weights, optimizer state, history), workers: ${workers}`, async () => {
      const options = {
        epochs: 4,
        batchSize: 8,
        seed: 'same',
        validationSplit: 0.25,
        earlyStopping: { patience: 2 },
        workers,
      };
      const a = small(),
        b = small();
      const ha = a.fit(xs, xs, options);
      const hb = await b.fitAsync(xs, xs, { ...options, yieldEvery: 'batch' });
      expect(hb).to.deep.equal(ha);
      expect(ha.loss.length).to.equal(4);
      expect(state(b)).to.equal(state(a));
      // and the training did something: the weights moved from the initial ones
      expect(state(a)).to.not.equal(state(small().build([8, 1])));
      a.dispose();
      b.dispose();
    });
  }

  for (const workers of [1, 2]) {
    it(`lets a 10 ms timer tick during a ~1 s fit (workers: ${workers}); fit does not`, async () => {
      const x = windows(256, 32, 'fit-async-big');
      const options = { epochs: 6, batchSize: 32, workers }; // about 1 s: several 125 ms yields even on a fast machine
      const sync = lstmAutoencoder({ window: 32, features: 1, units: [32, 16], seed: 1 });
      const syncTicks = await ticksDuring(() => sync.fit(x, x, options));
      const m = lstmAutoencoder({ window: 32, features: 1, units: [32, 16], seed: 1 });
      let history: History | null = null;
      const asyncTicks = await ticksDuring(async () => {
        history = await m.fitAsync(x, x, options);
      });
      expect(syncTicks).to.equal(0);
      expect(asyncTicks).to.be.greaterThan(0);
      expect(history).to.not.equal(null);
      expect(state(m)).to.equal(state(sync));
      if (workers === 2) expect(poolOf(m)).to.not.equal(null);
      m.dispose();
      sync.dispose();
    });
  }

  it('yields through a MessageChannel where there is no setImmediate (browsers, Web Workers)', async () => {
    const g = globalThis as { setImmediate?: unknown };
    const saved = g.setImmediate;
    const x = windows(256, 32, 'fit-async-big');
    const m = lstmAutoencoder({ window: 32, features: 1, units: [32, 16], seed: 1 });
    let ticks: number;
    g.setImmediate = undefined;
    try {
      ticks = await ticksDuring(() => m.fitAsync(x, x, { epochs: 1, batchSize: 32, yieldEvery: 'batch' }));
    } finally {
      g.setImmediate = saved;
    }
    expect(ticks).to.be.greaterThan(0);
  });

  it("yieldEvery: 'batch' yields after every batch, 'epoch' after every epoch, 'never' not at all", async () => {
    const seen = async (yieldEvery: YieldEvery): Promise<number[][]> => {
      const counter = turnCounter();
      const perEpoch: number[][] = [];
      try {
        await small().fitAsync(xs, xs, {
          epochs: 2,
          batchSize: 10,
          yieldEvery,
          onEpochBegin: () => {
            perEpoch.push([]);
          },
          onBatchEnd: () => {
            perEpoch[perEpoch.length - 1].push(counter.turns());
          },
        });
      } finally {
        counter.stop();
      }
      return perEpoch;
    };
    const increasing = (a: number[]): boolean => a.every((v, i) => i === 0 || v > a[i - 1]);
    const batch = await seen('batch');
    expect(batch.map((e) => e.length)).to.deep.equal([4, 4]);
    expect(increasing(batch.flat()), JSON.stringify(batch)).to.equal(true);
    const epoch = await seen('epoch');
    for (const e of epoch) expect(new Set(e).size, JSON.stringify(epoch)).to.equal(1);
    expect(epoch[1][0], JSON.stringify(epoch)).to.be.greaterThan(epoch[0][0]);
    const never = await seen('never');
    expect(never.flat()).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('calls the callbacks in order, the same in fit and fitAsync, and awaits async ones', async () => {
    const log = (events: string[]): FitAsyncOptions => ({
      onTrainBegin: (l) => void events.push(`trainBegin ${l.initialEpoch}-${l.epochs} ${l.batches}x ${l.samples}`),
      onEpochBegin: (l) => void events.push(`epochBegin ${l.epoch}/${l.epochs}`),
      onBatchBegin: (l) => void events.push(`batchBegin ${l.epoch}.${l.batch}/${l.batches} size ${l.size}`),
      onBatchEnd: (l) => void events.push(`batchEnd ${l.epoch}.${l.batch} size ${l.size} ${l.loss > 0}`),
      onEpochEnd: (l) => void events.push(`epochEnd ${l.epoch}`),
      onTrainEnd: (h) => void events.push(`trainEnd ${h.epoch.join(',')}`),
    });
    const syncEvents: string[] = [],
      asyncEvents: string[] = [];
    small().fit(xs, xs, { epochs: 2, batchSize: 24, ...(log(syncEvents) as object) });
    await small().fitAsync(xs, xs, { epochs: 2, batchSize: 24, ...log(asyncEvents) });
    expect(syncEvents).to.deep.equal([
      'trainBegin 0-2 2x 40',
      'epochBegin 0/2',
      'batchBegin 0.0/2 size 24',
      'batchEnd 0.0 size 24 true',
      'batchBegin 0.1/2 size 16',
      'batchEnd 0.1 size 16 true',
      'epochEnd 0',
      'epochBegin 1/2',
      'batchBegin 1.0/2 size 24',
      'batchEnd 1.0 size 24 true',
      'batchBegin 1.1/2 size 16',
      'batchEnd 1.1 size 16 true',
      'epochEnd 1',
      'trainEnd 0,1',
    ]);
    expect(asyncEvents).to.deep.equal(syncEvents);

    // An async callback is awaited before the next step: each batch begins only after the previous onBatchEnd settled.
    const order: string[] = [];
    await small().fitAsync(xs, xs, {
      epochs: 1,
      batchSize: 20,
      onBatchBegin: ({ batch }) => void order.push(`begin ${batch}`),
      onBatchEnd: async ({ batch }) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`settled ${batch}`);
      },
    });
    expect(order).to.deep.equal(['begin 0', 'settled 0', 'begin 1', 'settled 1']);
  });

  it('stops when onEpochEnd returns or resolves to false, as fit does', async () => {
    const a = small(),
      b = small();
    const ha = a.fit(xs, xs, { epochs: 5, batchSize: 8, onEpochEnd: ({ epoch }) => epoch !== 1 });
    const hb = await b.fitAsync(xs, xs, {
      epochs: 5,
      batchSize: 8,
      onEpochEnd: async ({ epoch }) => {
        await Promise.resolve();
        return epoch !== 1;
      },
    });
    expect(ha.epoch).to.deep.equal([0, 1]);
    expect(hb).to.deep.equal(ha);
    expect(state(b)).to.equal(state(a));
  });

  describe('AbortSignal', () => {
    it('an already aborted signal rejects with an AbortError before any step', async () => {
      const m = small().build([8, 1]);
      const before = state(m);
      let batches = 0;
      const err = await m
        .fitAsync(xs, xs, { epochs: 2, signal: AbortSignal.abort(), onBatchBegin: () => void batches++ })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(DOMException);
      expect((err as DOMException).name).to.equal('AbortError');
      expect(batches).to.equal(0);
      expect(state(m)).to.equal(before);
      // the reason given to abort() is what the promise rejects with
      const reason = new Error('user cancelled');
      const c = new AbortController();
      c.abort(reason);
      const err2 = await m.fitAsync(xs, xs, { signal: c.signal }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err2).to.equal(reason);
    });

    for (const workers of [1, 2]) {
      it(`abort keeps the last step, as sync fit stopped there; pool still works (workers: ${workers})`, async () => {
        const options = { epochs: 6, batchSize: 4, seed: 'abort', workers };
        // Abort from outside (a timer), some batches into training.
        const a = small();
        const c = new AbortController();
        let done = 0;
        const timer = setInterval(() => {
          if (done >= 7) c.abort();
        }, 1);
        const err = await a
          .fitAsync(xs, xs, { ...options, yieldEvery: 'batch', signal: c.signal, onBatchEnd: () => void done++ })
          .then(
            () => null,
            (e: unknown) => e,
          );
        clearInterval(timer);
        expect((err as DOMException).name).to.equal('AbortError');
        expect(done).to.be.at.least(7);
        expect(done).to.be.below(6 * 10); // it stopped before the end (10 batches per epoch)
        // The same training, synchronous, stopped after the same number of steps by aborting in onBatchEnd.
        const b = small();
        const c2 = new AbortController();
        let n = 0;
        expect(() =>
          b.fit(xs, xs, {
            ...options,
            signal: c2.signal,
            onBatchEnd: () => {
              if (++n === done) c2.abort();
            },
          }),
        ).to.throw(DOMException, /aborted/);
        expect(state(a)).to.equal(state(b));
        // Both continue alike: the optimizer state matches the weights, and the worker pool still trains.
        const ha = await a.fitAsync(xs, xs, { ...options, epochs: 1 });
        const hb = b.fit(xs, xs, { ...options, epochs: 1 });
        expect(ha).to.deep.equal(hb);
        expect(state(a)).to.equal(state(b));
        if (workers === 2) expect(poolOf(a)).to.not.equal(null);
        a.dispose();
        b.dispose();
      });
    }
  });

  it('refuses a second fit of the same model while a fitAsync runs; fine again once it settles', async () => {
    const m = small();
    const running = m.fitAsync(xs, xs, { epochs: 2, batchSize: 8, yieldEvery: 'batch' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => m.fit(xs, xs)).to.throw(ArgumentError, /already training/);
    const second = await m.fitAsync(xs, xs).then(
      () => null,
      (e: unknown) => e,
    );
    expect(second).to.be.instanceOf(ArgumentError);
    await running;
    expect(m.fit(xs, xs).epoch).to.deep.equal([0]);
  });

  it('bad options are ArgumentErrors naming the argument', async () => {
    const m = small();
    const rejection = (o: unknown): Promise<unknown> =>
      m.fitAsync(xs, xs, o as FitAsyncOptions).then(
        () => null,
        (e: unknown) => e,
      );
    const cases: [unknown, RegExp][] = [
      [{ yieldEvry: 'batch' }, /^fitAsync: .*unknown option "yieldEvry" \(did you mean 'yieldEvery'\?\)/],
      [{ signal: { aborted: 'no' } }, /^fitAsync\(signal\): expected an AbortSignal .*got an object/],
      [{ signal: 'stop' }, /^fitAsync\(signal\): expected an AbortSignal/],
      [{ yieldEvery: 'sometimes' }, /^fitAsync\(yieldEvery\): expected 'auto', 'batch', 'epoch', 'never' or a number/],
      [{ yieldEvery: -5 }, /^fitAsync\(yieldEvery\): .*got -5/],
      [{ yieldEvery: NaN }, /^fitAsync\(yieldEvery\): .*got NaN/],
      [{ onBatchBegin: 'log' }, /^fitAsync\(onBatchBegin\): expected a function/],
      [null, /^fitAsync: expected an options object/],
    ];
    for (const [o, re] of cases) {
      const e = await rejection(o);
      expect(e, JSON.stringify(o)).to.be.instanceOf(ArgumentError);
      expect((e as Error).message, JSON.stringify(o)).to.match(re);
    }
    // fit: yieldEvery is fitAsync's, a Promise-returning callback cannot be waited for, the signal is checked too
    expect(() => m.fit(xs, xs, { yieldEvery: 'batch' } as never)).to.throw(
      ArgumentError,
      /^fit\(yieldEvery\): .*fit runs to the end without yielding; yieldEvery is an option of fitAsync/,
    );
    expect(() => m.fit(xs, xs, { signal: 1 } as never)).to.throw(
      ArgumentError,
      /^fit\(signal\): expected an AbortSignal/,
    );
    expect(() => m.fit(xs, xs, { onEpochEnd: async () => true } as never)).to.throw(
      ArgumentError,
      /^fit\(onEpochEnd\): .*returned a Promise, which fit cannot wait for; use fitAsync/,
    );
  });
});

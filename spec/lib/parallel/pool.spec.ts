import { expect } from 'chai';
import {
  Sequential,
  Layer,
  TrainingDivergedError,
  lstm,
  dense,
  lstmAutoencoder,
  resolveWorkers,
  availableCores,
} from '../../../lib/index';
import { makeRandom } from '../../../lib/random';
import type { FloatArray } from '../../../kernels/matmul';
import type { ForwardContext } from '../../../lib/model/layers/layer';
import { poolOf } from '../../../lib/parallel/pool';
import { MIN_ROWS } from '../../../lib/parallel/auto';
import { ArgumentError } from '../../../lib/errors';

function windows(N: number, T: number, D: number, seed: string): number[][][] {
  const r = makeRandom(seed);
  return Array.from({ length: N }, () =>
    Array.from({ length: T }, () => Array.from({ length: D }, () => r.uniform() - 0.5)),
  );
}

/** A parameter-free layer that layerFromConfig does not know: a worker cannot rebuild a model that contains it. */
class Identity extends Layer {
  readonly className = 'TestIdentity';
  constructor() {
    super('test_identity');
  }
  protected computeOutputShape(s: readonly number[]): number[] {
    return s.slice();
  }
  forward(x: FloatArray, _N: number, _ctx: ForwardContext): FloatArray {
    return x;
  }
  backward(dy: FloatArray, _needDx: boolean): FloatArray | null {
    return dy;
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

describe('worker pool', () => {
  const x = windows(24, 6, 2, 'pool-x');
  const small = (): Sequential => lstmAutoencoder({ window: 6, features: 2, units: 4, seed: 1 });

  describe('the workers option', () => {
    const bad: unknown[] = [0, -1, 1.5, NaN, Infinity, 65, '2', 'all', true, [2]]; // (undefined and null mean the default)
    it('rejects anything but a positive integer (≤ 64) or "auto", naming the argument, the expectation and the value', () => {
      const m = small();
      for (const w of bad) {
        const expected = /expected a positive integer \(at most 64\) or 'auto', got /;
        expect(() => m.fit(x, x, { workers: w as number }), `fit ${String(w)}`)
          .to.throw(ArgumentError, /^fit\(workers\): /)
          .and.match(expected);
        expect(() => m.predict(x, { workers: w as number }), `predict ${String(w)}`).to.throw(
          ArgumentError,
          /^predict\(workers\): /,
        );
      }
      expect(() => m.fit(x, x, { workers: '2' as unknown as number })).to.throw(ArgumentError, /got "2"$/);
      expect(() => m.fit(x, x, { workers: 0 })).to.throw(ArgumentError, /got 0$/);
    });

    it('a stateful model: explicit 2 workers is a ArgumentError, "auto" trains on one thread', () => {
      const m = new Sequential([lstm({ units: 3, stateful: true, inputShape: [6, 2] }), dense({ units: 2 })]);
      const y = x.map(() => [0, 0]);
      expect(() => m.fit(x, y, { batchSize: 8, shuffle: false, workers: 2 })).to.throw(
        ArgumentError,
        /fit\(workers\): a stateful model runs on one thread/,
      );
      expect(() => m.predict(x, { batchSize: 8, workers: 2 })).to.throw(
        ArgumentError,
        /predict\(workers\): a stateful model/,
      );
      expect(resolveWorkers(m, 8, 'auto')).to.equal(1);
      m.fit(x, y, { batchSize: 8, shuffle: false, workers: 'auto' });
      expect(poolOf(m)).to.equal(null);
    });
  });

  describe("'auto'", () => {
    it('is 1 for small work, a batch below 2·MIN_ROWS, or a stateful model; a deterministic count ≤ the cores otherwise', () => {
      expect(resolveWorkers(small(), 32)).to.equal(1); // ~0.1 MFLOP per step
      const big = lstmAutoencoder({ window: 64, features: 8, units: 64, seed: 1 }); // ~1.3 GFLOP per step at B = 64
      expect(resolveWorkers(big, 2 * MIN_ROWS - 1)).to.equal(1);
      const n = resolveWorkers(big, 64);
      expect(n).to.equal(Math.min(availableCores(), Math.floor(64 / MIN_ROWS)));
      expect(resolveWorkers(big, 64)).to.equal(n);
      expect(resolveWorkers(big, 4096, 'auto', { task: 'predict' })).to.equal(
        Math.min(availableCores(), 4096 / MIN_ROWS),
      );
      expect(resolveWorkers(big, 1, 'auto', { task: 'predict' })).to.equal(1);
      expect(resolveWorkers(big, 64, 3)).to.equal(3); // explicit counts pass through
    });

    it('with a small model trains exactly as workers: 1 (no pool is started)', () => {
      const a = small(),
        b = small();
      a.fit(x, x, { epochs: 2, batchSize: 8 });
      b.fit(x, x, { epochs: 2, batchSize: 8, workers: 1 });
      expect(a.getWeights()).to.deep.equal(b.getWeights());
      expect(poolOf(a)).to.equal(null);
    });
  });

  describe('lifetime', () => {
    it('one pool per model: reused by later fits and predicts (same threads), grown on demand, ended by dispose()', async () => {
      const m = small();
      m.fit(x, x, { epochs: 1, batchSize: 8, workers: 2 });
      const pool = poolOf(m);
      expect(pool).to.not.equal(null);
      const ids = pool!.threadIds();
      expect(ids).to.have.length(1);
      m.fit(x, x, { epochs: 1, batchSize: 8, workers: 2 });
      m.predict(x, { workers: 2 });
      expect(poolOf(m)).to.equal(pool);
      expect(pool!.threadIds()).to.deep.equal(ids);
      m.predict(x, { workers: 3 }); // grows: the first worker stays
      expect(pool!.threadIds()).to.have.length(2);
      expect(pool!.threadIds()[0]).to.equal(ids[0]);
      m.dispose();
      expect(poolOf(m)).to.equal(null);
      await pool!.exited; // every worker thread has ended
      m.fit(x, x, { epochs: 1, batchSize: 8, workers: 2 }); // still usable: a new pool
      expect(poolOf(m)!.threadIds()[0]).to.not.equal(ids[0]);
      m.dispose();
    });
  });

  describe('failures', () => {
    it('an error thrown in a worker makes fit throw an Error carrying its message (no hang), and the model recovers', () => {
      const m = small();
      m.fit(x, x, { epochs: 1, batchSize: 8, workers: 2 });
      const w0 = m.getWeights();
      poolOf(m)!.injectFault(1, 'injected failure for the test');
      expect(() => m.fit(x, x, { epochs: 1, batchSize: 8, workers: 2 })).to.throw(
        Error,
        /^fit\(workers\): worker 1 failed: Error: injected failure for the test$/,
      );
      expect(poolOf(m)).to.equal(null); // the failed pool is gone
      expect(m.getWeights()).to.deep.equal(w0); // the failure came before the first update
      m.fit(x, x, { epochs: 1, batchSize: 8, workers: 2 });
      m.predict(x, { workers: 2 });
      const pool = poolOf(m)!;
      pool.injectFault(1, 'in predict');
      expect(() => m.predict(x, { workers: 2 })).to.throw(
        Error,
        /^predict\(workers\): worker 1 failed: Error: in predict$/,
      );
      m.dispose();
    });

    it('a worker that cannot build the model (a layer it does not know) fails the call with its reason', () => {
      const m = new Sequential([lstm({ units: 3, inputShape: [6, 2] }), new Identity(), dense({ units: 1 })]);
      const y = x.map(() => [0]);
      expect(() => m.fit(x, y, { epochs: 1, batchSize: 8, workers: 2 })).to.throw(
        Error,
        /^fit\(workers\): worker 1 could not start: .*TestIdentity/,
      );
      m.fit(x, y, { epochs: 1, batchSize: 8, workers: 1 }); // one thread is fine
    });

    it('a non-finite loss that only a worker sees stops the fit with TrainingDivergedError, weights unchanged', () => {
      const m = new Sequential([lstm({ units: 3, inputShape: [6, 2] }), dense({ units: 1 })], {
        dtype: 'float64',
        seed: 2,
      }).build();
      const y = x.slice(0, 4).map(() => [0]);
      y[3] = [1e200]; // (ŷ − 1e200)² overflows to Infinity; row 3 is in shard 1 of 2
      const w0 = m.getWeights();
      expect(() => m.fit(x.slice(0, 4), y, { epochs: 1, batchSize: 4, shuffle: false, workers: 2 })).to.throw(
        TrainingDivergedError,
        /loss became Infinity at epoch 0, batch 0/,
      );
      expect(m.getWeights()).to.deep.equal(w0);
      m.dispose();
    });
  });
});

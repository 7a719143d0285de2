import { expect } from 'chai';
import {
  Sequential,
  lstm,
  gru,
  dense,
  dropout,
  lstmAutoencoder,
  sequenceClassifier,
  type FitOptions,
} from '../../../lib/index';
import { makeRandom } from '../../../lib/random';
import type { FloatArray } from '../../../kernels/matmul';
import type { TensorLike } from '../../../lib/tensor';

/** Seeded windows in [−0.5, 0.5): N × T × D, as { data, shape } of the given dtype. */
function windows(
  N: number,
  T: number,
  D: number,
  seed: string,
  f64 = false,
): { data: Float32Array | Float64Array; shape: number[] } {
  const r = makeRandom(seed);
  const data = f64 ? new Float64Array(N * T * D) : new Float32Array(N * T * D);
  for (let i = 0; i < data.length; i++) data[i] = r.uniform() - 0.5;
  return { data, shape: [N, T, D] };
}

const flat = (m: Sequential): number[] => m.getWeights().flatMap((w) => Array.from(w));

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).to.equal(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/**
 * Trains `model` from the weights w0 with a fresh optimizer and returns its weights and losses. Tests reuse one model
 * per architecture across runs and worker counts: that is also a check that a reused pool starts each fit clean.
 */
function refit(
  model: Sequential,
  w0: FloatArray[],
  x: TensorLike,
  y: TensorLike,
  options: FitOptions,
): { weights: number[]; loss: number[] } {
  model.setWeights(w0);
  model.optimizer = null;
  const h = model.fit(x, y, options);
  return { weights: flat(model), loss: h.loss };
}

describe('fit with worker threads', () => {
  const ae = lstmAutoencoder({ window: 6, features: 2, units: 5, seed: 3 });
  const ae64 = lstmAutoencoder({ window: 6, features: 2, units: 5, seed: 3, dtype: 'float64' });
  const w0 = ae.getWeights(),
    w064 = ae64.getWeights();
  const x = windows(40, 6, 2, 'fit-x');
  // 40 samples in batches of 16: two full batches and a last one of 8, so shards of 5/5/6, 8/8, 2/3/3 … all occur.
  const opts: FitOptions = { epochs: 3, batchSize: 16, optimizer: { name: 'adam', learningRate: 0.01 } };
  after(() => {
    ae.dispose();
    ae64.dispose();
  });

  for (const n of [3, 2]) {
    it(`is bit-identical across two runs with ${n} workers (same seed, data and options)`, () => {
      const a = refit(ae, w0, x, x, { ...opts, workers: n }),
        b = refit(ae, w0, x, x, { ...opts, workers: n });
      expect(b.weights).to.deep.equal(a.weights);
      expect(b.loss).to.deep.equal(a.loss);
      expect(maxAbsDiff(a.weights, flat(lstmAutoencoder({ window: 6, features: 2, units: 5, seed: 3 })))).to.be.above(
        0,
      ); // it trained
    });
  }

  it('with dropout, 2 workers are bit-identical run to run (per-shard masks from the fit seed), and differ from 3', () => {
    const m = sequenceClassifier({ window: 5, features: 2, units: 4, seed: 2, recurrent: { dropout: 0.3 } });
    const m0 = m.getWeights();
    const xc = windows(24, 5, 2, 'cls-x');
    const yc = Array.from({ length: 24 }, (_, i) => [i % 2]);
    const o: FitOptions = { epochs: 2, batchSize: 8, seed: 'masks' };
    const c = refit(m, m0, xc, yc, { ...o, workers: 3 });
    const a = refit(m, m0, xc, yc, { ...o, workers: 2 }),
      b = refit(m, m0, xc, yc, { ...o, workers: 2 });
    m.dispose();
    expect(b.weights).to.deep.equal(a.weights);
    expect(maxAbsDiff(c.weights, a.weights)).to.be.above(0);
  });

  it('agrees with 1 worker after 3 epochs (9 Adam steps): float32 to 1e-5, float64 to 1e-12 (only the sum order differs)', () => {
    const one = refit(ae, w0, x, x, { ...opts, workers: 1 }),
      two = refit(ae, w0, x, x, { ...opts, workers: 2 });
    expect(maxAbsDiff(two.weights, one.weights)).to.be.at.most(1e-5);
    two.loss.forEach((l, i) => expect(Math.abs(l - one.loss[i])).to.be.at.most(1e-6 * one.loss[i]));
    const x64 = windows(40, 6, 2, 'fit-x', true);
    const one64 = refit(ae64, w064, x64, x64, { ...opts, workers: 1 }),
      two64 = refit(ae64, w064, x64, x64, { ...opts, workers: 2 });
    expect(maxAbsDiff(two64.weights, one64.weights)).to.be.at.most(1e-12);
    expect(maxAbsDiff(two64.weights, one64.weights)).to.be.above(0); // really the sharded path
  });

  it('the reduced gradient of one step equals gradients() of the whole batch to 1e-6 relative (float64, 2 and 3 workers)', () => {
    const make = (): Sequential =>
      new Sequential(
        [lstm({ units: 4, returnSequences: true, inputShape: [5, 3] }), gru({ units: 3 }), dense({ units: 2 })],
        { dtype: 'float64', seed: 11 },
      ).build();
    const xg = windows(13, 5, 3, 'grad-x', true);
    const r = makeRandom('grad-y');
    const yg = Array.from({ length: 13 }, () => [r.uniform(), r.uniform()]);
    const ref = make().gradients(xg, yg, { loss: 'mse' }).grads;
    for (const n of [3, 2]) {
      // One plain SGD step with learning rate 1 on the whole batch: w1 = w0 − g, so g = w0 − w1.
      const m = make();
      const w0 = m.getWeights();
      m.fit(xg, yg, {
        epochs: 1,
        batchSize: 13,
        shuffle: false,
        optimizer: { name: 'sgd', learningRate: 1 },
        workers: n,
      });
      m.dispose();
      const w1 = m.getWeights();
      ref.forEach((g, p) => {
        for (let i = 0; i < g.length; i++) {
          const got = w0[p][i] - w1[p][i],
            want = g[i];
          const tol = 1e-6 * Math.max(Math.abs(want), 1e-9);
          if (Math.abs(got - want) > tol)
            expect.fail(`${n} workers: weight ${p} index ${i}: gradient ${got}, gradients() ${want}`);
        }
      });
    }
  });

  it('a batch smaller than the worker count works: batch 1 with 2 workers is bit-identical to 1 worker (one shard, scale 1)', () => {
    const x3 = windows(3, 6, 2, 'tiny');
    const one = refit(ae, w0, x3, x3, { epochs: 2, batchSize: 1, workers: 1 });
    const two = refit(ae, w0, x3, x3, { epochs: 2, batchSize: 1, workers: 2 });
    expect(two.weights).to.deep.equal(one.weights);
    const single = refit(ae, w0, x3, x3, { epochs: 2, batchSize: 2, workers: 1 });
    const three = refit(ae, w0, x3, x3, { epochs: 2, batchSize: 2, workers: 3 }); // batches of 2 and 1 over 3 shards
    expect(maxAbsDiff(three.weights, single.weights)).to.be.at.most(1e-5);
  });

  it('validation, early stopping and onBatchEnd work as with one thread', () => {
    const seen: number[] = [];
    ae.setWeights(w0);
    const h = ae.fit(x, x, {
      ...opts,
      epochs: 4,
      workers: 2,
      validationSplit: 0.25,
      earlyStopping: { patience: 1 },
      onBatchEnd: (b) => seen.push(b.loss),
    });
    expect(h.valLoss).to.have.length(h.epoch.length);
    expect(seen.every((l) => Number.isFinite(l) && l > 0)).to.equal(true);
    expect(seen.length).to.equal(h.epoch.length * 2); // 30 training samples in batches of 16
  });

  it('keeps a model with a Dropout layer deterministic and finite', () => {
    const m = new Sequential([lstm({ units: 4, inputShape: [5, 2] }), dropout({ rate: 0.5 }), dense({ units: 1 })], {
      seed: 4,
    }).build();
    const m0 = m.getWeights();
    const xd = windows(16, 5, 2, 'drop-x');
    const yd = Array.from({ length: 16 }, (_, i) => [i / 16]);
    const a = refit(m, m0, xd, yd, { epochs: 2, batchSize: 8, workers: 2 }),
      b = refit(m, m0, xd, yd, { epochs: 2, batchSize: 8, workers: 2 });
    m.dispose();
    expect(a.weights).to.deep.equal(b.weights);
    expect(a.loss.every(Number.isFinite)).to.equal(true);
  });
});

import { expect } from 'chai';
import {
  Sequential,
  lstm,
  gru,
  bidirectional,
  dense,
  dropout,
  lstmAutoencoder,
  gruAutoencoder,
  attentionAutoencoder,
  convAutoencoder,
  type FitOptions,
} from '../../../lib/index';
import { makeRandom } from '../../../lib/random';
import { poolOf, setParamSharing } from '../../../lib/parallel/pool';
import { ArgumentError } from '../../../lib/errors';
import { currentHost, installHost } from '../../../lib/host';

/** Seeded windows in [−0.5, 0.5): N × T × D, as { data, shape } of the model's dtype. */
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

const T = 8,
  D = 3;
/** One of each kind of layer the pool shares: LSTM, GRU, attention, convolutions, bidirectional, Dense, dropout, float64. */
const MODELS: Record<string, () => Sequential> = {
  'LSTM autoencoder': () => lstmAutoencoder({ window: T, features: D, units: 6, seed: 3 }),
  'LSTM autoencoder, float64': () => lstmAutoencoder({ window: T, features: D, units: 6, seed: 3, dtype: 'float64' }),
  'GRU autoencoder, two layers': () => gruAutoencoder({ window: T, features: D, units: [6, 4], seed: 4 }),
  'attention autoencoder': () => attentionAutoencoder({ window: T, features: D, units: 6, seed: 5 }),
  'convolutional autoencoder': () => convAutoencoder({ window: T, features: D, seed: 6 }),
  'bidirectional GRU + Dense': () =>
    new Sequential(
      [bidirectional(gru({ units: 4, returnSequences: true }), { inputShape: [T, D] }), dense({ units: D })],
      {
        seed: 8,
      },
    ),
  'LSTM + dropout + Dense': () =>
    new Sequential(
      [lstm({ units: 5, returnSequences: true, inputShape: [T, D] }), dropout({ rate: 0.3 }), dense({ units: D })],
      { seed: 7 },
    ),
};

interface Run {
  weights: number[][];
  loss: number[];
  pred: number[];
  modes: string[];
}

/** Trains a fresh model (x → x) with n workers (2 epochs, shuffled, batches of 16 of 37 rows: uneven shards); predicts. */
function run(make: () => Sequential, n: number, share: boolean): Run {
  const m = make();
  const f64 = m.dtype === 'float64';
  const x = windows(37, T, D, 'shared-x', f64);
  setParamSharing(share);
  try {
    const opts: FitOptions = { epochs: 2, batchSize: 16, seed: 11, workers: n };
    const h = m.fit(x, x, opts);
    const pred = Array.from(m.predict(x, { batchSize: 8, workers: n }).data);
    const modes = poolOf(m)?.paramModes() ?? [];
    return { weights: m.getWeights().map((w) => Array.from(w)), loss: h.loss, pred, modes };
  } finally {
    setParamSharing(true);
    m.dispose();
  }
}

describe('workers on shared parameters', () => {
  for (const [name, make] of Object.entries(MODELS)) {
    it(`${name}: workers read the parameters in place, and train and predict bit for bit as the copying protocol`, () => {
      for (const n of [2, 3]) {
        const shared = run(make, n, true),
          copied = run(make, n, false);
        expect(shared.modes, `${n} workers, shared`).to.deep.equal(Array(n - 1).fill('shared'));
        expect(copied.modes, `${n} workers, copied`).to.deep.equal(Array(n - 1).fill('copied'));
        expect(shared.loss, `${n} workers: losses`).to.deep.equal(copied.loss);
        expect(shared.weights, `${n} workers: weights`).to.deep.equal(copied.weights);
        expect(shared.pred, `${n} workers: predictions`).to.deep.equal(copied.pred);
        const initial = make()
          .build([T, D])
          .getWeights()
          .map((w) => Array.from(w));
        expect(shared.weights).to.not.deep.equal(initial); // it trained
      }
    });
  }

  it('a worker sees weights set on the main thread at the next call (nothing stale is kept in the worker)', () => {
    const m = lstmAutoencoder({ window: T, features: D, units: 6, seed: 3 });
    const x = windows(24, T, D, 'stale-x');
    try {
      m.predict(x, { batchSize: 4, workers: 2 }); // starts the pool on the initial weights
      const r = makeRandom('stale-w');
      const w = m.getWeights().map((a) => a.map(() => r.uniform() - 0.5));
      m.setWeights(w);
      const one = m.predict(x, { batchSize: 4, workers: 1 }).data,
        two = m.predict(x, { batchSize: 4, workers: 2 }).data; // rows 12–23 computed by the worker
      expect(Array.from(two)).to.deep.equal(Array.from(one));
    } finally {
      m.dispose();
    }
  });

  describe('without SharedArrayBuffer (a browser page that is not cross-origin isolated)', () => {
    const saved = currentHost();
    const g = globalThis as { SharedArrayBuffer?: unknown };
    const sab = g.SharedArrayBuffer;
    beforeEach(() => {
      // What the Node host reports in such an engine: no pool (lib/node/host.ts checks SharedArrayBuffer and Atomics).
      if (saved !== null) installHost({ ...saved, threads: () => null });
      delete g.SharedArrayBuffer;
    });
    afterEach(() => {
      g.SharedArrayBuffer = sab;
      installHost(saved);
    });

    it('workers: 2 is an ArgumentError that names the option and says why; workers "auto" trains on the calling thread', () => {
      const m = lstmAutoencoder({ window: T, features: D, units: 6, seed: 3 });
      const x = windows(16, T, D, 'nosab-x');
      expect(() => m.fit(x, x, { epochs: 1, batchSize: 16, workers: 2 }))
        .to.throw(ArgumentError, /fit\(workers\)/)
        .with.property('message')
        .that.matches(/SharedArrayBuffer.*cross-origin isolation/);
      const ref = lstmAutoencoder({ window: T, features: D, units: 6, seed: 3 });
      m.fit(x, x, { epochs: 1, batchSize: 16, workers: 'auto' });
      g.SharedArrayBuffer = sab; // the reference run needs nothing shared either; restore so it runs as usual
      ref.fit(x, x, { epochs: 1, batchSize: 16, workers: 1 });
      expect(m.getWeights()).to.deep.equal(ref.getWeights());
      expect(poolOf(m)).to.equal(null);
    });
  });
});

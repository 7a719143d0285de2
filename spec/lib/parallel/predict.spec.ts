import { expect } from 'chai';
import {
  type Sequential,
  lstmAutoencoder,
  gruAutoencoder,
  forecaster,
  denseAutoencoder,
  setBackend,
  getBackend,
  type Backend,
} from '../../../lib/index';
import { makeRandom } from '../../../lib/random';
import { wasmSimdAvailable } from '../../../kernels/wasm/arena';

function windows(N: number, T: number, D: number, seed: string): { data: Float32Array; shape: number[] } {
  const r = makeRandom(seed);
  const data = new Float32Array(N * T * D);
  for (let i = 0; i < data.length; i++) data[i] = r.uniform() - 0.5;
  return { data, shape: [N, T, D] };
}

/** Index of the first element where a and b differ (bitwise, NaN-safe), or −1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('predict with worker threads', () => {
  const before = getBackend();
  afterEach(() => setBackend(before));

  const cases: { name: string; make: () => Sequential }[] = [
    { name: 'LSTM autoencoder', make: () => lstmAutoencoder({ window: 7, features: 2, units: [6, 3], seed: 1 }) },
    { name: 'GRU autoencoder', make: () => gruAutoencoder({ window: 7, features: 2, units: 5, seed: 2 }) },
    { name: 'LSTM forecaster', make: () => forecaster({ window: 7, features: 2, units: 5, horizon: 2, seed: 3 }) },
    { name: 'dense autoencoder', make: () => denseAutoencoder({ window: 7, features: 2, units: [6, 2], seed: 4 }) },
    {
      name: 'LSTM autoencoder, float64',
      make: () => lstmAutoencoder({ window: 7, features: 2, units: 5, seed: 5, dtype: 'float64' }),
    },
  ];
  const backends: Backend[] = wasmSimdAvailable() ? ['js', 'wasm'] : ['js'];
  const x = windows(37, 7, 2, 'predict-x');

  for (const backend of backends) {
    // Under 'wasm' only the recurrent cells change kernels (dense layers and float64 models stay on js).
    for (const c of backend === 'js' ? cases : cases.slice(0, 2)) {
      it(`${backend}: ${c.name}: 2 and 3 workers give bit-identical outputs to 1 (37 rows, batches of 5)`, () => {
        setBackend(backend);
        const m = c.make();
        const one = m.predict(x, { batchSize: 5, workers: 1 });
        for (const n of [3, 2]) {
          const got = m.predict(x, { batchSize: 5, workers: n });
          expect(got.shape).to.deep.equal(one.shape);
          const at = firstDifference(got.data, one.data);
          expect(at, `${n} workers: first difference at ${at}: ${got.data[at]} vs ${one.data[at]}`).to.equal(-1);
        }
        m.dispose();
      });
    }
  }

  it('fewer rows than workers: 1 and 2 rows with 3 workers', () => {
    const m = lstmAutoencoder({ window: 7, features: 2, units: 4, seed: 6 });
    for (const N of [1, 2]) {
      const xs = { data: x.data.subarray(0, N * 14), shape: [N, 7, 2] };
      expect(Array.from(m.predict(xs, { workers: 3 }).data)).to.deep.equal(
        Array.from(m.predict(xs, { workers: 1 }).data),
      );
    }
    m.dispose();
  });

  it('uses the weights the model has now (workers copy them every call)', () => {
    const m = lstmAutoencoder({ window: 7, features: 2, units: 4, seed: 7 });
    const a = m.predict(x, { workers: 2 }).data.slice();
    m.setWeights(m.getWeights().map((w) => w.map((v) => v * 0.5)));
    const b1 = m.predict(x, { workers: 1 }).data,
      b2 = m.predict(x, { workers: 2 }).data;
    expect(firstDifference(b2, b1)).to.equal(-1);
    expect(firstDifference(b2, a)).to.not.equal(-1);
    m.dispose();
  });

  it('returns an ordinary (not shared) array that later calls do not overwrite', () => {
    const m = lstmAutoencoder({ window: 7, features: 2, units: 4, seed: 8 });
    const a = m.predict(x, { workers: 2 }).data;
    const copy = a.slice();
    m.predict(windows(37, 7, 2, 'other'), { workers: 2 });
    expect(a.buffer instanceof SharedArrayBuffer).to.equal(false);
    expect(firstDifference(a, copy)).to.equal(-1);
    m.dispose();
  });
});

describe('evaluate with worker threads', () => {
  const before = getBackend();
  afterEach(() => setBackend(before));
  const x = windows(37, 7, 2, 'evaluate-x');
  const y = windows(37, 7, 2, 'evaluate-y');
  const backends: Backend[] = wasmSimdAvailable() ? ['js', 'wasm'] : ['js'];

  for (const backend of backends)
    for (const loss of ['mse', 'mae']) {
      it(`${backend}: ${loss}: 2 and 3 workers give the loss of 1 bit for bit (37 rows, batches of 5)`, () => {
        setBackend(backend);
        const m = lstmAutoencoder({ window: 7, features: 2, units: [6, 3], seed: 11 });
        const one = m.evaluate(x, y, { batchSize: 5, workers: 1, loss });
        expect(one).to.be.greaterThan(0);
        for (const n of [2, 3])
          expect(m.evaluate(x, y, { batchSize: 5, workers: n, loss }), `${n} workers`).to.equal(one);
        // the same batches through predict, summed here: an independent check of the figure itself
        const pred = m.predict(x, { batchSize: 37, workers: 1 }).data;
        let s = 0;
        for (let i = 0; i < pred.length; i++) {
          const e = pred[i] - y.data[i];
          s += loss === 'mse' ? e * e : Math.abs(e);
        }
        expect(one).to.be.closeTo(s / pred.length, 1e-6 * (s / pred.length));
        m.dispose();
      });
    }

  it('checks batchSize and workers, naming them', () => {
    const m = lstmAutoencoder({ window: 7, features: 2, units: 3, seed: 12 });
    expect(() => m.evaluate(x, y, { batchSize: 0 })).to.throw(/evaluate\(batchSize\).*positive integer.*0/);
    expect(() => m.evaluate(x, y, { batchSize: 1.5 })).to.throw(/evaluate\(batchSize\).*positive integer.*1\.5/);
    expect(() => m.evaluate(x, y, { workers: 0 })).to.throw(/evaluate\(workers\)/);
    expect(() => m.evaluate(x, y, { workers: 'many' as unknown as number })).to.throw(/evaluate\(workers\)/);
    m.dispose();
  });
});

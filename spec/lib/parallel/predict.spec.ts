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

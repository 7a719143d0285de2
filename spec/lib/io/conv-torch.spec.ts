/**
 * Conv1DTranspose, UpSampling1D and dilated causal Conv1D against PyTorch (torch 1.13 ConvTranspose1d, Upsample nearest,
 * Conv1d after a left pad) on the committed fixture spec/fixtures/conv/conv.json (generator: generate.py beside it; CI
 * reads only the JSON). TensorFlow.js 4.22 has no Conv1DTranspose or UpSampling1D and no gradient for dilation > 1.
 *   forward    float64 model: max |Δ| ≤ 1e-12;  float32 model: ≤ 1e-5
 *   gradients  of L = Σ out·R for the input and every weight, float64: |Δ| / max(|g|, 1) ≤ 1e-10
 *   training   3 full-batch Adam steps (lr 1e-2, MSE): float64 losses and weights ≤ 1e-9; float32 weights ≤ 1e-4
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { Sequential } from '../../../lib/model/sequential';
import { layerFromConfig } from '../../../lib/model/layers/index';
import { modelToJSON } from '../../../lib/io/json';
import { modelFromJSON } from '../../../lib/model/loaders';
import { toTfjs } from '../../../lib/io/tfjs';
import { fromTfjs } from '../../../lib/model/loaders';
import { repoRoot } from '../../helpers/repo';

interface Tensor {
  shape: number[];
  data: number[];
}
interface LayerSpec {
  className: string;
  config: Record<string, unknown>;
}
interface FixtureCase {
  name: string;
  layers: LayerSpec[];
  inputShape: number[];
  x: Tensor;
  weights: number[][];
  y: Tensor;
  R: number[];
  dx: number[];
  dWeights: number[][];
}
interface TrainCase {
  name: string;
  layers: LayerSpec[];
  inputShape: number[];
  x: Tensor;
  target: Tensor;
  weights: number[][];
  lr: number;
  steps: number;
  losses: number[];
  weightsAfter: number[][];
}

const fixture = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'spec', 'fixtures', 'conv', 'conv.json'), 'utf8')) as {
  cases: FixtureCase[];
  train: TrainCase[];
  torch: string;
};

function model(layers: LayerSpec[], inputShape: number[], dtype: 'float32' | 'float64'): Sequential {
  return new Sequential(
    layers.map((l, i) => layerFromConfig(l.className, { ...l.config }, `fixture layer ${i}`)),
    { dtype },
  ).build(inputShape);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxScaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1));
  return m;
}

/** [N, T, C] batch-major → [T, N, C] time-major (what layers read), and back. */
function timeMajor(a: ArrayLike<number>, N: number, T: number, C: number, back = false): Float64Array {
  const out = new Float64Array(N * T * C);
  for (let n = 0; n < N; n++)
    for (let t = 0; t < T; t++)
      for (let c = 0; c < C; c++) {
        const bm = (n * T + t) * C + c,
          tm = (t * N + n) * C + c;
        if (back) out[bm] = a[tm];
        else out[tm] = a[bm];
      }
  return out;
}

const report = new Map<string, number>();

describe(`conv layers against PyTorch (fixture from torch ${fixture.torch})`, () => {
  after(() => {
    if (process.env['BPTT_PARITY_REPORT'])
      for (const [k, v] of report) console.log(`    ${k.padEnd(100)} ${v.toExponential(2)}`);
  });

  for (const c of fixture.cases) {
    describe(c.name, () => {
      it('forward: float64 ≤ 1e-12, float32 ≤ 1e-5', () => {
        for (const [dtype, tol] of [
          ['float64', 1e-12],
          ['float32', 1e-5],
        ] as const) {
          const m = model(c.layers, c.inputShape, dtype);
          expect([c.x.shape[0], ...m.getOutputShape()]).to.deep.equal(c.y.shape);
          m.setWeights(c.weights);
          const y = m.predict({ data: Float64Array.from(c.x.data), shape: c.x.shape }).data;
          const d = maxAbsDiff(y, c.y.data);
          report.set(`${c.name}: ${dtype} forward`, d);
          expect(d, dtype).to.be.at.most(tol);
        }
      });

      it('gradients of Σ out·R for the input and every weight (float64) ≤ 1e-10', () => {
        const m = model(c.layers, c.inputShape, 'float64');
        m.setWeights(c.weights);
        const [N, T, C] = c.x.shape;
        const [To, Co] = m.getOutputShape();
        const ctx = { training: false, random: null };
        let h: Float64Array = timeMajor(c.x.data, N, T, C);
        for (const l of m.layers) h = l.forward(h, N, ctx) as Float64Array;
        const params = m.layers.flatMap((l) => l.params());
        for (const p of params) p.grad.fill(0);
        let d: Float64Array = timeMajor(c.R, N, To, Co);
        for (let i = m.layers.length - 1; i >= 0; i--) d = m.layers[i].backward(d, true) as Float64Array;
        const dx = timeMajor(d, N, T, C, true);
        let worst = maxScaledDiff(dx, c.dx);
        params.forEach((p, i) => (worst = Math.max(worst, maxScaledDiff(p.grad, c.dWeights[i]))));
        report.set(`${c.name}: gradients`, worst);
        expect(worst).to.be.at.most(1e-10);
        expect(Math.max(...c.dx.map(Math.abs))).to.be.above(1e-3);
      });

      it('saves and loads (bptt JSON and the Keras layer format) with the same predictions', () => {
        const m = model(c.layers, c.inputShape, 'float32');
        m.setWeights(c.weights);
        const x = { data: Float32Array.from(c.x.data), shape: c.x.shape };
        const y = Array.from(m.predict(x).data);
        const viaJson = modelFromJSON(JSON.parse(JSON.stringify(modelToJSON(m))));
        expect(Array.from(viaJson.predict(x).data)).to.deep.equal(y);
        const viaKeras = fromTfjs(toTfjs(m));
        expect(viaKeras.layers.map((l) => l.className)).to.deep.equal(m.layers.map((l) => l.className));
        expect(Array.from(viaKeras.predict(x).data)).to.deep.equal(y);
      });
    });
  }

  for (const c of fixture.train) {
    it(`${c.name}: ${c.steps} Adam steps match (float64 ≤ 1e-9, float32 ≤ 1e-4)`, () => {
      for (const [dtype, tol] of [
        ['float64', 1e-9],
        ['float32', 1e-4],
      ] as const) {
        const m = model(c.layers, c.inputShape, dtype);
        m.setWeights(c.weights);
        const h = m.fit(
          { data: Float64Array.from(c.x.data), shape: c.x.shape },
          { data: Float64Array.from(c.target.data), shape: c.target.shape },
          {
            batchSize: c.x.shape[0],
            epochs: c.steps,
            shuffle: false,
            optimizer: { name: 'adam', learningRate: c.lr },
            loss: 'mse',
          },
        );
        const dl = maxAbsDiff(h.loss, c.losses);
        let dw = 0;
        m.getWeights().forEach((w, i) => (dw = Math.max(dw, maxScaledDiff(w, c.weightsAfter[i]))));
        report.set(`${c.name}: ${dtype} losses`, dl);
        report.set(`${c.name}: ${dtype} weights`, dw);
        expect(dl, `${dtype} losses`).to.be.at.most(dtype === 'float64' ? tol : 1e-5);
        expect(dw, `${dtype} weights`).to.be.at.most(tol);
        // not vacuous: the steps moved the weights by far more than the tolerance
        expect(Math.max(...c.weights.map((w, i) => maxAbsDiff(w, c.weightsAfter[i])))).to.be.above(1e-2);
      }
    });
  }
});

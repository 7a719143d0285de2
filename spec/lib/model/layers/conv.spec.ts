/**
 * The convolution layers: output shapes, option validation (errors name the argument), save/load in bptt's JSON format
 * (same predictions bit for bit, strict keys), float64 gradient check of a whole conv stack through Sequential's
 * layers (conv → pool → transpose → upsampling), and Glorot initialisation's range.
 */
import { expect } from 'chai';
import { Sequential } from '../../../../lib/model/sequential';
import {
  averagePooling1d,
  conv1d,
  conv1dTranspose,
  dense,
  dropout,
  lstm,
  maxPooling1d,
  upSampling1d,
  layerFromConfig,
} from '../../../../lib/model/layers/index';
import { modelToJSON } from '../../../../lib/io/json';
import { modelFromJSON } from '../../../../lib/model/loaders';
import { ArgumentError } from '../../../../lib/errors';
import { gradCheck, weightedSum } from '../../../helpers/gradcheck';
import { makeRng, uniform64 } from '../../../helpers/rng';

describe('conv layers', () => {
  it('output shapes follow Keras (SKAB Conv-AE: 60 → 30 → 15 → 30 → 60)', () => {
    const m = new Sequential([
      conv1d({ filters: 32, kernelSize: 7, strides: 2, padding: 'same', activation: 'relu' }),
      dropout({ rate: 0.2 }),
      conv1d({ filters: 16, kernelSize: 7, strides: 2, padding: 'same', activation: 'relu' }),
      conv1dTranspose({ filters: 16, kernelSize: 7, strides: 2, padding: 'same', activation: 'relu' }),
      dropout({ rate: 0.2 }),
      conv1dTranspose({ filters: 32, kernelSize: 7, strides: 2, padding: 'same', activation: 'relu' }),
      conv1dTranspose({ filters: 8, kernelSize: 7, padding: 'same' }),
    ]).build([60, 8]);
    expect(m.layers.map((l) => l.outputShape)).to.deep.equal([
      [30, 32],
      [30, 32],
      [15, 16],
      [30, 16],
      [30, 16],
      [60, 32],
      [60, 8],
    ]);
    expect(m.weights().map((w) => w.shape)).to.deep.equal([
      [7, 8, 32],
      [32],
      [7, 32, 16],
      [16],
      [7, 16, 16],
      [16],
      [7, 32, 16],
      [32],
      [7, 8, 32],
      [8],
    ]);
    const pools = new Sequential([
      conv1d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'causal' }),
      maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' }),
      averagePooling1d({ poolSize: 2 }),
      upSampling1d({ size: 3 }),
      conv1dTranspose({ filters: 2, kernelSize: 3, strides: 2 }),
    ]).build([9, 2]);
    expect(pools.layers.map((l) => l.outputShape)).to.deep.equal([
      [9, 3],
      [5, 3],
      [2, 3],
      [6, 3],
      [13, 2],
    ]);
  });

  it('rejects bad options and input shapes, naming the argument', () => {
    expect(() => conv1d({ filters: 0, kernelSize: 3 })).to.throw(ArgumentError, /conv1d\(filters\)/);
    expect(() => conv1d({ filters: 2 } as never)).to.throw(ArgumentError, /conv1d\(kernelSize\)/);
    expect(() => conv1d({ filters: 2, kernelSize: 3, padding: 'full' as never })).to.throw(/conv1d\(padding\)/);
    expect(() => conv1dTranspose({ filters: 2, kernelSize: 3, padding: 'causal' })).to.throw(
      /conv1dTranspose\(padding\)/,
    );
    expect(() => conv1d({ filters: 2, kernelSize: 3, strides: 2, dilationRate: 2 })).to.throw(
      /conv1d\(dilationRate\).*strides > 1 with dilationRate > 1/,
    );
    expect(() => conv1d({ filters: 2, kernelSize: 3, activation: 'gelu' })).to.throw(/conv1d\(activation\)/);
    expect(() => conv1d({ filters: 2, kernelSize: 3, kernel: 3 } as never)).to.throw(/unknown option/);
    expect(() => maxPooling1d({ poolSize: 1.5 })).to.throw(/maxPooling1d\(poolSize\)/);
    expect(() => averagePooling1d({ padding: 'causal' as never })).to.throw(/averagePooling1d\(padding\)/);
    expect(() => upSampling1d({ size: 0 })).to.throw(/upSampling1d\(size\)/);
    expect(() => new Sequential([conv1d({ filters: 2, kernelSize: 3 })]).build([4])).to.throw(/expected a sequence/);
    expect(() => new Sequential([conv1d({ filters: 2, kernelSize: 5 })]).build([4, 1])).to.throw(
      /'valid' padding needs at least 5 steps, got 4/,
    );
    expect(() => layerFromConfig('Conv1D', { filters: 2, kernelSize: 3, groups: 2 })).to.throw(/unknown option/);
  });

  it('saves and loads in bptt JSON: same configs, same predictions bit for bit (float32 and float64)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const m = new Sequential(
        [
          conv1d({ filters: 4, kernelSize: 3, padding: 'causal', dilationRate: 2, activation: 'tanh' }),
          maxPooling1d({ poolSize: 2, padding: 'same' }),
          conv1d({ filters: 3, kernelSize: 2, strides: 2, padding: 'same', useBias: false }),
          upSampling1d({ size: 2 }),
          averagePooling1d({ poolSize: 2, strides: 1 }),
          conv1dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
          lstm({ units: 3, returnSequences: true }),
          dense({ units: 1 }),
        ],
        { dtype, seed: 3 },
      ).build([11, 2]);
      const json = JSON.parse(JSON.stringify(modelToJSON(m)));
      const back = modelFromJSON(json);
      expect(back.layers.map((l) => l.getConfig())).to.deep.equal(m.layers.map((l) => l.getConfig()));
      const x = Float32Array.from(uniform64(5 * 11 * 2, makeRng('conv-json-x')));
      const a = m.predict({ data: x, shape: [5, 11, 2] }).data,
        b = back.predict({ data: x, shape: [5, 11, 2] }).data;
      expect(Array.from(b)).to.deep.equal(Array.from(a));
      expect(a.some((v) => v !== 0)).to.equal(true);
      // strict: an unknown key in a stored config is an error naming the layer
      const bad = JSON.parse(JSON.stringify(json));
      bad.layers[0].config.groups = 1;
      expect(() => modelFromJSON(bad)).to.throw(/layers\[0\]|conv1d/);
    }
  });

  it('float64 gradient check through a conv stack: every weight and the input, random upstream', () => {
    const m = new Sequential(
      [
        conv1d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }),
        averagePooling1d({ poolSize: 2, strides: 1, padding: 'same' }),
        conv1d({ filters: 2, kernelSize: 2, padding: 'causal', dilationRate: 2, activation: 'sigmoid' }),
        upSampling1d({ size: 2 }),
        conv1dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'valid', activation: 'tanh' }),
        maxPooling1d({ poolSize: 2 }),
      ],
      { dtype: 'float64', seed: 1 },
    ).build([7, 2]);
    const rng = makeRng('conv-stack');
    m.setWeights(m.weights().map((w) => uniform64(w.value.length, rng)));
    const N = 2,
      T = 7,
      F = 2;
    const x = uniform64(T * N * F, rng); // time-major, as layers see it
    const ctx = { training: false, random: null };
    const run = (): Float64Array => {
      let h: Float64Array = x;
      for (const l of m.layers) h = l.forward(h, N, ctx) as Float64Array;
      return h;
    };
    const out = run();
    const R = uniform64(out.length, rng);
    const params = m.layers.flatMap((l) => l.params());
    for (const p of params) p.grad.fill(0);
    let d: Float64Array = R;
    const dx = new Float64Array(x.length);
    for (let i = m.layers.length - 1; i >= 0; i--) {
      const g = m.layers[i].backward(Float64Array.from(d), true) as Float64Array;
      d = g;
    }
    dx.set(d);
    const inputs: Record<string, Float64Array> = { x },
      grads: Record<string, Float64Array> = { x: dx };
    params.forEach((p, i) => {
      inputs[`${p.name}${i}`] = p.value as Float64Array;
      grads[`${p.name}${i}`] = Float64Array.from(p.grad);
    });
    const r = gradCheck(inputs, grads, () => weightedSum(run(), R));
    expect(r.maxRel).to.be.at.most(1e-6);
  });

  it('initialises kernels Glorot uniform (limit √(6 / (K·F + K·filters))) and biases to zero', () => {
    const m = new Sequential([conv1d({ filters: 5, kernelSize: 3 })], { seed: 2 }).build([6, 4]);
    const [k, b] = m.getWeights();
    const limit = Math.sqrt(6 / (3 * 4 + 3 * 5));
    expect(Math.max(...Array.from(k, Math.abs))).to.be.at.most(limit);
    expect(Math.max(...Array.from(k, Math.abs))).to.be.above(limit / 2);
    expect(Array.from(b)).to.deep.equal([0, 0, 0, 0, 0]);
  });
});

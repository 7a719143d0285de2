/**
 * Parity with TensorFlow.js (@tensorflow/tfjs 4.22, pure-JS cpu backend): the same architecture built on both sides, the
 * same weights, the same input → the same outputs; the same three full-batch Adam steps → the same weights.
 *
 * For every case the weights are seeded uniform(−0.5, 0.5), biases included (zero biases hide bugs), and each model is
 * checked four ways:
 *   direct   tfjs weights copied into the bptt model built with bptt's own API (setWeights, same order) → predict
 *   import   fromTfjs(tfjs model.save artifacts) → predict
 *   export   tf.loadLayersModel(tf.io.fromMemory(toTfjs(bptt model with other weights))) → predict
 *   train    3 Adam steps (lr 1e-2, batchSize = N, shuffle false) on both from the same weights → weights
 * Tolerances: predict max |Δ| ≤ 1e-5 (outputs are O(1): absolute); training |Δw| / max(|w|, 1) ≤ 1e-4 per element
 * (relative for |w| ≥ 1, absolute below: Adam's first steps move every weight by about lr, so tiny weights would make a
 * pure ratio meaningless). Set BPTT_PARITY_REPORT=1 to print the largest deviation of each check.
 *
 * TensorFlow.js defaults recurrentActivation to hardSigmoid, bptt to sigmoid: every case sets it on both sides.
 * TensorFlow.js's GRU is the classic variant (reset before the recurrent product, bias [3H]); bptt's default is
 * resetAfter true, so GRU cases set resetAfter: false (the reset-after variant is checked in tfjs.spec.ts).
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { Sequential } from '../../lib/model/sequential';
import { type Layer } from '../../lib/model/layers/layer';
import {
  bidirectional,
  dense,
  gru,
  lstm,
  simpleRNN,
  timeDistributed,
  repeatVector,
  flatten,
  reshape,
  dropout,
} from '../../lib/model/layers/index';
import { type RecurrentOptions } from '../../lib/model/layers/recurrent';
import { sequenceAutoencoder, denseAutoencoder, sequenceClassifier } from '../../lib/model/presets';
import { toTfjs } from '../../lib/io/tfjs';
import { fromTfjs } from '../../lib/model/loaders';
import { makeRng, type Rng, uniformScaled32 as uniform } from '../helpers/rng';
import { maxAbs } from '../helpers/oracle';

const PREDICT_TOL = 1e-5;
const TRAIN_TOL = 1e-4;
const report = new Map<string, number>();

function note(key: string, v: number): void {
  report.set(key, Math.max(report.get(key) ?? 0, v));
}

/** max over elements of |a − b| / max(|b|, 1). */
function maxScaled(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i],
      y = b[i];
    m = Math.max(m, Math.abs(x - y) / Math.max(Math.abs(y), 1));
  }
  return m;
}

async function artifactsOf(model: tf.LayersModel, includeOptimizer = false): Promise<tf.io.ModelArtifacts> {
  let out: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      out = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer },
  );
  if (out === null) throw new Error('save handler not called');
  return out;
}

function randomizeTf(model: tf.LayersModel, rng: Rng): void {
  model.setWeights(model.getWeights().map((w) => tf.tensor(uniform(w.size, rng), w.shape)));
}

function randomizeBptt(model: Sequential, rng: Rng): void {
  model.setWeights(model.weights().map((w) => uniform(w.value.length, rng)));
}

function tfPredict(model: tf.LayersModel, x: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync() as Float32Array);
}

function bpttPredict(model: Sequential, x: Float32Array, shape: number[]): Float32Array {
  return model.predict({ data: x, shape }).data as Float32Array;
}

interface Case {
  name: string;
  /** Per-sample input shape. */
  input: number[];
  tfjs: () => tf.Sequential;
  bptt: () => Sequential;
  loss?: 'mse' | 'binaryCrossentropy';
  /** Why training parity is not checked (dropout masks come from different generators). */
  noTrain?: string;
}

const sig = { recurrentActivation: 'sigmoid' } as const;
const hard = { recurrentActivation: 'hardSigmoid' } as const;
const classic = { resetAfter: false, recurrentActivation: 'sigmoid' } as const;

function tfSeq(layers: tf.layers.Layer[]): tf.Sequential {
  const m = tf.sequential();
  layers.forEach((l) => m.add(l));
  return m;
}

function bSeq(layers: Layer[], input: number[]): Sequential {
  return new Sequential(layers).build(input);
}

const T = 6,
  D = 3;

const CASES: Case[] = [
  {
    name: 'SimpleRNN, last state',
    input: [T, D],
    tfjs: () => tfSeq([tf.layers.simpleRNN({ units: 5, inputShape: [T, D] })]),
    bptt: () => bSeq([simpleRNN({ units: 5 })], [T, D]),
  },
  {
    name: 'SimpleRNN, sequences, goBackwards',
    input: [T, D],
    tfjs: () =>
      tfSeq([tf.layers.simpleRNN({ units: 4, returnSequences: true, goBackwards: true, inputShape: [T, D] })]),
    bptt: () => bSeq([simpleRNN({ units: 4, returnSequences: true, goBackwards: true })], [T, D]),
  },
  {
    name: 'LSTM sigmoid, last state',
    input: [T, D],
    tfjs: () => tfSeq([tf.layers.lstm({ units: 4, ...sig, inputShape: [T, D] })]),
    bptt: () => bSeq([lstm({ units: 4, ...sig })], [T, D]),
  },
  {
    name: 'LSTM sigmoid, sequences',
    input: [T, D],
    tfjs: () => tfSeq([tf.layers.lstm({ units: 4, ...sig, returnSequences: true, inputShape: [T, D] })]),
    bptt: () => bSeq([lstm({ units: 4, ...sig, returnSequences: true })], [T, D]),
  },
  {
    name: 'LSTM hard_sigmoid, sequences, goBackwards',
    input: [T, D],
    tfjs: () =>
      tfSeq([tf.layers.lstm({ units: 4, ...hard, returnSequences: true, goBackwards: true, inputShape: [T, D] })]),
    bptt: () => bSeq([lstm({ units: 4, ...hard, returnSequences: true, goBackwards: true })], [T, D]),
  },
  {
    name: 'GRU classic sigmoid, last state',
    input: [T, D],
    tfjs: () => tfSeq([tf.layers.gru({ units: 4, ...sig, inputShape: [T, D] })]),
    bptt: () => bSeq([gru({ units: 4, ...classic })], [T, D]),
  },
  {
    name: 'GRU classic hard_sigmoid, sequences',
    input: [T, D],
    tfjs: () => tfSeq([tf.layers.gru({ units: 5, ...hard, returnSequences: true, inputShape: [T, D] })]),
    bptt: () => bSeq([gru({ units: 5, ...classic, ...hard, returnSequences: true })], [T, D]),
  },
  {
    name: 'GRU classic, goBackwards, last state',
    input: [T, D],
    tfjs: () => tfSeq([tf.layers.gru({ units: 3, ...sig, goBackwards: true, inputShape: [T, D] })]),
    bptt: () => bSeq([gru({ units: 3, ...classic, goBackwards: true })], [T, D]),
  },
  {
    name: 'stacked LSTM → GRU → SimpleRNN → Dense',
    input: [T, D],
    tfjs: () =>
      tfSeq([
        tf.layers.lstm({ units: 6, ...sig, returnSequences: true, inputShape: [T, D] }),
        tf.layers.gru({ units: 4, ...sig, returnSequences: true }),
        tf.layers.simpleRNN({ units: 3 }),
        tf.layers.dense({ units: 2 }),
      ]),
    bptt: () =>
      bSeq(
        [
          lstm({ units: 6, ...sig, returnSequences: true }),
          gru({ units: 4, ...classic, returnSequences: true }),
          simpleRNN({ units: 3 }),
          dense({ units: 2 }),
        ],
        [T, D],
      ),
  },
  {
    name: 'Bidirectional LSTM, sequences → Dense on 3-D',
    input: [T, D],
    tfjs: () =>
      tfSeq([
        tf.layers.bidirectional({
          layer: tf.layers.lstm({ units: 4, ...sig, returnSequences: true }),
          inputShape: [T, D],
        }),
        tf.layers.dense({ units: 2, activation: 'tanh' }),
      ]),
    bptt: () =>
      bSeq(
        [bidirectional(lstm({ units: 4, ...sig, returnSequences: true })), dense({ units: 2, activation: 'tanh' })],
        [T, D],
      ),
  },
  {
    name: 'Bidirectional GRU, last state',
    input: [T, D],
    tfjs: () => tfSeq([tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, ...sig }), inputShape: [T, D] })]),
    bptt: () => bSeq([bidirectional(gru({ units: 3, ...classic }))], [T, D]),
  },
  {
    name: 'Bidirectional SimpleRNN (inner goBackwards), sequences, stacked on Bidirectional LSTM',
    input: [T, D],
    tfjs: () =>
      tfSeq([
        tf.layers.bidirectional({
          layer: tf.layers.simpleRNN({ units: 3, returnSequences: true, goBackwards: true }),
          inputShape: [T, D],
        }),
        tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 2, ...hard }) }),
      ]),
    bptt: () =>
      bSeq(
        [
          bidirectional(simpleRNN({ units: 3, returnSequences: true, goBackwards: true })),
          bidirectional(lstm({ units: 2, ...hard })),
        ],
        [T, D],
      ),
  },
  ...(['lstm', 'gru', 'rnn'] as const).map((cell): Case => {
    const rec = (units: number, returnSequences: boolean): tf.layers.Layer =>
      cell === 'lstm'
        ? tf.layers.lstm({ units, returnSequences, ...sig })
        : cell === 'gru'
          ? tf.layers.gru({ units, returnSequences, ...sig })
          : tf.layers.simpleRNN({ units, returnSequences });
    const recurrent: Omit<RecurrentOptions, 'units'> = cell === 'lstm' ? sig : cell === 'gru' ? classic : {};
    return {
      name: `sequenceAutoencoder preset (${cell}, units [5, 3])`,
      input: [T, 2],
      tfjs: () => {
        const m = tf.sequential();
        m.add(tf.layers.inputLayer({ inputShape: [T, 2] }));
        [
          rec(5, true),
          rec(3, false),
          tf.layers.repeatVector({ n: T }),
          rec(3, true),
          rec(5, true),
          tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) }),
        ].forEach((l) => m.add(l));
        return m;
      },
      bptt: () => sequenceAutoencoder({ window: T, features: 2, units: [5, 3], cell, recurrent }),
    };
  }),
  {
    name: 'denseAutoencoder preset (Flatten → Dense relu → Dense → Reshape)',
    input: [T, 2],
    tfjs: () =>
      tfSeq([
        tf.layers.flatten({ inputShape: [T, 2] }),
        tf.layers.dense({ units: 8, activation: 'relu' }),
        tf.layers.dense({ units: 4, activation: 'relu' }),
        tf.layers.dense({ units: 8, activation: 'relu' }),
        tf.layers.dense({ units: T * 2 }),
        tf.layers.reshape({ targetShape: [T, 2] }),
      ]),
    bptt: () => denseAutoencoder({ window: T, features: 2, units: [8, 4] }),
  },
  {
    name: 'sequenceClassifier preset (GRU → Dropout 0 → Dense sigmoid, binary cross-entropy)',
    input: [T, D],
    loss: 'binaryCrossentropy',
    tfjs: () =>
      tfSeq([
        tf.layers.gru({ units: 4, ...sig, inputShape: [T, D] }),
        tf.layers.dropout({ rate: 0 }),
        tf.layers.dense({ units: 1, activation: 'sigmoid' }),
      ]),
    bptt: () =>
      sequenceClassifier({ window: T, features: D, units: 4, cell: 'gru', recurrent: classic, dropoutRate: 0 }),
  },
  {
    name: 'RepeatVector → LSTM → TimeDistributed(Dense) with Dropout between',
    input: [D],
    noTrain: 'active dropout draws its masks from a different generator on each side',
    tfjs: () =>
      tfSeq([
        tf.layers.repeatVector({ n: 4, inputShape: [D] }),
        tf.layers.lstm({ units: 3, ...sig, returnSequences: true }),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) }),
      ]),
    bptt: () =>
      bSeq(
        [
          repeatVector({ n: 4 }),
          lstm({ units: 3, ...sig, returnSequences: true }),
          dropout({ rate: 0.25 }),
          timeDistributed(dense({ units: 2 })),
        ],
        [D],
      ),
  },
  {
    name: 'LSTM → Flatten → Dense → Reshape',
    input: [T, D],
    tfjs: () =>
      tfSeq([
        tf.layers.lstm({ units: 2, ...sig, returnSequences: true, inputShape: [T, D] }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4 }),
        tf.layers.reshape({ targetShape: [2, 2] }),
      ]),
    bptt: () =>
      bSeq(
        [
          lstm({ units: 2, ...sig, returnSequences: true }),
          flatten(),
          dense({ units: 4 }),
          reshape({ targetShape: [2, 2] }),
        ],
        [T, D],
      ),
  },
];

const N = 5;

describe('parity with TensorFlow.js (cpu backend)', function () {
  this.timeout(120000);

  before(async () => {
    tf.enableProdMode(); // no "install tfjs-node" banner; no debug checks
    await tf.setBackend('cpu');
  });

  after(() => {
    if (process.env['BPTT_PARITY_REPORT']) {
      for (const [k, v] of report) console.log(`    ${k.padEnd(96)} ${v.toExponential(2)}`);
    }
  });

  CASES.forEach((c, ci) => {
    describe(c.name, () => {
      const xShape = [N, ...c.input];
      const x = uniform(
        xShape.reduce((a, b) => a * b, 1),
        makeRng(`parity/${ci}/x`),
        1,
      );

      it('direct: same weights (setWeights) → same predictions, ≤ 1e-5', () => {
        const tm = c.tfjs();
        randomizeTf(tm, makeRng(`parity/${ci}/w`));
        const bm = c.bptt();
        const tw = tm.getWeights();
        expect(bm.weights().map((w) => w.shape)).to.deep.equal(tw.map((w) => w.shape));
        bm.setWeights(tw.map((w) => w.dataSync() as Float32Array));
        const d = maxAbs(bpttPredict(bm, x, xShape), tfPredict(tm, x, xShape));
        note(`${c.name}: direct predict max|Δ|`, d);
        expect(d).to.be.at.most(PREDICT_TOL);
        tm.dispose();
      });

      it('import: fromTfjs(model.save artifacts) → same predictions, ≤ 1e-5', async () => {
        const tm = c.tfjs();
        randomizeTf(tm, makeRng(`parity/${ci}/w`));
        const bm = fromTfjs(await artifactsOf(tm));
        expect(bm.layers.map((l) => l.className)).to.deep.equal(c.bptt().layers.map((l) => l.className));
        const d = maxAbs(bpttPredict(bm, x, xShape), tfPredict(tm, x, xShape));
        note(`${c.name}: fromTfjs predict max|Δ|`, d);
        expect(d).to.be.at.most(PREDICT_TOL);
        tm.dispose();
      });

      it('export: tf.loadLayersModel(fromMemory(toTfjs(model))) → same predictions, ≤ 1e-5', async () => {
        const bm = c.bptt();
        randomizeBptt(bm, makeRng(`parity/${ci}/w2`));
        const tm = await tf.loadLayersModel(tf.io.fromMemory(toTfjs(bm)));
        expect(tm.layers.map((l) => l.getClassName())).to.deep.equal(bm.layers.map((l) => l.className));
        const d = maxAbs(tfPredict(tm, x, xShape), bpttPredict(bm, x, xShape));
        note(`${c.name}: toTfjs predict max|Δ|`, d);
        expect(d).to.be.at.most(PREDICT_TOL);
        tm.dispose();
      });

      if (c.noTrain !== undefined) return; // predict parity only: see noTrain
      it('train: 3 full-batch Adam steps → same weights, |Δw| / max(|w|, 1) ≤ 1e-4', async () => {
        const tm = c.tfjs();
        randomizeTf(tm, makeRng(`parity/${ci}/w`));
        const bm = c.bptt();
        bm.setWeights(tm.getWeights().map((w) => w.dataSync() as Float32Array));
        const yShape = [N, ...bm.getOutputShape()];
        const n = yShape.reduce((a, b) => a * b, 1);
        const yRng = makeRng(`parity/${ci}/y`);
        const y =
          c.loss === 'binaryCrossentropy'
            ? Float32Array.from({ length: n }, () => (yRng() < 0.5 ? 0 : 1))
            : uniform(n, yRng);
        const lr = 1e-2;
        tm.compile({ optimizer: tf.train.adam(lr), loss: c.loss ?? 'meanSquaredError' });
        const xt = tf.tensor(x, xShape),
          yt = tf.tensor(y, yShape);
        const th = await tm.fit(xt, yt, { batchSize: N, epochs: 3, shuffle: false, verbose: 0 });
        const bh = bm.fit(
          { data: x, shape: xShape },
          { data: y, shape: yShape },
          {
            batchSize: N,
            epochs: 3,
            shuffle: false,
            optimizer: { name: 'adam', learningRate: lr },
            loss: c.loss ?? 'mse',
          },
        );
        const lossDiff = maxAbs(bh.loss, th.history['loss'] as number[]);
        note(`${c.name}: train epoch-loss max|Δ|`, lossDiff);
        expect(lossDiff).to.be.at.most(PREDICT_TOL);
        const names = bm.weights().map((w) => w.name);
        const bw = bm.getWeights();
        // The check is not vacuous: three steps of lr 1e-2 moved the weights by far more than the tolerance.
        const moved = Math.max(...bw.map((w, i) => maxAbs(w, tm.getWeights()[i]?.dataSync() ?? [])), 0);
        const start = c.tfjs();
        randomizeTf(start, makeRng(`parity/${ci}/w`));
        const travel = Math.max(...start.getWeights().map((w, i) => maxAbs(w.dataSync(), bw[i] as Float32Array)));
        start.dispose();
        expect(travel).to.be.above(1e-2);
        expect(moved).to.be.below(travel);
        tm.getWeights().forEach((w, i) => {
          const d = maxScaled(bw[i], w.dataSync());
          note(`${c.name}: train weights max|Δ|/max(|w|,1)`, d);
          expect(d, `weight ${names[i]}`).to.be.at.most(TRAIN_TOL);
        });
        xt.dispose();
        yt.dispose();
        tm.dispose();
      });
    });
  });

  describe('training configuration', () => {
    it('takes the loss from a compiled tfjs model (trainingConfig) and evaluates it as tfjs does', async () => {
      const c = CASES.find((k) => k.loss === 'binaryCrossentropy') as Case;
      const tm = c.tfjs();
      randomizeTf(tm, makeRng('parity/tc/w'));
      tm.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
      const a = await artifactsOf(tm, true);
      expect((a.trainingConfig as { loss: unknown }).loss).to.equal('binary_crossentropy');
      expect(a.weightSpecs?.some((s) => s.group === 'optimizer')).to.equal(true);
      const bm = fromTfjs(a);
      expect(bm.loss).to.equal('binaryCrossentropy');
      const xShape = [8, T, D];
      const x = uniform(8 * T * D, makeRng('parity/tc/x'), 1);
      const y = Float32Array.from({ length: 8 }, (_, i) => i % 2);
      const tl = (tm.evaluate(tf.tensor(x, xShape), tf.tensor(y, [8, 1])) as tf.Scalar).dataSync()[0];
      const bl = bm.evaluate({ data: x, shape: xShape }, { data: y, shape: [8, 1] });
      note('trainingConfig loss: evaluate |Δ|', Math.abs(tl - bl));
      expect(Math.abs(tl - bl)).to.be.at.most(PREDICT_TOL);
      tm.dispose();
    });

    it('writes its loss and optimizer into toTfjs trainingConfig, which tf.loadLayersModel compiles', async () => {
      const bm = sequenceClassifier({ window: T, features: D, units: 3, cell: 'lstm', dropoutRate: 0 });
      bm.compile({ optimizer: { name: 'adam', learningRate: 0.005 } });
      const a = toTfjs(bm);
      expect(a.trainingConfig).to.deep.include({ loss: 'binary_crossentropy' });
      const tm = await tf.loadLayersModel(tf.io.fromMemory(a));
      expect(tm.loss).to.equal('binaryCrossentropy');
      expect(tm.optimizer.getClassName()).to.equal('Adam');
      expect((tm.optimizer.getConfig() as { learningRate: number }).learningRate).to.equal(0.005);
      tm.dispose();
    });
  });

  describe('round trips', () => {
    it('bptt → toTfjs → tfjs → model.save → fromTfjs gives back the same weights bit for bit', async () => {
      const bm = sequenceAutoencoder({ window: T, features: 2, units: [4, 2], cell: 'gru', recurrent: classic });
      randomizeBptt(bm, makeRng('parity/rt/w'));
      const tm = await tf.loadLayersModel(tf.io.fromMemory(toTfjs(bm)));
      const back = fromTfjs(await artifactsOf(tm));
      expect(back.weights().map((w) => w.shape)).to.deep.equal(bm.weights().map((w) => w.shape));
      back
        .getWeights()
        .forEach((w, i) => expect(Array.from(w)).to.deep.equal(Array.from(bm.getWeights()[i] as Float32Array)));
      expect(back.layers.map((l) => l.getConfig())).to.deep.equal(bm.layers.map((l) => l.getConfig()));
      tm.dispose();
    });

    it('a float64 model exports float32 weights that predict within 1e-5', async () => {
      const bm = new Sequential([lstm({ units: 4, ...sig, returnSequences: true }), dense({ units: 1 })], {
        dtype: 'float64',
      }).build([T, D]);
      randomizeBptt(bm, makeRng('parity/f64/w'));
      const tm = await tf.loadLayersModel(tf.io.fromMemory(toTfjs(bm)));
      const xShape = [N, T, D];
      const x = uniform(N * T * D, makeRng('parity/f64/x'), 1);
      const d = maxAbs(tfPredict(tm, x, xShape), bm.predict({ data: x, shape: xShape }).data);
      note('float64 model → tfjs predict max|Δ|', d);
      expect(d).to.be.at.most(PREDICT_TOL);
      const f64 = fromTfjs(await artifactsOf(tm), { dtype: 'float64' });
      expect(f64.dtype).to.equal('float64');
      expect(maxAbs(bpttPredict(f64, x, xShape), tfPredict(tm, x, xShape))).to.be.at.most(PREDICT_TOL);
      tm.dispose();
    });
  });
});

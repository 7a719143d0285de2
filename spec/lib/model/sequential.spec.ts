import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  Sequential,
  TrainingDivergedError,
  lstm,
  gru,
  simpleRNN,
  dense,
  timeDistributed,
  repeatVector,
  bidirectional,
  flatten,
  reshape,
  dropout,
  lstmAutoencoder,
  sequenceClassifier,
  denseAutoencoder,
  forecaster,
} from '../../../lib/index';
import { gradCheck } from '../../helpers/gradcheck';
import { makeRng, type Rng } from '../../helpers/rng';
import { ArgumentError } from '../../../lib/errors';

function randomBatch(rng: Rng, N: number, shape: number[], lo = -1, hi = 1): number[][][] | number[][] {
  const one = (): number => lo + (hi - lo) * rng();
  if (shape.length === 2)
    return Array.from({ length: N }, () =>
      Array.from({ length: shape[0] }, () => Array.from({ length: shape[1] }, one)),
    );
  return Array.from({ length: N }, () => Array.from({ length: shape[0] }, one));
}

/** Seeded sine windows: N windows of T steps, random phase and frequency, shape [N, T, 1]. */
function sineWindows(N: number, T: number, seed: string): number[][][] {
  const rng = makeRng(seed);
  return Array.from({ length: N }, () => {
    const phase = 2 * Math.PI * rng(),
      freq = 0.2 + 0.2 * rng();
    return Array.from({ length: T }, (_, t) => [Math.sin(freq * t + phase)]);
  });
}

/** Checks every weight gradient of a float64 model against central differences of its loss (tolerance in gradCheck). */
function checkModelGradients(model: Sequential, x: unknown, y: unknown, loss: string, training = false): number {
  const { grads } = model.gradients(x, y, { loss, training, seed: 'mask' });
  const inputs: Record<string, Float64Array> = {},
    analytic: Record<string, Float64Array> = {};
  model.weights().forEach((w, i) => {
    inputs[w.name] = w.value as Float64Array;
    analytic[w.name] = grads[i] as Float64Array;
  });
  const f = (): number => model.gradients(x, y, { loss, training, seed: 'mask' }).loss;
  return gradCheck(inputs, analytic, f).checked;
}

describe('Sequential', () => {
  describe('gradients of whole models match finite differences (float64, every weight)', () => {
    const rng = makeRng('model-gradcheck');
    const cases: {
      name: string;
      make: () => Sequential;
      x: number[];
      y: number[];
      loss?: string;
      training?: boolean;
    }[] = [
      {
        name: 'stacked LSTM (returnSequences) → LSTM → Dense',
        x: [5, 3],
        y: [2],
        make: () =>
          new Sequential(
            [lstm({ units: 4, returnSequences: true, inputShape: [5, 3] }), lstm({ units: 3 }), dense({ units: 2 })],
            { dtype: 'float64', seed: 1 },
          ),
      },
      {
        name: 'GRU classic, goBackwards, returnSequences → TimeDistributed(Dense)',
        x: [4, 2],
        y: [4, 3],
        make: () =>
          new Sequential(
            [
              gru({ units: 3, resetAfter: false, goBackwards: true, returnSequences: true, inputShape: [4, 2] }),
              timeDistributed(dense({ units: 3, activation: 'tanh' })),
            ],
            { dtype: 'float64', seed: 2 },
          ),
      },
      {
        name: 'Bidirectional LSTM with sequences → Dense on 3-D',
        x: [4, 2],
        y: [4, 1],
        make: () =>
          new Sequential(
            [bidirectional(lstm({ units: 3, returnSequences: true }), { inputShape: [4, 2] }), dense({ units: 1 })],
            { dtype: 'float64', seed: 3 },
          ),
      },
      {
        name: 'Bidirectional GRU (last states) with hardSigmoid gates',
        x: [3, 2],
        y: [2],
        make: () =>
          new Sequential(
            [
              bidirectional(gru({ units: 2, recurrentActivation: 'hardSigmoid' }), { inputShape: [3, 2] }),
              dense({ units: 2 }),
            ],
            { dtype: 'float64', seed: 4 },
          ),
      },
      {
        name: 'SimpleRNN encoder → RepeatVector → GRU decoder → TimeDistributed(Dense) (autoencoder)',
        x: [4, 2],
        y: [4, 2],
        make: () =>
          new Sequential(
            [
              simpleRNN({ units: 3, inputShape: [4, 2] }),
              repeatVector({ n: 4 }),
              gru({ units: 3, returnSequences: true }),
              timeDistributed(dense({ units: 2 })),
            ],
            { dtype: 'float64', seed: 5 },
          ),
      },
      {
        name: 'Flatten → Dense(tanh) → Dense → Reshape (dense autoencoder)',
        x: [3, 2],
        y: [3, 2],
        make: () =>
          new Sequential(
            [flatten(), dense({ units: 4, activation: 'tanh' }), dense({ units: 6 }), reshape({ targetShape: [3, 2] })],
            { dtype: 'float64', seed: 6 },
          ).build([3, 2]),
      },
      {
        name: 'classifier with dropout (fixed masks) and binary cross-entropy',
        x: [4, 2],
        y: [1],
        loss: 'binaryCrossentropy',
        training: true,
        make: () =>
          new Sequential(
            [
              lstm({ units: 3, dropout: 0.3, inputShape: [4, 2] }),
              dropout({ rate: 0.4 }),
              dense({ units: 1, activation: 'sigmoid' }),
            ],
            { dtype: 'float64', seed: 7 },
          ),
      },
      {
        name: 'LSTM with mae loss',
        x: [3, 2],
        y: [2],
        loss: 'mae',
        make: () =>
          new Sequential([lstm({ units: 3, inputShape: [3, 2] }), dense({ units: 2 })], { dtype: 'float64', seed: 8 }),
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const model = c.make();
        if (!model.built) model.build();
        // Move every weight away from its initialisation (non-zero biases, no symmetric values).
        model.setWeights(model.getWeights().map((w) => w.map(() => 0.6 * (rng() - 0.5))));
        const x = randomBatch(rng, 3, c.x);
        const y = c.loss === 'binaryCrossentropy' ? [[1], [0], [1]] : randomBatch(rng, 3, c.y);
        const checked = checkModelGradients(model, x, y, c.loss ?? 'mse', c.training ?? false);
        expect(checked).to.equal(model.countParams());
      });
    }
  });

  describe('training', () => {
    it('a one-layer LSTM regressor trained with Adam drives the MSE on sine windows down by at least 10×', () => {
      const x = sineWindows(96, 12, 'sine-next');
      // Target: the value one step after the window.
      const rng = makeRng('sine-next-y');
      void rng;
      const y = x.map((w) => {
        const a = w[w.length - 1]?.[0],
          b = w[w.length - 2]?.[0];
        return [2 * a - b]; // linear extrapolation of a sine: a smooth target the LSTM must learn
      });
      const model = new Sequential([lstm({ units: 16, inputShape: [12, 1] }), dense({ units: 1 })], { seed: 11 });
      const before = model.evaluate(x, y);
      model.fit(x, y, { epochs: 60, batchSize: 16, optimizer: { name: 'adam', learningRate: 0.01 } });
      const after = model.evaluate(x, y);
      expect(after, `MSE before ${before}, after ${after}`).to.be.below(before / 10);
    });

    it('the LSTM autoencoder preset reconstructs seeded sine windows to a low MSE', () => {
      const x = sineWindows(128, 16, 'ae');
      const model = lstmAutoencoder({ window: 16, features: 1, units: [16], seed: 3 });
      const before = model.evaluate(x, x);
      const h = model.fit(x, x, {
        epochs: 40,
        batchSize: 32,
        optimizer: { name: 'adam', learningRate: 0.01 },
        validationSplit: 0.1,
      });
      const after = model.evaluate(x, x);
      expect(h.loss).to.have.length(40);
      expect(h.valLoss).to.have.length(40);
      expect(after, `MSE ${before} → ${after}`).to.be.below(0.02);
      expect(after).to.be.below(before / 20);
    });

    it('the classifier preset separates two seeded sequence classes', () => {
      const rng = makeRng('classes');
      const N = 120,
        T = 10;
      const x: number[][][] = [],
        y: number[][] = [];
      for (let i = 0; i < N; i++) {
        const cls = i % 2;
        // class 0: rising ramps, class 1: falling ramps, both noisy
        x.push(Array.from({ length: T }, (_, t) => [(cls === 0 ? t : T - t) / T + 0.3 * (rng() - 0.5)]));
        y.push([cls]);
      }
      const model = sequenceClassifier({ window: T, features: 1, units: 8, seed: 5 });
      model.fit(x, y, { epochs: 30, batchSize: 16, optimizer: { name: 'adam', learningRate: 0.02 } });
      const p = model.predict(x);
      let correct = 0;
      for (let i = 0; i < N; i++) if ((p.get(i, 0) > 0.5 ? 1 : 0) === y[i]?.[0]) correct++;
      expect(correct / N).to.be.at.least(0.95);
    });

    it('the dense autoencoder and the forecaster presets train and predict with the documented shapes', () => {
      const x = sineWindows(32, 8, 'dense-ae');
      const ae = denseAutoencoder({ window: 8, features: 1, units: [6, 3], seed: 1 });
      expect(ae.predict(x).shape).to.deep.equal([32, 8, 1]);
      const before = ae.evaluate(x, x);
      ae.fit(x, x, { epochs: 20, batchSize: 8, optimizer: { name: 'adam', learningRate: 0.01 } });
      expect(ae.evaluate(x, x)).to.be.below(before);
      const f = forecaster({ window: 8, features: 1, units: 4, horizon: 3, seed: 1 });
      expect(f.predict(x).shape).to.deep.equal([32, 3]);
    });

    it('is deterministic: same seed, data and options give bit-identical weights; another seed does not', () => {
      const x = sineWindows(40, 6, 'det');
      const run = (seed: number): Float32Array[] => {
        const m = new Sequential([gru({ units: 5, inputShape: [6, 1], dropout: 0.2 }), dense({ units: 1 })], { seed });
        m.fit(
          x,
          x.map((w) => w[5]),
          { epochs: 3, batchSize: 8 },
        );
        return m.getWeights() as Float32Array[];
      };
      const a = run(1),
        b = run(1),
        c = run(2);
      a.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(b[i].buffer))).to.equal(true));
      expect(a.some((w, i) => !Buffer.from(w.buffer).equals(Buffer.from(c[i].buffer)))).to.equal(true);
    });

    it('early stopping stops after `patience` epochs without improvement and restores the best weights', () => {
      const x = sineWindows(40, 6, 'es');
      const y = x.map((w) => w[5]);
      const m = new Sequential([lstm({ units: 4, inputShape: [6, 1] }), dense({ units: 1 })], { seed: 1 });
      // A huge SGD step makes the validation loss worse after the first epochs, so the best epoch is early.
      let snapshots: Float32Array[][] = [];
      const h = m.fit(x, y, {
        epochs: 30,
        batchSize: 8,
        validationSplit: 0.25,
        optimizer: { name: 'sgd', learningRate: 0.5, momentum: 0.9 },
        earlyStopping: { patience: 3 },
        onEpochEnd: () => {
          snapshots.push(m.getWeights() as Float32Array[]);
        },
      });
      const best = h.valLoss.indexOf(Math.min(...h.valLoss));
      expect(h.bestEpoch).to.equal(best);
      if (h.stoppedEarly) expect(h.epoch.length).to.equal(best + 1 + 3);
      const now = m.getWeights();
      now.forEach((w, i) => expect(Array.from(w)).to.deep.equal(Array.from(snapshots[best]?.[i])));
      snapshots = [];
    });

    it('a diverging run stops with a TrainingDivergedError and keeps the last good weights', () => {
      const x = sineWindows(16, 5, 'div');
      const y = x.map((w) => [1e30 * w[4]?.[0]]);
      const m = new Sequential([simpleRNN({ units: 3, inputShape: [5, 1] }), dense({ units: 1 })], { seed: 1 }).build();
      const w0 = m.getWeights();
      expect(() => m.fit(x, y, { epochs: 5, batchSize: 16, optimizer: { name: 'sgd', learningRate: 1e10 } })).to.throw(
        TrainingDivergedError,
        /epoch 0, batch 0/,
      );
      m.getWeights().forEach((w, i) => {
        expect(w.every(Number.isFinite)).to.equal(true);
        expect(Array.from(w)).to.deep.equal(Array.from(w0[i] as Float32Array));
      });
    });

    it('resuming from a checkpoint (optimizer state included) gives the same weights as never stopping', () => {
      const x = sineWindows(48, 8, 'resume');
      const make = (): Sequential => lstmAutoencoder({ window: 8, units: [6], seed: 9 });
      const opts = { batchSize: 16, optimizer: { name: 'adam' as const, learningRate: 0.005 }, validationSplit: 0.25 };
      const straight = make();
      straight.fit(x, x, { ...opts, epochs: 6 });
      const first = make();
      first.fit(x, x, { ...opts, epochs: 3 });
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-')), 'ckpt.json');
      first.save(file);
      const resumed = Sequential.load(file);
      expect(resumed.epochsTrained).to.equal(3);
      resumed.fit(x, x, { ...opts, epochs: 6, initialEpoch: resumed.epochsTrained });
      straight
        .getWeights()
        .forEach((w, i) => expect(Array.from(resumed.getWeights()[i] as Float32Array)).to.deep.equal(Array.from(w)));
    });
  });

  describe('bad input', () => {
    const m = (): Sequential => new Sequential([lstm({ units: 2, inputShape: [4, 1] }), dense({ units: 1 })]);
    it('names the argument, the expected and the actual shape', () => {
      const model = m();
      const bad = randomBatch(makeRng('b'), 3, [3, 1]);
      expect(() => model.fit(bad, [[1], [2], [3]])).to.throw(
        RangeError,
        /fit\(x\): expected shape \[N, 4, 1\], got \[N, 3, 1\]/,
      );
      expect(() => model.predict(bad)).to.throw(RangeError, /predict\(x\)/);
      const good = randomBatch(makeRng('b'), 3, [4, 1]);
      expect(() => model.fit(good, [[1], [2]])).to.throw(
        ArgumentError,
        /fit\(y\): expected 3 samples to match x, got 2/,
      );
      expect(() => model.fit(good, [[1], [2], [3]], { batchSize: 0 })).to.throw(ArgumentError, /fit\(batchSize\)/);
      expect(() => model.fit(good, [[1], [2], [3]], { loss: 'hinge' })).to.throw(ArgumentError, /fit\(loss\)/);
      expect(() => model.fit(good, [[1], [2], [3]], { validationSplit: 1.5 })).to.throw(
        ArgumentError,
        /validationSplit/,
      );
    });
    it('rejects NaN/Inf and empty input', () => {
      const model = m();
      const x = randomBatch(makeRng('n'), 2, [4, 1]) as number[][][];
      x[1][2] = [NaN];
      expect(() => model.predict(x)).to.throw(/predict\(x\).*NaN/);
      expect(() => model.predict([])).to.throw(/predict\(x\)/);
    });
    it('rejects options it does not implement instead of ignoring them', () => {
      expect(() => lstm({ units: 2, recurrentDropout: 0.2 })).to.throw(ArgumentError, /recurrentDropout/);
      expect(() => lstm({ units: 0 })).to.throw(ArgumentError, /lstm\(units\)/);
      expect(() => gru({ units: 2, activation: 'softmax' })).to.throw(ArgumentError, /gru\(activation\)/);
    });
  });

  describe('layers', () => {
    it('goBackwards returns outputs in processing order, as Keras does', () => {
      const rng = makeRng('gb');
      const x = randomBatch(rng, 2, [5, 2]) as number[][][];
      const fwd = new Sequential([simpleRNN({ units: 3, returnSequences: true, inputShape: [5, 2] })], { seed: 1 });
      const bwd = new Sequential(
        [simpleRNN({ units: 3, returnSequences: true, goBackwards: true, inputShape: [5, 2] })],
        { seed: 1 },
      );
      const reversed = x.map((s) => s.slice().reverse());
      const a = fwd.predict(reversed),
        b = bwd.predict(x);
      expect(Array.from(a.data as Float32Array)).to.deep.equal(Array.from(b.data as Float32Array));
    });

    it('a stateful layer carries its state across calls: two half-windows equal one window', () => {
      const rng = makeRng('stateful');
      const x = randomBatch(rng, 2, [6, 1]) as number[][][];
      const whole = new Sequential([lstm({ units: 3, inputShape: [6, 1] })], { seed: 4 });
      const half = new Sequential([lstm({ units: 3, stateful: true, inputShape: [3, 1] })], { seed: 4 });
      half.predict(
        x.map((s) => s.slice(0, 3)),
        { batchSize: 2 },
      );
      const b = half.predict(
        x.map((s) => s.slice(3)),
        { batchSize: 2 },
      );
      const a = whole.predict(x);
      for (let i = 0; i < 6; i++) expect(Math.abs(a.data[i] - b.data[i])).to.be.below(1e-6);
      half.resetStates();
      const c = half.predict(
        x.map((s) => s.slice(3)),
        { batchSize: 2 },
      );
      expect(Math.abs(c.data[0] - b.data[0])).to.be.above(1e-6);
    });

    it('names layers like Keras and prints a summary', () => {
      const model = new Sequential([
        lstm({ units: 2, returnSequences: true, inputShape: [3, 1] }),
        lstm({ units: 2 }),
        dense({ units: 1 }),
      ]);
      model.build();
      expect(model.layers.map((l) => l.name)).to.deep.equal(['lstm', 'lstm_1', 'dense']);
      // LSTM params: 4·H·(D + H + 1) = 4·2·(1+2+1) = 32 and 4·2·(2+2+1) = 40; dense 2 + 1
      expect(model.countParams()).to.equal(32 + 40 + 3);
      expect(model.summary()).to.match(/lstm_1 \(LSTM\)/);
    });
  });

  describe('save and load', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-io-'));
    const x = sineWindows(8, 6, 'io');
    const build = (): Sequential => {
      const m = new Sequential(
        [
          bidirectional(gru({ units: 3, returnSequences: true }), { inputShape: [6, 1] }),
          lstm({ units: 2 }),
          dense({ units: 1 }),
        ],
        { seed: 3 },
      );
      m.fit(
        x,
        x.map((w) => w[0]),
        { epochs: 1, batchSize: 4 },
      );
      return m;
    };
    it('round-trips architecture, weights, loss and predictions through toJSON / fromJSON and files', () => {
      const m = build();
      const back = Sequential.fromJSON(JSON.stringify(m.toJSON()));
      expect(Array.from(back.predict(x).data as Float32Array)).to.deep.equal(
        Array.from(m.predict(x).data as Float32Array),
      );
      const file = path.join(dir, 'm.json');
      m.save(file);
      const loaded = Sequential.load(file);
      expect(loaded.loss).to.equal('mse');
      expect(Array.from(loaded.predict(x).data as Float32Array)).to.deep.equal(
        Array.from(m.predict(x).data as Float32Array),
      );
      expect(fs.readdirSync(dir).filter((f) => f !== 'm.json')).to.deep.equal([]); // no temp files left
    });
    it('gives clear errors for truncated, corrupt, wrong-version and mismatched files', () => {
      const m = build();
      const text = JSON.stringify(m.toJSON());
      const file = path.join(dir, 'bad.json');
      fs.writeFileSync(file, text.slice(0, text.length >> 1));
      expect(() => Sequential.load(file)).to.throw(/not valid JSON/);
      fs.writeFileSync(file, '');
      expect(() => Sequential.load(file)).to.throw(/is empty/);
      expect(() => Sequential.load(path.join(dir, 'missing.json'))).to.throw(/cannot read .*ENOENT/);
      const j = JSON.parse(text);
      expect(() => Sequential.fromJSON({ ...j, formatVersion: 99 })).to.throw(/unknown format version 99/);
      expect(() => Sequential.fromJSON({ ...j, format: 'other' })).to.throw(/not a bptt model/);
      const wrongShape = JSON.parse(text);
      wrongShape.weights[0].shape = [9, 9];
      expect(() => Sequential.fromJSON(wrongShape)).to.throw(ArgumentError, /expected shape/);
      const shortData = JSON.parse(text);
      shortData.weights[1].data = shortData.weights[1].data.slice(0, 8);
      expect(() => Sequential.fromJSON(shortData)).to.throw(ArgumentError, /bytes/);
      const unknown = JSON.parse(text);
      unknown.layers[1].className = 'Conv2D';
      expect(() => Sequential.fromJSON(unknown)).to.throw(/unknown layer class "Conv2D"/);
    });
  });
});

/**
 * AttentionDecoder layer and the attentionAutoencoder preset: whole-model float64 gradient checks (every weight of the
 * encoder, the decoder and the dense head, so the gradient that reaches the encoder through every decoder step and
 * through s_0 = h_Te is checked too), the attention weights, save/load in bptt's model format with strict validation,
 * option errors, determinism, and the two backends: the layer runs the fast twin on an arena under 'wasm' (float32)
 * and on matmul.ts under 'js', and the two agree to float32 rounding.
 */
import { expect } from 'chai';
import {
  Sequential,
  AttentionDecoder,
  attentionDecoder,
  attentionAutoencoder,
  lstm,
  dense,
  timeDistributed,
} from '../../../../lib/index';
import { ArgumentError, ModelFileError } from '../../../../lib/errors';
import { type Backend, getBackend, setBackend } from '../../../../lib/backend';
import { wasmSimdAvailable } from '../../../../kernels/wasm/arena';
import { gradCheck } from '../../../helpers/gradcheck';
import { makeRng } from '../../../helpers/rng';

function windows(N: number, T: number, F: number, seed: string): number[][][] {
  const rng = makeRng(seed);
  return Array.from({ length: N }, () =>
    Array.from({ length: T }, () => Array.from({ length: F }, () => 2 * rng() - 1)),
  );
}

function checkModelGradients(model: Sequential, x: unknown, y: unknown): { checked: number; maxRel: number } {
  const { grads } = model.gradients(x, y, { loss: 'mse' });
  const inputs: Record<string, Float64Array> = {},
    analytic: Record<string, Float64Array> = {};
  model.weights().forEach((w, i) => {
    inputs[w.name] = w.value as Float64Array;
    analytic[w.name] = grads[i] as Float64Array;
  });
  return gradCheck(inputs, analytic, () => model.gradients(x, y, { loss: 'mse' }).loss);
}

/** Non-zero biases everywhere, so that a bias gradient bug cannot hide behind a zero initialisation. */
function jiggle(model: Sequential, seed: string): void {
  const rng = makeRng(seed);
  for (const w of model.weights()) for (let i = 0; i < w.value.length; i++) w.value[i] += 0.2 * (2 * rng() - 1);
}

describe('AttentionDecoder layer', () => {
  describe('whole-model gradients match finite differences (float64, every weight)', () => {
    for (const score of ['additive', 'dot', 'general'] as const) {
      it(`attentionAutoencoder, ${score} score (encoder reached through every decoder step and s_0)`, () => {
        const model = attentionAutoencoder({ window: 5, features: 2, units: 3, score, seed: 3, dtype: 'float64' });
        jiggle(model, `jiggle-${score}`);
        const x = windows(3, 5, 2, `ae-${score}`);
        const r = checkModelGradients(model, x, x);
        expect(r.checked).to.equal(model.countParams());
        expect(r.maxRel).to.be.at.most(1e-6);
      });
    }

    it("steps ≠ encoder steps, initialState 'zeros', encoder features ≠ units (general), batch 1", () => {
      const model = new Sequential(
        [
          lstm({ units: 4, returnSequences: true }),
          attentionDecoder({ units: 3, score: 'general', steps: 2, initialState: 'zeros' }),
          timeDistributed(dense({ units: 1 })),
        ],
        { dtype: 'float64', seed: 5 },
      ).build([6, 2]);
      jiggle(model, 'jiggle-steps');
      expect(model.getOutputShape()).to.deep.equal([2, 1]);
      const x = windows(1, 6, 2, 'steps-x'),
        y = windows(1, 2, 1, 'steps-y');
      expect(checkModelGradients(model, x, y).maxRel).to.be.at.most(1e-6);
    });
  });

  it('lastAttention: [Td, N, Te] rows of non-negative weights summing to 1', () => {
    const model = attentionAutoencoder({ window: 7, features: 1, units: 4, seed: 1 });
    model.predict(windows(3, 7, 1, 'alpha'));
    const layer = model.layers[1] as AttentionDecoder;
    const a = layer.lastAttention();
    expect(a).to.not.equal(null);
    expect((a as Float32Array).length).to.equal(7 * 3 * 7);
    for (let r = 0; r < 7 * 3; r++) {
      let s = 0;
      for (let j = 0; j < 7; j++) {
        const v = (a as Float32Array)[r * 7 + j];
        expect(v).to.be.within(0, 1);
        s += v;
      }
      expect(s).to.be.closeTo(1, 1e-6);
    }
    expect(new AttentionDecoder({ units: 2 }).lastAttention()).to.equal(null);
  });

  describe('save and load (bptt model format)', () => {
    for (const score of ['additive', 'dot', 'general'] as const) {
      it(`round-trips the config and weights bit for bit (${score})`, () => {
        const model = attentionAutoencoder({ window: 6, features: 2, units: 4, score, seed: 2 });
        const x = windows(4, 6, 2, 'save');
        model.fit(x, x, { epochs: 2, batchSize: 2, seed: 1 });
        const copy = Sequential.fromJSON(JSON.stringify(model.toJSON()));
        expect(copy.layers.map((l) => l.className)).to.deep.equal(['LSTM', 'AttentionDecoder', 'TimeDistributed']);
        expect(copy.layers[1].getConfig()).to.deep.equal(model.layers[1].getConfig());
        expect(copy.weights().map((w) => w.name)).to.deep.equal(model.weights().map((w) => w.name));
        expect([...copy.predict(x).data]).to.deep.equal([...model.predict(x).data]);
      });
    }

    it('rejects a wrong weight shape, an unknown config key and a bad option, naming them', () => {
      const json = attentionAutoencoder({ window: 4, units: 3, seed: 1 }).toJSON() as unknown as {
        layers: { className: string; config: Record<string, unknown> }[];
        weights: { name: string; shape: number[] }[];
      };
      const badShape = structuredClone(json);
      const w = badShape.weights.find((v) => v.name === 'attention_decoder/attention_score');
      expect(w).to.not.equal(undefined);
      (w as { shape: number[] }).shape = [4];
      expect(() => Sequential.fromJSON(badShape)).to.throw(ModelFileError, 'attention_decoder/attention_score');
      const badKey = structuredClone(json);
      badKey.layers[1].config['mask'] = true;
      expect(() => Sequential.fromJSON(badKey)).to.throw(ModelFileError, 'mask');
      const badScore = structuredClone(json);
      badScore.layers[1].config['score'] = 'cosine';
      expect(() => Sequential.fromJSON(badScore)).to.throw(ModelFileError, 'score');
    });
  });

  describe('options', () => {
    it('errors name the option, what was expected and what came', () => {
      expect(() => attentionDecoder({ units: 0 })).to.throw(ArgumentError, 'attentionDecoder(units)');
      expect(() => attentionDecoder({ units: 2, score: 'dot', attentionUnits: 3 })).to.throw(
        ArgumentError,
        'attentionDecoder(attentionUnits)',
      );
      expect(() => attentionDecoder({ units: 2, initialState: 'last' as 'zeros' })).to.throw(
        ArgumentError,
        'attentionDecoder(initialState)',
      );
      expect(() => attentionDecoder({ units: 2, dropout: 0.1 } as never)).to.throw(ArgumentError, 'dropout');
      const mismatch = (score: 'dot' | 'additive', initialState: 'encoder' | 'zeros'): Sequential =>
        new Sequential([
          lstm({ units: 4, returnSequences: true }),
          attentionDecoder({ units: 3, score, initialState }),
        ]).build([5, 1]);
      expect(() => mismatch('dot', 'zeros')).to.throw(ArgumentError, "'dot' score needs encoder features = units");
      expect(() => mismatch('additive', 'encoder')).to.throw(ArgumentError, "initialState 'encoder'");
      expect(() => new Sequential([lstm({ units: 3 }), attentionDecoder({ units: 3 })]).build([5, 1])).to.throw(
        ArgumentError,
        'returnSequences',
      );
      expect(() => attentionAutoencoder({ window: 4, cell: 'gru' as 'lstm' })).to.throw(
        ArgumentError,
        'attentionAutoencoder(cell)',
      );
      expect(() => attentionAutoencoder({ window: 4, heads: 2 } as never)).to.throw(ArgumentError, 'heads');
    });
  });

  it('same seed, same data, same options: bit-identical training', () => {
    const x = windows(8, 6, 1, 'det');
    const run = (): number[] => {
      const m = attentionAutoencoder({ window: 6, units: 4, seed: 9 });
      m.fit(x, x, { epochs: 2, batchSize: 4, seed: 3 });
      return [...m.predict(x).data];
    };
    expect(run()).to.deep.equal(run());
  });

  describe('backends', () => {
    let saved: Backend | undefined;
    before(() => {
      saved = getBackend();
    });
    after(() => {
      if (saved !== undefined) setBackend(saved);
    });

    for (const score of ['additive', 'dot', 'general'] as const) {
      it(`js and wasm agree to float32 rounding: predictions, attention, two training steps (${score})`, function () {
        if (!wasmSimdAvailable()) this.skip();
        const x = windows(6, 8, 1, `backends-${score}`);
        const result = (backend: Backend): { y: number[]; alpha: number[]; loss: number[] } => {
          setBackend(backend); // read when the layer makes its buffers for a batch size
          const m = attentionAutoencoder({ window: 8, units: 5, score, seed: 4 });
          const loss = m.fit(x, x, { epochs: 2, batchSize: 3, seed: 2 }).loss;
          const y = [...m.predict(x).data];
          return { y, alpha: [...((m.layers[1] as AttentionDecoder).lastAttention() as Float32Array)], loss };
        };
        const js = result('js'),
          wasm = result('wasm');
        expect(wasm.y.length).to.equal(js.y.length);
        const close = (a: number[], b: number[], what: string): void =>
          a.forEach((v, i) =>
            expect(Math.abs(v - b[i]), `${what}[${i}]`).to.be.at.most(1e-5 * Math.max(1, Math.abs(b[i]))),
          );
        close(wasm.y, js.y, 'prediction');
        close(wasm.alpha, js.alpha, 'alpha');
        close(wasm.loss, js.loss, 'loss');
        // Two paths, not one: float32 sums in another order differ in the last bits.
        expect(wasm.y).to.not.deep.equal(js.y);
      });
    }
  });
});

/**
 * The convolutional detector models: 'conv-ae' (SKAB's Conv-AE, every feature reconstructed) and 'tcn-forecast'
 * (dilated causal convolutions forecasting the next point). Each finds an injected anomaly in a multivariate series,
 * is causal by default (every prefix scores as the whole series; stream() equals detect()), gives the same bits for
 * the same seed, survives save/load, and refuses options it cannot honour with the argument named.
 */
import { expect } from 'chai';
import { Detector } from '../../../lib/detect/detector';
import type { DetectorModel } from '../../../lib/detect/types';
import { ArgumentError } from '../../../lib/errors';
import { makeRng } from '../../helpers/rng';

/** Two correlated channels; at 520–535 the second decouples from the first (a collective anomaly). */
function series(): number[][] {
  const rng = makeRng('conv-detector');
  return Array.from({ length: 640 }, (_, t) => {
    const a = Math.sin(t / 6) + 0.05 * rng();
    const b = t >= 520 && t < 536 ? -a + 1.5 : 0.8 * a + 0.05 * rng();
    return [a, b];
  });
}

const MODELS: [DetectorModel, number | number[]][] = [
  ['conv-ae', [8, 4]],
  ['tcn-forecast', [6, 6, 6]],
];

describe('Detector: convolutional models', () => {
  const x = series();

  for (const [model, hidden] of MODELS) {
    describe(model, () => {
      const opts = { model, window: 16, hidden, epochs: 8, learningRate: 5e-3, seed: 3, workers: 1 } as const;
      const d = new Detector(opts).fit(x.slice(0, 400));
      const full = d.detect(x);

      it('scores the injected anomaly above every normal point after training', () => {
        let anomalous = 0,
          normal = 0;
        for (let t = d.minLength; t < x.length; t++) {
          if (t >= 520 && t < 540) anomalous = Math.max(anomalous, full.scores[t]);
          else normal = Math.max(normal, full.scores[t]);
        }
        expect(anomalous).to.be.above(normal);
        expect(full.flags.slice(520, 540).some((f) => f === 1)).to.equal(true);
      });

      it('is causal: prefixes score as the whole series, stream() equals detect()', () => {
        for (const k of [d.minLength, 401, 530]) {
          const part = d.detect(x.slice(0, k));
          for (let t = 0; t < k; t++) {
            if (!Object.is(part.scores[t], full.scores[t]) || part.flags[t] !== full.flags[t])
              expect.fail(`prefix ${k}, point ${t}: ${part.scores[t]} vs ${full.scores[t]}`);
          }
        }
        const s = d.stream();
        for (let t = 0; t < x.length; t++) {
          const r = s.push(x[t]);
          if (r === null) continue;
          if (!Object.is(r.score, full.scores[t]) || r.flag !== full.flags[t])
            expect.fail(`stream point ${t}: ${r.score}/${r.flag} vs ${full.scores[t]}/${full.flags[t]}`);
        }
      });

      it('same seed and data give the same bits; save/load keeps them', () => {
        const again = new Detector(opts).fit(x.slice(0, 400)).detect(x);
        expect(Array.from(again.scores)).to.deep.equal(Array.from(full.scores));
        const back = Detector.fromJSON(JSON.parse(JSON.stringify(d.toJSON())));
        expect(Array.from(back.detect(x).scores)).to.deep.equal(Array.from(full.scores));
        expect(back.options.model).to.equal(model);
      });
    });
  }

  it("conv-ae: the network is SKAB's Conv-AE with every feature reconstructed", () => {
    const d = new Detector({ model: 'conv-ae', window: 60, epochs: 1, workers: 1 });
    const net = d.expectedModel(8);
    expect(net.layers.map((l) => l.className)).to.deep.equal([
      'Conv1D',
      'Dropout',
      'Conv1D',
      'Conv1DTranspose',
      'Dropout',
      'Conv1DTranspose',
      'Conv1DTranspose',
    ]);
    expect(net.getOutputShape()).to.deep.equal([60, 8]);
    expect(net.layers[0].getConfig()).to.deep.include({ filters: 32, kernelSize: 7, strides: 2, activation: 'relu' });
  });

  it('refuses options the convolutional models cannot honour, naming the argument', () => {
    expect(() => new Detector({ model: 'conv-ae', window: 30 })).to.throw(
      ArgumentError,
      /Detector\(window\).*halves the window twice/,
    );
    expect(() => new Detector({ model: 'conv-ae', hidden: [8] })).to.throw(ArgumentError, /Detector\(hidden\)/);
    expect(() => new Detector({ model: 'tcn-forecast', hidden: [] })).to.throw(ArgumentError, /Detector\(hidden\)/);
    expect(new Detector({ model: 'tcn-forecast' }).options.hidden).to.deep.equal([32, 32, 32, 32]);
    expect(new Detector({ model: 'conv-ae' }).options.hidden).to.deep.equal([32, 16]);
  });
});

/**
 * exportScorer for the convolutional and attention models ('conv-ae', 'tcn-forecast', 'lstm-attn-ae'), float32 and int8.
 * What is proved: for each model, a detector fitted for a few epochs and its exported module (loaded in a vm context
 * with nothing but the language's built-ins) give the same scores and flags on the same series; the int8 module flags
 * as the float one on ≥ 99 % of the scored rows and computes what the library computes with its weights rounded to
 * int8; networks the presets do not build reach every layer form the runtime implements (Conv1D padding valid, same
 * and causal, stride, dilation; Conv1DTranspose valid and same; max and average pooling with 'same' edges; upsampling;
 * the attention decoder's three scores, a zero initial state and steps ≠ encoder steps), with every weight and bias
 * random; bad input to the exported scorer is refused with a message naming it; a crafted layer is refused at export.
 *
 * Tolerances (stated once):
 *   float   |module − library| ≤ 1e-5 · max(|library|, 1e-3) per score: 1e-5 relative, with an absolute floor of 1e-8
 *           below 1e-3, where the library's float32 copy of the window (not the network) bounds the agreement: a
 *           reconstruction error d² with |d| ≈ 3e-3 moves by ~1e-5 relative when x is rounded to float32 (measured
 *           1.6e-5 relative at a score of 7e-6 for lstm-attn-ae). Flags identical on every row.
 *   int8    every scored row within 5 % of the threshold of the float module's score, median relative change ≤ 5 %,
 *           flags identical on ≥ 99 % of the scored rows; against the library with int8-rounded weights the float
 *           tolerance above.
 */
import { expect } from 'chai';
import * as vm from 'vm';
import { Detector } from '../../../lib/detect/detector';
import { roundWeightsToInt8, int8Layout, quantizeInt8 } from '../../../lib/detect/quantize';
import type { DetectorModel } from '../../../lib/detect/types';
import { ArgumentError } from '../../../lib/errors';
import { Sequential } from '../../../lib/model/sequential';
import {
  conv1d,
  conv1dTranspose,
  maxPooling1d,
  averagePooling1d,
  upSampling1d,
  type Conv1D,
} from '../../../lib/model/layers/conv';
import { attentionDecoder } from '../../../lib/model/layers/attention';
import { lstm } from '../../../lib/model/layers/recurrent';
import { dense, timeDistributed } from '../../../lib/model/layers/dense';
import { makeRng } from '../../helpers/rng';

interface Scorer {
  score: (s: unknown) => Float64Array;
  detect: (s: unknown) => { scores: Float64Array; flags: Uint8Array; threshold: number };
  CONFIG: { firstScored: number };
}

/** The module run as a script in a context holding only ECMAScript's built-ins; exports are the completion value. */
function load(src: string): Scorer {
  expect(src).to.not.match(/\b(require|import)\s*\(|^\s*import\s/m);
  const body = src.replace(/^export (function|const) /gm, '$1 ').replace(/^export default .*$/m, '');
  return new vm.Script(`${body}\n;({ score, detect, CONFIG })`).runInContext(vm.createContext({})) as Scorer;
}

const DATA_LINE = /^const DATA = JSON\.parse\((.*)\);$/m;
const code = (src: string): string =>
  src.replace(DATA_LINE, 'const DATA = ...;').replace(/^\/\/ Standalone.*$/m, '// Standalone');

const within = (a: number, lib: number): boolean => Math.abs(a - lib) <= 1e-5 * Math.max(Math.abs(lib), 1e-3);

/** Per-row agreement of the module's scores with the library's from `first` on; returns the largest relative gap. */
function expectScores(mod: ArrayLike<number>, lib: ArrayLike<number>, first: number, what: string): number {
  let worst = 0;
  for (let t = first; t < lib.length; t++) {
    expect(within(mod[t], lib[t]), `${what} t=${t}: module ${mod[t]}, library ${lib[t]}`).to.equal(true);
    worst = Math.max(worst, Math.abs(mod[t] - lib[t]) / Math.max(Math.abs(lib[t]), 1e-300));
  }
  return worst;
}

describe('exportScorer: conv-ae, tcn-forecast, lstm-attn-ae (float32 and int8)', function () {
  this.timeout(300000);
  const rng = makeRng('export-models');
  const series = Array.from(
    { length: 500 },
    (_, t) => Math.sin(t / 7) + 0.3 * Math.sin(t / 23) + 0.05 * (rng() - 0.5) + (t > 420 && t < 430 ? 1.5 : 0),
  );
  const train = series.slice(0, 300);
  const HIDDEN: Record<string, number | number[]> = {
    'conv-ae': [8, 4],
    'tcn-forecast': [8, 8, 8],
    'lstm-attn-ae': 8,
  };
  const fitted = new Map<DetectorModel, Detector>();
  const get = (model: DetectorModel): Detector => {
    let d = fitted.get(model);
    if (!d) {
      d = new Detector({ model, window: 16, hidden: HIDDEN[model], epochs: 2, seed: 3, threshold: 'quantile:0.99' });
      fitted.set(model, d.fit(train));
    }
    return d;
  };

  for (const model of ['conv-ae', 'tcn-forecast', 'lstm-attn-ae'] as DetectorModel[]) {
    it(`${model}: the float32 module scores and flags as detector.detect (1e-5 relative, floor 1e-8)`, () => {
      const d = get(model);
      const lib = d.detect(series);
      const m = load(d.exportScorer());
      const out = m.detect(series);
      expect(m.CONFIG.firstScored).to.equal(lib.firstScored);
      expect(out.threshold).to.equal(lib.threshold);
      expectScores(out.scores, lib.scores, lib.firstScored, model);
      expect(Array.from(out.flags)).to.deep.equal(Array.from(lib.flags));
      expect(
        lib.flags.some((f) => f === 1),
        'the bump is flagged',
      ).to.equal(true);
      // score() alone is the same computation.
      expect(Array.from(m.score(series))).to.deep.equal(Array.from(out.scores));
    });

    it(`${model}: the int8 module flags as the float one on ≥ 99 % of rows and equals the int8-rounded library`, () => {
      const d = get(model);
      const a = load(d.exportScorer()).detect(series),
        b = load(d.exportScorer({ quantize: 'int8' })).detect(series);
      const first = d.detect(series).firstScored;
      const rel: number[] = [];
      let same = 0;
      for (let t = first; t < series.length; t++) {
        expect(Math.abs(b.scores[t] - a.scores[t]), `t=${t}`).to.be.at.most(0.05 * a.threshold);
        rel.push(Math.abs(b.scores[t] - a.scores[t]) / Math.abs(a.scores[t]));
        if (a.flags[t] === b.flags[t]) same++;
      }
      rel.sort((x, y) => x - y);
      expect(rel[rel.length >> 1], 'median relative change').to.be.at.most(0.05);
      expect(rel[rel.length >> 1], 'the int8 weights change the scores').to.be.above(0);
      expect(same / rel.length, 'share of rows with identical flags').to.be.at.least(0.99);

      const rounded = Detector.fromJSON(d.toJSON());
      expect(roundWeightsToInt8(rounded.model as NonNullable<Detector['model']>)).to.be.above(0);
      expectScores(b.scores, rounded.score(series).scores, first, `${model} int8`);
    });
  }

  it('the three modules are the same fixed code as the recurrent ones; int8 is smaller', () => {
    const gru = new Detector({ model: 'gru-ae', window: 16, hidden: 4, epochs: 1, seed: 1 }).fit(train);
    for (const model of ['conv-ae', 'tcn-forecast', 'lstm-attn-ae'] as DetectorModel[]) {
      const f = get(model).exportScorer(),
        q = get(model).exportScorer({ quantize: 'int8' });
      expect(code(f), model).to.equal(code(gru.exportScorer()));
      expect(code(q), model).to.equal(code(f));
      expect(q.length, model).to.be.below(f.length);
    }
  });

  /** Every weight and bias of `net` drawn uniformly from [−0.5, 0.5) (zero biases would hide a bias bug). */
  const randomise = (net: Sequential, seed: string): Sequential => {
    const r = makeRng(seed);
    for (const l of net.layers)
      for (const p of l.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = r() - 0.5;
    return net;
  };
  /** A copy of the fitted `model` detector with its network swapped for `net` (in memory, as a user could). */
  const swapped = (model: DetectorModel, net: () => Sequential): { float: Detector; rounded: Detector } => {
    const float = Detector.fromJSON(get(model).toJSON()),
      rounded = Detector.fromJSON(get(model).toJSON());
    float.model = net();
    rounded.model = net();
    roundWeightsToInt8(rounded.model);
    return { float, rounded };
  };
  const CUSTOM: Array<[string, DetectorModel, () => Sequential]> = [
    [
      'Conv1D valid+dilation, causal+dilation, same+stride; max pooling same; upsampling; Conv1DTranspose valid and same; average pooling same',
      'conv-ae',
      () =>
        randomise(
          new Sequential([
            conv1d({ filters: 4, kernelSize: 3, padding: 'valid', dilationRate: 2, activation: 'tanh' }), // [12, 4]
            maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' }), // [6, 4]
            upSampling1d({ size: 2 }), // [12, 4]
            conv1d({ filters: 4, kernelSize: 2, padding: 'causal', dilationRate: 3, activation: 'tanh' }), // [12, 4]
            conv1d({ filters: 3, kernelSize: 3, padding: 'same', strides: 3, activation: 'sigmoid' }), // [4, 3]
            conv1dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'valid', activation: 'linear' }), // [9, 2]
            averagePooling1d({ poolSize: 2, strides: 1, padding: 'same' }), // [9, 2]
            conv1d({ filters: 2, kernelSize: 2, padding: 'valid' }), // [8, 2]
            conv1dTranspose({ filters: 1, kernelSize: 3, strides: 2, padding: 'same' }), // [16, 1]
          ]).build([16, 1]),
          'conv-net',
        ),
    ],
    [
      'Conv1D without bias; max and average pooling valid; Conv1DTranspose valid with dilation 2',
      'conv-ae',
      () =>
        randomise(
          new Sequential([
            conv1d({ filters: 3, kernelSize: 3, useBias: false, activation: 'linear' }), // [14, 3]
            maxPooling1d({ poolSize: 2 }), // [7, 3]
            conv1dTranspose({ filters: 2, kernelSize: 3, dilationRate: 2, activation: 'tanh' }), // [11, 2]
            averagePooling1d({ poolSize: 3, strides: 1 }), // [9, 2]
            conv1dTranspose({ filters: 1, kernelSize: 8 }), // [16, 1]
          ]).build([16, 1]),
          'conv-net-2',
        ),
    ],
    [
      "attention 'dot' from the encoder's last state",
      'lstm-attn-ae',
      () =>
        randomise(
          new Sequential([
            lstm({ units: 6, returnSequences: true }),
            attentionDecoder({ units: 6, score: 'dot' }),
            timeDistributed(dense({ units: 1 })),
          ]).build([16, 1]),
          'dot',
        ),
    ],
    [
      "attention 'general' from zeros, 16 decoder steps over 12 encoder steps of 5 features",
      'lstm-attn-ae',
      () =>
        randomise(
          new Sequential([
            conv1d({ filters: 5, kernelSize: 5, padding: 'valid', activation: 'tanh' }), // [12, 5]
            attentionDecoder({ units: 6, score: 'general', initialState: 'zeros', steps: 16 }),
            timeDistributed(dense({ units: 1 })),
          ]).build([16, 1]),
          'general',
        ),
    ],
    [
      "attention 'additive' with 3 attention units, cell activations relu / hardSigmoid",
      'lstm-attn-ae',
      () =>
        randomise(
          new Sequential([
            lstm({ units: 4, returnSequences: true }),
            attentionDecoder({
              units: 4,
              score: 'additive',
              attentionUnits: 3,
              activation: 'relu',
              recurrentActivation: 'hardSigmoid',
            }),
            timeDistributed(dense({ units: 1 })),
          ]).build([16, 1]),
          'additive',
        ),
    ],
  ];
  for (const [what, model, net] of CUSTOM) {
    it(`${what}: float and int8 modules match the library (random weights and biases)`, () => {
      const { float, rounded } = swapped(model, net);
      const lib = float.score(series),
        libQ = rounded.score(series);
      expectScores(load(float.exportScorer()).score(series), lib.scores, lib.firstScored, 'float');
      expectScores(load(float.exportScorer({ quantize: 'int8' })).score(series), libQ.scores, lib.firstScored, 'int8');
      let moved = 0;
      for (let t = lib.firstScored; t < series.length; t++) if (!within(libQ.scores[t], lib.scores[t])) moved++;
      expect(moved, 'int8 rounding changed the scores').to.be.above((series.length - lib.firstScored) / 2);
    });
  }

  it('int8Layout: a Conv1D kernel is [K·Ci, Co], a Conv1DTranspose kernel is its transpose [Ci, K·Co]; v stays float', () => {
    expect(int8Layout('Conv1D', 'kernel', [7, 3, 8])).to.deep.equal({ rows: 21, cols: 8, transposed: false });
    expect(int8Layout('Conv1DTranspose', 'kernel', [7, 8, 3])).to.deep.equal({ rows: 3, cols: 56, transposed: true });
    expect(int8Layout('AttentionDecoder', 'attention_query_kernel', [4, 3])).to.deep.equal({
      rows: 4,
      cols: 3,
      transposed: false,
    });
    expect(int8Layout('AttentionDecoder', 'attention_score', [3])).to.equal(null);
    expect(int8Layout('Conv1D', 'bias', [8])).to.equal(null);
    // roundWeightsToInt8 on a transposed kernel [K=2, Co=2, Ci=1]: the columns are (tap, filter) pairs, one scale each.
    const net = new Sequential([conv1dTranspose({ filters: 2, kernelSize: 2 })]).build([3, 1]);
    const w = net.layers[0].params()[0].value;
    w.set([1, 0.5, -0.25, 3]);
    roundWeightsToInt8(net);
    const ref = quantizeInt8([1, 0.5, -0.25, 3], 1, 4); // Wᵀ [1, 4] = the same values: one weight per column
    expect(Array.from(ref.q)).to.deep.equal([127, 127, -127, 127]);
    expect(Array.from(w)).to.deep.equal([1, 0.5, -0.25, 3].map((v) => Math.fround(v)));
  });

  /** The module's errors come from its own realm (the vm context): matched by name and message, not instanceof. */
  const rangeError = (f: () => unknown, re: RegExp): void => {
    let caught: unknown = null;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught, String(re)).to.be.an('error');
    expect((caught as Error).name).to.equal('RangeError');
    expect((caught as Error).message).to.match(re);
  };

  it('refuses bad input with a message naming it', () => {
    const m = load(get('conv-ae').exportScorer());
    const f = load(get('tcn-forecast').exportScorer({ quantize: 'int8' }));
    rangeError(() => m.score([]), /series: expected a non-empty number\[\] or number\[\]\[\]/);
    rangeError(() => m.score('1,2,3'), /series: expected a non-empty/);
    rangeError(() => m.score(series.slice(0, 15)), /series: 15 points is shorter than the window/);
    rangeError(() => f.score(series.slice(0, 16)), /series: 16 points is shorter than the window/);
    rangeError(() => m.score(series.map((v) => [v, v])), /series\[0\]: expected 1 values, got 2/);
    const inf = series.slice();
    inf[40] = Infinity;
    rangeError(() => f.score(inf), /series\[40\]: infinite value/);
    rangeError(() => m.score(series.map(() => null)), /series: feature 0 has no values/);
    // Gaps are filled as the library fills them.
    const gappy: Array<number | null> = series.slice();
    gappy[50] = null;
    gappy[51] = NaN;
    expectScores(m.score(gappy), get('conv-ae').score(gappy).scores, 0, 'gaps');
  });

  it('refuses a crafted conv or attention layer at export, naming the field', () => {
    const crafted = (model: DetectorModel, edit: (d: Detector) => void): Detector => {
      const d = Detector.fromJSON(get(model).toJSON());
      edit(d);
      return d;
    };
    const conv = (d: Detector): Conv1D => (d.model as Sequential).layers[0] as Conv1D;
    const cases: Array<[DetectorModel, (d: Detector) => void, RegExp]> = [
      [
        'conv-ae',
        (d) => Object.assign(conv(d), { padding: "same'); globalThis.x = 1; ('" }),
        /exportScorer: layers\[0\]\.padding: expected one of valid, same, causal/,
      ],
      ['conv-ae', (d) => Object.assign(conv(d), { strides: 1.5 }), /layers\[0\]\.strides: expected a positive integer/],
      ['tcn-forecast', (d) => Object.assign(conv(d), { activation: 'gelu' }), /layers\[0\]\.activation: expected one/],
      ['tcn-forecast', (d) => (conv(d).params()[0].value[3] = NaN), /layers\[0\]\.kernel\[3\]: expected a finite/],
      [
        'lstm-attn-ae',
        (d) => Object.assign((d.model as Sequential).layers[1], { score: 'cosine' }),
        /layers\[1\]\.score: expected one of additive, dot, general/,
      ],
    ];
    for (const [model, edit, re] of cases)
      expect(() => crafted(model, edit).exportScorer()).to.throw(ArgumentError, re);
  });
});

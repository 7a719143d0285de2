/**
 * The int8 scorer: per-output-column int8 weights (lib/detect/quantize.ts) and exportScorer({ quantize: 'int8' }).
 * What is proved: the rounding is the stated one (hand-checked case, |w − q·s| ≤ s/2 for every weight, symmetric in
 * the sign); the int8 module scores like the float module within the stated tolerance for every exportable network
 * model and flags the same rows on ≥ 99 % of them; it scores as the library does with its weights rounded to int8
 * (what bench/eval-quantized.ts evaluates); it has no imports and runs in a vm context holding only the language's
 * built-ins; its code is the float module's code (only the data differs); and the same detector gives the same bytes.
 */
import { expect } from 'chai';
import * as vm from 'vm';
import { Detector } from '../../../lib/detect/detector';
import { quantizeInt8, dequantizeInt8, roundWeightsToInt8 } from '../../../lib/detect/quantize';
import type { DetectorModel } from '../../../lib/detect/types';
import { ArgumentError } from '../../../lib/errors';
import { sequenceAutoencoder } from '../../../lib/model/presets';
import { makeRng } from '../../helpers/rng';

interface Scorer {
  score: (s: number[]) => Float64Array;
  detect: (s: number[]) => { scores: Float64Array; flags: Uint8Array; threshold: number };
  CONFIG: { firstScored: number };
}

/**
 * Runs a module's source in a fresh vm context whose global object is empty apart from ECMAScript's built-ins (no
 * atob, no Buffer, no require, no process). The `export` keywords are dropped so the text runs as a script; the
 * exports are the script's completion value.
 */
function runInEmptyContext(src: string): Scorer {
  const body = src.replace(/^export (function|const) /gm, '$1 ').replace(/^export default .*$/m, '');
  const context = vm.createContext({});
  expect(vm.runInContext('typeof atob + typeof Buffer + typeof require + typeof process', context)).to.equal(
    'undefinedundefinedundefinedundefined',
  );
  return new vm.Script(`${body}\n;({ score, detect, CONFIG })`).runInContext(context) as Scorer;
}

const DATA_LINE = /^const DATA = JSON\.parse\((.*)\);$/m;
/** The module without its data line and its one-line header (which names the model). */
const code = (src: string): string =>
  src.replace(DATA_LINE, 'const DATA = ...;').replace(/^\/\/ Standalone.*$/m, '// Standalone');
const dataText = (src: string): string => JSON.parse((DATA_LINE.exec(src) as RegExpExecArray)[1]) as string;

describe('int8 quantization (quantizeInt8) and the int8 scorer (exportScorer quantize int8)', () => {
  describe('quantizeInt8', () => {
    it('rounds a hand-checkable matrix: one symmetric scale per column, q = round(w / scale), zero column → 0', () => {
      // [3, 3]: column 0 spans ±1.27 (scale 0.01), column 1 is all zero, column 2 spans 0.254 (scale 0.002).
      const w = [1.27, 0, 0.254, -0.64, 0, -0.1, 0.5, 0, 0.02];
      const m = quantizeInt8(w, 3, 3);
      expect(Array.from(m.scale)).to.deep.equal([Math.fround(0.01), 0, Math.fround(0.002)]);
      expect(Array.from(m.q)).to.deep.equal([127, 0, 127, -64, 0, -50, 50, 0, 10]);
      const back = dequantizeInt8(m);
      expect(Array.from(back)).to.deep.equal(
        [127, 0, 127, -64, 0, -50, 50, 0, 10].map((q, i) => Math.fround(q * m.scale[i % 3])),
      );
    });

    for (const [K, N] of [
      [1, 1],
      [3, 5],
      [17, 12],
      [64, 128],
    ]) {
      it(`[${K}, ${N}]: |w − q·scale| ≤ scale/2 for every weight, max|q| = 127 per column, −w → −q`, () => {
        const rng = makeRng(`q${K}x${N}`);
        const w = new Float32Array(K * N);
        for (let k = 0; k < K; k++) {
          for (let j = 0; j < N; j++) {
            // Columns of very different ranges, one all-zero column when N > 1.
            const range = j === 1 ? 0 : 10 ** ((j % 5) - 3);
            w[k * N + j] = range * (2 * rng() - 1);
          }
        }
        const m = quantizeInt8(w, K, N);
        const back = dequantizeInt8(m);
        const neg = quantizeInt8(
          w.map((v) => -v),
          K,
          N,
        );
        for (let j = 0; j < N; j++) {
          let maxQ = 0;
          for (let k = 0; k < K; k++) {
            const i = k * N + j;
            const err = Math.abs(w[i] - m.q[i] * m.scale[j]);
            // scale/2, plus the float32 rounding of q·scale.
            expect(err, `w[${i}] = ${w[i]}, q ${m.q[i]}, scale ${m.scale[j]}`).to.be.at.most(
              m.scale[j] / 2 + 1e-7 * Math.abs(w[i]),
            );
            expect(Math.abs(back[i] - w[i])).to.be.at.most(m.scale[j] / 2 + 2e-7 * Math.abs(w[i]) + 1e-45);
            expect(neg.q[i], `−w[${i}]`).to.equal(-m.q[i] || 0);
            maxQ = Math.max(maxQ, Math.abs(m.q[i]));
          }
          expect(maxQ, `column ${j}`).to.equal(N > 1 && j === 1 ? 0 : 127);
          expect(m.scale[j], `scale ${j}`).to.equal(N > 1 && j === 1 ? 0 : m.scale[j]);
        }
      });
    }

    it('refuses a wrong length, a non-finite weight and a size that is not a positive integer, naming the argument', () => {
      expect(() => quantizeInt8([1, 2, 3], 2, 2)).to.throw(ArgumentError, /quantizeInt8\(w\): expected 4 values/);
      expect(() => quantizeInt8([1, NaN, 3, 4], 2, 2)).to.throw(
        ArgumentError,
        /quantizeInt8\(w\[1\]\): expected a finite/,
      );
      expect(() => quantizeInt8([1], 0, 1)).to.throw(
        ArgumentError,
        /quantizeInt8\(rows\): expected a positive integer/,
      );
      expect(() => quantizeInt8([1, 2], 1, 2.5)).to.throw(ArgumentError, /quantizeInt8\(cols\)/);
    });
  });

  describe('exportScorer({ quantize: "int8" })', function () {
    this.timeout(300000);
    const rng = makeRng('int8-scorer');
    const series = Array.from(
      { length: 700 },
      (_, t) => Math.sin(t / 7) + 0.3 * Math.sin(t / 23) + 0.05 * (rng() - 0.5) + (t > 560 && t < 570 ? 1.5 : 0),
    );
    const train = series.slice(0, 360);
    const fitted = new Map<DetectorModel, Detector>();
    const fit = (model: DetectorModel, seed = 3): Detector => {
      const d = new Detector({
        model,
        window: 16,
        hidden: model === 'dense-ae' ? [16, 4] : 8,
        epochs: 2,
        seed,
        threshold: 'quantile:0.99',
      }).fit(train);
      return d;
    };
    const get = (model: DetectorModel): Detector => {
      let d = fitted.get(model);
      if (!d) fitted.set(model, (d = fit(model)));
      return d;
    };

    it('validates its options: an unknown quantize value or option, or a non-object, is an ArgumentError naming it', () => {
      const d = get('dense-ae');
      expect(() => d.exportScorer({ quantize: 'int4' } as never)).to.throw(
        ArgumentError,
        /exportScorer\(options\.quantize\): expected one of 'none', 'int8', got "int4"/,
      );
      expect(() => d.exportScorer({ quantise: 'int8' } as never)).to.throw(
        ArgumentError,
        /exportScorer\(options\): unknown option "quantise" \(did you mean 'quantize'\?\)/,
      );
      expect(() => d.exportScorer(42 as never)).to.throw(
        ArgumentError,
        /exportScorer\(options\): expected an options object/,
      );
      expect(() => d.exportScorer({ path: 7 } as never)).to.throw(ArgumentError, /exportScorer\(options\.path\)/);
      // 'none' is the float32 module, byte for byte.
      expect(d.exportScorer({ quantize: 'none' })).to.equal(d.exportScorer());
    });

    // Tolerance: every scored row's score within 5 % of the threshold of the float module's (the distance that decides
    // a flag), the median relative change ≤ 5 %, and flags identical on ≥ 99 % of the scored rows.
    for (const model of ['lstm-ae', 'gru-ae', 'rnn-ae', 'dense-ae', 'lstm-forecast'] as DetectorModel[]) {
      it(`${model}: the int8 module scores within the stated tolerance of the float module and as the library with int8-rounded weights`, () => {
        const d = get(model);
        const floatSrc = d.exportScorer(),
          int8Src = d.exportScorer({ quantize: 'int8' });
        for (const src of [floatSrc, int8Src]) expect(src).to.not.match(/\b(require|import)\s*\(|^\s*import\s/m);
        const a = runInEmptyContext(floatSrc).detect(series),
          b = runInEmptyContext(int8Src).detect(series);
        const first = runInEmptyContext(int8Src).CONFIG.firstScored;
        expect(b.threshold).to.equal(a.threshold);
        const rel: number[] = [];
        let same = 0,
          changed = 0;
        for (let t = first; t < series.length; t++) {
          expect(Math.abs(b.scores[t] - a.scores[t]), `t=${t}`).to.be.at.most(0.05 * a.threshold);
          rel.push(Math.abs(b.scores[t] - a.scores[t]) / Math.abs(a.scores[t]));
          if (a.flags[t] === b.flags[t]) same++;
          if (b.scores[t] !== a.scores[t]) changed++;
        }
        rel.sort((x, y) => x - y);
        expect(rel[rel.length >> 1], 'median relative change').to.be.at.most(0.05);
        expect(same / rel.length, 'share of rows with identical flags').to.be.at.least(0.99);
        expect(changed, 'the int8 weights change the scores').to.be.above(rel.length / 2);

        // The int8 module computes what the library computes with its weights rounded to int8 (the evaluation's path).
        const rounded = Detector.fromJSON(d.toJSON());
        expect(roundWeightsToInt8(rounded.model as NonNullable<Detector['model']>)).to.be.above(0);
        const lib = rounded.detect(series);
        // The library's float32 rounding, relative to max(score, 1e-3): measured at most 3.4e-6 on js, 8.3e-6 on
        // simd128 and 1.1e-5 on relaxed-fma, all for rnn-ae (the others ≤ 3.9e-6); the bound is about twice that.
        let worst = 0;
        for (let t = first; t < series.length; t++)
          worst = Math.max(worst, Math.abs(b.scores[t] - lib.scores[t]) / Math.max(1e-3, lib.scores[t]));
        console.log(`      (${model}: largest relative difference from the rounded library ${worst.toExponential(2)})`);
        expect(worst).to.be.at.most(2e-5);
        let differ = 0;
        for (let t = 0; t < series.length; t++)
          if (b.flags[t] !== (t < first ? 0 : Number(lib.scores[t] > a.threshold))) differ++;
        expect(differ).to.equal(0);
      });
    }

    it('a GRU with resetAfter false (its candidate reads columns 2H… of U): the int8 module matches the rounded library', () => {
      // No detector model builds this GRU; a network swapped in memory reaches the runtime's column-offset path.
      const net = (): NonNullable<Detector['model']> =>
        sequenceAutoencoder({
          window: 16,
          features: 1,
          units: 8,
          cell: 'gru',
          seed: 5,
          recurrent: { resetAfter: false },
        });
      const d = Detector.fromJSON(get('gru-ae').toJSON());
      d.model = net();
      const rounded = Detector.fromJSON(get('gru-ae').toJSON());
      rounded.model = net();
      roundWeightsToInt8(rounded.model);
      const m = runInEmptyContext(d.exportScorer({ quantize: 'int8' })).score(series);
      const lib = rounded.score(series).scores;
      const floatLib = d.score(series).scores;
      let moved = 0;
      for (let t = 0; t < series.length; t++) {
        expect(Math.abs(m[t] - lib[t]), `t=${t}`).to.be.at.most(1e-5 * Math.max(1e-3, lib[t]));
        if (Math.abs(lib[t] - floatLib[t]) > 1e-5 * Math.max(1e-3, lib[t])) moved++;
      }
      expect(moved, 'rounding changed the library scores').to.be.above(series.length / 2);
    });

    it('carries int8 bytes and float32 scales per output column for every kernel, float32 biases', () => {
      const d = get('gru-ae');
      const data = JSON.parse(dataText(d.exportScorer({ quantize: 'int8' }))) as {
        layers: Array<{ type: string; units: number; W?: unknown; U?: unknown; b?: unknown }>;
      };
      const floatData = JSON.parse(dataText(d.exportScorer())) as { layers: Array<{ W?: unknown; b?: unknown }> };
      const net = (d.model as NonNullable<Detector['model']>).layers;
      let matrices = 0;
      data.layers.forEach((L, i) => {
        if (L.W === undefined) return;
        expect(L.b, `layer ${i} bias`).to.equal(floatData.layers[i].b);
        for (const [key, M] of [
          ['W', L.W],
          ['U', L.U],
        ] as const) {
          if (M === undefined) continue;
          const m = M as { q: string; s: string };
          const p = net[i].params()[key === 'W' ? 0 : 1];
          const [K, N] = p.shape;
          const bytes = Buffer.from(m.q, 'base64');
          const scales = new Float32Array(new Uint8Array(Buffer.from(m.s, 'base64')).buffer);
          expect(bytes.length, `layer ${i} ${key}`).to.equal(K * N);
          expect(scales.length, `layer ${i} ${key} scales`).to.equal(N);
          const ref = quantizeInt8(p.value, K, N);
          expect(Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length))).to.deep.equal(
            Array.from(ref.q),
          );
          expect(Array.from(scales)).to.deep.equal(Array.from(ref.scale));
          matrices++;
        }
      });
      expect(matrices).to.be.at.least(3);
    });

    it('is fixed code: the int8 module of two different detectors, and the float module, differ only in the data', () => {
      const gru = get('gru-ae').exportScorer({ quantize: 'int8' }),
        lstm = get('lstm-ae').exportScorer({ quantize: 'int8' }),
        float = get('gru-ae').exportScorer();
      expect(dataText(gru)).to.not.equal(dataText(lstm));
      expect(code(gru)).to.equal(code(lstm));
      expect(code(gru)).to.equal(code(float));
      expect(gru).to.match(/^\/\/ Standalone anomaly scorer exported by bptt \(gru-ae, .*int8 weights\)\.$/m);
      // The data travels as one JSON string literal, nothing else.
      const literal = (DATA_LINE.exec(gru) as RegExpExecArray)[1];
      expect(JSON.stringify(JSON.parse(literal))).to.equal(literal);
    });

    it('is deterministic: the same detector, or one fitted again with the same seed and data, gives the same bytes', () => {
      const a = get('lstm-forecast');
      const b = fit('lstm-forecast');
      const src = a.exportScorer({ quantize: 'int8' });
      expect(a.exportScorer({ quantize: 'int8' })).to.equal(src);
      expect(b.exportScorer({ quantize: 'int8' })).to.equal(src);
    });

    it('is smaller by exactly the weights’ bytes: base64 of one int8 byte per weight plus float32 scales per column', () => {
      const b64 = (bytes: number): number => 4 * Math.ceil(bytes / 3);
      for (const model of ['lstm-ae', 'dense-ae'] as DetectorModel[]) {
        const d = get(model);
        const matrices = (d.model as NonNullable<Detector['model']>).layers
          .flatMap((l) => l.params())
          .filter((p) => p.shape.length === 2 && /kernel$/.test(p.name));
        // In the data literal a float32 matrix is \"<base64>\" and an int8 one {\"q\":\"<base64>\",\"s\":\"<base64>\"}
        // (19 more characters); the header line adds ", int8 weights" (14).
        const expected =
          matrices.reduce((s, p) => {
            const [K, N] = p.shape;
            return s + b64(4 * K * N) - b64(K * N) - b64(4 * N) - 19;
          }, 0) - 14;
        const saved = d.exportScorer().length - d.exportScorer({ quantize: 'int8' }).length;
        expect(saved, model).to.equal(expected);
        expect(saved, model).to.be.above(0);
      }
    });
  });
});

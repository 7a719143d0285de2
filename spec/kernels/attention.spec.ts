/**
 * Attention decoder kernel: forward against an independent scalar oracle (softmax rows, context, the LSTM step written
 * out), backward by central differences in float64 for every element of every weight, the encoder states, the decoder
 * inputs and the initial state, on a table of shapes (Te ≠ Td, B = 1 and B > 1, every score); a corrupted gradient
 * element is caught; float32 agrees with float64; the overwrite/accumulate conventions; length and option checks.
 */
import { expect } from 'chai';
import {
  type AttentionGrads,
  type AttentionParams,
  type AttentionScore,
  type AttentionWorkspace,
  attentionBackward,
  attentionForward,
  attentionParamSizes,
  attentionWorkspace,
} from '../../kernels/attention';
import { gradCheck, weightedSum } from '../helpers/gradcheck';
import { makeRng, uniform64, type Rng } from '../helpers/rng';

interface Shape {
  Te: number;
  Td: number;
  B: number;
  Dx: number;
  E: number;
  H: number;
  A: number;
  score: AttentionScore;
}

interface Data extends Shape {
  p: AttentionParams;
  hEnc: Float64Array;
  x: Float64Array;
  s0: Float64Array;
  c0: Float64Array;
  R: Float64Array; // [Td,B,H] upstream dL/ds_{i+1}
}

const KEYS = ['W', 'U', 'b', 'Ws', 'Wh', 'ba', 'v', 'Wa'] as const;

function makeData(s: Shape, rng: Rng): Data {
  const n = attentionParamSizes(s.score, s.Dx, s.E, s.H, s.A);
  const p = {} as AttentionParams;
  for (const k of KEYS) p[k] = uniform64(n[k], rng, -0.6, 0.6);
  return {
    ...s,
    p,
    hEnc: uniform64(s.Te * s.B * s.E, rng, -1, 1),
    x: uniform64(s.Td * s.B * s.Dx, rng, -1, 1),
    s0: uniform64(s.B * s.H, rng, -0.8, 0.8),
    c0: uniform64(s.B * s.H, rng, -1, 1),
    R: uniform64(s.Td * s.B * s.H, rng, -1, 1),
  };
}

function workspace(
  d: Shape,
  ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array,
): AttentionWorkspace {
  return attentionWorkspace(
    d.Te,
    d.Td,
    d.B,
    d.Dx,
    d.E,
    d.H,
    ctor,
    d.score === 'additive' ? { score: d.score, units: d.A } : { score: d.score },
  );
}

function forward(ws: AttentionWorkspace, d: Data): void {
  ws.s.set(d.s0, 0);
  ws.c.set(d.c0, 0);
  attentionForward(ws, d.p, d.hEnc, d.x);
}

/** L = Σ_i Σ s_{i+1} ⊙ R_i. */
function loss(ws: AttentionWorkspace, d: Data): number {
  return weightedSum(ws.s as Float64Array, d.R, d.B * d.H);
}

type Grads = AttentionGrads & { dhEnc: Float64Array; dx: Float64Array; ds0: Float64Array; dc0: Float64Array };

function backward(ws: AttentionWorkspace, d: Data): Grads {
  const n = attentionParamSizes(d.score, d.Dx, d.E, d.H, d.A);
  const g = {
    dW: new Float64Array(n.W),
    dU: new Float64Array(n.U),
    db: new Float64Array(n.b),
    dWs: new Float64Array(n.Ws),
    dWh: new Float64Array(n.Wh),
    dba: new Float64Array(n.ba),
    dv: new Float64Array(n.v),
    dWa: new Float64Array(n.Wa),
    dhEnc: new Float64Array(d.Te * d.B * d.E),
    dx: new Float64Array(d.Td * d.B * d.Dx),
    ds0: new Float64Array(d.B * d.H),
    dc0: new Float64Array(d.B * d.H),
  };
  attentionBackward(g, g.dhEnc, g.dx, g.ds0, g.dc0, d.R, ws, d.p, d.hEnc, d.x);
  return g;
}

// ---- Independent oracle: scalar Math, one element at a time, no kernel code. --------------------------------------

const sig = (z: number): number => 1 / (1 + Math.exp(-z));

function oracle(d: Data): { s: Float64Array; alpha: Float64Array } {
  const { Te, Td, B, Dx, E, H, A, score, p } = d;
  const Din = Dx + E,
    G = 4 * H;
  const s = new Float64Array((Td + 1) * B * H),
    c = new Float64Array((Td + 1) * B * H),
    alpha = new Float64Array(Td * B * Te);
  s.set(d.s0);
  c.set(d.c0);
  const st = (i: number, b: number, k: number): number => s[(i * B + b) * H + k];
  const h = (j: number, b: number, k: number): number => d.hEnc[(j * B + b) * E + k];
  for (let i = 0; i < Td; i++) {
    for (let b = 0; b < B; b++) {
      const e: number[] = [];
      for (let j = 0; j < Te; j++) {
        let ej = 0;
        if (score === 'additive') {
          for (let a = 0; a < A; a++) {
            let z = p.ba[a];
            for (let k = 0; k < H; k++) z += st(i, b, k) * p.Ws[k * A + a];
            for (let k = 0; k < E; k++) z += h(j, b, k) * p.Wh[k * A + a];
            ej += p.v[a] * Math.tanh(z);
          }
        } else if (score === 'dot') {
          for (let k = 0; k < H; k++) ej += st(i, b, k) * h(j, b, k);
        } else {
          for (let k = 0; k < H; k++) for (let m = 0; m < E; m++) ej += st(i, b, k) * p.Wa[k * E + m] * h(j, b, m);
        }
        e.push(ej);
      }
      const z = e.map(Math.exp),
        sum = z.reduce((a, v) => a + v, 0);
      for (let j = 0; j < Te; j++) alpha[(i * B + b) * Te + j] = z[j] / sum;
      const xin: number[] = [];
      for (let k = 0; k < Dx; k++) xin.push(d.x[(i * B + b) * Dx + k]);
      for (let k = 0; k < E; k++) {
        let ctx = 0;
        for (let j = 0; j < Te; j++) ctx += alpha[(i * B + b) * Te + j] * h(j, b, k);
        xin.push(ctx);
      }
      for (let u = 0; u < H; u++) {
        const gate = (q: number): number => {
          let v = p.b[q * H + u];
          for (let k = 0; k < Din; k++) v += xin[k] * p.W[k * G + q * H + u];
          for (let k = 0; k < H; k++) v += st(i, b, k) * p.U[k * G + q * H + u];
          return v;
        };
        const ig = sig(gate(0)),
          fg = sig(gate(1)),
          gg = Math.tanh(gate(2)),
          og = sig(gate(3));
        const ct = fg * c[(i * B + b) * H + u] + ig * gg;
        c[((i + 1) * B + b) * H + u] = ct;
        s[((i + 1) * B + b) * H + u] = og * Math.tanh(ct);
      }
    }
  }
  return { s, alpha };
}

// ---- Tests -----------------------------------------------------------------------------------------------------

const SHAPES: Shape[] = [];
for (const score of ['additive', 'dot', 'general'] as const) {
  const dotE = (H: number, E: number): number => (score === 'dot' ? H : E);
  SHAPES.push({ Te: 1, Td: 1, B: 1, Dx: 1, E: dotE(1, 1), H: 1, A: 1, score });
  SHAPES.push({ Te: 5, Td: 3, B: 1, Dx: 2, E: dotE(4, 3), H: 4, A: 3, score });
  SHAPES.push({ Te: 3, Td: 6, B: 3, Dx: 0, E: dotE(3, 5), H: 3, A: 4, score });
  SHAPES.push({ Te: 4, Td: 4, B: 5, Dx: 1, E: dotE(2, 2), H: 2, A: 2, score });
}
const label = (s: Shape): string =>
  `${s.score} Te=${s.Te} Td=${s.Td} B=${s.B} Dx=${s.Dx} E=${s.E} H=${s.H}${s.score === 'additive' ? ` A=${s.A}` : ''}`;

describe('kernels/attention', () => {
  let maxRelSeen = 0;
  after(() => {
    console.log(`      attention gradient check: max relative error ${maxRelSeen.toExponential(2)}`);
  });

  describe('forward', () => {
    for (const shape of SHAPES) {
      it(`matches a scalar oracle, softmax rows sum to 1 (${label(shape)})`, () => {
        const d = makeData(shape, makeRng(`attn-fwd-${label(shape)}`));
        const ws = workspace(d);
        forward(ws, d);
        const ref = oracle(d);
        for (let r = 0; r < shape.Td * shape.B; r++) {
          let sum = 0;
          for (let j = 0; j < shape.Te; j++) {
            const a = ws.alpha[r * shape.Te + j];
            expect(a).to.be.within(0, 1);
            sum += a;
          }
          expect(Math.abs(sum - 1), `row ${r} sums to ${sum}`).to.be.below(1e-14);
        }
        for (let k = 0; k < ref.alpha.length; k++)
          expect(Math.abs(ws.alpha[k] - ref.alpha[k]), `alpha[${k}]`).to.be.below(1e-13);
        for (let k = 0; k < ref.s.length; k++) expect(Math.abs(ws.s[k] - ref.s[k]), `s[${k}]`).to.be.below(1e-13);
      });
    }

    it('a large score difference takes (almost) all the weight, without overflow', () => {
      // dot score, H = E = 1: s_0 = 1, h = [800, 0, -800]: exp(800) overflows unless the max is subtracted.
      const shape: Shape = { Te: 3, Td: 1, B: 1, Dx: 0, E: 1, H: 1, A: 0, score: 'dot' };
      const d = makeData(shape, makeRng('attn-big'));
      d.hEnc.set([800, 0, -800]);
      d.s0[0] = 1;
      const ws = workspace(d);
      forward(ws, d);
      expect([...ws.alpha]).to.deep.equal([1, 0, 0]);
      expect(ws.xin[0]).to.equal(800);
    });
  });

  describe('backward (float64 central differences, every element)', () => {
    for (const shape of SHAPES) {
      it(`every weight, hEnc, x, s0, c0 (${label(shape)})`, () => {
        const d = makeData(shape, makeRng(`attn-grad-${label(shape)}`));
        const ws = workspace(d);
        forward(ws, d);
        const g = backward(ws, d);
        const inputs: Record<string, Float64Array> = {},
          analytic: Record<string, Float64Array> = {};
        for (const k of KEYS) {
          if (d.p[k].length === 0) continue;
          inputs[k] = d.p[k] as Float64Array;
          analytic[k] = g[`d${k}` as keyof AttentionGrads] as Float64Array;
        }
        Object.assign(inputs, { hEnc: d.hEnc, x: d.x, s0: d.s0, c0: d.c0 });
        Object.assign(analytic, { hEnc: g.dhEnc, x: g.dx, s0: g.ds0, c0: g.dc0 });
        const r = gradCheck(inputs, analytic, () => {
          forward(ws, d);
          return loss(ws, d);
        });
        maxRelSeen = Math.max(maxRelSeen, r.maxRel);
        expect(r.maxRel).to.be.at.most(1e-6);
      });
    }

    it('a gradient with one corrupted element fails the check, naming it', () => {
      for (const score of ['additive', 'dot', 'general'] as const) {
        const shape: Shape = { Te: 4, Td: 3, B: 2, Dx: 1, E: 3, H: 3, A: 2, score };
        const d = makeData(shape, makeRng(`attn-corrupt-${score}`));
        const ws = workspace(d);
        forward(ws, d);
        const g = backward(ws, d);
        // The encoder-state gradient of one element, off by a relative 1e-4: through attention only in part.
        const k = 5;
        g.dhEnc[k] *= 1 + 1e-4;
        expect(() =>
          gradCheck({ hEnc: d.hEnc }, { hEnc: g.dhEnc }, () => {
            forward(ws, d);
            return loss(ws, d);
          }),
        ).to.throw(`gradient of hEnc[${k}]`);
      }
    });

    it('parameter gradients accumulate; dhEnc, dx, ds0, dc0 are overwritten', () => {
      const shape: Shape = { Te: 3, Td: 2, B: 2, Dx: 1, E: 2, H: 2, A: 3, score: 'additive' };
      const d = makeData(shape, makeRng('attn-conv'));
      const ws = workspace(d);
      forward(ws, d);
      const g1 = backward(ws, d);
      const g2 = backward(ws, d);
      attentionBackward(g2, g2.dhEnc, g2.dx, g2.ds0, g2.dc0, d.R, ws, d.p, d.hEnc, d.x);
      for (const k of ['dW', 'dU', 'db', 'dWs', 'dWh', 'dba', 'dv'] as const)
        for (let i = 0; i < g1[k].length; i++) expect(g2[k][i]).to.be.closeTo(2 * g1[k][i], 1e-12);
      for (const k of ['dhEnc', 'dx', 'ds0', 'dc0'] as const) expect([...g2[k]]).to.deep.equal([...g1[k]]);
    });

    it('a null dx and a null dsSeq are accepted (dsSeq null: every gradient is 0)', () => {
      const shape: Shape = { Te: 2, Td: 2, B: 1, Dx: 1, E: 2, H: 2, A: 2, score: 'general' };
      const d = makeData(shape, makeRng('attn-null'));
      const ws = workspace(d);
      forward(ws, d);
      const g = backward(ws, d);
      attentionBackward(g, g.dhEnc, null, g.ds0, g.dc0, null, ws, d.p, d.hEnc, d.x);
      expect(g.dhEnc.every((v) => v === 0)).to.equal(true);
      expect(g.ds0.every((v) => v === 0)).to.equal(true);
    });
  });

  it('float32 agrees with float64 within 1e-4 relative', () => {
    for (const score of ['additive', 'dot', 'general'] as const) {
      const shape: Shape = { Te: 6, Td: 5, B: 3, Dx: 2, E: 4, H: 4, A: 5, score };
      const d = makeData(shape, makeRng(`attn-f32-${score}`));
      const w64 = workspace(d),
        w32 = workspace(d, Float32Array);
      forward(w64, d);
      const p32 = {} as AttentionParams;
      for (const k of KEYS) p32[k] = Float32Array.from(d.p[k]);
      w32.s.set(d.s0, 0);
      w32.c.set(d.c0, 0);
      attentionForward(w32, p32, Float32Array.from(d.hEnc), Float32Array.from(d.x));
      for (let k = 0; k < w64.s.length; k++) {
        expect(Math.abs(w32.s[k] - w64.s[k])).to.be.at.most(1e-4 * Math.max(1, Math.abs(w64.s[k])));
      }
      for (let k = 0; k < w64.alpha.length; k++) expect(Math.abs(w32.alpha[k] - w64.alpha[k])).to.be.at.most(1e-5);
    }
  });

  describe('argument checks', () => {
    it('names the argument, the expected and the actual length', () => {
      const shape: Shape = { Te: 3, Td: 2, B: 2, Dx: 1, E: 2, H: 2, A: 3, score: 'additive' };
      const d = makeData(shape, makeRng('attn-len'));
      const ws = workspace(d);
      expect(() => attentionForward(ws, d.p, d.hEnc.subarray(1), d.x)).to.throw(
        RangeError,
        'attentionForward(hEnc): expected 12 elements [Te=3,B=2,E=2], got 11',
      );
      expect(() => attentionForward(ws, { ...d.p, Wa: new Float64Array(1) }, d.hEnc, d.x)).to.throw(
        RangeError,
        'attentionForward(Wa): expected 0 elements',
      );
      forward(ws, d);
      const g = backward(ws, d);
      expect(() =>
        attentionBackward({ ...g, dv: new Float64Array(2) }, g.dhEnc, g.dx, g.ds0, g.dc0, d.R, ws, d.p, d.hEnc, d.x),
      ).to.throw(RangeError, 'attentionBackward(dv): expected 3 elements');
      expect(() => attentionBackward(g, g.dhEnc, g.dx, g.ds0, g.dc0, d.R.subarray(1), ws, d.p, d.hEnc, d.x)).to.throw(
        RangeError,
        'attentionBackward(dsSeq)',
      );
    });

    it('rejects bad dimensions and options', () => {
      expect(() => attentionWorkspace(3, 2, 1, 0, 2, 3, Float64Array, { score: 'dot' })).to.throw(
        RangeError,
        "the 'dot' score needs E = H, got E=2, H=3",
      );
      expect(() => attentionWorkspace(3, 2, 1, 0, 2, 2, Float64Array, {})).to.throw(
        RangeError,
        'attentionWorkspace(units)',
      );
      expect(() => attentionWorkspace(3, 2, 1, 0, 2, 2, Float64Array, { score: 'dot', units: 3 })).to.throw(
        RangeError,
        'no attention units',
      );
      expect(() => attentionWorkspace(3, 2, 1, 0, 2, 2, Float64Array, { score: 'cosine' as AttentionScore })).to.throw(
        RangeError,
        'attentionWorkspace(score)',
      );
      expect(() => attentionWorkspace(3, 2, 1, -1, 2, 2, Float64Array, { units: 2 })).to.throw(
        RangeError,
        'attentionWorkspace(Dx)',
      );
      expect(() => attentionWorkspace(0, 2, 1, 0, 2, 2, Float64Array, { units: 2 })).to.throw(
        RangeError,
        'attentionWorkspace(Te)',
      );
      expect(() => attentionWorkspace(3, 2, 1, 0, 2, 2, Float64Array, { units: 2, mask: 1 } as object)).to.throw(
        TypeError,
        'unknown option "mask"',
      );
    });
  });
});

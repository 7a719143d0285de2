/**
 * The fast twin kernels/fast/attention.ts (what AttentionDecoder runs) equals the reference kernels/attention.ts (the
 * plain loops that spec/kernels/attention.spec.ts proves by finite differences and attention-parity.spec.ts against
 * PyTorch): forward (s, c, alpha) and every gradient (dW, dU, db, dWs, dWh, dba, dv, dWa, dhEnc, dx, ds0, dc0), over a
 * table: every score, Te ≠ Td both ways, B = 1 and B > 1, Dx = 0 and Dx > 0, and non-default cell activations.
 *
 * Bounds (|fast − reference| ≤ tol·max(|reference|, 1), every element), and why:
 * - float64, js path: 1e-12. The twin computes the same equations with the products regrouped (whole-sequence GEMMs
 *   after the loop where the reference adds step by step, per-row products where it loops), so sums differ in order:
 *   float64 round-off (measured worst on this table: 3.3e-16).
 * - float32, js path: 1e-6. Both round every stored value to float32, in different places and orders (e.g. the twin
 *   keeps dh + dsSeq in a float64 local); through Td ≤ 6 steps of recurrence and softmax that is a few float32 ulps
 *   (2⁻²⁴ ≈ 6e-8 each; measured worst 1.2e-7).
 * - float32, wasm path (arena) against the float32 reference: 2e-6. The wasm products sum in float32 lanes in another
 *   order and the score's tanh and the forward gate math are f32 SIMD (1–2 ulp), so the errors are float32 arithmetic's
 *   (measured worst 1.8e-7). The printed worst cases say how close each bound is.
 * A last test breaks one element of the fast output and checks that the comparison reports it, so it can fail.
 */
import { expect } from 'chai';
import * as ref from '../../kernels/attention';
import * as fast from '../../kernels/fast/attention';
import { type AttentionParams, type AttentionScore, attentionParamSizes } from '../../kernels/attention';
import { WasmArena, wasmSimdAvailable } from '../../kernels/wasm/arena';
import { makeRng, uniform64 } from '../helpers/rng';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
type Out = Record<string, Float64Array>;
interface Case {
  score: AttentionScore;
  Te: number;
  Td: number;
  B: number;
  Dx: number;
  E: number;
  H: number;
  A: number;
  act: string;
  recAct: string;
}

const KEYS = ['W', 'U', 'b', 'Ws', 'Wh', 'ba', 'v', 'Wa'] as const;

function cases(): Case[] {
  const out: Case[] = [];
  for (const score of ['additive', 'dot', 'general'] as const) {
    const e = (E: number, H: number): number => (score === 'dot' ? H : E);
    const base = { score, act: 'tanh', recAct: 'sigmoid' };
    out.push({ ...base, Te: 1, Td: 1, B: 1, Dx: 1, E: e(1, 1), H: 1, A: 1 });
    out.push({ ...base, Te: 5, Td: 3, B: 1, Dx: 2, E: e(3, 4), H: 4, A: 3 });
    out.push({ ...base, Te: 3, Td: 6, B: 3, Dx: 0, E: e(5, 3), H: 3, A: 4 });
    out.push({ ...base, Te: 7, Td: 5, B: 6, Dx: 0, E: e(9, 8), H: 8, A: 6 });
    out.push({ ...base, Te: 4, Td: 4, B: 5, Dx: 1, E: e(2, 2), H: 2, A: 2, act: 'relu', recAct: 'hardSigmoid' });
    out.push({ ...base, Te: 4, Td: 3, B: 2, Dx: 2, E: e(3, 3), H: 3, A: 2, act: 'linear', recAct: 'sigmoid' });
  }
  return out;
}

const label = (c: Case): string =>
  `${c.score} Te=${c.Te} Td=${c.Td} B=${c.B} Dx=${c.Dx} E=${c.E} H=${c.H}` +
  `${c.score === 'additive' ? ` A=${c.A}` : ''} ${c.act}/${c.recAct}`;

/** The case's data, drawn from a seed and rounded to ctor: weights, inputs, initial state, upstream gradient. */
function data(c: Case, ctor: Ctor) {
  const rng = makeRng(`attn-fast-${label(c)}`);
  const arr = (n: number, lo = -0.6, hi = 0.6) => ctor.from(uniform64(n, rng, lo, hi));
  const n = attentionParamSizes(c.score, c.Dx, c.E, c.H, c.A);
  const p = {} as AttentionParams;
  for (const k of KEYS) p[k] = arr(n[k]);
  return {
    p,
    n,
    hEnc: arr(c.Te * c.B * c.E, -1, 1),
    x: arr(c.Td * c.B * c.Dx, -1, 1),
    s0: arr(c.B * c.H, -0.8, 0.8),
    c0: arr(c.B * c.H, -1, 1),
    R: arr(c.Td * c.B * c.H, -1, 1),
  };
}

/**
 * Forward and backward of one implementation: 'reference', or 'fast' on the js path or (arena) the wasm path.
 * `repeat` runs the backward that many times into the same gradients (the convention check).
 */
function run(impl: 'reference' | 'fast' | 'wasm', c: Case, ctor: Ctor, repeat = 1, nullSeq = false): Out {
  const d = data(c, ctor);
  const opts = {
    ...(c.score === 'additive' ? { score: c.score, units: c.A } : { score: c.score }),
    activation: c.act,
    recurrentActivation: c.recAct,
  };
  const k = impl === 'reference' ? ref : fast;
  const extra = impl === 'wasm' ? { arena: new WasmArena({ initialBytes: 0 }) } : {};
  const ws = k.attentionWorkspace(c.Te, c.Td, c.B, c.Dx, c.E, c.H, ctor, { ...opts, ...extra });
  ws.s.set(d.s0, 0);
  ws.c.set(d.c0, 0);
  (k.attentionForward as typeof ref.attentionForward)(ws as never, d.p, d.hEnc, d.x);
  const g: Record<string, Float32Array | Float64Array> = {};
  for (const key of KEYS) g[`d${key}`] = new ctor(d.n[key]);
  const dhEnc = new ctor(d.hEnc.length),
    dx = new ctor(d.x.length),
    ds0 = new ctor(c.B * c.H),
    dc0 = new ctor(c.B * c.H);
  for (let r = 0; r < repeat; r++)
    (k.attentionBackward as typeof ref.attentionBackward)(
      g as never,
      dhEnc,
      dx,
      ds0,
      dc0,
      nullSeq ? null : d.R,
      ws as never,
      d.p,
      d.hEnc,
      d.x,
    );
  const out: Out = {
    s: Float64Array.from(ws.s),
    c: Float64Array.from(ws.c),
    alpha: Float64Array.from(ws.alpha),
    dhEnc: Float64Array.from(dhEnc),
    dx: Float64Array.from(dx),
    ds0: Float64Array.from(ds0),
    dc0: Float64Array.from(dc0),
  };
  for (const key of Object.keys(g)) out[key] = Float64Array.from(g[key]);
  return out;
}

/** The worst |a − b| / max(|b|, 1) and where, and the first element beyond tol (or null). */
function compare(a: Out, b: Out, tol: number): { worst: number; bad: string | null } {
  let worst = 0,
    bad: string | null = null;
  for (const name of Object.keys(b)) {
    const x = a[name],
      y = b[name];
    if (x === undefined || x.length !== y.length) return { worst: Infinity, bad: `${name}: length differs` };
    for (let k = 0; k < y.length; k++) {
      const rel = Math.abs(x[k] - y[k]) / Math.max(Math.abs(y[k]), 1);
      if (!(rel <= tol) && bad === null)
        bad = `${name}[${k}]: fast ${x[k]} vs reference ${y[k]} (relative ${rel.toExponential(2)})`;
      if (rel > worst || Number.isNaN(rel)) worst = Number.isNaN(rel) ? Infinity : rel;
    }
  }
  return { worst, bad };
}

describe('kernels/fast/attention: the fast twin equals the reference kernel', () => {
  const all = cases();
  const worst = { f64: 0, f32: 0, wasm: 0 };
  after(() => {
    console.log(
      `      attention fast vs reference (relative): f64 ${worst.f64.toExponential(2)}, ` +
        `f32 js ${worst.f32.toExponential(2)}, f32 wasm ${worst.wasm.toExponential(2)}`,
    );
  });

  describe('float64, js path: within 1e-12', () => {
    for (const c of all)
      it(label(c), () => {
        const r = compare(run('fast', c, Float64Array), run('reference', c, Float64Array), 1e-12);
        worst.f64 = Math.max(worst.f64, r.worst);
        expect(r.bad).to.equal(null);
      });
  });

  describe('float32, js path: within 1e-6', () => {
    for (const c of all)
      it(label(c), () => {
        const r = compare(run('fast', c, Float32Array), run('reference', c, Float32Array), 1e-6);
        worst.f32 = Math.max(worst.f32, r.worst);
        expect(r.bad).to.equal(null);
      });
  });

  describe('float32, wasm path (arena) against the float32 reference: within 2e-6', () => {
    for (const c of all)
      it(label(c), function () {
        if (!wasmSimdAvailable()) this.skip();
        const r = compare(run('wasm', c, Float32Array), run('reference', c, Float32Array), 2e-6);
        worst.wasm = Math.max(worst.wasm, r.worst);
        expect(r.bad).to.equal(null);
      });
  });

  describe('conventions and determinism, on every path', () => {
    const c = all.find((v) => v.score === 'additive' && v.B === 3) as Case;
    const paths = [
      ['js f64', 'fast', Float64Array],
      ['js f32', 'fast', Float32Array],
      ['wasm f32', 'wasm', Float32Array],
    ] as const;
    for (const [name, impl, ctor] of paths) {
      it(`${name}: weight gradients add up, dhEnc/dx/ds0/dc0 are overwritten; reruns are bit-identical`, function () {
        if (impl === 'wasm' && !wasmSimdAvailable()) this.skip();
        for (const cc of all.filter((v) => v.B === 3 || v.B === 6)) {
          const once = run(impl, cc, ctor),
            again = run(impl, cc, ctor),
            twice = run(impl, cc, ctor, 2);
          for (const key of Object.keys(once)) expect(again[key], `${key} rerun`).to.deep.equal(once[key]);
          for (const key of ['dhEnc', 'dx', 'ds0', 'dc0']) expect(twice[key], key).to.deep.equal(once[key]);
          for (const key of KEYS.map((k) => `d${k}`))
            for (let i = 0; i < once[key].length; i++)
              expect(twice[key][i], `${key}[${i}]`).to.be.closeTo(2 * once[key][i], 1e-6 * Math.max(1, once[key][i]));
        }
      });
    }

    it('a null dsSeq gives zero gradients (js and wasm)', function () {
      for (const impl of ['fast', 'wasm'] as const) {
        if (impl === 'wasm' && !wasmSimdAvailable()) continue;
        const r = run(impl, c, Float32Array, 1, true);
        for (const key of ['dhEnc', 'ds0', 'dc0', 'dW', 'dv'])
          expect(
            r[key].every((v) => v === 0),
            key,
          ).to.equal(true);
      }
    });
  });

  it('checks lengths and options with the reference messages', () => {
    const c = all[1];
    const d = data(c, Float64Array);
    const ws = fast.attentionWorkspace(c.Te, c.Td, c.B, c.Dx, c.E, c.H, Float64Array, { units: c.A });
    expect(() => fast.attentionForward(ws, d.p, d.hEnc.subarray(1), d.x)).to.throw(
      RangeError,
      `attentionForward(hEnc): expected ${d.hEnc.length} elements`,
    );
    expect(() => fast.attentionWorkspace(3, 2, 1, 0, 2, 3, Float64Array, { score: 'dot' })).to.throw(
      RangeError,
      "the 'dot' score needs E = H, got E=2, H=3",
    );
    expect(() =>
      fast.attentionWorkspace(3, 2, 1, 0, 2, 2, Float64Array, { units: 2, arena: new WasmArena({ initialBytes: 0 }) }),
    ).to.throw(TypeError, 'attentionWorkspace(options.arena): the wasm kernels need Float32Array');
    expect(() => fast.attentionWorkspace(3, 2, 1, 0, 2, 2, Float64Array, { units: 2, mask: 1 } as object)).to.throw(
      TypeError,
      'unknown option "mask"',
    );
  });

  it('the comparison can fail: one changed element in the fast output is reported', () => {
    const c = all[2],
      r = run('reference', c, Float64Array),
      f = run('fast', c, Float64Array);
    expect(compare(f, r, 1e-12).bad).to.equal(null);
    f['dWh'][1] *= 1 + 1e-9;
    expect(compare(f, r, 1e-12).bad).to.match(/^dWh\[1\]: fast /);
  });
});

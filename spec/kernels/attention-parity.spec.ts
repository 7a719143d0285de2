/**
 * Attention decoder kernel against PyTorch autograd: spec/fixtures/attention/attention.json, written by
 * spec/fixtures/attention/generate.py (torch 1.13, float64, nn.LSTMCell and torch.softmax; CI needs no Python, this
 * spec reads only the JSON). Forward in float32 within 1e-5 of PyTorch; forward and every gradient in float64 within
 * 1e-10 (absolute, on values of order 1). Each for the reference kernel and for its fast twin
 * (kernels/fast/attention.ts, what AttentionDecoder runs) on the js path, and the fast twin's float32 forward and
 * gradients on the wasm path too (gradients within 1e-5 there: float32 arithmetic).
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import * as ref from '../../kernels/attention';
import * as fast from '../../kernels/fast/attention';
import type { AttentionParams, AttentionScore } from '../../kernels/attention';
import { WasmArena, wasmSimdAvailable } from '../../kernels/wasm/arena';
import { repoRoot } from '../helpers/repo';

interface Case {
  score: AttentionScore;
  Te: number;
  Td: number;
  B: number;
  Dx: number;
  E: number;
  H: number;
  A: number;
  inputs: Record<'hEnc' | 'x' | 's0' | 'c0', number[]>;
  R: number[];
  weights: Record<keyof AttentionParams, number[]>;
  outputs: { s: number[]; alpha: number[]; loss: number };
  gradients: Record<string, number[]>;
}

const FIXTURE = path.join(repoRoot(), 'spec', 'fixtures', 'attention', 'attention.json');
const KEYS = ['W', 'U', 'b', 'Ws', 'Wh', 'ba', 'v', 'Wa'] as const;

function maxAbsDiff(a: ArrayLike<number>, b: readonly number[], what: string): number {
  expect(a.length, `${what}: length`).to.equal(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

type Impl = 'reference' | 'fast' | 'wasm';

function run(c: Case, ctor: Float32ArrayConstructor | Float64ArrayConstructor, withBackward: boolean, impl: Impl) {
  const k = impl === 'reference' ? ref : fast;
  const arena = impl === 'wasm' ? { arena: new WasmArena({ initialBytes: 0 }) } : {};
  const ws = k.attentionWorkspace(
    c.Te,
    c.Td,
    c.B,
    c.Dx,
    c.E,
    c.H,
    ctor,
    c.score === 'additive' ? { score: c.score, units: c.A, ...arena } : { score: c.score, ...arena },
  );
  const p = {} as AttentionParams;
  for (const k of KEYS) p[k] = ctor.from(c.weights[k]);
  const hEnc = ctor.from(c.inputs.hEnc),
    x = ctor.from(c.inputs.x);
  ws.s.set(c.inputs.s0, 0);
  ws.c.set(c.inputs.c0, 0);
  (k.attentionForward as typeof ref.attentionForward)(ws as never, p, hEnc, x);
  const BH = c.B * c.H;
  const s = ws.s.subarray(BH);
  const grads: Record<string, Float32Array | Float64Array> = {};
  if (withBackward) {
    for (const k of KEYS) grads[`d${k}`] = new ctor(p[k].length);
    for (const k of ['hEnc', 'x', 's0', 'c0'] as const) grads[`d${k}`] = new ctor(c.inputs[k].length);
    (k.attentionBackward as typeof ref.attentionBackward)(
      grads as never,
      grads['dhEnc'],
      grads['dx'],
      grads['ds0'],
      grads['dc0'],
      ctor.from(c.R),
      ws as never,
      p,
      hEnc,
      x,
    );
  }
  return { s, alpha: ws.alpha, grads };
}

describe('kernels/attention against PyTorch autograd (committed fixture)', () => {
  const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { cases: Case[]; generator: string };
  const worst = { f32: 0, f64: 0, grad: 0, wasm: 0 };
  after(() => {
    console.log(
      `      attention vs PyTorch: forward f32 ${worst.f32.toExponential(2)}, f64 ${worst.f64.toExponential(2)}, ` +
        `gradients f64 ${worst.grad.toExponential(2)}, wasm f32 forward and gradients ${worst.wasm.toExponential(2)} ` +
        `(max abs, reference and fast twin)`,
    );
  });

  it('holds the three score types, Te ≠ Td, B = 1 and B > 1', () => {
    expect(fixture.generator).to.equal('spec/fixtures/attention/generate.py');
    expect(fixture.cases.map((c) => c.score)).to.have.members(['additive', 'dot', 'general']);
    expect(fixture.cases.some((c) => c.Te !== c.Td)).to.equal(true);
    expect(fixture.cases.some((c) => c.B === 1)).to.equal(true);
    expect(fixture.cases.some((c) => c.B > 1)).to.equal(true);
  });

  for (const c of fixture.cases) {
    const name = `${c.score} Te=${c.Te} Td=${c.Td} B=${c.B} Dx=${c.Dx} E=${c.E} H=${c.H}`;

    for (const impl of ['reference', 'fast'] as const) {
      it(`${impl}: forward in float32 within 1e-5 (${name})`, () => {
        const r = run(c, Float32Array, false, impl);
        const ds = maxAbsDiff(r.s, c.outputs.s, 's'),
          da = maxAbsDiff(r.alpha, c.outputs.alpha, 'alpha');
        worst.f32 = Math.max(worst.f32, ds, da);
        expect(ds, 's').to.be.at.most(1e-5);
        expect(da, 'alpha').to.be.at.most(1e-5);
      });

      it(`${impl}: forward and every gradient in float64 within 1e-10 (${name})`, () => {
        const r = run(c, Float64Array, true, impl);
        const ds = maxAbsDiff(r.s, c.outputs.s, 's'),
          da = maxAbsDiff(r.alpha, c.outputs.alpha, 'alpha');
        worst.f64 = Math.max(worst.f64, ds, da);
        expect(ds, 's').to.be.at.most(1e-10);
        expect(da, 'alpha').to.be.at.most(1e-10);
        const names = Object.keys(c.gradients);
        expect(names).to.have.members([...KEYS.map((k) => `d${k}`), 'dhEnc', 'dx', 'ds0', 'dc0']);
        for (const g of names) {
          const d = maxAbsDiff(r.grads[g], c.gradients[g], g);
          worst.grad = Math.max(worst.grad, d);
          expect(d, g).to.be.at.most(1e-10);
        }
      });
    }

    it(`fast twin on wasm: float32 forward and every gradient within 1e-5 (${name})`, function () {
      if (!wasmSimdAvailable()) this.skip();
      const r = run(c, Float32Array, true, 'wasm');
      const d = [maxAbsDiff(r.s, c.outputs.s, 's'), maxAbsDiff(r.alpha, c.outputs.alpha, 'alpha')];
      for (const g of Object.keys(c.gradients)) d.push(maxAbsDiff(r.grads[g], c.gradients[g], g));
      worst.wasm = Math.max(worst.wasm, ...d);
      expect(Math.max(...d)).to.be.at.most(1e-5);
    });
  }
});

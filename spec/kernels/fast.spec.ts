/**
 * The fast twins (kernels/fast/{rnn,lstm,gru}.ts, what lib runs) equal the reference cells (kernels/{rnn,lstm,gru}.ts,
 * the plain loops whose gradients the cell specs prove by finite differences), forward (h, c) and backward (dW, dU, db,
 * dx, dh0, dc0), over a table: every cell (GRU in both forms), batch 1 and 3 (below MATVEC_ROWS: the fast twin's Uᵀ
 * matrix–vector form) and batch 5 (the blocked products), repeated input, and every activation as φ and as σ.
 *
 * Bounds, and why:
 * - float64, js path: BIT FOR BIT (every element Object.is-equal). The fast twin's fused loops do the reference's
 *   operations in the reference's order (the same exp/tanh/σ of activations.ts, the same products of matmul.ts), and
 *   in float64 a value kept in a local is the value stored. The Uᵀ form (matmulABt over Uᵀ) sums each dot product in
 *   the same k order as matmul's matrix–vector loop, so batch 1 and 3 are bit for bit too.
 * - float32, js path: relative 2e-6 (|a−b| ≤ 2e-6·max(|b|, 1)). The fast twin keeps some intermediates in float64
 *   locals (c_t before φ, the activated gates, dh + dhSeq, dc) where the reference stores them to the float32 buffers
 *   and reads them back, so the two differ by a few float32 roundings (2⁻²⁴ ≈ 6e-8 each) carried through T ≤ 4 steps.
 *   Measured on this table: the RNN cases are bit for bit, the worst LSTM/GRU case lies between 5e-7 and 2e-6.
 * - float32, wasm path (arena, fast twin only): relative 1e-5 (same floor). The wasm products accumulate in float32 in
 *   another order and the forward gate kernels compute exp/σ/tanh in f32 (1–2 ulp), so errors are those of float32
 *   arithmetic (measured worst on this table: below 3e-6).
 * A last test breaks one bit of the fast twin's output and checks that the comparison reports it, so it can fail.
 */
import { expect } from 'chai';
import { MATVEC_ROWS } from '../../kernels/matmul';
import { GRU_IMPLS, type ImplName, LSTM_IMPLS, RNN_IMPLS } from '../helpers/cells';
import { FLOAT32_PATHS, type Float32Path } from '../helpers/paths';
import { makeRng, uniform64 } from '../helpers/rng';
import { wasmSimdAvailable } from '../../kernels/wasm/arena';

type Cell = 'rnn' | 'lstm' | 'gruAfter' | 'gruBefore';
type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
interface Case {
  cell: Cell;
  T: number;
  B: number;
  D: number;
  H: number;
  act: string;
  recAct: string;
  xRepeated: boolean;
}
type Out = Record<string, Float64Array>;

const ACTS = ['tanh', 'sigmoid', 'hardSigmoid', 'relu', 'linear'];
const CELLS: readonly Cell[] = ['rnn', 'lstm', 'gruAfter', 'gruBefore'];
const SHAPES = [
  { T: 3, B: 1, D: 2, H: 5 },
  { T: 4, B: 3, D: 3, H: 4 },
  { T: 3, B: MATVEC_ROWS + 1, D: 4, H: 6 },
];

function cases(): Case[] {
  const out: Case[] = [];
  for (const cell of CELLS)
    for (const s of SHAPES)
      for (const xRepeated of [false, true]) {
        // the default pair on every shape; every other activation as φ (σ = sigmoid) and as σ (φ = tanh) on one shape each
        const pairs: [string, string][] = [['tanh', 'sigmoid']];
        if (s.B === 3 && !xRepeated) for (const a of ACTS) if (a !== 'tanh') pairs.push([a, 'sigmoid']);
        if (s.B === MATVEC_ROWS + 1 && !xRepeated && cell !== 'rnn')
          for (const a of ACTS) if (a !== 'sigmoid') pairs.push(['tanh', a]);
        for (const [act, recAct] of pairs) out.push({ cell, ...s, act, recAct, xRepeated });
      }
  return out;
}

/** Runs forward and backward of one implementation on the case's data (drawn from a seed, rounded to ctor). */
function run(impl: ImplName, c: Case, ctor: Ctor, path: Float32Path | null): Out {
  const { T, B, D, H, xRepeated } = c;
  const G = c.cell === 'rnn' ? 1 : c.cell === 'lstm' ? 4 : 3;
  const nb = c.cell === 'gruAfter' ? 2 * G * H : G * H;
  const rng = makeRng(`fast-${c.cell}-${T}-${B}-${c.act}-${c.recAct}-${xRepeated}`);
  const arr = (n: number, lo = -0.6, hi = 0.6) => ctor.from(uniform64(n, rng, lo, hi));
  const p = { W: arr(D * G * H), U: arr(H * G * H), b: arr(nb) };
  const x = arr((xRepeated ? 1 : T) * B * D),
    h0 = arr(B * H),
    c0 = arr(B * H);
  const dhSeq = arr(T * B * H),
    dhT = arr(B * H),
    dcT = arr(B * H);
  const g = { dW: new ctor(D * G * H), dU: new ctor(H * G * H), db: new ctor(nb) };
  const dx = new ctor(x.length),
    dh0 = new ctor(B * H),
    dc0 = new ctor(B * H);
  const opts = { activation: c.act, ...(path !== null ? path.options() : {}) };
  const i = impl === 'reference' ? 0 : 1;
  let h: Float64Array,
    cOut: Float64Array | null = null;
  if (c.cell === 'rnn') {
    const k = RNN_IMPLS[i],
      ws = k.rnnWorkspace(T, B, D, H, ctor, opts);
    ws.h.set(h0);
    k.rnnForward(ws, p, x, xRepeated);
    h = Float64Array.from(ws.h);
    k.rnnBackward(g, dx, dh0, dhSeq, dhT, ws, p, x, xRepeated);
  } else if (c.cell === 'lstm') {
    const k = LSTM_IMPLS[i],
      ws = k.lstmWorkspace(T, B, D, H, ctor, { ...opts, recurrentActivation: c.recAct });
    ws.h.set(h0);
    ws.c.set(c0);
    k.lstmForward(ws, p, x, xRepeated);
    h = Float64Array.from(ws.h);
    cOut = Float64Array.from(ws.c);
    k.lstmBackward(g, dx, dh0, dc0, dhSeq, dhT, dcT, ws, p, x, xRepeated);
  } else {
    const k = GRU_IMPLS[i];
    const ws = k.gruWorkspace(T, B, D, H, ctor, {
      ...opts,
      recurrentActivation: c.recAct,
      resetAfter: c.cell === 'gruAfter',
    });
    ws.h.set(h0);
    k.gruForward(ws, p, x, xRepeated);
    h = Float64Array.from(ws.h);
    k.gruBackward(g, dx, dh0, dhSeq, dhT, ws, p, x, xRepeated);
  }
  const out: Out = {
    h,
    dW: Float64Array.from(g.dW),
    dU: Float64Array.from(g.dU),
    db: Float64Array.from(g.db),
    dx: Float64Array.from(dx),
    dh0: Float64Array.from(dh0),
  };
  if (cOut !== null) {
    out['c'] = cOut;
    out['dc0'] = Float64Array.from(dc0);
  }
  return out;
}

/** The first element where fast and ref differ by more than tol·max(|ref|, 1) (tol 0: any bit), or null. */
function firstMismatch(fast: Out, ref: Out, tol: number): string | null {
  for (const name of Object.keys(ref)) {
    const a = fast[name],
      b = ref[name];
    if (a.length !== b.length) return `${name}: length ${a.length} vs ${b.length}`;
    for (let k = 0; k < b.length; k++) {
      const bad = tol === 0 ? !Object.is(a[k], b[k]) : !(Math.abs(a[k] - b[k]) <= tol * Math.max(Math.abs(b[k]), 1));
      if (bad)
        return `${name}[${k}]: fast ${a[k]} vs reference ${b[k]} (|Δ| = ${Math.abs(a[k] - b[k]).toExponential(2)})`;
    }
  }
  return null;
}

const label = (c: Case) =>
  `${c.cell} T=${c.T} B=${c.B} D=${c.D} H=${c.H} ${c.act}/${c.recAct}${c.xRepeated ? ' xRepeated' : ''}`;

describe('kernels/fast: the fast twins equal the reference cells', () => {
  const all = cases();

  describe('float64, js path: bit for bit', () => {
    for (const c of all)
      it(label(c), () => {
        expect(firstMismatch(run('fast', c, Float64Array, null), run('reference', c, Float64Array, null), 0)).to.equal(
          null,
        );
      });
  });

  describe('float32, js path: within 2e-6 relative', () => {
    for (const c of all)
      it(label(c), () => {
        expect(
          firstMismatch(run('fast', c, Float32Array, null), run('reference', c, Float32Array, null), 2e-6),
        ).to.equal(null);
      });
  });

  describe('float32, wasm path (arena): within 1e-5 relative', () => {
    const wasm = FLOAT32_PATHS.find((p) => p.name === 'wasm')!;
    for (const c of all)
      it(label(c), function () {
        if (!wasmSimdAvailable()) this.skip();
        expect(
          firstMismatch(run('fast', c, Float32Array, wasm), run('reference', c, Float32Array, null), 1e-5),
        ).to.equal(null);
      });
  });

  it('the comparison can fail: one changed bit in the fast output is reported', () => {
    const c = all[0],
      ref = run('reference', c, Float64Array, null),
      fast = run('fast', c, Float64Array, null);
    expect(firstMismatch(fast, ref, 0)).to.equal(null);
    const dU = fast['dU'],
      bits = new BigUint64Array(dU.buffer);
    bits[2] ^= 1n;
    expect(firstMismatch(fast, ref, 0)).to.match(/^dU\[2\]: fast /);
    expect(firstMismatch(fast, ref, 2e-6)).to.equal(null);
    dU[2] = dU[2] * (1 + 1e-3);
    expect(firstMismatch(fast, ref, 1e-4)).to.match(/^dU\[2\]: fast /);
  });
});

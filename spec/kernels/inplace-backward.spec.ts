/**
 * Two memory and speed options of the fast cells, each held to the path it replaces bit for bit:
 *  - inPlaceBackward (LSTM, GRU): the backward writes dz over the forward's gates a. Each step's gate gradients read
 *    only that step's gates, before overwriting them, so every gradient (dW, dU, db, dx, dh0, dc0) and dz itself must
 *    equal a workspace with its own dz, on the js path (float64 and float32) and the wasm path, with and without the
 *    wasm gate kernels (the TypeScript loops run in place too).
 *  - Batches below MATVEC_ROWS on wasm read U's rows with gemv (no Uᵀ in the workspace): the GEMM's row contract says a
 *    row's bits do not depend on the batch around it, so h of a batch of 1, 2 or 3 must equal the same rows' h in a
 *    batch of 5 (the packed tile path) bit for bit, for every cell.
 */
import { expect } from 'chai';
import { type MatOps } from '../../kernels/fast/ops';
import { WasmArena, wasmSimdAvailable } from '../../kernels/wasm/arena';
import { lstmBackward, lstmForward, lstmWorkspace } from '../../kernels/fast/lstm';
import { gruBackward, gruBiasLength, gruForward, gruWorkspace } from '../../kernels/fast/gru';
import { rnnForward, rnnWorkspace } from '../../kernels/fast/rnn';
import { makeRng, uniform32, uniform64 } from '../helpers/rng';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
type Path = { name: string; ctor: Ctor; arena: boolean; gates: boolean };

const PATHS: Path[] = [
  { name: 'js float64', ctor: Float64Array, arena: false, gates: false },
  { name: 'js float32', ctor: Float32Array, arena: false, gates: false },
  { name: 'wasm, gate kernels', ctor: Float32Array, arena: true, gates: true },
  { name: 'wasm, TypeScript gate loops', ctor: Float32Array, arena: true, gates: false },
];
const T = 5,
  D = 3;

/** ops without the gate kernels: the cells then run their TypeScript loops on the same products. */
function withoutGates(ops: MatOps): MatOps {
  const { gates, ...rest } = ops;
  return gates === undefined ? ops : rest;
}

function expectSameBits(
  label: string,
  got: Record<string, ArrayLike<number>>,
  want: Record<string, ArrayLike<number>>,
) {
  for (const [k, w] of Object.entries(want)) {
    const g = got[k];
    expect(g.length, `${label} ${k} length`).to.equal(w.length);
    for (let i = 0; i < w.length; i++)
      if (!Object.is(g[i], w[i])) expect.fail(`${label} ${k}[${i}]: in place ${g[i]}, own dz ${w[i]}`);
  }
}

function values(ctor: Ctor, n: number, seed: string, lo = -1, hi = 1): Float32Array | Float64Array {
  return ctor.from(uniform64(n, makeRng(seed), lo, hi));
}

describe('kernels/fast: inPlaceBackward writes dz over the gates with the same bits', function () {
  for (const path of PATHS) {
    for (const [B, H] of [
      [1, 1],
      [3, 7],
      [5, 17],
      [17, 64],
    ] as const) {
      for (const cell of ['lstm', 'gru-after', 'gru-before'] as const) {
        for (const repeated of [false, true]) {
          it(`${path.name}: ${cell} B=${B} H=${H}${repeated ? ' repeated input' : ''}`, function () {
            if (path.arena && !wasmSimdAvailable()) this.skip();
            const { ctor } = path;
            const G = cell === 'lstm' ? 4 : 3;
            const resetAfter = cell === 'gru-after';
            const seed = `${cell}-${B}-${H}-${repeated}`;
            const x = values(ctor, (repeated ? 1 : T) * B * D, `${seed}-x`, -2, 2);
            const p = {
              W: values(ctor, D * G * H, `${seed}-W`),
              U: values(ctor, H * G * H, `${seed}-U`, -0.6, 0.6),
              b: values(ctor, cell === 'lstm' ? 4 * H : gruBiasLength(H, resetAfter), `${seed}-b`),
            };
            const h0 = values(ctor, B * H, `${seed}-h0`);
            const c0 = values(ctor, B * H, `${seed}-c0`, -2, 2);
            const dhSeq = values(ctor, T * B * H, `${seed}-seq`);
            const run = (inPlaceBackward: boolean): Record<string, ArrayLike<number>> => {
              const opts = { ...(path.arena ? { arena: new WasmArena({ initialBytes: 0 }) } : {}), inPlaceBackward };
              const dx = new ctor(x.length),
                dh0 = new ctor(B * H),
                dc0 = new ctor(B * H);
              const g = { dW: new ctor(D * G * H), dU: new ctor(H * G * H), db: new ctor(p.b.length) };
              if (cell === 'lstm') {
                const made = lstmWorkspace(T, B, D, H, ctor, opts);
                const ws = path.gates ? made : { ...made, ops: withoutGates(made.ops) };
                expect(ws.dz === ws.a, 'dz is a').to.equal(inPlaceBackward);
                ws.h.set(h0);
                ws.c.set(c0);
                lstmForward(ws, p, x, repeated);
                const out = Array.from(ws.h);
                lstmBackward(g, dx, dh0, dc0, dhSeq, null, null, ws, p, x, repeated);
                return { ...g, dx, dh0, dc0, dz: Array.from(ws.dz), h: out };
              }
              const made = gruWorkspace(T, B, D, H, ctor, { ...opts, resetAfter });
              const ws = path.gates ? made : { ...made, ops: withoutGates(made.ops) };
              expect(ws.dz === ws.a, 'dz is a').to.equal(inPlaceBackward);
              ws.h.set(h0);
              gruForward(ws, p, x, repeated);
              const out = Array.from(ws.h);
              gruBackward(g, dx, dh0, dhSeq, null, ws, p, x, repeated);
              return { ...g, dx, dh0, dz: Array.from(ws.dz), dInner: Array.from(ws.dInner), h: out };
            };
            const want = run(false);
            const got = run(true);
            expect(
              Array.from(want.dU).some((v) => v !== 0),
              'a non-trivial gradient',
            ).to.equal(true);
            expectSameBits(`${path.name} ${cell}`, got, want);
          });
        }
      }
    }
  }

  it('the comparison can fail: a backward after another backward (the gates already overwritten) differs', () => {
    const B = 3,
      H = 4;
    const x = values(Float64Array, T * B * D, 'twice-x', -2, 2);
    const p = {
      W: values(Float64Array, D * 4 * H, 'twice-W'),
      U: values(Float64Array, H * 4 * H, 'twice-U'),
      b: values(Float64Array, 4 * H, 'twice-b'),
    };
    const dhSeq = values(Float64Array, T * B * H, 'twice-seq');
    const ws = lstmWorkspace(T, B, D, H, Float64Array, { inPlaceBackward: true });
    lstmForward(ws, p, x);
    const grads = () => ({
      dW: new Float64Array(D * 4 * H),
      dU: new Float64Array(H * 4 * H),
      db: new Float64Array(4 * H),
    });
    const first = grads(),
      second = grads();
    const dh0 = new Float64Array(B * H),
      dc0 = new Float64Array(B * H);
    lstmBackward(first, null, dh0, dc0, dhSeq, null, null, ws, p, x);
    lstmBackward(second, null, dh0, dc0, dhSeq, null, null, ws, p, x);
    expect(Array.from(second.dU)).to.not.deep.equal(Array.from(first.dU));
  });

  it('a non-boolean inPlaceBackward is a TypeError naming the option', () => {
    expect(() => lstmWorkspace(2, 1, 1, 1, Float64Array, { inPlaceBackward: 1 as unknown as boolean })).to.throw(
      TypeError,
      /lstmWorkspace\(options\.inPlaceBackward\): expected a boolean, got 1/,
    );
    expect(() => gruWorkspace(2, 1, 1, 1, Float64Array, { inPlaceBackward: 'yes' as unknown as boolean })).to.throw(
      TypeError,
      /gruWorkspace\(options\.inPlaceBackward\): expected a boolean, got yes/,
    );
  });
});

describe('kernels/fast on wasm: batches below 4 read U with gemv, each row the bits of the same row in a batch of 5', function () {
  before(function () {
    if (!wasmSimdAvailable()) this.skip();
  });
  const BIG = 5;
  for (const cell of ['lstm', 'gru-after', 'gru-before', 'rnn'] as const) {
    for (const H of [1, 6, 33]) {
      it(`${cell} H=${H}: B = 1, 2, 3 against rows of B = ${BIG}`, () => {
        const G = cell === 'lstm' ? 4 : cell === 'rnn' ? 1 : 3;
        const resetAfter = cell === 'gru-after';
        const seed = `gemv-${cell}-${H}`;
        const xBig = uniform32(T * BIG * D, makeRng(`${seed}-x`), -2, 2); // [T, BIG, D]
        const p = {
          W: uniform32(D * G * H, makeRng(`${seed}-W`)),
          U: uniform32(H * G * H, makeRng(`${seed}-U`), -0.7, 0.7),
          b: values(
            Float32Array,
            cell === 'lstm' ? 4 * H : cell === 'rnn' ? H : gruBiasLength(H, resetAfter),
            `${seed}-b`,
          ) as Float32Array,
        };
        /** h_1…h_T [T, B, H] of the first B rows of xBig. */
        const hOf = (B: number): Float32Array => {
          const x = new Float32Array(T * B * D);
          for (let t = 0; t < T; t++) x.set(xBig.subarray(t * BIG * D, t * BIG * D + B * D), t * B * D);
          const arena = new WasmArena({ initialBytes: 0 });
          if (cell === 'lstm') {
            const ws = lstmWorkspace(T, B, D, H, Float32Array, { arena });
            expect(ws.Ut.length, 'no Uᵀ on wasm').to.equal(0);
            lstmForward(ws, p, x);
            return ws.h.slice(B * H) as Float32Array;
          }
          if (cell === 'rnn') {
            const ws = rnnWorkspace(T, B, D, H, Float32Array, { arena });
            expect(ws.Ut.length, 'no Uᵀ on wasm').to.equal(0);
            rnnForward(ws, p, x);
            return ws.h.slice(B * H) as Float32Array;
          }
          const ws = gruWorkspace(T, B, D, H, Float32Array, { arena, resetAfter });
          expect(ws.Ut.length, 'no Uᵀ on wasm').to.equal(0);
          gruForward(ws, p, x);
          return ws.h.slice(B * H) as Float32Array;
        };
        const big = hOf(BIG);
        expect(big.some((v) => v !== 0)).to.equal(true);
        for (const B of [1, 2, 3]) {
          const small = hOf(B);
          for (let t = 0; t < T; t++)
            for (let k = 0; k < B * H; k++) {
              const got = small[t * B * H + k],
                want = big[t * BIG * H + k];
              if (!Object.is(got, want)) expect.fail(`B=${B} h[t=${t}][${k}]: ${got}, in the batch of ${BIG}: ${want}`);
            }
        }
      });
    }
  }

  it('the js path keeps Uᵀ for batches below 4 (its dot-product form)', () => {
    expect(lstmWorkspace(3, 1, 1, 4, Float32Array).Ut.length).to.equal(4 * 4 * 4);
    expect(gruWorkspace(3, 2, 1, 4, Float32Array).Ut.length).to.equal(3 * 4 * 4);
    expect(rnnWorkspace(3, 3, 1, 4, Float32Array).Ut.length).to.equal(4 * 4);
  });
});

/**
 * The cells' backward gate kernels on wasm (kernels/wasm/gates.ts: lstmBackward, gruBackwardAfter, gruBackwardBefore,
 * gruBackwardReset, tanhBackward) against the cells' TypeScript loops. The kernels compute in f64x2 with the loops'
 * operations in the loops' order and round to f32 on store as a Float32Array does, so the tolerance is zero: on one wasm
 * workspace (the same products either way) a backward with the kernels and one with the TypeScript loops (the same ops
 * without `gates`) give the same bits in every output (dW, dU, db, dx, dh0, dc0) and in the dz / dInner scratch.
 * Shapes: B ∈ {1, 3, 5, 17} × H ∈ {1, 3, 7, 17, 64} (row tails of every length, and the batch 1–3 dot-product form), with
 * and without dhSeq, dhSeq inside and outside the arena, with dhT / dcT, and with repeated input.
 */
import { expect } from 'chai';
import { type GateOps, type MatOps, foldBlocks, jsOps } from '../../kernels/fast/ops';
import { WasmArena, wasmSimdAvailable } from '../../kernels/wasm/arena';
import { wasmGates, wasmWorkspaceBuffers } from '../../kernels/wasm/ops';
import { lstmBackward, lstmForward, lstmWorkspace, type LstmWorkspace } from '../../kernels/fast/lstm';
import { gruBackward, gruBiasLength, gruForward, gruWorkspace, type GruWorkspace } from '../../kernels/fast/gru';
import { rnnBackward, rnnForward, rnnWorkspace, type RnnWorkspace } from '../../kernels/fast/rnn';
import { makeRng, type Rng, uniform32 } from '../helpers/rng';

/** Where the upstream gradient dhSeq lives: absent, an ordinary Float32Array (staged per step), or a view on the arena. */
type Upstream = 'none' | 'outside' | 'arena';

/** The same products and forward kernels without the gate kernels: the cells then run their TypeScript loops. */
function withoutGates(ops: MatOps): MatOps {
  return {
    name: ops.name,
    matmul: ops.matmul,
    matmulABt: ops.matmulABt,
    matmulAtB: ops.matmulAtB,
    addBias: ops.addBias,
    sumRows: ops.sumRows,
    foldBlocks: ops.foldBlocks,
    packedLength: ops.packedLength,
    packB: ops.packB,
    matmulPacked: ops.matmulPacked,
  };
}

/** ops with every gate kernel wrapped to count its calls by name into `calls`. */
function counting(ops: MatOps, calls: Map<string, number>): MatOps {
  const gates = ops.gates as GateOps;
  const wrapped: Record<string, unknown> = {};
  for (const [k, fn] of Object.entries(gates)) {
    wrapped[k] = (...args: unknown[]): void => {
      calls.set(k, (calls.get(k) ?? 0) + 1);
      (fn as (...a: unknown[]) => void)(...args);
    };
  }
  return { ...withoutGates(ops), gates: wrapped as unknown as GateOps };
}

/** Bit-for-bit equality of two named sets of outputs. */
function expectSameBits(label: string, got: Record<string, Float32Array>, want: Record<string, Float32Array>): void {
  for (const [k, w] of Object.entries(want)) {
    const g = got[k];
    expect(g.length, `${label} ${k} length`).to.equal(w.length);
    for (let i = 0; i < w.length; i++) {
      if (!Object.is(g[i], w[i])) expect.fail(`${label} ${k}[${i}]: wasm kernel ${g[i]}, TypeScript loop ${w[i]}`);
    }
  }
}

/** An upstream dhSeq [T,B,H] as asked for; for 'arena', `ptr` was allocated before the workspace (so no growth detached it). */
function upstreamOf(kind: Upstream, values: Float32Array, arena: WasmArena, ptr: number): Float32Array | null {
  if (kind === 'none') return null;
  if (kind === 'outside') return values;
  const v = arena.f32(ptr, values.length);
  v.set(values);
  return v;
}

const SHAPES: [number, number][] = [];
for (const B of [1, 3, 5, 17]) for (const H of [1, 3, 7, 17, 64]) SHAPES.push([B, H]);
const UPSTREAMS: Upstream[] = ['none', 'outside', 'arena'];
const T = 4,
  D = 3;

interface Common {
  x: Float32Array;
  xRep: Float32Array;
  h0: Float32Array;
  seq: Float32Array;
  dhT: Float32Array;
  dcT: Float32Array;
}
function common(B: number, H: number, rng: Rng): Common {
  return {
    x: uniform32(T * B * D, rng, -2, 2),
    xRep: uniform32(B * D, rng, -2, 2),
    h0: uniform32(B * H, rng),
    seq: uniform32(T * B * H, rng),
    dhT: uniform32(B * H, rng),
    dcT: uniform32(B * H, rng),
  };
}

describe('kernels/wasm/gates.ts backward kernels', function () {
  before(function () {
    if (!wasmSimdAvailable()) this.skip();
  });

  for (const [B, H] of SHAPES) {
    it(`B=${B} H=${H}: LSTM backward with the wasm kernel equals the TypeScript loop bit for bit`, () => {
      const rng = makeRng(`wasm-back-lstm-${B}-${H}`);
      const d = common(B, H, rng);
      const p = { W: uniform32(D * 4 * H, rng), U: uniform32(H * 4 * H, rng, -0.6, 0.6), b: uniform32(4 * H, rng) };
      const c0 = uniform32(B * H, rng, -2, 2);
      for (const up of UPSTREAMS)
        for (const repeated of [false, true]) {
          const arena = new WasmArena({ initialBytes: 0 });
          const ptr = arena.alloc(4 * T * B * H);
          const ws = lstmWorkspace(T, B, D, H, Float32Array, { arena });
          const dhSeq = upstreamOf(up, d.seq, arena, ptr);
          const x = repeated ? d.xRep : d.x;
          ws.h.set(d.h0);
          ws.c.set(c0);
          lstmForward(ws, p, x, repeated);
          const run = (w: LstmWorkspace): Record<string, Float32Array> => {
            const g = { dW: new Float32Array(D * 4 * H), dU: new Float32Array(H * 4 * H), db: new Float32Array(4 * H) };
            const dx = new Float32Array(x.length),
              dh0 = new Float32Array(B * H),
              dc0 = new Float32Array(B * H);
            const last = up === 'none'; // without dhSeq, the loss is on h_T and c_T
            lstmBackward(g, dx, dh0, dc0, dhSeq, last ? d.dhT : null, last ? d.dcT : null, w, p, x, repeated);
            return { ...g, dx, dh0, dc0, dz: Float32Array.from(w.dz) };
          };
          const calls = new Map<string, number>();
          const want = run({ ...ws, ops: withoutGates(ws.ops) });
          const got = run({ ...ws, ops: counting(ws.ops, calls) });
          expect(calls.get('lstmBackward'), 'the wasm kernel ran once per step').to.equal(T);
          expectSameBits(`lstm dhSeq=${up} repeated=${repeated}`, got, want);
        }
    });

    for (const resetAfter of [true, false]) {
      it(`B=${B} H=${H}: GRU (resetAfter ${resetAfter}) backward with the wasm kernels equals the TypeScript loops bit for bit`, () => {
        const rng = makeRng(`wasm-back-gru-${resetAfter}-${B}-${H}`);
        const d = common(B, H, rng);
        const p = {
          W: uniform32(D * 3 * H, rng),
          U: uniform32(H * 3 * H, rng, -0.6, 0.6),
          b: uniform32(gruBiasLength(H, resetAfter), rng),
        };
        for (const up of UPSTREAMS)
          for (const repeated of [false, true]) {
            const arena = new WasmArena({ initialBytes: 0 });
            const ptr = arena.alloc(4 * T * B * H);
            const ws = gruWorkspace(T, B, D, H, Float32Array, { resetAfter, arena });
            const dhSeq = upstreamOf(up, d.seq, arena, ptr);
            const x = repeated ? d.xRep : d.x;
            ws.h.set(d.h0);
            gruForward(ws, p, x, repeated);
            const run = (w: GruWorkspace): Record<string, Float32Array> => {
              const g = {
                dW: new Float32Array(D * 3 * H),
                dU: new Float32Array(H * 3 * H),
                db: new Float32Array(p.b.length),
              };
              const dx = new Float32Array(x.length),
                dh0 = new Float32Array(B * H);
              gruBackward(g, dx, dh0, dhSeq, up === 'none' ? d.dhT : null, w, p, x, repeated);
              return { ...g, dx, dh0, dz: Float32Array.from(w.dz), dInner: Float32Array.from(w.dInner) };
            };
            const calls = new Map<string, number>();
            const want = run({ ...ws, ops: withoutGates(ws.ops) });
            const got = run({ ...ws, ops: counting(ws.ops, calls) });
            if (resetAfter) expect(calls.get('gruBackwardAfter'), 'one kernel call per step').to.equal(T);
            else
              expect(
                [calls.get('gruBackwardBefore'), calls.get('gruBackwardReset')],
                'two kernel calls per step',
              ).to.deep.equal([T, T]);
            expectSameBits(`gru resetAfter=${resetAfter} dhSeq=${up} repeated=${repeated}`, got, want);
          }
      });
    }

    it(`B=${B} H=${H}: tanh RNN backward with the wasm kernel equals the TypeScript loops bit for bit`, () => {
      const rng = makeRng(`wasm-back-rnn-${B}-${H}`);
      const d = common(B, H, rng);
      const p = { W: uniform32(D * H, rng), U: uniform32(H * H, rng, -0.6, 0.6), b: uniform32(H, rng) };
      for (const up of UPSTREAMS)
        for (const repeated of [false, true]) {
          const arena = new WasmArena({ initialBytes: 0 });
          const ptr = arena.alloc(4 * T * B * H);
          const ws = rnnWorkspace(T, B, D, H, Float32Array, { arena });
          const dhSeq = upstreamOf(up, d.seq, arena, ptr);
          const x = repeated ? d.xRep : d.x;
          ws.h.set(d.h0);
          rnnForward(ws, p, x, repeated);
          const run = (w: RnnWorkspace): Record<string, Float32Array> => {
            const g = { dW: new Float32Array(D * H), dU: new Float32Array(H * H), db: new Float32Array(H) };
            const dx = new Float32Array(x.length),
              dh0 = new Float32Array(B * H);
            rnnBackward(g, dx, dh0, dhSeq, up === 'none' ? d.dhT : null, w, p, x, repeated);
            return { ...g, dx, dh0, dz: Float32Array.from(w.dz) };
          };
          const calls = new Map<string, number>();
          const want = run({ ...ws, ops: withoutGates(ws.ops) });
          const got = run({ ...ws, ops: counting(ws.ops, calls) });
          expect(calls.get('tanhBackward'), 'the wasm kernel ran once per step').to.equal(T);
          expectSameBits(`rnn dhSeq=${up} repeated=${repeated}`, got, want);
        }
    });
  }

  it('extreme values: saturated gates (0, 1, ±1), signed zeros, tiny and huge gradients keep the TypeScript bits', () => {
    // Gate outputs and states drawn from a set that includes the exact saturation values and ±0; gradients spanning
    // 1e-30…1e30, so products underflow to subnormals and overflow to ±Inf exactly where float64 then f32 rounding does.
    const rng = makeRng('wasm-back-extreme');
    const pick = (vals: number[], n: number): Float32Array =>
      Float32Array.from({ length: n }, () => vals[Math.floor(rng() * vals.length)]);
    const gatesVals = [0, 1, -0, 0.5, 1e-8, 1 - 2 ** -24, 0.25, 0.999];
    const tanhVals = [-1, 1, 0, -0, 0.5, -0.75, 1e-20, -(1 - 2 ** -24)];
    const grads = [0, -0, 1e-30, -1e-30, 1e30, -1e30, 3.5, -2e-20, 1e-45];
    const B = 5,
      H = 7,
      BH = B * H;
    const arena = new WasmArena({ initialBytes: 0 });
    const [a, dz, dh, dc, c, phiC, hPrev, seq, drh] = arena.allocF32s(4 * BH, 4 * BH, BH, BH, BH, BH, BH, BH, BH) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const gates = wasmGates(arena);
    for (let rep = 0; rep < 20; rep++) {
      const aVals = Float32Array.from({ length: 4 * BH }, (_, i) => {
        const gate = Math.floor(i / H) % 4;
        return (gate === 2 ? tanhVals : gatesVals)[Math.floor(rng() * 8)];
      });
      const inputs = {
        dh: pick(grads, BH),
        dc: pick(grads, BH),
        c: pick(grads, BH),
        phiC: pick(tanhVals, BH),
        hPrev: pick(tanhVals, BH),
        seq: pick(grads, BH),
        drh: pick(grads, BH),
      };
      const load = (): void => {
        a.set(aVals);
        dh.set(inputs.dh);
        dc.set(inputs.dc);
        c.set(inputs.c);
        phiC.set(inputs.phiC);
        hPrev.set(inputs.hPrev);
        seq.set(inputs.seq);
        drh.set(inputs.drh);
        dz.fill(0);
      };
      const snap = (): Float32Array[] => [dz, dh, dc].map((v) => Float32Array.from(v));
      // LSTM: lstm.ts's loop for the default activations with a dhSeq, written out as it stands there (float64, f32 stores).
      load();
      for (let bb = 0; bb < B; bb++)
        for (let j = 0; j < H; j++) {
          const ai = bb * 4 * H + j,
            af = ai + H,
            ag = af + H,
            ao = ag + H,
            k = bb * H + j;
          const ig = a[ai],
            fg = a[af],
            gg = a[ag],
            og = a[ao],
            pc = phiC[k];
          const dhv = dh[k] + seq[k];
          const dcv = dc[k] + dhv * og * (1 - pc * pc);
          dz[ai] = dcv * gg * (ig * (1 - ig));
          dz[af] = dcv * c[k] * (fg * (1 - fg));
          dz[ag] = dcv * ig * (1 - gg * gg);
          dz[ao] = dhv * pc * (og * (1 - og));
          dc[k] = dcv * fg;
        }
      const want = snap();
      load();
      gates.lstmBackward(dz, dh, dc, a, c, phiC, seq, 0, 0, B, H);
      const got = snap();
      got.forEach((g, q) => {
        for (let i = 0; i < g.length; i++) {
          if (!Object.is(g[i], want[q][i])) expect.fail(`lstm output ${q}[${i}]: ${g[i]} vs ${want[q][i]}`);
        }
      });
      // GRU classic second pass (the simplest GRU kernel to write out): dz_r and dh += drh·r.
      load();
      for (let bb = 0; bb < B; bb++)
        for (let j = 0; j < H; j++) {
          const row = bb * 3 * H,
            k = bb * H + j,
            r = a[row + H + j],
            dv = drh[k];
          dz[row + H + j] = dv * hPrev[k] * (r * (1 - r));
          dh[k] = dh[k] + dv * r;
        }
      const wantG = snap();
      load();
      gates.gruBackwardReset(dz, dh, drh, a, hPrev, 0, 0, B, H);
      const gotG = snap();
      gotG.forEach((g, q) => {
        for (let i = 0; i < g.length; i++) {
          if (!Object.is(g[i], wantG[q][i]))
            expect.fail(`gruBackwardReset output ${q}[${i}]: ${g[i]} vs ${wantG[q][i]}`);
        }
      });
    }
  });

  it('other activations, Float64 upstream gradients and the js path keep the TypeScript loops', () => {
    const rng = makeRng('wasm-back-fallback');
    const B = 3,
      H = 5;
    const arena = new WasmArena({ initialBytes: 0 });
    const p = { W: uniform32(D * 4 * H, rng), U: uniform32(H * 4 * H, rng), b: uniform32(4 * H, rng) };
    const x = uniform32(T * B * D, rng);
    const g = { dW: new Float32Array(D * 4 * H), dU: new Float32Array(H * 4 * H), db: new Float32Array(4 * H) };
    const dh0 = new Float32Array(B * H),
      dc0 = new Float32Array(B * H);
    for (const [opts, seq, expected] of [
      [{ activation: 'tanh', recurrentActivation: 'sigmoid' }, new Float32Array(T * B * H), T],
      [{ activation: 'tanh', recurrentActivation: 'hardSigmoid' }, new Float32Array(T * B * H), 0],
      [{ activation: 'relu', recurrentActivation: 'sigmoid' }, new Float32Array(T * B * H), 0],
      [{ activation: 'tanh', recurrentActivation: 'sigmoid' }, new Float64Array(T * B * H), 0],
    ] as const) {
      const calls = new Map<string, number>();
      const ws = lstmWorkspace(T, B, D, H, Float32Array, { ...opts, arena });
      lstmForward(ws, p, x);
      lstmBackward(g, null, dh0, dc0, seq, null, null, { ...ws, ops: counting(ws.ops, calls) }, p, x);
      expect(calls.get('lstmBackward') ?? 0, JSON.stringify(opts) + seq.constructor.name).to.equal(expected);
    }
  });

  it('a dhSeq outside the arena without a staging buffer is a RangeError naming the argument', () => {
    const arena = new WasmArena({ initialBytes: 0 });
    const [a, dz, dh, dc, c, phiC] = arena.allocF32s(4, 4, 1, 1, 1, 1) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const gates = wasmGates(arena);
    expect(() => gates.lstmBackward(dz, dh, dc, a, c, phiC, new Float32Array(1), 0, 0, 1, 1)).to.throw(
      RangeError,
      /dhSeq/,
    );
    expect(() => gates.lstmBackward(dz, dh, dc, a, c, new Float32Array(1), null, 0, 0, 1, 1)).to.throw(
      RangeError,
      /phiC/,
    );
  });
});

describe('kernels/wasm/gates.ts sumRows and foldBlocks (the bias gradient and the repeated-input fold)', function () {
  before(function () {
    if (!wasmSimdAvailable()) this.skip();
  });
  const rng = makeRng('wasm-sumrows');
  const same = (label: string, got: Float32Array, want: Float32Array): void => {
    expect(got.length).to.equal(want.length);
    for (let i = 0; i < want.length; i++)
      if (!Object.is(got[i], want[i])) expect.fail(`${label}: element ${i} is ${got[i]}, the js loop gives ${want[i]}`);
  };

  it('sumRows gives the bits of matmul.ts sumRows: columns off the 16/2 strips, M = 0 and 1, ldc > N, s inside or outside the arena', () => {
    for (const [M, N, ld] of [
      [0, 5, 5],
      [1, 1, 1],
      [3, 17, 17],
      [7, 35, 40],
      [130, 512, 512],
      [257, 19, 21],
    ]) {
      const arena = new WasmArena({ initialBytes: 0 });
      const { bufs, ops } = wasmWorkspaceBuffers(arena, [M * ld + 3, N + 2], N + 2);
      const [C, sIn] = bufs as [Float32Array, Float32Array];
      for (let i = 0; i < C.length; i++) C[i] = (rng() - 0.5) * 2 ** Math.floor(rng() * 20 - 10);
      for (let i = 0; i < sIn.length; i++) sIn[i] = rng() - 0.5;
      const sOut = Float32Array.from(sIn);
      const want = Float32Array.from(sIn);
      jsOps.sumRows(want, 1, C, 3, ld, M, N);
      ops.sumRows(sIn, 1, C, 3, ld, M, N);
      ops.sumRows(sOut, 1, C, 3, ld, M, N);
      same(`M=${M} N=${N} ldc=${ld}, s in the arena`, sIn, want);
      same(`M=${M} N=${N} ldc=${ld}, s outside (staged)`, sOut, want);
    }
  });

  it('foldBlocks gives the bits of the Float32Array loop: n off the 16/4 strips, count 1 and 2, an offset', () => {
    for (const [n, count] of [
      [1, 1],
      [5, 2],
      [19, 9],
      [64, 3],
      [2048, 65],
    ]) {
      const arena = new WasmArena({ initialBytes: 0 });
      const { bufs, ops } = wasmWorkspaceBuffers(arena, [n * count + 2], 4);
      const p = bufs[0];
      for (let i = 0; i < p.length; i++) p[i] = (rng() - 0.5) * 2 ** Math.floor(rng() * 16 - 8);
      const want = Float32Array.from(p);
      foldBlocks(want, 2, n, count);
      ops.foldBlocks(p, 2, n, count);
      same(`n=${n} count=${count}`, p, want);
      const plain = Float32Array.from(p);
      expect(() => foldBlocks(plain, 2, n, count + 1)).to.throw(RangeError, /do not fit/);
    }
  });
});

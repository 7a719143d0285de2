/**
 * B packed once (kernels/wasm/module.ts matmulPacked, kernels/wasm/ops.ts packB/packPanels): the packed product against
 * the unpacked one, bit for bit, on edge shapes and both micro-kernels; and the recurrent cells, which pack U once per
 * forward/backward call, against the same cells running the unpacked products of every step (what they ran before),
 * bit for bit: outputs, caches and every gradient.
 *
 * The relaxed-fma micro-kernel needs `node --experimental-wasm-relaxed-simd` on Node 20: without it this file runs
 * itself again in a child node with the flag (as wasm-fma.spec.ts does), so every test path covers both kernels.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { GateOps, MatOps } from '../../kernels/fast/ops';
import type { FloatArray } from '../../kernels/matmul';
import { jsOps, packsU } from '../../kernels/fast/ops';
import { lstmBackward, lstmForward, lstmWorkspace } from '../../kernels/fast/lstm';
import { gruBackward, gruBiasLength, gruForward, gruWorkspace } from '../../kernels/fast/gru';
import { rnnBackward, rnnForward, rnnWorkspace } from '../../kernels/fast/rnn';
import { KC, NC } from '../../kernels/wasm/module';
import { WasmArena, type WasmKernel, wasmRelaxedSimdAvailable, wasmSimdAvailable } from '../../kernels/wasm/gemm';
import { packedLength, wasmGates, wasmOps } from '../../kernels/wasm/ops';
import { makeRng, type Rng, uniform32 } from '../helpers/rng';
import { repoRoot } from '../helpers/repo';

const FLAG = '--experimental-wasm-relaxed-simd';

function fill(a: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = 2 * rng() - 1;
  return a;
}

function expectSameBits(label: string, got: Float32Array, want: Float32Array): void {
  expect(got.length, `${label} length`).to.equal(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${label}[${i}]: packed ${got[i]}, unpacked ${want[i]}`);
  }
}

/**
 * The ops of today's cells before packing: every step's product on U itself (packB packs nothing). Without the gate
 * kernels' lstmSteps and gruSteps, which would read the panels packB no longer fills: the cells run their step loops
 * over these ops.
 */
function unpacked(ops: MatOps): MatOps {
  return {
    ...ops,
    ...(ops.gates !== undefined ? { gates: withoutSteps(ops.gates) } : {}),
    packB: () => {},
    matmulPacked: (C, cOff, ldc, A, aOff, lda, _P, B, bOff, ldb, transposed, M, K, N, acc) =>
      (transposed ? ops.matmulABt : ops.matmul)(C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, K, N, acc),
  };
}

/** The gate kernels without the fused time loops (lstmSteps, gruSteps). */
function withoutSteps(gates: GateOps): GateOps {
  const { lstmSteps: _lstm, gruSteps: _gru, ...rest } = gates;
  return rest;
}

/**
 * Runs a cell's forward twice through `run`: with the gate kernels' fused time loop `key` (counting its calls), and
 * without it, so that the cell runs its own step loop over the same kernels. The two must agree bit for bit, the fused
 * loop must have run once, and h_T (from element hT of h on) must be computed.
 */
function expectFusedEqualsLoop(
  label: string,
  key: 'lstmSteps' | 'gruSteps',
  hT: number,
  run: (wrap: (g: GateOps) => GateOps) => Record<string, FloatArray>,
): void {
  let fused = 0;
  const copy = (r: Record<string, FloatArray>): Record<string, Float32Array> =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Float32Array.from(v)]));
  const got = copy(
    run((g) => {
      const inner = g[key] as (...args: unknown[]) => void;
      return {
        ...g,
        [key]: (...args: unknown[]): void => {
          fused++;
          inner(...args);
        },
      };
    }),
  );
  const want = copy(run(withoutSteps));
  expect(fused, `${label}: the forward took the one-call path`).to.equal(1);
  expect(
    got.h.subarray(hT).some((v) => v !== 0),
    `${label}: h_T computed`,
  ).to.equal(true);
  for (const k of Object.keys(want)) expectSameBits(`${label} ${k}`, got[k], want[k]);
}

/** ops whose packB leaves zeros: a cell that really reads the panels then computes something else. */
function zeroPanels(ops: MatOps): MatOps {
  return { ...ops, packB: (P) => P.fill(0) };
}

/** [M, K, N]: off the 4×8 tile, N over one NC block, K over one KC block, M = 4 (the smallest packed batch). */
const SHAPES: [number, number, number][] = [
  [4, 1, 1],
  [4, 7, 9],
  [5, 3, 8],
  [7, 17, 13],
  [13, 64, 6],
  [64, 64, 256],
  [6, KC + 5, 17],
  [9, 2 * KC + 3, 33],
  [5, 9, NC + 11],
  [66, KC + 1, NC + 8],
];

function productChecks(kernel: WasmKernel): void {
  const rng = makeRng(`wasm-packed-${kernel}`);
  for (const transposed of [false, true])
    it(`${transposed ? 'A·Bᵀ' : 'A·B'}: packed equals unpacked bit for bit (offsets, leading dimensions, overwrite and accumulate)`, () => {
      for (const [M, K, N] of SHAPES) {
        const arena = new WasmArena({ kernel, initialBytes: 0 });
        const stageLen = 4 * (M + 3) * (K + 5) + 4 * (K + 5) * (N + 7) + 4 * (M + 3) * (N + 7);
        const [A, C1, C2, P, s0, s1, s2] = arena.allocF32s(
          (M + 1) * (K + 2),
          (M + 2) * (N + 3),
          (M + 2) * (N + 3),
          packedLength(K, N),
          stageLen,
          stageLen,
          stageLen,
        );
        const ops = wasmOps(arena, [s0, s1, s2]);
        expect(ops.packedLength(K, N)).to.equal(P.length);
        const lda = K + 2,
          ldc = N + 3,
          bOff = 3;
        // B: the [K,N] (transposed: [N,K]) block at bOff of a wider matrix outside the arena (as p.U is).
        const ldb = (transposed ? K : N) + 4;
        const B = fill(new Float32Array(bOff + (transposed ? N : K) * ldb), rng);
        fill(A, rng);
        ops.packB(P, B, bOff, ldb, K, N, transposed);
        for (const acc of [false, true]) {
          fill(C1, rng);
          C2.set(C1);
          ops.matmulPacked(C1, ldc + 1, ldc, A, lda, lda, P, B, bOff, ldb, transposed, M, K, N, acc);
          (transposed ? ops.matmulABt : ops.matmul)(C2, ldc + 1, ldc, A, lda, lda, B, bOff, ldb, M, K, N, acc);
          expectSameBits(`${kernel} M=${M} K=${K} N=${N} transposed=${transposed} acc=${acc} C`, C1, C2);
        }
        // The product reads the panels: a P packed from another B gives that B's product.
        const B2 = fill(new Float32Array(B.length), rng);
        ops.packB(P, B2, bOff, ldb, K, N, transposed);
        ops.matmulPacked(C1, 0, ldc, A, 0, lda, P, B, bOff, ldb, transposed, M, K, N, false);
        (transposed ? ops.matmulABt : ops.matmul)(C2, 0, ldc, A, 0, lda, B2, bOff, ldb, M, K, N, false);
        expectSameBits(`${kernel} M=${M} K=${K} N=${N} panels of B2`, C1, C2);
      }
    });

  it('the panel layout: block (jc, pc) at jc·K + pc·nc8, panels of 8 columns k-major, zero-padded', () => {
    const arena = new WasmArena({ kernel, initialBytes: 0 });
    for (const [K, N] of [
      [3, 5],
      [KC + 2, NC + 3],
    ]) {
      const [P, s] = arena.allocF32s(packedLength(K, N), 16);
      const ops = wasmOps(arena, [s, s, s]);
      const B = fill(new Float32Array(K * N), rng);
      P.fill(NaN);
      ops.packB(P, B, 0, N, K, N, false);
      for (let jc = 0; jc < N; jc += NC) {
        const nc = Math.min(NC, N - jc),
          nc8 = Math.ceil(nc / 8) * 8;
        for (let pc = 0; pc < K; pc += KC) {
          const kc = Math.min(KC, K - pc);
          for (let j = 0; j < nc8; j++)
            for (let k = 0; k < kc; k++) {
              const at = jc * K + pc * nc8 + Math.floor(j / 8) * 8 * kc + 8 * k + (j % 8);
              const want = j < nc ? B[(pc + k) * N + jc + j] : 0;
              if (!Object.is(P[at], want)) expect.fail(`K=${K} N=${N} B(${pc + k}, ${jc + j}) at ${at}: ${P[at]}`);
            }
        }
      }
      arena.reset();
    }
  });

  it('fewer than 4 rows and an empty P run the unpacked product; a short P is a RangeError', () => {
    const arena = new WasmArena({ kernel, initialBytes: 0 });
    const [A, B, C1, C2, P, s] = arena.allocF32s(3 * 5, 5 * 7, 3 * 7, 3 * 7, packedLength(5, 7), 64);
    const ops = wasmOps(arena, [s, s, s]);
    fill(A, rng);
    fill(B, rng);
    P.fill(NaN); // never packed: M = 3 must not read it
    ops.matmulPacked(C1, 0, 7, A, 0, 5, P, B, 0, 7, false, 3, 5, 7, false);
    ops.matmul(C2, 0, 7, A, 0, 5, B, 0, 7, 3, 5, 7, false);
    expectSameBits('M=3', C1, C2);
    ops.packB(new Float32Array(0), B, 0, 7, 5, 7, false); // packs nothing
    expect(() => ops.packB(P.subarray(1), B, 0, 7, 5, 7, false)).to.throw(RangeError, /packB\[wasm\]\(P\)/);
    expect(() => ops.matmulPacked(C1, 0, 7, A, 0, 5, P.subarray(1), B, 0, 7, false, 4, 5, 7, false)).to.throw(
      RangeError,
      /matmulPacked\[wasm\]\(P\)/,
    );
  });

  it('the js MatOps: packedLength 0, packB a no-op, matmulPacked the unpacked product', () => {
    const A = fill(new Float32Array(20), rng),
      B = fill(new Float32Array(20), rng);
    const C1 = new Float32Array(16),
      C2 = new Float32Array(16);
    expect(jsOps.packedLength(5, 4)).to.equal(0);
    jsOps.packB(new Float32Array(0), B, 0, 4, 5, 4, false);
    jsOps.matmulPacked(C1, 0, 4, A, 0, 5, new Float32Array(0), B, 0, 5, true, 4, 5, 4, false);
    jsOps.matmulABt(C2, 0, 4, A, 0, 5, B, 0, 5, 4, 5, 4, false);
    expectSameBits('js ABt', C1, C2);
  });

  // The forward time loops in one kernel call (lstmSteps, gruSteps) against the same loops run from TypeScript over the
  // same kernels: the same calls in the same order, so the same bits. Batch 1 (the streaming window, gemv on U), 3 (gemv,
  // no panels), 4+ (packed panels), T = 1, and a last shape whose products span two NC column blocks (LSTM 4H = 520,
  // GRU 2H = 520, with K = H over two KC blocks too). The GRU's bias lies outside the arena, as the layers' parameters
  // may: gruSteps stages b_r once per call, the loop's addBias per step.
  const stepShapes = (last: number): [number, number, number][] => [
    [64, 1, 64],
    [7, 3, 5],
    [6, 4, 8],
    [5, 9, 13],
    [1, 6, 9],
    [3, 5, last],
  ];
  for (const [T, B, H] of stepShapes(130))
    it(`lstmSteps T=${T} B=${B} H=${H}: one call equals the step loop over the same kernels, bit for bit`, () => {
      const rng2 = makeRng(`wasm-lstm-steps-${kernel}-${T}-${B}-${H}`);
      const x = uniform32(T * B * 2, rng2, -2, 2),
        h0 = uniform32(B * H, rng2),
        c0 = uniform32(B * H, rng2);
      const p = { W: uniform32(2 * 4 * H, rng2), U: uniform32(H * 4 * H, rng2, -0.8, 0.8), b: uniform32(4 * H, rng2) };
      const arena = new WasmArena({ kernel, initialBytes: 0 });
      expectFusedEqualsLoop(`${kernel} lstmSteps T=${T} B=${B} H=${H}`, 'lstmSteps', T * B * H, (wrap) => {
        const base = lstmWorkspace(T, B, 2, H, Float32Array, { arena });
        const ws = { ...base, ops: { ...base.ops, gates: wrap(base.ops.gates as GateOps) } };
        ws.h.set(h0);
        ws.c.set(c0);
        lstmForward(ws, p, x);
        return { h: ws.h, c: ws.c, a: ws.a, phiC: ws.phiC };
      });
    });
  for (const [T, B, H] of stepShapes(260))
    for (const resetAfter of [true, false])
      it(`gruSteps T=${T} B=${B} H=${H} resetAfter=${resetAfter}: one call equals the step loop, bit for bit`, () => {
        const rng2 = makeRng(`wasm-gru-steps-${kernel}-${T}-${B}-${H}-${resetAfter}`);
        const x = uniform32(T * B * 2, rng2, -2, 2),
          h0 = uniform32(B * H, rng2);
        const p = {
          W: uniform32(2 * 3 * H, rng2),
          U: uniform32(H * 3 * H, rng2, -0.8, 0.8),
          b: uniform32(gruBiasLength(H, resetAfter), rng2),
        };
        const arena = new WasmArena({ kernel, initialBytes: 0 });
        const label = `${kernel} gruSteps T=${T} B=${B} H=${H} resetAfter=${resetAfter}`;
        expectFusedEqualsLoop(label, 'gruSteps', T * B * H, (wrap) => {
          const base = gruWorkspace(T, B, 2, H, Float32Array, { arena, resetAfter });
          const ws = { ...base, ops: { ...base.ops, gates: wrap(base.ops.gates as GateOps) } };
          ws.h.set(h0);
          gruForward(ws, p, x);
          return { h: ws.h, a: ws.a, innerH: ws.innerH, rh: ws.rh };
        });
      });

  it('gruSteps: a bias outside the arena without a staging buffer, or an operand outside it, is a RangeError', () => {
    const T = 3,
      B = 2,
      H = 4;
    const arena = new WasmArena({ kernel, initialBytes: 0 });
    const ws = gruWorkspace(T, B, 2, H, Float32Array, { arena, resetAfter: true });
    const { a, h, innerH, rh, Uw } = ws;
    const b = new Float32Array(gruBiasLength(H, true)).fill(0.5);
    const bare = wasmGates(arena).gruSteps as NonNullable<GateOps['gruSteps']>; // no staging buffer
    expect(() => bare(a, h, innerH, rh, Uw, Uw, Uw, b, T, B, H, true)).to.throw(
      RangeError,
      /gruSteps\[wasm\]\(b\): b is outside the arena and there is no staging buffer/,
    );
    const steps = (ws.ops.gates as GateOps).gruSteps as NonNullable<GateOps['gruSteps']>;
    expect(() => steps(a, h, innerH, rh, Uw, Uw, Uw, b.subarray(1), T, B, H, true)).to.throw(
      RangeError,
      /gruSteps\[wasm\]\(b\): expected at least 24 elements/,
    );
    expect(() => steps(a, h, innerH, rh, new Float32Array(H * 3 * H), Uw, Uw, b, T, B, H, true)).to.throw(
      RangeError,
      /gruSteps\[wasm\]\(U\)/,
    );
    expect(() => steps(a, h.subarray(1), innerH, rh, Uw, Uw, Uw, b, T, B, H, true)).to.throw(
      RangeError,
      /gruSteps\[wasm\]\(h\)/,
    );
  });

  it('lstmSteps: an operand outside the arena or too short is a RangeError that names it; T = 0 does nothing', () => {
    const T = 3,
      B = 4,
      H = 5;
    const arena = new WasmArena({ kernel, initialBytes: 0 });
    const ws = lstmWorkspace(T, B, 2, H, Float32Array, { arena });
    const g = ws.ops.gates as GateOps;
    const steps = g.lstmSteps as NonNullable<GateOps['lstmSteps']>;
    const { a, c, phiC, h, Up } = ws;
    expect(Up.length, 'B = 4, T = 3 packs U').to.be.at.least(packedLength(H, 4 * H));
    const U = a.subarray(0, H * 4 * H); // any arena view long enough (only its address matters here)
    const none = new Float32Array(0);
    expect(() => steps(a, 0, c, 0, phiC, 0, h, 0, new Float32Array(H * 4 * H), none, T, B, H)).to.throw(
      RangeError,
      /lstmSteps\[wasm\]\(U\): expected a Float32Array view on the workspace's arena/,
    );
    expect(() => steps(a, 0, c, 0, phiC, 0, h, 0, U, Up.subarray(0, packedLength(H, 4 * H) - 1), T, B, H)).to.throw(
      RangeError,
      /lstmSteps\[wasm\]\(Up\): block \[0, \d+\) outside an array/,
    );
    expect(() => steps(a, 0, c, 0, phiC, 0, h, 1, U, Up, T, B, H)).to.throw(RangeError, /lstmSteps\[wasm\]\(h\)/);
    expect(() => steps(a.subarray(0, a.length - 1), 0, c, 0, phiC, 0, h, 0, U, Up, T, B, H)).to.throw(
      RangeError,
      /lstmSteps\[wasm\]\(a\)/,
    );
    a.fill(NaN);
    h.fill(7);
    steps(a, 0, c, 0, phiC, 0, h, 0, U, Up, 0, B, H);
    expect(h.every((v) => v === 7) && a.every((v) => Number.isNaN(v))).to.equal(true);
  });

  const D = 3;
  // B ≥ 4 and T ≥ 2 pack; B = 3 (the matrix–vector kernels) and T = 1 (one product) do not, and must too give today's
  // bits. H off the 8-column panel.
  for (const [T, B, H] of [
    [5, 3, 5],
    [5, 4, 7],
    [5, 9, 13],
    [5, 6, 24],
    [1, 6, 9],
    [2, 4, 8],
  ])
    it(`T=${T} B=${B} H=${H}: LSTM, GRU (both resets) and tanh RNN sequences equal the unpacked ones bit for bit`, () => {
      const rng2 = makeRng(`wasm-packed-cells-${kernel}-${T}-${B}-${H}`);
      const x = uniform32(T * B * D, rng2, -2, 2),
        h0 = uniform32(B * H, rng2),
        c0 = uniform32(B * H, rng2),
        seq = uniform32(T * B * H, rng2);
      const cells: [string, number, number, boolean][] = [
        ['lstm', 4, 4 * H, false],
        ['gruAfter', 3, 6 * H, true],
        ['gruBefore', 3, 3 * H, false],
        ['rnn', 1, H, false],
      ];
      for (const [cell, G, bLen, resetAfter] of cells) {
        const p = { W: uniform32(D * G * H, rng2), U: uniform32(H * G * H, rng2, -0.8, 0.8), b: uniform32(bLen, rng2) };
        if (cell.startsWith('gru')) expect(bLen).to.equal(gruBiasLength(H, resetAfter));
        const arena = new WasmArena({ kernel, initialBytes: 0 });
        const run = (wrap: (o: MatOps) => MatOps): Record<string, Float32Array> => {
          const dW = new Float32Array(D * G * H),
            dU = new Float32Array(H * G * H),
            db = new Float32Array(bLen),
            dx = new Float32Array(x.length),
            dh0 = new Float32Array(B * H),
            dc0 = new Float32Array(B * H);
          if (cell === 'lstm') {
            const base = lstmWorkspace(T, B, D, H, Float32Array, { arena });
            const ws = { ...base, ops: wrap(base.ops) };
            ws.h.set(h0);
            ws.c.set(c0);
            lstmForward(ws, p, x);
            lstmBackward({ dW, dU, db }, dx, dh0, dc0, seq, null, null, ws, p, x);
            return { h: Float32Array.from(ws.h), c: Float32Array.from(ws.c), dW, dU, db, dx, dh0, dc0 };
          }
          if (cell === 'rnn') {
            const base = rnnWorkspace(T, B, D, H, Float32Array, { arena });
            const ws = { ...base, ops: wrap(base.ops) };
            ws.h.set(h0);
            rnnForward(ws, p, x);
            rnnBackward({ dW, dU, db }, dx, dh0, seq, null, ws, p, x);
            return { h: Float32Array.from(ws.h), dW, dU, db, dx, dh0 };
          }
          const base = gruWorkspace(T, B, D, H, Float32Array, { arena, resetAfter });
          const ws = { ...base, ops: wrap(base.ops) };
          ws.h.set(h0);
          gruForward(ws, p, x);
          gruBackward({ dW, dU, db }, dx, dh0, seq, null, ws, p, x);
          return { h: Float32Array.from(ws.h), a: Float32Array.from(ws.a), dW, dU, db, dx, dh0 };
        };
        const got = run((o) => o);
        const want = run(unpacked);
        for (const k of Object.keys(want)) expectSameBits(`${kernel} ${cell} B=${B} H=${H} ${k}`, got[k], want[k]);
        // The cells read the panels (packsU): zeroed panels change the result.
        const zero = run(zeroPanels);
        const same = Object.keys(want).every((k) => want[k].every((v, i) => Object.is(v, zero[k][i])));
        expect(same, `${cell}: zeroed panels change the outputs iff the workspace packs`).to.equal(!packsU(T, B));
        expect(packsU(T, B)).to.equal(B >= 4 && T >= 2);
      }
    });
}

describe('kernels/wasm packed B (matmulPacked)', function () {
  before(function () {
    if (!wasmSimdAvailable()) this.skip();
  });
  describe('simd128', () => productChecks('simd128'));
  if (wasmRelaxedSimdAvailable()) describe('relaxed-fma', () => productChecks('relaxed-fma'));
  else
    it(`relaxed-fma, in a child node ${FLAG}`, function () {
      this.timeout(300000);
      const r = spawnSync(
        process.execPath,
        [
          FLAG,
          require.resolve('mocha/bin/mocha.js'),
          '--no-config',
          '--timeout',
          '300000',
          '--reporter',
          'dot',
          '--require',
          path.join(repoRoot(), 'dist', 'lib', 'node', 'install.js'),
          __filename,
        ],
        { cwd: repoRoot(), encoding: 'utf8' },
      );
      const out = r.stdout + r.stderr;
      expect(r.status, out).to.equal(0);
      // simd128 and relaxed-fma: 31 tests each.
      expect(Number(/(\d+) passing/.exec(out)?.[1]), out).to.equal(62);
    });
});

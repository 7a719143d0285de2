/**
 * LSTM kernel: forward against an independent per-element oracle and a hand-computed case; backward by central
 * differences for every element of W, U, b, x, h0, c0; sequential equals batched; float32 agrees with float64;
 * the accumulate/overwrite conventions; length checks.
 */
import { expect } from 'chai';
import type { LstmOptions, LstmParams, LstmWorkspace } from '../../kernels/fast/lstm';
import { LSTM_IMPLS } from '../helpers/cells';
import { gradCheck, weightedSum } from '../helpers/gradcheck';
import { makeRng, uniform64, type Rng } from '../helpers/rng';
import { type ActName, f, kinkDistance, KINK_MARGIN, expectClose } from '../helpers/oracle';

// ---- Independent oracle: scalar Math, one element at a time, no kernel code. --------------------------------------

interface Data {
  T: number;
  B: number;
  D: number;
  H: number;
  W: Float64Array;
  U: Float64Array;
  b: Float64Array;
  x: Float64Array;
  h0: Float64Array;
  c0: Float64Array;
  R: Float64Array; // [T,B,H] upstream dL/dh_t
  RhT: Float64Array; // [B,H] extra dL/dh_T
  RcT: Float64Array; // [B,H] dL/dc_T
}

/**
 * Naive LSTM: h_t[b,j] = o·φ(c), c = f·c_{t-1} + i·g, gates from z[k·H+j] = Σ_d x[b,d]·W[d,k·H+j] + Σ_m h[b,m]·U[m,k·H+j] + b.
 * Also reports how close any pre-activation came to a kink, and the largest |z| fed to the recurrent activation.
 */
function refLstm(
  d: Data,
  act: ActName,
  recAct: ActName,
): { h: Float64Array; c: Float64Array; minKink: number; maxRecZ: number } {
  const { T, B, D, H } = d;
  const G = 4 * H;
  const h = new Float64Array((T + 1) * B * H),
    c = new Float64Array((T + 1) * B * H);
  h.set(d.h0);
  c.set(d.c0);
  let minKink = Infinity,
    maxRecZ = 0;
  for (let t = 0; t < T; t++) {
    for (let bb = 0; bb < B; bb++) {
      for (let j = 0; j < H; j++) {
        const z = [0, 0, 0, 0];
        for (let k = 0; k < 4; k++) {
          let s = d.b[k * H + j];
          for (let e = 0; e < D; e++) s += d.x[(t * B + bb) * D + e] * d.W[e * G + k * H + j];
          for (let m = 0; m < H; m++) s += h[(t * B + bb) * H + m] * d.U[m * G + k * H + j];
          z[k] = s;
        }
        const [zi, zf, zg, zo] = z as [number, number, number, number];
        for (const zz of [zi, zf, zo]) {
          minKink = Math.min(minKink, kinkDistance(recAct, zz));
          maxRecZ = Math.max(maxRecZ, Math.abs(zz));
        }
        minKink = Math.min(minKink, kinkDistance(act, zg));
        const ct = f(recAct, zf) * c[(t * B + bb) * H + j] + f(recAct, zi) * f(act, zg);
        minKink = Math.min(minKink, kinkDistance(act, ct));
        c[((t + 1) * B + bb) * H + j] = ct;
        h[((t + 1) * B + bb) * H + j] = f(recAct, zo) * f(act, ct);
      }
    }
  }
  return { h, c, minKink, maxRecZ };
}

// ---- Helpers ---------------------------------------------------------------------------------------------------

interface Shape {
  T: number;
  B: number;
  D: number;
  H: number;
}

function makeData(s: Shape, rng: Rng, wScale = 0.5): Data {
  const { T, B, D, H } = s;
  return {
    ...s,
    W: uniform64(D * 4 * H, rng, -wScale, wScale),
    U: uniform64(H * 4 * H, rng, -wScale, wScale),
    b: uniform64(4 * H, rng, -wScale, wScale),
    x: uniform64(T * B * D, rng, -1, 1),
    h0: uniform64(B * H, rng, -0.8, 0.8),
    c0: uniform64(B * H, rng, -1, 1),
    R: uniform64(T * B * H, rng, -1, 1),
    RhT: uniform64(B * H, rng, -1, 1),
    RcT: uniform64(B * H, rng, -1, 1),
  };
}

function params(d: Data): LstmParams {
  return { W: d.W, U: d.U, b: d.b };
}

function forward(ws: LstmWorkspace, d: Data): void {
  ws.h.set(d.h0, 0);
  ws.c.set(d.c0, 0);
  lstmForward(ws, params(d), d.x);
}

type LossMode = 'all' | 'last';

/** L = Σ_t Σ h_t⊙R_t + Σ h_T⊙RhT + Σ c_T⊙RcT   ('all'),   or   L = Σ h_T⊙RhT   ('last'). */
function loss(ws: LstmWorkspace, d: Data, mode: LossMode): number {
  const BH = d.B * d.H,
    end = d.T * BH;
  let L = weightedSum(ws.h as Float64Array, d.RhT, end);
  if (mode === 'all') L += weightedSum(ws.h as Float64Array, d.R, BH) + weightedSum(ws.c as Float64Array, d.RcT, end);
  return L;
}

interface Grads {
  dW: Float64Array;
  dU: Float64Array;
  db: Float64Array;
  dx: Float64Array;
  dh0: Float64Array;
  dc0: Float64Array;
}

function backward(ws: LstmWorkspace, d: Data, mode: LossMode): Grads {
  const { T, B, D, H } = d;
  const g: Grads = {
    dW: new Float64Array(D * 4 * H),
    dU: new Float64Array(H * 4 * H),
    db: new Float64Array(4 * H),
    dx: new Float64Array(T * B * D),
    dh0: new Float64Array(B * H),
    dc0: new Float64Array(B * H),
  };
  lstmBackward(
    g,
    g.dx,
    g.dh0,
    g.dc0,
    mode === 'all' ? d.R : null,
    d.RhT,
    mode === 'all' ? d.RcT : null,
    ws,
    params(d),
    d.x,
  );
  return g;
}

let maxRelSeen = 0;

// ---- Tests -----------------------------------------------------------------------------------------------------

// Every check below runs on both implementations: the reference cell (kernels/lstm.ts) and its fast twin
// (kernels/fast/lstm.ts, what lib runs); the functions are rebound before each implementation's tests.
let { lstmWorkspace, lstmForward, lstmBackward } = LSTM_IMPLS[0];

for (const impl of LSTM_IMPLS)
  describe(`kernels/lstm (${impl.name})`, () => {
    before(() => {
      ({ lstmWorkspace, lstmForward, lstmBackward } = impl);
    });
    after(() => {
      // One line for the record: the worst gradient-check relative error over this file.
      console.log(`      lstm gradient check: max relative error ${maxRelSeen.toExponential(2)}`);
    });

    describe('forward', () => {
      it('matches hand-written formulas for T=1, B=1, D=1, H=1', () => {
        const x = 0.7,
          h0 = 0.25,
          c0 = -0.4;
        const W = [0.3, -0.2, 0.5, 0.1],
          U = [0.4, 0.6, -0.3, 0.2],
          b = [0.1, 0.2, -0.1, 0.05]; // i|f|c|o
        const sig = (z: number): number => 1 / (1 + Math.exp(-z));
        const i = sig(0.7 * 0.3 + 0.25 * 0.4 + 0.1);
        const fg = sig(0.7 * -0.2 + 0.25 * 0.6 + 0.2);
        const g = Math.tanh(0.7 * 0.5 + 0.25 * -0.3 - 0.1);
        const o = sig(0.7 * 0.1 + 0.25 * 0.2 + 0.05);
        const c = fg * -0.4 + i * g;
        const h = o * Math.tanh(c);

        const ws = lstmWorkspace(1, 1, 1, 1, Float64Array);
        ws.h[0] = h0;
        ws.c[0] = c0;
        lstmForward(
          ws,
          { W: Float64Array.from(W), U: Float64Array.from(U), b: Float64Array.from(b) },
          Float64Array.of(x),
        );
        expect(ws.c[1]).to.be.closeTo(c, 1e-15);
        expect(ws.h[1]).to.be.closeTo(h, 1e-15);
        expectClose('a', ws.a, [i, fg, g, o], 1e-15);

        // Backward by hand for L = r·h_1: do = r·φ(c), dc = r·o·(1−φ(c)²), di = dc·g, df = dc·c0, dg = dc·i.
        const r = 1.5;
        const pc = Math.tanh(c);
        const dcv = r * o * (1 - pc * pc);
        const dz = [dcv * g * i * (1 - i), dcv * c0 * fg * (1 - fg), dcv * i * (1 - g * g), r * pc * o * (1 - o)];
        const dW = new Float64Array(4),
          dU = new Float64Array(4),
          db = new Float64Array(4);
        const dx = new Float64Array(1),
          dh0 = new Float64Array(1),
          dc0 = new Float64Array(1);
        lstmBackward(
          { dW, dU, db },
          dx,
          dh0,
          dc0,
          Float64Array.of(r),
          null,
          null,
          ws,
          { W: Float64Array.from(W), U: Float64Array.from(U), b: Float64Array.from(b) },
          Float64Array.of(x),
        );
        expectClose(
          'dW',
          dW,
          dz.map((v) => v * x),
          1e-14,
        );
        expectClose(
          'dU',
          dU,
          dz.map((v) => v * h0),
          1e-14,
        );
        expectClose('db', db, dz, 1e-14);
        expectClose('dx', dx, [dz.reduce((s, v, k) => s + v * W[k], 0)], 1e-14);
        expectClose('dh0', dh0, [dz.reduce((s, v, k) => s + v * U[k], 0)], 1e-14);
        expectClose('dc0', dc0, [dcv * fg], 1e-14);
      });

      const shapes: Shape[] = [
        { T: 1, B: 1, D: 1, H: 1 },
        { T: 5, B: 3, D: 4, H: 7 },
        { T: 4, B: 2, D: 3, H: 2 },
        { T: 3, B: 5, D: 6, H: 9 },
      ];
      for (const s of shapes) {
        for (const [act, recAct] of [
          ['tanh', 'sigmoid'],
          ['relu', 'hardSigmoid'],
          ['linear', 'sigmoid'],
        ] as [ActName, ActName][]) {
          it(`matches the per-element oracle for T=${s.T}, B=${s.B}, D=${s.D}, H=${s.H}, ${act}/${recAct}`, () => {
            const d = makeData(s, makeRng(`lstm-ref-${s.T}-${s.B}-${s.D}-${s.H}-${act}-${recAct}`), 0.3);
            const ws = lstmWorkspace(s.T, s.B, s.D, s.H, Float64Array, {
              activation: act,
              recurrentActivation: recAct,
            });
            forward(ws, d);
            const ref = refLstm(d, act, recAct);
            expectClose('h', ws.h, ref.h, 1e-12);
            expectClose('c', ws.c, ref.c, 1e-12);
          });
        }
      }

      it('reads only block 0 of h and c: stale scratch from earlier calls does not leak in', () => {
        const s = { T: 4, B: 3, D: 2, H: 5 };
        const d = makeData(s, makeRng('lstm-stale'));
        const fresh = lstmWorkspace(s.T, s.B, s.D, s.H, Float64Array);
        forward(fresh, d);
        const used = lstmWorkspace(s.T, s.B, s.D, s.H, Float64Array);
        for (const buf of [used.h, used.c, used.a, used.phiC, used.dz, used.dh, used.dc]) buf.fill(NaN);
        forward(used, d);
        expect(Array.from(used.h)).to.deep.equal(Array.from(fresh.h));
        expect(Array.from(used.c)).to.deep.equal(Array.from(fresh.c));
        expect(Array.from(used.a)).to.deep.equal(Array.from(fresh.a));
      });

      it('starts from zero state after allocation', () => {
        const ws = lstmWorkspace(2, 2, 3, 4, Float64Array);
        expect(Array.from(ws.h).every((v) => v === 0)).to.equal(true);
        expect(Array.from(ws.c).every((v) => v === 0)).to.equal(true);
      });
    });

    describe('gradient check (float64, central differences, every element of W, U, b, x, h0, c0)', () => {
      interface GcCase extends Shape {
        act: ActName;
        recAct: ActName;
        mode: LossMode;
      }
      const cases: GcCase[] = [];
      for (const s of [
        { T: 1, B: 1, D: 1, H: 1 },
        { T: 5, B: 3, D: 4, H: 7 },
        { T: 4, B: 2, D: 3, H: 2 },
        { T: 3, B: 5, D: 6, H: 9 },
      ]) {
        for (const mode of ['all', 'last'] as LossMode[]) cases.push({ ...s, act: 'tanh', recAct: 'sigmoid', mode });
      }
      for (const act of ['tanh', 'sigmoid', 'hardSigmoid', 'relu', 'linear'] as ActName[]) {
        for (const recAct of ['sigmoid', 'hardSigmoid'] as ActName[]) {
          if (act === 'tanh' && recAct === 'sigmoid') continue;
          cases.push({ T: 5, B: 3, D: 4, H: 7, act, recAct, mode: 'all' });
        }
      }

      for (const k of cases) {
        const on = k.mode === 'all' ? 'every step + h_T, c_T' : 'h_T only';
        const label = `T=${k.T}, B=${k.B}, D=${k.D}, H=${k.H}, ${k.act}/${k.recAct}, loss on ${on}`;
        it(label, () => {
          const opts: LstmOptions = { activation: k.act, recurrentActivation: k.recAct };
          // Smaller weights for hardSigmoid so that 0.2z+0.5 stays strictly inside (0, 1); checked below.
          const d = makeData(
            k,
            makeRng(`lstm-gc-${label}`),
            k.recAct === 'hardSigmoid' || k.act === 'hardSigmoid' ? 0.3 : 0.5,
          );
          const ref = refLstm(d, k.act, k.recAct);
          expect(ref.minKink, 'distance of the nearest pre-activation to a kink').to.be.greaterThan(KINK_MARGIN);
          if (k.recAct === 'hardSigmoid')
            expect(ref.maxRecZ, 'max |z| into hardSigmoid').to.be.lessThan(2.5 - KINK_MARGIN);

          const ws = lstmWorkspace(k.T, k.B, k.D, k.H, Float64Array, opts);
          forward(ws, d);
          expectClose('h vs oracle', ws.h, ref.h, 1e-12);
          const g = backward(ws, d, k.mode);
          const { maxRel, checked } = gradCheck(
            { W: d.W, U: d.U, b: d.b, x: d.x, h0: d.h0, c0: d.c0 },
            { W: g.dW, U: g.dU, b: g.db, x: g.dx, h0: g.dh0, c0: g.dc0 },
            () => {
              forward(ws, d);
              return loss(ws, d, k.mode);
            },
          );
          expect(checked).to.equal(d.W.length + d.U.length + d.b.length + d.x.length + d.h0.length + d.c0.length);
          maxRelSeen = Math.max(maxRelSeen, maxRel);
        });
      }
    });

    describe('sequential equals batched (float64, 1e-12)', () => {
      for (const [act, recAct] of [
        ['tanh', 'sigmoid'],
        ['relu', 'hardSigmoid'],
      ] as [ActName, ActName][]) {
        it(`T one-step calls chained through (h, c) and (dh, dc) match one T-step call, ${act}/${recAct}`, () => {
          const s = { T: 5, B: 3, D: 4, H: 7 };
          const { T, B, D, H } = s;
          const BH = B * H;
          const opts: LstmOptions = { activation: act, recurrentActivation: recAct };
          const d = makeData(s, makeRng(`lstm-seq-${act}`), 0.3);
          const p = params(d);

          const full = lstmWorkspace(T, B, D, H, Float64Array, opts);
          forward(full, d);
          const gFull = backward(full, d, 'all');

          const steps = Array.from({ length: T }, () => lstmWorkspace(1, B, D, H, Float64Array, opts));
          steps[0].h.set(d.h0);
          steps[0].c.set(d.c0);
          for (let t = 0; t < T; t++) {
            const ws = steps[t];
            if (t > 0) {
              ws.h.set(steps[t - 1].h.subarray(BH));
              ws.c.set(steps[t - 1].c.subarray(BH));
            }
            lstmForward(ws, p, d.x.subarray(t * B * D, (t + 1) * B * D));
            expectClose(`h_${t + 1}`, ws.h.subarray(BH), full.h.subarray((t + 1) * BH, (t + 2) * BH), 1e-12);
            expectClose(`c_${t + 1}`, ws.c.subarray(BH), full.c.subarray((t + 1) * BH, (t + 2) * BH), 1e-12);
            expectClose(`a_${t}`, ws.a, full.a.subarray(t * 4 * BH, (t + 1) * 4 * BH), 1e-12);
          }

          const dW = new Float64Array(D * 4 * H),
            dU = new Float64Array(H * 4 * H),
            db = new Float64Array(4 * H);
          const dx = new Float64Array(T * B * D);
          let dhNext = d.RhT,
            dcNext: Float64Array = d.RcT;
          for (let t = T - 1; t >= 0; t--) {
            const dh0 = new Float64Array(BH),
              dc0 = new Float64Array(BH);
            lstmBackward(
              { dW, dU, db },
              dx.subarray(t * B * D, (t + 1) * B * D),
              dh0,
              dc0,
              d.R.subarray(t * BH, (t + 1) * BH),
              dhNext,
              dcNext,
              steps[t],
              p,
              d.x.subarray(t * B * D, (t + 1) * B * D),
            );
            dhNext = dh0;
            dcNext = dc0;
          }
          expectClose('dW', dW, gFull.dW, 1e-12);
          expectClose('dU', dU, gFull.dU, 1e-12);
          expectClose('db', db, gFull.db, 1e-12);
          expectClose('dx', dx, gFull.dx, 1e-12);
          expectClose('dh0', dhNext, gFull.dh0, 1e-12);
          expectClose('dc0', dcNext, gFull.dc0, 1e-12);
        });
      }
    });

    describe('float32 agrees with float64', () => {
      // Values are O(1); the floor 1e-2 keeps float32 round-off in small entries (where terms of size ~1 cancel) from
      // counting as relative error. Over 50 seeds the worst scaled error was ~1e-5
      // (~6e-5 with a floor of 1e-3); this seed gives ~2e-6.
      // Both float32 paths, each against the float64 kernel whose gradients the finite differences above prove; B = 3
      // takes the batch-below-4 (Uᵀ / matrix–vector) route, B = 6 the blocked products.
      for (const path of impl.paths)
        for (const s of [
          { T: 5, B: 3, D: 4, H: 7 },
          { T: 4, B: 6, D: 5, H: 9 },
        ]) {
          it(`${path.name} path: forward and backward within |a−b| ≤ 1e-4·max(|b|, 1e-2), T=${s.T}, B=${s.B}, D=${s.D}, H=${s.H}`, () => {
            const { T, B, D, H } = s;
            const BH = B * H;
            // Round the data to float32 once, so the two runs differ only in arithmetic precision.
            const d64 = makeData(s, makeRng('lstm-f32'));
            for (const k of ['W', 'U', 'b', 'x', 'h0', 'c0', 'R', 'RhT', 'RcT'] as const)
              d64[k].set(Float32Array.from(d64[k]));
            const to32 = (a: Float64Array): Float32Array => Float32Array.from(a);

            const ws64 = lstmWorkspace(T, B, D, H, Float64Array);
            forward(ws64, d64);
            const g64 = backward(ws64, d64, 'all');

            const ws32 = lstmWorkspace(T, B, D, H, Float32Array, path.options());
            ws32.h.set(d64.h0);
            ws32.c.set(d64.c0);
            const p32 = { W: to32(d64.W), U: to32(d64.U), b: to32(d64.b) };
            const x32 = to32(d64.x);
            lstmForward(ws32, p32, x32);
            const g32 = {
              dW: new Float32Array(D * 4 * H),
              dU: new Float32Array(H * 4 * H),
              db: new Float32Array(4 * H),
              dx: new Float32Array(T * B * D),
              dh0: new Float32Array(BH),
              dc0: new Float32Array(BH),
            };
            lstmBackward(g32, g32.dx, g32.dh0, g32.dc0, to32(d64.R), to32(d64.RhT), to32(d64.RcT), ws32, p32, x32);

            expectClose('h', ws32.h, ws64.h, 1e-4, 1e-2);
            expectClose('c', ws32.c, ws64.c, 1e-4, 1e-2);
            for (const k of ['dW', 'dU', 'db', 'dx', 'dh0', 'dc0'] as const) expectClose(k, g32[k], g64[k], 1e-4, 1e-2);
            if (impl.name === 'fast') expect(ws32.ops.name).to.equal(path.name);
          });
        }
    });

    describe('conventions', () => {
      it('adds into dW, dU, db; overwrites dx, dh0, dc0; resets its carried dh, dc', () => {
        const s = { T: 3, B: 2, D: 3, H: 4 };
        const d = makeData(s, makeRng('lstm-acc'));
        const ws = lstmWorkspace(s.T, s.B, s.D, s.H, Float64Array);
        forward(ws, d);
        const once = backward(ws, d, 'all');
        const g = backward(ws, d, 'all');
        g.dx.fill(123);
        g.dh0.fill(-7);
        g.dc0.fill(9);
        lstmBackward(g, g.dx, g.dh0, g.dc0, d.R, d.RhT, d.RcT, ws, params(d), d.x);
        expectClose(
          'dW',
          g.dW,
          once.dW.map((v) => 2 * v),
          1e-14,
        );
        expectClose(
          'dU',
          g.dU,
          once.dU.map((v) => 2 * v),
          1e-14,
        );
        expectClose(
          'db',
          g.db,
          once.db.map((v) => 2 * v),
          1e-14,
        );
        expectClose('dx', g.dx, once.dx, 1e-14);
        expectClose('dh0', g.dh0, once.dh0, 1e-14);
        expectClose('dc0', g.dc0, once.dc0, 1e-14);
      });

      it('treats null dhSeq/dhT/dcT as zero and skips dx when it is null', () => {
        const s = { T: 3, B: 2, D: 3, H: 4 };
        const d = makeData(s, makeRng('lstm-null'));
        const ws = lstmWorkspace(s.T, s.B, s.D, s.H, Float64Array);
        forward(ws, d);
        const zeros = { ...d, R: new Float64Array(d.R.length), RcT: new Float64Array(d.RcT.length) };
        const withZeros = backward(ws, zeros, 'all');
        const dW = new Float64Array(d.W.length),
          dU = new Float64Array(d.U.length),
          db = new Float64Array(d.b.length);
        const dh0 = new Float64Array(s.B * s.H),
          dc0 = new Float64Array(s.B * s.H);
        lstmBackward({ dW, dU, db }, null, dh0, dc0, null, d.RhT, null, ws, params(d), d.x);
        expectClose('dW', dW, withZeros.dW, 0);
        expectClose('dh0', dh0, withZeros.dh0, 0);
        expectClose('dc0', dc0, withZeros.dc0, 0);
        lstmBackward({ dW, dU, db }, null, dh0, dc0, null, null, null, ws, params(d), d.x);
        expect(Array.from(dh0).every((v) => v === 0) && Array.from(dc0).every((v) => v === 0)).to.equal(true);
      });
    });

    describe('argument checks', () => {
      const s = { T: 5, B: 3, D: 4, H: 7 };
      const { T, B, D, H } = s;
      const BH = B * H;
      const fresh = (): { ws: LstmWorkspace; d: Data; g: Grads } => {
        const d = makeData(s, makeRng('lstm-args'));
        const ws = lstmWorkspace(T, B, D, H, Float64Array);
        forward(ws, d);
        return { ws, d, g: backward(ws, d, 'all') };
      };

      const forwardArgs: [string, number, string][] = [
        ['x', T * B * D, 'T=5,B=3,D=4'],
        ['W', D * 4 * H, 'D=4,4H=28'],
        ['U', H * 4 * H, 'H=7,4H=28'],
        ['b', 4 * H, '4H=28'],
      ];
      for (const [arg, n, shape] of forwardArgs) {
        for (const delta of [-1, 1]) {
          it(`lstmForward rejects ${arg} with ${n + delta} elements`, () => {
            const { ws, d } = fresh();
            const bad = new Float64Array(n + delta);
            const p = { W: arg === 'W' ? bad : d.W, U: arg === 'U' ? bad : d.U, b: arg === 'b' ? bad : d.b };
            expect(() => lstmForward(ws, p, arg === 'x' ? bad : d.x)).to.throw(
              RangeError,
              `lstmForward(${arg}): expected ${n} elements [${shape}], got ${n + delta}`,
            );
          });
        }
      }

      const backwardArgs: [string, number][] = [
        ['dW', D * 4 * H],
        ['dU', H * 4 * H],
        ['db', 4 * H],
        ['dx', T * B * D],
        ['dh0', BH],
        ['dc0', BH],
        ['dhSeq', T * BH],
        ['dhT', BH],
        ['dcT', BH],
        ['x', T * B * D],
        ['W', D * 4 * H],
        ['U', H * 4 * H],
        ['b', 4 * H],
      ];
      for (const [arg, n] of backwardArgs) {
        it(`lstmBackward rejects ${arg} with ${n - 1} elements`, () => {
          const { ws, d, g } = fresh();
          const bad = new Float64Array(n - 1);
          const pick = (name: string, good: Float64Array): Float64Array => (name === arg ? bad : good);
          expect(() =>
            lstmBackward(
              { dW: pick('dW', g.dW), dU: pick('dU', g.dU), db: pick('db', g.db) },
              pick('dx', g.dx),
              pick('dh0', g.dh0),
              pick('dc0', g.dc0),
              pick('dhSeq', d.R),
              pick('dhT', d.RhT),
              pick('dcT', d.RcT),
              ws,
              { W: pick('W', d.W), U: pick('U', d.U), b: pick('b', d.b) },
              pick('x', d.x),
            ),
          ).to.throw(
            RangeError,
            new RegExp(`^lstmBackward\\(${arg}\\): expected ${n} elements \\[.*\\], got ${n - 1}$`),
          );
        });
      }

      it('lstmWorkspace rejects non-positive or fractional sizes, unknown activations and unknown options', () => {
        expect(() => lstmWorkspace(0, 1, 1, 1, Float64Array)).to.throw(
          RangeError,
          'lstmWorkspace(T): expected a positive integer',
        );
        expect(() => lstmWorkspace(1, 1.5, 1, 1, Float64Array)).to.throw(
          RangeError,
          'lstmWorkspace(B): expected a positive integer',
        );
        expect(() => lstmWorkspace(1, 1, -1, 1, Float64Array)).to.throw(
          RangeError,
          'lstmWorkspace(D): expected a positive integer',
        );
        expect(() => lstmWorkspace(1, 1, 1, NaN, Float64Array)).to.throw(
          RangeError,
          'lstmWorkspace(H): expected a positive integer',
        );
        expect(() => lstmWorkspace(1, 1, 1, 1, Float64Array, { activation: 'tanhh' })).to.throw(
          RangeError,
          /^activation:/,
        );
        expect(() => lstmWorkspace(1, 1, 1, 1, Float64Array, { recurrentActivation: 'softmax' })).to.throw(
          RangeError,
          /^recurrentActivation:/,
        );
        expect(() => lstmWorkspace(1, 1, 1, 1, Float64Array, { units: 3 } as unknown as LstmOptions)).to.throw(
          TypeError,
          'unknown option "units"',
        );
        const ws = lstmWorkspace(1, 1, 1, 1, Float32Array, {
          activation: 'hard_sigmoid',
          recurrentActivation: 'linear',
        });
        expect(ws.h).to.be.instanceOf(Float32Array);
      });
    });
  });

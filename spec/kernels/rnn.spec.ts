/**
 * Simple RNN kernel: forward against an independent per-element oracle and hand-computed cases; backward by central
 * differences for every element of W, U, b, x, h0; sequential equals batched; float32 agrees with float64;
 * the accumulate/overwrite conventions; length checks.
 */
import { expect } from 'chai';
import type { RnnOptions, RnnParams, RnnWorkspace } from '../../kernels/fast/rnn';
import { RNN_IMPLS } from '../helpers/cells';
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
  R: Float64Array; // [T,B,H] upstream dL/dh_t
  RhT: Float64Array; // [B,H] extra dL/dh_T
}

/** Naive RNN: h_t[b,j] = φ(b[j] + Σ_d x[b,d]·W[d,j] + Σ_m h_{t-1}[b,m]·U[m,j]); also the nearest approach to a kink. */
function refRnn(d: Data, act: ActName): { h: Float64Array; minKink: number; maxAbsZ: number } {
  const { T, B, D, H } = d;
  const h = new Float64Array((T + 1) * B * H);
  h.set(d.h0);
  let minKink = Infinity,
    maxAbsZ = 0;
  for (let t = 0; t < T; t++) {
    for (let bb = 0; bb < B; bb++) {
      for (let j = 0; j < H; j++) {
        let z = d.b[j];
        for (let e = 0; e < D; e++) z += d.x[(t * B + bb) * D + e] * d.W[e * H + j];
        for (let m = 0; m < H; m++) z += h[(t * B + bb) * H + m] * d.U[m * H + j];
        minKink = Math.min(minKink, kinkDistance(act, z));
        maxAbsZ = Math.max(maxAbsZ, Math.abs(z));
        h[((t + 1) * B + bb) * H + j] = f(act, z);
      }
    }
  }
  return { h, minKink, maxAbsZ };
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
    W: uniform64(D * H, rng, -wScale, wScale),
    U: uniform64(H * H, rng, -wScale, wScale),
    b: uniform64(H, rng, -wScale, wScale),
    x: uniform64(T * B * D, rng, -1, 1),
    h0: uniform64(B * H, rng, -0.8, 0.8),
    R: uniform64(T * B * H, rng, -1, 1),
    RhT: uniform64(B * H, rng, -1, 1),
  };
}

function params(d: Data): RnnParams {
  return { W: d.W, U: d.U, b: d.b };
}

function forward(ws: RnnWorkspace, d: Data): void {
  ws.h.set(d.h0, 0);
  rnnForward(ws, params(d), d.x);
}

type LossMode = 'all' | 'last';

/** L = Σ_t Σ h_t⊙R_t + Σ h_T⊙RhT   ('all'),   or   L = Σ h_T⊙RhT   ('last'). */
function loss(ws: RnnWorkspace, d: Data, mode: LossMode): number {
  const BH = d.B * d.H;
  let L = weightedSum(ws.h as Float64Array, d.RhT, d.T * BH);
  if (mode === 'all') L += weightedSum(ws.h as Float64Array, d.R, BH);
  return L;
}

interface Grads {
  dW: Float64Array;
  dU: Float64Array;
  db: Float64Array;
  dx: Float64Array;
  dh0: Float64Array;
}

function backward(ws: RnnWorkspace, d: Data, mode: LossMode): Grads {
  const { T, B, D, H } = d;
  const g: Grads = {
    dW: new Float64Array(D * H),
    dU: new Float64Array(H * H),
    db: new Float64Array(H),
    dx: new Float64Array(T * B * D),
    dh0: new Float64Array(B * H),
  };
  rnnBackward(g, g.dx, g.dh0, mode === 'all' ? d.R : null, d.RhT, ws, params(d), d.x);
  return g;
}

let maxRelSeen = 0;

// ---- Tests -----------------------------------------------------------------------------------------------------

// Every check below runs on both implementations: the reference cell (kernels/rnn.ts) and its fast twin
// (kernels/fast/rnn.ts, what lib runs); the functions are rebound before each implementation's tests.
let { rnnWorkspace, rnnForward, rnnBackward } = RNN_IMPLS[0];

for (const impl of RNN_IMPLS)
  describe(`kernels/rnn (${impl.name})`, () => {
    before(() => {
      ({ rnnWorkspace, rnnForward, rnnBackward } = impl);
    });
    after(() => {
      // One line for the record: the worst gradient-check relative error over this file.
      console.log(`      rnn gradient check: max relative error ${maxRelSeen.toExponential(2)}`);
    });

    describe('forward', () => {
      it('matches hand-written formulas for T=1, B=1, D=1, H=1 (forward and backward)', () => {
        const x = 0.7,
          W = 0.4,
          U = -0.3,
          b = 0.1,
          h0 = 0.25,
          r = 1.5;
        const h = Math.tanh(0.7 * 0.4 + 0.25 * -0.3 + 0.1);
        const ws = rnnWorkspace(1, 1, 1, 1, Float64Array);
        ws.h[0] = h0;
        const p = { W: Float64Array.of(W), U: Float64Array.of(U), b: Float64Array.of(b) };
        rnnForward(ws, p, Float64Array.of(x));
        expect(ws.h[1]).to.be.closeTo(h, 1e-15);

        // L = r·h_1:  dz = r·(1 − h²);  dW = dz·x;  dU = dz·h0;  db = dz;  dx = dz·W;  dh0 = dz·U.
        const dz = r * (1 - h * h);
        const dW = new Float64Array(1),
          dU = new Float64Array(1),
          db = new Float64Array(1);
        const dx = new Float64Array(1),
          dh0 = new Float64Array(1);
        rnnBackward({ dW, dU, db }, dx, dh0, Float64Array.of(r), null, ws, p, Float64Array.of(x));
        expectClose('dW', dW, [dz * x], 1e-15);
        expectClose('dU', dU, [dz * h0], 1e-15);
        expectClose('db', db, [dz], 1e-15);
        expectClose('dx', dx, [dz * W], 1e-15);
        expectClose('dh0', dh0, [dz * U], 1e-15);
      });

      it('matches hand-written formulas for T=2, B=2, D=1, H=1, relu', () => {
        // Two sequences (b = 0, 1) of two steps each; x is time-major [T,B,D]: x[t=0] = (0.5, -1), x[t=1] = (2, 0.3).
        const W = 0.8,
          U = 0.5,
          b = 0.2;
        const relu = (z: number): number => (z > 0 ? z : 0);
        const h1a = relu(0.5 * 0.8 + 0.1 * 0.5 + 0.2),
          h1b = relu(-1 * 0.8 + -0.4 * 0.5 + 0.2);
        const h2a = relu(2 * 0.8 + h1a * 0.5 + 0.2),
          h2b = relu(0.3 * 0.8 + h1b * 0.5 + 0.2);
        const ws = rnnWorkspace(2, 2, 1, 1, Float64Array, { activation: 'relu' });
        ws.h.set([0.1, -0.4]);
        rnnForward(
          ws,
          { W: Float64Array.of(W), U: Float64Array.of(U), b: Float64Array.of(b) },
          Float64Array.of(0.5, -1, 2, 0.3),
        );
        expect(h1b).to.equal(0); // the second sequence goes through the flat side of relu at step 1
        expectClose('h', ws.h, [0.1, -0.4, h1a, h1b, h2a, h2b], 1e-15);
      });

      const shapes: Shape[] = [
        { T: 1, B: 1, D: 1, H: 1 },
        { T: 5, B: 3, D: 4, H: 7 },
        { T: 4, B: 2, D: 3, H: 2 },
        { T: 3, B: 5, D: 6, H: 9 },
      ];
      for (const s of shapes) {
        for (const act of ['tanh', 'relu', 'hardSigmoid', 'linear'] as ActName[]) {
          it(`matches the per-element oracle for T=${s.T}, B=${s.B}, D=${s.D}, H=${s.H}, ${act}`, () => {
            const d = makeData(s, makeRng(`rnn-ref-${s.T}-${s.B}-${s.D}-${s.H}-${act}`), 0.3);
            const ws = rnnWorkspace(s.T, s.B, s.D, s.H, Float64Array, { activation: act });
            forward(ws, d);
            expectClose('h', ws.h, refRnn(d, act).h, 1e-12);
          });
        }
      }

      it('reads only block 0 of h: stale scratch from earlier calls does not leak in', () => {
        const s = { T: 4, B: 3, D: 2, H: 5 };
        const d = makeData(s, makeRng('rnn-stale'));
        const fresh = rnnWorkspace(s.T, s.B, s.D, s.H, Float64Array);
        forward(fresh, d);
        const used = rnnWorkspace(s.T, s.B, s.D, s.H, Float64Array);
        for (const buf of [used.h, used.dz, used.dh]) buf.fill(NaN);
        forward(used, d);
        expect(Array.from(used.h)).to.deep.equal(Array.from(fresh.h));
      });

      it('starts from zero state after allocation', () => {
        const ws = rnnWorkspace(2, 2, 3, 4, Float64Array);
        expect(Array.from(ws.h).every((v) => v === 0)).to.equal(true);
      });
    });

    describe('gradient check (float64, central differences, every element of W, U, b, x, h0)', () => {
      interface GcCase extends Shape {
        act: ActName;
        mode: LossMode;
      }
      const cases: GcCase[] = [];
      for (const s of [
        { T: 1, B: 1, D: 1, H: 1 },
        { T: 5, B: 3, D: 4, H: 7 },
        { T: 4, B: 2, D: 3, H: 2 },
        { T: 3, B: 5, D: 6, H: 9 },
      ]) {
        for (const mode of ['all', 'last'] as LossMode[]) cases.push({ ...s, act: 'tanh', mode });
      }
      for (const act of ['sigmoid', 'hardSigmoid', 'relu', 'linear'] as ActName[]) {
        for (const mode of ['all', 'last'] as LossMode[]) cases.push({ T: 5, B: 3, D: 4, H: 7, act, mode });
      }

      for (const k of cases) {
        const label = `T=${k.T}, B=${k.B}, D=${k.D}, H=${k.H}, ${k.act}, loss on ${k.mode === 'all' ? 'every step + h_T' : 'h_T only'}`;
        it(label, () => {
          // Smaller weights for hardSigmoid so that 0.2z+0.5 stays strictly inside (0, 1); checked below.
          const d = makeData(k, makeRng(`rnn-gc-${label}`), k.act === 'hardSigmoid' ? 0.3 : 0.5);
          const ref = refRnn(d, k.act);
          expect(ref.minKink, 'distance of the nearest pre-activation to a kink').to.be.greaterThan(KINK_MARGIN);
          if (k.act === 'hardSigmoid')
            expect(ref.maxAbsZ, 'max |z| into hardSigmoid').to.be.lessThan(2.5 - KINK_MARGIN);

          const ws = rnnWorkspace(k.T, k.B, k.D, k.H, Float64Array, { activation: k.act });
          forward(ws, d);
          expectClose('h vs oracle', ws.h, ref.h, 1e-12);
          const g = backward(ws, d, k.mode);
          const { maxRel, checked } = gradCheck(
            { W: d.W, U: d.U, b: d.b, x: d.x, h0: d.h0 },
            { W: g.dW, U: g.dU, b: g.db, x: g.dx, h0: g.dh0 },
            () => {
              forward(ws, d);
              return loss(ws, d, k.mode);
            },
          );
          expect(checked).to.equal(d.W.length + d.U.length + d.b.length + d.x.length + d.h0.length);
          maxRelSeen = Math.max(maxRelSeen, maxRel);
        });
      }
    });

    describe('sequential equals batched (float64, 1e-12)', () => {
      for (const act of ['tanh', 'relu'] as ActName[]) {
        it(`T one-step calls chained through h and dh match one T-step call, ${act}`, () => {
          const s = { T: 5, B: 3, D: 4, H: 7 };
          const { T, B, D, H } = s;
          const BH = B * H;
          const opts: RnnOptions = { activation: act };
          const d = makeData(s, makeRng(`rnn-seq-${act}`));
          const p = params(d);

          const full = rnnWorkspace(T, B, D, H, Float64Array, opts);
          forward(full, d);
          const gFull = backward(full, d, 'all');

          const steps = Array.from({ length: T }, () => rnnWorkspace(1, B, D, H, Float64Array, opts));
          steps[0].h.set(d.h0);
          for (let t = 0; t < T; t++) {
            const ws = steps[t];
            if (t > 0) ws.h.set(steps[t - 1].h.subarray(BH));
            rnnForward(ws, p, d.x.subarray(t * B * D, (t + 1) * B * D));
            expectClose(`h_${t + 1}`, ws.h.subarray(BH), full.h.subarray((t + 1) * BH, (t + 2) * BH), 1e-12);
          }

          const dW = new Float64Array(D * H),
            dU = new Float64Array(H * H),
            db = new Float64Array(H);
          const dx = new Float64Array(T * B * D);
          let dhNext = d.RhT;
          for (let t = T - 1; t >= 0; t--) {
            const dh0 = new Float64Array(BH);
            rnnBackward(
              { dW, dU, db },
              dx.subarray(t * B * D, (t + 1) * B * D),
              dh0,
              d.R.subarray(t * BH, (t + 1) * BH),
              dhNext,
              steps[t],
              p,
              d.x.subarray(t * B * D, (t + 1) * B * D),
            );
            dhNext = dh0;
          }
          expectClose('dW', dW, gFull.dW, 1e-12);
          expectClose('dU', dU, gFull.dU, 1e-12);
          expectClose('db', db, gFull.db, 1e-12);
          expectClose('dx', dx, gFull.dx, 1e-12);
          expectClose('dh0', dhNext, gFull.dh0, 1e-12);
        });
      }
    });

    describe('float32 agrees with float64', () => {
      // Values are O(1); the floor 1e-2 keeps float32 round-off in small entries (where terms of size ~1 cancel) from
      // counting as relative error. Over 50 seeds the worst scaled error was ~4e-5; this seed gives ~6e-6.
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
            const d64 = makeData(s, makeRng('rnn-f32'));
            for (const k of ['W', 'U', 'b', 'x', 'h0', 'R', 'RhT'] as const) d64[k].set(Float32Array.from(d64[k]));
            const to32 = (a: Float64Array): Float32Array => Float32Array.from(a);

            const ws64 = rnnWorkspace(T, B, D, H, Float64Array);
            forward(ws64, d64);
            const g64 = backward(ws64, d64, 'all');

            const ws32 = rnnWorkspace(T, B, D, H, Float32Array, path.options());
            ws32.h.set(d64.h0);
            const p32 = { W: to32(d64.W), U: to32(d64.U), b: to32(d64.b) };
            const x32 = to32(d64.x);
            rnnForward(ws32, p32, x32);
            const g32 = {
              dW: new Float32Array(D * H),
              dU: new Float32Array(H * H),
              db: new Float32Array(H),
              dx: new Float32Array(T * B * D),
              dh0: new Float32Array(BH),
            };
            rnnBackward(g32, g32.dx, g32.dh0, to32(d64.R), to32(d64.RhT), ws32, p32, x32);

            expectClose('h', ws32.h, ws64.h, 1e-4, 1e-2);
            for (const k of ['dW', 'dU', 'db', 'dx', 'dh0'] as const) expectClose(k, g32[k], g64[k], 1e-4, 1e-2);
            if (impl.name === 'fast') expect(ws32.ops.name).to.equal(path.name);
          });
        }
    });

    describe('conventions', () => {
      it('adds into dW, dU, db; overwrites dx, dh0; resets its carried dh', () => {
        const s = { T: 3, B: 2, D: 3, H: 4 };
        const d = makeData(s, makeRng('rnn-acc'));
        const ws = rnnWorkspace(s.T, s.B, s.D, s.H, Float64Array);
        forward(ws, d);
        const once = backward(ws, d, 'all');
        const g = backward(ws, d, 'all');
        g.dx.fill(123);
        g.dh0.fill(-7);
        rnnBackward(g, g.dx, g.dh0, d.R, d.RhT, ws, params(d), d.x);
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
      });

      it('treats null dhSeq/dhT as zero and skips dx when it is null', () => {
        const s = { T: 3, B: 2, D: 3, H: 4 };
        const d = makeData(s, makeRng('rnn-null'));
        const ws = rnnWorkspace(s.T, s.B, s.D, s.H, Float64Array);
        forward(ws, d);
        const withZeros = backward(ws, { ...d, R: new Float64Array(d.R.length) }, 'all');
        const dW = new Float64Array(d.W.length),
          dU = new Float64Array(d.U.length),
          db = new Float64Array(d.b.length);
        const dh0 = new Float64Array(s.B * s.H);
        rnnBackward({ dW, dU, db }, null, dh0, null, d.RhT, ws, params(d), d.x);
        expectClose('dW', dW, withZeros.dW, 0);
        expectClose('dh0', dh0, withZeros.dh0, 0);
        rnnBackward({ dW, dU, db }, null, dh0, null, null, ws, params(d), d.x);
        expect(Array.from(dh0).every((v) => v === 0)).to.equal(true);
      });
    });

    describe('argument checks', () => {
      const s = { T: 5, B: 3, D: 4, H: 7 };
      const { T, B, D, H } = s;
      const BH = B * H;
      const fresh = (): { ws: RnnWorkspace; d: Data; g: Grads } => {
        const d = makeData(s, makeRng('rnn-args'));
        const ws = rnnWorkspace(T, B, D, H, Float64Array);
        forward(ws, d);
        return { ws, d, g: backward(ws, d, 'all') };
      };

      const forwardArgs: [string, number, string][] = [
        ['x', T * B * D, 'T=5,B=3,D=4'],
        ['W', D * H, 'D=4,H=7'],
        ['U', H * H, 'H=7,H=7'],
        ['b', H, 'H=7'],
      ];
      for (const [arg, n, shape] of forwardArgs) {
        for (const delta of [-1, 1]) {
          it(`rnnForward rejects ${arg} with ${n + delta} elements`, () => {
            const { ws, d } = fresh();
            const bad = new Float64Array(n + delta);
            const p = { W: arg === 'W' ? bad : d.W, U: arg === 'U' ? bad : d.U, b: arg === 'b' ? bad : d.b };
            expect(() => rnnForward(ws, p, arg === 'x' ? bad : d.x)).to.throw(
              RangeError,
              `rnnForward(${arg}): expected ${n} elements [${shape}], got ${n + delta}`,
            );
          });
        }
      }

      const backwardArgs: [string, number][] = [
        ['dW', D * H],
        ['dU', H * H],
        ['db', H],
        ['dx', T * B * D],
        ['dh0', BH],
        ['dhSeq', T * BH],
        ['dhT', BH],
        ['x', T * B * D],
        ['W', D * H],
        ['U', H * H],
        ['b', H],
      ];
      for (const [arg, n] of backwardArgs) {
        it(`rnnBackward rejects ${arg} with ${n - 1} elements`, () => {
          const { ws, d, g } = fresh();
          const bad = new Float64Array(n - 1);
          const pick = (name: string, good: Float64Array): Float64Array => (name === arg ? bad : good);
          expect(() =>
            rnnBackward(
              { dW: pick('dW', g.dW), dU: pick('dU', g.dU), db: pick('db', g.db) },
              pick('dx', g.dx),
              pick('dh0', g.dh0),
              pick('dhSeq', d.R),
              pick('dhT', d.RhT),
              ws,
              { W: pick('W', d.W), U: pick('U', d.U), b: pick('b', d.b) },
              pick('x', d.x),
            ),
          ).to.throw(
            RangeError,
            new RegExp(`^rnnBackward\\(${arg}\\): expected ${n} elements \\[.*\\], got ${n - 1}$`),
          );
        });
      }

      it('rnnWorkspace rejects non-positive or fractional sizes, unknown activations and unknown options', () => {
        expect(() => rnnWorkspace(0, 1, 1, 1, Float64Array)).to.throw(
          RangeError,
          'rnnWorkspace(T): expected a positive integer',
        );
        expect(() => rnnWorkspace(1, 1.5, 1, 1, Float64Array)).to.throw(
          RangeError,
          'rnnWorkspace(B): expected a positive integer',
        );
        expect(() => rnnWorkspace(1, 1, -1, 1, Float64Array)).to.throw(
          RangeError,
          'rnnWorkspace(D): expected a positive integer',
        );
        expect(() => rnnWorkspace(1, 1, 1, NaN, Float64Array)).to.throw(
          RangeError,
          'rnnWorkspace(H): expected a positive integer',
        );
        expect(() => rnnWorkspace(1, 1, 1, 1, Float64Array, { activation: 'tanhh' })).to.throw(
          RangeError,
          /^activation:/,
        );
        expect(() =>
          rnnWorkspace(1, 1, 1, 1, Float64Array, { recurrentActivation: 'sigmoid' } as unknown as RnnOptions),
        ).to.throw(TypeError, 'unknown option "recurrentActivation"');
        const ws = rnnWorkspace(1, 1, 1, 1, Float32Array, { activation: 'hard_sigmoid' });
        expect(ws.h).to.be.instanceOf(Float32Array);
      });
    });
  });

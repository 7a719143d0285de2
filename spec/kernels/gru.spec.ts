import { expect } from 'chai';
import { Act } from '../../kernels/activations';
import { gruBiasLength } from '../../kernels/gru';
import type { GruGrads, GruParams, GruWorkspace } from '../../kernels/fast/gru';
import { GRU_IMPLS } from '../helpers/cells';
import { gradCheck, weightedSum } from '../helpers/gradcheck';
import { makeRng, type Rng, uniform64 } from '../helpers/rng';

// ---------------------------------------------------------------------------------------------------------------------
// Oracle: a scalar-loop GRU written straight from the Keras GRUCell equations (no matmul.ts, no activations.ts), which
// also returns every pre-activation so the tests can prove they stay off the kinks of relu and hardSigmoid.
// ---------------------------------------------------------------------------------------------------------------------

type Fn = (v: number) => number;
const FNS: Record<string, Fn> = {
  tanh: Math.tanh,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  hardSigmoid: (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5)),
  relu: (v) => Math.max(0, v),
  linear: (v) => v,
};

interface Dims {
  T: number;
  B: number;
  D: number;
  H: number;
}

interface NaiveOut {
  h: Float64Array;
  preGate: number[];
  preCand: number[];
}

function naiveGru(
  d: Dims,
  resetAfter: boolean,
  actName: string,
  recName: string,
  W: ArrayLike<number>,
  U: ArrayLike<number>,
  b: ArrayLike<number>,
  x: ArrayLike<number>,
  h0: ArrayLike<number>,
): NaiveOut {
  const { T, B, D, H } = d,
    G = 3 * H;
  const phi = FNS[actName],
    sig = FNS[recName];
  const h = new Float64Array((T + 1) * B * H);
  for (let i = 0; i < B * H; i++) h[i] = h0[i];
  const preGate: number[] = [],
    preCand: number[] = [];
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < B; n++) {
      const hp = (k: number): number => h[(t * B + n) * H + k];
      const xv = (k: number): number => x[(t * B + n) * D + k];
      // xw[c] = Σ_k x_k W[k,c] + b_x[c]
      const xw = new Float64Array(G),
        hu = new Float64Array(G);
      for (let c = 0; c < G; c++) {
        let s = b[c];
        for (let k = 0; k < D; k++) s += xv(k) * W[k * G + c];
        xw[c] = s;
        let u = resetAfter ? b[G + c] : 0;
        for (let k = 0; k < H; k++) u += hp(k) * U[k * G + c];
        hu[c] = u; // h_{t-1}·U (+ b_r when resetAfter)
      }
      const z: number[] = [],
        r: number[] = [];
      for (let j = 0; j < H; j++) {
        const pz = xw[j] + hu[j],
          pr = xw[H + j] + hu[H + j];
        preGate.push(pz, pr);
        z.push(sig(pz));
        r.push(sig(pr));
      }
      for (let j = 0; j < H; j++) {
        let rec: number;
        if (resetAfter) {
          rec = r[j] * hu[2 * H + j];
        } else {
          rec = 0;
          for (let k = 0; k < H; k++) rec += r[k] * hp(k) * U[k * G + 2 * H + j];
        }
        const pc = xw[2 * H + j] + rec;
        preCand.push(pc);
        const zj = z[j];
        h[((t + 1) * B + n) * H + j] = zj * hp(j) + (1 - zj) * phi(pc);
      }
    }
  }
  return { h, preGate, preCand };
}

// ---------------------------------------------------------------------------------------------------------------------
// Small harness around the kernels.
// ---------------------------------------------------------------------------------------------------------------------

interface Problem<A extends Float32Array | Float64Array> {
  d: Dims;
  p: GruParams & { W: A; U: A; b: A };
  x: A;
  h0: A;
}

function randomProblem(d: Dims, resetAfter: boolean, rng: Rng, scale = 1): Problem<Float64Array> {
  const { T, B, D, H } = d;
  return {
    d,
    p: {
      W: uniform64(D * 3 * H, rng, -scale, scale),
      U: uniform64(H * 3 * H, rng, -scale, scale),
      b: uniform64(gruBiasLength(H, resetAfter), rng, -scale, scale),
    },
    x: uniform64(T * B * D, rng),
    h0: uniform64(B * H, rng),
  };
}

function zeroGrads(ctor: Float32ArrayConstructor | Float64ArrayConstructor, d: Dims, resetAfter: boolean): GruGrads {
  return {
    dW: new ctor(d.D * 3 * d.H),
    dU: new ctor(d.H * 3 * d.H),
    db: new ctor(gruBiasLength(d.H, resetAfter)),
  };
}

function runForward(ws: GruWorkspace, p: GruParams, x: Float32Array | Float64Array, h0: ArrayLike<number>): void {
  ws.h.set(h0, 0);
  gruForward(ws, p, x);
}

/** Max over elements of |a−b| / max(|b|, 1). */
function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1);
    if (!(e <= m)) m = e; // NaN propagates as a failure
  }
  return m;
}

/** ‖a−b‖∞ / ‖b‖∞: relative error of a whole tensor. */
function normRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (!(e <= num)) num = e;
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-300);
}

function fillNaN<A extends Float32Array | Float64Array>(a: A): A {
  a.fill(NaN);
  return a;
}

// ---------------------------------------------------------------------------------------------------------------------

const VARIANTS = [
  { resetAfter: false, label: 'classic (resetAfter=false)' },
  { resetAfter: true, label: 'resetAfter=true' },
] as const;

interface Case {
  d: Dims;
  act: string;
  rec: string;
  lastOnly: boolean;
  scale: number;
}
const CASES: Case[] = [
  { d: { T: 1, B: 1, D: 1, H: 1 }, act: 'tanh', rec: 'sigmoid', lastOnly: false, scale: 1 },
  { d: { T: 5, B: 3, D: 4, H: 7 }, act: 'tanh', rec: 'sigmoid', lastOnly: false, scale: 1 },
  { d: { T: 4, B: 2, D: 3, H: 2 }, act: 'tanh', rec: 'sigmoid', lastOnly: true, scale: 1 },
  { d: { T: 5, B: 3, D: 4, H: 7 }, act: 'linear', rec: 'sigmoid', lastOnly: false, scale: 1 },
  { d: { T: 4, B: 2, D: 3, H: 2 }, act: 'relu', rec: 'sigmoid', lastOnly: false, scale: 1 },
  { d: { T: 5, B: 3, D: 4, H: 7 }, act: 'relu', rec: 'sigmoid', lastOnly: true, scale: 1 },
  { d: { T: 5, B: 3, D: 4, H: 7 }, act: 'tanh', rec: 'hardSigmoid', lastOnly: false, scale: 0.4 },
  { d: { T: 4, B: 2, D: 3, H: 2 }, act: 'linear', rec: 'hardSigmoid', lastOnly: true, scale: 0.4 },
  { d: { T: 1, B: 1, D: 1, H: 1 }, act: 'relu', rec: 'hardSigmoid', lastOnly: false, scale: 0.4 },
];

const KINK = 1e-3; // pre-activations must be at least this far from a kink (eps = 1e-5 moves them by far less)

// Every check below runs on both implementations: the reference cell (kernels/gru.ts) and its fast twin
// (kernels/fast/gru.ts, what lib runs); the functions are rebound before each implementation's tests.
let { gruWorkspace, gruForward, gruBackward } = GRU_IMPLS[0];

for (const impl of GRU_IMPLS)
  describe(`kernels/gru (${impl.name})`, () => {
    before(() => {
      ({ gruWorkspace, gruForward, gruBackward } = impl);
    });
    describe('workspace and options', () => {
      it('defaults to Keras 2: resetAfter true, tanh, sigmoid; bias lengths 3H / 6H', () => {
        const ws = gruWorkspace(2, 3, 4, 5, Float64Array);
        expect(ws.resetAfter).to.equal(true);
        expect(ws.act).to.equal(Act.Tanh);
        expect(ws.recAct).to.equal(Act.Sigmoid);
        expect(ws.h.length).to.equal(3 * 3 * 5);
        expect(ws.a.length).to.equal(2 * 3 * 15);
        expect(ws.innerH.length).to.equal(2 * 3 * 5);
        expect(ws.rh.length).to.equal(0);
        expect(gruBiasLength(5, false)).to.equal(15);
        expect(gruBiasLength(5, true)).to.equal(30);
        const classic = gruWorkspace(2, 3, 4, 5, Float32Array, {
          resetAfter: false,
          recurrentActivation: 'hard_sigmoid',
        });
        expect(classic.resetAfter).to.equal(false);
        expect(classic.recAct).to.equal(Act.HardSigmoid);
        expect(classic.h).to.be.instanceOf(Float32Array);
        expect(classic.rh.length).to.equal(2 * 3 * 5);
        expect(classic.dInner.length).to.equal(0);
      });

      it('rejects bad activation names, unknown options and bad sizes by name', () => {
        expect(() => gruWorkspace(1, 1, 1, 1, Float64Array, { activation: 'tanhh' })).to.throw(
          RangeError,
          /^activation: .*"tanhh"/,
        );
        expect(() => gruWorkspace(1, 1, 1, 1, Float64Array, { recurrentActivation: 'softmax' })).to.throw(
          RangeError,
          /^recurrentActivation: .*"softmax"/,
        );
        expect(() =>
          gruWorkspace(1, 1, 1, 1, Float64Array, { reset_after: false } as unknown as { resetAfter: boolean }),
        ).to.throw(TypeError, /unknown option "reset_after"/);
        expect(() =>
          gruWorkspace(1, 1, 1, 1, Float64Array, { resetAfter: 'no' } as unknown as { resetAfter: boolean }),
        ).to.throw(RangeError, /^resetAfter: expected a boolean/);
        expect(() => gruWorkspace(1, 0, 1, 1, Float64Array)).to.throw(RangeError, /gruWorkspace\(B\)/);
        expect(() => gruWorkspace(1.5, 1, 1, 1, Float64Array)).to.throw(RangeError, /gruWorkspace\(T\)/);
      });
    });

    for (const { resetAfter, label } of VARIANTS) {
      describe(label, () => {
        it('forward matches the scalar-loop oracle (f64, ≤ 1e-12)', () => {
          const rng = makeRng(`gru-oracle-${resetAfter}`);
          for (const { d, act, rec, scale } of CASES) {
            const pr = randomProblem(d, resetAfter, rng, scale);
            const ws = gruWorkspace(d.T, d.B, d.D, d.H, Float64Array, {
              activation: act,
              recurrentActivation: rec,
              resetAfter,
            });
            runForward(ws, pr.p, pr.x, pr.h0);
            const ref = naiveGru(d, resetAfter, act, rec, pr.p.W, pr.p.U, pr.p.b, pr.x, pr.h0);
            expect(maxErr(ws.h, ref.h), `h for ${JSON.stringify(d)} ${act}/${rec}`).to.be.at.most(1e-12);
          }
        });

        it('hand-computed T=B=D=H=1 step: h1 and every gradient', () => {
          const x = 0.7,
            h0 = -0.4,
            g = 1.3; // dL/dh1 = g
          const W = [0.5, -0.8, 1.1],
            U = [0.9, 0.3, -1.2];
          const b = resetAfter ? [0.1, -0.2, 0.3, -0.05, 0.15, 0.4] : [0.1, -0.2, 0.3];
          const sig = (v: number): number => 1 / (1 + Math.exp(-v));
          let z: number, r: number, hh: number, dzz: number, dzr: number, dzh: number, dh0: number;
          let dU: number[], db: number[];
          if (!resetAfter) {
            z = sig(x * 0.5 + h0 * 0.9 + 0.1);
            r = sig(x * -0.8 + h0 * 0.3 + -0.2);
            hh = Math.tanh(x * 1.1 + r * h0 * -1.2 + 0.3);
            dzh = g * (1 - z) * (1 - hh * hh);
            const drh = dzh * -1.2; // d/d(r·h0)
            dzr = drh * h0 * r * (1 - r);
            dzz = g * (h0 - hh) * z * (1 - z);
            dh0 = g * z + drh * r + dzz * 0.9 + dzr * 0.3;
            dU = [h0 * dzz, h0 * dzr, r * h0 * dzh];
            db = [dzz, dzr, dzh];
          } else {
            const iz = h0 * 0.9 + -0.05,
              ir = h0 * 0.3 + 0.15,
              ih = h0 * -1.2 + 0.4;
            z = sig(x * 0.5 + 0.1 + iz);
            r = sig(x * -0.8 + -0.2 + ir);
            hh = Math.tanh(x * 1.1 + 0.3 + r * ih);
            dzh = g * (1 - z) * (1 - hh * hh);
            dzr = dzh * ih * r * (1 - r);
            dzz = g * (h0 - hh) * z * (1 - z);
            const dih = dzh * r;
            dh0 = g * z + dzz * 0.9 + dzr * 0.3 + dih * -1.2;
            dU = [h0 * dzz, h0 * dzr, h0 * dih];
            db = [dzz, dzr, dzh, dzz, dzr, dih];
          }
          const h1 = z * h0 + (1 - z) * hh;
          const dW = [x * dzz, x * dzr, x * dzh];
          const dx = dzz * 0.5 + dzr * -0.8 + dzh * 1.1;

          const ws = gruWorkspace(1, 1, 1, 1, Float64Array, { resetAfter });
          const p = { W: Float64Array.from(W), U: Float64Array.from(U), b: Float64Array.from(b) };
          const xa = Float64Array.of(x);
          runForward(ws, p, xa, [h0]);
          const close = (got: number, want: number, what: string): void => {
            expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).to.be.at.most(
              1e-14 * Math.max(1, Math.abs(want)),
            );
          };
          close(ws.h[1], h1, 'h1');
          close(ws.a[0], z, 'z');
          close(ws.a[1], r, 'r');
          close(ws.a[2], hh, 'h̃');
          const gr = zeroGrads(Float64Array, { T: 1, B: 1, D: 1, H: 1 }, resetAfter);
          const dxa = new Float64Array(1),
            dh0a = new Float64Array(1);
          gruBackward(gr, dxa, dh0a, null, Float64Array.of(g), ws, p, xa);
          close(dxa[0], dx, 'dx');
          close(dh0a[0], dh0, 'dh0');
          dW.forEach((v, i) => close(gr.dW[i], v, `dW[${i}]`));
          dU.forEach((v, i) => close(gr.dU[i], v, `dU[${i}]`));
          db.forEach((v, i) => close(gr.db[i], v, `db[${i}]`));
        });

        for (const { d, act, rec, lastOnly, scale } of CASES) {
          const title =
            `gradient check (f64) T=${d.T} B=${d.B} D=${d.D} H=${d.H} ${act}/${rec}` +
            (lastOnly ? ', loss on the last step only' : ', loss on every step + dhT');
          it(title, () => {
            const rng = makeRng(`gru-grad-${resetAfter}-${JSON.stringify(d)}-${act}-${rec}-${lastOnly}`);
            const { T, B, D, H } = d,
              BH = B * H;
            const pr = randomProblem(d, resetAfter, rng, scale);
            const R = lastOnly ? null : uniform64(T * BH, rng);
            const RT = uniform64(BH, rng);

            // Off-kink: relu candidates and hardSigmoid gates stay clear of their kinks (checked on the oracle).
            const ref = naiveGru(d, resetAfter, act, rec, pr.p.W, pr.p.U, pr.p.b, pr.x, pr.h0);
            if (act === 'relu') {
              for (const v of ref.preCand) expect(Math.abs(v), 'relu pre-activation off the kink').to.be.above(KINK);
              if (ref.preCand.length >= 4) {
                expect(
                  ref.preCand.some((v) => v > 0) && ref.preCand.some((v) => v < 0),
                  'relu: both sides exercised',
                ).to.equal(true);
              }
            }
            if (rec === 'hardSigmoid') {
              for (const v of ref.preGate)
                expect(Math.abs(v), 'hardSigmoid pre-activation inside (−2.5, 2.5)').to.be.below(2.5 - KINK);
            }

            const ws = gruWorkspace(T, B, D, H, Float64Array, {
              activation: act,
              recurrentActivation: rec,
              resetAfter,
            });
            const loss = (): number => {
              runForward(ws, pr.p, pr.x, pr.h0);
              const h = ws.h as Float64Array;
              let L = weightedSum(h, RT, T * BH, BH);
              if (R !== null) L += weightedSum(h, R, BH, T * BH);
              return L;
            };
            loss();
            const gr = zeroGrads(Float64Array, d, resetAfter) as GruGrads & {
              dW: Float64Array;
              dU: Float64Array;
              db: Float64Array;
            };
            const dx = fillNaN(new Float64Array(T * B * D)),
              dh0 = fillNaN(new Float64Array(BH)); // must be overwritten
            gruBackward(gr, dx, dh0, R, RT, ws, pr.p, pr.x);
            const { maxRel, checked } = gradCheck(
              { W: pr.p.W, U: pr.p.U, b: pr.p.b, x: pr.x, h0: pr.h0 },
              { W: gr.dW, U: gr.dU, b: gr.db, x: dx, h0: dh0 },
              loss,
              { eps: 1e-5, tol: 1e-6 },
            );
            expect(checked).to.equal(pr.p.W.length + pr.p.U.length + pr.p.b.length + pr.x.length + pr.h0.length);
            expect(maxRel).to.be.at.most(1e-6);
          });
        }

        it('sequential equals batched: T one-step calls chained through h0 and dh0→dhT match one T-step call (≤ 1e-12)', () => {
          const rng = makeRng(`gru-seq-${resetAfter}`);
          const d = { T: 5, B: 3, D: 4, H: 7 },
            { T, B, D, H } = d,
            BH = B * H;
          const pr = randomProblem(d, resetAfter, rng);
          const R = uniform64(T * BH, rng),
            RT = uniform64(BH, rng);

          const ws = gruWorkspace(T, B, D, H, Float64Array, { resetAfter });
          runForward(ws, pr.p, pr.x, pr.h0);
          const gAll = zeroGrads(Float64Array, d, resetAfter);
          const dxAll = new Float64Array(T * B * D),
            dh0All = new Float64Array(BH);
          gruBackward(gAll, dxAll, dh0All, R, RT, ws, pr.p, pr.x);

          const steps: GruWorkspace[] = [];
          const xs: Float64Array[] = [];
          for (let t = 0; t < T; t++) {
            const w1 = gruWorkspace(1, B, D, H, Float64Array, { resetAfter });
            const xt = pr.x.slice(t * B * D, (t + 1) * B * D);
            runForward(w1, pr.p, xt, t === 0 ? pr.h0 : steps[t - 1].h.subarray(BH, 2 * BH));
            expect(
              maxErr(w1.h.subarray(BH), ws.h.subarray((t + 1) * BH, (t + 2) * BH)),
              `h at step ${t}`,
            ).to.be.at.most(1e-12);
            steps.push(w1);
            xs.push(xt);
          }
          const gSeq = zeroGrads(Float64Array, d, resetAfter); // accumulated (+=) across the T calls
          let carried: Float64Array = RT.slice();
          for (let t = T - 1; t >= 0; t--) {
            const dxt = new Float64Array(B * D),
              dh0t = new Float64Array(BH);
            gruBackward(gSeq, dxt, dh0t, R.slice(t * BH, (t + 1) * BH), carried, steps[t], pr.p, xs[t]);
            expect(maxErr(dxt, dxAll.subarray(t * B * D, (t + 1) * B * D)), `dx at step ${t}`).to.be.at.most(1e-12);
            carried = dh0t;
          }
          expect(maxErr(carried, dh0All), 'dh0').to.be.at.most(1e-12);
          expect(maxErr(gSeq.dW, gAll.dW), 'dW').to.be.at.most(1e-12);
          expect(maxErr(gSeq.dU, gAll.dU), 'dU').to.be.at.most(1e-12);
          expect(maxErr(gSeq.db, gAll.db), 'db').to.be.at.most(1e-12);
        });

        it('parameter gradients accumulate (+=), dx and dh0 are overwritten, dhSeq/dhT/dx may be null', () => {
          const rng = makeRng(`gru-acc-${resetAfter}`);
          const d = { T: 3, B: 2, D: 3, H: 4 },
            { T, B, D, H } = d;
          const pr = randomProblem(d, resetAfter, rng);
          const RT = uniform64(B * H, rng);
          const ws = gruWorkspace(T, B, D, H, Float64Array, { resetAfter });
          runForward(ws, pr.p, pr.x, pr.h0);
          const g1 = zeroGrads(Float64Array, d, resetAfter),
            g2 = zeroGrads(Float64Array, d, resetAfter);
          const dx1 = new Float64Array(T * B * D),
            dh01 = new Float64Array(B * H);
          gruBackward(g1, dx1, dh01, null, RT, ws, pr.p, pr.x);
          const dx2 = uniform64(T * B * D, rng),
            dh02 = uniform64(B * H, rng);
          gruBackward(g2, dx2, dh02, null, RT, ws, pr.p, pr.x);
          gruBackward(g2, null, dh02, null, RT, ws, pr.p, pr.x);
          const twice = (a: Float64Array): Float64Array => a.map((v) => 2 * v);
          expect(maxErr(g2.dW, twice(g1.dW as Float64Array))).to.be.at.most(1e-15);
          expect(maxErr(g2.dU, twice(g1.dU as Float64Array))).to.be.at.most(1e-15);
          expect(maxErr(g2.db, twice(g1.db as Float64Array))).to.be.at.most(1e-15);
          expect(maxErr(dx2, dx1)).to.equal(0);
          expect(maxErr(dh02, dh01)).to.equal(0);
          // No upstream gradient at all: every gradient is zero.
          const g0 = zeroGrads(Float64Array, d, resetAfter),
            dh00 = uniform64(B * H, rng);
          gruBackward(g0, null, dh00, null, null, ws, pr.p, pr.x);
          for (const a of [g0.dW, g0.dU, g0.db, dh00]) expect(Array.from(a).every((v) => v === 0)).to.equal(true);
          // dhT given as part of dhSeq's last block is the same as given as dhT.
          const Rlast = new Float64Array(T * B * H);
          Rlast.set(RT, (T - 1) * B * H);
          const g3 = zeroGrads(Float64Array, d, resetAfter),
            dx3 = new Float64Array(T * B * D),
            dh03 = new Float64Array(B * H);
          gruBackward(g3, dx3, dh03, Rlast, null, ws, pr.p, pr.x);
          expect(maxErr(dx3, dx1)).to.be.at.most(1e-15);
          expect(maxErr(dh03, dh01)).to.be.at.most(1e-15);
          expect(maxErr(g3.dU, g1.dU)).to.be.at.most(1e-15);
        });

        // Both float32 paths against the float64 kernel (which the finite differences prove); B = 3 takes the
        // batch-below-4 route, B = 6 the blocked products.
        for (const path of impl.paths)
          for (const d of [
            { T: 6, B: 3, D: 4, H: 7 },
            { T: 4, B: 6, D: 5, H: 9 },
          ]) {
            it(`${path.name} path: float32 and float64 agree within 1e-4 relative (outputs and gradients), B=${d.B}`, () => {
              const rng = makeRng(`gru-f32-${resetAfter}`);
              const { T, B, D, H } = d,
                BH = B * H;
              const pr = randomProblem(d, resetAfter, rng);
              const R = uniform64(T * BH, rng),
                RT = uniform64(BH, rng);
              const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);
              // Round the f64 problem to f32 values first, so that both runs see identical inputs.
              for (const a of [pr.p.W, pr.p.U, pr.p.b, pr.x, pr.h0, R, RT]) a.set(f32(a));

              const run = <C extends Float32ArrayConstructor | Float64ArrayConstructor>(ctor: C) => {
                const conv = (a: Float64Array): Float32Array | Float64Array =>
                  ctor === Float32Array ? f32(a) : a.slice();
                const p = { W: conv(pr.p.W), U: conv(pr.p.U), b: conv(pr.p.b) };
                const x = conv(pr.x);
                const ws = gruWorkspace(T, B, D, H, ctor, {
                  resetAfter,
                  ...(ctor === Float32Array ? path.options() : {}),
                });
                if (impl.name === 'fast') expect(ws.ops.name).to.equal(ctor === Float32Array ? path.name : 'js');
                runForward(ws, p, x, pr.h0);
                const g = zeroGrads(ctor, d, resetAfter);
                const dx = new ctor(T * B * D),
                  dh0 = new ctor(BH);
                gruBackward(g, dx, dh0, conv(R), conv(RT), ws, p, x);
                return { h: ws.h, dx, dh0, ...g };
              };
              const a = run(Float32Array),
                b = run(Float64Array);
              expect(a.h).to.be.instanceOf(Float32Array);
              for (const k of ['h', 'dx', 'dh0', 'dW', 'dU', 'db'] as const) {
                expect(normRel(a[k], b[k]), k).to.be.at.most(1e-4);
              }
            });
          }

        it('RangeError on wrong lengths, naming the argument with expected and actual sizes', () => {
          const rng = makeRng(`gru-len-${resetAfter}`);
          const d = { T: 5, B: 3, D: 4, H: 7 },
            { T, B, D, H } = d,
            G = 3 * H,
            nb = resetAfter ? 2 * G : G;
          const pr = randomProblem(d, resetAfter, rng);
          const ws = gruWorkspace(T, B, D, H, Float64Array, { resetAfter });
          const short = (a: Float64Array): Float64Array => a.subarray(0, a.length - 1);
          expect(() => gruForward(ws, pr.p, short(pr.x))).to.throw(
            RangeError,
            /^gruForward\(x\): expected 60 elements \[T=5,B=3,D=4\], got 59$/,
          );
          expect(() => gruForward(ws, { ...pr.p, W: short(pr.p.W) }, pr.x)).to.throw(
            RangeError,
            /^gruForward\(W\): expected 84 elements \[D=4,3H=21\], got 83$/,
          );
          expect(() => gruForward(ws, { ...pr.p, U: short(pr.p.U) }, pr.x)).to.throw(
            RangeError,
            /^gruForward\(U\): expected 147 elements \[H=7,3H=21\], got 146$/,
          );
          expect(() => gruForward(ws, { ...pr.p, b: short(pr.p.b) }, pr.x)).to.throw(
            RangeError,
            new RegExp(`^gruForward\\(b\\): expected ${nb} elements .*got ${nb - 1}$`),
          );
          // A bias of the other variant's length is rejected too.
          expect(() => gruForward(ws, { ...pr.p, b: new Float64Array(resetAfter ? G : 2 * G) }, pr.x)).to.throw(
            RangeError,
            /gruForward\(b\)/,
          );

          runForward(ws, pr.p, pr.x, pr.h0);
          const g = zeroGrads(Float64Array, d, resetAfter);
          const dx = new Float64Array(T * B * D),
            dh0 = new Float64Array(B * H);
          const dhSeq = new Float64Array(T * B * H),
            dhT = new Float64Array(B * H);
          const bad =
            (over: Partial<Record<'dW' | 'dU' | 'db' | 'dx' | 'dh0' | 'dhSeq' | 'dhT' | 'x', Float64Array>>) => () =>
              gruBackward(
                { dW: over.dW ?? g.dW, dU: over.dU ?? g.dU, db: over.db ?? g.db },
                over.dx ?? dx,
                over.dh0 ?? dh0,
                over.dhSeq ?? dhSeq,
                over.dhT ?? dhT,
                ws,
                pr.p,
                over.x ?? pr.x,
              );
          const pre = (name: string, n: number): RegExp =>
            new RegExp(`^gruBackward\\(${name}\\): expected ${n} elements .*got ${n + 1}$`);
          expect(bad({ dW: new Float64Array(D * G + 1) })).to.throw(RangeError, pre('dW', D * G));
          expect(bad({ dU: new Float64Array(H * G + 1) })).to.throw(RangeError, pre('dU', H * G));
          expect(bad({ db: new Float64Array(nb + 1) })).to.throw(RangeError, pre('db', nb));
          expect(bad({ dx: new Float64Array(T * B * D + 1) })).to.throw(RangeError, pre('dx', T * B * D));
          expect(bad({ dh0: new Float64Array(B * H + 1) })).to.throw(RangeError, pre('dh0', B * H));
          expect(bad({ dhSeq: new Float64Array(T * B * H + 1) })).to.throw(RangeError, pre('dhSeq', T * B * H));
          expect(bad({ dhT: new Float64Array(B * H + 1) })).to.throw(RangeError, pre('dhT', B * H));
          expect(bad({ x: new Float64Array(T * B * D + 1) })).to.throw(RangeError, pre('x', T * B * D));
          expect(bad({})).to.not.throw();
        });
      });
    }

    describe('the two variants', () => {
      it('coincide when H=1 and the recurrent bias row is zero (r·(h·u) = (r·h)·u for scalars)', () => {
        const rng = makeRng('gru-variants-h1');
        const d = { T: 6, B: 4, D: 3, H: 1 };
        const classic = randomProblem(d, false, rng);
        const b6 = new Float64Array(6);
        b6.set(classic.p.b, 0);
        const w0 = gruWorkspace(d.T, d.B, d.D, d.H, Float64Array, { resetAfter: false });
        const w1 = gruWorkspace(d.T, d.B, d.D, d.H, Float64Array, { resetAfter: true });
        runForward(w0, classic.p, classic.x, classic.h0);
        runForward(w1, { ...classic.p, b: b6 }, classic.x, classic.h0);
        expect(maxErr(w1.h, w0.h)).to.be.at.most(1e-14);
      });

      it('coincide when U_h is diagonal and the recurrent bias row is zero, and differ for a general U_h (H=5)', () => {
        const rng = makeRng('gru-variants-h5');
        const d = { T: 6, B: 4, D: 3, H: 5 },
          G = 15;
        const pr = randomProblem(d, false, rng);
        const b6 = new Float64Array(2 * G);
        b6.set(pr.p.b, 0);
        const w0 = gruWorkspace(d.T, d.B, d.D, d.H, Float64Array, { resetAfter: false });
        const w1 = gruWorkspace(d.T, d.B, d.D, d.H, Float64Array, { resetAfter: true });
        runForward(w0, pr.p, pr.x, pr.h0);
        runForward(w1, { ...pr.p, b: b6 }, pr.x, pr.h0);
        expect(maxErr(w1.h, w0.h), 'general U_h').to.be.above(1e-3);

        const Ud = pr.p.U.slice();
        for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) if (i !== j) Ud[i * G + 10 + j] = 0;
        runForward(w0, { ...pr.p, U: Ud }, pr.x, pr.h0);
        runForward(w1, { ...pr.p, U: Ud, b: b6 }, pr.x, pr.h0);
        expect(maxErr(w1.h, w0.h), 'diagonal U_h').to.be.at.most(1e-14);
      });

      it('resetAfter: the z and r parts of the recurrent bias act exactly like input bias; its h part does not', () => {
        const rng = makeRng('gru-variants-bias');
        const d = { T: 4, B: 2, D: 3, H: 4 },
          G = 12,
          H = 4;
        const pr = randomProblem(d, true, rng);
        const moved = pr.p.b.slice();
        for (let c = 0; c < 2 * H; c++) {
          moved[c] = moved[c] + moved[G + c];
          moved[G + c] = 0;
        }
        const w = gruWorkspace(d.T, d.B, d.D, d.H, Float64Array);
        runForward(w, pr.p, pr.x, pr.h0);
        const ref = w.h.slice();
        runForward(w, { ...pr.p, b: moved }, pr.x, pr.h0);
        expect(maxErr(w.h, ref), 'z,r bias moved').to.be.at.most(1e-14);
        const movedH = pr.p.b.slice();
        for (let c = 2 * H; c < G; c++) {
          movedH[c] = movedH[c] + movedH[G + c];
          movedH[G + c] = 0;
        }
        runForward(w, { ...pr.p, b: movedH }, pr.x, pr.h0);
        expect(maxErr(w.h, ref), 'h bias moved').to.be.above(1e-4);
      });
    });
  });

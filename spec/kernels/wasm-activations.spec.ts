/**
 * kernels/wasm/gates.ts: the f32x4 exp, sigmoid and tanh against Math rounded to float32 (ulp error over every f32
 * exponent, tiny, ±0, subnormal, huge, ±Inf, NaN), the fused gate kernels of the three cells against the cells' own
 * TypeScript loops, addBias against matmul.ts; then the determinism the wasm path promises: an element's bits do not depend on its row in the batch,
 * on its lane or on whether it falls in a row's tail, and a run repeats bit for bit.
 */
import { expect } from 'chai';
import { type GateOps } from '../../kernels/fast/ops';
import { WasmArena, wasmFmaFused, wasmRelaxedSimdAvailable, wasmSimdAvailable } from '../../kernels/wasm/arena';
import { addBias } from '../../kernels/matmul';
import { wasmGates, wasmWorkspaceBuffers } from '../../kernels/wasm/ops';
import { lstmForward, lstmWorkspace, type LstmWorkspace } from '../../kernels/fast/lstm';
import { gruForward, gruWorkspace, type GruWorkspace, gruBiasLength } from '../../kernels/fast/gru';
import { rnnForward, rnnWorkspace, type RnnWorkspace } from '../../kernels/fast/rnn';
import { fillUniform, makeRng, type Rng, uniform32 } from '../helpers/rng';

// ---- ulps ------------------------------------------------------------------------------------------------------------

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** The f32 bit pattern of x as a signed integer in the order of the values (−0 and +0 both map to 0). */
function ordered(x: number): number {
  f32[0] = x;
  const i = i32[0];
  return i < 0 ? -(i & 0x7fffffff) : i;
}

/** Distance in units in the last place of f32 between two f32 values (1 between FLT_MAX and Infinity). */
function ulps(a: number, b: number): number {
  return Math.abs(ordered(a) - ordered(b));
}

function fromBits(bits: number): number {
  i32[0] = bits | 0;
  return f32[0];
}

/**
 * The arguments: for each of the 255 exponent fields (0 = zero and subnormals … 254 = the largest finite binade) and
 * both signs, 2000 random mantissas; dense uniform sweeps over [−120, 100] and [−10, 10]; and the special values.
 */
function argumentSet(rng: Rng): Float32Array {
  const xs: number[] = [];
  for (let e = 0; e < 255; e++)
    for (const sign of [0, 1]) {
      for (let k = 0; k < 2000; k++) xs.push(fromBits((sign << 31) | (e << 23) | Math.floor(rng() * 0x800000)));
    }
  for (let k = 0; k < 200000; k++) xs.push(-120 + 220 * rng(), -10 + 20 * rng());
  xs.push(...SPECIALS);
  return Float32Array.from(xs);
}

const SPECIALS = [
  0,
  -0,
  fromBits(1),
  fromBits(0x80000001),
  fromBits(0x7f7fffff),
  fromBits(0xff7fffff),
  Infinity,
  -Infinity,
  NaN,
  1e-30,
  -1e-30,
  88.72283,
  88.72284,
  89,
  89.5,
  -87.33,
  -103.2,
  -103.97,
  -104,
  -105,
  -106,
  0.625,
  -0.625,
  fromBits(0x3f1fffff),
  fromBits(0xbf1fffff),
  9,
  9.1,
  20,
  40,
  -40,
  1,
  -1,
];

interface VectorFn {
  name: 'vexp' | 'vsigmoid' | 'vtanh';
  ref: (x: number) => number;
  maxUlp: number;
}

/** Maximum measured over argumentSet('wasm-activations'), asserted: exp 1 ulp, sigmoid 2 ulp, tanh 1 ulp. */
const FNS: VectorFn[] = [
  { name: 'vexp', ref: Math.exp, maxUlp: 1 },
  { name: 'vsigmoid', ref: (x) => 1 / (1 + Math.exp(-x)), maxUlp: 2 },
  { name: 'vtanh', ref: Math.tanh, maxUlp: 1 },
];

const KERNELS = ['simd128', 'relaxed-fma'] as const;

describe('kernels/wasm/gates.ts', function () {
  before(function () {
    if (!wasmSimdAvailable()) this.skip();
  });

  // Both modules where this engine has relaxed SIMD (npm test's relaxed path): the relaxed-fma module's polynomials
  // use relaxed_madd, so its activations are measured on their own.
  for (const kernel of wasmRelaxedSimdAvailable() ? KERNELS : (['simd128'] as const))
    describe(`exp, sigmoid, tanh (f32x4, the ${kernel} module)`, () => activationChecks(kernel));

  if (wasmRelaxedSimdAvailable())
    it('relaxed-fma activations: the simd128 bits where relaxed_madd is not fused, other bits somewhere where it is', () => {
      const xs = argumentSet(makeRng('wasm-activations'));
      const out = KERNELS.map((kernel) => {
        const arena = new WasmArena({ initialBytes: 0, kernel });
        const [src, dst] = arena.allocF32s(xs.length, xs.length) as [Float32Array, Float32Array];
        src.set(xs);
        return FNS.map((fn) => {
          arena.kernels[fn.name](dst.byteOffset, src.byteOffset, xs.length);
          return Float32Array.from(dst);
        });
      });
      FNS.forEach((fn, f) => {
        let differs = 0;
        for (let i = 0; i < xs.length; i++) if (!Object.is(out[0][f][i], out[1][f][i])) differs++;
        console.log(`      (${fn.name}: ${differs} of ${xs.length} results differ between the modules)`);
        if (wasmFmaFused()) expect(differs, `${fn.name}: elements that differ`).to.be.greaterThan(0);
        else expect(differs, `${fn.name}: elements that differ`).to.equal(0);
      });
    });
});

function activationChecks(kernel: (typeof KERNELS)[number]): void {
  const arena = new WasmArena({ initialBytes: 0, kernel });
  const xs = argumentSet(makeRng('wasm-activations'));
  const n = xs.length;
  const [src, dst] = arena.allocF32s(n, n) as [Float32Array, Float32Array];
  src.set(xs);

  for (const fn of FNS) {
    it(`${fn.name} over ${n} arguments is within ${fn.maxUlp} ulp of Math.${fn.name.slice(1)} rounded to f32; NaN in, NaN out`, () => {
      arena.kernels[fn.name](dst.byteOffset, src.byteOffset, n);
      let worst = 0,
        worstAt = 0;
      for (let i = 0; i < n; i++) {
        const x = src[i],
          got = dst[i],
          want = Math.fround(fn.ref(x));
        if (Number.isNaN(want) || Number.isNaN(got)) {
          if (!(Number.isNaN(want) && Number.isNaN(got))) expect.fail(`${fn.name}(${x}) = ${got}, expected ${want}`);
          continue;
        }
        const d = ulps(got, want);
        if (d > worst) {
          worst = d;
          worstAt = x;
        }
      }
      expect(worst, `${fn.name}: worst ${worst} ulp at x = ${worstAt}`).to.be.at.most(fn.maxUlp);
    });
  }

  it('special values: ±0, ±Inf, overflow and underflow of exp, saturation of sigmoid and tanh, signs kept', () => {
    const vals = [
      0,
      -0,
      Infinity,
      -Infinity,
      88.72284,
      200,
      -104,
      -1000,
      9.125,
      -9.125,
      1e-30,
      -1e-30,
      fromBits(0x80000001),
    ];
    const near = (got: number[], want: number[], maxUlp: number): void => {
      want.forEach((w, i) => expect(ulps(got[i], w), `element ${i}: ${got[i]} vs ${w}`).to.be.at.most(maxUlp));
    };
    const [sv, dv] = arena.allocF32s(vals.length, vals.length) as [Float32Array, Float32Array];
    sv.set(vals);
    const run = (name: VectorFn['name']): number[] => {
      arena.kernels[name](dv.byteOffset, sv.byteOffset, vals.length);
      return Array.from(dv);
    };
    const e = run('vexp');
    expect(e.slice(0, 8)).to.deep.equal([1, 1, Infinity, 0, Infinity, Infinity, 0, 0]);
    near(e.slice(8), [Math.exp(9.125), Math.exp(-9.125), 1, 1, 1].map(Math.fround), 1);
    const s = run('vsigmoid');
    expect(s.slice(0, 8)).to.deep.equal([0.5, 0.5, 1, 0, 1, 1, 0, 0]);
    near(s.slice(8), [1 / (1 + Math.exp(-9.125)), 1 / (1 + Math.exp(9.125)), 0.5, 0.5, 0.5].map(Math.fround), 2);
    const t = run('vtanh');
    expect(t.slice(2, 10)).to.deep.equal([1, -1, 1, 1, -1, -1, 1, -1]);
    expect(Object.is(t[0], 0) && Object.is(t[1], -0), 'tanh(±0) = ±0').to.equal(true);
    expect(t.slice(10)).to.deep.equal([Math.fround(1e-30), Math.fround(-1e-30), fromBits(0x80000001)]); // tanh(tiny) = tiny
  });

  it('sigmoid and tanh give no NaN and stay in [0, 1] and [−1, 1] for every finite argument', () => {
    for (const name of ['vsigmoid', 'vtanh'] as const) {
      arena.kernels[name](dst.byteOffset, src.byteOffset, n);
      const lo = name === 'vsigmoid' ? 0 : -1;
      for (let i = 0; i < n; i++) {
        const x = src[i],
          y = dst[i];
        if (Number.isFinite(x) && !(y >= lo && y <= 1)) expect.fail(`${name}(${x}) = ${y}`);
      }
    }
  });

  it('an element gets the same bits in any lane, in the tail, and in place (dst = src)', () => {
    const m = 1003;
    const [s, d, e] = arena.allocF32s(m + 3, m + 3, m + 3) as [Float32Array, Float32Array, Float32Array];
    for (const name of ['vexp', 'vsigmoid', 'vtanh'] as const) {
      for (let i = 0; i < m; i++) s[i] = src[(i * 997) % n];
      arena.kernels[name](d.byteOffset, s.byteOffset, m);
      for (let shift = 1; shift <= 3; shift++) {
        // every element moves to another lane
        e.fill(0);
        e.set(s.subarray(0, m), shift);
        arena.kernels[name](e.byteOffset, e.byteOffset, m + shift); // in place
        for (let i = 0; i < m; i++) {
          if (!Object.is(e[i + shift], d[i]))
            expect.fail(`${name}: element ${i} shifted by ${shift}: ${e[i + shift]} vs ${d[i]}`);
        }
      }
    }
  });
}

describe('kernels/wasm/gates.ts: the gate kernels', function () {
  before(function () {
    if (!wasmSimdAvailable()) this.skip();
  });

  describe("gate kernels against the cells' TypeScript loops", () => {
    // Pre-activations the two paths compute identically: x_t is the identity (D = B), U = 0, so z = x·W + b is one
    // exact product per element in either matmul and h_{t-1}·U = 0; the only differences are in the gate math.
    // The wasm path (f32 SIMD) is compared with the js path's float32 workspace (float64 arithmetic, f32 storage).
    const SHAPES: [number, number][] = [];
    for (const B of [1, 3, 5, 17]) for (const H of [1, 3, 7, 17, 64]) SHAPES.push([B, H]);
    const T = 3;
    /**
     * |wasm − js| ≤ TOL·max(|js|, 1) with TOL = 64·2⁻²⁴ ≈ 3.8e-6. Observed maxima over these shapes, in units of 2⁻²⁴:
     * gates (a) 1–2, rh 5, the RNN's h 1; c 12, φ(c) 11, the LSTM's h 8 and the GRU's h 9, where three steps of f32
     * products and sums (f⊙c + i⊙g, z⊙h + (1−z)⊙h̃), each rounded where the js loop rounds once, add up.
     */
    const TOL = 64 * 2 ** -24;

    function expectNear(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
      expect(got.length, `${label} length`).to.equal(want.length);
      for (let i = 0; i < want.length; i++) {
        const g = got[i],
          w = want[i];
        if (!(Math.abs(g - w) <= TOL * Math.max(Math.abs(w), 1))) expect.fail(`${label}[${i}]: wasm ${g}, js ${w}`);
      }
    }

    interface Inputs {
      W: Float32Array;
      U: Float32Array;
      b: Float32Array;
      x: Float32Array;
      h0: Float32Array;
      c0: Float32Array;
    }
    function inputs(B: number, H: number, G: number, nb: number, rng: Rng): Inputs {
      const x = new Float32Array(T * B * B);
      for (let t = 0; t < T; t++) for (let r = 0; r < B; r++) x[(t * B + r) * B + r] = 1;
      return {
        W: uniform32(B * G * H, rng, -6, 6),
        U: new Float32Array(H * G * H),
        b: uniform32(nb, rng, -2, 2),
        x,
        h0: uniform32(B * H, rng),
        c0: uniform32(B * H, rng, -3, 3),
      };
    }

    for (const [B, H] of SHAPES) {
      it(`B=${B} H=${H}: LSTM, GRU (resetAfter and classic), tanh RNN: wasm gates equal the js loops within 64·2⁻²⁴`, () => {
        const rng = makeRng(`wasm-gates-${B}-${H}`);
        const D = B;
        // LSTM
        {
          const d = inputs(B, H, 4, 4 * H, rng);
          const run = (ws: LstmWorkspace): LstmWorkspace => {
            ws.h.set(d.h0);
            ws.c.set(d.c0);
            lstmForward(ws, d, d.x);
            return ws;
          };
          const js = run(lstmWorkspace(T, B, D, H, Float32Array));
          const wa = run(lstmWorkspace(T, B, D, H, Float32Array, { arena: new WasmArena({ initialBytes: 0 }) }));
          expect(wa.ops.gates, 'the wasm workspace has gate kernels').to.not.equal(undefined);
          for (const k of ['a', 'c', 'phiC', 'h'] as const) expectNear(`lstm ${k}`, wa[k], js[k]);
        }
        // GRU, both variants
        for (const resetAfter of [true, false]) {
          const d = inputs(B, H, 3, gruBiasLength(H, resetAfter), rng);
          const run = (ws: GruWorkspace): GruWorkspace => {
            ws.h.set(d.h0);
            gruForward(ws, d, d.x);
            return ws;
          };
          const js = run(gruWorkspace(T, B, D, H, Float32Array, { resetAfter }));
          const wa = run(
            gruWorkspace(T, B, D, H, Float32Array, { resetAfter, arena: new WasmArena({ initialBytes: 0 }) }),
          );
          for (const k of ['a', 'h', 'innerH', 'rh'] as const)
            expectNear(`gru resetAfter=${resetAfter} ${k}`, wa[k], js[k]);
        }
        // tanh RNN
        {
          const d = inputs(B, H, 1, H, rng);
          const run = (ws: RnnWorkspace): RnnWorkspace => {
            ws.h.set(d.h0);
            rnnForward(ws, d, d.x);
            return ws;
          };
          const js = run(rnnWorkspace(T, B, D, H, Float32Array));
          const wa = run(rnnWorkspace(T, B, D, H, Float32Array, { arena: new WasmArena({ initialBytes: 0 }) }));
          expectNear('rnn h', wa.h, js.h);
        }
      });
    }

    it('other activations keep the TypeScript loops: the gate kernels are called only for sigmoid/tanh', () => {
      const rng = makeRng('wasm-gates-acts');
      const B = 3,
        H = 5,
        D = 2;
      const calls: string[] = [];
      const spy = (ws: { ops: unknown }): void => {
        const ops = ws.ops as { gates: GateOps };
        const wrapped: Record<string, unknown> = {};
        for (const [k, fn] of Object.entries(ops.gates)) {
          wrapped[k] = (...args: unknown[]): void => {
            calls.push(k);
            (fn as (...a: unknown[]) => void)(...args);
          };
        }
        ws.ops = { ...ops, gates: wrapped };
      };
      const x = uniform32(T * B * D, rng);
      const arena = new WasmArena({ initialBytes: 0 });
      const pl = { W: uniform32(D * 4 * H, rng), U: uniform32(H * 4 * H, rng), b: uniform32(4 * H, rng) };
      const pg = { W: uniform32(D * 3 * H, rng), U: uniform32(H * 3 * H, rng), b: uniform32(6 * H, rng) };
      const pr = { W: uniform32(D * H, rng), U: uniform32(H * H, rng), b: uniform32(H, rng) };
      for (const [act, recAct, expected] of [
        ['tanh', 'sigmoid', T],
        ['tanh', 'hardSigmoid', 0],
        ['relu', 'sigmoid', 0],
      ] as const) {
        calls.length = 0;
        const wl = lstmWorkspace(T, B, D, H, Float32Array, { activation: act, recurrentActivation: recAct, arena });
        spy(wl);
        lstmForward(wl, pl, x);
        // Each cell's time loop is one kernel call (lstmSteps, gruSteps: the gate kernels run per step inside the module).
        expect(calls, `${act}/${recAct} lstm`).to.deep.equal(expected > 0 ? ['lstmSteps'] : []);
        calls.length = 0;
        const wg = gruWorkspace(T, B, D, H, Float32Array, { activation: act, recurrentActivation: recAct, arena });
        spy(wg);
        gruForward(wg, pg, x);
        expect(calls, `${act}/${recAct} gru`).to.deep.equal(expected > 0 ? ['gruSteps'] : []);
      }
      for (const [act, expected] of [
        ['tanh', T],
        ['relu', 0],
        ['linear', 0],
      ] as const) {
        calls.length = 0;
        const wr = rnnWorkspace(T, B, D, H, Float32Array, { activation: act, arena });
        spy(wr);
        rnnForward(wr, pr, x);
        expect(calls, act).to.deep.equal(new Array<string>(expected).fill('tanh'));
      }
    });
  });

  describe('addBias', () => {
    it('equals matmul.ts addBias on Float32Array bit for bit: blocks at offsets, ldc > N, b inside or outside the arena', () => {
      const rng = makeRng('wasm-addbias');
      const arena = new WasmArena({ initialBytes: 0 });
      const {
        bufs: [C, bArena],
        ops,
      } = wasmWorkspaceBuffers(arena, [70 * 80, 200], 200);
      const cases = [
        [1, 1, 1, 0, 0],
        [3, 5, 7, 2, 1],
        [17, 64, 64, 0, 3],
        [64, 7, 9, 5, 0],
        [5, 130, 131, 1, 2],
      ];
      for (const [q, [M, N, ldc, cOff, bOff]] of cases.entries()) {
        const c = C;
        fillUniform(c, rng, -4, 4);
        const want = Float32Array.from(c);
        const b = q % 2 === 0 ? uniform32(bOff + N, rng) : fillUniform(bArena, rng);
        addBias(want, cOff, ldc, b, bOff, M, N);
        ops.addBias(c, cOff, ldc, b, bOff, M, N);
        for (let i = 0; i < want.length; i++) {
          if (!Object.is(c[i], want[i]))
            expect.fail(`M=${M} N=${N} ldc=${ldc}: element ${i} is ${c[i]}, matmul.ts gives ${want[i]}`);
        }
      }
    });
  });

  describe('determinism', () => {
    const arena = new WasmArena({ initialBytes: 0 });
    const gates = wasmGates(arena);

    /** A gate kernel on plain arrays: `a` is [B, G·H], the others [B, H]; returns copies of what it wrote. */
    interface Kernel {
      name: string;
      G: number;
      ins: number;
      run(a: Float32Array, ins: Float32Array[], B: number, H: number): Float32Array[];
    }
    /** Copies plain arrays into the arena, runs body on the views, copies the `outs` views back out. */
    const inArena = (arrays: Float32Array[], body: (views: Float32Array[]) => Float32Array[]): Float32Array[] => {
      const mark = arena.mark();
      const views = arena.allocF32s(...arrays.map((x) => x.length));
      arrays.forEach((x, i) => views[i].set(x));
      const out = body(views).map((v) => Float32Array.from(v));
      arena.release(mark);
      return out;
    };
    const KERNELS: Kernel[] = [
      {
        name: 'lstm',
        G: 4,
        ins: 1,
        run: (a, [c0], B, H) => {
          const c = new Float32Array(2 * B * H);
          c.set(c0); // c_{t-1}; the kernel writes c_t after it
          return inArena([a, c, new Float32Array(B * H), new Float32Array(B * H)], ([va, vc, vp, vh]) => {
            gates.lstm(va, 0, vc, 0, vp, 0, vh, 0, B, H);
            return [va, vc.subarray(B * H), vp, vh];
          });
        },
      },
      {
        name: 'gruResetAfter',
        G: 3,
        ins: 1,
        run: (a, [inner], B, H) =>
          inArena([a, inner], ([va, vi]) => {
            gates.gruResetAfter(va, 0, vi, 0, B, H);
            return [va];
          }),
      },
      {
        name: 'gruResetBefore',
        G: 3,
        ins: 1,
        run: (a, [hp], B, H) =>
          inArena([a, hp, new Float32Array(B * H)], ([va, vh, vr]) => {
            gates.gruResetBefore(va, 0, vr, 0, vh, 0, B, H);
            return [va, vr];
          }),
      },
      {
        name: 'gruOutput',
        G: 3,
        ins: 1,
        run: (a, [hp], B, H) =>
          inArena([a, new Float32Array(2 * B * H)], ([va, vh]) => {
            vh.set(hp);
            gates.gruOutput(va, 0, vh, 0, B, H);
            return [va, vh.subarray(B * H)];
          }),
      },
      {
        name: 'tanh',
        G: 1,
        ins: 0,
        run: (a, _ins, B, H) =>
          inArena([a], ([va]) => {
            gates.tanh(va, 0, B * H);
            return [va];
          }),
      },
    ];

    /** Element (r, j) of a kernel's problem as a problem of its own (B = 1, H = 1), and of its outputs. */
    const element = (x: Float32Array, G: number, H: number, r: number, j: number, aLike: boolean): Float32Array =>
      aLike ? Float32Array.from({ length: G }, (_, g) => x[(r * G + g) * H + j]) : Float32Array.of(x[r * H + j]);

    for (const k of KERNELS) {
      for (const H of [1, 3, 7, 17, 64]) {
        it(`${k.name} H=${H}: a B=17 call equals itself repeated, each row alone (B=1) and each element alone (B=H=1), bit for bit`, () => {
          const rng = makeRng(`wasm-det-${k.name}-${H}`);
          const B = 17;
          const a = uniform32(B * k.G * H, rng, -8, 8);
          const ins = Array.from({ length: k.ins }, () => uniform32(B * H, rng, -2, 2));
          const whole = k.run(a, ins, B, H);
          const again = k.run(a, ins, B, H);
          whole.forEach((o, i) =>
            expect(Buffer.from(again[i].buffer).equals(Buffer.from(o.buffer)), 'repeat').to.equal(true),
          );
          for (let r = 0; r < B; r++) {
            const rowOf = (x: Float32Array, w: number): Float32Array => x.slice(r * w, (r + 1) * w);
            const row = k.run(
              rowOf(a, k.G * H),
              ins.map((x) => rowOf(x, H)),
              1,
              H,
            );
            row.forEach((o, i) => {
              const want = rowOf(whole[i], i === 0 ? k.G * H : H);
              for (let q = 0; q < o.length; q++) {
                if (!Object.is(o[q], want[q]))
                  expect.fail(`${k.name} H=${H} output ${i}: row ${r} alone differs at ${q}: ${o[q]} vs ${want[q]}`);
              }
            });
            for (const j of [0, H - 1, H >> 1]) {
              const one = k.run(
                element(a, k.G, H, r, j, true),
                ins.map((x) => element(x, k.G, H, r, j, false)),
                1,
                1,
              );
              one.forEach((o, i) => {
                const want = element(whole[i], k.G, H, r, j, i === 0);
                for (let q = 0; q < o.length; q++) {
                  if (!Object.is(o[q], want[q]))
                    expect.fail(`${k.name} H=${H} output ${i}: element (${r}, ${j}) alone: ${o[q]} vs ${want[q]}`);
                }
              });
            }
          }
        });
      }
    }
  });
});

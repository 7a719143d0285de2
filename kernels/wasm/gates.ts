/**
 * f32x4 exp, sigmoid and tanh, the fused forward gate kernels of the three cells built on them, and the cells' backward
 * gate loops in f64x2, written with
 * emit.ts into the same module as the products (module.ts calls `emitGates`). Everything here is elementwise: a lane's
 * result depends only on that lane's inputs, and the tail of a row (H not a multiple of 4) runs the same f32x4 code on
 * one element splatted into all lanes, so an element gets the same bits wherever it sits in the batch or in the row.
 *
 * Vector functions (x a v128 of four f32; every operation is an f32x4 operation, rounded to f32. In the relaxed-fma
 * module (emitGates(m, true)) the polynomials' steps — Cody–Waite's second product, each Horner step of exp's and of
 * tanh's polynomial, and their last multiply-add — are f32x4.relaxed_madd: one rounding where the CPU fuses it, and
 * exactly the simd128 module's mul-then-add bits where it does not. Everything else, the cell updates included, is the
 * same code in both modules):
 *   exp(x)      x ← clamp(x, −105, 89)    (NaN stays NaN; 89 overflows to +Inf, −105 underflows to +0, as exp does)
 *               k = nearest(x·log2e)   (as (x·log2e + 1.5·2²³) − 1.5·2²³; the sum's low mantissa bits are k as an i32)
 *               r = (x − k·C1) − k·C2                               (Cody–Waite: C1 = 0.693359375 has 9 bits, so
 *                                                                   k·C1 is exact; C1 + C2 = ln 2)
 *               p = ((P0·r + P1)·r + … + P5)·r² + r + 1              (Cephes expf's polynomial for e^r, |r| ≤ ln2/2)
 *               e^x = (p · 2^k₁) · 2^k₂,   k₁ = ⌊k/2⌋, k₂ = k − k₁   (two exact power-of-two factors built in the
 *                                                                   exponent field, so subnormal results round once
 *                                                                   and 2^k never overflows for k = −152…129)
 *   sigmoid(x)  e = exp(−|x|) ∈ (0, 1];   σ = (x ≥ 0 ? 1 : e) / (1 + e)       (never evaluates e^(large); NaN → NaN)
 *   tanh(x)     a = |x|;  a < 0.625:  t = a + a·a²·Q(a²)      (Cephes tanhf's odd polynomial: full relative precision
 *                                                              for small arguments, tanh(tiny) = tiny, tanh(±0) = ±0)
 *                         a ≥ 0.625:  e = exp(−2a) ≤ 0.287,  t = (1 − e)/(1 + e)   (exactly 1 from a ≈ 9.0 on)
 *               tanh(x) = t with the sign bit of x;   NaN → NaN
 * Accuracy against the correctly rounded f32 value (spec/kernels/wasm-activations.spec.ts measures it over ~1.6·10⁶
 * arguments: every f32 exponent, tiny, ±0, subnormal, huge, ±Inf, NaN): exp ≤ 1 ulp, sigmoid ≤ 2 ulp, tanh ≤ 2 ulp
 * (see the spec for the measured maxima; ulps counted on the ordered f32 bit patterns, so 0, subnormals and ±Inf are
 * covered too). The js path's float64 activations (../activations.ts) are the reference; the two differ by the f32 rounding.
 *
 * Exported functions (pointers are byte addresses in the imported memory, n, B, H element counts):
 *   vexp(dst, src, n), vsigmoid(dst, src, n), vtanh(dst, src, n)     dst[0…n) = f(src[0…n)); dst may equal src
 *   lstmGates(a, c, phiC, h, B, H)      one LSTM step, σ = sigmoid, φ = tanh, Keras gate order i|f|g|o:
 *       a [B,4H] holds z = x_t·W + h_{t-1}·U + b and receives [i|f|g|o] = [σ(z_i)|σ(z_f)|φ(z_g)|σ(z_o)];
 *       c points at c_{t-1} [B,H]; c_t = f⊙c_{t-1} + i⊙g is written B·H elements further on (the next block of c);
 *       phiC [B,H] ← φ(c_t);   h [B,H] ← h_t = o⊙φ(c_t)                        (what fast/lstm.ts's gatesSigmoidTanh does)
 *   gruGatesAfter(a, innerH, B, H)      GRU, resetAfter: a [B,3H] = [a_z|a_r|a_h]:  z = σ(a_z), r = σ(a_r) in place,
 *                                       a_h += r⊙innerH   (innerH [B,H] = h_{t-1}·U_h + b_rh)
 *   gruGatesBefore(a, rh, hPrev, B, H)  GRU, classic: z = σ(a_z), r = σ(a_r) in place, rh [B,H] ← r⊙h_{t-1}
 *   gruOutput(a, hPrev, hOut, B, H)     GRU, both: h̃ = φ(a_h) in place;  h_t = z⊙h_{t-1} + (1−z)⊙h̃ into hOut [B,H]
 *   lstmBackward(dz, dh, dc, dhSeq, a, cPrev, phiC, B, H), gruBackwardAfter / gruBackwardBefore / gruBackwardReset,
 *   sumRows(s, C, ldc, M, N)            s[N] += Σ_i C[i, ·] (f64 sums: matmul.ts's sumRows, bit for bit)
 *   foldBlocks(p, n, count)             p[0…n) += p[t·n…+n) for t = 1…count−1 in order (f32, as a Float32Array loop)
 *   tanhBackward(dz, dh, dhSeq, h, n)   one step of the cells' backward loops (see each emitter): computed in f64x2,
 *                                       the float64 of the TypeScript loops, with their operations in their order, and
 *                                       rounded to f32 on store: the same bits as the loops on Float32Array
 *   addBias(c, ldc, b, M, N)            C[M,N] += b[N] on every row (f32 sums: the same bits as matmul.ts's addBias on
 *                                       Float32Array, which rounds the float64 sum of two f32 once)
 * The tanh RNN's step h_t = φ(z_t) is vtanh over the [B,H] block. Products of two values (f⊙c, o⊙φ(c), …) are f32
 * products and sums in the order written above; ../fast/lstm.ts and ../fast/gru.ts compute the same expressions in float64.
 */
import { type Func, type Label, type Local, type ModuleBuilder, i32, v128 } from './emit.js';

// Cephes expf: Cody–Waite split of ln 2 and the polynomial for e^r.
// eslint-disable-next-line no-loss-of-precision -- Cephes' constant as published
const LOG2E = 1.44269504088896341;
const C1 = 0.693359375;
const C2 = -2.1219444e-4;
const EXP_P = [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
const ROUND = 12582912; // 1.5·2²³: v + ROUND − ROUND rounds v to an integer (ties to even), |v| < 2²²
const ROUND_BITS = 0x4b400000; // the bits of ROUND: bits(v + ROUND) − ROUND_BITS is that integer as an i32
const EXP_HI = 89; // e^89 > FLT_MAX: overflows to +Inf in the scaling, as it should
const EXP_LO = -105; // e^−105 < 2^−150: underflows to +0
// Cephes tanhf: tanh(a) = a + a·z·Q(z), z = a², for |a| < 0.625.
const TANH_Q = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];
const TANH_SMALL = 0.625;
const SIGN = -0x80000000; // 0x80000000: the f32 sign bit, as an i32 lane

/**
 * The vector functions as macros on one function's locals: `exp(x, out)` etc. read the v128 local x and set the v128
 * local out (which may be x). Temporaries are allocated once per function and reused by every expansion.
 */
export class VecMath {
  private readonly t: Local[];

  /** `fma`: the polynomials' multiply-adds are f32x4.relaxed_madd (the relaxed-fma module), else mul then add. */
  constructor(
    private readonly f: Func,
    private readonly fma = false,
  ) {
    this.t = Array.from({ length: 9 }, () => f.local(v128));
  }

  /** With p on the stack: p·x + y, x a v128 local and y() pushing one v128 (one rounding under fma, else two). */
  private madd(x: Local, y: () => void): void {
    this.f.get(x);
    if (this.fma) {
      y();
      this.f.f32x4_relaxed_madd();
    } else {
      this.f.f32x4_mul();
      y();
      this.f.f32x4_add();
    }
  }

  private tmp(i: number): Local {
    return this.t[i];
  }

  /** out = e^x. Temporaries 0–3. */
  exp(x: Local, out: Local): void {
    const f = this.f,
      r = this.tmp(0),
      k = this.tmp(1),
      z = this.tmp(2),
      k1 = this.tmp(3);
    f.get(x).f32x4_const(EXP_HI).f32x4_pmin().f32x4_const(EXP_LO).f32x4_pmax().set(r); // NaN stays NaN
    f.get(r).f32x4_const(LOG2E).f32x4_mul().f32x4_const(ROUND).f32x4_add().set(k1); // k + 1.5·2²³: rounds k
    f.get(k1).f32x4_const(ROUND).f32x4_sub().set(k); // k = nearest(x·log2e)
    if (this.fma) {
      // r = k·(−C1) + x (exact either way: k·C1 has at most 17 bits), then k·(−C2) + r rounded once.
      f.get(k).f32x4_const(-C1).get(r).f32x4_relaxed_madd().set(r);
      f.get(k).f32x4_const(-C2).get(r).f32x4_relaxed_madd().set(r);
    } else {
      f.get(r).get(k).f32x4_const(C1).f32x4_mul().f32x4_sub().get(k).f32x4_const(C2).f32x4_mul().f32x4_sub().set(r);
    }
    f.get(r).get(r).f32x4_mul().set(z);
    f.f32x4_const(EXP_P[0]);
    for (const c of EXP_P.slice(1)) this.madd(r, () => f.f32x4_const(c)); // Horner: p ← p·r + c
    this.madd(z, () => f.get(r)); // p·r² + r
    f.f32x4_const(1).f32x4_add().set(z); // z ← p = e^r
    f.get(k1).i32x4_const(ROUND_BITS).i32x4_sub().set(k); // k as i32 lanes
    f.get(k).i32_const(1).i32x4_shr_s().set(k1); // k₁ = ⌊k/2⌋
    f.get(z).get(k1).i32x4_const(127).i32x4_add().i32_const(23).i32x4_shl().f32x4_mul(); // p·2^k₁ (exact)
    f.get(k).get(k1).i32x4_sub().i32x4_const(127).i32x4_add().i32_const(23).i32x4_shl().f32x4_mul().set(out); // ·2^k₂
  }

  /** out = 1/(1 + e^−x), from e = e^−|x|. Temporaries 0–5. */
  sigmoid(x: Local, out: Local): void {
    const f = this.f,
      e = this.tmp(4),
      xs = this.tmp(5);
    f.get(x).set(xs);
    f.get(xs).f32x4_abs().f32x4_neg().set(e);
    this.exp(e, e);
    f.f32x4_const(1).get(e).get(xs).f32x4_const(0).f32x4_ge().v128_bitselect(); // x ≥ 0 ? 1 : e
    f.get(e).f32x4_const(1).f32x4_add().f32x4_div().set(out);
  }

  /**
   * out = tanh(x). Temporaries 0–8. Each formula runs only when some lane needs it (a branch on the vector's mask, so
   * a vector whose four |x| lie on one side of 0.625 — and every row tail, whose lanes are one element — computes one
   * formula); the lanes' bits are the same either way.
   */
  tanh(x: Local, out: Local): void {
    const f = this.f,
      a = this.tmp(6),
      e = this.tmp(7),
      xs = this.tmp(8),
      small = this.tmp(4),
      t = this.tmp(5);
    f.get(x).set(xs);
    f.get(xs).f32x4_abs().set(a);
    f.get(a).f32x4_const(TANH_SMALL).f32x4_lt().set(small); // lanes with |x| < 0.625
    f.get(small)
      .v128_any_true()
      .if_(() => {
        const z = this.tmp(0);
        f.get(a).get(a).f32x4_mul().set(z); // z = a²
        f.f32x4_const(TANH_Q[0]);
        for (const c of TANH_Q.slice(1)) this.madd(z, () => f.f32x4_const(c)); // Q(z)
        f.get(z).f32x4_mul();
        this.madd(a, () => f.get(a)); // small: (z·Q(z))·a + a
        f.set(t);
      });
    f.get(small)
      .i32x4_all_true()
      .i32_eqz()
      .if_(() => {
        f.get(a).f32x4_const(-2).f32x4_mul().set(e);
        this.exp(e, e); // e = e^−2|x|
        f.f32x4_const(1).get(e).f32x4_sub().f32x4_const(1).get(e).f32x4_add().f32x4_div().set(e); // large: (1 − e)/(1 + e)
      });
    f.get(t).get(e).get(small).v128_bitselect();
    f.get(xs).i32x4_const(SIGN).v128_and().v128_or().set(out); // the sign of x
  }
}

/** How a kernel body touches memory: four lanes at a time, or one element splatted into all four lanes (row tails). */
type Mode = 'vec' | 'lane';

function load(f: Func, mode: Mode, ptr: Local, into: Local): void {
  f.get(ptr);
  if (mode === 'vec') f.v128_load();
  else f.f32_load().f32x4_splat();
  f.set(into);
}

function store(f: Func, mode: Mode, ptr: Local, val: Local): void {
  f.get(ptr).get(val);
  if (mode === 'vec') f.v128_store();
  else f.f32x4_extract_lane(0).f32_store();
}

/**
 * for (j = 0; j + W ≤ n; j += W) body('vec');  for (; j < n; j++) body('lane');  advancing each pointer in `ptrs` by the
 * elements done (4W or 4 bytes) after each body. W = 4 (f32x4 kernels) or 2 (the f64x2 backward kernels).
 */
function eachElement(f: Func, j: Local, n: Local, ptrs: Local[], body: (mode: Mode) => void, W = 4): void {
  const pass = (mode: Mode, width: number): void => {
    f.block((done: Label) =>
      f.loop((next: Label) => {
        f.get(j).i32_const(width).i32_add().get(n).i32_gt_s().br_if(done);
        body(mode);
        for (const p of ptrs)
          f.get(p)
            .i32_const(4 * width)
            .i32_add()
            .set(p);
        f.get(j).i32_const(width).i32_add().set(j);
        f.br(next);
      }),
    );
  };
  f.i32_const(0).set(j);
  pass('vec', W);
  pass('lane', 1);
}

/**
 * The backward kernels compute in f64x2, the float64 of JavaScript: two f32 of a row widened (exactly) into the two f64
 * lanes ('vec'), or one element in lane 0 ('lane', row tails); results rounded to f32 on store, as a Float32Array
 * store rounds. Each lane's operations are those of the TypeScript loop, in its order, so the bits are the same.
 */
function load64(f: Func, mode: Mode, ptr: Local, into: Local): void {
  f.get(ptr);
  if (mode === 'vec') f.v128_load64_zero();
  else f.f32_load().f32x4_splat();
  f.f64x2_promote_low_f32x4().set(into);
}

function store64(f: Func, mode: Mode, ptr: Local, val: Local): void {
  f.get(ptr).get(val).f32x4_demote_f64x2_zero();
  if (mode === 'vec') f.v128_store64_lane0();
  else f.f32x4_extract_lane(0).f32_store();
}

/** Emits body(false) when the i32 local `ptr` is 0 (an absent operand), else body(true). */
function ifPresent(f: Func, ptr: Local, body: (present: boolean) => void): void {
  f.get(ptr).i32_eqz();
  f.if_(
    () => body(false),
    () => body(true),
  );
}

/** d = dh (+ dhSeq when present), in f64, into the v128 local d. */
function carried(f: Func, mode: Mode, pdh: Local, ps: Local, withSeq: boolean, d: Local, tmp: Local): void {
  load64(f, mode, pdh, d);
  if (withSeq) {
    load64(f, mode, ps, tmp);
    f.get(d).get(tmp).f64x2_add().set(d);
  }
}

/** out = y·(1 − y) (σ' from the output), in f64. */
function sigmoidDeriv(f: Func, y: Local): void {
  f.get(y).f64x2_const(1).get(y).f64x2_sub().f64x2_mul();
}

/** out = 1 − y·y (tanh' from the output), in f64. */
function tanhDeriv(f: Func, y: Local): void {
  f.f64x2_const(1).get(y).get(y).f64x2_mul().f64x2_sub();
}

/** for (row = 0; row < B; row++) body(row). */
function eachRow(f: Func, row: Local, B: Local, body: () => void): void {
  f.i32_const(0).set(row);
  f.block((done: Label) =>
    f.loop((next: Label) => {
      f.get(row).get(B).i32_ge_s().br_if(done);
      body();
      f.get(row).i32_const(1).i32_add().set(row);
      f.br(next);
    }),
  );
}

function params(f: Func, n: number): Local[] {
  return Array.from({ length: n }, (_, i) => f.param(i));
}

/** (func $vexp|$vsigmoid|$vtanh (param $dst $src $n)): dst[i] = fn(src[i]) for i < n. */
function emitVectorFunction(m: ModuleBuilder, name: string, fn: 'exp' | 'sigmoid' | 'tanh', fma: boolean): void {
  const f = m.func(name, [i32, i32, i32], [], true);
  const [dst, src, n] = params(f, 3) as [Local, Local, Local];
  const j = f.local(i32),
    x = f.local(v128);
  const vm = new VecMath(f, fma);
  eachElement(f, j, n, [dst, src], (mode) => {
    load(f, mode, src, x);
    vm[fn](x, x);
    store(f, mode, dst, x);
  });
}

/** (func $lstmGates (param $a $c $phiC $h $B $H)): see the header. */
function emitLstmGates(m: ModuleBuilder, fma: boolean): Func {
  const f = m.func('lstmGates', [i32, i32, i32, i32, i32, i32], [], true);
  const [a, c, phiC, h, B, H] = params(f, 6) as [Local, Local, Local, Local, Local, Local];
  const row = f.local(i32),
    j = f.local(i32),
    hb = f.local(i32),
    bh = f.local(i32);
  const [pi, pf, pg, po, pc, pcOut, pp, ph] = Array.from({ length: 8 }, () => f.local(i32)) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const [gi, gf, gg, go, ct, v] = Array.from({ length: 6 }, () => f.local(v128)) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const vm = new VecMath(f, fma);
  f.get(H).i32_const(2).i32_shl().set(hb); // H in bytes
  f.get(B).get(H).i32_mul().i32_const(2).i32_shl().set(bh); // B·H in bytes: c_{t-1} → c_t
  f.get(a).set(pi);
  f.get(c).set(pc);
  f.get(c).get(bh).i32_add().set(pcOut);
  f.get(phiC).set(pp);
  f.get(h).set(ph);
  eachRow(f, row, B, () => {
    f.get(pi).get(hb).i32_add().tee(pf).get(hb).i32_add().tee(pg).get(hb).i32_add().set(po);
    eachElement(f, j, H, [pi, pf, pg, po, pc, pcOut, pp, ph], (mode) => {
      load(f, mode, pi, v);
      vm.sigmoid(v, gi);
      store(f, mode, pi, gi); // i = σ(z_i)
      load(f, mode, pf, v);
      vm.sigmoid(v, gf);
      store(f, mode, pf, gf); // f = σ(z_f)
      load(f, mode, pg, v);
      vm.tanh(v, gg);
      store(f, mode, pg, gg); // g = φ(z_g)
      load(f, mode, po, v);
      vm.sigmoid(v, go);
      store(f, mode, po, go); // o = σ(z_o)
      load(f, mode, pc, v);
      f.get(gf).get(v).f32x4_mul().get(gi).get(gg).f32x4_mul().f32x4_add().set(ct); // c_t = f⊙c_{t-1} + i⊙g
      store(f, mode, pcOut, ct);
      vm.tanh(ct, v);
      store(f, mode, pp, v); // φ(c_t)
      f.get(go).get(v).f32x4_mul().set(v);
      store(f, mode, ph, v); // h_t = o⊙φ(c_t)
    });
    f.get(po).set(pi); // the o block ends where the next row starts
  });
  return f;
}

/** (func $gruGatesAfter (param $a $innerH $B $H)) and (func $gruGatesBefore (param $a $rh $hPrev $B $H)). */
function emitGruGates(m: ModuleBuilder, resetAfter: boolean, fma: boolean): Func {
  const f = m.func(
    resetAfter ? 'gruGatesAfter' : 'gruGatesBefore',
    new Array<typeof i32>(resetAfter ? 4 : 5).fill(i32),
    [],
    true,
  );
  const ps = params(f, resetAfter ? 4 : 5);
  const a = ps[0],
    aux = ps[1];
  const hPrev = resetAfter ? -1 : ps[2];
  const B = ps[ps.length - 2],
    H = ps[ps.length - 1];
  const row = f.local(i32),
    j = f.local(i32),
    hb = f.local(i32);
  const pz = f.local(i32),
    pr = f.local(i32),
    pa = f.local(i32),
    px = f.local(i32),
    php = f.local(i32);
  const r = f.local(v128),
    v = f.local(v128),
    w = f.local(v128);
  const vm = new VecMath(f, fma);
  f.get(H).i32_const(2).i32_shl().set(hb);
  f.get(aux).set(px);
  if (!resetAfter) f.get(hPrev).set(php);
  eachRow(f, row, B, () => {
    f.get(a)
      .get(row)
      .get(hb)
      .i32_mul()
      .i32_const(3)
      .i32_mul()
      .i32_add()
      .tee(pz)
      .get(hb)
      .i32_add()
      .tee(pr)
      .get(hb)
      .i32_add()
      .set(pa);
    eachElement(f, j, H, resetAfter ? [pz, pr, pa, px] : [pz, pr, px, php], (mode) => {
      load(f, mode, pz, v);
      vm.sigmoid(v, w);
      store(f, mode, pz, w); // z = σ(a_z)
      load(f, mode, pr, v);
      vm.sigmoid(v, r);
      store(f, mode, pr, r); // r = σ(a_r)
      if (resetAfter) {
        load(f, mode, pa, v);
        load(f, mode, px, w);
        f.get(v).get(r).get(w).f32x4_mul().f32x4_add().set(v); // a_h += r⊙innerH
        store(f, mode, pa, v);
      } else {
        load(f, mode, php, v);
        f.get(r).get(v).f32x4_mul().set(v); // rh = r⊙h_{t-1}
        store(f, mode, px, v);
      }
    });
  });
  return f;
}

/** (func $gruOutput (param $a $hPrev $hOut $B $H)): h̃ = φ(a_h) in place, h_t = z⊙h_{t-1} + (1−z)⊙h̃. */
function emitGruOutput(m: ModuleBuilder, fma: boolean): Func {
  const f = m.func('gruOutput', [i32, i32, i32, i32, i32], [], true);
  const [a, hPrev, hOut, B, H] = params(f, 5) as [Local, Local, Local, Local, Local];
  const row = f.local(i32),
    j = f.local(i32),
    hb = f.local(i32);
  const pz = f.local(i32),
    pa = f.local(i32),
    php = f.local(i32),
    pho = f.local(i32);
  const z = f.local(v128),
    v = f.local(v128),
    hh = f.local(v128);
  const vm = new VecMath(f, fma);
  f.get(H).i32_const(2).i32_shl().set(hb);
  f.get(hPrev).set(php);
  f.get(hOut).set(pho);
  eachRow(f, row, B, () => {
    f.get(a)
      .get(row)
      .get(hb)
      .i32_mul()
      .i32_const(3)
      .i32_mul()
      .i32_add()
      .tee(pz)
      .get(hb)
      .i32_const(1)
      .i32_shl()
      .i32_add()
      .set(pa);
    eachElement(f, j, H, [pz, pa, php, pho], (mode) => {
      load(f, mode, pa, v);
      vm.tanh(v, hh);
      store(f, mode, pa, hh); // h̃ = φ(a_h)
      load(f, mode, pz, z);
      load(f, mode, php, v);
      f.get(z).get(v).f32x4_mul().f32x4_const(1).get(z).f32x4_sub().get(hh).f32x4_mul().f32x4_add().set(v);
      store(f, mode, pho, v); // h_t = z⊙h_{t-1} + (1−z)⊙h̃
    });
  });
  return f;
}

/**
 * (func $lstmBackward (param $dz $dh $dc $dhSeq $a $cPrev $phiC $B $H)): one step of fast/lstm.ts's backward loop, σ = sigmoid,
 * φ = tanh. a, dz [B,4H]; dh, dc, dhSeq, cPrev, phiC [B,H]; dhSeq = 0: none. In f64, per element (see the header):
 *   dhv = dh + dhSeq;   dcv = dc + (dhv·o)·(1 − φc·φc)
 *   dz = [(dcv·g)·(i·(1−i)) | (dcv·c_{t-1})·(f·(1−f)) | (dcv·i)·(1 − g·g) | (dhv·φc)·(o·(1−o))];   dc ← dcv·f
 */
function emitLstmBackward(m: ModuleBuilder): void {
  const f = m.func('lstmBackward', new Array<typeof i32>(9).fill(i32), [], true);
  const [dz, dh, dc, dhSeq, a, cPrev, phiC, B, H] = params(f, 9) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const row = f.local(i32),
    j = f.local(i32),
    hb = f.local(i32);
  const [pi, pf, pg, po, qi, qf, qg, qo] = Array.from({ length: 8 }, () => f.local(i32)) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const [gi, gf, gg, go, pc, dhv, dcv, v] = Array.from({ length: 8 }, () => f.local(v128)) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  f.get(H).i32_const(2).i32_shl().set(hb);
  ifPresent(f, dhSeq, (withSeq) => {
    f.get(a).set(pi);
    f.get(dz).set(qi);
    eachRow(f, row, B, () => {
      f.get(pi).get(hb).i32_add().tee(pf).get(hb).i32_add().tee(pg).get(hb).i32_add().set(po);
      f.get(qi).get(hb).i32_add().tee(qf).get(hb).i32_add().tee(qg).get(hb).i32_add().set(qo);
      eachElement(
        f,
        j,
        H,
        [pi, pf, pg, po, qi, qf, qg, qo, dh, dc, cPrev, phiC, ...(withSeq ? [dhSeq] : [])],
        (mode) => {
          load64(f, mode, pi, gi);
          load64(f, mode, pf, gf);
          load64(f, mode, pg, gg);
          load64(f, mode, po, go);
          load64(f, mode, phiC, pc);
          carried(f, mode, dh, dhSeq, withSeq, dhv, v);
          load64(f, mode, dc, dcv);
          f.get(dcv).get(dhv).get(go).f64x2_mul();
          tanhDeriv(f, pc);
          f.f64x2_mul().f64x2_add().set(dcv); // dcv
          f.get(dcv).get(gg).f64x2_mul();
          sigmoidDeriv(f, gi);
          f.f64x2_mul().set(v);
          store64(f, mode, qi, v); // di⊙σ'(i)
          load64(f, mode, cPrev, v);
          f.get(dcv).get(v).f64x2_mul();
          sigmoidDeriv(f, gf);
          f.f64x2_mul().set(v);
          store64(f, mode, qf, v); // df⊙σ'(f)
          f.get(dcv).get(gi).f64x2_mul();
          tanhDeriv(f, gg);
          f.f64x2_mul().set(v);
          store64(f, mode, qg, v); // dg⊙φ'(g)
          f.get(dhv).get(pc).f64x2_mul();
          sigmoidDeriv(f, go);
          f.f64x2_mul().set(v);
          store64(f, mode, qo, v); // do⊙σ'(o)
          f.get(dcv).get(gf).f64x2_mul().set(v);
          store64(f, mode, dc, v); // dc ← dcv·f
        },
        2,
      );
      f.get(po).set(pi); // the o block ends where the next row starts
      f.get(qo).set(qi);
    });
  });
}

/**
 * (func $gruBackwardAfter (param $dz $dInner $dh $dhSeq $a $hPrev $innerH $B $H)): one step of fast/gru.ts's backward loop,
 * resetAfter, σ = sigmoid, φ = tanh. a, dz, dInner [B,3H] = [z|r|h̃]; dh, dhSeq, hPrev, innerH [B,H]. In f64:
 *   d = dh + dhSeq;   dzh = (d·(1−z))·(1 − h̃·h̃);   dzz = (d·(h_{t-1} − h̃))·(z·(1−z));   dzr = (dzh·innerH)·(r·(1−r))
 *   dz = [dzz | dzr | dzh];   dInner = [dzz | dzr | dzh·r];   dh ← d·z
 * (func $gruBackwardBefore (param $dz $dh $dhSeq $a $hPrev $B $H)): the classic variant's first pass: dz_z, dz_h as
 *   above, dh ← d·z.   (func $gruBackwardReset (param $dz $dh $drh $a $hPrev $B $H)): its second pass, after
 *   drh = dz_h·U_hᵀ:  dz_r = (drh·h_{t-1})·(r·(1−r));   dh ← dh + drh·r.
 */
function emitGruBackward(m: ModuleBuilder, kind: 'after' | 'before' | 'reset'): void {
  const names = { after: 'gruBackwardAfter', before: 'gruBackwardBefore', reset: 'gruBackwardReset' };
  const n = kind === 'after' ? 9 : 7;
  const f = m.func(names[kind], new Array<typeof i32>(n).fill(i32), [], true);
  const ps = params(f, n);
  const dz = ps[0];
  const dInner = kind === 'after' ? ps[1] : -1;
  const rest = kind === 'after' ? ps.slice(2) : ps.slice(1);
  // after: dh dhSeq a hPrev innerH B H;  before: dh dhSeq a hPrev B H;  reset: dh drh a hPrev B H
  const dh = rest[0],
    aux = rest[1],
    a = rest[2],
    hPrev = rest[3];
  const innerH = kind === 'after' ? rest[4] : -1;
  const B = ps[n - 2],
    H = ps[n - 1];
  const row = f.local(i32),
    j = f.local(i32),
    hb = f.local(i32),
    ro = f.local(i32);
  const [pz, pr, ph, qz, qr, qh, iz, ir, ih] = Array.from({ length: 9 }, () => f.local(i32)) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const [z, r, hh, hp, d, dzh, dzz, v] = Array.from({ length: 8 }, () => f.local(v128)) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  f.get(H).i32_const(2).i32_shl().set(hb);
  const rows = (withSeq: boolean): void => {
    eachRow(f, row, B, () => {
      f.get(row).get(hb).i32_mul().i32_const(3).i32_mul().set(ro); // the row's byte offset in [B,3H]
      f.get(a).get(ro).i32_add().tee(pz).get(hb).i32_add().tee(pr).get(hb).i32_add().set(ph);
      f.get(dz).get(ro).i32_add().tee(qz).get(hb).i32_add().tee(qr).get(hb).i32_add().set(qh);
      if (kind === 'after') f.get(dInner).get(ro).i32_add().tee(iz).get(hb).i32_add().tee(ir).get(hb).i32_add().set(ih);
      const ptrs =
        kind === 'after'
          ? [pz, pr, ph, qz, qr, qh, iz, ir, ih, dh, hPrev, innerH]
          : kind === 'before'
            ? [pz, ph, qz, qh, dh, hPrev]
            : [pr, qr, dh, hPrev];
      if (withSeq) ptrs.push(aux);
      eachElement(
        f,
        j,
        H,
        ptrs,
        (mode) => {
          if (kind === 'reset') {
            load64(f, mode, pr, r);
            load64(f, mode, aux, d);
            load64(f, mode, hPrev, hp);
            f.get(d).get(hp).f64x2_mul();
            sigmoidDeriv(f, r);
            f.f64x2_mul().set(v);
            store64(f, mode, qr, v); // dz_r
            load64(f, mode, dh, v);
            f.get(v).get(d).get(r).f64x2_mul().f64x2_add().set(v);
            store64(f, mode, dh, v); // dh += drh·r
            return;
          }
          load64(f, mode, pz, z);
          load64(f, mode, ph, hh);
          load64(f, mode, hPrev, hp);
          carried(f, mode, dh, aux, withSeq, d, v);
          f.get(d).f64x2_const(1).get(z).f64x2_sub().f64x2_mul();
          tanhDeriv(f, hh);
          f.f64x2_mul().set(dzh); // dzh
          f.get(d).get(hp).get(hh).f64x2_sub().f64x2_mul();
          sigmoidDeriv(f, z);
          f.f64x2_mul().set(dzz); // dzz
          store64(f, mode, qz, dzz);
          store64(f, mode, qh, dzh);
          f.get(d).get(z).f64x2_mul().set(v);
          store64(f, mode, dh, v); // dh ← d·z
          if (kind === 'after') {
            load64(f, mode, pr, r);
            load64(f, mode, innerH, v);
            f.get(dzh).get(v).f64x2_mul();
            sigmoidDeriv(f, r);
            f.f64x2_mul().set(v); // dzr
            store64(f, mode, qr, v);
            store64(f, mode, iz, dzz);
            store64(f, mode, ir, v);
            f.get(dzh).get(r).f64x2_mul().set(v);
            store64(f, mode, ih, v); // dzh·r
          }
        },
        2,
      );
    });
  };
  if (kind === 'before' || kind === 'after') ifPresent(f, aux, rows);
  else rows(true);
}

/**
 * (func $tanhBackward (param $dz $dh $dhSeq $h $n)): one step of fast/rnn.ts's backward loop for φ = tanh, over n = B·H
 * elements: dz = dh + dhSeq (rounded to f32, as fast/rnn.ts stores it), then dz ← dz·(1 − h_t·h_t); dhSeq = 0: none.
 */
function emitTanhBackward(m: ModuleBuilder): void {
  const f = m.func('tanhBackward', [i32, i32, i32, i32, i32], [], true);
  const [dz, dh, dhSeq, h, n] = params(f, 5) as [Local, Local, Local, Local, Local];
  const j = f.local(i32);
  const d = f.local(v128),
    v = f.local(v128),
    y = f.local(v128);
  ifPresent(f, dhSeq, (withSeq) => {
    eachElement(
      f,
      j,
      n,
      withSeq ? [dz, dh, dhSeq, h] : [dz, dh, h],
      (mode) => {
        carried(f, mode, dh, dhSeq, withSeq, d, v);
        f.get(d).f32x4_demote_f64x2_zero().f64x2_promote_low_f32x4().set(d); // the f32 that fast/rnn.ts stores in dz
        load64(f, mode, h, y);
        f.get(d);
        tanhDeriv(f, y);
        f.f64x2_mul().set(d);
        store64(f, mode, dz, d);
      },
      2,
    );
  });
}

/** (func $addBias (param $c $ldc $b $M $N)): C[i, j] += b[j] for i < M, j < N (ldc in elements). */
function emitAddBias(m: ModuleBuilder): Func {
  const f = m.func('addBias', [i32, i32, i32, i32, i32], [], true);
  const [c, ldc, b, M, N] = params(f, 5) as [Local, Local, Local, Local, Local];
  const row = f.local(i32),
    j = f.local(i32),
    pc = f.local(i32),
    pb = f.local(i32);
  const v = f.local(v128),
    w = f.local(v128);
  eachRow(f, row, M, () => {
    f.get(c).get(row).get(ldc).i32_mul().i32_const(2).i32_shl().i32_add().set(pc);
    f.get(b).set(pb);
    eachElement(f, j, N, [pc, pb], (mode) => {
      load(f, mode, pc, v);
      load(f, mode, pb, w);
      f.get(v).get(w).f32x4_add().set(v);
      store(f, mode, pc, v);
    });
  });
  return f;
}

/**
 * (func $sumRows (param $s $c $ldc $M $N)): s[j] = fl32(s[j] + Σ_{i<M} C[i, j]) with the sum in f64, rows in order:
 * matmul.ts's sumRows (the bias gradient db += Σ dZ) bit for bit. Strips of 16 columns (eight f64x2 sums: one cache
 * line of each row per pass over the rows), then 2, then 1.
 */
function emitSumRows(m: ModuleBuilder): void {
  const f = m.func('sumRows', [i32, i32, i32, i32, i32], [], true);
  const [ps, c, ldc, M, N] = params(f, 5) as [Local, Local, Local, Local, Local];
  const j = f.local(i32),
    i = f.local(i32),
    pc = f.local(i32),
    step = f.local(i32);
  const acc = Array.from({ length: 8 }, () => f.local(v128));
  const v = f.local(v128);
  f.get(ldc).i32_const(2).i32_shl().set(step);
  f.i32_const(0).set(j);
  for (const width of [16, 2, 1]) {
    const pairs = Math.max(1, width / 2);
    f.block((done: Label) =>
      f.loop((next: Label) => {
        f.get(j).i32_const(width).i32_add().get(N).i32_gt_s().br_if(done);
        for (let q = 0; q < pairs; q++) f.f64x2_const(0).set(acc[q]);
        f.get(c).get(j).i32_const(2).i32_shl().i32_add().set(pc);
        f.i32_const(0).set(i);
        f.block((rowsDone: Label) =>
          f.loop((row: Label) => {
            f.get(i).get(M).i32_ge_s().br_if(rowsDone);
            for (let q = 0; q < pairs; q++) {
              f.get(acc[q]).get(pc);
              if (width === 1) f.f32_load().f32x4_splat();
              else f.v128_load64_zero(8 * q);
              f.f64x2_promote_low_f32x4().f64x2_add().set(acc[q]);
            }
            f.get(pc).get(step).i32_add().set(pc);
            f.get(i).i32_const(1).i32_add().set(i);
            f.br(row);
          }),
        );
        for (let q = 0; q < pairs; q++) {
          const mode: Mode = width === 1 ? 'lane' : 'vec';
          f.get(ps)
            .i32_const(8 * q)
            .i32_add()
            .set(pc);
          load64(f, mode, pc, v);
          f.get(v).get(acc[q]).f64x2_add().set(v);
          store64(f, mode, pc, v);
        }
        f.get(ps)
          .i32_const(4 * width)
          .i32_add()
          .set(ps);
        f.get(j).i32_const(width).i32_add().set(j);
        f.br(next);
      }),
    );
  }
}

/**
 * (func $foldBlocks (param $p $n $count)): p[k] = fl32(…fl32(p[k] + p[n + k]) + … + p[(count−1)·n + k]) for k < n: the
 * blocks 1…count−1 of n floats added into block 0 in block order (the cells' S = Σ_t dz_t for a repeated input), the
 * bits of the TypeScript loop `for t: for k: dz[k] += dz[t·n + k]` on a Float32Array. k outer in strips of 16, then 4,
 * then 1, so each strip's sums stay in registers while the blocks stream past.
 */
function emitFoldBlocks(m: ModuleBuilder): void {
  const f = m.func('foldBlocks', [i32, i32, i32], [], true);
  const [p, n, count] = params(f, 3) as [Local, Local, Local];
  const k = f.local(i32),
    t = f.local(i32),
    q0 = f.local(i32),
    step = f.local(i32);
  const acc = Array.from({ length: 4 }, () => f.local(v128));
  f.get(n).i32_const(2).i32_shl().set(step);
  f.i32_const(0).set(k);
  for (const width of [16, 4, 1]) {
    const vecs = Math.max(1, width / 4);
    f.block((done: Label) =>
      f.loop((next: Label) => {
        f.get(k).i32_const(width).i32_add().get(n).i32_gt_s().br_if(done);
        for (let q = 0; q < vecs; q++) {
          f.get(p);
          if (width === 1) f.f32_load().f32x4_splat();
          else f.v128_load(16 * q);
          f.set(acc[q]);
        }
        f.get(p).set(q0);
        f.i32_const(1).set(t);
        f.block((blocksDone: Label) =>
          f.loop((block: Label) => {
            f.get(t).get(count).i32_ge_s().br_if(blocksDone);
            f.get(q0).get(step).i32_add().set(q0);
            for (let q = 0; q < vecs; q++) {
              f.get(acc[q]).get(q0);
              if (width === 1) f.f32_load().f32x4_splat();
              else f.v128_load(16 * q);
              f.f32x4_add().set(acc[q]);
            }
            f.get(t).i32_const(1).i32_add().set(t);
            f.br(block);
          }),
        );
        for (let q = 0; q < vecs; q++) {
          f.get(p).get(acc[q]);
          if (width === 1) f.f32x4_extract_lane(0).f32_store();
          else f.v128_store(16 * q);
        }
        f.get(p)
          .i32_const(4 * width)
          .i32_add()
          .set(p);
        f.get(k).i32_const(width).i32_add().set(k);
        f.br(next);
      }),
    );
  }
}

/**
 * Adds the vector functions, gate kernels and addBias of the header to the module, all exported; returns the ones that
 * module.ts's time loops call.
 */
export function emitGates(m: ModuleBuilder, fma = false): StepKernels {
  const addBias = emitAddBias(m);
  emitSumRows(m);
  emitFoldBlocks(m);
  emitVectorFunction(m, 'vexp', 'exp', fma);
  emitVectorFunction(m, 'vsigmoid', 'sigmoid', fma);
  emitVectorFunction(m, 'vtanh', 'tanh', fma);
  const lstmGates = emitLstmGates(m, fma);
  const gruGatesAfter = emitGruGates(m, true, fma);
  const gruGatesBefore = emitGruGates(m, false, fma);
  const gruOutput = emitGruOutput(m, fma);
  emitLstmBackward(m);
  emitGruBackward(m, 'after');
  emitGruBackward(m, 'before');
  emitGruBackward(m, 'reset');
  emitTanhBackward(m);
  return { addBias, lstmGates, gruGatesAfter, gruGatesBefore, gruOutput };
}

/** The kernels module.ts's time loops (lstmSteps, gruSteps) call. */
export interface StepKernels {
  addBias: Func;
  lstmGates: Func;
  gruGatesAfter: Func;
  gruGatesBefore: Func;
  gruOutput: Func;
}

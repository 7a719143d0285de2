/**
 * The WebAssembly SIMD matmul module, written with emit.ts. `buildGemmModule()` returns the module's bytes (about 5 KB of
 * products, then the elementwise kernels of gates.ts: f32x4 exp/sigmoid/tanh, addBias and the cells' forward gates);
 * arena.ts builds and compiles them once per process, when the first arena is created (a few ms warm, a few tens of ms
 * while the JIT is still cold). Read it like a .wat file: each `f.…()` line is a line of WebAssembly text in stack order,
 * and the TypeScript `for` loops around some of them are macros that unroll code at build time (the 4×8 accumulators of
 * the micro-kernel, the rows of a 4×4 transpose). No code is generated per call or per shape.
 *
 * Exported functions (pointers are byte addresses in the imported memory; leading dimensions ld and increments inc are
 * counts of f32 elements; acc = 0 overwrites C, 1 adds into it):
 *   matmul    (c, ldc, a, lda, b, ldb, M, K, N, acc)   C[M,N] (+)= A[M,K] · B[K,N]
 *   matmulABt (c, ldc, a, lda, b, ldb, M, K, N, acc)   C[M,N] (+)= A[M,K] · B[N,K]ᵀ
 *   matmulAtB (c, ldc, a, lda, b, ldb, M, K, N, acc)   C[M,N] (+)= A[K,M]ᵀ · B[K,N]
 *   matmulPacked (c, ldc, a, lda, bp, M, K, N, acc)   C[M,N] (+)= A[M,K] · B, B packed once at bp (M ≥ 4; see below)
 *   gemv      (c, x, incx, b, ldb, K, N, acc)          c[N]   (+)= x[K] · B[K,N]     (x(k) = x[k·incx])
 *   gemvBt    (c, x, incx, b, ldb, K, N, acc)          c[N]   (+)= x[K] · B[N,K]ᵀ
 * The three products share one engine, `gemm`, that reads A(i,k) = a[i·sAi + k·sAk] and B(k,j) = b[k·sBk + j·sBj]
 * (strides in bytes), exactly like kernels/matmul.ts.
 *
 * How it is fast (GotoBLAS / BLIS structure, sized for 128-bit SIMD and the 16 xmm registers V8 allocates from on x64):
 *  - Micro-kernel: a 4×8 tile of C in eight f32x4 accumulators. Per k it loads one row of the packed B panel
 *    (2 × v128.load = 8 columns), and for each of the 4 rows one value of the packed A panel broadcast to all lanes
 *    (v128.load32_splat): 8 f32x4.mul + 8 f32x4.add = 64 flops for 6 loads. 8 accumulators + 2 B vectors + 1 splat +
 *    1 product temporary = 12 registers, so nothing spills (checked with node --print-wasm-code: TurboFan keeps all in
 *    xmm0–14 and unrolls the k loop twice). Alone, this loop runs at the in-register mul+add peak; 6×8 or 4×12 tiles
 *    need 16–17 registers, spill, and run slower.
 *  - Packing: for each block of KC k-values and NC columns, B is copied once into panels of 8 columns, P[k][8]
 *    (k-major, so the micro-kernel reads it sequentially); for each block of MC rows, A is copied into panels of 4 rows,
 *    P[k][4]. Transposed operands are transposed by the copy (4×4 blocks through i8x16.shuffle), so the micro-kernel
 *    never sees a stride and the three products run the same kernel. Panels are zero-padded to whole tiles.
 *  - Packed once: a B used by many products (the recurrent U of a time loop) can be packed by the caller into the
 *    layout the engine builds per (jc, pc) block — block (jc, pc) at jc·K + pc·nc8 floats (nc8 = nc rounded up to 8),
 *    its panels as in BPACK — and passed to matmulPacked, which then reads the panels there instead of packing B again.
 *    The panels hold the same floats, so the results are bit for bit those of the unpacked product.
 *  - Loop order (BLIS): jc (NC columns) › pc (KC k-values; pack B) › ic (MC rows; pack A) › jr (8 columns) › ir (4 rows).
 *    The B micro-panel (KC·8 floats = 8 KB) stays in L1 while the A panels of the block (MC·KC floats = 64 KB) stream
 *    from L2; the packed B block (KC·NC floats = 512 KB) sits in L2.
 *  - Edges: rows and columns beyond M and N are zeros in the panels; a partial tile is written to a 4×8 scratch tile
 *    and copied into C with scalar stores, so no store goes past the block of C.
 *  - Fewer than 4 rows (batch 1, the streaming case) skip packing: `gemv` keeps 16 output columns in 4 accumulators per
 *    pass over k; `gemvBt` reads 4 rows of B 4 k-values at a time and transposes them in registers.
 *
 * Numeric contract (the same for every path here, and why a row's result does not depend on its position in the batch):
 *   C[i,j] = Σ over k-blocks [k0, k0+KC) in order of  s = fl32(…fl32(fl32(0 + fl32(A(i,k0)·B(k0,j))) + …)),
 *   added as C = fl32(C + s) (or stored as C = s for the first block of an overwrite). Every product and every sum is
 *   rounded to f32 (wasm SIMD has no fused multiply-add, and f32x4 lanes round exactly like f32 scalars), in k order, so
 *   the tile path, the edge tiles, gemv and gemvBt produce the same bits for the same row. kernels/matmul.ts instead sums
 *   in float64 within a k-block, so the two differ by rounding: |C_wasm − C_exact| ≤ (K + 2)·2⁻²⁴·(Σ_k |A(i,k)·B(k,j)| + |C₀|)
 *   (the standard bound for recursive summation; in practice the error is about √K·2⁻²⁴ times that sum).
 *
 * Two variants of the module, the same code but for the multiply-add (`buildGemmModule({ fma })`):
 *   'simd128'      s = fl32(s + fl32(a·b)): f32x4.mul then f32x4.add, as above. Runs on every engine with SIMD128.
 *   'relaxed-fma'  s = fl32(s + a·b): f32x4.relaxed_madd, one rounding where the CPU has FMA (every x86-64 since
 *                  Haswell/Zen and arm64; elsewhere V8 lowers it to mul then add, which gives the simd128 bits). Needs
 *                  relaxed SIMD (Node ≥ 22 and current Chrome; Node 20 behind --experimental-wasm-relaxed-simd).
 *                  Every multiply-add of every path (tiles, edge tiles, gemv, gemvBt, their scalar columns, which
 *                  use lane 0 of relaxed_madd since wasm has no scalar FMA) is fused, so the row contract holds here too.
 *   The two differ in the last bits of most results (both within the bound above; FMA's is the smaller). Within one
 *   variant on one machine the bits repeat run to run and do not depend on the batch.
 *
 * Memory: the module imports `env.memory` and `env.scratch`, the byte address of its private scratch region (SCRATCH_BYTES,
 * allocated by the arena): TILE (4×8 f32) at +0, APACK (MC·KC f32) at +256, BPACK (KC·NC f32) after it. The packers and
 * the edge-tile copy write only there. One instance per thread: two instances on one shared memory need two scratches.
 */
import { type Func, type Global, type Label, type Local, ModuleBuilder, f32, i32, lanes32, v128 } from './emit.js';
import { type StepKernels, emitGates } from './gates.js';

/** Micro-tile rows and columns. */
export const MR = 4;
export const NR = 8;
/** k-block: rows of a packed panel. Also the k-block of gemv/gemvBt, so every path rounds at the same k. */
export const KC = 256;
/** Rows of A packed at once. */
export const MC = 64;
/** Columns of B packed at once. */
export const NC = 512;

/** Offsets in the scratch region, and its size. */
const TILE = 0;
const APACK = 256;
const BPACK = APACK + MC * KC * 4;
export const SCRATCH_BYTES = BPACK + KC * NC * 4;

/** Pushes one value onto the stack: a local or a constant. */
type Operand = { local: Local } | { value: number };
const L = (local: Local): Operand => ({ local });
const C = (value: number): Operand => ({ value });
function push(f: Func, o: Operand): void {
  if ('local' in o) f.get(o.local);
  else f.i32_const(o.value);
}

/** for (i = from; i < to; i += step) body  — as (block $done (loop $next (br_if $done (i ≥ to)) body (i += step) (br $next))). */
function forUp(f: Func, i: Local, from: Operand, to: Operand, step: Operand, body: (done: Label) => void): void {
  push(f, from);
  f.set(i);
  f.block((done) =>
    f.loop((next) => {
      f.get(i);
      push(f, to);
      f.i32_ge_s().br_if(done);
      body(done);
      f.get(i);
      push(f, step);
      f.i32_add().set(i);
      f.br(next);
    }),
  );
}

/** dst = min(a − b, cap)  (a, b, cap: operands): the size of the last, partial block. */
function minRest(f: Func, dst: Local, a: Operand, b: Operand, cap: number): void {
  push(f, a);
  push(f, b);
  f.i32_sub().tee(dst);
  f.i32_const(cap);
  f.get(dst).i32_const(cap).i32_lt_s();
  f.select().set(dst);
}

/** Emits t0..t3 = columns of the 4×4 block whose rows are v0..v3 (x0..x3 are scratch locals). */
function transpose4(f: Func, v: Local[], x: Local[], t: Local[]): void {
  const [v0, v1, v2, v3] = v as [Local, Local, Local, Local];
  const [x0, x1, x2, x3] = x as [Local, Local, Local, Local];
  f.get(v0)
    .get(v1)
    .i8x16_shuffle(lanes32(0, 4, 1, 5))
    .set(x0); // v0[0] v1[0] v0[1] v1[1]
  f.get(v2)
    .get(v3)
    .i8x16_shuffle(lanes32(0, 4, 1, 5))
    .set(x1); // v2[0] v3[0] v2[1] v3[1]
  f.get(v0)
    .get(v1)
    .i8x16_shuffle(lanes32(2, 6, 3, 7))
    .set(x2); // v0[2] v1[2] v0[3] v1[3]
  f.get(v2)
    .get(v3)
    .i8x16_shuffle(lanes32(2, 6, 3, 7))
    .set(x3); // v2[2] v3[2] v2[3] v3[3]
  f.get(x0)
    .get(x1)
    .i8x16_shuffle(lanes32(0, 1, 4, 5))
    .set(t[0]); // column 0
  f.get(x0)
    .get(x1)
    .i8x16_shuffle(lanes32(2, 3, 6, 7))
    .set(t[1]); // column 1
  f.get(x2)
    .get(x3)
    .i8x16_shuffle(lanes32(0, 1, 4, 5))
    .set(t[2]); // column 2
  f.get(x2)
    .get(x3)
    .i8x16_shuffle(lanes32(2, 3, 6, 7))
    .set(t[3]); // column 3
}

/**
 * acc ← acc + x·y in f32x4 lanes, where x() and y() push one v128 each: f32x4.relaxed_madd when `fma` (one rounding
 * where the CPU has FMA), else f32x4.mul then f32x4.add (two roundings; the bytes of the SIMD128 module).
 */
function mac(f: Func, fma: boolean, acc: Local, x: () => void, y: () => void): void {
  if (fma) {
    x();
    y();
    f.get(acc).f32x4_relaxed_madd().set(acc);
  } else {
    f.get(acc);
    x();
    y();
    f.f32x4_mul().f32x4_add().set(acc);
  }
}

function locals(f: Func, type: typeof i32, n: number): Local[] {
  return Array.from({ length: n }, () => f.local(type));
}

/** (func $zero (param $c $ldc $M $N)): C[M,N] = 0, for K = 0 overwrites. */
function emitZero(m: ModuleBuilder): Func {
  const f = m.func('zero', [i32, i32, i32, i32], [], false);
  const [c, ldc, M, N] = [0, 1, 2, 3].map((i) => f.param(i)) as [Local, Local, Local, Local];
  const i = f.local(i32),
    j = f.local(i32);
  forUp(f, i, C(0), L(M), C(1), () => {
    forUp(f, j, C(0), L(N), C(1), () => {
      f.get(c).get(j).i32_const(2).i32_shl().i32_add().f32_const(0).f32_store();
    });
    f.get(c).get(ldc).i32_add().set(c);
  });
  return f;
}

/**
 * (func $packPanel (param $dst $src $sK $sW $kc $w $W)): the general (scalar) packer for edge panels and odd strides.
 * dst[k·W + c] = c < w ? src(k, c) : 0 for k < kc, c < W, where src(k, c) is the f32 at src + k·sK + c·sW.
 */
function emitPackPanel(m: ModuleBuilder): Func {
  const f = m.func('packPanel', [i32, i32, i32, i32, i32, i32, i32], [], false);
  const [dst, src, sK, sW, kc, w, W] = [0, 1, 2, 3, 4, 5, 6].map((i) => f.param(i)) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const k = f.local(i32),
    col = f.local(i32),
    s = f.local(i32);
  forUp(f, k, C(0), L(kc), C(1), () => {
    f.get(src).set(s);
    forUp(f, col, C(0), L(W), C(1), () => {
      f.get(col).get(w).i32_lt_s();
      f.if_(
        () => {
          f.get(dst).get(s).f32_load().f32_store();
        },
        () => {
          f.get(dst).f32_const(0).f32_store();
        },
      );
      f.get(dst).i32_const(4).i32_add().set(dst);
      f.get(s).get(sW).i32_add().set(s);
    });
    f.get(src).get(sK).i32_add().set(src);
  });
  return f;
}

/**
 * (func $packA (param $src $sAi $sAk $mc $kc)): rows i < mc, k < kc of A into APACK as panels of 4 rows,
 * APACK[(i/4)·4kc + 4k + i%4]. Fast paths: Aᵀ (rows adjacent: one v128 per k) and A (rows contiguous in k: 4×4
 * transposes); anything else (and a last panel of fewer than 4 rows) goes through packPanel.
 */
function emitPackA(m: ModuleBuilder, scratch: Global, packPanel: Func): Func {
  const f = m.func('packA', [i32, i32, i32, i32, i32], [], false);
  const [src, sAi, sAk, mc, kc] = [0, 1, 2, 3, 4].map((i) => f.param(i)) as [Local, Local, Local, Local, Local];
  const i = f.local(i32),
    w = f.local(i32),
    dst = f.local(i32),
    s = f.local(i32),
    k = f.local(i32);
  const r = locals(f, i32, 4);
  const v = locals(f, v128, 4),
    x = locals(f, v128, 4),
    t = locals(f, v128, 4);
  f.global_get(scratch).i32_const(APACK).i32_add().set(dst);
  forUp(f, i, C(0), L(mc), C(4), () => {
    minRest(f, w, L(mc), L(i), 4);
    f.get(src).get(i).get(sAi).i32_mul().i32_add().set(s); // s = &A(i, 0)
    f.get(w).i32_const(4).i32_eq().get(sAi).i32_const(4).i32_eq().i32_and();
    f.if_(
      () => {
        // Aᵀ: A(i..i+3, k) are 4 adjacent floats.
        forUp(f, k, C(0), L(kc), C(1), () => {
          f.get(dst).get(s).v128_load().v128_store();
          f.get(dst).i32_const(16).i32_add().set(dst);
          f.get(s).get(sAk).i32_add().set(s);
        });
      },
      () => {
        f.get(w).i32_const(4).i32_eq().get(sAk).i32_const(4).i32_eq().i32_and();
        f.if_(
          () => {
            // A: row r of the panel is contiguous in k. Read 4 k-values of 4 rows, transpose, write 4 panel rows.
            for (let q = 0; q < 4; q++) f.get(s).i32_const(q).get(sAi).i32_mul().i32_add().set(r[q]);
            f.i32_const(0).set(k);
            f.block((done) =>
              f.loop((next) => {
                f.get(k).i32_const(4).i32_add().get(kc).i32_gt_s().br_if(done);
                for (let q = 0; q < 4; q++) f.get(r[q]).v128_load().set(v[q]);
                transpose4(f, v, x, t);
                for (let q = 0; q < 4; q++)
                  f.get(dst)
                    .get(t[q])
                    .v128_store(16 * q);
                f.get(dst).i32_const(64).i32_add().set(dst);
                for (let q = 0; q < 4; q++) f.get(r[q]).i32_const(16).i32_add().set(r[q]);
                f.get(k).i32_const(4).i32_add().set(k);
                f.br(next);
              }),
            );
            // k tail (kc mod 4): one scalar per row.
            f.block((done) =>
              f.loop((next) => {
                f.get(k).get(kc).i32_ge_s().br_if(done);
                for (let q = 0; q < 4; q++) {
                  f.get(dst)
                    .get(r[q])
                    .f32_load()
                    .f32_store(4 * q);
                  f.get(r[q]).i32_const(4).i32_add().set(r[q]);
                }
                f.get(dst).i32_const(16).i32_add().set(dst);
                f.get(k).i32_const(1).i32_add().set(k);
                f.br(next);
              }),
            );
          },
          () => {
            f.get(dst).get(s).get(sAk).get(sAi).get(kc).get(w).i32_const(4).call(packPanel);
            f.get(dst).get(kc).i32_const(16).i32_mul().i32_add().set(dst);
          },
        );
      },
    );
  });
  return f;
}

/**
 * (func $packB (param $src $sBk $sBj $kc $nc)): k < kc, columns j < nc of B into BPACK as panels of 8 columns,
 * BPACK[(j/8)·8kc + 8k + j%8]. Fast paths: B (columns contiguous: two v128 per k) and Bᵀ (each column contiguous in k:
 * two 4×4 transposes per 4 k-values); the last partial panel and odd strides go through packPanel.
 */
function emitPackB(m: ModuleBuilder, scratch: Global, packPanel: Func): Func {
  const f = m.func('packB', [i32, i32, i32, i32, i32], [], false);
  const [src, sBk, sBj, kc, nc] = [0, 1, 2, 3, 4].map((i) => f.param(i)) as [Local, Local, Local, Local, Local];
  const j = f.local(i32),
    w = f.local(i32),
    dst = f.local(i32),
    s = f.local(i32),
    k = f.local(i32);
  const r = locals(f, i32, 8);
  const v = locals(f, v128, 4),
    x = locals(f, v128, 4),
    t = locals(f, v128, 4);
  f.global_get(scratch).i32_const(BPACK).i32_add().set(dst);
  forUp(f, j, C(0), L(nc), C(8), () => {
    minRest(f, w, L(nc), L(j), 8);
    f.get(src).get(j).get(sBj).i32_mul().i32_add().set(s); // s = &B(0, j)
    f.get(w).i32_const(8).i32_eq().get(sBj).i32_const(4).i32_eq().i32_and();
    f.if_(
      () => {
        // B: B(k, j..j+7) are 8 adjacent floats.
        forUp(f, k, C(0), L(kc), C(1), () => {
          f.get(dst).get(s).v128_load().v128_store();
          f.get(dst).get(s).v128_load(16).v128_store(16);
          f.get(dst).i32_const(32).i32_add().set(dst);
          f.get(s).get(sBk).i32_add().set(s);
        });
      },
      () => {
        f.get(w).i32_const(8).i32_eq().get(sBk).i32_const(4).i32_eq().i32_and();
        f.if_(
          () => {
            // Bᵀ: column j+q of the panel is a row of the stored matrix, contiguous in k.
            for (let q = 0; q < 8; q++) f.get(s).i32_const(q).get(sBj).i32_mul().i32_add().set(r[q]);
            f.i32_const(0).set(k);
            f.block((done) =>
              f.loop((next) => {
                f.get(k).i32_const(4).i32_add().get(kc).i32_gt_s().br_if(done);
                for (let half = 0; half < 2; half++) {
                  // columns j..j+3, then j+4..j+7
                  for (let q = 0; q < 4; q++)
                    f.get(r[4 * half + q])
                      .v128_load()
                      .set(v[q]);
                  transpose4(f, v, x, t);
                  for (let q = 0; q < 4; q++)
                    f.get(dst)
                      .get(t[q])
                      .v128_store(32 * q + 16 * half);
                }
                f.get(dst).i32_const(128).i32_add().set(dst);
                for (let q = 0; q < 8; q++) f.get(r[q]).i32_const(16).i32_add().set(r[q]);
                f.get(k).i32_const(4).i32_add().set(k);
                f.br(next);
              }),
            );
            f.block((done) =>
              f.loop((next) => {
                f.get(k).get(kc).i32_ge_s().br_if(done);
                for (let q = 0; q < 8; q++) {
                  f.get(dst)
                    .get(r[q])
                    .f32_load()
                    .f32_store(4 * q);
                  f.get(r[q]).i32_const(4).i32_add().set(r[q]);
                }
                f.get(dst).i32_const(32).i32_add().set(dst);
                f.get(k).i32_const(1).i32_add().set(k);
                f.br(next);
              }),
            );
          },
          () => {
            f.get(dst).get(s).get(sBk).get(sBj).get(kc).get(w).i32_const(8).call(packPanel);
            f.get(dst).get(kc).i32_const(32).i32_mul().i32_add().set(dst);
          },
        );
      },
    );
  });
  return f;
}

/**
 * (func $storeTile (param $c $ldc $mr $nr $store)): the first mr rows and nr columns of TILE (4×8, row-major) into C:
 * C = tile when store, else C = C + tile. Used for edge tiles only.
 */
function emitStoreTile(m: ModuleBuilder, scratch: Global): Func {
  const f = m.func('storeTile', [i32, i32, i32, i32, i32], [], false);
  const [c, ldc, mr, nr, store] = [0, 1, 2, 3, 4].map((i) => f.param(i)) as [Local, Local, Local, Local, Local];
  const i = f.local(i32),
    j = f.local(i32),
    p = f.local(i32),
    q = f.local(i32);
  forUp(f, i, C(0), L(mr), C(1), () => {
    forUp(f, j, C(0), L(nr), C(1), () => {
      f.get(c).get(j).i32_const(2).i32_shl().i32_add().set(p); // p = &C(i, j)
      f.global_get(scratch).get(i).i32_const(5).i32_shl().i32_add().get(j).i32_const(2).i32_shl().i32_add().set(q); // q = &TILE[i][j]
      f.get(store);
      f.if_(
        () => {
          f.get(p).get(q).f32_load(TILE).f32_store();
        },
        () => {
          f.get(p).get(p).f32_load().get(q).f32_load(TILE).f32_add().f32_store();
        },
      );
    });
    f.get(c).get(ldc).i32_add().set(c);
  });
  return f;
}

/**
 * (func $gemvRow (param $c $x $sx $b $sBk $K $N $acc)): c[N] (+)= x·B with x(k) at x + k·sx and B(k, j) at b + k·sBk + 4j
 * (strides in bytes). Strips of 16, then 4, then 1 columns; for each strip and each k-block, lane j holds
 * s_j = Σ_k x(k)·B(k,j) in k order, then c_j = s_j (first block of an overwrite) or c_j + s_j.
 */
function emitGemvRow(m: ModuleBuilder, fma: boolean): Func {
  const f = m.func('gemvRow', [i32, i32, i32, i32, i32, i32, i32, i32], [], false);
  const [c, x, sx, b, sBk, K, N, acc] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => f.param(i)) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const j = f.local(i32),
    pc = f.local(i32),
    kc = f.local(i32),
    n = f.local(i32),
    xp = f.local(i32),
    bp = f.local(i32),
    cp = f.local(i32),
    store = f.local(i32);
  const s = locals(f, v128, 4),
    av = f.local(v128);
  const sf = f.local(f32);
  f.i32_const(0).set(j);
  for (const width of [16, 4, 1]) {
    const vecs = width / 4;
    // while (j + width ≤ N)
    f.block((done) =>
      f.loop((next) => {
        f.get(j).i32_const(width).i32_add().get(N).i32_gt_s().br_if(done);
        f.get(c).get(j).i32_const(2).i32_shl().i32_add().set(cp);
        forUp(f, pc, C(0), L(K), C(KC), () => {
          minRest(f, kc, L(K), L(pc), KC);
          f.get(acc).i32_eqz().get(pc).i32_eqz().i32_and().set(store);
          f.get(x).get(pc).get(sx).i32_mul().i32_add().set(xp);
          f.get(b).get(pc).get(sBk).i32_mul().i32_add().get(j).i32_const(2).i32_shl().i32_add().set(bp);
          f.get(kc).set(n);
          if (width === 1) {
            // One column: scalar f32, or under fma lane 0 of relaxed_madd (wasm has no scalar FMA), so this column
            // rounds like the vector strips and the tiles.
            if (fma) f.v128_zero().set(s[0]);
            else f.f32_const(0).set(sf);
            f.loop((k) => {
              if (fma) {
                mac(
                  f,
                  true,
                  s[0],
                  () => f.get(xp).v128_load32_splat(),
                  () => f.get(bp).v128_load32_splat(),
                );
              } else f.get(sf).get(xp).f32_load().get(bp).f32_load().f32_mul().f32_add().set(sf);
              f.get(xp).get(sx).i32_add().set(xp);
              f.get(bp).get(sBk).i32_add().set(bp);
              f.get(n).i32_const(1).i32_sub().tee(n).br_if(k);
            });
            if (fma) f.get(s[0]).f32x4_extract_lane(0).set(sf);
            f.get(store);
            f.if_(
              () => {
                f.get(cp).get(sf).f32_store();
              },
              () => {
                f.get(cp).get(cp).f32_load().get(sf).f32_add().f32_store();
              },
            );
          } else {
            for (let q = 0; q < vecs; q++) f.v128_zero().set(s[q]);
            f.loop((k) => {
              f.get(xp).v128_load32_splat().set(av);
              for (let q = 0; q < vecs; q++) {
                mac(
                  f,
                  fma,
                  s[q],
                  () => f.get(av),
                  () => f.get(bp).v128_load(16 * q),
                );
              }
              f.get(xp).get(sx).i32_add().set(xp);
              f.get(bp).get(sBk).i32_add().set(bp);
              f.get(n).i32_const(1).i32_sub().tee(n).br_if(k);
            });
            f.get(store);
            f.if_(
              () => {
                for (let q = 0; q < vecs; q++)
                  f.get(cp)
                    .get(s[q])
                    .v128_store(16 * q);
              },
              () => {
                for (let q = 0; q < vecs; q++) {
                  f.get(cp)
                    .get(cp)
                    .v128_load(16 * q)
                    .get(s[q])
                    .f32x4_add()
                    .v128_store(16 * q);
                }
              },
            );
          }
        });
        f.get(j).i32_const(width).i32_add().set(j);
        f.br(next);
      }),
    );
  }
  return f;
}

/**
 * (func $gemvBtRow (param $c $x $sx $b $sBj $K $N $acc)): c[N] (+)= x·Bᵀ with B(k, j) at b + j·sBj + 4k: each output is a
 * dot product of x with a row of the stored matrix. To keep the k-order sums of the contract (one lane per output, no
 * horizontal reduction), 4 rows are read 4 k-values at a time and transposed in registers, then accumulated like gemv.
 */
function emitGemvBtRow(m: ModuleBuilder, fma: boolean): Func {
  const f = m.func('gemvBtRow', [i32, i32, i32, i32, i32, i32, i32, i32], [], false);
  const [c, x, sx, b, sBj, K, N, acc] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => f.param(i)) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const j = f.local(i32),
    pc = f.local(i32),
    kc = f.local(i32),
    k = f.local(i32),
    xp = f.local(i32),
    cp = f.local(i32),
    store = f.local(i32);
  const r = locals(f, i32, 4);
  const v = locals(f, v128, 4),
    xs = locals(f, v128, 4),
    t = locals(f, v128, 4),
    s = f.local(v128),
    bv = f.local(v128);
  const sf = f.local(f32);
  f.i32_const(0).set(j);
  // Four columns at a time.
  f.block((done4) =>
    f.loop((next4) => {
      f.get(j).i32_const(4).i32_add().get(N).i32_gt_s().br_if(done4);
      f.get(c).get(j).i32_const(2).i32_shl().i32_add().set(cp);
      forUp(f, pc, C(0), L(K), C(KC), () => {
        minRest(f, kc, L(K), L(pc), KC);
        f.get(acc).i32_eqz().get(pc).i32_eqz().i32_and().set(store);
        f.get(x).get(pc).get(sx).i32_mul().i32_add().set(xp);
        for (let q = 0; q < 4; q++) {
          // r_q = &B(pc, j + q)
          f.get(b)
            .get(j)
            .i32_const(q)
            .i32_add()
            .get(sBj)
            .i32_mul()
            .i32_add()
            .get(pc)
            .i32_const(2)
            .i32_shl()
            .i32_add()
            .set(r[q]);
        }
        f.v128_zero().set(s);
        f.i32_const(0).set(k);
        f.block((done) =>
          f.loop((next) => {
            f.get(k).i32_const(4).i32_add().get(kc).i32_gt_s().br_if(done);
            for (let q = 0; q < 4; q++) f.get(r[q]).v128_load().set(v[q]);
            transpose4(f, v, xs, t); // t_q = B(k+q, j..j+3)
            for (let q = 0; q < 4; q++) {
              mac(
                f,
                fma,
                s,
                () => f.get(xp).v128_load32_splat(),
                () => f.get(t[q]),
              );
              f.get(xp).get(sx).i32_add().set(xp);
            }
            for (let q = 0; q < 4; q++) f.get(r[q]).i32_const(16).i32_add().set(r[q]);
            f.get(k).i32_const(4).i32_add().set(k);
            f.br(next);
          }),
        );
        f.block((done) =>
          f.loop((next) => {
            // k tail: gather one k of the 4 rows
            f.get(k).get(kc).i32_ge_s().br_if(done);
            f.get(r[0]).v128_load32_splat();
            for (let q = 1; q < 4; q++) f.get(r[q]).f32_load().f32x4_replace_lane(q);
            f.set(bv);
            mac(
              f,
              fma,
              s,
              () => f.get(xp).v128_load32_splat(),
              () => f.get(bv),
            );
            f.get(xp).get(sx).i32_add().set(xp);
            for (let q = 0; q < 4; q++) f.get(r[q]).i32_const(4).i32_add().set(r[q]);
            f.get(k).i32_const(1).i32_add().set(k);
            f.br(next);
          }),
        );
        f.get(store);
        f.if_(
          () => {
            f.get(cp).get(s).v128_store();
          },
          () => {
            f.get(cp).get(cp).v128_load().get(s).f32x4_add().v128_store();
          },
        );
      });
      f.get(j).i32_const(4).i32_add().set(j);
      f.br(next4);
    }),
  );
  // Remaining columns one at a time, in scalar f32.
  forUp(f, j, L(j), L(N), C(1), () => {
    f.get(c).get(j).i32_const(2).i32_shl().i32_add().set(cp);
    forUp(f, pc, C(0), L(K), C(KC), () => {
      minRest(f, kc, L(K), L(pc), KC);
      f.get(acc).i32_eqz().get(pc).i32_eqz().i32_and().set(store);
      f.get(x).get(pc).get(sx).i32_mul().i32_add().set(xp);
      f.get(b).get(j).get(sBj).i32_mul().i32_add().get(pc).i32_const(2).i32_shl().i32_add().set(r[0]);
      if (fma) f.v128_zero().set(s);
      else f.f32_const(0).set(sf);
      forUp(f, k, C(0), L(kc), C(1), () => {
        if (fma) {
          mac(
            f,
            true,
            s,
            () => f.get(xp).v128_load32_splat(),
            () => f.get(r[0]).v128_load32_splat(),
          );
        } else f.get(sf).get(xp).f32_load().get(r[0]).f32_load().f32_mul().f32_add().set(sf);
        f.get(xp).get(sx).i32_add().set(xp);
        f.get(r[0]).i32_const(4).i32_add().set(r[0]);
      });
      if (fma) f.get(s).f32x4_extract_lane(0).set(sf);
      f.get(store);
      f.if_(
        () => {
          f.get(cp).get(sf).f32_store();
        },
        () => {
          f.get(cp).get(cp).f32_load().get(sf).f32_add().f32_store();
        },
      );
    });
  });
  return f;
}

/**
 * (func $gemm (param $c $ldc $a $sAi $sAk $b $sBk $sBj $M $K $N $acc)): the engine, all strides in bytes.
 * C(i, j) at c + i·ldc + 4j;  A(i, k) at a + i·sAi + k·sAk;  B(k, j) at b + k·sBk + j·sBj.
 */
function emitGemm(
  m: ModuleBuilder,
  scratch: Global,
  zero: Func,
  packA: Func,
  packB: Func,
  storeTile: Func,
  gemvRow: Func,
  gemvBtRow: Func,
  fma: boolean,
): Func {
  const f = m.func('gemm', new Array<typeof i32>(13).fill(i32), [], false);
  const [c, ldc, a, sAi, sAk, b, sBk, sBj, M, K, N, acc, bp] = Array.from({ length: 13 }, (_, i) => f.param(i)) as [
    Local,
    Local,
    Local,
    Local,
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
  const jc = f.local(i32),
    nc = f.local(i32),
    pc = f.local(i32),
    kc = f.local(i32),
    ic = f.local(i32),
    mc = f.local(i32),
    jr = f.local(i32),
    nr = f.local(i32),
    ir = f.local(i32),
    mr = f.local(i32),
    store = f.local(i32),
    pa = f.local(i32),
    pb = f.local(i32),
    bPanel = f.local(i32),
    pEnd = f.local(i32),
    cp = f.local(i32),
    i = f.local(i32),
    bBase = f.local(i32);
  const av = f.local(v128),
    b0 = f.local(v128),
    b1 = f.local(v128);
  const s = locals(f, v128, MR * 2); // s[2r + h]: row r, columns 4h..4h+3 of the tile
  const sAt = (r: number, h: number): Local => s[2 * r + h];

  // Empty products.
  f.get(M)
    .i32_eqz()
    .get(N)
    .i32_eqz()
    .i32_or()
    .if_(() => {
      f.return_();
    });
  f.get(K)
    .i32_eqz()
    .if_(() => {
      f.get(acc)
        .i32_eqz()
        .if_(() => {
          f.get(c).get(ldc).get(M).get(N).call(zero);
        });
      f.return_();
    });
  // Fewer rows than a tile: one matrix–vector product per row, no packing.
  f.get(M)
    .i32_const(MR)
    .i32_lt_s()
    .if_(() => {
      const rowArgs = (): void => {
        f.get(c).get(i).get(ldc).i32_mul().i32_add(); // row i of C
        f.get(a).get(i).get(sAi).i32_mul().i32_add().get(sAk); // row i of A and its k-stride
      };
      forUp(f, i, C(0), L(M), C(1), () => {
        f.get(sBj).i32_const(4).i32_eq();
        f.if_(
          () => {
            rowArgs();
            f.get(b).get(sBk).get(K).get(N).get(acc).call(gemvRow);
          },
          () => {
            rowArgs();
            f.get(b).get(sBj).get(K).get(N).get(acc).call(gemvBtRow);
          },
        );
      });
      f.return_();
    });

  forUp(f, jc, C(0), L(N), C(NC), () => {
    minRest(f, nc, L(N), L(jc), NC);
    forUp(f, pc, C(0), L(K), C(KC), () => {
      minRest(f, kc, L(K), L(pc), KC);
      f.get(acc).i32_eqz().get(pc).i32_eqz().i32_and().set(store); // first k-block of an overwrite: C = tile
      f.get(bp).i32_eqz();
      f.if_(
        () => {
          f.get(b)
            .get(pc)
            .get(sBk)
            .i32_mul()
            .i32_add()
            .get(jc)
            .get(sBj)
            .i32_mul()
            .i32_add()
            .get(sBk)
            .get(sBj)
            .get(kc)
            .get(nc)
            .call(packB);
          f.global_get(scratch).i32_const(BPACK).i32_add().set(bBase);
        },
        () => {
          // B packed beforehand (packedB): block (jc, pc) at bp + 4·(jc·K + pc·nc8), nc8 = nc rounded up to NR.
          f.get(bp)
            .get(jc)
            .get(K)
            .i32_mul()
            .get(pc)
            .get(nc)
            .i32_const(NR - 1)
            .i32_add()
            .i32_const(-NR)
            .i32_and()
            .i32_mul()
            .i32_add()
            .i32_const(2)
            .i32_shl()
            .i32_add()
            .set(bBase);
        },
      );
      forUp(f, ic, C(0), L(M), C(MC), () => {
        minRest(f, mc, L(M), L(ic), MC);
        f.get(a)
          .get(ic)
          .get(sAi)
          .i32_mul()
          .i32_add()
          .get(pc)
          .get(sAk)
          .i32_mul()
          .i32_add()
          .get(sAi)
          .get(sAk)
          .get(mc)
          .get(kc)
          .call(packA);
        forUp(f, jr, C(0), L(nc), C(NR), () => {
          minRest(f, nr, L(nc), L(jr), NR);
          f.get(bBase).get(jr).get(kc).i32_mul().i32_const(2).i32_shl().i32_add().set(bPanel);
          f.global_get(scratch).i32_const(APACK).i32_add().set(pa); // A panels follow each other in APACK
          forUp(f, ir, C(0), L(mc), C(MR), () => {
            minRest(f, mr, L(mc), L(ir), MR);
            // ---- micro-kernel: s(4×8) = A panel (kc×4)ᵀ · B panel (kc×8) ----
            for (const sv of s) f.v128_zero().set(sv);
            f.get(bPanel).tee(pb).get(kc).i32_const(5).i32_shl().i32_add().set(pEnd);
            f.loop((k) => {
              f.get(pb).v128_load(0).set(b0);
              f.get(pb).v128_load(16).set(b1);
              for (let r = 0; r < MR; r++) {
                f.get(pa)
                  .v128_load32_splat(4 * r)
                  .set(av); // A(r, k) in all lanes
                mac(
                  f,
                  fma,
                  sAt(r, 0),
                  () => f.get(av),
                  () => f.get(b0),
                );
                mac(
                  f,
                  fma,
                  sAt(r, 1),
                  () => f.get(av),
                  () => f.get(b1),
                );
              }
              f.get(pa).i32_const(16).i32_add().set(pa);
              f.get(pb).i32_const(32).i32_add().tee(pb).get(pEnd).i32_lt_u().br_if(k);
            });
            // ---- write the tile into C(ic+ir.., jc+jr..) ----
            f.get(c)
              .get(ic)
              .get(ir)
              .i32_add()
              .get(ldc)
              .i32_mul()
              .i32_add()
              .get(jc)
              .get(jr)
              .i32_add()
              .i32_const(2)
              .i32_shl()
              .i32_add()
              .set(cp);
            f.get(mr).i32_const(MR).i32_eq().get(nr).i32_const(NR).i32_eq().i32_and();
            f.if_(
              () => {
                f.get(store);
                f.if_(
                  () => {
                    for (let r = 0; r < MR; r++) {
                      f.get(cp).get(sAt(r, 0)).v128_store(0);
                      f.get(cp).get(sAt(r, 1)).v128_store(16);
                      if (r < MR - 1) f.get(cp).get(ldc).i32_add().set(cp);
                    }
                  },
                  () => {
                    for (let r = 0; r < MR; r++) {
                      f.get(cp).get(cp).v128_load(0).get(sAt(r, 0)).f32x4_add().v128_store(0);
                      f.get(cp).get(cp).v128_load(16).get(sAt(r, 1)).f32x4_add().v128_store(16);
                      if (r < MR - 1) f.get(cp).get(ldc).i32_add().set(cp);
                    }
                  },
                );
              },
              () => {
                for (let r = 0; r < MR; r++)
                  for (let h = 0; h < 2; h++) {
                    f.global_get(scratch)
                      .get(sAt(r, h))
                      .v128_store(TILE + 32 * r + 16 * h);
                  }
                f.get(cp).get(ldc).get(mr).get(nr).get(store).call(storeTile);
              },
            );
          });
        });
      });
    });
  });
  return f;
}

/** An exported wrapper: element strides in, byte strides to the engine. */
function emitProduct(m: ModuleBuilder, name: string, gemm: Func, layout: 'AB' | 'ABt' | 'AtB'): Func {
  const f = m.func(name, new Array<typeof i32>(10).fill(i32), [], true);
  const [c, ldc, a, lda, b, ldb, M, K, N, acc] = Array.from({ length: 10 }, (_, i) => f.param(i)) as [
    Local,
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
  const bytes = (l: Local): void => {
    f.get(l).i32_const(2).i32_shl();
  };
  const four = (): void => {
    f.i32_const(4);
  };
  f.get(c);
  bytes(ldc);
  f.get(a);
  if (layout === 'AtB') {
    four();
    bytes(lda);
  } else {
    bytes(lda);
    four();
  } // sAi, sAk
  f.get(b);
  if (layout === 'ABt') {
    four();
    bytes(ldb);
  } else {
    bytes(ldb);
    four();
  } // sBk, sBj
  f.get(M).get(K).get(N).get(acc).i32_const(0).call(gemm);
  return f;
}

/**
 * (func $matmulPacked (param $c $ldc $a $lda $bp $M $K $N $acc)): C[M,N] (+)= A[M,K] · B[K,N] with B already packed at
 * bp in the layout of `packedB` (kernels/wasm/ops.ts): the engine skips packB and reads its panels from there, so
 * the sums are those of matmul/matmulABt on the unpacked B, bit for bit. M ≥ MR only (fewer rows take gemv, which
 * reads B unpacked: the caller passes those to matmul/matmulABt).
 */
function emitPackedProduct(m: ModuleBuilder, gemm: Func): Func {
  const f = m.func('matmulPacked', new Array<typeof i32>(9).fill(i32), [], true);
  const [c, ldc, a, lda, bp, M, K, N, acc] = Array.from({ length: 9 }, (_, i) => f.param(i)) as [
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
  f.get(c).get(ldc).i32_const(2).i32_shl();
  f.get(a).get(lda).i32_const(2).i32_shl().i32_const(4);
  f.i32_const(0).i32_const(0).i32_const(4); // b, sBk, sBj: unused with bp (M ≥ MR)
  f.get(M).get(K).get(N).get(acc).get(bp).call(gemm);
  return f;
}

function emitVectorProduct(m: ModuleBuilder, name: string, row: Func): void {
  const f = m.func(name, new Array<typeof i32>(8).fill(i32), [], true);
  const [c, x, incx, b, ldb, K, N, acc] = Array.from({ length: 8 }, (_, i) => f.param(i)) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  f.get(c).get(x).get(incx).i32_const(2).i32_shl().get(b).get(ldb).i32_const(2).i32_shl();
  f.get(K).get(N).get(acc).call(row);
}

/** The operands of one step's recurrent product C (+)= X·U: X [B,K] with rows of K (a state), C [B,N] with rows of ldc. */
interface StepProduct {
  c: () => void;
  ldc: Local;
  x: Local;
  panels: Local;
  u: () => void;
  ldu: Local;
  B: Local;
  K: Local;
  N: Local;
  acc: number;
}

/**
 * Emits one step's recurrent product C (+)= X·U of the time loops below: matmulPacked on U's panels (at `panels`) when
 * the i32 local `packed` is set, else matmul on U itself (pushed by `u`, leading dimension ldu); what the cells' matmulPacked
 * op chooses (kernels/wasm/ops.ts).
 */
function stepProduct(f: Func, packed: Local, matmul: Func, matmulPacked: Func, o: StepProduct): void {
  f.get(packed).if_(
    () => {
      o.c();
      f.get(o.ldc).get(o.x).get(o.K).get(o.panels).get(o.B).get(o.K).get(o.N).i32_const(o.acc).call(matmulPacked);
    },
    () => {
      o.c();
      f.get(o.ldc).get(o.x).get(o.K);
      o.u();
      f.get(o.ldu).get(o.B).get(o.K).get(o.N).i32_const(o.acc).call(matmul);
    },
  );
}

/**
 * (func $lstmSteps (param $a $c $phiC $h $u $up $T $B $H)): the LSTM's forward time loop, T steps of
 *   z_t += h_{t-1}·U     (matmulPacked on the panels at up when up ≠ 0 and B ≥ MR, else matmul on U [H,4H] at u)
 *   lstmGates(z_t, c_{t-1}, phiC_t, h_t)
 * with a, c, phiC, h at step 0 (a [T,B,4H], c and h [T+1,B,H] with the initial state in block 0, phiC [T,B,H]). The
 * calls and their order are those of fast/lstm.ts's loop on the wasm path, one step at a time, so the bits are the same;
 * what goes is the per-step cost of crossing from JavaScript (argument checks and calls: about a sixth of a batch-1
 * window).
 */
function emitLstmSteps(m: ModuleBuilder, matmul: Func, matmulPacked: Func, lstmGates: Func): void {
  const f = m.func('lstmSteps', new Array<typeof i32>(9).fill(i32), [], true);
  const [a, c, phiC, h, u, up, T, B, H] = Array.from<unknown, Local>({ length: 9 }, (_, i) => f.param(i));
  const t = f.local(i32),
    h4 = f.local(i32),
    stepA = f.local(i32),
    stepH = f.local(i32),
    packed = f.local(i32);
  f.get(H).i32_const(2).i32_shl().set(h4); // 4H
  f.get(B).get(h4).i32_mul().i32_const(2).i32_shl().set(stepA); // B·4H floats, in bytes
  f.get(B).get(H).i32_mul().i32_const(2).i32_shl().set(stepH); // B·H floats, in bytes
  f.get(up).i32_const(0).i32_ne().get(B).i32_const(MR).i32_ge_s().i32_and().set(packed);
  forUp(f, t, C(0), L(T), C(1), () => {
    const z = { c: () => f.get(a), ldc: h4, x: h, panels: up, u: () => f.get(u), ldu: h4, B, K: H, N: h4, acc: 1 };
    stepProduct(f, packed, matmul, matmulPacked, z); // z_t += h_{t-1}·U
    f.get(a).get(c).get(phiC).get(h).get(stepH).i32_add().get(B).get(H).call(lstmGates);
    f.get(a).get(stepA).i32_add().set(a);
    f.get(c).get(stepH).i32_add().set(c);
    f.get(phiC).get(stepH).i32_add().set(phiC);
    f.get(h).get(stepH).i32_add().set(h);
  });
}

/**
 * (func $gruSteps (param $a $h $innerH $rh $u $up $uph $br $T $B $H $resetAfter)): the GRU's forward time loop, T steps
 * of what fast/gru.ts's loop calls on the wasm path, in its order (so the same bits), with G = 3H:
 *   a_t[:, 0:2H] += h_{t-1}·U[:, 0:2H]                 (matmulPacked on the panels at up, or matmul on U at u)
 *   resetAfter:  a_t[:, 0:2H] += b_r{z,r};  innerH_t = h_{t-1}·U_h (panels at uph, or U + 2H) + b_rh;  gruGatesAfter
 *   classic:     gruGatesBefore (rh_t = r⊙h_{t-1});  a_t[:, 2H:3H] += rh_t·U_h
 *   gruOutput(a_t, h_{t-1}, h_t)
 * a [T,B,G], h [T+1,B,H] (initial state in block 0), innerH and rh [T,B,H] (the one the variant uses), br the address of
 * the recurrent biases [b_rz | b_rr | b_rh] (resetAfter only). Panels when up ≠ 0 and B ≥ MR.
 */
function emitGruSteps(m: ModuleBuilder, matmul: Func, matmulPacked: Func, k: StepKernels): void {
  const f = m.func('gruSteps', new Array<typeof i32>(12).fill(i32), [], true);
  const [a, h, innerH, rh, u, up, uph, br, T, B, H, resetAfter] = Array.from<unknown, Local>({ length: 12 }, (_, i) =>
    f.param(i),
  );
  const t = f.local(i32),
    g = f.local(i32),
    h2 = f.local(i32),
    stepA = f.local(i32),
    stepH = f.local(i32),
    packed = f.local(i32);
  f.get(H).i32_const(3).i32_mul().set(g); // G = 3H
  f.get(H).i32_const(1).i32_shl().set(h2); // 2H
  f.get(B).get(g).i32_mul().i32_const(2).i32_shl().set(stepA); // B·G floats, in bytes
  f.get(B).get(H).i32_mul().i32_const(2).i32_shl().set(stepH); // B·H floats, in bytes
  f.get(up).i32_const(0).i32_ne().get(B).i32_const(MR).i32_ge_s().i32_and().set(packed);
  /** C (+)= X·U_h: the panels at uph, or U's columns 2H…3H (leading dimension G). */
  const productUh = (c: () => void, ldc: Local, x: Local, acc: number): void => {
    const uh = (): void => void f.get(u).get(h2).i32_const(2).i32_shl().i32_add();
    stepProduct(f, packed, matmul, matmulPacked, { c, ldc, x, panels: uph, u: uh, ldu: g, B, K: H, N: H, acc });
  };
  forUp(f, t, C(0), L(T), C(1), () => {
    const zr = { c: () => f.get(a), ldc: g, x: h, panels: up, u: () => f.get(u), ldu: g, B, K: H, N: h2, acc: 1 };
    stepProduct(f, packed, matmul, matmulPacked, zr); // a_t[:, 0:2H] += h_{t-1}·U[:, 0:2H]
    f.get(resetAfter).if_(
      () => {
        f.get(a).get(g).get(br).get(B).get(h2).call(k.addBias); // + b_r{z,r}
        productUh(() => f.get(innerH), H, h, 0); // innerH_t = h_{t-1}·U_h
        f.get(innerH).get(H).get(br).get(h2).i32_const(2).i32_shl().i32_add().get(B).get(H).call(k.addBias); // + b_rh
        f.get(a).get(innerH).get(B).get(H).call(k.gruGatesAfter);
      },
      () => {
        f.get(a).get(rh).get(h).get(B).get(H).call(k.gruGatesBefore); // rh_t = r⊙h_{t-1}
        productUh(() => f.get(a).get(h2).i32_const(2).i32_shl().i32_add(), g, rh, 1); // a_h += rh_t·U_h
      },
    );
    f.get(a).get(h).get(h).get(stepH).i32_add().get(B).get(H).call(k.gruOutput);
    f.get(a).get(stepA).i32_add().set(a);
    f.get(h).get(stepH).i32_add().set(h);
    f.get(innerH).get(stepH).i32_add().set(innerH);
    f.get(rh).get(stepH).i32_add().set(rh);
  });
}

export interface GemmModuleOptions {
  /** Memory limits the module is compiled against (pages of 64 KiB); `shared` memories need `maxPages`. */
  minPages: number;
  maxPages?: number;
  shared?: boolean;
  /**
   * The relaxed-SIMD variant: every product's multiply-add is f32x4.relaxed_madd (see the numeric contract). Validates
   * only where `relaxedSimdProbeBytes()` does.
   */
  fma?: boolean;
}

/**
 * The module's bytes: imports `env.memory` and `env.scratch`, exports the five products above and the vector activations
 * and gate kernels of gates.ts.
 */
export function buildGemmModule(opts: GemmModuleOptions): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory({
    module: 'env',
    field: 'memory',
    minPages: opts.minPages,
    ...(opts.maxPages !== undefined ? { maxPages: opts.maxPages } : {}),
    ...(opts.shared ? { shared: true } : {}),
  });
  const scratch = m.importGlobal('env', 'scratch', i32);
  const zero = emitZero(m);
  const packPanel = emitPackPanel(m);
  const packA = emitPackA(m, scratch, packPanel);
  const packB = emitPackB(m, scratch, packPanel);
  const storeTile = emitStoreTile(m, scratch);
  const fma = opts.fma === true;
  const gemvRow = emitGemvRow(m, fma);
  const gemvBtRow = emitGemvBtRow(m, fma);
  const gemm = emitGemm(m, scratch, zero, packA, packB, storeTile, gemvRow, gemvBtRow, fma);
  const matmul = emitProduct(m, 'matmul', gemm, 'AB');
  emitProduct(m, 'matmulABt', gemm, 'ABt');
  emitProduct(m, 'matmulAtB', gemm, 'AtB');
  const matmulPacked = emitPackedProduct(m, gemm);
  emitVectorProduct(m, 'gemv', gemvRow);
  emitVectorProduct(m, 'gemvBt', gemvBtRow);
  const step = emitGates(m, fma);
  emitLstmSteps(m, matmul, matmulPacked, step.lstmGates);
  emitGruSteps(m, matmul, matmulPacked, step);
  return m.bytes();
}

/** The smallest module that uses a v128 instruction: validating it tells whether the engine has WebAssembly SIMD. */
export function simdProbeBytes(): Uint8Array {
  const m = new ModuleBuilder();
  const f = m.func('probe', [], [f32], true);
  f.v128_zero().f32x4_extract_lane(0);
  return m.bytes();
}

/**
 * The smallest module that uses f32x4.relaxed_madd: validating it tells whether the engine has relaxed SIMD. Its export
 * `probe()` returns lane 0 of relaxed_madd(a, a, −fl32(a·a)) for a = 1 + 2⁻²³: 2⁻⁴⁶ where the multiply-add is fused (one
 * rounding), 0 where the engine computes it as mul then add.
 */
export function relaxedSimdProbeBytes(): Uint8Array {
  const m = new ModuleBuilder();
  const f = m.func('probe', [], [f32], true);
  const a = 1 + 2 ** -23;
  f.f32x4_const(a)
    .f32x4_const(a)
    .f32x4_const(-Math.fround(a * a))
    .f32x4_relaxed_madd()
    .f32x4_extract_lane(0);
  return m.bytes();
}

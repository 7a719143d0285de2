/**
 * Does a WebAssembly SIMD int8 path pay for the int8 scorer? The scorer's inner operation is a batch-1 matrix–vector
 * product y[N] = x[K]·W[K, N] (one step of a recurrent layer: K = D or H, N = G·H). Three wasm kernels, all SIMD128:
 *
 *   library  the library's float32 wasm product at M = 1 (matmulWasm: its batch-1 matrix–vector kernel): the baseline
 *   f32      W float32 [K, N]; y[j..j+3] += splat(x[k]) · W[k, j..j+3], y kept in memory (the i8→f32 loop's twin)
 *   i8→f32   W int8 [K, N], dequantized on the fly: 16 int8 → 4 × f32x4 (extend i8→i16→i32, convert), the same
 *            f32 multiply–add, one scale per column at the end (weight-only int8, what the exported module computes)
 *   i8·i16   W int8 transposed [N, K], x quantized per call to int16 (one scale, |x|max → 32767);
 *            acc += i32x4.dot_i16x8_s(extend_i8→i16(W[j, k..k+7]), xq[k..k+7]), then y[j] = Σacc · sW[j] · sx
 *            (int32 accumulation with rescale: the activations are quantized too)
 *
 * Checked against a float64 reference before timing (f32 and i8→f32 exactly the dequantized product up to float32
 * rounding; i8·i16 within the int16 rounding of x). Median of 9 runs of `reps` products each, after a warm-up;
 * the checksum of y is printed so nothing is optimised away. Prints ns per product and GMAC/s per kernel.
 *
 *   node dist/bench/int8-dot.js [--reps 20000]
 */
import { ModuleBuilder, i32, type Func } from '../kernels/wasm/emit';
import { matmulWasm, wasmArena } from '../kernels/wasm/gemm';
import { quantizeInt8 } from '../lib/detect/quantize';
import { makeRandom } from '../lib/random';

/** SIMD opcodes the emitter has no method for (0xfd prefix, LEB128 sub-opcode). */
function simd(f: Func, op: number): Func {
  f.code.push(0xfd);
  let n = op;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    f.code.push(b);
  } while (n !== 0);
  return f;
}
const I16X8_EXTEND_LOW_I8X16_S = 0x87;
const I16X8_EXTEND_HIGH_I8X16_S = 0x88;
const I32X4_EXTEND_LOW_I16X8_S = 0xa7;
const I32X4_EXTEND_HIGH_I16X8_S = 0xa8;
const I32X4_DOT_I16X8_S = 0xba;
const F32X4_CONVERT_I32X4_S = 0xfa;
const I32X4_EXTRACT_LANE = 0x1b;

/**
 * The three kernels over one imported memory. Pointers are byte offsets; K, N multiples of 16 (f32, i8→f32 tile 16
 * columns; i8·i16 steps k by 8).
 */
function build(): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', field: 'memory', minPages: 64 });

  // f32(y, x, W, K, N): y = x·W, W f32 [K, N].
  {
    const f = m.func('f32', [i32, i32, i32, i32, i32], [], true);
    const [y, x, W, K, N] = [0, 1, 2, 3, 4];
    const k = f.local(i32),
      j = f.local(i32),
      xs = f.local(0x7b),
      wp = f.local(i32),
      yp = f.local(i32);
    // y = 0
    f.i32_const(0).set(j);
    f.block((out) =>
      f.loop((top) => {
        f.get(j).get(N).i32_ge_s().br_if(out);
        f.get(y).get(j).i32_const(2).i32_shl().i32_add().v128_zero().v128_store();
        f.get(j).i32_const(4).i32_add().set(j).br(top);
      }),
    );
    f.get(W).set(wp);
    f.i32_const(0).set(k);
    f.block((outK) =>
      f.loop((topK) => {
        f.get(k).get(K).i32_ge_s().br_if(outK);
        f.get(x).get(k).i32_const(2).i32_shl().i32_add().v128_load32_splat().set(xs);
        f.get(y).set(yp);
        f.i32_const(0).set(j);
        f.block((outJ) =>
          f.loop((topJ) => {
            f.get(j).get(N).i32_ge_s().br_if(outJ);
            f.get(yp).get(yp).v128_load().get(xs).get(wp).v128_load().f32x4_mul().f32x4_add().v128_store();
            f.get(wp).i32_const(16).i32_add().set(wp);
            f.get(yp).i32_const(16).i32_add().set(yp);
            f.get(j).i32_const(4).i32_add().set(j).br(topJ);
          }),
        );
        f.get(k).i32_const(1).i32_add().set(k).br(topK);
      }),
    );
  }

  // i8f32(y, x, Q, s, K, N): y[j] = s[j] · Σ_k x[k]·Q[k, j], Q int8 [K, N], dequantized on the fly.
  {
    const f = m.func('i8f32', [i32, i32, i32, i32, i32, i32], [], true);
    const [y, x, Q, s, K, N] = [0, 1, 2, 3, 4, 5];
    const k = f.local(i32),
      j = f.local(i32),
      xs = f.local(0x7b),
      w = f.local(0x7b),
      h = f.local(0x7b),
      qp = f.local(i32),
      yp = f.local(i32);
    f.i32_const(0).set(j);
    f.block((out) =>
      f.loop((top) => {
        f.get(j).get(N).i32_ge_s().br_if(out);
        f.get(y).get(j).i32_const(2).i32_shl().i32_add().v128_zero().v128_store();
        f.get(j).i32_const(4).i32_add().set(j).br(top);
      }),
    );
    f.get(Q).set(qp);
    f.i32_const(0).set(k);
    f.block((outK) =>
      f.loop((topK) => {
        f.get(k).get(K).i32_ge_s().br_if(outK);
        f.get(x).get(k).i32_const(2).i32_shl().i32_add().v128_load32_splat().set(xs);
        f.get(y).set(yp);
        f.i32_const(0).set(j);
        f.block((outJ) =>
          f.loop((topJ) => {
            f.get(j).get(N).i32_ge_s().br_if(outJ);
            f.get(qp).v128_load().set(w);
            for (const half of [I16X8_EXTEND_LOW_I8X16_S, I16X8_EXTEND_HIGH_I8X16_S]) {
              f.get(w);
              simd(f, half).set(h);
              for (const [q, ext] of [
                [0, I32X4_EXTEND_LOW_I16X8_S],
                [1, I32X4_EXTEND_HIGH_I16X8_S],
              ] as const) {
                const off = (half === I16X8_EXTEND_LOW_I8X16_S ? 0 : 32) + 16 * q;
                f.get(yp).get(yp).v128_load(off).get(xs).get(h);
                simd(simd(f, ext), F32X4_CONVERT_I32X4_S);
                f.f32x4_mul().f32x4_add().v128_store(off);
              }
            }
            f.get(qp).i32_const(16).i32_add().set(qp);
            f.get(yp).i32_const(64).i32_add().set(yp);
            f.get(j).i32_const(16).i32_add().set(j).br(topJ);
          }),
        );
        f.get(k).i32_const(1).i32_add().set(k).br(topK);
      }),
    );
    // y *= s
    f.i32_const(0).set(j);
    f.block((out) =>
      f.loop((top) => {
        f.get(j).get(N).i32_ge_s().br_if(out);
        f.get(y).get(j).i32_const(2).i32_shl().i32_add().set(yp);
        f.get(yp).get(yp).v128_load().get(s).get(j).i32_const(2).i32_shl().i32_add().v128_load().f32x4_mul();
        f.v128_store();
        f.get(j).i32_const(4).i32_add().set(j).br(top);
      }),
    );
  }

  // i8i16(acc, xq, Qt, K, N): acc[j] = Σ_k Qt[j, k]·xq[k] in int32, Qt int8 [N, K], xq int16 [K] (rescale outside).
  {
    const f = m.func('i8i16', [i32, i32, i32, i32, i32], [], true);
    const [acc, xq, Qt, K, N] = [0, 1, 2, 3, 4];
    const k = f.local(i32),
      j = f.local(i32),
      a = f.local(0x7b),
      qp = f.local(i32);
    f.get(Qt).set(qp);
    f.i32_const(0).set(j);
    f.block((outJ) =>
      f.loop((topJ) => {
        f.get(j).get(N).i32_ge_s().br_if(outJ);
        f.v128_zero().set(a);
        f.i32_const(0).set(k);
        f.block((outK) =>
          f.loop((topK) => {
            f.get(k).get(K).i32_ge_s().br_if(outK);
            f.get(a).get(qp).v128_load64_zero();
            simd(f, I16X8_EXTEND_LOW_I8X16_S);
            f.get(xq).get(k).i32_const(1).i32_shl().i32_add().v128_load();
            simd(f, I32X4_DOT_I16X8_S);
            f.i32x4_add().set(a);
            f.get(qp).i32_const(8).i32_add().set(qp);
            f.get(k).i32_const(8).i32_add().set(k).br(topK);
          }),
        );
        // acc[j] = a0 + a1 + a2 + a3
        f.get(acc).get(j).i32_const(2).i32_shl().i32_add();
        f.get(a);
        simd(f, I32X4_EXTRACT_LANE).code.push(0);
        for (const lane of [1, 2, 3]) {
          f.get(a);
          simd(f, I32X4_EXTRACT_LANE).code.push(lane);
          f.i32_add();
        }
        f.code.push(0x36, 0x02, 0x00); // i32.store align 4, offset 0
        f.get(j).i32_const(1).i32_add().set(j).br(topJ);
      }),
    );
  }
  return m.bytes();
}

/** The parts of the WebAssembly JS API used here (the repo compiles without lib.dom). */
interface Wasm {
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (b: Uint8Array) => object;
  Instance: new (m: object, i: object) => { exports: Record<string, (...a: number[]) => void> };
}
const WA = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

function main(): void {
  const argv = process.argv.slice(2);
  const reps = argv[0] === '--reps' ? Number(argv[1]) : 20000;
  const memory = new WA.Memory({ initial: 64 });
  const ex = new WA.Instance(new WA.Module(build()), { env: { memory } }).exports;
  const rnd = makeRandom(7);
  console.log(
    '| K × N | library f32 ns | f32 ns | i8→f32 ns | i8·i16 ns (with quantize x, rescale) | i8·i16 kernel alone ns | ' +
      'i8→f32 / library | i8·i16 / library | kernel alone / library | checksum |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  // Shapes of the scorer: LSTM 32 units (x·W: 1 × 128, h·U: 32 × 128), 64 units (64 × 256), a wide 128 × 512.
  for (const [K, N] of [
    [16, 128],
    [32, 128],
    [64, 256],
    [128, 512],
  ]) {
    let p = 0;
    const at = (bytes: number): number => {
      const r = p;
      p += (bytes + 15) & ~15;
      return r;
    };
    const pY = at(4 * N),
      pX = at(4 * K),
      pW = at(4 * K * N),
      pQ = at(K * N),
      pS = at(4 * N),
      pQt = at(K * N),
      pXq = at(2 * K),
      pAcc = at(4 * N);
    const w = Float32Array.from({ length: K * N }, () => (rnd.uniform() * 2 - 1) * 0.3);
    const x = Float32Array.from({ length: K }, () => rnd.uniform() * 2 - 1);
    const q = quantizeInt8(w, K, N);
    const buf = memory.buffer;
    new Float32Array(buf, pW, K * N).set(w);
    new Float32Array(buf, pX, K).set(x);
    new Int8Array(buf, pQ, K * N).set(q.q);
    new Float32Array(buf, pS, N).set(q.scale);
    const qt = new Int8Array(buf, pQt, K * N);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) qt[j * K + k] = q.q[k * N + j];
    const xq = new Int16Array(buf, pXq, K),
      acc = new Int32Array(buf, pAcc, N),
      y = new Float32Array(buf, pY, N);
    let sx = 0;
    const quantX = (): void => {
      let mx = 0;
      for (let k = 0; k < K; k++) mx = Math.max(mx, Math.abs(x[k]));
      sx = mx / 32767;
      for (let k = 0; k < K; k++) xq[k] = Math.round(x[k] / sx);
    };
    const arena = wasmArena();
    const [lx, lw, ly] = arena.allocF32s(K, K * N, N);
    lx.set(x);
    lw.set(w);
    const kernels: Array<[string, () => void]> = [
      [
        'f32',
        () => {
          matmulWasm(ly, 0, N, lx, 0, K, lw, 0, N, 1, K, N, false);
          y.set(ly);
        },
      ],
      ['f32', () => ex['f32'](pY, pX, pW, K, N)],
      ['i8f32', () => ex['i8f32'](pY, pX, pQ, pS, K, N)],
      [
        'i8i16',
        () => {
          quantX();
          ex['i8i16'](pAcc, pXq, pQt, K, N);
          for (let j = 0; j < N; j++) y[j] = acc[j] * q.scale[j] * sx;
        },
      ],
      // The int32 kernel alone (x already quantized, no rescale): the most the int8·int16 path could gain.
      ['i8i16 kernel', () => ex['i8i16'](pAcc, pXq, pQt, K, N)],
    ];
    // Check against float64 references before timing.
    for (const [name, run] of kernels.slice(0, 4)) {
      run();
      for (let j = 0; j < N; j++) {
        let ref = 0,
          mag = 0;
        for (let k = 0; k < K; k++) {
          const wv = name === 'f32' ? w[k * N + j] : q.q[k * N + j] * q.scale[j];
          ref += x[k] * wv;
          mag += Math.abs(x[k] * wv);
        }
        const tol = (name === 'i8i16' ? 1e-4 : (K + 3) * 2 ** -23) * mag + 1e-30;
        if (!(Math.abs(y[j] - ref) <= tol))
          throw new Error(`int8-dot: ${name} ${K}×${N}: y[${j}] = ${y[j]}, reference ${ref} (tol ${tol})`);
      }
    }
    const ns: number[] = [];
    let checksum = 0;
    for (const [, run] of kernels) {
      for (let r = 0; r < reps / 4; r++) run(); // warm-up
      const times: number[] = [];
      for (let rep = 0; rep < 9; rep++) {
        const t0 = process.hrtime.bigint();
        for (let r = 0; r < reps; r++) run();
        times.push(Number(process.hrtime.bigint() - t0) / reps);
        checksum += y[0] + y[N - 1];
      }
      ns.push(median(times));
    }
    console.log(
      `| ${K} × ${N} | ${ns.map((v) => v.toFixed(0)).join(' | ')} | ` +
        `${(ns[2] / ns[0]).toFixed(2)} | ${(ns[3] / ns[0]).toFixed(2)} | ${(ns[4] / ns[0]).toFixed(2)} | ` +
        `${(checksum + acc[0]).toFixed(3)} |`,
    );
  }
}

main();

/**
 * The 'relaxed-fma' micro-kernel (kernels/wasm/module.ts, f32x4.relaxed_madd) against the js reference and against its
 * own numeric contract, and the choice of micro-kernel (kernels/wasm/arena.ts, BPTT_WASM_KERNEL in lib/backend.ts).
 *
 * Node 20 validates relaxed SIMD only under `node --experimental-wasm-relaxed-simd`. In a process without it the
 * numeric checks run in a child node started with the flag (mocha on this file), so every `npm test` path covers the
 * relaxed kernel; `npm test`'s 'relaxed' path runs the whole suite on it (BPTT_WASM_KERNEL=relaxed-fma).
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { matmul, matmulABt, matmulAtB } from '../../kernels/matmul';
import { KC } from '../../kernels/wasm/module';
import {
  WasmArena,
  matmulABtWasm,
  matmulAtBWasm,
  matmulWasm,
  setWasmKernel,
  wasmFmaFused,
  wasmKernel,
  wasmRelaxedSimdAvailable,
  wasmSimdAvailable,
} from '../../kernels/wasm/gemm';
import { makeRng, type Rng } from '../helpers/rng';
import { repoRoot } from '../helpers/repo';

const FLAG = '--experimental-wasm-relaxed-simd';
type Op = 'AB' | 'ABt' | 'AtB';
const OPS: Op[] = ['AB', 'ABt', 'AtB'];
const WASM = { AB: matmulWasm, ABt: matmulABtWasm, AtB: matmulAtBWasm } as const;
const JS = { AB: matmul, ABt: matmulABt, AtB: matmulAtB } as const;
const U = 2 ** -24;

function fill(a: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = 2 * rng() - 1;
  return a;
}

/** Runs `args` under node with the relaxed-SIMD flag from the repository root; returns status and output. */
function nodeWithFlag(
  args: string[],
  env: Record<string, string> = {},
  flags = [FLAG],
): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [...flags, ...args], {
    cwd: repoRoot(),
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** Edge shapes: M, N, K off the 4×8 tile and the KC block, K = 1, batch-1 (gemv) rows, more than one k-block. */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 1, 9],
  [3, 1, 13],
  [4, 1, 8],
  [5, 7, 9],
  [6, 17, 13],
  [9, 3, 31],
  [13, 64, 6],
  [64, 64, 64],
  [2, KC + 5, 17],
  [66, 2 * KC + 3, 70],
];

/**
 * The contract of module.ts for the relaxed-fma variant, emulated in float64: per k-block s = fl32(s + a·b) in k order
 * (a·b of two f32 is exact in float64; `fused` false: s = fl32(s + fl32(a·b))), then C = s or fl32(C + s).
 */
function contract(
  op: Op,
  A: Float32Array,
  B: Float32Array,
  C0: Float32Array | null,
  M: number,
  K: number,
  N: number,
  fused: boolean,
): Float32Array {
  const C = new Float32Array(M * N);
  if (C0) C.set(C0);
  const a = (i: number, k: number): number => (op === 'AtB' ? A[k * M + i] : A[i * K + k]);
  const b = (k: number, j: number): number => (op === 'ABt' ? B[j * K + k] : B[k * N + j]);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let c = C[i * N + j];
      for (let k0 = 0; k0 < K; k0 += KC) {
        let s = 0;
        for (let k = k0; k < Math.min(K, k0 + KC); k++) {
          const p = a(i, k) * b(k, j);
          s = Math.fround(s + (fused ? p : Math.fround(p)));
        }
        c = k0 === 0 && C0 === null ? s : Math.fround(c + s);
      }
      C[i * N + j] = c;
    }
  return C;
}

/** The numeric checks of the relaxed-fma kernel; they need relaxed SIMD in this process. */
function fmaNumerics(): void {
  const rng = makeRng('wasm-fma');
  const fma = new WasmArena({ kernel: 'relaxed-fma' });
  const plain = new WasmArena({ kernel: 'simd128' });
  const fused = wasmFmaFused();

  for (const op of OPS) {
    it(`${op}: edge shapes, overwrite and accumulate: within (K+3)·2⁻²⁴·Σ|a·b| of js, and the contract's bits`, () => {
      let differs = 0;
      for (const [M, K, N] of SHAPES) {
        const aLen = M * K,
          bLen = K * N;
        const [A, B, C] = fma.allocF32s(aLen, bLen, M * N);
        const [A2, B2, C2] = plain.allocF32s(aLen, bLen, M * N);
        fill(A, rng);
        fill(B, rng);
        A2.set(A);
        B2.set(B);
        const lda = op === 'AtB' ? M : K,
          ldb = op === 'ABt' ? K : N;
        const C0 = fill(new Float32Array(M * N), rng);
        for (const acc of [false, true]) {
          const label = `${op} M=${M} K=${K} N=${N} accumulate=${acc}`;
          if (acc) C.set(C0);
          else C.fill(NaN);
          WASM[op](C, 0, N, A, 0, lda, B, 0, ldb, M, K, N, acc, fma);
          const ref = new Float64Array(M * N);
          if (acc) ref.set(C0);
          JS[op](ref, 0, N, A, 0, lda, B, 0, ldb, M, K, N, acc);
          const want = contract(op, A, B, acc ? C0 : null, M, K, N, fused);
          if (acc) C2.set(C0);
          WASM[op](C2, 0, N, A2, 0, lda, B2, 0, ldb, M, K, N, acc, plain);
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) {
              const e = i * N + j;
              let s = acc ? Math.abs(C0[e]) : 0;
              for (let k = 0; k < K; k++) {
                const av = op === 'AtB' ? A[k * M + i] : A[i * K + k];
                const bv = op === 'ABt' ? B[j * K + k] : B[k * N + j];
                s += Math.abs(av * bv);
              }
              if (!(Math.abs(C[e] - ref[e]) <= (K + 3) * U * s)) {
                expect.fail(`${label}: C[${i},${j}] = ${C[e]}, js ${ref[e]}, bound ${(K + 3) * U * s}`);
              }
              if (!Object.is(C[e], want[e])) {
                expect.fail(`${label}: C[${i},${j}] = ${C[e]}, the contract (fused ${fused}) gives ${want[e]}`);
              }
              if (C[e] !== C2[e]) differs++;
              // K = 1 overwrite: fma(a, b, 0) = fl32(a·b) = the simd128 result.
              if (K === 1 && !acc && !Object.is(C[e], C2[e])) {
                expect.fail(`${label}: K = 1 gives ${C[e]}, simd128 ${C2[e]}`);
              }
            }
        }
        fma.reset();
        plain.reset();
      }
      // Where the multiply-add is fused, the kernel rounds differently from simd128 somewhere; else it gives its bits.
      if (fused) expect(differs, 'elements where relaxed-fma and simd128 differ').to.be.greaterThan(0);
      else expect(differs).to.equal(0);
    });
  }
}

describe('kernels/wasm relaxed-fma micro-kernel', function () {
  before(function () {
    if (!wasmSimdAvailable()) this.skip(); // no wasm at all: the js kernels run
  });

  if (wasmRelaxedSimdAvailable()) {
    describe('numerics (relaxed SIMD in this process)', () => fmaNumerics());
  } else {
    it(`numerics, in a child node ${FLAG} (this engine lacks relaxed SIMD without the flag)`, function () {
      this.timeout(300000);
      const r = nodeWithFlag(
        [
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
        { BPTT_EXPECT_WASM_KERNEL: 'relaxed-fma' },
      );
      expect(r.status, r.out).to.equal(0);
      expect(r.out).to.match(/\b(\d+) passing/);
      expect(Number(/(\d+) passing/.exec(r.out)![1]), r.out).to.be.greaterThanOrEqual(OPS.length + 2);
    });
    it("setWasmKernel('relaxed-fma') and new WasmArena({ kernel: 'relaxed-fma' }) say what is missing", () => {
      expect(() => setWasmKernel('relaxed-fma')).to.throw(RangeError, /relaxed SIMD.*experimental-wasm-relaxed-simd/);
      expect(() => new WasmArena({ kernel: 'relaxed-fma' })).to.throw(RangeError, /'relaxed-fma' needs .*relaxed SIMD/);
    });
  }

  it('the kernel in use is relaxed-fma where relaxed SIMD validates (and BPTT_EXPECT_WASM_KERNEL, if set, is it)', () => {
    const expected = process.env['BPTT_EXPECT_WASM_KERNEL'];
    const forced = process.env['BPTT_WASM_KERNEL'];
    if (expected !== undefined && expected !== '') {
      // npm test's relaxed path sets it: fail if the kernel was asked for but not chosen.
      expect(
        wasmRelaxedSimdAvailable(),
        `relaxed SIMD asked for (BPTT_WASM_KERNEL=${forced}, execArgv ${process.execArgv.join(' ')})`,
      ).to.equal(expected === 'relaxed-fma');
      expect(wasmKernel()).to.equal(expected);
      expect(new WasmArena({ initialBytes: 0 }).kernel).to.equal(expected);
    } else if (forced === 'simd128') expect(wasmKernel()).to.equal('simd128');
    else expect(wasmKernel()).to.equal(wasmRelaxedSimdAvailable() ? 'relaxed-fma' : 'simd128');
  });

  it(`under ${FLAG} lib picks relaxed-fma, and BPTT_WASM_KERNEL=simd128 forces the fallback`, function () {
    this.timeout(60000);
    const script =
      "const b = require('./dist/lib/backend.js'); const a = require('./dist/kernels/wasm/arena.js');" +
      'process.stdout.write(JSON.stringify([b.wasmKernel(), new a.WasmArena({ initialBytes: 0 }).kernel, ' +
      'a.wasmRelaxedSimdAvailable()]))';
    const env = { BPTT_WASM_KERNEL: '', BPTT_BACKEND: 'wasm' };
    const auto = nodeWithFlag(['-e', script], env);
    expect(auto.status, auto.out).to.equal(0);
    expect(JSON.parse(auto.out)).to.deep.equal(['relaxed-fma', 'relaxed-fma', true]);
    const forced = nodeWithFlag(['-e', script], { ...env, BPTT_WASM_KERNEL: 'simd128' });
    expect(forced.status, forced.out).to.equal(0);
    expect(JSON.parse(forced.out)).to.deep.equal(['simd128', 'simd128', true]);
    const bad = nodeWithFlag(['-e', script], { ...env, BPTT_WASM_KERNEL: 'avx512' });
    expect(bad.status).to.not.equal(0);
    expect(bad.out).to.match(/BPTT_WASM_KERNEL: expected 'relaxed-fma', 'simd128' or 'auto', got "avx512"/);
  });

  it('BPTT_WASM_KERNEL=relaxed-fma alone (no node flag) gets the FMA kernel through the Node entry, in workers too', function () {
    this.timeout(60000);
    // No flag: on Node 20 relaxed SIMD is then off unless lib/node/relaxed-simd.ts turns it on.
    const script =
      "require('./dist/lib/node/install.js'); const b = require('./dist/lib/backend.js');" +
      "const { lstmAutoencoder } = require('./dist/lib/index.js');" +
      'const m = lstmAutoencoder({ window: 6, features: 2, units: 5, seed: 3 });' +
      'const x = { data: Float32Array.from({ length: 20 * 12 }, (_, i) => Math.sin(i)), shape: [20, 6, 2] };' +
      'const one = m.predict(x, { workers: 1 }).data, two = m.predict(x, { workers: 2 }).data;' +
      'const same = one.every((v, i) => Object.is(v, two[i]));' +
      'm.dispose(); process.stdout.write(JSON.stringify([b.wasmKernel(), same]))';
    const asked = nodeWithFlag(['-e', script], { BPTT_WASM_KERNEL: 'relaxed-fma', BPTT_BACKEND: 'wasm' }, []);
    expect(asked.status, asked.out).to.equal(0);
    expect(JSON.parse(asked.out)).to.deep.equal(['relaxed-fma', true]);
    // Not asked: the process's engine is left as it is (Node 20: simd128 without the flag).
    const probe =
      "require('./dist/lib/node/install.js'); const a = require('./dist/kernels/wasm/arena.js');" +
      'process.stdout.write(JSON.stringify(a.wasmRelaxedSimdAvailable()))';
    // The engine's own answer, without bptt's entry (nothing loaded that could set the flag).
    const byDefault = nodeWithFlag(
      [
        '-e',
        "process.stdout.write(JSON.stringify(WebAssembly.validate(require('./dist/kernels/wasm/module.js').relaxedSimdProbeBytes())))",
      ],
      { BPTT_WASM_KERNEL: '' },
      [],
    );
    expect(byDefault.status, byDefault.out).to.equal(0);
    const notAsked = nodeWithFlag(['-e', probe], { BPTT_WASM_KERNEL: '' }, []);
    expect(notAsked.status, notAsked.out).to.equal(0);
    expect(notAsked.out, 'the entry turned relaxed SIMD on unasked').to.equal(byDefault.out);
  });
});

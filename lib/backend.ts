/**
 * The matrix-product backend of float32 models: 'js' (the TypeScript kernels of kernels/matmul.ts: the reference, and
 * the fallback where WebAssembly SIMD is missing) or 'wasm' (the WebAssembly SIMD kernels of kernels/wasm).
 *
 * The default is 'auto': 'wasm' when this engine validates a WebAssembly SIMD module, else 'js'. The environment variable
 * BPTT_BACKEND ('js', 'wasm' or 'auto'), read once when this module loads, overrides the default without code changes
 * (`BPTT_BACKEND=js npm test` runs the whole suite on the js path); setBackend overrides both.
 *
 * The choice is read when a layer builds a workspace (on its first forward for a given window length and batch size),
 * so set it before building and running a model; workspaces already built keep the backend they were built with.
 * Float64 models always use 'js' (the wasm kernels are float32).
 *
 * The two paths agree to float32 rounding, not bit for bit: the js kernels sum each product in float64, the wasm ones
 * in float32 lanes. Each path is deterministic on its own: the same seed, data and options give bit-identical results.
 *
 * Under 'wasm' each recurrent workspace, and each Dense, Conv1D, Conv1DTranspose and AttentionDecoder layer's buffers
 * for a batch size, live in their own WasmArena (reserved in one allocation, so the memory never grows afterwards).
 * What runs there: the matrix products, bias adds, and for the default activations (tanh / sigmoid) the cells' forward
 * gate math and backward gate derivatives. The
 * recurrent matrix U is copied into the arena once per forward or backward call; other parameters, gradients and
 * inputs stay ordinary typed arrays and are copied into staging buffers per product.
 *
 * The wasm path has two micro-kernels (kernels/wasm/module.ts): 'relaxed-fma' (f32x4.relaxed_madd, one rounding per
 * multiply-add on CPUs with FMA) where the engine validates relaxed SIMD (Node ≥ 22, current Chrome; Node 20 only under
 * `node --experimental-wasm-relaxed-simd`), else 'simd128' (mul then add). `wasmKernel()` says which one new
 * workspaces get. The environment variable BPTT_WASM_KERNEL ('simd128', 'relaxed-fma' or 'auto'), read once when this
 * module loads, forces one: `BPTT_WASM_KERNEL=simd128` runs the fallback where relaxed SIMD is available, and
 * `BPTT_WASM_KERNEL=relaxed-fma` with the Node entry turns on Node 20's V8 flag itself (lib/node/relaxed-simd.ts), so
 * no node command-line flag is needed. The two give different last bits; each is deterministic on its own.
 */
import {
  WasmArena,
  type WasmKernel,
  setWasmKernel,
  wasmKernel as arenaKernel,
  wasmSimdAvailable,
} from '../kernels/wasm/arena.js';
import { ArgumentError } from './errors.js';

/** The path a workspace runs on. */
export type Backend = 'js' | 'wasm';
/** What setBackend accepts: a path, or 'auto' (wasm when WebAssembly SIMD is available, else js). */
export type BackendChoice = Backend | 'auto';

const CHOICES: readonly string[] = ['js', 'wasm', 'auto'];

function resolve(choice: BackendChoice, where: string): Backend {
  if (typeof choice !== 'string' || !CHOICES.includes(choice)) {
    throw new ArgumentError(where, "'js', 'wasm' or 'auto'", String(JSON.stringify(choice)));
  }
  if (choice === 'auto') return wasmSimdAvailable() ? 'wasm' : 'js';
  if (choice === 'wasm' && !wasmSimdAvailable()) {
    throw ArgumentError.problem(where, `'wasm' needs WebAssembly SIMD, which this engine lacks; use 'js' or 'auto'`);
  }
  return choice;
}

function fromEnvironment(): Backend {
  const env = typeof process !== 'undefined' ? process.env?.['BPTT_BACKEND'] : undefined;
  return env === undefined || env === '' ? resolve('auto', 'auto') : resolve(env as BackendChoice, 'BPTT_BACKEND');
}

let current: Backend = fromEnvironment();

function kernelFromEnvironment(): void {
  const env = typeof process !== 'undefined' ? process.env?.['BPTT_WASM_KERNEL'] : undefined;
  if (env === undefined || env === '') return;
  if (!['relaxed-fma', 'simd128', 'auto'].includes(env)) {
    throw new ArgumentError('BPTT_WASM_KERNEL', "'relaxed-fma', 'simd128' or 'auto'", JSON.stringify(env));
  }
  try {
    setWasmKernel(env as WasmKernel | 'auto', 'BPTT_WASM_KERNEL');
  } catch (e) {
    throw ArgumentError.problem('BPTT_WASM_KERNEL', (e as Error).message.replace(/^BPTT_WASM_KERNEL: /, ''));
  }
}
kernelFromEnvironment();

/**
 * Selects the backend for workspaces built from now on. 'wasm' throws when this engine lacks WebAssembly SIMD.
 *
 * @param backend - 'js', 'wasm' or 'auto'.
 * @throws {@link ArgumentError} for another value, or 'wasm' where WebAssembly SIMD is missing.
 * @example
 * ```ts
 * import { Sequential, lstm, setBackend, getBackend } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const before = getBackend();
 * const x = [[[0.5], [-1], [2]]];
 * setBackend('js');
 * const onJs = new Sequential([lstm({ units: 4 })], { seed: 1 }).predict(x).data;
 * setBackend('auto'); // 'wasm' where WebAssembly SIMD validates
 * const onAuto = new Sequential([lstm({ units: 4 })], { seed: 1 }).predict(x).data;
 * onJs.forEach((v, i) => assert.ok(Math.abs(v - onAuto[i]) < 1e-6)); // the paths agree to float32 rounding
 * setBackend(before);
 * ```
 */
export function setBackend(backend: BackendChoice): void {
  current = resolve(backend, 'setBackend(backend)');
}

/**
 * The backend new workspaces get: 'js' or 'wasm' ('auto' is resolved when it is set).
 *
 * @returns 'js' or 'wasm'.
 */
export function getBackend(): Backend {
  return current;
}

/**
 * The micro-kernel of the wasm path's matrix products in workspaces built from now on: 'relaxed-fma' where the engine
 * validates WebAssembly relaxed SIMD (unless BPTT_WASM_KERNEL=simd128), else 'simd128'. It matters only when
 * getBackend() is 'wasm'. The two round differently in the last bits (FMA rounds once per multiply-add); the same
 * kernel on the same machine gives bit-identical results.
 *
 * @returns 'relaxed-fma' or 'simd128'.
 * @example
 * ```ts
 * import { wasmKernel } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.ok(['relaxed-fma', 'simd128'].includes(wasmKernel()));
 * ```
 */
export function wasmKernel(): WasmKernel {
  return arenaKernel();
}

export type { WasmKernel };

/** A fresh arena for one workspace when the backend is 'wasm' and the model is float32, else undefined. */
export function workspaceArena(ctor: Float32ArrayConstructor | Float64ArrayConstructor): WasmArena | undefined {
  return current === 'wasm' && ctor === Float32Array ? new WasmArena({ initialBytes: 0 }) : undefined;
}

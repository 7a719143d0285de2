/**
 * The matrix-product backend of float32 models: 'js' (the TypeScript kernels of kernels/matmul.ts, the default and the
 * reference) or 'wasm' (the WebAssembly SIMD kernels of kernels/wasm). The choice is read when a layer builds a
 * workspace (on its first forward for a given window length and batch size), so set it before building and running a
 * model; workspaces already built keep the backend they were built with. Float64 models always use 'js'.
 *
 * Under 'wasm' each recurrent workspace lives in its own WasmArena (its buffers plus three staging buffers, reserved in
 * one allocation, so the memory never grows afterwards); parameters, gradients and inputs stay ordinary typed arrays
 * and are copied into the staging buffers per product. Dense layers stay on the js kernels.
 */
import { WasmArena, wasmSimdAvailable } from '../kernels/wasm/arena';

export type Backend = 'js' | 'wasm';

let current: Backend = 'js';

/** Selects the backend for workspaces built from now on. 'wasm' throws when this engine lacks WebAssembly SIMD. */
export function setBackend(backend: Backend): void {
  if (backend !== 'js' && backend !== 'wasm') {
    throw new TypeError(`setBackend: expected 'js' or 'wasm', got ${JSON.stringify(backend)}`);
  }
  if (backend === 'wasm' && !wasmSimdAvailable()) {
    throw new Error("setBackend('wasm'): WebAssembly SIMD is not available in this engine; use 'js'");
  }
  current = backend;
}

export function getBackend(): Backend {
  return current;
}

/** A fresh arena for one workspace when the backend is 'wasm' and the model is float32, else undefined. */
export function workspaceArena(ctor: Float32ArrayConstructor | Float64ArrayConstructor): WasmArena | undefined {
  return current === 'wasm' && ctor === Float32Array ? new WasmArena({ initialBytes: 0 }) : undefined;
}

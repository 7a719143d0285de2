/**
 * The float32 execution paths of the recurrent kernels, for specs that run one check on each: 'js' (the TypeScript
 * products of kernels/matmul.ts) and 'wasm' (a WasmArena holding the workspace, products on WebAssembly SIMD). The
 * options go straight into lstmWorkspace / gruWorkspace / rnnWorkspace; each call makes a fresh arena.
 */
import { WasmArena } from '../../kernels/wasm/arena';

export interface Float32Path {
  readonly name: 'js' | 'wasm';
  options(): { arena?: WasmArena };
}

export const FLOAT32_PATHS: readonly Float32Path[] = [
  { name: 'js', options: () => ({}) },
  { name: 'wasm', options: () => ({ arena: new WasmArena({ initialBytes: 0 }) }) },
];

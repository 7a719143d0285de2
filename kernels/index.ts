/**
 * The reference kernels in one namespace (the package root re-exports it as `kernels`), or for copying this folder whole.
 * The cells here (rnnForward, lstmForward, gruForward, denseForward, …) are the plain REFERENCE loops. Their FAST twins,
 * with the same names and arguments plus the WebAssembly path (arena option, fused gates), are in fast/index.ts (import it
 * by path: `bptt/dist/kernels/fast`); this file does not import them, so kernels/ without fast/ and wasm/
 * still compiles and runs.
 */
export * from './matmul.js';
export * from './activations.js';
export * from './check.js';
export * from './rnn.js';
export * from './lstm.js';
export * from './gru.js';
export * from './attention.js';
export * from './dense.js';
export * from './losses.js';
export * from './optim.js';
export * from './dropout.js';
export * from './conv1d.js';

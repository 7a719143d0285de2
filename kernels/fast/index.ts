/**
 * The FAST twins of the reference cells (../rnn.ts, ../lstm.ts, ../gru.ts, ../dense.ts): the same names and arguments,
 * plus the products as `ops` (ops.ts: jsOps = matmul.ts, or the WebAssembly SIMD ones bound to an arena), fused gate
 * loops, the Uᵀ matrix–vector form for batches below MATVEC_ROWS and the wasm gate kernels. lib/ runs these; the
 * reference ones are what spec/kernels/fast.spec.ts holds them to. Not on the package root (which exports the reference as `kernels`): import it by path.
 */
export * from './ops.js';
export * from './rnn.js';
export * from './lstm.js';
export * from './gru.js';
export * from './dense.js';

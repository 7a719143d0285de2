/** All kernels in one namespace (the package root re-exports it as `kernels`), or for copying this folder whole. */
export * from './matmul';
export * from './activations';
export * from './rnn';
export * from './lstm';
export * from './gru';
export * from './dense';
export * from './losses';
export * from './optim';
export * from './dropout';

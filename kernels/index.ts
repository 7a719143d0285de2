/** All kernels, for `import { kernels } from 'bptt'` or for copying this folder whole. */
export * from './matmul';
export * from './activations';
export * from './rnn';
export * from './lstm';
export * from './gru';
export * from './dense';
export * from './losses';
export * from './optim';
export * from './dropout';

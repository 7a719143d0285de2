/**
 * The three matrix products a cell workspace calls, as one object chosen when the workspace is built: the TypeScript
 * kernels of matmul.ts (`jsOps`, the default and the reference) or the WebAssembly SIMD ones bound to an arena
 * (wasm/ops.ts). Argument order is that of matmul.ts.
 */
import { FloatArray, matmul, matmulABt, matmulAtB } from './matmul';

export type MatProduct = (C: FloatArray, cOff: number, ldc: number,
                          A: FloatArray, aOff: number, lda: number,
                          B: FloatArray, bOff: number, ldb: number,
                          M: number, K: number, N: number, accumulate: boolean) => void;

export interface MatOps {
  readonly name: 'js' | 'wasm';
  readonly matmul: MatProduct;
  readonly matmulABt: MatProduct;
  readonly matmulAtB: MatProduct;
}

export const jsOps: MatOps = { name: 'js', matmul, matmulABt, matmulAtB };

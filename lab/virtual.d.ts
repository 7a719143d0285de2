// Modules that lab/build.js makes at bundle time.

/** The worker bundle (lab/worker.ts and the library it imports) as JavaScript source, started from a Blob URL. */
declare module 'lab:worker-source' {
  const source: string;
  export default source;
}

/** The forward and backward equations of each reference cell, cut from the doc comments of kernels/{rnn,lstm,gru}.ts. */
declare module 'lab:equations' {
  export const EQUATIONS: Readonly<Record<'rnn' | 'lstm' | 'gru', { forward: string; backward: string }>>;
}

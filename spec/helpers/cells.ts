/**
 * The two implementations of each recurrent cell, for specs that run one check on both: 'reference' (kernels/rnn.ts,
 * lstm.ts, gru.ts: plain loops over matmul.ts, Float32/Float64, no arena) and 'fast' (kernels/fast/*: the twins lib runs,
 * with the wasm path). `paths` are the float32 paths that apply: the reference has only 'js' (it takes no arena).
 * The reference functions are typed as their fast twins (a cast: same arguments, and the reference workspace has every
 * field the specs read except `ops`, `Ut`, `Uw`, which specs read only when name is 'fast').
 */
import * as rnnRef from '../../kernels/rnn';
import * as lstmRef from '../../kernels/lstm';
import * as gruRef from '../../kernels/gru';
import * as rnnFast from '../../kernels/fast/rnn';
import * as lstmFast from '../../kernels/fast/lstm';
import * as gruFast from '../../kernels/fast/gru';
import { FLOAT32_PATHS, type Float32Path } from './paths';

export type ImplName = 'reference' | 'fast';

const JS_ONLY = FLOAT32_PATHS.filter((p) => p.name === 'js');

export interface RnnImpl {
  name: ImplName;
  paths: readonly Float32Path[];
  rnnWorkspace: typeof rnnFast.rnnWorkspace;
  rnnForward: typeof rnnFast.rnnForward;
  rnnBackward: typeof rnnFast.rnnBackward;
}
export interface LstmImpl {
  name: ImplName;
  paths: readonly Float32Path[];
  lstmWorkspace: typeof lstmFast.lstmWorkspace;
  lstmForward: typeof lstmFast.lstmForward;
  lstmBackward: typeof lstmFast.lstmBackward;
}
export interface GruImpl {
  name: ImplName;
  paths: readonly Float32Path[];
  gruWorkspace: typeof gruFast.gruWorkspace;
  gruForward: typeof gruFast.gruForward;
  gruBackward: typeof gruFast.gruBackward;
}

export const RNN_IMPLS: readonly RnnImpl[] = [
  {
    name: 'reference',
    paths: JS_ONLY,
    rnnWorkspace: rnnRef.rnnWorkspace as unknown as typeof rnnFast.rnnWorkspace,
    rnnForward: rnnRef.rnnForward,
    rnnBackward: rnnRef.rnnBackward,
  },
  {
    name: 'fast',
    paths: FLOAT32_PATHS,
    rnnWorkspace: rnnFast.rnnWorkspace,
    rnnForward: rnnFast.rnnForward,
    rnnBackward: rnnFast.rnnBackward,
  },
];

export const LSTM_IMPLS: readonly LstmImpl[] = [
  {
    name: 'reference',
    paths: JS_ONLY,
    lstmWorkspace: lstmRef.lstmWorkspace as unknown as typeof lstmFast.lstmWorkspace,
    lstmForward: lstmRef.lstmForward,
    lstmBackward: lstmRef.lstmBackward,
  },
  {
    name: 'fast',
    paths: FLOAT32_PATHS,
    lstmWorkspace: lstmFast.lstmWorkspace,
    lstmForward: lstmFast.lstmForward,
    lstmBackward: lstmFast.lstmBackward,
  },
];

export const GRU_IMPLS: readonly GruImpl[] = [
  {
    name: 'reference',
    paths: JS_ONLY,
    gruWorkspace: gruRef.gruWorkspace as unknown as typeof gruFast.gruWorkspace,
    gruForward: gruRef.gruForward,
    gruBackward: gruRef.gruBackward,
  },
  {
    name: 'fast',
    paths: FLOAT32_PATHS,
    gruWorkspace: gruFast.gruWorkspace,
    gruForward: gruFast.gruForward,
    gruBackward: gruFast.gruBackward,
  },
];

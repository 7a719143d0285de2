/**
 * The wire between the pool (pool.ts, main thread) and its workers (worker.ts): the layout of the shared control words
 * and the messages. Both sides import this file and nothing else of each other.
 *
 * Per worker k (1 … n−1) one Int32Array `ctl` on a SharedArrayBuffer:
 *   ctl[SEQ]     round number, written by the main thread; the worker sleeps in Atomics.wait(ctl, SEQ, seen)
 *   ctl[ACK]     the round the worker has finished, written by the worker; the main thread sleeps in Atomics.wait on it
 *   ctl[STATUS]  OK or FAILED for that round (FAILED: the worker posted { error } on its port before acking)
 *   ctl[READY]   0 while the worker builds its model, 1 when ready, −1 when it could not (error posted first)
 *   ctl[MODE]    how the ready worker holds its parameters: PARAMS_SHARED (its model's values are views on the shared
 *                parameters and its gradients on its slot: nothing is copied per round) or PARAMS_COPIED (its own
 *                arrays: it copies the weights in before a round and the gradients out after, the older protocol)
 * One Int32Array `job` shared by all workers holds the round's command and its integers (JOB_*); a worker reads it after
 * waking, and the main thread writes it before bumping any SEQ, so the Atomics store/notify pair orders the two.
 *
 * Messages (MessageChannel, read with receiveMessageOnPort: neither side needs its event loop): the main thread posts
 * buffer descriptions (`ToWorker`: the fit data, the predict buffers, or a test fault that makes the next round throw)
 * before the round that first uses them; a worker drains its port at the start of every round. A worker posts
 * `FromWorker` only for a failure, always before it acks the round.
 */
export const SEQ = 0;
export const ACK = 1;
export const STATUS = 2;
export const READY = 3;
export const MODE = 4;
export const CTL_WORDS = 5;

/** ctl[MODE] values. */
export const PARAMS_SHARED = 1;
export const PARAMS_COPIED = 2;

export const OK = 0;
export const FAILED = 1;

/** job[JOB_CMD] values. */
export const CMD_STEP = 1;
export const CMD_PREDICT = 2;
export const CMD_RELEASE = 3;
export const CMD_EXIT = 4;
/** The worker writes its V8 heap in use (bytes, per isolate) into its loss word (bench/workers.ts --memory). */
export const CMD_HEAP = 5;

/** job words: the command, then the step's (epoch, batch, offset into the order, rows B) or predict's (rows N, batch). */
export const JOB_CMD = 0;
export const JOB_SHARDS = 1;
export const JOB_EPOCH = 2;
export const JOB_BATCH = 3;
export const JOB_START = 4;
export const JOB_ROWS = 5;
export const JOB_BATCH_SIZE = 6;
export const JOB_WORDS = 8;

/** A typed-array view to rebuild on the other side (the buffer is shared, not copied). */
export interface SharedView {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  length: number;
}

/** What a worker starts with (workerData). */
export interface WorkerInit {
  /** This worker's shard index k ≥ 1. */
  k: number;
  ctl: SharedArrayBuffer;
  job: SharedArrayBuffer;
  /** The main model's parameters, concatenated in `layers.flatMap(l => l.params())` order, model dtype. */
  params: SharedArrayBuffer;
  /** This worker's gradient slot: the same layout as params. */
  grads: SharedArrayBuffer;
  /** P, the number of parameter scalars. */
  size: number;
  /** Build the model on views of params and grads (see ctl[MODE]); false: keep own arrays and copy. */
  shareParams: boolean;
  /** This worker's loss contribution (one float64). */
  loss: SharedArrayBuffer;
  /** The model as JSON (architecture and weights, no optimizer state). */
  model: unknown;
  backend: string;
}

export type ToWorker =
  | {
      type: 'fit';
      x: SharedView;
      xShape: number[];
      y: SharedView;
      yShape: number[];
      order: SharedView;
      loss: string;
      seed: string;
    }
  | { type: 'predict'; input: SharedView; output: SharedView }
  | { type: 'fault'; message: string };

export interface FromWorker {
  error: { name: string; message: string; stack: string };
}

/** A float view of model dtype on shared memory (a function because TypeScript cannot call a union of constructors). */
export function floatView(
  f64: boolean,
  buffer: SharedArrayBuffer,
  byteOffset: number,
  length: number,
): Float32Array | Float64Array {
  return f64 ? new Float64Array(buffer, byteOffset, length) : new Float32Array(buffer, byteOffset, length);
}

/** The dropout seed of shard k of batch `batch` in epoch `epoch` (n > 1): every shard draws its own masks. */
export function shardSeed(fitSeed: string, epoch: number, batch: number, k: number): string {
  return `${fitSeed}/dropout/${epoch}/${batch}/${k}`;
}

/** Rows [floor(k·B/n), floor((k+1)·B/n)) of a batch of B: shard k of n. Empty when B < n for some k. */
export function shardRange(k: number, B: number, n: number): [number, number] {
  return [Math.floor((k * B) / n), Math.floor(((k + 1) * B) / n)];
}

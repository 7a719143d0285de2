/**
 * The worker pool of one model: n − 1 worker_threads that each hold the model's architecture and its own workspaces
 * and compute one shard of a training step or one chunk of a prediction while the main thread computes shard 0.
 * `Sequential` drives it; see index.ts for the user-facing rule and worker.ts for the other end.
 *
 * Shared memory (SharedArrayBuffers, laid out once):
 *   params      the main model's parameters, concatenated (P scalars, model dtype). The main thread writes them before
 *               every round (after the previous step's optimizer update). A worker's model reads them in place: its
 *               parameters are views on this buffer (worker.ts builds it that way), so no worker holds a copy and
 *               nothing is copied to a worker per round. The fallback (ctl[MODE] = PARAMS_COPIED: a model whose
 *               parameter layout does not line up, or setParamSharing(false)) copies them in before each round.
 *   grads[k]    worker k's gradient slot (P scalars): the gradients of its model are views on it, so its backward
 *               accumulates straight into the slot (the fallback copies them there). loss[k]: its loss (one float64).
 *   fit data    x and y of the current fit call (copied in once per call, one buffer when y equals x, reused when the
 *               caller's data is already shared) and order, the epoch's shuffled sample indices (Int32, nTrain).
 *   predict     an input and an output buffer, grown when a call needs more; workers scatter their rows straight
 *               into the output.
 *   ctl[k], job the control words of protocol.ts.
 *
 * A round: the main thread writes params and job, stores SEQ+1 in every participating worker's ctl and notifies;
 * computes its own shard; then Atomics.wait()s on each participant's ACK in the order k = 1, 2, …. Blocking is what
 * keeps fit() and predict() synchronous. A worker that throws posts the error on its MessagePort before it acks; the
 * main thread reads it with receiveMessageOnPort (no event loop needed) and throws an Error carrying it. After a
 * failure the pool is disposed, so the next call starts clean.
 *
 * Reduction (Sequential.parallelStep): shard 0's gradient is already in the model's p.grad; the main thread adds the
 * slots of k = 1, 2, … n − 1 in that fixed order, and sums the loss contributions in the same order. Float addition
 * is not associative, so this fixed order is what makes a run bit-identical for a given worker count; a different
 * count sums in a different order and agrees only to rounding.
 *
 * Lifetime: created lazily by the first parallel call, kept with its model (a WeakMap here), grown when a call asks
 * for more workers (never shrunk: a call with fewer uses the first ones), rebuilt when the model's architecture or the
 * backend changes, and ended by `Sequential.dispose()` (or when the model is garbage-collected). Workers are unref()'d:
 * an idle pool never keeps the process alive.
 */
import type { FloatArray } from '../../kernels/matmul.js';
import type { Param } from '../model/layers/layer.js';
import type { Tensor } from '../tensor.js';
import * as P from './protocol.js';
import { ArgumentError } from '../errors.js';
import { currentHost, type HostPort, type HostThreads, type HostWorker } from '../host.js';

type WorkerThreads = HostThreads;
type NodeWorker = HostWorker;
type NodePort = HostPort;

/**
 * Node's worker_threads (from the installed host, lib/host.ts) when this engine can run a pool (worker_threads,
 * SharedArrayBuffer and Atomics), else null: a browser, or the core without the Node entry.
 */
export function workerThreads(): WorkerThreads | null {
  return currentHost()?.threads()?.api ?? null;
}

/** The worker script (dist/lib/parallel/worker.js), or null where it cannot run (no worker_threads, or not compiled). */
export function workerScript(): string | null {
  return currentHost()?.threads()?.script ?? null;
}

/**
 * The number of cores this process may use (os.availableParallelism, else the CPU count; 1 where unknown or in a
 * browser).
 *
 * @returns A positive integer.
 */
export function availableCores(): number {
  return currentHost()?.cores() ?? 1;
}

/**
 * Why `n` workers cannot run here: no worker_threads (a browser, or the core without the Node entry), or no
 * SharedArrayBuffer (a page that is not cross-origin isolated, or an engine started without it). The pool needs shared
 * memory for more than the parameters: its control words are waited on with Atomics.wait, which is what keeps fit and
 * predict synchronous, so there is no copying protocol without it; 'auto' and workers: 1 run on the calling thread.
 */
export function noThreadsProblem(n: number): string {
  if (typeof SharedArrayBuffer !== 'function') {
    return (
      `${n} workers need SharedArrayBuffer, which this engine does not expose (in a browser it needs cross-origin ` +
      `isolation: the page served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: ` +
      `require-corp); use workers: 1 or 'auto', which train on the calling thread`
    );
  }
  return (
    `${n} workers need Node's worker_threads (and SharedArrayBuffer), which this environment lacks; use workers: 1 ` +
    `or 'auto' (in a browser, train in a Web Worker instead: README, "Installing and bundling")`
  );
}

/**
 * The V8 young generation of a worker, in MB. A worker allocates almost nothing on its heap after start-up (its
 * buffers are typed arrays and wasm memory, outside the heap), so Node's default (16 MB semi-spaces) only holds pages
 * that were touched once while the library loaded: 4 MB saves ~6 MB of RSS per worker at L (bench/workers.ts).
 */
const WORKER_YOUNG_MB = 4;

/** How long a new worker may take to load and build its model before the pool gives up on it. */
const STARTUP_TIMEOUT_MS = 120_000;

/** What a pool is built from; `model()` is only called when a worker is started (it serialises the weights). */
export interface PoolSpec {
  /** Architecture, dtype and backend; a pool whose signature differs from the model's is rebuilt. */
  signature: string;
  dtype: 'float32' | 'float64';
  backend: string;
  /** Number of parameter scalars (P). */
  size: number;
  /** The model as JSON (architecture and weights, no optimizer state). */
  model: () => unknown;
}

interface Slot {
  k: number;
  worker: NodeWorker;
  port: NodePort;
  ctl: Int32Array;
  grads: FloatArray;
  loss: Float64Array;
  /** The last round started for this worker. */
  seq: number;
  /** The fit / predict buffers this worker was last told about (generation numbers). */
  fitGen: number;
  predictGen: number;
}

/** Whether new workers build their model on the shared parameters (true, the default) or copy (the test hook below). */
let shareParams = true;

/**
 * Test hook: whether workers started from now on share the parameters in place (true, the default) or copy them in
 * and the gradients out every round (false: the older protocol, kept as the fallback; results are bit-identical).
 */
export function setParamSharing(on: boolean): void {
  shareParams = on;
}

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

/** What Sequential receives for a round: the shards that run in workers (shard 0 runs on the main thread). */
export interface Round {
  readonly slots: readonly Slot[];
  readonly fn: string;
}

export class WorkerPool {
  readonly signature: string;
  /** Settles when every worker has exited (after dispose()). */
  exited: Promise<void> = Promise.resolve();
  private readonly backend: string;
  private readonly size: number;
  private readonly ctor: Ctor;
  private readonly slots: Slot[] = [];
  private readonly job: Int32Array;
  private readonly params: FloatArray;
  private disposed = false;
  private fit: Extract<P.ToWorker, { type: 'fit' }> | null = null;
  private fitGen = 0;
  private order: Int32Array | null = null;
  private input: FloatArray | null = null;
  private output: FloatArray | null = null;
  private predictGen = 0;
  private readonly faults = new Map<number, string>();

  /** The pool keeps no reference to the model (so that a forgotten model can be collected and its workers ended). */
  constructor(spec: PoolSpec) {
    this.signature = spec.signature;
    this.backend = spec.backend;
    this.size = spec.size;
    this.ctor = spec.dtype === 'float64' ? Float64Array : Float32Array;
    this.job = new Int32Array(new SharedArrayBuffer(P.JOB_WORDS * 4));
    this.params = sharedArray(this.ctor, spec.size);
  }

  /** The workers' thread ids, in shard order (k = 1, 2, …). */
  threadIds(): number[] {
    return this.slots.map((s) => s.worker.threadId);
  }

  /** How each ready worker holds its parameters, in shard order: 'shared' (in place) or 'copied' (see ctl[MODE]). */
  paramModes(): ('shared' | 'copied')[] {
    return this.slots.map((s) => (Atomics.load(s.ctl, P.MODE) === P.PARAMS_SHARED ? 'shared' : 'copied'));
  }

  /** Starts workers until the pool can run n shards (built from model()); waits until each new one is ready. */
  grow(n: number, model: () => unknown, fn: string): void {
    this.alive(fn);
    if (this.slots.length >= n - 1) return;
    const wt = workerThreads();
    if (wt === null) {
      throw new ArgumentError(fn, '1 here', String(n), {
        problem: noThreadsProblem(n),
      });
    }
    const file = workerScript();
    if (file === null)
      throw new Error(
        `${fn}: the worker script lib/parallel/worker.js is missing (workers run the compiled JavaScript, dist/)`,
      );
    const json = model();
    const fresh: Slot[] = [];
    try {
      for (let k = this.slots.length + 1; k < n; k++) fresh.push(this.spawn(wt, file, k, json));
    } catch (e) {
      this.dispose();
      throw e;
    }
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (const s of fresh) {
      let r: number;
      while ((r = Atomics.load(s.ctl, P.READY)) === 0) {
        const left = deadline - Date.now();
        if (left <= 0) {
          this.dispose();
          throw new Error(`${fn}: worker ${s.k} did not start within ${STARTUP_TIMEOUT_MS / 1000} s`);
        }
        Atomics.wait(s.ctl, P.READY, 0, left);
      }
      if (r !== 1) {
        const e = this.readError(s);
        this.dispose();
        throw workerError(`${fn}: worker ${s.k} could not start`, e);
      }
    }
  }

  /** Starts worker k (its control words, gradient slot and loss word, its end of a MessageChannel); unref'd. */
  private spawn(wt: WorkerThreads, file: string, k: number, model: unknown): Slot {
    const { port1, port2 } = new wt.MessageChannel();
    const ctl = new SharedArrayBuffer(P.CTL_WORDS * 4),
      grads = sharedArray(this.ctor, this.size);
    const loss = new Float64Array(new SharedArrayBuffer(8));
    const init: P.WorkerInit & { port: NodePort } = {
      k,
      ctl,
      job: this.job.buffer as SharedArrayBuffer,
      params: this.params.buffer as SharedArrayBuffer,
      grads: grads.buffer as SharedArrayBuffer,
      size: this.size,
      shareParams: shareParams,
      loss: loss.buffer,
      model,
      backend: this.backend,
      port: port2,
    };
    const worker = new wt.Worker(file, {
      workerData: init,
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    });
    worker.unref();
    port1.unref();
    const slot: Slot = {
      k,
      worker,
      port: port1,
      ctl: new Int32Array(ctl),
      grads,
      loss,
      seq: 0,
      fitGen: 0,
      predictGen: 0,
    };
    this.slots.push(slot);
    return slot;
  }

  /** Copies the model's parameters into the shared buffer (before a round: workers copy them from there). */
  writeParams(params: readonly Param[]): void {
    let off = 0;
    for (const p of params) {
      this.params.set(p.value, off);
      off += p.value.length;
    }
  }

  /**
   * Shares the training data of one fit call with the workers (x and y copied into shared memory once; y shares x's
   * buffer when the two are equal, as for an autoencoder) and allocates the shared order of nTrain indices.
   */
  beginFit(x: Tensor, y: Tensor, loss: string, seed: string, nTrain: number): void {
    const xs = toShared(x.data);
    const ys = sameValues(x.data, y.data) ? xs : toShared(y.data);
    this.order = new Int32Array(new SharedArrayBuffer(Math.max(1, nTrain) * 4)).subarray(0, nTrain);
    this.fit = {
      type: 'fit',
      x: viewOf(xs),
      xShape: x.shape.slice(),
      y: viewOf(ys),
      yShape: y.shape.slice(),
      order: viewOf(this.order),
      loss,
      seed,
    };
    this.fitGen++;
  }

  /** The epoch's sample order (copied into the shared order). */
  setOrder(order: Int32Array): void {
    (this.order as Int32Array).set(order);
  }

  /** Ends a fit call: the workers drop their views of the training data, so its memory can be freed. */
  endFit(fn: string): void {
    const had = this.slots.filter((s) => s.fitGen === this.fitGen && this.fit !== null);
    this.fit = null;
    this.order = null;
    if (this.disposed || had.length === 0) return;
    this.job[P.JOB_CMD] = P.CMD_RELEASE;
    const r = this.startSlots(had, fn);
    this.finish(r);
  }

  /** The shared predict buffers, grown to hold nIn inputs and nOut outputs. */
  predictBuffers(nIn: number, nOut: number): { input: FloatArray; output: FloatArray } {
    if (this.input === null || this.input.length < nIn || (this.output as FloatArray).length < nOut) {
      this.input = sharedArray(this.ctor, Math.max(nIn, this.input?.length ?? 0));
      this.output = sharedArray(this.ctor, Math.max(nOut, this.output?.length ?? 0));
      this.predictGen++;
    }
    return { input: this.input.subarray(0, nIn), output: (this.output as FloatArray).subarray(0, nOut) };
  }

  /** Starts a training-step round: shards 1 … n−1 of rows [start, start+B) of the order. */
  startStep(n: number, epoch: number, batch: number, start: number, B: number, fn: string): Round {
    const j = this.job;
    j[P.JOB_CMD] = P.CMD_STEP;
    j[P.JOB_SHARDS] = n;
    j[P.JOB_EPOCH] = epoch;
    j[P.JOB_BATCH] = batch;
    j[P.JOB_START] = start;
    j[P.JOB_ROWS] = B;
    return this.startSlots(this.participants(n, B), fn);
  }

  /** Starts a predict round: chunks 1 … n−1 of N rows, each run in batches of batchSize. */
  startPredict(n: number, N: number, batchSize: number, fn: string): Round {
    const j = this.job;
    j[P.JOB_CMD] = P.CMD_PREDICT;
    j[P.JOB_SHARDS] = n;
    j[P.JOB_ROWS] = N;
    j[P.JOB_BATCH_SIZE] = batchSize;
    return this.startSlots(this.participants(n, N), fn);
  }

  /** Waits for every worker of the round; throws (and disposes the pool) if one failed. */
  finish(r: Round): void {
    let failure: Error | null = null;
    for (const s of r.slots) {
      let a: number;
      while ((a = Atomics.load(s.ctl, P.ACK)) !== s.seq) Atomics.wait(s.ctl, P.ACK, a);
      if (failure === null && Atomics.load(s.ctl, P.STATUS) === P.FAILED) {
        failure = workerError(`${r.fn}: worker ${s.k} failed`, this.readError(s));
      }
    }
    if (failure !== null) {
      this.dispose();
      throw failure;
    }
  }

  /**
   * Adds the gradient slots of the round's workers, in the order k = 1, 2, …, into the parameters' grad (which hold
   * shard 0's), and returns loss0 + loss1 + … in the same order.
   */
  reduce(params: readonly Param[], r: Round, loss0: number): number {
    let total = loss0;
    for (const s of r.slots) {
      total += s.loss[0];
      const src = s.grads;
      let off = 0;
      for (const p of params) {
        const g = p.grad,
          len = g.length;
        for (let i = 0; i < len; i++) g[i] += src[off + i];
        off += len;
      }
    }
    return total;
  }

  /** Each worker's V8 heap in use, in bytes, in shard order (one round; for bench/workers.ts). */
  workerHeaps(): number[] {
    this.job[P.JOB_CMD] = P.CMD_HEAP;
    const r = this.startSlots(this.slots, 'workerHeaps');
    this.finish(r);
    return r.slots.map((s) => s.loss[0]);
  }

  /** Test hook: worker k throws `message` in its next round (to check that a failure surfaces, not hangs). */
  injectFault(k: number, message: string): void {
    this.faults.set(k, message);
  }

  /** Stops every worker. The pool cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.job[P.JOB_CMD] = P.CMD_EXIT;
    for (const s of this.slots) {
      Atomics.store(s.ctl, P.SEQ, ++s.seq);
      Atomics.notify(s.ctl, P.SEQ);
    }
    this.exited = Promise.all(this.slots.map((s) => s.worker.terminate())).then(() => undefined);
    this.fit = null;
    this.order = this.input = this.output = null;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private alive(fn: string): void {
    if (this.disposed) throw new Error(`${fn}: the worker pool was disposed`);
  }

  /** Workers 1 … n−1 whose shard of `rows` rows is not empty. */
  private participants(n: number, rows: number): Slot[] {
    const out: Slot[] = [];
    for (let k = 1; k < n; k++) {
      const [lo, hi] = P.shardRange(k, rows, n);
      if (hi > lo) out.push(this.slots[k - 1]);
    }
    return out;
  }

  /** Posts what each worker has not seen yet (buffers, a fault), then bumps and notifies its SEQ. */
  private startSlots(slots: Slot[], fn: string): Round {
    this.alive(fn);
    const cmd = this.job[P.JOB_CMD];
    for (const s of slots) {
      if (cmd === P.CMD_STEP && s.fitGen !== this.fitGen && this.fit !== null) {
        s.port.postMessage(this.fit);
        s.fitGen = this.fitGen;
      }
      if (cmd === P.CMD_RELEASE) s.fitGen = 0;
      if (cmd === P.CMD_PREDICT && s.predictGen !== this.predictGen) {
        s.port.postMessage({
          type: 'predict',
          input: viewOf(this.input as FloatArray),
          output: viewOf(this.output as FloatArray),
        });
        s.predictGen = this.predictGen;
      }
      const fault = this.faults.get(s.k);
      if (fault !== undefined) {
        s.port.postMessage({ type: 'fault', message: fault });
        this.faults.delete(s.k);
      }
    }
    for (const s of slots) {
      Atomics.store(s.ctl, P.SEQ, ++s.seq);
      Atomics.notify(s.ctl, P.SEQ);
    }
    return { slots, fn };
  }

  private readError(s: Slot): P.FromWorker['error'] {
    const wt = workerThreads() as WorkerThreads;
    const m = wt.receiveMessageOnPort(s.port);
    const e = (m?.message as P.FromWorker | undefined)?.error;
    return e ?? { name: 'Error', message: 'no message (the worker stopped without reporting)', stack: '' };
  }
}

function workerError(head: string, e: P.FromWorker['error']): Error {
  const cause = new Error(e.message);
  cause.name = e.name;
  if (e.stack !== '') cause.stack = e.stack;
  return new Error(`${head}: ${e.name}: ${e.message}`, { cause });
}

function sharedArray(ctor: Ctor, n: number): FloatArray {
  return P.floatView(ctor === Float64Array, new SharedArrayBuffer(Math.max(1, n) * ctor.BYTES_PER_ELEMENT), 0, n);
}

/** `a` itself when it already lives in shared memory, else a shared copy. */
function toShared(a: FloatArray): FloatArray {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = sharedArray(a instanceof Float64Array ? Float64Array : Float32Array, a.length);
  s.set(a);
  return s;
}

function viewOf(a: FloatArray | Int32Array): P.SharedView {
  return { buffer: a.buffer as SharedArrayBuffer, byteOffset: a.byteOffset, length: a.length };
}

function sameValues(a: FloatArray, b: FloatArray): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- one pool per model ----

const pools = new WeakMap<object, WorkerPool>();
const finalizer =
  typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<WorkerPool>((p) => p.dispose()) : null;

/** The pool of `owner`, able to run n shards: reused, grown, or (new model shape or backend) rebuilt. */
export function acquirePool(owner: object, n: number, spec: PoolSpec, fn: string): WorkerPool {
  let pool = pools.get(owner) ?? null;
  if (pool !== null && (pool.signature !== spec.signature || pool.isDisposed)) {
    disposePool(owner);
    pool = null;
  }
  if (pool === null) {
    pool = new WorkerPool(spec);
    pools.set(owner, pool);
    finalizer?.register(owner, pool, owner);
  }
  pool.grow(n, spec.model, fn);
  return pool;
}

/** The live pool of `owner`, or null. */
export function poolOf(owner: object): WorkerPool | null {
  const p = pools.get(owner);
  return p !== undefined && !p.isDisposed ? p : null;
}

/** Stops the workers of `owner` (no-op without a pool). */
export function disposePool(owner: object): void {
  const p = pools.get(owner);
  if (p === undefined) return;
  pools.delete(owner);
  finalizer?.unregister(owner);
  p.dispose();
}

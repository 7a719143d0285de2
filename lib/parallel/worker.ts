/**
 * The worker end of the pool (pool.ts): one thread, the model's architecture on the shared parameters, one shard.
 *
 * Start: build the model from the main model's JSON under the main thread's backend and dtype, its parameters placed
 * as views on the shared parameters and its gradients on this worker's slot (buildModel; the copying fallback where
 * that layout does not line up), then set ctl[MODE] and ctl[READY] = 1 (or post the error and set −1). Loop: sleep in
 * Atomics.wait on ctl[SEQ]; on a new round drain the port (buffer descriptions, a test fault), run the round's command
 * (the fallback first copies the shared parameters into the model), write the results into shared memory, then set
 * ctl[STATUS] and ctl[ACK] and notify. Everything here is synchronous: the thread never
 * returns to its event loop until CMD_EXIT, and a thrown error becomes a FAILED round, not a dead worker.
 *
 *   step     shard k of the batch: rows [⌊kB/n⌋, ⌊(k+1)B/n⌋) of order[start …], Sequential.shardStep (the same code the
 *            main thread runs for shard 0), dropout masks from makeRandom(`${seed}/dropout/${epoch}/${batch}/${k}`);
 *            the scaled gradient accumulates in this worker's slot (the fallback copies it there), the scaled loss goes
 *            to its loss word.
 *   predict  chunk k of N rows, in batches of batchSize from the chunk's first row, scattered into the shared output.
 *   release  drop the views of the fit data.
 *
 * This file is a thread entry point that nothing imports, so it imports Sequential directly without a loop. Its first
 * import, worker-guard.ts, reports a failure to load the library (a broken install) as a start-up error instead of
 * letting the thread die before it can say why.
 */
import { started } from './worker-guard.js';
import { workerData, receiveMessageOnPort, type MessagePort } from 'worker_threads';
import '../node/install.js';
import type { FloatArray } from '../../kernels/matmul.js';
import { type Backend, setBackend } from '../backend.js';
import { withParamPlacer, type Param } from '../model/layers/layer.js';
import { getLoss, type Loss } from '../model/losses.js';
import { Sequential } from '../model/sequential.js';
import { makeRandom } from '../random.js';
import type { Tensor } from '../tensor.js';
import * as P from './protocol.js';

interface FitData {
  x: Tensor;
  y: Tensor;
  order: Int32Array;
  loss: Loss;
  seed: string;
}

class Shard {
  private readonly k: number;
  private readonly port: MessagePort;
  private readonly ctl: Int32Array;
  private readonly job: Int32Array;
  private readonly model: Sequential;
  private readonly params: Param[];
  private readonly f64: boolean;
  /** True when the model's parameters are views on the shared parameters and its gradients on this worker's slot. */
  private readonly inPlace: boolean;
  private readonly shared: FloatArray;
  private readonly grads: FloatArray;
  private readonly loss: Float64Array;
  private fit: FitData | null = null;
  private input: FloatArray | null = null;
  private output: FloatArray | null = null;
  private fault: string | null = null;

  constructor(init: P.WorkerInit & { port: MessagePort }) {
    this.k = init.k;
    this.port = init.port;
    this.ctl = new Int32Array(init.ctl);
    this.job = new Int32Array(init.job);
    setBackend(init.backend as Backend);
    const built = buildModel(init);
    this.model = built.model;
    this.inPlace = built.inPlace;
    this.params = this.model.layers.flatMap((l) => l.params());
    this.f64 = this.model.dtype === 'float64';
    const size = this.params.reduce((a, p) => a + p.value.length, 0);
    this.shared = P.floatView(this.f64, init.params, 0, size);
    this.grads = P.floatView(this.f64, init.grads, 0, size);
    this.loss = new Float64Array(init.loss);
    Atomics.store(this.ctl, P.MODE, this.inPlace ? P.PARAMS_SHARED : P.PARAMS_COPIED);
  }

  /** Serves rounds until CMD_EXIT. */
  serve(): void {
    let seen = 0;
    for (;;) {
      Atomics.wait(this.ctl, P.SEQ, seen);
      const seq = Atomics.load(this.ctl, P.SEQ);
      if (seq === seen) continue;
      seen = seq;
      const cmd = this.job[P.JOB_CMD];
      if (cmd === P.CMD_EXIT) return;
      let status = P.OK;
      try {
        this.round(cmd);
      } catch (e) {
        report(this.port, e);
        status = P.FAILED;
      }
      Atomics.store(this.ctl, P.STATUS, status);
      Atomics.store(this.ctl, P.ACK, seen);
      Atomics.notify(this.ctl, P.ACK);
    }
  }

  private round(cmd: number): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      this.receive(m.message as P.ToWorker);
    }
    if (this.fault !== null) {
      const f = this.fault;
      this.fault = null;
      throw new Error(f);
    }
    switch (cmd) {
      case P.CMD_STEP:
        this.step();
        break;
      case P.CMD_PREDICT:
        this.predict();
        break;
      case P.CMD_RELEASE:
        this.fit = null;
        break;
      case P.CMD_HEAP:
        this.loss[0] = process.memoryUsage().heapUsed;
        break;
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  }

  private receive(m: P.ToWorker): void {
    switch (m.type) {
      case 'fit':
        this.fit = {
          x: { data: this.view(m.x), shape: m.xShape },
          y: { data: this.view(m.y), shape: m.yShape },
          order: new Int32Array(m.order.buffer, m.order.byteOffset, m.order.length),
          loss: getLoss(m.loss),
          seed: m.seed,
        };
        break;
      case 'predict':
        this.input = this.view(m.input);
        this.output = this.view(m.output);
        break;
      case 'fault':
        this.fault = m.message;
        break;
    }
  }

  private view(v: P.SharedView): FloatArray {
    return P.floatView(this.f64, v.buffer, v.byteOffset, v.length);
  }

  /** The main thread's current weights into this model (copying mode only: in place, the model reads them there). */
  private loadParams(): void {
    if (this.inPlace) return;
    let off = 0;
    for (const p of this.params) {
      p.value.set(this.shared.subarray(off, off + p.value.length));
      off += p.value.length;
    }
  }

  private step(): void {
    const f = this.fit;
    if (f === null) throw new Error('a training round came without training data');
    const j = this.job;
    const n = j[P.JOB_SHARDS],
      B = j[P.JOB_ROWS],
      start = j[P.JOB_START];
    const [lo, hi] = P.shardRange(this.k, B, n);
    this.loadParams();
    const random = makeRandom(P.shardSeed(f.seed, j[P.JOB_EPOCH], j[P.JOB_BATCH], this.k));
    this.loss[0] = this.model.shardStep(f.x, f.y, f.order, start, lo, hi, B, f.loss, { training: true, random });
    if (this.inPlace) return; // the gradients were accumulated in the slot itself
    let off = 0;
    for (const p of this.params) {
      this.grads.set(p.grad, off);
      off += p.grad.length;
    }
  }

  private predict(): void {
    if (this.input === null || this.output === null) throw new Error('a predict round came without its buffers');
    const j = this.job;
    const n = j[P.JOB_SHARDS],
      N = j[P.JOB_ROWS],
      batchSize = j[P.JOB_BATCH_SIZE];
    const [lo, hi] = P.shardRange(this.k, N, n);
    const perSample = this.model.getInputShape() as number[];
    const perIn = perSample.reduce((a, b) => a * b, 1);
    this.loadParams();
    this.model.predictRows(
      this.output,
      { data: this.input.subarray(0, N * perIn), shape: [N, ...perSample] },
      lo,
      hi,
      batchSize,
      'predict',
    );
  }
}

/**
 * The worker's model. With init.shareParams, built under a ParamPlacer that hands out consecutive views on the shared
 * parameters (values) and on this worker's gradient slot (gradients), then checked: every parameter of
 * `layers.flatMap(l => l.params())` must sit at its offset of the concatenated layout, each value and gradient at the
 * same offset, P scalars in all. Otherwise (a layer whose allocation order differs from its params() order, or sharing
 * turned off) the model is built again with its own arrays and the worker copies, as before: weights in before each
 * round, gradients out after. Building writes the JSON weights (the main thread's own) into the shared parameters
 * while the main thread waits for READY; it writes them again before every round.
 */
function buildModel(init: P.WorkerInit): { model: Sequential; inPlace: boolean } {
  if (init.shareParams) {
    let bytes = 0;
    const model = withParamPlacer(
      (n, ctor) => {
        const size = n * ctor.BYTES_PER_ELEMENT;
        if (bytes + size > init.params.byteLength) return null;
        const f64 = ctor === Float64Array;
        const placed = { value: P.floatView(f64, init.params, bytes, n), grad: P.floatView(f64, init.grads, bytes, n) };
        bytes += size;
        return placed;
      },
      () => Sequential.fromJSON(init.model),
    );
    if (
      linedUp(
        model.layers.flatMap((l) => l.params()),
        init,
      )
    )
      return { model, inPlace: true };
  }
  return { model: Sequential.fromJSON(init.model), inPlace: false };
}

/** Every parameter at its offset of the shared layout (values and gradients alike), P scalars in all. */
function linedUp(params: readonly Param[], init: P.WorkerInit): boolean {
  let off = 0;
  for (const p of params) {
    const v = p.value,
      g = p.grad;
    if (v.buffer !== init.params || g.buffer !== init.grads) return false;
    if (v.byteOffset !== off || g.byteOffset !== off || g.length !== v.length) return false;
    off += v.byteLength;
  }
  return off === init.size * (params[0]?.value.BYTES_PER_ELEMENT ?? 4);
}

function report(port: MessagePort, e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  const msg: P.FromWorker = { error: { name: err.name, message: err.message, stack: err.stack ?? '' } };
  port.postMessage(msg);
}

function main(): void {
  started();
  const init = workerData as P.WorkerInit & { port: MessagePort };
  const ctl = new Int32Array(init.ctl);
  let shard: Shard;
  try {
    shard = new Shard(init);
  } catch (e) {
    report(init.port, e);
    Atomics.store(ctl, P.READY, -1);
    Atomics.notify(ctl, P.READY);
    init.port.close();
    return;
  }
  Atomics.store(ctl, P.READY, 1);
  Atomics.notify(ctl, P.READY);
  shard.serve();
  init.port.close();
}

main();

/**
 * How many threads a call uses: the check of the `workers` option and the 'auto' rule.
 *
 * `workers` is a positive integer (at most MAX_WORKERS) or 'auto'. 'auto' is the default of fit and predict and is
 * deterministic: it never times anything; it reads only the core count, the model, the batch and the backend:
 *
 *   work per row   w = Σ_l P_l·T_l        P_l: parameters of layer l; T_l: the time steps it runs over (1 for a vector)
 *   fit            n = min(cores, ⌊B / MIN_ROWS⌋),  and 1 when one step's 6·B·w FLOPs < FIT_MIN_FLOPS[backend]
 *   predict        n = min(cores, ⌊N / MIN_ROWS⌋),  and 1 when the call's 2·N·w FLOPs < PREDICT_MIN_FLOPS[backend]
 *
 * (forward ≈ 2 FLOPs per parameter per step and row; a training step ≈ 3 forwards.) The backend is getBackend() for
 * float32 models and 'js' for float64 ones. A stateful model, or an engine without worker_threads, gets 1.
 *
 * The thresholds come from bench/workers.ts (2 cores, AMD EPYC Zen 5, Node 20, LSTM autoencoder, float32): median ms
 * of one training step and one predict of the B rows with 1 → 2 workers, rows with the second core free:
 *
 *   shape (B, T, D, H)          GFLOP/step  js step            wasm step          js predict  wasm predict
 *   P1     (32, 16, 1, 16)        0.010        3.6 → 2.2   1.66×   1.0 → 1.3   0.80×   1.57×       0.80×
 *   P2     (32, 32, 1, 16)        0.020        5.7 → 3.7   1.55×   1.6 → 1.2   1.30×   1.37×       0.84×
 *   S      (32, 32, 1, 32)        0.078       16.6 → 10.9  1.52×   4.2 → 4.9   0.85×   1.69×       1.02×
 *   P3     (64, 32, 1, 32)        0.156       34.7 → 18.4  1.88×   7.7 → 6.6   1.16×   1.89×       1.31×
 *   P4     (64, 64, 1, 32)        0.312       62.7 → 34.5  1.82×  14.7 → 11.7  1.26×   1.83×       1.55×
 *   P5     (64, 32, 4, 64)        0.626      115 → 61      1.90×  20.3 → 13.0  1.56×   1.91×       1.61×
 *   M      (64, 64, 8, 64)        1.28       218 → 119     1.83×  42.5 → 28.9  1.47×   1.89×       1.68×
 *   L      (64, 128, 16, 128)    10.2       1580 → 811     1.95×   270 → 153   1.77×   1.94×       1.60×
 *   STREAM (1, 64, 1, 64)         0.019        4.6 → 5.2   0.88×   1.8 → 2.3   0.78×   (one row: one shard does it all)
 *
 * The js kernels scale with the rows, so two threads pay from the smallest probe on (10 MFLOP per step; predict from
 * ~3 MFLOP). The wasm kernels are 4–6× faster and part of their cost per product (staging copies, calls) does not
 * shrink with the shard, so the fixed cost of a round (waking a thread, writing the P shared weights, the reduction;
 * measured when workers also copied P weights in and P gradients out) weighs more: they lose at S (78 MFLOP) and gain
 * from P3 (156 MFLOP) on; predict from ~30–50 MFLOP.
 */
import { getBackend, type Backend } from '../backend.js';
import type { DType, Layer } from '../model/layers/layer.js';
import { Recurrent } from '../model/layers/recurrent.js';
import { describeValue } from '../check.js';
import { availableCores, noThreadsProblem, workerScript, workerThreads } from './pool.js';
import { ArgumentError } from '../errors.js';

/** A thread count: a positive integer (at most 64), or 'auto' (chosen from the model's work per step and the cores). */
export type Workers = number | 'auto';

/** What the rule reads of a model (a Sequential has it): its layers, precision, and whether it is built. */
export interface ModelShape {
  /** The layers, built. */
  readonly layers: readonly Layer[];
  /** 'float32' or 'float64'. */
  readonly dtype: DType;
  /** Whether the model is built. */
  readonly built: boolean;
}

/** Upper bound of an explicit worker count (each worker holds its own workspaces and a V8 isolate). */
export const MAX_WORKERS = 64;
/** 'auto' gives each shard at least this many rows. */
export const MIN_ROWS = 8;
/** 'auto' trains on one thread below this many FLOPs per step (by backend; see the table above). */
export const FIT_MIN_FLOPS: Readonly<Record<Backend, number>> = { js: 10e6, wasm: 150e6 };
/** 'auto' predicts on one thread below this many FLOPs per call (by backend). */
export const PREDICT_MIN_FLOPS: Readonly<Record<Backend, number>> = { js: 3e6, wasm: 40e6 };

/**
 * Checks a `workers` option: a positive integer up to MAX_WORKERS, or 'auto'.
 * @example
 * ```text
 * checkWorkers(0, 'fit(workers)')   // RangeError: fit(workers): expected a positive integer (at most 64) or 'auto', got 0
 * ```
 */
export function checkWorkers(value: unknown, arg: string): Workers {
  if (value === 'auto') return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_WORKERS) return value;
  throw new ArgumentError(arg, `a positive integer (at most ${MAX_WORKERS}) or 'auto'`, describeValue(value));
}

/** Σ over layers of parameters × time steps: half the forward FLOPs of one row (see the header). */
export function workPerRow(model: ModelShape): number {
  let w = 0;
  for (const l of model.layers) {
    const p = l.params().reduce((a, q) => a + q.value.length, 0);
    const T = l.inputShape.length === 2 ? l.inputShape[0] : 1;
    w += p * T;
  }
  return w;
}

/** True when the model carries state from batch to batch (it must then see its batches in order, on one thread). */
export function isStateful(model: ModelShape): boolean {
  return model.layers.some((l) => l instanceof Recurrent && l.stateful);
}

/**
 * The number of threads (main included) a fit with batch size `rows`, or a predict of `rows` rows, uses for `requested`
 * (validated; see checkWorkers). The model must be built.
 *
 * @param model - A built model (a Sequential).
 * @param rows - The batch size of a fit, or the rows of a predict.
 * @param requested - A positive integer or 'auto'.
 * @param options - task ('fit' or 'predict', default 'fit'), arg (the option's name in messages).
 * @returns The thread count, main thread included.
 * @throws {@link ArgumentError} for an invalid count, or more than 1 for a stateful model.
 *
 * @example
 * ```text
 * resolveWorkers(lstmAutoencoder({ window: 64, features: 8, units: 64 }), 64)   // 2 on a 2-core machine (1.3 GFLOP)
 * ```
 * @example
 * ```text
 * resolveWorkers(lstmAutoencoder({ window: 32, units: 32 }), 32)                // 1 under wasm (78 MFLOP), 2 under js
 * ```
 * @example
 * ```ts
 * import { lstmAutoencoder, resolveWorkers } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = lstmAutoencoder({ window: 32, units: 32 });
 * assert.equal(resolveWorkers(model, 1), 1); // a batch of one row
 * assert.equal(resolveWorkers(model, 64, 3), 3); // an explicit count is kept
 * assert.throws(() => resolveWorkers(model, 64, 0), /fit\(workers\)/);
 * ```
 */
export function resolveWorkers(
  model: ModelShape,
  rows: number,
  requested: unknown = 'auto',
  options: { task?: 'fit' | 'predict'; arg?: string } = {},
): number {
  const task = options.task ?? 'fit';
  const arg = options.arg ?? `${task}(workers)`;
  const w = checkWorkers(requested, arg);
  if (w !== 'auto') {
    if (w > 1 && isStateful(model)) {
      throw ArgumentError.problem(
        arg,
        `a stateful model runs on one thread (its state carries from batch to batch in order); ` +
          `use workers: 1 or 'auto', got ${w}`,
      );
    }
    if (w > 1 && workerThreads() === null) {
      throw ArgumentError.problem(arg, noThreadsProblem(w));
    }
    return w;
  }
  if (isStateful(model) || workerScript() === null || !model.built) return 1;
  const backend: Backend = model.dtype === 'float64' ? 'js' : getBackend();
  const flops = (task === 'fit' ? 6 : 2) * rows * workPerRow(model);
  if (flops < (task === 'fit' ? FIT_MIN_FLOPS : PREDICT_MIN_FLOPS)[backend]) return 1;
  return Math.max(1, Math.min(availableCores(), Math.floor(rows / MIN_ROWS)));
}

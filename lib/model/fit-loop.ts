/**
 * One training loop, two drivers: how `fit` and `fitAsync` share every line of training.
 *
 * A training loop (Sequential's epochs and batches, a Detector's fit, 'gru-online''s probation) is written once, as a
 * generator that yields a FitEvent at each point where a callback may run (train begin, epoch begin, batch begin, batch
 * end, epoch end, train end) and a bare 'step' after a learning step that has no callback. The loop never calls a
 * callback itself; a driver does, and sends back whether an `onEpochEnd` asked to stop:
 *
 *   runSync(loop, ...)    drains the loop on the calling thread: fit(). Callbacks must return at once (no Promise).
 *   runAsync(loop, ...)   the same, but awaits callbacks that return a Promise and, as `yieldEvery` says, gives the
 *                         event loop a macrotask turn (timers, I/O, rendering) between steps: fitAsync().
 *
 * Both drivers run the same steps in the same order on the same data, so fit and fitAsync give the same bits. Both
 * check `signal` at every event (so at least between batches); an aborted signal ends training with the signal's
 * reason (an AbortError DOMException unless abort(reason) gave one). Ending early — abort, a callback that throws, a
 * step that diverges — throws the error into the loop (loop.throw), so its `finally` blocks (worker pool, busy flags)
 * run before the error reaches the caller; the loop leaves its model as its last completed step left it.
 *
 * yieldEvery (TensorFlow.js semantics): a number of milliseconds (yield at the first event at least that long after the
 * last yield), 'auto' (= 125 ms, tfjs's DEFAULT_YIELD_EVERY_MS), 'batch' (after every batch and every 'step'), 'epoch'
 * (after every epoch), 'never'. Except with 'never', fitAsync also yields once before the first step, so that the
 * call returns its Promise before any training runs. A yield is one macrotask: setImmediate where it exists (Node),
 * else a MessageChannel message (browsers, Web Workers), else setTimeout(0).
 */
import { ArgumentError } from '../errors.js';
import { describeValue } from '../check.js';

/** What onEpochEnd receives after each epoch. */
export interface EpochLogs {
  /** The epoch just finished, counted from 0 (from initialEpoch when resuming). */
  epoch: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Validation loss, with validationSplit or validationData. */
  valLoss?: number;
  /** Seconds this epoch took. */
  seconds: number;
}

/** What fit and fitAsync return: one entry per epoch trained. */
export interface History {
  /** The epochs trained, in order. */
  epoch: number[];
  /** Mean training loss per epoch. */
  loss: number[];
  /** Validation loss per epoch (empty without validation data). */
  valLoss: number[];
  /** Epoch whose weights the model holds at the end (differs from the last epoch after early stopping restores). */
  bestEpoch: number | null;
  /** True when early stopping ended training before `epochs`. */
  stoppedEarly: boolean;
}

/** What onTrainBegin receives. */
export interface TrainBeginLogs {
  /** Index of the first epoch (initialEpoch) and one past the last (epochs). */
  initialEpoch: number;
  /** One past the last epoch. */
  epochs: number;
  /** Batches per epoch and training samples. */
  batches: number;
  /** Training samples. */
  samples: number;
}

/** What onEpochBegin receives. */
export interface EpochBeginLogs {
  /** The epoch starting. */
  epoch: number;
  /** One past the last epoch. */
  epochs: number;
}

/** What onBatchBegin receives: the batch's index in its epoch, the epoch's batch count and the batch's sample count. */
export interface BatchBeginLogs {
  /** The epoch. */
  epoch: number;
  /** The batch's index in its epoch. */
  batch: number;
  /** Batches in the epoch. */
  batches: number;
  /** Samples in the batch. */
  size: number;
}

/** What onBatchEnd receives: BatchBeginLogs and the batch's mean loss. */
export interface BatchEndLogs extends BatchBeginLogs {
  /** The batch's mean loss. */
  loss: number;
}

/** When fitAsync gives the event loop a turn; see the file comment. */
export type YieldEvery = 'auto' | 'batch' | 'epoch' | 'never' | number;

/** fit's callbacks (called synchronously; onEpochEnd returning false stops training). */
export interface FitCallbacks {
  /** Called once before the first epoch. */
  onTrainBegin?: (logs: TrainBeginLogs) => void;
  /** Called once after the last epoch, with the history. */
  onTrainEnd?: (history: History) => void;
  /** Called before each epoch. */
  onEpochBegin?: (logs: EpochBeginLogs) => void;
  /** Called after each epoch; return false to stop training. */
  onEpochEnd?: (logs: EpochLogs) => void | boolean;
  /** Called before each training step. */
  onBatchBegin?: (logs: BatchBeginLogs) => void;
  /** Called after each training step, with its loss. */
  onBatchEnd?: (logs: BatchEndLogs) => void;
}

/** fitAsync's callbacks: the same, and each may return a Promise, which training awaits before it goes on. */
export interface FitAsyncCallbacks {
  /** Called once before the first epoch. */
  onTrainBegin?: (logs: TrainBeginLogs) => void | Promise<void>;
  /** Called once after the last epoch, with the history. */
  onTrainEnd?: (history: History) => void | Promise<void>;
  /** Called before each epoch. */
  onEpochBegin?: (logs: EpochBeginLogs) => void | Promise<void>;
  /** Called after each epoch; return (or resolve to) false to stop training. */
  onEpochEnd?: (logs: EpochLogs) => void | boolean | Promise<void | boolean>;
  /** Called before each training step. */
  onBatchBegin?: (logs: BatchBeginLogs) => void | Promise<void>;
  /** Called after each training step, with its loss. */
  onBatchEnd?: (logs: BatchEndLogs) => void | Promise<void>;
}

/** Where a training loop stops for its driver. 'step': a learning step without a callback (a yield point only). */
export type FitEvent =
  | { kind: 'trainBegin'; logs: TrainBeginLogs }
  | { kind: 'epochBegin'; logs: EpochBeginLogs }
  | { kind: 'batchBegin'; logs: BatchBeginLogs }
  | { kind: 'batchEnd'; logs: BatchEndLogs }
  | { kind: 'epochEnd'; logs: EpochLogs }
  | { kind: 'trainEnd'; logs: History }
  | { kind: 'step' };

/** A training loop returning T. The driver's reply to an 'epochEnd' is true when a callback asked to stop. */
export type FitLoop<T> = Generator<FitEvent, T, boolean | undefined>;

/** The one 'step' event (yielded often; never allocated again). */
export const STEP: FitEvent = Object.freeze({ kind: 'step' });

export const CALLBACK_NAMES = [
  'onTrainBegin',
  'onTrainEnd',
  'onEpochBegin',
  'onEpochEnd',
  'onBatchBegin',
  'onBatchEnd',
] as const;

type CallbackName = (typeof CALLBACK_NAMES)[number];
type AnyCallback = (logs: never) => unknown;
/** A set of callbacks as the drivers see them (FitCallbacks or FitAsyncCallbacks). */
export type CallbackSet = Partial<Record<CallbackName, AnyCallback | undefined>>;

const CALLBACK_OF: Record<Exclude<FitEvent['kind'], 'step'>, CallbackName> = {
  trainBegin: 'onTrainBegin',
  trainEnd: 'onTrainEnd',
  epochBegin: 'onEpochBegin',
  epochEnd: 'onEpochEnd',
  batchBegin: 'onBatchBegin',
  batchEnd: 'onBatchEnd',
};

/** Throws unless every callback given in `options` is a function (`fn(onEpochEnd): expected a function`). */
export function checkCallbacks(options: object, fn: string): void {
  const o = options as Record<string, unknown>;
  for (const name of CALLBACK_NAMES) {
    if (o[name] !== undefined && typeof o[name] !== 'function')
      throw new ArgumentError(`${fn}(${name})`, 'a function', describeValue(o[name]));
  }
}

/** The names of the callbacks given in `options`. */
export function callbacksGiven(options: object): CallbackName[] {
  const o = options as Record<string, unknown>;
  return CALLBACK_NAMES.filter((name) => o[name] !== undefined);
}

/**
 * What training reads of an AbortSignal: `aborted`, and `reason` once aborted. Typed by shape rather than as the DOM's
 * AbortSignal so that the package's types compile in a project with neither the DOM library nor @types/node; an
 * AbortController's signal (Node, browsers, Web Workers) is one.
 */
export interface AbortSignalLike {
  /** True once aborted. */
  readonly aborted: boolean;
  /** Why (what the aborted training rejects with). */
  readonly reason?: unknown;
}

/** `signal` checked: undefined or an AbortSignal (anything with a boolean `aborted`, as AbortController.signal). */
export function checkSignal(signal: unknown, where: string): AbortSignalLike | undefined {
  if (signal === undefined) return undefined;
  if (typeof signal !== 'object' || signal === null || typeof (signal as { aborted?: unknown }).aborted !== 'boolean')
    throw new ArgumentError(where, 'an AbortSignal (AbortController.signal)', describeValue(signal));
  return signal as AbortSignalLike;
}

/** `yieldEvery` checked: 'auto' (the default), 'batch', 'epoch', 'never' or a non-negative number of milliseconds. */
export function checkYieldEvery(v: unknown, where: string): YieldEvery {
  if (v === undefined) return 'auto';
  if (v === 'auto' || v === 'batch' || v === 'epoch' || v === 'never') return v;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  throw new ArgumentError(where, "'auto', 'batch', 'epoch', 'never' or a number of milliseconds ≥ 0", describeValue(v));
}

/** A sync fit refuses yieldEvery rather than ignore it. */
export function refuseYieldEvery(options: object, fn: string): void {
  const v = (options as { yieldEvery?: unknown }).yieldEvery;
  if (v !== undefined) {
    throw new ArgumentError(`${fn}(yieldEvery)`, 'no value', describeValue(v), {
      problem: `${fn} runs to the end without yielding; yieldEvery is an option of ${fn}Async`,
    });
  }
}

/** The error an aborted signal ends training with: its reason, or an AbortError as fetch throws. */
export function abortReason(signal: AbortSignalLike | undefined): unknown {
  const reason: unknown = signal?.reason;
  return reason !== undefined ? reason : new DOMException('This operation was aborted', 'AbortError');
}

/** A function, not a property read, so that TypeScript does not narrow `aborted` across an await. */
function isAborted(signal: AbortSignalLike | undefined): boolean {
  return signal !== undefined && signal.aborted;
}

/** Ends the loop with `e`: its finally blocks run; then e (or an error its cleanup raised) is thrown. */
function fail<T>(loop: FitLoop<T>, e: unknown): never {
  try {
    loop.throw(e);
  } finally {
    loop.return(undefined as T);
  }
  throw e;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** Drains a loop that has no callback to call and nothing to wait for (what a sync wrapper over a loop does). */
export function drain<T>(loop: Generator<unknown, T, undefined>): T {
  for (;;) {
    const r = loop.next();
    if (r.done === true) return r.value;
  }
}

/**
 * fit's driver: runs the loop to its end on this thread, calling `callbacks` (each set in order) at each event.
 * A callback that returns a Promise is an error (`fn` does not wait; fitAsync does).
 */
export function runSync<T>(
  loop: FitLoop<T>,
  callbacks: readonly CallbackSet[],
  signal: AbortSignalLike | undefined,
  fn: string,
): T {
  if (isAborted(signal)) fail(loop, abortReason(signal));
  let reply: boolean | undefined;
  for (;;) {
    const r = loop.next(reply);
    if (r.done === true) return r.value;
    try {
      reply = undefined;
      const ev = r.value;
      if (ev.kind !== 'step') {
        const name = CALLBACK_OF[ev.kind];
        for (const set of callbacks) {
          const cb = set[name];
          if (cb === undefined) continue;
          const out = (cb as (logs: unknown) => unknown)(ev.logs);
          if (isThenable(out)) {
            out.then(undefined, () => undefined); // fit has already failed; its rejection is not unhandled
            throw new ArgumentError(`${fn}(${name})`, 'a callback that returns no Promise', 'a Promise', {
              problem: `${name} returned a Promise, which ${fn} cannot wait for; use ${fn}Async for async callbacks`,
            });
          }
          if (name === 'onEpochEnd' && out === false) reply = true;
        }
      }
      if (isAborted(signal)) throw abortReason(signal);
    } catch (e) {
      fail(loop, e);
    }
  }
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** One macrotask turn of the event loop (timers and I/O run): setImmediate, else a MessageChannel, else setTimeout. */
export function macrotask(): Promise<void> {
  const g = globalThis as unknown as {
    setImmediate?: (cb: () => void) => unknown;
    MessageChannel?: new () => {
      port1: { onmessage: (() => void) | null; close(): void };
      port2: { postMessage(m: unknown): void; close(): void };
    };
  };
  return new Promise((resolve) => {
    if (typeof g.setImmediate === 'function') {
      g.setImmediate(resolve);
    } else if (typeof g.MessageChannel === 'function') {
      const ch = new g.MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        ch.port2.close();
        resolve();
      };
      ch.port2.postMessage(null);
    } else {
      setTimeout(resolve, 0);
    }
  });
}

/**
 * fitAsync's driver: runs the loop as runSync does, awaiting callbacks that return a Promise and yielding to the event
 * loop as `yieldEvery` says (see the file comment). Settles with the loop's result or its first error.
 */
export async function runAsync<T>(
  loop: FitLoop<T>,
  callbacks: readonly CallbackSet[],
  signal: AbortSignalLike | undefined,
  yieldEvery: YieldEvery,
): Promise<T> {
  if (isAborted(signal)) fail(loop, abortReason(signal));
  const every = yieldEvery === 'auto' ? 125 : yieldEvery;
  if (every !== 'never') await macrotask();
  if (isAborted(signal)) fail(loop, abortReason(signal));
  let last = now();
  let reply: boolean | undefined;
  for (;;) {
    const r = loop.next(reply);
    if (r.done === true) return r.value;
    try {
      reply = undefined;
      const ev = r.value;
      if (ev.kind !== 'step') {
        const name = CALLBACK_OF[ev.kind];
        for (const set of callbacks) {
          const cb = set[name];
          if (cb === undefined) continue;
          let out = (cb as (logs: unknown) => unknown)(ev.logs);
          if (isThenable(out)) out = await out;
          if (name === 'onEpochEnd' && out === false) reply = true;
        }
      }
      const point = ev.kind === 'batchEnd' || ev.kind === 'step' || ev.kind === 'epochEnd';
      const due =
        every === 'batch'
          ? ev.kind === 'batchEnd' || ev.kind === 'step'
          : every === 'epoch'
            ? ev.kind === 'epochEnd'
            : typeof every === 'number' && point && now() - last >= every;
      if (due) {
        await macrotask();
        last = now();
      }
      if (isAborted(signal)) throw abortReason(signal);
    } catch (e) {
      fail(loop, e);
    }
  }
}

/**
 * Imported first by worker.ts, before the library: if loading the library fails (a broken install), the uncaught
 * error is posted to the main thread and ctl[READY] set to −1, so the pool reports it as "could not start" instead of
 * waiting for a worker that died before it could say why. worker.ts calls `started()` once the model is built.
 */
import { workerData, type MessagePort } from 'worker_threads';
import * as P from './protocol.js';

function onLoadError(e: unknown): void {
  const init = workerData as P.WorkerInit & { port: MessagePort };
  const err = e instanceof Error ? e : new Error(String(e));
  const msg: P.FromWorker = { error: { name: err.name, message: err.message, stack: err.stack ?? '' } };
  init.port.postMessage(msg);
  const ctl = new Int32Array(init.ctl);
  Atomics.store(ctl, P.READY, -1);
  Atomics.notify(ctl, P.READY);
  init.port.close();
}

process.on('uncaughtException', onLoadError);

/** The library has loaded: from here on worker.ts reports its own errors. */
export function started(): void {
  process.off('uncaughtException', onLoadError);
}

/**
 * Multi-core training and scoring with worker_threads: the public face of lib/parallel.
 *
 *   model.fit(x, y, { workers: 2 })          each minibatch split into 2 shards, one per thread
 *   model.predict(x, { workers: 'auto' })     rows split into contiguous chunks (the default)
 *   resolveWorkers(model, 64)                 what 'auto' picks for a fit with batch size 64 on this machine
 *   model.dispose()                           stops the model's workers
 *
 * Files: auto.ts (the option check and the deterministic 'auto' rule, with the measurements it is set from),
 * protocol.ts (shared control words and messages), pool.ts (the main-thread side: shared buffers, rounds, the
 * fixed-order reduction, lifetime), worker.ts (the worker thread). Sequential.shardStep and Sequential.predictRows are
 * the code both sides run, so a shard computed in a worker is the shard the main thread would have computed.
 */
export { resolveWorkers, checkWorkers, workPerRow, MAX_WORKERS, MIN_ROWS } from './auto.js';
export type { Workers } from './auto.js';
export { availableCores } from './pool.js';

/**
 * `bptt/fleet`: many series scored by a fleet of workers on Redis Streams (Node only; needs the optional peer
 * dependency ioredis). See the README section "Many series: the Redis fleet".
 *
 *   keys.ts      key names, partitionOf, createFleet (the stored configuration)
 *   producer.ts  FleetProducer: points in
 *   worker.ts    FleetWorker: leases, batches, the atomic commit (scripts.ts), checkpoints (state.ts), the LRU
 *   store.ts     templates and fitted detectors: putTemplate, putDetector, getDetector, getTemplate
 *   status.ts    readOutputs, readDeadLetters, fleetStatus
 *
 * Nothing in the core imports this module; it imports the core (lib/detect) and Node built-ins, and installs the Node
 * host as the Node entry does (the same dist/lib modules as `require('bptt')`: one copy of Detector per process).
 */
import '../node/install.js';
export { FleetError, type FleetErrorCode } from './errors.js';
export type { RedisLike } from './client.js';
export {
  createFleet,
  partitionOf,
  FleetKeys,
  GROUP,
  DEFAULT_PREFIX,
  DEFAULT_PARTITIONS,
  type FleetConfig,
} from './keys.js';
export { FleetProducer, type FleetProducerOptions, type FleetPoint } from './producer.js';
export { FleetWorker, type FleetWorkerOptions, type FleetWorkerStats } from './worker.js';
export { putTemplate, putDetector, getDetector, getTemplate, type DetectorSource } from './store.js';
export {
  readOutputs,
  readDeadLetters,
  fleetStatus,
  type FleetOutput,
  type FleetDeadLetter,
  type FleetStatus,
  type PartitionStatus,
} from './status.js';
export { CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, parseCheckpoint, type SeriesCheckpoint } from './state.js';

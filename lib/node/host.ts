/**
 * The Node host (lib/host.ts): files through `fs` (writes atomic, lib/node/atomic.ts), worker threads through
 * `worker_threads` with the compiled worker script lib/parallel/worker.js, cores and memory through `os`.
 * Installed by the Node entry (lib/node/index.ts); Node-only, never reached from the browser entry.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as workerThreads from 'worker_threads';
import type { Host, HostThreads } from '../host.js';
import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';

let threads: { api: HostThreads; script: string | null } | null | undefined;

/** worker_threads and the worker script when this engine can run a pool (SharedArrayBuffer and Atomics too). */
function nodeThreads(): { api: HostThreads; script: string | null } | null {
  if (threads === undefined) {
    if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') threads = null;
    else {
      // This file compiles to dist/lib/node/host.js; the worker to dist/lib/parallel/worker.js. Running from the .ts
      // sources (ts-node) there is no worker.js: the pool then says so, and 'auto' picks 1.
      const file = path.join(__dirname, '..', 'parallel', 'worker.js');
      threads = { api: workerThreads as unknown as HostThreads, script: fs.existsSync(file) ? file : null };
    }
  }
  return threads;
}

export const nodeHost: Host = {
  readText: (file) => fs.readFileSync(file, 'utf8'),
  readTextAsync: (file) => fs.promises.readFile(file, 'utf8'),
  readBytes: (file) => fs.readFileSync(file),
  readBytesAsync: (file) => fs.promises.readFile(file),
  writeAtomic: writeFileAtomicSync,
  writeAtomicAsync: writeFileAtomic,
  mkdir: (dir) => {
    fs.mkdirSync(dir, { recursive: true });
  },
  mkdirAsync: async (dir) => {
    await fs.promises.mkdir(dir, { recursive: true });
  },
  path,
  threads: nodeThreads,
  cores: () => {
    const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    return Number.isInteger(n) && n >= 1 ? n : 1;
  },
  totalMemory: () => os.totalmem(),
};

/**
 * Installs the Node host (lib/node/host.ts) into the core (lib/host.ts). Imported first by the Node entry
 * (lib/node/index.ts), the command line and the worker thread, so that file paths and worker threads work there.
 * The package's `sideEffects` lists this file: a bundler must keep it.
 */
import './relaxed-simd.js'; // first: BPTT_WASM_KERNEL=relaxed-fma may need a V8 flag before any module compiles
import { currentHost, installHost } from '../host.js';
import { nodeHost } from './host.js';

if (currentHost() === null) installHost(nodeHost);

export { nodeHost };

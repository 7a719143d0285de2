/**
 * Installs the Node host (lib/node/host.ts) into the core (lib/host.ts). Imported first by the Node entry
 * (lib/node/index.ts), the command line and the worker thread, so that file paths and worker threads work there.
 * The package's `sideEffects` lists this file: a bundler must keep it.
 */
import { currentHost, installHost } from '../host.js';
import { nodeHost } from './host.js';

if (currentHost() === null) installHost(nodeHost);

export { nodeHost };

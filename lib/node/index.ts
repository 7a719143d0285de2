/**
 * The Node entry of bptt: what `require('bptt')`, Node's `import 'bptt'` and `bptt/node` resolve to. It installs the
 * Node host (files through fs, atomic writes, worker threads, the machine's cores and memory: lib/node/host.ts) and
 * exports the whole package surface (lib/index.ts), so file-path APIs (`save`, `load`, `loadTfjsModel`, …) and
 * `workers` work. The browser entry is lib/index.ts itself, which imports no Node built-in.
 */
import './install.js';

export * from '../index.js';
